//! The connection state machine: records, handshake reassembly, encryption, gaps.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Parsing records.
    Records,
    /// Encrypted from here on.
    Encrypted,
    /// Not TLS (or too large): ignoring.
    Stopped,
    /// After a gap: waiting for a chunk that starts with a record header.
    Resync,
}

#[derive(Debug)]
struct Half {
    /// Partial record (header included).
    rec: Vec<u8>,
    /// Partial handshake message(s).
    hs: Vec<u8>,
    /// (position in `hs`, stream offset) of each record body appended to `hs`.
    hs_map: Vec<(usize, u64)>,
    /// Stream offset of the next byte not yet consumed (`rec` excluded).
    pos: u64,
    state: State,
    /// Nothing parsed yet (SSLv2 detection).
    first: bool,
    ended: bool,
    /// Finished its part of a TLS ≤ 1.2 full handshake.
    flight_done: bool,
    /// Version of the record that started the buffered handshake data.
    record_version: u16,
    /// Bytes that are not TLS were seen (and no record since).
    not_tls: bool,
}

impl Half {
    fn new() -> Self {
        Half {
            rec: Vec::new(),
            hs: Vec::new(),
            hs_map: Vec::new(),
            pos: 0,
            state: State::Records,
            first: true,
            ended: false,
            flight_done: false,
            record_version: 0,
            not_tls: false,
        }
    }

    fn finished(&self) -> bool {
        self.ended
            || self.flight_done
            || matches!(self.state, State::Encrypted | State::Stopped)
            || (self.not_tls && self.state == State::Resync)
    }
}

/// TLS handshake parser for both directions of one connection.
#[derive(Debug)]
pub struct TlsParser {
    client: Half,
    server: Half,
    /// The server selected TLS 1.3 (or a draft of it).
    tls13: bool,
}

impl Default for TlsParser {
    fn default() -> Self {
        Self::new()
    }
}

fn err(direction: Direction, offset: u64, kind: TlsErrorKind, out: &mut Vec<TlsEvent>) {
    out.push(TlsEvent::Error(TlsError {
        direction,
        offset,
        kind,
    }));
}

impl TlsParser {
    /// A parser for a new connection.
    pub fn new() -> Self {
        TlsParser {
            client: Half::new(),
            server: Half::new(),
            tls13: false,
        }
    }

    /// True once nothing more of interest can come in clear text (see the module docs).
    pub fn done(&self) -> bool {
        self.client.finished() && self.server.finished()
    }

    fn half(&mut self, dir: Direction) -> &mut Half {
        match dir {
            Direction::ToServer => &mut self.client,
            Direction::ToClient => &mut self.server,
        }
    }

    /// Bytes that are not TLS records: wait for a chunk that starts with a record header.
    fn not_tls(&mut self, dir: Direction) {
        let h = self.half(dir);
        h.state = State::Resync;
        h.not_tls = true;
        h.hs.clear();
        h.hs_map.clear();
    }

    /// Bytes missed in `dir`: partial record and handshake data are dropped and the direction
    /// waits for a chunk that starts with a record header.
    pub fn gap(&mut self, dir: Direction, missed: u64) {
        let h = self.half(dir);
        h.pos = h
            .pos
            .saturating_add(h.rec.len() as u64)
            .saturating_add(missed);
        h.rec.clear();
        h.hs.clear();
        h.hs_map.clear();
        h.first = false;
        if h.state == State::Records {
            h.state = State::Resync;
        }
    }

    /// The direction ended: an unfinished record or handshake message is reported as
    /// [`TlsErrorKind::Incomplete`].
    pub fn end(&mut self, dir: Direction, out: &mut Vec<TlsEvent>) {
        let h = self.half(dir);
        if h.ended {
            return;
        }
        h.ended = true;
        if h.state == State::Records && (!h.rec.is_empty() || !h.hs.is_empty()) {
            let offset = match h.hs_map.first() {
                Some((_, o)) if h.rec.is_empty() => *o,
                _ => h.pos,
            };
            err(dir, offset, TlsErrorKind::Incomplete, out);
        }
        h.rec.clear();
        h.hs.clear();
        h.hs_map.clear();
    }

