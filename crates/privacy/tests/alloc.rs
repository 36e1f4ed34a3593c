//! Addresses and MACs are pseudonymised without allocating: the cache is fixed at construction.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use custos_privacy::{Network, Policy, PseudonymKey, Pseudonymizer};

struct Counting;

thread_local! {
    /// Allocations of this thread (only the measuring thread's count: the test harness
    /// allocates on its own threads at any moment).
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: no counting while the thread's locals are torn down.
    let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
}

fn allocs() -> usize {
    ALLOCS.with(Cell::get)
}

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with `layout`.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn ip_and_mac_pseudonyms_allocate_nothing() {
    let key = PseudonymKey::from_parts([1; 32], [2; 32]);
    let kept: Network = "198.51.100.0/24".parse().unwrap();
    let mut p = Pseudonymizer::new(&key, Policy::default().with_keep_network(kept));
    let addrs: Vec<IpAddr> = (0..20_000u32)
        .flat_map(|i| {
            let v4 = IpAddr::V4(Ipv4Addr::from(i.wrapping_mul(2_654_435_761)));
            let v6 = IpAddr::V6(Ipv6Addr::from(u128::from(i) << 70 | 1));
            [v4, v6]
        })
        .collect();
    let before = allocs();
    let mut mapped = 0u32;
    for addr in &addrs {
        // A collision is an error value, not an allocation either.
        if p.ip(*addr).is_ok() {
            mapped += 1;
        }
        let [a, b, c, d] = mapped.to_be_bytes();
        std::hint::black_box(p.mac([0, 0x1a, a, b, c, d]));
    }
    assert_eq!(allocs() - before, 0);
    assert!(mapped > 39_000);
}
