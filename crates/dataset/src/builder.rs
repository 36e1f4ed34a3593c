//! [`build`]: captures and labels in, a dataset directory out.

use crate::collector::{Collector, Shared};
use crate::datasheet::{Datasheet, Info, DATASHEET_JSON, DATASHEET_MD};
use crate::error::DatasetError;
use crate::labels::{LabelKind, Labels};
use crate::manifest::{
    self, InputFile, Labelling, Manifest, OutputFile, Parts, RunConfig, RunFacts, MANIFEST_FILE,
    PER_FLOW_RULE, PER_PACKET_RULE,
};
use crate::sink::{DatasetSink, FLOWS_FILE, PREFIXES_FILE};
use custos_engine::{Engine, EngineConfig, RunSummary, Source};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The files of a dataset directory.
pub const DATASET_FILES: [&str; 5] = [
    FLOWS_FILE,
    PREFIXES_FILE,
    MANIFEST_FILE,
    DATASHEET_MD,
    DATASHEET_JSON,
];

/// A collector and a sink joined by a channel, ready for [`Engine::add_detector`] and
/// [`Engine::add_sink`], and the state through which the run's outcome comes back.
pub struct Plugged {
    /// Add with [`Engine::add_detector`].
    pub collector: Collector,
    /// Add with [`Engine::add_sink`].
    pub sink: DatasetSink,
    shared: Arc<Mutex<Shared>>,
}

/// Makes the collector and sink of a dataset written into `out` (which must exist), applying
/// `labels`, for a run with `config`.
///
/// # Errors
/// `out/flows.parquet.partial` cannot be created.
pub fn plug(labels: Labels, out: &Path, config: &EngineConfig) -> Result<Plugged, DatasetError> {
    let shared = Arc::new(Mutex::new(Shared::default()));
    let (tx, rx) = std::sync::mpsc::channel();
    let phases = labels.phases().to_vec();
    let zeek = config.flow.flow_config().zeek;
    let sink = DatasetSink::create(out, phases, rx, shared.clone())?;
    let collector = Collector::new(labels, zeek, tx, shared.clone());
    Ok(Plugged {
        collector,
        sink,
        shared,
    })
}

/// Builds a dataset in `out` from `captures` labelled by `labels`: runs the engine with
/// `config` (its own outputs go where `config.output.dir` says, if anywhere), writes
/// `flows.parquet`, `manifest.json`, `datasheet.md` and `datasheet.json` (answers custos
/// cannot give come from `info`), and returns the manifest.
///
/// Labels are required: one per-packet file per capture (in order) or per-flow files keyed
/// by uid (docs/dataset.md). A directory already holding a dataset is refused unless
/// `config.output.overwrite` (`--force`). On failure no dataset file is left in `out`.
///
/// # Errors
/// Usage (no capture, standard input, no labels), labels that are malformed or do not
/// match the captures, an invalid info file, the engine's errors, I/O and Parquet errors.
pub fn build(
    captures: &[PathBuf],
    labels: &[PathBuf],
    out: &Path,
    info: Option<&Path>,
    config: EngineConfig,
) -> Result<Manifest, DatasetError> {
    if captures.is_empty() {
        return Err(DatasetError::Usage(
            "no capture to build a dataset from".into(),
        ));
    }
    if captures.iter().any(|p| p.as_os_str() == "-") {
        return Err(DatasetError::Usage(
            "a dataset needs capture files (standard input cannot be hashed for the manifest)"
                .into(),
        ));
    }
    let read = Labels::read(labels, captures.len())?;
    let stated = info.map(Info::load).transpose()?.unwrap_or_default();
    let mut inputs = Vec::new();
    for (role, paths) in [("capture", captures), ("labels", labels)] {
        for p in paths {
            inputs.push(manifest::input(role, p)?);
        }
    }
    if let Some(p) = info {
        inputs.push(manifest::input("datasheet", p)?);
    }
    prepare(out, config.output.overwrite)?;
    let result = run(captures, read, out, &config, inputs, &stated);
    if result.is_err() {
        // Leave nothing half-made; a file that is not there is fine. The partial Parquet file
        // is removed here too: after a failure the engine may return before its output
        // thread has dropped the sink (which removes it as well).
        let partials = [FLOWS_FILE, PREFIXES_FILE].map(|f| format!("{f}.partial"));
        for name in DATASET_FILES
            .into_iter()
            .chain(partials.iter().map(String::as_str))
        {
            let _ = std::fs::remove_file(out.join(name));
        }
    }
    result
}

