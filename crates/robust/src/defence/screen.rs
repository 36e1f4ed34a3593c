//! Label screening that acts (defence `screen+dpa`): training flows whose label the rest of
//! the data contradicts are relabelled (by their conversation) or dropped (by the other
//! folds), with their checkpoint rows, before DPA trains.
//!
//! Two kinds of evidence, in this order:
//!
//! 1. **The flow's conversation.** Flows are grouped by conversation (the unordered pair of
//!    endpoints of their first packet) and minute ([`GROUP_S`]); in a group of at least
//!    [`MIN_GROUP`] flows, a flow whose label more than [`MAJORITY`] of the group does not
//!    share is contradicted ([`conversation::contradicted`]). A poisoner who relabels flows
//!    one by one — even the flows most like a later attack, which form a cluster the fold
//!    models learn as benign — leaves the rest of the attacker's conversation labelled attack.
//!    A contradicted flow is a suspect, relabelled only when a model trained on every other
//!    flow, from the flow's own features (not the host-context ones), agrees ([`confirm`]):
//!    an infected device's own benign traffic with its victim shares the conversation and
//!    minute of its attack, and is outvoted there by the attack's flows.
//! 2. **The other folds.** On the flows kept, each flow's attack probability from a model
//!    trained on the other folds (`custos_dataset::screening::out_of_fold`, k-fold by uid
//!    hash); a flow is contradicted when the probability of the class it is not labelled
//!    exceeds [`CUT`] (0.9, the screening report's cut). This repeats on what is kept, at
//!    most [`ROUNDS`] times, while a round finds more: once the flows found first are gone,
//!    the next round's models contradict more of the rest.
//!
//! Both directions count — attack flows labelled benign (flips, injected traffic) and benign
//! flows labelled attack. A flow its conversation contradicts, and the model of its own
//! features does not defend, takes the conversation's label: at least [`MIN_GROUP`] flows
//! between the same two endpoints in the same minute, most of them labelled the other way,
//! are strong evidence, and dropping instead loses exactly the flows a poisoner targets —
//! when a rare phase has only a handful of flows, relabelling them benign and having
//! screening drop them leaves DPA no majority for that phase (measured on `mqtt-abuse`,
//! docs/robustness.md). A flow only the fold models contradict is dropped, not relabelled:
//! that evidence is weaker (an unusual but genuine flow looks the same), and a screening
//! error then costs one training flow, never a wrong label.
//!
//! The price is the certificate: which flows are relabelled or dropped depends on every
//! training flow, so one poisoned flow can change the training set of every partition, and
//! the vote margin of `screen+dpa` certifies nothing (`certified: false`); plain DPA keeps
//! its certificate. A poisoner who relabels whole conversations defeats the first step, and
//! one who relabels most of a conversation has the rest relabelled with it where the model
//! of their own features agrees (docs/robustness.md, "Limits").

use crate::defence::conversation::{self, FlowGroup};
use crate::error::RobustError;
use crate::flowdata::FlowTables;
use custos_dataset::FeatureTable;
use custos_detect::gbdt::{train, GbdtError, GbdtParams, TrainingData};
use custos_features::flow::HOST_COLUMNS;

/// Out-of-fold probability of the other class beyond which a label is contradicted.
pub const CUT: f64 = custos_dataset::screening::DISAGREE;

/// Rounds of screening at most.
pub const ROUNDS: usize = 3;

/// What screening found and dropped.
#[derive(Clone, Debug, Default)]
pub struct Screened {
    /// Per training flow: its out-of-fold attack probability in the first round.
    pub oof: Vec<f64>,
    /// Per training flow: contradicted by the out-of-fold probabilities of every flow (what
    /// the report lists).
    pub contradicted: Vec<bool>,
    /// Per training flow: contradicted by its conversation (a suspect, [`confirm`]).
    pub conversation_suspects: Vec<bool>,
    /// Per training flow: contradicted by its conversation, confirmed by the model trained
    /// without the suspects, and relabelled.
    pub by_conversation: Vec<bool>,
    /// Per training flow: contradicted by the fold models, and dropped, after every round.
    pub dropped: Vec<bool>,
    /// Rounds run.
    pub rounds: usize,
    /// The tables with the flows of `by_conversation` relabelled (`None`: none was).
    pub relabelled: Option<FlowTables>,
}

