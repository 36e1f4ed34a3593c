//! Literal-bytes tests for every format variant, the error contract, truncation and corruption.

use std::io::{Cursor, Read, Write};

use crate::*;

/// A packet copied out of the reader, for comparisons.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Owned {
    pub ts: Timestamp,
    pub linktype: LinkType,
    pub data: Vec<u8>,
    pub orig_len: u32,
    pub index: u64,
    pub offset: u64,
    pub interface: u32,
}

/// Reads everything; checks the source stays at `Ok(None)` afterwards.
pub(crate) fn collect(r: &mut dyn PacketSource) -> (Vec<Owned>, Option<CaptureError>) {
    let mut out = Vec::new();
    let err = loop {
        match r.next_packet() {
            Ok(Some(p)) => out.push(Owned {
                ts: p.ts,
                linktype: p.linktype,
                data: p.data.to_vec(),
                orig_len: p.orig_len,
                index: p.index,
                offset: p.offset,
                interface: p.interface,
            }),
            Ok(None) => break None,
            Err(e) => break Some(e),
        }
    };
    assert!(matches!(r.next_packet(), Ok(None)));
    assert!(matches!(r.next_packet(), Ok(None)));
    (out, err)
}

fn put16(v: &mut Vec<u8>, be: bool, x: u16) {
    v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() });
}
fn put32(v: &mut Vec<u8>, be: bool, x: u32) {
    v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() });
}
fn put64(v: &mut Vec<u8>, be: bool, x: u64) {
    v.extend_from_slice(&if be { x.to_be_bytes() } else { x.to_le_bytes() });
}

/// A classic pcap file: `(sec, frac, data, orig_len)` records.
pub(crate) fn pcap_file(
    be: bool,
    magic: u32,
    linktype: u32,
    recs: &[(u32, u32, &[u8], u32)],
) -> Vec<u8> {
    let mut v = Vec::new();
    put32(&mut v, be, magic);
    put16(&mut v, be, 2);
    put16(&mut v, be, 4);
    put32(&mut v, be, 0);
    put32(&mut v, be, 0);
    put32(&mut v, be, 65535);
    put32(&mut v, be, linktype);
    for &(sec, frac, data, orig) in recs {
        put32(&mut v, be, sec);
        put32(&mut v, be, frac);
        put32(&mut v, be, data.len() as u32);
        put32(&mut v, be, orig);
        if magic == 0xa1b2_cd34 {
            v.extend_from_slice(&[9, 0, 0, 0, 0, 8, 0, 0]);
        }
        v.extend_from_slice(data);
    }
    v
}

/// A pcapng block with `body` padded to 4 bytes.
fn block(be: bool, btype: u32, body: &[u8]) -> Vec<u8> {
    let padded = (body.len() + 3) & !3;
    let total = (12 + padded) as u32;
    let mut v = Vec::new();
    put32(&mut v, be, btype);
    put32(&mut v, be, total);
    v.extend_from_slice(body);
    v.resize(8 + padded, 0);
    put32(&mut v, be, total);
    v
}

fn shb(be: bool) -> Vec<u8> {
    let mut b = Vec::new();
    put32(&mut b, be, 0x1a2b_3c4d);
    put16(&mut b, be, 1);
    put16(&mut b, be, 0);
    put64(&mut b, be, u64::MAX);
    block(be, 0x0a0d_0d0a, &b)
}

fn idb(be: bool, linktype: u16, snaplen: u32, opts: &[(u16, &[u8])]) -> Vec<u8> {
    let mut b = Vec::new();
    put16(&mut b, be, linktype);
    put16(&mut b, be, 0);
    put32(&mut b, be, snaplen);
    for &(code, val) in opts {
        put16(&mut b, be, code);
        put16(&mut b, be, val.len() as u16);
        b.extend_from_slice(val);
        b.resize((b.len() + 3) & !3, 0);
    }
    if !opts.is_empty() {
        put32(&mut b, be, 0);
    }
    block(be, 1, &b)
}

fn epb(be: bool, id: u32, units: u64, data: &[u8], orig: u32) -> Vec<u8> {
    let mut b = Vec::new();
    put32(&mut b, be, id);
    put32(&mut b, be, (units >> 32) as u32);
    put32(&mut b, be, units as u32);
    put32(&mut b, be, data.len() as u32);
    put32(&mut b, be, orig);
    b.extend_from_slice(data);
    b.resize((b.len() + 3) & !3, 0);
    // An option (opt_comment) and end of options, which the reader must ignore.
    put16(&mut b, be, 1);
    put16(&mut b, be, 2);
    b.extend_from_slice(b"hi\0\0");
    put32(&mut b, be, 0);
    block(be, 6, &b)
}

