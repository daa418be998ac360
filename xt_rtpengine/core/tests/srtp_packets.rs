//! SRTP context behaviour beyond the vectors: index/ROC estimation across sequence
//! wraps with reordering and loss, 10.5's ROC guessing, tamper detection, replay
//! rejection, MKI placement, and refusal of bad input without panics.

mod common;

use common::{hex, params, random_rtp, SuiteSpec, XorShift, SUITES};
use rtpengine_core::abi::{cipher, Srtp};
use rtpengine_core::rtp::RtpError;
use rtpengine_core::srtp::rustcrypto::RustCrypto;
use rtpengine_core::srtp::{IndexState, SrtpContext, SrtpError};

const SSRC: u32 = 0x1122_3344;

struct Pair {
    ctx: SrtpContext<RustCrypto>,
}

fn pair(spec: &SuiteSpec) -> Pair {
    let mki: Vec<u8> = (1..=spec.mki_len as u8).collect();
    let p = params(
        spec,
        &vec![0x42; spec.key_len as usize],
        &vec![0x17; spec.salt_len as usize],
        &mki,
    );
    Pair {
        ctx: SrtpContext::new(&RustCrypto, &p).unwrap(),
    }
}

fn by_name(name: &str) -> &'static SuiteSpec {
    SUITES.iter().find(|s| s.name == name).unwrap()
}

/// Protects a packet with sequence `index as u16` as a sender whose state is at `index - 1`.
fn protect_at(ctx: &SrtpContext<RustCrypto>, index: u64, payload_seed: u64) -> (Vec<u8>, Vec<u8>) {
    let mut rng = XorShift::new(payload_seed);
    let plain = random_rtp(&mut rng, index as u16, SSRC, 64);
    let mut state = IndexState::new(&[index.saturating_sub(1), 0, 0, 0]);
    let mut buf = plain.clone();
    buf.resize(plain.len() + ctx.overhead(), 0);
    let out = ctx
        .encrypt_rtp(&mut state, 0, &mut buf, plain.len())
        .unwrap();
    assert_eq!(out.index, index, "sender estimate");
    buf.truncate(out.len);
    (plain, buf)
}

fn open(
    ctx: &SrtpContext<RustCrypto>,
    state: &mut IndexState,
    packet: &[u8],
) -> Result<(u64, bool, Vec<u8>), SrtpError> {
    let mut buf = packet.to_vec();
    let before = *state;
    match ctx.decrypt_rtp(state, 0, &mut buf, packet.len()) {
        Ok(d) => Ok((d.index, d.roc_resynced, buf[..d.len].to_vec())),
        Err(e) => {
            assert_eq!(buf, packet, "failed decrypt must leave the packet alone");
            assert_eq!(*state, before, "failed decrypt must leave the state alone");
            Err(e)
        }
    }
}

const AUTHENTICATED: [&str; 4] = [
    "AES_CM_128_HMAC_SHA1_80",
    "F8_128_HMAC_SHA1_80",
    "AEAD_AES_128_GCM",
    "AEAD_AES_256_GCM+MKI2",
];

#[test]
fn wrap_with_reordering_and_loss() {
    for name in AUTHENTICATED
        .iter()
        .chain(["AES_CM_128 unauthenticated"].iter())
    {
        let Pair { ctx, .. } = pair(by_name(name));
        // Indices around the wrap, delivered with swaps across it and two losses.
        let order: [u64; 12] = [
            0xfff8, 0xfffa, 0xfff9, 0xfffb, 0x1_0000, 0xffff, 0xfffe, 0x1_0001, 0x1_0003, 0x1_0002,
            0x1_0100, 0x1_00ff,
        ];
        let mut rx = IndexState::default();
        for (i, &index) in order.iter().enumerate() {
            let (plain, srtp) = protect_at(&ctx, index, i as u64 + 1);
            let (got, resynced, out) =
                open(&ctx, &mut rx, &srtp).unwrap_or_else(|e| panic!("{name} {index:#x}: {e:?}"));
            assert_eq!(got, index, "{name}");
            assert!(!resynced);
            assert_eq!(out, plain);
        }
        assert_eq!(rx.last(0), 0x1_0100, "{name}: highest index kept");
    }
}

