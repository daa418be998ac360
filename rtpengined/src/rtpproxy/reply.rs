//! The answers of the rtpproxy protocol, and the SDP an update or lookup is
//! turned into (the call model works on SDP; an rtpproxy client sends one
//! address and port per media instead).

use std::net::{IpAddr, SocketAddr};

/// The protocol version 10.5 reports for `V`.
pub const VERSION: &str = "20040107";

/// The capability dates `VF` says yes to: the basic protocol, "support for
/// multiple RTP streams and MOH" and "support for RTP re-packetization" as
/// rtpproxy named them (10.5 answers yes without acting on the flags).
pub const CAPABILITIES: [&str; 3] = ["20040107", "20050322", "20060704"];

fn line(cookie: &[u8], body: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(cookie.len() + body.len() + 2);
    out.extend_from_slice(cookie);
    out.push(b' ');
    out.extend_from_slice(body.as_bytes());
    out.push(b'\n');
    out
}

pub fn version(cookie: &[u8]) -> Vec<u8> {
    line(cookie, VERSION)
}

pub fn capability(cookie: &[u8], date: Option<&str>) -> Vec<u8> {
    let yes = date.is_some_and(|d| CAPABILITIES.contains(&d));
    line(cookie, if yes { "1" } else { "0" })
}

/// Where the client's media is to go: `PORT ADDRESS 4|6`.
pub fn media(cookie: &[u8], port: u16, addr: IpAddr) -> Vec<u8> {
    let family = if addr.is_ipv4() { '4' } else { '6' };
    line(cookie, &format!("{port} {addr} {family}"))
}

/// A lookup of a call that does not exist.
pub fn no_call(cookie: &[u8]) -> Vec<u8> {
    line(cookie, "0 0.0.0.0")
}

/// A delete that found something.
pub fn ok(cookie: &[u8]) -> Vec<u8> {
    line(cookie, "0")
}

/// Any failure: 10.5 has one error code.
pub fn error(cookie: &[u8]) -> Vec<u8> {
    line(cookie, "E8")
}

/// `Q`: seconds left before the silent timeout, RTP and RTCP packets, and two
/// counters 10.5 always answers 0 for.
pub fn query(cookie: &[u8], ttl: i64, rtp: u64, rtcp: u64) -> Vec<u8> {
    line(cookie, &format!("{ttl} {rtp} {rtcp} 0 0"))
}

/// The SDP an update or lookup stands for: one audio stream per media
/// number, the one at `streams[i]` for number `i + 1` (RTCP on the port
/// above, as rtpproxy assumes); a number not known yet is a rejected stream.
pub fn offer_sdp(streams: &[Option<SocketAddr>]) -> String {
    let fam = |a: &IpAddr| if a.is_ipv4() { "IP4" } else { "IP6" };
    let first = streams.iter().flatten().next().map(SocketAddr::ip);
    let origin = first.unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    let mut sdp = format!(
        "v=0\r\no=- 0 0 IN {} {origin}\r\ns=-\r\nt=0 0\r\n",
        fam(&origin)
    );
    for s in streams {
        let (addr, port) = s.map_or((origin, 0), |s| (s.ip(), s.port()));
        sdp.push_str(&format!(
            "m=audio {port} RTP/AVP 0\r\nc=IN {} {addr}\r\n",
            fam(&addr)
        ));
    }
    sdp
}

/// The port and address of stream `n` (from 1) of an SDP we produced (the
/// stream's own `c=` before the session's).
pub fn nth_media(sdp: &str, n: usize) -> Option<(u16, IpAddr)> {
    let mut session_addr = None;
    let mut seen = 0;
    let mut port = None;
    let mut media_addr = None;
    for l in sdp.lines() {
        if let Some(m) = l.strip_prefix("m=") {
            seen += 1;
            if seen > n {
                break;
            }
            if seen == n {
                port = Some(m.split_whitespace().nth(1)?.parse().ok()?);
            }
        } else if let Some(c) = l.strip_prefix("c=") {
            let addr: Option<IpAddr> = c.split_whitespace().nth(2).and_then(|a| a.parse().ok());
            if seen == 0 {
                session_addr = addr;
            } else if seen == n {
                media_addr = addr;
            }
        }
    }
    Some((port?, media_addr.or(session_addr)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies() {
        assert_eq!(version(b"c1"), b"c1 20040107\n");
        assert_eq!(capability(b"c", Some("20050322")), b"c 1\n");
        assert_eq!(capability(b"c", Some("20071218")), b"c 0\n");
        assert_eq!(capability(b"c", None), b"c 0\n");
        assert_eq!(
            media(b"c", 30000, "127.0.0.1".parse().unwrap()),
            b"c 30000 127.0.0.1 4\n"
        );
        assert_eq!(media(b"c", 2, "::1".parse().unwrap()), b"c 2 ::1 6\n");
        assert_eq!(no_call(b"c"), b"c 0 0.0.0.0\n");
        assert_eq!(ok(b"c"), b"c 0\n");
        assert_eq!(error(b"c"), b"c E8\n");
        assert_eq!(query(b"c", -3, 10, 2), b"c -3 10 2 0 0\n");
    }

    #[test]
    fn media_of_an_sdp() {
        let a: SocketAddr = "127.0.0.1:4000".parse().unwrap();
        let b: SocketAddr = "[::1]:5000".parse().unwrap();
        let one = offer_sdp(&[Some(a)]);
        assert_eq!(nth_media(&one, 1), Some((4000, a.ip())));
        assert_eq!(nth_media(&one, 2), None);
        let three = offer_sdp(&[Some(a), None, Some(b)]);
        assert!(
            three.contains("m=audio 0 RTP/AVP 0\r\nc=IN IP4 127.0.0.1\r\n"),
            "{three}"
        );
        assert_eq!(nth_media(&three, 3), Some((5000, b.ip())));
        let sdp = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 5 RTP/AVP 0\r\nm=video 7 RTP/AVP 0\r\nc=IN IP6 ::2\r\n";
        assert_eq!(nth_media(sdp, 1), Some((5, "10.0.0.1".parse().unwrap())));
        assert_eq!(nth_media(sdp, 2), Some((7, "::2".parse().unwrap())));
        assert_eq!(nth_media("v=0\r\n", 1), None);
    }
}
