//! `case.jsonld`: the bundle described in CASE 1.x / UCO 1.x JSON-LD, following the structure
//! of the CASE-Examples `network_connection` illustration (Investigation, InvestigativeAction,
//! ProvenanceRecord, File with FileFacet + ContentDataFacet + Hash (`hashMethod` a plain
//! string, as UCO 1.4 asks), NetworkConnection with
//! NetworkConnectionFacet between IP address observables).
//!
//! Every node has an IRI ending in a UUID (CASE recommends UUID-suffixed IRIs and warns on
//! blank nodes); the UUIDs are derived from SHA-256 of the log origin, the custody leaf index
//! and the node's role, so the same export gives the same document.

// `serde_json::Value[&str]` reads return `Null` for a missing key or a non-object and never
// panic; the lint cannot tell them from slice indexing.
#![allow(clippy::indexing_slicing)]

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

use super::FileEntry;

/// The JSON-LD `@context`: CASE/UCO 1.x namespaces plus `kb:` for this document's nodes.
pub(crate) fn context() -> Value {
    json!({
        "kb": "urn:custos:kb:",
        "case-investigation": "https://ontology.caseontology.org/case/investigation/",
        "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
        "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
        "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
        "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
        "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
        "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
        "uco-vocabulary": "https://ontology.unifiedcyberontology.org/uco/vocabulary/",
        "xsd": "http://www.w3.org/2001/XMLSchema#"
    })
}

/// What the document describes.
pub(crate) struct Input<'a> {
    pub origin: &'a str,
    pub who: &'a str,
    pub when: &'a str,
    pub why: &'a str,
    pub custody_index: u64,
    /// Selected alerts: leaf index and the parsed leaf.
    pub alerts: &'a [(u64, Value)],
    /// The bundle files the document describes (every manifest file but `case.jsonld`).
    pub files: &'a [FileEntry],
}

/// Derives the node IRIs of one document.
struct Ids {
    /// Log origin and custody leaf index: what makes the IRIs unique to the export.
    seed: String,
}

impl Ids {
    /// `kb:<role>-<uuid>` with a name-based UUID (version 5 layout over SHA-256).
    fn id(&self, role: &str, key: &str) -> String {
        let h = Sha256::digest(format!("{}\0{role}\0{key}", self.seed).as_bytes());
        let mut b = [0u8; 16];
        b.copy_from_slice(h.get(..16).unwrap_or(&[0; 16]));
        b[6] = (b[6] & 0x0f) | 0x50;
        b[8] = (b[8] & 0x3f) | 0x80;
        let x: String = b.iter().map(|v| format!("{v:02x}")).collect();
        format!(
            "kb:{role}-{}-{}-{}-{}-{}",
            x.get(0..8).unwrap_or_default(),
            x.get(8..12).unwrap_or_default(),
            x.get(12..16).unwrap_or_default(),
            x.get(16..20).unwrap_or_default(),
            x.get(20..32).unwrap_or_default()
        )
    }
}

/// An `xsd:dateTime` literal.
fn dt(v: &str) -> Value {
    json!({"@type": "xsd:dateTime", "@value": v})
}

/// An `xsd:integer` literal.
fn int(v: u64) -> Value {
    json!({"@type": "xsd:integer", "@value": v.to_string()})
}

/// Sets `key` of the object `v` to `x` (nothing if `v` is not an object).
fn set(v: &mut Value, key: &str, x: Value) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.to_string(), x);
    }
}

/// A reference to the node `id`.
fn r(id: &str) -> Value {
    json!({"@id": id})
}

/// The UCO transport-layer name of an EVE `proto`.
fn transport(proto: &str) -> &str {
    match proto {
        "TCP" | "UDP" | "SCTP" => proto,
        "ICMP" | "IPV6-ICMP" => "ICMP",
        _ => proto,
    }
}

/// Builds the document.
pub(crate) fn build(inp: &Input<'_>) -> Value {
    let mut g = Graph {
        ids: Ids {
            seed: format!("{}\0{}", inp.origin, inp.custody_index),
        },
        nodes: Vec::new(),
        file_ids: BTreeMap::new(),
        addr_ids: BTreeMap::new(),
        flow_ids: BTreeMap::new(),
        sensor_ids: BTreeMap::new(),
    };
    let tool = g.add_tool();
    let exporter = g.add_identity(inp.who);

    // Files.
    for f in inp.files {
        g.add_file(f);
    }

    // Addresses, flows, sensors and the per-alert "logged" actions.
    for (index, leaf) in inp.alerts {
        g.add_logged_action(inp.origin, *index, leaf, &tool);
    }

    let provenance = g.add_provenance(inp);
    g.add_export_action(inp, &tool, &exporter, &provenance);
    g.into_document(inp)
}

