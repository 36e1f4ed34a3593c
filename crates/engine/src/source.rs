//! Where packets come from, and the one loop that reads them.

use crate::error::EngineError;
use custos_capture::{CaptureError, FileReader, LiveCapture, LiveOptions, PacketSource};
use custos_decode::{ChecksumPolicy, ChecksumStatus, Decoder, DecoderConfig};
use custos_flow::PacketMeta;
use custos_output::FileStats;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

/// Packets to analyse.
#[derive(Clone, Debug)]
pub enum Source {
    /// Capture files (pcap, pcapng, gzip; `-` is standard input), read as one stream in
    /// this order.
    Files(Vec<PathBuf>),
    /// A live interface (AF_PACKET), until `stop` is set or the packet limit is reached.
    Interface {
        /// Interface name.
        name: String,
        /// Set to `true` (e.g. from a Ctrl-C handler) to end the capture.
        stop: Arc<AtomicBool>,
    },
}

impl Source {
    /// The inputs' names, as records and `stats.json` name them.
    pub fn names(&self) -> Vec<String> {
        match self {
            Source::Files(f) => f.iter().map(|p| p.display().to_string()).collect(),
            Source::Interface { name, .. } => vec![name.clone()],
        }
    }

    /// Checks what can be checked before opening anything.
    ///
    /// # Errors
    /// Standard input named twice, or too many inputs.
    pub fn validate(&self) -> Result<(), EngineError> {
        if let Source::Files(f) = self {
            if f.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
                return Err(EngineError::Config(
                    "standard input (-) can be read only once".into(),
                ));
            }
            if f.len() > usize::from(u16::MAX) {
                return Err(EngineError::Config(format!(
                    "at most {} captures per run",
                    u16::MAX
                )));
            }
        }
        Ok(())
    }
}

/// Progress of a run, reported every 65 536 packets.
#[derive(Clone, Copy, Debug, Default)]
pub struct Progress {
    /// Packets read so far.
    pub packets: u64,
    /// Bytes of the inputs read so far (files).
    pub bytes: u64,
    /// Total bytes of the inputs, when known (memory-mapped files).
    pub total_bytes: Option<u64>,
    /// Flows held now.
    pub flows: usize,
}

/// A progress callback.
pub type ProgressFn = Box<dyn FnMut(&Progress) + Send>;

/// An opened source.
pub(crate) enum Opened {
    /// Capture files, opened (so a typo fails before any work).
    Files(Vec<FileReader>),
    /// A live capture.
    Live(Box<LiveCapture>),
}

impl Opened {
    /// Opens every input.
    ///
    /// # Errors
    /// An input that cannot be opened, named.
    pub fn open(
        source: &Source,
        max_packets: Option<u64>,
        buffer_bytes: usize,
    ) -> Result<Opened, EngineError> {
        match source {
            Source::Files(paths) => {
                let mut readers = Vec::with_capacity(paths.len());
                for p in paths {
                    readers.push(FileReader::open(p).map_err(|source| EngineError::Input {
                        // The capture error names the file.
                        context: "cannot read capture".to_string(),
                        source,
                    })?);
                }
                Ok(Opened::Files(readers))
            }
            Source::Interface { name, stop } => {
                let mut opts = LiveOptions::with_stop(Arc::clone(stop));
                opts.max_packets = max_packets;
                opts.buffer_bytes = buffer_bytes;
                let live =
                    LiveCapture::open_with(name, opts).map_err(|source| EngineError::Input {
                        context: format!("cannot capture on {name}"),
                        source,
                    })?;
                Ok(Opened::Live(Box::new(live)))
            }
        }
    }

