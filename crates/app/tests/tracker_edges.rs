//! Edge cases of the tracker on Ethernet/IPv4 packets built here: connections picked up
//! mid-stream, servers that do not negotiate, port reuse, capture order differing from wire
//! order, idle connections, and a shared UDP conversation whose first datagram is truncated.

use custos_app::telnet::TelnetEvent;
use custos_app::{AppConfig, AppEvent, AppProto, AppRecord, AppTracker};
use custos_decode::wire::{EthernetRepr, FrameBuilder, Ipv4Repr, Mac, TcpRepr, UdpRepr};
use custos_decode::{ChecksumMode, Decoder, DecoderConfig};
use std::net::Ipv4Addr;

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;
const FIN: u8 = 0x01;

type Host = ([u8; 4], u16);

/// Ethernet + IPv4 frames from `src` to `dst` (MACs 00:11:22:33:44:xx, the source's ending in
/// its address's last byte; identification 1, don't fragment, TTL 64).
fn eth_ip(src: Host, dst: Host, dst_mac: Mac) -> FrameBuilder {
    let ethernet = EthernetRepr {
        src_addr: Mac([0, 0x11, 0x22, 0x33, 0x44, src.0[3]]),
        dst_addr: dst_mac,
        ..EthernetRepr::default()
    };
    let ip = Ipv4Repr {
        src_addr: Ipv4Addr::from(src.0),
        dst_addr: Ipv4Addr::from(dst.0),
        ident: 1,
        dont_frag: true,
        ..Ipv4Repr::default()
    };
    FrameBuilder::new(ethernet, ip)
}

fn tcp(src: Host, dst: Host, seq: u32, ack: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let dst_mac = Mac([0, 0x11, 0x22, 0x33, 0x44, dst.0[3]]);
    eth_ip(src, dst, dst_mac).tcp(&TcpRepr {
        src_port: src.1,
        dst_port: dst.1,
        seq_number: seq,
        ack_number: ack,
        flags,
        window_len: 0xffff,
        payload,
        ..TcpRepr::default()
    })
}

fn udp_broadcast(src: Host, dst: Host, payload: &[u8]) -> Vec<u8> {
    eth_ip(src, dst, Mac([0xff; 6])).udp(&UdpRepr {
        src_port: src.1,
        dst_port: dst.1,
        payload,
    })
}

struct Run {
    tracker: AppTracker,
    decoder: Decoder,
    index: u64,
    events: Vec<AppEvent>,
}

impl Run {
    fn new() -> Self {
        Run {
            tracker: AppTracker::new(AppConfig::default()),
            decoder: Decoder::new(DecoderConfig {
                checksums: ChecksumMode::Ignore,
                ..DecoderConfig::default()
            }),
            index: 0,
            events: Vec::new(),
        }
    }

    fn packet(&mut self, secs: i64, frame: Vec<u8>) {
        let ts = secs * 1_000_000_000;
        let d = self.decoder.decode(1, ts, &frame);
        self.tracker.packet(ts, 0, self.index, &d);
        self.index += 1;
        self.events.extend(self.tracker.drain());
    }

    fn finish(mut self) -> (Vec<AppEvent>, custos_app::AppStats) {
        self.tracker.finish();
        self.events.extend(self.tracker.drain());
        let stats = self.tracker.stats();
        (self.events, stats)
    }
}

const CLIENT: Host = ([10, 0, 0, 2], 40000);

fn publish(n: u8) -> Vec<u8> {
    let mut p = vec![0x30, 9, 0, 3, b't', b'/', b'0' + n];
    p.extend_from_slice(b"hell");
    p
}

