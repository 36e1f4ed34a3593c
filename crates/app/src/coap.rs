//! CoAP over UDP (RFC 7252, with RFC 7641 Observe, RFC 7959 Block, RFC 8132 FETCH/PATCH)
//! and recognition of DTLS records (RFC 6347, RFC 9147) for CoAPS on port 5684.
//!
//! [`parse`] reads the 4-byte header, the token, every option (delta/length nibbles with
//! their 1- and 2-byte extensions) and the payload marker. Options are decoded for the URI
//! (Uri-Host, Uri-Port, Uri-Path joined as `/a/b`, Uri-Query), Content-Format, Accept,
//! Observe, Location-Path and Block1/Block2; all option numbers are listed. Text options are
//! escaped like DNS names (see [`crate::dns`]).
//!
//! Policy on bad input (RFC 7252 §3, "message format error"): version other than 1, token
//! length 9–15, an option nibble of 15 that is not the payload marker, an option running past
//! the datagram, a payload marker with no payload after it, or an empty message (0.00) with a
//! token or options is an error with the byte offset and kind. Codes in classes 1, 3, 6 and 7
//! parse (class 7 is signaling, used over TCP only) but [`probe`] refuses them.
//!
//! DTLS: [`parse_dtls`] walks the records of a datagram (13-byte DTLS 1.0/1.2 headers, and
//! DTLS 1.3 unified headers) and describes the first one.

use std::fmt::Write as _;

use serde::Serialize;

use crate::reader::Reader;
use crate::text::push_escaped;

/// CoAP fixed header length.
pub const HEADER_LEN: usize = 4;
/// Option numbers kept in [`CoapMessage::options`].
pub const MAX_OPTIONS: usize = 64;
/// DTLS 1.0/1.2 record header length.
pub const DTLS_HEADER_LEN: usize = 13;
/// Smallest DTLS 1.3 encrypted record body: the inner content type and the shortest AEAD tag
/// (8 bytes, AES-CCM-8).
pub const MIN_CIPHERTEXT: usize = 9;

/// One CoAP message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CoapMessage {
    /// "CON", "NON", "ACK" or "RST".
    pub mtype: &'static str,
    /// Code as "c.dd" (e.g. "0.01", "2.05").
    pub code: String,
    /// Name of the code ("GET", "Content", "Not Found"…; "Empty" for 0.00).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code_name: Option<&'static str>,
    /// Message ID.
    pub message_id: u16,
    /// Token, lower-case hex ("" when empty).
    pub token: String,
    /// Uri-Host (3).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri_host: Option<String>,
    /// Uri-Port (7).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri_port: Option<u16>,
    /// Uri-Path (11) segments joined as "/a/b"; `None` when absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri_path: Option<String>,
    /// Uri-Query (15) values in order.
    pub uri_query: Vec<String>,
    /// Location-Path (8) segments joined as "/a/b".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location_path: Option<String>,
    /// Content-Format (12).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_format: Option<u16>,
    /// Accept (17).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub accept: Option<u16>,
    /// Observe (6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observe: Option<u32>,
    /// Block2 (23) value (NUM << 4 | M << 3 | SZX).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block2: Option<u32>,
    /// Block1 (27) value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block1: Option<u32>,
    /// Option numbers in order (first [`MAX_OPTIONS`]).
    pub options: Vec<u16>,
    /// Payload length (after the 0xFF marker).
    pub payload_len: usize,
}

/// One DTLS datagram, described by its first record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DtlsRecord {
    /// "change_cipher_spec", "alert", "handshake", "application_data", "heartbeat",
    /// "tls12_cid", "ack"; "ciphertext" for a DTLS 1.3 unified-header record.
    pub content_type: &'static str,
    /// "DTLS 1.0" (0xfeff), "DTLS 1.2" (0xfefd), "DTLS 1.3" (0xfefc, or a unified header).
    pub version: &'static str,
    /// Epoch (DTLS 1.3 unified header: its two low bits).
    pub epoch: u16,
    /// Sequence number (48 bits; DTLS 1.3 unified header: the 8 or 16 bits sent, which are
    /// encrypted).
    pub sequence: u64,
    /// Records in the datagram.
    pub records: usize,
    /// Handshake message type of the first record, when it is a plaintext handshake
    /// (epoch 0, type 22): "client_hello", "server_hello", "hello_verify_request"…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshake_type: Option<&'static str>,
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum CoapErrorKind {
    /// Shorter than the header, or the token runs past the datagram.
    #[error("message truncated")]
    Truncated,
    /// Version other than 1.
    #[error("unsupported version")]
    BadVersion,
    /// Token length 9–15.
    #[error("reserved token length")]
    BadTokenLength,
    /// Option nibble 15 outside the payload marker.
    #[error("reserved option nibble")]
    BadOption,
    /// An option's extension bytes or value run past the datagram.
    #[error("option truncated")]
    OptionTruncated,
    /// Payload marker followed by no payload.
    #[error("payload marker without payload")]
    EmptyPayload,
    /// Empty message (0.00) with a token, options or payload.
    #[error("empty message with content")]
    BadEmpty,
    /// DTLS: not a record header (content type, version).
    #[error("not a dtls record")]
    NotDtls,
    /// DTLS: a record runs past the datagram.
    #[error("dtls record truncated")]
    DtlsTruncated,
}

