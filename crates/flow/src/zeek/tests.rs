//! Unit tests with synthetic packet sequences. Each expectation cites the
//! Zeek function that produces it.

use super::tcp_flags::{ACK, FIN, PSH, RST, SYN};
use super::*;

const CLI: u16 = 40000;
const SRV: u16 = 80;
const SEC: Timestamp = NS_PER_SEC;

fn tcp_pkt(ts: Timestamp, sp: u16, dp: u16, flags: u8, seq: u32, ack: u32, len: u32) -> PacketInfo {
    PacketInfo {
        ts,
        ip_len: 40 + len,
        checksum_ok: true,
        l4: L4Info::Tcp {
            src_port: sp,
            dst_port: dp,
            flags,
            seq,
            ack,
            window: 1000,
            payload_len: len,
        },
    }
}

fn udp_pkt(ts: Timestamp, sp: u16, dp: u16, len: u32) -> PacketInfo {
    PacketInfo {
        ts,
        ip_len: 28 + len,
        checksum_ok: true,
        l4: L4Info::Udp {
            src_port: sp,
            dst_port: dp,
            payload_len: len,
        },
    }
}

fn src_port(p: &PacketInfo) -> u16 {
    match p.l4 {
        L4Info::Tcp { src_port, .. } | L4Info::Udp { src_port, .. } => src_port,
        _ => 0,
    }
}

/// Minimal flow-table stand-in following the contract in the module docs.
struct Sim {
    cfg: ZeekConfig,
    pool: TcpPool,
    conn: ConnAnalyzer,
    orig_port: u16,
    flips: u32,
}

impl Sim {
    fn new(cfg: ZeekConfig, first: PacketInfo) -> Self {
        assert!(creates_connection(&cfg, &first));
        let flipped = flip_on_first_packet(&cfg, &first);
        let sp = src_port(&first);
        let orig_port = if flipped {
            match first.l4 {
                L4Info::Tcp { dst_port, .. } | L4Info::Udp { dst_port, .. } => dst_port,
                _ => 0,
            }
        } else {
            sp
        };
        let mut pool = TcpPool::new();
        let mut a = ConnAnalyzer::new(&cfg, &first, flipped);
        let u = a.update(&cfg, &mut pool, !flipped, &first);
        let mut s = Sim {
            cfg,
            pool,
            conn: a,
            orig_port,
            flips: 0,
        };
        s.apply(u, &first);
        s
    }
    fn apply(&mut self, u: Update, p: &PacketInfo) {
        if u.flipped {
            self.flips += 1;
            // swap orientation: the other port becomes the originator
            let (sp, dp) = match p.l4 {
                L4Info::Tcp {
                    src_port, dst_port, ..
                }
                | L4Info::Udp {
                    src_port, dst_port, ..
                } => (src_port, dst_port),
                _ => (0, 0),
            };
            self.orig_port = if self.orig_port == sp { dp } else { sp };
        }
    }
    fn send(&mut self, p: PacketInfo) {
        let is_orig = src_port(&p) == self.orig_port;
        let u = self.conn.update(&self.cfg, &mut self.pool, is_orig, &p);
        self.apply(u, &p);
    }
    fn h(&self) -> &str {
        self.conn.history()
    }
    fn a(&self) -> ConnView<'_> {
        self.conn.view(&self.pool)
    }
}

