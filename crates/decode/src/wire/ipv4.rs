//! IPv4 headers (RFC 791).

use super::{be16, byte, rest};
use crate::error::{DecodeError, ErrorKind, Layer};
use std::net::Ipv4Addr;

mod field {
    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const LENGTH: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLG_OFF: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SRC_ADDR: usize = 12;
    pub const DST_ADDR: usize = 16;
    pub const OPTIONS: usize = 20;
}

/// Length of an IPv4 header without options.
pub const HEADER_LEN: usize = field::OPTIONS;

/// A view of an IPv4 packet.
///
/// The view may be shorter than `total_len()` when the capture's snap length cut the packet;
/// [`Packet::payload`] then returns only the captured part.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    buf: &'a [u8],
}

impl<'a> Packet<'a> {
    /// Wraps `buf` after checking the header's own lengths.
    ///
    /// # Errors
    /// - `Truncated` if `buf` is shorter than 20 bytes or than the header length (IHL);
    /// - `BadVersion` if the version is not 4;
    /// - `BadHeaderLength` if IHL < 5;
    /// - `BadTotalLength` if the total length is smaller than the header length.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        let err = |kind| DecodeError::new(Layer::Ipv4, 0, kind);
        if buf.len() < HEADER_LEN {
            return Err(err(ErrorKind::Truncated {
                needed: HEADER_LEN,
                available: buf.len(),
            }));
        }
        let p = Packet { buf };
        if p.version() != 4 {
            return Err(err(ErrorKind::BadVersion(p.version())));
        }
        let hl = p.header_len();
        if hl < HEADER_LEN {
            return Err(err(ErrorKind::BadHeaderLength(hl)));
        }
        if buf.len() < hl {
            return Err(err(ErrorKind::Truncated {
                needed: hl,
                available: buf.len(),
            }));
        }
        if usize::from(p.total_len()) < hl {
            return Err(err(ErrorKind::BadTotalLength(usize::from(p.total_len()))));
        }
        Ok(p)
    }

    /// IP version (4 for a checked view).
    #[inline]
    pub fn version(&self) -> u8 {
        byte(self.buf, field::VER_IHL) >> 4
    }

    /// Header length in bytes (IHL × 4).
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(byte(self.buf, field::VER_IHL) & 0x0f) * 4
    }

    /// Type of service / DSCP+ECN byte.
    #[inline]
    pub fn tos(&self) -> u8 {
        byte(self.buf, field::TOS)
    }

    /// Total length field (header + payload) as sent.
    #[inline]
    pub fn total_len(&self) -> u16 {
        be16(self.buf, field::LENGTH)
    }

    /// Identification field.
    #[inline]
    pub fn ident(&self) -> u16 {
        be16(self.buf, field::IDENT)
    }

    /// Don't-fragment flag.
    #[inline]
    pub fn dont_frag(&self) -> bool {
        be16(self.buf, field::FLG_OFF) & 0x4000 != 0
    }

    /// More-fragments flag.
    #[inline]
    pub fn more_frags(&self) -> bool {
        be16(self.buf, field::FLG_OFF) & 0x2000 != 0
    }

    /// Fragment offset in bytes.
    #[inline]
    pub fn frag_offset(&self) -> u16 {
        (be16(self.buf, field::FLG_OFF) & 0x1fff) << 3
    }

    /// True when this packet is a fragment (offset ≠ 0 or more-fragments set).
    #[inline]
    pub fn is_fragment(&self) -> bool {
        self.more_frags() || self.frag_offset() != 0
    }

    /// Time to live.
    #[inline]
    pub fn ttl(&self) -> u8 {
        byte(self.buf, field::TTL)
    }

    /// Protocol number of the payload.
    #[inline]
    pub fn protocol(&self) -> u8 {
        byte(self.buf, field::PROTOCOL)
    }

    /// Header checksum field.
    #[inline]
    pub fn checksum(&self) -> u16 {
        be16(self.buf, field::CHECKSUM)
    }

    /// Source address.
    #[inline]
    pub fn src_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(super::array::<4>(self.buf, field::SRC_ADDR))
    }

    /// Destination address.
    #[inline]
    pub fn dst_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(super::array::<4>(self.buf, field::DST_ADDR))
    }

    /// The header bytes, options included.
    #[inline]
    pub fn header(&self) -> &'a [u8] {
        self.buf.get(..self.header_len()).unwrap_or(self.buf)
    }

    /// Options bytes (empty when IHL = 5).
    #[inline]
    pub fn options(&self) -> &'a [u8] {
        self.buf
            .get(field::OPTIONS..self.header_len())
            .unwrap_or(&[])
    }

    /// True when the header checksum is correct.
    #[inline]
    pub fn verify_checksum(&self) -> bool {
        crate::checksum::verify(self.header(), 0)
    }

    /// Captured payload bytes: up to `total_len`, so link-layer padding is dropped.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        let end = usize::from(self.total_len()).min(self.buf.len());
        self.buf.get(self.header_len()..end).unwrap_or(&[])
    }

    /// Payload length as the header states it (may exceed the captured payload).
    #[inline]
    pub fn payload_len(&self) -> usize {
        usize::from(self.total_len()).saturating_sub(self.header_len())
    }

    /// True when the capture holds the whole packet as the header describes it.
    #[inline]
    pub fn is_complete(&self) -> bool {
        self.buf.len() >= usize::from(self.total_len())
    }

    /// Every byte of the view (header, payload and any trailing padding).
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    /// Bytes after the payload as the total length states it (link padding).
    #[inline]
    pub fn trailer(&self) -> &'a [u8] {
        rest(self.buf, usize::from(self.total_len()))
    }
}

