//! `custos analyze`: captures or a live interface in, conn.log / flows.jsonl / stats.json out.

use crate::cli::AnalyzeArgs;
use crate::detection::Detection;
use crate::pipeline::{checksum_setting, sample_checksums, Pipeline};
use crate::Outcome;
use anyhow::{bail, Context};
use custos_capture::{CaptureError, FileReader, LiveCapture, LiveOptions, PacketSource};
use custos_decode::{ChecksumPolicy, ChecksumSetting};
use custos_flow::zeek::ZeekConfig;
use custos_flow::{FlowConfig, FlowSink, PacketMeta};
use custos_output::{ConnLogWriter, EveFlowWriter, FileStats, Stats, Tee};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// Where packets come from.
#[derive(Debug, Clone)]
pub enum Input {
    /// Capture files, read as one stream in this order.
    Files(Vec<PathBuf>),
    /// A live interface.
    Interface(String),
}

/// A validated `analyze` configuration.
#[derive(Debug, Clone)]
pub struct AnalyzeConfig {
    /// Packet source.
    pub input: Input,
    /// Output directory.
    pub output: PathBuf,
    /// Checksum verification.
    pub checksums: ChecksumSetting,
    /// Flow table settings.
    pub flow: FlowConfig,
    /// Stop after this many packets.
    pub max_packets: Option<u64>,
    /// Show a progress bar (only drawn when stderr is a terminal).
    pub progress: bool,
    /// Detector settings, when a detector runs.
    pub detector: Option<custos_detect::DetectorConfig>,
    /// A trained model to score with.
    pub model: Option<PathBuf>,
    /// One alert per packet instead of per flow and second.
    pub alert_every_packet: bool,
    /// Evidence logging of alerts.
    pub evidence: Option<crate::evidence::EvidenceConfig>,
    /// Application layer settings (findings thresholds, credential list, OUI registry).
    pub app: crate::app_events::AppSettings,
}

impl TryFrom<AnalyzeArgs> for AnalyzeConfig {
    type Error = anyhow::Error;

    fn try_from(a: AnalyzeArgs) -> anyhow::Result<Self> {
        if a.max_flows == 0 {
            bail!("--max-flows must be at least 1");
        }
        if a.max_flows > u32::MAX as usize / 2 {
            bail!(
                "--max-flows {} is too large (at most {})",
                a.max_flows,
                u32::MAX / 2
            );
        }
        let input = match a.interface {
            Some(i) => Input::Interface(i),
            None => {
                if a.captures.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
                    bail!("standard input (-) can be read only once");
                }
                if a.captures.len() > usize::from(u16::MAX) {
                    bail!("at most {} captures per run", u16::MAX);
                }
                Input::Files(a.captures)
            }
        };
        if a.evidence.is_some() {
            match &input {
                Input::Files(f) if f.iter().any(|p| p.as_os_str() == "-") => bail!("--evidence needs capture files (standard input cannot be read back for excerpts)"),
                _ => {}
            }
        }
        let zeek = if a.zeek_bare {
            ZeekConfig::bare()
        } else {
            ZeekConfig::default()
        };
        Ok(AnalyzeConfig {
            input,
            output: a.output,
            checksums: checksum_setting(a.checksums),
            flow: FlowConfig {
                max_flows: a.max_flows,
                zeek,
                ..FlowConfig::default()
            },
            max_packets: a.max_packets,
            progress: !a.quiet,
            detector: if a.detect.detector.is_some() || a.model.is_some() {
                Some(crate::detection::detector_config(&a.detect)?)
            } else {
                None
            },
            evidence: match (a.evidence, a.key) {
                (Some(dir), Some(key)) => {
                    if a.detect.detector.is_none() && a.model.is_none() {
                        bail!("--evidence logs alerts: choose a detector (--detector kitsune or --model)");
                    }
                    Some(crate::evidence::EvidenceConfig {
                        dir,
                        key,
                        sensor: a.sensor.clone(),
                    })
                }
                _ => None,
            },
            model: a.model,
            alert_every_packet: a.alert_every_packet,
            app: {
                let mut app = match &a.app_config {
                    Some(p) => crate::app_events::AppSettings::load(p)?,
                    None => crate::app_events::AppSettings::default(),
                };
                if a.oui_dir.is_some() {
                    app.oui_dir = a.oui_dir;
                }
                app
            },
        })
    }
}

struct Writers {
    conn: ConnLogWriter<BufWriter<File>>,
    eve: EveFlowWriter<BufWriter<File>>,
    header_done: bool,
}

impl FlowSink for Writers {
    fn app_proto(&mut self, proto: Option<&'static str>) {
        self.conn.app_proto(proto);
        self.eve.app_proto(proto);
    }

    fn flow_ended(
        &mut self,
        flow: &custos_flow::Flow,
        summary: &custos_flow::ConnSummary,
        reason: custos_flow::EndReason,
    ) -> std::io::Result<()> {
        Tee {
            a: &mut self.conn,
            b: &mut self.eve,
        }
        .flow_ended(flow, summary, reason)
    }
}

