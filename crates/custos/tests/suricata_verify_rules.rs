//! The suricata-verify harness for signatures: every case of
//! `../shared/corpus/suricata-verify/tests/` with a `test.rules` is run through
//! `custos analyze --rules`, and each `event_type: alert` check of its `test.yaml` (the count
//! of alerts with the fields it names) is compared with custos's `alerts.jsonl`.
//!
//! It honours each case's `pcap:`, `args` (`-k none` → `--checksums ignore`; custos always
//! parses midstream, so `--set stream.midstream=true` needs nothing) and `requires`
//! (`min-version` above the Suricata version whose rule language custos follows, 8, skips the
//! case; as do feature requirements). It prints checks passed and failed and rules loaded
//! and skipped per case, and asserts the targets of docs/rules.md: at least 60 % of the
//! cases' rules load, and at least 95 % of the alert checks pass on the cases whose rules all
//! load. Every failure's cause is listed in docs/rules.md. With `CUSTOS_SV_TESTS=DIR` it
//! measures another checkout's `tests/` instead and asserts nothing.

mod common;

use common::{custos, shared};
use serde_json::Value;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// One check of `test.yaml` on alerts.
struct AlertCheck {
    count: Option<u64>,
    min_count: Option<u64>,
    fields: Vec<(String, Value)>,
}

struct Case {
    name: String,
    pcap: PathBuf,
    rules: PathBuf,
    vars: Option<PathBuf>,
    ignore_checksums: bool,
    checks: Vec<AlertCheck>,
}

/// Why a case is not run.
enum NotRun {
    Requires(String),
    NoCapture,
}

fn load_case(dir: &Path) -> Result<Case, NotRun> {
    let text = std::fs::read_to_string(dir.join("test.yaml")).unwrap_or_default();
    let yaml: serde_yaml::Value = serde_yaml::from_str(&text).unwrap_or(serde_yaml::Value::Null);
    let yaml: Value = serde_json::to_value(yaml).unwrap_or(Value::Null);
    if let Some(req) = yaml.get("requires") {
        if let Some(v) = req.get("min-version") {
            let major = match v {
                Value::Number(n) => n.as_f64().unwrap_or(0.0) as u64,
                Value::String(s) => s
                    .split('.')
                    .next()
                    .and_then(|m| m.parse().ok())
                    .unwrap_or(0),
                _ => 0,
            };
            if major > 8 {
                return Err(NotRun::Requires(format!("min-version {v}")));
            }
        }
        if let Some(f) = req.get("features") {
            return Err(NotRun::Requires(format!("features {f}")));
        }
    }
    let pcap = match yaml.get("pcap") {
        Some(Value::String(p)) => Some(dir.join(p.trim())),
        _ => std::fs::read_dir(dir)
            .ok()
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .find(|p| p.extension().is_some_and(|x| x == "pcap" || x == "pcapng")),
    };
    let pcap = pcap.filter(|p| p.exists()).ok_or(NotRun::NoCapture)?;
    let args: Vec<String> = yaml
        .get("args")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut checks = Vec::new();
    for check in yaml
        .get("checks")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let Some(filter) = check.get("filter") else {
            continue;
        };
        let Some(m) = filter.get("match").and_then(Value::as_object) else {
            continue;
        };
        if m.get("event_type").and_then(Value::as_str) != Some("alert") {
            continue;
        }
        checks.push(AlertCheck {
            count: filter.get("count").and_then(Value::as_u64),
            min_count: filter.get("min-count").and_then(Value::as_u64),
            fields: m
                .iter()
                .filter(|(k, _)| *k != "event_type")
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        });
    }
    let vars = dir.join("suricata.yaml");
    Ok(Case {
        name: dir.file_name().unwrap().to_string_lossy().into_owned(),
        pcap,
        rules: dir.join("test.rules"),
        vars: vars.exists().then_some(vars),
        ignore_checksums: args.iter().any(|a| a.trim() == "-k none"),
        checks,
    })
}

/// A dotted EVE path (`alert.signature_id`) in an alert.
fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    if let Some(x) = v.get(path) {
        return Some(x);
    }
    let (head, rest) = path.split_once('.')?;
    lookup(v.get(head)?, rest)
}

/// YAML values compare with EVE's as Suricata-verify compares them: numbers and their text
/// are equal.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::String(y)) | (Value::String(y), Value::Number(x)) => {
            x.to_string() == *y
        }
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

struct Outcome {
    loaded: u64,
    not_loaded: u64,
    passed: usize,
    failed: Vec<String>,
}

