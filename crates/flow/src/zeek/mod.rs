//! Zeek-compatible per-connection semantics for `conn.log`.
//!
//! This module is a port (own Rust, not a transliteration) of the parts of
//! Zeek (github.com/zeek/zeek, 9.1.0-dev master, which matches Zeek 6/7 in
//! these areas) that decide, per connection, the `conn.log` fields
//! `history`, `conn_state`, `duration`, `orig_bytes`/`resp_bytes`,
//! `missed_bytes`, `orig_pkts`/`orig_ip_bytes`/`resp_pkts`/`resp_ip_bytes`
//! and the originator/responder orientation.
//!
//! # What is ported from where
//!
//! | Here | Zeek |
//! |------|------|
//! | [`flip_on_first_packet`], [`creates_connection`] | `TCPAnalyzer::WantConnection` (tcp/TCP.cc), `UDPAnalyzer::WantConnection` (udp/UDP.cc), `IPBasedAnalyzer::WantConnection` default (ICMP, unknown IP), `IPBasedAnalyzer::NewConn` / `IsLikelyServerPort` (ip/IPBasedAnalyzer.cc) |
//! | [`flip_on_first_packet_to`] | the `! conn->RespAddr().IsBroadcast()` guard in `NewConn` (`IPAddr::IsBroadcast`) |
//! | [`ZeekConfig::default`] ports | every `Analyzer::register_for_ports` / `PacketAnalyzer::register_for_ports` call in `scripts/base/protocols/*/main.zeek` and `scripts/base/packet-protocols/*/main.zeek` (server ports only, as `likely_server_ports += server_ports`) |
//! | [`ZeekConfig::bare`] ports | only `scripts/base/packet-protocols` (loaded by `init-bare.zeek`) |
//! | TCP endpoint state machine | `TCPSessionAdapter::Process`, `init_endpoint`, `get_relative_seq`, `update_history`, `update_window` (zero window only), `init_peer`, `update_ack_seq`, `update_last_seq`, `UpdateStateMachine` / `UpdateInactiveState` / `UpdateSYN_SentState` / `UpdateEstablishedState` / `UpdateClosedState`, `SetPartialStatus`, `FlipRoles`, `ConnectionClosed`, `IsReuse` (TCPSessionAdapter.cc) |
//! | TCP sizes / history letters | `TCP_Endpoint::Size`, `CheckHistory` (incl. the `"H"` → `"^h"` flip), `AddHistory`, `ChecksumError`, `DidRxmit`, `ZeroWindow`, `Gap`, `SetState` (TCP_Endpoint.cc) |
//! | history bookkeeping | `Session::CheckHistory` (`hist_seen` mask, *not* flipped on role flips), `Session::ScaledHistoryEntry` (thresholds 1, 10, 100, …), `Connection::FlipRoles` (`'^'`) |
//! | `missed_bytes`, `g`/`G` | `TCP_Reassembler::AckReceived` / `Undelivered` / `Gap` and `DataBlockList::Trim` (simplified, see below), `content_gap` handler in `scripts/base/protocols/conn/main.zeek` |
//! | bad checksums | `TCPAnalyzer::DeliverPacket`/`ValidateChecksum` (packet dropped *after* the connection exists, before `Process` and before ConnSize), `UDPSessionAdapter::HandleBadChecksum`, ICMP (`bad_ICMP_checksum`: dropped silently) |
//! | UDP | `UDPAnalyzer::DeliverPacket` (`D`/`d` once each, `SetLastTime`), `UDPSessionAdapter::UpdateLength` |
//! | ICMP | `ICMPAnalyzer::DeliverPacket`, `ICMPSessionAdapter::UpdateLength` |
//! | unknown IP protocol | `UnknownIPTransportAnalyzer::DeliverPacket` |
//! | packets / IP bytes | `ConnSize_Analyzer::DeliverPacket` / `FlipRoles` (`ip->TotalLen()`) |
//! | [`ConnAnalyzer::conn_state`] | `function conn_state` in `scripts/base/protocols/conn/main.zeek` |
//! | [`ConnAnalyzer::log_duration`] | `set_conn`: duration/orig_bytes/resp_bytes only logged when `duration > 0` |
//! | timeouts / expiry | `init-bare.zeek` constants; `AttemptTimer`, `ExpireTimer`, `ConnDeleteTimer`, `Session::SetInactivityTimeout`, TCP starting with `udp_inactivity_timeout` until the handshake is left (`TCP_Endpoint::SetState`) |
//!
//! # Contract for the flow table
//!
//! 1. First packet of an unknown 5-tuple: if [`creates_connection`] is
//!    false, drop it. Otherwise `flipped = flip_on_first_packet_to(cfg, &pkt, dst_ip)`;
//!    orient the key (if `flipped`, the packet's *destination* is the
//!    originator); `ConnAnalyzer::new(cfg, &pkt, flipped)`; then
//!    `update(cfg, !flipped, &pkt)` for that same packet.
//! 2. Later packet of a known 5-tuple at time `t`: if
//!    `t >= a.expires_at()` finish (log) the old connection and go to 1.
//!    Else, for TCP, if `a.is_reuse(cfg, &pkt)` finish the old one and go
//!    to 1 (Zeek's `connection_reused`). Else `update(cfg, is_orig, &pkt)`
//!    with `is_orig` = sent by the current originator.
//! 3. If `update` returns `Update { flipped: true, .. }`, the roles changed
//!    while processing the packet: the caller swaps its own key orientation
//!    (orig/resp address, port, L2 address, anything else it keeps per side).
//!    The analyzer has *already* swapped everything it owns (counters, TCP
//!    endpoints, sizes) and has already counted the packet on the correct
//!    (new) side. The `is_orig` for the next packets must use the new
//!    orientation.
//! 4. At the end, read [`ConnAnalyzer::summary`] (or [`ConnAnalyzer::history`],
//!    [`ConnAnalyzer::conn_state`], [`ConnAnalyzer::orig`]/[`ConnAnalyzer::resp`],
//!    [`ConnAnalyzer::missed_bytes`], [`ConnAnalyzer::log_duration`]; None → `-` for
//!    duration, `orig_bytes`, `resp_bytes`), then [`ConnAnalyzer::release`] it.
//!
//! One [`TcpPool`] serves all connections of a table: `update` and every query that needs
//! the TCP state take it. A TCP connection takes a pool slot only at its second packet;
//! until then its first packet is kept inline and queries replay it on a stack copy
//! (`expires_at` and `is_reuse` answer a lone plain SYN directly, without the replay).
//!
//! # Caller-side inputs
//!
//! * `ip_len`: IPv4 total length / IPv6 payload length + 40 (`IP_Hdr::TotalLen`).
//! * TCP `payload_len`: IP payload length − TCP header length (not capped by
//!   the capture length).
//! * UDP `payload_len`: the UDP header's *length field* − 8 (Zeek uses
//!   `uh_ulen`, not the IP length), saturating at 0.
//! * ICMP `payload_len`: IP payload length − 8.
//! * `checksum_ok`: false only when checksums are verified and wrong. As in
//!   Zeek: an IPv4 UDP checksum of 0 is valid; VXLAN on a VXLAN port with a
//!   zero checksum is valid; with `-C` (`ignore_checksums`) always true.
//!
//! # Intentional differences / not ported
//!
//! * History is capped at [`HISTORY_CAP`] letters; later letters are dropped
//!   (Zeek's string is unbounded; real histories are almost always shorter).
//! * Reassembly is modelled only as far as gap accounting needs: per side a
//!   contiguous edge plus one hull of out-of-order data (no payload, no
//!   buffer). Zeek's `tcp_max_above_hole_without_any_acks`,
//!   `tcp_excessive_data_without_further_acks`, PIA switching reassembly
//!   off, `Skipping()`, and deferred closes while data is pending
//!   (`DataPending`, `close_deferred`) are not modelled. Reassembly (and thus
//!   gap accounting) is assumed on for every TCP connection
//!   (`dpd_reassemble_first_packets = T`).
//! * Weirds, events, window-scale/recision tracking (only zero windows
//!   matter for `history`), storm detection and TCP options are not ported.
//! * Truncated/bad TCP headers (`ExtractTCP_Header` failure) are the
//!   decoder's job: don't feed such packets.
//! * `ResetTimer` and `PartialCloseTimer` are not modelled (base scripts
//!   define no `connection_reset`/`connection_partial_close` handler, so Zeek
//!   doesn't schedule them either). Expiry timers are approximated (see
//!   [`ConnAnalyzer::expires_at`]).
//! * `tcp_SYN_ack_ok`/`partial_connection_ok` refusals, `ignore_checksums_nets`
//!   and `use_conn_size_analyzer = F` are parameters or the caller's job.

