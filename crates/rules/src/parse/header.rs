//! The rule header: `action proto src sport -> dst dport`.

use super::vars::Vars;
use crate::ast::{Action, AddrExpr, PortExpr, Proto};
use crate::keywords::APP_PROTOS;
use std::net::IpAddr;

/// A parsed header; `proto` is `Err(name)` for a protocol custos does not parse.
pub(crate) struct Header {
    pub action: Action,
    pub proto: Result<Proto, String>,
    pub src: AddrExpr,
    pub src_ports: PortExpr,
    pub bidirectional: bool,
    /// `=>`: a transactional rule (as `->`, reading both sides of a transaction).
    pub transactional: bool,
    pub dst: AddrExpr,
    pub dst_ports: PortExpr,
    /// `tcp-pkt` (packets only: `Some(false)`) or `tcp-stream` (the stream only).
    pub stream: Option<bool>,
}

/// Variables may refer to variables; this bounds the depth (and catches cycles).
const MAX_VAR_DEPTH: usize = 16;

pub(crate) fn parse(head: &str, vars: &Vars) -> Result<Header, String> {
    let tokens = split_header(head);
    let [action, proto, src, sport, dir, dst, dport] = tokens.as_slice() else {
        return Err(format!(
            "header needs 7 fields (action proto src sport -> dst dport), found {}",
            tokens.len()
        ));
    };
    let action = match action.as_str() {
        "alert" => Action::Alert,
        "drop" => Action::Drop,
        "reject" | "rejectsrc" | "rejectdst" | "rejectboth" => Action::Reject,
        "pass" => Action::Pass,
        other => return Err(format!("unknown action `{other}`")),
    };
    let proto_name = proto.to_ascii_lowercase();
    let stream = match proto_name.as_str() {
        "tcp-pkt" => Some(false),
        "tcp-stream" => Some(true),
        _ => None,
    };
    let proto = match proto_name.as_str() {
        "ip" | "pkt" | "pkthdr" => Ok(Proto::Ip),
        "tcp" | "tcp-pkt" | "tcp-stream" => Ok(Proto::Tcp),
        "udp" => Ok(Proto::Udp),
        "icmp" | "icmpv4" | "icmpv6" => Ok(Proto::Icmp),
        p => match APP_PROTOS.iter().find(|(n, _)| *n == p) {
            Some((_, eve)) => Ok(Proto::App(eve)),
            None => Err(p.to_string()),
        },
    };
    let bidirectional = match dir.as_str() {
        "->" => false,
        "<>" => true,
        "=>" => false,
        other => {
            return Err(format!(
                "unknown direction `{other}` (expected ->, <> or =>)"
            ))
        }
    };
    Ok(Header {
        action,
        proto,
        src: addr_expr(src, vars, 0)?,
        src_ports: port_expr(sport, vars, 0)?,
        bidirectional,
        transactional: dir == "=>",
        dst: addr_expr(dst, vars, 0)?,
        dst_ports: port_expr(dport, vars, 0)?,
        stream,
    })
}

