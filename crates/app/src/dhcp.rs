//! DHCPv4 (RFC 2131, 2132) and plain BOOTP (RFC 951) messages.
//!
//! [`parse`] reads the fixed 236-byte BOOTP header, then, when the magic cookie 0x63825363
//! follows, the options: from the options field, then — as option 52 (overload) asks — from
//! the `file` field and the `sname` field (RFC 2131 §4.1 order). An option that appears more
//! than once is concatenated (RFC 3396). Pad (0) is skipped; End (255) ends an area; an area
//! without End ends at its last byte. Without the cookie the message is plain BOOTP: no
//! options, `message_type` is `None`.
//!
//! Text options (host name, domain, message, vendor class, FQDN, relay-agent strings) are
//! escaped like DNS names (see [`crate::dns`]: printable ASCII as is, `\` and other bytes as
//! `\xNN`), with trailing NUL bytes dropped (as Zeek does for the domain name).
//!
//! Policy on bad input: a message shorter than the header, or an option whose length runs
//! past its area, is an error carrying the byte offset and kind; nothing of the message is
//! returned then. Option contents with the wrong length (an address option whose length is
//! not a multiple of 4…) are ignored, not errors.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::Ipv4Addr;

use serde::Serialize;

use crate::reader::Reader;
use crate::text::push_escaped;

/// Fixed BOOTP header length (op … file).
pub const HEADER_LEN: usize = 236;
/// The DHCP magic cookie.
pub const MAGIC_COOKIE: u32 = 0x6382_5363;
/// Smallest plain BOOTP message [`probe`] accepts without a cookie (RFC 951: 300 bytes).
pub const BOOTP_MIN_LEN: usize = 300;
/// Option codes kept in [`DhcpMessage::option_codes`].
pub const MAX_OPTION_CODES: usize = 64;

/// One DHCP or BOOTP message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DhcpMessage {
    /// 1 BOOTREQUEST, 2 BOOTREPLY.
    pub op: u8,
    /// Hardware type (1 Ethernet).
    pub hardware_type: u8,
    /// Transaction id.
    pub xid: u32,
    /// Client hardware address, lower-case `aa:bb:…`: the `hlen` first bytes of chaddr
    /// (6 for Ethernet; 6 when hlen is 0 or over 16).
    pub client_mac: String,
    /// Client address (ciaddr).
    pub ciaddr: Ipv4Addr,
    /// Address offered or assigned (yiaddr).
    pub yiaddr: Ipv4Addr,
    /// Next server (siaddr).
    pub siaddr: Ipv4Addr,
    /// Relay agent (giaddr).
    pub giaddr: Ipv4Addr,
    /// `sname` field, when it holds a name (not options) and is not empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// `file` field, when it holds a name (not options) and is not empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub boot_file: Option<String>,
    /// Option 53.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message_type: Option<u8>,
    /// Option 12.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Option 60.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vendor_class: Option<String>,
    /// Option 61, lower-case hex without separators (type byte first).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Option 50.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_ip: Option<Ipv4Addr>,
    /// Option 54.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_id: Option<Ipv4Addr>,
    /// Option 51, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_time: Option<u32>,
    /// Option 55: the parameter request list as sent.
    pub params: Vec<u8>,
    /// Option 55 as "1,3,6,15" (the Fingerbank-style DHCP fingerprint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Option 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet_mask: Option<Ipv4Addr>,
    /// Option 3.
    pub routers: Vec<Ipv4Addr>,
    /// Option 6.
    pub dns_servers: Vec<Ipv4Addr>,
    /// Option 15.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain_name: Option<String>,
    /// Option 56.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Option 81: the domain name (wire-format names decoded when the E flag is set).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_fqdn: Option<String>,
    /// Option 82 sub-option 1 (agent circuit id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_circuit_id: Option<String>,
    /// Option 82 sub-option 2 (agent remote id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_remote_id: Option<String>,
    /// Option 82 sub-option 6 (subscriber id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscriber_id: Option<String>,
    /// Option codes in order of appearance (first [`MAX_OPTION_CODES`], Pad and End left
    /// out), as used by option-order fingerprints.
    pub option_codes: Vec<u8>,
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum DhcpErrorKind {
    /// Shorter than the 236-byte header.
    #[error("message shorter than the bootp header")]
    Truncated,
    /// An option's length runs past the end of its area.
    #[error("option runs past its area")]
    BadOption,
}

