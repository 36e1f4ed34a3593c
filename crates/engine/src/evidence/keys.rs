//! Evidence keys on disk, for every front end: a key pair written safely (`PREFIX.skey`
//! created new with mode 0600, `PREFIX.vkey` beside it, neither ever overwritten) and a
//! verifier key read back, a secret key given in its place refused by name without showing
//! any of its text.

use super::Result;
use crate::error::EngineError;
use custos_evidence::{NoteError, Verifier};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The files [`write_key_pair`] wrote and the public key's text.
#[derive(Debug)]
pub struct WrittenKeys {
    /// The secret (signing) key, mode 0600: it stays on the sensor.
    pub skey: PathBuf,
    /// The public (verifier) key.
    pub vkey: PathBuf,
    /// The public key's text (what `PREFIX.vkey` holds, without the newline).
    pub vkey_text: String,
}

/// Generates a key pair named `name` and writes `prefix.skey` and `prefix.vkey`.
///
/// # Errors
/// Either file exists (never overwritten), or it cannot be written.
pub fn write_key_pair(prefix: &Path, name: &str) -> Result<WrittenKeys> {
    let refused = |what: String| EngineError::EvidenceRefused(what);
    let (skey, vkey) = custos_evidence::generate_key(name)
        .map_err(|e| EngineError::evidence("cannot generate a key".to_string(), e))?;
    let sk_path = prefix.with_extension("skey");
    let vk_path = prefix.with_extension("vkey");
    for p in [&sk_path, &vk_path] {
        if p.exists() {
            return Err(refused(format!(
                "{} exists; refusing to overwrite a key",
                p.display()
            )));
        }
    }
    let io = |what: &str, p: &Path, e: std::io::Error| {
        EngineError::evidence(format!("cannot {what} {}", p.display()), e)
    };
    {
        use std::os::unix::fs::OpenOptionsExt;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&sk_path)
            .map_err(|e| io("create", &sk_path, e))?;
        writeln!(f, "{skey}")
            .and_then(|()| f.sync_all())
            .map_err(|e| io("write", &sk_path, e))?;
    }
    std::fs::write(&vk_path, format!("{vkey}\n")).map_err(|e| io("create", &vk_path, e))?;
    Ok(WrittenKeys {
        skey: sk_path,
        vkey: vk_path,
        vkey_text: vkey.to_string(),
    })
}

/// Reads the verifier key at `path`.
///
/// # Errors
/// The file cannot be read; it holds a secret (signing) key — refused by name, pointing to
/// the public key beside it, without any of its text —; or it is no verifier key.
pub fn load_verifier(path: &Path) -> Result<Verifier> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| EngineError::evidence(format!("cannot read {}", path.display()), e))?;
    match Verifier::from_vkey(text.trim()) {
        Ok(v) => Ok(v),
        Err(NoteError::SecretKeyGiven) => {
            let public = path.with_extension("vkey");
            let instead = if public != path && public.is_file() {
                format!("give {} instead", public.display())
            } else {
                "give the public key, PREFIX.vkey, that `custos keygen` wrote next to it".into()
            };
            Err(EngineError::EvidenceRefused(format!(
                "{} is a secret signing key (PRIVATE+KEY+…), not a verifier key: {instead}; \
                 the secret key stays on the sensor",
                path.display()
            )))
        }
        Err(e) => Err(EngineError::evidence(
            format!("{} is not a verifier key", path.display()),
            e,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_is_written_once_and_read_back_and_a_secret_key_is_refused_as_verifier() {
        let d = tempfile::tempdir().unwrap();
        let prefix = d.path().join("sensor1");
        let w = write_key_pair(&prefix, "sensor1").unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&w.skey).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(load_verifier(&w.vkey).is_ok());
        let e = load_verifier(&w.skey).unwrap_err().to_string();
        assert!(
            e.contains("secret signing key") && e.contains("sensor1.vkey"),
            "{e}"
        );
        let secret = std::fs::read_to_string(&w.skey).unwrap();
        assert!(!e.contains(secret.trim()), "the error shows the secret key");
        let again = write_key_pair(&prefix, "sensor1").unwrap_err().to_string();
        assert!(again.contains("refusing to overwrite"), "{again}");
        assert_eq!(std::fs::read_to_string(&w.skey).unwrap(), secret);
    }
}
