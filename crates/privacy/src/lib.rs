//! Pseudonymisation for sharing captures, flows and alerts without exposing who is behind them.
//!
//! Every pseudonym here is *reversible with the key and nothing else*: sharing partners see
//! stable, joinable stand-ins; the key holder can re-identify one when needed (the CLI's
//! audited `custos reidentify`). The pieces:
//!
//! - [`CryptoPan`] / [`CachedCryptoPan`]: prefix-preserving Crypto-PAn (AES-128) for IPv4 and
//!   IPv6, bit-exact with the reference implementation, with its inverse and a prefix cache.
//! - [`MacCipher`]: a keyed Feistel permutation of MAC addresses that keeps the multicast and
//!   locally-administered bits (and optionally the OUI).
//! - [`NameCipher`]: deterministic AES-SIV for host names, user names, MQTT client IDs…,
//!   encoded as DNS-safe `p-…` tokens.
//! - [`PseudonymKey`]: the secret, its `.pkey` file (mode 0600, never overwritten) and sub-keys.
//! - [`Policy`]: a TOML file saying, per [`FieldClass`], whether to pseudonymise, truncate,
//!   drop or keep, and which networks stay unchanged.
//! - [`Pseudonymizer`]: a key and a policy together; refuses a pseudonym that falls in a kept
//!   network ([`Error::Collision`]).
//! - [`anonymize()`] / [`FrameRewriter`]: shareable captures — every address in every decoded
//!   header of a pcap or pcapng file pseudonymised, checksums kept consistent, payloads kept,
//!   truncated or dropped ([`PayloadPolicy`]).
//! - `flags` (feature `clap`): the command-line options of `custos pseudonymize`,
//!   `reidentify` and `anonymize`, and what they load.
//!
//! ```
//! use custos_privacy::{Policy, PseudonymKey, Pseudonymizer};
//! # fn main() -> Result<(), custos_privacy::Error> {
//! // The reference trace's key (vectors/cryptopan/README.md) as 64 hex digits.
//! let key = PseudonymKey::from_cryptopan_hex(
//!     "1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202",
//! )?;
//! let mut p = Pseudonymizer::new(&key, Policy::default());
//! let pseudonym = p.ip("24.5.0.80".parse().unwrap())?;
//! assert_eq!(pseudonym.to_string(), "100.9.15.210");
//! assert_eq!(p.ip_inverse(pseudonym)?.to_string(), "24.5.0.80");
//! let token = p.name("cam-livingroom");
//! assert_eq!(p.name_inverse(&token)?, "cam-livingroom");
//! # Ok(())
//! # }
//! ```
//!
//! Apart from [`anonymize()`], this crate does not read captures or records, nor decide which
//! fields of a record belong to which class: the sinks and the CLI do that, and call
//! [`Pseudonymizer::apply`]. Pseudonyms hide identities, not behaviour: traffic patterns,
//! timing and volumes stay visible.
//! `docs/privacy.md` describes the constructions, the key file and the policy keys.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod anonymize;
mod cache;
mod cryptopan;
mod error;
#[cfg(feature = "clap")]
pub mod flags;
mod key;
mod mac;
mod name;
mod network;
mod outputs;
mod policy;
mod pseudonymizer;

pub use anonymize::{
    anonymize, anonymize_frame, AnonymizeOptions, AnonymizeReport, FrameOutcome, FrameRewriter,
    PayloadPolicy,
};
pub use cache::CachedCryptoPan;
pub use cryptopan::{CryptoPan, KEY_LEN as CRYPTOPAN_KEY_LEN};
pub use error::{Error, Result};
pub use key::{PseudonymKey, KEY_FILE_EXTENSION, KEY_FILE_HEADER};
pub use mac::{format_mac, parse_mac, MacCipher};
pub use name::{NameCipher, NAME_PREFIX};
pub use network::Network;
pub use outputs::{pseudonymize_outputs, OutputsReport, DROPPED};
pub use policy::{Action, FieldClass, Policy, Truncation};
pub use pseudonymizer::{Pseudonymizer, Shadow, ValueKind};
