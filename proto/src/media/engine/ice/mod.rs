//! STUN on a stream we do ICE with, answered as rtpengine 10.5 answers it
//! (its `stun.c` and `ice_request`); docs/stun.md has the rules in prose.
//!
//! A binding request whose USERNAME starts with our ufrag and whose
//! MESSAGE-INTEGRITY verifies under our password gets a success response with
//! XOR-MAPPED-ADDRESS = its source; a request that fails gets 400, 401, 420 or
//! 487. Responses and indications are taken without an answer (no checks of
//! our own are outstanding yet). What 10.5 would not take as STUN at all
//! (no FINGERPRINT, a wrong one, unparsable attributes) is reported as
//! `Ignored`.

use std::net::SocketAddr;

use crate::call::IceCredentials;
use crate::media::stun::{
    attr, fingerprint_matches, integrity_matches, message_type, Attributes, Class, Header,
    StunError, Writer, BINDING, HEADER_LEN,
};

/// Google's network-info attribute, which 10.5 ignores quietly.
const GOOG_NETWORK_INFO: u16 = 0xc057;
/// 10.5 lists at most this many unknown attributes (and gives up at that).
const MAX_UNKNOWN: usize = 15;

/// What the daemon as a whole says in STUN and decides ties with.
#[derive(Clone, PartialEq, Eq)]
pub struct IceSettings {
    /// SOFTWARE of every message we send (`--software-id`, sanitised).
    pub software: String,
    /// Our ICE tie-breaker (RFC 8445 section 7.3.1.1): random per daemon run.
    pub tiebreaker: u64,
    /// Keys the transaction ids of our checks (random per daemon run; each
    /// stream's agent gets its own key derived from it).
    pub seed: [u8; 32],
}

/// The seed stays out of logs.
impl std::fmt::Debug for IceSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IceSettings")
            .field("software", &self.software)
            .field("tiebreaker", &self.tiebreaker)
            .finish_non_exhaustive()
    }
}

impl Default for IceSettings {
    fn default() -> IceSettings {
        IceSettings {
            software: software_id(None),
            tiebreaker: 0,
            seed: [0; 32],
        }
    }
}

/// The SOFTWARE string: `id`, or `rtpengine-rs-<version>`, with every
/// character other than ASCII letters, digits and `-` made a `-` (as 10.5
/// sanitises `--software-id`).
pub fn software_id(id: Option<&str>) -> String {
    let raw = id.map_or_else(
        || format!("rtpengine-rs-{}", env!("CARGO_PKG_VERSION")),
        str::to_owned,
    );
    raw.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 10.5 would not handle this as STUN (it goes on as media there).
    Ignored(&'static str),
    /// Taken without an answer.
    Consumed,
    /// An answer of `len` bytes is in the buffer, for the sender; `code` is
    /// the error code, `None` for a success response, which answers the
    /// verified connectivity check `check`.
    Answer {
        len: usize,
        code: Option<u16>,
        check: Option<Check>,
    },
}

/// A connectivity check from the peer that verified (and was answered with
/// success): the peer can reach us from its source address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check {
    /// USE-CANDIDATE: the controlling peer nominates this pair.
    pub use_candidate: bool,
    /// PRIORITY: what the peer would give a peer-reflexive candidate.
    pub priority: Option<u32>,
}

/// The stream's ICE state the check reads and (on a role conflict) changes.
pub struct Agent<'a> {
    pub creds: &'a IceCredentials,
    /// Our current role towards the peer.
    pub controlling: &'a mut bool,
    pub settings: &'a IceSettings,
}

/// What the attribute walk found, 10.5's way.
#[derive(Default)]
struct Found {
    username: Option<(usize, usize)>,
    integrity: Option<(usize, [u8; 20])>,
    fingerprint: Option<(usize, u32)>,
    controlling: Option<u64>,
    controlled: Option<u64>,
    use_candidate: bool,
    priority: Option<u32>,
    unknown: Vec<u16>,
}

