//! DNS and mDNS messages (RFC 1035, RFC 6762), over UDP ([`parse`]) and over TCP
//! ([`DnsTcpParser`], RFC 1035 §4.2.2 two-byte length prefix).
//!
//! Names are decoded with compression; a name may follow at most [`MAX_POINTERS`] pointers and
//! may not exceed [`MAX_NAME_LEN`] octets in wire form, so pointer loops end with
//! [`DnsErrorKind::PointerLoop`] or [`DnsErrorKind::NameTooLong`]. Labels longer than 63 octets
//! are accepted (NetBIOS name service uses them); the extended label types `0x40` and `0x80`
//! are errors.
//!
//! Text (names, TXT strings) is rendered the way Zeek's `dns.log` shows it: bytes 0x20–0x7e
//! as they are, except `\` which becomes `\x5c`; every other byte as `\xNN` (lower-case hex).
//! A dot inside a label is not escaped (as in Zeek). Letter case is kept (Zeek lower-cases
//! `query`; its `original_query` is what we report). The root name is `""` (Zeek: `(empty)`).
//!
//! mDNS: the top bit of a question's class is the unicast-response (QU) bit and the top bit of
//! a record's class the cache-flush bit; both are stripped from `class` and reported apart,
//! except for OPT records whose class is the UDP payload size.
//!
//! Each section keeps its first [`MAX_RECORDS`] entries; the rest are parsed (to find the
//! end of the message) but not kept; the header counts are reported as sent.
//!
//! Policy on bad input: [`parse`] returns the first error (offset in the message and kind);
//! [`parse_partial`] returns what was parsed before it as well.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::Serialize;

use crate::reader::Reader;
use crate::text::push_escaped;

mod tables;
mod tcp;
#[cfg(test)]
mod tests;

pub use tables::{opcode_name, rcode_name, rrtype_name};
pub use tcp::DnsTcpParser;

/// DNS header length.
pub const HEADER_LEN: usize = 12;
/// Entries kept per section (questions, answers, authorities, additionals).
pub const MAX_RECORDS: usize = 64;
/// Longest name in wire form (length octets and the root label included), RFC 1035 §2.3.4.
pub const MAX_NAME_LEN: usize = 255;
/// Most compression pointers followed while reading one name.
pub const MAX_POINTERS: usize = 64;
/// Largest message the TCP parser accepts (the two-byte prefix allows no more).
pub const MAX_TCP_MESSAGE: usize = 65_535;

/// One DNS message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DnsMessage {
    /// Transaction id.
    pub id: u16,
    /// QR bit: a response.
    pub response: bool,
    /// Opcode (0 query, 1 inverse query, 2 status, 4 notify, 5 update).
    pub opcode: u8,
    /// AA bit.
    pub authoritative: bool,
    /// TC bit.
    pub truncated: bool,
    /// RD bit.
    pub recursion_desired: bool,
    /// RA bit.
    pub recursion_available: bool,
    /// The three bits between RA and RCODE (Z, AD, CD) as a number, as Zeek logs `Z`.
    pub z: u8,
    /// Response code: the header's four bits, extended by the OPT record's upper eight bits
    /// (RFC 6891) when an OPT record is present.
    pub rcode: u16,
    /// Question count as sent.
    pub question_count: u16,
    /// Answer count as sent.
    pub answer_count: u16,
    /// Authority count as sent.
    pub authority_count: u16,
    /// Additional count as sent.
    pub additional_count: u16,
    /// Questions (first [`MAX_RECORDS`]).
    pub questions: Vec<DnsQuestion>,
    /// Answer records (first [`MAX_RECORDS`]).
    pub answers: Vec<DnsRecord>,
    /// Authority records (first [`MAX_RECORDS`]).
    pub authorities: Vec<DnsRecord>,
    /// Additional records (first [`MAX_RECORDS`]).
    pub additionals: Vec<DnsRecord>,
}

/// One question.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DnsQuestion {
    /// Name (escaped, no trailing dot, root = "").
    pub name: String,
    /// QTYPE.
    pub rrtype: u16,
    /// QCLASS without the mDNS QU bit.
    pub class: u16,
    /// mDNS QU bit (top bit of the class).
    pub unicast_response: bool,
}

