//! What a run tells whoever ran it, one line each: what pseudonymising the outputs did, the
//! warnings, a live capture's kernel counts and what the evidence log took.

use crate::RunSummary;
use std::path::Path;

impl RunSummary {
    /// The lines that report this run, in order: what pseudonymising the outputs into `dir`
    /// did, each warning (`warning: …`), a live capture's kernel counts, and what the evidence
    /// log took. `live`: the run read an interface (its leaves are spooled captures and
    /// alerts); `evidence_log` names the log where the statistics do not.
    pub fn report_lines(
        &self,
        dir: Option<&Path>,
        live: bool,
        evidence_log: Option<&Path>,
    ) -> Vec<String> {
        let mut lines = Vec::new();
        if let (Some(r), Some(dir)) = (&self.pseudonymized, dir) {
            lines.extend(r.report_lines(dir));
        }
        lines.extend(self.warnings.iter().map(|w| format!("warning: {w}")));
        if let Some(l) = &self.stats.live {
            lines.push(format!(
                "live capture: {} frames read; the kernel saw {} and dropped {} (buffer {} bytes)",
                self.stats.packets, l.kernel_seen, l.kernel_dropped, l.buffer_bytes
            ));
        }
        if let Some(ev) = self.stats.outputs.get("evidence") {
            if let Some(opened) = ev["opened"].as_str() {
                lines.push(opened.to_string());
            }
            let what = if live {
                "leaves (spooled captures and alerts)"
            } else {
                "alerts as evidence"
            };
            let named = evidence_log.map(|d| d.display().to_string());
            let log = ev["log"].as_str().map(str::to_string).or(named);
            lines.push(format!(
                "logged {} {what} in {} (log size {}, checkpoint signed)",
                ev["leaves_appended"],
                log.unwrap_or_default(),
                ev["log_size"]
            ));
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use crate::RunSummary;
    use serde_json::json;
    use std::path::Path;

    #[test]
    fn reports_warnings_then_the_evidence_log() {
        let mut s = RunSummary {
            stats: Default::default(),
            partial: false,
            warnings: vec!["w".into()],
            learned_from_attacks: Vec::new(),
            pseudonymized: None,
        };
        let ev = json!({"leaves_appended": 2, "log_size": 5, "opened": "evidence log l: created"});
        s.stats.outputs.insert("evidence".into(), ev);
        let lines = s.report_lines(None, true, Some(Path::new("l")));
        assert_eq!(
            lines,
            [
                "warning: w",
                "evidence log l: created",
                "logged 2 leaves (spooled captures and alerts) in l (log size 5, checkpoint signed)"
            ]
        );
    }
}
