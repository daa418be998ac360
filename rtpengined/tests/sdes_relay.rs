//! A loopback call RTP/AVP (alice) <-> RTP/SAVP (bob) through the daemon.
//! Bob checks every packet with his own SRTP (AES_CM_128_HMAC_SHA1_80 built
//! here from the AES and HMAC-SHA1 primitives, RFC 3711 §4), byte for byte;
//! tampered or wrongly keyed SRTP from bob is dropped and counted.

mod common;
use common::*;

use aes::cipher::{BlockEncrypt, KeyInit};
use aes::Aes128;
use hmac::{Hmac, Mac};
use rtpengined::ng::bencode::Owned;
use rtpengined::sdp::crypto::{base64_decode, base64_encode};
use sha1::Sha1;

/// RFC 4568 §6.3 session parameters of one `a=crypto` line.
#[derive(Clone, Copy, Default, Debug)]
struct Session {
    unencrypted_srtp: bool,
    unencrypted_srtcp: bool,
    unauthenticated_srtp: bool,
}

impl Session {
    fn of(name: &str) -> Session {
        Session {
            unencrypted_srtp: name == "UNENCRYPTED_SRTP",
            unencrypted_srtcp: name == "UNENCRYPTED_SRTCP",
            unauthenticated_srtp: name == "UNAUTHENTICATED_SRTP",
        }
    }
}

/// RFC 3711 session keys for one master key/salt (key derivation rate 0), SRTP
/// (labels 0-2) and SRTCP (labels 3-5), with the session parameters of a line.
struct Srtp {
    key: [u8; 16],
    auth: [u8; 20],
    salt: [u8; 14],
    rtcp_key: [u8; 16],
    rtcp_auth: [u8; 20],
    rtcp_salt: [u8; 14],
    session: Session,
}

fn aes_cm_keystream(key: &[u8; 16], iv: [u8; 16], len: usize) -> Vec<u8> {
    let aes = Aes128::new(key.into());
    let mut out = Vec::with_capacity(len + 16);
    let mut counter = 0u16;
    while out.len() < len {
        let mut block = iv;
        let c = u16::from_be_bytes([iv[14], iv[15]]).wrapping_add(counter);
        block[14..16].copy_from_slice(&c.to_be_bytes());
        let mut b = block.into();
        aes.encrypt_block(&mut b);
        out.extend_from_slice(&b);
        counter += 1;
    }
    out.truncate(len);
    out
}

fn hmac_sha1_80(key: &[u8; 20], parts: &[&[u8]]) -> [u8; 10] {
    let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(key).unwrap();
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes()[..10].try_into().unwrap()
}

/// XORs `data` with the AES-CM keystream of RFC 3711 §4.1.1 for `ssrc` and `index`.
fn aes_cm(key: &[u8; 16], salt: &[u8; 14], ssrc: &[u8], index: u64, data: &mut [u8]) {
    let mut iv = [0u8; 16];
    iv[..14].copy_from_slice(salt);
    for i in 0..4 {
        iv[4 + i] ^= ssrc[i];
    }
    for (b, x) in iv[8..14].iter_mut().zip(&index.to_be_bytes()[2..]) {
        *b ^= x;
    }
    let keystream = aes_cm_keystream(key, iv, data.len());
    for (b, k) in data.iter_mut().zip(keystream) {
        *b ^= k;
    }
}

impl Srtp {
    fn new(master: &[u8]) -> Srtp {
        Srtp::with(master, Session::default())
    }

    fn with(master: &[u8], session: Session) -> Srtp {
        let (mkey, msalt) = master.split_at(16);
        let mkey: [u8; 16] = mkey.try_into().unwrap();
        let derive = |label: u8, len: usize| {
            let mut iv = [0u8; 16];
            iv[..14].copy_from_slice(msalt);
            iv[7] ^= label;
            aes_cm_keystream(&mkey, iv, len)
        };
        Srtp {
            key: derive(0, 16).try_into().unwrap(),
            auth: derive(1, 20).try_into().unwrap(),
            salt: derive(2, 14).try_into().unwrap(),
            rtcp_key: derive(3, 16).try_into().unwrap(),
            rtcp_auth: derive(4, 20).try_into().unwrap(),
            rtcp_salt: derive(5, 14).try_into().unwrap(),
            session,
        }
    }

