//! Application layer for custos: TCP stream reassembly and parsers for the protocols IoT
//! devices speak in the clear.
//!
//! - [`reassembly`]: [`StreamReassembler`] turns one direction of a TCP connection into an
//!   ordered byte stream with gaps reported, within per-stream and shared memory limits.
//! - [`mqtt`]: MQTT 3.1, 3.1.1 and 5 over a byte stream ([`mqtt::MqttParser`]).
//! - [`telnet`]: option negotiation, login (prompt, username, password, outcome) and the
//!   commands typed after it.
//! - [`modbus`]: Modbus/TCP MBAP frames, function codes, exceptions.
//! - [`shell`]: command lines typed after a telnet login: downloads and their execution.
//! - [`tracker`]: the connection tracker that runs the parsers on decoded packets, and its
//!   behaviour watch (scans and floods, [`tracker::behaviour`]).
//!
//! The device inventory and the baseline findings built from these events live in
//! `custos-inventory`.
//!
//! Every parser reads untrusted bytes through a forward-only cursor whose takes can fail; none
//! indexes, slices unchecked, unwraps or panics (enforced by the lints below). Errors are
//! typed and carry the byte offset in the direction's stream. See `docs/app.md`.
#![deny(missing_docs)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod coap;
pub mod credentials;
pub mod dhcp;
pub mod dns;
pub mod ftp;
pub mod http;
pub mod modbus;
pub mod mqtt;
pub(crate) mod reader;
pub mod reassembly;
pub mod shell;
pub mod snmp;
pub mod ssdp;
pub mod telnet;
pub mod text;
pub mod tftp;
pub mod tls;
pub mod tracker;

pub use reassembly::{
    ReassemblyBudget, ReassemblyConfig, StreamReassembler, StreamSink, StreamStats,
};
pub use tracker::behaviour::BehaviourConfig;
pub use tracker::{AppConfig, AppError, AppEvent, AppProto, AppRecord, AppStats, AppTracker};

use serde::Serialize;

/// Which side sent the bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the connection's initiator (client) to the responder (server).
    ToServer,
    /// From the responder to the initiator.
    ToClient,
}

/// What a content probe concluded from the first bytes of a stream or datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Probe {
    /// The bytes are this protocol.
    Match,
    /// The bytes are not this protocol.
    NoMatch,
    /// Too few bytes to tell; ask again with more.
    NeedMore,
}
