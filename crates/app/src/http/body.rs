//! Message bodies: the framing the headers give (`Content-Length`, `Transfer-Encoding`),
//! counting body bytes (keeping the first [`BODY_KEPT`]), and decoding the chunked transfer
//! coding with its extensions and trailers skipped.

use super::parser::Mode;
use super::syntax::*;
use super::*;

/// Chunked-body decoder state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Chunk {
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

/// How a body is delimited, and where its reading stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// `Content-Length`: this many bytes left.
    Length(u64),
    /// Chunked transfer coding, in this state.
    Chunked(Chunk),
    /// Everything until the connection closes.
    UntilClose,
}

/// Header-derived facts used for framing.
#[derive(Debug, Default)]
pub(super) struct Framings {
    /// The `Content-Length` (every one agreeing).
    pub(super) content_length: Option<u64>,
    /// A `Content-Length` was invalid or disagreed with another.
    pub(super) bad_length: bool,
    /// A `Transfer-Encoding` was present.
    pub(super) te: bool,
    /// The last `Transfer-Encoding` coding is `chunked`.
    pub(super) te_chunked: bool,
}

impl Framings {
    /// Takes in one header line.
    pub(super) fn header(&mut self, name: &str, v: &[u8]) {
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

impl HttpParser {
    /// `n` body bytes of `dir` counted, and `data` (those of them that were seen) kept up
    /// to [`BODY_KEPT`] — a gap's bytes are counted, not kept.
    pub(super) fn add_body(&mut self, dir: Direction, n: u64, data: &[u8]) {
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
    pub(super) fn finish_body(&mut self, dir: Direction, out: &mut Vec<HttpEvent>) {
        let h = self.half(dir);
        if h.mode != Mode::Tunnel {
            h.mode = Mode::Headers;
        }
        match dir {
            Direction::ToServer => self.body_seq = None,
            Direction::ToClient => self.emit_response(out),
        }
    }

    /// Reads body bytes; returns bytes consumed.
    pub(super) fn body(
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

    /// Reads chunked body bytes from `state` (RFC 9112 §7.1: size, extensions, data, CR LF,
    /// trailers); returns bytes consumed.
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
}

/// The state after a chunk size line: the trailers after the last (zero) chunk.
fn after_size(value: u64) -> Chunk {
    if value == 0 {
        Chunk::Trailer { empty: true }
    } else {
        Chunk::Data(value)
    }
}
