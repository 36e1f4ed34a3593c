//! `alerts.jsonl` (or `.zst`): the alerts every detector raised at its operating threshold,
//! tallied per detector against the labels (and the flows, when the run wrote them).

use crate::flows::FlowIndex;
use crate::labels::{Truth, BENIGN};
use crate::stats::RunStats;
use crate::EvalError;
use custos_output::Alert;
use std::io::BufRead;
use std::path::Path;

/// One detector's alerts on one attack phase.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PhaseAlerts {
    /// Alerts on attack packets of the phase.
    pub alerts: u64,
    /// The earliest such alert: its packet's run index and the alert's time (ns, to the µs).
    pub first: Option<(u64, i64)>,
}

/// One detector's alerts.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tally {
    /// Detector name (`custos.detector`).
    pub name: String,
    /// The threshold its first alert reports (`custos.threshold`).
    pub threshold: Option<f64>,
    /// Alerts on evaluated packets.
    pub total: u64,
    /// Alerts on evaluated attack packets.
    pub on_attack: u64,
    /// Alerts on evaluated benign packets.
    pub on_benign: u64,
    /// Alerts on packets before the evaluated range (not counted elsewhere).
    pub not_evaluated: u64,
    /// Per attack phase, in the labels' order.
    pub phases: Vec<PhaseAlerts>,
    /// Per flow of the [`FlowIndex`]: whether one of these alerts fell in it.
    pub flows_alerted: Vec<bool>,
    /// Evaluated alerts that no flow holds (no Community ID, or no matching flow).
    pub without_flow: u64,
}

/// Tallies `dir/alerts.jsonl` by detector, in order of each detector's first alert; empty
/// when the run wrote no alerts file.
///
/// # Errors
/// A line is not an EVE alert, has a bad timestamp, or names an input or packet the run
/// does not have.
pub(crate) fn read(
    dir: &Path,
    stats: &RunStats,
    truth: &Truth,
    flows: Option<&FlowIndex>,
) -> Result<Vec<Tally>, EvalError> {
    let path = dir.join("alerts.jsonl");
    if !path.exists() && !dir.join("alerts.jsonl.zst").exists() {
        return Ok(Vec::new());
    }
    let mut reader =
        custos_output::open_output(dir, "alerts.jsonl").map_err(|e| EvalError::io(&path, e))?;
    let mut tallies: Vec<Tally> = Vec::new();
    let (mut buf, mut line) = (String::new(), 0u64);
    loop {
        buf.clear();
        if reader
            .read_line(&mut buf)
            .map_err(|e| EvalError::io(&path, e))?
            == 0
        {
            break;
        }
        line += 1;
        if buf.trim().is_empty() {
            continue;
        }
        let a: Alert = serde_json::from_str(&buf)
            .map_err(|e| EvalError::invalid(&path, line, e.to_string()))?;
        let at = |m: String| EvalError::invalid(&path, line, m);
        let file = stats.file_of(&a.custos.pcap_file).ok_or_else(|| {
            at(format!(
                "input {:?} is not in stats.json",
                a.custos.pcap_file
            ))
        })?;
        let packets = stats.files.get(file).map_or(0, |f| f.packets);
        if a.custos.packet >= packets {
            let msg = format!(
                "packet {} past the {packets} packets of its input",
                a.custos.packet
            );
            return Err(at(msg));
        }
        let index = stats.offset(file) + a.custos.packet;
        let ts = custos_output::time::parse_eve_time(&a.timestamp)
            .ok_or_else(|| at(format!("bad timestamp {:?}", a.timestamp)))?;
        let t = tally_of(&mut tallies, &a, truth, flows);
        let code = truth.code(index).unwrap_or(BENIGN);
        if index < truth.skip {
            t.not_evaluated += 1;
            continue;
        }
        t.total += 1;
        if code == BENIGN {
            t.on_benign += 1;
        } else {
            t.on_attack += 1;
            if let Some(p) = t.phases.get_mut(usize::from(code) - 1) {
                p.alerts += 1;
                if p.first.is_none_or(|(i, _)| index < i) {
                    p.first = Some((index, ts));
                }
            }
        }
        let flow = flows
            .zip(a.community_id.as_deref())
            .and_then(|(f, cid)| f.find(file, cid, index));
        match flow.and_then(|i| t.flows_alerted.get_mut(i)) {
            Some(alerted) => *alerted = true,
            None => t.without_flow += 1,
        }
    }
    Ok(tallies)
}

/// The tally of the alert's detector, added on its first alert.
fn tally_of<'t>(
    tallies: &'t mut Vec<Tally>,
    a: &Alert,
    truth: &Truth,
    flows: Option<&FlowIndex>,
) -> &'t mut Tally {
    let pos = match tallies.iter().position(|t| t.name == a.custos.detector) {
        Some(p) => p,
        None => {
            tallies.push(Tally {
                name: a.custos.detector.clone(),
                threshold: a.custos.threshold,
                phases: vec![PhaseAlerts::default(); truth.phases.len()],
                flows_alerted: vec![false; flows.map_or(0, |f| f.flows.len())],
                ..Tally::default()
            });
            tallies.len() - 1
        }
    };
    &mut tallies[pos]
}

/// The name of `scores.csv`'s column that combines several detectors.
pub(crate) const COMBINED: &str = "combined";

/// The alerts of every detector together, as the `combined` column's: at its operating point
/// (1.0) the combination alerts where any detector does.
pub(crate) fn combined(tallies: &[Tally]) -> Tally {
    let mut c = Tally {
        name: COMBINED.into(),
        threshold: Some(1.0),
        ..Tally::default()
    };
    for t in tallies {
        c.total += t.total;
        c.on_attack += t.on_attack;
        c.on_benign += t.on_benign;
        c.not_evaluated += t.not_evaluated;
        c.without_flow += t.without_flow;
        if c.phases.len() < t.phases.len() {
            c.phases.resize(t.phases.len(), PhaseAlerts::default());
        }
        for (p, q) in c.phases.iter_mut().zip(&t.phases) {
            p.alerts += q.alerts;
            p.first = match (p.first, q.first) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        if c.flows_alerted.len() < t.flows_alerted.len() {
            c.flows_alerted.resize(t.flows_alerted.len(), false);
        }
        for (a, &b) in c.flows_alerted.iter_mut().zip(&t.flows_alerted) {
            *a |= b;
        }
    }
    c
}
