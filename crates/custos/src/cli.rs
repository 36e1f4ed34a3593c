//! Raw command-line arguments (clap derive). Validation happens in each command's config.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// custos — see, detect and prove what happens on IoT networks.
///
/// custos reads packet captures (pcap, pcapng, gzip-compressed, or stdin) or a live interface,
/// decodes every packet down to TCP/UDP/ICMP (through VLANs, MPLS, PPPoE and tunnels such as
/// GRE, VXLAN, Geneve, GTP-U and Teredo), tracks bidirectional flows with Zeek's connection
/// semantics, and writes Zeek- and Suricata-compatible flow records.
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
    /// Analyse captures (or a live interface) and write flow records.
    ///
    /// Writes into DIR: conn.log (Zeek TSV, with community_id and the file and packet
    /// indices of each flow), flows.jsonl (Suricata EVE "flow" events) and stats.json
    /// (packets, link types, decode errors, flows, speed).
    ///
    /// Several captures are read as one stream, in the order given.
    ///
    /// Exit status: 0 success; 2 error (nothing trustworthy written); 3 partial: an input was
    /// damaged part-way, everything before the damage was processed and written, and the
    /// error names the file, byte offset and packet number.
    #[command(
        after_help = "Examples:\n  custos analyze samples/iot-small.pcap -o out/\n  custos analyze day1.pcap.gz day2.pcapng -o out/ --checksums ignore\n  sudo custos analyze --interface eth0 -o out/   (Ctrl-C to stop)"
    )]
    Analyze(AnalyzeArgs),
    /// Measure decode + flow throughput on a capture (read from the page cache).
    Bench(BenchArgs),
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

/// Arguments of `custos analyze`.
#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// Capture files (pcap, pcapng, optionally gzip-compressed); `-` reads standard input.
    #[arg(value_name = "CAPTURE", required_unless_present = "interface")]
    pub captures: Vec<PathBuf>,

    /// Capture live from this interface instead of reading files (needs root / CAP_NET_RAW).
    #[arg(short, long, value_name = "IFACE", conflicts_with = "captures")]
    pub interface: Option<String>,

    /// Directory for the output files (created if missing).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,

    /// Checksum verification.
    #[arg(long, value_enum, default_value_t = ChecksumArg::Auto)]
    pub checksums: ChecksumArg,

    /// Most flows held in memory at once; beyond it the least recently active are evicted
    /// (and counted in stats.json).
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    pub max_flows: usize,

    /// Decide connection originators as Zeek does in bare mode (`zeek -b`), where no
    /// application analyzers register their well-known server ports.
    #[arg(long)]
    pub zeek_bare: bool,

    /// Stop after this many packets (useful with --interface).
    #[arg(long, value_name = "N")]
    pub max_packets: Option<u64>,

    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
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

    /// Checksum verification during the benchmark.
    #[arg(long, value_enum, default_value_t = ChecksumArg::Auto)]
    pub checksums: ChecksumArg,
}
