//! Packet rules: header, flow options, header keywords and payload keywords on the packet
//! and on the reassembled stream window of its direction.

use super::endpoints::header_matches;
use super::headers::header;
use super::inspect::inspect_ending_after;
use super::state::{PacketFlow, Stream, Thresholds};
use super::{
    apply_flowbits, flowbits_ok, order_key, thresholds_ok, Compiled, Hit, MatchCounts, Matcher,
    RuleSet,
};
use crate::ast::{
    Buffer, Condition, FlagsMode, FlagsTest, FlowDir, HeaderBuffer, HeaderTest, IntCmp, PortExpr,
    Proto,
};
use crate::transform;
use custos_decode::{Decoded, Encap, IpLayer, Transport};
use custos_flow::FlowKey;
use std::net::IpAddr;

/// What a packet offers rules.
struct PacketInfo<'a> {
    layer: &'a IpLayer<'a>,
    src: (IpAddr, u16),
    dst: (IpAddr, u16),
    payload: &'a [u8],
    /// The raw IPv4 header, when the layer is IPv4 and not rebuilt from fragments.
    ipv4_header: Option<&'a [u8]>,
    /// The captured frame.
    frame: &'a [u8],
}

pub(super) fn evaluate(
    m: &mut Matcher,
    ts: i64,
    (decoded, data, app_proto): (&Decoded<'_>, &[u8], Option<&'static str>),
    hits: &mut Vec<Hit>,
) {
    let Some(layer) = decoded.innermost() else {
        return;
    };
    let Some((info, tcp)) = packet_info(layer, data) else {
        return;
    };
    let Matcher {
        set,
        flows,
        thresholds,
        candidates,
        counts,
        ..
    } = m;
    let key = FlowKey::of_layer(layer, decoded.vlans);
    // Suricata counts a packet's captured length; a tunnelled one from its inner IP header.
    let len = match layer.encap {
        Encap::None => data.len(),
        _ => data.len().saturating_sub(layer.offset),
    };
    let (flow, view) = flows.packet(
        key,
        ts,
        info.src,
        info.dst,
        tcp.map(|t| t.0),
        (!info.payload.is_empty(), len),
    );
    if flow.passed {
        return;
    }
    if app_proto.is_some() {
        flow.app_proto = app_proto;
    }
    // The stream window of this direction, with how many of its bytes are new (an RST's
    // payload never joins the stream, as in Suricata).
    let [to_server_stream, to_client_stream] = &mut flow.streams;
    let dir_stream = if view.to_server {
        to_server_stream
    } else {
        to_client_stream
    };
    let new_bytes = match tcp {
        Some((flags, seq)) if flags & 0x04 == 0 => {
            dir_stream.add(seq, flags & 0x02 != 0, info.payload)
        }
        _ => 0,
    };
    let stream = tcp
        .map(|_| dir_stream.window.as_slice())
        .filter(|_| new_bytes > 0);
    let seg = Segment {
        tcp: tcp.is_some(),
        stream,
        new_bytes,
    };
    let found = gather_candidates(set, candidates, info.payload, &seg, dir_stream);
    if candidates.is_empty() {
        return;
    }
    let packet = Packet {
        info,
        view,
        seg,
        key,
        ts,
    };
    let flow_refs = FlowRefs {
        bits: &mut flow.bits,
        passed: &mut flow.passed,
        app_proto: flow.app_proto,
    };
    run_candidates(
        (set, candidates),
        (counts, thresholds),
        &packet,
        flow_refs,
        hits,
    );
    if !found.is_empty() {
        dir_stream.remember(&found);
    }
}

/// What a packet offers rules, with the TCP flags and sequence number of a TCP segment;
/// `None` for a fragment or a malformed transport.
fn packet_info<'a>(
    layer: &'a IpLayer<'a>,
    data: &'a [u8],
) -> Option<(PacketInfo<'a>, Option<(u8, u32)>)> {
    let (sport, dport, payload, tcp) = match layer.transport {
        Transport::Tcp {
            src_port,
            dst_port,
            payload,
            flags,
            seq,
            ..
        } => (src_port, dst_port, payload, Some((flags, seq))),
        Transport::Udp {
            src_port,
            dst_port,
            payload,
            ..
        } => (src_port, dst_port, payload, None),
        Transport::Icmp {
            msg_type,
            code,
            payload,
            ..
        } => (u16::from(msg_type), u16::from(code), payload, None),
        Transport::Other { payload } => (0, 0, payload, None),
        Transport::Fragment | Transport::Malformed => return None,
    };
    let ipv4_header = (layer.src.is_ipv4() && !layer.reassembled)
        .then(|| data.get(layer.offset..))
        .flatten()
        .and_then(|h| {
            let ihl = usize::from(h.first()? & 0x0f) * 4;
            h.get(..ihl)
        });
    let info = PacketInfo {
        layer,
        src: (layer.src, sport),
        dst: (layer.dst, dport),
        payload,
        ipv4_header,
        frame: data,
    };
    Some((info, tcp))
}

