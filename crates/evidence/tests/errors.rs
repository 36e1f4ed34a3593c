//! Error messages: each cause appears once when an error is printed with its cause chain
//! (`anyhow`'s `{:#}`), a directory that is not a log is named with what it holds, and a
//! secret key given as a verifier key is named without showing it.

use crate::util::TempDir;
use custos_evidence::{
    verify_case, verify_log, CaseError, CheckpointError, DirListing, NoteError, Signer, Verifier,
    VerifyError,
};
use std::error::Error;

/// The message and every source below it, joined as `anyhow` prints `{:#}`.
fn chain(e: &dyn Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push_str(": ");
        out.push_str(&c.to_string());
        cur = c.source();
    }
    out
}

fn verifier() -> Verifier {
    Signer::from_seed("custos.test/errors", &[9; 32])
        .unwrap()
        .verifier()
}

#[test]
fn unreadable_checkpoint_shows_its_os_error_once() {
    let d = TempDir::new("err-io");
    // A directory where the checkpoint file belongs: reading it fails with EISDIR.
    std::fs::create_dir(d.0.join("checkpoint")).unwrap();
    let e = verify_log(&d.0, &verifier()).unwrap_err();
    assert!(matches!(e, VerifyError::Io { .. }), "{e}");
    let text = chain(&e);
    assert_eq!(text.matches("Is a directory").count(), 1, "{text}");
    assert_eq!(
        text,
        format!(
            "{}: Is a directory (os error 21)",
            d.0.join("checkpoint").display()
        )
    );
}

#[test]
fn bad_checkpoint_shows_its_cause_once() {
    let d = TempDir::new("err-cp");
    std::fs::write(d.0.join("checkpoint"), b"custos.test/errors\n1\n").unwrap();
    let e = verify_log(&d.0, &verifier()).unwrap_err();
    assert!(
        matches!(
            e,
            VerifyError::Checkpoint(CheckpointError::Note(NoteError::MissingSignatures))
        ),
        "{e}"
    );
    assert_eq!(chain(&e), "checkpoint: note has no signature block");
}

#[test]
fn missing_directory_is_an_io_error_before_any_check() {
    let d = TempDir::new("err-missing");
    let missing = d.0.join("nosuch");
    let want = format!(
        "{}: No such file or directory (os error 2)",
        missing.display()
    );
    let e = verify_log(&missing, &verifier()).unwrap_err();
    assert!(
        matches!(&e, VerifyError::Io { error, .. } if error.kind() == std::io::ErrorKind::NotFound),
        "{e}"
    );
    assert_eq!(chain(&e), want);
    let e = verify_case(&missing, &verifier()).unwrap_err();
    assert!(
        matches!(&e, CaseError::Io { error, .. } if error.kind() == std::io::ErrorKind::NotFound),
        "{e}"
    );
    assert_eq!(chain(&e), want);
}

#[test]
fn analysis_output_folder_is_neither_a_log_nor_a_bundle() {
    let d = TempDir::new("err-out");
    for f in ["conn.log", "stats.json", "alerts.jsonl"] {
        std::fs::write(d.0.join(f), b"").unwrap();
    }
    std::fs::create_dir(d.0.join("excerpts")).unwrap();
    let listing = DirListing {
        names: vec![
            "alerts.jsonl".into(),
            "conn.log".into(),
            "excerpts/".into(),
            "stats.json".into(),
        ],
        more: 0,
    };
    let e = verify_log(&d.0, &verifier()).unwrap_err();
    assert!(
        matches!(&e, VerifyError::NotALog { listing: l, .. } if *l == listing),
        "{e}"
    );
    assert_eq!(
        chain(&e),
        format!(
            "{}: not an evidence log (it has none of checkpoint, tile/, custos/, .state/); it holds alerts.jsonl, conn.log, excerpts/, stats.json",
            d.0.display()
        )
    );
    let e = verify_case(&d.0, &verifier()).unwrap_err();
    assert!(
        matches!(&e, CaseError::NotABundle { listing: l, .. } if *l == listing),
        "{e}"
    );
    assert_eq!(
        chain(&e),
        format!(
            "{}: not a case bundle (it has none of vkey, manifest.json, custody-leaf.json, proofs/); it holds alerts.jsonl, conn.log, excerpts/, stats.json",
            d.0.display()
        )
    );
}

#[test]
fn secret_key_is_refused_as_a_verifier_key_without_showing_it() {
    let signer = Signer::from_seed("custos.test/errors", &[9; 32]).unwrap();
    let skey = signer.to_skey();
    let e = Verifier::from_vkey(&skey).unwrap_err();
    assert_eq!(e, NoteError::SecretKeyGiven);
    let text = chain(&e);
    // PRIVATE+KEY+<name>+<id>+<base64 key>; the base64 may itself hold '+'.
    let secret = skey.splitn(5, '+').nth(4).unwrap();
    assert!(secret.len() > 40, "{secret}");
    assert!(!text.contains(secret), "{text}");
    assert_eq!(
        text,
        "this is a secret signing key (PRIVATE+KEY+…), not a public verifier key (<name>+<id>+<key>)"
    );
    // The verifier key itself still parses.
    assert_eq!(
        Verifier::from_vkey(&signer.verifier().to_vkey()).unwrap(),
        signer.verifier()
    );
}
