//! Ethernet II frames (IEEE 802.3) and EtherType values.

use crate::error::{need, DecodeError, ErrorKind, Layer};
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

/// Length of an 802.1Q tag: its TCI, then the EtherType it moves along (IEEE 802.1Q §9.3).
pub const VLAN_TAG_LEN: usize = 4;

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

/// An 802.1Q tag's control information (IEEE 802.1Q §9.6): priority, drop eligibility, VLAN id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct VlanTag {
    /// Priority code point (3 bits; higher bits are dropped on emit).
    pub priority: u8,
    /// Drop-eligible indicator.
    pub drop_eligible: bool,
    /// VLAN identifier (12 bits; higher bits are dropped on emit).
    pub id: u16,
}

impl VlanTag {
    /// A tag for VLAN `id` with priority 0.
    pub fn new(id: u16) -> Self {
        VlanTag {
            priority: 0,
            drop_eligible: false,
            id,
        }
    }

    /// The tag from its 16-bit tag control information.
    pub fn from_tci(tci: u16) -> Self {
        VlanTag {
            priority: (tci >> 13) as u8,
            drop_eligible: tci & 0x1000 != 0,
            id: tci & 0x0fff,
        }
    }

    /// The 16-bit tag control information.
    pub fn tci(&self) -> u16 {
        (u16::from(self.priority & 0x07) << 13)
            | (u16::from(self.drop_eligible) << 12)
            | (self.id & 0x0fff)
    }
}

/// An Ethernet II header with at most one 802.1Q tag (a summary of [`Frame`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    /// Source address.
    pub src_addr: Mac,
    /// Destination address.
    pub dst_addr: Mac,
    /// The 802.1Q tag (EtherType 0x8100) after the addresses, if any.
    pub vlan: Option<VlanTag>,
    /// EtherType of the payload (after the tag, when there is one).
    pub ethertype: EtherType,
}

impl Default for Repr {
    /// Zero addresses, no tag, IPv4.
    fn default() -> Self {
        Repr {
            src_addr: Mac::default(),
            dst_addr: Mac::default(),
            vlan: None,
            ethertype: EtherType::Ipv4,
        }
    }
}

impl Repr {
    /// Reads the header of `frame`, following one 802.1Q tag.
    ///
    /// Only a C-tag (0x8100) is read as a tag; an S-tag (0x88a8) or any other EtherType is
    /// returned as the EtherType, with the rest in the payload.
    ///
    /// # Errors
    /// `Truncated` in [`Layer::Vlan`] at byte 14 when the frame ends inside the tag.
    pub fn parse(frame: &Frame<'_>) -> Result<Repr, DecodeError> {
        let mut repr = Repr {
            src_addr: frame.src_addr(),
            dst_addr: frame.dst_addr(),
            vlan: None,
            ethertype: EtherType::from(frame.ethertype()),
        };
        if repr.ethertype == EtherType::Vlan {
            let tag = frame.payload();
            if tag.len() < VLAN_TAG_LEN {
                return Err(DecodeError::new(
                    Layer::Vlan,
                    HEADER_LEN,
                    ErrorKind::Truncated {
                        needed: VLAN_TAG_LEN,
                        available: tag.len(),
                    },
                ));
            }
            repr.vlan = Some(VlanTag::from_tci(super::be16(tag, 0)));
            repr.ethertype = EtherType::from(super::be16(tag, 2));
        }
        Ok(repr)
    }

    /// Header length: 14 bytes, 18 with a tag. The payload starts there.
    pub fn header_len(&self) -> usize {
        match self.vlan {
            Some(_) => HEADER_LEN + VLAN_TAG_LEN,
            None => HEADER_LEN,
        }
    }

    /// Bytes [`Repr::emit`] writes: the header (the caller writes the payload after it).
    pub fn buffer_len(&self) -> usize {
        self.header_len()
    }

    /// Writes the header (addresses, tag, EtherType) at the start of `buf`.
    ///
    /// # Panics
    /// When `buf` is shorter than [`Repr::buffer_len`].
    pub fn emit(&self, buf: &mut [u8]) {
        super::check_emit_len(buf, self.buffer_len(), "ethernet");
        super::put(buf, field::DST.start, &self.dst_addr.0);
        super::put(buf, field::SRC.start, &self.src_addr.0);
        let mut at = field::ETHERTYPE;
        if let Some(tag) = self.vlan {
            super::put16(buf, at, u16::from(EtherType::Vlan));
            super::put16(buf, at + 2, tag.tci());
            at += VLAN_TAG_LEN;
        }
        super::put16(buf, at, u16::from(self.ethertype));
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
    fn parses_untagged_header() {
        let r = Repr::parse(&Frame::new_checked(&FRAME).unwrap()).unwrap();
        assert_eq!(
            r,
            Repr {
                src_addr: Mac([0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb]),
                dst_addr: Mac([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]),
                vlan: None,
                ethertype: EtherType::Ipv4,
            }
        );
        assert_eq!(r.buffer_len(), 14);
    }

    #[test]
    fn emit_reproduces_the_bytes() {
        let r = Repr::parse(&Frame::new_checked(&FRAME).unwrap()).unwrap();
        let mut buf = [0xffu8; 14];
        r.emit(&mut buf);
        assert_eq!(buf[..], FRAME[..14]);
    }

    #[test]
    fn tagged_header_round_trips() {
        let r = Repr {
            src_addr: Mac([2, 0, 0, 0, 0, 1]),
            dst_addr: Mac([2, 0, 0, 0, 0, 2]),
            vlan: Some(VlanTag {
                priority: 5,
                drop_eligible: true,
                id: 0x123,
            }),
            ethertype: EtherType::Ipv6,
        };
        assert_eq!(r.buffer_len(), 18);
        let mut buf = [0u8; 18];
        r.emit(&mut buf);
        assert_eq!(buf[12..], [0x81, 0x00, 0xb1, 0x23, 0x86, 0xdd]);
        assert_eq!(Repr::parse(&Frame::new_checked(&buf).unwrap()).unwrap(), r);
    }

    #[test]
    fn rejects_tag_cut_short() {
        let mut buf = [0u8; 18];
        Repr {
            vlan: Some(VlanTag::new(7)),
            ..Repr::default()
        }
        .emit(&mut buf);
        let e = Repr::parse(&Frame::new_checked(&buf[..16]).unwrap()).unwrap_err();
        assert_eq!((e.layer, e.offset), (Layer::Vlan, 14));
        assert_eq!(
            e.kind,
            ErrorKind::Truncated {
                needed: 4,
                available: 2
            }
        );
    }

    #[test]
    #[should_panic(expected = "ethernet emit needs 18 bytes, the buffer has 14")]
    fn emit_panics_on_short_buffer() {
        let r = Repr {
            vlan: Some(VlanTag::new(7)),
            ..Repr::default()
        };
        r.emit(&mut [0u8; 14]);
    }

    #[test]
    fn ethertype_round_trips() {
        for v in [0x0800u16, 0x86dd, 0x8100, 0x1234, 0x8903] {
            assert_eq!(u16::from(EtherType::from(v)), v);
        }
    }
}
