//! STIX 2.1 patterns (STIX 2.1 Part 5, §9 "STIX Patterning"), the subset that names
//! indicators custos can match.
//!
//! The reference parser is the Python `stix2-patterns`, generated from the ANTLR grammar. The
//! Rust crates that parse STIX patterns (`stix2`, `stixflayer`, at 0.1 when this was written)
//! are young, come with a whole STIX object model, and have no track record to lean on for
//! hostile input; the subset needed here is small, so this is a hand-written tokenizer and
//! recursive-descent parser, fuzzed (`fuzz/fuzz_targets/ioc_load.rs`). It accepts:
//!
//! ```text
//! pattern     = observation *( "OR" observation )
//! observation = "[" comparisons "]" / "(" pattern ")"
//! comparisons = comparison *( "OR" comparison )
//! comparison  = object-path ( "=" / "==" ) string / "(" comparisons ")"
//! ```
//!
//! with the object paths `ipv4-addr:value`, `ipv6-addr:value`, `domain-name:value`,
//! `url:value`, and the two custos itself writes in `custos share` bundles,
//! `network-traffic:extensions.'x-custos-tls'.ja3` and `….ja4`. Keywords are
//! case-insensitive, as in the grammar. A string honours the two escapes of §9.3, `\'` and
//! `\\`; any other backslash is an error.
//!
//! Anything else is [`PatternError::Unsupported`]: `AND` (within or between observations),
//! `FOLLOWEDBY`, `NOT`, `EXISTS`, operators other than `=` (`!=`, `<`, `LIKE`, `MATCHES`,
//! `IN`, `ISSUBSET`, `ISSUPERSET`…), literals other than strings, other object paths, and the
//! qualifiers `WITHIN`, `REPEATS`, `START … STOP`. A pattern either yields all its
//! comparisons or none: the caller never loads part of one.

use std::fmt;

/// Deepest nesting of parentheses and brackets accepted.
pub(crate) const MAX_DEPTH: usize = 32;

/// An object path the subset supports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ObjectPath {
    /// `ipv4-addr:value`.
    Ipv4,
    /// `ipv6-addr:value`.
    Ipv6,
    /// `domain-name:value`.
    Domain,
    /// `url:value`.
    Url,
    /// `network-traffic:extensions.'x-custos-tls'.ja3`.
    Ja3,
    /// `network-traffic:extensions.'x-custos-tls'.ja4`.
    Ja4,
}

impl ObjectPath {
    /// The path as written in a pattern.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ObjectPath::Ipv4 => "ipv4-addr:value",
            ObjectPath::Ipv6 => "ipv6-addr:value",
            ObjectPath::Domain => "domain-name:value",
            ObjectPath::Url => "url:value",
            ObjectPath::Ja3 => "network-traffic:extensions.'x-custos-tls'.ja3",
            ObjectPath::Ja4 => "network-traffic:extensions.'x-custos-tls'.ja4",
        }
    }

    fn from_text(text: &str) -> Option<ObjectPath> {
        [
            ObjectPath::Ipv4,
            ObjectPath::Ipv6,
            ObjectPath::Domain,
            ObjectPath::Url,
            ObjectPath::Ja3,
            ObjectPath::Ja4,
        ]
        .into_iter()
        .find(|p| p.as_str() == text)
    }
}

impl fmt::Display for ObjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `path = 'value'`, the string unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Comparison {
    /// The object path.
    pub(crate) path: ObjectPath,
    /// The string compared with.
    pub(crate) value: String,
}

/// Why a pattern yields no indicators.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PatternError {
    /// Valid STIX patterning, outside the supported subset.
    #[error("{what} is not supported (pattern byte {offset})")]
    Unsupported {
        /// What was found.
        what: String,
        /// Byte offset in the pattern.
        offset: usize,
    },
    /// Not a STIX pattern.
    #[error("invalid pattern at byte {offset}: {message}")]
    Syntax {
        /// Byte offset in the pattern.
        offset: usize,
        /// What was expected or found.
        message: &'static str,
    },
    /// Parentheses or brackets nested deeper than [`MAX_DEPTH`].
    #[error("pattern nests deeper than {MAX_DEPTH}")]
    TooDeep,
}

