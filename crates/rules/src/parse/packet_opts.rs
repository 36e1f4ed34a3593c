//! Packet header keywords: IP (`ttl`, `id`, `ip_proto`, `fragbits`, `ipopts`), TCP
//! (`flags`, `seq`, `ack`, `window`), ICMP (`itype`, `icode`, `icmp_id`, `icmp_seq`) and
//! `dsize`, each a [`HeaderTest`] condition.

use super::values::{int_cmp, uint};
use crate::ast::{Condition, FlagsMode, FlagsTest, HeaderTest, IntCmp};

/// The condition of header keyword `name`; `Ok(None)` when it is not one of these.
pub(super) fn header_option(name: &str, value: Option<&str>) -> Result<Option<Condition>, String> {
    let need = || value.ok_or_else(|| "needs a value".to_string());
    let none = |_: &str| None;
    let test = match name {
        "ttl" => HeaderTest::Ttl(int_cmp(need()?, &none)?),
        "id" => HeaderTest::IpId(int_cmp(need()?, &none)?),
        "ip_proto" => HeaderTest::IpProto(int_cmp(need()?, &ip_proto_name)?),
        "window" => HeaderTest::Window(int_cmp(need()?, &none)?),
        "seq" => HeaderTest::Seq(u32_of(need()?)?),
        "ack" => HeaderTest::Ack(u32_of(need()?)?),
        "itype" => HeaderTest::Itype(int_cmp(need()?, &none)?),
        "icode" => HeaderTest::Icode(int_cmp(need()?, &none)?),
        "dsize" => HeaderTest::Dsize(int_cmp(need()?, &none)?),
        "flags" | "tcp.flags" => HeaderTest::TcpFlags(flags(need()?, TCP_FLAGS)?),
        "fragbits" => HeaderTest::Fragbits(flags(need()?, FRAG_BITS)?),
        "ipopts" => HeaderTest::IpOpt(ipopt(need()?)?),
        "icmp_id" | "icmp_seq" => {
            let v = need()?.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|r| r.strip_suffix('"'))
                .unwrap_or(v);
            let cmp = int_cmp(v, &none)?;
            if !u16_range(cmp) {
                return Err(format!("`{v}` is not a 16-bit value"));
            }
            if name == "icmp_id" {
                HeaderTest::IcmpId(cmp)
            } else {
                HeaderTest::IcmpSeq(cmp)
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(Condition::Header(test)))
}

/// An unsigned value that fits 32 bits (`seq`, `ack`).
fn u32_of(v: &str) -> Result<u32, String> {
    u32::try_from(uint(v)?).map_err(|e| e.to_string())
}

/// The protocol number of an `ip_proto` name (`tcp`, `udp`, `icmp` …).
fn ip_proto_name(t: &str) -> Option<u64> {
    match t.to_ascii_lowercase().as_str() {
        "icmp" => Some(1),
        "igmp" => Some(2),
        "tcp" => Some(6),
        "udp" => Some(17),
        "gre" => Some(47),
        "esp" => Some(50),
        "ah" => Some(51),
        "ipv6-icmp" | "icmpv6" => Some(58),
        "sctp" => Some(132),
        _ => None,
    }
}

/// True when every value of `cmp` fits 16 bits.
fn u16_range(cmp: IntCmp) -> bool {
    let ok = |v: u64| v <= u64::from(u16::MAX);
    match cmp {
        IntCmp::Eq(v)
        | IntCmp::Ne(v)
        | IntCmp::Lt(v)
        | IntCmp::Le(v)
        | IntCmp::Gt(v)
        | IntCmp::Ge(v) => ok(v),
        IntCmp::Between(a, b) => ok(a) && ok(b),
    }
}

/// TCP flag letters and their bits (`1` and `2` are Snort's names for CWR and ECE).
const TCP_FLAGS: &[(char, u8)] = &[
    ('F', 0x01),
    ('S', 0x02),
    ('R', 0x04),
    ('P', 0x08),
    ('A', 0x10),
    ('U', 0x20),
    ('E', 0x40),
    ('C', 0x80),
    ('2', 0x40),
    ('1', 0x80),
];

/// IPv4 fragment bits: more fragments, don't fragment, reserved.
const FRAG_BITS: &[(char, u8)] = &[('M', 1), ('D', 2), ('R', 4)];

/// `[+*!]flags[,ignored]`: a flag test over the letters of `table` (`0`: no flag set).
fn flags(v: &str, table: &[(char, u8)]) -> Result<FlagsTest, String> {
    let (test, ignore) = match v.split_once(',') {
        Some((t, i)) => (t.trim(), Some(i.trim())),
        None => (v.trim(), None),
    };
    let mut mode = FlagsMode::Exact;
    let mut bits = 0u8;
    let mut zero = false;
    for c in test.chars() {
        match c {
            '+' => mode = FlagsMode::All,
            '*' => mode = FlagsMode::Any,
            '!' => mode = FlagsMode::None,
            '0' => zero = true,
            c => {
                let up = c.to_ascii_uppercase();
                bits |= table
                    .iter()
                    .find(|(f, _)| *f == up)
                    .map(|(_, b)| *b)
                    .ok_or_else(|| format!("unknown flag `{c}`"))?;
            }
        }
    }
    if zero && bits != 0 {
        return Err("`0` (no flags) with other flags".into());
    }
    let mut ignore_bits = 0u8;
    for c in ignore.unwrap_or("").chars() {
        let up = c.to_ascii_uppercase();
        ignore_bits |= table
            .iter()
            .find(|(f, _)| *f == up)
            .map(|(_, b)| *b)
            .ok_or_else(|| format!("unknown flag `{c}` to ignore"))?;
    }
    Ok(FlagsTest {
        flags: bits,
        ignore: ignore_bits,
        mode,
    })
}

/// The option number of an `ipopts` name; `None` for `any`.
fn ipopt(v: &str) -> Result<Option<u8>, String> {
    Ok(Some(match v.trim() {
        "eol" => 0,
        "nop" => 1,
        "rr" => 7,
        "ts" => 68,
        "sec" => 130,
        "esec" => 133,
        "lsrr" => 131,
        "ssrr" => 137,
        "satid" => 136,
        "any" => return Ok(None),
        other => return Err(format!("unknown ip option `{other}`")),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_flags_parse() {
        let f = flags("SA,12", TCP_FLAGS).unwrap();
        assert_eq!(f.flags, 0x12);
        assert_eq!(f.ignore, 0xc0);
        assert_eq!(flags("+S", TCP_FLAGS).unwrap().mode, FlagsMode::All);
        assert!(flags("Q", TCP_FLAGS).is_err());
    }
}
