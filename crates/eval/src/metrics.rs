//! `metrics.json`: the typed result of an evaluation. Field order is the order written;
//! lists keep the order of the inputs (detectors as `scores.csv` lists them, then those that
//! only alerted; phases in order of first appearance), so the same inputs give the same bytes.

use crate::curve::OperatingPoint;
use serde::Serialize;

/// The `format` value of `metrics.json`.
pub const FORMAT: &str = "custos evaluation";

/// The false-positive rates [`PacketMetrics::tpr_at_fpr`] reports the best true-positive
/// rate at.
pub const MAX_FPRS: [f64; 3] = [1e-4, 1e-3, 1e-2];

/// Everything `metrics.json` holds.
#[derive(Clone, Debug, Serialize)]
pub struct Metrics {
    /// Always [`FORMAT`].
    pub format: String,
    /// The run's output folder, as given.
    pub run: String,
    /// The labels files, as given, one per input.
    pub labels: Vec<String>,
    /// Packets of the run (all inputs).
    pub packets: u64,
    /// Packets at the start of the run left out (see [`crate::Skip`]).
    pub skipped_packets: u64,
    /// Evaluated packets labelled benign.
    pub benign_packets: u64,
    /// Evaluated packets labelled attack.
    pub attack_packets: u64,
    /// Hours of benign traffic: the evaluated time of each input (first to last packet)
    /// minus the union of the attack segments (see [`PhaseSummary::segments`]).
    pub benign_hours: f64,
    /// The attack phases of the labels.
    pub phases: Vec<PhaseSummary>,
    /// Evaluated flows of `flows.jsonl` (`None` when the run wrote none).
    pub flows: Option<FlowSummary>,
    /// One entry per detector.
    pub detectors: Vec<DetectorMetrics>,
    /// Train/test leakage: evaluated inputs that a detector's model was trained on (same
    /// SHA-256); empty when none — or when the run recorded no input hashes.
    pub leakage: Vec<Leak>,
    /// True when every input of the run had its SHA-256 recorded, so that leakage was
    /// checked for all of them.
    pub leakage_checked: bool,
}

/// Train/test leakage: an evaluated input that a detector's saved model was trained on
/// (`kind` `capture`: the same file by SHA-256), or flows of the run that were among its
/// training flows (`kind` `flows`: same Community ID and start time, e.g. an excerpt of a
/// training capture).
#[derive(Clone, Debug, Serialize)]
pub struct Leak {
    /// The detector.
    pub detector: String,
    /// `capture` or `flows`.
    pub kind: &'static str,
    /// The evaluated input (path as the run had it); every input for `flows`.
    pub input: String,
    /// Its SHA-256 (`capture`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// The same file as the model's training record names it (`capture`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub training_input: Option<String>,
    /// Flows of the run the model was trained on (`flows`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared_flows: Option<u64>,
    /// Flows of the run the detector checked (`flows`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flows: Option<u64>,
}

impl Leak {
    /// One sentence saying what leaked.
    pub fn describe(&self) -> String {
        match (self.kind, &self.training_input, &self.sha256) {
            ("capture", Some(t), Some(h)) => format!(
                "{} was evaluated on {}, which its model was trained on ({t}, SHA-256 {h})",
                self.detector, self.input
            ),
            _ => format!(
                "{} of the {} flows of {} were among the training flows of {}'s model (same \
                 Community ID and start time)",
                self.shared_flows.unwrap_or(0),
                self.flows.unwrap_or(0),
                self.input,
                self.detector
            ),
        }
    }
}

/// One attack phase of the labels.
#[derive(Clone, Debug, Serialize)]
pub struct PhaseSummary {
    /// Name (`phase` column).
    pub name: String,
    /// Evaluated attack packets of the phase.
    pub attack_packets: u64,
    /// Run index of its first evaluated attack packet.
    pub first_packet: u64,
    /// Time of its earliest attack packet (EVE format).
    pub first_time: String,
    /// Time of its latest attack packet (EVE format).
    pub last_time: String,
    /// Time segments: runs of its attack packets no more than
    /// [`crate::SEGMENT_GAP_NS`] apart (one per shaded band of the timelines).
    pub segments: usize,
}

/// The evaluated flows.
#[derive(Clone, Debug, Serialize)]
pub struct FlowSummary {
    /// Flows whose first or last packet is labelled attack.
    pub attack: u64,
    /// The other flows.
    pub benign: u64,
}

