//! CoAP and DTLS parser agreement with tshark: CoAP on the lab capture (the corpus has no
//! third-party CoAP capture), DTLS on the DTLS captures of Zeek's test suite. Prints
//! `coap (tshark)` / `dtls (tshark): N of M fields agree (P %)`; see `docs/app-udp.md`.

mod udp_common;

use std::collections::BTreeMap;
use std::path::PathBuf;

use custos_app::coap;
use udp_common::*;

// ---------------------------------------------------------------- CoAP and DTLS vs tshark

const COAP_FIELDS: &[&str] = &[
    "coap.type",
    "coap.code",
    "coap.mid",
    "coap.token",
    "coap.opt.uri_path_recon",
    "coap.opt.uri_host",
    "coap.opt.uri_port",
    "coap.opt.uri_query",
    "coap.opt.observe",
    "coap.payload_length",
];

#[test]
fn coap_agrees_with_tshark() {
    let Some(corpus) = corpus() else { return };
    if !tshark_available() {
        return;
    }
    // The corpus has no third-party CoAP capture; the lab's capture is the only one.
    let pcap = corpus.join("../reference/kitsune/iotlab-dev.pcap");
    if !pcap.is_file() {
        custos_test_support::skip(&format!("{} not found", pcap.display()));
        return;
    }
    let pkts = packets(&pcap, false);
    let mut tally = Tally::default();
    let mut messages = 0usize;
    for (frame, theirs) in tshark(&pcap, "coap", COAP_FIELDS) {
        messages += 1;
        let ctx = format!("iotlab-dev.pcap frame {frame}");
        let nonempty = theirs.iter().filter(|v| !v.is_empty()).count();
        let Some(p) = pkts.iter().find(|p| p.frame == frame) else {
            tally.missing(&ctx, nonempty, "no datagram of ours");
            continue;
        };
        if !coap::probe(&p.payload) {
            tally.missing(&ctx, nonempty, "probe refused");
            continue;
        }
        let m = match coap::parse(&p.payload) {
            Ok(m) => m,
            Err(e) => {
                tally.missing(&ctx, nonempty, &format!("not parsed: {e}"));
                continue;
            }
        };
        let code = m
            .code
            .split_once('.')
            .and_then(|(c, d)| Some(c.parse::<u32>().ok()? * 32 + d.parse::<u32>().ok()?))
            .unwrap_or(0);
        let mtype = ["CON", "NON", "ACK", "RST"]
            .iter()
            .position(|t| *t == m.mtype)
            .unwrap_or(9);
        let ours = [
            mtype.to_string(),
            code.to_string(),
            m.message_id.to_string(),
            m.token.clone(),
            m.uri_path.as_deref().map(unescape).unwrap_or_default(),
            m.uri_host.as_deref().map(unescape).unwrap_or_default(),
            m.uri_port.map(|x| x.to_string()).unwrap_or_default(),
            m.uri_query
                .iter()
                .map(|q| unescape(q))
                .collect::<Vec<_>>()
                .join("|"),
            m.observe.map(|x| x.to_string()).unwrap_or_default(),
            if m.payload_len > 0 {
                m.payload_len.to_string()
            } else {
                String::new()
            },
        ];
        for ((k, t), v) in COAP_FIELDS.iter().zip(&theirs).zip(&ours) {
            if t.is_empty() && v.is_empty() {
                continue;
            }
            tally.field(&ctx, k, t, v);
        }
    }
    println!("coap (tshark): {messages} messages");
    tally.report("coap (tshark)", 95.0);
}

const DTLS_FIELDS: &[&str] = &[
    "dtls.record.content_type",
    "dtls.record.version",
    "dtls.record.epoch",
    "dtls.record.sequence_number",
    "dtls.handshake.type",
];

#[test]
fn dtls_agrees_with_tshark() {
    let Some(corpus) = corpus() else { return };
    if !tshark_available() {
        return;
    }
    let mut pcaps: Vec<PathBuf> = std::fs::read_dir(corpus.join("zeek/traces/tls"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    pcaps.retain(|p| {
        p.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("dtls"))
    });
    pcaps.sort();
    let mut tally = Tally::default();
    let mut records = 0usize;
    let mut unchecked: BTreeMap<String, usize> = BTreeMap::new();
    for pcap in &pcaps {
        let rel = pcap
            .strip_prefix(&corpus)
            .unwrap_or(pcap)
            .display()
            .to_string();
        let pkts = packets(pcap, false);
        let theirs_frames: BTreeMap<u64, Vec<String>> =
            tshark(pcap, "dtls", DTLS_FIELDS).into_iter().collect();
        for p in pkts.iter().filter(|p| p.tcp.is_none()) {
            let ours = coap::parse_dtls(&p.payload);
            let Some(theirs) = theirs_frames.get(&p.frame) else {
                if let Ok(r) = ours {
                    *unchecked
                        .entry(format!("{rel}: {} {}", r.version, r.content_type))
                        .or_insert(0usize) += 1;
                }
                continue;
            };
            let ctx = format!("{rel} frame {}", p.frame);
            let list = |i: usize| -> Vec<&str> { theirs[i].split('|').collect() };
            if !coap::probe_dtls(&p.payload) {
                tally.missing(&ctx, 6, "probe_dtls refused");
                continue;
            }
            let r = match ours {
                Ok(r) => r,
                Err(e) => {
                    tally.missing(&ctx, 6, &format!("not parsed: {e}"));
                    continue;
                }
            };
            records += r.records;
            let ctype = match r.content_type {
                "change_cipher_spec" => "20",
                "alert" => "21",
                "handshake" => "22",
                "application_data" => "23",
                "heartbeat" => "24",
                "tls12_cid" => "25",
                _ => "?",
            };
            let version = match r.version {
                "DTLS 1.0" => "0xfeff",
                "DTLS 1.2" => "0xfefd",
                _ => "0xfefc",
            };
            tally.field(&ctx, "content_type", list(0)[0], ctype);
            tally.field(&ctx, "version", list(1)[0], version);
            tally.field(&ctx, "epoch", list(2)[0], &r.epoch.to_string());
            tally.field(&ctx, "sequence", list(3)[0], &r.sequence.to_string());
            tally.field(
                &ctx,
                "records",
                &list(0).len().to_string(),
                &r.records.to_string(),
            );
            if let Some(h) = r.handshake_type {
                let n = (0u8..=30)
                    .find(|t| coap::handshake_name(*t) == Some(h))
                    .map(|t| t.to_string())
                    .unwrap_or_default();
                tally.field(&ctx, "handshake_type", list(4)[0], &n);
            }
        }
    }
    for (k, n) in &unchecked {
        println!("  dtls note: {k}: {n} datagrams tshark 4.0 does not decode (not compared)");
    }
    println!("dtls (tshark): {records} records");
    tally.report("dtls (tshark)", 95.0);
}
