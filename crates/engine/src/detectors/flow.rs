//! The supervised flow detector as a [`Detector`]: gradient-boosted trees over each flow's
//! live features (`custos_features::flow`), scored while the flow lives — when its packet
//! count reaches 1, 2, 4, 8, … — and when it ends, so a flood is flagged before its flows end.
//!
//! Flows of an IP protocol the model's training data never held are not scored (a tree model
//! learned nothing about them); they are counted in `stats.json` and named in a warning.
//!
//! A flow alerts once: at the first checkpoint whose probability exceeds the model's
//! threshold (an alert on that packet, under the run's rate policy), or else at its end (an
//! alert on the flow). Alerts are also limited to one per host pair (either direction) and
//! second of packet time, the others counted as suppressed: a flood or a scan of thousands of
//! one-packet flows gives an alert a second, not one per flow — its flows still carry their
//! scores in `scores.csv`. Each alert explains itself with the features whose path
//! contributions pushed its score up most. A packet's value in `scores.csv` is the latest
//! score of the flow it belongs to (its innermost IP layer's), 0 for packets in no flow.

use crate::alerts::{AlertQueue, Evidence, Signature};
use crate::detector::{Detector, DetectorError, PacketView};
use crate::detectors::row_memo::RowMemo;
use crate::detectors::training_flows::{flow_fingerprint, TrainingFlows, TRAINING_FLOWS_FILE};
use crate::detectors::ModelTrust;
use crate::error::EngineError;
use custos_app::AppEvent;
use custos_detect::gbdt::{CompactForest, PathExplainer};
use custos_detect::FlowModel;
use custos_features::flow::{is_checkpoint, live, FlowTracker, Label};
use custos_flow::zeek::ZeekConfig;
use custos_flow::{EndedFlow, FlowKey};
use custos_output::ModelSignature;
use rustc_hash::FxHashMap;
use serde_json::json;
use std::path::Path;

/// The model file in a flow model directory.
pub const FLOW_MODEL_FILE: &str = "flow-model.json";

/// The copy of the dataset's manifest in a flow model directory.
pub const DATASET_MANIFEST_FILE: &str = "dataset-manifest.json";

/// Features named in an alert's explanation (those among the largest contributions that
/// pushed the score up).
const EXPLAIN_TOP: usize = 5;

/// The flow detector's alert signature.
const SIGNATURE: Signature<'static> = Signature {
    gid: 1,
    signature_id: 9_000_002,
    rev: 1,
    signature: "custos flow: flow classified as attack traffic",
    category: "Attack traffic (supervised flow model)",
    severity: 2,
};

/// What the detector knows of one open flow.
#[derive(Clone, Copy, Debug, Default)]
struct Open {
    score: f64,
    alerted: bool,
}

/// Scores remembered by feature row ([`RowMemo`]: exact, so a remembered score is exactly the
/// row's score, whatever hash collision an attacker aims for). Floods repeat the same row — a
/// lone SYN, a one-packet datagram — thousands of times; a flow that ends as it was at its
/// last checkpoint is found here too. Cleared when full: at most this many rows (about 700
/// bytes each) are held.
const MEMO_ROWS: usize = 4096;

/// Explanations remembered by feature row, like scores (JSON values are larger: fewer kept).
const MEMO_EXPLANATIONS: usize = 1024;

/// Host pairs whose last alert is this recent (nanoseconds of packet time) get no other.
const PAIR_QUIET_NS: i64 = 1_000_000_000;

/// The last alert time per host pair (the addresses of a canonical flow key, so either
/// direction), pruned of pairs quiet for longer than [`PAIR_QUIET_NS`] when it grows.
#[derive(Default)]
struct PairThrottle {
    last: FxHashMap<(custos_flow::Addr, custos_flow::Addr), i64>,
}

impl PairThrottle {
    /// Whether flow `key` may alert at packet time `ts`; records the alert when it may.
    fn admit(&mut self, key: &FlowKey, ts: i64) -> bool {
        let pair = (key.lo.addr, key.hi.addr);
        if let Some(&t) = self.last.get(&pair) {
            if ts.saturating_sub(t) < PAIR_QUIET_NS {
                return false;
            }
        }
        if self.last.len() > 65_536 {
            self.last
                .retain(|_, t| ts.saturating_sub(*t) < PAIR_QUIET_NS);
        }
        self.last.insert(pair, ts);
        true
    }
}

/// The supervised flow detector; see the module docs.
pub struct FlowDetector {
    model: FlowModel,
    /// The model's trees laid out for fast scoring (same scores bit for bit).
    forest: CompactForest,
    explainer: PathExplainer,
    sha256: String,
    signature: ModelSignature,
    tracker: FlowTracker,
    open: FxHashMap<FlowKey, Open>,
    touched: Vec<FlowKey>,
    row: Vec<f64>,
    /// Scores by feature row; see [`MEMO_ROWS`].
    memo: RowMemo<f64>,
    /// Explanations (the top features) by feature row; see [`MEMO_EXPLANATIONS`].
    explained: RowMemo<serde_json::Value>,
    /// Alerts per host pair and second.
    pairs: PairThrottle,
    scored: u64,
    flows_scored: u64,
    alerted_flows: u64,
    max_score: f64,
    /// The captures of its training dataset (path, SHA-256), from the dataset's manifest.
    training_inputs: Vec<serde_json::Value>,
    /// Flows left unscored, by IP protocol the model never saw in training.
    unknown_protocols: std::collections::BTreeMap<u8, u64>,
    /// The fingerprints of the flows it was trained on (model directories written before
    /// they were recorded have none), with the run's flows counted against them: (ended
    /// flows, flows among the training flows).
    training_flows: Option<(TrainingFlows, u64, u64)>,
}

