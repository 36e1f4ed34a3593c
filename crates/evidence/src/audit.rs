//! Audited re-identification: the keyed hash of a revealed original ([`AuditKey`]), logging a
//! [`ReidentificationLeaf`] and signing a checkpoint ([`log_reidentification`]), and reading
//! the audit trail back ([`AuditEntry`], listed by [`crate::verify_log`] in
//! [`crate::Report::audit`]).
//!
//! `custos reidentify` reverses pseudonyms only after their re-identification is in the log:
//! who, when, why, the pseudonyms, the pseudonym key's fingerprint, and per pseudonym
//! `HMAC-SHA256(audit key, kind ‖ 0x00 ‖ original)`. The original itself never enters the log
//! (nor the case bundles made from it): it is personal data, and the log is meant to be
//! handed out.
//!
//! The audit key is `HKDF-SHA256(IKM, salt = none, info = "custos reidentify v1 audit hash")`
//! (RFC 5869), 32 bytes, where the caller derives IKM from the pseudonym key (the CLI passes
//! the Crypto-PAn key followed by the name sub-key). So whoever holds the pseudonym key can
//! check which original a leaf revealed, and nobody else can test guesses against the log: an
//! unkeyed or salted hash of an IPv4 address (2^32 candidates) or a MAC of a known vendor
//! (2^24) would be reversed by trying them all.
//!
//! This module does not decrypt pseudonyms (that is `custos-privacy`'s job) and reads no
//! clock: the caller fills in `when`.

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::case::{archive_checkpoint, CaseError};
use crate::checkpoint::Checkpoint;
use crate::jcs::JcsError;
use crate::leaf::{ReidentificationLeaf, REIDENTIFICATION_TYPE};
use crate::log::{Log, LogError, Opened, MAX_ENTRY_SIZE};
use crate::merkle::{hex, Hash};
use crate::note::Signer;

/// The HKDF `info` of the audit key.
pub const AUDIT_KEY_INFO: &[u8] = b"custos reidentify v1 audit hash";

/// SHA-256's block size, the HMAC pad length.
const BLOCK: usize = 64;

/// The key of the hashes of revealed originals in re-identification leaves.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditKey([u8; 32]);

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditKey(..)")
    }
}

impl Drop for AuditKey {
    fn drop(&mut self) {
        self.0 = [0; 32];
        std::hint::black_box(&mut self.0);
    }
}

impl AuditKey {
    /// The audit key of the secret `ikm`: HKDF-SHA256 (RFC 5869) without salt, info
    /// [`AUDIT_KEY_INFO`], 32 bytes.
    pub fn derive(ikm: &[u8]) -> Self {
        let prk = hmac_sha256(&[0; 32], ikm);
        let mut info = AUDIT_KEY_INFO.to_vec();
        info.push(1);
        AuditKey(hmac_sha256(&prk, &info))
    }

    /// `HMAC-SHA256(key, kind ‖ 0x00 ‖ original)` in lower-case hex: what a
    /// [`crate::Reidentified`] records instead of `original` (`kind` is `ip`, `mac` or `name`;
    /// `original` as `custos reidentify` prints it).
    pub fn original_hmac(&self, kind: &str, original: &str) -> String {
        let mut msg = Vec::with_capacity(kind.len() + 1 + original.len());
        msg.extend_from_slice(kind.as_bytes());
        msg.push(0);
        msg.extend_from_slice(original.as_bytes());
        hex(&hmac_sha256(&self.0, &msg))
    }

    /// The positions in `leaf` of the pseudonyms whose original was `original` (of `kind`):
    /// how someone holding the pseudonym key checks what a leaf revealed.
    pub fn revealed_in(
        &self,
        leaf: &ReidentificationLeaf,
        kind: &str,
        original: &str,
    ) -> Vec<usize> {
        let want = self.original_hmac(kind, original);
        leaf.pseudonyms
            .iter()
            .enumerate()
            .filter(|(_, p)| p.kind == kind && p.original_hmac == want)
            .map(|(i, _)| i)
            .collect()
    }
}

