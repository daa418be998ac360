//! The exported keys in the project's SRTP: what one side protects with its
//! `local_key_salt`, the other unprotects with its `remote_key_salt`, through
//! the suite named by `SrtpProfile::suite_name` (rtpengine-proto's SRTP).

use rtpengine_dtls::{CertParams, Certificate, Config, Dtls, Event, HashFunc, Role, SrtpProfile};
use rtpengine_proto::media::srtp::SrtpDirection;
use rtpengine_proto::sdp::crypto::CryptoAttribute;
use rtpengine_proto::srtp::Suite;
use std::time::{Instant, SystemTime};

fn direction(profile: SrtpProfile, key_salt: &[u8]) -> SrtpDirection {
    let suite = Suite::by_name(profile.suite_name()).expect("suite known to the SRTP");
    assert_eq!(suite.key_len, profile.key_len());
    assert_eq!(suite.salt_len, profile.salt_len());
    let crypto = CryptoAttribute {
        tag: 1,
        suite: suite.name.into(),
        key_salt: key_salt.to_vec(),
        lifetime: None,
        mki: None,
        session_params: vec![],
    };
    SrtpDirection::new(&suite.srtp_params(&crypto)).unwrap()
}

fn rtp(seq: u16) -> Vec<u8> {
    let mut p = vec![0x80, 0, 0, 0, 0, 0, 0, 160, 0x11, 0x22, 0x33, 0x44];
    p[2..4].copy_from_slice(&seq.to_be_bytes());
    p.extend((0..160).map(|i| i as u8));
    p
}

/// (profile, local, remote) for client and server after a handshake.
fn handshake(profile: SrtpProfile) -> [(SrtpProfile, Vec<u8>, Vec<u8>); 2] {
    let a = Certificate::generate(&CertParams::default(), SystemTime::now()).unwrap();
    let b = Certificate::generate(&CertParams::default(), SystemTime::now()).unwrap();
    let cfg = Config {
        profiles: vec![profile],
        ..Config::default()
    };
    let now = Instant::now();
    let mut c = Dtls::new(Role::Client, &a, b.fingerprint(HashFunc::Sha256), &cfg, now).unwrap();
    let mut s = Dtls::new(Role::Server, &b, a.fingerprint(HashFunc::Sha256), &cfg, now).unwrap();
    for _ in 0..20 {
        let mut any = false;
        while let Some(d) = c.poll_transmit() {
            s.handle_datagram(now, &d);
            any = true;
        }
        while let Some(d) = s.poll_transmit() {
            c.handle_datagram(now, &d);
            any = true;
        }
        if !any {
            break;
        }
    }
    [c.poll_event(), s.poll_event()].map(|e| match e {
        Some(Event::Connected {
            profile,
            local_key_salt,
            remote_key_salt,
        }) => (profile, local_key_salt, remote_key_salt),
        other => panic!("not connected: {other:?}"),
    })
}

#[test]
fn exported_keys_protect_and_unprotect_srtp_both_ways() {
    for profile in SrtpProfile::OFFERED {
        let [(_, c_local, c_remote), (_, s_local, s_remote)] = handshake(profile);
        for (tx_key, rx_key) in [(&c_local, &s_remote), (&s_local, &c_remote)] {
            let mut tx = direction(profile, tx_key);
            let mut rx = direction(profile, rx_key);
            for seq in 1..4 {
                let mut p = rtp(seq);
                tx.protect(&mut p).unwrap();
                assert_ne!(p[12..172], rtp(seq)[12..], "{profile:?}: encrypted");
                rx.unprotect(&mut p).unwrap();
                assert_eq!(p, rtp(seq), "{profile:?}: decrypted");
            }
        }
        // Our own send key does not open what the peer sends.
        let mut p = rtp(9);
        direction(profile, &s_local).protect(&mut p).unwrap();
        assert!(direction(profile, &c_local).unprotect(&mut p).is_err());
    }
}
