//! Rules for targets and their outputs: validation of ADD_TARGET / ADD_DESTINATION with
//! the errno of rtpengine 10.5, the lookup key of a target (its local address) and its
//! hash, and the output-slot bookkeeping.

use super::abi::{
    cipher, hmac, src_mismatch, target_flags, Address, DestinationInfo, Srtp, TargetInfo, AF_INET,
    AF_INET6, MAX_DESTINATIONS, MAX_PAYLOAD_TYPES,
};
use super::errno::{self, Errno};
use core::cmp::Ordering;

/// A usable address: IPv4 or IPv6, not all-zero, nonzero port (10.5's rule).
pub fn is_valid_address(a: &Address) -> bool {
    match a.family {
        AF_INET => a.addr[..4] != [0; 4] && a.port != 0,
        AF_INET6 => a.addr != [0; 16] && a.port != 0,
        _ => false,
    }
}

/// 10.5's `validate_srtp`: known cipher and hmac (0 = invalid), tag <= 20, MKI <= 256.
pub fn validate_srtp(s: &Srtp) -> Result<(), Errno> {
    if s.cipher == cipher::INVALID || s.cipher >= cipher::LAST {
        return Err(errno::EINVAL);
    }
    if s.hmac == hmac::INVALID || s.hmac >= hmac::LAST {
        return Err(errno::EINVAL);
    }
    if s.auth_tag_len > 20 || s.mki_len as usize > s.mki.len() {
        return Err(errno::EINVAL);
    }
    Ok(())
}

/// Validates an ADD_TARGET payload and returns the copy the table keeps: payload types
/// sorted by number (the packet path binary-searches them) and padding cleared.
/// `crypto_ok` decides which SRTP parameters this build can execute.
pub fn prepare_target(t: &TargetInfo, crypto_ok: fn(&Srtp) -> bool) -> Result<TargetInfo, Errno> {
    if !is_valid_address(&t.local) {
        return Err(errno::EINVAL);
    }
    if t.num_destinations as usize > MAX_DESTINATIONS {
        return Err(errno::EINVAL);
    }
    // non_forwarding exactly when there is nothing to forward to.
    if t.has(target_flags::NON_FORWARDING) != (t.num_destinations == 0) {
        return Err(errno::EINVAL);
    }
    validate_srtp(&t.decrypt)?;
    if !crypto_ok(&t.decrypt) {
        return Err(errno::EINVAL);
    }
    // Beyond 10.5, which trusts these blindly.
    if t.num_payload_types as usize > MAX_PAYLOAD_TYPES || t.src_mismatch > src_mismatch::PROPAGATE
    {
        return Err(errno::EINVAL);
    }
    let mut out = *t;
    normalize(&mut out.local);
    normalize(&mut out.expected_src);
    out._pad0 = [0; 4];
    let n = t.num_payload_types as usize;
    sort_payload_types(&mut out.payload_types[..n]);
    for pt in out.payload_types[..n].iter() {
        if pt.replace_pattern_len as usize > pt.replace_pattern.len() {
            return Err(errno::EINVAL);
        }
    }
    Ok(out)
}

/// Clears what matching must not depend on: padding, and the unused tail of IPv4.
pub fn normalize(a: &mut Address) {
    a._pad = [0; 2];
    if a.family == AF_INET {
        a.addr[4..].fill(0);
    }
}

fn sort_payload_types(pts: &mut [super::abi::PayloadType]) {
    // Insertion sort: at most 32 entries, no allocation, stable.
    for i in 1..pts.len() {
        let mut j = i;
        while j > 0 && pts[j - 1].pt > pts[j].pt {
            pts.swap(j - 1, j);
            j -= 1;
        }
    }
}

/// Validates the table-independent part of ADD_DESTINATION.
pub fn validate_destination(
    d: &DestinationInfo,
    crypto_ok: fn(&Srtp) -> bool,
) -> Result<(), Errno> {
    let o = &d.output;
    if !is_valid_address(&o.src_addr) || !is_valid_address(&o.dst_addr) {
        return Err(errno::EINVAL);
    }
    if o.src_addr.family != o.dst_addr.family {
        return Err(errno::EINVAL);
    }
    validate_srtp(&o.encrypt)?;
    if !crypto_ok(&o.encrypt) {
        return Err(errno::EINVAL);
    }
    Ok(())
}