    /// Bytes from `dir`'s stream.
    pub fn data(&mut self, dir: Direction, bytes: &[u8], out: &mut Vec<TlsEvent>) {
        let mut rest = bytes;
        while !rest.is_empty() {
            let h = self.half(dir);
            match h.state {
                State::Encrypted | State::Stopped => {
                    h.pos = h.pos.saturating_add(rest.len() as u64);
                    return;
                }
                State::Resync => {
                    if plausible_record(rest) {
                        h.state = State::Records;
                        h.not_tls = false;
                    } else {
                        h.pos = h.pos.saturating_add(rest.len() as u64);
                        return;
                    }
                }
                State::Records => {}
            }
            let h = self.half(dir);
            if h.first && dir == Direction::ToServer && rest.first().is_some_and(|b| b & 0x80 != 0)
            {
                h.first = false;
                let used = self.sslv2(rest, out);
                let h = self.half(dir);
                h.pos = h.pos.saturating_add(used as u64);
                rest = rest.get(used..).unwrap_or_default();
                continue;
            }
            h.first = false;
            if h.rec.is_empty() {
                let used = self.records(dir, rest, out);
                let h = self.half(dir);
                h.pos = h.pos.saturating_add(used as u64);
                rest = rest.get(used..).unwrap_or_default();
                if h.state == State::Records {
                    // A partial record: keep it (its header was checked, so it is bounded).
                    h.rec.extend_from_slice(rest);
                    return;
                }
            } else {
                // Complete the buffered record.
                let h = self.half(dir);
                let have = h.rec.len();
                let need = if have < 5 {
                    5 - have
                } else {
                    let len = h
                        .rec
                        .get(3..)
                        .and_then(|b| b.first_chunk::<2>())
                        .map(|b| usize::from(u16::from_be_bytes(*b)))
                        .unwrap_or_default();
                    (5 + len).saturating_sub(have)
                };
                let take = need.min(rest.len());
                h.rec
                    .extend_from_slice(rest.get(..take).unwrap_or_default());
                rest = rest.get(take..).unwrap_or_default();
                if h.rec.len() < 5 || take < need {
                    continue;
                }
                if have < 5 {
                    // Header just completed: check it, then fetch the body.
                    if !plausible_record(&h.rec) {
                        let offset = h.pos;
                        h.pos = h.pos.saturating_add(h.rec.len() as u64);
                        h.rec.clear();
                        self.not_tls(dir);
                        err(dir, offset, TlsErrorKind::BadRecord, out);
                    }
                    continue;
                }
                let rec = std::mem::take(&mut h.rec);
                let used = self.records(dir, &rec, out);
                let h = self.half(dir);
                h.pos = h.pos.saturating_add(used as u64);
                let mut rec = rec;
                rec.clear();
                if h.rec.capacity() == 0 {
                    h.rec = rec;
                }
            }
        }
    }

    /// An SSLv2-format record at the start of the client's stream; returns bytes consumed
    /// (all of them when the record is incomplete, after buffering, or not SSLv2).
    fn sslv2(&mut self, bytes: &[u8], out: &mut Vec<TlsEvent>) -> usize {
        let len = match bytes {
            [h, l, ..] => usize::from(h & 0x7f) << 8 | usize::from(*l),
            _ => usize::MAX,
        };
        let Some(msg) = bytes.get(2..).and_then(|b| b.get(..len)) else {
            // Rare enough (a 2-byte header split across segments, or a hello split) to not be
            // worth reassembling: stop.
            self.client.state = State::Stopped;
            err(Direction::ToServer, 0, TlsErrorKind::BadRecord, out);
            return bytes.len();
        };
        match hello::sslv2_client_hello(msg, 0) {
            Ok(h) => out.push(TlsEvent::ClientHello(h)),
            Err((at, what)) => {
                err(
                    Direction::ToServer,
                    2u64.saturating_add(at as u64),
                    TlsErrorKind::BadHello(what),
                    out,
                );
            }
        }
        len.saturating_add(2)
    }

