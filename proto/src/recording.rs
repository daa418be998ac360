//! Call recording as rtpengine 10.5's `--recording-method=pcap` writes it,
//! without I/O: the bytes of the pcap file (its header and one record per
//! packet, with the IP and UDP headers 10.5 makes up) and the text of the
//! call's metadata file. The daemon opens, writes and renames the files.
//!
//! Spool layout (`--recording-dir` D): the metadata file is written as
//! `D/tmp/rtpengine-meta-P.tmp` and moved to `D/metadata/rtpengine-meta-P.txt`
//! when the recording ends; the capture is `D/pcaps/P.pcap`. P is the
//! URI-escaped call-id, a dash and 16 random hex digits (`file_prefix`).

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// Link type of the capture (`--recording-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Packets start with their IP header (LINKTYPE_RAW).
    #[default]
    Raw,
    /// Each packet has an Ethernet header of zero addresses first.
    Eth,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "raw" => Some(Format::Raw),
            "eth" => Some(Format::Eth),
            _ => None,
        }
    }

    /// The pcap link type number (libpcap's LINKTYPE_RAW, LINKTYPE_ETHERNET).
    pub fn linktype(self) -> u32 {
        match self {
            Format::Raw => 101,
            Format::Eth => 1,
        }
    }
}

/// Snapshot length of the file header (10.5 opens its dumper with 65535).
pub const SNAPLEN: u32 = 65535;

