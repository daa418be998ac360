//! Zero-copy, lenient bencode codec for the ng protocol.
//!
//! Decoding borrows strings from the datagram; dictionaries keep their wire order
//! (rtpengine does not require sorted keys, and neither do we). Encoding writes owned
//! values, keeping insertion order so replies read like rtpengine's.

use std::fmt;

/// Nesting limit: ng messages are at most a few levels deep; this bounds recursion on
/// hostile input.
const MAX_DEPTH: usize = 32;

/// A decoded value borrowing from the input buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    Bytes(&'a [u8]),
    Int(i64),
    List(Vec<Value<'a>>),
    Dict(Vec<(&'a [u8], Value<'a>)>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("unexpected end of input at byte {0}")]
    Truncated(usize),
    #[error("invalid byte {byte:#04x} at {at}")]
    Unexpected { byte: u8, at: usize },
    #[error("invalid integer at byte {0}")]
    BadInt(usize),
    #[error("invalid string length at byte {0}")]
    BadLength(usize),
    #[error("dictionary key is not a string at byte {0}")]
    KeyNotString(usize),
    #[error("nesting deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("{0} trailing bytes after the value")]
    Trailing(usize),
}

/// Decode exactly one value spanning the whole input.
pub fn decode(input: &[u8]) -> Result<Value<'_>, DecodeError> {
    let mut d = Decoder { buf: input, pos: 0 };
    let v = d.value(0)?;
    // rtpengine tolerates trailing whitespace (some clients append a newline).
    let rest = &input[d.pos..];
    if rest.iter().all(|b| b.is_ascii_whitespace()) {
        Ok(v)
    } else {
        Err(DecodeError::Trailing(rest.len()))
    }
}

struct Decoder<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Decoder<'a> {
    fn peek(&self) -> Result<u8, DecodeError> {
        self.buf
            .get(self.pos)
            .copied()
            .ok_or(DecodeError::Truncated(self.pos))
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError::TooDeep);
        }
        match self.peek()? {
            b'i' => {
                self.pos += 1;
                let n = self.int_until(b'e')?;
                Ok(Value::Int(n))
            }
            b'l' => {
                self.pos += 1;
                let mut items = Vec::new();
                while !self.container_ends() {
                    items.push(self.value(depth + 1)?);
                }
                Ok(Value::List(items))
            }
            b'd' => {
                self.pos += 1;
                let mut items = Vec::new();
                while !self.container_ends() {
                    let at = self.pos;
                    if !self.peek()?.is_ascii_digit() {
                        return Err(DecodeError::KeyNotString(at));
                    }
                    let k = self.bytes()?;
                    let v = self.value(depth + 1)?;
                    items.push((k, v));
                }
                Ok(Value::Dict(items))
            }
            b'0'..=b'9' => Ok(Value::Bytes(self.bytes()?)),
            byte => Err(DecodeError::Unexpected { byte, at: self.pos }),
        }
    }

    /// At a list item / dictionary key position: consume `e`, or accept the end of
    /// input as closing every open container (rtpengine answers `d7:command4:ping`
    /// with pong, so clients may rely on it).
    fn container_ends(&mut self) -> bool {
        match self.buf.get(self.pos) {
            Some(b'e') => {
                self.pos += 1;
                true
            }
            Some(_) => false,
            None => true,
        }
    }

    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let start = self.pos;
        let len = self.int_until(b':')?;
        let len = usize::try_from(len).map_err(|_| DecodeError::BadLength(start))?;
        let end = self
            .pos
            .checked_add(len)
            .ok_or(DecodeError::BadLength(start))?;
        let s = self
            .buf
            .get(self.pos..end)
            .ok_or(DecodeError::Truncated(self.buf.len()))?;
        self.pos = end;
        Ok(s)
    }

    /// Parse a decimal integer terminated by `term`, consuming the terminator.
    fn int_until(&mut self, term: u8) -> Result<i64, DecodeError> {
        let start = self.pos;
        let rel = self.buf[start..]
            .iter()
            .position(|&b| b == term)
            .ok_or(DecodeError::Truncated(self.buf.len()))?;
        let digits = &self.buf[start..start + rel];
        let text = std::str::from_utf8(digits).map_err(|_| DecodeError::BadInt(start))?;
        let valid = !text.is_empty()
            && text
                .trim_start_matches('-')
                .bytes()
                .all(|b| b.is_ascii_digit())
            && text != "-";
        if !valid {
            return Err(DecodeError::BadInt(start));
        }
        let n: i64 = text.parse().map_err(|_| DecodeError::BadInt(start))?;
        self.pos = start + rel + 1;
        Ok(n)
    }
}

