//! Shared checks for the custos fuzz targets (see `README.md`).
//!
//! Every check panics (which libFuzzer reports as a crash) when a property is violated.

use std::io::Cursor;

use custos_capture::{CaptureError, CaptureFormat, FileReader, PacketSource};
use custos_decode::{
    linktype, ChecksumMode, Decoded, Decoder, DecoderConfig, ReassemblyLimits, Transport,
};

/// An owned copy of a packet, for comparing the two reader paths.
#[derive(Debug, PartialEq, Eq)]
pub struct OwnedPacket {
    pub ts: i64,
    pub linktype: u32,
    pub data: Vec<u8>,
    pub orig_len: u32,
    pub index: u64,
    pub offset: u64,
    pub interface: u32,
}

/// The comparable part of a `CaptureError`.
#[derive(Debug, PartialEq, Eq)]
pub struct OwnedError {
    pub offset: u64,
    pub packet_index: u64,
    pub kind: String,
}

impl From<&CaptureError> for OwnedError {
    fn from(e: &CaptureError) -> Self {
        OwnedError {
            offset: e.offset,
            packet_index: e.packet_index,
            kind: e.kind.to_string(),
        }
    }
}

/// What one reader path produced.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The constructor failed.
    OpenError(OwnedError),
    /// Packets, then a clean end (`None`) or one error.
    Read {
        format: String,
        gzip: bool,
        snaplen: Option<u32>,
        packets: Vec<OwnedPacket>,
        error: Option<OwnedError>,
    },
}

/// Drains `reader`, checking the per-path properties against `input` (the bytes it was built from).
fn drain(mut reader: FileReader, input: &[u8], path: &str) -> Outcome {
    let gzip = reader.is_gzip();
    let format = format!("{:?}", reader.format());
    // pcap record header length: the packet bytes must be the input bytes right after it.
    let pcap_hlen = match reader.format() {
        CaptureFormat::Pcap { .. } => Some(16u64),
        CaptureFormat::PcapModified { .. } => Some(24),
        _ => None,
    };
    let snaplen = reader.snaplen();
    let total = input.len() as u64;
    let mut packets: Vec<OwnedPacket> = Vec::new();
    let error = loop {
        match reader.next_packet() {
            Ok(Some(p)) => {
                let expected_index = packets.len() as u64;
                assert_eq!(
                    p.index, expected_index,
                    "{path}: packet index not consecutive"
                );
                if let Some(prev) = packets.last() {
                    assert!(
                        p.offset > prev.offset,
                        "{path}: offsets not increasing ({} then {})",
                        prev.offset,
                        p.offset
                    );
                }
                if !gzip {
                    assert!(
                        p.data.len() as u64 <= total,
                        "{path}: packet data longer than the input"
                    );
                    assert!(
                        p.offset < total,
                        "{path}: packet offset {} beyond input length {total}",
                        p.offset
                    );
                    // Each record has at least a 12-byte header: a bound on the packet count.
                    assert!(
                        expected_index < total,
                        "{path}: more packets than input bytes"
                    );
                }
                if let (Some(h), false) = (pcap_hlen, gzip) {
                    let start = usize::try_from(p.offset + h).unwrap_or(usize::MAX);
                    let bytes = start
                        .checked_add(p.data.len())
                        .and_then(|end| input.get(start..end));
                    assert_eq!(
                        bytes,
                        Some(p.data),
                        "{path}: pcap packet bytes are not the record's bytes"
                    );
                }
                if snaplen.is_some() {
                    assert_eq!(p.interface, 0, "{path}: pcap packet with an interface id");
                }
                packets.push(OwnedPacket {
                    ts: p.ts,
                    linktype: p.linktype.0,
                    data: p.data.to_vec(),
                    orig_len: p.orig_len,
                    index: p.index,
                    offset: p.offset,
                    interface: p.interface,
                });
                assert_eq!(
                    reader.packet_count(),
                    expected_index + 1,
                    "{path}: packet_count"
                );
            }
            Ok(None) => break None,
            Err(e) => {
                let _ = e.to_string();
                assert_eq!(
                    e.packet_index,
                    packets.len() as u64,
                    "{path}: error packet_index"
                );
                if let Some(prev) = packets.last() {
                    assert!(
                        e.offset > prev.offset,
                        "{path}: error offset {} not after the last packet at {}",
                        e.offset,
                        prev.offset
                    );
                }
                if !gzip {
                    assert!(
                        e.offset <= total,
                        "{path}: error offset {} beyond input length {total}",
                        e.offset
                    );
                }
                break Some(OwnedError::from(&e));
            }
        }
    };
    // After the end or the error: Ok(None) forever.
    for _ in 0..2 {
        match reader.next_packet() {
            Ok(None) => {}
            Ok(Some(p)) => panic!("{path}: packet {} after the end/error", p.index),
            Err(e) => panic!("{path}: second error after the end/error: {e}"),
        }
    }
    Outcome::Read {
        format,
        gzip,
        snaplen,
        packets,
        error,
    }
}

