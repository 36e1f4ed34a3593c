//! Publicly known default credentials of IoT devices, for telling a login with a factory
//! password from any other.
//!
//! The built-in list (`data/default-credentials.txt`) is the table the Mirai scanner tried over
//! telnet; users add their own with [`DefaultCredentials::parse`]. Parsers check a typed
//! password against the list while they hold it and keep only the verdict: a password that is
//! not on the list is never stored or written anywhere.

use std::sync::{Arc, OnceLock};

const BUILTIN: &str = include_str!("../data/default-credentials.txt");

/// A list of `(user, password)` pairs known to be factory defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DefaultCredentials {
    pairs: Vec<(String, String)>,
}

/// A line of a credential list that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("credential list line {line}: expected \"user password\", found {found:?}")]
pub struct CredentialListError {
    /// 1-based line number.
    pub line: usize,
    /// The line's text (bounded).
    pub found: String,
}

impl DefaultCredentials {
    /// The built-in list (Mirai's 60 distinct pairs), shared.
    pub fn builtin() -> Arc<DefaultCredentials> {
        static LIST: OnceLock<Arc<DefaultCredentials>> = OnceLock::new();
        LIST.get_or_init(|| {
            // The built-in text is checked by a unit test; a failure here cannot happen.
            Arc::new(DefaultCredentials::parse(BUILTIN).unwrap_or_default())
        })
        .clone()
    }

    /// Reads a list: one `user password` pair per line, `(none)` for an empty password,
    /// blank lines and `#` comments ignored.
    ///
    /// # Errors
    /// A line without exactly two fields.
    pub fn parse(text: &str) -> Result<DefaultCredentials, CredentialListError> {
        let mut pairs = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut fields = line.split_whitespace();
            match (fields.next(), fields.next(), fields.next()) {
                (Some(user), Some(pass), None) => {
                    let pass = if pass == "(none)" { "" } else { pass };
                    pairs.push((user.to_string(), pass.to_string()));
                }
                _ => {
                    return Err(CredentialListError {
                        line: i + 1,
                        found: line.chars().take(80).collect(),
                    })
                }
            }
        }
        pairs.sort();
        pairs.dedup();
        Ok(DefaultCredentials { pairs })
    }

    /// Adds the pairs of `other`.
    pub fn extend(&mut self, other: &DefaultCredentials) {
        self.pairs.extend(other.pairs.iter().cloned());
        self.pairs.sort();
        self.pairs.dedup();
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True when the list is empty.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// True when `(user, password)` is on the list (user compared exactly, as devices do).
    pub fn contains(&self, user: &str, password: &[u8]) -> bool {
        self.pairs
            .binary_search_by(|(u, p)| (u.as_str(), p.as_bytes()).cmp(&(user, password)))
            .is_ok()
    }

    /// True when `user` appears on the list with any password.
    pub fn has_user(&self, user: &str) -> bool {
        self.pairs.iter().any(|(u, _)| u == user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_list_parses_completely() {
        let parsed = DefaultCredentials::parse(BUILTIN).unwrap();
        assert_eq!(parsed.len(), 60);
        assert_eq!(DefaultCredentials::builtin().len(), 60);
    }

    #[test]
    fn lookups() {
        let list = DefaultCredentials::builtin();
        assert!(list.contains("root", b"xc3511"));
        assert!(list.contains("admin", b""));
        assert!(!list.contains("root", b"xc351"));
        assert!(!list.contains("Root", b"xc3511"));
        assert!(list.has_user("ubnt"));
    }

    #[test]
    fn bad_line_is_reported_with_its_number() {
        let err = DefaultCredentials::parse("# c\nroot x\nonlyone\n").unwrap_err();
        assert_eq!(err.line, 3);
    }
}
