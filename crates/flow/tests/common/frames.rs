//! Synthetic Ethernet/IPv4 frames for tests (shared by the unit tests and, via `#[path]`, the
//! integration tests).
#![allow(dead_code, missing_docs)]

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

/// Writes an Ethernet + IPv4 frame into `buf` (zero payload bytes, valid IPv4 header checksum,
/// transport checksums left 0: decode with checksums ignored) and returns its length.
pub fn frame(buf: &mut [u8; 1600], src: [u8; 4], dst: [u8; 4], l4: L4) -> usize {
    buf.fill(0);
    buf[12] = 0x08; // IPv4
    let ip = 14;
    let (proto, l4_len) = match l4 {
        L4::Tcp(sp, dp, flags, seq, ack, len) => {
            let t = ip + 20;
            buf[t..t + 2].copy_from_slice(&sp.to_be_bytes());
            buf[t + 2..t + 4].copy_from_slice(&dp.to_be_bytes());
            buf[t + 4..t + 8].copy_from_slice(&seq.to_be_bytes());
            buf[t + 8..t + 12].copy_from_slice(&ack.to_be_bytes());
            buf[t + 12] = 5 << 4;
            buf[t + 13] = flags;
            buf[t + 14..t + 16].copy_from_slice(&8192u16.to_be_bytes());
            (6u8, 20 + usize::from(len))
        }
        L4::Udp(sp, dp, len) => {
            let t = ip + 20;
            buf[t..t + 2].copy_from_slice(&sp.to_be_bytes());
            buf[t + 2..t + 4].copy_from_slice(&dp.to_be_bytes());
            buf[t + 4..t + 6].copy_from_slice(&(8 + len).to_be_bytes());
            (17, 8 + usize::from(len))
        }
        L4::Icmp(ty, code, id, len) => {
            let t = ip + 20;
            buf[t] = ty;
            buf[t + 1] = code;
            buf[t + 4..t + 6].copy_from_slice(&id.to_be_bytes());
            (1, 8 + usize::from(len))
        }
    };
    let total = 20 + l4_len;
    buf[ip] = 0x45;
    buf[ip + 2..ip + 4].copy_from_slice(&(total as u16).to_be_bytes());
    buf[ip + 8] = 64;
    buf[ip + 9] = proto;
    buf[ip + 12..ip + 16].copy_from_slice(&src);
    buf[ip + 16..ip + 20].copy_from_slice(&dst);
    let mut sum = 0u32;
    for i in (0..20).step_by(2) {
        sum += u32::from(u16::from_be_bytes([buf[ip + i], buf[ip + i + 1]]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    buf[ip + 10..ip + 12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
    14 + total
}