/// The `@graph` being built, with the IRIs of the nodes added so far that later nodes refer
/// to.
struct Graph<'a> {
    /// Node IRIs.
    ids: Ids,
    /// The nodes, in the order they were added.
    nodes: Vec<Value>,
    /// File IRIs by bundle path.
    file_ids: BTreeMap<&'a str, String>,
    /// IP address IRIs by address.
    addr_ids: BTreeMap<String, String>,
    /// NetworkConnection IRIs by Community ID.
    flow_ids: BTreeMap<String, String>,
    /// Sensor Device IRIs by sensor name.
    sensor_ids: BTreeMap<String, String>,
}

impl<'a> Graph<'a> {
    /// Adds the custos Tool node; returns its IRI.
    fn add_tool(&mut self) -> String {
        let tool = self.ids.id("tool", "custos");
        self.nodes.push(json!({
            "@id": tool,
            "@type": "uco-tool:Tool",
            "uco-core:name": "custos",
            "uco-tool:toolType": "IoT network security monitor",
            "uco-tool:version": env!("CARGO_PKG_VERSION"),
        }));
        tool
    }

    /// Adds the Identity node of the exporter `who`; returns its IRI.
    fn add_identity(&mut self, who: &str) -> String {
        let exporter = self.ids.id("identity", who);
        self.nodes.push(json!({
            "@id": exporter,
            "@type": "uco-identity:Identity",
            "uco-core:name": who,
        }));
        exporter
    }

    /// Adds the File node of bundle file `f`, with its FileFacet and its ContentDataFacet
    /// holding the SHA-256.
    fn add_file(&mut self, f: &'a FileEntry) {
        let ids = &self.ids;
        let id = ids.id("file", &f.path);
        let name = f.path.rsplit('/').next().unwrap_or(&f.path);
        let mut file_facet = json!({
            "@id": ids.id("file-facet", &f.path),
            "@type": "uco-observable:FileFacet",
            "uco-observable:fileName": name,
            "uco-observable:filePath": f.path,
            "uco-observable:isDirectory": false,
            "uco-observable:sizeInBytes": int(f.size),
        });
        if let Some((_, ext)) = name.rsplit_once('.') {
            set(&mut file_facet, "uco-observable:extension", json!(ext));
        }
        self.nodes.push(json!({
            "@id": id,
            "@type": "uco-observable:File",
            "uco-core:hasFacet": [
                file_facet,
                {
                    "@id": ids.id("content-facet", &f.path),
                    "@type": "uco-observable:ContentDataFacet",
                    "uco-observable:sizeInBytes": int(f.size),
                    "uco-observable:hash": [{
                        "@id": ids.id("hash", &f.path),
                        "@type": "uco-types:Hash",
                        "uco-types:hashMethod": "SHA256",
                        "uco-types:hashValue": {
                            "@type": "xsd:hexBinary",
                            "@value": f.sha256.to_uppercase()
                        }
                    }]
                }
            ]
        }));
        self.file_ids.insert(f.path.as_str(), id);
    }

    /// Adds the "logged" InvestigativeAction of alert leaf `index` (and, first, the sensor,
    /// address and flow nodes it refers to that are not in the graph yet).
    fn add_logged_action(&mut self, origin: &str, index: u64, leaf: &Value, tool: &str) {
        let alert = &leaf["alert"];
        let sensor_id = self.sensor(leaf);
        let mut results = Vec::new();
        if let (Some(src), Some(dst)) = (alert["src_ip"].as_str(), alert["dest_ip"].as_str()) {
            let flow = self.flow(leaf, src, dst);
            results.push(r(&flow));
        }
        if let Some(x) = leaf["excerpt_sha256"].as_str() {
            if let Some(id) = self.file_ids.get(format!("excerpts/{x}.pcap").as_str()) {
                results.push(r(id));
            }
        }
        let id = self.ids.id("logged-action", &index.to_string());
        let mut action = json!({
            "@id": id,
            "@type": "case-investigation:InvestigativeAction",
            "uco-core:name": "logged",
            "uco-core:description": format!(
                "custos raised an alert ({}) and appended it to the evidence log {} as leaf {index}",
                alert["alert"]["signature"].as_str().unwrap_or("alert"),
                origin
            ),
            "uco-action:instrument": r(tool),
            "uco-action:performer": r(&sensor_id),
            "uco-action:result": results,
        });
        if let Some(t) = alert["timestamp"]
            .as_str()
            .and_then(super::time::parse_rfc3339)
        {
            set(
                &mut action,
                "uco-action:endTime",
                dt(&super::time::format_rfc3339(t)),
            );
        }
        self.nodes.push(action);
    }

