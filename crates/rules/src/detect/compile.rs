//! Compiling one rule: its classification, protocol, buffer groups, transaction side and
//! prefilter pattern, and the combinations custos refuses.

use super::Compiled;
use crate::ast::{Buffer, Chain, Condition, Flowbit, Proto, Rule};
use crate::classification::Classifications;
use crate::keywords::{self, Side};
use crate::parse::Skipped;

/// Compiles one rule; `Err` for a combination custos cannot evaluate.
pub(super) fn compile_rule(
    rule: Rule,
    classes: &Classifications,
) -> Result<Compiled, Box<Skipped>> {
    let (category, severity) = classification(&rule, classes);
    let (app, app_gate) = protocol(&rule);
    if app.is_some() {
        if let Err((keyword, reason)) = check_app_rule(&rule) {
            return Err(Box::new(Skipped {
                location: rule.location.clone(),
                sid: Some(rule.sid),
                keyword: keyword.to_string(),
                reason: reason.to_string(),
            }));
        }
    }
    let (groups, base64) = buffer_groups(&rule);
    let side = match rule.flow.to_server {
        Some(true) => Side::ToServer,
        Some(false) => Side::ToClient,
        None => rule_side(&rule),
    };
    let sets_bits = rule
        .flowbits
        .iter()
        .any(|f| matches!(f, Flowbit::Set(_) | Flowbit::Toggle(_) | Flowbit::Unset(_)));
    let ip_only = app.is_none()
        && rule.conditions.is_empty()
        && rule.flow == crate::ast::FlowOpts::default()
        && rule
            .flowbits
            .iter()
            .all(|f| matches!(f, Flowbit::Set(_) | Flowbit::NoAlert));
    let packet_too = rule.conditions.iter().any(|c| match c {
        Condition::Header(crate::ast::HeaderTest::Dsize(_)) => true,
        Condition::Content(Buffer::Payload, c) => c.depth.is_some() || c.offset.is_some(),
        _ => false,
    });
    let mixed = mixes_sides(&rule);
    Ok(Compiled {
        rule,
        groups,
        base64,
        category,
        severity,
        app,
        app_gate,
        side,
        mixed,
        sets_bits,
        ip_only,
        packet_too,
    })
}

/// The alert category (the classtype's description) and severity (the priority, else the
/// classtype's, else 3) of a rule.
fn classification(rule: &Rule, classes: &Classifications) -> (String, u8) {
    let class = rule.classtype.as_deref().and_then(|c| classes.get(c));
    // An unknown classtype loads, as in Suricata, with its category saying so.
    let category = match (&rule.classtype, class) {
        (_, Some(c)) => c.description.clone(),
        (Some(_), None) => "Unknown Classtype".to_string(),
        (None, None) => String::new(),
    };
    let severity = rule.priority.or(class.map(|c| c.priority)).unwrap_or(3);
    (category, severity)
}

/// The protocol of an application rule (first), or the protocol the flow must carry for a
/// packet rule of an application protocol (second).
fn protocol(rule: &Rule) -> (Option<&'static str>, Option<&'static str>) {
    let reads_app_fields = rule.conditions.iter().any(|c| match c {
        Condition::AppInt { .. }
        | Condition::AppFlags { .. }
        | Condition::AppLayerEvent { .. }
        | Condition::Modbus(_) => true,
        _ => matches!(c.buffer(), Some(Buffer::App(..))),
    });
    // `alert http … (content:"x";)`: payload keywords on a flow of that protocol — a packet
    // and stream rule gated on the flow's application protocol, as in Suricata.
    let reads_packets = rule.conditions.iter().any(|c| {
        matches!(c, Condition::Header(_) | Condition::FlowCount { .. })
            || matches!(c.buffer(), Some(Buffer::Payload | Buffer::Header(..)))
    });
    let app_gate = match rule.proto {
        Proto::App(p) if !reads_app_fields && reads_packets => Some(p),
        _ => None,
    };
    let app = match rule.proto {
        Proto::App(p) if app_gate.is_none() => Some(p),
        _ => None,
    };
    (app, app_gate)
}

