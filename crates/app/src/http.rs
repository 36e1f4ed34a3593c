//! HTTP/1.0 and 1.1 (RFC 9112) over a reassembled byte stream, with `httparse`.
//!
//! [`HttpParser`] takes both directions of one connection. Header blocks are located by a small
//! terminator scan (CR LF CR LF or LF LF, possibly split across segments) and parsed in place
//! by `httparse`; they are copied only when they span segments, and at most
//! [`HttpConfig::max_header_bytes`] are buffered. Bodies are never copied: their bytes are
//! counted while the framing is followed.
//!
//! - **Framing** (RFC 9112 §6): a `Transfer-Encoding` whose last coding is `chunked` wins over
//!   `Content-Length` (both present → [`HttpErrorKind::ConflictingFraming`], reported, parsing
//!   goes on); chunk extensions and trailers are skipped. A response to `HEAD`, any 1xx, 204 and
//!   304 has no body; a response with neither header (or with a non-chunked
//!   `Transfer-Encoding`) runs until the connection closes. A request with neither has no body.
//! - **Pairing**: requests wait in a FIFO (pipelining; at most [`MAX_PENDING`], the oldest is
//!   emitted unanswered when it overflows). Interim responses (1xx except 101) are skipped, so
//!   `Expect: 100-continue` works. A [`HttpEvent::Transaction`] is emitted when its response is
//!   complete: right after the headers when there is no body, after the last body byte
//!   otherwise, at [`HttpParser::end`] for bodies that run until close. Requests never answered
//!   are emitted alone when the server side ends, or when a gap loses the server's framing.
//! - **Tunnels**: `101 Switching Protocols` and a 2xx answer to `CONNECT` end HTTP on the
//!   connection: both directions are ignored from then on and [`HttpParser::done`] is true.
//! - **HTTP/0.9**: a two-word request line (`GET /path`) is a 0.9 request, complete at its
//!   line end — unless header lines follow in the same segment, then it is read as a header
//!   block (version `"0.9"`, as Zeek does). Its answer is a Simple-Response (RFC 1945 §6):
//!   status 0, version `"0.9"`, everything until close is body (even a status line).
//! - **Lenient request lines**: when httparse rejects a request line, it is read the way Zeek
//!   reads it — method, target (which may contain spaces or be empty), `HTTP/` and whatever
//!   version text follows (`GET / HTTP/1.` gives version `"1."`).
//! - **Errors and resynchronisation**: an unparsable header block, an invalid
//!   `Content-Length` (not digits, or above `i64::MAX`), an unusable request
//!   `Transfer-Encoding`, a bad chunk size, or a gap that loses the framing make the direction
//!   skip to the next line that starts a message of its side (a known method and a space to the
//!   server, `HTTP/1.` to the client), so requests smuggled behind a confusing frame are still
//!   seen. A gap inside a body of known remaining length keeps the framing (the missed bytes
//!   count as body).
//!
//! Header values are decoded as lossy UTF-8 and truncated to [`MAX_VALUE`] bytes (the URI to
//! [`MAX_URI`]). Basic credentials are decoded for the username; only the password's length is
//! kept.

use std::collections::VecDeque;
use std::mem::MaybeUninit;

use serde::Serialize;

use crate::{Direction, Probe};

/// Longest header value kept, in bytes (longer ones are truncated at a character boundary).
pub const MAX_VALUE: usize = 1024;
/// Longest URI kept, in bytes.
pub const MAX_URI: usize = 4096;
/// Requests kept waiting for their response.
pub const MAX_PENDING: usize = 64;
/// Header lines parsed per message (more → [`HttpErrorKind::BadRequest`] /
/// [`HttpErrorKind::BadResponse`]).
pub const MAX_HEADERS: usize = 128;

/// Limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpConfig {
    /// Largest header block (start line and headers) buffered; a larger one is an error.
    pub max_header_bytes: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            max_header_bytes: 16 * 1024,
        }
    }
}

