//! The evidence log survives `kill -9` and full disks, end to end: `custos analyze --evidence`
//! killed at random moments (first runs on new directories and later runs), and runs onto a
//! small full tmpfs, each followed by a normal run. After every normal run `verify --log`
//! passes with the last checkpoint published before the crash as a witness: no leaf covered
//! by a published checkpoint is lost or changed.

mod common;

use common::shared;
use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// The packets of the run that is killed (its excerpts take about a second to write) and of
/// the normal run after it (fewer alerts, quick).
const KILLED_PACKETS: &str = "20000";
const NORMAL_PACKETS: &str = "14000";

fn analyze_args(
    capture: &Path,
    out: &Path,
    log: &Path,
    key: &Path,
    packets: &str,
) -> Vec<OsString> {
    let mut v: Vec<OsString> = ["analyze"].iter().map(OsString::from).collect();
    v.push(capture.into());
    for a in [
        "--max-packets",
        packets,
        "--quiet",
        "--detector",
        "kitsune",
        "--fm-grace",
        "500",
        "--ad-grace",
        "3000",
        "--calibration",
        "2000",
        "-o",
    ] {
        v.push(a.into());
    }
    v.push(out.into());
    v.push("--evidence".into());
    v.push(log.into());
    v.push("--key".into());
    v.push(key.into());
    v
}

fn run(args: &[OsString]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(args)
        .output()
        .expect("run custos")
}

fn verify(log: &Path, vkey: &Path, witness: Option<&Path>) -> Output {
    let mut args: Vec<OsString> = vec!["verify".into(), "--log".into(), log.into()];
    args.extend(["--vkey".into(), vkey.into()]);
    if let Some(w) = witness {
        args.extend(["--checkpoint".into(), w.into()]);
    }
    run(&args)
}

/// Makes a key pair named `name` in `dir`: (`.skey`, `.vkey`).
fn keygen(dir: &Path, name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
    let prefix = dir.join("sensor");
    let r = run(&[
        "keygen".into(),
        "--name".into(),
        name.into(),
        "-o".into(),
        prefix.clone().into(),
    ]);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
    (prefix.with_extension("skey"), prefix.with_extension("vkey"))
}

/// Size of the published checkpoint, if there is one.
fn published(log: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(log.join("checkpoint")).ok()?;
    text.lines().nth(1)?.parse().ok()
}

/// A small deterministic generator (the kill moments need not be secret, only spread).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % below.max(1)
    }
}

/// After a crash: a normal run succeeds and the log verifies against the checkpoint that was
/// published before the crash. Returns the new published size.
fn normal_run_and_verify(
    capture: &Path,
    dir: &Path,
    log: &Path,
    keys: (&Path, &Path),
    witness: &Path,
    round: usize,
) -> u64 {
    let out = dir.join(format!("normal-{round}"));
    let r = run(&analyze_args(capture, &out, log, keys.0, NORMAL_PACKETS));
    assert!(
        r.status.success(),
        "round {round}: the run after a crash failed: {}",
        String::from_utf8_lossy(&r.stderr)
    );
    let w = witness.exists().then_some(witness);
    let v = verify(log, keys.1, w);
    assert_eq!(
        v.status.code(),
        Some(0),
        "round {round}: verify failed after recovery:\n{}",
        String::from_utf8_lossy(&v.stdout)
    );
    let size = published(log).expect("a checkpoint after a normal run");
    std::fs::copy(log.join("checkpoint"), witness).unwrap();
    size
}

