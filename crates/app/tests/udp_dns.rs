//! DNS and mDNS parser agreement with other tools on real captures of the shared corpus:
//! every Zeek `dns.log` baseline under `zeek/app/` (transactions rebuilt the way Zeek's
//! `base/protocols/dns` builds them, compared field by field), tshark on the DNS/mDNS/LLMNR
//! captures (UDP, and TCP through reassembly and `DnsTcpParser`), and the suricata-verify
//! `mdns` case when its capture is present. Prints `dns (...): N of M fields agree (P %)`;
//! disagreements are explained in `docs/app-udp.md`. Skips without the corpus (unless
//! `CUSTOS_REQUIRE_SHARED=1`) and the tshark part without tshark (unless
//! `CUSTOS_REQUIRE_TSHARK=1`).

mod udp_common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use custos_app::dns;
use custos_app::{Direction, ReassemblyBudget, ReassemblyConfig, StreamReassembler, StreamSink};
use udp_common::*;

// ---------------------------------------------------------------- DNS vs Zeek

/// One transaction as Zeek's dns.log would show it, built from our parsed messages.
#[derive(Debug, Default, Clone)]
struct ZDns {
    conn: Option<(Endpoint, Endpoint)>,
    id: u16,
    query: Option<String>,
    original_query: Option<String>,
    qclass: Option<u16>,
    qtype: Option<u16>,
    rcode: Option<u16>,
    aa: bool,
    tc: bool,
    rd: bool,
    ra: bool,
    z: u8,
    /// Zeek's answer strings; `None` for a record type whose rendering we do not produce.
    answers: Vec<Option<String>>,
    ttls: Vec<u32>,
    rejected: bool,
    opcode: u8,
    saw_query: bool,
    saw_reply: bool,
}

/// How Zeek renders an answer: `Some(Some(s))` logged as `s`, `Some(None)` not logged (empty
/// reply), `None` a type we do not decode far enough to render.
fn zeek_answer(r: &dns::DnsRecord) -> Option<Option<String>> {
    use dns::DnsRdata as R;
    Some(Some(match &r.data {
        R::A(a) => a.to_string(),
        R::Aaaa(a) => a.to_string(),
        R::Name(n) if r.rrtype != 39 => n.to_lowercase(),
        R::Mx { exchange, .. } => exchange.to_lowercase(),
        R::Srv { target, .. } => target.to_lowercase(),
        R::Soa { mname, .. } => mname.to_lowercase(),
        R::Txt(v) => {
            let kind = if r.rrtype == 99 { "SPF" } else { "TXT" };
            v.iter()
                .map(|s| format!("{kind} {} {s}", unescaped_len(s)))
                .collect::<Vec<_>>()
                .join(" ")
        }
        _ if r.rrtype == 11 => return Some(None),
        _ => return None,
    }))
}

