//! Plain lists and CSV: good files, bad entries (reported with file and line) and bad files
//! (errors naming file and line, nothing loaded).

use custos_ioc::{IndicatorKind, IocError, IocSet, KindCounts};

use crate::{data, loaded, set_of, unsupported};

/// (kind, value, source) of every indicator, in load order.
fn listed(set: &IocSet) -> Vec<(IndicatorKind, &str, &str)> {
    set.iter()
        .map(|i| (i.kind, i.value.as_str(), i.source.as_str()))
        .collect()
}

#[test]
fn reads_plain_list_with_bom_crlf_and_comments() {
    let (set, report) = loaded("plain.txt");
    assert_eq!(
        listed(&set),
        [
            (IndicatorKind::Ip, "198.51.100.0/24", "plain.txt:3"),
            (IndicatorKind::Ip, "203.0.113.7", "plain.txt:4"),
            (IndicatorKind::Ip, "2001:db8:bad::/48", "plain.txt:5"),
            (IndicatorKind::Domain, "evil.example", "plain.txt:6"),
            (
                IndicatorKind::Url,
                "http://evil.example/drop.sh",
                "plain.txt:7"
            ),
            (
                IndicatorKind::Ja3,
                "e7d705a3286e19ea42f587b344ee6865",
                "plain.txt:8"
            ),
            (
                IndicatorKind::Ja4,
                "t13d1516h2_8daaf6152771_e5627efa2ab1",
                "plain.txt:9"
            ),
        ]
    );
    assert_eq!((report.loaded, report.duplicates), (7, 1));
    assert_eq!(report.unsupported_total, 3);
    assert_eq!(
        unsupported(&report),
        [
            (
                "plain.txt:10",
                "\"192.0.2.1,scanner\" has a comma: a CSV file needs a header line naming its indicator column"
            ),
            ("plain.txt:11", "\"300.1.2.3\" is not an IP address"),
            ("plain.txt:12", "\"localhost\" is a single label, not a domain name"),
        ]
    );
    assert!(set.iter().all(|i| i.id.is_none() && i.name.is_none()));
}

