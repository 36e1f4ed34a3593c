//! Requests: the request line (httparse, then Zeek's lenient reading, or HTTP/0.9), the
//! headers of interest, and how the body is framed (RFC 9112 §6.3: a request without
//! `Content-Length` or `Transfer-Encoding` has no body).

use std::mem::MaybeUninit;

use super::body::{Chunk, Framing, Framings};
use super::parser::Mode;
use super::syntax::*;
use super::*;

impl HttpParser {
    /// Queues the HTTP/0.9 request on `line` (it has no headers and no body).
    pub(super) fn request_09(&mut self, offset: u64, line: &[u8]) {
        let line = strip_cr(strip_lf(line));
        let mut words = line.split(|&b| b == b' ').filter(|w| !w.is_empty());
        let method = text(words.next().unwrap_or_default(), MAX_VALUE);
        let uri = text(words.next().unwrap_or_default(), MAX_URI);
        let req = new_request(offset, method, uri, "0.9".into());
        let mut sink = Vec::new();
        self.push_request(req, &mut sink);
        self.body_seq = None;
    }

    /// Parses the request header block `block` (leniently when httparse rejects its
    /// request line), queues the request and sets how its body is framed.
    pub(super) fn request(&mut self, offset: u64, block: &[u8], out: &mut Vec<HttpEvent>) {
        let dir = Direction::ToServer;
        let mut storage = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
        let mut req = httparse::Request::new(&mut []);
        let parsed = httparse::ParserConfig::default()
            .allow_multiple_spaces_in_request_line_delimiters(true)
            .ignore_invalid_headers_in_requests(true)
            .parse_request_with_uninit_headers(&mut req, block, &mut storage);
        let mut lenient_headers;
        let (method, uri, version, headers): (&str, String, String, &[httparse::Header<'_>]) =
            if matches!(parsed, Ok(httparse::Status::Complete(_))) {
                (
                    req.method.unwrap_or_default(),
                    text(req.path.unwrap_or_default().as_bytes(), MAX_URI),
                    version(req.version).into(),
                    &*req.headers,
                )
            } else if let Some(l) = lenient_request_line(block) {
                lenient_headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let hs: &[httparse::Header<'_>] =
                    match httparse::parse_headers(l.rest, &mut lenient_headers) {
                        Ok(httparse::Status::Complete((_, hs))) => hs,
                        _ => &[],
                    };
                (l.method, text(l.target, MAX_URI), text(l.version, 16), hs)
            } else {
                Self::error(dir, offset, HttpErrorKind::BadRequest, out);
                self.start_resync(dir, true);
                return;
            };
        let mut r = new_request(offset, method.to_string(), uri, version);
        let f = self.request_headers(&mut r, headers);
        let framing = Self::request_framing(&f, offset, out);
        let seq = self.push_request(r, out);
        self.body_seq = Some(seq);
        match framing {
            Some(Framing::Length(0)) => {}
            Some(f) => self.client.mode = Mode::Body(f),
            None => self.start_resync(dir, true),
        }
    }

    /// Reads a request's headers into `r` (the header block, cookie, host, user agent,
    /// referer, content type and Basic credentials); returns what they say of framing.
    fn request_headers(&self, r: &mut HttpRequest, headers: &[httparse::Header<'_>]) -> Framings {
        let mut f = Framings::default();
        for h in headers {
            let (n, v) = (h.name, h.value);
            f.header(n, v);
            if n.eq_ignore_ascii_case("cookie") {
                r.cookie = Some(value(v));
            } else {
                header_line(&mut r.headers, n, v);
            }
            if n.eq_ignore_ascii_case("host") {
                r.host = Some(value(v));
            } else if n.eq_ignore_ascii_case("user-agent") {
                r.user_agent = Some(value(v));
            } else if n.eq_ignore_ascii_case("referer") {
                r.referer = Some(value(v));
            } else if n.eq_ignore_ascii_case("content-type") {
                r.content_type = Some(value(v));
            } else if n.eq_ignore_ascii_case("authorization") {
                authorization(r, v, &self.credentials);
            }
        }
        r.content_length = f.content_length.filter(|_| !f.bad_length);
        f
    }

    /// How a request's body is framed (`None`: it cannot be, the stream must resync),
    /// reporting conflicting or bad framing headers.
    fn request_framing(f: &Framings, offset: u64, out: &mut Vec<HttpEvent>) -> Option<Framing> {
        let dir = Direction::ToServer;
        if f.te {
            if f.content_length.is_some() || f.bad_length {
                Self::error(dir, offset, HttpErrorKind::ConflictingFraming, out);
            }
            if f.te_chunked {
                Some(Framing::Chunked(Chunk::Size {
                    value: 0,
                    digits: 0,
                }))
            } else {
                Self::error(dir, offset, HttpErrorKind::BadTransferEncoding, out);
                None
            }
        } else if f.bad_length {
            Self::error(dir, offset, HttpErrorKind::BadContentLength, out);
            None
        } else {
            Some(match f.content_length {
                Some(n) if n > 0 => Framing::Length(n),
                _ => Framing::Length(0),
            })
        }
    }
}

/// A request with its request line and nothing else yet.
fn new_request(offset: u64, method: String, uri: String, version: String) -> HttpRequest {
    HttpRequest {
        offset,
        method,
        uri,
        version,
        host: None,
        user_agent: None,
        referer: None,
        content_type: None,
        content_length: None,
        authorization_scheme: None,
        basic_user: None,
        basic_password_len: None,
        basic_default_credential: false,
        body_len: 0,
        headers: Vec::new(),
        cookie: None,
        body: Vec::new(),
    }
}
