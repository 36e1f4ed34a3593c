//! ARP packets (RFC 826) for Ethernet/IPv4.

use super::{be16, byte};
use crate::error::{need, DecodeError, ErrorKind, Layer};
use std::net::Ipv4Addr;

/// A parsed Ethernet/IPv4 ARP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    /// Operation: 1 request, 2 reply.
    pub operation: u16,
    /// Sender hardware address.
    pub sender_mac: [u8; 6],
    /// Sender protocol address.
    pub sender_ip: Ipv4Addr,
    /// Target hardware address.
    pub target_mac: [u8; 6],
    /// Target protocol address.
    pub target_ip: Ipv4Addr,
}

/// Length of an Ethernet/IPv4 ARP packet.
pub const PACKET_LEN: usize = 28;

impl Repr {
    /// Parses an Ethernet/IPv4 ARP packet.
    ///
    /// # Errors
    /// `Truncated` below 28 bytes; `Malformed` for other hardware/protocol types or lengths.
    pub fn parse(buf: &[u8]) -> Result<Repr, DecodeError> {
        need(buf, 8, Layer::Arp)?;
        if be16(buf, 0) != 1 || be16(buf, 2) != 0x0800 || byte(buf, 4) != 6 || byte(buf, 5) != 4 {
            return Err(DecodeError::new(
                Layer::Arp,
                0,
                ErrorKind::Malformed("arp hardware/protocol type"),
            ));
        }
        need(buf, PACKET_LEN, Layer::Arp)?;
        Ok(Repr {
            operation: be16(buf, 6),
            sender_mac: super::array(buf, 8),
            sender_ip: Ipv4Addr::from(super::array::<4>(buf, 14)),
            target_mac: super::array(buf, 18),
            target_ip: Ipv4Addr::from(super::array::<4>(buf, 24)),
        })
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn parses_request() {
        let b = [
            0, 1, 8, 0, 6, 4, 0, 1, 1, 2, 3, 4, 5, 6, 198, 18, 0, 1, 0, 0, 0, 0, 0, 0, 198, 18, 0,
            2,
        ];
        let r = Repr::parse(&b).unwrap();
        assert_eq!(r.operation, 1);
        assert_eq!(r.sender_ip, Ipv4Addr::new(198, 18, 0, 1));
        assert_eq!(r.target_ip, Ipv4Addr::new(198, 18, 0, 2));
        assert_eq!(r.sender_mac, [1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn rejects_non_ethernet_ipv4() {
        let b = [0, 6, 8, 0, 6, 4, 0, 1];
        assert!(matches!(
            Repr::parse(&b).unwrap_err().kind,
            ErrorKind::Malformed(_)
        ));
    }
}