/// NetBIOS first-level decoding (RFC 1001 §14.1) of a name's first label, as Zeek's
/// `decode_netbios_name` (trailing spaces and the suffix byte dropped).
fn decode_netbios(name: &str) -> Option<String> {
    let label = name.split('.').next()?;
    let b = label.as_bytes();
    if b.len() != 32 || !b.iter().all(|c| (b'A'..=b'P').contains(c)) {
        return None;
    }
    let mut out: Vec<u8> = b
        .chunks(2)
        .map(|p| ((p[0] - b'A') << 4) | (p[1] - b'A'))
        .collect();
    out.pop();
    while out.last().is_some_and(|c| *c == b' ' || *c == 0) {
        out.pop();
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

fn zeek_dns_transactions(pkts: &[Pkt]) -> Vec<ZDns> {
    let ports = [53u16, 137, 5353, 5355];
    let mut done: Vec<ZDns> = Vec::new();
    // Pending per (connection, id): queries and replies, in order.
    let mut pending_q: BTreeMap<((Endpoint, Endpoint), u16), Vec<ZDns>> = BTreeMap::new();
    let mut pending_r: BTreeMap<((Endpoint, Endpoint), u16), Vec<ZDns>> = BTreeMap::new();
    // Responder of each connection (destination of its first packet).
    let mut responder: BTreeMap<(Endpoint, Endpoint), Endpoint> = BTreeMap::new();
    for p in pkts {
        if p.tcp.is_some() || !(ports.contains(&p.src.1) || ports.contains(&p.dst.1)) {
            continue;
        }
        let m = match dns::parse(&p.payload) {
            Ok(m) => m,
            Err(e) => {
                println!("  dns note: frame {}: not parsed: {e}", p.frame);
                continue;
            }
        };
        if !matches!(m.opcode, 0 | 4 | 5) {
            continue;
        }
        let key = conn_key(p.src, p.dst);
        let resp = *responder.entry(key).or_insert(p.dst);
        let netbios = p.src.1 == 137 || p.dst.1 == 137;
        let mut t = ZDns {
            conn: Some(key),
            id: m.id,
            ..Default::default()
        };
        let multicast = is_multicast(resp.0);
        let qk = (key, m.id);
        if !multicast {
            if !m.response {
                if let Some(v) = pending_r.get_mut(&qk).filter(|v| !v.is_empty()) {
                    t = v.remove(0);
                }
            } else if let Some(v) = pending_q.get_mut(&qk).filter(|v| !v.is_empty()) {
                t = v.remove(0);
            }
        }
        // dns_message / set_session
        if m.response {
            t.rcode = Some(m.rcode & 0xf);
            if m.rcode != 0 && m.question_count == 0 {
                t.rejected = true;
            }
        }
        t.opcode = m.opcode;
        if !m.response {
            // dns_request, once per question (the last wins)
            for q in &m.questions {
                t.rd = m.recursion_desired;
                t.tc = m.truncated;
                t.qclass = Some(q.class | if q.unicast_response { 0x8000 } else { 0 });
                t.qtype = Some(q.rrtype);
                t.z = m.z;
                let mut name = q.name.to_lowercase();
                if netbios {
                    if let Some(d) = decode_netbios(&q.name) {
                        name = d;
                    }
                }
                t.query = Some(name);
                t.original_query = Some(q.name.clone());
            }
        } else {
            if m.answer_count == 0
                && m.authority_count == 0
                && m.additional_count == 0
                && !m.questions.is_empty()
            {
                t.rejected = true;
            }
            for a in &m.answers {
                if t.query.is_none() {
                    t.query = Some(a.name.to_lowercase());
                }
                t.aa = m.authoritative;
                t.ra = m.recursion_available;
                match zeek_answer(a) {
                    Some(None) => {}
                    Some(Some(s)) if s.is_empty() => {}
                    other => {
                        t.answers.push(other.flatten());
                        t.ttls.push(a.ttl);
                    }
                }
            }
        }
        if m.response {
            t.saw_reply = true;
        } else {
            t.saw_query = true;
        }
        if multicast || (t.saw_query && t.saw_reply) {
            done.push(t);
        } else if m.response {
            pending_r.entry(qk).or_default().push(t);
        } else {
            pending_q.entry(qk).or_default().push(t);
        }
    }
    done.extend(pending_q.into_values().flatten());
    done.extend(pending_r.into_values().flatten());
    done
}

/// Compares one Zeek row with one of our transactions; returns (agree, total, diffs).
fn compare_dns_row(row: &BTreeMap<String, String>, t: &ZDns) -> Vec<(String, String, String)> {
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let empty = |s: String| if s.is_empty() { "(empty)".into() } else { s };
    let mut ours: Vec<(&str, String)> = vec![
        ("query", opt(t.query.clone().map(empty))),
        ("qclass", opt(t.qclass.map(|c| c.to_string()))),
        ("qtype", opt(t.qtype.map(|c| c.to_string()))),
        (
            "qtype_name",
            opt(t.qtype.map(|q| {
                dns::rrtype_name(q)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("query-{q}"))
            })),
        ),
        ("rcode", opt(t.rcode.map(|c| c.to_string()))),
        (
            "rcode_name",
            opt(t.rcode.map(|r| {
                dns::rcode_name(r)
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("rcode-{r}"))
            })),
        ),
        ("AA", zbool(t.aa).into()),
        ("TC", zbool(t.tc).into()),
        ("RD", zbool(t.rd).into()),
        ("RA", zbool(t.ra).into()),
        ("Z", t.z.to_string()),
        ("rejected", zbool(t.rejected).into()),
        ("opcode", t.opcode.to_string()),
        (
            "TTLs",
            if t.ttls.is_empty() {
                "-".into()
            } else {
                t.ttls
                    .iter()
                    .map(|x| format!("{x}.000000"))
                    .collect::<Vec<_>>()
                    .join(",")
            },
        ),
    ];
    if row.contains_key("original_query") {
        ours.push(("original_query", opt(t.original_query.clone().map(empty))));
    }
    let mut out = Vec::new();
    for (k, v) in ours {
        if let Some(z) = row.get(k) {
            out.push((k.to_string(), z.clone(), v));
        }
    }
    // answers: the count, then each element we render (Other types are not compared).
    if let Some(z) = row.get("answers") {
        let zs: Vec<&str> = if z == "-" {
            Vec::new()
        } else {
            z.split(',').collect()
        };
        out.push((
            "answers.len".into(),
            zs.len().to_string(),
            t.answers.len().to_string(),
        ));
        for (i, (a, z)) in t.answers.iter().zip(&zs).enumerate() {
            if let Some(a) = a {
                out.push((format!("answers[{i}]"), z.to_string(), zeek_vec_escape(a)));
            }
        }
    }
    out
}

