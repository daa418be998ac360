//! SRTCP: libsrtp's AES_CM_128_HMAC_SHA1_80 reference packet, RFC 7714 §17 AEAD vectors,
//! and round trips, tampering and replay for every suite.

mod common;

use common::{hex, params, XorShift, SUITES};
use rtpengine_core::abi::cipher;
use rtpengine_core::srtp::rustcrypto::RustCrypto;
use rtpengine_core::srtp::{
    SessionKeys, SrtcpReplay, SrtpContext, SrtpError, Suite, SRTCP_TAG_LEN,
};

#[test]
fn libsrtp_reference_srtcp_packet() {
    let p = params(
        &SUITES[0],
        &hex("e1f97a0d3e018be0d64fa32c06de4139"),
        &hex("0ec675ad498afeebb6960b3aabe6"),
        &[],
    );
    let ctx = SrtpContext::new_rtcp(&RustCrypto, &p).unwrap();
    let plain = hex("81c8000bcafebabe abababababababababababababababab");
    let mut buf = plain.clone();
    buf.resize(plain.len() + ctx.rtcp_overhead(), 0);
    let n = ctx.encrypt_rtcp(1, &mut buf, plain.len()).unwrap();
    assert_eq!(
        buf[..n].to_vec(),
        hex("81c8000bcafebabe 7128035be487b9bdbef89041f977a5a8 80000001 993e08cd54d6c1230798")
    );
    let mut replay = SrtcpReplay::default();
    let d = ctx.decrypt_rtcp(&mut replay, &mut buf, n).unwrap();
    assert_eq!((d.index, d.was_encrypted), (1, true));
    assert_eq!(buf[..d.len].to_vec(), plain);
}

const RFC7714_RTCP: &str = "81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef";

fn gcm_rtcp(key: &str, cipher_id: u32) -> SrtpContext<RustCrypto> {
    let spec = SUITES.iter().find(|s| s.cipher == cipher_id).unwrap();
    let mut p = params(spec, &hex(key), &[0; 12], &[]);
    p.mki_len = 0;
    let suite = Suite::from_abi(&p).unwrap();
    let mut keys = SessionKeys {
        key: [0; 32],
        key_len: hex(key).len(),
        salt: [0; 14],
        auth: [0; 20],
    };
    keys.key[..keys.key_len].copy_from_slice(&hex(key));
    keys.salt[..12].copy_from_slice(b"Quid pro quo");
    SrtpContext::with_session_keys(&RustCrypto, &suite, &keys, &[]).unwrap()
}

fn rfc7714_rtcp_case(key: &str, cipher_id: u32, protected: &str) {
    let ctx = gcm_rtcp(key, cipher_id);
    let plain = hex(RFC7714_RTCP);
    let mut buf = plain.clone();
    buf.resize(plain.len() + ctx.rtcp_overhead(), 0);
    let n = ctx.encrypt_rtcp(0x5d4, &mut buf, plain.len()).unwrap();
    assert_eq!(buf[..n].to_vec(), hex(protected));
    let d = ctx
        .decrypt_rtcp(&mut SrtcpReplay::default(), &mut buf, n)
        .unwrap();
    assert_eq!(buf[..d.len].to_vec(), plain);
    assert_eq!(d.index, 0x5d4);
}

#[test]
fn rfc7714_17_1_srtcp_aead_aes_128_gcm() {
    rfc7714_rtcp_case(
        "000102030405060708090a0b0c0d0e0f",
        cipher::AEAD_AES_GCM_128,
        "81c8000d4d617273 63e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b4686303ded0bb9275b c84aa45896cf4d2fc5abf87245d9eade 800005d4",
    );
}

#[test]
fn rfc7714_17_2_srtcp_aead_aes_256_gcm() {
    rfc7714_rtcp_case(
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        cipher::AEAD_AES_GCM_256,
        "81c8000d4d617273 d50ae4d1f5ce5d304ba297e47d470c282c3ece5dbffe0a50a2eaa5c1110555be8415f658c61de0476f1b6fad1d1eb30c4446839f57ff6f6cb26ac3be 800005d4",
    );
}

#[test]
fn rfc7714_17_3_srtcp_tag_only_is_accepted() {
    let ctx = gcm_rtcp("000102030405060708090a0b0c0d0e0f", cipher::AEAD_AES_GCM_128);
    let mut buf = hex(&format!(
        "{RFC7714_RTCP} 841dd9683dd78ec92ae58790125f62b3 000005d4"
    ));
    let n = buf.len();
    let d = ctx
        .decrypt_rtcp(&mut SrtcpReplay::default(), &mut buf, n)
        .unwrap();
    assert!(!d.was_encrypted);
    assert_eq!(buf[..d.len].to_vec(), hex(RFC7714_RTCP));
    buf[20] ^= 1;
    assert_eq!(
        ctx.decrypt_rtcp(&mut SrtcpReplay::default(), &mut buf, n),
        Err(SrtpError::AuthFailed)
    );
}

