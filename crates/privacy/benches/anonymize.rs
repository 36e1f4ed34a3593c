//! Throughput of `anonymize`, without criterion.
//!
//! `cargo bench -p custos-privacy --bench anonymize` prints packets per second on one core
//! (wall clock, and per second of the process's CPU time, which other jobs do not lower):
//!
//! - `frames`: [`FrameRewriter::rewrite`] alone over a synthetic mix of ~1 M Ethernet frames
//!   generated in memory from a fixed seed (IPv4 TCP with payloads, DNS responses, IPv6 TCP
//!   and UDP, VLAN-tagged TCP, VXLAN-encapsulated TCP, ICMP errors, ARP; 340 IPv4 and 60 IPv6
//!   hosts), payload kept and dropped;
//! - `file`: [`anonymize`] end to end (read, rewrite, write a new file) over the same mix
//!   written as a pcap file, and, as its floor, the same file read and written unchanged;
//! - per `samples/*.pcap`: its frames through `FrameRewriter`, and the whole file through
//!   `anonymize` (the fixed costs of a run included).
//!
//! Each case repeats for at least `BENCH_MS`; a `file` case times only its runs (the previous
//! output is removed between them, untimed, so every run writes a new file as a real one does).
//! `BENCH_PACKETS` changes the mix's size (default 1 000 000), `BENCH_MS` the least time per
//! case (default 1500), `BENCH_DIR` where the files go (default: the temporary directory;
//! `/dev/shm` leaves the disk out).

use custos_test_support::SplitMix64 as Rng;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use custos_capture::{FileReader, PacketSource, PcapWriter};
use custos_decode::checksum::{finish, pseudo_header, sum};
use custos_privacy::{
    anonymize, AnonymizeOptions, FrameRewriter, PayloadPolicy, Policy, PseudonymKey, Pseudonymizer,
};

fn eth(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = [&dst[..], &src[..], &ethertype.to_be_bytes()].concat();
    f.extend_from_slice(payload);
    f
}

fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, proto, 0, 0];
    h[2..4].copy_from_slice(&((20 + payload.len()) as u16).to_be_bytes());
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let ck = finish(sum(&h, 0));
    h[10..12].copy_from_slice(&ck.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

fn ipv6(src: [u8; 16], dst: [u8; 16], next: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    h.extend_from_slice(&[next, 64]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(payload);
    h
}

fn l4(src: &[u8], dst: &[u8], proto: u8, mut seg: Vec<u8>, field: usize) -> Vec<u8> {
    let ip = |a: &[u8]| match a.len() {
        4 => std::net::IpAddr::from(<[u8; 4]>::try_from(a).unwrap()),
        _ => std::net::IpAddr::from(<[u8; 16]>::try_from(a).unwrap()),
    };
    let initial = if proto == 1 {
        0
    } else {
        pseudo_header(ip(src), ip(dst), proto, seg.len() as u32)
    };
    let ck = finish(sum(&seg, initial));
    seg[field..field + 2].copy_from_slice(&ck.to_be_bytes());
    seg
}

fn tcp(src: &[u8], dst: &[u8], ports: (u16, u16), payload: &[u8]) -> Vec<u8> {
    let mut s = [&ports.0.to_be_bytes()[..], &ports.1.to_be_bytes()].concat();
    s.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
    s.extend_from_slice(payload);
    l4(src, dst, 6, s, 16)
}

fn udp(src: &[u8], dst: &[u8], ports: (u16, u16), payload: &[u8]) -> Vec<u8> {
    let mut s = [&ports.0.to_be_bytes()[..], &ports.1.to_be_bytes()].concat();
    s.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    s.extend_from_slice(&[0, 0]);
    s.extend_from_slice(payload);
    l4(src, dst, 17, s, 6)
}

/// A DNS response with two A records.
fn dns(answer: [u8; 4]) -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
    m.extend_from_slice(b"\x06sensor\x03iot\x03lan\x00\x00\x01\x00\x01");
    for _ in 0..2 {
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        m.extend_from_slice(&answer);
    }
    m
}

/// The synthetic mix: `n` Ethernet frames.
fn mix(n: usize, rng: &mut Rng) -> Vec<Vec<u8>> {
    let v4: Vec<[u8; 4]> = (0..300)
        .map(|i| [10, (i / 250) as u8, (i % 250) as u8, 1 + (i % 7) as u8])
        .chain((0..40).map(|i| [93, 184, i as u8, 34]))
        .collect();
    let v6: Vec<[u8; 16]> = (0..60u8)
        .map(|i| {
            [
                0x20, 1, 0xd, 0xb8, 0, i, 0, 0, 2, 0x1b, 0x44, 0xff, 0xfe, 0, 0, i,
            ]
        })
        .collect();
    let macs: Vec<[u8; 6]> = (0..340u16)
        .map(|i| [0x00, 0x1b, 0x44, 0x11, (i >> 8) as u8, i as u8])
        .collect();
    let payloads: Vec<Vec<u8>> = [0usize, 6, 64, 300, 1200, 1400]
        .iter()
        .map(|len| (0..*len).map(|i| i as u8).collect())
        .collect();
    let mut frames = Vec::with_capacity(n);
    for _ in 0..n {
        let (a, b) = (v4[rng.index(v4.len())], v4[rng.index(v4.len())]);
        let (m1, m2) = (macs[rng.index(macs.len())], macs[rng.index(macs.len())]);
        let body = &payloads[rng.index(payloads.len())];
        let ports = (
            1024 + rng.index(60000) as u16,
            [80, 443, 1883, 22][rng.index(4)],
        );
        let frame = match rng.index(100) {
            0..=49 => eth(m1, m2, 0x0800, &ipv4(a, b, 6, &tcp(&a, &b, ports, body))),
            50..=64 => {
                let msg = dns(b);
                eth(
                    m1,
                    m2,
                    0x0800,
                    &ipv4(b, a, 17, &udp(&b, &a, (53, ports.0), &msg)),
                )
            }
            65..=79 => {
                let (c, d) = (v6[rng.index(v6.len())], v6[rng.index(v6.len())]);
                let (next, seg) = if rng.index(2) == 0 {
                    (6, tcp(&c, &d, ports, body))
                } else {
                    (17, udp(&c, &d, ports, &body[..body.len().min(200)]))
                };
                eth(m1, m2, 0x86dd, &ipv6(c, d, next, &seg))
            }
            80..=86 => {
                let ip = ipv4(a, b, 6, &tcp(&a, &b, ports, body));
                let tagged = [&[0x00, 0x64, 0x08, 0x00][..], &ip].concat();
                eth(m1, m2, 0x8100, &tagged)
            }
            87..=92 => {
                let inner = eth(
                    m2,
                    m1,
                    0x0800,
                    &ipv4(a, b, 6, &tcp(&a, &b, ports, &body[..body.len().min(300)])),
                );
                let vx = [&[0x08, 0, 0, 0, 0, 0, 1, 0][..], &inner].concat();
                let (o1, o2) = ([172, 16, 0, 1], [172, 16, 0, 2]);
                eth(
                    m1,
                    m2,
                    0x0800,
                    &ipv4(o1, o2, 17, &udp(&o1, &o2, (50000, 4789), &vx)),
                )
            }
            93..=96 => {
                let quoted = ipv4(a, b, 17, &udp(&a, &b, ports, &[0; 8]));
                let msg = l4(
                    &[],
                    &[],
                    1,
                    [&[3, 3, 0, 0, 0, 0, 0, 0][..], &quoted[..28]].concat(),
                    2,
                );
                eth(m1, m2, 0x0800, &ipv4(b, a, 1, &msg))
            }
            _ => {
                let mut arp = vec![0, 1, 8, 0, 6, 4, 0, 1];
                arp.extend_from_slice(&m2);
                arp.extend_from_slice(&a);
                arp.extend_from_slice(&[0; 6]);
                arp.extend_from_slice(&b);
                eth([0xff; 6], m2, 0x0806, &arp)
            }
        };
        frames.push(frame);
    }
    frames
}

fn pseudonymizer() -> Pseudonymizer {
    Pseudonymizer::new(
        &PseudonymKey::from_parts([0x42; 32], [0x24; 32]),
        Policy::default(),
    )
}

/// Wall-clock rate, and the rate per second of this process's CPU time (user + system, from
/// `/proc/self/stat` on Linux), which other jobs on the machine do not lower.
fn report(label: &str, packets: u64, bytes: u64, seconds: f64, cpu: Option<f64>) {
    let rate = packets as f64 / seconds;
    let per_cpu = cpu
        .filter(|c| *c > 0.0)
        .map(|c| format!("  {:>10.0} pkts/CPU-s", packets as f64 / c))
        .unwrap_or_default();
    println!(
        "{label:<44} {:>10.0} pkts/s  {:>7.1} ns each  {:>7.1} MB/s{per_cpu}",
        rate,
        1e9 / rate,
        bytes as f64 / seconds / 1e6
    );
}

/// CPU seconds (user + system) used by this process so far, at the kernel's 100 Hz tick.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(ticks as f64 / 100.0)
}