#[test]
fn reads_csv_with_type_and_description_columns() {
    let (set, report) = loaded("feed.csv");
    let rows: Vec<_> = set
        .iter()
        .map(|i| {
            (
                i.kind,
                i.value.as_str(),
                i.name.as_deref(),
                i.source.as_str(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                IndicatorKind::Ip,
                "198.51.100.9",
                Some("C2 server"),
                "feed.csv:3"
            ),
            (
                IndicatorKind::Domain,
                "evil.example",
                Some("phishing, stage 1"),
                "feed.csv:4"
            ),
            (
                IndicatorKind::Url,
                "http://evil.example/payload?id=7",
                None,
                "feed.csv:5"
            ),
            (
                IndicatorKind::Ja3,
                "e7d705a3286e19ea42f587b344ee6865",
                Some("Cobalt Strike"),
                "feed.csv:6"
            ),
            (
                IndicatorKind::Ip,
                "2001:db8::1",
                Some("guessed as an address"),
                "feed.csv:7"
            ),
        ]
    );
    assert_eq!(
        unsupported(&report),
        [
            ("feed.csv:8", "\"bad..example\" has an empty label"),
            ("feed.csv:9", "unknown indicator type \"sha256\""),
        ]
    );
}

#[test]
fn csv_type_must_fit_the_value() {
    let mut set = IocSet::new();
    let report = set
        .load_str("t.csv", "value,type\nevil.example,ip\n198.51.100.1,ja4\n")
        .unwrap();
    assert_eq!(report.loaded, 0);
    assert_eq!(
        unsupported(&report),
        [
            ("t.csv:2", "\"evil.example\" is not an IP address"),
            (
                "t.csv:3",
                "\"198.51.100.1\" is not a JA4 fingerprint (like t13d1516h2_8daaf6152771_e5627efa2ab1)"
            ),
        ]
    );
}

#[test]
fn csv_without_type_column_guesses() {
    let set = set_of("g.csv", "ioc\n198.51.100.0/25\nevil.example\n");
    assert_eq!(
        listed(&set),
        [
            (IndicatorKind::Ip, "198.51.100.0/25", "g.csv:2"),
            (IndicatorKind::Domain, "evil.example", "g.csv:3"),
        ]
    );
}

#[test]
fn rejects_csv_row_with_wrong_field_count_naming_its_line() {
    let mut set = IocSet::new();
    let err = set.load(&data("broken.csv")).unwrap_err();
    match &err {
        IocError::Csv {
            path,
            line,
            message,
        } => {
            assert!(
                path.ends_with("tests/data/broken.csv"),
                "{}",
                path.display()
            );
            assert_eq!(*line, 4);
            assert_eq!(message, "3 fields where the header has 2");
        }
        other => panic!("{other:?}"),
    }
    assert!(err
        .to_string()
        .ends_with("broken.csv:4: 3 fields where the header has 2"));
    // Nothing of a file that fails is loaded, not even its good rows.
    assert!(set.is_empty());
    assert_eq!(set.stats().files, 0);
}

#[test]
fn rejects_json_that_does_not_parse_naming_line_and_column() {
    let mut set = IocSet::new();
    let err = set.load(&data("broken.json")).unwrap_err();
    match &err {
        IocError::Json {
            line,
            column,
            message,
            ..
        } => {
            assert_eq!((*line, *column), (5, 3));
            assert_eq!(message, "trailing comma");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        err.to_string().ends_with("broken.json:5:3: trailing comma"),
        "{err}"
    );
    assert!(set.is_empty());
}

#[test]
fn a_json_name_is_read_as_json() {
    let mut set = IocSet::new();
    let err = set.load_str("feed.json", "evil.example\n").unwrap_err();
    assert!(
        matches!(
            err,
            IocError::Json {
                line: 1,
                column: 1,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn rejects_json_that_is_not_a_bundle() {
    let mut set = IocSet::new();
    let cases = [
        ("{\"type\": \"indicator\"}", "\"type\" is \"indicator\""),
        ("{\"objects\": []}", "no \"type\""),
        (
            "{\"type\": \"bundle\", \"objects\": {}}",
            "\"objects\" is not an array",
        ),
        ("[1]", "the top level is not an object"),
    ];
    for (text, want) in cases {
        match set.load_str("x.json", text) {
            Err(IocError::NotBundle { path, message }) => {
                assert_eq!(path.to_str(), Some("x.json"));
                assert_eq!(message, want);
            }
            other => panic!("{text}: {other:?}"),
        }
    }
    // A bundle without objects is empty, not an error.
    let report = set.load_str("x.json", "{\"type\": \"bundle\"}").unwrap();
    assert_eq!(report.loaded, 0);
}

#[test]
fn missing_file_is_an_io_error_naming_it() {
    let mut set = IocSet::new();
    let err = set.load(&data("no-such-file.txt")).unwrap_err();
    assert!(matches!(&err, IocError::Io { path, .. } if path.ends_with("no-such-file.txt")));
    assert!(err.to_string().starts_with("cannot read "), "{err}");
    assert!(std::error::Error::source(&err).is_some());
}

#[test]
fn rejects_text_that_is_not_utf8_naming_the_line() {
    let path = std::env::temp_dir().join(format!("custos-ioc-{}-latin1.txt", std::process::id()));
    std::fs::write(&path, b"evil.example\r\nbad.example\r\ncaf\xe9.example\r\n").unwrap();
    let mut set = IocSet::new();
    let err = set.load(&path).unwrap_err();
    let _ = std::fs::remove_file(&path);
    assert!(matches!(err, IocError::Encoding { line: 3, .. }), "{err:?}");
    assert!(set.is_empty());
}

#[test]
fn keeps_the_first_of_duplicates_across_files() {
    let mut set = IocSet::new();
    set.load_str("a.txt", "evil.example\n198.51.100.0/24\n")
        .unwrap();
    let report = set
        .load_str("b.txt", "EVIL.example.\n198.51.100.77/24\nnew.example\n")
        .unwrap();
    assert_eq!((report.loaded, report.duplicates), (1, 2));
    assert_eq!(set.len(), 3);
    assert_eq!(set.match_domain("evil.example").unwrap().source, "a.txt:1");
    assert_eq!(
        set.match_ip("198.51.100.1".parse().unwrap())
            .unwrap()
            .source,
        "a.txt:2"
    );
}

#[test]
fn stats_count_every_file() {
    let mut set = IocSet::new();
    set.load(&data("plain.txt")).unwrap();
    set.load(&data("feed.csv")).unwrap();
    set.load(&data("bundle.json")).unwrap();
    let stats = set.stats();
    assert_eq!(stats.files, 3);
    assert_eq!(
        stats.loaded,
        KindCounts {
            ip: 7,
            domain: 2,
            url: 3,
            ja3: 1,
            ja4: 1
        }
    );
    assert_eq!(stats.loaded.total(), set.len());
    // plain.txt's repeated evil.example; feed.csv's evil.example and JA3; bundle.json's JA4.
    assert_eq!(stats.duplicates, 4);
    assert_eq!(stats.revoked, 1);
    assert_eq!(stats.unsupported, 3 + 2 + 7);
    let json = serde_json::to_value(&stats).unwrap();
    assert_eq!(
        json,
        serde_json::json!({
            "files": 3,
            "loaded": {"ip": 7, "domain": 2, "url": 3, "ja3": 1, "ja4": 1},
            "duplicates": 4,
            "revoked": 1,
            "unsupported": 12
        })
    );
}

#[test]
fn caps_the_listed_unsupported_entries() {
    let text = "not_a_name\n".repeat(custos_ioc::MAX_REPORTED + 5);
    let mut set = IocSet::new();
    let report = set.load_str("junk.txt", &text).unwrap();
    assert_eq!(report.unsupported.len(), custos_ioc::MAX_REPORTED);
    assert_eq!(report.unsupported_total, custos_ioc::MAX_REPORTED + 5);
    assert_eq!(set.stats().unsupported, custos_ioc::MAX_REPORTED + 5);
}

#[test]
fn csv_skips_lines_of_whitespace_and_counts_lines_past_them() {
    let mut set = IocSet::new();
    let report = set
        .load_str(
            "w.csv",
            "indicator,name\r\n   \r\n\r\n# note\r\nevil.example,x\r\n , \r\nbad,\r\n",
        )
        .unwrap();
    assert_eq!(
        set.iter().next().map(|i| i.source.as_str()),
        Some("w.csv:5")
    );
    assert_eq!(
        unsupported(&report),
        [("w.csv:7", "\"bad\" is a single label, not a domain name")]
    );
}

#[test]
fn csv_line_numbers_stay_right_over_many_rows() {
    // Every tenth line a comment, every seventh a blank line: the sources must still be the
    // real lines, and the count stays linear (one pass over the text).
    let mut text = String::from("indicator,type\n");
    let mut want = Vec::new();
    let mut line = 1;
    for i in 0..20_000u32 {
        if i % 10 == 0 {
            text.push_str("# note\n");
            line += 1;
        }
        if i % 7 == 0 {
            text.push('\n');
            line += 1;
        }
        text.push_str(&format!(
            "10.{}.{}.{},ip\n",
            i >> 16,
            (i >> 8) & 255,
            i & 255
        ));
        line += 1;
        want.push(format!("big.csv:{line}"));
    }
    let set = set_of("big.csv", &text);
    let got: Vec<String> = set.iter().map(|i| i.source.clone()).collect();
    assert_eq!(got.len(), 20_000);
    assert_eq!(got, want);
}
