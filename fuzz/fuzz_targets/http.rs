//! HTTP/1.x parser, both directions of one connection.
//!
//! Input: a script of steps, each a header byte `h` then its operand: `h & 1` is the direction
//! (0 to the server), `(h >> 1) & 3` the step — 0 or 3: data, the next byte `n` then `n`
//! bytes (fewer at the input's end); 1: a gap of `next byte + 1` bytes; 2: the direction ends.
//! Both directions are ended after the script. A byte `h & 0x80` on the first step also
//! shrinks `max_header_bytes` to 64 so the limit is reached.
//! Properties: nothing panics; every error offset lies within the stream positions of its
//! direction (bytes fed plus bytes missed); request and response offsets too, and body lengths
//! never exceed them; `probe` of each direction's first bytes terminates; after both ends every
//! request fed is accounted for and none is emitted twice (request offsets are distinct; they
//! need not increase: a transaction is emitted when it completes, so a request evicted
//! unanswered from a full pipeline comes out before an older one whose response body runs
//! until the connection closes); responses come out in stream order.
#![no_main]

use custos_app::http::{self, HttpConfig, HttpEvent, HttpParser};
use custos_app::Direction;
use custos_fuzz::{keep_first, stream_steps, StreamStep};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let small = data.first().is_some_and(|h| h & 0x80 != 0);
    let cfg = HttpConfig {
        max_header_bytes: if small { 64 } else { 16 * 1024 },
    };
    let mut p = HttpParser::new(cfg);
    let mut out = Vec::new();
    let mut pos = [0u64; 2];
    let mut first: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let dirs = [Direction::ToServer, Direction::ToClient];
    for step in stream_steps(data) {
        match step {
            StreamStep::Gap(dir, n) => {
                p.gap(dir, n);
                pos[usize::from(dir == Direction::ToClient)] += n;
            }
            StreamStep::End(dir) => p.end(dir, &mut out),
            StreamStep::Data(dir, chunk) => {
                keep_first(&mut first, dir, chunk, 32);
                p.data(dir, chunk, &mut out);
                pos[usize::from(dir == Direction::ToClient)] += chunk.len() as u64;
            }
        }
    }
    p.end(Direction::ToServer, &mut out);
    p.end(Direction::ToClient, &mut out);
    for (d, f) in first.iter().enumerate() {
        let _ = http::probe(dirs[d], f);
    }
    let mut requests = std::collections::HashSet::new();
    let mut last_response = None::<u64>;
    for e in &out {
        match e {
            HttpEvent::Error(e) => {
                let d = usize::from(e.direction == Direction::ToClient);
                assert!(e.offset <= pos[d], "error offset {} > {}", e.offset, pos[d]);
            }
            HttpEvent::Transaction(t) => {
                if let Some(q) = &t.request {
                    assert!(
                        q.offset < pos[0].max(1),
                        "request offset {} / {}",
                        q.offset,
                        pos[0]
                    );
                    assert!(
                        q.body_len <= pos[0],
                        "request body {} / {}",
                        q.body_len,
                        pos[0]
                    );
                    assert!(requests.insert(q.offset), "request emitted twice");
                }
                if let Some(r) = &t.response {
                    assert!(
                        r.offset <= pos[1],
                        "response offset {} / {}",
                        r.offset,
                        pos[1]
                    );
                    assert!(
                        r.body_len <= pos[1],
                        "response body {} / {}",
                        r.body_len,
                        pos[1]
                    );
                    // 0.9 responses start where the previous one ended, possibly the same
                    // position for an empty one.
                    assert!(
                        last_response.is_none_or(|l| r.offset >= l),
                        "response out of order"
                    );
                    last_response = Some(r.offset);
                }
            }
        }
    }
});
