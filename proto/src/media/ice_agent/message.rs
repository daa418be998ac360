//! The STUN messages of our own checks: the binding request we send (10.5's
//! `stun_binding_request`), the responses we accept, and the check attributes
//! of a peer's request that the agent needs.

use crate::media::stun::{
    attr, error_code, fingerprint_matches, integrity_matches, message_type, Attributes, Class,
    Header, Writer, BINDING, HEADER_LEN, INTEGRITY_LEN,
};

/// What goes into one connectivity check.
pub(super) struct Check<'a> {
    pub transaction: [u8; 12],
    pub remote_ufrag: &'a str,
    pub local_ufrag: &'a str,
    pub remote_pwd: &'a str,
    pub software: &'a str,
    pub controlling: bool,
    pub tiebreaker: u64,
    pub priority: u32,
    pub use_candidate: bool,
}

/// Room for the longest USERNAME RFC 8839 allows (two 256-byte ufrags) and
/// everything else.
const MAX_REQUEST: usize = 1024;

/// The request in 10.5's attribute order: SOFTWARE, USERNAME
/// (`remote:local`), ICE-CONTROLLING or ICE-CONTROLLED with our tie-breaker,
/// PRIORITY, USE-CANDIDATE when nominating, MESSAGE-INTEGRITY under the
/// peer's password, FINGERPRINT. `None` if it does not fit (absurd ufrags).
pub(super) fn binding_request(c: &Check<'_>) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; MAX_REQUEST];
    let len = {
        let mut w = Writer::new(
            &mut buf,
            message_type(BINDING, Class::Request),
            c.transaction,
        )
        .ok()?;
        w.attribute(attr::SOFTWARE, c.software.as_bytes()).ok()?;
        let username = format!("{}:{}", c.remote_ufrag, c.local_ufrag);
        w.attribute(attr::USERNAME, username.as_bytes()).ok()?;
        let role = if c.controlling {
            attr::ICE_CONTROLLING
        } else {
            attr::ICE_CONTROLLED
        };
        w.attribute(role, &c.tiebreaker.to_be_bytes()).ok()?;
        w.attribute(attr::PRIORITY, &c.priority.to_be_bytes())
            .ok()?;
        if c.use_candidate {
            w.attribute(attr::USE_CANDIDATE, &[]).ok()?;
        }
        w.message_integrity(c.remote_pwd.as_bytes()).ok()?;
        w.fingerprint().ok()?;
        w.finish()
    };
    buf.truncate(len);
    Some(buf)
}

/// The header of a binding response (success or error), or `None` for
/// anything else.
pub(super) fn response_header(msg: &[u8]) -> Option<Header> {
    let h = Header::parse(msg).ok()?;
    let complete = usize::from(h.length) + HEADER_LEN <= msg.len();
    let response = matches!(h.class, Class::Success | Class::Error);
    (complete && response && h.method == BINDING).then_some(h)
}

/// What an authentic response says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    Success,
    Error(u16),
}

/// Checks a response as 10.5 does before it looks at it: FINGERPRINT present
/// and right, MESSAGE-INTEGRITY (20 bytes, only FINGERPRINT after it)
/// verifying under the peer's password. An error response must carry a
/// readable ERROR-CODE (10.5 would take one without as a success). `None`:
/// not authentic or malformed.
pub(super) fn verify_response(msg: &[u8], h: &Header, remote_pwd: &str) -> Option<Verdict> {
    let msg = &msg[..HEADER_LEN + usize::from(h.length)];
    let mut integrity = None;
    let mut fingerprint = None;
    let mut code = None;
    for a in Attributes::new(msg) {
        let a = a.ok()?;
        if integrity.is_some() && a.kind != attr::FINGERPRINT {
            return None;
        }
        match a.kind {
            attr::MESSAGE_INTEGRITY => {
                if a.value.len() != INTEGRITY_LEN {
                    return None;
                }
                integrity = Some((a.at, a.value));
            }
            attr::FINGERPRINT => {
                fingerprint = Some((a.at, a.u32().ok()?));
                break;
            }
            attr::ERROR_CODE => code = Some(error_code(a.value).ok()?.0),
            _ => {}
        }
    }
    let (fp_at, fp) = fingerprint?;
    let (mi_at, mi) = integrity?;
    if remote_pwd.is_empty()
        || !fingerprint_matches(msg, fp_at, fp)
        || !integrity_matches(msg, mi_at, mi, remote_pwd.as_bytes())
    {
        return None;
    }
    match h.class {
        Class::Success => Some(Verdict::Success),
        _ => code.map(Verdict::Error),
    }
}

/// The ICE attributes of a binding request, for the embedder to hand to
/// [`super::IceAgent::request_received`] once it has verified the request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CheckAttributes {
    pub use_candidate: bool,
    /// PRIORITY (0 when absent or malformed: RFC 8445 requires it in checks).
    pub priority: u32,
    /// The peer's tie-breaker when it claims to be controlling.
    pub controlling: Option<u64>,
    /// The peer's tie-breaker when it claims to be controlled.
    pub controlled: Option<u64>,
}

impl CheckAttributes {
    /// The check attributes of a binding request; `None` if `msg` is not one.
    /// Reads up to FINGERPRINT and does not verify anything.
    pub fn parse(msg: &[u8]) -> Option<CheckAttributes> {
        let h = Header::parse(msg).ok()?;
        if h.class != Class::Request || h.method != BINDING {
            return None;
        }
        let end = (HEADER_LEN + usize::from(h.length)).min(msg.len());
        let mut out = CheckAttributes::default();
        for a in Attributes::new(&msg[..end]) {
            let Ok(a) = a else { break };
            match a.kind {
                attr::USE_CANDIDATE => out.use_candidate = true,
                attr::PRIORITY => out.priority = a.u32().unwrap_or(0),
                attr::ICE_CONTROLLING => out.controlling = a.u64().ok(),
                attr::ICE_CONTROLLED => out.controlled = a.u64().ok(),
                attr::FINGERPRINT => break,
                _ => {}
            }
        }
        Some(out)
    }
}
