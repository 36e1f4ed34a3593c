//! X.509 certificates (x509-parser) to [`TlsCertificate`], printed the way Zeek's x509.log
//! prints them (OpenSSL conventions).

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use sha2::{Digest, Sha256};
use x509_parser::der_parser::oid::Oid;
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate, X509Name};
use x509_parser::public_key::RSAPublicKey;

use super::TlsCertificate;
use crate::reader::Reader;

// OIDs are kept in their DER content encoding, compared without formatting them.

/// OpenSSL short names of the attribute types seen in subject and issuer names.
const ATTRIBUTES: &[(&[u8], &str)] = &[
    (&[0x55, 0x04, 0x03], "CN"),
    (&[0x55, 0x04, 0x04], "SN"),
    (&[0x55, 0x04, 0x05], "serialNumber"),
    (&[0x55, 0x04, 0x06], "C"),
    (&[0x55, 0x04, 0x07], "L"),
    (&[0x55, 0x04, 0x08], "ST"),
    (&[0x55, 0x04, 0x09], "street"),
    (&[0x55, 0x04, 0x0a], "O"),
    (&[0x55, 0x04, 0x0b], "OU"),
    (&[0x55, 0x04, 0x0c], "title"),
    (&[0x55, 0x04, 0x0d], "description"),
    (&[0x55, 0x04, 0x0f], "businessCategory"),
    (&[0x55, 0x04, 0x10], "postalAddress"),
    (&[0x55, 0x04, 0x11], "postalCode"),
    (&[0x55, 0x04, 0x12], "postOfficeBox"),
    (&[0x55, 0x04, 0x14], "telephoneNumber"),
    (&[0x55, 0x04, 0x29], "name"),
    (&[0x55, 0x04, 0x2a], "GN"),
    (&[0x55, 0x04, 0x2b], "initials"),
    (&[0x55, 0x04, 0x2c], "generationQualifier"),
    (&[0x55, 0x04, 0x2e], "dnQualifier"),
    (&[0x55, 0x04, 0x41], "pseudonym"),
    (&[0x55, 0x04, 0x61], "organizationIdentifier"),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01],
        "emailAddress",
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x02],
        "unstructuredName",
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x08],
        "unstructuredAddress",
    ),
    (
        &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01],
        "UID",
    ),
    (
        &[0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19],
        "DC",
    ),
    (
        &[
            0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x01,
        ],
        "jurisdictionL",
    ),
    (
        &[
            0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x02,
        ],
        "jurisdictionST",
    ),
    (
        &[
            0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x3c, 0x02, 0x01, 0x03,
        ],
        "jurisdictionC",
    ),
];

/// OpenSSL long names of signature and key algorithms.
const ALGORITHMS: &[(&[u8], &str)] = &[
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01],
        "rsaEncryption",
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x02],
        "md2WithRSAEncryption",
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x03],
        "md4WithRSAEncryption",
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04],
        "md5WithRSAEncryption",
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05],
        "sha1WithRSAEncryption",
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a],
        "rsassaPss",
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b],
        "sha256WithRSAEncryption",
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c],
        "sha384WithRSAEncryption",
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d],
        "sha512WithRSAEncryption",
    ),
    (
        &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0e],
        "sha224WithRSAEncryption",
    ),
    (&[0x2b, 0x0e, 0x03, 0x02, 0x03], "md5WithRSA"),
    (&[0x2b, 0x0e, 0x03, 0x02, 0x1d], "sha1WithRSA"),
    (&[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01], "dsaEncryption"),
    (&[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x03], "dsaWithSHA1"),
    (
        &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x01],
        "dsa_with_SHA224",
    ),
    (
        &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x03, 0x02],
        "dsa_with_SHA256",
    ),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01],
        "id-ecPublicKey",
    ),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01],
        "ecdsa-with-SHA1",
    ),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x01],
        "ecdsa-with-SHA224",
    ),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02],
        "ecdsa-with-SHA256",
    ),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03],
        "ecdsa-with-SHA384",
    ),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04],
        "ecdsa-with-SHA512",
    ),
    (&[0x2b, 0x65, 0x70], "ED25519"),
    (&[0x2b, 0x65, 0x71], "ED448"),
    (
        &[0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x75],
        "SM2-with-SM3",
    ),
];

