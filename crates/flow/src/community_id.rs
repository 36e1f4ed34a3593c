//! Community ID v1 flow hashes (github.com/corelight/community-id-spec).

use base64::Engine;
use sha1::{Digest, Sha1};
use std::net::IpAddr;

/// Transport protocols whose ports enter the hash.
fn has_ports(proto: u8) -> bool {
    matches!(proto, 1 | 6 | 17 | 58 | 132)
}

/// Computes the Community ID v1 of a flow seen from its originator.
///
/// For ICMP and ICMPv6 pass the message type as `sport` and the code as `dport`: the spec's
/// type/counterpart mapping is applied here, and one-way messages keep their direction
/// (pycommunityid `get_port_equivalents`). For protocols without ports the ports are ignored.
pub fn community_id_v1(
    seed: u16,
    saddr: IpAddr,
    daddr: IpAddr,
    sport: u16,
    dport: u16,
    proto: u8,
) -> String {
    let (mut sport, mut dport, one_way) = match proto {
        1 => crate::icmp_ports(sport as u8, dport as u8, false),
        58 => crate::icmp_ports(sport as u8, dport as u8, true),
        _ => (sport, dport, false),
    };
    let (mut s, mut d) = (saddr, daddr);
    let ordered = match (s, d) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (a.octets(), sport) <= (b.octets(), dport),
        (IpAddr::V6(a), IpAddr::V6(b)) => (a.octets(), sport) <= (b.octets(), dport),
        _ => true,
    };
    let portless = !has_ports(proto);
    let addr_less = match (s, d) {
        (IpAddr::V4(a), IpAddr::V4(b)) => a.octets() < b.octets(),
        (IpAddr::V6(a), IpAddr::V6(b)) => a.octets() < b.octets(),
        _ => true,
    };
    let keep = if portless {
        addr_less || s == d
    } else {
        one_way || ordered
    };
    if !keep {
        core::mem::swap(&mut s, &mut d);
        core::mem::swap(&mut sport, &mut dport);
    }
    // The hashed message, assembled in place and hashed in one call (this runs once per flow).
    let mut msg = [0u8; 2 + 16 + 16 + 2 + 4];
    let mut len = 0;
    let mut put = |bytes: &[u8]| {
        if let Some(dst) = msg.get_mut(len..len + bytes.len()) {
            dst.copy_from_slice(bytes);
            len += bytes.len();
        }
    };
    put(&seed.to_be_bytes());
    for a in [s, d] {
        match a {
            IpAddr::V4(a) => put(&a.octets()),
            IpAddr::V6(a) => put(&a.octets()),
        }
    }
    put(&[proto, 0]);
    if !portless {
        put(&sport.to_be_bytes());
        put(&dport.to_be_bytes());
    }
    let digest = Sha1::digest(msg.get(..len).unwrap_or_default());
    let mut out = String::with_capacity(30);
    out.push_str("1:");
    base64::engine::general_purpose::STANDARD.encode_string(digest, &mut out);
    out
}

#[cfg(test)]
mod test {
    use super::*;

    // Values from the spec's baseline (community-id-spec/baseline/baseline_deflt.json).
    #[test]
    fn tcp_matches_spec_example_both_directions() {
        let a: IpAddr = "128.232.110.120".parse().unwrap();
        let b: IpAddr = "66.35.250.204".parse().unwrap();
        let x = community_id_v1(0, a, b, 34855, 80, 6);
        let y = community_id_v1(0, b, a, 80, 34855, 6);
        assert_eq!(x, y);
        assert_eq!(x, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    }

    #[test]
    fn other_protocols_match_spec_baseline() {
        // community-id-spec/baseline/baseline_deflt.json
        let a: IpAddr = "192.168.0.89".parse().unwrap();
        let b: IpAddr = "192.168.0.1".parse().unwrap();
        assert_eq!(
            community_id_v1(0, a, b, 8, 0, 1),
            "1:X0snYXpgwiv9TZtqg64sgzUn6Dk="
        );
        let c: IpAddr = "fe80::200:86ff:fe05:80da".parse().unwrap();
        let d: IpAddr = "fe80::260:97ff:fe07:69ea".parse().unwrap();
        assert_eq!(
            community_id_v1(0, c, d, 135, 0, 58),
            "1:dGHyGvjMfljg6Bppwm3bg0LO8TY="
        );
        let e: IpAddr = "10.0.0.1".parse().unwrap();
        let f: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(community_id_v1(0, e, f, 0, 0, 47).len(), 30);
    }
}