/// Full handshake, data both ways, FIN both ways.
#[test]
fn normal_sf() {
    let mut s = Sim::new(ZeekConfig::default(), tcp_pkt(0, CLI, SRV, SYN, 100, 0, 0));
    s.send(tcp_pkt(SEC / 10, SRV, CLI, SYN | ACK, 500, 101, 0));
    s.send(tcp_pkt(2 * SEC / 10, CLI, SRV, ACK, 101, 501, 0));
    s.send(tcp_pkt(3 * SEC / 10, CLI, SRV, PSH | ACK, 101, 501, 10));
    s.send(tcp_pkt(35 * SEC / 100, SRV, CLI, ACK, 501, 111, 0));
    s.send(tcp_pkt(4 * SEC / 10, SRV, CLI, PSH | ACK, 501, 111, 20));
    s.send(tcp_pkt(5 * SEC / 10, CLI, SRV, ACK, 111, 521, 0));
    s.send(tcp_pkt(6 * SEC / 10, CLI, SRV, FIN | ACK, 111, 521, 0));
    s.send(tcp_pkt(7 * SEC / 10, SRV, CLI, FIN | ACK, 521, 112, 0));
    s.send(tcp_pkt(8 * SEC / 10, CLI, SRV, ACK, 112, 522, 0));
    // update_history: S (orig SYN), h (resp SYN+ACK), A (pure ack), D/d data,
    // F/f FINs; repeated A is suppressed by Session::CheckHistory's mask.
    assert_eq!(s.h(), "ShADadFf");
    // conn_state(): both TCP_CLOSED -> SF.
    assert_eq!(s.a().conn_state(), ConnState::SF);
    // TCP_Endpoint::Size(): last/ack seq minus start, minus SYN and FIN octets.
    assert_eq!(s.a().orig().bytes, 10);
    assert_eq!(s.a().resp().bytes, 20);
    // ConnSize_Analyzer::DeliverPacket counts every packet that reached Process.
    assert_eq!((s.a().orig().pkts, s.a().resp().pkts), (6, 4));
    assert_eq!(s.a().orig().ip_bytes, 6 * 40 + 10);
    assert_eq!(s.a().resp().ip_bytes, 4 * 40 + 20);
    assert_eq!(s.a().missed_bytes(), 0);
    // Process(): SetLastTime only while not both sides did_close; the last ACK
    // arrives after both FINs were processed (ConnectionClosed set did_close).
    assert_eq!(s.a().last_ts(), 7 * SEC / 10);
    assert_eq!(s.a().log_duration(), Some(7 * SEC / 10));
    // ConnectionClosed(): close_complete -> ConnDeleteTimer at LastTime + tcp_close_delay.
    assert_eq!(s.a().closed_at(), Some(7 * SEC / 10 + TCP_CLOSE_DELAY));
    assert_eq!(s.a().expires_at(), 7 * SEC / 10 + TCP_CLOSE_DELAY);
    // IsReuse(): a new SYN with a different ISN after close is a new connection;
    // the original ISN is not.
    assert!(s
        .a()
        .is_reuse(&s.cfg, &tcp_pkt(9 * SEC / 10, CLI, SRV, SYN, 9999, 0, 0)));
    assert!(!s
        .a()
        .is_reuse(&s.cfg, &tcp_pkt(9 * SEC / 10, CLI, SRV, ACK, 9999, 0, 0)));
    // Handshake left -> tcp_inactivity_timeout (TCP_Endpoint::SetState).
    assert_eq!(s.a().inactivity_timeout(), TCP_INACTIVITY_TIMEOUT);
}

/// SYN only.
#[test]
fn syn_only_s0() {
    let mut s = Sim::new(ZeekConfig::default(), tcp_pkt(0, CLI, SRV, SYN, 100, 0, 0));
    // Retransmitted SYN with the same ISN: SYN mask already set and rel_seq ==
    // hist_last_SYN -> no second 'S' (update_history).
    s.send(tcp_pkt(SEC, CLI, SRV, SYN, 100, 0, 0));
    assert_eq!(s.h(), "S");
    // conn_state(): SYN_SENT / INACTIVE -> S0.
    assert_eq!(s.a().conn_state(), ConnState::S0);
    assert_eq!((s.a().orig().bytes, s.a().resp().bytes), (0, 0));
    assert_eq!(s.a().orig().pkts, 2);
    // Still in handshake: udp_inactivity_timeout (TCPAnalyzer::MakeSessionAdapter);
    // AttemptTimer at first SYN + tcp_attempt_delay wins.
    assert_eq!(s.a().inactivity_timeout(), UDP_INACTIVITY_TIMEOUT);
    assert_eq!(s.a().expires_at(), TCP_ATTEMPT_DELAY);
    // IsReuse(): same ISN SYN -> not reuse; different ISN -> reuse.
    assert!(!s
        .a()
        .is_reuse(&s.cfg, &tcp_pkt(2 * SEC, CLI, SRV, SYN, 100, 0, 0)));
    assert!(s
        .a()
        .is_reuse(&s.cfg, &tcp_pkt(2 * SEC, CLI, SRV, SYN, 777, 0, 0)));
}

/// A SYN with a new ISN is recorded again ('S' twice).
#[test]
fn syn_new_isn_no_second_s() {
    let mut s = Sim::new(ZeekConfig::default(), tcp_pkt(0, CLI, SRV, SYN, 100, 0, 0));
    s.send(tcp_pkt(SEC, CLI, SRV, SYN, 5000, 0, 0));
    // init_endpoint() (SYN_SENT, new ISN) re-bases start_seq, so the new SYN's
    // rel_seq is 0 == hist_last_SYN: update_history() adds no second 'S'.
    assert_eq!(s.h(), "S");
}

/// SYN answered by RST.
#[test]
fn syn_rst_rej() {
    let mut s = Sim::new(ZeekConfig::default(), tcp_pkt(0, CLI, SRV, SYN, 100, 0, 0));
    s.send(tcp_pkt(SEC, SRV, CLI, RST | ACK, 0, 101, 0));
    assert_eq!(s.h(), "Sr");
    // UpdateInactiveState(): resp RST while orig SYN_SENT -> reject; conn_state REJ.
    assert_eq!(s.a().conn_state(), ConnState::REJ);
    assert_eq!(s.a().closed_at(), Some(SEC + TCP_CLOSE_DELAY));
}

