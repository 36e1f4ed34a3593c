//! FTP control channel (RFC 959): commands, replies and the login outcome.
//!
//! [`FtpParser`] takes both directions of one control connection. Lines end with CR LF (a bare
//! LF is tolerated); a line longer than [`MAX_LINE`] bytes is reported as
//! [`FtpErrorKind::LineTooLong`] and skipped up to its newline, without being buffered.
//!
//! - **Commands** (client → server): the first word, upper-cased, and the rest of the line as
//!   the argument. `PASS` keeps only the password's length. Telnet IAC sequences that clients
//!   put before `ABOR` are stripped.
//! - **Replies** (server → client): three digits (first digit 1–5) then a space, a hyphen
//!   (multi-line reply, ended by a line starting with the same code and a space) or the text
//!   directly (a missing space is tolerated). One [`FtpReply`] per reply, multi-line ones
//!   collapsed: the first line's text and the line count.
//! - **Pairing**: commands wait in a FIFO (at most [`MAX_PENDING`]); a final reply (2xx–5xx)
//!   answers the oldest, a preliminary one (1xx) does not consume it. The server's first reply,
//!   when it is a greeting (120, 220, 421), answers nothing even if commands were already sent;
//!   so does a reply that arrives with no command waiting. An invalid command line keeps its
//!   place in the FIFO (the server answers it too). A reply lost or malformed shifts the
//!   pairing by one until the FIFO empties (as in any FIFO pairing).
//! - **Login**: the reply to `PASS` yields an [`FtpLogin`]: 2xx → success, 4xx/5xx → failure;
//!   332 (need account) defers the outcome to the reply to `ACCT`. `USER` answered directly by
//!   230 is a success with password length 0. The user is the last `USER` argument (empty when
//!   the connection was picked up after it).
//! - **AUTH TLS**: once `AUTH` is answered by 234 the control channel is encrypted; later bytes
//!   are ignored, [`FtpParser::tls_started`] and [`FtpParser::done`] turn true.
//!
//! After a gap the partial line is dropped and the command FIFO cleared (pairing would be
//! wrong); the direction resumes at the next chunk if it starts like a line of its side
//! (letters for commands, three digits for replies), otherwise after the next newline.

use std::collections::VecDeque;

use serde::Serialize;

use crate::credentials::DefaultCredentials;
use crate::{Direction, Probe};
use std::sync::Arc;

#[cfg(test)]
mod tests;

/// Longest line accepted (terminator excluded).
pub const MAX_LINE: usize = 4096;
/// Longest command word accepted.
pub const MAX_COMMAND: usize = 16;
/// Commands kept waiting for a reply (older ones are forgotten).
pub const MAX_PENDING: usize = 64;

/// A client command.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FtpCommand {
    /// Offset of the line in the client's stream.
    pub offset: u64,
    /// Command word, upper-cased.
    pub command: String,
    /// Argument (lossy UTF-8); `None` when absent and always for `PASS`.
    pub arg: Option<String>,
    /// Length of the `PASS` argument (the password itself is not kept).
    pub password_len: Option<usize>,
}

/// A server reply (multi-line replies collapsed).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FtpReply {
    /// Offset of the reply's first line in the server's stream.
    pub offset: u64,
    /// Reply code.
    pub code: u16,
    /// Text of the first line (after the code and separator), lossy UTF-8.
    pub text: String,
    /// Lines in the reply (1 for a single-line reply).
    pub lines: usize,
    /// The command this reply answers (upper-cased), `None` for the greeting, an unsolicited
    /// reply, or the answer to a line that was not a valid command.
    pub command: Option<String>,
}

