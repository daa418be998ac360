//! Several SSRCs on one SRTP target, run through the module's packet logic (decide →
//! decrypt in the packet's slot → encrypt each output in the same slot) with the
//! RustCrypto back end. Every sender and receiver is an independent single-SSRC SRTP
//! endpoint, as real phones are, so a wrong ROC anywhere shows up as a failed
//! packet or as a ROC the receiver had to guess.

mod common;

use common::{params, random_rtp, XorShift, SUITES};
use rtpengine_core::abi::{target_flags, Address, PayloadType, Pod, Srtp, TargetInfo};
use rtpengine_core::forward::{decide, Verdict};
use rtpengine_core::srtp::rustcrypto::RustCrypto;
use rtpengine_core::srtp::{IndexState, SrtpContext};

const A: u32 = 0xaaaa_0001;
const B: u32 = 0xbbbb_0002;
const SRC: Address = Address {
    family: 2,
    addr: [10, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    port: 4000,
    _pad: [0; 2],
};

/// One single-SSRC endpoint (its own index state, slot 0).
struct Endpoint {
    ctx: SrtpContext<RustCrypto>,
    state: IndexState,
}

impl Endpoint {
    fn new(p: &Srtp) -> Self {
        Endpoint {
            ctx: SrtpContext::new(&RustCrypto, p).unwrap(),
            state: IndexState::new(&[0; 4]),
        }
    }
    fn protect(&mut self, plain: &[u8]) -> Vec<u8> {
        let mut buf = plain.to_vec();
        buf.resize(plain.len() + self.ctx.overhead(), 0);
        let r = self
            .ctx
            .encrypt_rtp(&mut self.state, 0, &mut buf, plain.len())
            .unwrap();
        buf.truncate(r.len);
        buf
    }
    /// The plain packet and whether the ROC had to be guessed.
    fn unprotect(&mut self, srtp: &[u8]) -> Option<(Vec<u8>, bool)> {
        let mut buf = srtp.to_vec();
        let r = self
            .ctx
            .decrypt_rtp(&mut self.state, 0, &mut buf, srtp.len())
            .ok()?;
        buf.truncate(r.len);
        Some((buf, r.roc_resynced))
    }
}

/// The kernel side: one target (decrypt) with one output (encrypt).
struct Kernel {
    target: TargetInfo,
    decrypt: SrtpContext<RustCrypto>,
    decrypt_index: IndexState,
    encrypt: SrtpContext<RustCrypto>,
    encrypt_index: IndexState,
}

impl Kernel {
    fn new(decrypt: &Srtp, encrypt: &Srtp, track: Option<[u32; 4]>) -> Self {
        let mut target = TargetInfo::zeroed();
        target.local = Address::v4([10, 0, 0, 1], 30000);
        target.num_destinations = 1;
        target.flags = target_flags::RTP;
        target.payload_types[0] = PayloadType {
            pt: 0,
            clock_rate: 8000,
            ..Default::default()
        };
        target.num_payload_types = 1;
        if let Some(ssrcs) = track {
            target.flags |= target_flags::TRACK_SSRC;
            target.ssrc = ssrcs.map(u32::to_be);
        }
        target.decrypt = *decrypt;
        Kernel {
            target,
            decrypt: SrtpContext::new(&RustCrypto, decrypt).unwrap(),
            decrypt_index: IndexState::new(&decrypt.last_index),
            encrypt: SrtpContext::new(&RustCrypto, encrypt).unwrap(),
            encrypt_index: IndexState::new(&encrypt.last_index),
        }
    }

    /// What the module does with one received packet: `Err` = to userspace.
    fn packet(&mut self, srtp: &[u8]) -> Result<Vec<u8>, &'static str> {
        let f = match decide(&self.target, &SRC, srtp, None) {
            Verdict::Forward(f) => f,
            _ => return Err("not forwarded"),
        };
        let slot = f.srtp_slot();
        let mut buf = srtp.to_vec();
        buf.resize(srtp.len() + self.encrypt.overhead(), 0);
        let plain = self
            .decrypt
            .decrypt_rtp(&mut self.decrypt_index, slot, &mut buf, srtp.len())
            .map_err(|_| "decrypt")?;
        let out = self
            .encrypt
            .encrypt_rtp(&mut self.encrypt_index, slot, &mut buf, plain.len)
            .map_err(|_| "encrypt")?;
        buf.truncate(out.len);
        Ok(buf)
    }
}

fn plain(rng: &mut XorShift, seq: u16, ssrc: u32) -> Vec<u8> {
    let mut p = random_rtp(rng, seq, ssrc, 200);
    p[1] &= 0x80; // payload type 0 (the target's only one), marker kept
    p
}

/// A's sequence numbers wrap (ROC 0 → 1) while B's stay low; sent alternately.
fn interleaved() -> Vec<(u32, u16)> {
    let a = (65520..=65535).chain(0..16);
    let b = 1000..1032;
    a.zip(b).flat_map(|(sa, sb)| [(A, sa), (B, sb)]).collect()
}

