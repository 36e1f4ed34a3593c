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

use anyhow::{bail, Context};
use custos_capture::{FileReader, PacketSource};
use custos_decode::{ChecksumMode, Decoded, Decoder, DecoderConfig, Transport};
use custos_evidence::{Log, Signer};
use custos_flow::{Addr, Endpoint, FlowKey};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};

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

/// The excerpt key of a decoded packet.
pub fn excerpt_key(d: &Decoded<'_>) -> ExcerptKey {
    let Some(ip) = d.innermost() else {
        return ExcerptKey::Single;
    };
    let (sp, dp) = match ip.transport {
        Transport::Tcp {
            src_port, dst_port, ..
        }
        | Transport::Udp {
            src_port, dst_port, ..
        } => (src_port, dst_port),
        Transport::Icmp {
            msg_type, code, v6, ..
        } => {
            let (a, b, _) = custos_decode::wire::icmp::port_equivalents(msg_type, code, v6);
            (a, b)
        }
        _ => (0, 0),
    };
    let src = Endpoint {
        addr: Addr::from(ip.src),
        port: sp,
    };
    let dst = Endpoint {
        addr: Addr::from(ip.dst),
        port: dp,
    };
    ExcerptKey::Flow(FlowKey::canonical(src, dst, ip.protocol, d.vlans).0)
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

/// Where and how to log evidence.
#[derive(Clone, Debug)]
pub struct EvidenceConfig {
    /// The log directory.
    pub dir: PathBuf,
    /// The signing key file (`.skey`).
    pub key: PathBuf,
    /// Sensor name recorded in every leaf.
    pub sensor: String,
}

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

/// A classic pcap file (nanosecond magic) of `packets`.
fn excerpt_pcap(packets: &[&Packet]) -> Vec<u8> {
    let linktype = packets.first().map_or(1, |p| p.linktype);
    let mut out = Vec::with_capacity(24 + packets.iter().map(|p| 16 + p.data.len()).sum::<usize>());
    out.extend_from_slice(&0xa1b2_3c4du32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&262_144u32.to_le_bytes());
    out.extend_from_slice(&linktype.to_le_bytes());
    for p in packets {
        let secs = p.ts.div_euclid(1_000_000_000) as u32;
        let ns = p.ts.rem_euclid(1_000_000_000) as u32;
        out.extend_from_slice(&secs.to_le_bytes());
        out.extend_from_slice(&ns.to_le_bytes());
        out.extend_from_slice(&(p.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&p.orig_len.max(p.data.len() as u32).to_le_bytes());
        out.extend_from_slice(&p.data);
    }
    out
}

/// Opens `dir` as a log bound to `signer` (refusing another key), creating it (origin = the
/// key's name) when it does not exist or a killed first run left it half made; says what
/// recovery did.
fn open_log(dir: &Path, signer: &Signer) -> anyhow::Result<Log> {
    let log = Log::open_or_create(dir, signer)
        .with_context(|| format!("cannot open evidence log {}", dir.display()))?;
    if log.origin() != signer.name() {
        bail!(
            "evidence log {} has origin {:?} but the key is {:?}",
            dir.display(),
            log.origin(),
            signer.name()
        );
    }
    if log.opened().kind != custos_evidence::OpenKind::Existing
        || log.opened().recovered > 0
        || log.opened().discarded > 0
    {
        eprintln!("custos: evidence log {}: {}", dir.display(), log.opened());
    }
    Ok(log)
}

/// Copies the current checkpoint to `custos/checkpoints/<size>` before a new one replaces it
/// (the same archive `custos case export` keeps).
pub fn archive_checkpoint(dir: &Path) -> anyhow::Result<()> {
    custos_evidence::case::archive_checkpoint(dir).context("cannot archive the previous checkpoint")
}

/// Reads `signer` from a `.skey` file.
///
/// # Errors
/// Unreadable or malformed key files.
pub fn load_signer(path: &Path) -> anyhow::Result<Signer> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read key {}", path.display()))?;
    Signer::from_skey(text.trim())
        .with_context(|| format!("{} is not a signing key (PRIVATE+KEY+…)", path.display()))
}

/// What [`log_alerts`] did.
pub struct LoggedAlerts {
    /// Leaves appended.
    pub leaves: u64,
    /// The log's size after the new checkpoint.
    pub size: u64,
    /// For each alert given, in order, the index of its leaf (`None` when its packet could
    /// not be read back from the capture).
    pub leaf_of: Vec<Option<u64>>,
}

/// Logs every pending alert as a leaf, then publishes a signed checkpoint.
///
/// # Errors
/// Unreadable captures or key, log I/O errors.
pub fn log_alerts(
    cfg: &EvidenceConfig,
    files: &[PathBuf],
    alerts: &[PendingAlert],
) -> anyhow::Result<LoggedAlerts> {
    let signer = load_signer(&cfg.key)?;
    let mut log = open_log(&cfg.dir, &signer)?;
    let excerpt_dir = cfg.dir.join("excerpts");
    std::fs::create_dir_all(&excerpt_dir)?;
    let mut leaves: Vec<String> = Vec::with_capacity(alerts.len());
    // Position in `alerts` of each leaf's alert.
    let mut leaf_alert: Vec<usize> = Vec::with_capacity(alerts.len());
    for (file_idx, path) in files.iter().enumerate() {
        let mine: Vec<(usize, &PendingAlert)> = alerts
            .iter()
            .enumerate()
            .filter(|(_, a)| usize::from(a.file) == file_idx)
            .collect();
        if mine.is_empty() {
            continue;
        }
        let capture_sha256 = {
            let mut h = Sha256::new();
            let mut f = std::fs::File::open(path)
                .with_context(|| format!("cannot hash {}", path.display()))?;
            std::io::copy(&mut f, &mut h)?;
            hex(&h.finalize())
        };
        // Alerts of this file by packet index; flows they need.
        let mut by_index: HashMap<u64, Vec<(usize, &PendingAlert)>> = HashMap::new();
        for &(pos, a) in &mine {
            by_index.entry(a.index).or_default().push((pos, a));
        }
        let keys: std::collections::HashSet<ExcerptKey> = mine.iter().map(|(_, a)| a.key).collect();
        let last = mine.iter().map(|(_, a)| a.index).max().unwrap_or(0);
        let mut rings: HashMap<ExcerptKey, Ring> = HashMap::new();
        let mut reader =
            FileReader::open(path).with_context(|| format!("cannot re-read {}", path.display()))?;
        let mut decoder = Decoder::new(DecoderConfig {
            checksums: ChecksumMode::Ignore,
            ..DecoderConfig::default()
        });
        let mut done: Vec<(u64, usize, Value)> = Vec::new();
        while let Ok(Some(p)) = reader.next_packet() {
            if p.index > last {
                break;
            }
            let key = excerpt_key(&decoder.decode(p.linktype.0, p.ts, p.data));
            let here = by_index.get(&p.index);
            if !keys.contains(&key) && here.is_none() {
                continue;
            }
            let pkt = Packet {
                ts: p.ts,
                orig_len: p.orig_len,
                linktype: p.linktype.0,
                data: p.data.to_vec(),
            };
            if keys.contains(&key) && key != ExcerptKey::Single {
                rings.entry(key).or_default().push(pkt);
            }
            let Some(list) = here else { continue };
            for &(pos, a) in list {
                let single;
                let packets: Vec<&Packet> = match (a.key, rings.get(&a.key)) {
                    (ExcerptKey::Flow(_), Some(r)) => r.packets.iter().collect(),
                    _ => {
                        single = Packet {
                            ts: p.ts,
                            orig_len: p.orig_len,
                            linktype: p.linktype.0,
                            data: p.data.to_vec(),
                        };
                        vec![&single]
                    }
                };
                let pcap = excerpt_pcap(&packets);
                let (excerpt_sha256, _) = custos_evidence::write_excerpt(&cfg.dir, &pcap)
                    .context("cannot keep the alert's packet excerpt")?;
                let record = json!({
                    "type": "custos.alert/1",
                    "alert": a.alert,
                    "community_id": a.alert.get("community_id").cloned().unwrap_or(Value::Null),
                    "packets": {
                        "pcap_file": path.display().to_string(),
                        "alert_packet": a.index,
                        "excerpt_packets": packets.len(),
                    },
                    "capture_sha256": capture_sha256,
                    "excerpt_sha256": excerpt_sha256,
                    "model_sha256": a.model_sha256,
                    "custos_version": env!("CARGO_PKG_VERSION"),
                    "sensor": cfg.sensor,
                });
                done.push((a.index, pos, record));
            }
        }
        done.sort_by_key(|(i, pos, _)| (*i, *pos));
        for (_, pos, record) in done {
            leaves.push(custos_evidence::canonicalize(&record)?);
            leaf_alert.push(pos);
        }
    }
    // The excerpts' directory entries are durable before any leaf naming them is published.
    std::fs::File::open(&excerpt_dir)?.sync_all()?;
    let first_leaf = log.integrated_size();
    if !leaves.is_empty() {
        log.append_batch(&leaves)
            .context("cannot append to the evidence log")?;
    }
    archive_checkpoint(&cfg.dir)?;
    let cp = log
        .publish_checkpoint(&signer)
        .context("cannot publish the checkpoint")?;
    let mut leaf_of = vec![None; alerts.len()];
    for (k, pos) in leaf_alert.into_iter().enumerate() {
        if let Some(slot) = leaf_of.get_mut(pos) {
            *slot = Some(first_leaf + k as u64);
        }
    }
    Ok(LoggedAlerts {
        leaves: leaves.len() as u64,
        size: cp.size,
        leaf_of,
    })
}

/// Adds to each line of `alerts.jsonl` the index of its evidence leaf
/// (`custos.evidence_leaf`), so that an analyst can name it in `case export --alert`; the
/// file is replaced whole (written beside it, then renamed).
///
/// # Errors
/// The file cannot be read or written, or holds another number of alerts than `leaf_of`.
pub fn name_leaves(path: &Path, leaf_of: &[Option<u64>]) -> anyhow::Result<()> {
    use std::io::Write;
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let lines: Vec<&str> = text.lines().collect();
    if lines.len() != leaf_of.len() {
        bail!(
            "{}: {} alerts, but {} were logged as evidence",
            path.display(),
            lines.len(),
            leaf_of.len()
        );
    }
    let tmp = path.with_extension("jsonl.tmp");
    let mut out = std::io::BufWriter::new(
        std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?,
    );
    for (line, leaf) in lines.iter().zip(leaf_of) {
        let mut v: Value = serde_json::from_str(line)
            .with_context(|| format!("{}: not an alert line", path.display()))?;
        if let (Some(leaf), Some(c)) = (leaf, v.get_mut("custos").and_then(Value::as_object_mut)) {
            c.insert("evidence_leaf".into(), json!(leaf));
        }
        serde_json::to_writer(&mut out, &v)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    drop(out);
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

/// Packets kept in the live ring for excerpts.
pub const RING_PACKETS: usize = 65_536;
/// Bytes kept in the live ring for excerpts.
pub const RING_BYTES: usize = 64 << 20;
/// A spool file is closed, hashed and logged after this many bytes…
pub const SPOOL_BYTES: u64 = 64 << 20;
/// …or this much packet time (which also publishes a checkpoint: the periodic checkpoint).
pub const SPOOL_NS: i64 = 60_000_000_000;

struct RingPacket {
    index: u64,
    key: ExcerptKey,
    packet: Packet,
}

struct Spool {
    seq: u64,
    name: String,
    file: std::io::BufWriter<std::fs::File>,
    hasher: Sha256,
    bytes: u64,
    packets: u64,
    first_index: u64,
    first_ts: i64,
    last_index: u64,
    last_ts: i64,
}

impl Spool {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        use std::io::Write;
        self.hasher.update(bytes);
        self.bytes += bytes.len() as u64;
        self.file.write_all(bytes)
    }
}

/// Evidence for live capture: every packet is spooled to rotating pcap files that are hashed
/// and logged (`custos.capture/1` leaves); alert excerpts come from a bounded ring of recent
/// packets ([`RING_PACKETS`], [`RING_BYTES`]) — never from per-flow buffers; alert leaves are
/// appended once the spool file holding their packet is closed (its hash is then known), and
/// a checkpoint is published at every rotation and at the end.
pub struct LiveEvidence {
    cfg: EvidenceConfig,
    signer: Signer,
    log: Log,
    decoder: Decoder,
    ring: VecDeque<RingPacket>,
    ring_bytes: usize,
    spool: Option<Spool>,
    next_seq: u64,
    waiting: Vec<Value>,
    leaves: u64,
}

impl LiveEvidence {
    /// Opens (or creates) the log and the spool directory.
    ///
    /// # Errors
    /// Unreadable key, log I/O errors.
    pub fn new(cfg: EvidenceConfig) -> anyhow::Result<Self> {
        let signer = load_signer(&cfg.key)?;
        let log = open_log(&cfg.dir, &signer)?;
        std::fs::create_dir_all(cfg.dir.join("spool"))?;
        std::fs::create_dir_all(cfg.dir.join("excerpts"))?;
        let next_seq = std::fs::read_dir(cfg.dir.join("spool"))?.count() as u64;
        Ok(LiveEvidence {
            cfg,
            signer,
            log,
            decoder: Decoder::new(DecoderConfig {
                checksums: ChecksumMode::Ignore,
                ..DecoderConfig::default()
            }),
            ring: VecDeque::new(),
            ring_bytes: 0,
            spool: None,
            next_seq,
            waiting: Vec::new(),
            leaves: 0,
        })
    }

    fn open_spool(&mut self, linktype: u32, index: u64, ts: i64) -> anyhow::Result<()> {
        let name = format!("{:08}.pcap", self.next_seq);
        let path = self.cfg.dir.join("spool").join(&name);
        let file = std::fs::File::create(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        let mut s = Spool {
            seq: self.next_seq,
            name,
            file: std::io::BufWriter::new(file),
            hasher: Sha256::new(),
            bytes: 0,
            packets: 0,
            first_index: index,
            first_ts: ts,
            last_index: index,
            last_ts: ts,
        };
        self.next_seq += 1;
        let mut header = Vec::with_capacity(24);
        header.extend_from_slice(&0xa1b2_3c4du32.to_le_bytes());
        header.extend_from_slice(&2u16.to_le_bytes());
        header.extend_from_slice(&4u16.to_le_bytes());
        header.extend_from_slice(&[0; 8]);
        header.extend_from_slice(&262_144u32.to_le_bytes());
        header.extend_from_slice(&linktype.to_le_bytes());
        s.write(&header)?;
        self.spool = Some(s);
        Ok(())
    }

    /// Spools one captured packet and keeps it in the ring.
    ///
    /// # Errors
    /// Spool or log I/O errors.
    pub fn packet(
        &mut self,
        index: u64,
        ts: i64,
        orig_len: u32,
        linktype: u32,
        data: &[u8],
    ) -> anyhow::Result<()> {
        let rotate = self
            .spool
            .as_ref()
            .is_some_and(|s| s.bytes >= SPOOL_BYTES || ts.saturating_sub(s.first_ts) >= SPOOL_NS);
        if rotate {
            self.rotate()?;
        }
        if self.spool.is_none() {
            self.open_spool(linktype, index, ts)?;
        }
        if let Some(s) = self.spool.as_mut() {
            let mut rec = Vec::with_capacity(16 + data.len());
            rec.extend_from_slice(&(ts.div_euclid(1_000_000_000) as u32).to_le_bytes());
            rec.extend_from_slice(&(ts.rem_euclid(1_000_000_000) as u32).to_le_bytes());
            rec.extend_from_slice(&(data.len() as u32).to_le_bytes());
            rec.extend_from_slice(&orig_len.max(data.len() as u32).to_le_bytes());
            rec.extend_from_slice(data);
            s.write(&rec)?;
            s.packets += 1;
            s.last_index = index;
            s.last_ts = ts;
        }
        let key = excerpt_key(&self.decoder.decode(linktype, ts, data));
        self.ring_bytes += data.len();
        self.ring.push_back(RingPacket {
            index,
            key,
            packet: Packet {
                ts,
                orig_len,
                linktype,
                data: data.to_vec(),
            },
        });
        while self.ring.len() > RING_PACKETS || self.ring_bytes > RING_BYTES {
            match self.ring.pop_front() {
                Some(old) => self.ring_bytes -= old.packet.data.len(),
                None => break,
            }
        }
        Ok(())
    }

    /// Prepares the leaves of new alerts (their packets are the newest in the ring): writes
    /// each excerpt now; the leaf waits for its spool file's hash.
    ///
    /// # Errors
    /// Excerpt I/O errors.
    pub fn alerts(&mut self, alerts: &[PendingAlert]) -> anyhow::Result<()> {
        for a in alerts {
            let packets: Vec<&Packet> = match a.key {
                ExcerptKey::Flow(_) => {
                    let mut v: Vec<&Packet> = self
                        .ring
                        .iter()
                        .filter(|r| r.key == a.key && r.index <= a.index)
                        .map(|r| &r.packet)
                        .collect();
                    let mut bytes: usize = v.iter().map(|p| p.data.len()).sum();
                    while v.len() > EXCERPT_PACKETS || (bytes > EXCERPT_BYTES && v.len() > 1) {
                        bytes -= v.remove(0).data.len();
                    }
                    v
                }
                ExcerptKey::Single => self
                    .ring
                    .iter()
                    .filter(|r| r.index == a.index)
                    .map(|r| &r.packet)
                    .collect(),
            };
            let pcap = excerpt_pcap(&packets);
            let (excerpt_sha256, _) = custos_evidence::write_excerpt(&self.cfg.dir, &pcap)
                .context("cannot keep the alert's packet excerpt")?;
            let spool = self
                .spool
                .as_ref()
                .map(|s| s.name.clone())
                .unwrap_or_default();
            self.waiting.push(json!({
                "type": "custos.alert/1",
                "alert": a.alert,
                "community_id": a.alert.get("community_id").cloned().unwrap_or(Value::Null),
                "packets": { "pcap_file": format!("spool/{spool}"), "alert_packet": a.index, "excerpt_packets": packets.len() },
                "capture_sha256": Value::Null,
                "excerpt_sha256": excerpt_sha256,
                "model_sha256": a.model_sha256,
                "custos_version": env!("CARGO_PKG_VERSION"),
                "sensor": self.cfg.sensor,
            }));
        }
        Ok(())
    }

    /// Closes the current spool file: fsyncs and hashes it, logs it and the alerts waiting for
    /// it, and publishes a checkpoint.
    ///
    /// # Errors
    /// Spool or log I/O errors.
    pub fn rotate(&mut self) -> anyhow::Result<()> {
        let Some(s) = self.spool.take() else {
            return Ok(());
        };
        let Spool {
            seq,
            name,
            file,
            hasher,
            bytes,
            packets,
            first_index,
            first_ts,
            last_index,
            last_ts,
        } = s;
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::File::open(self.cfg.dir.join("spool"))?.sync_all()?;
        std::fs::File::open(self.cfg.dir.join("excerpts"))?.sync_all()?;
        let sha = hex(&hasher.finalize());
        let mut leaves = vec![custos_evidence::canonicalize(&json!({
            "type": "custos.capture/1",
            "pcap_file": format!("spool/{name}"),
            "sequence": seq,
            "sha256": sha,
            "bytes": bytes,
            "packets": packets,
            "first_packet": first_index,
            "last_packet": last_index,
            "first_ts": first_ts,
            "last_ts": last_ts,
            "sensor": self.cfg.sensor,
            "custos_version": env!("CARGO_PKG_VERSION"),
        }))?];
        for mut w in std::mem::take(&mut self.waiting) {
            w["capture_sha256"] = json!(sha);
            leaves.push(custos_evidence::canonicalize(&w)?);
        }
        self.log
            .append_batch(&leaves)
            .context("cannot append to the evidence log")?;
        self.leaves += leaves.len() as u64;
        archive_checkpoint(&self.cfg.dir)?;
        self.log
            .publish_checkpoint(&self.signer)
            .context("cannot publish the checkpoint")?;
        Ok(())
    }

    /// Ends live evidence: closes the spool file and publishes the final checkpoint.
    ///
    /// # Errors
    /// As [`LiveEvidence::rotate`].
    pub fn finish(&mut self) -> anyhow::Result<(u64, u64)> {
        self.rotate()?;
        if self.leaves == 0 {
            archive_checkpoint(&self.cfg.dir)?;
            self.log.publish_checkpoint(&self.signer)?;
        }
        Ok((self.leaves, self.log.integrated_size()))
    }
}
