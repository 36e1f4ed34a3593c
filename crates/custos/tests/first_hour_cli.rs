//! What a new user meets in the first hour: output folders that never mix two runs, failed
//! runs that leave nothing behind, and a summary a person reads.

use std::path::Path;
use std::process::{Command, Output};

fn custos(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(args)
        .output()
        .expect("run custos")
}

fn sample() -> String {
    custos_test_support::sample("iot-small.pcap")
        .display()
        .to_string()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

const KITSUNE: [&str; 8] = [
    "--detector",
    "kitsune",
    "--fm-grace",
    "20",
    "--ad-grace",
    "60",
    "--calibration",
    "40",
];

#[test]
fn an_earlier_run_is_refused_and_force_replaces_exactly_its_files() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    let s = sample();
    let first = custos(&[&["analyze", &s, "-o", o, "-q"][..], &KITSUNE].concat());
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(out.join("scores.csv").exists());
    std::fs::write(out.join("my-notes.txt"), "keep me").unwrap();

    let again = custos(&["analyze", &s, "-o", o, "-q"]);
    assert_eq!(again.status.code(), Some(2));
    let e = stderr(&again);
    assert!(e.contains("--force") && e.contains("scores.csv"), "{e}");
    assert!(
        out.join("scores.csv").exists(),
        "a refused run touches nothing"
    );

    // Without a detector this run writes no scores.csv: the stale one must go.
    let forced = custos(&["analyze", &s, "-o", o, "-q", "--force"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    let n = names(&out);
    assert!(
        !n.contains(&"scores.csv".to_string()),
        "stale scores.csv kept: {n:?}"
    );
    assert!(
        !n.contains(&"alerts.jsonl".to_string()),
        "stale alerts kept: {n:?}"
    );
    assert!(
        n.contains(&"my-notes.txt".to_string()),
        "unrelated file removed: {n:?}"
    );
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("custos-run.json")).unwrap()).unwrap();
    assert_eq!(manifest["complete"], true);
    let listed: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    for name in &listed {
        assert!(out.join(name).exists(), "{name} listed but missing");
    }
    assert!(listed.contains(&"conn.log") && !listed.contains(&"scores.csv"));
}

#[test]
fn a_folder_with_only_other_files_is_used_without_force() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("smoke.pcap"), b"not ours").unwrap();
    let o = custos(&[
        "analyze",
        &sample(),
        "-o",
        tmp.path().to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn a_failed_run_leaves_no_output_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("new");
    let o = custos(&[
        "analyze",
        "no-such-capture.pcap",
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.exists(), "failed run left {:?}", names(&out));
}

#[test]
fn summary_tells_what_the_run_saw() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = out.to_str().unwrap();
    let run = custos(
        &[
            &["analyze", &sample(), "-o", o, "-q", "--summary"][..],
            &KITSUNE,
        ]
        .concat(),
    );
    assert!(run.status.success(), "{}", stderr(&run));
    let printed = String::from_utf8(run.stdout).unwrap();
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("stats.json")).unwrap()).unwrap();
    let packets = stats["packets"].as_u64().unwrap();
    assert!(printed.contains(&format!("{packets} packets")), "{printed}");
    let devices = stats["app"]["devices"].as_u64().unwrap();
    assert!(printed.contains(&format!("{devices} devices")), "{printed}");
    let alerts = stats["detector"]["alerts"].as_u64().unwrap();
    assert!(
        printed.contains(&format!("kitsune: {alerts} alerts")),
        "{printed}"
    );
    assert!(printed.contains("conn.log"), "{printed}");

    let again = custos(&["summary", o]);
    assert!(again.status.success());
    assert_eq!(String::from_utf8(again.stdout).unwrap(), printed);
    let md = custos(&["summary", o, "--format", "md"]);
    let md = String::from_utf8(md.stdout).unwrap();
    assert!(
        md.starts_with("# custos summary") && md.contains("\n## Findings"),
        "{md}"
    );
}

#[test]
fn summary_of_a_folder_that_is_no_run_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let o = custos(&["summary", tmp.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not the output folder"),
        "{}",
        stderr(&o)
    );
}

/// The reference lab capture and its labels (`index,label,phase…`), when the corpus is here.
fn reference() -> Option<(String, Vec<(bool, String)>)> {
    let dir = custos_test_support::shared()?.join("reference/kitsune");
    let labels = std::fs::read_to_string(dir.join("iotlab-dev.labels.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[1] == "1", f.get(2).unwrap_or(&"").to_string())
        })
        .collect();
    Some((dir.join("iotlab-dev.pcap").display().to_string(), labels))
}

