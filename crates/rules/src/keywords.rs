//! The keywords custos honours, named as Suricata names them: sticky buffers, legacy content
//! modifiers, integer fields of application messages, and the application-layer events custos
//! reports. A keyword not listed here makes its rule unsupported.

/// Which side of a transaction a buffer or field comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The request (client to server).
    ToServer,
    /// The response (server to client).
    ToClient,
    /// Either.
    Both,
}

/// A sticky buffer: canonical name, protocol (EVE name), side.
pub struct BufferDef {
    /// Canonical name (`http.uri`).
    pub name: &'static str,
    /// Protocol.
    pub proto: &'static str,
    /// Side.
    pub side: Side,
}

const fn buf(name: &'static str, proto: &'static str, side: Side) -> BufferDef {
    BufferDef { name, proto, side }
}

/// Every sticky buffer custos fills (see `docs/rules.md` for what each holds).
pub const BUFFERS: &[BufferDef] = &[
    buf("http.uri", "http", Side::ToServer),
    buf("http.uri.raw", "http", Side::ToServer),
    buf("http.method", "http", Side::ToServer),
    buf("http.host", "http", Side::ToServer),
    buf("http.host.raw", "http", Side::ToServer),
    buf("http.user_agent", "http", Side::ToServer),
    buf("http.referer", "http", Side::ToServer),
    buf("http.request_line", "http", Side::ToServer),
    buf("http.protocol", "http", Side::Both),
    buf("http.content_type", "http", Side::Both),
    buf("http.stat_code", "http", Side::ToClient),
    buf("http.stat_msg", "http", Side::ToClient),
    buf("http.response_line", "http", Side::ToClient),
    buf("http.server", "http", Side::ToClient),
    buf("http.location", "http", Side::ToClient),
    buf("http.header", "http", Side::Both),
    buf("http.header_names", "http", Side::Both),
    buf("http.request_header", "http", Side::ToServer),
    buf("http.response_header", "http", Side::ToClient),
    buf("http.accept", "http", Side::ToServer),
    buf("http.accept_lang", "http", Side::ToServer),
    buf("http.accept_enc", "http", Side::ToServer),
    buf("http.connection", "http", Side::Both),
    buf("http.content_len", "http", Side::Both),
    buf("http.cookie", "http", Side::Both),
    buf("http.request_body", "http", Side::ToServer),
    buf("http.response_body", "http", Side::ToClient),
    buf("file.data", "http", Side::Both),
    buf("dns.query", "dns", Side::ToServer),
    buf("dns.queries.rrname", "dns", Side::Both),
    buf("dns.answers.rrname", "dns", Side::ToClient),
    buf("dns.authorities.rrname", "dns", Side::ToClient),
    buf("dns.additionals.rrname", "dns", Side::Both),
    buf("dns.response.rrname", "dns", Side::ToClient),
    buf("mdns.queries.rrname", "mdns", Side::Both),
    buf("mdns.answers.rrname", "mdns", Side::Both),
    buf("mdns.authorities.rrname", "mdns", Side::Both),
    buf("mdns.additionals.rrname", "mdns", Side::Both),
    buf("mdns.response.rrname", "mdns", Side::Both),
    buf("tls.sni", "tls", Side::ToServer),
    buf("tls.cert_subject", "tls", Side::ToClient),
    buf("tls.cert_issuer", "tls", Side::ToClient),
    buf("tls.cert_serial", "tls", Side::ToClient),
    buf("tls.alpn", "tls", Side::Both),
    buf("ja3.hash", "tls", Side::ToServer),
    buf("ja3.string", "tls", Side::ToServer),
    buf("ja3s.hash", "tls", Side::ToClient),
    buf("ja3s.string", "tls", Side::ToClient),
    buf("ja4.hash", "tls", Side::ToServer),
    buf("mqtt.connect.clientid", "mqtt", Side::ToServer),
    buf("mqtt.connect.username", "mqtt", Side::ToServer),
    buf("mqtt.connect.password", "mqtt", Side::ToServer),
    buf("mqtt.connect.protocol_string", "mqtt", Side::ToServer),
    buf("mqtt.connect.willtopic", "mqtt", Side::ToServer),
    buf("mqtt.publish.topic", "mqtt", Side::Both),
    buf("mqtt.publish.message", "mqtt", Side::Both),
    buf("mqtt.subscribe.topic", "mqtt", Side::ToServer),
    buf("mqtt.unsubscribe.topic", "mqtt", Side::ToServer),
    buf("ftp.command", "ftp", Side::ToServer),
    buf("ftp.command_data", "ftp", Side::ToServer),
    buf("ftp.reply", "ftp", Side::ToClient),
    buf("snmp.community", "snmp", Side::Both),
];

