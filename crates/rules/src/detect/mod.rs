//! The matcher: compiled rules, the prefilter, and the state signatures keep.
//!
//! [`RuleSet::compile`] groups each rule's conditions by buffer and picks its fast pattern;
//! [`Matcher::packet`] evaluates packet rules on a packet's payload and on the reassembled
//! stream window of its TCP direction; [`Matcher::event`] evaluates application rules on the
//! transaction an application event belongs to, once per transaction. Every call is in
//! packet order, packet time the only clock: the same input gives the same hits.

mod actions;
mod app;
mod bytes;
mod compile;
mod endpoints;
mod eve;
mod headers;
mod inspect;
mod modbus;
mod mqtt_tx;
mod packet;
mod prefilter;
mod state;
mod tx_rules;

use crate::ast::{Action, Buffer, Rule};
use crate::classification::Classifications;
use crate::keywords::Side;
use crate::parse::Skipped;
pub(crate) use actions::{apply_flowbits, flow_hash, flowbits_ok, thresholds_ok};
use app::{Transactions, Tx};
use compile::{compile_rule, fast_pattern};
use custos_app::{AppEvent, Direction};
use custos_decode::Decoded;
use prefilter::Prefilter;
use rustc_hash::FxHashMap;
use state::{Flows, Thresholds};
use tx_rules::app_matches;

/// A rule ready to match.
pub(crate) struct Compiled {
    pub rule: Rule,
    /// Buffer conditions grouped by buffer, in the order written (indices in `conditions`).
    pub groups: Vec<(Buffer, Vec<usize>)>,
    /// The `base64_data` conditions (inspected by `base64_decode`), in the order written.
    pub base64: Vec<usize>,
    /// Alert category (the classtype's description).
    pub category: String,
    /// Alert severity (priority).
    pub severity: u8,
    /// For application rules: the protocol.
    pub app: Option<&'static str>,
    /// For packet rules of an application protocol (`alert http … content`): the protocol
    /// the flow must carry.
    pub app_gate: Option<&'static str>,
    /// Which side of a transaction the rule reads (application rules).
    pub side: Side,
    /// Sets flowbits (evaluated before rules that may test them).
    pub sets_bits: bool,
    /// Reads request-only and response-only fields together (evaluated on the whole
    /// transaction, not per direction).
    pub mixed: bool,
    /// A header and nothing to inspect (flowbits set aside): evaluated on the first packet
    /// of each direction of a flow, as Suricata's IP-only rules.
    pub ip_only: bool,
    /// On TCP, its payload keywords read the packet too, not only the stream (`dsize`, or an
    /// absolute `depth`/`offset`).
    pub packet_too: bool,
}

/// Rules compiled for matching.
pub struct RuleSet {
    rules: Vec<Compiled>,
    /// Packet rules by payload fast pattern.
    packet_prefilter: Prefilter,
    /// Packet rules without a fast pattern.
    packet_always: Vec<u32>,
    /// Application rules by buffer and fast pattern.
    app_prefilters: FxHashMap<&'static str, Prefilter>,
    /// Application rules without a fast pattern, by protocol.
    app_always: FxHashMap<&'static str, Vec<u32>>,
}

/// A rule that matched.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    /// Index of the rule in the set ([`RuleSet::rule`]).
    pub rule: u32,
    /// The application protocol of the flow, when known.
    pub app_proto: Option<&'static str>,
    /// The transaction it matched, as Suricata's EVE object (`{"mqtt": {…}}`), for
    /// application rules.
    pub metadata: Option<serde_json::Value>,
}

