//! `requires:` — the Suricata version, features and keywords a rule needs
//! (Suricata's `doc/userguide/rules/meta.rst`, "requires").
//!
//! custos answers as the Suricata whose rule language it follows, [`COMPAT_VERSION`]; a
//! feature is met when custos computes what it names (`ja3`, `ja4`); a keyword when custos
//! honours it. A requirement of another kind is not met. A rule whose requirements are not
//! met is skipped — Suricata ignores it without error — and counted under `requires`.

use crate::keywords;

/// Suricata version custos answers `requires: version` with: the rule language of
/// Suricata 8.0 as of its 8.0.5 release (docs/rules.md).
pub const COMPAT_VERSION: (u8, u8, u8) = (8, 0, 5);

/// Features custos provides, as `requires: feature` names them.
const FEATURES: &[&str] = &["ja3", "ja4"];

/// Checks a `requires` value: `Ok(Ok(()))` when every requirement is met, `Ok(Err(why))`
/// when one is not.
///
/// # Errors
/// A malformed value (a clause without an expression, a bad version expression, `version`
/// given twice), which Suricata refuses.
pub(super) fn check(v: &str) -> Result<Result<(), String>, String> {
    let mut unmet = None;
    let mut version_seen = false;
    for clause in v.split(',').map(str::trim).filter(|c| !c.is_empty()) {
        let (key, expr) = clause
            .split_once(char::is_whitespace)
            .map(|(k, e)| (k, e.trim()))
            .unwrap_or((clause, ""));
        let why = match key {
            "version" => {
                if std::mem::replace(&mut version_seen, true) {
                    return Err("version given twice".into());
                }
                (!version_met(expr)?).then(|| {
                    format!(
                        "requires Suricata version {expr}; custos follows {}.{}.{}",
                        COMPAT_VERSION.0, COMPAT_VERSION.1, COMPAT_VERSION.2
                    )
                })
            }
            "feature" => (!FEATURES.contains(&expr))
                .then(|| format!("requires feature `{expr}`, which custos does not provide")),
            "keyword" => (!keywords::is_supported(expr))
                .then(|| format!("requires keyword `{expr}`, which custos does not honour")),
            _ if expr.is_empty() => return Err(format!("requirement `{clause}` has no value")),
            _ => Some(format!("unknown requirement `{clause}`")),
        };
        if unmet.is_none() {
            unmet = why;
        }
    }
    Ok(match unmet {
        Some(why) => Err(why),
        None => Ok(()),
    })
}

/// `>= 7.0.3 < 8 | >= 8.0.1`: alternatives separated by `|`, each a list of comparisons
/// that must all hold.
fn version_met(expr: &str) -> Result<bool, String> {
    let mut any = false;
    for alternative in expr.split('|') {
        let mut rest = alternative.trim();
        if rest.is_empty() {
            return Err(format!("bad version expression `{expr}`"));
        }
        let mut all = true;
        while !rest.is_empty() {
            let (op, after) = [">=", "<=", ">", "<"]
                .iter()
                .find_map(|op| rest.strip_prefix(op).map(|r| (*op, r.trim_start())))
                .ok_or_else(|| format!("bad version expression `{expr}`"))?;
            let end = after.find(char::is_whitespace).unwrap_or(after.len());
            let (ver, tail) = after.split_at(end);
            let want = version(ver).ok_or_else(|| format!("bad version `{ver}` in `{expr}`"))?;
            all &= match op {
                ">=" => COMPAT_VERSION >= want,
                "<=" => COMPAT_VERSION <= want,
                ">" => COMPAT_VERSION > want,
                _ => COMPAT_VERSION < want,
            };
            rest = tail.trim_start();
        }
        any |= all;
    }
    Ok(any)
}

/// `8`, `8.0` or `8.0.5` (missing parts are 0).
fn version(v: &str) -> Option<(u8, u8, u8)> {
    let mut parts = v.split('.');
    let mut next = || parts.next().map(str::parse::<u8>).transpose().ok();
    let out = (next()??, next()?.unwrap_or(0), next()?.unwrap_or(0));
    parts.next().is_none().then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_alternatives_and_ranges() {
        assert_eq!(check("version >= 8").unwrap(), Ok(()));
        assert_eq!(check("version >=8.0.5").unwrap(), Ok(()));
        assert!(check("version >= 8.0.6").unwrap().is_err());
        assert!(check("version >= 7 < 8").unwrap().is_err());
        assert_eq!(check("version >= 7.0.3 < 8 | >= 8.0.1").unwrap(), Ok(()));
        assert!(check("version >= 7.0.3 < 8 | >= 9.0.99").unwrap().is_err());
        assert!(check("version = 8").is_err());
        assert!(check("version >= 8, version >= 7").is_err());
    }

    #[test]
    fn features_keywords_and_unknown_requirements() {
        assert_eq!(check("feature ja4").unwrap(), Ok(()));
        assert!(check("feature geoip").unwrap().is_err());
        assert_eq!(check("version >= 8.0.0, keyword sid").unwrap(), Ok(()));
        assert!(check("version >= 8, keyword foobar").unwrap().is_err());
        assert!(check("foo bar").unwrap().is_err());
        assert!(check("foo").is_err());
    }
}
