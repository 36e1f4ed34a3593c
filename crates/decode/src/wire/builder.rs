//! Whole frames from `Repr`s: Ethernet, then IPv4 or IPv6, then TCP, UDP or ICMP.
//!
//! The one place frames are built, for tests, fuzz targets and the lab. Each layer's `Repr`
//! writes its own header; [`FrameBuilder`] stacks them and fills in what one layer says about
//! the next: the EtherType, the IP protocol and payload length, and the pseudo-header that the
//! transport checksum covers.

use super::{ethernet, icmp, ipv4, ipv6, tcp, udp, EtherType, Mac};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The network layer of a frame: an IPv4 or an IPv6 header, as smoltcp's `IpRepr`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IpRepr {
    /// An IPv4 header.
    Ipv4(ipv4::Repr),
    /// An IPv6 fixed header.
    Ipv6(ipv6::Repr),
}

impl From<ipv4::Repr> for IpRepr {
    fn from(r: ipv4::Repr) -> Self {
        IpRepr::Ipv4(r)
    }
}

impl From<ipv6::Repr> for IpRepr {
    fn from(r: ipv6::Repr) -> Self {
        IpRepr::Ipv6(r)
    }
}

impl IpRepr {
    /// Source address.
    pub fn src_addr(&self) -> IpAddr {
        match self {
            IpRepr::Ipv4(r) => IpAddr::V4(r.src_addr),
            IpRepr::Ipv6(r) => IpAddr::V6(r.src_addr),
        }
    }

    /// Destination address.
    pub fn dst_addr(&self) -> IpAddr {
        match self {
            IpRepr::Ipv4(r) => IpAddr::V4(r.dst_addr),
            IpRepr::Ipv6(r) => IpAddr::V6(r.dst_addr),
        }
    }

    /// The EtherType that announces this header.
    pub fn ethertype(&self) -> EtherType {
        match self {
            IpRepr::Ipv4(_) => EtherType::Ipv4,
            IpRepr::Ipv6(_) => EtherType::Ipv6,
        }
    }

    /// The protocol (IPv4) or next header (IPv6) field.
    pub fn protocol(&self) -> u8 {
        match self {
            IpRepr::Ipv4(r) => r.protocol,
            IpRepr::Ipv6(r) => r.next_header,
        }
    }

    /// The payload length the header states.
    pub fn payload_len(&self) -> usize {
        match self {
            IpRepr::Ipv4(r) => r.payload_len,
            IpRepr::Ipv6(r) => r.payload_len,
        }
    }

    /// The same header announcing `payload_len` bytes of protocol `protocol`.
    pub fn with_payload(self, protocol: u8, payload_len: usize) -> Self {
        match self {
            IpRepr::Ipv4(r) => IpRepr::Ipv4(ipv4::Repr {
                protocol,
                payload_len,
                ..r
            }),
            IpRepr::Ipv6(r) => IpRepr::Ipv6(ipv6::Repr {
                next_header: protocol,
                payload_len,
                ..r
            }),
        }
    }

    /// Bytes [`IpRepr::emit`] writes: the header alone.
    pub fn buffer_len(&self) -> usize {
        match self {
            IpRepr::Ipv4(r) => r.buffer_len(),
            IpRepr::Ipv6(r) => r.buffer_len(),
        }
    }

    /// Writes the header at the start of `buf` (see [`ipv4::Repr::emit`], [`ipv6::Repr::emit`]).
    ///
    /// # Panics
    /// When `buf` is shorter than [`IpRepr::buffer_len`], or the payload length does not fit
    /// its 16-bit field.
    pub fn emit(&self, buf: &mut [u8]) {
        match self {
            IpRepr::Ipv4(r) => r.emit(buf),
            IpRepr::Ipv6(r) => r.emit(buf),
        }
    }
}

