//! Application keywords added for Suricata compatibility, on hand-built HTTP transactions:
//! transforms of sticky buffers (and how they meet the prefilter), `base64_decode` on a
//! sticky buffer, `absent`, legacy content modifiers versus sticky-buffer aliases, and
//! transactional (`=>`) rules.

mod common;

use common::*;
use custos_app::http::{HttpRequest, HttpResponse, HttpTransaction};
use custos_app::{AppEvent, AppProto, AppRecord};
use std::net::IpAddr;

fn ip(a: [u8; 4]) -> IpAddr {
    IpAddr::from(a)
}

/// An HTTP transaction from CLIENT to SERVER, as custos's tracker reports it.
fn http(request: HttpRequest, response: Option<HttpResponse>) -> AppEvent {
    AppEvent {
        ts: 1_700_000_000 * SEC,
        file: 0,
        index: 1,
        proto: AppProto::Http,
        transport: 6,
        client: (ip(CLIENT.0), CLIENT.1),
        server: (ip(SERVER.0), SERVER.1),
        macs: [None, None],
        direction: custos_app::Direction::ToServer,
        community_id: std::sync::Arc::from(""),
        conn: 1,
        record: AppRecord::Http(Box::new(HttpTransaction {
            request: Some(request),
            response,
        })),
    }
}

fn get(uri: &str, headers: &[(&str, &str)]) -> HttpRequest {
    let mut block = Vec::new();
    for (n, v) in headers {
        block.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    HttpRequest {
        method: "GET".into(),
        uri: uri.into(),
        version: "1.1".into(),
        user_agent: headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("user-agent"))
            .map(|(_, v)| v.to_string()),
        headers: block,
        ..HttpRequest::default()
    }
}

fn ok(server: &str) -> HttpResponse {
    HttpResponse {
        offset: 0,
        version: "1.1".into(),
        status: 200,
        reason: "OK".into(),
        server: Some(server.into()),
        content_type: None,
        content_length: None,
        location: None,
        www_authenticate: None,
        body_len: 0,
        headers: format!("Server: {server}\r\n").into_bytes(),
        cookie: None,
        body: Vec::new(),
    }
}

#[test]
fn transforms_apply_before_inspection() {
    let mut s = Sensor::new(
        r#"
alert http any any -> any any (msg:"lowercase"; http.uri; to_lowercase; content:"/admin"; sid:1;)
alert http any any -> any any (msg:"url_decode"; http.uri; url_decode; content:"/a b'"; sid:2;)
alert http any any -> any any (msg:"before and after"; http.uri; content:"/ADMIN"; to_lowercase; content:"admin"; sid:3;)
alert http any any -> any any (msg:"dotprefix"; http.user_agent; dotprefix; content:".curl"; startswith; sid:4;)
alert http any any -> any any (msg:"sha256"; http.method; to_sha256; content:"|14 e3 0c d1|"; startswith; bsize:32; sid:5;)
alert http any any -> any any (msg:"pcrexform"; http.uri; pcrexform:"q=([^&]+)"; content:"x"; bsize:1; sid:6;)
alert http any any -> any any (msg:"base64 of the query"; http.uri; content:"&d="; from_base64:offset 13; content:"secret"; sid:7;)
alert http any any -> any any (msg:"nothing decodes: unchanged"; http.uri; from_base64:offset 9; content:"x&d="; sid:8;)
"#,
    );
    assert_eq!(
        s.event(&http(
            get("/ADMIN?q=x&d=c2VjcmV0", &[("User-Agent", "curl/8")]),
            None
        )),
        vec![1, 3, 4, 5, 6, 7, 8]
    );
    assert_eq!(s.event(&http(get("/a%20b%27", &[]), None)), vec![2, 5]);
}

#[test]
fn a_transformed_fast_pattern_does_not_hide_a_match() {
    // The only content is in a transformed buffer: the rule is evaluated without a
    // prefilter pattern (the raw uri holds "%41", not "A").
    let mut s = Sensor::new(
        r#"
alert http any any -> any any (msg:"decoded"; http.uri; url_decode; content:"/A"; fast_pattern; sid:1;)
alert http any any -> any any (msg:"raw part prefilters"; http.uri; content:"/%41"; http.uri; url_decode; content:"/A"; sid:2;)
"#,
    );
    assert_eq!(s.event(&http(get("/%41", &[]), None)), vec![1, 2]);
}

