//! Userspace SRTP/SRTCP on the relay path, with the transform of the no_std
//! core crate (`rtpengine_core::srtp`, RustCrypto back end) that the kernel
//! module also runs. A stream decrypts what its peer sends (`srtp_in`) and
//! encrypts what goes out of its socket to the peer (`srtp_out`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rtpengine_core::abi::{self, MAX_SSRC};
use rtpengine_core::srtp::rustcrypto::RustCrypto;
use rtpengine_core::srtp::{IndexState, SrtcpReplay, SrtpContext, SrtpError};

use super::stream::is_rtcp;

/// One direction's SRTP and SRTCP contexts and their running state.
pub struct SrtpDirection {
    params: abi::Srtp,
    rtp: SrtpContext<RustCrypto>,
    rtcp: SrtpContext<RustCrypto>,
    state: Mutex<DirectionState>,
}

struct DirectionState {
    index: IndexState,
    /// SSRC of each index slot, in order of first appearance.
    ssrcs: [Option<u32>; MAX_SSRC],
    /// Receive side: SRTCP replay window per slot.
    rtcp_replay: [SrtcpReplay; MAX_SSRC],
    /// Send side: next SRTCP index.
    rtcp_index: u32,
}

impl DirectionState {
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
}

impl SrtpDirection {
    pub fn new(params: &abi::Srtp) -> Result<SrtpDirection, SrtpError> {
        Ok(SrtpDirection {
            params: *params,
            rtp: SrtpContext::new(&RustCrypto, params)?,
            rtcp: SrtpContext::new_rtcp(&RustCrypto, params)?,
            state: Mutex::new(DirectionState {
                index: IndexState::new(&params.last_index),
                ssrcs: [None; MAX_SSRC],
                rtcp_replay: [SrtcpReplay::default(); MAX_SSRC],
                rtcp_index: 0,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DirectionState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Verifies and decrypts `packet` (SRTP or SRTCP) in place.
    pub fn unprotect(&self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        let len = packet.len();
        let mut st = self.lock();
        if is_rtcp(packet) {
            let slot = st.slot(ssrc_at(packet, 4));
            let got = self.rtcp.decrypt_rtcp(&mut st.rtcp_replay[slot], packet, len)?;
            packet.truncate(got.len);
        } else {
            let slot = st.slot(ssrc_at(packet, 8));
            let got = self.rtp.decrypt_rtp(&mut st.index, slot, packet, len)?;
            packet.truncate(got.len);
        }
        Ok(())
    }

    /// Encrypts and authenticates `packet` (RTP or RTCP) in place.
    pub fn protect(&self, packet: &mut Vec<u8>) -> Result<(), SrtpError> {
        let len = packet.len();
        let mut st = self.lock();
        if is_rtcp(packet) {
            packet.resize(len + self.rtcp.rtcp_overhead(), 0);
            let index = st.rtcp_index;
            st.rtcp_index = (index + 1) & rtpengine_core::srtp::SRTCP_INDEX_MASK;
            let n = self.rtcp.encrypt_rtcp(index, packet, len)?;
            packet.truncate(n);
        } else {
            packet.resize(len + self.rtp.overhead(), 0);
            let slot = st.slot(ssrc_at(packet, 8));
            let got = self.rtp.encrypt_rtp(&mut st.index, slot, packet, len)?;
            packet.truncate(got.len);
        }
        Ok(())
    }

    /// Highest RTP index per slot (to seed a kernel target and keep the ROC).
    pub fn last_index(&self) -> [u64; MAX_SSRC] {
        self.lock().index.last_index()
    }

    /// The negotiated parameters with the live per-slot index, for a kernel target.
    pub fn kernel_params(&self) -> abi::Srtp {
        let mut p = self.params;
        p.last_index = self.last_index();
        p
    }

    /// Takes back the index the kernel reached while it forwarded, so the ROC
    /// continues in userspace. Slots the kernel did not move keep their replay window.
    pub fn resume_from_kernel(&self, kernel_last_index: &[u64; MAX_SSRC]) {
        let mut st = self.lock();
        for (slot, &index) in kernel_last_index.iter().enumerate() {
            if index != st.index.last(slot) {
                st.index.set_last_index(slot, index);
            }
        }
    }
}

/// `packet` verified and decrypted, `None` if it fails (to be dropped).
pub fn unprotect(direction: &SrtpDirection, packet: &[u8]) -> Option<Vec<u8>> {
    let mut buf = packet.to_vec();
    direction.unprotect(&mut buf).ok().map(|()| buf)
}

/// `packet` encrypted and authenticated, `None` if it cannot be (not RTP).
pub fn protect(direction: &SrtpDirection, packet: &[u8]) -> Option<Vec<u8>> {
    let mut buf = packet.to_vec();
    direction.protect(&mut buf).ok().map(|()| buf)
}

fn ssrc_at(packet: &[u8], at: usize) -> u32 {
    packet
        .get(at..at + 4)
        .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// A stream's SRTP, replaced only when signalling changes its parameters (so
/// a re-INVITE with the same keys keeps ROC and replay state).
#[derive(Default)]
pub struct StreamSrtp {
    current: Mutex<Option<Arc<Transforms>>>,
    /// Packets dropped because they failed to authenticate or decrypt.
    pub auth_failures: AtomicU64,
}

/// Both directions of one stream; `None` where that direction is plain RTP.
pub struct Transforms {
    pub decrypt: Option<SrtpDirection>,
    pub encrypt: Option<SrtpDirection>,
}

impl std::fmt::Debug for Transforms {
    // Keys stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transforms")
            .field("decrypt", &self.decrypt.is_some())
            .field("encrypt", &self.encrypt.is_some())
            .finish()
    }
}

impl StreamSrtp {
    pub fn get(&self) -> Option<Arc<Transforms>> {
        self.current.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Installs the parameters signalling chose. Bad parameters (which the
    /// negotiation never produces) leave that direction plain and are
    /// returned for the log.
    pub fn update(
        &self,
        decrypt: Option<&abi::Srtp>,
        encrypt: Option<&abi::Srtp>,
    ) -> Result<(), SrtpError> {
        let mut cur = self.current.lock().unwrap_or_else(|e| e.into_inner());
        let same = |have: Option<&SrtpDirection>, want: Option<&abi::Srtp>| {
            have.map(|d| &d.params) == want
        };
        if let Some(t) = cur.as_ref() {
            if same(t.decrypt.as_ref(), decrypt) && same(t.encrypt.as_ref(), encrypt) {
                return Ok(());
            }
        }
        if decrypt.is_none() && encrypt.is_none() {
            *cur = None;
            return Ok(());
        }
        let mut result = Ok(());
        let mut build = |p: Option<&abi::Srtp>| {
            p.and_then(|p| SrtpDirection::new(p).map_err(|e| result = Err(e)).ok())
        };
        let transforms = Transforms {
            decrypt: build(decrypt),
            encrypt: build(encrypt),
        };
        *cur = Some(Arc::new(transforms));
        result
    }

    pub fn failed(&self) {
        self.auth_failures.fetch_add(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdp::crypto::CryptoAttribute;
    use crate::srtp::Suite;

    fn params(suite: &str, fill: u8) -> abi::Srtp {
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
            let tx = SrtpDirection::new(&p).unwrap_or_else(|e| panic!("{}: {e:?}", suite.name));
            let rx = SrtpDirection::new(&p).unwrap();
            for seq in [1u16, 2, 3] {
                let plain = rtp_packet(seq);
                let mut pkt = plain.clone();
                tx.protect(&mut pkt).unwrap();
                assert_ne!(pkt, plain, "{}", suite.name);
                let mut bad = pkt.clone();
                let last = bad.len() - 1;
                bad[last] ^= 1;
                assert!(rx.unprotect(&mut bad).is_err(), "{} tampered accepted", suite.name);
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
        let tx = SrtpDirection::new(&params("AES_CM_128_HMAC_SHA1_80", 1)).unwrap();
        let rx_wrong = SrtpDirection::new(&params("AES_CM_128_HMAC_SHA1_80", 2)).unwrap();
        let rx = SrtpDirection::new(&params("AES_CM_128_HMAC_SHA1_80", 1)).unwrap();
        let mut pkt = rtp_packet(7);
        tx.protect(&mut pkt).unwrap();
        assert!(rx_wrong.unprotect(&mut pkt.clone()).is_err());
        rx.unprotect(&mut pkt.clone()).unwrap();
        assert!(rx.unprotect(&mut pkt.clone()).is_err(), "replayed packet accepted");
    }

    #[test]
    fn session_parameters_leave_payload_clear_or_unauthenticated() {
        let s = Suite::by_name("AES_CM_128_HMAC_SHA1_80").unwrap();
        let with = |params: &[&str]| {
            let c = CryptoAttribute {
                tag: 1,
                suite: s.name.into(),
                key_salt: vec![9; 30],
                lifetime: None,
                mki: None,
                session_params: params.iter().map(|p| p.to_string()).collect(),
            };
            SrtpDirection::new(&s.srtp_params(&c)).unwrap_or_else(|e| panic!("{params:?}: {e:?}"))
        };
        let plain = rtp_packet(5);
        let clear = with(&["UNENCRYPTED_SRTP"]);
        let mut p = plain.clone();
        clear.protect(&mut p).unwrap();
        assert_eq!(&p[..plain.len()], &plain[..], "payload must stay clear");
        assert_eq!(p.len(), plain.len() + 10, "but carry the tag");
        let unauth = with(&["UNAUTHENTICATED_SRTP"]);
        let mut p = plain.clone();
        unauth.protect(&mut p).unwrap();
        assert_eq!(p.len(), plain.len(), "no tag");
        assert_ne!(p, plain, "but encrypted");
    }

    #[test]
    fn kernel_handover_carries_the_index_both_ways() {
        let p = params("AES_CM_128_HMAC_SHA1_80", 4);
        let tx = SrtpDirection::new(&p).unwrap();
        let rx = SrtpDirection::new(&p).unwrap();
        let mut first = rtp_packet(65_530);
        tx.protect(&mut first).unwrap();
        rx.unprotect(&mut first).unwrap();
        let seeded = rx.kernel_params();
        assert_eq!(seeded.last_index[0], 65_530, "kernel starts where userspace is");
        assert_eq!(seeded.master_key, p.master_key);
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
        let behind = SrtpDirection::new(&p).unwrap();
        let mut roc0 = [0u64; MAX_SSRC];
        roc0[0] = 40_000;
        behind.resume_from_kernel(&roc0);
        behind.unprotect(&mut sent.clone()).unwrap();
        assert_eq!(behind.last_index()[0], (1 << 16) | 40_001);
    }

    #[test]
    fn update_keeps_state_for_same_parameters() {
        let s = StreamSrtp::default();
        let p = params("AES_CM_128_HMAC_SHA1_32", 3);
        s.update(Some(&p), None).unwrap();
        let first = s.get().unwrap();
        s.update(Some(&p), None).unwrap();
        assert!(Arc::ptr_eq(&first, &s.get().unwrap()));
        s.update(None, None).unwrap();
        assert!(s.get().is_none());
    }
}
