//! Agreement of custos' content-based protocol detection (conn.log `service`) with Zeek's, on
//! Zeek's own test traces in corpus/zeek. Two sources of Zeek verdicts:
//! - `zeek/conn/<test>/conn.log`: Zeek's `service` set per connection. Runs in bare mode (`-b`,
//!   few analyzers loaded) count only rows where Zeek named a service; full runs count all rows.
//! - `zeek/app/<test>/*.log` (dns, http, ssl, ftp, snmp, modbus, mqtt_*, and the protocols
//!   custos does not parse: smtp, ssh, ntp, dnp3): a connection in Zeek's log for protocol P is
//!   one Zeek's P analyzer parsed. Only the connections these logs name are compared.
//!   (dhcp.log has no 5-tuple; DHCP comes from conn.log only.)
//!
//! Zeek's `ssl` on a UDP connection (DTLS, QUIC's TLS handshake) is left out: custos' `ssl` is
//! TLS over TCP, and it names DTLS only on CoAP's port 5684 (as `coap`).
//!
//! Each distinct (trace, `-C`) is analysed once. Prints recall (Zeek names P, custos names P)
//! and precision (custos names P on a connection Zeek named, and Zeek's names include P) per
//! protocol, every disagreement, and a few connections custos recognised where Zeek named
//! nothing; asserts bars a little below what the current detection reaches.

mod common;

use common::{custos, shared, ZeekLog};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

/// Protocols both custos and Zeek name (coap and ssdp have no Zeek analyzer).
const SUPPORTED: [&str; 10] = [
    "dns", "dhcp", "http", "ssl", "mqtt", "telnet", "ftp", "snmp", "modbus", "tftp",
];
const KEY: [&str; 5] = ["id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto"];

/// Zeek log file (stem) → the service its analyzer stands for.
fn log_service(stem: &str) -> Option<&'static str> {
    Some(match stem {
        "dns" => "dns",
        "http" => "http",
        "ssl" => "ssl",
        "ftp" => "ftp",
        "snmp" => "snmp",
        "modbus" => "modbus",
        s if s.starts_with("mqtt_") => "mqtt",
        "smtp" => "smtp",
        "ssh" => "ssh",
        "ntp" => "ntp",
        "dnp3" => "dnp3",
        _ => return None,
    })
}

/// Zeek's service set, in custos' names. `-P` (Zeek ≥ 6: analyzer P removed after a
/// violation) is dropped.
fn zeek_services(field: &str) -> BTreeSet<String> {
    field
        .split(',')
        .filter(|s| !s.is_empty() && *s != "-" && !s.starts_with('-'))
        .map(|s| s.to_ascii_lowercase())
        .collect()
}

/// One test's trace and flags (`-C`, `-b`), from its test.txt.
fn test_case(dir: &Path) -> Option<(String, bool, bool)> {
    let test = std::fs::read_to_string(dir.join("test.txt")).ok()?;
    let trace = test.lines().find_map(|l| l.strip_prefix("trace: "))?;
    let cmd = test
        .lines()
        .find(|l| l.contains("zeek") && l.contains(trace.trim_start_matches("traces/")))
        .unwrap_or("");
    let ignore = cmd.split_whitespace().any(|w| w == "-C");
    let bare = cmd.split_whitespace().any(|w| w == "-b");
    Some((trace.to_string(), ignore, bare))
}

