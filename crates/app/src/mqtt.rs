//! MQTT 3.1, 3.1.1 and 5 over a reassembled byte stream.
//!
//! [`MqttParser`] holds both directions of one connection (the server direction needs the
//! protocol version the client announced in CONNECT). Feed it [`MqttParser::data`] and
//! [`MqttParser::gap`] from a [`crate::StreamSink`]; frames may be split across segments in any
//! way. Each complete frame yields an [`MqttEvent::Message`]; problems yield
//! [`MqttEvent::Error`] with the byte offset in that direction's stream.
//!
//! Policy on bad input:
//! - **Body malformed, framing intact** (bad string, truncated field, QoS 3, reserved type 0,
//!   trailing bytes…): the frame's length is known, so an error is reported and parsing
//!   continues with the next frame.
//! - **Frame larger than [`MqttConfig::max_frame`]**: error, and its bytes are skipped without
//!   being buffered; parsing continues after it.
//! - **Framing lost** (remaining-length varint longer than 4 bytes): error, and the direction
//!   stops (later bytes are ignored) until a gap.
//! - **Gap** (bytes missed by reassembly): the partial frame is dropped and the direction
//!   resynchronises at the start of the next data chunk (segments usually start on frame
//!   boundaries) if that chunk begins with a plausible fixed header; otherwise it waits for
//!   the next chunk.
//!
//! The protocol version comes from CONNECT; a connection picked up mid-stream uses
//! [`MqttConfig::default_version`] until a CONNACK longer than 2 bytes shows it is v5.
//! In v5, acknowledgements and DISCONNECT that omit the reason code report 0 (the spec's
//! implied Success / Normal disconnection).
//!
//! v5 properties are skipped by their length (never interpreted). Password values are not
//! kept, only their presence and length.

use serde::Serialize;

use crate::reader::Reader;
use crate::Direction;

/// Largest remaining length the 4-byte varint can express (256 MiB - 1).
pub const MAX_REMAINING_LENGTH: usize = 268_435_455;

/// Limits and defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MqttConfig {
    /// Largest frame (fixed header + remaining length) buffered and parsed; larger ones are
    /// skipped with an error.
    pub max_frame: usize,
    /// Protocol level assumed until a CONNECT is seen (4 = 3.1.1).
    pub default_version: u8,
    /// Most topic filters kept per SUBSCRIBE/UNSUBSCRIBE (the rest are counted, not kept).
    pub max_topics: usize,
}

impl Default for MqttConfig {
    fn default() -> Self {
        MqttConfig {
            max_frame: 1 << 20,
            default_version: 4,
            max_topics: 64,
        }
    }
}

/// Control packet type (high nibble of the first byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PacketType {
    /// 1
    Connect,
    /// 2
    Connack,
    /// 3
    Publish,
    /// 4
    Puback,
    /// 5
    Pubrec,
    /// 6
    Pubrel,
    /// 7
    Pubcomp,
    /// 8
    Subscribe,
    /// 9
    Suback,
    /// 10
    Unsubscribe,
    /// 11
    Unsuback,
    /// 12
    Pingreq,
    /// 13
    Pingresp,
    /// 14
    Disconnect,
    /// 15 (v5)
    Auth,
}

impl PacketType {
    fn from_nibble(n: u8) -> Option<Self> {
        Some(match n {
            1 => PacketType::Connect,
            2 => PacketType::Connack,
            3 => PacketType::Publish,
            4 => PacketType::Puback,
            5 => PacketType::Pubrec,
            6 => PacketType::Pubrel,
            7 => PacketType::Pubcomp,
            8 => PacketType::Subscribe,
            9 => PacketType::Suback,
            10 => PacketType::Unsubscribe,
            11 => PacketType::Unsuback,
            12 => PacketType::Pingreq,
            13 => PacketType::Pingresp,
            14 => PacketType::Disconnect,
            15 => PacketType::Auth,
            _ => return None,
        })
    }

    /// The wire value (1–15).
    pub fn number(self) -> u8 {
        self as u8 + 1
    }
}

/// Fixed-header flag bits as sent (meaningful for PUBLISH).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FixedHeader {
    /// Packet type.
    pub packet_type: PacketType,
    /// DUP bit.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dup: bool,
    /// QoS bits (0..=3 as sent).
    pub qos: u8,
    /// RETAIN bit.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub retain: bool,
    /// Remaining length.
    pub remaining_length: u32,
}

