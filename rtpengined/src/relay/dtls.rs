//! DTLS-SRTP on media sockets: the daemon's identity (one certificate per run,
//! as in 10.5) and the handshake settings from `--dtls-*`.

use std::sync::Arc;

use rtpengine_dtls::{Certificate, Config};

/// What every handshake of this daemon uses.
#[derive(Clone)]
pub struct DtlsIdentity {
    pub cert: Arc<Certificate>,
    pub config: Config,
}
