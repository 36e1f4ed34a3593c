//! Unit tests of the frame walk on built frames, one per protocol: addresses rewritten to the
//! pseudonymizer's pseudonyms, no original address left, checksums recomputed from scratch.

use std::net::IpAddr;

use custos_decode::checksum::{finish, sum};

use super::test_frames::*;
use super::*;
use crate::{Network, Policy, PseudonymKey};

const SRC_MAC: [u8; 6] = [0x00, 0x1b, 0x44, 0x11, 0x3a, 0xb7];
const DST_MAC: [u8; 6] = [0x3c, 0x22, 0xfb, 0x01, 0x02, 0x03];
const A4: [u8; 4] = [192, 168, 1, 23];
const B4: [u8; 4] = [93, 184, 216, 34];
const A6: [u8; 16] = [
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x10, 0, 0, 0x02, 0x1b, 0x44, 0xff, 0xfe, 0x11, 0x3a, 0xb7,
];
const B6: [u8; 16] = [
    0x26, 0x06, 0x47, 0x00, 0x47, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x11, 0x11,
];

fn pseudonymizer() -> Pseudonymizer {
    Pseudonymizer::new(
        &PseudonymKey::from_parts([0x11; 32], [0x22; 32]),
        Policy::default(),
    )
}

fn octets(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(v) => v.octets().to_vec(),
        IpAddr::V6(v) => v.octets().to_vec(),
    }
}

/// The pseudonym the rewriter must produce for `a`.
fn pseudo_ip(p: &mut Pseudonymizer, a: &[u8]) -> Vec<u8> {
    octets(p.ip(ip(a)).unwrap())
}

fn rewrite(linktype: u32, frame: &[u8], p: &mut Pseudonymizer) -> (Vec<u8>, FrameOutcome) {
    rewrite_with(linktype, frame, p, PayloadPolicy::Keep)
}

fn rewrite_with(
    linktype: u32,
    frame: &[u8],
    p: &mut Pseudonymizer,
    payload: PayloadPolicy,
) -> (Vec<u8>, FrameOutcome) {
    let mut out = frame.to_vec();
    let outcome = anonymize_frame(linktype, &mut out, p, payload).unwrap();
    (out, outcome)
}

#[test]
fn ipv4_tcp_gets_pseudonyms_and_valid_checksums() {
    let mut p = pseudonymizer();
    let frame = eth(
        DST_MAC,
        SRC_MAC,
        0x0800,
        &ipv4(A4, B4, 6, &tcp(&A4, &B4, 40000, 80, b"GET / HTTP/1.1\r\n")),
    );
    let (out, o) = rewrite(1, &frame, &mut p);
    assert_eq!(&out[0..6], &p.mac(DST_MAC));
    assert_eq!(&out[6..12], &p.mac(SRC_MAC));
    let (src, dst) = (pseudo_ip(&mut p, &A4), pseudo_ip(&mut p, &B4));
    assert_eq!((&out[26..30], &out[30..34]), (&src[..], &dst[..]));
    assert!(ipv4_header_valid(&out[14..]));
    assert!(transport_valid(&src, &dst, 6, &out[34..]));
    assert_eq!(&out[54..], b"GET / HTTP/1.1\r\n");
    assert_absent(&out, &[&A4, &B4, &SRC_MAC, &DST_MAC]);
    assert_eq!((o.addresses, o.checksums, o.ip_layers), (4, 2, 1));
    assert!(o.changed && !o.scrubbed && !o.payload_cut);
    assert_same_checksums(1, &frame, &out);
}

#[test]
fn bad_checksums_stay_bad_by_the_same_difference() {
    let mut p = pseudonymizer();
    let mut frame = eth(
        DST_MAC,
        SRC_MAC,
        0x0800,
        &ipv4(A4, B4, 17, &udp(&A4, &B4, 5000, 6000, b"data")),
    );
    frame[24] ^= 0x01; // IPv4 header checksum
    frame[40] ^= 0x10; // UDP checksum
    let (out, _) = rewrite(1, &frame, &mut p);
    let (src, dst) = (pseudo_ip(&mut p, &A4), pseudo_ip(&mut p, &B4));
    assert!(!ipv4_header_valid(&out[14..]));
    assert!(!transport_valid(&src, &dst, 17, &out[34..]));
    // Undo the damage: both become valid, so the difference was kept exactly.
    let mut fixed = out.clone();
    fixed[24] ^= 0x01;
    fixed[40] ^= 0x10;
    assert!(ipv4_header_valid(&fixed[14..]));
    assert!(transport_valid(&src, &dst, 17, &fixed[34..]));
}

