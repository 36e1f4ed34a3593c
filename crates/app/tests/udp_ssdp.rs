//! SSDP parser agreement with tshark on every corpus capture with UDP port 1900 traffic.
//! Prints `ssdp (tshark): N of M fields agree (P %)`; see `docs/app-udp.md`.

mod udp_common;

use custos_app::ssdp;
use udp_common::*;

// ---------------------------------------------------------------- SSDP vs tshark

const SSDP_FIELDS: &[&str] = &[
    "http.request.method",
    "http.response.code",
    "http.location",
    "http.server",
    "http.user_agent",
    "http.cache_control",
    "http.host",
    "http.unknown_header",
];

#[test]
fn ssdp_agrees_with_tshark() {
    let Some(corpus) = corpus() else { return };
    if !tshark_available() {
        return;
    }
    // Every corpus capture with UDP port 1900 traffic (found by a scan of the corpus).
    let pcaps = [
        "tcpdump/eapon1.pcap",
        "suricata-verify/tests/sip-ssdp-pm/ssdp.pcap",
        "zeek/traces/igmp/home-multicast-short.pcap",
        "zeek/traces/raw_packets.pcap",
    ];
    let mut tally = Tally::default();
    let mut messages = 0usize;
    for rel in pcaps {
        let pcap = corpus.join(rel);
        if !pcap.is_file() {
            continue;
        }
        let pkts = packets(&pcap, false);
        for (frame, theirs) in tshark(&pcap, "ssdp", SSDP_FIELDS) {
            messages += 1;
            let ctx = format!("{rel} frame {frame}");
            let nonempty = theirs.iter().filter(|v| !v.is_empty()).count();
            let Some(p) = pkts.iter().find(|p| p.frame == frame) else {
                tally.missing(&ctx, nonempty, "no datagram of ours");
                continue;
            };
            if !ssdp::probe(&p.payload) {
                tally.missing(&ctx, nonempty, "probe refused");
                continue;
            }
            let m = match ssdp::parse(&p.payload) {
                Ok(m) => m,
                Err(e) => {
                    tally.missing(&ctx, nonempty, &format!("not parsed: {e}"));
                    continue;
                }
            };
            let o = |v: &Option<String>| v.as_deref().map(unescape).unwrap_or_default();
            let method = match m.kind {
                ssdp::SsdpKind::Notify => "NOTIFY",
                ssdp::SsdpKind::MSearch => "M-SEARCH",
                ssdp::SsdpKind::Response => "",
            };
            let ours = [
                method.to_string(),
                m.status.map(|s| s.to_string()).unwrap_or_default(),
                o(&m.location),
                o(&m.server),
                o(&m.user_agent),
                o(&m.cache_control),
                o(&m.host),
            ];
            for ((k, t), v) in SSDP_FIELDS.iter().zip(&theirs).zip(&ours) {
                if t.is_empty() && v.is_empty() {
                    continue;
                }
                tally.field(&ctx, k, t, v);
            }
            // Headers tshark does not know, as "NAME: value\r\n".
            for h in theirs[7].split('|').filter(|h| !h.is_empty()) {
                let h = h.trim_end_matches("\\r\\n");
                let Some((name, value)) = h.split_once(':') else {
                    continue;
                };
                let value = value.trim();
                let ours = match name.trim().to_ascii_uppercase().as_str() {
                    "NT" => o(&m.nt),
                    "NTS" => o(&m.nts),
                    "USN" => o(&m.usn),
                    "ST" => o(&m.st),
                    "MAN" => o(&m.man),
                    "MX" => m.mx.map(|x| x.to_string()).unwrap_or_default(),
                    _ => continue,
                };
                tally.field(&ctx, &format!("header {name}"), value, &ours);
            }
        }
    }
    println!("ssdp (tshark): {messages} messages");
    tally.report("ssdp (tshark)", 95.0);
}
