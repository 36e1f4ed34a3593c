//! Audited re-identification (docs/privacy.md, "Re-identification (audited)"): the originals
//! of pseudonyms are returned only after an audit leaf — who, when, why, which pseudonyms, a
//! keyed hash of each original, never the original — is in the evidence log under a newly
//! signed checkpoint. All or nothing: every value must be a pseudonym under the key, and the
//! leaf must be logged and signed, before any original is handed out.
//!
//! `custos reidentify` parses its arguments, calls [`reidentify`] and prints what it returns.

use custos_evidence::{
    AuditError, AuditKey, Logged, OpenKind, ReidentificationLeaf, Reidentified, Signer,
    REIDENTIFICATION_TYPE,
};
use custos_privacy::{Policy, PseudonymKey, Pseudonymizer, ValueKind};
use std::path::Path;

/// One re-identification to perform.
pub struct Request<'a> {
    /// The pseudonym key the values were made with.
    pub key: &'a PseudonymKey,
    /// The sharing policy they were made under.
    pub policy: Policy,
    /// The kind of every value (`None`: detected per value).
    pub kind: Option<ValueKind>,
    /// The pseudonyms.
    pub values: &'a [String],
    /// The examiner (recorded).
    pub who: String,
    /// Why (recorded; must not be empty).
    pub why: &'a str,
    /// The evidence log the audit leaf goes into.
    pub log: &'a Path,
    /// The log's signing key.
    pub signer: &'a Signer,
}

/// A re-identification done: the originals, and where the audit leaf went.
pub struct Audited {
    /// `(pseudonym, original)` in the order asked.
    pub revealed: Vec<(String, String)>,
    /// The audit leaf's index, the checkpoint that covers it and what opening the log did.
    pub logged: Logged,
}

impl Audited {
    /// The lines that report this re-identification, logged in `log` and signed by `signer`:
    /// what opening the log did when it was more than a reopen, then the leaf and checkpoint.
    pub fn report_lines(&self, log: &Path, signer: &str) -> Vec<String> {
        let mut lines = Vec::new();
        let o = &self.logged.opened;
        if o.kind != OpenKind::Existing || o.recovered > 0 || o.discarded > 0 {
            lines.push(format!("evidence log {}: {o}", log.display()));
        }
        lines.push(format!(
            "re-identification of {} pseudonyms logged as leaf {} of {} (checkpoint size {} \
             signed by {signer})",
            self.revealed.len(),
            self.logged.index,
            log.display(),
            self.logged.checkpoint.size,
        ));
        lines
    }
}

/// Why nothing was re-identified.
#[derive(Debug, thiserror::Error)]
pub enum ReidentifyError {
    /// No reason was given.
    #[error("give --reason TEXT: why the pseudonyms are re-identified (recorded in the log)")]
    NoReason,
    /// Some values are not pseudonyms under the key; nothing was logged.
    #[error(
        "{} of {asked} values {} under key {key}; nothing was re-identified or logged: {}",
        refused.len(),
        if refused.len() == 1 { "is not a pseudonym" } else { "are not pseudonyms" },
        refused.join("; ")
    )]
    NotPseudonyms {
        /// Why each refused value was refused.
        refused: Vec<String>,
        /// Values asked.
        asked: usize,
        /// The key's fingerprint.
        key: String,
    },
    /// The audit leaf could not be logged and signed; nothing was re-identified.
    #[error("cannot log the re-identification in {log}; nothing was re-identified")]
    Log {
        /// The log directory.
        log: String,
        /// The cause (boxed: an audit error is large).
        #[source]
        source: Box<AuditError>,
    },
}

/// Re-identifies `req.values`, logging the audit leaf first (see the module docs).
///
/// # Errors
/// No reason, a value that is not a pseudonym under the key, or a log that cannot take and
/// sign the leaf: in every case nothing is revealed.
pub fn reidentify(req: &Request<'_>, now_rfc3339: String) -> Result<Audited, ReidentifyError> {
    let why = req.why.trim();
    if why.is_empty() {
        return Err(ReidentifyError::NoReason);
    }
    let mac_keep_oui = req.policy.mac_keep_oui();
    let p = Pseudonymizer::new(req.key, req.policy.clone());

    // 1. Every value first: all or nothing.
    let mut revealed = Vec::with_capacity(req.values.len());
    let mut refused = Vec::new();
    for v in req.values {
        let kind = req.kind.unwrap_or_else(|| ValueKind::detect(v));
        match p.reidentify(kind, v) {
            Ok(original) => revealed.push((kind, v.clone(), original)),
            Err(e) => refused.push(e.to_string()),
        }
    }
    if !refused.is_empty() {
        return Err(ReidentifyError::NotPseudonyms {
            refused,
            asked: req.values.len(),
            key: req.key.fingerprint(),
        });
    }

    // 2. The audit leaf: keyed hashes of the originals, never the originals.
    let audit_key = audit_key(req.key);
    let leaf = ReidentificationLeaf {
        kind: REIDENTIFICATION_TYPE.into(),
        who: req.who.clone(),
        when: now_rfc3339,
        why: why.to_string(),
        pseudonym_key: req.key.fingerprint(),
        mac_keep_oui,
        pseudonyms: revealed
            .iter()
            .map(|(kind, pseudonym, original)| Reidentified {
                kind: kind.to_string(),
                pseudonym: pseudonym.clone(),
                original_hmac: audit_key.original_hmac(&kind.to_string(), original),
            })
            .collect(),
        custos_version: env!("CARGO_PKG_VERSION").into(),
    };

    // 3. Logged and signed, or nothing is revealed.
    let logged =
        custos_evidence::log_reidentification(req.log, req.signer, &leaf).map_err(|source| {
            ReidentifyError::Log {
                log: req.log.display().to_string(),
                source: Box::new(source),
            }
        })?;
    Ok(Audited {
        revealed: revealed.into_iter().map(|(_, p, o)| (p, o)).collect(),
        logged,
    })
}

/// The audit key of `key`: HKDF-SHA256 over its Crypto-PAn key and name sub-key (both
/// secret), info `custos reidentify v1 audit hash` (docs/privacy.md).
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

#[cfg(test)]
mod tests {
    use super::*;
    use custos_evidence::{Checkpoint, Opened};

    fn audited(kind: OpenKind) -> Audited {
        let opened = Opened {
            kind,
            checkpoint: 4,
            recovered: 0,
            discarded: 0,
            repaired_files: 0,
        };
        let checkpoint = Checkpoint {
            origin: "s".into(),
            size: 5,
            root: [0; 32],
            extensions: Vec::new(),
        };
        Audited {
            revealed: vec![("p".into(), "o".into())],
            logged: Logged {
                index: 4,
                checkpoint,
                opened,
            },
        }
    }

    #[test]
    fn report_names_the_leaf_and_a_log_that_was_not_just_reopened() {
        let log = Path::new("log");
        let lines = audited(OpenKind::Existing).report_lines(log, "s");
        assert_eq!(
            lines,
            [
                "re-identification of 1 pseudonyms logged as leaf 4 of log (checkpoint size 5 \
              signed by s)"
            ]
        );
        assert_eq!(audited(OpenKind::Created).report_lines(log, "s").len(), 2);
    }
}