/// Outcome of a login attempt.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FtpLogin {
    /// Last `USER` argument (empty when not seen).
    pub user: String,
    /// Length of the password (0 when the server accepted `USER` alone).
    pub password_len: usize,
    /// True for a 2xx reply.
    pub success: bool,
    /// The deciding reply code.
    pub reply_code: u16,
    /// True when user and password are a publicly known default pair
    /// ([`crate::credentials`]); the password itself is not kept.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub default_credential: bool,
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum FtpErrorKind {
    /// A line longer than [`MAX_LINE`]: skipped.
    #[error("line longer than {MAX_LINE} bytes")]
    LineTooLong,
    /// A client line whose first word is not a command (letters/digits, at most
    /// [`MAX_COMMAND`]).
    #[error("invalid command")]
    BadCommand,
    /// A server line that is not a reply (three digits, first 1–5) outside a multi-line reply.
    #[error("invalid reply")]
    BadReply,
    /// The stream ended inside a multi-line reply.
    #[error("stream ended inside a multi-line reply")]
    Incomplete,
}

/// A parse error: where (offset in the direction's stream) and what.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("ftp {direction:?} at byte {offset}: {kind}")]
pub struct FtpError {
    /// Direction.
    pub direction: Direction,
    /// Byte offset of the offending line in the direction's stream.
    pub offset: u64,
    /// What.
    pub kind: FtpErrorKind,
}

/// Output of the parser.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FtpEvent {
    /// A client command.
    Command(FtpCommand),
    /// A server reply.
    Reply(FtpReply),
    /// A login outcome (after the reply it depends on).
    Login(FtpLogin),
    /// A problem.
    Error(FtpError),
}

/// Judges the first bytes a direction sent: a `220` banner (three digits, then a space or a
/// hyphen; a first line mentioning SMTP is rejected) from the server, or a line starting with
/// `USER`, `AUTH`, `FEAT`, `SYST` or `OPTS` (any case, then a space or the line end) from the
/// client.
pub fn probe(dir: Direction, first: &[u8]) -> Probe {
    match dir {
        Direction::ToClient => {
            let want = b"220";
            let n = first.len().min(3);
            if first.get(..n) != want.get(..n) {
                return Probe::NoMatch;
            }
            match first.get(3) {
                None => Probe::NeedMore,
                Some(b' ' | b'-') => {
                    let line = first.split(|&b| b == b'\n').next().unwrap_or_default();
                    if line.windows(4).any(|w| w.eq_ignore_ascii_case(b"smtp")) {
                        Probe::NoMatch
                    } else {
                        Probe::Match
                    }
                }
                Some(_) => Probe::NoMatch,
            }
        }
        Direction::ToServer => {
            const WORDS: [&[u8]; 5] = [b"USER", b"AUTH", b"FEAT", b"SYST", b"OPTS"];
            let n = first.len().min(4);
            let head = first.get(..n).unwrap_or_default();
            if !WORDS
                .iter()
                .any(|w| w.get(..n).is_some_and(|p| p.eq_ignore_ascii_case(head)))
            {
                return Probe::NoMatch;
            }
            match first.get(4) {
                None => Probe::NeedMore,
                Some(b' ' | b'\r' | b'\n') => Probe::Match,
                Some(_) => Probe::NoMatch,
            }
        }
    }
}

#[derive(Debug, Default)]
struct Lines {
    /// Partial line (only when a line spans chunks).
    buf: Vec<u8>,
    /// Stream offset of the current line's first byte.
    line_start: u64,
    /// Stream offset of the next byte.
    pos: u64,
    /// Skipping up to the next newline (overlong line, or resynchronising after a gap).
    skipping: bool,
    /// A gap happened: judge the next chunk's start.
    resync: bool,
    /// No more parsing (AUTH TLS accepted, or the direction ended).
    stopped: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    /// Password length and whether the pair is a known default.
    Pass(usize, bool),
    Acct,
    Auth,
    Other,
}

#[derive(Debug)]
struct Pending {
    /// `None` for a line that was not a valid command (the server still answers it).
    command: Option<String>,
    kind: Kind,
}

#[derive(Debug)]
struct Multi {
    offset: u64,
    code: u16,
    digits: [u8; 3],
    text: String,
    lines: usize,
}

