//! [`Pseudonymizer`]: one key and one policy applied to addresses, MACs and names.

use std::fmt;
use std::net::IpAddr;
use std::path::Path;
use std::str::FromStr;

use crate::cache::CachedCryptoPan;
use crate::error::{Error, Result};
use crate::key::PseudonymKey;
use crate::mac::{format_mac, parse_mac, MacCipher};
use crate::name::NameCipher;
use crate::network::{truncate, Network};
use crate::policy::{Action, FieldClass, Policy, Truncation};

/// The kind of a value given as text (`custos pseudonymize --kind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// An IPv4 or IPv6 address.
    Ip,
    /// A MAC address.
    Mac,
    /// Any other identifier: host name, user name, MQTT client ID…
    Name,
}

impl ValueKind {
    /// The kind a value looks like: an address, else a MAC, else a name.
    pub fn detect(value: &str) -> Self {
        if value.parse::<IpAddr>().is_ok() {
            ValueKind::Ip
        } else if parse_mac(value).is_ok() {
            ValueKind::Mac
        } else {
            ValueKind::Name
        }
    }
}

impl fmt::Display for ValueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueKind::Ip => "ip",
            ValueKind::Mac => "mac",
            ValueKind::Name => "name",
        })
    }
}

impl FromStr for ValueKind {
    type Err = String;

    /// Parses `ip`, `mac` or `name`.
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "ip" => Ok(ValueKind::Ip),
            "mac" => Ok(ValueKind::Mac),
            "name" => Ok(ValueKind::Name),
            _ => Err(format!("unknown kind {text:?}; expected ip, mac or name")),
        }
    }
}

/// A kept network and the original addresses whose pseudonyms would fall inside it.
///
/// Crypto-PAn preserves prefixes, so the pseudonyms inside `kept` are exactly the images of the
/// addresses inside `originals` (same prefix length). Mapping one of those that is not itself
/// kept is refused with [`Error::Collision`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shadow {
    /// The network the policy keeps unchanged.
    pub kept: Network,
    /// The originals whose pseudonyms collide with it.
    pub originals: Network,
}

/// Pseudonymises and re-identifies values under one key and policy.
///
/// Addresses go through a prefix cache, so [`Pseudonymizer::ip`] takes `&mut self`; clone one
/// per thread. Inverses (`*_inverse`, [`Pseudonymizer::reidentify`]) are for the audited
/// `custos reidentify` path only.
#[derive(Clone, Debug)]
pub struct Pseudonymizer {
    cryptopan: CachedCryptoPan,
    mac: MacCipher,
    names: NameCipher,
    policy: Policy,
    shadows: Vec<Shadow>,
    fingerprint: String,
}

impl Pseudonymizer {
    /// A pseudonymizer for `key` and `policy`.
    pub fn new(key: &PseudonymKey, policy: Policy) -> Self {
        let cryptopan = CachedCryptoPan::new(key.cryptopan_key());
        let shadows = shadows(&cryptopan, policy.keep_networks());
        Self {
            cryptopan,
            mac: MacCipher::new(&key.mac_key()),
            names: NameCipher::new(&key.name_key()),
            policy,
            shadows,
            fingerprint: key.fingerprint(),
        }
    }

    /// A pseudonymizer for the key file `key` (`.pkey`) and the policy file `policy` (the
    /// default policy without one); the policy is read first.
    ///
    /// # Errors
    ///
    /// As [`Policy::read`], then as [`PseudonymKey::read`].
    pub fn from_files(key: &Path, policy: Option<&Path>) -> Result<Self> {
        let policy = Policy::read_or_default(policy)?;
        Ok(Self::new(&PseudonymKey::read(key)?, policy))
    }