/// SYN then RST from the originator, no reply.
#[test]
fn syn_then_orig_rst_rstos0() {
    let mut s = Sim::new(ZeekConfig::default(), tcp_pkt(0, CLI, SRV, SYN, 100, 0, 0));
    s.send(tcp_pkt(SEC, CLI, SRV, RST, 101, 0, 0));
    assert_eq!(s.h(), "SR");
    // conn_state(): os RESET, resp inactive, history matches /\^?S[^HAFGIQ]*R.*/.
    assert_eq!(s.a().conn_state(), ConnState::RSTOS0);
}

/// SYN then FIN from the originator, no reply.
#[test]
fn syn_fin_sh() {
    let mut s = Sim::new(ZeekConfig::default(), tcp_pkt(0, CLI, SRV, SYN, 100, 0, 0));
    s.send(tcp_pkt(SEC, CLI, SRV, FIN, 101, 0, 0));
    assert_eq!(s.h(), "SF");
    // UpdateSYN_SentState(): FIN -> CLOSED; conn_state(): os CLOSED, r inactive -> SH.
    assert_eq!(s.a().conn_state(), ConnState::SH);
}

/// SYN+FIN in one packet is 'Q'; FIN+RST is 'I'.
#[test]
fn multi_flag_q_and_i() {
    let s = Sim::new(
        ZeekConfig::default(),
        tcp_pkt(0, CLI, SRV, SYN | FIN, 100, 0, 0),
    );
    assert_eq!(s.h(), "Q");
    let s = Sim::new(
        ZeekConfig::default(),
        tcp_pkt(0, CLI, 5555, FIN | RST | ACK, 100, 7, 0),
    );
    assert_eq!(s.h(), "I");
}

/// SYN-ACK first from a likely server port: flipped at creation.
#[test]
fn synack_first_flipped() {
    let first = tcp_pkt(0, SRV, CLI, SYN | ACK, 500, 101, 0);
    let cfg = ZeekConfig::default();
    // WantConnection(): SYN-ACK, src 80 likely server, dst not -> flip.
    assert!(flip_on_first_packet(&cfg, &first));
    let mut s = Sim::new(cfg, first);
    assert_eq!(s.orig_port, CLI);
    s.send(tcp_pkt(SEC, CLI, SRV, ACK, 101, 501, 0));
    s.send(tcp_pkt(2 * SEC, CLI, SRV, PSH | ACK, 101, 501, 5));
    // Connection::FlipRoles in NewConn adds '^' before any packet history.
    assert_eq!(s.h(), "^hAD");
    // UpdateInactiveState(): resp SYN-ACK -> ESTABLISHED; orig pure ACK with
    // peer ESTABLISHED -> ESTABLISHED (missed SYN) -> S1.
    assert_eq!(s.a().conn_state(), ConnState::S1);
    assert_eq!(s.a().orig().pkts, 2);
    assert_eq!(s.a().resp().pkts, 1);
    assert_eq!(s.a().orig().bytes, 5);
    assert_eq!(s.flips, 0);
}

/// Broadcast destination suppresses the creation flip (NewConn).
#[test]
fn broadcast_no_flip() {
    let cfg = ZeekConfig::default();
    let p = udp_pkt(0, 67, 68, 300);
    assert!(flip_on_first_packet(&cfg, &p));
    assert!(!flip_on_first_packet_to(
        &cfg,
        &p,
        IpAddr::V4(std::net::Ipv4Addr::BROADCAST)
    ));
    assert!(flip_on_first_packet_to(
        &cfg,
        &p,
        IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1))
    ));
}

/// SYN-ACK between two likely server ports (core.tcp.flip-without-syn):
/// no flip at creation; the first ACK/data flips via TCP_Endpoint::CheckHistory.
#[test]
fn synack_both_server_ports_late_flip() {
    let cfg = ZeekConfig::default();
    let first = tcp_pkt(0, SRV, 6669, SYN | ACK, 500, 101, 0);
    // WantConnection(): both likely servers and a SYN -> no flip.
    assert!(!flip_on_first_packet(&cfg, &first));
    let mut s = Sim::new(cfg, first);
    assert_eq!(s.h(), "H");
    assert_eq!(s.orig_port, SRV);
    s.send(tcp_pkt(SEC, 6669, SRV, ACK, 101, 501, 0));
    // CheckHistory(): 'A' with history "H" -> FlipRoles, ReplaceHistory("^h").
    assert_eq!(s.flips, 1);
    assert_eq!(s.orig_port, 6669);
    s.send(tcp_pkt(2 * SEC, 6669, SRV, PSH | ACK, 101, 501, 7));
    s.send(tcp_pkt(3 * SEC, SRV, 6669, PSH | ACK, 501, 108, 9));
    assert_eq!(s.h(), "^hADd");
    // ConnSize_Analyzer::FlipRoles swapped counters; the flipping ACK counted on the new orig.
    assert_eq!((s.a().orig().pkts, s.a().resp().pkts), (2, 2));
    assert_eq!((s.a().orig().bytes, s.a().resp().bytes), (7, 9));
    // UpdateInactiveState() runs with the stale is_orig after the flip: the new
    // orig becomes PARTIAL (its peer is SYN_ACK_SENT, not ESTABLISHED), so
    // conn_state() is OTH until the FINs (the corpus trace ends SF).
    assert_eq!(s.a().conn_state(), ConnState::OTH);
    s.send(tcp_pkt(4 * SEC, 6669, SRV, FIN | ACK, 108, 510, 0));
    s.send(tcp_pkt(5 * SEC, SRV, 6669, FIN | ACK, 510, 109, 0));
    assert_eq!(s.h(), "^hADdFf");
    assert_eq!(s.a().conn_state(), ConnState::SF);
}

