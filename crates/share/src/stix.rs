//! STIX 2.1 bundles (OASIS STIX Version 2.1, 2021): identity, indicators, sightings,
//! observed-data with SCOs, attack-patterns, relationships, and one TLP 2.0 marking.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::{json, Value};

use crate::attack;
use crate::ids::{stix_id, uuid_v5, STIX_SCO_NAMESPACE};
use crate::model::{IocKind, Model, Seen};
use crate::ShareOptions;

/// The time of objects built from no records at all.
const EPOCH: &str = "1970-01-01T00:00:00.000Z";

/// STIX's upper bound on `count` and `number_observed` (§4.10, §5.7).
const MAX_COUNT: u64 = 999_999_999;

/// Builds the bundle for `model`.
pub fn bundle(model: &Model, opts: &ShareOptions) -> Value {
    let now = if model.last.is_empty() {
        EPOCH
    } else {
        model.last.as_str()
    };
    let identity = stix_id("identity", &opts.organisation);
    let common = Common {
        identity: &identity,
        marking: opts.tlp.stix_marking_id(),
        now,
    };
    let mut objects = vec![
        opts.tlp.stix_marking(),
        merge(
            common.object("identity", &identity),
            json!({ "name": opts.organisation, "identity_class": "organization" }),
        ),
    ];
    let patterns = attack_patterns(model, &common, &mut objects);
    let traffic = observations(model, &common);
    let (sightings, relationships) =
        indicators(model, &common, &traffic.by_src, &patterns, &mut objects);
    let mut refs: Vec<Value> = objects
        .iter()
        .filter(|o| matches!(o["type"].as_str(), Some("indicator" | "attack-pattern")))
        .map(|o| o["id"].clone())
        .collect();
    refs.extend(traffic.observed.iter().map(|o| o["id"].clone()));
    if !model.findings.is_empty() && !refs.is_empty() {
        objects.push(report(model, opts, &common, refs));
    }
    objects.extend(sightings);
    objects.extend(traffic.scos.into_values());
    objects.extend(traffic.observed);
    objects.extend(relationships);
    let id = stix_id("bundle", &Value::Array(objects.clone()).to_string());
    json!({ "type": "bundle", "id": id, "objects": objects })
}

/// The properties every object of a bundle shares: its creator, time and marking.
struct Common<'a> {
    /// The `identity` id of the sharing organisation.
    identity: &'a str,
    /// The TLP marking-definition id.
    marking: &'a str,
    /// `created` and `modified` of every object.
    now: &'a str,
}

impl Common<'_> {
    /// The common properties of an object of type `kind` with id `id`.
    fn object(&self, kind: &str, id: &str) -> Value {
        json!({
            "type": kind,
            "spec_version": "2.1",
            "id": id,
            "created_by_ref": self.identity,
            "created": self.now,
            "modified": self.now,
            "object_marking_refs": [self.marking],
        })
    }
}

/// Adds one `attack-pattern` per ATT&CK technique of `model` to `objects`; returns the
/// pattern id of each technique.
fn attack_patterns(
    model: &Model,
    common: &Common<'_>,
    objects: &mut Vec<Value>,
) -> BTreeMap<String, String> {
    let mut patterns = BTreeMap::new();
    for technique in &model.techniques {
        let id = stix_id("attack-pattern", technique);
        let source = if attack::is_ics(technique) {
            "mitre-ics-attack"
        } else {
            "mitre-attack"
        };
        objects.push(merge(
            common.object("attack-pattern", &id),
            json!({
                "name": attack::name(technique),
                // No `url`: strict validation wants a hash with every URL (check 302).
                "external_references": [{
                    "source_name": source,
                    "external_id": technique,
                }],
            }),
        ));
        patterns.insert(technique.clone(), id);
    }
    patterns
}

/// The alerted traffic as STIX objects.
struct Traffic {
    /// The `observed-data` ids of the flows from each source address.
    by_src: BTreeMap<IpAddr, Vec<String>>,
    /// The address and `network-traffic` SCOs, by id.
    scos: BTreeMap<String, Value>,
    /// One `observed-data` per flow.
    observed: Vec<Value>,
}