fn run_case(case: &Case) -> Outcome {
    let out = tempfile::tempdir().unwrap();
    let mut args: Vec<OsString> = vec![
        "analyze".into(),
        case.pcap.clone().into(),
        "-o".into(),
        out.path().into(),
        "--quiet".into(),
        "--rules".into(),
        case.rules.clone().into(),
    ];
    if let Some(v) = &case.vars {
        args.push("--rules-vars".into());
        args.push(v.clone().into());
    }
    if case.ignore_checksums {
        args.push("--checksums".into());
        args.push("ignore".into());
    }
    let refs: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let r = custos(&refs);
    let rule_lines = std::fs::read_to_string(&case.rules)
        .unwrap_or_default()
        .lines()
        .filter(|l| {
            let t = l.trim();
            !t.is_empty() && !t.starts_with('#')
        })
        .count() as u64;
    let stats: Value = std::fs::read_to_string(out.path().join("stats.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null);
    let det = stats
        .get("detector")
        .filter(|d| d.get("loaded").is_some())
        .or_else(|| stats.pointer("/detectors/rules"));
    let loaded = det
        .and_then(|d| d.get("loaded"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if !r.status.success() {
        // No rule loaded (or another refusal): every check on alerts fails.
        let why = String::from_utf8_lossy(&r.stderr)
            .lines()
            .last()
            .unwrap_or("")
            .to_string();
        return Outcome {
            loaded,
            not_loaded: rule_lines.saturating_sub(loaded),
            passed: 0,
            failed: case
                .checks
                .iter()
                .map(|_| format!("not run: {why}"))
                .collect(),
        };
    }
    let alerts: Vec<Value> = std::fs::read_to_string(out.path().join("alerts.jsonl"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let mut passed = 0;
    let mut failed = Vec::new();
    for c in &case.checks {
        let n = alerts
            .iter()
            .filter(|a| {
                c.fields
                    .iter()
                    .all(|(k, v)| lookup(a, k).is_some_and(|x| same(x, v)))
            })
            .count() as u64;
        let ok = c.count.is_none_or(|want| n == want) && c.min_count.is_none_or(|m| n >= m);
        if ok {
            passed += 1;
        } else {
            let fields: Vec<String> = c.fields.iter().map(|(k, v)| format!("{k}={v}")).collect();
            failed.push(format!(
                "{}: want {} got {n}",
                fields.join(" "),
                c.count
                    .map(|w| w.to_string())
                    .or(c.min_count.map(|m| format!(">= {m}")))
                    .unwrap_or_default()
            ));
        }
    }
    Outcome {
        loaded,
        not_loaded: rule_lines.saturating_sub(loaded),
        passed,
        failed,
    }
}

/// The environment variable naming another suricata-verify `tests/` directory (a checkout
/// of its master branch, say) to measure on: the harness then prints its tables without
/// asserting the corpus's targets (docs/rules.md, "Beyond the corpus").
const OTHER_TESTS: &str = "CUSTOS_SV_TESTS";

#[test]
fn suricata_verify_alert_checks() {
    let other = std::env::var_os(OTHER_TESTS).map(PathBuf::from);
    let root = match (&other, shared()) {
        (Some(dir), _) => dir.clone(),
        (None, Some(shared)) => shared.join("corpus/suricata-verify/tests"),
        (None, None) => return,
    };
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|d| d.join("test.rules").exists())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty(), "no suricata-verify case with rules");
    let (mut loaded, mut not_loaded) = (0u64, 0u64);
    let (mut full_passed, mut full_failed) = (0usize, 0usize);
    let (mut part_passed, mut part_failed) = (0usize, 0usize);
    println!(
        "{:<34} {:>6} {:>8} {:>7} {:>7}",
        "case", "loaded", "skipped", "passed", "failed"
    );
    for dir in &dirs {
        let case = match load_case(dir) {
            Ok(c) => c,
            Err(NotRun::Requires(why)) => {
                println!(
                    "{:<34} not run: requires {why}",
                    dir.file_name().unwrap().to_string_lossy()
                );
                continue;
            }
            Err(NotRun::NoCapture) => {
                println!(
                    "{:<34} not run: capture missing",
                    dir.file_name().unwrap().to_string_lossy()
                );
                continue;
            }
        };
        let o = run_case(&case);
        loaded += o.loaded;
        not_loaded += o.not_loaded;
        if o.not_loaded == 0 {
            full_passed += o.passed;
            full_failed += o.failed.len();
        } else {
            part_passed += o.passed;
            part_failed += o.failed.len();
        }
        println!(
            "{:<34} {:>6} {:>8} {:>7} {:>7}",
            case.name,
            o.loaded,
            o.not_loaded,
            o.passed,
            o.failed.len()
        );
        let mut shown: Vec<&String> = o.failed.iter().collect();
        shown.dedup();
        for f in shown {
            println!("    FAIL {f}");
        }
    }
    let load_ratio = loaded as f64 / (loaded + not_loaded).max(1) as f64;
    let pass_ratio = full_passed as f64 / (full_passed + full_failed).max(1) as f64;
    println!(
        "rules loaded {loaded} of {} ({:.1} %); alert checks on fully loaded cases: {full_passed} \
         passed, {full_failed} failed ({:.1} %); on partly loaded cases: {part_passed} passed, \
         {part_failed} failed",
        loaded + not_loaded,
        100.0 * load_ratio,
        100.0 * pass_ratio
    );
    if other.is_some() {
        return;
    }
    assert!(
        load_ratio >= 0.60,
        "only {:.1} % of the rules load",
        100.0 * load_ratio
    );
    assert!(
        pass_ratio >= 0.95,
        "only {:.1} % of the alert checks pass on fully loaded cases",
        100.0 * pass_ratio
    );
}

#[test]
fn lookup_reads_dotted_paths() {
    let a: Value = serde_json::json!({"alert": {"signature_id": 3}, "mqtt.x": 1});
    assert_eq!(lookup(&a, "alert.signature_id"), Some(&Value::from(3)));
    assert_eq!(lookup(&a, "mqtt.x"), Some(&Value::from(1)));
    assert!(lookup(&a, "alert.nope").is_none());
    assert!(same(&Value::from(3), &Value::from("3")));
}
