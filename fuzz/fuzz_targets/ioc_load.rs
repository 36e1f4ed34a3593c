//! IoC loading: any bytes, as UTF-8-lossy text, through `IocSet::load_str` named `feed.txt`
//! (format detected from the content: STIX bundle, CSV or plain list) and `feed.json` (read as
//! a STIX bundle whatever it holds).
//!
//! Properties: nothing panics; a text that fails leaves the set empty; the report agrees with
//! the set and its stats; every indicator is found by its own kind's lookup (an address or
//! network through its first address, giving a network at least as long that holds it; the
//! others giving themselves) and through `match_observable`; loading the same text again adds
//! nothing and reports the same; the values re-read as a plain list give the same kinds and
//! values (normalisation is idempotent); the lines of the input used as lookups never panic.
#![no_main]

use std::net::IpAddr;

use custos_ioc::{IndicatorKind, IocSet, Observable, MAX_REPORTED};
use libfuzzer_sys::fuzz_target;

/// An indicator's address or network as (first address, prefix length).
fn network(value: &str) -> (IpAddr, u8) {
    let (addr, len) = match value.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (value, None),
    };
    let addr: IpAddr = addr.parse().expect("an IP indicator's value parses");
    let full = if addr.is_ipv4() { 32 } else { 128 };
    let len = len.map_or(full, |l| l.parse().expect("a prefix length"));
    (addr, len)
}

/// True when `net` holds `addr`.
fn holds(net: (IpAddr, u8), addr: IpAddr) -> bool {
    let bits = |a: IpAddr| match a {
        IpAddr::V4(a) => (false, u128::from(u32::from(a)) << 96),
        IpAddr::V6(a) => (true, u128::from(a)),
    };
    let (v6n, n) = bits(net.0);
    let (v6a, a) = bits(addr);
    let mask = u128::MAX.checked_shl(128 - u32::from(net.1)).unwrap_or(0);
    v6n == v6a && n & mask == a & mask
}

fn check(name: &str, text: &str) {
    let mut set = IocSet::new();
    let report = match set.load_str(name, text) {
        Ok(r) => r,
        Err(e) => {
            assert!(set.is_empty(), "{e}: the set is not empty");
            assert_eq!(set.stats().files, 0);
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    assert_eq!(report.loaded, set.len());
    assert_eq!(
        report.unsupported.len(),
        report.unsupported_total.min(MAX_REPORTED)
    );
    let stats = set.stats();
    assert_eq!(stats.files, 1);
    assert_eq!(stats.loaded.total(), set.len());
    assert_eq!(stats.duplicates, report.duplicates);
    assert_eq!(stats.revoked, report.revoked);
    assert_eq!(stats.unsupported, report.unsupported_total);
    for kind in IndicatorKind::ALL {
        assert_eq!(
            stats.loaded.get(kind),
            set.iter().filter(|i| i.kind == kind).count()
        );
    }

    for ind in set.iter() {
        assert!(ind.source.starts_with(name), "{}", ind.source);
        let hit = match ind.kind {
            IndicatorKind::Ip => {
                let (addr, len) = network(&ind.value);
                let hit = set
                    .match_ip(addr)
                    .expect("a network holds its first address");
                let found = network(&hit.value);
                assert!(
                    found.1 >= len && holds(found, addr),
                    "{} for {}",
                    hit.value,
                    ind.value
                );
                hit
            }
            IndicatorKind::Domain => set
                .match_domain(&ind.value)
                .expect("a domain matches itself"),
            IndicatorKind::Url => set.match_url(&ind.value).expect("a URL matches itself"),
            IndicatorKind::Ja3 => set.match_ja3(&ind.value).expect("a JA3 matches itself"),
            IndicatorKind::Ja4 => set.match_ja4(&ind.value).expect("a JA4 matches itself"),
        };
        if ind.kind != IndicatorKind::Ip {
            assert_eq!(hit, ind);
        }
        let value = match ind.kind {
            IndicatorKind::Ip => network(&ind.value).0.to_string(),
            _ => ind.value.clone(),
        };
        let o = Observable {
            field: "fuzz",
            kind: ind.kind,
            value,
        };
        assert_eq!(set.match_observable(&o), Some(hit));
    }

    // The same text again: nothing new, the same report otherwise.
    let again = set.load_str(name, text).expect("the same text loads again");
    assert_eq!(again.loaded, 0);
    assert_eq!(again.duplicates, report.loaded + report.duplicates);
    assert_eq!(again.revoked, report.revoked);
    assert_eq!(again.unsupported, report.unsupported);
    assert_eq!(again.unsupported_total, report.unsupported_total);
    assert_eq!(set.len(), report.loaded);

    // Normalised values read back as a plain list are themselves. A comma would make the
    // line a CSV row (or the list a CSV file), so those values are left out.
    let kept: Vec<_> = set.iter().filter(|i| !i.value.contains(',')).collect();
    let list: String = kept.iter().map(|i| format!("{}\n", i.value)).collect();
    let mut plain = IocSet::new();
    let r = plain
        .load_str("values.txt", &list)
        .expect("a list of values loads");
    assert_eq!(r.unsupported_total, 0, "{:?}", r.unsupported);
    let back: Vec<_> = plain.iter().map(|i| (i.kind, i.value.as_str())).collect();
    let want: Vec<_> = kept.iter().map(|i| (i.kind, i.value.as_str())).collect();
    assert_eq!(back, want);

    // Hostile lookups: every line (at most 64) through every matcher.
    for line in text.lines().take(64) {
        let _ = set.match_domain(line);
        let _ = set.match_url(line);
        let _ = set.match_ja3(line);
        let _ = set.match_ja4(line);
        if let Ok(ip) = line.trim().parse::<IpAddr>() {
            let _ = set.match_ip(ip);
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    check("feed.txt", &text);
    check("feed.json", &text);
});
