//! A parsed rule: header, metadata and the ordered conditions of its options.

use std::net::IpAddr;
use std::sync::Arc;

/// What a rule does when it matches. custos never blocks: `drop` and `reject` rules alert
/// with EVE action `allowed`, as Suricata reports them when not running inline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// `alert`.
    Alert,
    /// `drop` (IDS mode: an alert).
    Drop,
    /// `reject`, `rejectsrc`, `rejectdst`, `rejectboth` (IDS mode: an alert).
    Reject,
    /// `pass`: later rules do not alert on what it matched.
    Pass,
}

/// The protocol of a rule's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// `ip` (also `pkt`): every packet.
    Ip,
    /// `tcp`, `tcp-pkt`, `tcp-stream`.
    Tcp,
    /// `udp`.
    Udp,
    /// `icmp` (ICMPv4 and ICMPv6, as Suricata).
    Icmp,
    /// An application protocol custos parses (`http`, `mqtt`, …), by its EVE name.
    App(&'static str),
}

/// An address expression: `any`, an address or network, a list, a negation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AddrExpr {
    /// `any`.
    Any,
    /// An address and prefix length.
    Net(IpAddr, u8),
    /// `[a, b, !c]`: matches when some positive element matches (or there is none) and no
    /// negated element does.
    List(Vec<AddrExpr>),
    /// `!a`.
    Not(Box<AddrExpr>),
}

/// A port expression: `any`, a port, a range, a list, a negation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortExpr {
    /// `any`.
    Any,
    /// `lo:hi` inclusive (a single port has `lo == hi`).
    Range(u16, u16),
    /// `[a, b, !c]`, as for addresses.
    List(Vec<PortExpr>),
    /// `!a`.
    Not(Box<PortExpr>),
}

/// An integer comparison (`5`, `<5`, `>=5`, `!5`, `1<>5`, `1-5`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntCmp {
    /// Equal.
    Eq(u64),
    /// Not equal.
    Ne(u64),
    /// Less than.
    Lt(u64),
    /// At most.
    Le(u64),
    /// More than.
    Gt(u64),
    /// At least.
    Ge(u64),
    /// Strictly between (Suricata's `lo<>hi` and `lo-hi`).
    Between(u64, u64),
}

impl IntCmp {
    /// True when `v` satisfies the comparison.
    pub fn test(self, v: u64) -> bool {
        match self {
            IntCmp::Eq(x) => v == x,
            IntCmp::Ne(x) => v != x,
            IntCmp::Lt(x) => v < x,
            IntCmp::Le(x) => v <= x,
            IntCmp::Gt(x) => v > x,
            IntCmp::Ge(x) => v >= x,
            IntCmp::Between(lo, hi) => v > lo && v < hi,
        }
    }
}

/// Which bytes a buffer condition reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Buffer {
    /// The packet payload, or the reassembled stream of a TCP flow (`pkt_data`, default).
    Payload,
    /// A sticky buffer of an application protocol, by Suricata's canonical name
    /// (`http.uri`, `mqtt.publish.topic`, …; see [`crate::keywords`]).
    App(&'static str),
}

/// A `content` with its modifiers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Content {
    /// The bytes sought (hex blocks decoded).
    pub pattern: Vec<u8>,
    /// `!"…"`: the pattern must not occur (in the window the modifiers give).
    pub negated: bool,
    /// ASCII case-insensitive.
    pub nocase: bool,
    /// Absolute start of the search.
    pub offset: Option<u32>,
    /// Absolute search window from `offset`.
    pub depth: Option<u32>,
    /// Start relative to the end of the previous match in the buffer.
    pub distance: Option<i64>,
    /// Window relative to the end of the previous match.
    pub within: Option<u32>,
    /// Must end at the end of the buffer.
    pub endswith: bool,
    /// Chosen by the rule for the prefilter.
    pub fast_pattern: bool,
}

impl Content {
    /// A content without modifiers.
    pub fn new(pattern: Vec<u8>, negated: bool) -> Self {
        Content {
            pattern,
            negated,
            nocase: false,
            offset: None,
            depth: None,
            distance: None,
            within: None,
            endswith: false,
            fast_pattern: false,
        }
    }

    /// True when the position depends on a previous match.
    pub fn is_relative(&self) -> bool {
        self.distance.is_some() || self.within.is_some()
    }
}

/// A `pcre`, translated to the `regex` crate's syntax.
#[derive(Clone, Debug)]
pub struct Pcre {
    /// The compiled expression (bytes mode).
    pub regex: regex::bytes::Regex,
    /// `R`: searched from the end of the previous match.
    pub relative: bool,
    /// `!"/…/"`.
    pub negated: bool,
}

impl PartialEq for Pcre {
    fn eq(&self, other: &Self) -> bool {
        self.regex.as_str() == other.regex.as_str()
            && self.relative == other.relative
            && self.negated == other.negated
    }
}

/// How `byte_test` and `byte_jump` read a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NumberRead {
    /// Bytes to read (1–8 binary, 1–20 as text).
    pub bytes: u8,
    /// Offset from the buffer start, or from the previous match when `relative`.
    pub offset: i64,
    /// Relative to the previous match.
    pub relative: bool,
    /// Little endian (binary).
    pub little_endian: bool,
    /// Text number in this base (10, 16 or 8); `None` for binary.
    pub string_base: Option<u32>,
    /// Mask applied before the test (`bitmask`).
    pub bitmask: Option<u64>,
}

