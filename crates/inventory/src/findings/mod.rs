//! Baseline findings: application events checked against IoT security baselines
//! (ETSI EN 303 645, ENISA), aggregated per rule, device and peer, each with the packets and
//! connections that show it.
//!
//! Feed every [`AppEvent`] to [`Findings::event`] in capture order, then take
//! [`Findings::finish`]. Thresholds and windows come from [`FindingsConfig`]; state is
//! bounded (per-connection and per-pair tables are capped, evidence lists too).

pub mod baseline;

use baseline::{Rule, Severity};
use custos_app::ftp::FtpEvent;
use custos_app::http::HttpTransaction;
use custos_app::modbus::Access;
use custos_app::mqtt::MqttMessage;
use custos_app::snmp::SnmpMessage;
use custos_app::ssdp::SsdpMessage;
use custos_app::telnet::{PromptKind, TelnetEvent};
use custos_app::tftp::TftpRequest;
use custos_app::tls::TlsEvent;
use custos_app::Direction;
use custos_app::{AppEvent, AppRecord};
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::net::IpAddr;

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
}

impl Default for FindingsConfig {
    fn default() -> Self {
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
        }
    }
}

/// One side of a finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Party {
    /// IP address.
    pub ip: IpAddr,
    /// Port (the service's, for servers; absent for clients).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// MAC address, when the link had one.
    pub mac: Option<String>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The rule broken.
    pub rule: Rule,
    /// Severity (the rule's, raised by aggravating details).
    pub severity: Severity,
    /// The device that breaks the provision.
    pub device: Party,
    /// The other side, if any (attacker, client, server).
    pub peer: Option<Party>,
    /// Application protocol.
    pub app_proto: &'static str,
    /// Packet time of the first and last evidence (ns).
    pub first_ts: i64,
    /// See `first_ts`.
    pub last_ts: i64,
    /// Occurrences.
    pub count: u64,
    /// Connections involved (Community IDs, capped like the packets).
    pub community_ids: BTreeSet<String>,
    /// Evidence packets `(file, index)`, in capture order, capped.
    pub packets: Vec<(u16, u64)>,
    /// Rule-specific details.
    pub details: Map<String, Value>,
}

impl Finding {
    /// The finding as one JSON object (`time` formats packet times).
    pub fn to_json(&self, time: &dyn Fn(i64) -> String, files: &[String]) -> Value {
        let packets: Vec<Value> = self
            .packets
            .iter()
            .map(|(f, i)| {
                json!({"pcap_file": files.get(usize::from(*f)).map_or("", String::as_str), "packet": i})
            })
            .collect();
        json!({
            "timestamp": time(self.first_ts),
            "event_type": "finding",
            "finding": {
                "rule": self.rule.id,
                "title": self.rule.title,
                "severity": self.severity,
                "app_proto": self.app_proto,
                "device": self.device,
                "peer": self.peer,
                "first_seen": time(self.first_ts),
                "last_seen": time(self.last_ts),
                "count": self.count,
                "provisions": {
                    "etsi_en_303_645": self.rule.etsi,
                    "enisa_baseline_iot": self.rule.enisa,
                },
                "details": self.details,
            },
            "evidence": {
                "community_ids": self.community_ids,
                "packets": packets,
            },
        })
    }
}

type Key = (&'static str, Party, Option<Party>, &'static str);

