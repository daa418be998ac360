//! A WebRTC-like endpoint for daemon tests: a DTLS-SRTP client (the
//! `rtpengine-dtls` crate) on a UDP socket, driven by the test thread, that
//! sends and checks SRTP with the keys its handshake exported. With an
//! ice-pwd set it answers the daemon's ICE checks and can nominate a pair
//! like a controlling browser. Whatever else arrives that is not DTLS is kept
//! for the test to read.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant, SystemTime};

use rtpengine_dtls::{CertParams, Certificate, Config, Dtls, Event, Fingerprint, HashFunc, Role};
use rtpengine_proto::media::srtp::SrtpDirection;
use rtpengine_proto::media::stun::{attr, message_type, Class, Header, Writer, BINDING};
use rtpengine_proto::srtp::suite::Suite;

/// A fresh self-signed certificate (each call gives a different one).
pub fn certificate() -> Certificate {
    Certificate::generate(&CertParams::default(), SystemTime::now()).expect("certificate")
}

/// `sha-256 AB:CD:...` of `cert`, for `a=fingerprint:`.
pub fn fingerprint_line(cert: &Certificate) -> String {
    cert.fingerprint(HashFunc::Sha256).to_string()
}

/// The `a=fingerprint:` value of an SDP (the daemon's certificate).
pub fn fingerprint_of(sdp: &str) -> Fingerprint {
    let v = sdp
        .lines()
        .find_map(|l| l.strip_prefix("a=fingerprint:"))
        .expect("a=fingerprint in the SDP");
    Fingerprint::parse(v.trim()).expect("a readable fingerprint")
}

/// The first ClientHello datagram a client with `cert` would send.
pub fn client_hello(cert: &Certificate) -> Vec<u8> {
    let any = cert.fingerprint(HashFunc::Sha256);
    let mut c = Dtls::new(Role::Client, cert, any, &Config::default(), Instant::now()).unwrap();
    c.poll_transmit().expect("a ClientHello")
}

pub struct DtlsPeer {
    pub sock: UdpSocket,
    pub dtls: Dtls,
    /// The daemon's port for this party.
    pub to: SocketAddr,
    pub events: Vec<Event>,
    /// Where DTLS records came from, in order.
    pub dtls_sources: Vec<SocketAddr>,
    /// Datagrams that were not DTLS, not read yet.
    pub other: VecDeque<Vec<u8>>,
    /// SRTP with the exported keys: what we send, what we receive.
    tx: Option<SrtpDirection>,
    rx: Option<SrtpDirection>,
    /// With ICE: our ice-pwd; the daemon's checks are answered under it.
    pub ice_pwd: Option<String>,
    /// Transaction ids of our own binding requests.
    transactions: u32,
    /// `handshake` was called: DTLS records may leave.
    started: bool,
}

impl DtlsPeer {
    /// A client on `sock` that will handshake with the daemon at `to`, whose
    /// certificate must have `daemon`; its ClientHello leaves at `handshake`.
    pub fn client(
        sock: UdpSocket,
        cert: &Certificate,
        daemon: Fingerprint,
        to: SocketAddr,
    ) -> DtlsPeer {
        sock.set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        let dtls = Dtls::new(
            Role::Client,
            cert,
            daemon,
            &Config::default(),
            Instant::now(),
        )
        .expect("DTLS client");
        DtlsPeer {
            sock,
            dtls,
            to,
            events: Vec::new(),
            dtls_sources: Vec::new(),
            other: VecDeque::new(),
            tx: None,
            rx: None,
            ice_pwd: None,
            transactions: 0,
            started: false,
        }
    }

    /// Another socket in place of ours (the browser's new ICE candidate);
    /// the association and its keys stay.
    pub fn move_to(&mut self, sock: UdpSocket) {
        sock.set_read_timeout(Some(Duration::from_millis(20)))
            .unwrap();
        self.sock = sock;
    }

    /// Sends a controlling browser's binding request that nominates our pair
    /// (USE-CANDIDATE), to the daemon's `ufrag` and `pwd`, as `our_ufrag`.
    pub fn nominate(&mut self, ufrag: &str, pwd: &str, our_ufrag: &str) {
        self.transactions += 1;
        let mut id = [7u8; 12];
        id[8..].copy_from_slice(&self.transactions.to_be_bytes());
        let mut buf = vec![0u8; 1500];
        let mut w = Writer::new(&mut buf, message_type(BINDING, Class::Request), id).unwrap();
        w.attribute(attr::USERNAME, format!("{ufrag}:{our_ufrag}").as_bytes())
            .unwrap();
        w.attribute(attr::ICE_CONTROLLING, &u64::MAX.to_be_bytes())
            .unwrap();
        w.attribute(attr::PRIORITY, &2_130_706_431u32.to_be_bytes())
            .unwrap();
        w.attribute(attr::USE_CANDIDATE, &[]).unwrap();
        w.message_integrity(pwd.as_bytes()).unwrap();
        w.fingerprint().unwrap();
        let n = w.finish();
        self.sock.send_to(&buf[..n], self.to).unwrap();
    }

