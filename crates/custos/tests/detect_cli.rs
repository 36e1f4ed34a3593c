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
    let work = tempfile::tempdir().unwrap();
    let model = work.path().join("model.json");
    let r = run(&[
        os("train"),
        os("--detector"),
        os("kitsune"),
        dir.join("iotlab-dev.pcap").as_os_str(),
        os("-o"),
        model.as_os_str(),
        os("--fm-grace"),
        os("1000"),
        os("--ad-grace"),
        os("10000"),
        os("--calibration"),
        os("5000"),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let text = std::fs::read_to_string(&model).unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    let hash = file["sha256"].as_str().unwrap().to_string();
    assert_eq!(file["model"]["training"]["packets"], 16_001);
    assert!(file["model"]["threshold"]["value"].as_f64().unwrap() > 0.0);

    // Training again gives the same bytes: the model is canonical.
    let model2 = work.path().join("model2.json");
    assert!(run(&[
        os("train"),
        os("--detector"),
        os("kitsune"),
        dir.join("iotlab-dev.pcap").as_os_str(),
        os("-o"),
        model2.as_os_str(),
        os("--fm-grace"),
        os("1000"),
        os("--ad-grace"),
        os("10000"),
        os("--calibration"),
        os("5000")
    ])
    .status
    .success());
    assert_eq!(
        std::fs::read(&model).unwrap(),
        std::fs::read(&model2).unwrap()
    );

    let out = work.path().join("out");
    let r = run(&[
        os("analyze"),
        dir.join("iotlab-dev.pcap").as_os_str(),
        os("-o"),
        out.as_os_str(),
        os("--quiet"),
        os("--model"),
        model.as_os_str(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
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

    // One changed digit: refused, exit 2, message names the file and the hash mismatch.
    let bad = work.path().join("bad.json");
    let pos = text.find("\"w\":[").unwrap() + 8;
    let mut bytes = text.clone().into_bytes();
    bytes[pos] = if bytes[pos] == b'1' { b'2' } else { b'1' };
    std::fs::write(&bad, &bytes).unwrap();
    let r = run(&[
        os("analyze"),
        dir.join("iotlab-dev.pcap").as_os_str(),
        os("-o"),
        work.path().join("o2").as_os_str(),
        os("--quiet"),
        os("--model"),
        bad.as_os_str(),
    ]);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(
        err.contains("bad.json") && (err.contains("hash mismatch") || err.contains("corrupt")),
        "{err}"
    );

    // Truncated: refused.
    std::fs::write(&bad, &text.as_bytes()[..text.len() / 2]).unwrap();
    let r = run(&[
        os("analyze"),
        dir.join("iotlab-dev.pcap").as_os_str(),
        os("-o"),
        work.path().join("o3").as_os_str(),
        os("--quiet"),
        os("--model"),
        bad.as_os_str(),
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("truncated"));

    // Made for other features (compat mode): refused.
    let r = run(&[
        os("analyze"),
        dir.join("iotlab-dev.pcap").as_os_str(),
        os("-o"),
        work.path().join("o4").as_os_str(),
        os("--quiet"),
        os("--model"),
        model.as_os_str(),
        os("--kitsune-compat"),
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("model was made for"));
}
