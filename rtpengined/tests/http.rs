//! `--listen-http`: `/ping`, ng over `POST /ng`, `/metrics` (checked with
//! Debian's `promtool` when it is installed) and `/cli/...`, next to calls
//! made over ng UDP; and clients that misbehave.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use rtpengined::ng::bencode::{decode, Owned};

const PROMTOOL: &str = "/usr/bin/promtool";

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One HTTP exchange: `None` when the daemon closes without answering.
struct Reply {
    status_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

fn exchange(addr: SocketAddr, request: &[u8]) -> Option<Reply> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request).ok()?;
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?.to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Some(Reply {
        status_line,
        headers,
        body: raw[end + 4..].to_vec(),
    })
}

fn get(addr: SocketAddr, path: &str) -> Reply {
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    exchange(addr, req.as_bytes()).unwrap_or_else(|| panic!("no answer to GET {path}"))
}

fn post(addr: SocketAddr, path: &str, content_type: &str, body: &[u8]) -> Option<Reply> {
    let mut req = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    exchange(addr, &req)
}

/// An ng message over `POST /ng`: the reply's cookie and dictionary.
fn ng_http(addr: SocketAddr, cookie: &str, msg: &Owned) -> (String, Owned) {
    let mut body = format!("{cookie} ").into_bytes();
    body.extend_from_slice(&msg.encode());
    let r = post(addr, "/ng", "application/x-rtpengine-ng", &body).expect("an ng answer");
    assert_eq!(r.status_line, "HTTP/1.1 200 OK");
    assert_eq!(r.header("content-type"), Some("application/x-rtpengine-ng"));
    assert_eq!(
        r.header("content-length"),
        Some(r.body.len().to_string().as_str())
    );
    let sp = r.body.iter().position(|b| *b == b' ').expect("cookie");
    let got_cookie = String::from_utf8(r.body[..sp].to_vec()).unwrap();
    (
        got_cookie,
        decode(&r.body[sp + 1..])
            .expect("bencoded reply")
            .to_owned_value(),
    )
}

fn start() -> (Daemon, SocketAddr) {
    let port = free_tcp_port();
    let opt = format!("--listen-http=127.0.0.1:{port}");
    let d = Daemon::start(37650, 37699, &[opt.as_str()]);
    let http = SocketAddr::from(([127, 0, 0, 1], port));
    // The ng socket answers before the HTTP one may listen: wait for it.
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(http).is_err() {
        assert!(
            Instant::now() < deadline,
            "no HTTP listener; log: {}",
            d.log_text()
        );
        std::thread::yield_now();
    }
    (d, http)
}

fn sample(metrics: &str, name: &str) -> Option<String> {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ').map(str::to_owned))
}

