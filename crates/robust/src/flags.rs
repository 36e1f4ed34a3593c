//! The command-line options of `custos robust poison` and `custos robust evade` (feature
//! `clap`), with their help text, and the configurations they give
//! ([`PoisonConfig::from_flags`], [`EvadeConfig::from_flags`]).
//!
//! Where the report goes (`--output`, `--force`) is the front end's to say: it passes them in.
//! An option left out keeps the default of [`PoisonConfig::new`] or [`EvadeConfig::new`].

use crate::defence::dpa::Partitioning;
use crate::evasion::budget::Budget;
use crate::evasion::config::{
    EvadeConfig, Target, DEFAULT_ADVERSARIAL_SAMPLES, DEFAULT_CONTEXT_S, DEFAULT_QUERIES,
};
use crate::{DetectorKind, PoisonConfig, RobustError, Strategy};
use clap::Args;
use std::path::PathBuf;

/// The options of `custos robust poison` but the report's.
#[derive(Debug, Args)]
pub struct PoisonFlags {
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
    pub detector: Vec<DetectorKind>,
    /// Strategies [default: all].
    #[arg(long, value_enum, value_delimiter = ',')]
    pub strategy: Vec<Strategy>,
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
    pub partitioning: Partitioning,
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
    /// together: a host's stretch is dropped whole when more of its packets were dropped there
    /// than --host-excess times its usual stretch (0: not at all) [default: 10].
    #[arg(long, value_name = "SECONDS")]
    pub host_stretch: Option<f64>,
    /// The factor of that rule: dropped packets in a stretch above this many times the
    /// host's median packets per stretch drop the stretch (above 0) [default: 1].
    #[arg(long, value_name = "X")]
    pub host_excess: Option<f64>,
    /// Keep each sanitising slice model's threshold from its training run instead of refitting
    /// it on its calibration packets as the window's pass scores them.
    #[arg(long)]
    pub no_recalibrate: bool,
    /// Seconds at the start of the test capture Kitsune scores but is not measured on
    /// (its statistics fill) [default: 0].
    #[arg(long, value_name = "SECONDS")]
    pub warmup: Option<f64>,
}

/// The options of `custos robust evade` but the report's.
#[derive(Debug, Args)]
pub struct EvadeFlags {
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
    #[arg(long, default_value_t = DEFAULT_QUERIES)]
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
    #[arg(long, value_name = "SECONDS", default_value_t = DEFAULT_CONTEXT_S)]
    pub context: f64,
    /// Perturbed samples per training phase for adversarial training of the flow model
    /// (0: no adversarial training).
    #[arg(long, default_value_t = DEFAULT_ADVERSARIAL_SAMPLES)]
    pub adversarial_samples: usize,
}

impl PoisonConfig {
    /// The configuration `flags` ask for, writing its report into `output` (replacing one
    /// there with `force`).
    pub fn from_flags(flags: &PoisonFlags, output: PathBuf, force: bool) -> PoisonConfig {
        let f = flags;
        let mut cfg = PoisonConfig::new(
            f.train.clone(),
            f.train_labels.clone(),
            f.test.clone(),
            f.test_labels.clone(),
            output,
        );
        cfg.force = force;
        if !f.detector.is_empty() {
            cfg.detectors.clone_from(&f.detector);
        }
        if !f.strategy.is_empty() {
            cfg.strategies.clone_from(&f.strategy);
        }
        if !f.rates.is_empty() {
            cfg.rates.clone_from(&f.rates);
        }
        cfg.seed = f.seed;
        set(&mut cfg.trees, f.trees);
        set(&mut cfg.dpa.partitions, f.partitions);
        cfg.dpa.partitioning = f.partitioning;
        set(&mut cfg.screen_folds, f.screen_folds);
        cfg.target_phase.clone_from(&f.target_phase);
        set(&mut cfg.sanitise.slices, f.slices);
        set(&mut cfg.sanitise.conversation_share, f.conversation_share);
        set(&mut cfg.sanitise.host_stretch_s, f.host_stretch);
        set(&mut cfg.sanitise.host_excess, f.host_excess);
        cfg.sanitise.recalibrate &= !f.no_recalibrate;
        set(&mut cfg.kitsune.warmup_s, f.warmup);
        cfg
    }
}

impl EvadeConfig {
    /// The configuration `flags` ask for, writing its report into `output` (replacing one
    /// there with `force`).
    ///
    /// # Errors
    /// A target or budget that does not parse.
    pub fn from_flags(
        flags: &EvadeFlags,
        output: PathBuf,
        force: bool,
    ) -> Result<EvadeConfig, RobustError> {
        let f = flags;
        let mut cfg = EvadeConfig::new(f.capture.clone(), f.labels.clone(), output);
        cfg.train = f.train.clone().zip(f.train_labels.clone());
        cfg.force = force;
        if !f.detector.is_empty() {
            cfg.targets = f
                .detector
                .iter()
                .map(|d| Target::parse(d))
                .collect::<Result<_, _>>()?;
        }
        cfg.budget = Budget::parse(&f.budget)?;
        cfg.queries = f.queries;
        cfg.trials = f.trials;
        cfg.phases.clone_from(&f.phase);
        cfg.seed = f.seed;
        set(&mut cfg.trees, f.trees);
        cfg.context_s = f.context;
        cfg.adversarial_samples = f.adversarial_samples;
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

    #[derive(Debug, Parser)]
    struct Poison {
        #[command(flatten)]
        flags: PoisonFlags,
    }

    #[derive(Debug, Parser)]
    struct Evade {
        #[command(flatten)]
        flags: EvadeFlags,
    }

    const POISON: [&str; 9] = [
        "poison",
        "--train",
        "a.pcap",
        "--train-labels",
        "a.csv",
        "--test",
        "b.pcap",
        "--test-labels",
        "b.csv",
    ];

    #[test]
    fn poison_options_left_out_keep_the_defaults() {
        let p = Poison::try_parse_from(POISON).unwrap();
        let cfg = PoisonConfig::from_flags(&p.flags, "r".into(), false);
        let new = PoisonConfig::new(
            "a.pcap".into(),
            "a.csv".into(),
            "b.pcap".into(),
            "b.csv".into(),
            "r".into(),
        );
        assert_eq!(format!("{cfg:?}"), format!("{new:?}"));
    }

    #[test]
    fn poison_options_given_replace_the_defaults() {
        let args = [
            "--strategy",
            "targeted_flip,label_flip",
            "--detector",
            "flow",
        ];
        let more = [
            "--partitions",
            "7",
            "--partitioning",
            "stratified",
            "--warmup",
            "2",
        ];
        let p = Poison::try_parse_from(POISON.iter().chain(&args).chain(&more)).unwrap();
        let cfg = PoisonConfig::from_flags(&p.flags, "r".into(), true);
        assert!(cfg.force);
        assert_eq!(
            cfg.strategies,
            [Strategy::TargetedFlip, Strategy::LabelFlip]
        );
        assert_eq!(cfg.detectors, [DetectorKind::Flow]);
        assert_eq!(cfg.dpa.partitions, 7);
        assert_eq!(cfg.dpa.partitioning, Partitioning::Stratified);
        assert_eq!(cfg.kitsune.warmup_s, 2.0);
    }

    #[test]
    fn evade_rejects_an_unknown_target() {
        let e = Evade::try_parse_from(["evade", "c.pcap", "--labels", "l.csv", "--detector", "x"])
            .unwrap();
        let err = EvadeConfig::from_flags(&e.flags, "r".into(), false).unwrap_err();
        assert!(
            err.to_string().starts_with("unknown detector \"x\""),
            "{err}"
        );
    }
}