    /// Parses complete records from `buf`; returns bytes consumed. Stops at the first
    /// incomplete record or when the state leaves `Records`.
    fn records(&mut self, dir: Direction, buf: &[u8], out: &mut Vec<TlsEvent>) -> usize {
        let mut used = 0usize;
        loop {
            if self.half(dir).state != State::Records {
                return used;
            }
            let Some(rest) = buf.get(used..) else {
                return used;
            };
            let offset = self.half(dir).pos.saturating_add(used as u64);
            let [ty, vhi, vlo, hi, lo] = match rest.first_chunk::<5>() {
                Some(h) => *h,
                None => {
                    if !plausible_prefix(rest) {
                        self.not_tls(dir);
                        err(dir, offset, TlsErrorKind::BadRecord, out);
                    }
                    return used;
                }
            };
            if !plausible_record(rest) {
                self.not_tls(dir);
                err(dir, offset, TlsErrorKind::BadRecord, out);
                return used;
            }
            let len = usize::from(u16::from_be_bytes([hi, lo]));
            let Some(body) = rest.get(5..5 + len) else {
                return used;
            };
            used = used.saturating_add(5 + len);
            self.record(dir, offset, ty, u16::from_be_bytes([vhi, vlo]), body, out);
        }
    }

    fn record(
        &mut self,
        dir: Direction,
        offset: u64,
        ty: u8,
        version: u16,
        body: &[u8],
        out: &mut Vec<TlsEvent>,
    ) {
        match ty {
            // TLS 1.3 (RFC 8446 §5): a change_cipher_spec record is a middlebox-compatibility
            // leftover, dropped; application data marks the encryption.
            20 if self.tls13 => {}
            20 | 23 => self.half(dir).state = State::Encrypted,
            21 => match body {
                [level @ (1 | 2), description] => out.push(TlsEvent::Alert(TlsAlert {
                    offset,
                    direction: dir,
                    level: *level,
                    description: *description,
                })),
                _ => self.half(dir).state = State::Encrypted,
            },
            22 => {
                let h = self.half(dir);
                if h.hs.is_empty() {
                    h.record_version = version;
                }
                self.handshake(dir, offset.saturating_add(5), body, out)
            }
            _ => {} // heartbeat
        }
    }

    /// Handshake record body at stream offset `offset`.
    fn handshake(&mut self, dir: Direction, offset: u64, body: &[u8], out: &mut Vec<TlsEvent>) {
        let h = self.half(dir);
        if h.hs.is_empty() {
            let used = self.messages(dir, body, &[(0, offset)], out);
            let h = self.half(dir);
            if h.state == State::Records {
                if let Some(rest) = body.get(used..).filter(|r| !r.is_empty()) {
                    h.hs.extend_from_slice(rest);
                    h.hs_map.push((0, offset.saturating_add(used as u64)));
                }
            }
            return;
        }
        if h.hs.len().saturating_add(body.len()) > MAX_HANDSHAKE {
            let at = h.hs_map.first().map(|(_, o)| *o).unwrap_or(offset);
            h.hs.clear();
            h.hs_map.clear();
            h.state = State::Stopped;
            err(dir, at, TlsErrorKind::HandshakeTooLarge, out);
            return;
        }
        h.hs_map.push((h.hs.len(), offset));
        h.hs.extend_from_slice(body);
        let hs = std::mem::take(&mut h.hs);
        let map = std::mem::take(&mut h.hs_map);
        let used = self.messages(dir, &hs, &map, out);
        let h = self.half(dir);
        if h.state != State::Records || used >= hs.len() {
            let mut hs = hs;
            hs.clear();
            h.hs = hs;
            return;
        }
        let mut hs = hs;
        hs.drain(..used);
        h.hs = hs;
        h.hs_map = map
            .iter()
            .filter_map(|&(p, o)| {
                let end_ok = p >= used;
                end_ok.then(|| (p - used, o))
            })
            .collect();
        // The first kept byte may lie inside a record body that started before `used`.
        if h.hs_map.first().is_none_or(|(p, _)| *p != 0) {
            let o = stream_offset(&map, used);
            h.hs_map.insert(0, (0, o));
        }
    }

