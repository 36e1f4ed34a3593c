//! How the attack rows of a flow dataset are weighted against each other in training.

/// How the attack rows of a dataset are weighted against each other in training (the
/// classes are balanced either way).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "kebab-case")]
pub enum PhaseWeights {
    /// Every attack phase (by name) weighs the same in total: a service scan of 50 flows
    /// counts as much as a flood of 100 000, as the per-phase metrics count them. Raised the
    /// lab models' phase AUCs on an unseen network but also their false alerts there
    /// (docs/detection.md): not the default.
    Equal,
    /// Every row weighs the same: phases weigh as many rows as they have.
    #[default]
    Rows,
}

/// Row weights under which every attack phase (by name; unnamed attack rows form one phase)
/// weighs the same in total, the attack rows together as many as they are; benign rows
/// weigh 1.
pub(super) fn equal_phase_weights(labels: &[bool], phases: &[Option<String>]) -> Vec<f64> {
    let mut rows: std::collections::BTreeMap<Option<&str>, usize> = Default::default();
    for (l, p) in labels.iter().zip(phases) {
        if *l {
            *rows.entry(p.as_deref()).or_default() += 1;
        }
    }
    let attack: usize = rows.values().sum();
    let per_phase = attack as f64 / rows.len().max(1) as f64;
    labels
        .iter()
        .zip(phases)
        .map(|(l, p)| match rows.get(&p.as_deref()) {
            Some(&n) if *l => per_phase / n as f64,
            _ => 1.0,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attack_phase_weighs_the_same_and_benign_rows_one() {
        let p = |s: &str| Some(s.to_owned());
        let labels = [false, true, true, true, true, false, true];
        let phases = [
            None,
            p("flood"),
            p("flood"),
            p("flood"),
            p("scan"),
            p("flood"),
            None,
        ];
        let w = equal_phase_weights(&labels, &phases);
        // Five attack rows in three phases: 5/3 each phase.
        let third = 5.0 / 3.0;
        let expect = [
            1.0,
            third / 3.0,
            third / 3.0,
            third / 3.0,
            third,
            1.0,
            third,
        ];
        for (a, b) in w.iter().zip(expect) {
            assert!((a - b).abs() < 1e-12, "{w:?}");
        }
        let attack: f64 = w
            .iter()
            .zip(labels)
            .filter(|(_, l)| *l)
            .map(|(w, _)| w)
            .sum();
        assert!((attack - 5.0).abs() < 1e-12);
    }
}
