//! The programs the lab runs, the Debian packages that provide them, and which ones a
//! scenario needs.

use crate::attack::Attack;
use crate::scenario::{Behaviour, Scenario};
use crate::sys;

/// A program the lab may run and the Debian package that provides it.
#[derive(Clone, Copy, Debug)]
pub struct Tool {
    /// Program name.
    pub program: &'static str,
    /// Debian package.
    pub package: &'static str,
    /// What the lab uses it for.
    pub purpose: &'static str,
}

/// Every tool the lab can use.
pub const TOOLS: &[Tool] = &[
    Tool {
        program: "ip",
        package: "iproute2",
        purpose: "namespaces, bridge, veth pairs",
    },
    Tool {
        program: "sysctl",
        package: "procps",
        purpose: "per-namespace settings",
    },
    Tool {
        program: "ethtool",
        package: "ethtool",
        purpose: "turn off offloads so frames are wire-sized",
    },
    Tool {
        program: "mosquitto",
        package: "mosquitto",
        purpose: "MQTT broker",
    },
    Tool {
        program: "mosquitto_sub",
        package: "mosquitto-clients",
        purpose: "MQTT topic enumeration",
    },
    Tool {
        program: "mosquitto_pub",
        package: "mosquitto-clients",
        purpose: "MQTT publish flood",
    },
    Tool {
        program: "coap-server-notls",
        package: "libcoap3-bin",
        purpose: "CoAP server",
    },
    Tool {
        program: "lighttpd",
        package: "lighttpd",
        purpose: "web server with status and admin pages",
    },
    Tool {
        program: "dnsmasq",
        package: "dnsmasq-base",
        purpose: "DHCP and DNS",
    },
    Tool {
        program: "busybox",
        package: "busybox",
        purpose: "udhcpc DHCP client",
    },
    Tool {
        program: "mbpoll",
        package: "mbpoll",
        purpose: "Modbus/TCP writes (modbus-write)",
    },
    Tool {
        program: "coap-client-notls",
        package: "libcoap3-bin",
        purpose: "CoAP resource discovery (coap-discover)",
    },
    Tool {
        program: "mosquitto_passwd",
        package: "mosquitto",
        purpose: "the broker's password file (gateway.mqtt_credential)",
    },
    Tool {
        program: "nmap",
        package: "nmap",
        purpose: "SYN and service scans",
    },
    Tool {
        program: "hping3",
        package: "hping3",
        purpose: "SYN and UDP floods",
    },
    Tool {
        program: "hydra",
        package: "hydra",
        purpose: "telnet brute force",
    },
    Tool {
        program: "arpspoof",
        package: "dsniff",
        purpose: "ARP spoofing",
    },
    Tool {
        program: "slowhttptest",
        package: "slowhttptest",
        purpose: "slowloris",
    },
];

/// The `apt-get install` line for `tools`.
pub fn apt_line(tools: &[&Tool]) -> String {
    let mut pkgs: Vec<&str> = tools.iter().map(|t| t.package).collect();
    pkgs.sort_unstable();
    pkgs.dedup();
    format!(
        "apt-get install -y --no-install-recommends {}",
        pkgs.join(" ")
    )
}

/// The tools `s` needs.
pub fn tools_needed(s: &Scenario) -> Vec<&'static Tool> {
    let mut need = vec!["ip", "sysctl", "ethtool"];
    let gw = &s.gateway;
    for (on, p) in [
        (gw.mqtt, "mosquitto"),
        (gw.coap, "coap-server-notls"),
        (gw.http, "lighttpd"),
        (gw.dhcp_dns, "dnsmasq"),
        (gw.mqtt && gw.mqtt_credential.is_some(), "mosquitto_passwd"),
    ] {
        if on {
            need.push(p);
        }
    }
    // busybox's udhcpc and tftp applets.
    let uses_busybox = |b: &Behaviour| b.dhcp.is_some() || b.tftp.is_some();
    let dhcp = s.devices.iter().any(|g| uses_busybox(&g.behaviour))
        || s.attacker
            .as_ref()
            .is_some_and(|a| uses_busybox(&a.behaviour));
    if dhcp {
        need.push("busybox");
    }
    for p in &s.phases {
        if let Some(a) = &p.attack {
            need.extend(match a {
                Attack::NmapSyn { .. } | Attack::NmapService { .. } => &["nmap"][..],
                Attack::HpingSyn { .. } | Attack::HpingUdp { .. } => &["hping3"],
                Attack::HydraTelnet { .. } => &["hydra"],
                Attack::Arpspoof { .. } => &["arpspoof"],
                Attack::MqttEnum { .. } => &["mosquitto_sub"],
                Attack::MqttFlood { .. } => &["mosquitto_pub"],
                Attack::Slowloris { .. } => &["slowhttptest"],
                Attack::NmapRandom { .. } => &["nmap"],
                Attack::MqttLogin { .. } => &["mosquitto_pub"],
                Attack::ModbusWrite { .. } => &["mbpoll"],
                Attack::CoapDiscover { .. } => &["coap-client-notls"],
                Attack::TelnetInfect { .. }
                | Attack::TelnetBrute { .. }
                | Attack::SsdpSearch { .. } => &[],
            });
        }
    }
    TOOLS.iter().filter(|t| need.contains(&t.program)).collect()
}

/// The tools in `tools` that are not installed.
pub fn missing(tools: &[&'static Tool]) -> Vec<&'static Tool> {
    tools
        .iter()
        .copied()
        .filter(|t| sys::which(t.program).is_none())
        .collect()
}
