//! `custos evaluate`: a run's detectors against labels (crate `custos-eval`, docs/evaluate.md).

use crate::cli::EvaluateArgs;
use crate::Outcome;
use custos_eval::{EvalConfig, Skip};

/// Runs `evaluate` and prints where the report is and each detector's headline numbers.
///
/// # Errors
/// Unreadable or inconsistent inputs (the error names the file and line), an unwritable report.
pub fn run(a: &EvaluateArgs) -> anyhow::Result<Outcome> {
    let cfg = EvalConfig {
        run_dir: a.run.clone(),
        labels: a.labels.clone(),
        skip: match (a.skip_training, a.skip) {
            (true, _) => Skip::Training,
            (false, Some(n)) => Skip::Packets(n),
            (false, None) => Skip::None,
        },
    };
    let evaluation = custos_eval::evaluate(&cfg)?;
    let files = evaluation.write(&a.output)?;
    let m = evaluation.metrics();
    for d in &m.detectors {
        let caught = d.phases.iter().filter(|p| p.caught).count();
        match &d.packet {
            Some(p) => eprintln!(
                "custos: {}: ROC AUC {:.4}, PR AUC {:.4}; {caught} of {} attack phases caught",
                d.name,
                p.roc_auc.unwrap_or(f64::NAN),
                p.pr_auc.unwrap_or(f64::NAN),
                d.phases.len()
            ),
            None => eprintln!(
                "custos: {}: {caught} of {} attack phases caught",
                d.name,
                d.phases.len()
            ),
        }
    }
    eprintln!(
        "custos: wrote {} files into {} (open report.html)",
        files.len(),
        a.output.display()
    );
    Ok(Outcome::Success)
}
