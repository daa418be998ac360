//! ICE signalling through the registry: the party's credentials (media or
//! session level), and ICE-lite: the ng `ICE-lite` key's direction, its
//! memory across re-offers, `a=ice-lite` in the SDP we write, and the role we
//! take facing a lite peer.

use super::effect::Effect;
use super::tests::{clock, configs, flags, reg};
use crate::ng::flags::{IceLite, IceMode};

fn offer_sdp(version: u32, lite_peer: bool) -> String {
    let lite = if lite_peer { "a=ice-lite\r\n" } else { "" };
    format!(
        "v=0\r\no=- 1 {version} IN IP4 192.0.2.10\r\ns=-\r\nt=0 0\r\n{lite}\
         m=audio 46243 RTP/AVP 0\r\nc=IN IP4 192.0.2.10\r\n\
         a=candidate:1 1 udp 2122260223 192.0.2.10 46243 typ host\r\n\
         a=ice-ufrag:Oyef\r\na=ice-pwd:7ZwpNkjTPFuZpGl4Ub2pLmI3\r\na=sendrecv\r\n"
    )
}

const ANSWER: &str = "v=0\r\no=- 1 1 IN IP4 192.0.2.20\r\ns=-\r\nc=IN IP4 192.0.2.20\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\na=sendrecv\r\n";

/// (lite, controlling) of the RTP stream of `tag`, if it does ICE.
fn ice_of(effects: &[Effect], tag: &str) -> Option<(bool, bool)> {
    let c = configs(effects)
        .into_iter()
        .find(|c| c.tag == tag && !c.is_rtcp)?;
    c.ice.as_ref().map(|i| (i.lite, i.controlling))
}

#[test]
fn forward_and_backward_choose_the_side_and_are_kept_until_changed() {
    let mut r = reg();
    let now = clock();
    let mut offer = flags("c", "a", None, offer_sdp(1, false));
    offer.ice = IceMode::Force;
    offer.ice_lite = Some(IceLite::Forward);
    let out = r.offer(&offer, &now).unwrap();
    assert!(
        out.sdp.unwrap().contains("\r\na=ice-lite\r\n"),
        "to b: lite"
    );
    let mut answer = flags("c", "a", Some("b"), ANSWER.into());
    answer.ice = IceMode::Force;
    let out = r.answer(&answer, &now).unwrap();
    assert!(!out.sdp.unwrap().contains("a=ice-lite"), "to a: full");
    // Towards b (we offered it): lite, so controlled; towards a: full,
    // controlled as the answerer.
    assert_eq!(ice_of(&out.effects, "b"), Some((true, false)));
    assert_eq!(ice_of(&out.effects, "a"), Some((false, false)));

    // A re-offer without the key keeps it; `backward` moves it to a.
    let mut reoffer = flags("c", "a", None, offer_sdp(2, false));
    reoffer.ice = IceMode::Force;
    let out = r.offer(&reoffer, &now).unwrap();
    assert!(out.sdp.unwrap().contains("a=ice-lite"), "kept");
    reoffer.ice_lite = Some(IceLite::Backward);
    let out = r.offer(&reoffer, &now).unwrap();
    assert!(
        !out.sdp.unwrap().contains("a=ice-lite"),
        "not to b any more"
    );
    let out = r.answer(&answer, &now).unwrap();
    assert!(out.sdp.unwrap().contains("a=ice-lite"), "to a now");
    assert_eq!(ice_of(&out.effects, "a").map(|i| i.0), Some(true));
    assert_eq!(ice_of(&out.effects, "b").map(|i| i.0), Some(false));

    // `off` ends it both ways.
    reoffer.ice_lite = Some(IceLite::Off);
    r.offer(&reoffer, &now).unwrap();
    let out = r.answer(&answer, &now).unwrap();
    assert!(!out.sdp.unwrap().contains("a=ice-lite"));
    assert_eq!(ice_of(&out.effects, "a").map(|i| i.0), Some(false));
}

