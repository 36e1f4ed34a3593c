//! Synthetic Ethernet/IPv4 frames for tests (shared by the unit tests and, via `#[path]`, the
//! integration tests), built by `custos_decode::wire::FrameBuilder`.
#![allow(dead_code, missing_docs)]

use custos_decode::wire::{FrameBuilder, IcmpRepr, Mac, TcpRepr, TransportRepr, UdpRepr};
use std::net::Ipv4Addr;

/// What to put after the IPv4 header.
#[derive(Clone, Copy, Debug)]
pub enum L4 {
    /// TCP: ports, flags, seq, ack, payload length.
    Tcp(u16, u16, u8, u32, u32, u16),
    /// UDP: ports, payload length.
    Udp(u16, u16, u16),
    /// ICMP: type, code, identifier, payload length.
    Icmp(u8, u8, u16, u16),
}

/// Payload bytes: every frame carries zeros.
static ZEROS: [u8; 1600] = [0; 1600];

/// Writes an Ethernet + IPv4 frame into `buf` (zero MAC addresses and payload bytes, TTL 64,
/// TCP window 8192, every checksum valid) and returns its length. Allocates nothing.
pub fn frame(buf: &mut [u8; 1600], src: [u8; 4], dst: [u8; 4], l4: L4) -> usize {
    let zeros = |len: u16| &ZEROS[..usize::from(len)];
    let transport: TransportRepr<'_> = match l4 {
        L4::Tcp(src_port, dst_port, flags, seq_number, ack_number, len) => TcpRepr {
            src_port,
            dst_port,
            seq_number,
            ack_number,
            flags,
            window_len: 8192,
            payload: zeros(len),
            ..TcpRepr::default()
        }
        .into(),
        L4::Udp(src_port, dst_port, len) => UdpRepr {
            src_port,
            dst_port,
            payload: zeros(len),
        }
        .into(),
        L4::Icmp(msg_type, msg_code, ident, len) => IcmpRepr {
            msg_code,
            ..IcmpRepr::echo(msg_type, ident, 0, zeros(len))
        }
        .into(),
    };
    let mac = Mac::default();
    FrameBuilder::ipv4(mac, mac, Ipv4Addr::from(src), Ipv4Addr::from(dst)).emit(&transport, buf)
}
