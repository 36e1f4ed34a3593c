//! Raw command-line arguments (clap derive). Validation happens in each command's config.
//! Options that set a library's configuration are defined beside it (the `flags` modules of
//! custos-engine, -dataset, -eval, -privacy and -robust, feature `clap`) and flattened in here.

use clap::{Args, Parser, Subcommand};
use custos_dataset::flags::FlowTrainFlags;
use custos_engine::config::Checksums;
use custos_engine::flags::{AnalysisFlags, DetectorFlags, RunFlags};
use std::path::PathBuf;

pub use crate::cli_tools::{
    DatasetCommand, EvaluateArgs, ModelCommand, ModelSignArgs, ModelVerifyArgs, PseudonymizeArgs,
    ShareArgs, SummaryArgs,
};

/// custos — see, detect and prove what happens on IoT networks.
///
/// custos reads packet captures (pcap, pcapng, gzip-compressed, or stdin) or a live interface,
/// decodes every packet down to TCP/UDP/ICMP (through VLANs, MPLS, PPPoE and tunnels such as
/// GRE, VXLAN, Geneve, GTP-U and Teredo), tracks bidirectional flows with Zeek's connection
/// semantics, and writes Zeek- and Suricata-compatible flow records. It detects anomalies with
/// Kitsune (--detector kitsune) and known attack traffic with a supervised flow model
/// (--detector flow, from `train --detector flow --dataset`), loads only signed models, keeps
/// every alert as evidence in a signed, tamper-evident log (--evidence), exports case bundles
/// an investigator verifies offline (case export, verify), shares pseudonymised (anonymize,
/// share) and builds labelled IoT attack traffic in a namespace lab (lab).
///
/// Start with: custos analyze samples/iot-small.pcap -o out/
#[derive(Debug, Parser)]
#[command(name = "custos", version, about, long_about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Analyse captures (or a live interface): flows, events, devices, findings, alerts
    ///
    /// Writes into DIR:
    ///   conn.log        Zeek connection log (TSV), with community_id and packet indices
    ///   flows.jsonl     Suricata EVE "flow" records
    ///   events.jsonl    application events (DNS, HTTP, MQTT, Modbus, TLS, telnet, …), EVE
    ///   devices.json    the device inventory (addresses, vendors, services, roles, peers)
    ///   findings.jsonl  IoT baseline findings (ETSI EN 303 645, ENISA) with evidence
    ///   scores.csv      with a detector: one anomaly score per packet
    ///   alerts.jsonl    with a detector: explained alerts, Suricata EVE "alert"
    ///   stats.json      packets, time span, link types, errors, flows, detector, speed
    ///   custos-run.json the list of files this run wrote (see --force)
    /// and prints a summary on a terminal (custos summary DIR prints it again).
    ///
    /// Several captures are read as one stream, in the order given.
    ///
    /// Exit status: 0 success; 2 error (nothing trustworthy written); 3 partial: an input was
    /// damaged part-way, everything before the damage was processed and written, and the
    /// error names the file, byte offset and packet number.
    #[command(
        verbatim_doc_comment,
        after_help = "Examples:\n  custos analyze samples/iot-small.pcap -o out/\n  custos analyze day1.pcap.gz day2.pcapng -o out/ --checksums ignore\n  sudo custos analyze --interface eth0 -o out/   (Ctrl-C to stop)"
    )]
    Analyze(Box<AnalyzeArgs>),
    /// Train a detector and save its model: Kitsune on captures of normal traffic, the flow
    /// model on a labelled dataset
    ///
    /// Kitsune: the first --fm-grace packets learn the feature map, the next --ad-grace train
    /// the autoencoders, the next --calibration packets (assumed benign) set the alert
    /// threshold. The flow detector (--dataset DS from `custos dataset build`): gradient-boosted
    /// trees on every flow and flow prefix, the threshold set on held-out benign flows at
    /// --fpr. Writes a model directory (the model, a model card, the training record), no
    /// scores or alerts; sign it (--sign, or `custos model sign`) and `analyze --model DIR
    /// --trust KEY.pub` uses it. See docs/detection.md.
    #[command(
        after_help = "Examples:\n  custos keygen --model -o signer\n  custos train --detector kitsune normal-day.pcap -o model/ --sign signer.pem\n  custos analyze today.pcap -o out/ --model model/ --trust signer.pub\n  custos train --detector flow --dataset ds/ -o flow-model/ --sign signer.pem --screen-labels\n  custos analyze today.pcap -o out/ --detector kitsune,flow --model flow=flow-model/ --trust signer.pub"
    )]
    Train(TrainArgs),
    /// Print the summary of an earlier analysis (what an analyst reads first)
    ///
    /// Packets and time span, devices (with scanners and attackers), findings by severity with
    /// the top ones, alerts by detector with the top sources and a timeline, and the files.
    #[command(
        after_help = "Examples:\n  custos summary out/\n  custos summary out/ --format md > report.md"
    )]
    Summary(SummaryArgs),
    /// Evaluate a run's detectors against labels: metrics, plots and an HTML report
    ///
    /// Reads scores.csv, alerts.jsonl and stats.json of an `analyze` output folder and the
    /// per-packet labels of its inputs (as `custos lab` writes them), and writes into REPORT:
    /// metrics.json (ROC AUC, PR AUC, TPR at FPR 1e-4/1e-3/1e-2, per-phase AUC, recall and
    /// detection delay, false alerts per benign hour, flow-level alert metrics), roc.svg/.png,
    /// one score timeline per detector (svg/png) and report.html. See docs/evaluate.md.
    #[command(
        after_help = "Example:\n  custos analyze lab.pcap -o out/ --detector kitsune\n  custos evaluate out/ --labels lab.labels.csv -o report/ --skip-training"
    )]
    Evaluate(EvaluateArgs),
    /// Measure the engine's throughput on a capture
    ///
    /// The capture is read from the page cache and nothing is written; the result is one JSON
    /// line. With --detector, its training and scoring speeds are measured separately, and
    /// while it scores, the time inside Kitsune (features and KitNET) apart from the engine.
    Bench(BenchArgs),
    /// Create a signing key: for evidence logs, or with --model for models
    ///
    /// Evidence (Ed25519, C2SP signed-note format): writes PREFIX.skey (private: keep it on the
    /// sensor, mode 0600) and PREFIX.vkey (public: give it to investigators, who verify logs and
    /// case bundles with it). Models (--model; ECDSA P-256, as OpenSSF model-signing's key mode):
    /// writes PREFIX.pem (private, mode 0600) and PREFIX.pub (public: give it to every sensor
    /// that loads your models, as --trust).
    #[command(
        after_help = "Examples:\n  custos keygen --name custos.example.org/sensor-1 -o sensor\n  custos keygen --model -o model-signer"
    )]
    Keygen(KeygenArgs),
    /// Print the pseudonym of each value (IP address, MAC address or name), one
    /// `VALUE<TAB>PSEUDONYM` line each
    ///
    /// IP addresses get Crypto-PAn (prefix-preserving), MAC addresses a keyed reversible
    /// permutation, names deterministic authenticated encryption (AES-SIV). Re-identification
    /// is possible only with the key. See docs/privacy.md.
    #[command(
        after_help = "Examples:\n  custos keygen --pseudonym -o share\n  custos pseudonymize --pseudonym-key share.pkey 192.168.1.20 02:c5:18:00:00:0a thermostat-1"
    )]
    Pseudonymize(PseudonymizeArgs),
    /// Rewrite a capture for sharing: every address pseudonymised, checksums kept valid
    ///
    /// Addresses in every header custos decodes (tunnels, ARP, IPv6 neighbour discovery, DHCP
    /// and DNS address fields, ICMP-quoted headers) get the pseudonyms of `custos
    /// pseudonymize`; valid checksums are recomputed and bad ones stay bad, so the
    /// anonymised capture gives the same flows. pcap stays pcap, pcapng stays pcapng. See
    /// docs/privacy.md.
    #[command(
        after_help = "Examples:\n  custos keygen --pseudonym -o share\n  custos anonymize lab.pcap -o lab-shared.pcap --pseudonym-key share.pkey --payload truncate:64"
    )]
    Anonymize(custos_privacy::flags::AnonymizeFlags),
    Reidentify(crate::reidentify::ReidentifyArgs),
    /// Export an analysis for sharing: STIX 2.1 bundle, MISP event or OCSF findings, pseudonymised on request
    ///
    /// Reads an `analyze` output folder (alerts, findings, events) and writes indicators for
    /// attacker addresses, JA3/JA4 and domains, sightings, observed traffic, ATT&CK
    /// attack-patterns and TLP 2.0 markings; timestamps are packet times, ids are derived from
    /// content (the same folder gives the same bytes). See docs/share.md.
    #[command(
        after_help = "Examples:\n  custos share out/ --format stix -o case.stix.json --tlp amber\n  custos share out/ --format misp -o event.json --pseudonymize share.pkey\n  custos share out/ --format ocsf -o findings.ocsf.jsonl"
    )]
    Share(ShareArgs),
    /// Labelled per-flow datasets with provenance (Parquet, manifest, datasheet)
    #[command(subcommand)]
    Dataset(DatasetCommand),
    /// Sign and verify model directories (OpenSSF model-signing format)
    #[command(subcommand)]
    Model(ModelCommand),
    /// Robustness of the detectors: poisoning and evasion experiments with defences (docs/robustness.md)
    #[command(subcommand)]
    Robust(crate::robust::RobustCommand),
    /// Verify a case bundle or an evidence log offline
    ///
    /// Needs nothing but the sensor's public key: a case bundle (CASEDIR), or an evidence log (--log: recompute the whole Merkle tree, check every tile, the signed
    /// checkpoint, and that the log only grew since each earlier checkpoint; the audit trail of
    /// re-identifications is listed).
    ///
    /// Prints each check that holds, the first that fails, and a last `verdict:` line; exit
    /// status 0 only if all hold, 1 if one fails (named), 2 on error (a missing path, a folder
    /// that is neither a case bundle nor an evidence log, a secret key as --vkey).
    Verify(VerifyArgs),
    /// Case bundles for investigators.
    #[command(subcommand)]
    Case(CaseCommand),
    /// Traffic lab: an IoT network in Linux network namespaces with real services and real
    /// attack tools, recorded from a hub port with exact per-packet labels (needs root).
    ///
    /// `custos lab list` shows the built-in scenarios; `custos lab doctor` the missing tools and
    /// the apt-get line that installs them; `custos lab run -s smoke -o out/smoke` writes
    /// out/smoke.pcap, out/smoke.labels.csv and out/smoke.manifest.json.
    #[command(subcommand)]
    Lab(custos_lab::LabCommand),
}

