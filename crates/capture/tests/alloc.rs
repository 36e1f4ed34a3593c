//! Proves `next_packet` allocates nothing in steady state, on the mmap, vector and streaming
//! (gzip) paths.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

use custos_capture::{FileReader, PacketSource};

struct Counting;
static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
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

/// A pcapng (one IDB) followed by `n` EPBs of 100 bytes each, in LE.
fn pcapng(n: usize) -> Vec<u8> {
    let mut f = Vec::new();
    let shb: [u32; 7] = [0x0a0d_0d0a, 28, 0x1a2b_3c4d, 1, u32::MAX, u32::MAX, 28];
    shb.iter()
        .for_each(|w| f.extend_from_slice(&w.to_le_bytes()));
    let idb: [u32; 5] = [1, 20, 1, 0, 20];
    idb.iter()
        .for_each(|w| f.extend_from_slice(&w.to_le_bytes()));
    for i in 0..n {
        let head: [u32; 7] = [6, 132, 0, 0, i as u32, 100, 100];
        head.iter()
            .for_each(|w| f.extend_from_slice(&w.to_le_bytes()));
        f.extend(std::iter::repeat_n(i as u8, 100));
        f.extend_from_slice(&132u32.to_le_bytes());
    }
    f
}

fn drain_counting(r: &mut FileReader, expect: u64) {
    // Warm up: the first packets may size buffers.
    for _ in 0..10 {
        assert!(r.next_packet().unwrap().is_some());
    }
    let before = ALLOCS.load(Ordering::Relaxed);
    let mut n = 10u64;
    let mut sum = 0u64;
    while let Some(p) = r.next_packet().unwrap() {
        n += 1;
        sum += p.data.len() as u64;
    }
    let after = ALLOCS.load(Ordering::Relaxed);
    assert_eq!(n, expect);
    assert_eq!(sum, (expect - 10) * 100);
    assert_eq!(
        after - before,
        0,
        "allocations while reading {} packets",
        expect - 10
    );
}

#[test]
fn next_packet_does_not_allocate_in_steady_state() {
    // Bigger than the 1 MiB stream buffer, so the streaming path refills many times.
    let n = 40_000;
    let f = pcapng(n);
    let path = std::env::temp_dir().join(format!(
        "custos-capture-alloc-{}.pcapng",
        std::process::id()
    ));
    std::fs::write(&path, &f).unwrap();
    let mut mapped = FileReader::open(&path).unwrap();
    assert!(mapped.is_memory_mapped());
    drain_counting(&mut mapped, n as u64);
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(&f).unwrap();
    let gz = e.finish().unwrap();
    let mut streamed = FileReader::from_vec(gz, "gz").unwrap();
    assert!(streamed.is_gzip());
    drain_counting(&mut streamed, n as u64);
    let mut owned = FileReader::from_vec(f, "vec").unwrap();
    drain_counting(&mut owned, n as u64);
    std::fs::remove_file(&path).unwrap();
}
