//! KitNET's scoring step alone (`KitNet::execute`, the ensemble and the output autoencoder),
//! without criterion: `cargo bench -p custos-detect --bench kitnet`.
//!
//! Several feature maps over 100 features (Kitsune-py's feature count): the one KitNET learned
//! on `scripts/make-bench-capture.py`'s iotlab-x47 with `--fm-grace 5000` (15 autoencoders of
//! 3 to 10 inputs), ten of ten, twenty of five, and eighteen of 1 to 10. Each is trained on
//! 50 000 synthetic rows from a fixed seed, then scores 400 000 rows (a ring of 4 096); the
//! best of three rounds is printed in nanoseconds per row, with the sum of the scores (a
//! checksum: the same on every machine).

use std::hint::black_box;
use std::time::Instant;

use custos_detect::{KitNet, KitNetConfig};
use custos_test_support::SplitMix64 as Rng;

const FEATURES: usize = 100;

/// A row: each feature on its own scale, moved by the row's phase and some noise.
fn row(t: usize, base: &[f64], rng: &mut Rng) -> Vec<f64> {
    (0..FEATURES)
        .map(|i| base[i] * ((t % 7) as f64 + 1.0) * ((i / 10) as f64 + 1.0) + rng.unit() * 0.3)
        .collect()
}

/// Trains KitNET with feature map `map` and times its scoring.
fn measure(name: &str, map: Vec<Vec<usize>>) {
    let mut rng = Rng(12_345);
    let base: Vec<f64> = (0..FEATURES).map(|_| rng.unit()).collect();
    let cfg = KitNetConfig {
        fm_grace: 0,
        ad_grace: 50_000,
        ..KitNetConfig::default()
    };
    let mut k = KitNet::new(FEATURES, cfg);
    k.set_map(map);
    for t in 0..=50_000 {
        k.process(&row(t, &base, &mut rng));
    }
    let rows: Vec<Vec<f64>> = (0..4096).map(|t| row(t, &base, &mut rng)).collect();
    let n = 400_000;
    let mut best = f64::INFINITY;
    let mut sum = 0.0;
    for _ in 0..3 {
        let start = Instant::now();
        sum = 0.0;
        for i in 0..n {
            sum += k.execute(black_box(&rows[i % rows.len()]));
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "{name}: {} autoencoders, {:.0} ns per row (score sum {sum})",
        k.map.len(),
        best / n as f64 * 1e9
    );
}

/// A map of consecutive features in groups of `sizes`.
fn groups(sizes: &[usize]) -> Vec<Vec<usize>> {
    let mut at = 0;
    sizes
        .iter()
        .map(|&n| {
            at += n;
            (at - n..at).collect()
        })
        .collect()
}

fn main() {
    let learned: Vec<Vec<usize>> = vec![
        vec![61, 64, 63, 60, 51, 54, 57],
        vec![92, 99, 85, 71, 78],
        vec![59, 62, 56, 50, 53],
        vec![83, 90, 97, 69, 76, 82, 89, 96, 68, 75],
        vec![80, 87, 94, 66, 73, 81, 88, 95, 67, 74],
        vec![20, 27, 34, 35, 42, 49, 41, 48, 21, 28],
        vec![84, 91, 98, 70, 77],
        vec![1, 16, 4, 23, 7, 30, 10, 37, 13, 44],
        vec![86, 93, 12, 43, 9, 36],
        vec![2, 17, 5, 24],
        vec![79, 65, 72],
        vec![8, 31, 11, 38, 14, 45],
        vec![6, 29, 0, 15, 3, 22],
        vec![33, 40, 47, 19, 26, 39, 46, 32, 18, 25],
        vec![58, 52, 55],
    ];
    measure("iotlab-x47's map", learned);
    measure("10 x 10", groups(&[10; 10]));
    measure("20 x 5", groups(&[5; 20]));
    measure(
        "18 of 1 to 10",
        groups(&[10, 9, 8, 8, 7, 7, 6, 6, 5, 5, 4, 4, 3, 3, 2, 2, 1, 10]),
    );
}