impl Screened {
    /// The tables DPA trains on: relabelled where the conversations said so.
    pub fn tables<'a>(&'a self, original: &'a FlowTables) -> &'a FlowTables {
        self.relabelled.as_ref().unwrap_or(original)
    }
}

/// Per flow of `flows`: its label contradicted by `oof` (the other class above [`CUT`]).
pub fn contradicted(flows: &FeatureTable, oof: &[f64]) -> Vec<bool> {
    oof.iter()
        .zip(&flows.labels)
        .map(|(&p, &attack)| (if attack { 1.0 - p } else { p }) > CUT)
        .collect()
}

/// The rows of `table` whose uid `keep` accepts.
fn select(table: &FeatureTable, keep: impl Fn(&str) -> bool) -> FeatureTable {
    let rows: Vec<usize> = (0..table.rows())
        .filter(|&i| table.uids.get(i).is_some_and(|u| keep(u)))
        .collect();
    let pick = |i: &usize| table.labels.get(*i).copied().unwrap_or(false);
    FeatureTable {
        uids: rows
            .iter()
            .filter_map(|&i| table.uids.get(i).cloned())
            .collect(),
        columns: table
            .columns
            .iter()
            .map(|c| {
                rows.iter()
                    .map(|&i| c.get(i).copied().unwrap_or(0.0))
                    .collect()
            })
            .collect(),
        labels: rows.iter().map(pick).collect(),
        phases: rows
            .iter()
            .map(|&i| table.phases.get(i).cloned().flatten())
            .collect(),
    }
}

/// Groups of fewer flows are not judged by their conversation.
pub const MIN_GROUP: usize = 5;

/// Share of a group's flows with the other label beyond which a flow's label is
/// contradicted by its conversation.
pub const MAJORITY: f64 = 0.5;

/// Seconds of a flow group's stretch of the capture.
pub const GROUP_S: f64 = 60.0;

/// Probability of its conversation's label, from the model trained without the suspects,
/// beyond which a suspect is relabelled ([`confirm`]): the model's own class decision.
pub const CONFIRM: f64 = 0.5;

/// Whether feature `name` is one of the flow's own (not a host-context feature,
/// `custos_features::flow::HOST_COLUMNS`).
fn own_feature(name: &str) -> bool {
    !HOST_COLUMNS.iter().any(|(h, _)| *h == name)
}

