//! OCSF 1.5.0 (Open Cybersecurity Schema Framework): a Detection Finding (class
//! `detection_finding`, uid 2004) per alert and per finding, and a Network Activity (class
//! `network_activity`, uid 4001, [`flows`]) per flow of `flows.jsonl`, written as JSON Lines.
//!
//! Unlike STIX and MISP, which aggregate indicators, OCSF carries one event per detection, with
//! each alert's own fields (EVE severity, signature id, score, threshold, model digest). Every address still goes through
//! [`Anon`], so the pseudonyms are those of the STIX and MISP exports. Only attributes the
//! 1.5.0 class and its objects define are written: the generated JSON Schemas forbid others
//! (`additionalProperties: false`), and OCSF's `at_least_one` constraints (an endpoint needs an
//! `ip`, an evidence a field) are met by leaving out what would be empty.
//!
//! `flows` makes the Network Activity events; `map` turns custos's values into OCSF's (severities, analytic
//! types, ATT&CK, protocols, milliseconds) and bounds the text copied from the outputs; this
//! module assembles the events and their uids. The mapping table is in docs/share.md.

mod flows;
mod map;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use serde_json::{json, Map, Value};

use crate::anon::Anon;
use crate::ids::{uuid_v5, CUSTOS_NAMESPACE};
use crate::input::{Alert, Finding};
use crate::{ShareError, ShareOptions};

pub use flows::EveFlow;
use map::{
    analytic_type, attack_object, bounded, confidence_score, eve_severity, finding_severity,
    is_community_id, is_sha256, millis, protocol, MAX_INTEGER,
};

/// The OCSF schema version of every event (`metadata.version`).
pub const OCSF_VERSION: &str = "1.5.0";

/// Detection Finding (OCSF 1.5.0 `class_uid`).
const CLASS_UID: u32 = 2004;
/// Findings (`category_uid`).
const CATEGORY_UID: u32 = 2;
/// Create (`activity_id`): custos reports each detection once.
const ACTIVITY_CREATE: u32 = 1;
/// `class_uid * 100 + activity_id`.
const TYPE_UID: u32 = CLASS_UID * 100 + ACTIVITY_CREATE;

/// The events for `alerts` then `findings` (Detection Findings) then `flows` (Network
/// Activity), each read from `dir` (named in error messages), in file order. `pseudonymised` says whether `anon` replaces addresses: Community IDs, hashes of
/// the original addresses, are then left out.
///
/// # Errors
///
/// [`ShareError::Parse`] for a record whose packet time is not a UTC timestamp;
/// [`ShareError::Pseudonymize`].
pub fn events(
    dir: &Path,
    alerts: &[(usize, Alert)],
    findings: &[(usize, Finding)],
    flows: &[(usize, EveFlow)],
    opts: &ShareOptions,
    anon: &mut Anon<'_>,
    pseudonymised: bool,
) -> Result<Vec<Value>, ShareError> {
    let mut uids = Uids::default();
    let mut out = Vec::with_capacity(alerts.len().saturating_add(findings.len()));
    for (line, a) in alerts {
        let time = millis(dir, "alerts.jsonl", *line, &a.timestamp)?;
        out.push(alert_event(a, time, opts, anon, pseudonymised, &mut uids)?);
    }
    for (line, f) in findings {
        let first = millis(dir, "findings.jsonl", *line, &f.first_seen)?;
        let last = millis(dir, "findings.jsonl", *line, &f.last_seen)?;
        out.push(finding_event(f, (first, last), opts, anon, &mut uids)?);
    }
    for (line, f) in flows {
        let start = millis(dir, "flows.jsonl", *line, &f.flow.start)?;
        let end = millis(dir, "flows.jsonl", *line, &f.flow.end)?;
        let e = flows::flow_event(f, (start, end), opts, anon, pseudonymised, &mut uids)?;
        out.push(e);
    }
    Ok(out)
}

/// `events` as JSON Lines: one compact event per line, each line ending in `\n`.
pub fn json_lines(events: &[Value]) -> String {
    let mut text = String::new();
    for event in events {
        text.push_str(&event.to_string());
        text.push('\n');
    }
    text
}

