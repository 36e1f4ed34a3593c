//! Zeek connection semantics (to be written).