fn spb(be: bool, orig: u32, data: &[u8]) -> Vec<u8> {
    let mut b = Vec::new();
    put32(&mut b, be, orig);
    b.extend_from_slice(data);
    block(be, 3, &b)
}

fn obsolete_pb(be: bool, id: u16, units: u64, data: &[u8], orig: u32) -> Vec<u8> {
    let mut b = Vec::new();
    put16(&mut b, be, id);
    put16(&mut b, be, 0);
    put32(&mut b, be, (units >> 32) as u32);
    put32(&mut b, be, units as u32);
    put32(&mut b, be, data.len() as u32);
    put32(&mut b, be, orig);
    b.extend_from_slice(data);
    block(be, 2, &b)
}

/// Two sections (LE then BE), four interfaces, every packet block type, skipped blocks.
/// Returns the file and the expected packets.
pub(crate) fn sample_pcapng() -> (Vec<u8>, Vec<Owned>) {
    let mut f = Vec::new();
    let mut want = Vec::new();
    let mut push =
        |f: &mut Vec<u8>, blk: Vec<u8>, p: Option<(Timestamp, LinkType, &[u8], u32, u32)>| {
            if let Some((ts, linktype, data, orig_len, interface)) = p {
                want.push(Owned {
                    ts,
                    linktype,
                    data: data.to_vec(),
                    orig_len,
                    index: want.len() as u64,
                    offset: f.len() as u64,
                    interface,
                });
            }
            f.extend_from_slice(&blk);
        };
    let le = false;
    push(&mut f, shb(le), None);
    push(&mut f, idb(le, 1, 4, &[]), None); // iface 0: Ethernet, µs, snaplen 4
    push(&mut f, idb(le, 101, 0, &[(9, &[9])]), None); // iface 1: RAW, ns
    let off = 100u64.to_le_bytes();
    push(
        &mut f,
        idb(le, 113, 0, &[(9, &[0x80 | 10]), (14, &off)]),
        None,
    ); // iface 2: SLL, 2^-10 s, +100 s
    push(
        &mut f,
        epb(le, 1, 1_234_567_890_123, &[0x45, 1, 2], 40),
        Some((1_234_567_890_123, LinkType::RAW, &[0x45, 1, 2], 40, 1)),
    );
    push(&mut f, block(le, 0x0bad_0bad, &[1, 2, 3, 4, 5]), None); // unknown
    push(&mut f, block(le, 4, &[0, 0, 0, 0]), None); // NRB
    push(&mut f, block(le, 5, &[0; 12]), None); // ISB
    push(&mut f, block(le, 0x4000_0bad, &[0; 8]), None); // custom
    push(
        &mut f,
        epb(le, 2, 1536, b"sll", 3),
        Some((101_500_000_000, LinkType::LINUX_SLL, b"sll", 3, 2)),
    );
    push(
        &mut f,
        spb(le, 9, b"abcdefg"),
        Some((0, LinkType::ETHERNET, b"abcd", 9, 0)),
    ); // snaplen 4
    push(
        &mut f,
        spb(le, 2, b"xyz"),
        Some((0, LinkType::ETHERNET, b"xy", 2, 0)),
    ); // orig_len 2
    push(
        &mut f,
        epb(le, 0, 3_000_001, b"eth0", 60),
        Some((3_000_001_000, LinkType::ETHERNET, b"eth0", 60, 0)),
    );
    push(
        &mut f,
        obsolete_pb(le, 0, 7, b"old", 64),
        Some((7_000, LinkType::ETHERNET, b"old", 64, 0)),
    );
    let be = true;
    push(&mut f, shb(be), None);
    push(&mut f, idb(be, 228, 0, &[(9, &[3])]), None); // iface 0: IPV4, ms
    push(
        &mut f,
        epb(be, 0, 5, &[0x45, 0, 0, 20], 20),
        Some((5_000_000, LinkType::IPV4, &[0x45, 0, 0, 20], 20, 0)),
    );
    push(
        &mut f,
        epb(be, 0, 6, &[], 0),
        Some((6_000_000, LinkType::IPV4, &[], 0, 0)),
    );
    (f, want)
}

