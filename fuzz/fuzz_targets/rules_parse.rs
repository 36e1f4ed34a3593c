//! Suricata rules: the input (UTF-8, lossy) as a rule file through the parser with the
//! default variables, the loaded rules compiled, and — when any compiled — the packet matcher
//! over a few fixed frames whose payloads come from the input's last 64 bytes: a TCP
//! handshake, two data segments that split those bytes (so stream-window matches are
//! reached), a server reply, a FIN, a UDP datagram and an ICMP echo. So the content, pcre,
//! byte_test, byte_jump, isdataat, flowbits and threshold paths run on rules the fuzzer writes.
//!
//! Properties: nothing panics or hangs; every error and rule has a line inside the input;
//! every hit names a rule of the set, a rule hits at most once per packet, and the matcher's
//! hit counter equals the hits returned.
#![no_main]

use custos_decode::wire::{
    icmp, EthernetRepr, FrameBuilder, IcmpRepr, Ipv4Repr, Mac, TcpRepr, UdpRepr,
};
use custos_decode::{ChecksumMode, Decoder, DecoderConfig};
use custos_rules::parse::parse_file;
use custos_rules::{Classifications, LoadReport, Matcher, RuleSet, Vars};
use libfuzzer_sys::fuzz_target;
use std::net::Ipv4Addr;

const CLIENT: [u8; 4] = [192, 168, 1, 10];
const SERVER: [u8; 4] = [10, 0, 0, 2];

#[allow(clippy::too_many_arguments)]
fn frame(
    proto: u8,
    to_server: bool,
    sport: u16,
    dport: u16,
    flags: u8,
    seq: u32,
    ack: u32,
    payload: &[u8],
) -> Vec<u8> {
    let (cmac, smac) = (Mac([2, 0, 0, 0, 0, 1]), Mac([2, 0, 0, 0, 0, 2]));
    let (src_mac, dst_mac, src_ip, dst_ip, sp, dp) = if to_server {
        (cmac, smac, CLIENT, SERVER, sport, dport)
    } else {
        (smac, cmac, SERVER, CLIENT, dport, sport)
    };
    let ethernet = EthernetRepr {
        src_addr: src_mac,
        dst_addr: dst_mac,
        ..EthernetRepr::default()
    };
    let ip = Ipv4Repr {
        src_addr: Ipv4Addr::from(src_ip),
        dst_addr: Ipv4Addr::from(dst_ip),
        ident: 0x1234,
        dont_frag: true,
        ..Ipv4Repr::default()
    };
    let b = FrameBuilder::new(ethernet, ip);
    match proto {
        6 => b.tcp(&TcpRepr {
            src_port: sp,
            dst_port: dp,
            seq_number: seq,
            ack_number: ack,
            flags,
            window_len: 0xffff,
            payload,
            ..TcpRepr::default()
        }),
        17 => b.udp(&UdpRepr {
            src_port: sp,
            dst_port: dp,
            payload,
        }),
        // ICMP echo request: identifier 1, sequence 1.
        _ => b.icmp(&IcmpRepr::echo(icmp::ECHO_REQUEST, 1, 1, payload)),
    }
}

/// The frames every input is matched against.
fn frames(tail: &[u8]) -> Vec<Vec<u8>> {
    let (a, b) = tail.split_at(tail.len() / 2);
    let (c, s) = (1000u32, 5000u32);
    let n = tail.len() as u32;
    let half = a.len() as u32;
    vec![
        // Before the handshake: a data packet on another flow (not established).
        frame(6, true, 40001, 80, 0x18, 7, 0, tail),
        // The handshake on 40000 -> 80.
        frame(6, true, 40000, 80, 0x02, c, 0, b""),
        frame(6, false, 40000, 80, 0x12, s, c + 1, b""),
        frame(6, true, 40000, 80, 0x10, c + 1, s + 1, b""),
        // The input's tail in two segments, then the server's reply (the whole tail).
        frame(6, true, 40000, 80, 0x18, c + 1, s + 1, a),
        frame(6, true, 40000, 80, 0x18, c + 1 + half, s + 1, b),
        frame(6, false, 40000, 80, 0x18, s + 1, c + 1 + n, tail),
        // A retransmission of the second segment, then the close.
        frame(6, true, 40000, 80, 0x18, c + 1 + half, s + 1, b),
        frame(6, true, 40000, 80, 0x11, c + 1 + n, s + 1 + n, b""),
        // UDP both ways, and an ICMP echo.
        frame(17, true, 40002, 53, 0, 0, 0, tail),
        frame(17, false, 40002, 53, 0, 0, 0, tail),
        frame(1, true, 0, 0, 0, 0, 0, tail),
    ]
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut report = LoadReport::default();
    parse_file(&text, "fuzz.rules", &Vars::default(), &mut report);
    let lines = text.lines().count().max(1);
    for e in &report.errors {
        assert!(e.location.line >= 1 && e.location.line <= lines, "{e}");
        let _ = e.to_string();
    }
    for s in &report.skipped {
        assert!(s.location.line >= 1 && s.location.line <= lines, "{s}");
        let _ = s.to_string();
    }
    for r in &report.rules {
        assert!(r.location.line >= 1 && r.location.line <= lines);
    }
    let _ = report.skipped_by_keyword();
    if report.rules.is_empty() {
        return;
    }
    let (set, _refused) = RuleSet::compile(report.rules, &Classifications::builtin());
    if set.is_empty() {
        return;
    }
    let rules = set.len();
    let mut matcher = Matcher::new(set);
    let mut decoder = Decoder::new(DecoderConfig {
        checksums: ChecksumMode::Ignore,
        ..DecoderConfig::default()
    });
    let tail = data
        .get(data.len().saturating_sub(64)..)
        .unwrap_or_default();
    let mut hits = Vec::new();
    for (i, f) in frames(tail).iter().enumerate() {
        let ts = 1_700_000_000_000_000_000 + i as i64 * 1_000_000;
        let decoded = decoder.decode(1, ts, f);
        let before = hits.len();
        matcher.packet(ts, (&decoded, f, None), &mut hits);
        // A rule alerts at most once per packet.
        let mut on_this: Vec<u32> = hits[before..].iter().map(|h| h.rule).collect();
        on_this.sort_unstable();
        let n = on_this.len();
        on_this.dedup();
        assert_eq!(on_this.len(), n, "a rule hit twice on frame {i}");
    }
    for h in &hits {
        assert!((h.rule as usize) < rules);
        assert!(matcher.rules().rule(h.rule).is_some());
        let _ = matcher.rules().classification(h.rule);
    }
    assert_eq!(matcher.counts().hits, hits.len() as u64);
});
