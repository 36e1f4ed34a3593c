//! SNMP v1 and v2c messages (RFC 1157, 3416), v3 recognised (RFC 3412, 3414), over UDP.
//!
//! Hand-written BER: one-byte tags only (SNMP never needs the high-tag form), definite
//! lengths only (short form, or long form of at most [`MAX_LENGTH_OCTETS`] octets), each
//! length checked against the enclosing element. The message structure is fixed (message →
//! PDU → variable bindings → binding), so nesting is bounded by construction: values are
//! skipped by their length, never descended into.
//!
//! v3: the header and the user-based security model parameters are read (user name); a
//! plaintext scoped PDU is decoded like a v1/v2c PDU, an encrypted one only flagged.
//!
//! Policy on bad input: the first problem is an error with its byte offset and kind; nothing
//! is returned for the message then. Bytes after the message or after the variable bindings
//! are ignored.

use std::fmt::Write as _;

use serde::Serialize;

use crate::reader::Reader;
use crate::text::push_escaped;

/// Most octets of a long-form length.
pub const MAX_LENGTH_OCTETS: usize = 4;
/// Variable-binding names kept per message (the rest are counted).
pub const MAX_OIDS: usize = 64;
/// Most sub-identifiers decoded per OID.
pub const MAX_OID_ARCS: usize = 128;

/// One SNMP message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SnmpMessage {
    /// Version field: 0 v1, 1 v2c, 3 v3.
    pub version: u8,
    /// Community (v1, v2c), escaped like DNS names; `None` for v3.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub community: Option<String>,
    /// v3 user name (USM `msgUserName`), escaped; `None` for v1/v2c or when empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// PDU type: "get_request", "get_next_request", "get_response", "set_request", "trap",
    /// "get_bulk_request", "inform_request", "snmpv2_trap", "report"; `None` for an
    /// encrypted v3 PDU or an unknown tag.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdu_type: Option<&'static str>,
    /// The PDU's tag byte (0xa0–0xa8), when a PDU was read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdu_tag: Option<u8>,
    /// v3: the scoped PDU is encrypted (privacy flag).
    pub encrypted: bool,
    /// Request id (not in a v1 trap).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<i64>,
    /// Error status (not in a v1 trap nor a GetBulk, whose field is non-repeaters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_status: Option<i64>,
    /// v1 trap: enterprise OID, dotted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enterprise: Option<String>,
    /// Variable-binding names, dotted (first [`MAX_OIDS`]).
    pub oids: Vec<String>,
    /// Number of variable bindings (all of them).
    pub varbinds: usize,
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum SnmpErrorKind {
    /// An element or its length runs past the enclosing element.
    #[error("element truncated")]
    Truncated,
    /// A tag other than the one the structure requires.
    #[error("unexpected tag")]
    BadTag,
    /// Indefinite length, or a long form over [`MAX_LENGTH_OCTETS`] octets.
    #[error("unsupported length form")]
    BadLength,
    /// An INTEGER longer than 8 octets or empty.
    #[error("integer out of range")]
    BadInteger,
    /// An OID that is empty, ends inside a sub-identifier, or has a sub-identifier over 64
    /// bits.
    #[error("malformed object identifier")]
    BadOid,
    /// Version other than 0, 1 or 3.
    #[error("unsupported version")]
    BadVersion,
}

/// A parse error: byte offset in the message and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("snmp at byte {offset}: {kind}")]
pub struct SnmpError {
    /// Byte offset.
    pub offset: usize,
    /// What.
    pub kind: SnmpErrorKind,
}

/// Zeek's name of a version ("1", "2c", "3"; "unknown" otherwise).
pub fn version_name(v: u8) -> &'static str {
    match v {
        0 => "1",
        1 => "2c",
        3 => "3",
        _ => "unknown",
    }
}

/// Name of a PDU tag.
pub fn pdu_name(tag: u8) -> Option<&'static str> {
    Some(match tag {
        0xa0 => "get_request",
        0xa1 => "get_next_request",
        0xa2 => "get_response",
        0xa3 => "set_request",
        0xa4 => "trap",
        0xa5 => "get_bulk_request",
        0xa6 => "inform_request",
        0xa7 => "snmpv2_trap",
        0xa8 => "report",
        _ => return None,
    })
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const OID: u8 = 0x06;

