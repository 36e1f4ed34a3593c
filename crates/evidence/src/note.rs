//! C2SP signed notes (<https://c2sp.org/signed-note>) with Ed25519 keys in the Go/C2SP text
//! forms.
//!
//! A note is a text ending in a newline, a blank line, then one or more signature lines
//! `— <key name> <base64(key ID ‖ signature)>`. The key ID of an Ed25519 key is the first four
//! bytes of `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)`, read big-endian.
//!
//! Keys are text, as `golang.org/x/mod/sumdb/note` writes them:
//! - signer (private): `PRIVATE+KEY+<name>+<key ID hex>+<base64(0x01 ‖ 32-byte seed)>`
//! - verifier (public): `<name>+<key ID hex>+<base64(0x01 ‖ 32-byte public key)>`
//!
//! [`open_note`] follows the spec's rules: signatures by unknown keys (name *and* ID not both
//! matching a verifier) are ignored; a signature by a known key that fails to verify rejects the
//! whole note; a note with no verified signature is rejected.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

/// The Ed25519 signature type byte of signed-note key IDs and key encodings.
const ALG_ED25519: u8 = 0x01;

/// Most signature lines a note may carry (the spec requires accepting at least 16).
pub const MAX_SIGNATURES: usize = 100;

/// The em dash and space that open a signature line.
const SIG_PREFIX: &str = "\u{2014} ";

/// Why a key or note was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// A key's text is not of the expected `+`-separated form.
    #[error("malformed key: {0}")]
    MalformedKey(&'static str),
    /// A key name is empty or contains a space or `+`.
    #[error("invalid key name {0:?}")]
    BadKeyName(String),
    /// A key's stated ID does not match the ID computed from its name and public key.
    #[error("key ID mismatch for {name}: text says {stated:08x}, key hashes to {computed:08x}")]
    KeyIdMismatch {
        /// Key name.
        name: String,
        /// The ID written in the key text.
        stated: u32,
        /// The ID computed from name and public key.
        computed: u32,
    },
    /// A secret signer key (`PRIVATE+KEY+…`) was given where a public verifier key belongs.
    /// The message never shows the key text.
    #[error("this is a secret signing key (PRIVATE+KEY+…), not a public verifier key (<name>+<id>+<key>)")]
    SecretKeyGiven,
    /// The key uses a signature algorithm other than Ed25519.
    #[error("unsupported key algorithm 0x{0:02x}")]
    UnsupportedAlgorithm(u8),
    /// The note text is empty, does not end in a newline, or has control characters.
    #[error("malformed note text: {0}")]
    MalformedText(&'static str),
    /// The note is not valid UTF-8 or contains ASCII control characters other than newline.
    #[error("note is not UTF-8 text without control characters")]
    NotText,
    /// No blank line separates the text from the signatures, or there are no signatures.
    #[error("note has no signature block")]
    MissingSignatures,
    /// Signature line `line` (1-based within the signature block) is malformed.
    #[error("malformed signature line {line}: {reason}")]
    MalformedSignature {
        /// 1-based number of the line in the signature block.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// More than [`MAX_SIGNATURES`] signature lines.
    #[error("note has {0} signatures, more than the {MAX_SIGNATURES} allowed")]
    TooManySignatures(usize),
    /// A signature by a known key does not verify.
    #[error("invalid signature by {name} ({key_id:08x})")]
    InvalidSignature {
        /// Key name.
        name: String,
        /// Key ID.
        key_id: u32,
    },
    /// No signature by any of the given verifiers.
    #[error("note has no signature by a known key")]
    UnverifiedNote,
    /// The system random source failed while generating a key.
    #[error("random source failed: {0}")]
    Random(String),
}

/// A valid key name: non-empty, no Unicode space, no `+`.
fn check_name(name: &str) -> Result<(), NoteError> {
    if name.is_empty() || name.chars().any(|c| c.is_whitespace() || c == '+') {
        return Err(NoteError::BadKeyName(name.to_string()));
    }
    Ok(())
}

/// The key ID of an Ed25519 key: `SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]`, big-endian.
pub fn key_id(name: &str, public_key: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', ALG_ED25519]);
    h.update(public_key);
    let d: [u8; 32] = h.finalize().into();
    let [a, b, c, e, ..] = d;
    u32::from_be_bytes([a, b, c, e])
}

fn decode_key_material(b64: &str) -> Result<[u8; 32], NoteError> {
    let raw = B64
        .decode(b64)
        .map_err(|_| NoteError::MalformedKey("bad base64"))?;
    match raw.split_first() {
        Some((&ALG_ED25519, rest)) => {
            <[u8; 32]>::try_from(rest).map_err(|_| NoteError::MalformedKey("key is not 32 bytes"))
        }
        Some((&alg, _)) => Err(NoteError::UnsupportedAlgorithm(alg)),
        None => Err(NoteError::MalformedKey("empty key")),
    }
}

fn parse_id(hex: &str) -> Result<u32, NoteError> {
    if hex.len() != 8 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(NoteError::MalformedKey("key ID is not 8 hex digits"));
    }
    u32::from_str_radix(hex, 16).map_err(|_| NoteError::MalformedKey("key ID is not hex"))
}

/// An Ed25519 note signer: a key name and a private key.
#[derive(Clone)]
pub struct Signer {
    name: String,
    id: u32,
    key: SigningKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("name", &self.name)
            .field("id", &self.id)
            .finish()
    }
}

