//! The summary as plain text (a terminal) or Markdown (a ticket, a wiki page).
//!
//! Text that came from packets is hostile: in plain text every control character (terminal
//! escape sequences included) is written as `\u{…}`; in Markdown, characters that would change
//! the markup (`|`, `*`, `_`, `` ` ``, `<`, `>`, `[`, `]`, `#`, `&`, `~`, `\`) are backslash-escaped
//! too, so a device name cannot inject a link, HTML or table cells.

use super::{Episode, RunReport};
use crate::time::eve_time;
use std::fmt::Write;

/// Output format of the summary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    /// Plain text.
    ///
    /// Written for a terminal.
    Text,
    /// Markdown (for a ticket or a wiki page).
    #[cfg_attr(feature = "clap", value(name = "md"))]
    Markdown,
}

/// Plain text with control characters made visible.
fn plain(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}') {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    out
}

/// Markdown-safe text: [`plain`], then markup characters escaped.
fn md(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in plain(s).chars() {
        if "\\`*_[]<>|~&#".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

struct Writer {
    format: Format,
    out: String,
}

impl Writer {
    fn esc(&self, s: &str) -> String {
        match self.format {
            Format::Text => plain(s),
            Format::Markdown => md(s),
        }
    }

    fn heading(&mut self, title: &str) {
        match self.format {
            Format::Text => {
                let _ = writeln!(self.out, "\n{title}");
            }
            Format::Markdown => {
                let _ = writeln!(self.out, "\n## {title}\n");
            }
        }
    }

    fn item(&mut self, line: &str) {
        let _ = writeln!(
            self.out,
            "{}{line}",
            match self.format {
                Format::Text => "  ",
                Format::Markdown => "- ",
            }
        );
    }
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

fn duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    match s {
        0..=59 => format!("{secs:.1} s"),
        60..=3599 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s / 60 % 60),
    }
}

/// The summary of `r` in `format`.
pub fn render(r: &RunReport, format: Format) -> String {
    let mut w = Writer {
        format,
        out: String::new(),
    };
    let title = format!("custos summary of {}", w.esc(&r.dir.display().to_string()));
    match format {
        Format::Text => w.out.push_str(&title),
        Format::Markdown => w.out.push_str(&format!("# {title}")),
    }
    w.out.push('\n');
    traffic(&mut w, r);
    devices(&mut w, r);
    findings(&mut w, r);
    alerts(&mut w, r);
    files(&mut w, r);
    w.out
}

fn traffic(w: &mut Writer, r: &RunReport) {
    w.heading("Traffic");
    w.item(&format!(
        "{} packets ({}), {} flows",
        r.packets,
        bytes(r.bytes),
        r.flows
    ));
    if let Some((first, last, secs)) = &r.span {
        w.item(&format!(
            "from {} to {} ({})",
            w.esc(first),
            w.esc(last),
            duration(*secs)
        ));
    }
    for (path, packets, error) in &r.inputs {
        let mut line = format!("input {}: {packets} packets", w.esc(path));
        if let Some(e) = error {
            let _ = write!(line, " — stopped early: {}", w.esc(e));
        }
        w.item(&line);
    }
}

fn devices(w: &mut Writer, r: &RunReport) {
    w.heading("Devices");
    w.item(&format!("{} devices", r.devices));
    for (role, names) in &r.roles {
        let shown: Vec<String> = names.iter().take(10).map(|n| w.esc(n)).collect();
        let more = names.len().saturating_sub(shown.len());
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        w.item(&format!("{role}: {}{tail}", shown.join(", ")));
    }
}

fn findings(w: &mut Writer, r: &RunReport) {
    w.heading("Findings");
    if r.findings_by_severity.is_empty() {
        w.item("none");
        return;
    }
    let mut by: Vec<(&String, &u64)> = r.findings_by_severity.iter().collect();
    by.sort_by_key(|(s, _)| super::severity_rank(s));
    let counts: Vec<String> = by.iter().map(|(s, n)| format!("{n} {s}")).collect();
    w.item(&counts.join(", "));
    for f in &r.top_findings {
        let peer = f
            .peer
            .as_ref()
            .map_or_else(String::new, |p| format!(" from {}", w.esc(p)));
        w.item(&format!(
            "[{}] {} — {}{peer} ({}, seen {}×)",
            w.esc(&f.severity),
            w.esc(&f.title),
            w.esc(&f.device),
            w.esc(&f.rule),
            f.count
        ));
    }
}

fn alerts(w: &mut Writer, r: &RunReport) {
    w.heading("Alerts");
    if r.detectors.is_empty() {
        w.item("no detector ran (add --detector kitsune, or --model DIR with --trust KEY.pub)");
        return;
    }
    for d in &r.detectors {
        let threshold = d.threshold.map_or_else(
            || "no threshold".to_string(),
            |t| format!("threshold {t:.4}"),
        );
        w.item(&format!(
            "{}: {} alerts ({} more grouped into them), {threshold}",
            w.esc(&d.name),
            d.alerts,
            d.suppressed
        ));
        if let Some(warning) = &d.warning {
            w.item(&format!("{}: warning — {}", w.esc(&d.name), w.esc(warning)));
        }
    }
    if !r.top_sources.is_empty() {
        let top: Vec<String> = r
            .top_sources
            .iter()
            .map(|(s, n)| format!("{} ({n})", w.esc(s)))
            .collect();
        w.item(&format!("top sources: {}", top.join(", ")));
    }
    if !r.timeline.is_empty() {
        w.heading("Timeline (alerts less than 15 s apart form one episode)");
        for e in &r.timeline {
            let line = episode(w, e);
            w.item(&line);
        }
        if r.timeline_merged > 0 {
            w.item(&format!(
                "{} later episodes are counted in the last one",
                r.timeline_merged
            ));
        }
    }
}

fn episode(w: &Writer, e: &Episode) -> String {
    let secs = (e.end_ns - e.start_ns) as f64 / 1e9;
    format!(
        "{} +{}: {} alerts, most from {} ({})",
        eve_time(e.start_ns),
        duration(secs),
        e.alerts,
        w.esc(&e.top_source.0),
        e.top_source.1
    )
}

fn files(w: &mut Writer, r: &RunReport) {
    w.heading("Files");
    w.item(&format!("in {}", w.esc(&r.dir.display().to_string())));
    for (name, size) in &r.files {
        w.item(&format!("{} ({})", w.esc(name), bytes(*size)));
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn hostile_text_is_escaped() {
        assert_eq!(plain("a\u{1b}[31mred"), "a\\u{1b}[31mred");
        assert_eq!(md("[x](http://e)|<b>"), "\\[x\\](http://e)\\|\\<b\\>");
        assert!(!md("a\nb").contains('\n'));
    }

    #[test]
    fn sizes_and_durations_read_well() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(2_381_511), "2.3 MiB");
        assert_eq!(duration(151.9), "2 min 32 s");
        assert_eq!(duration(7200.0), "2 h 0 min");
    }
}
