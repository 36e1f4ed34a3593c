//! The rules and the IoT security baseline provisions each one breaks.
//!
//! ETSI EN 303 645 V2.1.1 (2020-06) provision ids and ENISA "Baseline Security
//! Recommendations for IoT" (November 2017) technical measures (GP-TM-nn); MITRE ATT&CK
//! technique ids (Enterprise v16, and ICS for Modbus) where the finding is an adversary's
//! technique. The texts in `docs/app.md` summarise each provision; change the mapping here,
//! in one table.

use serde::Serialize;

/// How urgent a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Exposure worth fixing.
    Low,
    /// A weakness an attacker can use.
    Medium,
    /// Credentials or updates exposed, an attack under way.
    High,
    /// An attacker got in, or changed a process.
    Critical,
}

/// One rule of the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Stable identifier, used in `findings.jsonl`.
    pub id: &'static str,
    /// One line for people.
    pub title: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// ETSI EN 303 645 provisions.
    pub etsi: &'static [&'static str],
    /// ENISA baseline technical measures.
    pub enisa: &'static [&'static str],
    /// MITRE ATT&CK techniques (`T1046`, sub-techniques as `T1110.001`).
    pub attack: &'static [&'static str],
}

/// Credentials sent where anyone on the path can read them.
pub const CLEARTEXT_CREDENTIALS: Rule = Rule {
    id: "cleartext-credentials",
    title: "Credentials sent in cleartext",
    severity: Severity::High,
    etsi: &["5.1-3", "5.5-1", "5.5-7"],
    enisa: &["GP-TM-39", "GP-TM-40"],
    attack: &[],
};

/// A login that succeeded with a publicly known default credential.
pub const DEFAULT_CREDENTIAL_LOGIN: Rule = Rule {
    id: "default-credential-login",
    title: "Successful login with a publicly known default credential",
    severity: Severity::Critical,
    etsi: &["5.1-1", "5.1-2"],
    enisa: &["GP-TM-21", "GP-TM-22"],
    attack: &["T1078.001"],
};

/// Many failed logins in a short window, not slowed down by the device.
pub const BRUTE_FORCE: Rule = Rule {
    id: "brute-force",
    title: "Repeated failed logins without throttling",
    severity: Severity::High,
    etsi: &["5.1-5"],
    enisa: &["GP-TM-25"],
    attack: &["T1110.001"],
};

/// TLS below 1.2 or a weak cipher suite negotiated.
pub const WEAK_TLS: Rule = Rule {
    id: "weak-tls",
    title: "TLS below 1.2 or a weak cipher suite",
    severity: Severity::Medium,
    etsi: &["5.5-1"],
    enisa: &["GP-TM-38", "GP-TM-39"],
    attack: &[],
};

/// A firmware or update download over HTTP or TFTP.
pub const INSECURE_UPDATE: Rule = Rule {
    id: "insecure-update",
    title: "Firmware or update fetched without transport security",
    severity: Severity::High,
    etsi: &["5.3-7", "5.3-10"],
    enisa: &["GP-TM-18"],
    attack: &[],
};

/// A device announcing or answering SSDP/UPnP discovery.
pub const UPNP_EXPOSED: Rule = Rule {
    id: "upnp-exposed",
    title: "SSDP/UPnP discovery answered",
    severity: Severity::Low,
    etsi: &["5.6-1", "5.6-2"],
    enisa: &["GP-TM-50"],
    attack: &[],
};

/// An MQTT broker accepting a connection without credentials.
pub const MQTT_ANONYMOUS: Rule = Rule {
    id: "mqtt-anonymous",
    title: "MQTT broker accepts connections without credentials",
    severity: Severity::Medium,
    etsi: &["5.5-4"],
    enisa: &["GP-TM-21"],
    attack: &[],
};

/// A Modbus write from a host that did not write during the learning window.
pub const MODBUS_NEW_WRITER: Rule = Rule {
    id: "modbus-new-writer",
    title: "Modbus write from a host not seen writing during learning",
    severity: Severity::Critical,
    etsi: &["5.5-5"],
    enisa: &["GP-TM-42"],
    attack: &["T0855"],
};

/// A telnet service answering with a login prompt.
pub const TELNET_EXPOSED: Rule = Rule {
    id: "telnet-exposed",
    title: "Telnet login service exposed",
    severity: Severity::Medium,
    etsi: &["5.5-1", "5.6-1"],
    enisa: &["GP-TM-39", "GP-TM-50"],
    attack: &[],
};

/// A source probing many ports of one host, or one port of many hosts (the application
/// tracker's behaviour watch).
pub const NETWORK_SERVICE_DISCOVERY: Rule = Rule {
    id: "network-service-discovery",
    title: "Network service discovery: port scan or host sweep",
    severity: Severity::Medium,
    etsi: &[],
    enisa: &[],
    attack: &["T1046"],
};

/// Many SYNs from one source to one service whose handshakes never complete.
pub const SYN_FLOOD: Rule = Rule {
    id: "syn-flood",
    title: "SYN flood: connections left half-open",
    severity: Severity::High,
    etsi: &[],
    enisa: &[],
    attack: &["T1499.001"],
};

/// Many UDP datagrams from one source to one service.
pub const UDP_FLOOD: Rule = Rule {
    id: "udp-flood",
    title: "UDP flood",
    severity: Severity::High,
    etsi: &[],
    enisa: &[],
    attack: &["T1498.001"],
};

/// A file fetched (and run) through a shell opened by a remote login.
pub const DOWNLOAD_AND_EXECUTE: Rule = Rule {
    id: "download-and-execute",
    title: "Download through a remote login shell (dropper)",
    severity: Severity::High,
    etsi: &[],
    enisa: &[],
    attack: &["T1105", "T1059.004"],
};

/// Every rule, for documentation and configuration checks.
pub const RULES: [Rule; 13] = [
    CLEARTEXT_CREDENTIALS,
    DEFAULT_CREDENTIAL_LOGIN,
    BRUTE_FORCE,
    WEAK_TLS,
    INSECURE_UPDATE,
    UPNP_EXPOSED,
    MQTT_ANONYMOUS,
    MODBUS_NEW_WRITER,
    TELNET_EXPOSED,
    NETWORK_SERVICE_DISCOVERY,
    SYN_FLOOD,
    UDP_FLOOD,
    DOWNLOAD_AND_EXECUTE,
];
