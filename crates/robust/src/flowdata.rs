//! The flow model's data: per-flow datasets built with `custos dataset build`'s code, read
//! back as feature tables, relabelled in memory, subset for training, and the test flows
//! grouped with their checkpoint rows.
//!
//! A flow is scored as the flow detector scores it on the packet path: at 1, 2, 4, …
//! packets and at its end (rows of `flow-prefixes.parquet` and `flows.parquet`), alerting
//! once when any of those scores exceeds the threshold. Its score here is therefore the
//! highest of its rows' scores.

use crate::error::RobustError;
use custos_dataset::{read_features, FeatureTable, FLOWS_FILE, PREFIXES_FILE};
use custos_engine::EngineConfig;
use custos_features::flow::live;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::Path;

/// A dataset's rows: every flow at its end and at its checkpoints.
#[derive(Clone, Debug)]
pub struct FlowTables {
    /// Feature names, in column order.
    pub names: Vec<String>,
    /// The flows as they ended.
    pub flows: FeatureTable,
    /// The flows at 1, 2, 4, … packets.
    pub prefixes: FeatureTable,
}

impl FlowTables {
    /// Builds the dataset of `capture` labelled by `labels` in `dir` (created; a dataset
    /// already there is replaced) and reads its tables.
    ///
    /// # Errors
    /// The dataset cannot be built (labels that do not fit, I/O) or read back.
    pub fn build(capture: &Path, labels: &Path, dir: &Path) -> Result<Self, RobustError> {
        std::fs::create_dir_all(dir).map_err(|e| RobustError::io("create", dir, e))?;
        let mut cfg = EngineConfig::default();
        cfg.output.overwrite = true;
        custos_dataset::build(
            &[capture.to_path_buf()],
            &[labels.to_path_buf()],
            dir,
            None,
            cfg,
        )?;
        let names = live::names();
        let flows = read_features(&dir.join(FLOWS_FILE), &names)?;
        let prefixes = read_features(&dir.join(PREFIXES_FILE), &names)?;
        Ok(FlowTables {
            names,
            flows,
            prefixes,
        })
    }

    /// Flows labelled attack.
    pub fn attack_flows(&self) -> usize {
        self.flows.labels.iter().filter(|&&l| l).count()
    }

    /// Relabels the flows whose index in [`FlowTables::flows`] is in `flip` as benign, with
    /// their checkpoint rows; returns the labels replaced, for [`FlowTables::restore`].
    pub fn flip(&mut self, flip: &[usize]) -> (Vec<bool>, Vec<bool>) {
        let saved = (self.flows.labels.clone(), self.prefixes.labels.clone());
        let mut uids: Vec<&str> = Vec::with_capacity(flip.len());
        for &i in flip {
            if let Some(l) = self.flows.labels.get_mut(i) {
                *l = false;
            }
            if let Some(u) = self.flows.uids.get(i) {
                uids.push(u);
            }
        }
        uids.sort_unstable();
        for (u, l) in self
            .prefixes
            .uids
            .iter()
            .zip(self.prefixes.labels.iter_mut())
        {
            if uids.binary_search(&u.as_str()).is_ok() {
                *l = false;
            }
        }
        saved
    }

    /// Gives each flow whose index in [`FlowTables::flows`] is in `flows` the other label;
    /// its checkpoint rows all take the flow's new label (a flow relabelled attack is attack
    /// from its first packet on, one relabelled benign benign throughout).
    pub fn relabel(&mut self, flows: &[usize]) {
        let mut new: Vec<(String, bool)> = Vec::with_capacity(flows.len());
        for &i in flows {
            if let (Some(l), Some(u)) = (self.flows.labels.get_mut(i), self.flows.uids.get(i)) {
                *l = !*l;
                new.push((u.clone(), *l));
            }
        }
        new.sort_unstable();
        for (u, l) in self
            .prefixes
            .uids
            .iter()
            .zip(self.prefixes.labels.iter_mut())
        {
            if let Ok(k) = new.binary_search_by(|(n, _)| n.as_str().cmp(u)) {
                *l = new[k].1;
            }
        }
    }

