//! Raw command-line arguments (clap derive). Validation happens in each command's config.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

pub use crate::cli_tools::{
    AnonymizeArgs, DatasetBuildArgs, DatasetCommand, EvaluateArgs, ModelCommand, ModelSignArgs,
    ModelVerifyArgs, PseudonymArgs, PseudonymizeArgs, ShareArgs, ShareFormat, SummaryArgs,
    SummaryFormatArg,
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
    /// line. With --detector, its training and scoring speeds are measured separately.
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
    Anonymize(AnonymizeArgs),
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

/// Anomaly detectors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DetectorArg {
    /// Kitsune (NDSS 2018): AfterImage features and the KitNET autoencoder ensemble.
    Kitsune,
    /// Supervised flow model: gradient-boosted trees over live flow features, trained on a
    /// labelled dataset (custos train --detector flow --dataset DS); needs its --model.
    Flow,
}

/// How the alert threshold is chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ThresholdArg {
    /// Fit a log-normal to the median and upper quantile of the benign calibration window's
    /// scores, check it against the window's own tail (falling back to its high quantile) and
    /// alert at --fpr; warns when the window looks contaminated.
    Robust,
    /// Fit a log-normal to the mean and standard deviation of the calibration window's
    /// log-scores and alert at --fpr (as Kitsune-py's example.py does).
    Lognormal,
    /// The paper's rule: alert above φ·β, φ = the largest error of the output autoencoder
    /// while training.
    PhiBeta,
}

/// Detector options shared by `analyze`, `train` and `bench`. Options left out keep the value
/// of the configuration file, or the default listed in docs/config.md.
#[derive(Debug, Args, Clone)]
pub struct DetectorArgs {
    /// Detectors to run, comma-separated (`kitsune,flow`) or repeated (with analyze: writes
    /// scores.csv, one column each and `combined`, and alerts.jsonl; with train: the detector
    /// whose model is trained; with bench: the detector measured).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub detector: Vec<DetectorArg>,

    /// Kitsune: reproduce Kitsune-py exactly, quirks included (string-joined socket keys,
    /// ICMPv6 without protocol, pairwise cost growing with peers); see docs/kitsune-compat.md.
    #[arg(long)]
    pub kitsune_compat: bool,

    /// Kitsune: the paper's 115 features (N-BaIoT order) instead of Kitsune-py's 100.
    #[arg(long, conflicts_with = "kitsune_compat")]
    pub features_115: bool,

    /// Kitsune default mode: most streams kept per statistics table (MAC–IP, host, jitter,
    /// socket); beyond it stale or least recently seen streams are evicted [default: 262144].
    #[arg(long, value_name = "N")]
    pub kitsune_max_streams: Option<usize>,

    /// Kitsune default mode: most stream pairs kept per pair table [default: 262144].
    #[arg(long, value_name = "N")]
    pub kitsune_max_pairs: Option<usize>,

    /// Kitsune: packets that learn the feature map [default: 1000].
    #[arg(long, value_name = "N")]
    pub fm_grace: Option<u64>,

    /// Kitsune: packets that then train the autoencoders [default: 10000].
    #[arg(long, value_name = "N")]
    pub ad_grace: Option<u64>,

    /// Kitsune: largest autoencoder (features per autoencoder) [default: 10].
    #[arg(long, value_name = "N")]
    pub max_ae: Option<usize>,

    /// Packets after the grace periods whose scores calibrate the threshold (assumed benign;
    /// no alerts are raised there) [default: 5000].
    #[arg(long, value_name = "N")]
    pub calibration: Option<u64>,

    /// Threshold rule [default: robust].
    #[arg(long, value_enum)]
    pub threshold_rule: Option<ThresholdArg>,

    /// False-positive rate of the robust and log-normal rules per packet [default: 0.00001];
    /// for the flow detector (train), per scored benign flow moment [default: 0.001].
    #[arg(long, value_name = "P")]
    pub fpr: Option<f64>,

    /// With --model: seconds of packet time at the start that are scored without alerts
    /// while the statistics fill (a model scores a cold start as unusual) [default: 60].
    #[arg(long, value_name = "SECONDS")]
    pub warmup: Option<f64>,

    /// β for the φ·β rule [default: 1].
    #[arg(long, value_name = "B")]
    pub beta: Option<f64>,
}

/// How to treat checksums.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ChecksumArg {
    /// Verify unless the capture shows checksum offloading (more than 1 in 10 of the first
    /// 1000 checked packets bad, as Suricata decides).
    Auto,
    /// Verify: packets with bad checksums are counted and kept out of flow state (as Zeek).
    Verify,
    /// Never verify (Zeek's -C).
    Ignore,
}

/// Compression of the output files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum CompressArg {
    /// Plain files.
    None,
    /// zstd: every output file gets `.zst` (read with zstdcat).
    Zstd,
}

