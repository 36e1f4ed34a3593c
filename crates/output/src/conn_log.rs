//! Zeek `conn.log` in Zeek's TSV format, with `community_id` appended as Zeek's
//! `policy/protocols/conn/community-id-logging` does, and three provenance columns.

use crate::push::{push_hex2, push_int, push_ip};
use crate::time::{push_zeek_time, zeek_header_time};
use custos_decode::Encap;
use custos_flow::{ConnSummary, EndedFlow, Flow};
use std::io::{self, Write};
use std::net::IpAddr;

/// Column names, in order.
pub const FIELDS: [&str; 26] = [
    "ts",
    "uid",
    "id.orig_h",
    "id.orig_p",
    "id.resp_h",
    "id.resp_p",
    "proto",
    "service",
    "duration",
    "orig_bytes",
    "resp_bytes",
    "conn_state",
    "local_orig",
    "local_resp",
    "missed_bytes",
    "history",
    "orig_pkts",
    "orig_ip_bytes",
    "resp_pkts",
    "resp_ip_bytes",
    "tunnel_parents",
    "ip_proto",
    "community_id",
    "pcap_file",
    "first_pkt",
    "last_pkt",
];

/// Column types, in order (Zeek's type names).
pub const TYPES: [&str; 26] = [
    "time",
    "string",
    "addr",
    "port",
    "addr",
    "port",
    "enum",
    "string",
    "interval",
    "count",
    "count",
    "string",
    "bool",
    "bool",
    "count",
    "string",
    "count",
    "count",
    "count",
    "count",
    "set[string]",
    "count",
    "string",
    "string",
    "count",
    "count",
];

/// Writes conn.log records as flows end.
///
/// The `#open` and `#close` lines carry the first and last packet times (not the wall clock),
/// so the same input always gives the same file.
pub struct ConnLogWriter<W: Write> {
    out: W,
    /// The inputs' names, escaped for the log (once, not per flow).
    files_escaped: Vec<String>,
    header_written: bool,
    line: String,
}

/// Zeek's default `Site::local_nets`: the private address space (`Site::private_address_space`).
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            o[0] == 10
                || (o[0] == 172 && (16..32).contains(&o[1]))
                || (o[0] == 192 && o[1] == 168)
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] == 127
                || (o[0] == 169 && o[1] == 254)
        }
        IpAddr::V6(a) => {
            let s = a.segments();
            (s[0] & 0xfe00) == 0xfc00 || (s[0] & 0xffc0) == 0xfe80 || a.is_loopback()
        }
    }
}

/// Zeek's name for an application protocol custos recognised (`ssl` for TLS, as Zeek logs).
fn zeek_service(app: &'static str) -> &'static str {
    match app {
        "tls" => "ssl",
        "mdns" => "dns",
        other => other,
    }
}

fn service(e: Encap) -> &'static str {
    match e {
        Encap::Vxlan => "vxlan",
        Encap::Geneve => "geneve",
        Encap::Teredo => "teredo",
        Encap::Ayiya => "ayiya",
        Encap::Gtp => "gtpv1",
        Encap::Gre => "gre",
        _ => "-",
    }
}

/// Zeek's `proto` enum for an IP protocol.
pub fn proto_name(p: u8) -> &'static str {
    match p {
        6 => "tcp",
        17 => "udp",
        1 | 58 => "icmp",
        _ => "unknown_transport",
    }
}

impl<W: Write> ConnLogWriter<W> {
    /// A writer over `out`; `files` names the inputs (index = [`Flow::file`]).
    pub fn new(out: W, files: Vec<String>) -> Self {
        ConnLogWriter {
            out,
            files_escaped: files.iter().map(|f| escape(f)).collect(),
            header_written: false,
            line: String::with_capacity(512),
        }
    }

