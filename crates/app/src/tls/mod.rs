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

use serde::Serialize;
use tls_parser::{TlsCipherAu, TlsCipherEnc, TlsCipherKx, TlsCipherMac, TlsCipherSuite};

use crate::{Direction, Probe};

pub use fingerprint::is_grease;

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Parsing records.
    Records,
    /// Encrypted from here on.
    Encrypted,
    /// Not TLS (or too large): ignoring.
    Stopped,
    /// After a gap: waiting for a chunk that starts with a record header.
    Resync,
}

#[derive(Debug)]
struct Half {
    /// Partial record (header included).
    rec: Vec<u8>,
    /// Partial handshake message(s).
    hs: Vec<u8>,
    /// (position in `hs`, stream offset) of each record body appended to `hs`.
    hs_map: Vec<(usize, u64)>,
    /// Stream offset of the next byte not yet consumed (`rec` excluded).
    pos: u64,
    state: State,
    /// Nothing parsed yet (SSLv2 detection).
    first: bool,
    ended: bool,
    /// Finished its part of a TLS ≤ 1.2 full handshake.
    flight_done: bool,
    /// Version of the record that started the buffered handshake data.
    record_version: u16,
    /// Bytes that are not TLS were seen (and no record since).
    not_tls: bool,
}

impl Half {
    fn new() -> Self {
        Half {
            rec: Vec::new(),
            hs: Vec::new(),
            hs_map: Vec::new(),
            pos: 0,
            state: State::Records,
            first: true,
            ended: false,
            flight_done: false,
            record_version: 0,
            not_tls: false,
        }
    }

    fn finished(&self) -> bool {
        self.ended
            || self.flight_done
            || matches!(self.state, State::Encrypted | State::Stopped)
            || (self.not_tls && self.state == State::Resync)
    }
}

/// TLS handshake parser for both directions of one connection.
#[derive(Debug)]
pub struct TlsParser {
    client: Half,
    server: Half,
    /// The server selected TLS 1.3 (or a draft of it).
    tls13: bool,
}

impl Default for TlsParser {
    fn default() -> Self {
        Self::new()
    }
}

