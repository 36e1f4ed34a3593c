//! TCP stream reassembly for one direction of one connection.
//!
//! Feed [`StreamReassembler::segment`] every TCP segment of the direction in capture order
//! (sequence number, captured payload, flag byte); it hands the bytes to a [`StreamSink`] in
//! sequence order, exactly once.
//!
//! Policies:
//! - **Start.** The stream starts at the SYN (its sequence number + 1) or, for a connection
//!   picked up mid-stream, at the first segment seen.
//! - **Overlaps and retransmissions: first received wins.** Bytes already delivered or already
//!   buffered are never replaced; only the parts of a later segment that cover new sequence
//!   space are kept. (BSD and Linux keep the first copy for most overlaps; an IDS that differs
//!   from its host can be evaded, so the lead may later make this per-target like Suricata's
//!   `stream.reassembly` policies.) Bytes dropped this way are counted in
//!   [`StreamStats::overlap_bytes`], wholly old segments in [`StreamStats::retransmissions`].
//! - **Out of order.** Data ahead of the next expected byte is copied into a sorted buffer,
//!   bounded per stream ([`ReassemblyConfig::max_buffered`]) and by a [`ReassemblyBudget`] shared
//!   by all streams. Each buffered piece is charged its length plus
//!   [`SEGMENT_OVERHEAD`] bytes, so floods of tiny segments are bounded too.
//! - **Holes.** When buffering a segment would exceed a limit, the reassembler gives up on the
//!   oldest hole: it skips to the first buffered byte, tells the sink about the gap
//!   ([`StreamSink::gap`]) and counts the bytes as missed, then delivers what became
//!   contiguous; repeated until the segment fits (or it is delivered directly past a gap).
//!   [`StreamReassembler::finish`] (called on RST, or by the owner at flow end / timeout) does
//!   the same for every remaining hole, including one before a FIN seen earlier.
//! - **End.** After FIN's sequence number is reached, or after RST, the stream is closed:
//!   [`StreamSink::end`] is called once and later segments are ignored (counted).
//! - **Wrap-around.** Sequence numbers are compared modulo 2^32 (RFC 1982 serial arithmetic);
//!   a segment more than 2^31 bytes "ahead" is treated as old.
//! - **Allocation.** In-order segments are delivered straight from the caller's slice; memory
//!   is allocated only to buffer out-of-order data.
//!
//! The owner must call [`StreamReassembler::finish`] or [`StreamReassembler::discard`] before
//! dropping a reassembler that may hold buffered data, so the shared budget is given back.

use serde::Serialize;

/// Bytes charged per buffered piece on top of its length.
pub const SEGMENT_OVERHEAD: usize = 64;

/// Flag bits as they appear in the TCP header's flag byte.
pub mod flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
}

/// Receives a reassembled stream.
pub trait StreamSink {
    /// Contiguous bytes, in order.
    fn data(&mut self, bytes: &[u8]);
    /// `missed` bytes were skipped: the next `data` does not follow the previous one.
    fn gap(&mut self, missed: u64);
    /// The stream ended (FIN reached, RST, or `finish`). Called once.
    fn end(&mut self) {}
}

/// Per-stream limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReassemblyConfig {
    /// Most bytes (with overhead) buffered out of order in one stream.
    pub max_buffered: usize,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            max_buffered: 1 << 20,
        }
    }
}

/// Out-of-order buffer budget shared by every stream of a flow table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReassemblyBudget {
    limit: usize,
    used: usize,
}

impl ReassemblyBudget {
    /// A budget of `limit` bytes (overhead included).
    pub fn new(limit: usize) -> Self {
        ReassemblyBudget { limit, used: 0 }
    }

    /// Bytes in use.
    pub fn used(&self) -> usize {
        self.used
    }

    /// The limit.
    pub fn limit(&self) -> usize {
        self.limit
    }

    fn fits(&self, n: usize) -> bool {
        self.used.checked_add(n).is_some_and(|u| u <= self.limit)
    }

    fn charge(&mut self, n: usize) {
        self.used = self.used.saturating_add(n);
    }

    fn release(&mut self, n: usize) {
        self.used = self.used.saturating_sub(n);
    }
}

