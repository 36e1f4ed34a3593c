//! `custos reidentify`: prints the originals of pseudonyms, but only after an audit leaf
//! (who, when, why, which pseudonyms, a keyed hash of each original — never the original) is
//! in the evidence log under a newly signed checkpoint (docs/privacy.md, "Re-identification
//! (audited)"). All or nothing: every value must be a pseudonym under the key, and the leaf
//! must be logged and signed, before any original is printed.

use crate::Outcome;
use clap::Args;
use custos_engine::reidentify::{reidentify, ReidentifyError, Request};
use custos_privacy::flags::PseudonymFlags;
use std::io::Write;
use std::path::PathBuf;

/// Re-identify pseudonyms, after logging who, when and why in the evidence log
///
/// Prints `PSEUDONYM<TAB>ORIGINAL` for each value. Reverses pseudonyms made by `custos
/// pseudonymize`, `share --pseudonymize` or `anonymize` with the same key (and policy: kept
/// networks, mac_keep_oui). Every value must be a pseudonym under the key (a name token must
/// authenticate); if one is not, nothing is printed and nothing is logged. Otherwise a
/// re-identification leaf — who, when (wall clock, UTC), why, the key's fingerprint, the
/// pseudonyms and an HMAC of each original under a key derived from the pseudonym key, never
/// the originals — is appended to the evidence log and a new checkpoint is signed with the
/// log's own key; only then are the originals printed. `custos verify --log LOGDIR --vkey KEY`
/// lists these leaves as the audit trail.
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  custos reidentify --pseudonym-key share.pkey --log log/ --key sensor.skey --who alice --reason \"ticket 4711\" 100.9.15.210 p-0a1b…\n  custos verify --log log/ --vkey sensor.vkey    (lists the audit trail)"
)]
pub struct ReidentifyArgs {
    /// The key and policy the pseudonyms were made with, and what they are.
    #[command(flatten)]
    pub pseudonyms: PseudonymFlags,
    /// The evidence log that records the re-identification (made by `custos analyze
    /// --evidence`; it must exist).
    #[arg(long, value_name = "LOGDIR")]
    pub log: PathBuf,
    /// The log's signing key (`.skey`); another key is refused.
    #[arg(long, value_name = "PREFIX.skey")]
    pub key: PathBuf,
    /// Who re-identifies (recorded in the log; default: $USER).
    #[arg(long, value_name = "NAME")]
    pub who: Option<String>,
    /// Why (recorded in the log).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
    /// The pseudonyms.
    #[arg(value_name = "PSEUDONYM", required = true)]
    pub values: Vec<String>,
}

/// Runs `custos reidentify` (the work is `custos_engine::reidentify`).
///
/// # Errors
/// No reason or examiner, an unreadable key or policy, a value that is not a pseudonym, a log
/// that cannot take the audit leaf: in every case nothing is printed.
pub fn run(args: &ReidentifyArgs) -> anyhow::Result<Outcome> {
    if args.reason.trim().is_empty() {
        return Err(ReidentifyError::NoReason.into());
    }
    let Some(who) = custos_evidence::examiner(args.who.as_deref()) else {
        anyhow::bail!(
            "who re-identifies? give --who NAME (the audit record names the examiner; $USER \
             is not set)"
        );
    };
    let (key, policy, kind) = args.pseudonyms.load()?;
    let signer = custos_engine::evidence::load_signer(&args.key)?;
    let req = Request {
        key: &key,
        policy,
        kind,
        values: &args.values,
        who,
        why: &args.reason,
        log: &args.log,
        signer: &signer,
    };
    let done = reidentify(&req, custos_evidence::case::time::now_rfc3339_seconds())?;
    for line in done.report_lines(&args.log, signer.name()) {
        eprintln!("custos: {line}");
    }
    let mut out = std::io::stdout().lock();
    for (pseudonym, original) in &done.revealed {
        writeln!(out, "{pseudonym}\t{original}")?;
    }
    out.flush()?;
    Ok(Outcome::Success)
}
