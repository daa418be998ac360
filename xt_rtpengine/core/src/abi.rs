//! The binary interface of `/proc/rtpengine/N/control` and `N/blist`, binary-compatible
//! with rtpengine 10.5 (x86_64). One definition, used by the module and the daemon.
//!
//! Every struct is `repr(C)` with explicit padding fields, so that a zeroed value is
//! exactly what the C daemon would send and whole-struct comparisons (10.5 compares
//! addresses with memcmp) behave the same. Sizes and offsets are asserted at compile time.

use core::mem::{offset_of, size_of};

/// Commands carried in [`Message::cmd`].
pub mod cmd {
    pub const NOOP: u32 = 1;
    pub const ADD_TARGET: u32 = 2;
    pub const DEL_TARGET: u32 = 3;
    pub const ADD_DESTINATION: u32 = 4;
    pub const ADD_CALL: u32 = 5;
    pub const DEL_CALL: u32 = 6;
    pub const ADD_STREAM: u32 = 7;
    pub const DEL_STREAM: u32 = 8;
    pub const PACKET: u32 = 9;
    pub const GET_STATS: u32 = 10;
    pub const GET_RESET_STATS: u32 = 11;
    /// One past the last command: the NOOP handshake carries it as the version check.
    pub const LAST: u32 = 12;
}

pub const AF_INET: i32 = 2;
pub const AF_INET6: i32 = 10;

/// Maximum outputs (destinations) per target.
pub const MAX_DESTINATIONS: usize = 32;
/// Maximum RTP payload types per target.
pub const MAX_PAYLOAD_TYPES: usize = 32;
/// SSRC slots per target / output.
pub const MAX_SSRC: usize = 4;
/// Highest table id + 1.
pub const MAX_TABLES: u32 = 64;

/// Marker for plain-old-data ABI structs.
///
/// # Safety
/// Implementors must be `repr(C)`, contain only integer fields and arrays of them
/// (every bit pattern valid), and declare all padding as explicit fields.
pub unsafe trait Pod: Copy + 'static {
    /// An all-zero value.
    fn zeroed() -> Self {
        // SAFETY: `Pod` guarantees every bit pattern, including all zeros, is valid.
        unsafe { core::mem::zeroed() }
    }

    /// Reads a value from the start of `bytes`; `None` when `bytes` is too short.
    fn read_from(bytes: &[u8]) -> Option<Self> {
        if bytes.len() < size_of::<Self>() {
            return None;
        }
        // SAFETY: the length was checked above, `read_unaligned` has no alignment
        // requirement, and `Pod` guarantees any bit pattern is a valid `Self`.
        Some(unsafe { core::ptr::read_unaligned(bytes.as_ptr().cast::<Self>()) })
    }

    /// Mutable view of the value's bytes, for filling it from a reader.
    fn as_bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as for `as_bytes`; any bytes written leave a valid `Self` (`Pod`).
        unsafe {
            core::slice::from_raw_parts_mut((self as *mut Self).cast::<u8>(), size_of::<Self>())
        }
    }

    /// The value's bytes, padding included (padding is explicit and so initialised).
    fn as_bytes(&self) -> &[u8] {
        // SAFETY: `Pod` types have no implicit padding, so all `size_of` bytes are
        // initialised; the slice borrows `self` and cannot outlive it.
        unsafe {
            core::slice::from_raw_parts((self as *const Self).cast::<u8>(), size_of::<Self>())
        }
    }
}

/// `struct re_address`: an IPv4/IPv6 address and UDP port.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default)]
pub struct Address {
    /// `AF_INET` or `AF_INET6`; anything else is invalid.
    pub family: i32,
    /// IPv4 uses the first 4 bytes (network order), the rest stays zero.
    pub addr: [u8; 16],
    /// UDP port in host byte order.
    pub port: u16,
    pub _pad: [u8; 2],
}

impl Address {
    pub fn v4(addr: [u8; 4], port: u16) -> Self {
        let mut a = [0u8; 16];
        a[..4].copy_from_slice(&addr);
        Address {
            family: AF_INET,
            addr: a,
            port,
            _pad: [0; 2],
        }
    }

