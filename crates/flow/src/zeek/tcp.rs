//! Port of Zeek's TCP session state machine (`TCPSessionAdapter.cc`,
//! `TCP_Endpoint.cc/.h`, the gap accounting of `TCP_Reassembler.cc`).
//!
//! See the module documentation of [`crate::zeek`] for the list of what is
//! ported and what differs.

use super::{
    History, Timestamp, TCP_ATTEMPT_DELAY, TCP_CLOSE_DELAY, TCP_CONNECTION_LINGER,
    TCP_INACTIVITY_TIMEOUT, TCP_SESSION_TIMER, TCP_SYN_TIMEOUT, UDP_INACTIVITY_TIMEOUT,
};

/// TCP flag bits as carried in [`super::L4Info::Tcp`]'s `flags`.
pub mod flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
    /// URG.
    pub const URG: u8 = 0x20;
}
use flags::{ACK, FIN, RST, SYN};

/// Zeek's `TOO_LARGE_SEQ_DELTA` (TCPSessionAdapter.cc).
const TOO_LARGE_SEQ_DELTA: i32 = 1_048_576;

/// `first_packet_seen` bits (TCPSessionAdapter.cc `ORIG`/`RESP`).
const FPS_ORIG: u8 = 1;
const FPS_RESP: u8 = 2;

/// Zeek's `TCP_Endpoint::HistoryMasks`.
mod hist {
    pub const SYN_PKT: u16 = 0x1;
    pub const FIN_PKT: u16 = 0x2;
    pub const RST_PKT: u16 = 0x4;
    pub const FIN_RST_PKT: u16 = 0x8;
    pub const DATA_PKT: u16 = 0x10;
    pub const ACK_PKT: u16 = 0x20;
    pub const MULTI_FLAG_PKT: u16 = 0x40;
}

/// Shift of the responder's history mask bits in [`History`]'s `seen`
/// (Zeek: `<< 16` in a 32-bit mask).
const RESP_MASK_SHIFT: u32 = 8;

/// Zeek's `EndpointState` (TCP_Endpoint.h); the numeric values match
/// Zeek's `TCP_INACTIVE` .. `TCP_RESET` script constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum TcpEndpointState {
    /// No SYN (or other packets) seen for this side.
    Inactive = 0,
    /// SYN seen, but no ack.
    SynSent = 1,
    /// SYN-ACK seen, no initial SYN.
    SynAckSent = 2,
    /// Data seen, but no SYN.
    Partial = 3,
    /// SYN-ACK seen (implicit for SYN).
    Established = 4,
    /// FIN seen.
    Closed = 5,
    /// RST seen.
    Reset = 6,
}
use TcpEndpointState as St;

fn is_handshake(s: St) -> bool {
    matches!(s, St::Inactive | St::SynSent | St::SynAckSent)
}

/// Zeek's `seq_delta` (TCP_Flags.h area): signed 32-bit difference.
#[inline]
fn seq_delta(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// The thresholds of `Session::ScaledHistoryEntry(.., 10)` in order: 1, 10,
/// 100, ..., 10^9, then 10^10 wrapped to u32 (1410065408), after which the
/// threshold cannot grow any more (`new_threshold <= threshold`).
const SCALED_THRESH: [u32; 11] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
    1_000_000_000,
    1_410_065_408,
];
/// Set in a scaled counter once the last threshold was reached (the
/// counter then restarts at 0 with that threshold).
const SCALED_STUCK: u32 = 1 << 31;

/// `Session::ScaledHistoryEntry(code, counter, threshold, 10)`.
///
/// Only the counter is stored: the threshold is derivable from it. While
/// the threshold grows, the counter is never reset, so after reaching
/// threshold `t_k` it sits in `[t_k, t_(k+1))` and the current threshold is
/// the first one above it. Once the last (non-growing) threshold was hit,
/// [`SCALED_STUCK`] is set and the threshold stays the last one. The count
/// itself never exceeds 1410065408 < 2^31.
pub(crate) fn scaled_hit(cnt: &mut u32, hist: &mut History, code: u8) -> bool {
    let stuck = *cnt & SCALED_STUCK;
    let old = *cnt & !SCALED_STUCK;
    let t = if stuck != 0 {
        SCALED_THRESH[10]
    } else {
        let mut t = SCALED_THRESH[10];
        for &x in &SCALED_THRESH {
            if x > old {
                t = x;
                break;
            }
        }
        t
    };
    let c = old + 1;
    if c == t {
        hist.add(code);
        *cnt = if t == SCALED_THRESH[10] {
            SCALED_STUCK
        } else {
            c
        };
        return true;
    }
    *cnt = c | stuck;
    false
}

