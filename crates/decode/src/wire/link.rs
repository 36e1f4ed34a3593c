//! Capture pseudo-headers: Linux cooked capture (SLL, SLL2) and BSD loopback (NULL/LOOP).

use super::{be16, be32, byte};
use crate::error::{need, DecodeError, Layer};

/// Linux cooked capture v1 header length (LINKTYPE_LINUX_SLL).
pub const SLL_LEN: usize = 16;
/// Linux cooked capture v2 header length (LINKTYPE_LINUX_SLL2).
pub const SLL2_LEN: usize = 20;
/// BSD loopback header length (LINKTYPE_NULL / LINKTYPE_LOOP).
pub const NULL_LEN: usize = 4;

/// A parsed cooked or loopback header: what the payload is and where it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cooked<'a> {
    /// Protocol of the payload as an EtherType.
    pub ethertype: u16,
    /// Link-layer source address bytes (up to 8), when the header carries one.
    pub src_addr: Option<[u8; 6]>,
    /// Bytes after the header.
    pub payload: &'a [u8],
}

fn addr6(buf: &[u8], at: usize, len: u16) -> Option<[u8; 6]> {
    (len == 6).then(|| super::array::<6>(buf, at))
}

/// Parses a LINUX_SLL header (protocol at bytes 14–15).
///
/// # Errors
/// `Truncated` below 16 bytes.
pub fn parse_sll(buf: &[u8]) -> Result<Cooked<'_>, DecodeError> {
    need(buf, SLL_LEN, Layer::Link)?;
    Ok(Cooked {
        ethertype: be16(buf, 14),
        src_addr: addr6(buf, 6, be16(buf, 4)),
        payload: super::rest(buf, SLL_LEN),
    })
}

/// Parses a LINUX_SLL2 header (protocol at bytes 0–1).
///
/// # Errors
/// `Truncated` below 20 bytes.
pub fn parse_sll2(buf: &[u8]) -> Result<Cooked<'_>, DecodeError> {
    need(buf, SLL2_LEN, Layer::Link)?;
    Ok(Cooked {
        ethertype: be16(buf, 0),
        src_addr: addr6(buf, 12, u16::from(byte(buf, 11))),
        payload: super::rest(buf, SLL2_LEN),
    })
}

/// Parses a NULL/LOOP header: a 4-byte address family in host (NULL) or network (LOOP) order.
///
/// Families: 2 = IPv4; 24, 28, 30 = IPv6 (NetBSD/OpenBSD, FreeBSD, Darwin). Since the byte
/// order of NULL depends on the capturing host, both orders are tried.
///
/// # Errors
/// `Truncated` below 4 bytes.
pub fn parse_null(buf: &[u8]) -> Result<Cooked<'_>, DecodeError> {
    need(buf, NULL_LEN, Layer::Link)?;
    let be = be32(buf, 0);
    let family = if be <= 0xffff { be } else { be.swap_bytes() };
    let ethertype = match family {
        2 => 0x0800,
        24 | 28 | 30 => 0x86dd,
        other => other as u16,
    };
    Ok(Cooked {
        ethertype,
        src_addr: None,
        payload: super::rest(buf, NULL_LEN),
    })
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn null_family_in_either_byte_order() {
        assert_eq!(parse_null(&[2, 0, 0, 0, 0x45]).unwrap().ethertype, 0x0800);
        assert_eq!(parse_null(&[0, 0, 0, 30]).unwrap().ethertype, 0x86dd);
    }

    #[test]
    fn sll_reads_protocol_and_address() {
        let mut b = [0u8; 17];
        b[4..6].copy_from_slice(&6u16.to_be_bytes());
        b[6..12].copy_from_slice(&[1, 2, 3, 4, 5, 6]);
        b[14..16].copy_from_slice(&0x86ddu16.to_be_bytes());
        let c = parse_sll(&b).unwrap();
        assert_eq!(c.ethertype, 0x86dd);
        assert_eq!(c.src_addr, Some([1, 2, 3, 4, 5, 6]));
        assert_eq!(c.payload.len(), 1);
    }

    #[test]
    fn sll2_rejects_short_header() {
        assert!(parse_sll2(&[0; 19]).is_err());
    }
}