/// `custos case` subcommands.
#[derive(Debug, Subcommand)]
pub enum CaseCommand {
    /// Export alerts from an evidence log as a case bundle an investigator verifies offline.
    ///
    /// First appends a custody leaf to the log (who, when, why, and the SHA-256 of the bundle's
    /// manifest) and signs a new checkpoint; then writes the packet excerpts, alerts.jsonl, one
    /// .tlog-proof per leaf, the public key, case.jsonld (CASE/UCO), custody.json, a manifest and
    /// a README for the recipient.
    #[command(
        after_help = "Examples:\n  custos case export --log log/ --key sensor.skey --alert 12 --alert 40 --reason \"ticket 4711\" -o case-4711/\n  custos case export --log log/ --key sensor.skey --flow '1:LQU9qZlK+B5F3KDmev6m5PMibrg=' --reason ... -o case/\n  custos verify case-4711/ --vkey sensor.vkey"
    )]
    Export(CaseExportArgs),
}

/// Arguments of `custos case export`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("selection").required(true).args(["alert", "flow", "from"])))]
pub struct CaseExportArgs {
    /// The evidence log.
    #[arg(long, value_name = "LOGDIR")]
    pub log: PathBuf,
    /// The log's signing key (`.skey`).
    #[arg(long, value_name = "PREFIX.skey")]
    pub key: PathBuf,
    /// Alert leaf indices to export (repeat the option).
    #[arg(long = "alert", value_name = "ID")]
    pub alert: Vec<u64>,
    /// Export every alert of this flow (Community ID).
    #[arg(long, value_name = "COMMUNITY_ID")]
    pub flow: Option<String>,
    /// Export alerts from this time on (RFC 3339, e.g. 2026-11-26T00:00:00Z); needs --to.
    #[arg(long, value_name = "T", requires = "to")]
    pub from: Option<String>,
    /// Export alerts up to this time (inclusive).
    #[arg(long, value_name = "T", requires = "from")]
    pub to: Option<String>,
    /// Why the bundle is exported (recorded in the chain of custody).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// Who exports (recorded in the chain of custody; default: $USER).
    #[arg(long, value_name = "NAME")]
    pub who: Option<String>,
    /// Output directory for the bundle (must not exist or be empty).
    #[arg(short, long, value_name = "CASEDIR")]
    pub output: PathBuf,
}

