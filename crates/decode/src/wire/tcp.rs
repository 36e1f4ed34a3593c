//! TCP segments (RFC 9293) and their options.

use super::{be16, be32, byte};
use crate::error::{DecodeError, ErrorKind, Layer};
use std::net::IpAddr;

mod field {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const SEQ_NUM: usize = 4;
    pub const ACK_NUM: usize = 8;
    pub const FLAGS: usize = 12;
    pub const WIN_SIZE: usize = 14;
    pub const CHECKSUM: usize = 16;
    pub const URGENT: usize = 18;
    pub const OPTIONS: usize = 20;
}

/// Length of a TCP header without options.
pub const HEADER_LEN: usize = field::OPTIONS;

/// Most option bytes a header can hold: a data offset of 15 words, less the fixed 20 bytes.
pub const MAX_OPTIONS_LEN: usize = 15 * 4 - HEADER_LEN;

/// IP protocol number of TCP.
pub const PROTOCOL: u8 = 6;

/// Flag bits of the 13th header byte.
pub mod flags {
    /// No more data from sender.
    pub const FIN: u8 = 0x01;
    /// Synchronize sequence numbers.
    pub const SYN: u8 = 0x02;
    /// Reset the connection.
    pub const RST: u8 = 0x04;
    /// Push function.
    pub const PSH: u8 = 0x08;
    /// Acknowledgment field significant.
    pub const ACK: u8 = 0x10;
    /// Urgent pointer field significant.
    pub const URG: u8 = 0x20;
    /// ECN echo.
    pub const ECE: u8 = 0x40;
    /// Congestion window reduced.
    pub const CWR: u8 = 0x80;
}

/// A view of a TCP segment.
#[derive(Clone, Copy, Debug)]
pub struct Segment<'a> {
    buf: &'a [u8],
}

impl<'a> Segment<'a> {
    /// Wraps `buf` after checking the header and its data offset.
    ///
    /// # Errors
    /// `Truncated` below 20 bytes or below the data offset; `BadHeaderLength` when the data offset
    /// is under 20 bytes.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        let trunc = |needed| {
            DecodeError::new(
                Layer::Tcp,
                0,
                ErrorKind::Truncated {
                    needed,
                    available: buf.len(),
                },
            )
        };
        if buf.len() < HEADER_LEN {
            return Err(trunc(HEADER_LEN));
        }
        let s = Segment { buf };
        let hl = s.header_len();
        if hl < HEADER_LEN {
            return Err(DecodeError::new(
                Layer::Tcp,
                0,
                ErrorKind::BadHeaderLength(hl),
            ));
        }
        if buf.len() < hl {
            return Err(trunc(hl));
        }
        Ok(s)
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

    /// Sequence number.
    #[inline]
    pub fn seq_number(&self) -> u32 {
        be32(self.buf, field::SEQ_NUM)
    }

    /// Acknowledgment number.
    #[inline]
    pub fn ack_number(&self) -> u32 {
        be32(self.buf, field::ACK_NUM)
    }

    /// Header length in bytes (data offset × 4).
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(byte(self.buf, field::FLAGS) >> 4) * 4
    }

    /// Flag byte (see [`flags`]); the NS bit is not included.
    #[inline]
    pub fn flags(&self) -> u8 {
        byte(self.buf, field::FLAGS + 1)
    }

    /// Window size (unscaled).
    #[inline]
    pub fn window_len(&self) -> u16 {
        be16(self.buf, field::WIN_SIZE)
    }

    /// Checksum field.
    #[inline]
    pub fn checksum(&self) -> u16 {
        be16(self.buf, field::CHECKSUM)
    }

    /// Urgent pointer.
    #[inline]
    pub fn urgent_at(&self) -> u16 {
        be16(self.buf, field::URGENT)
    }

    /// Options bytes.
    #[inline]
    pub fn options(&self) -> &'a [u8] {
        self.buf
            .get(field::OPTIONS..self.header_len())
            .unwrap_or(&[])
    }

    /// Captured payload bytes.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        self.buf.get(self.header_len()..).unwrap_or(&[])
    }

    /// Iterates over the options.
    pub fn option_iter(&self) -> OptionIter<'a> {
        OptionIter {
            rest: self.options(),
        }
    }
}