/// FTP control-channel parser for both directions of one connection.
#[derive(Debug)]
pub struct FtpParser {
    credentials: Arc<DefaultCredentials>,
    client: Lines,
    server: Lines,
    pending: VecDeque<Pending>,
    multi: Option<Multi>,
    user: Option<String>,
    /// Password length of a login waiting for ACCT (after 332).
    awaiting_acct: Option<(usize, bool)>,
    tls: bool,
    /// The server's greeting (or any other first reply) was seen.
    greeted: bool,
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn strip_cr(line: &[u8]) -> &[u8] {
    line.strip_suffix(b"\r").unwrap_or(line)
}

impl Default for FtpParser {
    fn default() -> Self {
        Self::new()
    }
}

impl FtpParser {
    /// A parser for a new connection.
    pub fn new() -> Self {
        Self::with_credentials(DefaultCredentials::builtin())
    }

    /// A parser checking logins against `credentials` instead of the built-in list.
    pub fn with_credentials(credentials: Arc<DefaultCredentials>) -> Self {
        FtpParser {
            credentials,
            client: Lines::default(),
            server: Lines::default(),
            pending: VecDeque::new(),
            multi: None,
            user: None,
            awaiting_acct: None,
            tls: false,
            greeted: false,
        }
    }

    /// Always false while the control channel is in clear text (commands keep coming); true
    /// once `AUTH` was accepted (234) and the channel is encrypted.
    pub fn done(&self) -> bool {
        self.tls
    }

    /// True once `AUTH` was answered by 234: the rest of the connection is TLS.
    pub fn tls_started(&self) -> bool {
        self.tls
    }

    fn lines(&mut self, dir: Direction) -> &mut Lines {
        match dir {
            Direction::ToServer => &mut self.client,
            Direction::ToClient => &mut self.server,
        }
    }

    /// Bytes missed in `dir`: the partial line is dropped, the command FIFO cleared, and the
    /// direction resynchronises on the next chunk.
    pub fn gap(&mut self, dir: Direction, missed: u64) {
        let l = self.lines(dir);
        l.buf.clear();
        l.pos = l.pos.saturating_add(missed);
        l.line_start = l.pos;
        l.skipping = false;
        l.resync = true;
        if dir == Direction::ToClient {
            self.multi = None;
        }
        self.pending.clear();
        self.awaiting_acct = None;
    }

    /// The direction ended: an unterminated last line is parsed; an unfinished multi-line
    /// reply is reported as [`FtpErrorKind::Incomplete`].
    pub fn end(&mut self, dir: Direction, out: &mut Vec<FtpEvent>) {
        let l = self.lines(dir);
        if l.stopped {
            return;
        }
        let line = std::mem::take(&mut l.buf);
        let (skipping, start) = (l.skipping, l.line_start);
        l.skipping = false;
        // Nothing follows the end of a stream: later bytes are ignored.
        l.stopped = true;
        l.line_start = l.pos;
        if !line.is_empty() && !skipping {
            self.line(dir, start, &line, out);
        }
        if dir == Direction::ToClient {
            if let Some(m) = self.multi.take() {
                out.push(FtpEvent::Error(FtpError {
                    direction: dir,
                    offset: m.offset,
                    kind: FtpErrorKind::Incomplete,
                }));
            }
        }
    }

