//! The flow model's experiments: for each strategy and rate, the poisoned training labels (or
//! the poisoned capture's dataset), the undefended model and DPA measured on the test flows,
//! and what label screening makes of the poisoned labels.

use crate::capture::LabelledCapture;
use crate::config::PoisonConfig;
use crate::defence::dpa::{train_dpa, Partitioning};
use crate::error::RobustError;
use crate::flowdata::{FlowTables, TestFlows};
use crate::flowmodel::train_single;
use crate::metrics::measure;
use crate::report::{Certificate, InjectionFacts, PoisonEntry, Poisoned, Screening};
use crate::seeded;
use crate::strategies::window_injection::{benign_window, inject, INJECTED_PHASE};
use crate::strategies::{label_flip, targeted_flip, Strategy};
use std::collections::BTreeMap;
use std::path::Path;

const DETECTOR: &str = "flow";

/// The training and test data of the flow experiments.
pub(crate) struct FlowRun<'a> {
    cfg: &'a PoisonConfig,
    train_capture: &'a LabelledCapture,
    clean: FlowTables,
    test_tables: FlowTables,
    test: TestFlows,
    work: &'a Path,
    /// The entries on clean training data (the same for every strategy).
    clean_entries: Option<Vec<PoisonEntry>>,
}

impl<'a> FlowRun<'a> {
    /// Builds the clean training and the test datasets in `work`.
    ///
    /// # Errors
    /// A dataset cannot be built, or the data lacks attack or benign flows.
    pub(crate) fn new(
        cfg: &'a PoisonConfig,
        train_capture: &'a LabelledCapture,
        work: &'a Path,
    ) -> Result<Self, RobustError> {
        let clean = FlowTables::build(&cfg.train, &cfg.train_labels, &work.join("train"))?;
        let test_tables = FlowTables::build(&cfg.test, &cfg.test_labels, &work.join("test"))?;
        let test = TestFlows::new(&test_tables);
        let test_attack = test.attack.iter().filter(|&&a| a).count();
        if clean.attack_flows() == 0 || clean.attack_flows() == clean.flows.rows() {
            return Err(RobustError::Insufficient(format!(
                "the training capture gives {} flows, {} of them attack: the flow model needs \
                 both classes",
                clean.flows.rows(),
                clean.attack_flows()
            )));
        }
        if test_attack == 0 || test_attack == test.len() {
            return Err(RobustError::Insufficient(format!(
                "the test capture gives {} flows, {test_attack} of them attack: measuring needs \
                 both classes",
                test.len()
            )));
        }
        Ok(FlowRun {
            cfg,
            train_capture,
            clean,
            test_tables,
            test,
            work,
            clean_entries: None,
        })
    }

    /// Every entry of `strategy`, rate 0 included.
    ///
    /// # Errors
    /// A model cannot be trained or a poisoned dataset built.
    pub(crate) fn strategy(&mut self, strategy: Strategy) -> Result<Vec<PoisonEntry>, RobustError> {
        let attack = self.clean.attack_flows();
        let order = match strategy {
            Strategy::LabelFlip => label_flip::order(&self.clean, self.cfg.seed),
            Strategy::TargetedFlip => {
                let o = targeted_flip::order(
                    &self.clean,
                    &self.test_tables,
                    self.cfg.target_phase.as_deref(),
                    self.cfg.seed,
                );
                if o.is_empty() {
                    return Err(RobustError::Insufficient(format!(
                        "targeted_flip: the test capture has no attack flow{}",
                        self.cfg
                            .target_phase
                            .as_ref()
                            .map(|p| format!(" of phase {p:?}"))
                            .unwrap_or_default()
                    )));
                }
                o
            }
            Strategy::WindowInjection => Vec::new(),
        };
        let mut out = Vec::new();
        for rate in self.cfg.all_rates() {
            let ctx = format!("flow model, {}, rate {rate}", strategy.name());
            if strategy == Strategy::WindowInjection && rate > 0.0 {
                out.extend(self.injected(rate, &ctx)?);
                continue;
            }
            let n = label_flip::count(rate, attack);
            let flip = order.get(..n).unwrap_or(&order);
            let poisoned: Vec<String> = flip
                .iter()
                .filter_map(|&i| self.clean.flows.uids.get(i).cloned())
                .collect();
            let unit = if strategy == Strategy::WindowInjection {
                Poisoned {
                    unit: "packets".into(),
                    count: 0,
                    of: benign_window(self.train_capture) as u64,
                }
            } else {
                Poisoned {
                    unit: "flows".into(),
                    count: n as u64,
                    of: attack as u64,
                }
            };
            if let (0, Some(clean)) = (n, &self.clean_entries) {
                out.extend(clean.iter().cloned().map(|mut e| {
                    e.strategy = strategy.name().into();
                    e.poisoned = unit.clone();
                    e
                }));
                continue;
            }
            let saved = self.clean.flip(flip);
            let result = measure_pair(
                &self.clean,
                &self.test,
                self.cfg,
                strategy,
                rate,
                unit,
                &poisoned,
                &ctx,
            );
            self.clean.restore(saved);
            let entries = result?;
            if n == 0 {
                self.clean_entries = Some(entries.clone());
            }
            out.extend(entries);
        }
        Ok(out)
    }

