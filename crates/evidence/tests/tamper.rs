//! Tampering with any file of a log is detected by `verify_log`.

use std::path::Path;

use custos_evidence::{
    verify_log, verify_log_consistent, CheckpointError, Log, NoteError, Signer, VerifyError,
};

use crate::util::{record, Rng, TempDir};

fn signer() -> Signer {
    Signer::from_seed("custos.example/log", &[42; 32]).unwrap()
}

/// A log published at several sizes, so that partial tiles of several widths exist.
fn build(dir: &Path, sizes: &[u64]) -> Vec<custos_evidence::Checkpoint> {
    let s = signer();
    let mut log = Log::create(dir, "custos.example/log").unwrap();
    let mut cps = Vec::new();
    for &n in sizes {
        while log.next_index() < n {
            log.append(&record(log.next_index())).unwrap();
        }
        cps.push(log.publish_checkpoint(&s).unwrap());
    }
    cps
}

fn files(dir: &Path) -> Vec<std::path::PathBuf> {
    fn walk(d: &Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut out = vec![dir.join("checkpoint")];
    walk(&dir.join("tile"), &mut out);
    out.sort();
    out
}

fn flip_everywhere(sizes: &[u64], rounds: usize, seed: u64) {
    let d = TempDir::new("flip");
    build(&d.0, sizes);
    let v = signer().verifier();
    let report = verify_log(&d.0, &v).unwrap();
    assert!(report.unchecked.is_empty(), "{:?}", report.unchecked);
    let all = files(&d.0);
    assert!(
        all.iter().any(|p| p.to_string_lossy().contains(".p/")),
        "no partial files"
    );
    let mut rng = Rng(seed);
    for round in 0..rounds {
        // Every file at least once, then random ones.
        let f = if round < all.len() {
            &all[round]
        } else {
            &all[rng.below(all.len() as u64) as usize]
        };
        let orig = std::fs::read(f).unwrap();
        let pos = rng.below(orig.len() as u64) as usize;
        let mut b = orig.clone();
        b[pos] ^= 1 + rng.below(255) as u8;
        std::fs::write(f, &b).unwrap();
        let got = verify_log(&d.0, &v);
        assert!(
            got.is_err(),
            "flip of {} byte {pos} not detected",
            f.display()
        );
        std::fs::write(f, &orig).unwrap();
    }
    assert!(verify_log(&d.0, &v).is_ok());
}

#[test]
fn any_flipped_byte_in_a_small_log_fails_verification() {
    flip_everywhere(&[1, 3, 300, 520, 600], 400, 1);
}

#[test]
fn any_flipped_byte_in_a_log_with_full_level_one_tiles_fails_verification() {
    flip_everywhere(&[65_537, 66_000], 150, 2);
}

#[test]
fn flipped_leaf_hash_names_tile_position_and_hashes() {
    let d = TempDir::new("named");
    build(&d.0, &[600]);
    let p = d.0.join("tile/0/001");
    let mut b = std::fs::read(&p).unwrap();
    b[7 * 32 + 3] ^= 0x80;
    std::fs::write(&p, &b).unwrap();
    match verify_log(&d.0, &signer().verifier()) {
        Err(VerifyError::TileHash {
            path,
            level: 0,
            position: 7,
            node: 263,
            expected,
            actual,
        }) => {
            assert_eq!(path, "tile/0/001");
            assert_eq!(expected, custos_evidence::leaf_hash(&record(263)));
            assert_ne!(expected, actual);
        }
        other => panic!("want TileHash at tile/0/001 position 7, got {other:?}"),
    }
}

fn rewrite_bundle(dir: &Path, rel: &str, f: impl FnOnce(&mut Vec<Vec<u8>>)) {
    let p = dir.join(rel);
    let b = std::fs::read(&p).unwrap();
    let mut entries: Vec<Vec<u8>> = custos_evidence::parse_entry_bundle(&b)
        .unwrap()
        .iter()
        .map(|e| e.to_vec())
        .collect();
    f(&mut entries);
    let mut out = Vec::new();
    for e in entries {
        out.extend_from_slice(&(e.len() as u16).to_be_bytes());
        out.extend_from_slice(&e);
    }
    std::fs::write(p, out).unwrap();
}

#[test]
fn reordered_leaves_fail_with_the_first_bad_leaf() {
    let d = TempDir::new("reorder");
    build(&d.0, &[600]);
    rewrite_bundle(&d.0, "tile/entries/001", |e| e.swap(10, 11));
    match verify_log(&d.0, &signer().verifier()) {
        Err(VerifyError::TileHash {
            path, node: 266, ..
        }) => assert_eq!(path, "tile/0/001"),
        other => panic!("want TileHash at leaf 266, got {other:?}"),
    }
}

#[test]
fn deleted_leaf_fails_as_a_short_bundle() {
    let d = TempDir::new("delete");
    build(&d.0, &[600]);
    rewrite_bundle(&d.0, "tile/entries/000", |e| {
        e.remove(100);
    });
    match verify_log(&d.0, &signer().verifier()) {
        Err(VerifyError::BadBundle { path, reason }) => {
            assert_eq!(path, "tile/entries/000");
            assert_eq!(reason, "255 entries, want 256");
        }
        other => panic!("want BadBundle, got {other:?}"),
    }
}

#[test]
fn history_rewritten_without_a_leaf_is_detected() {
    // The operator rebuilds the whole log without leaf 100 and re-signs with the real key.
    let honest = TempDir::new("honest");
    let cps = build(&honest.0, &[400, 600]);
    let forged = TempDir::new("forged");
    let s = signer();
    {
        let mut log = Log::create(&forged.0, "custos.example/log").unwrap();
        for i in (0..601).filter(|&i| i != 100) {
            log.append(&record(i)).unwrap();
        }
        log.publish_checkpoint(&s).unwrap();
    }
    let v = s.verifier();
    // On its own the forged log is self-consistent...
    assert_eq!(verify_log(&forged.0, &v).unwrap().leaves, 600);
    // ...but not with a checkpoint a client saw before.
    match verify_log_consistent(&forged.0, &v, &cps[0]) {
        Err(VerifyError::Inconsistent {
            size: 400,
            trusted,
            actual,
        }) => {
            assert_eq!(trusted, cps[0].root);
            assert_ne!(trusted, actual);
        }
        other => panic!("want Inconsistent at 400, got {other:?}"),
    }
    // Swapping the honest checkpoint into the forged log fails on the root.
    std::fs::copy(honest.0.join("checkpoint"), forged.0.join("checkpoint")).unwrap();
    assert!(matches!(
        verify_log(&forged.0, &v),
        Err(VerifyError::RootMismatch { size: 600, .. })
    ));
    assert_eq!(
        verify_log_consistent(&honest.0, &v, &cps[0])
            .unwrap()
            .leaves,
        600
    );
}

#[test]
fn older_checkpoint_swapped_in_is_a_rollback() {
    let d = TempDir::new("rollback");
    let s = signer();
    let mut log = Log::create(&d.0, "custos.example/log").unwrap();
    log.append_batch(&(0..300).map(record).collect::<Vec<_>>())
        .unwrap();
    log.publish_checkpoint(&s).unwrap();
    let old = log.read_checkpoint().unwrap().unwrap();
    log.append_batch(&(300..900).map(record).collect::<Vec<_>>())
        .unwrap();
    let new_cp = log.publish_checkpoint(&s).unwrap();
    drop(log);
    std::fs::write(d.0.join("checkpoint"), &old).unwrap();
    let v = s.verifier();
    match verify_log_consistent(&d.0, &v, &new_cp) {
        Err(VerifyError::Rollback {
            trusted_size: 900,
            size: 300,
        }) => {}
        other => panic!("want Rollback, got {other:?}"),
    }
    // Without a trusted checkpoint the old one verifies, but the report lists the tiles it
    // does not cover.
    let r = verify_log(&d.0, &v).unwrap();
    assert_eq!(r.leaves, 300);
    assert!(
        r.unchecked.iter().any(|f| f == "tile/0/003.p/132"),
        "{:?}",
        r.unchecked
    );
}

#[test]
fn forged_checkpoints_fail_on_the_signature() {
    let d = TempDir::new("forge");
    build(&d.0, &[300]);
    let v = signer().verifier();
    let note = String::from_utf8(std::fs::read(d.0.join("checkpoint")).unwrap()).unwrap();
    // Same body, signed by another key with the same name.
    let other = Signer::from_seed("custos.example/log", &[1; 32]).unwrap();
    let text = note.split("\n\n").next().unwrap().to_string() + "\n";
    std::fs::write(
        d.0.join("checkpoint"),
        custos_evidence::sign_note(&text, &[&other]).unwrap(),
    )
    .unwrap();
    assert!(matches!(
        verify_log(&d.0, &v),
        Err(VerifyError::Checkpoint(CheckpointError::Note(
            NoteError::UnverifiedNote
        )))
    ));
    // Real signature, edited size.
    let edited = note.replacen("\n300\n", "\n299\n", 1);
    std::fs::write(d.0.join("checkpoint"), edited).unwrap();
    assert!(matches!(
        verify_log(&d.0, &v),
        Err(VerifyError::Checkpoint(CheckpointError::Note(
            NoteError::InvalidSignature { .. }
        )))
    ));
}
