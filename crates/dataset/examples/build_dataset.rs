//! Builds a dataset from one capture and its labels, as `custos dataset build` will:
//!
//! `cargo run --release -p custos-dataset --example build_dataset -- CAPTURE LABELS OUT_DIR [INFO]`

use custos_dataset::{build, DatasetError};
use custos_engine::EngineConfig;
use std::path::{Path, PathBuf};

fn main() -> Result<(), DatasetError> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(capture), Some(labels), Some(out)) = (args.get(1), args.get(2), args.get(3)) else {
        eprintln!("usage: build_dataset CAPTURE LABELS OUT_DIR [INFO]");
        std::process::exit(2);
    };
    let info = args.get(4).map(Path::new);
    let m = build(
        &[PathBuf::from(capture)],
        &[PathBuf::from(labels)],
        Path::new(out),
        info,
        EngineConfig::default(),
    )?;
    println!(
        "{} flows ({} attack) in {}",
        m.output.rows,
        m.counts.label.get("attack").copied().unwrap_or(0),
        Path::new(out).join(&m.output.file).display()
    );
    Ok(())
}
