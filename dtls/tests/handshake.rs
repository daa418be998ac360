//! Two endpoints handshaking in memory: keys, fingerprints, garbage, loss,
//! close.

use rtpengine_dtls::{
    CertCipher, CertParams, Certificate, Config, Dtls, Event, FailReason, HashFunc, Role,
    SrtpProfile,
};
use std::time::{Duration, Instant, SystemTime};

fn cert(cipher: CertCipher) -> Certificate {
    let params = CertParams {
        cipher,
        ..CertParams::default()
    };
    Certificate::generate(&params, SystemTime::now()).unwrap()
}

fn pair(config_client: &Config, config_server: &Config) -> (Dtls, Dtls) {
    let (cc, sc) = (cert(CertCipher::Prime256v1), cert(CertCipher::Prime256v1));
    let now = Instant::now();
    let client = Dtls::new(
        Role::Client,
        &cc,
        sc.fingerprint(HashFunc::Sha256),
        config_client,
        now,
    )
    .unwrap();
    let server = Dtls::new(
        Role::Server,
        &sc,
        cc.fingerprint(HashFunc::Sha256),
        config_server,
        now,
    )
    .unwrap();
    (client, server)
}

/// Moves datagrams both ways until neither side has anything to send.
fn pump(a: &mut Dtls, b: &mut Dtls) -> usize {
    let mut moved = 0;
    for _ in 0..100 {
        let mut any = false;
        while let Some(d) = a.poll_transmit() {
            b.handle_datagram(Instant::now(), &d);
            any = true;
            moved += 1;
        }
        while let Some(d) = b.poll_transmit() {
            a.handle_datagram(Instant::now(), &d);
            any = true;
            moved += 1;
        }
        if !any {
            break;
        }
    }
    moved
}

fn connected(e: Option<Event>) -> (SrtpProfile, Vec<u8>, Vec<u8>) {
    match e {
        Some(Event::Connected {
            profile,
            local_key_salt,
            remote_key_salt,
        }) => (profile, local_key_salt, remote_key_salt),
        other => panic!("expected Connected, got {other:?}"),
    }
}

#[test]
fn handshake_exports_crosswise_equal_keys_for_every_profile() {
    for profile in SrtpProfile::OFFERED {
        let only = Config {
            profiles: vec![profile],
            ..Config::default()
        };
        // Each profile once with the restricted side as client, once as server.
        for (cc, sc) in [(&only, &Config::default()), (&Config::default(), &only)] {
            let (mut client, mut server) = pair(cc, sc);
            pump(&mut client, &mut server);
            let (cp, c_local, c_remote) = connected(client.poll_event());
            let (sp, s_local, s_remote) = connected(server.poll_event());
            assert_eq!((cp, sp), (profile, profile));
            let len = profile.key_len() + profile.salt_len();
            assert_eq!(c_local.len(), len);
            assert_eq!(
                c_local, s_remote,
                "{profile:?}: client key = server's remote"
            );
            assert_eq!(
                s_local, c_remote,
                "{profile:?}: server key = client's remote"
            );
            assert_ne!(c_local, s_local);
            assert!(client.is_connected() && server.is_connected());
            assert_eq!(client.poll_timeout(), None);
        }
    }
}

#[test]
fn default_offer_picks_aead_256_first() {
    let (mut client, mut server) = pair(&Config::default(), &Config::default());
    pump(&mut client, &mut server);
    assert_eq!(connected(client.poll_event()).0, SrtpProfile::AeadAes256Gcm);
    assert_eq!(connected(server.poll_event()).0, SrtpProfile::AeadAes256Gcm);
}

