//! Command-line flags over an [`EngineConfig`] (feature `clap`): the options of `custos
//! analyze`, `train` and `bench` that are settings of the run, with their help text, and how
//! each overrides the configuration file.
//!
//! A flag left out keeps the value of the configuration file (`--config`), or the default
//! listed in docs/config.md. [`RunFlags`] and [`AnalysisFlags`] are two groups only so that a
//! front end can list options of its own between them (`custos analyze` puts `--quiet` and
//! `--summary` there); [`EngineConfig::from_flags`] takes both. [`DetectorFlags`] is the
//! part `train` and `bench` share.
//!
//! What it does not do: name the inputs, or hold an option of the front end itself
//! (progress, printing the summary, exit codes).

use crate::config::{AppSettings, Checksums, EvidenceSettings, ThresholdRuleSetting};
use crate::{EngineConfig, EngineError};
use clap::{Args, ValueEnum};
use custos_output::sinks::EventLevel;
use custos_output::Compression;
use std::path::PathBuf;

/// Anomaly detectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Detector {
    /// Kitsune (NDSS 2018): AfterImage features and the KitNET autoencoder ensemble.
    Kitsune,
    /// Supervised flow model: gradient-boosted trees over live flow features, trained on a
    /// labelled dataset (custos train --detector flow --dataset DS); needs its --model.
    Flow,
}

impl Detector {
    /// Its name in `detect.detectors`.
    pub fn name(self) -> &'static str {
        match self {
            Detector::Kitsune => "kitsune",
            Detector::Flow => "flow",
        }
    }
}

/// Detector options shared by `analyze`, `train` and `bench`. Options left out keep the value
/// of the configuration file, or the default listed in docs/config.md.
#[derive(Debug, Args, Clone)]
pub struct DetectorFlags {
    /// Detectors to run, comma-separated (`kitsune,flow`) or repeated (with analyze: writes
    /// scores.csv, one column each and `combined`, and alerts.jsonl; with train: the detector
    /// whose model is trained; with bench: the detector measured).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub detector: Vec<Detector>,

    /// Kitsune: reproduce Kitsune-py exactly, quirks included (string-joined socket keys,
    /// ICMPv6 without protocol, pairwise cost growing with peers); see docs/kitsune-compat.md.
    #[arg(long)]
    pub kitsune_compat: bool,

    /// Kitsune: the paper's 115 features (N-BaIoT order) instead of Kitsune-py's 100.
    #[arg(long, conflicts_with = "kitsune_compat")]
    pub features_115: bool,

    /// Kitsune default mode: most streams kept per statistics table (MAC–IP, host, jitter,
    /// socket); beyond it stale or least recently seen streams are evicted [default: 262144].
    #[arg(long, value_name = "N")]
    pub kitsune_max_streams: Option<usize>,

    /// Kitsune default mode: most stream pairs kept per pair table [default: 262144].
    #[arg(long, value_name = "N")]
    pub kitsune_max_pairs: Option<usize>,

    /// Kitsune: packets that learn the feature map [default: 1000].
    #[arg(long, value_name = "N")]
    pub fm_grace: Option<u64>,

    /// Kitsune: packets that then train the autoencoders [default: 10000].
    #[arg(long, value_name = "N")]
    pub ad_grace: Option<u64>,

    /// Kitsune: largest autoencoder (features per autoencoder) [default: 10].
    #[arg(long, value_name = "N")]
    pub max_ae: Option<usize>,

    /// Packets after the grace periods whose scores calibrate the threshold (assumed benign;
    /// no alerts are raised there) [default: 5000].
    #[arg(long, value_name = "N")]
    pub calibration: Option<u64>,

    /// Threshold rule [default: robust].
    #[arg(long, value_enum)]
    pub threshold_rule: Option<ThresholdRuleSetting>,

    /// False-positive rate of the robust and log-normal rules per packet [default: 0.00001];
    /// for the flow detector (train), per scored benign flow moment [default: 0.001].
    #[arg(long, value_name = "P")]
    pub fpr: Option<f64>,

    /// With --model: seconds of packet time at the start that are scored without alerts
    /// while the statistics fill (a model scores a cold start as unusual) [default: 60].
    #[arg(long, value_name = "SECONDS")]
    pub warmup: Option<f64>,

    /// β for the φ·β rule [default: 1].
    #[arg(long, value_name = "B")]
    pub beta: Option<f64>,
}