/// Mid-stream traffic without handshake.
#[test]
fn midstream_oth() {
    let mut s = Sim::new(
        ZeekConfig::default(),
        tcp_pkt(0, CLI, SRV, PSH | ACK, 1000, 2000, 10),
    );
    s.send(tcp_pkt(SEC, SRV, CLI, PSH | ACK, 2000, 1010, 20));
    assert_eq!(s.h(), "Dd");
    // UpdateInactiveState(): no SYN -> PARTIAL both; conn_state() -> OTH.
    assert_eq!(s.a().conn_state(), ConnState::OTH);
    // init_endpoint(): partial start = seq - 1, so Size() counts the data.
    assert_eq!((s.a().orig().bytes, s.a().resp().bytes), (10, 20));
    // Mid-stream first packet from the server port is flipped.
    let s = Sim::new(
        ZeekConfig::default(),
        tcp_pkt(0, SRV, CLI, PSH | ACK, 2000, 1010, 20),
    );
    assert_eq!(s.h(), "^d");
}

/// Retransmission 't'/'T' with scaled thresholds 1, 10, 100.
#[test]
fn retransmissions_scaled() {
    let mut s = Sim::new(ZeekConfig::default(), tcp_pkt(0, CLI, SRV, SYN, 100, 0, 0));
    s.send(tcp_pkt(1, SRV, CLI, SYN | ACK, 500, 101, 0));
    s.send(tcp_pkt(2, CLI, SRV, ACK, 101, 501, 0));
    s.send(tcp_pkt(3, CLI, SRV, PSH | ACK, 101, 501, 10));
    for i in 0..10 {
        // update_last_seq(): delta_last <= 0 && len > 0 -> DidRxmit.
        s.send(tcp_pkt(4 + i, CLI, SRV, PSH | ACK, 101, 501, 10));
    }
    // Session::ScaledHistoryEntry: 'T' at the 1st and 10th retransmission.
    assert_eq!(s.h(), "ShADTT");
    s.send(tcp_pkt(20, SRV, CLI, PSH | ACK, 501, 111, 5));
    s.send(tcp_pkt(21, SRV, CLI, PSH | ACK, 501, 111, 5));
    assert_eq!(s.h(), "ShADTTdt");
    assert_eq!(s.a().orig().bytes, 10);
}

/// Zero window advertised by the responder.
#[test]
fn zero_window_w() {
    let mut s = Sim::new(ZeekConfig::default(), tcp_pkt(0, CLI, SRV, SYN, 100, 0, 0));
    s.send(tcp_pkt(1, SRV, CLI, SYN | ACK, 500, 101, 0));
    let mut p = tcp_pkt(2, SRV, CLI, ACK, 501, 101, 0);
    if let L4Info::Tcp { ref mut window, .. } = p.l4 {
        *window = 0;
    }
    s.send(p);
    // update_window(): window == 0, no RST, peer not CLOSED -> ZeroWindow 'w'.
    assert_eq!(s.h(), "Shaw");
}

/// Bad checksum on the first (SYN) packet (core.tcp.bad-checksum-syn).
#[test]
fn bad_checksum_syn() {
    let mut p = tcp_pkt(5, CLI, SRV, SYN, 100, 0, 0);
    p.checksum_ok = false;
    let s = Sim::new(ZeekConfig::bare(), p);
    // TCPAnalyzer::ValidateChecksum -> ChecksumError 'C'; packet never reaches
    // Process() or ConnSize: 0 packets, both endpoints INACTIVE -> OTH.
    assert_eq!(s.h(), "C");
    assert_eq!(s.a().conn_state(), ConnState::OTH);
    assert_eq!((s.a().orig().pkts, s.a().resp().pkts), (0, 0));
    assert_eq!(s.a().log_duration(), None);
    // ExpireTimer: both inactive, fires at start+5s (not > last+5s), then start+11s.
    assert_eq!(s.a().expires_at(), 5 + TCP_SYN_TIMEOUT + TCP_SESSION_TIMER);
}