mod tcp;

#[cfg(test)]
mod tests;

use std::net::IpAddr;

pub use tcp::flags as tcp_flags;
pub use tcp::TcpEndpointState;
use tcp::{ConnCtx, TcpCfg, TcpPkt, TcpState};

/// Packet time: nanoseconds since the Unix epoch.
pub type Timestamp = i64;

/// Nanoseconds per second.
pub const NS_PER_SEC: Timestamp = 1_000_000_000;
/// `tcp_inactivity_timeout` (5 min, init-bare.zeek); applies once a TCP
/// endpoint left the handshake states.
pub const TCP_INACTIVITY_TIMEOUT: Timestamp = 300 * NS_PER_SEC;
/// `udp_inactivity_timeout` (1 min); also the initial timeout of TCP
/// connections (`TCPAnalyzer::MakeSessionAdapter`).
pub const UDP_INACTIVITY_TIMEOUT: Timestamp = 60 * NS_PER_SEC;
/// `icmp_inactivity_timeout` (1 min).
pub const ICMP_INACTIVITY_TIMEOUT: Timestamp = 60 * NS_PER_SEC;
/// `unknown_ip_inactivity_timeout` (1 min).
pub const UNKNOWN_IP_INACTIVITY_TIMEOUT: Timestamp = 60 * NS_PER_SEC;
/// `tcp_SYN_timeout` (5 s): first `ExpireTimer`.
pub const TCP_SYN_TIMEOUT: Timestamp = 5 * NS_PER_SEC;
/// `tcp_session_timer` (6 s): `ExpireTimer` period.
pub const TCP_SESSION_TIMER: Timestamp = 6 * NS_PER_SEC;
/// `tcp_connection_linger` (5 s).
pub const TCP_CONNECTION_LINGER: Timestamp = 5 * NS_PER_SEC;
/// `tcp_attempt_delay` (5 s): an unanswered SYN is removed after this.
pub const TCP_ATTEMPT_DELAY: Timestamp = 5 * NS_PER_SEC;
/// `tcp_close_delay` (5 s): removal delay after a complete close.
pub const TCP_CLOSE_DELAY: Timestamp = 5 * NS_PER_SEC;
/// `tcp_reset_delay` (5 s) (only used with a `connection_reset` handler).
pub const TCP_RESET_DELAY: Timestamp = 5 * NS_PER_SEC;
/// `tcp_partial_close_delay` (3 s) (only used with a
/// `connection_partial_close` handler).
pub const TCP_PARTIAL_CLOSE_DELAY: Timestamp = 3 * NS_PER_SEC;

/// Maximum number of history letters kept.
pub const HISTORY_CAP: usize = 16;

/// A set of ports (bitset, 8 KiB, allocated once per config).
#[derive(Clone)]
pub struct PortSet {
    bits: Box<[u64; 1024]>,
}

impl std::fmt::Debug for PortSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl PortSet {
    /// The empty set.
    pub fn new() -> Self {
        PortSet {
            bits: Box::new([0; 1024]),
        }
    }
    /// A set holding `ports`.
    pub fn from_ports(ports: &[u16]) -> Self {
        let mut s = Self::new();
        for &p in ports {
            s.insert(p);
        }
        s
    }
    /// Adds a port.
    pub fn insert(&mut self, port: u16) {
        if let Some(w) = self.bits.get_mut(usize::from(port >> 6)) {
            *w |= 1u64 << (port & 63);
        }
    }
    /// Removes a port.
    pub fn remove(&mut self, port: u16) {
        if let Some(w) = self.bits.get_mut(usize::from(port >> 6)) {
            *w &= !(1u64 << (port & 63));
        }
    }
    /// Whether `port` is in the set.
    pub fn contains(&self, port: u16) -> bool {
        self.bits
            .get(usize::from(port >> 6))
            .is_some_and(|w| w & (1u64 << (port & 63)) != 0)
    }
    /// The ports, ascending.
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        (0..=u16::MAX).filter(|&p| self.contains(p))
    }
}

impl Default for PortSet {
    fn default() -> Self {
        Self::new()
    }
}

/// Zeek's default (non-bare) `likely_server_ports` for TCP: server ports of
/// every analyzer registered in `scripts/base/protocols/*/main.zeek`.
pub const DEFAULT_TCP_SERVER_PORTS: &[u16] = &[
    21, 22, 25, 53, 79, 80, 81, 88, 135, 139, 143, 389, 443, 445, 465, 502, 514, 563, 585, 587,
    614, 631, 636, 989, 990, 992, 993, 995, 1080, 1434, 1883, 2811, 3128, 3268, 3306, 3389, 5222,
    5223, 5269, 5432, 6379, 6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000,
];
/// Zeek's default (non-bare) `likely_server_ports` for UDP (protocol
/// analyzers plus the tunnel packet analyzers).
pub const DEFAULT_UDP_SERVER_PORTS: &[u16] = &[
    53, 67, 88, 123, 137, 161, 162, 389, 443, 514, 1812, 2123, 2152, 3389, 3544, 4011, 4754, 4789,
    5060, 5072, 5353, 5355, 6081, 20000,
];
/// `likely_server_ports` in bare mode (`zeek -b`): only the UDP tunnel ports
/// registered by `scripts/base/packet-protocols` (ayiya, geneve, gre,
/// gtpv1, teredo, vxlan).
pub const BARE_UDP_SERVER_PORTS: &[u16] = &[2123, 2152, 3544, 4754, 4789, 5072, 6081];