#[test]
fn long_loss_keeps_the_roc_right() {
    let Pair { ctx, .. } = pair(by_name("AES_CM_128_HMAC_SHA1_80"));
    let mut rx = IndexState::new(&[0x7_f000, 0, 0, 0]);
    // 0x7fff packets lost (just under half a cycle), across the wrap.
    for (i, index) in [0x7_f000 + 0x7fff, 0x8_6fff + 1].into_iter().enumerate() {
        let (_, srtp) = protect_at(&ctx, index, i as u64);
        assert_eq!(open(&ctx, &mut rx, &srtp).unwrap().0, index);
    }
}

#[test]
fn roc_guesses_resync_like_10_5() {
    for name in AUTHENTICATED {
        let Pair { ctx, .. } = pair(by_name(name));
        // (receiver's last index, sender's true index): ROC+1, ROC-1, ROC=0 guesses.
        for (last, truth) in [
            (0x0_fff0u64, 0x2_0005u64),
            (0x3_0100, 0x2_0101),
            (0x5_0100, 0x0_0105),
        ] {
            let mut rx = IndexState::new(&[last, 0, 0, 0]);
            let (plain, srtp) = protect_at(&ctx, truth, last);
            let (got, resynced, out) =
                open(&ctx, &mut rx, &srtp).unwrap_or_else(|e| panic!("{name} {truth:#x}: {e:?}"));
            assert_eq!(got, truth, "{name}");
            assert!(resynced);
            assert_eq!(out, plain);
            assert_eq!(
                rx.last(0),
                truth,
                "{name}: slot reset to the matching index"
            );
            // The next packet follows on normally.
            let (_, next) = protect_at(&ctx, truth + 1, 99);
            assert_eq!(
                open(&ctx, &mut rx, &next).unwrap(),
                (
                    truth + 1,
                    false,
                    open(&ctx, &mut IndexState::new(&[truth, 0, 0, 0]), &next)
                        .unwrap()
                        .2
                )
            );
        }
        // Two ROCs off is beyond the guesses.
        let mut rx = IndexState::new(&[0x5_0100, 0, 0, 0]);
        let (_, srtp) = protect_at(&ctx, 0x3_0101, 1);
        assert_eq!(
            open(&ctx, &mut rx, &srtp).unwrap_err(),
            SrtpError::AuthFailed
        );
    }
}

#[test]
fn any_tampered_byte_fails_authentication() {
    for name in AUTHENTICATED {
        let spec = by_name(name);
        let Pair { ctx, .. } = pair(spec);
        let (_, srtp) = protect_at(&ctx, 0x1234, 7);
        let mki_range = if spec.cipher == cipher::AEAD_AES_GCM_256 {
            srtp.len() - spec.mki_len as usize..srtp.len()
        } else {
            let end = srtp.len() - spec.tag_len as usize;
            end - spec.mki_len as usize..end
        };
        for at in 0..srtp.len() {
            if mki_range.contains(&at) {
                continue; // the MKI is not authenticated (RFC 3711 §3.1)
            }
            let mut bad = srtp.clone();
            bad[at] ^= 0x01;
            let mut rx = IndexState::default();
            match open(&ctx, &mut rx, &bad) {
                Err(SrtpError::AuthFailed) => {}
                Err(SrtpError::NotRtp(RtpError::BadVersion)) if at == 0 => {}
                other => panic!("{name}: byte {at} flipped gave {other:?}"),
            }
        }
    }
}

#[test]
fn unauthenticated_suite_cannot_detect_tampering() {
    let Pair { ctx, .. } = pair(by_name("AES_CM_128 unauthenticated"));
    let (plain, mut srtp) = protect_at(&ctx, 5, 7);
    let last = srtp.len() - 1;
    srtp[last] ^= 0x80;
    let (_, _, out) = open(&ctx, &mut IndexState::default(), &srtp).unwrap();
    assert_eq!(
        out[last] ^ 0x80,
        plain[last],
        "the flip passes through the keystream"
    );
}

