//! DHCP parser agreement with other tools on real captures of the shared corpus: every Zeek
//! `dhcp.log` baseline (Zeek's per-transaction aggregation rebuilt) and tcpdump's `-v`
//! decodings (`.out`) of the DHCP captures in its test list. Prints
//! `dhcp (...): N of M fields agree (P %)`; see `docs/app-udp.md`.

mod udp_common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use custos_app::dhcp;
use udp_common::*;

// ---------------------------------------------------------------- DHCP vs Zeek

/// One dhcp.log entry rebuilt the way Zeek's `base/protocols/dhcp` aggregates messages by
/// transaction id.
#[derive(Debug, Default, Clone)]
struct ZDhcp {
    ts: i64,
    last: i64,
    uids: BTreeSet<(Endpoint, Endpoint)>,
    client_addr: Option<IpAddr>,
    server_addr: Option<IpAddr>,
    mac: Option<String>,
    client_chaddr: Option<String>,
    host_name: Option<String>,
    client_fqdn: Option<String>,
    domain: Option<String>,
    requested_addr: Option<String>,
    assigned_addr: Option<String>,
    lease_time: Option<u32>,
    client_message: Option<String>,
    server_message: Option<String>,
    msg_types: Vec<String>,
    circuit_id: Option<String>,
    agent_remote_id: Option<String>,
    subscriber_id: Option<String>,
}

impl ZDhcp {
    fn finish(mut self) -> Self {
        if self.mac.is_none() {
            self.mac = self.client_chaddr.take();
        }
        self
    }
}

/// Zeek's option value from the `-e 'redef DHCP::<name>=N'` of a test command line.
fn zeek_redef(cmd: &str, name: &str, default: usize) -> usize {
    cmd.split(&format!("{name}="))
        .nth(1)
        .and_then(|s| {
            s.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
                .parse()
                .ok()
        })
        .unwrap_or(default)
}