    /// A pseudonymizer with the default policy for a raw Crypto-PAn key in 64 hex digits
    /// (`--key-hex`); the MAC and name keys derive from it ([`PseudonymKey::from_cryptopan_hex`]).
    ///
    /// # Errors
    ///
    /// [`Error::KeyHex`] when `hex` is not 64 hexadecimal digits.
    pub fn from_key_hex(hex: &str) -> Result<Self> {
        Ok(Self::new(
            &PseudonymKey::from_cryptopan_hex(hex)?,
            Policy::default(),
        ))
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The key's public fingerprint ([`PseudonymKey::fingerprint`]), for audit records.
    pub fn key_fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// For each kept network, the originals whose pseudonyms would collide with it (networks
    /// whose originals are themselves kept are left out: they can never collide).
    pub fn shadows(&self) -> &[Shadow] {
        &self.shadows
    }

    /// Prefix-cache hits and misses so far.
    pub fn cache_stats(&self) -> (u64, u64) {
        self.cryptopan.stats()
    }

    /// The Crypto-PAn pseudonym of `addr`, or `addr` itself inside a kept network.
    ///
    /// # Errors
    ///
    /// [`Error::Collision`] when the pseudonym falls inside a kept network.
    #[inline]
    pub fn ip(&mut self, addr: IpAddr) -> Result<IpAddr> {
        if self.kept_network(addr).is_some() {
            return Ok(addr);
        }
        let pseudonym = self.cryptopan.encrypt(addr);
        self.refuse_collision(pseudonym)
    }

    /// The address whose pseudonym is `pseudonym` (an address in a kept network is itself).
    ///
    /// # Errors
    ///
    /// [`Error::NotAPseudonym`] when the original would lie in a kept network, so that
    /// [`Pseudonymizer::ip`] never makes `pseudonym`.
    pub fn ip_inverse(&self, pseudonym: IpAddr) -> Result<IpAddr> {
        if self.kept_network(pseudonym).is_some() {
            return Ok(pseudonym);
        }
        let original = self.cryptopan.uncached().decrypt(pseudonym);
        match self.kept_network(original) {
            Some(network) => Err(Error::NotAPseudonym {
                address: pseudonym,
                network,
            }),
            None => Ok(original),
        }
    }

    /// The pseudonym of a MAC address (keeping the OUI when the policy says so).
    pub fn mac(&self, mac: [u8; 6]) -> [u8; 6] {
        self.mac.encrypt(mac, self.policy.mac_keep_oui())
    }

    /// The MAC address whose pseudonym is `pseudonym`.
    pub fn mac_inverse(&self, pseudonym: [u8; 6]) -> [u8; 6] {
        self.mac.decrypt(pseudonym, self.policy.mac_keep_oui())
    }

    /// The pseudonym token of a name (`p-…`, DNS-safe).
    pub fn name(&self, name: &str) -> String {
        self.names.encrypt(name)
    }

    /// The name whose token is `token`.
    ///
    /// # Errors
    ///
    /// [`Error::NameToken`] when `token` was not made by [`Pseudonymizer::name`] under this key.
    pub fn name_inverse(&self, token: &str) -> Result<String> {
        self.names.decrypt(token)
    }

    /// Applies the policy to an address: `None` when it is dropped.
    ///
    /// # Errors
    ///
    /// [`Error::Collision`] when a pseudonymised or truncated address falls in a kept network.
    pub fn apply_ip(&mut self, addr: IpAddr) -> Result<Option<IpAddr>> {
        let class = match addr {
            IpAddr::V4(_) => FieldClass::Ip,
            IpAddr::V6(_) => FieldClass::Ipv6,
        };
        match self.policy.action(class) {
            Action::Drop => Ok(None),
            Action::Keep => Ok(Some(addr)),
            Action::Pseudonymise => self.ip(addr).map(Some),
            Action::Truncate(_) if self.kept_network(addr).is_some() => Ok(Some(addr)),
            Action::Truncate(bits) => self
                .refuse_collision(truncate(addr, u32::from(bits)))
                .map(Some),
        }
    }

    /// Applies the policy to a MAC address: `None` when it is dropped.
    pub fn apply_mac(&self, mac: [u8; 6]) -> Option<[u8; 6]> {
        match self.policy.action(FieldClass::Mac) {
            Action::Drop => None,
            Action::Keep => Some(mac),
            Action::Pseudonymise => Some(self.mac(mac)),
            Action::Truncate(bits) => {
                let value =
                    u64::from_be_bytes([0, 0, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]]);
                let mask = (!0u64 << 48u32.saturating_sub(u32::from(bits))) & ((1 << 48) - 1);
                let [_, _, a, b, c, d, e, f] = (value & mask).to_be_bytes();
                Some([a, b, c, d, e, f])
            }
        }
    }