/// Indices of the per-endpoint scaled counters.
const SC_CHK: usize = 0;
const SC_RXMT: usize = 1;
const SC_WIN0: usize = 2;
const SC_GAP: usize = 3;

/// One side of a TCP connection (`TCP_Endpoint`), plus the few
/// `TCP_Reassembler` fields needed for gap accounting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TcpEndpoint {
    /// `start_seq` (always in u32 range in Zeek, since it comes from u32 math).
    start_seq: u32,
    last_seq: u32,
    ack_seq: u32,
    seq_wraps: u32,
    ack_wraps: u32,
    /// `FIN_seq`: relative seq one past the FIN.
    fin_seq: u64,
    /// `hist_last_SYN/FIN/RST`, kept modulo 2^32.
    hist_last_syn: u32,
    hist_last_fin: u32,
    hist_last_rst: u32,
    /// Reassembler `last_reassem_seq` (relative; starts at 1).
    last_reassem: u64,
    /// Hull of out-of-order data above `last_reassem` (`ooo_hi == 0`: none).
    ooo_lo: u64,
    ooo_hi: u64,
    /// Scaled counters (`chk_cnt`, `rxmt_cnt`, `win0_cnt`, `gap_cnt`); see
    /// [`scaled_hit`].
    sc_cnt: [u32; 4],
    pub(crate) state: St,
    pub(crate) prev_state: St,
    pub(crate) did_close: bool,
    fin_seen: bool,
}

impl TcpEndpoint {
    /// `is_orig`: whether this endpoint is currently the originator.
    fn scaled(&mut self, which: usize, is_orig: bool, hist: &mut History, upper: u8) {
        let code = if is_orig {
            upper
        } else {
            upper.to_ascii_lowercase()
        };
        if let Some(c) = self.sc_cnt.get_mut(which) {
            scaled_hit(c, hist, code);
        }
    }

    fn new() -> Self {
        TcpEndpoint {
            start_seq: 0,
            last_seq: 0,
            ack_seq: 0,
            seq_wraps: 0,
            ack_wraps: 0,
            fin_seq: 0,
            hist_last_syn: 0,
            hist_last_fin: 0,
            hist_last_rst: 0,
            last_reassem: 1,
            ooo_lo: 0,
            ooo_hi: 0,
            sc_cnt: [0; 4],
            state: St::Inactive,
            prev_state: St::Inactive,
            did_close: false,
            fin_seen: false,
        }
    }

    fn full(seq: u32, wraps: u32) -> u64 {
        (u64::from(wraps) << 32) + u64::from(seq)
    }

    /// `ToRelativeSeqSpace`.
    fn to_rel(&self, seq: u32, wraps: u32) -> u64 {
        Self::full(seq, wraps).wrapping_sub(u64::from(self.start_seq))
    }

    fn init_start(&mut self, seq: u32) {
        self.start_seq = seq;
    }

    /// `UpdateLastSeq`.
    fn update_last_seq(&mut self, seq: u32) {
        if seq < self.last_seq {
            self.seq_wraps = self.seq_wraps.wrapping_add(1);
        }
        self.last_seq = seq;
    }

    /// `UpdateAckSeq`.
    fn update_ack_seq(&mut self, seq: u32) {
        if seq < self.ack_seq {
            self.ack_wraps = self.ack_wraps.wrapping_add(1);
        }
        self.ack_seq = seq;
    }

    /// `NoDataAcked`.
    fn no_data_acked(&self) -> bool {
        let ack = Self::full(self.ack_seq, self.ack_wraps);
        let start = u64::from(self.start_seq);
        ack == start || ack == start.wrapping_add(1)
    }

    /// `TCP_Endpoint::IsActive`.
    fn is_active(&self) -> bool {
        self.state != St::Inactive && !self.did_close
    }

    /// `is_clean` (TCP_Reassembler.cc).
    fn is_clean(&self) -> bool {
        self.state == St::Established
            || (self.state == St::Closed && self.prev_state == St::Established)
    }
}

/// `TCP_Endpoint::Size()`, needs the peer's state.
fn endpoint_size(ep: &TcpEndpoint, peer_state: St) -> u64 {
    if ep.prev_state == St::SynSent
        && ep.state == St::Reset
        && peer_state == St::Inactive
        && !ep.no_data_acked()
    {
        return 0;
    }
    let last = TcpEndpoint::full(ep.last_seq, ep.seq_wraps);
    let ack = TcpEndpoint::full(ep.ack_seq, ep.ack_wraps);
    let start = u64::from(ep.start_seq);
    let mut size = if last > ack {
        last.wrapping_sub(start)
    } else {
        ack.wrapping_sub(start)
    };
    // Don't include the SYN octet (nor the FIN octet below).
    size = size.saturating_sub(1);
    if ep.fin_seen && size != 0 {
        size -= 1;
    }
    size
}

