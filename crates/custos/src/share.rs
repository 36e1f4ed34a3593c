//! `custos share`: an analysis as a STIX 2.1 bundle, a MISP event or OCSF 1.5.0 Detection
//! Findings (crate `custos-share`, docs/share.md), pseudonymised on request (crate
//! `custos-privacy`).

use crate::cli::{ShareArgs, ShareFormat};
use crate::Outcome;
use anyhow::{bail, Context};
use custos_privacy::{Policy, PseudonymKey, Pseudonymizer};
use custos_share::{ShareOptions, Tlp};

/// Writes the export.
///
/// # Errors
/// An unreadable output folder or key, an unknown TLP level, an existing output file
/// without --force.
pub fn run(a: &ShareArgs) -> anyhow::Result<Outcome> {
    if a.output.exists() && !a.force {
        bail!(
            "{} exists; choose another file, or pass --force to replace it",
            a.output.display()
        );
    }
    let tlp: Tlp = a
        .tlp
        .parse()
        .map_err(|e| anyhow::anyhow!("--tlp {:?}: {e}", a.tlp))?;
    let opts = ShareOptions {
        tlp,
        organisation: a.organisation.clone(),
    };
    let mut pseudo = match &a.pseudonymize {
        Some(path) => {
            let policy = match &a.policy {
                Some(p) => Policy::read(p)?,
                None => Policy::default(),
            };
            Some(Pseudonymizer::new(&PseudonymKey::read(path)?, policy))
        }
        None => None,
    };
    let (text, what) = match a.format {
        ShareFormat::Stix => {
            let bundle = custos_share::stix_bundle(&a.run, &opts, pseudo.as_mut())?;
            (pretty(&bundle)?, "STIX 2.1 bundle")
        }
        ShareFormat::Misp => {
            let event = custos_share::misp_event(&a.run, &opts, pseudo.as_mut())?;
            (pretty(&event)?, "MISP event")
        }
        ShareFormat::Ocsf => {
            let events = custos_share::ocsf_events(&a.run, &opts, pseudo.as_mut())?;
            let text = custos_share::ocsf_json_lines(&events);
            (text, "OCSF 1.5.0 Detection Findings, JSON Lines")
        }
    };
    std::fs::write(&a.output, text)
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    eprintln!(
        "custos: wrote {} ({what}, TLP:{}{})",
        a.output.display(),
        tlp.as_str().to_uppercase(),
        if pseudo.is_some() {
            ", pseudonymised"
        } else {
            ""
        }
    );
    Ok(Outcome::Success)
}

/// `value` as indented JSON and a final newline.
fn pretty(value: &serde_json::Value) -> anyhow::Result<String> {
    let mut text = serde_json::to_string_pretty(value)?;
    text.push('\n');
    Ok(text)
}