/// Named curves: OpenSSL short name and degree (Zeek's key_length for EC keys).
const CURVES: &[(&[u8], &str, u32)] = &[
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x01],
        "prime192v1",
        192,
    ),
    (&[0x2b, 0x81, 0x04, 0x00, 0x21], "secp224r1", 224),
    (
        &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07],
        "prime256v1",
        256,
    ),
    (&[0x2b, 0x81, 0x04, 0x00, 0x0a], "secp256k1", 256),
    (&[0x2b, 0x81, 0x04, 0x00, 0x22], "secp384r1", 384),
    (&[0x2b, 0x81, 0x04, 0x00, 0x23], "secp521r1", 521),
    (
        &[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x07],
        "brainpoolP256r1",
        256,
    ),
    (
        &[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0b],
        "brainpoolP384r1",
        384,
    ),
    (
        &[0x2b, 0x24, 0x03, 0x03, 0x02, 0x08, 0x01, 0x01, 0x0d],
        "brainpoolP512r1",
        512,
    ),
];

fn lookup<'t>(table: &'t [(&[u8], &'t str)], oid: &Oid<'_>) -> Option<&'t str> {
    let b = oid.as_bytes();
    table.iter().find(|(o, _)| *o == b).map(|(_, n)| *n)
}

/// The table's name for `oid`, else its dotted form (as OpenSSL prints unknown OIDs).
fn oid_name(table: &[(&[u8], &str)], oid: &Oid<'_>) -> String {
    lookup(table, oid)
        .map(str::to_string)
        .unwrap_or_else(|| oid.to_id_string())
}

const PKCS1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01];
const RSA_X500: &[u8] = &[0x55, 0x08, 0x01, 0x01];
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const DSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01];
const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const ED448: &[u8] = &[0x2b, 0x65, 0x71];

/// Parses one DER certificate.
pub(super) fn certificate(der: &[u8]) -> Option<TlsCertificate> {
    let (_, cert) = X509Certificate::from_der(der).ok()?;
    let serial = {
        let raw = cert.raw_serial();
        let skip = raw
            .iter()
            .take(raw.len().saturating_sub(1))
            .take_while(|&&b| b == 0)
            .count();
        hex_upper(raw.get(skip..).unwrap_or_default())
    };
    let validity = cert.validity();
    let not_before_unix = validity.not_before.timestamp();
    let not_after_unix = validity.not_after.timestamp();
    let spki = cert.public_key();
    let key_alg = oid_name(ALGORITHMS, &spki.algorithm.algorithm);
    let (key_type, key_bits, curve) = key_info(spki);
    let mut san_dns = Vec::new();
    let mut san_ip = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for n in &san.value.general_names {
            match n {
                GeneralName::DNSName(d) => san_dns.push((*d).to_string()),
                GeneralName::IPAddress(b) => {
                    if let Ok(a) = <[u8; 4]>::try_from(*b) {
                        san_ip.push(Ipv4Addr::from(a).to_string());
                    } else if let Ok(a) = <[u8; 16]>::try_from(*b) {
                        san_ip.push(Ipv6Addr::from(a).to_string());
                    }
                }
                _ => {}
            }
        }
    }
    let basic_constraints_ca = match cert.basic_constraints() {
        Ok(Some(bc)) => Some(bc.value.ca),
        _ => None,
    };
    Some(TlsCertificate {
        subject: name(cert.subject()),
        issuer: name(cert.issuer()),
        serial,
        not_before: rfc3339(not_before_unix),
        not_after: rfc3339(not_after_unix),
        not_before_unix,
        not_after_unix,
        sha256: hex_lower(&Sha256::digest(der)),
        signature_algorithm: oid_name(ALGORITHMS, &cert.signature_algorithm.algorithm),
        key_type,
        key_bits,
        san_dns,
        self_signed: cert.subject().as_raw() == cert.issuer().as_raw(),
        version: cert.version().0.saturating_add(1),
        key_alg,
        curve,
        san_ip,
        basic_constraints_ca,
    })
}