#[test]
fn rsa_certificate_small_mtu_and_sha1_fingerprint_handshake() {
    let params = CertParams {
        cipher: CertCipher::Rsa,
        ..CertParams::default()
    };
    let rsa = Certificate::generate(&params, SystemTime::now()).unwrap();
    let ec = cert(CertCipher::Prime256v1);
    let now = Instant::now();
    // The smallest MTU 10.5 accepts: the RSA certificate flight must be
    // fragmented into datagrams that fit.
    let cfg = Config {
        mtu: 576,
        ..Config::default()
    };
    let mut client = Dtls::new(
        Role::Client,
        &rsa,
        ec.fingerprint(HashFunc::Sha1),
        &cfg,
        now,
    )
    .unwrap();
    let mut server = Dtls::new(
        Role::Server,
        &ec,
        rsa.fingerprint(HashFunc::Sha512),
        &cfg,
        now,
    )
    .unwrap();
    let mut largest = 0;
    for _ in 0..20 {
        let mut any = false;
        while let Some(d) = client.poll_transmit() {
            largest = largest.max(d.len());
            server.handle_datagram(Instant::now(), &d);
            any = true;
        }
        while let Some(d) = server.poll_transmit() {
            largest = largest.max(d.len());
            client.handle_datagram(Instant::now(), &d);
            any = true;
        }
        if !any {
            break;
        }
    }
    assert!(
        rsa.der().len() > 576,
        "the certificate alone exceeds the MTU"
    );
    assert!(largest <= 576, "datagram of {largest} bytes");
    let (_, c_local, _) = connected(client.poll_event());
    let (_, _, s_remote) = connected(server.poll_event());
    assert_eq!(c_local, s_remote);
}

#[test]
fn fingerprint_mismatch_fails_without_keys() {
    let (cc, sc, other) = (
        cert(CertCipher::Prime256v1),
        cert(CertCipher::Prime256v1),
        cert(CertCipher::Prime256v1),
    );
    let now = Instant::now();
    let cfg = Config::default();
    // Each side in turn expects a certificate the peer does not have.
    for client_expects_wrong in [true, false] {
        let (cfp, sfp) = if client_expects_wrong {
            (
                other.fingerprint(HashFunc::Sha256),
                cc.fingerprint(HashFunc::Sha256),
            )
        } else {
            (
                sc.fingerprint(HashFunc::Sha256),
                other.fingerprint(HashFunc::Sha256),
            )
        };
        let mut client = Dtls::new(Role::Client, &cc, cfp, &cfg, now).unwrap();
        let mut server = Dtls::new(Role::Server, &sc, sfp, &cfg, now).unwrap();
        pump(&mut client, &mut server);
        let (checker, peer) = if client_expects_wrong {
            (&mut client, &mut server)
        } else {
            (&mut server, &mut client)
        };
        assert_eq!(
            checker.poll_event(),
            Some(Event::Failed(FailReason::FingerprintMismatch))
        );
        assert_eq!(checker.poll_event(), None);
        assert!(!checker.is_connected());
        // The peer gets the alert (or nothing): never keys.
        while let Some(e) = peer.poll_event() {
            assert!(matches!(e, Event::Failed(_)), "peer got {e:?}");
        }
    }
}

/// Datagrams that look like DTLS by their first byte but are no valid record
/// (a deterministic xorshift stream, so a failure reproduces).
fn garbage() -> Vec<Vec<u8>> {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let mut out: Vec<Vec<u8>> = vec![
        vec![],
        vec![0x00],
        vec![0x80, 0x00, 0x00, 0x01],        // RTP
        vec![22],                            // a content type alone
        vec![22, 0xfe, 0xfd, 0, 0, 0, 0, 0], // a truncated header
        [vec![23, 0xfe, 0xfd], vec![0xff; 200]].concat(),
        (0..=255).collect(),
    ];
    for _ in 0..300 {
        let len = (next() % 300) as usize;
        let mut d: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if let Some(first) = d.first_mut() {
            *first = 20 + (*first % 44);
        }
        out.push(d);
    }
    out
}

