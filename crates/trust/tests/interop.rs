//! Interoperability with the reference tool, PyPI `model-signing` 1.1.1 in key mode, both
//! ways. Skips (through `custos_test_support::skip`) when `model_signing` is not installed,
//! unless `CUSTOS_REQUIRE_MODEL_SIGNING=1`, where that fails the test.

use std::path::Path;
use std::process::{Command, Output};

use custos_trust::statement::Statement;
use custos_trust::{
    sign_model, verify_model, write_key_pair, FileChange, KeyFiles, Manifest, PublicKey,
    SigningKey, TrustError,
};

use crate::util::{payload_of, read_bundle, write, Model};

/// Whether the reference CLI can run here; skips or fails the test when it cannot.
fn reference_tool() -> bool {
    let found = Command::new("model_signing")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return true;
    }
    if std::env::var_os("CUSTOS_REQUIRE_MODEL_SIGNING").is_some_and(|v| v == "1") {
        panic!(
            "model_signing (PyPI model-signing 1.1.1) is not installed and \
             CUSTOS_REQUIRE_MODEL_SIGNING=1"
        );
    }
    custos_test_support::skip(
        "model_signing not installed (python3 -m pip install model-signing==1.1.1 pyopenssl)",
    );
    false
}

/// Runs `model_signing` with `args`.
fn run(args: &[&Path]) -> Output {
    Command::new("model_signing").args(args).output().unwrap()
}

/// `model_signing sign key --private_key K.pem --signature MODEL/model.sig MODEL`.
fn reference_sign(model: &Model, keys: &KeyFiles) {
    let out = run(&[
        "sign".as_ref(),
        "key".as_ref(),
        "--private_key".as_ref(),
        &keys.private_key,
        "--signature".as_ref(),
        &model.signature(),
        &model.dir,
    ]);
    assert!(
        out.status.success(),
        "model_signing sign key failed: {out:?}"
    );
}

/// `model_signing verify key --public_key K.pub --signature MODEL/model.sig MODEL`.
fn reference_verify(model: &Model, keys: &KeyFiles) -> Output {
    run(&[
        "verify".as_ref(),
        "key".as_ref(),
        "--public_key".as_ref(),
        &keys.public_key,
        "--signature".as_ref(),
        &model.signature(),
        &model.dir,
    ])
}

/// A model with git files, hidden files, nested directories, non-ASCII names (the tool
/// writes them `\u`-escaped), and names whose order differs between plain string order and
/// the tool's path order (`a/b` before `a-b/c`).
fn interop_model() -> Model {
    let model = Model::new();
    write(&model.dir.join("a/b"), b"1");
    write(&model.dir.join("a-b/c"), b"2");
    write(&model.dir.join("a.b"), b"3");
    write(&model.dir.join(".hidden"), b"4");
    write(&model.dir.join("modèle card.md"), b"5");
    write(&model.dir.join("z\u{1F600}/é"), b"6");
    write(&model.dir.join(".git/HEAD"), b"ref: refs/heads/main\n");
    write(&model.dir.join(".gitignore"), b"*.tmp\n");
    model
}

#[test]
fn reference_tool_verifies_a_custos_signature() {
    if !reference_tool() {
        return;
    }
    let keydir = tempfile::tempdir().unwrap();
    let keys = write_key_pair(&keydir.path().join("K")).unwrap();
    let model = interop_model();
    sign_model(&model.dir, &SigningKey::read(&keys.private_key).unwrap()).unwrap();

    let out = reference_verify(&model, &keys);
    assert!(
        out.status.success(),
        "model_signing verify key refused custos's signature: {out:?}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Verification succeeded"));

    // The tool checks what custos signed: a changed card is refused by both.
    write(
        &model.dir.join("model-card.md"),
        b"# Kitsune\nthreshold 0.1\n",
    );
    let out = reference_verify(&model, &keys);
    assert!(
        !out.status.success(),
        "model_signing accepted a modified model: {out:?}"
    );
    let err = verify_model(&model.dir, &[PublicKey::read(&keys.public_key).unwrap()]).unwrap_err();
    assert!(err.to_string().contains("model-card.md modified"), "{err}");
}

#[test]
fn custos_verifies_a_reference_tool_signature() {
    if !reference_tool() {
        return;
    }
    let keydir = tempfile::tempdir().unwrap();
    let keys = write_key_pair(&keydir.path().join("K")).unwrap();
    let trusted = PublicKey::read_all(&[&keys.public_key]).unwrap();
    // ECDSA signatures are randomised in the tool: several cover both halves of `s`.
    for _ in 0..6 {
        let model = interop_model();
        reference_sign(&model, &keys);
        let verified = verify_model(&model.dir, &trusted).unwrap();
        assert_eq!(verified.key_hint, keys.key_hint);
        assert_eq!(verified.model_name, "model");
        assert_eq!(verified.files, Manifest::of_dir(&model.dir).unwrap().files);
        assert_eq!(
            read_bundle(&model)["verificationMaterial"]["publicKey"]["hint"],
            keys.key_hint
        );
    }

    let model = interop_model();
    reference_sign(&model, &keys);
    write(&model.dir.join("a-b/c"), b"changed");
    let err = verify_model(&model.dir, &trusted).unwrap_err();
    let TrustError::ModelChanged { changes, .. } = err else {
        panic!("{err}")
    };
    assert!(matches!(&changes[..], [FileChange::Modified { path, .. }] if path == "a-b/c"));

    let other = SigningKey::generate().public_key();
    let model = interop_model();
    reference_sign(&model, &keys);
    let err = verify_model(&model.dir, &[other]).unwrap_err();
    assert!(matches!(err, TrustError::UntrustedSigner { .. }), "{err}");
}

#[test]
fn custos_statement_matches_the_reference_statement() {
    if !reference_tool() {
        return;
    }
    let keydir = tempfile::tempdir().unwrap();
    let keys = write_key_pair(&keydir.path().join("K")).unwrap();
    let model = interop_model();
    reference_sign(&model, &keys);
    let theirs: serde_json::Value =
        serde_json::from_slice(&payload_of(&read_bundle(&model))).unwrap();
    let ours = serde_json::to_value(Statement::of_manifest(
        &Manifest::of_dir(&model.dir).unwrap(),
    ))
    .unwrap();
    assert_eq!(normalise(theirs), normalise(ours));
}

/// The statement with `ignore_paths` sorted: the tool writes it from a Python frozenset,
/// in an order that changes from run to run.
fn normalise(mut statement: serde_json::Value) -> serde_json::Value {
    if let Some(paths) = statement["predicate"]["serialization"]["ignore_paths"].as_array_mut() {
        paths.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    }
    statement
}