/// A four-packet LE µs Ethernet pcap.
pub(crate) fn sample_pcap() -> (Vec<u8>, Vec<Owned>) {
    let recs: [(u32, u32, &[u8], u32); 4] = [
        (1, 2, b"first", 60),
        (3, 999_999, b"", 0),
        (u32::MAX, 5, b"third packet", 100),
        (7, 8, b"4", 1),
    ];
    let f = pcap_file(false, 0xa1b2_c3d4, 1, &recs);
    let mut off = 24u64;
    let want = recs
        .iter()
        .enumerate()
        .map(|(i, &(s, us, d, o))| {
            let p = Owned {
                ts: i64::from(s) * 1_000_000_000 + i64::from(us) * 1000,
                linktype: LinkType::ETHERNET,
                data: d.to_vec(),
                orig_len: o,
                index: i as u64,
                offset: off,
                interface: 0,
            };
            off += 16 + d.len() as u64;
            p
        })
        .collect();
    (f, want)
}

fn read_vec(bytes: &[u8]) -> Result<(Vec<Owned>, Option<CaptureError>), CaptureError> {
    let mut r = FileReader::from_vec(bytes.to_vec(), "t")?;
    Ok(collect(&mut r))
}

/// A reader handing out at most `n` bytes per call.
struct Dribble(Cursor<Vec<u8>>, usize);
impl Read for Dribble {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.1);
        self.0.read(&mut buf[..n])
    }
}

fn read_stream(
    bytes: &[u8],
    chunk: usize,
) -> Result<(Vec<Owned>, Option<CaptureError>), CaptureError> {
    let mut r =
        FileReader::open_stream(Box::new(Dribble(Cursor::new(bytes.to_vec()), chunk)), "t")?;
    Ok(collect(&mut r))
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn reads_all_four_pcap_variants() {
    for (be, magic, nanos) in [
        (false, 0xa1b2_c3d4, false),
        (true, 0xa1b2_c3d4, false),
        (false, 0xa1b2_3c4d, true),
        (true, 0xa1b2_3c4d, true),
    ] {
        let f = pcap_file(
            be,
            magic,
            113,
            &[(10, 20, b"abc", 70), (11, 999_999_999, b"", 5)],
        );
        let mut r = FileReader::from_vec(f, "t").unwrap();
        assert_eq!(
            r.format(),
            CaptureFormat::Pcap {
                nanos,
                big_endian: be
            }
        );
        assert_eq!(r.snaplen(), Some(65535));
        let (got, err) = collect(&mut r);
        assert!(err.is_none());
        let scale = if nanos { 1 } else { 1000 };
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].ts, 10_000_000_000 + 20 * scale);
        assert_eq!(got[1].ts, 11_000_000_000 + 999_999_999 * scale);
        assert_eq!(got[0].linktype, LinkType::LINUX_SLL);
        assert_eq!(
            (
                got[0].data.as_slice(),
                got[0].orig_len,
                got[0].index,
                got[0].offset
            ),
            (&b"abc"[..], 70, 0, 24)
        );
        assert_eq!(
            (
                got[1].data.as_slice(),
                got[1].orig_len,
                got[1].index,
                got[1].offset
            ),
            (&b""[..], 5, 1, 24 + 16 + 3)
        );
        assert!(got.iter().all(|p| p.interface == 0));
    }
}

#[test]
fn reads_modified_kuznetsov_pcap() {
    for be in [false, true] {
        let f = pcap_file(be, 0xa1b2_cd34, 1, &[(1, 2, b"ab", 2), (3, 4, b"c", 9)]);
        let mut r = FileReader::from_vec(f, "t").unwrap();
        assert_eq!(r.format(), CaptureFormat::PcapModified { big_endian: be });
        let (got, err) = collect(&mut r);
        assert!(err.is_none());
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].ts, got[0].data.as_slice(), got[0].offset),
            (1_000_002_000, &b"ab"[..], 24)
        );
        assert_eq!(
            (
                got[1].ts,
                got[1].data.as_slice(),
                got[1].orig_len,
                got[1].offset
            ),
            (3_000_004_000, &b"c"[..], 9, 24 + 24 + 2)
        );
    }
}