/// A parse error: byte offset in the datagram and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("coap at byte {offset}: {kind}")]
pub struct CoapError {
    /// Byte offset.
    pub offset: usize,
    /// What.
    pub kind: CoapErrorKind,
}

fn err(offset: usize, kind: CoapErrorKind) -> CoapError {
    CoapError { offset, kind }
}

/// Name of a message type (2 bits).
pub fn type_name(t: u8) -> &'static str {
    match t & 3 {
        0 => "CON",
        1 => "NON",
        2 => "ACK",
        _ => "RST",
    }
}

/// Name of a code byte (class << 5 | detail).
pub fn code_name(code: u8) -> Option<&'static str> {
    Some(match (code >> 5, code & 0x1f) {
        (0, 0) => "Empty",
        (0, 1) => "GET",
        (0, 2) => "POST",
        (0, 3) => "PUT",
        (0, 4) => "DELETE",
        (0, 5) => "FETCH",
        (0, 6) => "PATCH",
        (0, 7) => "iPATCH",
        (2, 1) => "Created",
        (2, 2) => "Deleted",
        (2, 3) => "Valid",
        (2, 4) => "Changed",
        (2, 5) => "Content",
        (2, 31) => "Continue",
        (4, 0) => "Bad Request",
        (4, 1) => "Unauthorized",
        (4, 2) => "Bad Option",
        (4, 3) => "Forbidden",
        (4, 4) => "Not Found",
        (4, 5) => "Method Not Allowed",
        (4, 6) => "Not Acceptable",
        (4, 8) => "Request Entity Incomplete",
        (4, 9) => "Conflict",
        (4, 12) => "Precondition Failed",
        (4, 13) => "Request Entity Too Large",
        (4, 15) => "Unsupported Content-Format",
        (4, 22) => "Unprocessable Entity",
        (4, 29) => "Too Many Requests",
        (5, 0) => "Internal Server Error",
        (5, 1) => "Not Implemented",
        (5, 2) => "Bad Gateway",
        (5, 3) => "Service Unavailable",
        (5, 4) => "Gateway Timeout",
        (5, 5) => "Proxying Not Supported",
        (5, 8) => "Hop Limit Reached",
        _ => return None,
    })
}

/// An option's extended delta or length: nibble 13 → +1 byte, 14 → +2 bytes.
fn extended(r: &mut Reader<'_>, nibble: u8, at: usize) -> Result<u32, CoapError> {
    match nibble {
        0..=12 => Ok(u32::from(nibble)),
        13 => r
            .u8()
            .map(|b| u32::from(b) + 13)
            .ok_or(err(at, CoapErrorKind::OptionTruncated)),
        14 => r
            .u16()
            .map(|v| u32::from(v) + 269)
            .ok_or(err(at, CoapErrorKind::OptionTruncated)),
        _ => Err(err(at, CoapErrorKind::BadOption)),
    }
}

/// Unsigned option value (RFC 7252 §3.2: big-endian, leading zeros may be dropped).
fn uint(v: &[u8]) -> Option<u32> {
    (v.len() <= 4).then(|| v.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b)))
}

fn text(v: &[u8]) -> String {
    let mut s = String::new();
    push_escaped(&mut s, v);
    s
}

fn join_path(segments: &[String]) -> Option<String> {
    (!segments.is_empty()).then(|| {
        let mut s = String::new();
        for seg in segments {
            s.push('/');
            s.push_str(seg);
        }
        s
    })
}

/// The fixed part of a well-formed message, as [`walk`] finds it.
struct Walked<'a> {
    first: u8,
    code: u8,
    message_id: u16,
    token: &'a [u8],
    payload_len: usize,
}

