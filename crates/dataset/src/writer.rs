//! `flows.parquet`: rows buffered in bounded batches, each written as one Parquet row group
//! with fixed writer properties, so the same rows give the same bytes.
//!
//! What makes the bytes reproducible: the writer version, compression (zstd level 3),
//! dictionary and statistics settings and row-group size are fixed here; `created_by` is
//! `custos-dataset VERSION` (the Parquet library's default names its own version, which a
//! dependency update would change); the only key-value metadata are the feature schema's
//! name and version and the Arrow schema (derived from the columns). No time is written.

use crate::error::DatasetError;
use crate::schema::{Column, ColumnType, Value, FEATURE_SCHEMA, FEATURE_SCHEMA_VERSION};
use arrow_array::builder::{
    Float64Builder, StringBuilder, TimestampNanosecondBuilder, UInt16Builder, UInt64Builder,
    UInt8Builder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties, WriterVersion};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows per batch, and per row group.
pub const ROW_GROUP_ROWS: usize = 16_384;

/// The Arrow type of a column type.
pub fn arrow_type(kind: ColumnType) -> DataType {
    match kind {
        ColumnType::Utf8 => DataType::Utf8,
        ColumnType::Uint8 => DataType::UInt8,
        ColumnType::Uint16 => DataType::UInt16,
        ColumnType::Uint64 => DataType::UInt64,
        ColumnType::Float64 => DataType::Float64,
        ColumnType::TimestampNs => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
    }
}

/// The Arrow schema of `columns`.
pub fn arrow_schema(columns: &[Column]) -> Schema {
    Schema::new(
        columns
            .iter()
            .map(|c| Field::new(&c.name, arrow_type(c.kind), c.nullable))
            .collect::<Vec<_>>(),
    )
}

/// The fixed writer properties (see the module docs).
fn properties() -> Result<WriterProperties, DatasetError> {
    let level = ZstdLevel::try_new(3).map_err(|e| DatasetError::Parquet {
        context: "zstd level 3".into(),
        source: e,
    })?;
    Ok(WriterProperties::builder()
        .set_writer_version(WriterVersion::PARQUET_1_0)
        .set_compression(Compression::ZSTD(level))
        .set_dictionary_enabled(true)
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_max_row_group_size(ROW_GROUP_ROWS)
        .set_created_by(format!("custos-dataset {}", env!("CARGO_PKG_VERSION")))
        .set_key_value_metadata(Some(vec![
            KeyValue::new("custos.feature_schema".into(), FEATURE_SCHEMA.to_string()),
            KeyValue::new(
                "custos.feature_schema_version".into(),
                FEATURE_SCHEMA_VERSION.to_string(),
            ),
        ]))
        .build())
}

/// One column being filled.
enum Buf {
    Str(StringBuilder),
    U8(UInt8Builder),
    U16(UInt16Builder),
    U64(UInt64Builder),
    F64(Float64Builder),
    Ts(TimestampNanosecondBuilder),
}

impl Buf {
    fn new(kind: ColumnType) -> Buf {
        let n = ROW_GROUP_ROWS;
        match kind {
            ColumnType::Utf8 => Buf::Str(StringBuilder::with_capacity(n, n * 8)),
            ColumnType::Uint8 => Buf::U8(UInt8Builder::with_capacity(n)),
            ColumnType::Uint16 => Buf::U16(UInt16Builder::with_capacity(n)),
            ColumnType::Uint64 => Buf::U64(UInt64Builder::with_capacity(n)),
            ColumnType::Float64 => Buf::F64(Float64Builder::with_capacity(n)),
            ColumnType::TimestampNs => {
                Buf::Ts(TimestampNanosecondBuilder::with_capacity(n).with_timezone("UTC"))
            }
        }
    }

