//! A parsed rule: header, metadata and the ordered conditions of its options.

mod fields;
mod payload;

pub use fields::*;
pub use payload::*;

pub use crate::transform::{Base64Mode, Transform};
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
    /// (`http.uri`, `mqtt.publish.topic`, …; see [`crate::keywords`]), with the transforms
    /// applied to it.
    App(&'static str, Chain),
    /// A packet header sticky buffer (`ipv4.hdr`, `tcp.hdr`, …), with its transforms.
    Header(HeaderBuffer, Chain),
    /// `base64_data`: what the last `base64_decode` decoded (inspected by it).
    Base64,
}

impl Buffer {
    /// The transforms applied to the buffer.
    pub fn chain(self) -> Chain {
        match self {
            Buffer::App(_, c) | Buffer::Header(_, c) => c,
            Buffer::Payload | Buffer::Base64 => Chain::NONE,
        }
    }
}

/// The transforms applied to a sticky buffer: 0 for none, else 1 + an index in
/// [`Rule::transforms`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Chain(pub u8);

impl Chain {
    /// No transform.
    pub const NONE: Chain = Chain(0);

    /// The chain's transforms in `rule` (empty for [`Chain::NONE`]).
    pub fn of(self, rule: &Rule) -> &[Transform] {
        usize::from(self.0)
            .checked_sub(1)
            .and_then(|i| rule.transforms.get(i))
            .map_or(&[], Vec::as_slice)
    }
}

/// The packet header sticky buffers: each header as sent, options included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HeaderBuffer {
    /// `ipv4.hdr`: the IPv4 header (IHL × 4 bytes).
    Ipv4,
    /// `ipv6.hdr`: the IPv6 header and its extension headers.
    Ipv6,
    /// `tcp.hdr`: the TCP header (data offset × 4 bytes).
    Tcp,
    /// `udp.hdr`: the 8-byte UDP header.
    Udp,
    /// `icmpv4.hdr`: the ICMPv4 header (8 bytes; 20 for timestamps; router
    /// advertisements with their addresses).
    Icmpv4,
    /// `icmpv6.hdr`: the 8-byte ICMPv6 header.
    Icmpv6,
}

/// Which direction of a flow `flow.pkts` and `flow.bytes` count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowDir {
    /// `toserver`.
    ToServer,
    /// `toclient`.
    ToClient,
    /// `either`: one direction or the other satisfies the comparison.
    Either,
    /// `both`: both directions do.
    Both,
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
        pos: Num<u32>,
        /// From the previous match.
        relative: bool,
        /// `!`: there must be no data there.
        negated: bool,
    },
    /// `bsize`: length of the buffer.
    Bsize(Buffer, IntCmp),
    /// `absent` (`or_else`: or what follows on the buffer matches): the buffer is missing.
    Absent {
        /// The buffer.
        buffer: Buffer,
        /// `absent: or_else`.
        or_else: bool,
    },
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
        value: Num<u64>,
    },
    /// `byte_jump`: moves the match position.
    ByteJump {
        /// The buffer.
        buffer: Buffer,
        /// Where and how the number is read.
        read: NumberRead,
        /// How it jumps.
        jump: Jump,
    },
    /// `byte_extract`: reads a number into variable `var`; moves the match position after
    /// the bytes read.
    ByteExtract {
        /// The buffer.
        buffer: Buffer,
        /// Where and how the number is read.
        read: NumberRead,
        /// Multiplier.
        multiplier: u64,
        /// Round up to a multiple of this (0: no rounding).
        align: u8,
        /// The variable set.
        var: u8,
    },
    /// `byte_math`: reads a number, computes with it and stores the result in `var`; moves
    /// the match position after the bytes read.
    ByteMath {
        /// The buffer.
        buffer: Buffer,
        /// Where and how the number is read (its bitmask applies to the result).
        read: NumberRead,
        /// Operator.
        op: MathOp,
        /// Right operand.
        rvalue: Num<u64>,
        /// The variable set.
        var: u8,
    },
    /// `base64_decode`: decodes base64 from the buffer; matches when what it decoded
    /// satisfies the rule's `base64_data` conditions (which end the buffer's inspection).
    Base64Decode {
        /// The buffer.
        buffer: Buffer,
        /// Most bytes decoded from.
        bytes: u32,
        /// Bytes skipped first.
        offset: u32,
        /// From the previous match.
        relative: bool,
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
    /// `app-layer-protocol:[!]a|b|…`: the flow's application protocol (as recognised so far)
    /// is one of `protos`, or not yet known when `unknown` is listed; `!`: it is known and
    /// none of them.
    AppProtocol {
        /// EVE protocol names.
        protos: Vec<&'static str>,
        /// `unknown` is listed.
        unknown: bool,
        /// `!`.
        negated: bool,
    },
    /// `flow.pkts` (`bytes`: `flow.bytes`): packets or bytes the flow carried so far,
    /// this packet included.
    FlowCount {
        /// Bytes rather than packets.
        bytes: bool,
        /// Direction counted.
        dir: FlowDir,
        /// Comparison.
        cmp: IntCmp,
    },
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
    /// `=>`: a transactional rule — its header read as `->`, matched on a whole
    /// transaction, request and response side together.
    pub transactional: bool,
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
    /// Transform chains of the rule's sticky buffers (see [`Chain`]).
    pub transforms: Vec<Vec<Transform>>,
    /// Where it was written.
    pub location: Location,
}

impl Rule {
    /// True when the rule reads an application transaction (an application protocol in the
    /// header, or any application buffer, field or event).
    pub fn is_app(&self) -> bool {
        matches!(self.proto, Proto::App(_))
            || self.conditions.iter().any(|c| match c {
                Condition::AppInt { .. }
                | Condition::AppFlags { .. }
                | Condition::AppLayerEvent { .. }
                | Condition::Modbus(_) => true,
                Condition::Header(_)
                | Condition::AppProtocol { .. }
                | Condition::FlowCount { .. } => false,
                c => matches!(c.buffer(), Some(Buffer::App(..))),
            })
    }
}

impl Condition {
    /// `app-layer-protocol` against the protocol recognised on the flow (`None`: not yet),
    /// as Suricata's: a negation never matches an unknown protocol.
    pub fn app_protocol_matches(&self, have: Option<&str>) -> bool {
        let Condition::AppProtocol {
            protos,
            unknown,
            negated,
        } = self
        else {
            return true;
        };
        match have {
            None => *unknown && !*negated,
            Some(p) => protos.contains(&p) != *negated,
        }
    }

    /// The buffer a payload condition reads (`None` for header, flow and application
    /// field conditions).
    pub fn buffer(&self) -> Option<Buffer> {
        match self {
            Condition::Content(b, _) | Condition::Pcre(b, _) | Condition::Bsize(b, _) => Some(*b),
            Condition::IsDataAt { buffer, .. }
            | Condition::Absent { buffer, .. }
            | Condition::ByteTest { buffer, .. }
            | Condition::ByteJump { buffer, .. }
            | Condition::ByteExtract { buffer, .. }
            | Condition::ByteMath { buffer, .. }
            | Condition::Base64Decode { buffer, .. } => Some(*buffer),
            _ => None,
        }
    }
}
