//! Sharing what custos found without exposing who was involved: STIX 2.1 bundles, MISP
//! events and OCSF 1.5.0 Detection Findings built from an analysis output folder
//! (`custos share`).
//!
//! The pieces, in the order data flows through them:
//!
//! - `input`: reads `alerts.jsonl`, `findings.jsonl` and `events.jsonl` (plain or `.zst`)
//!   into typed records ([`Inputs`]).
//! - `anon`: passes every address and identifier through an optional
//!   [`custos_privacy::Pseudonymizer`], so that no original address reaches an export.
//! - `model`: aggregates the records into what an export says: indicators (attacker
//!   addresses, JA3/JA4 fingerprints and domains of attackers) with their sightings, alerted
//!   traffic, findings and their ATT&CK techniques.
//! - `stix` and `misp` write the model as a STIX 2.1 bundle ([`stix_bundle`]) or a MISP
//!   event ([`misp_event`]), marked with a TLP 2.0 level ([`Tlp`]).
//! - `ocsf` writes one OCSF 1.5.0 Detection Finding per alert and per finding and one
//!   Network Activity per flow of `flows.jsonl` ([`ocsf_events`], as JSON Lines with [`ocsf_json_lines`]); it reads each alert's own
//!   severity, score and model digest, and its addresses go through the same `anon`.
//!
//! [`export`] gives the text of the file of a [`Format`] (with feature `clap`, a command-line
//! value).
//!
//! Exports are deterministic: ids are UUIDv5 of their content and every timestamp is a
//! packet time from the outputs, never the wall clock, so the same folder (and key) gives
//! the same bytes.
//!
//! ```no_run
//! use custos_share::{stix_bundle, ShareOptions, Tlp};
//! # fn main() -> Result<(), custos_share::ShareError> {
//! let opts = ShareOptions { tlp: "green".parse::<Tlp>()?, ..ShareOptions::default() };
//! let bundle = stix_bundle(std::path::Path::new("out"), &opts, None)?;
//! println!("{}", serde_json::to_string_pretty(&bundle).unwrap_or_default());
//! # Ok(())
//! # }
//! ```
//!
//! This crate does not write files, publish to a MISP instance or TAXII server, or decide
//! the pseudonymisation policy (the caller's [`custos_privacy::Pseudonymizer`] does). Free text of the outputs (finding details, URLs, user names) is
//! left out of exports, since it can carry addresses the pseudonymizer would not see.

#![deny(missing_docs)]
#![forbid(unsafe_code)]

mod anon;
mod attack;
mod error;
mod ids;
mod input;
mod misp;
mod model;
mod ocsf;
mod stix;
mod tlp;

use std::path::Path;

use custos_privacy::Pseudonymizer;
use serde_json::Value;

pub use error::ShareError;
pub use input::{Alert, AlertCustos, AlertRule, Endpoint, EventIoc, Finding, FindingLine, Inputs};
pub use ocsf::{json_lines as ocsf_json_lines, OCSF_VERSION};
pub use tlp::{Tlp, TLP_2_0_EXTENSION};

/// What an export is marked with and who it comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShareOptions {
    /// The TLP 2.0 level of every object (an OCSF event's `metadata.labels`).
    pub tlp: Tlp,
    /// The sensor's organisation: the STIX identity, the MISP `Orgc` and the OCSF
    /// `metadata.product.vendor_name`.
    pub organisation: String,
}

impl Default for ShareOptions {
    /// TLP:AMBER from `custos sensor`.
    fn default() -> Self {
        ShareOptions {
            tlp: Tlp::default(),
            organisation: "custos sensor".to_string(),
        }
    }
}

/// An export format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    /// STIX 2.1 bundle (valid under stix2-validator --strict).
    Stix,
    /// MISP event JSON (loads in PyMISP).
    Misp,
    /// OCSF 1.5.0 Detection Findings, one per alert and finding, as JSON Lines (valid against
    /// the OCSF 1.5.0 JSON Schema).
    Ocsf,
}

impl Format {
    /// What an export in this format is, in words.
    pub fn description(self) -> &'static str {
        match self {
            Format::Stix => "STIX 2.1 bundle",
            Format::Misp => "MISP event",
            Format::Ocsf => "OCSF 1.5.0 Detection Findings, JSON Lines",
        }
    }
}

/// The export of the analysis output folder `dir` in `format`, as the text of its file:
/// indented JSON and a final newline (STIX, MISP) or JSON Lines (OCSF).
///
/// # Errors
///
/// As for [`stix_bundle`].
pub fn export(
    dir: &Path,
    format: Format,
    opts: &ShareOptions,
    pseudo: Option<&mut Pseudonymizer>,
) -> Result<String, ShareError> {
    Ok(match format {
        Format::Stix => format!("{:#}\n", stix_bundle(dir, opts, pseudo)?),
        Format::Misp => format!("{:#}\n", misp_event(dir, opts, pseudo)?),
        Format::Ocsf => ocsf_json_lines(&ocsf_events(dir, opts, pseudo)?),
    })
}

/// The STIX 2.1 bundle for the analysis output folder `dir`.
///
/// # Errors
///
/// [`ShareError::NoInputs`], [`ShareError::Read`] or [`ShareError::Parse`] when the folder
/// cannot be read; [`ShareError::Pseudonymize`] when `pseudo` refuses an address.
pub fn stix_bundle(
    dir: &Path,
    opts: &ShareOptions,
    pseudo: Option<&mut Pseudonymizer>,
) -> Result<Value, ShareError> {
    let model = build_model(dir, pseudo)?;
    Ok(stix::bundle(&model, opts))
}

/// The MISP event (`{"Event": …}`) for the analysis output folder `dir`.
///
/// # Errors
///
/// As for [`stix_bundle`].
pub fn misp_event(
    dir: &Path,
    opts: &ShareOptions,
    pseudo: Option<&mut Pseudonymizer>,
) -> Result<Value, ShareError> {
    let model = build_model(dir, pseudo)?;
    Ok(misp::event(&model, opts))
}

/// The OCSF 1.5.0 Detection Findings for the analysis output folder `dir`: one per alert
/// (in `alerts.jsonl` order), then one per finding (in `findings.jsonl` order).
///
/// # Errors
///
/// As for [`stix_bundle`].
pub fn ocsf_events(
    dir: &Path,
    opts: &ShareOptions,
    pseudo: Option<&mut Pseudonymizer>,
) -> Result<Vec<Value>, ShareError> {
    let inputs = Inputs::read(dir)?;
    let flows: Vec<(usize, ocsf::EveFlow)> = input::read_records(dir, "flows.jsonl", "flow")?;
    let pseudonymised = pseudo.is_some();
    let mut anon = anon::Anon::new(pseudo);
    ocsf::events(
        dir,
        &inputs.alerts,
        &inputs.findings,
        &flows,
        opts,
        &mut anon,
        pseudonymised,
    )
}

/// Reads `dir` and aggregates it through the pseudonymizer.
fn build_model(dir: &Path, pseudo: Option<&mut Pseudonymizer>) -> Result<model::Model, ShareError> {
    let inputs = Inputs::read(dir)?;
    let mut anon = anon::Anon::new(pseudo);
    model::Model::build(dir, &inputs, &mut anon)
}
