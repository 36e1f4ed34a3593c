//! Crash safety: a child process appends and publishes in a loop and is SIGKILLed at random
//! moments; every time, the log reopens, verifies, and holds every published leaf.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use custos_evidence::{verify_log, Log, Signer};

use crate::util::{record, Rng, TempDir};

const CHILD_ENV: &str = "CUSTOS_EVIDENCE_CRASH_CHILD";

fn signer() -> Signer {
    Signer::from_seed("custos.example/crash", &[5; 32]).unwrap()
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
    let s = signer();
    let mut log = Log::open(&dir).unwrap();
    let mut rng = Rng(seed | 1);
    loop {
        let batch = 1 + rng.below(700);
        for _ in 0..batch {
            let i = log.next_index();
            assert_eq!(log.append(&record(i)).unwrap(), i);
        }
        if rng.below(3) == 0 {
            log.integrate().unwrap();
        } else {
            let cp = log.publish_checkpoint(&s).unwrap();
            println!("published {}", cp.size);
        }
    }
}

#[test]
fn sigkilled_writer_never_loses_published_leaves() {
    let d = TempDir::new("crash");
    drop(Log::create(&d.0, "custos.example/crash").unwrap());
    let exe = std::env::current_exe().unwrap();
    let v = signer().verifier();
    let mut rng = Rng(0x5eed);
    let mut published = 0u64;
    let start = Instant::now();
    let mut kills_mid_run = 0;
    for round in 0..100 {
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "crash::crash_child",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &d.0)
            .env("CUSTOS_EVIDENCE_CRASH_SEED", rng.next().to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut last = 0u64;
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(n) = line.strip_prefix("published ") {
                    last = n.trim().parse().unwrap();
                }
            }
            last
        });
        std::thread::sleep(Duration::from_millis(5 + rng.below(60)));
        if child.try_wait().unwrap().is_none() {
            kills_mid_run += 1;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let last = reader.join().unwrap();
        published = published.max(last);

        let log = Log::open(&d.0).unwrap_or_else(|e| panic!("round {round}: reopen: {e}"));
        let size = log.integrated_size();
        assert!(
            size >= published,
            "round {round}: size {size} < published {published}"
        );
        drop(log);
        if published > 0 {
            let r = verify_log(&d.0, &v).unwrap_or_else(|e| panic!("round {round}: verify: {e}"));
            assert!(
                r.leaves >= published,
                "round {round}: checkpoint {} < {published}",
                r.leaves
            );
            published = r.leaves;
        }
        // Spot-check published leaves' content.
        let log = Log::open(&d.0).unwrap();
        for _ in 0..20 {
            if published == 0 {
                break;
            }
            let i = rng.below(published);
            assert_eq!(
                log.read_entry(i).unwrap(),
                record(i),
                "round {round}: leaf {i}"
            );
        }
    }
    assert!(published > 0, "child never published");
    assert!(
        kills_mid_run > 90,
        "child exited on its own too often ({kills_mid_run} kills)"
    );
    println!(
        "crash test: {published} leaves published, {:?}",
        start.elapsed()
    );
}
