//! `--events summary`: routine messages (MQTT publishes, acknowledgements, keep-alives and disconnects, Modbus reads, CoAP
//! GETs and their successful answers) are counted per application session instead of written
//! one by one; each session gets one `app_summary` record when its flow ends (or at the end
//! of the run). Every other event — logins, connects, subscriptions, writes, errors,
//! anomalies, DNS, DHCP, HTTP, TLS — is still written as it happens.

use custos_app::modbus::Access;
use custos_app::mqtt::MqttMessage;
use custos_app::{AppEvent, AppRecord};
use custos_flow::keyed_hash::KeyedMap;
use custos_flow::{Addr, EndedFlow, Endpoint, FlowKey};
use std::collections::BTreeMap;

/// Sessions summarised at once; beyond it the oldest is written out early.
const MAX_SESSIONS: usize = 65_536;

/// The kind under which a routine event is counted, or `None` when the event is written.
pub fn routine_kind(e: &AppEvent) -> Option<&'static str> {
    match &e.record {
        AppRecord::Mqtt(m) => match m.message {
            MqttMessage::Publish(_) => Some("publish"),
            MqttMessage::Puback(_) => Some("puback"),
            MqttMessage::Pubrec(_) => Some("pubrec"),
            MqttMessage::Pubrel(_) => Some("pubrel"),
            MqttMessage::Pubcomp(_) => Some("pubcomp"),
            MqttMessage::Pingreq => Some("pingreq"),
            MqttMessage::Pingresp => Some("pingresp"),
            MqttMessage::Disconnect(_) => Some("disconnect"),
            _ => None,
        },
        AppRecord::Modbus(r) if r.exception.is_none() => match r.access {
            Access::Read => Some("read"),
            Access::Diagnostic => Some("diagnostic"),
            _ => None,
        },
        AppRecord::Coap(c) => match c.code.as_str() {
            "0.00" => Some("empty"),
            "0.01" => Some("get"),
            code if code.starts_with("2.") => Some("success"),
            _ => None,
        },
        _ => None,
    }
}

/// One session's routine events.
pub struct Session {
    /// The session's first routine event (without its body): the endpoints the summary names.
    pub first: AppEvent,
    /// Time of the last routine event.
    pub last_ts: i64,
    /// Packet index of the last routine event.
    pub last_index: u64,
    /// Input of the last routine event.
    pub last_file: u16,
    /// Events per kind.
    pub counts: BTreeMap<&'static str, u64>,
    /// Events in all.
    pub total: u64,
}

/// The sessions being summarised, by connection number, and which connection each flow is.
#[derive(Default)]
pub struct Sessions {
    /// Ordered by connection number, so early and final write-outs are deterministic.
    by_conn: BTreeMap<u64, Session>,
    /// Only looked up, never iterated.
    conn_of: KeyedMap<FlowKey, u64>,
}

/// A flow key without VLANs, as both an event and its flow can name it.
fn key(a: (std::net::IpAddr, u16), b: (std::net::IpAddr, u16), proto: u8) -> FlowKey {
    let ep = |(ip, port): (std::net::IpAddr, u16)| Endpoint {
        addr: Addr::from(ip),
        port,
    };
    FlowKey::canonical(ep(a), ep(b), proto, [0, 0]).0
}

impl Sessions {
    /// Counts a routine event; returns a session written out early to keep the bound.
    pub fn count(&mut self, e: &AppEvent, kind: &'static str) -> Option<Session> {
        let s = self.by_conn.entry(e.conn).or_insert_with(|| Session {
            // The endpoints and times, without the record's body.
            first: AppEvent {
                record: AppRecord::Anomaly {
                    error: custos_app::AppError::Unrecognised,
                },
                community_id: e.community_id.clone(),
                ..*e
            },
            last_ts: e.ts,
            last_index: e.index,
            last_file: e.file,
            counts: BTreeMap::new(),
            total: 0,
        });
        s.last_ts = e.ts;
        s.last_index = e.index;
        s.last_file = e.file;
        *s.counts.entry(kind).or_default() += 1;
        s.total += 1;
        if s.total == 1 {
            self.conn_of
                .insert(key(e.client, e.server, e.transport), e.conn);
        }
        if self.by_conn.len() > MAX_SESSIONS {
            return self.by_conn.pop_first().map(|(_, s)| self.forget(s));
        }
        None
    }

    fn forget(&mut self, s: Session) -> Session {
        let k = key(s.first.client, s.first.server, s.first.transport);
        if self.conn_of.get(&k) == Some(&s.first.conn) {
            self.conn_of.remove(&k);
        }
        s
    }

    /// The session of a flow that ended, if it had routine events.
    pub fn ended(&mut self, f: &EndedFlow) -> Option<Session> {
        let fl = &f.flow;
        let k = key(
            (fl.orig.addr.ip(), fl.orig.port),
            (fl.resp.addr.ip(), fl.resp.port),
            fl.proto,
        );
        let conn = self.conn_of.remove(&k)?;
        self.by_conn.remove(&conn)
    }

    /// Every session left, oldest connection first.
    pub fn drain(&mut self) -> Vec<Session> {
        self.conn_of.clear();
        std::mem::take(&mut self.by_conn).into_values().collect()
    }
}
