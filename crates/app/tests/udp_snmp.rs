//! SNMP parser agreement with other tools on real captures of the shared corpus: the Zeek
//! `snmp.log` baselines and tshark on the SNMP captures. Prints
//! `snmp (...): N of M fields agree (P %)`; see `docs/app-udp.md`.

mod udp_common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use custos_app::snmp;
use udp_common::*;

// ---------------------------------------------------------------- SNMP vs Zeek and tshark

#[derive(Debug, Default)]
struct ZSnmp {
    version: String,
    community: Option<String>,
    get_requests: usize,
    get_bulk_requests: usize,
    get_responses: usize,
    set_requests: usize,
}

fn is_snmp_port(p: &Pkt) -> bool {
    [161u16, 162].iter().any(|x| *x == p.src.1 || *x == p.dst.1)
}

#[test]
fn snmp_agrees_with_zeek() {
    let Some(corpus) = corpus() else { return };
    let mut tally = Tally::default();
    for dir in baselines(&corpus, "snmp.log") {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let Some((trace, cmd)) = zeek_test(&dir) else {
            continue;
        };
        let mut conns: BTreeMap<(Endpoint, Endpoint), ZSnmp> = BTreeMap::new();
        for p in packets(&trace, !cmd.contains(" -C")) {
            if p.tcp.is_some() || !is_snmp_port(&p) {
                continue;
            }
            let m = match snmp::parse(&p.payload) {
                Ok(m) => m,
                Err(e) => {
                    println!("  snmp note: {name} frame {}: {e}", p.frame);
                    continue;
                }
            };
            let c = conns
                .entry(conn_key(p.src, p.dst))
                .or_insert_with(|| ZSnmp {
                    version: snmp::version_name(m.version).to_string(),
                    ..Default::default()
                });
            if c.community.is_none() {
                c.community = m.community.clone().or(m.user_name.clone());
            }
            let n = m.varbinds;
            match m.pdu_type {
                Some("get_request" | "get_next_request") => c.get_requests += n,
                Some("get_bulk_request") => c.get_bulk_requests += n,
                Some("get_response") => c.get_responses += n,
                Some("set_request") => c.set_requests += n,
                _ => {}
            }
        }
        for (i, row) in zeek_log(&dir.join("snmp.log")).iter().enumerate() {
            let ctx = format!("{name} row {i}");
            let ep = |h: &str, p: &str| -> Option<Endpoint> {
                Some((row.get(h)?.parse().ok()?, row.get(p)?.parse().ok()?))
            };
            let (Some(a), Some(b)) = (ep("id.orig_h", "id.orig_p"), ep("id.resp_h", "id.resp_p"))
            else {
                continue;
            };
            let Some(c) = conns.get(&conn_key(a, b)) else {
                tally.missing(&ctx, 6, "no connection of ours");
                continue;
            };
            for (k, v) in [
                ("version", c.version.clone()),
                (
                    "community",
                    c.community.clone().unwrap_or_else(|| "-".into()),
                ),
                ("get_requests", c.get_requests.to_string()),
                ("get_bulk_requests", c.get_bulk_requests.to_string()),
                ("get_responses", c.get_responses.to_string()),
                ("set_requests", c.set_requests.to_string()),
            ] {
                if let Some(z) = row.get(k) {
                    tally.field(&ctx, k, z, &v);
                }
            }
        }
    }
    // Only two baselines (12 fields); the one disagreement is explained in docs/app-udp.md.
    tally.report("snmp (zeek snmp.log)", 90.0);
}

const SNMP_FIELDS: &[&str] = &[
    "snmp.version",
    "snmp.msgVersion",
    "snmp.community",
    "snmp.msgUserName",
    "snmp.data",
    "snmp.request_id",
    "snmp.error_status",
    "snmp.enterprise",
    "snmp.name",
];

fn snmp_as_tshark(m: &snmp::SnmpMessage) -> Vec<String> {
    let mut f = vec![String::new(); SNMP_FIELDS.len()];
    if m.version == 3 {
        f[1] = "3".into();
        f[3] = m.user_name.as_deref().map(unescape).unwrap_or_default();
    } else {
        f[0] = m.version.to_string();
        f[2] = m.community.as_deref().map(unescape).unwrap_or_default();
    }
    if let Some(t) = m.pdu_tag {
        f[4] = (t - 0xa0).to_string();
    }
    f[5] = m.request_id.map(|x| x.to_string()).unwrap_or_default();
    f[6] = m.error_status.map(|x| x.to_string()).unwrap_or_default();
    f[7] = m.enterprise.clone().unwrap_or_default();
    f[8] = m.oids.join("|");
    f
}

#[test]
fn snmp_agrees_with_tshark() {
    let Some(corpus) = corpus() else { return };
    if !tshark_available() {
        return;
    }
    let mut pcaps: Vec<PathBuf> = std::fs::read_dir(corpus.join("zeek/traces/snmp"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    for n in [
        "snmp-heapoverflow-1.pcap",
        "snmp-heapoverflow-2.pcap",
        "ip-snmp-leftshift-unsigned.pcap",
        "ip6-snmp-oid-unsigned.pcap",
    ] {
        pcaps.push(corpus.join("tcpdump").join(n));
    }
    pcaps.sort();
    pcaps.retain(|p| p.is_file());
    let mut messages = 0usize;
    let mut tally = Tally::default();
    for pcap in pcaps.iter().filter(|p| p.is_file()) {
        let rel = pcap
            .strip_prefix(&corpus)
            .unwrap_or(pcap)
            .display()
            .to_string();
        let pkts = packets(pcap, false);
        for (frame, theirs) in tshark(pcap, "snmp", SNMP_FIELDS) {
            messages += 1;
            let ctx = format!("{rel} frame {frame}");
            let nonempty = theirs.iter().filter(|v| !v.is_empty()).count();
            let Some(p) = pkts.iter().find(|p| p.frame == frame) else {
                tally.missing(&ctx, nonempty, "no datagram of ours");
                continue;
            };
            let ours = match snmp::parse(&p.payload) {
                Ok(m) => snmp_as_tshark(&m),
                Err(e) => {
                    tally.missing(&ctx, nonempty, &format!("not parsed: {e}"));
                    continue;
                }
            };
            for ((k, t), o) in SNMP_FIELDS.iter().zip(&theirs).zip(&ours) {
                if t.is_empty() && o.is_empty() {
                    continue;
                }
                tally.field(&ctx, k, t, o);
            }
        }
    }
    println!(
        "snmp (tshark): {messages} messages in {} captures",
        pcaps.len()
    );
    tally.report("snmp (tshark)", 95.0);
}
