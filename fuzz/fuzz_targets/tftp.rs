//! TFTP requests. Input: one datagram.
//! Properties: nothing panics; a parsed request's file name and options come from the input
//! (their bytes appear in it), and probe agrees with parse.
#![no_main]

use custos_app::tftp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = tftp::parse(data);
    if let Ok(r) = &parsed {
        assert!(r.options.len() <= 16);
        assert!(r.op == "read" || r.op == "write");
        if !r.filename.contains('\u{fffd}') {
            assert!(data
                .windows(r.filename.len().max(1))
                .any(|w| r.filename.is_empty() || w == r.filename.as_bytes()));
        }
    }
    assert_eq!(tftp::probe(data), parsed.is_ok_and(|r| !r.filename.is_empty()));
});