fn open_outcome(r: Result<FileReader, CaptureError>, input: &[u8], path: &str) -> Outcome {
    match r {
        Ok(reader) => drain(reader, input, path),
        Err(e) => {
            let _ = e.to_string();
            assert_eq!(
                (e.offset, e.packet_index),
                (0, 0),
                "{path}: open error not at offset 0, packet 0"
            );
            Outcome::OpenError(OwnedError::from(&e))
        }
    }
}

/// Reads `input` through the in-memory path and the streaming path, checks each, and asserts
/// that both yield the same packets and the same error.
pub fn check_reader(input: &[u8]) {
    let whole = open_outcome(
        FileReader::from_vec(input.to_vec(), "fuzz"),
        input,
        "from_vec",
    );
    let stream = open_outcome(
        FileReader::open_stream(Box::new(Cursor::new(input.to_vec())), "fuzz"),
        input,
        "open_stream",
    );
    assert_eq!(whole, stream, "from_vec and open_stream disagree");
}

/// Link types the decoder target picks from (selector byte & 0x0f, modulo the length).
pub const LINKTYPES: [u32; 15] = [
    linktype::ETHERNET,
    linktype::RAW,
    linktype::LINUX_SLL,
    linktype::LINUX_SLL2,
    linktype::NULL,
    linktype::LOOP,
    linktype::PPP,
    linktype::IPV4,
    linktype::IPV6,
    linktype::RAW_12,
    linktype::RAW_14,
    linktype::PPP_HDLC,
    linktype::PPP_ETHER,
    linktype::IEEE802_11,
    linktype::IEEE802_11_RADIOTAP,
];

/// Separates frames in a decoder input.
pub const FRAME_MARKER: &[u8] = b"\xffNXT";

/// Most frames decoded per input.
pub const MAX_FRAMES: usize = 64;

/// Splits `rest` on [`FRAME_MARKER`].
pub fn split_frames(rest: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i + FRAME_MARKER.len() <= rest.len() && out.len() + 1 < MAX_FRAMES {
        if &rest[i..i + FRAME_MARKER.len()] == FRAME_MARKER {
            out.push(&rest[start..i]);
            i += FRAME_MARKER.len();
            start = i;
        } else {
            i += 1;
        }
    }
    out.push(&rest[start..]);
    out
}

/// The decoders every input goes through: default (verify checksums), checksums ignored, and
/// checksums ignored with tight reassembly limits (so eviction, limits and timeouts trigger).
pub fn decoders() -> [Decoder; 3] {
    let tight = DecoderConfig {
        checksums: ChecksumMode::Ignore,
        reassembly: ReassemblyLimits {
            max_datagrams: 2,
            max_bytes: 2048,
            max_fragments: 4,
            timeout_ns: 10_000_000_000,
        },
    };
    [
        Decoder::new(DecoderConfig::default()),
        Decoder::new(DecoderConfig {
            checksums: ChecksumMode::Ignore,
            ..DecoderConfig::default()
        }),
        Decoder::new(tight),
    ]
}