/// Which application events events.jsonl holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum EventsArg {
    /// Every event.
    All,
    /// Routine messages (MQTT publishes and keep-alives, Modbus reads, CoAP GETs and their
    /// answers) counted per session in one `app_summary` record; every other event written.
    Summary,
    /// None (no events.jsonl); findings, inventory and detectors still see every event.
    None,
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

    /// Directory for the output files (created if missing); or `[output] dir` in --config.
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,

    /// Settings of the run (TOML; every key in docs/config.md). Options given on the command
    /// line override the file.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Threads: 1 runs everything on one thread; 2 or more stage the run over three threads
    /// (docs/engine.md) [default: the cores available]. Outputs are the same at any count.
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,

    /// Checksum verification [default: auto].
    #[arg(long, value_enum)]
    pub checksums: Option<ChecksumArg>,

    /// Most flows held in memory at once; beyond it the least recently active are evicted
    /// (and counted in stats.json) [default: 1000000].
    #[arg(long, value_name = "N")]
    pub max_flows: Option<usize>,

    /// Decide connection originators as Zeek does in bare mode (`zeek -b`), where no
    /// application analyzers register their well-known server ports.
    #[arg(long)]
    pub zeek_bare: bool,

    /// With --interface: the capture socket's kernel buffer, bytes; frames beyond it are
    /// dropped by the kernel, counted in stats.json and reported [default: 33554432].
    #[arg(long, value_name = "BYTES")]
    pub live_buffer: Option<usize>,

    /// Stop after this many packets (useful with --interface).
    #[arg(long, value_name = "N")]
    pub max_packets: Option<u64>,

    /// No progress bar, and no summary unless --summary.
    #[arg(short, long)]
    pub quiet: bool,

    /// Print the run's summary (packets, devices, findings, alerts, files) even when standard
    /// error is not a terminal; `custos summary DIR` prints it again later.
    #[arg(long)]
    pub summary: bool,

    /// Replace the outputs of an earlier run in DIR: exactly the files listed in its
    /// custos-run.json (and built-in output names); other files in DIR are left alone.
    /// Without it a DIR holding an earlier run's outputs is refused.
    #[arg(long)]
    pub force: bool,

    /// Compress every output file [default: none].
    #[arg(long, value_enum)]
    pub compress: Option<CompressArg>,

    /// Application events written to events.jsonl [default: all].
    #[arg(long, value_enum)]
    pub events: Option<EventsArg>,

    /// Detection options.
    #[command(flatten)]
    pub detect: DetectorArgs,

    /// Score with this trained model directory (from `custos train`): `DETECTOR=DIR`
    /// (`kitsune=DIR`, `flow=DIR`), or a bare `DIR` for a single detector. Loaded only when
    /// signed by a key given with --trust (`custos model sign`); refused if unsigned,
    /// modified, signed by another key, corrupt, or made for other features. One model per
    /// option; repeat it for several detectors.
    #[arg(long, value_name = "[DETECTOR=]MODEL")]
    pub model: Vec<String>,

    /// Public key (`.pub` from `custos keygen --model`) of a signer whose models are loaded;
    /// repeat the option for several.
    #[arg(long = "trust", value_name = "KEY.pub")]
    pub trust: Vec<PathBuf>,

    /// Load a model without a trusted signature (for research); recorded in stats.json and
    /// in every alert.
    #[arg(long)]
    pub allow_unsigned_model: bool,

    /// Match the signatures of this Suricata-language rule file (repeat for several; e.g.
    /// custos's own rules/iot.rules). Rules custos cannot honour exactly are skipped and
    /// counted in stats.json (docs/rules.md).
    #[arg(long, value_name = "FILE")]
    pub rules: Vec<PathBuf>,

    /// A suricata.yaml whose `vars:` define the rules' $HOME_NET, $HTTP_PORTS, …
    #[arg(long, value_name = "suricata.yaml")]
    pub rules_vars: Option<PathBuf>,

    /// Alert on the indicators of this file: a plain list, CSV or STIX 2.1 bundle of IPs,
    /// networks, domains, URLs, JA3/JA4 (repeat for several; docs/ioc.md).
    #[arg(long, value_name = "FILE")]
    pub ioc: Vec<PathBuf>,

    /// Write every output pseudonymised with this key (`.pkey`), one mapping for all files;
    /// the evidence log stays original (docs/privacy.md).
    #[arg(long, value_name = "K.pkey")]
    pub pseudonymize: Option<PathBuf>,

    /// With --pseudonymize: the sharing policy (TOML).
    #[arg(long, value_name = "FILE", requires = "pseudonymize")]
    pub pseudonym_policy: Option<PathBuf>,

    /// Log every alert as evidence in this tamper-evident log (created if missing), with a
    /// pcap excerpt of its flow; a signed checkpoint is published at the end. Needs --key.
    #[arg(long, value_name = "LOGDIR", requires = "key")]
    pub evidence: Option<PathBuf>,

    /// Signing key for the evidence log (`.skey` from `custos keygen`).
    #[arg(long, value_name = "PREFIX.skey", requires = "evidence")]
    pub key: Option<PathBuf>,

    /// Sensor name recorded in evidence [default: custos].
    #[arg(long)]
    pub sensor: Option<String>,

    /// Raise an alert for every packet above the threshold (default: at most one per flow,
    /// by Community ID, per second of packet time; the rest are counted as suppressed).
    #[arg(long)]
    pub alert_every_packet: bool,

    /// Settings of the application layer (TOML): `[findings]` thresholds and windows,
    /// `default_credentials` (extra list file), `oui_dir`; the same keys as `[app]` in
    /// --config. See docs/app.md.
    #[arg(long, value_name = "FILE")]
    pub app_config: Option<PathBuf>,

    /// Directory of the IEEE MAC registries (`oui.csv`, `mam.csv`, `oui36.csv`) for device
    /// vendors [default: /usr/share/ieee-data, from Debian's ieee-data, when present].
    #[arg(long, value_name = "DIR")]
    pub oui_dir: Option<PathBuf>,
}

/// Arguments of `custos train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Kitsune: capture files of normal traffic, read as one stream; `-` reads standard input.
    #[arg(value_name = "CAPTURE", required_unless_present = "dataset")]
    pub captures: Vec<PathBuf>,

    /// The flow detector: the labelled dataset to learn from (`custos dataset build`).
    #[arg(long, value_name = "DS", conflicts_with = "captures")]
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
    pub detect: DetectorArgs,

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
    pub checksums: Option<ChecksumArg>,

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
    pub detect: DetectorArgs,
}
