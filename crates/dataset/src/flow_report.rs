//! What training the flow model tells whoever ran it: the model's size, threshold and
//! held-out metrics, the training's warnings and the label screening's count, one line each.

use crate::screening::SCREENING_FILE;
use crate::TrainedFlowModel;
use std::path::Path;

impl TrainedFlowModel {
    /// The lines that report this training of the dataset `dataset` into the model directory
    /// `dir`: the model and its held-out metrics, then each warning (`warning: …`), then the
    /// label screening when there was one.
    pub fn report_lines(&self, dataset: &Path, dir: &Path) -> Vec<String> {
        let (t, m) = (&self.training, &self.training["held_out_metrics"]);
        let mut lines = vec![format!(
            "trained the flow model on {} rows of {} ({} trees); threshold {:.4}; held out: ROC \
             AUC {}, recall {}, false-positive rate {}",
            t["rows"]["training"],
            dataset.display(),
            self.model.gbdt.trees().len(),
            self.model.threshold(),
            m["roc_auc"],
            m["recall"],
            m["false_positive_rate"],
        )];
        for w in t["warnings"].as_array().into_iter().flatten() {
            lines.push(format!("warning: {}", w.as_str().unwrap_or_default()));
        }
        if let Some(sc) = &self.screening {
            lines.push(format!(
                "label screening ({} folds): {} of {} flows have a label the rest of the data \
                 contradicts ({} attack, {} benign); listed in {}",
                sc["folds"],
                sc["suspicious"],
                sc["flows"],
                sc["suspicious_attack_labels"],
                sc["suspicious_benign_labels"],
                dir.join(SCREENING_FILE).display()
            ));
        }
        lines
    }
}
