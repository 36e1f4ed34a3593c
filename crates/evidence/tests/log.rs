//! The on-disk log: proofs for every (index, size), layout, reopening and recovery.

use custos_evidence::layout::{entries_path, tile_path};
use custos_evidence::merkle::MemoryTree;
use custos_evidence::{
    leaf_hash, parse_entry_bundle, verify_consistency, verify_inclusion, verify_log, Log, LogError,
    Signer,
};

use crate::util::{record, TempDir};

fn signer() -> Signer {
    Signer::from_seed("custos.example/log", &[42; 32]).unwrap()
}

#[test]
fn inclusion_proofs_verify_for_every_index_and_size_up_to_300() {
    // Proofs come from the on-disk tiles (integrated in uneven batches, so both full and
    // partial tiles serve nodes); roots from the in-memory reference tree.
    let d = TempDir::new("incl300");
    let mut log = Log::create(&d.0, "custos.example/log").unwrap();
    let mut mem = MemoryTree::new();
    for i in 0..300u64 {
        log.append(&record(i)).unwrap();
        mem.append(&record(i));
        if i % 37 == 0 {
            log.integrate().unwrap();
        }
    }
    log.integrate().unwrap();
    for size in 1..=300u64 {
        let root = mem.root(size).unwrap();
        assert_eq!(log.root_at(size).unwrap(), root, "root at {size}");
        for idx in 0..size {
            let p = log.inclusion_proof(idx, size).unwrap();
            verify_inclusion(idx, size, &leaf_hash(&record(idx)), &p, &root)
                .unwrap_or_else(|e| panic!("index {idx} size {size}: {e}"));
            // The proof does not verify for a neighbouring leaf.
            assert!(verify_inclusion(idx, size, &leaf_hash(&record(idx + 1)), &p, &root).is_err());
        }
    }
}

#[test]
fn consistency_proofs_verify_for_all_pairs_up_to_100() {
    let mut mem = MemoryTree::new();
    for i in 0..100u64 {
        mem.append(&record(i));
    }
    for new in 1..=100u64 {
        let r2 = mem.root(new).unwrap();
        for old in 1..=new {
            let p = mem.consistency_proof(old, new).unwrap();
            verify_consistency(old, new, &p, &mem.root(old).unwrap(), &r2)
                .unwrap_or_else(|e| panic!("{old} -> {new}: {e}"));
            // A wrong old root must fail.
            if old < new {
                assert!(verify_consistency(old, new, &p, &leaf_hash(b"x"), &r2).is_err());
            }
        }
    }
}

#[test]
fn log_proofs_equal_in_memory_proofs_across_tile_boundaries() {
    let d = TempDir::new("proofs");
    let mut log = Log::create(&d.0, "custos.example/log").unwrap();
    let mut mem = MemoryTree::new();
    // Integrate in uneven batches so partial tiles of several widths are written.
    let mut i = 0u64;
    for batch in [1u64, 2, 5, 100, 148, 1, 255, 1, 512, 66_000 - 1025] {
        for _ in 0..batch {
            log.append(&record(i)).unwrap();
            mem.append(&record(i));
            i += 1;
        }
        log.integrate().unwrap();
        assert_eq!(log.integrated_size(), i);
        assert_eq!(log.root(), mem.root(i).unwrap(), "root at {i}");
    }
    let n = log.integrated_size();
    assert_eq!(n, 66_000);
    for size in [
        1u64, 2, 3, 255, 256, 257, 511, 512, 513, 65_535, 65_536, 65_537, n,
    ] {
        assert_eq!(
            log.root_at(size).unwrap(),
            mem.root(size).unwrap(),
            "root_at {size}"
        );
        for idx in [0, size / 3, size / 2, size - 1] {
            assert_eq!(
                log.inclusion_proof(idx, size).unwrap(),
                mem.inclusion_proof(idx, size).unwrap(),
                "inclusion {idx} {size}"
            );
        }
        for old in [1u64, size / 2 + 1, size] {
            assert_eq!(
                log.consistency_proof(old, size).unwrap(),
                mem.consistency_proof(old, size).unwrap(),
                "consistency {old} {size}"
            );
        }
    }
    assert!(matches!(
        log.inclusion_proof(0, n + 1),
        Err(LogError::BeyondIntegrated { .. })
    ));
    assert!(matches!(log.inclusion_proof(n, n), Err(LogError::Proof(_))));
}

