//! Deep partition aggregation (DPA; Levine & Feizi, "Deep Partition Aggregation: Provable
//! Defenses against General Poisoning Attacks", ICLR 2021) for the flow model: `k` models,
//! each trained on its own partition of the training flows, vote; every prediction carries
//! the number of poisoned training flows it is certified to tolerate.
//!
//! # Partitions
//!
//! A flow and its checkpoint rows always share a partition. Two schemes:
//!
//! - [`Partitioning::Hash`] (default): partition = SHA-256(seed, uid) mod `k`. The partition
//!   depends on the flow alone — not on its label, nor on any other flow — so inserting,
//!   removing or relabelling one training flow changes the training set of exactly one
//!   partition. This is what the certificate needs.
//! - [`Partitioning::Stratified`]: the flows of each stratum (benign; each attack phase) are
//!   ordered by SHA-256(seed, uid) and dealt round-robin from a per-stratum offset, so a phase
//!   with at least `k` flows reaches every partition and a rarer one reaches as many as it
//!   has flows. The price: a flow's partition depends on its rank in its stratum, so one
//!   relabelled or inserted flow re-deals the flows after it and can change every
//!   partition; the vote margin is still reported, but it certifies nothing about flows
//!   (`certified` is false in the report).
//!
//! # Vote and certificate (Levine & Feizi 2021, §3, Theorem 1)
//!
//! Base model `i` predicts class `f_i(x)` (1, attack, when its probability exceeds 0.5; a
//! partition with one class predicts it; an empty one predicts benign). With `n_c(x)` the
//! votes for class `c`, the aggregate is `g(x) = argmax_c n_c(x)`, ties broken toward the
//! smaller class index (benign = 0, attack = 1), and it cannot change while at most
//!
//! `ρ(x) = ⌊( n_g(x) − max_{c ≠ g(x)} ( n_c(x) + 1[c < g(x)] ) ) / 2⌋`
//!
//! partitions' training sets change: each changed partition moves at most one vote away from
//! `g(x)` and onto the runner-up. Under hash partitioning that is `ρ(x)` poisoned flows
//! (inserted, removed or relabelled). With two classes: `ρ = ⌊(n₀ − n₁)/2⌋` for a benign
//! prediction and `⌊(n₁ − n₀ − 1)/2⌋` for an attack one.
//!
//! A flow is predicted attack when any of its rows (end, checkpoints) is, as the flow detector
//! alerts; its certificate is then the largest `ρ` of its attack rows (one of them must stay
//! attack), and for a benign flow the smallest `ρ` of all its rows (every one must stay
//! benign). Its score for ranking metrics is the highest over its rows of
//! `(n₁ + mean probability) / (k + 1)`: votes first, probabilities to break ties.

use crate::error::RobustError;
use crate::flowdata::{FlowTables, TestFlows};
use crate::seeded;
use custos_detect::gbdt::{train, Gbdt, GbdtError, GbdtParams, TrainingData};
use std::collections::{BTreeMap, HashMap};

/// How training flows are assigned to partitions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Partitioning {
    /// By a hash of the flow's uid: certificates count poisoned flows.
    ///
    /// The uid alone decides, so the partition is certifiable.
    #[default]
    Hash,
    /// Dealt within each label and phase: rare phases reach more partitions, no certificate.
    ///
    /// Round-robin within each stratum; the vote margin certifies nothing.
    Stratified,
}

/// DPA's settings.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct DpaSettings {
    /// Partitions (base models), at least 1.
    pub partitions: u32,
    /// How flows are assigned.
    pub partitioning: Partitioning,
}

/// One base model.
#[derive(Debug)]
enum Base {
    /// Trees trained on the partition.
    Trees(Gbdt),
    /// A partition with one class (or none: benign) predicts it.
    Constant(bool),
}

/// The `k` base models.
#[derive(Debug)]
pub struct Dpa {
    models: Vec<Base>,
    /// Per attack phase of the training labels, the partitions holding at least one of its
    /// flows.
    pub coverage: BTreeMap<String, u32>,
}

/// What the vote gives per test flow.
#[derive(Clone, Debug, Default)]
pub struct Votes {
    /// Predicted attack.
    pub attack: Vec<bool>,
    /// Certified tolerance (poisoned flows under hash partitioning).
    pub certificate: Vec<u32>,
    /// Score for ranking metrics.
    pub score: Vec<f64>,
}

/// Each training flow's partition, by uid.
fn assign(t: &FlowTables, s: &DpaSettings, seed: u64) -> HashMap<String, u32> {
    let k = u64::from(s.partitions.max(1));
    let f = &t.flows;
    match s.partitioning {
        Partitioning::Hash => f
            .uids
            .iter()
            .map(|u| {
                (
                    u.clone(),
                    (seeded::hash(seed, "dpa", u.as_bytes()) % k) as u32,
                )
            })
            .collect(),
        Partitioning::Stratified => {
            let mut strata: BTreeMap<Option<&str>, Vec<(u64, &str)>> = BTreeMap::new();
            for (i, u) in f.uids.iter().enumerate() {
                let attack = f.labels.get(i).copied().unwrap_or(false);
                let key = attack.then(|| f.phases.get(i).and_then(|p| p.as_deref()).unwrap_or(""));
                strata
                    .entry(key)
                    .or_default()
                    .push((seeded::hash(seed, "dpa", u.as_bytes()), u.as_str()));
            }
            let mut out = HashMap::with_capacity(f.uids.len());
            for (key, mut members) in strata {
                members.sort_unstable();
                let name = key.map_or(b"benign".to_vec(), |p| [b"attack:", p.as_bytes()].concat());
                let offset = seeded::hash(seed, "dpa-stratum", &name) % k;
                for (rank, (_, u)) in members.into_iter().enumerate() {
                    out.insert(u.to_string(), ((offset + rank as u64) % k) as u32);
                }
            }
            out
        }
    }
}