/// `promtool check metrics`: no parse error; its only lint the missing
/// help texts 10.5 leaves out too.
fn promtool_check(metrics: &str) {
    if !std::path::Path::new(PROMTOOL).exists() {
        eprintln!("{PROMTOOL} missing (Debian package prometheus): not run");
        return;
    }
    let mut child = Command::new(PROMTOOL)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(metrics.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let code = out.status.code();
    assert!(
        code == Some(0) || code == Some(3),
        "promtool failed ({code:?}): {said}\n{metrics}"
    );
    for l in said.lines().filter(|l| !l.trim().is_empty()) {
        assert!(l.ends_with("no help text"), "promtool: {l}\n{metrics}");
    }
}

#[test]
fn ping_ng_metrics_and_cli_over_http() {
    let (d, http) = start();
    // A call over ng UDP.
    let (a, b) = (phone("127.0.0.1"), phone("127.0.0.1"));
    let pa = a.local_addr().unwrap().port();
    let pb = b.local_addr().unwrap().port();
    d.ok(&offer("http-udp", "ta", &sdp("127.0.0.1", pa)));
    d.ok(&answer("http-udp", "ta", "tb", &sdp("127.0.0.1", pb)));

    let r = get(http, "/ping");
    assert_eq!(r.status_line, "HTTP/1.1 200 OK");
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(r.body, b"pong\n");

    let ping = Owned::dict().with("command", "ping");
    let (cookie, reply) = ng_http(http, "h1", &ping);
    assert_eq!(cookie, "h1");
    assert_eq!(text(reply.get("result")), "pong");

    // An offer over HTTP makes a call like one over UDP.
    let (_, reply) = ng_http(http, "h2", &offer("http-post", "tc", &sdp("127.0.0.1", pa)));
    assert_eq!(text(reply.get("result")), "ok", "{reply:?}");
    assert!(text(reply.get("sdp")).contains("m=audio "));
    let q = d.ok(&query("http-post"));
    assert_eq!(text(q.get("result")), "ok");

    let m = get(http, "/metrics");
    assert_eq!(m.status_line, "HTTP/1.1 200 OK");
    assert_eq!(m.header("content-type"), Some("text/plain"));
    let metrics = m.text();
    assert_eq!(
        sample(&metrics, "rtpengine_sessions{type=\"own\"}").as_deref(),
        Some("2"),
        "{metrics}"
    );
    // Offers over UDP and HTTP come from 127.0.0.1: counted once each.
    assert_eq!(
        sample(
            &metrics,
            "rtpengine_requests_total{proxy=\"127.0.0.1\",request=\"offer\"}"
        )
        .as_deref(),
        Some("2"),
        "{metrics}"
    );
    assert_eq!(
        sample(
            &metrics,
            "rtpengine_requests_total{proxy=\"127.0.0.1\",request=\"answer\"}"
        )
        .as_deref(),
        Some("1")
    );
    assert!(metrics.contains("# TYPE rtpengine_closed_sessions_total counter\n"));
    let used = sample(
        &metrics,
        "rtpengine_ports_used{name=\"default\",address=\"127.0.0.1\"}",
    )
    .expect("ports_used");
    assert!(used.parse::<u64>().unwrap() >= 4, "{metrics}");
    // The same numbers as the ng statistics command (one source).
    let stats = d.ok(&Owned::dict().with("command", "statistics"));
    let cur = stats
        .get("statistics")
        .and_then(|s| s.get("currentstatistics"))
        .expect("currentstatistics");
    assert_eq!(int(cur.get("sessionsown")), 2);
    promtool_check(&metrics);

    let r = get(http, "/cli/list%20numsessions");
    assert_eq!(r.status_line, "HTTP/1.1 200 OK");
    assert!(
        r.text().contains("Current sessions own: 2\n"),
        "{}",
        r.text()
    );
    let r = get(http, "/cli/bogus");
    assert_eq!(r.text(), "Unknown or incomplete command::bogus\n");
}

#[test]
fn bad_requests_get_10_5_answers_and_the_listener_goes_on() {
    let (_d, http) = start();
    let nf = get(http, "/nope");
    assert_eq!(nf.status_line, "HTTP/1.1 404 Not Found");
    assert_eq!(nf.body, b"not found\n");
    assert_eq!(get(http, "/ng").body, b"not found\n");
    // A body without a cookie: 10.5's status 600, no reason phrase.
    let r = post(http, "/ng", "application/x-rtpengine-ng", b"garbage").unwrap();
    assert_eq!(r.status_line, "HTTP/1.1 600 ");
    assert_eq!(r.body, b"error\n");
    // Another content type, or another path: not found.
    let ping = b"c1 d7:command4:pinge";
    let r = post(http, "/ng", "text/plain", ping).unwrap();
    assert_eq!(r.status_line, "HTTP/1.1 404 Not Found");
    let r = post(http, "/ping", "application/x-rtpengine-ng", ping).unwrap();
    assert_eq!(r.status_line, "HTTP/1.1 404 Not Found");
    // Methods 10.5 does not serve, and POSTs without a content type: closed.
    let put = b"PUT /ping HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
    assert!(exchange(http, put).is_none());
    let untyped = b"POST /ng HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\nc2 d7:command4:pinge";
    assert!(exchange(http, untyped).is_none());
    // Garbage and a huge announced body.
    assert!(exchange(http, b"\x00\xff garbage\r\n\r\n")
        .is_none_or(|r| r.status_line.starts_with("HTTP/1.1 4")));
    let huge = b"POST /ng HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-rtpengine-ng\r\nContent-Length: 99999999999\r\n\r\nc3 d";
    let r = exchange(http, huge).expect("an answer to a huge body");
    assert_eq!(r.status_line, "HTTP/1.1 413 Payload Too Large");
    // A client that connects and sends nothing stalls nobody.
    let _idle = TcpStream::connect(http).unwrap();
    let mut half = TcpStream::connect(http).unwrap();
    half.write_all(b"GET /pi").unwrap();
    assert_eq!(get(http, "/ping").body, b"pong\n");
    // Keep-alive: two requests on one connection.
    let two = b"GET /ping HTTP/1.1\r\nHost: x\r\n\r\nGET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let mut s = TcpStream::connect(http).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(two).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert_eq!(raw.matches("pong\n").count(), 2, "{raw}");
}

/// A WebSocket client for `proto`, handshake done.
fn ws_connect(
    http: SocketAddr,
    proto: &str,
) -> tokio_tungstenite::tungstenite::WebSocket<TcpStream> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let s = TcpStream::connect(http).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut req = format!("ws://{http}/").into_client_request().unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", proto.parse().unwrap());
    let (ws, resp) = tokio_tungstenite::tungstenite::client::client(req, s).expect("handshake");
    assert_eq!(
        resp.headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some(proto)
    );
    ws
}

