//! Never crash: `custos analyze` over every capture in the shared corpus (tcpdump's, Zeek's and
//! suricata-verify's, malformed and truncated ones included) finishes with results (exit 0) or
//! a clear error (exit 2 or 3, with a message naming the file), never a panic or an abort.

mod common;

use common::{custos, shared};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

fn captures(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            captures(&p, out);
        } else {
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            if name.ends_with(".pcap")
                || name.ends_with(".pcapng")
                || name.ends_with(".gz")
                || name.ends_with(".cap")
            {
                out.push(p);
            }
        }
    }
}

#[test]
fn analyze_never_crashes_on_the_corpus() {
    let Some(shared) = shared() else { return };
    let mut files = Vec::new();
    for sub in [
        "corpus/tcpdump",
        "corpus/zeek/traces",
        "corpus/suricata-verify",
    ] {
        captures(&shared.join(sub), &mut files);
    }
    assert!(
        files.len() > 1500,
        "expected the whole corpus, found {} captures",
        files.len()
    );
    let out = tempfile::tempdir().unwrap();
    let (mut ok, mut partial, mut failed) = (0, 0, 0);
    for (i, f) in files.iter().enumerate() {
        let dir = out.path().join(i.to_string());
        let r = custos(&[
            OsStr::new("analyze"),
            f.as_os_str(),
            OsStr::new("-o"),
            dir.as_os_str(),
            OsStr::new("--quiet"),
        ]);
        let stderr = String::from_utf8_lossy(&r.stderr);
        assert!(
            !stderr.contains("panicked"),
            "{}: panic: {stderr}",
            f.display()
        );
        match r.status.code() {
            Some(0) => ok += 1,
            Some(3) => {
                assert!(
                    stderr.contains("byte offset") && stderr.contains("packet"),
                    "{}: partial run without position: {stderr}",
                    f.display()
                );
                assert!(
                    dir.join("conn.log").exists(),
                    "{}: partial run wrote no conn.log",
                    f.display()
                );
                partial += 1;
            }
            Some(2) => {
                assert!(
                    stderr.contains("custos: error:"),
                    "{}: exit 2 without a message: {stderr}",
                    f.display()
                );
                failed += 1;
            }
            other => panic!(
                "{}: unexpected exit {other:?} (signal?): {stderr}",
                f.display()
            ),
        }
        if r.status.code() != Some(2) {
            let stats =
                std::fs::read_to_string(dir.join("stats.json")).expect("stats.json written");
            assert!(stats.contains("\"packets\""));
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
    println!("corpus: {} captures: {ok} complete, {partial} partial (damaged input), {failed} refused with an error", files.len());
}
