//! Appending numbers and addresses to an output line without `core::fmt`: the flow writers
//! run once per flow, and the formatting machinery (`write!` with its `Formatter`, padding
//! and dynamic dispatch) took about a fifth of `analyze`'s instructions there. The text is
//! the same as `Display` gives (tested).

use std::fmt::Write as _;
use std::net::IpAddr;

/// Appends `n` in decimal, as `{n}` would.
pub(crate) fn push_int(out: &mut String, n: impl itoa::Integer) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends `ip` as `{ip}` would (IPv4 digit by digit; IPv6, with its zero compression and
/// embedded IPv4 forms, through `Display`).
pub(crate) fn push_ip(out: &mut String, ip: IpAddr) {
    match ip {
        IpAddr::V4(a) => {
            let [a, b, c, d] = a.octets();
            push_int(out, a);
            out.push('.');
            push_int(out, b);
            out.push('.');
            push_int(out, c);
            out.push('.');
            push_int(out, d);
        }
        IpAddr::V6(a) => {
            let _ = write!(out, "{a}");
        }
    }
}

/// Appends `b` as two lowercase hex digits, as `{b:02x}` would.
pub(crate) fn push_hex2(out: &mut String, b: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 0x0f)]));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_text_as_display() {
        let mut s = String::new();
        for n in [0u64, 7, 10, 65_535, u64::MAX] {
            s.clear();
            push_int(&mut s, n);
            assert_eq!(s, n.to_string());
        }
        for n in [i64::MIN, -1, 0, 1_700_000_000] {
            s.clear();
            push_int(&mut s, n);
            assert_eq!(s, n.to_string());
        }
        for ip in [
            "0.0.0.0",
            "10.0.0.255",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1:2",
            "::ffff:1.2.3.4",
            "2001:db8::8:800:200c:417a",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            s.clear();
            push_ip(&mut s, ip);
            assert_eq!(s, ip.to_string());
        }
        for b in 0..=255u8 {
            s.clear();
            push_hex2(&mut s, b);
            assert_eq!(s, format!("{b:02x}"));
        }
    }
}
