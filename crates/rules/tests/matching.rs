//! End-to-end packet matching: rule text, loaded and compiled, against hand-built
//! Ethernet/IPv4/TCP and UDP frames decoded by `custos_decode`. Every test asserts which
//! rules (by sid) hit on which packet.

mod common;

use common::*;

#[test]
fn content_with_depth_offset_distance_within() {
    let mut s = Sensor::new(
        r#"
alert udp any any -> any any (msg:"depth"; content:"GET"; depth:3; sid:1;)
alert udp any any -> any any (msg:"offset+depth"; content:"admin"; offset:5; depth:7; sid:2;)
alert udp any any -> any any (msg:"distance+within"; content:"user="; content:"root"; distance:0; within:6; sid:3;)
alert udp any any -> any any (msg:"distance"; content:"A"; content:"Z"; distance:3; sid:4;)
alert udp any any -> any any (msg:"hex"; content:"|de ad|"; content:"|be ef|"; within:2; sid:5;)
"#,
    );
    assert_eq!(s.send(&u(b"GET /admin")), vec![1, 2]);
    // "GET" not in the first 3 bytes; "admin" at 6..11, inside offset 5 depth 7 (5..12).
    assert_eq!(s.send(&u(b" GET /admin")), vec![2]);
    // "admin" at 4: before the offset.
    assert_eq!(s.send(&u(b"GET admin")), vec![1]);
    // "admin" at 8..13: past offset 5 + depth 7 = 12.
    assert_eq!(s.send(&u(b"GET /../admin")), vec![1]);
    assert_eq!(s.send(&u(b"user= root")), vec![3]);
    assert_eq!(s.send(&u(b"user=  root")), vec![3]);
    // "root" ends 7 bytes after "user=": outside within 6.
    assert_eq!(s.send(&u(b"user=   root")), NONE);
    // "root" before "user=" does not count.
    assert_eq!(s.send(&u(b"root user=x")), NONE);
    assert_eq!(s.send(&u(b"A..Z")), NONE);
    assert_eq!(s.send(&u(b"A...Z")), vec![4]);
    // A later "A" is tried when the first one's relative match fails.
    assert_eq!(s.send(&u(b"A.Z A...Z")), vec![4]);
    assert_eq!(s.send(&u(b"\xde\xad\xbe\xef")), vec![5]);
    assert_eq!(s.send(&u(b"\xde\xad.\xbe\xef")), NONE);
}

#[test]
fn overlapping_occurrences_are_retried() {
    let mut s = Sensor::new(
        r#"alert udp any any -> any any (content:"aa"; content:"b"; distance:0; within:1; sid:1;)"#,
    );
    assert_eq!(s.send(&u(b"aaab")), vec![1]);
    assert_eq!(s.send(&u(b"aaac")), NONE);
}

#[test]
fn nocase_and_negated_content() {
    let mut s = Sensor::new(
        r#"
alert udp any any -> any any (msg:"nocase"; content:"PassWord"; nocase; sid:1;)
alert udp any any -> any any (msg:"case"; content:"PassWord"; sid:2;)
alert udp any any -> any any (msg:"login not secure"; content:"login"; content:!"secure"; sid:3;)
alert udp any any -> any any (msg:"negated relative"; content:"cmd="; content:!"ls"; distance:0; within:2; sid:4;)
alert udp any any -> any any (msg:"negated only"; content:!"hello"; dsize:>0; sid:5;)
"#,
    );
    assert_eq!(s.send(&u(b"password=1")), vec![1, 5]);
    assert_eq!(s.send(&u(b"PASSWORD=1")), vec![1, 5]);
    assert_eq!(s.send(&u(b"PassWord=1")), vec![1, 2, 5]);
    assert_eq!(s.send(&u(b"login")), vec![3, 5]);
    assert_eq!(s.send(&u(b"login secure")), vec![5]);
    assert_eq!(s.send(&u(b"hello login")), vec![3]);
    assert_eq!(s.send(&u(b"cmd=ls")), vec![5]);
    assert_eq!(s.send(&u(b"cmd=rm ls")), vec![4, 5]);
    assert_eq!(s.send(&u(b"")), NONE);
}

