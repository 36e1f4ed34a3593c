//! Live evidence: every packet spooled to rotating pcap files that are hashed and logged,
//! alert excerpts from a bounded ring of recent packets.

use super::{
    archive_checkpoint, excerpt_key, excerpt_pcap, hex, load_signer, open_log, opening_notice, Ctx,
    EvidenceSettings, ExcerptKey, Packet, PendingAlert, Result, EXCERPT_BYTES, EXCERPT_PACKETS,
    SNAPLEN,
};
use custos_capture::PcapWriter;
use custos_decode::{ChecksumMode, Decoder, DecoderConfig};
use custos_evidence::{AlertLeaf, CaptureLeaf, Log, Signer, CAPTURE_TYPE};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;

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

/// A writer that hashes what passes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
}

impl<W: std::io::Write> std::io::Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(buf.get(..n).unwrap_or(buf));
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

struct Spool {
    seq: u64,
    name: String,
    pcap: PcapWriter<Hashing<std::io::BufWriter<std::fs::File>>>,
    first_index: u64,
    first_ts: i64,
    last_index: u64,
    last_ts: i64,
}

/// Evidence for live capture: every packet is spooled to rotating pcap files that are hashed
/// and logged (`custos.capture/1` leaves); alert excerpts come from a bounded ring of recent
/// packets ([`RING_PACKETS`], [`RING_BYTES`]) — never from per-flow buffers; alert leaves are
/// appended once the spool file holding their packet is closed (its hash is then known), and
/// a checkpoint is published at every rotation and at the end.
pub struct LiveEvidence {
    cfg: EvidenceSettings,
    signer: Signer,
    log: Log,
    decoder: Decoder,
    ring: VecDeque<RingPacket>,
    ring_bytes: usize,
    spool: Option<Spool>,
    next_seq: u64,
    waiting: Vec<AlertLeaf>,
    leaves: u64,
    opened: Option<String>,
}