fn create(dir: &std::path::Path, name: &str) -> anyhow::Result<BufWriter<File>> {
    let path = dir.join(name);
    let f = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 16, f))
}

fn progress_bar(enabled: bool, total_bytes: Option<u64>) -> ProgressBar {
    if !enabled || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = match total_bytes {
        Some(n) => ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
        None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
    };
    let style = if total_bytes.is_some() {
        ProgressStyle::with_template(
            "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
        )
    } else {
        ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
    };
    if let Ok(s) = style {
        pb.set_style(s);
    }
    pb
}

/// Runs `analyze`.
///
/// # Errors
/// Inputs that cannot be opened, outputs that cannot be written.
pub fn run(cfg: AnalyzeConfig) -> anyhow::Result<Outcome> {
    std::fs::create_dir_all(&cfg.output)
        .with_context(|| format!("cannot create output directory {}", cfg.output.display()))?;
    let names: Vec<String> = match &cfg.input {
        Input::Files(f) => f.iter().map(|p| p.display().to_string()).collect(),
        Input::Interface(i) => vec![i.clone()],
    };
    // Open every input first, so a typo fails before any work is done.
    let mut readers = Vec::new();
    if let Input::Files(paths) = &cfg.input {
        for p in paths {
            readers.push(
                FileReader::open(p)
                    .with_context(|| format!("cannot read capture {}", p.display()))?,
            );
        }
    }
    let mut writers = Writers {
        conn: ConnLogWriter::new(create(&cfg.output, "conn.log")?, names.clone()),
        eve: EveFlowWriter::new(create(&cfg.output, "flows.jsonl")?, names.clone()),
        header_done: false,
    };
    let policy = match (&cfg.input, cfg.checksums) {
        (Input::Files(paths), ChecksumSetting::Auto) => match sample_checksums(paths) {
            Some(offloaded) => ChecksumPolicy::auto_decided(offloaded),
            None => ChecksumPolicy::new(ChecksumSetting::Auto),
        },
        (_, setting) => ChecksumPolicy::new(setting),
    };
    let mut pipe = Pipeline::with_policy(cfg.checksums, policy, cfg.flow.clone());
    if let Some(dcfg) = cfg.detector {
        let mut d = Detection::new(
            dcfg,
            cfg.model.as_deref(),
            Some(&cfg.output),
            names.clone(),
            cfg.alert_every_packet,
        )?;
        if let Some(ev) = &cfg.evidence {
            // Fail early on a bad key, before the run.
            crate::evidence::load_signer(&ev.key)?;
            d.pending = Some(Vec::new());
        }
        pipe.detection = Some(d);
    }
    pipe.app = Some(crate::app_events::AppStage::new(
        &cfg.output,
        names.clone(),
        &cfg.app,
    )?);
    let mut stats = Stats::default();
    let mut partial = false;
    let mut live_evidence: Option<crate::evidence::LiveEvidence> = None;
    let started = Instant::now();

    match &cfg.input {
        Input::Files(paths) => {
            let total: Option<u64> = paths
                .iter()
                .zip(&readers)
                .map(|(p, r)| {
                    if r.is_memory_mapped() {
                        std::fs::metadata(p).ok().map(|m| m.len())
                    } else {
                        None
                    }
                })
                .sum();
            let pb = progress_bar(cfg.progress, total);
            let mut done_bytes = 0u64;
            for (file_idx, (reader, name)) in readers.iter_mut().zip(&names).enumerate() {
                let mut fs = FileStats {
                    path: name.clone(),
                    format: format!("{:?}", reader.format()),
                    ..FileStats::default()
                };
                let err = consume(
                    reader,
                    file_idx as u16,
                    &mut pipe,
                    &mut writers,
                    &mut fs,
                    cfg.max_packets,
                    &pb,
                    done_bytes,
                    None,
                )?;
                done_bytes += reader.position();
                for w in reader.take_warnings() {
                    eprintln!("custos: warning: {name}: {w}");
                    fs.warnings.push(w);
                }
                if let Some(e) = err {
                    eprintln!(
                        "custos: warning: {e}; the results cover the {} packets before it",
                        fs.packets
                    );
                    fs.error = Some(e.to_string());
                    partial = true;
                }
                stats.files.push(fs);
                if cfg.max_packets.is_some_and(|m| pipe.packets >= m) {
                    break;
                }
            }
            pb.finish_and_clear();
        }
        Input::Interface(iface) => {
            let stop = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&stop);
            ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
                .context("cannot install the Ctrl-C handler")?;
            let mut opts = LiveOptions::with_stop(stop);
            opts.max_packets = cfg.max_packets;
            let mut live = LiveCapture::open_with(iface, opts)
                .with_context(|| format!("cannot capture on {iface}"))?;
            let pb = progress_bar(cfg.progress, None);
            let mut fs = FileStats {
                path: iface.clone(),
                format: "live".into(),
                ..FileStats::default()
            };
            live_evidence = match &cfg.evidence {
                Some(ev) => Some(crate::evidence::LiveEvidence::new(ev.clone())?),
                None => None,
            };
            if let Some(e) = consume(
                &mut live,
                0,
                &mut pipe,
                &mut writers,
                &mut fs,
                cfg.max_packets,
                &pb,
                0,
                live_evidence.as_mut(),
            )? {
                fs.error = Some(e.to_string());
                partial = true;
            }
            stats.files.push(fs);
            pb.finish_and_clear();
        }
    }

    let elapsed = started.elapsed().as_secs_f64();
    if !writers.header_done {
        writers.conn.write_header(pipe.first_ts.unwrap_or(0))?;
    }
    if let Some(a) = pipe.app.as_mut() {
        a.end_connections()?;
    }
    pipe.finish(&mut writers)?;
    writers.conn.finish(pipe.last_ts)?;
    writers.eve.finish()?;
    pipe.fill_stats(&mut stats);
    if let Some(a) = pipe.app.take() {
        stats.app = Some(a.finish()?);
    }
    if let Some(d) = pipe.detection.as_mut() {
        d.finish()?;
        let mut summary = d.summary();
        if let (Some(ev), Some(live)) = (&cfg.evidence, live_evidence.as_mut()) {
            let (leaves, size) = live.finish()?;
            summary["evidence"] = serde_json::json!({"log": ev.dir.display().to_string(), "leaves_appended": leaves, "log_size": size});
            eprintln!("custos: logged {leaves} leaves (spooled captures and alerts) in {} (log size {size}, checkpoint signed)", ev.dir.display());
        } else if let (Some(ev), Some(pending), Input::Files(paths)) =
            (&cfg.evidence, d.pending.as_ref(), &cfg.input)
        {
            let logged = crate::evidence::log_alerts(ev, paths, pending)?;
            crate::evidence::name_leaves(&cfg.output.join("alerts.jsonl"), &logged.leaf_of)?;
            let (leaves, size) = (logged.leaves, logged.size);
            summary["evidence"] = serde_json::json!({"log": ev.dir.display().to_string(), "leaves_appended": leaves, "log_size": size});
            eprintln!("custos: logged {leaves} alerts as evidence in {} (log size {size}, checkpoint signed)", ev.dir.display());
        }
        stats.detector = Some(summary);
    }
    stats.run.wall_seconds = elapsed;
    stats.run.packets_per_second = if elapsed > 0.0 {
        pipe.packets as f64 / elapsed
    } else {
        0.0
    };
    stats.run.peak_rss_bytes = peak_rss_bytes();
    let mut out = create(&cfg.output, "stats.json")?;
    serde_json::to_writer_pretty(&mut out, &stats)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(if partial {
        Outcome::Partial
    } else {
        Outcome::Success
    })
}

