//! Case bundles: a self-contained, offline-verifiable directory holding selected alerts of a
//! custos evidence log, for handing to someone else (an analyst, a court, a CERT).
//!
//! [`export_case`] selects alert leaves (`"type": "custos.alert/1"`) by index, Community ID
//! or alert time range, appends a **custody leaf** (`"type": "custos.custody/1"`, action
//! `"exported"`, who, when, why, the selected leaves and the SHA-256 of the bundle's
//! `manifest.json`) to the log, publishes a new signed checkpoint, and writes the bundle.
//! [`verify_case`] checks a bundle with nothing but the log's public key.
//!
//! # Bundle layout
//! ```text
//! CASEDIR/
//!   README.md                 for the recipient: contents and how to verify
//!   alerts.jsonl              the selected alert leaves, one per line, exact leaf bytes
//!   excerpts/<sha256>.pcap    the packet excerpt of each selected alert
//!   custody.json              chain of custody: "logged" per alert, then "exported"
//!   case.jsonld               CASE 1.x / UCO 1.x description of the case
//!   vkey                      the log's public key (signed-note verifier key)
//!   manifest.json             every file above with its SHA-256 and size
//!   custody-leaf.json         the custody leaf, exact leaf bytes (holds manifest.json's SHA-256)
//!   proofs/<index>.tlog-proof C2SP tlog-proof of each alert leaf and of the custody leaf
//!   SHA256SUMS                `sha256sum -c` list of every other file
//! ```
//!
//! # Breaking the cycle
//! The custody leaf must commit to the bundle, but the proofs (and the leaf itself) can only
//! exist after the leaf is logged. So the bundle has two layers:
//! 1. *data files* (everything in `manifest.json`'s `files`) are fixed before the custody leaf
//!    is appended; `manifest.json` lists them with their SHA-256 and the custody leaf holds
//!    `SHA-256(manifest.json)`;
//! 2. *authentication files* (`custody-leaf.json`, `proofs/*.tlog-proof`) are written after:
//!    they are self-authenticating (a proof verifies against a checkpoint signed by the log
//!    key, for the exact leaf bytes), so they need not be listed in the manifest.
//!
//! `SHA256SUMS` lists every file of both layers (but itself) for standard tools; it is not
//! authenticated and only a convenience: [`verify_case`] requires it to match, but the trust
//! comes from the signed checkpoint → inclusion proof → custody leaf → manifest chain.
//! Every proof is against the same checkpoint, the one published right after the custody
//! leaf, so the proofs are trivially consistent with each other.
//!
//! Only [`export_case`]'s chain-of-custody time (`now_rfc3339`) comes from the wall clock,
//! and it is a parameter; the same log, selection and parameters give the same bundle.

mod export;
mod jsonld;
mod proof;
pub mod time;
mod verify;

pub use export::{archive_checkpoint, export_case};
pub use proof::{TlogProof, TLOG_PROOF_HEADER};
pub use verify::{verify_case, verify_case_into};

use std::path::PathBuf;

use crate::checkpoint::{Checkpoint, CheckpointError};
use crate::jcs::JcsError;
use crate::listing::DirListing;
use crate::log::LogError;
use crate::merkle::ProofError;

/// `type` of the alert leaves custos logs.
pub const ALERT_TYPE: &str = "custos.alert/1";
/// `type` of custody leaves.
pub const CUSTODY_TYPE: &str = "custos.custody/1";
/// `type` of `manifest.json`.
pub const MANIFEST_TYPE: &str = "custos.case-manifest/1";
/// `type` of `custody.json`.
pub const CUSTODY_RECORD_TYPE: &str = "custos.custody-record/1";

/// The entries of which a directory must have at least one to be taken as a case bundle (a
/// bundle missing some of them is a damaged bundle; one with none is
/// [`CaseError::NotABundle`]). `alerts.jsonl`, `README.md` and `excerpts/` are not among them:
/// analysis output folders and evidence logs have those too.
pub const BUNDLE_MARKERS: [&str; 7] = [
    files::VKEY,
    files::MANIFEST,
    files::CUSTODY_LEAF,
    files::PROOFS,
    files::SHA256SUMS,
    files::CUSTODY,
    files::CASE_JSONLD,
];