/// HMAC-SHA256 (RFC 2104) of `msg` under `key`.
fn hmac_sha256(key: &[u8], msg: &[u8]) -> Hash {
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        let d: Hash = Sha256::digest(key).into();
        for (slot, b) in k.iter_mut().zip(d) {
            *slot = b;
        }
    } else {
        for (slot, b) in k.iter_mut().zip(key) {
            *slot = *b;
        }
    }
    let pad = |x: u8| -> [u8; BLOCK] { k.map(|b| b ^ x) };
    let inner: Hash = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(msg)
        .finalize()
        .into();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// What [`log_reidentification`] did.
#[derive(Debug, Clone)]
pub struct Logged {
    /// Index of the re-identification leaf.
    pub index: u64,
    /// The checkpoint signed after it (it covers the leaf).
    pub checkpoint: Checkpoint,
    /// What opening the log found and did (recovery, repairs).
    pub opened: Opened,
}

/// Why a re-identification could not be logged. Nothing was appended or signed, except after
/// [`AuditError::Log`] from the final append or publication (the log's own protocol then
/// discards or recovers the leaf at the next open, as for any interrupted write).
///
/// Its `Display` is the whole message, a wrapped error's included, and it returns no
/// `source()`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// The record lacks something an audit record must say.
    #[error("a re-identification record needs {0}")]
    Incomplete(&'static str),
    /// The record's `type` is not [`REIDENTIFICATION_TYPE`].
    #[error("not a re-identification record: type {0:?}")]
    WrongType(String),
    /// The record is over the 65 535 bytes a leaf can hold.
    #[error(
        "the re-identification record is {bytes} bytes, over the {MAX_ENTRY_SIZE}-byte leaf \
         limit; re-identify fewer pseudonyms at a time"
    )]
    TooLarge {
        /// Its size in bytes.
        bytes: usize,
    },
    /// JSON canonicalization failed.
    #[error("JCS: {0}")]
    Jcs(JcsError),
    /// The log could not be opened, appended to or published (a missing log is
    /// `LogError::NotALog`; another key with the log's name `LogError::WrongKey`).
    #[error("evidence log: {0}")]
    Log(LogError),
    /// The log's origin is not the signing key's name: the key is not the log's.
    #[error("evidence log has origin {log:?} but the key is {key:?}: not the log's key")]
    WrongKey {
        /// The log's origin.
        log: String,
        /// The key's name.
        key: String,
    },
    /// The log has never published a checkpoint, so nothing shows that the key is its key.
    #[error(
        "{}: the log has no signed checkpoint yet (a log made by `custos analyze --evidence` has one)",
        .0.display()
    )]
    NoCheckpoint(PathBuf),
    /// The previous checkpoint could not be archived.
    #[error("cannot archive the previous checkpoint: {0}")]
    Archive(CaseError),
}

impl From<LogError> for AuditError {
    fn from(e: LogError) -> Self {
        AuditError::Log(e)
    }
}

impl From<JcsError> for AuditError {
    fn from(e: JcsError) -> Self {
        AuditError::Jcs(e)
    }
}

/// Appends `leaf` to the existing log in `dir` and publishes a checkpoint signed by `signer`.
///
/// In order: checks the record (type, `who`, `when`, `why`, at least one pseudonym, at most
/// [`MAX_ENTRY_SIZE`] bytes as canonical JSON); opens the log bound to `signer` — refusing a
/// missing log, a log without a signed checkpoint and a key that is not the log's (another
/// name, or the log's name but another key) before anything is written; archives the current
/// checkpoint to `custos/checkpoints/<size>`; appends the leaf and publishes the checkpoint
/// (integrate, fsync, signed note), as `custos analyze --evidence` does for alerts.
///
/// # Errors
/// [`AuditError::Incomplete`], [`AuditError::WrongType`], [`AuditError::TooLarge`],
/// [`AuditError::Jcs`], [`AuditError::Log`], [`AuditError::WrongKey`],
/// [`AuditError::NoCheckpoint`], [`AuditError::Archive`].
pub fn log_reidentification(
    dir: &Path,
    signer: &Signer,
    leaf: &ReidentificationLeaf,
) -> Result<Logged, AuditError> {
    if !leaf.is_reidentification() {
        return Err(AuditError::WrongType(leaf.kind.clone()));
    }
    for (what, value) in [("who", &leaf.who), ("when", &leaf.when), ("why", &leaf.why)] {
        if value.trim().is_empty() {
            return Err(AuditError::Incomplete(what));
        }
    }
    if leaf.pseudonyms.is_empty() {
        return Err(AuditError::Incomplete("at least one pseudonym"));
    }
    let bytes = leaf.to_leaf()?;
    if bytes.len() > MAX_ENTRY_SIZE {
        return Err(AuditError::TooLarge { bytes: bytes.len() });
    }
    let mut log = match Log::open_signed(dir, signer) {
        Err(LogError::WrongKey { origin, .. }) if origin != signer.name() => {
            return Err(AuditError::WrongKey {
                log: origin,
                key: signer.name().to_string(),
            })
        }
        r => r?,
    };
    if log.origin() != signer.name() {
        return Err(AuditError::WrongKey {
            log: log.origin().to_string(),
            key: signer.name().to_string(),
        });
    }
    if log.read_checkpoint()?.is_none() {
        return Err(AuditError::NoCheckpoint(dir.to_path_buf()));
    }
    let opened = *log.opened();
    archive_checkpoint(dir).map_err(AuditError::Archive)?;
    let index = log.append(bytes.as_bytes())?;
    let checkpoint = log.publish_checkpoint(signer)?;
    Ok(Logged {
        index,
        checkpoint,
        opened,
    })
}