/// Per-packet TCP header facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct TcpPkt {
    pub(crate) flags: u8,
    pub(crate) seq: u32,
    pub(crate) ack: u32,
    pub(crate) window: u16,
    pub(crate) len: u32,
}

impl TcpPkt {
    fn syn(&self) -> bool {
        self.flags & SYN != 0
    }
    fn fin(&self) -> bool {
        self.flags & FIN != 0
    }
    fn rst(&self) -> bool {
        self.flags & RST != 0
    }
    fn ack_f(&self) -> bool {
        self.flags & ACK != 0
    }
}

/// `get_segment_len`: payload length plus one for SYN and FIN, none for RST.
#[inline]
fn segment_len(p: &TcpPkt) -> u32 {
    let len = p.len;
    let mut seg_len = len;
    if p.syn() {
        seg_len = seg_len.wrapping_add(1);
    }
    if p.fin() {
        seg_len = seg_len.wrapping_add(1);
    }
    if p.rst() {
        seg_len = seg_len.wrapping_sub(len);
    }
    seg_len
}

/// Configuration knobs the TCP machinery needs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TcpCfg {
    pub(crate) report_gaps_for_partial: bool,
    pub(crate) detect_filtered_trace: bool,
    pub(crate) reassembly: bool,
}

/// Conn-level side effects that the TCP code produces.
pub(crate) struct ConnCtx<'a> {
    pub(crate) hist: &'a mut History,
    pub(crate) last_ts: &'a mut Timestamp,
}

/// The TCP session adapter state (`TCPSessionAdapter`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct TcpState {
    eps: [TcpEndpoint; 2],
    /// conn.log `missed_bytes`.
    missed_bytes: u64,
    /// One timer slot: the `ConnDeleteTimer` time after a complete close
    /// when `timer_is_delete`, else the earliest pending `AttemptTimer`
    /// (0 = none in both cases). Once a non-zero delete time is set the
    /// attempt timer is cancelled and can no longer affect anything
    /// (`expires_at` returns the delete time first), so they share storage.
    timer: Timestamp,
    timer_is_delete: bool,
    /// Index into `eps` of the current originator (`eps[i]` is the
    /// originator iff `i == orig_idx`).
    orig_idx: u8,
    is_partial: bool,
    first_packet_seen: u8,
    /// Whether the inactivity timeout was raised to `tcp_inactivity_timeout`.
    long_timeout: bool,
}

impl TcpState {
    pub(crate) fn new() -> Self {
        TcpState {
            eps: [TcpEndpoint::new(), TcpEndpoint::new()],
            missed_bytes: 0,
            timer: 0,
            timer_is_delete: false,
            orig_idx: 0,
            is_partial: false,
            first_packet_seen: 0,
            long_timeout: false,
        }
    }

    pub(crate) fn missed_bytes(&self) -> u64 {
        self.missed_bytes
    }
    /// Whether `eps[i]` is the current originator (Zeek's `IsOrig()`).
    #[inline]
    fn ep_is_orig(&self, i: usize) -> bool {
        i == self.oi()
    }
    /// The non-zero `ConnDeleteTimer` time, if set.
    fn delete_time(&self) -> Timestamp {
        if self.timer_is_delete {
            self.timer
        } else {
            0
        }
    }
    /// The pending `AttemptTimer` time (0 = none).
    fn attempt_time(&self) -> Timestamp {
        if self.timer_is_delete {
            // Cancelled by the close (or a zero delete time: then the
            // attempt was cancelled too and no attempt was set since).
            0
        } else {
            self.timer
        }
    }

    fn oi(&self) -> usize {
        usize::from(self.orig_idx & 1)
    }
    fn ri(&self) -> usize {
        1 - self.oi()
    }
    pub(crate) fn orig(&self) -> &TcpEndpoint {
        &self.eps[self.oi()]
    }
    pub(crate) fn resp(&self) -> &TcpEndpoint {
        &self.eps[self.ri()]
    }
    /// Index of the current orientation marker (changes on each flip).
    pub(crate) fn orientation(&self) -> u8 {
        self.orig_idx
    }

    /// `Size()` of the originator.
    pub(crate) fn orig_size(&self) -> u64 {
        endpoint_size(self.orig(), self.resp().state)
    }
    /// `Size()` of the responder.
    pub(crate) fn resp_size(&self) -> u64 {
        endpoint_size(self.resp(), self.orig().state)
    }