fn e(offset: usize, kind: SnmpErrorKind) -> SnmpError {
    SnmpError { offset, kind }
}

/// One TLV: its tag, its offset, and a reader over its contents.
fn tlv<'a>(r: &mut Reader<'a>) -> Result<(u8, usize, Reader<'a>), SnmpError> {
    let at = r.offset();
    let tag = r.u8().ok_or(e(at, SnmpErrorKind::Truncated))?;
    if tag & 0x1f == 0x1f {
        return Err(e(at, SnmpErrorKind::BadTag));
    }
    let len_at = r.offset();
    let first = r.u8().ok_or(e(len_at, SnmpErrorKind::Truncated))?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > MAX_LENGTH_OCTETS {
            return Err(e(len_at, SnmpErrorKind::BadLength));
        }
        let bytes = r.take(n).ok_or(e(len_at, SnmpErrorKind::Truncated))?;
        bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    let body = r.sub(len).ok_or(e(len_at, SnmpErrorKind::Truncated))?;
    Ok((tag, at, body))
}

fn expect<'a>(r: &mut Reader<'a>, want: u8) -> Result<Reader<'a>, SnmpError> {
    let (tag, at, body) = tlv(r)?;
    if tag != want {
        return Err(e(at, SnmpErrorKind::BadTag));
    }
    Ok(body)
}

fn integer(r: &mut Reader<'_>) -> Result<i64, SnmpError> {
    let mut body = expect(r, INTEGER)?;
    let at = body.offset();
    let bytes = body.rest();
    if bytes.is_empty() || bytes.len() > 8 {
        return Err(e(at, SnmpErrorKind::BadInteger));
    }
    let neg = bytes.first().is_some_and(|b| b & 0x80 != 0);
    let init: i64 = if neg { -1 } else { 0 };
    Ok(bytes.iter().fold(init, |acc, b| (acc << 8) | i64::from(*b)))
}

fn octets<'a>(r: &mut Reader<'a>) -> Result<&'a [u8], SnmpError> {
    Ok(expect(r, OCTET_STRING)?.rest())
}

fn escaped(b: &[u8]) -> String {
    let mut s = String::new();
    push_escaped(&mut s, b);
    s
}

/// Dotted form of an OID's contents.
fn oid_text(body: &mut Reader<'_>) -> Result<String, SnmpError> {
    let at = body.offset();
    let bad = e(at, SnmpErrorKind::BadOid);
    if body.is_empty() {
        return Err(bad);
    }
    let mut s = String::new();
    let mut arcs = 0usize;
    while !body.is_empty() {
        let mut v: u64 = 0;
        loop {
            let b = body.u8().ok_or(bad)?;
            if v > u64::MAX >> 7 {
                return Err(bad);
            }
            v = (v << 7) | u64::from(b & 0x7f);
            if b & 0x80 == 0 {
                break;
            }
        }
        if arcs >= MAX_OID_ARCS {
            continue;
        }
        if arcs == 0 {
            let (x, y) = match v {
                0..=39 => (0, v),
                40..=79 => (1, v - 40),
                _ => (2, v - 80),
            };
            let _ = write!(s, "{x}.{y}");
            arcs += 2;
        } else {
            let _ = write!(s, ".{v}");
            arcs += 1;
        }
    }
    Ok(s)
}

fn oid(r: &mut Reader<'_>) -> Result<String, SnmpError> {
    oid_text(&mut expect(r, OID)?)
}