fn within(part: &[u8], frame: &[u8]) -> bool {
    let (b, e) = (
        frame.as_ptr() as usize,
        frame.as_ptr() as usize + frame.len(),
    );
    let p = part.as_ptr() as usize;
    part.is_empty() || (p >= b && p + part.len() <= e)
}

/// Checks one decode result against its frame.
pub fn check_decoded(d: &Decoded<'_>, frame: &[u8]) {
    let n = frame.len();
    if let Some(e) = d.error {
        let _ = e.to_string();
        // Documented bound: within the frame, also for failures inside reassembled data
        // (regressions/decoder-reassembled-error-offset.bin, fixed in commit 4ea3270).
        let bound = n;
        assert!(
            e.offset <= bound,
            "error offset {} beyond frame length {n}: {e:?}",
            e.offset
        );
    }
    assert!(d.vlan_ids().len() <= 2);
    let mut reassembled_above = false;
    let mut count = 0;
    for l in d.ip_layers() {
        count += 1;
        assert!(
            l.offset <= n,
            "IP layer offset {} beyond frame length {n}",
            l.offset
        );
        reassembled_above |= l.reassembled;
        let slices: [&[u8]; 2] = match l.transport {
            Transport::Tcp {
                options, payload, ..
            } => [options, payload],
            Transport::Udp { payload, .. }
            | Transport::Icmp { payload, .. }
            | Transport::Other { payload } => [payload, &[]],
            Transport::Fragment | Transport::Malformed => [&[], &[]],
        };
        for s in slices {
            if !within(s, frame) {
                assert!(
                    reassembled_above,
                    "payload slice outside the frame with no reassembled layer"
                );
                assert!(
                    s.len() <= 65_535,
                    "reassembled payload slice of {} bytes",
                    s.len()
                );
            }
        }
    }
    assert!(count <= custos_decode::MAX_IP_LAYERS);
}

/// True when `CUSTOS_FUZZ_STRICT=1`: known, reported bugs are crashes again.
pub fn strict() -> bool {
    static STRICT: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *STRICT.get_or_init(|| std::env::var_os("CUSTOS_FUZZ_STRICT").is_some_and(|v| v == "1"))
}

/// Panics that are known, reported bugs, skipped so that fuzzing can go on past them:
/// (file suffix of the panic location, text in the panic message). Set `CUSTOS_FUZZ_STRICT=1`
/// to treat them as crashes again. Remove an entry once its fix has landed.
pub const KNOWN_PANICS: &[(&str, &str)] = &[
    // Empty: the checksum accumulator overflow (regressions/decoder-checksum-*.bin) was listed
    // here until its fix landed (commit e9de4d9).
];

static KNOWN_HITS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Number of known panics skipped so far in this process.
pub fn known_panics_skipped() -> u64 {
    KNOWN_HITS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Installs (once) a panic hook that lets [`KNOWN_PANICS`] unwind to [`catch_known`] instead of
/// aborting; every other panic goes to libFuzzer's hook (which aborts: a crash).
pub fn install_known_panic_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if strict() {
            return;
        }
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let msg = info
                .payload()
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| info.payload().downcast_ref::<&str>().copied())
                .unwrap_or("");
            let file = info.location().map(|l| l.file()).unwrap_or("");
            if KNOWN_PANICS
                .iter()
                .any(|(f, m)| file.ends_with(f) && msg.contains(m))
            {
                KNOWN_HITS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                return; // unwind to catch_known
            }
            previous(info);
        }));
    });
}

/// Runs `f`; `None` when it hit a known panic (any other panic has aborted in the hook).
pub fn catch_known<R>(f: impl FnOnce() -> R) -> Option<R> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).ok()
}

/// One step of a two-direction stream input (the `http`, `tls` and `ftp` targets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamStep<'a> {
    /// Bytes from a direction.
    Data(custos_app::Direction, &'a [u8]),
    /// A gap of this many bytes in a direction.
    Gap(custos_app::Direction, u64),
    /// A direction ended.
    End(custos_app::Direction),
}

