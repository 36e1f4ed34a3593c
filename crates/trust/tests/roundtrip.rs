//! Signing and verifying a model directory, and the bundle's layout.

use sha2::{Digest, Sha256};

use custos_trust::{
    sign_model, verify_model, FileChange, Manifest, SigningKey, TrustError, SIGNATURE_FILE,
};

use crate::util::{payload_of, read_bundle, write, Model, MODEL_FILES};

#[test]
fn signs_and_verifies_a_model_directory() {
    let model = Model::new();
    let key = SigningKey::generate();
    let signed = sign_model(&model.dir, &key).unwrap();
    assert_eq!(signed.signature, model.dir.join(SIGNATURE_FILE));

    let verified = verify_model(&model.dir, &[key.public_key()]).unwrap();
    assert_eq!(verified.dir, model.dir);
    assert_eq!(verified.model_name, "model");
    assert_eq!(verified.key_hint, key.public_key().key_hint());
    assert_eq!(verified.key_hint, signed.key_hint);
    assert_eq!(verified.root_digest, signed.root_digest);
    assert_eq!(verified.statement_digest, signed.statement_digest);
    let payload = payload_of(&read_bundle(&model));
    assert_eq!(
        verified.statement_digest,
        <[u8; 32]>::from(Sha256::digest(&payload))
    );

    let names: Vec<&str> = verified.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(
        names,
        [
            "dataset/manifest.json",
            "model-card.json",
            "model-card.md",
            "model.bin",
            "training-config.toml"
        ]
    );
    for (name, bytes) in MODEL_FILES {
        let digest: [u8; 32] = Sha256::digest(bytes).into();
        assert_eq!(verified.digest_of(name), Some(&digest), "{name}");
        assert_eq!(verified.read_file(name).unwrap(), *bytes);
    }
    let mut root = Sha256::new();
    for f in &verified.files {
        root.update(f.sha256);
    }
    assert_eq!(verified.root_digest, <[u8; 32]>::from(root.finalize()));
}

#[test]
fn bundle_has_the_reference_layout() {
    let (model, key) = Model::signed();
    let text = std::fs::read_to_string(model.signature()).unwrap();
    assert!(text.starts_with(
        "{\"mediaType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\",\
         \"verificationMaterial\":{\"publicKey\":{\"hint\":\""
    ));
    assert!(text.ends_with("\",\"keyid\":\"\"}]}}"));
    let bundle: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        bundle["verificationMaterial"]["publicKey"]["hint"],
        key.public_key().key_hint()
    );
    assert_eq!(
        bundle["verificationMaterial"]["tlogEntries"],
        serde_json::json!([])
    );
    assert_eq!(
        bundle["dsseEnvelope"]["payloadType"],
        "application/vnd.in-toto+json"
    );

    let statement: serde_json::Value = serde_json::from_slice(&payload_of(&bundle)).unwrap();
    assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
    assert_eq!(
        statement["predicateType"],
        "https://model_signing/signature/v1.0"
    );
    assert_eq!(statement["subject"].as_array().unwrap().len(), 1);
    assert_eq!(statement["subject"][0]["name"], "model");
    assert_eq!(
        statement["predicate"]["serialization"],
        serde_json::json!({
            "method": "files",
            "hash_type": "sha256",
            "allow_symlinks": false,
            "ignore_paths": ["model.sig", ".git", ".gitattributes", ".github", ".gitignore"],
        })
    );
    let resources = statement["predicate"]["resources"].as_array().unwrap();
    assert_eq!(resources.len(), MODEL_FILES.len());
    assert_eq!(resources[0]["name"], "dataset/manifest.json");
    assert_eq!(resources[0]["algorithm"], "sha256");
}

#[test]
fn signature_skips_git_files_and_itself() {
    let (model, key) = Model::signed();
    write(&model.dir.join(".git/HEAD"), b"ref: refs/heads/main\n");
    write(&model.dir.join(".gitignore"), b"*.tmp\n");
    write(&model.dir.join(".gitattributes"), b"*.bin binary\n");
    write(&model.dir.join(".github/workflows/ci.yml"), b"on: push\n");
    verify_model(&model.dir, &[key.public_key()]).unwrap();
    let manifest = Manifest::of_dir(&model.dir).unwrap();
    assert_eq!(manifest.files.len(), MODEL_FILES.len());
}

