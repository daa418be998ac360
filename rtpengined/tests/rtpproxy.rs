//! The rtpproxy protocol on `--listen-udp`: a call set up with `U`/`L`
//! relays RTP both ways through the ports answered, `Q` counts it, `D` ends
//! it, repeated cookies get the cached answer and garbage gets `E8`.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use common::{free_port, phone, recv, rtp, Daemon};

struct Client {
    sock: UdpSocket,
    to: SocketAddr,
}

impl Client {
    fn send_bytes(&self, line: &[u8]) -> Option<Vec<u8>> {
        self.sock.send_to(line, self.to).unwrap();
        let mut buf = [0u8; 8192];
        let (n, _) = self.sock.recv_from(&mut buf).ok()?;
        Some(buf[..n].to_vec())
    }

    fn send(&self, line: &[u8]) -> Option<String> {
        let r = self.send_bytes(line)?;
        Some(String::from_utf8_lossy(&r).into_owned())
    }

    fn cmd(&self, line: &str) -> String {
        self.send(line.as_bytes())
            .unwrap_or_else(|| panic!("no answer to {line:?}"))
    }
}

/// The daemon and an rtpproxy client once the listener answers `V`.
fn start() -> (Daemon, Client) {
    let port = free_port("127.0.0.1");
    let listen = format!("--listen-udp=127.0.0.1:{port}");
    let d = Daemon::start(45100, 45149, &[listen.as_str()]);
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let c = Client {
        sock,
        to: format!("127.0.0.1:{port}").parse().unwrap(),
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(r) = c.send(b"v0 V") {
            assert_eq!(r, "v0 20040107\n");
            return (d, c);
        }
        assert!(
            Instant::now() < deadline,
            "no V answer; log: {}",
            d.log_text()
        );
    }
}

/// `COOKIE PORT 127.0.0.1 4` -> the address to send to.
fn target(reply: &str, cookie: &str) -> SocketAddr {
    let rest = reply.strip_prefix(&format!("{cookie} ")).expect(reply);
    let words: Vec<&str> = rest.split_whitespace().collect();
    assert_eq!(words.len(), 3, "{reply:?}");
    assert_eq!((words[1], words[2]), ("127.0.0.1", "4"), "{reply:?}");
    format!("127.0.0.1:{}", words[0]).parse().unwrap()
}

fn relayed(from: &UdpSocket, to_addr: SocketAddr, to: &UdpSocket, tag: u8) {
    // The first packets teach the daemon where the sender is; wait for one.
    let deadline = Instant::now() + Duration::from_secs(5);
    for seq in 0.. {
        from.send_to(&rtp(seq, tag), to_addr).unwrap();
        if let Some((p, _)) = recv(to) {
            assert_eq!(p, rtp(seq, tag));
            return;
        }
        assert!(Instant::now() < deadline, "nothing relayed");
    }
}

#[test]
fn a_call_set_up_by_update_and_lookup_relays_rtp() {
    let (d, c) = start();
    let (a, b) = (phone("127.0.0.1"), phone("127.0.0.1"));
    let (a_addr, b_addr) = (a.local_addr().unwrap(), b.local_addr().unwrap());
    let update = format!("u1 Uc0 rp-call-1 127.0.0.1 {} caller;1\n", a_addr.port());
    let to_callee = target(&c.cmd(&update), "u1");
    // A repeated cookie is answered from the cache, nothing runs again.
    assert_eq!(c.cmd(&update), c.cmd(&update));
    let lookup = format!(
        "l1 L rp-call-1 127.0.0.1 {} caller;1 callee;1\n",
        b_addr.port()
    );
    let to_caller = target(&c.cmd(&lookup), "l1");
    assert_ne!(to_caller, to_callee);

    relayed(&a, to_caller, &b, 1);
    relayed(&b, to_callee, &a, 2);

    // Q: seconds before the silent timeout, then RTP and RTCP packets.
    let mut n = 0;
    let words = loop {
        n += 1;
        let r = c.cmd(&format!("q{n} Q rp-call-1 caller callee"));
        let words: Vec<String> = r.split_whitespace().map(str::to_owned).collect();
        assert_eq!(words.len(), 6, "{r:?}");
        if words[2].parse::<u64>().unwrap() >= 2 {
            break words;
        }
        assert!(n < 100, "packets never counted: {r:?}");
    };
    let ttl: i64 = words[1].parse().unwrap();
    assert!((3500..=3600).contains(&ttl), "{words:?}");
    assert_eq!((words[4].as_str(), words[5].as_str()), ("0", "0"));

    assert_eq!(c.cmd("d1 D rp-call-1 caller"), "d1 0\n");
    // Gone (no delete delay): the second delete and a lookup find nothing.
    assert_eq!(c.cmd("d2 D rp-call-1 caller"), "d2 E8\n");
    assert_eq!(
        c.cmd(&format!(
            "l2 L rp-call-1 127.0.0.1 {} caller;1 callee;1",
            b_addr.port()
        )),
        "l2 0 0.0.0.0\n"
    );
    drop(d);
}