/// Bundle file names.
pub mod files {
    /// The recipient's README.
    pub const README: &str = "README.md";
    /// Selected alert leaves, one per line.
    pub const ALERTS: &str = "alerts.jsonl";
    /// Directory of packet excerpts.
    pub const EXCERPTS: &str = "excerpts";
    /// Chain-of-custody record.
    pub const CUSTODY: &str = "custody.json";
    /// CASE/UCO JSON-LD.
    pub const CASE_JSONLD: &str = "case.jsonld";
    /// Public key.
    pub const VKEY: &str = "vkey";
    /// The manifest of data files.
    pub const MANIFEST: &str = "manifest.json";
    /// The custody leaf bytes.
    pub const CUSTODY_LEAF: &str = "custody-leaf.json";
    /// Directory of tlog-proofs.
    pub const PROOFS: &str = "proofs";
    /// `sha256sum` list of every other file.
    pub const SHA256SUMS: &str = "SHA256SUMS";
}

/// Which alerts go into a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseSelection {
    /// These leaf indices; each must be an alert leaf.
    Indices(Vec<u64>),
    /// Every alert leaf whose `community_id` is this.
    CommunityId(String),
    /// Every alert leaf whose `alert.timestamp` lies in `[from, to]` (both inclusive), given
    /// as RFC 3339 timestamps (`2024-05-01T12:00:00Z`, any offset, fraction optional; EVE's
    /// `+0000` form is accepted too).
    TimeRange {
        /// Start, inclusive.
        from: String,
        /// End, inclusive.
        to: String,
    },
}

impl CaseSelection {
    /// The selection of the first kind given: leaf `indices` (when not empty), else a
    /// `community_id`, else a time `range` (from, to); `None` when none is.
    pub fn first_of(
        indices: &[u64],
        community_id: Option<&str>,
        range: Option<(&str, &str)>,
    ) -> Option<Self> {
        if !indices.is_empty() {
            Some(CaseSelection::Indices(indices.to_vec()))
        } else if let Some(id) = community_id {
            Some(CaseSelection::CommunityId(id.to_string()))
        } else {
            range.map(|(from, to)| CaseSelection::TimeRange {
                from: from.to_string(),
                to: to.to_string(),
            })
        }
    }
}

/// The examiner a custody or audit record names: `who`, else `$USER`, trimmed; `None` when
/// that leaves nobody (a record never names a placeholder).
pub fn examiner(who: Option<&str>) -> Option<String> {
    who.map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .map(|w| w.trim().to_string())
        .filter(|w| !w.is_empty())
}

/// A file of the bundle: path relative to the bundle root (`/`-separated), SHA-256 (lower-case
/// hex) and size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// Path relative to the bundle directory.
    pub path: String,
    /// SHA-256, lower-case hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// What [`export_case`] did.
#[derive(Debug, Clone)]
pub struct CaseSummary {
    /// The bundle directory.
    pub out_dir: PathBuf,
    /// The selected alert leaf indices, ascending.
    pub alerts: Vec<u64>,
    /// Index of the custody leaf appended for this export.
    pub custody_index: u64,
    /// The checkpoint published after the custody leaf; every proof in the bundle is
    /// against it.
    pub checkpoint: Checkpoint,
    /// SHA-256 of `manifest.json` (also in the custody leaf), lower-case hex.
    pub manifest_sha256: String,
    /// Every file written, relative to `out_dir`, sorted.
    pub files: Vec<String>,
}

/// What [`verify_case`] checked: one human-readable line per check, in order.
#[derive(Debug, Clone, Default)]
pub struct CaseReport {
    /// Each check performed, e.g. `manifest: alerts.jsonl sha256 ok`.
    pub checks: Vec<String>,
    /// The alert leaf indices in the bundle.
    pub alerts: Vec<u64>,
    /// The custody leaf index.
    pub custody_index: u64,
    /// The checkpoint all proofs verify against (signature checked).
    pub checkpoint: Option<Checkpoint>,
}

