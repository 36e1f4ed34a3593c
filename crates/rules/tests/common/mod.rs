//! Shared by the matching tests: Ethernet/IPv4 TCP and UDP frames built by
//! `custos_decode::wire::FrameBuilder` and decoded by `custos_decode` (checksums ignored),
//! and a sensor that loads rule text and reports the sids each frame hits.
#![allow(dead_code)]

use custos_decode::wire::{EthernetRepr, FrameBuilder, Ipv4Repr, Mac, TcpRepr, UdpRepr};
use custos_decode::{ChecksumMode, Decoder, DecoderConfig};
use custos_rules::parse::parse_file;
use custos_rules::{Classifications, LoadReport, Matcher, RuleSet, Vars};

pub const SEC: i64 = 1_000_000_000;

/// No hits.
pub const NONE: [u64; 0] = [];

pub type Ep = ([u8; 4], u16);

pub const CLIENT: Ep = ([192, 168, 1, 10], 40000);
pub const SERVER: Ep = ([10, 0, 0, 2], 80);

/// The frames' Ethernet and IPv4 headers from `src` to `dst` (identification 0x1234, don't
/// fragment, TTL 64).
fn headers(src: [u8; 4], dst: [u8; 4]) -> FrameBuilder {
    let ethernet = EthernetRepr {
        src_addr: Mac([2, 0, 0, 0, 0, 1]),
        dst_addr: Mac([2, 0, 0, 0, 0, 2]),
        ..EthernetRepr::default()
    };
    let ip = Ipv4Repr {
        src_addr: src.into(),
        dst_addr: dst.into(),
        ident: 0x1234,
        dont_frag: true,
        ..Ipv4Repr::default()
    };
    FrameBuilder::new(ethernet, ip)
}

/// An Ethernet/IPv4 frame carrying `l4` (any transport bytes, kept as given) with protocol
/// `proto`.
pub fn ipv4(src: [u8; 4], dst: [u8; 4], proto: u8, l4: &[u8]) -> Vec<u8> {
    let b = headers(src, dst);
    let ip = b.ip.with_payload(proto, l4.len());
    let l3 = b.ethernet.buffer_len();
    let mut f = vec![0; l3 + ip.buffer_len()];
    b.ethernet.emit(&mut f);
    ip.emit(&mut f[l3..]);
    f.extend_from_slice(l4);
    f
}

/// An Ethernet/IPv4/TCP frame (window 0xfaf0, no options).
pub fn tcp(src: Ep, dst: Ep, flags: u8, seq: u32, ack: u32, payload: &[u8]) -> Vec<u8> {
    headers(src.0, dst.0).tcp(&TcpRepr {
        src_port: src.1,
        dst_port: dst.1,
        seq_number: seq,
        ack_number: ack,
        flags,
        window_len: 0xfaf0,
        payload,
        ..TcpRepr::default()
    })
}

/// An Ethernet/IPv4/UDP frame.
pub fn udp(src: Ep, dst: Ep, payload: &[u8]) -> Vec<u8> {
    headers(src.0, dst.0).udp(&UdpRepr {
        src_port: src.1,
        dst_port: dst.1,
        payload,
    })
}

pub const SYN: u8 = 0x02;
pub const ACK: u8 = 0x10;
pub const PSH_ACK: u8 = 0x18;
pub const SYN_ACK: u8 = 0x12;
pub const FIN_ACK: u8 = 0x11;
pub const RST: u8 = 0x04;

/// A matcher over `rules` (every rule must load and compile) and a decoder; packet time
/// advances one millisecond per packet unless set.
pub struct Sensor {
    pub matcher: Matcher,
    pub decoder: Decoder,
    pub ts: i64,
}

impl Sensor {
    pub fn new(rules: &str) -> Sensor {
        let mut report = LoadReport::default();
        parse_file(rules, "test.rules", &Vars::default(), &mut report);
        assert!(report.errors.is_empty(), "{:#?}", report.errors);
        assert!(report.skipped.is_empty(), "{:#?}", report.skipped);
        let n = report.rules.len();
        let (set, refused) = RuleSet::compile(report.rules, &Classifications::builtin());
        assert!(refused.is_empty(), "{refused:#?}");
        assert_eq!(set.len(), n);
        Sensor {
            matcher: Matcher::new(set),
            decoder: Decoder::new(DecoderConfig {
                checksums: ChecksumMode::Ignore,
                ..Default::default()
            }),
            ts: 1_700_000_000 * SEC,
        }
    }

