//! One DTLS-SRTP association: the handshake driven by datagrams and timeouts,
//! the peer's certificate checked against the SDP fingerprint, the SRTP
//! master keys exported on success, close_notify on close.

use crate::cert::Certificate;
use crate::fingerprint::Fingerprint;
use crate::profile::SrtpProfile;
use crate::transport::DatagramPipe;
use crate::DtlsError;
use foreign_types::ForeignTypeRef;
use openssl::ssl::{ErrorCode, Ssl, SslContext, SslMethod, SslOptions, SslStream, SslVerifyMode};
use std::collections::VecDeque;
use std::os::raw::{c_long, c_void};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// 10.5's `--dtls-ciphers` default (an OpenSSL cipher list).
pub const DEFAULT_CIPHERS: &str =
    "DEFAULT:!NULL:!aNULL:!SHA256:!SHA384:!aECDH:!AESGCM+AES256:!aPSK";
/// 10.5's `--dtls-mtu` default (Chrome's).
pub const DEFAULT_MTU: u32 = 1200;
/// 10.5's `--dtls-mtu` minimum.
pub const MIN_MTU: u32 = 576;

/// The exporter label of RFC 5764 §4.2.
const EXPORTER_LABEL: &str = "EXTRACTOR-dtls_srtp";

/// OpenSSL's `DTLS_CTRL_GET_TIMEOUT` and `DTLS_CTRL_HANDLE_TIMEOUT`
/// (`DTLSv1_get_timeout`/`DTLSv1_handle_timeout` are macros over SSL_ctrl).
const DTLS_CTRL_GET_TIMEOUT: i32 = 73;
const DTLS_CTRL_HANDLE_TIMEOUT: i32 = 74;

/// `struct timeval` as OpenSSL fills it.
#[repr(C)]
struct Timeval {
    tv_sec: c_long,
    tv_usec: c_long,
}

/// Which side of the handshake we are (`a=setup:active` = client).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Client,
    Server,
}

/// Per-endpoint settings; `Default` is 10.5's defaults.
#[derive(Debug, Clone)]
pub struct Config {
    /// `--dtls-ciphers`.
    pub ciphers: String,
    /// `--dtls-mtu`.
    pub mtu: u32,
    /// The use_srtp profiles offered (client) or accepted (server), in
    /// preference order.
    pub profiles: Vec<SrtpProfile>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ciphers: DEFAULT_CIPHERS.into(),
            mtu: DEFAULT_MTU,
            profiles: SrtpProfile::OFFERED.to_vec(),
        }
    }
}

/// Why the association failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailReason {
    /// The peer's certificate does not have the SDP fingerprint.
    FingerprintMismatch,
    /// The handshake failed (OpenSSL's reason, or the peer's alert).
    Handshake(String),
    /// The peer did not agree on an SRTP profile we know.
    NoSrtpProfile,
    /// The keying material could not be exported.
    Export(String),
    /// No answer after all retransmissions.
    Timeout,
}

/// What the endpoint reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Handshake done: the SRTP profile and the master key||salt we send with
    /// (`local_key_salt`) and the peer sends with (`remote_key_salt`).
    Connected {
        profile: SrtpProfile,
        local_key_salt: Vec<u8>,
        remote_key_salt: Vec<u8>,
    },
    Failed(FailReason),
    /// The peer sent close_notify.
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Handshaking,
    Connected,
    Done,
}

/// Verification outcome shared with OpenSSL's verify callback.
const VERIFY_PENDING: u8 = 0;
const VERIFY_OK: u8 = 1;
const VERIFY_MISMATCH: u8 = 2;

/// A DTLS-SRTP endpoint.
pub struct Dtls {
    role: Role,
    stream: SslStream<DatagramPipe>,
    state: State,
    verify: Arc<AtomicU8>,
    events: VecDeque<Event>,
    now: Instant,
    /// What a server needs to start over (see `drive_handshake`).
    ctx: SslContext,
    peer_fingerprint: Fingerprint,
    mtu: u32,
}