/// Script-level settings the connection logic depends on.
#[derive(Clone, Debug)]
pub struct ZeekConfig {
    /// `likely_server_ports` entries with `/tcp`.
    pub tcp_server_ports: PortSet,
    /// `likely_server_ports` entries with `/udp`.
    pub udp_server_ports: PortSet,
    /// Informational: whether this config models `zeek -b`.
    pub bare_mode: bool,
    /// `partial_connection_ok` (default T).
    pub partial_connection_ok: bool,
    /// `tcp_SYN_ack_ok` (default T).
    pub tcp_syn_ack_ok: bool,
    /// `report_gaps_for_partial` (default F).
    pub report_gaps_for_partial: bool,
    /// `detect_filtered_trace` (default F).
    pub detect_filtered_trace: bool,
    /// Whether TCP gap accounting (reassembly) is on (default T).
    pub tcp_reassembly: bool,
    /// UDP ports on which Zeek's DNS analyzer runs (53, 137, 5353, 5355 with the default
    /// scripts); such connections end after `dns_session_timeout` idle (DNS.cc `ExpireTimer`).
    pub dns_udp_ports: &'static [u16],
}

/// Zeek's `dns_session_timeout` (init-bare.zeek).
pub const DNS_SESSION_TIMEOUT: Timestamp = 10 * NS_PER_SEC;

/// UDP ports of Zeek's DNS analyzer in the default scripts (dns, netbios-ns, mDNS, LLMNR).
pub const DEFAULT_DNS_UDP_PORTS: &[u16] = &[53, 137, 5353, 5355];

impl Default for ZeekConfig {
    fn default() -> Self {
        ZeekConfig {
            tcp_server_ports: PortSet::from_ports(DEFAULT_TCP_SERVER_PORTS),
            udp_server_ports: PortSet::from_ports(DEFAULT_UDP_SERVER_PORTS),
            bare_mode: false,
            partial_connection_ok: true,
            tcp_syn_ack_ok: true,
            report_gaps_for_partial: false,
            detect_filtered_trace: false,
            tcp_reassembly: true,
            dns_udp_ports: DEFAULT_DNS_UDP_PORTS,
        }
    }
}

impl ZeekConfig {
    /// Settings of `zeek -b` with no protocol scripts loaded: only the tunnel
    /// UDP ports are likely server ports. Add the ports of protocol scripts a
    /// bare-mode test loads (e.g. 80/tcp for `base/protocols/http`) by
    /// inserting into the port sets.
    pub fn bare() -> Self {
        ZeekConfig {
            tcp_server_ports: PortSet::new(),
            udp_server_ports: PortSet::from_ports(BARE_UDP_SERVER_PORTS),
            bare_mode: true,
            dns_udp_ports: &[],
            ..Self::default()
        }
    }

    fn tcp_cfg(&self) -> TcpCfg {
        TcpCfg {
            report_gaps_for_partial: self.report_gaps_for_partial,
            detect_filtered_trace: self.detect_filtered_trace,
            reassembly: self.tcp_reassembly,
        }
    }
}

/// What the connection analyzer needs to know about one packet (no payload bytes).
#[derive(Clone, Copy, Debug)]
pub struct PacketInfo {
    /// Packet time.
    pub ts: Timestamp,
    /// IP length as Zeek counts it for *_ip_bytes: IPv4 total length; IPv6 payload length + 40.
    pub ip_len: u32,
    /// False when checksum verification is on and the L4 (TCP/UDP/ICMP) checksum is wrong.
    pub checksum_ok: bool,
    /// Transport-layer facts.
    pub l4: L4Info,
}

/// Transport-layer facts of one packet.
#[derive(Clone, Copy, Debug)]
pub enum L4Info {
    /// flags: FIN=0x01 SYN=0x02 RST=0x04 PSH=0x08 ACK=0x10 URG=0x20 ECE=0x40 CWR=0x80 (NS ignored)
    Tcp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// TCP flags byte.
        flags: u8,
        /// Sequence number.
        seq: u32,
        /// Acknowledgement number.
        ack: u32,
        /// Raw (unscaled) window.
        window: u16,
        /// TCP payload length (IP payload − TCP header).
        payload_len: u32,
    },
    /// UDP.
    Udp {
        /// Source port.
        src_port: u16,
        /// Destination port.
        dst_port: u16,
        /// UDP length field − 8.
        payload_len: u32,
    },
    /// ICMP or ICMPv6.
    Icmp {
        /// ICMP type.
        icmp_type: u8,
        /// ICMP code.
        code: u8,
        /// ICMPv6.
        v6: bool,
        /// Bytes after the 8-byte ICMP header.
        payload_len: u32,
    },
    /// Any other IP protocol (Zeek's `unknown_transport`).
    Other {
        /// IP protocol number.
        proto: u8,
        /// IP payload length.
        payload_len: u32,
    },
}

/// Whether Zeek creates a connection for this first packet
/// (`WantConnection` returning false only for TCP with
/// `partial_connection_ok = F` or `tcp_SYN_ack_ok = F`).
pub fn creates_connection(cfg: &ZeekConfig, first: &PacketInfo) -> bool {
    match first.l4 {
        L4Info::Tcp { flags, .. } => {
            let syn = flags & tcp_flags::SYN != 0;
            let ack = flags & tcp_flags::ACK != 0;
            if !syn || ack {
                if !cfg.partial_connection_ok {
                    return false;
                }
                if syn && !cfg.tcp_syn_ack_ok {
                    return false;
                }
            }
            true
        }
        _ => true,
    }
}

/// Decides, from the first packet of a new connection, whether its sender is
/// the responder (`WantConnection`'s `flip_roles`). Does not apply the
/// broadcast guard; see [`flip_on_first_packet_to`].
pub fn flip_on_first_packet(cfg: &ZeekConfig, first: &PacketInfo) -> bool {
    match first.l4 {
        L4Info::Tcp {
            src_port,
            dst_port,
            flags,
            ..
        } => {
            let syn = flags & tcp_flags::SYN != 0;
            let ack = flags & tcp_flags::ACK != 0;
            if syn && !ack {
                return false;
            }
            let s = cfg.tcp_server_ports.contains(src_port);
            if !s {
                return false;
            }
            if cfg.tcp_server_ports.contains(dst_port) {
                // Both plausible: flip only if not a SYN-ACK and dst > src.
                !syn && src_port < dst_port
            } else {
                true
            }
        }
        L4Info::Udp {
            src_port, dst_port, ..
        } => cfg.udp_server_ports.contains(src_port) && !cfg.udp_server_ports.contains(dst_port),
        L4Info::Icmp { .. } | L4Info::Other { .. } => false,
    }
}

/// [`flip_on_first_packet`] plus `NewConn`'s guard: no flip when the first
/// packet's destination (the would-be responder) is the IPv4 broadcast
/// address 255.255.255.255.
pub fn flip_on_first_packet_to(cfg: &ZeekConfig, first: &PacketInfo, dst: IpAddr) -> bool {
    let bcast = match dst {
        IpAddr::V4(a) => a.is_broadcast(),
        IpAddr::V6(a) => a.to_ipv4_mapped().is_some_and(|v4| v4.is_broadcast()),
    };
    !bcast && flip_on_first_packet(cfg, first)
}

