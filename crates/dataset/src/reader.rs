//! Reading feature columns back from a dataset's Parquet files (for training).

use crate::error::DatasetError;
use arrow_array::cast::AsArray;
use arrow_array::types::{Float64Type, UInt16Type, UInt64Type, UInt8Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use std::path::Path;

/// Feature columns, labels and uids of the rows of one Parquet file.
#[derive(Clone, Debug, Default)]
pub struct FeatureTable {
    /// The `uid` of each row.
    pub uids: Vec<String>,
    /// One vector per requested feature, in the order asked, each with one value per row.
    pub columns: Vec<Vec<f64>>,
    /// `label` of each row (true: attack).
    pub labels: Vec<bool>,
    /// `phase` of each row.
    pub phases: Vec<Option<String>>,
}

impl FeatureTable {
    /// Rows read.
    pub fn rows(&self) -> usize {
        self.labels.len()
    }
}

/// Reads the columns `features` (numbers of any width, as `f64`), `uid`, `label` and `phase`
/// of the Parquet file at `path`.
///
/// # Errors
/// The file cannot be read, or lacks a column or holds it with another type; the message
/// names the file and the column.
pub fn read_features(path: &Path, features: &[String]) -> Result<FeatureTable, DatasetError> {
    let mut wanted: Vec<&str> = vec!["uid", "label", "phase"];
    wanted.extend(features.iter().map(String::as_str));
    let reader = open_columns(path, &wanted)?;
    let mut t = FeatureTable {
        columns: vec![Vec::new(); features.len()],
        ..FeatureTable::default()
    };
    for batch in reader {
        let batch = batch
            .map_err(|e| DatasetError::mismatch(path, format!("cannot decode a row group: {e}")))?;
        append(&mut t, &batch, features, path)?;
    }
    Ok(t)
}

/// A reader of the columns `names` of the Parquet file at `path`.
fn open_columns(
    path: &Path,
    names: &[&str],
) -> Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader, DatasetError> {
    let pq = |context: String| {
        move |source: parquet::errors::ParquetError| DatasetError::Parquet { context, source }
    };
    let file = std::fs::File::open(path)
        .map_err(|e| DatasetError::io(format!("cannot open {}", path.display()), e))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(pq(format!("cannot read {}", path.display())))?;
    let schema = builder.schema().clone();
    let mut indices = Vec::with_capacity(names.len());
    for name in names {
        let i = schema.index_of(name).map_err(|_| {
            DatasetError::mismatch(
                path,
                format!("no column {name:?}: not a dataset of this custos version (rebuild it with custos dataset build)"),
            )
        })?;
        indices.push(i);
    }
    let mask = ProjectionMask::roots(builder.parquet_schema(), indices);
    builder
        .with_projection(mask)
        .build()
        .map_err(pq(format!("cannot read {}", path.display())))
}

fn append(
    t: &mut FeatureTable,
    b: &RecordBatch,
    features: &[String],
    path: &Path,
) -> Result<(), DatasetError> {
    let col = |name: &str| {
        b.column_by_name(name)
            .ok_or_else(|| DatasetError::mismatch(path, format!("no column {name:?}")))
    };
    let wrong = |name: &str, dt: &DataType| {
        DatasetError::mismatch(path, format!("column {name:?} has type {dt}"))
    };
    let uid = col("uid")?;
    let uid = uid
        .as_string_opt::<i32>()
        .ok_or_else(|| wrong("uid", uid.data_type()))?;
    t.uids
        .extend((0..uid.len()).map(|i| uid.value(i).to_string()));
    let label = col("label")?;
    let label = label
        .as_primitive_opt::<UInt8Type>()
        .ok_or_else(|| wrong("label", label.data_type()))?;
    t.labels.extend(label.values().iter().map(|&l| l == 1));
    let phase = col("phase")?;
    let phase = phase
        .as_string_opt::<i32>()
        .ok_or_else(|| wrong("phase", phase.data_type()))?;
    t.phases
        .extend((0..phase.len()).map(|i| (!phase.is_null(i)).then(|| phase.value(i).to_string())));
    for (name, out) in features.iter().zip(t.columns.iter_mut()) {
        let a = col(name)?;
        match a.data_type() {
            DataType::UInt8 => out.extend(
                a.as_primitive::<UInt8Type>()
                    .values()
                    .iter()
                    .map(|&v| f64::from(v)),
            ),
            DataType::UInt16 => out.extend(
                a.as_primitive::<UInt16Type>()
                    .values()
                    .iter()
                    .map(|&v| f64::from(v)),
            ),
            DataType::UInt64 => out.extend(
                a.as_primitive::<UInt64Type>()
                    .values()
                    .iter()
                    .map(|&v| v as f64),
            ),
            DataType::Float64 => {
                out.extend(a.as_primitive::<Float64Type>().values().iter().copied())
            }
            dt => return Err(wrong(name, dt)),
        }
    }
    Ok(())
}

/// The fingerprints (`custos_engine::detectors::flow_fingerprint`: Community ID and start
/// time) of the flows of the Parquet file at `path` — what a flow model keeps of its training
/// flows to detect leakage.
///
/// # Errors
/// The file cannot be read, or lacks `community_id` or `start` or holds them with another
/// type; the message names the file and the column.
pub fn read_flow_fingerprints(path: &Path) -> Result<Vec<u64>, DatasetError> {
    use arrow_array::types::TimestampNanosecondType;
    let reader = open_columns(path, &["community_id", "start"])?;
    let mut out = Vec::new();
    for batch in reader {
        let b = batch
            .map_err(|e| DatasetError::mismatch(path, format!("cannot decode a row group: {e}")))?;
        let (Some(id), Some(start)) = (b.column_by_name("community_id"), b.column_by_name("start"))
        else {
            return Err(DatasetError::mismatch(
                path,
                "no community_id or start column",
            ));
        };
        let wrong = |name: &str, dt: &DataType| {
            DatasetError::mismatch(path, format!("column {name:?} has type {dt}"))
        };
        let ids = id
            .as_string_opt::<i32>()
            .ok_or_else(|| wrong("community_id", id.data_type()))?;
        let starts = start
            .as_primitive_opt::<TimestampNanosecondType>()
            .ok_or_else(|| wrong("start", start.data_type()))?;
        for i in 0..ids.len().min(starts.len()) {
            out.push(custos_engine::detectors::flow_fingerprint(
                ids.value(i),
                starts.value(i),
            ));
        }
    }
    Ok(out)
}
