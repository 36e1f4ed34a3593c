//! Throughput of the pseudonymisation constructions, without criterion.
//!
//! `cargo bench -p custos-privacy --bench cryptopan` prints one line per case: addresses (or
//! values) per second on one core. Inputs are generated before each timed loop from a fixed
//! seed; every result feeds a checksum so that nothing is optimised away.

use custos_test_support::SplitMix64 as Rng;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use custos_privacy::{CachedCryptoPan, CryptoPan, Policy, PseudonymKey, Pseudonymizer};

/// Runs `f` over `inputs` repeatedly for at least `min` and prints the rate.
fn measure<T: Copy>(label: &str, inputs: &[T], min: Duration, mut f: impl FnMut(T) -> u64) {
    let mut checksum = 0u64;
    for input in inputs.iter().take(1000) {
        checksum ^= f(*input); // warm-up
    }
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < min {
        for input in inputs {
            checksum = checksum.wrapping_add(f(black_box(*input)));
        }
        done += inputs.len() as u64;
    }
    let seconds = start.elapsed().as_secs_f64();
    let rate = done as f64 / seconds;
    println!(
        "{label:<44} {:>12.0} /s  {:>8.1} ns each  (checksum {:04x})",
        rate,
        1e9 / rate,
        checksum & 0xffff
    );
}

fn v4_bits(addr: Ipv4Addr) -> u64 {
    u64::from(u32::from(addr))
}

fn v6_bits(addr: Ipv6Addr) -> u64 {
    u128::from(addr) as u64
}

/// Seeded inputs: random addresses (no prefix repeats) and a site's worth of prefixes.
struct Inputs {
    random_v4: Vec<Ipv4Addr>,
    site_v4: Vec<Ipv4Addr>,
    random_v6: Vec<Ipv6Addr>,
    site_v6: Vec<Ipv6Addr>,
    macs: Vec<[u8; 6]>,
}

impl Inputs {
    fn new(rng: &mut Rng) -> Self {
        // 1 000 /24 networks, random hosts inside them; 64 of them as /64s for IPv6.
        let prefixes: Vec<u32> = (0..1000)
            .map(|_| (rng.next_u64() as u32) & 0xffff_ff00)
            .collect();
        Inputs {
            random_v4: (0..100_000)
                .map(|_| Ipv4Addr::from(rng.next_u64() as u32))
                .collect(),
            site_v4: (0..100_000)
                .map(|_| {
                    let prefix = prefixes[(rng.next_u64() % prefixes.len() as u64) as usize];
                    Ipv4Addr::from(prefix | (rng.next_u64() as u32 & 0xff))
                })
                .collect(),
            random_v6: (0..20_000)
                .map(|_| {
                    Ipv6Addr::from((u128::from(rng.next_u64()) << 64) | u128::from(rng.next_u64()))
                })
                .collect(),
            site_v6: (0..20_000)
                .map(|_| {
                    let prefix = u128::from(prefixes[(rng.next_u64() % 64) as usize]) << 96;
                    Ipv6Addr::from(prefix | u128::from(rng.next_u64()))
                })
                .collect(),
            macs: (0..10_000)
                .map(|_| {
                    let [_, _, a, b, c, d, e, f] = rng.next_u64().to_be_bytes();
                    [a, b, c, d, e, f]
                })
                .collect(),
        }
    }
}

fn main() {
    let min = Duration::from_millis(
        std::env::var("BENCH_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .unwrap_or(1500),
    );
    let key = PseudonymKey::from_parts([0x42; 32], [0x24; 32]);
    let pan = CryptoPan::new(key.cryptopan_key());
    let Inputs {
        random_v4,
        site_v4,
        random_v6,
        site_v6,
        macs,
    } = Inputs::new(&mut Rng(2024));

    measure(
        "ipv4 uncached (CryptoPan::encrypt_v4)",
        &random_v4,
        min,
        |a| v4_bits(pan.encrypt_v4(a)),
    );
    let mut cached = CachedCryptoPan::new(key.cryptopan_key());
    measure(
        "ipv4 cached, 1000 /24s (CachedCryptoPan)",
        &site_v4,
        min,
        |a| v4_bits(cached.encrypt_v4(a)),
    );
    let mut p = Pseudonymizer::new(&key, Policy::default());
    measure(
        "ipv4 cached, 1000 /24s (Pseudonymizer::ip)",
        &site_v4,
        min,
        |a| match p.ip(IpAddr::V4(a)) {
            Ok(IpAddr::V4(out)) => v4_bits(out),
            _ => 0,
        },
    );
    let mut cold = CachedCryptoPan::new(key.cryptopan_key());
    measure(
        "ipv4 random through the cache (all misses)",
        &random_v4,
        min,
        |a| v4_bits(cold.encrypt_v4(a)),
    );
    measure(
        "ipv4 inverse (CryptoPan::decrypt_v4)",
        &random_v4,
        min,
        |a| v4_bits(pan.decrypt_v4(a)),
    );
    measure(
        "ipv6 uncached (CryptoPan::encrypt_v6)",
        &random_v6,
        min,
        |a| v6_bits(pan.encrypt_v6(a)),
    );
    measure(
        "ipv6 cached, 64 /64s (CachedCryptoPan)",
        &site_v6,
        min,
        |a| v6_bits(cached.encrypt_v6(a)),
    );
    measure("mac (Pseudonymizer::mac)", &macs, min, |m| {
        u64::from(p.mac(m)[5])
    });
    let names: Vec<usize> = (0..1000).collect();
    let texts: Vec<String> = names
        .iter()
        .map(|i| format!("sensor-{i:04}.iot.lan"))
        .collect();
    measure("name (Pseudonymizer::name, 21 bytes)", &names, min, |i| {
        p.name(&texts[i]).len() as u64
    });
    let (hits, misses) = cached.stats();
    println!("prefix cache: {hits} hits, {misses} misses");
}
