//! `a=setup` (RFC 4145) and `a=fingerprint` (RFC 8122) as rtpengine 10.5
//! reads and writes them.
//!
//! Reading: `a=setup` takes `actpass`, `active`, `passive`, `holdconn`
//! (exact, lower case; anything else is "unknown" and, like `holdconn`,
//! offers no role). `a=fingerprint` takes the hash names sha-1, sha-224,
//! sha-256, sha-384 and sha-512 in any case, then exactly as many hex pairs
//! (either case) separated by `:` as the hash gives bytes; a line that does
//! not parse is an unknown attribute and stays in the SDP. Of several lines
//! the first that parses counts; a media without its own takes the session's.
//!
//! Writing: `a=setup:<role>` then `a=fingerprint:<hash> <HEX:HEX:...>`
//! (upper-case hex), after `a=crypto` and before `a=ptime`.

use std::fmt::Write;

/// The value of an `a=setup` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    ActPass,
    Active,
    Passive,
    HoldConn,
    /// Any other value: 10.5 keeps the attribute (and strips it) but reads no role.
    Unknown,
}

impl Setup {
    pub fn parse(value: &str) -> Setup {
        match value {
            "actpass" => Setup::ActPass,
            "active" => Setup::Active,
            "passive" => Setup::Passive,
            "holdconn" => Setup::HoldConn,
            _ => Setup::Unknown,
        }
    }

    /// The party can be the DTLS client (we then are the server).
    pub fn party_can_be_active(self) -> bool {
        matches!(self, Setup::ActPass | Setup::Active)
    }

    /// The party can be the DTLS server (we then are the client).
    pub fn party_can_be_passive(self) -> bool {
        matches!(self, Setup::ActPass | Setup::Passive)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Setup::ActPass => "actpass",
            Setup::Active => "active",
            Setup::Passive => "passive",
            Setup::HoldConn | Setup::Unknown => "holdconn",
        }
    }
}

/// The hash functions 10.5 knows, in its order (the first is its default).
pub const FINGERPRINT_HASHES: [(&str, usize); 5] = [
    ("sha-256", 32),
    ("sha-1", 20),
    ("sha-224", 28),
    ("sha-384", 48),
    ("sha-512", 64),
];

/// The canonical (lower-case) name of a hash function named in any case.
pub fn fingerprint_hash_name(name: &str) -> Option<&'static str> {
    FINGERPRINT_HASHES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(n, _)| *n)
}

/// A parsed `a=fingerprint` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    /// Lower case, as in [`FINGERPRINT_HASHES`].
    pub hash: &'static str,
    pub digest: Vec<u8>,
}

impl Fingerprint {
    /// `<hash> <hex pairs>`, 10.5's way: the digest must hold exactly the
    /// hash's byte count of pairs; what follows the last pair is not looked at
    /// unless it is another `:`.
    pub fn parse(value: &str) -> Option<Fingerprint> {
        let mut tokens = value.split(' ').filter(|t| !t.is_empty());
        let hash_name = tokens.next()?;
        let digest_text = tokens.next()?;
        let (hash, len) = FINGERPRINT_HASHES
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(hash_name))?;
        let bytes = digest_text.as_bytes();
        let mut digest = Vec::with_capacity(*len);
        let mut pos = 0;
        loop {
            let hi = hex(*bytes.get(pos)?)?;
            let lo = hex(*bytes.get(pos + 1)?)?;
            digest.push((hi << 4) | lo);
            if bytes.get(pos + 2) != Some(&b':') {
                break;
            }
            if digest.len() == *len {
                return None;
            }
            pos += 3;
        }
        (digest.len() == *len).then_some(Fingerprint { hash, digest })
    }

    /// The attribute value: `sha-256 AB:CD:...`.
    pub fn to_value(&self) -> String {
        let mut out = String::with_capacity(self.hash.len() + 1 + self.digest.len() * 3);
        out.push_str(self.hash);
        out.push(' ');
        for (i, b) in self.digest.iter().enumerate() {
            if i > 0 {
                out.push(':');
            }
            // Writing into a String cannot fail.
            let _ = write!(out, "{b:02X}");
        }
        out
    }
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// What we write into one media section for DTLS-SRTP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DtlsAdvert {
    pub setup: Setup,
    /// Our certificate's fingerprint, the attribute value (`sha-256 AB:...`).
    pub fingerprint: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHA256: &str = "sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:2C:19:08";

    #[test]
    fn parses_as_10_5() {
        let fp = Fingerprint::parse(SHA256).unwrap();
        assert_eq!(fp.hash, "sha-256");
        assert_eq!(fp.digest.len(), 32);
        assert_eq!(fp.to_value(), SHA256);
        // Hash name in any case, hex in either case; written back canonically.
        let fp = Fingerprint::parse(&SHA256.replace("sha-256", "SHA-256").to_lowercase()).unwrap();
        assert_eq!(fp.to_value(), SHA256);
        // Too short, too long, bad hex, unknown hash, no digest.
        assert!(Fingerprint::parse("sha-256 7B:8B").is_none());
        assert!(Fingerprint::parse(&format!("{SHA256}:00")).is_none());
        assert!(Fingerprint::parse(&SHA256.replace("7B", "7G")).is_none());
        assert!(Fingerprint::parse("md5 00:11").is_none());
        assert!(Fingerprint::parse("sha-256").is_none());
        let sha1 = "sha-1 6C:FA:90:26:5D:CE:CB:F2:FB:BB:EC:FA:22:95:B6:E4:B5:18:11:2F";
        assert_eq!(Fingerprint::parse(sha1).unwrap().digest.len(), 20);
    }

    #[test]
    fn setup_roles() {
        assert!(Setup::parse("actpass").party_can_be_active());
        assert!(Setup::parse("actpass").party_can_be_passive());
        assert!(!Setup::parse("active").party_can_be_passive());
        assert!(!Setup::parse("passive").party_can_be_active());
        for s in ["holdconn", "ACTPASS", "x"] {
            let s = Setup::parse(s);
            assert!(!s.party_can_be_active() && !s.party_can_be_passive());
        }
    }
}
