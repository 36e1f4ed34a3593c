//! Reading and rewriting the headers of one Ethernet/IPv4 frame for the evasion transforms:
//! where the IPv4 and TCP/UDP headers are, the fields the transforms change, and a full
//! recomputation of the IPv4 header checksum and the TCP or UDP checksum afterwards
//! (RFC 791 §3.1, RFC 793 §3.1, RFC 768: the one's-complement sum over the pseudo-header and
//! the segment).
//!
//! Only frames captured whole (captured length = length on the wire) with an IPv4 header
//! that is not a fragment are located ([`locate`] returns `None` otherwise): a transform
//! leaves every other frame as it is, so a frame it cannot rewrite correctly is never
//! rewritten. Every access is bounds-checked; nothing here panics on any bytes.

use crate::capture::Frame;
use custos_decode::checksum::{finish, pseudo_header, sum};
use std::net::{IpAddr, Ipv4Addr};

/// LINKTYPE_ETHERNET.
pub const ETHERNET: u32 = 1;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_VLAN: [u16; 3] = [0x8100, 0x88a8, 0x9100];
/// IP protocol number of TCP.
pub const TCP: u8 = 6;
/// IP protocol number of UDP.
pub const UDP: u8 = 17;

/// Where a frame's headers are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Offset of the IPv4 header.
    pub l3: usize,
    /// Offset of the transport header.
    pub l4: usize,
    /// Offset of the transport payload.
    pub payload: usize,
    /// End of the IPv4 datagram (`l3` + total length).
    pub end: usize,
    /// IP protocol.
    pub proto: u8,
}

/// The headers of an Ethernet/IPv4 TCP or UDP frame captured whole, not a fragment, whose
/// lengths are consistent; `None` for anything else.
pub fn locate(linktype: u32, f: &Frame) -> Option<Layout> {
    if linktype != ETHERNET || f.data.len() as u64 != u64::from(f.orig_len) {
        return None;
    }
    let d = &f.data;
    let mut at = 12;
    let mut ethertype = be16(d, at)?;
    while ETHERTYPE_VLAN.contains(&ethertype) {
        at += 4;
        ethertype = be16(d, at)?;
    }
    if ethertype != ETHERTYPE_IPV4 {
        return None;
    }
    let l3 = at + 2;
    let vihl = *d.get(l3)?;
    let ihl = usize::from(vihl & 0x0f) * 4;
    let total = usize::from(be16(d, l3 + 2)?);
    let frag = be16(d, l3 + 6)? & 0x3fff; // MF flag and offset
    let proto = *d.get(l3 + 9)?;
    let end = l3.checked_add(total)?;
    if vihl >> 4 != 4 || ihl < 20 || total < ihl || end > d.len() || frag != 0 {
        return None;
    }
    let l4 = l3 + ihl;
    let payload = match proto {
        TCP => {
            let off = usize::from(*d.get(l4 + 12)? >> 4) * 4;
            (off >= 20 && l4 + off <= end).then_some(l4 + off)?
        }
        UDP => (l4 + 8 <= end).then_some(l4 + 8)?,
        _ => return None,
    };
    Some(Layout {
        l3,
        l4,
        payload,
        end,
        proto,
    })
}

/// The IPv4 source and destination of a located frame.
pub fn addrs(d: &[u8], l: &Layout) -> Option<(Ipv4Addr, Ipv4Addr)> {
    let a = d.get(l.l3 + 12..l.l3 + 20)?;
    Some((
        Ipv4Addr::new(a[0], a[1], a[2], a[3]),
        Ipv4Addr::new(a[4], a[5], a[6], a[7]),
    ))
}

/// The transport ports of a located frame.
pub fn ports(d: &[u8], l: &Layout) -> Option<(u16, u16)> {
    Some((be16(d, l.l4)?, be16(d, l.l4 + 2)?))
}

/// The big-endian `u16` at `at`.
pub fn be16(d: &[u8], at: usize) -> Option<u16> {
    d.get(at..at + 2).map(|s| u16::from_be_bytes([s[0], s[1]]))
}

