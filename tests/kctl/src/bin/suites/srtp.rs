//! Issue 4: in-kernel SRTP. An SRTP endpoint (A) and a plain RTP endpoint (B) talk
//! through kernel rules; every packet is checked byte for byte against the userspace
//! SRTP implementation (rtpengine-core's transforms over RustCrypto), including one
//! target carrying two SSRCs in their own index slots.

use super::net::{self, bind, recv, A4, B4, PA4, PB4};
use super::{sh, Checks};
use rtpe_kctl::{blist, main_control, Control};
use rtpengine_core::abi::{
    cipher, hmac, target_flags, Address, DestinationInfo, PayloadType, Pod, Srtp, TargetInfo,
};
use rtpengine_core::errno::*;
use rtpengine_core::srtp::rustcrypto::RustCrypto;
use rtpengine_core::srtp::{IndexState, SrtpContext};
use std::net::{SocketAddr, UdpSocket};

const TABLE: u32 = 1;

/// An SDES suite as the 10.5 daemon encodes it (docs/kernel-abi.md, "Cipher and HMAC ids").
pub(super) struct Suite {
    name: &'static str,
    cipher: u32,
    hmac: u32,
    key: usize,
    salt: usize,
    session_key: usize,
    session_salt: usize,
    tag: u32,
}

pub(super) const SUITES: &[Suite] = &[
    Suite {
        name: "AES_CM_128_HMAC_SHA1_80",
        cipher: cipher::AES_CM_128,
        hmac: hmac::HMAC_SHA1,
        key: 16,
        salt: 14,
        session_key: 16,
        session_salt: 14,
        tag: 10,
    },
    Suite {
        name: "AES_CM_128_HMAC_SHA1_32",
        cipher: cipher::AES_CM_128,
        hmac: hmac::HMAC_SHA1,
        key: 16,
        salt: 14,
        session_key: 16,
        session_salt: 14,
        tag: 4,
    },
    Suite {
        name: "AES_192_CM_HMAC_SHA1_80",
        cipher: cipher::AES_CM_192,
        hmac: hmac::HMAC_SHA1,
        key: 24,
        salt: 14,
        session_key: 24,
        session_salt: 14,
        tag: 10,
    },
    Suite {
        name: "AES_256_CM_HMAC_SHA1_80",
        cipher: cipher::AES_CM_256,
        hmac: hmac::HMAC_SHA1,
        key: 32,
        salt: 14,
        session_key: 32,
        session_salt: 14,
        tag: 10,
    },
    Suite {
        name: "F8_128_HMAC_SHA1_80",
        cipher: cipher::AES_F8,
        hmac: hmac::HMAC_SHA1,
        key: 16,
        salt: 14,
        session_key: 16,
        session_salt: 14,
        tag: 10,
    },
    Suite {
        name: "NULL_HMAC_SHA1_80",
        cipher: cipher::NULL,
        hmac: hmac::HMAC_SHA1,
        key: 16,
        salt: 14,
        session_key: 0,
        session_salt: 0,
        tag: 10,
    },
    Suite {
        name: "AEAD_AES_128_GCM",
        cipher: cipher::AEAD_AES_GCM_128,
        hmac: hmac::NULL,
        key: 16,
        salt: 12,
        session_key: 16,
        session_salt: 12,
        tag: 0,
    },
    Suite {
        name: "AEAD_AES_256_GCM",
        cipher: cipher::AEAD_AES_GCM_256,
        hmac: hmac::NULL,
        key: 32,
        salt: 12,
        session_key: 32,
        session_salt: 12,
        tag: 0,
    },
];

pub(super) fn params(s: &Suite, seed: u8, mki: &[u8]) -> Srtp {
    let mut p = Srtp::plain();
    p.cipher = s.cipher;
    p.hmac = s.hmac;
    for i in 0..s.key {
        p.master_key[i] = seed.wrapping_mul(31).wrapping_add(i as u8);
    }
    p.master_key_len = s.key as u32;
    for i in 0..s.salt {
        p.master_salt[i] = seed.wrapping_add(0x40 + i as u8);
    }
    p.master_salt_len = s.salt as u32;
    p.session_key_len = s.session_key as u32;
    p.session_salt_len = s.session_salt as u32;
    p.auth_tag_len = s.tag;
    p.mki[..mki.len()].copy_from_slice(mki);
    p.mki_len = mki.len() as u32;
    p
}