/// Checks the whole message — header, token, every option and the payload marker — and shows
/// each option (number, value) to `option`, in order: the one reading of the format that
/// [`parse`] and [`probe`] share, allocating nothing.
fn walk<'a>(
    payload: &'a [u8],
    mut option: impl FnMut(u32, &'a [u8]),
) -> Result<Walked<'a>, CoapError> {
    let mut r = Reader::new(payload);
    let (Some(first), Some(code), Some(message_id)) = (r.u8(), r.u8(), r.u16()) else {
        return Err(err(payload.len(), CoapErrorKind::Truncated));
    };
    if first >> 6 != 1 {
        return Err(err(0, CoapErrorKind::BadVersion));
    }
    let tkl = first & 0x0f;
    if tkl > 8 {
        return Err(err(0, CoapErrorKind::BadTokenLength));
    }
    let token = r
        .take(usize::from(tkl))
        .ok_or(err(HEADER_LEN, CoapErrorKind::Truncated))?;
    let mut payload_len = 0;
    let mut number: u32 = 0;
    while !r.is_empty() {
        let at = r.offset();
        let byte = r.u8().ok_or(err(at, CoapErrorKind::OptionTruncated))?;
        if byte == 0xff {
            payload_len = r.left();
            if payload_len == 0 {
                return Err(err(at, CoapErrorKind::EmptyPayload));
            }
            break;
        }
        let delta = extended(&mut r, byte >> 4, at)?;
        let len = extended(&mut r, byte & 0x0f, at)?;
        number = number.saturating_add(delta);
        let value = r
            .take(len as usize)
            .ok_or(err(at, CoapErrorKind::OptionTruncated))?;
        option(number, value);
    }
    if code == 0 && (tkl != 0 || payload.len() != HEADER_LEN) {
        return Err(err(HEADER_LEN, CoapErrorKind::BadEmpty));
    }
    Ok(Walked {
        first,
        code,
        message_id,
        token,
        payload_len,
    })
}

/// Parses one CoAP message (a UDP payload).
pub fn parse(payload: &[u8]) -> Result<CoapMessage, CoapError> {
    let mut m = CoapMessage {
        mtype: "",
        code: String::new(),
        code_name: None,
        message_id: 0,
        token: String::new(),
        uri_host: None,
        uri_port: None,
        uri_path: None,
        uri_query: Vec::new(),
        location_path: None,
        content_format: None,
        accept: None,
        observe: None,
        block2: None,
        block1: None,
        options: Vec::new(),
        payload_len: 0,
    };
    let mut path = Vec::new();
    let mut location = Vec::new();
    let w = walk(payload, |number, value| {
        let n = u16::try_from(number).unwrap_or(u16::MAX);
        if m.options.len() < MAX_OPTIONS {
            m.options.push(n);
        }
        match n {
            3 => m.uri_host = Some(text(value)),
            6 => m.observe = uint(value),
            7 => m.uri_port = uint(value).and_then(|v| u16::try_from(v).ok()),
            8 => location.push(text(value)),
            11 => path.push(text(value)),
            12 => m.content_format = uint(value).and_then(|v| u16::try_from(v).ok()),
            15 => m.uri_query.push(text(value)),
            17 => m.accept = uint(value).and_then(|v| u16::try_from(v).ok()),
            23 => m.block2 = uint(value),
            27 => m.block1 = uint(value),
            _ => {}
        }
    })?;
    m.mtype = type_name(w.first >> 4);
    m.code = format!("{}.{:02}", w.code >> 5, w.code & 0x1f);
    m.code_name = code_name(w.code);
    m.message_id = w.message_id;
    for b in w.token {
        let _ = write!(m.token, "{b:02x}");
    }
    m.payload_len = w.payload_len;
    m.uri_path = join_path(&path);
    m.location_path = join_path(&location);
    Ok(m)
}

/// Whether a well-formed message ([`probe`]) comes from a server: its code is not a request's
/// (class other than 0), or it is an ACK or RST, as [`parse`]'s `code` and `mtype` say.
pub fn from_server(payload: &[u8]) -> bool {
    let (first, code) = (
        payload.first().copied().unwrap_or(0),
        payload.get(1).copied().unwrap_or(0),
    );
    code >> 5 != 0 || matches!(type_name(first >> 4), "ACK" | "RST")
}

