//! Writes a SYN flood from IPv6 sources chosen so that the flow keys' *unkeyed* hashes
//! (FxHash, which the flow table used before `custos_flow::keyed_hash`) share their low
//! `BITS` bits — the input of a hash-flooding attack — or, with `random`, the same flood from
//! sources not chosen. docs/PERFORMANCE.md ("Hash flooding") compares `custos bench` on both.
//!
//! ```sh
//! cargo run --release -p custos-flow --example hash_flood_capture -- OUT.pcap N collide|random [BITS]
//! ```

use custos_capture::PcapWriter;
use custos_decode::wire::{tcp, FrameBuilder, Mac};
use custos_flow::{Addr, Endpoint, FlowKey};
use std::hash::BuildHasher;
use std::net::Ipv6Addr;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, out, n, how, rest @ ..] = args.as_slice() else {
        return Err("usage: hash_flood_capture OUT.pcap N collide|random [BITS]".into());
    };
    let n: usize = n.parse()?;
    let collide = how == "collide";
    let bits: u32 = rest.first().map_or(Ok(16), |b| b.parse())?;
    let mask = (1u64 << bits.min(63)) - 1;
    let dst = Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1);
    let file = std::io::BufWriter::new(std::fs::File::create(out)?);
    let mut pcap = PcapWriter::new(file, 1, 65535)?;
    // xorshift64: a fixed sequence of candidate sources.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let fx = rustc_hash::FxBuildHasher;
    let mut ts: i64 = 1_700_000_000_000_000_000;
    let mut written = 0;
    while written < n {
        let (r, r2) = (next(), next());
        let src = Ipv6Addr::from(
            (0x2001_0db8_u128 << 96) | u128::from(r >> 1) << 32 | u128::from(r2 as u32),
        );
        let sport = 1024 + ((r2 >> 32) as u16 % 60_000);
        let key = FlowKey::canonical(
            Endpoint {
                addr: Addr(src.octets()),
                port: sport,
            },
            Endpoint {
                addr: Addr(dst.octets()),
                port: 80,
            },
            6,
            [0, 0],
        )
        .0;
        if collide && fx.hash_one(key) & mask != 0 {
            continue;
        }
        let syn = tcp::Repr {
            src_port: sport,
            dst_port: 80,
            seq_number: r as u32,
            flags: tcp::flags::SYN,
            window_len: 64_240,
            ..tcp::Repr::default()
        };
        let frame = FrameBuilder::ipv6(Mac([2, 0, 0, 0, 0, 1]), Mac([2, 0, 0, 0, 0, 2]), src, dst)
            .tcp(&syn);
        ts += 10_000; // 100 000 packets/s
        pcap.write(ts, &frame, frame.len() as u32)?;
        written += 1;
    }
    Ok(())
}
