//! The decoder: walks a frame from its link type down through tunnels to the innermost
//! transport header, and summarises each IP layer it crossed.

use crate::checksum;
use crate::error::{need, DecodeError, ErrorKind, Layer};
use crate::reassembly::{FragmentKey, Reassembler, ReassemblyLimits, ReassemblyStats};
use crate::wire::{self, ethernet, ipv6, tcp, Mac};
use std::net::IpAddr;

/// LINKTYPE values the decoder understands (tcpdump.org link-layer header types).
pub mod linktype {
    /// BSD loopback (host byte order family).
    pub const NULL: u32 = 0;
    /// Ethernet.
    pub const ETHERNET: u32 = 1;
    /// PPP.
    pub const PPP: u32 = 9;
    /// Raw IP on some BSDs (DLT_RAW = 12).
    pub const RAW_12: u32 = 12;
    /// Raw IP on OpenBSD (DLT_RAW = 14).
    pub const RAW_14: u32 = 14;
    /// PPP in HDLC-like framing.
    pub const PPP_HDLC: u32 = 50;
    /// PPP over Ethernet-style framing.
    pub const PPP_ETHER: u32 = 51;
    /// Raw IPv4/IPv6.
    pub const RAW: u32 = 101;
    /// OpenBSD loopback (network byte order family).
    pub const LOOP: u32 = 108;
    /// Linux cooked capture v1.
    pub const LINUX_SLL: u32 = 113;
    /// Raw IPv4.
    pub const IPV4: u32 = 228;
    /// Raw IPv6.
    pub const IPV6: u32 = 229;
    /// Linux cooked capture v2.
    pub const LINUX_SLL2: u32 = 276;
    /// IEEE 802.11 without radio information.
    pub const IEEE802_11: u32 = 105;
    /// IEEE 802.11 with a radiotap header.
    pub const IEEE802_11_RADIOTAP: u32 = 127;

    /// True when the decoder can decode frames of this link type.
    pub fn is_supported(lt: u32) -> bool {
        matches!(
            lt,
            NULL | ETHERNET
                | PPP
                | RAW_12
                | RAW_14
                | PPP_HDLC
                | PPP_ETHER
                | RAW
                | LOOP
                | LINUX_SLL
                | IPV4
                | IPV6
                | LINUX_SLL2
        )
    }
}

/// Whether to verify checksums.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChecksumMode {
    /// Verify IPv4 header and TCP/UDP/ICMP checksums.
    #[default]
    Verify,
    /// Never verify.
    Ignore,
}

/// Decoder settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DecoderConfig {
    /// Checksum verification.
    pub checksums: ChecksumMode,
    /// Fragment reassembly limits.
    pub reassembly: ReassemblyLimits,
}

/// The encapsulation that carried an IP layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Encap {
    /// Not encapsulated (the outermost IP layer).
    None,
    /// IP in IP (protocol 4 or 41).
    IpInIp,
    /// GRE (including PPTP and GRE over UDP).
    Gre,
    /// ERSPAN over GRE.
    Erspan,
    /// VXLAN.
    Vxlan,
    /// Geneve.
    Geneve,
    /// Teredo.
    Teredo,
    /// AYIYA.
    Ayiya,
    /// GTP-U.
    Gtp,
}

impl Encap {
    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Encap::None => "none",
            Encap::IpInIp => "ip-in-ip",
            Encap::Gre => "gre",
            Encap::Erspan => "erspan",
            Encap::Vxlan => "vxlan",
            Encap::Geneve => "geneve",
            Encap::Teredo => "teredo",
            Encap::Ayiya => "ayiya",
            Encap::Gtp => "gtp",
        }
    }
}

/// Result of checksum verification for a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChecksumStatus {
    /// Verified and correct.
    Good,
    /// Verified and wrong.
    Bad,
    /// Not verified (mode `Ignore`, truncated capture, or no checksum in the protocol).
    Unverified,
}

