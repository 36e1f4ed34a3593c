//! Policies: what happens to each class of field, and which networks stay as they are.
//!
//! A policy is a TOML file (unknown keys are errors, and every error names its line):
//!
//! ```toml
//! # Addresses in these networks are shared unchanged (e.g. public attacker addresses).
//! keep_networks = ["198.51.100.0/24", "2001:db8:bad::/48"]
//! # MAC pseudonyms keep the vendor's OUI.
//! mac_keep_oui = true
//!
//! [fields]
//! ip = "pseudonymise"      # Crypto-PAn
//! ipv6 = "truncate:48"     # overrides `ip` for IPv6 addresses
//! hostname = "pseudonymise"
//! dns_query = "truncate:2" # keep the last two labels
//! user_agent = "keep"
//! ```
//!
//! Actions are `pseudonymise` (or `pseudonymize`), `truncate:N`, `drop` and `keep`. What
//! `truncate:N` keeps depends on the class ([`Truncation`]): the first N bits of an address,
//! the last N labels of a DNS name, the first N characters of other text. A class that the file
//! does not name keeps its default ([`FieldClass::default_action`]); `ipv6` defaults to `ip`.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};
use crate::network::Network;

/// What the policy does to one class of field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Replace with a reversible pseudonym (Crypto-PAn, the MAC permutation or AES-SIV).
    Pseudonymise,
    /// Keep only a part ([`Truncation`] says which); not reversible.
    Truncate(u8),
    /// Remove the field.
    Drop,
    /// Share the value unchanged.
    Keep,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Pseudonymise => f.write_str("pseudonymise"),
            Action::Truncate(n) => write!(f, "truncate:{n}"),
            Action::Drop => f.write_str("drop"),
            Action::Keep => f.write_str("keep"),
        }
    }
}

impl FromStr for Action {
    type Err = String;

    /// Parses `pseudonymise`, `pseudonymize`, `truncate:N` (N from 1 to 255), `drop` or `keep`.
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "pseudonymise" | "pseudonymize" => Ok(Action::Pseudonymise),
            "drop" => Ok(Action::Drop),
            "keep" => Ok(Action::Keep),
            _ => match text.strip_prefix("truncate:") {
                Some(n) => n
                    .parse::<u8>()
                    .ok()
                    .filter(|n| *n > 0)
                    .map(Action::Truncate)
                    .ok_or_else(|| format!("{text:?}: N in truncate:N must be 1 to 255")),
                None => Err(format!(
                    "unknown action {text:?}; expected pseudonymise, truncate:N, drop or keep"
                )),
            },
        }
    }
}

/// How `truncate:N` shortens a class of field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Truncation {
    /// Keep the first N bits (addresses), clearing the rest.
    Bits(u8),
    /// Keep the last N dot-separated labels (DNS names).
    Labels,
    /// Keep the first N characters (other text).
    Chars,
    /// Truncation is not allowed for the class.
    Never,
}

/// Defines `FieldClass`, its policy keys and defaults, and the TOML `[fields]` table at once.
macro_rules! field_classes {
    ($($variant:ident $key:ident $default:expr, $trunc:expr, $doc:literal;)*) => {
        /// A class of field that a policy decides about.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum FieldClass {
            $(#[doc = $doc] $variant,)*
        }

        impl FieldClass {
            /// Every class, in policy-file order.
            pub const ALL: &'static [FieldClass] = &[$(FieldClass::$variant,)*];

            /// The class's key in the policy's `[fields]` table.
            pub fn key(self) -> &'static str {
                match self { $(FieldClass::$variant => stringify!($key),)* }
            }

            /// The action when the policy does not name the class.
            pub fn default_action(self) -> Action {
                match self { $(FieldClass::$variant => $default,)* }
            }

            /// What `truncate:N` keeps of this class.
            pub fn truncation(self) -> Truncation {
                match self { $(FieldClass::$variant => $trunc,)* }
            }
        }

        /// The `[fields]` table as written.
        #[derive(Deserialize, Default)]
        #[serde(deny_unknown_fields)]
        struct RawFields {
            $($key: Option<Spanned<String>>,)*
        }

        impl RawFields {
            /// The classes the file names, with their action text.
            fn into_entries(self) -> Vec<(FieldClass, Spanned<String>)> {
                let mut entries = Vec::new();
                $(if let Some(value) = self.$key { entries.push((FieldClass::$variant, value)); })*
                entries
            }
        }
    };
}

field_classes! {
    Ip ip Action::Pseudonymise, Truncation::Bits(32), "IP addresses (IPv4, and IPv6 unless `ipv6` is set).";
    Ipv6 ipv6 Action::Pseudonymise, Truncation::Bits(128), "IPv6 addresses, when set apart from `ip`.";
    Mac mac Action::Pseudonymise, Truncation::Bits(48), "MAC addresses.";
    Hostname hostname Action::Pseudonymise, Truncation::Labels, "Host names (DHCP, mDNS, SSDP, inventory).";
    Username username Action::Pseudonymise, Truncation::Chars, "User names (FTP, Telnet, HTTP, MQTT).";
    Password password Action::Drop, Truncation::Never, "Passwords: can only be dropped.";
    MqttClientId mqtt_client_id Action::Pseudonymise, Truncation::Chars, "MQTT client identifiers.";
    MqttTopic mqtt_topic Action::Drop, Truncation::Chars, "MQTT topic names.";
    DnsQuery dns_query Action::Pseudonymise, Truncation::Labels, "DNS query names.";
    HttpHost http_host Action::Pseudonymise, Truncation::Labels, "HTTP Host headers.";
    HttpUri http_uri Action::Drop, Truncation::Chars, "HTTP request targets.";
    UserAgent user_agent Action::Drop, Truncation::Chars, "HTTP User-Agent headers.";
    TlsSni tls_sni Action::Pseudonymise, Truncation::Labels, "TLS server names (SNI).";
}