#[test]
fn ipv4_udp_zero_checksum_stays_zero() {
    let mut p = pseudonymizer();
    let mut seg = udp(&A4, &B4, 5000, 6000, b"x");
    seg[6..8].copy_from_slice(&[0, 0]);
    let frame = ipv4(A4, B4, 17, &seg);
    let (out, _) = rewrite(101, &frame, &mut p);
    assert_eq!(&out[26..28], &[0, 0]);
    assert!(ipv4_header_valid(&out));
}

#[test]
fn ipv6_udp_gets_pseudonyms_and_a_valid_checksum() {
    let mut p = pseudonymizer();
    let frame = eth(
        DST_MAC,
        SRC_MAC,
        0x86dd,
        &ipv6(A6, B6, 17, &udp(&A6, &B6, 5353, 443, &[1, 2, 3, 4, 5])),
    );
    let (out, o) = rewrite(1, &frame, &mut p);
    let (src, dst) = (pseudo_ip(&mut p, &A6), pseudo_ip(&mut p, &B6));
    assert_eq!((&out[22..38], &out[38..54]), (&src[..], &dst[..]));
    assert!(transport_valid(&src, &dst, 17, &out[54..]));
    assert_absent(&out, &[&A6, &B6, &SRC_MAC]);
    assert_eq!(o.checksums, 1);
    assert_same_checksums(1, &frame, &out);
}

#[test]
fn arp_addresses_are_rewritten_and_broadcast_stays() {
    let mut p = pseudonymizer();
    let mut arp = vec![0, 1, 8, 0, 6, 4, 0, 1];
    arp.extend_from_slice(&SRC_MAC);
    arp.extend_from_slice(&A4);
    arp.extend_from_slice(&[0; 6]);
    arp.extend_from_slice(&B4);
    let frame = eth(
        [0xff; 6],
        SRC_MAC,
        0x0806,
        &[&arp[..], &[0xaa; 18]].concat(),
    );
    let (out, o) = rewrite(1, &frame, &mut p);
    assert_eq!(&out[0..6], &[0xff; 6]);
    assert_eq!(&out[22..28], &p.mac(SRC_MAC));
    assert_eq!(&out[28..32], &pseudo_ip(&mut p, &A4)[..]);
    assert_eq!(&out[32..38], &[0; 6]);
    assert_eq!(&out[38..42], &pseudo_ip(&mut p, &B4)[..]);
    assert_eq!(&out[42..], &[0; 18], "padding zeroed");
    assert_absent(&out, &[&A4, &B4, &SRC_MAC]);
    assert_eq!(o.ip_layers, 0);
}

/// An ICMPv6 neighbour solicitation for `target` with a source link-layer option.
fn neighbour(kind: u8, target: [u8; 16], option: u8) -> Vec<u8> {
    let mut m = vec![kind, 0, 0, 0, 0x60, 0, 0, 0];
    m.extend_from_slice(&target);
    m.extend_from_slice(&[option, 1]);
    m.extend_from_slice(&SRC_MAC);
    m
}

#[test]
fn neighbour_discovery_targets_and_link_layer_options_are_rewritten() {
    let mut p = pseudonymizer();
    let solicited: [u8; 16] = [
        0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0x11, 0x3a, 0xb7,
    ];
    for (kind, option, dst) in [(135, 1, solicited), (136, 2, B6)] {
        let msg = icmp(&A6, &dst, true, &neighbour(kind, B6, option));
        let frame = eth(DST_MAC, SRC_MAC, 0x86dd, &ipv6(A6, dst, 58, &msg));
        let (out, _) = rewrite(1, &frame, &mut p);
        let (src, target) = (pseudo_ip(&mut p, &A6), pseudo_ip(&mut p, &B6));
        let new_dst = &out[38..54];
        assert_eq!(&out[62..78], &target[..], "target");
        assert_eq!(&out[80..86], &p.mac(SRC_MAC), "link-layer option");
        assert!(transport_valid(&src, new_dst, 58, &out[54..]));
        if kind == 135 {
            assert_eq!(new_dst, &solicited, "multicast destination kept");
        }
        assert_absent(&out, &[&A6, &B6, &SRC_MAC]);
        assert_same_checksums(1, &frame, &out);
    }
}