/// Client, server address, server port, protocol: one login target of one client.
type PairKey = (IpAddr, IpAddr, u16, &'static str);

/// Failed logins of one client against one service.
#[derive(Debug, Default)]
struct Attempts {
    window: VecDeque<i64>,
    /// Verdict (and password) packets of the failures, capped at `max_evidence`.
    packets: Vec<(u16, u64)>,
    failures: u64,
    default_guesses: u64,
    max_in_window: usize,
    flagged: bool,
}

const MAX_PAIRS: usize = 65_536;

/// The findings engine.
pub struct Findings {
    cfg: FindingsConfig,
    open: BTreeMap<Key, Finding>,
    dropped: u64,
    attempts: BTreeMap<PairKey, Attempts>,
    /// Connections (by [`AppEvent::conn`]) whose MQTT CONNECT had no username, waiting for
    /// the CONNACK.
    anonymous_connects: BTreeMap<u64, (u16, u64)>,
    /// Password packets waiting for the login verdict, per connection.
    password_packets: BTreeMap<u64, (u16, u64)>,
    modbus_start: Option<i64>,
    modbus_writers: HashSet<(IpAddr, IpAddr)>,
}

fn party(ip: IpAddr, port: Option<u16>, mac: Option<[u8; 6]>) -> Party {
    Party {
        ip,
        port,
        mac: mac.map(crate::inventory::mac_string),
    }
}

impl Findings {
    /// An engine with `cfg`.
    pub fn new(cfg: FindingsConfig) -> Self {
        Findings {
            cfg,
            open: BTreeMap::new(),
            dropped: 0,
            attempts: BTreeMap::new(),
            anonymous_connects: BTreeMap::new(),
            password_packets: BTreeMap::new(),
            modbus_start: None,
            modbus_writers: HashSet::new(),
        }
    }

    fn server(e: &AppEvent) -> Party {
        party(e.server.0, Some(e.server.1), e.macs[1])
    }

    fn client(e: &AppEvent) -> Party {
        party(e.client.0, None, e.macs[0])
    }

    /// Opens or updates the finding of `rule` for `device` / `peer`, with `e` as evidence.
    fn report(
        &mut self,
        rule: Rule,
        device: Party,
        peer: Option<Party>,
        e: &AppEvent,
        extra: &[(u16, u64)],
        details: &[(&str, Value)],
    ) -> Option<&mut Finding> {
        let key: Key = (rule.id, device.clone(), peer.clone(), e.proto.name());
        if !self.open.contains_key(&key) {
            if self.open.len() >= self.cfg.max_findings {
                self.dropped += 1;
                return None;
            }
            self.open.insert(
                key.clone(),
                Finding {
                    rule,
                    severity: rule.severity,
                    device,
                    peer,
                    app_proto: e.proto.name(),
                    first_ts: e.ts,
                    last_ts: e.ts,
                    count: 0,
                    community_ids: BTreeSet::new(),
                    packets: Vec::new(),
                    details: Map::new(),
                },
            );
        }
        let max = self.cfg.max_evidence;
        let f = self.open.get_mut(&key)?;
        f.count += 1;
        f.first_ts = f.first_ts.min(e.ts);
        f.last_ts = f.last_ts.max(e.ts);
        if f.community_ids.len() < max {
            f.community_ids.insert(e.community_id.to_string());
        }
        for p in extra.iter().copied().chain([(e.file, e.index)]) {
            if f.packets.len() < max && !f.packets.contains(&p) {
                f.packets.push(p);
            }
        }
        for (k, v) in details {
            f.details.insert((*k).to_string(), v.clone());
        }
        Some(f)
    }

    /// Checks one event.
    pub fn event(&mut self, e: &AppEvent) {
        match &e.record {
            AppRecord::Telnet(t) => self.telnet(e, t),
            AppRecord::Ftp(f) => self.ftp(e, f),
            AppRecord::Http(t) => self.http(e, t),
            AppRecord::Tftp(r) if self.is_firmware(&r.filename) => self.tftp_firmware(e, r),
            AppRecord::Mqtt(m) => self.mqtt(e, &m.message),
            AppRecord::Snmp(m) => self.snmp(e, m),
            AppRecord::Tls(t) => self.tls(e, t),
            AppRecord::Ssdp(m) if !matches!(m.kind, custos_app::ssdp::SsdpKind::MSearch) => {
                self.ssdp(e, m)
            }
            AppRecord::Modbus(r) => self.modbus(e, r),
            _ => {}
        }
    }

    /// HTTP: Basic credentials (and their outcome) and firmware downloads.
    fn http(&mut self, e: &AppEvent, t: &HttpTransaction) {
        let Some(req) = &t.request else {
            return;
        };
        if req
            .authorization_scheme
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case("basic"))
        {
            let user = req.basic_user.clone().unwrap_or_default();
            let max = self.cfg.max_evidence;
            if let Some(f) = self.report(
                baseline::CLEARTEXT_CREDENTIALS,
                Self::server(e),
                Some(Self::client(e)),
                e,
                &[],
                &[("method", json!("HTTP Basic"))],
            ) {
                add_to_list(&mut f.details, "usernames", json!(user), max);
            }
            let status = t.response.as_ref().map(|r| r.status);
            let default = req.basic_default_credential;
            match status {
                Some(401 | 403) => self.failure(e, default),
                Some(200..=399) => self.success(e, default, Some(&user)),
                _ => {}
            }
        }
        let ok = t
            .response
            .as_ref()
            .is_none_or(|r| (200..300).contains(&r.status));
        if req.method == "GET" && ok && self.is_firmware(&req.uri) {
            let max = self.cfg.max_evidence;
            if let Some(f) = self.report(
                baseline::INSECURE_UPDATE,
                Self::client(e),
                Some(Self::server(e)),
                e,
                &[],
                &[("transport", json!("http")), ("host", json!(req.host))],
            ) {
                add_to_list(&mut f.details, "uris", json!(req.uri), max);
            }
        }
    }

    /// A TFTP request for a firmware file.
    fn tftp_firmware(&mut self, e: &AppEvent, r: &TftpRequest) {
        let max = self.cfg.max_evidence;
        if let Some(f) = self.report(
            baseline::INSECURE_UPDATE,
            Self::client(e),
            Some(Self::server(e)),
            e,
            &[],
            &[("transport", json!("tftp")), ("op", json!(r.op))],
        ) {
            add_to_list(&mut f.details, "files", json!(r.filename), max);
        }
    }

    /// SNMP: a community string is a cleartext credential (critical for a default one in a set).
    fn snmp(&mut self, e: &AppEvent, m: &SnmpMessage) {
        if let Some(c) = &m.community {
            let known = matches!(c.as_str(), "public" | "private");
            let f = self.report(
                baseline::CLEARTEXT_CREDENTIALS,
                Self::server(e),
                Some(Self::client(e)),
                e,
                &[],
                &[
                    ("method", json!("SNMP community")),
                    ("default_community", json!(known)),
                ],
            );
            if let Some(f) = f {
                if known && m.pdu_type == Some("set_request") {
                    f.severity = f.severity.max(Severity::Critical);
                }
            }
        }
    }

    /// TLS: a ServerHello with an old version or a weak cipher.
    fn tls(&mut self, e: &AppEvent, t: &TlsEvent) {
        if let TlsEvent::ServerHello(h) = t {
            let old = h.selected_version < 0x0303;
            if old || h.weak_cipher {
                // The TLS server is whoever sent the ServerHello (GridFTP and others
                // run TLS servers on the TCP client side).
                let (server, client) = match e.direction {
                    Direction::ToClient => (Self::server(e), Self::client(e)),
                    Direction::ToServer => (
                        party(e.client.0, Some(e.client.1), e.macs[0]),
                        party(e.server.0, None, e.macs[1]),
                    ),
                };
                self.report(
                    baseline::WEAK_TLS,
                    server,
                    Some(client),
                    e,
                    &[],
                    &[
                        ("version", json!(h.version_name)),
                        ("cipher", json!(h.cipher_name)),
                        ("weak_cipher", json!(h.weak_cipher)),
                    ],
                );
            }
        }
    }

    /// SSDP: a device announcing or answering (UPnP exposed).
    fn ssdp(&mut self, e: &AppEvent, m: &SsdpMessage) {
        let sender = match e.direction {
            Direction::ToServer => Self::client(e),
            Direction::ToClient => Self::server(e),
        };
        self.report(
            baseline::UPNP_EXPOSED,
            sender,
            None,
            e,
            &[],
            &[("server", json!(m.server)), ("location", json!(m.location))],
        );
    }

    /// A pattern starting with `.` is a file extension (the end of the path, query and
    /// fragment removed); any other is a substring of the lower-cased path.
    fn is_firmware(&self, s: &str) -> bool {
        let lower = s.to_ascii_lowercase();
        let path = lower.split(['?', '#']).next().unwrap_or_default();
        self.cfg.firmware_patterns.iter().any(|p| {
            if p.starts_with('.') {
                path.ends_with(p.as_str())
            } else {
                path.contains(p.as_str())
            }
        })
    }

    fn telnet(&mut self, e: &AppEvent, t: &TelnetEvent) {
        match t {
            TelnetEvent::Prompt {
                kind: PromptKind::Login,
                text,
            } => {
                self.report(
                    baseline::TELNET_EXPOSED,
                    Self::server(e),
                    None,
                    e,
                    &[],
                    &[("prompt", json!(text))],
                );
            }
            TelnetEvent::Password { username, .. } => {
                bounded_insert(&mut self.password_packets, e.conn, (e.file, e.index));
                let max = self.cfg.max_evidence;
                if let Some(f) = self.report(
                    baseline::CLEARTEXT_CREDENTIALS,
                    Self::server(e),
                    Some(Self::client(e)),
                    e,
                    &[],
                    &[("method", json!("telnet login"))],
                ) {
                    add_to_list(&mut f.details, "usernames", json!(username), max);
                }
            }
            TelnetEvent::LoginResult {
                success,
                username,
                default_credential,
                ..
            } => {
                let pw = self.password_packets.remove(&e.conn);
                if *success {
                    self.success_with(e, *default_credential, username.as_deref(), pw);
                } else {
                    self.failure_with(e, *default_credential, pw);
                }
            }
            _ => {}
        }
    }

    fn ftp(&mut self, e: &AppEvent, f: &FtpEvent) {
        match f {
            FtpEvent::Command(c) if c.command == "PASS" => {
                self.report(
                    baseline::CLEARTEXT_CREDENTIALS,
                    Self::server(e),
                    Some(Self::client(e)),
                    e,
                    &[],
                    &[("method", json!("FTP USER/PASS"))],
                );
            }
            FtpEvent::Login(l) => {
                if l.success {
                    self.success(e, l.default_credential, Some(&l.user));
                } else {
                    self.failure(e, l.default_credential);
                }
            }
            _ => {}
        }
    }

    fn mqtt(&mut self, e: &AppEvent, m: &MqttMessage) {
        match m {
            MqttMessage::Connect(c) => {
                if c.password_flag {
                    self.report(
                        baseline::CLEARTEXT_CREDENTIALS,
                        Self::server(e),
                        Some(Self::client(e)),
                        e,
                        &[],
                        &[("method", json!("MQTT CONNECT password"))],
                    );
                }
                if !c.username_flag && !c.password_flag {
                    bounded_insert(&mut self.anonymous_connects, e.conn, (e.file, e.index));
                }
            }
            MqttMessage::Connack(a) => {
                let anonymous = self.anonymous_connects.remove(&e.conn);
                match (a.return_code, anonymous) {
                    (0, Some(connect)) => {
                        let max = self.cfg.max_evidence;
                        let client = e.client.0;
                        if let Some(f) = self.report(
                            baseline::MQTT_ANONYMOUS,
                            Self::server(e),
                            None,
                            e,
                            &[connect],
                            &[],
                        ) {
                            add_to_list(&mut f.details, "clients", json!(client), max);
                        }
                    }
                    // 3.1.1: 4 bad user name or password, 5 not authorised; 5.0: 0x86, 0x87.
                    (4 | 5 | 0x86 | 0x87, None) => self.failure(e, false),
                    _ => {}
                }
            }
            _ => {}
        }
    }

    fn modbus(&mut self, e: &AppEvent, r: &custos_app::modbus::ModbusRecord) {
        if e.direction != Direction::ToServer
            || !matches!(r.access, Access::Write | Access::ReadWrite)
        {
            return;
        }
        let start = *self.modbus_start.get_or_insert(e.ts);
        let learning = e.ts.saturating_sub(start) < secs(self.cfg.modbus_learning_s);
        let pair = (e.server.0, e.client.0);
        if learning {
            if self.modbus_writers.len() < MAX_PAIRS {
                self.modbus_writers.insert(pair);
            }
        } else if !self.modbus_writers.contains(&pair) {
            self.report(
                baseline::MODBUS_NEW_WRITER,
                Self::server(e),
                Some(Self::client(e)),
                e,
                &[],
                &[
                    ("unit_id", json!(r.unit_id)),
                    ("function", json!(r.function)),
                    ("address", json!(r.address)),
                ],
            );
        }
    }

    fn failure(&mut self, e: &AppEvent, default_credential: bool) {
        self.failure_with(e, default_credential, None);
    }

    fn failure_with(&mut self, e: &AppEvent, default_credential: bool, pw: Option<(u16, u64)>) {
        let window = secs(self.cfg.brute_force_window_s);
        let threshold = self.cfg.brute_force_failures.max(1);
        let key = (e.client.0, e.server.0, e.server.1, e.proto.name());
        if !self.attempts.contains_key(&key) && self.attempts.len() >= MAX_PAIRS {
            // Full: forget the eighth of the pairs that failed least recently (not the
            // newcomer, or an attacker could fill the table first to go unnoticed);
            // amortised O(log n) per new pair.
            let mut by_age: Vec<(Option<i64>, PairKey)> = self
                .attempts
                .iter()
                .map(|(k, a)| (a.window.back().copied(), *k))
                .collect();
            by_age.sort_unstable();
            for (_, k) in by_age.into_iter().take(MAX_PAIRS / 8) {
                self.attempts.remove(&k);
            }
        }
        let max = self.cfg.max_evidence;
        let a = self.attempts.entry(key).or_default();
        for p in pw.into_iter().chain([(e.file, e.index)]) {
            if a.packets.len() < max {
                a.packets.push(p);
            }
        }
        a.failures += 1;
        a.default_guesses += u64::from(default_credential);
        a.window.push_back(e.ts);
        while a
            .window
            .front()
            .is_some_and(|t| e.ts.saturating_sub(*t) > window)
        {
            a.window.pop_front();
        }
        if a.window.len() > threshold * 4 {
            a.window.pop_front();
        }
        a.max_in_window = a.max_in_window.max(a.window.len());
        let brute = a.window.len() >= threshold || a.flagged;
        a.flagged |= brute;
        let details = [
            ("failures", json!(a.failures)),
            ("default_credential_guesses", json!(a.default_guesses)),
            ("max_failures_in_window", json!(a.max_in_window)),
            ("window_s", json!(self.cfg.brute_force_window_s)),
            ("threshold", json!(threshold)),
        ];
        let extra = if brute { a.packets.clone() } else { Vec::new() };
        if brute {
            self.report(
                baseline::BRUTE_FORCE,
                Self::server(e),
                Some(Self::client(e)),
                e,
                &extra,
                &details,
            );
        }
    }

    fn success(&mut self, e: &AppEvent, default_credential: bool, user: Option<&str>) {
        self.success_with(e, default_credential, user, None);
    }

    fn success_with(
        &mut self,
        e: &AppEvent,
        default_credential: bool,
        user: Option<&str>,
        pw: Option<(u16, u64)>,
    ) {
        let key = (e.client.0, e.server.0, e.server.1, e.proto.name());
        let (failures, flagged) = self
            .attempts
            .get(&key)
            .map_or((0, false), |a| (a.failures, a.flagged));
        let extra: Vec<(u16, u64)> = pw.into_iter().collect();
        if default_credential {
            self.report(
                baseline::DEFAULT_CREDENTIAL_LOGIN,
                Self::server(e),
                Some(Self::client(e)),
                e,
                &extra,
                &[
                    ("username", json!(user)),
                    ("failed_attempts_before", json!(failures)),
                ],
            );
        }
        if flagged {
            let bf_key: Key = (
                baseline::BRUTE_FORCE.id,
                Self::server(e),
                Some(Self::client(e)),
                e.proto.name(),
            );
            if let Some(f) = self.open.get_mut(&bf_key) {
                f.severity = Severity::Critical;
                f.details.insert("followed_by_success".into(), json!(true));
                if f.packets.len() < self.cfg.max_evidence {
                    f.packets.push((e.file, e.index));
                }
                f.last_ts = f.last_ts.max(e.ts);
            }
        }
    }

    /// Findings kept but not listed because of `max_findings`.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// All findings, ordered by first evidence, then rule and device.
    pub fn finish(self) -> Vec<Finding> {
        let mut all: Vec<Finding> = self.open.into_values().collect();
        for f in &mut all {
            f.packets.sort_unstable();
        }
        all.sort_by(|a, b| {
            (a.first_ts, a.rule.id, &a.device, &a.peer)
                .cmp(&(b.first_ts, b.rule.id, &b.device, &b.peer))
        });
        all
    }
}

/// Inserts into a per-connection table; when full, the oldest connection's entry goes
/// (connection numbers grow, so the smallest key is the oldest).
fn bounded_insert(map: &mut BTreeMap<u64, (u16, u64)>, conn: u64, v: (u16, u64)) {
    if map.len() >= MAX_PAIRS && !map.contains_key(&conn) {
        map.pop_first();
    }
    map.insert(conn, v);
}

/// Adds `v` to the array `details[key]` unless present or full.
fn add_to_list(details: &mut Map<String, Value>, key: &str, v: Value, max: usize) {
    let list = details
        .entry(key.to_string())
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(a) = list {
        if a.len() < max && !a.contains(&v) {
            a.push(v);
        }
    }
}

fn secs(s: u64) -> i64 {
    i64::try_from(s.saturating_mul(1_000_000_000)).unwrap_or(i64::MAX)
}
