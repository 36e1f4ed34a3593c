//! C2SP tlog-checkpoint note bodies (<https://c2sp.org/tlog-checkpoint>).
//!
//! The body is `<origin>\n<size>\n<base64 root>\n` followed by optional non-empty extension
//! lines; it is the text of a signed note ([`crate::note`]).

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;

use crate::merkle::{hex, Hash};
use crate::note::{open_note, sign_note, NoteError, Signer, Verifier};

/// The three mandatory lines of a checkpoint plus its extension lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's identity (first line); non-empty.
    pub origin: String,
    /// Number of leaves in the tree.
    pub size: u64,
    /// Root hash of the tree at `size`.
    pub root: Hash,
    /// Opaque extension lines, each non-empty, without their newlines.
    pub extensions: Vec<String>,
}

/// Why a checkpoint was rejected.
///
/// Like every error of this crate, its `Display` is the whole message, the wrapped error's
/// included, and it returns no `source()`: printed with its cause chain, each cause appears
/// once. Wrappers say `checkpoint: …`, so the messages here do not repeat the word.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The signed-note layer rejected it (bad structure or signature).
    #[error("{0}")]
    Note(NoteError),
    /// The body is not a valid checkpoint: which line and why.
    #[error("body line {line}: {reason}")]
    Body {
        /// 1-based line number in the note text.
        line: usize,
        /// What is wrong.
        reason: &'static str,
    },
}

impl From<NoteError> for CheckpointError {
    fn from(e: NoteError) -> Self {
        CheckpointError::Note(e)
    }
}

impl Checkpoint {
    /// The note text: `origin\nsize\nbase64(root)\n` plus extension lines.
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    /// Parses a note text (signatures already stripped).
    ///
    /// # Errors
    /// [`CheckpointError::Body`] naming the first bad line: empty origin, size not a decimal
    /// without leading zeroes, root not base64 of 32 bytes, an empty extension line, or a
    /// missing final newline.
    pub fn parse(text: &str) -> Result<Self, CheckpointError> {
        let body = text.strip_suffix('\n').ok_or(CheckpointError::Body {
            line: 1,
            reason: "text does not end in a newline",
        })?;
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() {
            return Err(CheckpointError::Body {
                line: 1,
                reason: "empty origin",
            });
        }
        let size_s = lines.next().ok_or(CheckpointError::Body {
            line: 2,
            reason: "missing tree size",
        })?;
        let bad_size = CheckpointError::Body {
            line: 2,
            reason: "size is not a decimal integer",
        };
        if size_s.is_empty()
            || !size_s.bytes().all(|b| b.is_ascii_digit())
            || (size_s.len() > 1 && size_s.starts_with('0'))
        {
            return Err(bad_size);
        }
        let size: u64 = size_s.parse().map_err(|_| bad_size)?;
        let root_s = lines.next().ok_or(CheckpointError::Body {
            line: 3,
            reason: "missing root hash",
        })?;
        let root_raw = B64.decode(root_s).map_err(|_| CheckpointError::Body {
            line: 3,
            reason: "root is not base64",
        })?;
        let root = Hash::try_from(root_raw.as_slice()).map_err(|_| CheckpointError::Body {
            line: 3,
            reason: "root is not 32 bytes",
        })?;
        let mut extensions = Vec::new();
        for (i, l) in lines.enumerate() {
            if l.is_empty() {
                return Err(CheckpointError::Body {
                    line: i + 4,
                    reason: "empty extension line",
                });
            }
            extensions.push(l.to_string());
        }
        Ok(Self {
            origin: origin.to_string(),
            size,
            root,
            extensions,
        })
    }

    /// The checkpoint as a signed note.
    ///
    /// # Errors
    /// [`CheckpointError::Note`] when the origin or an extension contains a control character.
    pub fn sign(&self, signer: &Signer) -> Result<String, CheckpointError> {
        Ok(sign_note(&self.to_text(), &[signer])?)
    }

    /// Opens a signed checkpoint note, checking the signature with `verifier`.
    ///
    /// # Errors
    /// [`CheckpointError::Note`] for note or signature failures, [`CheckpointError::Body`] for
    /// a bad body.
    pub fn open(note: &[u8], verifier: &Verifier) -> Result<Self, CheckpointError> {
        let n = open_note(note, &[verifier])?;
        Self::parse(&n.text)
    }

    /// Root as lower-case hex.
    pub fn root_hex(&self) -> String {
        hex(&self.root)
    }
}
