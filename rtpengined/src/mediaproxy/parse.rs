//! Reading the TCP control protocol (`--listen-tcp`) as rtpengine 10.5 reads
//! it: lines (`\n`, a `\r` before it dropped, blank lines skipped, a line
//! cut at a NUL byte as C cuts it), each of one of these forms, words
//! separated by ASCII white space, nothing before or after:
//!
//! - `request|lookup CALLID STREAMS IP FROMDOM FROMTYPE TODOM TOTYPE AGENT info=INFO`
//! - `delete CALLID info=INFO`
//! - `build`, `version`, `controls`, `quit`, `exit`, `status`
//!
//! STREAMS is `IPV4:PORT[:ANY],...` (read up to the first one that is not of
//! that form), INFO is `KEY[:VALUE],...` (`fromtag`, `totag` are used).
//! Only CALLID, STREAMS and INFO mean something; the other words are read
//! and ignored, as by 10.5.

use std::net::{Ipv4Addr, SocketAddr};

/// 10.5 closes a connection holding more than this without a line end.
pub const MAX_LINE: usize = 1024;

/// A command line of the protocol.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// `request` (an offer) or `lookup` (an answer).
    Update {
        lookup: bool,
        call_id: String,
        streams: Streams,
        from_tag: Option<String>,
        to_tag: Option<String>,
    },
    Delete {
        call_id: String,
    },
    /// `build` or `version`.
    Version,
    Controls,
    /// `quit` or `exit`: nothing to answer.
    Quit,
    Status,
}

/// The streams of a request or lookup: `Some(address)` for media number
/// `i + 1` at index `i`, `None` for a number whose stream was refused (a
/// port `00` and the like, which 10.5 counts but drops). `count` is how
/// many numbers were given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Streams {
    pub media: Vec<Option<SocketAddr>>,
}

impl Streams {
    pub fn count(&self) -> usize {
        self.media.len()
    }
}

/// Where the next line of `buf` ends: the line (without its end) and the
/// bytes it used. At the end of the input (`eof`) what is left is a line.
/// Blank lines are used up without a line.
pub fn next_line(buf: &[u8], eof: bool) -> Option<(&[u8], usize)> {
    let mut start = 0;
    loop {
        let rest = &buf[start..];
        let (mut line, used) = match rest.iter().position(|b| *b == b'\n') {
            Some(0) => {
                start += 1;
                continue;
            }
            Some(nl) => (&rest[..nl], nl + 1),
            None if eof && !rest.is_empty() => (rest, rest.len()),
            None => return None,
        };
        if let Some(l) = line.strip_suffix(b"\r") {
            if l.is_empty() {
                // `\r` alone is a blank line.
                start += used;
                continue;
            }
            line = l;
        }
        // C strings end at a NUL.
        if let Some(nul) = line.iter().position(|b| *b == 0) {
            line = &line[..nul];
        }
        return Some((line, start + used));
    }
}