pub(super) fn rtp(seq: u16, ssrc: u32, len: usize) -> Vec<u8> {
    let mut p = vec![0x80, 0];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&(u32::from(seq).wrapping_mul(160)).to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend((0..len).map(|i| (i as u8) ^ (seq as u8)));
    p
}

/// A userspace SRTP endpoint for one direction.
pub(super) struct Endpoint {
    ctx: SrtpContext<RustCrypto>,
    state: IndexState,
}

impl Endpoint {
    pub(super) fn new(p: &Srtp) -> Self {
        let ctx = SrtpContext::new(&RustCrypto, p).expect("userspace SRTP context");
        Endpoint {
            ctx,
            state: IndexState::new(&[0; 4]),
        }
    }
    pub(super) fn protect(&mut self, plain: &[u8]) -> Vec<u8> {
        let mut buf = plain.to_vec();
        buf.resize(plain.len() + self.ctx.overhead(), 0);
        let r = self
            .ctx
            .encrypt_rtp(&mut self.state, 0, &mut buf, plain.len())
            .expect("protect");
        buf.truncate(r.len);
        buf
    }
    fn unprotect(&mut self, srtp: &[u8]) -> Option<Vec<u8>> {
        self.unprotect_index(srtp).map(|(p, _)| p)
    }
    /// The plain packet and whether its ROC had to be guessed (a sender's index not
    /// continued as this receiver expects).
    fn unprotect_index(&mut self, srtp: &[u8]) -> Option<(Vec<u8>, bool)> {
        let mut buf = srtp.to_vec();
        let r = self
            .ctx
            .decrypt_rtp(&mut self.state, 0, &mut buf, srtp.len())
            .ok()?;
        buf.truncate(r.len);
        Some((buf, r.roc_resynced))
    }
}

pub(super) fn rtp_target(local: Address, decrypt: Srtp) -> TargetInfo {
    let mut t = TargetInfo::zeroed();
    t.local = local;
    t.num_destinations = 1;
    t.decrypt = decrypt;
    t.flags = target_flags::RTP;
    t.payload_types[0] = PayloadType {
        pt: 0,
        clock_rate: 8000,
        ..Default::default()
    };
    t.num_payload_types = 1;
    t
}

fn dest(local: Address, src: Address, dst: Address, encrypt: Srtp) -> DestinationInfo {
    let mut d = DestinationInfo::zeroed();
    d.local = local;
    d.output.src_addr = src;
    d.output.dst_addr = dst;
    d.output.encrypt = encrypt;
    d
}

fn sa(a: &Address) -> SocketAddr {
    SocketAddr::from(([a.addr[0], a.addr[1], a.addr[2], a.addr[3]], a.port))
}

pub fn run(t: &mut Checks) {
    let (ok, out) = sh("modprobe xt_RTPENGINE");
    t.check("modprobe", ok, &out);
    let r = net::setup();
    t.check("namespaces", r.is_ok(), format_args!("{r:?}"));
    t.errno("add table 1", main_control("add 1\n"), 0);
    let r = net::add_rules(TABLE);
    t.check("rules", r.is_ok(), format_args!("{r:?}"));
    let mut c = Control::open(TABLE).expect("control");

    for (i, s) in SUITES.iter().enumerate() {
        let mki: &[u8] = if i == 0 {
            &[0xde, 0xad, 0xbe, 0xef]
        } else {
            &[]
        };
        srtp_to_rtp_and_back(t, &mut c, s, 40000 + 10 * i as u16, mki);
    }
    srtp_to_srtp(t, &mut c);
    two_ssrcs_one_target(t, &mut c);
    if !t.stock {
        // 10.5 accepts key lengths that do not fit the cipher.
        invalid_parameters(t, &mut c);
    }

    drop(c);
    let r = net::del_rules(TABLE);
    t.check("rules removed", r.is_ok(), format_args!("{r:?}"));
    t.errno("del table 1", main_control("del 1\n"), 0);
    let (ok, out) = sh("rmmod xt_RTPENGINE");
    t.check("rmmod", ok, &out);
}

