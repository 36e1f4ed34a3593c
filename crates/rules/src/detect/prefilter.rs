//! The multi-pattern prefilter: one Aho-Corasick automaton per buffer over the rules' fast
//! patterns (the `fast_pattern` content, else the longest positive content), so that only
//! rules whose pattern occurs in a buffer are evaluated in full. Matching is ASCII
//! case-insensitive here; the full evaluation decides case.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// Patterns of one buffer and the rules behind each.
pub(crate) struct Prefilter {
    automaton: Option<AhoCorasick>,
    /// Per pattern: the rules using it.
    rules: Vec<Vec<u32>>,
    /// Scratch: whether a pattern was already reported for this buffer.
    seen: Vec<bool>,
    /// Length of the longest pattern.
    longest: usize,
}

impl Prefilter {
    /// Builds from `(pattern, rule)` pairs; `None` when the automaton cannot be built (its
    /// rules must then be evaluated without a prefilter).
    pub fn build(mut pairs: Vec<(Vec<u8>, u32)>) -> Option<Prefilter> {
        pairs.sort();
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut rules: Vec<Vec<u32>> = Vec::new();
        for (p, r) in pairs {
            let p = p.to_ascii_lowercase();
            match patterns.last() {
                Some(last) if *last == p => {
                    if let Some(l) = rules.last_mut() {
                        l.push(r);
                    }
                }
                _ => {
                    patterns.push(p);
                    rules.push(vec![r]);
                }
            }
        }
        let automaton = if patterns.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&patterns)
                    .ok()?,
            )
        };
        let seen = vec![false; rules.len()];
        let longest = patterns.iter().map(Vec::len).max().unwrap_or(0);
        Some(Prefilter {
            automaton,
            rules,
            seen,
            longest,
        })
    }

    /// A prefilter that finds nothing.
    pub fn empty() -> Prefilter {
        Prefilter {
            automaton: None,
            rules: Vec::new(),
            seen: Vec::new(),
            longest: 0,
        }
    }

    /// Length of the longest pattern.
    pub fn longest(&self) -> usize {
        self.longest
    }

    /// Adds the rules whose pattern occurs in `hay` to `out` (unsorted, may repeat).
    pub fn scan(&mut self, hay: &[u8], out: &mut Vec<u32>) {
        let Some(ac) = &self.automaton else {
            return;
        };
        let mut found = Vec::new();
        for m in ac.find_overlapping_iter(hay) {
            let i = m.pattern().as_usize();
            if let Some(s) = self.seen.get_mut(i) {
                if !*s {
                    *s = true;
                    found.push(i);
                }
            }
        }
        for i in found {
            if let Some(s) = self.seen.get_mut(i) {
                *s = false;
            }
            if let Some(r) = self.rules.get(i) {
                out.extend_from_slice(r);
            }
        }
    }
}
