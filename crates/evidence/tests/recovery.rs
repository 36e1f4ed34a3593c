//! Recovery on open: stale tiles beyond the checkpoint, half-initialised first runs, and
//! clear errors when excerpts cannot be written.

use std::path::Path;

use custos_evidence::{verify_log, write_excerpt, Log, LogError, OpenKind, Signer};

use crate::util::{record, TempDir};

fn signer() -> Signer {
    Signer::from_seed("custos.example/rec", &[11; 32]).unwrap()
}

/// Record `i` of run `run`: each run logs different bytes, as real sensor runs do.
fn rec(i: u64, run: u8) -> Vec<u8> {
    let mut r = record(i);
    r.push(run);
    r
}

fn append(log: &mut Log, to: u64, run: u8) {
    while log.next_index() < to {
        log.append(&rec(log.next_index(), run)).unwrap();
    }
}

/// Copies every file under `tile/` of `from` into `to` (what a killed integration leaves).
fn copy_tiles(from: &Path, to: &Path) {
    fn walk(root: &Path, d: &Path, to: &Path) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, to);
            } else {
                let dst = to.join(p.strip_prefix(root).unwrap());
                std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
                std::fs::copy(&p, dst).unwrap();
            }
        }
    }
    walk(from, &from.join("tile"), to);
}

/// The case: a run integrates to 4400 (writing `tile/1/000.p/17`) and is killed
/// before its journal is updated; the next run with other data signs 4700. Before the fix
/// the stale partial tile stayed and `verify_log` rejected the log.
#[test]
fn stale_tiles_of_a_killed_run_are_repaired_on_open() {
    let s = signer();
    for keyed in [false, true] {
        let d = TempDir::new("stale");
        let crashed = TempDir::new("stale-crashed");
        for dir in [&d.0, &crashed.0] {
            let mut log = Log::create(dir, "custos.example/rec").unwrap();
            append(&mut log, 4000, 0);
            log.publish_checkpoint(&s).unwrap();
        }
        let mut log = Log::open(&crashed.0).unwrap();
        append(&mut log, 4400, 1);
        log.integrate().unwrap();
        drop(log);
        assert!(crashed.0.join("tile/1/000.p/17").exists());
        copy_tiles(&crashed.0, &d.0);
        let mut log = if keyed {
            Log::open_signed(&d.0, &s).unwrap()
        } else {
            Log::open(&d.0).unwrap()
        };
        assert_eq!(log.integrated_size(), 4000);
        assert!(log.opened().repaired_files > 0, "{:?}", log.opened());
        append(&mut log, 4700, 2);
        log.publish_checkpoint(&s).unwrap();
        drop(log);
        let r = verify_log(&d.0, &s.verifier()).unwrap();
        assert_eq!(r.leaves, 4700);
        assert!(r.unchecked.is_empty(), "{:?}", r.unchecked);
        assert_eq!(
            std::fs::read(d.0.join("tile/1/000.p/18")).unwrap().len(),
            18 * 32
        );
        assert!(!d.0.join("tile/1/000.p/17").exists());
    }
}

/// A signed writer's journal recovers integrated leaves beyond the checkpoint, rewriting
/// their tiles from the entries (here the tiles were damaged, the bundles intact).
#[test]
fn journaled_leaves_are_recovered_and_their_tiles_rewritten() {
    let s = signer();
    let d = TempDir::new("journal");
    {
        let mut log = Log::create_signed(&d.0, &s).unwrap();
        append(&mut log, 1000, 0);
        log.publish_checkpoint(&s).unwrap();
        append(&mut log, 1300, 0);
        log.integrate().unwrap();
    }
    std::fs::write(d.0.join("tile/0/004"), vec![0u8; 256 * 32]).unwrap();
    std::fs::remove_file(d.0.join("tile/1/000.p/5")).unwrap();
    let mut log = Log::open_signed(&d.0, &s).unwrap();
    assert_eq!(log.integrated_size(), 1300);
    assert_eq!(log.opened().recovered, 300);
    log.publish_checkpoint(&s).unwrap();
    drop(log);
    let r = verify_log(&d.0, &s.verifier()).unwrap();
    assert_eq!(r.leaves, 1300);
}

