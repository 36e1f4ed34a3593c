//! `custos robust`: poisoning and evasion experiments against the detectors (crate
//! `custos-robust`, docs/robustness.md). This file only parses arguments and calls the
//! library.

use crate::Outcome;
use clap::{Args, Subcommand, ValueEnum};
use custos_robust::capture::LabelledCapture;
use custos_robust::defence::dpa::Partitioning;
use custos_robust::evasion::budget::Budget;
use custos_robust::evasion::{EvadeConfig, Target};
use custos_robust::{DetectorKind, PoisonConfig, Strategy};
use std::path::PathBuf;

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

/// Detectors `robust poison` can test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum RobustDetectorArg {
    /// Kitsune (trained on the benign window of the training capture).
    Kitsune,
    /// The supervised flow model.
    Flow,
}

/// Poisoning strategies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum StrategyArg {
    /// Random training attack flows relabelled benign.
    #[value(name = "label_flip")]
    LabelFlip,
    /// Attack traffic replayed into the benign training window.
    #[value(name = "window_injection")]
    WindowInjection,
    /// The training attack flows most like the test attack relabelled benign.
    #[value(name = "targeted_flip")]
    TargetedFlip,
}

/// DPA partitioning schemes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PartitioningArg {
    /// By a hash of the flow's uid: certificates count poisoned flows.
    Hash,
    /// Dealt within each label and phase: rare phases reach more partitions, no certificate.
    Stratified,
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
    /// The training capture.
    #[arg(long, value_name = "CAPTURE")]
    pub train: PathBuf,
    /// Its per-packet labels (`index,label,phase,time`, as `custos lab` writes).
    #[arg(long, value_name = "LABELS.csv")]
    pub train_labels: PathBuf,
    /// The test capture.
    #[arg(long, value_name = "CAPTURE")]
    pub test: PathBuf,
    /// Its per-packet labels.
    #[arg(long, value_name = "LABELS.csv")]
    pub test_labels: PathBuf,
    /// Detectors to test [default: kitsune,flow].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub detector: Vec<RobustDetectorArg>,
    /// Strategies [default: all].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub strategy: Vec<StrategyArg>,
    /// Poison rates above 0, comma-separated (0 is always measured) [default: 0.01,0.05,0.1,0.2].
    #[arg(long, value_delimiter = ',', value_name = "R,…")]
    pub rates: Vec<f64>,
    /// Seed of every choice (flows relabelled, injection position, partitions, trees).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Trees of every flow model [default: as custos train, 60].
    #[arg(long)]
    pub trees: Option<u32>,
    /// DPA partitions [default: 25].
    #[arg(long)]
    pub partitions: Option<u32>,
    /// How DPA assigns training flows to partitions.
    #[arg(long, value_enum, default_value = "hash")]
    pub partitioning: PartitioningArg,
    /// Label screening folds, 2–20, or 0 for none (and no screen+dpa defence) [default: 5].
    #[arg(long)]
    pub screen_folds: Option<u32>,
    /// targeted_flip aims at the test attack flows of this phase [default: all of them].
    #[arg(long, value_name = "PHASE")]
    pub target_phase: Option<String>,
    /// Slices of Kitsune's sanitised window [default: 4].
    #[arg(long)]
    pub slices: Option<usize>,
    /// Share of a conversation's window packets the slice models must drop before the
    /// sanitised window drops all of it, in (0, 1]; 1 turns the conversation step off
    /// [default: 0.5].
    #[arg(long, value_name = "SHARE")]
    pub conversation_share: Option<f64>,
    /// Seconds of the stretches in which the sanitised window judges a host's packets
    /// together (0: not at all) [default: 0].
    #[arg(long, value_name = "SECONDS")]
    pub host_stretch: Option<f64>,

    /// Seconds at the start of the test capture Kitsune scores but is not measured on
    /// (its statistics fill) [default: 0].
    #[arg(long, value_name = "SECONDS")]
    pub warmup: Option<f64>,
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
    /// The labelled capture whose attack phases are rewritten.
    #[arg(value_name = "CAPTURE")]
    pub capture: PathBuf,
    /// Its per-packet labels (`index,label,phase,time`, as `custos lab` writes).
    #[arg(long, value_name = "LABELS.csv")]
    pub labels: PathBuf,
    /// Train the detectors on this capture [default: CAPTURE itself].
    #[arg(long, value_name = "CAPTURE", requires = "train_labels")]
    pub train: Option<PathBuf>,
    /// Its per-packet labels.
    #[arg(long, value_name = "LABELS.csv", requires = "train")]
    pub train_labels: Option<PathBuf>,
    /// A target: kitsune, flow, flow_events, or a comma-separated combination; repeat for
    /// several [default: kitsune, flow and kitsune,flow].
    #[arg(long, value_name = "DETECTOR[,DETECTOR…]")]
    pub detector: Vec<String>,
    /// Budget per phase: duration factor, share of bytes added, packets added per packet.
    #[arg(long, default_value = "duration=2,bytes=0.2,packets=1")]
    pub budget: String,
    /// Detector queries per phase and trial.
    #[arg(long, default_value_t = custos_robust::evasion::config::DEFAULT_QUERIES)]
    pub queries: usize,
    /// Independent searches per phase (the evasion rate is the share that evade).
    #[arg(long, default_value_t = 1)]
    pub trials: u32,
    /// Only these phases [default: every attack phase].
    #[arg(long, value_delimiter = ',', value_name = "PHASE,…")]
    pub phase: Vec<String>,
    /// Seed of every choice.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Trees of the flow models [default: as custos train, 60].
    #[arg(long)]
    pub trees: Option<u32>,
    /// Seconds of traffic before a phase that Kitsune scores and whose flows give the
    /// phase's flows their host context.
    #[arg(long, value_name = "SECONDS", default_value_t = custos_robust::evasion::config::DEFAULT_CONTEXT_S)]
    pub context: f64,
    /// Perturbed samples per training phase for adversarial training of the flow model
    /// (0: no adversarial training).
    #[arg(long, default_value_t = custos_robust::evasion::config::DEFAULT_ADVERSARIAL_SAMPLES)]
    pub adversarial_samples: usize,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// Runs a `custos robust` subcommand.