fn zeek_dhcp_entries(pkts: &[Pkt], cmd: &str) -> Vec<ZDhcp> {
    const SEC: i64 = 1_000_000_000;
    let max_uids = zeek_redef(cmd, "max_uids_per_log_entry", 10);
    let max_types = zeek_redef(cmd, "max_msg_types_per_log_entry", 50);
    let mut logged = Vec::new();
    // xid -> (entry, next expiry check)
    let mut open: BTreeMap<u32, (ZDhcp, i64)> = BTreeMap::new();
    let mut orig_of: BTreeMap<(Endpoint, Endpoint), Endpoint> = BTreeMap::new();
    let expire = |now: i64, open: &mut BTreeMap<u32, (ZDhcp, i64)>, logged: &mut Vec<ZDhcp>| {
        let due: Vec<u32> = open
            .iter()
            .filter(|(_, (_, check))| *check <= now)
            .map(|(x, _)| *x)
            .collect();
        for x in due {
            let Some((e, check)) = open.remove(&x) else {
                continue;
            };
            if check - e.last > 5 * SEC || check - e.ts > 30 * SEC {
                logged.push(e.finish());
            } else {
                open.insert(x, (e, check + 5 * SEC));
            }
        }
    };
    for p in pkts {
        if p.tcp.is_some()
            || ![67u16, 68, 4011]
                .iter()
                .any(|x| *x == p.src.1 || *x == p.dst.1)
        {
            continue;
        }
        let Ok(m) = dhcp::parse(&p.payload) else {
            continue;
        };
        // Zeek ignores messages without the DHCP cookie.
        if p.payload.get(236..240) != Some(&[0x63, 0x82, 0x53, 0x63][..]) {
            continue;
        }
        expire(p.ts, &mut open, &mut logged);
        let key = conn_key(p.src, p.dst);
        let orig = *orig_of.entry(key).or_insert(p.src);
        let is_orig = orig == p.src;
        let (orig_h, orig_p, resp_p) = if is_orig {
            (p.src.0, p.src.1, p.dst.1)
        } else {
            (p.dst.0, p.dst.1, p.src.1)
        };
        let zero: IpAddr = "0.0.0.0".parse().unwrap();
        let bcast: IpAddr = "255.255.255.255".parse().unwrap();
        let is_client = is_orig && (orig_h == zero || orig_p == 68 || resp_p == 67);
        let (mut e, check) = open.remove(&m.xid).unwrap_or_else(|| {
            (
                ZDhcp {
                    ts: p.ts,
                    ..Default::default()
                },
                p.ts + 10 * SEC,
            )
        });
        e.uids.insert(key);
        e.msg_types.push(
            m.message_type
                .map(|t| {
                    dhcp::message_type_name(t)
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("unknown-message-type-{t}"))
                })
                .unwrap_or_else(|| "unknown-message-type-0".into()),
        );
        if let Some(msg) = &m.message {
            if is_client {
                e.client_message = Some(msg.clone());
            } else {
                e.server_message = Some(msg.clone());
            }
        }
        e.last = p.ts;
        let unspecified = |a: std::net::Ipv4Addr| a.is_unspecified();
        if is_client {
            if orig_h != zero && orig_h != bcast {
                e.client_addr = Some(orig_h);
            }
            if let Some(h) = &m.hostname {
                e.host_name = Some(h.clone());
            }
            if let Some(f) = &m.client_fqdn {
                e.client_fqdn = Some(f.clone());
            }
            match m.client_id.as_deref().and_then(|c| c.strip_prefix("01")) {
                Some(hw) if m.client_id.is_some() => {
                    let mac: Vec<String> = hw
                        .as_bytes()
                        .chunks(2)
                        .map(|c| String::from_utf8_lossy(c).into_owned())
                        .collect();
                    e.mac = Some(mac.join(":"));
                }
                _ => e.client_chaddr = Some(m.client_mac.clone()),
            }
            if let Some(r) = m.requested_ip {
                e.requested_addr = Some(r.to_string());
            }
        } else {
            if !unspecified(m.yiaddr) {
                e.server_addr = Some(if is_orig { p.src.0 } else { p.dst.0 });
            }
            if e.mac.is_none() {
                e.mac = Some(m.client_mac.clone());
            }
            if !unspecified(m.yiaddr) {
                e.assigned_addr = Some(m.yiaddr.to_string());
            }
            if e.client_addr.is_none() {
                if let Some(a) = &e.assigned_addr {
                    e.client_addr = a.parse().ok();
                }
            }
            if let Some(d) = &m.domain_name {
                e.domain = Some(d.clone());
            }
            if let Some(l) = m.lease_time {
                e.lease_time = Some(l);
            }
        }
        if let Some(c) = &m.agent_circuit_id {
            e.circuit_id = Some(c.clone());
        }
        if let Some(c) = &m.agent_remote_id {
            e.agent_remote_id = Some(c.clone());
        }
        if let Some(c) = &m.subscriber_id {
            e.subscriber_id = Some(c.clone());
        }
        if e.uids.len() >= max_uids || e.msg_types.len() >= max_types {
            logged.push(e.finish());
        } else {
            open.insert(m.xid, (e, check));
        }
    }
    logged.extend(open.into_values().map(|(e, _)| e.finish()));
    logged
}

fn compare_dhcp_row(row: &BTreeMap<String, String>, e: &ZDhcp) -> Vec<(String, String, String)> {
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let ours: Vec<(&str, String)> = vec![
        ("client_addr", opt(e.client_addr.map(|a| a.to_string()))),
        ("server_addr", opt(e.server_addr.map(|a| a.to_string()))),
        ("mac", opt(e.mac.clone())),
        ("host_name", opt(e.host_name.clone())),
        ("client_fqdn", opt(e.client_fqdn.clone())),
        ("domain", opt(e.domain.clone())),
        ("requested_addr", opt(e.requested_addr.clone())),
        ("assigned_addr", opt(e.assigned_addr.clone())),
        (
            "lease_time",
            opt(e.lease_time.map(|l| format!("{l}.000000"))),
        ),
        ("client_message", opt(e.client_message.clone())),
        ("server_message", opt(e.server_message.clone())),
        ("msg_types", e.msg_types.join(",")),
        ("circuit_id", opt(e.circuit_id.clone())),
        ("agent_remote_id", opt(e.agent_remote_id.clone())),
        ("subscriber_id", opt(e.subscriber_id.clone())),
    ];
    ours.into_iter()
        .filter_map(|(k, v)| row.get(k).map(|z| (k.to_string(), z.clone(), v)))
        .collect()
}