/// Other names of buffers: Suricata's older sticky-buffer names (`dns_query`, `tls_sni`, …).
pub const BUFFER_ALIASES: &[(&str, &str)] = &[
    ("http_uri", "http.uri"),
    ("http_raw_uri", "http.uri.raw"),
    ("http_method", "http.method"),
    ("http_host", "http.host"),
    ("http_raw_host", "http.host.raw"),
    ("http_user_agent", "http.user_agent"),
    ("http_referer", "http.referer"),
    ("http_request_line", "http.request_line"),
    ("http_response_line", "http.response_line"),
    ("http_stat_code", "http.stat_code"),
    ("http_stat_msg", "http.stat_msg"),
    ("http_content_type", "http.content_type"),
    ("http_protocol", "http.protocol"),
    ("http_server", "http.server"),
    ("http_location", "http.location"),
    ("http_header", "http.header"),
    ("http_cookie", "http.cookie"),
    ("http_client_body", "http.request_body"),
    ("http_server_body", "http.response_body"),
    ("file_data", "file.data"),
    ("http_header_names", "http.header_names"),
    ("http_accept", "http.accept"),
    ("http_accept_lang", "http.accept_lang"),
    ("http_accept_enc", "http.accept_enc"),
    ("http_connection", "http.connection"),
    ("http_content_len", "http.content_len"),
    ("http_content_type", "http.content_type"),
    ("dns_query", "dns.query"),
    ("tls_sni", "tls.sni"),
    ("tls.subject", "tls.cert_subject"),
    ("tls_cert_subject", "tls.cert_subject"),
    ("tls_cert_issuer", "tls.cert_issuer"),
    ("tls_cert_serial", "tls.cert_serial"),
    ("ja3_hash", "ja3.hash"),
    ("ja3_string", "ja3.string"),
    ("ja3s_hash", "ja3s.hash"),
    ("ja3s_string", "ja3s.string"),
    ("ftp.command.data", "ftp.command_data"),
];

/// Suricata's legacy content modifiers: written after a `content`, they move it to their
/// buffer. Its other `http_*` names (`http_header_names`, `http_accept`, …) are sticky
/// buffers.
const CONTENT_MODIFIERS: &[&str] = &[
    "http_uri",
    "http_raw_uri",
    "http_method",
    "http_cookie",
    "http_header",
    "http_raw_header",
    "http_client_body",
    "http_server_body",
    "http_stat_code",
    "http_stat_msg",
    "http_user_agent",
    "http_host",
    "http_raw_host",
];

/// The buffer a legacy content modifier (`http_uri`, written after a `content`) moves its
/// content to.
pub fn content_modifier(name: &str) -> Option<&'static BufferDef> {
    if !CONTENT_MODIFIERS.contains(&name) {
        return None;
    }
    BUFFER_ALIASES
        .iter()
        .find(|(a, _)| *a == name)
        .and_then(|(_, c)| buffer_def(c))
}

/// Looks a sticky-buffer keyword up (canonical names and aliases).
pub fn buffer(name: &str) -> Option<&'static BufferDef> {
    let canonical = BUFFER_ALIASES
        .iter()
        .find(|(a, _)| *a == name)
        .map_or(name, |(_, c)| *c);
    BUFFERS.iter().find(|b| b.name == canonical)
}

/// The definition of a buffer by canonical name.
pub fn buffer_def(name: &str) -> Option<&'static BufferDef> {
    BUFFERS.iter().find(|b| b.name == name)
}

/// An integer field of application messages: keyword, protocol, side.
pub struct IntFieldDef {
    /// Keyword.
    pub name: &'static str,
    /// Protocol.
    pub proto: &'static str,
    /// Side.
    pub side: Side,
}

const fn int(name: &'static str, proto: &'static str, side: Side) -> IntFieldDef {
    IntFieldDef { name, proto, side }
}

/// Integer fields custos fills.
pub const INT_FIELDS: &[IntFieldDef] = &[
    int("mqtt.type", "mqtt", Side::Both),
    int("mqtt.qos", "mqtt", Side::Both),
    int("mqtt.reason_code", "mqtt", Side::ToClient),
    int("mqtt.protocol_version", "mqtt", Side::ToServer),
    int("mqtt.connack.session_present", "mqtt", Side::ToClient),
    int("dns.opcode", "dns", Side::Both),
    int("dns.rcode", "dns", Side::ToClient),
    int("snmp.version", "snmp", Side::Both),
    int("snmp.pdu_type", "snmp", Side::Both),
];

/// Other names of integer fields.
pub const INT_ALIASES: &[(&str, &str)] = &[("mqtt.connack.return_code", "mqtt.reason_code")];

/// Looks an integer field up.
pub fn int_field(name: &str) -> Option<&'static IntFieldDef> {
    let canonical = INT_ALIASES
        .iter()
        .find(|(a, _)| *a == name)
        .map_or(name, |(_, c)| *c);
    INT_FIELDS.iter().find(|f| f.name == canonical)
}

/// MQTT control packet type names, as `mqtt.type` takes them.
pub const MQTT_TYPES: &[(&str, u64)] = &[
    ("CONNECT", 1),
    ("CONNACK", 2),
    ("PUBLISH", 3),
    ("PUBACK", 4),
    ("PUBREC", 5),
    ("PUBREL", 6),
    ("PUBCOMP", 7),
    ("SUBSCRIBE", 8),
    ("SUBACK", 9),
    ("UNSUBSCRIBE", 10),
    ("UNSUBACK", 11),
    ("PINGREQ", 12),
    ("PINGRESP", 13),
    ("DISCONNECT", 14),
    ("AUTH", 15),
];