/// A speaks SRTP with `s`, B plain RTP; the kernel decrypts A→B and encrypts B→A.
fn srtp_to_rtp_and_back(t: &mut Checks, c: &mut Control, s: &Suite, port: u16, mki: &[u8]) {
    let n = s.name;
    let pa = Address::v4(PA4, port);
    let pb = Address::v4(PB4, port + 2);
    let a = Address::v4(A4, port);
    let b = Address::v4(B4, port);
    let a_to_kernel = params(s, 1, mki);
    let kernel_to_a = params(s, 2, mki);
    t.errno(
        &format!("{n}: ADD_TARGET decrypting"),
        c.add_target(&rtp_target(pa, a_to_kernel)),
        0,
    );
    t.errno(
        &format!("{n}: ADD_DESTINATION plain to B"),
        c.add_destination(&dest(pa, pb, b, Srtp::plain())),
        0,
    );
    t.errno(
        &format!("{n}: ADD_TARGET plain"),
        c.add_target(&rtp_target(pb, Srtp::plain())),
        0,
    );
    t.errno(
        &format!("{n}: ADD_DESTINATION encrypting to A"),
        c.add_destination(&dest(pb, pa, a, kernel_to_a)),
        0,
    );

    let sa_ = bind(Some("A"), sa(&a)).unwrap();
    let sb = bind(Some("B"), sa(&b)).unwrap();
    let proxy = bind(None, sa(&pa)).unwrap();
    let mut a_tx = Endpoint::new(&a_to_kernel);
    let mut a_rx = Endpoint::new(&kernel_to_a);

    // A → B across a sequence wrap.
    let seqs = [65533u16, 65534, 65535, 0, 1, 2];
    let mut good = 0;
    for &seq in &seqs {
        let plain = rtp(seq, 0xa1a1, 160);
        sa_.send_to(&a_tx.protect(&plain), sa(&pa)).unwrap();
        match recv(&sb) {
            Ok(r) if r.data == plain => good += 1,
            other => t.check(
                &format!("{n}: A→B seq {seq}"),
                false,
                format_args!("{other:?}"),
            ),
        }
    }
    t.check(
        &format!("{n}: SRTP→RTP decrypted byte-exact across a seq wrap"),
        good == seqs.len(),
        good,
    );

    // Tampered: error counted, not forwarded, handed to userspace.
    let mut bad = a_tx.protect(&rtp(3, 0xa1a1, 160));
    let last = bad.len() - 1;
    bad[last] ^= 1;
    sa_.send_to(&bad, sa(&pa)).unwrap();
    t.check(
        &format!("{n}: tampered packet not forwarded"),
        recv(&sb).is_err(),
        "",
    );
    t.check(
        &format!("{n}: tampered packet goes to userspace"),
        matches!(recv(&proxy), Ok(r) if r.data == bad),
        "",
    );
    // A replayed packet is not forwarded twice.
    // 10.5 has no replay protection: it forwards the copy too.
    let replay = a_tx.protect(&rtp(4, 0xa1a1, 160));
    sa_.send_to(&replay, sa(&pa)).unwrap();
    let first = recv(&sb);
    sa_.send_to(&replay, sa(&pa)).unwrap();
    let second = recv(&sb);
    t.check(
        &format!("{n}: replayed packet forwarded once"),
        first.is_ok() && second.is_err() != t.stock,
        "",
    );

    let (packets, errors) = if t.stock { (8, 1) } else { (7, 2) };
    let e = blist(TABLE)
        .ok()
        .and_then(|v| v.into_iter().find(|e| e.target.local == pa));
    t.check(
        &format!("{n}: counters ({packets} forwarded, {errors} errors) and live ROC in blist"),
        matches!(&e, Some(e) if e.stats.packets == packets && e.stats.errors == errors && e.target.decrypt.last_index[0] == 0x1_0004),
        format_args!("{:?}", e.map(|e| (e.stats, e.target.decrypt.last_index))),
    );

    // A sender one ROC ahead of the target's index: the first tag check fails and the
    // ROC+1 guess must see the packet as it arrived (GCM decrypts before it checks the
    // tag, so a failed try has to be undone). Unauthenticated suites cannot guess.
    let aead = matches!(
        s.cipher,
        cipher::AEAD_AES_GCM_128 | cipher::AEAD_AES_GCM_256
    );
    if s.tag > 0 || aead {
        let mut ahead = Endpoint::new(&a_to_kernel);
        ahead.state = IndexState::new(&[0x2_0005, 0, 0, 0]);
        let plain = rtp(6, 0xa1a1, 160);
        sa_.send_to(&ahead.protect(&plain), sa(&pa)).unwrap();
        let got = recv(&sb);
        t.check(
            &format!("{n}: ROC+1 guessed after a failed tag, decrypted byte-exact"),
            matches!(&got, Ok(r) if r.data == plain),
            format_args!("{got:?}"),
        );
    }

    // B → A: the kernel encrypts; A's userspace decrypts and compares.
    let mut good = 0;
    for &seq in &seqs {
        let plain = rtp(seq, 0xb2b2, 100);
        sb.send_to(&plain, sa(&pb)).unwrap();
        match recv(&sa_) {
            Ok(r) if a_rx.unprotect(&r.data).as_deref() == Some(&plain[..]) => good += 1,
            other => t.check(
                &format!("{n}: B→A seq {seq}"),
                false,
                format_args!("{other:?}"),
            ),
        }
    }
    t.check(
        &format!("{n}: RTP→SRTP verified by userspace across a seq wrap"),
        good == seqs.len(),
        good,
    );

    t.errno(&format!("{n}: DEL_TARGET"), c.del_target(&pa), 0);
    t.errno(&format!("{n}: DEL_TARGET reverse"), c.del_target(&pb), 0);
    drop((sa_, sb, proxy));
}

