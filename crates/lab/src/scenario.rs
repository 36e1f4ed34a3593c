//! Scenario files: the TOML a lab run is built from, its validation, and the built-in scenarios.
//!
//! A scenario names a seed, the gateway's services, groups of devices with their behaviours, an
//! optional attacker (an "infected" device with its own benign chatter) and a list of phases,
//! each either benign (a fixed duration) or an attack (one bounded tool run). See `docs/lab.md`
//! for the full schema; [`Scenario::validate`] enforces every bound the lab relies on for safety.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::error::LabError;

use crate::attack::check_attack;
pub use crate::attack::{Attack, Target};

/// Most devices a scenario may create (all groups together).
pub const MAX_DEVICES: u32 = 40;
/// Longest phase, in seconds.
pub const MAX_PHASE_SECONDS: f64 = 3600.0;
/// Most packets any one attack may be asked to send (`count` parameters).
pub const MAX_ATTACK_PACKETS: u32 = 200_000;
/// Fastest device behaviour: one event per this many milliseconds.
pub const MIN_INTERVAL_MS: u64 = 50;

/// A whole scenario.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Short name (`[a-z0-9-]`), used in the manifest.
    pub name: String,
    /// One line saying what the scenario shows.
    #[serde(default)]
    pub description: String,
    /// Seed for every random choice the lab makes (jitter, payload bytes).
    #[serde(default)]
    pub seed: u64,
    /// Seconds between the devices starting and the first phase (ARP, DHCP, connections).
    #[serde(default = "default_warmup")]
    pub warmup_s: f64,
    /// Services on the gateway.
    #[serde(default)]
    pub gateway: Gateway,
    /// Device groups, in address order.
    #[serde(default)]
    pub devices: Vec<DeviceGroup>,
    /// The attacker, if any: one device that also runs the attack tools.
    #[serde(default)]
    pub attacker: Option<Attacker>,
    /// Phases, run in order.
    pub phases: Vec<Phase>,
}

fn default_warmup() -> f64 {
    3.0
}

/// The gateway's services (all on by default).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Gateway {
    /// mosquitto on TCP 1883, anonymous access allowed.
    pub mqtt: bool,
    /// libcoap's example server on UDP 5683.
    pub coap: bool,
    /// lighttpd on TCP 80: `/`, `/status`, `/server-status`, `/firmware/latest.json`,
    /// `/admin/` (Basic auth).
    pub http: bool,
    /// dnsmasq: DHCP for the devices and DNS for `*.iot.lab`.
    pub dhcp_dns: bool,
    /// The fake telnet login on TCP 23.
    pub telnet: bool,
    /// The one credential the fake telnet login accepts (`user`, `password`).
    pub telnet_credential: (String, String),
    /// Milliseconds the fake telnet login waits before "Login incorrect" (BusyBox's `login`
    /// waits 3 s; 0..=10 000).
    pub telnet_fail_delay_ms: u32,
    /// The Basic-auth credential of `/admin/`.
    pub http_credential: (String, String),
    /// A Modbus/TCP server on TCP 502 (unit 1, 1000 coils and 1000 holding registers): the
    /// gateway doubles as a PLC.
    pub modbus: bool,
    /// dnsmasq's TFTP server, read-only, serving the web root (`firmware/iot-gw-2.4.1.bin`);
    /// runs when `dhcp_dns` and `http` are on too.
    pub tftp: bool,
    /// When set, mosquitto checks this one login (`user`, `password`) for clients that give a
    /// user name and refuses the others; clients without one stay anonymous and allowed.
    pub mqtt_credential: Option<(String, String)>,
}

impl Default for Gateway {
    fn default() -> Self {
        Gateway {
            mqtt: true,
            coap: true,
            http: true,
            dhcp_dns: true,
            telnet: true,
            telnet_credential: ("root".into(), "xc3511".into()),
            telnet_fail_delay_ms: 300,
            http_credential: ("admin".into(), "admin".into()),
            modbus: true,
            tftp: true,
            mqtt_credential: None,
        }
    }
}

/// A periodic behaviour: every `interval_ms`, plus or minus up to `jitter_ms` (uniform, seeded).
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Every {
    /// Mean interval in milliseconds.
    pub interval_ms: u64,
    /// Largest deviation from the interval in milliseconds.
    #[serde(default)]
    pub jitter_ms: u64,
}

