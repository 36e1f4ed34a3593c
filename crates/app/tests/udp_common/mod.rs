//! Helpers shared by the `udp_*` agreement tests: the corpus location, tshark, capture
//! reading (UDP datagrams and TCP segments through `custos_decode`), Zeek log reading and the
//! agreement counter.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use custos_capture::{FileReader, PacketSource};
use custos_decode::{ChecksumMode, Decoder, DecoderConfig, Transport};

// ---------------------------------------------------------------- environment

pub fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("CUSTOS_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if dir.join("corpus/zeek/app").is_dir() {
        return Some(dir.join("corpus"));
    }
    if std::env::var_os("CUSTOS_REQUIRE_SHARED").is_some_and(|v| v == "1") {
        panic!(
            "shared corpus not found at {} and CUSTOS_REQUIRE_SHARED=1",
            dir.display()
        );
    }
    custos_test_support::skip(&format!("shared corpus not found at {}", dir.display()));
    None
}

pub fn tshark_available() -> bool {
    let ok = Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        if std::env::var_os("CUSTOS_REQUIRE_TSHARK").is_some_and(|v| v == "1") {
            panic!("tshark not found and CUSTOS_REQUIRE_TSHARK=1");
        }
        custos_test_support::skip("tshark not found");
    }
    ok
}

/// Runs tshark with `-T fields` over `fields` (aggregator `|`, every occurrence); one row per
/// frame that passes `filter`: (frame number, values).
pub fn tshark(pcap: &Path, filter: &str, fields: &[&str]) -> Vec<(u64, Vec<String>)> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-n")
        .arg("-r")
        .arg(pcap)
        .args([
            "-Y",
            filter,
            "-T",
            "fields",
            "-E",
            "aggregator=|",
            "-E",
            "occurrence=a",
        ])
        .args(["-e", "frame.number"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("tshark on {}: {e}", pcap.display()));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let mut it = l.split('\t');
            let n = it.next()?.parse().ok()?;
            let mut v: Vec<String> = it.map(str::to_string).collect();
            v.resize(fields.len(), String::new());
            Some((n, v))
        })
        .collect()
}

/// Agreement counter for one protocol.
#[derive(Default)]
pub struct Tally {
    pub agree: usize,
    pub total: usize,
    pub diffs: Vec<String>,
    /// field name (indices removed) -> (agree, total)
    pub per_field: BTreeMap<String, (usize, usize)>,
}

impl Tally {
    pub fn field(&mut self, ctx: &str, name: &str, theirs: &str, ours: &str) {
        self.total += 1;
        let key = name.split('[').next().unwrap_or(name).to_string();
        let e = self.per_field.entry(key).or_default();
        e.1 += 1;
        if theirs == ours {
            e.0 += 1;
            self.agree += 1;
        } else {
            let cut = |s: &str| -> String {
                if s.chars().count() > 160 {
                    format!("{}…", s.chars().take(160).collect::<String>())
                } else {
                    s.to_string()
                }
            };
            self.diffs.push(format!(
                "{ctx} {name}: theirs {:?} ours {:?}",
                cut(theirs),
                cut(ours)
            ));
        }
    }

    pub fn missing(&mut self, ctx: &str, fields: usize, why: &str) {
        self.total += fields;
        self.diffs
            .push(format!("{ctx}: {fields} fields lost: {why}"));
    }

    pub fn report(&self, name: &str, bar: f64) {
        for d in &self.diffs {
            println!("  {name} disagreement: {d}");
        }
        let fields: Vec<String> = self
            .per_field
            .iter()
            .map(|(k, (a, t))| {
                if a == t {
                    format!("{k} {t}")
                } else {
                    format!("{k} {a}/{t}")
                }
            })
            .collect();
        println!("{name}: per field: {}", fields.join(", "));
        let pct = if self.total == 0 {
            100.0
        } else {
            100.0 * self.agree as f64 / self.total as f64
        };
        println!(
            "{name}: {} of {} fields agree ({pct:.1} %)",
            self.agree, self.total
        );
        assert!(self.total > 0, "{name}: nothing compared");
        assert!(pct >= bar, "{name}: agreement {pct:.1} % below {bar} %");
    }
}

// ---------------------------------------------------------------- captures

pub type Endpoint = (IpAddr, u16);

