//! Zero-copy typed views over protocol headers, one module per protocol.
//!
//! # Contract
//! Every view is a thin wrapper around a borrowed byte slice. `new_checked` is the only way
//! untrusted bytes enter: it verifies that every fixed field *and every length read from the
//! header* lies inside the slice. After it succeeds, no accessor panics and none reads out of
//! bounds; accessors are plain big-endian loads (network order unless the format says otherwise).
//! Structure is checked here; meaning (checksums, supported versions) is checked by the decoder,
//! so a view still describes a packet whose meaning is wrong.
//!
//! # Building packets
//! Ethernet, IPv4, IPv6, TCP, UDP and ICMP also have a `Repr`: a small `Copy` summary of the
//! header, in the manner of smoltcp's `wire` module. `Repr::parse` reads one from a checked
//! view and checks meaning too (the IPv4 header checksum, the TCP/UDP/ICMP checksums with their
//! pseudo-header); it never panics. `Repr::buffer_len` is the number of bytes `Repr::emit`
//! writes, and `emit` fills in every length and checksum field itself. `emit` panics only when
//! the buffer is shorter than `buffer_len()` or a length does not fit its field (each `emit`
//! lists its cases under `# Panics`); on a buffer of `buffer_len()` bytes built from a parsed
//! `Repr` it never panics, and `parse(emit(r)) == r`.
//!
//! [`FrameBuilder`] stacks them: one call builds a whole Ethernet/IP/transport frame, so tests,
//! fuzz targets and the lab build frames with the same code that reads them.

pub mod arp;
pub mod ayiya;
mod builder;
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

pub use builder::{FrameBuilder, IpRepr, TransportRepr};
pub use ethernet::{EtherType, Frame as EthernetFrame, Mac, Repr as EthernetRepr, VlanTag};
pub use icmp::{Message as IcmpMessage, Repr as IcmpRepr};
pub use ipv4::{Packet as Ipv4Packet, Repr as Ipv4Repr};
pub use ipv6::{Packet as Ipv6Packet, Repr as Ipv6Repr};
pub use tcp::{Repr as TcpRepr, Segment as TcpSegment};
pub use udp::{Datagram as UdpDatagram, Repr as UdpRepr};

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

/// Writes `bytes` at `at`; writes nothing when they would not fit (every `emit` checks the
/// buffer length first, so this never drops bytes there).
#[inline]
pub(crate) fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    if let Some(dst) = buf.get_mut(at..at.wrapping_add(bytes.len())) {
        dst.copy_from_slice(bytes);
    }
}

/// Writes a big-endian `u16` at `at` (see [`put`]).
#[inline]
pub(crate) fn put16(buf: &mut [u8], at: usize, v: u16) {
    put(buf, at, &v.to_be_bytes());
}

/// Writes a big-endian `u32` at `at` (see [`put`]).
#[inline]
pub(crate) fn put32(buf: &mut [u8], at: usize, v: u32) {
    put(buf, at, &v.to_be_bytes());
}

/// The precondition of every `emit`: `buf` holds the `needed` bytes the header describes.
///
/// # Panics
/// When `buf` is shorter than `needed`, naming `what` and both lengths.
#[inline]
#[track_caller]
pub(crate) fn check_emit_len(buf: &[u8], needed: usize, what: &str) {
    assert!(
        buf.len() >= needed,
        "{what} emit needs {needed} bytes, the buffer has {}",
        buf.len()
    );
}

/// A length field's value, for `emit`.
///
/// # Panics
/// When `len` does not fit 16 bits, naming `what`.
#[inline]
#[track_caller]
pub(crate) fn len16(len: usize, what: &str) -> u16 {
    assert!(
        len <= usize::from(u16::MAX),
        "{what} length {len} does not fit its 16-bit field"
    );
    // In range: checked just above.
    len as u16
}
