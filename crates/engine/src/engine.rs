//! [`Engine`]: a configured run — its detectors and sinks — and [`Engine::run`].

use crate::config::{AppSettings, EngineConfig};
use crate::detector::Detector;
use crate::detectors::{FlowDetector, Ioc, Kitsune, ModelTrust, Rules};
use crate::error::EngineError;
use crate::evidence::{EvidenceSink, LiveEvidence};
use crate::outdir::OutputDir;
use crate::pseudonymized::Staging;
use crate::sinks::{builtin_files, builtin_sinks, DetectorOutputs};
use crate::source::{
    read_all, sample_checksums, Opened, PacketSink, ProgressFn, ReadReport, Source,
};
use crate::stages::host::{HostStage, HostSummary};
use crate::stages::inline::Inline;
use crate::stages::output::OutputStage;
use crate::stages::packet::PacketStage;
use crate::stages::threaded::Threaded;
use crate::AlertQueue;
use custos_app::credentials::DefaultCredentials;
use custos_app::AppConfig;
use custos_decode::{ChecksumPolicy, ChecksumSetting};
use custos_inventory::findings::Findings;
use custos_inventory::inventory::oui::{OuiRegistry, DEFAULT_DIR};
use custos_inventory::inventory::{Inventory, InventoryConfig};
use custos_output::{RunEnd, RunInfo, Sink, Stats};
use serde_json::json;
use sha2::Digest;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// What a run did.
#[derive(Debug)]
pub struct RunSummary {
    /// Everything `stats.json` holds.
    pub stats: Stats,
    /// An input was damaged part-way: the results cover what came before the damage.
    pub partial: bool,
    /// Warnings for the user (damaged or altered input, detectors' warnings), in order.
    pub warnings: Vec<String>,
    /// Per detector that trained on the run and whose learning window holds attacks custos
    /// found (findings, other detectors' alerts): what was found; the warning is also in
    /// `warnings` (after the detector's own) and in its `stats.json` summary.
    pub learned_from_attacks: Vec<crate::LearnedFromAttacks>,
    /// What pseudonymising the outputs did (`[output] pseudonymize`), when asked for.
    pub pseudonymized: Option<custos_privacy::OutputsReport>,
}

/// A run of custos: configuration, detectors and sinks.
///
/// ```no_run
/// use custos_engine::{Engine, EngineConfig, Source};
/// let mut config = EngineConfig::default();
/// config.output.dir = Some("out".into());
/// let mut engine = Engine::new(config)?;
/// let summary = engine.run(Source::Files(vec!["capture.pcap".into()]))?;
/// println!("{} packets", summary.stats.packets);
/// # Ok::<(), custos_engine::EngineError>(())
/// ```
pub struct Engine {
    config: EngineConfig,
    detectors: Vec<Box<dyn Detector>>,
    sinks: Vec<Box<dyn Sink>>,
    progress: Option<ProgressFn>,
    /// The output directory of the run under way.
    out_dir: Option<OutputDir>,
}