/// `mqtt.flags` names and bits (fixed header).
pub const MQTT_FLAGS: &[(&str, u32)] = &[("dup", 1), ("retain", 2)];

/// `mqtt.connect.flags` names and bits.
pub const MQTT_CONNECT_FLAGS: &[(&str, u32)] = &[
    ("username", 1),
    ("password", 2),
    ("will", 4),
    ("will_retain", 8),
    ("clean_session", 16),
];

/// Application-layer events custos reports, by protocol (Suricata's names).
pub const APP_EVENTS: &[(&str, &[&str])] = &[(
    "mqtt",
    &[
        "missing_connect",
        "missing_publish",
        "missing_subscribe",
        "missing_unsubscribe",
        "double_connect",
        "unintroduced_message",
        "invalid_qos_level",
        "missing_msg_id",
        "unassigned_msg_type",
        "malformed_traffic",
    ],
)];

/// Looks an application-layer event up: its protocol and name as `'static` strings.
pub fn app_event(proto: &str, event: &str) -> Option<(&'static str, &'static str)> {
    APP_EVENTS
        .iter()
        .find(|(p, _)| *p == proto)
        .and_then(|(p, events)| events.iter().find(|e| **e == event).map(|e| (*p, *e)))
}

/// Application protocols a rule header may name, and the EVE name custos uses for each.
pub const APP_PROTOS: &[(&str, &str)] = &[
    ("http", "http"),
    ("http1", "http"),
    ("tls", "tls"),
    ("ssl", "tls"),
    ("dns", "dns"),
    ("mdns", "mdns"),
    ("mqtt", "mqtt"),
    ("modbus", "modbus"),
    ("ftp", "ftp"),
    ("telnet", "telnet"),
    ("dhcp", "dhcp"),
    ("snmp", "snmp"),
    ("tftp", "tftp"),
    ("ssdp", "ssdp"),
    ("coap", "coap"),
];

/// The packet header sticky buffers, by keyword.
pub fn header_buffer(name: &str) -> Option<crate::ast::HeaderBuffer> {
    use crate::ast::HeaderBuffer as H;
    Some(match name {
        "ipv4.hdr" => H::Ipv4,
        "ipv6.hdr" => H::Ipv6,
        "tcp.hdr" => H::Tcp,
        "udp.hdr" => H::Udp,
        "icmpv4.hdr" => H::Icmpv4,
        "icmpv6.hdr" => H::Icmpv6,
        _ => return None,
    })
}

/// Keywords other than buffers, fields and transforms that custos honours (for
/// `requires: keyword`).
const OPTIONS: &[&str] = &[
    "msg",
    "sid",
    "rev",
    "gid",
    "classtype",
    "priority",
    "reference",
    "metadata",
    "content",
    "nocase",
    "depth",
    "offset",
    "distance",
    "within",
    "startswith",
    "endswith",
    "fast_pattern",
    "pcre",
    "pkt_data",
    "base64_decode",
    "base64_data",
    "absent",
    "isdataat",
    "bsize",
    "byte_test",
    "byte_jump",
    "byte_extract",
    "byte_math",
    "requires",
    "flow",
    "flowbits",
    "noalert",
    "threshold",
    "detection_filter",
    "prefilter",
    "ttl",
    "id",
    "ip_proto",
    "window",
    "seq",
    "ack",
    "itype",
    "icode",
    "dsize",
    "flags",
    "tcp.flags",
    "fragbits",
    "ipopts",
    "app-layer-event",
    "app-layer-protocol",
    "urilen",
    "modbus",
    "mqtt.flags",
    "mqtt.connect.flags",
    "flow.pkts",
    "flow.bytes",
    "flow.pkts_toserver",
    "flow.pkts_toclient",
    "flow.bytes_toserver",
    "flow.bytes_toclient",
    "dotprefix",
    "strip_whitespace",
    "compress_whitespace",
    "to_lowercase",
    "to_uppercase",
    "url_decode",
    "from_base64",
    "pcrexform",
    "xor",
    "to_md5",
    "to_sha1",
    "to_sha256",
    "header_lowercase",
    "strip_pseudo_headers",
    "gunzip",
    "zlib_deflate",
    "uricontent",
    "icmp_id",
    "icmp_seq",
];

/// True when custos honours keyword `name` (an option, sticky buffer, legacy content
/// modifier, field or transform).
pub fn is_supported(name: &str) -> bool {
    OPTIONS.contains(&name)
        || IGNORED_OPTIONS.contains(&name)
        || buffer(name).is_some()
        || content_modifier(name).is_some()
        || header_buffer(name).is_some()
        || int_field(name).is_some()
}

/// Options that only describe a rule and change nothing custos does.
pub const IGNORED_OPTIONS: &[&str] = &["target", "rawbytes", "tag"];