/// Counters of one stream.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct StreamStats {
    /// Bytes handed to the sink.
    pub delivered: u64,
    /// Bytes skipped over holes.
    pub missed: u64,
    /// Number of gaps reported.
    pub gaps: u64,
    /// Segments whose payload was entirely old.
    pub retransmissions: u64,
    /// Bytes dropped because earlier data already covered them (retransmissions included).
    pub overlap_bytes: u64,
    /// Segments that arrived ahead of the next expected byte.
    pub out_of_order: u64,
    /// Segments ignored because the stream had ended.
    pub after_close: u64,
    /// Most bytes (overhead included) this stream held buffered at once.
    pub peak_buffered: usize,
}

#[derive(Debug)]
struct Piece {
    seq: u32,
    data: Vec<u8>,
}

impl Piece {
    fn charge(&self) -> usize {
        self.data.len().saturating_add(SEGMENT_OVERHEAD)
    }
}

/// Largest jump an acknowledgement may make past the next expected byte and still skip a
/// hole ([`StreamReassembler::acked`]); larger ones are more likely bogus than lost data.
pub const MAX_ACK_SKIP: i64 = 16 << 20;

/// Serial-number distance `a - b` (positive when `a` is after `b`).
fn diff(a: u32, b: u32) -> i64 {
    i64::from(a.wrapping_sub(b) as i32)
}

/// Reassembles one direction of a TCP connection.
#[derive(Debug)]
pub struct StreamReassembler {
    cfg: ReassemblyConfig,
    started: bool,
    next: u32,
    fin: Option<u32>,
    closed: bool,
    pieces: Vec<Piece>,
    buffered: usize,
    stats: StreamStats,
}

impl StreamReassembler {
    /// A reassembler that has seen nothing yet.
    pub fn new(cfg: ReassemblyConfig) -> Self {
        StreamReassembler {
            cfg,
            started: false,
            next: 0,
            fin: None,
            closed: false,
            pieces: Vec::new(),
            buffered: 0,
            stats: StreamStats::default(),
        }
    }

    /// Counters.
    pub fn stats(&self) -> &StreamStats {
        &self.stats
    }

    /// Bytes (with overhead) buffered out of order now.
    pub fn buffered(&self) -> usize {
        self.buffered
    }

    /// True after FIN was reached, RST, `finish` or `discard`.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Next sequence number expected, once the stream has started.
    pub fn next_seq(&self) -> Option<u32> {
        self.started.then_some(self.next)
    }

    /// One segment: sequence number, captured payload, TCP flag byte.
    pub fn segment(
        &mut self,
        seq: u32,
        payload: &[u8],
        tcp_flags: u8,
        budget: &mut ReassemblyBudget,
        sink: &mut impl StreamSink,
    ) {
        if self.closed {
            if !payload.is_empty() || tcp_flags & (flags::FIN | flags::RST) == 0 {
                self.stats.after_close = self.stats.after_close.saturating_add(1);
            }
            return;
        }
        let syn = tcp_flags & flags::SYN != 0;
        let data_seq = if syn { seq.wrapping_add(1) } else { seq };
        if !self.started && (syn || !payload.is_empty() || tcp_flags & flags::FIN != 0) {
            self.started = true;
            self.next = data_seq;
        }
        if self.started && !payload.is_empty() {
            self.insert(data_seq, payload, budget, sink);
        }
        if tcp_flags & flags::FIN != 0 && self.started && self.fin.is_none() {
            // Payload length fits in u32 for any real segment; saturate defensively.
            let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
            self.fin = Some(data_seq.wrapping_add(len));
        }
        if tcp_flags & flags::RST != 0 {
            self.finish(budget, sink);
            return;
        }
        self.check_fin(budget, sink);
    }

    /// Ends the stream now: skips every remaining hole (reporting gaps), delivers what is
    /// buffered, reports a final gap up to a FIN seen earlier, and calls `end`.
    pub fn finish(&mut self, budget: &mut ReassemblyBudget, sink: &mut impl StreamSink) {
        if self.closed {
            return;
        }
        while !self.pieces.is_empty() {
            self.skip_first_hole(budget, sink);
        }
        if let Some(fin) = self.fin {
            let missing = diff(fin, self.next);
            if missing > 0 {
                self.report_gap(missing.unsigned_abs(), sink);
                self.next = fin;
            }
        }
        self.closed = true;
        sink.end();
    }