#[test]
fn writes_tlog_tiles_layout() {
    let d = TempDir::new("layout");
    let mut log = Log::create(&d.0, "custos.example/log").unwrap();
    for i in 0..70_000u64 {
        log.append(&record(i)).unwrap();
    }
    let cp = log.publish_checkpoint(&signer()).unwrap();
    assert_eq!(cp.size, 70_000);
    // tlog-tiles example: size 70,000 → 273 full level-0 tiles + partial 112, one full
    // level-1 tile + partial 17, a partial level-2 tile of width 1.
    for (l, n, w, len) in [
        (0, 272, 0, 8192),
        (0, 273, 112, 112 * 32),
        (1, 0, 0, 8192),
        (1, 1, 17, 17 * 32),
        (2, 0, 1, 32),
    ] {
        assert_eq!(
            log.read_tile(l, n, w).unwrap().len(),
            len,
            "{}",
            tile_path(l, n, w)
        );
    }
    assert!(d.0.join("tile/0/272").is_file());
    assert!(d.0.join("tile/entries/273.p/112").is_file());
    let bundle = log.read_entry_bundle(5, 0).unwrap();
    let entries = parse_entry_bundle(&bundle).unwrap();
    assert_eq!(entries.len(), 256);
    assert_eq!(entries[3], record(5 * 256 + 3).as_slice());
    let tile = log.read_tile(0, 5, 0).unwrap();
    assert_eq!(
        &tile[3 * 32..4 * 32],
        leaf_hash(&record(5 * 256 + 3)).as_slice()
    );
    assert_eq!(log.read_entry(69_999).unwrap(), record(69_999));
    let text = String::from_utf8(log.read_checkpoint().unwrap().unwrap()).unwrap();
    assert!(text.starts_with("custos.example/log\n70000\n"), "{text}");
    assert!(text.contains("\n\n— custos.example/log "));
    let _ = entries_path(0, 0);
}

#[test]
fn rejects_entries_over_65535_bytes() {
    let d = TempDir::new("big");
    let mut log = Log::create(&d.0, "o").unwrap();
    assert!(matches!(
        log.append(&vec![0; 65_536]),
        Err(LogError::EntryTooLarge(65_536))
    ));
    assert_eq!(log.append(&vec![7; 65_535]).unwrap(), 0);
    assert!(matches!(
        log.append_batch(&[vec![1u8], vec![0; 70_000]]),
        Err(LogError::EntryTooLarge(70_000))
    ));
    assert_eq!(log.next_index(), 1);
    log.publish_checkpoint(&signer()).unwrap();
    assert_eq!(log.read_entry(0).unwrap().len(), 65_535);
}

#[test]
fn reopens_at_the_integrated_size_and_continues() {
    let d = TempDir::new("reopen");
    let s = signer();
    {
        let mut log = Log::create(&d.0, "custos.example/log").unwrap();
        assert!(matches!(Log::open(&d.0), Err(LogError::Locked(_))));
        log.append_batch(&(0..300).map(record).collect::<Vec<_>>())
            .unwrap();
        log.publish_checkpoint(&s).unwrap();
        log.append_batch(&(300..400).map(record).collect::<Vec<_>>())
            .unwrap();
        log.integrate().unwrap(); // integrated but not published
        log.append(&record(400)).unwrap(); // pending only: lost on drop
    }
    assert!(matches!(
        Log::create(&d.0, "x"),
        Err(LogError::AlreadyExists(_))
    ));
    // The journal beyond the checkpoint is authenticated with the key: recovered.
    let mut log = Log::open_signed(&d.0, &s).unwrap();
    assert_eq!(log.integrated_size(), 400);
    assert_eq!(log.opened().recovered, 100);
    assert_eq!(log.opened().kind, custos_evidence::OpenKind::Existing);
    for i in 400..1000 {
        assert_eq!(log.append(&record(i)).unwrap(), i);
    }
    log.publish_checkpoint(&s).unwrap();
    let mut mem = MemoryTree::new();
    (0..1000).for_each(|i| mem.append(&record(i)));
    assert_eq!(log.root(), mem.root(1000).unwrap());
    drop(log);
    let r = verify_log(&d.0, &s.verifier()).unwrap();
    assert_eq!(r.leaves, 1000);
    assert!(r.unchecked.is_empty(), "{:?}", r.unchecked);
}

