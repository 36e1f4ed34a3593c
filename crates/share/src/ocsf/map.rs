//! Value mappings of the OCSF export: severities, analytic types, ATT&CK objects, IANA
//! protocols, packet times in milliseconds, and the checks and bounds on text from the outputs.

use std::path::Path;

use serde_json::{json, Value};

use crate::attack;
use crate::ids::stix_time;
use crate::ShareError;

/// The longest free text copied from the outputs (titles, signatures, names), in bytes.
pub(super) const MAX_TEXT: usize = 1024;

/// OCSF `integer_t` is 32-bit signed: the bound of `count` and `confidence_score`.
pub(super) const MAX_INTEGER: u64 = i32::MAX as u64;

/// OCSF `severity_id` and caption for an EVE severity: 1 High, 2 Medium, 3 Low, 4 and more
/// Informational (Suricata's scale runs from 1, the most severe), otherwise Unknown.
pub(super) fn eve_severity(severity: Option<i64>) -> (u32, String) {
    let (id, caption) = match severity {
        Some(1) => (4, "High"),
        Some(2) => (3, "Medium"),
        Some(3) => (2, "Low"),
        Some(n) if n >= 4 => (1, "Informational"),
        _ => (0, "Unknown"),
    };
    (id, caption.to_string())
}

/// OCSF `severity_id` and caption for a finding's severity (`low`… `critical`); a value OCSF
/// does not name is Other (99) with the finding's own word.
pub(super) fn finding_severity(severity: &str) -> (u32, String) {
    let (id, caption) = match severity.to_ascii_lowercase().as_str() {
        "" => (0, "Unknown"),
        "info" | "informational" => (1, "Informational"),
        "low" => (2, "Low"),
        "medium" => (3, "Medium"),
        "high" => (4, "High"),
        "critical" => (5, "Critical"),
        _ => return (99, bounded(severity).to_string()),
    };
    (id, caption.to_string())
}

/// The analytic type of a detector: both of custos's detectors are learned models (Kitsune's
/// autoencoders, the flow model's trees).
pub(super) fn analytic_type(detector: &str) -> (u32, &'static str) {
    match detector {
        "kitsune" | "flow" => (4, "Learning (ML/DL)"),
        _ => (0, "Unknown"),
    }
}

/// `confidence_score` (0–100) where the score is a probability: the flow model's. Kitsune's
/// reconstruction error has no such scale, so its alerts have none.
pub(super) fn confidence_score(detector: &str, score: Option<f64>) -> Option<u64> {
    let score = score.filter(|s| (0.0..=1.0).contains(s) && detector == "flow")?;
    // In 0..=100 by the filter above, so the conversion is exact.
    Some((score * 100.0).round() as u64)
}