/// One resource record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DnsRecord {
    /// Owner name.
    pub name: String,
    /// TYPE.
    pub rrtype: u16,
    /// CLASS without the mDNS cache-flush bit (OPT: the UDP payload size, untouched).
    pub class: u16,
    /// mDNS cache-flush bit (top bit of the class; always false for OPT).
    pub cache_flush: bool,
    /// TTL in seconds (OPT: extended rcode, version and flags).
    pub ttl: u32,
    /// Decoded data.
    pub data: DnsRdata,
}

/// Record data for the types decoded; others keep their length.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsRdata {
    /// A.
    A(Ipv4Addr),
    /// AAAA.
    Aaaa(Ipv6Addr),
    /// CNAME, PTR, NS, DNAME: the target name.
    Name(String),
    /// TXT and SPF: the character strings, escaped.
    Txt(Vec<String>),
    /// SRV.
    Srv {
        /// Priority.
        priority: u16,
        /// Weight.
        weight: u16,
        /// Port.
        port: u16,
        /// Target host.
        target: String,
    },
    /// MX.
    Mx {
        /// Preference.
        preference: u16,
        /// Mail exchange host.
        exchange: String,
    },
    /// SOA (the timers are not kept).
    Soa {
        /// Primary name server.
        mname: String,
        /// Responsible mailbox.
        rname: String,
        /// Serial.
        serial: u32,
    },
    /// Any other type, or an empty RDATA (dynamic update): the RDATA length.
    Other {
        /// RDLENGTH.
        len: usize,
    },
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum DnsErrorKind {
    /// The message ends inside a field.
    #[error("message truncated")]
    Truncated,
    /// Label type 0x40 or 0x80 (extended or reserved).
    #[error("bad label type")]
    BadLabelType,
    /// A compression pointer points outside the message.
    #[error("compression pointer out of range")]
    BadPointer,
    /// More than [`MAX_POINTERS`] pointers in one name.
    #[error("compression pointer loop")]
    PointerLoop,
    /// A name longer than [`MAX_NAME_LEN`] octets.
    #[error("name too long")]
    NameTooLong,
    /// RDATA inconsistent with its type (wrong length, string past the end).
    #[error("rdata malformed")]
    BadRdata,
    /// TCP: a length prefix of 0.
    #[error("zero-length message")]
    EmptyMessage,
    /// TCP: the stream ended inside a message.
    #[error("stream ended inside a message")]
    Incomplete,
}

/// A parse error: where (byte offset in the message, or in the direction's stream for TCP)
/// and what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("dns at byte {offset}: {kind}")]
pub struct DnsError {
    /// Byte offset.
    pub offset: u64,
    /// What.
    pub kind: DnsErrorKind,
}

fn err(offset: usize, kind: DnsErrorKind) -> DnsError {
    DnsError {
        offset: offset as u64,
        kind,
    }
}

/// Output of [`DnsTcpParser`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DnsEvent {
    /// A message.
    Message(DnsMessage),
    /// A problem (offset in the direction's stream).
    Error(DnsError),
}

fn u32_be(r: &mut Reader<'_>) -> Option<u32> {
    r.take_array::<4>().map(|a| u32::from_be_bytes(*a))
}

/// Reads a (possibly compressed) name at `r` in message `msg`; `r` is left after the name's
/// last in-place byte. With `out` `None` the name is only skipped (still fully checked).
fn read_name<'a>(
    msg: &'a [u8],
    r: &mut Reader<'a>,
    mut out: Option<&mut String>,
) -> Result<(), DnsError> {
    let mut cur = r.clone();
    let mut jumped = false;
    let mut pointers = 0usize;
    let mut wire_len = 0usize;
    let mut first = true;
    loop {
        let at = cur.offset();
        let len = cur.u8().ok_or(err(at, DnsErrorKind::Truncated))?;
        match len & 0xc0 {
            0x00 => {
                wire_len += 1 + usize::from(len);
                if wire_len > MAX_NAME_LEN {
                    return Err(err(at, DnsErrorKind::NameTooLong));
                }
                if len == 0 {
                    break;
                }
                let label = cur
                    .take(usize::from(len))
                    .ok_or(err(at, DnsErrorKind::Truncated))?;
                if let Some(o) = out.as_deref_mut() {
                    if !first {
                        o.push('.');
                    }
                    push_escaped(o, label);
                }
                first = false;
            }
            0xc0 => {
                let lo = cur.u8().ok_or(err(at, DnsErrorKind::Truncated))?;
                pointers += 1;
                if pointers > MAX_POINTERS {
                    return Err(err(at, DnsErrorKind::PointerLoop));
                }
                if !jumped {
                    *r = cur.clone();
                    jumped = true;
                }
                let target = (usize::from(len & 0x3f) << 8) | usize::from(lo);
                let rest = msg
                    .get(target..)
                    .filter(|s| !s.is_empty())
                    .ok_or(err(at, DnsErrorKind::BadPointer))?;
                cur = Reader::with_base(rest, target);
            }
            _ => return Err(err(at, DnsErrorKind::BadLabelType)),
        }
    }
    if !jumped {
        *r = cur;
    }
    Ok(())
}