#[test]
fn masks_fcs_bits_out_of_pcap_link_type() {
    let f = pcap_file(false, 0xa1b2_c3d4, 0x1000_0000 | 101, &[(1, 2, b"x", 1)]);
    let (got, _) = read_vec(&f).unwrap();
    assert_eq!(got[0].linktype, LinkType::RAW);
}

#[test]
fn reads_pcapng_sections_interfaces_and_all_packet_blocks() {
    let (f, want) = sample_pcapng();
    let mut r = FileReader::from_vec(f.clone(), "t.pcapng").unwrap();
    assert_eq!(r.format(), CaptureFormat::PcapNg);
    assert_eq!(r.snaplen(), None);
    let (got, err) = collect(&mut r);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(got, want);
    assert_eq!(r.packet_count(), want.len() as u64);
    assert_eq!(r.position(), f.len() as u64);
}

#[test]
fn header_only_files_are_a_clean_end() {
    let (f, _) = sample_pcap();
    assert!(read_vec(&f[..24]).unwrap().0.is_empty());
    assert!(read_vec(&f[..24]).unwrap().1.is_none());
    let s = shb(true);
    assert_eq!(read_vec(&s).unwrap().0.len(), 0);
    assert!(read_vec(&s).unwrap().1.is_none());
}

#[test]
fn rejects_empty_short_and_foreign_inputs() {
    let e = FileReader::from_vec(Vec::new(), "e").unwrap_err();
    assert!(matches!(e.kind, CaptureErrorKind::Empty));
    assert_eq!(e.to_string(), "e: empty file");
    let e = FileReader::from_vec(vec![0xd4, 0xc3], "e").unwrap_err();
    assert!(matches!(
        e.kind,
        CaptureErrorKind::Truncated {
            needed: 4,
            available: 2
        }
    ));
    let e = FileReader::from_vec(b"GIF89a".to_vec(), "e").unwrap_err();
    assert!(matches!(
        e.kind,
        CaptureErrorKind::UnknownFormat { magic: 0x4749_4638, ref head, gzip: false } if head == b"GIF89a"
    ));
    let (f, _) = sample_pcap();
    let e = FileReader::from_vec(f[..20].to_vec(), "e").unwrap_err();
    assert!(matches!(
        e.kind,
        CaptureErrorKind::Truncated {
            needed: 24,
            available: 20
        }
    ));
    let e = FileReader::open_stream(Box::new(Cursor::new(Vec::new())), "-").unwrap_err();
    assert!(matches!(e.kind, CaptureErrorKind::Empty));
    let e = FileReader::from_vec(gzip(b""), "gz").unwrap_err();
    assert!(matches!(e.kind, CaptureErrorKind::Empty));
}

#[test]
fn rejects_pcap_record_longer_than_cap() {
    let (mut f, want) = sample_pcap();
    let second = want[1].offset as usize;
    f[second + 8..second + 12].copy_from_slice(&((MAX_RECORD_LEN + 1) as u32).to_le_bytes());
    let (got, err) = read_vec(&f).unwrap();
    assert_eq!(got, want[..1]);
    let err = err.unwrap();
    assert!(matches!(err.kind, CaptureErrorKind::RecordTooLarge { .. }));
    assert_eq!((err.offset, err.packet_index), (want[1].offset, 1));
}

#[test]
fn rejects_pcap_record_longer_than_the_file() {
    let (mut f, want) = sample_pcap();
    let last = want[3].offset as usize;
    f[last + 8..last + 12].copy_from_slice(&1000u32.to_le_bytes());
    let (got, err) = read_vec(&f).unwrap();
    assert_eq!(got, want[..3]);
    let err = err.unwrap();
    assert!(matches!(
        err.kind,
        CaptureErrorKind::Truncated {
            needed: 1016,
            available: 17
        }
    ));
    assert_eq!((err.offset, err.packet_index), (want[3].offset, 3));
}

/// Builds a pcapng: SHB, IDB, then `extra`; returns the error at `extra`'s offset.
fn pcapng_error(extra: Vec<u8>) -> CaptureError {
    let mut f = shb(false);
    f.extend(idb(false, 1, 0, &[]));
    let at = f.len() as u64;
    f.extend(epb(false, 0, 1, b"ok", 2));
    let bad_at = f.len() as u64;
    f.extend(extra);
    let (got, err) = read_vec(&f).unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].offset, at);
    let err = err.expect("an error");
    assert_eq!((err.offset, err.packet_index), (bad_at, 1));
    err
}

