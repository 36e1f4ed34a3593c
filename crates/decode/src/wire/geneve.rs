//! Geneve (RFC 8926).

use super::{be16, byte};
use crate::error::{need, DecodeError, ErrorKind, Layer};

/// IANA UDP port for Geneve.
pub const PORT: u16 = 6081;

/// Returns `(protocol type, payload)` after the header and its options.
///
/// # Errors
/// `Truncated` when the options run past the data; `BadVersion` for a version other than 0.
pub fn parse(buf: &[u8]) -> Result<(u16, &[u8]), DecodeError> {
    need(buf, 8, Layer::Geneve)?;
    let version = byte(buf, 0) >> 6;
    if version != 0 {
        return Err(DecodeError::new(
            Layer::Geneve,
            0,
            ErrorKind::BadVersion(version),
        ));
    }
    let len = 8 + usize::from(byte(buf, 0) & 0x3f) * 4;
    need(buf, len, Layer::Geneve)?;
    Ok((be16(buf, 2), super::rest(buf, len)))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn skips_options() {
        let b = [1, 0, 0x65, 0x58, 0, 0, 1, 0, 9, 9, 9, 9, 0xaa];
        assert_eq!(parse(&b).unwrap(), (0x6558, &[0xaa][..]));
        assert!(parse(&[2, 0, 0x65, 0x58, 0, 0, 1, 0]).is_err());
    }
}
