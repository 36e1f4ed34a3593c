//! Attacks a scenario's phases run: which tool, aimed where, with what bounds, and the checks
//! that keep every attack bounded in packets, rates and targets.

use serde::{Deserialize, Serialize};

use crate::error::LabError;
use crate::scenario::{Gateway, MAX_ATTACK_PACKETS};

/// Where an attack is aimed.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// The gateway.
    Gateway,
    /// Every device and the gateway (not the attacker itself or the sensor).
    All,
    /// One device by full name, e.g. `thermo-2`.
    Device(String),
}

/// An attack, bounded in packets (explicit counts or lists) and in seconds (the phase's
/// `duration_s`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[serde(tag = "tool", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Attack {
    /// `nmap -sS`: TCP SYN scan.
    NmapSyn {
        /// Hosts scanned.
        target: Target,
        /// nmap port list, e.g. `1-1024`.
        ports: String,
        /// `--max-rate` in packets per second.
        max_rate: u32,
    },
    /// `nmap -sV`: service and version detection.
    NmapService {
        /// Hosts scanned.
        target: Target,
        /// nmap port list.
        ports: String,
        /// `--max-rate` in packets per second.
        max_rate: u32,
    },
    /// `hping3 -S`: SYN flood, `count` packets, one per `interval_us`.
    HpingSyn {
        /// Victim.
        target: Target,
        /// Destination port.
        port: u16,
        /// Packets sent.
        count: u32,
        /// Microseconds between packets.
        interval_us: u32,
    },
    /// `hping3 --udp`: UDP flood.
    HpingUdp {
        /// Victim.
        target: Target,
        /// Destination port.
        port: u16,
        /// Packets sent.
        count: u32,
        /// Microseconds between packets.
        interval_us: u32,
        /// UDP payload bytes.
        #[serde(default)]
        data_bytes: u32,
    },
    /// `hydra telnet://`: brute force with every `users` × `passwords` pair.
    HydraTelnet {
        /// Victim (a host running the fake telnet login: the gateway).
        target: Target,
        /// Logins tried.
        users: Vec<String>,
        /// Passwords tried.
        passwords: Vec<String>,
        /// Parallel connections (`-t`).
        #[serde(default = "default_tasks")]
        tasks: u32,
    },
    /// `arpspoof` both ways between `victim` and the gateway, IP forwarding on in the attacker.
    Arpspoof {
        /// The device whose traffic is intercepted.
        victim: Target,
    },
    /// `mosquitto_sub` on `#` and `$SYS/#` anonymously (topic enumeration) for `seconds`.
    MqttEnum {
        /// Seconds subscribed.
        seconds: u32,
    },
    /// `mosquitto_pub -l`: `count` PUBLISH messages on one connection.
    MqttFlood {
        /// Messages.
        count: u32,
        /// Payload bytes per message.
        payload_bytes: u32,
        /// Topic.
        #[serde(default = "default_flood_topic")]
        topic: String,
    },
    /// `slowhttptest -H`: slowloris against the gateway's web server.
    Slowloris {
        /// Connections opened (`-c`).
        connections: u32,
        /// Connections per second (`-r`).
        rate: u32,
        /// Seconds between follow-up header lines (`-i`).
        interval_s: u32,
    },
    /// `nmap -sS`: SYN scan of `hosts` random addresses, as Mirai's scanner sweeps the Internet
    /// on 23 and 2323. The addresses are drawn inside 198.18.0.0/15 off the lab's /24; the
    /// attacker routes them to the gateway, which drops them: nothing leaves the lab.
    NmapRandom {
        /// How many random addresses.
        hosts: u32,
        /// nmap port list.
        ports: String,
        /// `--max-rate` in packets per second.
        max_rate: u32,
    },
    /// Mirai's loader dialogue, scripted: a telnet login to the gateway with `credential`,
    /// then the bot's shell commands (`enable`, `shell`, `sh`, `/bin/busybox …`). No packaged
    /// tool replays it.
    TelnetInfect {
        /// The login and password tried (the gateway's telnet credential to succeed).
        credential: (String, String),
    },
    /// Mirai's scanner brute force, scripted: one telnet connection per credential pair, in
    /// turn (login prompt, login, password, the answer, close), until one logs in or the list
    /// ends. hydra instead keeps several connections (`tasks`) going at once.
    TelnetBrute {
        /// The login and password pairs tried, in order.
        credentials: Vec<(String, String)>,
        /// Milliseconds between one connection's close and the next connection.
        #[serde(default)]
        pause_ms: u32,
    },
    /// `mosquitto_pub` once per `users` × `passwords` pair, in turn, against a broker that
    /// checks credentials (`gateway.mqtt_credential`): a brute force of the MQTT login.
    MqttLogin {
        /// Logins tried.
        users: Vec<String>,
        /// Passwords tried.
        passwords: Vec<String>,
    },
    /// `mbpoll`: `count` Modbus/TCP writes of `values` from `start` into the gateway's coils
    /// or holding registers, one every `interval_ms`.
    ModbusWrite {
        /// Coils (`coil`) or holding registers (`holding`).
        table: ModbusTable,
        /// First reference written (1-based, as mbpoll counts).
        start: u16,
        /// Values written (0 or 1 for coils).
        values: Vec<u16>,
        /// Writes.
        count: u32,
        /// Milliseconds between writes.
        interval_ms: u32,
    },
    /// `coap-client`: GET `/.well-known/core` (CoAP resource discovery, the request CoAP
    /// amplification attacks reflect) `count` times, one every `interval_ms`.
    CoapDiscover {
        /// The CoAP server asked (the gateway runs one).
        target: Target,
        /// Requests.
        count: u32,
        /// Milliseconds between requests.
        interval_ms: u32,
    },
    /// SSDP `M-SEARCH` for `ssdp:all` sent unicast to port 1900 of every target (the request
    /// SSDP amplification attacks reflect), `count` rounds, one every `interval_ms`.
    /// Scripted: the packaged SSDP tools search with other targets or by multicast only.
    SsdpSearch {
        /// The hosts asked (devices with `ssdp = true` answer).
        target: Target,
        /// Rounds.
        count: u32,
        /// Milliseconds between rounds.
        interval_ms: u32,
    },
}

