//! A detector of your own, plugged into the engine without touching its loop: it flags
//! flows that carry more than a byte budget from the originator (an upload larger than an
//! IoT device should make), one alert per flow as it ends.
//!
//! `cargo run -p custos-engine --example custom_detector -- CAPTURE OUT_DIR [BYTES]`

use custos_engine::{
    AlertQueue, Detector, DetectorError, EndedFlow, Engine, EngineConfig, EngineError, Evidence,
    Signature, Source,
};

/// Flags flows whose originator sent more than `budget` bytes.
pub struct LargeUpload {
    /// Originator bytes above which a flow is flagged.
    pub budget: u64,
    /// Flows flagged.
    pub flagged: u64,
}

const SIGNATURE: Signature<'static> = Signature {
    gid: 1,
    signature_id: 9_100_001,
    rev: 1,
    signature: "example: upload larger than the budget",
    category: "Potential Corporate Privacy Violation",
    severity: 3,
};

impl Detector for LargeUpload {
    fn name(&self) -> &str {
        "large-upload"
    }

    fn flow_ended(&mut self, f: &EndedFlow, alerts: &mut AlertQueue) -> Result<(), DetectorError> {
        let sent = f.summary.orig.bytes;
        if sent > self.budget {
            self.flagged += 1;
            let evidence = Evidence {
                score: sent as f64,
                threshold: Some(self.budget as f64),
                explanation: None,
            };
            alerts.raise_flow(self.name(), None, f, &SIGNATURE, evidence);
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<serde_json::Value, DetectorError> {
        Ok(
            serde_json::json!({ "name": "large-upload", "budget": self.budget, "flagged": self.flagged }),
        )
    }
}

/// Analyses `capture` into `out` with the detector; returns the alerts it raised.
///
/// # Errors
/// As [`Engine::run`].
pub fn run(capture: &str, out: &str, budget: u64) -> Result<u64, EngineError> {
    let mut config = EngineConfig::default();
    config.output.dir = Some(out.into());
    let mut engine = Engine::new(config)?;
    engine.add_detector(Box::new(LargeUpload { budget, flagged: 0 }));
    let summary = engine.run(Source::Files(vec![capture.into()]))?;
    let detector = summary.stats.detector.unwrap_or_default();
    Ok(detector["alerts"].as_u64().unwrap_or(0))
}

#[allow(dead_code)]
fn main() -> Result<(), EngineError> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(capture), Some(out)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: custom_detector CAPTURE OUT_DIR [BYTES]");
        std::process::exit(2);
    };
    let budget = args.get(3).and_then(|b| b.parse().ok()).unwrap_or(10_000);
    let alerts = run(capture, out, budget)?;
    println!("{alerts} flows sent more than {budget} bytes (see {out}/alerts.jsonl)");
    Ok(())
}
