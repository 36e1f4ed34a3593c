//! [`EngineConfig`]: every setting of a run, loadable from a TOML file and validated once.
//!
//! The file has the same sections as this module's structs (`[flow]`, `[output]`, `[app]`,
//! `[detect.kitsune]`, `[evidence]`); every key is optional and takes the default documented
//! in `docs/config.md`. An unknown key is an error that names it and its line.

use crate::error::EngineError;
use custos_decode::ChecksumSetting;
use custos_detect::{DetectorConfig, KitNetConfig, ThresholdChoice};
use custos_features::{FeatureConfig, Mode};
use custos_flow::zeek::ZeekConfig;
use custos_flow::FlowConfig;
use custos_inventory::findings::FindingsConfig;
use custos_output::sinks::EventLevel;
use custos_output::Compression;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Every setting of a run.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EngineConfig {
    /// Threads: 1 runs every stage on the caller's thread; 2 or more run the packet stage,
    /// the ordered host stage and the output stage on threads of their own
    /// (default: the cores available).
    pub threads: usize,
    /// Stop after this many packets (all inputs together).
    pub max_packets: Option<u64>,
    /// Decoding and checksums.
    pub decode: DecodeSettings,
    /// The flow table.
    pub flow: FlowSettings,
    /// What is written, where and how.
    pub output: OutputSettings,
    /// The application layer: findings thresholds, credential list, OUI registry.
    pub app: AppSettings,
    /// Detectors.
    pub detect: DetectSettings,
    /// The evidence log, when alerts are logged as evidence.
    pub evidence: Option<EvidenceSettings>,
    /// Live capture.
    pub live: LiveSettings,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            threads: default_threads(),
            max_packets: None,
            decode: DecodeSettings::default(),
            flow: FlowSettings::default(),
            output: OutputSettings::default(),
            app: AppSettings::default(),
            detect: DetectSettings::default(),
            evidence: None,
            live: LiveSettings::default(),
        }
    }
}

/// The cores available to this process (at least 1).
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// How checksums are treated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Checksums {
    /// Verify unless the capture shows checksum offloading (more than 1 in 10 of the first
    /// 1000 checked packets bad, as Suricata decides).
    #[default]
    Auto,
    /// Verify: packets with bad checksums are counted and kept out of flow state (as Zeek).
    Verify,
    /// Never verify (Zeek's -C).
    Ignore,
}

impl From<Checksums> for ChecksumSetting {
    fn from(c: Checksums) -> Self {
        match c {
            Checksums::Auto => ChecksumSetting::Auto,
            Checksums::Verify => ChecksumSetting::Verify,
            Checksums::Ignore => ChecksumSetting::Ignore,
        }
    }
}

/// `[decode]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecodeSettings {
    /// Checksum verification: `auto`, `verify` or `ignore`.
    pub checksums: Checksums,
}

/// `[flow]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlowSettings {
    /// Most flows held at once; beyond it the least recently active are evicted.
    pub max_flows: usize,
    /// Decide originators as Zeek does in bare mode (`zeek -b`).
    pub zeek_bare: bool,
}

impl Default for FlowSettings {
    fn default() -> Self {
        FlowSettings {
            max_flows: 1_000_000,
            zeek_bare: false,
        }
    }
}

impl FlowSettings {
    /// The flow table's configuration.
    pub fn flow_config(&self) -> FlowConfig {
        FlowConfig {
            max_flows: self.max_flows,
            zeek: if self.zeek_bare {
                ZeekConfig::bare()
            } else {
                ZeekConfig::default()
            },
            ..FlowConfig::default()
        }
    }
}

/// The built-in output files (sinks), by name.
pub const SINK_NAMES: [&str; 8] = [
    "conn.log",
    "flows.jsonl",
    "events.jsonl",
    "devices.json",
    "findings.jsonl",
    "scores.csv",
    "alerts.jsonl",
    "stats.json",
];

/// `[output]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OutputSettings {
    /// Directory of the output files (`-o`).
    pub dir: Option<PathBuf>,
    /// Compression of every output file: `none` or `zstd` (files get `.zst`).
    pub compress: Compression,
    /// Which application events `events.jsonl` holds: `all` or `none`.
    pub events: EventLevel,
    /// Output files to write, from [`SINK_NAMES`] (`scores.csv` and `alerts.jsonl` only when a
    /// detector runs). Default: all of them.
    pub sinks: Vec<String>,
    /// Raise an alert for every packet above a threshold, instead of at most one per flow
    /// (Community ID) and second of packet time.
    pub alert_every_packet: bool,
    /// Replace the outputs of an earlier run in `dir` (`--force`); without it such a
    /// directory is refused. Only the files custos writes are replaced.
    pub overwrite: bool,
    /// Write every output pseudonymised with this key (`.pkey`, `--pseudonymize`), one
    /// mapping for all files (docs/privacy.md); evidence logs stay original.
    pub pseudonymize: Option<PathBuf>,
    /// With `pseudonymize`: the sharing policy (TOML, `--pseudonym-policy`).
    pub pseudonym_policy: Option<PathBuf>,
}