/// The Modbus table an attack writes.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ModbusTable {
    /// Coils (function 5 or 15).
    Coil,
    /// Holding registers (function 6 or 16).
    Holding,
}

fn default_tasks() -> u32 {
    4
}
fn default_flood_topic() -> String {
    "sensors/flood".into()
}

impl Attack {
    /// The tool's short name as in the scenario file.
    pub fn tool(&self) -> &'static str {
        match self {
            Attack::NmapSyn { .. } => "nmap-syn",
            Attack::NmapService { .. } => "nmap-service",
            Attack::HpingSyn { .. } => "hping-syn",
            Attack::HpingUdp { .. } => "hping-udp",
            Attack::HydraTelnet { .. } => "hydra-telnet",
            Attack::Arpspoof { .. } => "arpspoof",
            Attack::MqttEnum { .. } => "mqtt-enum",
            Attack::MqttFlood { .. } => "mqtt-flood",
            Attack::Slowloris { .. } => "slowloris",
            Attack::NmapRandom { .. } => "nmap-random",
            Attack::TelnetInfect { .. } => "telnet-infect",
            Attack::TelnetBrute { .. } => "telnet-brute",
            Attack::MqttLogin { .. } => "mqtt-login",
            Attack::ModbusWrite { .. } => "modbus-write",
            Attack::CoapDiscover { .. } => "coap-discover",
            Attack::SsdpSearch { .. } => "ssdp-search",
        }
    }
}

fn check_target(
    phase: &str,
    t: &Target,
    devices: &[String],
    allow_all: bool,
) -> Result<(), LabError> {
    match t {
        Target::Gateway => Ok(()),
        Target::All if allow_all => Ok(()),
        Target::All => Err(LabError::Scenario(format!(
            "phase {phase}: this attack needs a single target"
        ))),
        Target::Device(d) if devices.contains(d) => Ok(()),
        Target::Device(d) => Err(LabError::Scenario(format!(
            "phase {phase}: target device {d} does not exist (devices: {})",
            devices.join(", ")
        ))),
    }
}

