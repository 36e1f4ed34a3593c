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
//! score of the flow it belongs to (its innermost IP layer's). A packet in no scored flow
//! (ARP, a protocol the model never saw, a packet the flow table refused) carries a score of
//! its hosts (`flow_hosts::SenderScores`): sent to a single host, the latest score of a scored
//! flow between the two (either direction: an ARP reply to a scanner belongs to the scan);
//! otherwise, and to a broadcast or multicast group, the sender's latest score in a flow it
//! originated (a flood's victim only answers the flood, and its own router solicitation amid
//! it is not the flood); only scores at most 10 s old (`flow_hosts::SENDER_HORIZON_NS`), and
//! 0 otherwise. Such packets never alert.

use crate::alerts::{AlertQueue, Evidence, Signature};
use crate::detector::{Detector, DetectorError, PacketView, ScoreScale};
use crate::detectors::flow_hosts::{PairThrottle, SenderScores};
use crate::detectors::row_memo::{KeyMemo, RowMemo};
use crate::detectors::training_flows::{
    ended_flow_fingerprint, TrainingFlows, TRAINING_FLOWS_FILE,
};
use crate::detectors::ModelTrust;
use crate::error::EngineError;
use custos_app::AppEvent;
use custos_detect::gbdt::{CompactForest, Gbdt, PathExplainer};
use custos_detect::FlowModel;
use custos_features::flow::{is_checkpoint, live, FlowTracker, Label, LiveFlow, HOST_COLUMNS};
use custos_flow::keyed_hash::KeyedMap;
use custos_flow::zeek::ZeekConfig;
use custos_flow::EndedFlow;
use custos_output::ModelSignature;
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

/// What the detector knows of one open flow (kept in the tracker's accumulator).
#[derive(Clone, Copy, Debug, Default)]
struct Open {
    /// The latest score.
    score: f64,
    /// Packets of the flow when it was last scored (0: never).
    scored_at: u64,
    alerted: bool,
}

/// Scores remembered by the forest's split key ([`KeyMemo`]: exact, so a remembered score is
/// exactly the row's score, whatever hash collision an attacker aims for). Floods repeat the
/// same row — a lone SYN, a one-packet datagram — thousands of times, and rows that differ
/// only where no split looks (another port, another few microseconds) share a key. Cleared
/// when full: at most this many keys (a bit a split threshold, in 8-byte words) are held.
const MEMO_KEYS: usize = 4096;

/// Explanations remembered by exact feature row ([`RowMemo`]: an explanation names feature
/// values, so rows sharing a split key would not do); JSON values are larger: fewer kept.
const MEMO_EXPLANATIONS: usize = 1024;

/// Scores feature rows: the model's trees in [`CompactForest`] layout, remembered by split
/// key (see [`MEMO_KEYS`]), and counted.
struct Scorer {
    /// The model's trees laid out for fast scoring (same scores bit for bit).
    forest: CompactForest,
    /// Scores by split key.
    memo: KeyMemo<f64>,
    /// The split key of the row being scored.
    key: Vec<u64>,
    /// Scores of one-packet flows by what their features are a function of (IP protocol and
    /// [`LiveFlow::first_packet`]), the host features by their split buckets
    /// ([`CompactForest::split_bucket`]: values in the same buckets give the same score):
    /// found without building the row or its whole split key. At most [`MEMO_KEYS`].
    firsts: KeyedMap<FirstKey, f64>,
    /// The split thresholds of each host feature ([`CompactForest::split_thresholds`]),
    /// looked up once; `None` where split keys are not computed.
    host_splits: Option<[Vec<f64>; HOST_COLUMNS.len()]>,
    /// Scores given.
    scored: u64,
    max_score: f64,
}

impl Scorer {
    /// The probability of `row`.
    fn score(&mut self, row: &[f64]) -> f64 {
        let p = if self.forest.split_key(row, &mut self.key) {
            match self.memo.get(&self.key) {
                Some(&p) => p,
                None => {
                    let p = self.forest.probability(row);
                    self.memo.insert(&self.key, p);
                    p
                }
            }
        } else {
            self.forest.probability(row)
        };
        self.count(p)
    }

