//! The Kitsune detector: AfterImage features → KitNET score → threshold → explained alerts.
//!
//! Online, as Kitsune runs: the first `fm_grace + ad_grace + 1` packets train KitNET (score
//! 0), the next `calibration` packets are scored and taken as the benign calibration window
//! (log-normal rule) — no alerts there —, and from then on every packet whose score exceeds the
//! threshold is an alert. With a loaded model every packet is scored from the start.

use crate::kitnet::{KitNet, KitNetConfig, Phase};
use crate::model::{FeatureSpec, KitsuneModel, TrainingInfo, MODEL_FORMAT};
use crate::threshold::Threshold;
use crate::ModelError;
use custos_decode::Decoded;
use custos_features::{FeatureConfig, FeatureExtractor, Mode};
use serde::Serialize;

/// How to set the threshold.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ThresholdChoice {
    /// Robust log-normal fit over the calibration window ([`Threshold::robust`]), at this
    /// false-positive rate.
    Robust {
        /// Target false-positive rate (default 1e-5).
        fpr: f64,
    },
    /// Log-normal fit over the calibration window, at this false-positive rate.
    LogNormal {
        /// Target false-positive rate (default 1e-5).
        fpr: f64,
    },
    /// The paper's φ·β over the output layer's training errors.
    PhiBeta {
        /// Multiplier β (default 1).
        beta: f64,
    },
}

/// Detector settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DetectorConfig {
    /// Feature extraction.
    pub features: FeatureConfig,
    /// KitNET parameters.
    pub kitnet: KitNetConfig,
    /// Packets in the benign calibration window after the grace periods.
    pub calibration: u64,
    /// Threshold rule.
    pub threshold: ThresholdChoice,
    /// Autoencoders and features named in each explanation.
    pub explain_top: usize,
    /// With a loaded model: packet time (ns) from the first packet during which packets are
    /// scored but raise no alert, while the damped statistics, empty at the start, fill (a
    /// model scores a cold start as unusual).
    pub warmup_ns: i64,
}

/// Default warm-up of a loaded model: one minute of packet time.
pub const DEFAULT_WARMUP_NS: i64 = 60_000_000_000;

impl Default for DetectorConfig {
    fn default() -> Self {
        DetectorConfig {
            features: FeatureConfig::default(),
            kitnet: KitNetConfig::default(),
            calibration: 5_000,
            threshold: ThresholdChoice::Robust { fpr: 1e-5 },
            explain_top: 3,
            warmup_ns: DEFAULT_WARMUP_NS,
        }
    }
}

/// Where the detector is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Learning the feature map.
    FeatureMapping,
    /// Training the autoencoders.
    Training,
    /// Scoring the calibration window.
    Calibrating,
    /// Scoring with a loaded model while its statistics fill (no alerts yet).
    WarmingUp,
    /// Scoring and alerting.
    Detecting,
}

/// The outcome for one packet.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verdict {
    /// KitNET's score (0 during training).
    pub score: f64,
    /// Stage when the packet was processed.
    pub stage: Stage,
    /// True when the score exceeds the threshold (only while detecting).
    pub alert: bool,
}

/// One autoencoder's part in an explanation.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AutoencoderContribution {
    /// Index in the ensemble.
    pub autoencoder: usize,
    /// Its reconstruction error (an input of the output layer).
    pub rmse: f64,
    /// Its inputs with the largest squared reconstruction errors: (feature name, error).
    pub features: Vec<(String, f64)>,
}

/// Why a packet scored high.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Explanation {
    /// The autoencoders with the largest reconstruction errors, largest first.
    pub autoencoders: Vec<AutoencoderContribution>,
}

/// Features + KitNET + threshold.
pub struct KitsuneDetector {
    cfg: DetectorConfig,
    extractor: FeatureExtractor,
    names: Vec<String>,
    kitnet: KitNet,
    x: Vec<f64>,
    calibration: Vec<f64>,
    threshold: Option<Threshold>,
    model_sha256: Option<String>,
    packets: u64,
    /// Frames that decoded to nothing (no address at any layer), skipped.
    skipped_empty: u64,
    /// Calibration windows that gave no threshold (no informative scores).
    failed_fits: u32,
    /// Scoring with a loaded model (which starts with a warm-up).
    loaded: bool,
    /// Packets scored during the warm-up.
    warmup_packets: u64,
    first_ts: Option<i64>,
    last_ts: i64,
}

fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::Compat => "compat",
        Mode::Default => "default",
    }
}

impl KitsuneDetector {
    /// An untrained detector.
    pub fn new(cfg: DetectorConfig) -> Self {
        let extractor = FeatureExtractor::new(cfg.features);
        let names = extractor.names();
        let n = extractor.len();
        KitsuneDetector {
            kitnet: KitNet::new(n, cfg.kitnet),
            x: vec![0.0; n],
            names,
            extractor,
            cfg,
            calibration: Vec::new(),
            threshold: None,
            model_sha256: None,
            packets: 0,
            skipped_empty: 0,
            failed_fits: 0,
            loaded: false,
            warmup_packets: 0,
            first_ts: None,
            last_ts: 0,
        }
    }