/// AES-CM in, AES-GCM out, different keys.
fn srtp_to_srtp(t: &mut Checks, c: &mut Control) {
    let (pa, pb) = (Address::v4(PA4, 41000), Address::v4(PB4, 41002));
    let (a, b) = (Address::v4(A4, 41000), Address::v4(B4, 41000));
    let inp = params(&SUITES[0], 7, &[]);
    let out = params(&SUITES[6], 9, &[]);
    t.errno(
        "SRTP→SRTP: ADD_TARGET",
        c.add_target(&rtp_target(pa, inp)),
        0,
    );
    t.errno(
        "SRTP→SRTP: ADD_DESTINATION",
        c.add_destination(&dest(pa, pb, b, out)),
        0,
    );
    let sa_: UdpSocket = bind(Some("A"), sa(&a)).unwrap();
    let sb = bind(Some("B"), sa(&b)).unwrap();
    let (mut tx, mut rx) = (Endpoint::new(&inp), Endpoint::new(&out));
    let mut good = 0;
    for seq in 100..110u16 {
        let plain = rtp(seq, 0xc3c3, 172);
        sa_.send_to(&tx.protect(&plain), sa(&pa)).unwrap();
        if matches!(recv(&sb), Ok(r) if rx.unprotect(&r.data).as_deref() == Some(&plain[..])) {
            good += 1;
        }
    }
    t.check(
        "SRTP(AES-CM)→SRTP(GCM) with different keys, 10 packets",
        good == 10,
        good,
    );
    t.errno("SRTP→SRTP: DEL_TARGET", c.del_target(&pa), 0);
}

