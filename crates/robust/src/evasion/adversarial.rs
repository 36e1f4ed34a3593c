//! Adversarial training of the flow model: each attack phase of the *training* capture is
//! transformed by seeded random candidates within the budget (the same transforms the
//! attacker searches over, chaff left out), each sample is turned into flows, and those
//! flows, labelled attack, are added to the training data before the model is trained
//! again.
//!
//! Chaff is left out because its flows are copies of benign devices' datagrams: labelled
//! attack, they would teach the model to alert on benign traffic. Samples that break the
//! attack (functional check) or exceed the budget are drawn again, up to
//! [`TRIES_PER_SAMPLE`] times.

use super::budget::{Budget, Cost};
use super::functional::{deadline, Effect};
use super::oracle::tables_of;
use super::phase::phases;
use super::search::{random_transform, Rng};
use super::transform::{Candidate, Context, KINDS};
use crate::capture::LabelledCapture;
use crate::error::RobustError;
use crate::flowdata::FlowTables;
use custos_dataset::FeatureTable;
use std::path::Path;

/// Draws per sample before giving up on it.
pub const TRIES_PER_SAMPLE: usize = 20;

/// Rank of the chaff transform (left out of the samples).
const CHAFF: usize = 5;

/// What augmenting the training data added.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Added {
    /// Perturbed phase samples.
    pub samples: u64,
    /// Flows added (with their checkpoint rows).
    pub flows: u64,
}

/// Adds `per_phase` perturbed samples of every attack phase of `train` to `tables`: the
/// rows of the perturbed phase's flows, each sample spliced into the training capture with
/// the `context_s` seconds before it (their host features count their hosts' other flows).
///
/// # Errors
/// A sample's dataset cannot be built or read.
pub fn augment(
    tables: &mut FlowTables,
    train: &LabelledCapture,
    budget: &Budget,
    (per_phase, seed): (usize, u64),
    context_s: f64,
    work: &Path,
) -> Result<Added, RobustError> {
    let mut added = Added::default();
    let ctx = Context {
        linktype: train.linktype,
        pool: &[],
        attacker: None,
    };
    for phase in phases(train) {
        let mut rng = Rng::new(seed, &format!("adversarial/{}", phase.name));
        let before: Vec<(i64, u32)> = phase
            .packets
            .iter()
            .map(|p| (p.frame.ts, p.frame.orig_len))
            .collect();
        let (first, last) = (
            before.first().map_or(0, |p| p.0),
            before.last().map_or(0, |p| p.0),
        );
        let due = deadline(first, last, budget.duration);
        let effect = Effect::of(&phase.packets, train.linktype, due);
        for s in 0..per_phase {
            for _ in 0..TRIES_PER_SAMPLE {
                let n = 1 + rng.below(3);
                let steps: Vec<_> = (0..n)
                    .map(|_| {
                        let mut k = rng.below(KINDS - 1);
                        if k >= CHAFF {
                            k += 1;
                        }
                        random_transform(k, budget, &mut rng)
                    })
                    .collect();
                let c = Candidate::new(steps, rng.next_u64());
                let packets = c.apply(&phase.packets, &ctx);
                let after: Vec<(i64, u32)> = packets
                    .iter()
                    .map(|p| (p.frame.ts, p.frame.orig_len))
                    .collect();
                let ok = Cost::between(&before, &after).within(budget)
                    && effect
                        .kept_by(&Effect::of(&packets, train.linktype, due))
                        .is_ok();
                if !ok {
                    continue;
                }
                let cap = super::phase::in_context(train, &phase, &packets, context_s);
                let t = tables_of(&cap, &work.join("adversarial"))?;
                let tag = format!("adv-{}-{s}-", phase.name);
                added.flows += append(&mut tables.flows, t.flows, &phase.name, &tag);
                append(&mut tables.prefixes, t.prefixes, &phase.name, &tag);
                added.samples += 1;
                break;
            }
        }
    }
    Ok(added)
}

/// Appends the rows of `from` labelled attack in phase `phase` to `to`, their uids prefixed
/// with `tag`; returns the rows added.
fn append(to: &mut FeatureTable, from: FeatureTable, phase: &str, tag: &str) -> u64 {
    let mut n = 0;
    for (i, &attack) in from.labels.iter().enumerate() {
        let in_phase = from
            .phases
            .get(i)
            .is_some_and(|p| p.as_deref() == Some(phase));
        if !attack || !in_phase {
            continue;
        }
        to.uids.push(format!(
            "{tag}{}",
            from.uids.get(i).map(String::as_str).unwrap_or("")
        ));
        for (col, src) in to.columns.iter_mut().zip(&from.columns) {
            col.push(src.get(i).copied().unwrap_or(0.0));
        }
        to.labels.push(true);
        to.phases.push(from.phases.get(i).cloned().flatten());
        n += 1;
    }
    n
}