/// A parse error: byte offset in the message and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("dhcp at byte {offset}: {kind}")]
pub struct DhcpError {
    /// Byte offset in the message.
    pub offset: usize,
    /// What.
    pub kind: DhcpErrorKind,
}

/// Name of a message type (option 53), as Zeek's `DHCP::message_types`.
pub fn message_type_name(t: u8) -> Option<&'static str> {
    Some(match t {
        1 => "DISCOVER",
        2 => "OFFER",
        3 => "REQUEST",
        4 => "DECLINE",
        5 => "ACK",
        6 => "NAK",
        7 => "RELEASE",
        8 => "INFORM",
        9 => "FORCERENEW",
        10 => "LEASEQUERY",
        11 => "LEASEUNASSIGNED",
        12 => "LEASEUNKNOWN",
        13 => "LEASEACTIVE",
        14 => "BULKLEASEQUERY",
        15 => "LEASEQUERYDONE",
        16 => "ACTIVELEASEQUERY",
        17 => "LEASEQUERYSTATUS",
        18 => "TLS",
        _ => return None,
    })
}

/// True when `payload` looks like DHCP or BOOTP: op 1 or 2, hardware address length ≤ 16,
/// hops ≤ 16, and the magic cookie at offset 236 — or, without it, at least
/// [`BOOTP_MIN_LEN`] bytes with an Ethernet (1) or IEEE 802 (6) hardware type.
pub fn probe(payload: &[u8]) -> bool {
    let mut r = Reader::new(payload);
    let (Some(op), Some(htype), Some(hlen), Some(hops)) = (r.u8(), r.u8(), r.u8(), r.u8()) else {
        return false;
    };
    if !matches!(op, 1 | 2) || hlen > 16 || hops > 16 {
        return false;
    }
    if cookie(payload) {
        return true;
    }
    payload.len() >= BOOTP_MIN_LEN && matches!(htype, 1 | 6) && hlen == 6
}

fn cookie(payload: &[u8]) -> bool {
    payload
        .get(HEADER_LEN..HEADER_LEN + 4)
        .is_some_and(|c| c == MAGIC_COOKIE.to_be_bytes())
}

fn u32_be(r: &mut Reader<'_>) -> Option<u32> {
    r.take_array::<4>().map(|a| u32::from_be_bytes(*a))
}

fn ip(r: &mut Reader<'_>) -> Option<Ipv4Addr> {
    r.take_array::<4>().map(|a| Ipv4Addr::from(*a))
}

/// Escaped text with trailing NULs dropped.
fn text(bytes: &[u8]) -> String {
    let end = bytes.iter().rposition(|b| *b != 0).map_or(0, |i| i + 1);
    let mut s = String::new();
    push_escaped(&mut s, bytes.get(..end).unwrap_or_default());
    s
}

fn hex(bytes: &[u8], sep: &str) -> String {
    let mut s = String::new();
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push_str(sep);
        }
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Options of one area, concatenated per code; `codes` gets the order of appearance.
fn options(
    area: &[u8],
    base: usize,
    opts: &mut BTreeMap<u8, Vec<u8>>,
    codes: &mut Vec<u8>,
) -> Result<(), DhcpError> {
    let mut r = Reader::with_base(area, base);
    while let Some(code) = r.u8() {
        match code {
            0 => continue,
            255 => break,
            _ => {
                let at = r.offset().saturating_sub(1);
                let bad = DhcpError {
                    offset: at,
                    kind: DhcpErrorKind::BadOption,
                };
                let len = r.u8().ok_or(bad)?;
                let data = r.take(usize::from(len)).ok_or(bad)?;
                opts.entry(code).or_default().extend_from_slice(data);
                if codes.len() < MAX_OPTION_CODES {
                    codes.push(code);
                }
            }
        }
    }
    Ok(())
}

