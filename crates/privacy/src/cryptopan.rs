//! Crypto-PAn: prefix-preserving pseudonymisation of IPv4 and IPv6 addresses.
//!
//! The construction of Xu, Fan, Ammar and Moon ("Prefix-preserving IP address anonymization",
//! ICNP 2002), bit for bit as their reference `panonymizer.cpp`:
//!
//! - the 32-byte key is a 16-byte AES-128 key `k` and 16 bytes that, encrypted under `k`,
//!   give the 128-bit `pad`;
//! - for each bit position `i` (0 is the most significant), the AES input is the address's
//!   first `i` bits followed by the pad's bits from position `i` on; the first bit of
//!   `AES_k(input)` is XORed into bit `i` of the address.
//!
//! IPv4 addresses sit in the top 32 bits of the 128-bit block (the pad fills the other 96,
//! exactly as the reference does); IPv6 uses the same rule over all 128 bits, which is what
//! the other public implementations (yacryptopan, the Go ports) do.
//!
//! Bit `i` of the output depends only on bits `0..=i` of the input, so two addresses sharing
//! an `n`-bit prefix give pseudonyms sharing exactly an `n`-bit prefix, and the map inverts bit
//! by bit ([`CryptoPan::decrypt`]). The `i`-th AES input depends only on the original address,
//! so encryption runs all 32 (or 128) blocks through the cipher's parallel path at once;
//! decryption is sequential.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::ops::Range;

use aes::cipher::{BlockEncrypt, KeyInit};
use aes::{Aes128, Block};

/// The length of a Crypto-PAn key in bytes: a 16-byte AES key, then 16 bytes for the pad.
pub const KEY_LEN: usize = 32;

/// A keyed Crypto-PAn instance (no cache: see [`crate::CachedCryptoPan`]).
#[derive(Clone)]
pub struct CryptoPan {
    cipher: Aes128,
    pad: u128,
}

impl fmt::Debug for CryptoPan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CryptoPan { .. }")
    }
}

impl CryptoPan {
    /// An instance for a 32-byte key (AES-128 key, then the pad's plaintext).
    pub fn new(key: &[u8; KEY_LEN]) -> Self {
        let (aes_key, pad_plain) = key.split_at(KEY_LEN / 2);
        let cipher = Aes128::new(Block::from_slice(aes_key));
        let mut pad = Block::clone_from_slice(pad_plain);
        cipher.encrypt_block(&mut pad);
        Self {
            cipher,
            pad: u128::from_be_bytes(pad.into()),
        }
    }

    /// The pseudonym of `addr`.
    pub fn encrypt(&self, addr: IpAddr) -> IpAddr {
        match addr {
            IpAddr::V4(v4) => IpAddr::V4(self.encrypt_v4(v4)),
            IpAddr::V6(v6) => IpAddr::V6(self.encrypt_v6(v6)),
        }
    }

    /// The address whose pseudonym is `pseudonym`.
    pub fn decrypt(&self, pseudonym: IpAddr) -> IpAddr {
        match pseudonym {
            IpAddr::V4(v4) => IpAddr::V4(self.decrypt_v4(v4)),
            IpAddr::V6(v6) => IpAddr::V6(self.decrypt_v6(v6)),
        }
    }

    /// The pseudonym of an IPv4 address (32 AES blocks).
    pub fn encrypt_v4(&self, addr: Ipv4Addr) -> Ipv4Addr {
        let bits = u128::from(u32::from(addr)) << 96;
        let otp = self.otp(bits, 0..32);
        Ipv4Addr::from(high_u32(bits ^ otp))
    }

    /// The pseudonym of an IPv6 address (128 AES blocks).
    pub fn encrypt_v6(&self, addr: Ipv6Addr) -> Ipv6Addr {
        let bits = u128::from(addr);
        Ipv6Addr::from(bits ^ self.otp(bits, 0..128))
    }

    /// The IPv4 address whose pseudonym is `pseudonym`.
    pub fn decrypt_v4(&self, pseudonym: Ipv4Addr) -> Ipv4Addr {
        let bits = u128::from(u32::from(pseudonym)) << 96;
        Ipv4Addr::from(high_u32(self.decrypt_bits(bits, 32)))
    }

    /// The IPv6 address whose pseudonym is `pseudonym`.
    pub fn decrypt_v6(&self, pseudonym: Ipv6Addr) -> Ipv6Addr {
        Ipv6Addr::from(self.decrypt_bits(u128::from(pseudonym), 128))
    }

