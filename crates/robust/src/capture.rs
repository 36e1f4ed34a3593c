//! Labelled captures in memory: read a capture with its per-packet labels, write one back as a
//! classic pcap file and a labels CSV that `custos dataset build` reads.
//!
//! The experiments rewrite captures (window injection adds packets, the test split divides
//! one), so the frames are copied out of the reader into owned buffers. Captures of a few
//! hundred thousand packets fit easily; this is not the streaming path of `custos analyze`.

use crate::error::RobustError;
use custos_capture::{FileReader, PacketSource, PcapWriter};
use custos_dataset::{LabelKind, Labels};
use sha2::{Digest, Sha256};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Most packets a capture may hold here (the frames are held in memory).
pub const MAX_PACKETS: usize = 20_000_000;

/// One captured frame, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Capture time, ns since the Unix epoch.
    pub ts: i64,
    /// Length on the wire (at least `data.len()`).
    pub orig_len: u32,
    /// The captured bytes.
    pub data: Vec<u8>,
}

/// The ground truth of one packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PacketLabel {
    /// Labelled attack.
    pub attack: bool,
    /// Its phase name, when the labels name one.
    pub phase: Option<String>,
}

/// A capture held in memory with one label per packet.
#[derive(Clone, Debug)]
pub struct LabelledCapture {
    /// The capture's link type (one for the whole file).
    pub linktype: u32,
    /// Snapshot length to write it back with.
    pub snaplen: u32,
    /// The frames, in file order.
    pub frames: Vec<Frame>,
    /// One label per frame.
    pub labels: Vec<PacketLabel>,
}

/// Where a labelled capture came from: for the report.
#[derive(Clone, Debug, serde::Serialize)]
pub struct InputFacts {
    /// The capture, as given.
    pub capture: String,
    /// Its SHA-256.
    pub capture_sha256: String,
    /// The labels file, as given.
    pub labels: String,
    /// Its SHA-256.
    pub labels_sha256: String,
    /// Packets.
    pub packets: u64,
    /// Packets labelled attack.
    pub attack_packets: u64,
}

impl LabelledCapture {
    /// Reads `capture` (pcap or pcapng, one link type) and its per-packet `labels` CSV
    /// (`index,label,phase,time`, as `custos lab` writes; rows checked against packet times).
    ///
    /// # Errors
    /// The capture cannot be read or is damaged, mixes link types or holds more than
    /// [`MAX_PACKETS`]; the labels are not per-packet, malformed, or do not fit the capture
    /// (too few or too many rows, times that differ).
    pub fn read(capture: &Path, labels: &Path) -> Result<(Self, InputFacts), RobustError> {
        let truth = Labels::read(&[labels.to_path_buf()], 1)?;
        if truth.kind() != LabelKind::PerPacket {
            return Err(RobustError::Usage(format!(
                "{} holds per-flow labels; robust poison needs per-packet labels \
                 (index,label,phase,time) as custos lab writes them",
                labels.display()
            )));
        }
        let mut reader = FileReader::open(capture)?;
        let snaplen = reader.snaplen().unwrap_or(262_144).max(65_535);
        let mut out = LabelledCapture {
            linktype: 0,
            snaplen,
            frames: Vec::new(),
            labels: Vec::new(),
        };
        while let Some(p) = reader.next_packet()? {
            if out.frames.is_empty() {
                out.linktype = p.linktype.0;
            } else if p.linktype.0 != out.linktype {
                return Err(RobustError::Usage(format!(
                    "{} mixes link types ({} and {} at packet {}); give a capture of one link type",
                    capture.display(),
                    out.linktype,
                    p.linktype.0,
                    p.index
                )));
            }
            if out.frames.len() >= MAX_PACKETS {
                return Err(RobustError::Usage(format!(
                    "{} holds more than {MAX_PACKETS} packets; cut it (editcap -c) first",
                    capture.display()
                )));
            }
            let l = truth.packet(0, p.index, p.ts)?;
            let phase = l
                .phase
                .and_then(|i| truth.phases().get(usize::from(i)).cloned());
            out.labels.push(PacketLabel {
                attack: l.attack,
                phase,
            });
            out.frames.push(Frame {
                ts: p.ts,
                orig_len: p
                    .orig_len
                    .max(u32::try_from(p.data.len()).unwrap_or(u32::MAX)),
                data: p.data.to_vec(),
            });
        }
        let rows = truth.rows(0);
        if rows != out.frames.len() as u64 {
            return Err(RobustError::Usage(format!(
                "{} has {rows} rows but {} has {} packets: are the labels paired with the \
                 right capture?",
                labels.display(),
                capture.display(),
                out.frames.len()
            )));
        }
        if out.frames.is_empty() {
            return Err(RobustError::Insufficient(format!(
                "{} holds no packet",
                capture.display()
            )));
        }
        let facts = InputFacts {
            capture: capture.display().to_string(),
            capture_sha256: sha256_file(capture)?,
            labels: labels.display().to_string(),
            labels_sha256: sha256_file(labels)?,
            packets: out.frames.len() as u64,
            attack_packets: out.attack_packets() as u64,
        };
        Ok((out, facts))
    }