/// Trains the base models on the partitions of `t` (labels as they are now), leaving out the
/// flows (with their checkpoint rows) whose uid `keep` rejects; partitions are assigned
/// over every flow of `t`.
///
/// # Errors
/// No partition, or trees that cannot be trained for a reason other than a one-class
/// partition (invalid parameters, non-finite features).
pub fn train_dpa(
    t: &FlowTables,
    s: &DpaSettings,
    params: &GbdtParams,
    seed: u64,
    keep: impl Fn(&str) -> bool,
    context: &str,
) -> Result<Dpa, RobustError> {
    if s.partitions == 0 {
        return Err(RobustError::Usage(
            "DPA needs at least one partition".into(),
        ));
    }
    let part = assign(t, s, seed);
    let mut coverage: BTreeMap<String, Vec<bool>> = BTreeMap::new();
    for (i, u) in t.flows.uids.iter().enumerate() {
        if !t.flows.labels.get(i).copied().unwrap_or(false) || !keep(u) {
            continue;
        }
        let phase = t.flows.phases.get(i).cloned().flatten().unwrap_or_default();
        let seen = coverage
            .entry(phase)
            .or_insert_with(|| vec![false; s.partitions as usize]);
        if let Some(slot) = part.get(u).and_then(|&p| seen.get_mut(p as usize)) {
            *slot = true;
        }
    }
    let mut models = Vec::with_capacity(s.partitions as usize);
    for p in 0..s.partitions {
        let (columns, labels) = t.subset(|u| part.get(u) == Some(&p) && keep(u));
        let data = TrainingData {
            names: &t.names,
            columns: &columns,
            labels: &labels,
            weights: None,
        };
        models.push(match train(&data, params) {
            Ok(g) => Base::Trees(g),
            Err(GbdtError::OneClass { label, .. }) => Base::Constant(label),
            Err(GbdtError::Empty { .. }) if labels.is_empty() => Base::Constant(false),
            Err(e) => {
                return Err(RobustError::train(
                    format!("{context}, partition {p} of {}", s.partitions),
                    e,
                ))
            }
        });
    }
    Ok(Dpa {
        models,
        coverage: coverage
            .into_iter()
            .map(|(k, v)| (k, v.iter().filter(|&&x| x).count() as u32))
            .collect(),
    })
}

/// `ρ` of Levine & Feizi's Theorem 1 for two classes, given the attack votes `n1` of `k`.
pub fn certificate(n1: u32, k: u32) -> u32 {
    let n0 = k.saturating_sub(n1);
    if n1 > n0 {
        (n1 - n0 - 1) / 2
    } else {
        (n0 - n1) / 2
    }
}

impl Dpa {
    /// Partitions.
    pub fn k(&self) -> u32 {
        self.models.len() as u32
    }

    /// Votes on every test flow.
    pub fn vote(&self, test: &TestFlows) -> Votes {
        let k = self.k();
        let n = test.len();
        let mut v = Votes {
            attack: vec![false; n],
            certificate: vec![0; n],
            score: vec![f64::NEG_INFINITY; n],
        };
        // Per flow: the best ρ among attack rows, the least ρ among all rows.
        let mut best_attack: Vec<Option<u32>> = vec![None; n];
        let mut least: Vec<u32> = vec![u32::MAX; n];
        for (flow, row) in test.rows() {
            let (mut n1, mut psum) = (0u32, 0.0f64);
            for m in &self.models {
                let p = match m {
                    Base::Trees(g) => g.probability(row),
                    Base::Constant(c) => f64::from(u8::from(*c)),
                };
                n1 += u32::from(p > 0.5);
                psum += p;
            }
            let rho = certificate(n1, k);
            let attack = n1 > k - n1;
            let score = (f64::from(n1) + psum / f64::from(k.max(1))) / f64::from(k + 1);
            if let Some(s) = v.score.get_mut(flow) {
                *s = s.max(score);
            }
            if attack {
                if let Some(b) = best_attack.get_mut(flow) {
                    *b = Some(b.map_or(rho, |x| x.max(rho)));
                }
            }
            if let Some(l) = least.get_mut(flow) {
                *l = (*l).min(rho);
            }
        }
        for i in 0..n {
            match best_attack[i] {
                Some(rho) => {
                    v.attack[i] = true;
                    v.certificate[i] = rho;
                }
                None => v.certificate[i] = if least[i] == u32::MAX { 0 } else { least[i] },
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::certificate;

    #[test]
    fn certificate_follows_levine_and_feizi() {
        // k = 5: 5–0 benign tolerates 2 changed partitions, 3–2 benign none.
        assert_eq!(certificate(0, 5), 2);
        assert_eq!(certificate(2, 5), 0);
        // Attack needs a strict majority and pays the tie-break: 3–2 → 0, 5–0 → 2.
        assert_eq!(certificate(3, 5), 0);
        assert_eq!(certificate(5, 5), 2);
        // k = 4: a 2–2 tie goes to benign with ρ 0; 4–0 attack tolerates 1 (3–1 is still
        // attack, 2–2 is benign).
        assert_eq!(certificate(2, 4), 0);
        assert_eq!(certificate(4, 4), 1);
        assert_eq!(certificate(0, 4), 2);
    }
}
