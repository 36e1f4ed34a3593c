//! The packet header sticky buffers, read from the frame: `ipv4.hdr` (IHL × 4 bytes),
//! `ipv6.hdr` (the fixed header and its extension headers), `tcp.hdr` (data offset × 4),
//! `udp.hdr` (8), `icmpv4.hdr` (8; 20 for timestamp messages; a router advertisement with
//! its addresses) and `icmpv6.hdr` (8) — as Suricata's `GetData` functions give them. A
//! header missing from the packet, or cut short by the capture, is no buffer (the rule does
//! not match). Layers rebuilt from fragments have no header in the frame: no buffer.

use crate::ast::HeaderBuffer;
use custos_decode::wire::ipv6::walk_extensions;
use custos_decode::{IpLayer, Transport};

/// ICMPv4 timestamp and timestamp reply: 12 more header bytes.
const ICMP_TIMESTAMP: [u8; 2] = [13, 14];
/// ICMPv4 router advertisement: its addresses are part of the header.
const ICMP_ROUTER_ADVERT: u8 = 9;

/// The bytes of header `h` of `layer` in `frame`, if the packet has it.
pub(super) fn header<'a>(
    h: HeaderBuffer,
    layer: &IpLayer<'_>,
    frame: &'a [u8],
) -> Option<&'a [u8]> {
    if layer.reassembled {
        return None;
    }
    let ip = frame.get(layer.offset..)?;
    let ip_hdr_len = if layer.src.is_ipv4() {
        usize::from(ip.first()? & 0x0f) * 4
    } else {
        let ext = walk_extensions(*ip.get(6)?, ip.get(40..)?, 0).ok()?;
        40 + ext.len
    };
    match h {
        HeaderBuffer::Ipv4 if layer.src.is_ipv4() => return ip.get(..ip_hdr_len),
        HeaderBuffer::Ipv6 if layer.src.is_ipv6() => return ip.get(..ip_hdr_len),
        HeaderBuffer::Ipv4 | HeaderBuffer::Ipv6 => return None,
        _ => {}
    }
    // The transport as the IP header bounds it (trailing link-layer padding left out).
    let ip_end = (layer.ip_len as usize).min(ip.len());
    let l4 = ip.get(ip_hdr_len..ip_end)?;
    let len = match (h, layer.transport) {
        (HeaderBuffer::Tcp, Transport::Tcp { .. }) => usize::from(l4.get(12)? >> 4) * 4,
        (HeaderBuffer::Udp, Transport::Udp { .. }) => 8,
        (
            HeaderBuffer::Icmpv4,
            Transport::Icmp {
                v6: false,
                msg_type,
                ..
            },
        ) => icmpv4_header_len(msg_type, l4),
        (HeaderBuffer::Icmpv6, Transport::Icmp { v6: true, .. }) => 8,
        _ => return None,
    };
    // The transport header's length is checked against the captured bytes only.
    ip.get(ip_hdr_len..ip_hdr_len.checked_add(len)?)
}

/// Suricata's ICMPv4 header length: 8, plus the timestamps or the advertised addresses
/// when the message holds them.
fn icmpv4_header_len(msg_type: u8, msg: &[u8]) -> usize {
    const BASE: usize = 8;
    if ICMP_TIMESTAMP.contains(&msg_type) && msg.len() >= BASE + 12 {
        return BASE + 12;
    }
    if msg_type == ICMP_ROUTER_ADVERT {
        let count = usize::from(msg.get(4).copied().unwrap_or(0));
        let size = usize::from(msg.get(5).copied().unwrap_or(0));
        let addresses = count * size * 4;
        if msg.len() >= BASE + addresses {
            return BASE + addresses;
        }
    }
    BASE
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icmpv4_header_lengths() {
        assert_eq!(icmpv4_header_len(8, &[0; 64]), 8);
        assert_eq!(icmpv4_header_len(13, &[0; 20]), 20);
        assert_eq!(icmpv4_header_len(13, &[0; 19]), 8);
        let mut advert = [0u8; 24];
        advert[4] = 2;
        advert[5] = 2;
        assert_eq!(icmpv4_header_len(9, &advert), 24);
        assert_eq!(icmpv4_header_len(9, &advert[..20]), 8);
    }
}