/// The big-endian `u32` at `at`.
pub fn be32(d: &[u8], at: usize) -> Option<u32> {
    d.get(at..at + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

/// Writes `v` big-endian at `at` (nothing when out of bounds).
pub fn put16(d: &mut [u8], at: usize, v: u16) {
    if let Some(s) = d.get_mut(at..at + 2) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

/// Writes `v` big-endian at `at` (nothing when out of bounds).
pub fn put32(d: &mut [u8], at: usize, v: u32) {
    if let Some(s) = d.get_mut(at..at + 4) {
        s.copy_from_slice(&v.to_be_bytes());
    }
}

/// Recomputes the IPv4 header checksum and the TCP or UDP checksum of a located frame (a
/// UDP checksum of 0, "none", stays 0; a computed 0 is sent as 0xffff, RFC 768).
pub fn fix_checksums(d: &mut [u8], l: &Layout) {
    put16(d, l.l3 + 10, 0);
    let Some(ip) = d.get(l.l3..l.l4) else {
        return;
    };
    let c = finish(sum(ip, 0));
    put16(d, l.l3 + 10, c);
    let Some((src, dst)) = addrs(d, l) else {
        return;
    };
    let at = l.l4 + if l.proto == TCP { 16 } else { 6 };
    if l.proto == UDP && be16(d, at) == Some(0) {
        return;
    }
    put16(d, at, 0);
    let Some(seg) = d.get(l.l4..l.end) else {
        return;
    };
    let ph = pseudo_header(IpAddr::V4(src), IpAddr::V4(dst), l.proto, seg.len() as u32);
    let mut c = finish(sum(seg, ph));
    if l.proto == UDP && c == 0 {
        c = 0xffff;
    }
    put16(d, at, c);
}

/// Inserts `bytes` at offset `at` of a located frame, growing the IPv4 total length (and
/// the UDP length) and the frame's lengths; returns the new layout (checksums not fixed).
/// `None`, and the frame unchanged, when the datagram would exceed 65 535 bytes.
pub fn insert(f: &mut Frame, l: &Layout, at: usize, bytes: &[u8]) -> Option<Layout> {
    let total = be16(&f.data, l.l3 + 2)?;
    let n = u16::try_from(bytes.len()).ok()?;
    let new_total = total.checked_add(n)?;
    if at < l.l4 || at > l.end {
        return None;
    }
    if l.proto == UDP {
        let ul = be16(&f.data, l.l4 + 4)?.checked_add(n)?;
        put16(&mut f.data, l.l4 + 4, ul);
    }
    put16(&mut f.data, l.l3 + 2, new_total);
    f.data.splice(at..at, bytes.iter().copied());
    f.orig_len = f.orig_len.saturating_add(u32::from(n));
    Some(Layout {
        payload: if l.payload > at {
            l.payload + bytes.len()
        } else {
            l.payload
        },
        end: l.end + bytes.len(),
        ..*l
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use custos_decode::wire::{EthernetRepr, FrameBuilder, Ipv4Repr, Mac, TcpRepr, UdpRepr};
    use custos_decode::{ChecksumMode, Decoder, DecoderConfig, Transport};

    /// The Ethernet and IPv4 headers of a test frame `src` → `dst`: MACs 02:00:00:00:00:xx
    /// after the addresses' last byte, identification `ident`, don't fragment, TTL 64.
    fn headers(src: [u8; 4], dst: [u8; 4], ident: u16) -> FrameBuilder {
        let ethernet = EthernetRepr {
            src_addr: Mac([0x02, 0, 0, 0, 0, src[3]]),
            dst_addr: Mac([0x02, 0, 0, 0, 0, dst[3]]),
            ..EthernetRepr::default()
        };
        let ip = Ipv4Repr {
            src_addr: src.into(),
            dst_addr: dst.into(),
            ident,
            dont_frag: true,
            ..Ipv4Repr::default()
        };
        FrameBuilder::new(ethernet, ip)
    }

    /// A frame captured whole.
    fn whole(data: Vec<u8>) -> Frame {
        Frame {
            ts: 0,
            orig_len: data.len() as u32,
            data,
        }
    }

    /// An Ethernet/IPv4/TCP frame `src:sport → dst:dport` with `flags`, `seq` and `payload`
    /// (ack 1, window 0x7210), valid checksums.
    pub(crate) fn tcp(
        src: [u8; 4],
        sport: u16,
        dst: [u8; 4],
        dport: u16,
        flags: u8,
        seq: u32,
        payload: &[u8],
    ) -> Frame {
        whole(headers(src, dst, 0x1234).tcp(&TcpRepr {
            src_port: sport,
            dst_port: dport,
            seq_number: seq,
            ack_number: 1,
            flags,
            window_len: 0x7210,
            payload,
            ..TcpRepr::default()
        }))
    }

    /// An Ethernet/IPv4/UDP frame with valid checksums.
    pub(crate) fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16, payload: &[u8]) -> Frame {
        whole(headers(src, dst, 0x1235).udp(&UdpRepr {
            src_port: sport,
            dst_port: dport,
            payload,
        }))
    }

    /// True when the frame decodes with verified, good checksums down to its transport.
    pub(crate) fn decodes_cleanly(f: &Frame) -> bool {
        let mut dec = Decoder::new(DecoderConfig {
            checksums: ChecksumMode::Verify,
            ..DecoderConfig::default()
        });
        let d = dec.decode(ETHERNET, f.ts, &f.data);
        d.error.is_none()
            && !d.bad_ip_checksum
            && d.innermost().is_some_and(|ip| {
                ip.l4_checksum != custos_decode::ChecksumStatus::Bad
                    && matches!(ip.transport, Transport::Tcp { .. } | Transport::Udp { .. })
            })
    }

    #[test]
    fn built_frames_decode_with_good_checksums() {
        let t = tcp([10, 0, 0, 1], 4000, [10, 0, 0, 2], 23, 0x18, 7, b"root\r\n");
        assert!(decodes_cleanly(&t));
        let u = udp([10, 0, 0, 1], 5000, [10, 0, 0, 2], 53, b"abc");
        assert!(decodes_cleanly(&u));
        let l = locate(ETHERNET, &t).unwrap();
        assert_eq!(l.payload, 54);
        assert_eq!(ports(&t.data, &l), Some((4000, 23)));
        for f in [&t, &u] {
            let l = locate(ETHERNET, f).unwrap();
            let mut d = f.data.clone();
            put16(&mut d, l.l3 + 10, 0xdead);
            put16(&mut d, l.l4 + if l.proto == TCP { 16 } else { 6 }, 0xbeef);
            fix_checksums(&mut d, &l);
            assert_eq!(d, f.data, "fix_checksums writes the builder's checksums");
        }
    }

    #[test]
    fn insert_grows_lengths_and_keeps_the_frame_valid() {
        let mut u = udp([10, 0, 0, 1], 5000, [10, 0, 0, 2], 53, b"abc");
        let l = locate(ETHERNET, &u).unwrap();
        let l2 = insert(&mut u, &l, l.end, b"xyz").unwrap();
        fix_checksums(&mut u.data, &l2);
        assert!(decodes_cleanly(&u));
        assert_eq!(be16(&u.data, l.l4 + 4), Some(14));
        assert_eq!(u.orig_len as usize, u.data.len());
    }

    #[test]
    fn truncated_and_fragmented_frames_are_not_located() {
        let mut t = tcp([10, 0, 0, 1], 4000, [10, 0, 0, 2], 23, 0x02, 7, b"");
        t.orig_len += 10;
        assert_eq!(locate(ETHERNET, &t), None);
        let mut t = tcp([10, 0, 0, 1], 4000, [10, 0, 0, 2], 23, 0x02, 7, b"");
        t.data[20] = 0x20; // MF
        assert_eq!(locate(ETHERNET, &t), None);
        let t = tcp([10, 0, 0, 1], 4000, [10, 0, 0, 2], 23, 0x02, 7, b"");
        assert_eq!(locate(113, &t), None);
        let short = Frame {
            ts: 0,
            orig_len: 20,
            data: t.data[..20].to_vec(),
        };
        assert_eq!(locate(ETHERNET, &short), None);
    }
}
