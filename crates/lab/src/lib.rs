//! custos-lab: a traffic lab that produces labelled IoT captures from real services and real
//! attack tools.
//!
//! A run ([`run_scenario`]) builds network namespaces joined by a Linux bridge that floods every
//! frame (a hub), starts real services on a gateway (mosquitto, libcoap, lighttpd, dnsmasq and a
//! fake telnet login), runs device behaviours in threads inside device namespaces, then runs the
//! scenario's phases, attacks by real tools (nmap, hping3, hydra, arpspoof, mosquitto clients,
//! slowhttptest) from an attacker namespace. A sensor namespace captures its promiscuous port
//! into `PREFIX.pcap`; [`label`] turns the capture and the phase timeline into
//! `PREFIX.labels.csv`, and the run writes `PREFIX.manifest.json`.
//!
//! Scenarios are TOML ([`scenario`]); the built-ins are in `crates/lab/scenarios/`.
//! [`LabCommand`] is the `custos lab` command line, [`run`] executes it.
//!
//! What it does not do: it never touches the host's own network namespace beyond creating and
//! deleting `custos-lab-*` namespaces, uses addresses only from 198.18.0.0/15, runs no attack
//! without packet and time bounds, and does not analyse the capture (that is `custos analyze`).
//! It needs root.

#![deny(missing_docs)]

pub mod attack;
mod attack_plan;
pub mod chatter;
pub mod devices;
pub mod error;
pub mod lab;
pub mod label;
pub mod modbus;
pub mod scenario;
pub mod scripted;
pub mod services;
pub mod ssdp;
pub mod sys;
pub mod tools;

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::Ordering;

pub use error::LabError;
pub use lab::{run_scenario, Manifest, RunOptions, INTERRUPT};
pub use scenario::{Scenario, BUILT_INS};

/// `custos lab …` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum LabCommand {
    /// Run a scenario (built-in name or TOML file) and write PREFIX.pcap, PREFIX.labels.csv and
    /// PREFIX.manifest.json (needs root).
    Run(RunArgs),
    /// List the built-in scenarios.
    List,
    /// Print a built-in scenario's TOML (a starting point for your own).
    Show {
        /// Built-in scenario name.
        name: String,
    },
    /// Say which tools are missing and the apt-get line that installs them.
    Doctor,
    /// Remove namespaces and work directories left by interrupted runs (custos-lab-*).
    Clean,
}

/// Arguments of `custos lab run`.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Built-in scenario name (see `custos lab list`) or path to a scenario TOML file.
    #[arg(long, short = 's')]
    pub scenario: String,
    /// Output prefix.
    #[arg(long, short = 'o')]
    pub output: PathBuf,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Keep the work directory with service configurations and tool logs.
    #[arg(long)]
    pub keep_workdir: bool,
    /// No progress messages.
    #[arg(long, short = 'q')]
    pub quiet: bool,
}

/// Installs a Ctrl-C handler that raises [`INTERRUPT`] (once per process; an existing handler
/// is left alone).
pub fn install_interrupt_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(|| INTERRUPT.store(true, Ordering::SeqCst));
    });
}

/// Executes a `custos lab` command; returns the exit code: 0 success, 1 `doctor` found missing
/// tools, 2 error (also after Ctrl-C, once everything is torn down).
///
/// # Errors
/// Errors of `run` (the lab is torn down before it returns).
pub fn run(cmd: LabCommand) -> anyhow::Result<i32> {
    match cmd {
        LabCommand::List => {
            let mut out = std::io::stdout().lock();
            for b in BUILT_INS {
                let s = Scenario::from_toml(b.toml)?;
                let secs: f64 = s.warmup_s
                    + s.phases
                        .iter()
                        .map(|p| p.duration_s + if p.attack.is_some() { p.drain_s } else { 0.0 })
                        .sum::<f64>();
                writeln!(out, "{:<12} ≤{:>5.0} s  {}", b.name, secs, s.description)?;
            }
            Ok(0)
        }
        LabCommand::Show { name } => match BUILT_INS.iter().find(|b| b.name == name) {
            Some(b) => {
                write!(std::io::stdout(), "{}", b.toml)?;
                Ok(0)
            }
            None => anyhow::bail!("no built-in scenario {name:?} (see `custos lab list`)"),
        },
        LabCommand::Doctor => {
            let all: Vec<&'static lab::Tool> = lab::TOOLS.iter().collect();
            let miss = lab::missing(&all);
            let mut out = std::io::stdout().lock();
            for t in lab::TOOLS {
                let state = match sys::which(t.program) {
                    Some(p) => format!("ok       {}", p.display()),
                    None => "MISSING".to_owned(),
                };
                writeln!(
                    out,
                    "{:<18} {:<18} {:<45} {state}",
                    t.program, t.package, t.purpose
                )?;
            }
            if !sys::is_root() {
                writeln!(
                    out,
                    "note: `custos lab run` and `custos lab clean` need root"
                )?;
            }
            if miss.is_empty() {
                writeln!(out, "all tools present")?;
                Ok(0)
            } else {
                writeln!(out, "missing: install with\n  {}", lab::apt_line(&miss))?;
                Ok(1)
            }
        }
        LabCommand::Clean => {
            if !sys::is_root() {
                anyhow::bail!(LabError::NotRoot);
            }
            let removed = sys::clean()?;
            if removed.is_empty() {
                eprintln!("custos-lab: nothing to clean");
            }
            for r in removed {
                eprintln!("custos-lab: removed {r}");
            }
            Ok(0)
        }
        LabCommand::Run(a) => {
            install_interrupt_handler();
            let (scenario, text) = Scenario::load(&a.scenario)?;
            let opts = RunOptions {
                output: a.output,
                seed: a.seed,
                keep_workdir: a.keep_workdir,
                quiet: a.quiet,
            };
            let m = run_scenario(&scenario, &text, &opts)?;
            if !opts.quiet {
                eprintln!(
                    "custos-lab: {} packets, {} labelled 1",
                    m.packets, m.label_1
                );
                for p in &m.phases {
                    eprintln!(
                        "custos-lab:   {:<14} {:<9} {:>7.2} s {:>8} packets {:>8} label 1",
                        p.span.name,
                        format!("{:?}", p.span.kind).to_lowercase(),
                        (p.span.end_ns - p.span.start_ns) as f64 / 1e9,
                        p.packets,
                        p.label_1
                    );
                }
            }
            Ok(0)
        }
    }
}
