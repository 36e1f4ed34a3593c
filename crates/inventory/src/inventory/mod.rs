//! The device inventory: every station seen on the link (by MAC address; by IP address where
//! the capture has no link layer), with its vendor, addresses, names, DHCP fingerprint, the
//! services it offers and uses, its peers and its traffic.
//!
//! Fed two ways: [`Inventory::packet`] with every decoded packet (addresses, counters, TCP
//! handshakes) and [`Inventory::event`] with every application event (names, banners,
//! roles). Every set is capped and counts what it dropped, so memory is bounded on any input.

mod describe;
mod json;
pub mod oui;
mod roles;

use describe::{banner, mdns_names, mqtt_client, server_role};

use custos_app::dhcp::DhcpMessage;
use custos_app::Direction;
use custos_app::{AppEvent, AppRecord};
use custos_decode::{Decoded, Transport};
use custos_flow::keyed_hash::KeyedMap;
use oui::OuiRegistry;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// Caps of the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InventoryConfig {
    /// Most devices tracked; later stations are counted, not kept.
    pub max_devices: usize,
    /// IP addresses kept per device.
    pub max_ips: usize,
    /// Peers kept per device.
    pub max_peers: usize,
    /// Services (offered, and used) kept per device.
    pub max_services: usize,
    /// Names, MQTT topics and similar strings kept per set.
    pub max_names: usize,
    /// A station sending from more local-scope source addresses than this is a router: later
    /// addresses are not its own, and services seen on them belong to remote hosts, listed by
    /// IP. (IPv4 addresses of global scope are never taken as a station's own unless ARP or
    /// DHCP says so.)
    pub max_own_ips: usize,
}

impl Default for InventoryConfig {
    fn default() -> Self {
        InventoryConfig {
            max_devices: 16_384,
            max_ips: 32,
            max_peers: 256,
            max_services: 64,
            max_names: 32,
            max_own_ips: 8,
        }
    }
}

/// A set that keeps at most `cap` values and counts the rest.
#[derive(Debug, Clone)]
struct Capped<T: Ord> {
    set: BTreeSet<T>,
    dropped: u64,
}

impl<T: Ord> Default for Capped<T> {
    fn default() -> Self {
        Capped {
            set: BTreeSet::new(),
            dropped: 0,
        }
    }
}

impl Capped<String> {
    /// Inserts a copy of `v` unless present (no allocation when it is).
    fn insert_str(&mut self, v: &str, cap: usize) {
        if !self.set.contains(v) {
            self.insert(v.to_string(), cap);
        }
    }
}

impl<T: Ord> Capped<T> {
    /// Inserts `v` unless present or the set is full (then counted as dropped); true when
    /// `v` is in the set afterwards.
    fn insert(&mut self, v: T, cap: usize) -> bool {
        if self.set.contains(&v) {
            return true;
        }
        if self.set.len() < cap {
            self.set.insert(v);
            true
        } else {
            self.dropped += 1;
            false
        }
    }
}

/// A service a device answers on.
#[derive(Debug, Clone, Default)]
struct Offered {
    app_proto: BTreeSet<&'static str>,
    banner: Option<String>,
    connections: u64,
    clients: Capped<IpAddr>,
    first_seen: i64,
}

/// A service a device talks to.
#[derive(Debug, Clone, Default)]
struct Used {
    app_proto: BTreeSet<&'static str>,
    connections: u64,
    events: u64,
}

/// What a device did over MQTT.
#[derive(Debug, Clone, Default)]
struct MqttActivity {
    client_ids: Capped<String>,
    usernames: Capped<String>,
    publishes: u64,
    topics: Capped<String>,
    subscriptions: Capped<String>,
}