impl DetectorFlags {
    /// Applies the options given to `cfg`: each detector named is added once, Kitsune's
    /// switches are turned on, and every value given replaces the configured one.
    pub fn apply(&self, cfg: &mut EngineConfig) {
        for d in &self.detector {
            if !cfg.detect.detectors.iter().any(|n| n == d.name()) {
                cfg.detect.detectors.push(d.name().into());
            }
        }
        let k = &mut cfg.detect.kitsune;
        k.compat |= self.kitsune_compat;
        k.features_115 |= self.features_115;
        set(&mut k.max_streams, self.kitsune_max_streams);
        set(&mut k.max_pairs, self.kitsune_max_pairs);
        set(&mut k.fm_grace, self.fm_grace);
        set(&mut k.ad_grace, self.ad_grace);
        set(&mut k.max_ae, self.max_ae);
        set(&mut k.calibration, self.calibration);
        set(&mut k.fpr, self.fpr);
        set(&mut k.beta, self.beta);
        set(&mut k.warmup_seconds, self.warmup);
        set(&mut k.threshold_rule, self.threshold_rule);
    }

    /// With a trained Kitsune model, options that shape training or the threshold cannot
    /// apply (the model fixed them): refuses them instead of ignoring them.
    ///
    /// # Errors
    /// The first such option given, named.
    pub fn refuse_training_options(&self) -> Result<(), EngineError> {
        let given = [
            ("--fm-grace", self.fm_grace.is_some()),
            ("--ad-grace", self.ad_grace.is_some()),
            ("--max-ae", self.max_ae.is_some()),
            ("--calibration", self.calibration.is_some()),
            ("--threshold-rule", self.threshold_rule.is_some()),
            ("--fpr", self.fpr.is_some()),
            ("--beta", self.beta.is_some()),
        ];
        match given.iter().find(|(_, set)| *set) {
            Some((name, _)) => Err(EngineError::Config(format!(
                "{name} has no effect with --model: the model was trained and its threshold set \
                 by `custos train` (give {name} there, or leave --model out to train online)"
            ))),
            None => Ok(()),
        }
    }
}

/// The first group of `analyze`'s settings: where the outputs go, the configuration file,
/// threads, checksums, the flow table and live capture.
#[derive(Debug, Args)]
pub struct RunFlags {
    /// Directory for the output files (created if missing); or `[output] dir` in --config.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// Settings of the run (TOML; every key in docs/config.md). Options given on the command
    /// line override the file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Threads: 1 runs everything on one thread; 2 or more stage the run over three threads
    /// (docs/engine.md) [default: the cores available]. Outputs are the same at any count.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Checksum verification [default: auto].
    #[arg(long, value_enum)]
    pub checksums: Option<Checksums>,

    /// Most flows held in memory at once; beyond it the least recently active are evicted
    /// (and counted in stats.json); the application layer follows no more connections than
    /// this either [default: 1000000].
    #[arg(long, value_name = "N")]
    pub max_flows: Option<usize>,

    /// Decide connection originators as Zeek does in bare mode (`zeek -b`), where no
    /// application analyzers register their well-known server ports.
    #[arg(long)]
    pub zeek_bare: bool,

    /// With --interface: the capture socket's kernel buffer, bytes; frames beyond it are
    /// dropped by the kernel, counted in stats.json and reported [default: 33554432].
    #[arg(long, value_name = "BYTES")]
    pub live_buffer: Option<usize>,

    /// Stop after this many packets (useful with --interface).
    #[arg(long, value_name = "N")]
    pub max_packets: Option<u64>,
}

/// The second group of `analyze`'s settings: outputs, detectors and their models, signatures,
/// indicators, pseudonymised outputs, the evidence log and the application layer.
#[derive(Debug, Args)]
pub struct AnalysisFlags {
    /// Replace the outputs of an earlier run in DIR: exactly the files listed in its
    /// custos-run.json (and built-in output names); other files in DIR are left alone.
    /// Without it a DIR holding an earlier run's outputs is refused.
    #[arg(long)]
    pub force: bool,

    /// Compress every output file [default: none].
    #[arg(long, value_enum)]
    pub compress: Option<Compression>,

    /// Application events written to events.jsonl [default: all].
    #[arg(long, value_enum)]
    pub events: Option<EventLevel>,

    /// Detection options.
    #[command(flatten)]
    pub detect: DetectorFlags,

