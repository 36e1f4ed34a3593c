//! `custos share`: an analysis as a STIX 2.1 bundle or a MISP event (crate `custos-share`,
//! docs/share.md), pseudonymised on request (crate `custos-privacy`).

use crate::cli::{ShareArgs, ShareFormat};
use crate::Outcome;
use anyhow::{bail, Context};
use custos_privacy::{Policy, PseudonymKey, Pseudonymizer};
use custos_share::{ShareOptions, Tlp};

/// Writes the export.
///
/// # Errors
/// An unreadable output folder or key, an unknown TLP level, OCSF (not built yet), an
/// existing output file without --force.
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
    let value = match a.format {
        ShareFormat::Stix => custos_share::stix_bundle(&a.run, &opts, pseudo.as_mut())?,
        ShareFormat::Misp => custos_share::misp_event(&a.run, &opts, pseudo.as_mut())?,
        ShareFormat::Ocsf => bail!("--format ocsf is not built yet; use stix or misp"),
    };
    let mut text = serde_json::to_string_pretty(&value)?;
    text.push('\n');
    std::fs::write(&a.output, text)
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    eprintln!(
        "custos: wrote {} ({}, TLP:{}{})",
        a.output.display(),
        match a.format {
            ShareFormat::Stix => "STIX 2.1 bundle",
            _ => "MISP event",
        },
        tlp.as_str().to_uppercase(),
        if pseudo.is_some() {
            ", pseudonymised"
        } else {
            ""
        }
    );
    Ok(Outcome::Success)
}
