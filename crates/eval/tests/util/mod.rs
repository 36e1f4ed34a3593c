//! Shared by the integration tests: a hand-made run folder and the scikit-learn oracle.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Deterministic pseudo-random numbers (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Whether python3 with scikit-learn runs here; when not, reports a skip (or fails under
/// `CUSTOS_REQUIRE_SKLEARN=1`).
pub fn sklearn_available() -> bool {
    let out = Command::new("python3")
        .args(["-c", "import sklearn"])
        .output();
    let why = match out {
        Ok(o) if o.status.success() => return true,
        Ok(o) => String::from_utf8_lossy(&o.stderr).trim().to_string(),
        Err(e) => e.to_string(),
    };
    if std::env::var_os("CUSTOS_REQUIRE_SKLEARN").is_some_and(|v| v == "1") {
        panic!("scikit-learn unavailable and CUSTOS_REQUIRE_SKLEARN=1: {why}");
    }
    custos_test_support::skip(&format!(
        "python3 with scikit-learn unavailable ({why}); python3 -m pip install scikit-learn"
    ));
    false
}

/// scikit-learn's `(roc_auc_score, average_precision_score)` of each (scores, labels) set,
/// the scores passed as the f64 values of the f32s, in one python3 process; `None` when
/// scikit-learn is unavailable (see [`sklearn_available`]).
pub fn sklearn_many(sets: &[(&[f32], &[bool])]) -> Option<Vec<(f64, f64)>> {
    if !sklearn_available() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.csv");
    let mut text = String::new();
    for (k, (scores, labels)) in sets.iter().enumerate() {
        for (s, l) in scores.iter().zip(labels.iter()) {
            writeln!(text, "{k},{},{}", f64::from(*s), u8::from(*l)).unwrap();
        }
    }
    std::fs::write(&data, text).unwrap();
    let script = "import sys\n\
        from sklearn.metrics import roc_auc_score, average_precision_score\n\
        sets = {}\n\
        for line in open(sys.argv[1]):\n\
        \x20   k, a, b = line.split(',')\n\
        \x20   s, y = sets.setdefault(int(k), ([], []))\n\
        \x20   s.append(float(a)); y.append(int(b))\n\
        for k in sorted(sets):\n\
        \x20   s, y = sets[k]\n\
        \x20   print(repr(float(roc_auc_score(y, s))), repr(float(average_precision_score(y, s))))\n";
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scikit-learn failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let v: Vec<(f64, f64)> = text
        .lines()
        .map(|l| {
            let (a, b) = l.split_once(' ').unwrap();
            (a.parse().unwrap(), b.parse().unwrap())
        })
        .collect();
    assert_eq!(v.len(), sets.len());
    Some(v)
}

/// [`sklearn_many`] of one set.
pub fn sklearn(scores: &[f32], labels: &[bool]) -> Option<(f64, f64)> {
    sklearn_many(&[(scores, labels)]).map(|v| v[0])
}

/// Asserts `a` and `b` agree to 1e-12.
pub fn close(what: &str, ours: Option<f64>, theirs: f64) {
    let ours = ours.unwrap_or_else(|| panic!("{what}: no value"));
    assert!(
        (ours - theirs).abs() <= 1e-12,
        "{what}: ours {ours:.17} scikit-learn {theirs:.17}"
    );
}

/// Packet time of packet `i` of the tiny runs: one per second from a fixed epoch.
pub fn ts(i: u64) -> i64 {
    1_700_000_000_000_000_000 + i as i64 * 1_000_000_000
}

/// One packet of a hand-made run.
#[derive(Clone, Debug)]
pub struct Pkt {
    /// Scores, one per detector column.
    pub scores: Vec<f32>,
    /// Attack phase (`None` benign).
    pub phase: Option<String>,
}

/// A hand-made run folder: one input per `inputs` entry.
pub struct FakeRun {
    pub dir: tempfile::TempDir,
    pub labels: Vec<PathBuf>,
}