    pub fn v6(addr: [u8; 16], port: u16) -> Self {
        Address {
            family: AF_INET6,
            addr,
            port,
            _pad: [0; 2],
        }
    }

    pub fn is_valid_family(&self) -> bool {
        self.family == AF_INET || self.family == AF_INET6
    }

    /// The address bytes that count for this family (4 or 16).
    pub fn ip_bytes(&self) -> &[u8] {
        if self.family == AF_INET {
            &self.addr[..4]
        } else {
            &self.addr[..]
        }
    }
}

/// SRTP cipher ids (`enum rtpengine_cipher`).
pub mod cipher {
    pub const INVALID: u32 = 0;
    pub const NULL: u32 = 1;
    pub const AES_CM_128: u32 = 2;
    pub const AES_F8: u32 = 3;
    pub const AES_CM_192: u32 = 4;
    pub const AES_CM_256: u32 = 5;
    pub const AEAD_AES_GCM_128: u32 = 6;
    pub const AEAD_AES_GCM_256: u32 = 7;
    /// One past the last valid value.
    pub const LAST: u32 = 8;
}

/// SRTP authentication ids (`enum rtpengine_hmac`).
pub mod hmac {
    pub const INVALID: u32 = 0;
    pub const NULL: u32 = 1;
    pub const HMAC_SHA1: u32 = 2;
    pub const LAST: u32 = 3;
}

/// `struct rtpengine_srtp`: one direction's SRTP parameters.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Srtp {
    pub cipher: u32,
    pub hmac: u32,
    pub master_key: [u8; 32],
    pub master_key_len: u32,
    pub master_salt: [u8; 14],
    pub _pad0: [u8; 2],
    pub master_salt_len: u32,
    pub session_key_len: u32,
    pub session_salt_len: u32,
    pub mki: [u8; 256],
    /// Highest packet index seen per SSRC slot; live in blist.
    pub last_index: [u64; MAX_SSRC],
    /// Authentication tag length in bytes (<= 20).
    pub auth_tag_len: u32,
    pub mki_len: u32,
}

impl Default for Srtp {
    fn default() -> Self {
        Srtp::plain()
    }
}

impl Srtp {
    /// Plain RTP: NULL cipher, NULL authentication.
    pub fn plain() -> Self {
        let mut s: Srtp = Pod::zeroed();
        s.cipher = cipher::NULL;
        s.hmac = hmac::NULL;
        s
    }
}

/// One RTP payload type a target knows (`struct rtp_stats_pt`-like entry).
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct PayloadType {
    pub pt: u8,
    pub replace_pattern_len: u8,
    pub _pad: [u8; 2],
    pub clock_rate: u32,
    pub replace_pattern: [u8; 16],
}

/// Source-mismatch actions for [`TargetInfo::src_mismatch`].
pub mod src_mismatch {
    pub const IGNORE: u32 = 0;
    pub const DROP: u32 = 1;
    pub const PROPAGATE: u32 = 2;
}

/// Bits of [`TargetInfo::flags`] (C bitfields, first declared = least significant).
pub mod target_flags {
    pub const RTCP_MUX: u32 = 0x1;
    pub const DTLS: u32 = 0x2;
    pub const STUN: u32 = 0x4;
    pub const RTP: u32 = 0x8;
    pub const RTP_ONLY: u32 = 0x10;
    pub const TRACK_SSRC: u32 = 0x20;
    pub const DO_INTERCEPT: u32 = 0x40;
    pub const PT_FILTER: u32 = 0x80;
    pub const NON_FORWARDING: u32 = 0x100;
    pub const BLACKHOLE: u32 = 0x200;
    pub const RTP_STATS: u32 = 0x400;
}

/// `struct rtpengine_target_info`: what a packet to `local` is matched against.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TargetInfo {
    pub local: Address,
    pub expected_src: Address,
    pub src_mismatch: u32,
    pub num_destinations: u32,
    pub intercept_stream_idx: u32,
    pub _pad0: [u8; 4],
    pub decrypt: Srtp,
    /// SSRCs in network byte order, as they appear in the packet.
    pub ssrc: [u32; MAX_SSRC],
    /// Sorted by `pt`.
    pub payload_types: [PayloadType; MAX_PAYLOAD_TYPES],
    pub num_payload_types: u32,
    pub flags: u32,
}

