//! `custos analyze`: captures or a live interface in, the output files of the engine out.

use crate::cli::AnalyzeArgs;
use crate::Outcome;
use anyhow::Context;
use custos_engine::{Engine, Progress, Source};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Runs `analyze`.
///
/// # Errors
/// Inputs that cannot be opened, outputs that cannot be written, invalid settings.
pub fn run(args: AnalyzeArgs) -> anyhow::Result<Outcome> {
    let cfg = crate::config::analyze_config(&args)?;
    let cfg_dir = cfg.output.dir.clone();
    let source = match &args.interface {
        Some(name) => {
            let stop = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&stop);
            ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst))
                .context("cannot install the Ctrl-C handler")?;
            Source::Interface {
                name: name.clone(),
                stop,
            }
        }
        None => Source::Files(args.captures.clone()),
    };
    let mut engine = Engine::new(cfg)?;
    let bar = progress_bar(!args.quiet, &source);
    if let Some(pb) = bar.clone() {
        engine.on_progress(Box::new(move |p: &Progress| {
            if let Some(total) = p.total_bytes {
                pb.set_length(total);
            }
            pb.set_position(p.bytes);
            pb.set_message(format!("{} packets, {} flows", p.packets, p.flows));
        }));
    }
    let summary = engine.run(source);
    if let Some(pb) = bar {
        pb.finish_and_clear();
    }
    let summary = summary?;
    if let (Some(r), Some(dir)) = (&summary.pseudonymized, cfg_dir.as_deref()) {
        report_pseudonymized(r, dir);
    }
    for w in &summary.warnings {
        eprintln!("custos: warning: {w}");
    }
    if let Some(l) = &summary.stats.live {
        eprintln!(
            "custos: live capture: {} frames read; the kernel saw {} and dropped {} (buffer {} bytes)",
            summary.stats.packets, l.kernel_seen, l.kernel_dropped, l.buffer_bytes
        );
    }
    if let Some(ev) = summary.stats.outputs.get("evidence") {
        if let Some(opened) = ev["opened"].as_str() {
            eprintln!("custos: {opened}");
        }
        let what = if args.interface.is_some() {
            "leaves (spooled captures and alerts)"
        } else {
            "alerts as evidence"
        };
        let dir = ev["log"].as_str().map_or_else(
            || {
                args.evidence
                    .as_ref()
                    .map(|d| d.display().to_string())
                    .unwrap_or_default()
            },
            str::to_string,
        );
        eprintln!(
            "custos: logged {} {what} in {dir} (log size {}, checkpoint signed)",
            ev["leaves_appended"], ev["log_size"]
        );
    }
    let show = args.summary || (!args.quiet && std::io::stdout().is_terminal());
    if let (true, Some(dir)) = (show, cfg_dir.as_deref()) {
        crate::summary::print(dir, custos_output::summary::Format::Text)?;
    }
    Ok(if summary.partial {
        Outcome::Partial
    } else {
        Outcome::Success
    })
}

/// Says what pseudonymising the outputs did.
fn report_pseudonymized(r: &custos_privacy::OutputsReport, dir: &std::path::Path) {
    let lines: u64 = r.files.iter().map(|(_, n)| n).sum();
    eprintln!(
        "custos: wrote {} pseudonymised files ({lines} lines) to {}: {} addresses, {} MACs, \
         {} names and flow IDs replaced, {} values dropped",
        r.files.len(),
        dir.display(),
        r.addresses,
        r.macs,
        r.names,
        r.dropped
    );
    for name in &r.skipped_files {
        eprintln!(
            "custos: warning: {name} not pseudonymised, left out of {}",
            dir.display()
        );
    }
}

fn progress_bar(enabled: bool, source: &Source) -> Option<ProgressBar> {
    if !enabled || !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    let template = match source {
        Source::Files(_) => "{spinner} [{elapsed_precise}] {wide_bar} {bytes}/{total_bytes} {msg}",
        Source::Interface { .. } => "{spinner} [{elapsed_precise}] {msg}",
    };
    if let Ok(s) = ProgressStyle::with_template(template) {
        pb.set_style(s);
    }
    Some(pb)
}