/// The 24-byte pcap file header (microsecond timestamps, little-endian as
/// libpcap writes it on the hosts we run on).
pub fn pcap_header(format: Format) -> [u8; 24] {
    let mut h = [0u8; 24];
    h[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h[4..6].copy_from_slice(&2u16.to_le_bytes());
    h[6..8].copy_from_slice(&4u16.to_le_bytes());
    // thiszone and sigfigs stay 0.
    h[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
    h[20..24].copy_from_slice(&format.linktype().to_le_bytes());
    h
}

/// One pcap record: `payload` (the packet as received, decrypted) as a UDP
/// datagram from `src` to `dst` (the local socket it arrived on), at `ts`
/// since the Unix epoch. IPv4: no ID, no checksum, TTL 64; IPv6: hop limit 64;
/// UDP checksum 0 — as 10.5 makes them. Mixed families take `dst`'s.
pub fn pcap_record(
    format: Format,
    ts: Duration,
    src: SocketAddr,
    dst: SocketAddr,
    payload: &[u8],
) -> Vec<u8> {
    let eth = if format == Format::Eth { 14 } else { 0 };
    let packet = ip_udp_packet(src, dst, payload);
    let len = eth + packet.len();
    let mut out = Vec::with_capacity(16 + len);
    out.extend_from_slice(&(ts.as_secs() as u32).to_le_bytes());
    out.extend_from_slice(&ts.subsec_micros().to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    if eth > 0 {
        out.extend_from_slice(&[0u8; 12]);
        out.extend_from_slice(&(if dst.is_ipv6() { 0x86ddu16 } else { 0x0800 }).to_be_bytes());
    }
    out.extend_from_slice(&packet);
    out
}

/// `payload` as the IP packet of a UDP datagram from `src` to `dst`, with the
/// headers 10.5 makes up for recordings (its `endpoint_packet_header`):
/// IPv4 without ID or checksum, TTL 64; IPv6 hop limit 64; UDP checksum 0.
/// Mixed families take `dst`'s.
pub fn ip_udp_packet(src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Vec<u8> {
    let v6 = dst.is_ipv6();
    let ip = if v6 { 40 } else { 20 };
    let mut out = Vec::with_capacity(ip + 8 + payload.len());
    let udp_len = (8 + payload.len()) as u16;
    if v6 {
        out.extend_from_slice(&[0x60, 0, 0, 0]);
        out.extend_from_slice(&udp_len.to_be_bytes());
        out.extend_from_slice(&[17, 64]);
        out.extend_from_slice(&v6_octets(src.ip()));
        out.extend_from_slice(&v6_octets(dst.ip()));
    } else {
        out.extend_from_slice(&[0x45, 0]);
        out.extend_from_slice(&(20 + udp_len).to_be_bytes());
        out.extend_from_slice(&[0, 0, 0, 0, 64, 17, 0, 0]);
        out.extend_from_slice(&v4_octets(src.ip()));
        out.extend_from_slice(&v4_octets(dst.ip()));
    }
    out.extend_from_slice(&src.port().to_be_bytes());
    out.extend_from_slice(&dst.port().to_be_bytes());
    out.extend_from_slice(&udp_len.to_be_bytes());
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(payload);
    out
}

fn v4_octets(a: IpAddr) -> [u8; 4] {
    match a {
        IpAddr::V4(a) => a.octets(),
        IpAddr::V6(a) => a.to_ipv4_mapped().map(|a| a.octets()).unwrap_or_default(),
    }
}

fn v6_octets(a: IpAddr) -> [u8; 16] {
    match a {
        IpAddr::V6(a) => a.octets(),
        IpAddr::V4(a) => a.to_ipv6_mapped().octets(),
    }
}

/// The name stem of a call's files: the call-id URI-escaped (all but
/// letters, digits and `-._~` as `%XX`), a dash, and `random` as 16 hex digits.
pub fn file_prefix(call_id: &str, random: u64) -> String {
    let mut s = String::with_capacity(call_id.len() + 17);
    for b in call_id.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            s.push(b as char);
        } else {
            let _ = write!(s, "%{b:02X}");
        }
    }
    let _ = write!(s, "-{random:016x}");
    s
}

/// Where the files of prefix `p` go, relative to the recording directory.
pub fn meta_tmp_path(p: &str) -> String {
    format!("tmp/rtpengine-meta-{p}.tmp")
}
pub fn meta_final_path(p: &str) -> String {
    format!("metadata/rtpengine-meta-{p}.txt")
}
pub fn pcap_path(p: &str) -> String {
    format!("pcaps/{p}.pcap")
}

/// The metadata file's first lines: the capture's full path.
pub fn meta_start(pcap_full_path: &str) -> String {
    format!("{pcap_full_path}\n\n")
}

/// Milliseconds since the epoch with three decimals, as 10.5 prints them.
fn millis(t: Duration) -> String {
    format!("{:.3}", t.as_secs_f64() * 1000.0)
}

/// The block an offer or answer adds: the sending party's label (if any),
/// when that party began, the operation, the number the next recorded packet
/// will have (the first is 1), then the SDP rtpengine sent on.
pub fn meta_sdp(
    label: Option<&str>,
    started: Duration,
    mode: &str,
    next_packet: u64,
    sdp: &str,
) -> String {
    let mut s = String::new();
    if let Some(l) = label.filter(|l| !l.is_empty()) {
        let _ = write!(s, "\nLabel: {l}");
    }
    let _ = write!(
        s,
        "\nTimestamp started ms: {}\nSDP mode: {mode}\nSDP before RTP packet: {next_packet}\n\n{sdp}",
        millis(started)
    );
    s
}

/// A local date and time, as `%FT%T` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
}

impl std::fmt::Display for LocalTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

/// The metadata file's end: when the first party ended (0 while it has not),
/// the call's start and the recording's end in local time, and the call's
/// `metadata` text if any.
pub fn meta_finish(
    terminated: Duration,
    start: LocalTime,
    end: LocalTime,
    metadata: &str,
) -> String {
    let mut s = format!(
        "\nTimestamp terminated ms(first monologue): {}\n\ncall start time: {start}\ncall end time: {end}\n",
        millis(terminated)
    );
    if !metadata.is_empty() {
        let _ = write!(s, "\n\n{metadata}\n");
    }
    s
}

/// `--recording-method=proc`: what rtpengine 10.5 hands a recording daemon
/// (Debian's rtpengine-recording). The kernel module keeps each recorded
/// stream's packets in `/proc/rtpengine/T/calls/P/NAME`; the metadata file
/// `D/P.meta` (`proc_meta_path`) names the call, its parties, codecs and
/// those stream files, chunk by chunk (`meta_chunk`). The file is appended
/// to and closed after every chunk (the recording daemon watches for that)
/// and removed when the recording ends.
pub mod proc {
    use super::SocketAddr;
    use crate::call::model::{Call, Media};
    use crate::call::StreamId;
    use rtpengine_core::abi::{cmd, CallInfo, Message, PacketInfo, Pod, StreamInfo};

    /// The metadata file of prefix `p`, relative to the recording directory.
    pub fn meta_path(p: &str) -> String {
        format!("{p}.meta")
    }

    /// One chunk: its label, the data's length, the data, a blank line.
    pub fn meta_chunk(label: &str, data: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(label.len() + data.len() + 16);
        out.extend_from_slice(label.as_bytes());
        out.extend_from_slice(format!("\n{}:\n", data.len()).as_bytes());
        out.extend_from_slice(data);
        out.extend_from_slice(b"\n\n");
        out
    }

    /// The ids 10.5 gives a recorded stream: its party's (`tag`), its
    /// media's (`media`, per call) and that media's index in the party's SDP
    /// (`media_index`, from 1), the component (1 RTP, 2 RTCP) and its own id
    /// (`stream`, per call). Ids count from 0 in creation order.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct StreamIds {
        pub tag: u32,
        pub media: u32,
        pub media_index: u32,
        pub component: u32,
        pub stream: u32,
        /// An RTCP-only stream (10.5: RTCP flag without RTP).
        pub rtcp: bool,
    }

    impl StreamIds {
        /// 10.5's packet-stream flags as the details chunk shows them: RTP
        /// or RTCP, filled, and the RTCP stream's implicit-RTCP bit.
        pub fn flags(&self) -> u32 {
            if self.rtcp {
                0x0012_0001
            } else {
                0x0011_0000
            }
        }

        /// The name of the stream's file below the call's directory.
        pub fn name(&self) -> String {
            format!(
                "tag-{}-media-{}-component-{}-{}-id-{}",
                self.tag,
                self.media_index,
                self.component,
                if self.rtcp { "RTCP" } else { "RTP" },
                self.stream
            )
        }

        /// The `STREAM N details` chunk's text.
        pub fn details(&self) -> String {
            format!(
                "TAG {} MEDIA {} TAG-MEDIA {} COMPONENT {} FLAGS {}",
                self.tag,
                self.media,
                self.media_index,
                self.component,
                self.flags()
            )
        }
    }

    /// What the daemon does for a recorded call, in order.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Step {
        /// Append a chunk to the metadata file.
        Chunk(String, Vec<u8>),
        /// ADD_STREAM `name`; when the module took it, remember its index
        /// ([`Session::added`]) and append [`Session::interface`]'s chunk.
        AddStream {
            id: StreamId,
            uid: u32,
            name: String,
        },
    }

    fn chunk(label: impl Into<String>, data: impl AsRef<[u8]>) -> Step {
        Step::Chunk(label.into(), data.as_ref().to_vec())
    }

    /// One recorded call as 10.5's proc method follows it: the ids it gave
    /// the call's parties, medias and streams (in the order it met them),
    /// what it last wrote about each, and the kernel's recording streams.
    #[derive(Debug, Default)]
    pub struct Session {
        /// Per party (by position in the call): the tag and label written.
        tags: Vec<Option<(String, Option<String>)>>,
        /// (party position, media index) → media id, and the chunks written
        /// for the media (ptime and payload types), to write again on change.
        medias: Vec<((usize, u32), Vec<Step>)>,
        /// Stream → its id and, once the module took it, its index.
        streams: Vec<(StreamId, u32, Option<u32>)>,
    }

    impl Session {
        /// The first chunks of a recording: the call, the name of its
        /// directory in the kernel (`prefix`), its metadata if any, and
        /// that it is recorded, not forwarded.
        pub fn start(call_id: &str, prefix: &str, metadata: &str) -> Vec<Step> {
            let mut v = vec![chunk("CALL-ID", call_id), chunk("PARENT", prefix)];
            if !metadata.is_empty() {
                v.push(chunk("METADATA", metadata));
            }
            v.extend(Self::call_flags());
            v
        }

        fn call_flags() -> [Step; 2] {
            [chunk("RECORDING 1", ""), chunk("FORWARDING 0", "")]
        }

        /// The flags 10.5 writes once a recording is set up (or asked for
        /// again): the call's, then each stream's forwarding.
        pub fn flags(&self) -> Vec<Step> {
            let mut v = Self::call_flags().to_vec();
            for (_, uid, _) in &self.streams {
                v.push(chunk(format!("STREAM {uid} FORWARDING 0"), ""));
            }
            v
        }

        /// What is new in `call` since the last time: parties (tag, label),
        /// streams (details, then ADD_STREAM), medias (ptime, payload types
        /// and their format parameters) — party by party, as 10.5 sets them
        /// up. Unchanged things are not written again.
        pub fn sync(&mut self, call: &Call) -> Vec<Step> {
            let mut v = Vec::new();
            for (pos, ml) in call.monologues.iter().enumerate() {
                let label = ml.label.clone().filter(|l| !l.is_empty());
                if pos >= self.tags.len() {
                    self.tags.resize(pos + 1, None);
                }
                let tag_uid = pos as u32;
                let now = Some((ml.tag.clone(), label.clone()));
                if self.tags[pos] != now {
                    v.push(chunk(format!("TAG {tag_uid}"), &ml.tag));
                    if let Some(l) = &label {
                        v.push(chunk(format!("LABEL {tag_uid}"), l));
                    }
                    self.tags[pos] = now;
                }
                for media in &ml.medias {
                    let key = (pos, media.index);
                    let m = match self.medias.iter().position(|(k, _)| *k == key) {
                        Some(m) => m,
                        None => {
                            self.medias.push((key, Vec::new()));
                            self.medias.len() - 1
                        }
                    };
                    let media_uid = m as u32;
                    let parts = [(media.rtp.as_ref(), 1u32), (media.rtcp.as_ref(), 2)];
                    for (ps, component) in parts {
                        let Some(ps) = ps else { continue };
                        if self.streams.iter().any(|(id, _, _)| *id == ps.id) {
                            continue;
                        }
                        let uid = self.streams.len() as u32;
                        self.streams.push((ps.id, uid, None));
                        let ids = StreamIds {
                            tag: tag_uid,
                            media: media_uid,
                            media_index: media.index,
                            component,
                            stream: uid,
                            rtcp: ps.is_rtcp,
                        };
                        v.push(chunk(format!("STREAM {uid} details"), ids.details()));
                        v.push(Step::AddStream {
                            id: ps.id,
                            uid,
                            name: ids.name(),
                        });
                    }
                    let chunks = media_chunks(media_uid, media);
                    if self.medias[m].1 != chunks {
                        v.extend(chunks.iter().cloned());
                        self.medias[m].1 = chunks;
                    }
                }
            }
            v
        }

        /// The module took stream `id` as its recording stream `idx`.
        pub fn added(&mut self, id: StreamId, idx: u32) {
            if let Some(s) = self.streams.iter_mut().find(|s| s.0 == id) {
                s.2 = Some(idx);
            }
        }

        /// The chunk naming a stream's file, once the module took it.
        pub fn interface(uid: u32, name: &str) -> Step {
            chunk(format!("STREAM {uid} interface"), name)
        }

        /// The kernel's recording stream of stream `id`.
        pub fn intercept(&self, id: StreamId) -> Option<u32> {
            self.streams.iter().find(|s| s.0 == id).and_then(|s| s.2)
        }

        /// Every recording stream the module took.
        pub fn kernel_streams(&self) -> impl Iterator<Item = (StreamId, u32)> + '_ {
            self.streams.iter().filter_map(|s| Some((s.0, s.2?)))
        }

        /// The SDP an offer or answer of party `tag` brought (`after`:
        /// false) or that we sent on (true); `mode` "offer" or "answer".
        pub fn sdp(&self, call: &Call, tag: &str, after: bool, mode: &str, sdp: &str) -> Step {
            let uid = call
                .monologues
                .iter()
                .position(|m| m.tag == tag)
                .unwrap_or(0);
            let when = if after { "after" } else { "before" };
            chunk(format!("SDP from {uid} {when} {mode}"), sdp)
        }
    }

    /// A media's ptime and payload types (`encoding/rate[/channels]`, then
    /// the format parameters, empty if none), as 10.5's setup_media writes.
    fn media_chunks(uid: u32, media: &Media) -> Vec<Step> {
        let ptime = media.ptime.unwrap_or(0);
        let mut v = vec![chunk(format!("MEDIA {uid} PTIME {ptime}"), "")];
        for pt in &media.codecs.pts {
            let mut enc = format!("{}/{}", pt.encoding, pt.clock_rate);
            if pt.channels > 1 {
                enc.push_str(&format!("/{}", pt.channels));
            }
            v.push(chunk(
                format!("MEDIA {uid} PAYLOAD TYPE {}", pt.number),
                enc,
            ));
            v.push(chunk(
                format!("MEDIA {uid} FMTP {}", pt.number),
                pt.fmtp.as_deref().unwrap_or(""),
            ));
        }
        v
    }

    /// Copies `name` into a NUL-terminated name field, cut as snprintf cuts.
    fn name_field(name: &str) -> [u8; 256] {
        let mut f = [0u8; 256];
        let n = name.len().min(255);
        f[..n].copy_from_slice(&name.as_bytes()[..n]);
        f
    }

    /// ADD_CALL for the call of prefix `p` (read(), which returns its index).
    pub fn add_call(p: &str) -> Message {
        let mut m = Message::new(cmd::ADD_CALL);
        m.u.call = CallInfo {
            call_idx: 0,
            call_id: name_field(p),
        };
        m
    }

    /// DEL_CALL of call index `idx` (its streams go with it).
    pub fn del_call(idx: u32) -> Message {
        let mut m = Message::new(cmd::DEL_CALL);
        m.u.call = CallInfo {
            call_idx: idx,
            call_id: [0; 256],
        };
        m
    }

    /// ADD_STREAM `name` to call `call_idx` (read(), which returns its
    /// index); the module's default queue length, as 10.5 asks.
    pub fn add_stream(call_idx: u32, name: &str) -> Message {
        let mut m = Message::new(cmd::ADD_STREAM);
        m.u.stream = StreamInfo {
            call_idx,
            stream_idx: 0,
            max_packets: 0,
            stream_name: name_field(name),
        };
        m
    }

    /// DEL_STREAM `stream_idx` of call `call_idx`.
    pub fn del_stream(call_idx: u32, stream_idx: u32) -> Message {
        let mut m = Message::new(cmd::DEL_STREAM);
        m.u.stream = StreamInfo {
            call_idx,
            stream_idx,
            max_packets: 0,
            stream_name: [0; 256],
        };
        m
    }

    /// PACKET: a packet userspace handled, from `src` to our socket `dst`,
    /// for stream `stream_idx` — the message, then the packet with made-up
    /// IP and UDP headers. One write().
    pub fn packet(stream_idx: u32, src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Vec<u8> {
        let mut m = Message::new(cmd::PACKET);
        m.u.packet = PacketInfo {
            call_idx: 0,
            stream_idx,
        };
        let mut out = m.as_bytes().to_vec();
        out.extend_from_slice(&super::ip_udp_packet(src, dst, payload));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_header_is_libpcaps() {
        let h = pcap_header(Format::Raw);
        assert_eq!(
            h,
            [
                0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 101,
                0, 0, 0
            ]
        );
        assert_eq!(pcap_header(Format::Eth)[20..], [1, 0, 0, 0]);
    }

    #[test]
    fn an_ipv4_record_has_10_5s_made_up_headers() {
        let src: SocketAddr = "192.0.2.1:4000".parse().unwrap();
        let dst: SocketAddr = "127.0.0.1:30000".parse().unwrap();
        let r = pcap_record(
            Format::Raw,
            Duration::new(0x01020304, 5_000_000),
            src,
            dst,
            b"abc",
        );
        #[rustfmt::skip]
        let want = [
            4, 3, 2, 1, 0x88, 0x13, 0, 0, 31, 0, 0, 0, 31, 0, 0, 0,
            0x45, 0, 0, 31, 0, 0, 0, 0, 64, 17, 0, 0, 192, 0, 2, 1, 127, 0, 0, 1,
            0x0f, 0xa0, 0x75, 0x30, 0, 11, 0, 0, b'a', b'b', b'c',
        ];
        assert_eq!(r, want);
    }

    #[test]
    fn an_ethernet_record_starts_with_zero_addresses_and_the_ethertype() {
        let src: SocketAddr = "[2001:db8::1]:4000".parse().unwrap();
        let dst: SocketAddr = "[::1]:30000".parse().unwrap();
        let r = pcap_record(Format::Eth, Duration::from_secs(1), src, dst, b"xy");
        assert_eq!(r.len(), 16 + 14 + 40 + 8 + 2);
        assert_eq!(r[8..12], [64, 0, 0, 0]);
        assert_eq!(r[16..30], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x86, 0xdd]);
        assert_eq!(r[30..38], [0x60, 0, 0, 0, 0, 10, 17, 64]);
        assert_eq!(
            r[38..54],
            "2001:db8::1"
                .parse::<std::net::Ipv6Addr>()
                .unwrap()
                .octets()
        );
        assert_eq!(r[70..78], [0x0f, 0xa0, 0x75, 0x30, 0, 10, 0, 0]);
        assert_eq!(&r[78..], b"xy");
    }

    #[test]
    fn the_prefix_escapes_the_call_id_as_glib_does() {
        assert_eq!(
            file_prefix("a b@c.d~_-/", 0xab),
            "a%20b%40c.d~_-%2F-00000000000000ab"
        );
        assert_eq!(file_prefix("\u{e9}", 1), "%C3%A9-0000000000000001");
    }

    #[test]
    fn metadata_blocks_read_as_10_5s() {
        assert_eq!(meta_start("/r/pcaps/x.pcap"), "/r/pcaps/x.pcap\n\n");
        assert_eq!(
            meta_sdp(Some("caller"), Duration::from_micros(1_500_000_250), "offer", 1, "v=0\r\n"),
            "\nLabel: caller\nTimestamp started ms: 1500000.250\nSDP mode: offer\nSDP before RTP packet: 1\n\nv=0\r\n"
        );
        let t = LocalTime {
            year: 2026,
            month: 1,
            day: 2,
            hour: 3,
            minute: 4,
            second: 5,
        };
        assert_eq!(
            meta_finish(Duration::ZERO, t, t, "k:v"),
            "\nTimestamp terminated ms(first monologue): 0.000\n\ncall start time: 2026-01-02T03:04:05\ncall end time: 2026-01-02T03:04:05\n\n\nk:v\n"
        );
        assert!(!meta_finish(Duration::ZERO, t, t, "").contains("\n\n\n"));
    }

    #[test]
    fn proc_chunks_and_names_read_as_10_5s() {
        assert_eq!(proc::meta_chunk("CALL-ID", b"abc"), b"CALL-ID\n3:\nabc\n\n");
        assert_eq!(
            proc::meta_chunk("RECORDING 1", b""),
            b"RECORDING 1\n0:\n\n\n"
        );
        let ids = proc::StreamIds {
            tag: 1,
            media: 2,
            media_index: 1,
            component: 2,
            stream: 5,
            rtcp: true,
        };
        assert_eq!(ids.name(), "tag-1-media-1-component-2-RTCP-id-5");
        assert_eq!(
            ids.details(),
            "TAG 1 MEDIA 2 TAG-MEDIA 1 COMPONENT 2 FLAGS 1179649"
        );
        assert_eq!(proc::meta_path("c-00ab"), "c-00ab.meta");
    }

    #[test]
    fn proc_messages_carry_names_and_indexes() {
        use rtpengine_core::abi::{cmd, Pod, MESSAGE_SIZE};
        let m = proc::add_call("x-1");
        assert_eq!(m.cmd, cmd::ADD_CALL);
        assert_eq!(&m.call().call_id[..4], b"x-1\0");
        let m = proc::add_stream(3, "s");
        assert_eq!((m.cmd, m.stream().call_idx), (cmd::ADD_STREAM, 3));
        assert_eq!(m.stream().max_packets, 0);
        assert_eq!(proc::del_call(7).call().call_idx, 7);
        let long = "a".repeat(300);
        assert_eq!(proc::add_call(&long).call().call_id[255], 0);
        let p = proc::packet(
            4,
            "192.0.2.1:4000".parse().unwrap(),
            "127.0.0.1:30000".parse().unwrap(),
            b"abc",
        );
        assert_eq!(p.len(), MESSAGE_SIZE + 20 + 8 + 3);
        let head = rtpengine_core::abi::Message::read_from(&p).unwrap();
        assert_eq!((head.cmd, head.packet().stream_idx), (cmd::PACKET, 4));
        assert_eq!(p[MESSAGE_SIZE], 0x45);
        assert_eq!(&p[p.len() - 3..], b"abc");
    }
}
