//! ECDSA P-256 key pairs in the PEM forms the reference tool reads and writes.
//!
//! The private key is written as PKCS#8 (`-----BEGIN PRIVATE KEY-----`, file mode 0600) and
//! the public key as SubjectPublicKeyInfo (`-----BEGIN PUBLIC KEY-----`), the forms
//! `model_signing sign key --private_key` and `verify key --public_key` take. A private key
//! in SEC 1 form (`-----BEGIN EC PRIVATE KEY-----`, what `openssl ecparam -genkey` prints) is
//! read too; encrypted private keys are not.
//!
//! The [key hint](PublicKey::key_hint) is what the reference tool records in a bundle's
//! `verificationMaterial.publicKey.hint`: the lower-case hex SHA-256 of the public key's
//! PEM SubjectPublicKeyInfo text (`_signing/sign_ec_key.py`, `_get_verification_material`).

use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use sha2::{Digest, Sha256};

use crate::{hex, TrustError};

/// The largest key file read, in bytes; a PEM P-256 key is a few hundred.
const MAX_KEY_FILE_LEN: u64 = 64 * 1024;

/// A P-256 private key that signs models.
#[derive(Clone)]
pub struct SigningKey {
    key: p256::ecdsa::SigningKey,
}

/// A P-256 public key that verifies models.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    key: p256::ecdsa::VerifyingKey,
}

/// The files [`write_key_pair`] created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyFiles {
    /// The PKCS#8 PEM private key (`<stem>.pem`, mode 0600).
    pub private_key: PathBuf,
    /// The SubjectPublicKeyInfo PEM public key (`<stem>.pub`).
    pub public_key: PathBuf,
    /// The public key's [hint](PublicKey::key_hint).
    pub key_hint: String,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("key_hint", &self.public_key().key_hint())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Self {
        SigningKey {
            key: p256::ecdsa::SigningKey::random(&mut rand_core::OsRng),
        }
    }

    /// Reads a PEM private key: PKCS#8 (`PRIVATE KEY`) or SEC 1 (`EC PRIVATE KEY`).
    ///
    /// # Errors
    /// [`TrustError::Io`] when the file cannot be read, [`TrustError::Key`] when it is too
    /// large, encrypted, not PEM, or not a P-256 key.
    pub fn read(path: &Path) -> Result<Self, TrustError> {
        let pem = read_pem(path)?;
        let bad = |reason: String| TrustError::Key {
            path: path.to_path_buf(),
            reason,
        };
        if pem.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")
            || pem.contains("Proc-Type: 4,ENCRYPTED")
        {
            return Err(bad("encrypted private keys are not supported".into()));
        }
        let secret = if pem.contains("-----BEGIN EC PRIVATE KEY-----") {
            p256::SecretKey::from_sec1_pem(&pem)
                .map_err(|e| bad(format!("not a P-256 SEC 1 private key: {e}")))?
        } else {
            p256::SecretKey::from_pkcs8_pem(&pem)
                .map_err(|e| bad(format!("not a P-256 PKCS#8 private key: {e}")))?
        };
        Ok(SigningKey {
            key: p256::ecdsa::SigningKey::from(secret),
        })
    }

    /// The private key as PKCS#8 PEM text, wiped from memory when dropped.
    ///
    /// # Errors
    /// [`TrustError::Key`] (naming `<memory>`) if encoding fails, which it does not for a
    /// valid key.
    pub fn to_pem(&self) -> Result<p256::pkcs8::der::zeroize::Zeroizing<String>, TrustError> {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| TrustError::Key {
                path: PathBuf::from("<memory>"),
                reason: format!("cannot encode the private key: {e}"),
            })
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            key: *self.key.verifying_key(),
        }
    }

    /// The DER-encoded ECDSA P-256 / SHA-256 signature of `message` (deterministic, RFC 6979).
    pub fn sign_der(&self, message: &[u8]) -> Vec<u8> {
        let signature: p256::ecdsa::Signature = self.key.sign(message);
        signature.to_der().as_bytes().to_vec()
    }
}

impl PublicKey {
    /// Reads a PEM SubjectPublicKeyInfo (`PUBLIC KEY`) P-256 public key.
    ///
    /// # Errors
    /// [`TrustError::Io`] when the file cannot be read, [`TrustError::Key`] when it is too
    /// large, not PEM, or not a P-256 key.
    pub fn read(path: &Path) -> Result<Self, TrustError> {
        let pem = read_pem(path)?;
        let key = p256::PublicKey::from_public_key_pem(&pem).map_err(|e| TrustError::Key {
            path: path.to_path_buf(),
            reason: format!("not a P-256 SubjectPublicKeyInfo public key: {e}"),
        })?;
        Ok(PublicKey {
            key: p256::ecdsa::VerifyingKey::from(key),
        })
    }

    /// Reads every key of `paths`, in order (the `--trust FILE...` list).
    ///
    /// # Errors
    /// The first key that [`PublicKey::read`] refuses.
    pub fn read_all<P: AsRef<Path>>(paths: &[P]) -> Result<Vec<Self>, TrustError> {
        paths.iter().map(|p| PublicKey::read(p.as_ref())).collect()
    }

