//! Evasion: the engine of `custos robust evade` (docs/robustness.md).
//!
//! [`evade`] takes a labelled capture ([`EvadeConfig`]), trains the detectors (on a training
//! capture, or on the capture itself), and for every target — a detector or a combination —
//! and every attack phase searches for the cheapest rewrite of the phase's traffic that
//! raises no alert, within a budget ([`budget`]) and without breaking the attack
//! ([`functional`]). It writes `robustness.json` ([`report::EvasionReport`]) and, for every
//! evasion found, the transformed capture with aligned labels.
//!
//! ```no_run
//! use custos_robust::evasion::{evade, EvadeConfig, Target};
//! let mut cfg = EvadeConfig::new("lab.pcap".into(), "lab.labels.csv".into(), "evade".into());
//! cfg.targets = vec![Target::parse("kitsune,flow")?];
//! cfg.queries = 40;
//! let (report, _files) = evade(cfg)?;
//! for (phase, rate) in &report.evasion_rate["kitsune,flow"] {
//!     println!("{phase}: evaded in {:.0} % of trials", 100.0 * rate);
//! }
//! # Ok::<(), custos_robust::RobustError>(())
//! ```
//!
//! How the parts connect:
//! - [`phase`] cuts an attack phase out of the capture and splices a transformed one back;
//!   [`frame`] reads and rewrites headers with checksums; [`ops`] holds the transforms as
//!   pure functions over a phase's packets, [`transform`] combines them into candidates.
//! - [`oracle`] asks Kitsune, the flow model and `flow_events` (the flow model on event
//!   features) whether a transformed phase alerts; [`search`] is the seeded random-then-
//!   greedy black-box search with a query budget.
//! - [`adversarial`] retrains the flow model with perturbed training attacks (a defence);
//!   combining detectors and event features are the others.
//!
//! What it does not do: white-box (gradient) attacks, transformations of IPv6 or of other
//! link types than Ethernet, MQTT v5 property padding (the lab's clients speak MQTT 3.1.1,
//! whose grammar has no room for padding), replies to chaff, or Kitsune trained adversarially.

pub mod adversarial;
pub mod budget;
pub mod config;
pub mod frame;
pub mod functional;
pub mod ops;
pub mod oracle;
pub mod phase;
pub mod plot;
pub mod report;
pub mod search;
pub mod transform;

pub use config::{EvadeConfig, EvasionDetector, Target};

use crate::capture::LabelledCapture;
use crate::error::RobustError;
use crate::flowdata::{FlowTables, TestFlows};
use crate::flowmodel::{train_single, Single};
use crate::kitsune;
use crate::strategies::window_injection::benign_window;
use oracle::{Answer, FlowOracle, KitsuneOracle};
use phase::{Phase, Pkt};
use report::{DefenceFacts, EvasionEntry, EvasionReport};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use transform::Context;

/// Most benign datagrams kept for chaff.
const POOL: usize = 4096;

/// The name of the adversarial-training defence in reports.
pub const ADVERSARIAL: &str = "adversarial_training";

/// Runs every search of `cfg` and writes the report, its plot ([`plot::FILE`]) and the
/// evading captures into `cfg.output`; returns the report and the files written (the report
/// first, then the plot, then the captures and their labels).
///
/// # Errors
/// Invalid settings, unreadable or unfit inputs, a report already there (without
/// `cfg.force`), too little data to train on, or a file that cannot be written.
pub fn evade(mut cfg: EvadeConfig) -> Result<(EvasionReport, Vec<PathBuf>), RobustError> {
    cfg.validate()?;
    let out = cfg.output.clone();
    let report_path = crate::report_dir(&out, cfg.force)?;
    let (report, mut files) = crate::with_work_dir(&out, |work| run(&cfg, work))?;
    let plot_path = out.join(plot::FILE);
    std::fs::write(&plot_path, plot::render(&report))
        .map_err(|e| RobustError::io("write", &plot_path, e))?;
    std::fs::write(&report_path, report::to_json(&report))
        .map_err(|e| RobustError::io("write", &report_path, e))?;
    files.insert(0, plot_path);
    files.insert(0, report_path);
    Ok((report, files))
}

/// The trained detectors.
struct Models {
    kitsune: Option<KitsuneOracle>,
    flow: Option<FlowOracle>,
    events: Option<FlowOracle>,
}

impl Models {
    /// Asks every member of `target` about `packets` as `phase` of `cap`.
    fn ask(
        &self,
        target: &Target,
        cap: &LabelledCapture,
        phase: &Phase,
        packets: &[Pkt],
    ) -> Result<Answer, RobustError> {
        let mut a = Answer {
            alerted: false,
            closeness: 0.0,
            alerting: 0,
        };
        for d in &target.0 {
            let b = match d {
                EvasionDetector::Kitsune => {
                    self.kitsune.as_ref().map(|k| k.ask(cap, phase, packets))
                }
                EvasionDetector::Flow => self.flow.as_ref().map(|f| f.ask(cap, phase, packets)),
                EvasionDetector::FlowEvents => {
                    self.events.as_ref().map(|f| f.ask(cap, phase, packets))
                }
            };
            if let Some(b) = b {
                a = a.or(b?);
            }
        }
        Ok(a)
    }
}