impl Default for OutputSettings {
    fn default() -> Self {
        OutputSettings {
            dir: None,
            compress: Compression::None,
            events: EventLevel::All,
            sinks: SINK_NAMES.iter().map(|s| (*s).to_string()).collect(),
            alert_every_packet: false,
            overwrite: false,
            pseudonymize: None,
            pseudonym_policy: None,
        }
    }
}

impl OutputSettings {
    /// True when the output file `name` is to be written.
    pub fn wants(&self, name: &str) -> bool {
        self.sinks.iter().any(|s| s == name)
    }
}

/// `[app]` (also what `--app-config FILE` reads, at the top level of that file).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AppSettings {
    /// Rule thresholds and windows (`[app.findings]`).
    pub findings: FindingsConfig,
    /// A file of extra default credentials (`user password` lines) added to the built-in list.
    pub default_credentials: Option<PathBuf>,
    /// Directory of the IEEE registries (`oui.csv`, …); default `/usr/share/ieee-data`.
    pub oui_dir: Option<PathBuf>,
}

impl AppSettings {
    /// Reads an application-settings file (the `[app]` keys at its top level).
    ///
    /// # Errors
    /// Unreadable file, TOML syntax, unknown keys or wrong types (with line and column).
    pub fn load(path: &Path) -> Result<AppSettings, EngineError> {
        parse_toml(path)
    }
}

/// `[detect]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectSettings {
    /// Built-in detectors to run (`kitsune`, `flow`), in this order.
    pub detectors: Vec<String>,
    /// Kitsune's settings (`[detect.kitsune]`).
    pub kitsune: KitsuneSettings,
    /// The supervised flow detector's settings (`[detect.flow]`).
    pub flow: FlowDetectorSettings,
    /// Signatures (`[detect.rules]`).
    pub rules: RulesSettings,
    /// Indicators of compromise (`[detect.ioc]`).
    pub ioc: IocSettings,
    /// Public keys (`.pub`, P-256 PEM) of the signers whose models are loaded (`--trust`).
    pub trust: Vec<PathBuf>,
    /// Load models without a trusted signature (`--allow-unsigned-model`, for research);
    /// recorded in stats.json and in every alert.
    pub allow_unsigned_model: bool,
}

/// `[detect.flow]`: the supervised flow detector.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlowDetectorSettings {
    /// Its trained model directory (`custos train --detector flow`); required.
    pub model: Option<PathBuf>,
}

/// `[detect.rules]`: Suricata-language signatures (docs/rules.md).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RulesSettings {
    /// Rule files (`--rules`, repeated); the signature detector runs when there is one.
    pub files: Vec<PathBuf>,
    /// A `suricata.yaml` whose `vars:` define `$HOME_NET`, `$HTTP_PORTS`, …
    /// (`--rules-vars`); Suricata's defaults without it.
    pub vars: Option<PathBuf>,
}

/// `[detect.ioc]`: indicator lists (docs/ioc.md).
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IocSettings {
    /// Indicator files (`--ioc`, repeated): plain lists, CSV, STIX 2.1 bundles.
    pub files: Vec<PathBuf>,
}

/// The built-in detectors.
pub const DETECTOR_NAMES: [&str; 2] = ["kitsune", "flow"];

/// The threshold rule of a detector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ThresholdRuleSetting {
    /// Fit a log-normal to the median and upper quantile of the benign calibration window's
    /// scores, check it against the window's own tail (falling back to its high quantile) and
    /// alert at --fpr; warns when the window looks contaminated.
    #[default]
    Robust,
    /// Fit a log-normal to the mean and standard deviation of the calibration window's
    /// log-scores and alert at --fpr (as Kitsune-py's example.py does).
    Lognormal,
    /// The paper's rule: alert above φ·β, φ = the largest error of the output autoencoder
    /// while training.
    PhiBeta,
}