#[test]
fn facing_a_lite_peer_we_control() {
    let mut r = reg();
    let now = clock();
    let mut offer = flags("c", "a", None, offer_sdp(1, true));
    offer.ice = IceMode::Force;
    r.offer(&offer, &now).unwrap();
    let mut answer = flags("c", "a", Some("b"), ANSWER.into());
    answer.ice = IceMode::Force;
    let out = r.answer(&answer, &now).unwrap();
    // We answer a: normally controlled, but a is lite.
    assert_eq!(ice_of(&out.effects, "a"), Some((false, true)));
    assert_eq!(ice_of(&out.effects, "b"), Some((false, true)));
}

#[test]
fn session_level_credentials_stand_for_media_without_their_own() {
    // Firefox writes a=ice-ufrag and a=ice-pwd at session level.
    let firefox = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nt=0 0\r\n\
                   a=ice-ufrag:ffrag\r\na=ice-pwd:ffpassword0123456789abcd\r\n\
                   m=audio 46243 RTP/AVP 0\r\nc=IN IP4 192.0.2.10\r\n\
                   a=candidate:1 1 UDP 2122252543 192.0.2.10 46243 typ host\r\na=sendrecv\r\n";
    let mut r = reg();
    let now = clock();
    let mut offer = flags("c", "a", None, firefox.into());
    offer.ice = IceMode::Force;
    r.offer(&offer, &now).unwrap();
    let mut answer = flags("c", "a", Some("b"), ANSWER.into());
    answer.ice = IceMode::Force;
    let out = r.answer(&answer, &now).unwrap();
    let a = configs(&out.effects)
        .into_iter()
        .find(|c| c.tag == "a" && !c.is_rtcp)
        .and_then(|c| c.ice.clone())
        .expect("ICE with a");
    assert_eq!(a.remote_ufrag.as_deref(), Some("ffrag"));
    assert_eq!(a.remote_pwd.as_deref(), Some("ffpassword0123456789abcd"));
}

#[test]
fn a_callee_that_answered_without_ice_is_not_offered_it_again() {
    let mut r = reg();
    let now = clock();
    let out = r
        .offer(&flags("c", "a", None, offer_sdp(1, false)), &now)
        .unwrap();
    assert!(
        out.sdp.unwrap().contains("a=ice-ufrag:"),
        "first offer: as the caller"
    );
    r.answer(&flags("c", "a", Some("b"), ANSWER.into()), &now)
        .unwrap();
    // The caller re-offers with ICE: b said it has none (10.5's __ice_offer).
    let reoffer = flags("c", "a", Some("b"), offer_sdp(2, false));
    let sdp = r.offer(&reoffer, &now).unwrap().sdp.unwrap();
    assert!(!sdp.contains("a=ice-ufrag:"), "{sdp}");
    assert!(!sdp.contains("a=candidate:"), "{sdp}");
    // The ICE key still decides when given.
    let mut forced = reoffer;
    forced.ice = IceMode::Force;
    let sdp = r.offer(&forced, &now).unwrap().sdp.unwrap();
    assert!(sdp.contains("a=ice-ufrag:"), "{sdp}");
}

#[test]
fn a_callee_that_answered_with_ice_keeps_it_in_re_offers() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("c", "a", None, offer_sdp(1, false)), &now)
        .unwrap();
    let ice_answer = offer_sdp(1, false).replace("192.0.2.10", "192.0.2.20");
    r.answer(&flags("c", "a", Some("b"), ice_answer), &now)
        .unwrap();
    // Even a re-offer whose own SDP has no ICE any more.
    let plain = ANSWER.replace("192.0.2.20", "192.0.2.10");
    let sdp = r
        .offer(&flags("c", "a", Some("b"), plain), &now)
        .unwrap()
        .sdp
        .unwrap();
    assert!(sdp.contains("a=ice-ufrag:"), "{sdp}");
}