/// Why exporting or verifying a case failed; names the failing file, leaf and values.
///
/// Its `Display` is the whole message, a wrapped error's included, and it returns no
/// `source()`, so a cause chain printed with `{:#}` shows each cause once.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// A file system operation failed.
    #[error("{path}: {error}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The OS error (shown in the message, not returned as a source).
        error: std::io::Error,
    },
    /// The evidence log could not be opened, read or appended to.
    #[error("evidence log: {0}")]
    Log(LogError),
    /// The log's origin is not the signing key's name.
    #[error("evidence log has origin {log:?} but the key is {key:?}")]
    WrongKey {
        /// The log's origin.
        log: String,
        /// The key name.
        key: String,
    },
    /// The selection is malformed (bad timestamp, empty list...).
    #[error("bad selection: {0}")]
    BadSelection(String),
    /// The selection matched no alert leaf.
    #[error("the selection matches no alert in the log")]
    NothingSelected,
    /// A selected index is beyond the log or is not an alert leaf.
    #[error("leaf {index}: {reason}")]
    NotAnAlert {
        /// The leaf index.
        index: u64,
        /// Why it cannot be exported.
        reason: String,
    },
    /// The output directory exists and is not empty.
    #[error("{0}: exists and is not empty; refusing to overwrite")]
    OutputExists(PathBuf),
    /// `now_rfc3339` is not an RFC 3339 timestamp.
    #[error("bad custody time {0:?}: not RFC 3339")]
    BadTime(String),
    /// JSON canonicalization failed.
    #[error("JCS: {0}")]
    Jcs(JcsError),
    /// A required file is missing from the bundle (or from the log, when exporting).
    #[error("{file}: missing")]
    Missing {
        /// The file, relative to the bundle (or the log directory's excerpt path).
        file: String,
    },
    /// A file is in the bundle but nothing accounts for it.
    #[error("{file}: unexpected file in the bundle")]
    UnexpectedFile {
        /// The file.
        file: String,
    },
    /// A file's SHA-256 (or size) is not what a manifest says.
    #[error("{file}: {what} expected {expected}, found {actual}")]
    HashMismatch {
        /// The file whose content is wrong.
        file: String,
        /// Which list or record demanded it (`manifest.json`, `SHA256SUMS`, `leaf 3
        /// excerpt_sha256`, `case.jsonld`, `custody leaf manifest_sha256`...).
        what: String,
        /// The recorded value.
        expected: String,
        /// The value of the file as found.
        actual: String,
    },
    /// A file does not parse or violates the bundle format.
    #[error("{file}: {reason}")]
    Malformed {
        /// The file.
        file: String,
        /// What is wrong.
        reason: String,
    },
    /// A proof's checkpoint does not verify with the key.
    #[error("{file}: checkpoint: {error}")]
    Checkpoint {
        /// The proof file.
        file: String,
        /// Why the checkpoint was rejected.
        error: CheckpointError,
    },
    /// A proof's inclusion proof does not verify for the leaf.
    #[error("{file}: leaf {index} is not included in the checkpoint of size {size}: {error}")]
    Inclusion {
        /// The proof file.
        file: String,
        /// The leaf index.
        index: u64,
        /// The checkpoint size.
        size: u64,
        /// The proof failure (root mismatch names both roots).
        error: ProofError,
    },
    /// Two proofs use different checkpoints.
    #[error(
        "{file}: checkpoint (size {actual_size}, root {actual_root}) differs from the bundle's \
         (size {expected_size}, root {expected_root}); all proofs must use the same checkpoint"
    )]
    CheckpointMismatch {
        /// The proof file.
        file: String,
        /// Size of the first proof's checkpoint.
        expected_size: u64,
        /// Root (hex) of the first proof's checkpoint.
        expected_root: String,
        /// This proof's size.
        actual_size: u64,
        /// This proof's root (hex).
        actual_root: String,
    },
    /// The directory has none of a bundle's own files ([`BUNDLE_MARKERS`]): it is not a case
    /// bundle at all (an analysis output folder, an evidence log...), as opposed to a bundle
    /// with files missing.
    #[error(
        "{}: not a case bundle (it has none of vkey, manifest.json, custody-leaf.json, proofs/); {listing}",
        dir.display()
    )]
    NotABundle {
        /// The directory.
        dir: PathBuf,
        /// What it holds.
        listing: DirListing,
    },
    /// The bundle's `vkey` is not the key verification was asked to trust.
    #[error("vkey: bundle key {bundle:?} is not the trusted key {trusted:?}")]
    KeyMismatch {
        /// The key in the bundle.
        bundle: String,
        /// The key given to [`verify_case`].
        trusted: String,
    },
}

impl From<LogError> for CaseError {
    fn from(e: LogError) -> Self {
        CaseError::Log(e)
    }
}

impl From<JcsError> for CaseError {
    fn from(e: JcsError) -> Self {
        CaseError::Jcs(e)
    }
}

fn io_err(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> CaseError {
    let path = path.into();
    move |error| CaseError::Io { path, error }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    crate::merkle::hex(&sha2::Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_takes_the_first_kind_given() {
        let range = Some(("2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"));
        assert_eq!(
            CaseSelection::first_of(&[3, 4], Some("1:x"), range),
            Some(CaseSelection::Indices(vec![3, 4]))
        );
        assert_eq!(
            CaseSelection::first_of(&[], Some("1:x"), range),
            Some(CaseSelection::CommunityId("1:x".into()))
        );
        assert!(matches!(
            CaseSelection::first_of(&[], None, range),
            Some(CaseSelection::TimeRange { .. })
        ));
        assert_eq!(CaseSelection::first_of(&[], None, None), None);
    }

    #[test]
    fn examiner_is_never_blank() {
        assert_eq!(examiner(Some(" alice ")), Some("alice".into()));
        assert_eq!(examiner(Some("  ")), None);
    }
}
