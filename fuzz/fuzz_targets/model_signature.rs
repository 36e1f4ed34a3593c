//! Model signatures: `custos_trust::verify_model` on a fixed two-file model directory whose
//! `model.sig` the input decides. Byte 0 selects how:
//!
//! - even: the rest is `model.sig` as it is (bundle JSON, DSSE envelope, base64, DER
//!   signature, as any file a model directory may hold);
//! - odd: the rest is the DSSE payload (the in-toto statement), signed by the target's own
//!   key into a well-formed bundle, so that the statement's parser and the comparison of its
//!   file list with the directory are reached past the signature check.
//!
//! Properties: nothing panics; the same signature verifies the same way twice (same error
//! text); a verified model lists exactly the directory's files with their SHA-256 digests, and
//! its statement digest is the payload's SHA-256; nothing verifies against a trusted key that
//! signed nothing (no forged, empty or self-described signature is accepted); an error names
//! the model directory or one of its files.
#![no_main]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use custos_trust::{sign::sign_payload, verify_model, Manifest, PublicKey, SigningKey};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

/// The target's signing key (made for this target only; it signs nothing else).
const KEY_PEM: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg9qev54PG8Qrr1oNP
9Lyyue72XdbWEYcrQdauEAao5KShRANCAAQMe74qhtwb0gg7F+zZTJIjZNqgThKC
RKqnnZS3ndlAnBHz3GKmqXa07eJRwkR/lDznq/fmxOM/RYqSr4ZaP//T
-----END PRIVATE KEY-----
";

/// The model directory, its key pair and its files' manifest, made once per process.
struct Fixture {
    dir: PathBuf,
    key: SigningKey,
    trusted: Vec<PublicKey>,
    /// A key that signs nothing.
    stranger: Vec<PublicKey>,
    manifest: Manifest,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let root = std::env::temp_dir().join(format!("custos-fuzz-sig-{}", std::process::id()));
        let dir = root.join("model");
        std::fs::create_dir_all(&dir).expect("temporary directory");
        let key_path = root.join("key.pem");
        std::fs::write(&key_path, KEY_PEM).expect("key file");
        let key = SigningKey::read(&key_path).expect("the target's key reads");
        std::fs::write(dir.join("model.json"), br#"{"format":"fuzz"}"#).expect("model file");
        std::fs::write(dir.join("model-card.md"), b"card\n").expect("model card");
        let manifest = Manifest::of_dir(&dir).expect("the fixed directory hashes");
        Fixture {
            trusted: vec![key.public_key()],
            stranger: vec![SigningKey::generate().public_key()],
            dir,
            key,
            manifest,
        }
    })
}

/// True when `text` names the model directory or a path inside it.
fn names_the_model(text: &str, dir: &Path) -> bool {
    text.contains(&dir.display().to_string())
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let f = fixture();
    let signed_here = mode & 1 == 1;
    let sig = if signed_here {
        sign_payload(rest, &f.key)
    } else {
        rest.to_vec()
    };
    std::fs::write(f.dir.join("model.sig"), &sig).expect("signature file");
    let first = custos_fuzz::same_twice("signature", || verify_model(&f.dir, &f.trusted));
    if let Ok(m) = verify_model(&f.dir, &f.stranger) {
        panic!("verified against a key that signed nothing: {m:?}");
    }
    match first {
        Ok(model) => {
            assert_eq!(model.files, f.manifest.files, "verified files");
            assert_eq!(model.root_digest, f.manifest.root_digest());
            if signed_here {
                let want: [u8; 32] = Sha256::digest(rest).into();
                assert_eq!(model.statement_digest, want);
            }
        }
        Err(e) => {
            let text = e.to_string();
            assert!(
                names_the_model(&text, &f.dir),
                "error names nothing: {text}"
            );
        }
    }
});
