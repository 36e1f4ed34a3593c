//! Zeek parity: custos' conn.log against Zeek's baselines in corpus/zeek/conn, per distinct
//! trace and checksum flag. Prints the match rates and every mismatch; asserts the rates the
//! foundation issue sets (≥ 90 % on counters, ≥ 80 % with conn_state and history too).

mod common;

use common::{custos, shared, ZeekLog};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::PathBuf;

const KEY: [&str; 5] = ["id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto"];
const COUNTERS: [&str; 4] = ["orig_pkts", "orig_ip_bytes", "resp_pkts", "resp_ip_bytes"];

#[derive(Debug, Clone)]
struct Conn {
    key: Vec<String>,
    counters: Vec<String>,
    duration: Option<f64>,
    state: String,
    history: String,
}

fn conns(log: &ZeekLog) -> Option<Vec<Conn>> {
    let key: Vec<usize> = KEY.iter().map(|k| log.col(k)).collect::<Option<_>>()?;
    let counters: Vec<usize> = COUNTERS.iter().map(|k| log.col(k)).collect::<Option<_>>()?;
    let (d, s, h) = (
        log.col("duration")?,
        log.col("conn_state")?,
        log.col("history")?,
    );
    Some(
        log.rows
            .iter()
            .filter(|r| r.len() >= log.fields.len())
            .map(|r| Conn {
                key: key.iter().map(|&i| r[i].clone()).collect(),
                counters: counters.iter().map(|&i| r[i].clone()).collect(),
                duration: r[d].parse().ok(),
                state: r[s].clone(),
                history: r[h].clone(),
            })
            .collect(),
    )
}

fn same_duration(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(x), Some(y)) => (x - y).abs() <= 0.001,
        // Zeek leaves duration unset when it is 0.
        (Some(x), None) | (None, Some(x)) => x.abs() <= 0.001,
    }
}

