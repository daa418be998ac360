//! The `--listen-http` interface of rtpengine 10.5: `GET /ping`, `POST /ng`
//! (an ng message over HTTP), `GET /metrics` (Prometheus exposition) and
//! `GET /cli/<command>` (a CLI command, its output as the body), and
//! `POST /admin` (10.5's Janus interface, JSON), and WebSocket with the
//! `ng.rtpengine.com`, `echo.rtpengine.com`, `cli.rtpengine.com` and
//! `janus-protocol` subprotocols.
//!
//! `route` decides the answer to one request without any I/O, against a
//! `Backend` (the ng handler, the CLI, the statistics); `server` is the
//! hyper edge that reads requests and writes the answers.

pub mod server;

use std::net::SocketAddr;

/// Bodies larger than this are refused (10.5 sets no bound; an ng message
/// with a big SDP is a few tens of kilobytes).
pub const MAX_BODY: usize = 8 << 20;

/// The ng content type of `POST /ng` requests and their replies.
pub const CT_NG: &str = "application/x-rtpengine-ng";

/// The content type of `POST /admin` (Janus) requests and replies.
pub const CT_JSON: &str = "application/json";

/// One request as far as routing needs it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: &'a str,
    /// The request target as sent (percent-encoded, maybe with a query).
    pub target: &'a str,
    pub content_type: Option<&'a [u8]>,
    pub has_content_length: bool,
    pub body: &'a [u8],
    pub peer: SocketAddr,
    /// The connection it came on (Janus sessions remember it).
    pub conn: u64,
}

/// What to do with a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Reply {
        status: u16,
        content_type: &'static str,
        body: Vec<u8>,
    },
    /// Close the connection without an answer, as 10.5 does for methods it
    /// does not serve and for POSTs without a content type or length.
    Close,
}

impl Answer {
    fn text(status: u16, body: impl Into<Vec<u8>>) -> Answer {
        Answer::Reply {
            status,
            content_type: "text/plain",
            body: body.into(),
        }
    }

    fn not_found() -> Answer {
        Answer::text(404, "not found\n")
    }
}

/// What the routes need of the daemon.
pub trait Backend {
    /// An ng message (`cookie dict`) from `peer`; its framed reply, or
    /// `None` when it has no cookie.
    fn ng(&self, message: &[u8], peer: SocketAddr) -> Option<Vec<u8>>;
    /// The output of one CLI command line.
    fn cli(&self, line: &[u8]) -> Vec<u8>;
    /// The Prometheus exposition of the statistics.
    fn metrics(&self) -> String;
    /// A Janus request from connection `conn`: the texts to send back,
    /// the reply last.
    fn janus(&self, body: &[u8], conn: u64) -> Vec<String>;
}

/// The path of a request target: without query, `%XX` and `+` decoded,
/// runs of slashes as one (the forms 10.5's HTTP library hands it).
pub fn decode_path(target: &str) -> Vec<u8> {
    let raw = target.split(['?', '#']).next().unwrap_or("").as_bytes();
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        let hex = |c: u8| char::from(c).to_digit(16);
        match b {
            b'%' if i + 2 < raw.len() => match (hex(raw[i + 1]), hex(raw[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                    i += 3;
                    continue;
                }
                _ => out.push(b),
            },
            b'+' => out.push(b' '),
            b'/' if out.last() == Some(&b'/') => {}
            _ => out.push(b),
        }
        i += 1;
    }
    out
}

/// A `POST` content type 10.5 serves: compared without regard to case,
/// nothing after it.
fn is_ng_type(ct: &[u8]) -> bool {
    ct.eq_ignore_ascii_case(CT_NG.as_bytes())
}

/// The answer to `req`.
pub fn route(req: &Request<'_>, backend: &dyn Backend) -> Answer {
    let path = decode_path(req.target);
    match req.method {
        "GET" => {
            if path == b"/ping" {
                Answer::text(200, "pong\n")
            } else if path == b"/metrics" {
                Answer::text(200, backend.metrics())
            } else if let Some(line) = path.strip_prefix(b"/cli/") {
                Answer::text(200, backend.cli(line))
            } else {
                Answer::not_found()
            }
        }
        "POST" => {
            // 10.5 drops a POST whose type it cannot read (missing, or 64
            // bytes and more) or that says no length.
            let Some(ct) = req.content_type.filter(|c| !c.is_empty() && c.len() < 64) else {
                return Answer::Close;
            };
            if !req.has_content_length {
                return Answer::Close;
            }
            if path == b"/admin" && ct.eq_ignore_ascii_case(CT_JSON.as_bytes()) {
                // Over HTTP only the reply goes out: 10.5 cannot send its
                // early acks and events there.
                let reply = backend.janus(req.body, req.conn).pop().unwrap_or_default();
                return Answer::Reply {
                    status: 200,
                    content_type: CT_JSON,
                    body: reply.into_bytes(),
                };
            }
            if path != b"/ng" || !is_ng_type(ct) {
                return Answer::not_found();
            }
            match backend.ng(req.body, req.peer) {
                Some(reply) => Answer::Reply {
                    status: 200,
                    content_type: CT_NG,
                    body: reply,
                },
                None => Answer::text(600, "error\n"),
            }
        }
        _ => Answer::Close,
    }
}