#[test]
fn resigning_replaces_the_signature() {
    let (model, old) = Model::signed();
    write(&model.dir.join("model.bin"), b"retrained");
    let new = SigningKey::generate();
    sign_model(&model.dir, &new).unwrap();
    verify_model(&model.dir, &[new.public_key()]).unwrap();
    assert!(matches!(
        verify_model(&model.dir, &[old.public_key()]),
        Err(TrustError::UntrustedSigner { .. })
    ));
    let leftovers: Vec<_> = std::fs::read_dir(&model.dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n.to_string_lossy().contains(".tmp-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn sorts_files_component_by_component() {
    let model = Model::new();
    write(&model.dir.join("a-b/c"), b"1");
    write(&model.dir.join("a/b"), b"2");
    let manifest = Manifest::of_dir(&model.dir).unwrap();
    let names: Vec<&str> = manifest.files.iter().map(|f| f.path.as_str()).collect();
    let a = names.iter().position(|n| *n == "a/b").unwrap();
    let ab = names.iter().position(|n| *n == "a-b/c").unwrap();
    assert!(a < ab, "{names:?}");
}

#[test]
fn read_file_refuses_a_file_changed_after_verification() {
    let (model, key) = Model::signed();
    let verified = verify_model(&model.dir, &[key.public_key()]).unwrap();
    write(&model.dir.join("model.bin"), b"swapped");
    let err = verified.read_file("model.bin").unwrap_err();
    let TrustError::ModelChanged { changes, .. } = &err else {
        panic!("{err}")
    };
    assert!(matches!(&changes[..], [FileChange::Modified { path, .. }] if path == "model.bin"));
    let err = verified.read_file("../outside").unwrap_err();
    assert!(
        err.to_string().contains("../outside added (not signed)"),
        "{err}"
    );
}

#[test]
fn refuses_to_sign_an_empty_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let err = sign_model(tmp.path(), &SigningKey::generate()).unwrap_err();
    assert!(matches!(err, TrustError::EmptyModel { .. }), "{err}");
}

#[test]
fn refuses_a_model_path_that_is_a_file() {
    let model = Model::new();
    let file = model.dir.join("model.bin");
    let err = sign_model(&file, &SigningKey::generate()).unwrap_err();
    assert!(
        matches!(&err, TrustError::NotADirectory { path } if *path == file),
        "{err}"
    );
    let err = verify_model(&file, &[]).unwrap_err();
    assert!(
        matches!(&err, TrustError::NotADirectory { path } if *path == file),
        "{err}"
    );
}

#[test]
fn refuses_a_symlink_pointing_outside() {
    let model = Model::new();
    let link = model.dir.join("weights.bin");
    std::os::unix::fs::symlink("/etc/passwd", &link).unwrap();
    let err = sign_model(&model.dir, &SigningKey::generate()).unwrap_err();
    assert!(
        matches!(&err, TrustError::Symlink { path } if *path == link),
        "{err}"
    );
    assert!(err
        .to_string()
        .contains("weights.bin: symbolic links are not allowed"));
}

#[test]
fn refuses_a_symlink_added_to_a_signed_model() {
    let (model, key) = Model::signed();
    let link = model.dir.join("dataset/extra");
    std::os::unix::fs::symlink("../model.bin", &link).unwrap();
    let err = verify_model(&model.dir, &[key.public_key()]).unwrap_err();
    assert!(
        matches!(&err, TrustError::Symlink { path } if *path == link),
        "{err}"
    );
}

#[test]
fn refuses_a_socket_in_the_model_directory() {
    let model = Model::new();
    let socket = model.dir.join("control.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let err = sign_model(&model.dir, &SigningKey::generate()).unwrap_err();
    assert!(
        matches!(&err, TrustError::NotRegular { path } if *path == socket),
        "{err}"
    );
}
