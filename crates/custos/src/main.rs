//! `custos`: the command-line tool. Parses arguments, builds a validated configuration, calls
//! the library crates, and maps the outcome to an exit code:
//! 0 success; 1 completed with a negative result; 2 usage, I/O or fatal error; 3 partial
//! (an input was damaged part-way: everything before the damage was processed and written).

mod analyze;
mod bench;
mod cli;
mod cli_tools;
mod dataset;
mod evaluate;
mod keys;
mod model;
mod privacy;
mod reidentify;
mod robust;
mod share;
mod summary;
mod train;

use clap::Parser;
use std::process::ExitCode;

/// Exit status of a run that completed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Everything worked.
    Success,
    /// An input was damaged part-way; the results cover what came before the damage.
    Partial,
    /// Completed with a negative result (e.g. verification failed).
    Negative,
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match run(cli) {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::Partial) => ExitCode::from(3),
        Ok(Outcome::Negative) => ExitCode::from(1),
        Err(e) => {
            if let Some(io) = e.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::BrokenPipe {
                    return ExitCode::SUCCESS;
                }
            }
            eprintln!("custos: error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: cli::Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        cli::Command::Analyze(args) => analyze::run(*args),
        cli::Command::Train(args) => train::run(args),
        cli::Command::Summary(args) => summary::run(&args),
        cli::Command::Evaluate(args) => evaluate::run(&args),
        cli::Command::Bench(args) => bench::run(args),
        cli::Command::Keygen(args) if args.model => model::keygen(&args),
        cli::Command::Keygen(args) if args.pseudonym => privacy::keygen(&args),
        cli::Command::Pseudonymize(args) => privacy::pseudonymize(&args),
        cli::Command::Anonymize(args) => privacy::anonymize(&args),
        cli::Command::Reidentify(args) => reidentify::run(&args),
        cli::Command::Share(args) => share::run(&args),
        cli::Command::Dataset(cli::DatasetCommand::Build(args)) => dataset::build(&args),
        cli::Command::Robust(cmd) => robust::run(cmd),
        cli::Command::Keygen(args) => keys::keygen(args),
        cli::Command::Model(cli::ModelCommand::Sign(args)) => model::sign(&args),
        cli::Command::Model(cli::ModelCommand::Verify(args)) => model::verify(&args),
        cli::Command::Verify(args) => keys::verify(args),
        cli::Command::Case(cli::CaseCommand::Export(args)) => keys::case_export(args),
        cli::Command::Lab(cmd) => match custos_lab::run(cmd)? {
            0 => Ok(Outcome::Success),
            _ => Ok(Outcome::Negative),
        },
    }
}