/// One token.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok<'a> {
    /// `[`.
    Open,
    /// `]`.
    Close,
    /// `(`.
    LParen,
    /// `)`.
    RParen,
    /// `,` (in a set literal, `('a', 'b')`).
    Comma,
    /// `=`, `!=`, `<`, `<=`, `>`, `>=`.
    Op(&'a str),
    /// A keyword or other bare word (`OR`, `AND`, `true`…).
    Word(&'a str),
    /// An object path, as written.
    Path(&'a str),
    /// A string literal, unescaped.
    Str(String),
    /// Another literal: a number, `t'…'`, `h'…'`, `b'…'`.
    Literal,
}

/// Splits a pattern into tokens with their byte offsets.
fn tokens(text: &str) -> Result<Vec<(usize, Tok<'_>)>, PatternError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let syntax = |offset, message| PatternError::Syntax { offset, message };
    while let Some(&c) = b.get(i) {
        let start = i;
        let tok = match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'[' => {
                i += 1;
                Tok::Open
            }
            b']' => {
                i += 1;
                Tok::Close
            }
            b'(' => {
                i += 1;
                Tok::LParen
            }
            b')' => {
                i += 1;
                Tok::RParen
            }
            b',' => {
                i += 1;
                Tok::Comma
            }
            b'=' | b'!' | b'<' | b'>' => {
                let two = b.get(i + 1) == Some(&b'=');
                if c == b'!' && !two {
                    return Err(syntax(i, "'!' without '='"));
                }
                i += if two { 2 } else { 1 };
                Tok::Op(text.get(start..i).unwrap_or("?"))
            }
            b'\'' => {
                let (value, end) = string(text, i)?;
                i = end;
                Tok::Str(value)
            }
            b'0'..=b'9' | b'-' | b'+' => {
                i += 1;
                while b
                    .get(i)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'+' | b'-'))
                {
                    i += 1;
                }
                Tok::Literal
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while b.get(i).is_some_and(|&c| is_word(c)) {
                    i += 1;
                }
                match b.get(i) {
                    Some(b':') => {
                        i = path_end(text, i + 1)?;
                        Tok::Path(text.get(start..i).unwrap_or_default())
                    }
                    Some(b'\'') if i == start + 1 && matches!(c, b't' | b'h' | b'b') => {
                        let (_, end) = string(text, i)?;
                        i = end;
                        Tok::Literal
                    }
                    _ => Tok::Word(text.get(start..i).unwrap_or_default()),
                }
            }
            _ => return Err(syntax(i, "unexpected character")),
        };
        out.push((start, tok));
    }
    Ok(out)
}

/// A letter, digit, `_` or `-`: a character of a word or a property name.
fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

/// The string literal whose opening quote is at `at`: its value and the offset after its
/// closing quote.
fn string(text: &str, at: usize) -> Result<(String, usize), PatternError> {
    let mut value = String::new();
    let mut chars = text.get(at + 1..).unwrap_or_default().char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' => return Ok((value, at + 1 + i + 1)),
            '\\' => match chars.next() {
                Some((_, e @ ('\'' | '\\'))) => value.push(e),
                _ => {
                    return Err(PatternError::Syntax {
                        offset: at + 1 + i,
                        message: "a backslash not before ' or \\",
                    })
                }
            },
            c => value.push(c),
        }
    }
    Err(PatternError::Syntax {
        offset: at,
        message: "string not closed",
    })
}

