//! The rule header's addresses and ports against a packet's or transaction's endpoints:
//! address lists, negation and CIDR networks, port ranges and lists.

use crate::ast::{AddrExpr, PortExpr, Rule};
use std::net::IpAddr;

/// The rule's addresses and ports against a sender and receiver.
pub(super) fn header_matches(r: &Rule, src: (IpAddr, u16), dst: (IpAddr, u16)) -> bool {
    addr_matches(&r.src, src.0)
        && port_matches(&r.src_ports, src.1)
        && addr_matches(&r.dst, dst.0)
        && port_matches(&r.dst_ports, dst.1)
}

/// An address against an address expression (a list: any of its positive items, none of
/// its negated ones).
fn addr_matches(e: &AddrExpr, ip: IpAddr) -> bool {
    match e {
        AddrExpr::Any => true,
        AddrExpr::Net(net, prefix) => in_net(ip, *net, *prefix),
        AddrExpr::Not(inner) => !addr_matches(inner, ip),
        AddrExpr::List(items) => {
            let mut positives = items.iter().filter(|i| !matches!(i, AddrExpr::Not(_)));
            let has_positive = items.iter().any(|i| !matches!(i, AddrExpr::Not(_)));
            (!has_positive || positives.any(|i| addr_matches(i, ip)))
                && items
                    .iter()
                    .filter(|i| matches!(i, AddrExpr::Not(_)))
                    .all(|i| addr_matches(i, ip))
        }
    }
}

/// `ip` is in network `net`/`prefix` (never across address families).
fn in_net(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// A port against a port expression (a list: any of its positive items, none of its
/// negated ones).
fn port_matches(e: &PortExpr, port: u16) -> bool {
    match e {
        PortExpr::Any => true,
        PortExpr::Range(lo, hi) => (*lo..=*hi).contains(&port),
        PortExpr::Not(inner) => !port_matches(inner, port),
        PortExpr::List(items) => {
            let has_positive = items.iter().any(|i| !matches!(i, PortExpr::Not(_)));
            (!has_positive
                || items
                    .iter()
                    .filter(|i| !matches!(i, PortExpr::Not(_)))
                    .any(|i| port_matches(i, port)))
                && items
                    .iter()
                    .filter(|i| matches!(i, PortExpr::Not(_)))
                    .all(|i| port_matches(i, port))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_lists_with_negation() {
        let e = AddrExpr::List(vec![
            AddrExpr::Net("10.0.0.0".parse().unwrap(), 8),
            AddrExpr::Not(Box::new(AddrExpr::Net("10.1.0.0".parse().unwrap(), 16))),
        ]);
        assert!(addr_matches(&e, "10.2.3.4".parse().unwrap()));
        assert!(!addr_matches(&e, "10.1.3.4".parse().unwrap()));
        assert!(!addr_matches(&e, "11.0.0.1".parse().unwrap()));
        let only_neg = AddrExpr::List(vec![AddrExpr::Not(Box::new(AddrExpr::Net(
            "10.0.0.0".parse().unwrap(),
            8,
        )))]);
        assert!(addr_matches(&only_neg, "8.8.8.8".parse().unwrap()));
        assert!(!addr_matches(
            &AddrExpr::Net("::1".parse().unwrap(), 128),
            "127.0.0.1".parse().unwrap()
        ));
        assert!(in_net(
            "1.2.3.4".parse().unwrap(),
            "0.0.0.0".parse().unwrap(),
            0
        ));
    }

    #[test]
    fn port_lists_with_negation() {
        let p = PortExpr::List(vec![
            PortExpr::Range(1024, u16::MAX),
            PortExpr::Not(Box::new(PortExpr::Range(8080, 8080))),
        ]);
        assert!(port_matches(&p, 5000));
        assert!(!port_matches(&p, 8080));
        assert!(!port_matches(&p, 80));
    }
}