fn name_string<'a>(msg: &'a [u8], r: &mut Reader<'a>) -> Result<String, DnsError> {
    let mut s = String::new();
    read_name(msg, r, Some(&mut s))?;
    Ok(s)
}

fn header(r: &mut Reader<'_>) -> Option<[u16; 6]> {
    Some([r.u16()?, r.u16()?, r.u16()?, r.u16()?, r.u16()?, r.u16()?])
}

/// Parses one DNS message (a UDP payload, or a TCP message without its length prefix).
/// Error offsets are relative to the start of `payload`.
pub fn parse(payload: &[u8]) -> Result<DnsMessage, DnsError> {
    match parse_partial(payload)? {
        (m, None) => Ok(m),
        (_, Some(e)) => Err(e),
    }
}

/// Like [`parse`], but a problem after the header keeps what was parsed before it: returns
/// the message so far and the error. Fails only when the 12-byte header is incomplete.
pub fn parse_partial(payload: &[u8]) -> Result<(DnsMessage, Option<DnsError>), DnsError> {
    let mut r = Reader::new(payload);
    let [id, flags, qd, an, ns, ar] =
        header(&mut r).ok_or(err(payload.len(), DnsErrorKind::Truncated))?;
    let mut m = DnsMessage {
        id,
        response: flags & 0x8000 != 0,
        opcode: ((flags >> 11) & 0xf) as u8,
        authoritative: flags & 0x0400 != 0,
        truncated: flags & 0x0200 != 0,
        recursion_desired: flags & 0x0100 != 0,
        recursion_available: flags & 0x0080 != 0,
        z: ((flags >> 4) & 0x7) as u8,
        rcode: flags & 0xf,
        question_count: qd,
        answer_count: an,
        authority_count: ns,
        additional_count: ar,
        questions: Vec::new(),
        answers: Vec::new(),
        authorities: Vec::new(),
        additionals: Vec::new(),
    };
    let e = body(payload, &mut r, &mut m).err();
    Ok((m, e))
}

fn body<'a>(msg: &'a [u8], r: &mut Reader<'a>, m: &mut DnsMessage) -> Result<(), DnsError> {
    for _ in 0..m.question_count {
        let q = question(msg, r)?;
        if m.questions.len() < MAX_RECORDS {
            m.questions.push(q);
        }
    }
    let counts = [m.answer_count, m.authority_count, m.additional_count];
    for (section, count) in counts.into_iter().enumerate() {
        for _ in 0..count {
            let rec = record(msg, r)?;
            if rec.rrtype == 41 {
                // OPT: extended rcode in the TTL's top byte.
                m.rcode = (m.rcode & 0xf) | (((rec.ttl >> 24) as u16) << 4);
            }
            let v = match section {
                0 => &mut m.answers,
                1 => &mut m.authorities,
                _ => &mut m.additionals,
            };
            if v.len() < MAX_RECORDS {
                v.push(rec);
            }
        }
    }
    Ok(())
}

fn question<'a>(msg: &'a [u8], r: &mut Reader<'a>) -> Result<DnsQuestion, DnsError> {
    let name = name_string(msg, r)?;
    let at = r.offset();
    let (Some(rrtype), Some(class)) = (r.u16(), r.u16()) else {
        return Err(err(at, DnsErrorKind::Truncated));
    };
    Ok(DnsQuestion {
        name,
        rrtype,
        class: class & 0x7fff,
        unicast_response: class & 0x8000 != 0,
    })
}

