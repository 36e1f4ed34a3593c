//! SSDP (UPnP discovery, HTTP over UDP port 1900): `NOTIFY`, `M-SEARCH` and search
//! responses.
//!
//! The message is read line by line (CRLF or bare LF): a start line, then `Name: value`
//! headers (names case-insensitive, obsolete line folding joined with one space) up to an
//! empty line or the end of the datagram (a missing final empty line is tolerated, as
//! devices often omit it). At most [`MAX_HEADERS`] headers; a repeated header keeps its first
//! value. Values are trimmed and escaped like DNS names (see [`crate::dns`]).
//!
//! Policy on bad input: a start line that is neither `NOTIFY`/`M-SEARCH` nor an HTTP status
//! line, a header line without a colon or with an empty or non-token name, or too many
//! headers is an error with the offset of the offending line.

use serde::Serialize;

use crate::text::push_escaped;

/// Most header lines read.
pub const MAX_HEADERS: usize = 64;

/// Kind of SSDP message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SsdpKind {
    /// `NOTIFY * HTTP/1.1` (advertisement: alive, byebye, update).
    Notify,
    /// `M-SEARCH * HTTP/1.1` (search request).
    MSearch,
    /// `HTTP/1.1 200 OK` (search response).
    Response,
}

/// One SSDP message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SsdpMessage {
    /// Notify, M-SEARCH or response.
    pub kind: SsdpKind,
    /// Response status code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// HOST.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// LOCATION (device description URL).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// SERVER (OS, UPnP version, product).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// USER-AGENT.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// ST (search target).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub st: Option<String>,
    /// NT (notification type).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nt: Option<String>,
    /// NTS (notification sub-type: ssdp:alive, ssdp:byebye, ssdp:update).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nts: Option<String>,
    /// USN (unique service name).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usn: Option<String>,
    /// MAN (`"ssdp:discover"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub man: Option<String>,
    /// MX (maximum wait, seconds), when it is a number.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mx: Option<u32>,
    /// CACHE-CONTROL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    /// Number of header lines.
    pub headers: usize,
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum SsdpErrorKind {
    /// The start line is not NOTIFY, M-SEARCH or an HTTP status line.
    #[error("not an ssdp start line")]
    BadStartLine,
    /// A header line without a colon, or with an empty or invalid name.
    #[error("malformed header line")]
    BadHeader,
    /// More than [`MAX_HEADERS`] header lines.
    #[error("too many headers")]
    TooManyHeaders,
}

/// A parse error: byte offset of the offending line and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("ssdp at byte {offset}: {kind}")]
pub struct SsdpError {
    /// Byte offset.
    pub offset: usize,
    /// What.
    pub kind: SsdpErrorKind,
}

/// Lines with their offsets; a trailing CR is removed.
fn lines(payload: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut at = 0usize;
    payload.split(|b| *b == b'\n').map(move |l| {
        let start = at;
        at = at.saturating_add(l.len()).saturating_add(1);
        (start, l.strip_suffix(b"\r").unwrap_or(l))
    })
}

fn is_http_version(v: &[u8]) -> bool {
    v.strip_prefix(b"HTTP/1.")
        .is_some_and(|m| matches!(m, b"0" | b"1"))
}

/// The message kind and status from a start line.
fn start_line(line: &[u8]) -> Option<(SsdpKind, Option<u16>)> {
    let mut parts = line.split(|b| *b == b' ').filter(|p| !p.is_empty());
    let (a, b, c) = (parts.next()?, parts.next()?, parts.next());
    if is_http_version(a) {
        let code = std::str::from_utf8(b).ok()?;
        if code.len() != 3 {
            return None;
        }
        return Some((SsdpKind::Response, Some(code.parse().ok()?)));
    }
    if b != b"*" || !c.is_some_and(is_http_version) {
        return None;
    }
    match a {
        b"NOTIFY" => Some((SsdpKind::Notify, None)),
        b"M-SEARCH" => Some((SsdpKind::MSearch, None)),
        _ => None,
    }
}

fn token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn text(v: &[u8]) -> String {
    let mut s = String::new();
    push_escaped(&mut s, v.trim_ascii());
    s
}

/// Parses one SSDP datagram.
pub fn parse(payload: &[u8]) -> Result<SsdpMessage, SsdpError> {
    let mut it = lines(payload).peekable();
    let (kind, status) = it
        .next()
        .and_then(|(_, l)| start_line(l))
        .ok_or(SsdpError {
            offset: 0,
            kind: SsdpErrorKind::BadStartLine,
        })?;
    let mut m = SsdpMessage {
        kind,
        status,
        host: None,
        location: None,
        server: None,
        user_agent: None,
        st: None,
        nt: None,
        nts: None,
        usn: None,
        man: None,
        mx: None,
        cache_control: None,
        headers: 0,
    };
    let mut mx_seen = false;
    while let Some((at, line)) = it.next() {
        if line.is_empty() {
            break;
        }
        let bad = SsdpError {
            offset: at,
            kind: SsdpErrorKind::BadHeader,
        };
        let colon = line.iter().position(|b| *b == b':').ok_or(bad)?;
        let (name, rest) = line.split_at(colon);
        let name = name.trim_ascii_end();
        if name.is_empty() || !name.iter().copied().all(token_char) {
            return Err(bad);
        }
        m.headers += 1;
        if m.headers > MAX_HEADERS {
            return Err(SsdpError {
                offset: at,
                kind: SsdpErrorKind::TooManyHeaders,
            });
        }
        let mut value: Vec<u8> = rest.get(1..).unwrap_or_default().trim_ascii().to_vec();
        // Obsolete line folding: continuation lines start with a space or tab.
        while let Some((_, next)) = it.peek() {
            if !next.first().is_some_and(|b| *b == b' ' || *b == b'\t') {
                break;
            }
            value.push(b' ');
            value.extend_from_slice(next.trim_ascii());
            it.next();
        }
        let slot = match name.to_ascii_uppercase().as_slice() {
            b"HOST" => &mut m.host,
            b"LOCATION" => &mut m.location,
            b"SERVER" => &mut m.server,
            b"USER-AGENT" => &mut m.user_agent,
            b"ST" => &mut m.st,
            b"NT" => &mut m.nt,
            b"NTS" => &mut m.nts,
            b"USN" => &mut m.usn,
            b"MAN" => &mut m.man,
            b"CACHE-CONTROL" => &mut m.cache_control,
            b"MX" => {
                if !mx_seen {
                    mx_seen = true;
                    m.mx = std::str::from_utf8(&value)
                        .ok()
                        .and_then(|v| v.trim().parse().ok());
                }
                continue;
            }
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(text(&value));
        }
    }
    Ok(m)
}