/// True when `payload` is a well-formed CoAP message with version 1, a token of at most 8
/// bytes, a code of class 0 (detail ≤ 7), 2, 4 or 5, and options that parse to the end or to
/// the payload marker.
pub fn probe(payload: &[u8]) -> bool {
    let Some(&code) = payload.get(1) else {
        return false;
    };
    let (class, detail) = (code >> 5, code & 0x1f);
    let class_ok = match class {
        0 => detail <= 7,
        2 | 4 | 5 => true,
        _ => false,
    };
    class_ok && walk(payload, |_, _| {}).is_ok()
}

// ---------------------------------------------------------------- DTLS

fn content_type_name(t: u8) -> Option<&'static str> {
    Some(match t {
        20 => "change_cipher_spec",
        21 => "alert",
        22 => "handshake",
        23 => "application_data",
        24 => "heartbeat",
        25 => "tls12_cid",
        26 => "ack",
        _ => return None,
    })
}

fn dtls_version_name(v: u16) -> Option<&'static str> {
    Some(match v {
        0xfeff => "DTLS 1.0",
        0xfefd => "DTLS 1.2",
        0xfefc => "DTLS 1.3",
        _ => return None,
    })
}

/// Name of a handshake message type.
pub fn handshake_name(t: u8) -> Option<&'static str> {
    Some(match t {
        0 => "hello_request",
        1 => "client_hello",
        2 => "server_hello",
        3 => "hello_verify_request",
        4 => "new_session_ticket",
        5 => "end_of_early_data",
        6 => "hello_retry_request",
        8 => "encrypted_extensions",
        11 => "certificate",
        12 => "server_key_exchange",
        13 => "certificate_request",
        14 => "server_hello_done",
        15 => "certificate_verify",
        16 => "client_key_exchange",
        20 => "finished",
        24 => "key_update",
        _ => return None,
    })
}

/// True when `payload` starts with a DTLS record header: content type 20–25, version
/// 0xfeff, 0xfefd or 0xfefc, and a length that fits the datagram.
pub fn probe_dtls(payload: &[u8]) -> bool {
    let mut r = Reader::new(payload);
    let (Some(t), Some(v)) = (r.u8(), r.u16()) else {
        return false;
    };
    let (Some(_), Some(_), Some(len)) = (r.u16(), r.take(6), r.u16()) else {
        return false;
    };
    (20..=25).contains(&t) && dtls_version_name(v).is_some() && usize::from(len) <= r.left()
}

