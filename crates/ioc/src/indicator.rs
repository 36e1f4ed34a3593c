//! [`Indicator`] and [`IndicatorKind`], and turning a written value into a normalised one:
//! by a given kind ([`Value::parse`]) or by guessing it from its shape ([`Value::guess`]).

use std::fmt;

use serde::Serialize;

use crate::domain::{self, DomainError};
use crate::fingerprint::{self, FingerprintError};
use crate::ip::{Prefix, PrefixError};
use crate::url::{self, UrlError};

/// What an indicator names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    /// An IPv4 or IPv6 address or CIDR network.
    Ip,
    /// A domain name and its subdomains.
    Domain,
    /// One URL (`scheme://host[:port]/path[?query]`).
    Url,
    /// A JA3 TLS client fingerprint: the MD5 of the JA3 string, 32 lowercase hex digits.
    Ja3,
    /// A JA4 TLS client fingerprint (`t13d1516h2_8daaf6152771_e5627efa2ab1`).
    Ja4,
}

impl IndicatorKind {
    /// Every kind, in the order of [`IocStats`](crate::IocStats).
    pub const ALL: [IndicatorKind; 5] = [
        IndicatorKind::Ip,
        IndicatorKind::Domain,
        IndicatorKind::Url,
        IndicatorKind::Ja3,
        IndicatorKind::Ja4,
    ];

    /// The kind's name: `ip`, `domain`, `url`, `ja3` or `ja4`.
    pub fn name(self) -> &'static str {
        match self {
            IndicatorKind::Ip => "ip",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Url => "url",
            IndicatorKind::Ja3 => "ja3",
            IndicatorKind::Ja4 => "ja4",
        }
    }

    /// The kind a CSV `type` column names, case-insensitively: `ip`, `ipv4`, `ipv6`, `cidr`,
    /// `ip-src`, `ip-dst` (MISP); `domain`, `hostname`, `fqdn`, `domain-name`; `url`, `uri`,
    /// `link`; `ja3`, `ja3-fingerprint-md5` (MISP); `ja4`. `None` for any other.
    pub fn from_type_name(name: &str) -> Option<IndicatorKind> {
        let kind = match name.trim().to_ascii_lowercase().as_str() {
            "ip" | "ipv4" | "ipv6" | "cidr" | "ip-src" | "ip-dst" | "ipv4-addr" | "ipv6-addr" => {
                IndicatorKind::Ip
            }
            "domain" | "hostname" | "fqdn" | "domain-name" => IndicatorKind::Domain,
            "url" | "uri" | "link" => IndicatorKind::Url,
            "ja3" | "ja3-fingerprint-md5" => IndicatorKind::Ja3,
            "ja4" => IndicatorKind::Ja4,
            _ => return None,
        };
        Some(kind)
    }
}

impl fmt::Display for IndicatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One indicator loaded from a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Indicator {
    /// What it names.
    pub kind: IndicatorKind,
    /// The value, normalised: an address as Rust writes it, a network as `address/len` with the
    /// host bits cleared; a domain in lowercase without a trailing dot; a URL as
    /// [`IocSet::match_url`](crate::IocSet::match_url) compares it; a JA3 in lowercase.
    pub value: String,
    /// The STIX indicator's id (`indicator--…`), when it came from a STIX bundle.
    pub id: Option<String>,
    /// The STIX indicator's `name`, or the CSV description column.
    pub name: Option<String>,
    /// Where it was read: `file:line` (STIX: `file:objects[i]`, the object's index in the
    /// bundle's `objects`, from 0).
    pub source: String,
}

/// A normalised indicator value of a known kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Value {
    /// An address or network.
    Ip(Prefix),
    /// A domain name, lowercase, no trailing dot.
    Domain(String),
    /// A URL in normalised form.
    Url(String),
    /// A JA3 hash, lowercase hex.
    Ja3(String),
    /// A JA4 fingerprint.
    Ja4(String),
}

