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
    /// the `combined` column of `scores.csv` divides each score by it.
    fn operating_threshold(&self) -> Option<f64> {
        None
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
