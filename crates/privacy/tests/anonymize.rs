//! `anonymize` on real captures: the rewritten capture reads back with the same packets,
//! decodes to the same layers (addresses mapped), gives the same conn.log, and no input —
//! however damaged — makes the rewriter panic or change a checksum verdict.

use custos_test_support::SplitMix64 as Rng;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use custos_capture::{CaptureFormat, FileReader, PacketSource};
use custos_decode::{Decoded, Decoder, DecoderConfig, Transport};
use custos_engine::{Engine, EngineConfig, Source};
use custos_privacy::{
    anonymize, AnonymizeOptions, CryptoPan, Error, FrameRewriter, Network, PayloadPolicy, Policy,
    PseudonymKey, Pseudonymizer,
};

/// Counts the allocations of the current thread (tests run in parallel threads).
struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator unchanged; only counts calls, in a thread-local
// without destructor (so counting never allocates nor runs after the thread's end).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn key() -> PseudonymKey {
    PseudonymKey::from_parts([0x5a; 32], [0xa5; 32])
}

fn pseudonymizer() -> Pseudonymizer {
    Pseudonymizer::new(&key(), Policy::default())
}

fn sample() -> PathBuf {
    custos_test_support::sample("iot-small.pcap")
}

/// Captures of the shared corpus with TCP, UDP, IPv6, VLANs, tunnels, DHCP, DNS, ICMP errors,
/// neighbour discovery, bad checksums and several link types (pcapng).
const FLOW_CAPTURES: [&str; 18] = [
    "zeek/traces/tunnels/vxlan.pcap",
    "zeek/traces/tunnels/gre-sample.pcap",
    "zeek/traces/tunnels/Teredo.pcap",
    "zeek/traces/tunnels/6in4.pcap",
    "zeek/traces/tunnels/gtp/gtp1_gn_normal_incl_fragmentation.pcap",
    "zeek/traces/tunnels/geneve-inner-tcp-bad-checksum.pcap",
    "zeek/traces/http-vlan-0.pcap",
    "zeek/traces/pcapng-multi-interface.pcapng",
    "zeek/traces/dns-edns-ecs.pcap",
    "zeek/traces/dhcp/dhcp.pcap",
    "zeek/traces/icmp/icmp6-nd-options.pcap",
    "zeek/traces/icmp/icmp-destunreach-udp.pcap",
    "zeek/traces/chksums/ip4-tcp-bad-chksum.pcap",
    "zeek/traces/chksums/ip6-route0-tcp-good-chksum.pcap",
    "zeek/traces/ipv6-fragmented-dns.pcap",
    "zeek/traces/wikipedia.pcap",
    "tcpdump/mptcp-v1.pcap",
    "tcpdump/dhcp-rfc3004.pcap",
];

/// The corpus captures of `FLOW_CAPTURES` that are present, or `None` (skipped) without it.
fn flow_captures() -> Option<Vec<PathBuf>> {
    let corpus = custos_test_support::shared()?.join("corpus");
    let found: Vec<PathBuf> = FLOW_CAPTURES
        .iter()
        .map(|c| corpus.join(c))
        .filter(|p| p.is_file())
        .collect();
    assert!(found.len() >= 10, "corpus captures missing: {found:?}");
    Some(found)
}