/// Per flow of `t`: a `suspects` flow (contradicted by its conversation) that a model
/// trained on every other flow (with its checkpoint rows; trees of `params`), from the
/// flow's own features, also gives the other label, with probability above [`CONFIRM`].
///
/// The conversation says which flows may be mislabelled, not what they are: an infected
/// device keeps up its own benign traffic with the host it attacks, and in the minute of a
/// flood that traffic is a handful of flows among thousands labelled attack. The model
/// judges each suspect by what the flow itself carries. The host-context features are left
/// out: they put the host's state — the attack it is sending — into every flow of that
/// host, its benign ones too, so with them the attacker's chatter looks like its attack
/// (docs/robustness.md). Trained without any suspect, the model judges a flipped attack flow
/// by the rest of the attack, which the poisoner left labelled (a flipped cluster cannot
/// teach it benign, as it teaches the folds), and the attacker's chatter by the same
/// services of other hosts, labelled benign.
///
/// # Errors
/// Trees that cannot be trained for a reason other than a one-class training set (which
/// then gives its class to every suspect) or an empty one (every flow a suspect: none is
/// relabelled).
pub fn confirm(
    t: &FlowTables,
    suspects: &[bool],
    params: &GbdtParams,
    context: &str,
) -> Result<Vec<bool>, RobustError> {
    if !suspects.iter().any(|&s| s) {
        return Ok(vec![false; t.flows.rows()]);
    }
    let mut out: Vec<&str> = t
        .flows
        .uids
        .iter()
        .zip(suspects)
        .filter(|(_, &s)| s)
        .map(|(u, _)| u.as_str())
        .collect();
    out.sort_unstable();
    // The columns of the flow's own features, chosen once for training and scoring.
    let own: Vec<usize> = (0..t.names.len())
        .filter(|&j| own_feature(&t.names[j]))
        .collect();
    let (mut all, labels) = t.subset(|u| out.binary_search(&u).is_err());
    let columns: Vec<Vec<f64>> = own
        .iter()
        .map(|&j| all.get_mut(j).map(std::mem::take).unwrap_or_default())
        .collect();
    let names: Vec<String> = own.iter().map(|&j| t.names[j].clone()).collect();
    let data = TrainingData {
        names: &names,
        columns: &columns,
        labels: &labels,
        weights: None,
    };
    let model = match train(&data, params) {
        Ok(m) => m,
        Err(GbdtError::OneClass { label, .. }) => {
            return Ok(suspects
                .iter()
                .zip(&t.flows.labels)
                .map(|(&s, &l)| s && label != l)
                .collect())
        }
        // Every flow a suspect: nothing to confirm them by.
        Err(GbdtError::Empty { .. }) => return Ok(vec![false; t.flows.rows()]),
        Err(e) => {
            return Err(RobustError::train(
                format!("{context}, confirming the conversations' suspects"),
                e,
            ))
        }
    };
    let cell = |j: usize, i: usize| t.flows.columns.get(j).and_then(|c| c.get(i)).copied();
    let mut row = Vec::with_capacity(own.len());
    Ok((0..t.flows.rows())
        .map(|i| {
            let (Some(true), Some(&label)) = (suspects.get(i).copied(), t.flows.labels.get(i))
            else {
                return false;
            };
            row.clear();
            row.extend(own.iter().map(|&j| cell(j, i).unwrap_or(0.0)));
            let p = model.probability(&row);
            (if label { 1.0 - p } else { p }) > CONFIRM
        })
        .collect())
}

