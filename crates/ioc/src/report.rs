//! What loading said: per file ([`LoadReport`]) and for the whole set ([`IocStats`]).

use serde::Serialize;

use crate::IndicatorKind;

/// Most [`Unsupported`] entries one [`LoadReport`] lists; the rest are only counted
/// ([`LoadReport::unsupported_total`]), so a file of garbage cannot grow the report without
/// bound.
pub const MAX_REPORTED: usize = 1000;

/// Longest [`Unsupported::reason`] kept, in bytes: a reason quotes the value it refuses, and a
/// value can be a whole line of any length.
pub const MAX_REASON: usize = 256;

/// An entry of a file that was not loaded, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unsupported {
    /// Where: `file:line`, or `file:objects[i]` for a STIX object.
    pub source: String,
    /// Why, for a person to read (at most [`MAX_REASON`] bytes, then `…`).
    pub reason: String,
}

/// What one file gave.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LoadReport {
    /// Indicators added to the set.
    pub loaded: usize,
    /// Indicators already in the set (same kind and normalised value): the first one loaded
    /// is kept.
    pub duplicates: usize,
    /// STIX indicators skipped because they are `revoked`.
    pub revoked: usize,
    /// The first [`MAX_REPORTED`] entries that were not loaded.
    pub unsupported: Vec<Unsupported>,
    /// All entries that were not loaded.
    pub unsupported_total: usize,
}

impl LoadReport {
    /// Records one entry that was not loaded.
    pub(crate) fn unsupported(&mut self, source: String, mut reason: String) {
        self.unsupported_total += 1;
        if self.unsupported.len() < MAX_REPORTED {
            if reason.len() > MAX_REASON {
                let mut cut = MAX_REASON;
                while !reason.is_char_boundary(cut) {
                    cut -= 1;
                }
                reason.truncate(cut);
                reason.push('…');
            }
            self.unsupported.push(Unsupported { source, reason });
        }
    }
}

/// Indicators per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    /// Addresses and networks.
    pub ip: usize,
    /// Domain names.
    pub domain: usize,
    /// URLs.
    pub url: usize,
    /// JA3 hashes.
    pub ja3: usize,
    /// JA4 fingerprints.
    pub ja4: usize,
}

impl KindCounts {
    /// The count for `kind`.
    pub fn get(&self, kind: IndicatorKind) -> usize {
        match kind {
            IndicatorKind::Ip => self.ip,
            IndicatorKind::Domain => self.domain,
            IndicatorKind::Url => self.url,
            IndicatorKind::Ja3 => self.ja3,
            IndicatorKind::Ja4 => self.ja4,
        }
    }

    /// Adds one of `kind`.
    pub(crate) fn add(&mut self, kind: IndicatorKind) {
        let n = match kind {
            IndicatorKind::Ip => &mut self.ip,
            IndicatorKind::Domain => &mut self.domain,
            IndicatorKind::Url => &mut self.url,
            IndicatorKind::Ja3 => &mut self.ja3,
            IndicatorKind::Ja4 => &mut self.ja4,
        };
        *n += 1;
    }

    /// All kinds together.
    pub fn total(&self) -> usize {
        IndicatorKind::ALL.iter().map(|k| self.get(*k)).sum()
    }
}

/// Counts over every file loaded into an [`IocSet`](crate::IocSet), for `stats.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IocStats {
    /// Files (or texts) loaded without error.
    pub files: usize,
    /// Indicators in the set, per kind.
    pub loaded: KindCounts,
    /// Indicators not added because the set already had them.
    pub duplicates: usize,
    /// STIX indicators skipped as `revoked`.
    pub revoked: usize,
    /// Entries not loaded: STIX indicators whose pattern is outside the supported subset or
    /// whose `pattern_type` is not `stix`, values that are not indicators of their kind, lines
    /// that are no indicator.
    pub unsupported: usize,
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn cuts_long_reasons_at_a_character_boundary() {
        let mut r = LoadReport::default();
        r.unsupported("a:1".into(), "é".repeat(MAX_REASON));
        let reason = &r.unsupported[0].reason;
        assert_eq!(reason.len(), MAX_REASON + '…'.len_utf8());
        assert!(reason.ends_with("é…"));
        r.unsupported("a:2".into(), "short".into());
        assert_eq!(r.unsupported[1].reason, "short");
    }
}