impl FakeRun {
    /// Writes `stats.json`, `scores.csv` and labels for `inputs` (packets per input),
    /// columns named `columns`, detector `thresholds` in `stats.json` (`detectors` map when
    /// there are several, `detector` when one).
    pub fn new(inputs: &[Vec<Pkt>], columns: &[&str], thresholds: &[(&str, f64)]) -> FakeRun {
        let dir = tempfile::tempdir().unwrap();
        let mut files = Vec::new();
        let mut scores = format!("index,ts,{}\n", columns.join(","));
        let mut labels = Vec::new();
        let mut run_index = 0u64;
        for (k, pkts) in inputs.iter().enumerate() {
            files.push(serde_json::json!({
                "path": format!("input{k}.pcap"), "format": "pcap",
                "packets": pkts.len(), "bytes": 0, "error": null
            }));
            let mut l = String::from("index,label,phase,attacker,time\n");
            for (i, p) in pkts.iter().enumerate() {
                let t = ts(run_index);
                let secs = format!("{}.{:09}", t / 1_000_000_000, t % 1_000_000_000);
                let cols: Vec<String> =
                    p.scores.iter().map(|s| f64::from(*s).to_string()).collect();
                writeln!(scores, "{run_index},{secs},{}", cols.join(",")).unwrap();
                let (label, phase) = match &p.phase {
                    Some(ph) => (1, ph.as_str()),
                    None => (0, "benign"),
                };
                writeln!(l, "{i},{label},{phase},,{secs}").unwrap();
                run_index += 1;
            }
            let path = dir.path().join(format!("labels{k}.csv"));
            std::fs::write(&path, l).unwrap();
            labels.push(path);
        }
        let det = |name: &str, t: f64| serde_json::json!({"name": name, "threshold": {"value": t}, "trained_packets": 0});
        let mut stats = serde_json::json!({"packets": run_index, "files": files});
        if let [(name, t)] = thresholds {
            stats["detector"] = det(name, *t);
        } else {
            for (name, t) in thresholds {
                stats["detectors"][*name] = det(name, *t);
            }
        }
        std::fs::write(dir.path().join("stats.json"), stats.to_string()).unwrap();
        std::fs::write(dir.path().join("scores.csv"), scores).unwrap();
        FakeRun { dir, labels }
    }

    /// `custos_eval::evaluate` of this run with its labels and every other setting at its
    /// default.
    pub fn evaluate(&self) -> custos_eval::Evaluation {
        custos_eval::evaluate(&custos_eval::EvalConfig {
            run_dir: self.path().to_path_buf(),
            labels: self.labels.clone(),
            ..custos_eval::EvalConfig::default()
        })
        .unwrap()
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `alerts.jsonl`: (detector, input, packet within input, score, Community ID).
    pub fn alerts(&self, alerts: &[(&str, usize, u64, f64, Option<&str>)], offsets: &[u64]) {
        let mut text = String::new();
        for &(det, file, packet, score, cid) in alerts {
            let a = alert(det, file, packet, offsets[file] + packet, score, cid);
            writeln!(text, "{a}").unwrap();
        }
        std::fs::write(self.path().join("alerts.jsonl"), text).unwrap();
    }

    /// Writes `flows.jsonl`: (input, first, last packet within input, Community ID).
    pub fn flows(&self, flows: &[(usize, u64, u64, &str)]) {
        let mut text = String::new();
        for &(file, first, last, cid) in flows {
            let v = serde_json::json!({
                "event_type": "flow", "community_id": cid,
                "custos": {"pcap_file": format!("input{file}.pcap"), "first_pkt": first, "last_pkt": last}
            });
            writeln!(text, "{v}").unwrap();
        }
        std::fs::write(self.path().join("flows.jsonl"), text).unwrap();
    }
}

/// An EVE alert of `det` on packet `packet` of input `file` (run index `run_index`), as the
/// engine writes it.
pub fn alert(
    det: &str,
    file: usize,
    packet: u64,
    run_index: u64,
    score: f64,
    cid: Option<&str>,
) -> serde_json::Value {
    let mut a = serde_json::json!({
        "timestamp": custos_output::time::eve_time(ts(run_index)),
        "event_type": "alert",
        "alert": {
            "action": "allowed", "gid": 1, "signature_id": 9_000_001, "rev": 1,
            "signature": "test", "category": "test", "severity": 2
        },
        "custos": {
            "detector": det, "pcap_file": format!("input{file}.pcap"), "packet": packet,
            "score": score, "threshold": 0.5, "model_sha256": null
        }
    });
    if let Some(cid) = cid {
        a["community_id"] = cid.into();
    }
    a
}

/// Every file of `dir` with its bytes, by name.
pub fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            (
                p.file_name().unwrap().to_string_lossy().to_string(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}
