//! The feature schema: every column of `flows.parquet`, in order, and the values of one row.
//!
//! Columns have a role: `id` (which flow: uid, addresses, packet indices, times), `context`
//! (how the flow table ended it), `feature` (what a model may learn from) and `label`. The
//! schema has a name and a version ([`FEATURE_SCHEMA`], [`FEATURE_SCHEMA_VERSION`]); the
//! version changes whenever a column is added, removed, renamed or computed differently.

use crate::collector::FlowPart;
use custos_features::flow::live::{direction_values, Num};
use custos_features::flow::{
    AppCounts, DirStats, HostFeatures, APP_COLUMNS, HOST_COLUMNS, TCP_FLAGS,
};
use custos_flow::{EndReason, EndedFlow};
use serde::Serialize;

/// Name of the feature schema.
pub const FEATURE_SCHEMA: &str = "custos-flow-features";

/// Version of the feature schema.
pub const FEATURE_SCHEMA_VERSION: u32 = 5;

pub use custos_features::flow::live::DIRECTIONS;

/// Type of a column's values (Parquet / Arrow types in the docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    /// UTF-8 text.
    Utf8,
    /// Unsigned 8-bit integer.
    Uint8,
    /// Unsigned 16-bit integer.
    Uint16,
    /// Unsigned 64-bit integer.
    Uint64,
    /// 64-bit float.
    Float64,
    /// Timestamp, nanoseconds since the epoch, UTC.
    TimestampNs,
}

/// What a column is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Identifies the flow (never a feature).
    Id,
    /// Describes how the flow was cut (not a property of the traffic).
    Context,
    /// A feature.
    Feature,
    /// Ground truth.
    Label,
}

/// One column of the schema.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Value type.
    #[serde(rename = "type")]
    pub kind: ColumnType,
    /// May hold nulls.
    pub nullable: bool,
    /// Its role.
    pub role: Role,
    /// Unit, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit: Option<&'static str>,
    /// What it holds.
    pub description: String,
}

/// A column as the tables below give it: name, type, nullable, role, unit, description.
type Spec = (
    &'static str,
    ColumnType,
    bool,
    Role,
    Option<&'static str>,
    &'static str,
);

use ColumnType::{Float64, TimestampNs, Uint16, Uint64, Uint8, Utf8};
use Role::{Context, Feature, Id};

/// The columns before the statistics: which flow, and Zeek's view of it.
#[rustfmt::skip]
const FLOW_COLUMNS: [Spec; 22] = [
    ("uid", Utf8, false, Id, None, "conn.log uid of the flow"),
    ("community_id", Utf8, false, Id, None, "Community ID v1 (seed 0); shared by flows that reuse a 5-tuple"),
    ("capture", Uint16, false, Id, None, "input of its first packet: position among the captures (0-based)"),
    ("first_packet", Uint64, false, Id, None, "index of its first packet within that capture (0-based)"),
    ("last_capture", Uint16, false, Id, None, "input of its last packet"),
    ("last_packet", Uint64, false, Id, None, "index of its last packet within that capture"),
    ("start", TimestampNs, false, Id, None, "time of its first packet"),
    ("end", TimestampNs, false, Id, None, "time of its last packet"),
    ("orig_addr", Utf8, false, Id, None, "originator address (Zeek's id.orig_h)"),
    ("orig_port", Uint16, false, Id, None, "originator port, or ICMP type"),
    ("resp_addr", Utf8, false, Id, None, "responder address (Zeek's id.resp_h)"),
    ("resp_port", Uint16, false, Feature, None, "responder port, or ICMP counterpart type or code"),
    ("proto", Uint8, false, Feature, None, "IP protocol number"),
    ("app_proto", Utf8, true, Feature, None, "application protocol recognised by content (null: none)"),
    ("conn_state", Utf8, false, Feature, None, "Zeek conn_state"),
    ("history", Utf8, false, Feature, None, "Zeek history (empty: none)"),
    ("end_reason", Utf8, false, Context, None, "why the flow ended: timeout, reused, evicted or shutdown (end of input)"),
    ("orig_bytes", Uint64, false, Feature, Some("bytes"), "Zeek orig_bytes: payload bytes from the originator"),
    ("resp_bytes", Uint64, false, Feature, Some("bytes"), "Zeek resp_bytes: payload bytes from the responder"),
    ("orig_ip_bytes", Uint64, false, Feature, Some("bytes"), "Zeek orig_ip_bytes: IP bytes from the originator"),
    ("resp_ip_bytes", Uint64, false, Feature, Some("bytes"), "Zeek resp_ip_bytes: IP bytes from the responder"),
    ("missed_bytes", Uint64, false, Feature, Some("bytes"), "Zeek missed_bytes: TCP content gaps"),
];

