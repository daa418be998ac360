//! SDP parsing and rewriting (owned by the SDP engineer; placeholder).