/// An `observed-data` per alerted flow of `model`, with the SCOs it refers to.
fn observations(model: &Model, common: &Common<'_>) -> Traffic {
    let marking = common.marking;
    let mut by_src: BTreeMap<IpAddr, Vec<String>> = BTreeMap::new();
    let mut scos = BTreeMap::new();
    let mut observed = Vec::new();
    for (flow, seen) in &model.flows {
        let src = address_sco(flow.src, marking);
        let dst = address_sco(flow.dst, marking);
        let (src_id, dst_id) = (sco_id(&src), sco_id(&dst));
        let mut refs = vec![src_id.clone(), dst_id.clone()];
        let od_key = format!(
            "{src_id}|{dst_id}|{:?}|{:?}|{:?}",
            flow.src_port, flow.dst_port, flow.proto
        );
        if let (Some(src_port), Some(dst_port)) = (flow.src_port, flow.dst_port) {
            let mut protocols = vec![if flow.src.is_ipv4() { "ipv4" } else { "ipv6" }];
            protocols.extend(flow.proto.as_deref().filter(|p| IANA_L4.contains(p)));
            let ports = (src_port, dst_port);
            let nt = network_traffic(&src_id, &dst_id, ports, &protocols, marking);
            let nt_id = sco_id(&nt);
            refs.insert(0, nt_id.clone());
            scos.insert(nt_id, nt);
        }
        let od_id = stix_id("observed-data", &od_key);
        observed.push(merge(
            common.object("observed-data", &od_id),
            json!({
                "first_observed": seen.first,
                "last_observed": seen.last,
                "number_observed": seen.count.clamp(1, MAX_COUNT),
                "object_refs": refs,
            }),
        ));
        by_src.entry(flow.src).or_default().push(od_id);
        scos.insert(src_id, src);
        scos.insert(dst_id, dst);
    }
    Traffic {
        by_src,
        scos,
        observed,
    }
}

/// Adds an `indicator` per IOC of `model` to `objects`; returns a `sighting` of each
/// (referring to the observed traffic from an IP indicator) and the `indicates`
/// relationships to the attack patterns of its techniques.
fn indicators(
    model: &Model,
    common: &Common<'_>,
    observed_by_src: &BTreeMap<IpAddr, Vec<String>>,
    patterns: &BTreeMap<String, String>,
    objects: &mut Vec<Value>,
) -> (Vec<Value>, Vec<Value>) {
    let mut sightings = Vec::new();
    let mut relationships = Vec::new();
    for ((kind, value), seen) in &model.iocs {
        let indicator_id = stix_id("indicator", &format!("{kind:?}|{value}"));
        let (name, pattern) = indicator_text(*kind, value);
        objects.push(merge(
            common.object("indicator", &indicator_id),
            json!({
                "name": name,
                "description": describe(seen),
                "indicator_types": ["malicious-activity"],
                "pattern": pattern,
                "pattern_type": "stix",
                "pattern_version": "2.1",
                "valid_from": seen.first,
            }),
        ));
        let mut sighting = json!({
            "sighting_of_ref": indicator_id,
            "count": seen.count.clamp(1, MAX_COUNT),
            "first_seen": seen.first,
            "last_seen": seen.last,
            "where_sighted_refs": [common.identity],
        });
        let refs = value
            .parse::<IpAddr>()
            .ok()
            .filter(|_| *kind == IocKind::Ip)
            .and_then(|ip| observed_by_src.get(&ip));
        if let Some(refs) = refs {
            sighting["observed_data_refs"] = json!(refs);
        }
        sightings.push(merge(
            common.object("sighting", &stix_id("sighting", &indicator_id)),
            sighting,
        ));
        for technique in &seen.techniques {
            let Some(pattern_id) = patterns.get(technique) else {
                continue;
            };
            let key = format!("{indicator_id}|indicates|{pattern_id}");
            relationships.push(merge(
                common.object("relationship", &stix_id("relationship", &key)),
                json!({
                    "relationship_type": "indicates",
                    "source_ref": indicator_id,
                    "target_ref": pattern_id,
                }),
            ));
        }
    }
    (sightings, relationships)
}

/// The `report` listing the findings of `model`, referring to `refs`.
fn report(model: &Model, opts: &ShareOptions, common: &Common<'_>, refs: Vec<Value>) -> Value {
    let now = common.now;
    let mut lines: Vec<String> = model
        .findings
        .iter()
        .map(|f| {
            let techniques = if f.techniques.is_empty() {
                String::new()
            } else {
                format!(" [{}]", f.techniques.join(", "))
            };
            format!("{} ({}, {}){techniques}", f.title, f.rule, f.severity)
        })
        .collect();
    if model.flows_left_out > 0 {
        lines.push(format!(
            "{} more alerted flows left out (at most {} are described).",
            model.flows_left_out,
            crate::model::MAX_FLOWS
        ));
    }
    merge(
        common.object(
            "report",
            &stix_id("report", &format!("{}|{now}", opts.organisation)),
        ),
        json!({
            "name": format!("custos findings from {}", opts.organisation),
            "description": lines.join("\n"),
            "report_types": ["threat-report"],
            "published": now,
            "object_refs": refs,
        }),
    )
}

/// Layer-4 protocols written to `protocols` (IANA service names, lower case).
const IANA_L4: &[&str] = &["tcp", "udp", "icmp", "ipv6-icmp", "sctp"];

/// `base` with the fields of `extra` added.
fn merge(mut base: Value, extra: Value) -> Value {
    if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
        b.extend(e);
    }
    base
}

