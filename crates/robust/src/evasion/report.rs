//! The evasion report, `robustness.json` of `custos robust evade`: one entry per target
//! (detector or combination), phase, trial and model, the evasion rate per target and
//! phase, the same after each defence, and what each defence cost.
//!
//! Field order is the order written; maps are sorted; nothing depends on the clock or the
//! output directory, so the same inputs, settings and seed give the same bytes.

use super::budget::Cost;
use crate::capture::InputFacts;
use serde::Serialize;
use std::collections::BTreeMap;

/// The `format` value of an evasion report.
pub const FORMAT: &str = "custos robustness (evasion)";

/// Evasion rate per target, then per phase.
pub type Rates = BTreeMap<String, BTreeMap<String, f64>>;

/// The whole report.
#[derive(Clone, Debug, Serialize)]
pub struct EvasionReport {
    /// Always [`FORMAT`].
    pub format: String,
    /// custos version.
    pub custos_version: String,
    /// The evaded capture and the training capture.
    pub inputs: EvasionInputs,
    /// Every setting of the run.
    pub settings: serde_json::Value,
    /// One entry per target, phase, trial and model (undefended, then each defence).
    pub evasion: Vec<EvasionEntry>,
    /// Per target and phase: evaded trials ÷ trials, undefended models.
    pub evasion_rate: Rates,
    /// Per defence (`adversarial_training`), the same rates with the defended models.
    pub evasion_rate_defended: BTreeMap<String, Rates>,
    /// What each defence is and what it cost.
    pub defences: Vec<DefenceFacts>,
    /// The goal of docs/robustness.md and whether it was met.
    pub goal: Goal,
    /// The plots written beside the report (file names).
    pub plots: Vec<String>,
}

/// The inputs.
#[derive(Clone, Debug, Serialize)]
pub struct EvasionInputs {
    /// The capture whose attacks are transformed.
    pub capture: InputFacts,
    /// The capture the detectors were trained on (the same one when not given).
    pub train: InputFacts,
}

/// One search.
#[derive(Clone, Debug, Serialize)]
pub struct EvasionEntry {
    /// The target: a detector or a combination named as on the command line.
    pub detector: String,
    /// The attack phase.
    pub phase: String,
    /// The trial (0-based; each with its own seed).
    pub trial: u32,
    /// The defence of the models asked (`none`, `adversarial_training`).
    pub defence: String,
    /// The best candidate raises no alert.
    pub evaded: bool,
    /// The best candidate (`none`: the original traffic).
    pub transform: String,
    /// Its cost.
    pub cost: Cost,
    /// Detector queries used.
    pub queries: u64,
    /// Candidates discarded without a query (over budget or failing the functional check).
    pub discarded: u64,
    /// The original phase raises an alert.
    pub original_alerted: bool,
    /// The original phase's highest score ÷ threshold.
    pub original_closeness: f64,
    /// The best candidate's highest score ÷ threshold.
    pub closeness: f64,
    /// The original phase's items above the threshold (Kitsune: packets, flow models:
    /// flows; summed over a combination's members).
    pub original_alerting: u64,
    /// The best candidate's items above the threshold.
    pub alerting: u64,
    /// Packets of the phase before and after.
    pub packets: [u64; 2],
    /// The transformed capture and labels written (trial 0), relative to the report.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capture: Option<String>,
}

impl EvasionReport {
    /// What a model card says of this report (`robustness_evasion`): the inputs, the
    /// budget and queries, the evasion rates undefended and defended, what each defence cost,
    /// the goal, and the plots as copied into the model directory
    /// ([`crate::report::CARD_PLOTS_DIR`]).
    pub fn card_entry(&self) -> serde_json::Value {
        let dir = crate::report::CARD_PLOTS_DIR;
        serde_json::json!({
            "source": "custos robust evade (docs/robustness.md)",
            "custos_version": self.custos_version,
            "inputs": self.inputs,
            "budget": self.settings.get("budget"),
            "queries": self.settings.get("queries"),
            "trials": self.settings.get("trials"),
            "evasion_rate": self.evasion_rate,
            "evasion_rate_defended": self.evasion_rate_defended,
            "defences": self.defences,
            "goal": self.goal,
            "plots": self.plots.iter().map(|p| format!("{dir}/{p}")).collect::<Vec<_>>(),
        })
    }

    /// The report in words, as `custos robust evade` prints it: per target (and defence),
    /// the evasion rate of each phase, then the goal's verdict.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut show = |name: &str, rates: &Rates| {
            for (target, phases) in rates {
                let list: Vec<String> = phases
                    .iter()
                    .map(|(p, r)| format!("{p} {:.0} %", 100.0 * r))
                    .collect();
                out.push(format!("{target}{name}: evaded {}", list.join(", ")));
            }
        };
        show("", &self.evasion_rate);
        for (defence, rates) in &self.evasion_rate_defended {
            show(&format!(" with {defence}"), rates);
        }
        out.push(format!("  goal: {}", self.goal.verdict));
        out
    }
}