#[derive(Debug, Clone)]
struct Device {
    mac: Option<[u8; 6]>,
    key_ip: Option<IpAddr>,
    ips: Capped<IpAddr>,
    hostnames: Capped<(String, &'static str)>,
    dhcp_fingerprint: Option<String>,
    dhcp_vendor_class: Option<String>,
    mdns_services: Capped<String>,
    offered: BTreeMap<(u8, u16), Offered>,
    offered_dropped: u64,
    used: BTreeMap<(u8, IpAddr, u16), Used>,
    used_dropped: u64,
    mqtt: Option<Box<MqttActivity>>,
    roles: BTreeSet<&'static str>,
    /// Source addresses that are not its own (it forwards for them): a router.
    foreign: Capped<IpAddr>,
    remote: bool,
    peers: Capped<IpAddr>,
    /// The last source address found in `ips` and the last peer found in `peers` (both sets
    /// only grow): most packets repeat them, and comparing one address is cheaper than
    /// searching the set.
    recent_ip: Option<IpAddr>,
    recent_peer: Option<IpAddr>,
    first_seen: i64,
    last_seen: i64,
    packets_sent: u64,
    bytes_sent: u64,
    packets_received: u64,
    bytes_received: u64,
}

impl Device {
    fn new(mac: Option<[u8; 6]>, key_ip: Option<IpAddr>, ts: i64) -> Device {
        Device {
            mac,
            key_ip,
            ips: Capped::default(),
            hostnames: Capped::default(),
            dhcp_fingerprint: None,
            dhcp_vendor_class: None,
            mdns_services: Capped::default(),
            offered: BTreeMap::new(),
            offered_dropped: 0,
            used: BTreeMap::new(),
            used_dropped: 0,
            mqtt: None,
            roles: BTreeSet::new(),
            foreign: Capped::default(),
            remote: false,
            peers: Capped::default(),
            recent_ip: None,
            recent_peer: None,
            first_seen: ts,
            last_seen: ts,
            packets_sent: 0,
            bytes_sent: 0,
            packets_received: 0,
            bytes_received: 0,
        }
    }
}

/// Formats a MAC address as `aa:bb:cc:dd:ee:ff`.
pub fn mac_string(mac: [u8; 6]) -> String {
    // As `format!("{:02x}:…")` gives, without the formatting machinery (it is asked for once
    // per application event by the findings).
    let mut out = String::with_capacity(17);
    for (i, b) in mac.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        for nibble in [b >> 4, b & 0x0f] {
            out.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    out
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut out = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut out {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(out)
}

/// `mac`, unless it is all zeros: captures converted from link types without addresses
/// (Zeek's `modbusBig.pcap`, for one) carry zero MACs, which name no station; those devices
/// are keyed by IP address, as in captures without a link layer.
fn known_mac(mac: Option<[u8; 6]>) -> Option<[u8; 6]> {
    mac.filter(|m| *m != [0; 6])
}

fn is_station(mac: [u8; 6]) -> bool {
    mac[0] & 0x01 == 0 && mac != [0; 6]
}

/// True for addresses a station on the local link uses for itself: private, shared (CGNAT),
/// benchmarking (the lab's 198.18.0.0/15), link-local, loopback; IPv6 link-local and ULA.
fn is_local_scope(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            a.is_private()
                || a.is_link_local()
                || a.is_loopback()
                || (o[0] == 100 && o[1] & 0xc0 == 64)
                || (o[0] == 198 && o[1] & 0xfe == 18)
        }
        IpAddr::V6(a) => {
            let s0 = a.segments()[0];
            a.is_loopback() || s0 & 0xffc0 == 0xfe80 || s0 & 0xfe00 == 0xfc00
        }
    }
}

fn is_host_ip(ip: IpAddr) -> bool {
    !(ip.is_unspecified() || ip.is_multicast() || ip == IpAddr::from([255, 255, 255, 255]))
}

/// The device inventory.
pub struct Inventory {
    cfg: InventoryConfig,
    oui: OuiRegistry,
    devices: Vec<Device>,
    by_mac: KeyedMap<[u8; 6], u32>,
    /// The last two MAC lookups (most packets go back and forth between the same stations).
    recent: [([u8; 6], u32); 2],
    by_ip: KeyedMap<IpAddr, u32>,
    /// Own addresses of MAC-keyed devices, for records that carry no MAC (the receiver in
    /// Linux cooked captures, for one).
    ip_owner: KeyedMap<IpAddr, u32>,
    devices_dropped: u64,
    /// Recent failed logins, for the `attacker` role.
    failures: roles::LoginFailures,
}

impl Inventory {
    /// An empty inventory naming vendors from `oui` (an empty registry names none).
    pub fn new(cfg: InventoryConfig, oui: OuiRegistry) -> Self {
        Inventory {
            cfg,
            oui,
            devices: Vec::new(),
            by_mac: KeyedMap::default(),
            recent: [([0; 6], u32::MAX); 2],
            by_ip: KeyedMap::default(),
            ip_owner: KeyedMap::default(),
            devices_dropped: 0,
            failures: roles::LoginFailures::default(),
        }
    }

