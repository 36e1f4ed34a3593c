//! `evasion-rates.svg`: the evasion rate of every target (and defended target) per attack
//! phase, as grouped bars. Written by hand as the poisoning plots are (`crate::plot`): plain
//! SVG text, no font needed, the same report giving the same bytes.

use super::report::{EvasionReport, Rates};
use crate::plot::escape;
use std::collections::BTreeMap;
use std::fmt::Write;

/// The plot's file name in the report directory.
pub const FILE: &str = "evasion-rates.svg";

const TOP: f64 = 50.0;
const BOTTOM: f64 = 300.0;
const LEFT: f64 = 60.0;
const BAR: f64 = 18.0;
const GAP: f64 = 24.0;
const COLOURS: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f",
];

/// The SVG of `report`'s evasion rates: one group of bars per phase, one bar per target
/// (undefended, then each defence), height = share of trials evaded.
pub fn render(report: &EvasionReport) -> String {
    render_rates(&report.evasion_rate, &report.evasion_rate_defended)
}

/// The SVG of undefended `rates` and each defence's.
fn render_rates(rates: &Rates, defended: &BTreeMap<String, Rates>) -> String {
    let mut series: Vec<(String, &Rates)> = vec![(String::new(), rates)];
    for (defence, rates) in defended {
        series.push((format!(" with {defence}"), rates));
    }
    // (label, phase → rate) for every bar of a group, in a fixed order.
    let bars: Vec<(String, &BTreeMap<String, f64>)> = series
        .iter()
        .flat_map(|(suffix, rates)| rates.iter().map(move |(t, p)| (format!("{t}{suffix}"), p)))
        .collect();
    let mut phases: Vec<&String> = bars.iter().flat_map(|(_, p)| p.keys()).collect();
    phases.sort();
    phases.dedup();
    let group = bars.len().max(1) as f64 * BAR + GAP;
    let width = (LEFT + phases.len().max(1) as f64 * group + 40.0).max(520.0);
    let height = BOTTOM + 60.0 + (bars.len() as f64 / 2.0).ceil() * 18.0;
    let y = |v: f64| BOTTOM - v.clamp(0.0, 1.0) * (BOTTOM - TOP);
    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{:.1}\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">Evasion rate per \
         attack phase (share of trials no alert was raised)</text>",
        width / 2.0
    );
    for i in 0..=4 {
        let v = f64::from(i) / 4.0;
        let _ = writeln!(
            s,
            "<line x1=\"{LEFT}\" y1=\"{yy:.1}\" x2=\"{:.1}\" y2=\"{yy:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{v:.2}</text>",
            width - 20.0,
            LEFT - 6.0,
            y(v) + 4.0,
            yy = y(v)
        );
    }
    for (g, phase) in phases.iter().enumerate() {
        let x0 = LEFT + GAP / 2.0 + g as f64 * group;
        for (b, (label, rates)) in bars.iter().enumerate() {
            let Some(&rate) = rates.get(*phase) else {
                continue;
            };
            let x = x0 + b as f64 * BAR;
            // A zero rate still shows as a thin line, so "measured, never evaded" is visible.
            let top = y(rate).min(BOTTOM - 1.5);
            let _ = writeln!(
                s,
                "<rect x=\"{x:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{:.1}\" \
                 fill=\"{}\"><title>{}: {}: {:.0} %</title></rect>",
                BAR - 2.0,
                BOTTOM - top,
                COLOURS[b % COLOURS.len()],
                escape(label),
                escape(phase),
                100.0 * rate
            );
        }
        let _ = writeln!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            x0 + bars.len() as f64 * BAR / 2.0,
            BOTTOM + 16.0,
            escape(phase)
        );
    }
    for (b, (label, _)) in bars.iter().enumerate() {
        let (col, row) = (b % 2, b / 2);
        let lx = LEFT + col as f64 * 260.0;
        let ly = BOTTOM + 44.0 + row as f64 * 18.0;
        let _ = writeln!(
            s,
            "<rect x=\"{lx:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{ly:.1}\">{}</text>",
            ly - 10.0,
            COLOURS[b % COLOURS.len()],
            lx + 18.0,
            escape(label)
        );
    }
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_and_phase_is_drawn_and_text_is_escaped() {
        let mut rates = BTreeMap::new();
        rates.insert(
            "kitsune,flow".to_string(),
            BTreeMap::from([("scan".to_string(), 0.0), ("<b>".to_string(), 1.0)]),
        );
        let mut defended = BTreeMap::new();
        defended.insert("adversarial_training".to_string(), rates.clone());
        let svg = render_rates(&rates, &defended);
        assert!(svg.contains("kitsune,flow: scan: 0 %"), "{svg}");
        assert!(svg.contains("kitsune,flow with adversarial_training: &lt;b&gt;: 100 %"));
        assert!(!svg.contains("<b>"));
        assert_eq!(svg.matches("<title>").count(), 4);
        assert_eq!(svg, render_rates(&rates, &defended), "deterministic");
    }
}
