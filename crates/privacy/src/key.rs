//! Pseudonym keys: generation, the `.pkey` file format, and sub-key derivation.
//!
//! A key is 64 secret bytes: a 32-byte Crypto-PAn key (used as is, so it also works in any
//! other Crypto-PAn implementation) and a 32-byte master secret from which HKDF-SHA256
//! (RFC 5869, no salt) derives the MAC sub-key (16 bytes, info `custos-privacy v1 mac`) and the
//! name sub-key (32 bytes, info `custos-privacy v1 name`).
//!
//! The file (`K.pkey`) is text, written once with mode 0600 and never overwritten:
//!
//! ```text
//! custos-pseudonym-key v1
//! # Secret: whoever holds this file can reverse every pseudonym made with it.
//! cryptopan <64 hex digits>
//! secret <64 hex digits>
//! ```
//!
//! Blank lines and lines starting with `#` are ignored; anything else is an error naming the
//! file and line. A key made from a bare Crypto-PAn key ([`PseudonymKey::from_cryptopan_hex`])
//! derives its master secret from it (HKDF info `custos-privacy v1 secret from cryptopan`),
//! so with such a key every pseudonym is reversible from the 32 bytes alone.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::cryptopan::KEY_LEN;
use crate::error::{Error, Result};

/// The first line of every key file.
pub const KEY_FILE_HEADER: &str = "custos-pseudonym-key v1";
/// The extension `custos keygen --pseudonym` gives key files.
pub const KEY_FILE_EXTENSION: &str = "pkey";
/// The comment written after the header.
const WARNING: &str = "# Secret: whoever holds this file can reverse every pseudonym made with it.";

/// The secret behind every pseudonym: a Crypto-PAn key and a master secret.
#[derive(Clone, PartialEq, Eq)]
pub struct PseudonymKey {
    cryptopan: [u8; KEY_LEN],
    secret: [u8; 32],
}

impl fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PseudonymKey({})", self.fingerprint())
    }
}

impl Drop for PseudonymKey {
    fn drop(&mut self) {
        self.cryptopan.zeroize();
        self.secret.zeroize();
    }
}

impl PseudonymKey {
    /// A fresh key from the operating system's random number generator.
    ///
    /// # Errors
    ///
    /// [`Error::Random`] when the generator fails.
    pub fn generate() -> Result<Self> {
        let mut bytes = [0u8; 64];
        getrandom::getrandom(&mut bytes).map_err(|err| Error::Random {
            cause: err.to_string(),
        })?;
        let key = Self::from_halves(&bytes);
        bytes.zeroize();
        Ok(key)
    }

    /// The key file that `custos keygen --pseudonym -o OUTPUT` writes: `OUTPUT.pkey` (unchanged
    /// when `OUTPUT` already ends in `.pkey`).
    pub fn path_for(output: &Path) -> PathBuf {
        if output
            .extension()
            .is_some_and(|ext| ext == KEY_FILE_EXTENSION)
        {
            return output.to_owned();
        }
        let mut name = output.as_os_str().to_owned();
        name.push(".");
        name.push(KEY_FILE_EXTENSION);
        PathBuf::from(name)
    }

    /// A key from its two 32-byte halves, as the file stores them.
    pub fn from_parts(cryptopan: [u8; KEY_LEN], secret: [u8; 32]) -> Self {
        Self { cryptopan, secret }
    }

    /// A key from a raw 32-byte Crypto-PAn key written as 64 hexadecimal digits (the form other
    /// Crypto-PAn tools use); the master secret is derived from it.
    ///
    /// # Errors
    ///
    /// [`Error::KeyHex`] when `hex` (surrounding white space aside) is not 64 hex digits.
    pub fn from_cryptopan_hex(hex: &str) -> Result<Self> {
        let cryptopan = decode_hex32(hex.trim()).map_err(|reason| Error::KeyHex { reason })?;
        Ok(Self::from_cryptopan(cryptopan))
    }

    /// A key from a raw 32-byte Crypto-PAn key; the master secret is derived from it.
    pub fn from_cryptopan(cryptopan: [u8; KEY_LEN]) -> Self {
        let mut secret = [0u8; 32];
        expand(
            &cryptopan,
            b"custos-privacy v1 secret from cryptopan",
            &mut secret,
        );
        Self { cryptopan, secret }
    }

