//! `devices.json`: the inventory as JSON.

use super::{mac_string, Device, Inventory};
use serde_json::{json, Value};

impl Inventory {
    /// The inventory as JSON: devices sorted by MAC (then IP-only devices by address), times
    /// formatted with `time`.
    pub fn to_json(&self, time: &dyn Fn(i64) -> String) -> Value {
        let mut order: Vec<&Device> = self.devices.iter().collect();
        order.sort_by_key(|d| (d.mac.is_none(), d.mac, d.key_ip));
        let devices: Vec<Value> = order
            .into_iter()
            .map(|d| self.device_json(d, time))
            .collect();
        json!({
            "devices": devices,
            "devices_not_tracked": self.devices_dropped,
            "oui_registry": self.oui.sources().iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        })
    }

    fn device_json(&self, d: &Device, time: &dyn Fn(i64) -> String) -> Value {
        let offered: Vec<Value> = d
            .offered
            .iter()
            .map(|((t, port), o)| {
                json!({
                    "transport": if *t == 6 { "tcp" } else { "udp" },
                    "port": port,
                    "app_proto": o.app_proto,
                    "banner": o.banner,
                    "connections": o.connections,
                    "clients": o.clients.set,
                    "first_seen": time(o.first_seen),
                })
            })
            .collect();
        let used: Vec<Value> = d
            .used
            .iter()
            .map(|((t, ip, port), u)| {
                json!({
                    "transport": if *t == 6 { "tcp" } else { "udp" },
                    "server": ip,
                    "port": port,
                    "app_proto": u.app_proto,
                    "connections": u.connections,
                    "events": u.events,
                })
            })
            .collect();
        let mqtt = d.mqtt.as_ref().map(|m| {
            json!({
                "client_ids": m.client_ids.set,
                "usernames": m.usernames.set,
                "publishes": m.publishes,
                "topics": m.topics.set,
                "topics_not_listed": m.topics.dropped,
                "subscriptions": m.subscriptions.set,
            })
        });
        json!({
            "id": match (d.mac, d.key_ip) {
                (Some(m), _) => mac_string(m),
                (None, Some(ip)) => ip.to_string(),
                (None, None) => String::new(),
            },
            "mac": d.mac.map(mac_string),
            "vendor": d.mac.and_then(|m| self.oui.vendor(m)),
            "locally_administered": d.mac.map(|m| m[0] & 0x02 != 0),
            "ips": d.ips.set,
            "ips_not_listed": d.ips.dropped,
            "hostnames": d.hostnames.set.iter().map(|(n, s)| json!({"name": n, "source": s})).collect::<Vec<_>>(),
            "dhcp": {"fingerprint": d.dhcp_fingerprint, "vendor_class": d.dhcp_vendor_class},
            "mdns_services": d.mdns_services.set,
            "roles": d.roles,
            "router": d.foreign.dropped > 0 || d.foreign.set.iter().any(|ip| !d.ips.set.contains(ip)),
            "remote": d.remote,
            "services_offered": offered,
            "services_offered_not_listed": d.offered_dropped,
            "services_used": used,
            "services_used_not_listed": d.used_dropped,
            "mqtt": mqtt,
            "peers": d.peers.set,
            "peers_not_listed": d.peers.dropped,
            "first_seen": time(d.first_seen),
            "last_seen": time(d.last_seen),
            "packets_sent": d.packets_sent,
            "bytes_sent": d.bytes_sent,
            "packets_received": d.packets_received,
            "bytes_received": d.bytes_received,
        })
    }
}