/// Which output slots of a target are filled (bit i = output i).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Slots {
    pub filled: u32,
    pub total: u32,
}

impl Slots {
    pub fn new(total: u32) -> Self {
        Slots { filled: 0, total }
    }

    pub fn unfilled(&self) -> u32 {
        self.total - self.filled.count_ones()
    }

    pub fn complete(&self) -> bool {
        self.unfilled() == 0
    }

    /// May output `num` be filled now? EBUSY when all are, ERANGE past the end,
    /// EEXIST when that one is (order of checks as in 10.5).
    pub fn check(&self, num: u32) -> Result<(), Errno> {
        if self.complete() {
            return Err(errno::EBUSY);
        }
        if num >= self.total {
            return Err(errno::ERANGE);
        }
        if self.filled & (1 << num) != 0 {
            return Err(errno::EEXIST);
        }
        Ok(())
    }

    pub fn fill(&mut self, num: u32) {
        if num < 32 {
            self.filled |= 1 << num;
        }
    }
}

/// Hash of a local address for the table's buckets.
pub fn hash_address(a: &Address) -> u32 {
    let mut h: u32 = (a.family as u32).wrapping_mul(0x9e37_79b1) ^ u32::from(a.port);
    for c in a.ip_bytes().chunks_exact(4) {
        h = (h ^ u32::from_ne_bytes([c[0], c[1], c[2], c[3]])).wrapping_mul(0x85eb_ca6b);
        h ^= h >> 13;
    }
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// Total order of local addresses; buckets keep their targets in this order so that a
/// listing can resume after the last address it showed even if targets come and go.
pub fn cmp_address(a: &Address, b: &Address) -> Ordering {
    (a.family, a.addr, a.port).cmp(&(b.family, b.addr, b.port))
}

/// Do two normalized addresses match (family, address, port), ignoring padding?
pub fn same_address(a: &Address, b: &Address) -> bool {
    a.family == b.family && a.port == b.port && a.addr == b.addr
}

#[cfg(test)]
mod tests {
    use super::super::abi::{PayloadType, Pod};
    use super::*;

    fn plain_only(s: &Srtp) -> bool {
        s.cipher == cipher::NULL && s.hmac == hmac::NULL
    }

    fn target() -> TargetInfo {
        let mut t = TargetInfo::zeroed();
        t.local = Address::v4([10, 0, 0, 1], 30000);
        t.num_destinations = 1;
        t.decrypt = Srtp::plain();
        t
    }

    #[test]
    fn target_rules_of_10_5() {
        assert!(prepare_target(&target(), plain_only).is_ok());
        let mut t = target();
        t.local.port = 0;
        assert_eq!(prepare_target(&t, plain_only), Err(errno::EINVAL));
        let mut t = target();
        t.local.addr = [0; 16];
        assert_eq!(prepare_target(&t, plain_only), Err(errno::EINVAL));
        let mut t = target();
        t.local.family = 7;
        assert_eq!(prepare_target(&t, plain_only), Err(errno::EINVAL));
        let mut t = target();
        t.num_destinations = 33;
        assert_eq!(prepare_target(&t, plain_only), Err(errno::EINVAL));
        let mut t = target();
        t.num_destinations = 0;
        assert_eq!(
            prepare_target(&t, plain_only),
            Err(errno::EINVAL),
            "no outputs needs non_forwarding"
        );
        t.flags |= target_flags::NON_FORWARDING;
        assert!(prepare_target(&t, plain_only).is_ok());
        t.num_destinations = 1;
        assert_eq!(
            prepare_target(&t, plain_only),
            Err(errno::EINVAL),
            "non_forwarding with outputs"
        );
        let mut t = target();
        t.decrypt.cipher = 0;
        assert_eq!(prepare_target(&t, plain_only), Err(errno::EINVAL));
        let mut t = target();
        t.decrypt.hmac = 0;
        assert_eq!(prepare_target(&t, plain_only), Err(errno::EINVAL));
        let mut t = target();
        t.decrypt.cipher = cipher::AES_CM_128;
        assert_eq!(
            prepare_target(&t, plain_only),
            Err(errno::EINVAL),
            "unsupported crypto"
        );
        assert!(prepare_target(&t, |_| true).is_ok());
        t.decrypt.auth_tag_len = 21;
        assert_eq!(prepare_target(&t, |_| true), Err(errno::EINVAL));
        let mut t = target();
        t.num_payload_types = 33;
        assert_eq!(prepare_target(&t, plain_only), Err(errno::EINVAL));
        let mut t = target();
        t.src_mismatch = 3;
        assert_eq!(prepare_target(&t, plain_only), Err(errno::EINVAL));
    }

    #[test]
    fn payload_types_are_sorted() {
        let mut t = target();
        for (i, pt) in [96u8, 0, 8, 101].iter().enumerate() {
            t.payload_types[i] = PayloadType {
                pt: *pt,
                clock_rate: 8000,
                ..Default::default()
            };
        }
        t.num_payload_types = 4;
        let p = prepare_target(&t, plain_only).unwrap();
        let order: Vec<u8> = p.payload_types[..4].iter().map(|x| x.pt).collect();
        assert_eq!(order, vec![0, 8, 96, 101]);
    }

    #[test]
    fn destination_rules() {
        let mut d = DestinationInfo::zeroed();
        d.local = Address::v4([10, 0, 0, 1], 30000);
        d.output.src_addr = Address::v4([10, 0, 0, 1], 30002);
        d.output.dst_addr = Address::v4([10, 0, 0, 9], 4000);
        d.output.encrypt = Srtp::plain();
        assert_eq!(validate_destination(&d, plain_only), Ok(()));
        let mut e = d;
        e.output.dst_addr = Address::v6([1; 16], 4000);
        assert_eq!(
            validate_destination(&e, plain_only),
            Err(errno::EINVAL),
            "family mismatch"
        );
        let mut e = d;
        e.output.src_addr.port = 0;
        assert_eq!(validate_destination(&e, plain_only), Err(errno::EINVAL));
        let mut e = d;
        e.output.encrypt.hmac = 0;
        assert_eq!(validate_destination(&e, plain_only), Err(errno::EINVAL));
    }

    #[test]
    fn slots() {
        let mut s = Slots::new(2);
        assert_eq!(s.check(2), Err(errno::ERANGE));
        assert_eq!(s.check(1), Ok(()));
        s.fill(1);
        assert_eq!(s.check(1), Err(errno::EEXIST));
        assert!(!s.complete());
        s.fill(0);
        assert!(s.complete());
        assert_eq!(s.check(0), Err(errno::EBUSY));
        assert_eq!(Slots::new(32).unfilled(), 32);
    }

    #[test]
    fn hash_spreads_ports_and_addresses() {
        let mut seen = std::collections::HashSet::new();
        for p in 30000..34096u16 {
            seen.insert(hash_address(&Address::v4([10, 0, 0, 1], p)) & 4095);
        }
        assert!(seen.len() > 2500, "{} distinct buckets of 4096", seen.len());
        assert_ne!(
            hash_address(&Address::v4([10, 0, 0, 1], 5)),
            hash_address(&Address::v4([10, 0, 0, 2], 5))
        );
    }

    #[test]
    fn address_order_and_equality() {
        let a = Address::v4([10, 0, 0, 1], 5);
        let mut b = a;
        b._pad = [1, 2];
        assert!(same_address(&a, &b));
        assert_eq!(
            cmp_address(&a, &Address::v4([10, 0, 0, 1], 6)),
            Ordering::Less
        );
        assert_eq!(cmp_address(&Address::v6([0; 16], 1), &a), Ordering::Greater);
    }
}
