//! Bidirectional flow tracking with Zeek's connection semantics and Community ID v1.
//!
//! - [`FlowTable`] maps every decoded packet to a flow keyed by a canonical, VLAN-aware
//!   5-tuple ([`FlowKey`]), decides the originator as Zeek does, and ends flows on inactivity
//!   (Zeek's timeouts), on close, on 5-tuple reuse, at the table cap (evicting the least
//!   recently active flows) or at the end of input. Ended flows go to a [`FlowSink`].
//! - [`zeek`] is the per-connection state machine ported from Zeek: TCP endpoint states,
//!   `history`, `conn_state`, byte and packet counts.
//! - [`community_id_v1`] computes the Community ID of a flow.
//!
//! Packet time is the only clock. The table allocates only when it grows; in steady state a
//! packet costs a hash lookup and a state update.
//!
//! What it does not do: decode packets (see `custos-decode`), reassemble TCP streams or
//! identify applications, or format output (see `custos-output`).
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod community_id;
mod key;
pub mod keyed_hash;
mod table;
pub mod zeek;

pub use community_id::community_id_v1;
pub use key::{Addr, Endpoint, FlowKey};
pub use table::{
    key_ports, packet_info, push_uid, uid_string, EndReason, EndedFlow, Flow, FlowConfig, FlowSink,
    FlowStats, FlowTable, PacketMeta, HASH_OVERHEAD_BOUND,
};
pub use zeek::{ConnSummary, TcpPool};

/// ICMP "ports": `(type, counterpart type or code, one_way)`; see
/// [`custos_decode::wire::icmp::port_equivalents`].
pub(crate) fn icmp_ports(msg_type: u8, code: u8, v6: bool) -> (u16, u16, bool) {
    custos_decode::wire::icmp::port_equivalents(msg_type, code, v6)
}
