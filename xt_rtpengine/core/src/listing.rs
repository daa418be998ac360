//! The text of `/proc/rtpengine/N/list`, in the layout of rtpengine 10.5 — except that
//! no key material is ever printed (10.5 prints master and session keys in clear).

use super::abi::{
    self, cipher, hmac, output_flags, src_mismatch, target_flags, Address, ListEntry, Srtp,
    AF_INET, AF_INET6,
};
use core::fmt::{self, Write};

/// `inet4 1.2.3.4:5` / `inet6 [2001:db8:0:0:0:0:0:1]:5` (10.5 prints all eight groups).
pub struct AddrFmt<'a>(pub &'a Address);

impl fmt::Display for AddrFmt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = self.0;
        match a.family {
            AF_INET => write!(
                f,
                "inet4 {}.{}.{}.{}:{}",
                a.addr[0], a.addr[1], a.addr[2], a.addr[3], a.port
            ),
            AF_INET6 => {
                f.write_str("inet6 [")?;
                for i in 0..8 {
                    let g = u16::from_be_bytes([a.addr[2 * i], a.addr[2 * i + 1]]);
                    write!(f, "{}{:x}", if i == 0 { "" } else { ":" }, g)?;
                }
                write!(f, "]:{}", a.port)
            }
            _ => f.write_str("<unknown>"),
        }
    }
}

pub fn cipher_name(c: u32) -> &'static str {
    match c {
        cipher::NULL => "NULL",
        cipher::AES_CM_128 => "AES-CM-128",
        cipher::AES_F8 => "AES-F8",
        cipher::AES_CM_192 => "AES-CM-192",
        cipher::AES_CM_256 => "AES-CM-256",
        cipher::AEAD_AES_GCM_128 => "AEAD-AES-GCM-128",
        cipher::AEAD_AES_GCM_256 => "AEAD-AES-GCM-256",
        _ => "<invalid>",
    }
}

fn addr_line(out: &mut impl Write, label: &str, a: &Address) -> fmt::Result {
    if a.family == 0 {
        return Ok(());
    }
    writeln!(out, "    {:>6} {}", label, AddrFmt(a))
}

fn ssrc_list(out: &mut impl Write, ssrcs: &[u32]) -> fmt::Result {
    for (i, s) in ssrcs.iter().take_while(|s| **s != 0).enumerate() {
        write!(
            out,
            "{} {:x}",
            if i == 0 { "" } else { "," },
            u32::from_be(*s)
        )?;
    }
    writeln!(out)
}

/// SRTP parameters without keys: cipher, ROC/index per SSRC slot, MKI length, HMAC.
fn crypto(out: &mut impl Write, s: &Srtp, label: &str) -> fmt::Result {
    let mut header = false;
    if s.cipher != cipher::NULL {
        header = true;
        writeln!(out, "    SRTP {} parameters:", label)?;
        writeln!(out, "        cipher: {}", cipher_name(s.cipher))?;
        write!(out, "           ROC:")?;
        for (i, idx) in s.last_index.iter().enumerate() {
            write!(
                out,
                "{} {} ({})",
                if i == 0 { "" } else { "," },
                idx >> 16,
                idx
            )?;
        }
        writeln!(out)?;
        if s.mki_len != 0 {
            writeln!(out, "            MKI: length {}", s.mki_len)?;
        }
    }
    if s.hmac != hmac::NULL {
        if !header {
            writeln!(out, "      SRTP {} parameters:", label)?;
        }
        writeln!(
            out,
            "          HMAC: {}",
            if s.hmac == hmac::HMAC_SHA1 {
                "HMAC-SHA1"
            } else {
                "<invalid>"
            }
        )?;
        writeln!(out, "            auth tag length: {}", s.auth_tag_len)?;
    }
    Ok(())
}

