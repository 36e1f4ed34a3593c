//! SSDP: one datagram.
//!
//! Input: the datagram (a UDP payload).
//! Properties: nothing panics; error offsets ≤ the input length and at a line start; a parsed
//! message has at most `MAX_HEADERS` headers and a status only when it is a response;
//! `probe` accepting implies `parse` succeeds for responses (probe parses them) and that the
//! input starts with NOTIFY, M-SEARCH or HTTP/1.; re-serialising the decoded fields
//! (start line, one line per known header, values unescaped) parses back to the same fields.
#![no_main]

use custos_app::ssdp::{self, SsdpKind, SsdpMessage, MAX_HEADERS};
use custos_app::text::unescape;
use libfuzzer_sys::fuzz_target;

fn encode(m: &SsdpMessage) -> Vec<u8> {
    let mut out = match m.kind {
        SsdpKind::Notify => b"NOTIFY * HTTP/1.1\r\n".to_vec(),
        SsdpKind::MSearch => b"M-SEARCH * HTTP/1.1\r\n".to_vec(),
        SsdpKind::Response => {
            format!("HTTP/1.1 {:03} OK\r\n", m.status.unwrap_or(200)).into_bytes()
        }
    };
    for (name, v) in [
        ("HOST", &m.host),
        ("LOCATION", &m.location),
        ("SERVER", &m.server),
        ("USER-AGENT", &m.user_agent),
        ("ST", &m.st),
        ("NT", &m.nt),
        ("NTS", &m.nts),
        ("USN", &m.usn),
        ("MAN", &m.man),
        ("CACHE-CONTROL", &m.cache_control),
    ] {
        if let Some(v) = v {
            out.extend(name.as_bytes());
            out.extend(b": ");
            out.extend(unescape(v));
            out.extend(b"\r\n");
        }
    }
    if let Some(mx) = m.mx {
        out.extend(format!("MX: {mx}\r\n").as_bytes());
    }
    out.extend(b"\r\n");
    out
}

fuzz_target!(|data: &[u8]| {
    let probed = ssdp::probe(data);
    let parsed = ssdp::parse(data);
    if probed {
        assert!(
            data.starts_with(b"NOTIFY")
                || data.starts_with(b"M-SEARCH")
                || data.starts_with(b"HTTP/1.")
        );
        if data.starts_with(b"HTTP/1.") {
            assert!(parsed.is_ok());
        }
    }
    let m = match parsed {
        Ok(m) => m,
        Err(e) => {
            assert!(
                e.offset <= data.len(),
                "error offset {} > {}",
                e.offset,
                data.len()
            );
            assert!(
                e.offset == 0 || data[e.offset - 1] == b'\n',
                "offset {} not at a line start",
                e.offset
            );
            return;
        }
    };
    assert!(m.headers <= MAX_HEADERS);
    assert_eq!(m.status.is_some(), m.kind == SsdpKind::Response);
    let again = ssdp::parse(&encode(&m)).expect("re-encoded message parses");
    let strip = |mut x: SsdpMessage| {
        x.headers = 0;
        x
    };
    assert_eq!(strip(again), strip(m), "re-encoded message differs");
});
