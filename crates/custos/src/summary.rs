//! `custos summary`: the summary of an earlier run, and the one `analyze` prints at its end.

use crate::cli::SummaryArgs;
use crate::Outcome;
use custos_output::summary::{Format, RunReport};
use std::io::Write;
use std::path::Path;

/// Runs `summary`.
///
/// # Errors
/// The folder is not the output folder of a finished run, or a file in it is unreadable.
pub fn run(args: &SummaryArgs) -> anyhow::Result<Outcome> {
    print(&args.dir, args.format)?;
    Ok(Outcome::Success)
}

/// Prints the summary of the run in `dir` on standard output.
///
/// # Errors
/// As [`run`], or standard output is closed.
pub fn print(dir: &Path, format: Format) -> anyhow::Result<()> {
    let report = RunReport::collect(dir)?;
    let mut out = std::io::stdout().lock();
    out.write_all(report.render(format).as_bytes())?;
    out.flush()?;
    Ok(())
}
