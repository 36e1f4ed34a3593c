//! Default mode allocates nothing per packet once its tables have grown.

use custos_decode::wire::{FrameBuilder, Mac, UdpRepr};
use custos_decode::{ChecksumMode, Decoder, DecoderConfig};
use custos_features::{FeatureConfig, FeatureExtractor};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// An Ethernet/IPv4 frame carrying an empty UDP datagram.
fn udp4(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Vec<u8> {
    FrameBuilder::ipv4(
        Mac([2, 0, 0, 0, 0, 1]),
        Mac([2, 0, 0, 0, 0, 2]),
        src.into(),
        dst.into(),
    )
    .udp(&UdpRepr {
        src_port: sport,
        dst_port: dport,
        payload: &[],
    })
}

#[test]
fn default_mode_steady_state_allocates_nothing() {
    // Ever-new sources against a table limited to 256 entries: eviction keeps it bounded.
    let frames: Vec<Vec<u8>> = (0..20_000u32)
        .map(|i| {
            let [_, _, c, e] = i.to_be_bytes();
            udp4(
                [10, 0, c, e],
                1024 + (i % 300) as u16,
                [10, 9, 0, (i % 5) as u8],
                53,
            )
        })
        .collect();
    let mut decoder = Decoder::new(DecoderConfig {
        checksums: ChecksumMode::Ignore,
        ..DecoderConfig::default()
    });
    let mut fe = FeatureExtractor::new(FeatureConfig {
        max_streams: 256,
        max_pairs: 256,
        ..FeatureConfig::default()
    });
    let mut out = vec![0.0; fe.len()];
    let mut run = |from: usize, to: usize, fe: &mut FeatureExtractor| {
        for (i, f) in frames.iter().enumerate().take(to).skip(from) {
            let ts = i as i64 * 1_000_000;
            let d = decoder.decode(1, ts, f);
            assert!(fe.extract(ts, 60, &d, &mut out));
        }
    };
    run(0, 10_000, &mut fe);
    let before = ALLOCS.load(Ordering::Relaxed);
    run(10_000, 20_000, &mut fe);
    let after = ALLOCS.load(Ordering::Relaxed);
    assert!(fe.evicted() > 0);
    assert_eq!(after - before, 0, "allocations in steady state");
}
