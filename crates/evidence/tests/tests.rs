//! Integration tests for custos-evidence: one binary, modules per area.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod audit;
mod crash;
mod errors;
mod log;
mod recovery;
mod tamper;
mod util;
mod vectors;