#[test]
fn replays_are_rejected() {
    for name in AUTHENTICATED {
        let Pair { ctx, .. } = pair(by_name(name));
        let mut rx = IndexState::default();
        let packets: Vec<Vec<u8>> = (1000..1300u64).map(|i| protect_at(&ctx, i, i).1).collect();
        assert!(open(&ctx, &mut rx, &packets[0]).is_ok());
        assert_eq!(
            open(&ctx, &mut rx, &packets[0]).unwrap_err(),
            SrtpError::Replayed,
            "{name}"
        );
        // Out of order inside the window is fine once, not twice.
        assert!(open(&ctx, &mut rx, &packets[5]).is_ok());
        assert!(open(&ctx, &mut rx, &packets[3]).is_ok());
        assert_eq!(
            open(&ctx, &mut rx, &packets[3]).unwrap_err(),
            SrtpError::Replayed,
            "{name}"
        );
        assert_eq!(
            open(&ctx, &mut rx, &packets[5]).unwrap_err(),
            SrtpError::Replayed,
            "{name}"
        );
        for p in &packets[6..] {
            open(&ctx, &mut rx, p).unwrap();
        }
        // 1004 was never received but is now 295 behind the top: too old to tell.
        assert_eq!(
            open(&ctx, &mut rx, &packets[4]).unwrap_err(),
            SrtpError::TooOld,
            "{name}"
        );
        assert_eq!(
            open(&ctx, &mut rx, &packets[299]).unwrap_err(),
            SrtpError::Replayed,
            "{name}"
        );
    }
}

#[test]
fn replay_protection_can_be_switched_off_and_needs_authentication() {
    let Pair { mut ctx, .. } = pair(by_name("AES_CM_128_HMAC_SHA1_32"));
    ctx.set_replay_protection(false);
    let (_, srtp) = protect_at(&ctx, 77, 1);
    let mut rx = IndexState::default();
    assert!(open(&ctx, &mut rx, &srtp).is_ok());
    assert!(open(&ctx, &mut rx, &srtp).is_ok());

    let Pair { ctx, .. } = pair(by_name("AES_CM_128 unauthenticated"));
    let (_, srtp) = protect_at(&ctx, 77, 1);
    let mut rx = IndexState::default();
    assert!(open(&ctx, &mut rx, &srtp).is_ok());
    assert!(
        open(&ctx, &mut rx, &srtp).is_ok(),
        "without a tag nothing proves the index"
    );
}

#[test]
fn mki_sits_between_payload_and_hmac_tag_and_after_the_gcm_tag() {
    let spec = by_name("AES_256_CM_HMAC_SHA1_80+MKI4");
    let Pair { ctx, .. } = pair(spec);
    let (plain, srtp) = protect_at(&ctx, 9, 3);
    assert_eq!(srtp.len(), plain.len() + 4 + 10);
    assert_eq!(&srtp[plain.len()..plain.len() + 4], &[1, 2, 3, 4]);

    let spec = by_name("AEAD_AES_256_GCM+MKI2");
    let Pair { ctx, .. } = pair(spec);
    let (plain, srtp) = protect_at(&ctx, 9, 3);
    assert_eq!(srtp.len(), plain.len() + 16 + 2);
    assert_eq!(&srtp[srtp.len() - 2..], &[1, 2]);
}

