//! Kitsune, faithfully: `custos analyze --detector kitsune --kitsune-compat` on the reference
//! capture with Kitsune-py's parameters (maxAE 10, FMgrace 1000, ADgrace 10000) gives the same
//! feature map as Kitsune-py and every packet's RMSE within 1e-6 relative of Kitsune-py's
//! (`../shared/reference/kitsune/`). The features themselves are compared, to 1e-9, by
//! `crates/features/tests/reference.rs`.

mod common;

use common::{custos, shared};
use custos_detect::{KitNet, KitNetConfig};
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};

#[test]
fn compat_mode_reproduces_kitsune_py_scores_and_feature_map() {
    let Some(shared) = shared() else { return };
    let dir = shared.join("reference/kitsune");
    let out = tempfile::tempdir().unwrap();
    let r = custos(&[
        OsStr::new("analyze"),
        dir.join("iotlab-dev.pcap").as_os_str(),
        OsStr::new("-o"),
        out.path().as_os_str(),
        OsStr::new("--quiet"),
        OsStr::new("--detector"),
        OsStr::new("kitsune"),
        OsStr::new("--kitsune-compat"),
        OsStr::new("--fm-grace"),
        OsStr::new("1000"),
        OsStr::new("--ad-grace"),
        OsStr::new("10000"),
        OsStr::new("--max-ae"),
        OsStr::new("10"),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));

    // Kitsune-py's feature map, recomputed from Kitsune-py's own feature vectors.
    let f = std::fs::File::open(dir.join("iotlab-dev.features.csv.gz")).unwrap();
    let mut k = KitNet::new(
        100,
        KitNetConfig {
            max_ae: 10,
            fm_grace: 1000,
            ad_grace: 10000,
            ..KitNetConfig::default()
        },
    );
    for line in BufReader::new(flate2::read::GzDecoder::new(f))
        .lines()
        .take(1001)
    {
        let x: Vec<f64> = line
            .unwrap()
            .split(',')
            .map(|v| v.parse().unwrap())
            .collect();
        k.process(&x);
    }
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("stats.json")).unwrap())
            .unwrap();
    let ours: Vec<Vec<usize>> =
        serde_json::from_value(stats["detector"]["feature_map"].clone()).unwrap();
    assert_eq!(
        ours.len(),
        14,
        "Kitsune-py maps 100 features into 14 autoencoders"
    );
    assert_eq!(ours, k.map, "same autoencoders, same members, same order");

    let want: Vec<f64> = std::fs::read_to_string(dir.join("iotlab-dev.rmse.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    let got: Vec<f64> = std::fs::read_to_string(out.path().join("scores.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    assert_eq!(got.len(), 32_600);
    assert_eq!(want.len(), 32_600);
    let mut worst = (0.0f64, 0usize);
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        let rel = if *w == 0.0 {
            g.abs()
        } else {
            ((g - w) / w).abs()
        };
        if rel > worst.0 {
            worst = (rel, i);
        }
    }
    println!(
        "kitsune compat: worst relative RMSE error {:.3e} at packet {}",
        worst.0, worst.1
    );
    assert!(
        worst.0 <= 1e-6,
        "packet {}: relative error {:.3e}",
        worst.1,
        worst.0
    );
}