/// Reads `source` to its end (or the packet limit) through the pipeline. Returns the capture
/// error that stopped it early, if any.
#[allow(clippy::too_many_arguments)]
fn consume(
    source: &mut dyn PacketSource,
    file: u16,
    pipe: &mut Pipeline,
    writers: &mut Writers,
    fs: &mut FileStats,
    max_packets: Option<u64>,
    pb: &ProgressBar,
    bytes_before: u64,
    mut live_evidence: Option<&mut crate::evidence::LiveEvidence>,
) -> anyhow::Result<Option<CaptureError>> {
    loop {
        if max_packets.is_some_and(|m| pipe.packets >= m) {
            return Ok(None);
        }
        let p = match source.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => return Ok(None),
            Err(e) => return Ok(Some(e)),
        };
        if !writers.header_done {
            writers.conn.write_header(p.ts)?;
            writers.header_done = true;
        }
        let meta = PacketMeta {
            ts: p.ts,
            frame_len: p.orig_len.max(p.data.len() as u32),
            index: p.index,
            file,
        };
        fs.packets += 1;
        fs.bytes += p.data.len() as u64;
        pipe.packet(p.linktype.0, &meta, p.data, writers)?;
        if let Some(live) = live_evidence.as_deref_mut() {
            live.packet(p.index, p.ts, p.orig_len, p.linktype.0, p.data)?;
            let new = pipe
                .detection
                .as_mut()
                .and_then(|d| d.pending.as_mut())
                .map(std::mem::take)
                .unwrap_or_default();
            if !new.is_empty() {
                live.alerts(&new)?;
            }
        }
        if fs.packets % 65_536 == 0 {
            pb.set_position(bytes_before + p.offset);
            pb.set_message(format!(
                "{} packets, {} flows",
                pipe.packets,
                pipe.flows_held()
            ));
        }
    }
}

/// Peak resident set size of this process (`VmHWM` in `/proc/self/status`), if available.
fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