/// Every capture file under `dir`.
fn captures_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        let name = p.to_string_lossy().to_string();
        if p.is_dir() {
            out.extend(captures_under(&p));
        } else if [
            ".pcap",
            ".pcapng",
            ".pcap.gz",
            ".pcapng.gz",
            ".cap",
            ".dump",
        ]
        .iter()
        .any(|ext| name.ends_with(ext))
        {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Addresses that keep their value (unspecified, broadcast, loopback, multicast), written
/// independently of the library's own list.
fn kept_as_is(a: IpAddr) -> bool {
    match a {
        IpAddr::V4(v) => {
            v.is_unspecified() || v.is_broadcast() || v.is_loopback() || v.is_multicast()
        }
        IpAddr::V6(v) => v.is_unspecified() || v.is_loopback() || v.is_multicast(),
    }
}

/// What the rewriter must turn `a` into.
fn expected(p: &mut Pseudonymizer, a: IpAddr) -> IpAddr {
    if kept_as_is(a) {
        a
    } else {
        p.ip(a).unwrap()
    }
}

fn anonymized(input: &Path, dir: &Path, payload: PayloadPolicy) -> PathBuf {
    let name = input
        .file_name()
        .unwrap()
        .to_string_lossy()
        .replace(".gz", "");
    let out = dir.join(format!("anon-{name}"));
    let mut p = pseudonymizer();
    let options = AnonymizeOptions {
        payload,
        force: false,
    };
    let report = anonymize(input, &out, &mut p, &options)
        .unwrap_or_else(|e| panic!("{}: {e}", input.display()));
    assert!(report.packets > 0, "{}: no packets", input.display());
    out
}

// ----- round trip -----

/// (time, original length, captured length, link type, interface) of every packet.
fn packets(path: &Path) -> (CaptureFormat, Vec<(i64, u32, usize, u32)>) {
    let mut r = FileReader::open(path).unwrap();
    let mut out = Vec::new();
    while let Ok(Some(p)) = r.next_packet() {
        out.push((p.ts, p.orig_len, p.data.len(), p.linktype.0));
    }
    (r.format(), out)
}

#[test]
fn round_trip_keeps_packets_times_lengths_and_format() {
    let dir = tempfile::tempdir().unwrap();
    let mut inputs = vec![sample()];
    if let Some(corpus) = custos_test_support::shared().map(|s| s.join("corpus")) {
        for c in [
            "zeek/traces/pcapng-multi-interface.pcapng",
            "zeek/traces/echo-connections.pcap.gz",
            "zeek/traces/tunnels/vxlan.pcap",
        ] {
            inputs.push(corpus.join(c));
        }
    }
    for input in inputs.iter().filter(|p| p.is_file()) {
        let out = anonymized(input, dir.path(), PayloadPolicy::Keep);
        let (format_in, before) = packets(input);
        let (format_out, after) = packets(&out);
        assert_eq!(before, after, "{}", input.display());
        match format_in {
            CaptureFormat::Pcap { nanos, .. } => assert!(
                matches!(format_out, CaptureFormat::Pcap { nanos: n, .. } if n == nanos),
                "{format_out:?}"
            ),
            other => assert_eq!(format_out, other),
        }
    }
}

#[test]
fn a_capture_without_packets_keeps_its_link_type() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("empty.pcap");
    let w = custos_capture::PcapWriter::new(Vec::new(), 101, 1500).unwrap();
    std::fs::write(&input, w.finish().unwrap()).unwrap();
    let out = dir.path().join("out.pcap");
    let mut p = pseudonymizer();
    let report = anonymize(&input, &out, &mut p, &AnonymizeOptions::default()).unwrap();
    assert_eq!(report.packets, 0);
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(bytes.len(), 24);
    assert_eq!(&bytes[16..24], &[0xdc, 0x05, 0, 0, 101, 0, 0, 0]);
    let r = FileReader::open(&out).unwrap();
    assert_eq!(
        r.format(),
        CaptureFormat::Pcap {
            nanos: true,
            big_endian: false
        }
    );
}

#[test]
fn payload_policy_cuts_captured_bytes_but_keeps_original_lengths() {
    let dir = tempfile::tempdir().unwrap();
    let input = sample();
    let (_, before) = packets(&input);
    for (policy, name) in [
        (PayloadPolicy::Truncate(8), "t8"),
        (PayloadPolicy::Drop, "d"),
    ] {
        let sub = dir.path().join(name);
        std::fs::create_dir(&sub).unwrap();
        let out = anonymized(&input, &sub, policy);
        let (_, after) = packets(&out);
        assert_eq!(before.len(), after.len());
        let mut shorter = 0;
        for (b, a) in before.iter().zip(&after) {
            assert_eq!((b.0, b.1, b.3), (a.0, a.1, a.3));
            assert!(a.2 <= b.2);
            shorter += usize::from(a.2 < b.2);
        }
        assert!(shorter > 0, "{policy}: nothing was cut");
    }
}

