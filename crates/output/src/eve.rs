//! Suricata EVE JSON `flow` records (field names as Suricata's `etc/schema.json`).

use crate::push::{push_hex2, push_int, push_ip};
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
    /// The inputs' names as JSON strings (quoted and escaped once, not per flow).
    files_json: Vec<String>,
    line: String,
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
            files_json: files
                .iter()
                .map(|f| serde_json::to_string(f).unwrap_or_else(|_| "\"\"".into()))
                .collect(),
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
        // Pushed piece by piece (crate::push): `write!` cost more than the rest of the line.
        let (f, c) = (&ended.flow, &ended.summary);
        l.push_str("{\"timestamp\":\"");
        push_eve_time(l, c.last_ts);
        l.push_str("\",\"flow_id\":");
        push_int(l, f.uid_seed() >> 11);
        l.push_str(",\"event_type\":\"flow\"");
        push_endpoints(l, ended);
        push_flow_block(l, ended);
        if f.proto == 6 {
            push_tcp_block(l, f.tcp_flags, c.conn_state);
        }
        let file = self
            .files_json
            .get(usize::from(f.file))
            .map_or("\"\"", String::as_str);
        l.push_str(",\"custos\":{\"uid\":\"");
        f.push_uid(l);
        l.push_str("\",\"pcap_file\":");
        l.push_str(file);
        l.push_str(",\"first_pkt\":");
        push_int(l, f.first_index);
        l.push_str(",\"last_pkt\":");
        push_int(l, f.last_index);
        l.push_str(",\"conn_state\":\"");
        l.push_str(c.conn_state.as_str());
        l.push_str("\",\"history\":\"");
        l.push_str(c.history());
        l.push_str("\"}}");
    }
}

/// `vlan`, addresses and ports, `proto`, `app_proto`, ICMP type and code, and
/// `community_id` up to its closing quote (which the flow block writes).
fn push_endpoints(l: &mut String, ended: &EndedFlow) {
    let f = &ended.flow;
    if f.vlans.iter().any(|&v| v != 0) {
        l.push_str(",\"vlan\":[");
        for (i, &v) in f.vlans.iter().filter(|&&v| v != 0).enumerate() {
            if i > 0 {
                l.push(',');
            }
            push_int(l, v);
        }
        l.push(']');
    }
    let ported = matches!(f.proto, 6 | 17 | 132);
    for (ip, port, e) in [
        (",\"src_ip\":\"", ",\"src_port\":", &f.orig),
        (",\"dest_ip\":\"", ",\"dest_port\":", &f.resp),
    ] {
        l.push_str(ip);
        push_ip(l, e.addr.ip());
        l.push('"');
        if ported {
            l.push_str(port);
            push_int(l, e.port);
        }
    }
    l.push_str(",\"proto\":\"");
    l.push_str(&eve_proto_name(f.proto));
    l.push('"');
    if let Some(app) = ended.app_proto {
        l.push_str(",\"app_proto\":\"");
        l.push_str(app);
        l.push('"');
    }
    if matches!(f.proto, 1 | 58) {
        l.push_str(",\"icmp_type\":");
        push_int(l, f.cid_ports.0);
        l.push_str(",\"icmp_code\":");
        push_int(l, f.cid_ports.1);
    }
    l.push_str(",\"community_id\":\"");
    l.push_str(&f.community_id());
}

/// The `flow` object: packets and bytes each way, start, end, age, state and why it ended.
fn push_flow_block(l: &mut String, ended: &EndedFlow) {
    let (f, c) = (&ended.flow, &ended.summary);
    for (name, n) in [
        ("\",\"flow\":{\"pkts_toserver\":", c.orig.pkts),
        (",\"pkts_toclient\":", c.resp.pkts),
        (",\"bytes_toserver\":", f.frame_bytes[0]),
        (",\"bytes_toclient\":", f.frame_bytes[1]),
    ] {
        l.push_str(name);
        push_int(l, n);
    }
    l.push_str(",\"start\":\"");
    push_eve_time(l, c.start_ts);
    l.push_str("\",\"end\":\"");
    push_eve_time(l, c.last_ts);
    l.push_str("\",\"age\":");
    push_int(l, c.last_ts.saturating_sub(c.start_ts) / 1_000_000_000);
    l.push_str(",\"state\":\"");
    l.push_str(flow_state(c.conn_state));
    l.push_str("\",\"reason\":\"");
    l.push_str(ended.reason.as_eve());
    l.push_str("\",\"alerted\":false}");
}

/// The `tcp` object: the flags seen (both ways, to server, to client), one boolean per flag
/// seen, and Suricata's TCP state.
fn push_tcp_block(l: &mut String, flags: [u8; 2], state: ConnState) {
    let all = flags[0] | flags[1];
    for (name, bits) in [
        (",\"tcp\":{\"tcp_flags\":\"", all),
        ("\",\"tcp_flags_ts\":\"", flags[0]),
        ("\",\"tcp_flags_tc\":\"", flags[1]),
    ] {
        l.push_str(name);
        push_hex2(l, bits);
    }
    l.push('"');
    for (name, bit) in [
        (",\"syn\":true", tf::SYN),
        (",\"fin\":true", tf::FIN),
        (",\"rst\":true", tf::RST),
        (",\"psh\":true", tf::PSH),
        (",\"ack\":true", tf::ACK),
        (",\"urg\":true", tf::URG),
        (",\"ecn\":true", tf::ECE),
        (",\"cwr\":true", tf::CWR),
    ] {
        if all & bit != 0 {
            l.push_str(name);
        }
    }
    l.push_str(",\"state\":\"");
    l.push_str(tcp_state(state));
    l.push_str("\"}");
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