fn err(direction: Direction, offset: u64, kind: TlsErrorKind, out: &mut Vec<TlsEvent>) {
    out.push(TlsEvent::Error(TlsError {
        direction,
        offset,
        kind,
    }));
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

impl TlsParser {
    /// A parser for a new connection.
    pub fn new() -> Self {
        TlsParser {
            client: Half::new(),
            server: Half::new(),
            tls13: false,
        }
    }

    /// True once nothing more of interest can come in clear text (see the module docs).
    pub fn done(&self) -> bool {
        self.client.finished() && self.server.finished()
    }

    fn half(&mut self, dir: Direction) -> &mut Half {
        match dir {
            Direction::ToServer => &mut self.client,
            Direction::ToClient => &mut self.server,
        }
    }

    /// Bytes that are not TLS records: wait for a chunk that starts with a record header.
    fn not_tls(&mut self, dir: Direction) {
        let h = self.half(dir);
        h.state = State::Resync;
        h.not_tls = true;
        h.hs.clear();
        h.hs_map.clear();
    }

    /// Bytes missed in `dir`: partial record and handshake data are dropped and the direction
    /// waits for a chunk that starts with a record header.
    pub fn gap(&mut self, dir: Direction, missed: u64) {
        let h = self.half(dir);
        h.pos = h
            .pos
            .saturating_add(h.rec.len() as u64)
            .saturating_add(missed);
        h.rec.clear();
        h.hs.clear();
        h.hs_map.clear();
        h.first = false;
        if h.state == State::Records {
            h.state = State::Resync;
        }
    }

    /// The direction ended: an unfinished record or handshake message is reported as
    /// [`TlsErrorKind::Incomplete`].
    pub fn end(&mut self, dir: Direction, out: &mut Vec<TlsEvent>) {
        let h = self.half(dir);
        if h.ended {
            return;
        }
        h.ended = true;
        if h.state == State::Records && (!h.rec.is_empty() || !h.hs.is_empty()) {
            let offset = match h.hs_map.first() {
                Some((_, o)) if h.rec.is_empty() => *o,
                _ => h.pos,
            };
            err(dir, offset, TlsErrorKind::Incomplete, out);
        }
        h.rec.clear();
        h.hs.clear();
        h.hs_map.clear();
    }

    /// Bytes from `dir`'s stream.
    pub fn data(&mut self, dir: Direction, bytes: &[u8], out: &mut Vec<TlsEvent>) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let h = self.half(dir);
            match h.state {
                State::Encrypted | State::Stopped => {
                    h.pos = h.pos.saturating_add(rest.len() as u64);
                    return;
                }
                State::Resync => {
                    if plausible_record(rest) {
                        h.state = State::Records;
                        h.not_tls = false;
                    } else {
                        h.pos = h.pos.saturating_add(rest.len() as u64);
                        return;
                    }
                }
                State::Records => {}
            }
            let h = self.half(dir);
            if h.first && dir == Direction::ToServer && rest.first().is_some_and(|b| b & 0x80 != 0)
            {
                h.first = false;
                let used = self.sslv2(rest, out);
                let h = self.half(dir);
                h.pos = h.pos.saturating_add(used as u64);
                rest = rest.get(used..).unwrap_or_default();
                continue;
            }
            h.first = false;
            if h.rec.is_empty() {
                let used = self.records(dir, rest, out);
                let h = self.half(dir);
                h.pos = h.pos.saturating_add(used as u64);
                rest = rest.get(used..).unwrap_or_default();
                if h.state == State::Records {
                    // A partial record: keep it (its header was checked, so it is bounded).
                    h.rec.extend_from_slice(rest);
                    return;
                }
            } else {
                // Complete the buffered record.
                let h = self.half(dir);
                let have = h.rec.len();
                let need = if have < 5 {
                    5 - have
                } else {
                    let len = h
                        .rec
                        .get(3..)
                        .and_then(|b| b.first_chunk::<2>())
                        .map(|b| usize::from(u16::from_be_bytes(*b)))
                        .unwrap_or_default();
                    (5 + len).saturating_sub(have)
                };
                let take = need.min(rest.len());
                h.rec
                    .extend_from_slice(rest.get(..take).unwrap_or_default());
                rest = rest.get(take..).unwrap_or_default();
                if h.rec.len() < 5 || take < need {
                    continue;
                }
                if have < 5 {
                    // Header just completed: check it, then fetch the body.
                    if !plausible_record(&h.rec) {
                        let offset = h.pos;
                        h.pos = h.pos.saturating_add(h.rec.len() as u64);
                        h.rec.clear();
                        self.not_tls(dir);
                        err(dir, offset, TlsErrorKind::BadRecord, out);
                    }
                    continue;
                }
                let rec = std::mem::take(&mut h.rec);
                let used = self.records(dir, &rec, out);
                let h = self.half(dir);
                h.pos = h.pos.saturating_add(used as u64);
                let mut rec = rec;
                rec.clear();
                if h.rec.capacity() == 0 {
                    h.rec = rec;
                }
            }
        }
    }

    /// An SSLv2-format record at the start of the client's stream; returns bytes consumed
    /// (all of them when the record is incomplete, after buffering, or not SSLv2).
    fn sslv2(&mut self, bytes: &[u8], out: &mut Vec<TlsEvent>) -> usize {
        let len = match bytes {
            [h, l, ..] => usize::from(h & 0x7f) << 8 | usize::from(*l),
            _ => usize::MAX,
        };
        let Some(msg) = bytes.get(2..).and_then(|b| b.get(..len)) else {
            // Rare enough (a 2-byte header split across segments, or a hello split) to not be
            // worth reassembling: stop.
            self.client.state = State::Stopped;
            err(Direction::ToServer, 0, TlsErrorKind::BadRecord, out);
            return bytes.len();
        };
        match hello::sslv2_client_hello(msg, 0) {
            Ok(h) => out.push(TlsEvent::ClientHello(h)),
            Err((at, what)) => {
                err(
                    Direction::ToServer,
                    2u64.saturating_add(at as u64),
                    TlsErrorKind::BadHello(what),
                    out,
                );
            }
        }
        len.saturating_add(2)
    }

    /// Parses complete records from `buf`; returns bytes consumed. Stops at the first
    /// incomplete record or when the state leaves `Records`.
    fn records(&mut self, dir: Direction, buf: &[u8], out: &mut Vec<TlsEvent>) -> usize {
        let mut used = 0usize;
        loop {
            if self.half(dir).state != State::Records {
                return used;
            }
            let Some(rest) = buf.get(used..) else {
                return used;
            };
            let offset = self.half(dir).pos.saturating_add(used as u64);
            let [ty, vhi, vlo, hi, lo] = match rest.first_chunk::<5>() {
                Some(h) => *h,
                None => {
                    if !plausible_prefix(rest) {
                        self.not_tls(dir);
                        err(dir, offset, TlsErrorKind::BadRecord, out);
                    }
                    return used;
                }
            };
            if !plausible_record(rest) {
                self.not_tls(dir);
                err(dir, offset, TlsErrorKind::BadRecord, out);
                return used;
            }
            let len = usize::from(u16::from_be_bytes([hi, lo]));
            let Some(body) = rest.get(5..5 + len) else {
                return used;
            };
            used = used.saturating_add(5 + len);
            self.record(dir, offset, ty, u16::from_be_bytes([vhi, vlo]), body, out);
        }
    }

    fn record(
        &mut self,
        dir: Direction,
        offset: u64,
        ty: u8,
        version: u16,
        body: &[u8],
        out: &mut Vec<TlsEvent>,
    ) {
        match ty {
            // TLS 1.3 (RFC 8446 §5): a change_cipher_spec record is a middlebox-compatibility
            // leftover, dropped; application data marks the encryption.
            20 if self.tls13 => {}
            20 | 23 => self.half(dir).state = State::Encrypted,
            21 => match body {
                [level @ (1 | 2), description] => out.push(TlsEvent::Alert(TlsAlert {
                    offset,
                    direction: dir,
                    level: *level,
                    description: *description,
                })),
                _ => self.half(dir).state = State::Encrypted,
            },
            22 => {
                let h = self.half(dir);
                if h.hs.is_empty() {
                    h.record_version = version;
                }
                self.handshake(dir, offset.saturating_add(5), body, out)
            }
            _ => {} // heartbeat
        }
    }

    /// Handshake record body at stream offset `offset`.
    fn handshake(&mut self, dir: Direction, offset: u64, body: &[u8], out: &mut Vec<TlsEvent>) {
        let h = self.half(dir);
        if h.hs.is_empty() {
            let used = self.messages(dir, body, &[(0, offset)], out);
            let h = self.half(dir);
            if h.state == State::Records {
                if let Some(rest) = body.get(used..).filter(|r| !r.is_empty()) {
                    h.hs.extend_from_slice(rest);
                    h.hs_map.push((0, offset.saturating_add(used as u64)));
                }
            }
            return;
        }
        if h.hs.len().saturating_add(body.len()) > MAX_HANDSHAKE {
            let at = h.hs_map.first().map(|(_, o)| *o).unwrap_or(offset);
            h.hs.clear();
            h.hs_map.clear();
            h.state = State::Stopped;
            err(dir, at, TlsErrorKind::HandshakeTooLarge, out);
            return;
        }
        h.hs_map.push((h.hs.len(), offset));
        h.hs.extend_from_slice(body);
        let hs = std::mem::take(&mut h.hs);
        let map = std::mem::take(&mut h.hs_map);
        let used = self.messages(dir, &hs, &map, out);
        let h = self.half(dir);
        if h.state != State::Records || used >= hs.len() {
            let mut hs = hs;
            hs.clear();
            h.hs = hs;
            return;
        }
        let mut hs = hs;
        hs.drain(..used);
        h.hs = hs;
        h.hs_map = map
            .iter()
            .filter_map(|&(p, o)| {
                let end_ok = p >= used;
                end_ok.then(|| (p - used, o))
            })
            .collect();
        // The first kept byte may lie inside a record body that started before `used`.
        if h.hs_map.first().is_none_or(|(p, _)| *p != 0) {
            let o = stream_offset(&map, used);
            h.hs_map.insert(0, (0, o));
        }
    }

    /// Parses complete handshake messages; returns bytes consumed.
    fn messages(
        &mut self,
        dir: Direction,
        buf: &[u8],
        map: &[(usize, u64)],
        out: &mut Vec<TlsEvent>,
    ) -> usize {
        let mut used = 0usize;
        while let Some([ty, a, b, c]) = buf.get(used..).and_then(|r| r.first_chunk::<4>()).copied()
        {
            let len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
            let offset = stream_offset(map, used);
            if len.saturating_add(4) > MAX_HANDSHAKE {
                let h = self.half(dir);
                h.state = State::Stopped;
                h.hs.clear();
                h.hs_map.clear();
                err(dir, offset, TlsErrorKind::HandshakeTooLarge, out);
                return buf.len();
            }
            let Some(body) = buf.get(used + 4..used + 4 + len) else {
                return used;
            };
            used += 4 + len;
            self.message(dir, offset, ty, body, out);
            if self.half(dir).state != State::Records {
                return buf.len();
            }
        }
        used
    }

    fn message(
        &mut self,
        dir: Direction,
        offset: u64,
        ty: u8,
        body: &[u8],
        out: &mut Vec<TlsEvent>,
    ) {
        match (dir, ty) {
            (Direction::ToServer, 1) => {
                match hello::client_hello(body, offset, self.client.record_version) {
                    Ok(h) => out.push(TlsEvent::ClientHello(h)),
                    Err((at, what)) => err(
                        dir,
                        offset.saturating_add(4 + at as u64),
                        TlsErrorKind::BadHello(what),
                        out,
                    ),
                }
            }
            (Direction::ToClient, 2) => match hello::server_hello(body, offset) {
                Ok(h) => {
                    self.tls13 =
                        matches!(h.selected_version, 0x0304 | 0x7e01..=0x7e04 | 0x7f00..=0x7fff);
                    out.push(TlsEvent::ServerHello(h));
                }
                Err((at, what)) => err(
                    dir,
                    offset.saturating_add(4 + at as u64),
                    TlsErrorKind::BadHello(what),
                    out,
                ),
            },
            (_, 11) => self.certificates(dir, offset, body, out),
            (Direction::ToClient, 14) | (Direction::ToServer, 16) => {
                self.half(dir).flight_done = true;
            }
            _ => {}
        }
    }

    fn certificates(&mut self, dir: Direction, offset: u64, body: &[u8], out: &mut Vec<TlsEvent>) {
        let mut r = crate::reader::Reader::new(body);
        let u24 = |r: &mut crate::reader::Reader<'_>| {
            r.take_array::<3>()
                .map(|b| usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
        };
        let Some(mut list) = u24(&mut r).and_then(|n| r.sub(n)) else {
            err(dir, offset, TlsErrorKind::BadCertificateMessage, out);
            return;
        };
        let mut chain = Vec::new();
        while !list.is_empty() {
            let at = list.offset();
            let Some(der) = u24(&mut list).and_then(|n| list.take(n)) else {
                err(
                    dir,
                    offset.saturating_add(4 + at as u64),
                    TlsErrorKind::BadCertificateMessage,
                    out,
                );
                break;
            };
            match cert::certificate(der) {
                Some(c) => chain.push(c),
                None => err(
                    dir,
                    offset.saturating_add(4 + at as u64),
                    TlsErrorKind::BadCertificate,
                    out,
                ),
            }
        }
        out.push(TlsEvent::Certificates(TlsCertificates {
            offset,
            chain,
            direction: dir,
        }));
    }
}