    fn tag(&self, authenticated: &[u8], roc: u32) -> [u8; 10] {
        hmac_sha1_80(&self.auth, &[authenticated, &roc.to_be_bytes()])
    }

    /// XORs the payload of a 12-byte-header RTP packet with the keystream (ROC 0:
    /// the index is the sequence number), unless UNENCRYPTED_SRTP.
    fn crypt(&self, packet: &mut [u8]) {
        if self.session.unencrypted_srtp {
            return;
        }
        let index = u64::from(u16::from_be_bytes([packet[2], packet[3]]));
        let ssrc: [u8; 4] = packet[8..12].try_into().unwrap();
        aes_cm(&self.key, &self.salt, &ssrc, index, &mut packet[12..]);
    }

    fn protect(&self, plain: &[u8]) -> Vec<u8> {
        let mut p = plain.to_vec();
        self.crypt(&mut p);
        if !self.session.unauthenticated_srtp {
            let tag = self.tag(&p, 0);
            p.extend_from_slice(&tag);
        }
        p
    }

    fn unprotect(&self, srtp: &[u8]) -> Option<Vec<u8>> {
        let body = if self.session.unauthenticated_srtp {
            srtp
        } else {
            let (body, tag) = srtp.split_at(srtp.len().checked_sub(10)?);
            if self.tag(body, 0) != tag {
                return None;
            }
            body
        };
        let mut p = body.to_vec();
        self.crypt(&mut p);
        Some(p)
    }

    /// RFC 3711 §3.4 SRTCP with SRTCP index `index`: payload encrypted and E set
    /// and E set when `encrypt`; always the 80-bit tag.
    fn protect_rtcp_e(&self, plain: &[u8], index: u32, encrypt: bool) -> Vec<u8> {
        let mut p = plain.to_vec();
        if encrypt {
            let ssrc: [u8; 4] = p[4..8].try_into().unwrap();
            aes_cm(
                &self.rtcp_key,
                &self.rtcp_salt,
                &ssrc,
                u64::from(index),
                &mut p[8..],
            );
        }
        p.extend_from_slice(&(u32::from(encrypt) << 31 | index).to_be_bytes());
        let tag = hmac_sha1_80(&self.rtcp_auth, &[&p]);
        p.extend_from_slice(&tag);
        p
    }

    /// As the line's session parameters say: E = 0 with UNENCRYPTED_SRTCP.
    fn protect_rtcp(&self, plain: &[u8], index: u32) -> Vec<u8> {
        self.protect_rtcp_e(plain, index, !self.session.unencrypted_srtcp)
    }
}

/// A 28-byte RTCP sender report from SSRC 42 with a recognisable body.
fn rtcp_sr(tag: u8) -> Vec<u8> {
    let mut p = vec![0x80, 200, 0, 6, 0, 0, 0, 42];
    p.extend_from_slice(&[tag; 20]);
    p
}

fn savp_sdp(port: u16, crypto: &str) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} RTP/SAVP 0\r\na=rtpmap:0 PCMU/8000\r\na=crypto:{crypto}\r\n"
    )
}

fn crypto_line<'a>(sdp: &'a str, suite: &str) -> Option<(&'a str, &'a str)> {
    sdp.lines().find_map(|l| {
        let v = l.strip_prefix("a=crypto:")?;
        let mut w = v.split(' ');
        let tag = w.next()?;
        (w.next()? == suite).then(|| (tag, w.next().unwrap().trim_start_matches("inline:")))
    })
}

