//! Alerts as evidence: after an offline run, every alert becomes one leaf of the
//! tamper-evident log (`custos-evidence`), with a pcap excerpt of its flow read back from the
//! capture by packet index, and a signed checkpoint is published once the leaves are durable.
//!
//! Leaf = RFC 8785 (JCS) canonical JSON of `{type, alert, community_id, packets, capture_sha256,
//! excerpt_sha256, model_sha256, custos_version, sensor}`. Excerpts are classic pcap files
//! (nanosecond timestamps) named by their SHA-256 under `LOGDIR/excerpts/`: the alert's flow's
//! packets up to and including the alert packet, at most [`EXCERPT_PACKETS`] packets and
//! [`EXCERPT_BYTES`] bytes (the most recent kept). Previous checkpoints are archived under
//! `LOGDIR/custos/checkpoints/<size>` so `custos verify --log` can check that the log only grew.

mod keys;
mod live;
mod offline;

pub use keys::{load_verifier, write_key_pair, WrittenKeys};
pub use live::{LiveEvidence, LiveReport, RING_BYTES, RING_PACKETS, SPOOL_BYTES, SPOOL_NS};
pub use offline::{log_alerts, name_leaves, LoggedAlerts};

use crate::config::EvidenceSettings;
use crate::error::EngineError;
use custos_decode::Decoded;
use custos_evidence::{Log, Signer};
use custos_flow::FlowKey;
use serde_json::Value;
use std::collections::VecDeque;
use std::path::Path;

type Result<T> = std::result::Result<T, EngineError>;

/// Adds what was being done to an error of the evidence path.
trait Ctx<T> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> Ctx<T> for std::result::Result<T, E> {
    fn ctx(self, context: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|e| EngineError::evidence(context(), e))
    }
}

/// Most packets in one excerpt.
pub const EXCERPT_PACKETS: usize = 64;
/// Most captured bytes in one excerpt.
pub const EXCERPT_BYTES: usize = 1 << 20;

/// Which packets belong with an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExcerptKey {
    /// The packets of this flow.
    Flow(FlowKey),
    /// Only the alert packet itself (frames without IP).
    Single,
}

impl From<Option<FlowKey>> for ExcerptKey {
    fn from(k: Option<FlowKey>) -> Self {
        k.map_or(ExcerptKey::Single, ExcerptKey::Flow)
    }
}

/// The excerpt key of a decoded packet.
pub fn excerpt_key(d: &Decoded<'_>) -> ExcerptKey {
    crate::keys::packet_flow_key(d).into()
}

/// An alert waiting to be logged.
#[derive(Clone, Debug)]
pub struct PendingAlert {
    /// The EVE alert object, as written to alerts.jsonl.
    pub alert: Value,
    /// Input file index.
    pub file: u16,
    /// Packet index within that file.
    pub index: u64,
    /// Which packets go in its excerpt.
    pub key: ExcerptKey,
    /// Model hash, when a model file was used.
    pub model_sha256: Option<String>,
}

impl PendingAlert {
    /// Its leaf record, once its excerpt is written.
    pub fn leaf(
        &self,
        pcap_file: String,
        excerpt_packets: usize,
        capture_sha256: Option<String>,
        excerpt_sha256: String,
        sensor: &str,
    ) -> custos_evidence::AlertLeaf {
        custos_evidence::AlertLeaf {
            kind: custos_evidence::case::ALERT_TYPE.into(),
            alert: self.alert.clone(),
            community_id: self
                .alert
                .get("community_id")
                .and_then(Value::as_str)
                .map(str::to_string),
            packets: custos_evidence::LeafPackets {
                pcap_file,
                alert_packet: self.index,
                excerpt_packets,
            },
            capture_sha256,
            excerpt_sha256,
            model_sha256: self.model_sha256.clone(),
            custos_version: env!("CARGO_PKG_VERSION").into(),
            sensor: sensor.into(),
        }
    }

    /// The pending leaf of an alert.
    pub fn of(alert: &custos_output::Alert) -> Self {
        PendingAlert {
            alert: serde_json::to_value(alert).unwrap_or(Value::Null),
            file: alert.file,
            index: alert.custos.packet,
            key: alert.flow.into(),
            model_sha256: alert.custos.model_sha256.clone(),
        }
    }
}

#[derive(Clone)]
struct Packet {
    ts: i64,
    orig_len: u32,
    linktype: u32,
    data: Vec<u8>,
}

#[derive(Default)]
struct Ring {
    packets: VecDeque<Packet>,
    bytes: usize,
}