/// Splits on whitespace outside brackets (`[1.2.3.4, 5.6.7.8]` is one field).
fn split_header(head: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut depth = 0i32;
    for c in head.chars() {
        match c {
            '[' => {
                depth += 1;
                cur.push(c);
            }
            ']' => {
                depth -= 1;
                cur.push(c);
            }
            c if c.is_whitespace() && depth <= 0 => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c if c.is_whitespace() => {}
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Splits a list body on top-level commas.
fn split_list(s: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!("unbalanced `]` in `{s}`"));
                }
            }
            ',' if depth == 0 => {
                out.push(s.get(start..i).unwrap_or("").trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(format!("unbalanced `[` in `{s}`"));
    }
    out.push(s.get(start..).unwrap_or("").trim());
    Ok(out)
}

pub(crate) fn addr_expr(s: &str, vars: &Vars, depth: usize) -> Result<AddrExpr, String> {
    if depth > MAX_VAR_DEPTH {
        return Err(format!("address variables nest too deep (cycle?) at `{s}`"));
    }
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('!') {
        return Ok(AddrExpr::Not(Box::new(addr_expr(rest, vars, depth + 1)?)));
    }
    if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        let items = split_list(inner)?
            .into_iter()
            .filter(|i| !i.is_empty())
            .map(|i| addr_expr(i, vars, depth + 1))
            .collect::<Result<Vec<_>, _>>()?;
        if items.is_empty() {
            return Err("empty address list".into());
        }
        return Ok(AddrExpr::List(items));
    }
    if let Some(name) = s.strip_prefix('$') {
        let value = vars
            .addresses
            .get(name)
            .ok_or_else(|| format!("undefined address variable `${name}`"))?;
        return addr_expr(value, vars, depth + 1);
    }
    if s.eq_ignore_ascii_case("any") {
        return Ok(AddrExpr::Any);
    }
    let (ip, prefix) = match s.split_once('/') {
        Some((ip, p)) => (ip, Some(p)),
        None => (s, None),
    };
    let ip: IpAddr = ip.parse().map_err(|_| format!("invalid address `{s}`"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        None => max,
        Some(p) => match p.parse::<u8>() {
            Ok(n) if n <= max => n,
            _ => {
                // A dotted netmask (`255.255.255.0`), as Suricata accepts.
                match p.parse::<std::net::Ipv4Addr>() {
                    Ok(mask) if ip.is_ipv4() => {
                        let m = u32::from(mask);
                        if m.leading_ones() + m.trailing_zeros() != 32 {
                            return Err(format!("invalid netmask in `{s}`"));
                        }
                        m.leading_ones() as u8
                    }
                    _ => return Err(format!("invalid prefix length in `{s}`")),
                }
            }
        },
    };
    Ok(AddrExpr::Net(ip, prefix))
}

pub(crate) fn port_expr(s: &str, vars: &Vars, depth: usize) -> Result<PortExpr, String> {
    if depth > MAX_VAR_DEPTH {
        return Err(format!("port variables nest too deep (cycle?) at `{s}`"));
    }
    let s = s.trim();
    if let Some(rest) = s.strip_prefix('!') {
        return Ok(PortExpr::Not(Box::new(port_expr(rest, vars, depth + 1)?)));
    }
    if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
        let items = split_list(inner)?
            .into_iter()
            .filter(|i| !i.is_empty())
            .map(|i| port_expr(i, vars, depth + 1))
            .collect::<Result<Vec<_>, _>>()?;
        if items.is_empty() {
            return Err("empty port list".into());
        }
        return Ok(PortExpr::List(items));
    }
    if let Some(name) = s.strip_prefix('$') {
        let value = vars
            .ports
            .get(name)
            .ok_or_else(|| format!("undefined port variable `${name}`"))?;
        return port_expr(value, vars, depth + 1);
    }
    if s.eq_ignore_ascii_case("any") {
        return Ok(PortExpr::Any);
    }
    let port = |p: &str| {
        p.trim()
            .parse::<u16>()
            .map_err(|_| format!("invalid port `{p}` in `{s}`"))
    };
    match s.split_once(':') {
        Some((lo, hi)) => {
            let lo = if lo.trim().is_empty() { 0 } else { port(lo)? };
            let hi = if hi.trim().is_empty() {
                u16::MAX
            } else {
                port(hi)?
            };
            if lo > hi {
                return Err(format!("port range `{s}` runs backwards"));
            }
            Ok(PortExpr::Range(lo, hi))
        }
        None => {
            let p = port(s)?;
            Ok(PortExpr::Range(p, p))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_with_vars_lists_and_negation() {
        let v = Vars::default();
        let h = parse(
            "alert tcp $HOME_NET [1024:, !2000] -> [$EXTERNAL_NET, 8.8.8.0/24] $HTTP_PORTS",
            &v,
        )
        .unwrap();
        assert_eq!(h.action, Action::Alert);
        assert_eq!(h.proto, Ok(Proto::Tcp));
        assert!(matches!(h.src, AddrExpr::List(ref l) if l.len() == 3));
        assert_eq!(h.dst_ports, PortExpr::Range(80, 80));
        assert!(parse("alert tcp any any -> any", &v).is_err());
        assert!(parse("alert tcp $NOPE any -> any any", &v).is_err());
        assert!(matches!(
            parse("alert enip any any -> any any", &v).unwrap().proto,
            Err(ref p) if p == "enip"
        ));
        assert_eq!(
            parse("alert tcp-pkt any any -> any any", &v)
                .unwrap()
                .stream,
            Some(false)
        );
        assert_eq!(
            parse("alert tcp-stream any any -> any any", &v)
                .unwrap()
                .stream,
            Some(true)
        );
        assert_eq!(
            parse("alert tcp any any -> any any", &v).unwrap().stream,
            None
        );
    }

    #[test]
    fn cyclic_variables_are_an_error() {
        let mut v = Vars::default();
        v.addresses.insert("A".into(), "$B".into());
        v.addresses.insert("B".into(), "[$A]".into());
        assert!(addr_expr("$A", &v, 0)
            .unwrap_err()
            .contains("nest too deep"));
    }
}