/// A request's start line and the headers of interest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpRequest {
    /// Offset of the request line in the client's stream.
    pub offset: u64,
    /// Method, as sent.
    pub method: String,
    /// Request target, as sent (lossy UTF-8, at most [`MAX_URI`] bytes).
    pub uri: String,
    /// `"1.0"`, `"1.1"`, or `"0.9"` for a request line without a version.
    pub version: String,
    /// `Host`.
    pub host: Option<String>,
    /// `User-Agent`.
    pub user_agent: Option<String>,
    /// `Referer`.
    pub referer: Option<String>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Length`, when valid.
    pub content_length: Option<u64>,
    /// First word of `Authorization` (`Basic`, `Digest`, `Bearer`…).
    pub authorization_scheme: Option<String>,
    /// Username decoded from Basic credentials (before the first colon).
    pub basic_user: Option<String>,
    /// Length of the Basic password (the password itself is not kept).
    pub basic_password_len: Option<usize>,
    /// Body bytes seen (after chunked decoding), up to the transaction's emission.
    pub body_len: u64,
}

/// A response's status line and the headers of interest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpResponse {
    /// Offset of the status line in the server's stream.
    pub offset: u64,
    /// `"1.0"`, `"1.1"`, or `"0.9"` for a response without a status line.
    pub version: String,
    /// Status code (0 for HTTP/0.9).
    pub status: u16,
    /// Reason phrase.
    pub reason: String,
    /// `Server`.
    pub server: Option<String>,
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Length`, when valid.
    pub content_length: Option<u64>,
    /// `Location`.
    pub location: Option<String>,
    /// `WWW-Authenticate`.
    pub www_authenticate: Option<String>,
    /// Body bytes (after chunked decoding; content codings are not undone).
    pub body_len: u64,
}

/// A request and its response (either may be missing).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HttpTransaction {
    /// The request, `None` for a response that answered no request we saw.
    pub request: Option<HttpRequest>,
    /// The response, `None` for a request that got none.
    pub response: Option<HttpResponse>,
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum HttpErrorKind {
    /// Header block larger than the configured maximum: the direction resynchronises.
    #[error("header block larger than the configured maximum")]
    HeadersTooLarge,
    /// Request line or headers not parsable: the direction resynchronises.
    #[error("invalid request head")]
    BadRequest,
    /// Status line or headers not parsable: the direction resynchronises.
    #[error("invalid response head")]
    BadResponse,
    /// `Content-Length` not a number, above `i64::MAX`, or repeated with different values.
    #[error("invalid Content-Length")]
    BadContentLength,
    /// Both `Transfer-Encoding` and `Content-Length` (the former is used).
    #[error("both Transfer-Encoding and Content-Length")]
    ConflictingFraming,
    /// A request `Transfer-Encoding` whose last coding is not `chunked`: the direction
    /// resynchronises.
    #[error("request Transfer-Encoding not ending in chunked")]
    BadTransferEncoding,
    /// Invalid chunk size line or chunk terminator: the direction resynchronises.
    #[error("invalid chunked framing")]
    BadChunk,
    /// The stream ended inside a header block or a body of known length.
    #[error("stream ended inside a message")]
    Incomplete,
}

/// A parse error: where (offset in the direction's stream) and what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("http {direction:?} at byte {offset}: {kind}")]
pub struct HttpError {
    /// Direction.
    pub direction: Direction,
    /// Byte offset in the direction's stream.
    pub offset: u64,
    /// What.
    pub kind: HttpErrorKind,
}

/// Output of the parser.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
#[allow(clippy::large_enum_variant)] // errors are rare; transactions are the payload
pub enum HttpEvent {
    /// A completed (or abandoned) exchange.
    Transaction(HttpTransaction),
    /// A problem.
    Error(HttpError),
}

/// Request methods recognised by [`probe`] and by resynchronisation: RFC 9110, PATCH, WebDAV
/// (RFC 4918, 3253, 5323) and UPnP eventing (GENA over TCP).
pub const METHODS: &[&[u8]] = &[
    b"GET",
    b"POST",
    b"PUT",
    b"DELETE",
    b"HEAD",
    b"OPTIONS",
    b"PATCH",
    b"CONNECT",
    b"TRACE",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"SEARCH",
    b"REPORT",
    b"MKACTIVITY",
    b"CHECKOUT",
    b"MERGE",
    b"NOTIFY",
    b"SUBSCRIBE",
    b"UNSUBSCRIBE",
];

/// Judges the first bytes a direction sent. To the server: a method of [`METHODS`] followed by
/// a space and a printable byte; when the whole request line is present it must end in an
/// `HTTP/` version, or have two words (HTTP/0.9) — this keeps RTSP (`OPTIONS rtsp://…
/// RTSP/1.0`) out. To the client: `HTTP/1.` followed by a digit and a space.
pub fn probe(dir: Direction, first: &[u8]) -> Probe {
    match dir {
        Direction::ToClient => {
            let want: &[u8] = b"HTTP/1.";
            let n = first.len().min(want.len());
            if first.get(..n) != want.get(..n) {
                return Probe::NoMatch;
            }
            match (first.get(7), first.get(8)) {
                (None, _) | (Some(b'0'..=b'9'), None) => Probe::NeedMore,
                (Some(b'0'..=b'9'), Some(b' ')) => Probe::Match,
                _ => Probe::NoMatch,
            }
        }
        Direction::ToServer => {
            let mut undecided = false;
            for m in METHODS {
                let n = first.len().min(m.len());
                if first.get(..n) != m.get(..n) {
                    continue;
                }
                match (first.get(m.len()), first.get(m.len() + 1)) {
                    (None, _) | (Some(b' '), None) => undecided = true,
                    (Some(b' '), Some(&c)) if (0x21..0x7f).contains(&c) || c >= 0x80 => {
                        return request_line_ok(first);
                    }
                    _ => {}
                }
            }
            if undecided {
                Probe::NeedMore
            } else {
                Probe::NoMatch
            }
        }
    }
}

