//! UDP datagrams (RFC 768).

use super::be16;
use crate::error::{DecodeError, ErrorKind, Layer};
use std::net::IpAddr;

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const LENGTH: usize = 4;
    pub const CHECKSUM: usize = 6;
    pub const PAYLOAD: usize = 8;
}

/// Length of the UDP header.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// IP protocol number of UDP.
pub const PROTOCOL: u8 = 17;

/// A view of a UDP datagram.
#[derive(Clone, Copy, Debug)]
pub struct Datagram<'a> {
    buf: &'a [u8],
}

impl<'a> Datagram<'a> {
    /// Wraps `buf` after checking it holds the 8-byte header.
    ///
    /// # Errors
    /// `Truncated` below 8 bytes.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        if buf.len() < HEADER_LEN {
            return Err(DecodeError::new(
                Layer::Udp,
                0,
                ErrorKind::Truncated {
                    needed: HEADER_LEN,
                    available: buf.len(),
                },
            ));
        }
        Ok(Datagram { buf })
    }

    /// Source port.
    #[inline]
    pub fn src_port(&self) -> u16 {
        be16(self.buf, field::SRC_PORT)
    }

    /// Destination port.
    #[inline]
    pub fn dst_port(&self) -> u16 {
        be16(self.buf, field::DST_PORT)
    }

    /// Length field (header + data).
    #[inline]
    pub fn len(&self) -> u16 {
        be16(self.buf, field::LENGTH)
    }

    /// True when the length field says there is no data.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() <= HEADER_LEN as u16
    }

    /// Checksum field (0 = not computed, IPv4 only).
    #[inline]
    pub fn checksum(&self) -> u16 {
        be16(self.buf, field::CHECKSUM)
    }

    /// Captured payload, cut at the length field when it is plausible.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        let len = usize::from(self.len());
        let end = if len >= HEADER_LEN {
            len.min(self.buf.len())
        } else {
            self.buf.len()
        };
        self.buf.get(HEADER_LEN..end).unwrap_or(&[])
    }
}

