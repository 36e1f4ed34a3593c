//! Every crash the decoder fuzz target found, replayed: `fuzz/regressions/decoder-*.bin`.
//!
//! Input format (as `fuzz/src/lib.rs`): the first byte picks a link type (low nibble, modulo
//! the list), the rest is frames separated by `ff 4e 58 54` ("\xffNXT"). Each frame is decoded
//! by a verifying decoder, an ignoring one, and one with tight reassembly limits; nothing may
//! panic (debug builds check overflow) and every error offset must lie within its frame.

use custos_decode::{
    linktype, ChecksumMode, ChecksumStatus, Decoder, DecoderConfig, ReassemblyLimits,
};
use std::path::Path;

const LINKTYPES: [u32; 15] = [
    linktype::ETHERNET,
    linktype::RAW,
    linktype::LINUX_SLL,
    linktype::LINUX_SLL2,
    linktype::NULL,
    linktype::LOOP,
    linktype::PPP,
    linktype::IPV4,
    linktype::IPV6,
    linktype::RAW_12,
    linktype::RAW_14,
    linktype::PPP_HDLC,
    linktype::PPP_ETHER,
    linktype::IEEE802_11,
    linktype::IEEE802_11_RADIOTAP,
];

fn split(rest: &[u8]) -> Vec<&[u8]> {
    const MARKER: &[u8] = b"\xffNXT";
    let mut out = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i + MARKER.len() <= rest.len() && out.len() + 1 < 64 {
        if &rest[i..i + MARKER.len()] == MARKER {
            out.push(&rest[start..i]);
            i += MARKER.len();
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(&rest[start..]);
    out
}

/// Replays one input; returns the innermost transport checksum status of each frame under the
/// verifying decoder.
fn replay(input: &[u8]) -> Vec<Option<ChecksumStatus>> {
    let Some((&sel, rest)) = input.split_first() else {
        return Vec::new();
    };
    // As the fuzz target: frames 1 ms apart, or 20 s apart when the selector's top bit is set.
    let step: i64 = if sel & 0x80 != 0 {
        20_000_000_000
    } else {
        1_000_000
    };
    let mut statuses = Vec::new();
    let lt = LINKTYPES[usize::from(sel & 0x0f) % LINKTYPES.len()];
    let tight = DecoderConfig {
        checksums: ChecksumMode::Ignore,
        reassembly: ReassemblyLimits {
            max_datagrams: 2,
            max_bytes: 2048,
            max_fragments: 4,
            timeout_ns: 10_000_000_000,
        },
    };
    let mut decoders = [
        Decoder::new(DecoderConfig::default()),
        Decoder::new(DecoderConfig {
            checksums: ChecksumMode::Ignore,
            ..DecoderConfig::default()
        }),
        Decoder::new(tight),
    ];
    for (i, frame) in split(rest).into_iter().enumerate() {
        for (k, d) in decoders.iter_mut().enumerate() {
            let out = d.decode(lt, i as i64 * step, frame);
            if k == 0 {
                statuses.push(out.innermost().map(|l| l.l4_checksum));
            }
            if let Some(e) = out.error {
                assert!(
                    e.offset <= frame.len(),
                    "error offset {} beyond frame of {} bytes: {e}",
                    e.offset,
                    frame.len()
                );
            }
            for l in out.ip_layers() {
                assert!(l.offset <= frame.len());
            }
        }
    }
    statuses
}

#[test]
fn decoder_fuzz_regressions_do_not_recur() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with("decoder-") && name.ends_with(".bin") {
            let statuses = replay(&std::fs::read(entry.path()).unwrap());
            if name.starts_with("decoder-checksum-") {
                // These frames carry valid checksums that an overflowing sum used to call bad.
                assert_eq!(statuses, vec![Some(ChecksumStatus::Good)], "{name}");
            }
            n += 1;
        }
    }
    assert!(
        n >= 3,
        "expected the committed decoder regressions, found {n}"
    );
}