/// Reads a PDU (tag already known) into `m`.
fn pdu(tag: u8, body: &mut Reader<'_>, m: &mut SnmpMessage) -> Result<(), SnmpError> {
    m.pdu_tag = Some(tag);
    m.pdu_type = pdu_name(tag);
    if m.pdu_type.is_none() {
        return Ok(());
    }
    if tag == 0xa4 {
        m.enterprise = Some(oid(body)?);
        // agent-addr (IpAddress, application 0), generic, specific, time-stamp
        let (_, _, _) = tlv(body)?;
        integer(body)?;
        integer(body)?;
        let (_, _, _) = tlv(body)?;
    } else {
        m.request_id = Some(integer(body)?);
        let status = integer(body)?;
        if tag != 0xa5 {
            m.error_status = Some(status);
        }
        integer(body)?;
    }
    let mut list = expect(body, SEQUENCE)?;
    while !list.is_empty() {
        let mut vb = expect(&mut list, SEQUENCE)?;
        let name = oid(&mut vb)?;
        let _value = tlv(&mut vb)?;
        m.varbinds += 1;
        if m.oids.len() < MAX_OIDS {
            m.oids.push(name);
        }
    }
    Ok(())
}

/// Parses one SNMP message (a UDP payload).
pub fn parse(payload: &[u8]) -> Result<SnmpMessage, SnmpError> {
    let mut top = Reader::new(payload);
    let mut r = expect(&mut top, SEQUENCE)?;
    let vat = r.offset();
    let version = integer(&mut r)?;
    let version = match version {
        0 | 1 | 3 => version as u8,
        _ => return Err(e(vat, SnmpErrorKind::BadVersion)),
    };
    let mut m = SnmpMessage {
        version,
        community: None,
        user_name: None,
        pdu_type: None,
        pdu_tag: None,
        encrypted: false,
        request_id: None,
        error_status: None,
        enterprise: None,
        oids: Vec::new(),
        varbinds: 0,
    };
    if version == 3 {
        let mut global = expect(&mut r, SEQUENCE)?;
        integer(&mut global)?; // msgID
        integer(&mut global)?; // msgMaxSize
        let flags = octets(&mut global)?.first().copied().unwrap_or(0);
        let model = integer(&mut global)?;
        let params = octets(&mut r)?;
        if model == 3 {
            // USM: SEQUENCE { engineID, boots, time, userName, authParams, privParams }
            let base = r.offset().saturating_sub(params.len());
            let mut p = Reader::with_base(params, base);
            let mut usm = expect(&mut p, SEQUENCE)?;
            octets(&mut usm)?;
            integer(&mut usm)?;
            integer(&mut usm)?;
            let user = octets(&mut usm)?;
            if !user.is_empty() {
                m.user_name = Some(escaped(user));
            }
        }
        let (tag, at, mut data) = tlv(&mut r)?;
        match tag {
            OCTET_STRING => m.encrypted = true,
            SEQUENCE => {
                octets(&mut data)?; // contextEngineID
                octets(&mut data)?; // contextName
                let (tag, _, mut body) = tlv(&mut data)?;
                pdu(tag, &mut body, &mut m)?;
            }
            _ => return Err(e(at, SnmpErrorKind::BadTag)),
        }
        if flags & 0x02 != 0 && tag == OCTET_STRING {
            m.encrypted = true;
        }
    } else {
        m.community = Some(escaped(octets(&mut r)?));
        let (tag, _, mut body) = tlv(&mut r)?;
        pdu(tag, &mut body, &mut m)?;
    }
    Ok(m)
}

