//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The shared corpus directory, or `None` (test skipped) when it is absent and not required.
pub fn shared() -> Option<PathBuf> {
    let dir = std::env::var_os("CUSTOS_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    if dir.join("corpus").is_dir() {
        return Some(dir);
    }
    if std::env::var_os("CUSTOS_REQUIRE_SHARED").is_some_and(|v| v == "1") {
        panic!(
            "shared corpus not found at {} and CUSTOS_REQUIRE_SHARED=1",
            dir.display()
        );
    }
    eprintln!("skipped: shared corpus not found at {}", dir.display());
    None
}

/// Runs the built `custos` binary with `args`.
pub fn custos(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(args)
        .output()
        .expect("run custos binary")
}

/// A parsed Zeek TSV log: field names and rows.
pub struct ZeekLog {
    pub fields: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl ZeekLog {
    pub fn parse(text: &str) -> ZeekLog {
        let mut fields = Vec::new();
        let mut rows = Vec::new();
        for line in text.lines() {
            if let Some(f) = line.strip_prefix("#fields\t") {
                fields = f.split('\t').map(str::to_string).collect();
            } else if line.starts_with('#') || line.is_empty() {
                continue;
            } else {
                rows.push(line.split('\t').map(str::to_string).collect());
            }
        }
        ZeekLog { fields, rows }
    }

    pub fn col(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f == name)
    }
}
