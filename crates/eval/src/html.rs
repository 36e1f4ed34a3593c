//! `report.html`: one self-contained page — the metrics as tables, the SVG plots inline.
//! Every string that comes from the inputs (paths, detector and phase names) is escaped;
//! the SVG text is escaped by the plotting backend.

use crate::metrics::{DetectorMetrics, Metrics};
use std::fmt::Write;

/// Escapes `s` for HTML text and attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A number for a table cell (`–` when undefined), six significant digits.
fn num(v: Option<f64>) -> String {
    match v {
        Some(v) if v == 0.0 || (1e-3..1e6).contains(&v.abs()) => format!("{}", round6(v)),
        Some(v) => format!("{v:.5e}"),
        None => "–".into(),
    }
}

/// `v` rounded to six significant digits.
fn round6(v: f64) -> f64 {
    if v == 0.0 {
        return 0.0;
    }
    let scale = 10f64.powi(5 - v.abs().log10().floor() as i32);
    (v * scale).round() / scale
}

/// The page's style sheet.
const STYLE: &str = "body{font-family:sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #bbb;padding:.25em .6em;\
text-align:right}th:first-child,td:first-child{text-align:left}th{background:#eee}\
svg{max-width:100%;height:auto;display:block;margin:1em 0}.warning{color:#a00}";

/// Renders the report: `roc` and each `(detector, svg)` timeline are inlined.
pub(crate) fn render(m: &Metrics, roc: Option<&str>, timelines: &[(String, String)]) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>custos evaluation: {}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>custos evaluation</h1>\n",
        escape(&m.run)
    );
    summary(&mut h, m);
    for l in &m.leakage {
        let _ = writeln!(
            h,
            "<p class=\"warning\"><strong>Leakage:</strong> {}: these metrics do not measure \
             detection on unseen traffic.</p>",
            escape(&l.describe())
        );
    }
    detectors(&mut h, &m.detectors);
    if let Some(svg) = roc {
        let _ = write!(h, "<h2>ROC curves</h2>\n{svg}\n");
    }
    for d in &m.detectors {
        phases(&mut h, d);
    }
    for (name, svg) in timelines {
        let _ = write!(h, "<h2>Timeline: {}</h2>\n{svg}\n", escape(name));
    }
    h.push_str("</body>\n</html>\n");
    h
}

/// The run and its labels.
fn summary(h: &mut String, m: &Metrics) {
    let labels: Vec<String> = m.labels.iter().map(|l| escape(l)).collect();
    let _ = write!(
        h,
        "<table>\n<tr><th>run</th><td>{}</td></tr>\n<tr><th>labels</th><td>{}</td></tr>\n\
         <tr><th>packets</th><td>{}</td></tr>\n<tr><th>skipped</th><td>{}</td></tr>\n\
         <tr><th>benign packets</th><td>{}</td></tr>\n<tr><th>attack packets</th><td>{}</td></tr>\n\
         <tr><th>benign hours</th><td>{}</td></tr>\n",
        escape(&m.run),
        labels.join("<br>"),
        m.packets,
        m.skipped_packets,
        m.benign_packets,
        m.attack_packets,
        num(Some(m.benign_hours))
    );
    for p in &m.phases {
        let _ = writeln!(
            h,
            "<tr><th>phase {}</th><td>{} attack packets, {} – {}</td></tr>",
            escape(&p.name),
            p.attack_packets,
            escape(&p.first_time),
            escape(&p.last_time)
        );
    }
    h.push_str("</table>\n");
}

/// One row per detector.
fn detectors(h: &mut String, ds: &[DetectorMetrics]) {
    h.push_str(
        "<h2>Detectors</h2>\n<table>\n<tr><th>detector</th><th>threshold</th><th>ROC AUC</th>\
         <th>PR AUC</th><th>TPR@FPR 1e-4</th><th>TPR@FPR 1e-3</th><th>TPR@FPR 1e-2</th>\
         <th>alerts</th><th>false alerts / h</th><th>phase recall</th><th>flow recall</th></tr>\n",
    );
    for d in ds {
        let tpr = |k: usize| {
            d.packet
                .as_ref()
                .and_then(|p| p.tpr_at_fpr.get(k))
                .map(|t| t.point.tpr)
        };
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&d.name),
            num(d.threshold),
            num(d.packet.as_ref().and_then(|p| p.roc_auc)),
            num(d.packet.as_ref().and_then(|p| p.pr_auc)),
            num(tpr(0)),
            num(tpr(1)),
            num(tpr(2)),
            d.alerts.total,
            num(d.alerts.false_alerts_per_hour),
            num(d.alerts.phase_recall),
            num(d.flows.as_ref().and_then(|f| f.recall)),
        );
    }
    h.push_str("</table>\n");
}

/// One detector's per-phase table.
fn phases(h: &mut String, d: &DetectorMetrics) {
    let _ = write!(
        h,
        "<h2>Phases: {}</h2>\n<table>\n<tr><th>phase</th><th>ROC AUC</th><th>caught</th>\
         <th>alerts</th><th>first alert</th><th>delay (s)</th><th>delay (packets)</th></tr>\n",
        escape(&d.name)
    );
    for p in &d.phases {
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&p.name),
            num(p.roc_auc),
            if p.caught { "yes" } else { "no" },
            p.alerts,
            escape(p.first_alert_time.as_deref().unwrap_or("–")),
            num(p.delay_seconds),
            p.delay_packets.map_or("–".into(), |n| n.to_string()),
        );
    }
    h.push_str("</table>\n");
}

#[cfg(test)]
mod test {
    use super::{escape, num};

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<a href='x'>\"&</a>"),
            "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&lt;/a&gt;"
        );
    }

    #[test]
    fn formats_numbers_for_cells() {
        assert_eq!(num(Some(0.99871234)), "0.998712");
        assert_eq!(num(Some(0.0)), "0");
        assert_eq!(num(Some(1.5e-5)), "1.50000e-5");
        assert_eq!(num(None), "–");
    }
}