/// A TCP segment (a summary of [`Segment`]), as smoltcp's `TcpRepr`: header fields, options as
/// bytes, and the payload.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Repr<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq_number: u32,
    /// Acknowledgment number.
    pub ack_number: u32,
    /// Flag byte (see [`flags`]).
    pub flags: u8,
    /// Window size (unscaled).
    pub window_len: u16,
    /// Urgent pointer.
    pub urgent_at: u16,
    /// Options as they appear on the wire, at most [`MAX_OPTIONS_LEN`] bytes; emit pads them
    /// with zeros (end of option list) to a multiple of 4.
    pub options: &'a [u8],
    /// Payload.
    pub payload: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Reads `segment` and checks its checksum over the pseudo-header of `src` → `dst` (RFC 9293
    /// §3.1); `segment` must hold the whole segment (the IP payload) and nothing after it.
    ///
    /// # Errors
    /// `BadChecksum` at byte 16 when the checksum is wrong.
    pub fn parse(segment: &Segment<'a>, src: IpAddr, dst: IpAddr) -> Result<Repr<'a>, DecodeError> {
        let bytes = segment.buf;
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        let pseudo = crate::checksum::pseudo_header(src, dst, PROTOCOL, len);
        if !crate::checksum::verify(bytes, pseudo) {
            return Err(DecodeError::new(
                Layer::Tcp,
                field::CHECKSUM,
                ErrorKind::BadChecksum,
            ));
        }
        Ok(Repr {
            src_port: segment.src_port(),
            dst_port: segment.dst_port(),
            seq_number: segment.seq_number(),
            ack_number: segment.ack_number(),
            flags: segment.flags(),
            window_len: segment.window_len(),
            urgent_at: segment.urgent_at(),
            options: segment.options(),
            payload: segment.payload(),
        })
    }

    /// Header length: 20 bytes plus the options rounded up to a multiple of 4.
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.len().div_ceil(4) * 4
    }

    /// Bytes [`Repr::emit`] writes: header and payload.
    pub fn buffer_len(&self) -> usize {
        self.header_len() + self.payload.len()
    }

    /// Writes the segment (header, padded options, payload) at the start of `buf`, with the
    /// data offset and the checksum over the pseudo-header of `src` → `dst`.
    ///
    /// # Panics
    /// When the options exceed [`MAX_OPTIONS_LEN`] bytes or `buf` is shorter than
    /// [`Repr::buffer_len`].
    pub fn emit(&self, buf: &mut [u8], src: IpAddr, dst: IpAddr) {
        assert!(
            self.options.len() <= MAX_OPTIONS_LEN,
            "tcp options are {} bytes, at most {MAX_OPTIONS_LEN} fit",
            self.options.len()
        );
        let (hl, len) = (self.header_len(), self.buffer_len());
        super::check_emit_len(buf, len, "tcp");
        super::put16(buf, field::SRC_PORT, self.src_port);
        super::put16(buf, field::DST_PORT, self.dst_port);
        super::put32(buf, field::SEQ_NUM, self.seq_number);
        super::put32(buf, field::ACK_NUM, self.ack_number);
        // hl ≤ 60: checked above, so the data offset fits its 4 bits.
        super::put(buf, field::FLAGS, &[((hl / 4) as u8) << 4, self.flags]);
        super::put16(buf, field::WIN_SIZE, self.window_len);
        super::put(buf, field::CHECKSUM, &[0, 0]);
        super::put16(buf, field::URGENT, self.urgent_at);
        super::put(buf, field::OPTIONS, self.options);
        if let Some(pad) = buf.get_mut(field::OPTIONS + self.options.len()..hl) {
            pad.fill(0);
        }
        super::put(buf, hl, self.payload);
        let segment = buf.get(..len).unwrap_or(&[]);
        let pseudo = crate::checksum::pseudo_header(
            src,
            dst,
            PROTOCOL,
            u32::try_from(len).unwrap_or(u32::MAX),
        );
        let checksum = crate::checksum::finish(crate::checksum::sum(segment, pseudo));
        super::put16(buf, field::CHECKSUM, checksum);
    }
}