/// What a device does. Every behaviour is optional.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Behaviour {
    /// MQTT telemetry: one QoS 0 PUBLISH to `sensors/<device>/<metric>` on a kept-open connection.
    #[serde(default)]
    pub mqtt: Option<MqttTelemetry>,
    /// CoAP confirmable GET of `/time` (libcoap's example resource).
    #[serde(default)]
    pub coap: Option<Every>,
    /// HTTP GET `/status` on a new connection.
    #[serde(default)]
    pub http: Option<Every>,
    /// DNS A queries to the gateway for `names` in turn.
    #[serde(default)]
    pub dns: Option<DnsLookups>,
    /// DHCP: a full DISCOVER/OFFER/REQUEST/ACK by busybox udhcpc at start and then periodically.
    #[serde(default)]
    pub dhcp: Option<Every>,
    /// Firmware check: DNS lookup of `firmware.iot.lab`, then HTTP GET `/firmware/latest.json`.
    #[serde(default)]
    pub firmware: Option<Every>,
    /// Firmware download: HTTP GET of the image `/firmware/iot-gw-2.4.1.bin` (cleartext, as
    /// the manifest points to).
    #[serde(default)]
    pub firmware_download: Option<Every>,
    /// Firmware over TFTP: busybox `tftp -g` of `firmware/iot-gw-2.4.1.bin` from the gateway.
    #[serde(default)]
    pub tftp: Option<Every>,
    /// Modbus polling as an HMI does: read holding registers 1–10 of the gateway (function 3).
    #[serde(default)]
    pub modbus: Option<Every>,
    /// An administrator's telnet sessions to the gateway: log in with the gateway's
    /// credential, run `uptime` and `cat /proc/loadavg`, exit.
    #[serde(default)]
    pub telnet: Option<TelnetAdmin>,
    /// A UPnP device: answers SSDP `M-SEARCH` on UDP 1900 (one response per advertised
    /// target; four for `ssdp:all`).
    #[serde(default)]
    pub ssdp: bool,
}

/// MQTT telemetry parameters.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct MqttTelemetry {
    /// Interval and jitter.
    #[serde(flatten)]
    pub every: Every,
    /// Metric name in the topic.
    #[serde(default = "default_metric")]
    pub metric: String,
    /// Payload size in bytes (a JSON object padded to this size).
    #[serde(default = "default_payload")]
    pub payload_bytes: u32,
    /// A new connection per reading (CONNECT, PUBLISH, DISCONNECT), as sensors that sleep
    /// between readings do; otherwise one connection kept open.
    #[serde(default)]
    pub reconnect: bool,
}

fn default_metric() -> String {
    "temperature".into()
}
fn default_payload() -> u32 {
    48
}

/// Telnet administration parameters.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TelnetAdmin {
    /// Interval and jitter.
    #[serde(flatten)]
    pub every: Every,
    /// One session in this many starts with a mistyped password (refused; the right one
    /// follows on a new connection); 0: never.
    #[serde(default)]
    pub typo_one_in: u32,
}

/// DNS lookup parameters.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DnsLookups {
    /// Interval and jitter.
    #[serde(flatten)]
    pub every: Every,
    /// Names asked for, in turn.
    #[serde(default = "default_names")]
    pub names: Vec<String>,
}

fn default_names() -> Vec<String> {
    vec!["gateway.iot.lab".into(), "time.iot.lab".into()]
}

/// A group of identical devices named `<name>-1` … `<name>-<count>`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DeviceGroup {
    /// Group name (`[a-z0-9-]`, at most 12 characters).
    pub name: String,
    /// How many devices.
    #[serde(default = "one")]
    pub count: u32,
    /// What each does.
    #[serde(flatten)]
    pub behaviour: Behaviour,
}

fn one() -> u32 {
    1
}

/// The attacker: a device (benign behaviour optional) that runs the attack tools.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Attacker {
    /// Node name (`[a-z0-9-]`, at most 12 characters).
    pub name: String,
    /// Its benign chatter, running for the whole scenario.
    #[serde(flatten)]
    pub behaviour: Behaviour,
}

/// One phase of a scenario.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Phase {
    /// Phase name (unique in the scenario; `startup` and `teardown` are reserved).
    pub name: String,
    /// Benign phases last exactly this long; attack phases at most this long (the tool is
    /// stopped at this limit).
    pub duration_s: f64,
    /// Attack phases only: seconds after the tool exits that still belong to the phase, so
    /// replies in flight are labelled with it (default 1).
    #[serde(default = "default_drain")]
    pub drain_s: f64,
    /// The attack; none for a benign phase.
    #[serde(default)]
    pub attack: Option<Attack>,
}

fn default_drain() -> f64 {
    1.0
}

/// A built-in scenario.
#[derive(Clone, Copy, Debug)]
pub struct BuiltIn {
    /// Its name (`custos lab run --scenario NAME`).
    pub name: &'static str,
    /// Its TOML text.
    pub toml: &'static str,
}