fn check_ports(phase: &str, ports: &str) -> Result<(), LabError> {
    let ok = !ports.is_empty()
        && ports.len() <= 200
        && ports
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b',' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(LabError::Scenario(format!(
            "phase {phase}: ports {ports:?} must be digits, ',' and '-'"
        )))
    }
}

/// Checks attack `a` of phase `phase`: its target among `devices`, its parameters, and the
/// gateway service it needs.
pub(crate) fn check_attack(
    phase: &str,
    a: &Attack,
    devices: &[String],
    gw: &Gateway,
) -> Result<(), LabError> {
    check_parameters(phase, a, devices, gw)?;
    check_service(phase, a, gw)
}

/// Checks the target and parameters of attack `a`, tool by tool.
fn check_parameters(
    phase: &str,
    a: &Attack,
    devices: &[String],
    gw: &Gateway,
) -> Result<(), LabError> {
    match a {
        Attack::NmapSyn {
            target,
            ports,
            max_rate,
        }
        | Attack::NmapService {
            target,
            ports,
            max_rate,
        } => check_nmap(phase, target, ports, *max_rate, devices),
        Attack::HpingSyn {
            target,
            count,
            interval_us,
            ..
        }
        | Attack::HpingUdp {
            target,
            count,
            interval_us,
            ..
        } => {
            check_target(phase, target, devices, false)?;
            check_hping(phase, a, *count, *interval_us)
        }
        Attack::HydraTelnet {
            target,
            users,
            passwords,
            tasks,
        } => {
            check_target(phase, target, devices, false)?;
            check_hydra(phase, target, users, passwords, *tasks, gw)
        }
        Attack::Arpspoof { victim } => {
            if !matches!(victim, Target::Device(_)) {
                return bad_attack(phase, "arpspoof victim must be a device".into());
            }
            check_target(phase, victim, devices, false)
        }
        Attack::MqttEnum { seconds } => check_range(phase, "seconds", *seconds, 1, 600),
        Attack::MqttFlood {
            count,
            payload_bytes,
            topic,
        } => check_mqtt_flood(phase, *count, *payload_bytes, topic),
        Attack::Slowloris {
            connections,
            rate,
            interval_s,
        } => check_slowloris(phase, *connections, *rate, *interval_s),
        Attack::NmapRandom {
            hosts,
            ports,
            max_rate,
        } => check_nmap_random(phase, *hosts, ports, *max_rate),
        Attack::TelnetInfect { credential } => {
            check_words(phase, std::slice::from_ref(&credential.0))?;
            check_words(phase, std::slice::from_ref(&credential.1))
        }
        Attack::TelnetBrute {
            credentials,
            pause_ms,
        } => check_telnet_brute(phase, credentials, *pause_ms),
        Attack::MqttLogin { users, passwords } => check_mqtt_login(phase, users, passwords, gw),
        Attack::ModbusWrite {
            table,
            values,
            count,
            interval_ms,
            ..
        } => check_modbus_write(phase, *table, values, *count, *interval_ms),
        Attack::CoapDiscover {
            target,
            count,
            interval_ms,
        }
        | Attack::SsdpSearch {
            target,
            count,
            interval_ms,
        } => {
            let all = matches!(a, Attack::SsdpSearch { .. });
            check_discovery(phase, (target, devices, all), *count, *interval_ms)
        }
    }
}

/// Checks a CoAP or SSDP discovery: its target among `devices` (every host when `all` is
/// allowed), its request count and interval.
fn check_discovery(
    phase: &str,
    (target, devices, all): (&Target, &[String], bool),
    count: u32,
    interval_ms: u32,
) -> Result<(), LabError> {
    check_target(phase, target, devices, all)?;
    check_range(phase, "count", count, 1, 10_000)?;
    check_range(phase, "interval_ms", interval_ms, 10, 60_000)
}

