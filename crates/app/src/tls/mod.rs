//! TLS 1.0–1.3 handshakes (and the SSLv2-compatible ClientHello) over a reassembled stream:
//! hellos with JA3/JA3S/JA4, certificates (x509-parser), clear-text alerts.
//!
//! [`TlsParser`] takes both directions of one connection. Records are reassembled across
//! segments (at most one record, 2^14 + 2048 bytes, is buffered per direction) and handshake
//! messages across records (at most [`MAX_HANDSHAKE`] bytes per direction); complete records
//! and messages are parsed in place without copying.
//!
//! - **Hellos** are read with the crate's checked cursor (every extension kept in wire order,
//!   GREASE included; the fingerprints drop GREASE) — see [`TlsClientHello`] and
//!   [`TlsServerHello`]. Cipher names and properties come from tls-parser's IANA table.
//! - **Certificates**: each DER certificate of a Certificate message is parsed with
//!   x509-parser; one that does not parse yields [`TlsErrorKind::BadCertificate`] and the chain
//!   goes on without it. Subject and issuer are printed as OpenSSL's RFC 2253 form (what Zeek's
//!   x509.log shows).
//! - **Alerts**: a two-byte alert record before encryption yields a [`TlsAlert`].
//! - **Encryption**: a direction stops at ChangeCipherSpec or at its first application-data
//!   record (TLS 1.3 encrypts everything after the ServerHello this way, and its
//!   compatibility ChangeCipherSpec is ignored, so a second ClientHello after a
//!   HelloRetryRequest is still seen); later bytes are counted and ignored.
//! - **Errors**: a record header with an unknown content type, a version other than 3.x or a
//!   length above 2^14 + 2048 means these bytes are not TLS: an error, then the direction
//!   waits for a chunk that starts with a plausible record header, as after a gap (this also
//!   picks up TLS that starts after a clear-text prelude: STARTTLS, RDP, FTP `AUTH TLS`, when
//!   the whole stream is fed). A malformed hello is reported and skipped. A handshake message
//!   larger than [`MAX_HANDSHAKE`] is reported and the direction stops.
//! - **Gaps**: buffered partial records and messages are dropped; the direction resumes at the
//!   start of the next chunk that begins with a plausible record header.
//!
//! [`TlsParser::done`] turns true when neither side can send anything of interest in clear:
//! each side has gone encrypted, stopped, ended or shown non-TLS bytes, or finished its part
//! of a TLS ≤ 1.2 full handshake (ServerHelloDone, ClientKeyExchange).

mod cert;
mod fingerprint;
mod hello;
mod parser;
#[cfg(test)]
mod tests;

use serde::Serialize;
use tls_parser::{TlsCipherAu, TlsCipherEnc, TlsCipherKx, TlsCipherMac, TlsCipherSuite};

use crate::{Direction, Probe};

pub use fingerprint::is_grease;
pub use parser::TlsParser;

/// Largest handshake message reassembled (bytes, header included).
pub const MAX_HANDSHAKE: usize = 64 * 1024;
/// Largest record body accepted (RFC 5246 §6.2.3: 2^14 + 2048).
pub const MAX_RECORD: usize = 16384 + 2048;

/// A ClientHello.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TlsClientHello {
    /// Offset of the handshake message (or SSLv2 record) in the client's stream.
    pub offset: u64,
    /// Version of the record that carried it (0x0002 for an SSLv2-format hello).
    pub record_version: u16,
    /// `legacy_version` of the hello.
    pub version: u16,
    /// supported_versions extension, wire order (GREASE included).
    pub supported_versions: Vec<u16>,
    /// First host_name of the server_name extension (lossy UTF-8, at most 255 bytes).
    pub sni: Option<String>,
    /// ALPN protocol names, in order.
    pub alpn: Vec<String>,
    /// Cipher suites, wire order (GREASE and signalling values included).
    pub cipher_suites: Vec<u16>,
    /// Extension types, wire order (GREASE included).
    pub extensions: Vec<u16>,
    /// supported_groups (elliptic_curves) extension, wire order.
    pub groups: Vec<u16>,
    /// ec_point_formats extension.
    pub ec_point_formats: Vec<u8>,
    /// signature_algorithms extension, wire order.
    pub signature_algorithms: Vec<u16>,
    /// JA3 string (`771,4865-4866,0-23,29-23,0`).
    pub ja3: String,
    /// MD5 of [`Self::ja3`], lower-case hex.
    pub ja3_hash: String,
    /// JA4 fingerprint (`t13d1516h2_8daaf6152771_e5627efa2ab1`).
    pub ja4: String,
}

