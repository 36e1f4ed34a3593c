//! Baseline findings: application events checked against IoT security baselines
//! (ETSI EN 303 645, ENISA), and attacks the events show (scans, floods, downloads through a
//! remote shell; MITRE ATT&CK), aggregated per rule, device and peer, each with the packets
//! and connections that show it.
//!
//! Feed every [`AppEvent`] to [`Findings::event`] in capture order, then take
//! [`Findings::finish`]. Thresholds and windows come from [`FindingsConfig`]; state is
//! bounded (per-connection and per-pair tables are capped, evidence lists too).

mod attack;
pub mod baseline;
mod config;
mod logins;
mod record;

pub use config::FindingsConfig;
pub use record::{Finding, Party};

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
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::IpAddr;

type Key = (&'static str, Party, Option<Party>, &'static str);

pub(crate) use logins::login_failure;
use logins::{Attempts, PairKey, MAX_PAIRS};

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

/// A party; an all-zero MAC address names no station and is left out.
fn party(ip: IpAddr, port: Option<u16>, mac: Option<[u8; 6]>) -> Party {
    Party {
        ip,
        port,
        mac: mac
            .filter(|m| *m != [0; 6])
            .map(crate::inventory::mac_string),
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
        self.report_as(rule, (device, peer), e.proto.name(), e, extra, details)
    }

    /// [`Findings::report`] under the protocol name `app_proto` (not `e`'s).
    fn report_as(
        &mut self,
        rule: Rule,
        (device, peer): (Party, Option<Party>),
        app_proto: &'static str,
        e: &AppEvent,
        extra: &[(u16, u64)],
        details: &[(&str, Value)],
    ) -> Option<&mut Finding> {
        let key: Key = (rule.id, device.clone(), peer.clone(), app_proto);
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
                    app_proto,
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
            AppRecord::Scan(s) => self.scan(e, s),
            AppRecord::Flood(f) => self.flood(e, f),
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
            TelnetEvent::Command { downloads, .. } if !downloads.is_empty() => {
                self.download(e, t);
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