    /// Number of devices.
    pub fn len(&self) -> usize {
        self.devices.len()
    }

    /// True when no device was seen.
    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    fn find_mac(&mut self, mac: [u8; 6]) -> Option<u32> {
        if let Some(&(_, i)) = self
            .recent
            .iter()
            .find(|(m, i)| *m == mac && *i != u32::MAX)
        {
            return Some(i);
        }
        let i = *self.by_mac.get(&mac)?;
        self.recent.rotate_right(1);
        if let Some(r) = self.recent.first_mut() {
            *r = (mac, i);
        }
        Some(i)
    }

    fn by_mac_or_create(&mut self, mac: [u8; 6], ts: i64) -> Option<usize> {
        if let Some(i) = self.find_mac(mac) {
            return Some(i as usize);
        }
        if self.devices.len() >= self.cfg.max_devices {
            self.devices_dropped += 1;
            return None;
        }
        let i = self.devices.len();
        self.devices.push(Device::new(Some(mac), None, ts));
        self.by_mac.insert(mac, i as u32);
        Some(i)
    }

    fn by_ip_or_create(&mut self, ip: IpAddr, ts: i64) -> Option<usize> {
        if let Some(&i) = self.by_ip.get(&ip) {
            return Some(i as usize);
        }
        if self.devices.len() >= self.cfg.max_devices {
            self.devices_dropped += 1;
            return None;
        }
        let i = self.devices.len();
        let mut dev = Device::new(None, Some(ip), ts);
        dev.ips.insert(ip, self.cfg.max_ips);
        self.devices.push(dev);
        self.by_ip.insert(ip, i as u32);
        Some(i)
    }

    /// The device behind `mac` / `ip` (created if new): a router's station for its own
    /// addresses, an IP-keyed remote host for the addresses it routes.
    fn host(&mut self, mac: Option<[u8; 6]>, ip: IpAddr, ts: i64) -> Option<usize> {
        let i = self.station(mac, Some(ip), ts)?;
        let dev = self.devices.get(i)?;
        let routed_here = dev.foreign.set.contains(&ip)
            || (dev.foreign.dropped > 0 && !is_local_scope(ip))
            || (ip.is_ipv4() && !is_local_scope(ip));
        if dev.mac.is_some() && !dev.ips.set.contains(&ip) && routed_here && is_host_ip(ip) {
            let r = self.by_ip_or_create(ip, ts)?;
            if let Some(d) = self.devices.get_mut(r) {
                d.remote = true;
            }
            return Some(r);
        }
        Some(i)
    }

    /// The station that sent from `mac` / `ip` (created if new); an all-zero MAC counts as
    /// none.
    fn station(&mut self, mac: Option<[u8; 6]>, ip: Option<IpAddr>, ts: i64) -> Option<usize> {
        match (known_mac(mac), ip) {
            (Some(m), _) if is_station(m) => self.by_mac_or_create(m, ts),
            (Some(_), _) => None,
            (None, Some(ip)) if is_host_ip(ip) => match self.ip_owner.get(&ip) {
                Some(&i) => Some(i as usize),
                None => self.by_ip_or_create(ip, ts),
            },
            (None, _) => None,
        }
    }

