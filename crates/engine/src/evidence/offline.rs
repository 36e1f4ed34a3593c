//! Offline evidence: after a run over capture files, every alert becomes one leaf of the log,
//! with a pcap excerpt of its flow read back from the capture by packet index.

use super::{
    archive_checkpoint, excerpt_key, excerpt_pcap, hex, load_signer, open_log, opening_notice, Ctx,
    EvidenceSettings, ExcerptKey, Packet, PendingAlert, Result, Ring,
};
use crate::error::EngineError;
use custos_capture::{FileReader, PacketSource};
use custos_decode::{ChecksumMode, Decoder, DecoderConfig};
use custos_output::{Alert, Compression, OutFile};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// What [`log_alerts`] did.
pub struct LoggedAlerts {
    /// Leaves appended.
    pub leaves: u64,
    /// The log's size after the new checkpoint.
    pub size: u64,
    /// For each alert given, in order, the index of its leaf (`None` when its packet could
    /// not be read back from the capture).
    pub leaf_of: Vec<Option<u64>>,
    /// What opening the log did, when worth telling (created, recovered, repaired).
    pub opened: Option<String>,
}

/// Logs every pending alert as a leaf, then publishes a signed checkpoint.
///
/// # Errors
/// Unreadable captures or key, log I/O errors.
pub fn log_alerts(
    cfg: &EvidenceSettings,
    files: &[PathBuf],
    alerts: &[PendingAlert],
) -> Result<LoggedAlerts> {
    let signer = load_signer(&cfg.key)?;
    let mut log = open_log(&cfg.log, &signer)?;
    let opened = opening_notice(&cfg.log, &log);
    let excerpt_dir = cfg.log.join("excerpts");
    std::fs::create_dir_all(&excerpt_dir)
        .ctx(|| format!("cannot create {}", excerpt_dir.display()))?;
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
        let mut done = file_leaves(cfg, path, &mine)?;
        done.sort_by_key(|(i, pos, _)| (*i, *pos));
        for (_, pos, record) in done {
            leaves.push(record.to_leaf().ctx(|| "cannot encode a leaf".into())?);
            leaf_alert.push(pos);
        }
    }
    // The excerpts' directory entries are durable before any leaf naming them is published.
    std::fs::File::open(&excerpt_dir)
        .and_then(|d| d.sync_all())
        .ctx(|| format!("cannot sync {}", excerpt_dir.display()))?;
    let first_leaf = log.integrated_size();
    if !leaves.is_empty() {
        log.append_batch(&leaves)
            .ctx(|| "cannot append to the evidence log".into())?;
    }
    archive_checkpoint(&cfg.log)?;
    let cp = log
        .publish_checkpoint(&signer)
        .ctx(|| "cannot publish the checkpoint".into())?;
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
        opened,
    })
}

/// SHA-256 of a whole file.
fn file_sha256(path: &Path) -> Result<String> {
    let mut h = Sha256::new();
    let mut f = std::fs::File::open(path).ctx(|| format!("cannot hash {}", path.display()))?;
    std::io::copy(&mut f, &mut h).ctx(|| format!("cannot hash {}", path.display()))?;
    Ok(hex(&h.finalize()))
}

/// Reads one capture back up to its last alert packet, writes each alert's excerpt (its flow's
/// packets so far, or the packet alone) and returns the leaves as (packet index, position
/// in the alert list, leaf).
fn file_leaves(
    cfg: &EvidenceSettings,
    path: &Path,
    mine: &[(usize, &PendingAlert)],
) -> Result<Vec<(u64, usize, custos_evidence::AlertLeaf)>> {
    let capture_sha256 = file_sha256(path)?;
    // Alerts of this file by packet index; flows they need.
    let mut by_index: HashMap<u64, Vec<(usize, &PendingAlert)>> = HashMap::new();
    for &(pos, a) in mine {
        by_index.entry(a.index).or_default().push((pos, a));
    }
    let keys: std::collections::HashSet<ExcerptKey> = mine.iter().map(|(_, a)| a.key).collect();
    let last = mine.iter().map(|(_, a)| a.index).max().unwrap_or(0);
    let mut rings: HashMap<ExcerptKey, Ring> = HashMap::new();
    let mut reader = FileReader::open(path).ctx(|| format!("cannot re-read {}", path.display()))?;
    let mut decoder = Decoder::new(DecoderConfig {
        checksums: ChecksumMode::Ignore,
        ..DecoderConfig::default()
    });
    let mut done = Vec::new();
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
            rings.entry(key).or_default().push(pkt.clone());
        }
        let Some(list) = here else { continue };
        for &(pos, a) in list {
            let packets: Vec<&Packet> = match (a.key, rings.get(&a.key)) {
                (ExcerptKey::Flow(_), Some(r)) => r.packets.iter().collect(),
                _ => vec![&pkt],
            };
            let pcap = excerpt_pcap(&packets);
            let (excerpt_sha256, _) = custos_evidence::write_excerpt(&cfg.log, &pcap)
                .ctx(|| "cannot keep the alert's packet excerpt".into())?;
            let record = a.leaf(
                path.display().to_string(),
                packets.len(),
                Some(capture_sha256.clone()),
                excerpt_sha256,
                &cfg.sensor,
            );
            done.push((a.index, pos, record));
        }
    }
    Ok(done)
}

/// Adds to each line of `alerts.jsonl` (or `alerts.jsonl.zst`) in `dir` the index of its
/// evidence leaf (`custos.evidence_leaf`), so that an analyst can name it in
/// `case export --alert`; the file is replaced whole (written beside it, then renamed).
///
/// # Errors
/// The file cannot be read or written, or holds another number of alerts than `leaf_of`.
pub fn name_leaves(dir: &Path, compression: Compression, leaf_of: &[Option<u64>]) -> Result<()> {
    use std::io::{BufRead, Write};
    let name = compression.file_name("alerts.jsonl");
    let path = dir.join(&name);
    let reader = custos_output::open_output(dir, "alerts.jsonl")
        .ctx(|| format!("cannot read {}", path.display()))?;
    let mut alerts = Vec::with_capacity(leaf_of.len());
    for line in reader.lines() {
        let line = line.ctx(|| format!("cannot read {}", path.display()))?;
        let alert: Alert =
            serde_json::from_str(&line).ctx(|| format!("{}: not an alert line", path.display()))?;
        alerts.push(alert);
    }
    if alerts.len() != leaf_of.len() {
        return Err(EngineError::EvidenceRefused(format!(
            "{}: {} alerts, but {} were logged as evidence",
            path.display(),
            alerts.len(),
            leaf_of.len()
        )));
    }
    let tmp_name = format!("{name}.tmp");
    let tmp = dir.join(&tmp_name);
    let mut out =
        OutFile::create_at(&tmp, compression).ctx(|| format!("cannot create {}", tmp.display()))?;
    for (mut alert, leaf) in alerts.into_iter().zip(leaf_of) {
        alert.custos.evidence_leaf = *leaf;
        serde_json::to_writer(&mut out, &alert)
            .map_err(std::io::Error::from)
            .and_then(|()| out.write_all(b"\n"))
            .ctx(|| format!("cannot write {}", tmp.display()))?;
    }
    out.close()
        .ctx(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, &path).ctx(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}