/// The column after the application counts.
#[rustfmt::skip]
const DNS_ERROR_RATIO: Spec =
    ("dns_error_ratio", Float64, false, Feature, None, "dns_errors / dns_responses (0 without responses)");

/// The columns after the host features: the ground truth.
#[rustfmt::skip]
const LAST_COLUMNS: [Spec; 3] = [
    ("label", Uint8, false, Role::Label, None, "1: attack flow, 0: benign (docs/dataset.md, Labels)"),
    ("phase", Utf8, true, Role::Label, None, "phase of its first attack packet, else of its first packet (null: the labels name none)"),
    ("attack_packets", Uint64, true, Role::Label, None, "its packets labelled attack (null: per-flow labels)"),
];

fn col(s: &Spec) -> Column {
    let &(name, kind, nullable, role, unit, description) = s;
    Column {
        name: name.to_string(),
        kind,
        nullable,
        role,
        unit,
        description: description.to_string(),
    }
}

/// Every column of `flows.parquet`, in order.
pub fn columns() -> Vec<Column> {
    let mut c: Vec<Column> = FLOW_COLUMNS.iter().map(col).collect();
    for d in DIRECTIONS {
        c.extend(direction_columns(d));
    }
    for (name, d) in APP_COLUMNS {
        c.push(col(&(name, Uint64, false, Feature, None, d)));
    }
    c.push(col(&DNS_ERROR_RATIO));
    for (name, d) in HOST_COLUMNS {
        c.push(col(&(name, Float64, false, Feature, Some("flows"), d)));
    }
    c.extend(LAST_COLUMNS.iter().map(col));
    c
}

/// Every column of `flow-prefixes.parquet`, in order: the flow's uid, the checkpoint (its
/// packets so far), the live features (`custos_features::flow::live::names`) and the labels of the packets
/// so far (`label`, `phase`).
pub fn prefix_columns() -> Vec<Column> {
    let all = columns();
    let find = |name: &str| all.iter().find(|c| c.name == name).cloned();
    let mut c: Vec<Column> = find("uid").into_iter().collect();
    c.push(col(&(
        "checkpoint",
        Uint64,
        false,
        Id,
        None,
        "packets of the flow so far (1, 2, 4, 8, …)",
    )));
    c.extend(
        custos_features::flow::live::names()
            .iter()
            .filter_map(|n| find(n)),
    );
    c.push(col(&(
        "label",
        Uint8,
        false,
        Role::Label,
        None,
        "1: a packet so far is labelled attack (per-packet labels) or the flow is (per-flow labels), 0: benign",
    )));
    c.extend(find("phase"));
    c
}

/// The statistical columns of direction prefix `d`.
fn direction_columns(d: &str) -> Vec<Column> {
    let what = match d {
        "bidirectional" => "of the flow",
        "src2dst" => "from the originator",
        _ => "from the responder",
    };
    let ms = Some("ms");
    let by = Some("bytes");
    let specs: [(&str, ColumnType, Option<&'static str>, String); 11] = [
        (
            "duration_ms",
            Float64,
            ms,
            format!("time from the first to the last packet {what}"),
        ),
        ("packets", Uint64, None, format!("packets {what}")),
        ("bytes", Uint64, by, format!("frame bytes {what}")),
        (
            "min_ps",
            Uint64,
            by,
            format!("smallest frame {what} (0: none)"),
        ),
        ("mean_ps", Float64, by, format!("mean frame size {what}")),
        (
            "stddev_ps",
            Float64,
            by,
            format!("sample standard deviation of frame sizes {what}"),
        ),
        ("max_ps", Uint64, by, format!("largest frame {what}")),
        (
            "min_piat_ms",
            Float64,
            ms,
            format!("smallest gap between packets {what} (0: under two)"),
        ),
        (
            "mean_piat_ms",
            Float64,
            ms,
            format!("mean gap between consecutive packets {what}"),
        ),
        (
            "stddev_piat_ms",
            Float64,
            ms,
            format!("sample standard deviation of the gaps {what}"),
        ),
        (
            "max_piat_ms",
            Float64,
            ms,
            format!("largest gap between consecutive packets {what}"),
        ),
    ];
    let mut c: Vec<Column> = specs
        .into_iter()
        .map(|(n, kind, unit, text)| Column {
            name: format!("{d}_{n}"),
            kind,
            nullable: false,
            role: Feature,
            unit,
            description: text,
        })
        .collect();
    for (flag, _) in TCP_FLAGS {
        c.push(Column {
            name: format!("{d}_{flag}_packets"),
            kind: Uint64,
            nullable: false,
            role: Feature,
            unit: None,
            description: format!("TCP packets with {} set {what}", flag.to_uppercase()),
        });
    }
    c
}

/// One value of a row; `None` is null.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Str(Option<String>),
    U8(u8),
    U16(u16),
    U64(Option<u64>),
    F64(f64),
    Ts(i64),
}

