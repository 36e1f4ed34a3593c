//! `custos robust`: poisoning and evasion experiments against the detectors (crate
//! `custos-robust`, docs/robustness.md). This file only parses arguments and calls the
//! library.

use crate::Outcome;
use clap::{Args, Subcommand};
use custos_robust::evasion::EvadeConfig;
use custos_robust::flags::{EvadeFlags, PoisonFlags};
use custos_robust::PoisonConfig;
use std::path::{Path, PathBuf};

/// `custos robust` subcommands.
#[derive(Debug, Subcommand)]
pub enum RobustCommand {
    /// Poison each detector's training data, train it undefended and defended, and measure it
    /// on a test capture
    ///
    /// Strategies: label_flip (training attack flows relabelled benign at random),
    /// targeted_flip (those most like the test attack), window_injection (the training
    /// capture's attack traffic replayed, renumbered, into its benign window). Defences:
    /// Kitsune's sanitised window (slice models cross-check it, whole conversations follow
    /// their majority) with a contamination alarm; the flow model's deterministic partition
    /// aggregation (`dpa`, with per-flow certificates) and `screen+dpa` (flows whose
    /// conversation contradicts their label relabelled, those the out-of-fold predictions
    /// contradict dropped, before DPA; not certified). Writes REPORT/robustness.json and one
    /// SVG per detector and strategy (poison rate against AUC and F1). See
    /// docs/robustness.md.
    #[command(
        after_help = "Examples:\n  custos robust poison --train day1.pcap --train-labels day1.labels.csv --test day2.pcap --test-labels day2.labels.csv -o report/\n  custos robust poison ... --detector flow --strategy label_flip --rates 0.05,0.1 --partitions 11 -o report/"
    )]
    Poison(PoisonArgs),
    /// Split one labelled capture into a training and a test capture by flow (both
    /// directions of a flow on one side; both halves span the whole recording)
    ///
    /// Writes DIR/train.pcap, DIR/train.labels.csv, DIR/test.pcap and DIR/test.labels.csv.
    #[command(
        after_help = "Example:\n  custos robust split lab.pcap --labels lab.labels.csv -o split/"
    )]
    Split(SplitArgs),
    /// Rewrite each labelled attack phase within a budget so that no detector alerts, keeping
    /// the attack working, and measure the defences
    ///
    /// Transforms: inter-packet delay, jitter and pacing (flood rate limiting), source-port
    /// and IP-ID randomisation, TCP NOP option padding, HTTP header padding, TCP segment
    /// splitting, chaff copied from benign devices. A seeded random-then-greedy black-box
    /// search with --queries detector queries per phase finds the cheapest evasion per
    /// target (a detector, or a comma-separated combination that alerts when any member
    /// does). Defences: combining detectors, the flow model on event features
    /// (flow_events), adversarial training of the flow model. Writes REPORT/robustness.json
    /// and, per evasion found, the transformed capture and labels. See docs/robustness.md.
    #[command(
        after_help = "Examples:\n  custos robust evade lab.pcap --labels lab.labels.csv -o evade/\n  custos robust evade test.pcap --labels test.labels.csv --train train.pcap --train-labels train.labels.csv --detector kitsune --detector flow --detector kitsune,flow --budget duration=2,bytes=0.2,packets=1 --queries 40 -o evade/"
    )]
    Evade(EvadeArgs),
}

/// Where a robustness report goes, and the model card it may go into.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Report directory (created if missing).
    #[arg(short, long, value_name = "REPORT")]
    pub output: PathBuf,
    /// Replace an existing robustness.json.
    #[arg(long)]
    pub force: bool,
    /// Write the results into the model card of this model directory
    /// (`robustness_poisoning` or `robustness_evasion` of model-card.json / .md, the plots
    /// copied into its `robustness/` folder). The card is a signed file, so the old
    /// signature is removed: re-sign with --sign, or custos model sign.
    #[arg(long, value_name = "MODEL")]
    pub model_card: Option<PathBuf>,
    /// With --model-card: sign the model directory again with this key (`.pem`).
    #[arg(long, value_name = "KEY.pem", requires = "model_card")]
    pub sign: Option<PathBuf>,
}

