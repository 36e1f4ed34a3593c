//! Splitting one labelled capture into a training and a test capture by flow: every packet
//! goes where a seeded hash of its flow key sends it (both directions of a flow together,
//! see [`crate::renumber::flow_key`]; frames without one by a hash of their index), so both
//! captures span the whole recording and hold part of every phase with more than a few
//! flows. The tests split the shared reference capture this way.

use crate::capture::LabelledCapture;
use crate::renumber::flow_key;
use crate::seeded;

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
