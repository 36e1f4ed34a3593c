//! `--detector kitsune`, `custos train` and `--model` end to end on the reference capture:
//! scores for every packet, explained EVE alerts inside the attack phases, a model that is
//! kept, reused, and refused when damaged or made for other features.

mod common;

use common::{custos, shared};
use std::ffi::OsStr;
use std::path::Path;

fn run(args: &[&OsStr]) -> std::process::Output {
    let r = custos(args);
    assert!(r.status.code().is_some(), "killed by a signal");
    r
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

fn labels(dir: &Path) -> Vec<u8> {
    std::fs::read_to_string(dir.join("iotlab-dev.labels.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect()
}

#[test]
fn default_mode_alerts_are_explained_eve_records_in_attack_phases() {
    let Some(shared) = shared() else { return };
    let dir = shared.join("reference/kitsune");
    let out = tempfile::tempdir().unwrap();
    let r = run(&[
        os("analyze"),
        dir.join("iotlab-dev.pcap").as_os_str(),
        os("-o"),
        out.path().as_os_str(),
        os("--quiet"),
        os("--detector"),
        os("kitsune"),
        os("--fm-grace"),
        os("1000"),
        os("--ad-grace"),
        os("10000"),
        os("--calibration"),
        os("5000"),
        os("--alert-every-packet"),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let scores = std::fs::read_to_string(out.path().join("scores.csv")).unwrap();
    assert_eq!(
        scores.lines().count(),
        32_601,
        "header + one row per packet"
    );
    let labels = labels(&dir);
    let alerts = std::fs::read_to_string(out.path().join("alerts.jsonl")).unwrap();
    let mut in_attack = 0;
    let mut total = 0;
    let mut before_attacks = 0;
    for line in alerts.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["event_type"], "alert");
        // IP packets name their flow by Community ID; others (ARP) by MAC addresses.
        match v["community_id"].as_str() {
            Some(cid) => assert!(
                cid.starts_with("1:") && v["src_ip"].is_string() && v["dest_ip"].is_string()
            ),
            None => assert!(v["src_mac"].is_string() && v["dest_mac"].is_string()),
        }
        let c = &v["custos"];
        let idx = c["packet"].as_u64().unwrap() as usize;
        assert!(c["score"].as_f64().unwrap() > c["threshold"].as_f64().unwrap());
        assert!(
            idx >= 16_001,
            "no alert during training or calibration (packet {idx})"
        );
        let top = &c["explanation"]["autoencoders"][0];
        assert!(top["rmse"].as_f64().unwrap() > 0.0);
        assert!(
            top["features"][0][0].as_str().unwrap().contains('_'),
            "feature names in explanations"
        );
        total += 1;
        in_attack += usize::from(labels[idx] == 1);
        before_attacks += usize::from(idx < 16_217);
    }
    let attacks = labels.iter().filter(|&&l| l == 1).count();
    println!("default mode: {total} alerts, {in_attack} of {attacks} attack packets alerted, {before_attacks} alerts before the first attack");
    assert!(
        in_attack * 10 >= attacks * 9,
        "at least 90 % of attack packets alert ({in_attack}/{attacks})"
    );
    assert!(
        before_attacks <= 2,
        "benign traffic between calibration and the first attack stays quiet ({before_attacks})"
    );
}

#[test]
fn trained_model_is_kept_reused_and_refused_when_damaged() {
    let Some(shared) = shared() else { return };
    let dir = shared.join("reference/kitsune");
    let pcap = dir.join("iotlab-dev.pcap");
    let work = tempfile::tempdir().unwrap();
    let signer = work.path().join("signer");
    assert!(
        run(&[os("keygen"), os("--model"), os("-o"), signer.as_os_str()])
            .status
            .success()
    );
    let (pem, public) = (signer.with_extension("pem"), signer.with_extension("pub"));
    let train = |out: &Path| {
        run(&[
            os("train"),
            os("--detector"),
            os("kitsune"),
            pcap.as_os_str(),
            os("-o"),
            out.as_os_str(),
            os("--sign"),
            pem.as_os_str(),
        ])
    };
    let model = work.path().join("model");
    let r = train(&model);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    for f in [
        "kitsune-model.json",
        "model-card.md",
        "model-card.json",
        "training.json",
        "model.sig",
    ] {
        assert!(
            model.join(f).is_file(),
            "{f} missing from the model directory"
        );
    }
    let text = std::fs::read_to_string(model.join("kitsune-model.json")).unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    let hash = file["sha256"].as_str().unwrap().to_string();
    assert_eq!(file["model"]["training"]["packets"], 16_001);
    assert!(file["model"]["threshold"]["value"].as_f64().unwrap() > 0.0);

    // Training again gives the same model bytes: the model is canonical.
    let model2 = work.path().join("model2");
    assert!(train(&model2).status.success());
    assert_eq!(
        std::fs::read(model.join("kitsune-model.json")).unwrap(),
        std::fs::read(model2.join("kitsune-model.json")).unwrap()
    );

    let analyze = |name: &str, extra: &[&OsStr]| {
        let out = work.path().join(name);
        let mut args = vec![
            os("analyze"),
            pcap.as_os_str(),
            os("-o"),
            out.as_os_str(),
            os("--quiet"),
        ];
        args.extend_from_slice(extra);
        run(&args)
    };
    let trusted = [
        os("--model"),
        model.as_os_str(),
        os("--trust"),
        public.as_os_str(),
    ];
    let r = analyze("out", &trusted);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let out = work.path().join("out");
    let first = std::fs::read_to_string(out.join("scores.csv"))
        .unwrap()
        .lines()
        .nth(1)
        .unwrap()
        .to_string();
    assert!(
        !first.ends_with(",0"),
        "a loaded model scores from the first packet: {first}"
    );
    let alerts = std::fs::read_to_string(out.join("alerts.jsonl")).unwrap();
    let a: serde_json::Value =
        serde_json::from_str(alerts.lines().next().expect("alerts")).unwrap();
    assert_eq!(a["custos"]["model_sha256"], hash.as_str());
    let sig = &a["custos"]["model_signature"];
    assert_eq!(sig["signed"], true);
    assert_eq!(sig["statement_sha256"].as_str().unwrap().len(), 64);
    let pem_text = std::fs::read(&public).unwrap();
    assert_eq!(sig["signer_key_hint"], sha256_hex(&pem_text).as_str());

    // Without --trust, with another signer's key, as a bare file or after any change:
    // refused, exit 2.
    let refused = |name: &str, extra: &[&OsStr], says: &str| {
        let r = analyze(name, extra);
        assert_eq!(r.status.code(), Some(2), "{name} accepted");
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(err.contains(says), "{name}: {err}");
    };
    refused("o1", &[os("--model"), model.as_os_str()], "no trusted key");
    let other = work.path().join("other");
    assert!(
        run(&[os("keygen"), os("--model"), os("-o"), other.as_os_str()])
            .status
            .success()
    );
    let other_pub = other.with_extension("pub");
    refused(
        "o2",
        &[
            os("--model"),
            model.as_os_str(),
            os("--trust"),
            other_pub.as_os_str(),
        ],
        "cannot use model",
    );
    let bare = model.join("kitsune-model.json");
    refused(
        "o3",
        &[
            os("--model"),
            bare.as_os_str(),
            os("--trust"),
            public.as_os_str(),
        ],
        "a single model file",
    );
    let card = model2.join("model-card.md");
    let mut c = std::fs::read(&card).unwrap();
    c[10] ^= 1;
    std::fs::write(&card, c).unwrap();
    refused(
        "o4",
        &[
            os("--model"),
            model2.as_os_str(),
            os("--trust"),
            public.as_os_str(),
        ],
        "model-card.md",
    );

    // Unsigned models load only when allowed, and say so; the model file itself is still
    // checked: one changed digit or a cut is refused, naming the file.
    let bad = work.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    let pos = text.find("\"w\":[").unwrap() + 8;
    let mut bytes = text.clone().into_bytes();
    bytes[pos] = if bytes[pos] == b'1' { b'2' } else { b'1' };
    std::fs::write(bad.join("kitsune-model.json"), &bytes).unwrap();
    let unsigned = [os("--model"), bad.as_os_str(), os("--allow-unsigned-model")];
    let r = analyze("o5", &unsigned);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("kitsune-model.json")
            && (err.contains("hash mismatch") || err.contains("corrupt")),
        "{err}"
    );
    std::fs::write(
        bad.join("kitsune-model.json"),
        &text.as_bytes()[..text.len() / 2],
    )
    .unwrap();
    let r = analyze("o6", &unsigned);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("truncated"));
    std::fs::write(bad.join("kitsune-model.json"), &text).unwrap();
    let r = analyze("o7", &unsigned);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(work.path().join("o7/stats.json")).unwrap()).unwrap();
    assert_eq!(stats["detector"]["model_signature"]["signed"], false);

    // Made for other features (compat mode): refused.
    refused(
        "o8",
        &[
            os("--model"),
            model.as_os_str(),
            os("--trust"),
            public.as_os_str(),
            os("--kitsune-compat"),
        ],
        "model was made for",
    );
}

fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

#[test]
fn kitsune_training_refuses_the_flow_detectors_options() {
    let work = tempfile::tempdir().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/iot-small.pcap");
    let out = work.path().join("m");
    for opt in [["--trees", "5"], ["--seed", "1"], ["--holdout", "0.3"]] {
        let r = run(&[
            os("train"),
            os("--detector"),
            os("kitsune"),
            sample.as_os_str(),
            os(opt[0]),
            os(opt[1]),
            os("-o"),
            out.as_os_str(),
        ]);
        let err = String::from_utf8_lossy(&r.stderr);
        assert!(!r.status.success(), "{opt:?} accepted");
        assert!(err.contains("flow detector's options"), "{opt:?}: {err}");
        assert!(!out.exists(), "{opt:?} wrote a model");
    }
}
