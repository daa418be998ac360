//! SRTP transforms (placeholder: being written).