/// `conn_state` values of conn.log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(clippy::upper_case_acronyms)]
pub enum ConnState {
    /// Attempt seen, no reply.
    S0,
    /// Established, not terminated.
    S1,
    /// Normal establishment and termination.
    SF,
    /// Attempt rejected.
    REJ,
    /// Established, close attempt by originator only.
    S2,
    /// Established, close attempt by responder only.
    S3,
    /// Established, originator aborted (RST).
    RSTO,
    /// Responder sent a RST.
    RSTR,
    /// Originator sent SYN then RST, no SYN-ACK.
    RSTOS0,
    /// Responder sent SYN-ACK then RST, no SYN from originator.
    RSTRH,
    /// Originator sent SYN then FIN, no SYN-ACK ("half-open").
    SH,
    /// Responder sent SYN-ACK then FIN, no SYN from originator.
    SHR,
    /// No SYN seen, just midstream traffic; or anything else.
    OTH,
}

impl ConnState {
    /// The conn.log spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnState::S0 => "S0",
            ConnState::S1 => "S1",
            ConnState::SF => "SF",
            ConnState::REJ => "REJ",
            ConnState::S2 => "S2",
            ConnState::S3 => "S3",
            ConnState::RSTO => "RSTO",
            ConnState::RSTR => "RSTR",
            ConnState::RSTOS0 => "RSTOS0",
            ConnState::RSTRH => "RSTRH",
            ConnState::SH => "SH",
            ConnState::SHR => "SHR",
            ConnState::OTH => "OTH",
        }
    }
}

impl std::fmt::Display for ConnState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Per-side conn.log counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EndpointCounters {
    /// `*_pkts` (ConnSize: packets that reached the analyzers).
    pub pkts: u64,
    /// `*_ip_bytes` (ConnSize: sum of `ip_len`).
    pub ip_bytes: u64,
    /// `*_bytes`: TCP `TCP_Endpoint::Size()`, UDP/ICMP payload sum.
    pub bytes: u64,
}

/// Connection history: letters plus Zeek's `hist_seen` mask.
///
/// The length is not stored: letters are never NUL, so it is the number of
/// leading non-zero bytes of `buf`. The `seen` mask holds the originator's
/// bits in the low byte and the responder's in the high byte (Zeek keeps
/// them at bit 0 and bit 16 of a 32-bit mask; all masks fit in 7 bits).
#[derive(Clone, Copy, Debug)]
pub(crate) struct History {
    buf: [u8; HISTORY_CAP],
    seen: u16,
}

impl History {
    const fn new() -> Self {
        History {
            buf: [0; HISTORY_CAP],
            seen: 0,
        }
    }
    #[inline]
    fn len(&self) -> usize {
        // Letters are non-zero and contiguous from the start.
        let w = u128::from_le_bytes(self.buf);
        HISTORY_CAP - (w.leading_zeros() / 8) as usize
    }
    /// `Session::AddHistory` (capped).
    pub(crate) fn add(&mut self, c: u8) {
        let len = self.len();
        if let Some(slot) = self.buf.get_mut(len) {
            *slot = c;
        }
    }
    /// `Session::CheckHistory`: true if already seen.
    pub(crate) fn check(&mut self, mask: u16, c: u8) -> bool {
        if self.seen & mask == 0 {
            self.seen |= mask;
            self.add(c);
            false
        } else {
            true
        }
    }
    /// `Session::ReplaceHistory`.
    pub(crate) fn replace(&mut self, s: &[u8]) {
        self.buf = [0; HISTORY_CAP];
        for &c in s {
            self.add(c);
        }
    }
    /// Whether the history is exactly the single letter `c`.
    #[inline]
    pub(crate) fn is_exactly(&self, c: u8) -> bool {
        self.buf[0] == c && self.buf[1] == 0
    }
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.buf.get(..self.len()).unwrap_or(&[])
    }
    fn as_str(&self) -> &str {
        std::str::from_utf8(self.as_bytes()).unwrap_or("")
    }
}

/// The per-TCP-connection state that does not fit the small per-flow core:
/// both endpoints' sequence bookkeeping, scaled counters, gap tracking and
/// timers. Lives in a [`TcpPool`] slot once a connection has seen its second
/// packet.
#[derive(Clone, Debug, PartialEq, Eq)]
struct TcpSlot(TcpState);

/// A slab of TCP connection states with a free list of slot numbers.
///
/// Grows on demand and reuses freed slots, so once it has grown to the
/// working set it allocates nothing. A [`ConnAnalyzer`] of an established
/// (two or more packets) TCP connection refers to one slot by number; all
/// its queries and updates take the pool, and [`ConnAnalyzer::release`]
/// returns the slot.
#[derive(Clone, Debug, Default)]
pub struct TcpPool {
    slots: Vec<TcpSlot>,
    free: Vec<u32>,
}

impl TcpPool {
    /// An empty pool.
    pub fn new() -> Self {
        Self::default()
    }
    /// Slots in use.
    pub fn in_use(&self) -> usize {
        self.slots.len() - self.free.len()
    }
    /// Slots allocated so far (in use or free).
    pub fn slots(&self) -> usize {
        self.slots.len()
    }
    /// Bytes of one slot.
    pub const SLOT_BYTES: usize = core::mem::size_of::<TcpSlot>();

    fn alloc(&mut self, st: TcpState) -> u32 {
        match self.free.pop() {
            Some(i) => {
                if let Some(s) = self.slots.get_mut(i as usize) {
                    s.0 = st;
                }
                i
            }
            None => {
                self.slots.push(TcpSlot(st));
                // Reserve the free list alongside so releasing never allocates.
                if self.free.capacity() < self.slots.len() {
                    self.free
                        .reserve(self.slots.len().saturating_sub(self.free.len()));
                }
                (self.slots.len() - 1) as u32
            }
        }
    }
    fn release(&mut self, i: u32) {
        if (i as usize) < self.slots.len() {
            self.free.push(i);
        }
    }
    #[inline]
    fn get(&self, i: u32) -> Option<&TcpState> {
        self.slots.get(i as usize).map(|s| &s.0)
    }
    #[inline]
    fn get_mut(&mut self, i: u32) -> Option<&mut TcpState> {
        self.slots.get_mut(i as usize).map(|s| &mut s.0)
    }
}

/// Bits of [`Embryo::bits`].
const EMB_HAS_PKT: u8 = 1;
const EMB_IS_ORIG: u8 = 2;
const EMB_CHK_OK: u8 = 4;
const EMB_WIN0: u8 = 8;

/// A TCP connection that has seen at most one packet, stored compactly so
/// that it takes no [`TcpPool`] slot. The TCP state after that packet is a
/// pure function of the packet (the first packet never flips roles and the
/// history before it is empty or `^`, never `H`, so replaying it on a fresh
/// state with a scratch history gives the same state): see
/// `tcp_state_of`. The packet time is the core's `last_ts`
/// (set by a packet with a good checksum; unused by a bad one), its IP length
/// was already counted in the core.
#[derive(Clone, Copy, Debug)]
struct Embryo {
    seq: u32,
    ack: u32,
    len: u32,
    flags: u8,
    bits: u8,
}