#[test]
fn the_readme_detector_example_detects_with_the_defaults() {
    let Some((pcap, labels)) = reference() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("k1");
    let o = out.to_str().unwrap();
    let r = custos(&["analyze", &pcap, "-o", o, "--detector", "kitsune", "-q"]);
    assert!(r.status.success(), "{}", stderr(&r));
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("stats.json")).unwrap()).unwrap();
    let d = &stats["detector"];
    assert!(d["executed_packets"].as_u64().unwrap() > 0, "{d}");
    assert!(d["alerts"].as_u64().unwrap() > 0, "{d}");
    assert!(d["warning"].is_null(), "{d}");
    let first_attack = labels.iter().position(|(a, _)| *a).unwrap();
    let mut phases_hit = std::collections::BTreeSet::new();
    for line in std::fs::read_to_string(out.join("alerts.jsonl"))
        .unwrap()
        .lines()
    {
        let a: serde_json::Value = serde_json::from_str(line).unwrap();
        let i = a["custos"]["packet"].as_u64().unwrap() as usize;
        assert!(
            i >= first_attack,
            "alert on benign packet {i} before the first attack"
        );
        if labels[i].0 {
            phases_hit.insert(labels[i].1.clone());
        }
    }
    let phases: std::collections::BTreeSet<String> = labels
        .iter()
        .filter(|(a, _)| *a)
        .map(|(_, p)| p.clone())
        .collect();
    assert_eq!(phases_hit, phases, "every attack phase raises an alert");
}

#[test]
fn a_detector_that_never_detects_says_so_and_what_to_change() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let r = custos(&[
        "analyze",
        &sample(),
        "-o",
        out.to_str().unwrap(),
        "--detector",
        "kitsune",
        "-q",
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    let e = stderr(&r);
    assert!(
        e.contains("warning: kitsune: no packet was checked for attacks"),
        "{e}"
    );
    assert!(
        e.contains("custos train") && e.contains("--fm-grace"),
        "{e}"
    );
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("stats.json")).unwrap()).unwrap();
    assert!(stats["detector"]["warning"]
        .as_str()
        .unwrap()
        .contains("train"));

    let b = custos(&[
        "bench",
        &sample(),
        "--detector",
        "kitsune",
        "--iterations",
        "1",
    ]);
    assert_eq!(
        b.status.code(),
        Some(2),
        "a benchmark that measured nothing fails"
    );
    assert!(
        stderr(&b).contains("no packet was scored"),
        "{}",
        stderr(&b)
    );
}

