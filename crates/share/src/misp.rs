//! MISP events (MISP core format, draft-dulaunoy-misp-core-format): attributes for
//! indicators, `network-connection` objects for alerted traffic, TLP and ATT&CK galaxy tags.

use serde_json::{json, Value};

use crate::attack;
use crate::ids::{uuid_v5, CUSTOS_NAMESPACE};
use crate::model::{FlowKey, IocKind, Model, Seen};
use crate::{ShareOptions, Tlp};

/// The `network-connection` object template (misp-objects, version 7).
const NETWORK_CONNECTION_TEMPLATE: &str = "af16764b-f8e5-4603-9de1-de34d272f80b";

/// Builds the event for `model`.
pub fn event(model: &Model, opts: &ShareOptions) -> Value {
    let mut tags = vec![json!({ "name": opts.tlp.misp_tag() })];
    for technique in &model.techniques {
        tags.push(json!({ "name": galaxy_tag(technique) }));
    }
    let attributes = indicator_attributes(model);
    let objects: Vec<Value> = model
        .flows
        .iter()
        .map(|(flow, seen)| network_connection(flow, seen))
        .collect();
    let date = model.first.get(..10).unwrap_or("1970-01-01");
    let info = format!(
        "custos: {} findings, {} indicators, {} alerted flows{} ({} to {})",
        model.findings.len(),
        attributes.len(),
        objects.len(),
        left_out(model),
        display_time(&model.first),
        display_time(&model.last),
    );
    let content = Value::Array(vec![json!(info), json!(attributes), json!(objects)]);
    let uuid = uuid_v5(&CUSTOS_NAMESPACE, &format!("misp-event|{content}"));
    json!({
        "Event": {
            "uuid": uuid,
            "info": info,
            "date": date,
            "threat_level_id": threat_level(model),
            "analysis": "2",
            "distribution": distribution(opts.tlp),
            "published": false,
            "Orgc": { "name": opts.organisation },
            "Tag": tags,
            "Attribute": attributes,
            "Object": objects,
        }
    })
}

/// An event-level attribute per indicator of `model` (attacker addresses, JA3 and JA4
/// fingerprints, domains).
fn indicator_attributes(model: &Model) -> Vec<Value> {
    let mut attributes = Vec::new();
    for ((kind, value), seen) in &model.iocs {
        let (kind_name, to_ids, comment) = match kind {
            IocKind::Ip if value.contains(':') || value.contains('.') => {
                ("ip-src", true, "attacker address")
            }
            IocKind::Ip => continue,
            IocKind::Ja3 => (
                "ja3-fingerprint-md5",
                true,
                "attacker's JA3 TLS fingerprint",
            ),
            IocKind::Ja4 => ("text", false, "attacker's JA4 TLS fingerprint"),
            IocKind::Domain => ("domain", true, "domain resolved by an attacker"),
        };
        let key = format!("attribute|{kind_name}|{value}");
        let mut attr = attribute(&key, kind_name, value, seen);
        attr["to_ids"] = json!(to_ids);
        attr["comment"] = json!(format!("{comment}; {}", sources(seen)));
        attributes.push(attr);
    }
    attributes
}

/// The `network-connection` object of an alerted flow: its addresses, ports, protocol,
/// packet count and times.
fn network_connection(flow: &FlowKey, seen: &Seen) -> Value {
    let key = format!(
        "network-connection|{}|{}|{:?}|{:?}|{:?}",
        flow.src, flow.dst, flow.src_port, flow.dst_port, flow.proto
    );
    let mut attrs = vec![
        relation(&key, "ip-src", "ip-src", &flow.src.to_string(), seen),
        relation(&key, "ip-dst", "ip-dst", &flow.dst.to_string(), seen),
    ];
    if let Some(port) = flow.src_port {
        attrs.push(relation(&key, "src-port", "port", &port.to_string(), seen));
    }
    if let Some(port) = flow.dst_port {
        attrs.push(relation(&key, "dst-port", "port", &port.to_string(), seen));
    }
    if let Some(proto) = &flow.proto {
        let l4 = proto.to_ascii_uppercase();
        attrs.push(relation(&key, "layer4-protocol", "text", &l4, seen));
    }
    attrs.push(relation(
        &key,
        "count",
        "counter",
        &seen.count.to_string(),
        seen,
    ));
    attrs.push(relation(
        &key,
        "first-packet-seen",
        "datetime",
        &misp_time(&seen.first),
        seen,
    ));
    attrs.push(relation(
        &key,
        "last-packet-seen",
        "datetime",
        &misp_time(&seen.last),
        seen,
    ));
    json!({
        "name": "network-connection",
        "meta-category": "network",
        "description": "A local or remote network connection.",
        "template_uuid": NETWORK_CONNECTION_TEMPLATE,
        "template_version": "7",
        "uuid": uuid_v5(&CUSTOS_NAMESPACE, &key),
        "distribution": "5",
        "comment": sources(seen),
        "first_seen": misp_time(&seen.first),
        "last_seen": misp_time(&seen.last),
        "Attribute": attrs,
    })
}

