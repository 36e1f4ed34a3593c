//! `roc.svg` / `roc.png`: every detector's ROC curve on one chart, twice — linear axes on the
//! left, the false-positive rate on a log axis on the right (where operating points live).

use super::{detector_colour, legend_text, text, Curve, Figure};
use plotters::coord::Shift;
use plotters::prelude::*;

/// The ROC figure.
pub(crate) struct Roc<'a> {
    /// One curve per detector with scores.
    pub curves: &'a [Curve],
}

impl Roc<'_> {
    /// Left end of the log FPR axis: the smallest non-zero FPR of any curve, down to a power
    /// of ten (1e-4 when there is none; never below 1e-9).
    fn fpr_floor(&self) -> f64 {
        let min = self
            .curves
            .iter()
            .flat_map(|c| c.points.iter().map(|p| p.0))
            .filter(|&f| f > 0.0)
            .fold(f64::INFINITY, f64::min);
        if min.is_finite() {
            10f64.powf(min.log10().floor()).max(1e-9)
        } else {
            1e-4
        }
    }

    /// The legend entry of curve `c`.
    fn label(c: &Curve) -> String {
        match c.auc {
            Some(a) => format!("{} (AUC {a:.5})", legend_text(&c.name)),
            None => format!("{} (no AUC)", legend_text(&c.name)),
        }
    }
}

impl Figure for Roc<'_> {
    const SIZE: (u32, u32) = (1100, 520);

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(text)?;
        let root = root
            .titled("ROC curves (packet level)", ("sans-serif", 22))
            .map_err(text)?;
        let (left, right) = root.split_horizontally(550);
        let mut lin = ChartBuilder::on(&left)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0f64..1f64, 0f64..1f64)
            .map_err(text)?;
        lin.configure_mesh()
            .x_desc("false-positive rate")
            .y_desc("true-positive rate")
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(text)?;
        lin.draw_series(DashedLineSeries::new(
            [(0.0, 0.0), (1.0, 1.0)],
            4,
            4,
            BLACK.mix(0.3).stroke_width(1),
        ))
        .map_err(text)?;
        for (i, c) in self.curves.iter().enumerate() {
            let colour = detector_colour(i);
            lin.draw_series(LineSeries::new(
                c.points.iter().copied(),
                colour.stroke_width(2),
            ))
            .map_err(text)?
            .label(Roc::label(c))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
        }
        lin.configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .label_font(("sans-serif", 13))
            .draw()
            .map_err(text)?;
        let floor = self.fpr_floor();
        let mut log = ChartBuilder::on(&right)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d((floor..1f64).log_scale(), 0f64..1f64)
            .map_err(text)?;
        log.configure_mesh()
            .x_desc("false-positive rate (log)")
            .y_desc("true-positive rate")
            .x_label_formatter(&|v| format!("{v:e}"))
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(text)?;
        for (i, c) in self.curves.iter().enumerate() {
            let pts = c.points.iter().map(|&(f, t)| (f.max(floor), t));
            log.draw_series(LineSeries::new(pts, detector_colour(i).stroke_width(2)))
                .map_err(text)?;
        }
        Ok(())
    }
}