#[test]
fn pcre_dsize_isdataat_and_byte_keywords() {
    let mut s = Sensor::new(
        r#"
alert udp any any -> any any (msg:"pcre"; pcre:"/id=\d{3}(?:&|$)/"; sid:1;)
alert udp any any -> any any (msg:"pcre relative nocase"; content:"key"; pcre:"/^:\s*SECRET/Ri"; sid:2;)
alert udp any any -> any any (msg:"pcre negated"; content:"GET"; pcre:!"/HTTP\/1\.[01]/"; sid:3;)
alert udp any any -> any any (msg:"dsize"; dsize:>20; sid:4;)
alert udp any any -> any any (msg:"dsize range"; dsize:2<>5; sid:5;)
alert udp any any -> any any (msg:"at the end"; content:"END"; isdataat:!1,relative; sid:6;)
alert udp any any -> any any (msg:"byte_test"; content:"|ff|"; byte_test:2,>,1000,0,relative; sid:7;)
alert udp any any -> any any (msg:"byte_jump"; content:"|fe|"; byte_jump:1,0,relative; content:"X"; within:1; sid:8;)
"#,
    );
    assert_eq!(s.send(&u(b"id=123")), vec![1]);
    assert_eq!(s.send(&u(b"id=1234")), NONE);
    assert_eq!(s.send(&u(b"id=123&x")), vec![1]);
    assert_eq!(s.send(&u(b"KEY: secret")), NONE);
    assert_eq!(s.send(&u(b"key: secret")), vec![2]);
    assert_eq!(s.send(&u(b"key secret")), NONE);
    assert_eq!(s.send(&u(b"GET / HTTP/1.1")), NONE);
    assert_eq!(s.send(&u(b"GET / HTTP/2")), vec![3]);
    assert_eq!(s.send(&u(b"GET /")), vec![3]);
    assert_eq!(s.send(&u(b"123456789012345678901")), vec![4]);
    assert_eq!(s.send(&u(b"1234")), vec![5]);
    assert_eq!(s.send(&u(b"12345")), NONE);
    assert_eq!(s.send(&u(b"xx END")), vec![6]);
    assert_eq!(s.send(&u(b"xx END.")), NONE);
    // (3 bytes: dsize 2<>5 too.)
    assert_eq!(s.send(&u(b"\xff\x03\xe9")), vec![5, 7]);
    assert_eq!(s.send(&u(b"\xff\x03\xe8")), vec![5]);
    // Jump over 2 bytes after the length byte, then "X".
    assert_eq!(s.send(&u(b"\xfe\x02..X")), vec![8]);
    assert_eq!(s.send(&u(b"\xfe\x01..X")), NONE);
}

#[test]
fn tcp_flags() {
    let mut s = Sensor::new(
        r#"
alert tcp any any -> any any (msg:"syn only"; flags:S; sid:1;)
alert tcp any any -> any any (msg:"syn-ack"; flags:SA; sid:2;)
alert tcp any any -> any any (msg:"psh and more"; flags:+P; sid:3;)
alert tcp any any -> any any (msg:"any of F R"; flags:*FR; sid:4;)
alert tcp any any -> any any (msg:"not ack"; flags:!A; sid:5;)
"#,
    );
    assert_eq!(s.send(&tcp(CLIENT, SERVER, SYN, 1, 0, b"")), vec![1, 5]);
    assert_eq!(s.send(&tcp(SERVER, CLIENT, SYN_ACK, 1, 2, b"")), vec![2]);
    assert_eq!(s.send(&tcp(CLIENT, SERVER, PSH_ACK, 2, 2, b"x")), vec![3]);
    assert_eq!(s.send(&tcp(CLIENT, SERVER, FIN_ACK, 3, 2, b"")), vec![4]);
    assert_eq!(s.send(&tcp(CLIENT, SERVER, RST, 4, 0, b"")), vec![4, 5]);
}