#[test]
fn dhcp_agrees_with_zeek() {
    let Some(corpus) = corpus() else { return };
    let mut tally = Tally::default();
    for dir in baselines(&corpus, "dhcp.log") {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let Some((trace, cmd)) = zeek_test(&dir) else {
            continue;
        };
        let ours = zeek_dhcp_entries(&packets(&trace, !cmd.contains(" -C")), &cmd);
        let mut used = vec![false; ours.len()];
        for (i, row) in zeek_log(&dir.join("dhcp.log")).iter().enumerate() {
            let ctx = format!("{name} row {i}");
            let best = ours
                .iter()
                .enumerate()
                .filter(|(j, _)| !used[*j])
                .map(|(j, e)| {
                    let c = compare_dhcp_row(row, e);
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
                    let n = compare_dhcp_row(row, &ZDhcp::default()).len();
                    tally.missing(&ctx, n, "no entry of ours");
                }
            }
        }
        let extra = used.iter().filter(|u| !**u).count();
        if extra > 0 {
            println!("  dhcp note: {name}: {extra} entries of ours not in Zeek's log");
        }
    }
    tally.report("dhcp (zeek dhcp.log)", 95.0);
}

// ---------------------------------------------------------------- DHCP vs tcpdump

/// tcpdump `-v` text of one BOOTP/DHCP packet: field → value.
fn tcpdump_bootp(lines: &[&str]) -> BTreeMap<String, String> {
    let mut f = BTreeMap::new();
    let mut params: Option<Vec<String>> = None;
    for l in lines {
        let t = l.trim();
        if let Some(p) = params.as_mut() {
            // continuation lines of the parameter request list: "Name (n), Name (n)"
            if !t.contains("), length") && t.ends_with(')') && !t.starts_with("Magic") {
                for item in t.split("), ") {
                    if let Some(n) = item.rsplit('(').next() {
                        p.push(n.trim_end_matches(')').to_string());
                    }
                }
                continue;
            }
            f.insert("params".to_string(), p.join(","));
            params = None;
        }
        if let Some(rest) = t.split_once("BOOTP/DHCP, ").map(|(_, r)| r) {
            f.insert(
                "op".into(),
                if rest.starts_with("Request") {
                    "1".into()
                } else if rest.starts_with("Reply") {
                    "2".into()
                } else {
                    "?".into()
                },
            );
            if let Some(x) = rest.split("xid 0x").nth(1) {
                let x = x.split(',').next().unwrap_or("");
                if let Ok(v) = u32::from_str_radix(x, 16) {
                    f.insert("xid".into(), v.to_string());
                }
            }
            continue;
        }
        for (label, key) in [
            ("Client-IP ", "ciaddr"),
            ("Your-IP ", "yiaddr"),
            ("Server-IP ", "siaddr"),
            ("Gateway-IP ", "giaddr"),
            ("Client-Ethernet-Address ", "mac"),
        ] {
            if let Some(v) = t.strip_prefix(label) {
                f.insert(key.into(), v.to_string());
            }
        }
        let Some((head, value)) = t.split_once(": ") else {
            if t.starts_with("Parameter-Request (55)") {
                params = Some(Vec::new());
            }
            continue;
        };
        let Some(code) = head
            .split_once(" (")
            .and_then(|(_, r)| r.split(')').next())
            .and_then(|c| c.parse::<u8>().ok())
        else {
            continue;
        };
        let unquote = |v: &str| v.trim().trim_matches('"').to_string();
        let key = match code {
            53 => "message_type",
            50 => "requested_ip",
            54 => "server_id",
            51 => "lease_time",
            1 => "subnet_mask",
            3 => "routers",
            6 => "dns_servers",
            15 => "domain_name",
            12 => "hostname",
            60 => "vendor_class",
            55 => {
                // the list may start on this line
                let mut p = Vec::new();
                for item in value.split("), ") {
                    if let Some(n) = item.rsplit('(').next().filter(|_| item.contains('(')) {
                        p.push(n.trim_end_matches(')').to_string());
                    }
                }
                params = Some(p);
                continue;
            }
            _ => continue,
        };
        f.insert(key.into(), unquote(value));
    }
    if let Some(p) = params {
        f.insert("params".to_string(), p.join(","));
    }
    f
}

/// tcpdump's name of a DHCP message type.
fn tcpdump_msg_type(t: u8) -> String {
    match t {
        1 => "Discover",
        2 => "Offer",
        3 => "Request",
        4 => "Decline",
        5 => "ACK",
        6 => "NACK",
        7 => "Release",
        8 => "Inform",
        10 => "LeaseQuery",
        11 => "LeaseUnassigned",
        12 => "LeaseUnknown",
        13 => "LeaseActive",
        _ => return format!("Unknown ({t})"),
    }
    .to_string()
}