/// An event-level attribute.
fn attribute(key: &str, kind: &str, value: &str, seen: &Seen) -> Value {
    json!({
        "uuid": uuid_v5(&CUSTOS_NAMESPACE, key),
        "type": kind,
        "category": "Network activity",
        "value": value,
        "distribution": "5",
        "first_seen": misp_time(&seen.first),
        "last_seen": misp_time(&seen.last),
    })
}

/// An object's attribute.
fn relation(object_key: &str, relation: &str, kind: &str, value: &str, seen: &Seen) -> Value {
    let mut attr = attribute(&format!("{object_key}|{relation}"), kind, value, seen);
    attr["object_relation"] = json!(relation);
    attr["to_ids"] = json!(false);
    if let Some(map) = attr.as_object_mut() {
        // Only the connection as a whole has a time span.
        map.remove("first_seen");
        map.remove("last_seen");
    }
    attr
}

/// The ATT&CK galaxy cluster tag of a technique: Enterprise sub-techniques by their own
/// name (`Password Guessing - T1110.001`), ICS techniques in the ICS galaxy.
pub fn galaxy_tag(technique: &str) -> String {
    let name = attack::name(technique);
    let short = name.split_once(": ").map_or(name, |(_, sub)| sub);
    let galaxy = if attack::is_ics(technique) {
        "mitre-ics-techniques"
    } else {
        "mitre-attack-pattern"
    };
    format!("misp-galaxy:{galaxy}=\"{short} - {technique}\"")
}

/// MISP's sharing level for a TLP level (0 organisation … 3 all communities).
fn distribution(tlp: Tlp) -> &'static str {
    match tlp {
        Tlp::Clear => "3",
        Tlp::Green => "2",
        Tlp::Amber => "1",
        Tlp::AmberStrict | Tlp::Red => "0",
    }
}

/// 1 high, 2 medium, 3 low, from the worst finding (4 undefined without findings).
fn threat_level(model: &Model) -> &'static str {
    let worst = model
        .findings
        .iter()
        .map(|f| match f.severity.as_str() {
            "critical" | "high" => 1,
            "medium" => 2,
            _ => 3,
        })
        .min();
    match worst {
        Some(1) => "1",
        Some(2) => "2",
        Some(_) => "3",
        None => "4",
    }
}

/// A STIX time (`…00.354Z`) as MISP writes it (`…00.354000+00:00`).
fn misp_time(stix: &str) -> String {
    match stix.strip_suffix('Z') {
        Some(base) => format!("{base}000+00:00"),
        None => stix.to_string(),
    }
}

/// `" (and N more)"` when flows were left out.
fn left_out(model: &Model) -> String {
    match model.flows_left_out {
        0 => String::new(),
        n => format!(" (and {n} more left out)"),
    }
}

/// A STIX time for the event's title, or `?` when there is none.
fn display_time(stix: &str) -> &str {
    if stix.is_empty() {
        "?"
    } else {
        stix
    }
}

/// What reported something, as text.
fn sources(seen: &Seen) -> String {
    let list: Vec<&str> = seen.sources.iter().map(String::as_str).collect();
    format!("seen {} times ({})", seen.count, list.join(", "))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn galaxy_tags_name_sub_techniques_and_ics() {
        assert_eq!(
            galaxy_tag("T1046"),
            "misp-galaxy:mitre-attack-pattern=\"Network Service Discovery - T1046\""
        );
        assert_eq!(
            galaxy_tag("T1110.001"),
            "misp-galaxy:mitre-attack-pattern=\"Password Guessing - T1110.001\""
        );
        assert_eq!(
            galaxy_tag("T0855"),
            "misp-galaxy:mitre-ics-techniques=\"Unauthorized Command Message - T0855\""
        );
    }
}