/// Fills `candidates` with the rules to evaluate on a packet, sorted in evaluation order:
/// those without a fast pattern, those whose pattern occurs in its new bytes (or in the
/// packet, off a stream) and those pending in the stream window of its direction. Returns
/// the rules found in this segment's new bytes, to remember for the stream's next segments.
fn gather_candidates(
    set: &mut RuleSet,
    candidates: &mut Vec<u32>,
    payload: &[u8],
    seg: &Segment<'_>,
    dir_stream: &Stream,
) -> Vec<u32> {
    let new_bytes = seg.new_bytes;
    candidates.clear();
    candidates.extend_from_slice(&set.packet_always);
    let scanned_from = candidates.len();
    match seg.stream {
        // The new bytes and the patterns that cross into them from the window; patterns
        // wholly in earlier bytes were found then and are pending.
        Some(w) => {
            let old = w.len() - new_bytes;
            let back = set.packet_prefilter.longest().saturating_sub(1).min(old);
            set.packet_prefilter
                .scan(w.get(old - back..).unwrap_or_default(), candidates);
        }
        None if !payload.is_empty() => set.packet_prefilter.scan(payload, candidates),
        None => {}
    }
    let scanned_to = candidates.len();
    if new_bytes > 0 {
        candidates.extend(dir_stream.pending());
    }
    // Rules found in this segment's bytes: remembered for the stream's next segments.
    let found: Vec<u32> = if new_bytes > 0 {
        candidates
            .get(scanned_from..scanned_to)
            .unwrap_or_default()
            .to_vec()
    } else {
        Vec::new()
    };
    candidates.sort_unstable_by_key(|&i| order_key(set, i));
    candidates.dedup();
    found
}

/// A packet as its candidate rules see it.
struct Packet<'a> {
    /// What it offers rules.
    info: PacketInfo<'a>,
    /// How it sees its flow.
    view: PacketFlow,
    /// The bytes it offers payload keywords.
    seg: Segment<'a>,
    /// Its flow.
    key: FlowKey,
    /// Its time.
    ts: i64,
}

/// The state of a packet's flow that its rules read and write.
struct FlowRefs<'f> {
    /// Flowbits set.
    bits: &'f mut Vec<String>,
    /// A `pass` rule matched.
    passed: &'f mut bool,
    /// The flow's application protocol.
    app_proto: Option<&'static str>,
}

/// Evaluates the candidate rules, in order, on a packet: counts them, applies their
/// flowbits, `pass` and thresholds, and adds a hit for each that alerts.
fn run_candidates(
    (set, candidates): (&RuleSet, &[u32]),
    (counts, thresholds): (&mut MatchCounts, &mut Thresholds),
    p: &Packet<'_>,
    flow: FlowRefs<'_>,
    hits: &mut Vec<Hit>,
) {
    let info = &p.info;
    for &i in candidates {
        let Some(c) = set.rules.get(i as usize) else {
            continue;
        };
        // IP-only rules (a header and nothing to inspect) look at the first packet of each
        // direction of a flow, as Suricata's IP-only engine does.
        if c.ip_only && !p.view.first_in_direction {
            continue;
        }
        counts.evaluated += 1;
        let Some(via_stream) = packet_matches(c, info, p.view, flow.app_proto, &p.seg) else {
            continue;
        };
        if !flowbits_ok(&c.rule, Some(flow.bits)) {
            continue;
        }
        counts.matched += 1;
        let noalert = apply_flowbits(&c.rule, Some(&mut *flow.bits));
        if c.rule.action == crate::ast::Action::Pass {
            // A pass rule passes the flow when it matched the stream or is IP-only;
            // otherwise only this packet (Suricata's pass scopes).
            if via_stream || c.ip_only {
                *flow.passed = true;
            }
            break;
        }
        if noalert
            || !thresholds_ok(
                thresholds,
                i,
                &c.rule,
                p.ts,
                (
                    info.src.0,
                    info.dst.0,
                    super::flow_hash(&p.key),
                    (info.src.1, info.dst.1),
                ),
            )
        {
            continue;
        }
        counts.hits += 1;
        hits.push(Hit {
            rule: i,
            app_proto: flow.app_proto,
            metadata: None,
        });
    }
}

