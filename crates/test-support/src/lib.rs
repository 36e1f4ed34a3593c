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

/// The labelled reference lab capture of the shared corpus
/// (`reference/kitsune/iotlab-dev.pcap` and its `.labels.csv`), or `None` with the test's skip
/// reported (corpus or files absent).
pub fn kitsune_reference() -> Option<(PathBuf, PathBuf)> {
    let dir = shared()?.join("reference/kitsune");
    let (pcap, labels) = (
        dir.join("iotlab-dev.pcap"),
        dir.join("iotlab-dev.labels.csv"),
    );
    if !pcap.exists() || !labels.exists() {
        skip("reference/kitsune/iotlab-dev.{pcap,labels.csv} absent");
        return None;
    }
    Some((pcap, labels))
}

/// A capture of `samples/`.
pub fn sample(name: &str) -> PathBuf {
    repo_root().join("samples").join(name)
}

/// The repository's root (for `samples/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// SplitMix64 (Steele, Lea and Flood 2014): a tiny seeded generator for reproducible test and
/// benchmark inputs — never random per run, never for anything secret.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A uniform index into a slice of `len` elements (0 when `len` is 0).
    pub fn index(&mut self, len: usize) -> usize {
        self.below(len as u64) as usize
    }
}
