//! `robustness.json`: one typed record per (detector, strategy, rate, defended), the
//! settings and inputs that produced them, and a summary that says where the undefended
//! detector was hurt and whether each goal of `docs/robustness.md` was met.
//!
//! Field order is the order written; maps are sorted; floats are written in their shortest
//! exact form; nothing depends on the clock or the output directory, so the same inputs,
//! settings and seed give the same bytes.

use crate::capture::InputFacts;
use crate::metrics::Measured;
use serde::Serialize;
use std::collections::BTreeMap;

/// The `format` value of `robustness.json`.
pub const FORMAT: &str = "custos robustness";

/// The report file's name.
pub const REPORT_FILE: &str = "robustness.json";

/// Undefended AUC drop (at the strongest rate) from which a strategy counts as hurting.
pub const HURT_AUC: f64 = 0.01;

/// Undefended F1 drop (at the strongest rate) from which a strategy counts as hurting.
pub const HURT_F1: f64 = 0.05;

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Always [`FORMAT`].
    pub format: String,
    /// custos version.
    pub custos_version: String,
    /// The training and test captures.
    pub inputs: Inputs,
    /// Every setting of the run.
    pub settings: serde_json::Value,
    /// One entry per detector, strategy, rate and defence.
    pub poison: Vec<PoisonEntry>,
    /// Per detector and strategy: the damage and the goals.
    pub summary: Vec<Summary>,
    /// Detector and strategy pairs not run, and why.
    pub not_applicable: Vec<NotApplicable>,
    /// The plots written beside the report.
    pub plots: Vec<String>,
}

/// The folder of a model directory that robustness plots are copied into.
pub const CARD_PLOTS_DIR: &str = "robustness";

impl Report {
    /// What a model card says of this report (`robustness_poisoning`): the inputs, the
    /// damage and goals per detector and strategy, and the plots as copied into the model
    /// directory ([`CARD_PLOTS_DIR`]).
    pub fn card_entry(&self) -> serde_json::Value {
        serde_json::json!({
            "source": "custos robust poison (docs/robustness.md)",
            "custos_version": self.custos_version,
            "inputs": self.inputs,
            "summary": self.summary,
            "not_applicable": self.not_applicable,
            "plots": self.plots.iter().map(|p| format!("{CARD_PLOTS_DIR}/{p}")).collect::<Vec<_>>(),
        })
    }
}

/// The inputs.
#[derive(Clone, Debug, Serialize)]
pub struct Inputs {
    /// The training capture.
    pub train: InputFacts,
    /// The test capture.
    pub test: InputFacts,
}

/// What was poisoned, in the strategy's unit.
#[derive(Clone, Debug, Serialize)]
pub struct Poisoned {
    /// `flows` (relabelled) or `packets` (injected).
    pub unit: String,
    /// How many.
    pub count: u64,
    /// Out of how many (training attack flows; packets of the poisoned window).
    pub of: u64,
}

/// One measurement.
#[derive(Clone, Debug, Serialize)]
pub struct PoisonEntry {
    /// `kitsune` or `flow`.
    pub detector: String,
    /// The strategy's name.
    pub strategy: String,
    /// The poison rate (see `poisoned` for what it counts).
    pub rate: f64,
    /// With a defence.
    pub defended: bool,
    /// Which: `none`, `dpa` or `screen+dpa` (flow), `sanitised` (Kitsune).
    pub defence: String,
    /// ROC AUC on the test capture.
    pub auc: Option<f64>,
    /// F1 of the alerts at the operating threshold.
    pub f1: f64,
    /// Recall per attack phase of the test capture.
    pub phase_recall: BTreeMap<String, f64>,
    /// Precision of the alerts.
    pub precision: Option<f64>,
    /// Recall of the alerts.
    pub recall: Option<f64>,
    /// False-positive rate of the alerts.
    pub false_positive_rate: Option<f64>,
    /// The operating threshold (`None` for a vote).
    pub threshold: Option<f64>,
    /// What was poisoned.
    pub poisoned: Poisoned,
    /// The flow model's certified tolerance (defended entries).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub certificate: Option<Certificate>,
    /// Kitsune's sanitised window and alarm.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sanitised: Option<SanitisedFacts>,
    /// Label screening of the poisoned training labels (undefended flow entries: what it
    /// lists; `screen+dpa` entries: what it relabelled and dropped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label_screening: Option<Screening>,
    /// How the window was poisoned (window injection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub injection: Option<InjectionFacts>,
}

