//! WebRTC calls against bad input, re-INVITEs and delete, through the real
//! daemon: a DTLS-SRTP client of our own (`rtpengine-dtls`, tests/dtls_peer)
//! plays the browser (ICE credentials, rtcp-mux, `a=setup:active`), a plain
//! UDP socket the SIP phone, and a second plain call runs beside it. What is
//! measured is packets: SRTP decrypted by the browser, plain RTP at the
//! phones, and the ng `query` counters of the browser's stream.
//!
//! The ICE restart is driven by tests/webrtc/ice_restart.py, with aioice as
//! the browser's agent; the ICE restart under a running DTLS association by
//! the same client answering the daemon's checks and nominating by hand.
//! Daemon bugs these tests found, each fixed in its own commit with an engine
//! or crate test: junk before any ClientHello ended a passive association;
//! close_notify went to the new SDP endpoint on a new fingerprint, to a
//! stranger who had sent a record, and to the old pair after an ICE restart;
//! our ICE credentials were not renewed on a restart (10.5 renews them).
//!
//! UDP ports: daemons 41000-41499 (each test its own slice), clients on
//! ephemeral loopback ports.

mod common;
mod dtls_peer;

use std::net::{SocketAddr, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::*;
use dtls_peer::*;
use rtpengine_dtls::{Certificate, Event};
use rtpengined::ng::bencode::Owned;

/// Upper bound for anything the tests wait for; events end waits early.
const LIMIT: Duration = Duration::from_secs(10);

/// The browser's SDP: DTLS client (`a=setup:active`), ICE credentials (the
/// daemon then answers STUN on the stream), rtcp-mux.
fn browser_sdp(port: u16, cert: &Certificate, version: u32) -> String {
    format!(
        "v=0\r\no=- 1 {version} IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nc=IN IP4 127.0.0.1\r\n\
         m=audio {port} UDP/TLS/RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n\
         a=ice-ufrag:brws\r\na=ice-pwd:browserpasswordbrowserpw\r\n\
         a=setup:active\r\na=fingerprint:{}\r\na=rtcp-mux\r\na=sendrecv\r\n",
        fingerprint_line(cert)
    )
}

/// Where each party sends to, and the daemon's fingerprint.
struct WebrtcCall {
    id: String,
    /// The daemon's port for the browser (browser sends here).
    browser_to: SocketAddr,
    /// The daemon's port for the phone.
    phone_to: SocketAddr,
    browser_sdp: String,
}

/// Offer from the browser (as Kamailio bridges WebRTC to a SIP phone), answer
/// from the phone; `version` > 1 makes it a re-INVITE.
fn webrtc_call(
    d: &Daemon,
    id: &str,
    browser_port: u16,
    cert: &Certificate,
    phone_port: u16,
    version: u32,
) -> WebrtcCall {
    let o = d.ok(
        &offer(id, "browser", &browser_sdp(browser_port, cert, version))
            .with("transport-protocol", "RTP/AVP")
            .with("ICE", "remove")
            .with("rtcp-mux", list(&["demux"])),
    );
    let a = d.ok(&answer(
        id,
        "browser",
        "phone",
        &sdp("127.0.0.1", phone_port),
    ));
    let browser_sdp = text(a.get("sdp"));
    assert!(browser_sdp.contains("a=setup:passive"), "{browser_sdp}");
    WebrtcCall {
        id: id.into(),
        browser_to: media_target(&a),
        phone_to: media_target(&o),
        browser_sdp,
    }
}

/// A plain RTP call beside the WebRTC one: (caller, where it sends, callee,
/// where that sends).
fn bystander(d: &Daemon) -> (UdpSocket, SocketAddr, UdpSocket, SocketAddr) {
    let x = phone("127.0.0.1");
    let y = phone("127.0.0.1");
    let port = |s: &UdpSocket| s.local_addr().unwrap().port();
    let o = d.ok(&offer("bystander", "x", &sdp("127.0.0.1", port(&x))));
    let a = d.ok(&answer("bystander", "x", "y", &sdp("127.0.0.1", port(&y))));
    (x, media_target(&a), y, media_target(&o))
}

/// Sends RTP from `a` to `to` until `b` got `want` of them (or 50 sent);
/// how many arrived.
fn relays(a: &UdpSocket, to: SocketAddr, b: &UdpSocket, want: usize) -> usize {
    let mut got = 0;
    for seq in 0..50u16 {
        let p = rtp(seq, 0x5a);
        a.send_to(&p, to).unwrap();
        if matches!(recv(b), Some((q, _)) if q == p) {
            got += 1;
            if got == want {
                break;
            }
        }
    }
    got
}

/// Both ways through a connected browser: its SRTP reaches the phone as
/// plain RTP, the phone's RTP reaches it as SRTP. Packets that arrived each way.
fn webrtc_relays(
    c: &mut DtlsPeer,
    phone: &UdpSocket,
    call: &WebrtcCall,
    want: usize,
) -> (usize, usize) {
    let (mut up, mut down) = (0, 0);
    for seq in 0..50u16 {
        if up < want {
            let p = rtp(seq, 0xb0);
            c.send_rtp(&p);
            if matches!(recv(phone), Some((q, _)) if q == p) {
                up += 1;
            }
        }
        if down < want {
            let p = rtp(seq, 0x90);
            phone.send_to(&p, call.phone_to).unwrap();
            if c.recv_rtp(Duration::from_millis(500)).as_deref() == Some(&p[..]) {
                down += 1;
            }
        }
        if up == want && down == want {
            break;
        }
    }
    (up, down)
}

/// (packets, errors) of the call's stream on our local `port`, from ng query.
fn stream_stats(d: &Daemon, call: &str, port: u16) -> (i64, i64) {
    let q = d.ok(&query(call));
    let Some(Owned::Dict(tags)) = q.get("tags") else {
        panic!("no tags: {q}")
    };
    for (_, tag) in tags {
        let Some(Owned::List(medias)) = tag.get("medias") else {
            continue;
        };
        for m in medias {
            let Some(Owned::List(streams)) = m.get("streams") else {
                continue;
            };
            for s in streams {
                if int(s.get("local port")) == i64::from(port) {
                    let st = s.get("stats").unwrap();
                    return (int(st.get("packets")), int(st.get("errors")));
                }
            }
        }
    }
    panic!("no stream on port {port}: {q}")
}

/// The stream's error count once it reached `at_least` (the daemon counts
/// as it reads its socket), or what it was at the time limit.
fn errors_reach(d: &Daemon, call: &str, port: u16, at_least: i64) -> i64 {
    let end = Instant::now() + LIMIT;
    loop {
        let (_, errors) = stream_stats(d, call, port);
        if errors >= at_least || Instant::now() >= end {
            return errors;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Deterministic junk.
struct Junk(u64);

impl Junk {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// A datagram whose first byte says DTLS (RFC 7983: 20..=63).
    fn dtls_range(&mut self) -> Vec<u8> {
        let len = 1 + (self.next() % 300) as usize;
        let mut p = self.bytes(len);
        p[0] = 20 + (self.next() % 44) as u8;
        p
    }

    /// A record with a real DTLS 1.2 header (handshake, epoch 0) and a
    /// length that runs past the datagram, or a body of junk.
    fn dtls_record(&mut self) -> Vec<u8> {
        let n = (self.next() % 64) as usize;
        let body = self.bytes(n);
        let claimed = body.len() as u16 + (self.next() % 2) as u16 * 200;
        let mut p = vec![22, 0xfe, 0xfd, 0, 0];
        p.extend_from_slice(&self.next().to_be_bytes()[..6]);
        p.extend_from_slice(&claimed.to_be_bytes());
        p.extend_from_slice(&body);
        p
    }

    /// STUN that passes the demultiplexer's test (cookie, a FINGERPRINT
    /// attribute last) but that the STUN code refuses: a wrong CRC behind
    /// USERNAME and MESSAGE-INTEGRITY, or an attribute running past the end.
    fn bad_stun(&mut self) -> Vec<u8> {
        let mut p = vec![0x00, 0x01, 0x00, 0x28, 0x21, 0x12, 0xa4, 0x42];
        p.extend(self.bytes(12));
        p.extend([0x00, 0x06, 0x00, 0x04]); // USERNAME
        p.extend(self.bytes(4));
        p.extend([0x00, 0x08, 0x00, 0x14]); // MESSAGE-INTEGRITY
        p.extend(self.bytes(20));
        p.extend([0x80, 0x28, 0x00, 0x04]); // FINGERPRINT
        p.extend(self.bytes(4));
        if self.next().is_multiple_of(2) {
            // USERNAME claims more than there is.
            p[22..24].copy_from_slice(&[0x00, 0x40]);
        }
        p
    }
}

/// Throws every kind of junk at `to` from `from`.
fn spray(j: &mut Junk, from: &UdpSocket, to: SocketAddr, stranger_hello: &[u8]) {
    for _ in 0..20 {
        from.send_to(&j.dtls_range(), to).unwrap();
        from.send_to(&j.dtls_record(), to).unwrap();
        from.send_to(&j.bad_stun(), to).unwrap();
    }
    // A ClientHello cut short, and plain RTP on a stream that wants SRTP.
    from.send_to(&stranger_hello[..stranger_hello.len() / 2], to)
        .unwrap();
    from.send_to(&stranger_hello[..13], to).unwrap();
    from.send_to(&rtp(7, 7), to).unwrap();
}

fn ng_alive(d: &Daemon) {
    let r = d.request(&Owned::dict().with("command", "ping"));
    assert_eq!(text(r.get("result")), "pong", "ng still answers");
}

fn client_socket() -> UdpSocket {
    UdpSocket::bind("127.0.0.1:0").unwrap()
}

fn port(s: &UdpSocket) -> u16 {
    s.local_addr().unwrap().port()
}

#[test]
fn junk_on_a_dtls_ice_stream_is_dropped_counted_and_harmless() {
    let d = Daemon::start(41000, 41099, &[]);
    let (x, x_to, y, y_to) = bystander(&d);
    let cert = certificate();
    let stranger_cert = certificate();
    let hello = client_hello(&stranger_cert);
    let csock = client_socket();
    let phone = phone("127.0.0.1");
    let call = webrtc_call(&d, "faults", port(&csock), &cert, port(&phone), 1);
    let stranger = client_socket();
    let mut j = Junk(0x9e37_79b9_7f4a_7c15);

    // Junk before the handshake, from the browser's own address and from a
    // stranger: nothing reaches the phone, every piece is counted.
    spray(&mut j, &csock, call.browser_to, &hello);
    spray(&mut j, &stranger, call.browser_to, &hello);
    ng_alive(&d);
    let errors = errors_reach(&d, &call.id, call.browser_to.port(), 2 * 21);
    // Each spray: 20 broken STUN messages and plain RTP, dropped and counted
    // (DTLS junk goes to OpenSSL, which drops it silently, as in 10.5).
    assert!(
        errors >= 2 * 21,
        "junk before the handshake counted: {errors}"
    );
    assert!(recv(&phone).is_none(), "junk reached the phone");
    assert_eq!(relays(&x, x_to, &y, 5), 5, "the other call relays");
    assert_eq!(relays(&y, y_to, &x, 5), 5, "the other call relays back");

    // The properly keyed browser still completes its handshake.
    let mut c = DtlsPeer::client(
        csock,
        &cert,
        fingerprint_of(&call.browser_sdp),
        call.browser_to,
    );
    c.handshake(LIMIT)
        .unwrap_or_else(|e| panic!("{e}\n{}", d.log_text()));
    assert_eq!(
        webrtc_relays(&mut c, &phone, &call, 5),
        (5, 5),
        "{}",
        d.log_text()
    );

    // Junk after it, and a stranger's ClientHello: dropped, counted, the
    // association and both directions of the call go on.
    let (_, before) = stream_stats(&d, &call.id, call.browser_to.port());
    spray(&mut j, &stranger, call.browser_to, &hello);
    stranger.send_to(&hello, call.browser_to).unwrap();
    spray(
        &mut j,
        &c.sock.try_clone().unwrap(),
        call.browser_to,
        &hello,
    );
    ng_alive(&d);
    let after = errors_reach(&d, &call.id, call.browser_to.port(), before + 2 * 21);
    assert!(
        after >= before + 2 * 21,
        "junk after the handshake counted: {before} -> {after}"
    );
    assert_eq!(
        webrtc_relays(&mut c, &phone, &call, 5),
        (5, 5),
        "{}",
        d.log_text()
    );
    assert_eq!(relays(&x, x_to, &y, 5), 5, "the other call relays");
    assert!(c.failed().is_none() && !c.closed(), "{:?}", c.events);
    let log = d.log_text();
    assert_eq!(log.matches("DTLS-SRTP handshake done").count(), 1, "{log}");
    assert!(!log.contains("DTLS-SRTP failed"), "{log}");
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn a_certificate_that_does_not_match_the_fingerprint_is_refused() {
    let d = Daemon::start(41100, 41199, &[]);
    let (x, x_to, y, _) = bystander(&d);
    let cert = certificate();
    let impostor_cert = certificate();
    let phone = phone("127.0.0.1");
    let csock = client_socket();
    let call = webrtc_call(&d, "mismatch", port(&csock), &cert, port(&phone), 1);
    let daemon_fp = fingerprint_of(&call.browser_sdp);

    // From the browser's address, with a certificate the SDP did not announce.
    let mut impostor = DtlsPeer::client(
        csock.try_clone().unwrap(),
        &impostor_cert,
        daemon_fp.clone(),
        call.browser_to,
    );
    let _ = impostor.handshake(LIMIT);
    assert!(!impostor.connected(), "{:?}", impostor.events);
    let log_has = |what: &str| {
        let end = Instant::now() + LIMIT;
        while Instant::now() < end && !d.log_text().contains(what) {
            std::thread::sleep(Duration::from_millis(20));
        }
        d.log_text().contains(what)
    };
    assert!(log_has("FingerprintMismatch"), "{}", d.log_text());
    let errors = errors_reach(&d, &call.id, call.browser_to.port(), 1);
    assert!(errors >= 1, "the failed handshake is counted");
    let (packets, _) = stream_stats(&d, &call.id, call.browser_to.port());
    assert_eq!(packets, 0);
    ng_alive(&d);
    assert_eq!(relays(&x, x_to, &y, 5), 5, "the other call relays");

    // As in 10.5 the stream waits for signalling: a re-INVITE starts DTLS
    // again, and the real browser completes its handshake.
    drop(impostor);
    let call = webrtc_call(&d, "mismatch", port(&csock), &cert, port(&phone), 2);
    let mut c = DtlsPeer::client(csock, &cert, daemon_fp, call.browser_to);
    c.handshake(LIMIT)
        .unwrap_or_else(|e| panic!("{e}\n{}", d.log_text()));
    assert_eq!(
        webrtc_relays(&mut c, &phone, &call, 5),
        (5, 5),
        "{}",
        d.log_text()
    );
}

#[test]
fn a_reinvite_with_the_same_fingerprint_keeps_the_association() {
    let d = Daemon::start(41200, 41249, &[]);
    let cert = certificate();
    let phone = phone("127.0.0.1");
    let csock = client_socket();
    let call = webrtc_call(&d, "same-fp", port(&csock), &cert, port(&phone), 1);
    let mut c = DtlsPeer::client(
        csock,
        &cert,
        fingerprint_of(&call.browser_sdp),
        call.browser_to,
    );
    c.handshake(LIMIT)
        .unwrap_or_else(|e| panic!("{e}\n{}", d.log_text()));
    assert_eq!(webrtc_relays(&mut c, &phone, &call, 5), (5, 5));
    let records = c.dtls_sources.len();

    let again = webrtc_call(&d, "same-fp", c.port(), &cert, port(&phone), 2);
    assert_eq!(again.browser_to, call.browser_to, "same port");
    assert_eq!(
        fingerprint_of(&again.browser_sdp),
        fingerprint_of(&call.browser_sdp)
    );
    // The keys of the first handshake still protect both directions.
    assert_eq!(
        webrtc_relays(&mut c, &phone, &again, 5),
        (5, 5),
        "{}",
        d.log_text()
    );
    assert_eq!(
        c.dtls_sources.len(),
        records,
        "no DTLS record after the re-INVITE"
    );
    assert!(!c.closed(), "{:?}", c.events);
    let log = d.log_text();
    assert_eq!(log.matches("DTLS-SRTP handshake done").count(), 1, "{log}");
}

#[test]
fn a_new_fingerprint_closes_the_old_association_and_a_new_one_starts() {
    let d = Daemon::start(41250, 41299, &[]);
    let cert = certificate();
    let phone = phone("127.0.0.1");
    let csock = client_socket();
    let call = webrtc_call(&d, "new-fp", port(&csock), &cert, port(&phone), 1);
    let daemon_fp = fingerprint_of(&call.browser_sdp);
    let mut old = DtlsPeer::client(csock, &cert, daemon_fp.clone(), call.browser_to);
    old.handshake(LIMIT)
        .unwrap_or_else(|e| panic!("{e}\n{}", d.log_text()));
    assert_eq!(webrtc_relays(&mut old, &phone, &call, 5), (5, 5));

    // The browser renegotiates with a new certificate (and a new socket).
    let new_cert = certificate();
    let nsock = client_socket();
    let again = webrtc_call(&d, "new-fp", port(&nsock), &new_cert, port(&phone), 2);
    assert!(
        old.wait_until(LIMIT, DtlsPeer::closed),
        "the old association gets close_notify: {:?}\n{}",
        old.events,
        d.log_text()
    );
    let mut new = DtlsPeer::client(nsock, &new_cert, daemon_fp, again.browser_to);
    new.handshake(LIMIT)
        .unwrap_or_else(|e| panic!("{e}\n{}", d.log_text()));
    assert_eq!(
        webrtc_relays(&mut new, &phone, &again, 5),
        (5, 5),
        "{}",
        d.log_text()
    );
    let log = d.log_text();
    assert_eq!(log.matches("DTLS-SRTP handshake done").count(), 2, "{log}");
}

#[test]
fn delete_sends_close_notify_to_the_browser() {
    let d = Daemon::start(41300, 41349, &[]);
    let cert = certificate();
    let phone = phone("127.0.0.1");
    let csock = client_socket();
    let call = webrtc_call(&d, "bye", port(&csock), &cert, port(&phone), 1);
    let mut c = DtlsPeer::client(
        csock,
        &cert,
        fingerprint_of(&call.browser_sdp),
        call.browser_to,
    );
    c.handshake(LIMIT)
        .unwrap_or_else(|e| panic!("{e}\n{}", d.log_text()));
    assert_eq!(webrtc_relays(&mut c, &phone, &call, 5), (5, 5));
    // A stranger's junk in between must not divert the alert.
    let stranger = client_socket();
    spray(
        &mut Junk(7),
        &stranger,
        call.browser_to,
        &client_hello(&certificate()),
    );
    ng_alive(&d);

    d.ok(&delete(&call.id, "browser"));
    assert!(
        c.wait_until(LIMIT, DtlsPeer::closed),
        "close_notify after delete: {:?}\n{}",
        c.events,
        d.log_text()
    );
    assert!(matches!(c.events.last(), Some(Event::Closed)));
}

/// The driver's JSON report, as text; fails the test if the driver did.
fn ice_restart_call(d: &Daemon) -> String {
    let ok = Command::new("python3")
        .args(["-c", "import aioice"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "python3 cannot import aioice: run scripts/install-deps");
    let driver = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/webrtc/ice_restart.py");
    let out = Command::new("python3")
        .arg(driver)
        .arg(d.ng.port().to_string())
        .arg("--call-id=ice-restart")
        // An upper bound only: each phase ends once 10 packets went each way.
        .arg("--seconds=40")
        .output()
        .expect("python3 runs");
    let report = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        out.status.success(),
        "ICE restart ({}): {report}\nstderr: {}\ndaemon log: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        d.log_text()
    );
    report
}

/// `"key": value` of the flat JSON report, as written.
fn field<'a>(report: &'a str, key: &str) -> &'a str {
    let tag = format!("\"{key}\": ");
    let at = report.find(&tag).unwrap_or_else(|| panic!("no {key}")) + tag.len();
    let rest = &report[at..];
    let end = if rest.starts_with('[') {
        rest.find(']').unwrap() + 1
    } else {
        rest.find([',', '}']).unwrap()
    };
    &rest[..end]
}

#[test]
fn an_ice_restart_on_reinvite_renews_our_credentials_and_moves_media() {
    let d = Daemon::start(41400, 41449, &[]);
    let r = ice_restart_call(&d);
    for phase in ["first_down", "first_up", "second_down", "second_up"] {
        let n: u32 = field(&r, phase).parse().unwrap();
        assert!(n >= 10, "{phase}: {r}");
    }
    // 10.5's rule (a party restarting ICE in an offer gets new credentials
    // of ours), which RFC 8445 section 9 also asks of the answerer.
    assert_ne!(field(&r, "ours_ufrag_1"), field(&r, "ours_ufrag_2"), "{r}");
    assert_ne!(field(&r, "ours_pwd_1"), field(&r, "ours_pwd_2"), "{r}");
    assert_eq!(field(&r, "old_agent_after_restart"), "0", "{r}");
    // The browser's SDP says 0.0.0.0:9 both times: only ICE can have moved
    // media to the new agent's port.
    let ports = field(&r, "browser_ports");
    let new_port = ports.trim_matches(['[', ']']).split(", ").nth(1).unwrap();
    let log = d.log_text();
    let selected = format!("peer=127.0.0.1:{new_port} nominated=true");
    assert!(log.contains(&selected), "{selected} not in {log}");
}

/// A browser SDP as Chrome trickles it (`c=IN IP4 0.0.0.0`, port 9: only ICE
/// says where it is), with one host candidate on `port`.
fn trickling_browser_sdp(cert: &Certificate, version: u32, ice: (&str, &str), port: u16) -> String {
    let (ufrag, pwd) = ice;
    format!(
        "v=0\r\no=- 1 {version} IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nc=IN IP4 0.0.0.0\r\n\
         m=audio 9 UDP/TLS/RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\n\
         a=ice-ufrag:{ufrag}\r\na=ice-pwd:{pwd}\r\n\
         a=candidate:1 1 udp 2130706431 127.0.0.1 {port} typ host\r\n\
         a=setup:active\r\na=fingerprint:{}\r\na=rtcp-mux\r\na=sendrecv\r\n",
        fingerprint_line(cert)
    )
}

/// The value of the first `a=NAME:` line.
fn sdp_attr(sdp: &str, name: &str) -> String {
    let prefix = format!("a={name}:");
    sdp.lines()
        .find_map(|l| l.strip_prefix(prefix.as_str()))
        .unwrap_or_else(|| panic!("no {prefix} in {sdp}"))
        .to_owned()
}

/// Offer from the trickling browser, answer from the phone; the browser's
/// ICE nominates the pair from its socket, and the daemon selects it.
fn ice_round(
    d: &Daemon,
    c: &mut DtlsPeer,
    cert: &Certificate,
    version: u32,
    ice: (&str, &str),
    phone_port: u16,
) -> WebrtcCall {
    let body = trickling_browser_sdp(cert, version, ice, c.port());
    let o = d.ok(&offer("ice-dtls", "browser", &body)
        .with("transport-protocol", "RTP/AVP")
        .with("ICE", "remove")
        .with("rtcp-mux", list(&["demux"])));
    let a = d.ok(&answer(
        "ice-dtls",
        "browser",
        "phone",
        &sdp("127.0.0.1", phone_port),
    ));
    let browser_sdp = text(a.get("sdp"));
    let (ufrag, pwd) = (
        sdp_attr(&browser_sdp, "ice-ufrag"),
        sdp_attr(&browser_sdp, "ice-pwd"),
    );
    c.ice_pwd = Some(ice.1.to_owned());
    c.to = media_target(&a);
    let selected = format!("peer=127.0.0.1:{} nominated=true", c.port());
    let end = Instant::now() + LIMIT;
    while !d.log_text().contains(&selected) {
        assert!(
            Instant::now() < end,
            "ICE did not select {selected}: {}",
            d.log_text()
        );
        // Until the daemon selects the pair: our check (again), its checks answered.
        c.nominate(&ufrag, &pwd, ice.0);
        for _ in 0..5 {
            c.step();
        }
    }
    WebrtcCall {
        id: "ice-dtls".into(),
        browser_to: media_target(&a),
        phone_to: media_target(&o),
        browser_sdp,
    }
}

#[test]
fn an_ice_restart_with_the_same_certificate_keeps_the_association_on_the_new_pair() {
    let d = Daemon::start(41350, 41399, &[]);
    let cert = certificate();
    let phone = phone("127.0.0.1");
    // The daemon has one certificate: a first call tells its fingerprint.
    let first = client_socket();
    let probe = webrtc_call(&d, "probe", port(&first), &cert, port(&phone), 1);
    d.ok(&delete("probe", "browser"));
    let daemon_fp = fingerprint_of(&probe.browser_sdp);
    let mut c = DtlsPeer::client(first, &cert, daemon_fp, probe.browser_to);

    let ice1 = ("brw1", "browserpasswordnumberone1");
    let call = ice_round(&d, &mut c, &cert, 1, ice1, port(&phone));
    c.handshake(LIMIT)
        .unwrap_or_else(|e| panic!("{e}\n{}", d.log_text()));
    assert_eq!(
        webrtc_relays(&mut c, &phone, &call, 5),
        (5, 5),
        "{}",
        d.log_text()
    );

    // ICE restart from a new socket, same certificate: no new handshake,
    // the keys go on protecting media over the new pair.
    let ours1 = sdp_attr(&call.browser_sdp, "ice-ufrag");
    c.move_to(client_socket());
    let ice2 = ("brw2", "browserpasswordnumbertwo22");
    let again = ice_round(&d, &mut c, &cert, 2, ice2, port(&phone));
    assert_ne!(
        sdp_attr(&again.browser_sdp, "ice-ufrag"),
        ours1,
        "renewed as 10.5 does"
    );
    assert_eq!(
        webrtc_relays(&mut c, &phone, &again, 5),
        (5, 5),
        "{}",
        d.log_text()
    );
    let log = d.log_text();
    assert_eq!(log.matches("DTLS-SRTP handshake done").count(), 1, "{log}");
    assert!(!c.closed() && c.failed().is_none(), "{:?}", c.events);

    // The association's close_notify goes over the new pair.
    d.ok(&delete("ice-dtls", "browser"));
    assert!(
        c.wait_until(LIMIT, DtlsPeer::closed),
        "close_notify on the new pair: {:?}\n{}",
        c.events,
        d.log_text()
    );
}
