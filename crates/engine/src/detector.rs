//! The [`Detector`] trait: anything that turns packets, flows or application events into
//! scores and [`Alert`](custos_output::Alert)s. Kitsune is the first implementation; the flow model, rules and IoC
//! matching plug in the same way, registered with [`crate::Engine::add_detector`].

use crate::alerts::AlertQueue;
use custos_app::AppEvent;
use custos_decode::Decoded;
use custos_flow::{EndedFlow, PacketMeta};
use std::path::Path;

/// One packet as a detector sees it.
pub struct PacketView<'a> {
    /// Position of the packet in the run (0-based, all inputs together).
    pub run_index: u64,
    /// Time, frame length, input file and index within it.
    pub meta: &'a PacketMeta,
    /// Link type of `data`.
    pub linktype: u32,
    /// The captured bytes.
    pub data: &'a [u8],
    /// The decoded headers.
    pub decoded: &'a Decoded<'a>,
    /// The application protocol its connection carries as recognised so far (EVE name), when
    /// a detector asked for it ([`Detector::reads_app_proto`]); `None` otherwise.
    pub app_proto: Option<&'static str>,
}

/// What a detector's scores are, so that `scores.csv`'s `combined` column can put every
/// detector on one scale, 1.0 at each one's operating threshold (docs/detection.md).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScoreScale {
    /// A non-negative score whose ratio to the threshold is meaningful (Kitsune's RMSE):
    /// combined as `score / threshold`.
    Ratio,
    /// A probability of attack (the flow model's): combined as the ratio of odds,
    /// `(p / (1 − p)) / (t / (1 − t))`, so that 0.999 at threshold 0.5 counts 999 and not 2.
    Probability,
}

impl ScoreScale {
    /// `score` against `threshold` on this scale: 1.0 at the threshold, larger above it;
    /// `None` for a threshold that gives no scale (not positive, not finite, a probability
    /// of 1 or more).
    pub fn relative(self, score: f64, threshold: f64) -> Option<f64> {
        if !(threshold > 0.0 && threshold.is_finite()) {
            return None;
        }
        match self {
            ScoreScale::Ratio => Some(score / threshold),
            ScoreScale::Probability if threshold < 1.0 => {
                // A probability that rounds to 1 would give infinite odds: the largest finite
                // odds below 1 keeps such scores ordered above every other.
                let p = score.clamp(0.0, 1.0 - f64::EPSILON);
                Some((p / (1.0 - p)) / (threshold / (1.0 - threshold)))
            }
            ScoreScale::Probability => None,
        }
    }
}

/// Which packets of the run a detector learned normal traffic from ([`Detector::learning`]):
/// always a prefix of the run, from its first packet (run index 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Learning {
    /// Still learning: every packet so far (at the end of the run, all of them).
    Ongoing,
    /// Learned from the packets before this run index (its first detecting packet); it
    /// learns nothing more.
    Until(u64),
}

impl Learning {
    /// True when the packet at run index `packet` is inside the window as it stands now.
    pub fn covers(self, packet: u64) -> bool {
        match self {
            Learning::Ongoing => true,
            Learning::Until(end) => packet < end,
        }
    }
}

/// Signs of attack custos found inside a detector's learning window ([`Detector::learning`];
/// docs/kitsune.md, "Attacks in the learning window").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LearnedFromAttacks {
    /// The detector.
    pub detector: String,
    /// The warning, naming sources and destinations (the terminal, `stats.json`, which
    /// pseudonymisation rewrites).
    pub warning: String,
    /// The same without addresses — kinds, signatures, first packets and counts — for files
    /// that travel with a model (its card), which nothing pseudonymises.
    pub without_addresses: String,
}

/// An error a detector reports; the run stops with it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DetectorError(pub String);

/// A detector of the engine.
///
/// Every hook is called on one thread, in packet order (the ordered host stage), whatever
/// the number of threads, so a detector may keep state across packets and flows and its
/// output is the same at any thread count. Only packet time may be used as a clock.
///
/// Alerts go into the [`AlertQueue`], which builds the EVE fields from the packet and applies
/// the run's alert rate policy (at most one per flow and second unless
/// `alert_every_packet`).
pub trait Detector: Send {
    /// Short name (`kitsune`, …): `custos.detector` of its alerts, its `scores.csv` column.
    fn name(&self) -> &str;

    /// SHA-256 of the model it runs, when it runs a saved model.
    fn model_digest(&self) -> Option<&str> {
        None
    }

    /// After a run: what the user must know about its detection — why it could not detect
    /// (still training, no threshold…) or why its alerts may mislead (a contaminated
    /// calibration window) —, saying what to change; `None` when all is well. The engine
    /// reports it as a warning of the run; the detector should also put it in its
    /// [`Detector::finish`] summary as `warning`.
    fn warning(&self) -> Option<String> {
        None
    }

