use super::syntax::base64_decode;
use super::*;

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

fn txs(out: &[HttpEvent]) -> Vec<&HttpTransaction> {
    out.iter()
        .filter_map(|e| match e {
            HttpEvent::Transaction(t) => Some(t),
            _ => None,
        })
        .collect()
}

fn errors(out: &[HttpEvent]) -> Vec<HttpErrorKind> {
    out.iter()
        .filter_map(|e| match e {
            HttpEvent::Error(e) => Some(e.kind),
            _ => None,
        })
        .collect()
}

fn run(steps: &[(Direction, &[u8])]) -> (HttpParser, Vec<HttpEvent>) {
    let mut p = HttpParser::new(HttpConfig::default());
    let mut out = Vec::new();
    for (d, b) in steps {
        p.data(*d, b, &mut out);
    }
    (p, out)
}

const REQS: &[u8] = b"GET /a HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t/1\r\n\r\n\
POST /b?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello\
HEAD /c HTTP/1.0\r\nReferer: http://r/\r\n\r\n";
const RESPS: &[u8] = b"HTTP/1.1 200 OK\r\nServer: s\r\nTransfer-Encoding: chunked\r\n\r\n\
5;ext=1\r\nabcde\r\n3\r\nfgh\r\n0\r\nTrailer: x\r\n\r\n\
HTTP/1.1 100 Continue\r\n\r\n\
HTTP/1.1 201 Created\r\nContent-Length: 2\r\nLocation: /b/1\r\n\r\nok\
HTTP/1.0 200 OK\r\nContent-Length: 1000\r\n\r\n";

fn check_pipeline(out: &[HttpEvent]) {
    let t = txs(out);
    assert_eq!(t.len(), 3, "{out:?}");
    let (q, r) = (
        t[0].request.as_ref().unwrap(),
        t[0].response.as_ref().unwrap(),
    );
    assert_eq!(
        (q.method.as_str(), q.uri.as_str(), q.version.as_str()),
        ("GET", "/a", "1.1")
    );
    assert_eq!(q.host.as_deref(), Some("example.com"));
    assert_eq!(q.user_agent.as_deref(), Some("t/1"));
    assert_eq!((r.status, r.reason.as_str(), r.body_len), (200, "OK", 8));
    assert_eq!(r.server.as_deref(), Some("s"));
    let (q, r) = (
        t[1].request.as_ref().unwrap(),
        t[1].response.as_ref().unwrap(),
    );
    assert_eq!(
        (q.method.as_str(), q.body_len, q.content_length),
        ("POST", 5, Some(5))
    );
    assert_eq!(q.offset, 55);
    assert_eq!((r.status, r.body_len), (201, 2));
    assert_eq!(r.location.as_deref(), Some("/b/1"));
    let (q, r) = (
        t[2].request.as_ref().unwrap(),
        t[2].response.as_ref().unwrap(),
    );
    assert_eq!((q.method.as_str(), q.version.as_str()), ("HEAD", "1.0"));
    assert_eq!(q.referer.as_deref(), Some("http://r/"));
    assert_eq!(
        (r.status, r.body_len, r.content_length),
        (200, 0, Some(1000))
    );
    assert!(errors(out).is_empty(), "{out:?}");
}

#[test]
fn pipelining_chunked_trailers_continue_and_head() {
    let (_, out) = run(&[(C, REQS), (S, RESPS)]);
    check_pipeline(&out);
}

#[test]
fn split_at_every_offset() {
    for cut in 0..REQS.len().max(RESPS.len()) {
        let (c, s) = (cut.min(REQS.len()), cut.min(RESPS.len()));
        let (_, out) = run(&[
            (C, &REQS[..c]),
            (C, &REQS[c..]),
            (S, &RESPS[..s]),
            (S, &RESPS[s..]),
        ]);
        check_pipeline(&out);
    }
    // Byte by byte.
    let mut p = HttpParser::new(HttpConfig::default());
    let mut out = Vec::new();
    for b in REQS.chunks(1) {
        p.data(C, b, &mut out);
    }
    for b in RESPS.chunks(1) {
        p.data(S, b, &mut out);
    }
    check_pipeline(&out);
}

