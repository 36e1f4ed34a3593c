//! Packet timestamps rendered as text, without a time-zone database (all output is UTC).

/// Splits ns since the epoch into (seconds, nanoseconds), flooring for negative times.
fn split(ts_ns: i64) -> (i64, u32) {
    (
        ts_ns.div_euclid(1_000_000_000),
        ts_ns.rem_euclid(1_000_000_000) as u32,
    )
}

/// Civil date from days since 1970-01-01 (H. Hinnant's `civil_from_days`).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn parts(ts_ns: i64) -> (i64, u32, u32, u32, u32, u32, u32) {
    let (secs, ns) = split(ts_ns);
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400) as u32;
    (y, m, d, sod / 3600, sod / 60 % 60, sod % 60, ns)
}

/// Zeek's `time` column: seconds since the epoch with six decimals (`1258567191.405770`).
pub fn zeek_time(ts_ns: i64) -> String {
    let mut s = String::with_capacity(17);
    push_zeek_time(&mut s, ts_ns);
    s
}

/// Appends [`zeek_time`] (or [`zeek_interval`], the same form) of `ts_ns` to `out`.
pub fn push_zeek_time(out: &mut String, ts_ns: i64) {
    let (secs, ns) = split(ts_ns);
    out.push_str(itoa::Buffer::new().format(secs));
    out.push('.');
    push_digits(out, u64::from(ns / 1000), 6);
}

/// Zeek's `interval` column: seconds with six decimals.
pub fn zeek_interval(dur_ns: i64) -> String {
    zeek_time(dur_ns)
}

/// Zeek's `#open`/`#close` header time: `2009-11-18-16-59-51`.
pub fn zeek_header_time(ts_ns: i64) -> String {
    let (y, m, d, h, mi, s, _) = parts(ts_ns);
    format!("{y:04}-{m:02}-{d:02}-{h:02}-{mi:02}-{s:02}")
}

