//! The answers of the TCP control protocol, as rtpengine 10.5 writes them.

use std::net::{IpAddr, SocketAddr};

/// `build`/`version`.
pub fn version() -> Vec<u8> {
    format!(
        "Version: rtpengined-{} (rtpengine 10.5 compatible)\n",
        env!("CARGO_PKG_VERSION")
    )
    .into_bytes()
}

/// `status`: the number of calls and the bytes relayed in the last second
/// (`/0/0` after them, as 10.5 has it), then a line per call (given newest
/// first) with its age in seconds (10.5 fills the other fields with `-`).
pub fn status(calls: &[(String, u64)], bytes_per_second: u64) -> Vec<u8> {
    let mut out = format!("proxy {} {bytes_per_second}/0/0\n", calls.len());
    for (id, age) in calls {
        out.push_str(&format!("session {id} - - - - {age}\n"));
    }
    out.into_bytes()
}

/// `controls`: the clients connected to the listener, then `End.`.
pub fn controls(clients: &[SocketAddr]) -> Vec<u8> {
    let mut out = String::new();
    for c in clients {
        out.push_str(&format!("{c}\n"));
    }
    out.push_str("End.\n");
    out.into_bytes()
}

/// `request`/`lookup`: `ADDRESS PORT` of each stream, one after the other
/// with nothing between them (as 10.5 prints them), and a line end.
pub fn streams(media: &[(IpAddr, u16)]) -> Vec<u8> {
    let mut out = String::new();
    for (addr, port) in media {
        out.push_str(&format!("{addr} {port}"));
    }
    out.push('\n');
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers() {
        assert!(version().starts_with(b"Version: rtpengined-"));
        assert!(version().ends_with(b"\n"));
        assert_eq!(status(&[], 0), b"proxy 0 0/0/0\n");
        assert_eq!(
            status(&[("a".into(), 3), ("b c".into(), 0)], 7),
            b"proxy 2 7/0/0\nsession a - - - - 3\nsession b c - - - - 0\n"
        );
        assert_eq!(controls(&[]), b"End.\n");
        assert_eq!(
            controls(&["127.0.0.1:5".parse().unwrap(), "[::1]:6".parse().unwrap()]),
            b"127.0.0.1:5\n[::1]:6\nEnd.\n"
        );
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        assert_eq!(streams(&[]), b"\n");
        assert_eq!(
            streams(&[(ip, 30000), (ip, 30002)]),
            b"10.0.0.1 3000010.0.0.1 30002\n"
        );
    }
}
