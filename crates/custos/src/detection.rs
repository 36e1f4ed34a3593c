//! The detection stage of `analyze` and `train`: runs the Kitsune detector on every decoded
//! packet and writes `scores.csv` and `alerts.jsonl` (Suricata EVE `alert` events).

use crate::cli::{DetectorArgs, ThresholdArg};
use anyhow::{bail, Context};
use custos_decode::{Decoded, Transport};
use custos_detect::{DetectorConfig, KitNetConfig, KitsuneDetector, KitsuneModel, ThresholdChoice};
use custos_features::{FeatureConfig, Mode};
use custos_flow::{community_id_v1, PacketMeta};
use custos_output::time::eve_time;
use serde_json::json;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Builds the detector configuration from the CLI options.
///
/// # Errors
/// Options out of range.
pub fn detector_config(a: &DetectorArgs) -> anyhow::Result<DetectorConfig> {
    if a.max_ae == 0 {
        bail!("--max-ae must be at least 1");
    }
    if !(a.fpr > 0.0 && a.fpr < 1.0) {
        bail!("--fpr must be between 0 and 1 (got {})", a.fpr);
    }
    if !(a.beta.is_finite() && a.beta > 0.0) {
        bail!("--beta must be a positive number (got {})", a.beta);
    }
    let features = FeatureConfig {
        mode: if a.kitsune_compat {
            Mode::Compat
        } else {
            Mode::Default
        },
        features_115: a.features_115,
        max_streams: a.kitsune_max_streams.max(1),
        max_pairs: a.kitsune_max_pairs.max(1),
        ..FeatureConfig::default()
    };
    Ok(DetectorConfig {
        features,
        kitnet: KitNetConfig {
            max_ae: a.max_ae,
            fm_grace: a.fm_grace,
            ad_grace: a.ad_grace,
            ..KitNetConfig::default()
        },
        calibration: a.calibration,
        threshold: match a.threshold_rule {
            ThresholdArg::Lognormal => ThresholdChoice::LogNormal { fpr: a.fpr },
            ThresholdArg::PhiBeta => ThresholdChoice::PhiBeta { beta: a.beta },
        },
        explain_top: 3,
    })
}

/// Counters of the detection stage.
#[derive(Clone, Copy, Debug, Default)]
pub struct DetectionStats {
    /// Alerts written.
    pub alerts: u64,
    /// Packets above the threshold not written (one alert per flow per second).
    pub suppressed: u64,
    /// Highest score seen.
    pub max_score: f64,
}

/// The detector plus its output files.
pub struct Detection {
    det: KitsuneDetector,
    scores: Option<BufWriter<File>>,
    alerts: Option<BufWriter<File>>,
    files: Vec<String>,
    every_packet: bool,
    last_alert: HashMap<String, i64>,
    /// Counters.
    pub stats: DetectionStats,
    /// Alerts kept for the evidence log, when one is configured.
    pub pending: Option<Vec<crate::evidence::PendingAlert>>,
}

impl Detection {
    /// A detection stage writing into `out_dir` (or no files, for training).
    ///
    /// # Errors
    /// Output files that cannot be created, or a model that cannot be used.
    pub fn new(
        cfg: DetectorConfig,
        model: Option<&Path>,
        out_dir: Option<&Path>,
        files: Vec<String>,
        every_packet: bool,
    ) -> anyhow::Result<Self> {
        let det = match model {
            Some(path) => {
                let m = KitsuneModel::load(path)
                    .with_context(|| format!("cannot use model {}", path.display()))?;
                KitsuneDetector::from_model(
                    m,
                    cfg.features,
                    cfg.explain_top,
                    &path.display().to_string(),
                )
                .with_context(|| format!("cannot use model {}", path.display()))?
            }
            None => KitsuneDetector::new(cfg),
        };
        let mut scores = None;
        let mut alerts = None;
        if let Some(dir) = out_dir {
            let mut s = BufWriter::with_capacity(
                1 << 16,
                File::create(dir.join("scores.csv")).context("cannot create scores.csv")?,
            );
            writeln!(s, "index,ts,score")?;
            scores = Some(s);
            alerts = Some(BufWriter::new(
                File::create(dir.join("alerts.jsonl")).context("cannot create alerts.jsonl")?,
            ));
        }
        Ok(Detection {
            det,
            scores,
            alerts,
            files,
            every_packet,
            last_alert: HashMap::new(),
            stats: DetectionStats::default(),
            pending: None,
        })
    }

    /// The detector.
    pub fn detector(&self) -> &KitsuneDetector {
        &self.det
    }

    /// Mutable access to the detector.
    pub fn detector_mut(&mut self) -> &mut KitsuneDetector {
        &mut self.det
    }

    /// Scores one packet; `index` is its position in the run (0-based, all inputs).
    ///
    /// # Errors
    /// Write errors of the output files.
    pub fn packet(
        &mut self,
        index: u64,
        meta: &PacketMeta,
        decoded: &Decoded<'_>,
    ) -> std::io::Result<()> {
        let v = self.det.packet(meta.ts, meta.frame_len, decoded);
        if v.score > self.stats.max_score {
            self.stats.max_score = v.score;
        }
        if let Some(s) = self.scores.as_mut() {
            let secs = meta.ts.div_euclid(1_000_000_000);
            let ns = meta.ts.rem_euclid(1_000_000_000);
            writeln!(s, "{index},{secs}.{ns:09},{}", v.score)?;
        }
        if v.alert {
            self.alert(meta, decoded, v.score)?;
        }
        Ok(())
    }

