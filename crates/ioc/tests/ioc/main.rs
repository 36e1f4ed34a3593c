//! custos-ioc through its public API: the loaders over the files in `tests/data`, the
//! matchers, and the observables of application events. One test binary (ripgrep's layout),
//! one module per area.

mod loaders;
mod matching;
mod observables;
mod stix;

use std::path::{Path, PathBuf};

use custos_ioc::{IocSet, LoadReport};

/// A file of `tests/data`.
pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// A set loaded from `tests/data/name`, with its report.
pub fn loaded(name: &str) -> (IocSet, LoadReport) {
    let mut set = IocSet::new();
    let report = set.load(&data(name)).expect("test file loads");
    (set, report)
}

/// A set loaded from `text` named `name`.
pub fn set_of(name: &str, text: &str) -> IocSet {
    let mut set = IocSet::new();
    set.load_str(name, text).expect("text loads");
    set
}

/// (source, reason) of each unsupported entry.
pub fn unsupported(report: &LoadReport) -> Vec<(&str, &str)> {
    report
        .unsupported
        .iter()
        .map(|u| (u.source.as_str(), u.reason.as_str()))
        .collect()
}