    /// The IRI of the Device node of the sensor that logged `leaf`, adding the node the
    /// first time.
    fn sensor(&mut self, leaf: &Value) -> String {
        let sensor = leaf["sensor"]
            .as_str()
            .unwrap_or("unknown sensor")
            .to_string();
        if let Some(id) = self.sensor_ids.get(&sensor) {
            return id.clone();
        }
        let id = self.ids.id("sensor", &sensor);
        self.nodes.push(json!({
            "@id": id,
            "@type": "uco-observable:Device",
            "uco-core:name": sensor,
            "uco-core:description": "custos sensor that raised and logged the alert",
        }));
        self.sensor_ids.insert(sensor, id.clone());
        id
    }

    /// The IRI of the IPv4 or IPv6 address node of `a`, adding the node the first time.
    fn address(&mut self, a: &str) -> String {
        if let Some(id) = self.addr_ids.get(a) {
            return id.clone();
        }
        let id = self.ids.id("ip-address", a);
        let (class, facet) = if a.contains(':') {
            (
                "uco-observable:IPv6Address",
                "uco-observable:IPv6AddressFacet",
            )
        } else {
            (
                "uco-observable:IPv4Address",
                "uco-observable:IPv4AddressFacet",
            )
        };
        self.nodes.push(json!({
            "@id": id,
            "@type": class,
            "uco-core:hasFacet": [{
                "@id": self.ids.id("ip-address-facet", a),
                "@type": facet,
                "uco-observable:addressValue": a,
            }]
        }));
        self.addr_ids.insert(a.to_string(), id.clone());
        id
    }

    /// The IRI of the NetworkConnection node of the flow of `leaf` from `src` to `dst`
    /// (keyed by its Community ID), adding it and its address nodes the first time.
    fn flow(&mut self, leaf: &Value, src: &str, dst: &str) -> String {
        let alert = &leaf["alert"];
        let (src_id, dst_id) = (self.address(src), self.address(dst));
        let cid = leaf["community_id"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| {
                format!(
                    "{src}:{}-{dst}:{}-{}",
                    alert["src_port"], alert["dest_port"], alert["proto"]
                )
            });
        if let Some(id) = self.flow_ids.get(&cid) {
            return id.clone();
        }
        let id = self.ids.id("network-connection", &cid);
        let facet = self.connection_facet(&cid, alert, &src_id, &dst_id);
        self.nodes.push(json!({
            "@id": id,
            "@type": "uco-observable:NetworkConnection",
            "uco-core:description": format!("Flow with Community ID {cid}"),
            "uco-core:hasFacet": [facet],
        }));
        self.flow_ids.insert(cid, id.clone());
        id
    }

    /// The NetworkConnectionFacet of flow `cid`: its endpoints, the ports and the transport
    /// protocol `alert` gives.
    fn connection_facet(&self, cid: &str, alert: &Value, src_id: &str, dst_id: &str) -> Value {
        let mut facet = json!({
            "@id": self.ids.id("network-connection-facet", cid),
            "@type": "uco-observable:NetworkConnectionFacet",
            "uco-observable:src": [r(src_id)],
            "uco-observable:dst": [r(dst_id)],
        });
        if let Some(p) = alert["src_port"].as_u64() {
            set(&mut facet, "uco-observable:sourcePort", int(p));
        }
        if let Some(p) = alert["dest_port"].as_u64() {
            set(&mut facet, "uco-observable:destinationPort", int(p));
        }
        if let Some(p) = alert["proto"].as_str() {
            facet["uco-observable:protocols"] = json!({
                "@id": self.ids.id("protocols", cid),
                "@type": "uco-types:ControlledDictionary",
                "uco-types:entry": [{
                    "@id": self.ids.id("protocols-entry", cid),
                    "@type": "uco-types:ControlledDictionaryEntry",
                    "uco-types:key": "Transport Layer",
                    "uco-types:value": transport(p),
                }]
            });
        }
        facet
    }

