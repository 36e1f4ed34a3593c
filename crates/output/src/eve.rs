//! Suricata EVE JSON `flow` records (field names as Suricata's `etc/schema.json`).

use crate::time::push_eve_time;
use custos_decode::wire::tcp::flags as tf;
use custos_flow::zeek::ConnState;
use custos_flow::EndedFlow;
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
    line: String,
}

/// Suricata's `proto` name for an IP protocol number, as a JSON string literal.
pub fn eve_proto(p: u8) -> String {
    format!("\"{}\"", eve_proto_name(p))
}

/// Suricata's `proto` name for an IP protocol number (the number itself when unnamed).
pub fn eve_proto_name(p: u8) -> std::borrow::Cow<'static, str> {
    match p {
        6 => "TCP".into(),
        17 => "UDP".into(),
        1 => "ICMP".into(),
        58 => "IPv6-ICMP".into(),
        47 => "GRE".into(),
        132 => "SCTP".into(),
        other => other.to_string().into(),
    }
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
    /// A writer over `out`; `files` names the inputs (index = `Flow::file`).
    pub fn new(out: W, files: Vec<String>) -> Self {
        EveFlowWriter {
            out,
            files,
            line: String::with_capacity(1024),
        }
    }

    /// Flushes the writer.
    ///
    /// # Errors
    /// I/O errors of the writer.
    pub fn finish(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// Consumes the writer, returning the inner writer.
    pub fn into_inner(self) -> W {
        self.out
    }

    /// The EVE record of a flow, as one JSON line (without the newline).
    ///
    /// Written field by field into a reused buffer rather than through a JSON tree: this runs
    /// once per flow and dominated `analyze`'s time when built as a `serde_json::Map`.
    pub fn record(&self, ended: &EndedFlow) -> String {
        let mut l = String::with_capacity(640);
        self.write_record(&mut l, ended);
        l
    }

    fn write_record(&self, l: &mut String, ended: &EndedFlow) {
        let (f, c, reason) = (&ended.flow, &ended.summary, ended.reason);
        use std::fmt::Write as _;
        let (o, r) = (c.orig, c.resp);
        l.push_str("{\"timestamp\":\"");
        push_eve_time(l, c.last_ts);
        let _ = write!(
            l,
            "\",\"flow_id\":{},\"event_type\":\"flow\"",
            f.uid_seed() >> 11
        );
        let vlans = f.vlans.iter().filter(|&&v| v != 0);
        if f.vlans.iter().any(|&v| v != 0) {
            l.push_str(",\"vlan\":[");
            for (i, v) in vlans.enumerate() {
                if i > 0 {
                    l.push(',');
                }
                let _ = write!(l, "{v}");
            }
            l.push(']');
        }
        let ported = matches!(f.proto, 6 | 17 | 132);
        let _ = write!(l, ",\"src_ip\":\"{}\"", f.orig.addr.ip());
        if ported {
            let _ = write!(l, ",\"src_port\":{}", f.orig.port);
        }
        let _ = write!(l, ",\"dest_ip\":\"{}\"", f.resp.addr.ip());
        if ported {
            let _ = write!(l, ",\"dest_port\":{}", f.resp.port);
        }
        let _ = write!(l, ",\"proto\":{}", eve_proto(f.proto));
        if let Some(app) = ended.app_proto {
            let _ = write!(l, ",\"app_proto\":\"{app}\"");
        }
        if matches!(f.proto, 1 | 58) {
            let _ = write!(
                l,
                ",\"icmp_type\":{},\"icmp_code\":{}",
                f.cid_ports.0, f.cid_ports.1
            );
        }
        let _ = write!(
            l,
            ",\"community_id\":\"{}\",\"flow\":{{\"pkts_toserver\":{},\"pkts_toclient\":{},\"bytes_toserver\":{},\"bytes_toclient\":{},\"start\":\"",
            f.community_id(),
            o.pkts,
            r.pkts,
            f.frame_bytes[0],
            f.frame_bytes[1],
        );
        push_eve_time(l, c.start_ts);
        l.push_str("\",\"end\":\"");
        push_eve_time(l, c.last_ts);
        let _ = write!(
            l,
            "\",\"age\":{},\"state\":\"{}\",\"reason\":\"{}\",\"alerted\":false}}",
            c.last_ts.saturating_sub(c.start_ts) / 1_000_000_000,
            flow_state(c.conn_state),
            reason.as_eve()
        );
        if f.proto == 6 {
            let all = f.tcp_flags[0] | f.tcp_flags[1];
            let _ = write!(
                l,
                ",\"tcp\":{{\"tcp_flags\":\"{all:02x}\",\"tcp_flags_ts\":\"{:02x}\",\"tcp_flags_tc\":\"{:02x}\"",
                f.tcp_flags[0], f.tcp_flags[1]
            );
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
                    let _ = write!(l, ",\"{name}\":true");
                }
            }
            let _ = write!(l, ",\"state\":\"{}\"}}", tcp_state(c.conn_state));
        }
        let file = self
            .files
            .get(usize::from(f.file))
            .map_or("", String::as_str);
        let file_json = serde_json::to_string(file).unwrap_or_else(|_| "\"\"".into());
        let _ = write!(
            l,
            ",\"custos\":{{\"uid\":\"{}\",\"pcap_file\":{file_json},\"first_pkt\":{},\"last_pkt\":{},\"conn_state\":\"{}\",\"history\":\"{}\"}}}}",
            f.uid(),
            f.first_index,
            f.last_index,
            c.conn_state.as_str(),
            c.history()
        );
    }
}

impl<W: Write> EveFlowWriter<W> {
    /// Writes the record of one ended flow.
    ///
    /// # Errors
    /// I/O errors of the writer.
    pub fn write_flow(&mut self, ended: &EndedFlow) -> io::Result<()> {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        self.write_record(&mut line, ended);
        line.push('\n');
        let result = self.out.write_all(line.as_bytes());
        self.line = line;
        result
    }
}
