//! The whole application stage: synthetic Ethernet/IPv4 TCP and UDP packets between two hosts,
//! their payloads from the input, through the decoder into `AppTracker` (content detection,
//! reassembly, every parser), the device inventory and the baseline findings.
//!
//! Input: records `sel(1) len(1) payload(len)`. `sel` bit 0: UDP instead of TCP; bit 1: the
//! server sends; bits 2–4: the service port (from a list of IoT ports per transport); bits 5–7:
//! TCP flags / sequence jumps. Properties: nothing panics; every event's packet index is one
//! of the packets fed; the inventory and findings serialise; the tracker's stats count every
//! event drained.
#![no_main]

use custos_app::{AppConfig, AppTracker};
use custos_decode::wire::{EthernetRepr, FrameBuilder, Ipv4Repr, Mac, TcpRepr, UdpRepr};
use custos_decode::{ChecksumMode, Decoder, DecoderConfig};
use custos_inventory::findings::{Findings, FindingsConfig};
use custos_inventory::inventory::{oui::OuiRegistry, Inventory, InventoryConfig};
use libfuzzer_sys::fuzz_target;
use std::net::Ipv4Addr;

const TCP_PORTS: [u16; 8] = [23, 80, 1883, 502, 21, 53, 443, 8080];
const UDP_PORTS: [u16; 8] = [53, 5353, 67, 161, 1900, 5683, 5684, 69];

fn frame(
    udp: bool,
    to_server: bool,
    port: u16,
    flags: u8,
    seq: u32,
    ack: u32,
    payload: &[u8],
) -> Vec<u8> {
    let (cmac, smac) = (Mac([2, 0, 0, 0, 0, 1]), Mac([2, 0, 0, 0, 0, 2]));
    let (cip, sip) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
    let (src_mac, dst_mac, src_ip, dst_ip, sp, dp) = if to_server {
        (cmac, smac, cip, sip, 40000, port)
    } else {
        (smac, cmac, sip, cip, port, 40000)
    };
    let ethernet = EthernetRepr {
        src_addr: src_mac,
        dst_addr: dst_mac,
        ..EthernetRepr::default()
    };
    let ip = Ipv4Repr {
        src_addr: src_ip,
        dst_addr: dst_ip,
        ident: 1,
        dont_frag: true,
        ..Ipv4Repr::default()
    };
    let b = FrameBuilder::new(ethernet, ip);
    if udp {
        b.udp(&UdpRepr {
            src_port: sp,
            dst_port: dp,
            payload,
        })
    } else {
        b.tcp(&TcpRepr {
            src_port: sp,
            dst_port: dp,
            seq_number: seq,
            ack_number: ack,
            flags,
            window_len: 0xffff,
            payload,
            ..TcpRepr::default()
        })
    }
}

fuzz_target!(|data: &[u8]| {
    let mut decoder = Decoder::new(DecoderConfig {
        checksums: ChecksumMode::Ignore,
        ..DecoderConfig::default()
    });
    let mut tracker = AppTracker::new(AppConfig {
        max_connections: 4,
        budget_bytes: 4096,
        per_stream_bytes: 1024,
        ..AppConfig::default()
    });
    let mut inventory = Inventory::new(InventoryConfig::default(), OuiRegistry::default());
    let mut findings = Findings::new(FindingsConfig {
        brute_force_failures: 2,
        modbus_learning_s: 0,
        ..FindingsConfig::default()
    });
    let mut seq = [1000u32, 5000u32];
    let mut rest = data;
    let mut index = 0u64;
    let mut drained = 0u64;
    while let [sel, len, tail @ ..] = rest {
        let n = usize::from(*len).min(tail.len());
        let (payload, next) = tail.split_at(n);
        rest = next;
        let udp = sel & 1 != 0;
        let to_server = sel & 2 == 0;
        let ports = if udp { UDP_PORTS } else { TCP_PORTS };
        let port = ports[usize::from((sel >> 2) & 7)];
        let mode = sel >> 5;
        let flags = match mode {
            0 => 0x02,
            1 => 0x12,
            5 => 0x11,
            6 => 0x04,
            _ => 0x18,
        };
        let d = usize::from(!to_server);
        if mode == 7 {
            seq[d] = seq[d].wrapping_add(u32::from(*len) * 7);
        }
        let f = frame(udp, to_server, port, flags, seq[d], seq[1 - d], payload);
        if !udp {
            seq[d] = seq[d].wrapping_add(n as u32 + u32::from(flags & 0x03 != 0));
        }
        let ts = 1_700_000_000_000_000_000 + index as i64 * 10_000_000;
        let decoded = decoder.decode(1, ts, &f);
        inventory.packet(ts, f.len() as u32, &decoded);
        tracker.packet(ts, 0, index, &decoded);
        for e in tracker.drain() {
            assert!(e.index <= index);
            drained += 1;
            inventory.event(&e);
            findings.event(&e);
        }
        index += 1;
    }
    tracker.finish();
    for e in tracker.drain() {
        drained += 1;
        inventory.event(&e);
        findings.event(&e);
    }
    assert_eq!(tracker.stats().events, drained);
    let t = |ts: i64| ts.to_string();
    let _ = inventory.to_json(&t).to_string();
    for f in findings.finish() {
        let _ = f.to_json(&t, &[]).to_string();
    }
});
