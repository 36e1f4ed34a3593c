//! Deterministic identifiers (UUIDv5, RFC 9562 §5.5) and packet-time timestamps.

use sha1::{Digest, Sha1};

/// The STIX 2.1 namespace for SCO ids (STIX 2.1 §2.9).
pub const STIX_SCO_NAMESPACE: [u8; 16] = [
    0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c, 0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7,
];

/// custos's namespace for the ids of SDOs, SROs and MISP objects (a UUIDv5 of
/// `custos-share` under the STIX namespace, fixed here).
pub const CUSTOS_NAMESPACE: [u8; 16] = [
    0x3c, 0x5e, 0x0f, 0x7a, 0x91, 0x2d, 0x5b, 0x44, 0x8e, 0x61, 0x0a, 0x27, 0xd4, 0x9b, 0x13, 0xc2,
];

/// The UUIDv5 of `name` in `namespace`, as lowercase hyphenated text.
pub fn uuid_v5(namespace: &[u8; 16], name: &str) -> String {
    name_based(namespace, name, 5)
}

/// A UUID with the version bits of `version` and the other 122 bits from SHA-1 of
/// `namespace ‖ name` (RFC 9562 §5.5 for version 5).
fn name_based(namespace: &[u8; 16], name: &str, version: u8) -> String {
    let mut hasher = Sha1::new();
    hasher.update(namespace);
    hasher.update(name.as_bytes());
    let digest = hasher.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | (version << 4);
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// A STIX id for an SDO, SRO or bundle: `TYPE--` and a UUID whose 122 free bits are SHA-1 of
/// the custos namespace and `TYPE|key`, labelled version 4.
///
/// STIX 2.1 §2.9 says SDO and SRO ids SHOULD be UUIDv4 (strict validators reject others);
/// RFC 9562 §5.4 lets the bits of a version 4 UUID come from any pseudo-random source, and a
/// hash of the content is one that gives the same id for the same content.
pub fn stix_id(kind: &str, key: &str) -> String {
    format!(
        "{kind}--{}",
        name_based(&CUSTOS_NAMESPACE, &format!("{kind}|{key}"), 4)
    )
}

/// Converts an output timestamp (`2026-11-26T00:01:12.354509+0000`, also `Z` or `+00:00`)
/// to STIX/RFC 3339 UTC with millisecond precision (`2026-11-26T00:01:12.354Z`); `None` when
/// it is not in that shape or not in UTC.
pub fn stix_time(text: &str) -> Option<String> {
    let (base, rest) = (text.get(..19)?, text.get(19..)?);
    let shape_ok = base.char_indices().all(|(i, c)| match i {
        4 | 7 => c == '-',
        10 => c == 'T',
        13 | 16 => c == ':',
        _ => c.is_ascii_digit(),
    });
    if !shape_ok {
        return None;
    }
    let (fraction, zone) = match rest.strip_prefix('.') {
        Some(r) => {
            let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
            (r.get(..end)?, r.get(end..)?)
        }
        None => ("", rest),
    };
    if !matches!(zone, "Z" | "+0000" | "+00:00" | "-0000") {
        return None;
    }
    let millis: String = fraction.chars().chain("000".chars()).take(3).collect();
    Some(format!("{base}.{millis}Z"))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn uuid_v5_matches_rfc_example() {
        // RFC 9562 appendix A.4: DNS namespace, "www.example.com".
        let dns = [
            0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4,
            0x30, 0xc8,
        ];
        assert_eq!(
            uuid_v5(&dns, "www.example.com"),
            "2ed6657d-e927-568b-95e1-2665a8aea6a2"
        );
    }

    #[test]
    fn stix_ids_are_version_4_and_stable() {
        let id = stix_id("indicator", "Ip|198.18.0.66");
        assert_eq!(id, stix_id("indicator", "Ip|198.18.0.66"));
        let uuid = id.strip_prefix("indicator--").unwrap();
        assert_eq!(uuid.as_bytes()[14], b'4');
        assert!(matches!(uuid.as_bytes()[19], b'8' | b'9' | b'a' | b'b'));
    }

    #[test]
    fn converts_output_timestamps_to_stix() {
        assert_eq!(
            stix_time("2026-11-26T00:01:12.354509+0000").as_deref(),
            Some("2026-11-26T00:01:12.354Z")
        );
        assert_eq!(
            stix_time("2026-11-26T00:01:12Z").as_deref(),
            Some("2026-11-26T00:01:12.000Z")
        );
        assert_eq!(stix_time("2026-11-26T00:01:12+0100"), None);
        assert_eq!(stix_time("yesterday"), None);
    }
}