impl Embryo {
    const EMPTY: Embryo = Embryo {
        seq: 0,
        ack: 0,
        len: 0,
        flags: 0,
        bits: 0,
    };
    fn pkt(&self) -> TcpPkt {
        TcpPkt {
            flags: self.flags,
            seq: self.seq,
            ack: self.ack,
            window: if self.bits & EMB_WIN0 != 0 { 0 } else { 1 },
            len: self.len,
        }
    }
}

/// Replays what the first TCP packet did to a fresh state (see [`Embryo`]).
fn replay(cfg: TcpCfg, e: &Embryo, ts: Timestamp) -> TcpState {
    let mut t = TcpState::new();
    if e.bits & EMB_HAS_PKT != 0 {
        let is_orig = e.bits & EMB_IS_ORIG != 0;
        let mut hist = History::new();
        if e.bits & EMB_CHK_OK == 0 {
            t.checksum_error(is_orig, &mut hist);
        } else {
            let mut last = ts;
            let mut cx = ConnCtx {
                hist: &mut hist,
                last_ts: &mut last,
            };
            t.process(cfg, is_orig, &e.pkt(), ts, &mut cx);
        }
    }
    t
}

/// The TCP settings used to answer queries on an embryo (they only affect
/// gap accounting, which the first packet can never reach).
const QUERY_TCP_CFG: TcpCfg = TcpCfg {
    report_gaps_for_partial: false,
    detect_filtered_trace: false,
    reassembly: true,
};

#[derive(Clone, Debug)]
enum Proto {
    /// TCP with at most one packet seen (no pool slot).
    TcpEmbryo(Embryo),
    /// TCP with its state in a [`TcpPool`] slot.
    Tcp(u32),
    /// UDP and ICMP: Zeek's `request_len`/`reply_len` (-1 = inactive),
    /// UDP bad-checksum scaled counters.
    Datagram {
        icmp: bool,
        /// Zeek's DNS analyzer would run on this UDP connection (DNS session timer).
        dns: bool,
        request_len: i64,
        reply_len: i64,
        /// `req_chk_cnt`/`rep_chk_cnt` (see [`tcp::scaled_hit`]).
        chk_cnt: [u32; 2],
    },
    Other,
}

/// Where [`ConnAnalyzer::update`] processes a TCP packet.
#[derive(Clone, Copy, Debug)]
enum TcpTarget {
    /// The connection's first packet: on a scratch state (the embryo keeps the packet).
    First,
    /// The state in this pool slot.
    Slot(u32),
    /// Nowhere (not a TCP connection).
    Gone,
}

/// Result of [`ConnAnalyzer::update`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Update {
    /// The originator/responder roles were swapped while processing this
    /// packet; the caller must swap its key orientation. The analyzer already
    /// swapped its own counters and counted the packet on the new side.
    pub flipped: bool,
}

/// What a sink needs of an ended connection: everything conn.log and EVE
/// read from the Zeek state, computed once by the flow table so that sinks
/// never see the [`TcpPool`].
#[derive(Clone, Copy, Debug)]
pub struct ConnSummary {
    hist: History,
    /// conn.log `conn_state`.
    pub conn_state: ConnState,
    /// Originator counters.
    pub orig: EndpointCounters,
    /// Responder counters.
    pub resp: EndpointCounters,
    /// conn.log `missed_bytes`.
    pub missed_bytes: u64,
    /// Connection start (first packet).
    pub start_ts: Timestamp,
    /// Last packet that updated it.
    pub last_ts: Timestamp,
    /// `duration` as logged (see [`ConnAnalyzer::log_duration`]).
    pub log_duration: Option<Timestamp>,
}

impl ConnSummary {
    /// The conn.log `history` (empty string → `-`).
    pub fn history(&self) -> &str {
        self.hist.as_str()
    }
}

/// Per-connection state: the small core kept in every flow.
///
/// Layout notes (size matters: one per flow): `*_bytes` are not stored but
/// derived on demand from the TCP endpoints / UDP lengths; packet and IP
/// byte counters are indexed `[orig, resp]`; `missed_bytes` lives in the
/// TCP state (it is always 0 otherwise). The TCP state proper lives in a
/// [`TcpPool`] slot from the second packet on; before that the first packet
/// is kept inline (an "embryonic" connection, e.g. one SYN of a flood).
///
/// Every method that needs the TCP state takes the pool; a connection must
/// be [released](ConnAnalyzer::release) into its pool when it is dropped.
#[derive(Clone, Debug)]
pub struct ConnAnalyzer {
    start_ts: Timestamp,
    last_ts: Timestamp,
    pkts: [u64; 2],
    ip_bytes: [u64; 2],
    hist: History,
    proto: Proto,
}

/// UDP history masks (UDP.cc).
const UDP_HIST_ORIG_DATA_PKT: u16 = 0x1;
const UDP_HIST_RESP_DATA_PKT: u16 = 0x2;

impl ConnAnalyzer {
    /// A new connection; `first` is its first packet (not processed here:
    /// call [`ConnAnalyzer::update`] with it, `is_orig = !flipped`).
    /// `flipped` = [`flip_on_first_packet_to`] said so and the caller
    /// oriented the key accordingly (adds `'^'` like `Connection::FlipRoles`
    /// in `NewConn`). Takes no pool slot.
    pub fn new(cfg: &ZeekConfig, first: &PacketInfo, flipped: bool) -> Self {
        let dns = match first.l4 {
            L4Info::Udp {
                src_port, dst_port, ..
            } => cfg
                .dns_udp_ports
                .iter()
                .any(|&p| p == src_port || p == dst_port),
            _ => false,
        };
        let proto = match first.l4 {
            L4Info::Tcp { .. } => Proto::TcpEmbryo(Embryo::EMPTY),
            L4Info::Udp { .. } | L4Info::Icmp { .. } => Proto::Datagram {
                icmp: matches!(first.l4, L4Info::Icmp { .. }),
                dns,
                request_len: -1,
                reply_len: -1,
                chk_cnt: [0; 2],
            },
            L4Info::Other { .. } => Proto::Other,
        };
        let mut hist = History::new();
        if flipped {
            hist.add(b'^');
        }
        ConnAnalyzer {
            start_ts: first.ts,
            last_ts: first.ts,
            pkts: [0; 2],
            ip_bytes: [0; 2],
            hist,
            proto,
        }
    }

    /// Returns the connection's pool slot, if it holds one. Call once, when
    /// the connection is dropped; afterwards it answers as a fresh TCP
    /// connection.
    pub fn release(&mut self, pool: &mut TcpPool) {
        if let Proto::Tcp(slot) = self.proto {
            pool.release(slot);
            self.proto = Proto::TcpEmbryo(Embryo::EMPTY);
        }
    }

    /// Whether this is a TCP connection without a pool slot (at most one
    /// packet seen).
    pub fn is_embryonic(&self) -> bool {
        matches!(self.proto, Proto::TcpEmbryo(_))
    }

    /// Whether this connection holds a [`TcpPool`] slot.
    pub fn holds_slot(&self) -> bool {
        matches!(self.proto, Proto::Tcp(_))
    }