    /// A live capture's counters, given the packets custos read.
    pub fn live_stats(&mut self, read: u64) -> Option<custos_output::LiveStats> {
        let Opened::Live(live) = self else {
            return None;
        };
        let k = live.kernel_stats().ok()?;
        Some(custos_output::LiveStats {
            kernel_seen: k.received,
            kernel_dropped: k.dropped,
            custos_dropped: 0,
            left_unread: k.received.saturating_sub(k.dropped).saturating_sub(read),
            buffer_bytes: live.buffer_bytes() as u64,
        })
    }

    /// Total bytes, when every input is a memory-mapped file.
    pub fn total_bytes(&self, source: &Source) -> Option<u64> {
        match (self, source) {
            (Opened::Files(readers), Source::Files(paths)) => paths
                .iter()
                .zip(readers)
                .map(|(p, r)| {
                    if r.is_memory_mapped() {
                        std::fs::metadata(p).ok().map(|m| m.len())
                    } else {
                        None
                    }
                })
                .sum(),
            _ => None,
        }
    }
}

/// Receives every packet read.
pub(crate) trait PacketSink {
    /// One packet; `linktype` and `data` as captured.
    ///
    /// # Errors
    /// Whatever stops the run.
    fn packet(&mut self, linktype: u32, meta: &PacketMeta, data: &[u8]) -> Result<(), EngineError>;

    /// Flows held now (for progress).
    fn flows_held(&self) -> usize;
}

/// What reading produced besides packets: per-input statistics and whether an input was
/// damaged part-way.
pub(crate) struct ReadReport {
    /// Per input, in order.
    pub files: Vec<FileStats>,
    /// An input ended early on damage.
    pub partial: bool,
    /// Warnings to show (damage, altered input, frames dropped), in order.
    pub warnings: Vec<String>,
    /// Live capture counters.
    pub live: Option<custos_output::LiveStats>,
}

/// Where the read loop is.
struct ReadState<'a> {
    read: u64,
    done_bytes: u64,
    max_packets: Option<u64>,
    total_bytes: Option<u64>,
    sink: &'a mut dyn PacketSink,
    progress: &'a mut Option<ProgressFn>,
}

impl ReadState<'_> {
    fn at_limit(&self) -> bool {
        self.max_packets.is_some_and(|m| self.read >= m)
    }

    /// Reads one input to its end, damage or the packet limit; returns the damage.
    fn read_input(
        &mut self,
        reader: &mut dyn PacketSource,
        file: u16,
        fs: &mut FileStats,
    ) -> Result<Option<CaptureError>, EngineError> {
        loop {
            if self.at_limit() {
                return Ok(None);
            }
            let p = match reader.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => return Ok(None),
                Err(e) => return Ok(Some(e)),
            };
            let meta = PacketMeta {
                ts: p.ts,
                frame_len: p.orig_len.max(p.data.len() as u32),
                index: p.index,
                file,
            };
            fs.packets += 1;
            fs.bytes += p.data.len() as u64;
            self.read += 1;
            self.sink.packet(p.linktype.0, &meta, p.data)?;
            if self.read % 65_536 == 0 {
                if let Some(f) = self.progress.as_mut() {
                    f(&Progress {
                        packets: self.read,
                        bytes: self.done_bytes + p.offset,
                        total_bytes: self.total_bytes,
                        flows: self.sink.flows_held(),
                    });
                }
            }
        }
    }
}