impl LiveEvidence {
    /// Opens (or creates) the log and the spool directory.
    ///
    /// # Errors
    /// Unreadable key, log I/O errors.
    pub fn new(cfg: EvidenceSettings) -> Result<Self> {
        let signer = load_signer(&cfg.key)?;
        let log = open_log(&cfg.log, &signer)?;
        let opened = opening_notice(&cfg.log, &log);
        let spool = cfg.log.join("spool");
        std::fs::create_dir_all(&spool)
            .and_then(|()| std::fs::create_dir_all(cfg.log.join("excerpts")))
            .ctx(|| format!("cannot create {}", spool.display()))?;
        let next_seq = std::fs::read_dir(&spool)
            .ctx(|| format!("cannot read {}", spool.display()))?
            .count() as u64;
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
            opened,
        })
    }

    fn open_spool(&mut self, linktype: u32, index: u64, ts: i64) -> Result<()> {
        let name = format!("{:08}.pcap", self.next_seq);
        let path = self.cfg.log.join("spool").join(&name);
        let file =
            std::fs::File::create(&path).ctx(|| format!("cannot create {}", path.display()))?;
        let out = Hashing {
            inner: std::io::BufWriter::new(file),
            hasher: Sha256::new(),
        };
        let pcap =
            PcapWriter::new(out, linktype, SNAPLEN).ctx(|| "cannot write the spool file".into())?;
        self.spool = Some(Spool {
            seq: self.next_seq,
            name,
            pcap,
            first_index: index,
            first_ts: ts,
            last_index: index,
            last_ts: ts,
        });
        self.next_seq += 1;
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
    ) -> Result<()> {
        let rotate = self.spool.as_ref().is_some_and(|s| {
            s.pcap.bytes() >= SPOOL_BYTES || ts.saturating_sub(s.first_ts) >= SPOOL_NS
        });
        if rotate {
            self.rotate()?;
        }
        if self.spool.is_none() {
            self.open_spool(linktype, index, ts)?;
        }
        if let Some(s) = self.spool.as_mut() {
            s.pcap
                .write(ts, data, orig_len)
                .ctx(|| "cannot write the spool file".into())?;
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
    pub fn alerts(&mut self, alerts: &[PendingAlert]) -> Result<()> {
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
            let (excerpt_sha256, _) = custos_evidence::write_excerpt(&self.cfg.log, &pcap)
                .ctx(|| "cannot keep the alert's packet excerpt".into())?;
            let spool = self
                .spool
                .as_ref()
                .map(|s| s.name.clone())
                .unwrap_or_default();
            // The capture's hash is known once its spool file is closed.
            self.waiting.push(a.leaf(
                format!("spool/{spool}"),
                packets.len(),
                None,
                excerpt_sha256,
                &self.cfg.sensor,
            ));
        }
        Ok(())
    }

    /// Closes the current spool file: fsyncs and hashes it, logs it and the alerts waiting for
    /// it, and publishes a checkpoint.
    ///
    /// # Errors
    /// Spool or log I/O errors.
    pub fn rotate(&mut self) -> Result<()> {
        let Some(s) = self.spool.take() else {
            return Ok(());
        };
        let Spool {
            seq,
            name,
            pcap,
            first_index,
            first_ts,
            last_index,
            last_ts,
        } = s;
        let (bytes, packets) = (pcap.bytes(), pcap.count());
        let dir = &self.cfg.log;
        let Hashing { inner, hasher } =
            pcap.finish().ctx(|| format!("cannot close spool/{name}"))?;
        inner
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .and_then(|()| std::fs::File::open(dir.join("spool"))?.sync_all())
            .and_then(|()| std::fs::File::open(dir.join("excerpts"))?.sync_all())
            .ctx(|| format!("cannot close spool/{name}"))?;
        let sha = hex(&hasher.finalize());
        let capture = CaptureLeaf {
            kind: CAPTURE_TYPE.into(),
            pcap_file: format!("spool/{name}"),
            sequence: seq,
            sha256: sha.clone(),
            bytes,
            packets,
            first_packet: first_index,
            last_packet: last_index,
            first_ts,
            last_ts,
            sensor: self.cfg.sensor.clone(),
            custos_version: env!("CARGO_PKG_VERSION").into(),
        };
        let mut leaves = vec![capture.to_leaf().ctx(|| "cannot encode a leaf".into())?];
        for mut w in std::mem::take(&mut self.waiting) {
            w.capture_sha256 = Some(sha.clone());
            leaves.push(w.to_leaf().ctx(|| "cannot encode a leaf".into())?);
        }
        self.log
            .append_batch(&leaves)
            .ctx(|| "cannot append to the evidence log".into())?;
        self.leaves += leaves.len() as u64;
        archive_checkpoint(&self.cfg.log)?;
        self.log
            .publish_checkpoint(&self.signer)
            .ctx(|| "cannot publish the checkpoint".into())?;
        Ok(())
    }

    /// Ends live evidence: closes the spool file and publishes the final checkpoint.
    ///
    /// # Errors
    /// As [`LiveEvidence::rotate`].
    pub fn finish(&mut self) -> Result<LiveReport> {
        self.rotate()?;
        if self.leaves == 0 {
            archive_checkpoint(&self.cfg.log)?;
            self.log
                .publish_checkpoint(&self.signer)
                .ctx(|| "cannot publish the checkpoint".into())?;
        }
        Ok(LiveReport {
            leaves: self.leaves,
            log_size: self.log.integrated_size(),
            opened: self.opened.take(),
        })
    }
}

/// What live evidence did.
#[derive(Clone, Debug)]
pub struct LiveReport {
    /// Leaves appended (spooled captures and alerts).
    pub leaves: u64,
    /// The log's size after the last checkpoint.
    pub log_size: u64,
    /// What opening the log did, when worth telling.
    pub opened: Option<String>,
}
