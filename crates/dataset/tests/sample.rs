//! The sample capture (always here): rows against conn.log, Parquet read back, manifest
//! hashes, determinism, refusals.

use crate::util::*;
use custos_dataset::{build, DatasetError, DATASET_FILES};
use std::path::{Path, PathBuf};

/// The sample's conn.log rows and its labels file (all benign, or attack where `attack`).
fn setup(dir: &Path, attack: impl Fn(u64) -> bool) -> (Vec<Row>, PathBuf) {
    let (rows, packets) = reference(&[sample()], &dir.join("ref"));
    let labels = packet_labels(&dir.join("labels.csv"), packets[0], attack);
    (rows, labels)
}

#[test]
fn sample_rows_match_conn_log() {
    let d = tempfile::tempdir().unwrap();
    let (conn, labels) = setup(d.path(), |_| false);
    let out = d.path().join("ds");
    let m = build(&[sample()], &[labels], &out, None, config(2)).unwrap();
    let batches = read_parquet(&out.join("flows.parquet"));
    let uids = strings(&batches, "uid");
    assert!(!conn.is_empty());
    assert_eq!(uids.len(), conn.len());
    assert_eq!(m.output.rows, conn.len() as u64);
    let report = m.report_lines(&out);
    let want = format!("{} flows ({} benign) from ", conn.len(), conn.len());
    assert!(report.last().unwrap().starts_with(&want), "{report:?}");
    for (uid, row) in uids.iter().zip(&conn) {
        assert_eq!(uid.as_deref(), Some(row.get("uid")));
    }
    // Every row: its packets are the flow table's, and conn.log's packet counts agree.
    assert_eq!(m.counts.inexact_flows, 0);
    assert_eq!(m.run.collector.inexact_flows, 0);
    let o = u64s(&batches, "src2dst_packets");
    let r = u64s(&batches, "dst2src_packets");
    for (i, row) in conn.iter().enumerate() {
        assert_eq!(
            o[i],
            row.get("orig_pkts").parse().ok(),
            "{}",
            row.get("uid")
        );
        assert_eq!(
            r[i],
            row.get("resp_pkts").parse().ok(),
            "{}",
            row.get("uid")
        );
    }
    assert!(labels_of(&batches).iter().all(|&l| l == 0));
    assert_eq!(m.counts.label.get("benign"), Some(&(conn.len() as u64)));
    let names: Vec<String> = batches[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let schema: Vec<String> = custos_dataset::schema::columns()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, schema);
}

fn labels_of(b: &[arrow_array::RecordBatch]) -> Vec<u8> {
    label_column(b)
}

#[test]
fn manifest_hashes_equal_sha256sum() {
    let d = tempfile::tempdir().unwrap();
    let (_, labels) = setup(d.path(), |_| false);
    let info = d.path().join("info.toml");
    std::fs::write(
        &info,
        "title = \"sample\"\n[motivation]\npurpose = \"tests\"\n",
    )
    .unwrap();
    let out = d.path().join("ds");
    build(
        &[sample()],
        std::slice::from_ref(&labels),
        &out,
        Some(&info),
        config(1),
    )
    .unwrap();
    let m = manifest(&out);
    let inputs = m["inputs"].as_array().unwrap();
    let files = [
        ("capture", sample()),
        ("labels", labels),
        ("datasheet", info),
    ];
    assert_eq!(inputs.len(), files.len());
    for (input, (role, path)) in inputs.iter().zip(files) {
        let Some(want) = sha256sum(&path) else {
            custos_test_support::skip("sha256sum is not installed");
            return;
        };
        assert_eq!(input["role"], role);
        assert_eq!(input["path"], path.display().to_string());
        assert_eq!(input["sha256"], want);
        assert_eq!(input["bytes"], std::fs::metadata(&path).unwrap().len());
    }
    let parquet = out.join("flows.parquet");
    assert_eq!(
        m["output"]["sha256"].as_str(),
        sha256sum(&parquet).as_deref()
    );
    let sheet: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("datasheet.json")).unwrap()).unwrap();
    let manifest_file = out.join("manifest.json");
    assert_eq!(
        sheet["manifest_sha256"].as_str(),
        sha256sum(&manifest_file).as_deref()
    );
    let md = std::fs::read_to_string(out.join("datasheet.md")).unwrap();
    assert!(md.starts_with("# Datasheet: sample\n"), "{md}");
    assert!(md.contains("\n\ntests\n\n_(stated)_\n"), "{md}");
    assert!(md.contains("?**\n\nnot stated\n"), "{md}");
    for heading in [
        "Motivation",
        "Composition",
        "Collection process",
        "Uses",
        "Maintenance",
    ] {
        assert!(md.contains(&format!("\n## {heading}\n")), "{heading}");
    }
}

