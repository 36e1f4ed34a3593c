//! Integration tests of custos-trust: one test binary, one module per concern.

mod util;

mod interop;
mod keys;
mod roundtrip;
mod tamper;