#[test]
fn avp_to_savp_call_is_verified_byte_for_byte_and_tampering_dropped() {
    let d = Daemon::start(42200, 42299, &[]);
    let alice = phone("127.0.0.1");
    let bob = phone("127.0.0.1");
    let (a_port, b_port) = (
        alice.local_addr().unwrap().port(),
        bob.local_addr().unwrap().port(),
    );

    let o = d.ok(&offer("sdes-relay", "alice", &sdp("127.0.0.1", a_port))
        .with("transport-protocol", "RTP/SAVP"));
    let to_bob = text(o.get("sdp"));
    assert!(to_bob.contains(" RTP/SAVP 0"), "{to_bob}");
    let (tag, daemon_key) = crypto_line(&to_bob, "AES_CM_128_HMAC_SHA1_80").expect("suite offered");
    let daemon_key = base64_decode(daemon_key).unwrap();
    assert_eq!(daemon_key.len(), 30);
    let from_daemon = Srtp::new(&daemon_key);

    let bob_key: Vec<u8> = (0..30u8)
        .map(|i| i.wrapping_mul(13).wrapping_add(5))
        .collect();
    let to_bob_srtp = Srtp::new(&bob_key);
    let bob_crypto = format!(
        "{tag} AES_CM_128_HMAC_SHA1_80 inline:{}",
        base64_encode(&bob_key)
    );
    let a = d.ok(
        &answer("sdes-relay", "alice", "bob", &savp_sdp(b_port, &bob_crypto))
            .with("transport-protocol", "RTP/AVP"),
    );
    let to_alice = text(a.get("sdp"));
    assert!(
        to_alice.contains(" RTP/AVP 0") && !to_alice.contains("a=crypto"),
        "{to_alice}"
    );
    let (alice_sends_to, bob_sends_to) = (media_target(&a), media_target(&o));

    for seq in 1..=20u16 {
        // alice -> bob: plain in, SRTP out, exactly what bob's own SRTP makes of it.
        let plain = rtp(seq, seq as u8);
        alice.send_to(&plain, alice_sends_to).unwrap();
        let (got, _) = recv(&bob).expect("bob gets SRTP");
        assert_eq!(got, from_daemon.protect(&plain), "seq {seq}: SRTP bytes");
        assert_eq!(from_daemon.unprotect(&got).as_deref(), Some(&plain[..]));
        // bob -> alice: SRTP in, the plain packet out.
        let plain_b = rtp(seq, 0x80 | seq as u8);
        bob.send_to(&to_bob_srtp.protect(&plain_b), bob_sends_to)
            .unwrap();
        let (got, _) = recv(&alice).expect("alice gets RTP");
        assert_eq!(got, plain_b, "seq {seq}: decrypted");
    }

    // Tampered payload, tampered tag, wrong key, replay: all dropped.
    let mut bad = to_bob_srtp.protect(&rtp(100, 1));
    bad[20] ^= 0x40;
    let mut bad_tag = to_bob_srtp.protect(&rtp(101, 1));
    *bad_tag.last_mut().unwrap() ^= 1;
    let wrong_key = Srtp::new(&[7u8; 30]).protect(&rtp(102, 1));
    let replay = to_bob_srtp.protect(&rtp(20, 0x80 | 20));
    for p in [&bad, &bad_tag, &wrong_key, &replay] {
        bob.send_to(p, bob_sends_to).unwrap();
        assert!(recv(&alice).is_none(), "forwarded a bad SRTP packet");
    }
    // Still working afterwards.
    let plain_b = rtp(103, 9);
    bob.send_to(&to_bob_srtp.protect(&plain_b), bob_sends_to)
        .unwrap();
    assert_eq!(recv(&alice).expect("after drops").0, plain_b);

    // re-INVITE: rtpengine 10.5 offers the suite bob took with the same key
    // and tag again (measured), fresh keys for the others; bob rekeys.
    let o2 = d.ok(&offer("sdes-relay", "alice", &sdp("127.0.0.1", a_port))
        .with("transport-protocol", "RTP/SAVP"));
    let to_bob2 = text(o2.get("sdp"));
    let (tag2, key2) = crypto_line(&to_bob2, "AES_CM_128_HMAC_SHA1_80").expect("suite re-offered");
    let key2 = base64_decode(key2).unwrap();
    assert_eq!((tag2, &key2), (tag, &daemon_key), "re-offer keeps the key");
    let (_, other2) = crypto_line(&to_bob2, "AES_CM_128_HMAC_SHA1_32").expect("other suite");
    let (_, other1) = crypto_line(&to_bob, "AES_CM_128_HMAC_SHA1_32").expect("other suite");
    assert_ne!(other2, other1, "fresh keys for the suites bob did not take");
    let from_daemon2 = Srtp::new(&key2);
    let bob_key2 = [0x33u8; 30];
    let to_bob_srtp2 = Srtp::new(&bob_key2);
    let bob_crypto2 = format!(
        "{tag2} AES_CM_128_HMAC_SHA1_80 inline:{}",
        base64_encode(&bob_key2)
    );
    d.ok(&answer(
        "sdes-relay",
        "alice",
        "bob",
        &savp_sdp(b_port, &bob_crypto2),
    )
    .with("transport-protocol", "RTP/AVP"));
    for seq in 200..=205u16 {
        let plain = rtp(seq, 3);
        alice.send_to(&plain, alice_sends_to).unwrap();
        assert_eq!(
            recv(&bob).expect("bob after re-INVITE").0,
            from_daemon2.protect(&plain)
        );
        let plain_b = rtp(seq, 4);
        bob.send_to(&to_bob_srtp2.protect(&plain_b), bob_sends_to)
            .unwrap();
        assert_eq!(recv(&alice).expect("alice after re-INVITE").0, plain_b);
    }
    // The old key is no longer accepted.
    bob.send_to(&to_bob_srtp.protect(&rtp(206, 4)), bob_sends_to)
        .unwrap();
    assert!(recv(&alice).is_none(), "old key accepted after rekeying");

    let q = d.ok(&query("sdes-relay"));
    let bob_streams = stream_list(&q, "bob");
    let rtp_stream = &bob_streams[0];
    assert_eq!(
        text(rtp_stream.get("crypto suite")),
        "AES_CM_128_HMAC_SHA1_80"
    );
    let errors = int(rtp_stream.get("stats").and_then(|s| s.get("errors")));
    assert_eq!(errors, 5, "dropped SRTP counted: {q}");
    assert!(stream_list(&q, "alice")[0].get("crypto suite").is_none());
}