#[test]
fn truncation_at_every_offset_never_panics() {
    for cut in 0..=REQS.len().max(RESPS.len()) {
        let mut p = HttpParser::new(HttpConfig::default());
        let mut out = Vec::new();
        p.data(C, &REQS[..cut.min(REQS.len())], &mut out);
        p.data(S, &RESPS[..cut.min(RESPS.len())], &mut out);
        p.end(C, &mut out);
        p.end(S, &mut out);
        assert!(p.done());
    }
}

#[test]
fn until_close_and_unanswered() {
    let mut p = HttpParser::new(HttpConfig::default());
    let mut out = Vec::new();
    p.data(
        C,
        b"GET / HTTP/1.0\r\n\r\nGET /2 HTTP/1.0\r\n\r\n",
        &mut out,
    );
    p.data(S, b"HTTP/1.0 200 OK\r\n\r\n0123456789", &mut out);
    assert!(txs(&out).is_empty());
    p.end(S, &mut out);
    let t = txs(&out);
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].response.as_ref().unwrap().body_len, 10);
    assert_eq!(t[1].request.as_ref().unwrap().uri, "/2");
    assert!(t[1].response.is_none());
}

#[test]
fn no_body_statuses_and_connect_tunnel() {
    let (p, out) = run(&[
        (C, b"GET / HTTP/1.1\r\n\r\nGET /x HTTP/1.1\r\n\r\nCONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n"),
        (S, b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"),
        (S, b"HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x01\x00\x05hello"),
        (C, b"\x16\x03\x01 GET / HTTP/1.1\r\n\r\n"),
    ]);
    let t = txs(&out);
    assert_eq!(t.len(), 3, "{out:?}");
    assert_eq!(t[0].response.as_ref().unwrap().status, 304);
    assert_eq!(t[1].response.as_ref().unwrap().status, 204);
    assert_eq!(t[2].request.as_ref().unwrap().method, "CONNECT");
    assert_eq!(t[2].request.as_ref().unwrap().uri, "h:443");
    assert!(p.done());
    assert!(errors(&out).is_empty());
}

#[test]
fn basic_auth_username_and_password_length() {
    // "test:1:34"
    let (_, out) = run(&[
        (C, b"GET / HTTP/1.0\r\nAuthorization: Basic dGVzdDoxOjM0\r\n\r\n"),
        (S, b"HTTP/1.0 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n"),
    ]);
    let t = txs(&out);
    let q = t[0].request.as_ref().unwrap();
    assert_eq!(q.authorization_scheme.as_deref(), Some("Basic"));
    assert_eq!(q.basic_user.as_deref(), Some("test"));
    assert_eq!(q.basic_password_len, Some(4));
    assert!(!q.basic_default_credential);
    let r = t[0].response.as_ref().unwrap();
    assert_eq!(r.www_authenticate.as_deref(), Some("Basic realm=\"x\""));
    assert_eq!(base64_decode(b"YQ").as_deref(), Some(&b"a"[..]));
    assert_eq!(base64_decode(b"YWI="), Some(b"ab".to_vec()));
    assert_eq!(base64_decode(b"Y"), None);
    assert_eq!(base64_decode(b"Y!=="), None);
}

#[test]
fn http_09() {
    let mut p = HttpParser::new(HttpConfig::default());
    let mut out = Vec::new();
    p.data(C, b"GET /zeek.html\r\n", &mut out);
    p.data(S, b"<html>hi</html>\n", &mut out);
    p.end(C, &mut out);
    p.end(S, &mut out);
    let t = txs(&out);
    assert_eq!(t.len(), 1, "{out:?}");
    let (q, r) = (
        t[0].request.as_ref().unwrap(),
        t[0].response.as_ref().unwrap(),
    );
    assert_eq!((q.uri.as_str(), q.version.as_str()), ("/zeek.html", "0.9"));
    assert_eq!((r.status, r.version.as_str(), r.body_len), (0, "0.9", 16));
}

/// The request-smuggling variants of Zeek's issue 261: each hides a second request behind
/// a confusing frame; both must be seen.
#[test]
fn smuggled_requests_are_seen() {
    let cases: [(&[u8], &[HttpErrorKind]); 8] = [
        (b"POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\n\r\n", &[HttpErrorKind::BadChunk]),
        (b"POST / HTTP/1.1\r\nHost: target\r\nContent-Length: 18446744073709551615\r\n\r\n", &[HttpErrorKind::BadContentLength]),
        (b"POST / HTTP/1.1\r\nHost: target\r\nContent-Length: -1\r\n\r\n", &[HttpErrorKind::BadContentLength]),
        (b"POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding: chunked\r\nContent-Length: 50\r\n\r\n0\r\n\r\n", &[HttpErrorKind::ConflictingFraming]),
        (b"POST / HTTP/1.1\r\nHost: target\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n", &[]),
        (b"POST / HTTP/1.1\r\nHost: target\r\nContent-Length: 00000000000000000000000000000050\r\n\r\nXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", &[]),
        (b"POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", &[HttpErrorKind::BadTransferEncoding]),
        (b"POST / HTTP/1.1\r\nHost: target\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", &[HttpErrorKind::BadTransferEncoding]),
    ];
    for (head, errs) in cases {
        let mut bytes = head.to_vec();
        bytes.extend_from_slice(b"GET /smuggled HTTP/1.1\r\nHost: target\r\n\r\n");
        let mut p = HttpParser::new(HttpConfig::default());
        let mut out = Vec::new();
        p.data(C, &bytes, &mut out);
        p.end(C, &mut out);
        p.end(S, &mut out);
        let uris: Vec<_> = txs(&out)
            .iter()
            .map(|t| t.request.as_ref().unwrap().uri.clone())
            .collect();
        assert_eq!(
            uris,
            ["/", "/smuggled"],
            "{}",
            String::from_utf8_lossy(head)
        );
        assert_eq!(errors(&out), errs, "{}", String::from_utf8_lossy(head));
    }
}

#[test]
fn gap_inside_body_keeps_framing_gap_elsewhere_resyncs() {
    let mut p = HttpParser::new(HttpConfig::default());
    let mut out = Vec::new();
    p.data(
        C,
        b"GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n",
        &mut out,
    );
    p.data(
        S,
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789",
        &mut out,
    );
    p.gap(S, 80);
    p.data(
        S,
        b"0123456789HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        &mut out,
    );
    let t = txs(&out);
    assert_eq!(t.len(), 2, "{out:?}");
    assert_eq!(t[0].response.as_ref().unwrap().body_len, 100);
    assert_eq!(t[1].response.as_ref().unwrap().status, 404);
    // A gap in the headers: the response in progress is lost, the waiting request is
    // emitted alone, the next response is found again.
    p.data(C, b"GET /3 HTTP/1.1\r\n\r\n", &mut out);
    p.data(S, b"HTTP/1.1 200 OK\r\nContent-", &mut out);
    p.gap(S, 30);
    let n = out.len();
    p.data(
        S,
        b"garbage\r\nHTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n",
        &mut out,
    );
    let t = txs(&out[n..]);
    assert_eq!(t.len(), 2, "{out:?}");
    assert_eq!(t[0].request.as_ref().unwrap().uri, "/3");
    assert!(t[0].response.is_none());
    assert!(t[1].request.is_none());
    assert_eq!(t[1].response.as_ref().unwrap().status, 500);
}

#[test]
fn oversized_headers_and_bad_heads() {
    let mut p = HttpParser::new(HttpConfig {
        max_header_bytes: 64,
    });
    let mut out = Vec::new();
    let mut big = b"GET / HTTP/1.1\r\nX: ".to_vec();
    big.extend_from_slice(&[b'a'; 100]);
    big.extend_from_slice(b"\r\n\r\nGET /ok HTTP/1.1\r\n\r\n");
    for c in big.chunks(7) {
        p.data(C, c, &mut out);
    }
    p.data(
        C,
        b"\x00\x01 not http\r\n\r\nPUT /p HTTP/1.1\r\nContent-Length: 1\r\n\r\nx",
        &mut out,
    );
    p.data(S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &mut out);
    p.data(S, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", &mut out);
    assert_eq!(
        errors(&out),
        [HttpErrorKind::HeadersTooLarge, HttpErrorKind::BadRequest],
        "{out:?}"
    );
    let t = txs(&out);
    assert_eq!(t.len(), 2);
    assert_eq!(t[0].request.as_ref().unwrap().uri, "/ok");
    assert_eq!(t[1].request.as_ref().unwrap().body_len, 1);
}

/// Request lines httparse rejects, read as Zeek reads them (its http-methods and
/// http-connect traces).
#[test]
fn lenient_request_lines() {
    let cases: [(&[u8], &str, &str, &str); 5] = [
        (b"GET / HTTP/1.\r\nHost: h\r\n\r\n", "GET", "/", "1."),
        (b"OPTIONS HTTP/1.1\r\nHost: h\r\n\r\n", "OPTIONS", "", "1.1"),
        (
            b"CONNECT mail:25 / HTTP/1.0\r\nHost: h\r\n\r\n",
            "CONNECT",
            "mail:25 /",
            "1.0",
        ),
        (
            b"GET /HTTP/1.1\r\nHost: h\r\n\r\n",
            "GET",
            "/HTTP/1.1",
            "0.9",
        ),
        (
            b"CCM_POST / HTTP/1.\r\nHost: h\r\n\r\n",
            "CCM_POST",
            "/",
            "1.",
        ),
    ];
    for (bytes, method, uri, version) in cases {
        let mut p = HttpParser::new(HttpConfig::default());
        let mut out = Vec::new();
        p.data(C, bytes, &mut out);
        p.end(C, &mut out);
        p.end(S, &mut out);
        let t = txs(&out);
        assert_eq!(t.len(), 1, "{out:?}");
        let q = t[0].request.as_ref().unwrap();
        assert_eq!(
            (q.method.as_str(), q.uri.as_str(), q.version.as_str()),
            (method, uri, version)
        );
        assert_eq!(q.host.as_deref(), Some("h"));
    }
    // Not requests at all.
    for bad in [
        &b"OPTIONSHTTP/1.1\r\n\r\n"[..],
        b"GET/ HTTP/1.1\r\n\r\n",
        b"\xc3\x83 / HTTP/1.\r\n\r\n",
    ] {
        let mut p = HttpParser::new(HttpConfig::default());
        let mut out = Vec::new();
        p.data(C, bad, &mut out);
        assert_eq!(errors(&out), [HttpErrorKind::BadRequest], "{out:?}");
    }
}

/// The fuzz target's driver (fuzz/fuzz_targets/http.rs): steps `h n [bytes]`.
fn script(data: &[u8]) -> Vec<HttpEvent> {
    let small = data.first().is_some_and(|h| h & 0x80 != 0);
    let mut p = HttpParser::new(HttpConfig {
        max_header_bytes: if small { 64 } else { 16 * 1024 },
    });
    let mut out = Vec::new();
    let dirs = [C, S];
    let mut rest = data;
    while let Some((&h, tail)) = rest.split_first() {
        let d = usize::from(h & 1);
        let Some((&n, tail)) = tail.split_first() else {
            break;
        };
        rest = tail;
        match (h >> 1) & 3 {
            1 => p.gap(dirs[d], u64::from(n) + 1),
            2 => p.end(dirs[d], &mut out),
            _ => {
                let n = usize::from(n).min(rest.len());
                let (chunk, tail) = rest.split_at(n);
                rest = tail;
                p.data(dirs[d], chunk, &mut out);
            }
        }
    }
    p.end(C, &mut out);
    p.end(S, &mut out);
    out
}

/// Requests must come out once each (in completion order, which need not be stream order:
/// `eviction_comes_out_before_a_response_still_running`).
fn check_order(out: &[HttpEvent]) {
    let offsets: Vec<u64> = txs(out)
        .iter()
        .filter_map(|t| t.request.as_ref().map(|q| q.offset))
        .collect();
    let distinct: std::collections::BTreeSet<u64> = offsets.iter().copied().collect();
    assert_eq!(distinct.len(), offsets.len(), "{out:#?}");
}

#[test]
fn eviction_comes_out_before_a_response_still_running() {
    // A response without framing runs until close; behind it the client pipelines one
    // request more than the parser keeps waiting. The oldest waiting request is evicted
    // unanswered at once, before the older request whose response is still running: a
    // transaction comes out when it completes (found by the `http` fuzz target, whose
    // property asked for stream order).
    let mut p = HttpParser::new(HttpConfig::default());
    let mut out = Vec::new();
    p.data(C, b"GET /0 HTTP/1.1\r\n\r\n", &mut out);
    p.data(S, b"HTTP/1.0 200 OK\r\n\r\nstill running", &mut out);
    let more: Vec<u8> = (1..=MAX_PENDING + 1)
        .flat_map(|k| format!("GET /{k} HTTP/1.1\r\n\r\n").into_bytes())
        .collect();
    p.data(C, &more, &mut out);
    let uris = |out: &[HttpEvent]| -> Vec<String> {
        txs(out)
            .iter()
            .map(|t| t.request.as_ref().unwrap().uri.clone())
            .collect()
    };
    assert_eq!(uris(&out), ["/1"], "{out:?}");
    p.end(S, &mut out);
    let all = uris(&out);
    assert_eq!(all.len(), MAX_PENDING + 2);
    assert_eq!((all[0].as_str(), all[1].as_str()), ("/1", "/0"));
    let answered = txs(&out)[1].response.as_ref().unwrap();
    assert_eq!(answered.body_len, "still running".len() as u64);
    assert!(txs(&out)
        .iter()
        .enumerate()
        .all(|(i, t)| (i == 1) == t.response.is_some()));
    check_order(&out);
}

#[test]
fn fuzz_regressions() {
    let cases: [&[u8]; 1] = [b"E\x0ahunked\x0d\x0a\x0d\x0a0\x0d\x0a\x0d\x0aGET /smuggled-obsfold HTTP/gged\x0d\x0a\x0d\x0aMERGE0\x0d\x0a\x0d\x0aGET /smu2MIld?\x0aMERGE0\x0d\x0a\x0d\x0aGET /smuggl-dggled-obsfold???\x03\x00\x00\x0d\x0a\x01\x8bHTTP/1.1 200 OK\x0d\x0aServer: SimpleHTTP/0.6\x0d\x0aDat2026 18:17:25 \xff\xff\xff\xff\xff\xff\xff\xafnt-type: text/html\x0d\x0aContent-Length: 35\x0d\x0a\x0d\x0a\x00yPgled-obs\x0a\x0d\x0aGET /smuggl-dggledbsf\x00"];
    for c in cases {
        check_order(&script(c));
    }
}

#[test]
fn probes() {
    assert_eq!(probe(C, b"GET / HTTP/1.1\r\n"), Probe::Match);
    assert_eq!(probe(C, b"PROPFIND /x HTTP/1.1\r\n"), Probe::Match);
    assert_eq!(probe(C, b"POST /upload"), Probe::Match);
    assert_eq!(probe(C, b"GE"), Probe::NeedMore);
    assert_eq!(probe(C, b"GET "), Probe::NeedMore);
    assert_eq!(probe(C, b"GET /x\r\n"), Probe::Match);
    assert_eq!(
        probe(C, b"OPTIONS rtsp://cam/ RTSP/1.0\r\n"),
        Probe::NoMatch
    );
    assert_eq!(probe(C, b"GETX / HTTP/1.1"), Probe::NoMatch);
    assert_eq!(probe(C, b"get / HTTP/1.1"), Probe::NoMatch);
    assert_eq!(probe(C, b"GET  "), Probe::NoMatch);
    assert_eq!(probe(C, b"\x16\x03\x01\x02\x00"), Probe::NoMatch);
    assert_eq!(probe(S, b"HTTP/1.1 200 OK\r\n"), Probe::Match);
    assert_eq!(probe(S, b"HTTP/1"), Probe::NeedMore);
    assert_eq!(probe(S, b"HTTP/2 200"), Probe::NoMatch);
    assert_eq!(probe(S, b"RTSP/1.0 200 OK"), Probe::NoMatch);
    assert_eq!(probe(S, b"220 ftp"), Probe::NoMatch);
}

#[test]
fn basic_auth_default_credential() {
    // "admin:admin", on the Mirai list; unanswered, so it comes out when the server side ends.
    let (mut p, mut out) = run(&[(
        C,
        b"GET /admin/ HTTP/1.1\r\nHost: cam\r\nAuthorization: Basic YWRtaW46YWRtaW4=\r\n\r\n",
    )]);
    p.end(S, &mut out);
    let t = txs(&out);
    let q = t[0].request.as_ref().unwrap();
    assert_eq!(q.basic_user.as_deref(), Some("admin"));
    assert!(q.basic_default_credential);
    let json = serde_json::to_string(&out).unwrap();
    assert!(!json.contains("YWRtaW46YWRtaW4"), "{json}");
}
