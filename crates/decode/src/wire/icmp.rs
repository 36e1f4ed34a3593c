//! ICMP (RFC 792) and ICMPv6 (RFC 4443) headers.

use super::{be16, be32, byte, rest};
use crate::error::{DecodeError, ErrorKind, Layer};
use std::net::{IpAddr, Ipv6Addr};

mod field {
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: usize = 2;
    pub const REST_OF_HEADER: usize = 4;
    pub const PAYLOAD: usize = 8;
}

/// Length of the fixed ICMP header (type, code, checksum, 4 bytes of rest-of-header).
pub const HEADER_LEN: usize = field::PAYLOAD;

/// ICMP echo reply (RFC 792).
pub const ECHO_REPLY: u8 = 0;
/// ICMP echo request (RFC 792).
pub const ECHO_REQUEST: u8 = 8;
/// ICMPv6 echo request (RFC 4443 §4.1).
pub const ECHOV6_REQUEST: u8 = 128;
/// ICMPv6 echo reply (RFC 4443 §4.2).
pub const ECHOV6_REPLY: u8 = 129;

/// IP protocol number of ICMP.
pub const PROTOCOL: u8 = 1;
/// IPv6 next-header number of ICMPv6.
pub const PROTOCOL_V6: u8 = 58;

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
        byte(self.buf, field::TYPE)
    }

    /// Message code.
    #[inline]
    pub fn msg_code(&self) -> u8 {
        byte(self.buf, field::CODE)
    }

    /// Checksum field.
    #[inline]
    pub fn checksum(&self) -> u16 {
        be16(self.buf, field::CHECKSUM)
    }

    /// The 4 bytes after the checksum (echo: identifier and sequence number); 0 when the
    /// message is shorter than 8 bytes.
    #[inline]
    pub fn rest_of_header(&self) -> u32 {
        be32(self.buf, field::REST_OF_HEADER)
    }

    /// Bytes after the 8-byte header (empty when shorter).
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        rest(self.buf, field::PAYLOAD)
    }

    /// Every byte of the message.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }
}

/// An ICMP or ICMPv6 message (a summary of [`Message`]): type, code, the 4 bytes after the
/// checksum, and the payload. The same `Repr` serves both versions; [`Repr::emit`] and
/// [`Repr::parse`] handle ICMP, [`Repr::emit_v6`] and [`Repr::parse_v6`] ICMPv6, whose checksum
/// also covers the IPv6 pseudo-header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Repr<'a> {
    /// Message type.
    pub msg_type: u8,
    /// Message code.
    pub msg_code: u8,
    /// The 4 bytes after the checksum, big-endian (echo: identifier, then sequence number).
    pub rest_of_header: u32,
    /// Bytes after the 8-byte header.
    pub payload: &'a [u8],
}

impl<'a> Repr<'a> {
    /// An echo message of type `msg_type` ([`ECHO_REQUEST`], [`ECHO_REPLY`], [`ECHOV6_REQUEST`]
    /// or [`ECHOV6_REPLY`]) with identifier `ident`, sequence number `seq_no` and `data`.
    pub fn echo(msg_type: u8, ident: u16, seq_no: u16, data: &'a [u8]) -> Self {
        Repr {
            msg_type,
            msg_code: 0,
            rest_of_header: (u32::from(ident) << 16) | u32::from(seq_no),
            payload: data,
        }
    }

    /// Reads an ICMP (v4) message and checks its checksum (RFC 792: over the message alone).
    ///
    /// # Errors
    /// `Truncated` below 8 bytes; `BadChecksum` at byte 2 when the checksum is wrong.
    pub fn parse(message: &Message<'a>) -> Result<Repr<'a>, DecodeError> {
        Self::parse_with(message, Layer::Icmp, 0)
    }

    /// Reads an ICMPv6 message and checks its checksum over the pseudo-header of `src` → `dst`
    /// (RFC 4443 §2.3).
    ///
    /// # Errors
    /// `Truncated` below 8 bytes; `BadChecksum` at byte 2 when the checksum is wrong.
    pub fn parse_v6(
        message: &Message<'a>,
        src: Ipv6Addr,
        dst: Ipv6Addr,
    ) -> Result<Repr<'a>, DecodeError> {
        let len = u32::try_from(message.buf.len()).unwrap_or(u32::MAX);
        let pseudo = pseudo_v6(src, dst, len);
        Self::parse_with(message, Layer::Icmpv6, pseudo)
    }

