//! An ng datagram: `cookie SP bencode-dictionary`.

use super::bencode::{self, DecodeError, Owned, Value};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("no cookie separator")]
    NoCookie,
    /// rtpengine's wording for both cases (the detail is logged).
    #[error("Invalid NG data format")]
    Bencode(#[from] DecodeError),
    #[error("Invalid NG data format")]
    NotDict,
}

/// Split a datagram into cookie and body without decoding the body.
pub fn split_cookie(datagram: &[u8]) -> Result<(&[u8], &[u8]), FrameError> {
    let sp = datagram
        .iter()
        .position(|&b| b == b' ')
        .ok_or(FrameError::NoCookie)?;
    if sp == 0 {
        return Err(FrameError::NoCookie);
    }
    Ok((&datagram[..sp], &datagram[sp + 1..]))
}

/// Decode the body into a dictionary.
pub fn decode_body(body: &[u8]) -> Result<Value<'_>, FrameError> {
    let v = bencode::decode(body)?;
    match v {
        Value::Dict(_) => Ok(v),
        _ => Err(FrameError::NotDict),
    }
}

/// Frame a reply: the request's cookie, a space, the encoded dictionary.
pub fn frame_reply(cookie: &[u8], reply: &Owned) -> Vec<u8> {
    let mut out = Vec::with_capacity(cookie.len() + 64);
    out.extend_from_slice(cookie);
    out.push(b' ');
    reply.encode_into(&mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_cookie() {
        let (c, b) = split_cookie(b"0_1_2 d7:command4:pinge").unwrap();
        assert_eq!(c, b"0_1_2");
        assert!(decode_body(b).is_ok());
        assert_eq!(split_cookie(b"nocookie"), Err(FrameError::NoCookie));
        assert_eq!(split_cookie(b" d1:ai1ee"), Err(FrameError::NoCookie));
        assert_eq!(decode_body(b"l1:ae").unwrap_err(), FrameError::NotDict);
    }
}