#[test]
fn garbage_datagrams_are_ignored_and_the_handshake_still_completes() {
    let (mut client, mut server) = pair(&Config::default(), &Config::default());
    let garbage = garbage();
    for g in &garbage {
        server.handle_datagram(Instant::now(), g);
        client.handle_datagram(Instant::now(), g);
    }
    assert!(!server.handle_datagram(Instant::now(), &[0x80, 0, 0, 1]));
    assert_eq!(client.poll_event(), None);
    assert_eq!(server.poll_event(), None);
    pump(&mut client, &mut server);
    connected(client.poll_event());
    connected(server.poll_event());
    for g in &garbage {
        server.handle_datagram(Instant::now(), g);
        client.handle_datagram(Instant::now(), g);
    }
    assert!(client.is_connected() && server.is_connected());
    assert_eq!(client.poll_event(), None);
    assert_eq!(server.poll_event(), None);
}

#[test]
fn well_formed_but_wrong_handshake_record_fails_without_keys() {
    // A valid epoch-0 record carrying a bogus ClientHello fragment sent to a
    // client: OpenSSL ends the handshake (as it does in 10.5); no panic, no keys.
    let (mut client, mut server) = pair(&Config::default(), &Config::default());
    let bogus = [
        vec![22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5],
        vec![1; 5],
    ]
    .concat();
    assert!(client.handle_datagram(Instant::now(), &bogus));
    assert!(matches!(
        client.poll_event(),
        Some(Event::Failed(FailReason::Handshake(_)))
    ));
    pump(&mut client, &mut server);
    assert!(!client.is_connected() && !server.is_connected());
    while let Some(e) = server.poll_event() {
        assert!(matches!(e, Event::Failed(_)), "server got {e:?}");
    }
}

#[test]
fn a_server_drops_a_wrong_handshake_record_before_any_client_hello() {
    // The same record sent to a server that has not answered anyone yet:
    // there is no association to end, so it is dropped (no alert, no event)
    // and the real client's handshake completes.
    let (mut client, mut server) = pair(&Config::default(), &Config::default());
    let bogus = [
        vec![22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5],
        vec![1; 5],
    ]
    .concat();
    for _ in 0..3 {
        assert!(server.handle_datagram(Instant::now(), &bogus));
        assert_eq!(server.poll_transmit(), None, "no alert to the sender");
        assert_eq!(server.poll_event(), None);
    }
    pump(&mut client, &mut server);
    connected(client.poll_event());
    connected(server.poll_event());
}

#[test]
fn lost_first_flight_is_resent_on_timeout() {
    let (mut client, mut server) = pair(&Config::default(), &Config::default());
    let mut first = Vec::new();
    while let Some(d) = client.poll_transmit() {
        first.push(d);
    }
    assert!(!first.is_empty(), "ClientHello queued");
    // The flight is lost: nothing reaches the server. OpenSSL's own timer
    // (1 s, doubling) decides when it is due; wait for it with a deadline.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut resent = Vec::new();
    while resent.is_empty() {
        let now = Instant::now();
        assert!(now < deadline, "no retransmission");
        let due = client
            .poll_timeout()
            .expect("timer armed while handshaking");
        assert!(due <= now + Duration::from_secs(2));
        std::thread::sleep(due.saturating_duration_since(now) + Duration::from_millis(5));
        client.handle_timeout(Instant::now());
        while let Some(d) = client.poll_transmit() {
            resent.push(d);
        }
    }
    assert_eq!(resent.len(), first.len());
    // The resent flight completes the handshake.
    for d in &resent {
        server.handle_datagram(Instant::now(), d);
    }
    pump(&mut client, &mut server);
    connected(client.poll_event());
    connected(server.poll_event());
}

#[test]
fn close_sends_close_notify_and_the_peer_sees_it() {
    let (mut client, mut server) = pair(&Config::default(), &Config::default());
    pump(&mut client, &mut server);
    connected(client.poll_event());
    connected(server.poll_event());
    client.close();
    let alert = client.poll_transmit().expect("close_notify");
    assert_eq!(alert[0], 21, "an alert record");
    server.handle_datagram(Instant::now(), &alert);
    assert_eq!(server.poll_event(), Some(Event::Closed));
    assert!(!server.is_connected());
    assert!(
        !server.handle_datagram(Instant::now(), &alert),
        "ignored once closed"
    );
}

