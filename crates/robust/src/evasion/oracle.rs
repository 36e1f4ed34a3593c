//! The detectors as black boxes: each answers, for a transformed phase, whether any of the
//! phase's items raises an alert at its operating threshold, and how close the phase came
//! (its highest score ÷ the threshold), which the search ranks by.
//!
//! - **Kitsune** scores the capture with the phase spliced in, from empty statistics,
//!   starting [`KitsuneOracle::context_s`] seconds before the phase's first packet and
//!   ending with its last; the phase alerts when one of its packets scores above the
//!   model's threshold.
//! - **The flow model** (`flow`, or `flow_events` on the event features only, see
//!   [`event_features`]) scores the flows of the same stretch of the capture, the phase
//!   spliced in, turned into flows by `custos dataset build`'s code: a flow's score is its
//!   highest over its end and its checkpoints, as the flow detector alerts, and the phase's
//!   flows (labelled attack with its name) are the ones that count. The context matters: a
//!   flow's host features count its hosts' flows of the last minute.
//! - A combination (`kitsune,flow`) alerts when any member alerts; its closeness is the
//!   largest of the members', the items above the threshold the sum of theirs.

use super::phase::{in_context, Phase, Pkt};
use crate::capture::LabelledCapture;
use crate::error::RobustError;
use crate::flowdata::{FlowTables, TestFlows};
use crate::flowmodel::Single;
use crate::kitsune;
use custos_detect::KitsuneModel;
use custos_features::flow::live::DIRECTIONS;
use std::path::{Path, PathBuf};

/// One query's answer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Answer {
    /// Some item of the phase scored above the threshold.
    pub alerted: bool,
    /// The phase's highest score ÷ the threshold (0 without items).
    pub closeness: f64,
    /// The phase's items (Kitsune: packets; flow models: flows) scoring above the
    /// threshold; a combination sums its members' counts. Where one item's score saturates
    /// the closeness (a flood of flows the model is sure of), this still moves.
    pub alerting: u64,
}

impl Answer {
    /// The answer for the scores of a phase's items against `threshold`.
    pub fn of(scores: impl Iterator<Item = f64>, threshold: f64) -> Answer {
        let (mut alerted, mut closeness, mut above) = (false, 0.0f64, 0u64);
        for s in scores {
            if s > threshold {
                alerted = true;
                above += 1;
            }
            closeness = closeness.max(ratio(s, threshold));
        }
        Answer {
            alerted,
            closeness,
            alerting: above,
        }
    }

    /// The answer of a combination: alerted when either is.
    pub fn or(self, other: Answer) -> Answer {
        Answer {
            alerted: self.alerted || other.alerted,
            closeness: self.closeness.max(other.closeness),
            alerting: self.alerting + other.alerting,
        }
    }
}

/// Kitsune with its trained model.
pub struct KitsuneOracle {
    /// The trained model (its threshold included).
    pub model: KitsuneModel,
    /// Seconds of traffic before the phase scored to fill Kitsune's statistics.
    pub context_s: f64,
}

impl KitsuneOracle {
    /// Scores `cap` with `phase` replaced by `packets`.
    ///
    /// # Errors
    /// The model does not fit the feature configuration.
    pub fn ask(
        &self,
        cap: &LabelledCapture,
        phase: &Phase,
        packets: &[Pkt],
    ) -> Result<Answer, RobustError> {
        let w = in_context(cap, phase, packets, self.context_s);
        let scores = kitsune::score(&self.model, w.frames.iter(), w.linktype)?;
        let t = self.model.threshold.value;
        let mine_scores = scores
            .iter()
            .zip(&w.labels)
            .filter(|(_, l)| l.attack && l.phase.as_deref() == Some(phase.name.as_str()))
            .map(|(s, _)| *s);
        Ok(Answer::of(mine_scores, t))
    }
}

/// The flow model with its trained model and a scratch directory for datasets.
pub struct FlowOracle {
    /// The trained model and threshold.
    pub model: Single,
    /// Feature columns left in (`None`: all).
    pub keep: Option<Vec<bool>>,
    /// Where each query's dataset is built (replaced each time).
    pub work: PathBuf,
    /// Seconds of traffic before the phase whose flows give its flows their host context.
    pub context_s: f64,
}

