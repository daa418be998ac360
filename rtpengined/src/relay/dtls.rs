//! DTLS-SRTP on media sockets: the daemon's identity (one certificate per run,
//! as in 10.5) and the handshake settings from `--dtls-*`, plugged into the
//! media engine as its `DtlsFactory`.

use std::sync::Arc;
use std::time::Instant;

use rtpengine_dtls::{Certificate, Config, Dtls, Event, Fingerprint, HashFunc, Role};

use super::engine::{DtlsEvent, DtlsFactory, DtlsSession};
use crate::call::PeerFingerprint;

/// What every handshake of this daemon uses.
#[derive(Clone)]
pub struct DtlsIdentity {
    pub cert: Arc<Certificate>,
    pub config: Config,
}

impl DtlsFactory for DtlsIdentity {
    fn start(
        &self,
        active: bool,
        peer: &PeerFingerprint,
        now: Instant,
    ) -> Result<Box<dyn DtlsSession>, String> {
        let hash = HashFunc::from_name(&peer.hash)
            .ok_or_else(|| format!("unknown fingerprint hash {}", peer.hash))?;
        let fingerprint = Fingerprint {
            hash,
            digest: peer.digest.clone(),
        };
        let role = if active { Role::Client } else { Role::Server };
        Dtls::new(role, &self.cert, fingerprint, &self.config, now)
            .map(|d| Box::new(Session(d)) as Box<dyn DtlsSession>)
            .map_err(|e| e.to_string())
    }
}

/// OpenSSL's association behind the engine's interface.
struct Session(Dtls);

impl DtlsSession for Session {
    fn handle_datagram(&mut self, now: Instant, datagram: &[u8]) {
        self.0.handle_datagram(now, datagram);
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.0.handle_timeout(now);
    }

    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        self.0.poll_transmit()
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.0.poll_timeout()
    }

    fn poll_event(&mut self) -> Option<DtlsEvent> {
        self.0.poll_event().map(|e| match e {
            Event::Connected {
                profile,
                local_key_salt,
                remote_key_salt,
            } => DtlsEvent::Connected {
                suite: profile.suite_name(),
                local_key_salt,
                remote_key_salt,
            },
            Event::Failed(why) => DtlsEvent::Failed(format!("{why:?}")),
            Event::Closed => DtlsEvent::Closed,
        })
    }

    fn close(&mut self) {
        self.0.close();
    }
}