#[test]
fn transform_placement_and_contents_are_checked() {
    assert!(
        error_of("alert http any any -> any any (content:\"a\"; to_lowercase; sid:1;)")
            .contains("sticky buffer")
    );
    assert!(error_of(
        "alert http any any -> any any (http.uri; to_lowercase; content:\"A\"; sid:1;)"
    )
    .contains("to_lowercase"));
    assert!(error_of(
        "alert http any any -> any any (http.uri; strip_whitespace; content:\"a b\"; sid:1;)"
    )
    .contains("strip_whitespace"));
    assert!(error_of(
        "alert http any any -> any any (http.uri; to_lowercase; content:\"a\"; to_uppercase; content:\"B\"; sid:1;)"
    )
    .contains("sticky buffer"));
    assert!(error_of(
        "alert http any any -> any any (http.uri; to_lowercase; http.host; content:\"a\"; sid:1;)"
    )
    .contains("transforms"));
    // A sticky buffer needs a keyword.
    assert!(
        error_of("alert http any any -> any any (http.uri; http.host; content:\"a\"; sid:1;)")
            .contains("sticky buffer")
    );
    assert!(error_of("alert http any any -> any any (http.uri; sid:1;)").contains("sticky buffer"));
    // A negated content is not checked against the transforms.
    assert!(
        load("alert http any any -> any any (http.uri; to_lowercase; content:!\"A\"; sid:1;)")
            .errors
            .is_empty()
    );
    assert_eq!(
        skipped_by("alert http any any -> any any (http.uri; domain; content:\"a\"; sid:1;)"),
        "domain"
    );
}

#[test]
fn base64_decode_on_a_sticky_buffer() {
    let mut s = Sensor::new(
        r#"
alert http any any -> any any (msg:"cookie"; http.header; content:"token="; base64_decode:relative; base64_data; content:"admin"; sid:1;)
"#,
    );
    // "YWRtaW4=" is "admin".
    assert_eq!(
        s.event(&http(get("/", &[("X-A", "token=YWRtaW4=")]), None)),
        vec![1]
    );
    assert_eq!(
        s.event(&http(get("/", &[("X-A", "token=dXNlcg==")]), None)),
        NONE
    );
}

#[test]
fn absent_matches_missing_buffers_only() {
    let mut s = Sensor::new(
        r#"
alert http any any -> any any (msg:"no user agent"; http.user_agent; absent; sid:1;)
alert http any any -> any any (msg:"no user agent or not curl"; http.user_agent; absent: or_else; content:!"curl"; sid:2;)
alert http any any -> any any (msg:"or else positive"; http.uri; content:"/"; http.user_agent; absent: or_else; content:"wget"; sid:3;)
"#,
    );
    assert_eq!(s.event(&http(get("/", &[]), None)), vec![1, 2, 3]);
    assert_eq!(
        s.event(&http(get("/", &[("User-Agent", "curl/8")]), None)),
        NONE
    );
    assert_eq!(
        s.event(&http(get("/", &[("User-Agent", "wget")]), None)),
        vec![2, 3]
    );
    assert!(error_of(
        "alert http any any -> any any (http.user_agent; absent; content:\"a\"; sid:1;)"
    )
    .contains("absent"));
    assert!(
        error_of("alert http any any -> any any (http.user_agent; absent: or_else; sid:1;)")
            .contains("or_else")
    );
    assert!(error_of(
        "alert http any any -> any any (http.user_agent; content:\"a\"; absent: or_else; sid:1;)"
    )
    .contains("first"));
}

#[test]
fn only_legacy_modifiers_move_a_content() {
    // `http_header_names` after a content is a sticky buffer, as in Suricata; `http_method`
    // moves the content before it.
    let mut s = Sensor::new(
        r#"
alert http any any -> any any (msg:"m"; content:"GET"; http_method; http_header_names; content:"User-Agent"; sid:1;)
alert http any any -> any any (msg:"uricontent"; uricontent:"/A"; nocase; sid:2;)
"#,
    );
    assert_eq!(
        s.event(&http(get("/a", &[("User-Agent", "x")]), None)),
        vec![1, 2]
    );
}

#[test]
fn transactional_rules_read_both_sides_from_client_to_server() {
    let mut s = Sensor::new(
        r#"
alert http any any => any any (msg:"uri and status"; http.uri; content:"/download"; http.stat_code; content:"200"; sid:1;)
alert http any any => 10.0.0.2 any (msg:"header names the server"; http.uri; content:"/download"; http.server; content:"Apache"; sid:2;)
alert http any any => 192.168.1.10 any (msg:"the client is no destination"; http.uri; content:"/download"; http.server; content:"Apache"; sid:3;)
"#,
    );
    assert_eq!(
        s.event(&http(get("/download", &[]), Some(ok("Apache")))),
        vec![1, 2]
    );
    for bad in [
        "alert http any any => any any (http.uri; content:\"/\"; sid:1;)",
        "alert http any any => any any (http.uri; content:\"/\"; http.stat_code; content:\"200\"; flow:to_server; sid:1;)",
        "alert http any any => any any (http.uri; content:\"/\"; http.stat_code; content:\"200\"; http.header; content:\"a\"; sid:1;)",
    ] {
        assert!(error_of(bad).contains("transactional"), "{bad}");
    }
}
