//! Kitsune's experiments: trained on the training capture's benign window, clean or with
//! attack traffic injected, undefended and sanitised, measured on the test capture's packets.

use crate::capture::LabelledCapture;
use crate::config::PoisonConfig;
use crate::defence::sanitise::sanitise;
use crate::error::RobustError;
use crate::kitsune::{self, after_warmup};
use crate::metrics::measure;
use crate::report::{InjectionFacts, PoisonEntry, Poisoned, SanitisedFacts};
use crate::seeded;
use crate::strategies::window_injection::{benign_window, inject, INJECTED_PHASE};
use crate::strategies::Strategy;
use custos_detect::KitsuneModel;

const DETECTOR: &str = "kitsune";

/// The test packets and their truth, after the warm-up.
struct Test<'a> {
    cap: &'a LabelledCapture,
    from: usize,
    attack: Vec<bool>,
    phase: Vec<Option<String>>,
}

/// Every window-injection entry of Kitsune, rate 0 included.
///
/// # Errors
/// The benign window is too small to train on, the test capture lacks a class after the
/// warm-up, or a model cannot be trained.
pub(crate) fn window_injection(
    cfg: &PoisonConfig,
    train: &LabelledCapture,
    test_cap: &LabelledCapture,
) -> Result<Vec<PoisonEntry>, RobustError> {
    let window = benign_window(train);
    let from = after_warmup(&test_cap.frames, cfg.kitsune.warmup_s);
    let labels = test_cap.labels.get(from..).unwrap_or_default();
    let test = Test {
        cap: test_cap,
        from,
        attack: labels.iter().map(|l| l.attack).collect(),
        phase: labels.iter().map(|l| l.phase.clone()).collect(),
    };
    let attack = test.attack.iter().filter(|&&a| a).count();
    if attack == 0 || attack == test.attack.len() {
        return Err(RobustError::Insufficient(format!(
            "the test capture has {attack} attack packets among {} after the {} s warm-up: \
             measuring Kitsune needs both classes",
            test.attack.len(),
            cfg.kitsune.warmup_s
        )));
    }
    let position = seeded::unit(cfg.seed, "window_injection");
    let mut out = Vec::new();
    for rate in cfg.all_rates() {
        let ctx = format!("kitsune, window_injection, rate {rate}");
        let inj = inject(train, window, rate, position)?;
        let frames = inj.capture.frames.get(..inj.window_len).unwrap_or_default();
        let injected: Vec<bool> = inj
            .capture
            .labels
            .iter()
            .take(inj.window_len)
            .map(|l| l.phase.as_deref() == Some(INJECTED_PHASE))
            .collect();
        let poisoned = Poisoned {
            unit: "packets".into(),
            count: inj.injected as u64,
            of: inj.window_len as u64,
        };
        let facts = InjectionFacts::of(&inj, window);
        let undefended_model = kitsune::train(frames.iter(), train.linktype, &cfg.kitsune, &ctx)?;
        let mut u = entry(&undefended_model, &test, rate, false, poisoned.clone())?;
        let s = sanitise(frames, train.linktype, &cfg.kitsune, &cfg.sanitise, &ctx)?;
        let mut d = entry(&s.model, &test, rate, true, poisoned)?;
        d.defence = "sanitised".into();
        let mut reasons = Vec::new();
        if s.flagged_fraction > cfg.sanitise.alarm_fraction {
            reasons.push(format!(
                "the fold models flag {:.2} % of the window (alarm above {:.2} %)",
                100.0 * s.flagged_fraction,
                100.0 * cfg.sanitise.alarm_fraction
            ));
        }
        if let Some(w) = undefended_model.threshold.contamination_warning() {
            reasons.push(format!("undefended threshold: {w}"));
        }
        d.sanitised = Some(SanitisedFacts {
            dropped: s.dropped.iter().filter(|&&x| x).count() as u64,
            dropped_injected: s
                .dropped
                .iter()
                .zip(&injected)
                .filter(|(&d, &i)| d && i)
                .count() as u64,
            dropped_by_conversation: s.by_conversation as u64,
            dropped_by_host: s.by_host as u64,
            injected: inj.injected as u64,
            flagged_fraction: s.flagged_fraction,
            alarm: !reasons.is_empty(),
            alarm_reasons: reasons,
        });
        if rate > 0.0 {
            u.injection = Some(facts.clone());
            d.injection = Some(facts);
        }
        out.extend([u, d]);
    }
    Ok(out)
}

/// Scores the test capture with `model` and measures it.
fn entry(
    model: &KitsuneModel,
    test: &Test<'_>,
    rate: f64,
    defended: bool,
    poisoned: Poisoned,
) -> Result<PoisonEntry, RobustError> {
    let all = kitsune::score(model, test.cap.frames.iter(), test.cap.linktype)?;
    let scores = all.get(test.from..).unwrap_or_default();
    let t = model.threshold.value;
    let alerted: Vec<bool> = scores.iter().map(|&s| s > t).collect();
    let m = measure(scores, &alerted, &test.attack, &test.phase);
    Ok(PoisonEntry::new(
        DETECTOR,
        Strategy::WindowInjection.name(),
        rate,
        defended,
        m,
        Some(t),
        poisoned,
    ))
}