/// `[detect.kitsune]`.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KitsuneSettings {
    /// A trained model (`custos train`) to score with instead of training online.
    pub model: Option<PathBuf>,
    /// Reproduce Kitsune-py exactly, quirks included.
    pub compat: bool,
    /// The paper's 115 features instead of Kitsune-py's 100.
    pub features_115: bool,
    /// Default mode: most streams per statistics table.
    pub max_streams: usize,
    /// Default mode: most stream pairs per pair table.
    pub max_pairs: usize,
    /// Packets that learn the feature map.
    pub fm_grace: u64,
    /// Packets that then train the autoencoders.
    pub ad_grace: u64,
    /// Largest autoencoder (features per autoencoder).
    pub max_ae: usize,
    /// Packets after the grace periods whose scores calibrate the threshold.
    pub calibration: u64,
    /// Threshold rule: `robust`, `lognormal` or `phi-beta`.
    pub threshold_rule: ThresholdRuleSetting,
    /// False-positive rate of the log-normal rule.
    pub fpr: f64,
    /// β of the φ·β rule.
    pub beta: f64,
    /// With a model: seconds of packet time at the start scored without alerts while the
    /// statistics fill.
    pub warmup_seconds: f64,
}

impl Default for KitsuneSettings {
    fn default() -> Self {
        let d = DetectorConfig::default();
        let k = KitNetConfig::default();
        let f = FeatureConfig::default();
        KitsuneSettings {
            model: None,
            compat: false,
            features_115: false,
            max_streams: f.max_streams,
            max_pairs: f.max_pairs,
            fm_grace: k.fm_grace,
            ad_grace: k.ad_grace,
            max_ae: k.max_ae,
            calibration: d.calibration,
            threshold_rule: ThresholdRuleSetting::Robust,
            fpr: 1e-5,
            beta: 1.0,
            warmup_seconds: d.warmup_ns as f64 / 1e9,
        }
    }
}

/// Fewest packets of each grace period: below it the feature map or the autoencoders learn
/// from almost nothing (0 gives one autoencoder per feature and no threshold).
pub const MIN_GRACE: u64 = 10;
/// Fewest calibration packets: a threshold fitted on fewer describes nothing.
pub const MIN_CALIBRATION: u64 = 30;

impl KitsuneSettings {
    /// Refuses training settings that cannot give a working detector.
    fn check_training(&self) -> Result<(), EngineError> {
        for (value, key, option) in [
            (self.fm_grace, "fm_grace", "--fm-grace"),
            (self.ad_grace, "ad_grace", "--ad-grace"),
        ] {
            if value < MIN_GRACE {
                return Err(EngineError::Config(format!(
                    "detect.kitsune.{key} ({option}) is {value}: at least {MIN_GRACE} packets are \
                     needed to learn anything (the defaults are in docs/config.md)"
                )));
            }
        }
        if self.threshold_rule != ThresholdRuleSetting::PhiBeta
            && self.calibration < MIN_CALIBRATION
        {
            return Err(EngineError::Config(format!(
                "detect.kitsune.calibration (--calibration) is {}: a threshold needs at least \
                 {MIN_CALIBRATION} calibration packets (or --threshold-rule phi-beta, which needs none)",
                self.calibration
            )));
        }
        Ok(())
    }

    /// The detector's configuration.
    ///
    /// # Errors
    /// Values out of range.
    pub fn detector_config(&self) -> Result<DetectorConfig, EngineError> {
        if self.max_ae == 0 {
            return Err(EngineError::Config(
                "detect.kitsune.max_ae (--max-ae) must be at least 1".into(),
            ));
        }
        if !(self.fpr > 0.0 && self.fpr < 1.0) {
            return Err(EngineError::Config(format!(
                "detect.kitsune.fpr (--fpr) must be between 0 and 1 (got {})",
                self.fpr
            )));
        }
        if !(self.beta.is_finite() && self.beta > 0.0) {
            return Err(EngineError::Config(format!(
                "detect.kitsune.beta (--beta) must be a positive number (got {})",
                self.beta
            )));
        }
        if self.model.is_none() {
            self.check_training()?;
        }
        if !(self.warmup_seconds.is_finite() && (0.0..=86_400.0).contains(&self.warmup_seconds)) {
            return Err(EngineError::Config(format!(
                "detect.kitsune.warmup_seconds (--warmup) must be between 0 and 86400 (got {})",
                self.warmup_seconds
            )));
        }
        if self.compat && self.features_115 {
            return Err(EngineError::Config(
                "detect.kitsune: compat and features_115 cannot be combined".into(),
            ));
        }
        Ok(DetectorConfig {
            features: FeatureConfig {
                mode: if self.compat {
                    Mode::Compat
                } else {
                    Mode::Default
                },
                features_115: self.features_115,
                max_streams: self.max_streams.max(1),
                max_pairs: self.max_pairs.max(1),
                ..FeatureConfig::default()
            },
            kitnet: KitNetConfig {
                max_ae: self.max_ae,
                fm_grace: self.fm_grace,
                ad_grace: self.ad_grace,
                ..KitNetConfig::default()
            },
            calibration: self.calibration,
            threshold: match self.threshold_rule {
                ThresholdRuleSetting::Robust => ThresholdChoice::Robust { fpr: self.fpr },
                ThresholdRuleSetting::Lognormal => ThresholdChoice::LogNormal { fpr: self.fpr },
                ThresholdRuleSetting::PhiBeta => ThresholdChoice::PhiBeta { beta: self.beta },
            },
            explain_top: 3,
            warmup_ns: (self.warmup_seconds * 1e9) as i64,
        })
    }
}