fn addr_list(v: Option<&Vec<u8>>) -> Vec<Ipv4Addr> {
    v.map(|b| {
        b.chunks_exact(4)
            .filter_map(|c| <[u8; 4]>::try_from(c).ok().map(Ipv4Addr::from))
            .collect()
    })
    .unwrap_or_default()
}

fn one_addr(v: Option<&Vec<u8>>) -> Option<Ipv4Addr> {
    let b: [u8; 4] = v?.as_slice().try_into().ok()?;
    Some(Ipv4Addr::from(b))
}

/// Option 81 (RFC 4702): flags, two obsolete rcodes, then the name — DNS wire format when the
/// E bit (0x04) is set, ASCII otherwise.
fn fqdn(v: &[u8]) -> Option<String> {
    let mut r = Reader::new(v);
    let flags = r.u8()?;
    r.take(2)?;
    let name = r.rest();
    if flags & 0x04 == 0 {
        return Some(text(name));
    }
    let mut s = String::new();
    let mut r = Reader::new(name);
    while let Some(len) = r.u8() {
        if len == 0 || len & 0xc0 != 0 {
            break;
        }
        let Some(label) = r.take(usize::from(len)) else {
            break;
        };
        if !s.is_empty() {
            s.push('.');
        }
        push_escaped(&mut s, label);
    }
    Some(s)
}

/// Option 82 sub-option `code`.
fn agent_sub(v: Option<&Vec<u8>>, code: u8) -> Option<String> {
    let mut r = Reader::new(v?);
    while let (Some(c), Some(len)) = (r.u8(), r.u8()) {
        let data = r.take(usize::from(len))?;
        if c == code {
            return Some(text(data));
        }
    }
    None
}

