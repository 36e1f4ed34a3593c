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
    // Checked from before the fix: copying an archived checkpoint over the current one gave
    // "all checks hold".
    match verify_log_consistent(&d.0, &v, &new_cp) {
        Err(VerifyError::Rollback {
            trusted_size: 900,
            size: 300,
        }) => {}
        other => panic!("want Rollback, got {other:?}"),
    }
    // The log's own archive holds the newer checkpoint: a rollback.
    match verify_log(&d.0, &v) {
        Err(VerifyError::ArchiveNewer {
            archived: 900,
            current: 300,
            ..
        }) => {}
        other => panic!("want ArchiveNewer, got {other:?}"),
    }
    // Without its archive only a checkpoint kept elsewhere (witness, case bundle) can tell;
    // alone, the old one verifies, but the report lists the tiles it does not cover.
    std::fs::remove_dir_all(d.0.join("custos")).unwrap();
    let with_witness = custos_evidence::VerifyOptions {
        trusted: vec![new_cp.clone()],
        ..Default::default()
    };
    assert!(matches!(
        custos_evidence::verify_log_with(&d.0, &v, &with_witness),
        Err(VerifyError::Rollback {
            trusted_size: 900,
            size: 300
        })
    ));
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

/// Someone who can write to LOGDIR but has no key plants a leaf beyond the checkpoint and
/// updates `.state/tree`: the sensor's next run must not sign it.
#[test]
fn planted_leaf_beyond_the_checkpoint_is_never_signed() {
    let s = signer();
    for how in ["keyless library", "forged mac", "old state format"] {
        let d = TempDir::new("plant");
        {
            let mut log = Log::open_or_create(&d.0, &s).unwrap();
            log.append_batch(&(0..300).map(record).collect::<Vec<_>>())
                .unwrap();
            log.publish_checkpoint(&s).unwrap();
        }
        {
            // The attacker integrates a forged leaf with the library (no key).
            let mut log = Log::open(&d.0).unwrap();
            log.append(b"{\"type\":\"custos.alert/1\",\"forged\":true}")
                .unwrap();
            log.integrate().unwrap();
        }
        let tree = d.0.join(".state/tree");
        let text = std::fs::read_to_string(&tree).unwrap();
        let mut lines: Vec<&str> = text.lines().take(2).collect();
        let fake = format!("mac {}", "ab".repeat(32));
        match how {
            "forged mac" => lines.push(&fake),
            "old state format" => {}
            _ => lines = text.lines().collect(),
        }
        std::fs::write(&tree, lines.join("\n") + "\n").unwrap();
        assert!(text.starts_with("301\n"), "{how}: {text}");
        // The sensor's next run (signed, and the CLI's keyless open) discards it.
        let mut log = Log::open_or_create(&d.0, &s).unwrap();
        assert_eq!(log.integrated_size(), 300, "{how}");
        assert_eq!(log.opened().discarded, 1, "{how}");
        log.append(&record(300)).unwrap();
        log.publish_checkpoint(&s).unwrap();
        assert_eq!(log.read_entry(300).unwrap(), record(300), "{how}");
        drop(log);
        let r = verify_log(&d.0, &s.verifier()).unwrap();
        assert_eq!(r.leaves, 301);
        assert!(r.unchecked.is_empty(), "{how}: {:?}", r.unchecked);
    }
}

/// `keygen --name <the log's name>` gives an impostor key: it must be refused everywhere.
#[test]
fn same_name_impostor_key_is_refused() {
    let d = TempDir::new("impostor");
    let s = signer();
    build(&d.0, &[300]);
    let impostor = Signer::from_seed("custos.example/log", &[66; 32]).unwrap();
    assert_eq!(impostor.name(), s.name());
    let wrong = |e: custos_evidence::LogError| {
        assert!(
            matches!(e, custos_evidence::LogError::WrongKey { .. }),
            "want WrongKey, got {e:?}"
        );
        assert!(e.to_string().contains("refusing key"), "{e}");
    };
    wrong(Log::open_signed(&d.0, &impostor).unwrap_err());
    wrong(Log::open_or_create(&d.0, &impostor).unwrap_err());
    // The CLI's path: a keyless open, then publish with the key.
    let mut log = Log::open(&d.0).unwrap();
    log.append(b"impostor leaf").unwrap();
    wrong(log.publish_checkpoint(&impostor).unwrap_err());
    drop(log);
    // Also when the binding file is gone: the checkpoint's signature decides.
    std::fs::remove_file(d.0.join(".state/key")).unwrap();
    wrong(Log::open_signed(&d.0, &impostor).unwrap_err());
    // Nothing was signed by the impostor; the real key still verifies and writes its log.
    assert_eq!(verify_log(&d.0, &s.verifier()).unwrap().leaves, 300);
    let mut log = Log::open_signed(&d.0, &s).unwrap();
    log.append(&record(300)).unwrap();
    log.publish_checkpoint(&s).unwrap();
    drop(log);
    assert_eq!(verify_log(&d.0, &s.verifier()).unwrap().leaves, 301);
    assert!(verify_log(&d.0, &impostor.verifier()).is_err());
}

