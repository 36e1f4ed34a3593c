//! Frame builders and checks for the unit tests: headers with valid checksums, written one
//! layer at a time by `custos_decode`'s wire `Repr`s (so tunnels and quoted headers nest),
//! and the decoder's checksum verdicts.

use std::net::{IpAddr, Ipv6Addr};

use custos_decode::checksum::{finish, pseudo_header, sum};
use custos_decode::wire::{tcp, EthernetRepr, IcmpRepr, Ipv4Repr, Ipv6Repr, Mac, TcpRepr, UdpRepr};
use custos_decode::{ChecksumStatus, Decoder, DecoderConfig};

pub(super) fn ip(a: &[u8]) -> IpAddr {
    match a.len() {
        4 => IpAddr::from(<[u8; 4]>::try_from(a).unwrap()),
        _ => IpAddr::from(<[u8; 16]>::try_from(a).unwrap()),
    }
}

/// An Ethernet header of `ethertype` followed by `payload`.
pub(super) fn eth(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let header = EthernetRepr {
        src_addr: Mac(src),
        dst_addr: Mac(dst),
        vlan: None,
        ethertype: ethertype.into(),
    };
    let mut f = vec![0; header.buffer_len()];
    header.emit(&mut f);
    f.extend_from_slice(payload);
    f
}

/// An IPv4 header (identification 0x1234, don't fragment, TTL 64, valid checksum) followed
/// by `payload` of protocol `proto`.
pub(super) fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, payload: &[u8]) -> Vec<u8> {
    let header = Ipv4Repr {
        src_addr: src.into(),
        dst_addr: dst.into(),
        protocol: proto,
        payload_len: payload.len(),
        ident: 0x1234,
        dont_frag: true,
        ..Ipv4Repr::default()
    };
    let mut f = vec![0; header.buffer_len()];
    header.emit(&mut f);
    f.extend_from_slice(payload);
    f
}

/// An IPv6 header (hop limit 64) followed by `payload` of next header `next`.
pub(super) fn ipv6(src: [u8; 16], dst: [u8; 16], next: u8, payload: &[u8]) -> Vec<u8> {
    let header = Ipv6Repr {
        src_addr: src.into(),
        dst_addr: dst.into(),
        next_header: next,
        payload_len: payload.len(),
        ..Ipv6Repr::default()
    };
    let mut f = vec![0; header.buffer_len()];
    header.emit(&mut f);
    f.extend_from_slice(payload);
    f
}

/// A transport segment of `proto` with its checksum at `field` set over the pseudo-header
/// (over the segment alone for ICMP and IGMP): for headers that have no `Repr`.
pub(super) fn with_checksum(
    src: &[u8],
    dst: &[u8],
    proto: u8,
    mut seg: Vec<u8>,
    field: usize,
) -> Vec<u8> {
    let initial = if proto == 1 || proto == 2 {
        0
    } else {
        pseudo_header(ip(src), ip(dst), proto, seg.len() as u32)
    };
    let ck = finish(sum(&seg, initial));
    seg[field..field + 2].copy_from_slice(&ck.to_be_bytes());
    seg
}

/// A TCP segment (sequence 1, PSH ACK, window 0xffff) with its checksum over `src` → `dst`.
pub(super) fn tcp(src: &[u8], dst: &[u8], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let seg = TcpRepr {
        src_port: sport,
        dst_port: dport,
        seq_number: 1,
        flags: tcp::flags::PSH | tcp::flags::ACK,
        window_len: 0xffff,
        payload,
        ..TcpRepr::default()
    };
    let mut s = vec![0; seg.buffer_len()];
    seg.emit(&mut s, ip(src), ip(dst));
    s
}

/// A UDP datagram with its checksum over `src` → `dst`.
pub(super) fn udp(src: &[u8], dst: &[u8], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let d = UdpRepr {
        src_port: sport,
        dst_port: dport,
        payload,
    };
    let mut s = vec![0; d.buffer_len()];
    d.emit(&mut s, ip(src), ip(dst));
    s
}

/// The ICMP message `msg` (type, code, checksum field, rest of header, data) with its
/// checksum: ICMPv6 over `src` → `dst` when `v6`, ICMP otherwise.
pub(super) fn icmp(src: &[u8], dst: &[u8], v6: bool, msg: &[u8]) -> Vec<u8> {
    let m = IcmpRepr {
        msg_type: msg[0],
        msg_code: msg[1],
        rest_of_header: u32::from_be_bytes(msg[4..8].try_into().unwrap()),
        payload: &msg[8..],
    };
    let mut s = vec![0; m.buffer_len()];
    if v6 {
        let v6 = |a: &[u8]| Ipv6Addr::from(<[u8; 16]>::try_from(a).unwrap());
        m.emit_v6(&mut s, v6(src), v6(dst));
    } else {
        m.emit(&mut s);
    }
    s
}

pub(super) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

pub(super) fn assert_absent(frame: &[u8], originals: &[&[u8]]) {
    for o in originals {
        assert!(!contains(frame, o), "original bytes {o:02x?} remain");
    }
}

/// Checksum statuses of every IP layer and the IPv4 header verdict, by the decoder.
pub(super) fn statuses(linktype: u32, frame: &[u8]) -> (Vec<ChecksumStatus>, bool, usize) {
    let mut d = Decoder::new(DecoderConfig::default());
    let decoded = d.decode(linktype, 0, frame);
    let s = decoded.ip_layers().map(|l| l.l4_checksum).collect();
    (s, decoded.bad_ip_checksum, decoded.ip_layers().count())
}

pub(super) fn assert_same_checksums(linktype: u32, before: &[u8], after: &[u8]) {
    assert_eq!(statuses(linktype, before), statuses(linktype, after));
}

pub(super) fn ipv4_header_valid(h: &[u8]) -> bool {
    finish(sum(&h[..usize::from(h[0] & 15) * 4], 0)) == 0
}

pub(super) fn transport_valid(src: &[u8], dst: &[u8], proto: u8, seg: &[u8]) -> bool {
    finish(sum(
        seg,
        pseudo_header(ip(src), ip(dst), proto, seg.len() as u32),
    )) == 0
}