/// True when `payload` starts with `NOTIFY * HTTP/1.`, `M-SEARCH * HTTP/1.`, or is an
/// `HTTP/1.x 200` response that carries an ST, USN or LOCATION header.
pub fn probe(payload: &[u8]) -> bool {
    if payload.starts_with(b"NOTIFY * HTTP/1.") || payload.starts_with(b"M-SEARCH * HTTP/1.") {
        return true;
    }
    if !(payload.starts_with(b"HTTP/1.1 200") || payload.starts_with(b"HTTP/1.0 200")) {
        return false;
    }
    parse(payload).is_ok_and(|m| m.st.is_some() || m.usn.is_some() || m.location.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOTIFY: &[u8] = b"NOTIFY * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n\
CACHE-CONTROL: max-age=100\r\nLOCATION: http://192.168.1.1:1900/igd.xml\r\n\
NT: upnp:rootdevice\r\nNTS: ssdp:alive\r\nSERVER: ipos/7.0 UPnP/1.0 TL-WDR3600/1.0\r\n\
USN: uuid:060b7353::upnp:rootdevice\r\n\r\n";

    #[test]
    fn parses_notify() {
        let m = parse(NOTIFY).unwrap();
        assert_eq!(m.kind, SsdpKind::Notify);
        assert_eq!(m.host.as_deref(), Some("239.255.255.250:1900"));
        assert_eq!(
            m.location.as_deref(),
            Some("http://192.168.1.1:1900/igd.xml")
        );
        assert_eq!(m.nt.as_deref(), Some("upnp:rootdevice"));
        assert_eq!(m.nts.as_deref(), Some("ssdp:alive"));
        assert_eq!(m.usn.as_deref(), Some("uuid:060b7353::upnp:rootdevice"));
        assert_eq!(m.cache_control.as_deref(), Some("max-age=100"));
        assert_eq!(
            m.server.as_deref(),
            Some("ipos/7.0 UPnP/1.0 TL-WDR3600/1.0")
        );
        assert_eq!(m.headers, 7);
        assert!(probe(NOTIFY));
    }

    #[test]
    fn parses_msearch_and_response() {
        let s = b"M-SEARCH * HTTP/1.1\nHost:239.255.255.250:1900\nST:ssdp:all\nMan:\"ssdp:discover\"\nMX: 3\n";
        let m = parse(s).unwrap();
        assert_eq!(m.kind, SsdpKind::MSearch);
        assert_eq!(m.st.as_deref(), Some("ssdp:all"));
        assert_eq!(m.man.as_deref(), Some("\"ssdp:discover\""));
        assert_eq!(m.mx, Some(3));
        let r = b"HTTP/1.1 200 OK\r\nST: upnp:rootdevice\r\nUSN: uuid:1\r\nEXT:\r\n\
Server: Linux\r\n  UPnP/1.0\r\n\r\n";
        let m = parse(r).unwrap();
        assert_eq!(m.kind, SsdpKind::Response);
        assert_eq!(m.status, Some(200));
        assert_eq!(m.server.as_deref(), Some("Linux UPnP/1.0"));
        assert!(probe(r));
        assert!(!probe(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    }

    #[test]
    fn errors_carry_offsets() {
        assert_eq!(
            parse(b"GET / HTTP/1.1\r\n\r\n").unwrap_err().kind,
            SsdpErrorKind::BadStartLine
        );
        let e = parse(b"NOTIFY * HTTP/1.1\r\nHOST: x\r\nno colon here\r\n\r\n").unwrap_err();
        assert_eq!(
            e,
            SsdpError {
                offset: 28,
                kind: SsdpErrorKind::BadHeader
            }
        );
        let mut many = b"NOTIFY * HTTP/1.1\r\n".to_vec();
        for _ in 0..=MAX_HEADERS {
            many.extend(b"X: y\r\n");
        }
        assert_eq!(
            parse(&many).unwrap_err().kind,
            SsdpErrorKind::TooManyHeaders
        );
    }

    #[test]
    fn every_truncation_is_handled() {
        for n in 0..NOTIFY.len() {
            match parse(&NOTIFY[..n]) {
                Ok(m) => assert_eq!(m.kind, SsdpKind::Notify),
                Err(e) => assert!(e.offset <= n),
            }
            let _ = probe(&NOTIFY[..n]);
        }
    }

    #[test]
    fn odd_bytes_are_escaped() {
        let m = parse(b"NOTIFY * HTTP/1.1\r\nSERVER: a\xff\\b\r\n\r\n").unwrap();
        assert_eq!(m.server.as_deref(), Some("a\\xff\\x5cb"));
    }
}
