//! Live capture on a veth pair whose far end sits in a throwaway network namespace.
//!
//! Needs root and `ip`; otherwise skips itself with `custos_test_support::skip` (set
//! `CUSTOS_REQUIRE_LIVE=1` to make that a failure). Traffic is sent by this test binary itself,
//! re-run inside the namespace in a child mode (no dependency on `ping`). Addresses come from
//! 198.18.0.0/15 only.

use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use custos_capture::{CaptureErrorKind, LinkType, LiveCapture, LiveOptions, PacketSource};

const CHILD_ENV: &str = "CUSTOS_LIVE_CHILD_SEND";
const MARKER: &[u8] = b"custos-capture-live-test";

fn ip(args: &[&str]) -> bool {
    Command::new("ip")
        .args(args)
        .status()
        .is_ok_and(|s| s.success())
}

/// Deletes the namespace and the host-side veth (which removes its peer) on drop.
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

fn skip(why: &str) {
    if std::env::var("CUSTOS_REQUIRE_LIVE").as_deref() == Ok("1") {
        panic!("live test required but {why}");
    }
    custos_test_support::skip(&format!("needs root and ip ({why})"));
}

/// Child mode: when run inside the namespace, send three UDP datagrams and exit.
#[test]
fn live_child_sender() {
    let Ok(target) = std::env::var(CHILD_ENV) else {
        return;
    };
    let sock = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    for _ in 0..3 {
        sock.send_to(MARKER, &target).unwrap();
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn live_capture_sees_udp_from_namespace() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let have_ip = Command::new("ip")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    if !root || !have_ip {
        return skip("not root or no ip");
    }
    let pid = std::process::id();
    let guard = Cleanup {
        ns: format!("custos-cap-test-{pid}"),
        host: format!("cxh{}", pid % 1_000_000),
    };
    let peer = format!("cxn{}", pid % 1_000_000);
    let net = 18 + (pid % 200) as u8 / 100; // 198.18 or 198.19
    let sub = (pid % 100) as u8;
    let host_addr = format!("198.{net}.{sub}.1");
    let peer_addr = format!("198.{net}.{sub}.2");
    if !ip(&["netns", "add", &guard.ns]) {
        return skip("cannot create a network namespace");
    }
    let ns = guard.ns.as_str();
    assert!(ip(&[
        "link",
        "add",
        &guard.host,
        "type",
        "veth",
        "peer",
        "name",
        &peer
    ]));
    assert!(ip(&["link", "set", &peer, "netns", ns]));
    assert!(ip(&[
        "addr",
        "add",
        &format!("{host_addr}/30"),
        "dev",
        &guard.host
    ]));
    assert!(ip(&["link", "set", &guard.host, "up"]));
    assert!(ip(&[
        "netns",
        "exec",
        ns,
        "ip",
        "addr",
        "add",
        &format!("{peer_addr}/30"),
        "dev",
        &peer
    ]));
    assert!(ip(&["netns", "exec", ns, "ip", "link", "set", &peer, "up"]));
    assert!(ip(&["netns", "exec", ns, "ip", "link", "set", "lo", "up"]));

    let stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = mpsc::channel();
    let host = guard.host.clone();
    let stop2 = Arc::clone(&stop);
    let reader = std::thread::spawn(move || {
        let mut opts = LiveOptions::with_stop(stop2);
        opts.read_timeout = Duration::from_millis(50);
        let mut cap = LiveCapture::open_with(&host, opts).unwrap();
        assert_eq!(cap.name(), host);
        ready_tx.send(()).unwrap();
        let mut frames = Vec::new();
        while let Some(p) = cap.next_packet().unwrap() {
            assert_eq!(p.linktype, LinkType::ETHERNET);
            assert_eq!(p.index, frames.len() as u64);
            assert_eq!(p.orig_len as usize, p.data.len());
            frames.push((p.ts, p.data.to_vec()));
        }
        // Stopped: stays stopped.
        assert!(cap.next_packet().unwrap().is_none());
        frames
    });
    ready_rx.recv_timeout(Duration::from_secs(10)).unwrap();

    let exe = std::env::current_exe().unwrap();
    let status = Command::new("ip")
        .args(["netns", "exec", ns])
        .arg(&exe)
        .args(["--exact", "live_child_sender", "--nocapture"])
        .env(CHILD_ENV, format!("{host_addr}:9"))
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(200));
    let stopped_at = Instant::now();
    stop.store(true, Ordering::Relaxed);
    let frames = reader.join().unwrap();
    assert!(
        stopped_at.elapsed() < Duration::from_secs(2),
        "stop flag took {:?}",
        stopped_at.elapsed()
    );

    let (h, p): (std::net::Ipv4Addr, std::net::Ipv4Addr) =
        (host_addr.parse().unwrap(), peer_addr.parse().unwrap());
    let udp: Vec<&(i64, Vec<u8>)> = frames
        .iter()
        .filter(|(_, f)| {
            f.len() >= 42
                && f[12..14] == [0x08, 0x00] // IPv4
                && f[23] == 17 // UDP
                && f[26..30] == p.octets()
                && f[30..34] == h.octets()
                && f[36..38] == 9u16.to_be_bytes()
                && f.ends_with(MARKER)
        })
        .collect();
    assert_eq!(
        udp.len(),
        3,
        "captured {} frames, {} matching",
        frames.len(),
        udp.len()
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64;
    for (ts, _) in &udp {
        assert!(
            *ts > now - 60_000_000_000 && *ts <= now,
            "timestamp {ts} not near {now}"
        );
    }
    assert!(udp.windows(2).all(|w| w[0].0 <= w[1].0));
    drop(guard);
}

#[test]
fn live_capture_rejects_unknown_interface() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let e = LiveCapture::open("custos-no-such-if0").unwrap_err();
    assert!(matches!(e.kind, CaptureErrorKind::NoSuchInterface), "{e}");
    assert_eq!(e.file, "custos-no-such-if0");
}

#[test]
fn live_capture_stops_after_max_packets_on_loopback() {
    if std::env::var(CHILD_ENV).is_ok() {
        return;
    }
    let mut opts = LiveOptions::default();
    opts.max_packets = Some(2);
    opts.read_timeout = Duration::from_millis(20);
    let mut cap = match LiveCapture::open_with("lo", opts) {
        Ok(c) => c,
        Err(e) => return skip(&format!("cannot open lo: {e}")),
    };
    let sender = std::thread::spawn(|| {
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for _ in 0..20 {
            let _ = sock.send_to(MARKER, "127.0.0.1:9");
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let mut n = 0;
    while cap.next_packet().unwrap().is_some() {
        n += 1;
    }
    assert_eq!(n, 2);
    assert_eq!(cap.packet_count(), 2);
    sender.join().unwrap();
}