#[test]
fn a_second_media_number_relays_too_and_a_lookup_finds_its_to_tag() {
    let (_d, c) = start();
    let phones: Vec<UdpSocket> = (0..4).map(|_| phone("127.0.0.1")).collect();
    let port = |i: usize| phones[i].local_addr().unwrap().port();
    // Caller audio on phone 0 (media 1) and phone 1 (media 2), callee on 2 and 3.
    let u1 = target(
        &c.cmd(&format!("u1 U rp-two 127.0.0.1 {} a;1", port(0))),
        "u1",
    );
    let u2 = target(
        &c.cmd(&format!("u2 U rp-two 127.0.0.1 {} a;2", port(1))),
        "u2",
    );
    let l1 = target(
        &c.cmd(&format!("l1 L rp-two 127.0.0.1 {} a;1 b;1", port(2))),
        "l1",
    );
    let l2 = target(
        &c.cmd(&format!("l2 L rp-two 127.0.0.1 {} a;2 b;2", port(3))),
        "l2",
    );
    let mut all = vec![u1, u2, l1, l2];
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 4, "{all:?}");
    // Offering media 1 again keeps media 2 where it was.
    assert_eq!(
        target(
            &c.cmd(&format!("u3 U rp-two 127.0.0.1 {} a;1 b;1", port(0))),
            "u3"
        ),
        u1
    );
    // Without a to-tag, a lookup is the answer of the party in dialogue.
    assert_eq!(
        target(
            &c.cmd(&format!("l3 L rp-two 127.0.0.1 {} a;2", port(3))),
            "l3"
        ),
        l2
    );
    relayed(&phones[0], l1, &phones[2], 1);
    relayed(&phones[2], u1, &phones[0], 2);
    relayed(&phones[1], l2, &phones[3], 3);
    relayed(&phones[3], u2, &phones[1], 4);
    assert_eq!(c.cmd("d1 D rp-two a b"), "d1 0\n");
}

#[test]
fn garbage_gets_the_error_answer_and_the_listener_goes_on() {
    let (_d, c) = start();
    assert_eq!(c.cmd("g1"), "g1 E8\n");
    assert_eq!(c.cmd("g2 X y z"), "g2 E8\n");
    assert_eq!(c.cmd("g3 D"), "g3 E8\n");
    // An update 10.5 cannot read: the client's own port and address back.
    assert_eq!(c.cmd("g4 U cid 192.0.2.1 4000"), "g4 4000 192.0.2.1\n");
    assert_eq!(c.cmd("g5 U cid 999.0.0.1 4000 ft;1"), "g5 E8\n");
    assert_eq!(c.cmd("g6 Q nosuchcall ft"), "g6 E8\n");
    // Invalid UTF-8 is echoed as any other word.
    let mut bad = b"g7 U \xff\xfe 127.0.0.1 ".to_vec();
    bad.extend_from_slice(&[0xc3; 3000]);
    let mut want = b"g7 ".to_vec();
    want.extend_from_slice(&[0xc3; 3000]);
    want.extend_from_slice(b" 127.0.0.1\n");
    assert_eq!(c.send_bytes(&bad), Some(want));
    // Nothing to answer without a cookie.
    assert_eq!(c.send(b""), None);
    assert_eq!(c.send(b"  V"), None);
    assert_eq!(c.cmd("g8 VF 20050322"), "g8 1\n");
    assert_eq!(c.cmd("g9 VF"), "g9 0\n");
}
