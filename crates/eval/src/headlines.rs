//! What an evaluation tells whoever ran it (one line per leak, note and detector) and what it
//! adds to a model card.

use crate::Metrics;
use serde_json::{json, Value};

impl Metrics {
    /// The lines that report this evaluation: a warning per train/test leak, a note when
    /// leakage could not be checked, then each detector's headline numbers.
    pub fn report_lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .leakage
            .iter()
            .map(|l| {
                format!(
                    "warning: leakage: {}; these metrics do not measure detection on unseen \
                     traffic",
                    l.describe()
                )
            })
            .collect();
        if !self.leakage_checked {
            lines.push(
                "note: the run recorded no SHA-256 for some inputs (standard input, or a run \
                 before custos recorded them): train/test leakage was not checked for them"
                    .into(),
            );
        }
        for d in &self.detectors {
            let caught = d.phases.iter().filter(|p| p.caught).count();
            lines.push(match &d.packet {
                Some(p) => format!(
                    "{}: ROC AUC {:.4}, PR AUC {:.4}; {caught} of {} attack phases caught",
                    d.name,
                    p.roc_auc.unwrap_or(f64::NAN),
                    p.pr_auc.unwrap_or(f64::NAN),
                    d.phases.len()
                ),
                None => format!(
                    "{}: {caught} of {} attack phases caught",
                    d.name,
                    d.phases.len()
                ),
            });
            if d.alerts.not_evaluated > 0 {
                lines.push(format!(
                    "note: {}: {} of its alerts fell in the skipped packets: not evaluated, \
                     not counted as false alerts (evaluate without the skip to count them)",
                    d.name, d.alerts.not_evaluated
                ));
            }
        }
        lines
    }

    /// The model card's `metrics` (the detectors and leaks, from `custos evaluate`) and
    /// `evaluation_data` (run, labels, packets, benign hours, phases) for this evaluation.
    pub fn card_entries(&self) -> (Value, Value) {
        let metrics = json!({
            "source": "custos evaluate",
            "detectors": self.detectors,
            "leakage": self.leakage,
        });
        let evaluation_data = json!({
            "run": self.run,
            "labels": self.labels,
            "packets": self.packets,
            "skipped_packets": self.skipped_packets,
            "benign_hours": self.benign_hours,
            "phases": self.phases.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
        });
        (metrics, evaluation_data)
    }
}