impl PoisonEntry {
    /// An entry with `m`'s measurements and nothing else.
    pub fn new(
        detector: &str,
        strategy: &str,
        rate: f64,
        defended: bool,
        m: Measured,
        threshold: Option<f64>,
        poisoned: Poisoned,
    ) -> Self {
        PoisonEntry {
            detector: detector.into(),
            strategy: strategy.into(),
            rate,
            defended,
            defence: if defended { "defended" } else { "none" }.into(),
            auc: m.auc,
            f1: m.f1,
            phase_recall: m.phase_recall,
            precision: m.precision,
            recall: m.recall,
            false_positive_rate: m.false_positive_rate,
            threshold,
            poisoned,
            certificate: None,
            sanitised: None,
            label_screening: None,
            injection: None,
        }
    }
}

/// DPA's certificates over the test flows.
#[derive(Clone, Debug, Serialize)]
pub struct Certificate {
    /// Partitions (base models).
    pub partitions: u32,
    /// `hash` or `stratified`.
    pub partitioning: String,
    /// True when the tolerance counts poisoned training flows (hash partitioning).
    pub certified: bool,
    /// Quantiles of the tolerance over the test flows: min, p10, p50, p90, max.
    pub tolerance: BTreeMap<String, u32>,
    /// Share of the test flows certified against at least as many poisoned flows as this
    /// entry's poison holds.
    pub share_certified_at_poison: f64,
    /// Per attack phase of the training labels, the partitions holding one of its flows.
    pub phase_coverage: BTreeMap<String, u32>,
}

/// Kitsune's sanitised window.
#[derive(Clone, Debug, Serialize)]
pub struct SanitisedFacts {
    /// Window packets dropped.
    pub dropped: u64,
    /// Of those, injected ones.
    pub dropped_injected: u64,
    /// Of those, dropped for their conversation (more than half of it dropped by the slice
    /// models).
    pub dropped_by_conversation: u64,
    /// Of those, dropped for their host's stretch (more of it dropped than the host's usual
    /// stretch holds).
    pub dropped_by_host: u64,
    /// Packets injected.
    pub injected: u64,
    /// Share of the window the fold models flag (after the alarm's skip): the alarm's measure.
    pub flagged_fraction: f64,
    /// The contamination alarm.
    pub alarm: bool,
    /// Why it was raised.
    pub alarm_reasons: Vec<String>,
}

/// What label screening found in the poisoned training labels.
#[derive(Clone, Debug, Serialize)]
pub struct Screening {
    /// Folds.
    pub folds: u32,
    /// Training flows screened.
    pub flows: u64,
    /// Flows whose label the rest of the data contradicts.
    pub suspicious: u64,
    /// Of those, labelled attack.
    pub suspicious_attack_labels: u64,
    /// Of those, labelled benign.
    pub suspicious_benign_labels: u64,
    /// Poisoned flows.
    pub poisoned: u64,
    /// Poisoned flows among the suspicious ones.
    pub poisoned_found: u64,
    /// Rounds of screening (`screen+dpa`: repeated on the flows kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rounds: Option<u32>,
    /// Flows contradicted by their conversation (`screen+dpa`): the suspects the model of
    /// their own features is asked about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation_suspects: Option<u64>,
    /// Suspects that model confirmed, relabelled to their conversation's majority
    /// (`screen+dpa`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by_conversation: Option<u64>,
    /// Poisoned flows among the relabelled ones (`screen+dpa`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poisoned_relabelled: Option<u64>,
    /// Flows the fold models contradicted, dropped before DPA, over every round
    /// (`screen+dpa`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped: Option<u64>,
    /// Of those, labelled attack.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dropped_attack_labels: Option<u64>,
    /// Poisoned flows among the dropped ones (`screen+dpa`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub poisoned_dropped: Option<u64>,
}