/// The built-in scenarios, embedded from `crates/lab/scenarios/`.
pub const BUILT_INS: &[BuiltIn] = &[
    BuiltIn {
        name: "smoke",
        toml: include_str!("../scenarios/smoke.toml"),
    },
    BuiltIn {
        name: "mirai-like",
        toml: include_str!("../scenarios/mirai-like.toml"),
    },
    BuiltIn {
        name: "mitm",
        toml: include_str!("../scenarios/mitm.toml"),
    },
    BuiltIn {
        name: "mqtt-abuse",
        toml: include_str!("../scenarios/mqtt-abuse.toml"),
    },
    BuiltIn {
        name: "iot-exposure",
        toml: include_str!("../scenarios/iot-exposure.toml"),
    },
    BuiltIn {
        name: "benign-long",
        toml: include_str!("../scenarios/benign-long.toml"),
    },
];

/// First address of the lab's subnet (the gateway); devices follow from `.10`, the attacker is
/// `.66`. All inside 198.18.0.0/15 (RFC 2544 benchmarking space).
pub const SUBNET: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 0);
/// Prefix length of the lab's subnet.
pub const PREFIX_LEN: u8 = 24;
/// Host octet of the gateway.
pub const GATEWAY_HOST: u8 = 1;
/// Host octet of the first device.
pub const FIRST_DEVICE_HOST: u8 = 10;
/// Host octet of the attacker.
pub const ATTACKER_HOST: u8 = 66;

impl Scenario {
    /// Parses and validates a scenario from TOML text.
    ///
    /// # Errors
    /// [`LabError::Scenario`] when the text is not valid TOML for the schema or fails
    /// [`Scenario::validate`].
    pub fn from_toml(text: &str) -> Result<Scenario, LabError> {
        let s: Scenario = toml::from_str(text).map_err(|e| LabError::Scenario(e.to_string()))?;
        s.validate()?;
        Ok(s)
    }

    /// Looks up a built-in scenario by name, or reads a file when `name_or_path` is not one.
    ///
    /// # Errors
    /// [`LabError::Io`] when the file cannot be read; as [`Scenario::from_toml`].
    pub fn load(name_or_path: &str) -> Result<(Scenario, String), LabError> {
        if let Some(b) = BUILT_INS.iter().find(|b| b.name == name_or_path) {
            return Ok((Scenario::from_toml(b.toml)?, b.toml.to_owned()));
        }
        let text = std::fs::read_to_string(name_or_path)
            .map_err(|e| LabError::Io(format!("reading scenario {name_or_path}"), e))?;
        Ok((Scenario::from_toml(&text)?, text))
    }

    /// Every device's full name, in address order (`<group>-1`, …); the attacker is not included.
    pub fn device_names(&self) -> Vec<String> {
        self.devices
            .iter()
            .flat_map(|g| (1..=g.count).map(move |i| format!("{}-{i}", g.name)))
            .collect()
    }

    /// Whether any phase is an attack.
    pub fn has_attacks(&self) -> bool {
        self.phases.iter().any(|p| p.attack.is_some())
    }