#[test]
fn same_bytes_twice_and_at_any_thread_count() {
    let d = tempfile::tempdir().unwrap();
    let (_, labels) = setup(d.path(), |i| i % 7 == 3);
    let a = d.path().join("a");
    let b = d.path().join("b");
    build(
        &[sample()],
        std::slice::from_ref(&labels),
        &a,
        None,
        config(1),
    )
    .unwrap();
    build(&[sample()], &[labels], &b, None, config(2)).unwrap();
    for name in DATASET_FILES {
        let (x, y) = (
            std::fs::read(a.join(name)).unwrap(),
            std::fs::read(b.join(name)).unwrap(),
        );
        assert!(x == y, "{name} differs between runs");
    }
}

#[test]
fn attack_packets_make_attack_flows() {
    let d = tempfile::tempdir().unwrap();
    let (conn, packets) = reference(&[sample()], &d.path().join("ref"));
    // The first packet of the first flow of flows.jsonl.
    let line = std::fs::read_to_string(d.path().join("ref/flows.jsonl")).unwrap();
    let flow: serde_json::Value = serde_json::from_str(line.lines().next().unwrap()).unwrap();
    let first = flow["custos"]["first_pkt"].as_u64().unwrap();
    let labels = packet_labels(&d.path().join("l.csv"), packets[0], |i| i == first);
    let out = d.path().join("ds");
    let m = build(&[sample()], &[labels], &out, None, config(1)).unwrap();
    let batches = read_parquet(&out.join("flows.parquet"));
    let attack: Vec<usize> = labels_of(&batches)
        .iter()
        .enumerate()
        .filter(|(_, &l)| l == 1)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(attack.len(), 1, "{attack:?}");
    let uid = strings(&batches, "uid")[attack[0]].clone().unwrap();
    assert_eq!(flow["custos"]["uid"], uid);
    assert!(conn.iter().any(|r| r.get("uid") == uid));
    assert_eq!(u64s(&batches, "first_packet")[attack[0]], Some(first));
    assert_eq!(u64s(&batches, "attack_packets")[attack[0]], Some(1));
    assert_eq!(
        strings(&batches, "phase")[attack[0]].as_deref(),
        Some("poke")
    );
    assert_eq!(m.counts.phase["poke"].attack, 1);
}

#[test]
fn per_flow_labels_key_rows_by_uid() {
    let d = tempfile::tempdir().unwrap();
    let (conn, _) = setup(d.path(), |_| false);
    let mut csv = String::from("uid,label,phase\n");
    for (i, r) in conn.iter().enumerate() {
        let attack = i % 3 == 0;
        csv.push_str(&format!(
            "{},{},{}\n",
            r.get("uid"),
            u8::from(attack),
            if attack { "x" } else { "" }
        ));
    }
    let labels = d.path().join("flows.csv");
    std::fs::write(&labels, csv).unwrap();
    let out = d.path().join("ds");
    let m = build(&[sample()], &[labels], &out, None, config(2)).unwrap();
    let batches = read_parquet(&out.join("flows.parquet"));
    let uids = strings(&batches, "uid");
    let got = labels_of(&batches);
    for (i, r) in conn.iter().enumerate() {
        let k = uids
            .iter()
            .position(|u| u.as_deref() == Some(r.get("uid")))
            .unwrap();
        assert_eq!(got[k], u8::from(i % 3 == 0), "{}", r.get("uid"));
    }
    assert!(u64s(&batches, "attack_packets").iter().all(Option::is_none));
    assert_eq!(m.labelling.kind, custos_dataset::LabelKind::PerFlow);
}

