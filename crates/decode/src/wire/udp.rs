//! UDP datagrams (RFC 768).

use super::be16;
use crate::error::{DecodeError, ErrorKind, Layer};

/// Length of the UDP header.
pub const HEADER_LEN: usize = 8;

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
        be16(self.buf, 0)
    }

    /// Destination port.
    #[inline]
    pub fn dst_port(&self) -> u16 {
        be16(self.buf, 2)
    }

    /// Length field (header + data).
    #[inline]
    pub fn len(&self) -> u16 {
        be16(self.buf, 4)
    }

    /// True when the length field says there is no data.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() <= HEADER_LEN as u16
    }

    /// Checksum field (0 = not computed, IPv4 only).
    #[inline]
    pub fn checksum(&self) -> u16 {
        be16(self.buf, 6)
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
