//! Community ID v1 on every flow: custos' values against Zeek's for its community-id traces
//! and `http/get.pcap`. Zeek's SCTP value is skipped: Zeek hashes SCTP ports as 0, unlike the
//! spec (custos hashes the real ports).

mod common;

use common::{custos, shared, ZeekLog};
use std::ffi::OsStr;

/// Parses `[orig_h=A, orig_p=P/proto, resp_h=B, resp_p=Q/proto, proto=N, ctx=[]], 1:ID`.
fn parse_out(line: &str) -> Option<(String, String, String, String, String)> {
    let field = |name: &str| -> Option<String> {
        let start = line.find(&format!("{name}="))? + name.len() + 1;
        let rest = &line[start..];
        let end = rest.find([',', '/', ']']).unwrap_or(rest.len());
        Some(rest[..end].to_string())
    };
    let id = line.rsplit(", ").next()?.trim().to_string();
    Some((
        field("orig_h")?,
        field("orig_p")?,
        field("resp_h")?,
        field("resp_p")?,
        id,
    ))
}

fn custos_ids(capture: &std::path::Path) -> Vec<(String, String, String, String, String)> {
    let out = tempfile::tempdir().unwrap();
    let r = custos(&[
        OsStr::new("analyze"),
        capture.as_os_str(),
        OsStr::new("-o"),
        out.path().as_os_str(),
        OsStr::new("--quiet"),
        OsStr::new("--checksums"),
        OsStr::new("ignore"),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    let log = ZeekLog::parse(&std::fs::read_to_string(out.path().join("conn.log")).unwrap());
    let c: Vec<usize> = [
        "id.orig_h",
        "id.orig_p",
        "id.resp_h",
        "id.resp_p",
        "community_id",
    ]
    .iter()
    .map(|n| log.col(n).unwrap())
    .collect();
    log.rows
        .iter()
        .map(|r| {
            (
                r[c[0]].clone(),
                r[c[1]].clone(),
                r[c[2]].clone(),
                r[c[3]].clone(),
                r[c[4]].clone(),
            )
        })
        .collect()
}

#[test]
fn community_ids_match_zeek() {
    let Some(shared) = shared() else { return };
    let dir = shared.join("corpus/zeek/communityid");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(trace) = name.strip_suffix(".out") else {
            continue;
        };
        if trace == "sctp.pcap" {
            continue;
        }
        let expected: Vec<_> = std::fs::read_to_string(entry.path())
            .unwrap()
            .lines()
            .filter_map(parse_out)
            .collect();
        let got = custos_ids(&shared.join("corpus/zeek/traces/communityid").join(trace));
        for e in &expected {
            let g = got
                .iter()
                .find(|g| (&g.0, &g.1, &g.2, &g.3) == (&e.0, &e.1, &e.2, &e.3));
            let g =
                g.unwrap_or_else(|| panic!("{trace}: flow {e:?} not in custos' conn.log: {got:?}"));
            assert_eq!(g.4, e.4, "{trace}: community id of {e:?}");
            checked += 1;
        }
    }
    // http/get.pcap through Zeek's community-id-logging policy.
    let cut = std::fs::read_to_string(dir.join("community-id-logging.conn.log.cut")).unwrap();
    let got = custos_ids(&shared.join("corpus/zeek/traces/http/get.pcap"));
    for line in cut.lines().filter(|l| !l.starts_with('#')) {
        let f: Vec<&str> = line.split('\t').collect();
        let g = got
            .iter()
            .find(|g| {
                (g.0.as_str(), g.1.as_str(), g.2.as_str(), g.3.as_str()) == (f[0], f[1], f[2], f[3])
            })
            .expect("get.pcap flow");
        let want = f.iter().find(|x| x.starts_with("1:")).expect("id column");
        assert_eq!(&g.4, want, "get.pcap community id");
        checked += 1;
    }
    println!("community id: {checked} flows match Zeek");
    assert!(checked >= 10, "only {checked} community ids checked");
}

#[test]
fn sctp_community_id_hashes_real_ports() {
    let Some(shared) = shared() else { return };
    let got = custos_ids(&shared.join("corpus/zeek/traces/communityid/sctp.pcap"));
    assert_eq!(got.len(), 1);
    // Zeek's value (ports hashed as 0) must differ: custos follows the spec and hashes the ports.
    assert_ne!(got[0].4, "1:U5cVwrVgLshgANPmc8hKzEcqp1M=");
    assert!(got[0].4.starts_with("1:") && got[0].4.len() == 30);
}