/// Reads the attributes of the whole datagram (not only the header's length,
/// as 10.5): `Err` when 10.5's parser gives up, with the unknown
/// comprehension-required attributes seen. The walk ends at FINGERPRINT; after
/// MESSAGE-INTEGRITY only FINGERPRINT may follow.
fn walk(msg: &[u8]) -> Result<Found, Vec<u16>> {
    let mut f = Found::default();
    for a in Attributes::new(msg) {
        let Ok(a) = a else { return Err(f.unknown) };
        if f.integrity.is_some() && a.kind != attr::FINGERPRINT {
            return Err(f.unknown);
        }
        let ok = match a.kind {
            attr::USERNAME => {
                f.username = Some((a.at + 4, a.value.len()));
                true
            }
            attr::MESSAGE_INTEGRITY => match <[u8; 20]>::try_from(a.value) {
                Ok(d) => {
                    f.integrity = Some((a.at, d));
                    true
                }
                Err(_) => false,
            },
            attr::FINGERPRINT => match a.u32() {
                Ok(v) => {
                    f.fingerprint = Some((a.at, v));
                    break;
                }
                Err(_) => false,
            },
            attr::USE_CANDIDATE => {
                f.use_candidate = true;
                true
            }
            attr::SOFTWARE | GOOG_NETWORK_INFO => true,
            attr::ICE_CONTROLLED => {
                let t = a.u64();
                f.controlled = t.ok();
                f.controlling.is_none() && t.is_ok()
            }
            attr::ICE_CONTROLLING => {
                let t = a.u64();
                f.controlling = t.ok();
                f.controlled.is_none() && t.is_ok()
            }
            attr::PRIORITY => {
                f.priority = a.u32().ok();
                f.priority.is_some()
            }
            attr::XOR_MAPPED_ADDRESS => a.value.len() >= 8,
            attr::ERROR_CODE => a.value.len() >= 4,
            kind if !attr::comprehension_required(kind) => true,
            kind => {
                f.unknown.push(kind);
                f.unknown.len() < MAX_UNKNOWN
            }
        };
        if !ok {
            return Err(f.unknown);
        }
    }
    if f.unknown.is_empty() {
        Ok(f)
    } else {
        Err(f.unknown)
    }
}

/// Handles the STUN message of `len` bytes at the start of `buf` from `src`;
/// an answer replaces it in `buf`.
pub fn handle(buf: &mut [u8], len: usize, src: SocketAddr, agent: Agent<'_>) -> Outcome {
    let Some(msg) = buf.get(..len) else {
        return Outcome::Ignored("length beyond the buffer");
    };
    let Ok(h) = Header::parse(msg) else {
        return Outcome::Ignored("not a STUN header");
    };
    if usize::from(h.length) + HEADER_LEN > len {
        return Outcome::Ignored("message-length mismatch");
    }
    if h.method != BINDING {
        return Outcome::Ignored("unknown STUN method");
    }
    if h.class == Class::Indication {
        return Outcome::Consumed;
    }
    let f = match walk(msg) {
        Ok(f) => f,
        Err(unknown) if unknown.is_empty() => {
            return Outcome::Ignored("failed to parse attributes")
        }
        // 10.5 answers 420 whatever the class.
        Err(unknown) => return error(buf, &h, &agent, 420, "Unknown attribute", &unknown),
    };
    let Some((fp_at, fp)) = f.fingerprint else {
        return Outcome::Ignored("FINGERPRINT attribute missing");
    };
    let request = h.class == Class::Request;
    let bad_request = |buf: &mut [u8]| {
        if request {
            error(buf, &h, &agent, 400, "Bad request", &[])
        } else {
            Outcome::Consumed
        }
    };
    let Some((mi_at, mi)) = f.integrity else {
        return bad_request(buf);
    };
    if request && f.username.is_none() {
        return bad_request(buf);
    }
    if !fingerprint_matches(msg, fp_at, fp) {
        return Outcome::Ignored("FINGERPRINT mismatch");
    }
    if !authentic(msg, &f, mi_at, &mi, request, agent.creds) {
        return if request {
            error(buf, &h, &agent, 401, "Unauthorized", &[])
        } else {
            Outcome::Consumed
        };
    }
    if !request {
        // A response to a check of ours: we send none yet.
        return Outcome::Consumed;
    }
    // Role conflict (RFC 8445 section 7.3.1.1), decided as 10.5 does; a
    // lite agent has no role to defend (it is always controlled).
    let ours = agent.settings.tiebreaker;
    let defend = !agent.creds.lite;
    if let (Some(theirs), true, true) = (f.controlling, *agent.controlling, defend) {
        if ours >= theirs {
            return error(buf, &h, &agent, 487, "Role conflict", &[]);
        }
        *agent.controlling = false;
    } else if let (Some(theirs), false, true) = (f.controlled, *agent.controlling, defend) {
        if ours < theirs {
            return error(buf, &h, &agent, 487, "Role conflict", &[]);
        }
        *agent.controlling = true;
    }
    let check = Check {
        use_candidate: f.use_candidate,
        priority: f.priority,
    };
    success(buf, &h, &agent, src, check)
}