impl RuleSet {
    /// Compiles loaded rules; returns the set and the rules refused at this stage (a
    /// combination custos cannot evaluate, such as header keywords on an application rule).
    pub fn compile(rules: Vec<Rule>, classes: &Classifications) -> (RuleSet, Vec<Skipped>) {
        let mut skipped = Vec::new();
        let mut compiled = Vec::new();
        for rule in rules {
            match compile_rule(rule, classes) {
                Ok(c) => compiled.push(c),
                Err(s) => skipped.push(*s),
            }
        }
        let mut packet_pairs = Vec::new();
        let mut packet_always = Vec::new();
        let mut app_pairs: FxHashMap<&'static str, Vec<(Vec<u8>, u32)>> = FxHashMap::default();
        let mut app_always: FxHashMap<&'static str, Vec<u32>> = FxHashMap::default();
        for (i, c) in compiled.iter().enumerate() {
            let i = i as u32;
            match (fast_pattern(&c.rule), c.app) {
                (Some((Buffer::Payload, p)), None) => packet_pairs.push((p, i)),
                (_, None) => packet_always.push(i),
                (Some((Buffer::App(b, _), p)), Some(_)) => {
                    app_pairs.entry(b).or_default().push((p, i));
                }
                (_, Some(proto)) => app_always.entry(proto).or_default().push(i),
            }
        }
        // An automaton that cannot be built leaves its rules without a prefilter: they are
        // evaluated every time, never dropped.
        let packet_prefilter = match Prefilter::build(packet_pairs.clone()) {
            Some(p) => p,
            None => {
                packet_always.extend(packet_pairs.iter().map(|(_, r)| *r));
                Prefilter::empty()
            }
        };
        let mut app_prefilters = FxHashMap::default();
        for (b, pairs) in app_pairs {
            match Prefilter::build(pairs.clone()) {
                Some(p) => {
                    app_prefilters.insert(b, p);
                }
                None => {
                    for (_, r) in pairs {
                        if let Some(proto) = compiled.get(r as usize).and_then(|c| c.app) {
                            app_always.entry(proto).or_default().push(r);
                        }
                    }
                }
            }
        }
        let set = RuleSet {
            rules: compiled,
            packet_prefilter,
            packet_always,
            app_prefilters,
            app_always,
        };
        (set, skipped)
    }

    /// Rules in the set.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when the set is empty.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Rule `i`.
    pub fn rule(&self, i: u32) -> Option<&Rule> {
        self.rules.get(i as usize).map(|c| &c.rule)
    }

    /// Category and severity of rule `i`'s alerts.
    pub fn classification(&self, i: u32) -> Option<(&str, u8)> {
        self.rules
            .get(i as usize)
            .map(|c| (c.category.as_str(), c.severity))
    }
}

/// Evaluates rules in order; keeps flow state, transactions and thresholds.
pub struct Matcher {
    set: RuleSet,
    flows: Flows,
    txs: Transactions,
    thresholds: Thresholds,
    candidates: Vec<u32>,
    counts: MatchCounts,
}

/// What the matcher counted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct MatchCounts {
    /// Rules evaluated in full after the prefilter.
    pub evaluated: u64,
    /// Matches (before flowbits `noalert`, thresholds and `pass`).
    pub matched: u64,
    /// Matches that became hits.
    pub hits: u64,
}

impl Matcher {
    /// A matcher over a compiled set.
    pub fn new(set: RuleSet) -> Self {
        Matcher {
            set,
            flows: Flows::default(),
            txs: Transactions::new(),
            thresholds: Thresholds::default(),
            candidates: Vec::new(),
            counts: MatchCounts::default(),
        }
    }

    /// The rules.
    pub fn rules(&self) -> &RuleSet {
        &self.set
    }

    /// Counters so far.
    pub fn counts(&self) -> MatchCounts {
        self.counts
    }

    /// Evaluates the packet rules on a decoded packet (its bytes, and the application
    /// protocol its connection carries as recognised so far, if known) at packet time `ts`;
    /// appends hits.
    pub fn packet(
        &mut self,
        ts: i64,
        (decoded, data, app_proto): (&Decoded<'_>, &[u8], Option<&'static str>),
        hits: &mut Vec<Hit>,
    ) {
        packet::evaluate(self, ts, (decoded, data, app_proto), hits);
    }

    /// Evaluates the application rules on the transaction of an application event; appends
    /// hits (at most one per rule and transaction).
    pub fn event(&mut self, event: &AppEvent, hits: &mut Vec<Hit>) {
        let proto = event.proto.name();
        if event.proto.is_behaviour() {
            return;
        }
        let Matcher {
            set,
            flows,
            txs,
            thresholds,
            candidates,
            counts,
        } = self;
        let key = event.flow_key();
        let mut flow = flows.get_mut(&key);
        if let Some(f) = flow.as_deref_mut() {
            f.app_proto = Some(proto);
        }
        if flow.as_ref().is_some_and(|f| f.passed) {
            return;
        }
        txs.add(event, |tx: &mut Tx| {
            app_candidates(set, candidates, proto, tx);
            tx_rules(
                set,
                candidates,
                (counts, thresholds),
                tx,
                flow.as_deref_mut(),
                (event, &key),
                hits,
            );
        });
    }
}

