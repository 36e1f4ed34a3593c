//! A sink is handed only the kinds of record it reads (`Sink::reads`), in the same order as a
//! sink reading everything sees them, at any thread count.

use custos_engine::{
    AlertQueue, Detector, DetectorError, Engine, EngineConfig, PacketView, Record, RecordKinds,
    Sink, SinkError, Source,
};
use std::sync::{Arc, Mutex};

/// Writes down each record it is given: kind and, for flows, uid.
struct Recorder {
    reads: RecordKinds,
    seen: Arc<Mutex<Vec<String>>>,
}

impl Sink for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }

    fn reads(&self) -> RecordKinds {
        self.reads
    }

    fn record(&mut self, record: &Record) -> Result<(), SinkError> {
        let line = match record {
            Record::Flow(f) => format!("flow {}", f.flow.uid()),
            Record::Scores(s) => format!("scores {}", s.index),
            other => format!("{:?}", other.kind()),
        };
        self.seen.lock().unwrap().push(line);
        Ok(())
    }
}

/// Scores every packet 1.0, so that score rows exist.
struct Constant;

impl Detector for Constant {
    fn name(&self) -> &str {
        "constant"
    }

    fn scores_packets(&self) -> bool {
        true
    }

    fn packet(
        &mut self,
        _p: &PacketView<'_>,
        _a: &mut AlertQueue,
    ) -> Result<Option<f64>, DetectorError> {
        Ok(Some(1.0))
    }
}

fn recorder(reads: RecordKinds) -> (Box<Recorder>, Arc<Mutex<Vec<String>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Recorder {
        reads,
        seen: Arc::clone(&seen),
    };
    (Box::new(sink), seen)
}

#[test]
fn sinks_get_only_the_kinds_they_read_in_order() {
    let sample = custos_test_support::repo_root().join("samples/iot-small.pcap");
    for threads in [1, 2] {
        let mut e = Engine::new(EngineConfig {
            threads,
            ..EngineConfig::default()
        })
        .unwrap();
        e.add_detector(Box::new(Constant));
        let (all, everything) = recorder(RecordKinds::ALL);
        let (flows, only_flows) = recorder(RecordKinds::FLOWS);
        let (scores_or_flows, scores_and_flows) =
            recorder(RecordKinds::SCORES | RecordKinds::FLOWS);
        let (nothing, none) = recorder(RecordKinds::NONE);
        for s in [all, flows, scores_or_flows, nothing] {
            e.add_sink(s);
        }
        let summary = e.run(Source::Files(vec![sample.clone()])).unwrap();

        let everything = everything.lock().unwrap().clone();
        let of = |prefixes: &[&str]| -> Vec<String> {
            let kept = everything
                .iter()
                .filter(|l| prefixes.iter().any(|p| l.starts_with(p)));
            kept.cloned().collect()
        };
        assert!(
            everything.iter().any(|l| l.starts_with("flow ")),
            "{threads}"
        );
        assert_eq!(
            of(&["scores "]).len() as u64,
            summary.stats.packets,
            "a score row per packet"
        );
        assert_eq!(*only_flows.lock().unwrap(), of(&["flow "]), "{threads}");
        assert_eq!(
            *scores_and_flows.lock().unwrap(),
            of(&["flow ", "scores "]),
            "{threads}"
        );
        assert!(none.lock().unwrap().is_empty());
    }
}

#[test]
fn record_kinds_are_sets() {
    let both = RecordKinds::FLOWS | RecordKinds::ALERTS;
    assert!(both.contains(RecordKinds::FLOWS) && both.contains(RecordKinds::ALERTS));
    assert!(!both.contains(RecordKinds::SCORES));
    assert!(RecordKinds::ALL.contains(both) && !both.contains(RecordKinds::ALL));
    assert!(RecordKinds::NONE.contains(RecordKinds::NONE));
    for (i, kind) in RecordKinds::EACH.into_iter().enumerate() {
        assert_eq!(kind.index(), i);
        assert!(RecordKinds::ALL.contains(kind) && !RecordKinds::NONE.contains(kind));
    }
}
