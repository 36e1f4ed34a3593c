//! TLS handshake parser, both directions of one connection.
//!
//! Input: a script of steps, each a header byte `h` then its operand: `h & 1` is the direction
//! (0 to the server), `(h >> 1) & 3` the step — 0 or 3: data, the next byte `n` then `n`
//! bytes (fewer at the input's end); 1: a gap of `next byte + 1` bytes; 2: the direction ends.
//! Both directions are ended after the script. To reach the handshake parsers quickly, a first
//! header byte with `h & 0x80` wraps every data step of the client in a handshake record
//! (`16 03 01 len`), so the payload is read as handshake messages.
//! Properties: nothing panics; every event's offset lies within the stream positions of its
//! direction (bytes fed, record headers included, plus bytes missed); hello fingerprints are
//! well formed (JA3 hash 32 hex digits, JA4 36 characters with `_` at 10 and 23); certificate
//! validity strings are RFC 3339; `probe` of each direction's first bytes terminates.
#![no_main]

use custos_app::tls::{self, TlsEvent, TlsParser};
use custos_app::Direction;
use custos_fuzz::{keep_first, stream_steps, StreamStep};
use libfuzzer_sys::fuzz_target;

fn hex32(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fuzz_target!(|data: &[u8]| {
    let wrap = data.first().is_some_and(|h| h & 0x80 != 0);
    let mut p = TlsParser::new();
    let mut out = Vec::new();
    let mut pos = [0u64; 2];
    let mut first: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
    let dirs = [Direction::ToServer, Direction::ToClient];
    let mut buf = Vec::new();
    for step in stream_steps(data) {
        match step {
            StreamStep::Gap(dir, n) => {
                p.gap(dir, n);
                pos[usize::from(dir == Direction::ToClient)] += n;
            }
            StreamStep::End(dir) => p.end(dir, &mut out),
            StreamStep::Data(dir, chunk) => {
                buf.clear();
                if wrap && dir == Direction::ToServer {
                    buf.extend_from_slice(&[22, 3, 1, 0, chunk.len() as u8]);
                }
                buf.extend_from_slice(chunk);
                keep_first(&mut first, dir, &buf, 32);
                p.data(dir, &buf, &mut out);
                pos[usize::from(dir == Direction::ToClient)] += buf.len() as u64;
            }
        }
    }
    p.end(Direction::ToServer, &mut out);
    p.end(Direction::ToClient, &mut out);
    let _ = p.done();
    for (d, f) in first.iter().enumerate() {
        let _ = tls::probe(dirs[d], f);
    }
    for e in &out {
        let (dir, offset) = match e {
            TlsEvent::ClientHello(h) => {
                assert!(hex32(&h.ja3_hash), "{}", h.ja3_hash);
                let j = h.ja4.as_bytes();
                assert!(j.len() == 36 && j[10] == b'_' && j[23] == b'_', "{}", h.ja4);
                (Direction::ToServer, h.offset)
            }
            TlsEvent::ServerHello(h) => {
                assert!(hex32(&h.ja3s_hash));
                (Direction::ToClient, h.offset)
            }
            TlsEvent::Certificates(c) => {
                for x in &c.chain {
                    assert!(x.not_before.ends_with('Z') && x.not_after.ends_with('Z'));
                    assert_eq!(x.sha256.len(), 64);
                }
                (c.direction, c.offset)
            }
            TlsEvent::Alert(a) => (a.direction, a.offset),
            TlsEvent::Error(e) => (e.direction, e.offset),
        };
        let d = usize::from(dir == Direction::ToClient);
        assert!(offset <= pos[d], "{e:?} offset beyond {}", pos[d]);
    }
});
