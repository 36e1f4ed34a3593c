//! What a matching rule does besides alerting, and what may stop its alert: flowbits tests
//! and changes, and thresholds.

use super::state::Thresholds;
use crate::ast::{Flowbit, Rule};
use custos_flow::FlowKey;

/// `flowbits:isset` / `isnotset` against the flow's bits (none known: all unset).
pub(crate) fn flowbits_ok(rule: &Rule, bits: Option<&Vec<String>>) -> bool {
    let has = |n: &String| bits.is_some_and(|b| b.contains(n));
    rule.flowbits.iter().all(|f| match f {
        Flowbit::IsSet(names, true) => names.iter().all(has),
        Flowbit::IsSet(names, false) => names.iter().any(has),
        Flowbit::IsNotSet(names, true) => names.iter().all(|n| !has(n)),
        Flowbit::IsNotSet(names, false) => names.iter().any(|n| !has(n)),
        _ => true,
    })
}

/// Applies set/unset/toggle; returns whether the rule is `noalert`.
pub(crate) fn apply_flowbits(rule: &Rule, bits: Option<&mut Vec<String>>) -> bool {
    let mut noalert = false;
    let mut empty = Vec::new();
    let bits = bits.unwrap_or(&mut empty);
    for f in &rule.flowbits {
        match f {
            Flowbit::Set(n) if !bits.contains(n) && bits.len() < 256 => bits.push(n.clone()),
            Flowbit::Unset(n) => bits.retain(|b| b != n),
            Flowbit::Toggle(n) => {
                if bits.contains(n) {
                    bits.retain(|b| b != n);
                } else if bits.len() < 256 {
                    bits.push(n.clone());
                }
            }
            Flowbit::NoAlert => noalert = true,
            _ => {}
        }
    }
    noalert
}

/// A digest of a flow key, for thresholds tracked `by_flow` (keyed: flows whose digests
/// collide, and so would share a counter, cannot be crafted).
pub(crate) fn flow_hash(key: &FlowKey) -> u64 {
    custos_flow::keyed_hash::keyed_digest(key)
}

pub(crate) fn thresholds_ok(
    thresholds: &mut Thresholds,
    i: u32,
    rule: &Rule,
    ts: i64,
    who: (std::net::IpAddr, std::net::IpAddr, u64, (u16, u16)),
) -> bool {
    if let Some(t) = &rule.detection_filter {
        if !thresholds.admit(i, t, ts, who) {
            return false;
        }
    }
    if let Some(t) = &rule.threshold {
        // A distinct counter from the detection filter's.
        if !thresholds.admit(i | 0x8000_0000, t, ts, who) {
            return false;
        }
    }
    true
}
