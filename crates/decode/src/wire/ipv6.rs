//! IPv6 fixed headers and extension headers (RFC 8200).

use super::{be16, be32, byte};
use crate::error::{DecodeError, ErrorKind, Layer};
use std::net::Ipv6Addr;

mod field {
    pub const VER_TC_FLOW: usize = 0;
    pub const LENGTH: usize = 4;
    pub const NXT_HDR: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: usize = 8;
    pub const DST_ADDR: usize = 24;
    pub const PAYLOAD: usize = 40;
}

/// Length of the IPv6 fixed header.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// Hop-by-hop options.
pub const HOP_BY_HOP: u8 = 0;
/// Routing header.
pub const ROUTING: u8 = 43;
/// Fragment header.
pub const FRAGMENT: u8 = 44;
/// Authentication header.
pub const AUTH: u8 = 51;
/// Destination options.
pub const DEST_OPTS: u8 = 60;
/// Mobility header.
pub const MOBILITY: u8 = 135;
/// Host identity protocol.
pub const HIP: u8 = 139;
/// Shim6.
pub const SHIM6: u8 = 140;

/// Upper bound on extension headers walked per packet (bounds work on hostile input).
pub const MAX_EXTENSIONS: usize = 16;

/// A view of an IPv6 packet.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    buf: &'a [u8],
}

impl<'a> Packet<'a> {
    /// Wraps `buf` after checking it holds the fixed header and is version 6.
    ///
    /// # Errors
    /// `Truncated` below 40 bytes; `BadVersion` when the version nibble is not 6.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < HEADER_LEN {
            return Err(DecodeError::new(
                Layer::Ipv6,
                0,
                ErrorKind::Truncated {
                    needed: HEADER_LEN,
                    available: buf.len(),
                },
            ));
        }
        let p = Packet { buf };
        if p.version() != 6 {
            return Err(DecodeError::new(
                Layer::Ipv6,
                0,
                ErrorKind::BadVersion(p.version()),
            ));
        }
        Ok(p)
    }

    /// IP version (6 for a checked view).
    #[inline]
    pub fn version(&self) -> u8 {
        byte(self.buf, field::VER_TC_FLOW) >> 4
    }

    /// Traffic class.
    #[inline]
    pub fn traffic_class(&self) -> u8 {
        ((be16(self.buf, field::VER_TC_FLOW) >> 4) & 0xff) as u8
    }

    /// Flow label.
    #[inline]
    pub fn flow_label(&self) -> u32 {
        be32(self.buf, field::VER_TC_FLOW) & 0x000f_ffff
    }

    /// Payload length field (extension headers included).
    #[inline]
    pub fn payload_len(&self) -> u16 {
        be16(self.buf, field::LENGTH)
    }

    /// Next header of the fixed header.
    #[inline]
    pub fn next_header(&self) -> u8 {
        byte(self.buf, field::NXT_HDR)
    }

    /// Hop limit.
    #[inline]
    pub fn hop_limit(&self) -> u8 {
        byte(self.buf, field::HOP_LIMIT)
    }

    /// Source address.
    #[inline]
    pub fn src_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(super::array::<16>(self.buf, field::SRC_ADDR))
    }

    /// Destination address.
    #[inline]
    pub fn dst_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(super::array::<16>(self.buf, field::DST_ADDR))
    }

    /// Captured bytes after the fixed header, cut at the payload length (padding dropped).
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        let end = (HEADER_LEN + usize::from(self.payload_len())).min(self.buf.len());
        self.buf.get(HEADER_LEN..end).unwrap_or(&[])
    }

    /// True when the capture holds the whole packet.
    #[inline]
    pub fn is_complete(&self) -> bool {
        self.buf.len() >= HEADER_LEN + usize::from(self.payload_len())
    }

    /// The fixed header bytes.
    #[inline]
    pub fn header(&self) -> &'a [u8] {
        self.buf.get(..HEADER_LEN).unwrap_or(self.buf)
    }

    /// Walks the extension headers in the payload.
    ///
    /// # Errors
    /// `Ipv6Ext` errors for a truncated extension header or more than [`MAX_EXTENSIONS`].
    pub fn extensions(&self) -> Result<Extensions, DecodeError> {
        walk_extensions(self.next_header(), self.payload(), HEADER_LEN)
    }
}