/// The transport of a frame: a TCP segment, a UDP datagram or an ICMP/ICMPv6 message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TransportRepr<'a> {
    /// A TCP segment.
    Tcp(tcp::Repr<'a>),
    /// A UDP datagram.
    Udp(udp::Repr<'a>),
    /// An ICMP message over IPv4, ICMPv6 over IPv6.
    Icmp(icmp::Repr<'a>),
}

impl<'a> From<tcp::Repr<'a>> for TransportRepr<'a> {
    fn from(r: tcp::Repr<'a>) -> Self {
        TransportRepr::Tcp(r)
    }
}

impl<'a> From<udp::Repr<'a>> for TransportRepr<'a> {
    fn from(r: udp::Repr<'a>) -> Self {
        TransportRepr::Udp(r)
    }
}

impl<'a> From<icmp::Repr<'a>> for TransportRepr<'a> {
    fn from(r: icmp::Repr<'a>) -> Self {
        TransportRepr::Icmp(r)
    }
}

impl TransportRepr<'_> {
    /// The IP protocol number that carries it: 6, 17, and 1 (ICMP) or 58 (ICMPv6 over IPv6).
    pub fn protocol(&self, over_ipv6: bool) -> u8 {
        match self {
            TransportRepr::Tcp(_) => tcp::PROTOCOL,
            TransportRepr::Udp(_) => udp::PROTOCOL,
            TransportRepr::Icmp(_) if over_ipv6 => icmp::PROTOCOL_V6,
            TransportRepr::Icmp(_) => icmp::PROTOCOL,
        }
    }

    /// Bytes [`TransportRepr::emit`] writes: header and payload.
    pub fn buffer_len(&self) -> usize {
        match self {
            TransportRepr::Tcp(r) => r.buffer_len(),
            TransportRepr::Udp(r) => r.buffer_len(),
            TransportRepr::Icmp(r) => r.buffer_len(),
        }
    }

    /// Writes it at the start of `buf`, with the checksum over the pseudo-header of `src` →
    /// `dst`. ICMP is written as ICMPv6 when both addresses are IPv6, as ICMP otherwise.
    ///
    /// # Panics
    /// When `buf` is shorter than [`TransportRepr::buffer_len`], or as the layer's own `emit`
    /// ([`tcp::Repr::emit`], [`udp::Repr::emit`]) says.
    pub fn emit(&self, buf: &mut [u8], src: IpAddr, dst: IpAddr) {
        match (self, src, dst) {
            (TransportRepr::Tcp(r), ..) => r.emit(buf, src, dst),
            (TransportRepr::Udp(r), ..) => r.emit(buf, src, dst),
            (TransportRepr::Icmp(r), IpAddr::V6(s), IpAddr::V6(d)) => r.emit_v6(buf, s, d),
            (TransportRepr::Icmp(r), ..) => r.emit(buf),
        }
    }
}

/// Builds whole Ethernet frames: an Ethernet header, an IP header, then a transport.
///
/// The builder fills in what each layer says about the next, overriding those fields of
/// `ethernet` and `ip`: the EtherType, the IP protocol (next header) and payload length. Every
/// checksum is computed (IPv4 header, TCP/UDP/ICMPv6 with the pseudo-header, ICMP). Frames are
/// not padded to Ethernet's 60-byte minimum, as a capture on the sending host shows them.
///
/// ```
/// use custos_decode::wire::{tcp, FrameBuilder, Mac, TcpRepr};
/// use custos_decode::{Decoder, DecoderConfig, Transport};
/// use std::net::Ipv4Addr;
///
/// let frame = FrameBuilder::ipv4(
///     Mac([2, 0, 0, 0, 0, 1]),
///     Mac([2, 0, 0, 0, 0, 2]),
///     Ipv4Addr::new(192, 168, 1, 10),
///     Ipv4Addr::new(192, 168, 1, 1),
/// )
/// .tcp(&TcpRepr {
///     src_port: 40000,
///     dst_port: 1883,
///     flags: tcp::flags::SYN,
///     seq_number: 1000,
///     window_len: 64240,
///     ..TcpRepr::default()
/// });
/// assert_eq!(frame.len(), 14 + 20 + 20);
///
/// let mut decoder = Decoder::new(DecoderConfig::default()); // checksums verified
/// let decoded = decoder.decode(1, 0, &frame);
/// let ip = decoded.innermost().expect("one IP layer");
/// assert!(matches!(ip.transport, Transport::Tcp { dst_port: 1883, seq: 1000, .. }));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameBuilder {
    /// The Ethernet header (its EtherType is set from `ip`).
    pub ethernet: ethernet::Repr,
    /// The IP header (its protocol and payload length are set from the transport).
    pub ip: IpRepr,
}