    /// Parses complete handshake messages; returns bytes consumed.
    fn messages(
        &mut self,
        dir: Direction,
        buf: &[u8],
        map: &[(usize, u64)],
        out: &mut Vec<TlsEvent>,
    ) -> usize {
        let mut used = 0usize;
        while let Some([ty, a, b, c]) = buf.get(used..).and_then(|r| r.first_chunk::<4>()).copied()
        {
            let len = usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c);
            let offset = stream_offset(map, used);
            if len.saturating_add(4) > MAX_HANDSHAKE {
                let h = self.half(dir);
                h.state = State::Stopped;
                h.hs.clear();
                h.hs_map.clear();
                err(dir, offset, TlsErrorKind::HandshakeTooLarge, out);
                return buf.len();
            }
            let Some(body) = buf.get(used + 4..used + 4 + len) else {
                return used;
            };
            used += 4 + len;
            self.message(dir, offset, ty, body, out);
            if self.half(dir).state != State::Records {
                return buf.len();
            }
        }
        used
    }

    fn message(
        &mut self,
        dir: Direction,
        offset: u64,
        ty: u8,
        body: &[u8],
        out: &mut Vec<TlsEvent>,
    ) {
        match (dir, ty) {
            (Direction::ToServer, 1) => {
                match hello::client_hello(body, offset, self.client.record_version) {
                    Ok(h) => out.push(TlsEvent::ClientHello(h)),
                    Err((at, what)) => err(
                        dir,
                        offset.saturating_add(4 + at as u64),
                        TlsErrorKind::BadHello(what),
                        out,
                    ),
                }
            }
            (Direction::ToClient, 2) => match hello::server_hello(body, offset) {
                Ok(h) => {
                    self.tls13 =
                        matches!(h.selected_version, 0x0304 | 0x7e01..=0x7e04 | 0x7f00..=0x7fff);
                    out.push(TlsEvent::ServerHello(h));
                }
                Err((at, what)) => err(
                    dir,
                    offset.saturating_add(4 + at as u64),
                    TlsErrorKind::BadHello(what),
                    out,
                ),
            },
            (_, 11) => self.certificates(dir, offset, body, out),
            (Direction::ToClient, 14) | (Direction::ToServer, 16) => {
                self.half(dir).flight_done = true;
            }
            _ => {}
        }
    }

    fn certificates(&mut self, dir: Direction, offset: u64, body: &[u8], out: &mut Vec<TlsEvent>) {
        let mut r = crate::reader::Reader::new(body);
        let u24 = |r: &mut crate::reader::Reader<'_>| {
            r.take_array::<3>()
                .map(|b| usize::from(b[0]) << 16 | usize::from(b[1]) << 8 | usize::from(b[2]))
        };
        let Some(mut list) = u24(&mut r).and_then(|n| r.sub(n)) else {
            err(dir, offset, TlsErrorKind::BadCertificateMessage, out);
            return;
        };
        let mut chain = Vec::new();
        while !list.is_empty() {
            let at = list.offset();
            let Some(der) = u24(&mut list).and_then(|n| list.take(n)) else {
                err(
                    dir,
                    offset.saturating_add(4 + at as u64),
                    TlsErrorKind::BadCertificateMessage,
                    out,
                );
                break;
            };
            match cert::certificate(der) {
                Some(c) => chain.push(c),
                None => err(
                    dir,
                    offset.saturating_add(4 + at as u64),
                    TlsErrorKind::BadCertificate,
                    out,
                ),
            }
        }
        out.push(TlsEvent::Certificates(TlsCertificates {
            offset,
            chain,
            direction: dir,
        }));
    }
}

/// Stream offset of position `p` of a handshake buffer described by `map`.
fn stream_offset(map: &[(usize, u64)], p: usize) -> u64 {
    match map.iter().rev().find(|(start, _)| *start <= p) {
        Some((start, o)) => o.saturating_add((p - start) as u64),
        None => p as u64,
    }
}
