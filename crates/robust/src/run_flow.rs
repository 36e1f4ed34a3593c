//! The flow model's experiments: for each strategy and rate, the poisoned training labels (or
//! the poisoned capture's dataset), the undefended model, DPA and `screen+dpa` (label
//! screening that drops contradicted flows, then DPA) measured on the test flows, and what
//! label screening makes of the poisoned labels.

use crate::capture::LabelledCapture;
use crate::config::PoisonConfig;
use crate::defence::conversation::{flow_groups, FlowGroup};
use crate::defence::dpa::{train_dpa, Partitioning};
use crate::defence::screen::{self, Screened};
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
    /// The clean training flows' groups (conversation and minute).
    groups: Vec<Option<FlowGroup>>,
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
        let groups = flow_groups(
            &clean,
            &work.join("train"),
            &train_capture.frames,
            train_capture.linktype,
            screen::GROUP_S,
        )?;
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
            groups,
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
                (&self.clean, &self.groups),
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
        let groups = flow_groups(
            &tables,
            &dir.join("dataset"),
            &inj.capture.frames,
            inj.capture.linktype,
            screen::GROUP_S,
        )?;
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
            (&tables, &groups),
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

/// The undefended entry, plain DPA's and (with screening folds) `screen+dpa`'s for training
/// data `t` (labels as poisoned), whose poisoned flows are `poisoned` (uids).
#[allow(clippy::too_many_arguments)]
fn measure_pair(
    (t, groups): (&FlowTables, &[Option<FlowGroup>]),
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
    let mut sorted_poisoned: Vec<&str> = poisoned.iter().map(String::as_str).collect();
    sorted_poisoned.sort_unstable();
    let is_poisoned = |u: &str| sorted_poisoned.binary_search(&u).is_ok();
    let screened = if cfg.screen_folds > 0 {
        let (folds, rounds) = (cfg.screen_folds, screen::ROUNDS);
        let sc = screen::screen(t, groups, &cfg.flow.params, folds, rounds, ctx)?;
        undefended.label_screening = Some(screening_facts(t, cfg, &sc, &is_poisoned, false));
        Some(sc)
    } else {
        None
    };
    let mut out = vec![undefended];
    let dpa = dpa_entry(
        t,
        test,
        cfg,
        (strategy, rate, &unit),
        poisoned.len(),
        |_| true,
        ctx,
    )?;
    out.push(dpa.named("dpa", true));
    if let Some(sc) = screened {
        let relabelled = sc.tables(t);
        let mut dropped: Vec<&str> = relabelled
            .flows
            .uids
            .iter()
            .zip(&sc.dropped)
            .filter(|(_, &d)| d)
            .map(|(u, _)| u.as_str())
            .collect();
        dropped.sort_unstable();
        let keep = |u: &str| dropped.binary_search(&u).is_err();
        let ctx = format!("{ctx}, screen+dpa");
        let e = dpa_entry(
            relabelled,
            test,
            cfg,
            (strategy, rate, &unit),
            poisoned.len(),
            keep,
            &ctx,
        )?;
        let mut e = e.named("screen+dpa", false);
        e.label_screening = Some(screening_facts(t, cfg, &sc, &is_poisoned, true));
        out.push(e);
    }
    Ok(out)
}

/// A DPA entry before it is named.
struct DpaEntry(PoisonEntry);

impl DpaEntry {
    /// The entry as defence `name`; `certified` when its margin counts poisoned flows.
    fn named(mut self, name: &str, certified: bool) -> PoisonEntry {
        self.0.defence = name.into();
        if let Some(c) = self.0.certificate.as_mut() {
            c.certified = c.certified && certified;
        }
        self.0
    }
}

/// DPA trained on the flows of `t` that `keep` accepts, measured on `test`, with the vote
/// margins over the test flows; `poisoned` flows were poisoned.
fn dpa_entry(
    t: &FlowTables,
    test: &TestFlows,
    cfg: &PoisonConfig,
    (strategy, rate, unit): (Strategy, f64, &Poisoned),
    poisoned: usize,
    keep: impl Fn(&str) -> bool,
    ctx: &str,
) -> Result<DpaEntry, RobustError> {
    let dpa = train_dpa(t, &cfg.dpa, &cfg.flow.params, cfg.seed, keep, ctx)?;
    let votes = dpa.vote(test);
    let m = measure(&votes.score, &votes.attack, &test.attack, &test.phase);
    let mut defended =
        PoisonEntry::new(DETECTOR, strategy.name(), rate, true, m, None, unit.clone());
    let count = poisoned as u64;
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
    Ok(DpaEntry(defended))
}

/// What screening `sc` of `t` listed (first round) and, with `acted`, what it dropped;
/// `is_poisoned` tells the poisoned flows.
fn screening_facts(
    t: &FlowTables,
    cfg: &PoisonConfig,
    sc: &Screened,
    is_poisoned: &dyn Fn(&str) -> bool,
    acted: bool,
) -> Screening {
    let f = &t.flows;
    let label = |i: usize| f.labels.get(i).copied().unwrap_or(false);
    let count = |marks: &[bool], pred: &dyn Fn(usize) -> bool| {
        marks
            .iter()
            .enumerate()
            .filter(|&(i, &m)| m && pred(i))
            .count() as u64
    };
    let poisoned_flow = |i: usize| f.uids.get(i).is_some_and(|u| is_poisoned(u));
    let poisoned = (0..f.rows()).filter(|&i| poisoned_flow(i)).count() as u64;
    Screening {
        folds: cfg.screen_folds,
        flows: f.rows() as u64,
        suspicious: count(&sc.contradicted, &|_| true),
        suspicious_attack_labels: count(&sc.contradicted, &label),
        suspicious_benign_labels: count(&sc.contradicted, &|i| !label(i)),
        poisoned,
        poisoned_found: count(&sc.contradicted, &poisoned_flow),
        rounds: acted.then_some(sc.rounds as u32),
        conversation_suspects: acted.then(|| count(&sc.conversation_suspects, &|_| true)),
        by_conversation: acted.then(|| count(&sc.by_conversation, &|_| true)),
        poisoned_relabelled: acted.then(|| count(&sc.by_conversation, &poisoned_flow)),
        dropped: acted.then(|| count(&sc.dropped, &|_| true)),
        dropped_attack_labels: acted.then(|| count(&sc.dropped, &label)),
        poisoned_dropped: acted.then(|| count(&sc.dropped, &poisoned_flow)),
    }
}
