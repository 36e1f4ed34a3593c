//! The command-line options of `custos pseudonymize`, `custos reidentify` and `custos
//! anonymize` (feature `clap`), with their help text, and what they load:
//! [`PseudonymFlags::load`] the key, policy and kind, [`AnonymizeFlags::anonymize`] the
//! rewritten capture.

use crate::{anonymize, AnonymizeOptions, AnonymizeReport, Error, PayloadPolicy, Result};
use crate::{Policy, PseudonymKey, Pseudonymizer, ValueKind};
use clap::Args;
use std::path::PathBuf;

/// The pseudonym key, the sharing policy and the kind of values: how pseudonyms are made
/// (`pseudonymize`) and reversed (`reidentify`).
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("pkey").required(true).args(["pseudonym_key", "key_hex"])))]
pub struct PseudonymFlags {
    /// The pseudonym key (`.pkey` from `custos keygen --pseudonym`).
    #[arg(long, value_name = "K.pkey")]
    pub pseudonym_key: Option<PathBuf>,
    /// A raw 32-byte Crypto-PAn key as 64 hex digits instead of a key file.
    #[arg(long, value_name = "HEX")]
    pub key_hex: Option<String>,
    /// A sharing policy (TOML, docs/privacy.md): kept networks, MAC OUIs.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// What the values are [default: guessed per value: address, MAC, else name].
    #[arg(long, value_name = "ip|mac|name")]
    pub kind: Option<String>,
}

impl PseudonymFlags {
    /// The policy (or the default), the key (the file, else the raw hex key) and the kind
    /// (`None`: detected per value), read in that order.
    ///
    /// # Errors
    /// An unreadable policy or key, no key named, an unknown kind ([`Error::Usage`]).
    pub fn load(&self) -> Result<(PseudonymKey, Policy, Option<ValueKind>)> {
        let policy = Policy::read_or_default(self.policy.as_deref())?;
        let key = match (&self.pseudonym_key, &self.key_hex) {
            (Some(path), _) => PseudonymKey::read(path)?,
            (None, Some(hex)) => PseudonymKey::from_cryptopan_hex(hex)?,
            (None, None) => {
                let m = "give --pseudonym-key K.pkey or --key-hex HEX";
                return Err(Error::Usage(m.into()));
            }
        };
        let kind = (self.kind.as_deref())
            .map(|k| {
                k.parse()
                    .map_err(|e| Error::Usage(format!("--kind {k:?}: {e}")))
            })
            .transpose()?;
        Ok((key, policy, kind))
    }
}

/// The options of `custos anonymize`.
#[derive(Debug, Args)]
pub struct AnonymizeFlags {
    /// The capture to rewrite (pcap or pcapng, gzip allowed).
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// The anonymised capture to write (same format as the input; gzip input gives an
    /// uncompressed output). An existing file is refused unless --force.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// The pseudonym key (`.pkey` from `custos keygen --pseudonym`).
    #[arg(long, value_name = "K.pkey")]
    pub pseudonym_key: PathBuf,
    /// A sharing policy (TOML, docs/privacy.md): networks kept unchanged, MAC OUIs kept.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Transport payload: `keep`, `truncate:N` (first N bytes) or `drop` [default: keep].
    #[arg(long, value_name = "keep|truncate:N|drop", default_value = "keep")]
    pub payload: String,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
}

impl AnonymizeFlags {
    /// Reads the policy, the payload policy and the key, in that order, then rewrites the
    /// capture ([`anonymize()`]).
    ///
    /// # Errors
    /// An unreadable policy or key, a bad `--payload` ([`Error::Usage`]), then as
    /// [`anonymize()`].
    pub fn anonymize(&self) -> Result<AnonymizeReport> {
        let policy = Policy::read_or_default(self.policy.as_deref())?;
        let payload: PayloadPolicy = self
            .payload
            .parse()
            .map_err(|e| Error::Usage(format!("--payload {:?}: {e}", self.payload)))?;
        let mut p = Pseudonymizer::new(&PseudonymKey::read(&self.pseudonym_key)?, policy);
        let options = AnonymizeOptions {
            payload,
            force: self.force,
        };
        anonymize(&self.input, &self.output, &mut p, &options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Pseudonymize {
        #[command(flatten)]
        flags: PseudonymFlags,
    }

    const HEX: &str = "1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202";

    #[test]
    fn loads_a_hex_key_and_the_kind() {
        let p = Pseudonymize::try_parse_from(["p", "--key-hex", HEX, "--kind", "mac"]).unwrap();
        let (key, policy, kind) = p.flags.load().unwrap();
        assert_eq!(key, PseudonymKey::from_cryptopan_hex(HEX).unwrap());
        assert_eq!((policy, kind), (Policy::default(), Some(ValueKind::Mac)));
    }

    #[test]
    fn rejects_an_unknown_kind_naming_the_option() {
        let p = Pseudonymize::try_parse_from(["p", "--key-hex", HEX, "--kind", "x"]).unwrap();
        let e = p.flags.load().unwrap_err().to_string();
        assert_eq!(
            e,
            "--kind \"x\": unknown kind \"x\"; expected ip, mac or name"
        );
    }

    #[test]
    fn a_key_is_required() {
        assert!(Pseudonymize::try_parse_from(["p", "--kind", "ip"]).is_err());
    }
}