/// Arguments of `custos keygen`.
#[derive(Debug, Args)]
pub struct KeygenArgs {
    /// Key name; it becomes the evidence log's origin line (e.g. `custos.example.org/sensor-1`).
    #[arg(long, required_unless_present_any = ["model", "pseudonym"], conflicts_with_all = ["model", "pseudonym"])]
    pub name: Option<String>,
    /// A pseudonym key (PREFIX.pkey, mode 0600) for sharing data without exposing who was on
    /// the network (docs/privacy.md).
    #[arg(long, conflicts_with = "model")]
    pub pseudonym: bool,
    /// A model-signing key (ECDSA P-256 PEM: PREFIX.pem and PREFIX.pub) instead of an
    /// evidence key.
    #[arg(long)]
    pub model: bool,
    /// Output prefix: writes PREFIX.skey and PREFIX.vkey (PREFIX.pem and PREFIX.pub with
    /// --model). Existing files are never overwritten.
    #[arg(short, long, value_name = "PREFIX")]
    pub output: PathBuf,
}

/// Arguments of `custos verify`.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["case_dir", "log"])))]
pub struct VerifyArgs {
    /// A case bundle directory to verify.
    #[arg(value_name = "CASEDIR")]
    pub case_dir: Option<PathBuf>,
    /// An evidence log directory to verify.
    #[arg(long, value_name = "LOGDIR")]
    pub log: Option<PathBuf>,
    /// The sensor's public key (the `.vkey` file from `custos keygen`, not the `.skey`).
    #[arg(long, value_name = "KEY")]
    pub vkey: PathBuf,
    /// With --log: a checkpoint kept elsewhere (a witness's copy, one from an earlier case
    /// bundle) that the log must extend; repeat the option for several.
    #[arg(long = "checkpoint", value_name = "FILE", requires = "log")]
    pub checkpoints: Vec<PathBuf>,
    /// With --log: skip hashing the packet excerpt files (checked by default).
    #[arg(long, requires = "log")]
    pub no_excerpts: bool,
}