    /// The probability of the live features of `flow` (written to `row` unless the flow's
    /// first packet finds its score in `firsts`; `row` is left empty then).
    fn score_live(&mut self, flow: &LiveFlow<'_, Open>, row: &mut Vec<f64>) -> f64 {
        row.clear();
        let first = flow.first_packet().and_then(|(port, len, flags, host)| {
            let splits = self.host_splits.as_ref()?;
            let mut buckets = [0; HOST_COLUMNS.len()];
            for ((b, &x), ts) in buckets.iter_mut().zip(host.values()).zip(splits) {
                // `CompactForest::split_bucket`, its thresholds found once.
                *b = ts.partition_point(|&t| t < x) as u16;
            }
            Some((flow.key().proto, port, len, flags, buckets))
        });
        if let Some(&p) = first.as_ref().and_then(|k| self.firsts.get(k)) {
            return self.count(p);
        }
        flow.features(row);
        let p = self.score(row);
        if let Some(k) = first {
            if self.firsts.len() >= MEMO_KEYS {
                self.firsts.clear();
            }
            self.firsts.insert(k, p);
        }
        p
    }

    /// Counts `p`, the score of a row scored before, as given again.
    fn count(&mut self, p: f64) -> f64 {
        self.scored += 1;
        if p > self.max_score {
            self.max_score = p;
        }
        p
    }
}

/// What a one-packet flow's score is a function of: IP protocol, responder port, frame length,
/// TCP flags and the split buckets of its host features.
type FirstKey = (u8, u16, u32, u8, [u16; HOST_COLUMNS.len()]);

/// Explains scores, remembering explanations by feature row (see [`MEMO_EXPLANATIONS`]).
struct Explainer {
    paths: PathExplainer,
    /// Explanations (the top features) by feature row.
    memo: RowMemo<serde_json::Value>,
}

impl Explainer {
    /// The explanation of the score of `row`, the features of a flow of `packets` packets.
    fn explain(
        &mut self,
        gbdt: &Gbdt,
        row: &[f64],
        packets: u64,
        at_end: bool,
    ) -> Option<custos_output::Explanation> {
        // Identical rows (a flood's) have identical explanations: remembered like scores.
        let top = match self.memo.get(row) {
            Some(top) => top.clone(),
            None => {
                let top: serde_json::Value = self
                    .paths
                    .top(gbdt, row, EXPLAIN_TOP)
                    .into_iter()
                    .filter(|(_, _, contribution)| *contribution > 0.0)
                    .map(|(feature, value, contribution)| {
                        json!({"feature": feature, "value": value, "contribution": contribution})
                    })
                    .collect();
                self.memo.insert(row, top.clone());
                top
            }
        };
        FlowExplanation {
            flow_packets: packets,
            scored_at: if at_end { "flow end" } else { "checkpoint" },
            top_features: &top,
            method: "path contributions to the log-odds (Saabas)",
        }
        .to_explanation()
    }
}

/// The flow detector's explanation of an alert, as it is written.
#[derive(serde::Serialize)]
struct FlowExplanation<'a> {
    flow_packets: u64,
    scored_at: &'static str,
    top_features: &'a serde_json::Value,
    method: &'static str,
}

impl FlowExplanation<'_> {
    fn to_explanation(&self) -> Option<custos_output::Explanation> {
        custos_output::Explanation::of(self).ok()
    }
}

/// The supervised flow detector; see the module docs.
pub struct FlowDetector {
    model: FlowModel,
    /// [`FlowModel::knows_protocol`] by IP protocol number, asked once.
    known_protocols: [bool; 256],
    scorer: Scorer,
    explainer: Explainer,
    sha256: String,
    signature: ModelSignature,
    /// Open flows, each with what the detector knows of it.
    tracker: FlowTracker<Open>,
    row: Vec<f64>,
    /// Alerts per host pair and second.
    pairs: PairThrottle,
    /// Scores for packets in no scored flow.
    senders: SenderScores,
    flows_scored: u64,
    alerted_flows: u64,
    /// The captures of its training dataset (path, SHA-256), from the dataset's manifest.
    training_inputs: Vec<serde_json::Value>,
    /// Flows left unscored, by IP protocol the model never saw in training.
    unknown_protocols: std::collections::BTreeMap<u8, u64>,
    /// The fingerprints of the flows it was trained on (model directories written before
    /// they were recorded have none), with the run's flows counted against them.
    training_flows: Option<TrainingFlowCount>,
}

