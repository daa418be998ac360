//! The DTLS-SRTP endpoint of one media stream (RFC 5763/5764) as a sans-IO
//! state machine: datagrams and the current time go in, datagrams, a timer
//! deadline and events come out. No sockets, no threads. OpenSSL does the
//! protocol (see README.md in this crate for why and for its one clock read).

mod cert;
mod endpoint;
mod fingerprint;
mod profile;
mod transport;

pub use cert::{CertCipher, CertParams, Certificate, SignatureHash};
pub use endpoint::{Config, Dtls, Event, FailReason, Role, DEFAULT_CIPHERS, DEFAULT_MTU};
pub use fingerprint::{Fingerprint, FingerprintError, HashFunc};
pub use profile::SrtpProfile;

/// Errors of building a certificate or an endpoint (OpenSSL refused).
#[derive(Debug, thiserror::Error)]
pub enum DtlsError {
    #[error("openssl: {0}")]
    OpenSsl(#[from] openssl::error::ErrorStack),
    #[error("invalid parameter: {0}")]
    Invalid(String),
}

/// Whether a datagram on a media port is DTLS (RFC 7983 demultiplexing: the
/// first byte of a DTLS record is a content type 20..=63).
pub fn is_dtls(datagram: &[u8]) -> bool {
    matches!(datagram.first(), Some(20..=63))
}
