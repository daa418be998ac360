//! Our ICE agent against aioice (tests/ice/ice_peer.py), an ICE
//! implementation we did not write, on 127.0.0.1: a UDP socket driven
//! through `poll_transmit`/`poll_timeout` the way the daemon will drive it,
//! the peer's checks answered by the engine's answering code. ICE must
//! complete with us controlling, with us controlled, and when both start
//! controlling (role conflict), and media must then flow both ways on the
//! selected pair. Ports 33000-33499 only. Without aioice the tests fail.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use rtpengine_proto::call::{IceCredentials, RemoteCandidate};
use rtpengine_proto::media::engine::ice::{handle, Agent, Outcome};
use rtpengine_proto::media::engine::IceSettings;
use rtpengine_proto::media::ice_agent::{AgentConfig, CheckAttributes, IceAgent, IceEvent};
use rtpengine_proto::media::stun::{Class, Header};

const OUR_UFRAG: &str = "rtpe";
const OUR_PWD: &str = "rtpengine-rs-test-password";
/// Our host candidate's priority (type 126, first address, component 1).
const OUR_PRIORITY: u32 = 2_130_706_431;
/// How long ICE and the echo may take in all: aioice completes in well under
/// a second on loopback; this only bounds a hang.
const DEADLINE: Duration = Duration::from_secs(30);