fn key_info(
    spki: &x509_parser::x509::SubjectPublicKeyInfo<'_>,
) -> (String, Option<u32>, Option<String>) {
    let params = spki.algorithm.parameters.as_ref();
    let oid = spki.algorithm.algorithm.as_bytes();
    if oid.starts_with(PKCS1) || oid == RSA_X500 {
        // RSA (also under a signature OID, as some old certificates have it).
        let bits = RSAPublicKey::from_der(&spki.subject_public_key.data)
            .ok()
            .and_then(|(_, k)| integer_bits(k.modulus));
        return ("rsa".into(), bits, None);
    }
    if oid == EC_PUBLIC_KEY {
        let curve = params.and_then(|p| p.as_oid().ok()).and_then(|o| {
            let b = o.as_bytes();
            CURVES.iter().find(|(c, _, _)| *c == b)
        });
        return (
            "ecdsa".into(),
            curve.map(|(_, _, bits)| *bits),
            curve.map(|(_, n, _)| (*n).to_string()),
        );
    }
    if oid == DSA {
        // Dss-Parms ::= SEQUENCE { p INTEGER, q INTEGER, g INTEGER }: the size of p.
        let bits = params.and_then(|p| {
            let mut r = Reader::new(p.data);
            let (tag, body) = der_tlv(&mut r)?;
            (tag == 0x02).then_some(())?;
            integer_bits(body)
        });
        return ("dsa".into(), bits, None);
    }
    let kind = match oid {
        ED25519 => "ed25519",
        ED448 => "ed448",
        _ => "unknown",
    };
    (kind.into(), None, None)
}

/// Bits of a big-endian unsigned integer (leading zero bytes ignored).
fn integer_bits(b: &[u8]) -> Option<u32> {
    let skip = b.iter().take_while(|&&x| x == 0).count();
    let b = b.get(skip..)?;
    let first = *b.first()?;
    let len = u32::try_from(b.len()).ok()?;
    Some(
        (len - 1)
            .saturating_mul(8)
            .saturating_add(8 - first.leading_zeros()),
    )
}

/// One DER TLV (short or long length form): (tag byte, content).
fn der_tlv<'a>(r: &mut Reader<'a>) -> Option<(u8, &'a [u8])> {
    let tag = r.u8()?;
    let first = r.u8()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for _ in 0..n {
            len = (len << 8) | usize::from(r.u8()?);
        }
        len
    };
    Some((tag, r.take(len)?))
}

/// A distinguished name as OpenSSL's `X509_NAME_print_ex(…, XN_FLAG_RFC2253)` prints it (which
/// is what Zeek logs): attributes in reverse order, `,` between RDNs and `+` inside one,
/// short names (dotted OID when unknown), RFC 2253 escaping, control characters and non-ASCII
/// UTF-8 bytes as `\XX`, values of non-string types as `#` and their DER in hex.
pub(super) fn name(n: &X509Name<'_>) -> String {
    let mut attrs = Vec::new();
    for (i, rdn) in n.iter().enumerate() {
        for a in rdn.iter() {
            attrs.push((i, a));
        }
    }
    let mut s = String::new();
    let mut prev: Option<usize> = None;
    for (i, a) in attrs.iter().rev() {
        if let Some(p) = prev {
            s.push(if p == *i { '+' } else { ',' });
        }
        prev = Some(*i);
        match lookup(ATTRIBUTES, a.attr_type()) {
            Some(n) => s.push_str(n),
            None => s.push_str(&a.attr_type().to_id_string()),
        }
        s.push('=');
        attr_value(&mut s, a.attr_value());
    }
    s
}

fn attr_value(s: &mut String, v: &x509_parser::der_parser::asn1_rs::Any<'_>) {
    let data = v.data;
    let chars: Vec<u32> = match (v.class(), v.tag().0) {
        (x509_parser::der_parser::asn1_rs::Class::Universal, 12) => String::from_utf8_lossy(data)
            .chars()
            .map(u32::from)
            .collect(),
        (x509_parser::der_parser::asn1_rs::Class::Universal, 18..=20 | 22..=24 | 26) => {
            data.iter().map(|&b| u32::from(b)).collect()
        }
        (x509_parser::der_parser::asn1_rs::Class::Universal, 30) => data
            .chunks(2)
            .map(|c| c.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)))
            .collect(),
        (x509_parser::der_parser::asn1_rs::Class::Universal, 28) => data
            .chunks(4)
            .map(|c| c.iter().fold(0u32, |a, &b| (a << 8) | u32::from(b)))
            .collect(),
        _ => {
            // DUMP_UNKNOWN | DUMP_DER: '#' and the whole TLV in hex.
            s.push('#');
            let tag = v.tag().0;
            let first = (match v.class() {
                x509_parser::der_parser::asn1_rs::Class::Universal => 0u8,
                x509_parser::der_parser::asn1_rs::Class::Application => 0x40,
                x509_parser::der_parser::asn1_rs::Class::ContextSpecific => 0x80,
                x509_parser::der_parser::asn1_rs::Class::Private => 0xc0,
            }) | if v.header.is_constructed() { 0x20 } else { 0 }
                | u8::try_from(tag.min(30)).unwrap_or(30);
            let _ = write!(s, "{first:02X}");
            let len = data.len();
            if len < 0x80 {
                let _ = write!(s, "{len:02X}");
            } else {
                let bytes = (len as u64).to_be_bytes();
                let skip = bytes.iter().take_while(|&&b| b == 0).count();
                let _ = write!(s, "{:02X}", 0x80 | (8 - skip));
                s.push_str(&hex_upper(bytes.get(skip..).unwrap_or_default()));
            }
            s.push_str(&hex_upper(data));
            return;
        }
    };
    let last = chars.len().saturating_sub(1);
    for (i, &c) in chars.iter().enumerate() {
        let Some(ch) = char::from_u32(c) else {
            continue;
        };
        match ch {
            ',' | '+' | '"' | '\\' | '<' | '>' | ';' => {
                s.push('\\');
                s.push(ch);
            }
            '#' if i == 0 => s.push_str("\\#"),
            ' ' if i == 0 || i == last => s.push_str("\\ "),
            '\u{0}'..='\u{1f}' | '\u{7f}' => {
                let _ = write!(s, "\\{c:02X}");
            }
            _ if c >= 0x80 => {
                let mut buf = [0u8; 4];
                for b in ch.encode_utf8(&mut buf).bytes() {
                    let _ = write!(s, "\\{b:02X}");
                }
            }
            _ => s.push(ch),
        }
    }
}

