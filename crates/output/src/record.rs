//! Typed records the engine hands to sinks.

use crate::Alert;
use custos_app::AppEvent;
use custos_flow::EndedFlow;
use custos_inventory::findings::Finding;

/// Most detectors whose per-packet scores one [`ScoreRow`] carries.
pub const MAX_SCORE_COLUMNS: usize = 8;

/// The scores of one packet, one per packet-scoring detector (in registration order).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ScoreRow {
    /// Packet index in the run (0-based, all inputs).
    pub index: u64,
    /// Packet time (ns).
    pub ts: i64,
    /// Scores; only the first [`ScoreRow::len`] are used.
    pub values: [f64; MAX_SCORE_COLUMNS],
    /// Number of scores.
    pub len: u8,
}

impl ScoreRow {
    /// The scores.
    pub fn scores(&self) -> &[f64] {
        self.values.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// One record of a run. Records arrive in packet order: a record caused by packet *i* comes
/// after every record caused by packets before *i*.
#[derive(Clone, Debug)]
pub enum Record {
    /// A flow ended.
    Flow(Box<EndedFlow>),
    /// An application event (DNS query, MQTT publish, telnet login, …).
    Event(Box<AppEvent>),
    /// A detector raised an alert.
    Alert(Box<Alert>),
    /// Per-packet scores.
    Scores(ScoreRow),
    /// A baseline finding (at the end of the run).
    Finding(Box<Finding>),
    /// The device inventory (at the end of the run, as JSON).
    Devices(Box<serde_json::Value>),
}