/// Fills `candidates` with the application rules to evaluate on a transaction of `proto`,
/// in evaluation order: those without a fast pattern and those whose pattern occurs in
/// one of its buffers.
fn app_candidates(set: &mut RuleSet, candidates: &mut Vec<u32>, proto: &str, tx: &Tx) {
    candidates.clear();
    if let Some(always) = set.app_always.get(proto) {
        candidates.extend_from_slice(always);
    }
    // DNS rules read mDNS too.
    if proto == "mdns" {
        if let Some(always) = set.app_always.get("dns") {
            candidates.extend_from_slice(always);
        }
    }
    for m in &tx.messages {
        for (name, value, _) in &m.buffers {
            if let Some(pf) = set.app_prefilters.get_mut(name) {
                pf.scan(value, candidates);
            }
        }
    }
    candidates.sort_unstable_by_key(|&i| order_key(set, i));
    candidates.dedup();
}

/// Evaluates the candidate rules, in order, on the transaction of `event` (in flow `key`,
/// whose state is `flow` when known): applies their flowbits, `pass` and thresholds, and
/// adds a hit for each that alerts and has not alerted on the transaction yet.
fn tx_rules(
    set: &RuleSet,
    candidates: &[u32],
    (counts, thresholds): (&mut MatchCounts, &mut Thresholds),
    tx: &mut Tx,
    mut flow: Option<&mut state::FlowState>,
    (event, key): (&AppEvent, &custos_flow::FlowKey),
    hits: &mut Vec<Hit>,
) {
    let proto = event.proto.name();
    let (client, server) = (event.client, event.server);
    let from_client = event.direction == Direction::ToServer;
    // A two-sided transaction (HTTP) is inspected per direction by rules that read
    // fields of either side, as Suricata does: one alert per direction that matches.
    let two_sided = tx
        .messages
        .iter()
        .any(|m| m.buffers.iter().any(|b| b.2.is_some()));
    for &i in candidates {
        let Some(c) = set.rules.get(i as usize) else {
            continue;
        };
        let passes: &[Option<bool>] = if two_sided && c.side == Side::Both && !c.mixed {
            &[Some(true), Some(false)]
        } else {
            &[None]
        };
        for &only in passes {
            let done = (i, only);
            if tx.alerted.contains(&done) {
                continue;
            }
            counts.evaluated += 1;
            if !app_matches(c, proto, tx, (client, server), from_client, only) {
                continue;
            }
            let bits = flow.as_deref_mut().map(|f| &mut f.bits);
            if !flowbits_ok(&c.rule, bits.as_deref()) {
                continue;
            }
            counts.matched += 1;
            tx.alerted.push(done);
            let noalert = apply_flowbits(&c.rule, flow.as_deref_mut().map(|f| &mut f.bits));
            if c.rule.action == Action::Pass {
                if let Some(f) = flow.as_deref_mut() {
                    f.passed = true;
                }
                return;
            }
            if noalert {
                continue;
            }
            let (src, dst) = if from_client {
                (client, server)
            } else {
                (server, client)
            };
            if !thresholds_ok(
                thresholds,
                i,
                &c.rule,
                event.ts,
                (src.0, dst.0, flow_hash(key), (src.1, dst.1)),
            ) {
                continue;
            }
            counts.hits += 1;
            hits.push(Hit {
                rule: i,
                app_proto: Some(proto),
                metadata: tx.metadata(),
            });
        }
    }
}

/// Evaluation order: `pass` rules first, then rules setting flowbits, then the rest; load
/// order within each.
pub(crate) fn order_key(set: &RuleSet, i: u32) -> (u8, u32) {
    match set.rules.get(i as usize) {
        Some(c) if c.rule.action == Action::Pass => (0, i),
        Some(c) if c.sets_bits => (1, i),
        _ => (2, i),
    }
}