/// One detector's results.
#[derive(Clone, Debug, Serialize)]
pub struct DetectorMetrics {
    /// Detector name.
    pub name: String,
    /// Operating threshold (alerts fire strictly above it), when known.
    pub threshold: Option<f64>,
    /// Where the threshold comes from: `stats.json`, `alerts.jsonl` or `None`.
    pub threshold_source: Option<String>,
    /// Packet-level ranking metrics (`None` when it wrote no scores column).
    pub packet: Option<PacketMetrics>,
    /// Alerts at the operating threshold.
    pub alerts: AlertMetrics,
    /// Per attack phase, in the order of [`Metrics::phases`].
    pub phases: Vec<PhaseMetrics>,
    /// Flow-level results of its alerts (`None` without `flows.jsonl`).
    pub flows: Option<FlowMetrics>,
}

/// Packet-level metrics from the scores.
#[derive(Clone, Debug, Serialize)]
pub struct PacketMetrics {
    /// Area under the ROC curve (scikit-learn's `roc_auc_score`), attack vs benign.
    pub roc_auc: Option<f64>,
    /// Area under the precision–recall curve as average precision (scikit-learn's
    /// `average_precision_score`).
    pub pr_auc: Option<f64>,
    /// Best TPR with FPR at most each of [`MAX_FPRS`].
    pub tpr_at_fpr: Vec<TprAtFpr>,
    /// TPR and FPR of the packets scoring above the operating threshold.
    pub at_threshold: Option<OperatingPoint>,
}

/// The best operating point within a false-positive budget.
#[derive(Clone, Debug, Serialize)]
pub struct TprAtFpr {
    /// The budget.
    pub max_fpr: f64,
    /// The point (`threshold`: flag packets scoring at or above it).
    #[serde(flatten)]
    pub point: OperatingPoint,
}

/// A detector's alerts, counted against the labels.
#[derive(Clone, Debug, Serialize)]
pub struct AlertMetrics {
    /// Alerts on evaluated packets.
    pub total: u64,
    /// On attack packets.
    pub on_attack: u64,
    /// On benign packets (false alerts).
    pub on_benign: u64,
    /// On packets before the evaluated range (not counted above).
    pub not_evaluated: u64,
    /// `on_attack / total`.
    pub precision: Option<f64>,
    /// `on_benign / benign_hours` (see [`Metrics::benign_hours`]).
    pub false_alerts_per_hour: Option<f64>,
    /// Attack phases caught / attack phases.
    pub phase_recall: Option<f64>,
}

/// One detector on one attack phase.
#[derive(Clone, Debug, Serialize)]
pub struct PhaseMetrics {
    /// Phase name.
    pub name: String,
    /// ROC AUC of the phase's attack packets against all benign packets.
    pub roc_auc: Option<f64>,
    /// Alerts on attack packets of the phase.
    pub alerts: u64,
    /// At least one alert fell on an attack packet of the phase.
    pub caught: bool,
    /// Run index of the first alerted attack packet of the phase.
    pub first_alert_packet: Option<u64>,
    /// Its alert's time (EVE format).
    pub first_alert_time: Option<String>,
    /// First alert's time minus the phase's earliest attack packet time (to the µs, as
    /// alerts carry it), seconds.
    pub delay_seconds: Option<f64>,
    /// Attack packets of the phase before the first alerted one.
    pub delay_packets: Option<u64>,
}

/// A detector's alerts at flow level (see the `flows` module: attack flows are those whose
/// first or last packet is labelled attack).
#[derive(Clone, Debug, Serialize)]
pub struct FlowMetrics {
    /// Attack flows with at least one alert.
    pub attack_alerted: u64,
    /// `attack_alerted / attack flows`.
    pub recall: Option<f64>,
    /// Benign flows with at least one alert.
    pub benign_alerted: u64,
    /// `benign_alerted / benign flows`.
    pub false_positive_rate: Option<f64>,
    /// Evaluated alerts in no flow (frames without IP, or no matching flow).
    pub alerts_without_flow: u64,
    /// Per attack phase: its flows and how many were alerted.
    pub phases: Vec<PhaseFlows>,
}

/// The flows of one attack phase.
#[derive(Clone, Debug, Serialize)]
pub struct PhaseFlows {
    /// Phase name.
    pub name: String,
    /// Attack flows of the phase.
    pub flows: u64,
    /// Those with at least one alert.
    pub alerted: u64,
}

/// `a / b`, `None` when `b` is zero.
pub(crate) fn ratio(a: u64, b: u64) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}
