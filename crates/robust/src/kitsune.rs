//! Kitsune trained on a window of packets and scoring another capture, through
//! `custos-detect`'s [`KitsuneDetector`] exactly as `custos train` and `custos analyze
//! --model` run it (checksums ignored while training, as Kitsune-py reads every packet).
//!
//! The grace periods are fractions of the training window, so a window that grows by
//! injected packets is still learnt whole: the first [`KitsuneSettings::fm_fraction`] of its
//! packets learn the feature map, the last [`KitsuneSettings::calibration_fraction`] set the
//! threshold (robust log-normal rule at [`KitsuneSettings::fpr`]), the rest train the
//! autoencoders. A trained model scores a capture from empty statistics; packets of its
//! first [`KitsuneSettings::warmup_s`] seconds are scored but not measured.

use crate::capture::Frame;
use crate::error::RobustError;
use custos_decode::{ChecksumMode, Decoder, DecoderConfig};
use custos_detect::{DetectorConfig, KitNetConfig, KitsuneDetector, KitsuneModel, ThresholdChoice};
use custos_features::FeatureConfig;

/// Fewest calibration packets a training window must give.
pub const MIN_CALIBRATION: usize = 100;

/// How Kitsune is trained and measured.
#[derive(Clone, Debug, serde::Serialize)]
pub struct KitsuneSettings {
    /// Share of the training window that learns the feature map (Kitsune's FMgrace).
    pub fm_fraction: f64,
    /// Share of the training window, at its end, that sets the threshold.
    pub calibration_fraction: f64,
    /// Largest autoencoder (Kitsune's maxAE).
    pub max_ae: usize,
    /// False-positive rate of the robust threshold.
    pub fpr: f64,
    /// Seconds at the start of a scored capture left out of the measurements.
    pub warmup_s: f64,
}

impl Default for KitsuneSettings {
    fn default() -> Self {
        KitsuneSettings {
            fm_fraction: 0.1,
            calibration_fraction: 0.25,
            max_ae: KitNetConfig::default().max_ae,
            fpr: 1e-5,
            warmup_s: 0.0,
        }
    }
}

impl KitsuneSettings {
    /// Packets at the end of a window of `n` packets that set the threshold.
    pub fn calibration_packets(&self, n: usize) -> usize {
        (n as f64 * self.calibration_fraction).round() as usize
    }

    /// The detector configuration for a window of `n` packets.
    ///
    /// # Errors
    /// Fractions out of range, or a window too small for [`MIN_CALIBRATION`] calibration
    /// packets and a trained network.
    pub fn config(&self, n: usize) -> Result<DetectorConfig, RobustError> {
        let ok = (0.0..1.0).contains(&self.fm_fraction)
            && (0.0..1.0).contains(&self.calibration_fraction)
            && self.fm_fraction + self.calibration_fraction < 0.95
            && self.max_ae > 0
            && self.fpr > 0.0
            && self.fpr < 1.0
            && self.warmup_s >= 0.0;
        if !ok {
            return Err(RobustError::Usage(format!(
                "Kitsune settings out of range: fm fraction {}, calibration fraction {} (each in \
                 [0, 1), together below 0.95), max_ae {}, fpr {}, warm-up {} s",
                self.fm_fraction, self.calibration_fraction, self.max_ae, self.fpr, self.warmup_s
            )));
        }
        let fm = ((n as f64 * self.fm_fraction).round() as u64).max(1);
        let cal = self.calibration_packets(n) as u64;
        let ad = (n as u64).saturating_sub(fm + cal + 1);
        if cal < MIN_CALIBRATION as u64 || ad < fm {
            return Err(RobustError::Insufficient(format!(
                "a Kitsune training window of {n} packets is too small (feature map {fm}, \
                 training {ad}, calibration {cal}; at least {MIN_CALIBRATION} calibration \
                 packets and as many training as feature-map packets are needed)"
            )));
        }
        Ok(DetectorConfig {
            features: FeatureConfig::default(),
            kitnet: KitNetConfig {
                max_ae: self.max_ae,
                fm_grace: fm,
                ad_grace: ad,
                ..KitNetConfig::default()
            },
            calibration: cal,
            threshold: ThresholdChoice::Robust { fpr: self.fpr },
            explain_top: 0,
            warmup_ns: 0,
        })
    }
}

/// Trains Kitsune on `window` (frames of LINKTYPE `linktype`).
///
/// # Errors
/// The window is too small, or training ended without a threshold.
pub fn train<'a>(
    window: impl ExactSizeIterator<Item = &'a Frame>,
    linktype: u32,
    s: &KitsuneSettings,
    context: &str,
) -> Result<KitsuneModel, RobustError> {
    let cfg = s.config(window.len())?;
    let mut det = KitsuneDetector::new(cfg);
    let mut decoder = Decoder::new(DecoderConfig {
        checksums: ChecksumMode::Ignore,
        ..DecoderConfig::default()
    });
    for f in window {
        let d = decoder.decode(linktype, f.ts, &f.data);
        det.packet(f.ts, f.orig_len, &d);
    }
    det.finish_calibration();
    det.to_model(Vec::new())
        .map_err(|e| RobustError::train(context, e))
}

/// Scores `frames` with `model` from empty statistics; one score per frame (0 for a frame
/// that decodes to nothing).
///
/// # Errors
/// The model does not fit the feature configuration (cannot happen for models of [`train`]).
pub fn score<'a>(
    model: &KitsuneModel,
    frames: impl Iterator<Item = &'a Frame>,
    linktype: u32,
) -> Result<Vec<f64>, RobustError> {
    let mut det = KitsuneDetector::from_model(model.clone(), FeatureConfig::default(), 0, "robust")
        .map_err(|e| RobustError::train("kitsune model", e))?;
    det.set_warmup(0);
    let mut decoder = Decoder::new(DecoderConfig {
        checksums: ChecksumMode::Ignore,
        ..DecoderConfig::default()
    });
    Ok(frames
        .map(|f| {
            let d = decoder.decode(linktype, f.ts, &f.data);
            det.packet(f.ts, f.orig_len, &d).score
        })
        .collect())
}

/// Index of the first frame at least `seconds` after the first one.
pub fn after_warmup(frames: &[Frame], seconds: f64) -> usize {
    let Some(first) = frames.first() else {
        return 0;
    };
    let cut = first.ts.saturating_add((seconds * 1e9) as i64);
    frames
        .iter()
        .position(|f| f.ts >= cut)
        .unwrap_or(frames.len())
}
