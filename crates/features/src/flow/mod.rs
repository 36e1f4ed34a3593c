//! Per-flow features: nfstream-style statistics of packet sizes, inter-arrival times and TCP
//! flags per direction ([`stats`]), application event counts ([`app`]), the tracker that
//! assigns packets and events to flows exactly as the flow table does ([`tracker`]), what the
//! flow's hosts were doing when it started ([`host`]), and the
//! live feature vector a flow has at every moment of its life ([`live`]).
//!
//! `custos-dataset` writes these as the columns of `flows.parquet` and
//! `flow-prefixes.parquet`; the supervised flow detector computes the same values live.

pub mod app;
pub mod host;
pub mod labels;
pub mod live;
pub mod stats;
pub mod tracker;

pub use app::{AppCounts, APP_COLUMNS};
pub use host::{HostContext, HostFeatures, HOST_COLUMNS};
pub use live::LIVE_FEATURES;
pub use stats::{DirStats, FlowStats, PacketObs, Running, TCP_FLAGS};
pub use tracker::{
    is_checkpoint, FlowTracker, Label, LabelAcc, LiveFlow, Snapshot, TrackedFlow, TrackerReport,
};
