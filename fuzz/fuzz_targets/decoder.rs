//! The frame decoder. Input: one selector byte, then frames separated by `FRAME_MARKER`.
//! Selector: `& 0x0f` (mod 15) picks the link type; `& 0x80` makes frames 20 s apart instead of
//! 1 ms (so reassembly timeouts fire). Each frame goes through three decoders (see
//! `custos_fuzz::decoders`) that keep their state across the frames of the input.
//! A decoder that hits a known, reported panic (`custos_fuzz::KNOWN_PANICS`) is dropped for
//! the rest of the input; `CUSTOS_FUZZ_STRICT=1` makes those panics crashes again.
#![no_main]

use custos_fuzz::{
    catch_known, check_decoded, decoders, install_known_panic_hook, split_frames, LINKTYPES,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    install_known_panic_hook();
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let lt = LINKTYPES[usize::from(sel & 0x0f) % LINKTYPES.len()];
    let step: i64 = if sel & 0x80 != 0 {
        20_000_000_000
    } else {
        1_000_000
    };
    let mut decs = decoders().map(Some);
    for (i, frame) in split_frames(rest).into_iter().enumerate() {
        let ts = 1_700_000_000_000_000_000 + i as i64 * step;
        for slot in decs.iter_mut() {
            let Some(d) = slot else { continue };
            // check_decoded runs inside too: its own assertions are not known panics and abort.
            if catch_known(|| check_decoded(&d.decode(lt, ts, frame), frame)).is_none() {
                *slot = None;
            }
        }
    }
});