    /// A detector scoring with a trained model (refused if made for other features).
    ///
    /// # Errors
    /// `Incompatible` when the model's features differ from `features`.
    pub fn from_model(
        model: KitsuneModel,
        features: FeatureConfig,
        explain_top: usize,
        path: &str,
    ) -> Result<Self, ModelError> {
        let mut d = KitsuneDetector::new(DetectorConfig {
            features,
            kitnet: model.kitnet.config,
            explain_top,
            ..DetectorConfig::default()
        });
        model.check_features(&d.feature_spec(), path)?;
        d.model_sha256 = Some(model.sha256()?);
        d.loaded = true;
        d.threshold = Some(model.threshold);
        d.kitnet = model.kitnet;
        // The model's own count is in its file; this run counts its own packets.
        d.kitnet.executed = 0;
        Ok(d)
    }

    /// The features this detector computes.
    pub fn feature_spec(&self) -> FeatureSpec {
        FeatureSpec::new(mode_name(self.cfg.features.mode), &self.names)
    }

    /// Feature names in vector order.
    pub fn feature_names(&self) -> &[String] {
        &self.names
    }

    /// The network.
    pub fn kitnet(&self) -> &KitNet {
        &self.kitnet
    }

    /// The threshold, once known.
    pub fn threshold(&self) -> Option<&Threshold> {
        self.threshold.as_ref()
    }

    /// SHA-256 of the model in use: the loaded model's, or — trained online — the hash of the
    /// model as [`KitsuneDetector::to_model`] would write it with no capture names, taken when
    /// training and calibration completed.
    pub fn model_sha256(&self) -> Option<&str> {
        self.model_sha256.as_deref()
    }

    /// Sets the warm-up of a loaded model (see [`DetectorConfig::warmup_ns`]).
    pub fn set_warmup(&mut self, warmup_ns: i64) {
        self.cfg.warmup_ns = warmup_ns.max(0);
    }

    /// Packets scored during a loaded model's warm-up (no alerts there).
    pub fn warmup_packets(&self) -> u64 {
        self.warmup_packets
    }

    /// Frames skipped because they decoded to nothing (see [`KitsuneDetector::packet`]).
    pub fn skipped_empty(&self) -> u64 {
        self.skipped_empty
    }

    /// The stage the next packet will be processed in.
    pub fn stage(&self) -> Stage {
        if !self.kitnet.is_trained() {
            if self.kitnet.trained < self.cfg.kitnet.fm_grace {
                Stage::FeatureMapping
            } else {
                Stage::Training
            }
        } else if self.threshold.is_none() {
            Stage::Calibrating
        } else {
            Stage::Detecting
        }
    }

    /// Why this detector could not raise alerts over the packets it saw — still training, or
    /// calibrating, or no threshold could be set —, saying what is missing and what to change;
    /// `None` once it detects.
    pub fn not_detecting(&self) -> Option<String> {
        let k = &self.cfg.kitnet;
        let training = k.fm_grace + k.ad_grace + 1;
        let remedy = "train a model on normal traffic first (`custos train --detector kitsune \
             NORMAL.pcap -o model/`, then `--model model/`), or lower --fm-grace, \
             --ad-grace and --calibration";
        match self.stage() {
            Stage::Detecting | Stage::WarmingUp => None,
            Stage::FeatureMapping | Stage::Training => Some(format!(
                "no packet was checked for attacks: all {} packets were used to train \
                 (online training needs {training} = --fm-grace {} + --ad-grace {} + 1, then \
                 {} more to calibrate the threshold); {remedy}",
                self.packets, k.fm_grace, k.ad_grace, self.cfg.calibration
            )),
            Stage::Calibrating if self.failed_fits > 0 => Some(
                "no threshold could be set: the calibration scores carry no information \
                 (all zero or not finite); use a longer or more varied capture of normal traffic"
                    .to_string(),
            ),
            Stage::Calibrating => Some(format!(
                "no packet was checked for attacks: the input ended {} packets into the \
                 {}-packet calibration window (after {training} training packets); {remedy}",
                self.calibration.len(),
                self.cfg.calibration
            )),
        }
    }

    /// Features of the last packet.
    pub fn last_features(&self) -> &[f64] {
        &self.x
    }

