//! The Internet checksum (RFC 1071) and the TCP/UDP pseudo-header sums.

use std::net::IpAddr;

/// One's-complement addition on 64 bits: the carry out wraps around (end-around carry), so the
/// running sum never overflows whatever the input.
#[inline]
fn add(acc: u64, v: u64) -> u64 {
    let (s, carry) = acc.overflowing_add(v);
    // When `carry` is set, `s` ≤ u64::MAX − 1, so adding it back cannot overflow.
    s + u64::from(carry)
}

/// Adds `data` to a running one's-complement sum (not yet folded).
///
/// Words are read 8 bytes at a time into a 64-bit accumulator; RFC 1071 §2 (B) allows any
/// grouping as long as carries are folded back in at the end.
#[inline]
pub fn sum(data: &[u8], mut acc: u64) -> u64 {
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let w = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        acc = add(acc, w);
    }
    let mut rem = chunks.remainder().chunks_exact(2);
    for c in &mut rem {
        acc = add(acc, u64::from(u16::from_be_bytes([c[0], c[1]])));
    }
    if let [last] = rem.remainder() {
        acc = add(acc, u64::from(*last) << 8);
    }
    acc
}

/// Folds a running sum to 16 bits and complements it.
#[inline]
pub fn finish(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// The pseudo-header sum for TCP/UDP over IPv4 or IPv6 (RFC 793, RFC 8200 §8.1).
#[inline]
pub fn pseudo_header(src: IpAddr, dst: IpAddr, proto: u8, length: u32) -> u64 {
    let mut acc = match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => sum(&d.octets(), sum(&s.octets(), 0)),
        (s, d) => {
            let s6 = match s {
                IpAddr::V4(a) => a.to_ipv6_mapped(),
                IpAddr::V6(a) => a,
            };
            let d6 = match d {
                IpAddr::V4(a) => a.to_ipv6_mapped(),
                IpAddr::V6(a) => a,
            };
            sum(&d6.octets(), sum(&s6.octets(), 0))
        }
    };
    acc = add(acc, u64::from(proto));
    add(acc, u64::from(length))
}

/// True when `data` (including its checksum field) sums to zero: the checksum holds.
#[inline]
pub fn verify(data: &[u8], initial: u64) -> bool {
    finish(sum(data, initial)) == 0
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn rfc1071_example_sums_to_expected_value() {
        // RFC 1071 §3: bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (before complement).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(!finish(sum(&data, 0)), 0xddf2);
        assert_eq!(
            !finish(sum(&data[..7], sum(&[], 0))),
            !finish(sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6], 0))
        );
    }

    /// Regression (fuzz/regressions/decoder-checksum-*): sums near u64::MAX used to overflow.
    #[test]
    fn sums_never_overflow() {
        let ff = [0xffu8; 23];
        let acc = sum(&ff, u64::MAX);
        let _ = finish(acc);
        let a = IpAddr::from([0xffu8; 16]);
        let _ = finish(pseudo_header(a, a, 0xff, u32::MAX));
        assert_eq!(finish(sum(&[0xff; 8], 0)), 0);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(finish(sum(&[0xab], 0)), finish(sum(&[0xab, 0x00], 0)));
    }

    #[test]
    fn ipv4_header_checksum_verifies() {
        // A real IPv4 header (Wikipedia "IPv4 header checksum" example).
        let hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert!(verify(&hdr, 0));
        let mut bad = hdr;
        bad[10] ^= 1;
        assert!(!verify(&bad, 0));
    }
}