    /// Runs `f` on the TCP state (replayed on the stack for an embryo);
    /// `None` for non-TCP or a dangling slot.
    #[inline]
    fn with_tcp<R>(&self, pool: &TcpPool, f: impl FnOnce(&TcpState) -> R) -> Option<R> {
        match &self.proto {
            Proto::Tcp(slot) => pool.get(*slot).map(f),
            Proto::TcpEmbryo(e) => Some(f(&replay(QUERY_TCP_CFG, e, self.last_ts))),
            _ => None,
        }
    }

    /// The TCP state an embryo stands for (tests and debug checks).
    #[cfg(test)]
    fn tcp_state_of(&self, pool: &TcpPool) -> Option<TcpState> {
        self.with_tcp(pool, Clone::clone)
    }

    #[inline]
    fn count(&mut self, is_orig: bool, pkt: &PacketInfo) {
        let i = usize::from(!is_orig);
        self.pkts[i] += 1;
        self.ip_bytes[i] += u64::from(pkt.ip_len);
    }

    /// Feeds one packet; `is_orig` = sent by the current originator. A TCP
    /// connection's second packet takes a slot from `pool`.
    pub fn update(
        &mut self,
        cfg: &ZeekConfig,
        pool: &mut TcpPool,
        is_orig: bool,
        pkt: &PacketInfo,
    ) -> Update {
        match (&self.proto, &pkt.l4) {
            (
                Proto::Tcp(_) | Proto::TcpEmbryo(_),
                &L4Info::Tcp {
                    flags,
                    seq,
                    ack,
                    window,
                    payload_len,
                    ..
                },
            ) => {
                let p = TcpPkt {
                    flags,
                    seq,
                    ack,
                    window,
                    len: payload_len,
                };
                self.update_tcp(cfg, pool, is_orig, pkt, &p)
            }
            (Proto::Datagram { .. }, _) => {
                self.update_datagram(is_orig, pkt);
                Update::default()
            }
            (Proto::Other, _) => {
                self.last_ts = pkt.ts;
                self.count(is_orig, pkt);
                Update::default()
            }
            (Proto::Tcp(_) | Proto::TcpEmbryo(_), _) => {
                // A non-TCP packet fed into a TCP connection: caller bug;
                // ignore it rather than corrupt state.
                Update::default()
            }
        }
    }

    /// [`ConnAnalyzer::update`] for a TCP packet `p` on a TCP connection.
    #[inline]
    fn update_tcp(
        &mut self,
        cfg: &ZeekConfig,
        pool: &mut TcpPool,
        is_orig: bool,
        pkt: &PacketInfo,
        p: &TcpPkt,
    ) -> Update {
        let mut stack;
        let (tcp, first): (&mut TcpState, bool) = match self.tcp_target(cfg, pool, is_orig, pkt, p)
        {
            TcpTarget::First => {
                // First packet: process it on the stack for its effects
                // on the core, keep only the packet.
                stack = TcpState::new();
                (&mut stack, true)
            }
            TcpTarget::Slot(slot) => match pool.get_mut(slot) {
                Some(t) => (t, false),
                None => return Update::default(),
            },
            TcpTarget::Gone => return Update::default(),
        };
        let mut out = Update::default();
        if !pkt.checksum_ok {
            tcp.checksum_error(is_orig, &mut self.hist);
        } else {
            let before = tcp.orientation();
            let mut cx = ConnCtx {
                hist: &mut self.hist,
                last_ts: &mut self.last_ts,
            };
            tcp.process(cfg.tcp_cfg(), is_orig, p, pkt.ts, &mut cx);
            let flipped = tcp.orientation() != before;
            if flipped {
                self.pkts.swap(0, 1);
                self.ip_bytes.swap(0, 1);
                out.flipped = true;
            }
            self.count(is_orig != flipped, pkt);
        }
        if first {
            let keep = !out.flipped;
            #[cfg(debug_assertions)]
            if let Proto::TcpEmbryo(e) = &self.proto {
                let ts = if pkt.checksum_ok {
                    self.last_ts
                } else {
                    pkt.ts
                };
                debug_assert!(!keep || replay(cfg.tcp_cfg(), e, ts) == *tcp);
            }
            if !keep {
                // Cannot happen (a first packet never flips roles),
                // but stay exact if it ever does.
                let st = tcp.clone();
                self.proto = Proto::Tcp(pool.alloc(st));
            }
        }
        out
    }

    /// Says where a TCP packet is processed: records a first packet in the
    /// embryo, or moves an embryo into a pool slot on its second packet.
    #[inline]
    fn tcp_target(
        &mut self,
        cfg: &ZeekConfig,
        pool: &mut TcpPool,
        is_orig: bool,
        pkt: &PacketInfo,
        p: &TcpPkt,
    ) -> TcpTarget {
        match &mut self.proto {
            Proto::TcpEmbryo(e) if e.bits & EMB_HAS_PKT == 0 => {
                let mut bits = EMB_HAS_PKT;
                if is_orig {
                    bits |= EMB_IS_ORIG;
                }
                if pkt.checksum_ok {
                    bits |= EMB_CHK_OK;
                }
                if p.window == 0 {
                    bits |= EMB_WIN0;
                }
                *e = Embryo {
                    seq: p.seq,
                    ack: p.ack,
                    len: p.len,
                    flags: p.flags,
                    bits,
                };
                TcpTarget::First
            }
            Proto::TcpEmbryo(e) => {
                // Second packet: take a slot, replay the first.
                let st = replay(cfg.tcp_cfg(), e, self.last_ts);
                let slot = pool.alloc(st);
                self.proto = Proto::Tcp(slot);
                TcpTarget::Slot(slot)
            }
            Proto::Tcp(slot) => TcpTarget::Slot(*slot),
            _ => TcpTarget::Gone,
        }
    }

    /// [`ConnAnalyzer::update`] for a UDP or ICMP connection (any packet).
    #[inline]
    fn update_datagram(&mut self, is_orig: bool, pkt: &PacketInfo) {
        let Proto::Datagram {
            icmp,
            request_len,
            reply_len,
            chk_cnt,
            ..
        } = &mut self.proto
        else {
            return;
        };
        let len = match pkt.l4 {
            L4Info::Udp { payload_len, .. } | L4Info::Icmp { payload_len, .. } => payload_len,
            L4Info::Tcp { payload_len, .. } | L4Info::Other { payload_len, .. } => payload_len,
        };
        if !pkt.checksum_ok {
            if !*icmp {
                let c = &mut chk_cnt[usize::from(!is_orig)];
                tcp::scaled_hit(c, &mut self.hist, if is_orig { b'C' } else { b'c' });
            }
            return;
        }
        self.last_ts = pkt.ts;
        if !*icmp {
            if is_orig {
                self.hist.check(UDP_HIST_ORIG_DATA_PKT, b'D');
            } else {
                self.hist.check(UDP_HIST_RESP_DATA_PKT, b'd');
            }
        }
        let slot: &mut i64 = if is_orig {
            &mut *request_len
        } else {
            &mut *reply_len
        };
        if *slot < 0 {
            *slot = i64::from(len);
        } else {
            *slot = slot.saturating_add(i64::from(len));
        }
        self.count(is_orig, pkt);
    }

