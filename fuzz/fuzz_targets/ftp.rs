//! FTP control-channel parser, both directions of one connection.
//!
//! Input: a script of steps, each a header byte `h` then its operand: `h & 1` is the direction
//! (0 to the server), `(h >> 1) & 3` the step — 0 or 3: data, the next byte `n` then `n`
//! bytes (fewer at the input's end); 1: a gap of `next byte + 1` bytes; 2: the direction ends.
//! Both directions are ended after the script.
//! Properties: nothing panics; command and reply offsets lie within the stream positions of
//! their direction (bytes fed plus bytes missed) and strictly increase; command words are
//! upper-case, at most 16 characters; `PASS` never keeps its argument; reply codes are
//! 100..=599 and a reply has at least one line; a login's password length is no larger than
//! the client bytes fed; `probe` of each direction's first bytes terminates.
#![no_main]

use custos_app::ftp::{self, FtpEvent, FtpParser};
use custos_app::Direction;
use custos_fuzz::{keep_first, stream_steps, StreamStep};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut p = FtpParser::new();
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
    let _ = p.done();
    for (d, f) in first.iter().enumerate() {
        let _ = ftp::probe(dirs[d], f);
    }
    let mut last = [None::<u64>; 2];
    for e in &out {
        match e {
            FtpEvent::Command(c) => {
                assert!(c.offset < pos[0], "command offset");
                assert!(last[0].is_none_or(|l| c.offset > l), "command offsets");
                last[0] = Some(c.offset);
                assert!(!c.command.is_empty() && c.command.len() <= 16);
                assert_eq!(c.command, c.command.to_ascii_uppercase());
                if c.command == "PASS" {
                    assert!(c.arg.is_none() && c.password_len.is_some());
                }
            }
            FtpEvent::Reply(r) => {
                assert!(r.offset < pos[1], "reply offset");
                assert!(last[1].is_none_or(|l| r.offset > l), "reply offsets");
                last[1] = Some(r.offset);
                assert!((100..=599).contains(&r.code) && r.lines >= 1);
            }
            FtpEvent::Login(l) => assert!(l.password_len as u64 <= pos[0]),
            FtpEvent::Error(e) => {
                let d = usize::from(e.direction == Direction::ToClient);
                assert!(e.offset <= pos[d], "error offset");
            }
        }
    }
});
