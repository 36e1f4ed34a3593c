//! Training, prediction and TreeSHAP throughput of the GBDT on flow-like data, without criterion.
//!
//! `cargo bench -p custos-detect --bench gbdt` builds 1,000,000 synthetic flows × 85 features
//! (`GBDT_ROWS` changes the count, `GBDT_JITTER` the jitter step, default 0.001;
//! `GBDT_TREES` the trees grown, default 60 as `custos train --detector flow`;
//! `GBDT_DISTINCT=1` adds ±5 % continuous noise to the seven timing columns of every row, so
//! that nearly no two rows share their bins: the worst case for deduplication), trains with default parameters on one core and prints the
//! rows, the rows left after deduplication, the training time, and the prediction and TreeSHAP
//! rates in rows per second.
//!
//! The data imitates time-shifted copies of lab captures: 20,000 distinct base flows of ten
//! kinds (MQTT telemetry, HTTP, DNS, NTP, Modbus polling; SYN scans, Telnet brute force, UDP
//! floods, MQTT floods, Modbus writes), each feature drawn from its kind's distribution (packet
//! and byte counts, sizes, inter-arrival statistics, TCP flag counts, destination port,
//! protocol number, application event counts). Each of the 1,000,000 rows copies a random base
//! flow; a third of the copies get a small jitter (±0.1 % or ±0.2 %) on the three timing
//! columns a replay shifts (duration, mean and largest inter-arrival time), as a replay at
//! another time would. Label: the base flow's kind is an attack, flipped for 1 % of the base
//! flows (labelling noise). Everything comes from a fixed seed.

use std::hint::black_box;
use std::time::Instant;

use custos_detect::gbdt::{train, GbdtParams, TrainingData};
use custos_test_support::SplitMix64 as Rng;

/// A value spread log-uniformly around `center`: within `center / spread .. center * spread`.
fn around(rng: &mut Rng, center: f64, spread: f64) -> f64 {
    center * spread.powf(rng.unit() * 2.0 - 1.0)
}

const FEATURES: usize = 85;
const BASE_FLOWS: usize = 20_000;
/// Columns a replay shifts: duration, mean and largest inter-arrival time.
const JITTERED: [usize; 3] = [0, 9, 11];

