//! `custos reidentify`: prints the originals of pseudonyms, but only after an audit leaf
//! (who, when, why, which pseudonyms, a keyed hash of each original — never the original) is
//! in the evidence log under a newly signed checkpoint (docs/privacy.md, "Re-identification
//! (audited)"). All or nothing: every value must be a pseudonym under the key, and the leaf
//! must be logged and signed, before any original is printed.

use crate::cli::PseudonymArgs;
use crate::Outcome;
use anyhow::{bail, Context};
use clap::Args;
use custos_evidence::{AuditKey, ReidentificationLeaf, Reidentified, REIDENTIFICATION_TYPE};
use custos_privacy::{PseudonymKey, Pseudonymizer, ValueKind};
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
    pub pseudonyms: PseudonymArgs,
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

/// One value re-identified, before it may be printed.
struct Revealed<'a> {
    /// The pseudonym as given.
    pseudonym: &'a str,
    /// Its kind.
    kind: ValueKind,
    /// The original.
    original: String,
}

/// Re-identifies `args.pseudonyms`, logs the audit leaf, signs a checkpoint, then prints
/// `PSEUDONYM<TAB>ORIGINAL` per value.
///
/// # Errors
/// No reason or examiner; an unreadable pseudonym key, policy or signing key; an unknown
/// `--kind`; any value that is not a pseudonym under the key (all are named, none printed);
/// a missing log, a log without a signed checkpoint, a key that is not the log's, a write
/// error. In every error case no original is printed.
pub fn run(args: &ReidentifyArgs) -> anyhow::Result<Outcome> {
    let why = args.reason.trim();
    if why.is_empty() {
        bail!("give --reason TEXT: why the pseudonyms are re-identified (recorded in the log)");
    }
    // The examiner is part of the audit record: never recorded as a placeholder.
    let who = crate::keys::examiner(
        args.who.as_deref(),
        "who re-identifies? give --who NAME (the audit record names the examiner; $USER is \
         not set)",
    )?;
    let (key, policy, kind) = crate::privacy::load(&args.pseudonyms)?;
    let mac_keep_oui = policy.mac_keep_oui();
    let p = Pseudonymizer::new(&key, policy);

    // 1. Every value first: all or nothing.
    let mut revealed = Vec::with_capacity(args.values.len());
    let mut refused = Vec::new();
    for v in &args.values {
        let k = kind.unwrap_or_else(|| ValueKind::detect(v));
        match p.reidentify(k, v) {
            Ok(original) => revealed.push(Revealed {
                pseudonym: v,
                kind: k,
                original,
            }),
            Err(e) => refused.push(format!("{e}")),
        }
    }
    if !refused.is_empty() {
        bail!(
            "{} of {} values {} under key {}; nothing was re-identified or logged: {}",
            refused.len(),
            args.values.len(),
            if refused.len() == 1 {
                "is not a pseudonym"
            } else {
                "are not pseudonyms"
            },
            key.fingerprint(),
            refused.join("; ")
        );
    }

    // 2. The audit leaf: keyed hashes of the originals, never the originals.
    let audit_key = audit_key(&key);
    let leaf = ReidentificationLeaf {
        kind: REIDENTIFICATION_TYPE.into(),
        who,
        when: now_rfc3339(),
        why: why.to_string(),
        pseudonym_key: key.fingerprint(),
        mac_keep_oui,
        pseudonyms: revealed
            .iter()
            .map(|r| Reidentified {
                kind: r.kind.to_string(),
                pseudonym: r.pseudonym.to_string(),
                original_hmac: audit_key.original_hmac(&r.kind.to_string(), &r.original),
            })
            .collect(),
        custos_version: env!("CARGO_PKG_VERSION").into(),
    };

    // 3. Logged and signed, or nothing is printed.
    let signer = custos_engine::evidence::load_signer(&args.key)?;
    let logged =
        custos_evidence::log_reidentification(&args.log, &signer, &leaf).with_context(|| {
            format!(
                "cannot log the re-identification in {}; nothing was re-identified",
                args.log.display()
            )
        })?;
    let o = logged.opened;
    if o.kind != custos_evidence::OpenKind::Existing || o.recovered > 0 || o.discarded > 0 {
        eprintln!("custos: evidence log {}: {o}", args.log.display());
    }
    eprintln!(
        "custos: re-identification of {} pseudonyms logged as leaf {} of {} (checkpoint size {} signed by {})",
        revealed.len(),
        logged.index,
        args.log.display(),
        logged.checkpoint.size,
        signer.name()
    );

    // 4. The originals.
    let mut out = std::io::stdout().lock();
    for r in &revealed {
        writeln!(out, "{}\t{}", r.pseudonym, r.original)?;
    }
    out.flush()?;
    Ok(Outcome::Success)
}

/// The audit key of `key`: HKDF-SHA256 over its Crypto-PAn key and name sub-key (both secret),
/// info `custos reidentify v1 audit hash` (docs/privacy.md).
fn audit_key(key: &PseudonymKey) -> AuditKey {
    let mut ikm = [0u8; 64];
    let (cryptopan, name) = ikm.split_at_mut(32);
    cryptopan.copy_from_slice(key.cryptopan_key());
    name.copy_from_slice(&key.name_key());
    let audit = AuditKey::derive(&ikm);
    ikm.fill(0);
    std::hint::black_box(&mut ikm);
    audit
}

/// Wall-clock time, RFC 3339 in UTC, whole seconds: audit records are the one place the wall
/// clock belongs (as in case export's chain of custody).
fn now_rfc3339() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    custos_evidence::case::time::format_rfc3339(i128::from(secs) * 1_000_000_000)
}
