//! DTLS-SRTP on a stream (RFC 5763/5764): when the handshake starts, where its
//! records go, and what its keys replace. The handshake itself is behind
//! `DtlsSession` (the daemon plugs in OpenSSL through the `rtpengine-dtls`
//! crate; the tests a scripted one), so this crate stays free of I/O.
//!
//! As in rtpengine 10.5: the active side (DTLS client) sends its first flight
//! once it knows where the peer is (with ICE: once a check from the peer
//! verified; without: the signalled or learned endpoint); the passive side
//! starts on the first record that arrives. Until the handshake is done, no
//! media passes in either direction of the stream: there are no keys to
//! protect it with, and plain media must never reach a peer that asked for
//! SRTP.

use std::net::SocketAddr;
use std::time::Instant;

use crate::call::{DtlsParams, PeerFingerprint};
use crate::srtp::{SrtpParams, Suite};

/// What the handshake reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DtlsEvent {
    /// Done: the SRTP suite (its name in the suite table, e.g.
    /// `AES_CM_128_HMAC_SHA1_80`) and the master key||salt each side sends with.
    Connected {
        suite: &'static str,
        local_key_salt: Vec<u8>,
        remote_key_salt: Vec<u8>,
    },
    /// The handshake failed (the reason, for the log).
    Failed(String),
    /// The peer ended the association (close_notify).
    Closed,
}

/// One DTLS association, sans-IO: datagrams and time in, datagrams, a
/// deadline and events out.
pub trait DtlsSession: Send {
    /// Feeds one received record.
    fn handle_datagram(&mut self, now: Instant, datagram: &[u8]);
    /// Retransmits a flight whose timer ran out (at `poll_timeout`).
    fn handle_timeout(&mut self, now: Instant);
    fn poll_transmit(&mut self) -> Option<Vec<u8>>;
    fn poll_timeout(&self) -> Option<Instant>;
    fn poll_event(&mut self) -> Option<DtlsEvent>;
    /// Ends the association (close_notify if it was connected).
    fn close(&mut self);
}

/// Starts associations with our certificate: `active` = we are the client,
/// `peer` = the fingerprint the peer's certificate must have.
pub trait DtlsFactory: Send + Sync {
    fn start(
        &self,
        active: bool,
        peer: &PeerFingerprint,
        now: Instant,
    ) -> Result<Box<dyn DtlsSession>, String>;
}

/// The keys a finished handshake gave the stream: what it receives is
/// decrypted with the peer's, what it sends encrypted with ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtlsKeys {
    pub decrypt: SrtpParams,
    pub encrypt: SrtpParams,
}

impl DtlsKeys {
    /// `None` if the suite is unknown or a key has the wrong length.
    pub fn of(suite: &str, local: &[u8], remote: &[u8]) -> Option<DtlsKeys> {
        let s = Suite::by_name(suite)?;
        Some(DtlsKeys {
            decrypt: s.params_from_key_salt(remote)?,
            encrypt: s.params_from_key_salt(local)?,
        })
    }
}

/// A stream's DTLS: the signalled parameters, the association once started,
/// and where its records go.
pub struct StreamDtls {
    pub params: DtlsParams,
    pub session: Option<Box<dyn DtlsSession>>,
    /// Where the peer's records came from last (our records go there).
    pub peer: Option<SocketAddr>,
    /// Set once connected; kept across re-signalling with the same parameters.
    pub keys: Option<DtlsKeys>,
    /// The handshake failed or the peer closed: no media until signalling
    /// starts over.
    pub failed: bool,
}

impl StreamDtls {
    pub fn new(params: DtlsParams) -> StreamDtls {
        StreamDtls {
            params,
            session: None,
            peer: None,
            keys: None,
            failed: false,
        }
    }

    pub fn connected(&self) -> bool {
        self.keys.is_some()
    }

    /// Ends the association, returning its last records (close_notify).
    pub fn close(&mut self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        if let Some(s) = self.session.as_mut() {
            s.close();
            while let Some(d) = s.poll_transmit() {
                out.push(d);
            }
        }
        self.session = None;
        out
    }
}

#[cfg(test)]
mod tests;