    /// `TCPSessionAdapter::FlipRoles` + `Connection::FlipRoles`'s `AddHistory('^')`.
    fn flip_roles(&mut self, hist: &mut History) {
        self.orig_idx ^= 1;
        let f = self.first_packet_seen;
        self.first_packet_seen = (if f & FPS_ORIG != 0 { FPS_RESP } else { 0 })
            | (if f & FPS_RESP != 0 { FPS_ORIG } else { 0 });
        self.is_partial = false;
        hist.add(b'^');
    }

    /// `TCP_Endpoint::SetState`, including the inactivity-timeout switch.
    fn set_state(&mut self, i: usize, new: St) {
        let peer_state = self.eps[1 - i].state;
        let ep = &mut self.eps[i];
        if new != ep.state {
            if !is_handshake(new) && is_handshake(ep.state) && is_handshake(peer_state) {
                self.long_timeout = true;
            }
            ep.prev_state = ep.state;
            ep.state = new;
        }
    }

    /// `TCP_Endpoint::CheckHistory` (with the "H" -> "^h" flip).
    fn ep_check_history(&mut self, i: usize, mask: u16, code: u8, hist: &mut History) -> bool {
        if (code == b'A' || code == b'D') && hist.is_exactly(b'H') {
            self.flip_roles(hist);
            hist.replace(b"^h");
            self.first_packet_seen |= FPS_ORIG;
        }
        if self.ep_is_orig(i) {
            hist.check(mask, code)
        } else {
            hist.check(mask << RESP_MASK_SHIFT, code.to_ascii_lowercase())
        }
    }

    /// `TCP_Endpoint::AddHistory`.
    fn ep_add_history(&self, i: usize, code: u8, hist: &mut History) {
        if self.ep_is_orig(i) {
            hist.add(code);
        } else {
            hist.add(code.to_ascii_lowercase());
        }
    }

    /// `TCP_Endpoint::ChecksumError` for the endpoint that sent the packet.
    pub(crate) fn checksum_error(&mut self, is_orig: bool, hist: &mut History) {
        let i = if is_orig { self.oi() } else { self.ri() };
        let o = self.ep_is_orig(i);
        self.eps[i].scaled(SC_CHK, o, hist, b'C');
    }

    /// `TCPSessionAdapter::SetPartialStatus`.
    fn set_partial_status(&mut self, p: &TcpPkt, is_orig: bool) {
        if is_orig {
            if self.first_packet_seen & FPS_ORIG == 0 {
                self.is_partial = !p.syn() || p.ack_f();
            }
        } else if self.first_packet_seen & FPS_RESP == 0 && !self.is_partial {
            self.is_partial = !p.syn();
        }
    }

    /// `TCPSessionAdapter::Process`. Returns nothing; flips are visible
    /// through [`TcpState::orientation`].
    pub(crate) fn process(
        &mut self,
        cfg: TcpCfg,
        is_orig: bool,
        p: &TcpPkt,
        t: Timestamp,
        cx: &mut ConnCtx<'_>,
    ) {
        let e = if is_orig { self.oi() } else { self.ri() };
        let pe = 1 - e;
        let len = p.len;

        let ep_is_orig = self.ep_is_orig(e);
        self.set_partial_status(p, ep_is_orig);

        let seg_len = segment_len(p);
        let seq_one_past = p.seq.wrapping_add(seg_len);

        init_endpoint(&mut self.eps[e], p, p.seq, seq_one_past);

        let mut seq_underflow = false;
        let rel_seq = {
            let ep = &self.eps[e];
            get_relative_seq(ep, p.seq, ep.last_seq, ep.seq_wraps, &mut seq_underflow)
        };

        self.update_history(e, p, rel_seq, len, cx.hist);
        self.update_window(e, p, cx.hist);

        if !self.orig().did_close || !self.resp().did_close {
            *cx.last_ts = t;
        }

        if p.fin() {
            self.eps[e].fin_seen = true;
            self.eps[e].fin_seq = rel_seq.wrapping_add(u64::from(seg_len));
        }

        let rel_ack = if p.ack_f() { self.ack_seen(pe, p) } else { 0 };

        let delta_last = self.update_last_seq(e, seq_one_past, p, len, cx.hist);

        let (do_close, gen_event) =
            self.update_state_machine(t, e, p, delta_last, is_orig, cx.hist);
        let _ = gen_event;

        if p.ack_f() && cfg.reassembly {
            self.ack_received(cfg, pe, rel_ack, cx);
        }

        let rel_data_seq = if p.syn() {
            rel_seq.wrapping_add(1)
        } else {
            rel_seq
        };
        if len > 0 && !p.rst() && !seq_underflow && cfg.reassembly {
            self.data_sent(e, rel_data_seq, u64::from(len));
        }

        if do_close {
            self.connection_closed(e, *cx.last_ts);
        }
    }

