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

impl Record {
    /// The kind of this record, as [`RecordKinds`] names it.
    pub fn kind(&self) -> RecordKinds {
        match self {
            Record::Flow(_) => RecordKinds::FLOWS,
            Record::Event(_) => RecordKinds::EVENTS,
            Record::Alert(_) => RecordKinds::ALERTS,
            Record::Scores(_) => RecordKinds::SCORES,
            Record::Finding(_) => RecordKinds::FINDINGS,
            Record::Devices(_) => RecordKinds::DEVICES,
        }
    }
}

/// A set of [`Record`] kinds: what a sink reads ([`crate::Sink::reads`]), so that the engine
/// hands it nothing else (the score row of every packet need not visit every sink).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordKinds(u8);

impl RecordKinds {
    /// Ended flows.
    pub const FLOWS: RecordKinds = RecordKinds(1);
    /// Application events.
    pub const EVENTS: RecordKinds = RecordKinds(1 << 1);
    /// Alerts.
    pub const ALERTS: RecordKinds = RecordKinds(1 << 2);
    /// Per-packet score rows.
    pub const SCORES: RecordKinds = RecordKinds(1 << 3);
    /// Findings.
    pub const FINDINGS: RecordKinds = RecordKinds(1 << 4);
    /// The device inventory.
    pub const DEVICES: RecordKinds = RecordKinds(1 << 5);
    /// No record.
    pub const NONE: RecordKinds = RecordKinds(0);
    /// Every kind.
    pub const ALL: RecordKinds = RecordKinds((1 << 6) - 1);
    /// Each kind alone, in [`RecordKinds::index`] order.
    pub const EACH: [RecordKinds; 6] = [
        RecordKinds::FLOWS,
        RecordKinds::EVENTS,
        RecordKinds::ALERTS,
        RecordKinds::SCORES,
        RecordKinds::FINDINGS,
        RecordKinds::DEVICES,
    ];

    /// True when every kind of `other` is in this set.
    pub fn contains(self, other: RecordKinds) -> bool {
        self.0 & other.0 == other.0
    }

    /// The position of a single kind in [`RecordKinds::EACH`] (of the lowest kind, for a
    /// set of several; 6 for the empty set).
    pub fn index(self) -> usize {
        self.0.trailing_zeros().min(6) as usize
    }
}

impl std::ops::BitOr for RecordKinds {
    type Output = RecordKinds;

    fn bitor(self, other: RecordKinds) -> RecordKinds {
        RecordKinds(self.0 | other.0)
    }
}