#[test]
fn websocket_ng_echo_and_cli() {
    use tokio_tungstenite::tungstenite::Message;
    let (d, http) = start();
    let mut ng = ws_connect(http, "ng.rtpengine.com");
    let mut ask = |body: Vec<u8>| {
        ng.send(Message::binary(body)).unwrap();
        match ng.read().unwrap() {
            Message::Binary(b) => b.to_vec(),
            other => panic!("not binary: {other:?}"),
        }
    };
    assert_eq!(
        ask(b"w1 d7:command4:pinge".to_vec()),
        b"w1 d6:result4:ponge"
    );
    let mut body = b"w2 ".to_vec();
    let a = phone("127.0.0.1");
    let pa = a.local_addr().unwrap().port();
    body.extend_from_slice(&offer("ws-call", "ta", &sdp("127.0.0.1", pa)).encode());
    let reply = ask(body);
    let r = decode(reply.strip_prefix(b"w2 ").expect("cookie"))
        .unwrap()
        .to_owned_value();
    assert_eq!(text(r.get("result")), "ok", "{r:?}");
    assert_eq!(text(d.ok(&query("ws-call")).get("result")), "ok");
    // Text messages are answered too, in binary as 10.5 does.
    ng.send(Message::text("w3 d7:command4:pinge")).unwrap();
    assert_eq!(
        ng.read().unwrap(),
        Message::binary(&b"w3 d6:result4:ponge"[..])
    );

    let mut echo = ws_connect(http, "echo.rtpengine.com");
    echo.send(Message::text("hello")).unwrap();
    assert_eq!(echo.read().unwrap(), Message::binary(&b"hello"[..]));

    let mut cli = ws_connect(http, "cli.rtpengine.com");
    cli.send(Message::text("list numsessions")).unwrap();
    match cli.read().unwrap() {
        Message::Binary(b) => {
            let t = String::from_utf8_lossy(&b).into_owned();
            assert!(t.contains("Current sessions own: 1\n"), "{t}");
        }
        other => panic!("not binary: {other:?}"),
    }
    // Plain HTTP goes on next to the WebSockets.
    assert_eq!(get(http, "/ping").body, b"pong\n");
}

/// 10.5's Janus interface: `POST /admin` answers with the reply alone, a
/// `janus-protocol` WebSocket gets the early ack first; a room is a call.
#[test]
fn janus_over_post_admin_and_websocket() {
    use tokio_tungstenite::tungstenite::Message;
    let port = free_tcp_port();
    let opt = format!("--listen-http=127.0.0.1:{port}");
    let d = Daemon::start(37650, 37699, &[opt.as_str(), "--janus-secret=s3"]);
    let http = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(http).is_err() {
        assert!(Instant::now() < deadline, "no HTTP listener");
        std::thread::yield_now();
    }
    let admin = |body: &str| {
        let r = post(http, "/admin", "application/json", body.as_bytes()).expect("an answer");
        assert_eq!(r.status_line, "HTTP/1.1 200 OK");
        assert_eq!(r.header("content-type"), Some("application/json"));
        serde_json::from_slice::<serde_json::Value>(&r.body).expect("JSON")
    };
    let r = admin(r#"{"janus":"add_token","transaction":"a","token":"t","admin_secret":"no"}"#);
    assert_eq!(r["error"]["code"], 403);
    let r = admin(r#"{"janus":"add_token","transaction":"a","token":"t","admin_secret":"s3"}"#);
    assert_eq!(r["janus"], "success", "{r}");
    let r = admin(r#"{"janus":"create","transaction":"b","id":31}"#);
    assert_eq!(r["data"]["id"], 31);
    let r = admin(r#"{"janus":"keepalive","transaction":"c","session_id":31}"#);
    assert_eq!(r["janus"], "ack");

    let mut ws = ws_connect(http, "janus-protocol");
    let mut ask = |body: String| {
        ws.send(Message::text(body)).unwrap();
        match ws.read().unwrap() {
            Message::Text(t) => serde_json::from_str::<serde_json::Value>(t.as_str()).unwrap(),
            other => panic!("not text: {other:?}"),
        }
    };
    let attach =
        r#"{"janus":"attach","transaction":"d","session_id":31,"plugin":"janus.plugin.videoroom"}"#;
    let ctl = ask(attach.into())["data"]["id"].as_u64().unwrap();
    let msg = |h: u64, body: &str| {
        format!(
            r#"{{"janus":"message","transaction":"m","session_id":31,"handle_id":{h},"body":{body}}}"#
        )
    };
    let r = ask(msg(ctl, r#"{"request":"create"}"#));
    assert_eq!(r["plugindata"]["data"]["videoroom"], "created", "{r}");
    let room = r["plugindata"]["data"]["room"].as_u64().unwrap();
    assert_eq!(
        text(d.ok(&query(&format!("janus {room}"))).get("result")),
        "ok"
    );
    let publisher = ask(attach.into())["data"]["id"].as_u64().unwrap();
    let join = format!(r#"{{"request":"join","ptype":"publisher","room":{room}}}"#);
    let ack = ask(msg(publisher, &join));
    assert_eq!(ack["janus"], "ack");
    let r = match ws.read().unwrap() {
        Message::Text(t) => serde_json::from_str::<serde_json::Value>(t.as_str()).unwrap(),
        other => panic!("not text: {other:?}"),
    };
    assert_eq!(r["janus"], "event");
    assert_eq!(r["plugindata"]["data"]["videoroom"], "joined");
    assert_eq!(r["sender"], publisher);
}
