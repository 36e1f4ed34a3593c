//! How bytes from the wire become text in records: printable ASCII as it is, except `\`
//! which becomes `\x5c`; every other byte as `\xNN` (lower-case hex), the way Zeek's logs
//! show them. So `\x` in a record is always an escape, and [`unescape`] gives the bytes back.

use std::fmt::Write as _;

/// Appends `bytes` to `out`, escaped.
pub fn push_escaped(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        if (0x20..=0x7e).contains(&b) && b != b'\\' {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
}

/// `bytes`, escaped.
pub fn escaped(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    push_escaped(&mut s, bytes);
    s
}

/// The bytes an escaped text stands for (`\xNN` decoded; anything else kept as it is).
pub fn unescape(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'\\' {
            if let Some(v) = tail
                .strip_prefix(b"x")
                .and_then(|t| t.get(..2))
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                rest = tail.get(3..).unwrap_or_default();
                continue;
            }
        }
        out.push(b);
        rest = tail;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_round_trips_every_byte() {
        let all: Vec<u8> = (0..=255).collect();
        let text = escaped(&all);
        assert!(text.is_ascii());
        assert_eq!(unescape(&text), all);
        assert_eq!(escaped(b"a\\b\x00"), "a\\x5cb\\x00");
        assert_eq!(unescape("\\xg1\\x4"), b"\\xg1\\x4");
    }
}