/// Screens the labels of `t`: first by conversation (`groups`, one per flow, from
/// [`conversation::flow_groups`]), then with `folds` folds (2–20) and trees of `params` on
/// the flows kept, repeating while a round finds contradicted flows (at most `rounds`).
///
/// # Errors
/// Folds outside 2–20, or a fold whose training part has a single class.
pub fn screen(
    t: &FlowTables,
    groups: &[Option<FlowGroup>],
    params: &GbdtParams,
    folds: u32,
    rounds: usize,
    context: &str,
) -> Result<Screened, RobustError> {
    let oof_of = |flows: &FeatureTable, prefixes: &FeatureTable| {
        custos_dataset::screening::out_of_fold(&t.names, flows, prefixes, params, folds)
            .map_err(|e| RobustError::train(format!("{context}, label screening"), e))
    };
    let oof = oof_of(&t.flows, &t.prefixes)?;
    let first = contradicted(&t.flows, &oof);
    let suspects = conversation::contradicted(groups, &t.flows.labels, MIN_GROUP, MAJORITY);
    let by_conversation = confirm(t, &suspects, params, context)?;
    let relabel: Vec<usize> = (0..by_conversation.len())
        .filter(|&i| by_conversation[i])
        .collect();
    let relabelled = (!relabel.is_empty()).then(|| {
        let mut r = t.clone();
        r.relabel(&relabel);
        r
    });
    let base = relabelled.as_ref().unwrap_or(t);
    let mut dropped = vec![false; t.flows.rows()];
    // Without relabelling the first round is the report's.
    let mut pending = relabelled.is_none().then(|| first.clone());
    let mut done = 0;
    while done < rounds {
        let more = match pending.take() {
            Some(m) => m,
            None => {
                let mut gone: Vec<&str> = base
                    .flows
                    .uids
                    .iter()
                    .zip(&dropped)
                    .filter(|(_, &d)| d)
                    .map(|(u, _)| u.as_str())
                    .collect();
                gone.sort_unstable();
                let keep = |u: &str| gone.binary_search(&u).is_err();
                let (flows, prefixes) = (select(&base.flows, keep), select(&base.prefixes, keep));
                // `flows` holds the kept flows in their original order.
                let mut kept = contradicted(&flows, &oof_of(&flows, &prefixes)?).into_iter();
                dropped
                    .iter()
                    .map(|&d| !d && kept.next().unwrap_or(false))
                    .collect()
            }
        };
        done += 1;
        let mut found = false;
        for (d, m) in dropped.iter_mut().zip(more) {
            found |= m && !*d;
            *d |= m;
        }
        if !found {
            break;
        }
    }
    Ok(Screened {
        oof,
        contradicted: first,
        conversation_suspects: suspects,
        by_conversation,
        dropped,
        rounds: done,
        relabelled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flowmodel::params;

    /// `n` benign flows near 0 and `n` attack flows near 10 on two features (uids `b…`,
    /// `a…`), each attack flow in the conversation group of its block of ten.
    fn tables(n: usize) -> (FlowTables, Vec<Option<FlowGroup>>) {
        let mut flows = FeatureTable {
            columns: vec![Vec::new(), Vec::new()],
            ..FeatureTable::default()
        };
        let mut groups = Vec::new();
        for i in 0..2 * n {
            let attack = i >= n;
            let jitter = (i * 7919 % 101) as f64 / 100.0;
            let base = if attack { 10.0 } else { 0.0 };
            flows
                .uids
                .push(format!("{}{i}", if attack { 'a' } else { 'b' }));
            flows.columns[0].push(base + jitter);
            flows.columns[1].push(base - jitter);
            flows.labels.push(attack);
            flows.phases.push(attack.then(|| "flood".to_string()));
            groups.push(Some(([u8::from(attack); 12], (i / 10) as i64)));
        }
        let t = FlowTables {
            names: vec!["x".into(), "y".into()],
            flows,
            prefixes: FeatureTable {
                columns: vec![Vec::new(), Vec::new()],
                ..FeatureTable::default()
            },
        };
        (t, groups)
    }

    #[test]
    fn clean_labels_are_left_alone() {
        let (t, groups) = tables(100);
        let s = screen(&t, &groups, &params(60, 0), 3, ROUNDS, "test").unwrap();
        assert!(!s.dropped.iter().any(|&d| d), "{:?}", s.dropped);
        assert_eq!(s.rounds, 1);
    }

    #[test]
    fn scattered_flips_are_dropped_by_screening() {
        let (mut t, groups) = tables(100);
        // Every tenth attack flow relabelled benign: the folds contradict each.
        let flipped: Vec<usize> = (100..200).step_by(10).collect();
        t.flip(&flipped);
        let none: Vec<Option<FlowGroup>> = vec![None; groups.len()];
        let s = screen(&t, &none, &params(60, 0), 3, ROUNDS, "test").unwrap();
        // Every flip is dropped; at most a genuine flow or two that sits with a flip at the
        // edge of the attack cluster goes with them, never a benign one.
        assert!(flipped.iter().all(|&i| s.dropped[i]), "{:?}", s.dropped);
        let extra: Vec<usize> = (0..200)
            .filter(|&i| s.dropped[i] && !flipped.contains(&i))
            .collect();
        assert!(
            extra.len() <= 2 && extra.iter().all(|&i| i >= 100),
            "{extra:?}"
        );
        // With their conversations the same flips are found before the folds are asked, and
        // given their true label back: nothing is dropped.
        let s = screen(&t, &groups, &params(60, 0), 3, ROUNDS, "test").unwrap();
        assert_eq!(
            (0..200)
                .filter(|&i| s.by_conversation[i])
                .collect::<Vec<_>>(),
            flipped
        );
        assert!(!s.dropped.iter().any(|&d| d), "{:?}", s.dropped);
        let clean: Vec<bool> = (0..200).map(|i| i >= 100).collect();
        assert_eq!(s.tables(&t).flows.labels, clean);
        assert_eq!(t.flows.labels.iter().filter(|&&l| l).count(), 90);
    }

    #[test]
    fn the_attackers_own_benign_flows_keep_their_label_its_flipped_attack_does_not() {
        // Feature x is the flow's own, `orig_unaccepted_flows_10s` its host's context. Benign
        // flows of other hosts: x near 0 (and 20 of them near 10), context 1, in
        // conversations of their own. The attacker's conversation in one minute: 100 attack
        // flows (x near 10) and 6 of its own benign flows (x near 0), all with the attacker's
        // context, 50 — which, unlike x, separates the classes, and would call them attack.
        let host = HOST_COLUMNS[0].0.to_string();
        let mut flows = FeatureTable {
            columns: vec![Vec::new(), Vec::new()],
            ..FeatureTable::default()
        };
        let mut groups = Vec::new();
        let mut push = |uid: String, x: f64, context: f64, attack: bool, g: FlowGroup| {
            flows.uids.push(uid);
            flows.columns[0].push(x);
            flows.columns[1].push(context);
            flows.labels.push(attack);
            flows.phases.push(attack.then(|| "flood".to_string()));
            groups.push(Some(g));
        };
        for i in 0..100 {
            let jitter = (i * 7919 % 101) as f64 / 100.0;
            push(
                format!("b{i}"),
                jitter,
                1.0,
                false,
                ([0; 12], i as i64 / 10),
            );
            push(
                format!("a{i}"),
                10.0 + jitter,
                50.0 + jitter,
                true,
                ([1; 12], 0),
            );
        }
        for i in 0..6 {
            push(format!("c{i}"), i as f64 / 6.0, 50.0, false, ([1; 12], 0));
        }
        for i in 0..20 {
            let jitter = (i * 31 % 20) as f64 / 20.0;
            push(
                format!("d{i}"),
                10.0 + jitter,
                1.0,
                false,
                ([2; 12], i as i64 / 10),
            );
        }
        let t = FlowTables {
            names: vec!["x".into(), host],
            flows,
            prefixes: FeatureTable {
                columns: vec![Vec::new(), Vec::new()],
                ..FeatureTable::default()
            },
        };
        let chatter: Vec<usize> = (200..206).collect();
        let s = screen(&t, &groups, &params(60, 0), 3, ROUNDS, "test").unwrap();
        // Its conversation contradicts the chatter; the flows' own features do not.
        assert!(chatter.iter().all(|&i| s.conversation_suspects[i]));
        assert!(
            !s.by_conversation.iter().any(|&r| r),
            "{:?}",
            s.by_conversation
        );
        assert_eq!(s.tables(&t).flows.labels, t.flows.labels);
        // Ten attack flows of that conversation flipped: they, and only they, are relabelled.
        let mut p = t.clone();
        let flipped: Vec<usize> = (3..200).step_by(20).collect();
        p.flip(&flipped);
        let s = screen(&p, &groups, &params(60, 0), 3, ROUNDS, "test").unwrap();
        let relabelled: Vec<usize> = (0..226).filter(|&i| s.by_conversation[i]).collect();
        assert_eq!(relabelled, flipped);
        assert_eq!(s.tables(&p).flows.labels, t.flows.labels);
    }

    #[test]
    fn a_flipped_cluster_hides_from_the_folds_not_from_its_conversations() {
        let (mut t, groups) = tables(100);
        // The attack flows most alike (highest x) relabelled benign, one in four: a cluster
        // the fold models learn as benign. Each group of ten keeps an attack majority.
        let mut order: Vec<usize> = (100..200).collect();
        order.sort_by(|&a, &b| t.flows.columns[0][b].total_cmp(&t.flows.columns[0][a]));
        let mut flipped: Vec<usize> = order[..25].to_vec();
        flipped.sort_unstable();
        t.flip(&flipped);
        let none: Vec<Option<FlowGroup>> = vec![None; groups.len()];
        let blind = screen(&t, &none, &params(60, 0), 3, ROUNDS, "test").unwrap();
        let found = flipped.iter().filter(|&&i| blind.dropped[i]).count();
        let s = screen(&t, &groups, &params(60, 0), 3, ROUNDS, "test").unwrap();
        let relabelled: Vec<usize> = (0..200).filter(|&i| s.by_conversation[i]).collect();
        assert_eq!(relabelled, flipped, "folds alone found {found} of 25");
        assert!(!s.dropped.iter().any(|&d| d), "{:?}", s.dropped);
        assert!(s.tables(&t).flows.labels[100..].iter().all(|&l| l));
        assert!(
            found < 25,
            "the folds alone found every flip: the test shows nothing"
        );
    }
}