#[test]
fn rejects_pcapng_trailing_length_mismatch() {
    let mut b = epb(false, 0, 1, b"x", 1);
    let n = b.len();
    b[n - 4] ^= 4;
    let e = pcapng_error(b);
    assert!(matches!(
        e.kind,
        CaptureErrorKind::BadBlock {
            what: "trailing block total length"
        }
    ));
}

#[test]
fn rejects_pcapng_block_length_not_multiple_of_four_or_too_small() {
    for total in [13u32, 8, 0] {
        let mut b = epb(false, 0, 1, b"x", 1);
        b[4..8].copy_from_slice(&total.to_le_bytes());
        let e = pcapng_error(b);
        assert!(
            matches!(
                e.kind,
                CaptureErrorKind::BadBlock {
                    what: "block total length"
                }
            ),
            "{e}"
        );
    }
}

#[test]
fn rejects_pcapng_block_longer_than_cap() {
    let mut b = epb(false, 0, 1, b"x", 1);
    b[4..8].copy_from_slice(&(u32::MAX - 3).to_le_bytes());
    let e = pcapng_error(b);
    assert!(matches!(e.kind, CaptureErrorKind::RecordTooLarge { .. }));
}

#[test]
fn rejects_pcapng_truncated_block() {
    let b = epb(false, 0, 1, b"abcdef", 6);
    let n = b.len();
    let e = pcapng_error(b[..n - 1].to_vec());
    assert!(
        matches!(e.kind, CaptureErrorKind::Truncated { needed, available } if needed == n as u64 && available == n as u64 - 1)
    );
    let e = pcapng_error(b[..5].to_vec());
    assert!(matches!(
        e.kind,
        CaptureErrorKind::Truncated {
            needed: 12,
            available: 5
        }
    ));
}

#[test]
fn rejects_epb_caplen_beyond_block() {
    let mut b = epb(false, 0, 1, b"x", 1);
    b[20..24].copy_from_slice(&200u32.to_le_bytes());
    let e = pcapng_error(b);
    assert!(matches!(
        e.kind,
        CaptureErrorKind::BadBlock {
            what: "enhanced packet captured length"
        }
    ));
}

#[test]
fn rejects_packet_on_undeclared_interface() {
    let e = pcapng_error(epb(false, 1, 1, b"x", 1));
    assert!(matches!(
        e.kind,
        CaptureErrorKind::UnknownInterface { id: 1 }
    ));
    // A new section forgets the interfaces of the previous one.
    let mut extra = shb(true);
    extra.extend(epb(true, 0, 1, b"x", 1));
    let mut f = shb(false);
    f.extend(idb(false, 1, 0, &[]));
    f.extend(epb(false, 0, 1, b"ok", 2));
    let bad_at = (f.len() + shb(true).len()) as u64;
    f.extend(extra);
    let (got, err) = read_vec(&f).unwrap();
    assert_eq!(got.len(), 1);
    let err = err.unwrap();
    assert!(matches!(
        err.kind,
        CaptureErrorKind::UnknownInterface { id: 0 }
    ));
    assert_eq!(err.offset, bad_at);
}

#[test]
fn rejects_bad_byte_order_magic_and_version() {
    let mut s = shb(false);
    s[8] = 0x99;
    let e = pcapng_error(s);
    assert!(matches!(
        e.kind,
        CaptureErrorKind::BadBlock {
            what: "byte-order magic"
        }
    ));
    let mut s = shb(false);
    s[12] = 2;
    let e = pcapng_error(s);
    assert!(matches!(
        e.kind,
        CaptureErrorKind::UnsupportedVersion { major: 2, minor: 0 }
    ));
}

#[test]
fn rejects_malformed_interface_options() {
    let mut b = idb(false, 1, 0, &[(9, &[6])]);
    // Option length 200 runs past the block.
    b[18..20].copy_from_slice(&200u16.to_le_bytes());
    let n = b.len();
    let e = pcapng_error(b);
    assert!(
        matches!(
            e.kind,
            CaptureErrorKind::BadBlock {
                what: "interface option length"
            }
        ),
        "{e} {n}"
    );
}