/// `[evidence]`: every alert logged in a tamper-evident log.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceSettings {
    /// The log directory (created if missing).
    pub log: PathBuf,
    /// The signing key (`.skey` from `custos keygen`).
    pub key: PathBuf,
    /// Sensor name recorded in every leaf.
    #[serde(default = "default_sensor")]
    pub sensor: String,
}

fn default_sensor() -> String {
    "custos".into()
}

/// `[live]`: live capture.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LiveSettings {
    /// Kernel receive buffer of the capture socket, bytes: what absorbs bursts while custos
    /// is busy. Frames beyond it are dropped by the kernel and counted in `stats.json`.
    pub buffer_bytes: usize,
}

impl Default for LiveSettings {
    fn default() -> Self {
        LiveSettings {
            buffer_bytes: custos_capture::LiveOptions::default().buffer_bytes,
        }
    }
}

impl EngineConfig {
    /// Reads a configuration file.
    ///
    /// # Errors
    /// Unreadable file, TOML syntax, an unknown key or a wrong type: the message names the
    /// file, line and key.
    pub fn load(path: &Path) -> Result<EngineConfig, EngineError> {
        parse_toml(path)
    }

    /// Parses configuration text (`origin` names it in errors).
    ///
    /// # Errors
    /// As [`EngineConfig::load`].
    pub fn from_toml(text: &str, origin: &str) -> Result<EngineConfig, EngineError> {
        toml::from_str(text).map_err(|e| EngineError::Config(format!("{origin}: {e}")))
    }

    /// Checks every value and combination once, before a run.
    ///
    /// # Errors
    /// The first problem found, naming the key.
    pub fn validate(&self) -> Result<(), EngineError> {
        let bad = |m: String| Err(EngineError::Config(m));
        if self.threads == 0 {
            return bad("threads (--threads) must be at least 1".into());
        }
        if self.live.buffer_bytes < 65_536 {
            return bad("live.buffer_bytes (--live-buffer) must be at least 65536".into());
        }
        if self.flow.max_flows == 0 {
            return bad("flow.max_flows (--max-flows) must be at least 1".into());
        }
        if self.flow.max_flows > u32::MAX as usize / 2 {
            return bad(format!(
                "flow.max_flows (--max-flows) {} is too large (at most {})",
                self.flow.max_flows,
                u32::MAX / 2
            ));
        }
        for s in &self.output.sinks {
            if !SINK_NAMES.contains(&s.as_str()) {
                return bad(format!(
                    "output.sinks: unknown output {s:?} (known: {})",
                    SINK_NAMES.join(", ")
                ));
            }
        }
        for (i, d) in self.detect.detectors.iter().enumerate() {
            if !DETECTOR_NAMES.contains(&d.as_str()) {
                return bad(format!(
                    "detect.detectors: unknown detector {d:?} (known: {})",
                    DETECTOR_NAMES.join(", ")
                ));
            }
            if self.detect.detectors[..i].contains(d) {
                return bad(format!("detect.detectors: {d:?} is named twice"));
            }
        }
        if self.runs_kitsune() {
            self.detect.kitsune.detector_config()?;
        }
        if self.runs_flow() && self.detect.flow.model.is_none() {
            return bad(
                "the flow detector scores with a trained model and cannot train online: give                  --model flow=DIR ([detect.flow] model), made by custos train --detector flow                  --dataset DS -o DIR"
                    .into(),
            );
        }
        if self.detect.rules.vars.is_some() && self.detect.rules.files.is_empty() {
            return bad("detect.rules.vars (--rules-vars) without rule files (--rules)".into());
        }
        if self.evidence.is_some()
            && !self.runs_kitsune()
            && !self.runs_flow()
            && self.detect.rules.files.is_empty()
            && self.detect.ioc.files.is_empty()
        {
            return bad(
                "evidence logs alerts: choose a detector (--detector kitsune, --model, --rules or --ioc)"
                    .into(),
            );
        }
        Ok(())
    }

