//! Packet keywords added for Suricata compatibility: the header sticky buffers, transforms on
//! them, `byte_extract` and `byte_math` variables, `byte_jump` from the end, `base64_decode`
//! on the payload, `flow.pkts`/`flow.bytes`, `detection_filter … unique_on`,
//! `app-layer-protocol` lists, and what Suricata refuses among them.

mod common;

use common::*;

#[test]
fn header_buffers_read_the_headers_as_sent() {
    let mut s = Sensor::new(
        r#"
alert ip any any -> any any (msg:"ipv4 id"; ipv4.hdr; content:"|12 34|"; offset:4; depth:2; sid:1;)
alert tcp any any -> any any (msg:"tcp dport"; tcp.hdr; content:"|00 50|"; offset:2; depth:2; sid:2;)
alert udp any any -> any any (msg:"udp len 12"; udp.hdr; content:"|00 0c|"; offset:4; depth:2; sid:3;)
alert ip any any -> any any (msg:"no ipv6 header"; ipv6.hdr; content:"|60|"; depth:1; sid:4;)
alert tcp any any -> any any (msg:"tcp header is 20 bytes"; tcp.hdr; bsize:20; sid:5;)
alert tcp any any -> any any (msg:"two buffers"; tcp.hdr; content:"|50 18|"; offset:12; depth:2; pkt_data; content:"GET"; sid:6;)
"#,
    );
    let mut c = Conn::new(CLIENT, SERVER);
    let [syn, _, _] = c.handshake(&mut s);
    assert_eq!(syn, vec![1, 2, 5]);
    assert_eq!(
        c.client_sends(&mut s, b"GET / HTTP/1.0\r\n\r\n"),
        vec![1, 2, 5, 6]
    );
    assert_eq!(s.send(&u(b"abcd")), vec![1, 3]);
}

#[test]
fn header_buffers_on_another_transport_are_refused() {
    assert!(
        error_of("alert udp any any -> any any (tcp.hdr; content:\"a\"; sid:1;)")
            .contains("another protocol")
    );
    assert!(
        error_of("alert tcp any any -> any any (udp.hdr; content:\"a\"; sid:1;)")
            .contains("another protocol")
    );
}

#[test]
fn byte_extract_feeds_later_keywords_of_its_buffer() {
    let mut s = Sensor::new(
        r#"
alert udp any any -> any any (msg:"length-prefixed"; content:"L"; byte_extract:1,0,len,relative; content:"END"; distance:len; within:3; sid:1;)
alert udp any any -> any any (msg:"compare"; byte_extract:1,0,first; byte_test:1,=,first,1; sid:2;)
alert udp any any -> any any (msg:"as text"; byte_extract:2,0,n,string,dec; isdataat:!n,relative; sid:3;)
alert udp any any -> any any (msg:"jump by it"; byte_extract:1,0,n; byte_jump:n,0,relative; content:"Z"; within:1; sid:4;)
"#,
    );
    // "L", length 2: two bytes skipped after the length byte, then "END".
    assert_eq!(s.send(&u(b"L\x02xxEND")), vec![1]);
    assert_eq!(s.send(&u(b"L\x02xxEN")), NONE);
    assert_eq!(s.send(&u(b"\x07\x07")), vec![2]);
    // "03" then three more bytes: isdataat:!3 after the digits fails; two more bytes pass.
    assert_eq!(s.send(&u(b"03ab")), vec![3]);
    assert_eq!(s.send(&u(b"\x01\x00Z")), vec![4]);
}

#[test]
fn byte_extract_moves_the_match_after_its_bytes() {
    // As Suricata: relative keywords after `byte_extract` start after the bytes it read.
    let mut s = Sensor::new(
        r#"
alert udp any any -> any any (msg:"after"; content:"K"; byte_extract:2,0,v,relative; content:"!"; within:1; sid:1;)
"#,
    );
    assert_eq!(s.send(&u(b"K\x00\x01!")), vec![1]);
    assert_eq!(s.send(&u(b"K!\x00\x01")), NONE);
}