/// 10.5's `check_auth`: a request's USERNAME is `<our ufrag>:<theirs>` (both
/// parts non-empty) and it is signed with our password; a response is signed
/// with the peer's (whose ufrag and password must be known).
fn authentic(
    msg: &[u8],
    f: &Found,
    mi_at: usize,
    mi: &[u8; 20],
    request: bool,
    creds: &IceCredentials,
) -> bool {
    let (ufrag, pwd) = if request {
        (Some(creds.ufrag.as_str()), Some(creds.pwd.as_str()))
    } else {
        (creds.remote_ufrag.as_deref(), creds.remote_pwd.as_deref())
    };
    let (Some(ufrag), Some(pwd)) = (ufrag, pwd) else {
        return false;
    };
    if ufrag.is_empty() || pwd.is_empty() {
        return false;
    }
    if request {
        let Some((at, n)) = f.username else {
            return false;
        };
        let name = &msg[at..at + n];
        let Some(colon) = name.iter().position(|&b| b == b':') else {
            return false;
        };
        let (ours, theirs) = (&name[..colon], &name[colon + 1..]);
        if ours.is_empty() || theirs.is_empty() || ours != ufrag.as_bytes() {
            return false;
        }
    }
    integrity_matches(msg, mi_at, mi, pwd.as_bytes())
}

/// A binding success response: SOFTWARE, XOR-MAPPED-ADDRESS of the sender,
/// MESSAGE-INTEGRITY under our password, FINGERPRINT (10.5's order).
fn success(
    buf: &mut [u8],
    h: &Header,
    agent: &Agent<'_>,
    src: SocketAddr,
    check: Check,
) -> Outcome {
    let src = SocketAddr::new(src.ip().to_canonical(), src.port());
    let written = (|| -> Result<usize, StunError> {
        let mut w = Writer::new(buf, message_type(BINDING, Class::Success), h.transaction)?;
        w.attribute(attr::SOFTWARE, agent.settings.software.as_bytes())?;
        w.xor_mapped_address(src)?;
        w.message_integrity(agent.creds.pwd.as_bytes())?;
        w.fingerprint()?;
        Ok(w.finish())
    })();
    match written {
        Ok(len) => Outcome::Answer {
            len,
            code: None,
            check: Some(check),
        },
        Err(_) => Outcome::Ignored("no room for the answer"),
    }
}

/// A binding error response: SOFTWARE, ERROR-CODE, UNKNOWN-ATTRIBUTES for
/// 420, then MESSAGE-INTEGRITY, FINGERPRINT. 10.5 signs every error with the
/// *peer's* password when its SDP gave one, and so do we, but for 487: the
/// request that gets it verified under our password, and RFC 8489 section
/// 9.1.4 has the answer signed with that one. Peers (aioice) drop a 487
/// signed otherwise, and a role conflict would then never resolve.
fn error(
    buf: &mut [u8],
    h: &Header,
    agent: &Agent<'_>,
    code: u16,
    reason: &str,
    unknown: &[u16],
) -> Outcome {
    let written = (|| -> Result<usize, StunError> {
        let mut w = Writer::new(buf, message_type(BINDING, Class::Error), h.transaction)?;
        w.attribute(attr::SOFTWARE, agent.settings.software.as_bytes())?;
        w.error_code(code, reason)?;
        if !unknown.is_empty() {
            let list: Vec<u8> = unknown.iter().flat_map(|k| k.to_be_bytes()).collect();
            w.attribute(attr::UNKNOWN_ATTRIBUTES, &list)?;
        }
        let pwd = if code == 487 {
            Some(&agent.creds.pwd)
        } else {
            agent.creds.remote_pwd.as_ref()
        };
        if let Some(pwd) = pwd {
            w.message_integrity(pwd.as_bytes())?;
        }
        w.fingerprint()?;
        Ok(w.finish())
    })();
    match written {
        Ok(len) => Outcome::Answer {
            len,
            code: Some(code),
            check: None,
        },
        Err(_) => Outcome::Ignored("no room for the answer"),
    }
}

#[cfg(test)]
mod tests;
