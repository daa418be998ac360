//! The hyper edge of `--listen-http`: each connection is a task of its own
//! (HTTP/1.1, kept alive), each request read with bounds on its size and
//! time, then answered by `super::route` on a blocking thread (the ng
//! handler and the CLI lock the registry). A WebSocket handshake for a
//! subprotocol we serve upgrades the connection; its messages are then
//! answered by `super::ws_message` in turn.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_LENGTH, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use openssl::ssl::{Ssl, SslAcceptor, SslFiletype, SslMethod};
use std::path::Path;
use tokio::net::{TcpListener, TcpStream};
use tokio_openssl::SslStream;
use tracing::{debug, info, warn};

use futures_util::{SinkExt, StreamExt};
use hyper::header::{
    CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL, UPGRADE,
};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::{route, ws_message, Answer, Backend, Request, WsOut, WsProtocol, MAX_BODY};
use crate::cli::listener::CliServer;
use crate::janus::JanusService;
use crate::server::handler::Handler;
use std::sync::atomic::{AtomicU64, Ordering};

/// How long a client may take to send a request's head, and its body.
pub const READ_TIMEOUT: Duration = Duration::from_secs(30);

/// The running daemon behind the routes.
pub struct Live {
    handler: Arc<Handler>,
    cli: Arc<CliServer>,
    janus: JanusService,
    /// The id of the next connection.
    next_conn: AtomicU64,
}

impl Live {
    /// `janus_secret`: `--janus-secret`.
    pub fn new(handler: Arc<Handler>, cli: Arc<CliServer>, janus_secret: Option<String>) -> Live {
        let janus = JanusService::new(handler.clone(), janus_secret);
        Live {
            handler,
            cli,
            janus,
            next_conn: AtomicU64::new(1),
        }
    }

    fn new_conn(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }
}

impl Backend for Live {
    fn ng(&self, message: &[u8], peer: SocketAddr) -> Option<Vec<u8>> {
        self.handler.handle_from_peer(message, peer)
    }
    fn cli(&self, line: &[u8]) -> Vec<u8> {
        self.cli.answer_bytes(line)
    }
    fn metrics(&self) -> String {
        self.cli.metrics()
    }
    fn janus(&self, body: &[u8], conn: u64) -> Vec<String> {
        self.janus.process(body, conn)
    }
}

/// A request the connection drops without an answer.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("request dropped")
    }
}

impl std::error::Error for Dropped {}

fn respond(status: u16, content_type: &str, body: Vec<u8>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    // Any code 10.5 uses is valid (100-999, 600 included).
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if code.canonical_reason().is_none() {
        // 10.5 sends an empty reason for codes without one (600).
        r.extensions_mut()
            .insert(hyper::ext::ReasonPhrase::from_static(b""));
    }
    *r.status_mut() = code;
    if let Ok(v) = content_type.parse() {
        r.headers_mut().insert(CONTENT_TYPE, v);
    }
    r
}

/// A WebSocket handshake for a subprotocol we serve: the protocol and the
/// accept key; `None` for any other request (routed as plain HTTP).
fn websocket_request(req: &hyper::Request<Incoming>) -> Option<(WsProtocol, String)> {
    let h = req.headers();
    if req.method() != hyper::Method::GET {
        return None;
    }
    let upgrade = h.get(UPGRADE)?.to_str().ok()?;
    if !upgrade.eq_ignore_ascii_case("websocket") {
        return None;
    }
    let key = h.get(SEC_WEBSOCKET_KEY)?;
    let proto = h
        .get_all(SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(WsProtocol::choose)?;
    Some((proto, derive_accept_key(key.as_bytes())))
}

/// One WebSocket connection: each message answered in turn.
async fn websocket(
    upgraded: hyper::upgrade::Upgraded,
    proto: WsProtocol,
    peer: SocketAddr,
    conn: u64,
    live: Arc<Live>,
) {
    let config = WebSocketConfig::default()
        .max_message_size(Some(MAX_BODY))
        .max_frame_size(Some(MAX_BODY));
    let mut ws =
        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
    info!("WebSocket '{}' from {peer}", proto.name());
    while let Some(msg) = ws.next().await {
        let data = match msg {
            Ok(Message::Binary(b)) => b.to_vec(),
            Ok(Message::Text(t)) => t.as_str().as_bytes().to_vec(),
            Ok(Message::Close(_)) => break,
            // Pings are answered by the library.
            Ok(_) => continue,
            Err(e) => {
                debug!(%peer, %e, "WebSocket ended");
                live.janus.closed(conn);
                return;
            }
        };
        let live2 = live.clone();
        let reply = tokio::task::spawn_blocking(move || {
            ws_message(proto, &data, peer, conn, live2.as_ref())
        })
        .await;
        match reply {
            Ok(out) => {
                for m in out {
                    let m = match m {
                        WsOut::Binary(b) => Message::binary(b),
                        WsOut::Text(t) => Message::text(t),
                    };
                    if ws.send(m).await.is_err() {
                        live.janus.closed(conn);
                        return;
                    }
                }
            }
            Err(e) => {
                warn!(%e, "internal error while answering a WebSocket message");
                live.janus.closed(conn);
                return;
            }
        }
    }
    live.janus.closed(conn);
    let _ = ws.close(None).await;
}

async fn answer(
    mut req: hyper::Request<Incoming>,
    peer: SocketAddr,
    conn: u64,
    live: Arc<Live>,
) -> Result<Response<Full<Bytes>>, Dropped> {
    if let Some((proto, accept)) = websocket_request(&req) {
        let on_upgrade = hyper::upgrade::on(&mut req);
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(up) => websocket(up, proto, peer, conn, live).await,
                Err(e) => debug!(%peer, %e, "WebSocket upgrade failed"),
            }
        });
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        let h = r.headers_mut();
        h.insert(
            UPGRADE,
            hyper::header::HeaderValue::from_static("websocket"),
        );
        h.insert(
            CONNECTION,
            hyper::header::HeaderValue::from_static("Upgrade"),
        );
        if let Ok(v) = accept.parse() {
            h.insert(SEC_WEBSOCKET_ACCEPT, v);
        }
        h.insert(
            SEC_WEBSOCKET_PROTOCOL,
            hyper::header::HeaderValue::from_static(proto.name()),
        );
        return Ok(r);
    }
    let method = req.method().as_str().to_owned();
    let target = req.uri().to_string();
    info!("HTTP {method} from {peer}: '{target}'");
    let content_type = req
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.as_bytes().to_vec());
    let length = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let mut body = Vec::new();
    if method == "POST" && content_type.is_some() && length.is_some() {
        if length.is_some_and(|n| n > MAX_BODY as u64) {
            warn!("HTTP body of {length:?} bytes refused");
            return Ok(respond(413, "text/plain", b"too large\n".to_vec()));
        }
        let read = Limited::new(req.into_body(), MAX_BODY).collect();
        match tokio::time::timeout(READ_TIMEOUT, read).await {
            Ok(Ok(b)) => body = b.to_bytes().to_vec(),
            Ok(Err(e)) => {
                debug!(%e, "HTTP body not read");
                return Err(Dropped);
            }
            Err(_) => {
                info!("HTTP body not sent in time");
                return Err(Dropped);
            }
        }
    }
    let has_content_length = length.is_some();
    let answered = tokio::task::spawn_blocking(move || {
        let req = Request {
            method: &method,
            target: &target,
            content_type: content_type.as_deref(),
            has_content_length,
            body: &body,
            peer,
            conn,
        };
        route(&req, live.as_ref())
    })
    .await;
    match answered {
        Ok(Answer::Reply {
            status,
            content_type,
            body,
        }) => Ok(respond(status, content_type, body)),
        Ok(Answer::Close) => Err(Dropped),
        Err(e) => {
            warn!(%e, "internal error while answering an HTTP request");
            Err(Dropped)
        }
    }
}