/// Parses the records of one DTLS datagram; the first one is described, all are counted.
/// A DTLS 1.3 unified header with a connection id (whose length is negotiated, not sent) is
/// taken to extend to the end of the datagram; a unified-header record shorter than
/// [`MIN_CIPHERTEXT`] bytes (plus one for a connection id) is an error.
pub fn parse_dtls(payload: &[u8]) -> Result<DtlsRecord, CoapError> {
    let mut r = Reader::new(payload);
    let mut first: Option<DtlsRecord> = None;
    let mut records = 0usize;
    while !r.is_empty() {
        let at = r.offset();
        let b = r.u8().ok_or(err(at, CoapErrorKind::DtlsTruncated))?;
        let rec = if b & 0xe0 == 0x20 {
            // DTLS 1.3 unified header: 0 0 1 C S L E E
            let (cid, seq16, has_len) = (b & 0x10 != 0, b & 0x08 != 0, b & 0x04 != 0);
            let truncated = err(at, CoapErrorKind::DtlsTruncated);
            let sequence = if cid {
                0
            } else if seq16 {
                u64::from(r.u16().ok_or(truncated)?)
            } else {
                u64::from(r.u8().ok_or(truncated)?)
            };
            let body = if cid || !has_len {
                r.rest()
            } else {
                let len = r.u16().ok_or(truncated)?;
                r.take(usize::from(len)).ok_or(truncated)?
            };
            // The connection id (at least 1 byte when C is set) and the AEAD ciphertext.
            if body.len() < MIN_CIPHERTEXT + usize::from(cid) {
                return Err(truncated);
            }
            DtlsRecord {
                content_type: "ciphertext",
                version: "DTLS 1.3",
                epoch: u16::from(b & 3),
                sequence,
                records: 0,
                handshake_type: None,
            }
        } else {
            let content_type = content_type_name(b).ok_or(err(at, CoapErrorKind::NotDtls))?;
            let truncated = err(at, CoapErrorKind::DtlsTruncated);
            let v = r.u16().ok_or(truncated)?;
            let version = dtls_version_name(v).ok_or(err(at, CoapErrorKind::NotDtls))?;
            let epoch = r.u16().ok_or(truncated)?;
            let seq = r.take_array::<6>().ok_or(truncated)?;
            let sequence = seq.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
            let len = r.u16().ok_or(truncated)?;
            let mut body = r.sub(usize::from(len)).ok_or(truncated)?;
            let handshake_type = if b == 22 && epoch == 0 {
                body.u8().and_then(handshake_name)
            } else {
                None
            };
            DtlsRecord {
                content_type,
                version,
                epoch,
                sequence,
                records: 0,
                handshake_type,
            }
        };
        records += 1;
        if first.is_none() {
            first = Some(rec);
        }
    }
    let mut first = first.ok_or(err(0, CoapErrorKind::DtlsTruncated))?;
    first.records = records;
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// CON GET /sensors/temp?unit=c with Observe 0, token 0x0102, Uri-Host "h".
    fn get() -> Vec<u8> {
        let mut m = vec![0x42, 0x01, 0x81, 0xc6, 0x01, 0x02];
        m.extend([0x31, b'h']); // Uri-Host (3)
        m.extend([0x30]); // Observe (6), empty = 0
        m.extend([0x12, 0x16, 0x33]); // Uri-Port (7) = 5683
        m.extend([0x47]); // Uri-Path (11)
        m.extend(b"sensors");
        m.extend([0x04]);
        m.extend(b"temp");
        m.extend([0x46]); // Uri-Query (15)
        m.extend(b"unit=c");
        m
    }

    #[test]
    fn probe_and_from_server_agree_with_parse() {
        // Every header byte pair over a few bodies: probe accepts exactly what parses (with
        // a code class it allows), and from_server reads the parsed code and type.
        let bodies: [&[u8]; 5] = [&[], &[0xff, 1], &[0xff], &[0x31, b'h', 0xff, 9], &[0xf0]];
        for first in 0..=255u8 {
            for code in 0..=255u8 {
                for body in bodies {
                    let mut m = vec![first, code, 0, 1];
                    m.extend(std::iter::repeat_n(7, usize::from(first & 0x0f).min(8)));
                    m.extend(body);
                    let parsed = parse(&m);
                    let class_ok = matches!((code >> 5, code & 0x1f), (0, 0..=7) | (2 | 4 | 5, _));
                    assert_eq!(probe(&m), class_ok && parsed.is_ok(), "{m:02x?}");
                    if let Ok(p) = parsed {
                        let old = !p.code.starts_with("0.") || p.mtype == "ACK" || p.mtype == "RST";
                        assert_eq!(from_server(&m), old, "{m:02x?}");
                    }
                }
            }
        }
    }

    #[test]
    fn parses_a_get() {
        let m = parse(&get()).unwrap();
        assert_eq!(m.mtype, "CON");
        assert_eq!(m.code, "0.01");
        assert_eq!(m.code_name, Some("GET"));
        assert_eq!(m.message_id, 0x81c6);
        assert_eq!(m.token, "0102");
        assert_eq!(m.uri_host.as_deref(), Some("h"));
        assert_eq!(m.observe, Some(0));
        assert_eq!(m.uri_port, Some(5683));
        assert_eq!(m.uri_path.as_deref(), Some("/sensors/temp"));
        assert_eq!(m.uri_query, vec!["unit=c"]);
        assert_eq!(m.options, vec![3, 6, 7, 11, 11, 15]);
        assert_eq!(m.payload_len, 0);
        assert!(probe(&get()));
    }

    #[test]
    fn parses_a_response_with_extended_options() {
        // ACK 2.05 Content, Content-Format 50 (json), option 2048 (13/14 extensions), payload
        let mut m = vec![0x60, 0x45, 0x00, 0x07];
        m.extend([0xc1, 50]); // delta 12 -> 12, len 1
        m.extend([0xe1, 0x06, 0xe7, 0x00]); // delta 14: 12 + 269 + 0x06e7 = 2048, len 1
        m.extend([0xd0, 0x00]); // delta 13: 13 + 0 = 2061, len 0
        m.push(0xff);
        m.extend(b"{}");
        let p = parse(&m).unwrap();
        assert_eq!(p.mtype, "ACK");
        assert_eq!(p.code, "2.05");
        assert_eq!(p.code_name, Some("Content"));
        assert_eq!(p.content_format, Some(50));
        assert_eq!(p.options, vec![12, 2048, 2061]);
        assert_eq!(p.payload_len, 2);
        assert!(probe(&m));
    }

    #[test]
    fn format_errors() {
        let kind = |m: &[u8]| parse(m).unwrap_err().kind;
        assert_eq!(kind(&[0x80, 1, 0, 0]), CoapErrorKind::BadVersion);
        assert_eq!(kind(&[0x49, 1, 0, 0]), CoapErrorKind::BadTokenLength);
        assert_eq!(kind(&[0x42, 1, 0, 0, 1]), CoapErrorKind::Truncated);
        assert_eq!(kind(&[0x40, 1, 0, 0, 0xf1, 0]), CoapErrorKind::BadOption);
        assert_eq!(kind(&[0x40, 1, 0, 0, 0x1f]), CoapErrorKind::BadOption);
        assert_eq!(
            kind(&[0x40, 1, 0, 0, 0x13, 1]),
            CoapErrorKind::OptionTruncated
        );
        assert_eq!(
            kind(&[0x40, 1, 0, 0, 0xe0, 1]),
            CoapErrorKind::OptionTruncated
        );
        assert_eq!(kind(&[0x40, 1, 0, 0, 0xff]), CoapErrorKind::EmptyPayload);
        assert_eq!(kind(&[0x41, 0, 0, 0, 9]), CoapErrorKind::BadEmpty);
        assert_eq!(kind(&[0x40, 0, 0, 0, 0x10]), CoapErrorKind::BadEmpty);
        // empty message (ping) and reset are fine
        assert_eq!(
            parse(&[0x40, 0, 0x12, 0x34]).unwrap().code_name,
            Some("Empty")
        );
        assert_eq!(parse(&[0x70, 0, 0x12, 0x34]).unwrap().mtype, "RST");
    }

    #[test]
    fn every_truncation_is_handled() {
        let full = get();
        for n in 0..full.len() {
            match parse(&full[..n]) {
                Ok(m) => assert!(n >= 6, "{n}: {m:?}"),
                Err(e) => assert!(e.offset <= n, "{n}: {e}"),
            }
            let _ = probe(&full[..n]);
            let _ = probe_dtls(&full[..n]);
            let _ = parse_dtls(&full[..n]);
        }
    }

    #[test]
    fn probe_refuses_other_classes() {
        let mut m = get();
        m[1] = 0x08; // 0.08
        assert!(!probe(&m) && parse(&m).is_ok());
        m[1] = 0xe1; // 7.01 signaling
        assert!(!probe(&m));
        m[1] = 0x61; // 3.01
        assert!(!probe(&m));
        assert!(!probe(b"GET / HTTP/1.1\r\n"));
    }

    /// A DTLS 1.2 datagram: ClientHello (epoch 0) then a ChangeCipherSpec.
    fn dtls() -> Vec<u8> {
        let mut d = vec![22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 1, 0, 4, 1, 0, 0, 0];
        d.extend([20, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 2, 0, 1, 1]);
        d
    }

    #[test]
    fn dtls_records() {
        assert!(probe_dtls(&dtls()));
        let r = parse_dtls(&dtls()).unwrap();
        assert_eq!(r.content_type, "handshake");
        assert_eq!(r.version, "DTLS 1.2");
        assert_eq!(r.epoch, 0);
        assert_eq!(r.sequence, 1);
        assert_eq!(r.records, 2);
        assert_eq!(r.handshake_type, Some("client_hello"));
        // DTLS 1.3 unified header: 0b0010_1101 = no CID, 16-bit seq, length, epoch 1
        let u = [0x2d, 0x00, 0x05, 0x00, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        let r = parse_dtls(&u).unwrap();
        assert_eq!(
            (r.version, r.content_type, r.epoch, r.sequence),
            ("DTLS 1.3", "ciphertext", 1, 5)
        );
        assert!(!probe_dtls(&u));
        // Too short for a ciphertext (fuzz crash input: one byte 0x3a, C and L bits set).
        assert_eq!(
            parse_dtls(&[0x3a]).unwrap_err().kind,
            CoapErrorKind::DtlsTruncated
        );
        assert!(parse_dtls(&[0x2d, 0x00, 0x05, 0x00, 0x02, 0xaa, 0xbb]).is_err());
        // truncated and foreign
        let full = dtls();
        for n in 1..full.len() {
            if n != 17 {
                assert!(parse_dtls(&full[..n]).is_err(), "{n}");
            }
        }
        assert_eq!(
            parse_dtls(b"\x16\x03\x01\x00").unwrap_err().kind,
            CoapErrorKind::NotDtls
        );
        assert!(!probe_dtls(b"\x16\x03\x01\x00\x05hello"));
    }
}
