//! Every change to a signed model is refused, with the file and the reason.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use custos_trust::{
    sign_manifest, verify_model, FileChange, Manifest, PublicKey, SigningKey, TrustError,
};

use crate::util::{payload_of, read_bundle, write, Model, MODEL_FILES};

/// The changes of a [`TrustError::ModelChanged`], or a panic naming the error.
fn changes(err: TrustError) -> Vec<FileChange> {
    match err {
        TrustError::ModelChanged { changes, .. } => changes,
        other => panic!("expected ModelChanged, got {other}"),
    }
}

#[test]
fn refuses_every_single_byte_change_to_every_model_file() {
    let (model, key) = Model::signed();
    let trusted = [key.public_key()];
    for (name, original) in MODEL_FILES {
        let path = model.dir.join(name);
        let signed: [u8; 32] = Sha256::digest(original).into();
        for i in 0..original.len() {
            for value in 0..=u8::MAX {
                if value == original[i] {
                    continue;
                }
                let mut bytes = original.to_vec();
                bytes[i] = value;
                std::fs::write(&path, &bytes).unwrap();
                let err = verify_model(&model.dir, &trusted).unwrap_err();
                let found: [u8; 32] = Sha256::digest(&bytes).into();
                assert_eq!(
                    changes(err),
                    [FileChange::Modified {
                        path: name.to_string(),
                        signed,
                        found
                    }],
                    "{name} byte {i} = {value:#04x}"
                );
            }
        }
        std::fs::write(&path, original).unwrap();
    }
    verify_model(&model.dir, &trusted).unwrap();
}

/// The byte ranges of the two base64 strings of a bundle (DSSE payload and signature).
fn base64_ranges(bundle: &[u8]) -> Vec<std::ops::Range<usize>> {
    let text = std::str::from_utf8(bundle).unwrap();
    ["\"payload\":\"", "\"sig\":\""]
        .iter()
        .map(|key| {
            let start = text.find(key).unwrap() + key.len();
            start..start + text[start..].find('"').unwrap()
        })
        .collect()
}

/// Every byte of the signature file outside its base64 strings (the JSON structure, media
/// and payload types, key hint) takes every other value; every byte of the base64 strings
/// (which decode to the signed payload and the signature) has each of its 8 bits flipped.
/// Each change is refused with the signature file named.
#[test]
fn refuses_every_single_byte_change_to_the_signature_file() {
    let (model, key) = Model::signed();
    let trusted = [key.public_key()];
    let path = model.signature();
    let original = std::fs::read(&path).unwrap();
    let encoded = base64_ranges(&original);
    for i in 0..original.len() {
        let values: Vec<u8> = if encoded.iter().any(|r| r.contains(&i)) {
            (0..8).map(|bit| original[i] ^ (1 << bit)).collect()
        } else {
            (0..=u8::MAX).filter(|v| *v != original[i]).collect()
        };
        for value in values {
            let mut bytes = original.clone();
            bytes[i] = value;
            std::fs::write(&path, &bytes).unwrap();
            match verify_model(&model.dir, &trusted) {
                Err(
                    TrustError::Malformed { path: p, .. }
                    | TrustError::Unsupported { path: p, .. }
                    | TrustError::UntrustedSigner { path: p, .. }
                    | TrustError::BadSignature { path: p, .. },
                ) => assert_eq!(p, path),
                other => panic!("model.sig byte {i} = {value:#04x}: {other:?}"),
            }
        }
    }
    std::fs::write(&path, &original).unwrap();
    verify_model(&model.dir, &trusted).unwrap();
}

#[test]
fn refuses_a_truncated_or_extended_file() {
    let (model, key) = Model::signed();
    let path = model.dir.join("model.bin");
    let original = std::fs::read(&path).unwrap();
    std::fs::write(&path, &original[..original.len() - 1]).unwrap();
    let err = verify_model(&model.dir, &[key.public_key()]).unwrap_err();
    assert!(
        matches!(&changes(err)[..], [FileChange::Modified { path, .. }] if path == "model.bin")
    );
    let mut longer = original.clone();
    longer.push(0);
    std::fs::write(&path, &longer).unwrap();
    let err = verify_model(&model.dir, &[key.public_key()]).unwrap_err();
    assert!(
        err.to_string()
            .contains("model.bin modified (signed sha256 "),
        "{err}"
    );
}