/// `byte_test`'s comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOp {
    /// `<`.
    Lt,
    /// `>`.
    Gt,
    /// `=`.
    Eq,
    /// `<=`.
    Le,
    /// `>=`.
    Ge,
    /// `&`: any bit of the value set.
    And,
    /// `^`: bits of the value differ.
    Xor,
}

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
}

/// One condition of a rule, in the order written.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// `content`.
    Content(Buffer, Content),
    /// `pcre`.
    Pcre(Buffer, Pcre),
    /// `isdataat` (`negated`: `!`).
    IsDataAt {
        /// The buffer.
        buffer: Buffer,
        /// Position.
        pos: u32,
        /// From the previous match.
        relative: bool,
        /// `!`: there must be no data there.
        negated: bool,
    },
    /// `bsize`: length of the buffer.
    Bsize(Buffer, IntCmp),
    /// `byte_test`.
    ByteTest {
        /// The buffer.
        buffer: Buffer,
        /// Where and how the number is read.
        read: NumberRead,
        /// Comparison.
        op: ByteOp,
        /// `!` before the operator.
        negated: bool,
        /// Value compared with.
        value: u64,
    },
    /// `byte_jump`: moves the match position.
    ByteJump {
        /// The buffer.
        buffer: Buffer,
        /// Where and how the number is read.
        read: NumberRead,
        /// Multiplier.
        multiplier: u64,
        /// Added after the jump.
        post_offset: i64,
        /// Jump from the buffer start instead of after the number.
        from_beginning: bool,
        /// Round up to a multiple of 4.
        align: bool,
    },
    /// A header field.
    Header(HeaderTest),
    /// An integer field of an application transaction (`mqtt.type`, `mqtt.qos`, …);
    /// `index` picks one message of a multi-message transaction (Suricata 8's `,N`).
    AppInt {
        /// Canonical keyword.
        field: &'static str,
        /// Comparison.
        cmp: IntCmp,
        /// Message index within the transaction.
        index: Option<usize>,
    },
    /// A flags field of an application message (`mqtt.flags`, `mqtt.connect.flags`): each
    /// named flag must be set, each `!`-named one unset.
    AppFlags {
        /// Canonical keyword.
        field: &'static str,
        /// Bits required set.
        set: u32,
        /// Bits required unset.
        unset: u32,
    },
    /// `app-layer-event:proto.event`.
    AppLayerEvent {
        /// EVE protocol name.
        proto: &'static str,
        /// Event name, as Suricata names it.
        event: &'static str,
    },
    /// `modbus:` — function, access, unit and address tests on a Modbus transaction.
    Modbus(ModbusTest),
    /// `app-layer-protocol:[!]proto`: the flow's application protocol (as recognised so far).
    AppProtocol {
        /// EVE protocol name.
        proto: &'static str,
        /// `!`.
        negated: bool,
    },
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

/// Where a rule was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// File name as given.
    pub file: Arc<str>,
    /// 1-based line of the rule's first line.
    pub line: usize,
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A parsed, fully supported rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// Action.
    pub action: Action,
    /// Protocol.
    pub proto: Proto,
    /// Source addresses.
    pub src: AddrExpr,
    /// Source ports.
    pub src_ports: PortExpr,
    /// `<>`: either direction.
    pub bidirectional: bool,
    /// Destination addresses.
    pub dst: AddrExpr,
    /// Destination ports.
    pub dst_ports: PortExpr,
    /// `sid`.
    pub sid: u64,
    /// `gid` (default 1).
    pub gid: u32,
    /// `rev` (default 0).
    pub rev: u32,
    /// `msg`.
    pub msg: String,
    /// `classtype`.
    pub classtype: Option<String>,
    /// `priority` (overrides the classtype's).
    pub priority: Option<u8>,
    /// `reference` values.
    pub references: Vec<String>,
    /// `metadata` values.
    pub metadata: Vec<String>,
    /// `flow`.
    pub flow: FlowOpts,
    /// `flowbits`, in order.
    pub flowbits: Vec<Flowbit>,
    /// `threshold`.
    pub threshold: Option<Threshold>,
    /// `detection_filter`.
    pub detection_filter: Option<Threshold>,
    /// Conditions in the order written.
    pub conditions: Vec<Condition>,
    /// Where it was written.
    pub location: Location,
}

impl Rule {
    /// True when the rule reads an application transaction (an application protocol in the
    /// header, or any application buffer, field or event).
    pub fn is_app(&self) -> bool {
        matches!(self.proto, Proto::App(_))
            || self.conditions.iter().any(|c| match c {
                Condition::Content(b, _)
                | Condition::Pcre(b, _)
                | Condition::Bsize(b, _)
                | Condition::IsDataAt { buffer: b, .. }
                | Condition::ByteTest { buffer: b, .. }
                | Condition::ByteJump { buffer: b, .. } => matches!(b, Buffer::App(_)),
                Condition::AppInt { .. }
                | Condition::AppFlags { .. }
                | Condition::AppLayerEvent { .. }
                | Condition::Modbus(_) => true,
                Condition::Header(_) | Condition::AppProtocol { .. } => false,
            })
    }
}