#[test]
fn dns_agrees_with_zeek() {
    let Some(corpus) = corpus() else { return };
    let mut tally = Tally::default();
    for dir in baselines(&corpus, "dns.log") {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let Some((trace, cmd)) = zeek_test(&dir) else {
            continue;
        };
        let pkts = packets(&trace, !cmd.contains(" -C"));
        let mut ours = zeek_dns_transactions(&pkts);
        let n_unrendered: usize = ours
            .iter()
            .map(|t| t.answers.iter().filter(|a| a.is_none()).count())
            .sum();
        let n_answers: usize = ours.iter().map(|t| t.answers.len()).sum();
        if n_unrendered > 0 {
            println!(
                "  dns note: {name}: {n_unrendered} of {n_answers} answers of types we keep as Other (Zeek's text taken)"
            );
        }
        let mut used = vec![false; ours.len()];
        for (i, row) in zeek_log(&dir.join("dns.log")).iter().enumerate() {
            let ep = |h: &str, p: &str| -> Option<Endpoint> {
                Some((row.get(h)?.parse().ok()?, row.get(p)?.parse().ok()?))
            };
            let (Some(a), Some(b)) = (ep("id.orig_h", "id.orig_p"), ep("id.resp_h", "id.resp_p"))
            else {
                continue;
            };
            let key = conn_key(a, b);
            let id: u16 = row
                .get("trans_id")
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let ctx = format!("{name} row {i} id {id}");
            // Best unused transaction of the same connection and id.
            let best = ours
                .iter_mut()
                .enumerate()
                .filter(|(j, t)| !used[*j] && t.conn == Some(key) && t.id == id)
                .map(|(j, t)| {
                    let c = compare_dns_row(row, t);
                    let agree = c.iter().filter(|(_, z, o)| z == o).count();
                    (j, agree, c)
                })
                .max_by_key(|(j, agree, _)| (*agree, usize::MAX - j));
            match best {
                Some((j, _, c)) => {
                    used[j] = true;
                    for (k, z, o) in c {
                        tally.field(&ctx, &k, &z, &o);
                    }
                }
                None => {
                    let n = compare_dns_row(row, &ZDns::default()).len();
                    tally.missing(&ctx, n, "no transaction of ours");
                }
            }
        }
        let extra = used.iter().filter(|u| !**u).count();
        if extra > 0 {
            println!("  dns note: {name}: {extra} transaction(s) of ours not in Zeek's log");
        }
        ours.clear();
    }
    tally.report("dns (zeek dns.log)", 95.0);
}

// ---------------------------------------------------------------- DNS vs tshark

