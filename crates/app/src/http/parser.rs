//! The connection state machine: header blocks, framing, pairing, resynchronisation.

use std::collections::VecDeque;
use std::mem::MaybeUninit;

use super::syntax::*;
use super::*;

/// Chunked-body decoder state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Reading the size's hex digits.
    Size { value: u64, digits: u8 },
    /// After the size: extension or whitespace, up to LF.
    SizeRest(u64),
    /// Chunk data bytes left.
    Data(u64),
    /// After data: CR or LF.
    DataEnd,
    /// After data and CR: LF.
    DataLf,
    /// Trailer section: `empty` while the current line has no content.
    Trailer { empty: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Length(u64),
    Chunked(Chunk),
    UntilClose,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Looking for / reading a header block.
    Headers,
    /// Reading a body.
    Body(Framing),
    /// Skipping to the next line that starts a message.
    Resync,
    /// HTTP is over on this connection.
    Tunnel,
}

#[derive(Debug)]
struct Half {
    buf: Vec<u8>,
    /// Terminator scan: 0 in a line, 1 after LF, 2 after LF CR.
    term: u8,
    /// Inside a header block (a byte other than CR/LF was seen).
    in_msg: bool,
    /// Still on the first line of the header block.
    first_line: bool,
    /// Stream offset of the next byte.
    pos: u64,
    /// Stream offset of the current header block.
    msg_start: u64,
    mode: Mode,
    /// Resync: the next byte starts a line.
    line_start: bool,
    ended: bool,
}

impl Half {
    fn new() -> Self {
        Half {
            buf: Vec::new(),
            term: 0,
            in_msg: false,
            first_line: true,
            pos: 0,
            msg_start: 0,
            mode: Mode::Headers,
            line_start: true,
            ended: false,
        }
    }

    fn reset_head(&mut self) {
        self.buf.clear();
        self.term = 0;
        self.in_msg = false;
        self.first_line = true;
    }
}

/// Result of scanning for the end of a header block.
enum Scan {
    /// The block ends just before this index (terminator included in the block).
    End(usize),
    /// The first line ends just before this index (LF included).
    FirstLine(usize),
    /// No end in these bytes.
    More,
}

fn scan(term: &mut u8, first_line: &mut bool, bytes: &[u8]) -> Scan {
    let mut i = 0usize;
    while i < bytes.len() {
        match *term {
            0 => match bytes
                .get(i..)
                .and_then(|r| r.iter().position(|&b| b == b'\n'))
            {
                Some(p) => {
                    i = i.saturating_add(p).saturating_add(1);
                    *term = 1;
                    if *first_line {
                        *first_line = false;
                        return Scan::FirstLine(i);
                    }
                }
                None => return Scan::More,
            },
            _ => {
                let b = bytes.get(i).copied().unwrap_or_default();
                i = i.saturating_add(1);
                *term = match (*term, b) {
                    (1 | 2, b'\n') => {
                        *term = 0;
                        return Scan::End(i);
                    }
                    (1, b'\r') => 2,
                    _ => 0,
                };
            }
        }
    }
    Scan::More
}

/// Header-derived facts used for framing.
#[derive(Debug, Default)]
struct Framings {
    content_length: Option<u64>,
    bad_length: bool,
    te: bool,
    te_chunked: bool,
}

impl Framings {
    fn header(&mut self, name: &str, v: &[u8]) {
        if name.eq_ignore_ascii_case("content-length") {
            match parse_content_length(v) {
                Some(n) if self.content_length.is_none_or(|m| m == n) => {
                    self.content_length = Some(n)
                }
                _ => self.bad_length = true,
            }
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            if let Some(last) = v.split(|&b| b == b',').map(trim).rfind(|c| !c.is_empty()) {
                self.te_chunked = last.eq_ignore_ascii_case(b"chunked");
            } else {
                self.te_chunked = false;
            }
            self.te = true;
        }
    }
}