fn sorted_dirs(base: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<_> = std::fs::read_dir(base)
        .map(|rd| rd.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    dirs.sort();
    dirs
}

#[derive(Debug, Clone)]
struct Row {
    key: Vec<String>,
    ts: f64,
    service: String,
}

fn rows(log: &ZeekLog) -> Option<Vec<Row>> {
    let key: Vec<usize> = KEY.iter().map(|k| log.col(k)).collect::<Option<_>>()?;
    let svc = log.col("service")?;
    let ts = log.col("ts");
    Some(
        log.rows
            .iter()
            .filter(|r| r.len() >= log.fields.len())
            .map(|r| Row {
                key: key.iter().map(|&i| r[i].clone()).collect(),
                ts: ts.and_then(|i| r[i].parse().ok()).unwrap_or(0.0),
                service: r[svc].clone(),
            })
            .collect(),
    )
}

/// custos' conn.log rows for a trace, analysed once per (trace, checksum flag).
struct Runs {
    shared: PathBuf,
    out: tempfile::TempDir,
    done: BTreeMap<(String, bool), Vec<Row>>,
}

impl Runs {
    fn get(&mut self, trace: &str, ignore: bool) -> &[Row] {
        let n = self.done.len();
        let (shared, out) = (&self.shared, &self.out);
        self.done
            .entry((trace.to_string(), ignore))
            .or_insert_with(|| {
                let capture = shared.join("corpus/zeek").join(trace);
                let dir = out.path().join(n.to_string());
                let r = custos(&[
                    OsStr::new("analyze"),
                    capture.as_os_str(),
                    OsStr::new("-o"),
                    dir.as_os_str(),
                    OsStr::new("--quiet"),
                    OsStr::new("--checksums"),
                    OsStr::new(if ignore { "ignore" } else { "verify" }),
                ]);
                assert!(
                    r.status.code().is_some_and(|c| c == 0 || c == 3),
                    "{trace}: {}",
                    String::from_utf8_lossy(&r.stderr)
                );
                let text = std::fs::read_to_string(dir.join("conn.log")).unwrap_or_default();
                rows(&ZeekLog::parse(&text)).unwrap_or_default()
            })
    }
}

#[derive(Default)]
struct Tally {
    /// protocol → (Zeek names it, custos names it too)
    recall: BTreeMap<&'static str, (usize, usize)>,
    /// protocol → (custos names it where Zeek named something, Zeek's names include it)
    precision: BTreeMap<&'static str, (usize, usize)>,
    compared: usize,
    /// Connections where Zeek's and custos' supported protocols are the same set.
    agree: usize,
    missing: usize,
    /// Zeek named `ssl` on a UDP connection (DTLS or QUIC: custos names neither).
    ssl_udp: usize,
    disagreements: Vec<String>,
}

impl Tally {
    /// One connection: Zeek's names (all, any protocol) against custos' (none when the
    /// connection is missing in custos' conn.log).
    fn add(&mut self, zeek: &BTreeSet<String>, ours: &BTreeSet<String>, udp: bool, what: String) {
        self.compared += 1;
        let mut zeek = zeek.clone();
        if udp && zeek.remove("ssl") {
            // DTLS or QUIC's TLS handshake: out of scope (custos' `ssl` is TLS over TCP).
            zeek.insert("ssl/udp".into());
            self.ssl_udp += 1;
        }
        let zeek = &zeek;
        let sup = |s: &BTreeSet<String>| -> BTreeSet<String> {
            s.iter()
                .filter(|p| SUPPORTED.contains(&p.as_str()))
                .cloned()
                .collect()
        };
        self.agree += usize::from(sup(zeek) == sup(ours));
        let mut bad = false;
        for &p in SUPPORTED.iter().filter(|p| zeek.contains(**p)) {
            let e = self.recall.entry(p).or_default();
            e.0 += 1;
            e.1 += usize::from(ours.contains(p));
            bad |= !ours.contains(p);
        }
        if !zeek.is_empty() {
            for &p in SUPPORTED.iter().filter(|p| ours.contains(**p)) {
                let e = self.precision.entry(p).or_default();
                e.0 += 1;
                e.1 += usize::from(zeek.contains(p));
                bad |= !zeek.contains(p);
            }
        }
        if bad {
            self.disagreements.push(format!(
                "{what}: zeek {:?}, custos {:?}",
                zeek.iter().collect::<Vec<_>>(),
                ours.iter().collect::<Vec<_>>()
            ));
        }
    }

    fn print(&self, title: &str) -> (usize, usize, usize, usize) {
        println!(
            "== {title}: {} connections compared, {} not found in custos' conn.log, {} where \
             Zeek named ssl over UDP (DTLS/QUIC, not compared); same supported protocols on {}",
            self.compared,
            self.missing,
            self.ssl_udp,
            ratio(self.agree, self.compared)
        );
        let (mut rt, mut rh, mut pt, mut ph) = (0, 0, 0, 0);
        for p in SUPPORTED {
            let (r0, r1) = self.recall.get(p).copied().unwrap_or_default();
            let (p0, p1) = self.precision.get(p).copied().unwrap_or_default();
            if r0 + p0 == 0 {
                continue;
            }
            println!("{p}: recall {}, precision {}", ratio(r1, r0), ratio(p1, p0));
            (rt, rh, pt, ph) = (rt + r0, rh + r1, pt + p0, ph + p1);
        }
        println!(
            "total: recall {}, precision {}",
            ratio(rh, rt),
            ratio(ph, pt)
        );
        (rt, rh, pt, ph)
    }
}

fn ratio(hit: usize, total: usize) -> String {
    if total == 0 {
        return "-".into();
    }
    format!("{hit}/{total} ({:.1} %)", hit as f64 * 100.0 / total as f64)
}

fn ours(rows: &[&Row]) -> BTreeSet<String> {
    rows.iter()
        .flat_map(|r| zeek_services(&r.service))
        .collect()
}

#[test]
fn app_proto_agrees_with_zeek_service() {
    let Some(shared) = shared() else { return };
    let zeek = shared.join("corpus/zeek");
    let mut runs = Runs {
        shared: shared.clone(),
        out: tempfile::tempdir().unwrap(),
        done: BTreeMap::new(),
    };

    // conn.log baselines, one per distinct (trace, -C, -b).
    let mut cases: BTreeMap<(String, bool, bool), PathBuf> = BTreeMap::new();
    for dir in sorted_dirs(&zeek.join("conn")) {
        let Some(case) = test_case(&dir) else {
            continue;
        };
        let Ok(text) = std::fs::read_to_string(dir.join("conn.log")) else {
            continue;
        };
        if rows(&ZeekLog::parse(&text)).is_none() {
            continue; // a zeek-cut extract without the 5-tuple or service
        }
        cases.entry(case).or_insert(dir);
    }
    let mut conn = Tally::default();
    // Connections custos recognised where a full (not bare) Zeek run named nothing.
    let mut ours_only: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut bare_skipped = 0usize;
    for ((trace, ignore, bare), dir) in &cases {
        let text = std::fs::read_to_string(dir.join("conn.log")).unwrap();
        let expected = rows(&ZeekLog::parse(&text)).unwrap();
        let got = runs.get(trace, *ignore);
        let mut used = BTreeSet::new();
        for e in &expected {
            let zs = zeek_services(&e.service);
            if *bare && zs.is_empty() {
                bare_skipped += 1;
                continue;
            }
            let best = got
                .iter()
                .enumerate()
                .filter(|(j, g)| !used.contains(j) && g.key == e.key)
                .min_by(|a, b| (a.1.ts - e.ts).abs().total_cmp(&(b.1.ts - e.ts).abs()))
                .map(|(j, _)| j);
            let mine = match best {
                Some(j) => {
                    used.insert(j);
                    ours(&[&got[j]])
                }
                None => {
                    conn.missing += 1;
                    BTreeSet::from(["(not in custos' conn.log)".to_string()])
                }
            };
            if zs.is_empty() && !*bare {
                for p in mine.iter().filter(|p| SUPPORTED.contains(&p.as_str())) {
                    ours_only
                        .entry(p.clone())
                        .or_default()
                        .push(format!("{trace} {:?}", e.key));
                }
            }
            let what = format!(
                "{trace}{} [{}] {:?}",
                if *bare { " (-b)" } else { "" },
                dir.file_name().unwrap().to_string_lossy(),
                e.key
            );
            conn.add(&zs, &mine, e.key[4] == "udp", what);
        }
    }

    // Application logs: per (trace, -C), the 4-tuples each Zeek log names.
    let mut evidence: BTreeMap<(String, bool), BTreeMap<[String; 4], BTreeSet<String>>> =
        BTreeMap::new();
    let mut app_tests = 0usize;
    for dir in sorted_dirs(&zeek.join("app")) {
        let Some((trace, ignore, _)) = test_case(&dir) else {
            continue;
        };
        let mut any = false;
        for f in sorted_dirs(&dir) {
            let Some(svc) = f
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".log"))
                .and_then(log_service)
            else {
                continue;
            };
            let log = ZeekLog::parse(&std::fs::read_to_string(&f).unwrap_or_default());
            let Some(k) = KEY[..4]
                .iter()
                .map(|k| log.col(k))
                .collect::<Option<Vec<_>>>()
            else {
                continue; // no 5-tuple (a zeek-cut extract)
            };
            for r in log.rows.iter().filter(|r| r.len() >= log.fields.len()) {
                let key = [0, 1, 2, 3].map(|i| r[k[i]].clone());
                evidence
                    .entry((trace.clone(), ignore))
                    .or_default()
                    .entry(key)
                    .or_default()
                    .insert(svc.to_string());
                any = true;
            }
        }
        app_tests += usize::from(any);
    }
    let mut app = Tally::default();
    for ((trace, ignore), conns) in &evidence {
        let got = runs.get(trace, *ignore);
        for (key, zs) in conns {
            let same = |g: &&Row| g.key[..4] == key[..];
            let rev = |g: &&Row| {
                g.key[0] == key[2] && g.key[1] == key[3] && g.key[2] == key[0] && g.key[3] == key[1]
            };
            let mut mine: Vec<&Row> = got.iter().filter(same).collect();
            if mine.is_empty() {
                mine = got.iter().filter(rev).collect();
            }
            let udp = mine.iter().any(|r| r.key[4] == "udp");
            let mut labels = ours(&mine);
            if mine.is_empty() {
                app.missing += 1;
                labels.insert("(not in custos' conn.log)".into());
            }
            app.add(zs, &labels, udp, format!("{trace} {key:?}"));
        }
    }

    for line in conn.disagreements.iter().chain(&app.disagreements) {
        println!("disagree: {line}");
    }
    println!(
        "{} traces analysed; conn.log baselines: {} (trace, flags) cases, {} bare-mode rows \
         without a Zeek service skipped; app logs: {} tests",
        runs.done.len(),
        cases.len(),
        bare_skipped,
        app_tests
    );
    let a = conn.print("Zeek conn.log service");
    let b = app.print("Zeek application logs");
    println!("== custos recognised, Zeek (full run) named nothing:");
    for (p, ex) in &ours_only {
        let ex: BTreeSet<&String> = ex.iter().collect();
        println!(
            "{p}: {} e.g. {}",
            ex.len(),
            ex.iter()
                .take(4)
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
    }

    // Combined per protocol.
    let mut all = Tally::default();
    for t in [&conn, &app] {
        for (p, v) in &t.recall {
            let e = all.recall.entry(p).or_default();
            (e.0, e.1) = (e.0 + v.0, e.1 + v.1);
        }
        for (p, v) in &t.precision {
            let e = all.precision.entry(p).or_default();
            (e.0, e.1) = (e.0 + v.0, e.1 + v.1);
        }
    }
    all.compared = conn.compared + app.compared;
    all.agree = conn.agree + app.agree;
    all.missing = conn.missing + app.missing;
    all.ssl_udp = conn.ssl_udp + app.ssl_udp;
    let (rt, rh, pt, ph) = all.print("both sources");
    assert_eq!((rt, pt), (a.0 + b.0, a.2 + b.2));

    assert!(
        rt >= 100 && pt >= 100,
        "too few comparable connections: {rt}, {pt}"
    );
    let rate = |h: usize, t: usize| h as f64 / t.max(1) as f64;
    assert!(rate(rh, rt) >= RECALL, "overall recall {rh}/{rt}");
    assert!(rate(ph, pt) >= PRECISION, "overall precision {ph}/{pt}");
    assert!(
        rate(all.agree, all.compared) >= SAME,
        "same supported protocols on only {}/{} connections",
        all.agree,
        all.compared
    );
    for (p, min_recall, min_precision) in BARS {
        let (r0, r1) = all.recall.get(p).copied().unwrap_or_default();
        let (p0, p1) = all.precision.get(p).copied().unwrap_or_default();
        assert!(r0 >= 10, "{p}: only {r0} connections where Zeek names it");
        assert!(rate(r1, r0) >= min_recall, "{p}: recall {r1}/{r0}");
        assert!(rate(p1, p0) >= min_precision, "{p}: precision {p1}/{p0}");
    }
}

/// Bars (both sources together), a little below what was measured (see docs/app.md,
/// "Agreement of app_proto with Zeek's service"): recall 312/336 (92.9 %), precision 312/314
/// (99.4 %), same supported protocols on 692/721 connections (96.0 %). Per protocol only where
/// Zeek names it on at least 10 connections.
const RECALL: f64 = 0.90;
const PRECISION: f64 = 0.98;
const SAME: f64 = 0.94;
/// (protocol, recall, precision). Measured: dns 111/112, 111/111; http 136/139, 136/136;
/// ssl 32/51, 32/33 (TLS after a plaintext preamble: STARTTLS,
/// FTP AUTH TLS, HTTP CONNECT, MySQL, RDP); ftp 21/21, 21/22.
const BARS: [(&str, f64, f64); 4] = [
    ("dns", 0.97, 0.97),
    ("http", 0.95, 0.98),
    ("ssl", 0.58, 0.93),
    ("ftp", 0.95, 0.90),
];
