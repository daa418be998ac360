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
    let v6 = dst.is_ipv6();
    let ip = if v6 { 40 } else { 20 };
    let len = eth + ip + 8 + payload.len();
    let mut out = Vec::with_capacity(16 + len);
    out.extend_from_slice(&(ts.as_secs() as u32).to_le_bytes());
    out.extend_from_slice(&ts.subsec_micros().to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    if eth > 0 {
        out.extend_from_slice(&[0u8; 12]);
        out.extend_from_slice(&(if v6 { 0x86ddu16 } else { 0x0800 }).to_be_bytes());
    }
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
}