/// 10.5 starts an ICE agent towards the offerer at the offer already (its
/// `__ice_start` on both sides), so an answer without ICE under
/// `ICE=optional` / `force-relay` keeps our ICE towards the offerer: we did
/// not just pass its ICE through (gen/290 and gen/451 of the generator).
#[test]
fn optional_answer_without_ice_keeps_ice_towards_an_ice_offerer() {
    for mode in [IceMode::Optional, IceMode::ForceRelay] {
        let mut r = reg();
        let now = clock();
        r.offer(&flags("c", "a", None, offer_sdp(1, false)), &now)
            .unwrap();
        let mut answer = flags("c", "a", Some("b"), ANSWER.into());
        answer.ice = mode;
        let out = r.answer(&answer, &now).unwrap();
        let sdp = out.sdp.unwrap();
        assert!(sdp.contains("a=ice-ufrag:"), "{mode:?}: {sdp}");
        assert!(sdp.contains(" typ "), "{mode:?}: {sdp}");
        assert!(ice_of(&out.effects, "a").is_some(), "{mode:?}: our agent");
    }
}

/// 10.5 prints the trickle lines towards a trickle-ICE party whenever it runs
/// an agent for the media, even when the SDP carries no ICE of ours: an
/// answer under `ICE=remove` to a browser keeps `a=ice-options:trickle` and
/// `a=end-of-candidates` (gen/218 and gen/353 of the generator).
#[test]
fn remove_in_the_answer_to_a_trickle_offerer_keeps_the_trickle_lines() {
    let mut r = reg();
    let now = clock();
    let trickle = offer_sdp(1, false).replace("a=sendrecv", "a=ice-options:trickle\r\na=sendrecv");
    r.offer(&flags("c", "a", None, trickle), &now).unwrap();
    let mut answer = flags("c", "a", Some("b"), ANSWER.into());
    answer.ice = IceMode::Remove;
    let sdp = r.answer(&answer, &now).unwrap().sdp.unwrap();
    assert!(!sdp.contains("a=ice-ufrag:"), "{sdp}");
    assert!(!sdp.contains("a=candidate:"), "{sdp}");
    assert!(
        sdp.contains("a=rtcp:40001\r\na=ice-options:trickle\r\n"),
        "{sdp}"
    );
    assert!(
        sdp.ends_with("a=ice-options:trickle\r\na=end-of-candidates\r\n"),
        "{sdp}"
    );
}

/// The flag `reject-ICE` in an offer: 10.5 still passes the offerer's ICE on
/// to the answerer, but does no ICE with the offerer, so the answer to it
/// carries none (gen/616 and gen/1243 of the generator).
#[test]
fn reject_ice_in_the_offer_leaves_ice_out_of_the_answer() {
    let mut r = reg();
    let now = clock();
    let mut offer = flags("c", "a", None, offer_sdp(1, false));
    offer.reject_ice = true;
    let sdp = r.offer(&offer, &now).unwrap().sdp.unwrap();
    assert!(sdp.contains("a=ice-ufrag:"), "to b: {sdp}");
    let out = r
        .answer(&flags("c", "a", Some("b"), ANSWER.into()), &now)
        .unwrap();
    let sdp = out.sdp.unwrap();
    assert!(!sdp.contains("a=ice-ufrag:"), "{sdp}");
    assert!(!sdp.contains("a=candidate:"), "{sdp}");
    assert!(ice_of(&out.effects, "a").is_none(), "no agent towards a");
}

