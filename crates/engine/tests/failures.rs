//! A failing sink or detector stops the run with its own error, named, at any thread count
//! (no hang, no "thread stopped" in its place).

use custos_engine::{
    AlertQueue, Detector, DetectorError, Engine, EngineConfig, EngineError, PacketView, Record,
    Sink, SinkError, Source,
};

struct FailingSink {
    left: u64,
}

impl Sink for FailingSink {
    fn name(&self) -> &str {
        "failing"
    }

    fn record(&mut self, _record: &Record) -> Result<(), SinkError> {
        if self.left == 0 {
            return Err(SinkError::new(
                "failing",
                std::io::Error::other("disk on fire"),
            ));
        }
        self.left -= 1;
        Ok(())
    }
}

struct FailingDetector {
    left: u64,
}

impl Detector for FailingDetector {
    fn name(&self) -> &str {
        "failing-detector"
    }

    fn packet(
        &mut self,
        _p: &PacketView<'_>,
        _a: &mut AlertQueue,
    ) -> Result<Option<f64>, DetectorError> {
        if self.left == 0 {
            return Err(DetectorError("model exploded".into()));
        }
        self.left -= 1;
        Ok(None)
    }
}

fn sample() -> Source {
    Source::Files(vec![
        custos_test_support::repo_root().join("samples/iot-small.pcap")
    ])
}

fn engine(threads: usize) -> Engine {
    Engine::new(EngineConfig {
        threads,
        ..EngineConfig::default()
    })
    .unwrap()
}

#[test]
fn a_failing_sink_stops_the_run_with_its_error_at_any_thread_count() {
    for threads in [1, 2, 4] {
        for left in [0, 10, 100] {
            let mut e = engine(threads);
            e.add_sink(Box::new(FailingSink { left }));
            match e.run(sample()) {
                Err(EngineError::Sink(s)) => {
                    assert_eq!(s.sink, "failing");
                    assert_eq!(s.source.to_string(), "disk on fire");
                }
                other => panic!("threads {threads}, after {left}: {other:?}"),
            }
        }
    }
}

#[test]
fn a_failing_detector_stops_the_run_with_its_error_at_any_thread_count() {
    for threads in [1, 2, 4] {
        for left in [0, 100] {
            let mut e = engine(threads);
            e.add_detector(Box::new(FailingDetector { left }));
            match e.run(sample()) {
                Err(EngineError::Detector { detector, message }) => {
                    assert_eq!(detector, "failing-detector");
                    assert_eq!(message, "model exploded");
                }
                other => panic!("threads {threads}, after {left}: {other:?}"),
            }
        }
    }
}

#[test]
fn a_run_without_packets_still_writes_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.pcap");
    let mut header = Vec::new();
    for v in [0xa1b2_c3d4u32, 0x0004_0002, 0, 0, 65_535, 1] {
        header.extend_from_slice(&v.to_le_bytes());
    }
    std::fs::write(&empty, &header).unwrap();
    for threads in [1, 2] {
        let out = dir.path().join(format!("o{threads}"));
        let mut cfg = EngineConfig {
            threads,
            ..EngineConfig::default()
        };
        cfg.output.dir = Some(out.clone());
        let s = Engine::new(cfg)
            .unwrap()
            .run(Source::Files(vec![empty.clone()]))
            .unwrap();
        assert_eq!(s.stats.packets, 0);
        let conn = std::fs::read_to_string(out.join("conn.log")).unwrap();
        assert!(
            conn.starts_with("#separator") && conn.contains("#close"),
            "{conn}"
        );
        for name in [
            "flows.jsonl",
            "events.jsonl",
            "findings.jsonl",
            "devices.json",
            "stats.json",
        ] {
            assert!(out.join(name).exists(), "{name}");
        }
    }
}
