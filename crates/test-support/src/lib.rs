//! Helpers for custos's tests (not published).

use std::io::Write;
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
    skip(&format!("shared corpus not found at {}", dir.display()));
    None
}

/// Reports that the calling test skips itself, and why, where it cannot be missed: straight
/// to the process's standard error (the test harness captures `println!`/`eprintln!` of
/// passing tests, not direct writes), and as a line of `target/test-skips.txt` that CI prints
/// at the end. With `CUSTOS_REQUIRE_ALL=1` (CI, where everything the tests need is
/// installed) a skip fails the test instead.
///
/// # Panics
/// When `CUSTOS_REQUIRE_ALL=1`.
pub fn skip(reason: &str) {
    let test = std::thread::current()
        .name()
        .unwrap_or("a test")
        .to_string();
    let line = format!("SKIPPED {test}: {reason}\n");
    if std::env::var_os("CUSTOS_REQUIRE_ALL").is_some_and(|v| v == "1") {
        panic!("{line}(CUSTOS_REQUIRE_ALL=1: every test must run here)");
    }
    let _ = std::io::stderr().write_all(line.as_bytes());
    let log = repo_root().join("target/test-skips.txt");
    if let Ok(mut f) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
    {
        let _ = f.write_all(line.as_bytes());
    }
}

/// A capture of `samples/`.
pub fn sample(name: &str) -> PathBuf {
    repo_root().join("samples").join(name)
}

/// The repository's root (for `samples/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