    /// Score with this trained model directory (from `custos train`): `DETECTOR=DIR`
    /// (`kitsune=DIR`, `flow=DIR`), or a bare `DIR` for a single detector. Loaded only when
    /// signed by a key given with --trust (`custos model sign`); refused if unsigned,
    /// modified, signed by another key, corrupt, or made for other features. One model per
    /// option; repeat it for several detectors.
    #[arg(long, value_name = "[DETECTOR=]MODEL")]
    pub model: Vec<String>,

    /// Public key (`.pub` from `custos keygen --model`) of a signer whose models are loaded;
    /// repeat the option for several.
    #[arg(long = "trust", value_name = "KEY.pub")]
    pub trust: Vec<PathBuf>,

    /// Load a model without a trusted signature (for research); recorded in stats.json and
    /// in every alert.
    #[arg(long)]
    pub allow_unsigned_model: bool,

    /// Match the signatures of this Suricata-language rule file (repeat for several; e.g.
    /// custos's own rules/iot.rules). Rules custos cannot honour exactly are skipped and
    /// counted in stats.json (docs/rules.md).
    #[arg(long, value_name = "FILE")]
    pub rules: Vec<PathBuf>,

    /// A suricata.yaml whose `vars:` define the rules' $HOME_NET, $HTTP_PORTS, …
    #[arg(long, value_name = "suricata.yaml")]
    pub rules_vars: Option<PathBuf>,

    /// Alert on the indicators of this file: a plain list, CSV or STIX 2.1 bundle of IPs,
    /// networks, domains, URLs, JA3/JA4 (repeat for several; docs/ioc.md).
    #[arg(long, value_name = "FILE")]
    pub ioc: Vec<PathBuf>,

    /// Write every output pseudonymised with this key (`.pkey`), one mapping for all files;
    /// the evidence log stays original (docs/privacy.md).
    #[arg(long, value_name = "K.pkey")]
    pub pseudonymize: Option<PathBuf>,

    /// With --pseudonymize: the sharing policy (TOML).
    #[arg(long, value_name = "FILE", requires = "pseudonymize")]
    pub pseudonym_policy: Option<PathBuf>,

    /// Log every alert as evidence in this tamper-evident log (created if missing), with a
    /// pcap excerpt of its flow; a signed checkpoint is published at the end. Needs --key.
    #[arg(long, value_name = "LOGDIR", requires = "key")]
    pub evidence: Option<PathBuf>,

    /// Signing key for the evidence log (`.skey` from `custos keygen`).
    #[arg(long, value_name = "PREFIX.skey", requires = "evidence")]
    pub key: Option<PathBuf>,

    /// Sensor name recorded in evidence [default: custos].
    #[arg(long)]
    pub sensor: Option<String>,

    /// Raise an alert for every packet above the threshold (default: at most one per flow,
    /// by Community ID, per second of packet time; the rest are counted as suppressed).
    #[arg(long)]
    pub alert_every_packet: bool,

    /// Settings of the application layer (TOML): `[findings]` thresholds and windows,
    /// `default_credentials` (extra list file), `oui_dir`; the same keys as `[app]` in
    /// --config. See docs/app.md.
    #[arg(long, value_name = "FILE")]
    pub app_config: Option<PathBuf>,

    /// Directory of the IEEE MAC registries (`oui.csv`, `mam.csv`, `oui36.csv`) for device
    /// vendors [default: /usr/share/ieee-data, from Debian's ieee-data, when present].
    #[arg(long, value_name = "DIR")]
    pub oui_dir: Option<PathBuf>,
}

