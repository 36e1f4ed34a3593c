//! Known-answer vectors from `shared/vectors`: RFC 9162 proofs (transparency-dev/merkle
//! testdata), the 8-leaf root, and C2SP signed notes.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use custos_evidence::merkle::{hex, MemoryTree};
use custos_evidence::note::parse_note;
use custos_evidence::{
    leaf_hash, open_note, root_from_leaf_hashes, sign_note, verify_consistency, verify_inclusion,
    NoteError, ProofError, Signer, Verifier,
};
use serde_json::Value;

use crate::util::shared;

fn b64(v: &Value) -> Vec<u8> {
    B64.decode(v.as_str().unwrap_or_default())
        .expect("base64 in vector")
}

fn proof(v: &Value) -> Vec<Vec<u8>> {
    v.as_array()
        .map(|a| a.iter().map(b64).collect())
        .unwrap_or_default()
}

fn collect(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<(String, Value)>) {
    for f in std::fs::read_dir(dir).unwrap() {
        let f = f.unwrap().path();
        if f.is_dir() {
            collect(root, &f, out);
        } else if f.extension().is_some_and(|e| e == "json") {
            let v: Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
            out.push((f.strip_prefix(root).unwrap().display().to_string(), v));
        }
    }
}

fn cases(kind: &str) -> Option<Vec<(String, Value)>> {
    let root = shared()?.join("vectors/merkle").join(kind);
    let mut out = Vec::new();
    collect(&root, &root, &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Some(out)
}

#[test]
fn every_inclusion_vector_gives_its_expected_result() {
    let Some(cases) = cases("inclusion") else {
        return;
    };
    for (name, v) in &cases {
        let got = verify_inclusion(
            v["leafIdx"].as_u64().unwrap(),
            v["treeSize"].as_u64().unwrap(),
            &b64(&v["leafHash"]),
            &proof(&v["proof"]),
            &b64(&v["root"]),
        );
        let want_err = v["wantErr"].as_bool().unwrap();
        assert_eq!(got.is_err(), want_err, "{name}: {got:?}");
    }
    let n_cons = self::cases("consistency").map_or(0, |c| c.len());
    assert_eq!(cases.len() + n_cons, 196, "vector count");
}

#[test]
fn every_consistency_vector_gives_its_expected_result() {
    let Some(cases) = cases("consistency") else {
        return;
    };
    for (name, v) in &cases {
        let got = verify_consistency(
            v["size1"].as_u64().unwrap(),
            v["size2"].as_u64().unwrap(),
            &proof(&v["proof"]),
            &b64(&v["root1"]),
            &b64(&v["root2"]),
        );
        let want_err = v["wantErr"].as_bool().unwrap();
        assert_eq!(got.is_err(), want_err, "{name}: {got:?}");
    }
}

#[test]
fn happy_path_vectors_match_generated_proofs() {
    // Build the tree the vectors use (leaves as in transparency-dev/merkle testonly:
    // the README's 8 leaves) and check our generated proofs are the vectors' proofs.
    let Some(cases) = cases("inclusion") else {
        return;
    };
    let leaves = known_leaves();
    let mut t = MemoryTree::new();
    for l in &leaves {
        t.append(l);
    }
    let mut compared = 0;
    for (name, v) in &cases {
        if v["wantErr"].as_bool().unwrap() {
            continue;
        }
        let (i, n) = (
            v["leafIdx"].as_u64().unwrap(),
            v["treeSize"].as_u64().unwrap(),
        );
        if n > 8 || b64(&v["leafHash"]) != leaf_hash(&leaves[i as usize]) {
            continue;
        }
        assert_eq!(t.root(n).unwrap().to_vec(), b64(&v["root"]), "{name}");
        let p: Vec<Vec<u8>> = t
            .inclusion_proof(i, n)
            .unwrap()
            .iter()
            .map(|h| h.to_vec())
            .collect();
        assert_eq!(p, proof(&v["proof"]), "{name}");
        compared += 1;
    }
    assert!(compared > 0, "no happy-path vector over the 8 known leaves");
}

fn known_leaves() -> Vec<Vec<u8>> {
    [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
    .iter()
    .map(|h| {
        (0..h.len() / 2)
            .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).unwrap())
            .collect()
    })
    .collect()
}

