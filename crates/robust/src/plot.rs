//! One SVG per detector and strategy: the poison rate against ROC AUC (left) and F1 (right),
//! undefended and under each defence.
//!
//! Written by hand rather than through `custos-eval`'s plotters figures (crate-private, and
//! made for ROC curves and timelines): a few lines and labels, plain text, no font needed,
//! the same data giving the same bytes.

use crate::report::PoisonEntry;
use std::fmt::Write;

const WIDTH: f64 = 920.0;
const HEIGHT: f64 = 380.0;
const PANEL: f64 = 390.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 320.0;
const LEFT: [f64; 2] = [60.0, 510.0];
/// Undefended, then each defence in order.
const COLOURS: [&str; 4] = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd"];

/// Reads the value a panel plots.
type Value = fn(&PoisonEntry) -> Option<f64>;

/// The file name of the plot of `detector` and `strategy`.
pub fn file_name(detector: &str, strategy: &str) -> String {
    format!("poison-{detector}-{strategy}.svg")
}

/// The SVG of `entries` (one detector and strategy).
pub fn render(detector: &str, strategy: &str, entries: &[&PoisonEntry]) -> String {
    let max_rate = entries.iter().map(|e| e.rate).fold(0.0, f64::max).max(1e-9);
    let lowest_auc = entries.iter().filter_map(|e| e.auc).fold(1.0, f64::min);
    // AUC axis from a multiple of 0.05 below the lowest value (at least 0.5 wide when low).
    let auc_floor = ((lowest_auc - 0.01) / 0.05).floor().max(0.0) * 0.05;
    let mut s = String::new();
    let _ = write!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"{}\" y=\"24\" text-anchor=\"middle\" font-size=\"16\">{} — {}: poison rate \
         against ROC AUC and F1</text>\n",
        WIDTH / 2.0,
        escape(detector),
        escape(strategy)
    );
    let mut series = vec!["none".to_string()];
    series.extend(crate::report::defences(entries));
    let panels: [(&str, f64, Value); 2] = [
        ("ROC AUC", auc_floor.min(0.95), |e| e.auc),
        ("F1", 0.0, |e| Some(e.f1)),
    ];
    for (p, (name, y0, value)) in panels.iter().enumerate() {
        let left = LEFT[p];
        let x = |r: f64| left + r / max_rate * PANEL;
        let y = |v: f64| BOTTOM - (v - y0) / (1.0 - y0) * (BOTTOM - TOP);
        axes(&mut s, left, *y0, max_rate, name);
        for (k, defence) in series.iter().enumerate() {
            let mut pts: Vec<(f64, f64)> = entries
                .iter()
                .filter(|e| e.defence == *defence)
                .filter_map(|e| value(e).map(|v| (e.rate, v)))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            let path: Vec<String> = pts
                .iter()
                .map(|&(r, v)| format!("{:.1},{:.1}", x(r), y(v.max(*y0))))
                .collect();
            let colour = COLOURS.get(k).copied().unwrap_or("#7f7f7f");
            let _ = writeln!(
                s,
                "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
                path.join(" ")
            );
            for &(r, v) in &pts {
                let _ = writeln!(
                    s,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{colour}\"><title>rate \
                     {r}: {v:.4}</title></circle>",
                    x(r),
                    y(v.max(*y0))
                );
            }
        }
    }
    for (k, defence) in series.iter().enumerate() {
        let label = if k == 0 {
            "undefended"
        } else {
            defence.as_str()
        };
        let lx = 330.0 - (series.len() as f64 - 2.0) * 70.0 + k as f64 * 140.0;
        let _ = writeln!(
            s,
            "<line x1=\"{lx}\" y1=\"366\" x2=\"{}\" y2=\"366\" stroke=\"{}\" stroke-width=\"2\"/>\
             <text x=\"{}\" y=\"370\">{}</text>",
            lx + 24.0,
            COLOURS.get(k).copied().unwrap_or("#7f7f7f"),
            lx + 30.0,
            escape(label)
        );
    }
    s.push_str("</svg>\n");
    s
}

/// Axes, ticks and labels of one panel.
fn axes(s: &mut String, left: f64, y0: f64, max_rate: f64, name: &str) {
    let _ = writeln!(
        s,
        "<rect x=\"{left}\" y=\"{TOP}\" width=\"{PANEL}\" height=\"{}\" fill=\"none\" \
         stroke=\"#444\"/>",
        BOTTOM - TOP
    );
    for i in 0..=4 {
        let f = f64::from(i) / 4.0;
        let v = y0 + f * (1.0 - y0);
        let yy = BOTTOM - f * (BOTTOM - TOP);
        let xx = left + f * PANEL;
        let _ = writeln!(
            s,
            "<line x1=\"{left}\" y1=\"{yy:.1}\" x2=\"{:.1}\" y2=\"{yy:.1}\" stroke=\"#ddd\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{v:.2}</text>\
             <text x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{:.3}</text>",
            left + PANEL,
            left - 6.0,
            yy + 4.0,
            BOTTOM + 16.0,
            f * max_rate
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">poison rate</text>\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{name}</text>",
        left + PANEL / 2.0,
        BOTTOM + 34.0,
        left + PANEL / 2.0,
        TOP - 8.0
    );
}

/// Text made safe for SVG.
pub(crate) fn escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Measured;
    use crate::report::Poisoned;

    fn entry(rate: f64, defended: bool, auc: f64) -> PoisonEntry {
        let m = Measured {
            auc: Some(auc),
            f1: auc - 0.1,
            ..Measured::default()
        };
        let p = Poisoned {
            unit: "flows".into(),
            count: 0,
            of: 1,
        };
        let mut e = PoisonEntry::new("flow", "label_flip", rate, defended, m, None, p);
        if defended {
            e.defence = "dpa".into();
        }
        e
    }

    #[test]
    fn plot_has_both_lines_and_is_stable() {
        let e = [
            entry(0.0, false, 0.99),
            entry(0.1, false, 0.9),
            entry(0.0, true, 0.98),
            entry(0.1, true, 0.97),
        ];
        let refs: Vec<&PoisonEntry> = e.iter().collect();
        let a = render("flow", "label_flip", &refs);
        assert_eq!(a, render("flow", "label_flip", &refs));
        assert_eq!(a.matches("<polyline").count(), 4);
        assert!(a.contains("undefended") && a.contains("defended"));
        assert!(a.starts_with("<svg") && a.ends_with("</svg>\n"));
        assert_eq!(
            file_name("flow", "label_flip"),
            "poison-flow-label_flip.svg"
        );
    }
}