#[test]
fn flow_established_to_server_only_after_the_handshake() {
    let rules = r#"
alert tcp any any -> any 80 (msg:"est to_server"; flow:established,to_server; content:"cmd"; sid:1;)
alert tcp any any -> any any (msg:"est to_client"; flow:established,to_client; content:"ok"; sid:2;)
alert tcp any any -> any any (msg:"not established"; flow:not_established; content:"cmd"; sid:3;)
alert tcp any any -> any any (msg:"to_server"; flow:to_server; content:"ok"; sid:4;)
"#;
    let mut s = Sensor::new(rules);
    let mut c = Conn::new(CLIENT, SERVER);
    // Data before any handshake: neither side has been seen both ways.
    assert_eq!(c.client_sends(&mut s, b"cmd"), vec![3]);

    let mut s = Sensor::new(rules);
    let mut c = Conn::new(CLIENT, SERVER);
    let syn = s.send(&tcp(c.client, c.server, SYN, c.cseq, 0, b"cmd"));
    assert_eq!(syn, vec![3], "a SYN is not established");
    c.cseq += 4;
    let syn_ack = s.send(&tcp(c.server, c.client, SYN_ACK, c.sseq, c.cseq, b""));
    assert!(syn_ack.is_empty());
    c.sseq += 1;
    assert_eq!(c.client_sends(&mut s, b"cmd"), vec![1]);
    assert_eq!(c.server_sends(&mut s, b"ok"), vec![2]);
    // "ok" sent by the client: to_server, not to_client.
    assert_eq!(c.client_sends(&mut s, b"ok"), vec![4]);
}

#[test]
fn flow_established_after_a_full_handshake() {
    let mut s = Sensor::new(
        r#"alert tcp any any -> any any (flow:established,to_server; dsize:0; flags:A; sid:1;)
alert tcp any any -> any any (flow:established,to_server; content:"GET"; sid:2;)"#,
    );
    let mut c = Conn::new(CLIENT, SERVER);
    let [syn, syn_ack, ack] = c.handshake(&mut s);
    assert!(syn.is_empty() && syn_ack.is_empty());
    assert_eq!(
        ack, NONE,
        "the handshake's last ACK without data sees the flow before it (as Suricata)"
    );
    assert_eq!(c.client_sends(&mut s, b"GET /"), vec![2]);
}

#[test]
fn flowbits_set_then_isset_on_a_later_packet() {
    let mut s = Sensor::new(
        r#"
alert tcp any any -> any any (msg:"isset"; flow:to_server; flowbits:isset,logged_in; content:"DATA"; sid:2;)
alert tcp any any -> any any (msg:"login"; flow:to_client; content:"230 "; flowbits:set,logged_in; flowbits:noalert; sid:1;)
alert tcp any any -> any any (msg:"isnotset"; flowbits:isnotset,logged_in; content:"DATA"; sid:3;)
alert tcp any any -> any any (msg:"toggle"; content:"toggle"; flowbits:toggle,t; sid:4;)
alert tcp any any -> any any (msg:"t set"; flowbits:isset,t; content:"query"; sid:5;)
"#,
    );
    let mut c = Conn::new(CLIENT, SERVER);
    c.handshake(&mut s);
    assert_eq!(c.client_sends(&mut s, b"DATA"), vec![3]);
    // The login reply sets the bit without alerting.
    assert_eq!(c.server_sends(&mut s, b"230 logged in"), NONE);
    assert_eq!(c.client_sends(&mut s, b"DATA"), vec![2]);
    // Another connection has its own bits.
    let mut other = Conn::new(([192, 168, 1, 11], 40001), SERVER);
    other.handshake(&mut s);
    assert_eq!(other.client_sends(&mut s, b"DATA"), vec![3]);
    // Toggle sets, then clears.
    assert_eq!(c.client_sends(&mut s, b"query"), NONE);
    assert_eq!(c.client_sends(&mut s, b"toggle"), vec![4]);
    assert_eq!(c.client_sends(&mut s, b"query"), vec![5]);
    assert_eq!(c.client_sends(&mut s, b"toggle"), vec![4]);
    assert_eq!(c.client_sends(&mut s, b"query"), NONE);
}