#[test]
fn savp_offerer_bridged_to_avp_answerer() {
    let d = Daemon::start(42330, 42369, &[]);
    let (bob, alice) = (phone("127.0.0.1"), phone("127.0.0.1"));
    let (b_port, a_port) = (
        bob.local_addr().unwrap().port(),
        alice.local_addr().unwrap().port(),
    );
    let bob_key: Vec<u8> = (100..130u8).collect();
    let bob_srtp = Srtp::new(&bob_key);
    let bob_crypto = format!(
        "5 AES_CM_128_HMAC_SHA1_80 inline:{}",
        base64_encode(&bob_key)
    );
    let o = d.ok(&offer("sdes-rev", "bob", &savp_sdp(b_port, &bob_crypto))
        .with("transport-protocol", "RTP/AVP"));
    let to_alice = text(o.get("sdp"));
    assert!(
        to_alice.contains(" RTP/AVP 0") && !to_alice.contains("a=crypto"),
        "{to_alice}"
    );
    let a = d.ok(
        &answer("sdes-rev", "bob", "alice", &sdp("127.0.0.1", a_port))
            .with("transport-protocol", "RTP/SAVP"),
    );
    let to_bob = text(a.get("sdp"));
    let (tag, key) = crypto_line(&to_bob, "AES_CM_128_HMAC_SHA1_80").expect("answer crypto");
    assert_eq!(tag, "5", "answer keeps the offerer's tag: {to_bob}");
    let daemon_srtp = Srtp::new(&base64_decode(key).unwrap());
    let (bob_sends_to, alice_sends_to) = (media_target(&a), media_target(&o));
    for seq in 1..=10u16 {
        let plain = rtp(seq, 1);
        bob.send_to(&bob_srtp.protect(&plain), bob_sends_to)
            .unwrap();
        assert_eq!(recv(&alice).expect("alice gets RTP").0, plain);
        let plain_a = rtp(seq, 2);
        alice.send_to(&plain_a, alice_sends_to).unwrap();
        assert_eq!(
            recv(&bob).expect("bob gets SRTP").0,
            daemon_srtp.protect(&plain_a)
        );
    }
}