    /// Bytes from `dir`'s stream.
    pub fn data(&mut self, dir: Direction, bytes: &[u8], out: &mut Vec<FtpEvent>) {
        let l = self.lines(dir);
        if l.stopped {
            l.pos = l.pos.saturating_add(bytes.len() as u64);
            return;
        }
        if l.resync && !bytes.is_empty() {
            l.resync = false;
            l.skipping = !plausible_start(dir, bytes);
        }
        let mut rest = bytes;
        while !rest.is_empty() {
            let l = self.lines(dir);
            if l.stopped {
                l.pos = l.pos.saturating_add(rest.len() as u64);
                return;
            }
            let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
                if !l.skipping {
                    if l.buf.len().saturating_add(rest.len()) > MAX_LINE {
                        let offset = l.line_start;
                        l.buf.clear();
                        l.skipping = true;
                        out.push(FtpEvent::Error(FtpError {
                            direction: dir,
                            offset,
                            kind: FtpErrorKind::LineTooLong,
                        }));
                    } else {
                        l.buf.extend_from_slice(rest);
                    }
                }
                let l = self.lines(dir);
                l.pos = l.pos.saturating_add(rest.len() as u64);
                return;
            };
            let piece = rest.get(..nl).unwrap_or_default();
            let start = l.line_start;
            l.pos = l.pos.saturating_add(nl as u64 + 1);
            l.line_start = l.pos;
            rest = rest.get(nl + 1..).unwrap_or_default();
            if l.skipping {
                l.skipping = false;
                continue;
            }
            if l.buf.len().saturating_add(piece.len()) > MAX_LINE {
                l.buf.clear();
                out.push(FtpEvent::Error(FtpError {
                    direction: dir,
                    offset: start,
                    kind: FtpErrorKind::LineTooLong,
                }));
                continue;
            }
            if l.buf.is_empty() {
                self.line(dir, start, piece, out);
            } else {
                let mut line = std::mem::take(&mut l.buf);
                line.extend_from_slice(piece);
                self.line(dir, start, &line, out);
                line.clear();
                self.lines(dir).buf = line;
            }
        }
    }

    fn line(&mut self, dir: Direction, offset: u64, line: &[u8], out: &mut Vec<FtpEvent>) {
        let line = strip_cr(line);
        match dir {
            Direction::ToServer => self.command(offset, line, out),
            Direction::ToClient => self.reply_line(offset, line, out),
        }
    }

    fn command(&mut self, offset: u64, mut line: &[u8], out: &mut Vec<FtpEvent>) {
        // Telnet IAC sequences (IAC IP IAC DM before ABOR, RFC 959 4.1.3).
        while let [0xff, _, rest @ ..] = line {
            line = rest;
        }
        if line.iter().all(|b| b.is_ascii_whitespace()) {
            return;
        }
        let (word, arg) = match line.iter().position(|&b| b == b' ') {
            Some(i) => (
                line.get(..i).unwrap_or_default(),
                line.get(i + 1..).unwrap_or_default(),
            ),
            None => (line, &[][..]),
        };
        if word.is_empty()
            || word.len() > MAX_COMMAND
            || !word.iter().all(|b| b.is_ascii_alphanumeric())
        {
            out.push(FtpEvent::Error(FtpError {
                direction: Direction::ToServer,
                offset,
                kind: FtpErrorKind::BadCommand,
            }));
            // The server answers it too: keep its place in the queue.
            self.push_pending(None, Kind::Other);
            return;
        }
        let command = String::from_utf8_lossy(word).to_ascii_uppercase();
        let kind = match command.as_str() {
            "USER" => Kind::User,
            "PASS" => Kind::Pass(
                arg.len(),
                self.user
                    .as_deref()
                    .is_some_and(|u| self.credentials.contains(u, arg)),
            ),
            "ACCT" => Kind::Acct,
            "AUTH" => Kind::Auth,
            _ => Kind::Other,
        };
        let (arg, password_len) = match kind {
            Kind::Pass(n, _) => (None, Some(n)),
            _ => ((!arg.is_empty()).then(|| lossy(arg)), None),
        };
        if kind == Kind::User {
            self.user = Some(arg.clone().unwrap_or_default());
        }
        self.push_pending(Some(command.clone()), kind);
        out.push(FtpEvent::Command(FtpCommand {
            offset,
            command,
            arg,
            password_len,
        }));
    }

    fn push_pending(&mut self, command: Option<String>, kind: Kind) {
        if self.pending.len() >= MAX_PENDING {
            self.pending.pop_front();
        }
        self.pending.push_back(Pending { command, kind });
    }

