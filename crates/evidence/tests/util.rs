//! Shared helpers: the shared corpus, temporary directories, a seeded RNG.

use std::path::PathBuf;

/// `/work/shared` (env `CUSTOS_SHARED`, else `<manifest>/../../../shared`), or `None` after
/// reporting the skip (`custos_test_support::skip`) — unless `CUSTOS_REQUIRE_SHARED=1`, then
/// panics.
pub fn shared() -> Option<PathBuf> {
    custos_test_support::shared()
}

/// A fresh empty directory under the target dir's tmp, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let base = std::env::var_os("CARGO_TARGET_TMPDIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let p = base.join(format!("evidence-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// xorshift64*: deterministic randomness for tests.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The deterministic record stored at `index` by the tests (length varies 0..=300).
pub fn record(index: u64) -> Vec<u8> {
    let len = (index.wrapping_mul(2_654_435_761) % 301) as usize;
    let mut v = format!("record {index}:").into_bytes();
    v.resize(len.max(v.len()), b'a' + (index % 26) as u8);
    v
}
