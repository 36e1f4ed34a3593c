//! Suricata EVE JSON `flow` records (field names as Suricata's `etc/schema.json`).

use crate::time::eve_time;
use custos_decode::wire::tcp::flags as tf;
use custos_flow::zeek::ConnState;
use custos_flow::{ConnSummary, EndReason, Flow, FlowSink};
use serde_json::{json, Map, Value};
use std::io::{self, Write};

/// Writes one EVE `flow` event per line as flows end.
///
/// The event `timestamp` is the flow's last packet time (Suricata uses the time it logs the
/// flow; packet time keeps the output deterministic). custos adds a `custos` object naming the
/// input file, the first and last packet indices (0-based, within the input file) and the uid
/// shared with conn.log.
pub struct EveFlowWriter<W: Write> {
    out: W,
    files: Vec<String>,
}

/// Suricata's `proto` name for an IP protocol number.
pub fn eve_proto(p: u8) -> Value {
    match p {
        6 => json!("TCP"),
        17 => json!("UDP"),
        1 => json!("ICMP"),
        58 => json!("IPv6-ICMP"),
        47 => json!("GRE"),
        132 => json!("SCTP"),
        other => json!(other.to_string()),
    }
}

fn flags_hex(f: u8) -> String {
    format!("{f:02x}")
}

/// Suricata-style TCP state names approximated from Zeek's conn_state.
fn tcp_state(s: ConnState) -> &'static str {
    match s {
        ConnState::S0 => "syn_sent",
        ConnState::S1 => "established",
        ConnState::SF
        | ConnState::REJ
        | ConnState::RSTO
        | ConnState::RSTR
        | ConnState::RSTOS0
        | ConnState::RSTRH => "closed",
        ConnState::S2 | ConnState::S3 | ConnState::SH | ConnState::SHR => "fin_wait2",
        ConnState::OTH => "none",
    }
}

fn flow_state(s: ConnState) -> &'static str {
    match s {
        ConnState::S0 | ConnState::OTH => "new",
        ConnState::S1 | ConnState::S2 | ConnState::S3 | ConnState::SH | ConnState::SHR => {
            "established"
        }
        _ => "closed",
    }
}

impl<W: Write> EveFlowWriter<W> {
    /// A writer over `out`; `files` names the inputs (index = [`Flow::file`]).
    pub fn new(out: W, files: Vec<String>) -> Self {
        EveFlowWriter { out, files }
    }

    /// Flushes the writer.
    ///
    /// # Errors
    /// I/O errors of the writer.
    pub fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The EVE record of a flow, from its Zeek results `c`.
    pub fn record(&self, f: &Flow, c: &ConnSummary, reason: EndReason) -> Value {
        let (o, r) = (c.orig, c.resp);
        let mut ev = Map::new();
        ev.insert("timestamp".into(), json!(eve_time(c.last_ts)));
        ev.insert("flow_id".into(), json!(f.uid_seed() >> 11));
        ev.insert("event_type".into(), json!("flow"));
        let vlans: Vec<u16> = f.vlans.iter().copied().filter(|&v| v != 0).collect();
        if !vlans.is_empty() {
            ev.insert("vlan".into(), json!(vlans));
        }
        ev.insert("src_ip".into(), json!(f.orig.addr.ip().to_string()));
        let ported = matches!(f.proto, 6 | 17 | 132);
        if ported {
            ev.insert("src_port".into(), json!(f.orig.port));
        }
        ev.insert("dest_ip".into(), json!(f.resp.addr.ip().to_string()));
        if ported {
            ev.insert("dest_port".into(), json!(f.resp.port));
        }
        ev.insert("proto".into(), eve_proto(f.proto));
        if matches!(f.proto, 1 | 58) {
            ev.insert("icmp_type".into(), json!(f.cid_ports.0));
            ev.insert("icmp_code".into(), json!(f.cid_ports.1));
        }
        ev.insert("community_id".into(), json!(f.community_id()));
        let mut flow = Map::new();
        flow.insert("pkts_toserver".into(), json!(o.pkts));
        flow.insert("pkts_toclient".into(), json!(r.pkts));
        flow.insert("bytes_toserver".into(), json!(f.frame_bytes[0]));
        flow.insert("bytes_toclient".into(), json!(f.frame_bytes[1]));
        flow.insert("start".into(), json!(eve_time(c.start_ts)));
        flow.insert("end".into(), json!(eve_time(c.last_ts)));
        flow.insert(
            "age".into(),
            json!(c.last_ts.saturating_sub(c.start_ts) / 1_000_000_000),
        );
        flow.insert("state".into(), json!(flow_state(c.conn_state)));
        flow.insert("reason".into(), json!(reason.as_eve()));
        flow.insert("alerted".into(), json!(false));
        ev.insert("flow".into(), Value::Object(flow));
        if f.proto == 6 {
            let all = f.tcp_flags[0] | f.tcp_flags[1];
            let mut tcp = Map::new();
            tcp.insert("tcp_flags".into(), json!(flags_hex(all)));
            tcp.insert("tcp_flags_ts".into(), json!(flags_hex(f.tcp_flags[0])));
            tcp.insert("tcp_flags_tc".into(), json!(flags_hex(f.tcp_flags[1])));
            for (name, bit) in [
                ("syn", tf::SYN),
                ("fin", tf::FIN),
                ("rst", tf::RST),
                ("psh", tf::PSH),
                ("ack", tf::ACK),
                ("urg", tf::URG),
                ("ecn", tf::ECE),
                ("cwr", tf::CWR),
            ] {
                if all & bit != 0 {
                    tcp.insert(name.into(), json!(true));
                }
            }
            tcp.insert("state".into(), json!(tcp_state(c.conn_state)));
            ev.insert("tcp".into(), Value::Object(tcp));
        }
        let mut custos = Map::new();
        custos.insert("uid".into(), json!(f.uid()));
        custos.insert(
            "pcap_file".into(),
            json!(self
                .files
                .get(usize::from(f.file))
                .cloned()
                .unwrap_or_default()),
        );
        custos.insert("first_pkt".into(), json!(f.first_index));
        custos.insert("last_pkt".into(), json!(f.last_index));
        custos.insert("conn_state".into(), json!(c.conn_state.as_str()));
        custos.insert("history".into(), json!(c.history()));
        ev.insert("custos".into(), Value::Object(custos));
        Value::Object(ev)
    }
}

impl<W: Write> FlowSink for EveFlowWriter<W> {
    fn flow_ended(
        &mut self,
        flow: &Flow,
        summary: &ConnSummary,
        reason: EndReason,
    ) -> io::Result<()> {
        let v = self.record(flow, summary, reason);
        serde_json::to_writer(&mut self.out, &v)?;
        self.out.write_all(b"\n")
    }
}
