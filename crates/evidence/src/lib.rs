//! Tamper-evident transparency log for custos evidence.
//!
//! `custos-evidence` keeps an append-only log of opaque byte records (it knows nothing of
//! packets or flows) so that anyone holding the log's public key can later prove that a
//! record was logged, and that the log was never rewritten.
//!
//! # Design overview
//! - [`merkle`]: RFC 9162 §2.1 hashing ([`leaf_hash`], [`node_hash`]), roots, and inclusion
//!   and consistency proofs, generated from any source of perfect-subtree hashes and verified
//!   with [`verify_inclusion`] and [`verify_consistency`].
//! - [`note`]: C2SP signed notes with Ed25519 ([`Signer`], [`Verifier`], [`generate_key`],
//!   [`sign_note`], [`open_note`]); keys in the Go/C2SP `PRIVATE+KEY+…` / `name+id+key` text
//!   forms.
//! - [`checkpoint`]: the C2SP tlog-checkpoint body ([`Checkpoint`]) carried in a signed note.
//! - [`layout`]: C2SP tlog-tiles paths (`tile/<L>/<N>[.p/<W>]`, `tile/entries/<N>[.p/<W>]`,
//!   `checkpoint`), as tessera formats them.
//! - [`Log`]: the writer. [`Log::append`] / [`Log::append_batch`] buffer records;
//!   [`Log::integrate`] writes 256-wide hash tiles and entry bundles durably (temp file,
//!   fsync, rename, fsync directory) keeping only the right edge of the tree in memory;
//!   [`Log::publish_checkpoint`] signs and writes the checkpoint after the data it covers is
//!   on disk. Reads and proofs use tessera's names: [`Log::read_checkpoint`],
//!   [`Log::read_tile`], [`Log::read_entry_bundle`], [`Log::inclusion_proof`],
//!   [`Log::consistency_proof`], [`Log::integrated_size`].
//! - [`verify_log`] / [`verify_log_consistent`]: offline audit of a whole directory, returning
//!   the first bad file, leaf and hashes as evidence.
//! - [`audit`]: audited re-identification — [`log_reidentification`] appends a
//!   [`ReidentificationLeaf`] (who, when, why, the pseudonyms and keyed hashes of their
//!   originals, never the originals) and signs a checkpoint; [`verify_log`] lists these leaves
//!   as the audit trail ([`Report::audit`]).
//! - [`case`]: case bundles — [`export_case`] selects custos alert leaves, logs a custody leaf
//!   and writes a self-contained directory (leaves, pcap excerpts, C2SP tlog-proofs, manifest,
//!   CASE/UCO JSON-LD, chain of custody); [`verify_case`] checks one offline with the key.
//! - Errors: one enum per module ([`LogError`], [`VerifyError`], [`CaseError`],
//!   [`CheckpointError`], [`NoteError`]...). Each `Display` is the whole message, a wrapped
//!   error's included, and none returns a `source()`: printed with its cause chain
//!   (`anyhow`'s `{:#}`) every cause appears once, and printed alone (`{}`) nothing is lost.
//!   A directory that is neither a log nor a bundle is named with what it holds
//!   ([`DirListing`]).
//!
//! Because the directory is a plain tlog-tiles tree, any tlog-tiles client (tessera's
//! `client` package, Go's `sumdb/tlog`, witnesses) can read it when it is served over HTTP.
//!
//! ```
//! use custos_evidence::{verify_inclusion, verify_log, leaf_hash, Log, Signer};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let dir = std::env::temp_dir().join(format!("custos-evidence-doc-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! let signer = Signer::from_seed("example.com/log", &[7; 32])?;
//! let mut log = Log::create(&dir, "example.com/log")?;
//! let i = log.append(b"first record")?;
//! log.append_batch(&[b"second".as_slice(), b"third"])?;
//! let cp = log.publish_checkpoint(&signer)?;
//! assert_eq!(cp.size, 3);
//! let proof = log.inclusion_proof(i, cp.size)?;
//! verify_inclusion(i, cp.size, &leaf_hash(b"first record"), &proof, &cp.root)?;
//! let report = verify_log(&dir, &signer.verifier())?;
//! assert_eq!(report.leaves, 3);
//! # drop(log);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # }
//! ```
//!
//! # What it does not do
//! - No network I/O: it does not serve the tiles over HTTP, fetch remote logs, or talk to
//!   witnesses; serve the directory with any static file server.
//! - No interpretation of records by the log itself: what goes in a record is the caller's
//!   business (only [`case`] reads custos's alert and custody leaves, and [`verify_log`] lists
//!   re-identification leaves). Records are limited to 65 535 bytes by the bundle format.
//! - One writer per directory (an exclusive lock); no concurrent appenders across processes.
//! - No pruning, no key rotation policy, no cosignatures (signatures by other keys are
//!   accepted and ignored when verifying a checkpoint, but not produced).
//! - Signature types other than Ed25519 (0x01) are not supported.

#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

pub mod audit;
pub mod case;
pub mod checkpoint;
pub mod excerpt;
pub mod jcs;
pub mod layout;
pub mod leaf;
pub mod listing;
pub mod log;
pub mod merkle;
pub mod note;
pub mod transcript;
pub mod verify;

pub use audit::{log_reidentification, AuditEntry, AuditError, AuditKey, Logged};
pub use case::{
    examiner, export_case, verify_case, verify_case_into, CaseError, CaseReport, CaseSelection,
    CaseSummary, TlogProof, BUNDLE_MARKERS,
};
pub use checkpoint::{Checkpoint, CheckpointError};
pub use excerpt::write_excerpt;
pub use jcs::{canonicalize, JcsError};
pub use leaf::{
    AlertLeaf, CaptureLeaf, LeafPackets, ReidentificationLeaf, Reidentified, CAPTURE_TYPE,
    REIDENTIFICATION_TYPE,
};
pub use listing::DirListing;
pub use log::{parse_entry_bundle, Log, LogError, OpenKind, Opened, MAX_ENTRY_SIZE};
pub use merkle::{
    empty_root, leaf_hash, node_hash, root_from_leaf_hashes, verify_consistency, verify_inclusion,
    Hash, MemoryTree, ProofError,
};
pub use note::{generate_key, open_note, sign_note, Note, NoteError, Signer, Verifier};
pub use transcript::{verify_case_transcript, verify_log_transcript, Transcript, TranscriptError};
pub use verify::{
    verify_log, verify_log_consistent, verify_log_with, Report, VerifyError, VerifyOptions,
    LOG_MARKERS,
};
