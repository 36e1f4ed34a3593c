//! `custos dataset build`: labelled captures → a per-flow dataset with provenance (crate
//! `custos-dataset`, docs/dataset.md).

use crate::Outcome;
use custos_dataset::flags::BuildFlags;

/// Builds the dataset and prints what it holds.
///
/// # Errors
/// Unreadable inputs, labels that do not fit the captures (the error names file and line), an
/// existing dataset without --force.
pub fn build(a: &BuildFlags) -> anyhow::Result<Outcome> {
    let m = a.build()?;
    for line in m.report_lines(&a.output) {
        eprintln!("custos: {line}");
    }
    Ok(if m.run.partial {
        Outcome::Partial
    } else {
        Outcome::Success
    })
}