    /// Packets labelled attack.
    pub fn attack_packets(&self) -> usize {
        self.labels.iter().filter(|l| l.attack).count()
    }

    /// Phase names of the attack packets, sorted, without repeats.
    pub fn attack_phases(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .labels
            .iter()
            .filter(|l| l.attack)
            .filter_map(|l| l.phase.clone())
            .collect();
        v.sort();
        v.dedup();
        v
    }

    /// Writes the capture as `dir/stem.pcap` and its labels as `dir/stem.labels.csv`; returns
    /// both paths.
    ///
    /// # Errors
    /// A file cannot be written.
    pub fn write(&self, dir: &Path, stem: &str) -> Result<(PathBuf, PathBuf), RobustError> {
        let pcap = dir.join(format!("{stem}.pcap"));
        let labels = dir.join(format!("{stem}.labels.csv"));
        let file = std::fs::File::create(&pcap).map_err(|e| RobustError::io("create", &pcap, e))?;
        let mut w = PcapWriter::new(BufWriter::new(file), self.linktype, self.snaplen)
            .map_err(|e| RobustError::io("write", &pcap, e))?;
        for f in &self.frames {
            w.write(f.ts, &f.data, f.orig_len)
                .map_err(|e| RobustError::io("write", &pcap, e))?;
        }
        w.finish()
            .and_then(|mut b| b.flush())
            .map_err(|e| RobustError::io("write", &pcap, e))?;
        let mut text = String::from("index,label,phase,time\n");
        for (i, (f, l)) in self.frames.iter().zip(&self.labels).enumerate() {
            let phase = l.phase.as_deref().unwrap_or("");
            text.push_str(&format!(
                "{i},{},{},{}.{:09}\n",
                u8::from(l.attack),
                csv_field(phase),
                f.ts.div_euclid(1_000_000_000),
                f.ts.rem_euclid(1_000_000_000)
            ));
        }
        std::fs::write(&labels, text).map_err(|e| RobustError::io("write", &labels, e))?;
        Ok((pcap, labels))
    }
}

/// A phase name as one CSV field (quoted when it holds a comma, quote or line break).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// SHA-256 of a file, in hex.
///
/// # Errors
/// The file cannot be read.
pub fn sha256_file(path: &Path) -> Result<String, RobustError> {
    let mut f = std::fs::File::open(path).map_err(|e| RobustError::io("read", path, e))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(|e| RobustError::io("read", path, e))?;
    Ok(hex(&h.finalize()))
}

/// Bytes in lowercase hex.
pub(crate) fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_commas_are_quoted() {
        assert_eq!(csv_field("scan"), "scan");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
    }
}