/// An `ipv4-addr` / `ipv6-addr` SCO with its deterministic id (STIX 2.1 §2.9: UUIDv5 of the
/// canonical `{"value":…}` in the SCO namespace).
fn address_sco(addr: IpAddr, marking: &str) -> Value {
    let kind = if addr.is_ipv4() {
        "ipv4-addr"
    } else {
        "ipv6-addr"
    };
    let value = addr.to_string();
    let uuid = uuid_v5(&STIX_SCO_NAMESPACE, &canonical(&json!({ "value": value })));
    json!({
        "type": kind,
        "spec_version": "2.1",
        "id": format!("{kind}--{uuid}"),
        "value": value,
        "object_marking_refs": [marking],
    })
}

/// A `network-traffic` SCO with its deterministic id (contributing properties `src_ref`,
/// `dst_ref`, `src_port`, `dst_port`, `protocols`; STIX 2.1 §6.12).
fn network_traffic(
    src_id: &str,
    dst_id: &str,
    (src_port, dst_port): (u16, u16),
    protocols: &[&str],
    marking: &str,
) -> Value {
    let contributing = json!({
        "dst_port": dst_port,
        "dst_ref": dst_id,
        "protocols": protocols,
        "src_port": src_port,
        "src_ref": src_id,
    });
    let uuid = uuid_v5(&STIX_SCO_NAMESPACE, &canonical(&contributing));
    json!({
        "type": "network-traffic",
        "spec_version": "2.1",
        "id": format!("network-traffic--{uuid}"),
        "src_ref": src_id,
        "dst_ref": dst_id,
        "src_port": src_port,
        "dst_port": dst_port,
        "protocols": protocols,
        "object_marking_refs": [marking],
    })
}

/// An SCO's id.
fn sco_id(sco: &Value) -> String {
    sco["id"].as_str().unwrap_or_default().to_string()
}

/// JSON with object keys sorted and no spaces (RFC 8785 for the values used here: strings,
/// integers, arrays, objects), whatever order `serde_json` keeps maps in.
fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().filter(|(_, v)| !v.is_null()).collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let body: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical(v)))
                .collect();
            format!("{{{}}}", body.join(","))
        }
        Value::Array(items) => {
            let body: Vec<String> = items.iter().map(canonical).collect();
            format!("[{}]", body.join(","))
        }
        other => other.to_string(),
    }
}

/// An indicator's name and STIX pattern.
fn indicator_text(kind: IocKind, value: &str) -> (String, String) {
    let quoted = value.replace('\\', "\\\\").replace('\'', "\\'");
    match kind {
        IocKind::Ip => {
            let sco = if value.contains(':') {
                "ipv6-addr"
            } else {
                "ipv4-addr"
            };
            (
                format!("Attacker address {value}"),
                format!("[{sco}:value = '{quoted}']"),
            )
        }
        IocKind::Ja3 => (
            format!("JA3 fingerprint {value}"),
            format!("[network-traffic:extensions.'x-custos-tls'.ja3 = '{quoted}']"),
        ),
        IocKind::Ja4 => (
            format!("JA4 fingerprint {value}"),
            format!("[network-traffic:extensions.'x-custos-tls'.ja4 = '{quoted}']"),
        ),
        IocKind::Domain => (
            format!("Domain {value}"),
            format!("[domain-name:value = '{quoted}']"),
        ),
    }
}

/// What reported an indicator, for its description.
fn describe(seen: &Seen) -> String {
    let sources: Vec<&str> = seen.sources.iter().map(String::as_str).collect();
    format!(
        "Seen {} times by custos ({}).",
        seen.count,
        sources.join(", ")
    )
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn address_sco_id_follows_stix_namespace() {
        // STIX 2.1 §2.9's algorithm, checked against the stix2 Python library's
        // IPv4Address(value="198.51.100.3").id.
        let sco = address_sco("198.51.100.3".parse().unwrap(), "m");
        assert_eq!(sco["id"], "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4");
    }

    #[test]
    fn network_traffic_id_follows_stix_namespace() {
        // stix2: NetworkTraffic(src_ref=IPv4Address(value="1.2.3.4").id,
        // dst_ref=IPv4Address(value="5.6.7.8").id, src_port=1000, dst_port=80,
        // protocols=["ipv4", "tcp"]).id
        let src = sco_id(&address_sco("1.2.3.4".parse().unwrap(), "m"));
        let dst = sco_id(&address_sco("5.6.7.8".parse().unwrap(), "m"));
        let nt = network_traffic(&src, &dst, (1000, 80), &["ipv4", "tcp"], "m");
        assert_eq!(
            nt["id"],
            "network-traffic--ae1094dc-6bfc-52ed-8a1a-494d8a367dfb"
        );
    }

    #[test]
    fn patterns_escape_quotes() {
        let (_, p) = indicator_text(IocKind::Domain, "a'b\\c");
        assert_eq!(p, "[domain-name:value = 'a\\'b\\\\c']");
    }

    #[test]
    fn canonical_sorts_keys_and_drops_nulls() {
        let v = json!({"b": 1, "a": ["x"], "c": null});
        assert_eq!(canonical(&v), r#"{"a":["x"],"b":1}"#);
    }
}
