//! From command-line arguments to the engine's configuration: the `--config` file (or the
//! defaults), then every option given on the command line on top.

use crate::cli::{
    AnalyzeArgs, ChecksumArg, CompressArg, DetectorArg, DetectorArgs, EventsArg, ThresholdArg,
};
use anyhow::bail;
use custos_engine::config::{
    AppSettings, Checksums, EvidenceSettings, KitsuneSettings, ThresholdRuleSetting,
};
use custos_engine::EngineConfig;
use custos_output::sinks::EventLevel;
use custos_output::Compression;

/// The checksum setting of an option.
pub fn checksums(arg: ChecksumArg) -> Checksums {
    match arg {
        ChecksumArg::Auto => Checksums::Auto,
        ChecksumArg::Verify => Checksums::Verify,
        ChecksumArg::Ignore => Checksums::Ignore,
    }
}

/// Applies the detector options to `cfg`.
pub fn apply_detector_args(cfg: &mut EngineConfig, a: &DetectorArgs) {
    for d in &a.detector {
        let name = match d {
            DetectorArg::Kitsune => "kitsune",
            DetectorArg::Flow => "flow",
        };
        if !cfg.detect.detectors.iter().any(|d| d == name) {
            cfg.detect.detectors.push(name.into());
        }
    }
    let k: &mut KitsuneSettings = &mut cfg.detect.kitsune;
    k.compat |= a.kitsune_compat;
    k.features_115 |= a.features_115;
    set(&mut k.max_streams, a.kitsune_max_streams);
    set(&mut k.max_pairs, a.kitsune_max_pairs);
    set(&mut k.fm_grace, a.fm_grace);
    set(&mut k.ad_grace, a.ad_grace);
    set(&mut k.max_ae, a.max_ae);
    set(&mut k.calibration, a.calibration);
    set(&mut k.fpr, a.fpr);
    set(&mut k.beta, a.beta);
    set(&mut k.warmup_seconds, a.warmup);
    if let Some(t) = a.threshold_rule {
        k.threshold_rule = match t {
            ThresholdArg::Robust => ThresholdRuleSetting::Robust,
            ThresholdArg::Lognormal => ThresholdRuleSetting::Lognormal,
            ThresholdArg::PhiBeta => ThresholdRuleSetting::PhiBeta,
        };
    }
}

/// With `--model`, options that shape training or the threshold cannot apply (the model fixed
/// them): refuse them instead of ignoring them.
fn refuse_training_options(d: &DetectorArgs) -> anyhow::Result<()> {
    let given = [
        ("--fm-grace", d.fm_grace.is_some()),
        ("--ad-grace", d.ad_grace.is_some()),
        ("--max-ae", d.max_ae.is_some()),
        ("--calibration", d.calibration.is_some()),
        ("--threshold-rule", d.threshold_rule.is_some()),
        ("--fpr", d.fpr.is_some()),
        ("--beta", d.beta.is_some()),
    ];
    if let Some((name, _)) = given.iter().find(|(_, set)| *set) {
        bail!(
            "{name} has no effect with --model: the model was trained and its threshold set by \
             `custos train` (give {name} there, or leave --model out to train online)"
        );
    }
    Ok(())
}

fn set<T>(slot: &mut T, value: Option<T>) {
    if let Some(v) = value {
        *slot = v;
    }
}

/// The configuration of `analyze`.
///
/// # Errors
/// An unreadable or invalid configuration file, or options that do not go together.
pub fn analyze_config(a: &AnalyzeArgs) -> anyhow::Result<EngineConfig> {
    let mut cfg = match &a.config {
        Some(path) => EngineConfig::load(path)?,
        None => EngineConfig::default(),
    };
    if let Some(path) = &a.app_config {
        cfg.app = AppSettings::load(path)?;
    }
    if a.oui_dir.is_some() {
        cfg.app.oui_dir.clone_from(&a.oui_dir);
    }
    set(&mut cfg.threads, a.threads);
    set(&mut cfg.live.buffer_bytes, a.live_buffer);
    if a.max_packets.is_some() {
        cfg.max_packets = a.max_packets;
    }
    if let Some(c) = a.checksums {
        cfg.decode.checksums = checksums(c);
    }
    set(&mut cfg.flow.max_flows, a.max_flows);
    cfg.flow.zeek_bare |= a.zeek_bare;
    if a.output.is_some() {
        cfg.output.dir.clone_from(&a.output);
    }
    if cfg.output.dir.is_none() {
        bail!("name the output directory with -o DIR (or [output] dir in --config)");
    }
    if let Some(c) = a.compress {
        cfg.output.compress = match c {
            CompressArg::None => Compression::None,
            CompressArg::Zstd => Compression::Zstd,
        };
    }
    if let Some(e) = a.events {
        cfg.output.events = match e {
            EventsArg::All => EventLevel::All,
            EventsArg::Summary => EventLevel::Summary,
            EventsArg::None => EventLevel::None,
        };
    }
    cfg.output.alert_every_packet |= a.alert_every_packet;
    cfg.output.overwrite |= a.force;
    if a.pseudonymize.is_some() {
        cfg.output.pseudonymize.clone_from(&a.pseudonymize);
        cfg.output.pseudonym_policy.clone_from(&a.pseudonym_policy);
    }
    apply_detector_args(&mut cfg, &a.detect);
    cfg.detect.trust.extend(a.trust.iter().cloned());
    cfg.detect.allow_unsigned_model |= a.allow_unsigned_model;
    cfg.detect.rules.files.extend(a.rules.iter().cloned());
    if a.rules_vars.is_some() {
        cfg.detect.rules.vars.clone_from(&a.rules_vars);
    }
    cfg.detect.ioc.files.extend(a.ioc.iter().cloned());
    cfg.assign_models(&a.model)?;
    if cfg.detect.kitsune.model.is_some() {
        refuse_training_options(&a.detect)?;
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
