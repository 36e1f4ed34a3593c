//! Helpers for custos's tests (not published).

use std::path::{Path, PathBuf};

/// The shared directory (`../shared` beside the checkout, or `$CUSTOS_SHARED`), or `None`
/// when it is absent: the caller skips its test. With `CUSTOS_REQUIRE_SHARED=1` (CI) an
/// absent corpus fails the test instead.
///
/// # Panics
/// When the corpus is absent and `CUSTOS_REQUIRE_SHARED=1`.
pub fn shared() -> Option<PathBuf> {
    let dir = std::env::var_os("CUSTOS_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if dir.join("corpus").is_dir() {
        return Some(dir);
    }
    if std::env::var_os("CUSTOS_REQUIRE_SHARED").is_some_and(|v| v == "1") {
        panic!(
            "shared corpus not found at {} and CUSTOS_REQUIRE_SHARED=1",
            dir.display()
        );
    }
    eprintln!("skipped: shared corpus not found at {}", dir.display());
    None
}

/// The repository's root (for `samples/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