impl Signer {
    /// A signer from a name and a 32-byte Ed25519 seed.
    ///
    /// # Errors
    /// [`NoteError::BadKeyName`].
    pub fn from_seed(name: &str, seed: &[u8; 32]) -> Result<Self, NoteError> {
        check_name(name)?;
        let key = SigningKey::from_bytes(seed);
        let id = key_id(name, key.verifying_key().as_bytes());
        Ok(Self {
            name: name.to_string(),
            id,
            key,
        })
    }

    /// The 32-byte Ed25519 seed, for keys derived from it inside this crate (the journal's
    /// MAC key); never written anywhere.
    pub(crate) fn seed(&self) -> [u8; 32] {
        self.key.to_bytes()
    }

    /// Parses `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ‖ seed)>`.
    ///
    /// # Errors
    /// [`NoteError::MalformedKey`], [`NoteError::BadKeyName`], [`NoteError::UnsupportedAlgorithm`]
    /// or [`NoteError::KeyIdMismatch`].
    pub fn from_skey(text: &str) -> Result<Self, NoteError> {
        let text = text.trim_end_matches(['\n', '\r']);
        let rest = text
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(NoteError::MalformedKey(
                "signer key must start with PRIVATE+KEY+",
            ))?;
        // The base64 key may itself contain '+': split off name and ID only.
        let mut parts = rest.splitn(3, '+');
        let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::MalformedKey(
                "want PRIVATE+KEY+<name>+<id>+<key>",
            ));
        };
        let stated = parse_id(id)?;
        let seed = decode_key_material(b64)?;
        let s = Self::from_seed(name, &seed)?;
        if s.id != stated {
            return Err(NoteError::KeyIdMismatch {
                name: name.into(),
                stated,
                computed: s.id,
            });
        }
        Ok(s)
    }

    /// The key in `PRIVATE+KEY+…` text form.
    pub fn to_skey(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.id,
            B64.encode(raw)
        )
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// The matching verifier.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            id: self.id,
            key: self.key.verifying_key(),
        }
    }

    /// The signature line (without trailing newline) for `text`.
    pub fn signature_line(&self, text: &str) -> String {
        let sig = self.key.sign(text.as_bytes());
        let mut raw = self.id.to_be_bytes().to_vec();
        raw.extend_from_slice(&sig.to_bytes());
        format!("{SIG_PREFIX}{} {}", self.name, B64.encode(raw))
    }
}

