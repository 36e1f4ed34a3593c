//! Name pseudonyms (hostnames, usernames, MQTT client IDs…): deterministic AES-SIV.
//!
//! A name is encrypted with AES-128-SIV (RFC 5297) under the name sub-key, with one fixed
//! associated-data string naming the construction and no nonce. SIV derives its IV from the
//! plaintext, so the same name always gives the same pseudonym (what sharing needs: joins and
//! counts still work) and the 16-byte synthetic IV doubles as a tag that authenticates the
//! token: [`NameCipher::decrypt`] gives the name back with the key and refuses anything it did
//! not make. A keyed hash would give the first property but could never be re-identified.
//!
//! The token is `p-` followed by the tag and ciphertext in lower-case base32hex without padding
//! (RFC 4648 §7, the alphabet of RFC 5155: `0-9a-v`), cut into DNS labels of at most 63
//! characters joined by `.`: every label of a token is a valid DNS label, and the whole token is
//! a valid host name (at most 253 characters) for names of up to 139 bytes. Decoding ignores
//! the dots and the case. The ciphertext is as long as the name: a pseudonym reveals the name's
//! length in bytes.

use std::fmt;

use aes_siv::siv::Aes128Siv;
use aes_siv::{KeyInit, Tag};
use data_encoding::BASE32_DNSSEC;

use crate::error::{Error, Result};

/// Every name pseudonym starts with this.
pub const NAME_PREFIX: &str = "p-";
/// The associated data: binds tokens to this construction and version.
const HEADER: &[u8] = b"custos-privacy name v1";
/// The longest DNS label (RFC 1035 §2.3.4).
const LABEL_MAX: usize = 63;
/// The SIV tag's length in bytes.
const TAG_LEN: usize = 16;

/// The keyed name cipher.
#[derive(Clone)]
pub struct NameCipher {
    key: [u8; 32],
}

impl fmt::Debug for NameCipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NameCipher { .. }")
    }
}

impl Drop for NameCipher {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.key);
    }
}

impl NameCipher {
    /// A cipher under a 32-byte AES-128-SIV key (MAC key, then encryption key).
    pub fn new(key: &[u8; 32]) -> Self {
        Self { key: *key }
    }

    /// The AES-SIV instance (it needs `&mut` and cannot be cloned, so one is made per call).
    fn siv(&self) -> Aes128Siv {
        Aes128Siv::new(&self.key.into())
    }

    /// The pseudonym token of `name`: `p-`, then base32hex in labels of at most 63 characters.
    pub fn encrypt(&self, name: &str) -> String {
        let mut body = name.as_bytes().to_vec();
        let tag = match self.siv().encrypt_in_place_detached([HEADER], &mut body) {
            Ok(tag) => tag,
            // aes-siv fails only with more than 126 associated-data strings; we pass one.
            Err(_) => unreachable!("aes-siv refused one associated-data string"),
        };
        let mut bytes = tag.to_vec();
        bytes.extend_from_slice(&body);
        let flat = format!("{NAME_PREFIX}{}", BASE32_DNSSEC.encode(&bytes));
        let labels: Vec<&str> = flat
            .as_bytes()
            .chunks(LABEL_MAX)
            .filter_map(|chunk| std::str::from_utf8(chunk).ok())
            .collect();
        labels.join(".")
    }

    /// The name whose token is `token`.
    ///
    /// # Errors
    ///
    /// [`Error::NameToken`] when `token` lacks the `p-` prefix, is not base32hex, is too short
    /// to hold a tag, fails authentication (another key, or altered), or decrypts to bytes that
    /// are not UTF-8.
    pub fn decrypt(&self, token: &str) -> Result<String> {
        let fail = |reason| Error::NameToken {
            token: token.to_owned(),
            reason,
        };
        let body = token
            .get(..NAME_PREFIX.len())
            .filter(|head| head.eq_ignore_ascii_case(NAME_PREFIX))
            .and_then(|_| token.get(NAME_PREFIX.len()..))
            .ok_or_else(|| fail("it does not start with \"p-\""))?;
        let encoded: String = body.chars().filter(|c| *c != '.').collect();
        let bytes = BASE32_DNSSEC
            .decode(encoded.as_bytes())
            .map_err(|_| fail("it is not lower-case base32hex after \"p-\""))?;
        if bytes.len() < TAG_LEN {
            return Err(fail("it is too short to hold an authentication tag"));
        }
        let (tag, ciphertext) = bytes.split_at(TAG_LEN);
        let mut plain = ciphertext.to_vec();
        self.siv()
            .decrypt_in_place_detached([HEADER], &mut plain, Tag::from_slice(tag))
            .map_err(|_| fail("authentication failed (another key, or an altered token)"))?;
        String::from_utf8(plain).map_err(|_| fail("the decrypted name is not UTF-8"))
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn round_trips_and_is_deterministic() {
        let cipher = NameCipher::new(&[5; 32]);
        for name in ["", "cam-livingroom", "Ünïcødé user", &"x".repeat(300)] {
            let token = cipher.encrypt(name);
            assert_eq!(token, cipher.encrypt(name));
            assert!(token.starts_with("p-"));
            assert!(token
                .split('.')
                .all(|label| !label.is_empty() && label.len() <= 63));
            assert!(token
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'));
            assert_eq!(cipher.decrypt(&token).unwrap(), name);
            assert_eq!(cipher.decrypt(&token.to_uppercase()).unwrap(), name);
        }
    }

    #[test]
    fn rejects_tokens_from_another_key() {
        let token = NameCipher::new(&[5; 32]).encrypt("sensor-12");
        let err = NameCipher::new(&[6; 32]).decrypt(&token).unwrap_err();
        assert!(
            matches!(err, Error::NameToken { reason, .. } if reason.starts_with("authentication failed")),
            "{err}"
        );
    }

    #[test]
    fn rejects_malformed_tokens() {
        let cipher = NameCipher::new(&[5; 32]);
        let reason = |token: &str| match cipher.decrypt(token) {
            Err(Error::NameToken { reason, .. }) => reason,
            other => panic!("{other:?}"),
        };
        assert_eq!(reason("sensor-12"), "it does not start with \"p-\"");
        assert_eq!(
            reason("p-xyz!"),
            "it is not lower-case base32hex after \"p-\""
        );
        assert_eq!(
            reason("p-0000"),
            "it is too short to hold an authentication tag"
        );
        assert_eq!(reason("é"), "it does not start with \"p-\"");
    }
}