struct Peer {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Peer {
    fn start(role: &str, port: u16, tiebreaker: Option<u64>) -> Peer {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/ice/ice_peer.py");
        let mut cmd = Command::new("python3");
        cmd.arg(script).arg(role).arg(port.to_string());
        if let Some(t) = tiebreaker {
            cmd.arg(t.to_string());
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Peer {
            stdin: child.stdin.take(),
            child,
            lines,
        }
    }

    /// The next line the peer prints, waited for up to the deadline.
    fn line(&self, until: Instant) -> String {
        let left = until.saturating_duration_since(Instant::now());
        let line = self
            .lines
            .recv_timeout(left)
            .expect("the aioice peer printed nothing (is aioice installed? scripts/install-deps)");
        assert!(!line.starts_with("error"), "aioice peer: {line}");
        line
    }

    fn say(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // Closing stdin ends the peer; kill it only if it does not go.
        self.stdin.take();
        for _ in 0..50 {
            if self.child.try_wait().ok().flatten().is_some() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// aioice must be importable (scripts/install-deps installs it): without it
/// the test fails instead of passing untested.
fn require_aioice() {
    let ok = Command::new("python3")
        .args(["-c", "import aioice"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "python3 cannot import aioice: run scripts/install-deps");
}

struct Outcomes {
    /// What our agent selected (nominated).
    selected: SocketAddr,
    /// The remote end of the pair aioice nominated.
    peer_remote: SocketAddr,
    /// Our final role.
    controlling: bool,
}

/// Completes ICE between our agent on `our_port` and aioice on `peer_port`,
/// then sends a datagram to the selected address and waits for aioice to
/// echo it back over its nominated pair.
fn complete(
    we_control: bool,
    peer_role: &str,
    our_port: u16,
    peer_port: u16,
    tiebreakers: (u64, Option<u64>),
) -> Outcomes {
    require_aioice();
    let until = Instant::now() + DEADLINE;
    let sock = UdpSocket::bind(("127.0.0.1", our_port)).expect("our port is free");
    let local = sock.local_addr().unwrap();
    let mut peer = Peer::start(peer_role, peer_port, tiebreakers.1);

    let hello = peer.line(until);
    let f: Vec<&str> = hello.split_whitespace().collect();
    assert_eq!(f.len(), 6, "{hello}");
    assert_eq!(f[0], "peer");
    let peer_addr: SocketAddr = format!("{}:{}", f[3], f[4]).parse().unwrap();
    assert_eq!(peer_addr.port(), peer_port);
    peer.say(&format!(
        "ours {OUR_UFRAG} {OUR_PWD} {} {} {OUR_PRIORITY}",
        local.ip(),
        local.port()
    ));

    let mut creds = IceCredentials {
        ufrag: OUR_UFRAG.into(),
        pwd: OUR_PWD.into(),
        remote_ufrag: Some(f[1].into()),
        remote_pwd: Some(f[2].into()),
        controlling: we_control,
        lite: false,
        remote_candidates: vec![RemoteCandidate {
            foundation: "aioice".into(),
            component: 1,
            priority: f[5].parse().unwrap(),
            address: peer_addr,
            kind: "host".into(),
        }],
    };
    let settings = IceSettings {
        software: "rtpengine-rs-test".into(),
        tiebreaker: tiebreakers.0,
        ..IceSettings::default()
    };
    let mut agent = IceAgent::new(
        AgentConfig {
            credentials: creds.clone(),
            local,
            component: 1,
            interface_index: 0,
            tiebreaker: settings.tiebreaker,
            software: settings.software.clone(),
            seed: [our_port as u8; 32],
        },
        Instant::now(),
    );

    let payload = format!("media from rtpengine-rs on {our_port}").into_bytes();
    let mut selected = None;
    let mut peer_remote = None;
    let mut echoed = false;
    let mut peer_echoed = None;
    let mut buf = vec![0u8; 2048];
    while !echoed {
        assert!(
            Instant::now() < until,
            "no ICE within {DEADLINE:?}: selected {selected:?}, peer {peer_remote:?}"
        );
        while let Some((to, msg)) = agent.poll_transmit() {
            sock.send_to(&msg, to).unwrap();
        }
        let wait = agent
            .poll_timeout()
            .map_or(Duration::from_millis(20), |t| {
                t.saturating_duration_since(Instant::now())
            })
            .clamp(Duration::from_millis(1), Duration::from_millis(20));
        sock.set_read_timeout(Some(wait)).unwrap();
        if let Ok((n, src)) = sock.recv_from(&mut buf) {
            let now = Instant::now();
            match Header::parse(&buf[..n]).map(|h| h.class) {
                Ok(Class::Request) => {
                    let check = CheckAttributes::parse(&buf[..n]).unwrap();
                    let mut controlling = agent.controlling();
                    creds.controlling = controlling;
                    let out = handle(
                        &mut buf,
                        n,
                        src,
                        Agent {
                            creds: &creds,
                            controlling: &mut controlling,
                            settings: &settings,
                        },
                    );
                    if controlling != agent.controlling() {
                        agent.set_controlling(controlling);
                    }
                    if let Outcome::Answer { len, code, .. } = out {
                        sock.send_to(&buf[..len], src).unwrap();
                        if code.is_none() {
                            agent.request_received(src, check.use_candidate, check.priority, now);
                        }
                    }
                }
                Ok(Class::Success | Class::Error) => {
                    // Not ours: an answer to a check sent before a role
                    // switch renewed the transactions (the engine takes it).
                    agent.response_received(&buf[..n], src, now);
                }
                _ => {
                    assert_eq!(&buf[..n], &payload[..], "media from {src}");
                    assert_eq!(Some(src), selected, "the echo comes over the selected pair");
                    echoed = true;
                }
            }
        }
        let now = Instant::now();
        if agent.poll_timeout().is_some_and(|t| t <= now) {
            agent.handle_timeout(now);
        }
        while let Some(e) = agent.poll_event() {
            match e {
                IceEvent::Selected {
                    remote,
                    nominated: true,
                } => selected = Some(remote),
                IceEvent::Selected { .. } | IceEvent::RoleChanged { .. } => {}
                e => panic!("unexpected {e:?}"),
            }
        }
        while let Ok(line) = peer.lines.try_recv() {
            assert!(!line.starts_with("error"), "aioice peer: {line}");
            if let Some(rest) = line.strip_prefix("connected ") {
                let (h, p) = rest.split_once(' ').unwrap();
                peer_remote = Some(format!("{h}:{p}").parse::<SocketAddr>().unwrap());
            } else if line.starts_with("echoed ") {
                peer_echoed = Some(line);
            }
        }
        if let (Some(to), Some(_), false) = (selected, peer_remote, echoed) {
            // Both sides are done: media over the selected pair, once per
            // round until the echo is back.
            sock.send_to(&payload, to).unwrap();
        }
    }
    let line = peer_echoed.unwrap_or_else(|| peer.line(until));
    assert_eq!(line, format!("echoed {}", hex(&payload)));
    Outcomes {
        selected: selected.unwrap(),
        peer_remote: peer_remote.unwrap(),
        controlling: agent.controlling(),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn we_control_and_nominate_aioice_completes() {
    let o = complete(true, "controlled", 33100, 33101, (1 << 63, None));
    assert_eq!(o.selected, "127.0.0.1:33101".parse().unwrap());
    assert_eq!(o.peer_remote, "127.0.0.1:33100".parse().unwrap());
    assert!(o.controlling);
}

#[test]
fn aioice_controls_and_nominates_us() {
    let o = complete(false, "controlling", 33110, 33111, (1 << 63, None));
    assert_eq!(o.selected, "127.0.0.1:33111".parse().unwrap());
    assert_eq!(o.peer_remote, "127.0.0.1:33110".parse().unwrap());
    assert!(!o.controlling);
}

/// Both start controlling and ours is larger: aioice gets our 487, which
/// must be signed with our password (RFC 8489 section 9.1.4) for aioice to
/// take it and switch to controlled.
#[test]
fn both_controlling_we_win_the_role_conflict() {
    let o = complete(true, "controlling", 33120, 33121, (u64::MAX - 1, Some(5)));
    assert_eq!(o.selected, "127.0.0.1:33121".parse().unwrap());
    assert!(o.controlling, "our larger tie-breaker keeps us controlling");
}

#[test]
fn both_controlling_aioice_wins_the_role_conflict() {
    let o = complete(true, "controlling", 33130, 33131, (5, Some(u64::MAX - 1)));
    assert_eq!(o.selected, "127.0.0.1:33131".parse().unwrap());
    assert!(
        !o.controlling,
        "aioice's larger tie-breaker makes us controlled"
    );
}