fn hex(b: &[u8], digits: &[u8; 16]) -> String {
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        for nibble in [x >> 4, x & 0x0f] {
            s.push(char::from(
                digits.get(usize::from(nibble)).copied().unwrap_or(b'0'),
            ));
        }
    }
    s
}

pub(super) fn hex_upper(b: &[u8]) -> String {
    hex(b, b"0123456789ABCDEF")
}

pub(super) fn hex_lower(b: &[u8]) -> String {
    hex(b, b"0123456789abcdef")
}

/// Unix time → RFC 3339 UTC (`1970-01-01T00:00:00Z`).
pub(super) fn rfc3339(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_304_467_200), "2011-05-04T00:00:00Z");
        assert_eq!(rfc3339(1_590_835_718), "2020-05-30T10:48:38Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
        assert_eq!(rfc3339(253_402_300_799), "9999-12-31T23:59:59Z");
    }

    #[test]
    fn bits() {
        assert_eq!(integer_bits(&[0x00, 0x80, 0]), Some(16));
        assert_eq!(integer_bits(&[0x01, 0]), Some(9));
        assert_eq!(integer_bits(&[0, 0]), None);
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.trim().len() / 2)
            .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    }

    /// The two certificates of Zeek's rdp-x509 trace (RDP carries them outside TLS) against
    /// its x509.log: multi-valued RDNs printed in reverse with `+`, a CR LF escaped as `\0D\0A`,
    /// an RSA key under a signature OID, the old `sha1WithRSA` OID.
    #[test]
    fn zeek_rdp_certificates() {
        let a = certificate(&unhex(include_str!("testdata/rdp-1.der.hex"))).unwrap();
        assert!(a.sha256.starts_with("e3859c4a77098a7b"));
        assert_eq!(a.subject, "L=TURNBKL+CN=SERVR");
        assert_eq!(a.issuer, "L=TURNBKL+CN=SERVR");
        assert_eq!(a.serial, "59EB28CB02B1A0D4");
        assert_eq!(
            (a.not_before_unix, a.not_after_unix),
            (1423664106, 1431388800)
        );
        assert_eq!(a.signature_algorithm, "sha1WithRSA");
        assert_eq!(
            (a.key_alg.as_str(), a.key_type.as_str(), a.key_bits),
            ("rsaEncryption", "rsa", Some(512))
        );
        assert!(a.self_signed);
        let b = certificate(&unhex(include_str!("testdata/rdp-2.der.hex"))).unwrap();
        assert!(b.sha256.starts_with("bd97671306086c33"));
        assert_eq!(
            b.subject,
            "serialNumber=1BcKefYSF97EvkaiCqahPY8uPd0=\\0D\\0A+L=ncalrpc:SERVR+CN=ncalrpc:SERVR"
        );
        assert_eq!(b.serial, "0100000001");
        assert_eq!(
            (b.key_alg.as_str(), b.key_type.as_str(), b.key_bits),
            ("md5WithRSAEncryption", "rsa", Some(512))
        );
        assert!(!b.self_signed);
    }

    #[test]
    fn garbage_is_none() {
        assert!(certificate(b"\x30\x03\x02\x01\x01").is_none());
        assert!(certificate(&[]).is_none());
    }
}