/// Splits a stream-parser input into steps: records `h(1) n(1) [payload]`; bit 0 of `h` is the
/// direction (0 to the server), bits 1–2 the kind: 1 a gap of `n + 1` bytes, 2 the end of the
/// direction, otherwise `n` bytes of data (fewer at the end of the input).
pub fn stream_steps(data: &[u8]) -> Vec<StreamStep<'_>> {
    use custos_app::Direction;
    let mut steps = Vec::new();
    let mut rest = data;
    while let Some((&h, tail)) = rest.split_first() {
        let dir = if h & 1 == 0 {
            Direction::ToServer
        } else {
            Direction::ToClient
        };
        let Some((&n, tail)) = tail.split_first() else {
            break;
        };
        rest = tail;
        match (h >> 1) & 3 {
            1 => steps.push(StreamStep::Gap(dir, u64::from(n) + 1)),
            2 => steps.push(StreamStep::End(dir)),
            _ => {
                let (chunk, tail) = rest.split_at(usize::from(n).min(rest.len()));
                rest = tail;
                steps.push(StreamStep::Data(dir, chunk));
            }
        }
    }
    steps
}

/// Keeps the first `limit` bytes sent in each direction (for probing).
pub fn keep_first(
    first: &mut [Vec<u8>; 2],
    dir: custos_app::Direction,
    chunk: &[u8],
    limit: usize,
) {
    let f = &mut first[usize::from(dir == custos_app::Direction::ToClient)];
    if f.len() < limit {
        f.extend_from_slice(&chunk[..chunk.len().min(limit - f.len())]);
    }
}

/// Copies the directory tree `from` to `to` (created); returns every file's path relative to
/// `from` (`/`-separated, sorted) with its bytes. For targets that replace one file of a
/// fixture directory (a case bundle, an evidence log) per input and restore it after.
pub fn copy_fixture(from: &std::path::Path, to: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).expect("fixture directory") {
            let p = e.expect("directory entry").path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).expect("inside the fixture");
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    let mut names = Vec::new();
    walk(from, from, &mut names);
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let bytes = std::fs::read(from.join(&name)).expect("fixture file");
            let dest = to.join(&name);
            std::fs::create_dir_all(dest.parent().expect("a parent")).expect("directory");
            std::fs::write(&dest, &bytes).expect("copy");
            (name, bytes)
        })
        .collect()
}

/// A directory of signed evidence (a case bundle, an evidence log) copied from
/// `seeds/<target>/<folder>/` into a temporary directory, with the seeds' sensor key
/// (`seeds/<target>/sensor.vkey`); for the targets that replace one of its files per input.
pub struct SignedFixture {
    /// The copy.
    pub dir: std::path::PathBuf,
    /// Its files, as [`copy_fixture`] lists them.
    pub files: Vec<(String, Vec<u8>)>,
    /// The key that verifies it.
    pub verifier: custos_evidence::note::Verifier,
}

/// Copies `seeds/<target>/<folder>/` for a target (see [`SignedFixture`]).
pub fn signed_fixture(target: &str, folder: &str) -> SignedFixture {
    let seeds = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("seeds")
        .join(target);
    let dir = std::env::temp_dir()
        .join(format!("custos-fuzz-{target}-{}", std::process::id()))
        .join(folder);
    let files = copy_fixture(&seeds.join(folder), &dir);
    let vkey = std::fs::read_to_string(seeds.join("sensor.vkey")).expect("the sensor's key");
    let verifier = custos_evidence::note::Verifier::from_vkey(vkey.trim()).expect("a verifier key");
    SignedFixture {
        dir,
        files,
        verifier,
    }
}

/// Runs `f` twice on the same input and checks that both outcomes agree (values with the
/// same `Debug` text, or errors with the same message): the readers are deterministic.
/// Returns the first outcome.
pub fn same_twice<T: std::fmt::Debug, E: std::fmt::Display>(
    what: &str,
    mut f: impl FnMut() -> Result<T, E>,
) -> Result<T, E> {
    let (first, second) = (f(), f());
    match (&first, &second) {
        (Ok(a), Ok(b)) => assert_eq!(format!("{a:?}"), format!("{b:?}"), "{what} twice"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{what} twice"),
        _ => panic!("the same {what} succeeded once and failed once"),
    }
    first
}
