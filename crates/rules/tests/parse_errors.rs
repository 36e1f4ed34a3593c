//! Syntax errors are reported with the line of the rule and a message naming the problem;
//! valid rules around them still load; unsupported rules are skipped with their keyword.

use custos_rules::parse::parse_file;
use custos_rules::{LoadReport, Vars};

fn load(text: &str) -> LoadReport {
    let mut report = LoadReport::default();
    parse_file(text, "test.rules", &Vars::default(), &mut report);
    report
}

/// One rule per line; `(line, what the message must contain)` for each error.
const FILE: &str = r#"# custos rule-file error test
alert tcp any any -> any 80 (msg:"valid 1"; content:"GET"; depth:3; sid:100;)
alert tcp any any -> any any (msg:"missing sid"; content:"x"; rev:1;)
alert tcp any any -> any any (msg:"unterminated option"; content:"x"; sid:101)

alert tcp any any -> any any (msg:"bad hex"; content:"|4G|"; sid:102;)
alarm tcp any any -> any any (msg:"unknown action"; sid:103;)
alert tcp any any -> any 2000:1000 (msg:"bad port range"; sid:104;)
alert tcp any any -> any any (msg:"modifier without content"; nocase; content:"x"; sid:105;)
alert tcp $NO_SUCH_NET any -> any any (msg:"undefined variable"; sid:106;)
alert tcp any any -> any any (msg:"unknown flow option"; flow:established,to_sever; sid:107;)
alert udp any any -> any 53 (msg:"valid 2"; content:"|01 00|"; offset:2; depth:2; sid:108;)
alert tcp any any -> any any (msg:"unterminated string; content:"x"; sid:109;)
alert tcp any any -> any any (msg:"odd hex"; content:"|414|"; sid:110;)
alert tcp any any -> any any (msg:"absolute and relative"; content:"a"; content:"b"; depth:4; distance:1; sid:111;)
alert tcp any any => any (msg:"short header"; sid:112;)
alert tcp any any -> any any (msg:"depth too short"; content:"abcdef"; depth:3; sid:113;)
alert tcp any any -> any any (msg:"bad threshold"; threshold:type limit, track by_src, count 1; sid:114;)
alert tcp any any -> any any (msg:"bad flowbits"; flowbits:frob,x; sid:115;)
alert tcp any any -> any any (msg:"bad byte_test"; byte_test:2,~,1,0; sid:116;)
alert tcp 10.0.0.0/33 any -> any any (msg:"bad prefix"; sid:117;)
alert icmp any any -> any any (msg:"http on icmp"; http.uri; content:"x"; sid:118;)
alert tcp any any -> any any (msg:"bad pcre flag"; pcre:"/x/q"; sid:119;)
alert tcp any any -> any any (msg:"text after"; sid:120;) junk
alert ip any any -> any any (msg:"frame"; frame:enip.hdr; content:"|63 00|"; sid:200;)
alert ip any any -> any any (msg:"enip command"; enip_command:99; sid:201;)
alert dnp3 any any -> any any (msg:"dnp3"; dnp3_func:1; sid:202;)
alert tcp any any -> any any (msg:"valid 3"; content:"abc"; content:"d"; distance:0; within:4; sid:121;)
"#;

const ERRORS: &[(usize, &[&str])] = &[
    (3, &["no sid"]),
    (4, &["sid:101", "not terminated"]),
    (6, &["content", "`G`", "hex block"]),
    (7, &["unknown action", "alarm"]),
    (8, &["2000:1000", "backwards"]),
    (9, &["nocase", "without a preceding content"]),
    (10, &["undefined", "$NO_SUCH_NET"]),
    (11, &["unknown flow option", "to_sever"]),
    (13, &["unterminated"]),
    (14, &["odd number of hex digits"]),
    (15, &["distance", "absolute", "relative"]),
    (16, &["header needs 7 fields"]),
    (17, &["depth 3", "shorter than the content"]),
    (18, &["threshold", "missing seconds"]),
    (19, &["flowbits", "frob"]),
    (20, &["byte_test", "unknown operator", "~"]),
    (21, &["invalid prefix length", "10.0.0.0/33"]),
    (22, &["http", "icmp"]),
    (23, &["pcre", "unknown pcre flag", "q"]),
    (24, &["text after the option list", "junk"]),
];

#[test]
fn every_error_has_its_line_and_names_the_problem() {
    let report = load(FILE);
    let got: Vec<(usize, &str)> = report
        .errors
        .iter()
        .map(|e| (e.location.line, e.message.as_str()))
        .collect();
    assert_eq!(
        got.len(),
        ERRORS.len(),
        "errors reported: {:#?}",
        report.errors
    );
    for ((line, message), (want_line, needles)) in got.iter().zip(ERRORS) {
        assert_eq!(line, want_line, "error `{message}`");
        for n in *needles {
            assert!(
                message.contains(n),
                "line {line}: message `{message}` does not name `{n}`"
            );
        }
    }
    for e in &report.errors {
        assert_eq!(&*e.location.file, "test.rules");
        // The Display form is `file:line: message`.
        assert!(e
            .to_string()
            .starts_with(&format!("test.rules:{}: ", e.location.line)));
    }
}

#[test]
fn valid_rules_around_errors_still_load() {
    let report = load(FILE);
    let loaded: Vec<(u64, usize)> = report
        .rules
        .iter()
        .map(|r| (r.sid, r.location.line))
        .collect();
    assert_eq!(loaded, vec![(100, 2), (108, 12), (121, 28)]);
    assert!(report.duplicates.is_empty());
}

#[test]
fn unsupported_rules_are_skipped_with_the_keyword() {
    let report = load(FILE);
    let skipped: Vec<(usize, Option<u64>, &str)> = report
        .skipped
        .iter()
        .map(|s| (s.location.line, s.sid, s.keyword.as_str()))
        .collect();
    assert_eq!(
        skipped,
        vec![
            (25, Some(200), "frame"),
            (26, Some(201), "enip_command"),
            (27, Some(202), "dnp3"),
        ]
    );
    let by_keyword = report.skipped_by_keyword();
    assert_eq!(by_keyword.len(), 3);
    for k in ["frame", "enip_command", "dnp3"] {
        assert_eq!(by_keyword.get(k), Some(&1), "{by_keyword:?}");
    }
    for s in &report.skipped {
        assert!(s.reason.contains(&s.keyword), "{s}");
        assert!(s.to_string().contains(&format!("`{}`", s.keyword)), "{s}");
    }
}

#[test]
fn an_unsupported_rule_with_a_syntax_error_is_an_error() {
    // The rest of an unsupported rule is still checked: a syntax error wins.
    let report = load(
        "alert dnp3 any any -> any any (msg:\"x\"; sid:1)\n\
         alert ip any any -> any any (frame:enip.hdr; content:\"|zz|\"; sid:2;)\n",
    );
    let lines: Vec<usize> = report.errors.iter().map(|e| e.location.line).collect();
    assert_eq!(lines, vec![1, 2]);
    assert!(report.skipped.is_empty());
    assert!(report.rules.is_empty());
}

#[test]
fn continued_rules_report_their_first_line() {
    let text = "# comment\n\
                alert tcp any any -> any 80 (msg:\"multi\"; \\\n\
                \x20   content:\"GET\"; depth:3; \\\n\
                \x20   sid:1;)\n\
                \n\
                alert tcp any any -> any any (msg:\"broken\"; \\\n\
                \x20   content:\"|4|\"; \\\n\
                \x20   sid:2;)\n\
                alert tcp any any -> any any (msg:\"after\"; \\\r\n\
                \x20   sid:3;)\r\n\
                alert ip any any -> any any (msg:\"skipped\"; \\\n\
                \x20   enip_command:99; sid:4;)\n\
                alert tcp any any -> any any (msg:\"no sid\"; \\\n\
                \x20   content:\"x\";)\n\
                alert tcp any any -> any any (msg:\"last\"; sid:5;)\n";
    let report = load(text);
    let rules: Vec<(u64, usize)> = report
        .rules
        .iter()
        .map(|r| (r.sid, r.location.line))
        .collect();
    assert_eq!(rules, vec![(1, 2), (3, 9), (5, 15)]);
    let multi = &report.rules[0];
    assert_eq!(multi.msg, "multi");
    assert_eq!(multi.conditions.len(), 1);
    let errors: Vec<usize> = report.errors.iter().map(|e| e.location.line).collect();
    assert_eq!(errors, vec![6, 13], "{:#?}", report.errors);
    assert!(report.errors[0]
        .message
        .contains("odd number of hex digits"));
    assert!(report.errors[1].message.contains("no sid"));
    let skipped: Vec<(usize, &str)> = report
        .skipped
        .iter()
        .map(|s| (s.location.line, s.keyword.as_str()))
        .collect();
    assert_eq!(skipped, vec![(11, "enip_command")]);
}

#[test]
fn a_continuation_at_the_end_of_the_file_is_reported_at_its_first_line() {
    let report = load("\n\nalert tcp any any -> any any (msg:\"x\"; \\\n  content:\"a\"; \\\n");
    assert!(report.rules.is_empty());
    assert_eq!(report.errors.len(), 1);
    assert_eq!(report.errors[0].location.line, 3);
    assert!(report.errors[0].message.contains("not closed"));
}

#[test]
fn duplicate_sids_keep_the_highest_rev_across_files() {
    let mut report = LoadReport::default();
    let vars = Vars::default();
    parse_file(
        "alert tcp any any -> any any (msg:\"a1\"; sid:1; rev:1;)\n\
         alert tcp any any -> any any (msg:\"b\"; sid:2; rev:3;)\n\
         alert tcp any any -> any any (msg:\"a2\"; sid:1; rev:2;)\n\
         alert tcp any any -> any any (msg:\"other gid\"; gid:3; sid:1;)\n",
        "one.rules",
        &vars,
        &mut report,
    );
    parse_file(
        "alert tcp any any -> any any (msg:\"b again\"; sid:2; rev:3;)\n\
         alert tcp any any -> any any (msg:\"a0\"; sid:1; rev:0;)\n",
        "two.rules",
        &vars,
        &mut report,
    );
    let kept: Vec<(&str, u32, u64)> = report
        .rules
        .iter()
        .map(|r| (r.msg.as_str(), r.gid, r.sid))
        .collect();
    assert_eq!(kept, vec![("b", 1, 2), ("a2", 1, 1), ("other gid", 3, 1)]);
    let dropped: Vec<String> = report.duplicates.iter().map(|l| l.to_string()).collect();
    assert_eq!(dropped, vec!["one.rules:1", "two.rules:1", "two.rules:2"]);
}

#[test]
fn rules_custos_cannot_honour_are_skipped_not_refused() {
    // Suricata loads both: pcre captures into packet variables, and a transactional rule
    // disambiguated by a sticky buffer's direction option. custos honours neither, so both
    // are skipped with their keyword, never reported as syntax errors.
    let report = load(
        "alert http any any -> any any (pcre:\"/uid=(\\d+)/, pkt:uid\"; sid:1;)\n\
         alert http any any => any any (http.uri; content:\"/d\"; http.connection: to_client; \
         content:\"k\"; sid:2;)\n",
    );
    assert!(report.errors.is_empty(), "{:#?}", report.errors);
    let skipped: Vec<(u64, &str)> = report
        .skipped
        .iter()
        .filter_map(|s| Some((s.sid?, s.keyword.as_str())))
        .collect();
    assert_eq!(skipped, vec![(1, "pcre"), (2, "http.connection")]);
}