const DNS_FIELDS: &[&str] = &[
    "dns.id",
    "dns.flags.response",
    "dns.flags.opcode",
    "dns.flags.rcode",
    "dns.flags.authoritative",
    "dns.flags.truncated",
    "dns.flags.recdesired",
    "dns.flags.recavail",
    "dns.count.queries",
    "dns.count.answers",
    "dns.count.auth_rr",
    "dns.count.add_rr",
    "dns.qry.name",
    "dns.qry.type",
    "dns.qry.class",
    "dns.qry.qu",
    "dns.resp.name",
    "dns.resp.type",
    "dns.resp.class",
    "dns.resp.ttl",
    "dns.resp.cache_flush",
    "dns.a",
    "dns.aaaa",
    "dns.ptr.domain_name",
    "dns.cname",
    "dns.ns",
    "dns.txt",
    "dns.srv.target",
    "dns.srv.port",
    "dns.mx.mail_exchange",
    "dns.soa.mname",
    "dns.soa.serial_number",
];

/// Our message rendered as tshark's fields (same order as [`DNS_FIELDS`]).
fn tshark_dns_fields(m: &dns::DnsMessage, port: u16) -> Vec<Vec<String>> {
    let mdns = port == 5353;
    use dns::DnsRdata as R;
    let b = |x: bool| if x { "1" } else { "0" }.to_string();
    let name = |n: &str| {
        if n.is_empty() {
            "<Root>".to_string()
        } else {
            unescape(n)
        }
    };
    let mut f: Vec<Vec<String>> = vec![Vec::new(); DNS_FIELDS.len()];
    let mut put = |i: usize, v: String| f[i].push(v);
    put(0, format!("0x{:04x}", m.id));
    put(1, b(m.response));
    put(2, m.opcode.to_string());
    if m.response {
        put(3, (m.rcode & 0xf).to_string());
        put(4, b(m.authoritative));
        put(7, b(m.recursion_available));
    }
    put(5, b(m.truncated));
    if port != 5355 {
        // LLMNR has no RD bit (its place is the conflict bit).
        put(6, b(m.recursion_desired));
    }
    if m.opcode != 5 {
        // Dynamic update: tshark counts zones, prerequisites and updates under other names.
        put(8, m.question_count.to_string());
        put(9, m.answer_count.to_string());
        put(10, m.authority_count.to_string());
    }
    put(11, m.additional_count.to_string());
    for q in &m.questions {
        put(12, name(&q.name));
        put(13, q.rrtype.to_string());
        put(14, format!("0x{:04x}", q.class));
        if mdns {
            put(15, b(q.unicast_response));
        }
    }
    for r in m.answers.iter().chain(&m.authorities).chain(&m.additionals) {
        if r.rrtype != 33 {
            // tshark splits an SRV owner into dns.srv.service/proto/name.
            put(16, name(&r.name));
        }
        put(17, r.rrtype.to_string());
        if r.rrtype != 41 {
            put(18, format!("0x{:04x}", r.class));
            put(19, r.ttl.to_string());
            if mdns {
                put(20, b(r.cache_flush));
            }
        }
        match &r.data {
            R::A(a) => put(21, a.to_string()),
            R::Aaaa(a) => put(22, a.to_string()),
            R::Name(n) => match r.rrtype {
                12 => put(23, name(n)),
                5 => put(24, name(n)),
                2 => put(25, name(n)),
                _ => {}
            },
            R::Txt(v) if r.rrtype == 16 => {
                for s in v {
                    put(26, unescape(s));
                }
            }
            R::Srv { target, port, .. } => {
                put(27, name(target));
                put(28, port.to_string());
            }
            R::Mx { exchange, .. } => put(29, name(exchange)),
            R::Soa { mname, serial, .. } => {
                put(30, name(mname));
                put(31, serial.to_string());
            }
            _ => {}
        }
    }
    f
}

struct TcpSink<'a> {
    parser: &'a mut dns::DnsTcpParser,
    dir: Direction,
    out: &'a mut Vec<dns::DnsEvent>,
}

impl StreamSink for TcpSink<'_> {
    fn data(&mut self, bytes: &[u8]) {
        self.parser.data(self.dir, bytes, self.out);
    }
    fn gap(&mut self, missed: u64) {
        self.parser.gap(self.dir, missed);
    }
    fn end(&mut self) {
        self.parser.end(self.dir, self.out);
    }
}

/// Our DNS events per frame: UDP datagrams parsed alone, TCP through reassembly and
/// [`dns::DnsTcpParser`] (a message belongs to the frame that completes it).
/// A message (possibly partial), the error that ended it, and the lower DNS port.
type Parsed = (Option<dns::DnsMessage>, Option<dns::DnsError>, u16);