    /// Appends `v`; false when it is not of this column's type.
    fn push(&mut self, v: Value) -> bool {
        match (self, v) {
            (Buf::Str(b), Value::Str(v)) => b.append_option(v),
            (Buf::U8(b), Value::U8(v)) => b.append_value(v),
            (Buf::U16(b), Value::U16(v)) => b.append_value(v),
            (Buf::U64(b), Value::U64(v)) => b.append_option(v),
            (Buf::F64(b), Value::F64(v)) => b.append_value(v),
            (Buf::Ts(b), Value::Ts(v)) => b.append_value(v),
            _ => return false,
        }
        true
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Buf::Str(b) => Arc::new(b.finish()),
            Buf::U8(b) => Arc::new(b.finish()),
            Buf::U16(b) => Arc::new(b.finish()),
            Buf::U64(b) => Arc::new(b.finish()),
            Buf::F64(b) => Arc::new(b.finish()),
            Buf::Ts(b) => Arc::new(b.finish()),
        }
    }
}

/// Writes rows to a Parquet file, [`ROW_GROUP_ROWS`] at a time.
pub struct ParquetOut {
    path: PathBuf,
    schema: SchemaRef,
    bufs: Vec<Buf>,
    rows: usize,
    writer: Option<ArrowWriter<File>>,
    row_groups: u64,
}

impl ParquetOut {
    /// Creates `path` for rows of `columns`.
    ///
    /// # Errors
    /// The file cannot be created.
    pub fn create(path: &Path, columns: &[Column]) -> Result<ParquetOut, DatasetError> {
        let schema: SchemaRef = Arc::new(arrow_schema(columns));
        let file = File::create(path)
            .map_err(|e| DatasetError::io(format!("cannot create {}", path.display()), e))?;
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(properties()?))
            .map_err(|e| parquet_error(path, e))?;
        Ok(ParquetOut {
            path: path.to_path_buf(),
            schema,
            bufs: columns.iter().map(|c| Buf::new(c.kind)).collect(),
            rows: 0,
            writer: Some(writer),
            row_groups: 0,
        })
    }

    /// Appends one row (values in column order); writes a row group when the batch is full.
    ///
    /// # Errors
    /// A value of the wrong type or count (a bug), or the write fails.
    pub fn push(
        &mut self,
        values: impl ExactSizeIterator<Item = Value>,
    ) -> Result<(), DatasetError> {
        if values.len() != self.bufs.len() {
            return Err(self.bug(format!(
                "{} values for {} columns",
                values.len(),
                self.bufs.len()
            )));
        }
        for (i, (b, v)) in self.bufs.iter_mut().zip(values).enumerate() {
            if !b.push(v) {
                return Err(self.bug(format!("value of another type in column {i}")));
            }
        }
        self.rows += 1;
        if self.rows >= ROW_GROUP_ROWS {
            self.write_batch()?;
        }
        Ok(())
    }

    fn bug(&self, message: String) -> DatasetError {
        DatasetError::Parquet {
            context: format!("writing {}", self.path.display()),
            source: parquet::errors::ParquetError::General(message),
        }
    }

    fn write_batch(&mut self) -> Result<(), DatasetError> {
        if self.rows == 0 {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self.bufs.iter_mut().map(Buf::finish).collect();
        self.rows = 0;
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| self.bug(e.to_string()))?;
        let Some(w) = self.writer.as_mut() else {
            return Err(self.bug("the file is closed".into()));
        };
        w.write(&batch).map_err(|e| parquet_error(&self.path, e))?;
        w.flush().map_err(|e| parquet_error(&self.path, e))?;
        self.row_groups += 1;
        Ok(())
    }

    /// Writes the last rows and the footer; returns the number of row groups.
    ///
    /// # Errors
    /// The write fails.
    pub fn close(&mut self) -> Result<u64, DatasetError> {
        self.write_batch()?;
        if let Some(w) = self.writer.take() {
            w.close().map_err(|e| parquet_error(&self.path, e))?;
        }
        Ok(self.row_groups)
    }
}

fn parquet_error(path: &Path, source: parquet::errors::ParquetError) -> DatasetError {
    DatasetError::Parquet {
        context: format!("cannot write {}", path.display()),
        source,
    }
}
