//! Case bundles, as an investigator receives them: `custos_evidence::verify_case` on a bundle
//! of five alerts (`seeds/case_bundle/bundle/`, exported by `custos case export` from a run
//! of the sample), one of whose files the input replaces. Byte 0 selects the file (bits 0–4,
//! modulo the bundle's 19 files in path order) and whether `SHA256SUMS` is then rewritten to
//! match the new content (bit 7: a forger's first step); the rest is the new content.
//!
//! Properties: nothing panics; the same bundle verifies the same way twice; **a bundle with
//! any file other than `SHA256SUMS` changed never verifies** (every other file is bound to
//! the signed log through the manifest, the proofs and the custody leaf), whether or not
//! `SHA256SUMS` was rewritten to match; an error names the bundle or a file in it.
#![no_main]

use std::sync::OnceLock;

use custos_evidence::verify_case;
use custos_fuzz::SignedFixture;
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

/// The list of checksums a bundle carries.
const SUMS: &str = "SHA256SUMS";

/// The fixture, copied once per process.
fn fixture() -> &'static SignedFixture {
    static FIXTURE: OnceLock<SignedFixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let f = custos_fuzz::signed_fixture("case_bundle", "bundle");
        assert!(
            verify_case(&f.dir, &f.verifier).is_ok(),
            "the fixture verifies"
        );
        f
    })
}

/// `SHA256SUMS` for `files` (the checksum list itself left out), as `sha256sum` writes it.
fn sums(files: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = String::new();
    for (name, bytes) in files.iter().filter(|(n, _)| n != SUMS) {
        let digest: String = Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        out.push_str(&format!("{digest}  {name}\n"));
    }
    out.into_bytes()
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, content)) = data.split_first() else {
        return;
    };
    let f = fixture();
    let i = usize::from(selector & 0x1f) % f.files.len();
    let (name, original) = &f.files[i];
    let mut files = f.files.clone();
    files[i].1 = content.to_vec();
    let rewrite_sums = selector & 0x80 != 0 && name != SUMS;
    if rewrite_sums {
        let s = files
            .iter()
            .position(|(n, _)| n == SUMS)
            .expect("a bundle has SHA256SUMS");
        files[s].1 = sums(&files);
    }
    let changed: Vec<usize> = (0..files.len())
        .filter(|&k| files[k].1 != f.files[k].1)
        .collect();
    for &k in &changed {
        std::fs::write(f.dir.join(&files[k].0), &files[k].1).expect("write");
    }
    let first = custos_fuzz::same_twice("bundle", || verify_case(&f.dir, &f.verifier));
    match &first {
        Ok(_) => {
            let bound_change = name != SUMS && content != original.as_slice();
            assert!(
                !bound_change,
                "{name} was changed (SHA256SUMS rewritten: {rewrite_sums}) and the bundle still verifies"
            );
        }
        Err(e) => {
            let text = e.to_string();
            assert!(
                text.contains(&f.dir.display().to_string())
                    || text.contains(name.as_str())
                    || f.files.iter().any(|(n, _)| text.contains(n.as_str())),
                "the error names nothing: {text}"
            );
        }
    }
    for &k in &changed {
        std::fs::write(f.dir.join(&f.files[k].0), &f.files[k].1).expect("restore");
    }
});
