//! STIX 2.1 bundles (STIX 2.1 Part 1 §8, the `bundle` object; Part 2 §4.7, `indicator`).
//!
//! Of the bundle's `objects`, only those of `"type": "indicator"` are read; the others
//! (observed data, relationships, identities…) are skipped without a count. An indicator:
//!
//! - with `"revoked": true` is skipped and counted as revoked;
//! - with a `pattern_type` other than `stix` (absent means `stix`) is unsupported;
//! - otherwise gives one indicator per comparison of its `pattern` (see `pattern` for the
//!   subset), all with the object's `id` and `name`, or none when any part of the pattern or
//!   any value is outside what custos can match.
//!
//! `valid_from` and `valid_until` are not enforced: custos analyses captures whose packet
//! time may be long past (or ahead of) the wall clock, and an indicator's validity window
//! says when it was believed, not when the traffic happened. `confidence`, `labels` and
//! `kill_chain_phases` are not read.

use std::path::Path;

use serde_json::Value as Json;

use crate::indicator::Value;
use crate::{IndicatorKind, IocError};

use super::pattern::{self, Comparison, ObjectPath};
use super::Item;

/// Reads the bundle in `text`; sources are `name:objects[i]`.
pub(crate) fn read(path: &Path, name: &str, text: &str) -> Result<Vec<Item>, IocError> {
    let doc: Json = serde_json::from_str(text).map_err(|e| {
        let full = e.to_string();
        let message = full
            .rsplit_once(" at line ")
            .map_or(full.as_str(), |(m, _)| m)
            .to_string();
        IocError::Json {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message,
        }
    })?;
    let not_bundle = |message: String| IocError::NotBundle {
        path: path.to_path_buf(),
        message,
    };
    let top = doc
        .as_object()
        .ok_or_else(|| not_bundle("the top level is not an object".into()))?;
    match top.get("type") {
        Some(Json::String(t)) if t == "bundle" => {}
        Some(t) => return Err(not_bundle(format!("\"type\" is {t}"))),
        None => return Err(not_bundle("no \"type\"".into())),
    }
    let objects = match top.get("objects") {
        None => return Ok(Vec::new()),
        Some(Json::Array(objects)) => objects,
        Some(_) => return Err(not_bundle("\"objects\" is not an array".into())),
    };
    Ok(objects
        .iter()
        .enumerate()
        .filter(|(_, o)| o.get("type").and_then(Json::as_str) == Some("indicator"))
        .map(|(i, o)| indicator(o, format!("{name}:objects[{i}]")))
        .collect())
}

/// One indicator object as an item.
fn indicator(object: &Json, source: String) -> Item {
    if object.get("revoked").and_then(Json::as_bool) == Some(true) {
        return Item::Revoked;
    }
    let unsupported = |reason: String| Item::Unsupported {
        source: source.clone(),
        reason,
    };
    match object.get("pattern_type") {
        None => {}
        Some(Json::String(t)) if t.eq_ignore_ascii_case("stix") => {}
        Some(t) => return unsupported(format!("pattern_type {t} (only stix is read)")),
    }
    let Some(text) = object.get("pattern").and_then(Json::as_str) else {
        return unsupported("no pattern".into());
    };
    let comparisons = match pattern::parse(text) {
        Ok(c) => c,
        Err(e) => return unsupported(format!("pattern: {e}")),
    };
    let mut values = Vec::with_capacity(comparisons.len());
    for c in &comparisons {
        match value(c) {
            Ok(v) => values.push(v),
            Err(e) => return unsupported(format!("{} = {:?}: {e}", c.path, c.value)),
        }
    }
    let text_field = |key: &str| object.get(key).and_then(Json::as_str).map(str::to_string);
    Item::Entry {
        values,
        id: text_field("id"),
        name: text_field("name"),
        source,
    }
}

/// The indicator value of one comparison.
fn value(c: &Comparison) -> Result<Value, String> {
    let kind = match c.path {
        ObjectPath::Ipv4 | ObjectPath::Ipv6 => IndicatorKind::Ip,
        ObjectPath::Domain => IndicatorKind::Domain,
        ObjectPath::Url => IndicatorKind::Url,
        ObjectPath::Ja3 => IndicatorKind::Ja3,
        ObjectPath::Ja4 => IndicatorKind::Ja4,
    };
    let v = Value::parse(kind, &c.value).map_err(|e| e.to_string())?;
    match (&v, c.path) {
        (Value::Ip(p), ObjectPath::Ipv4) if !p.is_ipv4() => Err("an IPv6 address".into()),
        (Value::Ip(p), ObjectPath::Ipv6) if p.is_ipv4() => Err("an IPv4 address".into()),
        _ => Ok(v),
    }
}