    fn parse_with(
        message: &Message<'a>,
        layer: Layer,
        pseudo: u64,
    ) -> Result<Repr<'a>, DecodeError> {
        crate::error::need(message.buf, HEADER_LEN, layer)?;
        if !crate::checksum::verify(message.buf, pseudo) {
            return Err(DecodeError::new(
                layer,
                field::CHECKSUM,
                ErrorKind::BadChecksum,
            ));
        }
        Ok(Repr {
            msg_type: message.msg_type(),
            msg_code: message.msg_code(),
            rest_of_header: message.rest_of_header(),
            payload: message.payload(),
        })
    }

    /// Bytes [`Repr::emit`] writes: the 8-byte header and the payload.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }

    /// Writes the message as ICMP (v4) at the start of `buf`, with its checksum.
    ///
    /// # Panics
    /// When `buf` is shorter than [`Repr::buffer_len`].
    pub fn emit(&self, buf: &mut [u8]) {
        self.emit_with(buf, 0, "icmp");
    }

    /// Writes the message as ICMPv6 at the start of `buf`, with its checksum over the
    /// pseudo-header of `src` → `dst`.
    ///
    /// # Panics
    /// When `buf` is shorter than [`Repr::buffer_len`].
    pub fn emit_v6(&self, buf: &mut [u8], src: Ipv6Addr, dst: Ipv6Addr) {
        let len = u32::try_from(self.buffer_len()).unwrap_or(u32::MAX);
        self.emit_with(buf, pseudo_v6(src, dst, len), "icmpv6");
    }

    fn emit_with(&self, buf: &mut [u8], pseudo: u64, what: &str) {
        let len = self.buffer_len();
        super::check_emit_len(buf, len, what);
        super::put(buf, field::TYPE, &[self.msg_type, self.msg_code, 0, 0]);
        super::put32(buf, field::REST_OF_HEADER, self.rest_of_header);
        super::put(buf, field::PAYLOAD, self.payload);
        let message = buf.get(..len).unwrap_or(&[]);
        let checksum = crate::checksum::finish(crate::checksum::sum(message, pseudo));
        super::put16(buf, field::CHECKSUM, checksum);
    }
}

/// The ICMPv6 pseudo-header sum (RFC 8200 §8.1, next header 58).
fn pseudo_v6(src: Ipv6Addr, dst: Ipv6Addr, len: u32) -> u64 {
    crate::checksum::pseudo_header(IpAddr::V6(src), IpAddr::V6(dst), PROTOCOL_V6, len)
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
    fn echo_request_round_trips_with_a_valid_checksum() {
        let r = Repr::echo(ECHO_REQUEST, 0x1234, 7, b"ping");
        assert_eq!(r.buffer_len(), 12);
        let mut buf = [0xffu8; 12];
        r.emit(&mut buf);
        assert_eq!(buf[..2], [8, 0]);
        assert_eq!(buf[4..], [0x12, 0x34, 0, 7, b'p', b'i', b'n', b'g']);
        assert!(crate::checksum::verify(&buf, 0));
        let m = Message::new_checked(&buf, Layer::Icmp).unwrap();
        assert_eq!(m.rest_of_header(), 0x1234_0007);
        assert_eq!(Repr::parse(&m), Ok(r));
    }

    #[test]
    fn icmpv6_checksum_covers_the_pseudo_header() {
        let (src, dst): (Ipv6Addr, Ipv6Addr) = (
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
        );
        let r = Repr::echo(ECHOV6_REPLY, 1, 2, b"pong!");
        let mut buf = [0u8; 13];
        r.emit_v6(&mut buf, src, dst);
        assert!(!crate::checksum::verify(&buf, 0));
        let m = Message::new_checked(&buf, Layer::Icmpv6).unwrap();
        assert_eq!(Repr::parse_v6(&m, src, dst), Ok(r));
        let e = Repr::parse_v6(&m, dst, dst).unwrap_err();
        assert_eq!(
            (e.layer, e.offset, e.kind),
            (Layer::Icmpv6, 2, ErrorKind::BadChecksum)
        );
    }

    #[test]
    fn parse_rejects_message_shorter_than_header() {
        let m = Message::new_checked(&[8, 0, 0xf7, 0xff], Layer::Icmp).unwrap();
        assert_eq!(
            Repr::parse(&m).unwrap_err().kind,
            ErrorKind::Truncated {
                needed: 8,
                available: 4
            }
        );
    }

    #[test]
    fn deconstructs_fields() {
        let m = Message::new_checked(&[8, 0, 0xf7, 0xff, 0, 1, 0, 1, 0xaa], Layer::Icmp).unwrap();
        assert_eq!((m.msg_type(), m.msg_code(), m.checksum()), (8, 0, 0xf7ff));
        assert_eq!(m.payload(), &[0xaa]);
    }
}