impl FieldClass {
    /// The class whose policy key is `key`.
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|class| class.key() == key)
    }

    /// Whether `action` is allowed for the class; the error says why not.
    ///
    /// # Errors
    ///
    /// A reason when a password would be kept or pseudonymised, or a truncation is not allowed
    /// or keeps more bits than the class has.
    pub fn check(self, action: Action) -> Result<(), &'static str> {
        match (self.truncation(), action) {
            (Truncation::Never, Action::Drop) => Ok(()),
            (Truncation::Never, _) => Err("this field can only be dropped"),
            (Truncation::Bits(max), Action::Truncate(n)) if n > max => {
                Err("truncate:N keeps more bits than the address has")
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for FieldClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// A validated policy.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    actions: BTreeMap<FieldClass, Action>,
    keep_networks: Vec<Network>,
    mac_keep_oui: bool,
}

/// The policy file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    #[serde(default)]
    keep_networks: Vec<Spanned<String>>,
    #[serde(default)]
    mac_keep_oui: bool,
    #[serde(default)]
    fields: RawFields,
}

impl Policy {
    /// Parses a policy file's text; `path` is only used in errors.
    ///
    /// # Errors
    ///
    /// [`Error::Policy`], with the line, when the text is not TOML, has an unknown key, names an
    /// unknown action, a malformed network, or an action the class does not allow.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self> {
        let fail = |span: Option<std::ops::Range<usize>>, message: String| Error::Policy {
            path: path.to_owned(),
            line: span.map(|span| line_of(text, span.start)),
            message,
        };
        let raw: RawPolicy =
            toml::from_str(text).map_err(|err| fail(err.span(), err.message().to_owned()))?;
        let mut policy = Policy {
            mac_keep_oui: raw.mac_keep_oui,
            ..Policy::default()
        };
        for network in raw.keep_networks {
            let parsed = network.get_ref().parse::<Network>();
            let parsed = parsed.map_err(|message| fail(Some(network.span()), message))?;
            policy.keep_networks.push(parsed);
        }
        for (class, value) in raw.fields.into_entries() {
            let action = Action::from_str(value.get_ref())
                .map_err(|message| fail(Some(value.span()), format!("{class}: {message}")))?;
            class.check(action).map_err(|reason| {
                fail(
                    Some(value.span()),
                    format!("{class} = \"{action}\": {reason}"),
                )
            })?;
            policy.actions.insert(class, action);
        }
        Ok(policy)
    }

    /// Reads and parses a policy file.
    ///
    /// # Errors
    ///
    /// [`Error::PolicyIo`] when it cannot be read, otherwise as [`Policy::from_toml`].
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|cause| Error::PolicyIo {
            path: path.to_owned(),
            cause,
        })?;
        Self::from_toml(&text, path)
    }

    /// The policy file at `path`, or the default policy when there is none.
    ///
    /// # Errors
    ///
    /// As [`Policy::read`].
    pub fn read_or_default(path: Option<&Path>) -> Result<Self> {
        path.map_or_else(|| Ok(Policy::default()), Policy::read)
    }

    /// The action for `class`: the file's, else `ip`'s for `ipv6`, else the class default.
    pub fn action(&self, class: FieldClass) -> Action {
        match (self.actions.get(&class), class) {
            (Some(action), _) => *action,
            (None, FieldClass::Ipv6) => self.action(FieldClass::Ip),
            (None, _) => class.default_action(),
        }
    }

    /// The networks whose addresses are shared unchanged.
    pub fn keep_networks(&self) -> &[Network] {
        &self.keep_networks
    }

    /// Whether MAC pseudonyms keep the first three octets (the vendor's OUI).
    pub fn mac_keep_oui(&self) -> bool {
        self.mac_keep_oui
    }

    /// The policy with `class` set to `action`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidValue`] when the class does not allow the action ([`FieldClass::check`]).
    pub fn with_action(mut self, class: FieldClass, action: Action) -> Result<Self> {
        class.check(action).map_err(|reason| Error::InvalidValue {
            kind: "policy action",
            value: format!("{class} = \"{action}\""),
            reason,
        })?;
        self.actions.insert(class, action);
        Ok(self)
    }

    /// The policy with `network` added to the kept networks.
    pub fn with_keep_network(mut self, network: Network) -> Self {
        self.keep_networks.push(network);
        self
    }

    /// The policy with MAC pseudonyms keeping (or not) the OUI.
    pub fn with_mac_keep_oui(mut self, keep: bool) -> Self {
        self.mac_keep_oui = keep;
        self
    }
}

/// The 1-based line holding byte `offset` of `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let before = text.get(..offset).unwrap_or(text);
    before.matches('\n').count() + 1
}