    /// Processes one packet.
    ///
    /// A frame that decoded to nothing (no MAC, ARP or IP address: empty, truncated or of an
    /// unsupported link type) carries nothing Kitsune's statistics are keyed on: it is counted
    /// in [`KitsuneDetector::skipped_empty`] and neither trains nor is scored, as the flow table
    /// skips it (a capture of zero-length frames otherwise costs a full KitNET pass each).
    pub fn packet(&mut self, ts_ns: i64, frame_len: u32, decoded: &Decoded<'_>) -> Verdict {
        if decoded.is_empty() {
            self.skipped_empty += 1;
            return Verdict {
                score: 0.0,
                stage: self.stage(),
                alert: false,
            };
        }
        self.packets += 1;
        self.first_ts.get_or_insert(ts_ns);
        self.last_ts = ts_ns;
        self.extractor
            .extract(ts_ns, frame_len, decoded, &mut self.x);
        if !self.kitnet.is_trained() {
            let phase = self.kitnet.train(&self.x);
            let stage = if phase == Phase::FeatureMapping {
                Stage::FeatureMapping
            } else {
                Stage::Training
            };
            if self.kitnet.is_trained() {
                if let ThresholdChoice::PhiBeta { beta } = self.cfg.threshold {
                    self.threshold = Some(Threshold::phi_beta(self.kitnet.max_train_score, beta));
                    self.seal();
                }
            }
            return Verdict {
                score: 0.0,
                stage,
                alert: false,
            };
        }
        let score = self.kitnet.execute(&self.x);
        match self.threshold {
            Some(t) => {
                let warming = self.loaded
                    && self
                        .first_ts
                        .is_some_and(|f| ts_ns.saturating_sub(f) < self.cfg.warmup_ns);
                self.warmup_packets += u64::from(warming);
                Verdict {
                    score,
                    stage: if warming {
                        Stage::WarmingUp
                    } else {
                        Stage::Detecting
                    },
                    alert: !warming && t.exceeded(score),
                }
            }
            None => {
                self.calibration.push(score);
                if self.calibration.len() as u64 >= self.cfg.calibration.max(2) {
                    self.finish_calibration();
                }
                Verdict {
                    score,
                    stage: Stage::Calibrating,
                    alert: false,
                }
            }
        }
    }

    /// Fits the log-normal threshold on the calibration scores gathered so far (called
    /// automatically when the window is full; call it at the end of a short training run).
    pub fn finish_calibration(&mut self) {
        if self.threshold.is_some() {
            return;
        }
        self.threshold = match self.cfg.threshold {
            ThresholdChoice::Robust { fpr } => {
                Threshold::robust(&self.calibration, fpr, Some(self.kitnet.max_train_score))
            }
            ThresholdChoice::LogNormal { fpr } => Threshold::log_normal(&self.calibration, fpr),
            ThresholdChoice::PhiBeta { .. } => return,
        };
        if self.threshold.is_none() {
            self.failed_fits += 1;
        }
        self.calibration = Vec::new();
        self.seal();
    }

    /// Records the hash of the model trained online, once it is complete (scoring does not
    /// change it), so alerts can name the model that raised them.
    fn seal(&mut self) {
        if self.model_sha256.is_none() {
            self.model_sha256 = self.to_model(Vec::new()).ok().and_then(|m| m.sha256().ok());
        }
    }

    /// Why the last packet scored as it did.
    pub fn explain(&self) -> Explanation {
        let scores = self.kitnet.last_ensemble_scores();
        let mut order: Vec<usize> = (0..scores.len()).collect();
        order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let autoencoders = order
            .into_iter()
            .take(self.cfg.explain_top)
            .map(|a| {
                let members = &self.kitnet.map[a];
                let mut errs: Vec<(usize, f64)> =
                    self.kitnet.last_errors(a).into_iter().enumerate().collect();
                errs.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
                let features = errs
                    .into_iter()
                    .take(self.cfg.explain_top)
                    .map(|(k, e)| (self.names.get(members[k]).cloned().unwrap_or_default(), e))
                    .collect();
                AutoencoderContribution {
                    autoencoder: a,
                    rmse: scores[a],
                    features,
                }
            })
            .collect();
        Explanation { autoencoders }
    }

    /// The trained model, for saving.
    ///
    /// # Errors
    /// `Untrained` before the grace periods (and, for the log-normal rule, calibration) end.
    pub fn to_model(&self, captures: Vec<String>) -> Result<KitsuneModel, ModelError> {
        if !self.kitnet.is_trained() {
            return Err(ModelError::Untrained {
                what: format!(
                    "{} of {} training packets seen",
                    self.kitnet.trained,
                    self.cfg.kitnet.fm_grace + self.cfg.kitnet.ad_grace + 1
                ),
            });
        }
        let threshold = self.threshold.ok_or_else(|| ModelError::Untrained {
            what: "no threshold: the calibration window needs at least two positive scores".into(),
        })?;
        Ok(KitsuneModel {
            format: MODEL_FORMAT.into(),
            custos_version: env!("CARGO_PKG_VERSION").into(),
            features: self.feature_spec(),
            kitnet: self.kitnet.clone(),
            threshold,
            training: TrainingInfo {
                packets: self.packets,
                captures,
                first_ts: self.first_ts.unwrap_or(0),
                last_ts: self.last_ts,
            },
        })
    }
}
