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

use crate::{Direction, Probe};

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
    Pass(usize),
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
#[derive(Debug, Default)]
pub struct FtpParser {
    client: Lines,
    server: Lines,
    pending: VecDeque<Pending>,
    multi: Option<Multi>,
    user: Option<String>,
    /// Password length of a login waiting for ACCT (after 332).
    awaiting_acct: Option<usize>,
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

impl FtpParser {
    /// A parser for a new connection.
    pub fn new() -> Self {
        FtpParser::default()
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
            "PASS" => Kind::Pass(arg.len()),
            "ACCT" => Kind::Acct,
            "AUTH" => Kind::Auth,
            _ => Kind::Other,
        };
        let (arg, password_len) = match kind {
            Kind::Pass(n) => (None, Some(n)),
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
        let login = |user: &Option<String>, password_len: usize, success: bool| FtpLogin {
            user: user.clone().unwrap_or_default(),
            password_len,
            success,
            reply_code: code,
        };
        let outcome = match (kind, code / 100) {
            (Kind::User, _) if code == 230 => Some(login(&self.user, 0, true)),
            (Kind::Pass(n), 2) => Some(login(&self.user, n, true)),
            (Kind::Pass(n), 4 | 5) => Some(login(&self.user, n, false)),
            (Kind::Pass(n), 3) => {
                self.awaiting_acct = Some(n);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn run(p: &mut FtpParser, steps: &[(Direction, &[u8])]) -> Vec<FtpEvent> {
        let mut out = Vec::new();
        for (d, b) in steps {
            p.data(*d, b, &mut out);
        }
        out
    }

    const C: Direction = Direction::ToServer;
    const S: Direction = Direction::ToClient;

    #[test]
    fn login_success_and_commands() {
        let mut p = FtpParser::new();
        let out = run(
            &mut p,
            &[
                (S, b"220 FTP server ready.\r\n"),
                (C, b"USER anonymous\r\n"),
                (S, b"331 Guest login ok\r\n"),
                (C, b"PASS root@example.net\r\n"),
                (S, b"230 Guest login ok, access restrictions apply.\r\n"),
                (C, b"retr /pub/file.txt\r\n"),
                (S, b"150 Opening BINARY mode\r\n226 Transfer complete.\r\n"),
            ],
        );
        let FtpEvent::Reply(banner) = &out[0] else {
            panic!("{out:?}")
        };
        assert_eq!((banner.code, banner.command.as_deref()), (220, None));
        assert_eq!(banner.text, "FTP server ready.");
        let FtpEvent::Command(pass) = &out[3] else {
            panic!("{out:?}")
        };
        assert_eq!(
            (pass.command.as_str(), &pass.arg, pass.password_len),
            ("PASS", &None, Some(16))
        );
        assert_eq!(
            out[5],
            FtpEvent::Login(FtpLogin {
                user: "anonymous".into(),
                password_len: 16,
                success: true,
                reply_code: 230
            })
        );
        let FtpEvent::Command(retr) = &out[6] else {
            panic!("{out:?}")
        };
        assert_eq!(retr.command, "RETR");
        assert_eq!(retr.arg.as_deref(), Some("/pub/file.txt"));
        let FtpEvent::Reply(r150) = &out[7] else {
            panic!()
        };
        let FtpEvent::Reply(r226) = &out[8] else {
            panic!()
        };
        assert_eq!(r150.command.as_deref(), Some("RETR"));
        assert_eq!(r226.command.as_deref(), Some("RETR"));
        assert_eq!(r226.offset, b"220 FTP server ready.\r\n331 Guest login ok\r\n230 Guest login ok, access restrictions apply.\r\n150 Opening BINARY mode\r\n".len() as u64);
        assert!(!p.done());
    }

    #[test]
    fn login_failure_user_direct_and_acct() {
        let mut p = FtpParser::new();
        let out = run(
            &mut p,
            &[
                (C, b"USER bob\n"),
                (S, b"331 Password required\n"),
                (C, b"PASS x\n"),
                (S, b"530 Login incorrect.\n"),
                (C, b"USER guest\r\n"),
                (S, b"230 ok\r\n"),
                (C, b"USER acc\r\nPASS pw\r\nACCT a1\r\n"),
                (S, b"331 p\r\n332 need account\r\n230 in\r\n"),
            ],
        );
        let logins: Vec<_> = out
            .iter()
            .filter_map(|e| match e {
                FtpEvent::Login(l) => Some(l.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(
            logins,
            vec![
                FtpLogin {
                    user: "bob".into(),
                    password_len: 1,
                    success: false,
                    reply_code: 530
                },
                FtpLogin {
                    user: "guest".into(),
                    password_len: 0,
                    success: true,
                    reply_code: 230
                },
                FtpLogin {
                    user: "acc".into(),
                    password_len: 2,
                    success: true,
                    reply_code: 230
                },
            ]
        );
    }

    #[test]
    fn multi_line_reply_split_anywhere() {
        let reply: &[u8] =
            b"230-Welcome\r\n230-  second\r\n 230 not the end\r\n230 Login successful.\r\n";
        for cut in 0..reply.len() {
            let mut p = FtpParser::new();
            let mut out = Vec::new();
            p.data(C, b"PASS secret\r\n", &mut out);
            p.data(S, &reply[..cut], &mut out);
            p.data(S, &reply[cut..], &mut out);
            let replies: Vec<_> = out
                .iter()
                .filter_map(|e| match e {
                    FtpEvent::Reply(r) => Some(r),
                    _ => None,
                })
                .collect();
            assert_eq!(replies.len(), 1, "cut {cut}: {out:?}");
            assert_eq!(replies[0].code, 230);
            assert_eq!(replies[0].text, "Welcome");
            assert_eq!(replies[0].lines, 4);
            assert_eq!(replies[0].command.as_deref(), Some("PASS"));
            assert!(out
                .iter()
                .any(|e| matches!(e, FtpEvent::Login(l) if l.success)));
        }
    }

    #[test]
    fn truncation_at_every_offset_never_panics() {
        let client: &[u8] = b"USER a\r\nPASS b\r\nCWD /x\r\nLIST\r\nQUIT\r\n";
        let server: &[u8] =
            b"220-hi\r\n220 ok\r\n331 p\r\n230 in\r\n250 ok\r\n150 x\r\n226 d\r\n221 bye\r\n";
        for cut in 0..=server.len().max(client.len()) {
            let mut p = FtpParser::new();
            let mut out = Vec::new();
            p.data(C, &client[..cut.min(client.len())], &mut out);
            p.data(S, &server[..cut.min(server.len())], &mut out);
            p.end(C, &mut out);
            p.end(S, &mut out);
        }
    }

    #[test]
    fn long_line_is_skipped_and_parsing_continues() {
        let mut p = FtpParser::new();
        let mut long = vec![b'A'; MAX_LINE + 10];
        long.extend_from_slice(b"\r\nNOOP\r\n");
        let mut out = Vec::new();
        for c in long.chunks(1000) {
            p.data(C, c, &mut out);
        }
        assert_eq!(
            out[0],
            FtpEvent::Error(FtpError {
                direction: C,
                offset: 0,
                kind: FtpErrorKind::LineTooLong
            })
        );
        assert!(
            matches!(&out[1], FtpEvent::Command(c) if c.command == "NOOP" && c.offset == MAX_LINE as u64 + 12)
        );
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn gap_resyncs_and_bad_lines() {
        let mut p = FtpParser::new();
        let mut out = Vec::new();
        p.data(S, b"220 hi\r\n", &mut out);
        p.data(C, b"USER a\r\nPA", &mut out);
        p.gap(C, 10);
        p.data(C, b"xx garbage\r\nNOOP\r\n", &mut out);
        p.data(S, b"hello\r\n", &mut out);
        assert!(matches!(&out[2], FtpEvent::Command(c) if c.command == "XX"));
        assert!(
            matches!(&out[3], FtpEvent::Command(c) if c.command == "NOOP" && c.offset == 8 + 2 + 10 + 12)
        );
        assert!(matches!(&out[4], FtpEvent::Error(e) if e.kind == FtpErrorKind::BadReply));
        p.gap(C, 1);
        p.data(C, b"\x01\x02 x\r\nSYST\r\n", &mut out);
        assert!(matches!(out.last(), Some(FtpEvent::Command(c)) if c.command == "SYST"));
    }

    #[test]
    fn auth_tls_stops() {
        let mut p = FtpParser::new();
        let out = run(
            &mut p,
            &[
                (S, b"220 (vsFTPd 3.0.5)\r\n"),
                (C, b"AUTH TLS\r\n"),
                (S, b"234 Proceed with negotiation.\r\n"),
                (C, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\n"),
            ],
        );
        assert_eq!(out.len(), 3, "{out:?}");
        assert!(p.done() && p.tls_started());
    }

    #[test]
    fn unterminated_last_line_and_incomplete_multiline() {
        let mut p = FtpParser::new();
        let mut out = Vec::new();
        p.data(C, b"QUIT", &mut out);
        p.end(C, &mut out);
        p.data(S, b"221-bye\r\nmore", &mut out);
        p.end(S, &mut out);
        assert!(matches!(&out[0], FtpEvent::Command(c) if c.command == "QUIT"));
        assert!(matches!(&out[1], FtpEvent::Error(e) if e.kind == FtpErrorKind::Incomplete));
    }

    #[test]
    fn greeting_after_early_commands() {
        let mut p = FtpParser::new();
        let out = run(
            &mut p,
            &[
                (C, b"USER anonymous\r\nSYST\r\n"),
                (S, b"220 ready\r\n230 ok\r\n215 UNIX\r\n"),
            ],
        );
        let answered: Vec<_> = out
            .iter()
            .filter_map(|e| match e {
                FtpEvent::Reply(r) => Some((r.code, r.command.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            answered,
            [
                (220, None),
                (230, Some("USER".into())),
                (215, Some("SYST".into()))
            ]
        );
    }

    /// Fuzz finding: bytes after `end` reused the ended line's offset.
    #[test]
    fn data_after_end_is_ignored() {
        let mut p = FtpParser::new();
        let mut out = Vec::new();
        p.data(C, b"NOOP\r\nQUIT", &mut out);
        p.end(C, &mut out);
        p.data(C, b"\r\nSTAT\r\n", &mut out);
        let offsets: Vec<u64> = out
            .iter()
            .filter_map(|e| match e {
                FtpEvent::Command(c) => Some(c.offset),
                _ => None,
            })
            .collect();
        assert_eq!(offsets, [0, 6]);
    }

    #[test]
    fn invalid_command_keeps_its_place() {
        let mut p = FtpParser::new();
        let long = format!("{}\r\nPASV\r\n", "X".repeat(40));
        let out = run(
            &mut p,
            &[
                (C, long.as_bytes()),
                (S, b"500 what?\r\n227 Entering Passive Mode\r\n"),
            ],
        );
        let answered: Vec<_> = out
            .iter()
            .filter_map(|e| match e {
                FtpEvent::Reply(r) => Some((r.code, r.command.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(answered, [(500, None), (227, Some("PASV".into()))]);
    }

    #[test]
    fn probes() {
        assert_eq!(probe(S, b"220 ProFTPD Server\r\n"), Probe::Match);
        assert_eq!(probe(S, b"220-Welcome\r\n"), Probe::Match);
        assert_eq!(probe(S, b"22"), Probe::NeedMore);
        assert_eq!(
            probe(S, b"220 mail.example.com ESMTP Postfix\r\n"),
            Probe::NoMatch
        );
        assert_eq!(probe(S, b"230 x"), Probe::NoMatch);
        assert_eq!(probe(S, b"HTTP/1.1 200 OK"), Probe::NoMatch);
        assert_eq!(probe(C, b"USER anonymous\r\n"), Probe::Match);
        assert_eq!(probe(C, b"feat\r\n"), Probe::Match);
        assert_eq!(probe(C, b"AU"), Probe::NeedMore);
        assert_eq!(probe(C, b"USERX"), Probe::NoMatch);
        assert_eq!(probe(C, b"GET / HTTP/1.1\r\n"), Probe::NoMatch);
        assert_eq!(probe(C, b"\x16\x03\x01"), Probe::NoMatch);
    }
}