/// Rewrites Ethernet `frames` repeatedly for at least `min`.
fn bench_frames(label: &str, frames: &[Vec<u8>], payload: PayloadPolicy, min: Duration) {
    bench_linktype(label, 1, frames, payload, min);
}

/// Rewrites `frames` of `linktype` repeatedly for at least `min`.
fn bench_linktype(
    label: &str,
    linktype: u32,
    frames: &[Vec<u8>],
    payload: PayloadPolicy,
    min: Duration,
) {
    let mut p = pseudonymizer();
    let mut rewriter = FrameRewriter::new(&mut p, payload).unwrap();
    let mut buf = Vec::with_capacity(2048);
    let mut check = 0u64;
    for f in frames.iter().take(10_000) {
        buf.clear();
        buf.extend_from_slice(f);
        rewriter.rewrite(linktype, &mut buf).unwrap(); // warm-up
    }
    let (start, cpu, mut packets, mut bytes) = (Instant::now(), cpu_seconds(), 0u64, 0u64);
    while start.elapsed() < min {
        for f in frames {
            buf.clear();
            buf.extend_from_slice(f);
            let o = rewriter.rewrite(linktype, black_box(&mut buf)).unwrap();
            check = check.wrapping_add(u64::from(o.addresses) + buf.len() as u64);
            bytes += f.len() as u64;
        }
        packets += frames.len() as u64;
    }
    let used = cpu.zip(cpu_seconds()).map(|(a, b)| b - a);
    report(label, packets, bytes, start.elapsed().as_secs_f64(), used);
    black_box(check);
}

/// Runs `run` (which writes `out`) repeatedly for at least `min`, timing only the runs: the
/// previous output is removed between them, so each run writes a new file, as a real run does.
fn bench_runs(label: &str, out: &Path, min: Duration, mut run: impl FnMut() -> (u64, u64)) {
    let (mut wall, mut cpu, mut packets, mut bytes) = (Duration::ZERO, 0.0, 0u64, 0u64);
    let mut runs = 0;
    while runs == 0 || wall < min {
        let _ = std::fs::remove_file(out);
        let (start, before) = (Instant::now(), cpu_seconds());
        let (p, b) = run();
        wall += start.elapsed();
        cpu += before.zip(cpu_seconds()).map_or(0.0, |(a, b)| b - a);
        packets += p;
        bytes += b;
        runs += 1;
    }
    let _ = std::fs::remove_file(out);
    // CPU time is read at the kernel's 10 ms tick: meaningless for runs much shorter.
    let long = wall.as_secs_f64() / f64::from(runs) >= 0.1;
    report(
        label,
        packets,
        bytes,
        wall.as_secs_f64(),
        long.then_some(cpu),
    );
}