/// Checks that the gateway runs the service attack `a` is aimed at.
fn check_service(phase: &str, a: &Attack, gw: &Gateway) -> Result<(), LabError> {
    let needs = match a {
        Attack::MqttEnum { .. } | Attack::MqttFlood { .. } | Attack::MqttLogin { .. } => {
            Some(("mqtt", gw.mqtt))
        }
        Attack::Slowloris { .. } => Some(("http", gw.http)),
        Attack::TelnetInfect { .. } | Attack::TelnetBrute { .. } => Some(("telnet", gw.telnet)),
        Attack::ModbusWrite { .. } => Some(("modbus", gw.modbus)),
        Attack::CoapDiscover {
            target: Target::Gateway,
            ..
        } => Some(("coap", gw.coap)),
        _ => None,
    };
    if let Some((svc, false)) = needs {
        return bad_attack(
            phase,
            format!("{} needs the gateway's {svc} service", a.tool()),
        );
    }
    Ok(())
}

/// Checks a Mirai-style telnet brute force: 1..=1000 clean credential pairs, a pause of at
/// most a minute.
fn check_telnet_brute(
    phase: &str,
    credentials: &[(String, String)],
    pause_ms: u32,
) -> Result<(), LabError> {
    if credentials.is_empty() || credentials.len() > 1000 {
        return bad_attack(
            phase,
            format!("{} credential pairs; need 1..=1000", credentials.len()),
        );
    }
    for (user, password) in credentials {
        check_words(phase, std::slice::from_ref(user))?;
        check_words(phase, std::slice::from_ref(password))?;
    }
    check_range(phase, "pause_ms", pause_ms, 0, 60_000)
}

/// Checks an nmap scan of random hosts: its port list, host count and packet rate.
fn check_nmap_random(phase: &str, hosts: u32, ports: &str, max_rate: u32) -> Result<(), LabError> {
    check_ports(phase, ports)?;
    check_range(phase, "hosts", hosts, 1, 10_000)?;
    check_range(phase, "max_rate", max_rate, 1, 5000)
}

/// Checks an MQTT login brute force: clean logins and passwords, a bounded number of
/// pairs, and a broker that checks logins.
fn check_mqtt_login(
    phase: &str,
    users: &[String],
    passwords: &[String],
    gw: &Gateway,
) -> Result<(), LabError> {
    check_words(phase, users)?;
    check_words(phase, passwords)?;
    let pairs = users.len() * passwords.len();
    check_range(phase, "credential pairs", pairs as u32, 1, 1000)?;
    if gw.mqtt_credential.is_none() {
        return bad_attack(
            phase,
            "mqtt-login needs gateway.mqtt_credential (a broker that checks logins)".into(),
        );
    }
    Ok(())
}

/// Checks Modbus writes: the values (0 or 1 for coils), their count and interval.
fn check_modbus_write(
    phase: &str,
    table: ModbusTable,
    values: &[u16],
    count: u32,
    interval_ms: u32,
) -> Result<(), LabError> {
    check_range(phase, "values", values.len() as u32, 1, 100)?;
    check_range(phase, "count", count, 1, 10_000)?;
    check_range(phase, "interval_ms", interval_ms, 50, 60_000)?;
    if table == ModbusTable::Coil && values.iter().any(|v| *v > 1) {
        return bad_attack(phase, "coil values must be 0 or 1".into());
    }
    Ok(())
}

/// Checks that `what` = `v` lies in `lo..=hi`.
fn check_range(phase: &str, what: &str, v: u32, lo: u32, hi: u32) -> Result<(), LabError> {
    if (lo..=hi).contains(&v) {
        Ok(())
    } else {
        bad_attack(phase, format!("{what} {v} is not in {lo}..={hi}"))
    }
}

/// Checks logins and passwords written into the lab's scripts: 1..=64 characters of
/// `[A-Za-z0-9._@!-]`, so no shell or protocol quoting is ever needed.
fn check_words(phase: &str, words: &[String]) -> Result<(), LabError> {
    let clean = |s: &String| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-_@!".contains(&b))
    };
    if words.iter().all(clean) {
        Ok(())
    } else {
        bad_attack(
            phase,
            "logins and passwords must be 1..=64 characters of [A-Za-z0-9._@!-]".into(),
        )
    }
}

