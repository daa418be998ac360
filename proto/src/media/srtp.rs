//! Userspace SRTP/SRTCP on the relay path, with the transform of the no_std
//! core crate (`rtpengine_core::srtp`, RustCrypto back end) that the kernel
//! module also runs. A stream decrypts what its peer sends (`srtp_in`) and
//! encrypts what goes out of its socket to the peer (`srtp_out`).
//!
//! Session parameters (RFC 4568 §6.3), applied as rtpengine 10.5 does:
//! - UNENCRYPTED_SRTP, UNAUTHENTICATED_SRTP: SRTP only, both ways (`SrtpParams::srtp`,
//!   also what a kernel target gets). SRTCP keeps the suite's cipher and its tag.
//! - UNENCRYPTED_SRTCP: SRTCP we send goes out with E = 0, clear but authenticated.
//!   Received SRTCP is decrypted or not by its E flag whatever was negotiated (10.5's
//!   `rtcp_savp2avp`), so a peer sending E = 0 without the parameter is accepted.

use rtpengine_core::abi::{self, MAX_SSRC};
use rtpengine_core::rtp::is_muxed_rtcp;
use rtpengine_core::srtp::rustcrypto::RustCrypto;
use rtpengine_core::srtp::{IndexState, SrtcpReplay, SrtpContext, SrtpError};

use crate::call::{SrtpState, SsrcIndex};
use crate::srtp::SrtpParams;

/// One direction's SRTP and SRTCP contexts and their running state, owned by the
/// stream's engine (no lock: one task uses it).
pub struct SrtpDirection {
    params: SrtpParams,
    rtp: SrtpContext<RustCrypto>,
    rtcp: SrtpContext<RustCrypto>,
    index: IndexState,
    /// SSRC of each index slot, in order of first appearance.
    ssrcs: [Option<u32>; MAX_SSRC],
    /// Receive side: SRTCP replay window per slot.
    rtcp_replay: [SrtcpReplay; MAX_SSRC],
    /// Send side: next SRTCP index.
    rtcp_index: u32,
}

impl SrtpDirection {
    pub fn new(params: &SrtpParams) -> Result<SrtpDirection, SrtpError> {
        let srtp = params.srtp();
        Ok(SrtpDirection {
            params: *params,
            rtp: SrtpContext::new(&RustCrypto, &srtp)?,
            rtcp: SrtpContext::new_rtcp(&RustCrypto, &params.srtcp())?,
            index: IndexState::new(&srtp.last_index),
            ssrcs: [None; MAX_SSRC],
            rtcp_replay: [SrtcpReplay::default(); MAX_SSRC],
            rtcp_index: 0,
        })
    }

    pub fn params(&self) -> &SrtpParams {
        &self.params
    }

    /// The index slot of `ssrc`; with more senders than slots the last is shared.
    fn slot(&mut self, ssrc: u32) -> usize {
        if let Some(i) = self.ssrcs.iter().position(|s| *s == Some(ssrc)) {
            return i;
        }
        match self.ssrcs.iter().position(Option::is_none) {
            Some(i) => {
                self.ssrcs[i] = Some(ssrc);
                i
            }
            None => MAX_SSRC - 1,
        }
    }

    /// Whether RTP from `ssrc` would take a free index slot now (an SSRC that a
    /// kernel target installed earlier cannot know). Once all slots are taken,
    /// later SSRCs share the last one, as in the kernel, and change nothing.
    pub fn would_take_slot(&self, ssrc: u32) -> bool {
        !self.ssrcs.contains(&Some(ssrc)) && self.ssrcs.contains(&None)
    }

    /// Verifies and decrypts the `len` bytes at the start of `buf` (SRTP or
    /// SRTCP) in place; returns the plain length.
    pub fn unprotect_in_place(&mut self, buf: &mut [u8], len: usize) -> Result<usize, SrtpError> {
        let packet = buf.get(..len).ok_or(SrtpError::LengthBeyondBuffer)?;
        if is_muxed_rtcp(packet) {
            let slot = self.slot(ssrc_at(packet, 4));
            let got = self
                .rtcp
                .decrypt_rtcp(&mut self.rtcp_replay[slot], buf, len)?;
            Ok(got.len)
        } else {
            let slot = self.slot(ssrc_at(packet, 8));
            let got = self.rtp.decrypt_rtp(&mut self.index, slot, buf, len)?;
            Ok(got.len)
        }
    }

