//! Header blocks: finding where one ends (CR LF CR LF or LF LF, possibly split across
//! segments), buffering it up to [`HttpConfig::max_header_bytes`] when it spans segments, and
//! skipping to the next line that starts a message after an error (resynchronisation).

use super::parser::Mode;
use super::syntax::*;
use super::*;

/// Result of scanning for the end of a header block.
enum Scan {
    /// The block ends just before this index (terminator included in the block).
    End(usize),
    /// The first line ends just before this index (LF included).
    FirstLine(usize),
    /// No end in these bytes.
    More,
}

/// Scans `bytes` for the end of the first line or of the header block, carrying the
/// terminator state in `term` and `first_line` across segments.
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

impl HttpParser {
    /// Skips to the next line that starts a message; returns bytes skipped.
    pub(super) fn resync(&mut self, dir: Direction, bytes: &[u8]) -> usize {
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
    pub(super) fn start_resync(&mut self, dir: Direction, line_start: bool) {
        let h = self.half(dir);
        h.mode = Mode::Resync;
        h.reset_head();
        h.line_start = line_start;
    }

    /// Outside a message, skips the blank lines before the next one and marks where it
    /// starts: `Ok(bytes skipped)`, or `Err(bytes consumed)` when this chunk is done (only
    /// blank lines, or a response to an HTTP/0.9 request, taken whole).
    fn begin_message(&mut self, dir: Direction, bytes: &[u8]) -> Result<usize, usize> {
        if self.half(dir).in_msg {
            return Ok(0);
        }
        let start = bytes
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        if start == bytes.len() {
            return Err(start);
        }
        let h = self.half(dir);
        h.in_msg = true;
        h.msg_start = h.pos.saturating_add(start as u64);
        // RFC 1945 §6: a 0.9 request gets a Simple-Response, whatever it starts with.
        if dir == Direction::ToClient
            && self
                .pending
                .front()
                .is_some_and(|(_, r)| r.version == "0.9")
        {
            self.response_09();
            return Err(start);
        }
        Ok(start)
    }

    /// Reads header bytes; returns bytes consumed.
    pub(super) fn headers(
        &mut self,
        dir: Direction,
        bytes: &[u8],
        out: &mut Vec<HttpEvent>,
    ) -> usize {
        let max = self.cfg.max_header_bytes;
        let start = match self.begin_message(dir, bytes) {
            Ok(start) => start,
            Err(consumed) => return consumed,
        };
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

    /// Parses the complete header block `block` of `dir` (a 0.9 request line when
    /// `zero_nine`).
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
}