impl FrameBuilder {
    /// A builder for frames with `ethernet` and `ip` headers.
    pub fn new(ethernet: ethernet::Repr, ip: impl Into<IpRepr>) -> Self {
        FrameBuilder {
            ethernet,
            ip: ip.into(),
        }
    }

    /// A builder for untagged IPv4 frames from `src_mac`/`src` to `dst_mac`/`dst`, with the
    /// other IPv4 fields at their defaults ([`ipv4::Repr::default`]: TTL 64, identification 0,
    /// not fragmented).
    pub fn ipv4(src_mac: Mac, dst_mac: Mac, src: Ipv4Addr, dst: Ipv4Addr) -> Self {
        let ip = ipv4::Repr {
            src_addr: src,
            dst_addr: dst,
            ..ipv4::Repr::default()
        };
        Self::new(Self::ethernet(src_mac, dst_mac), ip)
    }

    /// A builder for untagged IPv6 frames from `src_mac`/`src` to `dst_mac`/`dst`, with the
    /// other IPv6 fields at their defaults ([`ipv6::Repr::default`]: hop limit 64, no flow
    /// label).
    pub fn ipv6(src_mac: Mac, dst_mac: Mac, src: Ipv6Addr, dst: Ipv6Addr) -> Self {
        let ip = ipv6::Repr {
            src_addr: src,
            dst_addr: dst,
            ..ipv6::Repr::default()
        };
        Self::new(Self::ethernet(src_mac, dst_mac), ip)
    }

    fn ethernet(src_addr: Mac, dst_addr: Mac) -> ethernet::Repr {
        ethernet::Repr {
            src_addr,
            dst_addr,
            ..ethernet::Repr::default()
        }
    }

    /// The same builder with the frame tagged for VLAN `tag`.
    pub fn with_vlan(mut self, tag: ethernet::VlanTag) -> Self {
        self.ethernet.vlan = Some(tag);
        self
    }

    /// The Ethernet and IP headers as they will be written before `transport`.
    pub fn headers(&self, transport: &TransportRepr<'_>) -> (ethernet::Repr, IpRepr) {
        let over_ipv6 = matches!(self.ip, IpRepr::Ipv6(_));
        let ip = self
            .ip
            .with_payload(transport.protocol(over_ipv6), transport.buffer_len());
        let ethernet = ethernet::Repr {
            ethertype: ip.ethertype(),
            ..self.ethernet
        };
        (ethernet, ip)
    }

    /// Length of the frame carrying `transport`.
    pub fn buffer_len(&self, transport: &TransportRepr<'_>) -> usize {
        self.ethernet.buffer_len() + self.ip.buffer_len() + transport.buffer_len()
    }

    /// Writes the frame carrying `transport` at the start of `buf` and returns its length
    /// ([`FrameBuilder::buffer_len`]). Allocates nothing.
    ///
    /// # Panics
    /// When `buf` is shorter than [`FrameBuilder::buffer_len`], or a length does not fit its
    /// field (see each layer's `emit`).
    pub fn emit(&self, transport: &TransportRepr<'_>, buf: &mut [u8]) -> usize {
        let len = self.buffer_len(transport);
        super::check_emit_len(buf, len, "frame");
        let (ethernet, ip) = self.headers(transport);
        let l3 = ethernet.buffer_len();
        let l4 = l3 + ip.buffer_len();
        ethernet.emit(buf);
        ip.emit(buf.get_mut(l3..).unwrap_or_default());
        transport.emit(
            buf.get_mut(l4..).unwrap_or_default(),
            ip.src_addr(),
            ip.dst_addr(),
        );
        len
    }

