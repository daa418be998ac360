//! `a=fingerprint` values: a hash function name and the certificate digest,
//! written `sha-256 AB:CD:...` (RFC 8122).

use openssl::hash::MessageDigest;
use openssl::x509::X509Ref;
use std::fmt;

/// The hash functions 10.5 accepts in `a=fingerprint` (it writes sha-256).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashFunc {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl HashFunc {
    pub const ALL: [HashFunc; 5] = [
        HashFunc::Sha256,
        HashFunc::Sha1,
        HashFunc::Sha224,
        HashFunc::Sha384,
        HashFunc::Sha512,
    ];

    /// The name as written in SDP.
    pub fn name(self) -> &'static str {
        match self {
            HashFunc::Sha1 => "sha-1",
            HashFunc::Sha224 => "sha-224",
            HashFunc::Sha256 => "sha-256",
            HashFunc::Sha384 => "sha-384",
            HashFunc::Sha512 => "sha-512",
        }
    }

    /// The SDP name, case-insensitively.
    pub fn from_name(name: &str) -> Option<HashFunc> {
        HashFunc::ALL
            .into_iter()
            .find(|h| h.name().eq_ignore_ascii_case(name))
    }

    pub fn digest_len(self) -> usize {
        match self {
            HashFunc::Sha1 => 20,
            HashFunc::Sha224 => 28,
            HashFunc::Sha256 => 32,
            HashFunc::Sha384 => 48,
            HashFunc::Sha512 => 64,
        }
    }

    fn message_digest(self) -> MessageDigest {
        match self {
            HashFunc::Sha1 => MessageDigest::sha1(),
            HashFunc::Sha224 => MessageDigest::sha224(),
            HashFunc::Sha256 => MessageDigest::sha256(),
            HashFunc::Sha384 => MessageDigest::sha384(),
            HashFunc::Sha512 => MessageDigest::sha512(),
        }
    }
}

/// Why an `a=fingerprint` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FingerprintError {
    #[error("missing hash function or digest")]
    Malformed,
    #[error("unknown hash function {0:?}")]
    UnknownHash(String),
    #[error("digest is not colon-separated hex bytes")]
    BadHex,
    #[error("digest has {got} bytes, {hash} needs {want}")]
    BadLength {
        hash: &'static str,
        got: usize,
        want: usize,
    },
}

/// A certificate fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    pub hash: HashFunc,
    pub digest: Vec<u8>,
}

impl Fingerprint {
    /// The fingerprint of a certificate (digest of its DER encoding).
    pub fn of(cert: &X509Ref, hash: HashFunc) -> Fingerprint {
        let digest = cert
            .digest(hash.message_digest())
            .map(|d| d.to_vec())
            // Digesting a parsed certificate with a built-in hash cannot fail
            // short of memory exhaustion; an empty digest then never matches.
            .unwrap_or_default();
        Fingerprint { hash, digest }
    }

    /// Parses the value of `a=fingerprint:` (`sha-256 AB:CD:...`).
    pub fn parse(value: &str) -> Result<Fingerprint, FingerprintError> {
        let mut parts = value.split_ascii_whitespace();
        let (Some(name), Some(hex), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(FingerprintError::Malformed);
        };
        let hash = HashFunc::from_name(name)
            .ok_or_else(|| FingerprintError::UnknownHash(name.to_string()))?;
        let digest = hex
            .split(':')
            .map(|b| {
                if b.len() == 2 {
                    u8::from_str_radix(b, 16).map_err(|_| FingerprintError::BadHex)
                } else {
                    Err(FingerprintError::BadHex)
                }
            })
            .collect::<Result<Vec<u8>, _>>()?;
        if digest.len() != hash.digest_len() {
            return Err(FingerprintError::BadLength {
                hash: hash.name(),
                got: digest.len(),
                want: hash.digest_len(),
            });
        }
        Ok(Fingerprint { hash, digest })
    }

    /// Whether `cert` has this fingerprint.
    pub fn matches(&self, cert: &X509Ref) -> bool {
        Fingerprint::of(cert, self.hash).digest == self.digest
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.hash.name())?;
        for (i, b) in self.digest.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_writes_back() {
        let hex: Vec<String> = (0..32).map(|i| format!("{i:02X}")).collect();
        let text = format!("sha-256 {}", hex.join(":"));
        let fp = Fingerprint::parse(&text).unwrap();
        assert_eq!(fp.hash, HashFunc::Sha256);
        assert_eq!(fp.digest, (0..32).collect::<Vec<u8>>());
        assert_eq!(fp.to_string(), text);
        let lower = Fingerprint::parse(&text.to_lowercase().replace("sha-256", "SHA-256"));
        assert_eq!(lower.unwrap(), fp);
    }

    #[test]
    fn refuses_bad_values() {
        assert_eq!(Fingerprint::parse(""), Err(FingerprintError::Malformed));
        assert_eq!(
            Fingerprint::parse("md5 AB:CD"),
            Err(FingerprintError::UnknownHash("md5".into()))
        );
        assert_eq!(
            Fingerprint::parse("sha-1 AB:CG"),
            Err(FingerprintError::BadHex)
        );
        assert_eq!(
            Fingerprint::parse("sha-1 ABC:D"),
            Err(FingerprintError::BadHex)
        );
        assert!(matches!(
            Fingerprint::parse("sha-1 AB:CD"),
            Err(FingerprintError::BadLength {
                got: 2,
                want: 20,
                ..
            })
        ));
        assert_eq!(
            Fingerprint::parse("sha-1 AB extra"),
            Err(FingerprintError::Malformed)
        );
    }
}