    /// The Crypto-PAn key (AES-128 key, then the pad's plaintext).
    pub fn cryptopan_key(&self) -> &[u8; KEY_LEN] {
        &self.cryptopan
    }

    /// The 16-byte AES key of the MAC permutation.
    pub fn mac_key(&self) -> [u8; 16] {
        let mut key = [0u8; 16];
        expand(&self.secret, b"custos-privacy v1 mac", &mut key);
        key
    }

    /// The 32-byte AES-128-SIV key for names.
    pub fn name_key(&self) -> [u8; 32] {
        let mut key = [0u8; 32];
        expand(&self.secret, b"custos-privacy v1 name", &mut key);
        key
    }

    /// A public identifier of the key for audit logs: the first 8 bytes of SHA-256 over the
    /// file's two lines of key material, in hex. Reveals nothing usable about the key.
    pub fn fingerprint(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(b"custos-pseudonym-key fingerprint v1");
        hash.update(self.cryptopan);
        hash.update(self.secret);
        hex(hash.finalize().get(..8).unwrap_or_default())
    }

    /// Writes the key to a new file at `path` with mode 0600.
    ///
    /// # Errors
    ///
    /// [`Error::KeyFileExists`] when anything exists at `path` (keys are never overwritten);
    /// [`Error::KeyFileIo`] when the file cannot be created or written.
    pub fn write_new(&self, path: &Path) -> Result<()> {
        let io = |action, cause| Error::KeyFileIo {
            path: path.to_owned(),
            action,
            cause,
        };
        let mut file = create_private(path).map_err(|cause| match cause.kind() {
            ErrorKind::AlreadyExists => Error::KeyFileExists {
                path: path.to_owned(),
            },
            _ => io("create", cause),
        })?;
        let text = format!(
            "{KEY_FILE_HEADER}\n{WARNING}\ncryptopan {}\nsecret {}\n",
            hex(&self.cryptopan),
            hex(&self.secret)
        );
        file.write_all(text.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|cause| io("write", cause))
    }

    /// Reads a key file written by [`PseudonymKey::write_new`].
    ///
    /// # Errors
    ///
    /// [`Error::KeyFileIo`] when it cannot be read; [`Error::KeyFileMode`] when group or others
    /// may read it; [`Error::KeyFileFormat`] (with the line) when it is not a key file.
    pub fn read(path: &Path) -> Result<Self> {
        let io = |cause| Error::KeyFileIo {
            path: path.to_owned(),
            action: "read",
            cause,
        };
        let mut file = File::open(path).map_err(io)?;
        check_private(path, &file)?;
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(io)?;
        let key = parse_key_file(&text).map_err(|(line, reason)| Error::KeyFileFormat {
            path: path.to_owned(),
            line,
            reason,
        });
        text.zeroize();
        key
    }

    /// Both halves as one 64-byte key (`generate`'s layout).
    fn from_halves(bytes: &[u8; 64]) -> Self {
        let (cryptopan, secret) = bytes.split_at(KEY_LEN);
        let mut key = Self::from_parts([0; KEY_LEN], [0; 32]);
        key.cryptopan.copy_from_slice(cryptopan);
        key.secret.copy_from_slice(secret);
        key
    }
}

/// Parses a key file's text; errors carry the 1-based line.
fn parse_key_file(text: &str) -> std::result::Result<PseudonymKey, (usize, String)> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(index, line)| (index + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'));
    let last_line = text.lines().count().max(1);
    match lines.next() {
        Some((_, KEY_FILE_HEADER)) => {}
        Some((number, _)) => {
            return Err((
                number,
                format!("expected {KEY_FILE_HEADER:?}; not a pseudonym key file"),
            ))
        }
        None => return Err((last_line, "the file is empty".to_owned())),
    }
    let mut field = |name: &str| -> std::result::Result<[u8; 32], (usize, String)> {
        let (number, line) = lines
            .next()
            .ok_or_else(|| (last_line, format!("missing the {name:?} line")))?;
        let value = line
            .strip_prefix(name)
            .and_then(|rest| rest.strip_prefix(' '))
            .ok_or_else(|| (number, format!("expected \"{name} <64 hex digits>\"")))?;
        decode_hex32(value.trim()).map_err(|reason| (number, reason))
    };
    let cryptopan = field("cryptopan")?;
    let secret = field("secret")?;
    if let Some((number, _)) = lines.next() {
        return Err((number, "unexpected line after the key".to_owned()));
    }
    Ok(PseudonymKey::from_parts(cryptopan, secret))
}