/// An IPv6 fixed header (a summary of [`Packet`]), as smoltcp's `Ipv6Repr`.
///
/// Extension headers are not part of it: they belong to the payload, and `next_header` names
/// the first one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    /// Source address.
    pub src_addr: Ipv6Addr,
    /// Destination address.
    pub dst_addr: Ipv6Addr,
    /// Next header (the upper-layer protocol when there are no extension headers).
    pub next_header: u8,
    /// Payload length in bytes (extension headers included).
    pub payload_len: usize,
    /// Hop limit.
    pub hop_limit: u8,
    /// Traffic class.
    pub traffic_class: u8,
    /// Flow label (20 bits; higher bits are dropped on emit).
    pub flow_label: u32,
}

impl Default for Repr {
    /// Unspecified addresses, next header 0, no payload, hop limit 64, no flow label.
    fn default() -> Self {
        Repr {
            src_addr: Ipv6Addr::UNSPECIFIED,
            dst_addr: Ipv6Addr::UNSPECIFIED,
            next_header: 0,
            payload_len: 0,
            hop_limit: 64,
            traffic_class: 0,
            flow_label: 0,
        }
    }
}

impl Repr {
    /// Reads the fixed header of `packet` (its version was checked by the view).
    pub fn parse(packet: &Packet<'_>) -> Repr {
        Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            next_header: packet.next_header(),
            payload_len: usize::from(packet.payload_len()),
            hop_limit: packet.hop_limit(),
            traffic_class: packet.traffic_class(),
            flow_label: packet.flow_label(),
        }
    }

    /// Bytes [`Repr::emit`] writes: the 40-byte fixed header (the caller writes the payload).
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes the fixed header at the start of `buf`.
    ///
    /// # Panics
    /// When `buf` is shorter than 40 bytes, or `payload_len` does not fit 16 bits (jumbograms,
    /// RFC 2675, are not built).
    pub fn emit(&self, buf: &mut [u8]) {
        super::check_emit_len(buf, HEADER_LEN, "ipv6");
        let len = super::len16(self.payload_len, "ipv6 payload");
        let first =
            (6 << 28) | (u32::from(self.traffic_class) << 20) | (self.flow_label & 0x000f_ffff);
        super::put32(buf, field::VER_TC_FLOW, first);
        super::put16(buf, field::LENGTH, len);
        super::put(buf, field::NXT_HDR, &[self.next_header, self.hop_limit]);
        super::put(buf, field::SRC_ADDR, &self.src_addr.octets());
        super::put(buf, field::DST_ADDR, &self.dst_addr.octets());
    }
}

/// Fragment header fields (RFC 8200 §4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FragmentHeader {
    /// Next header of the fragmentable part.
    pub next_header: u8,
    /// Fragment offset in bytes.
    pub offset: u16,
    /// More-fragments flag.
    pub more: bool,
    /// Identification.
    pub ident: u32,
    /// Offset of the fragment header from the start of the IPv6 payload.
    pub header_at: usize,
}

/// What lies after the extension headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extensions {
    /// Upper-layer protocol (after every extension header).
    pub protocol: u8,
    /// Bytes of extension headers, from the start of the IPv6 payload.
    pub len: usize,
    /// The fragment header, if present.
    pub fragment: Option<FragmentHeader>,
    /// Extension headers seen.
    pub count: u8,
}

/// Walks extension headers starting with `next` over `payload`.
///
/// `base` is the payload's offset in the frame (for error offsets).
///
/// # Errors
/// `Truncated` when a header runs past `payload`; `TooDeep` after [`MAX_EXTENSIONS`].
pub fn walk_extensions(
    mut next: u8,
    payload: &[u8],
    base: usize,
) -> Result<Extensions, DecodeError> {
    let mut at = 0usize;
    let mut fragment = None;
    let mut count = 0u8;
    loop {
        let len = match next {
            HOP_BY_HOP | ROUTING | DEST_OPTS | MOBILITY | HIP | SHIM6 => {
                let h = payload
                    .get(at..at + 2)
                    .ok_or_else(|| trunc(base + at, at + 2, payload))?;
                (usize::from(byte(h, 1)) + 1) * 8
            }
            AUTH => {
                let h = payload
                    .get(at..at + 2)
                    .ok_or_else(|| trunc(base + at, at + 2, payload))?;
                (usize::from(byte(h, 1)) + 2) * 4
            }
            FRAGMENT => 8,
            _ => {
                return Ok(Extensions {
                    protocol: next,
                    len: at,
                    fragment,
                    count,
                })
            }
        };
        let hdr = payload
            .get(at..at + len)
            .ok_or_else(|| trunc(base + at, at + len, payload))?;
        if next == FRAGMENT {
            let off_flags = be16(hdr, 2);
            fragment = Some(FragmentHeader {
                next_header: byte(hdr, 0),
                offset: off_flags & 0xfff8,
                more: off_flags & 1 != 0,
                ident: be32(hdr, 4),
                header_at: at,
            });
        }
        next = byte(hdr, 0);
        at += len;
        count += 1;
        if usize::from(count) > MAX_EXTENSIONS {
            return Err(DecodeError::new(
                Layer::Ipv6Ext,
                base + at,
                ErrorKind::TooDeep,
            ));
        }
    }
}

