//! GRE (RFC 2784, RFC 2890, PPTP's enhanced GRE of RFC 2637) and ERSPAN types I–III.

use super::{be16, byte};
use crate::error::{need, DecodeError, ErrorKind, Layer};

/// GRE protocol type for ERSPAN type I and II.
pub const PROTO_ERSPAN_2: u16 = 0x88be;
/// GRE protocol type for ERSPAN type III.
pub const PROTO_ERSPAN_3: u16 = 0x22eb;
/// GRE protocol type for PPP (PPTP).
pub const PROTO_PPP: u16 = 0x880b;

/// A parsed GRE header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// GRE version (0 = RFC 2784, 1 = PPTP).
    pub version: u8,
    /// Protocol type of the payload (an EtherType).
    pub protocol: u16,
    /// True when a sequence number is present.
    pub has_seq: bool,
    /// Bytes after the GRE header.
    pub payload: &'a [u8],
}

/// Parses a GRE header.
///
/// # Errors
/// `Truncated` when the optional fields run past the data; `BadVersion` for versions other
/// than 0 and 1.
pub fn parse(buf: &[u8]) -> Result<Header<'_>, DecodeError> {
    need(buf, 4, Layer::Gre)?;
    let flags = byte(buf, 0);
    let version = byte(buf, 1) & 0x07;
    if version > 1 {
        return Err(DecodeError::new(
            Layer::Gre,
            1,
            ErrorKind::BadVersion(version),
        ));
    }
    let has_seq = flags & 0x10 != 0;
    let mut len = 4;
    if flags & 0xc0 != 0 {
        len += 4; // checksum + offset (RFC 1701 routing-present also implies them)
    }
    if flags & 0x20 != 0 {
        len += 4; // key (for PPTP: payload length + call id)
    }
    if has_seq {
        len += 4;
    }
    if version == 1 && byte(buf, 1) & 0x80 != 0 {
        len += 4; // PPTP acknowledgment number
    }
    need(buf, len, Layer::Gre)?;
    Ok(Header {
        version,
        protocol: be16(buf, 2),
        has_seq,
        payload: super::rest(buf, len),
    })
}

/// Strips an ERSPAN header and returns the mirrored Ethernet frame.
///
/// Type I (protocol 0x88be without a GRE sequence number) has no header; type II has 8 bytes;
/// type III (0x22eb) has 12, plus an 8-byte platform sub-header when the O bit is set.
///
/// # Errors
/// `Truncated` for a header shorter than its type requires.
pub fn strip_erspan<'a>(gre: &Header<'a>) -> Result<&'a [u8], DecodeError> {
    let buf = gre.payload;
    let len = match gre.protocol {
        PROTO_ERSPAN_2 if !gre.has_seq => 0,
        PROTO_ERSPAN_2 => 8,
        _ => {
            need(buf, 12, Layer::Erspan)?;
            if byte(buf, 11) & 0x01 != 0 {
                20
            } else {
                12
            }
        }
    };
    need(buf, len, Layer::Erspan)?;
    Ok(super::rest(buf, len))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn plain_gre_carries_ipv4() {
        let h = parse(&[0, 0, 0x08, 0x00, 0x45]).unwrap();
        assert_eq!((h.version, h.protocol, h.payload), (0, 0x0800, &[0x45][..]));
    }

    #[test]
    fn key_and_sequence_are_skipped() {
        let b = [0x30, 0, 0x88, 0xbe, 0, 0, 0, 1, 0, 0, 0, 2, 0xee];
        let h = parse(&b).unwrap();
        assert!(h.has_seq);
        assert_eq!(h.payload, &[0xee]);
    }

    #[test]
    fn pptp_ack_is_skipped() {
        let b = [
            0x30, 0x81, 0x88, 0x0b, 0, 4, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0xff,
        ];
        assert_eq!(parse(&b).unwrap().payload, &[0xff]);
    }

    #[test]
    fn erspan_type_ii_header_is_stripped() {
        let b = [
            0x10, 0, 0x88, 0xbe, 0, 0, 0, 1, 1, 2, 3, 4, 5, 6, 7, 8, 0xaa,
        ];
        let h = parse(&b).unwrap();
        assert_eq!(strip_erspan(&h).unwrap(), &[0xaa]);
    }

    #[test]
    fn rejects_version_two() {
        assert_eq!(
            parse(&[0, 2, 8, 0]).unwrap_err().kind,
            ErrorKind::BadVersion(2)
        );
    }
}
