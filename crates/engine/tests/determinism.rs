//! Every output file is byte-identical at 1, 2 and 4 threads (`stats.json`'s `run` object
//! aside): on the sample, with and without Kitsune, compressed or not, and on corpus
//! captures of every kind (tunnels, fragments, VLANs, application protocols, damage).

use custos_engine::{Engine, EngineConfig, Source};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every output file of `dir` by name (`stats.json` without `run`).
fn outputs(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        let mut bytes = std::fs::read(&path).unwrap();
        if name == "stats.json" {
            let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            assert!(v["run"]["threads"].as_u64().unwrap() >= 1);
            v.as_object_mut().unwrap().remove("run");
            bytes = serde_json::to_vec(&v).unwrap();
        }
        files.insert(name, bytes);
    }
    files
}

fn run(
    captures: &[PathBuf],
    threads: usize,
    tweak: &dyn Fn(&mut EngineConfig),
) -> (BTreeMap<String, Vec<u8>>, bool) {
    let out = tempfile::tempdir().unwrap();
    let mut cfg = EngineConfig {
        threads,
        ..EngineConfig::default()
    };
    cfg.output.dir = Some(out.path().to_path_buf());
    tweak(&mut cfg);
    let summary = Engine::new(cfg)
        .unwrap()
        .run(Source::Files(captures.to_vec()))
        .unwrap_or_else(|e| panic!("{captures:?}: {e}"));
    (outputs(out.path()), summary.partial)
}

/// Runs at 1, 2 and 4 threads and asserts the outputs are the same; returns them.
fn same_at_every_thread_count(
    captures: &[PathBuf],
    tweak: &dyn Fn(&mut EngineConfig),
) -> BTreeMap<String, Vec<u8>> {
    let (one, partial) = run(captures, 1, tweak);
    for threads in [2, 4] {
        let (other, p) = run(captures, threads, tweak);
        assert_eq!(
            partial, p,
            "{captures:?}: partial differs at {threads} threads"
        );
        assert_eq!(
            one.keys().collect::<Vec<_>>(),
            other.keys().collect::<Vec<_>>(),
            "{captures:?}: files differ at {threads} threads"
        );
        for (name, bytes) in &one {
            assert!(
                other.get(name) == Some(bytes),
                "{captures:?}: {name} differs between 1 and {threads} threads"
            );
        }
    }
    one
}

fn sample() -> PathBuf {
    custos_test_support::repo_root().join("samples/iot-small.pcap")
}

#[test]
fn sample_outputs_are_the_same_at_any_thread_count() {
    let files = same_at_every_thread_count(&[sample()], &|_| {});
    for name in [
        "conn.log",
        "flows.jsonl",
        "events.jsonl",
        "devices.json",
        "findings.jsonl",
        "stats.json",
    ] {
        assert!(
            files.get(name).is_some_and(|b| !b.is_empty()),
            "{name} missing or empty"
        );
    }
}

#[test]
fn kitsune_scores_and_alerts_are_the_same_at_any_thread_count() {
    let files = same_at_every_thread_count(&[sample()], &|c| {
        c.detect.detectors = vec!["kitsune".into()];
        c.detect.kitsune.fm_grace = 20;
        c.detect.kitsune.ad_grace = 60;
        c.detect.kitsune.calibration = 40;
        c.output.alert_every_packet = true;
    });
    let scores = String::from_utf8(files["scores.csv"].clone()).unwrap();
    assert_eq!(scores.lines().count(), 242, "header + one row per packet");
    assert!(files.contains_key("alerts.jsonl"));
}

#[test]
fn compressed_outputs_are_the_plain_ones_and_the_same_at_any_thread_count() {
    let plain = same_at_every_thread_count(&[sample()], &|_| {});
    let zst = same_at_every_thread_count(&[sample()], &|c| {
        c.output.compress = custos_output::Compression::Zstd;
    });
    for (name, bytes) in &plain {
        if name == "stats.json" || name == "custos-run.json" {
            // stats.json and the manifest stay plain (small, read first by tools).
            assert!(!zst.contains_key(&format!("{name}.zst")));
            continue;
        }
        let packed = zst
            .get(&format!("{name}.zst"))
            .unwrap_or_else(|| panic!("{name}.zst missing"));
        let unpacked = zstd::decode_all(&packed[..]).unwrap();
        assert_eq!(&unpacked, bytes, "{name}.zst does not hold {name}");
    }
}

/// Corpus captures of every kind the decoder and application layer handle.
fn corpus_captures(shared: &Path) -> Vec<PathBuf> {
    let corpus = shared.join("corpus");
    let mut picked = Vec::new();
    let wanted = [
        "zeek/traces/pppoe-over-qinq.pcap",
        "zeek/traces/erspan.pcap",
        "zeek/traces/mixed-vlan-mpls.pcap",
        "zeek/traces/vlan-qinqinq.pcap",
        "zeek/traces/cisco-fabric-path.pcap",
        "zeek/traces/ipv6-fragmented-dns.pcap",
        "zeek/traces/ipv6-reassembly-state-leak.pcap",
        "zeek/traces/dns-edns-ecs.pcap",
        "zeek/traces/smtp.pcap",
        "zeek/traces/wikipedia.pcap",
        "zeek/traces/socks-with-ssl.pcap",
        "zeek/traces/var-services-std-ports.pcap",
        "zeek/traces/irc-dcc-send.pcapng",
        "zeek/traces/echo-connections.pcap.gz",
        "zeek/traces/portmapper-many-unanswered-calls.pcapng.gz",
        "zeek/traces/globus-url-copy.pcap",
        "zeek/traces/arp-leak.pcap",
        "tcpdump/vxlan.pcap",
        "tcpdump/geneve.pcap",
        "tcpdump/various_gre.pcap",
        "tcpdump/mpls-over-udp.pcap",
        "tcpdump/pppoes.pcap",
        "tcpdump/ip6_frag_asan.pcap",
        "tcpdump/dhcp-rfc3004.pcap",
        "tcpdump/bigtcp-ipv4-vxlan-ipv6.pcap",
        "tcpdump/mptcp-v1.pcap",
        "tcpdump/dns-badlabel.pcap",
    ];
    for w in wanted {
        let p = corpus.join(w);
        if p.is_file() {
            picked.push(p);
        }
    }
    // Every suricata-verify capture (MQTT, Modbus, DNS, HTTP, TLS, fragments, …).
    let mut sv: Vec<PathBuf> = walk(&corpus.join("suricata-verify"))
        .into_iter()
        .filter(|p| {
            let n = p.to_string_lossy();
            n.ends_with(".pcap") || n.ends_with(".pcapng")
        })
        .collect();
    sv.sort();
    picked.extend(sv);
    picked
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn corpus_outputs_are_the_same_at_any_thread_count() {
    let Some(shared) = custos_test_support::shared() else {
        return;
    };
    let captures = corpus_captures(&shared);
    assert!(
        captures.len() >= 40,
        "only {} corpus captures found",
        captures.len()
    );
    for c in &captures {
        same_at_every_thread_count(std::slice::from_ref(c), &|_| {});
    }
    // Several inputs read as one stream.
    same_at_every_thread_count(&captures[..5], &|_| {});
    // A small flow cap that evicts (per run, the same at any thread count).
    same_at_every_thread_count(&captures[..5], &|c| c.flow.max_flows = 8);
}