#[test]
fn rejects_malformed_section_header_options_naming_the_block() {
    // An SHB with one option whose length (200) runs past the block.
    let mut body = Vec::new();
    put32(&mut body, false, 0x1a2b_3c4d);
    put16(&mut body, false, 1);
    put16(&mut body, false, 0);
    put64(&mut body, false, u64::MAX);
    put16(&mut body, false, 2); // shb_hardware
    put16(&mut body, false, 200);
    body.extend_from_slice(b"abcd");
    let first = block(false, 0x0a0d_0d0a, &body);
    match FileReader::from_vec(first.clone(), "t") {
        Err(e) => assert!(
            matches!(
                e.kind,
                CaptureErrorKind::BadBlock {
                    what: "section header option length"
                }
            ),
            "{e}"
        ),
        Ok(_) => panic!("a section header with an option overrun was accepted"),
    }
    // The same block as a later section.
    let e = pcapng_error(first);
    assert!(
        matches!(
            e.kind,
            CaptureErrorKind::BadBlock {
                what: "section header option length"
            }
        ),
        "{e}"
    );
}

#[test]
fn out_of_range_time_offset_saturates_and_warns() {
    let mut f = shb(false);
    f.extend(idb(false, 1, 0, &[(14, &i64::MIN.to_le_bytes())]));
    f.extend(epb(false, 0, 1_700_000_000_000_000, b"ok", 2));
    let mut r = FileReader::from_vec(f, "t").unwrap();
    let p = r.next_packet().unwrap().unwrap();
    assert_eq!(
        p.ts,
        i64::MIN,
        "the timestamp saturates instead of wrapping"
    );
    let w = r.take_warnings();
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].contains("if_tsoffset"), "{w:?}");
    // A representable negative offset moves time back without a warning.
    let mut f = shb(false);
    f.extend(idb(false, 1, 0, &[(14, &(-10i64).to_le_bytes())]));
    f.extend(epb(false, 0, 20_000_000, b"ok", 2));
    let mut r = FileReader::from_vec(f, "t").unwrap();
    assert_eq!(r.next_packet().unwrap().unwrap().ts, 10_000_000_000);
    assert!(r.take_warnings().is_empty());
}

#[test]
fn stream_path_matches_whole_path_for_any_chunking() {
    for (f, want) in [sample_pcap(), sample_pcapng()] {
        for chunk in [1, 2, 3, 7, 64, 1 << 20] {
            let (got, err) = read_stream(&f, chunk).unwrap();
            assert!(err.is_none());
            assert_eq!(got, want, "chunk {chunk}");
        }
    }
}

#[test]
fn reads_gzip_including_multiple_members() {
    for (f, want) in [sample_pcap(), sample_pcapng()] {
        let (got, err) = read_vec(&gzip(&f)).unwrap();
        assert!(err.is_none());
        assert_eq!(got, want);
        let mut two = gzip(&f[..30]);
        two.extend(gzip(&f[30..]));
        let mut r = FileReader::from_vec(two, "t.gz").unwrap();
        assert!(r.is_gzip());
        assert!(!r.is_memory_mapped());
        let (got, err) = collect(&mut r);
        assert!(err.is_none());
        assert_eq!(got, want);
    }
}

#[test]
fn stream_buffer_grows_for_a_record_larger_than_itself() {
    let big: Vec<u8> = (0..STREAM_BUFFER_LEN * 3 + 5).map(|i| i as u8).collect();
    let f = pcap_file(
        false,
        0xa1b2_c3d4,
        1,
        &[(1, 1, b"a", 1), (2, 2, &big, 70_000), (3, 3, b"c", 1)],
    );
    let whole = read_vec(&f).unwrap();
    let stream = read_stream(&f, 1 << 16).unwrap();
    assert!(whole.1.is_none() && stream.1.is_none());
    assert_eq!(whole.0.len(), 3);
    assert_eq!(whole.0[1].data, big);
    assert_eq!(whole.0, stream.0);
}

