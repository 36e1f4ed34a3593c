//! Corpus captures (shared; skipped when absent): tunnels, VLAN/MPLS/PPPoE, fragments,
//! pcapng, damaged captures and every suricata-verify capture. The collector's packets must be
//! exactly the flow table's for every flow, one row per conn.log line.

use crate::util::*;
use custos_dataset::build;
use std::path::{Path, PathBuf};

/// Captures of every kind the decoder and flow table handle.
fn captures(shared: &Path) -> Vec<PathBuf> {
    let corpus = shared.join("corpus");
    let wanted = [
        "zeek/traces/pppoe-over-qinq.pcap",
        "zeek/traces/erspan.pcap",
        "zeek/traces/mixed-vlan-mpls.pcap",
        "zeek/traces/vlan-qinqinq.pcap",
        "zeek/traces/ipv6-fragmented-dns.pcap",
        "zeek/traces/dns-edns-ecs.pcap",
        "zeek/traces/smtp.pcap",
        "zeek/traces/wikipedia.pcap",
        "zeek/traces/socks-with-ssl.pcap",
        "zeek/traces/echo-connections.pcap.gz",
        "zeek/traces/irc-dcc-send.pcapng",
        "zeek/traces/nmap-vsn.pcap",
        "zeek/traces/workshop_2011_browse.pcap",
        "zeek/traces/var-services-std-ports.pcap",
        "zeek/traces/vlan-collisions.pcap",
        "zeek/traces/chksums/ip4-tcp-bad-chksum.pcap",
        "zeek/traces/chksums/ip4-udp-bad-chksum.pcap",
        "zeek/traces/chksums/ip6-route0-tcp-bad-chksum.pcap",
        "zeek/traces/tcp/ctu-64702-888.pcap",
        "zeek/traces/tcp/fin_retransmission.pcap",
        "zeek/traces/tcp/handshake-reorder.pcap",
        "zeek/traces/tcp/http-on-irc-port-missing-syn.pcapng",
        "zeek/traces/icmp/5-pings.pcap",
        "zeek/traces/icmp/icmp-destunreach-udp.pcap",
        "tcpdump/vxlan.pcap",
        "tcpdump/geneve.pcap",
        "tcpdump/various_gre.pcap",
        "tcpdump/mpls-over-udp.pcap",
        "tcpdump/ip6_frag_asan.pcap",
        "tcpdump/bigtcp-ipv4-vxlan-ipv6.pcap",
        "tcpdump/dns-badlabel.pcap",
    ];
    let mut picked: Vec<PathBuf> = wanted
        .iter()
        .map(|w| corpus.join(w))
        .filter(|p| p.is_file())
        .collect();
    let mut sv = Vec::new();
    walk(&corpus.join("suricata-verify"), &mut sv);
    sv.retain(|p| {
        let n = p.to_string_lossy();
        n.ends_with(".pcap") || n.ends_with(".pcapng")
    });
    sv.sort();
    picked.extend(sv);
    picked
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn corpus_flows_get_exactly_the_flow_tables_packets() {
    let Some(shared) = custos_test_support::shared() else {
        return;
    };
    let all = captures(&shared);
    assert!(all.len() > 40, "only {} corpus captures", all.len());
    let d = tempfile::tempdir().unwrap();
    let mut rows = 0;
    for (k, pcap) in all.iter().enumerate() {
        let dir = d.path().join(k.to_string());
        let (conn, packets) = reference(std::slice::from_ref(pcap), &dir.join("ref"));
        let labels = packet_labels(&dir.join("l.csv"), packets[0], |_| false);
        let m = build(
            std::slice::from_ref(pcap),
            &[labels],
            &dir.join("ds"),
            None,
            config(2),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", pcap.display()));
        assert_eq!(m.output.rows, conn.len() as u64, "{}", pcap.display());
        assert_eq!(m.counts.inexact_flows, 0, "{}", pcap.display());
        rows += m.output.rows;
    }
    assert!(rows > 500, "{rows} flows");
}
