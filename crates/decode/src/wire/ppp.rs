//! PPP (RFC 1661) and PPPoE session headers (RFC 2516).

use super::{be16, byte};
use crate::error::{need, DecodeError, ErrorKind, Layer};

/// PPP protocol: IPv4.
pub const PPP_IPV4: u16 = 0x0021;
/// PPP protocol: IPv6.
pub const PPP_IPV6: u16 = 0x0057;

/// Parses a PPP header (optional `ff 03` address/control, then a 1- or 2-byte protocol field).
/// Returns the protocol and the payload.
///
/// # Errors
/// `Truncated` when the protocol field is missing.
pub fn parse_ppp(buf: &[u8]) -> Result<(u16, &[u8]), DecodeError> {
    let body = match buf {
        [0xff, 0x03, rest @ ..] => rest,
        _ => buf,
    };
    let base = buf.len() - body.len();
    need(body, 1, Layer::Ppp).map_err(|e| DecodeError { offset: base, ..e })?;
    // RFC 1661 §2: protocol field compression: an odd first byte is a one-byte protocol.
    if byte(body, 0) & 1 == 1 {
        return Ok((u16::from(byte(body, 0)), super::rest(body, 1)));
    }
    need(body, 2, Layer::Ppp).map_err(|e| DecodeError { offset: base, ..e })?;
    Ok((be16(body, 0), super::rest(body, 2)))
}

/// Converts a PPP protocol number to the EtherType the decoder follows, if any.
pub fn ppp_to_ethertype(proto: u16) -> Option<u16> {
    match proto {
        PPP_IPV4 => Some(0x0800),
        PPP_IPV6 => Some(0x86dd),
        0x0281 => Some(0x8847), // MPLS unicast
        _ => None,
    }
}

/// Length of the PPPoE header.
pub const PPPOE_LEN: usize = 6;

/// Parses a PPPoE session header; returns the PPP payload (cut at the length field).
///
/// # Errors
/// `Truncated` below 6 bytes; `BadVersion` when version/type is not 1/1.
pub fn parse_pppoe_session(buf: &[u8]) -> Result<&[u8], DecodeError> {
    need(buf, PPPOE_LEN, Layer::Pppoe)?;
    if byte(buf, 0) != 0x11 {
        return Err(DecodeError::new(
            Layer::Pppoe,
            0,
            ErrorKind::BadVersion(byte(buf, 0)),
        ));
    }
    let len = usize::from(be16(buf, 4));
    let body = super::rest(buf, PPPOE_LEN);
    Ok(body.get(..len).unwrap_or(body))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn ppp_with_and_without_address_control() {
        assert_eq!(
            parse_ppp(&[0xff, 0x03, 0x00, 0x21, 0x45]).unwrap(),
            (0x21, &[0x45][..])
        );
        assert_eq!(parse_ppp(&[0x00, 0x57, 0x60]).unwrap(), (0x57, &[0x60][..]));
        assert_eq!(parse_ppp(&[0x21, 0x45]).unwrap(), (0x21, &[0x45][..]));
    }

    #[test]
    fn pppoe_cuts_at_length() {
        assert_eq!(
            parse_pppoe_session(&[0x11, 0, 0, 1, 0, 2, 0, 0x21, 0xee]).unwrap(),
            &[0, 0x21]
        );
        assert!(parse_pppoe_session(&[0x21, 0, 0, 1, 0, 2]).is_err());
    }
}
