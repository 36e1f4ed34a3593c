//! `custos analyze`: captures or a live interface in, the output files of the engine out.

use crate::cli::AnalyzeArgs;
use crate::Outcome;
use anyhow::Context;
use custos_engine::{Engine, EngineConfig, Progress, Source};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Runs `analyze`.
///
/// # Errors
/// Inputs that cannot be opened, outputs that cannot be written, invalid settings.
pub fn run(args: AnalyzeArgs) -> anyhow::Result<Outcome> {
    let cfg = EngineConfig::from_flags(&args.run, &args.analysis)?;
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
    let evidence = args.analysis.evidence.as_deref();
    let live = args.interface.is_some();
    for line in summary.report_lines(cfg_dir.as_deref(), live, evidence) {
        eprintln!("custos: {line}");
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