fn topics(events: &[AppEvent]) -> Vec<(String, u64)> {
    events
        .iter()
        .filter_map(|e| match &e.record {
            AppRecord::Mqtt(m) => match &m.message {
                custos_app::mqtt::MqttMessage::Publish(p) => Some((p.topic.clone(), m.offset)),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[test]
fn bytes_seen_while_undecided_reach_the_parser() {
    // MQTT picked up mid-stream on 1883; the broker says nothing until a PINGRESP, so the
    // protocol is decided only then (by port): the publishes before must not be lost.
    let server: Host = ([10, 0, 0, 1], 1883);
    let mut r = Run::new();
    let mut seq = 1000u32;
    for n in 0..4u8 {
        let p = publish(n);
        r.packet(
            1 + i64::from(n),
            tcp(CLIENT, server, seq, 500, ACK | PSH, &p),
        );
        seq += p.len() as u32;
    }
    r.packet(10, tcp(server, CLIENT, 500, seq, ACK | PSH, &[0xd0, 0]));
    let (events, stats) = r.finish();
    let t = topics(&events);
    assert_eq!(
        t,
        vec![
            ("t/0".to_string(), 0),
            ("t/1".to_string(), 11),
            ("t/2".to_string(), 22),
            ("t/3".to_string(), 33)
        ],
        "{events:#?}"
    );
    assert_eq!(stats.missed_bytes, 0);
    assert!(events.iter().all(|e| e.proto == AppProto::Mqtt));
}

#[test]
fn telnet_prompt_in_its_own_segment_still_counts() {
    // No option negotiation (BusyBox-style): decided by port once both sides failed the
    // probes; the banner, the prompt and the login are all seen, so the default credential
    // is recognised.
    let server: Host = ([10, 0, 0, 1], 23);
    let mut r = Run::new();
    r.packet(1, tcp(CLIENT, server, 99, 0, SYN, b""));
    r.packet(1, tcp(server, CLIENT, 499, 100, SYN | ACK, b""));
    r.packet(1, tcp(CLIENT, server, 100, 500, ACK, b""));
    let (mut ss, mut cs) = (500u32, 100u32);
    for (from_server, data) in [
        (true, &b"BusyBox v1.2 built-in shell\r\n"[..]),
        (true, b"login: "),
        (false, b"root\r\n"),
        (true, b"Password: "),
        (false, b"xc3511\r\n"),
        (true, b"\r\n# "),
    ] {
        if from_server {
            r.packet(2, tcp(server, CLIENT, ss, cs, ACK | PSH, data));
            ss += data.len() as u32;
        } else {
            r.packet(2, tcp(CLIENT, server, cs, ss, ACK | PSH, data));
            cs += data.len() as u32;
        }
    }
    let (events, _) = r.finish();
    assert!(
        events.iter().any(|e| matches!(
            &e.record,
            AppRecord::Telnet(TelnetEvent::LoginResult {
                success: true,
                default_credential: true,
                ..
            })
        )),
        "{events:#?}"
    );
}

#[test]
fn a_new_syn_on_the_same_ports_is_a_new_connection() {
    let server: Host = ([10, 0, 0, 1], 1883);
    let mut r = Run::new();
    // An unknown protocol, closed by FIN both ways…
    r.packet(1, tcp(CLIENT, server, 99, 0, SYN, b""));
    r.packet(1, tcp(server, CLIENT, 499, 100, SYN | ACK, b""));
    r.packet(
        1,
        tcp(
            CLIENT,
            server,
            100,
            500,
            ACK | PSH,
            b"\x01\x02\x03\x04\x05garbage",
        ),
    );
    r.packet(
        1,
        tcp(server, CLIENT, 500, 112, ACK | PSH, b"\x09\x09\x09\x09\x09"),
    );
    r.packet(1, tcp(CLIENT, server, 112, 505, ACK | FIN, b""));
    r.packet(1, tcp(server, CLIENT, 505, 113, ACK | FIN, b""));
    // …then MQTT on the same addresses and ports.
    r.packet(20, tcp(CLIENT, server, 9999, 0, SYN, b""));
    r.packet(20, tcp(server, CLIENT, 7777, 10000, SYN | ACK, b""));
    let connect = b"\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00";
    r.packet(20, tcp(CLIENT, server, 10000, 7778, ACK | PSH, connect));
    r.packet(
        20,
        tcp(server, CLIENT, 7778, 10014, ACK | PSH, b"\x20\x02\x00\x00"),
    );
    let (events, stats) = r.finish();
    assert_eq!(stats.connections, 2);
    assert_eq!(events.len(), 2, "CONNECT and CONNACK: {events:#?}");
    assert!(events.iter().all(|e| e.proto == AppProto::Mqtt));
    assert_eq!(events[0].index, 8);
}

#[test]
fn an_ack_captured_before_its_data_skips_nothing() {
    let server: Host = ([10, 0, 0, 1], 80);
    let mut r = Run::new();
    r.packet(1, tcp(CLIENT, server, 99, 0, SYN, b""));
    r.packet(1, tcp(server, CLIENT, 499, 100, SYN | ACK, b""));
    r.packet(1, tcp(CLIENT, server, 100, 500, ACK, b""));
    let req = b"GET /fw.bin HTTP/1.1\r\nHost: x\r\n\r\n";
    r.packet(2, tcp(CLIENT, server, 100, 500, ACK | PSH, req));
    let resp = b"HTTP/1.1 200 OK\r\nServer: tiny\r\nContent-Length: 2\r\n\r\nok";
    let cs = 100 + req.len() as u32;
    r.packet(
        2,
        tcp(CLIENT, server, cs, 500 + resp.len() as u32, ACK, b""),
    );
    r.packet(2, tcp(server, CLIENT, 500, cs, ACK | PSH, resp));
    let (events, stats) = r.finish();
    assert_eq!(stats.missed_bytes, 0);
    let AppRecord::Http(t) = &events[0].record else {
        panic!("{events:#?}")
    };
    assert_eq!(t.response.as_ref().map(|r| r.status), Some(200));
}

#[test]
fn events_of_an_idle_connection_name_its_own_packet() {
    let server: Host = ([10, 0, 0, 1], 80);
    let mut r = Run::new();
    r.packet(1, tcp(CLIENT, server, 99, 0, SYN, b""));
    r.packet(1, tcp(server, CLIENT, 499, 100, SYN | ACK, b""));
    r.packet(
        1,
        tcp(
            CLIENT,
            server,
            100,
            500,
            ACK | PSH,
            b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        ),
    );
    // Unrelated traffic until the connection is idle for more than 5 minutes.
    let (a, b): (Host, Host) = (([10, 0, 0, 9], 5555), ([10, 0, 0, 8], 7777));
    r.packet(2, tcp(a, b, 1, 1, ACK, b"zz"));
    r.packet(1000, tcp(a, b, 3, 1, ACK, b"zz"));
    let (events, _) = r.finish();
    let http: Vec<&AppEvent> = events
        .iter()
        .filter(|e| e.proto == AppProto::Http)
        .collect();
    assert_eq!(http.len(), 1, "the unanswered request: {events:#?}");
    assert_eq!(
        http[0].index, 2,
        "the request's packet, not the one that swept it"
    );
    assert_eq!(http[0].ts, 1_000_000_000);
}

#[test]
fn a_truncated_first_datagram_does_not_decide_a_shared_conversation() {
    // DHCP DISCOVERs on 0.0.0.0:68 → 255.255.255.255:67; the first one was cut by the snap
    // length.
    let mut d = vec![1u8, 1, 6, 0, 0, 0, 0, 1, 0, 0, 0, 0];
    d.extend_from_slice(&[0u8; 16]);
    d.extend_from_slice(&[0, 0x11, 0x22, 0x33, 0x44, 0x55]);
    d.extend_from_slice(&[0u8; 10]);
    d.extend_from_slice(&[0u8; 192]);
    d.extend_from_slice(&[99, 130, 83, 99, 53, 1, 1, 12, 3, b'c', b'a', b'm', 255]);
    let (client, broadcast): (Host, Host) = (([0, 0, 0, 0], 68), ([255, 255, 255, 255], 67));
    let mut r = Run::new();
    r.packet(1, udp_broadcast(client, broadcast, &d[..60]));
    for i in 0..3 {
        r.packet(2 + i, udp_broadcast(client, broadcast, &d));
    }
    let (events, _) = r.finish();
    let dhcp: Vec<&AppEvent> = events
        .iter()
        .filter(|e| matches!(e.record, AppRecord::Dhcp(_)))
        .collect();
    assert_eq!(dhcp.len(), 3, "{events:#?}");
    assert!(events.iter().all(|e| e.proto == AppProto::Dhcp));
}