impl FlowOracle {
    /// Scores the flows of `phase` of `cap` replaced by `packets`, in their context.
    ///
    /// # Errors
    /// The dataset cannot be built or read.
    pub fn ask(
        &self,
        cap: &LabelledCapture,
        phase: &Phase,
        packets: &[Pkt],
    ) -> Result<Answer, RobustError> {
        let tables = self.tables(&in_context(cap, phase, packets, self.context_s))?;
        let test = TestFlows::new(&tables);
        let scores = self.model.score(&test);
        let t = self.model.threshold;
        let name = Some(phase.name.as_str());
        let attack_scores = scores
            .iter()
            .zip(test.attack.iter().zip(&test.phase))
            .filter(|(_, (&attack, p))| attack && p.as_deref() == name)
            .map(|(s, _)| *s);
        Ok(Answer::of(attack_scores, t))
    }

    /// The flow tables of `cap`, masked.
    ///
    /// # Errors
    /// The dataset cannot be built or read.
    pub fn tables(&self, cap: &LabelledCapture) -> Result<FlowTables, RobustError> {
        let mut t = tables_of(cap, &self.work)?;
        if let Some(keep) = &self.keep {
            mask(&mut t, keep);
        }
        Ok(t)
    }
}

/// The flow tables of `cap`, built in `work` (its capture and dataset replaced).
///
/// # Errors
/// The dataset cannot be built or read.
pub fn tables_of(cap: &LabelledCapture, work: &Path) -> Result<FlowTables, RobustError> {
    std::fs::create_dir_all(work).map_err(|e| RobustError::io("create", work, e))?;
    let (pcap, labels) = cap.write(work, "query")?;
    FlowTables::build(&pcap, &labels, &work.join("dataset"))
}

/// `score ÷ threshold`, for a positive threshold; else 0, or 2 above it.
fn ratio(score: f64, threshold: f64) -> f64 {
    if threshold > 0.0 && score.is_finite() {
        (score / threshold).max(0.0)
    } else if score > threshold {
        2.0
    } else {
        0.0
    }
}

/// The columns of `names` the `flow_events` model keeps: the responder port, the IP
/// protocol, every application-event count, the DNS error ratio, and the SYN, FIN and RST
/// packet counts of each direction — what padding, splitting, timing and chaff cannot
/// move without changing what the attack does. Sizes, gaps, durations and the other packet
/// counts are left out.
pub fn event_features(names: &[String]) -> Vec<bool> {
    let app: Vec<&str> = custos_features::flow::app::APP_COLUMNS
        .iter()
        .map(|(n, _)| *n)
        .collect();
    names
        .iter()
        .map(|n| {
            matches!(n.as_str(), "resp_port" | "proto" | "dns_error_ratio")
                || app.contains(&n.as_str())
                || DIRECTIONS.iter().any(|d| {
                    ["syn", "fin", "rst"]
                        .iter()
                        .any(|f| *n == format!("{d}_{f}_packets"))
                })
        })
        .collect()
}

/// Zeroes the columns of `t` not kept (a constant column gives a tree nothing to split on).
pub fn mask(t: &mut FlowTables, keep: &[bool]) {
    for table in [&mut t.flows, &mut t.prefixes] {
        for (col, &k) in table.columns.iter_mut().zip(keep) {
            if !k {
                col.iter_mut().for_each(|v| *v = 0.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_features_leave_out_sizes_and_gaps() {
        let names = custos_features::flow::live::names();
        let keep = event_features(&names);
        let kept: Vec<&str> = names
            .iter()
            .zip(&keep)
            .filter(|(_, &k)| k)
            .map(|(n, _)| n.as_str())
            .collect();
        assert!(kept.contains(&"resp_port"));
        assert!(kept.contains(&"telnet_login_failures"));
        assert!(kept.contains(&"src2dst_syn_packets"));
        assert!(!kept
            .iter()
            .any(|n| n.contains("bytes") || n.contains("piat")));
        assert!(!kept.contains(&"bidirectional_packets"));
    }

    #[test]
    fn combinations_alert_when_any_member_does() {
        let a = Answer {
            alerted: false,
            closeness: 0.4,
            alerting: 0,
        };
        let b = Answer {
            alerted: true,
            closeness: 1.3,
            alerting: 1,
        };
        assert_eq!(a.or(b), b);
        let c = Answer::of([0.2, 0.6, 0.9, 0.4].into_iter(), 0.5);
        assert!(c.alerted && c.alerting == 2 && (c.closeness - 1.8).abs() < 1e-12);
        assert_eq!(b.or(c).alerting, 3);
        assert!(!Answer::of([0.1].into_iter(), 0.5).alerted);
        assert_eq!(ratio(0.5, 0.0), 2.0);
        assert_eq!(ratio(2.0, 4.0), 0.5);
    }
}