#[test]
fn savp_to_savp_with_copied_keys_relays_identical_srtp() {
    // 10.5 passes the offerer's key on to the answerer and the answerer's
    // back: decrypting and re-encrypting then reproduces the same bytes.
    let d = Daemon::start(42370, 42399, &[]);
    let (alice, bob) = (phone("127.0.0.1"), phone("127.0.0.1"));
    let (a_port, b_port) = (
        alice.local_addr().unwrap().port(),
        bob.local_addr().unwrap().port(),
    );
    let a_key = [0x11u8; 30];
    let b_key = [0x22u8; 30];
    let a_line = format!("1 AES_CM_128_HMAC_SHA1_80 inline:{}", base64_encode(&a_key));
    let o = d.ok(&offer("sdes-pass", "alice", &savp_sdp(a_port, &a_line)));
    let to_bob = text(o.get("sdp"));
    let (tag, key) = crypto_line(&to_bob, "AES_CM_128_HMAC_SHA1_80").unwrap();
    assert_eq!(
        (tag, base64_decode(key).unwrap()),
        ("1", a_key.to_vec()),
        "{to_bob}"
    );
    let b_line = format!("1 AES_CM_128_HMAC_SHA1_80 inline:{}", base64_encode(&b_key));
    let a = d.ok(&answer(
        "sdes-pass",
        "alice",
        "bob",
        &savp_sdp(b_port, &b_line),
    ));
    let (a_srtp, b_srtp) = (Srtp::new(&a_key), Srtp::new(&b_key));
    for seq in 1..=5u16 {
        let from_a = a_srtp.protect(&rtp(seq, 5));
        alice.send_to(&from_a, media_target(&a)).unwrap();
        assert_eq!(recv(&bob).expect("bob").0, from_a);
        let from_b = b_srtp.protect(&rtp(seq, 6));
        bob.send_to(&from_b, media_target(&o)).unwrap();
        assert_eq!(recv(&alice).expect("alice").0, from_b);
    }
}

#[test]
fn unknown_sdes_items_are_ignored_like_10_5() {
    // Measured: rtpengine 10.5 answers ok (all 12 suites) and logs a warning.
    let d = Daemon::start(42300, 42320, &[]);
    let r = d.ok(&offer("sdes-bad", "alice", &sdp("127.0.0.1", 5000))
        .with("transport-protocol", "RTP/SAVP")
        .with(
            "SDES",
            list(&["no-AES_CM_999_BOGUS", "whatever", "no-NULL_HMAC_SHA1_32"]),
        ));
    let body = text(r.get("sdp"));
    assert_eq!(body.matches("a=crypto:").count(), 11, "{body}");
    assert!(!body.contains("NULL_HMAC_SHA1_32"));
    assert!(d.log_text().contains("whatever"), "ignored item logged");
}

