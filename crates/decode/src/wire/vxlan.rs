//! VXLAN (RFC 7348).

use super::byte;
use crate::error::{need, DecodeError, ErrorKind, Layer};

/// IANA UDP port for VXLAN.
pub const PORT: u16 = 4789;
/// Length of the VXLAN header.
pub const HEADER_LEN: usize = 8;

/// Returns the encapsulated Ethernet frame.
///
/// # Errors
/// `Truncated` below 8 bytes; `Malformed` when the I (valid VNI) flag is clear.
pub fn parse(buf: &[u8]) -> Result<&[u8], DecodeError> {
    need(buf, HEADER_LEN, Layer::Vxlan)?;
    if byte(buf, 0) & 0x08 == 0 {
        return Err(DecodeError::new(
            Layer::Vxlan,
            0,
            ErrorKind::Malformed("vxlan flags"),
        ));
    }
    Ok(super::rest(buf, HEADER_LEN))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn strips_header() {
        assert_eq!(parse(&[8, 0, 0, 0, 0, 0, 1, 0, 0xaa]).unwrap(), &[0xaa]);
        assert!(parse(&[0, 0, 0, 0, 0, 0, 1, 0]).is_err());
        assert!(parse(&[8, 0, 0]).is_err());
    }
}