/// Runs the engine and writes the dataset's files.
fn run(
    captures: &[PathBuf],
    labels: Labels,
    out: &Path,
    config: &EngineConfig,
    inputs: Vec<InputFile>,
    info: &Info,
) -> Result<Manifest, DatasetError> {
    let labelling = Labelling {
        kind: labels.kind(),
        rule: match labels.kind() {
            LabelKind::PerPacket => PER_PACKET_RULE,
            LabelKind::PerFlow => PER_FLOW_RULE,
        },
        phases: labels.phases().to_vec(),
    };
    let rows: Vec<(PathBuf, u64)> = match labels.kind() {
        LabelKind::PerPacket => (0..captures.len())
            .map(|k| {
                (
                    labels.paths().get(k).cloned().unwrap_or_default(),
                    labels.rows(k),
                )
            })
            .collect(),
        LabelKind::PerFlow => Vec::new(),
    };
    let plugged = plug(labels, out, config)?;
    let shared = plugged.shared;
    let mut engine = Engine::new(config.clone())?;
    engine.add_detector(Box::new(plugged.collector));
    engine.add_sink(Box::new(plugged.sink));
    let summary = engine.run(Source::Files(captures.to_vec()));
    drop(engine);
    let mut state = shared
        .lock()
        .map_err(|_| DatasetError::Internal("a thread of the run panicked".into()))?;
    if let Some(e) = state.failure.take() {
        return Err(e);
    }
    let summary = summary?;
    check_rows(&rows, &summary, config)?;
    let (Some(collector), Some(sink)) = (state.collector.take(), state.sink.take()) else {
        return Err(DatasetError::Internal(
            "the run ended without the dataset's report".into(),
        ));
    };
    let (bytes, sha256) = manifest::sha256_file(&out.join(FLOWS_FILE))?;
    let (prefix_bytes, prefix_sha256) = manifest::sha256_file(&out.join(PREFIXES_FILE))?;
    let manifest = Manifest::from(Parts {
        inputs,
        labelling,
        config: RunConfig::of(config),
        run: RunFacts {
            packets: summary.stats.packets,
            partial: summary.partial,
            warnings: summary.warnings,
            collector,
        },
        output: OutputFile {
            file: FLOWS_FILE.into(),
            bytes,
            sha256,
            rows: sink.rows,
            row_groups: sink.row_groups,
        },
        prefixes: OutputFile {
            file: PREFIXES_FILE.into(),
            bytes: prefix_bytes,
            sha256: prefix_sha256,
            rows: sink.prefixes.0,
            row_groups: sink.prefixes.1,
        },
        sink,
    });
    let json = manifest.to_json()?;
    write(&out.join(MANIFEST_FILE), &json)?;
    let sheet = Datasheet::new(&manifest, &manifest::sha256_hex(&json), info);
    write(&out.join(DATASHEET_JSON), &sheet.to_json())?;
    write(&out.join(DATASHEET_MD), sheet.to_markdown().as_bytes())?;
    Ok(manifest)
}

/// Per-packet labels must have a row for every packet read, and no more unless reading
/// stopped early (a damaged input, or `max_packets`).
fn check_rows(
    rows: &[(PathBuf, u64)],
    summary: &RunSummary,
    config: &EngineConfig,
) -> Result<(), DatasetError> {
    for (k, (path, n)) in rows.iter().enumerate() {
        let Some(f) = summary.stats.files.get(k) else {
            continue;
        };
        let stopped = f.error.is_some() || config.max_packets.is_some();
        if *n > f.packets && !stopped {
            return Err(DatasetError::mismatch(
                path,
                format!(
                    "{n} rows for the {} packets of {}: are the labels paired with the right \
                     capture?",
                    f.packets, f.path
                ),
            ));
        }
    }
    Ok(())
}

/// Creates `out` if needed; refuses one holding a dataset unless `overwrite`.
fn prepare(out: &Path, overwrite: bool) -> Result<(), DatasetError> {
    std::fs::create_dir_all(out)
        .map_err(|e| DatasetError::io(format!("cannot create {}", out.display()), e))?;
    let found: Vec<&str> = DATASET_FILES
        .into_iter()
        .filter(|n| out.join(n).exists())
        .collect();
    if found.is_empty() {
        return Ok(());
    }
    if !overwrite {
        return Err(DatasetError::Exists {
            path: out.to_path_buf(),
            names: found.join(", "),
        });
    }
    for name in found {
        let p = out.join(name);
        std::fs::remove_file(&p)
            .map_err(|e| DatasetError::io(format!("cannot remove {}", p.display()), e))?;
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), DatasetError> {
    std::fs::write(path, bytes)
        .map_err(|e| DatasetError::io(format!("cannot write {}", path.display()), e))
}