impl TargetInfo {
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }
}

/// Bits of [`OutputInfo::flags`].
pub mod output_flags {
    pub const RTCP_ONLY: u8 = 0x1;
    pub const SSRC_SUBST: u8 = 0x2;
}

/// `struct rtpengine_output_info`: one forwarding destination of a target.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct OutputInfo {
    pub src_addr: Address,
    pub dst_addr: Address,
    pub encrypt: Srtp,
    /// Replacement SSRCs (network order), per SSRC slot of the target.
    pub ssrc_out: [u32; MAX_SSRC],
    pub tos: u8,
    pub flags: u8,
    pub _pad: [u8; 6],
}

/// `struct rtpengine_destination_info`: payload of ADD_DESTINATION.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct DestinationInfo {
    pub local: Address,
    pub num: u32,
    pub _pad: [u8; 4],
    pub output: OutputInfo,
}

/// `struct rtpengine_call_info`: payload of ADD_CALL / DEL_CALL.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CallInfo {
    pub call_idx: u32,
    pub call_id: [u8; 256],
}

/// `struct rtpengine_stream_info`: payload of ADD_STREAM / DEL_STREAM.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct StreamInfo {
    pub call_idx: u32,
    pub stream_idx: u32,
    pub max_packets: u32,
    pub stream_name: [u8; 256],
}

/// `struct rtpengine_packet_info`: payload of PACKET (packet bytes follow the message).
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct PacketInfo {
    pub call_idx: u32,
    pub stream_idx: u32,
}

/// Per-SSRC statistics (`struct rtpengine_ssrc_stats`).
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct SsrcStats {
    pub packets: u64,
    pub bytes: u64,
    pub timestamp: u32,
    pub ext_seq: u32,
    pub lost_bits: u32,
    pub total_lost: u32,
    pub transit: u32,
    pub jitter: u32,
}

/// `struct rtpengine_stats_info`: payload of GET_STATS / GET_RESET_STATS.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct StatsInfo {
    pub local: Address,
    pub ssrc: [u32; MAX_SSRC],
    pub ssrc_stats: [SsrcStats; MAX_SSRC],
}

/// `struct rtpengine_noop_info`: the version handshake.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct NoopInfo {
    /// Must equal `size_of::<Message>()`.
    pub size: u64,
    /// Must equal [`cmd::LAST`].
    pub last_cmd: i32,
    pub _pad: [u8; 4],
}

/// The union of all payloads; the largest member fixes its size.
#[repr(C)]
#[derive(Clone, Copy)]
pub union Payload {
    pub noop: NoopInfo,
    pub target: TargetInfo,
    pub destination: DestinationInfo,
    pub call: CallInfo,
    pub stream: StreamInfo,
    pub packet: PacketInfo,
    pub stats: StatsInfo,
    raw: [u8; 1224],
}

/// `struct rtpengine_message`: one control-file write or read.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Message {
    pub cmd: u32,
    pub _pad: [u8; 4],
    pub u: Payload,
}

/// Size of [`Message`]: every write to a table's control file must be at least this.
pub const MESSAGE_SIZE: usize = size_of::<Message>();

impl Message {
    pub fn new(cmd: u32) -> Self {
        let mut m: Message = Pod::zeroed();
        m.cmd = cmd;
        m
    }

    /// The 10.5 version handshake.
    pub fn noop() -> Self {
        let mut m = Message::new(cmd::NOOP);
        m.u.noop = NoopInfo {
            size: MESSAGE_SIZE as u64,
            last_cmd: cmd::LAST as i32,
            _pad: [0; 4],
        };
        m
    }

    pub fn add_target(t: &TargetInfo) -> Self {
        let mut m = Message::new(cmd::ADD_TARGET);
        m.u.target = *t;
        m
    }

    pub fn del_target(local: &Address) -> Self {
        let mut m = Message::new(cmd::DEL_TARGET);
        m.u.target.local = *local;
        m
    }