    /// The other side acknowledged every byte before `ack`. A hole before buffered data that
    /// lies at or below `ack` will not be filled (the sender does not retransmit acknowledged
    /// data; the capture missed it), so it is skipped now as a gap and what follows is
    /// delivered, instead of waiting for the buffer limit or the end (Zeek's rule). Nothing is
    /// skipped where no later data was captured yet. Acknowledgements more than
    /// [`MAX_ACK_SKIP`] ahead are not trusted.
    pub fn acked(&mut self, ack: u32, budget: &mut ReassemblyBudget, sink: &mut impl StreamSink) {
        if self.closed || !self.started {
            return;
        }
        let ahead = diff(ack, self.next);
        if ahead <= 0 || ahead > MAX_ACK_SKIP {
            return;
        }
        // Only holes with captured data after them: an acknowledgement captured before the
        // segment it acknowledges (capture order is not wire order) must not skip that data.
        while let Some(first) = self.pieces.first().map(|p| p.seq) {
            if diff(first, ack) > 0 {
                break;
            }
            self.skip_first_hole(budget, sink);
        }
        self.check_fin(budget, sink);
    }

    /// Drops buffered data without delivering it and closes the stream (no sink calls).
    pub fn discard(&mut self, budget: &mut ReassemblyBudget) {
        budget.release(self.buffered);
        self.buffered = 0;
        self.pieces.clear();
        self.closed = true;
    }

    fn check_fin(&mut self, budget: &mut ReassemblyBudget, sink: &mut impl StreamSink) {
        if let Some(fin) = self.fin {
            if diff(self.next, fin) >= 0 && self.pieces.is_empty() {
                self.closed = true;
                budget.release(self.buffered);
                self.buffered = 0;
                sink.end();
            }
        }
    }

    fn report_gap(&mut self, missed: u64, sink: &mut impl StreamSink) {
        self.stats.missed = self.stats.missed.saturating_add(missed);
        self.stats.gaps = self.stats.gaps.saturating_add(1);
        sink.gap(missed);
    }

    fn deliver(&mut self, bytes: &[u8], sink: &mut impl StreamSink) {
        if bytes.is_empty() {
            return;
        }
        let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
        self.next = self.next.wrapping_add(len);
        self.stats.delivered = self.stats.delivered.saturating_add(u64::from(len));
        sink.data(bytes);
    }

    fn insert(
        &mut self,
        seq: u32,
        payload: &[u8],
        budget: &mut ReassemblyBudget,
        sink: &mut impl StreamSink,
    ) {
        // Trim what was already delivered.
        let rel = diff(seq, self.next);
        let (mut seq, mut data) = (seq, payload);
        if rel < 0 {
            let old = usize::try_from(rel.unsigned_abs()).unwrap_or(usize::MAX);
            match data.get(old..) {
                Some(rest) if !rest.is_empty() => {
                    self.stats.overlap_bytes = self.stats.overlap_bytes.saturating_add(old as u64);
                    data = rest;
                    seq = self.next;
                }
                _ => {
                    self.stats.retransmissions = self.stats.retransmissions.saturating_add(1);
                    self.stats.overlap_bytes = self
                        .stats
                        .overlap_bytes
                        .saturating_add(payload.len() as u64);
                    return;
                }
            }
        }
        // Fast path: nothing buffered and the segment starts at the next byte.
        if self.pieces.is_empty() && seq == self.next {
            self.deliver(data, sink);
            return;
        }
        if seq != self.next {
            self.stats.out_of_order = self.stats.out_of_order.saturating_add(1);
        }
        // Split the new data around what is buffered (first received wins).
        let mut start = diff(seq, self.next).max(0);
        let end = start.saturating_add(data.len() as i64);
        let mut idx = 0;
        while start < end {
            // First buffered piece ending after `start`.
            while let Some(p) = self.pieces.get(idx) {
                let p_end = diff(p.seq, self.next).saturating_add(p.data.len() as i64);
                if p_end > start {
                    break;
                }
                idx += 1;
            }
            let (piece_start, piece_end) = match self.pieces.get(idx) {
                Some(p) => {
                    let ps = diff(p.seq, self.next);
                    (ps, ps.saturating_add(p.data.len() as i64))
                }
                None => (i64::MAX, i64::MAX),
            };
            if piece_start <= start {
                // Covered by buffered data.
                let covered = piece_end.min(end) - start;
                self.stats.overlap_bytes = self.stats.overlap_bytes.saturating_add(covered as u64);
                start = piece_end;
                idx += 1;
                continue;
            }
            let stop = piece_start.min(end);
            let from = usize::try_from(start - diff(seq, self.next)).unwrap_or(usize::MAX);
            let to = usize::try_from(stop - diff(seq, self.next)).unwrap_or(usize::MAX);
            let Some(chunk) = data.get(from..to) else {
                return;
            };
            let abs = self.next.wrapping_add(start as u32);
            if !self.store(abs, chunk, budget, sink) {
                // Limits forced holes to be skipped; positions moved, recompute from scratch.
                let consumed = to;
                let rest_seq = seq.wrapping_add(u32::try_from(consumed).unwrap_or(u32::MAX));
                if let Some(rest) = data.get(consumed..) {
                    if !rest.is_empty() {
                        self.insert(rest_seq, rest, budget, sink);
                    }
                }
                return;
            }
            idx += 1;
            start = stop;
        }
        self.drain(budget, sink);
    }

