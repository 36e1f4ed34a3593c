//! Bidirectional flow tracking (work in progress).
pub mod zeek;
