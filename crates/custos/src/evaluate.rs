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
    for l in &m.leakage {
        eprintln!(
            "custos: warning: leakage: {}; these metrics do not measure detection on unseen \
             traffic",
            l.describe()
        );
    }
    if !m.leakage_checked {
        eprintln!(
            "custos: note: the run recorded no SHA-256 for some inputs (standard input, or a \
             run before custos recorded them): train/test leakage was not checked for them"
        );
    }
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
    if let Some(model) = &a.model_card {
        card(model, m, a)?;
    }
    Ok(Outcome::Success)
}

/// Writes the evaluation's metrics into a model card (and re-signs when asked).
fn card(model: &std::path::Path, m: &custos_eval::Metrics, a: &EvaluateArgs) -> anyhow::Result<()> {
    let metrics = serde_json::json!({
        "source": "custos evaluate",
        "detectors": m.detectors,
        "leakage": m.leakage,
    });
    let evaluation_data = serde_json::json!({
        "run": m.run,
        "labels": m.labels,
        "packets": m.packets,
        "skipped_packets": m.skipped_packets,
        "benign_hours": m.benign_hours,
        "phases": m.phases.iter().map(|p| p.name.clone()).collect::<Vec<_>>(),
    });
    custos_engine::detectors::update_card_metrics(model, metrics, evaluation_data)?;
    crate::model::card_updated(model, a.sign.as_deref(), "the metrics")?;
    Ok(())
}