    /// The public key as PEM SubjectPublicKeyInfo text, as the reference tool serialises it
    /// (uncompressed point, 64-column base64, `\n` line ends).
    pub fn to_pem(&self) -> String {
        // Encoding an in-memory valid point cannot fail; an empty string would give a hint
        // that matches no bundle, never a wrong key.
        p256::PublicKey::from(&self.key)
            .to_public_key_pem(LineEnding::LF)
            .unwrap_or_default()
    }

    /// The key hint: lower-case hex SHA-256 of [`PublicKey::to_pem`], as the reference tool
    /// writes it in `verificationMaterial.publicKey.hint`.
    pub fn key_hint(&self) -> String {
        hex::encode(&Sha256::digest(self.to_pem().as_bytes()))
    }

    /// Whether `signature` (DER) is this key's ECDSA P-256 / SHA-256 signature of `message`.
    pub fn verify_der(&self, message: &[u8], signature: &[u8]) -> bool {
        match p256::ecdsa::Signature::from_der(signature) {
            Ok(sig) => self.key.verify(message, &sig).is_ok(),
            Err(_) => false,
        }
    }
}

/// Generates a key pair and writes `<stem>.pem` (PKCS#8, mode 0600) and `<stem>.pub` (SPKI),
/// refusing to overwrite either.
///
/// # Errors
/// [`TrustError::Io`] naming the file that exists already or cannot be written; a private
/// key written before the public key failed is removed again.
pub fn write_key_pair(stem: &Path) -> Result<KeyFiles, TrustError> {
    let private_key = with_suffix(stem, ".pem");
    let public_key = with_suffix(stem, ".pub");
    for path in [&private_key, &public_key] {
        if path.symlink_metadata().is_ok() {
            return Err(TrustError::io(
                path,
                "create",
                std::io::Error::new(
                    std::io::ErrorKind::AlreadyExists,
                    "file exists, not overwriting",
                ),
            ));
        }
    }
    let key = SigningKey::generate();
    let public = key.public_key();
    write_new(&private_key, key.to_pem()?.as_bytes(), 0o600)?;
    if let Err(e) = write_new(&public_key, public.to_pem().as_bytes(), 0o644) {
        let _ = std::fs::remove_file(&private_key);
        return Err(e);
    }
    Ok(KeyFiles {
        private_key,
        public_key,
        key_hint: public.key_hint(),
    })
}

/// `stem` with `suffix` appended to its last component (`K` → `K.pem`).
fn with_suffix(stem: &Path, suffix: &str) -> PathBuf {
    let mut name = OsString::from(stem.as_os_str());
    name.push(suffix);
    PathBuf::from(name)
}

/// Creates `path` (which must not exist) with `mode` and writes `bytes` to it.
fn write_new(path: &Path, bytes: &[u8], mode: u32) -> Result<(), TrustError> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options
        .open(path)
        .map_err(|e| TrustError::io(path, "create", e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| TrustError::io(path, "write", e))
}

/// Reads a key file of at most [`MAX_KEY_FILE_LEN`] bytes as text.
fn read_pem(path: &Path) -> Result<String, TrustError> {
    let file = File::open(path).map_err(|e| TrustError::io(path, "read", e))?;
    let mut text = String::new();
    file.take(MAX_KEY_FILE_LEN + 1)
        .read_to_string(&mut text)
        .map_err(|e| TrustError::io(path, "read", e))?;
    if text.len() as u64 > MAX_KEY_FILE_LEN {
        return Err(TrustError::Key {
            path: path.to_path_buf(),
            reason: format!("larger than {MAX_KEY_FILE_LEN} bytes"),
        });
    }
    Ok(text)
}

#[cfg(test)]
mod test {
    use super::*;

    /// A public key written by OpenSSL (`openssl ec -pubout`), and the hint the reference
    /// tool (model-signing 1.1.1) put in the bundle it signed with the matching private key.
    const OPENSSL_PUB: &str = "-----BEGIN PUBLIC KEY-----\n\
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE7ouzM+MzkW+D6xHR8OXii4d7v1U8\n\
OGbYvrP8/T7dst7UGr/6NVAplCtrPREoiOu+TKJyPe4LjDJm0UBjaFKCuw==\n\
-----END PUBLIC KEY-----\n";
    const REFERENCE_HINT: &str = "cb55d675244cf16ddbce76c9adc0cea88aac9d4d6fa574971b4ead7c976d24ac";

    #[test]
    fn key_hint_matches_reference_tool() {
        let key = p256::PublicKey::from_public_key_pem(OPENSSL_PUB).unwrap();
        let key = PublicKey {
            key: p256::ecdsa::VerifyingKey::from(key),
        };
        assert_eq!(key.to_pem(), OPENSSL_PUB);
        assert_eq!(key.key_hint(), REFERENCE_HINT);
    }

    #[test]
    fn signs_and_verifies_der() {
        let key = SigningKey::generate();
        let sig = key.sign_der(b"message");
        assert!(key.public_key().verify_der(b"message", &sig));
        assert!(!key.public_key().verify_der(b"messagf", &sig));
        assert!(!SigningKey::generate()
            .public_key()
            .verify_der(b"message", &sig));
        assert!(!key.public_key().verify_der(b"message", b"\x30\x00"));
    }
}