/// Arguments of `custos robust poison`.
#[derive(Debug, Args)]
pub struct PoisonArgs {
    /// Captures, detectors, strategies, defences.
    #[command(flatten)]
    pub poison: PoisonFlags,
    /// The report.
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Arguments of `custos robust split`.
#[derive(Debug, Args)]
pub struct SplitArgs {
    /// The labelled capture.
    #[arg(value_name = "CAPTURE")]
    pub capture: PathBuf,
    /// Its per-packet labels.
    #[arg(long, value_name = "LABELS.csv")]
    pub labels: PathBuf,
    /// Share of the flows that go to the training capture.
    #[arg(long, default_value_t = 0.5)]
    pub share: f64,
    /// Seed of the flow hash.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output directory (created if missing).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
}

/// Arguments of `custos robust evade`.
#[derive(Debug, Args)]
pub struct EvadeArgs {
    /// The capture, targets, budget and search.
    #[command(flatten)]
    pub evade: EvadeFlags,
    /// The report.
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Runs a `custos robust` subcommand.
///
/// # Errors
/// Unreadable or unfit inputs, invalid settings, an existing report without --force.
pub fn run(cmd: RobustCommand) -> anyhow::Result<Outcome> {
    match cmd {
        RobustCommand::Poison(a) => poison(&a),
        RobustCommand::Split(a) => split(&a),
        RobustCommand::Evade(a) => evade(&a),
    }
}

fn evade(a: &EvadeArgs) -> anyhow::Result<Outcome> {
    let out = &a.report.output;
    let cfg = EvadeConfig::from_flags(&a.evade, out.clone(), a.report.force)?;
    let (report, files) = custos_robust::evasion::evade(cfg)?;
    for line in report.lines() {
        eprintln!("custos: {line}");
    }
    if let Some(model) = &a.report.model_card {
        let entry = ("robustness_evasion", report.card_entry());
        card(model, a.report.sign.as_deref(), entry, &report.plots, out)?;
    }
    eprintln!(
        "custos: wrote {} and {} evading captures",
        files
            .first()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        files
            .iter()
            .filter(|f| f.extension().is_some_and(|e| e == "pcap"))
            .count()
    );
    Ok(Outcome::Success)
}

fn poison(a: &PoisonArgs) -> anyhow::Result<Outcome> {
    let out = &a.report.output;
    let cfg = PoisonConfig::from_flags(&a.poison, out.clone(), a.report.force);
    let (report, files) = custos_robust::poison(cfg)?;
    for line in report.summary.iter().flat_map(|s| s.lines()) {
        eprintln!("custos: {line}");
    }
    if let Some(model) = &a.report.model_card {
        let entry = ("robustness_poisoning", report.card_entry());
        card(model, a.report.sign.as_deref(), entry, &report.plots, out)?;
    }
    eprintln!(
        "custos: wrote {} and {} plots",
        files
            .first()
            .map(|p| p.display().to_string())
            .unwrap_or_default(),
        files.len().saturating_sub(1)
    );
    Ok(Outcome::Success)
}

fn split(a: &SplitArgs) -> anyhow::Result<Outcome> {
    let setting = (a.share, a.seed);
    custos_robust::split::write_halves(&a.capture, &a.labels, setting, &a.output, |h| {
        eprintln!(
            "custos: {} packets ({} attack) in {} with {}",
            h.packets,
            h.attack_packets,
            h.pcap.display(),
            h.labels.display()
        );
    })?;
    Ok(Outcome::Success)
}

/// Writes a robustness report's card entry into `model`'s card, its plots (in `report_dir`)
/// copied into the model directory, then re-signs or says the signature is gone.
fn card(
    model: &Path,
    sign: Option<&Path>,
    (field, entry): (&str, serde_json::Value),
    plots: &[String],
    report_dir: &Path,
) -> anyhow::Result<()> {
    let dir = custos_robust::report::CARD_PLOTS_DIR;
    let attachments: Vec<(PathBuf, String)> = plots
        .iter()
        .map(|p| (report_dir.join(p), format!("{dir}/{p}")))
        .collect();
    custos_engine::detectors::update_card(model, vec![(field, entry)], &attachments)?;
    crate::model::card_updated(model, sign, "the robustness results")
}