    /// True when the supervised flow detector runs (named, or a flow model given).
    pub fn runs_flow(&self) -> bool {
        self.detect.detectors.iter().any(|d| d == "flow") || self.detect.flow.model.is_some()
    }

    /// The built-in detectors that run, in order: those named in `detect.detectors` first,
    /// then any whose model is given without naming it.
    pub fn detector_order(&self) -> Vec<&'static str> {
        let mut order: Vec<&'static str> = Vec::new();
        for d in &self.detect.detectors {
            if let Some(n) = DETECTOR_NAMES.iter().find(|n| **n == d.as_str()) {
                order.push(n);
            }
        }
        for (name, runs) in [("kitsune", self.runs_kitsune()), ("flow", self.runs_flow())] {
            if runs && !order.contains(&name) {
                order.push(name);
            }
        }
        order
    }

    /// True when Kitsune runs (named, or a Kitsune model given).
    pub fn runs_kitsune(&self) -> bool {
        self.detect.detectors.iter().any(|d| d == "kitsune") || self.detect.kitsune.model.is_some()
    }
}

fn parse_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, EngineError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| EngineError::io(format!("cannot read {}", path.display()), e))?;
    toml::from_str(&text).map_err(|e| EngineError::Config(format!("{}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_the_defaults() {
        let c = EngineConfig::from_toml("", "t").unwrap();
        assert_eq!(c.flow.max_flows, 1_000_000);
        assert_eq!(c.output.sinks.len(), SINK_NAMES.len());
        assert!(c.validate().is_ok());
    }

    #[test]
    fn rejects_unknown_key_naming_it_and_its_line() {
        let text = "threads = 2\n[flow]\nmax_flows = 10\nmax_flow = 3\n";
        let e = EngineConfig::from_toml(text, "custos.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("max_flow"), "{e}");
        assert!(e.contains("line 4"), "{e}");
        assert!(e.starts_with("custos.toml"), "{e}");
    }

    #[test]
    fn rejects_unknown_sink_and_detector() {
        let c = EngineConfig::from_toml("[output]\nsinks = [\"conn.log\", \"x\"]", "t").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("\"x\""));
        let c = EngineConfig::from_toml("[detect]\ndetectors = [\"y\"]", "t").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("\"y\""));
    }

    #[test]
    fn reads_every_section() {
        let text = r#"
threads = 3
max_packets = 10
[decode]
checksums = "ignore"
[flow]
max_flows = 5
zeek_bare = true
[output]
compress = "zstd"
events = "none"
alert_every_packet = true
[app.findings]
brute_force_failures = 7
[detect]
detectors = ["kitsune"]
[detect.kitsune]
fm_grace = 10
threshold_rule = "phi-beta"
[evidence]
log = "log"
key = "k.skey"
[live]
buffer_bytes = 1048576
"#;
        let c = EngineConfig::from_toml(text, "t").unwrap();
        assert_eq!(c.threads, 3);
        assert_eq!(c.decode.checksums, Checksums::Ignore);
        assert!(c.flow.zeek_bare);
        assert_eq!(c.output.compress, Compression::Zstd);
        assert_eq!(c.output.events, EventLevel::None);
        assert_eq!(c.app.findings.brute_force_failures, 7);
        assert_eq!(c.detect.kitsune.fm_grace, 10);
        assert_eq!(
            c.detect.kitsune.threshold_rule,
            ThresholdRuleSetting::PhiBeta
        );
        assert_eq!(c.evidence.as_ref().unwrap().sensor, "custos");
        assert_eq!(c.live.buffer_bytes, 1 << 20);
        c.validate().unwrap();
    }

    #[test]
    fn rejects_zero_threads_and_bad_fpr() {
        let c = EngineConfig::from_toml("threads = 0", "t").unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("threads"));
        let c = EngineConfig::from_toml(
            "[detect]\ndetectors=[\"kitsune\"]\n[detect.kitsune]\nfpr = 2.0",
            "t",
        )
        .unwrap();
        assert!(c.validate().unwrap_err().to_string().contains("fpr"));
    }
}