/// HTTP/1.x parser for both directions of one connection.
#[derive(Debug)]
pub struct HttpParser {
    cfg: HttpConfig,
    credentials: std::sync::Arc<crate::credentials::DefaultCredentials>,
    client: Half,
    server: Half,
    /// Requests waiting for a response, with a sequence number.
    pending: VecDeque<(u64, HttpRequest)>,
    next_seq: u64,
    /// Sequence number of the request whose body is being read.
    body_seq: Option<u64>,
    /// Response whose body is being read.
    response: Option<(Option<HttpRequest>, HttpResponse)>,
    /// Events produced by a gap, handed out with the next `data` or `end`.
    deferred: Vec<HttpEvent>,
}

impl HttpParser {
    /// A parser for a new connection.
    pub fn new(cfg: HttpConfig) -> Self {
        Self::with_credentials(cfg, crate::credentials::DefaultCredentials::builtin())
    }

    /// A parser checking Basic credentials against `credentials` instead of the built-in list.
    pub fn with_credentials(
        cfg: HttpConfig,
        credentials: std::sync::Arc<crate::credentials::DefaultCredentials>,
    ) -> Self {
        HttpParser {
            cfg,
            credentials,
            client: Half::new(),
            server: Half::new(),
            pending: VecDeque::new(),
            next_seq: 0,
            body_seq: None,
            response: None,
            deferred: Vec::new(),
        }
    }

    /// True once HTTP is over on the connection (101 or a successful CONNECT), or both
    /// directions ended.
    pub fn done(&self) -> bool {
        (self.client.mode == Mode::Tunnel && self.server.mode == Mode::Tunnel)
            || (self.client.ended && self.server.ended)
    }

    fn half(&mut self, dir: Direction) -> &mut Half {
        match dir {
            Direction::ToServer => &mut self.client,
            Direction::ToClient => &mut self.server,
        }
    }

    fn error(dir: Direction, offset: u64, kind: HttpErrorKind, out: &mut Vec<HttpEvent>) {
        out.push(HttpEvent::Error(HttpError {
            direction: dir,
            offset,
            kind,
        }));
    }

    /// Bytes from `dir`'s stream.
    pub fn data(&mut self, dir: Direction, bytes: &[u8], out: &mut Vec<HttpEvent>) {
        out.append(&mut self.deferred);
        if self.half(dir).ended {
            // Nothing follows the end of a stream.
            return;
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let used = match self.half(dir).mode {
                Mode::Tunnel => rest.len(),
                Mode::Resync => self.resync(dir, rest),
                Mode::Body(f) => self.body(dir, f, rest, out),
                Mode::Headers => self.headers(dir, rest, out),
            };
            let used = used.min(rest.len());
            let h = self.half(dir);
            h.pos = h.pos.saturating_add(used as u64);
            rest = rest.get(used..).unwrap_or_default();
        }
    }

    /// Skips to the next line that starts a message; returns bytes skipped.
    fn resync(&mut self, dir: Direction, bytes: &[u8]) -> usize {
        let h = self.half(dir);
        let mut i = 0usize;
        loop {
            if h.line_start {
                if let Some(r) = bytes.get(i..) {
                    // A start cut by the chunk's end is given the benefit of the doubt.
                    if !r.is_empty() && probe(dir, r) != Probe::NoMatch {
                        h.mode = Mode::Headers;
                        h.reset_head();
                        return i;
                    }
                }
            }
            match bytes
                .get(i..)
                .and_then(|r| r.iter().position(|&b| b == b'\n'))
            {
                Some(p) => {
                    i = i.saturating_add(p).saturating_add(1);
                    h.line_start = true;
                    if i >= bytes.len() {
                        return bytes.len();
                    }
                }
                None => {
                    h.line_start = false;
                    return bytes.len();
                }
            }
        }
    }