#[test]
fn recovers_to_checkpoint_when_state_is_torn() {
    let d = TempDir::new("torn");
    let s = signer();
    {
        let mut log = Log::create(&d.0, "o").unwrap();
        log.append_batch(&(0..300).map(record).collect::<Vec<_>>())
            .unwrap();
        log.publish_checkpoint(&s).unwrap();
        log.append_batch(&(300..700).map(record).collect::<Vec<_>>())
            .unwrap();
        log.integrate().unwrap();
    }
    // A torn state file and a torn partial tile beyond the checkpoint.
    std::fs::write(d.0.join(".state/tree"), b"70").unwrap();
    std::fs::write(d.0.join("tile/0/002.p/188"), b"torn").unwrap();
    let mut log = Log::open(&d.0).unwrap();
    assert_eq!(log.integrated_size(), 300);
    log.append_batch(&(300..700).map(record).collect::<Vec<_>>())
        .unwrap();
    log.publish_checkpoint(&s).unwrap();
    drop(log);
    assert_eq!(verify_log(&d.0, &s.verifier()).unwrap().leaves, 700);
}

#[test]
fn open_detects_tiles_that_contradict_the_checkpoint() {
    let d = TempDir::new("contradict");
    {
        let mut log = Log::create(&d.0, "o").unwrap();
        log.append_batch(&(0..300).map(record).collect::<Vec<_>>())
            .unwrap();
        log.publish_checkpoint(&signer()).unwrap();
    }
    std::fs::remove_file(d.0.join(".state/tree")).unwrap();
    let p = d.0.join("tile/0/001.p/44");
    let mut b = std::fs::read(&p).unwrap();
    b[5] ^= 1;
    std::fs::write(&p, b).unwrap();
    match Log::open(&d.0) {
        Err(LogError::LeafMismatch { leaf, .. }) => assert_eq!(leaf, 256),
        other => panic!("want LeafMismatch at leaf 256, got {other:?}"),
    }
    // Restore it; tamper with the level-1 partial tile instead: the root gives it away.
    let mut b = std::fs::read(&p).unwrap();
    b[5] ^= 1;
    std::fs::write(&p, &b).unwrap();
    let p = d.0.join("tile/1/000.p/1");
    let mut b = std::fs::read(&p).unwrap();
    b[0] ^= 1;
    std::fs::write(&p, b).unwrap();
    assert!(matches!(
        Log::open(&d.0),
        Err(LogError::Inconsistent { size: 300, .. })
    ));
}

/// Proofs and roots of `log` equal `mem`'s, for leaves all over its first full tiles.
fn assert_proofs_match(log: &Log, mem: &MemoryTree) {
    let n = log.integrated_size();
    for size in [n, n - 1, 65_537, 65_536, 2_000, 1_000, 257] {
        assert_eq!(log.root_at(size).unwrap(), mem.root(size).unwrap());
        for tile in [0u64, 1, 2, 3, 4, 5, 6, 100, 255, 256] {
            for off in [0u64, 1, 77, 128, 254, 255] {
                let idx = tile * 256 + off;
                if idx >= size {
                    continue;
                }
                assert_eq!(
                    log.inclusion_proof(idx, size).unwrap(),
                    mem.inclusion_proof(idx, size).unwrap(),
                    "inclusion {idx} {size}"
                );
            }
        }
        for old in [1u64, 300, 513, 1_500, 1_792, 65_535, 65_536] {
            if old <= size {
                assert_eq!(
                    log.consistency_proof(old, size).unwrap(),
                    mem.consistency_proof(old, size).unwrap(),
                    "consistency {old} {size}"
                );
            }
        }
    }
}

