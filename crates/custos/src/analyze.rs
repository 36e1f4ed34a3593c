//! `custos analyze`: captures or a live interface in, the output files of the engine out.

use crate::cli::AnalyzeArgs;
use crate::Outcome;
use anyhow::{bail, Context};
use custos_engine::{Engine, Progress, Source};
use custos_privacy::{Policy, PseudonymKey, Pseudonymizer};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Runs `analyze`.
///
/// # Errors
/// Inputs that cannot be opened, outputs that cannot be written, invalid settings.
pub fn run(args: AnalyzeArgs) -> anyhow::Result<Outcome> {
    let mut cfg = crate::config::analyze_config(&args)?;
    let cfg_dir = cfg.output.dir.clone();
    // --pseudonymize: key and policy are checked before the run; the engine writes into a
    // private staging folder inside DIR, and only pseudonymised copies land in DIR.
    let mut pseudonymize = match (&args.pseudonymize, cfg_dir.as_deref()) {
        (Some(key), Some(dir)) => {
            let p = pseudonymizer(key, args.pseudonym_policy.as_deref())?;
            let staging = prepare_staging(dir, args.force)?;
            cfg.output.dir = Some(staging.clone());
            Some((p, staging))
        }
        _ => None,
    };
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
    if let (Some((p, staging)), Some(dir)) = (pseudonymize.as_mut(), cfg_dir.as_deref()) {
        let written = match &summary {
            Ok(_) => publish_pseudonymised(staging, dir, p),
            Err(_) => Ok(()),
        };
        // Not a secure erase: docs/privacy.md says so.
        let removed = std::fs::remove_dir_all(&*staging);
        written?;
        if summary.is_ok() {
            removed.with_context(|| format!("cannot remove {}", staging.display()))?;
        }
    }
    let summary = summary?;
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

/// The folder the engine writes plain outputs into when `--pseudonymize` is given.
const STAGING: &str = ".custos-plain";

/// The key and policy of `--pseudonymize`, loaded before anything runs.
fn pseudonymizer(key: &Path, policy: Option<&Path>) -> anyhow::Result<Pseudonymizer> {
    let policy = match policy {
        Some(path) => Policy::read(path)?,
        None => Policy::default(),
    };
    Ok(Pseudonymizer::new(&PseudonymKey::read(key)?, policy))
}

/// Makes `DIR/.custos-plain` (mode 0700) for the plain outputs, after checking that DIR
/// holds no earlier run's outputs (or, with `--force`, removing exactly those).
fn prepare_staging(dir: &Path, force: bool) -> anyhow::Result<PathBuf> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create output directory {}", dir.display()))?;
    custos_engine::outdir::clear_earlier_outputs(dir, force)?;
    let staging = dir.join(STAGING);
    if staging.exists() {
        if !force {
            bail!(
                "{} exists (left by an interrupted --pseudonymize run: it holds plain \
                 outputs); remove it, or pass --force",
                staging.display()
            );
        }
        std::fs::remove_dir_all(&staging)
            .with_context(|| format!("cannot remove {}", staging.display()))?;
    }
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&staging)
        .with_context(|| format!("cannot create {}", staging.display()))?;
    Ok(staging)
}

/// Writes the pseudonymised copies of the staging folder's outputs into `dir`.
fn publish_pseudonymised(staging: &Path, dir: &Path, p: &mut Pseudonymizer) -> anyhow::Result<()> {
    let r = custos_privacy::pseudonymize_outputs(staging, dir, p)
        .context("cannot write the pseudonymised outputs")?;
    let lines: u64 = r.files.iter().map(|(_, n)| n).sum();
    eprintln!(
        "custos: wrote {} pseudonymised files ({lines} lines) to {} with key {}: {} addresses, \
         {} MACs, {} names and flow IDs replaced, {} values dropped",
        r.files.len(),
        dir.display(),
        p.key_fingerprint(),
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
    Ok(())
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
