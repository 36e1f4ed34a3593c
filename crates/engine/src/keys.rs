//! Packet → flow key, for alerts and evidence (one definition: [`FlowKey::of_layer`]).

use custos_decode::Decoded;
use custos_flow::FlowKey;

/// The key of the flow of a packet's innermost IP layer; `None` for frames without IP.
pub fn packet_flow_key(d: &Decoded<'_>) -> Option<FlowKey> {
    d.innermost().map(|ip| FlowKey::of_layer(ip, d.vlans))
}
