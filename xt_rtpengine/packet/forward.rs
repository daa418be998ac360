// SPDX-License-Identifier: GPL-2.0

//! The packet path: a UDP packet matched by an `RTPENGINE` rule is looked up in its
//! table and, as `rtpengine_core::forward::decide` says, handed on, dropped, or sent to
//! every output of its target with new IP/UDP headers — decrypted with the target's
//! SRTP context and re-encrypted with each output's.

use crate::ffi::{NFPROTO_IPV4, NF_DROP, XT_CONTINUE};
use crate::packet::error::{report, PacketError};
use crate::packet::skb::{self, NetRef, OutPacket};
use crate::rtpengine_core::abi::target_flags;
use crate::rtpengine_core::forward::{decide, Forward, Verdict};
use crate::rtpengine_core::packet::{self, UdpChecksum, IPPROTO_UDP, UDP_HDR_LEN};
use crate::rtpengine_core::recording;
use crate::rtpengine_core::rewrite::rewrite_output;
use crate::rtpengine_core::rtp;
use crate::tables::recording::{gfp_copy, Stream};
use crate::tables::targets::{Output, OutputSlot, Target};
use crate::tables::Table;
use core::sync::atomic::Ordering;
use kernel::bindings::sk_buff;
use kernel::prelude::*;
use kernel::sync::Arc;

/// Handles one packet for `table`.
///
/// # Safety
/// `skb` comes from netfilter for this packet (and `net` with it); the caller is in the
/// hook's RCU read-side section.
pub(crate) unsafe fn packet(skb: *mut sk_buff, net: NetRef<'_>, table: &Table, family: u8) -> u32 {
    // SAFETY: as required by `network_bytes`; `data` is not used after we return.
    let Some(data) = (unsafe { skb::network_bytes(skb) }) else {
        return XT_CONTINUE;
    };
    let ip = if family == NFPROTO_IPV4 {
        packet::parse_ipv4(data)
    } else {
        packet::parse_ipv6(data)
    };
    let Some(ip) = ip else { return XT_CONTINUE };
    if ip.protocol != IPPROTO_UDP {
        return XT_CONTINUE;
    }
    let Some(udp_bytes) = data.get(ip.header_len..) else {
        return XT_CONTINUE;
    };
    let Some(udp) = packet::parse_udp(udp_bytes, udp_bytes.len()) else {
        return XT_CONTINUE;
    };
    let Some(payload) = udp_bytes.get(UDP_HDR_LEN..UDP_HDR_LEN + udp.payload_len) else {
        return XT_CONTINUE;
    };
    let (mut src, mut dst) = (ip.src, ip.dst);
    src.port = udp.src_port;
    dst.port = udp.dst_port;

    // SAFETY: we are in the hook's RCU read-side section (caller).
    let Some(t) = (unsafe { table.targets.lookup_rcu(&dst) }) else {
        return XT_CONTINUE;
    };
    // Until every output is known the daemon handles the stream.
    let Some(outputs) = t.ready_outputs() else {
        return XT_CONTINUE;
    };

    match decide(&t.info, &src, payload, t.pt_hint()) {
        Verdict::Continue => XT_CONTINUE,
        Verdict::ContinueError => {
            report(table.id, t, PacketError::UnknownSsrc);
            XT_CONTINUE
        }
        Verdict::Drop => NF_DROP,
        Verdict::DropError => {
            report(table.id, t, PacketError::SourceMismatch);
            NF_DROP
        }
        Verdict::Forward(f) => {
            let job = Job {
                net,
                table: table.id,
                t,
                f,
                intercept: table.recording.intercept(&t.info),
                // IP and UDP headers, for the copy a recorded stream gets.
                headers: data.get(..ip.header_len + UDP_HDR_LEN).unwrap_or(&[]),
            };
            if let Err(e) = job.forward(outputs, payload) {
                // Undecryptable or unauthenticated: never forwarded, userspace decides.
                report(table.id, t, e);
                return XT_CONTINUE;
            }
            count(t, &f, payload, ip.tos);
            // The original is consumed: its copies went out.
            NF_DROP
        }
    }
}

/// A packet being forwarded: what each of its outputs needs.
struct Job<'a> {
    net: NetRef<'a>,
    table: u32,
    t: &'a Target,
    f: Forward,
    /// The recorded stream the packet is copied to (`do_intercept`), if any.
    intercept: Option<Arc<Stream>>,
    headers: &'a [u8],
}