#[test]
fn kill_9_at_random_moments_never_breaks_the_log() {
    let Some(shared) = shared() else { return };
    let capture = shared.join("reference/kitsune/iotlab-dev.pcap");
    let dir = tempfile::tempdir().unwrap();
    let (skey, vkey) = keygen(dir.path(), "custos.test/crash");
    // How long an uninterrupted run takes here: kills are spread over it.
    let t0 = std::time::Instant::now();
    let probe = dir.path().join("probe");
    let r = run(&analyze_args(
        &capture,
        &dir.path().join("probe-out"),
        &probe,
        &skey,
        KILLED_PACKETS,
    ));
    assert!(r.status.success());
    let mut span_ms = (t0.elapsed().as_millis() as u64).max(50);
    let mut rng = Lcg(0x5eed_c057);
    let (mut kills, mut first_run_kills, mut killed_before_checkpoint) = (0, 0, 0);
    let mut leaves_checked = 0u64;
    let mut log = dir.path().join("log-0");
    let mut witness = dir.path().join("witness-0");
    let mut round = 0;
    while kills < 100 && round < 300 {
        // Every tenth round starts a new log whose first run is killed.
        let first = round % 10 == 0;
        if first {
            log = dir.path().join(format!("log-{round}"));
            witness = dir.path().join(format!("witness-{round}"));
        }
        let before = published(&log);
        let out = dir.path().join(format!("killed-{round}"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_custos"))
            .args(analyze_args(&capture, &out, &log, &skey, KILLED_PACKETS))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // First runs die early (often before their first checkpoint); later runs anywhere.
        let ms = if first {
            rng.next(span_ms / 3)
        } else {
            rng.next(span_ms / 2)
        };
        std::thread::sleep(Duration::from_millis(ms));
        if child.try_wait().unwrap().is_none() {
            child.kill().unwrap();
            kills += 1;
            if first {
                first_run_kills += 1;
            }
            if published(&log) == before {
                killed_before_checkpoint += 1;
            }
        } else {
            // The run was quicker than the window (later runs reuse their excerpts, and the
            // load of other tests varies): narrow the window so the next kills land in runs.
            span_ms = (span_ms * 3 / 4).max(20);
        }
        child.wait().unwrap();
        // A published checkpoint never shrinks, even by a killed run.
        if let (Some(b), Some(now)) = (before, published(&log)) {
            assert!(now >= b, "round {round}: checkpoint went from {b} to {now}");
        }
        let size =
            normal_run_and_verify(&capture, dir.path(), &log, (&skey, &vkey), &witness, round);
        leaves_checked += size;
        round += 1;
    }
    let rounds = round;
    println!(
        "evidence crash test: {rounds} rounds, {kills} SIGKILLs ({first_run_kills} of first runs, {killed_before_checkpoint} before the run's checkpoint), every later run and verification passed; {leaves_checked} published leaves re-verified against the checkpoint before each crash"
    );
    assert!(
        kills >= 80,
        "too few runs were still going when killed: {kills}"
    );
}

#[test]
fn a_full_disk_never_breaks_the_log() {
    let Some(shared) = shared() else { return };
    let capture = shared.join("reference/kitsune/iotlab-dev.pcap");
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path().join("small");
    std::fs::create_dir_all(&mnt).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=64k", "tmpfs"])
        .arg(&mnt)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root and must be able to mount a tmpfs"
        );
        custos_test_support::skip("cannot mount a tmpfs (needs root)");
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(self.0).status();
        }
    }
    let _guard = Unmount(&mnt);
    let (skey, vkey) = keygen(dir.path(), "custos.test/disk");
    let log = mnt.join("log");
    let witness = dir.path().join("witness");
    let mut full = 0;
    // Each size fills at another stage: tiles, excerpts, checkpoint (the log grows per round).
    for (round, room_kib) in [8u64, 24, 48, 96, 192, 384, 768, 1536].iter().enumerate() {
        // A tmpfs cannot shrink below what it holds: the size is what is used plus the room.
        let used_kib = Command::new("du")
            .args(["-sk"])
            .arg(&mnt)
            .output()
            .ok()
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .split_whitespace()
                    .next()?
                    .parse::<u64>()
                    .ok()
            })
            .unwrap_or(0);
        let size = used_kib + room_kib + 16;
        let st = Command::new("mount")
            .args(["-o", &format!("remount,size={size}k")])
            .arg(&mnt)
            .status()
            .unwrap();
        assert!(st.success());
        let before = published(&log);
        let out = dir.path().join(format!("full-{round}"));
        let r = run(&analyze_args(&capture, &out, &log, &skey, KILLED_PACKETS));
        if !r.status.success() {
            full += 1;
            let err = String::from_utf8_lossy(&r.stderr);
            assert!(
                err.contains(&*mnt.display().to_string()),
                "the error names no file: {err}"
            );
            let leftovers = std::fs::read_dir(log.join("excerpts")).map_or(0, |d| {
                d.flatten()
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
                    .count()
            });
            assert_eq!(leftovers, 0, "temporary excerpt files left behind");
        }
        if let (Some(b), Some(now)) = (before, published(&log)) {
            assert!(now >= b);
        }
        // Room again: a normal run, and the log verifies.
        let st = Command::new("mount")
            .args(["-o", "remount,size=64m"])
            .arg(&mnt)
            .status()
            .unwrap();
        assert!(st.success());
        normal_run_and_verify(&capture, dir.path(), &log, (&skey, &vkey), &witness, round);
    }
    println!("evidence full-disk test: 8 runs onto a small tmpfs, {full} ran out of space; every later run and verification passed");
    assert!(full >= 4, "too few runs filled the disk: {full}");
}
