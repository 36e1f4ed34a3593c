//! The command-line options of `custos evaluate` (feature `clap`), with their help text, and
//! the [`EvalConfig`] they give ([`EvalConfig::from_flags`]).

use crate::{EvalConfig, Skip};
use clap::Args;
use std::path::PathBuf;

/// The options of `custos evaluate` but those about a model card.
#[derive(Debug, Args)]
pub struct EvalFlags {
    /// Output folder of an `analyze` run with a detector.
    #[arg(value_name = "OUTDIR")]
    pub run: PathBuf,
    /// Per-packet labels (`index,label,phase,…`) of each input of the run, in the run's input
    /// order; repeat the option for several inputs.
    #[arg(long = "labels", value_name = "LABELS.csv", required = true)]
    pub labels: Vec<PathBuf>,
    /// Directory for the report (created if missing).
    #[arg(short, long, value_name = "REPORT")]
    pub output: PathBuf,
    /// Leave out the packets before every detector could alert: what a detector trained on,
    /// a model's warm-up and Kitsune's calibration window (its scores set the threshold).
    /// Kitsune-py's reference results start after training alone: --skip 11001.
    #[arg(long, conflicts_with = "skip")]
    pub skip_training: bool,
    /// Leave out the first N packets.
    #[arg(long, value_name = "N")]
    pub skip: Option<u64>,
}

impl EvalConfig {
    /// What `flags` ask to evaluate (where the report goes is `flags.output`).
    pub fn from_flags(flags: &EvalFlags) -> EvalConfig {
        EvalConfig {
            run_dir: flags.run.clone(),
            labels: flags.labels.clone(),
            skip: match (flags.skip_training, flags.skip) {
                (true, _) => Skip::Training,
                (false, Some(n)) => Skip::Packets(n),
                (false, None) => Skip::None,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Evaluate {
        #[command(flatten)]
        flags: EvalFlags,
    }

    fn skip(args: &[&str]) -> Skip {
        let base = ["evaluate", "out", "--labels", "l.csv", "-o", "r"];
        let e = Evaluate::try_parse_from(base.iter().chain(args)).unwrap();
        EvalConfig::from_flags(&e.flags).skip
    }

    #[test]
    fn skip_options_choose_what_is_left_out() {
        assert_eq!(skip(&[]), Skip::None);
        assert_eq!(skip(&["--skip", "7"]), Skip::Packets(7));
        assert_eq!(skip(&["--skip-training"]), Skip::Training);
    }
}