/// A defence and what it cost on benign traffic.
#[derive(Clone, Debug, Serialize)]
pub struct DefenceFacts {
    /// Its name.
    pub name: String,
    /// What it does.
    pub description: String,
    /// Flows of the evaded capture, by label.
    pub benign_flows: u64,
    /// Attack flows of the evaded capture.
    pub attack_flows: u64,
    /// Benign flows alerted by the undefended flow model.
    pub false_positives_before: u64,
    /// Benign flows alerted by the defended flow model.
    pub false_positives_after: u64,
    /// Attack flows (unperturbed) alerted by the undefended flow model.
    pub attack_alerted_before: u64,
    /// Attack flows (unperturbed) alerted by the defended flow model.
    pub attack_alerted_after: u64,
    /// Perturbed training samples added, and their flows.
    pub samples: u64,
    /// Flows added to the training data.
    pub flows_added: u64,
}

/// The goal: the combined detector's evasion rate under the default budget.
#[derive(Clone, Debug, Serialize)]
pub struct Goal {
    /// The goal.
    pub statement: String,
    /// `met`, `not met` or `not measured`, with the numbers.
    pub verdict: String,
}

/// Evasion rates of `entries` with `defence`.
pub fn rates(entries: &[EvasionEntry], defence: &str) -> Rates {
    let mut n: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
    for e in entries.iter().filter(|e| e.defence == defence) {
        let c = n.entry((e.detector.clone(), e.phase.clone())).or_default();
        c.0 += u64::from(e.evaded);
        c.1 += 1;
    }
    let mut out = Rates::new();
    for ((d, p), (ev, all)) in n {
        out.entry(d)
            .or_default()
            .insert(p, ev as f64 / all.max(1) as f64);
    }
    out
}

/// The largest goal threshold: the combined detector evaded in at most this share of
/// trials per phase.
pub const GOAL_RATE: f64 = 0.2;

/// The goal's verdict for the target `combined` (`None`: no combination was measured).
pub fn goal(r: &Rates, defended: &BTreeMap<String, Rates>, combined: Option<&str>) -> Goal {
    let statement = format!(
        "the combined detector's evasion rate under the default budget is at most {:.0} % per \
         attack phase",
        100.0 * GOAL_RATE
    );
    let Some(c) = combined else {
        return Goal {
            statement,
            verdict: "not measured: no combination of detectors was a target".into(),
        };
    };
    let describe = |rates: Option<&BTreeMap<String, f64>>| {
        let Some(rates) = rates else {
            return (true, String::from("no phase"));
        };
        let worst = rates.values().copied().fold(0.0, f64::max);
        let list: Vec<String> = rates
            .iter()
            .map(|(p, x)| format!("{p} {:.0} %", 100.0 * x))
            .collect();
        (worst <= GOAL_RATE, list.join(", "))
    };
    let (ok, text) = describe(r.get(c));
    let mut verdict = format!(
        "{}: {c} evaded per phase: {text}",
        if ok { "met" } else { "not met" }
    );
    for (name, d) in defended {
        let (ok, text) = describe(d.get(c));
        verdict.push_str(&format!(
            "; with {name}: {} ({text})",
            if ok { "met" } else { "not met" }
        ));
    }
    Goal { statement, verdict }
}

/// The report as pretty JSON with a final newline.
pub fn to_json(r: &EvasionReport) -> String {
    // Plain structs, strings, integers and floats (a non-finite one is written as null).
    let mut s = serde_json::to_string_pretty(r).unwrap_or_default();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(d: &str, p: &str, evaded: bool) -> EvasionEntry {
        EvasionEntry {
            detector: d.into(),
            phase: p.into(),
            trial: 0,
            defence: "none".into(),
            evaded,
            transform: "none".into(),
            cost: Cost::default(),
            queries: 1,
            discarded: 0,
            original_alerted: true,
            original_closeness: 2.0,
            closeness: 2.0,
            original_alerting: 1,
            alerting: 1,
            packets: [1, 1],
            capture: None,
        }
    }

    #[test]
    fn rates_are_shares_of_trials_and_the_goal_reads_them() {
        let e = vec![
            entry("kitsune,flow", "scan", true),
            entry("kitsune,flow", "scan", false),
            entry("kitsune,flow", "flood", false),
            entry("kitsune", "scan", true),
        ];
        let r = rates(&e, "none");
        assert_eq!(r["kitsune,flow"]["scan"], 0.5);
        assert_eq!(r["kitsune,flow"]["flood"], 0.0);
        assert_eq!(r["kitsune"]["scan"], 1.0);
        let g = goal(&r, &BTreeMap::new(), Some("kitsune,flow"));
        assert!(g.verdict.starts_with("not met"), "{}", g.verdict);
        assert!(g.verdict.contains("scan 50 %"), "{}", g.verdict);
        assert!(goal(&r, &BTreeMap::new(), None)
            .verdict
            .starts_with("not measured"));
    }
}
