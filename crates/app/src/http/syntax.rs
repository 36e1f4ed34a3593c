//! Byte-level helpers: values, numbers, base64, request lines.

use super::*;

pub(super) fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Lossy UTF-8, truncated to `max` bytes at a character boundary.
pub(super) fn text(b: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(b.get(..max).unwrap_or(b));
    let mut s = s.into_owned();
    if b.len() > max && s.ends_with('\u{fffd}') {
        // A character cut by the limit.
        s.pop();
    }
    s
}

pub(super) fn value(b: &[u8]) -> String {
    text(trim(b), MAX_VALUE)
}

pub(super) fn trim(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

/// RFC 9110 §8.6: 1*DIGIT. Leading zeros allowed; values above `i64::MAX` are rejected (as
/// most servers use signed 64-bit lengths, such a value can only desynchronise).
pub(super) fn parse_content_length(v: &[u8]) -> Option<u64> {
    let v = trim(v);
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut n: u64 = 0;
    for d in v {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    (n <= i64::MAX as u64).then_some(n)
}

/// Decodes standard base64 (padding optional, whitespace not allowed). `None` if invalid.
pub(super) fn base64_decode(s: &[u8]) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        }))
    }
    let s = trim(s);
    let s = s.strip_suffix(b"==").or(s.strip_suffix(b"=")).unwrap_or(s);
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 2);
    for group in s.chunks(4) {
        let mut acc = 0u32;
        for &c in group {
            acc = (acc << 6) | val(c)?;
        }
        match group.len() {
            4 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]),
            3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
            2 => out.push((acc >> 4) as u8),
            _ => return None,
        }
    }
    Some(out)
}

pub(super) fn strip_lf(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}

/// RFC 9110 token characters.
pub(super) fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A request line of exactly two words whose second is not a version: HTTP/0.9.
pub(super) fn is_09_line(line: &[u8]) -> bool {
    let line = strip_cr(strip_lf(line));
    let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let method = words.next().unwrap_or_default();
    let target = words.next().unwrap_or_default();
    !target.is_empty()
        && !target.starts_with(b"HTTP/")
        && words.next().is_none()
        && !method.is_empty()
        && method.iter().all(|&b| is_token(b))
}

/// Does `b` start with a header line (`token:`)?
pub(super) fn header_line_follows(b: &[u8]) -> bool {
    let name = b.iter().take_while(|&&c| is_token(c)).count();
    name > 0 && b.get(name) == Some(&b':')
}

/// The request line when httparse rejects it, read the way Zeek does: method (a token), then
/// a version if the last word starts with `HTTP/` (the words between are the target, spaces
/// kept, possibly empty), else a two-word HTTP/0.9 line.
pub(super) fn lenient_request_line(block: &[u8]) -> Option<LenientLine<'_>> {
    let nl = block.iter().position(|&b| b == b'\n')?;
    let line = strip_cr(block.get(..nl)?);
    let rest = block.get(nl + 1..)?;
    let sp = line.iter().position(|&b| b == b' ')?;
    let method = line.get(..sp)?;
    if method.is_empty() || !method.iter().all(|&b| is_token(b)) {
        return None;
    }
    let method = std::str::from_utf8(method).ok()?;
    let tail = trim(line.get(sp + 1..)?);
    let (target, version) = match tail.iter().rposition(|&b| b == b' ') {
        Some(i) if tail.get(i + 1..)?.starts_with(b"HTTP/") => {
            (trim(tail.get(..i)?), tail.get(i + 6..)?)
        }
        None if tail.starts_with(b"HTTP/") => (&[][..], tail.get(5..)?),
        None if !tail.is_empty() => (tail, &b"0.9"[..]),
        _ => return None,
    };
    Some(LenientLine {
        method,
        target,
        version,
        rest,
    })
}

/// A request line read by [`lenient_request_line`].
pub(super) struct LenientLine<'a> {
    pub(super) method: &'a str,
    pub(super) target: &'a [u8],
    /// After `HTTP/` (`"0.9"` for a line without a version).
    pub(super) version: &'a [u8],
    /// The bytes after the line (headers).
    pub(super) rest: &'a [u8],
}

pub(super) fn version(v: Option<u8>) -> &'static str {
    match v {
        Some(0) => "1.0",
        _ => "1.1",
    }
}

/// `Authorization: <scheme> <credentials>`; Basic credentials are decoded for the username.
pub(super) fn authorization(
    r: &mut HttpRequest,
    v: &[u8],
    credentials: &crate::credentials::DefaultCredentials,
) {
    let v = trim(v);
    let (scheme, creds) = match v.iter().position(|&b| b == b' ') {
        Some(i) => (
            v.get(..i).unwrap_or_default(),
            v.get(i + 1..).unwrap_or_default(),
        ),
        None => (v, &[][..]),
    };
    if scheme.is_empty() {
        return;
    }
    r.authorization_scheme = Some(text(scheme, 64));
    if scheme.eq_ignore_ascii_case(b"basic") {
        if let Some(decoded) = base64_decode(creds) {
            let (user, pass) = match decoded.iter().position(|&b| b == b':') {
                Some(i) => (
                    decoded.get(..i).unwrap_or_default(),
                    decoded.get(i + 1..).unwrap_or_default(),
                ),
                None => (&decoded[..], &[][..]),
            };
            r.basic_user = Some(text(user, MAX_VALUE));
            r.basic_password_len = Some(pass.len());
            r.basic_default_credential =
                std::str::from_utf8(user).is_ok_and(|u| credentials.contains(u, pass));
        }
    }
}

/// Appends `name: value\r\n` (value trimmed) to a header block as signatures read it,
/// bounded to [`super::BODY_KEPT`] bytes.
pub(super) fn header_line(block: &mut Vec<u8>, name: &str, value: &[u8]) {
    if block.len() >= super::BODY_KEPT {
        return;
    }
    block.extend_from_slice(name.as_bytes());
    block.extend_from_slice(b": ");
    block.extend_from_slice(trim(value));
    block.extend_from_slice(b"\r\n");
}
