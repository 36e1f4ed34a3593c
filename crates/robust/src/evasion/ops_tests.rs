//! Each transform keeps every frame decodable with good checksums and the attack working
//! (the functional check), and the check fails on transforms that break the attack.

use super::super::frame::tests::{decodes_cleanly, tcp, udp};
use super::super::frame::{be32, locate, ETHERNET};
use super::super::functional::{deadline, Broken, Effect};
use super::super::phase::{mark_directions, Pkt};
use super::*;

const A: [u8; 4] = [10, 0, 0, 66];
const V: [u8; 4] = [10, 0, 0, 1];

/// A telnet login and an HTTP request from the attacker, with the server's answers, 1 ms
/// apart.
fn session() -> Vec<Pkt> {
    let frames = vec![
        tcp(A, 40000, V, 23, 0x02, 100, b""),
        tcp(V, 23, A, 40000, 0x12, 900, b""),
        tcp(A, 40000, V, 23, 0x18, 101, b"root\r\n"),
        tcp(V, 23, A, 40000, 0x10, 901, b""),
        tcp(A, 40000, V, 23, 0x18, 107, b"xc3511\r\n"),
        tcp(
            A,
            40001,
            V,
            80,
            0x18,
            500,
            b"GET / HTTP/1.1\r\nHost: v\r\n\r\n",
        ),
        tcp(V, 80, A, 40001, 0x10, 77, b""),
        tcp(A, 40001, V, 80, 0x18, 527, b"GET /b HTTP/1.1\r\n\r\n"),
        udp(A, 5000, V, 5683, b"coap"),
    ];
    let mut p: Vec<Pkt> = frames
        .into_iter()
        .enumerate()
        .map(|(i, mut f)| {
            f.ts = 1_000_000_000 + i as i64 * 1_000_000;
            Pkt {
                frame: f,
                from_attacker: false,
                injected: false,
            }
        })
        .collect();
    // The answers to 80 carry ack numbers of the request stream.
    if let Some(x) = p.get_mut(6) {
        super::super::frame::put32(&mut x.frame.data, 42, 527);
        let l = locate(ETHERNET, &x.frame).unwrap();
        fix_checksums(&mut x.frame.data, &l);
    }
    mark_directions(ETHERNET, &mut p);
    p
}

fn effect(p: &[Pkt], factor: f64) -> Effect {
    let first = session()[0].frame.ts;
    let last = session().last().unwrap().frame.ts;
    Effect::of(p, ETHERNET, deadline(first, last, factor))
}

fn all_clean(p: &[Pkt]) {
    for (i, x) in p.iter().enumerate() {
        assert!(
            decodes_cleanly(&x.frame),
            "frame {i} does not decode cleanly"
        );
    }
    assert!(
        p.windows(2).all(|w| w[0].frame.ts <= w[1].frame.ts),
        "time order"
    );
}

#[test]
fn the_session_has_the_effects_the_check_reads() {
    let e = effect(&session(), 2.0);
    assert!(e.probed.contains(&(V.into(), 6, 23)));
    assert!(e.probed.contains(&(V.into(), 17, 5683)));
    let lines: Vec<&str> = e.telnet_lines.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(lines, vec!["root", "xc3511"]);
    assert_eq!(e.delivered["10.0.0.1"], 6);
}

#[test]
fn every_realizable_transform_keeps_frames_valid_and_the_attack_working() {
    let s = session();
    let e = effect(&s, 2.0);
    let cases: Vec<(&str, Vec<Pkt>)> = vec![
        ("delay", delay(&s, 1.9)),
        ("jitter", jitter(&s, 1.0, 7)),
        ("pace", pace(&s, 2.0)),
        ("sport", source_ports(&s, ETHERNET, 7)),
        ("ipid", ip_ids(&s, ETHERNET, 7)),
        ("nops", tcp_nops(&s, ETHERNET, 2)),
        ("split", split(&s, ETHERNET)),
        ("http", http_header(&s, ETHERNET, 40)),
    ];
    for (name, p) in cases {
        all_clean(&p);
        e.kept_by(&effect(&p, 2.0))
            .unwrap_or_else(|b| panic!("{name} broke the attack: {b}"));
    }
}