/// rtpengine keeps a logical interface per address family, each with its own
/// local interfaces: an address has one candidate foundation as the first
/// address of its family's variant and another as a lower-preference address
/// of the other family's (gen/694 of the generator: an IPv6 offer to the
/// callee, the IPv4 answer to the caller, both on 127.0.0.1 and ::1).
#[test]
fn foundations_differ_between_the_address_family_variants_of_an_interface() {
    use crate::ng::flags::Family;
    let mut r = super::tests::registry_on(&["127.0.0.1", "::1"]);
    let now = clock();
    let mut offer = flags("c", "a", None, offer_sdp(1, false));
    offer.address_family = Some(Family::V6);
    let offered = r.offer(&offer, &now).unwrap().sdp.unwrap();
    let answer = flags("c", "a", Some("b"), ANSWER.into());
    let answered = r.answer(&answer, &now).unwrap().sdp.unwrap();
    // (foundation, address) of the component 1 candidates, in order.
    let found = |sdp: &str| -> Vec<(String, String)> {
        sdp.lines()
            .filter_map(|l| l.strip_prefix("a=candidate:"))
            .map(|c| c.split(' ').collect::<Vec<_>>())
            .filter(|w| w[1] == "1")
            .map(|w| (w[0].to_owned(), w[4].to_owned()))
            .collect()
    };
    let (o, a) = (found(&offered), found(&answered));
    assert_eq!(
        o.iter().map(|x| x.1.as_str()).collect::<Vec<_>>(),
        ["::1", "127.0.0.1"],
        "{offered}"
    );
    assert_eq!(
        a.iter().map(|x| x.1.as_str()).collect::<Vec<_>>(),
        ["127.0.0.1", "::1"],
        "{answered}"
    );
    let all: std::collections::HashSet<&str> = o.iter().chain(&a).map(|x| x.0.as_str()).collect();
    assert_eq!(all.len(), 4, "{offered}\n{answered}");
}

/// A section that is not RTP (T.38 over UDPTL) has no RTCP: 10.5 prints only
/// component 1 candidates for it (gen/2681 and gen/2814 of the generator).
#[test]
fn a_udptl_section_gets_no_rtcp_candidates() {
    let mut r = reg();
    let now = clock();
    let fax = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n\
               m=image 5000 udptl t38\r\na=T38FaxVersion:0\r\n";
    let mut offer = flags("c", "a", None, fax.into());
    offer.ice = IceMode::Force;
    let sdp = r.offer(&offer, &now).unwrap().sdp.unwrap();
    let components: Vec<&str> = sdp
        .lines()
        .filter_map(|l| l.strip_prefix("a=candidate:"))
        .map(|c| c.split(' ').nth(1).unwrap())
        .collect();
    assert_eq!(components, ["1"], "{sdp}");
}

/// The flag `reset` in an offer: 10.5 forgets that both sides have spoken
/// (so the offerer's ICE is passed on again, to a callee that answered
/// without ICE) and restarts the running ICE agents with new credentials
/// (gen/302 of the generator).
#[test]
fn reset_offers_the_offerers_ice_again_with_new_credentials() {
    let mut r = reg();
    let now = clock();
    let ufrag = |sdp: &str| {
        sdp.lines()
            .find_map(|l| l.strip_prefix("a=ice-ufrag:"))
            .map(str::to_owned)
    };
    let first = r
        .offer(&flags("c", "a", None, offer_sdp(1, false)), &now)
        .unwrap()
        .sdp
        .unwrap();
    r.answer(&flags("c", "a", Some("b"), ANSWER.into()), &now)
        .unwrap();
    let mut reoffer = flags("c", "a", Some("b"), offer_sdp(2, false));
    let again = r.offer(&reoffer, &now).unwrap().sdp.unwrap();
    assert_eq!(ufrag(&again), None, "b answered without ICE: {again}");
    reoffer.reset = true;
    let reset = r.offer(&reoffer, &now).unwrap().sdp.unwrap();
    assert!(ufrag(&reset).is_some(), "{reset}");
    assert_ne!(ufrag(&reset), ufrag(&first), "restarted: {reset}");
}

/// Under `ICE=force-relay` 10.5 rewrites neither `o=` nor the session's
/// `c=`, and reads the `media address` for its candidates only after it
/// rewrote a `c=` with it: an answer whose sections have no `c=` of their
/// own leaves our candidates on our local address (gen/140 of the generator).
#[test]
fn force_relay_candidates_keep_our_address_until_a_section_c_line_is_rewritten() {
    let mut r = reg();
    let now = clock();
    r.offer(&flags("c", "a", None, offer_sdp(1, false)), &now)
        .unwrap();
    let mut answer = flags("c", "a", Some("b"), ANSWER.into());
    answer.ice = IceMode::ForceRelay;
    answer.media_address = Some("198.51.100.7".parse().unwrap());
    let sdp = r.answer(&answer, &now).unwrap().sdp.unwrap();
    assert!(
        sdp.contains(" 1 UDP 16777215 127.0.0.1 40000 typ relay raddr 127.0.0.1 rport 40000\r\n"),
        "{sdp}"
    );
    // With a c= of its own in the section, the address is read and used.
    let own_c = ANSWER.replace(
        "m=audio 6000 RTP/AVP 0\r\n",
        "m=audio 6000 RTP/AVP 0\r\nc=IN IP4 192.0.2.20\r\n",
    );
    answer.sdp = Some(own_c);
    let sdp = r.answer(&answer, &now).unwrap().sdp.unwrap();
    assert!(sdp.contains(" 1 UDP 16777215 198.51.100.7 "), "{sdp}");
}