/// A ServerHello (or HelloRetryRequest).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TlsServerHello {
    /// Offset of the handshake message in the server's stream.
    pub offset: u64,
    /// `legacy_version` of the hello.
    pub version: u16,
    /// supported_versions extension when present, else [`Self::version`].
    pub selected_version: u16,
    /// [`version_name`] of [`Self::selected_version`].
    pub version_name: &'static str,
    /// Chosen cipher suite.
    pub cipher_suite: u16,
    /// IANA name of the suite, when known.
    pub cipher_name: Option<String>,
    /// [`is_weak_cipher`] of the suite.
    pub weak_cipher: bool,
    /// Protocol chosen by ALPN.
    pub alpn: Option<String>,
    /// Extension types, wire order.
    pub extensions: Vec<u16>,
    /// JA3S string.
    pub ja3s: String,
    /// MD5 of [`Self::ja3s`], lower-case hex.
    pub ja3s_hash: String,
    /// True for a HelloRetryRequest (TLS 1.3 ServerHello with the special random).
    pub hello_retry: bool,
}

/// One certificate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TlsCertificate {
    /// Subject, RFC 2253 form as OpenSSL (and Zeek's x509.log) prints it:
    /// `CN=www.example.com,O=Example,C=US`.
    pub subject: String,
    /// Issuer, same form.
    pub issuer: String,
    /// Serial number, upper-case hex without leading zero bytes (as Zeek).
    pub serial: String,
    /// Start of validity, RFC 3339 UTC.
    pub not_before: String,
    /// End of validity, RFC 3339 UTC.
    pub not_after: String,
    /// Start of validity, Unix seconds.
    pub not_before_unix: i64,
    /// End of validity, Unix seconds.
    pub not_after_unix: i64,
    /// SHA-256 of the DER encoding, lower-case hex (Zeek's fingerprint).
    pub sha256: String,
    /// Signature algorithm, OpenSSL long name (`sha256WithRSAEncryption`) or dotted OID.
    pub signature_algorithm: String,
    /// `rsa`, `dsa`, `ecdsa`, `ed25519`, `ed448` or `unknown`.
    pub key_type: String,
    /// Key size in bits: RSA modulus, DSA p, EC curve degree.
    pub key_bits: Option<u32>,
    /// DNS names of the subjectAltName extension.
    pub san_dns: Vec<String>,
    /// Subject and issuer names are identical (byte for byte).
    pub self_signed: bool,
    /// Certificate version (1–3).
    pub version: u32,
    /// Public key algorithm, OpenSSL long name (`rsaEncryption`, `id-ecPublicKey`) or OID.
    pub key_alg: String,
    /// Named curve of an EC key (`prime256v1`).
    pub curve: Option<String>,
    /// IP addresses of the subjectAltName extension.
    pub san_ip: Vec<String>,
    /// basicConstraints cA, when the extension is present.
    pub basic_constraints_ca: Option<bool>,
}

/// A Certificate handshake message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TlsCertificates {
    /// Offset of the handshake message in the sender's stream.
    pub offset: u64,
    /// The certificates that parsed, in the order sent (leaf first).
    pub chain: Vec<TlsCertificate>,
    /// Who sent it (ToServer: a client certificate).
    pub direction: Direction,
}

/// A clear-text alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TlsAlert {
    /// Offset of the record in the sender's stream.
    pub offset: u64,
    /// Who sent it.
    pub direction: Direction,
    /// 1 warning, 2 fatal.
    pub level: u8,
    /// Alert description (RFC 8446 §6).
    pub description: u8,
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum TlsErrorKind {
    /// Record header not TLS (content type, version or length): the direction stops.
    #[error("invalid record header")]
    BadRecord,
    /// Handshake message larger than [`MAX_HANDSHAKE`]: the direction stops.
    #[error("handshake message larger than {MAX_HANDSHAKE} bytes")]
    HandshakeTooLarge,
    /// A hello that does not parse (the field is named): skipped.
    #[error("malformed hello: {0}")]
    BadHello(&'static str),
    /// A Certificate message whose framing does not parse: skipped.
    #[error("malformed certificate message")]
    BadCertificateMessage,
    /// A certificate that x509-parser rejects: left out of the chain.
    #[error("certificate does not parse")]
    BadCertificate,
    /// The stream ended inside a record or handshake message.
    #[error("stream ended inside a record")]
    Incomplete,
}

/// A parse error: where (offset in the direction's stream) and what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("tls {direction:?} at byte {offset}: {kind}")]
pub struct TlsError {
    /// Direction.
    pub direction: Direction,
    /// Byte offset in the direction's stream.
    pub offset: u64,
    /// What.
    pub kind: TlsErrorKind,
}

/// Output of the parser.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // a handful per connection
pub enum TlsEvent {
    /// A ClientHello.
    ClientHello(TlsClientHello),
    /// A ServerHello.
    ServerHello(TlsServerHello),
    /// A Certificate message.
    Certificates(TlsCertificates),
    /// A clear-text alert.
    Alert(TlsAlert),
    /// A problem.
    Error(TlsError),
}

/// Human name of a protocol version: `SSL 2.0`, `SSL 3.0`, `TLS 1.0`–`TLS 1.3`,
/// `TLS 1.3 draft` (0x7fxx), `TLS 1.3 experiment` (Chrome's 0x7e01–0x7e04), `DTLS 1.0`,
/// `DTLS 1.2`, `DTLS 1.3`, else `unknown`.
pub fn version_name(v: u16) -> &'static str {
    match v {
        0x0002 => "SSL 2.0",
        0x0300 => "SSL 3.0",
        0x0301 => "TLS 1.0",
        0x0302 => "TLS 1.1",
        0x0303 => "TLS 1.2",
        0x0304 => "TLS 1.3",
        0x7f00..=0x7fff => "TLS 1.3 draft",
        0x7e01..=0x7e04 => "TLS 1.3 experiment",
        0xfeff => "DTLS 1.0",
        0xfefd => "DTLS 1.2",
        0xfefc => "DTLS 1.3",
        _ => "unknown",
    }
}