    /// Encrypts and authenticates the `len` bytes at the start of `buf` (RTP or
    /// RTCP) in place; `buf` must have room for the tag. Returns the new length.
    pub fn protect_in_place(&mut self, buf: &mut [u8], len: usize) -> Result<usize, SrtpError> {
        let packet = buf.get(..len).ok_or(SrtpError::LengthBeyondBuffer)?;
        if is_muxed_rtcp(packet) {
            let room = buf.get_mut(..len + self.rtcp.rtcp_overhead());
            let buf = room.ok_or(SrtpError::LengthBeyondBuffer)?;
            let index = self.rtcp_index;
            self.rtcp_index = (index + 1) & rtpengine_core::srtp::SRTCP_INDEX_MASK;
            if self.params.session.unencrypted_srtcp {
                self.rtcp.encrypt_rtcp_unencrypted(index, buf, len)
            } else {
                self.rtcp.encrypt_rtcp(index, buf, len)
            }
        } else {
            let slot = self.slot(ssrc_at(packet, 8));
            let room = buf.get_mut(..len + self.rtp.overhead());
            let buf = room.ok_or(SrtpError::LengthBeyondBuffer)?;
            let got = self.rtp.encrypt_rtp(&mut self.index, slot, buf, len)?;
            Ok(got.len)
        }
    }

    /// Verifies and decrypts `packet` in place (a growable buffer).
    pub fn unprotect(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        let len = packet.len();
        let n = self.unprotect_in_place(packet, len)?;
        packet.truncate(n);
        Ok(())
    }

    /// Encrypts and authenticates `packet` in place (a growable buffer).
    pub fn protect(&mut self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        let len = packet.len();
        packet.resize(len + self.rtp.overhead().max(self.rtcp.rtcp_overhead()), 0);
        match self.protect_in_place(packet, len) {
            Ok(n) => {
                packet.truncate(n);
                Ok(())
            }
            Err(e) => {
                packet.truncate(len);
                Err(e)
            }
        }
    }

    /// Highest RTP index per slot (to seed a kernel target and keep the ROC).
    pub fn last_index(&self) -> [u64; MAX_SSRC] {
        self.index.last_index()
    }

    /// The SSRC of each index slot (the kernel target's SSRC slots, see
    /// `kernel::target::track_ssrcs`).
    pub fn ssrcs(&self) -> [Option<u32>; MAX_SSRC] {
        self.ssrcs
    }

    /// The negotiated SRTP parameters (session parameters applied) with the live
    /// per-slot index, for a kernel target.
    pub fn kernel_params(&self) -> abi::Srtp {
        let mut p = self.params.srtp();
        p.last_index = self.last_index();
        p
    }

    /// Where each SSRC that decrypted here stands: its highest SRTP index
    /// and highest SRTCP index.
    pub fn received(&self) -> Vec<SsrcIndex> {
        self.known()
            .map(|(slot, ssrc)| SsrcIndex {
                ssrc,
                rtp: self.index.last(slot),
                rtcp: self.rtcp_replay[slot].last().map_or(0, u64::from),
            })
            .collect()
    }

    /// Where each SSRC encrypted here stands: its highest SRTP index, and
    /// the SRTCP index the next RTCP packet gets (one per direction).
    pub fn sent(&self) -> Vec<SsrcIndex> {
        self.known()
            .map(|(slot, ssrc)| SsrcIndex {
                ssrc,
                rtp: self.index.last(slot),
                rtcp: u64::from(self.rtcp_index),
            })
            .collect()
    }

    fn known(&self) -> impl Iterator<Item = (usize, u32)> + '_ {
        self.ssrcs
            .iter()
            .enumerate()
            .filter_map(|(slot, s)| s.map(|s| (slot, s)))
    }

    /// Continues where another run left `list` (see [`received`] and
    /// [`sent`]): each SSRC takes a slot with its SRTP index, so the ROC
    /// carries on. `sending`: the SRTCP index is the next to send, else the
    /// highest received.
    ///
    /// [`received`]: SrtpDirection::received
    /// [`sent`]: SrtpDirection::sent
    pub fn resume(&mut self, list: &[SsrcIndex], sending: bool) {
        for e in list {
            if !self.would_take_slot(e.ssrc) && !self.ssrcs.contains(&Some(e.ssrc)) {
                break;
            }
            let slot = self.slot(e.ssrc);
            if e.rtp > self.index.last(slot) {
                self.index.set_last_index(slot, e.rtp);
            }
            let rtcp = (e.rtcp & u64::from(rtpengine_core::srtp::SRTCP_INDEX_MASK)) as u32;
            if sending {
                self.rtcp_index = self.rtcp_index.max(rtcp);
            } else if rtcp > 0 && self.rtcp_replay[slot].last().is_none() {
                self.rtcp_replay[slot].accept(rtcp);
            }
        }
    }

    /// Takes back the index the kernel reached while it forwarded, so the ROC
    /// continues in userspace. Both saw the same sequence space and an index only
    /// grows: the higher one is right. A slot the kernel did not move (still its
    /// seed, or empty when the target was installed) but userspace did since (a new
    /// SSRC that reached it) keeps userspace's, and its replay window.
    pub fn resume_from_kernel(&mut self, kernel_last_index: &[u64; MAX_SSRC]) {
        for (slot, &index) in kernel_last_index.iter().enumerate() {
            if index > self.index.last(slot) {
                self.index.set_last_index(slot, index);
            }
        }
    }
}