    /// Skip to the next message start; `line_start`: the next byte starts a line.
    fn start_resync(&mut self, dir: Direction, line_start: bool) {
        let h = self.half(dir);
        h.mode = Mode::Resync;
        h.reset_head();
        h.line_start = line_start;
    }

    /// Reads header bytes; returns bytes consumed.
    fn headers(&mut self, dir: Direction, bytes: &[u8], out: &mut Vec<HttpEvent>) -> usize {
        let max = self.cfg.max_header_bytes;
        let mut start = 0usize;
        if !self.half(dir).in_msg {
            start = bytes
                .iter()
                .take_while(|&&b| b == b'\r' || b == b'\n')
                .count();
            if start == bytes.len() {
                return start;
            }
            let h = self.half(dir);
            h.in_msg = true;
            h.msg_start = h.pos.saturating_add(start as u64);
            if dir == Direction::ToClient {
                // RFC 1945 §6: a 0.9 request gets a Simple-Response, whatever it starts with.
                if self
                    .pending
                    .front()
                    .is_some_and(|(_, r)| r.version == "0.9")
                {
                    self.response_09();
                    return start;
                }
            }
        }
        let body = bytes.get(start..).unwrap_or_default();
        let mut from = 0usize;
        // Bytes of `body` already appended to the buffer.
        let mut appended = 0usize;
        let (end, zero_nine) = loop {
            let h = self.half(dir);
            let tail = body.get(from..).unwrap_or_default();
            match scan(&mut h.term, &mut h.first_line, tail) {
                Scan::More => {
                    let add = body.get(appended..).unwrap_or_default();
                    if h.buf.len().saturating_add(add.len()) > max {
                        let offset = h.msg_start;
                        self.start_resync(dir, false);
                        Self::error(dir, offset, HttpErrorKind::HeadersTooLarge, out);
                    } else {
                        h.buf.extend_from_slice(add);
                    }
                    return bytes.len();
                }
                Scan::End(i) => break (from.saturating_add(i), false),
                Scan::FirstLine(i) => {
                    from = from.saturating_add(i);
                    if dir == Direction::ToClient {
                        continue;
                    }
                    let line = if h.buf.is_empty() {
                        body.get(..from).unwrap_or_default()
                    } else {
                        h.buf
                            .extend_from_slice(body.get(appended..from).unwrap_or_default());
                        appended = from;
                        h.buf.as_slice()
                    };
                    // A two-word line is HTTP/0.9, unless header lines follow it in the same
                    // chunk (a 1.x request that lost its version): then read a header block.
                    if is_09_line(line)
                        && !header_line_follows(body.get(from..).unwrap_or_default())
                    {
                        break (from, true);
                    }
                }
            }
        };
        let h = self.half(dir);
        let consumed = start.saturating_add(end);
        let offset = h.msg_start;
        h.term = 0;
        h.in_msg = false;
        h.first_line = true;
        if h.buf.len().saturating_add(end.saturating_sub(appended)) > max {
            self.start_resync(dir, true);
            Self::error(dir, offset, HttpErrorKind::HeadersTooLarge, out);
            return consumed;
        }
        if h.buf.is_empty() {
            self.head(
                dir,
                offset,
                body.get(..end).unwrap_or_default(),
                zero_nine,
                out,
            );
        } else {
            let mut buf = std::mem::take(&mut h.buf);
            buf.extend_from_slice(body.get(appended..end).unwrap_or_default());
            self.head(dir, offset, &buf, zero_nine, out);
            buf.clear();
            let h = self.half(dir);
            if h.buf.capacity() == 0 {
                h.buf = buf;
            }
        }
        consumed
    }

    fn head(
        &mut self,
        dir: Direction,
        offset: u64,
        block: &[u8],
        zero_nine: bool,
        out: &mut Vec<HttpEvent>,
    ) {
        match dir {
            Direction::ToServer if zero_nine => self.request_09(offset, block),
            Direction::ToServer => self.request(offset, block, out),
            Direction::ToClient => self.response(offset, block, out),
        }
    }