/// Writes the low `out.len()` decimal digits of `n` into `out`.
#[inline]
pub(crate) fn fill_digits(out: &mut [u8], mut n: u64) {
    for digit in out.iter_mut().rev() {
        *digit = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// Appends `n` to `out` as exactly `width` decimal digits (the low ones).
pub(crate) fn push_digits(out: &mut String, n: u64, width: usize) {
    let mut buf = [b'0'; 20];
    let digits = &mut buf[..width.min(20)];
    fill_digits(digits, n);
    for &b in digits.iter() {
        out.push(char::from(b));
    }
}

/// Appends the EVE timestamp of `ts_ns` to `out` without allocating (the hot-path form of
/// [`eve_time`]; years outside 0–9999 are written modulo 10 000).
pub fn push_eve_time(out: &mut String, ts_ns: i64) {
    let (y, m, d, h, mi, s, ns) = parts(ts_ns);
    push_digits(out, y.rem_euclid(10_000) as u64, 4);
    out.push('-');
    push_digits(out, u64::from(m), 2);
    out.push('-');
    push_digits(out, u64::from(d), 2);
    out.push('T');
    push_digits(out, u64::from(h), 2);
    out.push(':');
    push_digits(out, u64::from(mi), 2);
    out.push(':');
    push_digits(out, u64::from(s), 2);
    out.push('.');
    push_digits(out, u64::from(ns / 1000), 6);
    out.push_str("+0000");
}

/// Writes EVE timestamps into byte buffers, formatting the date and time of day once per
/// second of packet time (consecutive records mostly share it).
#[derive(Debug, Default, Clone)]
pub struct EveTimeWriter {
    second: Option<i64>,
    /// `YYYY-MM-DDTHH:MM:SS.` of `second`.
    head: String,
}

impl EveTimeWriter {
    /// Appends the EVE timestamp of `ts_ns` to `out` (same text as [`eve_time`]).
    pub fn push(&mut self, out: &mut Vec<u8>, ts_ns: i64) {
        let (secs, ns) = split(ts_ns);
        if self.second != Some(secs) {
            self.head.clear();
            push_eve_time(&mut self.head, ts_ns - i64::from(ns));
            self.head.truncate(20);
            self.second = Some(secs);
        }
        out.extend_from_slice(self.head.as_bytes());
        let mut micros = [b'0'; 6];
        fill_digits(&mut micros, u64::from(ns / 1000));
        out.extend_from_slice(&micros);
        out.extend_from_slice(b"+0000");
    }
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses decimal seconds as labels files and `scores.csv` write times
/// (`1795651181.390047000`; a leading `-` belongs to the whole number) into ns, keeping the
/// first nine decimals; also returns how many decimals the text had, for readers that refuse
/// more than nine. `None` for any other text or a time outside an i64 of nanoseconds.
pub fn parse_decimal_seconds(text: &str) -> Option<(i64, usize)> {
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) {
        return None;
    }
    let secs: i64 = int.parse().ok()?;
    let mut ns = 0i64;
    for i in 0..9 {
        let d = frac.as_bytes().get(i).map_or(0, |b| i64::from(b - b'0'));
        ns = ns * 10 + d;
    }
    let v = secs.checked_mul(1_000_000_000)?.checked_add(ns)?;
    Some((if negative { -v } else { v }, frac.len()))
}

/// Parses an EVE timestamp as [`eve_time`] writes it (`2009-11-18T16:59:51.405770+0000`,
/// UTC only) back into ns since the epoch; `None` for any other text.
pub fn parse_eve_time(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 31 || &b[26..] != b"+0000" {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let t = text.get(r)?;
        if t.bytes().all(|c| c.is_ascii_digit()) {
            t.parse().ok()
        } else {
            None
        }
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s, us) = (num(11..13)?, num(14..16)?, num(17..19)?, num(20..26)?);
    let seps = [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
    ];
    if seps.iter().any(|&(i, c)| b[i] != c) || !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(i64::from(y), m, d);
    let secs = days * 86_400 + i64::from(h * 3600 + mi * 60 + s);
    // Nanoseconds in an i64 reach only the years 1677 to 2262: a later (or earlier) time,
    // which `eve_time` never writes, is not a time this reads.
    (secs * 1_000_000 + i64::from(us)).checked_mul(1000)
}

/// Suricata's EVE timestamp: `2009-11-18T16:59:51.405770+0000`.
pub fn eve_time(ts_ns: i64) -> String {
    // Without `format!` (a few thousand instructions a call); nanoseconds in an i64 span the
    // years 1677 to 2262, so the four-digit year of `push_eve_time` is the whole year.
    let mut out = String::with_capacity(31);
    push_eve_time(&mut out, ts_ns);
    out
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn eve_time_parses_back() {
        for ts in [
            0i64,
            1_258_567_191_405_770_000,
            1_764_115_272_354_509_000,
            -86_400_000_000_000,
        ] {
            assert_eq!(parse_eve_time(&eve_time(ts)), Some(ts), "{}", eve_time(ts));
        }
        assert_eq!(parse_eve_time("2026-13-01T00:00:00.000000+0000"), None);
        assert_eq!(parse_eve_time("2026-01-01 00:00:00.000000+0000"), None);
        assert_eq!(parse_eve_time("not a time"), None);
        // The years an i64 of nanoseconds reaches, and past them (found by the
        // `evaluate_inputs` fuzz target: the product overflowed).
        for ts in [i64::MIN + 807_000, i64::MAX - 807_000] {
            let text = eve_time(ts);
            let want = ts - ts.rem_euclid(1000);
            assert_eq!(parse_eve_time(&text), Some(want), "{text}");
        }
        assert_eq!(parse_eve_time("4648-11-26T00:00:00.076200+0000"), None);
        assert_eq!(parse_eve_time("9999-12-31T23:59:60.999999+0000"), None);
        assert_eq!(parse_eve_time("0000-01-01T00:00:00.000000+0000"), None);
    }

    #[test]
    fn eve_time_is_the_formatted_text() {
        let formatted = |ts: i64| {
            let (y, m, d, h, mi, s, ns) = parts(ts);
            format!(
                "{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:06}+0000",
                ns / 1000
            )
        };
        let mut t = i64::MIN;
        while let Some(next) = t.checked_add(7_919_876_543_210_987) {
            assert_eq!(eve_time(t), formatted(t), "{t}");
            t = next;
        }
        for t in [i64::MIN, i64::MAX, 0, -1, 1_764_115_272_354_509_999] {
            assert_eq!(eve_time(t), formatted(t), "{t}");
        }
    }

    #[test]
    fn cached_eve_time_equals_formatted() {
        let mut w = EveTimeWriter::default();
        for ts in [
            1_258_567_191_405_770_123i64,
            1_258_567_191_999_999_999,
            1_258_567_192_000_000_000,
            -1,
            -1_000_000_001,
            0,
        ] {
            let mut out = Vec::new();
            w.push(&mut out, ts);
            assert_eq!(String::from_utf8(out).unwrap(), eve_time(ts), "{ts}");
        }
    }

    #[test]
    fn pushed_eve_time_equals_formatted() {
        for ts in [
            0i64,
            1_258_567_191_405_770_123,
            -1,
            1_700_000_000_000_000_000,
            9_000_000_000_000_000_000,
        ] {
            let mut s = String::new();
            push_eve_time(&mut s, ts);
            assert_eq!(s, eve_time(ts), "{ts}");
        }
    }

    #[test]
    fn formats_known_instant() {
        // 2009-11-18 16:59:51.405770 UTC
        let ts = 1_258_563_591_405_770_123;
        assert_eq!(zeek_time(ts), "1258563591.405770");
        assert_eq!(zeek_header_time(ts), "2009-11-18-16-59-51");
        assert_eq!(eve_time(ts), "2009-11-18T16:59:51.405770+0000");
    }

    #[test]
    fn handles_epoch_leap_day_and_negative() {
        assert_eq!(eve_time(0), "1970-01-01T00:00:00.000000+0000");
        assert_eq!(
            zeek_header_time(951_782_400_000_000_000),
            "2000-02-29-00-00-00"
        );
        assert_eq!(zeek_time(-1_500_000_000), "-2.500000");
    }
}