#[test]
fn split_segments_carry_consecutive_sequence_numbers() {
    let p = split(&session(), ETHERNET);
    assert_eq!(
        p.len(),
        session().len() + 4,
        "four attacker segments with payload"
    );
    let root: Vec<&Pkt> = p
        .iter()
        .filter(|x| {
            x.from_attacker && locate(ETHERNET, &x.frame).is_some_and(|l| l.payload < l.end)
        })
        .take(2)
        .collect();
    let seq = |x: &Pkt| be32(&x.frame.data, 38).unwrap();
    assert_eq!(seq(root[0]), 101);
    assert_eq!(seq(root[1]), 104);
    assert!(root[1].injected);
}

#[test]
fn http_padding_shifts_later_sequence_and_acknowledgement_numbers() {
    let p = http_header(&session(), ETHERNET, 40);
    let seq = |x: &Pkt| be32(&x.frame.data, 38).unwrap();
    let ack = |x: &Pkt| be32(&x.frame.data, 42).unwrap();
    assert_eq!(
        seq(&p[5]),
        500,
        "the padded request keeps its sequence number"
    );
    assert_eq!(p[5].frame.data.len(), session()[5].frame.data.len() + 40);
    assert_eq!(
        seq(&p[7]),
        527 + 40,
        "the second request moves by the first's padding"
    );
    assert_eq!(
        p[7].frame.data.len(),
        session()[7].frame.data.len() + 40,
        "and is padded too"
    );
    assert_eq!(
        ack(&p[6]),
        527 + 40,
        "the answer acknowledges the padded bytes"
    );
    let payload = &p[5].frame.data[54..];
    assert!(payload.starts_with(b"GET / HTTP/1.1\r\nX-Pad: aaa"));
}

#[test]
fn tcp_nops_grow_the_header_by_whole_words() {
    let p = tcp_nops(&session(), ETHERNET, 3);
    assert_eq!(p[0].frame.data[46] >> 4, 8);
    assert_eq!(&p[0].frame.data[54..66], &[1u8; 12]);
    assert_eq!(
        p[1].frame.data,
        session()[1].frame.data,
        "answers untouched"
    );
}

#[test]
fn chaff_copies_benign_datagrams_from_the_attacker() {
    let s = session();
    let pool = vec![udp([10, 0, 0, 9], 5353, [10, 0, 0, 53], 53, b"query")];
    let mac = [2, 0, 0, 0, 0, 66];
    let p = chaff(&s, ETHERNET, &pool, Some((mac, A.into())), 4, 3);
    assert_eq!(p.len(), s.len() + 4);
    all_clean(&p);
    let added: Vec<&Pkt> = p.iter().filter(|x| x.injected).collect();
    assert_eq!(added.len(), 4);
    for x in added {
        assert_eq!(&x.frame.data[26..30], &A);
        assert_eq!(&x.frame.data[6..12], &mac);
    }
    effect(&s, 2.0).kept_by(&effect(&p, 2.0)).unwrap();
}

#[test]
fn the_check_fails_on_transforms_that_break_the_attack() {
    let s = session();
    let e = effect(&s, 2.0);
    // Too slow: the last packets reach the server after the budget's deadline.
    let slow = delay(&s, 3.0);
    assert!(matches!(
        e.kept_by(&effect(&slow, 2.0)),
        Err(Broken::Delivered(..))
    ));
    // A split whose second half repeats the first half's sequence number garbles the login.
    let mut bad = split(&s, ETHERNET);
    let second = bad.iter().position(|x| x.injected).unwrap();
    super::super::frame::put32(&mut bad[second].frame.data, 38, 101);
    let l = locate(ETHERNET, &bad[second].frame).unwrap();
    fix_checksums(&mut bad[second].frame.data, &l);
    assert!(
        decodes_cleanly(&bad[second].frame),
        "well-formed, yet wrong"
    );
    assert!(matches!(
        e.kept_by(&effect(&bad, 2.0)),
        Err(Broken::TelnetLine(..))
    ));
    // Probing another port is not the same scan.
    let mut moved = s.clone();
    super::super::frame::put16(&mut moved[0].frame.data, 36, 2323);
    assert!(matches!(
        e.kept_by(&effect(&moved, 2.0)),
        Err(Broken::Probe(..))
    ));
    // Dropping the PUBLISH-less UDP probe loses a probed target too.
    let dropped: Vec<Pkt> = s.iter().take(8).cloned().collect();
    assert!(e.kept_by(&effect(&dropped, 2.0)).is_err());
}