#[test]
fn text_file_is_not_a_capture_and_says_what_it_starts_with() {
    let dir = std::env::temp_dir().join(format!("custos-capture-text-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("notes.txt");
    std::fs::write(&text, b"hello world\n").unwrap();
    let want = format!(
        "{}: not a pcap or pcapng file: starts with \"hello wo\" (magic 0x68656c6c)",
        text.display()
    );
    // The memory-mapped and the streaming path say the same.
    let e = FileReader::open(&text).unwrap_err();
    assert_eq!(e.to_string(), want);
    let f = std::fs::File::open(&text).unwrap();
    let e = FileReader::open_stream(Box::new(f), &text.to_string_lossy()).unwrap_err();
    assert_eq!(e.to_string(), want);
    // Compressed text: the same, and it says it was decompressed.
    let e = FileReader::from_vec(gzip(b"\x00\x01\tbinary\""), "t.gz").unwrap_err();
    assert_eq!(
        e.to_string(),
        "t.gz: gzip-compressed, but not a pcap or pcapng file inside: starts with \"\\x00\\x01\\tbinar\" (magic 0x00010962)"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_file_and_directory_cannot_be_opened_without_a_position() {
    let dir = std::env::temp_dir().join(format!("custos-capture-open-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("nosuch.pcap");
    let e = FileReader::open(&missing).unwrap_err();
    assert!(
        matches!(&e.kind, CaptureErrorKind::Open(io) if io.kind() == std::io::ErrorKind::NotFound)
    );
    assert_eq!(
        e.to_string(),
        format!(
            "{}: cannot open: No such file or directory (os error 2)",
            missing.display()
        )
    );
    let e = FileReader::open(&dir).unwrap_err();
    assert!(
        matches!(&e.kind, CaptureErrorKind::Open(io) if io.kind() == std::io::ErrorKind::IsADirectory)
    );
    assert_eq!(
        e.to_string(),
        format!("{}: cannot open: is a directory", dir.display())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn memory_maps_regular_files_and_detects_gzip_by_magic() {
    let dir = std::env::temp_dir().join(format!("custos-capture-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (f, want) = sample_pcapng();
    let plain = dir.join("a.bin");
    std::fs::write(&plain, &f).unwrap();
    let mut r = FileReader::open(&plain).unwrap();
    assert!(r.is_memory_mapped() && !r.is_gzip());
    assert_eq!(r.name(), plain.to_string_lossy());
    assert_eq!(collect(&mut r).0, want);
    let gz = dir.join("b.pcap"); // misleading extension on purpose
    std::fs::write(&gz, gzip(&f)).unwrap();
    let mut r = FileReader::open(&gz).unwrap();
    assert!(!r.is_memory_mapped() && r.is_gzip());
    assert_eq!(collect(&mut r).0, want);
    let empty = dir.join("c.pcap");
    std::fs::write(&empty, b"").unwrap();
    assert!(matches!(
        FileReader::open(&empty).unwrap_err().kind,
        CaptureErrorKind::Empty
    ));
    let missing = FileReader::open(&dir.join("missing")).unwrap_err();
    assert!(matches!(missing.kind, CaptureErrorKind::Open(_)));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every cut of a valid pcap: no panic; the packets before the cut are exactly the originals; a
/// cut on a record boundary is a clean end, any other cut gives one error inside the file.
fn check_truncations(f: &[u8], want: &[Owned], header_len: usize) {
    let mut boundaries: Vec<usize> = want.iter().map(|p| p.offset as usize).collect();
    boundaries.push(f.len());
    for cut in 0..=f.len() {
        let part = &f[..cut];
        for (path, res) in [
            ("whole", read_vec(part)),
            ("stream", read_stream(part, 5)),
            ("gzip", read_vec(&gzip(part))),
        ] {
            let (got, err) = match res {
                Ok(r) => r,
                Err(e) => {
                    assert!(cut < header_len, "{path} cut {cut}: open failed: {e}");
                    assert_eq!((e.offset, e.packet_index), (0, 0));
                    continue;
                }
            };
            assert!(cut >= header_len);
            let complete: Vec<Owned> = want
                .iter()
                .filter(|p| boundaries[p.index as usize + 1] <= cut)
                .cloned()
                .collect();
            assert_eq!(got, complete, "{path} cut {cut}");
            match err {
                None => assert!(
                    cut == header_len || boundaries.contains(&cut),
                    "{path} cut {cut}: clean end inside a record"
                ),
                Some(e) => {
                    assert!(
                        !boundaries.contains(&cut),
                        "{path} cut {cut}: error at a boundary: {e}"
                    );
                    assert_eq!(e.offset, boundaries[got.len()] as u64, "{path} cut {cut}");
                    assert!(
                        e.offset < cut as u64,
                        "{path} cut {cut}: offset {}",
                        e.offset
                    );
                    assert_eq!(e.packet_index, got.len() as u64, "{path} cut {cut}");
                    assert!(
                        matches!(e.kind, CaptureErrorKind::Truncated { .. }),
                        "{path} cut {cut}: {e}"
                    );
                }
            }
        }
    }
}

#[test]
fn every_truncation_of_a_pcap_yields_the_prefix_then_one_error() {
    let (f, want) = sample_pcap();
    check_truncations(&f, &want, 24);
}

#[test]
fn every_truncation_of_a_pcapng_yields_the_prefix_then_one_error() {
    let (f, want) = sample_pcapng();
    // Clean ends in pcapng happen at any block boundary, not only at packet starts.
    let mut block_ends = Vec::new();
    let mut at = 0usize;
    while at < f.len() {
        let be = is_be_section(&f, at);
        let len = if be {
            u32::from_be_bytes(f[at + 4..at + 8].try_into().unwrap())
        } else {
            u32::from_le_bytes(f[at + 4..at + 8].try_into().unwrap())
        } as usize;
        at += len;
        block_ends.push((at, be));
    }
    assert_eq!(at, f.len());
    let ends: Vec<usize> = block_ends.iter().map(|&(e, _)| e).collect();
    for cut in 1..=f.len() {
        let part = &f[..cut];
        for (path, res) in [
            ("whole", read_vec(part)),
            ("stream", read_stream(part, 3)),
            ("gzip", read_vec(&gzip(part))),
        ] {
            // A cut inside the first section header fails when opened: nothing was read.
            let (got, err) = match res {
                Ok(r) => r,
                Err(e) => {
                    assert!(cut < ends[0], "{path} cut {cut}: {e}");
                    assert_eq!(e.packet_index, 0);
                    continue;
                }
            };
            assert!(
                cut >= ends[0],
                "{path} cut {cut}: opened a cut section header"
            );
            let complete: Vec<Owned> = want
                .iter()
                .filter(|p| ends.iter().any(|&e| e > p.offset as usize && e <= cut))
                .cloned()
                .collect();
            assert_eq!(got, complete, "{path} cut {cut}");
            match err {
                None => assert!(
                    ends.contains(&cut),
                    "{path} cut {cut}: clean end inside a block"
                ),
                Some(e) => {
                    assert!(
                        !ends.contains(&cut),
                        "{path} cut {cut}: error at a boundary: {e}"
                    );
                    assert!(e.offset < cut as u64);
                    assert_eq!(e.packet_index, got.len() as u64);
                    assert!(
                        matches!(e.kind, CaptureErrorKind::Truncated { .. }),
                        "{path} cut {cut}: {e}"
                    );
                }
            }
        }
    }
}

/// Whether the block at `at` lies in the big-endian second section of [`sample_pcapng`].
fn is_be_section(f: &[u8], at: usize) -> bool {
    // The second SHB is the last block whose first 4 bytes are the SHB magic.
    let second = (4..f.len() - 12)
        .step_by(4)
        .rfind(|&i| {
            f[i..i + 4] == [0x0a, 0x0d, 0x0d, 0x0a] && f[i + 8..i + 12] == [0x1a, 0x2b, 0x3c, 0x4d]
        })
        .unwrap();
    at >= second
}

/// xorshift64*: a tiny seeded PRNG.
pub(crate) struct Rng(pub u64);
impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

#[test]
fn random_corruption_never_panics_and_paths_agree() {
    let mut rng = Rng(0x00c0_ffee_1234_5678);
    for (f, _) in [sample_pcap(), sample_pcapng()] {
        for _ in 0..3000 {
            let mut g = f.clone();
            let flips = 1 + rng.next() % 4;
            for _ in 0..flips {
                let i = (rng.next() % g.len() as u64) as usize;
                g[i] ^= 1 << (rng.next() % 8);
            }
            if rng.next() % 4 == 0 {
                g.truncate((rng.next() % g.len() as u64) as usize);
            }
            let whole = read_vec(&g);
            let stream = read_stream(&g, 1 + (rng.next() % 9) as usize);
            match (whole, stream) {
                (Ok((a, ea)), Ok((b, eb))) => {
                    assert_eq!(a, b);
                    assert_eq!(
                        ea.map(|e| (e.offset, e.packet_index)),
                        eb.map(|e| (e.offset, e.packet_index))
                    );
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                (a, b) => panic!("paths disagree: {a:?} vs {b:?}"),
            }
        }
    }
}