    fn push_request(&mut self, req: HttpRequest, out: &mut Vec<HttpEvent>) -> u64 {
        if self.pending.len() >= MAX_PENDING {
            if let Some((_, old)) = self.pending.pop_front() {
                out.push(HttpEvent::Transaction(HttpTransaction {
                    request: Some(old),
                    response: None,
                }));
            }
        }
        let seq = self.next_seq;
        self.next_seq = seq.wrapping_add(1);
        self.pending.push_back((seq, req));
        seq
    }

    fn request_09(&mut self, offset: u64, line: &[u8]) {
        let line = strip_cr(strip_lf(line));
        let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
        let method = text(words.next().unwrap_or_default(), MAX_VALUE);
        let uri = text(words.next().unwrap_or_default(), MAX_URI);
        let req = new_request(offset, method, uri, "0.9".into());
        let mut sink = Vec::new();
        self.push_request(req, &mut sink);
        self.body_seq = None;
    }

    fn request(&mut self, offset: u64, block: &[u8], out: &mut Vec<HttpEvent>) {
        let dir = Direction::ToServer;
        let mut storage = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut []);
        let parsed = httparse::ParserConfig::default()
            .allow_multiple_spaces_in_request_line_delimiters(true)
            .ignore_invalid_headers_in_requests(true)
            .parse_request_with_uninit_headers(&mut req, block, &mut storage);
        let mut lenient_headers;
        let (method, uri, version, headers): (&str, String, String, &[httparse::Header<'_>]) =
            if matches!(parsed, Ok(httparse::Status::Complete(_))) {
                (
                    req.method.unwrap_or_default(),
                    text(req.path.unwrap_or_default().as_bytes(), MAX_URI),
                    version(req.version).into(),
                    &*req.headers,
                )
            } else if let Some(l) = lenient_request_line(block) {
                lenient_headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let hs: &[httparse::Header<'_>] =
                    match httparse::parse_headers(l.rest, &mut lenient_headers) {
                        Ok(httparse::Status::Complete((_, hs))) => hs,
                        _ => &[],
                    };
                (l.method, text(l.target, MAX_URI), text(l.version, 16), hs)
            } else {
                Self::error(dir, offset, HttpErrorKind::BadRequest, out);
                self.start_resync(dir, true);
                return;
            };
        let mut r = new_request(offset, method.to_string(), uri, version);
        let f = self.request_headers(&mut r, headers);
        let framing = Self::request_framing(&f, offset, out);
        let seq = self.push_request(r, out);
        self.body_seq = Some(seq);
        match framing {
            Some(Framing::Length(0)) => {}
            Some(f) => self.client.mode = Mode::Body(f),
            None => self.start_resync(dir, true),
        }
    }

    /// Reads a request's headers into `r` (the header block, cookie, host, user agent,
    /// referer, content type and Basic credentials); returns what they say of framing.
    fn request_headers(&self, r: &mut HttpRequest, headers: &[httparse::Header<'_>]) -> Framings {
        let mut f = Framings::default();
        for h in headers {
            let (n, v) = (h.name, h.value);
            f.header(n, v);
            if n.eq_ignore_ascii_case("cookie") {
                r.cookie = Some(value(v));
            } else {
                header_line(&mut r.headers, n, v);
            }
            if n.eq_ignore_ascii_case("host") {
                r.host = Some(value(v));
            } else if n.eq_ignore_ascii_case("user-agent") {
                r.user_agent = Some(value(v));
            } else if n.eq_ignore_ascii_case("referer") {
                r.referer = Some(value(v));
            } else if n.eq_ignore_ascii_case("content-type") {
                r.content_type = Some(value(v));
            } else if n.eq_ignore_ascii_case("authorization") {
                authorization(r, v, &self.credentials);
            }
        }
        r.content_length = f.content_length.filter(|_| !f.bad_length);
        f
    }

    /// How a request's body is framed (`None`: it cannot be, the stream must resync),
    /// reporting conflicting or bad framing headers.
    fn request_framing(f: &Framings, offset: u64, out: &mut Vec<HttpEvent>) -> Option<Framing> {
        let dir = Direction::ToServer;
        if f.te {
            if f.content_length.is_some() || f.bad_length {
                Self::error(dir, offset, HttpErrorKind::ConflictingFraming, out);
            }
            if f.te_chunked {
                Some(Framing::Chunked(Chunk::Size {
                    value: 0,
                    digits: 0,
                }))
            } else {
                Self::error(dir, offset, HttpErrorKind::BadTransferEncoding, out);
                None
            }
        } else if f.bad_length {
            Self::error(dir, offset, HttpErrorKind::BadContentLength, out);
            None
        } else {
            Some(match f.content_length {
                Some(n) if n > 0 => Framing::Length(n),
                _ => Framing::Length(0),
            })
        }
    }

    fn response_09(&mut self) {
        let req = self.pending.pop_front().map(|(_, r)| r);
        let resp = new_response(self.server.msg_start, "0.9".into(), 0, String::new());
        self.response = Some((req, resp));
        self.server.mode = Mode::Body(Framing::UntilClose);
        self.server.in_msg = false;
    }

    fn response(&mut self, offset: u64, block: &[u8], out: &mut Vec<HttpEvent>) {
        let dir = Direction::ToClient;
        let mut storage = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut []);
        let parsed = httparse::ParserConfig::default()
            .allow_spaces_after_header_name_in_responses(true)
            .allow_multiple_spaces_in_response_status_delimiters(true)
            .allow_obsolete_multiline_headers_in_responses(true)
            .ignore_invalid_headers_in_responses(true)
            .parse_response_with_uninit_headers(&mut resp, block, &mut storage);
        if !matches!(parsed, Ok(httparse::Status::Complete(_))) {
            Self::error(dir, offset, HttpErrorKind::BadResponse, out);
            self.start_resync(dir, true);
            return;
        }
        let status = resp.code.unwrap_or_default();
        if (100..200).contains(&status) && status != 101 {
            // Interim response: the request still waits for its final one.
            return;
        }
        let reason = text(resp.reason.unwrap_or_default().as_bytes(), MAX_VALUE);
        let mut r = new_response(offset, version(resp.version).into(), status, reason);
        let f = response_headers(&mut r, resp.headers);
        let req = self.pending.pop_front().map(|(_, q)| q);
        let method = req.as_ref().map(|q| q.method.as_str()).unwrap_or_default();
        let tunnel = status == 101 || (method == "CONNECT" && (200..300).contains(&status));
        let framing =
            if tunnel || method == "HEAD" || status == 204 || status == 304 || status < 200 {
                Framing::Length(0)
            } else {
                Self::response_framing(&f, offset, out)
            };
        if framing == Framing::Length(0) {
            out.push(HttpEvent::Transaction(HttpTransaction {
                request: req,
                response: Some(r),
            }));
        } else {
            self.response = Some((req, r));
            self.server.mode = Mode::Body(framing);
        }
        if tunnel {
            self.client.mode = Mode::Tunnel;
            self.server.mode = Mode::Tunnel;
            self.flush_pending(out);
        }
    }

    /// How the body of a response that may have one is framed (until the connection
    /// closes when its headers do not say), reporting conflicting or bad framing headers.
    fn response_framing(f: &Framings, offset: u64, out: &mut Vec<HttpEvent>) -> Framing {
        let dir = Direction::ToClient;
        if f.te {
            if f.content_length.is_some() || f.bad_length {
                Self::error(dir, offset, HttpErrorKind::ConflictingFraming, out);
            }
            if f.te_chunked {
                Framing::Chunked(Chunk::Size {
                    value: 0,
                    digits: 0,
                })
            } else {
                Framing::UntilClose
            }
        } else if f.bad_length {
            Self::error(dir, offset, HttpErrorKind::BadContentLength, out);
            Framing::UntilClose
        } else {
            match f.content_length {
                Some(n) => Framing::Length(n),
                None => Framing::UntilClose,
            }
        }
    }

    /// `n` body bytes of `dir` counted, and `data` (those of them that were seen) kept up
    /// to [`BODY_KEPT`] — a gap's bytes are counted, not kept.
    fn add_body(&mut self, dir: Direction, n: u64, data: &[u8]) {
        let keep = |body: &mut Vec<u8>| {
            let room = BODY_KEPT.saturating_sub(body.len());
            body.extend_from_slice(data.get(..room).unwrap_or(data));
        };
        match dir {
            Direction::ToServer => {
                if let (Some(seq), Some((s, r))) = (self.body_seq, self.pending.back_mut()) {
                    if *s == seq {
                        r.body_len = r.body_len.saturating_add(n);
                        keep(&mut r.body);
                    }
                }
            }
            Direction::ToClient => {
                if let Some((_, r)) = &mut self.response {
                    r.body_len = r.body_len.saturating_add(n);
                    keep(&mut r.body);
                }
            }
        }
    }

    /// The body of `dir`'s current message is complete.
    fn finish_body(&mut self, dir: Direction, out: &mut Vec<HttpEvent>) {
        let h = self.half(dir);
        if h.mode != Mode::Tunnel {
            h.mode = Mode::Headers;
        }
        match dir {
            Direction::ToServer => self.body_seq = None,
            Direction::ToClient => self.emit_response(out),
        }
    }

    fn emit_response(&mut self, out: &mut Vec<HttpEvent>) {
        if let Some((request, response)) = self.response.take() {
            out.push(HttpEvent::Transaction(HttpTransaction {
                request,
                response: Some(response),
            }));
        }
    }

    /// Emits the response in progress (it answers an older request) and every request still
    /// waiting, unanswered.
    fn flush_pending(&mut self, out: &mut Vec<HttpEvent>) {
        self.emit_response(out);
        self.body_seq = None;
        for (_, r) in self.pending.drain(..) {
            out.push(HttpEvent::Transaction(HttpTransaction {
                request: Some(r),
                response: None,
            }));
        }
    }

    /// Reads body bytes; returns bytes consumed.
    fn body(
        &mut self,
        dir: Direction,
        framing: Framing,
        bytes: &[u8],
        out: &mut Vec<HttpEvent>,
    ) -> usize {
        match framing {
            Framing::UntilClose => {
                self.add_body(dir, bytes.len() as u64, bytes);
                bytes.len()
            }
            Framing::Length(left) => {
                let n = (bytes.len() as u64).min(left);
                self.add_body(dir, n, bytes.get(..n as usize).unwrap_or(bytes));
                if n == left {
                    self.finish_body(dir, out);
                } else {
                    self.half(dir).mode = Mode::Body(Framing::Length(left - n));
                }
                n as usize
            }
            Framing::Chunked(state) => self.chunked(dir, state, bytes, out),
        }
    }

    fn chunked(
        &mut self,
        dir: Direction,
        mut state: Chunk,
        bytes: &[u8],
        out: &mut Vec<HttpEvent>,
    ) -> usize {
        let mut i = 0usize;
        let mut data_len = 0u64;
        let mut data: Vec<u8> = Vec::new();
        let result = loop {
            if let Chunk::Data(left) = state {
                let n = (bytes.len().saturating_sub(i) as u64).min(left);
                data_len = data_len.saturating_add(n);
                if data.len() < BODY_KEPT {
                    if let Some(chunk) = bytes.get(i..i.saturating_add(n as usize)) {
                        data.extend_from_slice(chunk);
                    }
                }
                i = i.saturating_add(n as usize);
                state = if n == left {
                    Chunk::DataEnd
                } else {
                    Chunk::Data(left - n)
                };
            }
            let Some(&b) = bytes.get(i) else {
                break Ok(false);
            };
            i = i.saturating_add(1);
            state = match (state, b) {
                (Chunk::Size { value, digits }, _) if b.is_ascii_hexdigit() => {
                    let d = u64::from(match b {
                        b'0'..=b'9' => b - b'0',
                        b'a'..=b'f' => b - b'a' + 10,
                        _ => b - b'A' + 10,
                    });
                    match value.checked_mul(16).and_then(|v| v.checked_add(d)) {
                        Some(v) if digits < 16 => Chunk::Size {
                            value: v,
                            digits: digits.saturating_add(1),
                        },
                        _ => break Err(i.saturating_sub(1)),
                    }
                }
                (Chunk::Size { value, digits }, b'\n') if digits > 0 => after_size(value),
                (Chunk::Size { value, digits }, b';' | b' ' | b'\t' | b'\r') if digits > 0 => {
                    Chunk::SizeRest(value)
                }
                (Chunk::Size { .. }, _) => break Err(i.saturating_sub(1)),
                (Chunk::SizeRest(v), b'\n') => after_size(v),
                (Chunk::SizeRest(v), _) => Chunk::SizeRest(v),
                (Chunk::Data(_), _) => state, // unreachable: handled above
                (Chunk::DataEnd, b'\r') => Chunk::DataLf,
                (Chunk::DataEnd | Chunk::DataLf, b'\n') => Chunk::Size {
                    value: 0,
                    digits: 0,
                },
                (Chunk::DataEnd | Chunk::DataLf, _) => break Err(i.saturating_sub(1)),
                (Chunk::Trailer { empty }, b'\n') => {
                    if empty {
                        break Ok(true);
                    }
                    Chunk::Trailer { empty: true }
                }
                (Chunk::Trailer { empty }, b'\r') => Chunk::Trailer { empty },
                (Chunk::Trailer { .. }, _) => Chunk::Trailer { empty: false },
            };
        };
        self.add_body(dir, data_len, &data);
        match result {
            Ok(true) => {
                self.finish_body(dir, out);
                i
            }
            Ok(false) => {
                self.half(dir).mode = Mode::Body(Framing::Chunked(state));
                i
            }
            Err(at) => {
                let offset = self.half(dir).pos.saturating_add(at as u64);
                Self::error(dir, offset, HttpErrorKind::BadChunk, out);
                if dir == Direction::ToClient {
                    self.emit_response(out);
                } else {
                    self.body_seq = None;
                }
                self.start_resync(dir, false);
                at
            }
        }
    }

    /// Bytes missed in `dir`. Inside a body of known remaining length the framing is kept
    /// (the missed bytes count as body); otherwise the direction resynchronises, and on the
    /// server side the response in progress and the requests still waiting are emitted.
    pub fn gap(&mut self, dir: Direction, missed: u64) {
        let mode = self.half(dir).mode;
        let h = self.half(dir);
        h.pos = h.pos.saturating_add(missed);
        let kept = match mode {
            Mode::Tunnel | Mode::Resync => true,
            Mode::Body(Framing::UntilClose) => {
                self.add_body(dir, missed, &[]);
                true
            }
            Mode::Body(Framing::Length(left)) if missed < left => {
                self.add_body(dir, missed, &[]);
                self.half(dir).mode = Mode::Body(Framing::Length(left - missed));
                true
            }
            Mode::Body(Framing::Chunked(Chunk::Data(left))) if missed < left => {
                self.add_body(dir, missed, &[]);
                self.half(dir).mode = Mode::Body(Framing::Chunked(Chunk::Data(left - missed)));
                true
            }
            _ => false,
        };
        if kept {
            if mode == Mode::Resync {
                self.half(dir).line_start = true;
            }
            return;
        }
        let mut out = Vec::new();
        if let Mode::Body(_) = mode {
            self.add_body(dir, missed, &[]);
        }
        self.start_resync(dir, true);
        if dir == Direction::ToClient {
            self.emit_response(&mut out);
            self.flush_pending(&mut out);
            self.deferred.append(&mut out);
        } else {
            self.body_seq = None;
        }
    }
}

impl HttpParser {
    /// The direction ended. On the server side a body that runs until close completes its
    /// transaction; an unfinished header block or body is reported as
    /// [`HttpErrorKind::Incomplete`] (the transaction is still emitted with the bytes seen);
    /// requests still waiting are emitted without a response.
    pub fn end(&mut self, dir: Direction, out: &mut Vec<HttpEvent>) {
        out.append(&mut self.deferred);
        let h = self.half(dir);
        if h.ended {
            return;
        }
        h.ended = true;
        let (mode, in_msg, offset) = (h.mode, h.in_msg, h.msg_start);
        let pos = h.pos;
        match mode {
            Mode::Headers if in_msg => Self::error(dir, offset, HttpErrorKind::Incomplete, out),
            Mode::Body(Framing::Length(_) | Framing::Chunked(_)) => {
                Self::error(dir, pos, HttpErrorKind::Incomplete, out)
            }
            _ => {}
        }
        self.half(dir).reset_head();
        if dir == Direction::ToClient {
            self.emit_response(out);
            self.flush_pending(out);
        } else if self.server.ended {
            self.flush_pending(out);
        }
    }
}

/// A request with its request line and nothing else yet.
fn new_request(offset: u64, method: String, uri: String, version: String) -> HttpRequest {
    HttpRequest {
        offset,
        method,
        uri,
        version,
        host: None,
        user_agent: None,
        referer: None,
        content_type: None,
        content_length: None,
        authorization_scheme: None,
        basic_user: None,
        basic_password_len: None,
        basic_default_credential: false,
        body_len: 0,
        headers: Vec::new(),
        cookie: None,
        body: Vec::new(),
    }
}

/// A response with its status line and nothing else yet.
fn new_response(offset: u64, version: String, status: u16, reason: String) -> HttpResponse {
    HttpResponse {
        offset,
        version,
        status,
        reason,
        server: None,
        content_type: None,
        content_length: None,
        location: None,
        www_authenticate: None,
        body_len: 0,
        headers: Vec::new(),
        cookie: None,
        body: Vec::new(),
    }
}

/// Reads a response's headers into `r` (the header block, cookies joined with `; `,
/// server, content type, location and authentication challenge); returns what they say of
/// framing.
fn response_headers(r: &mut HttpResponse, headers: &[httparse::Header<'_>]) -> Framings {
    let mut f = Framings::default();
    for h in headers {
        let (n, v) = (h.name, h.value);
        f.header(n, v);
        if n.eq_ignore_ascii_case("set-cookie") {
            let c = value(v);
            r.cookie = Some(match r.cookie.take() {
                Some(prev) => format!("{prev}; {c}"),
                None => c,
            });
        } else {
            header_line(&mut r.headers, n, v);
        }
        if n.eq_ignore_ascii_case("server") {
            r.server = Some(value(v));
        } else if n.eq_ignore_ascii_case("content-type") {
            r.content_type = Some(value(v));
        } else if n.eq_ignore_ascii_case("location") {
            r.location = Some(value(v));
        } else if n.eq_ignore_ascii_case("www-authenticate") {
            r.www_authenticate = Some(value(v));
        }
    }
    r.content_length = f.content_length.filter(|_| !f.bad_length);
    f
}

fn after_size(value: u64) -> Chunk {
    if value == 0 {
        Chunk::Trailer { empty: true }
    } else {
        Chunk::Data(value)
    }
}