    /// Accounts one packet of `wire_len` bytes.
    pub fn packet(&mut self, ts: i64, wire_len: u32, d: &Decoded<'_>) {
        let outer = d.ip_layers().next();
        let (src_ip, dst_ip) = (outer.map(|l| l.src), outer.map(|l| l.dst));
        let src_ip = src_ip.or_else(|| d.arp.as_ref().map(|a| IpAddr::from(a.sender_ip)));
        let cap = self.cfg;
        let (src_mac, dst_mac) = (
            known_mac(d.src_mac.map(|m| m.0)),
            known_mac(d.dst_mac.map(|m| m.0)),
        );
        let linkless = src_mac.is_none();
        let Some(si) = self.station(src_mac, src_ip, ts) else {
            return;
        };
        let bytes = u64::from(wire_len);
        let mut own_src = true;
        if let Some(dev) = self.devices.get_mut(si) {
            dev.last_seen = ts;
            dev.packets_sent += 1;
            dev.bytes_sent += bytes;
            if let Some(ip) = src_ip.filter(|ip| is_host_ip(*ip)) {
                // Its own: announced by ARP, learned from DHCP, or a local-scope address while
                // it has used few; an IPv4 address of global scope is a routed host's, and so
                // is every further address of a station that already sent from many.
                let known = dev.recent_ip == Some(ip) || dev.ips.set.contains(&ip);
                let learned = known
                    || d.arp.is_some()
                    || dev.key_ip == Some(ip)
                    || self.ip_owner.get(&ip) == Some(&(si as u32));
                let plausible = (ip.is_ipv6() || is_local_scope(ip))
                    && dev.ips.set.len() < cap.max_own_ips.min(cap.max_ips);
                if known {
                    // The common case: nothing to learn.
                    dev.recent_ip = Some(ip);
                } else if learned || plausible {
                    if dev.ips.insert(ip, cap.max_ips) && dev.mac.is_some() {
                        self.ip_owner.insert(ip, si as u32);
                    }
                } else {
                    dev.foreign.insert(ip, cap.max_peers);
                    own_src = false;
                }
            }
            if let Some(ip) = dst_ip.filter(|ip| is_host_ip(*ip)) {
                if dev.recent_peer != Some(ip) && dev.peers.insert(ip, cap.max_peers) {
                    dev.recent_peer = Some(ip);
                }
            }
        }
        let di = match (dst_mac, dst_ip) {
            (Some(m), _) => self.find_mac(m),
            (None, Some(ip)) if linkless => self.by_ip.get(&ip).copied(),
            // A source MAC but no destination MAC (Linux cooked capture): by address.
            (None, Some(ip)) => self.ip_owner.get(&ip).copied(),
            _ => None,
        };
        if let Some(dev) = di.and_then(|i| self.devices.get_mut(i as usize)) {
            dev.last_seen = ts;
            dev.packets_received += 1;
            dev.bytes_received += bytes;
        }
        // TCP handshakes tell who serves and who uses which port, whatever the protocol.
        let Some(l) = outer else { return };
        if let Transport::Tcp {
            src_port,
            dst_port,
            flags,
            ..
        } = l.transport
        {
            let syn_ack = flags & 0x12 == 0x12;
            let syn = flags & 0x12 == 0x02;
            if let Some(dev) = self.devices.get_mut(si).filter(|_| own_src) {
                if syn_ack {
                    if let Some(o) = offered(dev, 6, src_port, ts, cap.max_services) {
                        o.connections += 1;
                        o.clients.insert(l.dst, cap.max_peers);
                    }
                } else if syn {
                    if let Some(u) = used(dev, 6, l.dst, dst_port, cap.max_services) {
                        u.connections += 1;
                    }
                }
            }
        }
    }

