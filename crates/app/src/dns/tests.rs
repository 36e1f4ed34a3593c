//! Unit tests of the DNS parsers.

use super::*;
use crate::Direction;

/// Builds a name in wire form.
fn wire_name(name: &str) -> Vec<u8> {
    let mut v = Vec::new();
    for l in name.split('.').filter(|l| !l.is_empty()) {
        v.push(l.len() as u8);
        v.extend_from_slice(l.as_bytes());
    }
    v.push(0);
    v
}

/// A response to `www.example.com A` with a CNAME (compressed) and an A record, plus an
/// OPT record.
fn sample() -> Vec<u8> {
    let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 1];
    m.extend(wire_name("www.example.com"));
    m.extend([0, 1, 0, 1]);
    // CNAME: www.example.com -> web.example.com (pointer to "example" at 16)
    m.extend([
        0xc0, 12, 0, 5, 0, 1, 0, 0, 0x0e, 0x10, 0, 6, 3, b'w', b'e', b'b', 0xc0, 16,
    ]);
    // A: web.example.com (pointer to offset of "web" in the CNAME rdata)
    let web = 12 + 17 + 4 + 12;
    m.extend([0xc0, web as u8, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]);
    // OPT: class 1232, ext rcode 1
    m.extend([0, 0, 41, 0x04, 0xd0, 1, 0, 0, 0, 0, 0]);
    m
}

#[test]
fn parses_a_response() {
    let m = parse(&sample()).unwrap();
    assert_eq!(m.id, 0x1234);
    assert!(m.response && m.recursion_desired && m.recursion_available);
    assert_eq!(m.questions[0].name, "www.example.com");
    assert_eq!(m.questions[0].rrtype, 1);
    assert_eq!(m.answers.len(), 2);
    assert_eq!(m.answers[0].data, DnsRdata::Name("web.example.com".into()));
    assert_eq!(m.answers[0].ttl, 3600);
    assert_eq!(m.answers[1].name, "web.example.com");
    assert_eq!(m.answers[1].data, DnsRdata::A(Ipv4Addr::new(192, 0, 2, 1)));
    assert_eq!(m.additionals[0].rrtype, 41);
    assert_eq!(m.additionals[0].class, 1232);
    assert_eq!(m.rcode, 16, "extended rcode from OPT");
    assert_eq!(rcode_name(m.rcode), Some("BADVERS"));
    assert!(probe(&sample()));
}

#[test]
fn every_truncation_is_an_error_within_bounds() {
    let full = sample();
    for n in 0..full.len() {
        let r = parse(&full[..n]);
        let e = r.expect_err("truncated message parsed");
        assert!(e.offset <= n as u64, "offset {} > {n}", e.offset);
        let _ = probe(&full[..n]);
    }
}

#[test]
fn pointer_loops_end() {
    // Question name is a pointer to itself.
    let m = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1];
    assert_eq!(parse(&m).unwrap_err().kind, DnsErrorKind::PointerLoop);
    // Two pointers to each other, with a label in between.
    let m = [
        0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, b'a', 0xc0, 17, 0, 0xc0, 12, 0, 1, 0, 1,
    ];
    let e = parse(&m).unwrap_err().kind;
    assert!(matches!(
        e,
        DnsErrorKind::NameTooLong | DnsErrorKind::PointerLoop
    ));
    assert!(!probe(&m));
}

#[test]
fn pointer_out_of_range_and_bad_label() {
    let m = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 200, 0, 1, 0, 1];
    assert_eq!(parse(&m).unwrap_err().kind, DnsErrorKind::BadPointer);
    let m = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x41, 0, 0, 1, 0, 1];
    assert_eq!(parse(&m).unwrap_err().kind, DnsErrorKind::BadLabelType);
}

#[test]
fn long_names_are_refused() {
    let mut m = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    for _ in 0..5 {
        m.push(63);
        m.extend([b'a'; 63]);
    }
    m.extend([0, 0, 1, 0, 1]);
    assert_eq!(parse(&m).unwrap_err().kind, DnsErrorKind::NameTooLong);
}

