//! Labels of packets and flows ([`Label`], [`LabelAcc`]), the packet counts at which flows
//! are scored and snapshotted ([`is_checkpoint`]: 1, 2, 4, 8, …) and the [`Snapshot`] a flow
//! leaves at each (see [`super::tracker`]'s "Snapshots").

use super::app::AppCounts;
use super::stats::FlowStats;

/// The label of one packet or flow (ground truth, from a labels file).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Label {
    /// Labelled attack.
    pub attack: bool,
    /// Its phase, an index into the labels' phase names (`None`: none named).
    pub phase: Option<u16>,
}

/// True for the packet counts at which flows are scored and snapshots taken: 1, 2, 4, 8, …
pub fn is_checkpoint(packets: u64) -> bool {
    packets.is_power_of_two()
}

/// The labels of a flow so far (per-packet labels).
#[derive(Clone, Copy, Debug, Default)]
pub struct LabelAcc {
    /// Packets labelled attack.
    pub attack_packets: u64,
    /// Phase of the first attack packet.
    pub first_attack_phase: Option<u16>,
    /// Phase of the first packet.
    pub first_phase: Option<u16>,
}

impl LabelAcc {
    /// The flow's label: attack when any packet is, with the phase of its first attack packet
    /// (else of its first packet).
    pub fn label(&self) -> Label {
        let attack = self.attack_packets > 0;
        let phase = if attack {
            self.first_attack_phase
        } else {
            self.first_phase
        };
        Label { attack, phase }
    }
}

/// A flow as it was when its packet count reached a checkpoint (see [`super::tracker`], "Snapshots").
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Packets so far (a checkpoint: 1, 2, 4, …).
    pub packets: u64,
    /// Statistics with those packets; side 0 is the originator once the flow has ended.
    pub stats: FlowStats,
    /// Application counts of the packets before the last one.
    pub app: AppCounts,
    /// Labels of those packets.
    pub labels: LabelAcc,
    /// The flow's host features (fixed at its first packet).
    pub host: super::host::HostFeatures,
}