/// The bytes a packet offers payload keywords.
struct Segment<'a> {
    /// It is a TCP segment.
    tcp: bool,
    /// The stream window of its direction, when it added bytes to it.
    stream: Option<&'a [u8]>,
    /// Bytes it added to the window (at its end).
    new_bytes: usize,
}

/// A packet rule against a packet: `Some(true)` when it matched through the stream,
/// `Some(false)` on the packet alone, `None` when it does not match.
///
/// On TCP, payload keywords read the reassembled stream, and match when the match needs this
/// segment's new bytes; they read the packet itself only for `tcp-pkt`/`no_stream` rules and
/// rules with `dsize` or an absolute `depth`/`offset` (as Suricata). Other packets are read as
/// they are.
fn packet_matches(
    c: &Compiled,
    p: &PacketInfo<'_>,
    view: PacketFlow,
    app_proto: Option<&str>,
    seg: &Segment<'_>,
) -> Option<bool> {
    let r = &c.rule;
    let proto_ok = match r.proto {
        Proto::Ip => true,
        Proto::Tcp => p.layer.protocol == 6,
        Proto::Udp => p.layer.protocol == 17,
        Proto::Icmp => matches!(p.layer.transport, Transport::Icmp { .. }),
        // A packet rule of an application protocol: the flow must carry it (DNS rules read
        // mDNS too).
        Proto::App(_) => c.app_gate.is_some_and(|want| {
            app_proto.is_some_and(|have| have == want || (want == "dns" && have == "mdns"))
        }),
    };
    if !proto_ok {
        return None;
    }
    // Only TCP and UDP have ports: a rule naming ports matches nothing else (ICMP's type and
    // code are not ports), as in Suricata.
    let ported = matches!(
        p.layer.transport,
        Transport::Tcp { .. } | Transport::Udp { .. }
    );
    if !ported && (r.src_ports != PortExpr::Any || r.dst_ports != PortExpr::Any) {
        return None;
    }
    if !(header_matches(r, p.src, p.dst) || (r.bidirectional && header_matches(r, p.dst, p.src))) {
        return None;
    }
    if r.flow.established.is_some_and(|e| e != view.established)
        || r.flow.to_server.is_some_and(|t| t != view.to_server)
    {
        return None;
    }
    for cond in &r.conditions {
        match cond {
            Condition::Header(h) if !header_test(h, p) => return None,
            Condition::FlowCount { bytes, dir, cmp } if !flow_count(view, *bytes, *dir, *cmp) => {
                return None
            }
            c @ Condition::AppProtocol { .. } if !c.app_protocol_matches(app_proto) => return None,
            _ => {}
        }
    }
    let read_packet =
        !seg.tcp || r.flow.stream == Some(false) || (r.flow.stream.is_none() && c.packet_too);
    let read_stream = seg.tcp && r.flow.stream != Some(false);
    let mut via_stream = false;
    let base64: Vec<&Condition> = c
        .base64
        .iter()
        .filter_map(|&i| r.conditions.get(i))
        .collect();
    for (buffer, idx) in &c.groups {
        let conds: Vec<&Condition> = idx.iter().filter_map(|&i| r.conditions.get(i)).collect();
        let group = (conds.as_slice(), base64.as_slice());
        if let Buffer::Header(h, chain) = buffer {
            // A packet buffer: when the packet lacks the header nothing matches, `absent`
            // included (Suricata matches absent buffers of transactions only).
            let bytes = header(*h, p.layer, p.frame)?;
            let bytes = transform::apply(chain.of(r), bytes);
            if !inspect_ending_after(&bytes, group, 0) {
                return None;
            }
            continue;
        }
        if *buffer != Buffer::Payload {
            return None;
        }
        let packet_ok = || read_packet && inspect_ending_after(p.payload, group, 0);
        // A match in the stream window counts when it ends in this segment's new bytes.
        let stream_ok = || {
            read_stream
                && seg
                    .stream
                    .is_some_and(|w| inspect_ending_after(w, group, w.len() - seg.new_bytes))
        };
        if packet_ok() {
            continue;
        }
        if !stream_ok() {
            return None;
        }
        via_stream = true;
    }
    Some(via_stream)
}

