//! Bounded memory: a SYN flood from many distinct source addresses and ports, read from
//! standard input (so the capture itself is never mapped into memory). With the flow cap at C,
//! peak memory grows by at most 256 bytes per flow of cap over a run with a tiny cap, and the
//! flows beyond the cap are evicted and counted. The peak is custos' own `VmHWM`, which it
//! reports in `stats.json` (`run.peak_rss_bytes`).

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

/// A pcap of `n` TCP SYNs, 1 µs apart, from distinct (address, port) pairs to one server.
fn syn_flood(n: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + n as usize * 70);
    out.extend_from_slice(&[
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
    ]);
    for i in 0..n {
        let mut frame = Vec::with_capacity(54);
        frame.extend_from_slice(&[2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00]);
        let src = [10, (i >> 16) as u8, (i >> 8) as u8, i as u8];
        let dst = [198, 19, 0, 1];
        let mut ip = vec![0x45, 0, 0, 40, 0, 1, 0x40, 0, 64, 6, 0, 0];
        ip.extend_from_slice(&src);
        ip.extend_from_slice(&dst);
        let c = !fold(sum(&ip));
        ip[10..12].copy_from_slice(&c.to_be_bytes());
        let sport = 1024 + (i % 60000) as u16;
        let mut tcp = vec![0u8; 20];
        tcp[0..2].copy_from_slice(&sport.to_be_bytes());
        tcp[2..4].copy_from_slice(&80u16.to_be_bytes());
        tcp[4..8].copy_from_slice(&i.wrapping_mul(2_654_435_761).to_be_bytes());
        tcp[12] = 0x50;
        tcp[13] = 0x02;
        tcp[14..16].copy_from_slice(&64240u16.to_be_bytes());
        let mut pseudo = Vec::new();
        pseudo.extend_from_slice(&src);
        pseudo.extend_from_slice(&dst);
        pseudo.extend_from_slice(&[0, 6, 0, 20]);
        pseudo.extend_from_slice(&tcp);
        let c = !fold(sum(&pseudo));
        tcp[16..18].copy_from_slice(&c.to_be_bytes());
        frame.extend_from_slice(&ip);
        frame.extend_from_slice(&tcp);
        let ts_us = 1_000_000u64 * 1_795_651_200 + u64::from(i);
        out.extend_from_slice(&((ts_us / 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&((ts_us % 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        out.extend_from_slice(&frame);
    }
    out
}

fn sum(b: &[u8]) -> u32 {
    b.chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum()
}

fn fold(mut s: u32) -> u16 {
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// Runs custos on `pcap` from stdin; returns (its peak RSS in bytes as it reports it, stats).
fn run(pcap: &[u8], max_flows: usize) -> (u64, serde_json::Value) {
    let out = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["analyze", "-", "-o"])
        .arg(out.path())
        .args(["--quiet", "--max-flows", &max_flows.to_string()])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(pcap).unwrap();
    let r = child.wait_with_output().unwrap();
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("stats.json")).unwrap())
            .unwrap();
    let rss = stats["run"]["peak_rss_bytes"]
        .as_u64()
        .expect("peak_rss_bytes in stats.json (Linux)");
    (rss, stats)
}

#[test]
fn syn_flood_stays_within_256_bytes_per_flow_of_cap() {
    const FLOWS: u32 = 400_000;
    const CAP: usize = 200_000;
    let pcap = syn_flood(FLOWS);
    let (base, small) = run(&pcap, 1_000);
    let (peak, big) = run(&pcap, CAP);
    assert_eq!(big["packets"], u64::from(FLOWS));
    assert_eq!(big["flows"]["created"], u64::from(FLOWS));
    assert!(big["flows"]["peak_concurrent"].as_u64().unwrap() <= CAP as u64);
    assert!(big["flows"]["evicted"].as_u64().unwrap() >= u64::from(FLOWS) - CAP as u64);
    assert!(small["flows"]["evicted"].as_u64().unwrap() >= u64::from(FLOWS) - 1_000);
    let per_flow = (peak.saturating_sub(base)) as f64 / (CAP - 1_000) as f64;
    println!("syn flood: base {base} B (cap 1000), peak {peak} B (cap {CAP}): {per_flow:.1} bytes per flow of cap");
    assert!(per_flow <= 256.0, "{per_flow:.1} bytes per flow");
}