/// One UDP datagram or TCP segment.
#[derive(Debug, Clone)]
pub struct Pkt {
    /// 1-based frame number (as tshark counts).
    pub frame: u64,
    /// Capture time, ns.
    pub ts: i64,
    pub src: Endpoint,
    pub dst: Endpoint,
    pub payload: Vec<u8>,
    /// TCP: (seq, flags).
    pub tcp: Option<(u32, u8)>,
}

pub fn packets(path: &Path, verify_checksums: bool) -> Vec<Pkt> {
    let mut reader = FileReader::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut decoder = Decoder::new(DecoderConfig {
        checksums: if verify_checksums {
            ChecksumMode::Verify
        } else {
            ChecksumMode::Ignore
        },
        ..Default::default()
    });
    let mut v = Vec::new();
    let mut frame = 0u64;
    while let Ok(Some(pkt)) = reader.next_packet() {
        frame += 1;
        let d = decoder.decode(pkt.linktype.0, pkt.ts, pkt.data);
        let Some(ip) = d.innermost() else { continue };
        let (src_port, dst_port, payload, tcp) = match ip.transport {
            Transport::Udp {
                src_port,
                dst_port,
                payload,
                ..
            } => (src_port, dst_port, payload, None),
            Transport::Tcp {
                src_port,
                dst_port,
                payload,
                seq,
                flags,
                ..
            } => (src_port, dst_port, payload, Some((seq, flags))),
            _ => continue,
        };
        v.push(Pkt {
            frame,
            ts: pkt.ts,
            src: (ip.src, src_port),
            dst: (ip.dst, dst_port),
            payload: payload.to_vec(),
            tcp,
        });
    }
    v
}

pub fn conn_key(a: Endpoint, b: Endpoint) -> (Endpoint, Endpoint) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// Reads a Zeek ASCII log: rows as column → value.
pub fn zeek_log(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut fields: Vec<String> = Vec::new();
    let mut rows = Vec::new();
    for line in text.lines() {
        if let Some(f) = line.strip_prefix("#fields\t") {
            fields = f.split('\t').map(str::to_string).collect();
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        // zeek-cut extracts (`btest-diff-cut`) have a bare header line.
        if fields.is_empty() || line.starts_with("ts\t") {
            fields = line.split('\t').map(str::to_string).collect();
            continue;
        }
        rows.push(
            fields
                .iter()
                .cloned()
                .zip(line.split('\t').map(str::to_string))
                .collect(),
        );
    }
    rows
}

/// (trace path, zeek command line) from a baseline's `test.txt`.
pub fn zeek_test(dir: &Path) -> Option<(PathBuf, String)> {
    let text = std::fs::read_to_string(dir.join("test.txt")).ok()?;
    let trace = text.lines().find_map(|l| l.strip_prefix("trace: "))?;
    let cmd = text
        .lines()
        .find(|l| l.contains("zeek ") && l.contains("-r"))
        .unwrap_or("")
        .to_string();
    Some((dir.join("../..").join(trace.trim()), cmd))
}

/// Baseline directories under `zeek/app` that hold `log`.
pub fn baselines(corpus: &Path, log: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(corpus.join("zeek/app"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    v.retain(|p| p.join(log).is_file());
    v.sort();
    v
}

/// Zeek ASCII log escaping of a string inside a vector/set (`\`, non-printables and the set
/// separator).
pub fn zeek_vec_escape(s: &str) -> String {
    s.replace(',', "\\x2c")
}

/// Byte length of one of our escaped strings (each `\xNN` is one byte).
pub fn unescaped_len(s: &str) -> usize {
    let b = s.as_bytes();
    let mut n = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && b.get(i + 1) == Some(&b'x') && i + 3 < b.len() + 1 {
            i += 4;
        } else {
            i += 1;
        }
        n += 1;
    }
    n
}

pub fn zbool(b: bool) -> &'static str {
    if b {
        "T"
    } else {
        "F"
    }
}

pub fn is_multicast(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => a.is_multicast(),
        IpAddr::V6(a) => a.segments()[0] >> 8 == 0xff,
    }
}

/// Turns one of our escaped strings back into text the way tshark prints it: UTF-8 (lossy),
/// control characters as `\ooo` octal.
pub fn unescape(s: &str) -> String {
    let out = custos_app::text::unescape(s);
    let mut t = String::new();
    for c in String::from_utf8_lossy(&out).chars() {
        if (c as u32) < 0x20 || c as u32 == 0x7f {
            t.push_str(&format!("\\{:03o}", c as u32));
        } else {
            t.push(c);
        }
    }
    t
}