#[test]
fn endpoint_srtcp_matches_libsrtp_reference() {
    // The endpoint's own SRTCP against libsrtp's AES_CM_128_HMAC_SHA1_80 packet (the
    // same vector xt_rtpengine/core tests), so the byte comparisons below mean something.
    let hex = |h: &str| -> Vec<u8> {
        let h: String = h.split_whitespace().collect();
        (0..h.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
            .collect()
    };
    let master = hex("e1f97a0d3e018be0d64fa32c06de4139 0ec675ad498afeebb6960b3aabe6");
    let plain = hex("81c8000bcafebabe abababababababababababababababab");
    let got = Srtp::new(&master).protect_rtcp(&plain, 1);
    let want =
        hex("81c8000bcafebabe 7128035be487b9bdbef89041f977a5a8 80000001 993e08cd54d6c1230798");
    assert_eq!(got, want);
}

/// `m=audio` with rtcp-mux, so SRTP and SRTCP share the port.
fn mux_sdp(port: u16, proto: &str, crypto: Option<&str>) -> String {
    let crypto = crypto
        .map(|c| format!("a=crypto:{c}\r\n"))
        .unwrap_or_default();
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {port} {proto} 0\r\na=rtpmap:0 PCMU/8000\r\na=rtcp-mux\r\n{crypto}"
    )
}

/// Tag, key and session parameters of the `suite` line of an SDP.
fn crypto_line_params<'a>(sdp: &'a str, suite: &str) -> Option<(&'a str, &'a str, Vec<&'a str>)> {
    sdp.lines().find_map(|l| {
        let mut w = l.strip_prefix("a=crypto:")?.split(' ');
        let tag = w.next()?;
        (w.next()? == suite).then_some(())?;
        let key = w.next()?.trim_start_matches("inline:");
        Some((tag, key, w.collect()))
    })
}