    /// The entries of window injection at `rate`.
    fn injected(&self, rate: f64, ctx: &str) -> Result<Vec<PoisonEntry>, RobustError> {
        let window = benign_window(self.train_capture);
        let position = seeded::unit(self.cfg.seed, "window_injection");
        let inj = inject(self.train_capture, window, rate, position)?;
        let dir = self.work.join(format!("inject-{rate}"));
        std::fs::create_dir_all(&dir).map_err(|e| RobustError::io("create", &dir, e))?;
        let (pcap, labels) = inj.capture.write(&dir, "train")?;
        let tables = FlowTables::build(&pcap, &labels, &dir.join("dataset"))?;
        let poisoned: Vec<String> = tables
            .flows
            .uids
            .iter()
            .zip(&tables.flows.phases)
            .filter(|(_, p)| p.as_deref() == Some(INJECTED_PHASE))
            .map(|(u, _)| u.clone())
            .collect();
        let unit = Poisoned {
            unit: "packets".into(),
            count: inj.injected as u64,
            of: inj.window_len as u64,
        };
        let mut entries = measure_pair(
            &tables,
            &self.test,
            self.cfg,
            Strategy::WindowInjection,
            rate,
            unit,
            &poisoned,
            ctx,
        )?;
        let facts = InjectionFacts::of(&inj, window);
        for e in &mut entries {
            e.injection = Some(facts.clone());
        }
        let _ = std::fs::remove_dir_all(&dir);
        Ok(entries)
    }
}

/// The undefended and the defended entry for training data `t` (labels as poisoned), whose
/// poisoned flows are `poisoned` (uids).
#[allow(clippy::too_many_arguments)]
fn measure_pair(
    t: &FlowTables,
    test: &TestFlows,
    cfg: &PoisonConfig,
    strategy: Strategy,
    rate: f64,
    unit: Poisoned,
    poisoned: &[String],
    ctx: &str,
) -> Result<Vec<PoisonEntry>, RobustError> {
    let single = train_single(t, &cfg.flow, ctx)?;
    let scores = single.score(test);
    let alerted: Vec<bool> = scores.iter().map(|&s| s > single.threshold).collect();
    let m = measure(&scores, &alerted, &test.attack, &test.phase);
    let mut undefended = PoisonEntry::new(
        DETECTOR,
        strategy.name(),
        rate,
        false,
        m,
        Some(single.threshold),
        unit.clone(),
    );
    if cfg.screen_folds > 0 {
        undefended.label_screening = Some(screen(t, cfg, poisoned, ctx)?);
    }
    let dpa = train_dpa(t, &cfg.dpa, &cfg.flow.params, cfg.seed, ctx)?;
    let votes = dpa.vote(test);
    let m = measure(&votes.score, &votes.attack, &test.attack, &test.phase);
    let mut defended = PoisonEntry::new(DETECTOR, strategy.name(), rate, true, m, None, unit);
    let count = poisoned.len() as u64;
    let mut sorted = votes.certificate.clone();
    sorted.sort_unstable();
    let q = |p: f64| {
        let i = ((sorted.len().saturating_sub(1)) as f64 * p).round() as usize;
        sorted.get(i).copied().unwrap_or(0)
    };
    let tolerance: BTreeMap<String, u32> = [
        ("min", 0.0),
        ("p10", 0.1),
        ("p50", 0.5),
        ("p90", 0.9),
        ("max", 1.0),
    ]
    .into_iter()
    .map(|(k, p)| (k.to_string(), q(p)))
    .collect();
    let at_poison = votes
        .certificate
        .iter()
        .filter(|&&c| u64::from(c) >= count)
        .count();
    defended.certificate = Some(Certificate {
        partitions: dpa.k(),
        partitioning: match cfg.dpa.partitioning {
            Partitioning::Hash => "hash".into(),
            Partitioning::Stratified => "stratified".into(),
        },
        certified: cfg.dpa.partitioning == Partitioning::Hash,
        tolerance,
        share_certified_at_poison: at_poison as f64 / votes.certificate.len().max(1) as f64,
        phase_coverage: dpa.coverage.clone(),
    });
    Ok(vec![undefended, defended])
}

/// Label screening of `t`'s labels and how many of the `poisoned` flows it lists.
fn screen(
    t: &FlowTables,
    cfg: &PoisonConfig,
    poisoned: &[String],
    ctx: &str,
) -> Result<Screening, RobustError> {
    let r = custos_dataset::screening::screen_labels(
        &t.names,
        &t.flows,
        &t.prefixes,
        &cfg.flow.params,
        cfg.screen_folds,
    )
    .map_err(|e| RobustError::train(format!("{ctx}, label screening"), e))?;
    let mut listed: Vec<&str> = r["flows_listed"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["uid"].as_str()).collect())
        .unwrap_or_default();
    listed.sort_unstable();
    let found = poisoned
        .iter()
        .filter(|u| listed.binary_search(&u.as_str()).is_ok())
        .count();
    let n = |k: &str| r[k].as_u64().unwrap_or(0);
    Ok(Screening {
        folds: cfg.screen_folds,
        flows: n("flows"),
        suspicious: n("suspicious"),
        suspicious_attack_labels: n("suspicious_attack_labels"),
        suspicious_benign_labels: n("suspicious_benign_labels"),
        poisoned: poisoned.len() as u64,
        poisoned_found: found as u64,
    })
}