fn end_reason(r: EndReason) -> &'static str {
    match r {
        EndReason::Timeout => "timeout",
        EndReason::Reused => "reused",
        EndReason::Evicted => "evicted",
        EndReason::Shutdown => "shutdown",
    }
}

fn s(v: impl Into<String>) -> Value {
    Value::Str(Some(v.into()))
}

fn u(v: u64) -> Value {
    Value::U64(Some(v))
}

/// The values of one flow's row, in the order of [`columns`].
pub(crate) fn row(f: &EndedFlow, part: &FlowPart, phases: &[String], out: &mut Vec<Value>) {
    let (flow, z) = (&f.flow, &f.summary);
    out.extend([
        s(flow.uid()),
        s(flow.community_id()),
        Value::U16(flow.file),
        u(flow.first_index),
        Value::U16(flow.last_file),
        u(flow.last_index),
        Value::Ts(z.start_ts),
        Value::Ts(z.last_ts),
        s(flow.orig.addr.ip().to_string()),
        Value::U16(flow.orig.port),
        s(flow.resp.addr.ip().to_string()),
        Value::U16(flow.resp.port),
        Value::U8(flow.proto),
        Value::Str(f.app_proto.map(String::from)),
        s(z.conn_state.as_str()),
        s(z.history()),
        s(end_reason(f.reason)),
        u(z.orig.bytes),
        u(z.resp.bytes),
        u(z.orig.ip_bytes),
        u(z.resp.ip_bytes),
        u(z.missed_bytes),
    ]);
    features_and_label(
        &part.stats,
        &part.app,
        &part.host,
        part.label.unwrap_or_default(),
        phases,
        out,
    );
    out.push(Value::U64(part.attack_packets));
}

/// Appends the statistics of the three directions, the application counts, the host
/// features and the label (`label`, `phase`) — what rows of both Parquet files end with.
fn features_and_label(
    stats: &custos_features::flow::FlowStats,
    counts: &AppCounts,
    host: &HostFeatures,
    label: crate::labels::Label,
    phases: &[String],
    out: &mut Vec<Value>,
) {
    let [o, r] = &stats.dirs;
    for d in [stats.both(), *o, *r] {
        direction(&d, out);
    }
    app(counts, out);
    out.extend(host.values().iter().map(|&v| Value::F64(v)));
    out.push(Value::U8(u8::from(label.attack)));
    let phase = label
        .phase
        .and_then(|p| phases.get(usize::from(p)))
        .cloned();
    out.push(Value::Str(phase));
}

/// The values of one row of `flow-prefixes.parquet` ([`prefix_columns`]): flow `f` as it was
/// at snapshot `snap`.
pub(crate) fn prefix_row(
    f: &EndedFlow,
    snap: &custos_features::flow::Snapshot,
    phases: &[String],
    out: &mut Vec<Value>,
) {
    let flow = &f.flow;
    out.extend([
        s(flow.uid()),
        u(snap.packets),
        Value::U16(flow.resp.port),
        Value::U8(flow.proto),
    ]);
    features_and_label(
        &snap.stats,
        &snap.app,
        &snap.host,
        snap.labels.label(),
        phases,
        out,
    );
}

/// Appends the statistical columns of one direction.
pub(crate) fn direction(d: &DirStats, out: &mut Vec<Value>) {
    out.extend(direction_values(d).into_iter().map(|v| match v {
        Num::U64(x) => u(x),
        Num::F64(x) => Value::F64(x),
    }));
}

/// Appends the application counts and the DNS error ratio.
pub(crate) fn app(a: &AppCounts, out: &mut Vec<Value>) {
    out.extend(a.0.iter().map(|&n| u(n)));
    out.push(Value::F64(a.dns_error_ratio()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_features_are_feature_columns_named_alike() {
        let columns = columns();
        for name in custos_features::flow::live::names() {
            let c = columns.iter().find(|c| c.name == name);
            assert_eq!(c.map(|c| c.role), Some(Role::Feature), "{name}");
        }
        for d in DIRECTIONS {
            let ours: Vec<String> = direction_columns(d).into_iter().map(|c| c.name).collect();
            assert_eq!(ours, custos_features::flow::live::direction_names(d));
        }
    }

    #[test]
    fn docs_list_every_column_in_order() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/dataset.md");
        let doc = std::fs::read_to_string(path).unwrap();
        let listed: Vec<&str> = doc
            .lines()
            .skip_while(|l| *l != "## Schema")
            .skip(1)
            .take_while(|l| !l.starts_with("## "))
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split_once("` |"))
            .map(|(name, _)| name)
            .collect();
        let names: Vec<String> = columns().into_iter().map(|c| c.name).collect();
        assert_eq!(listed, names);
    }

    #[test]
    fn column_names_are_unique() {
        let mut names: Vec<String> = columns().into_iter().map(|c| c.name).collect();
        let n = names.len();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), n);
    }
}
