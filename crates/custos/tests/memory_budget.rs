//! Bounded memory: a SYN flood from many distinct source addresses and ports, read from
//! standard input (so the capture itself is never mapped into memory). Raising the flow cap by
//! 400 000 flows raises peak memory by at most 256 bytes per flow, and the flows beyond the cap
//! are evicted and counted. (A span of 400 000 keeps the run-to-run spread of peak memory, a
//! few MB, under 10 bytes per flow.) (The smaller cap is above the application tracker's own cap of
//! 65 536 connections, which follows the flow cap below it: both runs hold that many.) The peak is custos' own `VmHWM`, which it
//! reports in `stats.json` (`run.peak_rss_bytes`).

mod common;

use custos_decode::wire::{tcp, EthernetRepr, FrameBuilder, Ipv4Repr, Mac, TcpRepr};
use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

/// A pcap of `n` TCP SYNs, 1 µs apart, from distinct (address, port) pairs to one server.
fn syn_flood(n: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(24 + n as usize * 70);
    out.extend_from_slice(&[
        0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0,
    ]);
    let ethernet = EthernetRepr {
        src_addr: Mac([2, 0, 0, 0, 0, 2]),
        dst_addr: Mac([2, 0, 0, 0, 0, 1]),
        ..EthernetRepr::default()
    };
    let mut frame = [0u8; 54];
    for i in 0..n {
        let ip = Ipv4Repr {
            src_addr: Ipv4Addr::new(10, (i >> 16) as u8, (i >> 8) as u8, i as u8),
            dst_addr: Ipv4Addr::new(198, 19, 0, 1),
            ident: 1,
            dont_frag: true,
            ..Ipv4Repr::default()
        };
        let syn = TcpRepr {
            src_port: 1024 + (i % 60000) as u16,
            dst_port: 80,
            seq_number: i.wrapping_mul(2_654_435_761),
            flags: tcp::flags::SYN,
            window_len: 64240,
            ..TcpRepr::default()
        };
        let len = FrameBuilder::new(ethernet, ip).emit(&syn.into(), &mut frame);
        let ts_us = 1_000_000u64 * 1_795_651_200 + u64::from(i);
        out.extend_from_slice(&((ts_us / 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&((ts_us % 1_000_000) as u32).to_le_bytes());
        out.extend_from_slice(&(len as u32).to_le_bytes());
        out.extend_from_slice(&(len as u32).to_le_bytes());
        out.extend_from_slice(&frame[..len]);
    }
    out
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
    const FLOWS: u32 = 940_000;
    const SMALL: usize = 70_000;
    const CAP: usize = 470_000;
    let pcap = syn_flood(FLOWS);
    let (base, small) = run(&pcap, SMALL);
    let (peak, big) = run(&pcap, CAP);
    assert_eq!(big["packets"], u64::from(FLOWS));
    assert_eq!(big["flows"]["created"], u64::from(FLOWS));
    assert!(big["flows"]["peak_concurrent"].as_u64().unwrap() <= CAP as u64);
    assert!(big["flows"]["evicted"].as_u64().unwrap() >= u64::from(FLOWS) - CAP as u64);
    assert!(small["flows"]["evicted"].as_u64().unwrap() >= u64::from(FLOWS) - SMALL as u64);
    let per_flow = (peak.saturating_sub(base)) as f64 / (CAP - SMALL) as f64;
    println!("syn flood: base {base} B (cap {SMALL}), peak {peak} B (cap {CAP}): {per_flow:.1} bytes per flow of cap");
    assert!(per_flow <= 256.0, "{per_flow:.1} bytes per flow");
    // A tiny flow cap bounds the application layer too (it followed up to 65 536 connections
    // whatever the cap, 114 MB on this flood with a cap of 1 000; 43 MB since).
    let (tiny, _) = run(&pcap, 1_000);
    println!("syn flood: peak {tiny} B (cap 1000)");
    assert!(tiny < 96 << 20, "{tiny} bytes at a cap of 1 000 flows");
}
