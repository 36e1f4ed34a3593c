//! JA3, JA3S (Salesforce) and JA4 (FoxIO) client/server fingerprints.
//!
//! - JA3: `version,ciphers,extensions,groups,point_formats`, decimal values joined by `-`,
//!   GREASE values (RFC 8701) removed; the hash is the MD5 of that string in lower-case hex.
//! - JA3S: `version,cipher,extensions`, same rules.
//! - JA4 (`technical_details/JA4.md`): `t` + version (highest of supported_versions, else the
//!   hello's version) + `d`/`i` (SNI present) + cipher count + extension count (two digits, at
//!   most 99, GREASE not counted) + first/last character of the first ALPN value (`00` if none;
//!   see [`ja4`] for non-ASCII values), `_`, the first 12 hex digits of the
//!   SHA-256 of the sorted 4-digit hex cipher list, `_`, the same of the sorted extension list
//!   without SNI (0000) and ALPN (0010), followed by `_` and the signature algorithms in wire
//!   order when there are any. An empty list hashes to `000000000000`.

use std::fmt::Write as _;

use md5::Md5;
use sha2::{Digest, Sha256};

use super::cert::hex_lower;

/// GREASE values (RFC 8701): 0x0a0a, 0x1a1a, … 0xfafa.
pub fn is_grease(v: u16) -> bool {
    v & 0x0f0f == 0x0a0a && (v >> 8) == (v & 0xff)
}

fn push_dec<I: IntoIterator<Item = u16>>(s: &mut String, vals: I) {
    let mut first = true;
    for v in vals.into_iter().filter(|v| !is_grease(*v)) {
        if !first {
            s.push('-');
        }
        first = false;
        let _ = write!(s, "{v}");
    }
}

/// MD5 of `s`, lower-case hex.
pub(super) fn md5_hex(s: &str) -> String {
    hex_lower(&Md5::digest(s.as_bytes()))
}

/// The JA3 string.
pub(super) fn ja3(
    version: u16,
    ciphers: &[u16],
    exts: &[u16],
    groups: &[u16],
    pf: &[u8],
) -> String {
    let mut s = String::with_capacity(256);
    let _ = write!(s, "{version},");
    push_dec(&mut s, ciphers.iter().copied());
    s.push(',');
    push_dec(&mut s, exts.iter().copied());
    s.push(',');
    push_dec(&mut s, groups.iter().copied());
    s.push(',');
    push_dec(&mut s, pf.iter().map(|&p| u16::from(p)));
    s
}

/// The JA3S string.
pub(super) fn ja3s(version: u16, cipher: u16, exts: &[u16]) -> String {
    let mut s = String::with_capacity(64);
    let _ = write!(s, "{version},{cipher},");
    push_dec(&mut s, exts.iter().copied());
    s
}

/// What JA4 needs from a ClientHello.
pub(super) struct Ja4Input<'a> {
    /// `t` (TCP), `q` (QUIC) or `d` (DTLS).
    pub transport: char,
    pub version: u16,
    pub supported_versions: &'a [u16],
    pub ciphers: &'a [u16],
    pub extensions: &'a [u16],
    pub signature_algorithms: &'a [u16],
    pub first_alpn: Option<&'a [u8]>,
}

fn ja4_version(v: u16) -> &'static str {
    match v {
        0x0304 => "13",
        0x0303 => "12",
        0x0302 => "11",
        0x0301 => "10",
        0x0300 => "s3",
        0x0002 => "s2",
        0xfeff => "d1",
        0xfefd => "d2",
        0xfefc => "d3",
        _ => "00",
    }
}

fn hash12(list: &str) -> String {
    if list.is_empty() {
        return "000000000000".into();
    }
    let mut h = hex_lower(&Sha256::digest(list.as_bytes()));
    h.truncate(12);
    h
}

fn hex_list(vals: &[u16]) -> String {
    let mut s = String::with_capacity(vals.len() * 5);
    for (i, v) in vals.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{v:04x}");
    }
    s
}

