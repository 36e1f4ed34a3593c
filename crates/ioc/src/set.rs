//! [`IocSet`]: the loaded indicators and their lookups.

use std::collections::hash_map::{Entry, HashMap};
use std::net::IpAddr;
use std::path::Path;

use crate::indicator::Value;
use crate::ip::PrefixTable;
use crate::load::{self, Item};
use crate::{domain, fingerprint, url};
use crate::{Indicator, IndicatorKind, IocError, IocStats, LoadReport, Observable};

/// Indicators loaded from any number of files, each (kind, normalised value) once, with a
/// lookup per kind. Lookups take `&self` and allocate at most one normalised copy of their
/// input, so one set can serve many threads behind an `Arc`.
#[derive(Debug, Clone, Default)]
pub struct IocSet {
    indicators: Vec<Indicator>,
    ips: PrefixTable,
    domains: HashMap<Box<str>, usize>,
    urls: HashMap<Box<str>, usize>,
    ja3: HashMap<Box<str>, usize>,
    ja4: HashMap<Box<str>, usize>,
    stats: IocStats,
}

impl IocSet {
    /// An empty set.
    pub fn new() -> Self {
        IocSet::default()
    }

    /// Loads the file at `path`, detecting its format: a STIX 2.1 bundle (JSON whose top
    /// level is `{"type": "bundle", …}`; chosen when the text starts with `{` or the name ends
    /// in `.json`), CSV (the first line that is not blank or a `#` comment is a header naming
    /// a column `indicator`, `ioc` or `value`, and maybe `type` and `description`, `name` or
    /// `comment`), or a plain list (one indicator per line, `#` comments and blank lines
    /// skipped, the kind guessed: address or CIDR network, 32 hex digits a JA3, the JA4 shape a
    /// JA4, `://` a URL, otherwise a domain name checked as one). A leading byte-order mark is
    /// skipped. Sources name the file by its file name. See `docs/ioc.md`.
    ///
    /// Entries that give no indicator are reported in the [`LoadReport`] and counted, and
    /// loading goes on.
    ///
    /// # Errors
    ///
    /// [`IocError::Io`] when the file cannot be read, [`IocError::Encoding`] when it is not
    /// UTF-8, [`IocError::Json`] or [`IocError::NotBundle`] for JSON that does not parse or is
    /// not a bundle, [`IocError::Csv`] for a CSV row with the wrong number of fields. A file
    /// that fails adds nothing to the set.
    pub fn load(&mut self, path: &Path) -> Result<LoadReport, IocError> {
        let bytes = std::fs::read(path).map_err(|source| IocError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            let valid = e.utf8_error().valid_up_to();
            let before = e.as_bytes().get(..valid).unwrap_or_default();
            IocError::Encoding {
                path: path.to_path_buf(),
                line: before.iter().filter(|&&b| b == b'\n').count() + 1,
            }
        })?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        self.load_text(path, &name, &text)
    }

    /// Loads `text` as the content of a file named `name` (which only the `.json` check of
    /// the format detection and the sources use); as [`IocSet::load`] otherwise.
    ///
    /// # Errors
    ///
    /// As [`IocSet::load`], less [`IocError::Io`] and [`IocError::Encoding`]; the errors'
    /// `path` is `name`.
    pub fn load_str(&mut self, name: &str, text: &str) -> Result<LoadReport, IocError> {
        self.load_text(Path::new(name), name, text)
    }

    fn load_text(&mut self, path: &Path, name: &str, text: &str) -> Result<LoadReport, IocError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let items = load::read(path, name, text)?;
        let mut report = LoadReport::default();
        let ips_before = self.stats.loaded.ip;
        for item in items {
            match item {
                Item::Entry {
                    values,
                    id,
                    name,
                    source,
                } => {
                    for value in values {
                        if self.insert(value, &id, &name, &source) {
                            report.loaded += 1;
                        } else {
                            report.duplicates += 1;
                        }
                    }
                }
                Item::Unsupported { source, reason } => report.unsupported(source, reason),
                Item::Revoked => report.revoked += 1,
            }
        }
        if self.stats.loaded.ip != ips_before {
            self.ips.rebuild();
        }
        self.stats.files += 1;
        self.stats.duplicates += report.duplicates;
        self.stats.revoked += report.revoked;
        self.stats.unsupported += report.unsupported_total;
        Ok(report)
    }

    /// Adds one indicator unless its kind and value are there already; true when added.
    fn insert(
        &mut self,
        value: Value,
        id: &Option<String>,
        name: &Option<String>,
        source: &str,
    ) -> bool {
        let index = self.indicators.len();
        let fresh = |map: &mut HashMap<Box<str>, usize>, key: &str| match map.entry(key.into()) {
            Entry::Vacant(e) => {
                e.insert(index);
                true
            }
            Entry::Occupied(_) => false,
        };
        let added = match &value {
            Value::Ip(p) => self.ips.insert(*p, index),
            Value::Domain(s) => fresh(&mut self.domains, s),
            Value::Url(s) => fresh(&mut self.urls, s),
            Value::Ja3(s) => fresh(&mut self.ja3, s),
            Value::Ja4(s) => fresh(&mut self.ja4, s),
        };
        if added {
            let kind = value.kind();
            self.stats.loaded.add(kind);
            self.indicators.push(Indicator {
                kind,
                value: value.text(),
                id: id.clone(),
                name: name.clone(),
                source: source.to_string(),
            });
        }
        added
    }

    /// Number of indicators.
    pub fn len(&self) -> usize {
        self.indicators.len()
    }

    /// True when no indicator is loaded.
    pub fn is_empty(&self) -> bool {
        self.indicators.is_empty()
    }

    /// The indicators, in the order they were loaded.
    pub fn iter(&self) -> std::slice::Iter<'_, Indicator> {
        self.indicators.iter()
    }

    /// Counts over every file loaded: indicators per kind, duplicates, revoked and
    /// unsupported entries (for `stats.json`).
    pub fn stats(&self) -> IocStats {
        self.stats.clone()
    }

    fn get(&self, index: usize) -> Option<&Indicator> {
        self.indicators.get(index)
    }

    /// The indicator of the longest network (an address is a network of 32 or 128 bits) that
    /// holds `ip`: one binary search over disjoint ranges. An IPv4-mapped IPv6 address
    /// (`::ffff:192.0.2.1`) matches as its IPv4 address.
    pub fn match_ip(&self, ip: IpAddr) -> Option<&Indicator> {
        self.ips.lookup(ip).and_then(|i| self.get(i))
    }

    /// The indicator naming `name` or the nearest domain above it: `evil.com` matches
    /// `evil.com`, `a.b.evil.com` and `A.Evil.COM.`, never `notevil.com` or `evil.com.au`.
    /// When `a.evil.com` and `evil.com` are both indicators, `x.a.evil.com` matches
    /// `a.evil.com`, the most specific. At most one lookup per label of the last 253 bytes
    /// of `name`, however long or odd `name` is.
    pub fn match_domain(&self, name: &str) -> Option<&Indicator> {
        if self.domains.is_empty() {
            return None;
        }
        let name = domain::prepare(name)?;
        let index = domain::suffixes(&name).find_map(|s| self.domains.get(s).copied());
        index.and_then(|i| self.get(i))
    }

    /// The indicator for `url`, both normalised (scheme and host in lowercase, default port
    /// and fragment dropped; see `docs/ioc.md`): the one equal to it, else, when `url` has a
    /// query, the one without a query equal to its `scheme://host[:port]/path`. `None` for a
    /// text that is not an absolute URL.
    pub fn match_url(&self, url: &str) -> Option<&Indicator> {
        if self.urls.is_empty() {
            return None;
        }
        let u = url::normalise(url).ok()?;
        self.urls
            .get(u.as_str())
            .or_else(|| self.urls.get(u.without_query()?))
            .and_then(|&i| self.get(i))
    }

    /// The indicator for a JA3 hash, in either case.
    pub fn match_ja3(&self, md5: &str) -> Option<&Indicator> {
        let key = fingerprint::ja3(md5.trim()).ok()?;
        self.ja3.get(key.as_str()).and_then(|&i| self.get(i))
    }

    /// The indicator for a JA4 fingerprint (its hash parts in either case).
    pub fn match_ja4(&self, ja4: &str) -> Option<&Indicator> {
        let key = fingerprint::ja4(ja4.trim()).ok()?;
        self.ja4.get(key.as_str()).and_then(|&i| self.get(i))
    }

    /// The indicator for an observable, by its kind.
    pub fn match_observable(&self, o: &Observable) -> Option<&Indicator> {
        match o.kind {
            IndicatorKind::Ip => o.value.parse().ok().and_then(|ip| self.match_ip(ip)),
            IndicatorKind::Domain => self.match_domain(&o.value),
            IndicatorKind::Url => self.match_url(&o.value),
            IndicatorKind::Ja3 => self.match_ja3(&o.value),
            IndicatorKind::Ja4 => self.match_ja4(&o.value),
        }
    }
}