    /// The ACK part of `Process` for a packet with ACK set: initialises an
    /// inactive peer from it or advances the peer's acked sequence; returns
    /// the relative ack.
    #[inline]
    fn ack_seen(&mut self, pe: usize, p: &TcpPkt) -> u64 {
        if self.eps[pe].state == St::Inactive {
            let a = p.ack.wrapping_sub(1);
            let peer = &mut self.eps[pe];
            peer.init_start(a);
            peer.ack_seq = a;
            peer.last_seq = a;
            return 1;
        }
        let mut ack_underflow = false;
        let peer = &self.eps[pe];
        let rel_ack = get_relative_seq(
            peer,
            p.ack,
            peer.ack_seq,
            peer.ack_wraps,
            &mut ack_underflow,
        );
        if ack_underflow {
            return 0;
        }
        if !p.rst() {
            // update_ack_seq
            let peer = &mut self.eps[pe];
            let delta_ack = seq_delta(p.ack, peer.ack_seq);
            if p.ack == 0 && delta_ack > TOO_LARGE_SEQ_DELTA {
                // broken ack
            } else if delta_ack > 0 {
                peer.update_ack_seq(p.ack);
            }
        }
        rel_ack
    }

    fn update_history(&mut self, e: usize, p: &TcpPkt, rel_seq: u64, len: u32, hist: &mut History) {
        let bits = u8::from(p.syn()) + u8::from(p.fin()) + u8::from(p.rst());
        if bits > 1 {
            if p.fin() && p.rst() {
                self.ep_check_history(e, hist::FIN_RST_PKT, b'I', hist);
            } else {
                self.ep_check_history(e, hist::MULTI_FLAG_PKT, b'Q', hist);
            }
        } else if bits == 1 {
            if p.syn() {
                let code = if p.ack_f() { b'H' } else { b'S' };
                if self.ep_check_history(e, hist::SYN_PKT, code, hist)
                    && rel_seq as u32 != self.eps[e].hist_last_syn
                {
                    self.ep_add_history(e, code, hist);
                }
                self.eps[e].hist_last_syn = rel_seq as u32;
            }
            if p.fin() {
                let fin_at = rel_seq.wrapping_add(u64::from(len));
                if self.ep_check_history(e, hist::FIN_PKT, b'F', hist)
                    && fin_at as u32 != self.eps[e].hist_last_fin
                {
                    self.ep_add_history(e, b'F', hist);
                }
                self.eps[e].hist_last_fin = fin_at as u32;
            }
            if p.rst() {
                if self.ep_check_history(e, hist::RST_PKT, b'R', hist)
                    && rel_seq as u32 != self.eps[e].hist_last_rst
                {
                    self.ep_add_history(e, b'R', hist);
                }
                self.eps[e].hist_last_rst = rel_seq as u32;
            }
        } else if len > 0 {
            self.ep_check_history(e, hist::DATA_PKT, b'D', hist);
        } else if p.ack_f() {
            self.ep_check_history(e, hist::ACK_PKT, b'A', hist);
        }
    }

    /// The zero-window part of `update_window`. (Window scaling cannot turn
    /// a non-zero 16-bit window into zero, so options are not needed.)
    fn update_window(&mut self, e: usize, p: &TcpPkt, hist: &mut History) {
        let pe = 1 - e;
        if p.window == 0
            && !p.rst()
            && self.eps[pe].state != St::Closed
            && self.eps[e].state != St::Reset
        {
            let o = self.ep_is_orig(e);
            self.eps[e].scaled(SC_WIN0, o, hist, b'W');
        }
    }

    /// `update_last_seq`.
    fn update_last_seq(
        &mut self,
        e: usize,
        last_seq: u32,
        p: &TcpPkt,
        len: u32,
        hist: &mut History,
    ) -> i32 {
        let o = self.ep_is_orig(e);
        let ep = &mut self.eps[e];
        let delta_last = seq_delta(last_seq, ep.last_seq);
        if (p.syn() || p.rst())
            && !(-TOO_LARGE_SEQ_DELTA..=TOO_LARGE_SEQ_DELTA).contains(&delta_last)
        {
            // don't trust
        } else if p.fin() && ep.last_seq == ep.start_seq.wrapping_add(1) {
            ep.update_last_seq(last_seq);
        } else if ep.state == St::Reset {
            // don't trust sequence numbers after RST
        } else if delta_last > 0 {
            ep.update_last_seq(last_seq);
        } else if len > 0 {
            ep.scaled(SC_RXMT, o, hist, b'T');
        }
        delta_last
    }

