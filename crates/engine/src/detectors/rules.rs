//! Signatures as a detector: Suricata-language rule files matched by `custos-rules` on every
//! packet (payload and stream) and every application transaction. Alerts are EVE `alert`
//! records with the rule's sid, gid, rev, message, classtype category and priority, under
//! `custos.detector = "rules"`.

use crate::alerts::{AlertQueue, Evidence, Signature};
use crate::detector::{Detector, DetectorError, PacketView};
use crate::error::EngineError;
use custos_app::AppEvent;
use custos_rules::parse::parse_file;
use custos_rules::{Classifications, Hit, LoadReport, Matcher, RuleSet, Vars};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The signature detector.
pub struct Rules {
    matcher: Matcher,
    hits: Vec<Hit>,
    files: Vec<String>,
    loaded: usize,
    skipped: Vec<String>,
    skipped_by_keyword: BTreeMap<String, u64>,
    errors: Vec<String>,
}

/// Errors and skipped rules shown in `stats.json` (all are counted).
const LISTED: usize = 100;

impl Rules {
    /// Loads rule files with variables from a `suricata.yaml` (Suricata's defaults without
    /// one). A rule with a syntax error or an unsupported keyword is left out and reported
    /// (`stats.json`, and [`Detector::warning`]); the others load.
    ///
    /// # Errors
    /// A file that cannot be read, a `suricata.yaml` that cannot be read, or no rule loaded.
    pub fn load(files: &[PathBuf], vars_file: Option<&Path>) -> Result<Rules, EngineError> {
        let vars = match vars_file {
            Some(p) => Vars::from_yaml_file(p).map_err(|e| EngineError::Config(e.to_string()))?,
            None => Vars::default(),
        };
        let mut report = LoadReport::default();
        for f in files {
            let text = std::fs::read_to_string(f)
                .map_err(|e| EngineError::io(format!("cannot read rules {}", f.display()), e))?;
            parse_file(&text, &f.display().to_string(), &vars, &mut report);
        }
        let mut errors: Vec<String> = report.errors.iter().map(|e| e.to_string()).collect();
        // One rule per gid:sid (the parser keeps the highest rev, as Suricata): the others
        // are reported with the errors.
        errors.extend(report.duplicates.iter().map(|l| {
            format!("{l}: duplicate signature id (a rule with the same gid:sid and a higher or equal rev is kept)")
        }));
        let rules = std::mem::take(&mut report.rules);
        let (set, refused) = RuleSet::compile(rules, &Classifications::builtin());
        report.skipped.extend(refused);
        if set.is_empty() {
            let mut why = format!(
                "no rule loaded from {} ({} syntax errors, {} unsupported)",
                files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                errors.len(),
                report.skipped.len()
            );
            if let Some(e) = errors.first() {
                why.push_str(&format!("; first error: {e}"));
            } else if let Some(s) = report.skipped.first() {
                why.push_str(&format!("; first skipped: {s}"));
            }
            return Err(EngineError::Config(why));
        }
        Ok(Rules {
            loaded: set.len(),
            skipped_by_keyword: report.skipped_by_keyword(),
            skipped: report.skipped.iter().map(|s| s.to_string()).collect(),
            errors,
            files: files.iter().map(|f| f.display().to_string()).collect(),
            matcher: Matcher::new(set),
            hits: Vec::new(),
        })
    }

    /// Rules loaded.
    pub fn loaded(&self) -> usize {
        self.loaded
    }

    /// Syntax errors, each with file and line.
    pub fn errors(&self) -> &[String] {
        &self.errors
    }

    /// Rules skipped as unsupported, each with file, line and keyword.
    pub fn skipped(&self) -> &[String] {
        &self.skipped
    }

    fn signature(&self, hit: &Hit) -> Option<(Signature<'_>, Option<&'static str>)> {
        let rule = self.matcher.rules().rule(hit.rule)?;
        let (category, severity) = self.matcher.rules().classification(hit.rule)?;
        Some((
            Signature {
                gid: rule.gid,
                signature_id: rule.sid,
                rev: rule.rev,
                signature: &rule.msg,
                category,
                severity,
            },
            hit.app_proto,
        ))
    }
}

impl Detector for Rules {
    fn name(&self) -> &str {
        "rules"
    }

    fn reads_app_proto(&self) -> bool {
        true
    }

    fn warning(&self) -> Option<String> {
        match (self.errors.len(), self.skipped.len()) {
            (0, 0) => None,
            (e, s) => Some(format!(
                "{} rules loaded; {e} with syntax errors and {s} unsupported were left out \
                 (listed in stats.json{})",
                self.loaded,
                self.errors
                    .first()
                    .map(|e| format!("; first error: {e}"))
                    .unwrap_or_default()
            )),
        }
    }

    fn packet(
        &mut self,
        packet: &PacketView<'_>,
        alerts: &mut AlertQueue,
    ) -> Result<Option<f64>, DetectorError> {
        self.hits.clear();
        self.matcher.packet(
            packet.meta.ts,
            (packet.decoded, packet.data, packet.app_proto),
            &mut self.hits,
        );
        let hits = std::mem::take(&mut self.hits);
        for hit in &hits {
            if let Some((sig, app_proto)) = self.signature(hit) {
                alerts.raise_unthrottled("rules", packet, &sig, evidence(), app_proto);
            }
        }
        self.hits = hits;
        Ok(None)
    }

    fn event(&mut self, event: &AppEvent, alerts: &mut AlertQueue) -> Result<(), DetectorError> {
        self.hits.clear();
        self.matcher.event(event, &mut self.hits);
        let hits = std::mem::take(&mut self.hits);
        for hit in &hits {
            if let Some((sig, _)) = self.signature(hit) {
                alerts.raise_event("rules", event, &sig, evidence(), hit.metadata.clone());
            }
        }
        self.hits = hits;
        Ok(())
    }

    fn finish(&mut self) -> Result<serde_json::Value, DetectorError> {
        let counts = self.matcher.counts();
        Ok(serde_json::json!({
            "files": self.files,
            "loaded": self.loaded,
            "skipped": self.skipped.len(),
            "skipped_by_keyword": self.skipped_by_keyword,
            "errors": self.errors.len(),
            "error_list": self.errors.iter().take(LISTED).collect::<Vec<_>>(),
            "skipped_list": self.skipped.iter().take(LISTED).collect::<Vec<_>>(),
            "evaluated": counts.evaluated,
            "matched": counts.matched,
        }))
    }
}

/// Signatures match or not: score 1, threshold 1.
fn evidence() -> Evidence {
    Evidence {
        score: 1.0,
        threshold: Some(1.0),
        explanation: None,
    }
}