/// Creates `path` exclusively, readable and writable by its owner only.
fn create_private(path: &Path) -> std::io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        // The umask can only clear bits; set the mode exactly anyway.
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        Ok(file)
    }
    #[cfg(not(unix))]
    options.open(path)
}

/// Refuses a key file that users other than its owner may read (Unix only).
fn check_private(path: &Path, file: &File) -> Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let metadata = file.metadata().map_err(|cause| Error::KeyFileIo {
            path: path.to_owned(),
            action: "read",
            cause,
        })?;
        let mode = metadata.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(Error::KeyFileMode {
                path: path.to_owned(),
                mode,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = (path, file);
    Ok(())
}

/// HKDF-SHA256 with no salt: `out` is filled from `ikm` under `info`.
fn expand(ikm: &[u8], info: &[u8], out: &mut [u8]) {
    let hkdf = Hkdf::<Sha256>::new(None, ikm);
    // HKDF-SHA256 yields up to 8160 bytes; callers ask for 16 or 32.
    if hkdf.expand(info, out).is_err() {
        unreachable!(
            "HKDF-SHA256 output of {} bytes is within its limit",
            out.len()
        );
    }
}

/// Lower-case hex.
fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Parses exactly 64 hex digits (either case) into 32 bytes.
fn decode_hex32(text: &str) -> std::result::Result<[u8; 32], String> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "expected 64 hexadecimal digits (32 bytes), got {} characters",
            text.chars().count()
        ));
    }
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(text.as_bytes().chunks_exact(2)) {
        let digits = std::str::from_utf8(pair).unwrap_or("00");
        *byte = u8::from_str_radix(digits, 16).unwrap_or(0);
    }
    Ok(out)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn parses_what_it_writes() {
        let key = PseudonymKey::from_parts([1; 32], [2; 32]);
        let text = format!(
            "{KEY_FILE_HEADER}\n{WARNING}\ncryptopan {}\nsecret {}\n",
            hex(&[1; 32]),
            hex(&[2; 32])
        );
        assert_eq!(parse_key_file(&text).unwrap(), key);
    }

    #[test]
    fn format_errors_name_the_line() {
        let good = hex(&[1; 32]);
        let cases = [
            ("", 1, "the file is empty"),
            (
                "hello\n",
                1,
                "expected \"custos-pseudonym-key v1\"; not a pseudonym key file",
            ),
            (
                "custos-pseudonym-key v1\n",
                1,
                "missing the \"cryptopan\" line",
            ),
            (
                "custos-pseudonym-key v1\n\ncryptopan 12\n",
                3,
                "expected 64 hexadecimal digits (32 bytes), got 2 characters",
            ),
            (
                "custos-pseudonym-key v1\nsecret 00\n",
                2,
                "expected \"cryptopan <64 hex digits>\"",
            ),
        ];
        for (text, line, reason) in cases {
            assert_eq!(
                parse_key_file(text).unwrap_err(),
                (line, reason.to_owned()),
                "{text:?}"
            );
        }
        let extra = format!("{KEY_FILE_HEADER}\ncryptopan {good}\nsecret {good}\nmore\n");
        assert_eq!(
            parse_key_file(&extra).unwrap_err(),
            (4, "unexpected line after the key".to_owned())
        );
    }

    #[test]
    fn key_path_appends_the_extension_once() {
        assert_eq!(PseudonymKey::path_for(Path::new("K")), Path::new("K.pkey"));
        assert_eq!(
            PseudonymKey::path_for(Path::new("d/site.v2")),
            Path::new("d/site.v2.pkey")
        );
        assert_eq!(
            PseudonymKey::path_for(Path::new("K.pkey")),
            Path::new("K.pkey")
        );
    }

    #[test]
    fn sub_keys_differ_and_are_stable() {
        let key = PseudonymKey::from_cryptopan([7; 32]);
        assert_ne!(key.mac_key()[..], key.name_key()[..16]);
        assert_eq!(key, PseudonymKey::from_cryptopan([7; 32]));
        assert_eq!(key.fingerprint().len(), 16);
        assert_eq!(
            format!("{key:?}"),
            format!("PseudonymKey({})", key.fingerprint())
        );
    }
}