fn ours_as_tcpdump(m: &dhcp::DhcpMessage) -> BTreeMap<String, String> {
    let mut f = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        f.insert(k.to_string(), v);
    };
    put("op", m.op.to_string());
    put("xid", m.xid.to_string());
    put("mac", m.client_mac.clone());
    for (k, a) in [
        ("ciaddr", m.ciaddr),
        ("yiaddr", m.yiaddr),
        ("siaddr", m.siaddr),
        ("giaddr", m.giaddr),
    ] {
        if !a.is_unspecified() {
            put(k, a.to_string());
        }
    }
    if let Some(t) = m.message_type {
        put("message_type", tcpdump_msg_type(t));
    }
    if let Some(a) = m.requested_ip {
        put("requested_ip", a.to_string());
    }
    if let Some(a) = m.server_id {
        put("server_id", a.to_string());
    }
    if let Some(l) = m.lease_time {
        put("lease_time", l.to_string());
    }
    if let Some(a) = m.subnet_mask {
        put("subnet_mask", a.to_string());
    }
    let list = |v: &[std::net::Ipv4Addr]| {
        v.iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(",")
    };
    if !m.routers.is_empty() {
        put("routers", list(&m.routers));
    }
    if !m.dns_servers.is_empty() {
        put("dns_servers", list(&m.dns_servers));
    }
    for (k, v) in [
        ("domain_name", &m.domain_name),
        ("hostname", &m.hostname),
        ("vendor_class", &m.vendor_class),
    ] {
        if let Some(v) = v {
            put(k, unescape(v));
        }
    }
    if let Some(p) = &m.fingerprint {
        put("params", p.clone());
    }
    f
}

#[test]
fn dhcp_agrees_with_tcpdump() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("tcpdump");
    let list = std::fs::read_to_string(dir.join("TESTLIST")).unwrap_or_default();
    let mut tally = Tally::default();
    let mut seen = BTreeSet::new();
    for line in list.lines() {
        let cols: Vec<&str> = line.split_whitespace().collect();
        let [_, pcap, out, flags @ ..] = cols.as_slice() else {
            continue;
        };
        if line.starts_with('#') || !flags.iter().any(|f| f.starts_with("-v")) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(dir.join(out)) else {
            continue;
        };
        if !text.contains("BOOTP/DHCP") || !seen.insert(pcap.to_string()) {
            continue;
        }
        // Split the text into packets: a packet starts at a line with its number and date.
        let lines: Vec<&str> = text.lines().collect();
        let mut starts: Vec<usize> = Vec::new();
        for (i, l) in lines.iter().enumerate() {
            let t = l.trim_start();
            let mut it = t.split_whitespace();
            let num = it.next().is_some_and(|n| n.parse::<u64>().is_ok());
            let date = it
                .next()
                .is_some_and(|d| d.len() == 10 && d.as_bytes()[4] == b'-');
            if num && date {
                starts.push(i);
            }
        }
        let pkts = packets(&dir.join(pcap), false);
        for (n, s) in starts.iter().enumerate() {
            let end = starts.get(n + 1).copied().unwrap_or(lines.len());
            let block = &lines[*s..end];
            if !block.iter().any(|l| l.contains("BOOTP/DHCP")) {
                continue;
            }
            let frame = n as u64 + 1;
            let ctx = format!("tcpdump/{pcap} frame {frame}");
            let theirs = tcpdump_bootp(block);
            if block
                .iter()
                .any(|l| l.contains("[|bootp]") || l.contains("[|rfc1048]"))
            {
                println!("  dhcp note: {ctx}: truncated for tcpdump too, skipped");
                continue;
            }
            let Some(p) = pkts.iter().find(|p| p.frame == frame) else {
                tally.missing(&ctx, theirs.len(), "no datagram of ours");
                continue;
            };
            let ours = match dhcp::parse(&p.payload) {
                Ok(m) => ours_as_tcpdump(&m),
                Err(e) => {
                    tally.missing(&ctx, theirs.len(), &format!("not parsed: {e}"));
                    continue;
                }
            };
            for (k, v) in &theirs {
                tally.field(&ctx, k, v, ours.get(k).map_or("", String::as_str));
            }
        }
    }
    tally.report("dhcp (tcpdump -v)", 95.0);
}