fn header_test(h: &HeaderTest, p: &PacketInfo<'_>) -> bool {
    let v4 = |range: std::ops::Range<usize>| p.ipv4_header.and_then(|h| h.get(range));
    match h {
        HeaderTest::Ttl(c) => c.test(u64::from(p.layer.ttl)),
        HeaderTest::IpProto(c) => c.test(u64::from(p.layer.protocol)),
        HeaderTest::Dsize(c) => c.test(p.payload.len() as u64),
        HeaderTest::IpId(c) => v4(4..6)
            .and_then(|b| b.first_chunk::<2>())
            .is_some_and(|b| c.test(u64::from(u16::from_be_bytes(*b)))),
        HeaderTest::Fragbits(f) => v4(6..7)
            .and_then(|b| b.first())
            .is_some_and(|b| flags_test(f, (b >> 5) & 0x07)),
        HeaderTest::IpOpt(want) => p.ipv4_header.is_some_and(|h| {
            let mut opts = h.get(20..).unwrap_or_default();
            while let Some((&kind, rest)) = opts.split_first() {
                if want.is_none_or(|w| w == kind) {
                    return kind != 0 || *want == Some(0);
                }
                if kind == 0 {
                    break;
                }
                if kind == 1 {
                    opts = rest;
                    continue;
                }
                let len = usize::from(rest.first().copied().unwrap_or(0)).max(2);
                opts = opts.get(len..).unwrap_or_default();
            }
            false
        }),
        HeaderTest::TcpFlags(f) => match p.layer.transport {
            Transport::Tcp { flags, .. } => flags_test(f, flags),
            _ => false,
        },
        HeaderTest::Window(c) => match p.layer.transport {
            Transport::Tcp { window, .. } => c.test(u64::from(window)),
            _ => false,
        },
        HeaderTest::Seq(s) => matches!(p.layer.transport, Transport::Tcp { seq, .. } if seq == *s),
        HeaderTest::Ack(a) => matches!(p.layer.transport, Transport::Tcp { ack, .. } if ack == *a),
        HeaderTest::Itype(c) => match p.layer.transport {
            Transport::Icmp { msg_type, .. } => c.test(u64::from(msg_type)),
            _ => false,
        },
        HeaderTest::Icode(c) => match p.layer.transport {
            Transport::Icmp { code, .. } => c.test(u64::from(code)),
            _ => false,
        },
        HeaderTest::IcmpId(c) => icmp_field(p, 4).is_some_and(|v| c.test(u64::from(v))),
        HeaderTest::IcmpSeq(c) => icmp_field(p, 6).is_some_and(|v| c.test(u64::from(v))),
    }
}

/// The 16-bit field at `at` (4: identifier, 6: sequence number) of an ICMP message that has
/// one, as Suricata's `icmp_id` and `icmp_seq` read them.
fn icmp_field(p: &PacketInfo<'_>, at: usize) -> Option<u16> {
    let Transport::Icmp { msg_type, v6, .. } = p.layer.transport else {
        return None;
    };
    let (has_id, which) = if v6 {
        // Echo request and reply.
        (matches!(msg_type, 128 | 129), HeaderBuffer::Icmpv6)
    } else {
        // Echo, timestamp, information and address mask messages and their replies.
        (
            matches!(msg_type, 0 | 8 | 13 | 14 | 15 | 16 | 17 | 18),
            HeaderBuffer::Icmpv4,
        )
    };
    if !has_id {
        return None;
    }
    let h = header(which, p.layer, p.frame)?;
    h.get(at..at + 2)
        .and_then(|b| b.first_chunk::<2>())
        .map(|b| u16::from_be_bytes(*b))
}

/// `flow.pkts` / `flow.bytes` against the flow's counters (this packet included).
fn flow_count(view: PacketFlow, bytes: bool, dir: FlowDir, cmp: IntCmp) -> bool {
    let [to_server, to_client] = if bytes { view.bytes } else { view.pkts };
    match dir {
        FlowDir::ToServer => cmp.test(to_server),
        FlowDir::ToClient => cmp.test(to_client),
        FlowDir::Either => cmp.test(to_server) || cmp.test(to_client),
        FlowDir::Both => cmp.test(to_server) && cmp.test(to_client),
    }
}

fn flags_test(f: &FlagsTest, value: u8) -> bool {
    let v = value & !f.ignore;
    match f.mode {
        FlagsMode::Exact => v == f.flags,
        FlagsMode::All => v & f.flags == f.flags,
        FlagsMode::Any => v & f.flags != 0,
        FlagsMode::None => v & f.flags == 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_exact_with_ignored_bits() {
        let syn_only = FlagsTest {
            flags: 0x02,
            ignore: 0xc0,
            mode: FlagsMode::Exact,
        };
        assert!(flags_test(&syn_only, 0x02));
        assert!(flags_test(&syn_only, 0xc2));
        assert!(!flags_test(&syn_only, 0x12));
    }
}
