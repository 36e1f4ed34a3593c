//! MAC address pseudonyms: a keyed, format-preserving permutation of 48-bit addresses.
//!
//! The construction is a balanced Feistel network of 10 rounds (the round count of NIST
//! SP 800-38G's FF1) whose round function is AES-128 under the MAC sub-key:
//!
//! ```text
//! (L, R) -> (R, L xor F(r, R))      F(r, x) = low |x| bits of AES_k('M' | width | r | tweak | x)
//! ```
//!
//! A Feistel network is a permutation whatever its round function, and it inverts by running the
//! rounds backwards, `(L, R) <- (R xor F(r, L), L)`: that is what makes every pseudonym
//! reversible with the key and nothing else.
//!
//! What is permuted:
//!
//! - by default, the 46 bits other than the first octet's two flag bits. Multicast (I/G, bit 0)
//!   and locally administered (U/L, bit 1) addresses stay multicast and locally administered;
//!   the flags are the tweak, so each of the four classes has its own permutation. The OUI of a
//!   pseudonym is random: vendor look-ups on pseudonyms are meaningless.
//! - with `keep_oui`, the 24 device bits only; the OUI stays (so does the vendor) and is the
//!   tweak, so equal device bits under two vendors give unrelated pseudonyms.
//!
//! The broadcast address `ff:ff:ff:ff:ff:ff` and the all-zero address identify no one and map to
//! themselves. Any other address whose permuted value would land on one of them is permuted again
//! (cycle walking), which keeps the map a bijection on the remaining addresses; each class holds
//! at most one of the two, so the walk takes at most two steps.

use std::fmt;

use aes::cipher::{BlockEncrypt, KeyInit};
use aes::{Aes128, Block};

use crate::error::{Error, Result};

/// Feistel rounds, as in FF1.
const ROUNDS: u8 = 10;
/// The 40 bits after the first octet.
const LOW_40: u64 = (1 << 40) - 1;
/// The 24 device bits after the OUI.
const LOW_24: u64 = (1 << 24) - 1;
/// `ff:ff:ff:ff:ff:ff` as a number.
const BROADCAST: u64 = (1 << 48) - 1;

/// The keyed MAC permutation.
#[derive(Clone)]
pub struct MacCipher {
    cipher: Aes128,
}

impl fmt::Debug for MacCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MacCipher { .. }")
    }
}

/// The part of an address that is permuted, with its width and tweak.
#[derive(Clone, Copy)]
struct Domain {
    bits: u32,
    tweak: u32,
}

impl MacCipher {
    /// A cipher under a 16-byte AES-128 key.
    pub fn new(key: &[u8; 16]) -> Self {
        Self {
            cipher: Aes128::new(Block::from_slice(key)),
        }
    }

    /// The pseudonym of `mac`; `keep_oui` leaves the first three octets unchanged.
    pub fn encrypt(&self, mac: [u8; 6], keep_oui: bool) -> [u8; 6] {
        self.walk(mac, keep_oui, true)
    }

    /// The address whose pseudonym (made with the same `keep_oui`) is `pseudonym`.
    pub fn decrypt(&self, pseudonym: [u8; 6], keep_oui: bool) -> [u8; 6] {
        self.walk(pseudonym, keep_oui, false)
    }

    /// Applies the permutation (or its inverse) until the result is not a fixed address.
    fn walk(&self, mac: [u8; 6], keep_oui: bool, forward: bool) -> [u8; 6] {
        let original = to_u64(mac);
        if is_fixed(original) {
            return mac;
        }
        let (mut value, domain) = split(original, keep_oui);
        let mut out = original;
        // Each class holds at most one fixed address, so two steps always suffice.
        for _ in 0..3 {
            value = self.feistel(value, domain, forward);
            out = join(original, value, keep_oui);
            if !is_fixed(out) {
                break;
            }
        }
        from_u64(out)
    }

    /// The Feistel network over `domain.bits` bits, forwards or backwards.
    fn feistel(&self, value: u64, domain: Domain, forward: bool) -> u64 {
        let half = domain.bits / 2;
        let mask = (1u64 << half) - 1;
        let (mut left, mut right) = ((value >> half) & mask, value & mask);
        if forward {
            for round in 0..ROUNDS {
                let f = self.round(round, domain, right) & mask;
                (left, right) = (right, left ^ f);
            }
        } else {
            for round in (0..ROUNDS).rev() {
                let f = self.round(round, domain, left) & mask;
                (left, right) = (right ^ f, left);
            }
        }
        (left << half) | right
    }

    /// The round function: AES of a block naming the construction, width, round and tweak.
    fn round(&self, round: u8, domain: Domain, half: u64) -> u64 {
        let mut input = [0u8; 16];
        let tweak = domain.tweak.to_be_bytes();
        let head = [b'M', domain.bits as u8, round, 0];
        let (front, back) = input.split_at_mut(8);
        for (dst, src) in front.iter_mut().zip(head.iter().chain(tweak.iter())) {
            *dst = *src;
        }
        back.copy_from_slice(&half.to_be_bytes());
        let mut block = Block::from(input);
        self.cipher.encrypt_block(&mut block);
        let out: [u8; 16] = block.into();
        u64::from_be_bytes([
            out[0], out[1], out[2], out[3], out[4], out[5], out[6], out[7],
        ])
    }
}

/// Whether `mac` is broadcast or all-zero, the two addresses that map to themselves.
fn is_fixed(mac: u64) -> bool {
    mac == 0 || mac == BROADCAST
}