    /// Buffers `chunk` at `seq` (known not to overlap buffered data). Returns false when the
    /// limits made it skip holes (and the chunk was delivered or buffered after that).
    fn store(
        &mut self,
        seq: u32,
        chunk: &[u8],
        budget: &mut ReassemblyBudget,
        sink: &mut impl StreamSink,
    ) -> bool {
        let cost = chunk.len().saturating_add(SEGMENT_OVERHEAD);
        let fits = |s: &Self, b: &ReassemblyBudget| {
            s.buffered.saturating_add(cost) <= s.cfg.max_buffered && b.fits(cost)
        };
        if fits(self, budget) {
            let rel = diff(seq, self.next);
            let pos = self
                .pieces
                .iter()
                .position(|p| diff(p.seq, self.next) > rel)
                .unwrap_or(self.pieces.len());
            self.pieces.insert(
                pos,
                Piece {
                    seq,
                    data: chunk.to_vec(),
                },
            );
            self.buffered = self.buffered.saturating_add(cost);
            budget.charge(cost);
            self.stats.peak_buffered = self.stats.peak_buffered.max(self.buffered);
            return true;
        }
        // Over a limit: give up holes before this chunk, oldest first.
        while !fits(self, budget) {
            let before = self.pieces.first().is_some_and(|p| diff(p.seq, seq) < 0);
            if !before {
                break;
            }
            self.skip_first_hole(budget, sink);
        }
        let rel = diff(seq, self.next);
        if rel <= 0 || !fits(self, budget) {
            // Deliver directly past the gap before it (if any).
            if rel > 0 {
                self.report_gap(rel.unsigned_abs(), sink);
                self.next = seq;
            }
            let skip = usize::try_from(rel.min(0).unsigned_abs()).unwrap_or(usize::MAX);
            if let Some(rest) = chunk.get(skip..) {
                self.deliver(rest, sink);
            }
            self.drain(budget, sink);
        } else {
            self.store(seq, chunk, budget, sink);
        }
        false
    }

    /// Skips the hole before the first buffered piece and delivers what became contiguous.
    fn skip_first_hole(&mut self, budget: &mut ReassemblyBudget, sink: &mut impl StreamSink) {
        if let Some(first) = self.pieces.first().map(|p| p.seq) {
            let hole = diff(first, self.next);
            if hole > 0 {
                self.report_gap(hole.unsigned_abs(), sink);
                self.next = first;
            }
        }
        self.drain(budget, sink);
    }

