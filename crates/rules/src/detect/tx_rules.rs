//! Application rules against a transaction: protocol, header orientation, fields, events,
//! Modbus tests and sticky buffers, per side of a two-sided transaction.

use super::app::Tx;
use super::{endpoints, inspect, Compiled};
use crate::ast::{Buffer, Condition};
use crate::keywords::Side;
use crate::transform;

/// An application rule against a transaction.
///
/// `only`: read only the request (`Some(true)`) or response (`Some(false)`) side of a
/// two-sided transaction.
pub(super) fn app_matches(
    c: &Compiled,
    proto: &str,
    tx: &Tx,
    (client, server): ((std::net::IpAddr, u16), (std::net::IpAddr, u16)),
    from_client: bool,
    only: Option<bool>,
) -> bool {
    let rule_proto = c.app.unwrap_or("");
    if rule_proto != proto && !(rule_proto == "dns" && proto == "mdns") {
        return false;
    }
    let _ = tx.proto;
    header_matches(c, (client, server), from_client)
        && c.rule
            .conditions
            .iter()
            .all(|cond| field_matches(cond, tx, proto))
        && buffers_match(c, tx, only)
}

/// The rule's header and flow options against the transaction's client and server and the
/// direction of the event.
fn header_matches(
    c: &Compiled,
    (client, server): ((std::net::IpAddr, u16), (std::net::IpAddr, u16)),
    from_client: bool,
) -> bool {
    // Header: the rule's direction is the side it reads.
    let forward = endpoints::header_matches(&c.rule, client, server);
    let backward = endpoints::header_matches(&c.rule, server, client);
    let header_ok = match c.side {
        Side::ToServer => forward,
        Side::ToClient => backward,
        // A transactional rule's header reads client to server, as `->`.
        Side::Both if c.rule.transactional => forward,
        Side::Both => forward || backward,
    };
    if !header_ok {
        return false;
    }
    if c.rule.flow.to_server.is_some_and(|ts| ts != from_client) && c.side == Side::Both {
        return false;
    }
    c.rule.flow.established != Some(false)
}

/// A field condition (integer fields, flags, events, Modbus, application protocol) against
/// the transaction's messages; true for any other condition.
fn field_matches(cond: &Condition, tx: &Tx, proto: &str) -> bool {
    match cond {
        Condition::AppInt { field, cmp, index } => match index {
            Some(i) => tx
                .messages
                .get(*i)
                .is_some_and(|m| m.ints.iter().any(|(f, v)| f == field && cmp.test(*v))),
            None => tx
                .messages
                .iter()
                .any(|m| m.ints.iter().any(|(f, v)| f == field && cmp.test(*v))),
        },
        Condition::AppFlags { field, set, unset } => tx.messages.iter().any(|m| {
            m.flags
                .iter()
                .any(|(f, v)| f == field && v & set == *set && v & unset == 0)
        }),
        Condition::AppLayerEvent { event, .. } => {
            tx.messages.iter().any(|m| m.events.contains(event))
        }
        Condition::Modbus(t) => tx
            .messages
            .iter()
            .filter_map(|m| m.modbus.as_ref())
            .any(|m| super::modbus::modbus_matches(t, m)),
        c @ Condition::AppProtocol { .. } => c.app_protocol_matches(Some(proto)),
        _ => true,
    }
}

/// The rule's sticky-buffer conditions, buffer by buffer: some instance of each buffer (on
/// the side the rule reads) must satisfy its group; a missing buffer matches only `absent`.
fn buffers_match(c: &Compiled, tx: &Tx, only: Option<bool>) -> bool {
    let base64: Vec<&Condition> = c
        .base64
        .iter()
        .filter_map(|&i| c.rule.conditions.get(i))
        .collect();
    for (buffer, idx) in &c.groups {
        let Buffer::App(name, chain) = buffer else {
            return false;
        };
        let conds: Vec<&Condition> = idx
            .iter()
            .filter_map(|&i| c.rule.conditions.get(i))
            .collect();
        let chain = chain.of(&c.rule);
        // A rule reading one side reads that side's instances of a two-sided buffer.
        let side_ok = |request: &Option<bool>| match (only, request) {
            (Some(want), Some(is)) => want == *is,
            _ => !matches!(
                (c.side, request),
                (Side::ToServer, Some(false)) | (Side::ToClient, Some(true))
            ),
        };
        let mut instances = tx
            .messages
            .iter()
            .flat_map(|m| m.buffers.iter())
            .filter(|(n, _, side)| n == name && side_ok(side))
            .peekable();
        // No instance: only `absent` matches (Suricata's match on an absent buffer).
        if instances.peek().is_none() {
            if conds
                .iter()
                .any(|cond| matches!(cond, Condition::Absent { .. }))
            {
                continue;
            }
            return false;
        }
        let any = instances.any(|(_, v, _)| {
            let v = transform::apply(chain, v);
            inspect::inspect_ending_after(&v, (&conds, &base64), 0)
        });
        if !any {
            return false;
        }
    }
    true
}