/// IANA name of a cipher suite (tls-parser's table), e.g. `TLS_AES_128_GCM_SHA256`.
pub fn cipher_name(suite: u16) -> Option<&'static str> {
    TlsCipherSuite::from_id(suite).map(|c| c.name)
}

/// Whether a cipher suite is weak, decided from its properties in tls-parser's table: no
/// encryption (NULL), RC4, RC2, DES, 3DES, IDEA, an encryption key under 128 bits (EXPORT,
/// DES40), an MD5 MAC, no authentication (anon, except TLS 1.3 suites whose authentication is
/// separate), or EXPORT in the name. Signalling values (`*_SCSV`) and unknown suites are not
/// judged weak.
pub fn is_weak_cipher(suite: u16) -> bool {
    let Some(c) = TlsCipherSuite::from_id(suite) else {
        return false;
    };
    if c.name.ends_with("_SCSV") {
        return false;
    }
    matches!(
        c.enc,
        TlsCipherEnc::Null
            | TlsCipherEnc::Rc4
            | TlsCipherEnc::Rc2
            | TlsCipherEnc::Des
            | TlsCipherEnc::TripleDes
            | TlsCipherEnc::Idea
    ) || c.enc_size < 128
        || c.mac == TlsCipherMac::HmacMd5
        || (c.au == TlsCipherAu::Null && c.kx != TlsCipherKx::Tls13)
        || c.name.contains("EXPORT")
}

/// Judges the first bytes a direction sent: a handshake record (type 22, version 0x0300–0x0304,
/// length 4..=2^14+2048) carrying a ClientHello (to the server, body version 3.x) or a
/// ServerHello (to the client) whose length fits TLS limits; to the server an SSLv2-format
/// ClientHello (2-byte header with the high bit, type 1, version 0x0002 or 3.0–3.3) also
/// matches.
pub fn probe(dir: Direction, first: &[u8]) -> Probe {
    let want_type = match dir {
        Direction::ToServer => 1u8,
        Direction::ToClient => 2,
    };
    if dir == Direction::ToServer && first.first().is_some_and(|b| b & 0x80 != 0) {
        return match first {
            [h, l, 1, 0, 2, ..] | [h, l, 1, 3, 0..=3, ..]
                if (usize::from(h & 0x7f) << 8 | usize::from(*l)) >= 9 =>
            {
                Probe::Match
            }
            [_] | [_, _] | [_, _, 1] | [_, _, 1, 0 | 3] => Probe::NeedMore,
            _ => Probe::NoMatch,
        };
    }
    if !plausible_prefix(first) {
        return Probe::NoMatch;
    }
    let get = |i: usize| first.get(i).copied();
    if let (Some(hi), Some(lo)) = (get(3), get(4)) {
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        if len < 4 {
            return Probe::NoMatch;
        }
    }
    if get(5).is_some_and(|t| t != want_type) || get(6).is_some_and(|b| b != 0) {
        return Probe::NoMatch;
    }
    // Body version: 3.x (a draft TLS 1.3 server may say 0x7f).
    if get(9).is_some_and(|b| b != 3 && !(dir == Direction::ToClient && b == 0x7f)) {
        return Probe::NoMatch;
    }
    match (get(7), get(8), get(10)) {
        // The hello must at least hold its version and random.
        (Some(a), Some(b), Some(_)) if (usize::from(a) << 8 | usize::from(b)) >= 34 => Probe::Match,
        (Some(_), Some(_), Some(_)) => Probe::NoMatch,
        _ => Probe::NeedMore,
    }
}

/// The bytes present of `b` (up to 5) fit a record header.
fn plausible_prefix(b: &[u8]) -> bool {
    let ok = |i: usize, f: &dyn Fn(u8) -> bool| b.get(i).is_none_or(|&x| f(x));
    ok(0, &|t| (20..=24).contains(&t))
        && ok(1, &|v| v == 3)
        && ok(2, &|v| v <= 4)
        && match (b.get(3), b.get(4)) {
            (Some(&hi), Some(&lo)) => usize::from(u16::from_be_bytes([hi, lo])) <= MAX_RECORD,
            _ => true,
        }
}

/// A plausible TLS record header at the start of `b`.
fn plausible_record(b: &[u8]) -> bool {
    match b {
        [t, 3, v, hi, lo, ..] => {
            (20..=24).contains(t)
                && *v <= 4
                && usize::from(u16::from_be_bytes([*hi, *lo])) <= MAX_RECORD
        }
        _ => false,
    }
}