    /// Delivers buffered pieces that start at (or before) the next expected byte.
    fn drain(&mut self, budget: &mut ReassemblyBudget, sink: &mut impl StreamSink) {
        while let Some(p) = self.pieces.first() {
            let rel = diff(p.seq, self.next);
            if rel > 0 {
                break;
            }
            let piece = self.pieces.remove(0);
            let cost = piece.charge();
            self.buffered = self.buffered.saturating_sub(cost);
            budget.release(cost);
            let skip = usize::try_from(rel.unsigned_abs()).unwrap_or(usize::MAX);
            match piece.data.get(skip..) {
                Some(rest) => self.deliver(rest, sink),
                None => {
                    self.stats.overlap_bytes = self
                        .stats
                        .overlap_bytes
                        .saturating_add(piece.data.len() as u64)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default, Debug, PartialEq)]
    struct Rec {
        out: Vec<u8>,
        gaps: Vec<u64>,
        ended: u32,
    }
    impl StreamSink for Rec {
        fn data(&mut self, bytes: &[u8]) {
            self.out.extend_from_slice(bytes);
        }
        fn gap(&mut self, missed: u64) {
            self.gaps.push(missed);
            self.out.push(b'|');
        }
        fn end(&mut self) {
            self.ended += 1;
        }
    }

    fn run(
        segs: &[(u32, &[u8], u8)],
        max: usize,
        global: usize,
    ) -> (Rec, StreamReassembler, ReassemblyBudget) {
        let mut r = StreamReassembler::new(ReassemblyConfig { max_buffered: max });
        let mut b = ReassemblyBudget::new(global);
        let mut s = Rec::default();
        for (seq, p, f) in segs {
            r.segment(*seq, p, *f, &mut b, &mut s);
        }
        (s, r, b)
    }

    const SYN: u8 = flags::SYN;
    const FIN: u8 = flags::FIN;

    #[test]
    fn acknowledged_hole_is_skipped_at_once() {
        // "def" (104..107) is lost; the peer acknowledges 110 after "ghi" arrived.
        let (mut s, mut r, mut b) = run(
            &[(100, b"", SYN), (101, b"abc", 0), (107, b"ghi", 0)],
            1 << 20,
            1 << 20,
        );
        assert_eq!(s.out, b"abc", "the hole holds ghi back");
        r.acked(104, &mut b, &mut s);
        assert_eq!(s.out, b"abc", "nothing acknowledged past the hole yet");
        r.acked(110, &mut b, &mut s);
        assert_eq!(s.out, b"abc|ghi");
        assert_eq!(s.gaps, vec![3]);
        assert_eq!(b.used(), 0);
        // An acknowledgement captured before the data it acknowledges skips nothing.
        r.acked(113, &mut b, &mut s);
        assert_eq!(s.gaps, vec![3]);
        r.segment(110, b"jkl", 0, &mut b, &mut s);
        assert_eq!(s.out, b"abc|ghijkl");
        // Implausible jumps are ignored even with data buffered behind a hole.
        r.segment(200, b"z", 0, &mut b, &mut s);
        r.acked(201u32.wrapping_add(1 << 30), &mut b, &mut s);
        assert_eq!(s.gaps.len(), 1);
        r.acked(201, &mut b, &mut s);
        assert_eq!(s.out, b"abc|ghijkl|z");
        assert_eq!(r.stats().missed, 3 + 87);
    }

    #[test]
    fn in_order() {
        let (s, r, b) = run(
            &[
                (100, b"", SYN),
                (101, b"abc", 0),
                (104, b"def", 0),
                (107, b"", FIN),
            ],
            1 << 20,
            1 << 20,
        );
        assert_eq!(s.out, b"abcdef");
        assert_eq!(s.ended, 1);
        assert!(r.is_closed());
        assert_eq!(r.stats().delivered, 6);
        assert_eq!(b.used(), 0);
    }

    #[test]
    fn out_of_order_then_fill() {
        let (s, r, b) = run(
            &[
                (100, b"", SYN),
                (107, b"ghi", 0),
                (104, b"def", 0),
                (101, b"abc", 0),
            ],
            1 << 20,
            1 << 20,
        );
        assert_eq!(s.out, b"abcdefghi");
        assert_eq!(r.stats().out_of_order, 2);
        assert_eq!(r.buffered(), 0);
        assert_eq!(b.used(), 0);
    }

    #[test]
    fn retransmission_is_dropped() {
        let (s, r, _) = run(
            &[(1, b"abc", 0), (1, b"abc", 0), (4, b"d", 0), (2, b"bc", 0)],
            1 << 20,
            1 << 20,
        );
        assert_eq!(s.out, b"abcd");
        assert_eq!(r.stats().retransmissions, 2);
        assert_eq!(r.stats().overlap_bytes, 5);
    }

    #[test]
    fn overlap_with_delivered_keeps_old() {
        // Second segment overlaps "cd" already delivered with different bytes.
        let (s, _, _) = run(&[(0, b"abcd", 0), (2, b"XXef", 0)], 1 << 20, 1 << 20);
        assert_eq!(s.out, b"abcdef");
    }

    #[test]
    fn overlap_with_buffered_keeps_first_received() {
        // "EFGH" buffered first at 4; a later segment covering 2..10 brings other bytes.
        let (s, _, b) = run(
            &[(0, b"ab", 0), (4, b"EFGH", 0), (2, b"cdxxxxij", 0)],
            1 << 20,
            1 << 20,
        );
        assert_eq!(s.out, b"abcdEFGHij");
        assert_eq!(b.used(), 0);
        // New data later than old: buffered piece inside, new piece around it.
        let (s, _, _) = run(
            &[(0, b"a", 0), (3, b"D", 0), (1, b"bcXe", 0)],
            1 << 20,
            1 << 20,
        );
        assert_eq!(s.out, b"abcDe");
    }

    #[test]
    fn wraps_at_2_32() {
        let start = u32::MAX - 2;
        let (s, r, _) = run(
            &[
                (start - 1, b"", SYN),
                (start, b"ab", 0),
                (1, b"ef", 0),
                (start.wrapping_add(2), b"cd", 0),
                (3, b"", FIN),
            ],
            1 << 20,
            1 << 20,
        );
        assert_eq!(s.out, b"abcdef");
        assert!(r.is_closed());
        assert_eq!(r.next_seq(), Some(3));
    }

    #[test]
    fn gap_when_stream_limit_hit() {
        // Per-stream limit fits one buffered piece of 4 bytes (+ overhead).
        let max = 4 + SEGMENT_OVERHEAD;
        let (s, r, b) = run(
            &[(0, b"ab", 0), (10, b"klmn", 0), (20, b"uvwx", 0)],
            max,
            1 << 20,
        );
        // Hole 2..10 skipped (8 bytes), "klmn" delivered, then 20 buffered.
        assert_eq!(s.out, b"ab|klmn");
        assert_eq!(s.gaps, vec![8]);
        assert_eq!(r.buffered(), max);
        assert_eq!(b.used(), max);
        assert_eq!(r.stats().missed, 8);
    }

    #[test]
    fn gap_when_global_budget_hit() {
        let (s, _, b) = run(&[(0, b"ab", 0), (10, b"klmnopqrstuvwxyz", 0)], 1 << 20, 8);
        assert_eq!(s.out, b"ab|klmnopqrstuvwxyz");
        assert_eq!(s.gaps, vec![8]);
        assert_eq!(b.used(), 0);
    }

    #[test]
    fn fin_with_hole_ends_on_finish() {
        let mut r = StreamReassembler::new(ReassemblyConfig::default());
        let mut b = ReassemblyBudget::new(1 << 20);
        let mut s = Rec::default();
        r.segment(0, b"", SYN, &mut b, &mut s);
        r.segment(1, b"ab", 0, &mut b, &mut s);
        r.segment(6, b"fg", FIN, &mut b, &mut s);
        assert_eq!(s.ended, 0, "hole before FIN: not ended yet");
        r.finish(&mut b, &mut s);
        assert_eq!(s.out, b"ab|fg");
        assert_eq!(s.gaps, vec![3]);
        assert_eq!(s.ended, 1);
        assert_eq!(b.used(), 0);
        r.segment(3, b"cde", 0, &mut b, &mut s);
        assert_eq!(r.stats().after_close, 1);
    }

    #[test]
    fn late_fill_before_fin_closes() {
        let (s, r, _) = run(
            &[(0, b"", SYN), (4, b"d", FIN), (1, b"abc", 0)],
            1 << 20,
            1 << 20,
        );
        assert_eq!(s.out, b"abcd");
        assert_eq!(s.ended, 1);
        assert!(r.is_closed());
    }

    #[test]
    fn rst_flushes_and_ends() {
        let (s, r, b) = run(
            &[(0, b"ab", 0), (5, b"fg", 0), (7, b"", flags::RST)],
            1 << 20,
            1 << 20,
        );
        assert_eq!(s.out, b"ab|fg");
        assert_eq!(s.ended, 1);
        assert!(r.is_closed());
        assert_eq!(b.used(), 0);
    }

    #[test]
    fn midstream_start() {
        let (s, _, _) = run(&[(5000, b"xy", 0), (5002, b"z", 0)], 1 << 20, 1 << 20);
        assert_eq!(s.out, b"xyz");
    }
}