#[test]
fn refuses_an_added_file() {
    for added in [
        "notes.txt",
        ".hidden",
        "dataset/extra.pcap",
        "dataset/model.sig",
    ] {
        let (model, key) = Model::signed();
        write(&model.dir.join(added), b"x");
        let err = verify_model(&model.dir, &[key.public_key()]).unwrap_err();
        let message = err.to_string();
        assert_eq!(
            changes(err),
            [FileChange::Added {
                path: added.to_string()
            }]
        );
        assert!(
            message.contains(&format!("{added} added (not signed)")),
            "{message}"
        );
        assert!(
            message.contains("model does not match its signature"),
            "{message}"
        );
    }
}

#[test]
fn refuses_a_removed_file() {
    for (removed, _) in MODEL_FILES {
        let (model, key) = Model::signed();
        std::fs::remove_file(model.dir.join(removed)).unwrap();
        let err = verify_model(&model.dir, &[key.public_key()]).unwrap_err();
        assert!(
            err.to_string().contains(&format!("{removed} removed")),
            "{err}"
        );
        assert_eq!(
            changes(err),
            [FileChange::Removed {
                path: removed.to_string()
            }]
        );
    }
}

#[test]
fn refuses_a_renamed_file_naming_both_paths() {
    let (model, key) = Model::signed();
    std::fs::rename(model.dir.join("model.bin"), model.dir.join("model2.bin")).unwrap();
    let err = verify_model(&model.dir, &[key.public_key()]).unwrap_err();
    assert_eq!(
        changes(err),
        [
            FileChange::Removed {
                path: "model.bin".into()
            },
            FileChange::Added {
                path: "model2.bin".into()
            },
        ]
    );
}

#[test]
fn refuses_an_unsigned_model() {
    let model = Model::new();
    let err = verify_model(&model.dir, &[SigningKey::generate().public_key()]).unwrap_err();
    assert!(matches!(&err, TrustError::Unsigned { path } if *path == model.signature()));
    assert!(err
        .to_string()
        .ends_with("model.sig: model is unsigned (no signature file)"));
}

#[test]
fn refuses_an_untrusted_signer() {
    let (model, key) = Model::signed();
    let other = SigningKey::generate().public_key();
    let err = verify_model(&model.dir, &[other]).unwrap_err();
    let hint = key.public_key().key_hint();
    assert!(
        matches!(&err, TrustError::UntrustedSigner { path, hint: Some(h), trusted: 1 }
            if *path == model.signature() && *h == hint),
        "{err}"
    );
    assert!(err.to_string().contains(&format!(
        "signed by an untrusted key (key hint {hint}; 1 trusted key(s))"
    )));
    let err = verify_model(&model.dir, &[]).unwrap_err();
    assert!(
        matches!(err, TrustError::UntrustedSigner { trusted: 0, .. }),
        "{err}"
    );
}

#[test]
fn accepts_any_of_several_trusted_keys() {
    let (model, key) = Model::signed();
    let trusted = [
        SigningKey::generate().public_key(),
        key.public_key(),
        SigningKey::generate().public_key(),
    ];
    let verified = verify_model(&model.dir, &trusted).unwrap();
    assert_eq!(verified.key_hint, key.public_key().key_hint());
}

/// Re-makes the model's statement over the files as they are now, with recomputed digests.
fn rehashed_payload(model: &Model) -> Vec<u8> {
    let manifest = Manifest::of_dir(&model.dir).unwrap();
    let bundle = sign_manifest(&manifest, &SigningKey::generate());
    let bundle: serde_json::Value = serde_json::from_slice(&bundle).unwrap();
    payload_of(&bundle)
}

