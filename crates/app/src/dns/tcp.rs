//! DNS over TCP (RFC 1035 §4.2.2, RFC 7766): two-byte length prefix per message.

use super::{parse, probe, DnsError, DnsErrorKind, DnsEvent};
use crate::reader::Reader;
use crate::Direction;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Mode {
    #[default]
    Frames,
    /// After a gap: wait for a chunk that starts with a plausible prefixed message.
    Resync,
    /// Ended.
    Ended,
}

#[derive(Debug, Default)]
struct Side {
    buf: Vec<u8>,
    /// Stream offset of `buf[0]`.
    offset: u64,
    mode: Mode,
}

/// DNS over TCP: each message has a two-byte length prefix; both directions of one
/// connection. Buffering is bounded by the prefix (at most 65 537 bytes per direction).
///
/// A gap drops the partial message; the direction resumes at the next chunk that starts with
/// a length prefix followed by something [`probe`] accepts. A zero length prefix is reported
/// and skipped. A message that fails to parse is reported as an error with its stream offset
/// and skipped (its length is known).
#[derive(Debug, Default)]
pub struct DnsTcpParser {
    sides: [Side; 2],
}

fn side_index(dir: Direction) -> usize {
    match dir {
        Direction::ToServer => 0,
        Direction::ToClient => 1,
    }
}

impl DnsTcpParser {
    /// A parser for one connection.
    pub fn new() -> Self {
        Self::default()
    }

    fn side(&mut self, dir: Direction) -> &mut Side {
        let [a, b] = &mut self.sides;
        match side_index(dir) {
            0 => a,
            _ => b,
        }
    }

    /// Bytes of direction `dir`.
    pub fn data(&mut self, dir: Direction, bytes: &[u8], out: &mut Vec<DnsEvent>) {
        let side = self.side(dir);
        match side.mode {
            Mode::Ended => return,
            Mode::Resync => {
                let mut r = Reader::new(bytes);
                let plausible = r.u16().is_some_and(|n| n > 0) && probe(r.rest());
                if !plausible {
                    side.offset = side.offset.saturating_add(bytes.len() as u64);
                    return;
                }
                side.mode = Mode::Frames;
            }
            Mode::Frames => {}
        }
        side.buf.extend_from_slice(bytes);
        let mut used = 0usize;
        loop {
            let rest = side.buf.get(used..).unwrap_or_default();
            let mut r = Reader::new(rest);
            let Some(len) = r.u16() else { break };
            let at = side.offset;
            if len == 0 {
                out.push(DnsEvent::Error(DnsError {
                    offset: at,
                    kind: DnsErrorKind::EmptyMessage,
                }));
                used += 2;
                side.offset = side.offset.saturating_add(2);
                continue;
            }
            let Some(msg) = r.take(usize::from(len)) else {
                break;
            };
            out.push(match parse(msg) {
                Ok(m) => DnsEvent::Message(m),
                Err(e) => DnsEvent::Error(DnsError {
                    offset: at.saturating_add(2).saturating_add(e.offset),
                    kind: e.kind,
                }),
            });
            let total = 2 + usize::from(len);
            used += total;
            side.offset = side.offset.saturating_add(total as u64);
        }
        let n = used.min(side.buf.len());
        side.buf.drain(..n);
    }

    /// `missed` bytes of direction `dir` were lost: the partial message is dropped.
    pub fn gap(&mut self, dir: Direction, missed: u64) {
        let side = self.side(dir);
        if side.mode == Mode::Ended {
            return;
        }
        side.offset = side
            .offset
            .saturating_add(side.buf.len() as u64)
            .saturating_add(missed);
        side.buf.clear();
        side.mode = Mode::Resync;
    }

    /// End of direction `dir`: an unfinished message is reported.
    pub fn end(&mut self, dir: Direction, out: &mut Vec<DnsEvent>) {
        let side = self.side(dir);
        if side.mode == Mode::Frames && !side.buf.is_empty() {
            out.push(DnsEvent::Error(DnsError {
                offset: side.offset,
                kind: DnsErrorKind::Incomplete,
            }));
        }
        side.offset = side.offset.saturating_add(side.buf.len() as u64);
        side.buf = Vec::new();
        side.mode = Mode::Ended;
    }

    /// True once both directions have ended.
    pub fn done(&self) -> bool {
        self.sides.iter().all(|s| s.mode == Mode::Ended)
    }
}
