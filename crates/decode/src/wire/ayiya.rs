//! AYIYA ("Anything In Anything", draft-massar-v6ops-ayiya) tunnels.

use super::byte;
use crate::error::{need, DecodeError, ErrorKind, Layer};

/// IANA UDP port for AYIYA.
pub const PORT: u16 = 5072;

/// Returns `(next header, payload)` of a forwarded AYIYA packet.
///
/// # Errors
/// `Truncated` when the identity or signature runs past the data; `Malformed` for an opcode
/// other than 1 (forward).
pub fn parse(buf: &[u8]) -> Result<(u8, &[u8]), DecodeError> {
    need(buf, 8, Layer::Ayiya)?;
    let id_len = 1usize << (byte(buf, 0) >> 4);
    let sig_len = usize::from(byte(buf, 1) >> 4) * 4;
    let opcode = byte(buf, 2) & 0x0f;
    if opcode != 1 {
        return Err(DecodeError::new(
            Layer::Ayiya,
            2,
            ErrorKind::Malformed("ayiya opcode"),
        ));
    }
    let len = 8 + id_len + sig_len;
    need(buf, len, Layer::Ayiya)?;
    Ok((byte(buf, 3), super::rest(buf, len)))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn forward_packet_payload() {
        // id len 2^4 = 16, sig 5 words = 20 bytes
        let mut b = vec![0x41, 0x52, 0x11, 41, 0, 0, 0, 0];
        b.extend_from_slice(&[0; 36]);
        b.push(0x60);
        assert_eq!(parse(&b).unwrap(), (41, &[0x60][..]));
    }

    #[test]
    fn rejects_non_forward_opcode() {
        assert!(parse(&[0x41, 0x52, 0x12, 41, 0, 0, 0, 0]).is_err());
    }
}