/// An Ed25519 note verifier: a key name and a public key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl Verifier {
    /// Parses `<name>+<hex id>+<base64(0x01 ‖ public key)>`.
    ///
    /// # Errors
    /// [`NoteError::SecretKeyGiven`] for a signer key's text (`PRIVATE+KEY+…`, the mistake of
    /// passing the `.skey` file), [`NoteError::MalformedKey`], [`NoteError::BadKeyName`],
    /// [`NoteError::UnsupportedAlgorithm`] or [`NoteError::KeyIdMismatch`].
    pub fn from_vkey(text: &str) -> Result<Self, NoteError> {
        let text = text.trim_end_matches(['\n', '\r']);
        if text.starts_with("PRIVATE+KEY+") {
            return Err(NoteError::SecretKeyGiven);
        }
        let mut parts = text.splitn(3, '+');
        let (Some(name), Some(id), Some(b64)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::MalformedKey("want <name>+<id>+<key>"));
        };
        check_name(name)?;
        let stated = parse_id(id)?;
        let raw = decode_key_material(b64)?;
        let key = VerifyingKey::from_bytes(&raw)
            .map_err(|_| NoteError::MalformedKey("not an Ed25519 public key"))?;
        let computed = key_id(name, &raw);
        if computed != stated {
            return Err(NoteError::KeyIdMismatch {
                name: name.into(),
                stated,
                computed,
            });
        }
        Ok(Self {
            name: name.to_string(),
            id: stated,
            key,
        })
    }

    /// The key in `<name>+<id>+<key>` text form.
    pub fn to_vkey(&self) -> String {
        let mut raw = vec![ALG_ED25519];
        raw.extend_from_slice(self.key.as_bytes());
        format!("{}+{:08x}+{}", self.name, self.id, B64.encode(raw))
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.id
    }

    /// Whether `sig` is a valid signature of `text` by this key.
    pub fn verify(&self, text: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = Signature::from_slice(sig) else {
            return false;
        };
        self.key.verify(text, &sig).is_ok()
    }
}

/// Generates a fresh Ed25519 key pair named `name`, as `(signer key text, verifier key text)`.
///
/// # Errors
/// [`NoteError::BadKeyName`] or [`NoteError::Random`].
pub fn generate_key(name: &str) -> Result<(String, String), NoteError> {
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed).map_err(|e| NoteError::Random(e.to_string()))?;
    let s = Signer::from_seed(name, &seed)?;
    Ok((s.to_skey(), s.verifier().to_vkey()))
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key name on the line.
    pub name: String,
    /// The key ID (first four bytes of the decoded signature).
    pub key_id: u32,
    /// The signature bytes after the key ID.
    pub signature: Vec<u8>,
}

/// A note whose signatures have been checked by [`open_note`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The signed text, final newline included.
    pub text: String,
    /// Signatures that verified with one of the given verifiers.
    pub verified: Vec<NoteSignature>,
    /// Signatures by keys not among the verifiers (ignored, as the spec requires).
    pub unverified: Vec<NoteSignature>,
}

/// Signs `text` (which must end in a newline) with every signer, giving the note.
///
/// # Errors
/// [`NoteError::MalformedText`] when the text is empty, lacks the final newline, or contains
/// control characters other than newline.
pub fn sign_note(text: &str, signers: &[&Signer]) -> Result<String, NoteError> {
    check_text(text)?;
    if signers.is_empty() {
        return Err(NoteError::MissingSignatures);
    }
    let mut out = String::with_capacity(text.len() + 1 + signers.len() * 110);
    out.push_str(text);
    out.push('\n');
    for s in signers {
        out.push_str(&s.signature_line(text));
        out.push('\n');
    }
    Ok(out)
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(NoteError::MalformedText(
            "text must be non-empty and end in a newline",
        ));
    }
    if text.bytes().any(|b| b < 0x20 && b != b'\n') {
        return Err(NoteError::MalformedText("control character in text"));
    }
    Ok(())
}