/// CONNECT.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Connect {
    /// "MQTT" (3.1.1, 5) or "MQIsdp" (3.1).
    pub protocol_name: String,
    /// 3 (3.1), 4 (3.1.1) or 5.
    pub protocol_version: u8,
    /// Username flag.
    pub username_flag: bool,
    /// Password flag.
    pub password_flag: bool,
    /// Will flag.
    pub will_flag: bool,
    /// Will QoS.
    pub will_qos: u8,
    /// Will retain.
    pub will_retain: bool,
    /// Clean session (clean start in v5).
    pub clean_session: bool,
    /// Keep alive, seconds.
    pub keepalive: u16,
    /// Client identifier (may be empty).
    pub client_id: String,
    /// Will topic, when the will flag is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub will_topic: Option<String>,
    /// Will payload length, when the will flag is set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub will_payload_len: Option<usize>,
    /// Username, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password length, when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password_len: Option<usize>,
    /// The password, for signatures that match it (`mqtt.connect.password`); never written
    /// to any output.
    #[serde(skip)]
    pub password: Option<Vec<u8>>,
}

/// CONNACK.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Connack {
    /// Session present.
    pub session_present: bool,
    /// Return code (3.x) or reason code (5).
    pub return_code: u8,
}

/// PUBLISH.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Publish {
    /// Topic name (may be empty in v5 with a topic alias).
    pub topic: String,
    /// Packet identifier (QoS 1 and 2).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub packet_id: Option<u16>,
    /// Application payload length.
    pub payload_len: usize,
    /// The payload's first [`PAYLOAD_KEPT`] bytes, for signatures
    /// (`mqtt.publish.message`); not written to events.
    #[serde(skip)]
    pub payload: Vec<u8>,
}

/// Bytes of a PUBLISH payload kept in [`Publish::payload`].
pub const PAYLOAD_KEPT: usize = 65_536;

/// PUBACK, PUBREC, PUBREL, PUBCOMP.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ack {
    /// Packet identifier.
    pub packet_id: u16,
    /// v5 reason code, when sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<u8>,
}

/// One SUBSCRIBE filter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopicFilter {
    /// Topic filter.
    pub topic: String,
    /// Requested QoS (low two bits of the options byte).
    pub qos: u8,
}

/// SUBSCRIBE.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subscribe {
    /// Packet identifier.
    pub packet_id: u16,
    /// Filters (at most `max_topics`).
    pub filters: Vec<TopicFilter>,
    /// Filters present in the frame (may exceed `filters.len()`).
    pub filter_count: usize,
}

/// SUBACK and UNSUBACK.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubAck {
    /// Packet identifier.
    pub packet_id: u16,
    /// Granted QoS / reason codes, one per filter (UNSUBACK: v5 only).
    pub codes: Vec<u8>,
}

/// UNSUBSCRIBE.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unsubscribe {
    /// Packet identifier.
    pub packet_id: u16,
    /// Topic filters (at most `max_topics`).
    pub topics: Vec<String>,
    /// Filters present in the frame.
    pub topic_count: usize,
}

/// DISCONNECT and AUTH.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReasonOnly {
    /// v5 reason code, when sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<u8>,
}

/// A parsed control packet body.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MqttMessage {
    /// CONNECT.
    Connect(Connect),
    /// CONNACK.
    Connack(Connack),
    /// PUBLISH.
    Publish(Publish),
    /// PUBACK.
    Puback(Ack),
    /// PUBREC.
    Pubrec(Ack),
    /// PUBREL.
    Pubrel(Ack),
    /// PUBCOMP.
    Pubcomp(Ack),
    /// SUBSCRIBE.
    Subscribe(Subscribe),
    /// SUBACK.
    Suback(SubAck),
    /// UNSUBSCRIBE.
    Unsubscribe(Unsubscribe),
    /// UNSUBACK.
    Unsuback(SubAck),
    /// PINGREQ.
    Pingreq,
    /// PINGRESP.
    Pingresp,
    /// DISCONNECT.
    Disconnect(ReasonOnly),
    /// AUTH (v5).
    Auth(ReasonOnly),
}

/// One parsed frame.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MqttRecord {
    /// Who sent it.
    #[serde(skip)] // the event carries it
    pub direction: Direction,
    /// Offset of the frame's first byte in the direction's stream (gaps included).
    pub offset: u64,
    /// Fixed header.
    pub header: FixedHeader,
    /// Body.
    pub message: MqttMessage,
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum MqttErrorKind {
    /// Remaining-length varint longer than 4 bytes: framing lost, direction stopped.
    #[error("remaining length longer than 4 bytes")]
    BadRemainingLength,
    /// Frame larger than the configured maximum: skipped.
    #[error("frame larger than the configured maximum")]
    FrameTooLarge,
    /// Packet type 0 (reserved): skipped.
    #[error("reserved packet type 0")]
    ReservedType,
    /// A field ran past the end of the frame.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// A field had an invalid value.
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// Bytes left after the last field.
    #[error("trailing bytes after {0}")]
    Trailing(&'static str),
    /// The stream ended inside a frame.
    #[error("stream ended inside a frame")]
    Incomplete,
}

/// A parse error: where (offset in the direction's stream) and what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("mqtt {direction:?} at byte {offset}: {kind}")]
pub struct MqttError {
    /// Direction.
    pub direction: Direction,
    /// Byte offset in the direction's stream.
    pub offset: u64,
    /// What.
    pub kind: MqttErrorKind,
}

/// Output of the parser.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MqttEvent {
    /// A frame.
    Message(MqttRecord),
    /// A problem.
    Error(MqttError),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Parsing frames.
    Frames,
    /// Skipping the rest of an oversized frame.
    Skip(usize),
    /// After a gap: look for a header at the next chunk start.
    Resync,
    /// Framing lost.
    Stopped,
}

