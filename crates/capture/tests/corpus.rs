//! Reads every capture in the shared corpus through both the memory-mapped (or gzip) path and the
//! forced streaming path, and checks they agree packet for packet.

use std::fs::File;
use std::path::{Path, PathBuf};

use custos_capture::{CaptureFormat, FileReader, LinkType, PacketSource};

fn is_capture(p: &Path) -> bool {
    let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
    [".pcap", ".pcapng", ".cap", ".pcap.gz", ".pcapng.gz", ".gz"]
        .iter()
        .any(|s| name.ends_with(s))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out);
        } else if is_capture(&p) {
            out.push(p);
        }
    }
}

/// What one pass over a source saw: count, a digest of every field of every packet, the error.
#[derive(Debug, PartialEq, Eq)]
struct Summary {
    packets: u64,
    bytes: u64,
    digest: u64,
    linktypes: Vec<LinkType>,
    error: Option<(u64, u64, String)>,
}

fn fnv(h: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *h ^= u64::from(b);
        *h = h.wrapping_mul(0x100_0000_01b3);
    }
}

fn summarize(r: &mut dyn PacketSource) -> Summary {
    let mut s = Summary {
        packets: 0,
        bytes: 0,
        digest: 0xcbf2_9ce4_8422_2325,
        linktypes: Vec::new(),
        error: None,
    };
    loop {
        match r.next_packet() {
            Ok(Some(p)) => {
                assert_eq!(p.index, s.packets, "{}", r.name());
                s.packets += 1;
                s.bytes += p.data.len() as u64;
                fnv(&mut s.digest, &p.ts.to_le_bytes());
                fnv(&mut s.digest, &p.linktype.0.to_le_bytes());
                fnv(&mut s.digest, &p.orig_len.to_le_bytes());
                fnv(&mut s.digest, &p.offset.to_le_bytes());
                fnv(&mut s.digest, &p.interface.to_le_bytes());
                fnv(&mut s.digest, p.data);
                if !s.linktypes.contains(&p.linktype) {
                    s.linktypes.push(p.linktype);
                }
            }
            Ok(None) => break,
            Err(e) => {
                assert_eq!(e.packet_index, s.packets);
                s.error = Some((e.offset, e.packet_index, e.kind.to_string()));
                break;
            }
        }
    }
    assert!(matches!(r.next_packet(), Ok(None)));
    s
}

#[test]
fn corpus_files_read_identically_through_mmap_and_stream_paths() {
    let Some(shared) = custos_test_support::shared() else {
        return;
    };
    let corpus = shared.join("corpus");
    let mut files = Vec::new();
    walk(&corpus.join("tcpdump"), &mut files);
    walk(&corpus.join("zeek/traces"), &mut files);
    walk(&corpus.join("suricata-verify"), &mut files);
    assert!(files.len() > 1000, "only {} captures found", files.len());

    let (mut opened, mut packets, mut damaged, mut pcapng, mut gz) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut open_errors = Vec::new();
    for path in &files {
        let mut a = match FileReader::open(path) {
            Ok(r) => r,
            Err(e) => {
                // The stream path must fail the same way.
                let f = File::open(path).unwrap();
                let e2 = FileReader::open_stream(Box::new(f), &path.to_string_lossy()).unwrap_err();
                assert_eq!(e.to_string(), e2.to_string());
                open_errors.push(e.to_string());
                continue;
            }
        };
        opened += 1;
        let is_gz = a.is_gzip();
        assert_eq!(a.is_memory_mapped(), !is_gz, "{}", path.display());
        let f = File::open(path).unwrap();
        let mut b = FileReader::open_stream(Box::new(f), &path.to_string_lossy()).unwrap();
        assert_eq!(a.format(), b.format());
        assert_eq!(b.is_gzip(), is_gz);
        assert!(!b.is_memory_mapped());
        let sa = summarize(&mut a);
        let sb = summarize(&mut b);
        assert_eq!(sa, sb, "{}", path.display());
        packets += sa.packets;
        if let Some(e) = &sa.error {
            damaged += 1;
            eprintln!("damaged: {}: {:?}", path.display(), e);
        }
        if a.format() == CaptureFormat::PcapNg && sa.packets > 0 {
            pcapng += 1;
        }
        if is_gz {
            gz += 1;
            assert!(sa.packets > 0, "{}", path.display());
        }
    }
    eprintln!(
        "{} files, {opened} opened, {packets} packets, {damaged} damaged, {pcapng} pcapng, {gz} gzip; open errors: {open_errors:?}",
        files.len()
    );
    assert!(pcapng >= 40, "pcapng files with packets: {pcapng}");
    assert!(gz >= 15, "gzip files read: {gz}");
    assert!(packets > 100_000, "packets: {packets}");
    // Damage must stay the exception: the corpus is mostly well-formed captures.
    assert!(damaged * 20 < opened, "{damaged} of {opened} files damaged");
}

/// (ts, linktype, caplen, orig_len, offset, interface)
type Row = (i64, LinkType, usize, u32, u64, u32);

fn read_all(path: &Path) -> (FileReader, Vec<Row>) {
    let mut r = FileReader::open(path).unwrap();
    let mut v = Vec::new();
    while let Some(p) = r.next_packet().unwrap() {
        v.push((
            p.ts,
            p.linktype,
            p.data.len(),
            p.orig_len,
            p.offset,
            p.interface,
        ));
    }
    (r, v)
}

#[test]
fn pcapng_with_two_interfaces_and_different_tsresol() {
    let Some(shared) = custos_test_support::shared() else {
        return;
    };
    // Two IDBs: interface 0 has if_tsresol 9 (ns), interface 1 if_tsresol 6 (µs).
    let (r, v) = read_all(&shared.join("corpus/zeek/traces/pcapng-multi-interface.pcapng"));
    assert_eq!(r.format(), CaptureFormat::PcapNg);
    assert_eq!(v.len(), 6);
    assert_eq!(
        v[0],
        (
            1_767_663_089_500_330_493,
            LinkType::ETHERNET,
            96,
            96,
            348,
            0
        )
    );
    assert_eq!(
        v[2],
        (
            1_767_663_437_111_897_000,
            LinkType::ETHERNET,
            70,
            70,
            724,
            1
        )
    );
    assert_eq!(v[5].4, 1132);
}

#[test]
fn pcapng_with_126_interfaces() {
    let Some(shared) = custos_test_support::shared() else {
        return;
    };
    let (_, v) = read_all(&shared.join("corpus/zeek/traces/ldap/modify-request.pcapng"));
    assert_eq!(v.len(), 17);
}

#[test]
fn gzip_traces_stream_through_fixed_buffer() {
    let Some(shared) = custos_test_support::shared() else {
        return;
    };
    let (r, v) = read_all(&shared.join("corpus/zeek/traces/http/iso-download.pcap.gz"));
    assert!(r.is_gzip() && !r.is_memory_mapped());
    assert_eq!(
        r.format(),
        CaptureFormat::Pcap {
            nanos: false,
            big_endian: false
        }
    );
    assert_eq!(v.len(), 289);
    assert_eq!(v.iter().map(|p| p.2).sum::<usize>(), 377_830);
    let (r, v) =
        read_all(&shared.join("corpus/zeek/traces/contentline/telnet-long-line-no-eol.pcapng.gz"));
    assert!(r.is_gzip());
    assert_eq!(r.format(), CaptureFormat::PcapNg);
    assert_eq!(v.len(), 13_987);
}