/// The offset after an object path's property part, starting at `at` (after the `:`):
/// names and quoted names separated by dots, each maybe followed by `[n]` or `[*]`.
fn path_end(text: &str, mut at: usize) -> Result<usize, PatternError> {
    let b = text.as_bytes();
    loop {
        match b.get(at) {
            Some(b'\'') => at = string(text, at)?.1,
            Some(&c) if is_word(c) => {
                while b.get(at).is_some_and(|&c| is_word(c)) {
                    at += 1;
                }
            }
            _ => {
                return Err(PatternError::Syntax {
                    offset: at,
                    message: "expected a property name",
                })
            }
        }
        // A list index: `[` digits or `*` `]`.
        if b.get(at) == Some(&b'[') {
            let len = b
                .get(at + 1..)
                .unwrap_or_default()
                .iter()
                .take_while(|c| c.is_ascii_digit() || **c == b'*')
                .count();
            if len > 0 && b.get(at + 1 + len) == Some(&b']') {
                at += len + 2;
            }
        }
        if b.get(at) == Some(&b'.') {
            at += 1;
        } else {
            return Ok(at);
        }
    }
}

/// Parses `pattern` into its comparisons, or says why it cannot be used.
pub(crate) fn parse(pattern: &str) -> Result<Vec<Comparison>, PatternError> {
    let toks = tokens(pattern)?;
    let mut p = Parser {
        toks: &toks,
        at: 0,
        end: pattern.len(),
        out: Vec::new(),
    };
    p.observations(0)?;
    if let Some((offset, _)) = toks.get(p.at) {
        return Err(PatternError::Syntax {
            offset: *offset,
            message: "text after the pattern",
        });
    }
    Ok(p.out)
}

/// The recursive-descent parser over the tokens.
struct Parser<'t, 'a> {
    toks: &'t [(usize, Tok<'a>)],
    at: usize,
    /// The pattern's length: the offset reported at its end.
    end: usize,
    out: Vec<Comparison>,
}

