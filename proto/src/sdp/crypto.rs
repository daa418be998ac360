//! `a=crypto` (RFC 4568 SDES): parsing and printing one attribute value,
//! `<tag> <suite> inline:<base64 key||salt>[|<lifetime>][|<mki>:<length>] [session params]`.
//! Only the textual form lives here; which suites exist and their key sizes
//! are in `crate::srtp::suite`.

use std::fmt;

/// One parsed `a=crypto:` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptoAttribute {
    pub tag: u32,
    /// Suite name as written (matched case-insensitively by `srtp::suite`).
    pub suite: String,
    /// Master key followed by master salt, decoded from base64.
    pub key_salt: Vec<u8>,
    /// `|2^20` or `|1048576`, kept as text: rtpengine does not print it back.
    pub lifetime: Option<String>,
    /// MKI value and its length in bytes (`|1:4`).
    pub mki: Option<Mki>,
    /// Session parameters (`UNENCRYPTED_SRTP`, ...), in order.
    pub session_params: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mki {
    pub value: u64,
    pub length: u8,
}

/// Why an `a=crypto` value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoParseError {
    #[error("a=crypto: missing {0}")]
    Missing(&'static str),
    #[error("a=crypto: bad tag {0:?}")]
    BadTag(String),
    #[error("a=crypto: key method {0:?} is not inline")]
    NotInline(String),
    #[error("a=crypto: key is not valid base64")]
    BadBase64,
    #[error("a=crypto: bad MKI {0:?}")]
    BadMki(String),
}

impl CryptoAttribute {
    pub fn parse(value: &str) -> Result<CryptoAttribute, CryptoParseError> {
        let mut words = value.split(' ').filter(|w| !w.is_empty());
        let tag_text = words.next().ok_or(CryptoParseError::Missing("tag"))?;
        let tag = tag_text
            .parse::<u32>()
            .map_err(|_| CryptoParseError::BadTag(tag_text.to_string()))?;
        let suite = words
            .next()
            .ok_or(CryptoParseError::Missing("suite"))?
            .to_string();
        let key_params = words
            .next()
            .ok_or(CryptoParseError::Missing("key parameters"))?;
        let (method, info) = key_params
            .split_once(':')
            .ok_or(CryptoParseError::Missing("inline:"))?;
        if !method.eq_ignore_ascii_case("inline") {
            return Err(CryptoParseError::NotInline(method.to_string()));
        }
        // Several `;`-separated keys are allowed by RFC 4568; like rtpengine we use the first.
        let first_key = info.split(';').next().unwrap_or("");
        let mut parts = first_key.split('|');
        let key_salt =
            base64_decode(parts.next().unwrap_or("")).ok_or(CryptoParseError::BadBase64)?;
        let mut lifetime = None;
        let mut mki = None;
        for part in parts {
            if let Some((value, length)) = part.split_once(':') {
                let bad = || CryptoParseError::BadMki(part.to_string());
                let value = value.parse::<u64>().map_err(|_| bad())?;
                let length = length.parse::<u8>().map_err(|_| bad())?;
                if length == 0 || length > 128 {
                    return Err(bad());
                }
                mki = Some(Mki { value, length });
            } else {
                lifetime = Some(part.to_string());
            }
        }
        Ok(CryptoAttribute {
            tag,
            suite,
            key_salt,
            lifetime,
            mki,
            session_params: words.map(str::to_string).collect(),
        })
    }
}

impl fmt::Display for CryptoAttribute {
    /// The value after `a=crypto:`, as rtpengine prints it: unpadded base64,
    /// lifetime and MKI only if set, session parameters after a space each.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} inline:{}",
            self.tag,
            self.suite,
            base64_encode(&self.key_salt)
        )?;
        if let Some(lifetime) = &self.lifetime {
            write!(f, "|{lifetime}")?;
        }
        if let Some(mki) = &self.mki {
            write!(f, "|{}:{}", mki.value, mki.length)?;
        }
        for param in &self.session_params {
            write!(f, " {param}")?;
        }
        Ok(())
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 without `=` padding (rtpengine's form for SDES keys).
pub fn base64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// Standard base64, padding optional; `None` for any other character or a
/// length that cannot be base64.
pub fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.trim_end_matches('=');
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in text.bytes() {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_lifetime_mki_and_session_params() {
        let a = CryptoAttribute::parse(
            "3 AES_256_CM_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd|2^31|7:4 UNENCRYPTED_SRTCP",
        )
        .unwrap();
        assert_eq!(a.tag, 3);
        assert_eq!(a.key_salt, (0u8..30).collect::<Vec<_>>());
        assert_eq!(a.lifetime.as_deref(), Some("2^31"));
        assert_eq!(
            a.mki,
            Some(Mki {
                value: 7,
                length: 4
            })
        );
        assert_eq!(a.session_params, vec!["UNENCRYPTED_SRTCP"]);
        assert_eq!(
            a.to_string(),
            "3 AES_256_CM_HMAC_SHA1_80 inline:AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd|2^31|7:4 UNENCRYPTED_SRTCP"
        );
    }

    #[test]
    fn base64_round_trips_every_length() {
        for len in 0..50u8 {
            let data: Vec<u8> = (0..len)
                .map(|i| i.wrapping_mul(37).wrapping_add(len))
                .collect();
            let text = base64_encode(&data);
            assert!(!text.contains('='));
            assert_eq!(base64_decode(&text), Some(data.clone()));
        }
        assert_eq!(base64_decode("AAECAw=="), Some(vec![0, 1, 2, 3]));
        assert_eq!(base64_decode("A"), None);
        assert_eq!(base64_decode("AA*A"), None);
    }

    #[test]
    fn refuses_malformed_values() {
        assert!(matches!(
            CryptoAttribute::parse("x AES inline:AAAA"),
            Err(CryptoParseError::BadTag(_))
        ));
        assert!(matches!(
            CryptoAttribute::parse("1 AES"),
            Err(CryptoParseError::Missing(_))
        ));
        assert!(matches!(
            CryptoAttribute::parse("1 AES uri:AAAA"),
            Err(CryptoParseError::NotInline(_))
        ));
        assert!(matches!(
            CryptoAttribute::parse("1 AES inline:A!AA"),
            Err(CryptoParseError::BadBase64)
        ));
        assert!(matches!(
            CryptoAttribute::parse("1 AES inline:AAAA|1:0"),
            Err(CryptoParseError::BadMki(_))
        ));
    }
}
