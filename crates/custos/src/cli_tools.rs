//! Arguments of the commands around an analysis: summary, evaluate, share, pseudonymize,
//! dataset and model (split from `cli.rs` to keep files small).

use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Arguments of `custos evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
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
    pub format: SummaryFormatArg,
}

/// Formats of the summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormatArg {
    /// Plain text.
    Text,
    /// Markdown (for a ticket or a wiki page).
    Md,
}

/// The pseudonym key, the sharing policy and the kind of values: how pseudonyms are made
/// (`pseudonymize`) and reversed (`reidentify`).
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("pkey").required(true).args(["pseudonym_key", "key_hex"])))]
pub struct PseudonymArgs {
    /// The pseudonym key (`.pkey` from `custos keygen --pseudonym`).
    #[arg(long, value_name = "K.pkey")]
    pub pseudonym_key: Option<PathBuf>,
    /// A raw 32-byte Crypto-PAn key as 64 hex digits instead of a key file.
    #[arg(long, value_name = "HEX")]
    pub key_hex: Option<String>,
    /// A sharing policy (TOML, docs/privacy.md): kept networks, MAC OUIs.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// What the values are [default: guessed per value: address, MAC, else name].
    #[arg(long, value_name = "ip|mac|name")]
    pub kind: Option<String>,
}

/// Arguments of `custos pseudonymize`.
#[derive(Debug, Args)]
pub struct PseudonymizeArgs {
    /// Key, policy and kind.
    #[command(flatten)]
    pub pseudonyms: PseudonymArgs,
    /// The values.
    #[arg(value_name = "VALUE", required = true)]
    pub values: Vec<String>,
}

/// Arguments of `custos anonymize`.
#[derive(Debug, Args)]
pub struct AnonymizeArgs {
    /// The capture to rewrite (pcap or pcapng, gzip allowed).
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// The anonymised capture to write (same format as the input; gzip input gives an
    /// uncompressed output). An existing file is refused unless --force.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
    /// The pseudonym key (`.pkey` from `custos keygen --pseudonym`).
    #[arg(long, value_name = "K.pkey")]
    pub pseudonym_key: PathBuf,
    /// A sharing policy (TOML, docs/privacy.md): networks kept unchanged, MAC OUIs kept.
    #[arg(long, value_name = "FILE")]
    pub policy: Option<PathBuf>,
    /// Transport payload: `keep`, `truncate:N` (first N bytes) or `drop` [default: keep].
    #[arg(long, value_name = "keep|truncate:N|drop", default_value = "keep")]
    pub payload: String,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
}

/// Sharing formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ShareFormat {
    /// STIX 2.1 bundle (valid under stix2-validator --strict).
    Stix,
    /// MISP event JSON (loads in PyMISP).
    Misp,
    /// OCSF 1.5.0 Detection Findings, one per alert and finding, as JSON Lines (valid against
    /// the OCSF 1.5.0 JSON Schema).
    Ocsf,
}

/// Arguments of `custos share`.
#[derive(Debug, Args)]
pub struct ShareArgs {
    /// Output folder of an `analyze` run.
    #[arg(value_name = "OUTDIR")]
    pub run: PathBuf,
    /// Export format.
    #[arg(long, value_enum)]
    pub format: ShareFormat,
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
    Build(DatasetBuildArgs),
}

/// Arguments of `custos dataset build`.
#[derive(Debug, Args)]
pub struct DatasetBuildArgs {
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