/// Issue 7e: one SRTP target tracking two SSRCs (as the 10.5 daemon sets it up:
/// `track_ssrc`, one slot per SSRC). A and B are separate senders, interleaved; A's
/// sequence wraps (ROC 0 → 1) while B's does not. Both are decrypted and re-encrypted
/// (AES-CM in, AES-GCM out) in their own index slot, so two independent receivers
/// verify every packet without guessing a ROC; blist shows each slot's last_index, and
/// an SSRC in no slot goes to userspace.
fn two_ssrcs_one_target(t: &mut Checks, c: &mut Control) {
    const A: u32 = 0xaaaa_0001;
    const B: u32 = 0xbbbb_0002;
    let n = "two SSRCs";
    let (pa, pb) = (Address::v4(PA4, 43000), Address::v4(PB4, 43002));
    let (a, b) = (Address::v4(A4, 43000), Address::v4(B4, 43000));
    let inp = params(&SUITES[0], 11, &[]);
    let out = params(&SUITES[6], 12, &[]);
    let mut target = rtp_target(pa, inp);
    target.flags |= target_flags::TRACK_SSRC | target_flags::RTP_STATS;
    target.ssrc = [A.to_be(), B.to_be(), 0, 0];
    t.errno(
        &format!("{n}: ADD_TARGET with track_ssrc"),
        c.add_target(&target),
        0,
    );
    t.errno(
        &format!("{n}: ADD_DESTINATION"),
        c.add_destination(&dest(pa, pb, b, out)),
        0,
    );
    let sa_ = bind(Some("A"), sa(&a)).unwrap();
    let sb = bind(Some("B"), sa(&b)).unwrap();
    let proxy = bind(None, sa(&pa)).unwrap();
    let mut tx = [Endpoint::new(&inp), Endpoint::new(&inp)];
    let mut rx = [Endpoint::new(&out), Endpoint::new(&out)];

    let a_seqs = (65520..=65535u16).chain(0..16);
    let (mut good, mut guessed, mut sent) = (0, 0, 0);
    for (sa_seq, sb_seq) in a_seqs.zip(1000..1032u16) {
        for (i, ssrc, seq) in [(0, A, sa_seq), (1, B, sb_seq)] {
            let plain = rtp(seq, ssrc, 120);
            sa_.send_to(&tx[i].protect(&plain), sa(&pa)).unwrap();
            sent += 1;
            match recv(&sb).ok().and_then(|r| rx[i].unprotect_index(&r.data)) {
                Some((p, resync)) if p == plain => {
                    good += 1;
                    guessed += usize::from(resync);
                }
                other => t.check(
                    &format!("{n}: ssrc {ssrc:#x} seq {seq}"),
                    false,
                    format_args!("{other:?}"),
                ),
            }
        }
    }
    t.check(
        &format!(
            "{n}: {sent} interleaved packets decrypted and re-encrypted, A across a ROC rollover"
        ),
        good == sent,
        good,
    );
    t.check(
        &format!("{n}: receivers never guessed a ROC (each SSRC kept its own index)"),
        guessed == 0,
        guessed,
    );

    // An SSRC in no slot: counted as an error and handed to userspace.
    let stray = tx[0].protect(&rtp(40000, 0xcccc_0003, 120));
    sa_.send_to(&stray, sa(&pa)).unwrap();
    t.check(
        &format!("{n}: unknown SSRC not forwarded"),
        recv(&sb).is_err(),
        "",
    );
    t.check(
        &format!("{n}: unknown SSRC goes to userspace"),
        matches!(recv(&proxy), Ok(r) if r.data == stray),
        "",
    );

    let want = [0x1_000f, 1031, 0, 0];
    let e = blist(TABLE)
        .ok()
        .and_then(|v| v.into_iter().find(|e| e.target.local == pa));
    t.check(
        &format!("{n}: blist: {sent} packets, 1 error, last_index per slot in and out {want:x?}"),
        matches!(&e, Some(e) if e.stats.packets == sent as u64 && e.stats.errors == 1
            && e.target.decrypt.last_index == want && e.outputs[0].encrypt.last_index == want),
        format_args!(
            "{:?}",
            e.map(|e| (
                (e.stats.packets, e.stats.errors),
                format!("in {:x?}", e.target.decrypt.last_index),
                format!("out {:x?}", e.outputs[0].encrypt.last_index),
            ))
        ),
    );
    let s = c.stats(&pa, true);
    t.check(
        &format!("{n}: GET_RESET_STATS: 32 packets per SSRC slot"),
        matches!(&s, Ok(s) if s.ssrc == target.ssrc && s.ssrc_stats[0].packets == 32 && s.ssrc_stats[1].packets == 32
            && s.ssrc_stats[2].packets == 0),
        format_args!("{s:?}"),
    );
    let s = c.stats(&pa, false);
    t.check(
        &format!("{n}: GET_STATS after reset: 0 packets"),
        matches!(&s, Ok(s) if s.ssrc_stats.iter().all(|x| x.packets == 0)),
        format_args!("{s:?}"),
    );
    t.errno(&format!("{n}: DEL_TARGET"), c.del_target(&pa), 0);
    drop((sa_, sb, proxy));
}

fn invalid_parameters(t: &mut Checks, c: &mut Control) {
    let pa = Address::v4(PA4, 42000);
    let mut p = params(&SUITES[0], 1, &[]);
    p.master_key_len = 17;
    t.errno(
        "AES-CM-128 with a 17-byte key → EINVAL",
        c.add_target(&rtp_target(pa, p)),
        EINVAL.0,
    );
    let mut p = params(&SUITES[0], 1, &[]);
    p.mki_len = 300;
    t.errno(
        "MKI longer than 256 → EINVAL",
        c.add_target(&rtp_target(pa, p)),
        EINVAL.0,
    );
    let mut p = params(&SUITES[0], 1, &[]);
    p.auth_tag_len = 21;
    t.errno(
        "auth tag longer than 20 → EINVAL",
        c.add_target(&rtp_target(pa, p)),
        EINVAL.0,
    );
    t.errno(
        "valid again",
        c.add_target(&rtp_target(pa, params(&SUITES[0], 1, &[]))),
        0,
    );
    let mut d = dest(
        pa,
        Address::v4(PB4, 42002),
        Address::v4(B4, 42000),
        params(&SUITES[6], 1, &[]),
    );
    d.output.encrypt.master_key_len = 20;
    t.errno(
        "GCM output with a 20-byte key → EINVAL",
        c.add_destination(&d),
        EINVAL.0,
    );
    t.errno("DEL_TARGET", c.del_target(&pa), 0);
}