/// Content gap at the end (core.tcp.miss-end-data): responder data never seen.
#[test]
fn gap_missed_bytes() {
    let mut s = Sim::new(ZeekConfig::bare(), tcp_pkt(0, CLI, SRV, SYN, 100, 0, 0));
    s.send(tcp_pkt(1, SRV, CLI, SYN | ACK, 500, 101, 0));
    s.send(tcp_pkt(2, CLI, SRV, ACK, 101, 501, 0));
    s.send(tcp_pkt(3, CLI, SRV, PSH | ACK, 101, 501, 538));
    s.send(tcp_pkt(4, SRV, CLI, ACK, 501, 639, 0));
    s.send(tcp_pkt(5, SRV, CLI, FIN | ACK, 501 + 2902, 639, 0));
    // Client acks the FIN: TCP_Reassembler::AckReceived caps at FIN_seq-1,
    // Undelivered -> Gap(1, 2902): 'g' (both endpoints clean) + content_gap.
    s.send(tcp_pkt(6, CLI, SRV, ACK, 639, 501 + 2903, 0));
    s.send(tcp_pkt(7, CLI, SRV, FIN | ACK, 639, 501 + 2903, 0));
    assert_eq!(s.h(), "ShADafgF");
    assert_eq!(s.a().missed_bytes(), 2902);
    assert_eq!((s.a().orig().bytes, s.a().resp().bytes), (538, 2902));
    assert_eq!(s.a().conn_state(), ConnState::SF);
}

/// Reordered data does not produce a gap.
#[test]
fn reorder_no_gap() {
    let mut s = Sim::new(ZeekConfig::default(), tcp_pkt(0, CLI, SRV, SYN, 100, 0, 0));
    s.send(tcp_pkt(1, SRV, CLI, SYN | ACK, 500, 101, 0));
    s.send(tcp_pkt(2, CLI, SRV, ACK, 101, 501, 0));
    s.send(tcp_pkt(3, CLI, SRV, PSH | ACK, 111, 501, 10));
    s.send(tcp_pkt(4, CLI, SRV, PSH | ACK, 101, 501, 10));
    s.send(tcp_pkt(5, SRV, CLI, ACK, 501, 121, 0));
    assert_eq!(s.a().missed_bytes(), 0);
    assert!(!s.h().contains('g') && !s.h().contains('G'));
    // The in-order segment arriving late is below last_seq: update_last_seq -> 'T'.
    assert_eq!(s.h(), "ShADTa");
}

/// UDP one way / both ways / from a server port.
#[test]
fn udp_states() {
    let mut s = Sim::new(ZeekConfig::default(), udp_pkt(0, 5000, 53, 30));
    s.send(udp_pkt(SEC, 5000, 53, 40));
    // UDPAnalyzer::DeliverPacket: CheckHistory(HIST_ORIG_DATA_PKT, 'D') once.
    assert_eq!(s.h(), "D");
    assert_eq!(s.a().conn_state(), ConnState::S0);
    assert_eq!(s.a().orig().bytes, 70);
    s.send(udp_pkt(2 * SEC, 53, 5000, 100));
    assert_eq!(s.h(), "Dd");
    assert_eq!(s.a().conn_state(), ConnState::SF);
    assert_eq!((s.a().orig().pkts, s.a().resp().pkts), (2, 1));
    assert_eq!(s.a().resp().ip_bytes, 128);
    // Port 53 runs Zeek's DNS analyzer: its ExpireTimer fires every 10 s from the start and
    // removes the connection once idle ≥ 9 s: last packet at 2 s → the tick at 20 s.
    assert_eq!(s.a().expires_at(), 20 * SEC);
    let other = Sim::new(ZeekConfig::default(), udp_pkt(0, 5000, 6000, 30));
    assert_eq!(other.a().expires_at(), UDP_INACTIVITY_TIMEOUT);
    let bare = Sim::new(ZeekConfig::bare(), udp_pkt(0, 5000, 53, 30));
    assert_eq!(
        bare.a().expires_at(),
        UDP_INACTIVITY_TIMEOUT,
        "no DNS analyzer in bare mode"
    );
    // UDP WantConnection: src 53 likely server, dst not -> flip; reply only -> SHR.
    let s = Sim::new(ZeekConfig::default(), udp_pkt(0, 53, 5000, 100));
    assert_eq!(s.h(), "^d");
    assert_eq!(s.a().conn_state(), ConnState::SHR);
    // Zero-length datagram still counts as 'D' and makes the side active.
    let s = Sim::new(ZeekConfig::default(), udp_pkt(0, 5000, 9999, 0));
    assert_eq!((s.h(), s.a().conn_state()), ("D", ConnState::S0));
    assert_eq!(s.a().log_duration(), None);
}