    /// `UpdateStateMachine`; returns `(do_close, gen_event)`.
    fn update_state_machine(
        &mut self,
        t: Timestamp,
        e: usize,
        p: &TcpPkt,
        delta_last: i32,
        is_orig: bool,
        hist: &mut History,
    ) -> (bool, bool) {
        let mut do_close = false;
        let mut gen_event = false;
        let pe = 1 - e;
        match self.eps[e].state {
            St::Inactive => {
                self.update_inactive(t, e, p, is_orig, hist, &mut do_close, &mut gen_event)
            }
            St::SynSent | St::SynAckSent => {
                if p.fin() {
                    self.set_state(e, St::Closed);
                    do_close = true;
                    gen_event = true;
                }
                if p.rst() {
                    self.set_state(e, St::Reset);
                    do_close = true;
                }
            }
            St::Established | St::Partial => {
                if p.syn()
                    && self.eps[e].state == St::Partial
                    && self.eps[pe].state == St::Inactive
                    && !p.ack_f()
                {
                    self.set_state(e, St::SynSent);
                }
                if p.fin() && !p.rst() {
                    self.set_state(e, St::Closed);
                    if self.eps[pe].state == St::Reset && self.eps[pe].prev_state == St::Closed {
                        self.set_state(pe, St::Closed);
                    }
                    do_close = true;
                    gen_event = true;
                }
                if p.rst() {
                    self.set_state(e, St::Reset);
                    do_close = true;
                }
            }
            St::Closed => {
                let _ = delta_last;
                if p.rst() && self.eps[pe].state != St::Closed {
                    self.set_state(e, St::Reset);
                    if !self.eps[e].did_close {
                        do_close = true;
                    }
                    // ResetTimer is only scheduled when a `connection_reset`
                    // handler exists; base scripts define none.
                }
            }
            St::Reset => {}
        }
        (do_close, gen_event)
    }

    /// `UpdateInactiveState`. `is_orig` is the (possibly stale) value the
    /// packet arrived with, exactly as in Zeek.
    #[allow(clippy::too_many_arguments)]
    fn update_inactive(
        &mut self,
        t: Timestamp,
        e: usize,
        p: &TcpPkt,
        is_orig: bool,
        hist: &mut History,
        do_close: &mut bool,
        gen_event: &mut bool,
    ) {
        let pe = 1 - e;
        if p.syn() {
            if is_orig {
                if p.ack_f() {
                    self.set_state(e, St::SynAckSent);
                } else {
                    self.set_state(e, St::SynSent);
                }
                // AttemptTimer (tcp_attempt_delay != 0)
                let at = t.saturating_add(TCP_ATTEMPT_DELAY);
                if self.delete_time() == 0 {
                    // (With a delete time set, the attempt time is never
                    // consulted again; don't overwrite the slot.)
                    let cur = self.attempt_time();
                    if cur == 0 || at < cur {
                        self.timer = at;
                        self.timer_is_delete = false;
                    }
                }
            } else {
                if p.ack_f() {
                    // possible bad_SYN_ack weird only
                } else if self.eps[pe].state == St::SynAckSent && p.seq == self.eps[e].start_seq {
                    // SYN/SYN-ACK reversal: flip and establish.
                    self.is_partial = false;
                    self.flip_roles(hist);
                    self.set_state(pe, St::Established);
                    self.first_packet_seen |= FPS_ORIG;
                }
                if self.eps[pe].state == St::SynSent {
                    self.set_state(pe, St::Established);
                }
                self.set_state(e, St::Established);
            }
        }

        if p.fin() {
            self.set_state(e, St::Closed);
            *do_close = true;
            *gen_event = true;
        }

        if p.rst() {
            self.set_state(e, St::Reset);
            let peer_state = self.eps[pe].state;
            let is_reject = if is_orig {
                peer_state == St::Established
            } else {
                peer_state == St::SynSent || peer_state == St::SynAckSent
            };
            *do_close = true;
            *gen_event = !is_reject;
        }

        if self.eps[e].state == St::Inactive {
            if !is_orig && p.len == 0 && self.orig().state == St::SynSent {
                // Eccentric TCPs acking a SYN before replying: not partial.
            } else if p.ack_f() && self.eps[pe].state == St::Established {
                self.set_state(e, St::Established);
                self.is_partial = false;
                // SetFirstPacketSeen(is_orig)
                self.first_packet_seen |= if is_orig { FPS_ORIG } else { FPS_RESP };
            } else {
                self.set_state(e, St::Partial);
            }
        }
    }