/// A UDP datagram (a summary of [`Datagram`]): ports and payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Repr<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Payload.
    pub payload: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Reads `datagram` and checks its checksum over the pseudo-header of `src` → `dst`
    /// (RFC 768; RFC 8200 §8.1). A zero checksum over IPv4 means "not computed" and is
    /// accepted. Bytes after the length field's end (link padding) are ignored.
    ///
    /// # Errors
    /// - `BadTotalLength` at byte 4 when the length field is below 8;
    /// - `Truncated` when it runs past the datagram;
    /// - `BadChecksum` at byte 6 when the checksum is wrong.
    pub fn parse(
        datagram: &Datagram<'a>,
        src: IpAddr,
        dst: IpAddr,
    ) -> Result<Repr<'a>, DecodeError> {
        let len = usize::from(datagram.len());
        if len < HEADER_LEN {
            return Err(DecodeError::new(
                Layer::Udp,
                field::LENGTH,
                ErrorKind::BadTotalLength(len),
            ));
        }
        let Some(bytes) = datagram.buf.get(..len) else {
            return Err(DecodeError::new(
                Layer::Udp,
                0,
                ErrorKind::Truncated {
                    needed: len,
                    available: datagram.buf.len(),
                },
            ));
        };
        let unchecked = datagram.checksum() == 0 && src.is_ipv4();
        // `len` came from a 16-bit field.
        let pseudo = crate::checksum::pseudo_header(src, dst, PROTOCOL, len as u32);
        if !unchecked && !crate::checksum::verify(bytes, pseudo) {
            return Err(DecodeError::new(
                Layer::Udp,
                field::CHECKSUM,
                ErrorKind::BadChecksum,
            ));
        }
        Ok(Repr {
            src_port: datagram.src_port(),
            dst_port: datagram.dst_port(),
            payload: super::rest(bytes, HEADER_LEN),
        })
    }

    /// Bytes [`Repr::emit`] writes: the 8-byte header and the payload.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }

    /// Writes the datagram at the start of `buf`, with its length and its checksum over the
    /// pseudo-header of `src` → `dst`; a checksum that computes to 0 is sent as `0xffff`
    /// (RFC 768), since 0 means "not computed".
    ///
    /// # Panics
    /// When `buf` is shorter than [`Repr::buffer_len`], or that length does not fit 16 bits.
    pub fn emit(&self, buf: &mut [u8], src: IpAddr, dst: IpAddr) {
        let len = self.buffer_len();
        super::check_emit_len(buf, len, "udp");
        let len16 = super::len16(len, "udp");
        super::put16(buf, field::SRC_PORT, self.src_port);
        super::put16(buf, field::DST_PORT, self.dst_port);
        super::put16(buf, field::LENGTH, len16);
        super::put16(buf, field::CHECKSUM, 0);
        super::put(buf, field::PAYLOAD, self.payload);
        let datagram = buf.get(..len).unwrap_or(&[]);
        let pseudo = crate::checksum::pseudo_header(src, dst, PROTOCOL, u32::from(len16));
        let checksum = match crate::checksum::finish(crate::checksum::sum(datagram, pseudo)) {
            0 => 0xffff,
            c => c,
        };
        super::put16(buf, field::CHECKSUM, checksum);
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn deconstructs_every_field() {
        let b = [
            0x00, 0x35, 0xc0, 0x00, 0x00, 0x0a, 0x12, 0x34, 0xaa, 0xbb, 0xcc,
        ];
        let d = Datagram::new_checked(&b).unwrap();
        assert_eq!(d.src_port(), 53);
        assert_eq!(d.dst_port(), 0xc000);
        assert_eq!(d.len(), 10);
        assert_eq!(d.checksum(), 0x1234);
        assert_eq!(d.payload(), &[0xaa, 0xbb]);
    }

    fn addrs() -> (IpAddr, IpAddr) {
        (
            "2001:db8::1".parse().unwrap(),
            "2001:db8::2".parse().unwrap(),
        )
    }

    #[test]
    fn emit_then_parse_round_trips() {
        let (src, dst) = addrs();
        let r = Repr {
            src_port: 53,
            dst_port: 0xc000,
            payload: &[0xaa, 0xbb],
        };
        let mut buf = [0u8; 10];
        r.emit(&mut buf, src, dst);
        assert_eq!(buf[..6], [0x00, 0x35, 0xc0, 0x00, 0x00, 0x0a]);
        assert!(crate::checksum::verify(
            &buf,
            crate::checksum::pseudo_header(src, dst, 17, 10)
        ));
        assert_eq!(
            Repr::parse(&Datagram::new_checked(&buf).unwrap(), src, dst),
            Ok(r)
        );
    }

    #[test]
    fn zero_checksum_is_sent_as_all_ones() {
        // Zero addresses and ports: the pseudo-header (17 + 10) and the length field (10) sum
        // to 0x25, so a payload word of 0xffff - 0x25 makes the sum 0xffff: checksum 0.
        let v4 = IpAddr::from([0u8; 4]);
        let (src, dst) = (v4, v4);
        let payload = (0xffffu16 - 0x25).to_be_bytes();
        let r = Repr {
            src_port: 0,
            dst_port: 0,
            payload: &payload,
        };
        let mut buf = [0u8; 10];
        r.emit(&mut buf, src, dst);
        assert_eq!(buf[6..8], [0xff, 0xff]);
        assert_eq!(
            Repr::parse(&Datagram::new_checked(&buf).unwrap(), src, dst),
            Ok(r)
        );
    }

    #[test]
    fn parse_accepts_zero_checksum_over_ipv4_only() {
        let b = [
            0x00, 0x35, 0xc0, 0x00, 0x00, 0x0a, 0x00, 0x00, 0xaa, 0xbb, 0xee,
        ];
        let d = Datagram::new_checked(&b).unwrap();
        let v4: IpAddr = "198.18.0.1".parse().unwrap();
        assert_eq!(Repr::parse(&d, v4, v4).unwrap().payload, &[0xaa, 0xbb]);
        let (src, dst) = addrs();
        let e = Repr::parse(&d, src, dst).unwrap_err();
        assert_eq!(
            (e.layer, e.offset, e.kind),
            (Layer::Udp, 6, ErrorKind::BadChecksum)
        );
    }

    #[test]
    fn parse_rejects_impossible_length() {
        let (src, dst) = addrs();
        let mut b = [0u8; 8];
        b[5] = 7;
        let e = Repr::parse(&Datagram::new_checked(&b).unwrap(), src, dst).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadTotalLength(7));
        b[5] = 9;
        let e = Repr::parse(&Datagram::new_checked(&b).unwrap(), src, dst).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                needed: 9,
                available: 8
            }
        );
    }

    #[test]
    fn rejects_short_header() {
        assert_eq!(
            Datagram::new_checked(&[0; 7]).unwrap_err().kind,
            ErrorKind::Truncated {
                needed: 8,
                available: 7
            }
        );
    }
}