/// One target. `unfilled` is the number of outputs not yet added.
pub fn format_target(out: &mut impl Write, e: &ListEntry, unfilled: u32) -> fmt::Result {
    let t = &e.target;
    writeln!(out, "local {}", AddrFmt(&t.local))?;
    if unfilled != 0 {
        return writeln!(out, "    outputs not fully filled ({} missing)", unfilled);
    }
    addr_line(out, "expect", &t.expected_src)?;
    match t.src_mismatch {
        src_mismatch::DROP => writeln!(out, "    src mismatch action: drop")?,
        src_mismatch::PROPAGATE => writeln!(out, "    src mismatch action: propagate")?,
        _ => {}
    }
    writeln!(
        out,
        "    stats: {:>20} bytes, {:>20} packets, {:>20} errors",
        e.stats.bytes, e.stats.packets, e.stats.errors
    )?;
    let npt = (t.num_payload_types as usize).min(abi::MAX_PAYLOAD_TYPES);
    for (pt, st) in t.payload_types[..npt].iter().zip(e.rtp_stats.iter()) {
        writeln!(
            out,
            "        RTP payload type {:>3}: {:>20} bytes, {:>20} packets",
            pt.pt, st.bytes, st.packets
        )?;
        if pt.replace_pattern_len != 0 {
            writeln!(
                out,
                "            {} bytes replacement payload",
                pt.replace_pattern_len
            )?;
        }
    }
    write!(out, "    SSRC in:")?;
    ssrc_list(out, &t.ssrc)?;
    crypto(out, &t.decrypt, "decryption")?;
    for (flag, name) in [
        (target_flags::RTCP_MUX, "rtcp-mux"),
        (target_flags::DTLS, "dtls"),
        (target_flags::STUN, "stun"),
        (target_flags::NON_FORWARDING, "non forwarding"),
        (target_flags::BLACKHOLE, "blackhole"),
        (target_flags::RTP_STATS, "RTP stats"),
    ] {
        if t.has(flag) {
            writeln!(out, "    option: {}", name)?;
        }
    }
    let nout = (t.num_destinations as usize).min(abi::MAX_DESTINATIONS);
    for (i, o) in e.outputs[..nout].iter().enumerate() {
        writeln!(out, "    output #{}", i)?;
        addr_line(out, "src", &o.src_addr)?;
        addr_line(out, "dst", &o.dst_addr)?;
        if o.flags & output_flags::SSRC_SUBST != 0 {
            write!(out, " SSRC out:")?;
            ssrc_list(out, &o.ssrc_out)?;
        }
        if o.flags & output_flags::RTCP_ONLY != 0 {
            writeln!(out, "      option: RTCP only")?;
        }
        crypto(out, &o.encrypt, "encryption")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::abi::{Pod, TargetInfo};
    use super::*;
    use std::string::String;

    fn entry() -> ListEntry {
        let mut e = ListEntry::zeroed();
        let t: &mut TargetInfo = &mut e.target;
        t.local = Address::v4([203, 0, 113, 1], 30000);
        t.expected_src = Address::v4([198, 51, 100, 1], 4370);
        t.src_mismatch = src_mismatch::DROP;
        t.num_destinations = 1;
        t.decrypt = Srtp::plain();
        t.ssrc[0] = 0x6543u32.to_be();
        t.num_payload_types = 1;
        t.flags = target_flags::RTP | target_flags::RTCP_MUX;
        e.stats.bytes = 1720;
        e.stats.packets = 10;
        e.rtp_stats[0] = abi::RtpStats {
            packets: 10,
            bytes: 1720,
        };
        e.outputs[0].src_addr = Address::v4([203, 0, 113, 1], 30002);
        e.outputs[0].dst_addr = Address::v4([198, 51, 100, 3], 4372);
        e.outputs[0].encrypt = Srtp::plain();
        e
    }

    #[test]
    fn plain_target_in_10_5_layout() {
        let mut s = String::new();
        format_target(&mut s, &entry(), 0).unwrap();
        let expected = "local inet4 203.0.113.1:30000\n\
            \x20   expect inet4 198.51.100.1:4370\n\
            \x20   src mismatch action: drop\n\
            \x20   stats:                 1720 bytes,                   10 packets,                    0 errors\n\
            \x20       RTP payload type   0:                 1720 bytes,                   10 packets\n\
            \x20   SSRC in: 6543\n\
            \x20   option: rtcp-mux\n\
            \x20   output #0\n\
            \x20      src inet4 203.0.113.1:30002\n\
            \x20      dst inet4 198.51.100.3:4372\n";
        assert_eq!(s, expected);
    }

    #[test]
    fn unfilled_target_says_so() {
        let mut s = String::new();
        format_target(&mut s, &entry(), 1).unwrap();
        assert_eq!(
            s,
            "local inet4 203.0.113.1:30000\n    outputs not fully filled (1 missing)\n"
        );
    }

    #[test]
    fn srtp_parameters_never_show_keys() {
        let mut e = entry();
        e.target.decrypt.cipher = cipher::AES_CM_128;
        e.target.decrypt.hmac = hmac::HMAC_SHA1;
        e.target.decrypt.auth_tag_len = 10;
        e.target.decrypt.master_key = [0xab; 32];
        e.target.decrypt.master_key_len = 16;
        e.target.decrypt.master_salt = [0xcd; 14];
        e.target.decrypt.last_index[0] = 0x1_0005;
        let mut s = String::new();
        format_target(&mut s, &e, 0).unwrap();
        assert!(s.contains("cipher: AES-CM-128"), "{s}");
        assert!(s.contains("ROC: 1 (65541), 0 (0)"), "{s}");
        assert!(
            s.contains("HMAC: HMAC-SHA1") && s.contains("auth tag length: 10"),
            "{s}"
        );
        assert!(
            !s.to_lowercase().contains("abab") && !s.contains("cdcd") && !s.contains("key:"),
            "{s}"
        );
    }

    #[test]
    fn ipv6_addresses() {
        let mut a = [0u8; 16];
        a[0] = 0x20;
        a[1] = 0x01;
        a[2] = 0x0d;
        a[3] = 0xb8;
        a[15] = 1;
        assert_eq!(
            std::format!("{}", AddrFmt(&Address::v6(a, 9))),
            "inet6 [2001:db8:0:0:0:0:0:1]:9"
        );
    }
}