impl FlowDetector {
    /// The detector scoring with the model in the model directory `dir` ([`FLOW_MODEL_FILE`]),
    /// loaded only as `trust` allows; `zeek` are the flow table's settings (the tracker must
    /// assign packets to flows as the table does).
    ///
    /// # Errors
    /// The model cannot be used; the message names the directory and the reason.
    pub fn with_model(
        dir: &Path,
        trust: &ModelTrust,
        zeek: ZeekConfig,
    ) -> Result<Self, EngineError> {
        let loaded = trust.load(dir, FLOW_MODEL_FILE)?;
        let names = live::names();
        let model =
            FlowModel::from_bytes(&loaded.bytes, live::LIVE_FEATURES, &names).map_err(|e| {
                EngineError::Config(format!(
                    "cannot use model {}: {}: {e}",
                    dir.display(),
                    FLOW_MODEL_FILE
                ))
            })?;
        let training_inputs = trust
            .load(dir, DATASET_MANIFEST_FILE)
            .ok()
            .map(|m| training_captures(&m.bytes))
            .unwrap_or_default();
        let training_flows = if dir.join(TRAINING_FLOWS_FILE).exists() {
            let loaded = trust.load(dir, TRAINING_FLOWS_FILE)?;
            let set = TrainingFlows::from_bytes(&loaded.bytes).ok_or_else(|| {
                EngineError::Config(format!(
                    "cannot use model {}: {TRAINING_FLOWS_FILE} is not a list of sorted 8-byte                      fingerprints",
                    dir.display()
                ))
            })?;
            Some((set, 0, 0))
        } else {
            None
        };
        Ok(FlowDetector {
            training_flows,
            explainer: PathExplainer::new(&model.gbdt),
            forest: CompactForest::new(&model.gbdt),
            training_inputs,
            sha256: FlowModel::sha256_of(&loaded.bytes),
            model,
            signature: loaded.signature,
            tracker: FlowTracker::new(zeek, false),
            open: FxHashMap::default(),
            touched: Vec::new(),
            row: Vec::with_capacity(live::LIVE_FEATURE_COUNT),
            memo: RowMemo::new(MEMO_ROWS),
            explained: RowMemo::new(MEMO_EXPLANATIONS),
            pairs: PairThrottle::default(),
            scored: 0,
            flows_scored: 0,
            alerted_flows: 0,
            max_score: 0.0,
            unknown_protocols: Default::default(),
        })
    }

    /// The loaded model.
    pub fn model(&self) -> &FlowModel {
        &self.model
    }

    fn score_row(&mut self) -> f64 {
        let p = match self.memo.get(&self.row) {
            Some(&p) => p,
            None => {
                let p = self.forest.probability(&self.row);
                self.memo.insert(&self.row, p);
                p
            }
        };
        self.scored += 1;
        if p > self.max_score {
            self.max_score = p;
        }
        p
    }

    /// The explanation of the score of the features in `self.row`.
    fn explain(&mut self, packets: u64, at_end: bool) -> serde_json::Value {
        // Identical rows (a flood's) have identical explanations: remembered like scores.
        let top = match self.explained.get(&self.row) {
            Some(top) => top.clone(),
            None => {
                let top: serde_json::Value = self
                    .explainer
                    .top(&self.model.gbdt, &self.row, EXPLAIN_TOP)
                    .into_iter()
                    .filter(|(_, _, contribution)| *contribution > 0.0)
                    .map(|(feature, value, contribution)| {
                        json!({"feature": feature, "value": value, "contribution": contribution})
                    })
                    .collect();
                self.explained.insert(&self.row, top.clone());
                top
            }
        };
        // Built by hand: `json!` would copy `top` once more by serialising it.
        let mut m = serde_json::Map::with_capacity(4);
        m.insert("flow_packets".into(), packets.into());
        let at = if at_end { "flow end" } else { "checkpoint" };
        m.insert("scored_at".into(), at.into());
        m.insert("top_features".into(), top);
        m.insert(
            "method".into(),
            "path contributions to the log-odds (Saabas)".into(),
        );
        serde_json::Value::Object(m)
    }
}

impl Detector for FlowDetector {
    fn name(&self) -> &str {
        "flow"
    }

    fn model_digest(&self) -> Option<&str> {
        Some(&self.sha256)
    }

    fn model_signature(&self) -> Option<ModelSignature> {
        Some(self.signature.clone())
    }

    fn scores_packets(&self) -> bool {
        true
    }

    fn operating_threshold(&self) -> Option<f64> {
        Some(self.model.threshold())
    }

