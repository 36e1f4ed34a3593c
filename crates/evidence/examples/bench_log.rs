//! Benchmarks for custos-evidence (not a test).
//!
//! ```sh
//! cargo run --release -p custos-evidence --example bench_log [DIR] [--leaves-10m N]
//! ```
//!
//! 1. appends/s: 1 M 200-byte leaves through `append_batch`, integrated (fsynced) every
//!    16 384 leaves, one checkpoint at the end;
//! 2. inclusion proof time for random leaves of a 10 M-leaf log on disk (32-byte leaves, to
//!    save disk; proof cost does not depend on leaf size), after `sync` and a reopen (so no
//!    in-process cache is warm), then consistency proof time from random older sizes;
//! 3. `verify_log` of the 1 M-leaf log.
//!
//! Logs are built under DIR (default: the system temp dir) and removed afterwards.

use std::time::Instant;

use custos_evidence::{leaf_hash, verify_consistency, verify_inclusion, verify_log, Log, Signer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let base = args
        .get(1)
        .filter(|a| !a.starts_with("--"))
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("custos-evidence-bench-{}", std::process::id()));
    let big: u64 = args
        .iter()
        .position(|a| a == "--leaves-10m")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000_000);
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base)?;
    let signer = Signer::from_seed("bench.example/log", &[1; 32])?;

    // 1. Appends.
    let dir1 = base.join("log-1m");
    let mut log = Log::create(&dir1, "bench.example/log")?;
    let n1 = 1_000_000u64;
    let batch = 16_384u64;
    let mut leaf = [0u8; 200];
    let mut buf: Vec<[u8; 200]> = Vec::with_capacity(batch as usize);
    let t = Instant::now();
    let mut i = 0u64;
    while i < n1 {
        buf.clear();
        for _ in 0..batch.min(n1 - i) {
            leaf[..8].copy_from_slice(&i.to_be_bytes());
            buf.push(leaf);
            i += 1;
        }
        log.append_batch(&buf)?;
        log.integrate()?;
    }
    log.publish_checkpoint(&signer)?;
    let secs = t.elapsed().as_secs_f64();
    println!(
        "append: {n1} x 200-byte leaves, integrated every {batch}: {secs:.2} s = {:.0} appends/s",
        n1 as f64 / secs
    );
    drop(log);

    // 3. Verification of the 1 M log.
    let t = Instant::now();
    let r = verify_log(&dir1, &signer.verifier())?;
    println!(
        "verify_log: {} leaves, {} bundles, {} tiles: {:.2} s",
        r.leaves,
        r.bundles_checked,
        r.tiles_checked,
        t.elapsed().as_secs_f64()
    );

    // 2. Inclusion proofs on a 10 M log.
    let dir2 = base.join("log-10m");
    let mut log = Log::create(&dir2, "bench.example/log")?;
    let t = Instant::now();
    let mut small: Vec<[u8; 32]> = Vec::with_capacity(65_536);
    let mut i = 0u64;
    while i < big {
        small.clear();
        for _ in 0..65_536u64.min(big - i) {
            let mut l = [0u8; 32];
            l[..8].copy_from_slice(&i.to_be_bytes());
            small.push(l);
            i += 1;
        }
        log.append_batch(&small)?;
        log.integrate()?;
    }
    let cp = log.publish_checkpoint(&signer)?;
    println!(
        "build: {big} x 32-byte leaves: {:.1} s ({:.0} appends/s)",
        t.elapsed().as_secs_f64(),
        big as f64 / t.elapsed().as_secs_f64()
    );
    drop(log);
    // Let the kernel write the ~1 GB just built back first, so that the timings are of proofs,
    // not of contending with that writeback.
    // SAFETY: sync(2) takes no arguments and touches no memory of ours.
    unsafe { libc::sync() };
    let log = Log::open(&dir2)?;
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut times = Vec::new();
    for _ in 0..20_000 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let idx = rng % big;
        let t = Instant::now();
        let proof = log.inclusion_proof(idx, cp.size)?;
        times.push(t.elapsed().as_secs_f64() * 1e6);
        let mut l = [0u8; 32];
        l[..8].copy_from_slice(&idx.to_be_bytes());
        verify_inclusion(idx, cp.size, &leaf_hash(&l), &proof, &cp.root)?;
    }
    report(
        &format!("inclusion_proof (random leaf, size {})", cp.size),
        &mut times,
    );
    times.clear();
    for _ in 0..20_000 {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let old = 1 + rng % cp.size;
        let t = Instant::now();
        let proof = log.consistency_proof(old, cp.size)?;
        times.push(t.elapsed().as_secs_f64() * 1e6);
        let old_root = log.root_at(old)?;
        verify_consistency(old, cp.size, &proof, &old_root, &cp.root)?;
    }
    report(
        &format!("consistency_proof (random old size, new {})", cp.size),
        &mut times,
    );
    drop(log);
    std::fs::remove_dir_all(&base)?;
    Ok(())
}

fn report(what: &str, times: &mut [f64]) {
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len().max(1) as f64;
    let pct = |p: f64| {
        times
            .get(((times.len() as f64 * p) as usize).min(times.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{what}: mean {mean:.1} µs, p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs ({} proofs, each verified)",
        pct(0.5),
        pct(0.99),
        pct(1.0),
        times.len()
    );
}