/// The run's ended flows counted against the model's training flows.
struct TrainingFlowCount {
    set: TrainingFlows,
    /// First and last packet time of the training dataset (its manifest's `time_span`): a
    /// flow starting outside it is none of the training flows (a fingerprint covers the
    /// flow's start time), so its fingerprint — two hashes — is not computed.
    span: Option<(i64, i64)>,
    /// Ended flows.
    flows: u64,
    /// Ended flows among the training flows.
    seen: u64,
}

impl TrainingFlowCount {
    /// Counts `flow`, whose first packet is at `start_ns`.
    fn count(&mut self, flow: &custos_flow::Flow, start_ns: i64) {
        self.flows += 1;
        let in_span = self
            .span
            .is_none_or(|(first, last)| (first..=last).contains(&start_ns));
        if in_span && self.set.contains(ended_flow_fingerprint(flow, start_ns)) {
            self.seen += 1;
        }
    }
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
        let manifest = trust.load(dir, DATASET_MANIFEST_FILE).ok();
        let training_inputs = manifest
            .as_ref()
            .map(|m| training_captures(&m.bytes))
            .unwrap_or_default();
        let training_span = manifest.and_then(|m| training_span(&m.bytes));
        let training_flows = if dir.join(TRAINING_FLOWS_FILE).exists() {
            let loaded = trust.load(dir, TRAINING_FLOWS_FILE)?;
            let set = TrainingFlows::from_bytes(&loaded.bytes).ok_or_else(|| {
                EngineError::Config(format!(
                    "cannot use model {}: {TRAINING_FLOWS_FILE} is not a list of sorted 8-byte fingerprints",
                    dir.display()
                ))
            })?;
            Some(TrainingFlowCount {
                set,
                span: training_span,
                flows: 0,
                seen: 0,
            })
        } else {
            None
        };
        let forest = CompactForest::new(&model.gbdt);
        Ok(FlowDetector {
            training_flows,
            explainer: Explainer {
                paths: PathExplainer::new(&model.gbdt),
                memo: RowMemo::new(MEMO_EXPLANATIONS),
            },
            scorer: Scorer {
                host_splits: host_splits(&forest),
                forest,
                memo: KeyMemo::new(MEMO_KEYS),
                key: Vec::new(),
                firsts: KeyedMap::default(),
                scored: 0,
                max_score: 0.0,
            },
            training_inputs,
            sha256: FlowModel::sha256_of(&loaded.bytes),
            known_protocols: std::array::from_fn(|p| {
                u8::try_from(p).is_ok_and(|p| model.knows_protocol(p))
            }),
            model,
            signature: loaded.signature,
            tracker: FlowTracker::new(zeek, false),
            row: Vec::with_capacity(live::LIVE_FEATURE_COUNT),
            pairs: PairThrottle::default(),
            senders: SenderScores::default(),
            flows_scored: 0,
            alerted_flows: 0,
            unknown_protocols: Default::default(),
        })
    }

    /// The loaded model.
    pub fn model(&self) -> &FlowModel {
        &self.model
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

    fn score_scale(&self) -> ScoreScale {
        ScoreScale::Probability
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
        let FlowDetector {
            model,
            known_protocols,
            scorer,
            explainer,
            sha256,
            tracker,
            row,
            pairs,
            senders,
            alerted_flows,
            unknown_protocols,
            ..
        } = self;
        let mut value = None;
        let mut from_originator = false;
        tracker.packet_with(p.meta, p.decoded, Label::default(), |mut flow| {
            let n = flow.packets();
            let key = *flow.key();
            if !known_protocols[usize::from(key.proto)] {
                if n == 1 {
                    *unknown_protocols.entry(key.proto).or_default() += 1;
                }
                return;
            }
            if is_checkpoint(n) {
                let score = scorer.score_live(&flow, row);
                let state = flow.state();
                state.score = score;
                state.scored_at = n;
                let over = score > model.threshold() && !state.alerted;
                if over && !pairs.admit(&key, p.meta.ts) {
                    // Covered by its host pair's alert: counted once, and no alert at its end.
                    state.alerted = true;
                    alerts.note_suppressed();
                } else if over && alerts.admit(p) {
                    state.alerted = true;
                    *alerted_flows += 1;
                    if row.is_empty() {
                        flow.features(row);
                    }
                    let evidence = Evidence {
                        score,
                        threshold: Some(model.threshold()),
                        explanation: explainer.explain(&model.gbdt, row, n, false),
                    };
                    alerts.raise("flow", Some(sha256), p, &SIGNATURE, evidence);
                }
            }
            from_originator = flow.from_originator();
            value = Some(flow.state().score);
        });
        let macs = p
            .decoded
            .src_mac
            .map(|m| (m.0, p.decoded.dst_mac.map(|d| d.0)));
        Ok(Some(match (value, macs) {
            (Some(score), Some(macs)) => {
                senders.record(macs, from_originator, score, p.meta.ts);
                score
            }
            (Some(score), None) => score,
            (None, Some(macs)) => senders.standing(macs, p.meta.ts),
            (None, None) => 0.0,
        }))
    }

    fn event(&mut self, e: &AppEvent, _alerts: &mut AlertQueue) -> Result<(), DetectorError> {
        self.tracker.event(e);
        Ok(())
    }

    fn flow_ended(&mut self, f: &EndedFlow, alerts: &mut AlertQueue) -> Result<(), DetectorError> {
        let key = f.flow.key();
        if let Some(t) = &mut self.training_flows {
            t.count(&f.flow, f.summary.start_ts);
        }
        let tracked = self.tracker.ended(f);
        let state = tracked.state;
        let packets = tracked.stats.packets();
        if packets == 0 || !self.known_protocols[usize::from(f.flow.proto)] {
            return Ok(());
        }
        let features = |row: &mut Vec<f64>| {
            row.clear();
            live::features(
                f.flow.resp.port,
                f.flow.proto,
                &tracked.stats,
                &tracked.app,
                &tracked.host,
                row,
            );
        };
        // A flow that ends as it was when last scored has that score (same features).
        let unchanged = tracked.as_last_seen && state.scored_at == packets;
        let score = if unchanged {
            self.scorer.count(state.score)
        } else {
            features(&mut self.row);
            self.scorer.score(&self.row)
        };
        self.flows_scored += 1;
        let over = score > self.model.threshold() && !state.alerted;
        if over && !self.pairs.admit(&key, f.summary.last_ts) {
            alerts.note_suppressed();
        } else if over {
            self.alerted_flows += 1;
            if unchanged {
                features(&mut self.row);
            }
            let explanation = self
                .explainer
                .explain(&self.model.gbdt, &self.row, packets, true);
            let evidence = Evidence {
                score,
                threshold: Some(self.model.threshold()),
                explanation,
            };
            alerts.raise_flow("flow", Some(&self.sha256), f, &SIGNATURE, evidence);
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
            "scores": self.scorer.scored,
            "flows_scored_at_end": self.flows_scored,
            "alerted_flows": self.alerted_flows,
            "tracker": self.tracker.report(),
            "model_sha256": self.sha256,
            "model_signature": self.signature,
            "max_score": self.scorer.max_score,
            "unscored_flows_by_protocol": self.unknown_protocols,
            "training_inputs": self.training_inputs,
            "training_flows": self.training_flows.as_ref().map(|t| json!({
                "fingerprints": t.set.len(),
                "flows": t.flows,
                "seen_in_training": t.seen,
            })),
            "warning": self.warning(),
        }))
    }
}

/// The split thresholds of each host feature (the last columns of a live row), or `None`
/// where `forest` computes no split keys.
fn host_splits(forest: &CompactForest) -> Option<[Vec<f64>; HOST_COLUMNS.len()]> {
    let start = live::LIVE_FEATURE_COUNT - HOST_COLUMNS.len();
    let mut splits: [Vec<f64>; HOST_COLUMNS.len()] = Default::default();
    for (i, s) in splits.iter_mut().enumerate() {
        *s = forest.split_thresholds(start + i)?.to_vec();
    }
    Some(splits)
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

/// The training dataset's time span (`time_span.first_ns`, `last_ns`) from its manifest.
pub(crate) fn training_span(manifest: &[u8]) -> Option<(i64, i64)> {
    let v: serde_json::Value = serde_json::from_slice(manifest).ok()?;
    let span = &v["time_span"];
    Some((span["first_ns"].as_i64()?, span["last_ns"].as_i64()?))
}
