//! Resource paths of the C2SP tlog-tiles layout (<https://c2sp.org/tlog-tiles>), as tessera's
//! `api/layout/paths.go` writes them.
//!
//! - `checkpoint`
//! - `tile/<L>/<N>[.p/<W>]`: hash tiles; `<N>` in zero-padded 3-digit groups, all but the last
//!   prefixed with `x` (1234067 → `x001/x234/067`); `.p/<W>` marks a partial tile of width
//!   `W` in 1..=255.
//! - `tile/entries/<N>[.p/<W>]`: entry bundles, each entry a big-endian `u16` length then the
//!   bytes.

/// Hashes per full tile, and entries per full bundle (tlog-tiles: "exactly 256 hashes wide").
pub const TILE_WIDTH: u64 = 256;

/// Height of a tile in tree levels (`log2(TILE_WIDTH)`).
pub const TILE_HEIGHT: u32 = 8;

/// Path of the checkpoint, relative to the log root.
pub const CHECKPOINT_PATH: &str = "checkpoint";

/// The `<N>` part of a tile path: 3-digit groups, `x`-prefixed except the last.
pub fn fmt_n(n: u64) -> String {
    let mut s = format!("{:03}", n % 1000);
    let mut n = n / 1000;
    while n > 0 {
        s = format!("x{:03}/{s}", n % 1000);
        n /= 1000;
    }
    s
}

/// `<N>` followed by `.p/<W>` when `partial` is in 1..=255; `partial == 0` means a full tile.
pub fn n_with_suffix(n: u64, partial: u8) -> String {
    if partial > 0 {
        format!("{}.p/{partial}", fmt_n(n))
    } else {
        fmt_n(n)
    }
}

/// `tile/<level>/<N>[.p/<W>]`.
pub fn tile_path(level: u64, index: u64, partial: u8) -> String {
    format!("tile/{level}/{}", n_with_suffix(index, partial))
}

/// `tile/entries/<N>[.p/<W>]`.
pub fn entries_path(index: u64, partial: u8) -> String {
    format!("tile/entries/{}", n_with_suffix(index, partial))
}

/// Width of the tile `index` at `level` in a tree of `size` leaves: 0 when full (or when
/// `size` does not reach it), otherwise `floor(size / 256^level) mod 256` for the rightmost
/// tile (tlog-tiles "Partial Tiles").
pub fn partial_tile_size(level: u64, index: u64, size: u64) -> u8 {
    let shift = (TILE_HEIGHT as u64) * level;
    let Some(at_level) = size.checked_shr(shift as u32) else {
        return 0;
    };
    let full_tiles = at_level / TILE_WIDTH;
    if index == full_tiles {
        (at_level % TILE_WIDTH) as u8
    } else {
        0
    }
}

/// Parses the part of a path after `tile/<L>/` or `tile/entries/` into `(index, partial)`,
/// following tessera's `ParseTileIndexPartial`; `None` if malformed.
pub fn parse_index_partial(s: &str) -> Option<(u64, u8)> {
    let mut parts: Vec<&str> = s.split('/').collect();
    let mut w = 0u8;
    if s.contains(".p") {
        let last = parts.pop()?;
        let w64: u64 = last.parse().ok()?;
        if !(1..TILE_WIDTH).contains(&w64) || last.starts_with('0') {
            return None;
        }
        w = w64 as u8;
        let prev = parts.pop()?.strip_suffix(".p")?;
        parts.push(prev);
    }
    let (last, init) = parts.split_last()?;
    let mut i = 0u64;
    for (k, p) in init
        .iter()
        .map(|p| (true, *p))
        .chain(std::iter::once((false, *last)))
    {
        let digits = if k { p.strip_prefix('x')? } else { p };
        if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let d: u64 = digits.parse().ok()?;
        i = i.checked_mul(1000)?.checked_add(d)?;
    }
    Some((i, w))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn formats_paths_like_tessera() {
        assert_eq!(fmt_n(0), "000");
        assert_eq!(fmt_n(1234067), "x001/x234/067");
        assert_eq!(tile_path(0, 1234067, 8), "tile/0/x001/x234/067.p/8");
        assert_eq!(tile_path(2, 1000, 0), "tile/2/x001/000");
        assert_eq!(entries_path(5, 0), "tile/entries/005");
        assert_eq!(entries_path(5, 255), "tile/entries/005.p/255");
    }

    #[test]
    fn partial_sizes_follow_the_spec_example() {
        // tlog-tiles: size 70,000 → 273 full level-0 tiles + partial 112, one full level-1
        // tile + partial 17, partial level-2 tile of width 1.
        assert_eq!(partial_tile_size(0, 273, 70_000), 112);
        assert_eq!(partial_tile_size(0, 272, 70_000), 0);
        assert_eq!(partial_tile_size(1, 1, 70_000), 17);
        assert_eq!(partial_tile_size(2, 0, 70_000), 1);
        assert_eq!(partial_tile_size(1, 0, 256), 1);
    }

    #[test]
    fn parses_what_it_formats() {
        for (n, w) in [(0u64, 0u8), (7, 3), (1234067, 8), (999, 255), (1000, 0)] {
            let s = n_with_suffix(n, w);
            assert_eq!(parse_index_partial(&s), Some((n, w)), "{s}");
        }
        for bad in [
            "1",
            "x001",
            "001/002",
            "001.p/0",
            "001.p/256",
            "x1/001",
            "001.p/08",
        ] {
            assert_eq!(parse_index_partial(bad), None, "{bad}");
        }
    }
}