fn record<'a>(msg: &'a [u8], r: &mut Reader<'a>) -> Result<DnsRecord, DnsError> {
    let name = name_string(msg, r)?;
    let at = r.offset();
    let (Some(rrtype), Some(class), Some(ttl), Some(rdlen)) =
        (r.u16(), r.u16(), u32_be(r), r.u16())
    else {
        return Err(err(at, DnsErrorKind::Truncated));
    };
    let data_at = r.offset();
    let mut rd = r
        .sub(usize::from(rdlen))
        .ok_or(err(data_at, DnsErrorKind::Truncated))?;
    let data = rdata(msg, rrtype, &mut rd)?;
    let (class, cache_flush) = if rrtype == 41 {
        (class, false)
    } else {
        (class & 0x7fff, class & 0x8000 != 0)
    };
    Ok(DnsRecord {
        name,
        rrtype,
        class,
        cache_flush,
        ttl,
        data,
    })
}

fn rdata<'a>(msg: &'a [u8], rrtype: u16, rd: &mut Reader<'a>) -> Result<DnsRdata, DnsError> {
    let at = rd.offset();
    let bad = err(at, DnsErrorKind::BadRdata);
    if rd.is_empty() {
        // Dynamic update (RFC 2136 §2.5.2–2.5.4) deletes and prerequisites carry no data.
        return Ok(DnsRdata::Other { len: 0 });
    }
    Ok(match rrtype {
        1 => {
            let a = rd.take_array::<4>().filter(|_| rd.is_empty()).ok_or(bad)?;
            DnsRdata::A(Ipv4Addr::from(*a))
        }
        28 => {
            let a = rd.take_array::<16>().filter(|_| rd.is_empty()).ok_or(bad)?;
            DnsRdata::Aaaa(Ipv6Addr::from(*a))
        }
        2 | 5 | 12 | 39 => DnsRdata::Name(name_string(msg, rd)?),
        16 | 99 => {
            let mut v = Vec::new();
            while !rd.is_empty() {
                let at = rd.offset();
                let n = rd.u8().ok_or(bad)?;
                let s = rd
                    .take(usize::from(n))
                    .ok_or(err(at, DnsErrorKind::BadRdata))?;
                let mut t = String::new();
                push_escaped(&mut t, s);
                v.push(t);
            }
            DnsRdata::Txt(v)
        }
        33 => {
            let (Some(priority), Some(weight), Some(port)) = (rd.u16(), rd.u16(), rd.u16()) else {
                return Err(bad);
            };
            DnsRdata::Srv {
                priority,
                weight,
                port,
                target: name_string(msg, rd)?,
            }
        }
        15 => {
            let preference = rd.u16().ok_or(bad)?;
            DnsRdata::Mx {
                preference,
                exchange: name_string(msg, rd)?,
            }
        }
        6 => {
            let mname = name_string(msg, rd)?;
            let rname = name_string(msg, rd)?;
            let at = rd.offset();
            let serial = u32_be(rd).ok_or(err(at, DnsErrorKind::BadRdata))?;
            DnsRdata::Soa {
                mname,
                rname,
                serial,
            }
        }
        _ => DnsRdata::Other { len: rd.left() },
    })
}

/// True when `payload` looks like a DNS message: a header with opcode 0, 1, 2, 4 or 5,
/// section counts that fit the length (a question takes at least 5 bytes, a record 11) and
/// not all zero, and a first question (or, without questions, a first record header) that
/// parses.
pub fn probe(payload: &[u8]) -> bool {
    let mut r = Reader::new(payload);
    let Some([_, flags, qd, an, ns, ar]) = header(&mut r) else {
        return false;
    };
    let opcode = (flags >> 11) & 0xf;
    if !matches!(opcode, 0 | 1 | 2 | 4 | 5) {
        return false;
    }
    let records = usize::from(an) + usize::from(ns) + usize::from(ar);
    if qd == 0 && records == 0 {
        return false;
    }
    let min = HEADER_LEN + 5 * usize::from(qd) + 11 * records;
    if min > payload.len() {
        return false;
    }
    if qd > 0 {
        question(payload, &mut r).is_ok()
    } else {
        read_name(payload, &mut r, None).is_ok() && r.left() >= 10
    }
}
