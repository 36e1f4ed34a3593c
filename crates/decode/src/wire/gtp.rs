//! GTP-U version 1 (3GPP TS 29.281), the user plane of cellular IoT.

use super::{be16, byte};
use crate::error::{need, DecodeError, ErrorKind, Layer};

/// IANA UDP port for GTP-U.
pub const PORT: u16 = 2152;
/// Message type of a G-PDU (user data).
pub const MSG_GPDU: u8 = 0xff;
/// Most extension headers walked (bounds work on hostile input).
pub const MAX_EXTENSIONS: usize = 8;

/// A parsed GTP-U header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// Message type (0xff carries user data).
    pub msg_type: u8,
    /// Bytes after the header and its extension headers, cut at the length field.
    pub payload: &'a [u8],
}

/// Parses a GTPv1-U header.
///
/// # Errors
/// `BadVersion` unless version 1 with protocol type GTP; `Truncated` when the header or an
/// extension header runs past the data; `TooDeep` after [`MAX_EXTENSIONS`].
pub fn parse(buf: &[u8]) -> Result<Header<'_>, DecodeError> {
    need(buf, 8, Layer::Gtp)?;
    let flags = byte(buf, 0);
    if flags >> 5 != 1 || flags & 0x10 == 0 {
        return Err(DecodeError::new(
            Layer::Gtp,
            0,
            ErrorKind::BadVersion(flags >> 5),
        ));
    }
    let msg_type = byte(buf, 1);
    let body_len = usize::from(be16(buf, 2));
    let mut at = 8;
    if flags & 0x07 != 0 {
        need(buf, 12, Layer::Gtp)?;
        let mut next = byte(buf, 11);
        at = 12;
        let mut count = 0;
        while next != 0 {
            count += 1;
            if count > MAX_EXTENSIONS {
                return Err(DecodeError::new(Layer::Gtp, at, ErrorKind::TooDeep));
            }
            let words = usize::from(byte(buf, at));
            if words == 0 {
                return Err(DecodeError::new(
                    Layer::Gtp,
                    at,
                    ErrorKind::Malformed("gtp extension length"),
                ));
            }
            let end = at + words * 4;
            need(buf, end, Layer::Gtp).map_err(|e| DecodeError { offset: at, ..e })?;
            next = byte(buf, end - 1);
            at = end;
        }
    }
    let end = (8 + body_len).min(buf.len());
    Ok(Header {
        msg_type,
        payload: buf.get(at..end).unwrap_or(&[]),
    })
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn plain_gpdu() {
        let b = [0x30, 0xff, 0, 1, 0, 0, 0, 1, 0x45, 0xee];
        let h = parse(&b).unwrap();
        assert_eq!((h.msg_type, h.payload), (0xff, &[0x45][..]));
    }

    #[test]
    fn with_sequence_and_extension() {
        // E and S set; one extension (1 word: len, 2 bytes content, next=0)
        let b = [
            0x36, 0xff, 0, 9, 0, 0, 0, 1, 0, 1, 0, 0x85, 1, 0xaa, 0xbb, 0, 0x60,
        ];
        assert_eq!(parse(&b).unwrap().payload, &[0x60]);
    }

    #[test]
    fn rejects_gtp_prime_and_v2() {
        assert!(parse(&[0x20, 0xff, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(parse(&[0x48, 0xff, 0, 0, 0, 0, 0, 0]).is_err());
    }
}
