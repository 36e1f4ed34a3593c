//! `custos analyze` end to end on the committed sample: outputs, determinism, several inputs as
//! one stream, standard input, damaged input (exit 3, position named, earlier packets kept),
//! and usage errors (exit 2).

mod common;

use common::{custos, ZeekLog};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/iot-small.pcap")
}

fn analyze(inputs: &[&Path], out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args: Vec<&OsStr> = vec![OsStr::new("analyze")];
    args.extend(inputs.iter().map(|p| p.as_os_str()));
    args.extend([OsStr::new("-o"), out.as_os_str(), OsStr::new("--quiet")]);
    args.extend(extra.iter().map(OsStr::new));
    custos(&args)
}

fn without_run(stats: &str) -> String {
    let mut v: serde_json::Value = serde_json::from_str(stats).unwrap();
    v.as_object_mut().unwrap().remove("run");
    v.to_string()
}

#[test]
fn writes_conn_log_eve_flows_and_stats() {
    let out = tempfile::tempdir().unwrap();
    let r = analyze(&[&sample()], out.path(), &[]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let conn = std::fs::read_to_string(out.path().join("conn.log")).unwrap();
    assert!(conn.starts_with("#separator \\x09\n#set_separator\t,\n"));
    assert!(
        conn.contains("#open\t2026-11-26-00-00-00\n"),
        "open time is the first packet's"
    );
    assert!(conn
        .trim_end()
        .lines()
        .last()
        .unwrap()
        .starts_with("#close\t2026-11-26-"));
    let log = ZeekLog::parse(&conn);
    assert_eq!(&log.fields[..22], &custos_output_fields()[..22]);
    assert_eq!(log.fields[22], "community_id");
    assert_eq!(log.rows.len(), 24);
    let state = log.col("conn_state").unwrap();
    let hist = log.col("history").unwrap();
    let resp_p = log.col("id.resp_p").unwrap();
    let telnet_login = log
        .rows
        .iter()
        .find(|r| r[resp_p] == "23" && r[hist] == "ShAdDFf")
        .expect("telnet login flow");
    assert_eq!(telnet_login[state], "SF");
    assert_eq!(
        log.rows.iter().filter(|r| r[state] == "REJ").count(),
        7,
        "closed ports of the SYN scan"
    );
    let eve = std::fs::read_to_string(out.path().join("flows.jsonl")).unwrap();
    assert_eq!(eve.lines().count(), 24);
    for line in eve.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["event_type"], "flow");
        assert!(v["community_id"].as_str().unwrap().starts_with("1:"));
        assert!(v["flow"]["pkts_toserver"].as_u64().is_some());
        assert!(v["custos"]["first_pkt"].as_u64().is_some());
    }
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("stats.json")).unwrap())
            .unwrap();
    assert_eq!(stats["packets"], 241);
    assert_eq!(stats["link_types"]["EN10MB"], 241);
    assert_eq!(stats["flows"]["created"], 24);
    assert!(stats["run"]["packets_per_second"].as_f64().unwrap() > 0.0);
}

fn custos_output_fields() -> Vec<&'static str> {
    vec![
        "ts",
        "uid",
        "id.orig_h",
        "id.orig_p",
        "id.resp_h",
        "id.resp_p",
        "proto",
        "service",
        "duration",
        "orig_bytes",
        "resp_bytes",
        "conn_state",
        "local_orig",
        "local_resp",
        "missed_bytes",
        "history",
        "orig_pkts",
        "orig_ip_bytes",
        "resp_pkts",
        "resp_ip_bytes",
        "tunnel_parents",
        "ip_proto",
    ]
}

#[test]
fn same_input_gives_byte_identical_output() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    assert!(analyze(&[&sample()], a.path(), &[]).status.success());
    assert!(analyze(&[&sample()], b.path(), &[]).status.success());
    for f in ["conn.log", "flows.jsonl", "events.jsonl"] {
        assert_eq!(
            std::fs::read(a.path().join(f)).unwrap(),
            std::fs::read(b.path().join(f)).unwrap(),
            "{f} differs between runs"
        );
    }
    let sa = std::fs::read_to_string(a.path().join("stats.json")).unwrap();
    let sb = std::fs::read_to_string(b.path().join("stats.json")).unwrap();
    assert_eq!(without_run(&sa), without_run(&sb));
}

#[test]
fn several_captures_are_one_stream_and_name_their_file() {
    // Split the sample in two files at a record boundary: flows spanning both must be whole.
    let bytes = std::fs::read(sample()).unwrap();
    let (header, mut at, mut cut) = (&bytes[..24], 24usize, 0usize);
    let mut n = 0;
    while at + 16 <= bytes.len() {
        if n == 120 {
            cut = at;
        }
        let len = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + len;
        n += 1;
    }
    let dir = tempfile::tempdir().unwrap();
    let (p1, p2) = (dir.path().join("part1.pcap"), dir.path().join("part2.pcap"));
    std::fs::write(&p1, &bytes[..cut]).unwrap();
    std::fs::write(&p2, [header, &bytes[cut..]].concat()).unwrap();
    let (whole, split) = (dir.path().join("whole"), dir.path().join("split"));
    assert!(analyze(&[&sample()], &whole, &[]).status.success());
    assert!(analyze(&[&p1, &p2], &split, &[]).status.success());
    let a = ZeekLog::parse(&std::fs::read_to_string(whole.join("conn.log")).unwrap());
    let b = ZeekLog::parse(&std::fs::read_to_string(split.join("conn.log")).unwrap());
    let keep = |l: &ZeekLog| -> Vec<Vec<String>> {
        let cols: Vec<usize> = [
            "id.orig_h",
            "id.orig_p",
            "id.resp_h",
            "id.resp_p",
            "history",
            "orig_pkts",
            "resp_pkts",
            "community_id",
        ]
        .iter()
        .map(|c| l.col(c).unwrap())
        .collect();
        l.rows
            .iter()
            .map(|r| cols.iter().map(|&c| r[c].clone()).collect())
            .collect()
    };
    assert_eq!(keep(&a), keep(&b));
    let file = b.col("pcap_file").unwrap();
    assert!(
        b.rows.iter().any(|r| r[file].ends_with("part2.pcap")),
        "flows starting in the second file name it"
    );
    let last = b.col("last_pkt").unwrap();
    assert!(b.rows.iter().all(|r| r[last].parse::<u64>().unwrap() < 241));
}