#[test]
fn refuses_a_rehashed_statement_under_the_old_signature() {
    let (model, key) = Model::signed();
    write(&model.dir.join("model.bin"), b"backdoored weights");
    let mut bundle = read_bundle(&model);
    bundle["dsseEnvelope"]["payload"] = STANDARD.encode(rehashed_payload(&model)).into();
    std::fs::write(model.signature(), serde_json::to_vec(&bundle).unwrap()).unwrap();
    let err = verify_model(&model.dir, &[key.public_key()]).unwrap_err();
    assert!(
        matches!(&err, TrustError::BadSignature { path, key_hint }
            if *path == model.signature() && *key_hint == key.public_key().key_hint()),
        "{err}"
    );
}

#[test]
fn refuses_a_rehashed_statement_signed_by_another_key_claiming_the_trusted_hint() {
    let (model, key) = Model::signed();
    write(&model.dir.join("model.bin"), b"backdoored weights");
    let forged = sign_manifest(
        &Manifest::of_dir(&model.dir).unwrap(),
        &SigningKey::generate(),
    );
    let mut forged: serde_json::Value = serde_json::from_slice(&forged).unwrap();
    forged["verificationMaterial"]["publicKey"]["hint"] = key.public_key().key_hint().into();
    std::fs::write(model.signature(), serde_json::to_vec(&forged).unwrap()).unwrap();
    let err = verify_model(&model.dir, &[key.public_key()]).unwrap_err();
    assert!(matches!(err, TrustError::BadSignature { .. }), "{err}");
}

#[test]
fn refuses_a_rehashed_statement_signed_by_another_key() {
    let (model, key) = Model::signed();
    write(&model.dir.join("model.bin"), b"backdoored weights");
    let forger = SigningKey::generate();
    let forged = sign_manifest(&Manifest::of_dir(&model.dir).unwrap(), &forger);
    std::fs::write(model.signature(), forged).unwrap();
    let err = verify_model(&model.dir, &[key.public_key()]).unwrap_err();
    assert!(matches!(err, TrustError::UntrustedSigner { .. }), "{err}");
}

