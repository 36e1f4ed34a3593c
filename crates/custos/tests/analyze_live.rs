//! `custos analyze --interface`: live AF_PACKET capture on a veth pair whose far end sits in a
//! network namespace this test creates (addresses from 198.18.0.0/15 only). Traffic is sent
//! from inside the namespace; custos is stopped with SIGINT (Ctrl-C) and must write the flow.
//! Needs root and `ip`; skipped otherwise unless `CUSTOS_REQUIRE_LIVE=1`.

mod common;

use common::ZeekLog;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

struct Cleanup {
    ns: String,
    host: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["link", "del", &self.host])
            .status();
        let _ = Command::new("ip").args(["netns", "del", &self.ns]).status();
    }
}

fn sh(args: &[&str]) -> bool {
    Command::new(args[0])
        .args(&args[1..])
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn live_interface_flows_are_written_on_ctrl_c() {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let have_ip = Command::new("ip")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !root || !have_ip {
        assert!(
            std::env::var("CUSTOS_REQUIRE_LIVE").as_deref() != Ok("1"),
            "live test required but not root or no ip"
        );
        eprintln!("skipped: needs root and ip");
        return;
    }
    let pid = std::process::id();
    let g = Cleanup {
        ns: format!("custos-cli-{pid}"),
        host: format!("cch{}", pid % 1_000_000),
    };
    let peer = format!("ccp{}", pid % 1_000_000);
    assert!(sh(&["ip", "netns", "add", &g.ns]));
    assert!(sh(&[
        "ip", "link", "add", &g.host, "type", "veth", "peer", "name", &peer
    ]));
    assert!(sh(&["ip", "link", "set", &peer, "netns", &g.ns]));
    assert!(sh(&[
        "ip",
        "addr",
        "add",
        "198.18.200.1/24",
        "dev",
        &g.host
    ]));
    assert!(sh(&["ip", "link", "set", &g.host, "up"]));
    assert!(sh(&[
        "ip",
        "netns",
        "exec",
        &g.ns,
        "ip",
        "addr",
        "add",
        "198.18.200.2/24",
        "dev",
        &peer
    ]));
    assert!(sh(&[
        "ip", "netns", "exec", &g.ns, "ip", "link", "set", &peer, "up"
    ]));
    assert!(sh(&[
        "ip", "netns", "exec", &g.ns, "ip", "link", "set", "lo", "up"
    ]));

    // A receiver on the host side, so the datagrams draw no ICMP port-unreachable.
    let _sink = std::net::UdpSocket::bind("198.18.200.1:9999").unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(["analyze", "--interface", &g.host, "--quiet", "-o"])
        .arg(out.path())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    // Three UDP datagrams from the namespace to the host side (bash's /dev/udp, no extra tools).
    assert!(sh(&[
        "ip", "netns", "exec", &g.ns, "bash", "-c",
        "exec 3>/dev/udp/198.18.200.1/9999; for i in 1 2 3; do echo custos-live >&3; sleep 0.1; done"
    ]));
    std::thread::sleep(Duration::from_millis(500));
    // SAFETY: sending SIGINT to our own child process, whose pid we hold.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "custos did not stop on SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let stderr = child
        .wait_with_output()
        .map(|o| String::from_utf8_lossy(&o.stderr).to_string())
        .unwrap_or_default();
    assert!(status.success(), "{stderr}");
    let log = ZeekLog::parse(&std::fs::read_to_string(out.path().join("conn.log")).unwrap());
    let c = |n| log.col(n).unwrap();
    let udp = log
        .rows
        .iter()
        .find(|r| {
            r[c("id.orig_h")] == "198.18.200.2"
                && r[c("id.resp_p")] == "9999"
                && r[c("proto")] == "udp"
        })
        .unwrap_or_else(|| panic!("no UDP flow in {:?}", log.rows));
    assert_eq!(udp[c("orig_pkts")], "3");
    assert_eq!(udp[c("history")], "D");
    let stats: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("stats.json")).unwrap())
            .unwrap();
    assert_eq!(stats["files"][0]["format"], "live");
    assert!(stats["packets"].as_u64().unwrap() >= 3);
}