/// UDP bad checksums (core.udp-corrupt): 'C'/'c', nothing counted.
#[test]
fn udp_bad_checksum() {
    let mut p = udp_pkt(0, 5000, 53, 30);
    p.checksum_ok = false;
    let mut s = Sim::new(ZeekConfig::default(), p);
    let mut r = udp_pkt(1, 53, 5000, 30);
    r.checksum_ok = false;
    s.send(r);
    assert_eq!(s.h(), "Cc");
    assert_eq!(s.a().conn_state(), ConnState::OTH);
    assert_eq!((s.a().orig().pkts, s.a().resp().pkts), (0, 0));
}

/// ICMP and unknown transports: no history, OTH, bytes/pkts counted.
#[test]
fn icmp_and_other() {
    let cfg = ZeekConfig::default();
    let p = PacketInfo {
        ts: 0,
        ip_len: 84,
        checksum_ok: true,
        l4: L4Info::Icmp {
            icmp_type: 8,
            code: 0,
            v6: false,
            payload_len: 56,
        },
    };
    assert!(!flip_on_first_packet(&cfg, &p));
    let mut pool = TcpPool::new();
    let mut a = ConnAnalyzer::new(&cfg, &p, false);
    a.update(&cfg, &mut pool, true, &p);
    let r = PacketInfo {
        ts: SEC,
        ip_len: 84,
        checksum_ok: true,
        l4: L4Info::Icmp {
            icmp_type: 0,
            code: 0,
            v6: false,
            payload_len: 56,
        },
    };
    a.update(&cfg, &mut pool, false, &r);
    let a = a.view(&pool);
    assert_eq!(a.history(), "");
    assert_eq!(a.conn_state(), ConnState::OTH);
    assert_eq!((a.orig().bytes, a.resp().bytes, a.orig().pkts), (56, 56, 1));
    assert_eq!(a.expires_at(), SEC + ICMP_INACTIVITY_TIMEOUT);
    let o = PacketInfo {
        ts: 0,
        ip_len: 100,
        checksum_ok: true,
        l4: L4Info::Other {
            proto: 132,
            payload_len: 80,
        },
    };
    let mut a = ConnAnalyzer::new(&cfg, &o, false);
    a.update(&cfg, &mut pool, true, &o);
    a.update(&cfg, &mut pool, false, &o);
    let a = a.view(&pool);
    assert_eq!((a.history(), a.conn_state()), ("", ConnState::OTH));
    assert_eq!(
        (a.orig().ip_bytes, a.resp().ip_bytes, a.orig().bytes),
        (100, 100, 0)
    );
}

/// WantConnection's port heuristics.
#[test]
fn flip_heuristics() {
    let cfg = ZeekConfig::default();
    // Pure SYN never flips.
    assert!(!flip_on_first_packet(
        &cfg,
        &tcp_pkt(0, 80, 40000, SYN, 1, 0, 0)
    ));
    // Both likely servers, no SYN: flip iff src < dst.
    assert!(flip_on_first_packet(
        &cfg,
        &tcp_pkt(0, 80, 443, ACK, 1, 1, 0)
    ));
    assert!(!flip_on_first_packet(
        &cfg,
        &tcp_pkt(0, 443, 80, ACK, 1, 1, 0)
    ));
    // Bare mode: 80 is not a likely server port.
    assert!(!flip_on_first_packet(
        &ZeekConfig::bare(),
        &tcp_pkt(0, 80, 40000, ACK, 1, 1, 0)
    ));
    let mut strict = ZeekConfig {
        tcp_syn_ack_ok: false,
        ..ZeekConfig::default()
    };
    assert!(!creates_connection(
        &strict,
        &tcp_pkt(0, 80, 40000, SYN | ACK, 1, 1, 0)
    ));
    assert!(creates_connection(
        &strict,
        &tcp_pkt(0, 80, 40000, ACK, 1, 1, 0)
    ));
    strict.partial_connection_ok = false;
    assert!(!creates_connection(
        &strict,
        &tcp_pkt(0, 80, 40000, ACK, 1, 1, 0)
    ));
    assert!(creates_connection(
        &strict,
        &tcp_pkt(0, 40000, 80, SYN, 1, 0, 0)
    ));
}

/// SYN-ACK then SYN reversal (UpdateInactiveState): flip and establish.
#[test]
fn syn_synack_reversal() {
    let cfg = ZeekConfig::default();
    let mut s = Sim::new(cfg, tcp_pkt(0, 7000, 6000, SYN | ACK, 500, 101, 0));
    assert_eq!(s.h(), "H");
    // IsReuse(): SYN with the seq the SYN-ACK acked -1 -> not a reuse.
    let syn = tcp_pkt(1, 6000, 7000, SYN, 100, 0, 0);
    assert!(!s.a().is_reuse(&s.cfg, &syn));
    s.send(syn);
    assert_eq!(s.flips, 1);
    assert_eq!(s.orig_port, 6000);
    assert_eq!(s.h(), "Hs^");
    assert_eq!(
        s.a().tcp_states(),
        Some((TcpEndpointState::Established, TcpEndpointState::Established))
    );
}