#[test]
fn ice_lite_is_not_applied_to_media_passed_through_for_ice_on_both_sides() {
    // gen/2415: `ICE=optional` with an ICE offerer puts the media into
    // passthrough, and 10.5 returns before it reads the `ICE-lite` key.
    let mut r = reg();
    let now = clock();
    let mut offer = flags("c", "a", None, offer_sdp(1, false));
    offer.ice = IceMode::Optional;
    offer.ice_lite = Some(IceLite::Forward);
    let out = r.offer(&offer, &now).unwrap();
    let sdp = out.sdp.unwrap();
    assert!(sdp.contains("a=ice-ufrag:"), "{sdp}");
    assert!(!sdp.contains("a=ice-lite"), "{sdp}");
    // Without ICE from the offerer there is no passthrough: lite as asked.
    let mut r = reg();
    let plain = "v=0\r\no=- 1 1 IN IP4 192.0.2.10\r\ns=-\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n\
                 m=audio 46243 RTP/AVP 0\r\na=sendrecv\r\n";
    let mut offer = flags("c", "a", None, plain.into());
    offer.ice = IceMode::Optional;
    offer.ice_lite = Some(IceLite::Forward);
    let sdp = r.offer(&offer, &now).unwrap().sdp.unwrap();
    assert!(sdp.contains("a=ice-lite"), "{sdp}");
}

/// A call whose media has ICE candidates on the other addresses of its
/// logical interface is saved and read back with them (and their port
/// count): a restarted daemon must reserve those ports too.
#[test]
fn saved_ice_alternates_read_back() {
    use super::persist::{decode_call, encode_call};
    let mut r = super::tests::registry_on(&["127.0.0.1", "::1"]);
    let now = clock();
    let mut offer = flags("c", "a", None, offer_sdp(1, false));
    offer.ice = IceMode::Force;
    r.offer(&offer, &now).unwrap();
    let call = &r.calls["c"];
    let alternates = |c: &super::model::Call| -> Vec<(std::net::SocketAddr, u16)> {
        c.monologues
            .iter()
            .flat_map(|m| m.medias.iter())
            .flat_map(|m| m.ice_alternates.iter().map(|a| (a.local, a.ports)))
            .collect()
    };
    assert!(!alternates(call).is_empty());
    let bytes = encode_call(call, &now);
    let back = decode_call(&bytes, &now).expect("decodes");
    assert_eq!(alternates(&back), alternates(call));
}

/// 10.5 takes the ports of an offerer whose SDP carries ICE on every
/// address of its logical interface at the offer (webrtc
/// ice-optional-chrome-to-chrome), and gives those on the other addresses
/// back when the answer ends ICE with it.
#[test]
fn an_ice_offerer_has_ports_on_every_address_from_the_offer() {
    let v6: std::net::IpAddr = "::1".parse().unwrap();
    let mut r = super::tests::registry_on(&["127.0.0.1", "::1"]);
    let now = clock();
    r.offer(&flags("c", "a", None, offer_sdp(1, false)), &now)
        .unwrap();
    assert_eq!(r.ports().in_use_on(v6), 4, "a's pair and b's pair on ::1");
    let mut answer = flags("c", "a", Some("b"), ANSWER.into());
    answer.ice = IceMode::Remove;
    r.answer(&answer, &now).unwrap();
    assert_eq!(r.ports().in_use_on(v6), 2, "a's given back, b's kept");
}