/// The transport part of an IP layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport<'a> {
    /// TCP segment.
    Tcp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Flag byte (see [`crate::wire::tcp::flags`]).
        flags: u8,
        /// Sequence number.
        seq: u32,
        /// Acknowledgment number.
        ack: u32,
        /// Window (unscaled).
        window: u16,
        /// Options bytes.
        options: &'a [u8],
        /// Captured payload.
        payload: &'a [u8],
        /// Payload length as the IP header states it.
        payload_len: u32,
    },
    /// UDP datagram.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// Captured payload.
        payload: &'a [u8],
        /// Payload length from the UDP length field (or the IP length when that is implausible).
        payload_len: u32,
    },
    /// ICMP or ICMPv6 message.
    Icmp {
        /// Message type.
        msg_type: u8,
        /// Message code.
        code: u8,
        /// True for ICMPv6.
        v6: bool,
        /// Captured bytes after the 8-byte header.
        payload: &'a [u8],
        /// Message length minus the 8-byte header, as the IP header states it.
        payload_len: u32,
    },
    /// Another protocol, not decoded.
    Other {
        /// Captured payload.
        payload: &'a [u8],
    },
    /// A fragment held for reassembly (its datagram is not complete yet).
    Fragment,
    /// The transport header could not be decoded (see [`Decoded::error`]).
    Malformed,
}

/// One IP layer of a frame, with its transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpLayer<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// Upper-layer protocol (after IPv6 extension headers).
    pub protocol: u8,
    /// IP length as Zeek counts it: IPv4 total length, IPv6 payload length + 40.
    pub ip_len: u32,
    /// TTL or hop limit.
    pub ttl: u8,
    /// Byte offset of this IP header in the frame.
    pub offset: usize,
    /// What carried this layer.
    pub encap: Encap,
    /// True when this layer was rebuilt from fragments.
    pub reassembled: bool,
    /// The transport.
    pub transport: Transport<'a>,
    /// Transport checksum verification result.
    pub l4_checksum: ChecksumStatus,
    /// True when this layer's payload was decapsulated into the next layer.
    pub carries_tunnel: bool,
}

/// Most IP layers kept per frame (outer + nested tunnels).
pub const MAX_IP_LAYERS: usize = 4;
/// Most decoding steps per frame (bounds work on hostile nesting).
const MAX_STEPS: usize = 32;

/// Everything the decoder learned about one frame.
#[derive(Clone, Copy, Debug)]
pub struct Decoded<'a> {
    /// Outermost Ethernet source address.
    pub src_mac: Option<Mac>,
    /// Outermost Ethernet destination address.
    pub dst_mac: Option<Mac>,
    /// Outermost VLAN ids (outer first), up to two.
    pub vlans: [u16; 2],
    /// How many of `vlans` are set.
    pub vlan_count: u8,
    /// ARP contents, when the frame is ARP.
    pub arp: Option<wire::arp::Repr>,
    layers: [Option<IpLayer<'a>>; MAX_IP_LAYERS],
    layer_count: usize,
    /// Where decoding stopped early, if it did; the fields above hold what came before.
    pub error: Option<DecodeError>,
    /// True when the frame's link type is not supported.
    pub unsupported_link: bool,
    /// True when an IPv4 header checksum failed under `Verify` (the frame is then not used).
    pub bad_ip_checksum: bool,
}

impl<'a> Decoded<'a> {
    fn empty() -> Self {
        Decoded {
            src_mac: None,
            dst_mac: None,
            vlans: [0; 2],
            vlan_count: 0,
            arp: None,
            layers: [None; MAX_IP_LAYERS],
            layer_count: 0,
            error: None,
            unsupported_link: false,
            bad_ip_checksum: false,
        }
    }

    /// True when decoding found nothing to key on: no MAC address, no ARP and no IP layer
    /// (an empty or truncated frame, or an unsupported link type).
    pub fn is_empty(&self) -> bool {
        self.src_mac.is_none()
            && self.dst_mac.is_none()
            && self.arp.is_none()
            && self.layer_count == 0
    }

    /// The IP layers, outermost first.
    pub fn ip_layers(&self) -> impl Iterator<Item = &IpLayer<'a>> {
        self.layers.iter().take(self.layer_count).flatten()
    }

    /// The innermost IP layer.
    pub fn innermost(&self) -> Option<&IpLayer<'a>> {
        self.ip_layers().last()
    }

    /// VLAN ids in use.
    pub fn vlan_ids(&self) -> &[u16] {
        self.vlans
            .get(..usize::from(self.vlan_count))
            .unwrap_or(&[])
    }
}