#[test]
fn known_answer_root_of_eight_leaves() {
    let hashes: Vec<_> = known_leaves().iter().map(|l| leaf_hash(l)).collect();
    assert_eq!(
        hex(&root_from_leaf_hashes(&hashes)),
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    );
    assert_eq!(
        hex(&root_from_leaf_hashes(&[])),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
}

#[test]
fn rejects_consistency_from_size_zero_and_unequal_roots_at_equal_sizes() {
    let r = leaf_hash(b"x");
    let e: [&[u8]; 0] = [];
    assert_eq!(
        verify_consistency(0, 3, &e, &r, &r),
        Err(ProofError::BadSizes { old: 0, new: 3 })
    );
    assert_eq!(
        verify_consistency(3, 3, &[r], &r, &r),
        Err(ProofError::NonEmptyProof(1))
    );
    assert!(matches!(
        verify_consistency(3, 3, &e, &r, &leaf_hash(b"y")),
        Err(ProofError::RootMismatch { .. })
    ));
    assert_eq!(verify_consistency(3, 3, &e, &r, &r), Ok(()));
    assert!(matches!(
        verify_inclusion(0, 2, &r, &[&r[..31]], &r),
        Err(ProofError::BadHashLength { len: 31, .. })
    ));
}

fn read(name: &str) -> Option<String> {
    Some(std::fs::read_to_string(shared()?.join("vectors/signed-note").join(name)).unwrap())
}

#[test]
fn both_vector_notes_verify_with_their_keys() {
    for (note, vkey, text) in [
        ("example-com-foo.note", "example-com-foo.vkey", "This is an example message.\n"),
        (
            "peterneumann.note",
            "peterneumann.vkey",
            "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n",
        ),
    ] {
        let (Some(n), Some(k)) = (read(note), read(vkey)) else { return };
        let v = Verifier::from_vkey(&k).unwrap();
        assert_eq!(v.to_vkey(), k.trim_end());
        let opened = open_note(n.as_bytes(), &[&v]).unwrap();
        assert_eq!(opened.text, text);
        assert_eq!(opened.verified.len(), 1);
    }
}

#[test]
fn signing_peterneumann_text_reproduces_the_note_byte_for_byte() {
    let (Some(skey), Some(note), Some(vkey)) = (
        read("peterneumann.skey"),
        read("peterneumann.note"),
        read("peterneumann.vkey"),
    ) else {
        return;
    };
    let s = Signer::from_skey(&skey).unwrap();
    assert_eq!(s.to_skey(), skey.trim_end());
    assert_eq!(s.verifier().to_vkey(), vkey.trim_end());
    let (text, _) = parse_note(note.as_bytes()).unwrap();
    assert_eq!(sign_note(&text, &[&s]).unwrap(), note);
}

#[test]
fn ignores_unknown_signatures_and_accepts_many() {
    let a = Signer::from_seed("a.example/log", &[1; 32]).unwrap();
    let b = Signer::from_seed("b.example/witness", &[2; 32]).unwrap();
    let c = Signer::from_seed("a.example/log", &[3; 32]).unwrap(); // same name, other key
    let note = sign_note("hello\n", &[&a, &b, &c]).unwrap();
    let n = open_note(note.as_bytes(), &[&a.verifier()]).unwrap();
    assert_eq!(n.verified.len(), 1);
    assert_eq!(n.unverified.len(), 2);
    let n = open_note(
        note.as_bytes(),
        &[&a.verifier(), &b.verifier(), &c.verifier()],
    )
    .unwrap();
    assert_eq!(n.verified.len(), 3);
    let other = Signer::from_seed("z.example", &[9; 32]).unwrap();
    assert_eq!(
        open_note(note.as_bytes(), &[&other.verifier()]),
        Err(NoteError::UnverifiedNote)
    );
}

#[test]
fn rejects_malformed_notes_with_typed_errors() {
    let s = Signer::from_seed("a.example/log", &[1; 32]).unwrap();
    let v = s.verifier();
    let good = sign_note("line one\n\nline three\n", &[&s]).unwrap();
    assert_eq!(
        open_note(good.as_bytes(), &[&v]).unwrap().text,
        "line one\n\nline three\n"
    );
    // No blank line before signatures.
    assert_eq!(
        open_note(b"text\n\xe2\x80\x94 a sig\n", &[&v]),
        Err(NoteError::MissingSignatures)
    );
    // Not ending in newline.
    let trunc = good.trim_end_matches('\n');
    assert!(matches!(
        open_note(trunc.as_bytes(), &[&v]),
        Err(NoteError::MalformedSignature { line: 1, .. })
    ));
    // Bad base64.
    let bad = good.replace("— a.example/log ", "— a.example/log !!");
    assert_eq!(
        open_note(bad.as_bytes(), &[&v]),
        Err(NoteError::MalformedSignature {
            line: 1,
            reason: "bad base64"
        })
    );
    // Wrong dash.
    let bad = good.replace('—', "-");
    assert!(matches!(
        open_note(bad.as_bytes(), &[&v]),
        Err(NoteError::MalformedSignature { line: 1, .. })
    ));
    // Control character.
    let bad = good.replace("line one", "line\tone");
    assert_eq!(open_note(bad.as_bytes(), &[&v]), Err(NoteError::NotText));
    // Tampered text: known key, bad signature.
    let bad = good.replace("line one", "line 0ne");
    assert_eq!(
        open_note(bad.as_bytes(), &[&v]),
        Err(NoteError::InvalidSignature {
            name: "a.example/log".into(),
            key_id: v.key_id()
        })
    );
    // Key text errors.
    assert!(matches!(
        Verifier::from_vkey("name+00000000+AQ=="),
        Err(NoteError::MalformedKey(_))
    ));
    let vk = v.to_vkey();
    let wrong_id = format!("a.example/log+00000000+{}", vk.rsplit('+').next().unwrap());
    assert!(matches!(
        Verifier::from_vkey(&wrong_id),
        Err(NoteError::KeyIdMismatch { .. })
    ));
}

#[test]
fn generated_keys_round_trip_and_sign() {
    let (skey, vkey) = custos_evidence::generate_key("custos.example/evidence").unwrap();
    assert!(skey.starts_with("PRIVATE+KEY+custos.example/evidence+"));
    let s = Signer::from_skey(&skey).unwrap();
    let v = Verifier::from_vkey(&vkey).unwrap();
    assert_eq!(s.verifier(), v);
    let note = sign_note("x\n", &[&s]).unwrap();
    assert!(open_note(note.as_bytes(), &[&v]).is_ok());
    assert_eq!(
        custos_evidence::generate_key("bad name"),
        Err(NoteError::BadKeyName("bad name".into()))
    );
}