/// Arguments of `custos analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Capture files (pcap, pcapng, optionally gzip-compressed); `-` reads standard input.
    #[arg(value_name = "CAPTURE", required_unless_present = "interface")]
    pub captures: Vec<PathBuf>,

    /// Capture live from this interface instead of reading files (needs root / CAP_NET_RAW).
    #[arg(short, long, value_name = "IFACE", conflicts_with = "captures")]
    pub interface: Option<String>,

    /// Where the outputs go, the settings file, threads, checksums, flows, live capture.
    #[command(flatten)]
    pub run: RunFlags,

    /// No progress bar, and no summary unless --summary.
    #[arg(short, long)]
    pub quiet: bool,

    /// Print the run's summary (packets, devices, findings, alerts, files) even when standard
    /// error is not a terminal; `custos summary DIR` prints it again later.
    #[arg(long)]
    pub summary: bool,

    /// Outputs, detectors, models, signatures, indicators, pseudonyms, evidence, app layer.
    #[command(flatten)]
    pub analysis: AnalysisFlags,
}

/// Arguments of `custos train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Kitsune: capture files of normal traffic, read as one stream; `-` reads standard input.
    #[arg(
        value_name = "CAPTURE",
        required_unless_present = "dataset",
        conflicts_with = "dataset"
    )]
    pub captures: Vec<PathBuf>,

    /// The flow detector's dataset, trees, seed, holdout and label screening.
    #[command(flatten)]
    pub flow: FlowTrainFlags,

    /// The model directory to write: the model (kitsune-model.json or flow-model.json), its
    /// model card (model-card.md and .json) and the training record (training.json; the flow
    /// detector also keeps the dataset's manifest as dataset-manifest.json). An existing,
    /// non-empty directory is refused unless --force.
    #[arg(short, long, value_name = "MODEL")]
    pub output: PathBuf,

    /// Replace the files of an existing model directory.
    #[arg(long)]
    pub force: bool,

    /// Sign the model directory with this key (`.pem` from `custos keygen --model`), as
    /// `custos model sign` does.
    #[arg(long, value_name = "KEY.pem")]
    pub sign: Option<PathBuf>,

    /// Detection options (--detector is required).
    #[command(flatten)]
    pub detect: DetectorFlags,

    /// Threads [default: the cores available].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

/// Arguments of `custos bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Capture file to measure on.
    #[arg(value_name = "CAPTURE")]
    pub capture: PathBuf,

    /// Passes over the capture; the first warms the page cache and is not counted.
    #[arg(long, default_value_t = 3)]
    pub iterations: u32,

    /// Checksum verification during the benchmark [default: auto].
    #[arg(long, value_enum)]
    pub checksums: Option<Checksums>,

    /// Measure the supervised flow detector with this model directory (loaded without a
    /// signature check: only its speed is measured): passes alternate without and with it,
    /// and its cost is printed as a share of the engine's time.
    #[arg(long, value_name = "MODEL", conflicts_with = "detector")]
    pub flow_model: Option<PathBuf>,

    /// Measure signatures: passes alternate without and with these rule files (repeat the
    /// option), and the share of the rule-less throughput kept is printed.
    /// `scripts/generate-rules.py 5000` writes a rule set to measure with.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["detector", "flow_model"])]
    pub rules: Vec<PathBuf>,

    /// Threads [default: the cores available].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// With --detector: run the detector too, reporting its training and scoring phases
    /// separately (one pass).
    #[command(flatten)]
    pub detect: DetectorFlags,
}