/// PCRE's `\s` without UTF-8: space, tab, line feed, vertical tab, form
/// feed, carriage return.
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A command line, or `None` for one outside the protocol (10.5 then
/// closes the connection without an answer).
pub fn parse(line: &[u8]) -> Option<Command> {
    if line.first().is_some_and(|b| is_space(*b)) || line.last().is_some_and(|b| is_space(*b)) {
        return None;
    }
    let words: Vec<&[u8]> = line
        .split(|b| is_space(*b))
        .filter(|w| !w.is_empty())
        .collect();
    fn info(w: &[u8]) -> Option<&[u8]> {
        w.strip_prefix(b"info=")
    }
    match (words.first().copied()?, words.len()) {
        (cmd @ (b"request" | b"lookup"), 10) => {
            let info = info(words[9])?;
            let (from_tag, to_tag) = tags(info);
            Some(Command::Update {
                lookup: cmd == b"lookup",
                call_id: text(words[1]),
                streams: streams(words[2]),
                from_tag,
                to_tag,
            })
        }
        (b"delete", 3) => {
            info(words[2])?;
            Some(Command::Delete {
                call_id: text(words[1]),
            })
        }
        (b"build" | b"version", 1) => Some(Command::Version),
        (b"controls", 1) => Some(Command::Controls),
        (b"quit" | b"exit", 1) => Some(Command::Quit),
        (b"status", 1) => Some(Command::Status),
        _ => None,
    }
}

/// `fromtag` and `totag` of INFO (`KEY[:VALUE],...`, read up to the first
/// item with an empty key; the last of a key counts). A key without a
/// value is left out (10.5.3.5 crashes on it).
fn tags(info: &[u8]) -> (Option<String>, Option<String>) {
    let (mut from, mut to) = (None, None);
    for item in info.split(|b| *b == b',') {
        let (key, value) = match item.iter().position(|b| *b == b':') {
            Some(c) => (&item[..c], Some(&item[c + 1..])),
            None => (item, None),
        };
        if key.is_empty() {
            break;
        }
        let Some(value) = value else { continue };
        match key {
            b"fromtag" => from = Some(text(value)),
            b"totag" => to = Some(text(value)),
            _ => {}
        }
    }
    (from, to)
}

/// STREAMS: `IPV4:PORT[:ANY]` items separated by commas, up to the first
/// item not of that form.
fn streams(s: &[u8]) -> Streams {
    let mut out = Streams::default();
    for item in s.split(|b| *b == b',') {
        let addr_end = item
            .iter()
            .position(|b| !(b.is_ascii_digit() || *b == b'.'))
            .unwrap_or(item.len());
        if addr_end == 0 || item.get(addr_end) != Some(&b':') {
            break;
        }
        let port_text = &item[addr_end + 1..];
        let port_end = port_text
            .iter()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(port_text.len());
        if port_end == 0 || !matches!(port_text.get(port_end), None | Some(b':')) {
            break;
        }
        let digits = &port_text[..port_end];
        // An address that does not read, or a port above 65535: skipped
        // without a media number.
        let Ok(ip) = text(&item[..addr_end]).parse::<Ipv4Addr>() else {
            continue;
        };
        let port = digits
            .iter()
            .try_fold(0u32, |n, d| {
                n.checked_mul(10)?
                    .checked_add(u32::from(d - b'0'))
                    .filter(|n| *n <= 0xffff)
            })
            .map(|p| p as u16);
        let Some(port) = port else { continue };
        // Port 0 only when written `0`: else the number is taken, the
        // stream dropped.
        if port == 0 && digits != b"0" {
            out.media.push(None);
            continue;
        }
        out.media.push(Some(SocketAddr::new(ip.into(), port)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> Option<SocketAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn lines() {
        assert_eq!(next_line(b"version", false), None);
        assert_eq!(next_line(b"version", true), Some((&b"version"[..], 7)));
        assert_eq!(
            next_line(b"version\r\nx", false),
            Some((&b"version"[..], 9))
        );
        assert_eq!(
            next_line(b"\n\r\n\nstatus\n", false),
            Some((&b"status"[..], 11))
        );
        assert_eq!(next_line(b"\n\r\n", false), None);
        assert_eq!(next_line(b"", true), None);
        // Cut at a NUL, as a C string.
        assert_eq!(
            next_line(b"version\0junk\n", false),
            Some((&b"version"[..], 13))
        );
    }

    #[test]
    fn commands() {
        assert_eq!(parse(b"version"), Some(Command::Version));
        assert_eq!(parse(b"build"), Some(Command::Version));
        assert_eq!(parse(b"quit"), Some(Command::Quit));
        assert_eq!(parse(b"exit"), Some(Command::Quit));
        assert_eq!(parse(b"status"), Some(Command::Status));
        assert_eq!(parse(b"controls"), Some(Command::Controls));
        for bad in [
            &b"version "[..],
            b" version",
            b"Version",
            b"version x",
            b"",
            b"delete c1",
            b"delete c1 x",
            b"request c 1.2.3.4:5 ip fd ft td tt ag",
            b"request c 1.2.3.4:5 ip fd ft td tt ag x=1",
            b"\xff\xfe",
        ] {
            assert_eq!(parse(bad), None, "{}", String::from_utf8_lossy(bad));
        }
        assert_eq!(
            parse(b"delete c1\tinfo="),
            Some(Command::Delete {
                call_id: "c1".into()
            })
        );
        assert_eq!(
            parse(b"request c1 10.0.0.1:4000,10.0.0.1:4002:video ip fd ft td tt agent info=fromtag:a:b,x,totag:t,:z,totag:u"),
            Some(Command::Update {
                lookup: false,
                call_id: "c1".into(),
                streams: Streams {
                    media: vec![addr("10.0.0.1:4000"), addr("10.0.0.1:4002")]
                },
                from_tag: Some("a:b".into()),
                to_tag: Some("t".into()),
            })
        );
    }

    #[test]
    fn stream_lists() {
        let s = |t: &str| streams(t.as_bytes()).media;
        assert_eq!(s("1.2.3.4:5"), vec![addr("1.2.3.4:5")]);
        assert_eq!(
            s("1.2.3.4:5:a:b,6.7.8.9:0"),
            vec![addr("1.2.3.4:5"), addr("6.7.8.9:0")]
        );
        // Up to the first item out of form.
        assert_eq!(s("1.2.3.4:5,x:6,1.2.3.4:7"), vec![addr("1.2.3.4:5")]);
        assert_eq!(s("1.2.3.4:5x,1.2.3.4:7"), vec![]);
        assert_eq!(s("::1:5"), vec![]);
        // Unreadable addresses and ports are skipped, `00` counted.
        assert_eq!(
            s("1.2.3:5,1.2.3.4:70000,1.2.3.4:00,1.2.3.4:8"),
            vec![None, addr("1.2.3.4:8")]
        );
    }
}