#[test]
fn router_advertisement_prefix_follows_its_hosts() {
    let mut p = pseudonymizer();
    let mut msg = vec![134, 0, 0, 0, 64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0];
    // Prefix information, /64 of A6.
    msg.extend_from_slice(&[3, 4, 64, 0xc0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0]);
    msg.extend_from_slice(&A6[..8]);
    msg.extend_from_slice(&[0; 8]);
    // RDNSS with B6.
    msg.extend_from_slice(&[25, 3, 0, 0, 0, 0, 1, 0]);
    msg.extend_from_slice(&B6);
    let all_nodes = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let frame = ipv6(A6, all_nodes, 58, &icmp(&A6, &all_nodes, true, &msg));
    let (out, _) = rewrite(101, &frame, &mut p);
    let host = pseudo_ip(&mut p, &A6);
    assert_eq!(
        &out[40 + 32..40 + 40],
        &host[..8],
        "prefix = its hosts' prefix"
    );
    assert_eq!(&out[40 + 40..40 + 48], &[0; 8]);
    assert_eq!(&out[40 + 56..40 + 72], &pseudo_ip(&mut p, &B6)[..]);
    assert_same_checksums(101, &frame, &out);
}

/// A DHCPACK from `B4`'s server to `A4`'s client with routers and DNS servers.
fn dhcp_ack() -> Vec<u8> {
    let mut m = vec![2, 1, 6, 0, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 0];
    m.extend_from_slice(&A4); // ciaddr
    m.extend_from_slice(&A4); // yiaddr
    m.extend_from_slice(&B4); // siaddr
    m.extend_from_slice(&[0; 4]); // giaddr
    m.extend_from_slice(&SRC_MAC);
    m.resize(236, 0);
    m.extend_from_slice(&[99, 130, 83, 99]);
    m.extend_from_slice(&[53, 1, 5, 54, 4]);
    m.extend_from_slice(&B4);
    m.extend_from_slice(&[1, 4, 255, 255, 255, 0, 3, 4, 192, 168, 1, 1, 6, 8]);
    m.extend_from_slice(&[192, 168, 1, 1, 9, 9, 9, 9]);
    m.extend_from_slice(&[61, 7, 1]);
    m.extend_from_slice(&SRC_MAC);
    m.extend_from_slice(&[12, 6]);
    m.extend_from_slice(b"camera");
    m.push(255);
    m
}

#[test]
fn dhcp_address_fields_and_options_are_rewritten() {
    let mut p = pseudonymizer();
    let msg = dhcp_ack();
    let frame = eth(
        DST_MAC,
        SRC_MAC,
        0x0800,
        &ipv4(B4, A4, 17, &udp(&B4, &A4, 67, 68, &msg)),
    );
    let (out, _) = rewrite(1, &frame, &mut p);
    let d = &out[42..];
    let (a, b) = (pseudo_ip(&mut p, &A4), pseudo_ip(&mut p, &B4));
    assert_eq!(
        (&d[12..16], &d[16..20], &d[20..24]),
        (&a[..], &a[..], &b[..])
    );
    assert_eq!(&d[24..28], &[0; 4]);
    assert_eq!(&d[28..34], &p.mac(SRC_MAC));
    assert_eq!(&d[245..249], &b[..], "server identifier");
    assert_eq!(&d[249..255], &[1, 4, 255, 255, 255, 0], "mask unchanged");
    assert_eq!(&d[257..261], &pseudo_ip(&mut p, &[192, 168, 1, 1])[..]);
    assert_eq!(&d[263..267], &pseudo_ip(&mut p, &[192, 168, 1, 1])[..]);
    assert_eq!(&d[267..271], &pseudo_ip(&mut p, &[9, 9, 9, 9])[..]);
    assert_eq!(&d[274..280], &p.mac(SRC_MAC), "client identifier");
    assert!(contains(d, b"camera"), "names are not rewritten");
    assert_absent(&out, &[&A4, &B4, &SRC_MAC, &[192, 168, 1, 1]]);
    assert!(transport_valid(&b, &a, 17, &out[34..]));
}

/// A DNS response for `cam.example` with one A and one AAAA answer (name compressed).
fn dns_response() -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0];
    m.extend_from_slice(b"\x03cam\x07example\x00\x00\x01\x00\x01");
    m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
    m.extend_from_slice(&B4);
    m.extend_from_slice(&[0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16]);
    m.extend_from_slice(&B6);
    m
}

