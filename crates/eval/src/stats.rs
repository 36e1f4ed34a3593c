//! What evaluation needs from a run's `stats.json`: the inputs in order with their packet
//! counts (to turn per-file packet numbers into run indices) and each detector's operating
//! threshold and training length.

use crate::EvalError;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// One input of the run (`files[]` of `stats.json`), in argument order.
#[derive(Clone, Debug)]
pub(crate) struct InputFile {
    /// The path as the run was given it (alerts name their file by it).
    pub path: String,
    /// Packets read from it.
    pub packets: u64,
    /// Reading stopped early (`error` set): the labels may hold more rows than were read.
    pub truncated: bool,
    /// SHA-256 of the file (`files[].sha256`), when the run recorded it.
    pub sha256: Option<String>,
}

/// One detector's summary (`detector` or `detectors.<name>` of `stats.json`).
#[derive(Clone, Debug)]
pub(crate) struct DetectorStats {
    /// Detector name.
    pub name: String,
    /// `threshold.value`, when the detector had one.
    pub threshold: Option<f64>,
    /// The packets at the start of the run it scored without being able to alert: up to
    /// `detecting_from.packet` where the detector says where it could first alert (Kitsune:
    /// after its training, its calibration window — whose scores set its threshold — and its
    /// warm-up), otherwise `trained_packets + warmup_packets`. `None` when it says it never
    /// could (`detecting_from` null: the run ended before).
    pub training: Option<u64>,
    /// The captures its saved model was trained on (`training_inputs[]`: path, SHA-256).
    pub training_inputs: Vec<(String, String)>,
    /// `training_flows`: (flows of the run checked, of those among the model's training
    /// flows), when the model recorded its training flows.
    pub training_flows: Option<(u64, u64)>,
}

/// The parts of `stats.json` evaluation reads.
#[derive(Clone, Debug)]
pub(crate) struct RunStats {
    /// `stats.json` itself (for errors).
    pub path: PathBuf,
    /// Inputs in order.
    pub files: Vec<InputFile>,
    /// Detectors: the single `detector` first, then `detectors` by name.
    pub detectors: Vec<DetectorStats>,
}

impl RunStats {
    /// Reads `dir/stats.json` (or `stats.json.zst`).
    ///
    /// # Errors
    /// The file is missing, not JSON, or lacks `files[].path` / `files[].packets`.
    pub fn read(dir: &Path) -> Result<Self, EvalError> {
        let path = dir.join("stats.json");
        let reader =
            custos_output::open_output(dir, "stats.json").map_err(|e| EvalError::io(&path, e))?;
        let v: Value = serde_json::from_reader(reader)
            .map_err(|e| EvalError::invalid(&path, e.line() as u64, e.to_string()))?;
        let files = v["files"]
            .as_array()
            .ok_or_else(|| EvalError::invalid(&path, 0, "no files array"))?
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let (Some(p), Some(packets)) = (f["path"].as_str(), f["packets"].as_u64()) else {
                    return Err(EvalError::invalid(
                        &path,
                        0,
                        format!("files[{i}] lacks path or packets"),
                    ));
                };
                Ok(InputFile {
                    path: p.to_string(),
                    packets,
                    truncated: !f["error"].is_null(),
                    sha256: f["sha256"].as_str().map(str::to_string),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut detectors = Vec::new();
        if let Some(d) = v.get("detector").filter(|d| d.is_object()) {
            detectors.push(detector(d["name"].as_str().unwrap_or("score"), d));
        }
        if let Some(m) = v["detectors"].as_object() {
            let mut named: Vec<(&String, &Value)> = m.iter().collect();
            named.sort_by(|a, b| a.0.cmp(b.0));
            detectors.extend(named.into_iter().map(|(k, d)| detector(k, d)));
        }
        Ok(RunStats {
            path,
            files,
            detectors,
        })
    }

    /// Packets read from all inputs.
    pub fn packets(&self) -> u64 {
        self.files.iter().map(|f| f.packets).sum()
    }

    /// Run index of the first packet of input `file`.
    pub fn offset(&self, file: usize) -> u64 {
        self.files.iter().take(file).map(|f| f.packets).sum()
    }

    /// The position of the input an alert names by `pcap_file` (the first input with that
    /// path; the only input when there is one, whatever its name).
    pub fn file_of(&self, pcap_file: &str) -> Option<usize> {
        if self.files.len() == 1 {
            return Some(0);
        }
        self.files.iter().position(|f| f.path == pcap_file)
    }

    /// Train/test leakage: every evaluated input whose SHA-256 is among the captures a
    /// detector's saved model was trained on.
    pub fn leakage(&self) -> Vec<crate::metrics::Leak> {
        let mut out = Vec::new();
        for d in &self.detectors {
            for f in &self.files {
                let Some(h) = &f.sha256 else { continue };
                if let Some((trained, _)) = d.training_inputs.iter().find(|(_, t)| t == h) {
                    out.push(crate::metrics::Leak {
                        detector: d.name.clone(),
                        kind: "capture",
                        input: f.path.clone(),
                        sha256: Some(h.clone()),
                        training_input: Some(trained.clone()),
                        shared_flows: None,
                        flows: None,
                    });
                }
            }
            if let Some((flows, seen)) = d.training_flows.filter(|(_, seen)| *seen > 0) {
                let inputs: Vec<&str> = self.files.iter().map(|f| f.path.as_str()).collect();
                out.push(crate::metrics::Leak {
                    detector: d.name.clone(),
                    kind: "flows",
                    input: inputs.join(", "),
                    sha256: None,
                    training_input: None,
                    shared_flows: Some(seen),
                    flows: Some(flows),
                });
            }
        }
        out
    }

    /// The summary of detector `name`.
    pub fn detector(&self, name: &str) -> Option<&DetectorStats> {
        self.detectors.iter().find(|d| d.name == name)
    }
}

/// One detector's summary from its `stats.json` object.
fn detector(name: &str, d: &Value) -> DetectorStats {
    let trained = d["trained_packets"].as_u64().unwrap_or(0);
    let warmup = d["warmup_packets"].as_u64().unwrap_or(0);
    // `trained_packets` of a model loaded from a directory counts its training elsewhere,
    // not packets of this run: where the detector names its first detecting packet, that is
    // the end of its training here.
    let training = match d.get("detecting_from") {
        Some(Value::Null) => None,
        Some(from) => Some(from["packet"].as_u64().unwrap_or(0)),
        None => Some(trained.saturating_add(warmup)),
    };
    DetectorStats {
        name: name.to_string(),
        threshold: d["threshold"]["value"]
            .as_f64()
            .or_else(|| d["threshold"].as_f64()),
        training,
        training_inputs: d["training_inputs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| {
                let (p, h) = (i["path"].as_str()?, i["sha256"].as_str()?);
                Some((p.to_string(), h.to_string()))
            })
            .collect(),
        training_flows: d["training_flows"]["flows"]
            .as_u64()
            .zip(d["training_flows"]["seen_in_training"].as_u64()),
    }
}