    /// Everything a sink needs, computed once.
    pub fn summary(&self, pool: &TcpPool) -> ConnSummary {
        let (conn_state, ob, rb, missed) = match self.with_tcp(pool, |t| {
            let (os, rs) = (t.orig_size(), t.resp_size());
            (
                tcp_conn_state(t.orig().state, t.resp().state, os, rs, self.hist.as_bytes()),
                os,
                rs,
                t.missed_bytes(),
            )
        }) {
            Some(x) => x,
            None => (
                self.conn_state(pool),
                self.bytes(pool, 0),
                self.bytes(pool, 1),
                0,
            ),
        };
        ConnSummary {
            hist: self.hist,
            conn_state,
            orig: EndpointCounters {
                pkts: self.pkts[0],
                ip_bytes: self.ip_bytes[0],
                bytes: ob,
            },
            resp: EndpointCounters {
                pkts: self.pkts[1],
                ip_bytes: self.ip_bytes[1],
                bytes: rb,
            },
            missed_bytes: missed,
            start_ts: self.start_ts,
            last_ts: self.last_ts,
            log_duration: self.log_duration(),
        }
    }

    /// The same queries with the pool bound (convenient in tests and tools).
    pub fn view<'a>(&'a self, pool: &'a TcpPool) -> ConnView<'a> {
        ConnView { conn: self, pool }
    }

    /// The conn.log `history` (empty string → `-`).
    pub fn history(&self) -> &str {
        self.hist.as_str()
    }

    /// The conn.log `conn_state` (`conn_state()` in base/protocols/conn/main.zeek).
    pub fn conn_state(&self, pool: &TcpPool) -> ConnState {
        match &self.proto {
            Proto::Tcp(_) | Proto::TcpEmbryo(_) => self
                .with_tcp(pool, |t| {
                    tcp_conn_state(
                        t.orig().state,
                        t.resp().state,
                        t.orig_size(),
                        t.resp_size(),
                        self.hist.as_bytes(),
                    )
                })
                .unwrap_or(ConnState::OTH),
            Proto::Datagram {
                icmp: false,
                request_len,
                reply_len,
                ..
            } => match (*request_len >= 0, *reply_len >= 0) {
                (true, true) => ConnState::SF,
                (true, false) => ConnState::S0,
                (false, true) => ConnState::SHR,
                (false, false) => ConnState::OTH,
            },
            _ => ConnState::OTH,
        }
    }

    /// `*_bytes` of side `i` (0 = originator): TCP `TCP_Endpoint::Size()`,
    /// UDP/ICMP `request_len`/`reply_len` (0 while inactive).
    fn bytes(&self, pool: &TcpPool, i: usize) -> u64 {
        match &self.proto {
            Proto::Tcp(_) | Proto::TcpEmbryo(_) => self
                .with_tcp(pool, |t| if i == 0 { t.orig_size() } else { t.resp_size() })
                .unwrap_or(0),
            Proto::Datagram {
                request_len,
                reply_len,
                ..
            } => u64::try_from(if i == 0 { *request_len } else { *reply_len }).unwrap_or(0),
            Proto::Other => 0,
        }
    }
    fn counters(&self, pool: &TcpPool, i: usize) -> EndpointCounters {
        EndpointCounters {
            pkts: self.pkts[i],
            ip_bytes: self.ip_bytes[i],
            bytes: self.bytes(pool, i),
        }
    }
    /// Originator counters.
    pub fn orig(&self, pool: &TcpPool) -> EndpointCounters {
        self.counters(pool, 0)
    }
    /// Responder counters.
    pub fn resp(&self, pool: &TcpPool) -> EndpointCounters {
        self.counters(pool, 1)
    }
    /// conn.log `missed_bytes` (sum of `content_gap` lengths).
    pub fn missed_bytes(&self, pool: &TcpPool) -> u64 {
        self.with_tcp(pool, TcpState::missed_bytes).unwrap_or(0)
    }
    /// Connection start (first packet, even one with a bad checksum).
    pub fn start_ts(&self) -> Timestamp {
        self.start_ts
    }
    /// `Connection::LastTime`: last packet that updated it (not bad-checksum
    /// packets; for TCP not packets after both sides closed).
    pub fn last_ts(&self) -> Timestamp {
        self.last_ts
    }
    /// `duration` as logged: `Some(last - start)` when positive, else `None`;
    /// when `None`, conn.log also leaves `orig_bytes`/`resp_bytes` unset (`-`).
    pub fn log_duration(&self) -> Option<Timestamp> {
        let d = self.last_ts.saturating_sub(self.start_ts);
        (d > 0).then_some(d)
    }

    /// TCP endpoint states `(orig, resp)`, if TCP.
    pub fn tcp_states(&self, pool: &TcpPool) -> Option<(TcpEndpointState, TcpEndpointState)> {
        self.with_tcp(pool, |t| (t.orig().state, t.resp().state))
    }

    /// TCP: Zeek has seen a complete close (both FINs, or a RST, or a FIN
    /// with the peer inactive) and scheduled removal `tcp_close_delay` after
    /// the last packet. Returns that removal time.
    pub fn closed_at(&self, pool: &TcpPool) -> Option<Timestamp> {
        self.with_tcp(pool, TcpState::delete_at).flatten()
    }

    /// Current inactivity timeout (TCP: 1 min until an endpoint leaves the
    /// handshake states, then 5 min).
    pub fn inactivity_timeout(&self, pool: &TcpPool) -> Timestamp {
        match &self.proto {
            Proto::Tcp(_) | Proto::TcpEmbryo(_) => self
                .with_tcp(pool, TcpState::inactivity_timeout)
                .unwrap_or(UDP_INACTIVITY_TIMEOUT),
            Proto::Datagram { icmp: true, .. } => ICMP_INACTIVITY_TIMEOUT,
            Proto::Datagram { .. } => UDP_INACTIVITY_TIMEOUT,
            Proto::Other => UNKNOWN_IP_INACTIVITY_TIMEOUT,
        }
    }