impl Engine {
    /// An engine for `config` (validated here, once), with the built-in detectors it names.
    ///
    /// # Errors
    /// An invalid configuration, or a model that cannot be used.
    pub fn new(config: EngineConfig) -> Result<Engine, EngineError> {
        config.validate()?;
        let mut detectors: Vec<Box<dyn Detector>> = Vec::new();
        for name in config.detector_order() {
            let trust = || ModelTrust::from_settings(&config.detect);
            match name {
                "kitsune" => {
                    let k = &config.detect.kitsune;
                    let cfg = k.detector_config()?;
                    detectors.push(Box::new(match &k.model {
                        Some(path) => Kitsune::with_model(cfg, path, &trust()?)?,
                        None => Kitsune::new(cfg),
                    }));
                }
                _ => {
                    if let Some(path) = &config.detect.flow.model {
                        let zeek = config.flow.flow_config().zeek;
                        detectors.push(Box::new(FlowDetector::with_model(path, &trust()?, zeek)?));
                    }
                }
            }
        }
        if !config.detect.rules.files.is_empty() {
            let r = &config.detect.rules;
            detectors.push(Box::new(Rules::load(&r.files, r.vars.as_deref())?));
        }
        if !config.detect.ioc.files.is_empty() {
            detectors.push(Box::new(Ioc::load(&config.detect.ioc.files)?));
        }
        Ok(Engine {
            config,
            detectors,
            sinks: Vec::new(),
            progress: None,
            out_dir: None,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Adds a detector; it runs after those added before it.
    pub fn add_detector(&mut self, detector: Box<dyn Detector>) {
        self.detectors.push(detector);
    }

    /// Adds a sink; it receives every record after the built-in file sinks.
    pub fn add_sink(&mut self, sink: Box<dyn Sink>) {
        self.sinks.push(sink);
    }

    /// Calls `f` every 65 536 packets.
    pub fn on_progress(&mut self, f: ProgressFn) {
        self.progress = Some(f);
    }

    /// The detectors (after a run: trained, for `save_model`).
    pub fn detectors_mut(&mut self) -> &mut Vec<Box<dyn Detector>> {
        &mut self.detectors
    }

    /// Runs every packet of `source` through the stages and sinks. Sinks added with
    /// [`Engine::add_sink`] are used by this run and then dropped.
    ///
    /// # Errors
    /// Inputs that cannot be opened, outputs that cannot be written, a detector's failure.
    /// Damage inside an input is not an error: see [`RunSummary::partial`].
    pub fn run(&mut self, source: Source) -> Result<RunSummary, EngineError> {
        let staging = Staging::prepare(&mut self.config.output)?;
        let mut result = self.run_in_dir(source);
        if let Some(staging) = staging {
            self.config.output.dir = Some(staging.dir().to_path_buf());
            let published = staging.finish(result.is_ok());
            if let Ok(summary) = result.as_mut() {
                summary.pseudonymized = published?;
            }
        }
        result
    }

    /// [`Engine::run`] into the configured output directory as it is.
    fn run_in_dir(&mut self, source: Source) -> Result<RunSummary, EngineError> {
        let mut result = self.run_stages(source);
        if let Ok(summary) = result.as_mut() {
            for d in &self.detectors {
                if let Some(why) = d.warning() {
                    summary.warnings.push(format!("{}: {why}", d.name()));
                }
                for l in &summary.learned_from_attacks {
                    if l.detector == d.name() {
                        summary
                            .warnings
                            .push(format!("{}: {}", l.detector, l.warning));
                    }
                }
            }
        }
        if let Some(dir) = self.out_dir.take() {
            match &result {
                Ok(_) => dir.complete()?,
                Err(_) => dir.abandon(),
            }
        }
        result
    }

    /// [`Engine::run`] without the output directory's manifest and clean-up.
    fn run_stages(&mut self, source: Source) -> Result<RunSummary, EngineError> {
        source.validate()?;
        let cfg = self.config.clone();
        if let (Some(_), Source::Files(f)) = (&cfg.evidence, &source) {
            if f.iter().any(|p| p.as_os_str() == "-") {
                return Err(EngineError::Config("--evidence needs capture files (standard input cannot be read back for excerpts)".into()));
            }
        }
        let mut opened = Opened::open(&source, cfg.max_packets, cfg.live.buffer_bytes)?;
        let names = source.names();
        let output = OutputStage::new(self.sinks_for(&cfg, &source)?);
        let policy = checksum_policy(&source, &cfg);
        let (app, inventory, findings) = app_parts(&cfg.app)?;
        let mut packet = PacketStage::new(
            cfg.decode.checksums.into(),
            policy,
            cfg.flow.flow_config(),
            app,
        );
        if self.detectors.iter().any(|d| d.reads_app_proto()) {
            packet.tell_app_proto();
        }
        let live = match (&cfg.evidence, &source) {
            (Some(ev), Source::Interface { .. }) => Some(LiveEvidence::new(ev.clone())?),
            _ => None,
        };
        let (host, info) = self.host_stage(&cfg, &names, (inventory, findings), live);
        let hashing = match (&cfg.output.dir, &source) {
            (Some(_), Source::Files(paths)) => Some(hash_inputs(paths.clone())),
            _ => None,
        };
        let total = opened.total_bytes(&source);
        let started = Instant::now();
        let mut progress = self.progress.take();
        let reading = Reading {
            opened: &mut opened,
            names: &names,
            progress: &mut progress,
            total,
            hashing,
            started,
        };
        let stages = (packet, host, output, info);
        let (stats, report, learned_from_attacks) = if cfg.threads <= 1 {
            self.run_inline(&cfg, stages, reading)?
        } else {
            self.run_threaded(&cfg, stages, reading)?
        };
        self.progress = progress;
        Ok(RunSummary {
            stats,
            partial: report.partial,
            warnings: report.warnings,
            learned_from_attacks,
            pseudonymized: None,
        })
    }

    /// The host stage over the engine's detectors (taken until the run ends) and the run's
    /// description for the sinks.
    fn host_stage(
        &mut self,
        cfg: &EngineConfig,
        names: &[String],
        (inventory, findings): (Inventory, Findings),
        live: Option<LiveEvidence>,
    ) -> (HostStage, RunInfo) {
        let detectors = std::mem::take(&mut self.detectors);
        let info = RunInfo {
            files: names.to_vec(),
            first_ts: None,
            score_columns: score_columns(&detectors),
        };
        let mut alerts = AlertQueue::new(
            names.to_vec(),
            detectors.len(),
            cfg.output.alert_every_packet,
        );
        for (i, d) in detectors.iter().enumerate() {
            alerts.set_model_signature(i, d.model_signature());
        }
        (
            HostStage::new(inventory, findings, detectors, alerts, live),
            info,
        )
    }

    /// Runs the stages on this thread; gives the detectors back to the engine. Returns the
    /// statistics, the read report and the learning-window warnings (`HostSummary`).
    fn run_inline(
        &mut self,
        cfg: &EngineConfig,
        (packet, host, output, info): (PacketStage, HostStage, OutputStage, RunInfo),
        reading: Reading<'_>,
    ) -> Result<Finished, EngineError> {
        let mut inline = Inline::new(packet, host, output, info);
        let (report, elapsed) = reading.read(cfg.max_packets, &mut inline)?;
        let mut done = inline.finish()?;
        self.detectors = std::mem::take(&mut done.detectors);
        let mut stats = build_stats(&done.packet, &done.summary, &report, elapsed, cfg.threads);
        let end = RunEnd {
            last_ts: done.packet.last_ts,
        };
        done.output.finish(&done.info, &end, &mut stats)?;
        Ok((stats, report, done.summary.learned_from_attacks))
    }

    /// Runs the host and output stages on threads of their own; gives the detectors back
    /// to the engine. Returns as [`Engine::run_inline`].
    fn run_threaded(
        &mut self,
        cfg: &EngineConfig,
        (packet, host, output, info): (PacketStage, HostStage, OutputStage, RunInfo),
        reading: Reading<'_>,
    ) -> Result<Finished, EngineError> {
        let mut threaded = Threaded::start(packet, host, output, info)?;
        let (report, elapsed) = reading.read(cfg.max_packets, &mut threaded)?;
        let end = RunEnd {
            last_ts: threaded.packet.last_ts,
        };
        let mut learned = Vec::new();
        let (stats, detectors) = threaded.finish(end, |packet, summary, _| {
            learned.clone_from(&summary.learned_from_attacks);
            build_stats(packet, summary, &report, elapsed, cfg.threads)
        })?;
        self.detectors = detectors;
        Ok((*stats, report, learned))
    }

    /// The built-in file sinks the configuration asks for, evidence, then the added sinks.
    fn sinks_for(
        &mut self,
        cfg: &EngineConfig,
        source: &Source,
    ) -> Result<Vec<Box<dyn Sink>>, EngineError> {
        let mut sinks = Vec::new();
        if let Some(dir) = &cfg.output.dir {
            let detectors = DetectorOutputs {
                scores: self.detectors.iter().any(|d| d.scores_packets()),
                alerts: self.detectors.iter().any(|d| d.raises_alerts()),
            };
            let files = builtin_files(&cfg.output, detectors)
                .into_iter()
                .map(|(name, c)| c.file_name(name))
                .collect();
            let prepared = OutputDir::prepare(dir, files, cfg.output.overwrite)?;
            self.out_dir = Some(prepared);
            sinks = builtin_sinks(&cfg.output, dir, detectors)?;
        }
        if let (Some(ev), Source::Files(paths)) = (&cfg.evidence, source) {
            let alerts_dir = cfg
                .output
                .dir
                .clone()
                .filter(|_| cfg.output.wants("alerts.jsonl"))
                .map(|d| (d, cfg.output.compress));
            sinks.push(Box::new(EvidenceSink::new(
                ev.clone(),
                paths.clone(),
                alerts_dir,
            )?));
        }
        sinks.append(&mut self.sinks);
        Ok(sinks)
    }
}

/// What the stages give back at the end of a run: the statistics, the read report, and what
/// was found in the detectors' learning windows.
type Finished = (Stats, ReadReport, Vec<crate::LearnedFromAttacks>);

/// What a run reads its packets from, and what it keeps while reading.
struct Reading<'a> {
    /// The opened inputs.
    opened: &'a mut Opened,
    /// Their names.
    names: &'a [String],
    /// The progress callback.
    progress: &'a mut Option<ProgressFn>,
    /// Total input bytes, when known.
    total: Option<u64>,
    /// The input files' hashes, being computed.
    hashing: Option<std::thread::JoinHandle<Vec<Option<String>>>>,
    /// When the run started.
    started: Instant,
}

impl Reading<'_> {
    /// Reads every packet into `sink`; returns the read report (with the input hashes) and
    /// the seconds since the run started.
    fn read(
        self,
        max_packets: Option<u64>,
        sink: &mut dyn PacketSink,
    ) -> Result<(ReadReport, f64), EngineError> {
        let mut report = read_all(
            self.opened,
            self.names,
            max_packets,
            sink,
            self.progress,
            self.total,
        )?;
        add_hashes(&mut report, self.hashing);
        Ok((report, self.started.elapsed().as_secs_f64()))
    }
}

/// How the run checks checksums: as configured, or, for `auto` on capture files, as a
/// sample of their packets decides.
fn checksum_policy(source: &Source, cfg: &EngineConfig) -> ChecksumPolicy {
    match (source, ChecksumSetting::from(cfg.decode.checksums)) {
        (Source::Files(paths), ChecksumSetting::Auto) => match sample_checksums(paths) {
            Some(offloaded) => ChecksumPolicy::auto_decided(offloaded),
            None => ChecksumPolicy::new(ChecksumSetting::Auto),
        },
        (_, setting) => ChecksumPolicy::new(setting),
    }
}

/// The application tracker's configuration, the inventory and the findings, from settings.
fn app_parts(settings: &AppSettings) -> Result<(AppConfig, Inventory, Findings), EngineError> {
    let mut credentials = (*DefaultCredentials::builtin()).clone();
    if let Some(path) = &settings.default_credentials {
        let text = std::fs::read_to_string(path)
            .map_err(|e| EngineError::io(format!("cannot read {}", path.display()), e))?;
        let extra = DefaultCredentials::parse(&text).map_err(|e| {
            EngineError::Config(format!("{}: invalid credential list: {e}", path.display()))
        })?;
        credentials.extend(&extra);
    }
    let oui = match &settings.oui_dir {
        Some(d) => OuiRegistry::load_dir(d).map_err(|e| {
            EngineError::Config(format!(
                "cannot read the OUI registry in {}: {e}",
                d.display()
            ))
        })?,
        // Without an explicit directory a missing registry only leaves vendors empty.
        None => OuiRegistry::load_dir(Path::new(DEFAULT_DIR)).unwrap_or_default(),
    };
    let app = AppConfig {
        credentials: std::sync::Arc::new(credentials),
        behaviour: settings.findings.behaviour(),
        ..AppConfig::default()
    };
    Ok((
        app,
        Inventory::new(InventoryConfig::default(), oui),
        Findings::new(settings.findings.clone()),
    ))
}

/// Hashes the input files on a thread of its own (beside the run, so it costs no wall time
/// where a core is free): SHA-256 of each, `None` for standard input or an unreadable file.
fn hash_inputs(paths: Vec<PathBuf>) -> std::thread::JoinHandle<Vec<Option<String>>> {
    std::thread::spawn(move || {
        paths
            .iter()
            .map(|p| {
                if p.as_os_str() == "-" {
                    return None;
                }
                let mut f = std::fs::File::open(p).ok()?;
                let mut h = sha2::Sha256::new();
                std::io::copy(&mut f, &mut h).ok()?;
                Some(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
            })
            .collect()
    })
}

/// Puts the input hashes into the read report's file statistics.
fn add_hashes(
    report: &mut ReadReport,
    hashing: Option<std::thread::JoinHandle<Vec<Option<String>>>>,
) {
    let Some(hashes) = hashing.and_then(|h| h.join().ok()) else {
        return;
    };
    for (f, h) in report.files.iter_mut().zip(hashes) {
        f.sha256 = h;
    }
}

/// `stats.json` from what the stages counted.
fn build_stats(
    packet: &PacketStage,
    host: &HostSummary,
    report: &ReadReport,
    elapsed: f64,
    threads: usize,
) -> Stats {
    let mut stats = Stats::default();
    let a = packet.fill_stats(&mut stats);
    stats.files.clone_from(&report.files);
    stats.live.clone_from(&report.live);
    stats.app = Some(custos_output::AppSummary {
        connections: a.connections,
        recognised: a.recognised,
        events: a.events,
        evicted: a.evicted,
        missed_bytes: a.missed_bytes,
        devices: host.devices,
        findings: host.findings,
        findings_not_kept: host.findings_dropped,
    });
    if let Some((_, r)) = host.detectors.iter().find(|(name, _)| name == "rules") {
        let keep = ["loaded", "skipped", "skipped_by_keyword", "errors"];
        stats.rules = Some(serde_json::Value::Object(
            keep.iter()
                .filter_map(|k| r.get(*k).map(|v| ((*k).to_owned(), v.clone())))
                .collect(),
        ));
    }
    match host.detectors.as_slice() {
        [] => {}
        [(_, one)] => stats.detector = Some(one.clone()),
        many => {
            for (name, s) in many {
                stats.detectors.insert(name.clone(), s.clone());
            }
        }
    }
    if let Some(l) = &host.live_evidence {
        stats.outputs.insert(
            "evidence".into(),
            json!({"leaves_appended": l.leaves, "log_size": l.log_size, "opened": l.opened}),
        );
    }
    stats.run.wall_seconds = elapsed;
    stats.run.packets_per_second = if elapsed > 0.0 {
        packet.packets as f64 / elapsed
    } else {
        0.0
    };
    stats.run.peak_rss_bytes = peak_rss_bytes();
    stats.run.threads = threads;
    stats
}

/// Peak resident set size of this process (`VmHWM` in `/proc/self/status`), if available.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The score columns of `scores.csv`: one per scoring detector (at most
/// `MAX_SCORE_COLUMNS` − 1), then `combined` when there are several.
fn score_columns(detectors: &[Box<dyn Detector>]) -> Vec<String> {
    let mut c: Vec<String> = detectors
        .iter()
        .filter(|d| d.scores_packets())
        .map(|d| d.name().to_string())
        .take(custos_output::MAX_SCORE_COLUMNS - 1)
        .collect();
    if c.len() >= 2 {
        c.push("combined".into());
    }
    c
}
