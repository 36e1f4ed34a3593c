//! `custos share` on analyses of corpus captures nobody here wrote (shared corpus; skipped when
//! absent): every export, plain and pseudonymised, passes the ecosystem's own validators —
//! stix2-validator (strict), PyMISP, and the OCSF 1.5.0 JSON Schemas.

mod common;

use common::{custos, shared};
use std::ffi::OsStr;
use std::path::Path;
use std::process::Command;

const STIX: &str = include_str!("../../share/tests/data/validate_stix.py");
const MISP: &str = include_str!("../../share/tests/data/load_misp.py");
const OCSF: &str = include_str!("../../share/tests/data/validate_ocsf.py");

/// Captures with application findings (FTP brute force, cleartext telnet and HTTP basic
/// authentication, a GTP tunnel).
const CAPTURES: [&str; 4] = [
    "zeek/traces/ftp/bruteforce.pcap",
    "suricata-verify/tests/telnet/telnet-01/telnet.pcap",
    "zeek/traces/http/basic-auth-with-extra-space.pcap",
    "zeek/traces/tunnels/gtp/gtp6_gtp_0x32.pcap",
];

/// Whether the validators import; otherwise the test skips (CI requires them).
fn have_validators() -> bool {
    let ok = Command::new("python3")
        .args([
            "-c",
            "import stix2validator, pymisp, ocsf_json_schema, jsonschema",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        let why = "python3 modules stix2validator, pymisp, ocsf_json_schema, jsonschema missing";
        if std::env::var_os("CUSTOS_REQUIRE_SHARE_VALIDATORS").is_some_and(|v| v == "1") {
            panic!("{why} and CUSTOS_REQUIRE_SHARE_VALIDATORS=1");
        }
        custos_test_support::skip(why);
    }
    ok
}

fn run(args: &[&OsStr]) {
    let o = custos(args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn validate(script: &str, file: &Path) {
    let o = Command::new("python3")
        .args(["-c", script])
        .arg(file)
        .output()
        .expect("run python3");
    assert!(
        o.status.success(),
        "{} fails its validator:\n{}{}",
        file.display(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn exports_of_corpus_analyses_pass_their_validators() {
    let Some(shared) = shared() else { return };
    if !have_validators() {
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let key = d.path().join("k");
    run(&[
        OsStr::new("keygen"),
        OsStr::new("--pseudonym"),
        OsStr::new("-o"),
        key.as_os_str(),
    ]);
    let key = d.path().join("k.pkey");
    let (mut alerts, mut findings) = (0, 0);
    for (i, rel) in CAPTURES.iter().enumerate() {
        let pcap = shared.join("corpus").join(rel);
        if !pcap.exists() {
            custos_test_support::skip(&format!("{} is not in the corpus", pcap.display()));
            continue;
        }
        let out = d.path().join(format!("run{i}"));
        // Short training so that these small captures also give alerts.
        let args: Vec<&OsStr> = [
            "analyze",
            "--detector",
            "kitsune",
            "--fm-grace",
            "10",
            "--ad-grace",
            "50",
            "--calibration",
            "50",
            "--fpr",
            "0.05",
            "-o",
        ]
        .iter()
        .map(OsStr::new)
        .chain([out.as_os_str(), pcap.as_os_str()])
        .collect();
        run(&args);
        let count = |f: &str| {
            std::fs::read_to_string(out.join(f))
                .map(|t| t.lines().count())
                .unwrap_or(0)
        };
        alerts += count("alerts.jsonl");
        findings += count("findings.jsonl");
        for (format, script) in [("stix", STIX), ("misp", MISP), ("ocsf", OCSF)] {
            for pseudo in [false, true] {
                let file = d.path().join(format!("run{i}-{format}-{pseudo}"));
                let mut args: Vec<&OsStr> = vec![
                    OsStr::new("share"),
                    out.as_os_str(),
                    OsStr::new("--format"),
                    OsStr::new(format),
                    OsStr::new("-o"),
                    file.as_os_str(),
                ];
                if pseudo {
                    args.extend([OsStr::new("--pseudonymize"), key.as_os_str()]);
                }
                run(&args);
                validate(script, &file);
            }
        }
    }
    assert!(
        alerts > 0 && findings > 0,
        "{alerts} alerts, {findings} findings"
    );
}
