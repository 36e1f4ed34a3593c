use super::*;

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn labels_error(err: DatasetError) -> (PathBuf, u64, String) {
    match err {
        DatasetError::Labels {
            path,
            line,
            message,
        } => (path, line, message),
        other => panic!("expected a labels error, got {other:?}"),
    }
}

#[test]
fn reads_per_packet_labels_with_phases() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "l.csv",
        "index,label,phase,attacker,time\n0,0,benign,0,1.5\n1,1,scan,1,1.000000002\n2,1,,1,2\n",
    );
    let l = Labels::read(&[p], 1).unwrap();
    assert_eq!(l.kind(), LabelKind::PerPacket);
    assert_eq!(l.phases(), ["benign", "scan", "attack"]);
    assert_eq!(l.rows(0), 3);
    let scan = l.packet(0, 1, 1_000_000_002).unwrap();
    assert_eq!(
        scan,
        Label {
            attack: true,
            phase: Some(1)
        }
    );
    assert!(!l.packet(0, 0, 1_500_000_000).unwrap().attack);
}

#[test]
fn rejects_index_out_of_order_naming_the_line() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "l.csv", "index,label\n0,0\n2,0\n");
    let (path, line, message) =
        labels_error(Labels::read(std::slice::from_ref(&p), 1).unwrap_err());
    assert_eq!((path, line), (p, 3));
    assert_eq!(message, "index \"2\", expected 1");
}

#[test]
fn rejects_a_label_other_than_0_or_1() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "l.csv", "index,label\n0,0\n1,attack\n");
    let err = Labels::read(std::slice::from_ref(&p), 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("{}:3: label \"attack\", expected 0 or 1", p.display())
    );
}

#[test]
fn rejects_a_header_without_index_or_uid() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "l.csv", "row,label\n0,0\n");
    let (_, line, message) = labels_error(Labels::read(&[p], 1).unwrap_err());
    assert_eq!(line, 1);
    assert!(message.starts_with("header must name label"), "{message}");
}

#[test]
fn rejects_a_bad_time() {
    let d = tempfile::tempdir().unwrap();
    let p = write(
        d.path(),
        "l.csv",
        "index,label,time\n0,0,1.5\n1,0,yesterday\n",
    );
    let (_, line, message) = labels_error(Labels::read(&[p], 1).unwrap_err());
    assert_eq!(
        (line, message.as_str()),
        (3, "time \"yesterday\" is no time")
    );
}

#[test]
fn rejects_a_row_with_too_many_fields() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "l.csv", "index,label\n0,0\n1,0,x\n");
    let (_, line, _) = labels_error(Labels::read(&[p], 1).unwrap_err());
    assert_eq!(line, 3);
}

#[test]
fn refuses_per_packet_files_not_one_per_capture() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "l.csv", "index,label\n0,0\n");
    let err = Labels::read(&[p], 2).unwrap_err();
    assert!(matches!(err, DatasetError::Usage(_)), "{err:?}");
}

#[test]
fn refuses_a_run_without_labels() {
    let err = Labels::read(&[], 1).unwrap_err();
    assert!(err.to_string().starts_with("no labels"), "{err}");
}

#[test]
fn refuses_mixed_kinds() {
    let d = tempfile::tempdir().unwrap();
    let a = write(d.path(), "a.csv", "index,label\n0,0\n");
    let b = write(d.path(), "b.csv", "uid,label\nCx,1\n");
    let err = Labels::read(&[a, b], 2).unwrap_err();
    assert!(err.to_string().contains("one kind per dataset"), "{err}");
}

#[test]
fn packet_past_the_rows_or_at_another_time_is_a_mismatch() {
    let d = tempfile::tempdir().unwrap();
    let p = write(d.path(), "l.csv", "index,label,time\n0,0,10.000000000\n");
    let l = Labels::read(&[p], 1).unwrap();
    assert!(l.packet(0, 0, 10_000_000_999).is_ok());
    let late = l.packet(0, 0, 10_000_001_001).unwrap_err();
    assert!(matches!(late, DatasetError::LabelsMismatch { .. }));
    assert!(
        late.to_string().contains("line 2: time 10.000000000"),
        "{late}"
    );
    let past = l.packet(0, 1, 0).unwrap_err();
    assert!(past.to_string().contains("1 rows"), "{past}");
}

#[test]
fn reads_per_flow_labels_and_reports_unused_uids() {
    let d = tempfile::tempdir().unwrap();
    let a = write(d.path(), "a.csv", "uid,label,phase\nCa,1,brute\nCb,0,\n");
    let b = write(d.path(), "b.csv", "label,uid\n0,Cc\n");
    let mut l = Labels::read(&[a.clone(), b], 1).unwrap();
    assert_eq!(l.kind(), LabelKind::PerFlow);
    assert_eq!(
        l.flow("Ca"),
        Some(Label {
            attack: true,
            phase: Some(0)
        })
    );
    assert_eq!(l.flow("Cz"), None);
    l.flow("Cc");
    assert_eq!(l.unused(), (1, Some((a, 3, "Cb".to_string()))));
}

#[test]
fn rejects_a_uid_labelled_twice_naming_both_lines() {
    let d = tempfile::tempdir().unwrap();
    let a = write(d.path(), "a.csv", "uid,label\nCa,1\nCb,0\nCa,0\n");
    let err = Labels::read(std::slice::from_ref(&a), 1).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{}:4: uid Ca labelled twice (also {}:2)",
            a.display(),
            a.display()
        )
    );
}

#[test]
fn parses_times_with_up_to_nine_decimals() {
    assert_eq!(
        parse_ns("1795651181.390047000"),
        Some(1_795_651_181_390_047_000)
    );
    assert_eq!(parse_ns("2.5"), Some(2_500_000_000));
    assert_eq!(parse_ns("7"), Some(7_000_000_000));
    assert_eq!(parse_ns("1.0000000001"), None);
    assert_eq!(parse_ns(".5"), None);
    assert_eq!(parse_ns("1.-5"), None);
    // The sign belongs to the whole number, also below one second.
    assert_eq!(parse_ns("-0.5"), Some(-500_000_000));
    assert_eq!(parse_ns("-1.5"), Some(-1_500_000_000));
    assert_eq!(parse_ns("--1"), None);
    assert_eq!(parse_ns("+1"), None);
    for ns in [
        0,
        1,
        -1,
        1_795_651_181_390_047_000,
        -500_000_000,
        i64::MIN,
        i64::MAX,
    ] {
        let text = format_ns(ns);
        // i64::MIN is written (its magnitude is one more than i64::MAX) but reads as no time.
        if ns != i64::MIN {
            assert_eq!(parse_ns(&text), Some(ns), "{text}");
        }
    }
    assert_eq!(format_ns(-500_000_000), "-0.500000000");
}