/// Runs `anonymize` over `input`.
fn bench_file(label: &str, input: &Path, dir: &Path, min: Duration) {
    let out = dir.join("bench-out.pcap");
    bench_runs(label, &out, min, || {
        let mut p = pseudonymizer();
        let options = AnonymizeOptions {
            payload: PayloadPolicy::Keep,
            force: false,
        };
        let r = anonymize(input, &out, &mut p, &options).unwrap();
        (r.packets, r.bytes_in)
    });
}

/// The floor of the `file` cases: reading and writing the same capture without rewriting.
fn bench_copy(label: &str, input: &Path, dir: &Path, min: Duration) {
    let out = dir.join("bench-copy.pcap");
    bench_runs(label, &out, min, || {
        let mut reader = FileReader::open(input).unwrap();
        let file = std::fs::File::create_new(&out).unwrap();
        let mut w =
            PcapWriter::new(std::io::BufWriter::with_capacity(1 << 17, file), 1, 65535).unwrap();
        let (mut frame, mut packets, mut bytes) = (Vec::with_capacity(1 << 16), 0, 0);
        while let Ok(Some(p)) = reader.next_packet() {
            frame.clear();
            frame.extend_from_slice(p.data);
            w.write(p.ts, black_box(&frame), p.orig_len).unwrap();
            packets += 1;
            bytes += p.data.len() as u64;
        }
        w.finish().unwrap();
        (packets, bytes)
    });
}

fn main() {
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let min = Duration::from_millis(env("BENCH_MS", 1500));
    let n = env("BENCH_PACKETS", 1_000_000) as usize;
    let frames = mix(n, &mut Rng(2024));
    let bytes: usize = frames.iter().map(Vec::len).sum();
    println!(
        "synthetic mix: {} frames, {:.1} MB, mean {} bytes",
        frames.len(),
        bytes as f64 / 1e6,
        bytes / frames.len().max(1)
    );
    bench_frames(
        "frames, payload keep (FrameRewriter)",
        &frames,
        PayloadPolicy::Keep,
        min,
    );
    bench_frames(
        "frames, payload drop (FrameRewriter)",
        &frames,
        PayloadPolicy::Drop,
        min,
    );

    let dir = tempfile_dir();
    let mix_file = dir.join("bench-mix.pcap");
    {
        let file = std::io::BufWriter::new(std::fs::File::create(&mix_file).unwrap());
        let mut w = PcapWriter::new(file, 1, 65535).unwrap();
        for (i, f) in frames.iter().enumerate() {
            w.write(
                1_700_000_000_000_000_000 + i as i64 * 1000,
                f,
                f.len() as u32,
            )
            .unwrap();
        }
        w.finish().unwrap();
    }
    drop(frames);
    bench_copy(
        "file, synthetic mix, copy only (no rewrite)",
        &mix_file,
        &dir,
        min,
    );
    bench_file("file, synthetic mix (anonymize)", &mix_file, &dir, min);
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&samples)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    found.retain(|p| p.extension().is_some_and(|e| e == "pcap"));
    found.sort();
    for sample in found {
        let name = sample.file_name().unwrap().to_string_lossy().to_string();
        let mut reader = FileReader::open(&sample).unwrap();
        let (mut frames, mut linktype) = (Vec::new(), 1);
        while let Ok(Some(p)) = reader.next_packet() {
            linktype = p.linktype.0;
            frames.push(p.data.to_vec());
        }
        let label = format!("frames, samples/{name} (FrameRewriter)");
        bench_linktype(&label, linktype, &frames, PayloadPolicy::Keep, min);
        // Small files: the run's fixed costs (key schedule, 0.6 MiB prefix cache, fsync of
        // the output) dominate.
        bench_file(
            &format!("file, samples/{name} (anonymize)"),
            &sample,
            &dir,
            min,
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A fresh directory under `BENCH_DIR` (e.g. `/dev/shm`, to leave the disk out), else the
/// system's temporary directory.
fn tempfile_dir() -> PathBuf {
    let base = std::env::var_os("BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = base.join(format!("custos-anonymize-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