impl Dtls {
    /// Creates the endpoint; a client queues its ClientHello at once.
    pub fn new(
        role: Role,
        cert: &Certificate,
        peer_fingerprint: Fingerprint,
        config: &Config,
        now: Instant,
    ) -> Result<Dtls, DtlsError> {
        if config.mtu < MIN_MTU {
            return Err(DtlsError::Invalid(format!("DTLS MTU {}", config.mtu)));
        }
        if config.profiles.is_empty() {
            return Err(DtlsError::Invalid("no SRTP profile".into()));
        }
        let mut ctx = SslContext::builder(SslMethod::dtls())?;
        ctx.set_certificate(&cert.x509)?;
        ctx.set_private_key(&cert.key)?;
        ctx.check_private_key()?;
        ctx.set_cipher_list(&config.ciphers)?;
        let profiles: Vec<&str> = config.profiles.iter().map(|p| p.openssl_name()).collect();
        ctx.set_tlsext_use_srtp(&profiles.join(":"))?;
        ctx.set_groups_list("P-256")?;
        ctx.set_options(SslOptions::NO_QUERY_MTU);
        let ctx = ctx.build();
        let verify = Arc::new(AtomicU8::new(VERIFY_PENDING));
        let stream = session(&ctx, role, &peer_fingerprint, &verify, config.mtu)?;
        let mut dtls = Dtls {
            role,
            stream,
            state: State::Handshaking,
            verify,
            events: VecDeque::new(),
            now,
            ctx,
            peer_fingerprint,
            mtu: config.mtu,
        };
        if role == Role::Client {
            dtls.drive_handshake();
        }
        Ok(dtls)
    }

    pub fn role(&self) -> Role {
        self.role
    }

    pub fn is_connected(&self) -> bool {
        self.state == State::Connected
    }

    /// Feeds one received datagram. Returns false if it is not DTLS (RFC 7983
    /// first byte) or arrived after the association ended: then it is ignored.
    pub fn handle_datagram(&mut self, now: Instant, datagram: &[u8]) -> bool {
        self.now = now;
        if !crate::is_dtls(datagram) || self.state == State::Done {
            return false;
        }
        self.stream.get_mut().incoming.push_back(datagram.to_vec());
        match self.state {
            State::Handshaking => self.drive_handshake(),
            State::Connected => self.drain_records(),
            State::Done => {}
        }
        // What OpenSSL did not consume (a record after a fatal error) is dropped.
        self.stream.get_mut().incoming.clear();
        true
    }

