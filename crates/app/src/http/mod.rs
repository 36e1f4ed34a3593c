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
//!   Transactions therefore come out in completion order: a request evicted from a full queue
//!   comes out before an older one whose response is still running.
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

use serde::Serialize;

use crate::{Direction, Probe};

mod body;
mod head;
mod parser;
mod request;
mod response;
mod syntax;
#[cfg(test)]
mod tests;

pub use parser::HttpParser;
use syntax::strip_cr;

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
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
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
    /// True when the Basic user and password are a publicly known default pair
    /// ([`crate::credentials`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub basic_default_credential: bool,
    /// Body bytes seen (after chunked decoding), up to the transaction's emission.
    pub body_len: u64,
    /// The headers as signatures read them (`http.header`): `Name: value\r\n` per header,
    /// in order, `Cookie` left out (it is [`HttpRequest::cookie`]); not written to events.
    #[serde(skip)]
    pub headers: Vec<u8>,
    /// `Cookie` (`http.cookie`); not written to events.
    #[serde(skip)]
    pub cookie: Option<String>,
    /// The body's first [`BODY_KEPT`] bytes after chunked decoding (`http.request_body`);
    /// not written to events.
    #[serde(skip)]
    pub body: Vec<u8>,
}

/// Body bytes kept per message for signatures ([`HttpRequest::body`],
/// [`HttpResponse::body`]).
pub const BODY_KEPT: usize = 65_536;

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
    /// The headers as signatures read them: `Name: value\r\n` per header, `Set-Cookie`
    /// left out (it is [`HttpResponse::cookie`]); not written to events.
    #[serde(skip)]
    pub headers: Vec<u8>,
    /// `Set-Cookie` values joined (`http.cookie`); not written to events.
    #[serde(skip)]
    pub cookie: Option<String>,
    /// The body's first [`BODY_KEPT`] bytes after chunked decoding
    /// (`http.response_body`, `file.data`); not written to events.
    #[serde(skip)]
    pub body: Vec<u8>,
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
