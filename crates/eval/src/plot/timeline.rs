//! `timeline-<detector>.svg` / `.png`: a detector's scores over packet time on a log axis,
//! the attack phases shaded and the operating threshold drawn.

use super::{detector_colour, legend_text, phase_colour, text, Band, Figure, Timeline};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One detector's timeline figure.
pub(crate) struct TimelineFigure<'a> {
    /// The points and threshold.
    pub timeline: &'a Timeline,
    /// Position of the detector (its colour).
    pub index: usize,
    /// Attack segments to shade.
    pub bands: &'a [Band],
    /// Phase names, by [`Band::phase`].
    pub phases: &'a [String],
    /// Time 0 of the x axis, ns.
    pub origin_ns: i64,
}

impl TimelineFigure<'_> {
    /// Seconds since the origin.
    fn x(&self, ns: i64) -> f64 {
        (ns - self.origin_ns) as f64 / 1e9
    }

    /// The x range: every point and band, never empty.
    fn x_range(&self) -> (f64, f64) {
        let xs = self.timeline.points.iter().map(|p| self.x(p.ts)).chain(
            self.bands
                .iter()
                .flat_map(|b| [self.x(b.start_ns), self.x(b.end_ns)]),
        );
        let (lo, hi) = xs.fold((0f64, 0f64), |(lo, hi), x| (lo.min(x), hi.max(x)));
        (lo, if hi > lo { hi } else { lo + 1.0 })
    }

    /// The y range of the log axis: from half the smallest positive score (or threshold) to
    /// twice the largest; scores at or below zero are drawn at the bottom.
    fn y_range(&self) -> (f64, f64) {
        let vals = self
            .timeline
            .points
            .iter()
            .map(|p| f64::from(p.score))
            .chain(self.timeline.threshold)
            .filter(|v| v.is_finite() && *v > 0.0);
        let (lo, hi) = vals.fold((f64::INFINITY, 0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if !lo.is_finite() {
            return (1e-6, 1.0);
        }
        let lo = lo / 2.0;
        (lo, (hi * 2.0).max(lo * 10.0))
    }
}

impl Figure for TimelineFigure<'_> {
    const SIZE: (u32, u32) = (1100, 440);

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        root.fill(&WHITE).map_err(text)?;
        let (x0, x1) = self.x_range();
        let (y0, y1) = self.y_range();
        let title = format!(
            "{}: packet scores (highest of each 1/{} of the packets)",
            legend_text(&self.timeline.name),
            crate::TIMELINE_POINTS
        );
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(60)
            .build_cartesian_2d(x0..x1, (y0..y1).log_scale())
            .map_err(text)?;
        let origin = custos_output::time::eve_time(self.origin_ns);
        chart
            .configure_mesh()
            .x_desc(format!("seconds since {origin}"))
            .y_desc("score (log)")
            .y_label_formatter(&|v| format!("{v:e}"))
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(text)?;
        let min_w = (x1 - x0) * 0.002;
        for (k, name) in self.phases.iter().enumerate() {
            let colour = phase_colour(k).mix(0.45);
            let rects = self.bands.iter().filter(|b| b.phase == k).map(|b| {
                let (a, z) = (self.x(b.start_ns), self.x(b.end_ns));
                let z = z.max(a + min_w);
                Rectangle::new([(a, y0), (z, y1)], colour.filled())
            });
            chart
                .draw_series(rects)
                .map_err(text)?
                .label(legend_text(name))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 16, y + 5)], colour.filled())
                });
        }
        let colour = detector_colour(self.index);
        let pts = self
            .timeline
            .points
            .iter()
            .map(|p| (self.x(p.ts), f64::from(p.score).max(y0)));
        chart
            .draw_series(LineSeries::new(pts, colour.stroke_width(1)))
            .map_err(text)?
            .label("score")
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2)));
        if let Some(t) = self
            .timeline
            .threshold
            .filter(|t| *t > 0.0 && t.is_finite())
        {
            chart
                .draw_series(DashedLineSeries::new(
                    [(x0, t), (x1, t)],
                    6,
                    4,
                    RED.stroke_width(2),
                ))
                .map_err(text)?
                .label(format!("threshold {t:.4e}"))
                .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], RED.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.4))
            .label_font(("sans-serif", 13))
            .draw()
            .map_err(text)?;
        Ok(())
    }
}