    /// Time at which Zeek would remove the connection if no further packet
    /// arrives: min of inactivity (`last_ts + inactivity_timeout`), TCP
    /// `AttemptTimer` (unanswered SYN: SYN time + 5 s), `ConnDeleteTimer`
    /// after a complete close (`last_ts + 5 s`), and the `ExpireTimer` cases
    /// (fires at start+5 s, then every 6 s; removes half-closed / reset /
    /// never-active connections idle > 5 s). A packet at or after this time
    /// belongs to a new connection. Approximation: extra `ExpireTimer`s that
    /// Zeek schedules in `ConnectionClosed` are not modelled.
    ///
    /// Cheap for an embryo that saw one plain SYN (the SYN-flood case): that
    /// state's answer is the `AttemptTimer`, `last_ts + tcp_attempt_delay`.
    pub fn expires_at(&self, pool: &TcpPool) -> Timestamp {
        match &self.proto {
            Proto::TcpEmbryo(e) if Self::embryo_is_plain_syn(e) => {
                self.last_ts.saturating_add(TCP_ATTEMPT_DELAY)
            }
            Proto::Tcp(_) | Proto::TcpEmbryo(_) => self
                .with_tcp(pool, |t| t.expires_at(self.start_ts, self.last_ts))
                .unwrap_or(self.last_ts),
            Proto::Datagram { dns: true, .. } => {
                // DNS.cc ExpireTimer: fires every dns_session_timeout from the start and
                // removes the connection once it has been idle for at least the timeout
                // minus one second.
                let idle_needed = DNS_SESSION_TIMEOUT - NS_PER_SEC;
                let due = self.last_ts.saturating_add(idle_needed);
                let ticks = (due.saturating_sub(self.start_ts) + DNS_SESSION_TIMEOUT - 1)
                    .div_euclid(DNS_SESSION_TIMEOUT)
                    .max(1);
                let timer = self
                    .start_ts
                    .saturating_add(ticks.saturating_mul(DNS_SESSION_TIMEOUT));
                timer.min(self.last_ts.saturating_add(self.inactivity_timeout(pool)))
            }
            _ => self.last_ts.saturating_add(self.inactivity_timeout(pool)),
        }
    }

    /// One packet seen, a good-checksum SYN without ACK/FIN/RST from the
    /// originator: the state is then orig `SYN_SENT`, resp `INACTIVE`, no
    /// close, short timeout, `AttemptTimer` at the SYN time + 5 s, so
    /// `expires_at` = min(last + 60 s, last + 5 s) (the `ExpireTimer`
    /// condition does not hold).
    #[inline]
    fn embryo_is_plain_syn(e: &Embryo) -> bool {
        let want = EMB_HAS_PKT | EMB_IS_ORIG | EMB_CHK_OK;
        e.bits & want == want
            && e.flags & (tcp_flags::SYN | tcp_flags::ACK | tcp_flags::FIN | tcp_flags::RST)
                == tcp_flags::SYN
    }

    /// `TCPSessionAdapter::IsReuse`: whether `pkt` (which matched this
    /// connection's 5-tuple, either direction) starts a new connection. The
    /// caller then finishes this one and creates a new one from `pkt`
    /// (checksum is not consulted, as in Zeek). Always false for non-TCP.
    pub fn is_reuse(&self, cfg: &ZeekConfig, pool: &TcpPool, pkt: &PacketInfo) -> bool {
        let _ = cfg;
        match pkt.l4 {
            L4Info::Tcp {
                flags,
                seq,
                ack,
                window,
                payload_len,
                ..
            } => {
                if flags & tcp_flags::SYN == 0 {
                    // IsReuse's first test; skips the replay for embryos.
                    return false;
                }
                if let Proto::TcpEmbryo(e) = &self.proto {
                    if Self::embryo_is_plain_syn(e) {
                        // Orig SYN_SENT (start_seq = its seq), resp INACTIVE, no close:
                        // a SYN-ACK is no reuse (orig not inactive); a SYN is one unless
                        // it repeats the first SYN's seq.
                        return flags & tcp_flags::ACK == 0 && seq != e.seq;
                    }
                }
                let p = TcpPkt {
                    flags,
                    seq,
                    ack,
                    window,
                    len: payload_len,
                };
                self.with_tcp(pool, |t| t.is_reuse(pkt.ts, self.last_ts, &p))
                    .unwrap_or(false)
            }
            _ => false,
        }
    }
}

/// A [`ConnAnalyzer`] with its pool bound: the same queries without the pool
/// argument.
#[derive(Clone, Copy, Debug)]
pub struct ConnView<'a> {
    conn: &'a ConnAnalyzer,
    pool: &'a TcpPool,
}

#[allow(missing_docs)]
impl ConnView<'_> {
    pub fn history(&self) -> &str {
        self.conn.history()
    }
    pub fn conn_state(&self) -> ConnState {
        self.conn.conn_state(self.pool)
    }
    pub fn orig(&self) -> EndpointCounters {
        self.conn.orig(self.pool)
    }
    pub fn resp(&self) -> EndpointCounters {
        self.conn.resp(self.pool)
    }
    pub fn missed_bytes(&self) -> u64 {
        self.conn.missed_bytes(self.pool)
    }
    pub fn start_ts(&self) -> Timestamp {
        self.conn.start_ts()
    }
    pub fn last_ts(&self) -> Timestamp {
        self.conn.last_ts()
    }
    pub fn log_duration(&self) -> Option<Timestamp> {
        self.conn.log_duration()
    }
    pub fn tcp_states(&self) -> Option<(TcpEndpointState, TcpEndpointState)> {
        self.conn.tcp_states(self.pool)
    }
    pub fn closed_at(&self) -> Option<Timestamp> {
        self.conn.closed_at(self.pool)
    }
    pub fn inactivity_timeout(&self) -> Timestamp {
        self.conn.inactivity_timeout(self.pool)
    }
    pub fn expires_at(&self) -> Timestamp {
        self.conn.expires_at(self.pool)
    }
    pub fn is_reuse(&self, cfg: &ZeekConfig, pkt: &PacketInfo) -> bool {
        self.conn.is_reuse(cfg, self.pool, pkt)
    }
    pub fn summary(&self) -> ConnSummary {
        self.conn.summary(self.pool)
    }
}

/// `conn_state` for TCP (scripts/base/protocols/conn/main.zeek).
fn tcp_conn_state(
    os: TcpEndpointState,
    rs: TcpEndpointState,
    osize: u64,
    rsize: u64,
    history: &[u8],
) -> ConnState {
    use TcpEndpointState as S;
    let o_inactive = matches!(os, S::Inactive | S::Partial);
    let r_inactive = matches!(rs, S::Inactive | S::Partial);
    if rs == S::Reset {
        if os == S::SynSent || os == S::SynAckSent || (os == S::Reset && osize == 0 && rsize == 0) {
            ConnState::REJ
        } else if o_inactive {
            ConnState::RSTRH
        } else {
            ConnState::RSTR
        }
    } else if os == S::Reset {
        if r_inactive {
            if history_is_rstos0(history) {
                ConnState::RSTOS0
            } else {
                ConnState::OTH
            }
        } else {
            ConnState::RSTO
        }
    } else if rs == S::Closed && os == S::Closed {
        ConnState::SF
    } else if os == S::Closed {
        if r_inactive {
            ConnState::SH
        } else {
            ConnState::S2
        }
    } else if rs == S::Closed {
        if o_inactive {
            ConnState::SHR
        } else {
            ConnState::S3
        }
    } else if os == S::SynSent && rs == S::Inactive {
        ConnState::S0
    } else if os == S::Established && rs == S::Established {
        ConnState::S1
    } else {
        ConnState::OTH
    }
}

/// Whole-string match of `/\^?S[^HAFGIQ]*R.*/`.
fn history_is_rstos0(h: &[u8]) -> bool {
    let h = h.strip_prefix(b"^").unwrap_or(h);
    let Some(rest) = h.strip_prefix(b"S") else {
        return false;
    };
    for &c in rest {
        if c == b'R' {
            return true;
        }
        if b"HAFGIQ".contains(&c) {
            return false;
        }
    }
    false
}
