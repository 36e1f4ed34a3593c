//! The records of host behaviour: scans ([`ScanEvent`]) and floods ([`FloodEvent`]).

use serde::Serialize;
use std::net::IpAddr;

/// Which part of an episode an event reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// The threshold was reached: the counts are those of that moment.
    Start,
    /// The episode is over (quiet for a window, tables full, or end of input): final counts.
    End,
}

/// What a scan probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanKind {
    /// Many ports of one host.
    PortScan,
    /// One port of many hosts.
    HostSweep,
}

/// A source probing many ports of one host or one port of many hosts (network service
/// discovery).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanEvent {
    /// Port scan or host sweep.
    pub kind: ScanKind,
    /// Start or end of the episode.
    pub phase: Phase,
    /// `tcp` or `udp`.
    pub transport: &'static str,
    /// The host whose ports were probed (port scans).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<IpAddr>,
    /// The port probed on many hosts (host sweeps).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// Most distinct ports (hosts) probed within one window so far.
    pub distinct: u64,
    /// Connection attempts (TCP SYNs, UDP conversations opened) of the episode so far.
    pub attempts: u64,
    /// The first ports probed, ascending (at most 32; port scans).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<u16>,
    /// The first hosts probed, ascending (at most 32; host sweeps).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<IpAddr>,
    /// The threshold that was reached (distinct ports or hosts).
    pub threshold: u64,
    /// The window, seconds of packet time.
    pub window_s: u64,
    /// Seconds of packet time from the episode's first attempt to its last so far.
    pub duration_s: f64,
}

/// Which flood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FloodKind {
    /// TCP SYNs whose handshakes do not complete.
    SynFlood,
    /// UDP datagrams.
    UdpFlood,
}

/// A source sending one service many SYNs that never complete a handshake, or many
/// datagrams, within a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FloodEvent {
    /// SYN or UDP flood.
    pub kind: FloodKind,
    /// Start or end of the episode.
    pub phase: Phase,
    /// The flooded host.
    pub target: IpAddr,
    /// The flooded port.
    pub port: u16,
    /// SYNs (datagrams) of the episode so far.
    pub packets: u64,
    /// Handshakes completed in the episode so far (SYN floods).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handshakes: Option<u64>,
    /// Most SYNs without handshake (datagrams) within one window so far.
    pub max_in_window: u64,
    /// The threshold that was reached.
    pub threshold: u64,
    /// The window, seconds of packet time.
    pub window_s: u64,
    /// Seconds of packet time from the episode's first packet to its last so far.
    pub duration_s: f64,
}
