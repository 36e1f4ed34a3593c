//! Evidence logs, as an investigator receives one: `custos_evidence::verify_log` on a log of
//! five alerts (`seeds/evidence_log/log/`, written by `custos analyze --evidence` on the
//! sample), one of whose files the input replaces. Byte 0 selects the file (modulo the log's
//! files in path order: signed checkpoints, tiles of hashes, entry bundles, pcap excerpts and
//! the writer's `.state/`); the rest is the new content.
//!
//! Properties: nothing panics; the same log verifies the same way twice; **a log with any file
//! outside `.state/` changed never verifies** (the writer's state is not evidence: the tiles,
//! the entries and the excerpts are bound to the signed checkpoint); an error names the log
//! or a file in it.
#![no_main]

use std::sync::OnceLock;

use custos_evidence::verify_log;
use custos_fuzz::SignedFixture;
use libfuzzer_sys::fuzz_target;

/// The fixture, copied once per process.
fn fixture() -> &'static SignedFixture {
    static FIXTURE: OnceLock<SignedFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let f = custos_fuzz::signed_fixture("evidence_log", "log");
        assert!(
            verify_log(&f.dir, &f.verifier).is_ok(),
            "the fixture verifies"
        );
        f
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, content)) = data.split_first() else {
        return;
    };
    let f = fixture();
    let i = usize::from(selector) % f.files.len();
    let (name, original) = &f.files[i];
    let path = f.dir.join(name);
    std::fs::write(&path, content).expect("write");
    let first = custos_fuzz::same_twice("log", || verify_log(&f.dir, &f.verifier));
    match &first {
        Ok(_) => {
            let bound_change = !name.starts_with(".state/") && content != original.as_slice();
            assert!(
                !bound_change,
                "{name} was changed and the log still verifies"
            );
        }
        Err(e) => {
            let text = e.to_string();
            assert!(
                text.contains(&f.dir.display().to_string())
                    || f.files.iter().any(|(n, _)| text.contains(n.as_str())),
                "the error names nothing: {text}"
            );
        }
    }
    std::fs::write(&path, original).expect("restore");
});
