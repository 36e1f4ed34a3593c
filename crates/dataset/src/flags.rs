//! The command-line options of `custos dataset build` and `custos train --detector flow`
//! (feature `clap`), with their help text: [`BuildFlags::build`] builds the dataset they ask
//! for, [`FlowTrainOptions::from_flags`] gives the training options.
//!
//! An option left out keeps the default ([`FlowTrainOptions::default`], the cores available).

use crate::flow_train::PhaseWeights;
use crate::{DatasetError, FlowTrainOptions, Manifest};
use clap::Args;
use custos_engine::EngineConfig;
use std::path::PathBuf;

/// The options of `custos dataset build`.
#[derive(Debug, Args)]
pub struct BuildFlags {
    /// Capture files, read as one run in this order.
    #[arg(value_name = "CAPTURE", required = true)]
    pub captures: Vec<PathBuf>,
    /// Labels: per packet (`index,label,phase,…` as `custos lab` writes, one file per capture,
    /// in order) or per flow (`uid,label[,phase]`, keyed by conn.log uid); repeat the option.
    #[arg(long = "labels", value_name = "LABELS.csv", required = true)]
    pub labels: Vec<PathBuf>,
    /// The dataset directory (created if missing).
    #[arg(short, long, value_name = "DS")]
    pub output: PathBuf,
    /// What custos cannot know for the datasheet (TOML; motivation, collection, uses…).
    #[arg(long, value_name = "info.toml")]
    pub datasheet: Option<PathBuf>,
    /// Replace a dataset already in DS.
    #[arg(long)]
    pub force: bool,
    /// Threads [default: the cores available].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

impl BuildFlags {
    /// Builds the dataset the options ask for ([`crate::build`]).
    ///
    /// # Errors
    /// As [`crate::build`].
    pub fn build(&self) -> Result<Manifest, DatasetError> {
        let mut cfg = EngineConfig::default();
        cfg.output.overwrite = self.force;
        if let Some(t) = self.threads {
            cfg.threads = t;
        }
        let info = self.datasheet.as_deref();
        crate::build(&self.captures, &self.labels, &self.output, info, cfg)
    }
}

/// The flow detector's options of `custos train`.
#[derive(Debug, Args)]
pub struct FlowTrainFlags {
    /// The flow detector: the labelled dataset to learn from (`custos dataset build`).
    #[arg(long, value_name = "DS")]
    pub dataset: Option<PathBuf>,

    /// The flow detector: trees to grow [default: 60].
    #[arg(long, value_name = "N", requires = "dataset")]
    pub trees: Option<u32>,

    /// The flow detector: seed of the row and feature sampling [default: 0].
    #[arg(long, value_name = "N", requires = "dataset")]
    pub seed: Option<u64>,

    /// The flow detector: fraction of the dataset's flows held out (by uid hash) to set the
    /// threshold at --fpr and to measure the model [default: 0.2].
    #[arg(long, value_name = "F", requires = "dataset")]
    pub holdout: Option<f64>,

    /// The flow detector: screen the dataset's labels by K-fold cross-validation [K: 5] and
    /// write the flows whose label the rest of the data contradicts to
    /// label-screening.json (mislabelled or planted flows; docs/detection.md).
    #[arg(long, value_name = "K", requires = "dataset", num_args = 0..=1, default_missing_value = "5")]
    pub screen_labels: Option<u32>,

    /// The flow detector: how attack rows are weighted against each other [default: rows]
    #[arg(long, value_name = "HOW", requires = "dataset")]
    pub phase_weights: Option<PhaseWeights>,
}

impl FlowTrainOptions {
    /// The options `flags` ask for, with the false-positive rate `fpr` when given (`--fpr`,
    /// an option the flow detector shares with Kitsune).
    pub fn from_flags(flags: &FlowTrainFlags, fpr: Option<f64>) -> FlowTrainOptions {
        let mut opts = FlowTrainOptions::default();
        if let Some(t) = flags.trees {
            opts.params.trees = t;
        }
        if let Some(s) = flags.seed {
            opts.params.seed = s;
        }
        if let Some(h) = flags.holdout {
            opts.holdout = h;
        }
        if let Some(f) = fpr {
            opts.fpr = f;
        }
        opts.screen_folds = flags.screen_labels;
        if let Some(w) = flags.phase_weights {
            opts.phase_weights = w;
        }
        opts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Train {
        #[command(flatten)]
        flags: FlowTrainFlags,
    }

    fn options(args: &[&str], fpr: Option<f64>) -> FlowTrainOptions {
        let t = Train::try_parse_from(std::iter::once("train").chain(args.iter().copied()));
        FlowTrainOptions::from_flags(&t.unwrap().flags, fpr)
    }

    #[test]
    fn options_left_out_keep_the_defaults() {
        let (o, d) = (
            options(&["--dataset", "ds"], None),
            FlowTrainOptions::default(),
        );
        assert_eq!(format!("{o:?}"), format!("{d:?}"));
    }

    #[test]
    fn options_given_replace_the_defaults() {
        let args = [
            "--dataset",
            "ds",
            "--trees",
            "7",
            "--seed",
            "3",
            "--screen-labels",
            "--phase-weights",
            "equal",
        ];
        let o = options(&args, Some(0.01));
        assert_eq!(
            (
                o.params.trees,
                o.params.seed,
                o.screen_folds,
                o.phase_weights
            ),
            (7, 3, Some(5), PhaseWeights::Equal)
        );
        assert!((o.fpr - 0.01).abs() < 1e-12);
    }
}