    /// Adds the ProvenanceRecord of the bundle (its files); returns its IRI.
    fn add_provenance(&mut self, inp: &Input<'_>) -> String {
        let provenance = self.ids.id("provenance-record", "bundle");
        self.nodes.push(json!({
            "@id": provenance,
            "@type": "case-investigation:ProvenanceRecord",
            "case-investigation:exhibitNumber": format!("{}#{}", inp.origin, inp.custody_index),
            "uco-core:description": format!(
                "Case bundle exported from the custos evidence log {}; its manifest is logged in custody leaf {}",
                inp.origin, inp.custody_index
            ),
            "uco-core:object": self.file_ids.values().map(|i| r(i)).collect::<Vec<_>>(),
        }));
        provenance
    }

    /// Adds the "exported" InvestigativeAction: `exporter` made the bundle with `tool`, with
    /// the ProvenanceRecord `provenance` as its result.
    fn add_export_action(&mut self, inp: &Input<'_>, tool: &str, exporter: &str, provenance: &str) {
        let export = self.ids.id("export-action", "bundle");
        self.nodes.push(json!({
            "@id": export,
            "@type": "case-investigation:InvestigativeAction",
            "uco-core:name": "exported",
            "uco-core:description": inp.why,
            "uco-action:instrument": r(tool),
            "uco-action:performer": r(exporter),
            "uco-action:endTime": dt(inp.when),
            "uco-action:object": self.file_ids.values().map(|i| r(i)).collect::<Vec<_>>(),
            "uco-action:result": [r(provenance)],
        }));
    }

    /// The document: the Investigation node (whose objects are every other node, sorted by
    /// IRI) first, then the other nodes, under the `@context`.
    fn into_document(self, inp: &Input<'_>) -> Value {
        let mut graph = self.nodes;
        let investigation = self.ids.id("investigation", "bundle");
        let mut members: Vec<Value> = graph
            .iter()
            .filter_map(|n| n.get("@id").cloned())
            .map(|i| json!({"@id": i}))
            .collect();
        members.sort_by(|a, b| a["@id"].as_str().cmp(&b["@id"].as_str()));
        graph.insert(
            0,
            json!({
                "@id": investigation,
                "@type": "case-investigation:Investigation",
                "uco-core:name": format!("custos case {}#{}", inp.origin, inp.custody_index),
                "case-investigation:focus": "network security alerts",
                "uco-core:description": inp.why,
                "uco-core:object": members,
            }),
        );
        json!({"@context": context(), "@graph": graph})
    }
}

/// The `(path, SHA-256 hex lower-case)` of every `uco-observable:File` in `doc` that has a
/// FileFacet path and a SHA256 hash, for verification.
pub(crate) fn file_hashes(doc: &Value) -> Result<Vec<(String, String)>, String> {
    let graph = doc
        .get("@graph")
        .and_then(Value::as_array)
        .ok_or("no @graph array")?;
    let mut out = Vec::new();
    for node in graph {
        if node.get("@type").and_then(Value::as_str) != Some("uco-observable:File") {
            continue;
        }
        let id = node.get("@id").and_then(Value::as_str).unwrap_or("?");
        let facets = node
            .get("uco-core:hasFacet")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("File {id} has no facets"))?;
        let mut path = None;
        let mut hash = None;
        for f in facets {
            match f.get("@type").and_then(Value::as_str) {
                Some("uco-observable:FileFacet") => {
                    path = f
                        .get("uco-observable:filePath")
                        .and_then(Value::as_str)
                        .map(str::to_string);
                }
                Some("uco-observable:ContentDataFacet") => {
                    for h in f
                        .get("uco-observable:hash")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                    {
                        let method = h.get("uco-types:hashMethod");
                        let method = method
                            .and_then(|m| m.get("@value"))
                            .or(method)
                            .and_then(Value::as_str);
                        if method == Some("SHA256") {
                            hash = h
                                .pointer("/uco-types:hashValue/@value")
                                .and_then(Value::as_str)
                                .map(str::to_ascii_lowercase);
                        }
                    }
                }
                _ => {}
            }
        }
        match (path, hash) {
            (Some(p), Some(h)) => out.push((p, h)),
            _ => return Err(format!("File {id} lacks a filePath or a SHA256 hash")),
        }
    }
    Ok(out)
}
