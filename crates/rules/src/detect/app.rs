//! Application transactions for signatures: each application event becomes a message of
//! buffers and fields named as Suricata's keywords; messages are grouped into transactions
//! as Suricata groups them (an MQTT CONNECT with its CONNACK, a PUBLISH with its
//! acknowledgements, a Modbus request with its response, the whole TLS handshake; a DNS message
//! is a transaction of its own, as in Suricata 8), so that a rule alerts once per transaction. The MQTT protocol
//! events Suricata raises (`mqtt.missing_connect`, …) are derived here from the same
//! grouping.

use super::mqtt_tx::mqtt;
use custos_app::mqtt::MqttErrorKind;
use custos_app::{AppError, AppEvent, AppRecord, Direction};
use custos_flow::keyed_hash::KeyedMap;

/// Modbus fields `modbus:` tests.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ModbusInfo {
    pub function: u8,
    pub unit: u8,
    pub address: Option<u16>,
    pub quantity: Option<u16>,
}

/// One message of a transaction.
#[derive(Clone, Debug, Default)]
pub(crate) struct Message {
    /// Sent by the client.
    pub to_server: bool,
    /// Integer fields (`mqtt.type` …).
    pub ints: Vec<(&'static str, u64)>,
    /// Flag fields (`mqtt.flags`, `mqtt.connect.flags`).
    pub flags: Vec<(&'static str, u32)>,
    /// Sticky buffers; a name may repeat (multi-buffers such as `mqtt.subscribe.topic`).
    /// The flag is `Some(true)` for a request's buffer, `Some(false)` for a response's, in a
    /// message holding both (an HTTP transaction).
    pub buffers: Vec<(&'static str, Vec<u8>, Option<bool>)>,
    /// Application-layer events.
    pub events: Vec<&'static str>,
    /// Modbus fields.
    pub modbus: Option<ModbusInfo>,
    /// Suricata-shaped EVE key and object of the message, for alerts.
    pub eve: Option<(&'static str, serde_json::Value)>,
}

impl Message {
    pub(super) fn buf(&mut self, name: &'static str, value: impl AsRef<[u8]>) {
        self.buffers.push((name, value.as_ref().to_vec(), None));
    }

    /// A buffer of the request (`true`) or response side of a two-sided message.
    fn side_buf(&mut self, name: &'static str, value: impl AsRef<[u8]>, request: bool) {
        self.buffers
            .push((name, value.as_ref().to_vec(), Some(request)));
    }
}

/// A transaction: its protocol, messages so far, and the rules that alerted on it.
#[derive(Debug)]
pub(crate) struct Tx {
    pub proto: &'static str,
    pub messages: Vec<Message>,
    /// Rules that alerted, with the side they read (`None`: the whole transaction).
    pub alerted: Vec<(u32, Option<bool>)>,
    key: TxKey,
    complete: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum TxKey {
    /// A transaction of one message.
    Single,
    /// MQTT CONNECT awaiting CONNACK.
    MqttConnect,
    /// MQTT packet id awaiting its acknowledgement (kind: 0 publish, 1 subscribe, 2 unsubscribe).
    MqttId(u8, u16),
    /// Modbus transaction id and unit.
    Modbus(u16, u8),
    /// The TLS handshake of the connection.
    Tls,
}

#[derive(Debug, Default)]
pub(super) struct Conn {
    txs: Vec<Tx>,
    /// MQTT: a CONNACK was seen.
    pub mqtt_connected: bool,
    /// MQTT: a CONNECT was seen.
    pub mqtt_connect_seen: bool,
    /// MQTT protocol level from the CONNECT (0 before one).
    pub mqtt_version: u8,
    last_ts: i64,
}

/// Open transactions per connection.
pub(crate) struct Transactions {
    conns: KeyedMap<u64, Conn>,
    events_since_sweep: u64,
}

/// Open transactions kept per connection; the oldest is closed beyond it.
const MAX_OPEN_TXS: usize = 64;
/// Connections kept; the idlest are dropped beyond it.
const MAX_CONNS: usize = 100_000;
/// A connection idle this long (packet time) is dropped.
const IDLE_NS: i64 = 600 * 1_000_000_000;

impl Transactions {
    pub fn new() -> Self {
        Transactions {
            conns: KeyedMap::default(),
            events_since_sweep: 0,
        }
    }

    /// Adds the event's message to its transaction; calls `eval` with the transaction.
    pub fn add(&mut self, event: &AppEvent, mut eval: impl FnMut(&mut Tx)) {
        self.sweep(event.ts);
        let conn = self.conns.entry(event.conn).or_default();
        conn.last_ts = event.ts;
        let proto = event.proto.name();
        let to_server = event.direction == Direction::ToServer;
        let Some((mut msg, key, role)) = message(event, conn) else {
            return;
        };
        msg.to_server = to_server;
        let existing = (key != TxKey::Single && role != Role::Request)
            .then(|| conn.txs.iter().position(|t| t.key == key && !t.complete))
            .flatten();
        let idx = match (existing, role) {
            (Some(i), _) => i,
            (None, Role::Request) => {
                conn.txs.push(new_tx(proto, key));
                conn.txs.len() - 1
            }
            (None, Role::Continue(missing)) => {
                // A follow-up to a request never seen: its own transaction, with
                // Suricata's event for it.
                if !missing.is_empty() {
                    msg.events.push(missing);
                }
                conn.txs.push(new_tx(proto, key));
                conn.txs.len() - 1
            }
            (None, Role::Close(missing)) => {
                if let Some(e) = missing {
                    msg.events.push(e);
                }
                conn.txs.push(new_tx(proto, TxKey::Single));
                conn.txs.len() - 1
            }
        };
        let Some(tx) = conn.txs.get_mut(idx) else {
            return;
        };
        tx.messages.push(msg);
        if matches!(role, Role::Close(_)) || tx.key == TxKey::Single {
            tx.complete = true;
        }
        eval(tx);
        conn.txs.retain(|t| !t.complete);
        if conn.txs.len() > MAX_OPEN_TXS {
            conn.txs.remove(0);
        }
    }

    fn sweep(&mut self, now: i64) {
        self.events_since_sweep += 1;
        if self.events_since_sweep < 4096 && self.conns.len() <= MAX_CONNS {
            return;
        }
        self.events_since_sweep = 0;
        self.conns
            .retain(|_, c| now.saturating_sub(c.last_ts) < IDLE_NS);
        if self.conns.len() > MAX_CONNS {
            let mut ages: Vec<(i64, u64)> =
                self.conns.iter().map(|(k, c)| (c.last_ts, *k)).collect();
            ages.sort_unstable();
            for (_, k) in ages.iter().take(self.conns.len() - MAX_CONNS / 2) {
                self.conns.remove(k);
            }
        }
    }
}

impl Tx {
    /// The transaction as Suricata's EVE object for alerts (`{"mqtt": {…}}`), when custos
    /// builds one for the protocol.
    pub fn metadata(&self) -> Option<serde_json::Value> {
        let mut o = serde_json::Map::new();
        for m in &self.messages {
            if let Some((k, v)) = &m.eve {
                o.insert((*k).to_string(), v.clone());
            }
        }
        (!o.is_empty()).then(|| serde_json::json!({ self.proto: o }))
    }
}

fn new_tx(proto: &'static str, key: TxKey) -> Tx {
    Tx {
        proto,
        messages: Vec::new(),
        alerted: Vec::new(),
        key,
        complete: false,
    }
}

/// How a message relates to the open transaction with its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Role {
    /// Opens a transaction (or is one, with [`TxKey::Single`]).
    Request,
    /// Joins the open transaction; without one, opens its own with this event (none when
    /// empty).
    Continue(&'static str),
    /// Joins and completes the open transaction; without one, is a transaction of its own,
    /// with this event.
    Close(Option<&'static str>),
}

/// The message of an event, its transaction key and role.
pub(super) type Built = (Message, TxKey, Role);

fn message(event: &AppEvent, conn: &mut Conn) -> Option<Built> {
    let mut m = Message::default();
    match &event.record {
        AppRecord::Mqtt(r) => {
            let (mut m, key, role) = mqtt(r, conn);
            m.eve = Some(super::eve::mqtt(r));
            return Some((m, key, role));
        }
        AppRecord::Anomaly {
            error: AppError::Mqtt(e),
        } => {
            m.events.push(match e.kind {
                MqttErrorKind::ReservedType => "unassigned_msg_type",
                MqttErrorKind::Invalid(what) if what.contains("qos") => "invalid_qos_level",
                _ => "malformed_traffic",
            });
        }
        // Other protocols' parse errors are no transaction (custos raises no event for
        // them that a rule could test).
        AppRecord::Anomaly { .. } => return None,
        AppRecord::Http(t) => {
            if let Some(q) = &t.request {
                http_request(&mut m, q);
            }
            if let Some(r) = &t.response {
                http_response(&mut m, r);
            }
        }
        AppRecord::Dns(d) => dns(&mut m, d, event.proto == custos_app::AppProto::Mdns),
        AppRecord::Tls(t) => {
            tls(&mut m, t);
            return Some((m, TxKey::Tls, Role::Continue("")));
        }
        AppRecord::Modbus(r) => return Some(modbus(m, r)),
        AppRecord::Ftp(custos_app::ftp::FtpEvent::Command(c)) => {
            m.buf("ftp.command", &c.command);
            if let Some(a) = &c.arg {
                m.buf("ftp.command_data", a);
            }
        }
        AppRecord::Ftp(custos_app::ftp::FtpEvent::Reply(r)) => {
            m.buf("ftp.reply", &r.text);
        }
        AppRecord::Snmp(s) => {
            if let Some(c) = &s.community {
                m.buf("snmp.community", c);
            }
            m.ints.push(("snmp.version", u64::from(s.version)));
            if let Some(tag) = s.pdu_tag {
                m.ints.push(("snmp.pdu_type", u64::from(tag & 0x1f)));
            }
        }
        _ => {}
    }
    Some((m, TxKey::Single, Role::Request))
}

/// The request-side buffers of an HTTP transaction (`http.method`, `http.uri`, the
/// request line, host, headers, cookie and body).
fn http_request(m: &mut Message, q: &custos_app::http::HttpRequest) {
    m.side_buf("http.method", &q.method, true);
    m.side_buf("http.uri", &q.uri, true);
    m.side_buf("http.uri.raw", &q.uri, true);
    let proto = protocol(&q.version);
    m.side_buf("http.protocol", &proto, true);
    let line = if proto.is_empty() {
        format!("{} {}", q.method, q.uri)
    } else {
        format!("{} {} {proto}", q.method, q.uri)
    };
    m.side_buf("http.request_line", line, true);
    if let Some(h) = &q.host {
        // Suricata's normalised host: lowercase, port removed.
        let host = match h.rsplit_once(':') {
            Some((name, port)) if !name.is_empty() && port.bytes().all(|c| c.is_ascii_digit()) => {
                name
            }
            _ => h.as_ref(),
        };
        m.side_buf("http.host", host.to_ascii_lowercase(), true);
        m.side_buf("http.host.raw", h, true);
    }
    if let Some(v) = &q.user_agent {
        m.side_buf("http.user_agent", v, true);
    }
    if let Some(v) = &q.referer {
        m.side_buf("http.referer", v, true);
    }
    if let Some(v) = &q.content_type {
        m.side_buf("http.content_type", v, true);
    }
    m.side_buf("http.header", &q.headers, true);
    header_buffers(m, &q.headers, true);
    if let Some(c) = &q.cookie {
        m.side_buf("http.cookie", c, true);
    }
    if !q.body.is_empty() {
        m.side_buf("http.request_body", &q.body, true);
        m.side_buf("file.data", &q.body, true);
    }
}

/// The response-side buffers of an HTTP transaction (status, response line, server,
/// headers, cookie and body).
fn http_response(m: &mut Message, r: &custos_app::http::HttpResponse) {
    m.side_buf("http.stat_code", r.status.to_string(), false);
    m.side_buf("http.stat_msg", &r.reason, false);
    let proto = protocol(&r.version);
    m.side_buf("http.protocol", &proto, false);
    m.side_buf(
        "http.response_line",
        format!("{proto} {} {}", r.status, r.reason),
        false,
    );
    if let Some(v) = &r.server {
        m.side_buf("http.server", v, false);
    }
    if let Some(v) = &r.location {
        m.side_buf("http.location", v, false);
    }
    if let Some(v) = &r.content_type {
        m.side_buf("http.content_type", v, false);
    }
    m.side_buf("http.header", &r.headers, false);
    header_buffers(m, &r.headers, false);
    if let Some(c) = &r.cookie {
        m.side_buf("http.cookie", c, false);
    }
    if !r.body.is_empty() {
        m.side_buf("http.response_body", &r.body, false);
        m.side_buf("file.data", &r.body, false);
    }
}

/// The `dns.*` (or, for mDNS, `mdns.*`) name buffers of each section and the opcode and
/// rcode fields of a DNS message.
fn dns(m: &mut Message, d: &custos_app::dns::DnsMessage, mdns: bool) {
    let prefix = if mdns { "mdns" } else { "dns" };
    let name = |suffix: &str| -> &'static str {
        match (prefix, suffix) {
            ("mdns", "queries") => "mdns.queries.rrname",
            ("mdns", "answers") => "mdns.answers.rrname",
            ("mdns", "authorities") => "mdns.authorities.rrname",
            ("mdns", "additionals") => "mdns.additionals.rrname",
            ("mdns", _) => "mdns.response.rrname",
            (_, "queries") => "dns.queries.rrname",
            (_, "answers") => "dns.answers.rrname",
            (_, "authorities") => "dns.authorities.rrname",
            (_, "additionals") => "dns.additionals.rrname",
            _ => "dns.response.rrname",
        }
    };
    for q in &d.questions {
        if !d.response {
            m.buf("dns.query", &q.name);
        }
        m.buf(name("queries"), &q.name);
        if d.response {
            m.buf(name("response"), &q.name);
        }
    }
    for (section, records) in [
        ("answers", &d.answers),
        ("authorities", &d.authorities),
        ("additionals", &d.additionals),
    ] {
        for r in records {
            m.buf(name(section), &r.name);
            if d.response {
                m.buf(name("response"), &r.name);
            }
        }
    }
    m.ints.push(("dns.opcode", u64::from(d.opcode)));
    if d.response {
        m.ints.push(("dns.rcode", u64::from(d.rcode)));
    }
    // Suricata 8 makes each DNS message a transaction of its own.
}

/// The TLS handshake buffers of one handshake event (SNI, ALPN, JA3/JA3S/JA4, leaf
/// certificate subject, issuer and serial).
fn tls(m: &mut Message, t: &custos_app::tls::TlsEvent) {
    use custos_app::tls::TlsEvent;
    match t {
        TlsEvent::ClientHello(h) => {
            if let Some(s) = &h.sni {
                m.buf("tls.sni", s);
            }
            for a in &h.alpn {
                m.buf("tls.alpn", a);
            }
            m.buf("ja3.hash", &h.ja3_hash);
            m.buf("ja3.string", &h.ja3);
            m.buf("ja4.hash", &h.ja4);
        }
        TlsEvent::ServerHello(h) => {
            m.buf("ja3s.hash", &h.ja3s_hash);
            m.buf("ja3s.string", &h.ja3s);
            if let Some(a) = &h.alpn {
                m.buf("tls.alpn", a);
            }
        }
        TlsEvent::Certificates(c) => {
            if let Some(leaf) = c.chain.first() {
                m.buf("tls.cert_subject", &leaf.subject);
                m.buf("tls.cert_issuer", &leaf.issuer);
                m.buf("tls.cert_serial", &leaf.serial);
            }
        }
        _ => {}
    }
}

/// A Modbus message: its EVE object and fields, keyed by transaction id and unit; a
/// response closes the request's transaction.
fn modbus(mut m: Message, r: &custos_app::modbus::ModbusRecord) -> Built {
    m.eve = Some(super::eve::modbus(r));
    m.modbus = Some(ModbusInfo {
        function: r.function & 0x7f,
        unit: r.unit_id,
        address: r.address,
        quantity: r.quantity,
    });
    let key = TxKey::Modbus(r.transaction_id, r.unit_id);
    let role = if r.direction == Direction::ToClient {
        Role::Close(None)
    } else {
        Role::Request
    };
    (m, key, role)
}

/// `HTTP/1.1` from custos's `1.1`; empty for HTTP/0.9 (no version on the line).
fn protocol(version: &str) -> String {
    if version == "0.9" || version.is_empty() {
        String::new()
    } else {
        format!("HTTP/{version}")
    }
}

/// The buffers Suricata derives from a header block (`Name: value\r\n` lines): the names
/// (`\r\nName\r\n…\r\n\r\n`), one `http.request_header`/`http.response_header` per
/// line, and the single-header buffers.
fn header_buffers(m: &mut Message, block: &[u8], request: bool) {
    let mut names = b"\r\n".to_vec();
    for line in block.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        let colon = line.iter().position(|&b| b == b':').unwrap_or(line.len());
        let (name, rest) = line.split_at(colon);
        let value = rest.get(2..).unwrap_or_default();
        names.extend_from_slice(name);
        names.extend_from_slice(b"\r\n");
        m.side_buf(
            if request {
                "http.request_header"
            } else {
                "http.response_header"
            },
            line,
            request,
        );
        let single = match name.to_ascii_lowercase().as_slice() {
            b"accept" if request => Some("http.accept"),
            b"accept-language" if request => Some("http.accept_lang"),
            b"accept-encoding" if request => Some("http.accept_enc"),
            b"connection" => Some("http.connection"),
            b"content-length" => Some("http.content_len"),
            _ => None,
        };
        if let Some(b) = single {
            m.side_buf(b, value, request);
        }
    }
    names.extend_from_slice(b"\r\n");
    m.side_buf("http.header_names", names, request);
}