fn trunc(offset: usize, needed: usize, payload: &[u8]) -> DecodeError {
    DecodeError::new(
        Layer::Ipv6Ext,
        offset,
        ErrorKind::Truncated {
            needed,
            available: payload.len(),
        },
    )
}

#[cfg(test)]
mod test {
    use super::*;

    fn repr(next: u8, payload_len: usize) -> Repr {
        Repr {
            src_addr: "2001:db8::1".parse().unwrap(),
            dst_addr: "2001:db8::2".parse().unwrap(),
            next_header: next,
            payload_len,
            ..Repr::default()
        }
    }

    fn packet(next: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0; HEADER_LEN];
        repr(next, payload.len()).emit(&mut p);
        p.extend_from_slice(payload);
        p
    }

    #[test]
    fn emit_writes_the_fixed_header() {
        let bytes = packet(17, &[1, 2, 3, 4, 5, 6, 7, 8]);
        let mut want = vec![0x60, 0, 0, 0, 0, 8, 17, 64];
        want.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        want.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        assert_eq!(bytes[..HEADER_LEN], want[..]);
    }

    #[test]
    fn fixed_header_round_trips() {
        let r = Repr {
            traffic_class: 0xa5,
            flow_label: 0x0f_1234,
            hop_limit: 255,
            ..repr(58, 3)
        };
        let mut buf = [0u8; HEADER_LEN + 3];
        r.emit(&mut buf);
        let p = Packet::new_checked(&buf).unwrap();
        assert_eq!((p.traffic_class(), p.flow_label()), (0xa5, 0x0f_1234));
        assert_eq!(Repr::parse(&p), r);
    }

    #[test]
    fn deconstructs_fixed_header() {
        let bytes = packet(17, &[1, 2, 3, 4, 5, 6, 7, 8]);
        let p = Packet::new_checked(&bytes).unwrap();
        assert_eq!(p.version(), 6);
        assert_eq!(p.payload_len(), 8);
        assert_eq!(p.next_header(), 17);
        assert_eq!(p.hop_limit(), 64);
        assert_eq!(p.src_addr().to_string(), "2001:db8::1");
        assert_eq!(p.dst_addr().to_string(), "2001:db8::2");
        assert_eq!(p.payload().len(), 8);
        assert_eq!(p.extensions().unwrap().protocol, 17);
    }

    #[test]
    fn walks_hop_by_hop_then_fragment() {
        // hop-by-hop (8 bytes, next = fragment), fragment (next = UDP, offset 8, M=1, id 7)
        let ext = [44, 0, 1, 4, 0, 0, 0, 0, 17, 0, 0x00, 0x09, 0, 0, 0, 7];
        let bytes = packet(0, &ext);
        let e = Packet::new_checked(&bytes).unwrap().extensions().unwrap();
        assert_eq!(e.protocol, 17);
        assert_eq!(e.len, 16);
        assert_eq!(e.count, 2);
        let f = e.fragment.unwrap();
        assert_eq!((f.offset, f.more, f.ident, f.header_at), (8, true, 7, 8));
    }

    #[test]
    fn rejects_truncated_extension_header() {
        let bytes = packet(60, &[17, 1, 0, 0]); // claims 16 bytes, has 4
        let e = Packet::new_checked(&bytes)
            .unwrap()
            .extensions()
            .unwrap_err();
        assert_eq!(e.layer, Layer::Ipv6Ext);
        assert_eq!(e.offset, 40);
    }

    #[test]
    fn rejects_wrong_version() {
        let mut bytes = packet(17, &[]);
        bytes[0] = 0x40;
        assert_eq!(
            Packet::new_checked(&bytes).unwrap_err().kind,
            ErrorKind::BadVersion(4)
        );
    }
}
