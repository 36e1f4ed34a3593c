//! DHCP / BOOTP: one message.
//!
//! Input: the message (a UDP payload).
//! Properties: nothing panics; error offsets ≤ the input length; a parsed message is
//! consistent (`fingerprint` is `params` joined with commas, `client_mac` is colon-separated
//! lower-case hex, at most `MAX_OPTION_CODES` codes kept, no message type without the cookie);
//! `probe` accepts only op 1/2 messages of at least 240 bytes (cookie) or `BOOTP_MIN_LEN`;
//! re-encoding the decoded fields into a fresh message (header, cookie, options split into
//! 255-byte pieces) parses back to the same values.
#![no_main]

use custos_app::dhcp::{self, DhcpMessage, BOOTP_MIN_LEN, HEADER_LEN, MAX_OPTION_CODES};
use custos_app::text::unescape;
use libfuzzer_sys::fuzz_target;

fn opt(out: &mut Vec<u8>, code: u8, value: &[u8]) {
    if value.is_empty() {
        out.extend([code, 0]);
    }
    for piece in value.chunks(255) {
        out.push(code);
        out.push(piece.len() as u8);
        out.extend(piece);
    }
}

fn encode(m: &DhcpMessage) -> Vec<u8> {
    let mut out = vec![0u8; HEADER_LEN];
    out[0] = m.op;
    out[1] = 1;
    out[2] = 6;
    out[4..8].copy_from_slice(&m.xid.to_be_bytes());
    out[12..16].copy_from_slice(&m.ciaddr.octets());
    out[16..20].copy_from_slice(&m.yiaddr.octets());
    out[20..24].copy_from_slice(&m.siaddr.octets());
    out[24..28].copy_from_slice(&m.giaddr.octets());
    out.extend(0x6382_5363u32.to_be_bytes());
    if let Some(t) = m.message_type {
        opt(&mut out, 53, &[t]);
    }
    for (code, v) in [
        (12, &m.hostname),
        (60, &m.vendor_class),
        (15, &m.domain_name),
        (56, &m.message),
    ] {
        if let Some(v) = v {
            opt(&mut out, code, &unescape(v));
        }
    }
    for (code, v) in [(50, m.requested_ip), (54, m.server_id), (1, m.subnet_mask)] {
        if let Some(a) = v {
            opt(&mut out, code, &a.octets());
        }
    }
    if let Some(l) = m.lease_time {
        opt(&mut out, 51, &l.to_be_bytes());
    }
    if m.fingerprint.is_some() {
        opt(&mut out, 55, &m.params);
    }
    for (code, v) in [(3, &m.routers), (6, &m.dns_servers)] {
        if !v.is_empty() {
            let b: Vec<u8> = v.iter().flat_map(|a| a.octets()).collect();
            opt(&mut out, code, &b);
        }
    }
    out.push(255);
    out
}

fuzz_target!(|data: &[u8]| {
    let probed = dhcp::probe(data);
    if probed {
        assert!(data.len() >= HEADER_LEN + 4 || data.len() >= BOOTP_MIN_LEN);
        assert!(matches!(data[0], 1 | 2));
    }
    let m = match dhcp::parse(data) {
        Ok(m) => m,
        Err(e) => {
            assert!(
                e.offset <= data.len(),
                "error offset {} > {}",
                e.offset,
                data.len()
            );
            return;
        }
    };
    assert!(data.len() >= HEADER_LEN);
    let fp = m
        .params
        .iter()
        .map(|b| b.to_string())
        .collect::<Vec<_>>()
        .join(",");
    match &m.fingerprint {
        Some(f) => assert_eq!(f, &fp),
        None => assert!(m.params.is_empty()),
    }
    assert!(m.client_mac.split(':').all(|h| h.len() == 2
        && h.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))));
    assert!(m.option_codes.len() <= MAX_OPTION_CODES);
    if data.get(236..240) != Some(&[0x63, 0x82, 0x53, 0x63][..]) {
        assert!(m.message_type.is_none() && m.option_codes.is_empty());
    }

    let again = dhcp::parse(&encode(&m)).expect("re-encoded message parses");
    assert_eq!(
        (
            again.op,
            again.xid,
            again.ciaddr,
            again.yiaddr,
            again.siaddr,
            again.giaddr
        ),
        (m.op, m.xid, m.ciaddr, m.yiaddr, m.siaddr, m.giaddr)
    );
    assert_eq!(again.message_type, m.message_type);
    assert_eq!(again.hostname, m.hostname);
    assert_eq!(again.vendor_class, m.vendor_class);
    assert_eq!(again.domain_name, m.domain_name);
    assert_eq!(again.message, m.message);
    assert_eq!(again.requested_ip, m.requested_ip);
    assert_eq!(again.server_id, m.server_id);
    assert_eq!(again.subnet_mask, m.subnet_mask);
    assert_eq!(again.lease_time, m.lease_time);
    assert_eq!(again.params, m.params);
    assert_eq!(again.fingerprint, m.fingerprint);
    assert_eq!(again.routers, m.routers);
    assert_eq!(again.dns_servers, m.dns_servers);
});
