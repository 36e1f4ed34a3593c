//! The engine through the command line: `--config` files (unknown keys named with their line,
//! options overriding the file), `--threads`, `--compress zstd`, `--events summary|none`,
//! and file options that take one file each.

mod common;

use common::custos;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/iot-small.pcap")
}

fn analyze(out: &Path, extra: &[&str]) -> std::process::Output {
    let sample = sample();
    let mut args: Vec<&OsStr> = vec![OsStr::new("analyze"), sample.as_os_str()];
    args.extend([OsStr::new("-o"), out.as_os_str(), OsStr::new("--quiet")]);
    args.extend(extra.iter().map(OsStr::new));
    custos(&args)
}

fn ok(r: &std::process::Output) {
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn config_file_with_an_unknown_key_is_refused_naming_key_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("custos.toml");
    std::fs::write(
        &cfg,
        "threads = 1\n\n[flow]\nmax_flows = 10\nmax_flowz = 3\n",
    )
    .unwrap();
    let r = analyze(
        &dir.path().join("out"),
        &["--config", cfg.to_str().unwrap()],
    );
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("max_flowz"), "{err}");
    assert!(err.contains("line 5"), "{err}");
    assert!(err.contains("custos.toml"), "{err}");
    assert!(
        !dir.path().join("out").exists(),
        "nothing written before the config is valid"
    );
}

#[test]
fn command_line_options_override_the_config_file() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("custos.toml");
    std::fs::write(
        &cfg,
        "[output]\nevents = \"none\"\n[flow]\nmax_flows = 2\n[app.findings]\nbrute_force_failures = 3\n",
    )
    .unwrap();
    let from_file = dir.path().join("a");
    ok(&analyze(&from_file, &["--config", cfg.to_str().unwrap()]));
    assert!(
        !from_file.join("events.jsonl").exists(),
        "events = none from the file"
    );
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(from_file.join("stats.json")).unwrap())
            .unwrap();
    assert!(stats["flows"]["peak_concurrent"].as_u64().unwrap() <= 2);
    let overridden = dir.path().join("b");
    ok(&analyze(
        &overridden,
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--events",
            "all",
            "--max-flows",
            "1000",
        ],
    ));
    assert!(
        overridden.join("events.jsonl").exists(),
        "--events all wins"
    );
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(overridden.join("stats.json")).unwrap())
            .unwrap();
    assert_eq!(stats["flows"]["evicted"], 0, "--max-flows wins");
}

#[test]
fn outputs_are_the_same_at_one_and_two_threads_with_kitsune() {
    let dir = tempfile::tempdir().unwrap();
    let k = [
        "--detector",
        "kitsune",
        "--fm-grace",
        "20",
        "--ad-grace",
        "60",
        "--calibration",
        "40",
    ];
    let (a, b) = (dir.path().join("t1"), dir.path().join("t2"));
    ok(&analyze(&a, &[&["--threads", "1"][..], &k].concat()));
    ok(&analyze(&b, &[&["--threads", "2"][..], &k].concat()));
    for e in std::fs::read_dir(&a).unwrap() {
        let name = e.unwrap().file_name();
        let (x, y) = (
            std::fs::read(a.join(&name)).unwrap(),
            std::fs::read(b.join(&name)).unwrap(),
        );
        if name == "stats.json" {
            let strip = |s: &[u8]| {
                let mut v: serde_json::Value = serde_json::from_slice(s).unwrap();
                v.as_object_mut().unwrap().remove("run");
                v
            };
            assert_eq!(strip(&x), strip(&y));
        } else {
            assert!(x == y, "{name:?} differs");
        }
    }
}

#[test]
fn zstd_outputs_hold_the_plain_outputs() {
    let dir = tempfile::tempdir().unwrap();
    let (plain, packed) = (dir.path().join("p"), dir.path().join("z"));
    ok(&analyze(&plain, &[]));
    ok(&analyze(&packed, &["--compress", "zstd"]));
    for name in [
        "conn.log",
        "flows.jsonl",
        "events.jsonl",
        "devices.json",
        "findings.jsonl",
    ] {
        let z = std::fs::read(packed.join(format!("{name}.zst"))).unwrap();
        assert!(!packed.join(name).exists());
        let mut unpacked = Vec::new();
        zstd_decode(&z, &mut unpacked);
        assert_eq!(unpacked, std::fs::read(plain.join(name)).unwrap(), "{name}");
    }
    assert!(packed.join("stats.json").exists(), "stats.json stays plain");
}

/// Decodes with the `zstd` tool when present (what users run), else skips the byte check.
fn zstd_decode(z: &[u8], out: &mut Vec<u8>) {
    use std::io::Write;
    let mut child = std::process::Command::new("zstd")
        .args(["-d", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("zstd (Debian package zstd) decodes the outputs");
    child.stdin.take().unwrap().write_all(z).unwrap();
    let r = child.wait_with_output().unwrap();
    assert!(r.status.success());
    *out = r.stdout;
}

#[test]
fn event_summary_keeps_every_other_event_and_counts_the_routine_ones() {
    let dir = tempfile::tempdir().unwrap();
    let (all, summary) = (dir.path().join("all"), dir.path().join("summary"));
    ok(&analyze(&all, &[]));
    ok(&analyze(&summary, &["--events", "summary"]));
    let every = lines(&all.join("events.jsonl"));
    let kept = lines(&summary.join("events.jsonl"));
    let mut counted = 0u64;
    let mut written = 0u64;
    let set: std::collections::HashSet<&String> = every.iter().collect();
    for l in &kept {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        if v["event_type"] == "app_summary" {
            let n = v["app_summary"]["events"].as_u64().unwrap();
            let sum: u64 = v["app_summary"]["counts"]
                .as_object()
                .unwrap()
                .values()
                .map(|c| c.as_u64().unwrap())
                .sum();
            assert_eq!(n, sum);
            assert!(
                v["custos"]["first_packet"].as_u64().unwrap()
                    <= v["custos"]["packet"].as_u64().unwrap()
            );
            counted += n;
        } else {
            assert!(
                set.contains(l),
                "a kept event is the same line as in the full file: {l}"
            );
            assert!(
                !(v["event_type"] == "mqtt" && v["mqtt"]["header"]["packet_type"] == "publish")
            );
            written += 1;
        }
    }
    assert!(counted > 0, "the sample's MQTT publishes are summarised");
    assert_eq!(
        written + counted,
        every.len() as u64,
        "every event written or counted"
    );
    // Findings and the inventory see every event whatever the level.
    for name in ["findings.jsonl", "devices.json"] {
        assert_eq!(
            std::fs::read(all.join(name)).unwrap(),
            std::fs::read(summary.join(name)).unwrap()
        );
    }
}

#[test]
fn model_takes_one_file_per_option() {
    let dir = tempfile::tempdir().unwrap();
    let r = analyze(
        &dir.path().join("o"),
        &["--model", "a.json", "--model", "b.json"],
    );
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("--model"));
}