///
/// # Errors
/// Unreadable or unfit inputs, invalid settings, an existing report without --force.
pub fn run(cmd: RobustCommand) -> anyhow::Result<Outcome> {
    match cmd {
        RobustCommand::Poison(a) => poison(a),
        RobustCommand::Split(a) => split(&a),
        RobustCommand::Evade(a) => evade(a),
    }
}

fn evade(a: EvadeArgs) -> anyhow::Result<Outcome> {
    let out = a.report.output.clone();
    let mut cfg = EvadeConfig::new(a.capture, a.labels, a.report.output);
    cfg.train = a.train.zip(a.train_labels);
    cfg.force = a.report.force;
    if !a.detector.is_empty() {
        cfg.targets = a
            .detector
            .iter()
            .map(|d| Target::parse(d))
            .collect::<Result<_, _>>()?;
    }
    cfg.budget = Budget::parse(&a.budget)?;
    cfg.queries = a.queries;
    cfg.trials = a.trials;
    cfg.phases = a.phase;
    cfg.seed = a.seed;
    if let Some(t) = a.trees {
        cfg.trees = t;
    }
    cfg.context_s = a.context;
    cfg.adversarial_samples = a.adversarial_samples;
    let (report, files) = custos_robust::evasion::evade(cfg)?;
    for line in report.lines() {
        eprintln!("custos: {line}");
    }
    if let Some(model) = &a.report.model_card {
        let entry = report.card_entry();
        card(
            model,
            a.report.sign.as_deref(),
            ("robustness_evasion", entry),
            &report.plots,
            &out,
        )?;
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

fn poison(a: PoisonArgs) -> anyhow::Result<Outcome> {
    let out = a.report.output.clone();
    let mut cfg = PoisonConfig::new(
        a.train,
        a.train_labels,
        a.test,
        a.test_labels,
        a.report.output,
    );
    cfg.force = a.report.force;
    if !a.detector.is_empty() {
        cfg.detectors = a
            .detector
            .iter()
            .map(|d| match d {
                RobustDetectorArg::Kitsune => DetectorKind::Kitsune,
                RobustDetectorArg::Flow => DetectorKind::Flow,
            })
            .collect();
    }
    if !a.strategy.is_empty() {
        cfg.strategies = a
            .strategy
            .iter()
            .map(|s| match s {
                StrategyArg::LabelFlip => Strategy::LabelFlip,
                StrategyArg::WindowInjection => Strategy::WindowInjection,
                StrategyArg::TargetedFlip => Strategy::TargetedFlip,
            })
            .collect();
    }
    if !a.rates.is_empty() {
        cfg.rates = a.rates;
    }
    cfg.seed = a.seed;
    if let Some(t) = a.trees {
        cfg.trees = t;
    }
    if let Some(k) = a.partitions {
        cfg.dpa.partitions = k;
    }
    cfg.dpa.partitioning = match a.partitioning {
        PartitioningArg::Hash => Partitioning::Hash,
        PartitioningArg::Stratified => Partitioning::Stratified,
    };
    if let Some(f) = a.screen_folds {
        cfg.screen_folds = f;
    }
    cfg.target_phase = a.target_phase;
    if let Some(s) = a.slices {
        cfg.sanitise.slices = s;
    }
    if let Some(c) = a.conversation_share {
        cfg.sanitise.conversation_share = c;
    }
    if let Some(h) = a.host_stretch {
        cfg.sanitise.host_stretch_s = h;
    }

    if let Some(w) = a.warmup {
        cfg.kitsune.warmup_s = w;
    }
    let (report, files) = custos_robust::poison(cfg)?;
    for line in report.summary.iter().flat_map(|s| s.lines()) {
        eprintln!("custos: {line}");
    }
    if let Some(model) = &a.report.model_card {
        let entry = report.card_entry();
        card(
            model,
            a.report.sign.as_deref(),
            ("robustness_poisoning", entry),
            &report.plots,
            &out,
        )?;
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
    if !(0.0..=1.0).contains(&a.share) {
        anyhow::bail!("--share {} must be in [0, 1]", a.share);
    }
    let (cap, _) = LabelledCapture::read(&a.capture, &a.labels)?;
    let (train, test) = custos_robust::split::by_flow(&cap, a.share, a.seed);
    std::fs::create_dir_all(&a.output)
        .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", a.output.display()))?;
    for (part, name) in [(&train, "train"), (&test, "test")] {
        let (pcap, labels) = part.write(&a.output, name)?;
        eprintln!(
            "custos: {} packets ({} attack) in {} with {}",
            part.frames.len(),
            part.attack_packets(),
            pcap.display(),
            labels.display()
        );
    }
    Ok(Outcome::Success)
}

/// Writes a robustness report's card entry into `model`'s card, its plots (in `report_dir`)
/// copied into the model directory, then re-signs or says the signature is gone.
fn card(
    model: &std::path::Path,
    sign: Option<&std::path::Path>,
    (field, entry): (&str, serde_json::Value),
    plots: &[String],
    report_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let dir = custos_robust::report::CARD_PLOTS_DIR;
    let attachments: Vec<(PathBuf, String)> = plots
        .iter()
        .map(|p| (report_dir.join(p), format!("{dir}/{p}")))
        .collect();
    custos_engine::detectors::update_card(model, vec![(field, entry)], &attachments)?;
    crate::model::card_updated(model, sign, "the robustness results")
}
