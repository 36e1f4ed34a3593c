//! The connection state machine: both directions' state, pairing requests with responses,
//! gaps and stream ends. Reading a direction's bytes is split by what it reads: header blocks
//! and resynchronisation in [`super::head`], request and response heads in [`super::request`]
//! and [`super::response`], bodies in [`super::body`].

use std::collections::VecDeque;

use super::body::{Chunk, Framing};
use super::*;

/// What one direction is reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// Looking for / reading a header block.
    Headers,
    /// Reading a body.
    Body(Framing),
    /// Skipping to the next line that starts a message.
    Resync,
    /// HTTP is over on this connection.
    Tunnel,
}

/// The state of one direction of the connection.
#[derive(Debug)]
pub(super) struct Half {
    /// The header block so far, when it spans segments.
    pub(super) buf: Vec<u8>,
    /// Terminator scan: 0 in a line, 1 after LF, 2 after LF CR.
    pub(super) term: u8,
    /// Inside a header block (a byte other than CR/LF was seen).
    pub(super) in_msg: bool,
    /// Still on the first line of the header block.
    pub(super) first_line: bool,
    /// Stream offset of the next byte.
    pub(super) pos: u64,
    /// Stream offset of the current header block.
    pub(super) msg_start: u64,
    /// What the direction is reading.
    pub(super) mode: Mode,
    /// Resync: the next byte starts a line.
    pub(super) line_start: bool,
    /// The direction ended.
    pub(super) ended: bool,
}

impl Half {
    /// A direction at the start of its stream, looking for a header block.
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

    /// Forgets the header block in progress.
    pub(super) fn reset_head(&mut self) {
        self.buf.clear();
        self.term = 0;
        self.in_msg = false;
        self.first_line = true;
    }
}

/// HTTP/1.x parser for both directions of one connection.
#[derive(Debug)]
pub struct HttpParser {
    /// Limits.
    pub(super) cfg: HttpConfig,
    /// Default credentials that Basic authorization is checked against.
    pub(super) credentials: std::sync::Arc<crate::credentials::DefaultCredentials>,
    /// The client's direction (to the server).
    pub(super) client: Half,
    /// The server's direction (to the client).
    pub(super) server: Half,
    /// Requests waiting for a response, with a sequence number.
    pub(super) pending: VecDeque<(u64, HttpRequest)>,
    /// Sequence number of the next request.
    pub(super) next_seq: u64,
    /// Sequence number of the request whose body is being read.
    pub(super) body_seq: Option<u64>,
    /// Response whose body is being read.
    pub(super) response: Option<(Option<HttpRequest>, HttpResponse)>,
    /// Events produced by a gap, handed out with the next `data` or `end`.
    pub(super) deferred: Vec<HttpEvent>,
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

    /// The state of direction `dir`.
    pub(super) fn half(&mut self, dir: Direction) -> &mut Half {
        match dir {
            Direction::ToServer => &mut self.client,
            Direction::ToClient => &mut self.server,
        }
    }

    /// Reports an error of `kind` at `offset` in `dir`'s stream.
    pub(super) fn error(
        dir: Direction,
        offset: u64,
        kind: HttpErrorKind,
        out: &mut Vec<HttpEvent>,
    ) {
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

    /// Queues `req` for its response (emitting the oldest unanswered when the queue is
    /// full); returns its sequence number.
    pub(super) fn push_request(&mut self, req: HttpRequest, out: &mut Vec<HttpEvent>) -> u64 {
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

    /// Emits the response in progress with its request.
    pub(super) fn emit_response(&mut self, out: &mut Vec<HttpEvent>) {
        if let Some((request, response)) = self.response.take() {
            out.push(HttpEvent::Transaction(HttpTransaction {
                request,
                response: Some(response),
            }));
        }
    }

    /// Emits the response in progress (it answers an older request) and every request still
    /// waiting, unanswered.
    pub(super) fn flush_pending(&mut self, out: &mut Vec<HttpEvent>) {
        self.emit_response(out);
        self.body_seq = None;
        for (_, r) in self.pending.drain(..) {
            out.push(HttpEvent::Transaction(HttpTransaction {
                request: Some(r),
                response: None,
            }));
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
