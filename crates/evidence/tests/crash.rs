//! Crash safety: a child process appends and publishes in a loop and is SIGKILLed at random
//! moments — on first runs (new directories, often before the first checkpoint) and later
//! runs, some of them with files limited in size (a full disk) — and each time a normal run
//! follows: open, append, checkpoint. Every verification must pass, and no leaf covered by a
//! published checkpoint may change or go missing.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use custos_evidence::{leaf_hash, parse_entry_bundle, verify_log, Hash, Log, Signer};

use crate::util::{record, Rng, TempDir};

const CHILD_ENV: &str = "CUSTOS_EVIDENCE_CRASH_CHILD";
/// Child runs, each killed or failed on a full disk, each followed by a normal run.
const ROUNDS: u64 = 135;

fn signer() -> Signer {
    Signer::from_seed("custos.example/crash", &[5; 32]).unwrap()
}

/// The record run `seed` writes at `i`: different in every run, as real sensor data is.
fn run_record(i: u64, seed: u64) -> Vec<u8> {
    let mut r = record(i);
    r.extend_from_slice(&seed.to_le_bytes());
    r
}

/// Child mode: runs only when re-executed by the parent with `CHILD_ENV` set.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let seed: u64 = std::env::var("CUSTOS_EVIDENCE_CRASH_SEED")
        .unwrap()
        .parse()
        .unwrap();
    if let Ok(limit) = std::env::var("CUSTOS_EVIDENCE_CRASH_FSIZE") {
        // A full disk: every write past `limit` bytes of one file fails (EFBIG).
        // SAFETY: plain libc calls on this process's own limits and signal disposition.
        unsafe {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            let lim = libc::rlimit {
                rlim_cur: limit.parse().unwrap(),
                rlim_max: libc::RLIM_INFINITY,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &lim);
        }
    }
    let s = signer();
    let mut log = Log::open_or_create(&dir, &s).unwrap();
    println!("start {}", log.integrated_size());
    let mut rng = Rng(seed | 1);
    loop {
        let batch = 1 + rng.below(700);
        for _ in 0..batch {
            let i = log.next_index();
            assert_eq!(log.append(&run_record(i, seed)).unwrap(), i);
        }
        if rng.below(3) == 0 {
            log.integrate().unwrap();
        } else {
            let cp = log.publish_checkpoint(&s).unwrap();
            println!("published {}", cp.size);
        }
    }
}

/// Leaf hashes of the first `n` leaves, read bundle by bundle.
fn leaf_hashes(log: &Log, n: u64) -> Vec<Hash> {
    let mut out = Vec::with_capacity(n as usize);
    for b in 0..n.div_ceil(256) {
        let w = (n - b * 256).min(256);
        let bytes = if w == 256 {
            log.read_entry_bundle(b, 0).unwrap()
        } else {
            log.read_entry_bundle(b, w as u8).unwrap()
        };
        for e in parse_entry_bundle(&bytes).unwrap().iter().take(w as usize) {
            out.push(leaf_hash(e));
        }
    }
    out
}

struct Child {
    start: u64,
    published: u64,
}

fn run_child(
    exe: &std::path::Path,
    dir: &std::path::Path,
    seed: u64,
    fsize: Option<u64>,
    ms: u64,
) -> (Child, bool) {
    let mut cmd = Command::new(exe);
    cmd.args([
        "--exact",
        "crash::crash_child",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_ENV, dir)
    .env("CUSTOS_EVIDENCE_CRASH_SEED", seed.to_string())
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    if let Some(f) = fsize {
        cmd.env("CUSTOS_EVIDENCE_CRASH_FSIZE", f.to_string());
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut c = Child {
            start: u64::MAX,
            published: 0,
        };
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("published ") {
                c.published = n.trim().parse().unwrap();
            } else if let Some(n) = line
                .rsplit("start ")
                .next()
                .filter(|_| line.contains("start "))
            {
                c.start = n.trim().parse().unwrap();
            }
        }
        c
    });
    std::thread::sleep(Duration::from_millis(ms));
    let alive = child.try_wait().unwrap().is_none();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    (reader.join().unwrap(), alive)
}

#[test]
fn sigkilled_writer_never_loses_published_leaves() {
    let exe = std::env::current_exe().unwrap();
    let s = signer();
    let v = s.verifier();
    let mut rng = Rng(0x5eed);
    let start = Instant::now();
    let (mut kills, mut full_disk, mut first_runs, mut checked) = (0u64, 0u64, 0u64, 0u64);
    let mut max_published = 0u64;
    let mut dir = TempDir::new("crash");
    let mut expected: Vec<Hash> = Vec::new();
    for round in 0..ROUNDS {
        if round % 12 == 0 {
            dir = TempDir::new("crash");
            expected.clear();
            first_runs += 1;
        }
        let seed = rng.next();
        let fsize = (round % 5 == 3).then(|| 1024 + rng.below(8_000));
        let ms = if fsize.is_some() {
            400 // long enough for the writes to hit the limit
        } else if round % 12 == 0 {
            1 + rng.below(15)
        } else {
            5 + rng.below(60)
        };
        let (c, alive) = run_child(&exe, &dir.0, seed, fsize, ms);
        if alive {
            kills += 1;
        } else if fsize.is_some() {
            full_disk += 1;
        }
        // The normal run that follows.
        let mut log = Log::open_or_create(&dir.0, &s)
            .unwrap_or_else(|e| panic!("round {round}: reopen: {e}"));
        let published = c.published.max(expected.len() as u64);
        assert!(
            log.integrated_size() >= published,
            "round {round}: size {} < published {published}",
            log.integrated_size()
        );
        for _ in 0..5 {
            let i = log.next_index();
            log.append(&run_record(i, round)).unwrap();
        }
        let cp = log.publish_checkpoint(&s).unwrap();
        drop(log);
        let r = verify_log(&dir.0, &v).unwrap_or_else(|e| panic!("round {round}: verify: {e}"));
        assert_eq!(r.leaves, cp.size);
        assert!(r.unchecked.is_empty(), "round {round}: {:?}", r.unchecked);
        let log = Log::open(&dir.0).unwrap();
        let now = leaf_hashes(&log, cp.size);
        for (i, h) in expected.iter().enumerate() {
            assert_eq!(now[i], *h, "round {round}: published leaf {i} changed");
        }
        let from = c.start.max(expected.len() as u64);
        for i in from..c.published {
            assert_eq!(
                now[i as usize],
                leaf_hash(&run_record(i, seed)),
                "round {round}: leaf {i} the child published"
            );
        }
        checked += expected.len() as u64 + c.published.saturating_sub(from);
        max_published = max_published.max(cp.size);
        expected = now;
    }
    assert!(kills >= 100, "only {kills} kills mid-run");
    println!(
        "crash test: {kills} SIGKILLs mid-run, {full_disk} full-disk failures, {first_runs} first runs, \
         {ROUNDS} verifications passed, {checked} published leaves checked, largest log {max_published}, {:?}",
        start.elapsed()
    );
}
