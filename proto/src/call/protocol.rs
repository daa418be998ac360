//! The transport protocol of each media as 10.5 keeps it: one value per side
//! (its `media->protocol`), which is both what the party speaks and what we
//! write on the `m=` line of the SDP we send it.
//!
//! - A party's own SDP sets its protocol.
//! - The other side follows when the sender changes protocol (the first SDP
//!   counts as a change) in an offer; in an answer only with
//!   `transport-protocol: accept`, else the offerer keeps what it offered.
//! - An unchanged sender leaves the other side as it is, so a re-offer keeps
//!   the protocol the answerer chose (an RTP/AVP answer to a DTLS offer makes
//!   the re-offer to it RTP/AVP again).
//! - `transport-protocol: <name>` then overrides the other side's protocol
//!   when the sender speaks an RTP profile.
//!
//! Protocols are matched as 10.5 does: the names of its table without regard
//! to case, all others are one "unknown" protocol (printed as the SDP has it).

/// 10.5's known transport protocols (its `transport_protocols` table).
const KNOWN: [&str; 7] = [
    "RTP/AVP",
    "RTP/SAVP",
    "RTP/AVPF",
    "RTP/SAVPF",
    "UDP/TLS/RTP/SAVP",
    "UDP/TLS/RTP/SAVPF",
    "udptl",
];

/// The table name of a known protocol.
pub fn known(protocol: &str) -> Option<&'static str> {
    KNOWN
        .iter()
        .copied()
        .find(|k| k.eq_ignore_ascii_case(protocol))
}

/// A protocol as we keep it: the table name if known, else as written.
pub fn canonical(protocol: &str) -> String {
    known(protocol).unwrap_or(protocol).to_owned()
}

/// Whether the protocol is an RTP profile (10.5's `proto_is_rtp`).
pub fn is_rtp(protocol: &str) -> bool {
    known(protocol).is_some_and(|k| k != "udptl")
}

/// What decides the protocols when one party sends SDP.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    /// The `m=` protocol of the sender's SDP.
    pub sdp: &'a str,
    /// The SDP is an answer.
    pub answer: bool,
    /// `transport-protocol: accept`.
    pub accept: bool,
    /// `transport-protocol: <known name>`.
    pub forced: Option<&'a str>,
}

/// The sender's and the receiver's protocols after `exchange`, given what
/// they were (`None` for a media new with this SDP).
pub fn update(
    sender_before: Option<&str>,
    receiver_before: Option<&str>,
    exchange: Exchange,
) -> (String, String) {
    let sender = canonical(exchange.sdp);
    let changed = sender_before.and_then(known) != known(exchange.sdp);
    let follows = changed && (!exchange.answer || exchange.accept);
    let mut receiver = match receiver_before.filter(|r| known(r).is_some()) {
        Some(r) if !follows => r.to_owned(),
        _ => sender.clone(),
    };
    if let Some(p) = exchange.forced.filter(|_| is_rtp(&sender)) {
        receiver = canonical(p);
    }
    (sender, receiver)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offer(sdp: &str) -> Exchange<'_> {
        Exchange {
            sdp,
            answer: false,
            accept: false,
            forced: None,
        }
    }

    fn answer(sdp: &str, accept: bool) -> Exchange<'_> {
        Exchange {
            sdp,
            answer: true,
            accept,
            forced: None,
        }
    }

    #[test]
    fn known_protocols_ignore_case_and_keep_table_names() {
        assert_eq!(canonical("rtp/savpf"), "RTP/SAVPF");
        assert_eq!(canonical("UDPTL"), "udptl");
        assert_eq!(canonical("TCP/BFCP"), "TCP/BFCP");
        assert!(is_rtp("udp/tls/rtp/savp"));
        assert!(!is_rtp("udptl"));
        assert!(!is_rtp("TCP/BFCP"));
    }

    #[test]
    fn first_offer_gives_the_receiver_the_senders_protocol_or_the_forced_one() {
        let (s, r) = update(None, None, offer("RTP/AVP"));
        assert_eq!((s.as_str(), r.as_str()), ("RTP/AVP", "RTP/AVP"));
        let forced = Exchange {
            forced: Some("RTP/SAVP"),
            ..offer("RTP/AVP")
        };
        assert_eq!(update(None, None, forced).1, "RTP/SAVP");
        // Only an RTP sender's protocol is overridden.
        let forced = Exchange {
            forced: Some("RTP/SAVP"),
            ..offer("udptl")
        };
        assert_eq!(update(None, None, forced).1, "udptl");
    }

    #[test]
    fn answer_keeps_the_offerers_protocol_unless_accepted() {
        let before = (Some("UDP/TLS/RTP/SAVPF"), Some("UDP/TLS/RTP/SAVPF"));
        let (s, r) = update(before.1, before.0, answer("RTP/AVP", false));
        assert_eq!((s.as_str(), r.as_str()), ("RTP/AVP", "UDP/TLS/RTP/SAVPF"));
        let (_, r) = update(before.1, before.0, answer("RTP/AVP", true));
        assert_eq!(r, "RTP/AVP");
    }

    #[test]
    fn unchanged_reoffer_keeps_the_receivers_protocol() {
        // The callee answered RTP/AVP to a DTLS offer; the same offer again.
        let (_, r) = update(
            Some("UDP/TLS/RTP/SAVPF"),
            Some("RTP/AVP"),
            offer("UDP/TLS/RTP/SAVPF"),
        );
        assert_eq!(r, "RTP/AVP");
        // A changed one resets it.
        let (_, r) = update(
            Some("UDP/TLS/RTP/SAVPF"),
            Some("RTP/AVP"),
            offer("RTP/SAVP"),
        );
        assert_eq!(r, "RTP/SAVP");
    }
}