/// The `attack` object of an ATT&CK technique id (`T1046`, `T1110.001`, ICS `T0855`), `None`
/// for anything else.
pub(super) fn attack_object(id: &str) -> Option<Value> {
    let (parent, sub) = match id.split_once('.') {
        Some((parent, sub)) => (parent, Some(sub)),
        None => (id, None),
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let number = parent.strip_prefix('T')?;
    if !digits(number, 4) || !sub.is_none_or(|s| digits(s, 3)) {
        return None;
    }
    let mut technique = json!({
        "uid": parent,
        "src_url": format!("https://attack.mitre.org/techniques/{parent}/"),
    });
    if attack::name(parent) != parent {
        technique["name"] = json!(attack::name(parent));
    }
    let mut out = json!({ "technique": technique });
    if let Some(sub) = sub {
        let mut sub_technique = json!({
            "uid": id,
            "src_url": format!("https://attack.mitre.org/techniques/{parent}/{sub}/"),
        });
        let name = attack::name(id);
        if name != id {
            let short = name.split_once(": ").map_or(name, |(_, s)| s);
            sub_technique["name"] = json!(short);
        }
        out["sub_technique"] = sub_technique;
    }
    Some(out)
}

/// An EVE `proto` as an IANA protocol name (lower case, where IANA names it) and number.
pub(super) fn protocol(proto: &str) -> Option<(Option<&'static str>, u8)> {
    Some(match proto.to_ascii_lowercase().as_str() {
        "icmp" => (Some("icmp"), 1),
        "tcp" => (Some("tcp"), 6),
        "udp" => (Some("udp"), 17),
        "gre" => (Some("gre"), 47),
        "ipv6-icmp" => (Some("ipv6-icmp"), 58),
        "sctp" => (Some("sctp"), 132),
        other => (None, other.parse().ok()?),
    })
}

/// Whether `text` looks like a Community ID (`1:` and base64 of a SHA-1, 28 characters).
pub(super) fn is_community_id(text: &str) -> bool {
    text.len() <= 64
        && text.split_once(':').is_some_and(|(version, hash)| {
            !version.is_empty()
                && version.bytes().all(|b| b.is_ascii_digit())
                && !hash.is_empty()
                && hash
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
        })
}

/// Whether `text` is a SHA-256 in hex.
pub(super) fn is_sha256(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `text` cut to at most [`MAX_TEXT`] bytes, on a character boundary.
pub(super) fn bounded(text: &str) -> &str {
    if text.len() <= MAX_TEXT {
        return text;
    }
    let mut end = MAX_TEXT;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.get(..end).unwrap_or_default()
}

/// `text` (an output timestamp) in milliseconds since 1970, or a parse error naming the record.
pub(super) fn millis(dir: &Path, name: &str, line: usize, text: &str) -> Result<i64, ShareError> {
    stix_time(text)
        .as_deref()
        .and_then(stix_millis)
        .ok_or_else(|| ShareError::Parse {
            path: dir.join(name),
            line,
            message: format!("timestamp {text:?} is not a UTC RFC 3339 time"),
        })
}

/// A STIX time (`2026-11-26T00:01:12.354Z`, as [`stix_time`] writes it) in milliseconds since
/// 1970 (OCSF `timestamp_t`), `None` for a date that does not exist.
pub(super) fn stix_millis(stix: &str) -> Option<i64> {
    let field = |from: usize, to: usize| stix.get(from..to)?.parse::<i64>().ok();
    let (year, month, day) = (field(0, 4)?, field(5, 7)?, field(8, 10)?);
    let (hour, minute, second, milli) = (
        field(11, 13)?,
        field(14, 16)?,
        field(17, 19)?,
        field(20, 23)?,
    );
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        1..=12 => 31,
        _ => return None,
    };
    // RFC 3339 §5.6 allows second 60 (a leap second).
    if !(1..=month_days).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some((((days * 24 + hour) * 60 + minute) * 60 + second) * 1000 + milli)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant, "chrono-Compatible
/// Low-Level Date Algorithms", `days_from_civil`).
pub(super) fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn converts_stix_times_to_epoch_milliseconds() {
        // date -u -d 2026-11-26T00:01:12.354Z +%s%3N
        assert_eq!(
            stix_millis("2026-11-26T00:01:12.354Z"),
            Some(1_795_651_272_354)
        );
        assert_eq!(stix_millis("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(
            stix_millis("2024-02-29T23:59:59.999Z"),
            Some(1_709_251_199_999)
        );
        assert_eq!(stix_millis("1969-12-31T23:59:59.999Z"), Some(-1));
        assert_eq!(stix_millis("2025-02-29T00:00:00.000Z"), None);
        assert_eq!(stix_millis("2025-13-01T00:00:00.000Z"), None);
        assert_eq!(stix_millis("2025-01-01T24:00:00.000Z"), None);
    }

    #[test]
    fn maps_eve_severity_high_to_low() {
        assert_eq!(eve_severity(Some(1)).0, 4);
        assert_eq!(eve_severity(Some(2)).0, 3);
        assert_eq!(eve_severity(Some(3)), (2, "Low".to_string()));
        assert_eq!(eve_severity(Some(4)).0, 1);
        assert_eq!(eve_severity(None).0, 0);
        assert_eq!(eve_severity(Some(0)).0, 0);
    }

    #[test]
    fn maps_finding_severity_and_keeps_unknown_words_as_other() {
        assert_eq!(finding_severity("critical"), (5, "Critical".to_string()));
        assert_eq!(finding_severity("medium").0, 3);
        assert_eq!(finding_severity("severe"), (99, "severe".to_string()));
    }

    #[test]
    fn attack_objects_split_sub_techniques_and_reject_other_ids() {
        let a = attack_object("T1110.001").unwrap();
        assert_eq!(a["technique"]["uid"], "T1110");
        assert_eq!(a["technique"]["name"], "Brute Force");
        assert_eq!(a["sub_technique"]["uid"], "T1110.001");
        assert_eq!(a["sub_technique"]["name"], "Password Guessing");
        assert_eq!(
            a["sub_technique"]["src_url"],
            "https://attack.mitre.org/techniques/T1110/001/"
        );
        let ics = attack_object("T0855").unwrap();
        assert_eq!(ics["technique"]["name"], "Unauthorized Command Message");
        assert!(ics.get("sub_technique").is_none());
        assert!(attack_object("T9999").unwrap()["technique"]
            .get("name")
            .is_none());
        for bad in [
            "",
            "T",
            "T10",
            "T1110.1",
            "X1110",
            "T1110.001.002",
            "T１１１",
        ] {
            assert_eq!(attack_object(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn protocols_take_iana_names_and_numbers() {
        assert_eq!(protocol("TCP"), Some((Some("tcp"), 6)));
        assert_eq!(protocol("IPv6-ICMP"), Some((Some("ipv6-icmp"), 58)));
        assert_eq!(protocol("89"), Some((None, 89)));
        assert_eq!(protocol("300"), None);
        assert_eq!(protocol("QUIC"), None);
    }

    #[test]
    fn community_ids_and_digests_are_checked_before_export() {
        assert!(is_community_id("1:CyfP5maecalrMLsVu4VNeTY7PSE="));
        assert!(!is_community_id("1:\"><script>"));
        assert!(!is_community_id(&format!("1:{}", "A".repeat(100))));
        assert!(!is_community_id(":abc"));
        assert!(is_sha256(&"a".repeat(64)));
        assert!(!is_sha256(&"g".repeat(64)));
    }

    #[test]
    fn bounded_cuts_on_a_character_boundary() {
        let long = "é".repeat(MAX_TEXT);
        let cut = bounded(&long);
        assert!(cut.len() <= MAX_TEXT && cut.len() >= MAX_TEXT - 1);
        assert_eq!(bounded("short"), "short");
    }

    #[test]
    fn confidence_only_for_probabilities() {
        assert_eq!(confidence_score("flow", Some(0.876)), Some(88));
        assert_eq!(confidence_score("kitsune", Some(0.9)), None);
        assert_eq!(confidence_score("flow", Some(140.0)), None);
        assert_eq!(confidence_score("flow", Some(f64::NAN)), None);
    }
}