/// Reads the inputs, trains, searches, and applies the defences.
fn run(cfg: &EvadeConfig, work: &Path) -> Result<(EvasionReport, Vec<PathBuf>), RobustError> {
    std::fs::create_dir_all(work).map_err(|e| RobustError::io("create", work, e))?;
    let (cap, cap_facts) = LabelledCapture::read(&cfg.capture, &cfg.labels)?;
    let (train_paths, train, train_facts) = match &cfg.train {
        Some((c, l)) => {
            let (t, f) = LabelledCapture::read(c, l)?;
            ((c.clone(), l.clone()), t, f)
        }
        None => (
            (cfg.capture.clone(), cfg.labels.clone()),
            cap.clone(),
            cap_facts.clone(),
        ),
    };
    let all = phase::phases(&cap);
    let phases: Vec<Phase> = all
        .into_iter()
        .filter(|p| cfg.phases.is_empty() || cfg.phases.contains(&p.name))
        .collect();
    if phases.is_empty() {
        return Err(RobustError::Insufficient(format!(
            "{} has no attack phase{} to evade",
            cfg.capture.display(),
            if cfg.phases.is_empty() {
                String::new()
            } else {
                format!(" named {}", cfg.phases.join(", "))
            }
        )));
    }
    let mut models = train_models(cfg, &train, &train_paths, work)?;
    let exclude: BTreeSet<_> = phase::phases(&cap)
        .iter()
        .filter_map(|p| p.attacker.map(|a| a.1))
        .collect();
    let benign: Vec<bool> = cap.labels.iter().map(|l| !l.attack).collect();
    let pool = ops::chaff_pool(&cap.frames, &benign, cap.linktype, &exclude, POOL);
    let mut files = Vec::new();
    let mut entries = Vec::new();
    let runner = Runner {
        cfg,
        cap: &cap,
        phases: &phases,
        pool: &pool,
    };
    for target in &cfg.targets {
        entries.extend(runner.target(&models, target, "none", &mut files)?);
    }
    let mut defended = BTreeMap::new();
    let mut defences = Vec::new();
    if cfg.adversarial_samples > 0 && cfg.needs(EvasionDetector::Flow) {
        let mut tables = FlowTables::build(&train_paths.0, &train_paths.1, &work.join("train"))?;
        let added = adversarial::augment(
            &mut tables,
            &train,
            &cfg.budget,
            (cfg.adversarial_samples, cfg.seed),
            cfg.context_s,
            work,
        )?;
        let hardened = train_single(&tables, &cfg.flow, "flow model, adversarial training")?;
        let evaded_tables = FlowTables::build(&cfg.capture, &cfg.labels, &work.join("evaded"))?;
        let before = models.flow.take();
        let mut facts = benign_cost(&evaded_tables, before.as_ref().map(|f| &f.model), &hardened);
        facts.samples = added.samples;
        facts.flows_added = added.flows;
        defences.push(facts);
        models.flow = Some(FlowOracle {
            model: hardened,
            keep: None,
            work: work.join("q-flow-adv"),
            context_s: cfg.context_s,
        });
        let mut d = Vec::new();
        for target in cfg.targets.iter().filter(|t| t.has(EvasionDetector::Flow)) {
            d.extend(runner.target(&models, target, ADVERSARIAL, &mut files)?);
        }
        defended.insert(ADVERSARIAL.to_string(), report::rates(&d, ADVERSARIAL));
        entries.extend(d);
    }
    let rates = report::rates(&entries, "none");
    let combined = cfg.targets.iter().find(|t| t.0.len() > 1).map(Target::name);
    let goal = report::goal(&rates, &defended, combined.as_deref());
    let report = EvasionReport {
        format: report::FORMAT.into(),
        custos_version: env!("CARGO_PKG_VERSION").into(),
        inputs: report::EvasionInputs {
            capture: cap_facts,
            train: train_facts,
        },
        settings: cfg.settings_json(),
        evasion: entries,
        evasion_rate: rates,
        evasion_rate_defended: defended,
        defences,
        goal,
        plots: vec![plot::FILE.to_string()],
    };
    Ok((report, files))
}

