//! iptables extension (being written).