/// One TCP option (RFC 9293 §3.2, RFC 7323, RFC 2018).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TcpOption<'a> {
    /// Kind 0.
    EndOfList,
    /// Kind 1.
    NoOperation,
    /// Kind 2.
    MaxSegmentSize(u16),
    /// Kind 3.
    WindowScale(u8),
    /// Kind 4.
    SackPermitted,
    /// Kind 5: blocks as raw bytes (pairs of u32 edges).
    Sack(&'a [u8]),
    /// Kind 8: (value, echo reply).
    Timestamp(u32, u32),
    /// Any other option.
    Unknown {
        /// Option kind.
        kind: u8,
        /// Option data.
        data: &'a [u8],
    },
}

/// Iterator over TCP options; yields an error once for a malformed option, then stops.
#[derive(Clone, Debug)]
pub struct OptionIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = Result<TcpOption<'a>, DecodeError>;

    fn next(&mut self) -> Option<Self::Item> {
        let (&kind, after) = self.rest.split_first()?;
        match kind {
            0 => {
                self.rest = &[];
                return Some(Ok(TcpOption::EndOfList));
            }
            1 => {
                self.rest = after;
                return Some(Ok(TcpOption::NoOperation));
            }
            _ => {}
        }
        let bad = DecodeError::new(Layer::Tcp, HEADER_LEN, ErrorKind::Malformed("tcp option"));
        let len = match after.first() {
            Some(&l) if l >= 2 => usize::from(l),
            _ => {
                self.rest = &[];
                return Some(Err(bad));
            }
        };
        let Some((opt, rest)) = self.rest.split_at_checked(len) else {
            self.rest = &[];
            return Some(Err(bad));
        };
        self.rest = rest;
        let data = opt.get(2..).unwrap_or(&[]);
        let parsed = match (kind, data.len()) {
            (2, 2) => TcpOption::MaxSegmentSize(be16(data, 0)),
            (3, 1) => TcpOption::WindowScale(byte(data, 0)),
            (4, 0) => TcpOption::SackPermitted,
            (5, _) => TcpOption::Sack(data),
            (8, 8) => TcpOption::Timestamp(be32(data, 0), be32(data, 4)),
            _ => TcpOption::Unknown { kind, data },
        };
        Some(Ok(parsed))
    }
}

#[cfg(test)]
mod test {
    use super::*;

    static SEGMENT: [u8; 32] = [
        0xbf, 0x00, 0x00, 0x50, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x70, 0x12, 0x01,
        0x23, 0x00, 0x00, 0x00, 0x00, // options: MSS 1460, NOP, WS 7; payload 04 02 aa bb
        0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07, 0x04, 0x02, 0xaa, 0xbb,
    ];

    #[test]
    fn deconstructs_every_field() {
        let s = Segment::new_checked(&SEGMENT).unwrap();
        assert_eq!(s.src_port(), 48896);
        assert_eq!(s.dst_port(), 80);
        assert_eq!(s.seq_number(), 0x0123_4567);
        assert_eq!(s.ack_number(), 0x89ab_cdef);
        assert_eq!(s.header_len(), 28);
        assert_eq!(s.flags(), flags::SYN | flags::ACK);
        assert_eq!(s.window_len(), 0x0123);
        assert_eq!(s.payload(), &[0x04, 0x02, 0xaa, 0xbb]);
        let opts: Vec<_> = s.option_iter().map(Result::unwrap).collect();
        assert_eq!(
            opts,
            vec![
                TcpOption::MaxSegmentSize(1460),
                TcpOption::NoOperation,
                TcpOption::WindowScale(7),
            ]
        );
    }