/// Stream offset of position `p` of a handshake buffer described by `map`.
fn stream_offset(map: &[(usize, u64)], p: usize) -> u64 {
    match map.iter().rev().find(|(start, _)| *start <= p) {
        Some((start, o)) => o.saturating_add((p - start) as u64),
        None => p as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: Direction = Direction::ToServer;
    const S: Direction = Direction::ToClient;

    fn unhex(s: &str) -> Vec<u8> {
        let s: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
        s.chunks(2)
            .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
            .collect()
    }

    fn feed(p: &mut TlsParser, dir: Direction, chunks: &[&[u8]]) -> Vec<TlsEvent> {
        let mut out = Vec::new();
        for c in chunks {
            p.data(dir, c, &mut out);
        }
        out
    }

    fn client_hello(out: &[TlsEvent]) -> &TlsClientHello {
        out.iter()
            .find_map(|e| match e {
                TlsEvent::ClientHello(h) => Some(h),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no ClientHello in {out:?}"))
    }

    /// ClientHellos from FoxIO's JA4 repository (`pcap/*.pcap*`) with the JA4 values of their
    /// `python/test/testdata/*.json`, and the JA3 that tshark 4.0 computes for them.
    const FOXIO: [(&str, &str, &str); 4] = [
        (
            include_str!("testdata/foxio-tls12.clienthello.hex"),
            "t13d1715h2_5b57614c22b0_3d5424432f57",
            "579ccef312d18482fc42e2b822ca2430",
        ),
        (
            include_str!("testdata/foxio-tls-alpn-h2.clienthello.hex"),
            "t12d4605h2_85626a9a5f7f_aaf95bb78ec9",
            "3faa4ad39f690c4ef1c3160caa375465",
        ),
        (
            include_str!("testdata/foxio-tls-non-ascii-alpn.clienthello.hex"),
            "t13d151699_8daaf6152771_e5627efa2ab1",
            "1c258ebef8eee2dfa3df6d8d07285af9",
        ),
        (
            include_str!("testdata/foxio-badcurveball.clienthello.hex"),
            "t13d1615h2_46e7e9700bed_45f260be83e2",
            "66918128f1b9b03303d77c6f2eefd128",
        ),
    ];

    #[test]
    fn foxio_ja4_and_tshark_ja3() {
        for (hex, ja4, ja3) in FOXIO {
            let rec = unhex(hex);
            let mut p = TlsParser::new();
            let out = feed(&mut p, C, &[&rec]);
            assert_eq!(out.len(), 1, "{out:?}");
            let h = client_hello(&out);
            assert_eq!(h.ja4, ja4);
            assert_eq!(h.ja3_hash, ja3, "{}", h.ja3);
            assert_eq!((h.offset, h.record_version), (5, 0x0301));
        }
        let h = client_hello(&feed(&mut TlsParser::new(), C, &[&unhex(FOXIO[0].0)])).clone();
        assert_eq!(h.sni.as_deref(), Some("contile.services.mozilla.com"));
        assert_eq!(h.alpn, ["h2", "http/1.1"]);
        assert_eq!(h.supported_versions, [0x0304, 0x0303]);
        assert_eq!(h.ja3, "771,4865-4867-4866-49195-49199-52393-52392-49196-49200-49162-49161-49171-49172-156-157-47-53,0-23-65281-10-11-35-16-5-34-51-43-13-45-28-21,29-23-24-25-256-257,0");
    }

    #[test]
    fn record_split_at_every_offset_and_byte_by_byte() {
        let rec = unhex(FOXIO[1].0);
        let want = client_hello(&feed(&mut TlsParser::new(), C, &[&rec])).clone();
        for cut in 0..rec.len() {
            let mut p = TlsParser::new();
            let out = feed(&mut p, C, &[&rec[..cut], &rec[cut..]]);
            assert_eq!(out, [TlsEvent::ClientHello(want.clone())], "cut {cut}");
        }
        let chunks: Vec<&[u8]> = rec.chunks(1).collect();
        let out = feed(&mut TlsParser::new(), C, &chunks);
        assert_eq!(out, [TlsEvent::ClientHello(want)]);
    }

    /// Re-frames a handshake byte string into records of the given body sizes.
    fn records(ty: u8, hs: &[u8], sizes: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = hs;
        let mut sizes = sizes.iter().copied().chain(std::iter::repeat(usize::MAX));
        while !rest.is_empty() {
            let n = sizes.next().unwrap().min(rest.len());
            out.extend_from_slice(&[ty, 3, 1]);
            out.extend_from_slice(&(n as u16).to_be_bytes());
            out.extend_from_slice(&rest[..n]);
            rest = &rest[n..];
        }
        out
    }

    #[test]
    fn client_hello_split_across_records() {
        let rec = unhex(FOXIO[0].0);
        let want = client_hello(&feed(&mut TlsParser::new(), C, &[&rec])).clone();
        let hs = &rec[5..];
        for sizes in [&[1usize][..], &[3, 1], &[4, 100, 7], &[200, 200], &[511]] {
            let bytes = records(22, hs, sizes);
            for chunk in [7usize, 64, 4096] {
                let mut p = TlsParser::new();
                let chunks: Vec<&[u8]> = bytes.chunks(chunk).collect();
                let out = feed(&mut p, C, &chunks);
                let got = client_hello(&out);
                assert_eq!(got.ja4, want.ja4);
                assert_eq!(got.ja3, want.ja3);
                assert_eq!(got.offset, 5, "{sizes:?}");
                assert_eq!(out.len(), 1);
            }
        }
        // Two messages in one record, the second split into the next record: offsets.
        let mut hs2 = hs.to_vec();
        hs2.extend_from_slice(hs);
        let bytes = records(22, &hs2, &[hs.len() + 10]);
        let out = feed(&mut TlsParser::new(), C, &[&bytes]);
        let offsets: Vec<u64> = out
            .iter()
            .map(|e| match e {
                TlsEvent::ClientHello(h) => h.offset,
                e => panic!("{e:?}"),
            })
            .collect();
        assert_eq!(offsets, [5, 5 + hs.len() as u64]);
    }

    #[test]
    fn truncation_at_every_offset_never_panics() {
        let rec = unhex(FOXIO[2].0);
        for cut in 0..=rec.len() {
            let mut p = TlsParser::new();
            let mut out = feed(&mut p, C, &[&rec[..cut]]);
            p.end(C, &mut out);
            let complete = cut == rec.len();
            assert_eq!(
                out.iter().any(|e| matches!(e, TlsEvent::ClientHello(_))),
                complete
            );
            if cut > 0 && !complete {
                assert!(
                    matches!(&out[..], [TlsEvent::Error(e)] if e.kind == TlsErrorKind::Incomplete),
                    "{cut}: {out:?}"
                );
            }
            // The body truncated inside a record of the right length: a malformed hello.
            let mut short = rec[..cut.max(9)].to_vec();
            let body_len = short.len() - 5;
            short[3..5].copy_from_slice(&(body_len as u16).to_be_bytes());
            short[6..9].copy_from_slice(&[0, ((body_len - 4) >> 8) as u8, (body_len - 4) as u8]);
            let mut p = TlsParser::new();
            let _ = feed(&mut p, C, &[&short]);
        }
    }

    fn server_hello_body() -> Vec<u8> {
        let mut b = vec![3, 3];
        b.extend_from_slice(&[7; 32]);
        b.extend_from_slice(&[0, 0xc0, 0x2b, 0]);
        let exts: &[u8] = &[0xff, 0x01, 0, 1, 0, 0x00, 0x10, 0, 5, 0, 3, 2, b'h', b'2'];
        b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        b.extend_from_slice(exts);
        b
    }

    fn handshake(ty: u8, body: &[u8]) -> Vec<u8> {
        let n = body.len();
        let mut m = vec![ty, (n >> 16) as u8, (n >> 8) as u8, n as u8];
        m.extend_from_slice(body);
        m
    }

    fn certificate_msg(ders: &[&[u8]]) -> Vec<u8> {
        let mut list = Vec::new();
        for d in ders {
            let n = d.len();
            list.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
            list.extend_from_slice(d);
        }
        let n = list.len();
        let mut body = vec![(n >> 16) as u8, (n >> 8) as u8, n as u8];
        body.extend_from_slice(&list);
        handshake(11, &body)
    }

    #[test]
    fn server_flight_hello_certificates_done() {
        let der = unhex(include_str!("testdata/pantz-ecdsa.der.hex"));
        let mut flight = handshake(2, &server_hello_body());
        let sh_len = flight.len();
        flight.extend_from_slice(&certificate_msg(&[&der, b"not a certificate", &der]));
        flight.extend_from_slice(&handshake(14, &[]));
        let bytes = records(22, &flight, &[sh_len + 100, 300]);
        let mut p = TlsParser::new();
        let out = feed(&mut p, S, &[&bytes[..50], &bytes[50..]]);
        assert_eq!(out.len(), 3, "{out:?}");
        let TlsEvent::ServerHello(sh) = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!(sh.ja3s, "771,49195,65281-16");
        assert_eq!(sh.ja3s_hash, fingerprint::md5_hex("771,49195,65281-16"));
        assert_eq!(sh.alpn.as_deref(), Some("h2"));
        assert_eq!(
            (sh.selected_version, sh.version_name, sh.weak_cipher),
            (0x0303, "TLS 1.2", false)
        );
        assert_eq!(
            sh.cipher_name.as_deref(),
            Some("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")
        );
        let TlsEvent::Error(e) = &out[1] else {
            panic!("{out:?}")
        };
        assert_eq!(e.kind, TlsErrorKind::BadCertificate);
        let TlsEvent::Certificates(c) = &out[2] else {
            panic!("{out:?}")
        };
        assert_eq!(c.offset, 5 + sh_len as u64);
        assert_eq!(c.chain.len(), 2);
        // Zeek's x509.log for this certificate (scripts.base.protocols.ssl.ecdsa).
        let x = &c.chain[0];
        assert_eq!(
            x.sha256,
            "11db6d4f6e4df14cec874b9d4a306c64c282dacbd479788ee0510b2c99382dc4"
        );
        assert_eq!(x.serial, "F0AFBBF558BF4D1B71FED9CB33793EE4");
        assert_eq!(
            x.subject,
            "CN=pantz.org,OU=PositiveSSL,OU=Domain Control Validated"
        );
        assert_eq!(x.issuer, "CN=COMODO ECC Domain Validation Secure Server CA,O=COMODO CA Limited,L=Salford,ST=Greater Manchester,C=GB");
        assert_eq!(
            (x.not_before_unix, x.not_after_unix),
            (1415404800, 1573171199)
        );
        assert_eq!(x.not_before, "2014-11-08T00:00:00Z");
        assert_eq!(x.signature_algorithm, "ecdsa-with-SHA256");
        assert_eq!((x.key_type.as_str(), x.key_bits), ("ecdsa", Some(384)));
        assert_eq!(x.curve.as_deref(), Some("secp384r1"));
        assert_eq!(x.key_alg, "id-ecPublicKey");
        assert_eq!(x.san_dns, ["pantz.org", "www.pantz.org"]);
        assert_eq!((x.version, x.self_signed), (3, false));
        assert!(!p.done());
        let out = feed(&mut p, C, &[&records(22, &handshake(16, &[0; 33]), &[])]);
        assert!(out.is_empty());
        assert!(p.done());
    }

    #[test]
    fn alert_ccs_and_encryption() {
        let mut p = TlsParser::new();
        let out = feed(
            &mut p,
            S,
            &[
                &[21, 3, 3, 0, 2, 2, 40],
                &[20, 3, 3, 0, 1, 1, 22, 3, 3, 0, 1, 0xff],
            ],
        );
        assert_eq!(
            out,
            [TlsEvent::Alert(TlsAlert {
                offset: 0,
                direction: S,
                level: 2,
                description: 40
            })]
        );
        let out = feed(
            &mut p,
            C,
            &[&[23, 3, 3, 0, 3, 1, 2, 3], b"GET / HTTP/1.1\r\n"],
        );
        assert!(out.is_empty());
        assert!(p.done());
        // Not TLS: an error, then TLS is picked up at the next chunk that starts a record
        // (STARTTLS); in between the direction counts as finished.
        let mut p = TlsParser::new();
        let out = feed(&mut p, C, &[b"EHLO x\r\nSTARTTLS\r\n"]);
        assert!(matches!(&out[..], [TlsEvent::Error(e)] if e.kind == TlsErrorKind::BadRecord));
        let out = feed(&mut p, S, &[b"220 2.0.0 Ready to start TLS\r\n"]);
        assert_eq!(out.len(), 1);
        assert!(p.done());
        let out = feed(&mut p, C, &[b"more text\r\n", &unhex(FOXIO[0].0)]);
        assert_eq!(client_hello(&out).offset, 34);
        assert!(!p.done());
        // A gap resynchronises on the next record.
        p = TlsParser::new();
        let rec = unhex(FOXIO[0].0);
        let mut out = feed(&mut p, C, &[&rec[..100]]);
        p.gap(C, 50);
        p.data(C, &rec[200..300], &mut out);
        p.data(C, &rec, &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(client_hello(&out).offset, 100 + 50 + 100 + 5);
    }

    #[test]
    fn grease_is_kept_raw_and_ignored_by_fingerprints() {
        let mut body = vec![3, 3];
        body.extend_from_slice(&[0; 32]);
        body.push(0);
        body.extend_from_slice(&[0, 6, 0x3a, 0x3a, 0x13, 0x01, 0x00, 0x2f]);
        body.extend_from_slice(&[1, 0]);
        let exts: &[u8] = &[
            0x8a, 0x8a, 0, 0, // GREASE extension
            0, 10, 0, 6, 0, 4, 0xfa, 0xfa, 0, 29, // groups: GREASE, x25519
            0, 43, 0, 5, 4, 0x6a, 0x6a, 3, 4, // versions: GREASE, 1.3
            0, 13, 0, 6, 0, 4, 0x0a, 0x0a, 4, 3, // sigalgs: GREASE, 0x0403
        ];
        body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        body.extend_from_slice(exts);
        let out = feed(
            &mut TlsParser::new(),
            C,
            &[&records(22, &handshake(1, &body), &[])],
        );
        let h = client_hello(&out);
        assert_eq!(h.cipher_suites, [0x3a3a, 0x1301, 0x002f]);
        assert_eq!(h.extensions, [0x8a8a, 10, 43, 13]);
        assert_eq!(h.supported_versions, [0x6a6a, 0x0304]);
        assert_eq!(h.ja3, "771,4865-47,10-43-13,29,");
        assert!(h.ja4.starts_with("t13i020300_"), "{}", h.ja4);
        let sig_only = fingerprint::ja4(&fingerprint::Ja4Input {
            transport: 't',
            version: 0x0303,
            supported_versions: &[0x0304],
            ciphers: &[0x1301, 0x002f],
            extensions: &[10, 43, 13],
            signature_algorithms: &[0x0403],
            first_alpn: None,
        });
        assert_eq!(h.ja4, sig_only);
    }

    #[test]
    fn sslv2_client_hello() {
        // SSLv2 CLIENT-HELLO, version 3.1, three specs (two SSLv2-only, one TLS 0x000a).
        let mut msg = vec![1, 3, 1, 0, 9, 0, 0, 0, 16];
        msg.extend_from_slice(&[0x07, 0x00, 0xc0, 0x00, 0x00, 0x0a, 0x01, 0x00, 0x80]);
        msg.extend_from_slice(&[0xaa; 16]);
        let mut rec = vec![0x80 | (msg.len() >> 8) as u8, msg.len() as u8];
        rec.extend_from_slice(&msg);
        assert_eq!(probe(C, &rec), Probe::Match);
        let out = feed(&mut TlsParser::new(), C, &[&rec]);
        let h = client_hello(&out);
        assert_eq!((h.record_version, h.version), (2, 0x0301));
        assert_eq!(h.cipher_suites, [0x000a]);
        assert_eq!(h.ja3, "769,10,,,");
        assert!(h.ja4.starts_with("t10i0100"));
    }

    #[test]
    fn probes() {
        let ch = unhex(FOXIO[0].0);
        assert_eq!(probe(C, &ch), Probe::Match);
        assert_eq!(probe(C, &ch[..11]), Probe::Match);
        for n in 0..11 {
            assert_eq!(probe(C, &ch[..n]), Probe::NeedMore, "{n}");
        }
        assert_eq!(probe(S, &ch), Probe::NoMatch);
        let sh = records(22, &handshake(2, &server_hello_body()), &[]);
        assert_eq!(probe(S, &sh), Probe::Match);
        assert_eq!(probe(C, &sh), Probe::NoMatch);
        assert_eq!(probe(C, b"GET / HTTP/1.1\r\n"), Probe::NoMatch);
        assert_eq!(probe(C, &[22, 3, 5]), Probe::NoMatch);
        assert_eq!(probe(C, &[22, 3, 1, 0xff, 0xff]), Probe::NoMatch);
        assert_eq!(
            probe(C, &[22, 3, 1, 0, 50, 1, 0, 0, 10, 3, 3]),
            Probe::NoMatch
        );
        assert_eq!(probe(C, &[0x80, 0x2e, 2]), Probe::NoMatch);
        assert_eq!(probe(S, &[0x80, 0x2e, 4]), Probe::NoMatch);
    }

    #[test]
    fn cipher_properties() {
        assert_eq!(cipher_name(0x1301), Some("TLS_AES_128_GCM_SHA256"));
        assert_eq!(cipher_name(0x0a0a), None);
        for weak in [
            0x0000, 0x0002, 0x0003, 0x0004, 0x0005, 0x000a, 0x0009, 0x0034, 0xc016,
        ] {
            assert!(is_weak_cipher(weak), "{weak:#06x} {:?}", cipher_name(weak));
        }
        for strong in [
            0x1301, 0x1302, 0x1303, 0xc02f, 0xc02b, 0xcca8, 0x009c, 0x002f, 0x00ff,
        ] {
            assert!(
                !is_weak_cipher(strong),
                "{strong:#06x} {:?}",
                cipher_name(strong)
            );
        }
        assert_eq!(version_name(0x0303), "TLS 1.2");
        assert_eq!(version_name(0x7f17), "TLS 1.3 draft");
        assert_eq!(version_name(0x1234), "unknown");
    }
}