/// One session parameter on one or both `a=crypto` lines of an AVP (alice) <->
/// SAVP (bob) call with rtcp-mux: `ours` puts it (SDES flag) on the line the
/// daemon offers bob, `bobs` on bob's answer. Every packet each way is checked
/// byte for byte against bob's own SRTP/SRTCP with the governing line's parameters.
fn session_parameter_call(d: &Daemon, param: &str, ours: bool, bobs: bool) {
    let call = format!("sdes-param-{param}-{ours}-{bobs}");
    let what = format!("{param} on daemon's line: {ours}, on bob's: {bobs}");
    let (alice, bob) = (phone("127.0.0.1"), phone("127.0.0.1"));
    let (a_port, b_port) = (
        alice.local_addr().unwrap().port(),
        bob.local_addr().unwrap().port(),
    );
    let flag = param.to_ascii_lowercase();
    let mut o = offer(&call, "alice", &mux_sdp(a_port, "RTP/AVP", None))
        .with("transport-protocol", "RTP/SAVP");
    if ours {
        o = o.with("SDES", list(&[&flag]));
    }
    let o = d.ok(&o);
    let to_bob = text(o.get("sdp"));
    assert!(to_bob.contains("a=rtcp-mux"), "{to_bob}");
    let (tag, key, params) =
        crypto_line_params(&to_bob, "AES_CM_128_HMAC_SHA1_80").expect("suite offered");
    assert_eq!(
        params,
        if ours { vec![param] } else { vec![] },
        "{what}: printed parameters"
    );
    let ours_session = if ours {
        Session::of(param)
    } else {
        Session::default()
    };
    let bobs_session = if bobs {
        Session::of(param)
    } else {
        Session::default()
    };
    let from_daemon = Srtp::with(&base64_decode(key).unwrap(), ours_session);
    let bob_key: Vec<u8> = (0..30u8)
        .map(|i| i.wrapping_mul(29).wrapping_add(ours as u8 * 2 + bobs as u8))
        .collect();
    let bob_srtp = Srtp::with(&bob_key, bobs_session);
    let bob_line = format!(
        "{tag} AES_CM_128_HMAC_SHA1_80 inline:{}{}",
        base64_encode(&bob_key),
        if bobs {
            format!(" {param}")
        } else {
            String::new()
        }
    );
    let a = d.ok(&answer(
        &call,
        "alice",
        "bob",
        &mux_sdp(b_port, "RTP/SAVP", Some(&bob_line)),
    )
    .with("transport-protocol", "RTP/AVP"));
    let to_alice = text(a.get("sdp"));
    assert!(
        to_alice.contains("a=rtcp-mux") && !to_alice.contains("a=crypto"),
        "{to_alice}"
    );
    let (alice_sends_to, bob_sends_to) = (media_target(&a), media_target(&o));

    for i in 0..6u16 {
        let seq = i + 1;
        // SRTP daemon -> bob, with the daemon's line's parameters.
        let plain = rtp(seq, seq as u8);
        alice.send_to(&plain, alice_sends_to).unwrap();
        let (got, _) = recv(&bob).unwrap_or_else(|| panic!("{what}: bob gets SRTP {seq}"));
        assert_eq!(got, from_daemon.protect(&plain), "{what}: SRTP {seq} bytes");
        let tag_len = if ours_session.unauthenticated_srtp {
            0
        } else {
            10
        };
        assert_eq!(got.len(), plain.len() + tag_len, "{what}: SRTP tag");
        assert_eq!(
            got[12..plain.len()] == plain[12..],
            ours_session.unencrypted_srtp,
            "{what}: SRTP payload clear"
        );
        // SRTP bob -> daemon, with bob's line's parameters.
        let plain_b = rtp(seq, 0x80 | seq as u8);
        bob.send_to(&bob_srtp.protect(&plain_b), bob_sends_to)
            .unwrap();
        let (got, _) = recv(&alice).unwrap_or_else(|| panic!("{what}: alice gets RTP {seq}"));
        assert_eq!(got, plain_b, "{what}: SRTP {seq} decrypted");

        // SRTCP daemon -> bob: index counts from 0, E = 0 only with UNENCRYPTED_SRTCP.
        let sr = rtcp_sr(i as u8);
        alice.send_to(&sr, alice_sends_to).unwrap();
        let (got, _) = recv(&bob).unwrap_or_else(|| panic!("{what}: bob gets SRTCP {i}"));
        assert_eq!(
            got,
            from_daemon.protect_rtcp(&sr, u32::from(i)),
            "{what}: SRTCP {i} bytes"
        );
        let e = u32::from_be_bytes(got[sr.len()..sr.len() + 4].try_into().unwrap()) >> 31;
        assert_eq!(e == 0, ours_session.unencrypted_srtcp, "{what}: E flag");
        assert_eq!(
            got[8..sr.len()] == sr[8..],
            ours_session.unencrypted_srtcp,
            "{what}: SRTCP payload clear"
        );
        // SRTCP bob -> daemon: as his line says, and with the other E flag too
        // (10.5 decrypts by the E flag, whatever was negotiated).
        for (index, encrypt) in [
            (2 * i, !bobs_session.unencrypted_srtcp),
            (2 * i + 1, bobs_session.unencrypted_srtcp),
        ] {
            let sr_b = rtcp_sr(0x80 | index as u8);
            bob.send_to(
                &bob_srtp.protect_rtcp_e(&sr_b, u32::from(index), encrypt),
                bob_sends_to,
            )
            .unwrap();
            let (got, _) = recv(&alice)
                .unwrap_or_else(|| panic!("{what}: alice gets RTCP {index} (E={encrypt})"));
            assert_eq!(got, sr_b, "{what}: SRTCP {index} (E={encrypt}) unprotected");
        }
    }

    // SRTCP stays authenticated with E = 0, whatever the parameters; so does SRTP
    // unless bob's line says UNAUTHENTICATED_SRTP.
    let mut bad_rtcp = bob_srtp.protect_rtcp_e(&rtcp_sr(1), 100, false);
    bad_rtcp[12] ^= 1;
    let mut bad_rtp = bob_srtp.protect(&rtp(100, 1));
    bad_rtp[20] ^= 1;
    bob.send_to(&bad_rtcp, bob_sends_to).unwrap();
    assert!(
        recv(&alice).is_none(),
        "{what}: tampered clear SRTCP forwarded"
    );
    bob.send_to(&bad_rtp, bob_sends_to).unwrap();
    let got = recv(&alice).map(|(p, _)| p);
    if bobs_session.unauthenticated_srtp {
        let mut want = rtp(100, 1);
        want[20] ^= 1;
        assert_eq!(
            got,
            Some(want),
            "{what}: unauthenticated SRTP is taken as it comes"
        );
    } else {
        assert_eq!(got, None, "{what}: tampered SRTP forwarded");
    }
    d.ok(&delete(&call, "alice"));
}

