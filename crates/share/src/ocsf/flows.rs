//! OCSF 1.5.0 Network Activity (`network_activity`, class 4001) for the flows of
//! `flows.jsonl`: one `Traffic` event per ended flow, its originator the source endpoint.

use std::net::IpAddr;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::map::{bounded, protocol};
use super::{endpoints, metadata, Ends, Uids};
use crate::anon::Anon;
use crate::ShareError;

/// Network Activity (`class_uid`).
const CLASS_UID: u32 = 4001;
/// Network Activity (`category_uid`).
const CATEGORY_UID: u32 = 4;
/// Traffic (`activity_id`): a summary of an ended flow's traffic.
const ACTIVITY_TRAFFIC: u32 = 6;

/// An EVE flow record as the export reads it.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct EveFlow {
    /// Time the flow ended.
    pub timestamp: String,
    /// Originator address.
    pub src_ip: Option<IpAddr>,
    /// Responder address.
    pub dest_ip: Option<IpAddr>,
    /// Originator port.
    pub src_port: Option<u16>,
    /// Responder port.
    pub dest_port: Option<u16>,
    /// Transport protocol (`TCP`, `IPv6-ICMP`, or a number).
    pub proto: Option<String>,
    /// Application protocol recognised by content.
    pub app_proto: Option<String>,
    /// Community ID v1 (over the original addresses).
    pub community_id: Option<String>,
    /// Counters and times.
    pub flow: EveFlowCounters,
}

/// EVE `flow.*`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct EveFlowCounters {
    /// Packets from the originator.
    pub pkts_toserver: u64,
    /// Packets from the responder.
    pub pkts_toclient: u64,
    /// Bytes from the originator.
    pub bytes_toserver: u64,
    /// Bytes from the responder.
    pub bytes_toclient: u64,
    /// First packet time.
    pub start: String,
    /// Last packet time.
    pub end: String,
}

/// The Network Activity event of one flow seen from `start` to `end` (ms since 1970).
pub(super) fn flow_event(
    f: &EveFlow,
    (start, end): (i64, i64),
    opts: &crate::ShareOptions,
    anon: &mut Anon<'_>,
    pseudonymised: bool,
    uids: &mut Uids,
) -> Result<Value, ShareError> {
    let src = f.src_ip.map(|ip| anon.ip(ip)).transpose()?.flatten();
    let dst = f.dest_ip.map(|ip| anon.ip(ip)).transpose()?.flatten();
    let proto = f.proto.as_deref().and_then(protocol);
    let uid = uids.next(&format!(
        "flow|{start}|{end}|{src:?}|{:?}|{dst:?}|{:?}|{proto:?}",
        f.src_port, f.dest_port
    ));
    let c = &f.flow;
    let mut event = Map::new();
    for (k, v) in [
        ("category_uid", json!(CATEGORY_UID)),
        ("category_name", json!("Network Activity")),
        ("class_uid", json!(CLASS_UID)),
        ("class_name", json!("Network Activity")),
        ("activity_id", json!(ACTIVITY_TRAFFIC)),
        ("activity_name", json!("Traffic")),
        ("type_uid", json!(CLASS_UID * 100 + ACTIVITY_TRAFFIC)),
        ("type_name", json!("Network Activity: Traffic")),
        ("time", json!(end)),
        ("start_time", json!(start)),
        ("end_time", json!(end)),
        ("duration", json!(end.saturating_sub(start))),
        ("timezone_offset", json!(0)),
        ("severity_id", json!(1)),
        ("severity", json!("Informational")),
    ] {
        event.insert(k.to_string(), v);
    }
    let observables = endpoints(
        &mut event,
        "",
        Ends {
            src: (src, f.src_port),
            dst: (dst, f.dest_port),
            proto,
            community: f.community_id.as_deref().filter(|_| !pseudonymised),
        },
    );
    // OCSF counts are long integers: JSON keeps them exact up to 2^63.
    let clamp = |n: u64| n.min(i64::MAX as u64);
    event.insert(
        "traffic".to_string(),
        json!({
            "packets_out": clamp(c.pkts_toserver),
            "packets_in": clamp(c.pkts_toclient),
            "packets": clamp(c.pkts_toserver.saturating_add(c.pkts_toclient)),
            "bytes_out": clamp(c.bytes_toserver),
            "bytes_in": clamp(c.bytes_toclient),
            "bytes": clamp(c.bytes_toserver.saturating_add(c.bytes_toclient)),
        }),
    );
    if let Some(app) = f
        .app_proto
        .as_deref()
        .map(bounded)
        .filter(|a| !a.is_empty())
    {
        event.insert("app_name".to_string(), json!(app));
    }
    if !observables.is_empty() {
        event.insert("observables".to_string(), json!(observables));
    }
    event.insert("metadata".to_string(), metadata(&uid, None, opts));
    Ok(Value::Object(event))
}
