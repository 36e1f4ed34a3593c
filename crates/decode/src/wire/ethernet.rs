//! Ethernet II frames (IEEE 802.3) and EtherType values.

use crate::error::{need, DecodeError, Layer};
use core::fmt;

/// A 48-bit MAC address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Mac(pub [u8; 6]);

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// EtherType values the decoder follows (IEEE registry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EtherType {
    /// 0x0800
    Ipv4,
    /// 0x0806
    Arp,
    /// 0x86dd
    Ipv6,
    /// 0x8100 (802.1Q C-tag)
    Vlan,
    /// 0x88a8 (802.1ad S-tag)
    QinQ,
    /// 0x9100 (pre-standard QinQ)
    QinQOld,
    /// 0x8847
    MplsUnicast,
    /// 0x8848
    MplsMulticast,
    /// 0x8863
    PppoeDiscovery,
    /// 0x8864
    PppoeSession,
    /// 0x8903 (Cisco FabricPath)
    FabricPath,
    /// 0x8926 (Cisco VN-Tag)
    VnTag,
    /// 0x88e7 (802.1ah provider backbone bridging I-tag)
    Pbb,
    /// 0x6558 (transparent Ethernet bridging, used by GRE and Geneve)
    TransparentEthernet,
    /// Any other value.
    Unknown(u16),
}

impl From<u16> for EtherType {
    fn from(v: u16) -> Self {
        match v {
            0x0800 => EtherType::Ipv4,
            0x0806 => EtherType::Arp,
            0x86dd => EtherType::Ipv6,
            0x8100 => EtherType::Vlan,
            0x88a8 => EtherType::QinQ,
            0x9100 => EtherType::QinQOld,
            0x8847 => EtherType::MplsUnicast,
            0x8848 => EtherType::MplsMulticast,
            0x8863 => EtherType::PppoeDiscovery,
            0x8864 => EtherType::PppoeSession,
            0x8903 => EtherType::FabricPath,
            0x8926 => EtherType::VnTag,
            0x88e7 => EtherType::Pbb,
            0x6558 => EtherType::TransparentEthernet,
            other => EtherType::Unknown(other),
        }
    }
}

impl From<EtherType> for u16 {
    fn from(v: EtherType) -> u16 {
        match v {
            EtherType::Ipv4 => 0x0800,
            EtherType::Arp => 0x0806,
            EtherType::Ipv6 => 0x86dd,
            EtherType::Vlan => 0x8100,
            EtherType::QinQ => 0x88a8,
            EtherType::QinQOld => 0x9100,
            EtherType::MplsUnicast => 0x8847,
            EtherType::MplsMulticast => 0x8848,
            EtherType::PppoeDiscovery => 0x8863,
            EtherType::PppoeSession => 0x8864,
            EtherType::FabricPath => 0x8903,
            EtherType::VnTag => 0x8926,
            EtherType::Pbb => 0x88e7,
            EtherType::TransparentEthernet => 0x6558,
            EtherType::Unknown(v) => v,
        }
    }
}

mod field {
    use core::ops::Range;
    pub const DST: Range<usize> = 0..6;
    pub const SRC: Range<usize> = 6..12;
    pub const ETHERTYPE: usize = 12;
    pub const PAYLOAD: usize = 14;
}

/// Length of an Ethernet II header.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// A view of an Ethernet II frame.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    buf: &'a [u8],
}

impl<'a> Frame<'a> {
    /// Wraps `buf` after checking it holds a full header.
    ///
    /// # Errors
    /// `Truncated` when `buf` is shorter than 14 bytes.
    pub fn new_checked(buf: &'a [u8]) -> Result<Self, DecodeError> {
        need(buf, HEADER_LEN, Layer::Ethernet)?;
        Ok(Frame { buf })
    }

    /// Destination address.
    #[inline]
    pub fn dst_addr(&self) -> Mac {
        Mac(super::array(self.buf, field::DST.start))
    }

    /// Source address.
    #[inline]
    pub fn src_addr(&self) -> Mac {
        Mac(super::array(self.buf, field::SRC.start))
    }

    /// The EtherType (or 802.3 length when ≤ 1500).
    #[inline]
    pub fn ethertype(&self) -> u16 {
        super::be16(self.buf, field::ETHERTYPE)
    }

    /// Bytes after the header.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        super::rest(self.buf, field::PAYLOAD)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    static FRAME: [u8; 16] = [
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x08, 0x00, 0xde,
        0xad,
    ];

    #[test]
    fn deconstructs_every_field() {
        let f = Frame::new_checked(&FRAME).unwrap();
        assert_eq!(f.dst_addr().to_string(), "00:11:22:33:44:55");
        assert_eq!(f.src_addr(), Mac([0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb]));
        assert_eq!(EtherType::from(f.ethertype()), EtherType::Ipv4);
        assert_eq!(f.payload(), &[0xde, 0xad]);
    }

    #[test]
    fn rejects_frame_shorter_than_header() {
        let e = Frame::new_checked(&FRAME[..13]).unwrap_err();
        assert_eq!(e.layer, Layer::Ethernet);
        assert_eq!(
            e.kind,
            crate::ErrorKind::Truncated {
                needed: 14,
                available: 13
            }
        );
    }

    #[test]
    fn ethertype_round_trips() {
        for v in [0x0800u16, 0x86dd, 0x8100, 0x1234, 0x8903] {
            assert_eq!(u16::from(EtherType::from(v)), v);
        }
    }
}