fn dns_by_frame(pkts: &[Pkt]) -> BTreeMap<u64, Vec<Parsed>> {
    struct Conn {
        client: Endpoint,
        streams: [StreamReassembler; 2],
        parser: dns::DnsTcpParser,
    }
    let mut by_frame: BTreeMap<u64, Vec<_>> = BTreeMap::new();
    let mut budget = ReassemblyBudget::new(16 << 20);
    let mut conns: BTreeMap<(Endpoint, Endpoint), Conn> = BTreeMap::new();
    for p in pkts {
        let port = [5353, 5355, 53]
            .into_iter()
            .find(|x| p.src.1 == *x || p.dst.1 == *x)
            .unwrap_or(0);
        match p.tcp {
            None => {
                let parsed = match dns::parse_partial(&p.payload) {
                    Ok((m, e)) => (Some(m), e, port),
                    Err(e) => (None, Some(e), port),
                };
                by_frame.entry(p.frame).or_default().push(parsed);
            }
            Some((seq, flags)) => {
                let c = conns.entry(conn_key(p.src, p.dst)).or_insert_with(|| Conn {
                    client: if flags & 0x12 == 0x12 { p.dst } else { p.src },
                    streams: [
                        StreamReassembler::new(ReassemblyConfig::default()),
                        StreamReassembler::new(ReassemblyConfig::default()),
                    ],
                    parser: dns::DnsTcpParser::new(),
                });
                let (i, dir) = if p.src == c.client {
                    (0, Direction::ToServer)
                } else {
                    (1, Direction::ToClient)
                };
                let mut out = Vec::new();
                let mut sink = TcpSink {
                    parser: &mut c.parser,
                    dir,
                    out: &mut out,
                };
                c.streams[i].segment(seq, &p.payload, flags, &mut budget, &mut sink);
                for e in out {
                    let r = match e {
                        dns::DnsEvent::Message(m) => (Some(m), None, port),
                        dns::DnsEvent::Error(e) => (None, Some(e), port),
                    };
                    by_frame.entry(p.frame).or_default().push(r);
                }
            }
        }
    }
    by_frame
}

fn dns_captures(corpus: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    for dir in [
        "zeek/traces/dns",
        "zeek/traces/dnssec",
        "zeek/traces",
        "tcpdump",
    ] {
        let Ok(rd) = std::fs::read_dir(corpus.join(dir)) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            let n = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            let dns_named = n.starts_with("dns") || dir != "tcpdump" && dir != "zeek/traces";
            if dns_named && (n.ends_with(".pcap") || n.ends_with(".pcapng")) {
                v.push(p);
            }
        }
    }
    v.push(corpus.join("zeek/traces/wikipedia.pcap"));
    v.sort();
    v
}

#[test]
fn dns_agrees_with_tshark() {
    let Some(corpus) = corpus() else { return };
    if !tshark_available() {
        return;
    }
    let mut tally = Tally::default();
    let mut frames = 0usize;
    let pcaps = dns_captures(&corpus);
    let captures = pcaps.len();
    for pcap in pcaps {
        let rel = pcap
            .strip_prefix(&corpus)
            .unwrap_or(&pcap)
            .display()
            .to_string();
        let ours = dns_by_frame(&packets(&pcap, false));
        for (frame, theirs) in tshark(&pcap, "dns || mdns || llmnr", DNS_FIELDS) {
            frames += 1;
            let ctx = format!("{rel} frame {frame}");
            let Some(msgs) = ours.get(&frame) else {
                let n = theirs.iter().filter(|v| !v.is_empty()).count();
                tally.missing(&ctx, n, "no message of ours in this frame");
                continue;
            };
            let mut mine: Vec<Vec<String>> = vec![Vec::new(); DNS_FIELDS.len()];
            let mut nsec = false;
            for (m, e, port) in msgs {
                if let Some(e) = e {
                    println!("  dns note: {ctx}: {e}");
                }
                if let Some(m) = m {
                    nsec |= m
                        .answers
                        .iter()
                        .chain(&m.authorities)
                        .chain(&m.additionals)
                        .any(|r| matches!(r.rrtype, 47 | 50));
                    for (acc, v) in mine.iter_mut().zip(tshark_dns_fields(m, *port)) {
                        acc.extend(v);
                    }
                }
            }
            for ((name, t), o) in DNS_FIELDS.iter().zip(&theirs).zip(&mine) {
                // tshark lists NSEC/NSEC3 type bitmaps under dns.resp.type too.
                if nsec && *name == "dns.resp.type" {
                    continue;
                }
                let o = o.join("|");
                if t.is_empty() && o.is_empty() {
                    continue;
                }
                tally.field(&ctx, name, t, &o);
            }
        }
    }
    println!("dns (tshark): {frames} frames in {captures} captures");
    tally.report("dns (tshark)", 95.0);
}