#[test]
fn refuses_per_flow_labels_naming_no_flow() {
    let d = tempfile::tempdir().unwrap();
    let (conn, _) = setup(d.path(), |_| false);
    let mut csv = String::from("uid,label\n");
    for r in &conn {
        csv.push_str(&format!("{},0\n", r.get("uid")));
    }
    csv.push_str("CnoSuchFlow000000,1\n");
    let labels = d.path().join("flows.csv");
    std::fs::write(&labels, csv).unwrap();
    let out = d.path().join("ds");
    let err = build(&[sample()], &[labels], &out, None, config(1)).unwrap_err();
    let line = conn.len() + 2;
    assert!(
        err.to_string().contains(&format!(
            "1 labelled uids are no flow of this run (the first: CnoSuchFlow000000 on line {line})"
        )),
        "{err}"
    );
    for name in DATASET_FILES {
        assert!(!out.join(name).exists(), "{name} left behind");
    }
    assert!(!out.join("flows.parquet.partial").exists());
}

#[test]
fn refuses_captures_without_labels() {
    let d = tempfile::tempdir().unwrap();
    let err = build(&[sample()], &[], &d.path().join("ds"), None, config(1)).unwrap_err();
    assert!(matches!(err, DatasetError::Usage(_)), "{err:?}");
    assert!(err.to_string().starts_with("no labels"), "{err}");
}

#[test]
fn refuses_labels_with_fewer_rows_than_packets() {
    let d = tempfile::tempdir().unwrap();
    let labels = packet_labels(&d.path().join("l.csv"), 5, |_| false);
    let out = d.path().join("ds");
    let err = build(
        &[sample()],
        std::slice::from_ref(&labels),
        &out,
        None,
        config(2),
    )
    .unwrap_err();
    match &err {
        DatasetError::LabelsMismatch { path, message } => {
            assert_eq!(path, &labels);
            assert!(
                message.starts_with("5 rows, but capture 0 has more packets (packet 5)"),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(!out.join("flows.parquet").exists());
    assert!(!out.join("flows.parquet.partial").exists());
}

#[test]
fn refuses_labels_with_more_rows_than_packets() {
    let d = tempfile::tempdir().unwrap();
    let (_, packets) = reference(&[sample()], &d.path().join("ref"));
    let labels = packet_labels(&d.path().join("l.csv"), packets[0] + 1, |_| false);
    let out = d.path().join("ds");
    let err = build(&[sample()], &[labels], &out, None, config(1)).unwrap_err();
    let want = format!("{} rows for the {} packets of", packets[0] + 1, packets[0]);
    assert!(err.to_string().contains(&want), "{err}");
    assert!(!out.join("flows.parquet").exists());
}

#[test]
fn refuses_an_earlier_dataset_unless_forced() {
    let d = tempfile::tempdir().unwrap();
    let (_, labels) = setup(d.path(), |_| false);
    let out = d.path().join("ds");
    build(
        &[sample()],
        std::slice::from_ref(&labels),
        &out,
        None,
        config(1),
    )
    .unwrap();
    let err = build(
        &[sample()],
        std::slice::from_ref(&labels),
        &out,
        None,
        config(1),
    )
    .unwrap_err();
    assert!(matches!(err, DatasetError::Exists { .. }), "{err:?}");
    assert!(
        out.join("manifest.json").exists(),
        "the refusal removed the dataset"
    );
    let mut forced = config(1);
    forced.output.overwrite = true;
    build(&[sample()], &[labels], &out, None, forced).unwrap();
}

#[test]
fn refuses_an_info_file_with_an_unknown_key() {
    let d = tempfile::tempdir().unwrap();
    let (_, labels) = setup(d.path(), |_| false);
    let info = d.path().join("info.toml");
    std::fs::write(&info, "[maintenance]\nmaintainer = \"us\"\nphone = \"1\"\n").unwrap();
    let err = build(
        &[sample()],
        &[labels],
        &d.path().join("ds"),
        Some(&info),
        config(1),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}: line 3: [maintenance] phone: unknown key (known: maintainer, contact, \
             erratum, updates, contributions)",
            info.display()
        )
    );
}

#[test]
fn duckdb_counts_the_rows() {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import duckdb"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        custos_test_support::skip("python3 with duckdb is not installed (pip install duckdb)");
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let (conn, labels) = setup(d.path(), |_| false);
    let out = d.path().join("ds");
    build(&[sample()], &[labels], &out, None, config(1)).unwrap();
    let file = out.join("flows.parquet");
    let query = format!(
        "import duckdb; print(duckdb.sql(\"SELECT count(*), sum(bidirectional_packets) FROM '{}'\").fetchall()[0])",
        file.display()
    );
    let o = std::process::Command::new("python3")
        .args(["-c", &query])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let packets: u64 = conn
        .iter()
        .map(|r| {
            r.get("orig_pkts").parse::<u64>().unwrap() + r.get("resp_pkts").parse::<u64>().unwrap()
        })
        .sum();
    let want = format!("({}, {packets})", conn.len());
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), want);
}

