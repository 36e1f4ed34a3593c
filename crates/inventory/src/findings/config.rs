//! The settings of the findings (`[app.findings]`): rule thresholds and windows, caps, and
//! the scan and flood thresholds of the application tracker's behaviour watch
//! ([`FindingsConfig::behaviour`]).

use custos_app::BehaviourConfig;

/// Thresholds and windows of the rules.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FindingsConfig {
    /// Failed logins from one client to one service within the window that make a brute force.
    pub brute_force_failures: usize,
    /// The brute-force window, seconds of packet time.
    pub brute_force_window_s: u64,
    /// Modbus learning window, seconds of packet time from the first Modbus record.
    pub modbus_learning_s: u64,
    /// What marks a firmware or update download in a URI path or file name (lower-case): a
    /// file extension when it starts with `.`, else a substring.
    pub firmware_patterns: Vec<String>,
    /// Packets kept as evidence per finding (the count is always complete).
    pub max_evidence: usize,
    /// Findings kept (later ones are counted).
    pub max_findings: usize,
    /// Port scan: distinct destination ports of one host, from one source, within
    /// `scan_window_s` (at most 1024 honoured).
    pub scan_ports: usize,
    /// Host sweep: distinct hosts that did not answer on one destination port, from one
    /// source, within `scan_window_s` (at most 1024 honoured).
    pub scan_hosts: usize,
    /// The scan window, seconds of packet time.
    pub scan_window_s: u64,
    /// SYN flood: SYNs to one host and port from one source, less the handshakes completed,
    /// within `flood_window_s`.
    pub syn_flood_syns: u64,
    /// UDP flood: datagrams to one host and port from one source within `flood_window_s`.
    pub udp_flood_datagrams: u64,
    /// The flood window, seconds of packet time.
    pub flood_window_s: u64,
    /// Entries per table of the scan and flood watch (source–host, source–port,
    /// source–service); when full, the least recently active eighth is dropped.
    pub behaviour_max_tracked: usize,
}

impl Default for FindingsConfig {
    fn default() -> Self {
        let b = BehaviourConfig::default();
        FindingsConfig {
            brute_force_failures: 5,
            brute_force_window_s: 60,
            modbus_learning_s: 300,
            firmware_patterns: [
                "firmware", "/fw/", "/ota", "update", "upgrade", ".bin", ".img", ".trx", ".chk",
                ".fw", ".hex", ".swu", ".uf2", ".ipk",
            ]
            .iter()
            .map(|s| (*s).to_string())
            .collect(),
            max_evidence: 64,
            max_findings: 10_000,
            scan_ports: b.scan_ports,
            scan_hosts: b.scan_hosts,
            scan_window_s: b.scan_window_s,
            syn_flood_syns: b.syn_flood_syns,
            udp_flood_datagrams: b.udp_flood_datagrams,
            flood_window_s: b.flood_window_s,
            behaviour_max_tracked: b.max_tracked,
        }
    }
}

impl FindingsConfig {
    /// The scan and flood settings, for the application tracker
    /// ([`custos_app::AppConfig::behaviour`]), which detects scans and floods where it sees
    /// every packet; the findings report what it detected.
    pub fn behaviour(&self) -> BehaviourConfig {
        BehaviourConfig {
            scan_ports: self.scan_ports,
            scan_hosts: self.scan_hosts,
            scan_window_s: self.scan_window_s,
            syn_flood_syns: self.syn_flood_syns,
            udp_flood_datagrams: self.udp_flood_datagrams,
            flood_window_s: self.flood_window_s,
            max_tracked: self.behaviour_max_tracked,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_and_flood_keys_reach_the_behaviour_settings() {
        let c: FindingsConfig = serde_json::from_str(
            r#"{"scan_ports": 25, "scan_hosts": 5, "scan_window_s": 300, "syn_flood_syns": 1000,
                "udp_flood_datagrams": 7, "flood_window_s": 1, "behaviour_max_tracked": 99}"#,
        )
        .unwrap();
        assert_eq!(
            c.behaviour(),
            BehaviourConfig {
                scan_ports: 25,
                scan_hosts: 5,
                scan_window_s: 300,
                syn_flood_syns: 1000,
                udp_flood_datagrams: 7,
                flood_window_s: 1,
                max_tracked: 99,
            }
        );
        assert_eq!(
            FindingsConfig::default().behaviour(),
            BehaviourConfig::default()
        );
        assert!(serde_json::from_str::<FindingsConfig>(r#"{"scan_port": 1}"#).is_err());
    }
}
