//! `custos share`: an analysis as a STIX 2.1 bundle, a MISP event or OCSF 1.5.0 Detection
//! Findings (crate `custos-share`, docs/share.md), pseudonymised on request (crate
//! `custos-privacy`).

use crate::cli::ShareArgs;
use crate::Outcome;
use anyhow::{bail, Context};
use custos_privacy::Pseudonymizer;
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
        Some(key) => Some(Pseudonymizer::from_files(key, a.policy.as_deref())?),
        None => None,
    };
    let text = custos_share::export(&a.run, a.format, &opts, pseudo.as_mut())?;
    std::fs::write(&a.output, text)
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    eprintln!(
        "custos: wrote {} ({}, TLP:{}{})",
        a.output.display(),
        a.format.description(),
        tlp.as_str().to_uppercase(),
        if pseudo.is_some() {
            ", pseudonymised"
        } else {
            ""
        }
    );
    Ok(Outcome::Success)
}
