//! What the manifest counts over the rows: flows per label, phase and device, the time span,
//! and duplicate flows.

use crate::schema::{Column, Role, Value};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::hash::{Hash, Hasher};
use std::net::IpAddr;

/// Most devices (addresses) counted one by one; flows of further addresses count under
/// [`Counts::other_devices`].
pub const MAX_DEVICES: usize = 4096;

/// Flows, and attack flows among them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FlowCount {
    /// Flows.
    pub flows: u64,
    /// Attack flows.
    pub attack: u64,
}

impl FlowCount {
    fn add(&mut self, attack: bool) {
        self.flows += 1;
        self.attack += u64::from(attack);
    }
}

/// Duplicate flows: rows whose feature columns (role `feature`) equal an earlier row's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Duplicates {
    /// Rows whose features equal an earlier row's.
    pub rows: u64,
    /// Of those, rows whose label differs from an earlier identical row's.
    pub conflicting_labels: u64,
    /// Distinct feature vectors.
    pub distinct: u64,
}

/// The counts of a dataset.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Counts {
    /// Flows (rows).
    pub flows: u64,
    /// Flows per label: `benign`, `attack`.
    pub label: BTreeMap<String, u64>,
    /// Flows per phase (`(none)` for flows whose labels name no phase).
    pub phase: BTreeMap<String, FlowCount>,
    /// Flows per device: each address counts the flows it takes part in (as originator or
    /// responder), at most [`MAX_DEVICES`] addresses.
    pub device: BTreeMap<IpAddr, FlowCount>,
    /// Flows of addresses beyond [`MAX_DEVICES`] (counted once per such address).
    pub other_devices: FlowCount,
    /// Flows whose packets differ from the flow table's (0 expected; docs/dataset.md).
    pub inexact_flows: u64,
}

/// Accumulates [`Counts`], the time span and [`Duplicates`] row by row.
pub struct Counter {
    /// The counts so far.
    pub counts: Counts,
    /// First packet time and last packet time over all flows, ns.
    pub span: Option<(i64, i64)>,
    duplicates: Duplicates,
    /// Feature-vector hash → labels seen (bit 0 benign, bit 1 attack).
    seen: HashMap<u64, u8>,
    /// Which columns are features.
    features: Vec<bool>,
}

impl Counter {
    /// A counter for rows of `columns`.
    pub fn new(columns: &[Column]) -> Counter {
        Counter {
            counts: Counts::default(),
            span: None,
            duplicates: Duplicates::default(),
            seen: HashMap::new(),
            features: columns.iter().map(|c| c.role == Role::Feature).collect(),
        }
    }

    /// Counts one row: its values, label, phase, endpoints and time span.
    pub(crate) fn row(
        &mut self,
        values: &[Value],
        attack: bool,
        phase: Option<&str>,
        addrs: [IpAddr; 2],
        (start, end): (i64, i64),
    ) {
        let c = &mut self.counts;
        c.flows += 1;
        let name = if attack { "attack" } else { "benign" };
        *c.label.entry(name.into()).or_default() += 1;
        c.phase
            .entry(phase.unwrap_or("(none)").to_string())
            .or_default()
            .add(attack);
        let distinct = if addrs[0] == addrs[1] { 1 } else { 2 };
        for a in addrs.into_iter().take(distinct) {
            if c.device.contains_key(&a) || c.device.len() < MAX_DEVICES {
                c.device.entry(a).or_default().add(attack);
            } else {
                c.other_devices.add(attack);
            }
        }
        self.span = Some(match self.span {
            None => (start, end),
            Some((s, e)) => (s.min(start), e.max(end)),
        });
        self.duplicate(values, attack);
    }

    fn duplicate(&mut self, values: &[Value], attack: bool) {
        let mut h = std::hash::DefaultHasher::new();
        for (v, _) in values.iter().zip(&self.features).filter(|(_, f)| **f) {
            match v {
                Value::Str(s) => s.hash(&mut h),
                Value::U8(x) => x.hash(&mut h),
                Value::U16(x) => x.hash(&mut h),
                Value::U64(x) => x.hash(&mut h),
                Value::F64(x) => x.to_bits().hash(&mut h),
                Value::Ts(x) => x.hash(&mut h),
            }
        }
        let bit = if attack { 2u8 } else { 1 };
        let seen = self.seen.entry(h.finish()).or_insert(0);
        if *seen == 0 {
            self.duplicates.distinct += 1;
        } else {
            self.duplicates.rows += 1;
            if *seen & bit == 0 {
                self.duplicates.conflicting_labels += 1;
            }
        }
        *seen |= bit;
    }

    /// The duplicates found.
    pub fn duplicates(&self) -> Duplicates {
        self.duplicates
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ColumnType;

    fn column(name: &str, role: Role) -> Column {
        Column {
            name: name.into(),
            kind: ColumnType::Uint64,
            nullable: false,
            role,
            unit: None,
            description: String::new(),
        }
    }

    #[test]
    fn counts_duplicates_on_features_only() {
        let cols = [column("uid", Role::Id), column("packets", Role::Feature)];
        let mut c = Counter::new(&cols);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let row = |id: u64, n: u64| [Value::U64(Some(id)), Value::U64(Some(n))];
        c.row(&row(1, 5), false, Some("benign"), [a, b], (10, 20));
        c.row(&row(2, 5), false, Some("benign"), [a, b], (5, 15));
        c.row(&row(3, 5), true, Some("scan"), [a, a], (30, 40));
        c.row(&row(4, 6), true, None, [b, a], (31, 41));
        let d = c.duplicates();
        assert_eq!((d.rows, d.conflicting_labels, d.distinct), (2, 1, 2));
        assert_eq!(c.span, Some((5, 41)));
        let k = &c.counts;
        assert_eq!(k.flows, 4);
        assert_eq!(k.label.get("attack"), Some(&2));
        assert_eq!(
            k.phase.get("(none)"),
            Some(&FlowCount {
                flows: 1,
                attack: 1
            })
        );
        assert_eq!(
            k.device.get(&a),
            Some(&FlowCount {
                flows: 4,
                attack: 2
            })
        );
        assert_eq!(
            k.device.get(&b),
            Some(&FlowCount {
                flows: 3,
                attack: 1
            })
        );
    }
}