/// An application rule may not read packet keywords, nor payload keywords beside its
/// application fields; `Err` names the keyword and why.
fn check_app_rule(rule: &Rule) -> Result<(), (&'static str, &'static str)> {
    if let Some(c) = rule.conditions.iter().find(|c| {
        matches!(c, Condition::Header(_) | Condition::FlowCount { .. })
            || matches!(c.buffer(), Some(Buffer::Header(..)))
    }) {
        let keyword = match c {
            Condition::FlowCount { bytes: true, .. } => "flow.bytes",
            Condition::FlowCount { .. } => "flow.pkts",
            Condition::Header(_) => "dsize",
            _ => "ipv4.hdr",
        };
        return Err((
            keyword,
            "packet keywords on an application rule are not supported",
        ));
    }
    if rule
        .conditions
        .iter()
        .any(|c| c.buffer() == Some(Buffer::Payload))
    {
        return Err((
            "content",
            "payload keywords (no sticky buffer) beside application fields are not supported",
        ));
    }
    Ok(())
}

/// The rule's buffer conditions grouped by buffer in the order written, and its
/// `base64_data` conditions (indices in `conditions`).
fn buffer_groups(rule: &Rule) -> (Vec<(Buffer, Vec<usize>)>, Vec<usize>) {
    let mut groups: Vec<(Buffer, Vec<usize>)> = Vec::new();
    let mut base64 = Vec::new();
    for (i, c) in rule.conditions.iter().enumerate() {
        match c.buffer() {
            Some(Buffer::Base64) => base64.push(i),
            Some(b) => match groups.iter_mut().find(|(gb, _)| *gb == b) {
                Some((_, v)) => v.push(i),
                None => groups.push((b, vec![i])),
            },
            None => {}
        }
    }
    (groups, base64)
}

/// True when a rule reads request-only and response-only fields together.
fn mixes_sides(rule: &Rule) -> bool {
    let sides: Vec<Side> = rule
        .conditions
        .iter()
        .filter_map(|c| match c {
            Condition::AppInt { field, .. } => keywords::int_field(field).map(|f| f.side),
            _ => match c.buffer() {
                Some(Buffer::App(b, _)) => keywords::buffer_def(b).map(|d| d.side),
                _ => None,
            },
        })
        .collect();
    sides.contains(&Side::ToServer) && sides.contains(&Side::ToClient)
}

/// The side a rule reads from its buffers and fields: one side if all agree, else both.
fn rule_side(rule: &Rule) -> Side {
    let mut side: Option<Side> = None;
    for c in &rule.conditions {
        let s = match c {
            Condition::AppInt { field, .. } => keywords::int_field(field).map(|f| f.side),
            _ => match c.buffer() {
                Some(Buffer::App(b, _)) => keywords::buffer_def(b).map(|d| d.side),
                _ => None,
            },
        };
        match (side, s) {
            (_, None | Some(Side::Both)) => {}
            (None, Some(s)) => side = Some(s),
            (Some(a), Some(b)) if a != b => return Side::Both,
            _ => {}
        }
    }
    side.unwrap_or(Side::Both)
}

/// The rule's prefilter pattern: its `fast_pattern` content, else its longest positive one
/// — among the contents every match needs in the buffers the prefilter scans as they are
/// (the payload and untransformed application buffers): not those of a buffer that may be
/// `absent`, nor those after a `base64_decode` (a match of its data ends the buffer's
/// inspection before them). A rule without one is evaluated on every packet or transaction
/// of its protocol.
pub(super) fn fast_pattern(rule: &Rule) -> Option<(Buffer, Vec<u8>)> {
    let may_be_absent = |b: Buffer| {
        rule.conditions
            .iter()
            .any(|c| matches!(c, Condition::Absent { buffer, .. } if *buffer == b))
    };
    let mut decoded_in: Vec<Buffer> = Vec::new();
    let mut positive = Vec::new();
    for c in &rule.conditions {
        match c {
            Condition::Base64Decode { buffer, .. } => decoded_in.push(*buffer),
            Condition::Content(b @ (Buffer::Payload | Buffer::App(_, Chain::NONE)), c)
                if !c.negated && !may_be_absent(*b) && !decoded_in.contains(b) =>
            {
                positive.push((*b, c));
            }
            _ => {}
        }
    }
    let chosen = positive
        .iter()
        .find(|(_, c)| c.fast_pattern)
        .or_else(|| positive.iter().max_by_key(|(_, c)| c.pattern.len()));
    chosen.map(|(b, c)| (*b, c.pattern.clone()))
}
