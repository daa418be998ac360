//! Parsing of `/proc/rtpengine/control` commands (placeholder).