/// The one read loop: every input in order, up to the packet limit.
///
/// # Errors
/// Only what `sink` returns; damaged input ends that input and is reported.
pub(crate) fn read_all(
    opened: &mut Opened,
    names: &[String],
    max_packets: Option<u64>,
    sink: &mut dyn PacketSink,
    progress: &mut Option<ProgressFn>,
    total_bytes: Option<u64>,
) -> Result<ReadReport, EngineError> {
    let mut report = ReadReport {
        files: Vec::new(),
        partial: false,
        warnings: Vec::new(),
        live: None,
    };
    let mut state = ReadState {
        read: 0,
        done_bytes: 0,
        max_packets,
        total_bytes,
        sink,
        progress,
    };
    match opened {
        Opened::Files(readers) => {
            for (file, (reader, name)) in readers.iter_mut().zip(names).enumerate() {
                let mut fs = FileStats {
                    path: name.clone(),
                    format: format_name(reader.format()),
                    ..FileStats::default()
                };
                let err = state.read_input(reader, file as u16, &mut fs)?;
                state.done_bytes += reader.position();
                for w in reader.take_warnings() {
                    report.warnings.push(format!("{name}: {w}"));
                    fs.warnings.push(w);
                }
                end_input(&mut report, fs, err);
                if state.at_limit() {
                    break;
                }
            }
        }
        Opened::Live(live) => {
            let mut fs = FileStats {
                path: names.first().cloned().unwrap_or_default(),
                format: "live".into(),
                ..FileStats::default()
            };
            let err = state.read_input(live.as_mut(), 0, &mut fs)?;
            end_input(&mut report, fs, err);
        }
    }
    report.live = opened.live_stats(state.read);
    if let Some(l) = report.live.as_ref().filter(|l| l.kernel_dropped > 0) {
        report.warnings.push(format!(
            "{}: the kernel dropped {} of {} frames (socket buffer of {} bytes full: custos did not keep up); raise --live-buffer or give custos more cores",
            names.first().map_or("", String::as_str),
            l.kernel_dropped,
            l.kernel_seen,
            l.buffer_bytes
        ));
    }
    Ok(report)
}

fn end_input(report: &mut ReadReport, mut fs: FileStats, err: Option<CaptureError>) {
    if let Some(e) = err {
        report.warnings.push(format!(
            "{e}; the results cover the {} packets before it",
            fs.packets
        ));
        fs.error = Some(e.to_string());
        report.partial = true;
    }
    report.files.push(fs);
}

/// Reads up to [`ChecksumPolicy::SAMPLE`] checksummed packets from the start of the given
/// files and applies Suricata's auto-mode rule. `None` when nothing could be checked (or the
/// input is standard input, which cannot be read twice).
pub(crate) fn sample_checksums(paths: &[PathBuf]) -> Option<bool> {
    let mut decoder = Decoder::new(DecoderConfig::default());
    let (mut checked, mut bad) = (0u32, 0u32);
    for path in paths {
        if path.as_os_str() == "-" {
            return None;
        }
        let Ok(mut reader) = FileReader::open(path) else {
            return None;
        };
        while let Ok(Some(p)) = reader.next_packet() {
            let d = decoder.decode(p.linktype.0, p.ts, p.data);
            for layer in d.ip_layers() {
                match layer.l4_checksum {
                    ChecksumStatus::Good => checked += 1,
                    ChecksumStatus::Bad => {
                        checked += 1;
                        bad += 1;
                    }
                    ChecksumStatus::Unverified => {}
                }
            }
            if checked >= ChecksumPolicy::SAMPLE {
                return Some(ChecksumPolicy::sample_verdict(checked, bad));
            }
        }
    }
    (checked > 0).then(|| ChecksumPolicy::sample_verdict(checked, bad))
}

/// A capture format as `stats.json` names it: `pcap` / `pcap-ns` (nanosecond timestamps),
/// `pcap-modified` (Kuznetsov's), `pcapng`; `, big-endian` when written so.
fn format_name(f: custos_capture::CaptureFormat) -> String {
    use custos_capture::CaptureFormat as F;
    let (name, big) = match f {
        F::Pcap {
            nanos: false,
            big_endian,
        } => ("pcap", big_endian),
        F::Pcap {
            nanos: true,
            big_endian,
        } => ("pcap-ns", big_endian),
        F::PcapModified { big_endian } => ("pcap-modified", big_endian),
        F::PcapNg => ("pcapng", false),
        _ => ("unknown", false),
    };
    if big {
        format!("{name}, big-endian")
    } else {
        name.to_string()
    }
}
