//! Link-layer header types (the LINKTYPE_* registry, <https://www.tcpdump.org/linktypes.html>).

/// A link-layer header type (LINKTYPE_* value from tcpdump.org's list).
///
/// Every `u32` is representable, so unknown values round-trip; [`LinkType::name`] gives tcpdump's
/// name for known values and `LINKTYPE_<n>` otherwise.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u32);

impl LinkType {
    /// BSD loopback: a 4-byte host-order address family, then the packet.
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet II / 802.3 (tcpdump name `EN10MB`).
    pub const ETHERNET: LinkType = LinkType(1);
    /// PPP with the RFC 1661 header.
    pub const PPP: LinkType = LinkType(9);
    /// `DLT_RAW` as written by some old tools (value 12): raw IPv4 or IPv6, same as [`LinkType::RAW`].
    pub const RAW_12: LinkType = LinkType(12);
    /// PPP in HDLC-like framing (RFC 1662).
    pub const PPP_HDLC: LinkType = LinkType(50);
    /// Raw IPv4 or IPv6; the version nibble says which.
    pub const RAW: LinkType = LinkType(101);
    /// IEEE 802.11 wireless LAN.
    pub const IEEE802_11: LinkType = LinkType(105);
    /// OpenBSD loopback: a 4-byte network-order address family, then the packet.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux "cooked" capture, version 1 (16-byte header).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Radiotap header, then an 802.11 frame.
    pub const IEEE802_11_RADIOTAP: LinkType = LinkType(127);
    /// Raw IPv4.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux netfilter NFLOG messages.
    pub const NFLOG: LinkType = LinkType(239);
    /// Linux "cooked" capture, version 2 (20-byte header).
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// tcpdump's name for this link type, or `LINKTYPE_<n>` when unknown.
    ///
    /// Unknown names are built once per distinct value and kept for the life of the process (at
    /// most [`MAX_UNKNOWN_NAMES`] of them; past that, `LINKTYPE_UNKNOWN`), so the result can be
    /// `'static`. `Display` always writes `LINKTYPE_<n>` without caching.
    ///
    /// ```
    /// use custos_capture::LinkType;
    /// assert_eq!(LinkType::ETHERNET.name(), "EN10MB");
    /// assert_eq!(LinkType(4242).name(), "LINKTYPE_4242");
    /// ```
    pub fn name(self) -> &'static str {
        match self.known_name() {
            Some(n) => n,
            None => unknown_name(self.0),
        }
    }

    /// tcpdump's name for this link type, `None` when not in this crate's table.
    #[inline]
    pub fn known_name(self) -> Option<&'static str> {
        Some(match self {
            LinkType::NULL => "NULL",
            LinkType::ETHERNET => "EN10MB",
            LinkType::PPP => "PPP",
            LinkType::RAW_12 | LinkType::RAW => "RAW",
            LinkType::PPP_HDLC => "PPP_SERIAL",
            LinkType::IEEE802_11 => "IEEE802_11",
            LinkType::LOOP => "LOOP",
            LinkType::LINUX_SLL => "LINUX_SLL",
            LinkType::IEEE802_11_RADIOTAP => "IEEE802_11_RADIO",
            LinkType::IPV4 => "IPV4",
            LinkType::IPV6 => "IPV6",
            LinkType::NFLOG => "NFLOG",
            LinkType::LINUX_SLL2 => "LINUX_SLL2",
            LinkType(_) => return None,
        })
    }
}

/// How many distinct unknown link-type names [`LinkType::name`] keeps.
pub const MAX_UNKNOWN_NAMES: usize = 1024;

#[cold]
fn unknown_name(n: u32) -> &'static str {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<HashMap<u32, &'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(|| Mutex::new(HashMap::new()))
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(name) = names.get(&n) {
        return name;
    }
    if names.len() >= MAX_UNKNOWN_NAMES {
        return "LINKTYPE_UNKNOWN";
    }
    let name: &'static str = Box::leak(format!("LINKTYPE_{n}").into_boxed_str());
    names.insert(n, name);
    name
}

impl std::fmt::Display for LinkType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.known_name() {
            Some(n) => f.write_str(n),
            None => write!(f, "LINKTYPE_{}", self.0),
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn names_known_and_unknown_link_types() {
        assert_eq!(LinkType::ETHERNET.name(), "EN10MB");
        assert_eq!(LinkType::RAW.name(), "RAW");
        assert_eq!(LinkType::RAW_12.name(), "RAW");
        assert_eq!(LinkType::LINUX_SLL.name(), "LINUX_SLL");
        assert_eq!(LinkType::LINUX_SLL2.name(), "LINUX_SLL2");
        assert_eq!(LinkType::NULL.name(), "NULL");
        assert_eq!(LinkType::LOOP.name(), "LOOP");
        assert_eq!(LinkType::IPV4.name(), "IPV4");
        assert_eq!(LinkType::IPV6.name(), "IPV6");
        assert_eq!(LinkType::PPP.name(), "PPP");
        assert_eq!(LinkType(999).name(), "LINKTYPE_999");
        assert_eq!(LinkType(999).to_string(), "LINKTYPE_999");
    }
}
