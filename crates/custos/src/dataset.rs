//! `custos dataset build`: labelled captures → a per-flow dataset with provenance (crate
//! `custos-dataset`, docs/dataset.md).

use crate::cli::DatasetBuildArgs;
use crate::Outcome;
use custos_engine::EngineConfig;

/// Builds the dataset and prints what it holds.
///
/// # Errors
/// Unreadable inputs, labels that do not fit the captures (the error names file and line), an
/// existing dataset without --force.
pub fn build(a: &DatasetBuildArgs) -> anyhow::Result<Outcome> {
    let mut cfg = EngineConfig::default();
    cfg.output.overwrite = a.force;
    if let Some(t) = a.threads {
        cfg.threads = t;
    }
    let m = custos_dataset::build(
        &a.captures,
        &a.labels,
        &a.output,
        a.datasheet.as_deref(),
        cfg,
    )?;
    for w in &m.run.warnings {
        eprintln!("custos: warning: {w}");
    }
    let labels: Vec<String> = m
        .counts
        .label
        .iter()
        .map(|(k, v)| format!("{v} {k}"))
        .collect();
    eprintln!(
        "custos: {} flows ({}) from {} packets in {} (sha256 {})",
        m.output.rows,
        labels.join(", "),
        m.run.packets,
        a.output.join(&m.output.file).display(),
        m.output.sha256
    );
    Ok(if m.run.partial {
        Outcome::Partial
    } else {
        Outcome::Success
    })
}