#[test]
fn prefixes_hold_every_checkpoint_and_the_last_one_matches_the_flow() {
    let d = tempfile::tempdir().unwrap();
    let (_, labels) = setup(d.path(), |i| i % 7 == 3);
    let out = d.path().join("ds");
    let m = build(&[sample()], &[labels], &out, None, config(2)).unwrap();
    let flows = read_parquet(&out.join("flows.parquet"));
    let prefixes = read_parquet(&out.join(custos_dataset::PREFIXES_FILE));
    let names: Vec<String> = prefixes[0]
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let expected: Vec<String> = custos_dataset::prefix_columns()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, expected);
    let (uids, packets) = (
        strings(&flows, "uid"),
        u64s(&flows, "bidirectional_packets"),
    );
    let (p_uids, checkpoints) = (strings(&prefixes, "uid"), u64s(&prefixes, "checkpoint"));
    // One row per checkpoint each flow reached, in flow order.
    let mut expect = Vec::new();
    for (uid, n) in uids.iter().zip(&packets) {
        let mut c = 1;
        while c <= n.unwrap() {
            expect.push((uid.clone(), Some(c)));
            c *= 2;
        }
    }
    let got: Vec<_> = p_uids
        .into_iter()
        .zip(checkpoints.iter().copied())
        .collect();
    assert_eq!(got, expect);
    assert_eq!(m.prefixes.rows, expect.len() as u64);
    // A flow whose packet count is a checkpoint: its last prefix has the flow's statistics.
    let stat_cols = [
        "bidirectional_bytes",
        "src2dst_packets",
        "dst2src_bytes",
        "src2dst_syn_packets",
    ];
    let mut checked = 0;
    for col in stat_cols {
        let (f, p) = (u64s(&flows, col), u64s(&prefixes, col));
        let mut row = 0;
        for (i, n) in packets.iter().enumerate() {
            let n = n.unwrap();
            let mut c = 1;
            while c <= n {
                if c == n {
                    assert_eq!(p[row], f[i], "{col} of flow {i}");
                    checked += 1;
                }
                c *= 2;
                row += 1;
            }
        }
    }
    assert!(checked > 0);
    // A prefix is attack once one of its packets is: never more attack than its flow.
    let (fl, pl) = (label_column(&flows), label_column(&prefixes));
    let mut row = 0;
    for (i, n) in packets.iter().enumerate() {
        let mut c = 1;
        while c <= n.unwrap() {
            assert!(pl[row] <= fl[i]);
            c *= 2;
            row += 1;
        }
    }
    assert!(pl.contains(&1) && pl.contains(&0));
}

#[test]
fn engine_outputs_beside_a_dataset_hold_no_detector_files() {
    let d = tempfile::tempdir().unwrap();
    let (_, labels) = setup(d.path(), |_| false);
    let mut cfg = config(1);
    cfg.output.dir = Some(d.path().join("run"));
    build(&[sample()], &[labels], &d.path().join("ds"), None, cfg).unwrap();
    let run = d.path().join("run");
    assert!(run.join("conn.log").is_file());
    // The collector is a detector that neither scores nor alerts.
    assert!(!run.join("scores.csv").exists());
    assert!(!run.join("alerts.jsonl").exists());
}
