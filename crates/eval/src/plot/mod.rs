//! Plots, each drawn twice by the same code: to SVG (text, inlined in `report.html`) and to
//! PNG through `plotters`' bitmap backend.
//!
//! PNG text is rasterised with `ab_glyph` from a font compiled into the crate
//! (`fonts/DejaVuSans-subset.ttf`, registered as `sans-serif`), so the pixels do not depend
//! on the system's fonts; SVG text names the `sans-serif` family and is left to the viewer.
//! Nothing here reads a clock or iterates a hash map, so the same data gives the same bytes.

mod roc;
mod timeline;

use crate::scores::Point;
use crate::EvalError;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

pub(crate) use roc::Roc;
pub(crate) use timeline::TimelineFigure;

/// The bundled font (a subset of DejaVu Sans; `fonts/README.md` says how it was made).
static FONT: &[u8] = include_bytes!("../../fonts/DejaVuSans-subset.ttf");

/// One detector's ROC curve.
#[derive(Clone, Debug)]
pub(crate) struct Curve {
    /// Detector name.
    pub name: String,
    /// Its ROC AUC.
    pub auc: Option<f64>,
    /// (FPR, TPR) points from [`crate::Ranking::roc_points`].
    pub points: Vec<(f64, f64)>,
}

/// One detector's score timeline.
#[derive(Clone, Debug)]
pub(crate) struct Timeline {
    /// Detector name.
    pub name: String,
    /// The highest-scoring packet of each run of packets, in run order.
    pub points: Vec<Point>,
    /// Operating threshold.
    pub threshold: Option<f64>,
}

/// A shaded time band: one segment of an attack phase.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Band {
    /// Position of the phase (colour and legend).
    pub phase: usize,
    /// Start, ns.
    pub start_ns: i64,
    /// End, ns.
    pub end_ns: i64,
}

/// Something drawn on any `plotters` backend.
pub(crate) trait Figure {
    /// Size in pixels.
    const SIZE: (u32, u32);
    /// Draws onto `root`.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Draws `fig` as SVG (written to `svg_path` and returned for inlining) and as PNG.
///
/// # Errors
/// Drawing fails or a file cannot be written.
pub(crate) fn render<F: Figure>(
    fig: &F,
    svg_path: &Path,
    png_path: &Path,
) -> Result<String, EvalError> {
    register_font();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, F::SIZE).into_drawing_area();
        fig.draw(&root).map_err(|m| plot_error(svg_path, m))?;
        root.present()
            .map_err(|e| plot_error(svg_path, e.to_string()))?;
    }
    std::fs::write(svg_path, &svg).map_err(|e| EvalError::io(svg_path, e))?;
    let root = BitMapBackend::new(png_path, F::SIZE).into_drawing_area();
    fig.draw(&root).map_err(|m| plot_error(png_path, m))?;
    root.present()
        .map_err(|e| plot_error(png_path, e.to_string()))?;
    Ok(svg)
}

/// Registers the bundled font as `sans-serif` for the bitmap backend (idempotent).
fn register_font() {
    // The bytes are a valid TrueType font (checked by `bundled_font_parses`); registering
    // cannot fail otherwise, and a failure would only leave PNG text undrawn.
    let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
}

/// An [`EvalError::Plot`].
fn plot_error(path: &Path, message: String) -> EvalError {
    EvalError::Plot {
        path: path.to_path_buf(),
        message,
    }
}

/// Colour of detector `i` (Tableau 10).
pub(crate) fn detector_colour(i: usize) -> RGBColor {
    const C: [(u8, u8, u8); 10] = [
        (31, 119, 180),
        (255, 127, 14),
        (44, 160, 44),
        (214, 39, 40),
        (148, 103, 189),
        (140, 86, 75),
        (227, 119, 194),
        (127, 127, 127),
        (188, 189, 34),
        (23, 190, 207),
    ];
    let (r, g, b) = C.get(i % C.len()).copied().unwrap_or((0, 0, 0));
    RGBColor(r, g, b)
}

/// Colour of attack phase `i` (light, for shading).
pub(crate) fn phase_colour(i: usize) -> RGBColor {
    const C: [(u8, u8, u8); 8] = [
        (255, 160, 122),
        (135, 206, 250),
        (144, 238, 144),
        (238, 130, 238),
        (255, 215, 0),
        (64, 224, 208),
        (210, 180, 140),
        (255, 182, 193),
    ];
    let (r, g, b) = C.get(i % C.len()).copied().unwrap_or((200, 200, 200));
    RGBColor(r, g, b)
}

/// A name from the inputs made fit for a legend: control characters replaced, at most 40
/// characters (SVG text is escaped by the backend).
pub(crate) fn legend_text(name: &str) -> String {
    let mut s: String = name
        .chars()
        .map(|c| if c.is_control() { '?' } else { c })
        .take(40)
        .collect();
    if name.chars().count() > 40 {
        s.push('…');
    }
    s
}

/// Any displayable error as text.
pub(crate) fn text<E: std::fmt::Display>(e: E) -> String {
    e.to_string()
}

#[cfg(test)]
mod test {
    #[test]
    fn bundled_font_parses() {
        assert!(plotters::style::register_font(
            "sans-serif",
            plotters::style::FontStyle::Normal,
            super::FONT
        )
        .is_ok());
    }

    #[test]
    fn legend_text_drops_controls_and_long_tails() {
        assert_eq!(super::legend_text("a\nb"), "a?b");
        assert_eq!(super::legend_text(&"x".repeat(50)).chars().count(), 41);
    }
}