    pub fn add_destination(d: &DestinationInfo) -> Self {
        let mut m = Message::new(cmd::ADD_DESTINATION);
        m.u.destination = *d;
        m
    }

    pub fn get_stats(cmd: u32, local: &Address) -> Self {
        let mut m = Message::new(cmd);
        m.u.stats.local = *local;
        m
    }

    pub fn noop_info(&self) -> NoopInfo {
        // SAFETY: every union member is `Pod`, so any bytes form a valid `NoopInfo`.
        unsafe { self.u.noop }
    }
    pub fn target(&self) -> TargetInfo {
        // SAFETY: as above, reading any `Pod` member of the union is sound.
        unsafe { self.u.target }
    }
    pub fn destination(&self) -> DestinationInfo {
        // SAFETY: as above.
        unsafe { self.u.destination }
    }
    pub fn call(&self) -> CallInfo {
        // SAFETY: as above.
        unsafe { self.u.call }
    }
    pub fn stream(&self) -> StreamInfo {
        // SAFETY: as above.
        unsafe { self.u.stream }
    }
    pub fn packet(&self) -> PacketInfo {
        // SAFETY: as above.
        unsafe { self.u.packet }
    }
    pub fn stats(&self) -> StatsInfo {
        // SAFETY: as above.
        unsafe { self.u.stats }
    }
}

/// `struct rtpengine_stats`: per-target counters in blist.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct Stats {
    pub packets: u64,
    pub bytes: u64,
    pub errors: u64,
    pub delay_min: u64,
    pub delay_avg: u64,
    pub delay_max: u64,
    pub in_tos: u8,
    pub _pad: [u8; 7],
}

/// `struct rtpengine_rtp_stats`: per-payload-type counters.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct RtpStats {
    pub packets: u64,
    pub bytes: u64,
}

/// `struct rtpengine_list_entry`: one blist record.
#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ListEntry {
    pub target: TargetInfo,
    pub stats: Stats,
    pub rtp_stats: [RtpStats; MAX_PAYLOAD_TYPES],
    pub outputs: [OutputInfo; MAX_DESTINATIONS],
}

/// Size of one blist record.
pub const LIST_ENTRY_SIZE: usize = size_of::<ListEntry>();

/// Declares the ABI structs `Pod`.
macro_rules! pod {
    ($($t:ty),* $(,)?) => {$(
        // SAFETY: every one of these is repr(C), integer-only, with every padding byte
        // declared as a field (checked by the size/offset assertions below: a hidden hole
        // would shift them).
        unsafe impl Pod for $t {}
    )*};
}

pod!(
    Address,
    Srtp,
    PayloadType,
    TargetInfo,
    OutputInfo,
    DestinationInfo,
    CallInfo,
    StreamInfo,
    PacketInfo,
    SsrcStats,
    StatsInfo,
    NoopInfo,
    Payload,
    Message,
    Stats,
    RtpStats,
    ListEntry,
);

macro_rules! assert_layout {
    ($t:ty, size $size:expr $(, $field:ident @ $off:expr)* $(,)?) => {
        const _: () = assert!(size_of::<$t>() == $size);
        $( const _: () = assert!(offset_of!($t, $field) == $off); )*
    };
}

// Facts of rtpengine 10.5.3.5 on x86_64 (docs/kernel-abi.md, "Structures").
assert_layout!(Address, size 24, family @ 0, addr @ 4, port @ 20);
assert_layout!(Srtp, size 368, cipher @ 0, hmac @ 4, master_key @ 8, master_key_len @ 40,
    master_salt @ 44, master_salt_len @ 60, session_key_len @ 64, session_salt_len @ 68,
    mki @ 72, last_index @ 328, auth_tag_len @ 360, mki_len @ 364);
assert_layout!(PayloadType, size 24, pt @ 0, replace_pattern_len @ 1, clock_rate @ 4,
    replace_pattern @ 8);