    /// Applies the policy to a field given as text: `None` when it is dropped.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidValue`] when an `ip` or `mac` field does not parse; [`Error::Collision`]
    /// as for [`Pseudonymizer::apply_ip`].
    pub fn apply(&mut self, class: FieldClass, value: &str) -> Result<Option<String>> {
        match class {
            FieldClass::Ip | FieldClass::Ipv6 => {
                let addr = parse_ip(value)?;
                Ok(self.apply_ip(addr)?.map(|addr| addr.to_string()))
            }
            FieldClass::Mac => Ok(self.apply_mac(parse_mac(value)?).map(format_mac)),
            _ => Ok(match self.policy.action(class) {
                Action::Drop => None,
                Action::Keep => Some(value.to_owned()),
                Action::Pseudonymise => Some(self.name(value)),
                Action::Truncate(n) => Some(truncate_text(value, class.truncation(), n)),
            }),
        }
    }

    /// The pseudonym of a value as text (`custos pseudonymize`), whatever the policy's actions;
    /// kept networks still apply to addresses.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidValue`] when the value is not of `kind`; [`Error::Collision`].
    pub fn pseudonymize(&mut self, kind: ValueKind, value: &str) -> Result<String> {
        match kind {
            ValueKind::Ip => Ok(self.ip(parse_ip(value)?)?.to_string()),
            ValueKind::Mac => Ok(format_mac(self.mac(parse_mac(value)?))),
            ValueKind::Name => Ok(self.name(value)),
        }
    }

    /// The original of a pseudonym given as text (for the audited `custos reidentify`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidValue`], [`Error::NotAPseudonym`] or [`Error::NameToken`].
    pub fn reidentify(&self, kind: ValueKind, pseudonym: &str) -> Result<String> {
        match kind {
            ValueKind::Ip => Ok(self.ip_inverse(parse_ip(pseudonym)?)?.to_string()),
            ValueKind::Mac => Ok(format_mac(self.mac_inverse(parse_mac(pseudonym)?))),
            ValueKind::Name => self.name_inverse(pseudonym),
        }
    }

    /// The first kept network holding `addr`.
    #[inline]
    fn kept_network(&self, addr: IpAddr) -> Option<Network> {
        let networks = self.policy.keep_networks();
        networks
            .iter()
            .copied()
            .find(|network| network.contains(addr))
    }

    /// `mapped` unless it falls inside a kept network.
    #[inline]
    fn refuse_collision(&self, mapped: IpAddr) -> Result<IpAddr> {
        match self.kept_network(mapped) {
            Some(network) => Err(Error::Collision {
                pseudonym: mapped,
                network,
            }),
            None => Ok(mapped),
        }
    }
}

/// Parses an address given as text.
fn parse_ip(value: &str) -> Result<IpAddr> {
    value.parse().map_err(|_| Error::InvalidValue {
        kind: "ip",
        value: value.to_owned(),
        reason: "not an IPv4 or IPv6 address",
    })
}

/// `truncate:n` on text: the last `n` labels of a DNS name, or the first `n` characters.
fn truncate_text(value: &str, truncation: Truncation, n: u8) -> String {
    let n = usize::from(n);
    match truncation {
        Truncation::Labels => {
            let name = value.strip_suffix('.').unwrap_or(value);
            let labels: Vec<&str> = name.rsplit('.').take(n).collect();
            let kept: Vec<&str> = labels.into_iter().rev().collect();
            kept.join(".")
        }
        Truncation::Chars | Truncation::Bits(_) | Truncation::Never => {
            value.chars().take(n).collect()
        }
    }
}

/// The shadow of each kept network that is not itself covered by kept networks.
fn shadows(cryptopan: &CachedCryptoPan, kept: &[Network]) -> Vec<Shadow> {
    let covered = |network: &Network| {
        kept.iter().any(|outer| {
            outer.prefix_len() <= network.prefix_len() && outer.contains(network.addr())
        })
    };
    kept.iter()
        .filter_map(|network| {
            let original = cryptopan.uncached().decrypt(network.addr());
            let originals = Network::new(original, network.prefix_len())?;
            (!covered(&originals)).then_some(Shadow {
                kept: *network,
                originals,
            })
        })
        .collect()
}
