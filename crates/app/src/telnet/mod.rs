//! Telnet: option negotiation and the login dialogue.
//!
//! [`TelnetParser`] takes both directions of one connection. It strips IAC sequences (reporting
//! WILL/WONT/DO/DONT and SB…SE as [`TelnetEvent::Negotiation`] / [`TelnetEvent::Subnegotiation`]),
//! then runs a small login state machine on the text:
//!
//! - **Prompts** (server → client): the recent server text, trailing blanks removed, ends with
//!   `login:`, `username:` or `user name:` → [`PromptKind::Login`]; `password:` or
//!   `passcode:` → [`PromptKind::Password`] (case-insensitive).
//! - **Typed lines** (client → server): bytes are collected up to CR or LF, with backspace /
//!   DEL applied (character-at-a-time clients send one keystroke per segment). After a login
//!   prompt the line is the username; after a password prompt it is the password, of which
//!   only the length is kept. The server's echo of what the client types arrives in the other
//!   direction, so it is never mistaken for input; it cannot fake a prompt either, because a
//!   prompt must end the server text and the echoed line ends with CR LF.
//! - **Outcome** (after a password): server text containing `incorrect`, `failed`, `denied` or
//!   `invalid` → failure; a prompt ending in `#`, `$`, `>` or `%` → success. A new login prompt
//!   without either counts as failure.
//! - **Commands** (after a successful login): every non-empty line the client types is a
//!   [`TelnetEvent::Command`], numbered from 1, with what [`crate::shell`] makes of it: the
//!   files it downloads and whether they are run, on that line or a later one of the session
//!   (the session remembers its last [`MAX_REMEMBERED`] downloads). A new login or password
//!   prompt (`su`, a logout) leaves the shell.
//!
//! Text is bounded: login lines keep at most [`MAX_LINE`] bytes, commands [`MAX_COMMAND`]
//! (longer ones are cut and flagged `truncated`), the server tail [`MAX_TAIL`]; a session
//! reports at most [`MAX_COMMANDS`] commands (later ones are counted, not reported). Text is
//! kept as typed (invalid UTF-8 replaced), with edits applied; nothing is escaped here.

use serde::Serialize;

use crate::credentials::DefaultCredentials;
use crate::shell::{self, Download};
use crate::Direction;
use std::sync::Arc;

/// Longest login line (username, password) kept (longer input is truncated).
pub const MAX_LINE: usize = 256;
/// Longest command line kept after login (longer input is cut, flagged `truncated`).
pub const MAX_COMMAND: usize = 1024;
/// Commands reported per session; later ones are counted in [`TelnetParser::commands_dropped`].
pub const MAX_COMMANDS: u32 = 64;
/// Downloads a session remembers, to tell when a later command runs one.
pub const MAX_REMEMBERED: usize = 8;
/// Server text kept for prompt detection.
pub const MAX_TAIL: usize = 256;

const IAC: u8 = 255;
const SB: u8 = 250;
const SE: u8 = 240;
const WILL: u8 = 251;
const WONT: u8 = 252;
const DO: u8 = 253;
const DONT: u8 = 254;

/// Negotiation verb.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verb {
    /// WILL
    Will,
    /// WONT
    Wont,
    /// DO
    Do,
    /// DONT
    Dont,
}

/// Which prompt was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PromptKind {
    /// "login:" / "Username:"
    Login,
    /// "Password:"
    Password,
}