/// How a window was poisoned by injection.
#[derive(Clone, Debug, Serialize)]
pub struct InjectionFacts {
    /// Packets of the clean benign window.
    pub window_packets: u64,
    /// Packets injected.
    pub injected_packets: u64,
    /// Passes over the attack traffic.
    pub passes: u64,
    /// Injected frames renumbered.
    pub renumbered_frames: u64,
    /// Injected frames that could not be renumbered.
    pub unreadable_frames: u64,
    /// Attacker addresses renumbered per pass (IPv4, MAC).
    pub attacker_ipv4: u64,
    /// Attacker MACs renumbered per pass.
    pub attacker_macs: u64,
    /// Time compression (1: none).
    pub time_scale: f64,
}

impl InjectionFacts {
    /// The facts of `inj`, injected into a window of `window` packets.
    pub fn of(inj: &crate::strategies::window_injection::Injected, window: usize) -> Self {
        InjectionFacts {
            window_packets: window as u64,
            injected_packets: inj.injected as u64,
            passes: inj.passes as u64,
            renumbered_frames: inj.renumbered_frames as u64,
            unreadable_frames: inj.unreadable_frames as u64,
            attacker_ipv4: inj.attacker_addresses.0 as u64,
            attacker_macs: inj.attacker_addresses.1 as u64,
            time_scale: inj.time_scale,
        }
    }
}

/// A detector/strategy pair not run.
#[derive(Clone, Debug, Serialize)]
pub struct NotApplicable {
    /// Detector.
    pub detector: String,
    /// Strategy.
    pub strategy: String,
    /// Why.
    pub reason: String,
}

/// The damage of one strategy against one detector, and what one defence gives back.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Detector.
    pub detector: String,
    /// Strategy.
    pub strategy: String,
    /// The defence (`dpa`, `screen+dpa`, `sanitised`).
    pub defence: String,
    /// The strongest rate.
    pub max_rate: f64,
    /// Undefended AUC at rate 0 minus at the strongest rate.
    pub undefended_auc_drop: Option<f64>,
    /// Undefended F1 at rate 0 minus at the strongest rate.
    pub undefended_f1_drop: f64,
    /// Defended AUC at rate 0 minus at the strongest rate.
    pub defended_auc_drop: Option<f64>,
    /// Defended F1 at rate 0 minus at the strongest rate.
    pub defended_f1_drop: f64,
    /// The undefended detector was hurt (AUC drop ≥ [`HURT_AUC`] or F1 drop ≥ [`HURT_F1`]).
    pub undefended_hurt: bool,
    /// What the defence costs on clean data: undefended minus defended at rate 0.
    pub clean_cost: Cost,
    /// The goal of docs/robustness.md for this pair.
    pub goal: Goal,
}

impl Summary {
    /// The summary in words, as `custos robust poison` prints it: what the strongest rate
    /// does to the detector undefended and defended, then the goal's verdict.
    pub fn lines(&self) -> [String; 2] {
        let auc = |d: Option<f64>| d.map_or("n/a".to_string(), |x| format!("{x:+.4}"));
        let hurt = if self.undefended_hurt {
            ""
        } else {
            " (the undefended detector is not hurt at these rates)"
        };
        [
            format!(
                "{} / {} / {}: at rate {} the undefended AUC drops {}, F1 {:+.4}; defended AUC \
                 {}, F1 {:+.4}{hurt}",
                self.detector,
                self.strategy,
                self.defence,
                self.max_rate,
                auc(self.undefended_auc_drop),
                self.undefended_f1_drop,
                auc(self.defended_auc_drop),
                self.defended_f1_drop,
            ),
            format!("  goal: {}", self.goal.verdict),
        ]
    }
}

/// Undefended minus defended measurements on clean training data.
#[derive(Clone, Debug, Serialize)]
pub struct Cost {
    /// AUC.
    pub auc: Option<f64>,
    /// F1.
    pub f1: f64,
}

/// A goal and whether it was met.
#[derive(Clone, Debug, Serialize)]
pub struct Goal {
    /// The goal.
    pub statement: String,
    /// `met`, `not met`, or `not applicable` (and why).
    pub verdict: String,
}

/// The defences among `entries`, in order of first appearance.
pub fn defences(entries: &[&PoisonEntry]) -> Vec<String> {
    let mut v: Vec<String> = Vec::new();
    for e in entries.iter().filter(|e| e.defended) {
        if !v.contains(&e.defence) {
            v.push(e.defence.clone());
        }
    }
    v
}

