//! rtpengined library: ng control protocol, call model, SDP, media relay.
pub mod sdp;