#[test]
fn flowbits_set_and_tested_on_the_same_packet() {
    // The setter is evaluated before the tester, whatever the load order.
    let mut s = Sensor::new(
        r#"
alert udp any any -> any any (msg:"tester"; flowbits:isset,seen; content:"x"; sid:2;)
alert udp any any -> any any (msg:"setter"; content:"x"; flowbits:set,seen; sid:1;)
"#,
    );
    assert_eq!(s.send(&u(b"x")), vec![1, 2]);
}

#[test]
fn threshold_limit_counts_per_window_of_packet_time() {
    let mut s = Sensor::new(
        r#"
alert udp any any -> any any (msg:"limit"; content:"ping"; threshold:type limit, track by_src, count 2, seconds 60; sid:1;)
alert udp any any -> any any (msg:"every 3rd"; content:"ping"; threshold:type threshold, track by_rule, count 3, seconds 60; sid:2;)
alert udp any any -> any any (msg:"df"; content:"ping"; detection_filter:track by_src, count 3, seconds 60; sid:3;)
"#,
    );
    let t0 = 1_800_000_000 * SEC;
    let mut got = Vec::new();
    for i in 0..5 {
        got.push(s.at(t0 + i * SEC).send(&u(b"ping")));
    }
    assert_eq!(
        got,
        vec![vec![1], vec![1], vec![2], vec![3], vec![3]],
        "limit: first 2; threshold: 3rd; detection_filter: after 3"
    );
    // Another source has its own by_src counters; by_rule is shared.
    let other = udp(([192, 168, 1, 99], 5000), ([10, 0, 0, 2], 9999), b"ping");
    assert_eq!(s.at(t0 + 6 * SEC).send(&other), vec![1, 2]);
    // A new window 60 s after the first match.
    assert_eq!(s.at(t0 + 61 * SEC).send(&u(b"ping")), vec![1]);
    assert_eq!(s.at(t0 + 62 * SEC).send(&u(b"ping")), vec![1]);
    // The limit is reached; the by_rule threshold's new window reaches its 3rd match.
    assert_eq!(s.at(t0 + 63 * SEC).send(&u(b"ping")), vec![2]);
}

#[test]
fn content_split_across_segments_matches_once_in_the_stream() {
    let mut s = Sensor::new(
        r#"
alert tcp any any -> any 80 (msg:"split"; flow:established,to_server; content:"/etc/passwd"; sid:1;)
alert tcp any any -> any 80 (msg:"split relative"; flow:established,to_server; content:"GET"; depth:3; content:"admin"; distance:0; sid:2;)
alert tcp any any -> any 80 (msg:"packet only"; flow:no_stream; content:"passwd"; sid:3;)
"#,
    );
    let mut c = Conn::new(CLIENT, SERVER);
    c.handshake(&mut s);
    assert_eq!(c.client_sends(&mut s, b"GET /etc/pa"), NONE);
    assert_eq!(c.client_sends(&mut s, b"sswd?ad"), vec![1]);
    assert_eq!(c.client_sends(&mut s, b"min HTTP/1.0\r\n"), vec![2]);
    // Later segments do not re-alert on what the window already matched.
    assert_eq!(c.client_sends(&mut s, b"Host: x\r\n\r\n"), NONE);
    // A retransmission adds nothing new.
    let f = tcp(
        c.client,
        c.server,
        PSH_ACK,
        c.cseq - 11,
        c.sseq,
        b"Host: x\r\n\r\n",
    );
    assert_eq!(s.send(&f), NONE);
    // The whole pattern in one packet: the packet matches (rule 3 too).
    assert_eq!(c.client_sends(&mut s, b"/etc/passwd"), vec![1, 3]);
}

