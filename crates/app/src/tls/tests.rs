use super::*;

const C: Direction = Direction::ToServer;
const S: Direction = Direction::ToClient;

fn unhex(s: &str) -> Vec<u8> {
    let s: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    s.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn feed(p: &mut TlsParser, dir: Direction, chunks: &[&[u8]]) -> Vec<TlsEvent> {
    let mut out = Vec::new();
    for c in chunks {
        p.data(dir, c, &mut out);
    }
    out
}

fn client_hello(out: &[TlsEvent]) -> &TlsClientHello {
    out.iter()
        .find_map(|e| match e {
            TlsEvent::ClientHello(h) => Some(h),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no ClientHello in {out:?}"))
}

/// ClientHellos from FoxIO's JA4 repository (`pcap/*.pcap*`) with the JA4 values of their
/// `python/test/testdata/*.json`, and the JA3 that tshark 4.0 computes for them.
const FOXIO: [(&str, &str, &str); 4] = [
    (
        include_str!("testdata/foxio-tls12.clienthello.hex"),
        "t13d1715h2_5b57614c22b0_3d5424432f57",
        "579ccef312d18482fc42e2b822ca2430",
    ),
    (
        include_str!("testdata/foxio-tls-alpn-h2.clienthello.hex"),
        "t12d4605h2_85626a9a5f7f_aaf95bb78ec9",
        "3faa4ad39f690c4ef1c3160caa375465",
    ),
    (
        include_str!("testdata/foxio-tls-non-ascii-alpn.clienthello.hex"),
        "t13d151699_8daaf6152771_e5627efa2ab1",
        "1c258ebef8eee2dfa3df6d8d07285af9",
    ),
    (
        include_str!("testdata/foxio-badcurveball.clienthello.hex"),
        "t13d1615h2_46e7e9700bed_45f260be83e2",
        "66918128f1b9b03303d77c6f2eefd128",
    ),
];

#[test]
fn foxio_ja4_and_tshark_ja3() {
    for (hex, ja4, ja3) in FOXIO {
        let rec = unhex(hex);
        let mut p = TlsParser::new();
        let out = feed(&mut p, C, &[&rec]);
        assert_eq!(out.len(), 1, "{out:?}");
        let h = client_hello(&out);
        assert_eq!(h.ja4, ja4);
        assert_eq!(h.ja3_hash, ja3, "{}", h.ja3);
        assert_eq!((h.offset, h.record_version), (5, 0x0301));
    }
    let h = client_hello(&feed(&mut TlsParser::new(), C, &[&unhex(FOXIO[0].0)])).clone();
    assert_eq!(h.sni.as_deref(), Some("contile.services.mozilla.com"));
    assert_eq!(h.alpn, ["h2", "http/1.1"]);
    assert_eq!(h.supported_versions, [0x0304, 0x0303]);
    assert_eq!(h.ja3, "771,4865-4867-4866-49195-49199-52393-52392-49196-49200-49162-49161-49171-49172-156-157-47-53,0-23-65281-10-11-35-16-5-34-51-43-13-45-28-21,29-23-24-25-256-257,0");
}

#[test]
fn record_split_at_every_offset_and_byte_by_byte() {
    let rec = unhex(FOXIO[1].0);
    let want = client_hello(&feed(&mut TlsParser::new(), C, &[&rec])).clone();
    for cut in 0..rec.len() {
        let mut p = TlsParser::new();
        let out = feed(&mut p, C, &[&rec[..cut], &rec[cut..]]);
        assert_eq!(out, [TlsEvent::ClientHello(want.clone())], "cut {cut}");
    }
    let chunks: Vec<&[u8]> = rec.chunks(1).collect();
    let out = feed(&mut TlsParser::new(), C, &chunks);
    assert_eq!(out, [TlsEvent::ClientHello(want)]);
}

/// Re-frames a handshake byte string into records of the given body sizes.
fn records(ty: u8, hs: &[u8], sizes: &[usize]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = hs;
    let mut sizes = sizes.iter().copied().chain(std::iter::repeat(usize::MAX));
    while !rest.is_empty() {
        let n = sizes.next().unwrap().min(rest.len());
        out.extend_from_slice(&[ty, 3, 1]);
        out.extend_from_slice(&(n as u16).to_be_bytes());
        out.extend_from_slice(&rest[..n]);
        rest = &rest[n..];
    }
    out
}

#[test]
fn client_hello_split_across_records() {
    let rec = unhex(FOXIO[0].0);
    let want = client_hello(&feed(&mut TlsParser::new(), C, &[&rec])).clone();
    let hs = &rec[5..];
    for sizes in [&[1usize][..], &[3, 1], &[4, 100, 7], &[200, 200], &[511]] {
        let bytes = records(22, hs, sizes);
        for chunk in [7usize, 64, 4096] {
            let mut p = TlsParser::new();
            let chunks: Vec<&[u8]> = bytes.chunks(chunk).collect();
            let out = feed(&mut p, C, &chunks);
            let got = client_hello(&out);
            assert_eq!(got.ja4, want.ja4);
            assert_eq!(got.ja3, want.ja3);
            assert_eq!(got.offset, 5, "{sizes:?}");
            assert_eq!(out.len(), 1);
        }
    }
    // Two messages in one record, the second split into the next record: offsets.
    let mut hs2 = hs.to_vec();
    hs2.extend_from_slice(hs);
    let bytes = records(22, &hs2, &[hs.len() + 10]);
    let out = feed(&mut TlsParser::new(), C, &[&bytes]);
    let offsets: Vec<u64> = out
        .iter()
        .map(|e| match e {
            TlsEvent::ClientHello(h) => h.offset,
            e => panic!("{e:?}"),
        })
        .collect();
    assert_eq!(offsets, [5, 5 + hs.len() as u64]);
}

#[test]
fn truncation_at_every_offset_never_panics() {
    let rec = unhex(FOXIO[2].0);
    for cut in 0..=rec.len() {
        let mut p = TlsParser::new();
        let mut out = feed(&mut p, C, &[&rec[..cut]]);
        p.end(C, &mut out);
        let complete = cut == rec.len();
        assert_eq!(
            out.iter().any(|e| matches!(e, TlsEvent::ClientHello(_))),
            complete
        );
        if cut > 0 && !complete {
            assert!(
                matches!(&out[..], [TlsEvent::Error(e)] if e.kind == TlsErrorKind::Incomplete),
                "{cut}: {out:?}"
            );
        }
        // The body truncated inside a record of the right length: a malformed hello.
        let mut short = rec[..cut.max(9)].to_vec();
        let body_len = short.len() - 5;
        short[3..5].copy_from_slice(&(body_len as u16).to_be_bytes());
        short[6..9].copy_from_slice(&[0, ((body_len - 4) >> 8) as u8, (body_len - 4) as u8]);
        let mut p = TlsParser::new();
        let _ = feed(&mut p, C, &[&short]);
    }
}

fn server_hello_body() -> Vec<u8> {
    let mut b = vec![3, 3];
    b.extend_from_slice(&[7; 32]);
    b.extend_from_slice(&[0, 0xc0, 0x2b, 0]);
    let exts: &[u8] = &[0xff, 0x01, 0, 1, 0, 0x00, 0x10, 0, 5, 0, 3, 2, b'h', b'2'];
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(exts);
    b
}

fn handshake(ty: u8, body: &[u8]) -> Vec<u8> {
    let n = body.len();
    let mut m = vec![ty, (n >> 16) as u8, (n >> 8) as u8, n as u8];
    m.extend_from_slice(body);
    m
}

fn certificate_msg(ders: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for d in ders {
        let n = d.len();
        list.extend_from_slice(&[(n >> 16) as u8, (n >> 8) as u8, n as u8]);
        list.extend_from_slice(d);
    }
    let n = list.len();
    let mut body = vec![(n >> 16) as u8, (n >> 8) as u8, n as u8];
    body.extend_from_slice(&list);
    handshake(11, &body)
}

#[test]
fn server_flight_hello_certificates_done() {
    let der = unhex(include_str!("testdata/pantz-ecdsa.der.hex"));
    let mut flight = handshake(2, &server_hello_body());
    let sh_len = flight.len();
    flight.extend_from_slice(&certificate_msg(&[&der, b"not a certificate", &der]));
    flight.extend_from_slice(&handshake(14, &[]));
    let bytes = records(22, &flight, &[sh_len + 100, 300]);
    let mut p = TlsParser::new();
    let out = feed(&mut p, S, &[&bytes[..50], &bytes[50..]]);
    assert_eq!(out.len(), 3, "{out:?}");
    let TlsEvent::ServerHello(sh) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(sh.ja3s, "771,49195,65281-16");
    assert_eq!(sh.ja3s_hash, fingerprint::md5_hex("771,49195,65281-16"));
    assert_eq!(sh.alpn.as_deref(), Some("h2"));
    assert_eq!(
        (sh.selected_version, sh.version_name, sh.weak_cipher),
        (0x0303, "TLS 1.2", false)
    );
    assert_eq!(
        sh.cipher_name.as_deref(),
        Some("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256")
    );
    let TlsEvent::Error(e) = &out[1] else {
        panic!("{out:?}")
    };
    assert_eq!(e.kind, TlsErrorKind::BadCertificate);
    let TlsEvent::Certificates(c) = &out[2] else {
        panic!("{out:?}")
    };
    assert_eq!(c.offset, 5 + sh_len as u64);
    assert_eq!(c.chain.len(), 2);
    // Zeek's x509.log for this certificate (scripts.base.protocols.ssl.ecdsa).
    let x = &c.chain[0];
    assert_eq!(
        x.sha256,
        "11db6d4f6e4df14cec874b9d4a306c64c282dacbd479788ee0510b2c99382dc4"
    );
    assert_eq!(x.serial, "F0AFBBF558BF4D1B71FED9CB33793EE4");
    assert_eq!(
        x.subject,
        "CN=pantz.org,OU=PositiveSSL,OU=Domain Control Validated"
    );
    assert_eq!(x.issuer, "CN=COMODO ECC Domain Validation Secure Server CA,O=COMODO CA Limited,L=Salford,ST=Greater Manchester,C=GB");
    assert_eq!(
        (x.not_before_unix, x.not_after_unix),
        (1415404800, 1573171199)
    );
    assert_eq!(x.not_before, "2014-11-08T00:00:00Z");
    assert_eq!(x.signature_algorithm, "ecdsa-with-SHA256");
    assert_eq!((x.key_type.as_str(), x.key_bits), ("ecdsa", Some(384)));
    assert_eq!(x.curve.as_deref(), Some("secp384r1"));
    assert_eq!(x.key_alg, "id-ecPublicKey");
    assert_eq!(x.san_dns, ["pantz.org", "www.pantz.org"]);
    assert_eq!((x.version, x.self_signed), (3, false));
    assert!(!p.done());
    let out = feed(&mut p, C, &[&records(22, &handshake(16, &[0; 33]), &[])]);
    assert!(out.is_empty());
    assert!(p.done());
}

#[test]
fn alert_ccs_and_encryption() {
    let mut p = TlsParser::new();
    let out = feed(
        &mut p,
        S,
        &[
            &[21, 3, 3, 0, 2, 2, 40],
            &[20, 3, 3, 0, 1, 1, 22, 3, 3, 0, 1, 0xff],
        ],
    );
    assert_eq!(
        out,
        [TlsEvent::Alert(TlsAlert {
            offset: 0,
            direction: S,
            level: 2,
            description: 40
        })]
    );
    let out = feed(
        &mut p,
        C,
        &[&[23, 3, 3, 0, 3, 1, 2, 3], b"GET / HTTP/1.1\r\n"],
    );
    assert!(out.is_empty());
    assert!(p.done());
    // Not TLS: an error, then TLS is picked up at the next chunk that starts a record
    // (STARTTLS); in between the direction counts as finished.
    let mut p = TlsParser::new();
    let out = feed(&mut p, C, &[b"EHLO x\r\nSTARTTLS\r\n"]);
    assert!(matches!(&out[..], [TlsEvent::Error(e)] if e.kind == TlsErrorKind::BadRecord));
    let out = feed(&mut p, S, &[b"220 2.0.0 Ready to start TLS\r\n"]);
    assert_eq!(out.len(), 1);
    assert!(p.done());
    let out = feed(&mut p, C, &[b"more text\r\n", &unhex(FOXIO[0].0)]);
    assert_eq!(client_hello(&out).offset, 34);
    assert!(!p.done());
    // A gap resynchronises on the next record.
    p = TlsParser::new();
    let rec = unhex(FOXIO[0].0);
    let mut out = feed(&mut p, C, &[&rec[..100]]);
    p.gap(C, 50);
    p.data(C, &rec[200..300], &mut out);
    p.data(C, &rec, &mut out);
    assert_eq!(out.len(), 1);
    assert_eq!(client_hello(&out).offset, 100 + 50 + 100 + 5);
}

#[test]
fn grease_is_kept_raw_and_ignored_by_fingerprints() {
    let mut body = vec![3, 3];
    body.extend_from_slice(&[0; 32]);
    body.push(0);
    body.extend_from_slice(&[0, 6, 0x3a, 0x3a, 0x13, 0x01, 0x00, 0x2f]);
    body.extend_from_slice(&[1, 0]);
    let exts: &[u8] = &[
        0x8a, 0x8a, 0, 0, // GREASE extension
        0, 10, 0, 6, 0, 4, 0xfa, 0xfa, 0, 29, // groups: GREASE, x25519
        0, 43, 0, 5, 4, 0x6a, 0x6a, 3, 4, // versions: GREASE, 1.3
        0, 13, 0, 6, 0, 4, 0x0a, 0x0a, 4, 3, // sigalgs: GREASE, 0x0403
    ];
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(exts);
    let out = feed(
        &mut TlsParser::new(),
        C,
        &[&records(22, &handshake(1, &body), &[])],
    );
    let h = client_hello(&out);
    assert_eq!(h.cipher_suites, [0x3a3a, 0x1301, 0x002f]);
    assert_eq!(h.extensions, [0x8a8a, 10, 43, 13]);
    assert_eq!(h.supported_versions, [0x6a6a, 0x0304]);
    assert_eq!(h.ja3, "771,4865-47,10-43-13,29,");
    assert!(h.ja4.starts_with("t13i020300_"), "{}", h.ja4);
    let sig_only = fingerprint::ja4(&fingerprint::Ja4Input {
        transport: 't',
        version: 0x0303,
        supported_versions: &[0x0304],
        ciphers: &[0x1301, 0x002f],
        extensions: &[10, 43, 13],
        signature_algorithms: &[0x0403],
        first_alpn: None,
    });
    assert_eq!(h.ja4, sig_only);
}

#[test]
fn sslv2_client_hello() {
    // SSLv2 CLIENT-HELLO, version 3.1, three specs (two SSLv2-only, one TLS 0x000a).
    let mut msg = vec![1, 3, 1, 0, 9, 0, 0, 0, 16];
    msg.extend_from_slice(&[0x07, 0x00, 0xc0, 0x00, 0x00, 0x0a, 0x01, 0x00, 0x80]);
    msg.extend_from_slice(&[0xaa; 16]);
    let mut rec = vec![0x80 | (msg.len() >> 8) as u8, msg.len() as u8];
    rec.extend_from_slice(&msg);
    assert_eq!(probe(C, &rec), Probe::Match);
    let out = feed(&mut TlsParser::new(), C, &[&rec]);
    let h = client_hello(&out);
    assert_eq!((h.record_version, h.version), (2, 0x0301));
    assert_eq!(h.cipher_suites, [0x000a]);
    assert_eq!(h.ja3, "769,10,,,");
    assert!(h.ja4.starts_with("t10i0100"));
}

#[test]
fn probes() {
    let ch = unhex(FOXIO[0].0);
    assert_eq!(probe(C, &ch), Probe::Match);
    assert_eq!(probe(C, &ch[..11]), Probe::Match);
    for n in 0..11 {
        assert_eq!(probe(C, &ch[..n]), Probe::NeedMore, "{n}");
    }
    assert_eq!(probe(S, &ch), Probe::NoMatch);
    let sh = records(22, &handshake(2, &server_hello_body()), &[]);
    assert_eq!(probe(S, &sh), Probe::Match);
    assert_eq!(probe(C, &sh), Probe::NoMatch);
    assert_eq!(probe(C, b"GET / HTTP/1.1\r\n"), Probe::NoMatch);
    assert_eq!(probe(C, &[22, 3, 5]), Probe::NoMatch);
    assert_eq!(probe(C, &[22, 3, 1, 0xff, 0xff]), Probe::NoMatch);
    assert_eq!(
        probe(C, &[22, 3, 1, 0, 50, 1, 0, 0, 10, 3, 3]),
        Probe::NoMatch
    );
    assert_eq!(probe(C, &[0x80, 0x2e, 2]), Probe::NoMatch);
    assert_eq!(probe(S, &[0x80, 0x2e, 4]), Probe::NoMatch);
}

#[test]
fn cipher_properties() {
    assert_eq!(cipher_name(0x1301), Some("TLS_AES_128_GCM_SHA256"));
    assert_eq!(cipher_name(0x0a0a), None);
    for weak in [
        0x0000, 0x0002, 0x0003, 0x0004, 0x0005, 0x000a, 0x0009, 0x0034, 0xc016,
    ] {
        assert!(is_weak_cipher(weak), "{weak:#06x} {:?}", cipher_name(weak));
    }
    for strong in [
        0x1301, 0x1302, 0x1303, 0xc02f, 0xc02b, 0xcca8, 0x009c, 0x002f, 0x00ff,
    ] {
        assert!(
            !is_weak_cipher(strong),
            "{strong:#06x} {:?}",
            cipher_name(strong)
        );
    }
    assert_eq!(version_name(0x0303), "TLS 1.2");
    assert_eq!(version_name(0x7f17), "TLS 1.3 draft");
    assert_eq!(version_name(0x1234), "unknown");
}