#[test]
fn conn_analyzer_is_small() {
    let n = std::mem::size_of::<ConnAnalyzer>();
    eprintln!(
        "size_of::<ConnAnalyzer>() = {n}, TcpPool slot = {}",
        TcpPool::SLOT_BYTES
    );
    assert!(n <= 104, "ConnAnalyzer is {n} bytes");
}

/// An embryo (one TCP packet, no pool slot) answers every query exactly as
/// the state it stands for; the plain-SYN `expires_at` shortcut included;
/// and promotion on the second packet gives the same state as processing
/// both packets on a full state.
#[test]
fn embryo_matches_full_state() {
    let cfg = ZeekConfig::default();
    let mut pool = TcpPool::new();
    for flags in 0..=255u8 {
        for bits in 0..16u8 {
            let (is_orig, ok, win0, big) =
                (bits & 1 != 0, bits & 2 != 0, bits & 4 != 0, bits & 8 != 0);
            let len = if big { 1000 } else { 0 };
            let mut p = tcp_pkt(3 * SEC, CLI, SRV, flags, 0xffff_fff0, 77, len);
            p.checksum_ok = ok;
            if let L4Info::Tcp { window, .. } = &mut p.l4 {
                *window = if win0 { 0 } else { 9 };
            }
            let mut a = ConnAnalyzer::new(&cfg, &p, !is_orig);
            let u = a.update(&cfg, &mut pool, is_orig, &p);
            assert!(!u.flipped);
            assert!(a.is_embryonic());
            // The reference: the same packet on a full state.
            let mut full = TcpState::new();
            let mut h = History::new();
            if !is_orig {
                h.add(b'^');
            }
            let mut last = 3 * SEC;
            if ok {
                let mut cx = ConnCtx {
                    hist: &mut h,
                    last_ts: &mut last,
                };
                let tp = TcpPkt {
                    flags,
                    seq: 0xffff_fff0,
                    ack: 77,
                    window: if win0 { 0 } else { 9 },
                    len,
                };
                full.process(cfg.tcp_cfg(), is_orig, &tp, 3 * SEC, &mut cx);
            } else {
                full.checksum_error(is_orig, &mut h);
            }
            let emb = a.tcp_state_of(&pool).unwrap();
            assert_eq!(emb, full, "flags {flags:#x} bits {bits}");
            assert_eq!(a.history(), h.as_str());
            assert_eq!(a.last_ts(), last);
            assert_eq!(
                a.expires_at(&pool),
                full.expires_at(a.start_ts(), a.last_ts()),
                "flags {flags:#x} bits {bits}"
            );
            for (f2, seq2) in [
                (SYN, 0xffff_fff0),
                (SYN, 5),
                (SYN | ACK, 5),
                (SYN | ACK, 0xffff_fff0),
                (ACK, 5),
                (SYN | RST, 0xffff_fff0),
            ] {
                for side in [true, false] {
                    let (sp, dp) = if side { (CLI, SRV) } else { (SRV, CLI) };
                    let q = tcp_pkt(4 * SEC, sp, dp, f2, seq2, 1, 0);
                    let tp = TcpPkt {
                        flags: f2,
                        seq: seq2,
                        ack: 1,
                        window: 1000,
                        len: 0,
                    };
                    assert_eq!(
                        a.is_reuse(&cfg, &pool, &q),
                        full.is_reuse(4 * SEC, a.last_ts(), &tp),
                        "flags {flags:#x} bits {bits} then {f2:#x} {seq2}"
                    );
                }
            }
            // Promotion: a second packet takes a slot and matches.
            let q = tcp_pkt(4 * SEC, SRV, CLI, SYN | ACK, 5000, 0xffff_fff1, 0);
            let mut b = a.clone();
            b.update(&cfg, &mut pool, !is_orig, &q);
            assert!(b.holds_slot());
            b.release(&mut pool);
        }
    }
    assert_eq!(pool.in_use(), 0);
    assert_eq!(pool.slots(), 1);
}

#[test]
fn rstos0_regex() {
    assert!(history_is_rstos0(b"SR"));
    assert!(history_is_rstos0(b"^SdR"));
    // 'h' is lowercase: not in [^HAFGIQ]'s excluded set.
    assert!(history_is_rstos0(b"ShR"));
    assert!(!history_is_rstos0(b"SHR"));
    assert!(!history_is_rstos0(b"R"));
    assert!(history_is_rstos0(b"STTR"));
}

// ---------------------------------------------------------------------------
// Corpus checks: a minimal classic-pcap/Ethernet/IPv4/TCP reader (test only)
// replaying single-connection Zeek test traces against their conn.log.
// ---------------------------------------------------------------------------

const TRACES: &str = "/work/shared/corpus/zeek/traces";