/// Runs the interleaved flow; returns (forwarded and verified, receiver ROC guesses).
fn run(k: &mut Kernel, into_kernel: &Srtp, out_of_kernel: &Srtp, seed: u64) -> (usize, usize) {
    let mut rng = XorShift::new(seed);
    let (mut tx_a, mut tx_b) = (Endpoint::new(into_kernel), Endpoint::new(into_kernel));
    let (mut rx_a, mut rx_b) = (Endpoint::new(out_of_kernel), Endpoint::new(out_of_kernel));
    let (mut good, mut guessed) = (0, 0);
    for (ssrc, seq) in interleaved() {
        let p = plain(&mut rng, seq, ssrc);
        let (tx, rx) = if ssrc == A {
            (&mut tx_a, &mut rx_a)
        } else {
            (&mut tx_b, &mut rx_b)
        };
        let Ok(out) = k.packet(&tx.protect(&p)) else {
            continue;
        };
        if let Some((got, resync)) = rx.unprotect(&out) {
            if got == p {
                good += 1;
            }
            guessed += usize::from(resync);
        }
    }
    (good, guessed)
}

#[test]
fn two_ssrcs_in_their_own_slots_cross_a_rollover_in_every_suite() {
    for spec in SUITES.iter() {
        let mki: Vec<u8> = (1..=spec.mki_len as u8).collect();
        let inp = params(
            spec,
            &vec![0x21; spec.key_len as usize],
            &vec![0x31; spec.salt_len as usize],
            &mki,
        );
        let out = params(
            spec,
            &vec![0x22; spec.key_len as usize],
            &vec![0x32; spec.salt_len as usize],
            &mki,
        );
        let mut k = Kernel::new(&inp, &out, Some([A, B, 0, 0]));
        let (good, guessed) = run(&mut k, &inp, &out, 7);
        assert_eq!(
            good, 64,
            "{}: every packet decrypted and re-encrypted",
            spec.name
        );
        assert_eq!(
            guessed, 0,
            "{}: receivers never had to guess a ROC",
            spec.name
        );
        // The live per-slot indices blist reports: A at ROC 1, B untouched by A's wrap.
        let want = [0x1_000f, 1031, 0, 0];
        assert_eq!(
            k.decrypt_index.last_index(),
            want,
            "{}: decrypt slots",
            spec.name
        );
        assert_eq!(
            k.encrypt_index.last_index(),
            want,
            "{}: encrypt slots",
            spec.name
        );
    }
}

#[test]
fn seeded_slots_continue_each_ssrcs_roc() {
    // The daemon hands over what userspace reached: A at ROC 3 near a wrap, B at ROC 0.
    let spec = &SUITES[0];
    let mut inp = params(spec, &[0x41; 16], &[0x51; 14], &[]);
    let mut out = params(spec, &[0x42; 16], &[0x52; 14], &[]);
    inp.last_index = [(3 << 16) | 65519, 999, 0, 0];
    out.last_index = inp.last_index;
    let mut k = Kernel::new(&inp, &out, Some([A, B, 0, 0]));
    let mut rng = XorShift::new(3);
    let mut tx = [Endpoint::new(&inp), Endpoint::new(&inp)];
    let mut rx = [Endpoint::new(&out), Endpoint::new(&out)];
    for (i, e) in tx.iter_mut().chain(rx.iter_mut()).enumerate() {
        e.state.set_last_index(0, inp.last_index[i % 2]);
    }
    for (ssrc, seq) in interleaved() {
        let i = usize::from(ssrc == B);
        let p = plain(&mut rng, seq, ssrc);
        let got = k
            .packet(&tx[i].protect(&p))
            .ok()
            .and_then(|o| rx[i].unprotect(&o));
        assert_eq!(got, Some((p, false)), "ssrc {ssrc:#x} seq {seq}");
    }
    assert_eq!(k.decrypt_index.last_index(), [(4 << 16) | 15, 1031, 0, 0]);
    assert_eq!(k.encrypt_index.last_index(), [(4 << 16) | 15, 1031, 0, 0]);
}

#[test]
fn unknown_ssrc_goes_to_userspace_and_leaves_the_slots_alone() {
    let spec = &SUITES[0];
    let inp = params(spec, &[0x61; 16], &[0x71; 14], &[]);
    let out = params(spec, &[0x62; 16], &[0x72; 14], &[]);
    let mut k = Kernel::new(&inp, &out, Some([A, B, 0, 0]));
    let mut rng = XorShift::new(5);
    let mut tx_c = Endpoint::new(&inp);
    let mut tx_a = Endpoint::new(&inp);
    assert!(k.packet(&tx_a.protect(&plain(&mut rng, 500, A))).is_ok());
    assert_eq!(
        k.packet(&tx_c.protect(&plain(&mut rng, 40000, 0xcccc))),
        Err("not forwarded")
    );
    assert_eq!(k.decrypt_index.last_index(), [500, 0, 0, 0]);
}

#[test]
fn without_track_ssrc_two_senders_share_slot_0_and_receivers_see_wrong_rocs() {
    // 10.5's behaviour without track_ssrc (why the daemon sets it): the kernel still
    // decrypts (its ROC guesses resynchronise slot 0 for each sender in turn), but it
    // encrypts A's packets after the wrap with B's ROC 0, which a receiver following A
    // alone sees as a wrong ROC.
    let spec = &SUITES[0];
    let inp = params(spec, &[0x81; 16], &[0x91; 14], &[]);
    let out = params(spec, &[0x82; 16], &[0x92; 14], &[]);
    let mut k = Kernel::new(&inp, &out, None);
    let (_, guessed) = run(&mut k, &inp, &out, 11);
    assert!(guessed > 0, "shared slot: receivers had to guess ROCs");
    assert_eq!(
        k.decrypt_index.last_index()[1..],
        [0, 0, 0],
        "only slot 0 is used"
    );
}