/// A re-identification leaf found in a log: its index and the record, or why a leaf of type
/// [`REIDENTIFICATION_TYPE`] does not parse as one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// The leaf index.
    pub index: u64,
    /// The record, or what is wrong with it.
    pub record: Result<ReidentificationLeaf, String>,
}

impl AuditEntry {
    /// The re-identification leaf in `entry` (leaf `index`), if it is one: a JSON object whose
    /// `type` is [`REIDENTIFICATION_TYPE`]. Other leaves give `None`.
    pub fn from_leaf(index: u64, entry: &[u8]) -> Option<Self> {
        // Most leaves are alerts: a vectorised substring search (std's `str::contains`) keeps
        // this to about 6 % of verification time (docs/evidence.md); a leaf that is not UTF-8
        // is not JSON.
        if !std::str::from_utf8(entry).is_ok_and(|s| s.contains(REIDENTIFICATION_TYPE)) {
            return None;
        }
        let value: serde_json::Value = serde_json::from_slice(entry).ok()?;
        if value.get("type").and_then(serde_json::Value::as_str) != Some(REIDENTIFICATION_TYPE) {
            return None;
        }
        let record = serde_json::from_value::<ReidentificationLeaf>(value)
            .map_err(|e| format!("does not parse as a re-identification record: {e}"));
        Some(AuditEntry { index, record })
    }