/// Trains the detectors the targets ask.
fn train_models(
    cfg: &EvadeConfig,
    train: &LabelledCapture,
    paths: &(PathBuf, PathBuf),
    work: &Path,
) -> Result<Models, RobustError> {
    let mut m = Models {
        kitsune: None,
        flow: None,
        events: None,
    };
    if cfg.needs(EvasionDetector::Kitsune) {
        let window = benign_window(train);
        let frames = train.frames.get(..window).unwrap_or_default();
        let model = kitsune::train(frames.iter(), train.linktype, &cfg.kitsune, "kitsune")?;
        m.kitsune = Some(KitsuneOracle {
            model,
            context_s: cfg.context_s,
        });
    }
    let (flow, events) = (
        cfg.needs(EvasionDetector::Flow),
        cfg.needs(EvasionDetector::FlowEvents),
    );
    if flow || events {
        let mut tables = FlowTables::build(&paths.0, &paths.1, &work.join("train"))?;
        if flow {
            m.flow = Some(FlowOracle {
                model: train_single(&tables, &cfg.flow, "flow model")?,
                keep: None,
                work: work.join("q-flow"),
                context_s: cfg.context_s,
            });
        }
        if events {
            let keep = oracle::event_features(&tables.names);
            oracle::mask(&mut tables, &keep);
            m.events = Some(FlowOracle {
                model: train_single(&tables, &cfg.flow, "flow model, event features")?,
                keep: Some(keep),
                work: work.join("q-events"),
                context_s: cfg.context_s,
            });
        }
    }
    Ok(m)
}

/// What every search of a run shares.
struct Runner<'a> {
    cfg: &'a EvadeConfig,
    cap: &'a LabelledCapture,
    phases: &'a [Phase],
    pool: &'a [crate::capture::Frame],
}

impl Runner<'_> {
    /// Every phase and trial of `target` with `models`; writes the evading captures.
    fn target(
        &self,
        models: &Models,
        target: &Target,
        defence: &str,
        files: &mut Vec<PathBuf>,
    ) -> Result<Vec<EvasionEntry>, RobustError> {
        let mut out = Vec::new();
        for phase in self.phases {
            let ctx = Context {
                linktype: self.cap.linktype,
                pool: self.pool,
                attacker: phase.attacker,
            };
            for trial in 0..self.cfg.trials {
                let seed = crate::seeded::hash(self.cfg.seed, "trial", &trial.to_be_bytes());
                let mut ask = |p: &[Pkt]| models.ask(target, self.cap, phase, p);
                let found = search::search(
                    phase,
                    &ctx,
                    &self.cfg.budget,
                    self.cfg.queries,
                    seed,
                    &mut ask,
                )?;
                let mut capture = None;
                if trial == 0 && found.evaded() && !found.candidate.steps.is_empty() {
                    let dir = self.cfg.output.join(format!(
                        "evaded-{}",
                        file_part(&target.name().replace(',', "+"))
                    ));
                    std::fs::create_dir_all(&dir)
                        .map_err(|e| RobustError::io("create", &dir, e))?;
                    let stem = if defence == "none" {
                        file_part(&phase.name)
                    } else {
                        format!("{}-{defence}", file_part(&phase.name))
                    };
                    let spliced = phase::splice(self.cap, phase, &found.packets);
                    let (pcap, labels) = spliced.write(&dir, &stem)?;
                    capture = pcap
                        .strip_prefix(&self.cfg.output)
                        .ok()
                        .map(|p| p.display().to_string());
                    files.extend([pcap, labels]);
                }
                out.push(EvasionEntry {
                    detector: target.name(),
                    phase: phase.name.clone(),
                    trial,
                    defence: defence.into(),
                    evaded: found.evaded(),
                    transform: found.candidate.name(),
                    cost: found.cost,
                    queries: found.queries as u64,
                    discarded: found.discarded as u64,
                    original_alerted: found.original.alerted,
                    original_closeness: found.original.closeness,
                    closeness: found.answer.closeness,
                    original_alerting: found.original.alerting,
                    alerting: found.answer.alerting,
                    packets: [phase.packets.len() as u64, found.packets.len() as u64],
                    capture,
                });
            }
        }
        Ok(out)
    }
}

/// A name safe in a file name: letters, digits, `-`, `_` and `+`; anything else `_`.
fn file_part(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '+') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// What adversarial training costs on the evaded capture's own flows.
fn benign_cost(t: &FlowTables, before: Option<&Single>, after: &Single) -> DefenceFacts {
    let test = TestFlows::new(t);
    let count = |m: Option<&Single>, attack: bool| -> u64 {
        let Some(m) = m else { return 0 };
        m.score(&test)
            .iter()
            .zip(&test.attack)
            .filter(|(s, &a)| a == attack && **s > m.threshold)
            .count() as u64
    };
    DefenceFacts {
        name: ADVERSARIAL.into(),
        description: "the flow model retrained with perturbed copies of the training \
                      capture's attack phases (random transforms within the budget, chaff \
                      left out) added as attack flows"
            .into(),
        benign_flows: test.attack.iter().filter(|&&a| !a).count() as u64,
        attack_flows: test.attack.iter().filter(|&&a| a).count() as u64,
        false_positives_before: count(before, false),
        false_positives_after: count(Some(after), false),
        attack_alerted_before: count(before, true),
        attack_alerted_after: count(Some(after), true),
        samples: 0,
        flows_added: 0,
    }
}