impl<'a> Parser<'_, 'a> {
    fn peek(&self) -> Option<&Tok<'a>> {
        self.toks.get(self.at).map(|(_, t)| t)
    }

    fn offset(&self) -> usize {
        self.toks.get(self.at).map_or(self.end, |(o, _)| *o)
    }

    fn bump(&mut self) -> Option<&Tok<'a>> {
        let t = self.toks.get(self.at).map(|(_, t)| t);
        self.at += 1;
        t
    }

    fn syntax(&self, message: &'static str) -> PatternError {
        PatternError::Syntax {
            offset: self.offset(),
            message,
        }
    }

    fn unsupported(&self, what: impl Into<String>) -> PatternError {
        PatternError::Unsupported {
            what: what.into(),
            offset: self.offset(),
        }
    }

    /// True (and consumed) when the next token is the keyword `kw`.
    fn keyword(&mut self, kw: &str) -> bool {
        let yes = matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw));
        if yes {
            self.at += 1;
        }
        yes
    }

    /// A word that joins or qualifies expressions and that the subset does not support.
    fn refused_word(&self) -> Option<String> {
        const REFUSED: [&str; 7] = [
            "AND",
            "FOLLOWEDBY",
            "WITHIN",
            "REPEATS",
            "START",
            "STOP",
            "NOT",
        ];
        match self.peek() {
            Some(Tok::Word(w)) => REFUSED
                .iter()
                .find(|r| w.eq_ignore_ascii_case(r))
                .map(|r| (*r).to_string()),
            _ => None,
        }
    }

    /// `observation *( OR observation )`.
    fn observations(&mut self, depth: usize) -> Result<(), PatternError> {
        loop {
            self.observation(depth)?;
            if let Some(word) = self.refused_word() {
                return Err(self.unsupported(word));
            }
            if !self.keyword("OR") {
                return Ok(());
            }
        }
    }

    /// `[ comparisons ]` or `( observations )`.
    fn observation(&mut self, depth: usize) -> Result<(), PatternError> {
        if depth >= MAX_DEPTH {
            return Err(PatternError::TooDeep);
        }
        match self.peek() {
            Some(Tok::Open) => {
                self.at += 1;
                self.comparisons(depth + 1)?;
                match self.bump() {
                    Some(Tok::Close) => Ok(()),
                    _ => Err(self.syntax("expected ']'")),
                }
            }
            Some(Tok::LParen) => {
                self.at += 1;
                self.observations(depth + 1)?;
                match self.bump() {
                    Some(Tok::RParen) => Ok(()),
                    _ => Err(self.syntax("expected ')'")),
                }
            }
            _ => Err(self.syntax("expected '[' or '('")),
        }
    }

    /// `comparison *( OR comparison )`.
    fn comparisons(&mut self, depth: usize) -> Result<(), PatternError> {
        loop {
            self.comparison(depth)?;
            if let Some(word) = self.refused_word() {
                return Err(self.unsupported(word));
            }
            if !self.keyword("OR") {
                return Ok(());
            }
        }
    }

    /// `path = 'string'` or `( comparisons )`.
    fn comparison(&mut self, depth: usize) -> Result<(), PatternError> {
        if depth >= MAX_DEPTH {
            return Err(PatternError::TooDeep);
        }
        let path = match self.peek() {
            Some(Tok::LParen) => {
                self.at += 1;
                self.comparisons(depth + 1)?;
                return match self.bump() {
                    Some(Tok::RParen) => Ok(()),
                    _ => Err(self.syntax("expected ')'")),
                };
            }
            Some(Tok::Path(text)) => match ObjectPath::from_text(text) {
                Some(p) => p,
                None => return Err(self.unsupported(format!("object path {text}"))),
            },
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("EXISTS") => {
                return Err(self.unsupported("EXISTS"))
            }
            _ => return Err(self.syntax("expected an object path")),
        };
        self.at += 1;
        match self.peek() {
            Some(Tok::Op("=" | "==")) => self.at += 1,
            Some(Tok::Op(op)) => return Err(self.unsupported(format!("operator {op}"))),
            Some(Tok::Word(w)) => return Err(self.unsupported(format!("operator {w}"))),
            _ => return Err(self.syntax("expected an operator")),
        }
        match self.peek() {
            Some(Tok::Str(s)) => {
                let value = s.clone();
                self.at += 1;
                self.out.push(Comparison { path, value });
                Ok(())
            }
            Some(Tok::Literal | Tok::Word(_)) => {
                Err(self.unsupported("a literal other than a string"))
            }
            _ => Err(self.syntax("expected a string")),
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn values(pattern: &str) -> Vec<(ObjectPath, String)> {
        parse(pattern)
            .unwrap()
            .into_iter()
            .map(|c| (c.path, c.value))
            .collect()
    }

    fn refused(pattern: &str) -> String {
        match parse(pattern) {
            Err(PatternError::Unsupported { what, .. }) => what,
            other => panic!("{pattern}: {other:?}"),
        }
    }

    #[test]
    fn reads_one_comparison() {
        assert_eq!(
            values("[ipv4-addr:value = '198.51.100.1']"),
            [(ObjectPath::Ipv4, "198.51.100.1".to_string())]
        );
        // The grammar's EQ is '=' or '=='.
        assert_eq!(
            values("[ipv4-addr:value=='198.51.100.1']"),
            [(ObjectPath::Ipv4, "198.51.100.1".to_string())]
        );
    }

    #[test]
    fn reads_or_within_and_between_observations() {
        assert_eq!(
            values(
                "[domain-name:value = 'a.example' or url:value='http://b.example/'] OR \
                 ([ipv6-addr:value = '2001:db8::/32'] OR [(domain-name:value = 'c.example')])"
            ),
            [
                (ObjectPath::Domain, "a.example".to_string()),
                (ObjectPath::Url, "http://b.example/".to_string()),
                (ObjectPath::Ipv6, "2001:db8::/32".to_string()),
                (ObjectPath::Domain, "c.example".to_string()),
            ]
        );
    }

    #[test]
    fn reads_custos_share_fingerprint_paths() {
        assert_eq!(
            values("[network-traffic:extensions.'x-custos-tls'.ja3 = 'e7d705a3286e19ea42f587b344ee6865']"),
            [(ObjectPath::Ja3, "e7d705a3286e19ea42f587b344ee6865".to_string())]
        );
    }

    #[test]
    fn honours_string_escapes() {
        assert_eq!(
            values(r"[url:value = 'http://e.example/it\'s\\x']"),
            [(ObjectPath::Url, r"http://e.example/it's\x".to_string())]
        );
        assert_eq!(
            parse(r"[url:value = 'a\nb']"),
            Err(PatternError::Syntax {
                offset: 15,
                message: "a backslash not before ' or \\"
            })
        );
    }

    #[test]
    fn refuses_what_the_subset_cannot_express() {
        assert_eq!(
            refused("[ipv4-addr:value = '1.2.3.4' AND domain-name:value = 'x.example']"),
            "AND"
        );
        assert_eq!(
            refused("[ipv4-addr:value = '1.2.3.4'] and [domain-name:value = 'x.example']"),
            "AND"
        );
        assert_eq!(
            refused("[ipv4-addr:value = '1.2.3.4'] FOLLOWEDBY [ipv4-addr:value = '1.2.3.5']"),
            "FOLLOWEDBY"
        );
        assert_eq!(
            refused("[ipv4-addr:value = '1.2.3.4'] WITHIN 300 SECONDS"),
            "WITHIN"
        );
        assert_eq!(
            refused("[ipv4-addr:value = '1.2.3.4'] REPEATS 5 TIMES"),
            "REPEATS"
        );
        assert_eq!(
            refused("[ipv4-addr:value = '1.2.3.4'] START t'2016-06-01T00:00:00Z' STOP t'2016-07-01T00:00:00Z'"),
            "START"
        );
        assert_eq!(
            refused("[file:hashes.'SHA-256' = 'aa']"),
            "object path file:hashes.'SHA-256'"
        );
        assert_eq!(
            refused("[domain-name:value MATCHES '^evil']"),
            "operator MATCHES"
        );
        assert_eq!(
            refused("[domain-name:value != 'evil.example']"),
            "operator !="
        );
        assert_eq!(
            refused("[domain-name:value NOT = 'evil.example']"),
            "operator NOT"
        );
        assert_eq!(
            refused("[ipv4-addr:value IN ('1.2.3.4', '1.2.3.5')]"),
            "operator IN"
        );
        assert_eq!(
            refused("[url:value = t'2016-06-01T00:00:00Z']"),
            "a literal other than a string"
        );
        assert_eq!(refused("[EXISTS url:value]"), "EXISTS");
    }

    #[test]
    fn rejects_broken_patterns() {
        for p in [
            "",
            "[",
            "[url:value = 'x'",
            "[url:value = 'x']]",
            "url:value = 'x'",
            "[url:value = 'x",
            "[url: = 'x']",
            "[url:value = ]",
            "[url:value = 'x'] OR",
            "[url:value 'x']",
            "[url:value = 'x'] # comment",
        ] {
            assert!(
                matches!(parse(p), Err(PatternError::Syntax { .. })),
                "{p:?}: {:?}",
                parse(p)
            );
        }
    }

    #[test]
    fn bounds_nesting() {
        let deep = format!("{}[url:value = 'x']{}", "(".repeat(40), ")".repeat(40));
        assert_eq!(parse(&deep), Err(PatternError::TooDeep));
        let ok = format!("{}[url:value = 'x']{}", "(".repeat(20), ")".repeat(20));
        assert_eq!(parse(&ok).unwrap().len(), 1);
    }
}