/// With the whole first line present, checks its version part.
fn request_line_ok(first: &[u8]) -> Probe {
    let Some(nl) = first.iter().position(|&b| b == b'\n') else {
        return Probe::Match;
    };
    let line = strip_cr(first.get(..nl).unwrap_or_default());
    let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let (_, target, version, more) = (words.next(), words.next(), words.next(), words.next());
    match (target, version, more) {
        (Some(_), Some(v), None) if v.starts_with(b"HTTP/") => Probe::Match,
        (Some(_), None, None) => Probe::Match,
        _ => Probe::NoMatch,
    }
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Lossy UTF-8, truncated to `max` bytes at a character boundary.
fn text(b: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(b.get(..max).unwrap_or(b));
    let mut s = s.into_owned();
    if b.len() > max && s.ends_with('\u{fffd}') {
        // A character cut by the limit.
        s.pop();
    }
    s
}

fn value(b: &[u8]) -> String {
    text(trim(b), MAX_VALUE)
}

fn trim(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

/// RFC 9110 §8.6: 1*DIGIT. Leading zeros allowed; values above `i64::MAX` are rejected (as
/// most servers use signed 64-bit lengths, such a value can only desynchronise).
fn parse_content_length(v: &[u8]) -> Option<u64> {
    let v = trim(v);
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let mut n: u64 = 0;
    for d in v {
        n = n.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
    }
    (n <= i64::MAX as u64).then_some(n)
}

/// Decodes standard base64 (padding optional, whitespace not allowed). `None` if invalid.
fn base64_decode(s: &[u8]) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        }))
    }
    let s = trim(s);
    let s = s.strip_suffix(b"==").or(s.strip_suffix(b"=")).unwrap_or(s);
    let mut out = Vec::with_capacity(s.len() / 4 * 3 + 2);
    for group in s.chunks(4) {
        let mut acc = 0u32;
        for &c in group {
            acc = (acc << 6) | val(c)?;
        }
        match group.len() {
            4 => out.extend_from_slice(&[(acc >> 16) as u8, (acc >> 8) as u8, acc as u8]),
            3 => out.extend_from_slice(&[(acc >> 10) as u8, (acc >> 2) as u8]),
            2 => out.push((acc >> 4) as u8),
            _ => return None,
        }
    }
    Some(out)
}

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
        HttpParser {
            cfg,
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
        let req = HttpRequest {
            offset,
            method,
            uri,
            version: "0.9".into(),
            host: None,
            user_agent: None,
            referer: None,
            content_type: None,
            content_length: None,
            authorization_scheme: None,
            basic_user: None,
            basic_password_len: None,
            body_len: 0,
        };
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
        let mut r = HttpRequest {
            offset,
            method: method.to_string(),
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
            body_len: 0,
        };
        let mut f = Framings::default();
        for h in headers {
            let (n, v) = (h.name, h.value);
            f.header(n, v);
            if n.eq_ignore_ascii_case("host") {
                r.host = Some(value(v));
            } else if n.eq_ignore_ascii_case("user-agent") {
                r.user_agent = Some(value(v));
            } else if n.eq_ignore_ascii_case("referer") {
                r.referer = Some(value(v));
            } else if n.eq_ignore_ascii_case("content-type") {
                r.content_type = Some(value(v));
            } else if n.eq_ignore_ascii_case("authorization") {
                authorization(&mut r, v);
            }
        }
        r.content_length = f.content_length.filter(|_| !f.bad_length);
        let framing = if f.te {
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
        };
        let seq = self.push_request(r, out);
        self.body_seq = Some(seq);
        match framing {
            Some(Framing::Length(0)) => {}
            Some(f) => self.client.mode = Mode::Body(f),
            None => self.start_resync(dir, true),
        }
    }

    fn response_09(&mut self) {
        let req = self.pending.pop_front().map(|(_, r)| r);
        let resp = HttpResponse {
            offset: self.server.msg_start,
            version: "0.9".into(),
            status: 0,
            reason: String::new(),
            server: None,
            content_type: None,
            content_length: None,
            location: None,
            www_authenticate: None,
            body_len: 0,
        };
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
        let mut r = HttpResponse {
            offset,
            version: version(resp.version).into(),
            status,
            reason: text(resp.reason.unwrap_or_default().as_bytes(), MAX_VALUE),
            server: None,
            content_type: None,
            content_length: None,
            location: None,
            www_authenticate: None,
            body_len: 0,
        };
        let mut f = Framings::default();
        for h in resp.headers.iter() {
            let (n, v) = (h.name, h.value);
            f.header(n, v);
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
        let req = self.pending.pop_front().map(|(_, q)| q);
        let method = req.as_ref().map(|q| q.method.as_str()).unwrap_or_default();
        let tunnel = status == 101 || (method == "CONNECT" && (200..300).contains(&status));
        let framing =
            if tunnel || method == "HEAD" || status == 204 || status == 304 || status < 200 {
                Framing::Length(0)
            } else if f.te {
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

    /// Body bytes of `dir` counted.
    fn add_body(&mut self, dir: Direction, n: u64) {
        match dir {
            Direction::ToServer => {
                if let (Some(seq), Some((s, r))) = (self.body_seq, self.pending.back_mut()) {
                    if *s == seq {
                        r.body_len = r.body_len.saturating_add(n);
                    }
                }
            }
            Direction::ToClient => {
                if let Some((_, r)) = &mut self.response {
                    r.body_len = r.body_len.saturating_add(n);
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
                self.add_body(dir, bytes.len() as u64);
                bytes.len()
            }
            Framing::Length(left) => {
                let n = (bytes.len() as u64).min(left);
                self.add_body(dir, n);
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
        let mut data = 0u64;
        let result = loop {
            if let Chunk::Data(left) = state {
                let n = (bytes.len().saturating_sub(i) as u64).min(left);
                data = data.saturating_add(n);
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
        self.add_body(dir, data);
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
                self.add_body(dir, missed);
                true
            }
            Mode::Body(Framing::Length(left)) if missed < left => {
                self.add_body(dir, missed);
                self.half(dir).mode = Mode::Body(Framing::Length(left - missed));
                true
            }
            Mode::Body(Framing::Chunked(Chunk::Data(left))) if missed < left => {
                self.add_body(dir, missed);
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
            self.add_body(dir, missed);
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

fn strip_lf(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\n").unwrap_or(line)
}

/// RFC 9110 token characters.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A request line of exactly two words whose second is not a version: HTTP/0.9.
fn is_09_line(line: &[u8]) -> bool {
    let line = strip_cr(strip_lf(line));
    let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
    let method = words.next().unwrap_or_default();
    let target = words.next().unwrap_or_default();
    !target.is_empty()
        && !target.starts_with(b"HTTP/")
        && words.next().is_none()
        && !method.is_empty()
        && method.iter().all(|&b| is_token(b))
}

/// Does `b` start with a header line (`token:`)?
fn header_line_follows(b: &[u8]) -> bool {
    let name = b.iter().take_while(|&&c| is_token(c)).count();
    name > 0 && b.get(name) == Some(&b':')
}

/// The request line when httparse rejects it, read the way Zeek does: method (a token), then
/// a version if the last word starts with `HTTP/` (the words between are the target, spaces
/// kept, possibly empty), else a two-word HTTP/0.9 line.
fn lenient_request_line(block: &[u8]) -> Option<LenientLine<'_>> {
    let nl = block.iter().position(|&b| b == b'\n')?;
    let line = strip_cr(block.get(..nl)?);
    let rest = block.get(nl + 1..)?;
    let sp = line.iter().position(|&b| b == b' ')?;
    let method = line.get(..sp)?;
    if method.is_empty() || !method.iter().all(|&b| is_token(b)) {
        return None;
    }
    let method = std::str::from_utf8(method).ok()?;
    let tail = trim(line.get(sp + 1..)?);
    let (target, version) = match tail.iter().rposition(|&b| b == b' ') {
        Some(i) if tail.get(i + 1..)?.starts_with(b"HTTP/") => {
            (trim(tail.get(..i)?), tail.get(i + 6..)?)
        }
        None if tail.starts_with(b"HTTP/") => (&[][..], tail.get(5..)?),
        None if !tail.is_empty() => (tail, &b"0.9"[..]),
        _ => return None,
    };
    Some(LenientLine {
        method,
        target,
        version,
        rest,
    })
}

/// A request line read by [`lenient_request_line`].
struct LenientLine<'a> {
    method: &'a str,
    target: &'a [u8],
    /// After `HTTP/` (`"0.9"` for a line without a version).
    version: &'a [u8],
    /// The bytes after the line (headers).
    rest: &'a [u8],
}

fn version(v: Option<u8>) -> &'static str {
    match v {
        Some(0) => "1.0",
        _ => "1.1",
    }
}

fn after_size(value: u64) -> Chunk {
    if value == 0 {
        Chunk::Trailer { empty: true }
    } else {
        Chunk::Data(value)
    }
}

/// `Authorization: <scheme> <credentials>`; Basic credentials are decoded for the username.
fn authorization(r: &mut HttpRequest, v: &[u8]) {
    let v = trim(v);
    let (scheme, creds) = match v.iter().position(|&b| b == b' ') {
        Some(i) => (
            v.get(..i).unwrap_or_default(),
            v.get(i + 1..).unwrap_or_default(),
        ),
        None => (v, &[][..]),
    };
    if scheme.is_empty() {
        return;
    }
    r.authorization_scheme = Some(text(scheme, 64));
    if scheme.eq_ignore_ascii_case(b"basic") {
        if let Some(decoded) = base64_decode(creds) {
            let (user, pass) = match decoded.iter().position(|&b| b == b':') {
                Some(i) => (
                    decoded.get(..i).unwrap_or_default(),
                    decoded.get(i + 1..).unwrap_or_default(),
                ),
                None => (&decoded[..], &[][..]),
            };
            r.basic_user = Some(text(user, MAX_VALUE));
            r.basic_password_len = Some(pass.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: Direction = Direction::ToServer;
    const S: Direction = Direction::ToClient;

    fn txs(out: &[HttpEvent]) -> Vec<&HttpTransaction> {
        out.iter()
            .filter_map(|e| match e {
                HttpEvent::Transaction(t) => Some(t),
                _ => None,
            })
            .collect()
    }

    fn errors(out: &[HttpEvent]) -> Vec<HttpErrorKind> {
        out.iter()
            .filter_map(|e| match e {
                HttpEvent::Error(e) => Some(e.kind),
                _ => None,
            })
            .collect()
    }

    fn run(steps: &[(Direction, &[u8])]) -> (HttpParser, Vec<HttpEvent>) {
        let mut p = HttpParser::new(HttpConfig::default());
        let mut out = Vec::new();
        for (d, b) in steps {
            p.data(*d, b, &mut out);
        }
        (p, out)
    }

    const REQS: &[u8] = b"GET /a HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t/1\r\n\r\n\
POST /b?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello\
HEAD /c HTTP/1.0\r\nReferer: http://r/\r\n\r\n";
    const RESPS: &[u8] = b"HTTP/1.1 200 OK\r\nServer: s\r\nTransfer-Encoding: chunked\r\n\r\n\
5;ext=1\r\nabcde\r\n3\r\nfgh\r\n0\r\nTrailer: x\r\n\r\n\
HTTP/1.1 100 Continue\r\n\r\n\
HTTP/1.1 201 Created\r\nContent-Length: 2\r\nLocation: /b/1\r\n\r\nok\
HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\n";

    fn check_pipeline(out: &[HttpEvent]) {
        let t = txs(out);
        assert_eq!(t.len(), 3, "{out:?}");
        let (q, r) = (
            t[0].request.as_ref().unwrap(),
            t[0].response.as_ref().unwrap(),
        );
        assert_eq!(
            (q.method.as_str(), q.uri.as_str(), q.version.as_str()),
            ("GET", "/a", "1.1")
        );
        assert_eq!(q.host.as_deref(), Some("example.com"));
        assert_eq!(q.user_agent.as_deref(), Some("t/1"));
        assert_eq!((r.status, r.reason.as_str(), r.body_len), (200, "OK", 8));
        assert_eq!(r.server.as_deref(), Some("s"));
        let (q, r) = (
            t[1].request.as_ref().unwrap(),
            t[1].response.as_ref().unwrap(),
        );
        assert_eq!(
            (q.method.as_str(), q.body_len, q.content_length),
            ("POST", 5, Some(5))
        );
        assert_eq!(q.offset, 55);
        assert_eq!((r.status, r.body_len), (201, 2));
        assert_eq!(r.location.as_deref(), Some("/b/1"));
        let (q, r) = (
            t[2].request.as_ref().unwrap(),
            t[2].response.as_ref().unwrap(),
        );
        assert_eq!((q.method.as_str(), q.version.as_str()), ("HEAD", "1.0"));
        assert_eq!(q.referer.as_deref(), Some("http://r/"));
        assert_eq!(
            (r.status, r.body_len, r.content_length),
            (200, 0, Some(1000))
        );
        assert!(errors(out).is_empty(), "{out:?}");
    }

    #[test]
    fn pipelining_chunked_trailers_continue_and_head() {
        let (_, out) = run(&[(C, REQS), (S, RESPS)]);
        check_pipeline(&out);
    }

    #[test]
    fn split_at_every_offset() {
        for cut in 0..REQS.len().max(RESPS.len()) {
            let (c, s) = (cut.min(REQS.len()), cut.min(RESPS.len()));
            let (_, out) = run(&[
                (C, &REQS[..c]),
                (C, &REQS[c..]),
                (S, &RESPS[..s]),
                (S, &RESPS[s..]),
            ]);
            check_pipeline(&out);
        }
        // Byte by byte.
        let mut p = HttpParser::new(HttpConfig::default());
        let mut out = Vec::new();
        for b in REQS.chunks(1) {
            p.data(C, b, &mut out);
        }
        for b in RESPS.chunks(1) {
            p.data(S, b, &mut out);
        }
        check_pipeline(&out);
    }

    #[test]
    fn truncation_at_every_offset_never_panics() {
        for cut in 0..=REQS.len().max(RESPS.len()) {
            let mut p = HttpParser::new(HttpConfig::default());
            let mut out = Vec::new();
            p.data(C, &REQS[..cut.min(REQS.len())], &mut out);
            p.data(S, &RESPS[..cut.min(RESPS.len())], &mut out);
            p.end(C, &mut out);
            p.end(S, &mut out);
            assert!(p.done());
        }
    }

    #[test]
    fn until_close_and_unanswered() {
        let mut p = HttpParser::new(HttpConfig::default());
        let mut out = Vec::new();
        p.data(
            C,
            b"GET / HTTP/1.0\r\n\r\nGET /2 HTTP/1.0\r\n\r\n",
            &mut out,
        );
        p.data(S, b"HTTP/1.0 200 OK\r\n\r\n0123456789", &mut out);
        assert!(txs(&out).is_empty());
        p.end(S, &mut out);
        let t = txs(&out);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].response.as_ref().unwrap().body_len, 10);
        assert_eq!(t[1].request.as_ref().unwrap().uri, "/2");
        assert!(t[1].response.is_none());
    }

    #[test]
    fn no_body_statuses_and_connect_tunnel() {
        let (p, out) = run(&[
            (C, b"GET / HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\nCONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"),
            (S, b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"),
            (S, b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01\x00\x05hello"),
            (C, b"\x16\x03\x01 GET / HTTP/1.1\r\n\r\n"),
        ]);
        let t = txs(&out);
        assert_eq!(t.len(), 3, "{out:?}");
        assert_eq!(t[0].response.as_ref().unwrap().status, 304);
        assert_eq!(t[1].response.as_ref().unwrap().status, 204);
        assert_eq!(t[2].request.as_ref().unwrap().method, "CONNECT");
        assert_eq!(t[2].request.as_ref().unwrap().uri, "h:443");
        assert!(p.done());
        assert!(errors(&out).is_empty());
    }

    #[test]
    fn basic_auth_username_and_password_length() {
        // "test:1:34"
        let (_, out) = run(&[
            (C, b"GET / HTTP/1.0\r\nAuthorization: Basic dGVzdDoxOjM0\r\n\r\n"),
            (S, b"HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n"),
        ]);
        let t = txs(&out);
        let q = t[0].request.as_ref().unwrap();
        assert_eq!(q.authorization_scheme.as_deref(), Some("Basic"));
        assert_eq!(q.basic_user.as_deref(), Some("test"));
        assert_eq!(q.basic_password_len, Some(4));
        let r = t[0].response.as_ref().unwrap();
        assert_eq!(r.www_authenticate.as_deref(), Some("Basic realm=\"x\""));
        assert_eq!(base64_decode(b"YQ").as_deref(), Some(&b"a"[..]));
        assert_eq!(base64_decode(b"YWI="), Some(b"ab".to_vec()));
        assert_eq!(base64_decode(b"Y"), None);
        assert_eq!(base64_decode(b"Y!=="), None);
    }

    #[test]
    fn http_09() {
        let mut p = HttpParser::new(HttpConfig::default());
        let mut out = Vec::new();
        p.data(C, b"GET /zeek.html\r\n", &mut out);
        p.data(S, b"<html>hi</html>\n", &mut out);
        p.end(C, &mut out);
        p.end(S, &mut out);
        let t = txs(&out);
        assert_eq!(t.len(), 1, "{out:?}");
        let (q, r) = (
            t[0].request.as_ref().unwrap(),
            t[0].response.as_ref().unwrap(),
        );
        assert_eq!((q.uri.as_str(), q.version.as_str()), ("/zeek.html", "0.9"));
        assert_eq!((r.status, r.version.as_str(), r.body_len), (0, "0.9", 16));
    }

    /// The request-smuggling variants of Zeek's issue 261: each hides a second request behind
    /// a confusing frame; both must be seen.
    #[test]
    fn smuggled_requests_are_seen() {
        let cases: [(&[u8], &[HttpErrorKind]); 8] = [
            (b"POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n\r\n", &[HttpErrorKind::BadChunk]),
            (b"POST / HTTP/1.1\r\nHost: target\r\nContent-Length: 18446744073709551615\r\n\r\n", &[HttpErrorKind::BadContentLength]),
            (b"POST / HTTP/1.1\r\nHost: target\r\nContent-Length: -1\r\n\r\n", &[HttpErrorKind::BadContentLength]),
            (b"POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding: chunked\r\nContent-Length: 50\r\n\r\n0\r\n\r\n", &[HttpErrorKind::ConflictingFraming]),
            (b"POST / HTTP/1.1\r\nHost: target\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n", &[]),
            (b"POST / HTTP/1.1\r\nHost: target\r\nContent-Length: 00000000000000000000000000000050\r\n\r\nXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", &[]),
            (b"POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", &[HttpErrorKind::BadTransferEncoding]),
            (b"POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", &[HttpErrorKind::BadTransferEncoding]),
        ];
        for (head, errs) in cases {
            let mut bytes = head.to_vec();
            bytes.extend_from_slice(b"GET /smuggled HTTP/1.1\r\nHost: target\r\n\r\n");
            let mut p = HttpParser::new(HttpConfig::default());
            let mut out = Vec::new();
            p.data(C, &bytes, &mut out);
            p.end(C, &mut out);
            p.end(S, &mut out);
            let uris: Vec<_> = txs(&out)
                .iter()
                .map(|t| t.request.as_ref().unwrap().uri.clone())
                .collect();
            assert_eq!(
                uris,
                ["/", "/smuggled"],
                "{}",
                String::from_utf8_lossy(head)
            );
            assert_eq!(errors(&out), errs, "{}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn gap_inside_body_keeps_framing_gap_elsewhere_resyncs() {
        let mut p = HttpParser::new(HttpConfig::default());
        let mut out = Vec::new();
        p.data(
            C,
            b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
            &mut out,
        );
        p.data(
            S,
            b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
            &mut out,
        );
        p.gap(S, 80);
        p.data(
            S,
            b"0123456789HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
            &mut out,
        );
        let t = txs(&out);
        assert_eq!(t.len(), 2, "{out:?}");
        assert_eq!(t[0].response.as_ref().unwrap().body_len, 100);
        assert_eq!(t[1].response.as_ref().unwrap().status, 404);
        // A gap in the headers: the response in progress is lost, the waiting request is
        // emitted alone, the next response is found again.
        p.data(C, b"GET /3 HTTP/1.1\r\n\r\n", &mut out);
        p.data(S, b"HTTP/1.1 200 OK\r\nContent-", &mut out);
        p.gap(S, 30);
        let n = out.len();
        p.data(
            S,
            b"garbage\r\nHTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n",
            &mut out,
        );
        let t = txs(&out[n..]);
        assert_eq!(t.len(), 2, "{out:?}");
        assert_eq!(t[0].request.as_ref().unwrap().uri, "/3");
        assert!(t[0].response.is_none());
        assert!(t[1].request.is_none());
        assert_eq!(t[1].response.as_ref().unwrap().status, 500);
    }

    #[test]
    fn oversized_headers_and_bad_heads() {
        let mut p = HttpParser::new(HttpConfig {
            max_header_bytes: 64,
        });
        let mut out = Vec::new();
        let mut big = b"GET / HTTP/1.1\r\nX: ".to_vec();
        big.extend_from_slice(&[b'a'; 100]);
        big.extend_from_slice(b"\r\n\r\nGET /ok HTTP/1.1\r\n\r\n");
        for c in big.chunks(7) {
            p.data(C, c, &mut out);
        }
        p.data(
            C,
            b"\x00\x01 not http\r\n\r\nPUT /p HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
            &mut out,
        );
        p.data(S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &mut out);
        p.data(S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &mut out);
        assert_eq!(
            errors(&out),
            [HttpErrorKind::HeadersTooLarge, HttpErrorKind::BadRequest],
            "{out:?}"
        );
        let t = txs(&out);
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].request.as_ref().unwrap().uri, "/ok");
        assert_eq!(t[1].request.as_ref().unwrap().body_len, 1);
    }

    /// Request lines httparse rejects, read as Zeek reads them (its http-methods and
    /// http-connect traces).
    #[test]
    fn lenient_request_lines() {
        let cases: [(&[u8], &str, &str, &str); 5] = [
            (b"GET / HTTP/1.\r\nHost: h\r\n\r\n", "GET", "/", "1."),
            (b"OPTIONS HTTP/1.1\r\nHost: h\r\n\r\n", "OPTIONS", "", "1.1"),
            (
                b"CONNECT mail:25 / HTTP/1.0\r\nHost: h\r\n\r\n",
                "CONNECT",
                "mail:25 /",
                "1.0",
            ),
            (
                b"GET /HTTP/1.1\r\nHost: h\r\n\r\n",
                "GET",
                "/HTTP/1.1",
                "0.9",
            ),
            (
                b"CCM_POST / HTTP/1.\r\nHost: h\r\n\r\n",
                "CCM_POST",
                "/",
                "1.",
            ),
        ];
        for (bytes, method, uri, version) in cases {
            let mut p = HttpParser::new(HttpConfig::default());
            let mut out = Vec::new();
            p.data(C, bytes, &mut out);
            p.end(C, &mut out);
            p.end(S, &mut out);
            let t = txs(&out);
            assert_eq!(t.len(), 1, "{out:?}");
            let q = t[0].request.as_ref().unwrap();
            assert_eq!(
                (q.method.as_str(), q.uri.as_str(), q.version.as_str()),
                (method, uri, version)
            );
            assert_eq!(q.host.as_deref(), Some("h"));
        }
        // Not requests at all.
        for bad in [
            &b"OPTIONSHTTP/1.1\r\n\r\n"[..],
            b"GET/ HTTP/1.1\r\n\r\n",
            b"\xc3\x83 / HTTP/1.\r\n\r\n",
        ] {
            let mut p = HttpParser::new(HttpConfig::default());
            let mut out = Vec::new();
            p.data(C, bad, &mut out);
            assert_eq!(errors(&out), [HttpErrorKind::BadRequest], "{out:?}");
        }
    }

    /// The fuzz target's driver (fuzz/fuzz_targets/http.rs): steps `h n [bytes]`.
    fn script(data: &[u8]) -> Vec<HttpEvent> {
        let small = data.first().is_some_and(|h| h & 0x80 != 0);
        let mut p = HttpParser::new(HttpConfig {
            max_header_bytes: if small { 64 } else { 16 * 1024 },
        });
        let mut out = Vec::new();
        let dirs = [C, S];
        let mut rest = data;
        while let Some((&h, tail)) = rest.split_first() {
            let d = usize::from(h & 1);
            let Some((&n, tail)) = tail.split_first() else {
                break;
            };
            rest = tail;
            match (h >> 1) & 3 {
                1 => p.gap(dirs[d], u64::from(n) + 1),
                2 => p.end(dirs[d], &mut out),
                _ => {
                    let n = usize::from(n).min(rest.len());
                    let (chunk, tail) = rest.split_at(n);
                    rest = tail;
                    p.data(dirs[d], chunk, &mut out);
                }
            }
        }
        p.end(C, &mut out);
        p.end(S, &mut out);
        out
    }

    /// Requests must come out once each, in stream order.
    fn check_order(out: &[HttpEvent]) {
        let offsets: Vec<u64> = txs(out)
            .iter()
            .filter_map(|t| t.request.as_ref().map(|q| q.offset))
            .collect();
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{out:#?}");
    }

    #[test]
    fn fuzz_regressions() {
        let cases: [&[u8]; 1] = [b"E\x0ahunked\x0d\x0a\x0d\x0a0\x0d\x0a\x0d\x0aGET /smuggled-obsfold HTTP/gged\x0d\x0a\x0d\x0aMERGE0\x0d\x0a\x0d\x0aGET /smu2MIld?\x0aMERGE0\x0d\x0a\x0d\x0aGET /smuggl-dggled-obsfold???\x03\x00\x00\x0d\x0a\x01\x8bHTTP/1.1 200 OK\x0d\x0aServer: SimpleHTTP/0.6\x0d\x0aDat2026 18:17:25 \xff\xff\xff\xff\xff\xff\xff\xafnt-type: text/html\x0d\x0aContent-Length: 35\x0d\x0a\x0d\x0a\x00yPgled-obs\x0a\x0d\x0aGET /smuggl-dggledbsf\x00"];
        for c in cases {
            check_order(&script(c));
        }
    }

    #[test]
    fn probes() {
        assert_eq!(probe(C, b"GET / HTTP/1.1\r\n"), Probe::Match);
        assert_eq!(probe(C, b"PROPFIND /x HTTP/1.1\r\n"), Probe::Match);
        assert_eq!(probe(C, b"POST /upload"), Probe::Match);
        assert_eq!(probe(C, b"GE"), Probe::NeedMore);
        assert_eq!(probe(C, b"GET "), Probe::NeedMore);
        assert_eq!(probe(C, b"GET /x\r\n"), Probe::Match);
        assert_eq!(
            probe(C, b"OPTIONS rtsp://cam/ RTSP/1.0\r\n"),
            Probe::NoMatch
        );
        assert_eq!(probe(C, b"GETX / HTTP/1.1"), Probe::NoMatch);
        assert_eq!(probe(C, b"get / HTTP/1.1"), Probe::NoMatch);
        assert_eq!(probe(C, b"GET  "), Probe::NoMatch);
        assert_eq!(probe(C, b"\x16\x03\x01\x02\x00"), Probe::NoMatch);
        assert_eq!(probe(S, b"HTTP/1.1 200 OK\r\n"), Probe::Match);
        assert_eq!(probe(S, b"HTTP/1"), Probe::NeedMore);
        assert_eq!(probe(S, b"HTTP/2 200"), Probe::NoMatch);
        assert_eq!(probe(S, b"RTSP/1.0 200 OK"), Probe::NoMatch);
        assert_eq!(probe(S, b"220 ftp"), Probe::NoMatch);
    }
}