#[test]
fn dns_answers_are_rewritten_and_names_kept() {
    let mut p = pseudonymizer();
    let msg = dns_response();
    let frame = ipv4(A4, B4, 17, &udp(&A4, &B4, 53, 33000, &msg));
    let (out, _) = rewrite(101, &frame, &mut p);
    let d = &out[28..];
    assert_eq!(&d[41..45], &pseudo_ip(&mut p, &B4)[..]);
    assert_eq!(&d[57..73], &pseudo_ip(&mut p, &B6)[..]);
    assert!(contains(d, b"\x03cam\x07example\x00"));
    assert_absent(&out, &[&A4, &B4, &B6]);
    assert_same_checksums(101, &frame, &out);
    // Over TCP, with the two-byte length.
    let stream = [&(msg.len() as u16).to_be_bytes()[..], &msg].concat();
    let frame = ipv4(B4, A4, 6, &tcp(&B4, &A4, 53, 33001, &stream));
    let (out, _) = rewrite(101, &frame, &mut p);
    assert_absent(&out, &[&A4, &B4, &B6]);
    assert_same_checksums(101, &frame, &out);
}

#[test]
fn vlan_and_qinq_tags_are_followed() {
    let mut p = pseudonymizer();
    let inner = ipv4(A4, B4, 17, &udp(&A4, &B4, 1, 2, b"q"));
    let tagged = [
        &[0x00, 0x64, 0x81, 0x00, 0x00, 0xc8, 0x08, 0x00][..],
        &inner,
    ]
    .concat();
    let frame = eth(DST_MAC, SRC_MAC, 0x88a8, &tagged);
    let (out, _) = rewrite(1, &frame, &mut p);
    assert_eq!(&out[12..22], &frame[12..22], "tags unchanged");
    assert_eq!(&out[34..38], &pseudo_ip(&mut p, &A4)[..]);
    assert_absent(&out, &[&A4, &B4, &SRC_MAC, &DST_MAC]);
    assert_same_checksums(1, &frame, &out);
}

#[test]
fn vxlan_inner_frame_and_both_checksums_are_rewritten() {
    let mut p = pseudonymizer();
    let (c, d) = ([10, 1, 2, 3], [10, 9, 8, 7]);
    let inner_mac = [0x02, 0x42, 0xac, 0x11, 0, 2];
    let inner = eth(
        DST_MAC,
        inner_mac,
        0x0800,
        &ipv4(c, d, 6, &tcp(&c, &d, 1234, 22, b"SSH-2.0")),
    );
    let vxlan = [&[0x08, 0, 0, 0, 0, 0, 0x2a, 0][..], &inner].concat();
    let frame = eth(
        DST_MAC,
        SRC_MAC,
        0x0800,
        &ipv4(A4, B4, 17, &udp(&A4, &B4, 40000, 4789, &vxlan)),
    );
    let (out, o) = rewrite(1, &frame, &mut p);
    assert_eq!(o.ip_layers, 2);
    let (a, b) = (pseudo_ip(&mut p, &A4), pseudo_ip(&mut p, &B4));
    assert!(transport_valid(&a, &b, 17, &out[34..]), "outer UDP");
    let inner_ip = 14 + 20 + 8 + 8 + 14;
    assert!(ipv4_header_valid(&out[inner_ip..]));
    let (c2, d2) = (pseudo_ip(&mut p, &c), pseudo_ip(&mut p, &d));
    assert!(transport_valid(&c2, &d2, 6, &out[inner_ip + 20..]));
    assert_eq!(&out[inner_ip - 8..inner_ip - 2], &p.mac(inner_mac));
    assert_absent(&out, &[&A4, &B4, &c, &d, &inner_mac]);
    assert_same_checksums(1, &frame, &out);
}

#[test]
fn gre_and_ip_in_ip_tunnels_are_followed() {
    let mut p = pseudonymizer();
    let (c, d) = ([172, 16, 0, 1], [172, 16, 0, 2]);
    let inner = ipv4(c, d, 17, &udp(&c, &d, 7, 7, b"echo"));
    // GRE with a checksum (C bit), carrying IPv4.
    let gre = with_checksum(
        &[],
        &[],
        1,
        [&[0x80, 0, 8, 0, 0, 0, 0, 0][..], &inner].concat(),
        4,
    );
    let frame = ipv4(A4, B4, 47, &gre);
    let (out, o) = rewrite(101, &frame, &mut p);
    assert_eq!(o.ip_layers, 2);
    assert_eq!(finish(sum(&out[20..], 0)), 0, "GRE checksum valid");
    assert_absent(&out, &[&A4, &B4, &c, &d]);
    assert_same_checksums(101, &frame, &out);
    // IPv6 in IPv4 (6in4).
    let frame = ipv4(A4, B4, 41, &ipv6(A6, B6, 59, &[]));
    let (out, o) = rewrite(101, &frame, &mut p);
    assert_eq!(o.ip_layers, 2);
    assert_absent(&out, &[&A4, &B4, &A6, &B6]);
}