    /// Sids hit by one frame, sorted.
    pub fn send(&mut self, frame: &[u8]) -> Vec<u64> {
        self.ts += SEC / 1000;
        let decoded = self.decoder.decode(1, self.ts, frame);
        assert!(decoded.innermost().is_some(), "frame did not decode");
        let mut hits = Vec::new();
        self.matcher
            .packet(self.ts, (&decoded, frame, None), &mut hits);
        let mut sids: Vec<u64> = hits
            .iter()
            .map(|h| self.matcher.rules().rule(h.rule).unwrap().sid)
            .collect();
        sids.sort_unstable();
        sids
    }

    /// Sids hit by one application event, sorted.
    pub fn event(&mut self, event: &custos_app::AppEvent) -> Vec<u64> {
        let mut hits = Vec::new();
        self.matcher.event(event, &mut hits);
        let mut sids: Vec<u64> = hits
            .iter()
            .map(|h| self.matcher.rules().rule(h.rule).unwrap().sid)
            .collect();
        sids.sort_unstable();
        sids
    }

    pub fn at(&mut self, ts: i64) -> &mut Sensor {
        self.ts = ts - SEC / 1000;
        self
    }
}

/// A TCP connection from `client` to `server` with sequence numbers kept.
pub struct Conn {
    pub client: Ep,
    pub server: Ep,
    pub cseq: u32,
    pub sseq: u32,
}

impl Conn {
    pub fn new(client: Ep, server: Ep) -> Conn {
        Conn {
            client,
            server,
            cseq: 1000,
            sseq: 5000,
        }
    }

    /// SYN, SYN-ACK, ACK; the sids each hit.
    pub fn handshake(&mut self, s: &mut Sensor) -> [Vec<u64>; 3] {
        let syn = s.send(&tcp(self.client, self.server, SYN, self.cseq, 0, b""));
        self.cseq += 1;
        let syn_ack = s.send(&tcp(
            self.server,
            self.client,
            SYN_ACK,
            self.sseq,
            self.cseq,
            b"",
        ));
        self.sseq += 1;
        let ack = s.send(&tcp(
            self.client,
            self.server,
            ACK,
            self.cseq,
            self.sseq,
            b"",
        ));
        [syn, syn_ack, ack]
    }

    pub fn client_sends(&mut self, s: &mut Sensor, payload: &[u8]) -> Vec<u64> {
        let f = tcp(
            self.client,
            self.server,
            PSH_ACK,
            self.cseq,
            self.sseq,
            payload,
        );
        self.cseq += payload.len() as u32;
        s.send(&f)
    }

    pub fn server_sends(&mut self, s: &mut Sensor, payload: &[u8]) -> Vec<u64> {
        let f = tcp(
            self.server,
            self.client,
            PSH_ACK,
            self.sseq,
            self.cseq,
            payload,
        );
        self.sseq += payload.len() as u32;
        s.send(&f)
    }
}

/// What loading `rules` gives (nothing compiled).
pub fn load(rules: &str) -> LoadReport {
    let mut report = LoadReport::default();
    parse_file(rules, "test.rules", &Vars::default(), &mut report);
    report
}

/// The syntax error of the one rule in `rule`.
pub fn error_of(rule: &str) -> String {
    let r = load(rule);
    assert!(r.rules.is_empty(), "loaded: {rule}");
    assert_eq!(r.errors.len(), 1, "{rule}: {:?}", r.skipped);
    r.errors[0].message.clone()
}

/// The keyword that skips the one rule in `rule`.
pub fn skipped_by(rule: &str) -> String {
    let r = load(rule);
    assert!(r.errors.is_empty(), "{rule}: {:?}", r.errors);
    assert_eq!(r.skipped.len(), 1, "{rule}: not skipped");
    r.skipped[0].keyword.clone()
}

pub fn u(payload: &[u8]) -> Vec<u8> {
    udp(CLIENT, ([10, 0, 0, 2], 9999), payload)
}