impl<'a> Value<'a> {
    /// Look a key up in a dictionary (first match, as rtpengine does).
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        match self {
            Value::Dict(items) => items
                .iter()
                .find(|(k, _)| *k == key.as_bytes())
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The value as text: strings as-is, integers rendered (lenient string-or-int).
    pub fn as_text(&self) -> Option<std::borrow::Cow<'a, str>> {
        match self {
            Value::Bytes(b) => Some(String::from_utf8_lossy(b)),
            Value::Int(n) => Some(std::borrow::Cow::Owned(n.to_string())),
            _ => None,
        }
    }

    /// The value as an integer: integers, or strings holding a decimal number.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(n) => Some(*n),
            Value::Bytes(b) => std::str::from_utf8(b).ok()?.trim().parse().ok(),
            _ => None,
        }
    }

    /// Items of a list; a single string counts as a one-item list (lenient: some
    /// clients send `flags` as a space-separated string).
    pub fn as_text_list(&self) -> Vec<std::borrow::Cow<'a, str>> {
        match self {
            Value::List(items) => items.iter().filter_map(|v| v.as_text()).collect(),
            Value::Bytes(b) => String::from_utf8_lossy(b)
                .split_ascii_whitespace()
                .map(|s| std::borrow::Cow::Owned(s.to_owned()))
                .collect(),
            Value::Int(n) => vec![std::borrow::Cow::Owned(n.to_string())],
            Value::Dict(_) => Vec::new(),
        }
    }

    pub fn to_owned_value(&self) -> Owned {
        match self {
            Value::Bytes(b) => Owned::Bytes(b.to_vec()),
            Value::Int(n) => Owned::Int(*n),
            Value::List(l) => Owned::List(l.iter().map(|v| v.to_owned_value()).collect()),
            Value::Dict(d) => Owned::Dict(
                d.iter()
                    .map(|(k, v)| (k.to_vec(), v.to_owned_value()))
                    .collect(),
            ),
        }
    }
}

/// An owned value for building replies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owned {
    Bytes(Vec<u8>),
    Int(i64),
    List(Vec<Owned>),
    Dict(Vec<(Vec<u8>, Owned)>),
}

impl Owned {
    pub fn dict() -> Self {
        Owned::Dict(Vec::new())
    }

    pub fn str(s: impl Into<String>) -> Self {
        Owned::Bytes(s.into().into_bytes())
    }

    /// Append a key (builder style); on a non-dictionary this is a no-op.
    pub fn with(mut self, key: &str, value: impl Into<Owned>) -> Self {
        self.insert(key, value);
        self
    }

    pub fn insert(&mut self, key: &str, value: impl Into<Owned>) {
        if let Owned::Dict(items) = self {
            items.push((key.as_bytes().to_vec(), value.into()));
        }
    }

    pub fn get(&self, key: &str) -> Option<&Owned> {
        match self {
            Owned::Dict(items) => items
                .iter()
                .find(|(k, _)| k == key.as_bytes())
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64);
        self.encode_into(&mut out);
        out
    }

    pub fn encode_into(&self, out: &mut Vec<u8>) {
        match self {
            Owned::Bytes(b) => encode_bytes(b, out),
            Owned::Int(n) => {
                out.push(b'i');
                push_decimal(out, n.unsigned_abs(), *n < 0);
                out.push(b'e');
            }
            Owned::List(items) => {
                out.push(b'l');
                for i in items {
                    i.encode_into(out);
                }
                out.push(b'e');
            }
            Owned::Dict(items) => {
                out.push(b'd');
                for (k, v) in items {
                    encode_bytes(k, out);
                    v.encode_into(out);
                }
                out.push(b'e');
            }
        }
    }
}

/// A byte string, `<length>:<bytes>`.
fn encode_bytes(b: &[u8], out: &mut Vec<u8>) {
    push_decimal(out, b.len() as u64, false);
    out.push(b':');
    out.extend_from_slice(b);
}

/// Appends `n` in decimal (with a minus sign when `negative`), without
/// allocating: replies are encoded for every request.
fn push_decimal(out: &mut Vec<u8>, mut n: u64, negative: bool) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if negative {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[i..]);
}

impl From<&str> for Owned {
    fn from(s: &str) -> Self {
        Owned::Bytes(s.as_bytes().to_vec())
    }
}
impl From<String> for Owned {
    fn from(s: String) -> Self {
        Owned::Bytes(s.into_bytes())
    }
}
impl From<i64> for Owned {
    fn from(n: i64) -> Self {
        Owned::Int(n)
    }
}
impl From<u64> for Owned {
    fn from(n: u64) -> Self {
        Owned::Int(i64::try_from(n).unwrap_or(i64::MAX))
    }
}
impl From<u16> for Owned {
    fn from(n: u16) -> Self {
        Owned::Int(n.into())
    }
}
impl From<Vec<Owned>> for Owned {
    fn from(v: Vec<Owned>) -> Self {
        Owned::List(v)
    }
}

