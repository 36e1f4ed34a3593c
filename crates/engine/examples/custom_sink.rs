//! A sink of your own, plugged into the engine without touching its loop: it counts the
//! records of a run by kind and adds the top talkers (originator bytes) to `stats.json`
//! under `outputs.top-talkers`.
//!
//! `cargo run -p custos-engine --example custom_sink -- CAPTURE OUT_DIR`

use custos_engine::{Engine, EngineConfig, EngineError, Record, RunEnd, Sink, SinkError, Source};
use std::collections::BTreeMap;

/// Counts records and bytes per originator address.
#[derive(Default)]
pub struct TopTalkers {
    /// Records seen, by kind.
    pub kinds: BTreeMap<&'static str, u64>,
    /// Originator bytes by address.
    pub bytes: BTreeMap<String, u64>,
}

impl Sink for TopTalkers {
    fn name(&self) -> &str {
        "top-talkers"
    }

    fn record(&mut self, record: &Record) -> Result<(), SinkError> {
        let kind = match record {
            Record::Flow(f) => {
                let ip = f.flow.orig.addr.ip().to_string();
                *self.bytes.entry(ip).or_default() += f.summary.orig.bytes;
                "flow"
            }
            Record::Event(_) => "event",
            Record::Alert(_) => "alert",
            Record::Scores(_) => "scores",
            Record::Finding(_) => "finding",
            Record::Devices(_) => "devices",
        };
        *self.kinds.entry(kind).or_default() += 1;
        Ok(())
    }

    fn finish(&mut self, _end: &RunEnd) -> Result<Option<serde_json::Value>, SinkError> {
        let mut top: Vec<(&String, &u64)> = self.bytes.iter().collect();
        top.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        top.truncate(5);
        Ok(Some(
            serde_json::json!({ "records": self.kinds, "top": top }),
        ))
    }
}

/// Analyses `capture` into `out` with the sink; returns its report from `stats.json`.
///
/// # Errors
/// As [`Engine::run`].
pub fn run(capture: &str, out: &str) -> Result<serde_json::Value, EngineError> {
    let mut config = EngineConfig::default();
    config.output.dir = Some(out.into());
    let mut engine = Engine::new(config)?;
    engine.add_sink(Box::new(TopTalkers::default()));
    let summary = engine.run(Source::Files(vec![capture.into()]))?;
    Ok(summary
        .stats
        .outputs
        .get("top-talkers")
        .cloned()
        .unwrap_or_default())
}

#[allow(dead_code)]
fn main() -> Result<(), EngineError> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(capture), Some(out)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: custom_sink CAPTURE OUT_DIR");
        std::process::exit(2);
    };
    let report = run(capture, out)?;
    println!("{report:#}");
    Ok(())
}
