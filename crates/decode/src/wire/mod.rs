//! Zero-copy typed views over protocol headers, one module per protocol.
//!
//! # Contract
//! Every view is a thin wrapper around a borrowed byte slice. `new_checked` is the only way
//! untrusted bytes enter: it verifies that every fixed field *and every length read from the
//! header* lies inside the slice. After it succeeds, no accessor panics and none reads out of
//! bounds; accessors are plain big-endian loads (network order unless the format says otherwise).
//! Structure is checked here; meaning (checksums, supported versions) is checked by the decoder,
//! so a view still describes a packet whose meaning is wrong.

pub mod arp;
pub mod ayiya;
pub mod ethernet;
pub mod geneve;
pub mod gre;
pub mod gtp;
pub mod icmp;
pub mod ieee80211;
pub mod ipv4;
pub mod ipv6;
pub mod link;
pub mod mpls;
pub mod ppp;
pub mod tcp;
pub mod teredo;
pub mod udp;
pub mod vxlan;

pub use ethernet::{EtherType, Frame as EthernetFrame, Mac};
pub use ipv4::Packet as Ipv4Packet;
pub use ipv6::Packet as Ipv6Packet;
pub use tcp::Segment as TcpSegment;
pub use udp::Datagram as UdpDatagram;

/// Reads a big-endian `u16` at `at`; 0 if out of bounds (views check bounds first).
#[inline]
pub(crate) fn be16(data: &[u8], at: usize) -> u16 {
    match data.get(at..at.wrapping_add(2)) {
        Some(&[a, b]) => u16::from_be_bytes([a, b]),
        _ => 0,
    }
}

/// Reads a big-endian `u32` at `at`; 0 if out of bounds (views check bounds first).
#[inline]
pub(crate) fn be32(data: &[u8], at: usize) -> u32 {
    match data.get(at..at.wrapping_add(4)) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
        _ => 0,
    }
}

/// Reads one byte at `at`; 0 if out of bounds (views check bounds first).
#[inline]
pub(crate) fn byte(data: &[u8], at: usize) -> u8 {
    data.get(at).copied().unwrap_or(0)
}

/// Copies `N` bytes starting at `at`; zeros if out of bounds (views check bounds first).
#[inline]
pub(crate) fn array<const N: usize>(data: &[u8], at: usize) -> [u8; N] {
    data.get(at..at.wrapping_add(N))
        .and_then(|s| <[u8; N]>::try_from(s).ok())
        .unwrap_or([0; N])
}

/// The bytes from `at` to the end; empty if out of bounds.
#[inline]
pub(crate) fn rest(data: &[u8], at: usize) -> &[u8] {
    data.get(at..).unwrap_or(&[])
}
