//! Frame builders and checks for the unit tests: headers with valid checksums, and the
//! decoder's checksum verdicts.

use std::net::IpAddr;

use custos_decode::checksum::{finish, pseudo_header, sum};
use custos_decode::{ChecksumStatus, Decoder, DecoderConfig};

pub(super) fn ip(a: &[u8]) -> IpAddr {
    match a.len() {
        4 => IpAddr::from(<[u8; 4]>::try_from(a).unwrap()),
        _ => IpAddr::from(<[u8; 16]>::try_from(a).unwrap()),
    }
}

pub(super) fn eth(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = [&dst[..], &src[..], &ethertype.to_be_bytes()].concat();
    f.extend_from_slice(payload);
    f
}

pub(super) fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, payload: &[u8]) -> Vec<u8> {
    let total = (20 + payload.len()) as u16;
    let mut h = vec![0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, proto, 0, 0];
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    let ck = finish(sum(&h, 0));
    h[10..12].copy_from_slice(&ck.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

pub(super) fn ipv6(src: [u8; 16], dst: [u8; 16], next: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    h.extend_from_slice(&[next, 64]);
    h.extend_from_slice(&src);
    h.extend_from_slice(&dst);
    h.extend_from_slice(payload);
    h
}

/// A transport segment of `proto` with its checksum at `field` set over the pseudo-header.
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

pub(super) fn tcp(src: &[u8], dst: &[u8], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut s = [&sport.to_be_bytes()[..], &dport.to_be_bytes()].concat();
    s.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0]);
    s.extend_from_slice(payload);
    with_checksum(src, dst, 6, s, 16)
}

pub(super) fn udp(src: &[u8], dst: &[u8], sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut s = [&sport.to_be_bytes()[..], &dport.to_be_bytes()].concat();
    s.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    s.extend_from_slice(&[0, 0]);
    s.extend_from_slice(payload);
    with_checksum(src, dst, 17, s, 6)
}

pub(super) fn icmp(src: &[u8], dst: &[u8], v6: bool, msg: &[u8]) -> Vec<u8> {
    with_checksum(src, dst, if v6 { 58 } else { 1 }, msg.to_vec(), 2)
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