/// The error for a bad attack parameter of phase `phase`: `m`, prefixed with the phase.
fn bad_attack(phase: &str, m: String) -> Result<(), LabError> {
    Err(LabError::Scenario(format!("phase {phase}: {m}")))
}

/// Checks an nmap scan: its target, its port list and its packet rate.
fn check_nmap(
    phase: &str,
    target: &Target,
    ports: &str,
    max_rate: u32,
    devices: &[String],
) -> Result<(), LabError> {
    check_target(phase, target, devices, true)?;
    check_ports(phase, ports)?;
    if max_rate == 0 || max_rate > 5000 {
        return bad_attack(phase, format!("max_rate {max_rate} is not in 1..=5000"));
    }
    Ok(())
}

/// Checks an hping flood `a` (its target already checked): packet count, interval and, for
/// UDP, payload size.
fn check_hping(phase: &str, a: &Attack, count: u32, interval_us: u32) -> Result<(), LabError> {
    if count == 0 || count > MAX_ATTACK_PACKETS {
        return bad_attack(
            phase,
            format!("count {count} is not in 1..={MAX_ATTACK_PACKETS}"),
        );
    }
    if interval_us < 50 {
        return bad_attack(phase, format!("interval_us {interval_us} is below 50"));
    }
    if let Attack::HpingUdp { data_bytes, .. } = a {
        if *data_bytes > 1400 {
            return bad_attack(phase, format!("data_bytes {data_bytes} is above 1400"));
        }
    }
    Ok(())
}

/// Checks a hydra telnet brute force (its target already checked): aimed at the gateway
/// with telnet on, a bounded number of clean credential pairs, and its parallel tasks.
fn check_hydra(
    phase: &str,
    target: &Target,
    users: &[String],
    passwords: &[String],
    tasks: u32,
    gw: &Gateway,
) -> Result<(), LabError> {
    if target != &Target::Gateway || !gw.telnet {
        return bad_attack(
            phase,
            "hydra-telnet needs target \"gateway\" with the telnet service on".into(),
        );
    }
    let pairs = users.len().saturating_mul(passwords.len());
    if pairs == 0 || pairs > 10_000 {
        return bad_attack(phase, format!("{pairs} credential pairs; need 1..=10000"));
    }
    let clean = |s: &String| !s.is_empty() && s.len() <= 64 && !s.contains(['\n', '\r', ':']);
    if !users.iter().chain(passwords).all(clean) {
        return bad_attack(
            phase,
            "users and passwords must be 1..=64 characters without newlines or ':'".into(),
        );
    }
    if tasks == 0 || tasks > 16 {
        return bad_attack(phase, format!("tasks {tasks} is not in 1..=16"));
    }
    Ok(())
}

/// Checks an MQTT publish flood: message count, payload size and a topic without
/// wildcards.
fn check_mqtt_flood(
    phase: &str,
    count: u32,
    payload_bytes: u32,
    topic: &str,
) -> Result<(), LabError> {
    if count == 0 || count > MAX_ATTACK_PACKETS {
        return bad_attack(
            phase,
            format!("count {count} is not in 1..={MAX_ATTACK_PACKETS}"),
        );
    }
    if payload_bytes == 0 || payload_bytes > 1024 {
        return bad_attack(
            phase,
            format!("payload_bytes {payload_bytes} is not in 1..=1024"),
        );
    }
    if topic.is_empty() || topic.contains(['#', '+', '\n']) {
        return bad_attack(
            phase,
            format!("topic {topic:?} must be non-empty without wildcards"),
        );
    }
    Ok(())
}

/// Checks a slowloris attack: connections, connection rate and header interval.
fn check_slowloris(
    phase: &str,
    connections: u32,
    rate: u32,
    interval_s: u32,
) -> Result<(), LabError> {
    if connections == 0 || connections > 1000 {
        return bad_attack(
            phase,
            format!("connections {connections} is not in 1..=1000"),
        );
    }
    if rate == 0 || rate > 200 {
        return bad_attack(phase, format!("rate {rate} is not in 1..=200"));
    }
    if interval_s == 0 || interval_s > 60 {
        return bad_attack(phase, format!("interval_s {interval_s} is not in 1..=60"));
    }
    Ok(())
}