#[test]
fn plain_rtp_passes_unchanged_and_tracks_the_index() {
    let p = Srtp::plain();
    let ctx = SrtpContext::new(&RustCrypto, &p).unwrap();
    assert_eq!(ctx.overhead(), 0);
    let mut rng = XorShift::new(3);
    let plain = random_rtp(&mut rng, 0xfffe, SSRC, 50);
    let mut buf = plain.clone();
    let mut tx = IndexState::default();
    let out = ctx.encrypt_rtp(&mut tx, 2, &mut buf, plain.len()).unwrap();
    assert_eq!((out.len, &buf), (plain.len(), &plain));
    let mut rx = IndexState::default();
    let dec = ctx.decrypt_rtp(&mut rx, 2, &mut buf, out.len).unwrap();
    assert_eq!((dec.len, dec.index), (plain.len(), 0xfffe));
    assert_eq!(rx.last_index(), [0, 0, 0xfffe, 0]);
    // Duplicates are normal for plain RTP and are not refused.
    assert!(ctx.decrypt_rtp(&mut rx, 2, &mut buf, out.len).is_ok());
}

#[test]
fn bad_calls_get_errors() {
    let Pair { ctx, .. } = pair(by_name("AES_CM_128_HMAC_SHA1_80"));
    let (plain, srtp) = protect_at(&ctx, 1, 1);
    let mut st = IndexState::default();
    let mut buf = srtp.clone();
    assert_eq!(
        ctx.decrypt_rtp(&mut st, 4, &mut buf, srtp.len()),
        Err(SrtpError::BadSlot(4))
    );
    assert_eq!(
        ctx.decrypt_rtp(&mut st, 0, &mut buf, srtp.len() + 1),
        Err(SrtpError::LengthBeyondBuffer)
    );
    assert_eq!(
        ctx.decrypt_rtp(&mut st, 0, &mut buf, 5),
        Err(SrtpError::NotRtp(RtpError::Truncated))
    );
    // Header only plus 9 bytes: cannot hold a 10-byte tag after the header.
    let mut short = hex("800f1234decafbadcafebabe 000000000000000000");
    let n = short.len();
    assert_eq!(
        ctx.decrypt_rtp(&mut st, 0, &mut short, n),
        Err(SrtpError::TooShort)
    );
    let mut tight = plain.clone();
    assert_eq!(
        ctx.encrypt_rtp(&mut st, 0, &mut tight, plain.len()),
        Err(SrtpError::NoRoom {
            needed: plain.len() + 10
        })
    );
    assert_eq!(tight, plain);
    assert_eq!(st, IndexState::default());
}

#[test]
fn bad_parameters_are_refused_by_new() {
    let mut p = params(by_name("AES_CM_128_HMAC_SHA1_80"), &[1; 16], &[2; 14], &[]);
    p.cipher = 9;
    assert_eq!(
        SrtpContext::new(&RustCrypto, &p).err(),
        Some(SrtpError::InvalidCipher(9))
    );
    p.cipher = cipher::AES_CM_128;
    p.master_key_len = 40;
    assert_eq!(
        SrtpContext::new(&RustCrypto, &p).err(),
        Some(SrtpError::BadMasterKeyLength(40))
    );
    p.master_key_len = 16;
    p.auth_tag_len = 255;
    assert_eq!(
        SrtpContext::new(&RustCrypto, &p).err(),
        Some(SrtpError::TagTooLong(255))
    );
}

#[test]
fn random_garbage_never_panics() {
    let mut rng = XorShift::new(0xdead_beef);
    let contexts: Vec<SrtpContext<RustCrypto>> = SUITES.iter().map(|s| pair(s).ctx).collect();
    let mut buf = [0u8; 400];
    for _ in 0..20_000 {
        let len = rng.below(120) as usize;
        rng.fill(&mut buf[..len]);
        if rng.below(2) == 0 {
            buf[0] = 0x80 | (buf[0] & 0x3f); // often valid-looking RTP
        }
        let ctx = &contexts[rng.below(contexts.len() as u64) as usize];
        let mut st = IndexState::new(&[rng.next(), rng.next(), 0, u64::MAX]);
        let slot = rng.below(5) as usize;
        let _ = ctx.decrypt_rtp(&mut st, slot, &mut buf, len);
        let room = (len + rng.below(40) as usize).min(buf.len());
        let _ = ctx.encrypt_rtp(&mut st, slot, &mut buf[..room], len.min(room));
    }
}