#[test]
fn detector_settings_that_cannot_work_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let o = tmp.path().join("out");
    let o = o.to_str().unwrap();
    let s = sample();
    for (args, says) in [
        (&["--calibration", "1"][..], "--calibration"),
        (&["--calibration", "0"][..], "--calibration"),
        (&["--fm-grace", "0", "--ad-grace", "0"][..], "--fm-grace"),
    ] {
        let r = custos(
            &[
                &["analyze", &s, "-o", o, "-q", "--detector", "kitsune"][..],
                args,
            ]
            .concat(),
        );
        assert_eq!(r.status.code(), Some(2), "{args:?} accepted");
        assert!(stderr(&r).contains(says), "{args:?}: {}", stderr(&r));
    }
    // A model fixes training and threshold: options that would change them are refused.
    let model = tmp.path().join("m");
    let m = model.to_str().unwrap();
    let t = custos(&[&["train", &s, "-o", m][..], &KITSUNE].concat());
    assert!(t.status.success(), "{}", stderr(&t));
    let told = stderr(&t);
    assert!(
        !told.contains("Robust {") && !told.contains("LogNormal {"),
        "{told}"
    );
    assert!(told.contains("threshold"), "{told}");
    let r = custos(&[
        "analyze",
        &s,
        "-o",
        o,
        "-q",
        "--model",
        m,
        "--fm-grace",
        "5",
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(
        stderr(&r).contains("--fm-grace has no effect with --model"),
        "{}",
        stderr(&r)
    );
    // train never overwrites a model silently.
    let again = custos(&[&["train", &s, "-o", m][..], &KITSUNE].concat());
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    let forced = custos(&[&["train", &s, "-o", m, "--force"][..], &KITSUNE].concat());
    assert!(forced.status.success(), "{}", stderr(&forced));
    // With a model, counts are this run's.
    let r = custos(&[
        "analyze",
        &s,
        "-o",
        o,
        "-q",
        "--force",
        "--model",
        m,
        "--allow-unsigned-model",
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    let stats: serde_json::Value =
        serde_json::from_slice(&std::fs::read(Path::new(o).join("stats.json")).unwrap()).unwrap();
    let packets = stats["packets"].as_u64().unwrap();
    assert!(stats["detector"]["executed_packets"].as_u64().unwrap() <= packets);
    assert_eq!(stats["files"][0]["format"], "pcap");
}

#[test]
fn a_loaded_model_warms_up_before_it_alerts() {
    let Some((pcap, labels)) = reference() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("m");
    let m = model.to_str().unwrap();
    // The defaults train and calibrate on the capture's benign first 16 001 packets.
    let t = custos(&["train", "--detector", "kitsune", &pcap, "-o", m]);
    assert!(t.status.success(), "{}", stderr(&t));
    let run = |name: &str, warmup: &str| -> serde_json::Value {
        let out = tmp.path().join(name);
        let r = custos(&[
            "analyze",
            &pcap,
            "-o",
            out.to_str().unwrap(),
            "-q",
            "--model",
            m,
            "--allow-unsigned-model",
            "--warmup",
            warmup,
        ]);
        assert!(r.status.success(), "{}", stderr(&r));
        serde_json::from_slice(&std::fs::read(out.join("stats.json")).unwrap()).unwrap()
    };
    let cold = run("cold", "0");
    let warm = run("warm", "60");
    let never = run("never", "86400");
    assert_eq!(cold["detector"]["warmup_packets"], 0);
    let first_minute = warm["detector"]["warmup_packets"].as_u64().unwrap();
    assert!(first_minute > 0 && first_minute < labels.len() as u64);
    assert!(
        warm["detector"]["alerts"].as_u64().unwrap() > 0,
        "attacks come after the warm-up"
    );
    assert_eq!(
        never["detector"]["alerts"], 0,
        "no alert during the warm-up"
    );
    assert_eq!(
        never["detector"]["warmup_packets"],
        never["detector"]["executed_packets"]
    );
}

#[test]
fn help_names_every_output_and_only_what_each_command_writes() {
    let help = String::from_utf8(custos(&["analyze", "--help"]).stdout).unwrap();
    for name in [
        "conn.log",
        "flows.jsonl",
        "events.jsonl",
        "devices.json",
        "findings.jsonl",
        "scores.csv",
        "alerts.jsonl",
        "stats.json",
        "custos-run.json",
    ] {
        assert!(help.contains(name), "analyze --help omits {name}");
    }
    for cmd in ["train", "bench"] {
        let help = String::from_utf8(custos(&[cmd, "--help"]).stdout).unwrap();
        assert!(
            !help.contains("to run (writes scores.csv and alerts.jsonl)"),
            "{cmd} --help claims to write scores.csv"
        );
    }
}

#[test]
fn model_sign_wraps_a_single_model_file_into_a_signed_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let s = sample();
    let trained = tmp.path().join("t");
    let t = custos(
        &[
            &["train", &s, "-o", trained.to_str().unwrap()][..],
            &KITSUNE,
        ]
        .concat(),
    );
    assert!(t.status.success(), "{}", stderr(&t));
    // A model file as earlier versions wrote it, alone.
    let file = tmp.path().join("old.json");
    std::fs::copy(trained.join("kitsune-model.json"), &file).unwrap();
    let key = tmp.path().join("k");
    assert!(custos(&["keygen", "--model", "-o", key.to_str().unwrap()])
        .status
        .success());
    let pem = tmp.path().join("k.pem");
    let r = custos(&[
        "model",
        "sign",
        file.to_str().unwrap(),
        "--key",
        pem.to_str().unwrap(),
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    let dir = tmp.path().join("old");
    assert!(dir.join("kitsune-model.json").is_file() && dir.join("model.sig").is_file());
    let pub_key = tmp.path().join("k.pub");
    let v = custos(&[
        "model",
        "verify",
        dir.to_str().unwrap(),
        "--trust",
        pub_key.to_str().unwrap(),
    ]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    // What is not a model is refused before anything is made.
    let junk = tmp.path().join("junk.json");
    std::fs::write(&junk, "{}").unwrap();
    let r = custos(&[
        "model",
        "sign",
        junk.to_str().unwrap(),
        "--key",
        pem.to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(!tmp.path().join("junk").exists());
}