assert_layout!(TargetInfo, size 1224, local @ 0, expected_src @ 24, src_mismatch @ 48,
    num_destinations @ 52, intercept_stream_idx @ 56, decrypt @ 64, ssrc @ 432,
    payload_types @ 448, num_payload_types @ 1216, flags @ 1220);
assert_layout!(OutputInfo, size 440, src_addr @ 0, dst_addr @ 24, encrypt @ 48,
    ssrc_out @ 416, tos @ 432, flags @ 433);
assert_layout!(DestinationInfo, size 472, local @ 0, num @ 24, output @ 32);
assert_layout!(CallInfo, size 260, call_idx @ 0, call_id @ 4);
assert_layout!(StreamInfo, size 268, call_idx @ 0, stream_idx @ 4, max_packets @ 8,
    stream_name @ 12);
assert_layout!(PacketInfo, size 8, call_idx @ 0, stream_idx @ 4);
assert_layout!(SsrcStats, size 40, packets @ 0, bytes @ 8, timestamp @ 16, ext_seq @ 20,
    lost_bits @ 24, total_lost @ 28, transit @ 32, jitter @ 36);
assert_layout!(StatsInfo, size 200, local @ 0, ssrc @ 24, ssrc_stats @ 40);
assert_layout!(NoopInfo, size 16, size @ 0, last_cmd @ 8);
assert_layout!(Message, size 1232, cmd @ 0, u @ 8);
assert_layout!(Stats, size 56, packets @ 0, bytes @ 8, errors @ 16, delay_min @ 24,
    delay_avg @ 32, delay_max @ 40, in_tos @ 48);
assert_layout!(RtpStats, size 16, packets @ 0, bytes @ 8);
assert_layout!(ListEntry, size 15872, target @ 0, stats @ 1224, rtp_stats @ 1280,
    outputs @ 1792);
const _: () = assert!(size_of::<Payload>() == 1224);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noop_bytes_match_the_10_5_handshake() {
        let m = Message::noop();
        let b = m.as_bytes();
        assert_eq!(b.len(), 1232);
        assert_eq!(&b[0..4], &1u32.to_ne_bytes());
        assert_eq!(&b[8..16], &1232u64.to_ne_bytes());
        assert_eq!(&b[16..20], &12i32.to_ne_bytes());
        assert!(b[20..].iter().all(|&x| x == 0));
    }

    #[test]
    fn round_trip_through_bytes() {
        let mut t = TargetInfo::read_from(&[0u8; 1224]).unwrap();
        t.local = Address::v4([192, 0, 2, 1], 30000);
        t.flags = target_flags::RTP | target_flags::RTCP_MUX;
        t.num_destinations = 2;
        t.decrypt = Srtp::plain();
        let m = Message::add_target(&t);
        let back = Message::read_from(m.as_bytes()).unwrap();
        assert_eq!(back.cmd, cmd::ADD_TARGET);
        assert_eq!(back.target(), t);
        // Field positions as the C daemon writes them.
        let b = m.as_bytes();
        assert_eq!(&b[8..12], &AF_INET.to_ne_bytes());
        assert_eq!(&b[12..16], &[192, 0, 2, 1]);
        assert_eq!(&b[28..30], &30000u16.to_ne_bytes());
        assert_eq!(&b[8 + 1220..8 + 1224], &0x9u32.to_ne_bytes());
        assert_eq!(&b[8 + 64..8 + 68], &cipher::NULL.to_ne_bytes());
    }

    #[test]
    fn short_buffers_are_refused() {
        assert!(Message::read_from(&[0u8; 1231]).is_none());
        assert!(ListEntry::read_from(&[0u8; LIST_ENTRY_SIZE - 1]).is_none());
        assert!(ListEntry::read_from(&[0u8; LIST_ENTRY_SIZE]).is_some());
    }

    #[test]
    fn address_ip_bytes_follow_family() {
        let a = Address::v4([10, 1, 2, 3], 5);
        assert_eq!(a.ip_bytes(), &[10, 1, 2, 3]);
        let b = Address::v6([1; 16], 5);
        assert_eq!(b.ip_bytes().len(), 16);
        assert!(a.is_valid_family() && b.is_valid_family());
        assert!(!Address::default().is_valid_family());
    }
}