#[derive(Debug)]
struct Half {
    buf: Vec<u8>,
    /// Stream offset of `buf[0]` (or of the next byte when empty).
    offset: u64,
    mode: Mode,
}

impl Half {
    fn new() -> Self {
        Half {
            buf: Vec::new(),
            offset: 0,
            mode: Mode::Frames,
        }
    }
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MqttStats {
    /// Frames parsed.
    pub messages: u64,
    /// Errors reported.
    pub errors: u64,
    /// Bytes ignored (oversized frames, stopped direction, waiting for resync).
    pub skipped_bytes: u64,
}

/// MQTT parser for both directions of one connection.
#[derive(Debug)]
pub struct MqttParser {
    cfg: MqttConfig,
    version: u8,
    version_known: bool,
    to_server: Half,
    to_client: Half,
    stats: MqttStats,
}

enum Header {
    /// Need more bytes.
    Incomplete,
    /// Framing lost.
    Bad,
    /// (first byte, remaining length, header length)
    Ok(u8, usize, usize),
}

fn fixed_header(buf: &[u8]) -> Header {
    let mut r = Reader::new(buf);
    let Some(first) = r.u8() else {
        return Header::Incomplete;
    };
    let mut value: usize = 0;
    for i in 0..4 {
        let Some(b) = r.u8() else {
            return Header::Incomplete;
        };
        value |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Header::Ok(first, value, r.offset());
        }
    }
    Header::Bad
}

impl MqttParser {
    /// A parser for a new connection.
    pub fn new(cfg: MqttConfig) -> Self {
        MqttParser {
            cfg,
            version: cfg.default_version,
            version_known: false,
            to_server: Half::new(),
            to_client: Half::new(),
            stats: MqttStats::default(),
        }
    }

    /// Protocol level in use (from CONNECT, else the configured default).
    pub fn version(&self) -> u8 {
        self.version
    }

    /// Counters.
    pub fn stats(&self) -> &MqttStats {
        &self.stats
    }

    fn half(&mut self, dir: Direction) -> &mut Half {
        match dir {
            Direction::ToServer => &mut self.to_server,
            Direction::ToClient => &mut self.to_client,
        }
    }

    /// Bytes missed in `dir`: drop the partial frame and resynchronise on the next chunk.
    pub fn gap(&mut self, dir: Direction, missed: u64) {
        let h = self.half(dir);
        let dropped = h.buf.len() as u64;
        h.offset = h.offset.saturating_add(dropped).saturating_add(missed);
        h.buf.clear();
        h.mode = Mode::Resync;
        self.stats.skipped_bytes = self.stats.skipped_bytes.saturating_add(dropped);
    }

    /// The direction ended: an unfinished frame is reported as [`MqttErrorKind::Incomplete`].
    pub fn end(&mut self, dir: Direction, out: &mut Vec<MqttEvent>) {
        let h = self.half(dir);
        if !h.buf.is_empty() && h.mode == Mode::Frames {
            let offset = h.offset;
            h.buf.clear();
            self.error(dir, offset, MqttErrorKind::Incomplete, out);
        }
    }

    fn error(
        &mut self,
        direction: Direction,
        offset: u64,
        kind: MqttErrorKind,
        out: &mut Vec<MqttEvent>,
    ) {
        self.stats.errors = self.stats.errors.saturating_add(1);
        out.push(MqttEvent::Error(MqttError {
            direction,
            offset,
            kind,
        }));
    }

    /// Plausible start of a frame (used to resynchronise after a gap).
    fn plausible(&self, chunk: &[u8]) -> bool {
        match fixed_header(chunk) {
            Header::Ok(first, len, hl) => {
                let ty = first >> 4;
                let fl = first & 0x0f;
                let flags_ok = match ty {
                    3 => (fl >> 1) & 3 != 3,
                    6 | 8 | 10 => fl == 2,
                    1..=15 => fl == 0,
                    _ => false,
                };
                flags_ok && len.saturating_add(hl) <= self.cfg.max_frame
            }
            _ => false,
        }
    }