/// `packet` verified and decrypted, `None` if it fails (to be dropped).
pub fn unprotect(direction: &mut SrtpDirection, packet: &[u8]) -> Option<Vec<u8>> {
    let mut buf = packet.to_vec();
    direction.unprotect(&mut buf).ok().map(|()| buf)
}

/// `packet` encrypted and authenticated, `None` if it cannot be (not RTP).
pub fn protect(direction: &mut SrtpDirection, packet: &[u8]) -> Option<Vec<u8>> {
    let mut buf = packet.to_vec();
    direction.protect(&mut buf).ok().map(|()| buf)
}

fn ssrc_at(packet: &[u8], at: usize) -> u32 {
    packet
        .get(at..at + 4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// A stream's SDES-SRTP, both directions; `None` where that direction is plain.
/// Replaced only when signalling changes its parameters, so a re-INVITE with the
/// same keys keeps ROC and replay state. Each replacement of a direction gets a
/// new `epoch`: an SRTP index the kernel hands back belongs to the epoch the
/// target was installed with.
#[derive(Default)]
pub struct StreamSrtp {
    pub decrypt: Option<SrtpDirection>,
    pub encrypt: Option<SrtpDirection>,
    pub epoch: u64,
}

impl std::fmt::Debug for StreamSrtp {
    // Keys stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamSrtp")
            .field("decrypt", &self.decrypt.is_some())
            .field("encrypt", &self.encrypt.is_some())
            .finish()
    }
}

impl StreamSrtp {
    pub fn any(&self) -> bool {
        self.decrypt.is_some() || self.encrypt.is_some()
    }

    /// Where this stream's SSRCs stand (`None` without SRTP).
    pub fn state(&self) -> Option<SrtpState> {
        self.any().then(|| SrtpState {
            received: self
                .decrypt
                .as_ref()
                .map_or_else(Vec::new, |d| d.received()),
            sent: self.encrypt.as_ref().map_or_else(Vec::new, |d| d.sent()),
        })
    }

    /// Continues `state` (a restored call's) in both directions.
    pub fn resume(&mut self, state: &SrtpState) {
        if let Some(d) = self.decrypt.as_mut() {
            d.resume(&state.received, false);
        }
        if let Some(d) = self.encrypt.as_mut() {
            d.resume(&state.sent, true);
        }
    }

    /// Installs the parameters signalling chose. Bad parameters (which the
    /// negotiation never produces) leave that direction plain and are
    /// returned for the log.
    pub fn update(
        &mut self,
        decrypt: Option<&SrtpParams>,
        encrypt: Option<&SrtpParams>,
    ) -> Result<(), SrtpError> {
        let same = |have: &Option<SrtpDirection>, want: Option<&SrtpParams>| {
            have.as_ref().map(|d| &d.params) == want
        };
        if same(&self.decrypt, decrypt) && same(&self.encrypt, encrypt) {
            return Ok(());
        }
        let mut result = Ok(());
        let mut build = |p: Option<&SrtpParams>| {
            p.and_then(|p| SrtpDirection::new(p).map_err(|e| result = Err(e)).ok())
        };
        self.decrypt = build(decrypt);
        self.encrypt = build(encrypt);
        self.epoch += 1;
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdp::crypto::CryptoAttribute;
    use crate::srtp::Suite;

    fn params(suite: &str, fill: u8) -> SrtpParams {
        let s = Suite::by_name(suite).unwrap();
        let c = CryptoAttribute {
            tag: 1,
            suite: s.name.into(),
            key_salt: (0..s.key_salt_len() as u8).map(|i| i ^ fill).collect(),
            lifetime: None,
            mki: None,
            session_params: vec![],
        };
        s.srtp_params(&c)
    }

    fn rtp_packet(seq: u16) -> Vec<u8> {
        let mut p = vec![0x80, 0x00];
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0, 1, 0xde, 0xad, 0xbe, 0xef]);
        p.extend((0..160).map(|i| i as u8));
        p
    }

    #[test]
    fn every_suite_round_trips_and_tampering_is_refused() {
        for suite in crate::srtp::SUITES {
            let p = params(suite.name, 0x5a);
            let mut tx = SrtpDirection::new(&p).unwrap_or_else(|e| panic!("{}: {e:?}", suite.name));
            let mut rx = SrtpDirection::new(&p).unwrap();
            for seq in [1u16, 2, 3] {
                let plain = rtp_packet(seq);
                let mut pkt = plain.clone();
                tx.protect(&mut pkt).unwrap();
                assert_ne!(pkt, plain, "{}", suite.name);
                let mut bad = pkt.clone();
                let last = bad.len() - 1;
                bad[last] ^= 1;
                assert!(
                    rx.unprotect(&mut bad).is_err(),
                    "{} tampered accepted",
                    suite.name
                );
                rx.unprotect(&mut pkt).unwrap();
                assert_eq!(pkt, plain, "{}", suite.name);
            }
            // SRTCP (a receiver report).
            let plain_rtcp = vec![0x80, 201, 0, 1, 0xde, 0xad, 0xbe, 0xef];
            let mut r = plain_rtcp.clone();
            tx.protect(&mut r).unwrap();
            rx.unprotect(&mut r).unwrap();
            assert_eq!(r, plain_rtcp, "{} rtcp", suite.name);
        }
    }

    #[test]
    fn other_keys_fail_and_replay_is_refused() {
        let mut tx = SrtpDirection::new(&params("AES_CM_128_HMAC_SHA1_80", 1)).unwrap();
        let mut rx_wrong = SrtpDirection::new(&params("AES_CM_128_HMAC_SHA1_80", 2)).unwrap();
        let mut rx = SrtpDirection::new(&params("AES_CM_128_HMAC_SHA1_80", 1)).unwrap();
        let mut pkt = rtp_packet(7);
        tx.protect(&mut pkt).unwrap();
        assert!(rx_wrong.unprotect(&mut pkt.clone()).is_err());
        rx.unprotect(&mut pkt.clone()).unwrap();
        assert!(
            rx.unprotect(&mut pkt.clone()).is_err(),
            "replayed packet accepted"
        );
    }

    fn with_session(suite: &str, session: &[&str]) -> SrtpParams {
        let s = Suite::by_name(suite).unwrap();
        let c = CryptoAttribute {
            tag: 1,
            suite: s.name.into(),
            key_salt: (0..s.key_salt_len() as u8)
                .map(|i| i.wrapping_mul(7))
                .collect(),
            lifetime: None,
            mki: None,
            session_params: session.iter().map(|p| p.to_string()).collect(),
        };
        s.srtp_params(&c)
    }

    fn rtcp_packet() -> Vec<u8> {
        let mut p = vec![0x81, 201, 0, 7, 0xde, 0xad, 0xbe, 0xef];
        p.extend((0..24).map(|i| 0x40 + i as u8));
        p
    }

    /// The E flag and index word of a protected SRTCP packet of `plain_len` bytes.
    fn e_word(srtcp: &[u8], plain_len: usize, gcm: bool) -> u32 {
        let at = plain_len + if gcm { 16 } else { 0 };
        u32::from_be_bytes(srtcp[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn session_parameters_leave_payload_clear_or_unauthenticated() {
        let plain = rtp_packet(5);
        let mut clear = SrtpDirection::new(&with_session(
            "AES_CM_128_HMAC_SHA1_80",
            &["UNENCRYPTED_SRTP"],
        ))
        .unwrap();
        let mut p = plain.clone();
        clear.protect(&mut p).unwrap();
        assert_eq!(&p[..plain.len()], &plain[..], "payload must stay clear");
        assert_eq!(p.len(), plain.len() + 10, "but carry the tag");
        let mut unauth = SrtpDirection::new(&with_session(
            "AES_CM_128_HMAC_SHA1_80",
            &["UNAUTHENTICATED_SRTP"],
        ))
        .unwrap();
        let mut p = plain.clone();
        unauth.protect(&mut p).unwrap();
        assert_eq!(p.len(), plain.len(), "no tag");
        assert_ne!(p, plain, "but encrypted");
    }

    #[test]
    fn srtp_parameters_leave_srtcp_encrypted_and_authenticated() {
        // 10.5 consults only UNENCRYPTED_SRTCP for SRTCP; before, UNENCRYPTED_SRTP sent
        // SRTCP in the clear and could not decrypt a peer's encrypted SRTCP.
        for suite in crate::srtp::SUITES {
            let gcm = suite.name.starts_with("AEAD");
            let null = suite.name.starts_with("NULL");
            for param in ["UNENCRYPTED_SRTP", "UNAUTHENTICATED_SRTP"] {
                let params = with_session(suite.name, &[param]);
                let mut tx = SrtpDirection::new(&params).unwrap();
                let plain = rtcp_packet();
                let mut p = plain.clone();
                tx.protect(&mut p).unwrap();
                let what = format!("{} {param}", suite.name);
                assert_eq!(
                    p.len(),
                    plain.len() + 4 + if gcm { 16 } else { 10 },
                    "{what}: SRTCP tag"
                );
                assert_eq!(
                    e_word(&p, plain.len(), gcm),
                    0x8000_0000 * u32::from(!null),
                    "{what}: E flag, index 0"
                );
                assert_eq!(
                    p[8..plain.len()] == plain[8..],
                    null,
                    "{what}: SRTCP encrypted"
                );
                // The peer's SRTCP (same keys, no parameters) is decrypted.
                let mut plain_suite = SrtpDirection::new(&with_session(suite.name, &[])).unwrap();
                let mut from_peer = plain.clone();
                plain_suite.protect(&mut from_peer).unwrap();
                let mut rx = SrtpDirection::new(&params).unwrap();
                rx.unprotect(&mut from_peer).unwrap();
                assert_eq!(from_peer, plain, "{what}: SRTCP decrypted");
                let mut bad = p.clone();
                bad[9] ^= 1;
                assert!(
                    rx.unprotect(&mut bad).is_err(),
                    "{what}: tampered SRTCP accepted"
                );
            }
        }
    }

    #[test]
    fn unencrypted_srtcp_sends_e0_and_any_e_flag_is_received() {
        for suite in crate::srtp::SUITES {
            let gcm = suite.name.starts_with("AEAD");
            let what = suite.name;
            let unenc = with_session(suite.name, &["UNENCRYPTED_SRTCP"]);
            let mut tx = SrtpDirection::new(&unenc).unwrap();
            let plain = rtcp_packet();
            for index in 0..3u32 {
                let mut p = plain.clone();
                tx.protect(&mut p).unwrap();
                assert_eq!(&p[..plain.len()], &plain[..], "{what}: clear");
                assert_eq!(
                    p.len(),
                    plain.len() + 4 + if gcm { 16 } else { 10 },
                    "{what}: authenticated"
                );
                assert_eq!(e_word(&p, plain.len(), gcm), index, "{what}: E = 0");
                // A receiver that negotiated encryption takes E = 0 as 10.5 does ...
                let encrypted = with_session(suite.name, &[]);
                let mut rx = SrtpDirection::new(&encrypted).unwrap();
                let mut got = p.clone();
                let mut bad = p.clone();
                rx.unprotect(&mut got).unwrap();
                assert_eq!(got, plain, "{what}");
                // ... but only authenticated.
                bad[plain.len() - 1] ^= 0x10;
                assert!(
                    SrtpDirection::new(&encrypted)
                        .unwrap()
                        .unprotect(&mut bad)
                        .is_err(),
                    "{what}: tampered"
                );
            }
            // SRTP is unaffected.
            let mut r = rtp_packet(9);
            tx.protect(&mut r).unwrap();
            assert_eq!(
                r[12..172] == rtp_packet(9)[12..],
                suite.name.starts_with("NULL"),
                "{what}: SRTP"
            );
            // A receiver with the parameter still decrypts a peer that sets E.
            let mut from_peer = plain.clone();
            SrtpDirection::new(&with_session(suite.name, &[]))
                .unwrap()
                .protect(&mut from_peer)
                .unwrap();
            SrtpDirection::new(&unenc)
                .unwrap()
                .unprotect(&mut from_peer)
                .unwrap();
            assert_eq!(from_peer, plain, "{what}: E = 1 received");
        }
    }

    #[test]
    fn kernel_gets_the_srtp_parameters_only() {
        let p = |s: &[&str]| {
            SrtpDirection::new(&with_session("AES_CM_128_HMAC_SHA1_80", s))
                .unwrap()
                .kernel_params()
        };
        let base = p(&[]);
        assert_eq!(
            (base.cipher, base.hmac, base.auth_tag_len),
            (abi::cipher::AES_CM_128, abi::hmac::HMAC_SHA1, 10)
        );
        assert_eq!(
            p(&["UNENCRYPTED_SRTCP"]),
            base,
            "SRTCP never reaches the kernel"
        );
        assert_eq!(
            p(&["UNENCRYPTED_SRTP"]),
            abi::Srtp {
                cipher: abi::cipher::NULL,
                ..base
            }
        );
        assert_eq!(
            p(&["UNAUTHENTICATED_SRTP"]),
            abi::Srtp {
                auth_tag_len: 0,
                ..base
            }
        );
        let gcm = SrtpDirection::new(&with_session("AEAD_AES_128_GCM", &["UNENCRYPTED_SRTP"]))
            .unwrap()
            .kernel_params();
        assert_eq!(
            (gcm.cipher, gcm.hmac),
            (abi::cipher::NULL, abi::hmac::NULL),
            "10.5: no protection left"
        );
    }

    #[test]
    fn kernel_handover_carries_the_index_both_ways() {
        let p = params("AES_CM_128_HMAC_SHA1_80", 4);
        let mut tx = SrtpDirection::new(&p).unwrap();
        let mut rx = SrtpDirection::new(&p).unwrap();
        let mut first = rtp_packet(65_530);
        tx.protect(&mut first).unwrap();
        rx.unprotect(&mut first).unwrap();
        let seeded = rx.kernel_params();
        assert_eq!(
            seeded.last_index[0], 65_530,
            "kernel starts where userspace is"
        );
        assert_eq!(seeded.master_key, p.keys.master_key);
        // The kernel forwarded across the sequence wrap (ROC 1) in both directions.
        let mut kernel = [0u64; MAX_SSRC];
        kernel[0] = (1 << 16) | 40_000;
        tx.resume_from_kernel(&kernel);
        rx.resume_from_kernel(&kernel);
        assert_eq!(rx.last_index(), kernel);
        let plain = rtp_packet(40_001);
        let mut pkt = plain.clone();
        tx.protect(&mut pkt).unwrap();
        let sent = pkt.clone();
        rx.unprotect(&mut pkt).unwrap();
        assert_eq!(pkt, plain);
        assert_eq!(rx.last_index()[0], (1 << 16) | 40_001, "ROC continued");
        // The sender protected with ROC 1: a receiver still at ROC 0 finds the
        // packet only by the ROC+1 guess, and lands on the same index.
        let mut behind = SrtpDirection::new(&p).unwrap();
        let mut roc0 = [0u64; MAX_SSRC];
        roc0[0] = 40_000;
        behind.resume_from_kernel(&roc0);
        behind.unprotect(&mut sent.clone()).unwrap();
        assert_eq!(behind.last_index()[0], (1 << 16) | 40_001);
        // A slot the kernel never moved (a second SSRC reached userspace after the
        // target was installed without it) keeps what userspace reached.
        let mut second = rtp_packet(30_000);
        second[8..12].copy_from_slice(&0x0bad_cafe_u32.to_be_bytes());
        let expect = second.clone();
        tx.protect(&mut second).unwrap();
        rx.unprotect(&mut second).unwrap();
        assert_eq!(second, expect);
        assert_eq!(rx.last_index()[1], 30_000);
        rx.resume_from_kernel(&kernel);
        assert_eq!(
            rx.last_index()[1],
            30_000,
            "not reset to the kernel's empty slot"
        );
        assert_eq!(
            rx.last_index()[0],
            (1 << 16) | 40_001,
            "the kernel's older index is not taken"
        );
    }

    #[test]
    fn update_keeps_state_for_same_parameters() {
        let mut s = StreamSrtp::default();
        let p = params("AES_CM_128_HMAC_SHA1_32", 3);
        s.update(Some(&p), None).unwrap();
        let first = s.epoch;
        let mut pkt = rtp_packet(9);
        s.decrypt.as_mut().unwrap().protect(&mut pkt).unwrap();
        s.update(Some(&p), None).unwrap();
        assert_eq!(s.epoch, first, "same parameters, same contexts");
        assert_eq!(s.decrypt.as_ref().unwrap().ssrcs()[0], Some(0xdeadbeef));
        s.update(None, None).unwrap();
        assert!(!s.any());
        assert_ne!(s.epoch, first);
    }
}