impl Job<'_> {
    /// Sends `payload` to every output. Fails only when the packet cannot be decrypted
    /// (nothing was sent then); errors of single outputs are reported, the others
    /// still go.
    fn forward(&self, slots: &[OutputSlot], payload: &[u8]) -> Result<(), PacketError> {
        let mut outs = slots.iter().filter_map(OutputSlot::get);
        let decrypt = match (&self.t.decrypt, self.f.rtp_header_len) {
            (Some(d), Some(_)) => d,
            // Plain input, or not RTP (never touched by SRTP, as in 10.5).
            _ => {
                self.record(payload);
                for o in outs {
                    self.send(o, payload);
                }
                return Ok(());
            }
        };
        // Decrypt once, inside the first output's packet, which is sent last.
        let first = outs.next().ok_or(PacketError::Build)?;
        let hl = packet::headers_len(first.info.dst_addr.family).ok_or(PacketError::Build)?;
        let room = payload.len() + first.encrypt.as_ref().map_or(0, |e| e.overhead());
        let mut pkt = OutPacket::new(hl + room).ok_or(PacketError::NoMemory)?;
        pkt.bytes()[hl..hl + payload.len()].copy_from_slice(payload);
        let plain_len = decrypt
            .decrypt(self.f.srtp_slot(), &mut pkt.bytes()[hl..], payload.len())
            .ok_or(PacketError::Decrypt)?;
        // Recorded after decryption, before any output's rewrite (10.5).
        self.record(&pkt.data()[hl..hl + plain_len]);
        for o in outs {
            self.send(o, &pkt.data()[hl..hl + plain_len]);
        }
        self.finish_and_report(first, pkt, hl, plain_len);
        Ok(())
    }

    /// Copies the packet, with its IP and UDP headers and `plain` as payload, to the
    /// recorded stream, if the target has one. Never waits; a copy that cannot be
    /// allocated is counted as lost.
    fn record(&self, plain: &[u8]) {
        let Some(stream) = &self.intercept else {
            return;
        };
        let hl = self.headers.len();
        let copy = KVec::with_capacity(hl + plain.len(), gfp_copy()).and_then(|mut c| {
            c.extend_from_slice(self.headers, gfp_copy())?;
            c.extend_from_slice(plain, gfp_copy())?;
            Ok(c)
        });
        match copy {
            Ok(mut c) => {
                if recording::fix_copy_lengths(&mut c, hl.saturating_sub(UDP_HDR_LEN)) {
                    stream.push(c);
                }
            }
            Err(_) => stream.count_lost(),
        }
    }

    /// Builds the packet for output `o` from the plain payload and sends it.
    fn send(&self, o: &Output, plain: &[u8]) {
        let res = packet::headers_len(o.info.dst_addr.family)
            .ok_or(PacketError::Build)
            .and_then(|hl| {
                let room = plain.len() + o.encrypt.as_ref().map_or(0, |e| e.overhead());
                let mut pkt = OutPacket::new(hl + room).ok_or(PacketError::NoMemory)?;
                pkt.bytes()[hl..hl + plain.len()].copy_from_slice(plain);
                Ok((pkt, hl))
            });
        match res {
            Ok((pkt, hl)) => self.finish_and_report(o, pkt, hl, plain.len()),
            Err(e) => report(self.table, self.t, e),
        }
    }

    fn finish_and_report(&self, o: &Output, pkt: OutPacket, hl: usize, len: usize) {
        if let Err(e) = self.finish(o, pkt, hl, len) {
            report(self.table, self.t, e);
        }
    }

    /// Rewrites the RTP packet in `pkt` (`len` plain bytes after `hl` header bytes) for
    /// output `o` — payload pattern and SSRC (`rewrite_output`), then SRTP — then writes
    /// the IP/UDP headers and sends it.
    fn finish(
        &self,
        o: &Output,
        mut pkt: OutPacket,
        hl: usize,
        len: usize,
    ) -> Result<(), PacketError> {
        let mut len = len;
        if self.f.rtp_header_len.is_some() {
            let body = &mut pkt.bytes()[hl..];
            let plain = body.get_mut(..len).ok_or(PacketError::Build)?;
            rewrite_output(plain, &self.f, &self.t.info, &o.info)
                .map_err(|_| PacketError::Build)?;
            if let Some(enc) = &o.encrypt {
                len = enc
                    .encrypt(self.f.srtp_slot(), body, len)
                    .ok_or(PacketError::Encrypt)?;
            }
        }
        pkt.truncate(hl + len);
        let (src, dst) = (&o.info.src_addr, &o.info.dst_addr);
        packet::write_headers(pkt.bytes(), src, dst, o.info.tos, UdpChecksum::Partial)
            .ok_or(PacketError::Build)?;
        pkt.send(self.net, src, dst, o.info.tos)
            .map_err(PacketError::Send)
    }
}

/// Counters of a forwarded packet: target, payload type, SSRC.
fn count(t: &Target, f: &Forward, payload: &[u8], tos: u8) {
    let c = &t.counters;
    if c.packets.fetch_add(1, Ordering::Relaxed) == 0 {
        c.in_tos.store(tos, Ordering::Relaxed);
    }
    c.bytes.fetch_add(payload.len() as u64, Ordering::Relaxed);
    let Some(pt_idx) = f.pt_idx else { return };
    t.set_pt_hint(pt_idx);
    if let Some(pc) = t.pt_counters.get(pt_idx) {
        pc.packets.fetch_add(1, Ordering::Relaxed);
        pc.bytes.fetch_add(payload.len() as u64, Ordering::Relaxed);
    }
    let (Some(ssrc_idx), Some(hdr_len)) = (f.ssrc_idx, f.rtp_header_len) else {
        return;
    };
    if !t.info.has(target_flags::RTP_STATS) {
        return;
    }
    let Ok(hdr) = rtp::parse(payload) else { return };
    // Payload size after decryption: drop the SRTP trailer when the input is SRTP.
    let trailer = t.decrypt.as_ref().map_or(0, |d| d.overhead());
    let sample = rtp::StatsSample {
        seq: hdr.seq(),
        timestamp: hdr.timestamp(),
        payload_len: payload.len().saturating_sub(hdr_len + trailer) as u32,
        arrival_us: skb::now_us(),
        clock_rate: t.info.payload_types.get(pt_idx).map_or(0, |p| p.clock_rate),
    };
    t.ssrc_stats.try_update(|s| {
        if let Some(s) = s.get_mut(ssrc_idx) {
            rtp::record_packet(s, &sample);
        }
    });
}