/// Splits a note into text and signature lines without checking any signature.
///
/// # Errors
/// [`NoteError::NotText`], [`NoteError::MissingSignatures`],
/// [`NoteError::MalformedSignature`] or [`NoteError::TooManySignatures`].
pub fn parse_note(msg: &[u8]) -> Result<(String, Vec<NoteSignature>), NoteError> {
    let msg = std::str::from_utf8(msg).map_err(|_| NoteError::NotText)?;
    if msg.bytes().any(|b| b < 0x20 && b != b'\n') {
        return Err(NoteError::NotText);
    }
    // The text ends at the last blank line (spec: "separated from the signatures by the last
    // empty line in the note").
    let split = msg.rfind("\n\n").ok_or(NoteError::MissingSignatures)?;
    let text = msg.get(..=split).ok_or(NoteError::MissingSignatures)?;
    let sigs = msg.get(split + 2..).ok_or(NoteError::MissingSignatures)?;
    if sigs.is_empty() {
        return Err(NoteError::MissingSignatures);
    }
    let Some(body) = sigs.strip_suffix('\n') else {
        return Err(NoteError::MalformedSignature {
            line: 1,
            reason: "missing final newline",
        });
    };
    let mut out = Vec::new();
    for (i, line) in body.split('\n').enumerate() {
        let n = i + 1;
        if out.len() >= MAX_SIGNATURES {
            return Err(NoteError::TooManySignatures(body.split('\n').count()));
        }
        let rest = line
            .strip_prefix(SIG_PREFIX)
            .ok_or(NoteError::MalformedSignature {
                line: n,
                reason: "does not start with '— '",
            })?;
        let (name, b64) = rest.split_once(' ').ok_or(NoteError::MalformedSignature {
            line: n,
            reason: "no space after name",
        })?;
        if check_name(name).is_err() {
            return Err(NoteError::MalformedSignature {
                line: n,
                reason: "invalid key name",
            });
        }
        let raw = B64.decode(b64).map_err(|_| NoteError::MalformedSignature {
            line: n,
            reason: "bad base64",
        })?;
        let short = NoteError::MalformedSignature {
            line: n,
            reason: "shorter than 5 bytes",
        };
        let (Some(id), Some(sig)) = (raw.get(..4), raw.get(4..)) else {
            return Err(short);
        };
        let id: [u8; 4] = id.try_into().map_err(|_| short.clone())?;
        if sig.is_empty() {
            return Err(short);
        }
        let key_id = u32::from_be_bytes(id);
        out.push(NoteSignature {
            name: name.to_string(),
            key_id,
            signature: sig.to_vec(),
        });
    }
    Ok((text.to_string(), out))
}

/// Parses a note and checks its signatures against `verifiers`.
///
/// # Errors
/// Those of [`parse_note`]; [`NoteError::InvalidSignature`] when a signature by a known key
/// fails; [`NoteError::UnverifiedNote`] when no known key signed.
pub fn open_note(msg: &[u8], verifiers: &[&Verifier]) -> Result<Note, NoteError> {
    let (text, sigs) = parse_note(msg)?;
    let mut verified = Vec::new();
    let mut unverified = Vec::new();
    for s in sigs {
        match verifiers
            .iter()
            .find(|v| v.name == s.name && v.id == s.key_id)
        {
            Some(v) => {
                if !v.verify(text.as_bytes(), &s.signature) {
                    return Err(NoteError::InvalidSignature {
                        name: s.name,
                        key_id: s.key_id,
                    });
                }
                if !verified.contains(&s) {
                    verified.push(s);
                }
            }
            None => unverified.push(s),
        }
    }
    if verified.is_empty() {
        return Err(NoteError::UnverifiedNote);
    }
    Ok(Note {
        text,
        verified,
        unverified,
    })
}