#[test]
fn stream_window_is_per_direction() {
    let mut s =
        Sensor::new(r#"alert tcp any any -> any any (msg:"split"; content:"abcdef"; sid:1;)"#);
    let mut c = Conn::new(CLIENT, SERVER);
    c.handshake(&mut s);
    assert_eq!(c.client_sends(&mut s, b"abc"), NONE);
    // The other direction's bytes do not join this direction's.
    assert_eq!(c.server_sends(&mut s, b"def"), NONE);
    assert_eq!(c.client_sends(&mut s, b"def"), vec![1]);
}

#[test]
fn pass_rule_suppresses_alerts_on_its_flow() {
    let mut s = Sensor::new(
        r#"
alert tcp any any -> any any (msg:"any data"; content:"data"; sid:1;)
pass tcp 192.168.1.10 any -> any 80 (msg:"trusted"; content:"hello"; sid:2;)
alert tcp any any -> any any (msg:"hello"; content:"hello"; sid:3;)
"#,
    );
    let mut c = Conn::new(CLIENT, SERVER);
    c.handshake(&mut s);
    assert_eq!(c.client_sends(&mut s, b"data"), vec![1]);
    // The pass rule matches: no alert on this packet, nor on the rest of the flow.
    assert_eq!(c.client_sends(&mut s, b"hello data"), NONE);
    assert_eq!(c.client_sends(&mut s, b"data"), NONE);
    assert_eq!(c.server_sends(&mut s, b"data"), NONE);
    // Another client is not passed.
    let mut other = Conn::new(([192, 168, 1, 11], 40001), SERVER);
    other.handshake(&mut s);
    assert_eq!(other.client_sends(&mut s, b"hello data"), vec![1, 3]);
}

#[test]
fn address_and_port_negation_in_the_header() {
    let mut s = Sensor::new(
        r#"
alert udp !192.168.1.0/24 any -> any any (msg:"not from lan"; content:"q"; sid:1;)
alert udp any any -> any ![53,123] (msg:"not dns/ntp"; content:"q"; sid:2;)
alert udp [192.168.0.0/16,!192.168.1.10] any -> any any (msg:"lan but not .10"; content:"q"; sid:3;)
alert udp any [1024:,!40000] -> any any (msg:"high port but not 40000"; content:"q"; sid:4;)
alert udp $HOME_NET any -> !$HOME_NET any (msg:"outbound"; content:"q"; sid:5;)
alert udp any any <> 8.8.8.8 53 (msg:"either way"; content:"q"; sid:6;)
"#,
    );
    let lan10: Ep = ([192, 168, 1, 10], 40000);
    let lan11: Ep = ([192, 168, 1, 11], 40001);
    let wan: Ep = ([203, 0, 113, 5], 5000);
    let dns: Ep = ([8, 8, 8, 8], 53);
    let inside: Ep = ([10, 0, 0, 2], 9999);
    assert_eq!(s.send(&udp(lan10, inside, b"q")), vec![2]);
    assert_eq!(s.send(&udp(lan11, inside, b"q")), vec![2, 3, 4]);
    assert_eq!(s.send(&udp(lan11, dns, b"q")), vec![3, 4, 5, 6]);
    assert_eq!(s.send(&udp(dns, lan11, b"q")), vec![1, 2, 6]);
    assert_eq!(s.send(&udp(wan, inside, b"q")), vec![1, 2, 4]);
}

#[test]
fn hits_are_counted() {
    let mut s = Sensor::new(
        r#"alert udp any any -> any any (content:"a"; sid:1;)
alert udp any any -> any any (content:"b"; sid:2;)"#,
    );
    assert_eq!(s.send(&u(b"ab")), vec![1, 2]);
    assert_eq!(s.send(&u(b"a")), vec![1]);
    let counts = s.matcher.counts();
    assert_eq!(counts.hits, 3);
    assert_eq!(counts.matched, 3);
}

#[test]
fn relative_match_completed_segments_after_its_fast_pattern() {
    // The longest content (the prefilter's pattern) is in the first segment; the relative
    // content that completes the match comes two segments later.
    let mut s = Sensor::new(
        r#"alert tcp any any -> any 80 (msg:"late"; flow:to_server; content:"/etc/passwd"; content:"root"; distance:0; sid:1;)"#,
    );
    let mut c = Conn::new(CLIENT, SERVER);
    c.handshake(&mut s);
    assert_eq!(c.client_sends(&mut s, b"GET /etc/passwd"), NONE);
    assert_eq!(c.client_sends(&mut s, b" HTTP/1.0\r\n"), NONE);
    assert_eq!(c.client_sends(&mut s, b"X-User: root\r\n"), vec![1]);
    assert_eq!(c.client_sends(&mut s, b"\r\n"), NONE);
}

#[test]
fn udp_flow_is_established_once_seen_both_ways() {
    let mut s = Sensor::new(
        r#"alert udp any any -> any any (flow:established; content:"q"; sid:1;)
alert udp any any -> any any (flow:not_established; content:"q"; sid:2;)
alert udp any any -> any any (flow:to_client; content:"q"; sid:3;)"#,
    );
    let (a, b): (Ep, Ep) = (([192, 168, 1, 10], 5353), ([10, 0, 0, 2], 53));
    assert_eq!(s.send(&udp(a, b, b"q")), vec![2]);
    assert_eq!(s.send(&udp(a, b, b"q")), vec![2]);
    assert_eq!(s.send(&udp(b, a, b"q")), vec![1, 3]);
    assert_eq!(s.send(&udp(a, b, b"q")), vec![1]);
}

#[test]
fn threshold_both_alerts_once_per_window_after_count() {
    let mut s = Sensor::new(
        r#"alert udp any any -> any any (content:"x"; threshold:type both, track by_dst, count 3, seconds 10; sid:1;)"#,
    );
    let t0 = 1_800_000_000 * SEC;
    let got: Vec<Vec<u64>> = (0..5).map(|i| s.at(t0 + i * SEC).send(&u(b"x"))).collect();
    assert_eq!(got, vec![vec![], vec![], vec![1], vec![], vec![]]);
    // The window includes its last instant (t0 + 10 s), as Suricata's; the next starts after.
    let next: Vec<Vec<u64>> = (0..4)
        .map(|i| s.at(t0 + (10 + i) * SEC).send(&u(b"x")))
        .collect();
    assert_eq!(next, vec![vec![], vec![], vec![], vec![1]]);
}

#[test]
fn tcp_pkt_and_tcp_stream_headers() {
    let mut s = Sensor::new(
        r#"alert tcp-pkt any any -> any any (msg:"packet"; content:"abcdef"; sid:1;)
alert tcp-stream any any -> any any (msg:"stream"; content:"abcdef"; sid:2;)"#,
    );
    let mut c = Conn::new(CLIENT, SERVER);
    c.handshake(&mut s);
    assert_eq!(c.client_sends(&mut s, b"abc"), NONE);
    assert_eq!(c.client_sends(&mut s, b"def"), vec![2]);
    // A new occurrence ending in this packet's bytes is a new stream match.
    assert_eq!(c.client_sends(&mut s, b"abcdef"), vec![1, 2]);
    // A retransmission is no new stream data; the packet rule reads it again.
    let f = tcp(c.client, c.server, PSH_ACK, c.cseq - 6, c.sseq, b"abcdef");
    assert_eq!(s.send(&f), vec![1]);
}

#[test]
fn ip_only_rules_look_at_the_first_packet_of_each_direction() {
    let mut s = Sensor::new(r#"alert tcp any any -> any any (msg:"ip only"; sid:9;)"#);
    let mut c = Conn::new(CLIENT, SERVER);
    let [syn, syn_ack, ack] = c.handshake(&mut s);
    assert_eq!((syn, syn_ack, ack), (vec![9], vec![9], vec![]));
    assert_eq!(c.client_sends(&mut s, b"data"), NONE);
    assert_eq!(c.server_sends(&mut s, b"data"), NONE);
}

#[test]
fn a_retransmitted_request_alerts_once() {
    let mut s =
        Sensor::new(r#"alert tcp any any -> any any (msg:"admin"; content:"admin"; sid:7;)"#);
    let mut c = Conn::new(CLIENT, SERVER);
    c.handshake(&mut s);
    assert_eq!(c.client_sends(&mut s, b"GET /admin"), vec![7]);
    let again = tcp(
        c.client,
        c.server,
        PSH_ACK,
        c.cseq - 10,
        c.sseq,
        b"GET /admin",
    );
    assert_eq!(
        s.send(&again),
        NONE,
        "stream-only: the retransmission adds nothing"
    );
    // An RST's payload never joins the stream.
    let rst = tcp(c.client, c.server, RST | ACK, c.cseq, c.sseq, b"admin");
    assert_eq!(s.send(&rst), NONE);
}
