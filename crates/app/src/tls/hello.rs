//! ClientHello and ServerHello bodies (RFC 8446 §4.1.2–4.1.3, RFC 5246 §7.4.1, and the
//! ServerHello of TLS 1.3 drafts before 22, which has no session id or compression), read with the
//! crate's checked cursor so that every extension type is kept in wire order (GREASE included)
//! for the fingerprints; the SSLv2-compatible ClientHello (RFC 5246 appendix E.2).

use super::fingerprint::{self, Ja4Input};
use super::{cipher_name, is_weak_cipher, version_name, TlsClientHello, TlsServerHello};
use crate::reader::Reader;

/// Longest SNI / ALPN value kept (bytes).
const MAX_NAME: usize = 255;

/// Random of a HelloRetryRequest (RFC 8446 §4.1.3).
const HRR_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// Error: offset inside the message body and the field.
pub(super) type Bad = (usize, &'static str);

fn need<T>(v: Option<T>, r: &Reader<'_>, what: &'static str) -> Result<T, Bad> {
    v.ok_or((r.offset(), what))
}

fn name(b: &[u8]) -> String {
    let b = b.get(..MAX_NAME).unwrap_or(b);
    String::from_utf8_lossy(b).into_owned()
}

fn u16_list(mut r: Reader<'_>) -> Vec<u16> {
    let mut v = Vec::with_capacity(r.left() / 2);
    while let Some(x) = r.u16() {
        v.push(x);
    }
    v
}

/// `opaque list<..2^16-1>` of u16: the vector, or empty when malformed.
fn u16_vec(data: &[u8]) -> Vec<u16> {
    let mut r = Reader::new(data);
    match r.u16().and_then(|n| r.sub(usize::from(n))) {
        Some(list) => u16_list(list),
        None => Vec::new(),
    }
}

/// ALPN `ProtocolNameList`: raw names.
fn alpn_list(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut r = Reader::new(data);
    let Some(mut list) = r.u16().and_then(|n| r.sub(usize::from(n))) else {
        return out;
    };
    while let Some(p) = list.u8().and_then(|n| list.take(usize::from(n))) {
        out.push(p);
    }
    out
}

/// First host_name of a `ServerNameList`.
fn sni(data: &[u8]) -> Option<String> {
    let mut r = Reader::new(data);
    let mut list = r.u16().and_then(|n| r.sub(usize::from(n)))?;
    while let Some(ty) = list.u8() {
        let host = list.u16().and_then(|n| list.take(usize::from(n)))?;
        if ty == 0 {
            return Some(name(host));
        }
    }
    None
}

/// A ClientHello body (after the 4-byte handshake header).
pub(super) fn client_hello(
    body: &[u8],
    offset: u64,
    record_version: u16,
) -> Result<TlsClientHello, Bad> {
    let mut r = Reader::new(body);
    let version = need(r.u16(), &r, "client version")?;
    need(r.take(32), &r, "random")?;
    let sid = need(r.u8(), &r, "session id length")?;
    need(r.take(usize::from(sid)), &r, "session id")?;
    let n = need(r.u16(), &r, "cipher suites length")?;
    if n % 2 != 0 {
        return Err((r.offset(), "odd cipher suites length"));
    }
    let cipher_suites = u16_list(need(r.sub(usize::from(n)), &r, "cipher suites")?);
    let n = need(r.u8(), &r, "compression methods length")?;
    need(r.take(usize::from(n)), &r, "compression methods")?;
    let mut h = TlsClientHello {
        offset,
        record_version,
        version,
        supported_versions: Vec::new(),
        sni: None,
        alpn: Vec::new(),
        cipher_suites,
        extensions: Vec::new(),
        groups: Vec::new(),
        ec_point_formats: Vec::new(),
        signature_algorithms: Vec::new(),
        ja3: String::new(),
        ja3_hash: String::new(),
        ja4: String::new(),
    };
    let mut first_alpn: Option<&[u8]> = None;
    if !r.is_empty() {
        let n = need(r.u16(), &r, "extensions length")?;
        let mut ex = need(r.sub(usize::from(n)), &r, "extensions")?;
        while !ex.is_empty() {
            let ty = need(ex.u16(), &ex, "extension type")?;
            let len = need(ex.u16(), &ex, "extension length")?;
            let data = need(ex.take(usize::from(len)), &ex, "extension data")?;
            h.extensions.push(ty);
            match ty {
                0 => h.sni = sni(data),
                10 => h.groups = u16_vec(data),
                11 => {
                    let mut d = Reader::new(data);
                    if let Some(pf) = d.u8().and_then(|n| d.take(usize::from(n))) {
                        h.ec_point_formats = pf.to_vec();
                    }
                }
                13 => h.signature_algorithms = u16_vec(data),
                16 => {
                    let list = alpn_list(data);
                    first_alpn = list.first().copied();
                    h.alpn = list.into_iter().map(name).collect();
                }
                43 => {
                    let mut d = Reader::new(data);
                    if let Some(list) = d.u8().and_then(|n| d.sub(usize::from(n))) {
                        h.supported_versions = u16_list(list);
                    }
                }
                _ => {}
            }
        }
    }
    fingerprints(&mut h, first_alpn);
    Ok(h)
}

fn fingerprints(h: &mut TlsClientHello, first_alpn: Option<&[u8]>) {
    h.ja3 = fingerprint::ja3(
        h.version,
        &h.cipher_suites,
        &h.extensions,
        &h.groups,
        &h.ec_point_formats,
    );
    h.ja3_hash = fingerprint::md5_hex(&h.ja3);
    h.ja4 = fingerprint::ja4(&Ja4Input {
        transport: 't',
        version: h.version,
        supported_versions: &h.supported_versions,
        ciphers: &h.cipher_suites,
        extensions: &h.extensions,
        signature_algorithms: &h.signature_algorithms,
        first_alpn,
    });
}

/// An SSLv2-format ClientHello: `msg` is the record body (message type 1 first). Cipher specs
/// of the form 00 xx yy are kept as TLS suite xxyy; SSLv2-only specs are dropped.
pub(super) fn sslv2_client_hello(msg: &[u8], offset: u64) -> Result<TlsClientHello, Bad> {
    let mut r = Reader::new(msg);
    if need(r.u8(), &r, "message type")? != 1 {
        return Err((0, "sslv2 message type"));
    }
    let version = need(r.u16(), &r, "client version")?;
    let specs = need(r.u16(), &r, "cipher specs length")?;
    let sid = need(r.u16(), &r, "session id length")?;
    let challenge = need(r.u16(), &r, "challenge length")?;
    if specs % 3 != 0 {
        return Err((r.offset(), "cipher specs length"));
    }
    let mut s = need(r.sub(usize::from(specs)), &r, "cipher specs")?;
    need(r.take(usize::from(sid)), &r, "session id")?;
    need(r.take(usize::from(challenge)), &r, "challenge")?;
    let mut cipher_suites = Vec::new();
    while let Some(spec) = s.take_array::<3>() {
        if spec[0] == 0 {
            cipher_suites.push(u16::from_be_bytes([spec[1], spec[2]]));
        }
    }
    let mut h = TlsClientHello {
        offset,
        record_version: 0x0002,
        version,
        supported_versions: Vec::new(),
        sni: None,
        alpn: Vec::new(),
        cipher_suites,
        extensions: Vec::new(),
        groups: Vec::new(),
        ec_point_formats: Vec::new(),
        signature_algorithms: Vec::new(),
        ja3: String::new(),
        ja3_hash: String::new(),
        ja4: String::new(),
    };
    fingerprints(&mut h, None);
    Ok(h)
}

/// A ServerHello body.
pub(super) fn server_hello(body: &[u8], offset: u64) -> Result<TlsServerHello, Bad> {
    let mut r = Reader::new(body);
    let version = need(r.u16(), &r, "server version")?;
    let random = need(r.take_array::<32>(), &r, "random")?;
    // TLS 1.3 drafts before 22 dropped the session id and compression fields.
    let draft = (0x7f00..=0x7f15).contains(&version);
    if !draft {
        let sid = need(r.u8(), &r, "session id length")?;
        need(r.take(usize::from(sid)), &r, "session id")?;
    }
    let cipher_suite = need(r.u16(), &r, "cipher suite")?;
    if !draft {
        need(r.u8(), &r, "compression method")?;
    }
    let mut extensions = Vec::new();
    let mut selected_version = version;
    let mut alpn = None;
    if !r.is_empty() {
        let n = need(r.u16(), &r, "extensions length")?;
        let mut ex = need(r.sub(usize::from(n)), &r, "extensions")?;
        while !ex.is_empty() {
            let ty = need(ex.u16(), &ex, "extension type")?;
            let len = need(ex.u16(), &ex, "extension length")?;
            let data = need(ex.take(usize::from(len)), &ex, "extension data")?;
            extensions.push(ty);
            match ty {
                16 => alpn = alpn_list(data).first().map(|a| name(a)),
                43 => {
                    if let Some(v) = Reader::new(data).u16() {
                        selected_version = v;
                    }
                }
                _ => {}
            }
        }
    }
    let ja3s = fingerprint::ja3s(version, cipher_suite, &extensions);
    Ok(TlsServerHello {
        offset,
        version,
        selected_version,
        version_name: version_name(selected_version),
        cipher_suite,
        cipher_name: cipher_name(cipher_suite).map(str::to_string),
        weak_cipher: is_weak_cipher(cipher_suite),
        alpn,
        extensions,
        ja3s_hash: fingerprint::md5_hex(&ja3s),
        ja3s,
        hello_retry: *random == HRR_RANDOM,
    })
}