/// True when `payload` starts like an SNMP message: a SEQUENCE that fits the datagram,
/// INTEGER version 0, 1 or 3, then (v1/v2c) an OCTET STRING community and a PDU tag
/// 0xa0–0xa8, or (v3) the header SEQUENCE.
pub fn probe(payload: &[u8]) -> bool {
    let mut top = Reader::new(payload);
    let Ok(mut r) = expect(&mut top, SEQUENCE) else {
        return false;
    };
    let version = match integer(&mut r) {
        Ok(v @ (0 | 1 | 3)) => v,
        _ => return false,
    };
    if version == 3 {
        return expect(&mut r, SEQUENCE).is_ok();
    }
    if octets(&mut r).is_err() {
        return false;
    }
    r.u8().is_some_and(|t| (0xa0..=0xa8).contains(&t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if body.len() < 0x80 {
            v.push(body.len() as u8);
        } else {
            v.extend([0x82, (body.len() >> 8) as u8, body.len() as u8]);
        }
        v.extend(body);
        v
    }

    fn cat(parts: &[Vec<u8>]) -> Vec<u8> {
        parts.concat()
    }

    fn varbind(oid: &[u8]) -> Vec<u8> {
        t(SEQUENCE, &cat(&[t(OID, oid), t(0x05, &[])]))
    }

    /// v2c get-request for sysDescr.0 and sysUpTime.0, community "public".
    fn get_request() -> Vec<u8> {
        let vbs = cat(&[
            varbind(&[0x2b, 6, 1, 2, 1, 1, 1, 0]),
            varbind(&[0x2b, 6, 1, 2, 1, 1, 3, 0]),
        ]);
        let pdu = t(
            0xa0,
            &cat(&[
                t(INTEGER, &[0x12, 0x34]),
                t(INTEGER, &[0]),
                t(INTEGER, &[0]),
                t(SEQUENCE, &vbs),
            ]),
        );
        t(
            SEQUENCE,
            &cat(&[t(INTEGER, &[1]), t(OCTET_STRING, b"public"), pdu]),
        )
    }

    #[test]
    fn parses_v2c_get() {
        let m = parse(&get_request()).unwrap();
        assert_eq!(m.version, 1);
        assert_eq!(version_name(m.version), "2c");
        assert_eq!(m.community.as_deref(), Some("public"));
        assert_eq!(m.pdu_type, Some("get_request"));
        assert_eq!(m.request_id, Some(0x1234));
        assert_eq!(m.error_status, Some(0));
        assert_eq!(m.oids, vec!["1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.3.0"]);
        assert_eq!(m.varbinds, 2);
        assert!(probe(&get_request()));
    }

    #[test]
    fn every_truncation_is_an_error() {
        let full = get_request();
        for n in 0..full.len() {
            let err = parse(&full[..n]).expect_err("truncated parsed");
            assert!(err.offset <= n, "{n}: {err}");
            let _ = probe(&full[..n]);
        }
    }

    #[test]
    fn long_form_lengths() {
        // The same message with every length in long form (0x82 0x00 n).
        let full = get_request();
        let mut r = Reader::new(&full);
        fn relong(r: &mut Reader<'_>, out: &mut Vec<u8>) {
            while let Ok((tag, _, mut body)) = tlv(r) {
                let mut inner = Vec::new();
                if tag & 0x20 != 0 {
                    relong(&mut body, &mut inner);
                } else {
                    inner.extend(body.rest());
                }
                out.extend([tag, 0x82, (inner.len() >> 8) as u8, inner.len() as u8]);
                out.extend(inner);
            }
        }
        let mut long = Vec::new();
        relong(&mut r, &mut long);
        assert!(long.len() > full.len());
        assert_eq!(parse(&long).unwrap(), parse(&full).unwrap());
        // indefinite and over-long forms
        let mut bad = full.clone();
        bad[1] = 0x80;
        assert_eq!(parse(&bad).unwrap_err().kind, SnmpErrorKind::BadLength);
        bad[1] = 0x85;
        assert_eq!(parse(&bad).unwrap_err().kind, SnmpErrorKind::BadLength);
        // a length past the end
        let mut bad = full.clone();
        bad[1] = 0x84;
        bad.splice(2..2, [0xff, 0xff, 0xff]);
        assert_eq!(parse(&bad).unwrap_err().kind, SnmpErrorKind::Truncated);
    }

    #[test]
    fn integers_and_oids() {
        let mut r = Reader::new(&[2, 1, 0xff]);
        assert_eq!(integer(&mut r), Ok(-1));
        let mut r = Reader::new(&[2, 5, 0, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(integer(&mut r), Ok(0xffff_ffff));
        let mut r = Reader::new(&[2, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(integer(&mut r).unwrap_err().kind, SnmpErrorKind::BadInteger);
        let mut r = Reader::new(&[2, 0]);
        assert_eq!(integer(&mut r).unwrap_err().kind, SnmpErrorKind::BadInteger);
        let mut r = Reader::new(&[6, 3, 0x88, 0x37, 0x03]);
        assert_eq!(oid(&mut r).unwrap(), "2.999.3");
        let mut r = Reader::new(&[6, 2, 0x2b, 0x86]);
        assert_eq!(oid(&mut r).unwrap_err().kind, SnmpErrorKind::BadOid);
        let mut over = vec![6, 12, 0x2b];
        over.extend([0xff; 10]);
        over.push(0x7f);
        let mut r = Reader::new(&over);
        assert_eq!(oid(&mut r).unwrap_err().kind, SnmpErrorKind::BadOid);
    }

    #[test]
    fn v1_trap() {
        let pdu = t(
            0xa4,
            &cat(&[
                t(OID, &[0x2b, 6, 1, 4, 1, 9]),
                t(0x40, &[10, 0, 0, 1]),
                t(INTEGER, &[2]),
                t(INTEGER, &[0]),
                t(0x43, &[1, 2, 3]),
                t(SEQUENCE, &varbind(&[0x2b, 6, 1, 2, 1, 2, 1, 0])),
            ]),
        );
        let msg = t(
            SEQUENCE,
            &cat(&[t(INTEGER, &[0]), t(OCTET_STRING, b"pub\x01"), pdu]),
        );
        let m = parse(&msg).unwrap();
        assert_eq!(m.pdu_type, Some("trap"));
        assert_eq!(m.enterprise.as_deref(), Some("1.3.6.1.4.1.9"));
        assert_eq!(m.request_id, None);
        assert_eq!(m.community.as_deref(), Some("pub\\x01"));
        assert_eq!(m.oids, vec!["1.3.6.1.2.1.2.1.0"]);
    }

    fn v3(user: &[u8], data: Vec<u8>, flags: u8) -> Vec<u8> {
        let usm = t(
            SEQUENCE,
            &cat(&[
                t(OCTET_STRING, b"\x80\x00\x1f\x88"),
                t(INTEGER, &[1]),
                t(INTEGER, &[2]),
                t(OCTET_STRING, user),
                t(OCTET_STRING, b""),
                t(OCTET_STRING, b""),
            ]),
        );
        let global = t(
            SEQUENCE,
            &cat(&[
                t(INTEGER, &[5]),
                t(INTEGER, &[0x05, 0xdc]),
                t(OCTET_STRING, &[flags]),
                t(INTEGER, &[3]),
            ]),
        );
        t(
            SEQUENCE,
            &cat(&[t(INTEGER, &[3]), global, t(OCTET_STRING, &usm), data]),
        )
    }

    #[test]
    fn v3_plain_and_encrypted() {
        let pdu = t(
            0xa1,
            &cat(&[
                t(INTEGER, &[7]),
                t(INTEGER, &[0]),
                t(INTEGER, &[0]),
                t(SEQUENCE, &varbind(&[0x2b, 6, 1, 2, 1, 1, 6, 0])),
            ]),
        );
        let scoped = t(
            SEQUENCE,
            &cat(&[t(OCTET_STRING, b""), t(OCTET_STRING, b""), pdu]),
        );
        let m = parse(&v3(b"username", scoped, 4)).unwrap();
        assert_eq!(m.version, 3);
        assert_eq!(m.community, None);
        assert_eq!(m.user_name.as_deref(), Some("username"));
        assert_eq!(m.pdu_type, Some("get_next_request"));
        assert_eq!(m.oids, vec!["1.3.6.1.2.1.1.6.0"]);
        assert!(probe(&v3(b"username", t(OCTET_STRING, b"x"), 3)));
        let m = parse(&v3(b"u", t(OCTET_STRING, b"\x01\x02"), 3)).unwrap();
        assert!(m.encrypted);
        assert_eq!(m.pdu_type, None);
    }

    #[test]
    fn probe_rejects_noise() {
        assert!(!probe(b""));
        assert!(!probe(b"\x30\x03\x02\x01\x02"));
        assert!(!probe(b"GET / HTTP/1.1\r\n"));
        let mut m = get_request();
        let pos = m.iter().position(|b| *b == 0xa0).unwrap();
        m[pos] = 0xb0;
        assert!(!probe(&m));
    }
}
