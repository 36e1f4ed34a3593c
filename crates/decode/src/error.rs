//! The decode error: which layer failed, where, and why.

use core::fmt;

/// A protocol layer the decoder understands; names the layer an error happened in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Layer {
    /// The capture's link-layer header (SLL, SLL2, NULL/LOOP, PPP framing).
    Link,
    /// Ethernet II / 802.3 header.
    Ethernet,
    /// 802.1Q / 802.1ad VLAN tag.
    Vlan,
    /// MPLS label stack.
    Mpls,
    /// PPP header.
    Ppp,
    /// PPPoE session header.
    Pppoe,
    /// ARP packet.
    Arp,
    /// IPv4 header.
    Ipv4,
    /// IPv6 fixed header.
    Ipv6,
    /// IPv6 extension header.
    Ipv6Ext,
    /// IP fragment reassembly.
    Fragment,
    /// TCP header.
    Tcp,
    /// UDP header.
    Udp,
    /// ICMP (v4) header.
    Icmp,
    /// ICMPv6 header.
    Icmpv6,
    /// GRE header.
    Gre,
    /// ERSPAN header.
    Erspan,
    /// VXLAN header.
    Vxlan,
    /// Geneve header.
    Geneve,
    /// Teredo encapsulation.
    Teredo,
    /// AYIYA encapsulation.
    Ayiya,
    /// GTP-U header.
    Gtp,
    /// Other L2 tags: Cisco FabricPath, VN-Tag, 802.1ah PBB.
    L2Tag,
}

impl Layer {
    /// Every layer, in declaration order (for statistics tables).
    pub const ALL: [Layer; 23] = [
        Layer::Link,
        Layer::Ethernet,
        Layer::Vlan,
        Layer::Mpls,
        Layer::Ppp,
        Layer::Pppoe,
        Layer::Arp,
        Layer::Ipv4,
        Layer::Ipv6,
        Layer::Ipv6Ext,
        Layer::Fragment,
        Layer::Tcp,
        Layer::Udp,
        Layer::Icmp,
        Layer::Icmpv6,
        Layer::Gre,
        Layer::Erspan,
        Layer::Vxlan,
        Layer::Geneve,
        Layer::Teredo,
        Layer::Ayiya,
        Layer::Gtp,
        Layer::L2Tag,
    ];

    /// Lower-case name used in statistics and messages.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Link => "link",
            Layer::Ethernet => "ethernet",
            Layer::Vlan => "vlan",
            Layer::Mpls => "mpls",
            Layer::Ppp => "ppp",
            Layer::Pppoe => "pppoe",
            Layer::Arp => "arp",
            Layer::Ipv4 => "ipv4",
            Layer::Ipv6 => "ipv6",
            Layer::Ipv6Ext => "ipv6_ext",
            Layer::Fragment => "fragment",
            Layer::Tcp => "tcp",
            Layer::Udp => "udp",
            Layer::Icmp => "icmp",
            Layer::Icmpv6 => "icmpv6",
            Layer::Gre => "gre",
            Layer::Erspan => "erspan",
            Layer::Vxlan => "vxlan",
            Layer::Geneve => "geneve",
            Layer::Teredo => "teredo",
            Layer::Ayiya => "ayiya",
            Layer::Gtp => "gtp",
            Layer::L2Tag => "l2tag",
        }
    }

    /// Position in [`Layer::ALL`], for per-layer counters.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// Why a layer could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Fewer bytes than the header needs.
    Truncated {
        /// Bytes the header needs.
        needed: usize,
        /// Bytes available.
        available: usize,
    },
    /// A version field holds an unexpected value.
    BadVersion(u8),
    /// A header-length field is smaller than the minimum or points past the data.
    BadHeaderLength(usize),
    /// A total-length field is inconsistent with the header length.
    BadTotalLength(usize),
    /// The checksum does not match the data.
    BadChecksum,
    /// Too many nested encapsulations or extension headers.
    TooDeep,
    /// A fragment was refused by the reassembly limits.
    FragmentLimit,
    /// An inconsistent fragment (overlap with different data, bad offset or length).
    BadFragment,
    /// A field value that the protocol forbids.
    Malformed(&'static str),
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Truncated { needed, available } => {
                write!(f, "truncated: needs {needed} bytes, {available} available")
            }
            ErrorKind::BadVersion(v) => write!(f, "unexpected version {v}"),
            ErrorKind::BadHeaderLength(l) => write!(f, "bad header length {l}"),
            ErrorKind::BadTotalLength(l) => write!(f, "bad total length {l}"),
            ErrorKind::BadChecksum => f.write_str("bad checksum"),
            ErrorKind::TooDeep => f.write_str("too many nested headers"),
            ErrorKind::FragmentLimit => f.write_str("fragment refused by reassembly limits"),
            ErrorKind::BadFragment => f.write_str("inconsistent fragment"),
            ErrorKind::Malformed(what) => write!(f, "malformed {what}"),
        }
    }
}

/// A decode failure: cheap to copy, allocation-free, and precise about where it happened.
///
/// The caller (who knows the packet index) adds it when reporting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{layer} at byte {offset}: {kind}", layer = .layer.name())]
pub struct DecodeError {
    /// The layer that failed.
    pub layer: Layer,
    /// Byte offset of the failure within the frame (never past its end). For a failure inside a
    /// datagram reassembled from fragments, the offset of the IP header of the fragment that
    /// completed it.
    pub offset: usize,
    /// What went wrong.
    pub kind: ErrorKind,
}

impl DecodeError {
    /// Builds an error for `layer` at byte `offset`.
    pub fn new(layer: Layer, offset: usize, kind: ErrorKind) -> Self {
        DecodeError {
            layer,
            offset,
            kind,
        }
    }
}

/// Checks that `data` holds at least `needed` bytes.
///
/// # Errors
/// [`ErrorKind::Truncated`] at offset 0 of `layer` when it does not.
#[inline]
pub(crate) fn need(data: &[u8], needed: usize, layer: Layer) -> Result<(), DecodeError> {
    if data.len() < needed {
        Err(DecodeError::new(
            layer,
            0,
            ErrorKind::Truncated {
                needed,
                available: data.len(),
            },
        ))
    } else {
        Ok(())
    }
}