#[test]
fn existing_output_is_refused_unless_forced_and_input_never_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.pcap");
    std::fs::write(&out, b"precious").unwrap();
    let mut p = pseudonymizer();
    let mut options = AnonymizeOptions::default();
    let err = anonymize(&sample(), &out, &mut p, &options).unwrap_err();
    assert!(
        matches!(err, Error::OutputExists { ref path } if *path == out),
        "{err}"
    );
    assert_eq!(std::fs::read(&out).unwrap(), b"precious");
    options.force = true;
    anonymize(&sample(), &out, &mut p, &options).unwrap();
    assert_eq!(packets(&out).1.len(), packets(&sample()).1.len());
    let copy = dir.path().join("copy.pcap");
    std::fs::copy(sample(), &copy).unwrap();
    let err = anonymize(&copy, &copy, &mut p, &options).unwrap_err();
    assert!(matches!(err, Error::OutputIsInput { .. }), "{err}");
    // Nothing but the two files: no temporary file was left behind.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
}

#[test]
fn a_colliding_pseudonym_refuses_the_whole_capture() {
    // Keep a network that holds the pseudonym of one of the sample's hosts.
    let first = {
        let mut r = FileReader::open(&sample()).unwrap();
        let mut d = Decoder::new(DecoderConfig::default());
        let mut first = None;
        while let (Ok(Some(p)), None) = (r.next_packet(), first) {
            first = d
                .decode(p.linktype.0, p.ts, p.data)
                .innermost()
                .map(|l| l.src);
        }
        first.unwrap()
    };
    let pseudonym = CryptoPan::new(key().cryptopan_key()).encrypt(first);
    let kept = Network::new(pseudonym, if pseudonym.is_ipv4() { 32 } else { 128 }).unwrap();
    let mut p = Pseudonymizer::new(&key(), Policy::default().with_keep_network(kept));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.pcap");
    let err = anonymize(&sample(), &out, &mut p, &AnonymizeOptions::default()).unwrap_err();
    match &err {
        Error::Packet { cause, .. } => {
            assert!(matches!(**cause, Error::Collision { network, .. } if network == kept));
        }
        other => panic!("unexpected error {other}"),
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

// ----- decoding: the same layers, addresses mapped -----

/// A decoded IP layer without its addresses, and its addresses.
type Layer = (String, (IpAddr, IpAddr));

fn layers(d: &Decoded<'_>) -> (Vec<Layer>, bool) {
    let ls = d
        .ip_layers()
        .map(|l| {
            let t = match l.transport {
                Transport::Tcp {
                    src_port,
                    dst_port,
                    flags,
                    seq,
                    ack,
                    window,
                    payload_len,
                    ..
                } => {
                    format!("tcp {src_port} {dst_port} {flags} {seq} {ack} {window} {payload_len}")
                }
                Transport::Udp {
                    src_port,
                    dst_port,
                    payload_len,
                    ..
                } => format!("udp {src_port} {dst_port} {payload_len}"),
                Transport::Icmp {
                    msg_type,
                    code,
                    payload_len,
                    ..
                } => format!("icmp {msg_type} {code} {payload_len}"),
                Transport::Other { payload } => format!("other {}", payload.len()),
                Transport::Fragment => "fragment".into(),
                Transport::Malformed => "malformed".into(),
            };
            let desc = format!(
                "{} {} {} {:?} {} {:?} {} {t}",
                l.protocol,
                l.ip_len,
                l.ttl,
                l.encap,
                l.reassembled,
                l.l4_checksum,
                l.carries_tunnel
            );
            (desc, (l.src, l.dst))
        })
        .collect();
    (ls, d.bad_ip_checksum)
}

/// Rewrites every packet of `path` and checks that the decoder sees the same layers, lengths,
/// ports and checksum verdicts, with every address mapped; returns the packets compared.
fn decodes_the_same(path: &Path, p: &mut Pseudonymizer) -> Result<u64, String> {
    let Ok(mut reader) = FileReader::open(path) else {
        return Ok(0);
    };
    let mut check = pseudonymizer();
    let mut rewriter = FrameRewriter::new(p, PayloadPolicy::Keep).unwrap();
    let (mut before, mut after) = (
        Decoder::new(DecoderConfig::default()),
        Decoder::new(DecoderConfig::default()),
    );
    let mut frame = Vec::new();
    let mut n = 0;
    while let Ok(Some(pkt)) = reader.next_packet() {
        frame.clear();
        frame.extend_from_slice(pkt.data);
        match rewriter.rewrite(pkt.linktype.0, &mut frame) {
            Ok(_) => {}
            Err(Error::Collision { .. }) => return Err(format!("collision at {}", pkt.index)),
            Err(e) => panic!("{}: {e}", path.display()),
        }
        assert_eq!(frame.len(), pkt.data.len(), "keep changes no length");
        let (l0, bad0) = layers(&before.decode(pkt.linktype.0, pkt.ts, pkt.data));
        let (l1, bad1) = layers(&after.decode(pkt.linktype.0, pkt.ts, &frame));
        let at = format!("{} packet {}", path.display(), pkt.index);
        assert_eq!(bad0, bad1, "{at}: IPv4 header checksum verdict");
        assert_eq!(l0.len(), l1.len(), "{at}: layers {l0:?} / {l1:?}");
        for ((d0, (s0, t0)), (d1, (s1, t1))) in l0.iter().zip(&l1) {
            assert_eq!(d0, d1, "{at}");
            assert_eq!(
                (expected(&mut check, *s0), expected(&mut check, *t0)),
                (*s1, *t1),
                "{at}"
            );
        }
        n += 1;
    }
    Ok(n)
}

#[test]
fn sample_decodes_the_same_after_rewriting() {
    let mut p = pseudonymizer();
    assert_eq!(decodes_the_same(&sample(), &mut p), Ok(241));
}

#[test]
fn every_corpus_capture_decodes_the_same_after_rewriting() {
    let Some(shared) = custos_test_support::shared() else {
        return;
    };
    let corpus = shared.join("corpus");
    let (mut files, mut packets, mut refused) = (0, 0, Vec::new());
    for path in captures_under(&corpus) {
        // Zeek's "bad" checksums of IPv6 packets with a routing header or a home address are
        // made over the header's addresses, which custos-decode uses (RFC 8200 §8.1 and RFC
        // 6275 §6.3 say final destination and home address): the rewrite follows the RFCs,
        // so custos's verdict on these crafted packets changes, as documented.
        let name = path.file_name().unwrap().to_string_lossy();
        if (name.starts_with("ip6-route0-") || name.starts_with("ip6-hoa-"))
            && name.contains("bad-chksum")
        {
            continue;
        }
        let mut p = pseudonymizer();
        match decodes_the_same(&path, &mut p) {
            Ok(n) => {
                files += 1;
                packets += n;
            }
            Err(e) => refused.push(format!("{}: {e}", path.display())),
        }
    }
    eprintln!("{files} captures, {packets} packets; refused: {refused:?}");
    assert!(
        files > 1000 && packets > 100_000,
        "{files} files, {packets} packets"
    );
    // Collisions with multicast or loopback addresses of the same capture are possible but
    // rare: no more than a handful of captures.
    assert!(refused.len() <= 3, "{refused:?}");
}

// ----- no panic, no verdict change, on damaged frames -----

/// Frames (link type, bytes) of the sample and, with the corpus, of tunnel and ICMP captures.
fn seed_frames() -> Vec<(u32, Vec<u8>)> {
    let mut paths = vec![sample()];
    if let Some(shared) = custos_test_support::shared() {
        let corpus = shared.join("corpus/zeek/traces");
        paths.extend(captures_under(&corpus.join("tunnels")));
        paths.extend(captures_under(&corpus.join("icmp")));
        paths.extend(captures_under(&corpus.join("dhcp")));
        paths.extend(captures_under(&corpus.join("chksums")));
    }
    let mut frames = Vec::new();
    // See every_corpus_capture_decodes_the_same_after_rewriting for why these are left out.
    paths.retain(|p| {
        let name = p.file_name().unwrap().to_string_lossy();
        !((name.starts_with("ip6-route0-") || name.starts_with("ip6-hoa-"))
            && name.contains("bad-chksum"))
    });
    for path in paths {
        let Ok(mut r) = FileReader::open(&path) else {
            continue;
        };
        let mut taken = 0;
        while let (Ok(Some(p)), true) = (r.next_packet(), taken < 40) {
            frames.push((p.linktype.0, p.data.to_vec()));
            taken += 1;
        }
    }
    frames
}

#[test]
fn mutated_frames_never_panic_nor_change_a_checksum_verdict() {
    let seeds = seed_frames();
    assert!(seeds.len() >= 200);
    let mut rng = Rng(0x5eed);
    let mut p = pseudonymizer();
    let mut rewriter = FrameRewriter::new(&mut p, PayloadPolicy::Keep).unwrap();
    let mut cut = pseudonymizer();
    let mut cutter = FrameRewriter::new(&mut cut, PayloadPolicy::Truncate(3)).unwrap();
    let (mut runs, mut compared) = (0u64, 0u64);
    // ANONYMIZE_FUZZ_ROUNDS=1300 gives the long run (over a million rewrites).
    let rounds = std::env::var("ANONYMIZE_FUZZ_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(60);
    for (linktype, seed) in &seeds {
        for _ in 0..rounds {
            let mut f = seed.clone();
            match rng.index(4) {
                // Flip a few bytes, favouring the headers.
                0 | 1 => {
                    for _ in 0..1 + rng.index(4) {
                        let span = if rng.index(4) == 0 {
                            f.len()
                        } else {
                            f.len().min(96)
                        };
                        let at = rng.index(span);
                        if let Some(b) = f.get_mut(at) {
                            *b = rng.next_u64() as u8;
                        }
                    }
                }
                // Cut the frame anywhere.
                2 => f.truncate(rng.index(f.len() + 1)),
                // Random link type.
                _ => {}
            }
            let lt = if rng.index(8) == 0 {
                rng.index(300) as u32
            } else {
                *linktype
            };
            let mut out = f.clone();
            runs += 1;
            if rewriter.rewrite(lt, &mut out).is_err() {
                continue;
            }
            assert_eq!(out.len(), f.len());
            let mut short = f.clone();
            let _ = cutter.rewrite(lt, &mut short);
            assert!(short.len() <= f.len());
            let mut d0 = Decoder::new(DecoderConfig::default());
            let mut d1 = Decoder::new(DecoderConfig::default());
            let (l0, b0) = layers(&d0.decode(lt, 0, &f));
            let (l1, b1) = layers(&d1.decode(lt, 0, &out));
            assert_eq!(b0, b1, "IPv4 checksum verdict, frame {f:02x?}");
            let d0: Vec<&String> = l0.iter().map(|l| &l.0).collect();
            let d1: Vec<&String> = l1.iter().map(|l| &l.0).collect();
            assert_eq!(d0, d1, "frame {f:02x?}");
            compared += 1;
        }
    }
    eprintln!("{runs} rewrites of damaged frames, {compared} compared");
    assert!(compared > runs / 2);
}

// ----- conn.log: the same flows -----

/// conn.log rows of one run over `capture`, addresses mapped by `map`, without the columns
/// that must differ (uid, community_id, tunnel_parents' uids, pcap_file, local_orig and
/// local_resp — which depend on the address ranges).
fn conn_rows(capture: &Path, map: &mut dyn FnMut(IpAddr) -> IpAddr) -> Vec<Vec<String>> {
    let out = tempfile::tempdir().unwrap();
    let mut cfg = EngineConfig {
        threads: 1,
        ..EngineConfig::default()
    };
    cfg.output.dir = Some(out.path().to_path_buf());
    cfg.output.sinks = vec!["conn.log".into()];
    Engine::new(cfg)
        .unwrap()
        .run(Source::Files(vec![capture.to_path_buf()]))
        .unwrap_or_else(|e| panic!("{}: {e}", capture.display()));
    let text = std::fs::read_to_string(out.path().join("conn.log")).unwrap();
    let mut fields: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for line in text.lines() {
        if let Some(names) = line.strip_prefix("#fields\t") {
            fields = names.split('\t').map(str::to_string).collect();
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        let mut row = Vec::new();
        for (name, value) in fields.iter().zip(line.split('\t')) {
            match name.as_str() {
                "uid" | "community_id" | "pcap_file" | "local_orig" | "local_resp" => {}
                "id.orig_h" | "id.resp_h" => {
                    row.push(map(value.parse().unwrap()).to_string());
                }
                "tunnel_parents" => {
                    let n = if value == "-" {
                        0
                    } else {
                        value.split(',').count()
                    };
                    row.push(format!("{n} parents"));
                }
                _ => row.push(value.to_string()),
            }
        }
        rows.push(row);
    }
    rows.sort();
    rows
}

/// Asserts that `capture` and its anonymisation give the same conn.log.
fn same_conn_log(capture: &Path, dir: &Path) {
    let anon = anonymized(capture, dir, PayloadPolicy::Keep);
    let mut p = pseudonymizer();
    let want = conn_rows(capture, &mut |a| expected(&mut p, a));
    let got = conn_rows(&anon, &mut |a| a);
    assert!(!want.is_empty(), "{}: no flows", capture.display());
    let report: BTreeMap<usize, (&Vec<String>, Option<&Vec<String>>)> = want
        .iter()
        .enumerate()
        .filter(|(i, w)| got.get(*i) != Some(*w))
        .map(|(i, w)| (i, (w, got.get(i))))
        .take(3)
        .collect();
    assert_eq!(want.len(), got.len(), "{}: flow count", capture.display());
    assert!(report.is_empty(), "{}: {report:#?}", capture.display());
}

#[test]
fn anonymised_sample_gives_the_same_conn_log() {
    let dir = tempfile::tempdir().unwrap();
    same_conn_log(&sample(), dir.path());
}

#[test]
fn anonymised_corpus_captures_give_the_same_conn_log() {
    let Some(captures) = flow_captures() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for capture in captures {
        same_conn_log(&capture, dir.path());
    }
}

// ----- steady state -----

#[test]
fn rewriting_allocates_nothing_per_frame_in_steady_state() {
    let frames = seed_frames();
    let mut p = pseudonymizer();
    let mut rewriter = FrameRewriter::new(&mut p, PayloadPolicy::Truncate(16)).unwrap();
    let mut buf = Vec::with_capacity(1 << 16);
    let mut pass = |rewriter: &mut FrameRewriter<'_>| {
        for (linktype, f) in &frames {
            buf.clear();
            buf.extend_from_slice(f);
            rewriter.rewrite(*linktype, &mut buf).unwrap();
        }
    };
    pass(&mut rewriter); // warm-up: memo tables, scratch buffers, special-address sets
    let before = ALLOCS.with(Cell::get);
    pass(&mut rewriter);
    let allocations = ALLOCS.with(Cell::get) - before;
    assert_eq!(allocations, 0, "over {} frames", frames.len());
}