#[test]
fn byte_math_computes_and_shares_slots_with_byte_extract() {
    let mut s = Sensor::new(
        r#"
alert udp any any -> any any (msg:"sum"; byte_extract:1,0,a; byte_math:bytes 1, offset 1, oper +, rvalue a, result sum; byte_test:1,=,sum,2; sid:1;)
alert udp any any -> any any (msg:"division by zero never matches"; byte_math:bytes 1, offset 0, oper /, rvalue 0, result q; sid:2;)
alert udp any any -> any any (msg:"shift"; byte_math:bytes 1, offset 0, oper <<, rvalue 4, result r; byte_test:1,=,r,1; sid:3;)
"#,
    );
    // 2 + 3 = 5 in the third byte.
    assert_eq!(s.send(&u(b"\x02\x03\x05")), vec![1]);
    assert_eq!(s.send(&u(b"\x02\x03\x06")), NONE);
    // 0x01 << 4 = 0x10.
    assert_eq!(s.send(&u(b"\x01\x10")), vec![3]);
}

#[test]
fn variables_must_be_defined_and_read_in_their_buffer() {
    assert!(
        error_of("alert udp any any -> any any (content:\"a\"; depth:nope; sid:1;)")
            .contains("unknown variable")
    );
    assert_eq!(
        skipped_by(
            "alert tcp any any -> any any (ipv4.hdr; byte_extract:1,0,v; tcp.hdr; byte_test:1,=,v,0; sid:1;)"
        ),
        "byte_extract"
    );
}

#[test]
fn byte_jump_from_the_end_and_of_zero_bytes() {
    let mut s = Sensor::new(
        r#"
alert udp any any -> any any (msg:"last 4"; byte_jump:0,0,from_end,post_offset -4; content:"TAIL"; within:4; sid:1;)
"#,
    );
    assert_eq!(s.send(&u(b"xxxxTAIL")), vec![1]);
    assert_eq!(s.send(&u(b"TAILxxxx")), NONE);
}

#[test]
fn transforms_on_a_header_buffer() {
    let mut s = Sensor::new(
        r#"
alert udp any any -> any any (msg:"md5 of the udp header"; udp.hdr; to_md5; bsize:16; sid:1;)
"#,
    );
    assert_eq!(s.send(&u(b"x")), vec![1]);
}

#[test]
fn base64_decode_on_the_payload() {
    let mut s = Sensor::new(
        r#"
alert udp any any -> any any (msg:"decoded"; content:"data="; base64_decode:relative; base64_data; content:"secret"; sid:1;)
alert udp any any -> any any (msg:"bytes and offset"; content:"data="; base64_decode:bytes 4, offset 1, relative; base64_data; content:"sec"; startswith; bsize:3; sid:2;)
"#,
    );
    // "c2VjcmV0" is "secret".
    assert_eq!(s.send(&u(b"data=c2VjcmV0")), vec![1]);
    assert_eq!(s.send(&u(b"data=_c2Vj")), vec![2]);
    assert_eq!(s.send(&u(b"data=cHVibGlj")), NONE);
}

#[test]
fn base64_data_rules() {
    assert!(
        error_of("alert udp any any -> any any (base64_data; content:\"a\"; sid:1;)")
            .contains("base64_decode")
    );
    assert!(error_of(
        "alert udp any any -> any any (base64_decode; base64_data; content:\"a\"; fast_pattern; sid:1;)"
    )
    .contains("fast_pattern"));
}