/// One telnet event.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TelnetEvent {
    /// IAC WILL/WONT/DO/DONT option.
    Negotiation {
        /// Sender.
        direction: Direction,
        /// Verb.
        verb: Verb,
        /// Option code.
        option: u8,
    },
    /// IAC SB option … IAC SE.
    Subnegotiation {
        /// Sender.
        direction: Direction,
        /// Option code.
        option: u8,
        /// Parameter bytes (after IAC IAC unescaping), at most 64 kept in the count.
        len: usize,
    },
    /// The server asked for a login name or a password.
    Prompt {
        /// Which.
        kind: PromptKind,
        /// The prompt text (trimmed, at most `MAX_TAIL` bytes).
        text: String,
    },
    /// The client typed a username.
    Username {
        /// As typed, edits applied.
        name: String,
    },
    /// The client typed a password (length only; the text is compared with the default
    /// credential list and dropped).
    Password {
        /// Length in bytes, edits applied.
        len: usize,
        /// The username typed before it, if any.
        username: Option<String>,
        /// True when the pair is a publicly known default (see [`crate::credentials`]).
        default_credential: bool,
    },
    /// The server's reaction to a password.
    LoginResult {
        /// True for a shell prompt, false for a failure message or a new login prompt.
        success: bool,
        /// The text that decided it (trimmed, bounded).
        evidence: String,
        /// The username of the attempt, if one was typed.
        username: Option<String>,
        /// True when the attempt used a publicly known default credential.
        default_credential: bool,
    },
    /// A command line typed after a successful login.
    Command {
        /// 1 for the session's first command, and so on.
        index: u32,
        /// As typed, edits applied (at most [`MAX_COMMAND`] bytes).
        line: String,
        /// True when the line was longer than [`MAX_COMMAND`] bytes and was cut.
        truncated: bool,
        /// Files this line downloads, and earlier downloads of the session it runs
        /// (`executed: true`); see [`crate::shell`].
        #[serde(skip_serializing_if = "Vec::is_empty")]
        downloads: Vec<Download>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IacState {
    Data,
    Command,
    Verb(Verb),
    SbOption,
    Sb(u8, usize),
    SbEscape(u8, usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Login {
    Idle,
    WantUser,
    WantPassword,
    WantResult,
    /// Logged in: lines are commands.
    Shell,
}

#[derive(Debug)]
struct Half {
    iac: IacState,
    /// Client: the line being typed. Server: recent text.
    text: Vec<u8>,
    /// Client: the line being typed outgrew its limit.
    overflow: bool,
    last_cr: bool,
}

impl Half {
    fn new() -> Self {
        Half {
            iac: IacState::Data,
            text: Vec::new(),
            overflow: false,
            last_cr: false,
        }
    }
}

/// Telnet parser for both directions of one connection.
#[derive(Debug)]
pub struct TelnetParser {
    client: Half,
    server: Half,
    login: Login,
    credentials: Arc<DefaultCredentials>,
    username: Option<String>,
    default_credential: bool,
    /// Commands typed in the shell so far.
    commands: u32,
    /// Downloads of the session, newest last (at most [`MAX_REMEMBERED`]).
    downloads: Vec<Download>,
}

impl Default for TelnetParser {
    fn default() -> Self {
        Self::new()
    }
}

fn ends_with_ci(hay: &str, needle: &str) -> bool {
    hay.len() >= needle.len()
        && hay
            .get(hay.len() - needle.len()..)
            .is_some_and(|t| t.eq_ignore_ascii_case(needle))
}

/// The last path segment of a file name.
fn last_segment(f: &str) -> &str {
    f.rsplit('/').next().unwrap_or(f)
}

fn bounded(s: &str) -> String {
    let t = s.trim();
    let start = t.len().saturating_sub(MAX_TAIL);
    let mut i = start;
    while !t.is_char_boundary(i) {
        i += 1;
    }
    t.get(i..).unwrap_or_default().to_string()
}

impl TelnetParser {
    /// A parser for a new connection.
    pub fn new() -> Self {
        Self::with_credentials(DefaultCredentials::builtin())
    }

    /// A parser checking passwords against `credentials` instead of the built-in list.
    pub fn with_credentials(credentials: Arc<DefaultCredentials>) -> Self {
        TelnetParser {
            client: Half::new(),
            server: Half::new(),
            login: Login::Idle,
            credentials,
            username: None,
            default_credential: false,
            commands: 0,
            downloads: Vec::new(),
        }
    }

    /// Commands typed after login beyond [`MAX_COMMANDS`] (counted, not reported).
    pub fn commands_dropped(&self) -> u32 {
        self.commands.saturating_sub(MAX_COMMANDS)
    }

    /// A gap in `dir`: the partial line / text is dropped and IAC state reset.
    pub fn gap(&mut self, dir: Direction) {
        let h = match dir {
            Direction::ToServer => &mut self.client,
            Direction::ToClient => &mut self.server,
        };
        *h = Half::new();
    }

    /// Bytes from `dir`'s stream.
    pub fn data(&mut self, dir: Direction, bytes: &[u8], out: &mut Vec<TelnetEvent>) {
        for &b in bytes {
            let h = match dir {
                Direction::ToServer => &mut self.client,
                Direction::ToClient => &mut self.server,
            };
            let (next, text_byte) = match h.iac {
                IacState::Data => {
                    if b == IAC {
                        (IacState::Command, None)
                    } else {
                        (IacState::Data, Some(b))
                    }
                }
                IacState::Command => match b {
                    IAC => (IacState::Data, Some(IAC)),
                    WILL => (IacState::Verb(Verb::Will), None),
                    WONT => (IacState::Verb(Verb::Wont), None),
                    DO => (IacState::Verb(Verb::Do), None),
                    DONT => (IacState::Verb(Verb::Dont), None),
                    SB => (IacState::SbOption, None),
                    _ => (IacState::Data, None), // NOP, GA, AYT, … (and a stray SE)
                },
                IacState::Verb(verb) => {
                    out.push(TelnetEvent::Negotiation {
                        direction: dir,
                        verb,
                        option: b,
                    });
                    (IacState::Data, None)
                }
                IacState::SbOption => (IacState::Sb(b, 0), None),
                IacState::Sb(opt, n) => {
                    if b == IAC {
                        (IacState::SbEscape(opt, n), None)
                    } else {
                        (IacState::Sb(opt, n.saturating_add(1)), None)
                    }
                }
                IacState::SbEscape(opt, n) => match b {
                    SE => {
                        out.push(TelnetEvent::Subnegotiation {
                            direction: dir,
                            option: opt,
                            len: n,
                        });
                        (IacState::Data, None)
                    }
                    _ => (IacState::Sb(opt, n.saturating_add(1)), None),
                },
            };
            h.iac = next;
            if let Some(c) = text_byte {
                match dir {
                    Direction::ToServer => self.client_byte(c, out),
                    Direction::ToClient => self.server_byte(c),
                }
            }
        }
        if dir == Direction::ToClient {
            self.check_server(out);
        }
    }

    fn client_byte(&mut self, c: u8, out: &mut Vec<TelnetEvent>) {
        let limit = if self.login == Login::Shell {
            MAX_COMMAND
        } else {
            MAX_LINE
        };
        let h = &mut self.client;
        match c {
            b'\r' | b'\n' => {
                let was_cr = h.last_cr;
                h.last_cr = c == b'\r';
                if c == b'\n' && was_cr {
                    return; // CR LF
                }
                let line = std::mem::take(&mut h.text);
                let truncated = std::mem::take(&mut h.overflow);
                self.line(line, truncated, out);
            }
            0 => h.last_cr = false, // CR NUL
            0x08 | 0x7f => {
                h.last_cr = false;
                if !h.overflow {
                    h.text.pop();
                }
            }
            _ => {
                h.last_cr = false;
                if h.text.len() < limit {
                    h.text.push(c);
                } else {
                    h.overflow = true;
                }
            }
        }
    }

    fn line(&mut self, line: Vec<u8>, truncated: bool, out: &mut Vec<TelnetEvent>) {
        match self.login {
            Login::Shell => self.command(&line, truncated, out),
            Login::WantUser => {
                let name = String::from_utf8_lossy(&line).into_owned();
                self.username = Some(name.clone());
                out.push(TelnetEvent::Username { name });
                self.login = Login::Idle;
            }
            Login::WantPassword => {
                self.default_credential = self
                    .username
                    .as_deref()
                    .is_some_and(|u| self.credentials.contains(u, &line));
                out.push(TelnetEvent::Password {
                    len: line.len(),
                    username: self.username.clone(),
                    default_credential: self.default_credential,
                });
                self.login = Login::WantResult;
                self.server.text.clear();
            }
            _ => {}
        }
    }

    /// A line typed in the shell: reported (up to [`MAX_COMMANDS`]) with its downloads.
    fn command(&mut self, line: &[u8], truncated: bool, out: &mut Vec<TelnetEvent>) {
        let text = String::from_utf8_lossy(line);
        if text.trim().is_empty() {
            return;
        }
        self.commands = self.commands.saturating_add(1);
        if self.commands > MAX_COMMANDS {
            return;
        }
        let analysis = shell::analyse(&text);
        // Earlier downloads this line runs, reported once (with `executed`).
        let mut downloads = Vec::new();
        for d in &mut self.downloads {
            let runs = d
                .file
                .as_deref()
                .is_some_and(|f| analysis.runs_file(last_segment(f)));
            if runs && !d.executed {
                d.executed = true;
                downloads.push(d.clone());
            }
        }
        for d in analysis.downloads {
            if self.downloads.len() >= MAX_REMEMBERED {
                self.downloads.remove(0);
            }
            self.downloads.push(d.clone());
            downloads.push(d);
        }
        out.push(TelnetEvent::Command {
            index: self.commands,
            line: text.into_owned(),
            truncated,
            downloads,
        });
    }

    fn server_byte(&mut self, c: u8) {
        let t = &mut self.server.text;
        if c == 0 {
            return;
        }
        if t.len() >= MAX_TAIL {
            t.drain(..t.len() - MAX_TAIL / 2);
        }
        t.push(c);
    }

    fn check_server(&mut self, out: &mut Vec<TelnetEvent>) {
        let text = String::from_utf8_lossy(&self.server.text).into_owned();
        let trimmed = text.trim_end();
        let last_line = trimmed.rsplit(['\r', '\n']).next().unwrap_or_default();
        let lower = text.to_ascii_lowercase();
        let prompt = if ["login:", "username:", "user name:"]
            .iter()
            .any(|p| ends_with_ci(trimmed, p))
        {
            Some(PromptKind::Login)
        } else if ["password:", "passcode:"]
            .iter()
            .any(|p| ends_with_ci(trimmed, p))
        {
            Some(PromptKind::Password)
        } else {
            None
        };
        if self.login == Login::WantResult {
            let failed = ["incorrect", "failed", "denied", "invalid"]
                .iter()
                .any(|w| lower.contains(w));
            if failed || prompt == Some(PromptKind::Login) {
                out.push(TelnetEvent::LoginResult {
                    success: false,
                    evidence: bounded(&text),
                    username: self.username.take(),
                    default_credential: std::mem::take(&mut self.default_credential),
                });
                self.login = Login::Idle;
            } else if prompt.is_none() && last_line.trim_end().ends_with(['#', '$', '>', '%']) {
                out.push(TelnetEvent::LoginResult {
                    success: true,
                    evidence: bounded(last_line),
                    username: self.username.take(),
                    default_credential: std::mem::take(&mut self.default_credential),
                });
                self.login = Login::Shell;
                self.server.text.clear();
                self.client.text.clear();
                self.client.overflow = false;
                return;
            }
        }
        if let Some(kind) = prompt {
            out.push(TelnetEvent::Prompt {
                kind,
                text: bounded(last_line),
            });
            self.login = match kind {
                PromptKind::Login => Login::WantUser,
                PromptKind::Password => Login::WantPassword,
            };
            self.server.text.clear();
            // A prompt can arrive while the client already typed ahead; start a fresh line.
            self.client.text.clear();
        }
    }
}

#[cfg(test)]
mod tests;