impl Ring {
    fn push(&mut self, p: Packet) {
        self.bytes += p.data.len();
        self.packets.push_back(p);
        while self.packets.len() > EXCERPT_PACKETS
            || (self.bytes > EXCERPT_BYTES && self.packets.len() > 1)
        {
            if let Some(old) = self.packets.pop_front() {
                self.bytes -= old.data.len();
            }
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Snap length of excerpts and spool files.
const SNAPLEN: u32 = 262_144;

/// A classic pcap file (nanosecond timestamps) of `packets`.
fn excerpt_pcap(packets: &[&Packet]) -> Vec<u8> {
    let linktype = packets.first().map_or(1, |p| p.linktype);
    let size = custos_capture::FILE_HEADER_LEN
        + packets
            .iter()
            .map(|p| custos_capture::RECORD_HEADER_LEN + p.data.len())
            .sum::<usize>();
    let Ok(mut w) = custos_capture::PcapWriter::new(Vec::with_capacity(size), linktype, SNAPLEN)
    else {
        return Vec::new();
    };
    for p in packets {
        // Writing into a Vec cannot fail.
        let _ = w.write(p.ts, &p.data, p.orig_len);
    }
    w.finish().unwrap_or_default()
}

/// Opens `dir` as a log bound to `signer` (refusing another key), creating it (origin = the
/// key's name) when it does not exist or a killed first run left it half made; says what
/// recovery did.
fn open_log(dir: &Path, signer: &Signer) -> Result<Log> {
    let log = Log::open_or_create(dir, signer)
        .ctx(|| format!("cannot open evidence log {}", dir.display()))?;
    if log.origin() != signer.name() {
        return Err(EngineError::EvidenceRefused(format!(
            "evidence log {} has origin {:?} but the key is {:?}",
            dir.display(),
            log.origin(),
            signer.name()
        )));
    }
    Ok(log)
}

/// What opening the log did, when it is worth telling (created, recovered, repaired).
fn opening_notice(dir: &Path, log: &Log) -> Option<String> {
    let o = log.opened();
    (o.kind != custos_evidence::OpenKind::Existing || o.recovered > 0 || o.discarded > 0)
        .then(|| format!("evidence log {}: {o}", dir.display()))
}

/// Copies the current checkpoint to `custos/checkpoints/<size>` before a new one replaces it
/// (the same archive `custos case export` keeps).
pub fn archive_checkpoint(dir: &Path) -> Result<()> {
    custos_evidence::case::archive_checkpoint(dir)
        .ctx(|| "cannot archive the previous checkpoint".into())
}

/// Reads `signer` from a `.skey` file.
///
/// # Errors
/// Unreadable or malformed key files.
pub fn load_signer(path: &Path) -> Result<Signer> {
    let text =
        std::fs::read_to_string(path).ctx(|| format!("cannot read key {}", path.display()))?;
    Signer::from_skey(text.trim())
        .ctx(|| format!("{} is not a signing key (PRIVATE+KEY+…)", path.display()))
}

/// The offline evidence sink: keeps every alert, and when the run ends logs them (reading
/// their excerpts back from the captures), publishes a signed checkpoint and names each
/// alert's leaf in `alerts.jsonl`. Registered after the alerts sink, whose file it rewrites.
pub struct EvidenceSink {
    settings: EvidenceSettings,
    captures: Vec<std::path::PathBuf>,
    output: Option<(std::path::PathBuf, custos_output::Compression)>,
    pending: Vec<PendingAlert>,
}

impl EvidenceSink {
    /// A sink logging the alerts of a run over `captures`; `alerts_dir` is where
    /// `alerts.jsonl` is written, when it is.
    ///
    /// # Errors
    /// The signing key cannot be read (checked before the run).
    pub fn new(
        settings: EvidenceSettings,
        captures: Vec<std::path::PathBuf>,
        alerts_dir: Option<(std::path::PathBuf, custos_output::Compression)>,
    ) -> Result<Self> {
        load_signer(&settings.key)?;
        Ok(EvidenceSink {
            settings,
            captures,
            output: alerts_dir,
            pending: Vec::new(),
        })
    }

    fn log(&mut self) -> Result<Value> {
        let logged = log_alerts(&self.settings, &self.captures, &self.pending)?;
        if let Some((dir, compression)) = &self.output {
            name_leaves(dir, *compression, &logged.leaf_of)?;
        }
        Ok(serde_json::json!({
            "log": self.settings.log.display().to_string(),
            "leaves_appended": logged.leaves,
            "log_size": logged.size,
            "opened": logged.opened,
        }))
    }
}

impl custos_output::Sink for EvidenceSink {
    fn name(&self) -> &str {
        "evidence"
    }

    fn reads(&self) -> custos_output::RecordKinds {
        custos_output::RecordKinds::ALERTS
    }

    fn record(
        &mut self,
        record: &custos_output::Record,
    ) -> std::result::Result<(), custos_output::SinkError> {
        if let custos_output::Record::Alert(a) = record {
            self.pending.push(PendingAlert::of(a));
        }
        Ok(())
    }

    fn finish(
        &mut self,
        _end: &custos_output::RunEnd,
    ) -> std::result::Result<Option<Value>, custos_output::SinkError> {
        self.log()
            .map(Some)
            .map_err(|e| custos_output::SinkError::new("evidence", std::io::Error::other(e)))
    }
}
