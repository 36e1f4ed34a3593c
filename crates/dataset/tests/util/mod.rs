//! Helpers of the dataset tests: reference runs of the engine, labels files, Parquet reading.

#![allow(dead_code)]

use arrow_array::cast::AsArray;
use arrow_array::types::{UInt64Type, UInt8Type};
use arrow_array::{Array, RecordBatch};
use custos_engine::{Engine, EngineConfig, Source};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::{Path, PathBuf};

/// The sample capture.
pub fn sample() -> PathBuf {
    custos_test_support::sample("iot-small.pcap")
}

/// A configuration writing nothing of the engine's own.
pub fn config(threads: usize) -> EngineConfig {
    EngineConfig {
        threads,
        ..EngineConfig::default()
    }
}

/// Runs the engine alone over `captures` into `dir`; returns conn.log's rows (fields by
/// name) and the packets of each capture.
pub fn reference(captures: &[PathBuf], dir: &Path) -> (Vec<Row>, Vec<u64>) {
    reference_with(captures, dir, config(1))
}

/// [`reference`] with configuration `c`.
pub fn reference_with(
    captures: &[PathBuf],
    dir: &Path,
    mut c: EngineConfig,
) -> (Vec<Row>, Vec<u64>) {
    c.output.dir = Some(dir.to_path_buf());
    let summary = Engine::new(c)
        .unwrap()
        .run(Source::Files(captures.to_vec()))
        .unwrap();
    let packets = summary.stats.files.iter().map(|f| f.packets).collect();
    (conn_rows(&dir.join("conn.log")), packets)
}

/// One conn.log row.
pub struct Row {
    /// (field, value) in order.
    pub fields: Vec<(String, String)>,
}

impl Row {
    /// The value of `name`.
    pub fn get(&self, name: &str) -> &str {
        self.fields
            .iter()
            .find(|(f, _)| f == name)
            .map(|(_, v)| v.as_str())
            .unwrap()
    }
}

fn conn_rows(path: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(path).unwrap();
    let names: Vec<String> = text
        .lines()
        .find(|l| l.starts_with("#fields"))
        .unwrap()
        .split('\t')
        .skip(1)
        .map(str::to_string)
        .collect();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| Row {
            fields: names
                .iter()
                .cloned()
                .zip(l.split('\t').map(str::to_string))
                .collect(),
        })
        .collect()
}

/// Writes a per-packet labels file of `n` benign packets, attack where `attack(i)`.
pub fn packet_labels(path: &Path, n: u64, attack: impl Fn(u64) -> bool) -> PathBuf {
    let mut s = String::from("index,label,phase\n");
    for i in 0..n {
        let a = attack(i);
        s.push_str(&format!(
            "{i},{},{}\n",
            u8::from(a),
            if a { "poke" } else { "benign" }
        ));
    }
    std::fs::write(path, s).unwrap();
    path.to_path_buf()
}

/// Every record batch of a Parquet file.
pub fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    let f = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap();
    reader.map(Result::unwrap).collect()
}

/// A text column over all batches.
pub fn strings(batches: &[RecordBatch], name: &str) -> Vec<Option<String>> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column_by_name(name).unwrap().as_string::<i32>();
            (0..a.len())
                .map(|i| (!a.is_null(i)).then(|| a.value(i).to_string()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A u64 column over all batches (null as `None`).
pub fn u64s(batches: &[RecordBatch], name: &str) -> Vec<Option<u64>> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b.column_by_name(name).unwrap().as_primitive::<UInt64Type>();
            (0..a.len())
                .map(|i| (!a.is_null(i)).then(|| a.value(i)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The `label` column.
pub fn label_column(batches: &[RecordBatch]) -> Vec<u8> {
    batches
        .iter()
        .flat_map(|b| {
            let a = b
                .column_by_name("label")
                .unwrap()
                .as_primitive::<UInt8Type>();
            a.values().to_vec()
        })
        .collect()
}

/// `sha256sum FILE` as the tool prints it, or `None` when the tool is missing.
pub fn sha256sum(path: &Path) -> Option<String> {
    let out = std::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    text.split_whitespace().next().map(str::to_string)
}

/// The manifest as JSON.
pub fn manifest(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap()
}