    fn warning(&self) -> Option<String> {
        if self.unknown_protocols.is_empty() {
            return None;
        }
        let list: Vec<String> = self
            .unknown_protocols
            .iter()
            .map(|(p, n)| format!("{n} of IP protocol {p}"))
            .collect();
        Some(format!(
            "the flow model left {} unscored: its training data had no flow of those \
             protocols (train it on a dataset that has them)",
            list.join(", ")
        ))
    }

    fn packet(
        &mut self,
        p: &PacketView<'_>,
        alerts: &mut AlertQueue,
    ) -> Result<Option<f64>, DetectorError> {
        self.touched.clear();
        self.tracker
            .packet(p.meta, p.decoded, Label::default(), &mut self.touched);
        let mut value = 0.0;
        let touched = std::mem::take(&mut self.touched);
        for key in &touched {
            let Some(n) = self.tracker.packets(key) else {
                continue;
            };
            if !self.model.knows_protocol(key.proto) {
                if n == 1 {
                    *self.unknown_protocols.entry(key.proto).or_default() += 1;
                }
                continue;
            }
            let mut state = self.open.get(key).copied().unwrap_or_default();
            if is_checkpoint(n) {
                self.row.clear();
                self.tracker.live_features(key, key.proto, &mut self.row);
                state.score = self.score_row();
                let over = state.score > self.model.threshold() && !state.alerted;
                if over && !self.pairs.admit(key, p.meta.ts) {
                    // Covered by its host pair's alert: counted once, and no alert at its end.
                    state.alerted = true;
                    alerts.note_suppressed();
                } else if over && alerts.admit(p) {
                    state.alerted = true;
                    self.alerted_flows += 1;
                    let evidence = Evidence {
                        score: state.score,
                        threshold: Some(self.model.threshold()),
                        explanation: Some(self.explain(n, false)),
                    };
                    alerts.raise("flow", Some(&self.sha256), p, &SIGNATURE, evidence);
                }
            }
            self.open.insert(*key, state);
            value = state.score;
        }
        self.touched = touched;
        Ok(Some(value))
    }

    fn event(&mut self, e: &AppEvent, _alerts: &mut AlertQueue) -> Result<(), DetectorError> {
        self.tracker.event(e);
        Ok(())
    }

    fn flow_ended(&mut self, f: &EndedFlow, alerts: &mut AlertQueue) -> Result<(), DetectorError> {
        let key = f.flow.key();
        if let Some((set, flows, seen)) = &mut self.training_flows {
            *flows += 1;
            if set.contains(flow_fingerprint(&f.flow.community_id(), f.summary.start_ts)) {
                *seen += 1;
            }
        }
        let state = self.open.remove(&key).unwrap_or_default();
        let tracked = self.tracker.ended(f);
        if tracked.stats.packets() == 0 || !self.model.knows_protocol(f.flow.proto) {
            return Ok(());
        }
        self.row.clear();
        live::features(
            f.flow.resp.port,
            f.flow.proto,
            &tracked.stats,
            &tracked.app,
            &mut self.row,
        );
        let score = self.score_row();
        self.flows_scored += 1;
        let over = score > self.model.threshold() && !state.alerted;
        if over && !self.pairs.admit(&key, f.summary.last_ts) {
            alerts.note_suppressed();
        } else if over {
            self.alerted_flows += 1;
            let evidence = Evidence {
                score,
                threshold: Some(self.model.threshold()),
                explanation: Some(self.explain(tracked.stats.packets(), true)),
            };
            alerts.raise_flow("flow", Some(&self.sha256), f, &SIGNATURE, evidence);
        }
        // A pending packet past the flow's end opened the key's next flow: it starts afresh.
        if self.tracker.packets(&key).is_some() {
            self.open.insert(key, Open::default());
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<serde_json::Value, DetectorError> {
        let t = &self.model.threshold;
        Ok(json!({
            "name": "flow",
            "feature_set": self.model.feature_set,
            "features": self.model.gbdt.feature_names().len(),
            "trees": self.model.gbdt.trees().len(),
            "threshold": t,
            "scores": self.scored,
            "flows_scored_at_end": self.flows_scored,
            "alerted_flows": self.alerted_flows,
            "tracker": self.tracker.report(),
            "model_sha256": self.sha256,
            "model_signature": self.signature,
            "max_score": self.max_score,
            "unscored_flows_by_protocol": self.unknown_protocols,
            "training_inputs": self.training_inputs,
            "training_flows": self.training_flows.as_ref().map(|(set, flows, seen)| json!({
                "fingerprints": set.len(),
                "flows": flows,
                "seen_in_training": seen,
            })),
            "warning": self.warning(),
        }))
    }
}

/// The captures a dataset manifest lists (`inputs[]` of role `capture`), as
/// `{"path", "sha256"}` objects.
pub(crate) fn training_captures(manifest: &[u8]) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_slice(manifest).unwrap_or_default();
    v["inputs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["role"] == "capture" || i["role"].is_null())
        .filter_map(|i| Some(json!({"path": i["path"].as_str()?, "sha256": i["sha256"].as_str()?})))
        .collect()
}
