//! Domain names: validating an indicator ([`normalise`]) and walking the suffixes of a name
//! seen in traffic ([`suffixes`]).
//!
//! An indicator `evil.com` names `evil.com` and every name below it (`a.b.evil.com`), never a
//! name that merely ends in the same letters (`notevil.com`): suffixes are taken at label
//! boundaries only. Names are compared in ASCII lowercase (RFC 4343) without the trailing dot
//! of a fully qualified name.

/// Longest name in presentation form without the trailing dot (RFC 1035 §2.3.4: 255 octets
/// on the wire).
pub(crate) const MAX_NAME: usize = 253;
/// Longest label (RFC 1035 §2.3.4).
const MAX_LABEL: usize = 63;

/// Why a text is not a domain name indicator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum DomainError {
    /// Longer than [`MAX_NAME`].
    #[error("domain name of {0} bytes is longer than {MAX_NAME}")]
    TooLong(usize),
    /// An empty label (`a..b`, a leading dot).
    #[error("{0:?} has an empty label")]
    EmptyLabel(String),
    /// A label longer than 63 bytes.
    #[error("{0:?} has a label longer than {MAX_LABEL} bytes")]
    LongLabel(String),
    /// A byte other than a letter, digit, `-` or `_`.
    #[error("{name:?} has {found:?}, not a letter, digit, '-' or '_' (write international names as xn-- labels)")]
    BadChar {
        /// The name.
        name: String,
        /// The first such character.
        found: char,
    },
    /// One label only: it would match every name under a top-level domain.
    #[error("{0:?} is a single label, not a domain name")]
    SingleLabel(String),
    /// The last label is all digits: no top-level domain is.
    #[error("{0:?} ends in a numeric label (not an address either)")]
    NumericTld(String),
}

/// `text` as a domain indicator: one trailing dot dropped, ASCII lowercase, at most 253 bytes
/// of at least two labels of 1 to 63 letters, digits, `-` or `_`, the last not all digits.
pub(crate) fn normalise(text: &str) -> Result<String, DomainError> {
    let name = text.strip_suffix('.').unwrap_or(text);
    if name.len() > MAX_NAME {
        return Err(DomainError::TooLong(name.len()));
    }
    if let Some(found) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_' || *c == '.'))
    {
        return Err(DomainError::BadChar {
            name: name.to_string(),
            found,
        });
    }
    let name = name.to_ascii_lowercase();
    let mut labels = 0usize;
    let mut last = "";
    for label in name.split('.') {
        if label.is_empty() {
            return Err(DomainError::EmptyLabel(name));
        }
        if label.len() > MAX_LABEL {
            return Err(DomainError::LongLabel(name));
        }
        labels += 1;
        last = label;
    }
    if labels < 2 {
        return Err(DomainError::SingleLabel(name));
    }
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainError::NumericTld(name));
    }
    Ok(name)
}

/// The lowercase form of a name seen in traffic, ready for [`suffixes`]: one trailing dot
/// dropped and, when longer than [`MAX_NAME`], cut at the first label boundary that leaves at
/// most [`MAX_NAME`] bytes (no indicator is longer, so nothing that could match is lost).
/// `None` when nothing is left.
pub(crate) fn prepare(name: &str) -> Option<String> {
    let name = name.strip_suffix('.').unwrap_or(name);
    let name = if name.len() > MAX_NAME {
        let from = name.len() - MAX_NAME;
        // The first dot at or after `from - 1`: the suffix after it is at most MAX_NAME bytes.
        let dot = name
            .bytes()
            .enumerate()
            .skip(from.saturating_sub(1))
            .find(|&(_, b)| b == b'.')?
            .0;
        name.get(dot + 1..)?
    } else {
        name
    };
    (!name.is_empty()).then(|| name.to_ascii_lowercase())
}

/// `name` and each suffix of it that starts after a dot, longest first: `a.b.c`, `b.c`, `c`.
/// At most [`MAX_NAME`] / 2 + 1 of them for a name from [`prepare`].
pub(crate) fn suffixes(name: &str) -> impl Iterator<Item = &str> {
    std::iter::once(name).chain(
        name.match_indices('.')
            .filter_map(move |(i, _)| name.get(i + 1..)),
    )
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn normalises_case_and_trailing_dot() {
        assert_eq!(normalise("WWW.Example.COM.").unwrap(), "www.example.com");
        assert_eq!(
            normalise("_dmarc.example.com").unwrap(),
            "_dmarc.example.com"
        );
    }

    #[test]
    fn rejects_what_is_not_a_name() {
        assert_eq!(
            normalise("com"),
            Err(DomainError::SingleLabel("com".into()))
        );
        assert_eq!(
            normalise("a..com"),
            Err(DomainError::EmptyLabel("a..com".into()))
        );
        assert_eq!(
            normalise(".com"),
            Err(DomainError::EmptyLabel(".com".into()))
        );
        assert_eq!(
            normalise("évil.com"),
            Err(DomainError::BadChar {
                name: "évil.com".into(),
                found: 'é'
            })
        );
        assert_eq!(
            normalise("evil.com:443"),
            Err(DomainError::BadChar {
                name: "evil.com:443".into(),
                found: ':'
            })
        );
        assert_eq!(
            normalise("a.123"),
            Err(DomainError::NumericTld("a.123".into()))
        );
        let long = format!("{}.com", "a".repeat(64));
        assert_eq!(normalise(&long), Err(DomainError::LongLabel(long.clone())));
        let huge = "a.".repeat(127) + "com";
        assert_eq!(normalise(&huge), Err(DomainError::TooLong(257)));
    }

    #[test]
    fn walks_suffixes_at_label_boundaries() {
        let s: Vec<&str> = suffixes("a.b.evil.com").collect();
        assert_eq!(s, ["a.b.evil.com", "b.evil.com", "evil.com", "com"]);
    }

    #[test]
    fn cuts_long_names_at_a_label_boundary() {
        let name = format!("{}.{}.evil.com.", "x".repeat(200), "y".repeat(60));
        let p = prepare(&name).unwrap();
        assert!(p.len() <= MAX_NAME);
        assert_eq!(p, format!("{}.evil.com", "y".repeat(60)));
        // Exactly MAX_NAME bytes is kept whole.
        let exact = format!("{}.com", "z".repeat(MAX_NAME - 4));
        assert_eq!(prepare(&exact).unwrap(), exact);
        // A long name without a dot in its tail has nothing left.
        assert_eq!(prepare(&"q".repeat(300)), None);
        assert_eq!(prepare("."), None);
    }
}