#[test]
fn session_parameters_apply_per_direction_to_srtp_and_srtcp() {
    let d = Daemon::start(44000, 44099, &[]);
    for param in [
        "UNENCRYPTED_SRTP",
        "UNENCRYPTED_SRTCP",
        "UNAUTHENTICATED_SRTP",
    ] {
        for (ours, bobs) in [(true, true), (true, false), (false, true)] {
            session_parameter_call(&d, param, ours, bobs);
        }
    }
}

fn stream_list(q: &Owned, tag: &str) -> Vec<Owned> {
    let medias = q
        .get("tags")
        .and_then(|t| t.get(tag))
        .and_then(|t| t.get("medias"));
    let Some(Owned::List(medias)) = medias else {
        panic!("no medias for {tag}: {q}")
    };
    match medias[0].get("streams") {
        Some(Owned::List(s)) => s.clone(),
        other => panic!("no streams: {other:?}"),
    }
}

/// A recorded SRTP call: the capture holds what bob sent decrypted (10.5
/// records plain RTP where it has the keys), and alice's plain RTP as sent.
#[test]
fn a_recorded_srtp_call_is_captured_decrypted() {
    let dir = std::env::temp_dir().join(format!("rtpengined-rec-srtp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let dir_arg = format!("--recording-dir={}", dir.display());
    let d = Daemon::start(45700, 45749, &[&dir_arg]);
    let (bob, alice) = (phone("127.0.0.1"), phone("127.0.0.1"));
    let (b_port, a_port) = (
        bob.local_addr().unwrap().port(),
        alice.local_addr().unwrap().port(),
    );
    let bob_key: Vec<u8> = (100..130u8).collect();
    let bob_srtp = Srtp::new(&bob_key);
    let bob_crypto = format!(
        "5 AES_CM_128_HMAC_SHA1_80 inline:{}",
        base64_encode(&bob_key)
    );
    let o = d.ok(&offer("sdes-rec", "bob", &savp_sdp(b_port, &bob_crypto))
        .with("transport-protocol", "RTP/AVP")
        .with("flags", list(&["record-call"])));
    let a = d.ok(
        &answer("sdes-rec", "bob", "alice", &sdp("127.0.0.1", a_port))
            .with("transport-protocol", "RTP/SAVP"),
    );
    let (bob_sends_to, alice_sends_to) = (media_target(&a), media_target(&o));
    let mut want = Vec::new();
    for seq in 1..=3u16 {
        let plain = rtp(seq, 1);
        bob.send_to(&bob_srtp.protect(&plain), bob_sends_to)
            .unwrap();
        assert_eq!(recv(&alice).expect("alice gets RTP").0, plain);
        want.push(plain);
        let plain_a = rtp(seq, 2);
        alice.send_to(&plain_a, alice_sends_to).unwrap();
        recv(&bob).expect("bob gets SRTP");
        want.push(plain_a);
    }
    let pcap = match o.get("recordings") {
        Some(Owned::List(items)) => text(items.first()),
        other => panic!("no recordings: {other:?}"),
    };
    d.ok(&delete("sdes-rec", "bob"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while std::fs::read_dir(dir.join("metadata")).map_or(0, |r| r.count()) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "recording not finished"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let data = std::fs::read(&pcap).unwrap();
    let mut got = Vec::new();
    let mut at = 24;
    while at < data.len() {
        let caplen = u32::from_le_bytes(data[at + 8..at + 12].try_into().unwrap()) as usize;
        // Raw IPv4 (20 bytes) and UDP (8) before the packet.
        got.push(data[at + 16 + 28..at + 16 + caplen].to_vec());
        at += 16 + caplen;
    }
    assert_eq!(got, want);
    let _ = std::fs::remove_dir_all(&dir);
}