#[test]
fn archive_names_must_match_sizes_and_roots() {
    let d = TempDir::new("archive");
    let s = signer();
    build(&d.0, &[300, 600, 900]);
    let v = s.verifier();
    let r = verify_log(&d.0, &v).unwrap();
    assert_eq!(r.archived_checked, 3);
    let arch = d.0.join("custos/checkpoints");
    // A checkpoint filed under another size.
    std::fs::rename(
        arch.join(format!("{:020}", 600)),
        arch.join(format!("{:020}", 601)),
    )
    .unwrap();
    assert!(matches!(
        verify_log(&d.0, &v),
        Err(VerifyError::Archive { path, .. }) if path.ends_with("601")
    ));
    std::fs::remove_file(arch.join(format!("{:020}", 601))).unwrap();
    // A signed checkpoint of another history at size 600.
    let other = TempDir::new("archive-other");
    let mut log = Log::create(&other.0, "custos.example/log").unwrap();
    log.append_batch(&(0..600).map(|i| record(i + 1)).collect::<Vec<_>>())
        .unwrap();
    log.publish_checkpoint(&s).unwrap();
    drop(log);
    std::fs::copy(
        other.0.join("checkpoint"),
        arch.join(format!("{:020}", 600)),
    )
    .unwrap();
    assert!(matches!(
        verify_log(&d.0, &v),
        Err(VerifyError::Inconsistent { size: 600, .. })
    ));
}

/// Builds a log whose leaves name excerpt files, as custos writes them.
fn excerpt_log(dir: &Path, n: u64) -> Vec<std::path::PathBuf> {
    let s = signer();
    let mut log = Log::open_or_create(dir, &s).unwrap();
    let mut paths = Vec::new();
    for i in 0..n {
        let pcap = format!("pcap bytes of excerpt {}", i % (n / 2).max(1)).into_bytes();
        let (sha, p) = custos_evidence::write_excerpt(dir, &pcap).unwrap();
        let leaf = format!(r#"{{"excerpt_sha256":"{sha}","type":"custos.alert/1","i":{i}}}"#);
        log.append(leaf.as_bytes()).unwrap();
        if !paths.contains(&p) {
            paths.push(p);
        }
    }
    log.publish_checkpoint(&s).unwrap();
    paths
}

#[test]
fn excerpt_flips_and_deletions_fail_verification() {
    let d = TempDir::new("excerpts");
    let paths = excerpt_log(&d.0, 40);
    let v = signer().verifier();
    let r = verify_log(&d.0, &v).unwrap();
    assert_eq!((r.excerpt_leaves, r.excerpt_files), (40, 20));
    assert!(r.summary().iter().any(|l| l.contains("20 excerpt files")));
    let mut rng = Rng(9);
    let mut detected = 0;
    for (k, p) in paths.iter().enumerate() {
        let orig = std::fs::read(p).unwrap();
        let mut b = orig.clone();
        let pos = rng.below(b.len() as u64) as usize;
        b[pos] ^= 1 + rng.below(255) as u8;
        std::fs::write(p, &b).unwrap();
        assert!(
            matches!(verify_log(&d.0, &v), Err(VerifyError::Excerpt { .. })),
            "flip {k}"
        );
        std::fs::remove_file(p).unwrap();
        match verify_log(&d.0, &v) {
            Err(VerifyError::Excerpt { reason, .. }) => assert_eq!(reason, "missing"),
            other => panic!("deletion {k}: {other:?}"),
        }
        detected += 2;
        std::fs::write(p, &orig).unwrap();
    }
    assert!(verify_log(&d.0, &v).is_ok());
    println!(
        "excerpt tamper: {detected} of {} flips and deletions detected",
        2 * paths.len()
    );
}