    /// Writes the header lines; `open_ts` is the first packet's time (ns).
    ///
    /// # Errors
    /// I/O errors of the writer.
    pub fn write_header(&mut self, open_ts: i64) -> io::Result<()> {
        writeln!(self.out, "#separator \\x09")?;
        writeln!(self.out, "#set_separator\t,")?;
        writeln!(self.out, "#empty_field\t(empty)")?;
        writeln!(self.out, "#unset_field\t-")?;
        writeln!(self.out, "#path\tconn")?;
        writeln!(self.out, "#open\t{}", zeek_header_time(open_ts))?;
        writeln!(self.out, "#fields\t{}", FIELDS.join("\t"))?;
        writeln!(self.out, "#types\t{}", TYPES.join("\t"))?;
        self.header_written = true;
        Ok(())
    }

    /// Writes the `#close` line with the last packet's time, and flushes.
    ///
    /// # Errors
    /// I/O errors of the writer.
    pub fn finish(&mut self, close_ts: i64) -> io::Result<()> {
        if !self.header_written {
            self.write_header(close_ts)?;
        }
        writeln!(self.out, "#close\t{}", zeek_header_time(close_ts))?;
        self.out.flush()
    }

    /// Consumes the writer, returning the inner writer.
    pub fn into_inner(self) -> W {
        self.out
    }

    fn format(&mut self, f: &Flow, c: &ConnSummary, app_proto: Option<&'static str>) {
        // Pushed piece by piece (crate::push): `write!` cost more than the rest of the line.
        let l = &mut self.line;
        l.clear();
        let (oip, rip) = (f.orig.addr.ip(), f.resp.addr.ip());
        let (o, r) = (c.orig, c.resp);
        let tab = |l: &mut String| l.push('\t');
        push_zeek_time(l, c.start_ts);
        tab(l);
        f.push_uid(l);
        tab(l);
        push_ip(l, oip);
        tab(l);
        push_int(l, f.orig.port);
        tab(l);
        push_ip(l, rip);
        tab(l);
        push_int(l, f.resp.port);
        tab(l);
        l.push_str(proto_name(f.proto));
        tab(l);
        l.push_str(app_proto.map_or_else(|| service(f.tunnel_service), zeek_service));
        tab(l);
        match c.log_duration {
            Some(d) => {
                push_zeek_time(l, d);
                tab(l);
                push_int(l, o.bytes);
                tab(l);
                push_int(l, r.bytes);
                tab(l);
            }
            None => l.push_str("-\t-\t-\t"),
        }
        let tf = |b: bool| if b { "T\t" } else { "F\t" };
        let history = c.history();
        l.push_str(c.conn_state.as_str());
        tab(l);
        l.push_str(tf(is_private(oip)));
        l.push_str(tf(is_private(rip)));
        push_int(l, c.missed_bytes);
        tab(l);
        l.push_str(if history.is_empty() { "-" } else { history });
        for n in [o.pkts, o.ip_bytes, r.pkts, r.ip_bytes] {
            tab(l);
            push_int(l, n);
        }
        tab(l);
        if f.tunnel_parent == 0 {
            l.push('-');
        } else {
            custos_flow::push_uid(l, b'C', f.tunnel_parent);
        }
        tab(l);
        push_int(l, f.proto);
        tab(l);
        l.push_str(&f.community_id());
        tab(l);
        let file = self
            .files_escaped
            .get(usize::from(f.file))
            .map_or("-", String::as_str);
        l.push_str(file);
        tab(l);
        push_int(l, f.first_index);
        tab(l);
        push_int(l, f.last_index);
    }
}

/// Zeek escapes tabs, separators and non-printable bytes as `\xNN`.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if ch == '\t' || ch == ',' || ch.is_control() {
            let mut utf8 = [0; 4];
            for &b in ch.encode_utf8(&mut utf8).as_bytes() {
                out.push_str("\\x");
                push_hex2(&mut out, b);
            }
        } else {
            out.push(ch);
        }
    }
    out
}

impl<W: Write> ConnLogWriter<W> {
    /// Writes the record of one ended flow (the header first, if not written yet).
    ///
    /// # Errors
    /// I/O errors of the writer.
    pub fn write_flow(&mut self, ended: &EndedFlow) -> io::Result<()> {
        if !self.header_written {
            self.write_header(ended.summary.start_ts)?;
        }
        self.format(&ended.flow, &ended.summary, ended.app_proto);
        self.out.write_all(self.line.as_bytes())?;
        self.out.write_all(b"\n")
    }
}