#[test]
fn names_are_escaped_like_zeek() {
    let mut m = vec![0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
    m.extend([
        6, b'J', 0xe2, 0x80, 0x99, b'\\', b' ', 3, b'a', b'.', b'b', 0,
    ]);
    m.extend([0, 12, 0x80, 1]);
    let q = &parse(&m).unwrap().questions[0];
    assert_eq!(q.name, "J\\xe2\\x80\\x99\\x5c .a.b");
    assert!(q.unicast_response);
    assert_eq!(q.class, 1);
    // root
    let m = [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1];
    assert_eq!(parse(&m).unwrap().questions[0].name, "");
}

#[test]
fn rdata_types() {
    let mut m = vec![0, 1, 0x84, 0, 0, 0, 0, 5, 0, 0, 0, 0];
    let rr = |m: &mut Vec<u8>, t: u16, class: u16, data: &[u8]| {
        m.extend(wire_name("x.local"));
        m.extend(t.to_be_bytes());
        m.extend(class.to_be_bytes());
        m.extend(120u32.to_be_bytes());
        m.extend((data.len() as u16).to_be_bytes());
        m.extend(data);
    };
    rr(&mut m, 16, 0x8001, &[3, b'a', b'=', b'1', 0, 2, b'b', 0x00]);
    let mut srv = vec![0, 1, 0, 2, 0x1f, 0x90];
    srv.extend(wire_name("h.local"));
    rr(&mut m, 33, 1, &srv);
    let mut mx = vec![0, 10];
    mx.extend(wire_name("mail.local"));
    rr(&mut m, 15, 1, &mx);
    let mut soa = wire_name("ns.local");
    soa.extend(wire_name("root.local"));
    soa.extend([0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]);
    rr(&mut m, 6, 1, &soa);
    rr(
        &mut m,
        28,
        1,
        &[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    );
    let p = parse(&m).unwrap();
    assert!(p.authoritative);
    let a = &p.answers;
    assert_eq!(
        a[0].data,
        DnsRdata::Txt(vec!["a=1".into(), "".into(), "b\\x00".into()])
    );
    assert!(a[0].cache_flush && a[0].class == 1);
    assert_eq!(
        a[1].data,
        DnsRdata::Srv {
            priority: 1,
            weight: 2,
            port: 8080,
            target: "h.local".into()
        }
    );
    assert_eq!(
        a[2].data,
        DnsRdata::Mx {
            preference: 10,
            exchange: "mail.local".into()
        }
    );
    assert_eq!(
        a[3].data,
        DnsRdata::Soa {
            mname: "ns.local".into(),
            rname: "root.local".into(),
            serial: 7
        }
    );
    assert_eq!(a[4].data, DnsRdata::Aaaa("fe80::1".parse().unwrap()));
    assert!(probe(&m));
}

#[test]
fn bad_rdata_lengths() {
    let mut m = vec![
        0, 1, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 3,
    ];
    m.extend([1, 2, 3]);
    assert_eq!(parse(&m).unwrap_err().kind, DnsErrorKind::BadRdata);
    // TXT string running past the rdata
    let mut m = vec![
        0, 1, 0x80, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 16, 0, 1, 0, 0, 0, 1, 0, 2,
    ];
    m.extend([5, b'a', 0, 0]);
    assert_eq!(parse(&m).unwrap_err().kind, DnsErrorKind::BadRdata);
}

#[test]
fn sections_are_capped_but_counted() {
    let mut m = vec![0, 1, 0x80, 0, 0, 0, 0, 100, 0, 0, 0, 0];
    for i in 0..100u8 {
        m.extend([0, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 10, 0, 0, i]);
    }
    let p = parse(&m).unwrap();
    assert_eq!(p.answers.len(), MAX_RECORDS);
    assert_eq!(p.answer_count, 100);
}

#[test]
fn partial_keeps_what_parsed() {
    let full = sample();
    let cut = &full[..full.len() - 5];
    let (m, e) = parse_partial(cut).unwrap();
    assert_eq!(m.answers.len(), 2);
    assert_eq!(e.unwrap().kind, DnsErrorKind::Truncated);
}

#[test]
fn probe_rejects_noise() {
    assert!(!probe(b""));
    assert!(!probe(&[0; 12]));
    assert!(!probe(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    // opcode 3 (unassigned)
    let mut s = sample();
    s[2] = 0x80 | (3 << 3);
    assert!(!probe(&s));
}

#[test]
fn tcp_split_and_coalesced() {
    let msg = sample();
    let mut stream = Vec::new();
    for _ in 0..3 {
        stream.extend((msg.len() as u16).to_be_bytes());
        stream.extend(&msg);
    }
    for split in [1, 2, 3, 7, 50, stream.len()] {
        let mut p = DnsTcpParser::new();
        let mut out = Vec::new();
        for c in stream.chunks(split) {
            p.data(Direction::ToClient, c, &mut out);
        }
        p.end(Direction::ToClient, &mut out);
        assert!(!p.done());
        p.end(Direction::ToServer, &mut out);
        assert!(p.done());
        assert_eq!(out.len(), 3, "split {split}");
        assert!(out.iter().all(|e| matches!(e, DnsEvent::Message(_))));
    }
}

#[test]
fn tcp_gap_resync_and_errors() {
    let msg = sample();
    let mut framed = (msg.len() as u16).to_be_bytes().to_vec();
    framed.extend(&msg);
    let mut p = DnsTcpParser::new();
    let mut out = Vec::new();
    p.data(Direction::ToServer, &framed[..10], &mut out);
    p.gap(Direction::ToServer, 5);
    p.data(Direction::ToServer, &framed[20..], &mut out);
    assert!(out.is_empty());
    p.data(Direction::ToServer, &framed, &mut out);
    assert!(matches!(out.as_slice(), [DnsEvent::Message(_)]));
    // zero length, then a bad message, then end inside a message
    out.clear();
    p.data(
        Direction::ToServer,
        &[0, 0, 0, 3, 1, 2, 3, 0, 9, 1],
        &mut out,
    );
    p.end(Direction::ToServer, &mut out);
    let kinds: Vec<_> = out
        .iter()
        .map(|e| match e {
            DnsEvent::Error(e) => (e.kind, e.offset),
            DnsEvent::Message(_) => panic!("message"),
        })
        .collect();
    // 10 bytes, 5 missed, the rest of the first copy skipped, then a whole copy.
    let base = 2 * framed.len() as u64 - 5;
    assert_eq!(
        kinds,
        vec![
            (DnsErrorKind::EmptyMessage, base),
            (DnsErrorKind::Truncated, base + 2 + 2 + 3), // header cut at 3 bytes
            (DnsErrorKind::Incomplete, base + 7)
        ]
    );
}