    /// Answers the daemon's connectivity check in `request` from `from`.
    fn answer_check(&self, request: &[u8], from: SocketAddr) -> bool {
        let (Some(pwd), Ok(h)) = (&self.ice_pwd, Header::parse(request)) else {
            return false;
        };
        if h.method != BINDING || h.class != Class::Request {
            return false;
        }
        let mut buf = vec![0u8; 1500];
        let kind = message_type(BINDING, Class::Success);
        let mut w = Writer::new(&mut buf, kind, h.transaction).unwrap();
        w.xor_mapped_address(from).unwrap();
        w.message_integrity(pwd.as_bytes()).unwrap();
        w.fingerprint().unwrap();
        let n = w.finish();
        self.sock.send_to(&buf[..n], from).unwrap();
        true
    }

    pub fn port(&self) -> u16 {
        self.sock.local_addr().unwrap().port()
    }

    /// Sends what the association wrote (once the handshake was started).
    pub fn flush(&mut self) {
        if !self.started {
            return;
        }
        while let Some(d) = self.dtls.poll_transmit() {
            self.sock.send_to(&d, self.to).unwrap();
        }
    }

    /// Waits at most 20 ms for one datagram, runs the DTLS timer, collects
    /// events (and the SRTP keys of a finished handshake).
    pub fn step(&mut self) {
        let mut buf = [0u8; 2048];
        if let Ok((n, from)) = self.sock.recv_from(&mut buf) {
            let now = Instant::now();
            if self.dtls.handle_datagram(now, &buf[..n]) {
                self.dtls_sources.push(from);
            } else if buf[0] < 4 && self.answer_check(&buf[..n], from) {
                // A check of the daemon's ICE agent, answered.
            } else {
                self.other.push_back(buf[..n].to_vec());
            }
        }
        let now = Instant::now();
        if self.dtls.poll_timeout().is_some_and(|t| t <= now) {
            self.dtls.handle_timeout(now);
        }
        self.flush();
        while let Some(e) = self.dtls.poll_event() {
            if let Event::Connected {
                profile,
                local_key_salt,
                remote_key_salt,
            } = &e
            {
                let suite = Suite::by_name(profile.suite_name()).unwrap();
                let dir = |k: &[u8]| SrtpDirection::new(&suite.params_from_key_salt(k).unwrap());
                self.tx = Some(dir(local_key_salt).unwrap());
                self.rx = Some(dir(remote_key_salt).unwrap());
            }
            self.events.push(e);
        }
    }

    /// Steps until `done` holds or `limit` passes; whether it held.
    pub fn wait_until(&mut self, limit: Duration, done: impl Fn(&DtlsPeer) -> bool) -> bool {
        let end = Instant::now() + limit;
        while Instant::now() < end {
            if done(self) {
                return true;
            }
            self.step();
        }
        done(self)
    }

    pub fn connected(&self) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, Event::Connected { .. }))
    }

    pub fn closed(&self) -> bool {
        self.events.iter().any(|e| matches!(e, Event::Closed))
    }

    pub fn failed(&self) -> Option<&Event> {
        self.events.iter().find(|e| matches!(e, Event::Failed(_)))
    }

    /// Sends the ClientHello and waits for the handshake to end either way.
    pub fn handshake(&mut self, limit: Duration) -> Result<(), String> {
        self.started = true;
        self.flush();
        self.wait_until(limit, |p| p.connected() || p.failed().is_some());
        if self.connected() {
            Ok(())
        } else {
            Err(format!("handshake did not complete: {:?}", self.events))
        }
    }

    /// Sends `plain` RTP as SRTP to the daemon.
    pub fn send_rtp(&mut self, plain: &[u8]) {
        let mut p = plain.to_vec();
        self.tx.as_mut().expect("keys").protect(&mut p).unwrap();
        self.sock.send_to(&p, self.to).unwrap();
    }

    /// The next datagram that decrypts as SRTP with the peer's key, waiting
    /// at most `limit`; others are dropped.
    pub fn recv_rtp(&mut self, limit: Duration) -> Option<Vec<u8>> {
        let end = Instant::now() + limit;
        loop {
            while let Some(mut p) = self.other.pop_front() {
                if let Some(rx) = self.rx.as_mut() {
                    if rx.unprotect(&mut p).is_ok() {
                        return Some(p);
                    }
                }
            }
            if Instant::now() >= end {
                return None;
            }
            self.step();
        }
    }
}