impl EngineConfig {
    /// The configuration of `analyze`: the `--config` file (or the defaults), then every
    /// option given on top, validated.
    ///
    /// # Errors
    /// An unreadable or invalid configuration file, no output directory, or options that do
    /// not go together.
    pub fn from_flags(run: &RunFlags, a: &AnalysisFlags) -> Result<EngineConfig, EngineError> {
        let mut cfg = match &run.config {
            Some(path) => EngineConfig::load(path)?,
            None => EngineConfig::default(),
        };
        if let Some(path) = &a.app_config {
            cfg.app = AppSettings::load(path)?;
        }
        if a.oui_dir.is_some() {
            cfg.app.oui_dir.clone_from(&a.oui_dir);
        }
        set(&mut cfg.threads, run.threads);
        set(&mut cfg.live.buffer_bytes, run.live_buffer);
        if run.max_packets.is_some() {
            cfg.max_packets = run.max_packets;
        }
        set(&mut cfg.decode.checksums, run.checksums);
        set(&mut cfg.flow.max_flows, run.max_flows);
        cfg.flow.zeek_bare |= run.zeek_bare;
        if run.output.is_some() {
            cfg.output.dir.clone_from(&run.output);
        }
        if cfg.output.dir.is_none() {
            return Err(EngineError::Config(
                "name the output directory with -o DIR (or [output] dir in --config)".into(),
            ));
        }
        set(&mut cfg.output.compress, a.compress);
        set(&mut cfg.output.events, a.events);
        cfg.output.alert_every_packet |= a.alert_every_packet;
        cfg.output.overwrite |= a.force;
        if a.pseudonymize.is_some() {
            cfg.output.pseudonymize.clone_from(&a.pseudonymize);
            cfg.output.pseudonym_policy.clone_from(&a.pseudonym_policy);
        }
        a.detect.apply(&mut cfg);
        cfg.detect.trust.extend(a.trust.iter().cloned());
        cfg.detect.allow_unsigned_model |= a.allow_unsigned_model;
        cfg.detect.rules.files.extend(a.rules.iter().cloned());
        if a.rules_vars.is_some() {
            cfg.detect.rules.vars.clone_from(&a.rules_vars);
        }
        cfg.detect.ioc.files.extend(a.ioc.iter().cloned());
        cfg.assign_models(&a.model)?;
        if cfg.detect.kitsune.model.is_some() {
            a.detect.refuse_training_options()?;
        }
        if let (Some(log), Some(key)) = (&a.evidence, &a.key) {
            cfg.evidence = Some(EvidenceSettings {
                log: log.clone(),
                key: key.clone(),
                sensor: a.sensor.clone().unwrap_or_else(|| "custos".into()),
            });
        } else if let (Some(ev), Some(sensor)) = (cfg.evidence.as_mut(), &a.sensor) {
            ev.sensor.clone_from(sensor);
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

/// Replaces `slot` with `value` when one was given.
fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// `analyze`'s settings as a command line.
    #[derive(Debug, Parser)]
    struct Analyze {
        #[command(flatten)]
        run: RunFlags,
        #[command(flatten)]
        analysis: AnalysisFlags,
    }

    fn config(args: &[&str]) -> Result<EngineConfig, EngineError> {
        let a = Analyze::try_parse_from(std::iter::once("analyze").chain(args.iter().copied()))
            .unwrap();
        EngineConfig::from_flags(&a.run, &a.analysis)
    }

    #[test]
    fn options_given_replace_the_defaults() {
        let c = config(&[
            "-o",
            "out",
            "--threads",
            "1",
            "--checksums",
            "ignore",
            "--compress",
            "zstd",
            "--events",
            "summary",
            "--detector",
            "kitsune,kitsune",
            "--threshold-rule",
            "phi-beta",
            "--fm-grace",
            "20",
        ])
        .unwrap();
        assert_eq!(c.output.dir, Some(PathBuf::from("out")));
        assert_eq!(c.threads, 1);
        assert_eq!(c.decode.checksums, Checksums::Ignore);
        assert_eq!(c.output.compress, Compression::Zstd);
        assert_eq!(c.output.events, EventLevel::Summary);
        assert_eq!(c.detect.detectors, ["kitsune"]);
        assert_eq!(
            c.detect.kitsune.threshold_rule,
            ThresholdRuleSetting::PhiBeta
        );
        assert_eq!(c.detect.kitsune.fm_grace, 20);
        assert_eq!(
            c.detect.kitsune.ad_grace,
            EngineConfig::default().detect.kitsune.ad_grace
        );
    }

    #[test]
    fn rejects_a_run_without_an_output_directory() {
        let e = config(&[]).unwrap_err().to_string();
        assert_eq!(
            e,
            "name the output directory with -o DIR (or [output] dir in --config)"
        );
    }

    #[test]
    fn rejects_training_options_with_a_kitsune_model() {
        let e = config(&["-o", "out", "--model", "kitsune=m", "--beta", "2"])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("--beta has no effect with --model"), "{e}");
        assert!(config(&["-o", "out", "--model", "kitsune=m", "--warmup", "0"]).is_ok());
    }

    #[test]
    fn evidence_sensor_defaults_to_custos() {
        let args = [
            "-o",
            "out",
            "--detector",
            "kitsune",
            "--evidence",
            "log",
            "--key",
            "k.skey",
        ];
        let c = config(&args).unwrap();
        let ev = c.evidence.unwrap();
        assert_eq!(
            (ev.log, ev.sensor),
            (PathBuf::from("log"), "custos".to_string())
        );
    }
}
