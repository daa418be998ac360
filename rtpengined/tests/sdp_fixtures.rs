//! Differential fixtures: for every exchange recorded from Debian's rtpengine
//! 10.5 (tests/differential/record_sdp_fixtures.py), build a RewritePlan from
//! the ng flags the way the daemon does, feed it the ports and ICE credentials
//! rtpengine chose (recorded.txt), and require our rewrite to equal rtpengine's
//! output byte for byte.
//!
//! The recording daemon ran with `--interface=127.0.0.1 --interface=::1
//! --interface=internal/127.0.0.2 --interface=external/127.0.0.3`.

use std::collections::BTreeMap;
use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rtpengined::sdp::{
    host_priority, rewrite, AddressFamily, IceAdvert, IceCandidate, MediaPlan, RewritePlan,
    SdpOptions, Session,
};

struct Fixture {
    name: String,
    input: String,
    output: String,
    flags: BTreeMap<String, String>,
    recorded: Vec<(String, String)>,
}

impl Fixture {
    fn load(dir: &Path) -> Fixture {
        let read = |file: &str| {
            fs::read_to_string(dir.join(file))
                .unwrap_or_else(|e| panic!("{}/{file}: {e}", dir.display()))
        };
        let pairs = |text: String| -> Vec<(String, String)> {
            text.lines()
                .filter_map(|l| l.split_once('='))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        Fixture {
            name: dir.file_name().unwrap().to_string_lossy().into_owned(),
            input: read("input.sdp"),
            output: read("output.sdp"),
            flags: pairs(read("flags.txt")).into_iter().collect(),
            recorded: pairs(read("recorded.txt")),
        }
    }

    fn flag(&self, key: &str) -> Option<&str> {
        self.flags.get(key).map(String::as_str)
    }

    fn flag_list(&self, key: &str) -> Vec<&str> {
        self.flag(key)
            .map(|v| v.split(',').collect())
            .unwrap_or_default()
    }

    fn is_offer(&self) -> bool {
        self.flag("command") == Some("offer")
    }

    fn recorded(&self, media: usize, key: &str) -> Vec<&str> {
        let wanted = format!("media.{media}.{key}");
        self.recorded
            .iter()
            .filter(|(k, _)| *k == wanted)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// The last recorded value: rtpengine prints its own a=rtcp after any
    /// a=rtcp it kept as an unknown line.
    fn recorded_one(&self, media: usize, key: &str) -> Option<&str> {
        self.recorded(media, key).last().copied()
    }

    /// Case name and a sort key placing each offer before its answer.
    fn order_key(&self) -> (String, u32, bool) {
        let (case, suffix) = self.name.rsplit_once('.').unwrap();
        let digits: String = suffix.chars().filter(char::is_ascii_digit).collect();
        (
            case.to_string(),
            digits.parse().unwrap_or(0),
            suffix.contains("answer"),
        )
    }
}

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sdp")
}

/// The recording daemon's interfaces: (logical name, family) -> address.
fn interface_address(name: &str, family: AddressFamily) -> IpAddr {
    let text = match (name, family) {
        ("default", AddressFamily::Ip4) => "127.0.0.1",
        ("default", AddressFamily::Ip6) => "::1",
        ("internal", AddressFamily::Ip4) => "127.0.0.2",
        ("external", AddressFamily::Ip4) => "127.0.0.3",
        other => panic!("no interface {other:?} in the recording setup"),
    };
    text.parse().unwrap()
}

fn parse_family(flag: &str) -> AddressFamily {
    match flag {
        "IP4" => AddressFamily::Ip4,
        "IP6" => AddressFamily::Ip6,
        other => panic!("bad address-family {other}"),
    }
}

/// Our ICE for media `index`: credentials as recorded, candidate foundations,
/// addresses and ports as recorded, priorities computed by us from the
/// address's position in the candidate list (the media's family comes first).
fn ice_advert(fx: &Fixture, index: usize) -> Result<IceAdvert, String> {
    let ufrag = fx
        .recorded_one(index, "ice-ufrag")
        .ok_or("rtpengine printed no ICE")?;
    let pwd = fx
        .recorded_one(index, "ice-pwd")
        .ok_or("rtpengine printed no ice-pwd")?;
    let mut candidates: Vec<IceCandidate> = Vec::new();
    let mut addresses: Vec<IpAddr> = Vec::new();
    for line in fx.recorded(index, "candidate") {
        let f: Vec<&str> = line.split(' ').collect();
        let component: u8 = f[1].parse().unwrap();
        let address: IpAddr = f[4].parse().unwrap();
        if !addresses.contains(&address) {
            addresses.push(address);
        }
        let position = addresses.iter().position(|a| *a == address).unwrap() as u16;
        candidates.push(IceCandidate {
            foundation: f[0].to_string(),
            component,
            priority: host_priority(position, component),
            address,
            port: f[5].parse().unwrap(),
            relay: false,
        });
    }
    Ok(IceAdvert {
        ufrag: ufrag.to_string(),
        pwd: pwd.to_string(),
        candidates,
    })
}

/// Builds the plan the daemon would build for `fx` (`offer` = the offer this
/// answer replies to, for answers).
fn plan_for(
    fx: &Fixture,
    session: &Session,
    offer: Option<(&Fixture, &Session)>,
    remembered_ptime: &[Option<u32>],
) -> Result<RewritePlan, String> {
    let replace = fx.flag_list("replace");
    let no_rtcp_attr = fx.flag_list("flags").contains(&"no-rtcp-attribute");
    // The side whose address family the SDP we produce is for.
    let peer = offer.map_or(session, |(_, s)| s);
    let interface = match offer {
        None => fx.flag_list("direction").get(1).copied(),
        Some((ofx, _)) => ofx.flag_list("direction").first().copied(),
    }
    .unwrap_or("default");
    let address_for = |media: usize| -> IpAddr {
        if let Some(addr) = fx.flag("media-address") {
            return addr.parse().unwrap();
        }
        let family = match fx.flag("address-family") {
            Some(flag) => parse_family(flag),
            None => peer
                .connection_for(media)
                .or(peer.connection.as_ref())
                .map(|c| c.family)
                .unwrap(),
        };
        interface_address(interface, family)
    };
    // A peer on hold (c= 0.0.0.0 / ::) keeps its unspecified address unless we do ICE with it.
    let hold_or = |ours: IpAddr, media: usize, ice: bool| -> IpAddr {
        match session.connection_for(media) {
            Some(conn) if conn.is_unspecified() && !ice => conn.address.parse().unwrap(),
            _ => ours,
        }
    };
    let mut media_plans = Vec::new();
    for (index, media) in session.media.iter().enumerate() {
        let port: u16 = fx
            .recorded_one(index, "port")
            .ok_or_else(|| format!("no recorded port for media {index}"))?
            .parse()
            .unwrap();
        let recorded_rtcp = fx
            .recorded_one(index, "rtcp-port")
            .map(|p| p.parse::<u16>().unwrap());
        let rtcp_port = if no_rtcp_attr || !media.is_rtp() || port == 0 {
            None
        } else {
            Some(
                recorded_rtcp
                    .ok_or_else(|| format!("rtpengine printed no a=rtcp for media {index}"))?,
            )
        };
        let mux_flags = fx.flag_list("rtcp-mux");
        let ice_mode = fx.flag("ICE");
        let plan = match offer {
            None => MediaPlan {
                port,
                address: hold_or(
                    address_for(index),
                    index,
                    ice_forced_or_kept(fx, session, None),
                ),
                rtcp_port,
                rtcp_mux: (media.rtcp_mux && !mux_flags.contains(&"demux"))
                    || mux_flags.contains(&"offer"),
                protocol: fx.flag("transport-protocol").map(str::to_string),
                formats: Some(offered_formats(fx, session, index))
                    .filter(|f| media.is_rtp() && *f != media.formats),
                codecs: None,
                mid: media.mid.clone().or_else(|| {
                    fx.flag_list("flags")
                        .contains(&"generate-mid")
                        .then(|| (index + 1).to_string())
                }),
                direction: None,
                ptime: media
                    .ptime
                    .or(remembered_ptime.get(index).copied().flatten()),
                ice: match ice_mode {
                    Some("remove") => None,
                    Some("force") => Some(ice_advert(fx, index)?),
                    _ if session.has_ice() => Some(ice_advert(fx, index)?),
                    _ => None,
                },
                // The receiver sent no SDP yet in any of these calls, and
                // has no ICE agent from an earlier one.
                trickle_ice: false,
                ice_agent: false,
                crypto: None,
                dtls: None,
                passthrough: false,
            },
            Some((ofx, osession)) => {
                let offered = &osession.media[index];
                let offer_mux = ofx.flag_list("rtcp-mux");
                let mux = offered.rtcp_mux
                    && (media.rtcp_mux
                        || offer_mux.contains(&"accept")
                        || offer_mux.contains(&"demux")
                        || mux_flags.contains(&"accept"));
                MediaPlan {
                    port,
                    address: hold_or(
                        address_for(index),
                        index,
                        ice_forced_or_kept(fx, session, Some(osession)),
                    ),
                    rtcp_port,
                    rtcp_mux: mux,
                    protocol: Some(offered.protocol.clone()),
                    // What the answerer was offered (after strip/mask), in its order.
                    formats: media.is_rtp().then(|| {
                        let sent = offered_formats(ofx, osession, index);
                        media
                            .formats
                            .iter()
                            .filter(|f| sent.contains(f))
                            .cloned()
                            .collect()
                    }),
                    codecs: None,
                    mid: media.mid.clone().or_else(|| offered.mid.clone()),
                    direction: None,
                    ptime: media
                        .ptime
                        .or(remembered_ptime.get(index).copied().flatten()),
                    ice: match ice_mode {
                        Some("remove") => None,
                        Some("force") => Some(ice_advert(fx, index)?),
                        _ if osession.has_ice() => Some(ice_advert(fx, index)?),
                        _ => None,
                    },
                    trickle_ice: osession.trickle_ice(index),
                    // No recorded answer drops ICE towards a running agent.
                    ice_agent: false,
                    crypto: None,
                    dtls: None,
                    passthrough: false,
                }
            }
        };
        media_plans.push(plan);
    }
    Ok(RewritePlan {
        address: address_for(0),
        replace_origin: replace.contains(&"origin"),
        replace_session_connection: replace.contains(&"session-connection"),
        loop_protect: if fx.flag_list("flags").contains(&"loop-protect") {
            let token = fx
                .recorded
                .iter()
                .find(|(k, _)| k == "session.loop-protect");
            Some(token.ok_or("rtpengine printed no a=rtpengine")?.1.clone())
        } else {
            None
        },
        media: media_plans,
        options: SdpOptions {
            original_sendrecv: fx.flag_list("flags").contains(&"original-sendrecv"),
            full_rtcp_attribute: fx.flag_list("flags").contains(&"full-rtcp-attribute"),
            strip_extmap: fx.flag_list("flags").contains(&"strip-extmap"),
            ice_lite: fx.flag("ICE-lite").is_some(),
            keep_party_ice: false,
            force_relay: false,
        },
    })
}

/// The payload types an offer forwards after ng `codec` strip/mask/except
/// (dictionary keys recorded as `codec-strip=...`, or `codec-strip-X` flags).
fn offered_formats(fx: &Fixture, session: &Session, index: usize) -> Vec<String> {
    let listed = |what: &str| -> Vec<String> {
        let mut names: Vec<String> = fx
            .flag_list(&format!("codec-{what}"))
            .iter()
            .map(|n| n.to_lowercase())
            .collect();
        let prefix = format!("codec-{what}-");
        names.extend(
            fx.flag_list("flags")
                .iter()
                .filter_map(|f| f.strip_prefix(&prefix))
                .map(str::to_lowercase),
        );
        names
    };
    let (strip, mask, except) = (listed("strip"), listed("mask"), listed("except"));
    let removed = |name: &str| {
        let name = name.to_lowercase();
        let hit = |list: &[String]| list.contains(&name) || list.iter().any(|n| n == "all");
        (hit(&strip) || hit(&mask)) && !except.contains(&name)
    };
    let media = &session.media[index];
    media
        .formats
        .iter()
        .filter(|pt| !media.encoding(pt).is_some_and(removed))
        .cloned()
        .collect()
}

/// Whether the plan advertises ICE (same rule as the `ice` fields in `plan_for`).
fn ice_forced_or_kept(fx: &Fixture, session: &Session, offer: Option<&Session>) -> bool {
    match fx.flag("ICE") {
        Some("remove") => false,
        Some("force") => true,
        _ => offer.unwrap_or(session).has_ice(),
    }
}

/// First differing line, for a readable failure.
fn first_difference(expected: &str, got: &str) -> String {
    let (e, g): (Vec<&str>, Vec<&str>) = (
        expected.split_inclusive('\n').collect(),
        got.split_inclusive('\n').collect(),
    );
    for i in 0..e.len().max(g.len()) {
        if e.get(i) != g.get(i) {
            return format!(
                "line {}: expected {:?}, got {:?}",
                i + 1,
                e.get(i),
                g.get(i)
            );
        }
    }
    "identical lines".to_string()
}

#[test]
fn rewrite_matches_rtpengine_10_5_byte_for_byte() {
    let mut fixtures: Vec<Fixture> = fs::read_dir(fixtures_dir())
        .expect("fixtures directory")
        .map(|entry| Fixture::load(&entry.unwrap().path()))
        .collect();
    fixtures.sort_by_key(Fixture::order_key);
    assert!(
        fixtures.len() >= 90,
        "only {} fixtures found",
        fixtures.len()
    );

    let mut failures = Vec::new();
    let mut last_offer: Option<(String, usize)> = None;
    let mut remembered_ptime: (String, Vec<Option<u32>>) = (String::new(), Vec::new());
    let sessions: Vec<Session> = fixtures
        .iter()
        .map(|fx| Session::parse(&fx.input).unwrap_or_else(|e| panic!("{}: parse: {e}", fx.name)))
        .collect();
    for (i, fx) in fixtures.iter().enumerate() {
        let case = fx.order_key().0;
        let offer = if fx.is_offer() {
            last_offer = Some((case.clone(), i));
            None
        } else {
            match &last_offer {
                Some((offer_case, j)) if *offer_case == case => {
                    Some((&fixtures[*j], &sessions[*j]))
                }
                _ => panic!("{}: answer without a recorded offer", fx.name),
            }
        };
        // rtpengine keeps one ptime per media line of the call: the last one
        // any SDP of the call carried, printed when an SDP comes without one.
        if remembered_ptime.0 != case {
            remembered_ptime = (case.clone(), Vec::new());
        }
        let result = plan_for(fx, &sessions[i], offer, &remembered_ptime.1)
            .and_then(|plan| rewrite(&fx.input, &sessions[i], &plan).map_err(|e| e.to_string()));
        let ptimes = &mut remembered_ptime.1;
        for (index, media) in sessions[i].media.iter().enumerate() {
            if ptimes.len() <= index {
                ptimes.resize(index + 1, None);
            }
            ptimes[index] = media.ptime.or(ptimes[index]);
        }
        match result {
            Ok(out) if out == fx.output => {}
            Ok(out) => failures.push(format!(
                "{}: {}",
                fx.name,
                first_difference(&fx.output, &out)
            )),
            Err(e) => failures.push(format!("{}: {e}", fx.name)),
        }
    }
    eprintln!("{} fixtures, {} mismatches", fixtures.len(), failures.len());
    assert!(
        failures.is_empty(),
        "{} of {} fixtures differ:\n{}",
        failures.len(),
        fixtures.len(),
        failures.join("\n")
    );
}