/// Serves HTTP/1.1 (and WebSocket upgrades) on one connection.
async fn connection<I>(io: I, peer: SocketAddr, live: Arc<Live>)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let conn = live.new_conn();
    let closing = live.clone();
    let service = service_fn(move |req| answer(req, peer, conn, live.clone()));
    let served = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(READ_TIMEOUT)
        .auto_date_header(false)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    if let Err(e) = served.await {
        debug!(%peer, %e, "HTTP connection ended");
    }
    closing.janus.closed(conn);
}

/// Accepts connections on `listener` until the daemon ends; with `tls`,
/// each one is TLS first (`--listen-https`).
pub async fn serve(listener: TcpListener, live: Arc<Live>, tls: Option<Arc<SslAcceptor>>) {
    if let Ok(a) = listener.local_addr() {
        if tls.is_some() {
            info!(listen = %a, "HTTPS listening");
        } else {
            info!(listen = %a, "HTTP listening");
        }
    }
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                let live = live.clone();
                let Some(tls) = tls.clone() else {
                    tokio::spawn(connection(stream, peer, live));
                    continue;
                };
                tokio::spawn(async move {
                    match tokio::time::timeout(READ_TIMEOUT, handshake(&tls, stream)).await {
                        Ok(Ok(s)) => connection(s, peer, live).await,
                        Ok(Err(e)) => info!(%peer, %e, "TLS handshake failed"),
                        Err(_) => info!(%peer, "TLS handshake not done in time"),
                    }
                });
            }
            Err(e) => {
                // Out of descriptors and the like: wait a little, go on.
                warn!(%e, "HTTP accept error");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn handshake(
    tls: &SslAcceptor,
    stream: TcpStream,
) -> Result<SslStream<TcpStream>, Box<dyn std::error::Error + Send + Sync>> {
    let ssl = Ssl::new(tls.context())?;
    let mut s = SslStream::new(ssl, stream)?;
    std::pin::Pin::new(&mut s).accept().await?;
    Ok(s)
}

/// The TLS server of `--https-cert` (PEM, the server's certificate first,
/// then any chain) and `--https-key` (PEM; 10.5 reads the key from the
/// certificate file when no key is given). OpenSSL's defaults of Mozilla's
/// "intermediate" profile: TLS 1.2 and 1.3.
pub fn tls_acceptor(cert: &Path, key: Option<&Path>) -> Result<SslAcceptor, String> {
    let key = key.unwrap_or(cert);
    let mut b = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server())
        .map_err(|e| format!("cannot set up TLS: {e}"))?;
    b.set_certificate_chain_file(cert)
        .map_err(|e| format!("cannot use certificate {}: {e}", cert.display()))?;
    b.set_private_key_file(key, SslFiletype::PEM)
        .map_err(|e| format!("cannot use private key {}: {e}", key.display()))?;
    b.check_private_key()
        .map_err(|e| format!("the private key does not fit the certificate: {e}"))?;
    Ok(b.build())
}
