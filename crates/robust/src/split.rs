//! Splitting one labelled capture into a training and a test capture by flow: every packet
//! goes where a seeded hash of its flow key sends it (both directions of a flow together,
//! see [`crate::renumber::flow_key`]; frames without one by a hash of their index), so both
//! captures span the whole recording and hold part of every phase with more than a few
//! flows. The tests split the shared reference capture this way.

use crate::capture::LabelledCapture;
use crate::error::RobustError;
use crate::renumber::flow_key;
use crate::seeded;
use std::path::{Path, PathBuf};

/// Splits `cap`: a packet whose flow hashes below `share` goes to the first capture.
pub fn by_flow(cap: &LabelledCapture, share: f64, seed: u64) -> (LabelledCapture, LabelledCapture) {
    let empty = || LabelledCapture {
        linktype: cap.linktype,
        snaplen: cap.snaplen,
        frames: Vec::new(),
        labels: Vec::new(),
    };
    let (mut a, mut b) = (empty(), empty());
    let cut = (share.clamp(0.0, 1.0) * u64::MAX as f64) as u64;
    for (i, (f, l)) in cap.frames.iter().zip(&cap.labels).enumerate() {
        let key =
            flow_key(cap.linktype, &f.data).unwrap_or_else(|| (i as u64).to_be_bytes().to_vec());
        let side = if seeded::hash(seed, "split", &key) < cut {
            &mut a
        } else {
            &mut b
        };
        side.frames.push(f.clone());
        side.labels.push(l.clone());
    }
    (a, b)
}

/// One half of a split, as written.
#[derive(Clone, Debug)]
pub struct Half {
    /// `train` or `test`.
    pub name: &'static str,
    /// Its packets.
    pub packets: usize,
    /// Its attack packets.
    pub attack_packets: usize,
    /// The capture written.
    pub pcap: PathBuf,
    /// Its labels.
    pub labels: PathBuf,
}

/// Reads a labelled capture, splits it with [`by_flow`] (`share` of the flows to the
/// training half) and writes `dir/train.pcap`, `dir/train.labels.csv`, `dir/test.pcap` and
/// `dir/test.labels.csv` (`dir` created if missing); `each` sees each half once written.
///
/// # Errors
/// A `share` outside [0, 1], an unreadable capture or labels, a directory or file that
/// cannot be written.
pub fn write_halves(
    capture: &Path,
    labels: &Path,
    (share, seed): (f64, u64),
    dir: &Path,
    mut each: impl FnMut(&Half),
) -> Result<(), RobustError> {
    if !(0.0..=1.0).contains(&share) {
        return Err(RobustError::Usage(format!(
            "--share {share} must be in [0, 1]"
        )));
    }
    let (cap, _) = LabelledCapture::read(capture, labels)?;
    let (train, test) = by_flow(&cap, share, seed);
    std::fs::create_dir_all(dir).map_err(|e| RobustError::io("create", dir, e))?;
    for (part, name) in [(&train, "train"), (&test, "test")] {
        let (pcap, labels) = part.write(dir, name)?;
        each(&Half {
            name,
            packets: part.frames.len(),
            attack_packets: part.attack_packets(),
            pcap,
            labels,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_a_share_outside_zero_to_one_before_reading() {
        let dir = Path::new("/nonexistent/split");
        let e = write_halves(
            Path::new("x.pcap"),
            Path::new("x.csv"),
            (2.0, 0),
            dir,
            |_| {},
        )
        .unwrap_err();
        assert_eq!(e.to_string(), "--share 2 must be in [0, 1]");
    }
}