    /// `TCPSessionAdapter::ConnectionClosed` (without deferred-close
    /// handling: pending reassembly data is not modelled).
    fn connection_closed(&mut self, e: usize, last_ts: Timestamp) {
        let pe = 1 - e;
        if self.eps[e].did_close {
            return;
        }
        self.eps[e].did_close = true;
        let close_complete = self.eps[e].state == St::Reset
            || self.eps[pe].did_close
            || self.eps[pe].state == St::Inactive;
        if close_complete {
            // CancelTimers() + ConnDeleteTimer at LastTime + tcp_close_delay.
            self.timer = last_ts.saturating_add(TCP_CLOSE_DELAY);
            self.timer_is_delete = true;
        }
        // Otherwise Zeek schedules an ExpireTimer (or a PartialCloseTimer,
        // which base scripts don't handle); see `expires_at`.
    }

    /// `TCP_Reassembler::DataSent` reduced to the contiguous-edge tracking
    /// needed for gap detection (`e` is the sender).
    fn data_sent(&mut self, e: usize, seq: u64, len: u64) {
        let ep = &mut self.eps[e];
        let ack = ep.to_rel(ep.ack_seq, ep.ack_wraps);
        let mut seq = seq;
        let upper = seq.wrapping_add(len);
        if seq < ack {
            if upper <= ack {
                return;
            }
            seq = ack;
        }
        if upper <= ep.last_reassem {
            return;
        }
        if seq <= ep.last_reassem {
            ep.last_reassem = upper;
            if ep.ooo_hi != 0 && ep.ooo_lo <= ep.last_reassem {
                ep.last_reassem = ep.last_reassem.max(ep.ooo_hi);
                ep.ooo_lo = 0;
                ep.ooo_hi = 0;
            }
        } else if ep.ooo_hi == 0 {
            ep.ooo_lo = seq;
            ep.ooo_hi = upper;
        } else {
            ep.ooo_lo = ep.ooo_lo.min(seq);
            ep.ooo_hi = ep.ooo_hi.max(upper);
        }
    }

    /// `TCP_Endpoint::AckReceived` -> `TCP_Reassembler::AckReceived` ->
    /// `TrimToSeq` -> `Undelivered` -> `Gap`, for endpoint `i` whose data
    /// was acked up to relative `seq`.
    fn ack_received(&mut self, cfg: TcpCfg, i: usize, seq: u64, cx: &mut ConnCtx<'_>) {
        let mut seq = seq;
        {
            let ep = &self.eps[i];
            if ep.fin_seen && seq >= ep.fin_seq {
                seq = ep.fin_seq.wrapping_sub(1);
            }
            if seq <= ep.last_reassem {
                return;
            }
        }
        // Undelivered(up_to_seq = seq)
        if seq <= 2 && self.is_partial {
            return;
        }
        let pi = 1 - i;
        if cfg.detect_filtered_trace && self.eps[i].last_reassem == 1 {
            let (a, b) = (&self.eps[i], &self.eps[pi]);
            if a.fin_seen || a.state == St::Reset || b.fin_seen || b.state == St::Reset {
                self.eps[i].last_reassem = seq;
                return;
            }
        }
        let (lo, hi) = (self.eps[i].ooo_lo, self.eps[i].ooo_hi);
        if hi != 0 && lo < seq {
            let last = self.eps[i].last_reassem;
            if lo > last {
                self.gap(cfg, i, lo - last, cx);
            }
            self.eps[i].last_reassem = hi.max(last);
            self.eps[i].ooo_lo = 0;
            self.eps[i].ooo_hi = 0;
        }
        let last = self.eps[i].last_reassem;
        if seq > last {
            self.gap(cfg, i, seq - last, cx);
            self.eps[i].last_reassem = seq;
        }
    }

    /// `TCP_Reassembler::Gap`.
    fn gap(&mut self, cfg: TcpCfg, i: usize, len: u64, cx: &mut ConnCtx<'_>) {
        let clean = self.eps[i].is_clean() && self.eps[1 - i].is_clean();
        if clean {
            let o = self.ep_is_orig(i);
            self.eps[i].scaled(SC_GAP, o, cx.hist, b'G');
        }
        if cfg.report_gaps_for_partial || clean {
            self.missed_bytes = self.missed_bytes.saturating_add(len);
        }
    }

    /// `TCPSessionAdapter::IsReuse`.
    pub(crate) fn is_reuse(&self, t: Timestamp, last_ts: Timestamp, p: &TcpPkt) -> bool {
        let _ = (t, last_ts); // only used for weirds in Zeek
        if !p.syn() {
            return false;
        }
        let mut conn_orig = self.orig();
        if p.ack_f() {
            if self.orig().state != St::Inactive {
                return false;
            }
            conn_orig = self.resp();
        }
        let closed = self.orig().did_close || self.resp().did_close;
        if !closed {
            if p.seq == conn_orig.start_seq {
                return false;
            }
            if !p.ack_f()
                && conn_orig.state == St::SynAckSent
                && self.resp().state == St::Inactive
                && p.seq == self.resp().start_seq
            {
                return false;
            }
        }
        let _ = (self.orig().is_active(), TCP_CONNECTION_LINGER);
        true
    }