impl fmt::Display for Owned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from_utf8_lossy(&self.encode()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_nested_unsorted_dict() {
        let v = decode(b"d7:command4:ping5:flagsl1:a2:bbe1:xi-12ee").unwrap();
        assert_eq!(v.get("command").unwrap().as_text().unwrap(), "ping");
        assert_eq!(v.get("flags").unwrap().as_text_list(), vec!["a", "bb"]);
        assert_eq!(v.get("x").unwrap().as_int(), Some(-12));
        assert!(v.get("missing").is_none());
    }

    #[test]
    fn lenient_string_or_int() {
        let v = decode(b"d3:TOS3:1843:ttli 7ee").unwrap_err();
        assert!(matches!(v, DecodeError::BadInt(_)));
        let v = decode(b"d3:TOS3:184e").unwrap();
        assert_eq!(v.get("TOS").unwrap().as_int(), Some(184));
        let v = decode(b"d5:flags8:a b  c de").unwrap();
        assert_eq!(
            v.get("flags").unwrap().as_text_list(),
            vec!["a", "b", "c", "d"]
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            &b""[..],
            b"d3:abc",
            b"5:abc",
            b"i12",
            b"ie",
            b"i-e",
            b"i1x2e",
            b"di1ei2ee",
            b"x",
            b"99999999999999999999:a",
            b"d1:a1:be junk",
            b"-1:a",
            b"l1:ai",
        ] {
            assert!(
                decode(bad).is_err(),
                "{:?} accepted",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn encodes_integers_and_lengths_in_decimal() {
        for n in [0i64, 7, -7, 10, 1_000_000, i64::MAX, i64::MIN] {
            assert_eq!(Owned::Int(n).encode(), format!("i{n}e").into_bytes());
        }
        let long = "x".repeat(1234);
        let v = Owned::dict().with(&long, long.as_str());
        assert_eq!(v.encode(), format!("d1234:{long}1234:{long}e").into_bytes());
        assert_eq!(Owned::str("").encode(), b"0:".to_vec());
    }

    #[test]
    fn depth_is_bounded() {
        let mut s = vec![b'l'; 100];
        s.extend(vec![b'e'; 100]);
        assert_eq!(decode(&s), Err(DecodeError::TooDeep));
    }

    #[test]
    fn missing_closing_e_at_end_is_tolerated() {
        let v = decode(b"d7:command4:ping").unwrap();
        assert_eq!(v.get("command").unwrap().as_text().unwrap(), "ping");
        assert_eq!(
            decode(b"d1:ald1:bi1e").unwrap().to_owned_value().encode(),
            b"d1:ald1:bi1eeee".to_vec()
        );
    }

    #[test]
    fn trailing_newline_tolerated() {
        assert!(decode(b"d1:ai1ee\n").is_ok());
    }

    #[test]
    fn encode_keeps_insertion_order() {
        let o = Owned::dict()
            .with("result", "pong")
            .with("a", 5i64)
            .with("l", vec![Owned::from("x"), Owned::dict().with("k", "v")]);
        assert_eq!(
            o.encode(),
            b"d6:result4:pong1:ai5e1:ll1:xd1:k1:veee".to_vec()
        );
    }

    mod prop {
        use super::super::*;
        use proptest::prelude::*;

        fn owned() -> impl Strategy<Value = Owned> {
            let leaf = prop_oneof![
                any::<i64>().prop_map(Owned::Int),
                proptest::collection::vec(any::<u8>(), 0..20).prop_map(Owned::Bytes),
            ];
            leaf.prop_recursive(4, 32, 6, |inner| {
                prop_oneof![
                    proptest::collection::vec(inner.clone(), 0..6).prop_map(Owned::List),
                    proptest::collection::vec(
                        (proptest::collection::vec(any::<u8>(), 0..8), inner),
                        0..6
                    )
                    .prop_map(Owned::Dict),
                ]
            })
        }

        proptest! {
            #[test]
            fn round_trip(v in owned()) {
                let bytes = v.encode();
                let back = decode(&bytes).unwrap().to_owned_value();
                prop_assert_eq!(back, v);
            }

            #[test]
            fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
                let _ = decode(&bytes);
            }

            /// A truncated encoding is an error, unless only closing `e`s are
            /// missing: then it decodes to exactly what the cut-off text said.
            #[test]
            fn truncations_error_or_close_containers(v in owned()) {
                let bytes = v.encode();
                for cut in 0..bytes.len() {
                    if let Ok(d) = decode(&bytes[..cut]) {
                        let again = d.to_owned_value().encode();
                        prop_assert!(again.starts_with(&bytes[..cut]));
                        prop_assert!(again[cut..].iter().all(|&b| b == b'e'));
                    }
                }
            }
        }
    }
}