fn csum_add(mut sum: u32, data: &[u8]) -> u32 {
    let mut it = data.chunks_exact(2);
    for c in &mut it {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [b] = it.remainder() {
        sum += u32::from(*b) << 8;
    }
    sum
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// Parses IPv4/TCP packets of a classic little-endian Ethernet pcap.
fn read_tcp_pcap(path: &str, verify: bool) -> Option<Vec<PacketInfo>> {
    let data = std::fs::read(path).ok()?;
    let mut off = 24;
    let mut out = Vec::new();
    while off + 16 <= data.len() {
        let u32le = |o: usize| u32::from_le_bytes([data[o], data[o + 1], data[o + 2], data[o + 3]]);
        let ts = i64::from(u32le(off)) * NS_PER_SEC + i64::from(u32le(off + 4)) * 1000;
        let caplen = u32le(off + 8) as usize;
        let pkt = &data[off + 16..(off + 16 + caplen).min(data.len())];
        off += 16 + caplen;
        let mut l2 = 14;
        let mut et = u16::from_be_bytes([pkt[12], pkt[13]]);
        while et == 0x8100 {
            et = u16::from_be_bytes([pkt[l2 + 2], pkt[l2 + 3]]);
            l2 += 4;
        }
        if et != 0x0800 {
            continue;
        }
        let ip = &pkt[l2..];
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        if ip[9] != 6 {
            continue;
        }
        let t = &ip[ihl..];
        let thl = usize::from(t[12] >> 4) * 4;
        let seg_len = total - ihl;
        let mut ok = true;
        if verify && ip.len() >= total {
            let mut sum = csum_add(0, &ip[12..20]);
            sum += 6 + seg_len as u32;
            sum = csum_add(sum, &ip[ihl..total]);
            ok = fold(sum) == 0xffff;
        }
        out.push(PacketInfo {
            ts,
            ip_len: total as u32,
            checksum_ok: ok,
            l4: L4Info::Tcp {
                src_port: u16::from_be_bytes([t[0], t[1]]),
                dst_port: u16::from_be_bytes([t[2], t[3]]),
                flags: t[13],
                seq: u32::from_be_bytes([t[4], t[5], t[6], t[7]]),
                ack: u32::from_be_bytes([t[8], t[9], t[10], t[11]]),
                window: u16::from_be_bytes([t[14], t[15]]),
                payload_len: (seg_len - thl) as u32,
            },
        });
    }
    Some(out)
}

fn replay(cfg: ZeekConfig, trace: &str, verify: bool) -> Option<Sim> {
    let pkts = read_tcp_pcap(&format!("{TRACES}/{trace}"), verify)?;
    let mut it = pkts.into_iter();
    let mut s = Sim::new(cfg, it.next()?);
    for p in it {
        s.send(p);
    }
    Some(s)
}

/// core.history-flip / core.tcp.missing-syn (`zeek -b -C`, http loaded).
#[test]
fn corpus_missing_syn() {
    let mut cfg = ZeekConfig::bare();
    cfg.tcp_server_ports.insert(80);
    let Some(s) = replay(cfg, "tcp/missing-syn.pcap", false) else {
        return; // corpus not available
    };
    assert_eq!(s.h(), "^hADdFaf");
    assert_eq!(s.a().conn_state(), ConnState::SF);
    assert_eq!((s.a().orig().bytes, s.a().resp().bytes), (98, 9417));
    assert_eq!((s.a().orig().pkts, s.a().orig().ip_bytes), (11, 670));
    assert_eq!((s.a().resp().pkts, s.a().resp().ip_bytes), (10, 9945));
    assert_eq!(s.a().log_duration().map(|d| d / 1000), Some(1_550_793));
    assert_eq!(s.a().missed_bytes(), 0);
}

/// core.tcp.miss-end-data (`zeek -b`).
#[test]
fn corpus_miss_end_data() {
    let Some(s) = replay(ZeekConfig::bare(), "tcp/miss_end_data.pcap", true) else {
        return;
    };
    assert_eq!(s.h(), "ShADafgF");
    assert_eq!(s.a().conn_state(), ConnState::SF);
    assert_eq!((s.a().orig().bytes, s.a().resp().bytes), (538, 2902));
    assert_eq!(s.a().missed_bytes(), 2902);
    assert_eq!((s.a().orig().pkts, s.a().orig().ip_bytes), (5, 750));
    assert_eq!((s.a().resp().pkts, s.a().resp().ip_bytes), (4, 172));
    assert_eq!(s.a().log_duration().map(|d| d / 1000), Some(10_048_360));
}

/// core.tcp.bad-checksum-syn (`zeek -b`, checksums verified).
#[test]
fn corpus_bad_checksum_syn() {
    let Some(s) = replay(ZeekConfig::bare(), "tcp/syn-bad.pcap", true) else {
        return;
    };
    assert_eq!(s.h(), "C");
    assert_eq!(s.a().conn_state(), ConnState::OTH);
    assert_eq!((s.a().orig().pkts, s.a().resp().pkts), (0, 0));
}
