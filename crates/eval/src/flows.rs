//! Flow-level ground truth from `flows.jsonl` (or `.zst`).
//!
//! A run's outputs do not list the packets of each flow, only its first and last
//! (`custos.first_pkt`, `custos.last_pkt`, within `custos.pcap_file`) and its Community ID,
//! so flow scores cannot be rebuilt and flow-level metrics are alert-based: a flow is an
//! *attack flow* of phase *k* when its first packet — or else its last — is labelled attack
//! in phase *k*, and it is *alerted* when an alert names its Community ID on a packet
//! between its first and last. Flows whose first packet is not evaluated are left out; so
//! are frames without IP (no Community ID).

use crate::labels::{Truth, BENIGN};
use crate::stats::RunStats;
use crate::EvalError;
use serde::Deserialize;
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::io::BufRead;
use std::path::Path;

/// The fields of a `flows.jsonl` line that evaluation reads.
#[derive(Deserialize)]
struct FlowLine {
    /// Community ID v1.
    community_id: Option<String>,
    /// custos's fields.
    custos: FlowContext,
}

/// `custos.*` of a flow event.
#[derive(Deserialize)]
struct FlowContext {
    /// The input file.
    pcap_file: String,
    /// Index of its first packet within that file.
    first_pkt: u64,
    /// Index of its last packet within that file.
    last_pkt: u64,
}

/// One evaluated flow.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Flow {
    /// Run index of its first packet.
    pub first: u64,
    /// Run index of its last packet.
    pub last: u64,
    /// [`BENIGN`] or its attack phase code.
    pub code: u8,
}

/// The evaluated flows, found by Community ID and packet.
#[derive(Debug, Default)]
pub(crate) struct FlowIndex {
    /// Flows in file order.
    pub flows: Vec<Flow>,
    /// Hash of (input, Community ID) → positions in `flows`.
    by_key: HashMap<u64, Vec<u32>>,
}

impl FlowIndex {
    /// Reads `dir/flows.jsonl`; `Ok(None)` when the run wrote no flows file.
    ///
    /// # Errors
    /// A line is not a flow event, or names an input or packet the run does not have.
    pub fn read(dir: &Path, stats: &RunStats, truth: &Truth) -> Result<Option<Self>, EvalError> {
        let path = dir.join("flows.jsonl");
        if !path.exists() && !dir.join("flows.jsonl.zst").exists() {
            return Ok(None);
        }
        let mut reader =
            custos_output::open_output(dir, "flows.jsonl").map_err(|e| EvalError::io(&path, e))?;
        let mut index = FlowIndex::default();
        let (mut buf, mut line) = (String::new(), 0u64);
        loop {
            buf.clear();
            if reader
                .read_line(&mut buf)
                .map_err(|e| EvalError::io(&path, e))?
                == 0
            {
                break;
            }
            line += 1;
            if buf.trim().is_empty() {
                continue;
            }
            let f: FlowLine = serde_json::from_str(&buf)
                .map_err(|e| EvalError::invalid(&path, line, e.to_string()))?;
            let Some(cid) = f.community_id else {
                continue;
            };
            let file = stats.file_of(&f.custos.pcap_file).ok_or_else(|| {
                let msg = format!("input {:?} is not in stats.json", f.custos.pcap_file);
                EvalError::invalid(&path, line, msg)
            })?;
            let base = stats.offset(file);
            let (first, last) = (base + f.custos.first_pkt, base + f.custos.last_pkt);
            let (Some(c_first), Some(c_last)) = (truth.code(first), truth.code(last)) else {
                let msg = format!("packets {first}..{last} past the run's end");
                return Err(EvalError::invalid(&path, line, msg));
            };
            if first < truth.skip {
                continue;
            }
            let code = if c_first != BENIGN { c_first } else { c_last };
            let pos = u32::try_from(index.flows.len())
                .map_err(|_| EvalError::invalid(&path, line, "more than 2^32 flows"))?;
            index.flows.push(Flow { first, last, code });
            index.by_key.entry(key(file, &cid)).or_default().push(pos);
        }
        Ok(Some(index))
    }

    /// The flow of input `file` with Community ID `cid` that holds run index `packet`.
    pub fn find(&self, file: usize, cid: &str, packet: u64) -> Option<usize> {
        self.by_key.get(&key(file, cid))?.iter().find_map(|&i| {
            let i = i as usize;
            let f = self.flows.get(i)?;
            (f.first <= packet && packet <= f.last).then_some(i)
        })
    }
}

/// The lookup key of (input, Community ID).
fn key(file: usize, cid: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    file.hash(&mut h);
    cid.hash(&mut h);
    h.finish()
}
