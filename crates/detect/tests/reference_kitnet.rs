//! KitNET against Kitsune-py: fed the reference's own 100-feature vectors
//! (`../shared/reference/kitsune/iotlab-dev.features.csv.gz`) with the reference parameters
//! (maxAE 10, FMgrace 1000, ADgrace 10000), custos' KitNET must find 14 autoencoders and give
//! every packet's RMSE within 1e-6 relative of `iotlab-dev.rmse.csv`.

use custos_detect::{KitNet, KitNetConfig};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;

fn shared() -> Option<PathBuf> {
    custos_test_support::shared()
}

fn reference_features(dir: &std::path::Path) -> Vec<Vec<f64>> {
    let f = std::fs::File::open(dir.join("reference/kitsune/iotlab-dev.features.csv.gz")).unwrap();
    BufReader::new(flate2::read::GzDecoder::new(f))
        .lines()
        .map(|l| {
            l.unwrap()
                .split(',')
                .map(|v| v.parse::<f64>().unwrap())
                .collect()
        })
        .collect()
}

fn reference_rmse(dir: &std::path::Path) -> Vec<f64> {
    std::fs::read_to_string(dir.join("reference/kitsune/iotlab-dev.rmse.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect()
}

#[test]
fn kitnet_on_reference_features_matches_kitsune_py() {
    let Some(dir) = shared() else { return };
    let features = reference_features(&dir);
    let want = reference_rmse(&dir);
    assert_eq!(features.len(), 32_600);
    assert_eq!(want.len(), 32_600);
    let cfg = KitNetConfig {
        max_ae: 10,
        fm_grace: 1000,
        ad_grace: 10000,
        ..KitNetConfig::default()
    };
    let mut k = KitNet::new(100, cfg);
    let mut worst = (0.0f64, 0usize);
    for (i, x) in features.iter().enumerate() {
        assert_eq!(x.len(), 100, "row {i}");
        let (got, _) = k.process(x);
        let w = want[i];
        let rel = if w == 0.0 {
            got.abs()
        } else {
            ((got - w) / w).abs()
        };
        if rel > worst.0 {
            worst = (rel, i);
        }
    }
    println!(
        "kitnet: {} autoencoders; worst relative RMSE error {:.3e} at packet {}",
        k.map.len(),
        worst.0,
        worst.1
    );
    println!("map: {:?}", k.map);
    assert_eq!(k.map.len(), 14, "Kitsune-py found 14 autoencoders");
    assert!(
        worst.0 <= 1e-6,
        "worst relative error {:.3e} at packet {}",
        worst.0,
        worst.1
    );
}