    /// The frame carrying `transport`.
    ///
    /// # Panics
    /// As [`FrameBuilder::emit`], when a length does not fit its field.
    pub fn build(&self, transport: &TransportRepr<'_>) -> Vec<u8> {
        let mut frame = vec![0; self.buffer_len(transport)];
        self.emit(transport, &mut frame);
        frame
    }

    /// The frame carrying TCP segment `tcp`.
    ///
    /// # Panics
    /// As [`tcp::Repr::emit`] and [`FrameBuilder::emit`].
    pub fn tcp(&self, tcp: &tcp::Repr<'_>) -> Vec<u8> {
        self.build(&TransportRepr::Tcp(*tcp))
    }

    /// The frame carrying UDP datagram `udp`.
    ///
    /// # Panics
    /// As [`udp::Repr::emit`] and [`FrameBuilder::emit`].
    pub fn udp(&self, udp: &udp::Repr<'_>) -> Vec<u8> {
        self.build(&TransportRepr::Udp(*udp))
    }

    /// The frame carrying ICMP message `icmp` (ICMPv6 when the builder's IP layer is IPv6).
    ///
    /// # Panics
    /// As [`FrameBuilder::emit`].
    pub fn icmp(&self, icmp: &icmp::Repr<'_>) -> Vec<u8> {
        self.build(&TransportRepr::Icmp(*icmp))
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::wire::{
        EthernetFrame, IcmpMessage, Ipv4Packet, Ipv6Packet, TcpSegment, UdpDatagram,
    };
    use crate::{ChecksumStatus, Decoder, DecoderConfig, Layer, Transport};
    use ethernet::VlanTag;

    const MAC_A: Mac = Mac([2, 0, 0, 0, 0, 1]);
    const MAC_B: Mac = Mac([2, 0, 0, 0, 0, 2]);

    fn v4() -> FrameBuilder {
        let mut b = FrameBuilder::ipv4(
            MAC_A,
            MAC_B,
            Ipv4Addr::new(192, 168, 1, 10),
            Ipv4Addr::new(10, 0, 0, 2),
        );
        if let IpRepr::Ipv4(ip) = &mut b.ip {
            ip.ident = 0x1234;
            ip.dont_frag = true;
        }
        b
    }

    fn v6() -> FrameBuilder {
        FrameBuilder::ipv6(
            MAC_B,
            MAC_A,
            "2001:db8::10".parse().unwrap(),
            "fe80::2".parse().unwrap(),
        )
    }

    fn tcp_repr() -> tcp::Repr<'static> {
        tcp::Repr {
            src_port: 40000,
            dst_port: 80,
            seq_number: 1001,
            ack_number: 5001,
            flags: tcp::flags::PSH | tcp::flags::ACK,
            window_len: 0xffff,
            urgent_at: 0,
            options: &[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2],
            payload: b"GET / HTTP/1.1\r\n\r\n",
        }
    }