/// The permuted part of `mac` and its domain.
fn split(mac: u64, keep_oui: bool) -> (u64, Domain) {
    if keep_oui {
        let oui = (mac >> 24) as u32;
        let domain = Domain {
            bits: 24,
            tweak: (1 << 24) | oui,
        };
        (mac & LOW_24, domain)
    } else {
        let flags = ((mac >> 40) & 0b11) as u32;
        let value = ((mac >> 42) << 40) | (mac & LOW_40);
        (
            value,
            Domain {
                bits: 46,
                tweak: flags,
            },
        )
    }
}

/// Puts a permuted `value` back into `original`'s unchanged bits.
fn join(original: u64, value: u64, keep_oui: bool) -> u64 {
    if keep_oui {
        (original & !LOW_24) | value
    } else {
        let flags = (original >> 40) & 0b11;
        ((value >> 40) << 42) | (flags << 40) | (value & LOW_40)
    }
}

/// A MAC address as a 48-bit number.
fn to_u64(mac: [u8; 6]) -> u64 {
    let [a, b, c, d, e, f] = mac;
    u64::from_be_bytes([0, 0, a, b, c, d, e, f])
}

/// A 48-bit number as a MAC address.
fn from_u64(value: u64) -> [u8; 6] {
    let [_, _, a, b, c, d, e, f] = value.to_be_bytes();
    [a, b, c, d, e, f]
}

/// Parses `aa:bb:cc:dd:ee:ff` (or with `-`), in either case.
///
/// # Errors
///
/// [`Error::InvalidValue`] when the text is not six two-digit hexadecimal octets.
pub fn parse_mac(text: &str) -> Result<[u8; 6]> {
    let invalid = || Error::InvalidValue {
        kind: "mac",
        value: text.to_owned(),
        reason: "expected six hexadecimal octets separated by ':' or '-'",
    };
    let mut mac = [0u8; 6];
    let mut parts = text.split([':', '-']);
    for octet in &mut mac {
        let part = parts
            .next()
            .filter(|part| part.len() == 2 && part.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(invalid)?;
        *octet = u8::from_str_radix(part, 16).map_err(|_| invalid())?;
    }
    match parts.next() {
        Some(_) => Err(invalid()),
        None => Ok(mac),
    }
}

/// Formats a MAC address as lower-case `aa:bb:cc:dd:ee:ff`.
pub fn format_mac(mac: [u8; 6]) -> String {
    let [a, b, c, d, e, f] = mac;
    format!("{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{f:02x}")
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn keeps_flags_and_round_trips() {
        let cipher = MacCipher::new(&[7; 16]);
        for mac in [
            [0x00, 0x1a, 0x2b, 0x3c, 0x4d, 0x5e],
            [0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb],
            [0x02, 0x42, 0xac, 0x11, 0x00, 0x02],
            [0x33, 0x33, 0x00, 0x00, 0x00, 0x01],
        ] {
            let pseudonym = cipher.encrypt(mac, false);
            assert_ne!(pseudonym, mac);
            assert_eq!(pseudonym[0] & 0b11, mac[0] & 0b11, "{}", format_mac(mac));
            assert_eq!(cipher.decrypt(pseudonym, false), mac);
            let with_oui = cipher.encrypt(mac, true);
            assert_eq!(with_oui[..3], mac[..3]);
            assert_eq!(cipher.decrypt(with_oui, true), mac);
        }
    }

    #[test]
    fn broadcast_and_zero_are_fixed() {
        let cipher = MacCipher::new(&[9; 16]);
        for mac in [[0xff; 6], [0; 6]] {
            assert_eq!(cipher.encrypt(mac, false), mac);
            assert_eq!(cipher.encrypt(mac, true), mac);
            assert_eq!(cipher.decrypt(mac, false), mac);
        }
    }

    #[test]
    fn cycle_walking_is_a_bijection_on_a_small_domain() {
        // Exhaustive over the device bits of the ff:ff:ff OUI (which holds the broadcast address):
        // every non-broadcast address maps to a distinct non-broadcast one, and back.
        let cipher = MacCipher::new(&[3; 16]);
        let mut seen = vec![false; 1 << 24];
        for low in 0..(1u32 << 24) - 1 {
            let [_, b, c, d] = low.to_be_bytes();
            let mac = [0xff, 0xff, 0xff, b, c, d];
            let out = cipher.encrypt(mac, true);
            assert_ne!(out, [0xff; 6]);
            let index = usize::try_from(to_u64(out) & LOW_24).unwrap();
            assert!(!seen[index], "two addresses map to {}", format_mac(out));
            seen[index] = true;
            if low % 4099 == 0 {
                assert_eq!(cipher.decrypt(out, true), mac);
            }
        }
    }

    #[test]
    fn parses_and_formats() {
        let mac = parse_mac("00-1A-2b-3c-4d-5E").unwrap();
        assert_eq!(format_mac(mac), "00:1a:2b:3c:4d:5e");
        for bad in [
            "00:1a:2b:3c:4d",
            "00:1a:2b:3c:4d:5e:6f",
            "0:1a:2b:3c:4d:5e",
            "zz:1a:2b:3c:4d:5e",
            "+0:1a:2b:3c:4d:5e",
        ] {
            assert!(
                matches!(parse_mac(bad), Err(Error::InvalidValue { kind: "mac", .. })),
                "{bad}"
            );
        }
    }
}