/// A first run killed before its first checkpoint, at each stage of initialisation: every
/// later run starts, and says whether it completed the log or started afresh.
#[test]
fn killed_first_runs_do_not_brick_the_directory() {
    let s = signer();
    // (what the killed run left, expected kind for a signed open-or-create)
    let stages: [(&str, OpenKind); 4] = [
        ("state dir only", OpenKind::Created),
        ("state dir and stray tiles", OpenKind::StartedAfresh),
        ("origin only", OpenKind::Completed),
        ("origin, tiles and journal", OpenKind::Completed),
    ];
    for (stage, kind) in stages {
        for cli_path in [false, true] {
            let d = TempDir::new("first");
            if stage.starts_with("origin") {
                let mut log = Log::create_signed(&d.0, &s).unwrap();
                if stage.contains("tiles") {
                    append(&mut log, 300, 0);
                    log.integrate().unwrap();
                }
            } else {
                std::fs::create_dir_all(d.0.join(".state")).unwrap();
                if stage.contains("tiles") {
                    std::fs::create_dir_all(d.0.join("tile/0/000.p")).unwrap();
                    std::fs::write(d.0.join("tile/0/000.p/3"), [1u8; 96]).unwrap();
                }
            }
            // Before the fix `Log::create` (what the CLI calls when there is no checkpoint
            // and no tile/) failed with "a log already exists here".
            let mut log = if cli_path {
                Log::create(&d.0, "custos.example/rec").unwrap_or_else(|e| panic!("{stage}: {e}"))
            } else {
                Log::open_or_create(&d.0, &s).unwrap_or_else(|e| panic!("{stage}: {e}"))
            };
            if !cli_path {
                assert_eq!(log.opened().kind, kind, "{stage}: {}", log.opened());
                if stage.contains("journal") {
                    assert_eq!(log.opened().recovered, 300, "{stage}");
                }
            }
            let start = log.integrated_size();
            append(&mut log, start + 10, 1);
            log.publish_checkpoint(&s).unwrap();
            drop(log);
            let r = verify_log(&d.0, &s.verifier()).unwrap_or_else(|e| panic!("{stage}: {e}"));
            assert_eq!(r.leaves, start + 10);
            // A published log is not silently re-created.
            assert!(matches!(
                Log::create(&d.0, "custos.example/rec"),
                Err(LogError::AlreadyExists(_))
            ));
        }
    }
}

const FSIZE_CHILD: &str = "CUSTOS_EVIDENCE_FSIZE_CHILD";

/// Child: with files limited to 4 KiB (a full disk for one file), writes a large excerpt.
#[test]
fn excerpt_write_child() {
    let Some(dir) = std::env::var_os(FSIZE_CHILD) else {
        return;
    };
    // SAFETY: plain libc calls on this process's own limits and signal disposition.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        let lim = libc::rlimit {
            rlim_cur: 4096,
            rlim_max: libc::RLIM_INFINITY,
        };
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &lim), 0);
    }
    let e = write_excerpt(&dir, &vec![7u8; 100_000]).unwrap_err();
    println!("error: {e}");
}

/// An I/O error while writing an excerpt names the file and the stage, and leaves no
/// `<sha>.tmp` behind; the log stays valid.
#[test]
fn excerpt_write_errors_name_the_file_and_stage_and_clean_up() {
    let d = TempDir::new("excerpt-err");
    let s = signer();
    let mut log = Log::open_or_create(&d.0, &s).unwrap();
    append(&mut log, 5, 0);
    log.publish_checkpoint(&s).unwrap();
    drop(log);
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "recovery::excerpt_write_child",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(FSIZE_CHILD, &d.0)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("error: ").map(|(_, e)| e))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(
        line.contains("excerpts/") && line.contains(".tmp"),
        "{line}"
    );
    assert!(line.contains("cannot write"), "{line}");
    let left: Vec<_> = std::fs::read_dir(d.0.join("excerpts"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(verify_log(&d.0, &s.verifier()).unwrap().leaves, 5);
    println!("{line}");
}