    /// Decodes `frame` with checksums verified and returns its one IP layer.
    fn decode_one(frame: &[u8], check: impl FnOnce(&crate::IpLayer<'_>)) {
        let mut d = Decoder::new(DecoderConfig::default());
        let out = d.decode(crate::linktype::ETHERNET, 0, frame);
        assert_eq!(out.error, None);
        assert!(!out.bad_ip_checksum);
        let layers: Vec<_> = out.ip_layers().collect();
        assert_eq!(layers.len(), 1);
        assert_eq!(layers[0].l4_checksum, ChecksumStatus::Good);
        check(layers[0]);
    }

    /// Parses the frame layer by layer through the views and `Repr::parse`; returns the
    /// Ethernet and IP reprs and the transport bytes.
    fn parse_headers(frame: &[u8]) -> (ethernet::Repr, IpRepr, &[u8]) {
        let eth = ethernet::Repr::parse(&EthernetFrame::new_checked(frame).unwrap()).unwrap();
        let l3 = frame.get(eth.header_len()..).unwrap();
        match eth.ethertype {
            EtherType::Ipv4 => {
                let p = Ipv4Packet::new_checked(l3).unwrap();
                (eth, ipv4::Repr::parse(&p).unwrap().into(), p.payload())
            }
            EtherType::Ipv6 => {
                let p = Ipv6Packet::new_checked(l3).unwrap();
                (eth, ipv6::Repr::parse(&p).into(), p.payload())
            }
            other => panic!("unexpected ethertype {other:?}"),
        }
    }

    #[test]
    fn ipv4_tcp_frame_parses_back_with_every_field() {
        let b = v4();
        let t = tcp_repr();
        let frame = b.tcp(&t);
        assert_eq!(frame.len(), b.buffer_len(&t.into()));
        assert_eq!(frame.len(), 14 + 20 + 32 + t.payload.len());
        let (eth, ip, l4) = parse_headers(&frame);
        let (want_eth, want_ip) = b.headers(&t.into());
        assert_eq!(eth, want_eth);
        assert_eq!((eth.src_addr, eth.dst_addr, eth.vlan), (MAC_A, MAC_B, None));
        assert_eq!(ip, want_ip);
        assert_eq!(ip, b.ip.with_payload(6, 32 + t.payload.len()));
        let seg = TcpSegment::new_checked(l4).unwrap();
        assert_eq!(tcp::Repr::parse(&seg, ip.src_addr(), ip.dst_addr()), Ok(t));
        decode_one(&frame, |l| {
            assert_eq!(l.src, IpAddr::from([192, 168, 1, 10]));
            assert_eq!(l.ip_len, 20 + 32 + t.payload.len() as u32);
            assert_eq!(l.ttl, 64);
            assert_eq!(
                l.transport,
                Transport::Tcp {
                    src_port: 40000,
                    dst_port: 80,
                    flags: 0x18,
                    seq: 1001,
                    ack: 5001,
                    window: 0xffff,
                    options: t.options,
                    payload: t.payload,
                    payload_len: t.payload.len() as u32,
                }
            );
        });
    }

    #[test]
    fn ipv6_tcp_frame_parses_back_with_every_field() {
        let b = v6();
        let t = tcp::Repr {
            options: &[],
            ..tcp_repr()
        };
        let frame = b.tcp(&t);
        assert_eq!(frame.len(), 14 + 40 + 20 + t.payload.len());
        let (eth, ip, l4) = parse_headers(&frame);
        assert_eq!(eth.ethertype, EtherType::Ipv6);
        assert_eq!(ip, b.ip.with_payload(6, 20 + t.payload.len()));
        let seg = TcpSegment::new_checked(l4).unwrap();
        assert_eq!(tcp::Repr::parse(&seg, ip.src_addr(), ip.dst_addr()), Ok(t));
        decode_one(&frame, |l| {
            assert_eq!(l.protocol, 6);
            assert_eq!(l.ip_len, 40 + 20 + t.payload.len() as u32);
            assert!(
                matches!(l.transport, Transport::Tcp { seq: 1001, payload, .. } if payload == t.payload)
            );
        });
    }

    #[test]
    fn ipv4_and_ipv6_udp_frames_parse_back() {
        let u = udp::Repr {
            src_port: 5353,
            dst_port: 53,
            payload: b"\x12\x34\x01\x00\x00\x01",
        };
        for b in [v4(), v6()] {
            let frame = b.udp(&u);
            let (_, ip, l4) = parse_headers(&frame);
            assert_eq!(ip.protocol(), 17);
            assert_eq!(ip.payload_len(), 8 + u.payload.len());
            let d = UdpDatagram::new_checked(l4).unwrap();
            assert_eq!(udp::Repr::parse(&d, ip.src_addr(), ip.dst_addr()), Ok(u));
            decode_one(&frame, |l| {
                assert_eq!(
                    l.transport,
                    Transport::Udp {
                        src_port: 5353,
                        dst_port: 53,
                        payload: u.payload,
                        payload_len: u.payload.len() as u32,
                    }
                );
            });
        }
    }

    #[test]
    fn icmp_echo_frames_parse_back_over_ipv4_and_ipv6() {
        let b = v4();
        let echo = icmp::Repr::echo(icmp::ECHO_REQUEST, 0x0101, 3, b"abcdefgh");
        let frame = b.icmp(&echo);
        let (_, ip, l4) = parse_headers(&frame);
        assert_eq!(ip.protocol(), 1);
        let m = IcmpMessage::new_checked(l4, Layer::Icmp).unwrap();
        assert_eq!(icmp::Repr::parse(&m), Ok(echo));
        decode_one(&frame, |l| {
            assert!(matches!(
                l.transport,
                Transport::Icmp {
                    msg_type: 8,
                    code: 0,
                    v6: false,
                    payload_len: 8,
                    ..
                }
            ));
        });

        let b = v6();
        let echo = icmp::Repr::echo(icmp::ECHOV6_REPLY, 0x0101, 3, b"abcdefgh");
        let frame = b.icmp(&echo);
        let (_, ip, l4) = parse_headers(&frame);
        assert_eq!(ip.protocol(), 58);
        let m = IcmpMessage::new_checked(l4, Layer::Icmpv6).unwrap();
        let (IpAddr::V6(src), IpAddr::V6(dst)) = (ip.src_addr(), ip.dst_addr()) else {
            panic!("ipv6 builder gave ipv4 addresses");
        };
        assert_eq!(icmp::Repr::parse_v6(&m, src, dst), Ok(echo));
        decode_one(&frame, |l| {
            assert!(matches!(
                l.transport,
                Transport::Icmp {
                    msg_type: 129,
                    v6: true,
                    ..
                }
            ));
        });
    }

    #[test]
    fn vlan_tagged_frame_decodes_with_its_vlan() {
        let b = v4().with_vlan(VlanTag::new(42));
        let u = udp::Repr {
            src_port: 1,
            dst_port: 2,
            payload: b"x",
        };
        let frame = b.udp(&u);
        assert_eq!(frame.len(), 18 + 20 + 9);
        assert_eq!(frame[12..18], [0x81, 0x00, 0x00, 42, 0x08, 0x00]);
        let (eth, ..) = parse_headers(&frame);
        assert_eq!(eth.vlan, Some(VlanTag::new(42)));
        let mut d = Decoder::new(DecoderConfig::default());
        let out = d.decode(crate::linktype::ETHERNET, 0, &frame);
        assert_eq!(out.vlan_ids(), &[42]);
        assert_eq!(out.innermost().unwrap().l4_checksum, ChecksumStatus::Good);
    }

    #[test]
    fn builder_overrides_ethertype_protocol_and_length() {
        let mut b = v6();
        b.ethernet.ethertype = EtherType::Arp;
        if let IpRepr::Ipv6(ip) = &mut b.ip {
            ip.next_header = 99;
            ip.payload_len = 1;
        }
        let frame = b.udp(&udp::Repr::default());
        let (eth, ip, _) = parse_headers(&frame);
        assert_eq!(eth.ethertype, EtherType::Ipv6);
        assert_eq!((ip.protocol(), ip.payload_len()), (17, 8));
    }

    #[test]
    fn emit_into_a_reused_buffer_matches_build() {
        let b = v4();
        let t: TransportRepr<'_> = tcp_repr().into();
        let mut buf = [0xaau8; 256];
        let n = b.emit(&t, &mut buf);
        assert_eq!(buf[..n], b.build(&t)[..]);
        assert!(
            buf[n..].iter().all(|&x| x == 0xaa),
            "nothing written past the frame"
        );
    }

    #[test]
    #[should_panic(expected = "frame emit needs 66 bytes, the buffer has 65")]
    fn emit_panics_on_short_buffer() {
        let t: TransportRepr<'_> = tcp::Repr {
            payload: b"\0\0\0\0\0\0\0\0\0\0\0\0",
            ..tcp::Repr::default()
        }
        .into();
        v4().emit(&t, &mut [0u8; 65]);
    }
}