#[test]
fn flow_pkts_and_bytes_count_this_packet() {
    let mut s = Sensor::new(
        r#"
alert udp any any -> any any (msg:"third to server"; flow.pkts:toserver,3; sid:1;)
alert udp any any -> any any (msg:"both ways twice"; flow.pkts:both,>=2; sid:2;)
alert udp any any -> any any (msg:"old syntax"; flow.pkts_toclient:1; sid:3;)
alert udp any any -> any any (msg:"bytes"; flow.bytes:toserver,>120; sid:4;)
"#,
    );
    let back = |p: &[u8]| udp(([10, 0, 0, 2], 9999), CLIENT, p);
    // Each frame is 14 + 20 + 8 + 1 = 43 bytes.
    assert_eq!(s.send(&u(b"a")), NONE);
    assert_eq!(s.send(&back(b"b")), vec![3]);
    assert_eq!(s.send(&u(b"c")), vec![3]);
    assert_eq!(s.send(&back(b"d")), vec![2]);
    assert_eq!(s.send(&u(b"e")), vec![1, 2, 4]);
}

#[test]
fn detection_filter_counts_distinct_ports() {
    let mut s = Sensor::new(
        r#"
alert udp any any -> any any (msg:"scan"; dsize:1; detection_filter:track by_src, count 2, seconds 60, unique_on dst_port; sid:1;)
"#,
    );
    let to = |port| udp(CLIENT, ([10, 0, 0, 2], port), b"x");
    assert_eq!(s.send(&to(1)), NONE);
    assert_eq!(s.send(&to(1)), NONE);
    assert_eq!(s.send(&to(2)), NONE);
    assert_eq!(s.send(&to(3)), vec![1]);
    assert_eq!(s.send(&to(1)), vec![1]);
    assert!(error_of(
        "alert ip any any -> any any (detection_filter:track by_src, count 2, seconds 6, unique_on dst_port; sid:1;)"
    )
    .contains("ports"));
}

#[test]
fn app_layer_protocol_lists_and_negation() {
    let mut s = Sensor::new(
        r#"
alert tcp any any -> any any (msg:"not http"; app-layer-protocol:!http; sid:1;)
alert tcp any any -> any any (msg:"unknown or tls"; app-layer-protocol:unknown|tls; sid:2;)
alert tcp any any -> any any (msg:"http, final"; app-layer-protocol:http,final; sid:3;)
"#,
    );
    let mut c = Conn::new(CLIENT, SERVER);
    // Nothing recognised yet: a negation does not match, `unknown` does.
    let [syn, _, _] = c.handshake(&mut s);
    assert_eq!(syn, vec![2]);
    let get = tcp(
        c.client,
        c.server,
        PSH_ACK,
        c.cseq,
        c.sseq,
        b"GET / HTTP/1.0\r\n\r\n",
    );
    s.ts += SEC;
    let decoded = s.decoder.decode(1, s.ts, &get);
    let mut hits = Vec::new();
    s.matcher
        .packet(s.ts, (&decoded, &get, Some("http")), &mut hits);
    let sids: Vec<u64> = hits
        .iter()
        .map(|h| s.matcher.rules().rule(h.rule).unwrap().sid)
        .collect();
    assert_eq!(sids, vec![3]);
    assert_eq!(
        skipped_by("alert tcp any any -> any any (app-layer-protocol:http,to_client; sid:1;)"),
        "app-layer-protocol"
    );
    assert!(
        error_of("alert tcp any any -> any any (app-layer-protocol:!unknown; sid:1;)")
            .contains("negated")
    );
}

#[test]
fn icmp_id_and_seq_of_messages_that_have_them() {
    let mut s = Sensor::new(
        r#"
alert icmp any any -> any any (msg:"id"; icmp_id:21781; sid:1;)
alert icmp any any -> any any (msg:"seq"; icmp_seq:"2216"; sid:2;)
"#,
    );
    let icmp = |t: u8| {
        let mut l4 = vec![t, 0, 0, 0];
        l4.extend_from_slice(&21781u16.to_be_bytes());
        l4.extend_from_slice(&2216u16.to_be_bytes());
        l4.extend_from_slice(b"ping");
        ipv4(CLIENT.0, SERVER.0, 1, &l4)
    };
    assert_eq!(s.send(&icmp(8)), vec![1, 2]);
    assert_eq!(s.send(&icmp(0)), vec![1, 2]);
    // Destination unreachable has no identifier.
    assert_eq!(s.send(&icmp(3)), NONE);
}
