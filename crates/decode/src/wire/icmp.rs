//! ICMP (RFC 792) and ICMPv6 (RFC 4443) headers.

use super::{be16, byte, rest};
use crate::error::{DecodeError, ErrorKind, Layer};

/// Length of the fixed ICMP header (type, code, checksum, 4 bytes of rest-of-header).
pub const HEADER_LEN: usize = 8;

/// A view of an ICMP or ICMPv6 message.
#[derive(Clone, Copy, Debug)]
pub struct Message<'a> {
    buf: &'a [u8],
}

impl<'a> Message<'a> {
    /// Wraps `buf` after checking it holds type, code and checksum (4 bytes).
    ///
    /// # Errors
    /// `Truncated` below 4 bytes, reported for `layer` (Icmp or Icmpv6).
    pub fn new_checked(buf: &'a [u8], layer: Layer) -> Result<Self, DecodeError> {
        if buf.len() < 4 {
            return Err(DecodeError::new(
                layer,
                0,
                ErrorKind::Truncated {
                    needed: 4,
                    available: buf.len(),
                },
            ));
        }
        Ok(Message { buf })
    }

    /// Message type.
    #[inline]
    pub fn msg_type(&self) -> u8 {
        byte(self.buf, 0)
    }

    /// Message code.
    #[inline]
    pub fn msg_code(&self) -> u8 {
        byte(self.buf, 1)
    }

    /// Checksum field.
    #[inline]
    pub fn checksum(&self) -> u16 {
        be16(self.buf, 2)
    }

    /// Bytes after the 8-byte header (empty when shorter).
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        rest(self.buf, HEADER_LEN)
    }

    /// Every byte of the message.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }
}

/// The "port" pair Zeek and Community ID give an ICMP message: `(type, counterpart, one_way)`.
///
/// Request/response types map to their counterpart type; every other type is one-way and its
/// counterpart is the code (Community ID spec §"ICMP"; Zeek `ICMP4_counterpart`/`ICMP6_counterpart`).
pub fn port_equivalents(msg_type: u8, code: u8, v6: bool) -> (u16, u16, bool) {
    let counterpart = if v6 {
        match msg_type {
            128 => Some(129),
            129 => Some(128),
            133 => Some(134),
            134 => Some(133),
            135 => Some(136),
            136 => Some(135),
            130 => Some(131),
            131 => Some(130),
            139 => Some(140),
            140 => Some(139),
            144 => Some(145),
            145 => Some(144),
            _ => None,
        }
    } else {
        match msg_type {
            8 => Some(0),
            0 => Some(8),
            13 => Some(14),
            14 => Some(13),
            15 => Some(16),
            16 => Some(15),
            10 => Some(9),
            9 => Some(10),
            17 => Some(18),
            18 => Some(17),
            _ => None,
        }
    };
    match counterpart {
        Some(c) => (u16::from(msg_type), c, false),
        None => (u16::from(msg_type), u16::from(code), true),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn echo_request_maps_to_reply() {
        assert_eq!(port_equivalents(8, 0, false), (8, 0, false));
        assert_eq!(port_equivalents(128, 0, true), (128, 129, false));
    }

    #[test]
    fn unreachable_is_one_way_with_code() {
        assert_eq!(port_equivalents(3, 3, false), (3, 3, true));
    }

    #[test]
    fn deconstructs_fields() {
        let m = Message::new_checked(&[8, 0, 0xf7, 0xff, 0, 1, 0, 1, 0xaa], Layer::Icmp).unwrap();
        assert_eq!((m.msg_type(), m.msg_code(), m.checksum()), (8, 0, 0xf7ff));
        assert_eq!(m.payload(), &[0xaa]);
    }
}
