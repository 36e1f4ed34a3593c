//! pcapng through both `FileReader` paths; see `custos_fuzz::check_reader`.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// Minimal little-endian Section Header Block: type, length 28, byte-order magic, version 1.0,
/// section length -1 (unknown), trailing length 28.
const SHB: [u8; 28] = [
    0x0a, 0x0d, 0x0d, 0x0a, 28, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 28, 0, 0, 0,
];

fuzz_target!(|data: &[u8]| {
    if data.starts_with(&SHB[..4]) {
        custos_fuzz::check_reader(data);
    } else {
        let mut v = SHB.to_vec();
        v.extend_from_slice(data);
        custos_fuzz::check_reader(&v);
    }
});