// ---------------------------------------------------------------- mDNS vs suricata-verify

/// Our value for one of the `mdns.*` keys the suricata-verify `mdns` case checks.
fn suricata_mdns_value(m: &dns::DnsMessage, key: &str) -> Option<String> {
    let (section, rest) = key.strip_prefix("mdns.")?.split_once('[')?;
    let (idx, field) = rest.split_once("].")?;
    let i: usize = idx.parse().ok()?;
    let name = |n: &str| unescape(n);
    match section {
        "queries" => {
            let q = m.questions.get(i)?;
            match field {
                "rrname" => Some(name(&q.name)),
                "rrtype" => dns::rrtype_name(q.rrtype).map(|t| t.to_lowercase()),
                _ => None,
            }
        }
        "answers" => {
            let r = m.answers.get(i)?;
            match (field, &r.data) {
                ("rrname", _) => Some(name(&r.name)),
                ("ptr", dns::DnsRdata::Name(n)) => Some(name(n)),
                ("txt", dns::DnsRdata::Txt(v)) => Some(format!(
                    "[{}]",
                    v.iter()
                        .map(|s| format!("{:?}", name(s)))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                _ => None,
            }
        }
        _ => None,
    }
}

#[test]
fn mdns_agrees_with_suricata_verify() {
    let Some(corpus) = corpus() else { return };
    let case = corpus.join("suricata-verify/tests/mdns");
    let Ok(yaml) = std::fs::read_to_string(case.join("test.yaml")) else {
        custos_test_support::skip("suricata-verify mdns: no test.yaml");
        return;
    };
    let pcap = yaml
        .lines()
        .find_map(|l| l.strip_prefix("pcap:"))
        .map(|p| case.join(p.trim()))
        .unwrap_or_else(|| case.join("input.pcap"));
    if !pcap.is_file() {
        custos_test_support::skip(&format!(
            "suricata-verify mdns: its capture {} is not in the corpus",
            pcap.display()
        ));
        return;
    }
    let pkts = packets(&pcap, false);
    let mut tally = Tally::default();
    // Checks: blocks of `key: value` lines after `match:` with a pcap_cnt.
    let mut frame: Option<u64> = None;
    let mut kind: Option<String> = None;
    for line in yaml.lines().map(str::trim) {
        if line.starts_with("- filter:") {
            frame = None;
            kind = None;
            continue;
        }
        let Some((k, v)) = line.split_once(": ") else {
            continue;
        };
        let v = v.trim().trim_matches('"').to_string();
        match k {
            "pcap_cnt" => frame = v.parse().ok(),
            "mdns.type" => kind = Some(v),
            _ if k.starts_with("mdns.") => {
                let Some(f) = frame else { continue };
                let ctx = format!("mdns frame {f}");
                let Some(m) = pkts
                    .iter()
                    .find(|p| p.frame == f)
                    .and_then(|p| dns::parse(&p.payload).ok())
                else {
                    tally.missing(&ctx, 1, "not parsed");
                    continue;
                };
                if let Some(t) = &kind {
                    let ours = if m.response { "response" } else { "request" };
                    tally.field(&ctx, "mdns.type", t, ours);
                    kind = None;
                }
                let ours = suricata_mdns_value(&m, k).unwrap_or_default();
                tally.field(&ctx, k, &v, &ours);
            }
            _ => {}
        }
    }
    tally.report("mdns (suricata-verify)", 95.0);
}
