//! The rule language: files into [`Rule`]s.
//!
//! A rule is `action proto src sport dir dst dport (options)`, on one line or continued with
//! a trailing `\`. Options end at an unescaped `;`. A rule with a syntax error is reported
//! with its file and line ([`RuleError`]); a well-formed rule using something custos cannot
//! honour exactly is skipped ([`Skipped`], naming the keyword) — never loaded half.

mod buffers;
mod byte_opts;
mod header;
mod keyword_opts;
mod modbus;
mod options;
mod packet_opts;
mod pcre;
mod requires;
mod transforms;
mod values;
mod vars;

pub(crate) use buffers::MAX_VARS;
pub use requires::COMPAT_VERSION;
pub use vars::{Vars, VarsError};

use crate::ast::{Location, Rule};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A syntax error in a rule file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {message}")]
pub struct RuleError {
    /// Where.
    pub location: Location,
    /// What.
    pub message: String,
}

/// A rule skipped because custos cannot honour it exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// Where.
    pub location: Location,
    /// Its `sid`, when it was read before the rule stopped.
    pub sid: Option<u64>,
    /// The keyword (or protocol) that stopped it.
    pub keyword: String,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for Skipped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}: rule skipped (keyword `{}`): {}",
            self.location, self.keyword, self.reason
        )
    }
}

/// What happened to one rule's text.
pub(crate) enum Outcome {
    /// Loaded.
    Rule(Box<Rule>),
    /// Well-formed but unsupported.
    Skipped(Skipped),
}

/// What loading rule files gave: rules, syntax errors, skipped rules.
#[derive(Debug, Default)]
pub struct LoadReport {
    /// Rules loaded.
    pub rules: Vec<Rule>,
    /// Syntax errors (the rule is not loaded).
    pub errors: Vec<RuleError>,
    /// Rules skipped as unsupported.
    pub skipped: Vec<Skipped>,
    /// Rules dropped because another rule has the same `gid:sid`: as Suricata, the one with
    /// the highest `rev` is kept, the first of equal ones (across every file loaded into
    /// the report).
    pub duplicates: Vec<Location>,
}

impl LoadReport {
    /// Skipped rules counted by keyword (for `stats.json`).
    pub fn skipped_by_keyword(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for s in &self.skipped {
            *m.entry(s.keyword.clone()).or_insert(0) += 1;
        }
        m
    }
}

/// Parses the text of one rule file named `file`, adding to `report`.
pub fn parse_file(text: &str, file: &str, vars: &Vars, report: &mut LoadReport) {
    let file: Arc<str> = Arc::from(file);
    for (line, rule_text) in logical_lines(text) {
        let location = Location {
            file: file.clone(),
            line,
        };
        match parse_rule(&rule_text, location.clone(), vars) {
            Ok(Outcome::Rule(rule)) => report.rules.push(*rule),
            Ok(Outcome::Skipped(s)) => report.skipped.push(s),
            Err(message) => report.errors.push(RuleError { location, message }),
        }
    }
    drop_duplicates(report);
}

/// Keeps one rule per `gid:sid` (the highest `rev`, the first of equal ones); the others'
/// locations go to `report.duplicates`, in load order.
fn drop_duplicates(report: &mut LoadReport) {
    let mut kept: std::collections::HashMap<(u32, u64), (usize, u32)> =
        std::collections::HashMap::with_capacity(report.rules.len());
    let mut dropped = vec![false; report.rules.len()];
    for (i, r) in report.rules.iter().enumerate() {
        let loser = match kept.entry((r.gid, r.sid)) {
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert((i, r.rev));
                continue;
            }
            std::collections::hash_map::Entry::Occupied(mut e) => {
                let (j, rev) = *e.get();
                if r.rev > rev {
                    e.insert((i, r.rev));
                    j
                } else {
                    i
                }
            }
        };
        if let Some(d) = dropped.get_mut(loser) {
            *d = true;
        }
    }
    if !dropped.contains(&true) {
        return;
    }
    let mut i = 0;
    let duplicates = &mut report.duplicates;
    report.rules.retain(|r| {
        let drop = dropped.get(i).copied().unwrap_or(false);
        if drop {
            duplicates.push(r.location.clone());
        }
        i += 1;
        !drop
    });
}

/// Parses one rule's text (one logical line).
///
/// # Errors
/// The syntax error, as a message (the caller adds the location).
pub(crate) fn parse_rule(text: &str, location: Location, vars: &Vars) -> Result<Outcome, String> {
    let open = text
        .find('(')
        .ok_or_else(|| "no option list: expected `(` after the header".to_string())?;
    let close = text
        .rfind(')')
        .filter(|&c| c > open)
        .ok_or_else(|| "option list not closed with `)`".to_string())?;
    let after = text.get(close + 1..).unwrap_or("").trim();
    if !after.is_empty() {
        return Err(format!("text after the option list: `{}`", clip(after)));
    }
    let head = text.get(..open).unwrap_or("");
    let body = text.get(open + 1..close).unwrap_or("");
    let header = header::parse(head, vars)?;
    options::parse(header, body, location)
}

/// Joins continued lines (`\` at the end), drops comments and blank lines; yields each
/// rule's text with the number of its first line.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    // A comment ending with `\` goes on over the next line (a commented-out multi-line rule).
    let mut in_comment = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let line = if i == 0 {
            line.strip_prefix('\u{feff}').unwrap_or(line)
        } else {
            line
        };
        if in_comment {
            in_comment = line.trim_end().ends_with('\\');
            continue;
        }
        let (start, mut acc) = match current.take() {
            Some(c) => c,
            None => {
                let t = line.trim();
                if t.starts_with('#') {
                    in_comment = t.ends_with('\\');
                    continue;
                }
                if t.is_empty() {
                    continue;
                }
                (i + 1, String::new())
            }
        };
        let trimmed = line.trim_end();
        if let Some(cont) = trimmed.strip_suffix('\\') {
            acc.push_str(cont);
            current = Some((start, acc));
        } else {
            acc.push_str(line);
            out.push((start, acc));
        }
    }
    if let Some(c) = current {
        out.push(c);
    }
    out
}

/// The start of a long text, for messages.
pub(crate) fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if s.chars().count() > 60 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continued_lines_join_and_comments_drop() {
        let text = "# c\n\nalert ip any any -> any any (msg:\"a\"; \\\n sid:1;)\r\n  # x\n";
        let l = logical_lines(text);
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].0, 3);
        assert!(l[0].1.contains("sid:1"));
    }

    #[test]
    fn a_commented_out_continued_rule_stays_commented() {
        let text = "#alert ip any any -> any any (msg:\"a\"; \\\n  sid:1;)\n\
                    # two \\\n# lines \\ \n  x\n\
                    alert ip any any -> any any (sid:2;)\n";
        let l = logical_lines(text);
        assert_eq!(l.len(), 1, "{l:?}");
        assert_eq!(l[0].0, 6);
    }
}