    /// The one-time-pad bits at `positions` (left-aligned in the result, other bits zero) for
    /// the left-aligned address `addr`; only `addr`'s bits before `positions.end - 1` matter.
    ///
    /// `positions` must lie within `0..128`; positions past 127 are ignored.
    #[inline]
    pub(crate) fn otp(&self, addr: u128, positions: Range<u32>) -> u128 {
        let mut blocks = [Block::default(); 128];
        let positions = positions.start.min(128)..positions.end.min(128);
        for (block, i) in blocks.iter_mut().zip(positions.clone()) {
            *block = self.input(addr, i).to_be_bytes().into();
        }
        let count = positions.len();
        if let Some(used) = blocks.get_mut(..count) {
            self.cipher.encrypt_blocks(used);
        }
        let mut bits = 0u128;
        for (block, i) in blocks.iter().zip(positions) {
            let first_bit = u128::from_be_bytes((*block).into()) >> 127;
            bits |= first_bit << (127 - i);
        }
        bits
    }

    /// The AES input for bit position `i` (`i < 128`): `addr`'s first `i` bits, then the pad's.
    #[inline]
    fn input(&self, addr: u128, i: u32) -> u128 {
        let keep = high_mask(i);
        (addr & keep) | (self.pad & !keep)
    }

    /// Inverts the first `width` bits of the left-aligned pseudonym, one AES block per bit.
    fn decrypt_bits(&self, pseudonym: u128, width: u32) -> u128 {
        let mut original = 0u128;
        for i in 0..width.min(128) {
            let mut block: Block = self.input(original, i).to_be_bytes().into();
            self.cipher.encrypt_block(&mut block);
            let otp_bit = u128::from_be_bytes(block.into()) >> 127;
            let bit = ((pseudonym >> (127 - i)) & 1) ^ otp_bit;
            original |= bit << (127 - i);
        }
        original
    }
}

/// A mask of the `bits` most significant bits (`bits` ≥ 128 gives all ones).
#[inline]
pub(crate) fn high_mask(bits: u32) -> u128 {
    u128::MAX
        .checked_shl(128u32.saturating_sub(bits))
        .unwrap_or(0)
}

/// The top 32 bits of a left-aligned 128-bit value.
#[inline]
pub(crate) fn high_u32(bits: u128) -> u32 {
    // The shift leaves exactly 32 significant bits, so the conversion cannot fail.
    u32::try_from(bits >> 96).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod test {
    use super::*;

    /// The reference trace's key, as listed in `vectors/cryptopan/README.md`.
    pub(crate) const REFERENCE_KEY: [u8; 32] = [
        21, 34, 23, 141, 51, 164, 207, 128, 19, 10, 91, 22, 73, 144, 125, 16, 216, 152, 143, 131,
        121, 121, 101, 39, 98, 87, 76, 45, 42, 132, 34, 2,
    ];

    #[test]
    fn matches_the_reference_first_address() {
        let pan = CryptoPan::new(&REFERENCE_KEY);
        let addr = Ipv4Addr::new(24, 5, 0, 80);
        assert_eq!(pan.encrypt_v4(addr), Ipv4Addr::new(100, 9, 15, 210));
        assert_eq!(pan.decrypt_v4(Ipv4Addr::new(100, 9, 15, 210)), addr);
    }

    #[test]
    fn matches_the_ascii_key_vectors() {
        let pan = CryptoPan::new(b"32-char-str-for-AES-key-and-pad.");
        let v4 = Ipv4Addr::new(192, 0, 2, 1);
        assert_eq!(pan.encrypt_v4(v4), Ipv4Addr::new(192, 0, 125, 244));
        let v6: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let want: Ipv6Addr = "27fe:8bc7:fee:1e:1e1f:f0fe:f0e1:83fd".parse().unwrap();
        assert_eq!(pan.encrypt_v6(v6), want);
        assert_eq!(pan.decrypt_v6(want), v6);
    }

    #[test]
    fn otp_of_a_range_is_the_slice_of_the_full_otp() {
        let pan = CryptoPan::new(&REFERENCE_KEY);
        let addr = 0x2001_0db8_0000_0000_0000_0000_0000_0001u128;
        let full = pan.otp(addr, 0..128);
        let parts = pan.otp(addr, 0..64) | pan.otp(addr, 64..128);
        assert_eq!(full, parts);
        assert_eq!(pan.otp(addr, 130..140), 0);
    }
}
