//! The hot path allocates nothing in steady state: after a warm-up, a long synthetic stream
//! with flows created and ended continuously (closes, SYN-flood embryos timing out, UDP and
//! ICMP flows, evictions at the table cap) makes zero heap allocations inside
//! `FlowTable::process` (and the decoder).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

#[path = "common/frames.rs"]
mod frames;

use custos_decode::{ChecksumMode, ChecksumPolicy, ChecksumSetting, Decoder, DecoderConfig};
use custos_flow::{ConnSummary, EndReason, Flow, FlowConfig, FlowSink, FlowTable, PacketMeta};
use frames::{frame, L4};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts allocations made by this thread while counting is on.
struct Counting;

thread_local! {
    static ON: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    let _ = ON.try_with(|on| {
        if on.get() {
            let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: forwarded unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A sink that reads the summary but formats nothing.
#[derive(Default)]
struct Tally {
    ended: u64,
    reasons: [u64; 4],
    pkts: u64,
    hist_len: u64,
    uid_mix: u64,
}

impl FlowSink for Tally {
    type Error = std::convert::Infallible;

    fn flow_ended(
        &mut self,
        flow: &Flow,
        s: &ConnSummary,
        reason: EndReason,
    ) -> Result<(), Self::Error> {
        self.ended += 1;
        self.reasons[reason as usize] += 1;
        self.pkts += s.orig.pkts + s.resp.pkts;
        self.hist_len += s.history().len() as u64;
        self.uid_mix ^= flow.uid_seed();
        Ok(())
    }
}

/// One synthetic conversation generator: runs a script per connection, then starts the next
/// connection with new ports.
struct Gen {
    id: u32,
    conn: u32,
    step: u32,
}

const TCP_SCRIPT: [(bool, u8, u16); 8] = [
    (true, 0x02, 0),    // SYN
    (false, 0x12, 0),   // SYN-ACK
    (true, 0x10, 0),    // ACK
    (true, 0x18, 100),  // data
    (false, 0x18, 300), // data back
    (true, 0x11, 0),    // FIN
    (false, 0x11, 0),   // FIN
    (true, 0x10, 0),    // ACK
];

impl Gen {
    /// Writes the generator's next packet into `buf`; returns its length.
    fn next(&mut self, buf: &mut [u8; 1600]) -> usize {
        let kind = (self.id + self.conn) % 4;
        let cli = [
            10,
            (self.id >> 8) as u8,
            self.id as u8,
            1 + (self.conn % 200) as u8,
        ];
        let srv = [192, 168, 0, 1 + (self.id % 50) as u8];
        let cport = 1024 + (self.conn.wrapping_mul(7919) % 60000) as u16;
        let (n, done) = match kind {
            // Full TCP connection.
            0 => {
                let (from_cli, flags, len) = TCP_SCRIPT[self.step as usize];
                let (cseq, sseq) = (1000 + self.conn, 90_000 + self.id);
                let sent_c = if self.step > 3 { 101 } else { 1 };
                let sent_s = if self.step > 4 { 301 } else { 1 };
                let cfin = u32::from(self.step > 5);
                let sfin = u32::from(self.step > 6);
                let n = if from_cli {
                    let seq = cseq + if self.step == 0 { 0 } else { sent_c };
                    let ack = if self.step == 0 {
                        0
                    } else {
                        sseq + sent_s + sfin
                    };
                    frame(buf, cli, srv, L4::Tcp(cport, 443, flags, seq, ack, len))
                } else {
                    let seq = sseq + if self.step == 1 { 0 } else { sent_s };
                    let ack = cseq + sent_c + cfin;
                    frame(buf, srv, cli, L4::Tcp(443, cport, flags, seq, ack, len))
                };
                (n, self.step as usize + 1 == TCP_SCRIPT.len())
            }
            // SYN flood: one SYN, never answered.
            1 => (
                frame(buf, cli, srv, L4::Tcp(cport, 80, 0x02, self.conn, 0, 0)),
                true,
            ),
            // UDP request and response.
            2 => {
                let n = if self.step == 0 {
                    frame(buf, cli, srv, L4::Udp(cport, 53, 40))
                } else {
                    frame(buf, srv, cli, L4::Udp(53, cport, 120))
                };
                (n, self.step == 1)
            }
            // ICMP echo and reply.
            _ => {
                let ty = if self.step == 0 { 8 } else { 0 };
                let (a, b) = if self.step == 0 {
                    (cli, srv)
                } else {
                    (srv, cli)
                };
                (frame(buf, a, b, L4::Icmp(ty, 0, cport, 56)), self.step == 1)
            }
        };
        if done {
            self.conn += 1;
            self.step = 0;
        } else {
            self.step += 1;
        }
        n
    }
}

#[test]
fn steady_state_process_allocates_nothing() {
    const GENS: u32 = 3000;
    const WARMUP: u64 = 1_500_000;
    const MEASURED: u64 = 2_000_000;
    let mut table = FlowTable::new(FlowConfig {
        max_flows: 60_000,
        ..FlowConfig::default()
    });
    let mut dec = Decoder::new(DecoderConfig {
        checksums: ChecksumMode::Ignore,
        ..DecoderConfig::default()
    });
    let mut policy = ChecksumPolicy::new(ChecksumSetting::Ignore);
    let mut sink = Tally::default();
    let mut gens: Vec<Gen> = (0..GENS)
        .map(|id| Gen {
            id,
            conn: 0,
            step: 0,
        })
        .collect();
    let mut buf = [0u8; 1600];
    let mut ts: i64 = 1_700_000_000_000_000_000;
    let mut run = |table: &mut FlowTable, sink: &mut Tally, from: u64, n: u64, count: bool| {
        for i in from..from + n {
            let g = &mut gens[(i % u64::from(GENS)) as usize];
            let len = g.next(&mut buf);
            ts += 100_000; // 100 µs per packet: 10 000 packets per second of packet time
            let meta = PacketMeta {
                ts,
                frame_len: len as u32,
                index: i,
                file: 0,
            };
            ON.with(|on| on.set(count));
            let d = dec.decode(1, ts, &buf[..len]);
            table.process(&meta, &d, &mut policy, sink).unwrap();
            ON.with(|on| on.set(false));
        }
    };
    // The counter works: one allocation while on is seen.
    ON.with(|on| on.set(true));
    let probe = std::hint::black_box(Box::new(7u64));
    ON.with(|on| on.set(false));
    drop(probe);
    assert_eq!(ALLOCS.with(Cell::get), 1);
    run(&mut table, &mut sink, 0, WARMUP, false);
    let (stats0, ended0, reasons0) = (table.stats(), sink.ended, sink.reasons);
    ALLOCS.with(|n| n.set(0));
    run(&mut table, &mut sink, WARMUP, MEASURED, true);
    let allocs = ALLOCS.with(Cell::get);
    let stats = table.stats();
    let created = stats.created - stats0.created;
    let ended = sink.ended - ended0;
    let r: Vec<u64> = (0..4).map(|i| sink.reasons[i] - reasons0[i]).collect();
    eprintln!(
        "measured {MEASURED} packets: {allocs} allocations; flows created {created}, ended \
         {ended} (timeout {}, reused {}, evicted {}, shutdown {}); held {}, peak {}, pool \
         slots in use {} of {}",
        r[0],
        r[1],
        r[2],
        r[3],
        table.len(),
        stats.peak,
        table.pool().in_use(),
        table.pool().slots()
    );
    assert!(created > 100_000 && ended > 100_000, "flows must churn");
    assert!(r[0] > 10_000, "timeouts must happen");
    assert!(r[2] > 10_000, "evictions must happen");
    assert_eq!(allocs, 0, "allocations per packet in steady state");
    let mut sink2 = Tally::default();
    table.finish(&mut sink2).unwrap();
    assert_eq!(table.pool().in_use(), 0, "every pool slot returned");
}