    /// Bytes from `dir`'s stream.
    pub fn data(&mut self, dir: Direction, mut chunk: &[u8], out: &mut Vec<MqttEvent>) {
        loop {
            let mode = self.half(dir).mode;
            match mode {
                Mode::Stopped => {
                    let h = self.half(dir);
                    h.offset = h.offset.saturating_add(chunk.len() as u64);
                    self.stats.skipped_bytes =
                        self.stats.skipped_bytes.saturating_add(chunk.len() as u64);
                    return;
                }
                Mode::Resync => {
                    if self.plausible(chunk) {
                        self.half(dir).mode = Mode::Frames;
                        continue;
                    }
                    let h = self.half(dir);
                    h.offset = h.offset.saturating_add(chunk.len() as u64);
                    self.stats.skipped_bytes =
                        self.stats.skipped_bytes.saturating_add(chunk.len() as u64);
                    return;
                }
                Mode::Skip(left) => {
                    let n = left.min(chunk.len());
                    let h = self.half(dir);
                    h.offset = h.offset.saturating_add(n as u64);
                    h.mode = if n == left {
                        Mode::Frames
                    } else {
                        Mode::Skip(left - n)
                    };
                    self.stats.skipped_bytes = self.stats.skipped_bytes.saturating_add(n as u64);
                    chunk = chunk.get(n..).unwrap_or_default();
                    if chunk.is_empty() {
                        return;
                    }
                }
                Mode::Frames => {
                    // Parse frames directly from `chunk` when nothing is buffered (no copy);
                    // otherwise append and parse from the buffer.
                    if self.half(dir).buf.is_empty() {
                        let used = self.frames(dir, chunk, out);
                        let rest = chunk.get(used..).unwrap_or_default();
                        let h = self.half(dir);
                        match h.mode {
                            Mode::Frames => {
                                h.buf.extend_from_slice(rest);
                                return;
                            }
                            _ => {
                                chunk = rest;
                                if chunk.is_empty() {
                                    return;
                                }
                            }
                        }
                    } else {
                        let mut buf = std::mem::take(&mut self.half(dir).buf);
                        buf.extend_from_slice(chunk);
                        let used = self.frames(dir, &buf, out);
                        let rest = buf.get(used..).unwrap_or_default();
                        let mode = self.half(dir).mode;
                        if mode == Mode::Frames {
                            let keep = rest.len();
                            buf.drain(..buf.len().saturating_sub(keep));
                            self.half(dir).buf = buf;
                            return;
                        }
                        let rest = rest.to_vec();
                        buf.clear();
                        self.half(dir).buf = buf;
                        self.data(dir, &rest, out);
                        return;
                    }
                }
            }
        }
    }