    /// Whether `TCPSessionAdapter` has seen a complete close (FIN/RST on
    /// both sides, or RST, ...) and scheduled the connection's deletion.
    pub(crate) fn delete_at(&self) -> Option<Timestamp> {
        let d = self.delete_time();
        (d != 0).then_some(d)
    }

    /// Current inactivity timeout.
    pub(crate) fn inactivity_timeout(&self) -> Timestamp {
        if self.long_timeout {
            TCP_INACTIVITY_TIMEOUT
        } else {
            UDP_INACTIVITY_TIMEOUT
        }
    }

    /// When Zeek would remove the connection if no further packet arrives.
    pub(crate) fn expires_at(&self, start_ts: Timestamp, last_ts: Timestamp) -> Timestamp {
        let delete_at = self.delete_time();
        if delete_at != 0 {
            return delete_at;
        }
        let mut exp = last_ts.saturating_add(self.inactivity_timeout());
        let (o, r) = (self.orig(), self.resp());
        let attempt_at = self.attempt_time();
        if attempt_at != 0
            && matches!(o.state, St::SynSent | St::SynAckSent)
            && r.state == St::Inactive
        {
            exp = exp.min(attempt_at);
        }
        // ExpireTimer: first at start + tcp_SYN_timeout, then every
        // tcp_session_timer; removes when LastTime + linger < t and ...
        let expire_cond = ((o.did_close || r.did_close)
            && ((o.did_close && r.did_close)
                || o.state == St::Reset
                || r.state == St::Reset
                || o.state == St::Inactive
                || r.state == St::Inactive))
            || (o.state == St::Inactive && r.state == St::Inactive);
        if expire_cond {
            let first = start_ts.saturating_add(TCP_SYN_TIMEOUT);
            let need = last_ts.saturating_add(TCP_CONNECTION_LINGER); // fire time must be > need
            let fire = if first > need {
                first
            } else {
                let k = (need - first) / TCP_SESSION_TIMER + 1;
                first.saturating_add(k.saturating_mul(TCP_SESSION_TIMER))
            };
            exp = exp.min(fire);
        }
        exp
    }
}

/// `init_endpoint` (TCPSessionAdapter.cc).
fn init_endpoint(ep: &mut TcpEndpoint, p: &TcpPkt, first_seg_seq: u32, last_seq: u32) {
    match ep.state {
        St::Inactive => {
            let mut last = last_seq;
            if p.syn() {
                ep.ack_seq = first_seg_seq;
                ep.init_start(first_seg_seq);
            } else {
                ep.ack_seq = first_seg_seq.wrapping_sub(1);
                ep.init_start(first_seg_seq.wrapping_sub(1));
                last = first_seg_seq;
            }
            ep.last_seq = last;
        }
        St::SynSent | St::SynAckSent => {
            if p.syn() && first_seg_seq != ep.start_seq {
                ep.init_start(first_seg_seq);
                ep.ack_seq = first_seg_seq;
                ep.last_seq = last_seq;
            }
        }
        St::Established | St::Partial => {
            if p.syn() {
                ep.init_start(first_seg_seq);
                ep.ack_seq = first_seg_seq;
                ep.last_seq = last_seq;
            }
        }
        St::Reset => {
            if p.syn() && ep.prev_state == St::Inactive {
                ep.init_start(first_seg_seq);
                ep.ack_seq = first_seg_seq;
                ep.last_seq = last_seq;
            }
        }
        St::Closed => {}
    }
}

/// `get_relative_seq` (TCPSessionAdapter.cc).
fn get_relative_seq(
    ep: &TcpEndpoint,
    cur_base: u32,
    last: u32,
    wraps: u32,
    underflow: &mut bool,
) -> u64 {
    let mut wraps = wraps;
    let delta = seq_delta(cur_base, last);
    if delta < 0 {
        if wraps != 0 && cur_base > last {
            wraps -= 1;
        }
    } else if delta > 0 && cur_base < last {
        wraps = wraps.wrapping_add(1);
    }
    if wraps == 0 {
        let d = seq_delta(cur_base, ep.start_seq);
        if d < 0 {
            *underflow = true;
        }
        // int32 -> uint64 conversion, as in C++ (sign-extends).
        return i64::from(d) as u64;
    }
    ep.to_rel(cur_base, wraps)
}