#[test]
fn every_suite_round_trips_and_refuses_tampering_and_replay() {
    let mut rng = XorShift::new(77);
    for spec in SUITES {
        let mki: Vec<u8> = (0..spec.mki_len as u8).collect();
        let p = params(
            spec,
            &vec![9; spec.key_len as usize],
            &vec![8; spec.salt_len as usize],
            &mki,
        );
        let ctx = SrtpContext::new_rtcp(&RustCrypto, &p).unwrap();
        let srtp = SrtpContext::new(&RustCrypto, &p).unwrap();
        if spec.hmac == rtpengine_core::abi::hmac::HMAC_SHA1 {
            // _32 and unauthenticated SRTP suites still carry an 80-bit SRTCP tag.
            assert_eq!(
                ctx.rtcp_overhead(),
                4 + spec.mki_len as usize + SRTCP_TAG_LEN,
                "{}",
                spec.name
            );
        }
        let mut replay = SrtcpReplay::default();
        for index in 1..40u32 {
            let mut plain = vec![0x81, 0xc9, 0, 7, 0xde, 0xad, 0xbe, 0xef];
            let extra = rng.below(60) as usize;
            plain.extend((0..extra).map(|_| rng.next() as u8));
            let mut buf = plain.clone();
            buf.resize(plain.len() + ctx.rtcp_overhead(), 0);
            let n = ctx.encrypt_rtcp(index, &mut buf, plain.len()).unwrap();
            if spec.cipher != cipher::NULL && !plain[8..].is_empty() {
                assert_ne!(
                    buf[8..plain.len()],
                    plain[8..],
                    "{}: payload encrypted",
                    spec.name
                );
            }
            // SRTP and SRTCP keys differ (labels 0-2 vs 3-5).
            let mut as_srtp = buf.clone();
            if n >= 12 + srtp.overhead() {
                let _ = srtp.decrypt_rtp(&mut Default::default(), 0, &mut as_srtp, n);
            }
            let protected = buf[..n].to_vec();
            let at = rng.below(n as u64) as usize;
            let mut bad = protected.clone();
            bad[at] ^= 4;
            let mki_start = if spec.cipher == cipher::AEAD_AES_GCM_256 {
                n - spec.mki_len as usize
            } else {
                n - SRTCP_TAG_LEN - spec.mki_len as usize
            };
            let in_mki = (mki_start..mki_start + spec.mki_len as usize).contains(&at);
            if !in_mki && at != 0 {
                let before = (replay, bad.clone());
                // AEAD checks the replay window before opening, so a flipped index word
                // may be refused as a replay instead.
                let err = ctx.decrypt_rtcp(&mut replay, &mut bad, n).unwrap_err();
                assert!(
                    matches!(
                        err,
                        SrtpError::AuthFailed | SrtpError::Replayed | SrtpError::TooOld
                    ),
                    "{} byte {at}: {err:?}",
                    spec.name
                );
                assert_eq!((replay, bad), before, "failure changes nothing");
            }
            let d = ctx.decrypt_rtcp(&mut replay, &mut buf, n).unwrap();
            assert_eq!(buf[..d.len], plain[..], "{}", spec.name);
            assert_eq!(d.index, index);
            let mut again = protected.clone();
            assert_eq!(
                ctx.decrypt_rtcp(&mut replay, &mut again, n),
                Err(SrtpError::Replayed),
                "{}",
                spec.name
            );
        }
    }
}

#[test]
fn srtcp_bad_input() {
    let p = params(&SUITES[0], &[1; 16], &[2; 14], &[]);
    let ctx = SrtpContext::new_rtcp(&RustCrypto, &p).unwrap();
    let mut r = SrtcpReplay::default();
    let mut buf = [0x81u8, 0xc8, 0, 1, 1, 2, 3, 4, 0, 0, 0, 0];
    assert!(ctx.decrypt_rtcp(&mut r, &mut buf, 7).is_err());
    assert_eq!(
        ctx.decrypt_rtcp(&mut r, &mut buf, 12),
        Err(SrtpError::TooShort)
    );
    assert_eq!(
        ctx.decrypt_rtcp(&mut r, &mut buf, 13),
        Err(SrtpError::LengthBeyondBuffer)
    );
    assert_eq!(
        ctx.encrypt_rtcp(1, &mut buf, 12),
        Err(SrtpError::NoRoom { needed: 26 })
    );
    let mut rng = XorShift::new(5);
    let mut junk = [0u8; 100];
    for _ in 0..5000 {
        let n = rng.below(100) as usize;
        rng.fill(&mut junk[..n]);
        let _ = ctx.decrypt_rtcp(&mut r, &mut junk, n);
    }
}