#[test]
fn icmp_error_quoted_header_is_rewritten_with_its_checksums() {
    let mut p = pseudonymizer();
    let quoted = ipv4(A4, B4, 17, &udp(&A4, &B4, 33434, 53, b"probe-data"));
    let msg = icmp(
        &[],
        &[],
        false,
        &[&[3, 3, 0, 0, 0, 0, 0, 0][..], &quoted].concat(),
    );
    let router = [203, 0, 113, 1];
    let frame = ipv4(router, A4, 1, &msg);
    let (out, o) = rewrite(101, &frame, &mut p);
    assert_eq!(o.ip_layers, 2);
    assert_eq!(finish(sum(&out[20..], 0)), 0, "ICMP checksum valid");
    assert!(
        ipv4_header_valid(&out[28..]),
        "quoted header checksum valid"
    );
    let (a, b) = (pseudo_ip(&mut p, &A4), pseudo_ip(&mut p, &B4));
    assert!(
        transport_valid(&a, &b, 17, &out[48..]),
        "quoted UDP checksum"
    );
    assert_absent(&out, &[&A4, &B4, &router]);
    assert_same_checksums(101, &frame, &out);
}

#[test]
fn multicast_broadcast_unspecified_and_loopback_stay() {
    let mut p = pseudonymizer();
    let mdns = [224, 0, 0, 251];
    for dst in [mdns, [255; 4], [127, 0, 0, 1]] {
        let frame = eth(
            [0x01, 0x00, 0x5e, 0, 0, 0xfb],
            SRC_MAC,
            0x0800,
            &ipv4([0; 4], dst, 17, &udp(&[0; 4], &dst, 68, 67, b"")),
        );
        let (out, _) = rewrite(1, &frame, &mut p);
        assert_eq!(&out[0..6], &frame[0..6], "group MAC kept");
        assert_eq!(&out[26..34], &frame[26..34], "{dst:?} kept");
        assert_eq!(out[6..12], p.mac(SRC_MAC));
    }
    let all_nodes = [0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let frame = ipv6([0; 16], all_nodes, 59, &[]);
    let (out, o) = rewrite(101, &frame, &mut p);
    assert_eq!(out, frame);
    assert!(!o.changed);
}

#[test]
fn kept_networks_stay_and_colliding_pseudonyms_are_refused() {
    let key = PseudonymKey::from_parts([0x11; 32], [0x22; 32]);
    let kept: Network = "93.184.216.0/24".parse().unwrap();
    let mut p = Pseudonymizer::new(&key, Policy::default().with_keep_network(kept));
    let frame = ipv4(A4, B4, 17, &udp(&A4, &B4, 1, 2, b""));
    let (out, _) = rewrite(101, &frame, &mut p);
    assert_eq!(&out[16..20], &B4, "kept network unchanged");
    // The original whose pseudonym would be 93.184.216.99.
    let original =
        crate::CryptoPan::new(key.cryptopan_key()).decrypt(IpAddr::from([93, 184, 216, 99]));
    let o = octets(original);
    let mut frame = ipv4(A4, [o[0], o[1], o[2], o[3]], 59, &[]);
    let err = anonymize_frame(101, &mut frame, &mut p, PayloadPolicy::Keep).unwrap_err();
    assert!(matches!(err, Error::Collision { network, .. } if network == kept));
}

#[test]
fn payload_is_kept_truncated_or_dropped() {
    let mut p = pseudonymizer();
    let body = [0x41u8; 100];
    let frame = eth(
        DST_MAC,
        SRC_MAC,
        0x0800,
        &ipv4(A4, B4, 6, &tcp(&A4, &B4, 1, 2, &body)),
    );
    let (kept, o) = rewrite_with(1, &frame, &mut p, PayloadPolicy::Keep);
    assert_eq!((kept.len(), o.payload_cut), (frame.len(), false));
    let (cut, o) = rewrite_with(1, &frame, &mut p, PayloadPolicy::Truncate(10));
    assert_eq!((cut.len(), o.payload_cut), (54 + 10, true));
    assert_eq!(&cut[..], &kept[..64], "same rewrite, shorter");
    let (dropped, _) = rewrite_with(1, &frame, &mut p, PayloadPolicy::Drop);
    assert_eq!(&dropped[..], &kept[..54]);
    let (long, o) = rewrite_with(1, &frame, &mut p, PayloadPolicy::Truncate(1000));
    assert_eq!((long, o.payload_cut), (kept, false));
}

#[test]
fn undecodable_bytes_are_zeroed_with_their_length() {
    let mut p = pseudonymizer();
    // LLDP (an unknown EtherType here): MACs rewritten, body zeroed.
    let frame = eth(
        [0x01, 0x80, 0xc2, 0, 0, 0x0e],
        SRC_MAC,
        0x88cc,
        &A4.repeat(8),
    );
    let (out, o) = rewrite(1, &frame, &mut p);
    assert_eq!((out.len(), o.scrubbed, o.ip_layers), (frame.len(), true, 0));
    assert!(out[14..].iter().all(|b| *b == 0));
    // An unknown IP protocol (OSPF): header rewritten, body zeroed, lengths kept.
    let frame = ipv4(A4, B4, 89, &A4.repeat(4));
    let (out, o) = rewrite(101, &frame, &mut p);
    assert!(o.scrubbed && out[20..].iter().all(|b| *b == 0) && ipv4_header_valid(&out));
    // An unsupported link type: all of it.
    let (out, o) = rewrite(147, &A4.repeat(4), &mut p);
    assert!(o.unsupported_link && out.iter().all(|b| *b == 0) && out.len() == 16);
}

#[test]
fn truncated_frames_keep_valid_checksums_valid() {
    let mut p = pseudonymizer();
    let frame = eth(
        DST_MAC,
        SRC_MAC,
        0x0800,
        &ipv4(A4, B4, 6, &tcp(&A4, &B4, 1, 2, &[7; 300])),
    );
    let snap = &frame[..80]; // cut by the capture, not by us
    let (out, _) = rewrite(1, snap, &mut p);
    // Put the uncaptured bytes back: the checksum verifies over the whole segment.
    let whole = [&out[..], &frame[80..]].concat();
    let (a, b) = (pseudo_ip(&mut p, &A4), pseudo_ip(&mut p, &B4));
    assert!(transport_valid(&a, &b, 6, &whole[34..]));
}

#[test]
fn routing_header_checksum_follows_the_final_destination() {
    let mut p = pseudonymizer();
    // Type 0 routing header, one segment left: the final destination is B6 (RFC 8200 §8.1).
    let via = [0x20, 1, 0xd, 0xb8, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    let seg = tcp(&A6, &B6, 30000, 80, b"x");
    let rh = [&[6, 2, 0, 1, 0, 0, 0, 0][..], &B6, &seg].concat();
    let frame = ipv6(A6, via, 43, &rh);
    let (out, _) = rewrite(101, &frame, &mut p);
    let (src, fin) = (pseudo_ip(&mut p, &A6), pseudo_ip(&mut p, &B6));
    assert_eq!(&out[48..64], &fin[..]);
    assert!(transport_valid(&src, &fin, 6, &out[64..]));
    assert_absent(&out, &[&A6, &B6, &via]);
}

#[test]
fn payload_policy_parses_and_prints() {
    for text in ["keep", "drop", "truncate:0", "truncate:64"] {
        let policy: PayloadPolicy = text.parse().unwrap();
        assert_eq!(policy.to_string(), text);
    }
    assert_eq!("truncate:64".parse(), Ok(PayloadPolicy::Truncate(64)));
    assert!("truncate:x".parse::<PayloadPolicy>().is_err());
    assert!("hash".parse::<PayloadPolicy>().is_err());
}

#[test]
fn report_lines_end_with_the_damage() {
    let r = AnonymizeReport {
        packets: 3,
        partial: Some("truncated".into()),
        warnings: vec!["w".into()],
        ..AnonymizeReport::default()
    };
    let lines = r.report_lines(std::path::Path::new("o.pcap"));
    assert!(
        lines[0].starts_with("wrote o.pcap: 3 packets, 0 rewritten"),
        "{lines:?}"
    );
    assert_eq!(lines[1], "warning: w");
    assert_eq!(
        lines[2],
        "warning: the input is damaged part-way (truncated); everything before it was written"
    );
}
