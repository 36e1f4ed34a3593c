//! `custos evaluate`: a run's detectors against labels (crate `custos-eval`, docs/evaluate.md).

use crate::cli::EvaluateArgs;
use crate::Outcome;
use custos_eval::EvalConfig;

/// Runs `evaluate` and prints where the report is and each detector's headline numbers.
///
/// # Errors
/// Unreadable or inconsistent inputs (the error names the file and line), an unwritable report.
pub fn run(a: &EvaluateArgs) -> anyhow::Result<Outcome> {
    let evaluation = custos_eval::evaluate(&EvalConfig::from_flags(&a.eval))?;
    let files = evaluation.write(&a.eval.output)?;
    let m = evaluation.metrics();
    for line in m.report_lines() {
        eprintln!("custos: {line}");
    }
    eprintln!(
        "custos: wrote {} files into {} (open report.html)",
        files.len(),
        a.eval.output.display()
    );
    if let Some(model) = &a.model_card {
        let (metrics, evaluation_data) = m.card_entries();
        custos_engine::detectors::update_card_metrics(model, metrics, evaluation_data)?;
        crate::model::card_updated(model, a.sign.as_deref(), "the metrics")?;
    }
    Ok(Outcome::Success)
}
