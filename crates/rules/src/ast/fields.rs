//! Header, flow, flowbits, threshold and Modbus options of a rule.

use super::IntCmp;

/// TCP flags test (`flags:SA,12`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlagsTest {
    /// Flags named.
    pub flags: u8,
    /// Flags to ignore (after the comma).
    pub ignore: u8,
    /// How `flags` is compared.
    pub mode: FlagsMode,
}

/// How a flags test compares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlagsMode {
    /// Exactly these (apart from ignored ones).
    Exact,
    /// `+`: these and possibly others.
    All,
    /// `*`: any of these.
    Any,
    /// `!`: none of these.
    None,
}

/// A header field test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderTest {
    /// `ttl` (IPv4 TTL, IPv6 hop limit).
    Ttl(IntCmp),
    /// `id` (IPv4 identification).
    IpId(IntCmp),
    /// `ip_proto`.
    IpProto(IntCmp),
    /// `window` (TCP window, raw), with `!` as `Ne`.
    Window(IntCmp),
    /// `seq`.
    Seq(u32),
    /// `ack`.
    Ack(u32),
    /// `itype`.
    Itype(IntCmp),
    /// `icode`.
    Icode(IntCmp),
    /// `flags`.
    TcpFlags(FlagsTest),
    /// `ipopts`: an IPv4 option of this type is present (`any`: any option).
    IpOpt(Option<u8>),
    /// `dsize`: payload size of the packet.
    Dsize(IntCmp),
    /// `fragbits` on IPv4 (bits: 4 = reserved, 2 = DF, 1 = MF) compared like TCP flags.
    Fragbits(FlagsTest),
    /// `icmp_id`: the identifier of an ICMP message that has one (echo, timestamp,
    /// information and address mask messages; ICMPv6 echo).
    IcmpId(IntCmp),
    /// `icmp_seq`: the sequence number of the same messages.
    IcmpSeq(IntCmp),
}

/// `modbus:` options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ModbusTest {
    /// `function N` or `function !N`.
    pub function: Option<(u8, bool)>,
    /// `function assigned|unassigned|public|user|reserved` (a category).
    pub category: Option<ModbusCategory>,
    /// `access read|write [primary table]`: (is write, table).
    pub access: Option<(bool, Option<ModbusTable>)>,
    /// `unit N` (compared).
    pub unit: Option<IntCmp>,
    /// `address N` (compared; with `access`).
    pub address: Option<IntCmp>,
}

/// Modbus function code categories (Suricata's names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModbusCategory {
    /// Publicly assigned.
    Assigned,
    /// Public but unassigned.
    Unassigned,
    /// Public (assigned or not).
    Public,
    /// User-defined (65–72, 100–110).
    User,
    /// Reserved (8 subfunctions aside: 9, 10, 13, 14, 41, 42, 90, 91, 125–127).
    Reserved,
}

/// Modbus primary tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModbusTable {
    /// Discrete inputs.
    DiscreteInputs,
    /// Coils.
    Coils,
    /// Input registers.
    InputRegisters,
    /// Holding registers.
    HoldingRegisters,
}

/// `flow:` options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FlowOpts {
    /// `established` (true) / `not_established` (false).
    pub established: Option<bool>,
    /// `to_server`/`from_client` (true) or `to_client`/`from_server` (false).
    pub to_server: Option<bool>,
    /// `only_stream` (true) / `no_stream` (false): stream or packet inspection only.
    pub stream: Option<bool>,
}

/// A `flowbits` operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Flowbit {
    /// `set,name`.
    Set(String),
    /// `unset,name`.
    Unset(String),
    /// `toggle,name`.
    Toggle(String),
    /// `isset,a|b` (any) or `isset,a&b` (all).
    IsSet(Vec<String>, bool),
    /// `isnotset,a|b` (any unset) or `isnotset,a&b` (all unset).
    IsNotSet(Vec<String>, bool),
    /// `noalert`.
    NoAlert,
}

/// What a threshold counts by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Track {
    /// Source address.
    BySrc,
    /// Destination address.
    ByDst,
    /// The rule alone.
    ByRule,
    /// Source and destination pair.
    ByBoth,
    /// The flow.
    ByFlow,
}

/// `threshold` / `detection_filter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Threshold {
    /// `limit`, `threshold`, `both`; `detection_filter` is [`ThresholdKind::DetectionFilter`].
    pub kind: ThresholdKind,
    /// Tracked by.
    pub track: Track,
    /// Count.
    pub count: u64,
    /// Window in seconds of packet time.
    pub seconds: u64,
    /// `detection_filter`'s `unique_on`: count distinct ports rather than matches.
    pub unique_on: Option<UniquePort>,
}

/// The port `detection_filter: …, unique_on` counts distinct values of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UniquePort {
    /// `src_port`.
    Src,
    /// `dst_port`.
    Dst,
}

/// Kinds of thresholds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ThresholdKind {
    /// Alert on the first `count` matches per window.
    Limit,
    /// Alert on every `count`-th match in a window.
    Threshold,
    /// Alert once per window, after `count` matches.
    Both,
    /// Alert on every match after the first `count` in a window.
    DetectionFilter,
    /// Alert on the 1st match, then at `count`, `count × multiplier`, … (no window).
    Backoff(u64),
}
