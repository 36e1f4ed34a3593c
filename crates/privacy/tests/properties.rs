//! Properties over seeded random inputs: prefix preservation, inverses, robustness.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use custos_privacy::{CryptoPan, Policy, PseudonymKey, Pseudonymizer};

use crate::Rng;

fn key() -> PseudonymKey {
    PseudonymKey::from_parts([0x5a; 32], [0xa5; 32])
}

/// Two values sharing exactly a random-length prefix (`width` bits, left-aligned in u128).
fn pair_with_prefix(rng: &mut Rng, width: u32) -> (u128, u128, u32) {
    let shared = u32::try_from(rng.below(u64::from(width) + 1)).unwrap();
    let a = rng.next_u128();
    let mut b = rng.next_u128();
    let keep = if shared == 0 {
        0
    } else {
        u128::MAX << (128 - shared)
    };
    b = (a & keep) | (b & !keep);
    if shared < width {
        // Force bit `shared` to differ, so the common prefix is exactly `shared` bits.
        let bit = 1u128 << (127 - shared);
        b = (b & !bit) | (!a & bit);
    }
    let width_mask = u128::MAX << (128 - width);
    (a & width_mask, b & width_mask, shared)
}

fn common_prefix(a: u128, b: u128, width: u32) -> u32 {
    (a ^ b).leading_zeros().min(width)
}

#[test]
fn ipv4_prefix_length_is_preserved_for_random_pairs() {
    let pan = CryptoPan::new(key().cryptopan_key());
    let mut rng = Rng::new(4);
    for _ in 0..2000 {
        let (a, b, shared) = pair_with_prefix(&mut rng, 32);
        let to_v4 = |bits: u128| Ipv4Addr::from(u32::try_from(bits >> 96).unwrap());
        let (pa, pb) = (pan.encrypt_v4(to_v4(a)), pan.encrypt_v4(to_v4(b)));
        let pa = u128::from(u32::from(pa)) << 96;
        let pb = u128::from(u32::from(pb)) << 96;
        assert_eq!(
            common_prefix(pa, pb, 32),
            shared,
            "{:?} {:?}",
            to_v4(a),
            to_v4(b)
        );
    }
}

#[test]
fn ipv6_prefix_length_is_preserved_for_random_pairs() {
    let pan = CryptoPan::new(key().cryptopan_key());
    let mut rng = Rng::new(6);
    for _ in 0..500 {
        let (a, b, shared) = pair_with_prefix(&mut rng, 128);
        let pa = u128::from(pan.encrypt_v6(Ipv6Addr::from(a)));
        let pb = u128::from(pan.encrypt_v6(Ipv6Addr::from(b)));
        assert_eq!(common_prefix(pa, pb, 128), shared);
    }
}

#[test]
fn ip_round_trips_for_random_addresses() {
    let mut p = Pseudonymizer::new(&key(), Policy::default());
    let mut rng = Rng::new(1);
    for _ in 0..1000 {
        let bits = rng.next_u128();
        for addr in [
            IpAddr::V4(Ipv4Addr::from(u32::try_from(bits >> 96).unwrap())),
            IpAddr::V6(Ipv6Addr::from(bits)),
        ] {
            let pseudonym = p.ip(addr).unwrap();
            assert_eq!(p.ip_inverse(pseudonym).unwrap(), addr);
        }
    }
}

#[test]
fn mac_round_trips_with_and_without_oui() {
    let mut rng = Rng::new(2);
    for keep_oui in [false, true] {
        let p = Pseudonymizer::new(&key(), Policy::default().with_mac_keep_oui(keep_oui));
        for _ in 0..2000 {
            let [_, _, a, b, c, d, e, f] = rng.next_u64().to_be_bytes();
            let mac = [a, b, c, d, e, f];
            let pseudonym = p.mac(mac);
            assert_eq!(p.mac_inverse(pseudonym), mac);
            assert_eq!(pseudonym[0] & 0b11, mac[0] & 0b11, "flag bits kept");
            if keep_oui {
                assert_eq!(pseudonym[..3], mac[..3]);
            }
        }
    }
}

#[test]
fn name_round_trips_for_random_strings() {
    let p = Pseudonymizer::new(&key(), Policy::default());
    let mut rng = Rng::new(3);
    for _ in 0..500 {
        let len = rng.below(80);
        let name: String = (0..len)
            .filter_map(|_| char::from_u32(u32::try_from(rng.below(0x3000)).unwrap()))
            .collect();
        let token = p.name(&name);
        assert_eq!(p.name_inverse(&token).unwrap(), name);
    }
}

#[test]
fn name_inverse_never_panics_on_random_strings() {
    let p = Pseudonymizer::new(&key(), Policy::default());
    let mut rng = Rng::new(7);
    let alphabet: Vec<char> = "p-P.0123456789abcdefghijklmnopqrstuvwxyzé\u{0}"
        .chars()
        .collect();
    let valid = p.name("sensor-12");
    for round in 0..20_000 {
        let candidate: String = if round % 2 == 0 {
            // Random text over an alphabet close to the tokens'.
            let len = rng.below(90);
            let mut text = String::from(if rng.below(4) == 0 { "" } else { "p-" });
            for _ in 0..len {
                let index = usize::try_from(rng.below(alphabet.len() as u64)).unwrap();
                text.push(alphabet[index]);
            }
            text
        } else {
            // A valid token with one character changed, cut or extended.
            let mut chars: Vec<char> = valid.chars().collect();
            let at = usize::try_from(rng.below(chars.len() as u64)).unwrap();
            match rng.below(3) {
                0 => {
                    chars[at] = alphabet[usize::try_from(rng.below(alphabet.len() as u64)).unwrap()]
                }
                1 => chars.truncate(at),
                _ => chars.push('0'),
            }
            chars.into_iter().collect()
        };
        if let Ok(name) = p.name_inverse(&candidate) {
            // Only the genuine token, up to case and dots, may decrypt.
            assert_eq!(name, "sensor-12", "{candidate:?}");
            assert_eq!(normalised(&candidate), normalised(&valid), "{candidate:?}");
        }
    }
}

/// A token as `name_inverse` reads it: lower case, dots removed.
fn normalised(token: &str) -> String {
    token.to_lowercase().replace('.', "")
}