#[test]
fn refuses_a_hintless_bundle_from_an_untrusted_key_and_accepts_a_trusted_one() {
    let (model, key) = Model::signed();
    let mut bundle = read_bundle(&model);
    bundle["verificationMaterial"]["publicKey"] = serde_json::json!({});
    std::fs::write(model.signature(), serde_json::to_vec(&bundle).unwrap()).unwrap();
    let verified = verify_model(&model.dir, &[key.public_key()]).unwrap();
    assert_eq!(verified.key_hint, key.public_key().key_hint());
    let err = verify_model(&model.dir, &[SigningKey::generate().public_key()]).unwrap_err();
    assert!(
        matches!(err, TrustError::UntrustedSigner { hint: None, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("no key hint"));
}

/// Signs `statement` (edited JSON) with `key` into the model's signature file.
fn sign_edited(model: &Model, key: &SigningKey, statement: &serde_json::Value) {
    let payload = serde_json::to_vec_pretty(statement).unwrap();
    std::fs::write(
        model.signature(),
        custos_trust::sign::sign_payload(&payload, key),
    )
    .unwrap();
}

/// The model's statement as JSON.
fn statement_of(model: &Model) -> serde_json::Value {
    serde_json::from_slice(&payload_of(&read_bundle(model))).unwrap()
}

#[test]
fn refuses_a_subject_digest_that_does_not_cover_the_resources() {
    let (model, key) = Model::signed();
    let mut statement = statement_of(&model);
    statement["subject"][0]["digest"]["sha256"] = "00".repeat(32).into();
    sign_edited(&model, &key, &statement);
    let err = verify_model(&model.dir, &[key.public_key()]).unwrap_err();
    assert!(matches!(err, TrustError::Malformed { .. }), "{err}");
    assert!(err.to_string().contains("subject digest 0000"), "{err}");
}

#[test]
fn refuses_a_resource_listed_twice() {
    let (model, key) = Model::signed();
    let mut statement = statement_of(&model);
    let resources = statement["predicate"]["resources"].as_array_mut().unwrap();
    resources.push(resources[0].clone());
    let mut root = Sha256::new();
    for r in resources.iter() {
        root.update(hex_decode(r["digest"].as_str().unwrap()));
    }
    statement["subject"][0]["digest"]["sha256"] = hex(&root.finalize()).into();
    sign_edited(&model, &key, &statement);
    let err = verify_model(&model.dir, &[key.public_key()]).unwrap_err();
    assert!(err.to_string().contains("listed twice"), "{err}");
}

#[test]
fn refuses_unsupported_serialisations() {
    for (field, value, reason) in [
        ("method", "shards", "serialisation method \"shards\""),
        ("hash_type", "blake3", "hash type \"blake3\""),
    ] {
        let (model, key) = Model::signed();
        let mut statement = statement_of(&model);
        statement["predicate"]["serialization"][field] = value.into();
        sign_edited(&model, &key, &statement);
        let err = verify_model(&model.dir, &[key.public_key()]).unwrap_err();
        assert!(matches!(err, TrustError::Unsupported { .. }), "{err}");
        assert!(err.to_string().contains(reason), "{err}");
    }
}

#[test]
fn refuses_other_statement_and_predicate_types() {
    for (field, value) in [
        ("_type", "https://in-toto.io/Statement/v0.1"),
        ("predicateType", "https://slsa.dev/provenance/v1"),
    ] {
        let (model, key) = Model::signed();
        let mut statement = statement_of(&model);
        statement[field] = value.into();
        sign_edited(&model, &key, &statement);
        let err = verify_model(&model.dir, &[key.public_key()]).unwrap_err();
        assert!(matches!(err, TrustError::Malformed { .. }), "{err}");
        assert!(err.to_string().contains(value), "{err}");
    }
}

/// An edit of a bundle's JSON.
type Edit = fn(&mut serde_json::Value);

#[test]
fn refuses_bundle_shape_errors() {
    let cases: [(&str, Edit); 4] = [
        ("media type", |b| b["mediaType"] = "application/json".into()),
        ("exactly one", |b| {
            let sig = b["dsseEnvelope"]["signatures"][0].clone();
            b["dsseEnvelope"]["signatures"]
                .as_array_mut()
                .unwrap()
                .push(sig);
        }),
        ("payload type", |b| {
            b["dsseEnvelope"]["payloadType"] = "text/plain".into()
        }),
        ("unknown field", |b| b["extra"] = true.into()),
    ];
    for (reason, edit) in cases {
        let (model, key) = Model::signed();
        let mut bundle = read_bundle(&model);
        edit(&mut bundle);
        std::fs::write(model.signature(), serde_json::to_vec(&bundle).unwrap()).unwrap();
        let err = verify_model(&model.dir, &[key.public_key()]).unwrap_err();
        assert!(
            matches!(err, TrustError::Malformed { .. }),
            "{reason}: {err}"
        );
        assert!(err.to_string().contains(reason), "{err}");
    }
}

#[test]
fn refuses_certificate_bundles() {
    let (model, key) = Model::signed();
    let mut bundle = read_bundle(&model);
    bundle["verificationMaterial"]["certificate"] = serde_json::json!({"rawBytes": "AA=="});
    std::fs::write(model.signature(), serde_json::to_vec(&bundle).unwrap()).unwrap();
    let err = verify_model(&model.dir, &[key.public_key()]).unwrap_err();
    assert!(matches!(err, TrustError::Unsupported { .. }), "{err}");
}

#[test]
fn trusted_keys_compare_by_key_not_by_file() {
    let (model, key) = Model::signed();
    let dir = tempfile::tempdir().unwrap();
    let public = dir.path().join("k.pub");
    std::fs::write(&public, key.public_key().to_pem()).unwrap();
    let trusted = PublicKey::read_all(&[&public]).unwrap();
    assert_eq!(trusted, [key.public_key()]);
    verify_model(&model.dir, &trusted).unwrap();
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}