/// The JA4 fingerprint.
pub(super) fn ja4(h: &Ja4Input<'_>) -> String {
    let version = h
        .supported_versions
        .iter()
        .copied()
        .filter(|v| !is_grease(*v))
        .max()
        .unwrap_or(h.version);
    let mut ciphers: Vec<u16> = h
        .ciphers
        .iter()
        .copied()
        .filter(|c| !is_grease(*c))
        .collect();
    let exts: Vec<u16> = h
        .extensions
        .iter()
        .copied()
        .filter(|e| !is_grease(*e))
        .collect();
    let sni = if exts.contains(&0) { 'd' } else { 'i' };
    // As FoxIO's reference implementations (Rust `first_last`, Python `first_last_alpn`) and
    // their published test vectors do: first and last character of the first ALPN value (as
    // lossy UTF-8), a non-ASCII character replaced by '9', a missing last character by '0'.
    let alpn = {
        let v = String::from_utf8_lossy(h.first_alpn.unwrap_or_default());
        let ascii = |c: char| if c.is_ascii() { c } else { '9' };
        let mut chars = v.chars();
        let first = chars.next().map(ascii).unwrap_or('0');
        let last = chars.next_back().map(ascii).unwrap_or('0');
        [first, last]
    };
    let mut s = String::with_capacity(40);
    s.push(h.transport);
    s.push_str(ja4_version(version));
    s.push(sni);
    let _ = write!(s, "{:02}{:02}", ciphers.len().min(99), exts.len().min(99));
    s.extend(alpn);
    ciphers.sort_unstable();
    let mut sorted: Vec<u16> = exts.into_iter().filter(|e| *e != 0 && *e != 0x10).collect();
    sorted.sort_unstable();
    s.push('_');
    s.push_str(&hash12(&hex_list(&ciphers)));
    s.push('_');
    if sorted.is_empty() {
        s.push_str("000000000000");
    } else {
        let mut list = hex_list(&sorted);
        let sig: Vec<u16> = h
            .signature_algorithms
            .iter()
            .copied()
            .filter(|v| !is_grease(*v))
            .collect();
        if !sig.is_empty() {
            list.push('_');
            list.push_str(&hex_list(&sig));
        }
        s.push_str(&hash12(&list));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grease() {
        for hi in 0..16u16 {
            assert!(is_grease((hi << 12) | 0x0a00 | (hi << 4) | 0x0a));
        }
        assert!(!is_grease(0x0a1a));
        assert!(!is_grease(0x1301));
        assert!(!is_grease(0xeeee));
    }

    /// The worked example of FoxIO's `technical_details/JA4.md` (cipher and extension lists,
    /// signature algorithms, ALPN h2, SNI present, TLS 1.3).
    #[test]
    fn ja4_spec_example() {
        let ciphers = [
            0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014,
            0x009c, 0x009d, 0x002f, 0x0035,
        ];
        let exts = [
            0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012,
            0x002b, 0xff01, 0x000b, 0x000a, 0x0015,
        ];
        let sig = [
            0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
        ];
        let input = Ja4Input {
            transport: 't',
            version: 0x0303,
            supported_versions: &[0x0a0a, 0x0304, 0x0303],
            ciphers: &ciphers,
            extensions: &exts,
            signature_algorithms: &sig,
            first_alpn: Some(b"h2"),
        };
        assert_eq!(ja4(&input), "t13d1516h2_8daaf6152771_e5627efa2ab1");
        // Without signature algorithms the list ends without an underscore.
        let input = Ja4Input {
            signature_algorithms: &[],
            ..input
        };
        assert!(ja4(&input).ends_with("_6d807ffa2a79"));
        let none = Ja4Input {
            transport: 't',
            version: 0x0301,
            supported_versions: &[],
            ciphers: &[],
            extensions: &[],
            signature_algorithms: &[],
            first_alpn: None,
        };
        assert_eq!(ja4(&none), "t10i000000_000000000000_000000000000");
    }

    /// ALPN characters as FoxIO's implementations compute them (their unit tests
    /// `test_first_last*`, `test_first_last_alpn_matches_the_rust_implementation`). Their
    /// technical_details/JA4.md describes a hex rule for non-alphanumeric values instead; the
    /// published fingerprints (tls-non-ascii-alpn: `…99_…`) follow the implementations.
    #[test]
    fn ja4_alpn_rules() {
        let f = |a: &[u8]| {
            ja4(&Ja4Input {
                transport: 't',
                version: 0x0303,
                supported_versions: &[],
                ciphers: &[],
                extensions: &[],
                signature_algorithms: &[],
                first_alpn: Some(a),
            })[8..10]
                .to_string()
        };
        assert_eq!(f(b"h2"), "h2");
        assert_eq!(f(b"http/1.1"), "h1");
        assert_eq!(f(b"x"), "x0");
        assert_eq!(f("\u{e9}x".as_bytes()), "9x");
        assert_eq!(f("x\u{e9}".as_bytes()), "x9");
        assert_eq!(f(&[0xff, b'x', 0xfe]), "99");
        assert_eq!(f(&[0xff]), "90");
        assert_eq!(f(b""), "00");
    }

    #[test]
    fn ja3_strings() {
        assert_eq!(
            ja3(
                769,
                &[0x0a0a, 47, 53],
                &[0, 0x1a1a, 10],
                &[0x2a2a, 29, 23],
                &[0]
            ),
            "769,47-53,0-10,29-23,0"
        );
        assert_eq!(ja3(769, &[4], &[], &[], &[]), "769,4,,,");
        assert_eq!(ja3s(771, 49199, &[65281, 0, 11]), "771,49199,65281-0-11");
        assert_eq!(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
    }
}