    /// Parses complete frames from `buf`; returns bytes consumed. Stops early when the mode
    /// changes (skip, stop).
    fn frames(&mut self, dir: Direction, buf: &[u8], out: &mut Vec<MqttEvent>) -> usize {
        let mut used = 0usize;
        loop {
            let Some(rest) = buf.get(used..) else {
                return used;
            };
            let frame_offset = self.half(dir).offset;
            match fixed_header(rest) {
                Header::Incomplete => return used,
                Header::Bad => {
                    self.error(dir, frame_offset, MqttErrorKind::BadRemainingLength, out);
                    self.half(dir).mode = Mode::Stopped;
                    return used;
                }
                Header::Ok(first, len, hl) => {
                    let total = len.saturating_add(hl);
                    if total > self.cfg.max_frame {
                        self.error(dir, frame_offset, MqttErrorKind::FrameTooLarge, out);
                        let h = self.half(dir);
                        h.mode = Mode::Skip(total);
                        return used;
                    }
                    let Some(frame) = rest.get(..total) else {
                        return used;
                    };
                    let body = frame.get(hl..).unwrap_or_default();
                    self.frame(dir, frame_offset, first, len, hl, body, out);
                    used = used.saturating_add(total);
                    let h = self.half(dir);
                    h.offset = h.offset.saturating_add(total as u64);
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn frame(
        &mut self,
        dir: Direction,
        offset: u64,
        first: u8,
        len: usize,
        hl: usize,
        body: &[u8],
        out: &mut Vec<MqttEvent>,
    ) {
        let Some(packet_type) = PacketType::from_nibble(first >> 4) else {
            self.error(dir, offset, MqttErrorKind::ReservedType, out);
            return;
        };
        let header = FixedHeader {
            packet_type,
            dup: first & 0x08 != 0,
            qos: (first >> 1) & 3,
            retain: first & 1 != 0,
            remaining_length: u32::try_from(len).unwrap_or(u32::MAX),
        };
        let mut r = Reader::with_base(body, hl);
        match self.body(&header, &mut r) {
            Ok(message) => {
                if let MqttMessage::Connect(c) = &message {
                    if matches!(c.protocol_version, 3..=5) {
                        self.version = c.protocol_version;
                        self.version_known = true;
                    }
                }
                if header.packet_type == PacketType::Connack && !self.version_known && len > 2 {
                    self.version = 5;
                    self.version_known = true;
                }
                self.stats.messages = self.stats.messages.saturating_add(1);
                out.push(MqttEvent::Message(MqttRecord {
                    direction: dir,
                    offset,
                    header,
                    message,
                }));
            }
            Err((at, kind)) => {
                self.error(dir, offset.saturating_add(at as u64), kind, out);
            }
        }
    }

    fn body(
        &self,
        h: &FixedHeader,
        r: &mut Reader<'_>,
    ) -> Result<MqttMessage, (usize, MqttErrorKind)> {
        let v5 = self.version >= 5;
        let msg = match h.packet_type {
            PacketType::Connect => MqttMessage::Connect(connect(r)?),
            PacketType::Connack => MqttMessage::Connack(self.connack(r, v5)?),
            PacketType::Publish => MqttMessage::Publish(publish(h, r, v5)?),
            PacketType::Puback | PacketType::Pubrec | PacketType::Pubrel | PacketType::Pubcomp => {
                let a = ack(r, v5)?;
                match h.packet_type {
                    PacketType::Puback => MqttMessage::Puback(a),
                    PacketType::Pubrec => MqttMessage::Pubrec(a),
                    PacketType::Pubrel => MqttMessage::Pubrel(a),
                    _ => MqttMessage::Pubcomp(a),
                }
            }
            PacketType::Subscribe => MqttMessage::Subscribe(self.subscribe(r, v5)?),
            PacketType::Suback | PacketType::Unsuback => {
                let a = self.suback(r, v5)?;
                if h.packet_type == PacketType::Suback {
                    MqttMessage::Suback(a)
                } else {
                    MqttMessage::Unsuback(a)
                }
            }
            PacketType::Unsubscribe => MqttMessage::Unsubscribe(self.unsubscribe(r, v5)?),
            PacketType::Pingreq => MqttMessage::Pingreq,
            PacketType::Pingresp => MqttMessage::Pingresp,
            PacketType::Disconnect | PacketType::Auth => {
                let b = reason_only(r, v5)?;
                if h.packet_type == PacketType::Disconnect {
                    MqttMessage::Disconnect(b)
                } else {
                    MqttMessage::Auth(b)
                }
            }
        };
        if !r.is_empty() {
            return Err((
                r.offset(),
                MqttErrorKind::Trailing(type_name(h.packet_type)),
            ));
        }
        Ok(msg)
    }

    /// CONNACK body.
    #[inline]
    fn connack(&self, r: &mut Reader<'_>, v5: bool) -> Res<Connack> {
        let flags = u8f(r, "connack flags")?;
        let code = u8f(r, "connack return code")?;
        // Without a CONNECT (mid-stream pickup) a CONNACK longer than 2 bytes can only
        // be v5: read its properties (the caller then switches the connection to v5).
        if (v5 || !self.version_known) && !r.is_empty() {
            properties(r)?;
        }
        Ok(Connack {
            session_present: flags & 1 != 0,
            return_code: code,
        })
    }

    /// SUBSCRIBE body (keeps at most `max_topics` filters, counts them all).
    #[inline]
    fn subscribe(&self, r: &mut Reader<'_>, v5: bool) -> Res<Subscribe> {
        let packet_id = u16f(r, "packet id")?;
        if v5 {
            properties(r)?;
        }
        let mut filters = Vec::new();
        let mut filter_count = 0usize;
        while !r.is_empty() {
            let topic = string(r, "topic filter")?;
            let opts = u8f(r, "subscription options")?;
            filter_count = filter_count.saturating_add(1);
            if filters.len() < self.cfg.max_topics {
                filters.push(TopicFilter {
                    topic,
                    qos: opts & 3,
                });
            }
        }
        if filter_count == 0 {
            return Err((r.offset(), MqttErrorKind::Invalid("empty subscribe")));
        }
        Ok(Subscribe {
            packet_id,
            filters,
            filter_count,
        })
    }

    /// SUBACK and UNSUBACK body (at most `max_topics` codes).
    #[inline]
    fn suback(&self, r: &mut Reader<'_>, v5: bool) -> Res<SubAck> {
        let packet_id = u16f(r, "packet id")?;
        if v5 {
            properties(r)?;
        }
        let codes = r.rest().iter().copied().take(self.cfg.max_topics).collect();
        Ok(SubAck { packet_id, codes })
    }

    /// UNSUBSCRIBE body (keeps at most `max_topics` filters, counts them all).
    #[inline]
    fn unsubscribe(&self, r: &mut Reader<'_>, v5: bool) -> Res<Unsubscribe> {
        let packet_id = u16f(r, "packet id")?;
        if v5 {
            properties(r)?;
        }
        let mut topics = Vec::new();
        let mut topic_count = 0usize;
        while !r.is_empty() {
            let t = string(r, "topic filter")?;
            topic_count = topic_count.saturating_add(1);
            if topics.len() < self.cfg.max_topics {
                topics.push(t);
            }
        }
        Ok(Unsubscribe {
            packet_id,
            topics,
            topic_count,
        })
    }
}

/// PUBLISH body (the payload is measured, not kept).
#[inline]
fn publish(h: &FixedHeader, r: &mut Reader<'_>, v5: bool) -> Res<Publish> {
    if h.qos == 3 {
        return Err((0, MqttErrorKind::Invalid("publish qos 3")));
    }
    let topic = string(r, "topic")?;
    let packet_id = if h.qos > 0 {
        Some(u16f(r, "packet id")?)
    } else {
        None
    };
    if v5 {
        properties(r)?;
    }
    let payload = r.rest();
    Ok(Publish {
        topic,
        packet_id,
        payload_len: payload.len(),
        payload: payload.get(..PAYLOAD_KEPT).unwrap_or(payload).to_vec(),
    })
}

/// PUBACK, PUBREC, PUBREL and PUBCOMP body.
#[inline]
fn ack(r: &mut Reader<'_>, v5: bool) -> Res<Ack> {
    let packet_id = u16f(r, "packet id")?;
    // v5 omits a Success (0) reason code.
    let reason_code = if !r.is_empty() {
        Some(u8f(r, "reason code")?)
    } else {
        v5.then_some(0)
    };
    if v5 && !r.is_empty() {
        properties(r)?;
    }
    Ok(Ack {
        packet_id,
        reason_code,
    })
}

/// DISCONNECT and AUTH body.
#[inline]
fn reason_only(r: &mut Reader<'_>, v5: bool) -> Res<ReasonOnly> {
    // v5 omits a Normal / Success (0) reason code.
    let reason_code = match (v5, r.is_empty()) {
        (true, false) => Some(u8f(r, "reason code")?),
        (true, true) => Some(0),
        (false, _) => None,
    };
    if v5 && !r.is_empty() {
        properties(r)?;
    }
    Ok(ReasonOnly { reason_code })
}

fn type_name(t: PacketType) -> &'static str {
    match t {
        PacketType::Connect => "connect",
        PacketType::Connack => "connack",
        PacketType::Publish => "publish",
        PacketType::Puback => "puback",
        PacketType::Pubrec => "pubrec",
        PacketType::Pubrel => "pubrel",
        PacketType::Pubcomp => "pubcomp",
        PacketType::Subscribe => "subscribe",
        PacketType::Suback => "suback",
        PacketType::Unsubscribe => "unsubscribe",
        PacketType::Unsuback => "unsuback",
        PacketType::Pingreq => "pingreq",
        PacketType::Pingresp => "pingresp",
        PacketType::Disconnect => "disconnect",
        PacketType::Auth => "auth",
    }
}

type Res<T> = Result<T, (usize, MqttErrorKind)>;

fn u8f(r: &mut Reader<'_>, what: &'static str) -> Res<u8> {
    let at = r.offset();
    r.u8().ok_or((at, MqttErrorKind::Truncated(what)))
}

fn u16f(r: &mut Reader<'_>, what: &'static str) -> Res<u16> {
    let at = r.offset();
    r.u16().ok_or((at, MqttErrorKind::Truncated(what)))
}

fn binary<'a>(r: &mut Reader<'a>, what: &'static str) -> Res<&'a [u8]> {
    let at = r.offset();
    let len = r.u16().ok_or((at, MqttErrorKind::Truncated(what)))?;
    r.take(usize::from(len))
        .ok_or((at, MqttErrorKind::Truncated(what)))
}

fn string(r: &mut Reader<'_>, what: &'static str) -> Res<String> {
    binary(r, what).map(|b| String::from_utf8_lossy(b).into_owned())
}

fn varint(r: &mut Reader<'_>, what: &'static str) -> Res<usize> {
    let at = r.offset();
    let mut value = 0usize;
    for i in 0..4 {
        let b = r.u8().ok_or((at, MqttErrorKind::Truncated(what)))?;
        value |= usize::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err((at, MqttErrorKind::Invalid(what)))
}

/// Skips a v5 property block (length-prefixed) without interpreting it.
fn properties(r: &mut Reader<'_>) -> Res<()> {
    let len = varint(r, "properties length")?;
    let at = r.offset();
    r.sub(len)
        .map(|_| ())
        .ok_or((at, MqttErrorKind::Truncated("properties")))
}

fn connect(r: &mut Reader<'_>) -> Res<Connect> {
    let protocol_name = string(r, "protocol name")?;
    let protocol_version = u8f(r, "protocol level")?;
    let at = r.offset();
    let flags = u8f(r, "connect flags")?;
    if flags & 1 != 0 {
        return Err((at, MqttErrorKind::Invalid("connect reserved flag")));
    }
    let keepalive = u16f(r, "keepalive")?;
    let v5 = protocol_version >= 5;
    if v5 {
        properties(r)?;
    }
    let client_id = string(r, "client id")?;
    let will_flag = flags & 0x04 != 0;
    let (mut will_topic, mut will_payload_len) = (None, None);
    if will_flag {
        if v5 {
            properties(r)?;
        }
        will_topic = Some(string(r, "will topic")?);
        will_payload_len = Some(binary(r, "will payload")?.len());
    }
    let username_flag = flags & 0x80 != 0;
    let password_flag = flags & 0x40 != 0;
    let username = if username_flag {
        Some(string(r, "username")?)
    } else {
        None
    };
    let password = if password_flag {
        Some(binary(r, "password")?.to_vec())
    } else {
        None
    };
    let password_len = password.as_ref().map(Vec::len);
    Ok(Connect {
        protocol_name,
        protocol_version,
        username_flag,
        password_flag,
        will_flag,
        will_qos: (flags >> 3) & 3,
        will_retain: flags & 0x20 != 0,
        clean_session: flags & 0x02 != 0,
        keepalive,
        client_id,
        will_topic,
        will_payload_len,
        username,
        password_len,
        password,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(p: &mut MqttParser, dir: Direction, chunks: &[&[u8]]) -> Vec<MqttEvent> {
        let mut out = Vec::new();
        for c in chunks {
            p.data(dir, c, &mut out);
        }
        out
    }

    const CONNECT_311: &[u8] = &[
        0x10, 0x1d, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0xc2, 0x00, 0x3c, 0x00, 0x05, b'c',
        b'l', b'i', b'e', b'n', 0x00, 0x04, b'u', b's', b'e', b'r', 0x00, 0x04, b'p', b'a', b's',
        b's',
    ];

    #[test]
    fn connect_311_split_byte_by_byte() {
        let mut p = MqttParser::new(MqttConfig::default());
        let chunks: Vec<&[u8]> = CONNECT_311.chunks(1).collect();
        let out = feed(&mut p, Direction::ToServer, &chunks);
        assert_eq!(out.len(), 1);
        let MqttEvent::Message(m) = &out[0] else {
            panic!("{out:?}")
        };
        let MqttMessage::Connect(c) = &m.message else {
            panic!()
        };
        assert_eq!(c.protocol_name, "MQTT");
        assert_eq!(c.protocol_version, 4);
        assert_eq!(c.client_id, "clien");
        assert_eq!(c.username.as_deref(), Some("user"));
        assert_eq!(c.password_len, Some(4));
        assert!(c.clean_session && !c.will_flag);
        assert_eq!(c.keepalive, 60);
    }

    #[test]
    fn v5_publish_with_properties_and_two_frames_in_one_chunk() {
        let mut p = MqttParser::new(MqttConfig {
            default_version: 5,
            ..MqttConfig::default()
        });
        // PUBLISH qos1 topic "a/b" id 7, properties len 2 (payload format 1), payload "hi";
        // then PINGREQ.
        let frame = [
            0x32, 0x0b, 0x00, 0x03, b'a', b'/', b'b', 0x00, 0x07, 0x02, 0x01, 0x01, b'h', b'i',
        ];
        let mut bytes = frame.to_vec();
        bytes[1] = (frame.len() - 2) as u8;
        bytes.extend_from_slice(&[0xc0, 0x00]);
        let out = feed(&mut p, Direction::ToServer, &[&bytes]);
        assert_eq!(out.len(), 2, "{out:?}");
        let MqttEvent::Message(m) = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!(m.header.qos, 1);
        assert_eq!(
            m.message,
            MqttMessage::Publish(Publish {
                topic: "a/b".into(),
                packet_id: Some(7),
                payload_len: 2,
                payload: b"hi".to_vec(),
            })
        );
        let MqttEvent::Message(m) = &out[1] else {
            panic!()
        };
        assert_eq!(m.message, MqttMessage::Pingreq);
        assert_eq!(m.offset, bytes.len() as u64 - 2);
    }

    #[test]
    fn subscribe_and_suback() {
        let mut p = MqttParser::new(MqttConfig::default());
        let sub = [
            0x82, 0x0a, 0x00, 0x01, 0x00, 0x01, b'x', 0x01, 0x00, 0x01, b'y', 0x02,
        ];
        let out = feed(&mut p, Direction::ToServer, &[&sub]);
        let MqttEvent::Message(m) = &out[0] else {
            panic!("{out:?}")
        };
        let MqttMessage::Subscribe(s) = &m.message else {
            panic!()
        };
        assert_eq!(
            s.filters,
            vec![
                TopicFilter {
                    topic: "x".into(),
                    qos: 1
                },
                TopicFilter {
                    topic: "y".into(),
                    qos: 2
                }
            ]
        );
        let out = feed(
            &mut p,
            Direction::ToClient,
            &[&[0x90, 0x04, 0x00, 0x01, 0x01, 0x02]],
        );
        let MqttEvent::Message(m) = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!(
            m.message,
            MqttMessage::Suback(SubAck {
                packet_id: 1,
                codes: vec![1, 2]
            })
        );
    }

    #[test]
    fn malformed_body_is_skipped_and_parsing_continues() {
        let mut p = MqttParser::new(MqttConfig::default());
        // PUBLISH whose topic length (0x10) runs past the frame, then PINGREQ.
        let out = feed(
            &mut p,
            Direction::ToServer,
            &[&[0x30, 0x03, 0x00, 0x10, b'a', 0xc0, 0x00]],
        );
        assert_eq!(
            out[0],
            MqttEvent::Error(MqttError {
                direction: Direction::ToServer,
                offset: 2,
                kind: MqttErrorKind::Truncated("topic")
            })
        );
        assert!(matches!(&out[1], MqttEvent::Message(m) if m.message == MqttMessage::Pingreq));
    }

    #[test]
    fn bad_varint_stops_and_gap_resyncs() {
        let mut p = MqttParser::new(MqttConfig::default());
        let out = feed(
            &mut p,
            Direction::ToServer,
            &[&[0x30, 0xff, 0xff, 0xff, 0xff, 0x01], &[0xc0, 0x00]],
        );
        assert_eq!(out.len(), 1);
        assert!(matches!(
            out[0],
            MqttEvent::Error(MqttError {
                kind: MqttErrorKind::BadRemainingLength,
                offset: 0,
                ..
            })
        ));
        p.gap(Direction::ToServer, 10);
        let mut out = Vec::new();
        p.data(Direction::ToServer, &[0x00, 0x00], &mut out); // not a plausible header
        p.data(Direction::ToServer, &[0xc0, 0x00], &mut out);
        assert_eq!(out.len(), 1);
        let MqttEvent::Message(m) = &out[0] else {
            panic!()
        };
        assert_eq!(m.offset, 6 + 2 + 10 + 2);
    }

    #[test]
    fn oversized_frame_is_skipped_without_buffering() {
        let mut p = MqttParser::new(MqttConfig {
            max_frame: 8,
            ..MqttConfig::default()
        });
        let mut big = vec![0x30, 0x0a, 0x00, 0x01, b't'];
        big.extend_from_slice(&[0; 7]);
        let out = feed(
            &mut p,
            Direction::ToServer,
            &[&big[..4], &big[4..], &[0xd0, 0x00]],
        );
        assert!(matches!(
            out[0],
            MqttEvent::Error(MqttError {
                kind: MqttErrorKind::FrameTooLarge,
                ..
            })
        ));
        assert!(matches!(&out[1], MqttEvent::Message(m) if m.message == MqttMessage::Pingresp));
        assert_eq!(p.stats().skipped_bytes, 12);
    }

    #[test]
    fn mqtt31_connect_and_v5_connack_disconnect() {
        let mut p = MqttParser::new(MqttConfig::default());
        let mut c = vec![0x10, 0x00, 0x00, 0x06];
        c.extend_from_slice(b"MQIsdp");
        c.extend_from_slice(&[0x03, 0x02, 0x00, 0x0a, 0x00, 0x01, b'c']);
        c[1] = (c.len() - 2) as u8;
        let out = feed(&mut p, Direction::ToServer, &[&c]);
        let MqttEvent::Message(m) = &out[0] else {
            panic!("{out:?}")
        };
        assert!(
            matches!(&m.message, MqttMessage::Connect(c) if c.protocol_version == 3 && c.username.is_none())
        );
        let mut p = MqttParser::new(MqttConfig {
            default_version: 5,
            ..MqttConfig::default()
        });
        let out = feed(
            &mut p,
            Direction::ToClient,
            &[
                &[0x20, 0x06, 0x01, 0x00, 0x03, 0x22, 0x00, 0x0a],
                &[0xe0, 0x01, 0x8e],
            ],
        );
        assert_eq!(out.len(), 2, "{out:?}");
        assert!(
            matches!(&out[0], MqttEvent::Message(m) if m.message == MqttMessage::Connack(Connack { session_present: true, return_code: 0 }))
        );
        assert!(
            matches!(&out[1], MqttEvent::Message(m) if m.message == MqttMessage::Disconnect(ReasonOnly { reason_code: Some(0x8e) }))
        );
    }

    #[test]
    fn never_panics_on_noise() {
        let mut seed = 0x1234_5678u32;
        for _ in 0..2000 {
            let mut p = MqttParser::new(MqttConfig {
                max_frame: 64,
                default_version: 5,
                max_topics: 4,
            });
            let mut out = Vec::new();
            let mut bytes = Vec::new();
            for _ in 0..(seed % 97) {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                bytes.push((seed >> 16) as u8);
            }
            for c in bytes.chunks(1 + (seed as usize % 7)) {
                p.data(Direction::ToServer, c, &mut out);
            }
            p.end(Direction::ToServer, &mut out);
        }
    }
}
