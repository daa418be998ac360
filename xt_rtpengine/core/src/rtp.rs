//! RTP/RTCP/STUN/DTLS packet classification and RTP header parsing (placeholder: being written).
