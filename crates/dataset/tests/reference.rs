//! The reference lab capture with its per-packet labels (shared corpus; skipped when absent):
//! rows against conn.log, the attacker's flows labelled attack, phases, application features.

use crate::util::*;
use custos_dataset::build;
use std::path::PathBuf;

const ATTACKER: &str = "198.18.0.66";

fn reference_files() -> Option<(PathBuf, PathBuf)> {
    let dir = custos_test_support::shared()?.join("reference/kitsune");
    let pcap = dir.join("iotlab-dev.pcap");
    let labels = dir.join("iotlab-dev.labels.csv");
    if !pcap.exists() || !labels.exists() {
        custos_test_support::skip("reference/kitsune/iotlab-dev.{pcap,labels.csv} absent");
        return None;
    }
    Some((pcap, labels))
}

#[test]
fn lab_capture_labels_the_attackers_flows() {
    let Some((pcap, labels)) = reference_files() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let (conn, _) = reference(std::slice::from_ref(&pcap), &d.path().join("ref"));
    let out = d.path().join("ds");
    let m = build(&[pcap], &[labels], &out, None, config(2)).unwrap();
    let b = read_parquet(&out.join("flows.parquet"));
    let uids = strings(&b, "uid");
    assert_eq!(uids.len(), conn.len());
    assert_eq!(m.counts.flows, conn.len() as u64);
    assert_eq!(m.counts.inexact_flows, 0);
    let (orig, resp) = (strings(&b, "orig_addr"), strings(&b, "resp_addr"));
    let phase = strings(&b, "phase");
    let label = label_column(&b);
    let attacker =
        |i: usize| orig[i].as_deref() == Some(ATTACKER) || resp[i].as_deref() == Some(ATTACKER);
    let attack: Vec<usize> = (0..label.len()).filter(|&i| label[i] == 1).collect();
    // Every attack flow is the attacker's: by its IPv4 address, or (the lab labels by MAC
    // too) from its one IPv6 link-local address (router solicitations). Many (scan, flood).
    let strays: Vec<&str> = attack
        .iter()
        .filter(|&&i| !attacker(i))
        .map(|&i| orig[i].as_deref().unwrap())
        .collect();
    assert!(strays.iter().all(|a| a.starts_with("fe80::")), "{strays:?}");
    assert!(strays.windows(2).all(|w| w[0] == w[1]), "{strays:?}");
    assert!(strays.len() < 5, "{strays:?}");
    assert!(attack.len() > 500, "{} attack flows", attack.len());
    let per_phase = |p: &str| {
        attack
            .iter()
            .filter(|&&i| phase[i].as_deref() == Some(p))
            .count()
    };
    for p in ["scan", "brute", "login", "synflood"] {
        assert!(per_phase(p) > 0, "no attack flow in phase {p}");
        assert_eq!(m.counts.phase[p].attack as usize, per_phase(p));
    }
    // Benign flows are the benign phase's.
    assert!((0..label.len())
        .filter(|&i| label[i] == 0)
        .all(|i| phase[i].as_deref() == Some("benign")));
    // The brute force: eight telnet connections refused, the login reaching a shell.
    let port = u16s(&b, "resp_port");
    let failures = u64s(&b, "telnet_login_failures");
    let successes = u64s(&b, "telnet_login_successes");
    let telnet = |p: &str| -> (u64, u64) {
        attack
            .iter()
            .filter(|&&i| phase[i].as_deref() == Some(p) && port[i] == 23)
            .fold((0, 0), |(f, s), &i| {
                (f + failures[i].unwrap(), s + successes[i].unwrap())
            })
    };
    let (brute_failures, _) = telnet("brute");
    let (_, login_successes) = telnet("login");
    assert!(brute_failures >= 8, "{brute_failures} failed telnet logins");
    assert!(login_successes >= 1);
    // Each connection of the brute force after the first starts with its client's refusals
    // (a host feature); no benign flow has any.
    let refused = f64s(&b, "orig_logins_refused_10s");
    let brute: Vec<usize> = attack
        .iter()
        .copied()
        .filter(|&i| phase[i].as_deref() == Some("brute") && port[i] == 23)
        .collect();
    let marked = brute.iter().filter(|&&i| refused[i] > 0.0).count();
    assert!(
        marked + 1 >= brute.len() && marked >= 7,
        "{marked} of {}",
        brute.len()
    );
    assert!((0..label.len())
        .filter(|&i| label[i] == 0)
        .all(|i| refused[i] == 0.0));
    let attacker_counts = &m.counts.device[&ATTACKER.parse().unwrap()];
    assert_eq!(attacker_counts.attack as usize, attack.len() - strays.len());
    // Application features of the benign devices: MQTT publishes.
    let publishes: u64 = u64s(&b, "mqtt_publishes").iter().map(|v| v.unwrap()).sum();
    assert!(publishes > 0);
}

fn f64s(b: &[arrow_array::RecordBatch], name: &str) -> Vec<f64> {
    primitive::<arrow_array::types::Float64Type>(b, name)
}

fn u16s(b: &[arrow_array::RecordBatch], name: &str) -> Vec<u16> {
    primitive::<arrow_array::types::UInt16Type>(b, name)
}

/// The values of primitive column `name` over every batch.
fn primitive<T: arrow_array::types::ArrowPrimitiveType>(
    b: &[arrow_array::RecordBatch],
    name: &str,
) -> Vec<T::Native> {
    use arrow_array::cast::AsArray;
    b.iter()
        .flat_map(|x| {
            x.column_by_name(name)
                .unwrap()
                .as_primitive::<T>()
                .values()
                .to_vec()
        })
        .collect()
}

#[test]
fn evictions_at_a_tiny_flow_cap_keep_flows_exact() {
    let Some((pcap, labels)) = reference_files() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let mut c = config(2);
    c.flow.max_flows = 16;
    let (conn, _) = reference_with(
        std::slice::from_ref(&pcap),
        &d.path().join("ref"),
        c.clone(),
    );
    let m = build(&[pcap], &[labels], &d.path().join("ds"), None, c).unwrap();
    assert!(
        conn.len() > 4000,
        "{} flows: the cap should split flows",
        conn.len()
    );
    assert_eq!(m.output.rows, conn.len() as u64);
    assert_eq!(m.counts.inexact_flows, 0);
    assert_eq!(m.config.max_flows, 16);
}