/// What the walk does next.
#[derive(Clone, Copy)]
enum Step<'a> {
    Ethernet(&'a [u8]),
    EtherType(u16, &'a [u8]),
    Ppp(&'a [u8]),
    Ip(&'a [u8], Encap),
    Done,
}

/// Decodes frames. Holds the fragment reassembler, so use one decoder per capture stream.
#[derive(Debug)]
pub struct Decoder {
    cfg: DecoderConfig,
    reassembler: Reassembler,
    scratch: Vec<u8>,
}

impl Decoder {
    /// A decoder with `cfg`.
    pub fn new(cfg: DecoderConfig) -> Self {
        Decoder {
            cfg,
            reassembler: Reassembler::new(cfg.reassembly),
            scratch: Vec::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &DecoderConfig {
        &self.cfg
    }

    /// Changes checksum verification from now on.
    pub fn set_checksum_mode(&mut self, mode: ChecksumMode) {
        self.cfg.checksums = mode;
    }

    /// Reassembly counters.
    pub fn reassembly_stats(&self) -> ReassemblyStats {
        self.reassembler.stats()
    }

    /// Decodes one frame of link type `linktype` captured at `ts` (ns; used by reassembly).
    ///
    /// Never panics and never fails as a whole: a layer that cannot be decoded stops the walk
    /// and is reported in [`Decoded::error`], with everything decoded before it kept.
    pub fn decode<'a>(&'a mut self, linktype: u32, ts: i64, frame: &'a [u8]) -> Decoded<'a> {
        let mut walk = Walk {
            out: Decoded::empty(),
            frame,
            verify: self.cfg.checksums == ChecksumMode::Verify,
            reassembler: &mut self.reassembler,
            scratch: Some(&mut self.scratch),
            ts,
            reassembled_at: 0,
        };
        let first = match linktype {
            linktype::ETHERNET => Step::Ethernet(frame),
            linktype::RAW
            | linktype::RAW_12
            | linktype::RAW_14
            | linktype::IPV4
            | linktype::IPV6 => Step::Ip(frame, Encap::None),
            linktype::NULL | linktype::LOOP => match wire::link::parse_null(frame) {
                Ok(c) => Step::EtherType(c.ethertype, c.payload),
                Err(e) => return walk.fail(e),
            },
            linktype::LINUX_SLL => match wire::link::parse_sll(frame) {
                Ok(c) => {
                    walk.out.src_mac = c.src_addr.map(Mac);
                    Step::EtherType(c.ethertype, c.payload)
                }
                Err(e) => return walk.fail(e),
            },
            linktype::LINUX_SLL2 => match wire::link::parse_sll2(frame) {
                Ok(c) => {
                    walk.out.src_mac = c.src_addr.map(Mac);
                    Step::EtherType(c.ethertype, c.payload)
                }
                Err(e) => return walk.fail(e),
            },
            linktype::PPP | linktype::PPP_HDLC | linktype::PPP_ETHER => Step::Ppp(frame),
            linktype::IEEE802_11 | linktype::IEEE802_11_RADIOTAP => {
                let wlan = if linktype == linktype::IEEE802_11 {
                    Ok(frame)
                } else {
                    wire::ieee80211::strip_radiotap(frame)
                };
                match wlan.and_then(wire::ieee80211::parse_data) {
                    Ok(Some(d)) => {
                        walk.out.src_mac = Some(d.src);
                        Step::EtherType(d.ethertype, d.payload)
                    }
                    Ok(None) => return walk.out,
                    Err(e) => return walk.fail(e),
                }
            }
            _ => {
                walk.out.unsupported_link = true;
                return walk.out;
            }
        };
        walk.run(first);
        walk.out
    }
}

struct Walk<'a, 'r> {
    out: Decoded<'a>,
    frame: &'a [u8],
    verify: bool,
    reassembler: &'r mut Reassembler,
    scratch: Option<&'a mut Vec<u8>>,
    ts: i64,
    /// Frame offset of the IP header whose fragment completed a reassembly in this frame.
    reassembled_at: usize,
}

impl<'a> Walk<'a, '_> {
    /// Offset of `part` within the frame (0 for bytes outside it, e.g. reassembled data).
    /// Offset of `part` within the frame, or `None` for bytes outside it (reassembled data).
    fn offset_in_frame(&self, part: &[u8]) -> Option<usize> {
        let base = self.frame.as_ptr() as usize;
        let p = part.as_ptr() as usize;
        (p >= base && p <= base + self.frame.len()).then(|| p - base)
    }

    /// Offset of `part` within the frame; bytes of a reassembled datagram map to the IP header
    /// of the fragment that completed it (the only place in this frame they can be named).
    fn offset_of(&self, part: &[u8]) -> usize {
        self.offset_in_frame(part).unwrap_or(self.reassembled_at)
    }

    fn fail(mut self, e: DecodeError) -> Decoded<'a> {
        self.out.error = Some(e);
        self.out
    }

    fn error_at(&mut self, e: DecodeError, part: &[u8]) {
        let offset = match self.offset_in_frame(part) {
            Some(at) => (at + e.offset).min(self.frame.len()),
            None => self.reassembled_at,
        };
        self.out.error = Some(DecodeError { offset, ..e });
    }

    fn run(&mut self, mut step: Step<'a>) {
        let mut l2_seen = false;
        for _ in 0..MAX_STEPS {
            step = match step {
                Step::Done => return,
                Step::Ethernet(buf) => match ethernet::Frame::new_checked(buf) {
                    Ok(f) => {
                        if !l2_seen {
                            self.out.src_mac = Some(f.src_addr());
                            self.out.dst_mac = Some(f.dst_addr());
                            l2_seen = true;
                        }
                        Step::EtherType(f.ethertype(), f.payload())
                    }
                    Err(e) => {
                        self.error_at(e, buf);
                        return;
                    }
                },
                Step::EtherType(t, buf) => self.ethertype(t, buf),
                Step::Ppp(buf) => match wire::ppp::parse_ppp(buf) {
                    Ok((proto, payload)) => match wire::ppp::ppp_to_ethertype(proto) {
                        Some(t) => Step::EtherType(t, payload),
                        None => Step::Done,
                    },
                    Err(e) => {
                        self.error_at(e, buf);
                        return;
                    }
                },
                Step::Ip(buf, encap) => self.ip(buf, encap),
            };
        }
        self.out.error = Some(DecodeError::new(Layer::Link, 0, ErrorKind::TooDeep));
    }

    fn ethertype(&mut self, t: u16, buf: &'a [u8]) -> Step<'a> {
        use ethernet::EtherType as E;
        let result = match E::from(t) {
            E::Ipv4 | E::Ipv6 => return Step::Ip(buf, Encap::None),
            E::Vlan | E::QinQ | E::QinQOld => need(buf, 4, Layer::Vlan).map(|()| {
                let tci = wire::be16(buf, 0);
                if self.out.layer_count == 0 {
                    if let Some(slot) = self.out.vlans.get_mut(usize::from(self.out.vlan_count)) {
                        *slot = tci & 0x0fff;
                        self.out.vlan_count += 1;
                    }
                }
                Step::EtherType(wire::be16(buf, 2), wire::rest(buf, 4))
            }),
            E::MplsUnicast | E::MplsMulticast => wire::mpls::strip_labels(buf).map(|rest| {
                match rest.first().map(|b| b >> 4) {
                    Some(4) | Some(6) => Step::Ip(rest, Encap::None),
                    // RFC 4385 pseudowire control word, then Ethernet.
                    Some(0) if rest.len() >= 4 => Step::Ethernet(wire::rest(rest, 4)),
                    _ => Step::Done,
                }
            }),
            E::PppoeSession => wire::ppp::parse_pppoe_session(buf).map(Step::Ppp),
            E::Arp => {
                match wire::arp::Repr::parse(buf) {
                    Ok(r) => self.out.arp = Some(r),
                    Err(e) => self.error_at(e, buf),
                }
                return Step::Done;
            }
            // Cisco FabricPath: after the outer addresses and EtherType comes a 2-byte
            // FTag/TTL field, then the whole original Ethernet frame.
            E::FabricPath => {
                need(buf, 2, Layer::L2Tag).map(|()| Step::Ethernet(wire::rest(buf, 2)))
            }
            // VN-Tag: 4 bytes of tag, then the EtherType.
            E::VnTag => need(buf, 6, Layer::L2Tag)
                .map(|()| Step::EtherType(wire::be16(buf, 4), wire::rest(buf, 6))),
            // 802.1ah: a 4-byte I-TAG, then the customer frame.
            E::Pbb => need(buf, 4, Layer::L2Tag).map(|()| Step::Ethernet(wire::rest(buf, 4))),
            E::TransparentEthernet => return Step::Ethernet(buf),
            E::PppoeDiscovery | E::Unknown(_) => return Step::Done,
        };
        match result {
            Ok(step) => step,
            Err(e) => {
                self.error_at(e, buf);
                Step::Done
            }
        }
    }

    fn push_layer(&mut self, layer: IpLayer<'a>) -> bool {
        match self.out.layers.get_mut(self.out.layer_count) {
            Some(slot) => {
                *slot = Some(layer);
                self.out.layer_count += 1;
                true
            }
            None => {
                self.out.error = Some(DecodeError::new(
                    Layer::Link,
                    layer.offset,
                    ErrorKind::TooDeep,
                ));
                false
            }
        }
    }

    fn mark_tunnel(&mut self) {
        if let Some(Some(last)) = self
            .out
            .layers
            .get_mut(self.out.layer_count.wrapping_sub(1))
        {
            last.carries_tunnel = true;
        }
    }

    fn ip(&mut self, buf: &'a [u8], encap: Encap) -> Step<'a> {
        match buf.first().map(|b| b >> 4) {
            Some(4) => self.ipv4(buf, encap),
            Some(6) => self.ipv6(buf, encap),
            Some(v) => {
                self.error_at(
                    DecodeError::new(Layer::Ipv4, 0, ErrorKind::BadVersion(v)),
                    buf,
                );
                Step::Done
            }
            None => {
                self.error_at(
                    DecodeError::new(
                        Layer::Ipv4,
                        0,
                        ErrorKind::Truncated {
                            needed: 1,
                            available: 0,
                        },
                    ),
                    buf,
                );
                Step::Done
            }
        }
    }

    fn ipv4(&mut self, buf: &'a [u8], encap: Encap) -> Step<'a> {
        let p = match wire::Ipv4Packet::new_checked(buf) {
            Ok(p) => p,
            Err(e) => {
                self.error_at(e, buf);
                return Step::Done;
            }
        };
        if self.verify && !p.verify_checksum() {
            self.out.bad_ip_checksum = true;
            self.error_at(
                DecodeError::new(Layer::Ipv4, 10, ErrorKind::BadChecksum),
                buf,
            );
            return Step::Done;
        }
        let src = IpAddr::V4(p.src_addr());
        let dst = IpAddr::V4(p.dst_addr());
        let mut layer = IpLayer {
            src,
            dst,
            protocol: p.protocol(),
            ip_len: u32::from(p.total_len()),
            ttl: p.ttl(),
            offset: self.offset_of(buf),
            encap,
            reassembled: false,
            transport: Transport::Fragment,
            l4_checksum: ChecksumStatus::Unverified,
            carries_tunnel: false,
        };
        let mut payload = p.payload();
        let mut wire_len = p.payload_len();
        let mut complete = p.is_complete();
        if p.is_fragment() {
            let key = FragmentKey {
                src,
                dst,
                ident: u32::from(p.ident()),
                protocol: p.protocol(),
            };
            match self.reassemble(
                key,
                usize::from(p.frag_offset()),
                p.more_frags(),
                payload,
                complete,
            ) {
                Some(whole) => {
                    self.reassembled_at = layer.offset;
                    payload = whole;
                    wire_len = whole.len();
                    complete = true;
                    layer.reassembled = true;
                    layer.ip_len = (p.header_len() + whole.len()) as u32;
                }
                None => {
                    self.push_layer(layer);
                    return Step::Done;
                }
            }
        }
        self.transport(layer, payload, wire_len, complete)
    }

    fn ipv6(&mut self, buf: &'a [u8], encap: Encap) -> Step<'a> {
        let p = match wire::Ipv6Packet::new_checked(buf) {
            Ok(p) => p,
            Err(e) => {
                self.error_at(e, buf);
                return Step::Done;
            }
        };
        let src = IpAddr::V6(p.src_addr());
        let dst = IpAddr::V6(p.dst_addr());
        let mut layer = IpLayer {
            src,
            dst,
            protocol: p.next_header(),
            ip_len: u32::from(p.payload_len()) + ipv6::HEADER_LEN as u32,
            ttl: p.hop_limit(),
            offset: self.offset_of(buf),
            encap,
            reassembled: false,
            transport: Transport::Malformed,
            l4_checksum: ChecksumStatus::Unverified,
            carries_tunnel: false,
        };
        let ext = match p.extensions() {
            Ok(ext) => ext,
            Err(e) => {
                self.push_layer(layer);
                self.error_at(e, buf);
                return Step::Done;
            }
        };
        layer.protocol = ext.protocol;
        let all = p.payload();
        let mut payload = wire::rest(all, ext.len);
        let mut wire_len = usize::from(p.payload_len()).saturating_sub(ext.len);
        let mut complete = p.is_complete();
        if let Some(frag) = ext.fragment {
            // Atomic fragments (offset 0, M = 0; RFC 6946) need no reassembly.
            if frag.offset != 0 || frag.more {
                let key = FragmentKey {
                    src,
                    dst,
                    ident: frag.ident,
                    protocol: frag.next_header,
                };
                match self.reassemble(key, usize::from(frag.offset), frag.more, payload, complete) {
                    Some(whole) => {
                        self.reassembled_at = layer.offset;
                        payload = whole;
                        wire_len = whole.len();
                        complete = true;
                        layer.reassembled = true;
                        layer.ip_len = (ipv6::HEADER_LEN + ext.len + whole.len()) as u32;
                    }
                    None => {
                        layer.transport = Transport::Fragment;
                        self.push_layer(layer);
                        return Step::Done;
                    }
                }
            }
        }
        self.transport(layer, payload, wire_len, complete)
    }

    /// Feeds a fragment to the reassembler; returns the whole payload once complete.
    fn reassemble(
        &mut self,
        key: FragmentKey,
        offset: usize,
        more: bool,
        payload: &'a [u8],
        complete: bool,
    ) -> Option<&'a [u8]> {
        if !complete {
            // A fragment cut by the snap length cannot be reassembled.
            self.out.error = Some(DecodeError::new(
                Layer::Fragment,
                0,
                ErrorKind::Truncated {
                    needed: 0,
                    available: payload.len(),
                },
            ));
            return None;
        }
        let scratch = self.scratch.take()?;
        match self
            .reassembler
            .add(self.ts, key, offset, more, payload, scratch)
        {
            Ok(true) => Some(scratch.as_slice()),
            Ok(false) => {
                self.scratch = Some(scratch);
                None
            }
            Err(e) => {
                self.scratch = Some(scratch);
                self.out.error = Some(e);
                None
            }
        }
    }

    fn verify_l4(&self, layer: &IpLayer<'a>, bytes: &[u8], complete: bool) -> ChecksumStatus {
        if !self.verify || !complete {
            return ChecksumStatus::Unverified;
        }
        let Ok(len) = u32::try_from(bytes.len()) else {
            return ChecksumStatus::Unverified;
        };
        let initial = checksum::pseudo_header(layer.src, layer.dst, layer.protocol, len);
        if checksum::verify(bytes, initial) {
            ChecksumStatus::Good
        } else {
            ChecksumStatus::Bad
        }
    }

    fn transport(
        &mut self,
        mut layer: IpLayer<'a>,
        payload: &'a [u8],
        wire_len: usize,
        complete: bool,
    ) -> Step<'a> {
        let mut next = Step::Done;
        let wire_len32 = u32::try_from(wire_len).unwrap_or(u32::MAX);
        match layer.protocol {
            6 => self.tcp(&mut layer, payload, wire_len32, complete),
            17 => next = self.udp(&mut layer, payload, wire_len, complete),
            1 | 58 => self.icmp(&mut layer, payload, wire_len32, complete),
            4 | 41 => {
                layer.transport = Transport::Other { payload };
                next = Step::Ip(payload, Encap::IpInIp);
            }
            47 => {
                layer.transport = Transport::Other { payload };
                next = self.gre(payload);
            }
            _ => layer.transport = Transport::Other { payload },
        }
        if !self.push_layer(layer) {
            return Step::Done;
        }
        if !matches!(next, Step::Done) {
            self.mark_tunnel();
        }
        next
    }

    /// Fills `layer`'s transport (and checksum status) from a TCP segment.
    #[inline]
    fn tcp(&mut self, layer: &mut IpLayer<'a>, payload: &'a [u8], wire_len32: u32, complete: bool) {
        match wire::TcpSegment::new_checked(payload) {
            Ok(s) => {
                layer.l4_checksum = self.verify_l4(layer, payload, complete);
                layer.transport = Transport::Tcp {
                    src_port: s.src_port(),
                    dst_port: s.dst_port(),
                    flags: s.flags(),
                    seq: s.seq_number(),
                    ack: s.ack_number(),
                    window: s.window_len(),
                    options: s.options(),
                    payload: s.payload(),
                    payload_len: wire_len32.saturating_sub(s.header_len() as u32),
                };
            }
            Err(e) => {
                layer.transport = Transport::Malformed;
                self.error_at(e, payload);
            }
        }
    }

    /// Fills `layer`'s transport (and checksum status) from a UDP datagram; returns the
    /// tunnel it carries, if any.
    #[inline]
    fn udp(
        &mut self,
        layer: &mut IpLayer<'a>,
        payload: &'a [u8],
        wire_len: usize,
        complete: bool,
    ) -> Step<'a> {
        let d = match wire::UdpDatagram::new_checked(payload) {
            Ok(d) => d,
            Err(e) => {
                layer.transport = Transport::Malformed;
                self.error_at(e, payload);
                return Step::Done;
            }
        };
        let ulen = usize::from(d.len());
        let data_len = if ulen >= 8 && ulen <= wire_len {
            ulen - 8
        } else {
            wire_len.saturating_sub(8)
        };
        // RFC 768: a zero checksum over IPv4 means "not computed".
        layer.l4_checksum = if d.checksum() == 0 && layer.src.is_ipv4() {
            ChecksumStatus::Unverified
        } else {
            let body = payload
                .get(..ulen.max(8).min(payload.len()))
                .unwrap_or(payload);
            self.verify_l4(layer, body, complete && ulen >= 8 && ulen <= payload.len())
        };
        layer.transport = Transport::Udp {
            src_port: d.src_port(),
            dst_port: d.dst_port(),
            payload: d.payload(),
            payload_len: u32::try_from(data_len).unwrap_or(u32::MAX),
        };
        if layer.l4_checksum != ChecksumStatus::Bad {
            self.udp_tunnel(d.src_port(), d.dst_port(), d.payload())
        } else {
            Step::Done
        }
    }

    /// Fills `layer`'s transport (and checksum status) from an ICMP or ICMPv6 message.
    #[inline]
    fn icmp(
        &mut self,
        layer: &mut IpLayer<'a>,
        payload: &'a [u8],
        wire_len32: u32,
        complete: bool,
    ) {
        let v6 = layer.protocol == 58;
        let l = if v6 { Layer::Icmpv6 } else { Layer::Icmp };
        match wire::icmp::Message::new_checked(payload, l) {
            Ok(m) => {
                layer.l4_checksum = if v6 {
                    self.verify_l4(layer, payload, complete)
                } else if self.verify && complete {
                    if checksum::verify(payload, 0) {
                        ChecksumStatus::Good
                    } else {
                        ChecksumStatus::Bad
                    }
                } else {
                    ChecksumStatus::Unverified
                };
                layer.transport = Transport::Icmp {
                    msg_type: m.msg_type(),
                    code: m.msg_code(),
                    v6,
                    payload: m.payload(),
                    payload_len: wire_len32.saturating_sub(8),
                };
            }
            Err(e) => {
                layer.transport = Transport::Malformed;
                self.error_at(e, payload);
            }
        }
    }

    fn gre(&mut self, buf: &'a [u8]) -> Step<'a> {
        let h = match wire::gre::parse(buf) {
            Ok(h) => h,
            Err(e) => {
                self.error_at(e, buf);
                return Step::Done;
            }
        };
        match h.protocol {
            wire::gre::PROTO_ERSPAN_2 | wire::gre::PROTO_ERSPAN_3 => {
                match wire::gre::strip_erspan(&h) {
                    Ok(frame) => Step::Ethernet(frame),
                    Err(e) => {
                        self.error_at(e, h.payload);
                        Step::Done
                    }
                }
            }
            wire::gre::PROTO_PPP => Step::Ppp(h.payload),
            0x0800 | 0x86dd => Step::Ip(h.payload, Encap::Gre),
            0x6558 => Step::Ethernet(h.payload),
            0x8847 | 0x8848 => Step::EtherType(h.protocol, h.payload),
            _ => Step::Done,
        }
    }

    /// Recognises UDP tunnels by port (Teredo by content on any port) and, as Zeek does, by a
    /// header that parses; a payload that does not parse stays plain UDP.
    fn udp_tunnel(&mut self, sport: u16, dport: u16, payload: &'a [u8]) -> Step<'a> {
        let on = |p: u16| sport == p || dport == p;
        if on(wire::vxlan::PORT) {
            match wire::vxlan::parse(payload) {
                Ok(frame) => return self.inner_ethernet(frame, Encap::Vxlan),
                Err(e) => self.error_at(e, payload),
            }
        } else if on(wire::geneve::PORT) {
            match wire::geneve::parse(payload) {
                Ok((0x6558, frame)) => return self.inner_ethernet(frame, Encap::Geneve),
                Ok((0x0800 | 0x86dd, ip)) => return Step::Ip(ip, Encap::Geneve),
                Ok(_) => {}
                Err(e) => self.error_at(e, payload),
            }
        } else if on(wire::gtp::PORT) {
            if let Ok(h) = wire::gtp::parse(payload) {
                if h.msg_type == wire::gtp::MSG_GPDU
                    && matches!(h.payload.first().map(|b| b >> 4), Some(4 | 6))
                {
                    return Step::Ip(h.payload, Encap::Gtp);
                }
            }
        } else if on(wire::ayiya::PORT) {
            if let Ok((4 | 41, ip)) = wire::ayiya::parse(payload) {
                return Step::Ip(ip, Encap::Ayiya);
            }
        } else if on(4754) {
            // GRE in UDP (RFC 8086).
            return self.gre(payload);
        }
        // Teredo relays use arbitrary ports; like Zeek's Teredo protocol detection, accept any
        // UDP payload that is exactly one well-formed IPv6 packet (after optional indicators).
        if let Ok(ip) = wire::teredo::parse(payload) {
            return Step::Ip(ip, Encap::Teredo);
        }
        Step::Done
    }

    /// An Ethernet frame inside a tunnel: its IP layer is marked with the tunnel.
    fn inner_ethernet(&mut self, frame: &'a [u8], encap: Encap) -> Step<'a> {
        match ethernet::Frame::new_checked(frame) {
            Ok(f) => {
                let mut t = f.ethertype();
                let mut body = f.payload();
                // Inner VLAN tags.
                for _ in 0..2 {
                    if matches!(t, 0x8100 | 0x88a8 | 0x9100) && body.len() >= 4 {
                        t = wire::be16(body, 2);
                        body = wire::rest(body, 4);
                    }
                }
                match t {
                    0x0800 | 0x86dd => Step::Ip(body, encap),
                    _ => Step::EtherType(t, body),
                }
            }
            Err(e) => {
                self.error_at(
                    DecodeError {
                        layer: Layer::Ethernet,
                        ..e
                    },
                    frame,
                );
                Step::Done
            }
        }
    }
}

/// TCP flag helpers re-exported for callers matching on [`Transport::Tcp`].
pub use tcp::flags as tcp_flags;