/// The Detection Finding for one alert at packet time `time` (ms since 1970).
fn alert_event(
    a: &Alert,
    time: i64,
    opts: &ShareOptions,
    anon: &mut Anon<'_>,
    pseudonymised: bool,
    uids: &mut Uids,
) -> Result<Value, ShareError> {
    let src = a.src_ip.map(|ip| anon.ip(ip)).transpose()?.flatten();
    let dst = a.dest_ip.map(|ip| anon.ip(ip)).transpose()?.flatten();
    let detector = bounded(&a.custos.detector);
    let proto = a.proto.as_deref().and_then(protocol);
    let uid = uids.next(&format!(
        "alert|{detector}|{:?}|{:?}|{time}|{src:?}|{:?}|{dst:?}|{:?}|{proto:?}",
        a.alert.signature_id, a.custos.packet, a.src_port, a.dest_port
    ));

    let mut evidence = Map::new();
    let observables = endpoints(
        &mut evidence,
        "evidences.",
        Ends {
            src: (src, a.src_port),
            dst: (dst, a.dest_port),
            proto,
            community: a.community_id.as_deref().filter(|_| !pseudonymised),
        },
    );

    let title = match bounded(&a.alert.signature) {
        "" => format!("custos {detector} alert"),
        signature => signature.to_string(),
    };
    let mut analytic = json!({ "name": detector });
    if let Some(sid) = a.alert.signature_id {
        analytic["uid"] = json!(sid.to_string());
    }
    if let Some(rev) = a.alert.rev {
        analytic["version"] = json!(rev.to_string());
    }
    let (type_id, type_name) = analytic_type(detector);
    analytic["type_id"] = json!(type_id);
    analytic["type"] = json!(type_name);
    let category = bounded(&a.alert.category);
    if !category.is_empty() {
        analytic["category"] = json!(category);
    }
    let mut info = json!({
        "uid": uid,
        "title": title,
        "analytic": analytic,
        "created_time": time,
        "first_seen_time": time,
        "last_seen_time": time,
    });
    if !category.is_empty() {
        info["types"] = json!([category]);
    }
    if let (Some(score), Some(threshold)) = (a.custos.score, a.custos.threshold) {
        info["desc"] = json!(format!("score {score} above threshold {threshold}"));
    }

    let mut event = header(&title, time, eve_severity(a.alert.severity));
    event.insert("finding_info".to_string(), info);
    if !evidence.is_empty() {
        event.insert("evidences".to_string(), json!([evidence]));
    }
    if !observables.is_empty() {
        event.insert("observables".to_string(), json!(observables));
    }
    if let Some(confidence) = confidence_score(detector, a.custos.score) {
        event.insert("confidence_score".to_string(), json!(confidence));
    }
    let code = a.alert.signature_id.map(|sid| sid.to_string());
    event.insert(
        "metadata".to_string(),
        metadata(&uid, code.as_deref(), opts),
    );
    let mut custos = Map::new();
    if let Some(packet) = a.custos.packet {
        custos.insert("packet".to_string(), json!(packet));
    }
    if let Some(score) = a.custos.score {
        custos.insert("score".to_string(), json!(score));
    }
    if let Some(threshold) = a.custos.threshold {
        custos.insert("threshold".to_string(), json!(threshold));
    }
    if let Some(digest) = a.custos.model_sha256.as_deref().filter(|d| is_sha256(d)) {
        custos.insert("model_sha256".to_string(), json!(digest));
    }
    if let Some(leaf) = a.custos.evidence_leaf {
        custos.insert("evidence_leaf".to_string(), json!(leaf));
    }
    if !custos.is_empty() {
        event.insert("unmapped".to_string(), json!({ "custos": custos }));
    }
    Ok(Value::Object(event))
}

/// The Detection Finding for one finding seen between `first` and `last` (ms since 1970).
/// Its device (a victim) is left out, as in every export; its peer is the evidence's source.
fn finding_event(
    f: &Finding,
    (first, last): (i64, i64),
    opts: &ShareOptions,
    anon: &mut Anon<'_>,
    uids: &mut Uids,
) -> Result<Value, ShareError> {
    let peer = f.peer.as_ref().and_then(|p| p.ip);
    let peer = peer.map(|ip| anon.ip(ip)).transpose()?.flatten();
    let rule = bounded(&f.rule);
    let uid = uids.next(&format!(
        "finding|{rule}|{first}|{last}|{}|{peer:?}|{:?}",
        f.count, f.mitre_attack
    ));
    let title = match bounded(&f.title) {
        "" => format!("custos finding {rule}"),
        title => title.to_string(),
    };
    let mut info = json!({
        "uid": uid,
        "title": title,
        "desc": format!("custos rule {rule}, seen {} times", f.count),
        "types": [rule],
        "analytic": { "name": rule, "type_id": 1, "type": "Rule" },
        "created_time": first,
        "first_seen_time": first,
        "last_seen_time": last,
    });
    let attacks: Vec<Value> = f
        .mitre_attack
        .iter()
        .filter_map(|t| attack_object(t))
        .collect();
    if !attacks.is_empty() {
        info["attacks"] = json!(attacks);
    }

    let mut event = header(&title, first, finding_severity(&f.severity));
    event.insert("finding_info".to_string(), info);
    event.insert("start_time".to_string(), json!(first));
    event.insert("end_time".to_string(), json!(last));
    event.insert("count".to_string(), json!(f.count.min(MAX_INTEGER)));
    if let Some(ip) = peer {
        event.insert(
            "evidences".to_string(),
            json!([{ "src_endpoint": { "ip": ip.to_string() } }]),
        );
        let observable = ip_observable("evidences.src_endpoint.ip", ip);
        event.insert("observables".to_string(), json!([observable]));
    }
    event.insert("metadata".to_string(), metadata(&uid, Some(rule), opts));
    Ok(Value::Object(event))
}