    fn alert(
        &mut self,
        meta: &PacketMeta,
        decoded: &Decoded<'_>,
        score: f64,
    ) -> std::io::Result<()> {
        if self.alerts.is_none() {
            return Ok(());
        }
        let mut ev = serde_json::Map::new();
        ev.insert("timestamp".into(), json!(eve_time(meta.ts)));
        ev.insert("event_type".into(), json!("alert"));
        let mut cid = String::new();
        if let Some(ip) = decoded.innermost() {
            let (sp, dp, ported) = match ip.transport {
                Transport::Tcp {
                    src_port, dst_port, ..
                }
                | Transport::Udp {
                    src_port, dst_port, ..
                } => (src_port, dst_port, true),
                Transport::Icmp { msg_type, code, .. } => {
                    (u16::from(msg_type), u16::from(code), false)
                }
                _ => (0, 0, false),
            };
            ev.insert("src_ip".into(), json!(ip.src.to_string()));
            if ported {
                ev.insert("src_port".into(), json!(sp));
            }
            ev.insert("dest_ip".into(), json!(ip.dst.to_string()));
            if ported {
                ev.insert("dest_port".into(), json!(dp));
            }
            ev.insert(
                "proto".into(),
                serde_json::from_str(&custos_output::eve_proto(ip.protocol)).unwrap_or_default(),
            );
            cid = community_id_v1(0, ip.src, ip.dst, sp, dp, ip.protocol);
            ev.insert("community_id".into(), json!(cid));
        } else if let (Some(s), Some(d)) = (decoded.src_mac, decoded.dst_mac) {
            ev.insert("src_mac".into(), json!(s.to_string()));
            ev.insert("dest_mac".into(), json!(d.to_string()));
            cid = format!("{s}-{d}");
        }
        if !self.every_packet {
            match self.last_alert.get(&cid) {
                Some(&t) if meta.ts.saturating_sub(t) < 1_000_000_000 => {
                    self.stats.suppressed += 1;
                    return Ok(());
                }
                _ => {}
            }
            if self.last_alert.len() > 65_536 {
                let now = meta.ts;
                self.last_alert
                    .retain(|_, t| now.saturating_sub(*t) < 1_000_000_000);
            }
            self.last_alert.insert(cid, meta.ts);
        }
        let threshold = self.det.threshold().map(|t| t.value).unwrap_or(f64::NAN);
        let Some(out) = self.alerts.as_mut() else {
            return Ok(());
        };
        ev.insert(
            "alert".into(),
            json!({
                "action": "allowed",
                "gid": 1,
                "signature_id": 9_000_001,
                "rev": 1,
                "signature": "custos kitsune: packet anomaly score above threshold",
                "category": "Anomalous network traffic",
                "severity": 2
            }),
        );
        let explanation = serde_json::to_value(self.det.explain()).unwrap_or_default();
        ev.insert(
            "custos".into(),
            json!({
                "detector": "kitsune",
                "pcap_file": self.files.get(usize::from(meta.file)).cloned().unwrap_or_default(),
                "packet": meta.index,
                "score": score,
                "threshold": threshold,
                "model_sha256": self.det.model_sha256(),
                "explanation": explanation
            }),
        );
        self.stats.alerts += 1;
        let ev = serde_json::Value::Object(ev);
        serde_json::to_writer(&mut *out, &ev)?;
        out.write_all(b"\n")?;
        if let Some(p) = self.pending.as_mut() {
            p.push(crate::evidence::PendingAlert {
                key: crate::evidence::excerpt_key(decoded),
                model_sha256: self.det.model_sha256().map(str::to_string),
                alert: ev,
                file: meta.file,
                index: meta.index,
            });
        }
        Ok(())
    }
}

impl Detection {
    /// Flushes the output files.
    ///
    /// # Errors
    /// Write errors.
    pub fn finish(&mut self) -> std::io::Result<()> {
        if let Some(s) = self.scores.as_mut() {
            s.flush()?;
        }
        if let Some(a) = self.alerts.as_mut() {
            a.flush()?;
        }
        Ok(())
    }

    /// The `detector` object of stats.json.
    pub fn summary(&self) -> serde_json::Value {
        let k = self.det.kitnet();
        json!({
            "name": "kitsune",
            "features": self.det.feature_spec(),
            "trained_packets": k.trained,
            "executed_packets": k.executed,
            "skipped_empty_frames": self.det.skipped_empty(),
            "autoencoders": k.map.len(),
            "feature_map": k.map,
            "threshold": self.det.threshold(),
            "model_sha256": self.det.model_sha256(),
            "alerts": self.stats.alerts,
            "alerts_suppressed": self.stats.suppressed,
            "max_score": self.stats.max_score,
        })
    }
}