/// An IPv4 header without options (a summary of [`Packet`]), as smoltcp's `Ipv4Repr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    /// Source address.
    pub src_addr: Ipv4Addr,
    /// Destination address.
    pub dst_addr: Ipv4Addr,
    /// Protocol number of the payload.
    pub protocol: u8,
    /// Payload length in bytes (the total length minus the header).
    pub payload_len: usize,
    /// Time to live.
    pub ttl: u8,
    /// Type of service / DSCP+ECN byte.
    pub tos: u8,
    /// Identification field.
    pub ident: u16,
    /// Don't-fragment flag.
    pub dont_frag: bool,
    /// More-fragments flag.
    pub more_frags: bool,
    /// Fragment offset in bytes: a multiple of 8 below 65536 (RFC 791 counts 8-byte units; the
    /// low 3 bits are dropped on emit).
    pub frag_offset: u16,
}

impl Default for Repr {
    /// Unspecified addresses, protocol 0, no payload, TTL 64, not fragmented.
    fn default() -> Self {
        Repr {
            src_addr: Ipv4Addr::UNSPECIFIED,
            dst_addr: Ipv4Addr::UNSPECIFIED,
            protocol: 0,
            payload_len: 0,
            ttl: 64,
            tos: 0,
            ident: 0,
            dont_frag: false,
            more_frags: false,
            frag_offset: 0,
        }
    }
}

impl Repr {
    /// Reads the header of `packet` and checks its checksum; options are skipped.
    ///
    /// # Errors
    /// `BadChecksum` at byte 10 when the header checksum is wrong.
    pub fn parse(packet: &Packet<'_>) -> Result<Repr, DecodeError> {
        if !packet.verify_checksum() {
            return Err(DecodeError::new(
                Layer::Ipv4,
                field::CHECKSUM,
                ErrorKind::BadChecksum,
            ));
        }
        Ok(Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            protocol: packet.protocol(),
            payload_len: packet.payload_len(),
            ttl: packet.ttl(),
            tos: packet.tos(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
            more_frags: packet.more_frags(),
            frag_offset: packet.frag_offset(),
        })
    }

    /// Bytes [`Repr::emit`] writes: the 20-byte header (the caller writes the payload after it).
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the header at the start of `buf`: version 4, IHL 5, the total length from
    /// `payload_len`, and the header checksum (RFC 1071).
    ///
    /// # Panics
    /// When `buf` is shorter than 20 bytes, or `payload_len` + 20 does not fit the 16-bit total
    /// length.
    pub fn emit(&self, buf: &mut [u8]) {
        super::check_emit_len(buf, HEADER_LEN, "ipv4");
        let total = super::len16(HEADER_LEN.saturating_add(self.payload_len), "ipv4 total");
        let flags = (u16::from(self.dont_frag) << 14) | (u16::from(self.more_frags) << 13);
        super::put(buf, field::VER_IHL, &[0x45, self.tos]);
        super::put16(buf, field::LENGTH, total);
        super::put16(buf, field::IDENT, self.ident);
        super::put16(buf, field::FLG_OFF, flags | (self.frag_offset >> 3));
        super::put(buf, field::TTL, &[self.ttl, self.protocol, 0, 0]);
        super::put(buf, field::SRC_ADDR, &self.src_addr.octets());
        super::put(buf, field::DST_ADDR, &self.dst_addr.octets());
        let header = buf.get(..HEADER_LEN).unwrap_or(&[]);
        let checksum = crate::checksum::finish(crate::checksum::sum(header, 0));
        super::put16(buf, field::CHECKSUM, checksum);
    }
}

#[cfg(test)]
mod test {
    use super::*;

    // 20-byte header + 4 bytes payload + 2 bytes of Ethernet padding.
    static PACKET: [u8; 26] = [
        0x45, 0x00, 0x00, 0x18, 0x01, 0x02, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00, 198, 18, 0, 1, 198,
        18, 0, 2, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xee,
    ];

