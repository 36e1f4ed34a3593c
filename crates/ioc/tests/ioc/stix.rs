//! STIX 2.1 bundles: supported patterns load (all their comparisons), unsupported ones are
//! counted and reported with the object's index, revoked ones skipped.

use custos_ioc::{IndicatorKind, IocSet};

use crate::{loaded, unsupported};

#[test]
fn loads_supported_indicators_with_id_name_and_source() {
    let (set, report) = loaded("bundle.json");
    let rows: Vec<_> = set
        .iter()
        .map(|i| {
            (
                i.kind,
                i.value.as_str(),
                i.id.as_deref().unwrap_or(""),
                i.name.as_deref().unwrap_or(""),
                i.source.as_str(),
            )
        })
        .collect();
    let phish = "indicator--1b6f0b3c-4b39-4f47-9f5e-ae5e1fa0b0e2";
    assert_eq!(
        rows,
        [
            (
                IndicatorKind::Ip,
                "198.51.100.1",
                "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f",
                "C2 address",
                "bundle.json:objects[1]"
            ),
            (
                IndicatorKind::Domain,
                "phish.example",
                phish,
                "Phishing kit",
                "bundle.json:objects[2]"
            ),
            (
                IndicatorKind::Url,
                "http://phish.example/login?next='home'",
                phish,
                "Phishing kit",
                "bundle.json:objects[2]"
            ),
            (
                IndicatorKind::Ip,
                "2001:db8:feed::/48",
                phish,
                "Phishing kit",
                "bundle.json:objects[2]"
            ),
            (
                IndicatorKind::Ja4,
                "t13d1516h2_8daaf6152771_e5627efa2ab1",
                "indicator--4d1f4f4b-0d0c-4d2a-8a47-0a1f1d2b3c4d",
                "custos share export",
                "bundle.json:objects[3]"
            ),
        ]
    );
    assert_eq!(report.loaded, 5);
    assert_eq!(report.revoked, 1);
}

#[test]
fn counts_and_reports_unsupported_patterns() {
    let (set, report) = loaded("bundle.json");
    assert_eq!(report.unsupported_total, 7);
    assert_eq!(
        unsupported(&report),
        [
            (
                "bundle.json:objects[4]",
                "pattern: AND is not supported (pattern byte 34)"
            ),
            (
                "bundle.json:objects[5]",
                "pattern: FOLLOWEDBY is not supported (pattern byte 38)"
            ),
            (
                "bundle.json:objects[6]",
                "pattern: operator MATCHES is not supported (pattern byte 19)"
            ),
            (
                "bundle.json:objects[7]",
                "pattern: REPEATS is not supported (pattern byte 35)"
            ),
            (
                "bundle.json:objects[8]",
                "pattern: object path file:hashes.'SHA-256' is not supported (pattern byte 1)"
            ),
            (
                "bundle.json:objects[9]",
                "pattern_type \"sigma\" (only stix is read)"
            ),
            (
                "bundle.json:objects[10]",
                "ipv4-addr:value = \"2001:db8::1\": an IPv6 address"
            ),
        ]
    );
    // Never loaded in part: the good half of objects[10], nor anything of the others.
    for name in [
        "half.example",
        "and.example",
        "first.example",
        "second.example",
    ] {
        assert!(set.match_domain(name).is_none(), "{name}");
    }
    for ip in ["198.51.100.2", "198.51.100.3", "198.51.100.4"] {
        assert!(set.match_ip(ip.parse().unwrap()).is_none(), "{ip}");
    }
}

#[test]
fn ignores_validity_window() {
    // objects[1] was valid for one day in 2024; custos matches it whatever the packet time.
    let (set, _) = loaded("bundle.json");
    assert_eq!(
        set.match_ip("198.51.100.1".parse().unwrap())
            .unwrap()
            .name
            .as_deref(),
        Some("C2 address")
    );
}

#[test]
fn reads_indicators_without_pattern_type_and_rejects_missing_patterns() {
    let mut set = IocSet::new();
    let report = set
        .load_str(
            "b.json",
            r#"{"type":"bundle","objects":[
                {"type":"indicator","pattern":"[url:value = 'http://a.example/x']"},
                {"type":"indicator","pattern_type":"STIX","pattern":"[domain-name:value = 'b.example']"},
                {"type":"indicator"},
                {"type":"indicator","pattern":42},
                {"type":"indicator","pattern":"[domain-name:value = 'c.example'","revoked":false},
                "not an object",
                {"type":"indicator","pattern":"[ipv4-addr:value = '198.51.100.5']","revoked":"yes"}
            ]}"#,
        )
        .unwrap();
    assert_eq!(report.loaded, 3);
    assert!(set.match_url("http://a.example/x").is_some());
    assert!(set.match_domain("b.example").is_some());
    assert!(set.match_ip("198.51.100.5".parse().unwrap()).is_some());
    assert_eq!(
        unsupported(&report),
        [
            ("b.json:objects[2]", "no pattern"),
            ("b.json:objects[3]", "no pattern"),
            (
                "b.json:objects[4]",
                "pattern: invalid pattern at byte 32: expected ']'"
            ),
        ]
    );
}