#[test]
fn proofs_stay_correct_when_side_files_are_missing_or_damaged() {
    let d = TempDir::new("sidefiles");
    let s = signer();
    let mut mem = MemoryTree::new();
    let n = 70_000u64;
    {
        let mut log = Log::create(&d.0, "custos.example/log").unwrap();
        let records: Vec<Vec<u8>> = (0..n).map(record).collect();
        for r in &records {
            mem.append(r);
        }
        log.append_batch(&records).unwrap();
        log.publish_checkpoint(&s).unwrap();
        assert_proofs_match(&log, &mem);
    }
    // The internal nodes of full tile <L>/<N> are slot N mod 256 (255 × 32 bytes) of the node
    // file `.state/nodes/<L>/<N / 256>`.
    let nodes = d.0.join(".state/nodes");
    let file = |l: u64, t: u64| nodes.join(format!("{l}/{:03}", t / 256));
    let slot_at = |t: u64| (t % 256) as usize * 255 * 32..(t % 256 + 1) as usize * 255 * 32;
    let slot = |l: u64, t: u64| std::fs::read(file(l, t)).unwrap()[slot_at(t)].to_vec();
    let set_slot = |l: u64, t: u64, b: &[u8]| {
        let mut all = std::fs::read(file(l, t)).unwrap();
        all[slot_at(t)].copy_from_slice(b);
        std::fs::write(file(l, t), all).unwrap();
    };
    // Every full tile has one: 273 at level 0, one at level 1; partial tiles have none.
    assert_eq!(std::fs::metadata(file(0, 0)).unwrap().len(), 256 * 255 * 32);
    assert_eq!(
        std::fs::metadata(file(0, 256)).unwrap().len(),
        17 * 255 * 32
    );
    assert_eq!(std::fs::metadata(file(1, 0)).unwrap().len(), 255 * 32);
    let tiles = [
        (0u64, 0u64),
        (0, 1),
        (0, 2),
        (0, 3),
        (0, 5),
        (0, 256),
        (0, 272),
        (1, 0),
    ];
    let good: Vec<Vec<u8>> = tiles.iter().map(|&(l, t)| slot(l, t)).collect();
    let assert_rebuilt = || {
        for (&(l, t), b) in tiles.iter().zip(&good) {
            assert_eq!(&slot(l, t), b, "tile {l}/{t} rebuilt");
        }
    };

    // 1. All node files deleted: proofs are right and the nodes come back.
    std::fs::remove_dir_all(&nodes).unwrap();
    {
        let log = Log::open(&d.0).unwrap();
        assert_proofs_match(&log, &mem);
        for t in [256u64, 272] {
            for idx in t * 256..t * 256 + 256 {
                assert_eq!(
                    log.inclusion_proof(idx, n).unwrap(),
                    mem.inclusion_proof(idx, n).unwrap()
                );
            }
        }
    }
    assert_rebuilt();

    // 2. Damaged in every way we can think of.
    let mut b = good[0].clone();
    for i in (0..b.len()).step_by(32) {
        b[i] ^= 1; // every node wrong
    }
    set_slot(0, 0, &b);
    set_slot(0, 1, &good[3]); // another tile's nodes (self-consistent)
    set_slot(0, 2, &vec![0; 255 * 32]); // a hole
    let mut b = good[4].clone();
    b[200 * 32] ^= 0x80; // a single node, row 4
    set_slot(0, 5, &b);
    set_slot(1, 0, &vec![0xff; 255 * 32]); // level 1
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(file(0, 256))
        .unwrap();
    f.set_len(100).unwrap(); // truncated: tiles 256.. have no slot at all
    drop(f);
    {
        let log = Log::open(&d.0).unwrap();
        assert_proofs_match(&log, &mem);
        for t in [0u64, 1, 2, 5, 256, 272] {
            for idx in t * 256..t * 256 + 256 {
                assert_eq!(
                    log.inclusion_proof(idx, n).unwrap(),
                    mem.inclusion_proof(idx, n).unwrap()
                );
            }
        }
    }
    assert_rebuilt();
    // Not even a file: still right (the rebuilt nodes cannot be stored, so stay in memory).
    std::fs::remove_file(file(0, 0)).unwrap();
    std::fs::create_dir(file(0, 0)).unwrap();
    {
        let log = Log::open(&d.0).unwrap();
        assert_proofs_match(&log, &mem);
    }
    std::fs::remove_dir(file(0, 0)).unwrap();
    // `.state/` is private: verification neither reads nor needs it.
    std::fs::remove_dir_all(&nodes).unwrap();
    assert_eq!(verify_log(&d.0, &s.verifier()).unwrap().leaves, n);

    // 3. A damaged tile is not masked by a side file that disagrees with the level above:
    // the proof fails rather than coming out wrong.
    {
        let log = Log::open(&d.0).unwrap();
        assert_proofs_match(&log, &mem);
    }
    let t = d.0.join(tile_path(0, 7, 0));
    let mut b = std::fs::read(&t).unwrap();
    b[3 * 32] ^= 1;
    std::fs::write(&t, b).unwrap();
    std::fs::remove_dir_all(&nodes).unwrap();
    let log = Log::open(&d.0).unwrap();
    assert!(matches!(
        log.inclusion_proof(7 * 256 + 100, n),
        Err(LogError::Corrupt { .. })
    ));
}