    fn addrs() -> (IpAddr, IpAddr) {
        ("198.18.0.1".parse().unwrap(), "198.18.0.2".parse().unwrap())
    }

    fn repr() -> Repr<'static> {
        Repr {
            src_port: 48896,
            dst_port: 80,
            seq_number: 0x0123_4567,
            ack_number: 0x89ab_cdef,
            flags: flags::SYN | flags::ACK,
            window_len: 0x0123,
            urgent_at: 0,
            options: &SEGMENT[20..28],
            payload: &SEGMENT[28..],
        }
    }

    #[test]
    fn emit_reproduces_the_bytes_with_a_valid_checksum() {
        let (src, dst) = addrs();
        let r = repr();
        assert_eq!((r.header_len(), r.buffer_len()), (28, 32));
        let mut buf = [0xffu8; 32];
        r.emit(&mut buf, src, dst);
        assert_eq!(buf[..16], SEGMENT[..16]);
        assert_eq!(buf[18..], SEGMENT[18..]);
        let len = buf.len() as u32;
        assert!(crate::checksum::verify(
            &buf,
            crate::checksum::pseudo_header(src, dst, 6, len)
        ));
        let s = Segment::new_checked(&buf).unwrap();
        assert_eq!(Repr::parse(&s, src, dst), Ok(r));
    }

    #[test]
    fn emit_pads_options_to_a_word() {
        let (src, dst) = addrs();
        let r = Repr {
            options: &[2, 4, 5, 0xb4, 1, 3, 3],
            payload: b"x",
            ..repr()
        };
        let mut buf = [0xffu8; 29];
        r.emit(&mut buf, src, dst);
        let s = Segment::new_checked(&buf).unwrap();
        assert_eq!(s.header_len(), 28);
        assert_eq!(s.options(), &[2, 4, 5, 0xb4, 1, 3, 3, 0]);
        assert_eq!(s.payload(), b"x");
        let parsed = Repr::parse(&s, src, dst).unwrap();
        assert_eq!(parsed.options, &[2, 4, 5, 0xb4, 1, 3, 3, 0]);
    }

    #[test]
    fn parse_rejects_bad_checksum() {
        let (src, dst) = addrs();
        let mut buf = [0u8; 32];
        repr().emit(&mut buf, src, dst);
        let other: IpAddr = "198.18.0.3".parse().unwrap();
        let e = Repr::parse(&Segment::new_checked(&buf).unwrap(), src, other).unwrap_err();
        assert_eq!(
            (e.layer, e.offset, e.kind),
            (Layer::Tcp, 16, ErrorKind::BadChecksum)
        );
    }

    #[test]
    #[should_panic(expected = "tcp options are 44 bytes, at most 40 fit")]
    fn emit_panics_on_too_many_options() {
        let (src, dst) = addrs();
        let r = Repr {
            options: &[1; 44],
            ..Repr::default()
        };
        r.emit(&mut [0u8; 64], src, dst);
    }

    #[test]
    fn rejects_data_offset_past_buffer() {
        let e = Segment::new_checked(&SEGMENT[..24]).unwrap_err();
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                needed: 28,
                available: 24
            }
        );
    }

    #[test]
    fn rejects_data_offset_below_minimum() {
        let mut b = SEGMENT;
        b[12] = 0x40;
        assert_eq!(
            Segment::new_checked(&b).unwrap_err().kind,
            ErrorKind::BadHeaderLength(16)
        );
    }

    #[test]
    fn malformed_tcp_options_yield_one_error() {
        let mut b = SEGMENT;
        b[21] = 40; // MSS length past the option area
        let s = Segment::new_checked(&b).unwrap();
        let items: Vec<_> = s.option_iter().collect();
        assert_eq!(items.len(), 1);
        assert!(matches!(items[0], Err(e) if e.kind == ErrorKind::Malformed("tcp option")));
    }
}
