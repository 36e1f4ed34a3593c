//! CoAP and DTLS: one datagram through both parsers.
//!
//! Input: the datagram (a UDP payload).
//! Properties: nothing panics; error offsets ≤ the input length; a parsed CoAP message is
//! consistent (`probe` true implies `parse` succeeds; token hex of even length ≤ 16; option
//! numbers non-decreasing; at most `MAX_OPTIONS` kept; payload no longer than the input);
//! re-encoding the decoded fields (header, token, Uri-Host/Path/Query and Content-Format
//! options, payload) parses back to the same values; `probe_dtls` true implies a 13-byte
//! header; a parsed DTLS datagram has at least one record and at most one per 2 bytes.
#![no_main]

use custos_app::coap::{self, CoapMessage, MAX_OPTIONS};
use custos_app::text::unescape;
use libfuzzer_sys::fuzz_target;

fn option(out: &mut Vec<u8>, last: &mut u32, number: u32, value: &[u8]) {
    let nibble = |v: u32, ext: &mut Vec<u8>| -> u8 {
        if v < 13 {
            v as u8
        } else if v < 269 {
            ext.push((v - 13) as u8);
            13
        } else {
            ext.extend(((v - 269) as u16).to_be_bytes());
            14
        }
    };
    let mut ext = Vec::new();
    let d = nibble(number - *last, &mut ext);
    let l = nibble(value.len() as u32, &mut ext);
    out.push(d << 4 | l);
    out.extend(ext);
    out.extend(value);
    *last = number;
}

fn uint(v: u32) -> Vec<u8> {
    let b = v.to_be_bytes();
    let skip = b.iter().take_while(|x| **x == 0).count();
    b[skip..].to_vec()
}

fn encode(m: &CoapMessage) -> Vec<u8> {
    let t = ["CON", "NON", "ACK", "RST"]
        .iter()
        .position(|x| *x == m.mtype)
        .unwrap() as u8;
    let token: Vec<u8> = (0..m.token.len() / 2)
        .map(|i| u8::from_str_radix(&m.token[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    let (c, d) = m.code.split_once('.').unwrap();
    let code = c.parse::<u8>().unwrap() << 5 | d.parse::<u8>().unwrap();
    let mut out = vec![0x40 | t << 4 | token.len() as u8, code];
    out.extend(m.message_id.to_be_bytes());
    out.extend(&token);
    let mut last = 0;
    if let Some(h) = &m.uri_host {
        option(&mut out, &mut last, 3, &unescape(h));
    }
    if let Some(p) = &m.uri_path {
        for seg in p.strip_prefix('/').unwrap().split('/') {
            option(&mut out, &mut last, 11, &unescape(seg));
        }
    }
    if let Some(cf) = m.content_format {
        option(&mut out, &mut last, 12, &uint(u32::from(cf)));
    }
    for q in &m.uri_query {
        option(&mut out, &mut last, 15, &unescape(q));
    }
    if m.payload_len > 0 {
        out.push(0xff);
        out.extend(std::iter::repeat(0x41).take(m.payload_len));
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let probed = coap::probe(data);
    match coap::parse(data) {
        Ok(m) => {
            assert!(m.token.len() % 2 == 0 && m.token.len() <= 16);
            assert!(
                m.options.windows(2).all(|w| w[0] <= w[1]),
                "{:?}",
                m.options
            );
            assert!(m.options.len() <= MAX_OPTIONS);
            assert!(m.payload_len < data.len());
            let again = coap::parse(&encode(&m)).expect("re-encoded message parses");
            assert_eq!(
                (again.mtype, &again.code, again.message_id, &again.token),
                (m.mtype, &m.code, m.message_id, &m.token)
            );
            assert_eq!(again.uri_host, m.uri_host);
            assert_eq!(again.uri_path, m.uri_path);
            assert_eq!(again.uri_query, m.uri_query);
            assert_eq!(again.content_format, m.content_format);
            assert_eq!(again.payload_len, m.payload_len);
        }
        Err(e) => {
            assert!(!probed, "probe accepted what parse refused: {e}");
            assert!(
                e.offset <= data.len(),
                "error offset {} > {}",
                e.offset,
                data.len()
            );
        }
    }
    if coap::probe_dtls(data) {
        assert!(data.len() >= coap::DTLS_HEADER_LEN);
    }
    match coap::parse_dtls(data) {
        Ok(r) => assert!(r.records >= 1 && r.records <= data.len() / 2),
        Err(e) => assert!(
            e.offset <= data.len(),
            "dtls error offset {} > {}",
            e.offset,
            data.len()
        ),
    }
});