#[test]
fn certificate_has_10_5_defaults() {
    let now = SystemTime::now();
    let c = Certificate::generate(&CertParams::default(), now).unwrap();
    let x = openssl::x509::X509::from_der(&c.der()).unwrap();
    assert_eq!(x.version(), 0, "X.509 v1");
    assert_eq!(
        x.public_key().unwrap().id(),
        openssl::pkey::Id::EC,
        "prime256v1 key"
    );
    let cn = x.subject_name().entries().next().unwrap();
    assert_eq!(cn.data().as_slice(), b"rtpengine");
    assert_eq!(
        x.signature_algorithm().object().nid(),
        openssl::nid::Nid::ECDSA_WITH_SHA256
    );
    let validity = x.not_before().diff(x.not_after()).unwrap();
    assert_eq!(validity.days, 31, "one day back, thirty ahead");
    for h in HashFunc::ALL {
        let fp = c.fingerprint(h);
        assert_eq!(fp.digest.len(), h.digest_len());
        assert!(fp.matches(&x));
        assert_eq!(
            rtpengine_dtls::Fingerprint::parse(&fp.to_string()).unwrap(),
            fp
        );
    }
    assert!(c
        .fingerprint(HashFunc::Sha256)
        .to_string()
        .starts_with("sha-256 "));
}

#[test]
fn bad_parameters_are_errors() {
    let c = cert(CertCipher::Prime256v1);
    let fp = c.fingerprint(HashFunc::Sha256);
    let now = Instant::now();
    let small = Config {
        mtu: 100,
        ..Config::default()
    };
    assert!(Dtls::new(Role::Client, &c, fp.clone(), &small, now).is_err());
    let bad_ciphers = Config {
        ciphers: "NOTHING-REAL".into(),
        ..Config::default()
    };
    assert!(Dtls::new(Role::Client, &c, fp, &bad_ciphers, now).is_err());
    let rsa_tiny = CertParams {
        cipher: CertCipher::Rsa,
        rsa_key_size: 1,
        ..CertParams::default()
    };
    assert!(Certificate::generate(&rsa_tiny, SystemTime::now()).is_err());
}

#[test]
fn lost_last_flight_is_answered_after_the_server_connected() {
    // The server's final flight (ChangeCipherSpec + Finished) is lost: the
    // server is connected, the client is not. The client resends its flight
    // on timeout and the connected server must resend its own.
    let (mut client, mut server) = pair(&Config::default(), &Config::default());
    while let Some(d) = client.poll_transmit() {
        server.handle_datagram(Instant::now(), &d); // ClientHello
    }
    while let Some(d) = server.poll_transmit() {
        client.handle_datagram(Instant::now(), &d); // ServerHello .. Done
    }
    while let Some(d) = client.poll_transmit() {
        server.handle_datagram(Instant::now(), &d); // .. Finished
    }
    assert!(server.is_connected());
    let lost: Vec<Vec<u8>> = std::iter::from_fn(|| server.poll_transmit()).collect();
    assert!(!lost.is_empty());
    assert!(!client.is_connected());
    let deadline = Instant::now() + Duration::from_secs(10);
    while !client.is_connected() {
        let now = Instant::now();
        assert!(now < deadline, "client never connected");
        let due = client.poll_timeout().expect("client still handshaking");
        std::thread::sleep(due.saturating_duration_since(now) + Duration::from_millis(5));
        client.handle_timeout(Instant::now());
        pump(&mut client, &mut server);
    }
    let (_, c_local, c_remote) = connected(client.poll_event());
    let (_, s_local, s_remote) = connected(server.poll_event());
    assert_eq!((c_local, c_remote), (s_remote, s_local));
}