/// Parses one DHCP or BOOTP message (a UDP payload).
pub fn parse(payload: &[u8]) -> Result<DhcpMessage, DhcpError> {
    let mut r = Reader::new(payload);
    let truncated = DhcpError {
        offset: payload.len(),
        kind: DhcpErrorKind::Truncated,
    };
    let (Some(op), Some(htype), Some(hlen), Some(_hops)) = (r.u8(), r.u8(), r.u8(), r.u8()) else {
        return Err(truncated);
    };
    let (Some(xid), Some(_secs), Some(_flags)) = (u32_be(&mut r), r.u16(), r.u16()) else {
        return Err(truncated);
    };
    let (Some(ciaddr), Some(yiaddr), Some(siaddr), Some(giaddr)) =
        (ip(&mut r), ip(&mut r), ip(&mut r), ip(&mut r))
    else {
        return Err(truncated);
    };
    let (Some(chaddr), Some(sname), Some(file)) = (
        r.take_array::<16>(),
        r.take_array::<64>(),
        r.take_array::<128>(),
    ) else {
        return Err(truncated);
    };
    let mac_len = match usize::from(hlen) {
        n @ 1..=16 => n,
        _ => 6,
    };
    let client_mac = hex(chaddr.get(..mac_len).unwrap_or(chaddr), ":");

    let mut opts: BTreeMap<u8, Vec<u8>> = BTreeMap::new();
    let mut codes = Vec::new();
    let mut overload = 0u8;
    if cookie(payload) {
        let start = HEADER_LEN + 4;
        options(
            payload.get(start..).unwrap_or_default(),
            start,
            &mut opts,
            &mut codes,
        )?;
        overload = opts.get(&52).and_then(|v| v.first().copied()).unwrap_or(0);
        if overload & 1 != 0 {
            options(file, 108, &mut opts, &mut codes)?;
        }
        if overload & 2 != 0 {
            options(sname, 44, &mut opts, &mut codes)?;
        }
    }
    let name_field = |f: &[u8], used: bool| {
        let s = text(f.split(|b| *b == 0).next().unwrap_or_default());
        (!used && !s.is_empty()).then_some(s)
    };
    let get = |c: u8| opts.get(&c);
    let params = get(55).cloned().unwrap_or_default();
    Ok(DhcpMessage {
        op,
        hardware_type: htype,
        xid,
        client_mac,
        ciaddr,
        yiaddr,
        siaddr,
        giaddr,
        server_name: name_field(sname, overload & 2 != 0),
        boot_file: name_field(file, overload & 1 != 0),
        message_type: get(53).and_then(|v| v.first().copied()),
        hostname: get(12).map(|v| text(v)),
        vendor_class: get(60).map(|v| text(v)),
        client_id: get(61).map(|v| hex(v, "")),
        requested_ip: one_addr(get(50)),
        server_id: one_addr(get(54)),
        lease_time: get(51)
            .and_then(|v| <[u8; 4]>::try_from(v.as_slice()).ok())
            .map(u32::from_be_bytes),
        fingerprint: get(55).map(|v| {
            v.iter()
                .map(|b| b.to_string())
                .collect::<Vec<_>>()
                .join(",")
        }),
        params,
        subnet_mask: one_addr(get(1)),
        routers: addr_list(get(3)),
        dns_servers: addr_list(get(6)),
        domain_name: get(15).map(|v| text(v)),
        message: get(56).map(|v| text(v)),
        client_fqdn: get(81).and_then(|v| fqdn(v)),
        agent_circuit_id: agent_sub(get(82), 1),
        agent_remote_id: agent_sub(get(82), 2),
        subscriber_id: agent_sub(get(82), 6),
        option_codes: codes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(op: u8, msg_type: u8) -> Vec<u8> {
        let mut m = vec![0u8; HEADER_LEN];
        m[0] = op;
        m[1] = 1;
        m[2] = 6;
        m[4..8].copy_from_slice(&0xdead_beefu32.to_be_bytes());
        m[16..20].copy_from_slice(&[192, 168, 1, 50]);
        m[28..34].copy_from_slice(&[0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42]);
        m.extend(MAGIC_COOKIE.to_be_bytes());
        m.extend([53, 1, msg_type]);
        m
    }

    fn request() -> Vec<u8> {
        let mut m = header(1, 3);
        m.extend([12, 8]);
        m.extend(b"test0000");
        m.extend([55, 4, 1, 3, 6, 15]);
        m.extend([60, 8]);
        m.extend(b"MSFT 5.0");
        m.extend([61, 7, 1, 0x00, 0x0b, 0x82, 0x01, 0xfc, 0x42]);
        m.extend([50, 4, 192, 168, 1, 50]);
        m.extend([81, 11, 0x05, 0, 0, 4, b't', b'e', b's', b't', 2, b'a', b'b']);
        m.extend([0, 0, 255]);
        m
    }

    #[test]
    fn parses_a_request() {
        let m = parse(&request()).unwrap();
        assert_eq!(m.op, 1);
        assert_eq!(m.xid, 0xdead_beef);
        assert_eq!(m.client_mac, "00:0b:82:01:fc:42");
        assert_eq!(m.message_type, Some(3));
        assert_eq!(message_type_name(3), Some("REQUEST"));
        assert_eq!(m.hostname.as_deref(), Some("test0000"));
        assert_eq!(m.params, vec![1, 3, 6, 15]);
        assert_eq!(m.fingerprint.as_deref(), Some("1,3,6,15"));
        assert_eq!(m.vendor_class.as_deref(), Some("MSFT 5.0"));
        assert_eq!(m.client_id.as_deref(), Some("01000b8201fc42"));
        assert_eq!(m.requested_ip, Some(Ipv4Addr::new(192, 168, 1, 50)));
        assert_eq!(m.client_fqdn.as_deref(), Some("test.ab"));
        assert_eq!(m.option_codes, vec![53, 12, 55, 60, 61, 50, 81]);
        assert!(probe(&request()));
    }

    #[test]
    fn parses_an_ack_with_lists() {
        let mut m = header(2, 5);
        m.extend([54, 4, 10, 0, 0, 1, 51, 4, 0, 0, 0x0e, 0x10]);
        m.extend([1, 4, 255, 255, 255, 0, 3, 8, 10, 0, 0, 1, 10, 0, 0, 2]);
        m.extend([6, 4, 8, 8, 8, 8, 15, 9]);
        m.extend(b"cmu.edu\0\0");
        m.extend([56, 3, b'n', b'o', 0xff]);
        m.extend([82, 9, 1, 3, b'a', b'b', b'c', 2, 2, 0x13, 0x5c]);
        m.push(255);
        let p = parse(&m).unwrap();
        assert_eq!(p.yiaddr, Ipv4Addr::new(192, 168, 1, 50));
        assert_eq!(p.server_id, Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(p.lease_time, Some(3600));
        assert_eq!(p.subnet_mask, Some(Ipv4Addr::new(255, 255, 255, 0)));
        assert_eq!(p.routers.len(), 2);
        assert_eq!(p.dns_servers, vec![Ipv4Addr::new(8, 8, 8, 8)]);
        assert_eq!(p.domain_name.as_deref(), Some("cmu.edu"));
        assert_eq!(p.message.as_deref(), Some("no\\xff"));
        assert_eq!(p.agent_circuit_id.as_deref(), Some("abc"));
        assert_eq!(p.agent_remote_id.as_deref(), Some("\\x13\\x5c"));
    }

    #[test]
    fn repeated_options_concatenate() {
        let mut m = header(1, 1);
        m.extend([12, 3, b'a', b'b', b'c', 12, 2, b'd', b'e', 255]);
        assert_eq!(parse(&m).unwrap().hostname.as_deref(), Some("abcde"));
    }

    #[test]
    fn option_overload() {
        let mut m = header(2, 5);
        m.extend([52, 1, 3, 255]);
        // file (offset 108) holds the lease time, sname (offset 44) the host name.
        m[108..114].copy_from_slice(&[51, 4, 0, 0, 0, 60]);
        m[114] = 255;
        m[44..50].copy_from_slice(&[12, 3, b'h', b'o', b's', 255]);
        let p = parse(&m).unwrap();
        assert_eq!(p.lease_time, Some(60));
        assert_eq!(p.hostname.as_deref(), Some("hos"));
        assert_eq!(p.server_name, None);
        assert_eq!(p.boot_file, None);
        // A bad option inside the overloaded file field reports its offset there.
        m[108..111].copy_from_slice(&[51, 200, 0]);
        assert_eq!(
            parse(&m).unwrap_err(),
            DhcpError {
                offset: 108,
                kind: DhcpErrorKind::BadOption
            }
        );
    }

    #[test]
    fn plain_bootp_and_names() {
        let mut m = vec![0u8; BOOTP_MIN_LEN];
        m[0] = 1;
        m[1] = 1;
        m[2] = 6;
        m[44..49].copy_from_slice(b"srv\0x");
        m[108..113].copy_from_slice(b"pxe\0\0");
        let p = parse(&m).unwrap();
        assert_eq!(p.message_type, None);
        assert_eq!(p.server_name.as_deref(), Some("srv"));
        assert_eq!(p.boot_file.as_deref(), Some("pxe"));
        assert!(probe(&m));
        assert!(!probe(&m[..299]));
    }

    #[test]
    fn every_truncation_is_handled() {
        let full = request();
        for n in 0..full.len() {
            let cut = &full[..n];
            match parse(cut) {
                Ok(m) => assert!(n >= HEADER_LEN, "{n}: {m:?}"),
                Err(e) => assert!(e.offset <= n, "{n}: {e}"),
            }
            let _ = probe(cut);
        }
        assert!(parse(&full[..HEADER_LEN - 1]).is_err());
        // Cut inside the host name option.
        assert_eq!(
            parse(&full[..HEADER_LEN + 4 + 3 + 4]).unwrap_err(),
            DhcpError {
                offset: HEADER_LEN + 4 + 3,
                kind: DhcpErrorKind::BadOption
            }
        );
    }

    #[test]
    fn probe_rejects_noise() {
        assert!(!probe(b""));
        let mut m = request();
        m[0] = 3;
        assert!(!probe(&m));
        // No cookie: only a full-size BOOTP message passes.
        let mut m = request();
        m[236] = 0;
        assert!(!probe(&m[..BOOTP_MIN_LEN - 1]));
        m.resize(BOOTP_MIN_LEN, 0);
        assert!(probe(&m));
        assert!(!probe(&[1u8; 400]));
    }

    #[test]
    fn odd_hardware_addresses() {
        let mut m = request();
        m[2] = 0;
        assert_eq!(parse(&m).unwrap().client_mac, "00:0b:82:01:fc:42");
        m[2] = 8;
        assert_eq!(parse(&m).unwrap().client_mac, "00:0b:82:01:fc:42:00:00");
    }
}