#[test]
fn reads_standard_input() {
    let out = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args([
            OsStr::new("analyze"),
            OsStr::new("-"),
            OsStr::new("-o"),
            out.path().as_os_str(),
            OsStr::new("--quiet"),
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&std::fs::read(sample()).unwrap())
        .unwrap();
    let r = child.wait_with_output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let log = ZeekLog::parse(&std::fs::read_to_string(out.path().join("conn.log")).unwrap());
    assert_eq!(log.rows.len(), 24);
}

#[test]
fn truncated_capture_is_partial_keeps_earlier_packets_and_names_the_position() {
    let bytes = std::fs::read(sample()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("cut.pcap");
    // Cut in the middle of a record near the end.
    std::fs::write(&cut, &bytes[..bytes.len() - 30]).unwrap();
    let out = dir.path().join("out");
    let r = analyze(&[&cut], &out, &[]);
    assert_eq!(r.status.code(), Some(3), "partial exit status");
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(stderr.contains("cut.pcap"), "{stderr}");
    assert!(stderr.contains("byte offset"), "{stderr}");
    assert!(stderr.contains("(packet 240)"), "{stderr}");
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("stats.json")).unwrap()).unwrap();
    assert_eq!(
        stats["packets"], 240,
        "every packet before the damage was processed"
    );
    assert!(stats["files"][0]["error"]
        .as_str()
        .unwrap()
        .contains("byte offset"));
    let log = ZeekLog::parse(&std::fs::read_to_string(out.join("conn.log")).unwrap());
    assert_eq!(log.rows.len(), 24);
}

#[test]
fn corrupt_record_length_is_partial() {
    let mut bytes = std::fs::read(sample()).unwrap();
    // Record 10's captured length becomes absurd.
    let mut at = 24;
    for _ in 0..10 {
        let len = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        at += 16 + len;
    }
    bytes[at + 8..at + 12].copy_from_slice(&0x7fff_ffffu32.to_le_bytes());
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.pcap");
    std::fs::write(&bad, &bytes).unwrap();
    let r = analyze(&[&bad], &dir.path().join("out"), &[]);
    assert_eq!(r.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&r.stderr);
    assert!(stderr.contains(&format!("byte offset {at}")), "{stderr}");
    assert!(stderr.contains("(packet 10)"), "{stderr}");
}

#[test]
fn missing_input_and_bad_options_exit_2() {
    let out = tempfile::tempdir().unwrap();
    let r = analyze(&[Path::new("/nonexistent/x.pcap")], out.path(), &[]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("/nonexistent/x.pcap"));
    let r = analyze(&[&sample()], out.path(), &["--max-flows", "0"]);
    assert_eq!(r.status.code(), Some(2));
    let r = analyze(&[&sample()], out.path(), &["--checksums", "sometimes"]);
    assert_eq!(r.status.code(), Some(2), "clap usage errors exit 2");
}

#[test]
fn inputs_cut_before_any_packet_exit_2_for_pcap_and_pcapng_alike() {
    let dir = tempfile::tempdir().unwrap();
    // A pcap shorter than its 24-byte header, and a pcapng cut inside its section header:
    // nothing was processed from either, so both are errors (2), not partial runs (3).
    let pcap = dir.path().join("short.pcap");
    std::fs::write(&pcap, &std::fs::read(sample()).unwrap()[..20]).unwrap();
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x0a0d_0d0au32.to_le_bytes());
    shb.extend_from_slice(&28u32.to_le_bytes());
    shb.extend_from_slice(&0x1a2b_3c4du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    let pcapng = dir.path().join("cut.pcapng");
    std::fs::write(&pcapng, &shb).unwrap();
    for input in [&pcap, &pcapng] {
        let out = dir.path().join("out");
        let r = analyze(&[input], &out, &[]);
        let err = String::from_utf8_lossy(&r.stderr);
        assert_eq!(r.status.code(), Some(2), "{}: {err}", input.display());
        assert!(err.contains(&*input.display().to_string()), "{err}");
    }
}

#[test]
fn flow_cap_evicts_and_counts() {
    let out = tempfile::tempdir().unwrap();
    assert!(analyze(&[&sample()], out.path(), &["--max-flows", "4"])
        .status
        .success());
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("stats.json")).unwrap())
            .unwrap();
    assert!(stats["flows"]["evicted"].as_u64().unwrap() > 0);
    assert!(stats["flows"]["peak_concurrent"].as_u64().unwrap() <= 4);
}