    /// The packets of this run it learns normal traffic from (training online: feature
    /// mapping, training, threshold calibration), as it stands now; `None` when it
    /// learns nothing from the run (it runs a saved model, or has no model).
    ///
    /// At the end of the run the host stage checks the window against custos's own evidence
    /// (attack findings, other detectors' alerts) and warns when attacks fell inside it: the
    /// detector may have learned them as normal (docs/kitsune.md, "Attacks in the learning
    /// window").
    fn learning(&self) -> Option<Learning> {
        None
    }

    /// The signature of the saved model it runs (checked when it was loaded), cited by each
    /// of its alerts; `None` when it runs no saved model.
    fn model_signature(&self) -> Option<custos_output::ModelSignature> {
        None
    }

    /// False when it never raises an alert (a collector plugged in as a detector): no
    /// `alerts.jsonl` is written for it.
    fn raises_alerts(&self) -> bool {
        true
    }

    /// True when it reads [`PacketView::app_proto`] (looking it up costs every packet a
    /// table lookup, so the engine does it only for detectors that say so).
    fn reads_app_proto(&self) -> bool {
        false
    }

    /// True when it gives every packet a score (a `scores.csv` column).
    fn scores_packets(&self) -> bool {
        false
    }

    /// The score above which it alerts now (`None`: none yet, or it has no single threshold):
    /// the `combined` column of `scores.csv` measures each score against it.
    fn operating_threshold(&self) -> Option<f64> {
        None
    }

    /// What its scores are, for the `combined` column of `scores.csv` ([`ScoreScale`]).
    fn score_scale(&self) -> ScoreScale {
        ScoreScale::Ratio
    }

    /// Called for every packet. Returns the packet's score when [`Detector::scores_packets`].
    ///
    /// # Errors
    /// A failure that must stop the run.
    fn packet(
        &mut self,
        _packet: &PacketView<'_>,
        _alerts: &mut AlertQueue,
    ) -> Result<Option<f64>, DetectorError> {
        Ok(None)
    }

    /// Called for every application event, after the packet that completed it.
    ///
    /// # Errors
    /// A failure that must stop the run.
    fn event(&mut self, _event: &AppEvent, _alerts: &mut AlertQueue) -> Result<(), DetectorError> {
        Ok(())
    }

    /// Called for every flow as it ends.
    ///
    /// # Errors
    /// A failure that must stop the run.
    fn flow_ended(
        &mut self,
        _flow: &EndedFlow,
        _alerts: &mut AlertQueue,
    ) -> Result<(), DetectorError> {
        Ok(())
    }

    /// Called once at the end; returns what `stats.json` shows of the detector.
    ///
    /// # Errors
    /// A failure at the end of the run.
    fn finish(&mut self) -> Result<serde_json::Value, DetectorError> {
        Ok(serde_json::Value::Null)
    }

    /// Saves what it learned as a model at `path` (for `custos train`); returns a line
    /// describing the model, or `None` when this detector has nothing to save.
    ///
    /// # Errors
    /// Too little training, or the model cannot be written.
    fn save_model(
        &mut self,
        _path: &Path,
        _captures: Vec<String>,
    ) -> Result<Option<String>, DetectorError> {
        Ok(None)
    }
}

/// The detectors of a run, in registration order.
pub(crate) type Detectors = Vec<Box<dyn Detector>>;

#[cfg(test)]
mod tests {
    use super::ScoreScale::{Probability, Ratio};

    #[test]
    fn every_scale_puts_the_threshold_at_one_and_keeps_the_order() {
        assert_eq!(Ratio.relative(0.3, 0.2), Some(1.4999999999999998));
        assert_eq!(Ratio.relative(0.2, 0.2), Some(1.0));
        assert_eq!(Probability.relative(0.5, 0.5), Some(1.0));
        assert_eq!(Probability.relative(0.8, 0.8), Some(1.0));
        // 0.999 against 0.5: odds 999, not the ratio 2.
        let high = Probability.relative(0.999, 0.5).unwrap();
        assert!((high - 999.0).abs() < 1e-9, "{high}");
        let scores = [0.0, 0.1, 0.5, 0.9, 0.999, 1.0 - 1e-15, 1.0];
        let rel: Vec<f64> = scores
            .iter()
            .map(|&p| Probability.relative(p, 0.7).unwrap())
            .collect();
        assert!(rel.windows(2).all(|w| w[0] < w[1]), "{rel:?}");
        assert!(rel.iter().all(|r| r.is_finite()));
    }

    #[test]
    fn thresholds_without_a_scale_are_refused() {
        for t in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(Ratio.relative(1.0, t), None);
            assert_eq!(Probability.relative(0.5, t), None);
        }
        assert_eq!(Probability.relative(0.5, 1.0), None);
    }
}