/// Why a written value is not an indicator of the kind given or guessed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ValueError {
    /// Not an address or network.
    #[error(transparent)]
    Ip(#[from] PrefixError),
    /// Not a domain name.
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Not a URL.
    #[error(transparent)]
    Url(#[from] UrlError),
    /// Not a JA3 or JA4 fingerprint.
    #[error(transparent)]
    Fingerprint(#[from] FingerprintError),
    /// An empty value.
    #[error("empty indicator")]
    Empty,
    /// More than one word on a line of a plain list.
    #[error("{0:?} has more than one field (a plain list has one indicator per line)")]
    Fields(String),
    /// A comma on a line of a plain list.
    #[error("{0:?} has a comma: a CSV file needs a header line naming its indicator column")]
    Comma(String),
}

impl Value {
    /// `text` (trimmed) as an indicator of `kind`.
    pub(crate) fn parse(kind: IndicatorKind, text: &str) -> Result<Value, ValueError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ValueError::Empty);
        }
        Ok(match kind {
            IndicatorKind::Ip => Value::Ip(text.parse::<Prefix>()?),
            IndicatorKind::Domain => {
                // `*.evil.com` in a feed means the subdomains, which `evil.com` names too.
                let name = text.strip_prefix("*.").unwrap_or(text);
                Value::Domain(domain::normalise(name)?)
            }
            IndicatorKind::Url => Value::Url(url::normalise(text)?.into_string()),
            IndicatorKind::Ja3 => Value::Ja3(fingerprint::ja3(text)?),
            IndicatorKind::Ja4 => Value::Ja4(fingerprint::ja4(text)?),
        })
    }

    /// `text` (trimmed) as an indicator of the kind its shape says, tried in this order: a
    /// URL if it contains `://`; the JA4 shape, a JA4; 32 hex digits, a JA3; an address or
    /// network if it has a `/` or `:` or is made only of digits and dots (and an error if it
    /// then does not parse as one); otherwise a domain name.
    pub(crate) fn guess(text: &str) -> Result<Value, ValueError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ValueError::Empty);
        }
        if text.contains("://") {
            return Value::parse(IndicatorKind::Url, text);
        }
        if fingerprint::is_ja4(text) {
            return Value::parse(IndicatorKind::Ja4, text);
        }
        if fingerprint::is_ja3(text) {
            return Value::parse(IndicatorKind::Ja3, text);
        }
        let addressy =
            text.contains(['/', ':']) || text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
        if addressy {
            return Value::parse(IndicatorKind::Ip, text);
        }
        Value::parse(IndicatorKind::Domain, text)
    }

    /// A line of a plain list: one field, no comma, then [`Value::guess`].
    pub(crate) fn guess_line(text: &str) -> Result<Value, ValueError> {
        let text = text.trim();
        if text.contains(',') {
            return Err(ValueError::Comma(text.to_string()));
        }
        if text.contains(char::is_whitespace) {
            return Err(ValueError::Fields(text.to_string()));
        }
        Value::guess(text)
    }

    /// The kind.
    pub(crate) fn kind(&self) -> IndicatorKind {
        match self {
            Value::Ip(_) => IndicatorKind::Ip,
            Value::Domain(_) => IndicatorKind::Domain,
            Value::Url(_) => IndicatorKind::Url,
            Value::Ja3(_) => IndicatorKind::Ja3,
            Value::Ja4(_) => IndicatorKind::Ja4,
        }
    }

    /// The normalised text ([`Indicator::value`]).
    pub(crate) fn text(&self) -> String {
        match self {
            Value::Ip(p) => p.to_string(),
            Value::Domain(s) | Value::Url(s) | Value::Ja3(s) | Value::Ja4(s) => s.clone(),
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn guessed(text: &str) -> (IndicatorKind, String) {
        let v = Value::guess_line(text).unwrap();
        (v.kind(), v.text())
    }

    #[test]
    fn guesses_each_kind_from_its_shape() {
        assert_eq!(
            guessed("192.0.2.1"),
            (IndicatorKind::Ip, "192.0.2.1".into())
        );
        assert_eq!(
            guessed("2001:DB8::/32"),
            (IndicatorKind::Ip, "2001:db8::/32".into())
        );
        assert_eq!(
            guessed("E7D705A3286E19EA42F587B344EE6865"),
            (
                IndicatorKind::Ja3,
                "e7d705a3286e19ea42f587b344ee6865".into()
            )
        );
        // All digits, yet 32 of them: a JA3, not a bad address.
        assert_eq!(
            guessed("12345678901234567890123456789012"),
            (
                IndicatorKind::Ja3,
                "12345678901234567890123456789012".into()
            )
        );
        // A JA4 whose ALPN characters are ':' and '/' is still a JA4.
        assert_eq!(
            guessed("t13d1516:/_8daaf6152771_e5627efa2ab1"),
            (
                IndicatorKind::Ja4,
                "t13d1516:/_8daaf6152771_e5627efa2ab1".into()
            )
        );
        assert_eq!(
            guessed("t13d1516h2_8daaf6152771_e5627efa2ab1"),
            (
                IndicatorKind::Ja4,
                "t13d1516h2_8daaf6152771_e5627efa2ab1".into()
            )
        );
        assert_eq!(
            guessed("HTTP://Evil.COM:80/a?b"),
            (IndicatorKind::Url, "http://evil.com/a?b".into())
        );
        assert_eq!(
            guessed("Evil.COM."),
            (IndicatorKind::Domain, "evil.com".into())
        );
        assert_eq!(
            guessed("*.evil.com"),
            (IndicatorKind::Domain, "evil.com".into())
        );
    }

    #[test]
    fn rejects_address_lookalikes_as_addresses() {
        assert_eq!(
            Value::guess("300.1.2.3"),
            Err(ValueError::Ip(PrefixError::NotAddress("300.1.2.3".into())))
        );
        assert_eq!(
            Value::guess("10.0.0.0/33"),
            Err(ValueError::Ip(PrefixError::TooLong { len: 33, max: 32 }))
        );
    }

    #[test]
    fn rejects_csv_and_several_words_on_a_plain_line() {
        assert_eq!(
            Value::guess_line("192.0.2.1,scanner"),
            Err(ValueError::Comma("192.0.2.1,scanner".into()))
        );
        assert_eq!(
            Value::guess_line("192.0.2.1 scanner"),
            Err(ValueError::Fields("192.0.2.1 scanner".into()))
        );
    }

    #[test]
    fn reads_csv_type_names() {
        assert_eq!(
            IndicatorKind::from_type_name(" IP-DST "),
            Some(IndicatorKind::Ip)
        );
        assert_eq!(
            IndicatorKind::from_type_name("ja3-fingerprint-md5"),
            Some(IndicatorKind::Ja3)
        );
        assert_eq!(IndicatorKind::from_type_name("sha256"), None);
    }
}
