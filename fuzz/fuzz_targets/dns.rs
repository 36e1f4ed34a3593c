//! DNS: one message, and the same bytes as a DNS-over-TCP stream.
//!
//! Input: the message (a UDP payload). For the TCP parser the input is also cut into chunks
//! of `1 + data[0] % 64` bytes and fed to both directions.
//! Properties: nothing panics; `parse` errors have offsets ≤ the input length; `parse` and
//! `parse_partial` agree (same message when there is no error, same error otherwise); kept
//! sections never exceed `MAX_RECORDS` nor the header counts; a parsed message that kept every
//! record re-encodes (uncompressed, by the encoder below) into bytes that parse to the same
//! message; `probe` never accepts fewer than 12 bytes; TCP error offsets lie within the bytes
//! fed, and a stream of n bytes yields at most n / 2 events.
#![no_main]

use custos_app::dns::{self, DnsMessage, DnsRdata, DnsRecord, MAX_RECORDS};
use custos_app::Direction;
use custos_app::text::unescape;
use libfuzzer_sys::fuzz_target;

/// Our escaped text back to bytes (`\xNN` → byte).
/// A name in wire form (labels split at dots), or `None` when it cannot be rebuilt the same
/// way (empty label inside, label over 63 bytes).
fn name(s: &str, out: &mut Vec<u8>) -> Option<()> {
    if !s.is_empty() {
        for label in s.split('.') {
            let l = unescape(label);
            if l.is_empty() || l.len() > 63 {
                return None;
            }
            out.push(l.len() as u8);
            out.extend(l);
        }
    }
    out.push(0);
    Some(())
}

fn record(r: &DnsRecord, out: &mut Vec<u8>) -> Option<()> {
    name(&r.name, out)?;
    out.extend(r.rrtype.to_be_bytes());
    let class = if r.cache_flush {
        r.class | 0x8000
    } else {
        r.class
    };
    out.extend(class.to_be_bytes());
    out.extend(r.ttl.to_be_bytes());
    let mut d = Vec::new();
    match &r.data {
        DnsRdata::A(a) => d.extend(a.octets()),
        DnsRdata::Aaaa(a) => d.extend(a.octets()),
        DnsRdata::Name(n) => name(n, &mut d)?,
        DnsRdata::Txt(v) => {
            for s in v {
                let b = unescape(s);
                d.push(u8::try_from(b.len()).ok()?);
                d.extend(b);
            }
        }
        DnsRdata::Srv {
            priority,
            weight,
            port,
            target,
        } => {
            d.extend(priority.to_be_bytes());
            d.extend(weight.to_be_bytes());
            d.extend(port.to_be_bytes());
            name(target, &mut d)?;
        }
        DnsRdata::Mx {
            preference,
            exchange,
        } => {
            d.extend(preference.to_be_bytes());
            name(exchange, &mut d)?;
        }
        DnsRdata::Soa {
            mname,
            rname,
            serial,
        } => {
            name(mname, &mut d)?;
            name(rname, &mut d)?;
            d.extend(serial.to_be_bytes());
            d.extend([0u8; 16]);
        }
        DnsRdata::Other { len } => d.resize(*len, 0),
    }
    out.extend(u16::try_from(d.len()).ok()?.to_be_bytes());
    out.extend(d);
    Some(())
}

fn encode(m: &DnsMessage) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    out.extend(m.id.to_be_bytes());
    let flags = (u16::from(m.response) << 15)
        | (u16::from(m.opcode) << 11)
        | (u16::from(m.authoritative) << 10)
        | (u16::from(m.truncated) << 9)
        | (u16::from(m.recursion_desired) << 8)
        | (u16::from(m.recursion_available) << 7)
        | (u16::from(m.z) << 4)
        | (m.rcode & 0xf);
    out.extend(flags.to_be_bytes());
    for n in [
        m.questions.len(),
        m.answers.len(),
        m.authorities.len(),
        m.additionals.len(),
    ] {
        out.extend((n as u16).to_be_bytes());
    }
    for q in &m.questions {
        name(&q.name, &mut out)?;
        out.extend(q.rrtype.to_be_bytes());
        let class = if q.unicast_response {
            q.class | 0x8000
        } else {
            q.class
        };
        out.extend(class.to_be_bytes());
    }
    for r in m.answers.iter().chain(&m.authorities).chain(&m.additionals) {
        record(r, &mut out)?;
    }
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    let strict = dns::parse(data);
    let partial = dns::parse_partial(data);
    match (&strict, &partial) {
        (Ok(m), Ok((p, None))) => assert_eq!(m, p),
        (Err(e), Ok((_, Some(pe)))) => assert_eq!(e, pe),
        (Err(e), Err(pe)) => assert_eq!(e, pe),
        _ => panic!("parse and parse_partial disagree: {strict:?} / {partial:?}"),
    }
    if let Err(e) = &strict {
        assert!(
            e.offset <= data.len() as u64,
            "error offset {} > {}",
            e.offset,
            data.len()
        );
    }
    if let Ok((m, _)) = &partial {
        for (kept, count) in [
            (m.questions.len(), m.question_count),
            (m.answers.len(), m.answer_count),
            (m.authorities.len(), m.authority_count),
            (m.additionals.len(), m.additional_count),
        ] {
            assert!(kept <= MAX_RECORDS && kept <= usize::from(count));
        }
    }
    if let Ok(m) = &strict {
        let complete = m.questions.len() == usize::from(m.question_count)
            && m.answers.len() == usize::from(m.answer_count)
            && m.authorities.len() == usize::from(m.authority_count)
            && m.additionals.len() == usize::from(m.additional_count);
        if complete {
            if let Some(bytes) = encode(m) {
                // Long names split at dots may exceed the wire limit; otherwise it must match.
                match dns::parse(&bytes) {
                    Ok(again) => assert_eq!(&again, m, "re-encoded message differs"),
                    Err(e) => assert_eq!(e.kind, dns::DnsErrorKind::NameTooLong, "{e}"),
                }
            }
        }
    }
    if dns::probe(data) {
        assert!(data.len() >= dns::HEADER_LEN);
    }

    let chunk = 1 + usize::from(data.first().copied().unwrap_or(0) % 64);
    let mut p = dns::DnsTcpParser::new();
    let mut out = Vec::new();
    for dir in [Direction::ToServer, Direction::ToClient] {
        for (i, c) in data.chunks(chunk).enumerate() {
            if i == 3 && chunk % 7 == 0 {
                p.gap(dir, 5);
            }
            p.data(dir, c, &mut out);
        }
        p.end(dir, &mut out);
    }
    assert!(p.done());
    let fed = data.len() as u64 + 5;
    for e in &out {
        if let dns::DnsEvent::Error(e) = e {
            assert!(e.offset <= fed, "tcp error offset {} > {fed}", e.offset);
        }
    }
    assert!(
        out.len() <= data.len() + 2,
        "{} events for {} bytes",
        out.len(),
        data.len()
    );
});