#[test]
fn conn_log_matches_zeek_baselines() {
    let Some(shared) = shared() else { return };
    let base = shared.join("corpus/zeek/conn");
    let mut cases: BTreeMap<(String, bool, bool), PathBuf> = BTreeMap::new();
    let mut dirs: Vec<_> = std::fs::read_dir(&base)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for dir in dirs {
        let Ok(test) = std::fs::read_to_string(dir.join("test.txt")) else {
            continue;
        };
        let Some(trace) = test.lines().find_map(|l| l.strip_prefix("trace: ")) else {
            continue;
        };
        let cmd = test
            .lines()
            .find(|l| l.contains("zeek") && l.contains(trace.trim_start_matches("traces/")))
            .unwrap_or("");
        let ignore = cmd.split_whitespace().any(|w| w == "-C");
        let bare = cmd.split_whitespace().any(|w| w == "-b");
        let Ok(text) = std::fs::read_to_string(dir.join("conn.log")) else {
            continue;
        };
        if conns(&ZeekLog::parse(&text)).is_none() {
            continue; // a zeek-cut extract without the 5-tuple and counters
        }
        cases
            .entry((trace.to_string(), ignore, bare))
            .or_insert(dir);
    }
    let out_root = tempfile::tempdir().unwrap();
    let (mut total, mut counters_ok, mut all_ok) = (0usize, 0usize, 0usize);
    let mut report = Vec::new();
    for (i, ((trace, ignore, bare), dir)) in cases.iter().enumerate() {
        let expected = conns(&ZeekLog::parse(
            &std::fs::read_to_string(dir.join("conn.log")).unwrap(),
        ))
        .unwrap();
        let capture = shared.join("corpus/zeek").join(trace);
        let out = out_root.path().join(i.to_string());
        let args: Vec<&OsStr> = vec![
            OsStr::new("analyze"),
            capture.as_os_str(),
            OsStr::new("-o"),
            out.as_os_str(),
            OsStr::new("--quiet"),
            OsStr::new("--checksums"),
            OsStr::new(if *ignore { "ignore" } else { "verify" }),
        ];
        // Zeek's `-b` runs load the protocol scripts each test names in its own source, which
        // the baselines do not record; custos' default (Zeek's default scripts) is the closer
        // model, so `--zeek-bare` is not used here (see docs/zeek-parity.md).
        let _ = bare;
        let result = custos(&args);
        assert!(
            result.status.code().is_some_and(|c| c == 0 || c == 3),
            "{trace}: {}",
            String::from_utf8_lossy(&result.stderr)
        );
        let got = conns(&ZeekLog::parse(
            &std::fs::read_to_string(out.join("conn.log")).unwrap(),
        ))
        .unwrap();
        let mut used = BTreeSet::new();
        let (mut c_ok, mut a_ok) = (0, 0);
        for e in &expected {
            let candidates: Vec<usize> = got
                .iter()
                .enumerate()
                .filter(|(j, g)| !used.contains(j) && g.key == e.key)
                .map(|(j, _)| j)
                .collect();
            let counters_match =
                |g: &Conn| g.counters == e.counters && same_duration(g.duration, e.duration);
            let best = candidates
                .iter()
                .copied()
                .find(|&j| {
                    counters_match(&got[j])
                        && got[j].state == e.state
                        && got[j].history == e.history
                })
                .or_else(|| {
                    candidates
                        .iter()
                        .copied()
                        .find(|&j| counters_match(&got[j]))
                })
                .or_else(|| candidates.first().copied());
            match best {
                Some(j) => {
                    used.insert(j);
                    let g = &got[j];
                    let cm = counters_match(g);
                    let full = cm && g.state == e.state && g.history == e.history;
                    c_ok += usize::from(cm);
                    a_ok += usize::from(full);
                    if !full {
                        report.push(format!("{trace} [{}]: {:?}\n    zeek   {:?} {:?} {} {}\n    custos {:?} {:?} {} {}", dir.file_name().unwrap().to_string_lossy(), e.key, e.counters, e.duration, e.state, e.history, g.counters, g.duration, g.state, g.history));
                    }
                }
                None => report.push(format!(
                    "{trace} [{}]: {:?} missing in custos (zeek {:?} {} {})",
                    dir.file_name().unwrap().to_string_lossy(),
                    e.key,
                    e.counters,
                    e.state,
                    e.history
                )),
            }
        }
        total += expected.len();
        counters_ok += c_ok;
        all_ok += a_ok;
    }
    for line in &report {
        println!("{line}");
    }
    let rate_c = counters_ok as f64 / total.max(1) as f64;
    let rate_a = all_ok as f64 / total.max(1) as f64;
    println!("zeek parity: {} traces, {total} flows; counters match {counters_ok} ({:.1} %); counters + conn_state + history match {all_ok} ({:.1} %)", cases.len(), rate_c * 100.0, rate_a * 100.0);
    assert!(total > 0, "no comparable baselines found");
    assert!(
        rate_c >= 0.90,
        "counter match rate {:.1} % below 90 %",
        rate_c * 100.0
    );
    assert!(
        rate_a >= 0.80,
        "full match rate {:.1} % below 80 %",
        rate_a * 100.0
    );
}

/// Inner flows of a GRE tunnel (which has no connection of its own) and of a VXLAN tunnel (whose
/// outer UDP flow is logged, with the tunnel as its service) name their tunnel in
/// `tunnel_parents`, as Zeek's do.
#[test]
fn tunnelled_flows_name_their_tunnel() {
    let Some(shared) = shared() else { return };
    for (trace, outer_service) in [
        ("tunnels/gre-sample.pcap", None),
        ("tunnels/vxlan.pcap", Some("vxlan")),
    ] {
        let out = tempfile::tempdir().unwrap();
        let capture = shared.join("corpus/zeek/traces").join(trace);
        let r = custos(&[
            OsStr::new("analyze"),
            capture.as_os_str(),
            OsStr::new("-o"),
            out.path().as_os_str(),
            OsStr::new("--quiet"),
        ]);
        assert!(r.status.success());
        let log = ZeekLog::parse(&std::fs::read_to_string(out.path().join("conn.log")).unwrap());
        let (tp, svc, uid) = (
            log.col("tunnel_parents").unwrap(),
            log.col("service").unwrap(),
            log.col("uid").unwrap(),
        );
        let inner: Vec<_> = log.rows.iter().filter(|r| r[tp] != "-").collect();
        assert!(!inner.is_empty(), "{trace}: no flow names a tunnel");
        if let Some(service) = outer_service {
            let outer: Vec<_> = log
                .rows
                .iter()
                .filter(|r| r[svc] == service)
                .map(|r| r[uid].clone())
                .collect();
            assert!(!outer.is_empty(), "{trace}: no outer {service} flow");
            assert!(
                inner.iter().all(|r| outer.contains(&r[tp])),
                "{trace}: inner flows point at the outer flow's uid"
            );
        }
    }
}