    /// Puts back the labels [`FlowTables::flip`] returned.
    pub fn restore(&mut self, saved: (Vec<bool>, Vec<bool>)) {
        self.flows.labels = saved.0;
        self.prefixes.labels = saved.1;
    }

    /// The rows (flows, then prefixes) whose uid `keep` accepts, column-major, with labels.
    pub fn subset(&self, mut keep: impl FnMut(&str) -> bool) -> (Vec<Vec<f64>>, Vec<bool>) {
        let mut columns = vec![Vec::new(); self.names.len()];
        let mut labels = Vec::new();
        for t in [&self.flows, &self.prefixes] {
            for (i, uid) in t.uids.iter().enumerate() {
                if !keep(uid) {
                    continue;
                }
                for (out, col) in columns.iter_mut().zip(&t.columns) {
                    out.push(col.get(i).copied().unwrap_or(0.0));
                }
                labels.push(t.labels.get(i).copied().unwrap_or(false));
            }
        }
        (columns, labels)
    }

    /// Row `i` of `t` as a feature vector.
    pub fn row(t: &FeatureTable, i: usize, out: &mut Vec<f64>) {
        out.clear();
        out.extend(t.columns.iter().map(|c| c.get(i).copied().unwrap_or(0.0)));
    }
}

/// The first 32 bits of SHA-256 of a uid (as `custos train --detector flow` splits flows).
pub fn uid_hash(uid: &str) -> u32 {
    let h = Sha256::digest(uid.as_bytes());
    u32::from_be_bytes([h[0], h[1], h[2], h[3]])
}

/// The test flows with their rows, row-major.
#[derive(Debug)]
pub struct TestFlows {
    /// Labelled attack, per flow.
    pub attack: Vec<bool>,
    /// Phase, per flow.
    pub phase: Vec<Option<String>>,
    /// Every row (end and checkpoints), row-major, `features` values each.
    pub rows: Vec<f64>,
    /// Features per row.
    pub features: usize,
    /// The flow each row belongs to.
    pub row_flow: Vec<usize>,
}

impl TestFlows {
    /// Groups the rows of `t` by flow.
    pub fn new(t: &FlowTables) -> Self {
        let index: HashMap<&str, usize> = t
            .flows
            .uids
            .iter()
            .enumerate()
            .map(|(i, u)| (u.as_str(), i))
            .collect();
        let features = t.names.len();
        let mut out = TestFlows {
            attack: t.flows.labels.clone(),
            phase: t.flows.phases.clone(),
            rows: Vec::new(),
            features,
            row_flow: Vec::new(),
        };
        let mut row = Vec::with_capacity(features);
        for (table, is_flow) in [(&t.flows, true), (&t.prefixes, false)] {
            for (i, uid) in table.uids.iter().enumerate() {
                let flow = if is_flow {
                    Some(i)
                } else {
                    index.get(uid.as_str()).copied()
                };
                let Some(flow) = flow else {
                    continue;
                };
                FlowTables::row(table, i, &mut row);
                out.rows.extend_from_slice(&row);
                out.row_flow.push(flow);
            }
        }
        out
    }

    /// Flows.
    pub fn len(&self) -> usize {
        self.attack.len()
    }

    /// Whether there is no flow.
    pub fn is_empty(&self) -> bool {
        self.attack.is_empty()
    }

    /// Rows with the flow each belongs to.
    pub fn rows(&self) -> impl Iterator<Item = (usize, &[f64])> {
        self.row_flow
            .iter()
            .copied()
            .zip(self.rows.chunks_exact(self.features.max(1)))
    }

    /// Per flow, the highest of `score`'s values over its rows.
    pub fn flow_max(&self, mut score: impl FnMut(&[f64]) -> f64) -> Vec<f64> {
        let mut out = vec![f64::NEG_INFINITY; self.len()];
        for (flow, row) in self.rows() {
            if let Some(s) = out.get_mut(flow) {
                *s = s.max(score(row));
            }
        }
        out
    }
}