/// The WebSocket subprotocols 10.5 serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WsProtocol {
    /// `ng.rtpengine.com`: each message an ng message, answered as over UDP.
    Ng,
    /// `echo.rtpengine.com`: each message sent back.
    Echo,
    /// `cli.rtpengine.com`: each message a CLI command line.
    Cli,
    /// `janus-protocol`: each message a Janus request, answered by text
    /// messages (acks and events first, the reply last).
    Janus,
}

impl WsProtocol {
    pub fn name(self) -> &'static str {
        match self {
            WsProtocol::Ng => "ng.rtpengine.com",
            WsProtocol::Echo => "echo.rtpengine.com",
            WsProtocol::Cli => "cli.rtpengine.com",
            WsProtocol::Janus => "janus-protocol",
        }
    }

    /// The first protocol of a `Sec-WebSocket-Protocol` list we serve.
    pub fn choose(offered: &str) -> Option<WsProtocol> {
        offered.split(',').map(str::trim).find_map(|p| match p {
            "ng.rtpengine.com" => Some(WsProtocol::Ng),
            "echo.rtpengine.com" => Some(WsProtocol::Echo),
            "cli.rtpengine.com" => Some(WsProtocol::Cli),
            "janus-protocol" => Some(WsProtocol::Janus),
            _ => None,
        })
    }
}

/// One message to send on a WebSocket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WsOut {
    Binary(Vec<u8>),
    Text(String),
}