    /// Checks every bound: names, counts, durations, rates, attack parameters, targets.
    ///
    /// # Errors
    /// [`LabError::Scenario`] naming the first problem found.
    pub fn validate(&self) -> Result<(), LabError> {
        let bad = |m: String| Err(LabError::Scenario(m));
        check_name("scenario name", &self.name, 32)?;
        if !(0.0..=60.0).contains(&self.warmup_s) {
            return bad(format!("warmup_s {} is not in 0..=60", self.warmup_s));
        }
        if self.gateway.telnet_fail_delay_ms > 10_000 {
            return bad(format!(
                "gateway.telnet_fail_delay_ms {} is not in 0..=10000",
                self.gateway.telnet_fail_delay_ms
            ));
        }
        if let Some((u, p)) = &self.gateway.mqtt_credential {
            let clean =
                |s: &String| !s.is_empty() && s.len() <= 64 && !s.contains([':', '\n', '\r']);
            if !clean(u) || !clean(p) {
                return bad(
                    "gateway.mqtt_credential must be 1..=64 characters without ':' or newlines"
                        .into(),
                );
            }
        }
        let total: u32 = self.devices.iter().map(|g| g.count).sum();
        if total > MAX_DEVICES {
            return bad(format!("{total} devices; at most {MAX_DEVICES}"));
        }
        for g in &self.devices {
            check_name("device group name", &g.name, 12)?;
            if g.count == 0 {
                return bad(format!("device group {} has count 0", g.name));
            }
            check_behaviour(&g.name, &g.behaviour, &self.gateway)?;
        }
        let names = self.device_names();
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                return bad(format!("device name {n} is used twice"));
            }
        }
        if let Some(a) = &self.attacker {
            check_name("attacker name", &a.name, 12)?;
            if names.contains(&a.name) || ["gateway", "sensor", "hub"].contains(&a.name.as_str()) {
                return bad(format!("attacker name {} is already used", a.name));
            }
            check_behaviour(&a.name, &a.behaviour, &self.gateway)?;
            // Its chatter is told from the attack by the conversations the lab logs
            // (`chatter`); TFTP's data ports and SSDP's multicast answers are not logged.
            if a.behaviour.tftp.is_some() || a.behaviour.ssdp {
                return bad(format!(
                    "attacker {}: tftp and ssdp chatter are not supported on the attacker (its packets could not be told from the attack's)",
                    a.name
                ));
            }
        }
        for g in &self.devices {
            if ["gateway", "sensor", "hub"].contains(&g.name.as_str()) {
                return bad(format!("device group name {} is reserved", g.name));
            }
        }
        if self.phases.is_empty() {
            return bad("no phases".into());
        }
        for (i, p) in self.phases.iter().enumerate() {
            check_name("phase name", &p.name, 32)?;
            if p.name == "startup" || p.name == "teardown" {
                return bad(format!("phase name {} is reserved", p.name));
            }
            if self.phases[..i].iter().any(|q| q.name == p.name) {
                return bad(format!("phase name {} is used twice", p.name));
            }
            if !(p.duration_s > 0.0 && p.duration_s <= MAX_PHASE_SECONDS) {
                return bad(format!(
                    "phase {}: duration_s {} is not in (0, {MAX_PHASE_SECONDS}]",
                    p.name, p.duration_s
                ));
            }
            if !(0.0..=30.0).contains(&p.drain_s) {
                return bad(format!(
                    "phase {}: drain_s {} is not in 0..=30",
                    p.name, p.drain_s
                ));
            }
            if let Some(a) = &p.attack {
                if self.attacker.is_none() {
                    return bad(format!(
                        "phase {} has an attack but there is no [attacker]",
                        p.name
                    ));
                }
                check_attack(&p.name, a, &names, &self.gateway)?;
            }
        }
        Ok(())
    }
}

fn check_name(what: &str, name: &str, max: usize) -> Result<(), LabError> {
    let ok = !name.is_empty()
        && name.len() <= max
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-');
    if ok {
        Ok(())
    } else {
        Err(LabError::Scenario(format!(
            "{what} {name:?} must be 1..={max} characters of [a-z0-9-], not starting with '-'"
        )))
    }
}

fn check_every(owner: &str, what: &str, e: &Every) -> Result<(), LabError> {
    if e.interval_ms < MIN_INTERVAL_MS || e.interval_ms > 3_600_000 {
        return Err(LabError::Scenario(format!(
            "{owner}: {what}.interval_ms {} is not in {MIN_INTERVAL_MS}..=3600000",
            e.interval_ms
        )));
    }
    if e.jitter_ms >= e.interval_ms {
        return Err(LabError::Scenario(format!(
            "{owner}: {what}.jitter_ms {} must be below interval_ms {}",
            e.jitter_ms, e.interval_ms
        )));
    }
    Ok(())
}

/// Checks the behaviour `b` of `owner` (a device group or the attacker) against its bounds and
/// the gateway `gw` it talks to.
fn check_behaviour(owner: &str, b: &Behaviour, gw: &Gateway) -> Result<(), LabError> {
    if let Some(m) = &b.mqtt {
        check_every(owner, "mqtt", &m.every)?;
        check_name("mqtt metric", &m.metric, 32)?;
        if m.payload_bytes > 4096 {
            return Err(LabError::Scenario(format!(
                "{owner}: mqtt.payload_bytes {} is above 4096",
                m.payload_bytes
            )));
        }
    }
    for (what, e) in [
        ("coap", &b.coap),
        ("http", &b.http),
        ("dhcp", &b.dhcp),
        ("firmware", &b.firmware),
        ("firmware_download", &b.firmware_download),
        ("tftp", &b.tftp),
        ("modbus", &b.modbus),
    ] {
        if let Some(e) = e {
            check_every(owner, what, e)?;
        }
    }
    if let Some(t) = &b.telnet {
        if !gw.telnet {
            return Err(LabError::Scenario(format!(
                "{owner}: telnet sessions need the gateway's telnet service"
            )));
        }
        check_every(owner, "telnet", &t.every)?;
        if t.typo_one_in > 1000 {
            return Err(LabError::Scenario(format!(
                "{owner}: telnet.typo_one_in {} is above 1000",
                t.typo_one_in
            )));
        }
    }
    if let Some(d) = &b.dns {
        check_every(owner, "dns", &d.every)?;
        if d.names.is_empty() || d.names.iter().any(|n| n.is_empty() || n.len() > 200) {
            return Err(LabError::Scenario(format!(
                "{owner}: dns.names must be 1..=200 characters each, at least one"
            )));
        }
    }
    Ok(())
}
