//! Responses: the status line and headers (httparse, lenient about spaces and obsolete line
//! folding), pairing with the oldest waiting request, interim and tunnel responses, and how
//! the body is framed (RFC 9112 §6.3).

use std::mem::MaybeUninit;

use super::body::{Chunk, Framing, Framings};
use super::parser::Mode;
use super::syntax::*;
use super::*;

impl HttpParser {
    /// Starts the Simple-Response to a 0.9 request: no status line, a body until close.
    pub(super) fn response_09(&mut self) {
        let req = self.pending.pop_front().map(|(_, r)| r);
        let resp = new_response(self.server.msg_start, "0.9".into(), 0, String::new());
        self.response = Some((req, resp));
        self.server.mode = Mode::Body(Framing::UntilClose);
        self.server.in_msg = false;
    }

    /// Parses the response header block `block`, pairs it with the oldest waiting request
    /// and emits the transaction, or starts reading its body.
    pub(super) fn response(&mut self, offset: u64, block: &[u8], out: &mut Vec<HttpEvent>) {
        let dir = Direction::ToClient;
        let mut storage = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
        let mut resp = httparse::Response::new(&mut []);
        let parsed = httparse::ParserConfig::default()
            .allow_spaces_after_header_name_in_responses(true)
            .allow_multiple_spaces_in_response_status_delimiters(true)
            .allow_obsolete_multiline_headers_in_responses(true)
            .ignore_invalid_headers_in_responses(true)
            .parse_response_with_uninit_headers(&mut resp, block, &mut storage);
        if !matches!(parsed, Ok(httparse::Status::Complete(_))) {
            Self::error(dir, offset, HttpErrorKind::BadResponse, out);
            self.start_resync(dir, true);
            return;
        }
        let status = resp.code.unwrap_or_default();
        if (100..200).contains(&status) && status != 101 {
            // Interim response: the request still waits for its final one.
            return;
        }
        let reason = text(resp.reason.unwrap_or_default().as_bytes(), MAX_VALUE);
        let mut r = new_response(offset, version(resp.version).into(), status, reason);
        let f = response_headers(&mut r, resp.headers);
        let req = self.pending.pop_front().map(|(_, q)| q);
        let method = req.as_ref().map(|q| q.method.as_str()).unwrap_or_default();
        let tunnel = status == 101 || (method == "CONNECT" && (200..300).contains(&status));
        let framing =
            if tunnel || method == "HEAD" || status == 204 || status == 304 || status < 200 {
                Framing::Length(0)
            } else {
                Self::response_framing(&f, offset, out)
            };
        if framing == Framing::Length(0) {
            out.push(HttpEvent::Transaction(HttpTransaction {
                request: req,
                response: Some(r),
            }));
        } else {
            self.response = Some((req, r));
            self.server.mode = Mode::Body(framing);
        }
        if tunnel {
            self.client.mode = Mode::Tunnel;
            self.server.mode = Mode::Tunnel;
            self.flush_pending(out);
        }
    }

    /// How the body of a response that may have one is framed (until the connection
    /// closes when its headers do not say), reporting conflicting or bad framing headers.
    fn response_framing(f: &Framings, offset: u64, out: &mut Vec<HttpEvent>) -> Framing {
        let dir = Direction::ToClient;
        if f.te {
            if f.content_length.is_some() || f.bad_length {
                Self::error(dir, offset, HttpErrorKind::ConflictingFraming, out);
            }
            if f.te_chunked {
                Framing::Chunked(Chunk::Size {
                    value: 0,
                    digits: 0,
                })
            } else {
                Framing::UntilClose
            }
        } else if f.bad_length {
            Self::error(dir, offset, HttpErrorKind::BadContentLength, out);
            Framing::UntilClose
        } else {
            match f.content_length {
                Some(n) => Framing::Length(n),
                None => Framing::UntilClose,
            }
        }
    }
}

/// A response with its status line and nothing else yet.
fn new_response(offset: u64, version: String, status: u16, reason: String) -> HttpResponse {
    HttpResponse {
        offset,
        version,
        status,
        reason,
        server: None,
        content_type: None,
        content_length: None,
        location: None,
        www_authenticate: None,
        body_len: 0,
        headers: Vec::new(),
        cookie: None,
        body: Vec::new(),
    }
}

/// Reads a response's headers into `r` (the header block, cookies joined with `; `,
/// server, content type, location and authentication challenge); returns what they say of
/// framing.
fn response_headers(r: &mut HttpResponse, headers: &[httparse::Header<'_>]) -> Framings {
    let mut f = Framings::default();
    for h in headers {
        let (n, v) = (h.name, h.value);
        f.header(n, v);
        if n.eq_ignore_ascii_case("set-cookie") {
            let c = value(v);
            r.cookie = Some(match r.cookie.take() {
                Some(prev) => format!("{prev}; {c}"),
                None => c,
            });
        } else {
            header_line(&mut r.headers, n, v);
        }
        if n.eq_ignore_ascii_case("server") {
            r.server = Some(value(v));
        } else if n.eq_ignore_ascii_case("content-type") {
            r.content_type = Some(value(v));
        } else if n.eq_ignore_ascii_case("location") {
            r.location = Some(value(v));
        } else if n.eq_ignore_ascii_case("www-authenticate") {
            r.www_authenticate = Some(value(v));
        }
    }
    r.content_length = f.content_length.filter(|_| !f.bad_length);
    f
}