/// The answers to one WebSocket message (text or binary alike) from
/// connection `conn`: binary messages, as 10.5 sends them, but Janus's,
/// which are text; none for an ng message without a cookie.
pub fn ws_message(
    proto: WsProtocol,
    message: &[u8],
    peer: SocketAddr,
    conn: u64,
    backend: &dyn Backend,
) -> Vec<WsOut> {
    match proto {
        WsProtocol::Ng => backend
            .ng(message, peer)
            .map(WsOut::Binary)
            .into_iter()
            .collect(),
        WsProtocol::Echo => vec![WsOut::Binary(message.to_vec())],
        WsProtocol::Cli => vec![WsOut::Binary(backend.cli(message))],
        WsProtocol::Janus => backend
            .janus(message, conn)
            .into_iter()
            .map(WsOut::Text)
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    #[derive(Default)]
    struct Fake {
        cli: RefCell<Vec<Vec<u8>>>,
    }

    impl Backend for Fake {
        fn ng(&self, message: &[u8], _: SocketAddr) -> Option<Vec<u8>> {
            let sp = message.iter().position(|b| *b == b' ')?;
            let mut r = message[..sp].to_vec();
            r.extend_from_slice(b" d6:result4:ponge");
            Some(r)
        }
        fn cli(&self, line: &[u8]) -> Vec<u8> {
            self.cli.borrow_mut().push(line.to_vec());
            b"cli out\n".to_vec()
        }
        fn metrics(&self) -> String {
            "# TYPE rtpengine_x gauge\nrtpengine_x 1\n".into()
        }
        fn janus(&self, body: &[u8], conn: u64) -> Vec<String> {
            vec![
                format!("ack {conn}"),
                String::from_utf8_lossy(body).into_owned(),
            ]
        }
    }

    fn req<'a>(
        method: &'a str,
        target: &'a str,
        ct: Option<&'a str>,
        body: &'a [u8],
    ) -> Request<'a> {
        Request {
            method,
            target,
            content_type: ct.map(str::as_bytes),
            has_content_length: method == "POST",
            body,
            peer: "127.0.0.1:5060".parse().unwrap(),
            conn: 3,
        }
    }

    fn reply(status: u16, ct: &'static str, body: &[u8]) -> Answer {
        Answer::Reply {
            status,
            content_type: ct,
            body: body.to_vec(),
        }
    }

    #[test]
    fn get_routes() {
        let f = Fake::default();
        let get = |t| route(&req("GET", t, None, b""), &f);
        assert_eq!(get("/ping"), reply(200, "text/plain", b"pong\n"));
        assert_eq!(get("/ping?x=1"), reply(200, "text/plain", b"pong\n"));
        assert_eq!(get("//ping"), reply(200, "text/plain", b"pong\n"));
        assert_eq!(
            get("/metrics"),
            reply(
                200,
                "text/plain",
                b"# TYPE rtpengine_x gauge\nrtpengine_x 1\n"
            )
        );
        assert_eq!(get("/nope"), reply(404, "text/plain", b"not found\n"));
        assert_eq!(get("/ng"), reply(404, "text/plain", b"not found\n"));
        assert_eq!(get("/pingx"), reply(404, "text/plain", b"not found\n"));
        assert_eq!(
            get("/cli/list%20numsessions"),
            reply(200, "text/plain", b"cli out\n")
        );
        assert_eq!(
            get("/cli/list+totals"),
            reply(200, "text/plain", b"cli out\n")
        );
        assert_eq!(get("/cli/"), reply(200, "text/plain", b"cli out\n"));
        assert_eq!(
            f.cli.borrow().as_slice(),
            [
                b"list numsessions".to_vec(),
                b"list totals".to_vec(),
                Vec::new()
            ]
        );
    }

    #[test]
    fn post_ng() {
        let f = Fake::default();
        let ng = Some(CT_NG);
        let ping = b"abc d7:command4:pinge";
        let ok = reply(200, CT_NG, b"abc d6:result4:ponge");
        assert_eq!(route(&req("POST", "/ng", ng, ping), &f), ok);
        // The type is compared without regard to case, and as a whole.
        let upper = Some("Application/X-RTPENGINE-NG");
        assert_eq!(route(&req("POST", "/ng", upper, ping), &f), ok);
        let nf = reply(404, "text/plain", b"not found\n");
        let charset = Some("application/x-rtpengine-ng; charset=utf-8");
        assert_eq!(route(&req("POST", "/ng", charset, ping), &f), nf);
        assert_eq!(route(&req("POST", "/ng", Some("text/plain"), ping), &f), nf);
        assert_eq!(route(&req("POST", "/ping", ng, ping), &f), nf);
        // No cookie: 10.5's status 600.
        assert_eq!(
            route(&req("POST", "/ng", ng, b"garbage"), &f),
            reply(600, "text/plain", b"error\n")
        );
    }

    #[test]
    fn post_admin_is_janus() {
        let f = Fake::default();
        let json = Some("Application/JSON");
        // The reply only: acks and events do not go over HTTP.
        assert_eq!(
            route(&req("POST", "/admin", json, b"{}"), &f),
            reply(200, CT_JSON, b"{}")
        );
        let nf = reply(404, "text/plain", b"not found\n");
        assert_eq!(route(&req("POST", "/admin", Some(CT_NG), b"{}"), &f), nf);
        assert_eq!(route(&req("POST", "/ng", json, b"{}"), &f), nf);
        assert_eq!(route(&req("GET", "/admin", None, b""), &f), nf);
    }

    #[test]
    fn requests_10_5_drops() {
        let f = Fake::default();
        let ping = b"abc d7:command4:pinge";
        assert_eq!(route(&req("POST", "/ng", None, ping), &f), Answer::Close);
        let long = "x".repeat(64);
        assert_eq!(
            route(&req("POST", "/ng", Some(&long), ping), &f),
            Answer::Close
        );
        let mut no_len = req("POST", "/ng", Some(CT_NG), ping);
        no_len.has_content_length = false;
        assert_eq!(route(&no_len, &f), Answer::Close);
        for m in ["PUT", "DELETE", "HEAD", "OPTIONS"] {
            assert_eq!(route(&req(m, "/ping", None, b""), &f), Answer::Close);
        }
    }

    #[test]
    fn websocket_protocols() {
        assert_eq!(WsProtocol::choose("ng.rtpengine.com"), Some(WsProtocol::Ng));
        assert_eq!(
            WsProtocol::choose("foo, echo.rtpengine.com ,ng.rtpengine.com"),
            Some(WsProtocol::Echo)
        );
        assert_eq!(
            WsProtocol::choose("cli.rtpengine.com"),
            Some(WsProtocol::Cli)
        );
        assert_eq!(
            WsProtocol::choose("janus-protocol"),
            Some(WsProtocol::Janus)
        );
        assert_eq!(WsProtocol::choose(""), None);
        let f = Fake::default();
        let peer = "127.0.0.1:1".parse().unwrap();
        let bin = |b: &[u8]| vec![WsOut::Binary(b.to_vec())];
        let ng = ws_message(WsProtocol::Ng, b"c1 d7:command4:pinge", peer, 1, &f);
        assert_eq!(ng, bin(b"c1 d6:result4:ponge"));
        assert_eq!(ws_message(WsProtocol::Ng, b"garbage", peer, 1, &f), []);
        let echo = ws_message(WsProtocol::Echo, b"hi", peer, 1, &f);
        assert_eq!(echo, bin(b"hi"));
        let cli = ws_message(WsProtocol::Cli, b"list totals", peer, 1, &f);
        assert_eq!(cli, bin(b"cli out\n"));
        let janus = ws_message(WsProtocol::Janus, b"{}", peer, 7, &f);
        assert_eq!(
            janus,
            [WsOut::Text("ack 7".into()), WsOut::Text("{}".into())]
        );
        assert_eq!(f.cli.borrow().as_slice(), [b"list totals".to_vec()]);
    }

    #[test]
    fn path_decoding() {
        assert_eq!(decode_path("/a%2Fb%zz%4"), b"/a/b%zz%4");
        assert_eq!(decode_path("/cli/list%00x"), b"/cli/list\0x");
        assert_eq!(decode_path("///x//y?q#f"), b"/x/y");
        assert_eq!(decode_path(""), b"");
        assert_eq!(decode_path("%"), b"%");
        assert_eq!(decode_path("%4"), b"%4");
    }
}
