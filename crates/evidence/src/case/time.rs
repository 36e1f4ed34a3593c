//! RFC 3339 timestamps: parsing to nanoseconds since the Unix epoch and formatting in UTC.
//!
//! Accepts `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (RFC 3339 §5.6) and, for the EVE
//! `timestamp` field that custos and Suricata write, the offset without a colon (`+0000`).
//! A fraction longer than 9 digits is truncated to nanoseconds. Leap seconds (`:60`) are
//! rejected.

/// Nanoseconds since 1970-01-01T00:00:00Z of an RFC 3339 timestamp, or `None` when `s` is
/// not one.
pub fn parse_rfc3339(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = b.get(from..from + len)?;
        if !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        std::str::from_utf8(part).ok()?.parse().ok()
    };
    let sep = |at: usize, c: &[u8]| b.get(at).is_some_and(|x| c.contains(x));
    if !(sep(4, b"-") && sep(7, b"-") && sep(10, b"Tt") && sep(13, b":") && sep(16, b":")) {
        return None;
    }
    let (y, mo, d) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (h, mi, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59
    {
        return None;
    }
    let mut i = 19;
    let mut frac_ns: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            if i - start < 9 {
                frac_ns = frac_ns * 10 + i64::from(*b.get(i)? - b'0');
            }
            i += 1;
        }
        let digits = i - start;
        if digits == 0 {
            return None;
        }
        for _ in digits..9 {
            frac_ns *= 10;
        }
    }
    let offset_s: i64 = match b.get(i..)? {
        b"Z" | b"z" => 0,
        rest if rest.len() == 6 || rest.len() == 5 => {
            let sign = match rest.first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let (oh, om) = if rest.len() == 6 {
                if rest.get(3) != Some(&b':') {
                    return None;
                }
                (num(i + 1, 2)?, num(i + 4, 2)?)
            } else {
                (num(i + 1, 2)?, num(i + 3, 2)?)
            };
            if oh > 23 || om > 59 {
                return None;
            }
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + sec - offset_s;
    Some(i128::from(secs) * 1_000_000_000 + i128::from(frac_ns))
}

/// The wall clock now, as [`format_rfc3339`] writes it: for chain-of-custody and audit
/// records, the one place where the wall clock belongs (the epoch if the clock is before it).
pub fn now_rfc3339() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    format_rfc3339(now.map(|d| d.as_nanos() as i128).unwrap_or(0))
}

/// [`now_rfc3339`] in whole seconds.
pub fn now_rfc3339_seconds() -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    format_rfc3339(i128::from(now.map(|d| d.as_secs()).unwrap_or(0)) * 1_000_000_000)
}

/// `YYYY-MM-DDTHH:MM:SS[.ffffff|.fffffffff]Z`: microseconds when the value has no finer part,
/// nanoseconds otherwise, no fraction for whole seconds. Also a valid `xsd:dateTime`.
pub fn format_rfc3339(ns: i128) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400) as i64;
    let sod = secs.rem_euclid(86_400) as i64;
    let (y, m, d) = civil_from_days(days);
    let base = format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    );
    if frac == 0 {
        format!("{base}Z")
    } else if frac % 1000 == 0 {
        format!("{base}.{:06}Z", frac / 1000)
    } else {
        format!("{base}.{frac:09}Z")
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn now_is_after_2020_and_whole_seconds_have_no_fraction() {
        let now = parse_rfc3339(&now_rfc3339()).unwrap();
        assert!(now > parse_rfc3339("2020-01-01T00:00:00Z").unwrap());
        let secs = now_rfc3339_seconds();
        assert_eq!(secs.len(), "2020-01-01T00:00:00Z".len(), "{secs}");
    }

    #[test]
    fn round_trips_and_offsets() {
        let t = parse_rfc3339("2009-11-18T16:59:51.405770+0000").unwrap();
        assert_eq!(t, 1_258_563_591_405_770_000);
        assert_eq!(format_rfc3339(t), "2009-11-18T16:59:51.405770Z");
        assert_eq!(parse_rfc3339("2009-11-18T17:59:51.40577+01:00"), Some(t));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999999999Z");
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00Z").map(format_rfc3339),
            Some("2024-02-29T00:00:00Z".into())
        );
        for bad in [
            "",
            "2023-02-29T00:00:00Z",
            "2024-01-01 00:00:00Z",
            "2024-01-01T00:00:00",
            "2024-01-01T00:00:00.Z",
            "2024-01-01T24:00:00Z",
            "2024-01-01T00:00:00+0000x",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }
}