/// The attributes every event starts with: class, activity, time, severity, message.
fn header(message: &str, time: i64, (severity_id, severity): (u32, String)) -> Map<String, Value> {
    let header = json!({
        "category_uid": CATEGORY_UID,
        "category_name": "Findings",
        "class_uid": CLASS_UID,
        "class_name": "Detection Finding",
        "activity_id": ACTIVITY_CREATE,
        "activity_name": "Create",
        "type_uid": TYPE_UID,
        "type_name": "Detection Finding: Create",
        "time": time,
        "timezone_offset": 0,
        "severity_id": severity_id,
        "severity": severity,
        "is_alert": true,
        "message": message,
    });
    match header {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// `metadata`: schema version, product (custos, from the organisation), event uid and code,
/// and the TLP level as a label (OCSF has no marking of its own).
pub(super) fn metadata(uid: &str, event_code: Option<&str>, opts: &ShareOptions) -> Value {
    let mut product = json!({ "name": "custos", "version": env!("CARGO_PKG_VERSION") });
    let organisation = bounded(&opts.organisation);
    if !organisation.is_empty() {
        product["vendor_name"] = json!(organisation);
    }
    let mut metadata = json!({
        "version": OCSF_VERSION,
        "product": product,
        "uid": uid,
        "labels": [format!("TLP:{}", opts.tlp.as_str().to_ascii_uppercase())],
    });
    if let Some(code) = event_code.filter(|c| !c.is_empty()) {
        metadata["event_code"] = json!(code);
    }
    metadata
}

/// The two ends of a connection as an export has them (addresses already pseudonymised).
pub(super) struct Ends<'a> {
    /// Source address and port.
    pub src: (Option<IpAddr>, Option<u16>),
    /// Destination address and port.
    pub dst: (Option<IpAddr>, Option<u16>),
    /// Protocol name and number.
    pub proto: Option<(Option<&'static str>, u8)>,
    /// The Community ID to export (`None` when pseudonymised: it hashes the originals).
    pub community: Option<&'a str>,
}

/// Puts `src_endpoint`, `dst_endpoint` and `connection_info` of `ends` into `object` and
/// returns the address observables, named by `path` (the object's attribute path, e.g.
/// `evidences.`, or empty for the event itself).
pub(super) fn endpoints(object: &mut Map<String, Value>, path: &str, ends: Ends<'_>) -> Vec<Value> {
    let mut observables = Vec::new();
    for (key, (ip, port)) in [("src_endpoint", ends.src), ("dst_endpoint", ends.dst)] {
        let Some(ip) = ip else { continue };
        let mut endpoint = json!({ "ip": ip.to_string() });
        if let Some(port) = port {
            endpoint["port"] = json!(port);
        }
        object.insert(key.to_string(), endpoint);
        observables.push(ip_observable(&format!("{path}{key}.ip"), ip));
    }
    if let Some(ip) = ends.src.0.or(ends.dst.0) {
        let mut connection = json!({
            "direction_id": 0,
            "direction": "Unknown",
            "protocol_ver_id": if ip.is_ipv4() { 4 } else { 6 },
        });
        if let Some((name, number)) = ends.proto {
            if let Some(name) = name {
                connection["protocol_name"] = json!(name);
            }
            connection["protocol_num"] = json!(number);
        }
        if let Some(community) = ends.community.filter(|c| is_community_id(c)) {
            connection["community_uid"] = json!(community);
        }
        object.insert("connection_info".to_string(), connection);
    }
    observables
}

/// An `observable` of type IP Address (2) at attribute path `name`.
pub(super) fn ip_observable(name: &str, ip: IpAddr) -> Value {
    json!({ "name": name, "type_id": 2, "type": "IP Address", "value": ip.to_string() })
}

/// Event uids: a UUIDv5 in the custos namespace of the event's content key and how many
/// events before it had the same key, so the same folder (and pseudonym key) gives the same
/// uids and two identical alerts still get two.
#[derive(Default)]
pub(super) struct Uids {
    seen: BTreeMap<String, u64>,
}

impl Uids {
    /// The uid of the next event with content `key`.
    pub(super) fn next(&mut self, key: &str) -> String {
        let n = self.seen.entry(key.to_string()).or_insert(0);
        *n += 1;
        uuid_v5(&CUSTOS_NAMESPACE, &format!("ocsf|{n}|{key}"))
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn repeated_keys_get_distinct_stable_uids() {
        let mut a = Uids::default();
        let mut b = Uids::default();
        let first = a.next("k");
        assert_ne!(first, a.next("k"));
        assert_eq!(first, b.next("k"));
    }
}