    fn with_checksum() -> [u8; 26] {
        let mut p = PACKET;
        let c = crate::checksum::finish(crate::checksum::sum(&p[..20], 0));
        p[10..12].copy_from_slice(&c.to_be_bytes());
        p
    }

    #[test]
    fn deconstructs_every_field() {
        let bytes = with_checksum();
        let p = Packet::new_checked(&bytes).unwrap();
        assert_eq!(p.version(), 4);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.total_len(), 24);
        assert_eq!(p.ident(), 0x0102);
        assert!(p.dont_frag());
        assert!(!p.more_frags());
        assert_eq!(p.frag_offset(), 0);
        assert_eq!(p.ttl(), 64);
        assert_eq!(p.protocol(), 17);
        assert_eq!(p.src_addr(), Ipv4Addr::new(198, 18, 0, 1));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(198, 18, 0, 2));
        assert_eq!(p.payload(), &[0xaa, 0xbb, 0xcc, 0xdd]);
        assert_eq!(p.trailer(), &[0xee, 0xee]);
        assert!(p.verify_checksum());
        assert!(p.is_complete());
    }

    #[test]
    fn rejects_ipv4_header_shorter_than_ihl() {
        let mut bytes = PACKET;
        bytes[0] = 0x4f; // IHL 15 = 60 bytes, buffer has 26
        let e = Packet::new_checked(&bytes).unwrap_err();
        assert_eq!(e.layer, Layer::Ipv4);
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                needed: 60,
                available: 26
            }
        );
    }

    #[test]
    fn rejects_small_ihl() {
        let mut bytes = PACKET;
        bytes[0] = 0x44;
        assert_eq!(
            Packet::new_checked(&bytes).unwrap_err().kind,
            ErrorKind::BadHeaderLength(16)
        );
    }

    #[test]
    fn rejects_total_len_below_header() {
        let mut bytes = PACKET;
        bytes[2..4].copy_from_slice(&10u16.to_be_bytes());
        assert_eq!(
            Packet::new_checked(&bytes).unwrap_err().kind,
            ErrorKind::BadTotalLength(10)
        );
    }

    #[test]
    fn snaplen_cut_packet_keeps_captured_payload() {
        let bytes = with_checksum();
        let p = Packet::new_checked(&bytes[..22]).unwrap();
        assert!(!p.is_complete());
        assert_eq!(p.payload(), &[0xaa, 0xbb]);
        assert_eq!(p.payload_len(), 4);
    }

    fn repr() -> Repr {
        Repr {
            src_addr: Ipv4Addr::new(198, 18, 0, 1),
            dst_addr: Ipv4Addr::new(198, 18, 0, 2),
            protocol: 17,
            payload_len: 4,
            ttl: 64,
            tos: 0,
            ident: 0x0102,
            dont_frag: true,
            more_frags: false,
            frag_offset: 0,
        }
    }

    #[test]
    fn parses_every_field() {
        let bytes = with_checksum();
        assert_eq!(
            Repr::parse(&Packet::new_checked(&bytes).unwrap()),
            Ok(repr())
        );
    }

    #[test]
    fn emit_reproduces_the_bytes() {
        let mut buf = [0xffu8; 20];
        repr().emit(&mut buf);
        assert_eq!(buf[..], with_checksum()[..20]);
    }

    #[test]
    fn fragment_fields_round_trip() {
        let r = Repr {
            dont_frag: false,
            more_frags: true,
            frag_offset: 1480,
            tos: 0xb8,
            ..repr()
        };
        let mut buf = [0u8; 24];
        r.emit(&mut buf);
        let p = Packet::new_checked(&buf).unwrap();
        assert!(p.verify_checksum());
        assert!(p.is_fragment());
        assert_eq!(Repr::parse(&p), Ok(r));
    }

    #[test]
    fn parse_rejects_bad_header_checksum() {
        let mut bytes = with_checksum();
        bytes[11] ^= 1;
        let e = Repr::parse(&Packet::new_checked(&bytes).unwrap()).unwrap_err();
        assert_eq!(
            (e.layer, e.offset, e.kind),
            (Layer::Ipv4, 10, ErrorKind::BadChecksum)
        );
    }

    #[test]
    #[should_panic(expected = "ipv4 total length 65536 does not fit its 16-bit field")]
    fn emit_panics_when_total_length_overflows() {
        let r = Repr {
            payload_len: 65516,
            ..repr()
        };
        r.emit(&mut [0u8; 20]);
    }

    #[test]
    fn detects_corrupt_checksum() {
        let mut bytes = with_checksum();
        bytes[8] = 1;
        assert!(!Packet::new_checked(&bytes).unwrap().verify_checksum());
    }
}
