//! `custos keygen --pseudonym` and `custos pseudonymize` end to end: the reference Crypto-PAn
//! vectors through `--key-hex`, and a key file that is private and never overwritten.

use std::process::{Command, Output};

fn custos(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(args)
        .output()
        .expect("run custos")
}

/// The vectors' key, 32 bytes given in decimal in their README.
const KEY: [u8; 32] = [
    21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16, 216, 152, 143, 131, 121,
    121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2,
];

#[test]
fn pseudonymize_matches_the_crypto_pan_trace() {
    let Some(shared) = custos_test_support::shared() else {
        return;
    };
    let dir = shared.join("vectors/cryptopan");
    let column = |f: &str| -> Vec<String> {
        std::fs::read_to_string(dir.join(f))
            .unwrap()
            .lines()
            .map(|l| l.split('\t').nth(2).unwrap().to_string())
            .collect()
    };
    let (raw, sanitized) = (
        column("sample_trace_raw.dat"),
        column("sample_trace_sanitized.dat"),
    );
    let hex: String = KEY.iter().map(|b| format!("{b:02x}")).collect();
    let mut args = vec!["pseudonymize", "--key-hex", &hex, "--kind", "ip"];
    args.extend(raw.iter().map(String::as_str));
    let o = custos(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), raw.len());
    for ((line, r), s) in lines.iter().zip(&raw).zip(&sanitized) {
        assert_eq!(*line, format!("{r}\t{s}"));
    }
    let o = custos(&["pseudonymize", "--key-hex", &hex, "2001:db8::1"]);
    assert_eq!(
        String::from_utf8(o.stdout).unwrap(),
        "2001:db8::1\t4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e\n"
    );
}

#[test]
fn pseudonym_keys_are_private_and_never_overwritten() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let prefix = tmp.path().join("share");
    let p = prefix.to_str().unwrap();
    assert!(custos(&["keygen", "--pseudonym", "-o", p]).status.success());
    let file = tmp.path().join("share.pkey");
    let mode = std::fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let again = custos(&["keygen", "--pseudonym", "-o", p]);
    assert_eq!(again.status.code(), Some(2));
    // The same key gives the same pseudonyms; names and MACs too.
    let k = file.to_str().unwrap();
    let run = || {
        custos(&[
            "pseudonymize",
            "--pseudonym-key",
            k,
            "10.0.0.1",
            "02:00:00:00:00:01",
            "cam-1",
        ])
        .stdout
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    let text = String::from_utf8(a).unwrap();
    assert_eq!(text.lines().count(), 3);
    assert!(!text
        .lines()
        .any(|l| l.split('\t').nth(1) == l.split('\t').next()));
}

#[test]
fn share_exports_hide_addresses_when_pseudonymised() {
    let Some(shared) = custos_test_support::shared() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let pcap = shared.join("reference/kitsune/iotlab-dev.pcap");
    let o = custos(&[
        "analyze",
        pcap.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
        "--detector",
        "kitsune",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let key = tmp.path().join("k");
    assert!(
        custos(&["keygen", "--pseudonym", "-o", key.to_str().unwrap()])
            .status
            .success()
    );
    let k = tmp.path().join("k.pkey");
    for format in ["stix", "misp", "ocsf"] {
        let plain = tmp.path().join(format!("{format}.json"));
        let hidden = tmp.path().join(format!("{format}-p.json"));
        let run = |file: &std::path::Path, extra: &[&str]| {
            let mut args = vec![
                "share",
                out.to_str().unwrap(),
                "--format",
                format,
                "-o",
                file.to_str().unwrap(),
            ];
            args.extend_from_slice(extra);
            let o = custos(&args);
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            std::fs::read_to_string(file).unwrap()
        };
        assert!(
            run(&plain, &[]).contains("198.18.0.66"),
            "{format}: the attacker is shared"
        );
        let p = run(&hidden, &["--pseudonymize", k.to_str().unwrap()]);
        assert!(
            !p.contains("198.18.0.66") && !p.contains("198.18.0.1\""),
            "{format}: an address leaked"
        );
        let again = custos(&[
            "share",
            out.to_str().unwrap(),
            "--format",
            format,
            "-o",
            plain.to_str().unwrap(),
        ]);
        assert_eq!(
            again.status.code(),
            Some(2),
            "an existing file is not overwritten"
        );
    }
}

/// conn.log rows of an `analyze` run in `out`, split into columns.
fn conn_rows(out: &std::path::Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(out.join("conn.log"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

#[test]
fn anonymize_rewrites_a_capture_that_gives_the_same_flows() {
    let d = tempfile::tempdir().unwrap();
    let p = |name: &str| d.path().join(name).display().to_string();
    let sample = custos_test_support::sample("iot-small.pcap");
    let sample = sample.to_str().unwrap();
    let o = custos(&["keygen", "--pseudonym", "-o", &p("share")]);
    assert!(o.status.success());
    let o = custos(&[
        "anonymize",
        sample,
        "-o",
        &p("shared.pcap"),
        "--pseudonym-key",
        &p("share.pkey"),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("rewritten"));
    // Never overwritten without --force; a bad --payload is refused.
    let again = |extra: &[&str]| {
        let (out, key) = (p("shared.pcap"), p("share.pkey"));
        let mut a = vec!["anonymize", sample, "-o", &out, "--pseudonym-key", &key];
        a.extend(extra);
        custos(&a)
    };
    assert!(!again(&[]).status.success());
    assert!(again(&["--force"]).status.success());
    assert!(!again(&["--force", "--payload", "truncate:x"])
        .status
        .success());
    // Same flows, other addresses.
    for (cap, out) in [(sample.to_string(), p("a")), (p("shared.pcap"), p("b"))] {
        let o = custos(&["analyze", &cap, "-o", &out]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let (a, b) = (
        conn_rows(&d.path().join("a")),
        conn_rows(&d.path().join("b")),
    );
    assert_eq!(a.len(), b.len());
    assert!(!a.is_empty());
    let originals: std::collections::BTreeSet<&String> =
        a.iter().flat_map(|r| [&r[2], &r[4]]).collect();
    let conn_b = std::fs::read_to_string(d.path().join("b/conn.log")).unwrap();
    for row in &b {
        for addr in [&row[2], &row[4]] {
            let special = addr.starts_with("ff")
                || addr.starts_with("224.")
                || addr == "255.255.255.255"
                || addr == "0.0.0.0"
                || addr == "::";
            assert!(special || !originals.contains(addr), "{addr} kept");
        }
    }
    // Ports, protocol, service, duration, state, history, packet and byte counts per flow
    // are the original's, rows in the same order (uid, Community ID, local_orig/resp and
    // pcap_file follow the addresses or the file name).
    let same = [
        0, 3, 5, 6, 7, 8, 9, 10, 11, 14, 15, 16, 17, 18, 19, 21, 24, 25,
    ];
    for (x, y) in a.iter().zip(&b) {
        for &i in &same {
            assert_eq!(x.get(i), y.get(i), "column {i}\n{x:?}\n{y:?}");
        }
    }
    assert!(!conn_b.is_empty());
}
