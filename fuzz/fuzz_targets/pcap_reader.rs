//! Classic pcap (all four variants) through both `FileReader` paths; see
//! `custos_fuzz::check_reader`. Inputs that do not start with a pcap magic get a valid 24-byte
//! pcap header in front, so gzip (whose decompression dominated the run time and is flate2's
//! business) and pcapng inputs are read as pcap records.
#![no_main]

use libfuzzer_sys::fuzz_target;

/// Little-endian microsecond pcap header, snaplen 65535, Ethernet.
const PCAP_HEADER: [u8; 24] = [
    0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
];

fn known_magic(data: &[u8]) -> bool {
    let Some(m) = data.get(..4) else { return false };
    let (be, le) = (
        u32::from_be_bytes(m.try_into().unwrap()),
        u32::from_le_bytes(m.try_into().unwrap()),
    );
    [0xa1b2_c3d4, 0xa1b2_3c4d, 0xa1b2_cd34]
        .iter()
        .any(|&k| k == be || k == le)
}

fuzz_target!(|data: &[u8]| {
    if known_magic(data) {
        custos_fuzz::check_reader(data);
    } else {
        let mut v = PCAP_HEADER.to_vec();
        v.extend_from_slice(data);
        custos_fuzz::check_reader(&v);
    }
});
