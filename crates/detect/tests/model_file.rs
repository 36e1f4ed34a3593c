//! Model files: canonical and hashable; refused when corrupt, truncated, modified, or made
//! for other features.

use custos_detect::{
    FeatureSpec, KitNet, KitNetConfig, KitsuneModel, ModelError, Threshold, TrainingInfo,
    MODEL_FORMAT,
};

fn trained_model() -> KitsuneModel {
    let cfg = KitNetConfig {
        max_ae: 3,
        fm_grace: 50,
        ad_grace: 200,
        ..KitNetConfig::default()
    };
    let mut k = KitNet::new(6, cfg);
    for t in 0..400 {
        let t = f64::from(t);
        k.process(&[
            t.sin(),
            t.cos(),
            (t * 0.3).sin() * 2.0,
            t % 7.0,
            (t % 5.0) * 0.5,
            1.0 + (t * 0.1).cos(),
        ]);
    }
    assert!(k.is_trained());
    let names: Vec<String> = (0..6).map(|i| format!("f{i}")).collect();
    KitsuneModel {
        format: MODEL_FORMAT.into(),
        custos_version: "test".into(),
        features: FeatureSpec::new("default", &names),
        threshold: Threshold::phi_beta(k.max_train_score, 1.0),
        kitnet: k,
        training: TrainingInfo {
            packets: 400,
            captures: vec!["synthetic".into()],
            first_ts: 0,
            last_ts: 1,
        },
    }
}

#[test]
fn round_trip_is_identical_and_canonical() {
    let m = trained_model();
    let bytes = m.to_file_bytes().unwrap();
    let back = KitsuneModel::from_file_bytes(&bytes, "m.json").unwrap();
    assert_eq!(
        back.to_file_bytes().unwrap(),
        bytes,
        "same model, same bytes"
    );
    assert_eq!(back.sha256().unwrap(), m.sha256().unwrap());
    let mut a = back.kitnet.clone();
    let mut b = m.kitnet.clone();
    for t in 0..20 {
        let x = [f64::from(t).sin(), 0.5, 0.1, 3.0, 1.0, 1.5];
        assert_eq!(
            a.execute(&x),
            b.execute(&x),
            "loaded model scores identically"
        );
    }
}

#[test]
fn every_truncation_is_refused() {
    let bytes = trained_model().to_file_bytes().unwrap();
    for cut in (0..bytes.len() - 1).step_by(97) {
        match KitsuneModel::from_file_bytes(&bytes[..cut], "m.json") {
            Err(ModelError::Truncated { .. }) | Err(ModelError::Corrupt { .. }) => {}
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
}

#[test]
fn modified_bytes_are_refused() {
    let bytes = trained_model().to_file_bytes().unwrap();
    let body_end = bytes.len() - 80; // stay inside the model object
    let mut refused = 0;
    for (n, at) in (10..body_end).step_by(211).enumerate() {
        let mut b = bytes.clone();
        // Change a digit to another digit where possible, so the JSON stays valid.
        b[at] = match b[at] {
            b'0'..=b'8' => b[at] + 1,
            b'9' => b'0',
            other => other ^ 0x01,
        };
        match KitsuneModel::from_file_bytes(&b, "m.json") {
            Err(ModelError::HashMismatch { .. })
            | Err(ModelError::Corrupt { .. })
            | Err(ModelError::Truncated { .. })
            | Err(ModelError::Format { .. })
            | Err(ModelError::Inconsistent { .. }) => refused += 1,
            Ok(_) => panic!("modification {n} at byte {at} accepted"),
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert!(refused > 10);
}

#[test]
fn model_for_other_features_is_refused() {
    let m = trained_model();
    let other: Vec<String> = (0..6).map(|i| format!("g{i}")).collect();
    let err = m
        .check_features(&FeatureSpec::new("default", &other), "m.json")
        .unwrap_err();
    assert!(matches!(err, ModelError::Incompatible { .. }));
    assert!(err.to_string().contains("6 features in default mode"));
    let names: Vec<String> = (0..6).map(|i| format!("f{i}")).collect();
    assert!(m
        .check_features(&FeatureSpec::new("compat", &names), "m.json")
        .is_err());
    m.check_features(&FeatureSpec::new("default", &names), "m.json")
        .unwrap();
}

#[test]
fn untrained_model_cannot_be_saved() {
    let mut m = trained_model();
    m.kitnet = KitNet::new(
        6,
        KitNetConfig {
            fm_grace: 10,
            ad_grace: 10,
            ..KitNetConfig::default()
        },
    );
    m.kitnet.set_map(vec![vec![0, 1, 2], vec![3, 4, 5]]);
    assert!(matches!(
        m.to_file_bytes(),
        Err(ModelError::Untrained { .. })
    ));
}