fn feature_names() -> Vec<String> {
    let mut names: Vec<String> = [
        "duration",
        "fwd_pkts",
        "bwd_pkts",
        "fwd_bytes",
        "bwd_bytes",
        "fwd_len_min",
        "fwd_len_max",
        "fwd_len_mean",
        "fwd_len_std",
        "iat_mean",
        "iat_std",
        "iat_max",
        "iat_min",
        "fwd_iat_mean",
        "bwd_iat_mean",
        "fin",
        "syn",
        "rst",
        "psh",
        "ack",
        "urg",
        "ece",
        "cwr",
        "dst_port",
        "src_port_class",
        "protocol",
        "bwd_len_min",
        "bwd_len_max",
        "bwd_len_mean",
        "bwd_len_std",
        "down_up_ratio",
        "init_win_fwd",
        "init_win_bwd",
        "active_mean",
        "idle_mean",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let mut i = 0;
    while names.len() < FEATURES {
        names.push(format!("app_event_{i}"));
        i += 1;
    }
    names
}

/// One base flow of kind `kind` (0–4 benign, 5–9 attack).
fn base_flow(rng: &mut Rng, kind: usize) -> Vec<f64> {
    // (port, protocol, packets, packet size, inter-arrival seconds, syn share, app events)
    let (port, proto, pkts, size, iat, syn, events): (f64, f64, f64, f64, f64, f64, f64) =
        match kind {
            0 => (1883.0, 6.0, 40.0, 120.0, 5.0, 0.05, 20.0),
            1 => (80.0, 6.0, 25.0, 700.0, 0.05, 0.08, 3.0),
            2 => (53.0, 17.0, 2.0, 90.0, 0.01, 0.0, 1.0),
            3 => (123.0, 17.0, 2.0, 76.0, 0.02, 0.0, 0.0),
            4 => (502.0, 6.0, 60.0, 70.0, 1.0, 0.02, 30.0),
            5 => (
                f64::from(rng.below(1024) as u32),
                6.0,
                1.0,
                60.0,
                0.0,
                1.0,
                0.0,
            ),
            6 => (23.0, 6.0, 30.0, 80.0, 0.3, 0.05, 10.0),
            7 => (
                f64::from(rng.below(65536) as u32),
                17.0,
                500.0,
                512.0,
                0.001,
                0.0,
                0.0,
            ),
            8 => (1883.0, 6.0, 300.0, 200.0, 0.01, 0.01, 150.0),
            _ => (502.0, 6.0, 20.0, 75.0, 0.5, 0.05, 20.0),
        };
    let fwd_pkts = around(rng, pkts, 2.0).round().max(1.0);
    let bwd_pkts = (fwd_pkts * around(rng, 0.8, 1.5)).round();
    let len = around(rng, size, 1.3).round();
    let iat_mean = around(rng, iat.max(1e-4), 3.0);
    let duration = iat_mean * (fwd_pkts + bwd_pkts - 1.0).max(0.0);
    let mut f = vec![0.0; FEATURES];
    let mut put = |i: usize, v: f64| f[i] = v;
    put(0, duration);
    put(1, fwd_pkts);
    put(2, bwd_pkts);
    put(3, (fwd_pkts * len).round());
    put(4, (bwd_pkts * around(rng, len, 1.5)).round());
    put(5, (len * around(rng, 0.5, 1.2)).round());
    put(6, (len * around(rng, 1.6, 1.2)).round());
    put(7, len);
    put(8, len * around(rng, 0.2, 2.0));
    put(9, iat_mean);
    put(10, iat_mean * around(rng, 0.5, 2.0));
    put(11, iat_mean * around(rng, 3.0, 1.5));
    put(12, iat_mean * around(rng, 0.1, 2.0));
    put(13, iat_mean * around(rng, 1.0, 1.2));
    put(14, iat_mean * around(rng, 1.0, 1.2));
    let tcp = proto == 6.0;
    if tcp {
        put(15, f64::from(rng.below(3) as u32));
        put(16, (syn * fwd_pkts).round().max(1.0));
        put(
            17,
            if kind == 5 {
                1.0
            } else {
                f64::from(rng.below(2) as u32)
            },
        );
        put(18, (fwd_pkts * rng.unit()).round());
        put(19, (fwd_pkts + bwd_pkts - 1.0).max(0.0));
    }
    put(23, port);
    put(24, f64::from(rng.below(3) as u32));
    put(25, proto);
    put(26, (len * around(rng, 0.4, 1.3)).round());
    put(27, (len * around(rng, 1.5, 1.3)).round());
    put(28, (len * around(rng, 1.0, 1.3)).round());
    put(29, len * around(rng, 0.3, 2.0));
    put(30, (bwd_pkts / fwd_pkts * 10.0).round() / 10.0);
    put(
        31,
        if tcp {
            [64240.0, 29200.0, 1024.0][rng.below(3) as usize]
        } else {
            0.0
        },
    );
    put(
        32,
        if tcp {
            [65160.0, 28960.0, 0.0][rng.below(3) as usize]
        } else {
            0.0
        },
    );
    put(33, duration * around(rng, 0.3, 2.0));
    put(34, duration * around(rng, 0.1, 3.0));
    for i in 35..FEATURES {
        // Application event counts: a few per kind, most zero.
        if (i + kind) % 10 == 0 || (i * 7 + kind) % 13 == 0 {
            put(i, around(rng, events.max(0.5), 2.0).round());
        }
    }
    f
}

struct Flows {
    columns: Vec<Vec<f64>>,
    labels: Vec<bool>,
}

/// Timing columns: duration and the inter-arrival statistics.
const TIMING: [usize; 7] = [0, 9, 10, 11, 12, 13, 14];

fn generate(rows: usize, seed: u64, step: f64, distinct: bool) -> Flows {
    let mut rng = Rng(seed);
    let mut bases = Vec::with_capacity(BASE_FLOWS);
    for _ in 0..BASE_FLOWS {
        let kind = rng.below(10) as usize;
        let noisy = rng.below(100) == 0;
        bases.push((base_flow(&mut rng, kind), (kind >= 5) != noisy));
    }
    let mut columns: Vec<Vec<f64>> = (0..FEATURES).map(|_| Vec::with_capacity(rows)).collect();
    let mut labels = Vec::with_capacity(rows);
    for _ in 0..rows {
        let (flow, label) = &bases[rng.below(BASE_FLOWS as u64) as usize];
        let jitter = if rng.below(3) == 0 {
            1.0 + step * [-2.0, -1.0, 1.0, 2.0][rng.below(4) as usize]
        } else {
            1.0
        };
        for (f, column) in columns.iter_mut().enumerate() {
            let v = flow[f];
            let v = if JITTERED.contains(&f) { v * jitter } else { v };
            let v = if distinct && TIMING.contains(&f) {
                v * (1.0 + 0.05 * (rng.unit() * 2.0 - 1.0))
            } else {
                v
            };
            column.push(v);
        }
        labels.push(*label);
    }
    Flows { columns, labels }
}

fn main() {
    let rows: usize = std::env::var("GBDT_ROWS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let step: f64 = std::env::var("GBDT_JITTER")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0.001);
    let distinct = std::env::var("GBDT_DISTINCT").is_ok_and(|v| v == "1");
    let names = feature_names();
    let start = Instant::now();
    let flows = generate(rows, 2024, step, distinct);
    println!(
        "generated {rows} rows x {FEATURES} features from {BASE_FLOWS} base flows \
         (jitter step {step}) in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    let data = TrainingData {
        names: &names,
        columns: &flows.columns,
        labels: &flows.labels,
        weights: None,
    };
    // `custos train --detector flow` grows 60 trees by default (custos-dataset's
    // DEFAULT_TREES); `GBDT_TREES` changes it (the library's own default is 200).
    let trees: u32 = std::env::var("GBDT_TREES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(60);
    let params = GbdtParams {
        trees,
        ..GbdtParams::default()
    };
    let start = Instant::now();
    let model = match train(&data, &params) {
        Ok(model) => model,
        Err(e) => {
            eprintln!("training failed: {e}");
            std::process::exit(1);
        }
    };
    let seconds = start.elapsed().as_secs_f64();
    let s = model.summary();
    println!(
        "train: {} rows, {} unique rows, {} trees, {:.2} s ({:.0} rows/s), training log-loss {:.4}",
        s.rows,
        s.unique_rows,
        s.trees_built,
        seconds,
        s.rows as f64 / seconds,
        s.training_log_loss
    );

    // Held-out rows from other base flows.
    let held_out = generate(100_000, 7, step, distinct);
    let n = held_out.labels.len();
    let row_major: Vec<Vec<f64>> = (0..n)
        .map(|r| held_out.columns.iter().map(|c| c[r]).collect())
        .collect();
    let start = Instant::now();
    let mut correct = 0usize;
    for (row, &label) in row_major.iter().zip(&held_out.labels) {
        correct += usize::from((black_box(model.margin(black_box(row))) > 0.0) == label);
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "predict: {n} rows in {:.2} s = {:.0} rows/s (held-out accuracy {:.4})",
        seconds,
        n as f64 / seconds,
        correct as f64 / n as f64
    );
    let shap_rows = 20_000.min(n);
    let start = Instant::now();
    let mut checksum = 0.0;
    for row in &row_major[..shap_rows] {
        let c = model.contributions(black_box(row));
        checksum += c.values.iter().sum::<f64>();
    }
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "treeshap: {shap_rows} rows in {:.2} s = {:.0} rows/s (checksum {:.3})",
        seconds,
        shap_rows as f64 / seconds,
        checksum
    );
    let top = model.importance();
    let top: Vec<String> = top
        .iter()
        .take(5)
        .map(|(name, gain)| format!("{name} {gain:.0}"))
        .collect();
    println!("top features by gain: {}", top.join(", "));
}