/// The summary of `entries` (all of one detector and strategy, rate 0 included) for the
/// undefended detector against `defence`.
pub fn summarise(
    detector: &str,
    strategy: &str,
    defence: &str,
    entries: &[&PoisonEntry],
) -> Option<Summary> {
    let at = |rate: f64, defended: bool| {
        entries
            .iter()
            .find(|e| {
                e.rate == rate && e.defended == defended && (!defended || e.defence == defence)
            })
            .copied()
    };
    let max_rate = entries.iter().map(|e| e.rate).fold(0.0, f64::max);
    let (u0, d0) = (at(0.0, false)?, at(0.0, true)?);
    let (um, dm) = (at(max_rate, false)?, at(max_rate, true)?);
    let drop = |a: Option<f64>, b: Option<f64>| Some(a? - b?);
    let undefended_auc_drop = drop(u0.auc, um.auc);
    let undefended_f1_drop = u0.f1 - um.f1;
    let hurt = undefended_auc_drop.is_some_and(|d| d >= HURT_AUC) || undefended_f1_drop >= HURT_F1;
    let goal = if detector == "kitsune" {
        let mine: Vec<&PoisonEntry> = entries
            .iter()
            .filter(|e| e.defence == defence)
            .copied()
            .collect();
        kitsune_goal(&mine, u0)
    } else {
        flow_goal(at(0.1, false), at(0.1, true), u0, d0)
    };
    Some(Summary {
        detector: detector.into(),
        strategy: strategy.into(),
        defence: defence.into(),
        max_rate,
        undefended_auc_drop,
        undefended_f1_drop,
        defended_auc_drop: drop(d0.auc, dm.auc),
        defended_f1_drop: d0.f1 - dm.f1,
        undefended_hurt: hurt,
        clean_cost: Cost {
            auc: drop(u0.auc, d0.auc),
            f1: u0.f1 - d0.f1,
        },
        goal,
    })
}

/// At 10 % poisoning, defended F1 drops ≤ 2 points where undefended drops ≥ 10.
fn flow_goal(
    u: Option<&PoisonEntry>,
    d: Option<&PoisonEntry>,
    u0: &PoisonEntry,
    d0: &PoisonEntry,
) -> Goal {
    let statement = "at 10 % poisoning the defended F1 drops by at most 0.02 where the \
                     undefended F1 drops by at least 0.10"
        .to_string();
    let verdict = match (u, d) {
        (Some(u), Some(d)) => {
            let (ud, dd) = (u0.f1 - u.f1, d0.f1 - d.f1);
            if ud < 0.10 {
                format!("not applicable: the undefended F1 drops by only {ud:.4} at 10 %")
            } else if dd <= 0.02 {
                format!("met: undefended drop {ud:.4}, defended drop {dd:.4}")
            } else {
                format!("not met: undefended drop {ud:.4}, defended drop {dd:.4}")
            }
        }
        _ => "not applicable: rate 0.1 was not measured".into(),
    };
    Goal { statement, verdict }
}

/// Defended on a poisoned window keeps its AUC within 0.01 of the clean window's.
fn kitsune_goal(entries: &[&PoisonEntry], clean: &PoisonEntry) -> Goal {
    let statement = "trained on a window holding attack traffic and defended, Kitsune keeps \
                     its AUC within 0.01 of the undefended model of the clean window"
        .to_string();
    let Some(c) = clean.auc else {
        return Goal {
            statement,
            verdict: "not applicable: no AUC on the clean window".into(),
        };
    };
    let worst = entries
        .iter()
        .filter(|e| e.defended && e.rate > 0.0)
        .filter_map(|e| e.auc.map(|a| (c - a, e.rate)))
        .max_by(|a, b| a.0.total_cmp(&b.0));
    let verdict = match worst {
        None => "not applicable: no poisoned rate measured".into(),
        Some((gap, rate)) if gap <= 0.01 => {
            format!("met: largest shortfall {gap:.4} (rate {rate})")
        }
        Some((gap, rate)) => format!("not met: shortfall {gap:.4} at rate {rate}"),
    };
    Goal { statement, verdict }
}

/// The report's text: pretty-printed, newline-terminated.
pub fn to_json(r: &Report) -> String {
    // Plain structs, strings, integers, finite floats (NaN is never stored): cannot fail.
    let mut s = serde_json::to_string_pretty(r).unwrap_or_default();
    s.push('\n');
    s
}