    fn reply_line(&mut self, offset: u64, line: &[u8], out: &mut Vec<FtpEvent>) {
        if let Some(m) = &mut self.multi {
            m.lines = m.lines.saturating_add(1);
            let ends =
                line.get(..3) == Some(&m.digits[..]) && matches!(line.get(3), None | Some(b' '));
            if ends {
                if let Some(m) = self.multi.take() {
                    self.reply(m.offset, m.code, m.text, m.lines, out);
                }
            }
            return;
        }
        let digits = match line {
            [a @ b'1'..=b'5', b @ b'0'..=b'9', c @ b'0'..=b'9', ..] => [*a, *b, *c],
            _ => {
                out.push(FtpEvent::Error(FtpError {
                    direction: Direction::ToClient,
                    offset,
                    kind: FtpErrorKind::BadReply,
                }));
                return;
            }
        };
        let code = digits
            .iter()
            .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
        let (multi, text) = match line.get(3) {
            Some(b'-') => (true, line.get(4..).unwrap_or_default()),
            Some(b' ') => (false, line.get(4..).unwrap_or_default()),
            _ => (false, line.get(3..).unwrap_or_default()),
        };
        let text = lossy(text);
        if multi {
            self.multi = Some(Multi {
                offset,
                code,
                digits,
                text,
                lines: 1,
            });
        } else {
            self.reply(offset, code, text, 1, out);
        }
    }

    fn reply(
        &mut self,
        offset: u64,
        code: u16,
        text: String,
        lines: usize,
        out: &mut Vec<FtpEvent>,
    ) {
        // The server's first reply is its greeting (120, then 220 or 421), even when the
        // client sent commands before it arrived.
        let greeting = !self.greeted && matches!(code, 120 | 220 | 421);
        if code != 120 {
            self.greeted = true;
        }
        let answered = if greeting {
            None
        } else if code < 200 {
            self.pending
                .front()
                .map(|p| (p.command.clone(), Kind::Other))
        } else {
            self.pending.pop_front().map(|p| (p.command, p.kind))
        };
        let (command, kind) = answered.unwrap_or((None, Kind::Other));
        out.push(FtpEvent::Reply(FtpReply {
            offset,
            code,
            text,
            lines,
            command,
        }));
        let login = |user: &Option<String>,
                     (password_len, default_credential): (usize, bool),
                     success: bool| FtpLogin {
            user: user.clone().unwrap_or_default(),
            password_len,
            success,
            reply_code: code,
            default_credential,
        };
        let outcome = match (kind, code / 100) {
            (Kind::User, _) if code == 230 => Some(login(&self.user, (0, false), true)),
            (Kind::Pass(n, d), 2) => Some(login(&self.user, (n, d), true)),
            (Kind::Pass(n, d), 4 | 5) => Some(login(&self.user, (n, d), false)),
            (Kind::Pass(n, d), 3) => {
                self.awaiting_acct = Some((n, d));
                None
            }
            (Kind::Acct, 2 | 4 | 5) => self
                .awaiting_acct
                .take()
                .map(|n| login(&self.user, n, code / 100 == 2)),
            (Kind::Auth, _) if code == 234 => {
                self.tls = true;
                self.client.stopped = true;
                self.server.stopped = true;
                None
            }
            _ => None,
        };
        if let Some(l) = outcome {
            out.push(FtpEvent::Login(l));
        }
    }
}

/// Does `bytes` start like a line of `dir`'s side (used after a gap)?
fn plausible_start(dir: Direction, bytes: &[u8]) -> bool {
    match dir {
        Direction::ToServer => {
            bytes
                .iter()
                .take(5)
                .take_while(|b| !matches!(b, b' ' | b'\r' | b'\n'))
                .all(|b| b.is_ascii_alphabetic())
                && bytes.first().is_some_and(|b| b.is_ascii_alphabetic())
        }
        Direction::ToClient => matches!(
            bytes,
            [b'1'..=b'5', b'0'..=b'9', b'0'..=b'9', b' ' | b'-', ..]
        ),
    }
}
