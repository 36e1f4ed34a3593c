//! Arguments of the commands around an analysis: summary, evaluate, share, pseudonymize,
//! dataset and model (split from `cli.rs` to keep files small).

use clap::{Args, Subcommand};
use custos_privacy::flags::PseudonymFlags;
use std::path::PathBuf;

/// Arguments of `custos evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The run, its labels, the report and the packets left out.
    #[command(flatten)]
    pub eval: custos_eval::flags::EvalFlags,

    /// Write the metrics of this evaluation into the model card of this model directory
    /// (`metrics` and `evaluation_data` of model-card.json / .md). The card is a signed file,
    /// so the old signature is removed: re-sign with --sign, or custos model sign.
    #[arg(long, value_name = "MODEL")]
    pub model_card: Option<PathBuf>,

    /// With --model-card: sign the model directory again with this key (`.pem`).
    #[arg(long, value_name = "KEY.pem", requires = "model_card")]
    pub sign: Option<PathBuf>,
}

/// Arguments of `custos summary`.
#[derive(Debug, Args)]
pub struct SummaryArgs {
    /// Output folder of an earlier `custos analyze` run.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: custos_output::summary::Format,
}

/// Arguments of `custos pseudonymize`.
#[derive(Debug, Args)]
pub struct PseudonymizeArgs {
    /// Key, policy and kind.
    #[command(flatten)]
    pub pseudonyms: PseudonymFlags,
    /// The values.
    #[arg(value_name = "VALUE", required = true)]
    pub values: Vec<String>,
}

/// Arguments of `custos share`.
#[derive(Debug, Args)]
pub struct ShareArgs {
    /// Output folder of an `analyze` run.
    #[arg(value_name = "OUTDIR")]
    pub run: PathBuf,
    /// Export format.
    #[arg(long, value_enum)]
    pub format: custos_share::Format,
    /// The file to write (refused if it exists, unless --force).
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    /// Pseudonymise every address and name with this key (`.pkey`); no original address
    /// remains in the export.
    #[arg(long, value_name = "K.pkey")]
    pub pseudonymize: Option<PathBuf>,
    /// A sharing policy (TOML, docs/privacy.md) for --pseudonymize.
    #[arg(long, value_name = "FILE", requires = "pseudonymize")]
    pub policy: Option<PathBuf>,
    /// Traffic Light Protocol 2.0 marking: clear, green, amber, amber+strict, red.
    #[arg(long, default_value = "amber")]
    pub tlp: String,
    /// The sharing organisation's name (the STIX identity, the MISP org, OCSF's
    /// `metadata.product.vendor_name`).
    #[arg(long, default_value = "custos sensor")]
    pub organisation: String,
    /// Replace an existing FILE.
    #[arg(long)]
    pub force: bool,
}

/// `custos dataset` subcommands.
#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Build a dataset: DS/flows.parquet (one row per flow: nfstream-style statistics,
    /// application features, the label), DS/manifest.json (SHA-256 of every input, the
    /// labelling rule, the feature schema, counts, duplicates) and DS/datasheet.md/.json
    /// (Gebru et al.). See docs/dataset.md.
    #[command(
        after_help = "Example:\n  sudo custos lab run -s smoke -o lab/smoke\n  custos dataset build lab/smoke.pcap --labels lab/smoke.labels.csv -o ds/"
    )]
    Build(custos_dataset::flags::BuildFlags),
}

/// `custos model` subcommands.
#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Sign a model directory: writes MODEL/model.sig (a Sigstore bundle whose in-toto
    /// statement lists the SHA-256 of every file of the directory). The reference tool
    /// verifies it: `model_signing verify key --public_key K.pub --signature MODEL/model.sig MODEL`.
    #[command(after_help = "Example:\n  custos model sign model/ --key model-signer.pem")]
    Sign(ModelSignArgs),
    /// Verify a model directory's signature against trusted public keys: every file must be
    /// the one signed, none added or removed. Exit status 0 verified, 1 refused, 2 error.
    #[command(after_help = "Example:\n  custos model verify model/ --trust model-signer.pub")]
    Verify(ModelVerifyArgs),
}

/// Arguments of `custos model sign`.
#[derive(Debug, Args)]
pub struct ModelSignArgs {
    /// The model directory; a single Kitsune model file (`model.json`, the older format) is
    /// first wrapped into a new directory beside it (`model/kitsune-model.json`).
    #[arg(value_name = "MODEL")]
    pub dir: PathBuf,
    /// The private key (`.pem` from `custos keygen --model`, or any P-256 PEM key).
    #[arg(long, value_name = "KEY.pem")]
    pub key: PathBuf,
}

/// Arguments of `custos model verify`.
#[derive(Debug, Args)]
pub struct ModelVerifyArgs {
    /// The model directory.
    #[arg(value_name = "MODEL")]
    pub dir: PathBuf,
    /// Public keys of trusted signers (`.pub`); repeat the option for several.
    #[arg(long = "trust", value_name = "KEY.pub", required = true)]
    pub trust: Vec<PathBuf>,
}
