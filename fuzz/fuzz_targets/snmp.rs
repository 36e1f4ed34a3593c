//! SNMP: one message.
//!
//! Input: the message (a UDP payload).
//! Properties: nothing panics; error offsets ≤ the input length; a parsed message is
//! consistent (version 0, 1 or 3; community only below v3; at most `MAX_OIDS` names, no more
//! than the binding count; names are dotted decimal; `pdu_type` matches `pdu_tag`);
//! `probe` accepts nothing that does not start with a SEQUENCE tag; a v1/v2c request or
//! response re-encoded in BER (from the decoded fields, NULL values) parses back to the same
//! message.
#![no_main]

use custos_app::snmp::{self, SnmpMessage, MAX_OIDS};
use custos_app::text::unescape;
use libfuzzer_sys::fuzz_target;

fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = body.len();
    if n < 0x80 {
        v.push(n as u8);
    } else {
        let b = (n as u32).to_be_bytes();
        let skip = b.iter().take_while(|x| **x == 0).count();
        v.push(0x80 | (4 - skip) as u8);
        v.extend(&b[skip..]);
    }
    v.extend(body);
    v
}

fn int(x: i64) -> Vec<u8> {
    let b = x.to_be_bytes();
    let mut i = 0;
    while i < 7 && ((b[i] == 0 && b[i + 1] & 0x80 == 0) || (b[i] == 0xff && b[i + 1] & 0x80 != 0)) {
        i += 1;
    }
    tlv(0x02, &b[i..])
}

fn base128(mut v: u64, out: &mut Vec<u8>) {
    let mut tmp = vec![(v & 0x7f) as u8];
    v >>= 7;
    while v > 0 {
        tmp.push(0x80 | (v & 0x7f) as u8);
        v >>= 7;
    }
    out.extend(tmp.iter().rev());
}

fn oid(s: &str) -> Option<Vec<u8>> {
    let arcs: Vec<u64> = s
        .split('.')
        .map(|a| a.parse().ok())
        .collect::<Option<_>>()?;
    let (&x, rest) = arcs.split_first()?;
    let (&y, rest) = rest.split_first()?;
    let mut body = Vec::new();
    base128(x.checked_mul(40)?.checked_add(y)?, &mut body);
    for a in rest {
        base128(*a, &mut body);
    }
    Some(tlv(0x06, &body))
}

fn encode(m: &SnmpMessage) -> Option<Vec<u8>> {
    let tag = m.pdu_tag?;
    if m.version == 3 || tag == 0xa4 || m.varbinds != m.oids.len() {
        return None;
    }
    let mut vbs = Vec::new();
    for o in &m.oids {
        let mut vb = oid(o)?;
        vb.extend(tlv(0x05, &[]));
        vbs.extend(tlv(0x30, &vb));
    }
    let mut pdu = int(m.request_id?);
    pdu.extend(int(m.error_status.unwrap_or(0)));
    pdu.extend(int(0));
    pdu.extend(tlv(0x30, &vbs));
    let mut msg = int(i64::from(m.version));
    msg.extend(tlv(0x04, &unescape(m.community.as_deref()?)));
    msg.extend(tlv(tag, &pdu));
    Some(tlv(0x30, &msg))
}

fuzz_target!(|data: &[u8]| {
    if snmp::probe(data) {
        assert_eq!(data.first(), Some(&0x30));
    }
    let m = match snmp::parse(data) {
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
    assert!(matches!(m.version, 0 | 1 | 3));
    assert_eq!(m.community.is_some(), m.version != 3);
    assert!(m.oids.len() <= MAX_OIDS && m.oids.len() <= m.varbinds);
    for o in &m.oids {
        assert!(
            o.split('.').count() >= 2 && o.split('.').all(|a| a.parse::<u64>().is_ok()),
            "{o}"
        );
    }
    assert_eq!(m.pdu_type, m.pdu_tag.and_then(snmp::pdu_name));
    if let Some(bytes) = encode(&m) {
        let again = snmp::parse(&bytes).expect("re-encoded message parses");
        assert_eq!(again, m, "re-encoded message differs");
    }
});