    /// Learns from one application event.
    pub fn event(&mut self, e: &AppEvent) {
        self.behaviour_role(e);
        if e.proto.is_behaviour() {
            // A scan or flood names no service.
            return;
        }
        let cap = self.cfg;
        // A DHCP server names its own address (option 54): learn it before attributing.
        if let AppRecord::Dhcp(m) = &e.record {
            let (sender_mac, sender_ip) = match e.direction {
                Direction::ToServer => (e.macs[0], e.client.0),
                Direction::ToClient => (e.macs[1], e.server.0),
            };
            if m.op == 2 && m.server_id.map(IpAddr::V4) == Some(sender_ip) {
                if let Some(i) = sender_mac
                    .filter(|m| is_station(*m))
                    .and_then(|m| self.by_mac_or_create(m, e.ts))
                {
                    if let Some(dev) = self.devices.get_mut(i) {
                        if dev.ips.insert(sender_ip, cap.max_ips) {
                            self.ip_owner.insert(sender_ip, i as u32);
                        }
                    }
                }
            }
        }
        let client = self.host(e.macs[0], e.client.0, e.ts);
        let server = self.host(e.macs[1], e.server.0, e.ts);
        let proto = e.proto.name();
        let sender = match e.direction {
            Direction::ToServer => client,
            Direction::ToClient => server,
        };
        if let Some(dev) = server.and_then(|i| self.devices.get_mut(i)) {
            if let Some(o) = offered(dev, e.transport, e.server.1, e.ts, cap.max_services) {
                o.app_proto.insert(proto);
                if e.transport == 17 && o.clients.set.len() < cap.max_peers {
                    o.clients.insert(e.client.0, cap.max_peers);
                }
                if o.banner.is_none() {
                    o.banner = banner(&e.record, e.direction);
                }
            }
            if let Some(role) = server_role(e) {
                dev.roles.insert(role);
            }
        }
        if let Some(dev) = client.and_then(|i| self.devices.get_mut(i)) {
            if let Some(u) = used(dev, e.transport, e.server.0, e.server.1, cap.max_services) {
                u.app_proto.insert(proto);
                u.events += 1;
            }
        }
        match &e.record {
            AppRecord::Mqtt(m) if e.direction == Direction::ToServer => {
                if let Some(dev) = client.and_then(|i| self.devices.get_mut(i)) {
                    mqtt_client(dev, &m.message, cap.max_names);
                }
            }
            AppRecord::Dhcp(m) => self.dhcp(m, e.ts),
            AppRecord::Dns(m) if m.response && e.proto.name() == "mdns" => {
                if let Some(dev) = sender.and_then(|i| self.devices.get_mut(i)) {
                    mdns_names(dev, m, cap.max_names);
                }
            }
            _ => {}
        }
    }

    fn dhcp(&mut self, m: &DhcpMessage, ts: i64) {
        let cap = self.cfg;
        let Some(mac) = parse_mac(&m.client_mac).filter(|m| is_station(*m)) else {
            return;
        };
        let Some(i) = self.by_mac_or_create(mac, ts) else {
            return;
        };
        let Some(dev) = self.devices.get_mut(i) else {
            return;
        };
        if let Some(h) = m.hostname.as_ref().filter(|h| !h.is_empty()) {
            dev.hostnames.insert((h.clone(), "dhcp"), cap.max_names);
        }
        if let Some(h) = m.client_fqdn.as_ref().filter(|h| !h.is_empty()) {
            dev.hostnames
                .insert((h.clone(), "dhcp_fqdn"), cap.max_names);
        }
        if m.op == 1 {
            if m.fingerprint.is_some() {
                dev.dhcp_fingerprint.clone_from(&m.fingerprint);
            }
            if m.vendor_class.is_some() {
                dev.dhcp_vendor_class.clone_from(&m.vendor_class);
            }
        } else if m.message_type == Some(5) && !m.yiaddr.is_unspecified() {
            let ip = IpAddr::V4(m.yiaddr);
            if dev.ips.insert(ip, cap.max_ips) {
                self.ip_owner.insert(ip, i as u32);
            }
        }
    }
}

fn offered(dev: &mut Device, t: u8, port: u16, ts: i64, cap: usize) -> Option<&mut Offered> {
    if !dev.offered.contains_key(&(t, port)) {
        if dev.offered.len() >= cap {
            dev.offered_dropped += 1;
            return None;
        }
        dev.offered.insert(
            (t, port),
            Offered {
                first_seen: ts,
                ..Offered::default()
            },
        );
    }
    dev.offered.get_mut(&(t, port))
}

fn used(dev: &mut Device, t: u8, ip: IpAddr, port: u16, cap: usize) -> Option<&mut Used> {
    let key = (t, ip, port);
    if !dev.used.contains_key(&key) {
        if dev.used.len() >= cap {
            dev.used_dropped += 1;
            return None;
        }
        dev.used.insert(key, Used::default());
    }
    dev.used.get_mut(&key)
}

#[cfg(test)]
mod test {
    #[test]
    fn mac_string_is_the_formatted_text() {
        for mac in [[0u8; 6], [0xff; 6], [0x02, 0x4a, 0xb0, 0x0c, 0xde, 0x19]] {
            let want = format!(
                "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
                mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]
            );
            assert_eq!(super::mac_string(mac), want);
            assert_eq!(super::parse_mac(&want), Some(mac));
        }
    }
}
