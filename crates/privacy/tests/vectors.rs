//! Known-answer vectors from `shared/vectors/cryptopan`: the original Crypto-PAn sample trace
//! (IPv4), 108 IPv6 pairs from yacryptopan, and the README's single vectors.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use custos_privacy::{CachedCryptoPan, CryptoPan, Pseudonymizer};
use custos_test_support::shared;

/// The reference key (README: decimal bytes 21,34,23,141,…) as hex.
const REFERENCE_KEY_HEX: &str = "1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202";

fn reference_key() -> [u8; 32] {
    [
        21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16, 216, 152, 143, 131,
        121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2,
    ]
}

fn vectors_dir() -> Option<PathBuf> {
    Some(shared()?.join("vectors/cryptopan"))
}

/// The third column (the address) of each line of a trace file.
fn trace_addresses(text: &str) -> Vec<Ipv4Addr> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let field = line
                .split('\t')
                .nth(2)
                .unwrap_or_else(|| panic!("line {line:?}"));
            field
                .trim()
                .parse()
                .unwrap_or_else(|_| panic!("address {field:?}"))
        })
        .collect()
}

#[test]
fn reference_trace_matches_every_pair_both_ways() {
    let Some(dir) = vectors_dir() else { return };
    let raw = trace_addresses(&std::fs::read_to_string(dir.join("sample_trace_raw.dat")).unwrap());
    let sanitized =
        trace_addresses(&std::fs::read_to_string(dir.join("sample_trace_sanitized.dat")).unwrap());
    assert_eq!(raw.len(), 100);
    assert_eq!(raw.len(), sanitized.len());
    let pan = CryptoPan::new(&reference_key());
    let mut cached = CachedCryptoPan::new(&reference_key());
    let mut by_hex = Pseudonymizer::from_key_hex(REFERENCE_KEY_HEX).unwrap();
    for (index, (original, pseudonym)) in raw.iter().zip(&sanitized).enumerate() {
        assert_eq!(
            pan.encrypt_v4(*original),
            *pseudonym,
            "pair {index}: {original}"
        );
        assert_eq!(
            cached.encrypt_v4(*original),
            *pseudonym,
            "pair {index} cached"
        );
        assert_eq!(
            pan.decrypt_v4(*pseudonym),
            *original,
            "pair {index} inverse"
        );
        let via_api = by_hex.ip(IpAddr::V4(*original)).unwrap();
        assert_eq!(
            via_api,
            IpAddr::V4(*pseudonym),
            "pair {index} via --key-hex"
        );
        assert_eq!(by_hex.ip_inverse(via_api).unwrap(), IpAddr::V4(*original));
    }
}

#[test]
fn ipv6_pairs_match_both_ways() {
    let Some(dir) = vectors_dir() else { return };
    let text = std::fs::read_to_string(dir.join("ipv6_pairs.tsv")).unwrap();
    let pan = CryptoPan::new(&reference_key());
    let mut cached = CachedCryptoPan::new(&reference_key());
    let mut count = 0;
    for line in text.lines().filter(|line| !line.trim().is_empty()) {
        let (original, pseudonym) = line.split_once('\t').unwrap_or_else(|| panic!("{line:?}"));
        let original: Ipv6Addr = original.trim().parse().unwrap();
        let pseudonym: Ipv6Addr = pseudonym.trim().parse().unwrap();
        assert_eq!(pan.encrypt_v6(original), pseudonym, "{original}");
        assert_eq!(cached.encrypt_v6(original), pseudonym, "{original} cached");
        assert_eq!(pan.decrypt_v6(pseudonym), original, "{pseudonym} inverse");
        count += 1;
    }
    assert_eq!(count, 108);
}

#[test]
fn readme_vectors_match() {
    let pan = CryptoPan::new(&reference_key());
    let v6: Ipv6Addr = "2001:db8::1".parse().unwrap();
    let want: Ipv6Addr = "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e".parse().unwrap();
    assert_eq!(pan.encrypt_v6(v6), want);
    assert_eq!(pan.decrypt_v6(want), v6);

    let ascii = CryptoPan::new(b"32-char-str-for-AES-key-and-pad.");
    let v4 = Ipv4Addr::new(192, 0, 2, 1);
    assert_eq!(ascii.encrypt_v4(v4), Ipv4Addr::new(192, 0, 125, 244));
    assert_eq!(ascii.decrypt_v4(Ipv4Addr::new(192, 0, 125, 244)), v4);
    let want: Ipv6Addr = "27fe:8bc7:fee:1e:1e1f:f0fe:f0e1:83fd".parse().unwrap();
    assert_eq!(ascii.encrypt_v6(v6), want);
    assert_eq!(ascii.decrypt_v6(want), v6);
}
