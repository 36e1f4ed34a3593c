//! Teredo (RFC 4380): IPv6 over UDP, with optional authentication and origin indicators.

use super::{be16, byte};
use crate::error::{need, DecodeError, ErrorKind, Layer};

/// IANA UDP port for Teredo.
pub const PORT: u16 = 3544;

/// Returns the encapsulated IPv6 packet, after any indicators; checks it looks like IPv6 whose
/// payload length matches what is left, as Zeek's Teredo analyzer does before accepting it.
///
/// # Errors
/// `Truncated` for a short indicator; `Malformed` when no IPv6 packet follows.
pub fn parse(buf: &[u8]) -> Result<&[u8], DecodeError> {
    let mut rest = buf;
    // Authentication indicator: 0x0001, id-len, auth-len, id, auth, nonce(8), confirmation(1).
    if be16(rest, 0) == 0x0001 && rest.len() >= 4 {
        let len = 4 + usize::from(byte(rest, 2)) + usize::from(byte(rest, 3)) + 9;
        need(rest, len, Layer::Teredo)?;
        rest = super::rest(rest, len);
    }
    // Origin indication: 0x0000, port(2), address(4).
    if be16(rest, 0) == 0x0000 && rest.len() >= 8 {
        rest = super::rest(rest, 8);
    }
    if rest.len() < 40 || byte(rest, 0) >> 4 != 6 {
        return Err(DecodeError::new(
            Layer::Teredo,
            buf.len() - rest.len(),
            ErrorKind::Malformed("teredo payload"),
        ));
    }
    if usize::from(be16(rest, 4)) + 40 != rest.len() {
        return Err(DecodeError::new(
            Layer::Teredo,
            buf.len() - rest.len(),
            ErrorKind::Malformed("teredo ipv6 length"),
        ));
    }
    Ok(rest)
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::wire::ipv6;

    #[test]
    fn bare_ipv6_with_origin_indicator() {
        let mut b = vec![0, 0, 0x12, 0x34, 1, 2, 3, 4];
        // An IPv6 header with no next header (59), no payload, unspecified addresses.
        let mut v6 = vec![0; ipv6::HEADER_LEN];
        ipv6::Repr {
            next_header: 59,
            ..Default::default()
        }
        .emit(&mut v6);
        assert_eq!(v6[..8], [0x60, 0, 0, 0, 0, 0, 59, 64]);
        b.extend_from_slice(&v6);
        assert_eq!(parse(&b).unwrap().len(), 40);
        assert_eq!(parse(&v6).unwrap().len(), 40);
    }

    #[test]
    fn rejects_non_ipv6() {
        assert!(parse(&[0x45; 48]).is_err());
    }
}