    /// One line for a report: index, time, who, why, key and the pseudonyms. Free text is
    /// quoted and escaped, so a record cannot forge lines of the report.
    pub fn line(&self) -> String {
        match &self.record {
            Ok(r) => {
                let list: Vec<String> = r
                    .pseudonyms
                    .iter()
                    .map(|p| p.pseudonym.escape_debug().to_string())
                    .collect();
                format!(
                    "leaf {}: {} who {:?} why {:?} key {} — {} pseudonym{}: {}",
                    self.index,
                    r.when.escape_debug(),
                    r.who,
                    r.why,
                    r.pseudonym_key.escape_debug(),
                    r.pseudonyms.len(),
                    if r.pseudonyms.len() == 1 { "" } else { "s" },
                    list.join(" ")
                )
            }
            Err(e) => format!("leaf {}: {REIDENTIFICATION_TYPE} leaf that {e}", self.index),
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::leaf::Reidentified;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn hmac_matches_rfc_4231_cases_2_and_6() {
        assert_eq!(
            hex(&hmac_sha256(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            hex(&hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First"
            )),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn hkdf_matches_rfc_5869_case_3() {
        // Test case 3: IKM 22 × 0x0b, no salt, empty info; the first 32 bytes of the OKM.
        let prk = hmac_sha256(&[0; 32], &[0x0b; 22]);
        assert_eq!(
            hex(&prk),
            "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04"
        );
        let okm = hmac_sha256(&prk, &[1]);
        assert_eq!(
            okm.to_vec(),
            unhex("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d")
        );
    }

    #[test]
    fn original_hmac_is_keyed_and_separates_kinds() {
        let a = AuditKey::derive(b"secret one");
        let b = AuditKey::derive(b"secret two");
        let h = a.original_hmac("ip", "192.168.1.20");
        assert_eq!(h.len(), 64);
        assert_eq!(h, a.original_hmac("ip", "192.168.1.20"));
        assert_ne!(h, b.original_hmac("ip", "192.168.1.20"));
        assert_ne!(h, a.original_hmac("name", "192.168.1.20"));
        assert_ne!(a.original_hmac("ip", "1"), a.original_hmac("ip1", ""));
        assert_eq!(format!("{a:?}"), "AuditKey(..)");
    }

    fn leaf(key: &AuditKey) -> ReidentificationLeaf {
        ReidentificationLeaf {
            kind: REIDENTIFICATION_TYPE.into(),
            who: "alice".into(),
            when: "2026-01-02T03:04:05Z".into(),
            why: "ticket 4711".into(),
            pseudonym_key: "0011223344556677".into(),
            mac_keep_oui: false,
            pseudonyms: vec![
                Reidentified {
                    kind: "ip".into(),
                    pseudonym: "100.9.15.210".into(),
                    original_hmac: key.original_hmac("ip", "24.5.0.80"),
                },
                Reidentified {
                    kind: "name".into(),
                    pseudonym: "p-abc".into(),
                    original_hmac: key.original_hmac("name", "cam-livingroom"),
                },
            ],
            custos_version: "0.1.0".into(),
        }
    }

    #[test]
    fn leaf_is_canonical_json_that_reads_back_as_an_audit_entry() {
        let key = AuditKey::derive(b"k");
        let l = leaf(&key);
        let bytes = l.to_leaf().unwrap();
        assert!(bytes.starts_with("{\"custos_version\":\"0.1.0\",\"mac_keep_oui\":false,"));
        assert!(bytes.contains("\"type\":\"custos.reidentification/1\""));
        assert!(!bytes.contains("24.5.0.80") && !bytes.contains("cam-livingroom"));
        let e = AuditEntry::from_leaf(7, bytes.as_bytes()).unwrap();
        assert_eq!(e.record.as_ref().unwrap(), &l);
        assert_eq!(
            e.line(),
            "leaf 7: 2026-01-02T03:04:05Z who \"alice\" why \"ticket 4711\" key 0011223344556677 \
             — 2 pseudonyms: 100.9.15.210 p-abc"
        );
        assert_eq!(key.revealed_in(&l, "ip", "24.5.0.80"), vec![0]);
        assert_eq!(key.revealed_in(&l, "name", "cam-livingroom"), vec![1]);
        assert!(key.revealed_in(&l, "ip", "24.5.0.81").is_empty());
        assert!(AuditKey::derive(b"other")
            .revealed_in(&l, "ip", "24.5.0.80")
            .is_empty());
    }

    #[test]
    fn other_leaves_are_not_audit_entries() {
        assert_eq!(
            AuditEntry::from_leaf(0, b"{\"type\":\"custos.alert/1\"}"),
            None
        );
        assert_eq!(AuditEntry::from_leaf(0, b"opaque"), None);
        // The type's text inside another record (e.g. an alert's payload) is not enough.
        let alert = br#"{"alert":{"payload":"custos.reidentification/1"},"type":"custos.alert/1"}"#;
        assert_eq!(AuditEntry::from_leaf(0, alert), None);
        assert_eq!(
            AuditEntry::from_leaf(0, b"custos.reidentification/1 not json"),
            None
        );
    }

    #[test]
    fn malformed_audit_leaf_is_listed_with_its_problem_and_free_text_is_escaped() {
        let e =
            AuditEntry::from_leaf(3, br#"{"type":"custos.reidentification/1","who":"x"}"#).unwrap();
        assert!(e.line().starts_with(
            "leaf 3: custos.reidentification/1 leaf that does not parse as a re-identification record: missing field"
        ), "{}", e.line());
        let key = AuditKey::derive(b"k");
        let mut l = leaf(&key);
        l.who = "mallory\nverdict: VERIFIED".into();
        let e = AuditEntry {
            index: 1,
            record: Ok(l),
        };
        assert!(!e.line().contains('\n'), "{}", e.line());
        assert!(e.line().contains(r#"who "mallory\nverdict: VERIFIED""#));
    }
}