    /// Retransmits the last flight if its timer ran out (call at
    /// `poll_timeout`); fails the association once OpenSSL gives up.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.now = now;
        if self.state != State::Handshaking {
            return;
        }
        // SAFETY: a valid SSL handle; the ctrl takes no pointer argument.
        let r = unsafe {
            openssl_sys::SSL_ctrl(
                self.stream.ssl().as_ptr(),
                DTLS_CTRL_HANDLE_TIMEOUT,
                0,
                std::ptr::null_mut(),
            )
        };
        if r < 0 {
            self.fail(FailReason::Timeout);
        }
    }

    /// The next datagram to send.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.stream.get_mut().next_datagram()
    }

    /// When `handle_timeout` is due (only while handshaking).
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.state != State::Handshaking {
            return None;
        }
        let mut tv = Timeval {
            tv_sec: 0,
            tv_usec: 0,
        };
        // SAFETY: a valid SSL handle and a struct timeval OpenSSL writes into.
        let set = unsafe {
            openssl_sys::SSL_ctrl(
                self.stream.ssl().as_ptr(),
                DTLS_CTRL_GET_TIMEOUT,
                0,
                &mut tv as *mut Timeval as *mut c_void,
            )
        };
        (set == 1).then(|| {
            self.now + Duration::new(tv.tv_sec.max(0) as u64, (tv.tv_usec.max(0) as u32) * 1000)
        })
    }

    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Ends the association: sends close_notify if connected (on delete).
    pub fn close(&mut self) {
        if self.state == State::Connected {
            // The alert is queued in the pipe whatever the peer does.
            let _ = self.stream.shutdown();
        }
        self.state = State::Done;
    }

    fn drive_handshake(&mut self) {
        let answered = self.stream.get_ref().written > 0;
        match self.stream.do_handshake() {
            Ok(()) => self.connected(),
            Err(e) if e.code() == ErrorCode::WANT_READ || e.code() == ErrorCode::WANT_WRITE => {}
            // A server that has not answered a ClientHello yet has no
            // association to lose: a record OpenSSL refuses (a malformed
            // handshake message from anyone) is dropped and the server waits
            // for a real ClientHello, as RFC 6347 section 4.1.2.7 allows.
            // Its alert is not sent.
            Err(_) if self.role == Role::Server && !answered && self.start_over() => {}
            Err(e) => {
                let reason = if self.verify.load(Ordering::Relaxed) == VERIFY_MISMATCH {
                    FailReason::FingerprintMismatch
                } else {
                    FailReason::Handshake(e.to_string())
                };
                self.fail(reason);
            }
        }
    }

    /// A fresh server session in place of one that failed before it
    /// answered anything; false if OpenSSL cannot make one.
    fn start_over(&mut self) -> bool {
        self.verify.store(VERIFY_PENDING, Ordering::Relaxed);
        match session(
            &self.ctx,
            self.role,
            &self.peer_fingerprint,
            &self.verify,
            self.mtu,
        ) {
            Ok(stream) => {
                self.stream = stream;
                true
            }
            Err(_) => false,
        }
    }

    fn connected(&mut self) {
        if self.verify.load(Ordering::Relaxed) != VERIFY_OK {
            // OpenSSL demands the peer certificate, so this cannot happen
            // unless a handshake skips verification; refuse all the same.
            return self.fail(FailReason::FingerprintMismatch);
        }
        let ssl = self.stream.ssl();
        let Some(profile) = ssl
            .selected_srtp_profile()
            .and_then(|p| SrtpProfile::from_openssl_name(p.name()))
        else {
            return self.fail(FailReason::NoSrtpProfile);
        };
        let mut material = vec![0u8; 2 * (profile.key_len() + profile.salt_len())];
        if let Err(e) = ssl.export_keying_material(&mut material, EXPORTER_LABEL, None) {
            return self.fail(FailReason::Export(e.to_string()));
        }
        let Some((client, server)) = profile.split(&material) else {
            return self.fail(FailReason::Export("short keying material".into()));
        };
        let (local_key_salt, remote_key_salt) = match self.role {
            Role::Client => (client, server),
            Role::Server => (server, client),
        };
        self.state = State::Connected;
        self.events.push_back(Event::Connected {
            profile,
            local_key_salt,
            remote_key_salt,
        });
        // Records that came with the last flight (none in DTLS-SRTP, which
        // carries no application data) are drained like later ones.
        self.drain_records();
    }

    /// After the handshake: lets OpenSSL answer retransmitted flights and
    /// see close_notify; application data has no use in DTLS-SRTP.
    fn drain_records(&mut self) {
        let mut buf = [0u8; 2048];
        loop {
            match self.stream.ssl_read(&mut buf) {
                Ok(_) => continue,
                Err(e) if e.code() == ErrorCode::WANT_READ || e.code() == ErrorCode::WANT_WRITE => {
                    return
                }
                Err(e) if e.code() == ErrorCode::ZERO_RETURN => {
                    self.state = State::Done;
                    self.events.push_back(Event::Closed);
                    return;
                }
                Err(e) => return self.fail(FailReason::Handshake(e.to_string())),
            }
        }
    }

    fn fail(&mut self, reason: FailReason) {
        self.state = State::Done;
        self.events.push_back(Event::Failed(reason));
    }
}

/// One OpenSSL session in `role` over a fresh pipe; its verify callback
/// compares the peer's certificate with `fingerprint` and reports to `verify`.
fn session(
    ctx: &SslContext,
    role: Role,
    fingerprint: &Fingerprint,
    verify: &Arc<AtomicU8>,
    mtu: u32,
) -> Result<SslStream<DatagramPipe>, DtlsError> {
    let mut ssl = Ssl::new(ctx)?;
    let outcome = verify.clone();
    let fingerprint = fingerprint.clone();
    // Self-signed peers: the chain is never trusted, only the leaf's
    // fingerprint from the SDP counts (RFC 5763 §6.6).
    ssl.set_verify_callback(
        SslVerifyMode::PEER | SslVerifyMode::FAIL_IF_NO_PEER_CERT,
        move |_preverified, store| {
            if store.error_depth() != 0 {
                return true;
            }
            let ok = store.current_cert().is_some_and(|c| fingerprint.matches(c));
            outcome.store(
                if ok { VERIFY_OK } else { VERIFY_MISMATCH },
                Ordering::Relaxed,
            );
            ok
        },
    );
    ssl.set_mtu(mtu)?;
    match role {
        Role::Client => ssl.set_connect_state(),
        Role::Server => ssl.set_accept_state(),
    }
    Ok(SslStream::new(ssl, DatagramPipe::new(mtu as usize))?)
}
