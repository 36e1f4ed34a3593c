//! The `.pkey` file: created 0600, never overwritten, read back with errors naming the file.

use std::os::unix::fs::PermissionsExt;

use custos_privacy::{Error, Policy, PseudonymKey, Pseudonymizer, ValueKind};

#[test]
fn write_new_creates_mode_0600_and_reads_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("K.pkey");
    let key = PseudonymKey::generate().unwrap();
    key.write_new(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(PseudonymKey::read(&path).unwrap(), key);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("custos-pseudonym-key v1\n"), "{text}");
}

#[test]
fn write_new_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("K.pkey");
    std::fs::write(&path, "precious").unwrap();
    let err = PseudonymKey::generate()
        .unwrap()
        .write_new(&path)
        .unwrap_err();
    assert!(
        matches!(&err, Error::KeyFileExists { path: p } if *p == path),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "key file {} already exists; refusing to overwrite it",
            path.display()
        )
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious");
}

#[test]
fn read_refuses_a_key_others_can_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("K.pkey");
    PseudonymKey::generate().unwrap().write_new(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let err = PseudonymKey::read(&path).unwrap_err();
    assert!(
        matches!(err, Error::KeyFileMode { mode: 0o640, .. }),
        "{err}"
    );
}

#[test]
fn read_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.pkey");
    std::fs::write(&path, "custos-pseudonym-key v1\ncryptopan 00\n").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = PseudonymKey::read(&path).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "key file {}:2: expected 64 hexadecimal digits (32 bytes), got 2 characters",
            path.display()
        )
    );
    let missing = dir.path().join("absent.pkey");
    let err = PseudonymKey::read(&missing).unwrap_err();
    assert!(
        matches!(&err, Error::KeyFileIo { action: "read", .. }),
        "{err}"
    );
    assert!(err
        .to_string()
        .starts_with(&format!("cannot read key file {}: ", missing.display())));
    assert!(
        std::error::Error::source(&err).is_none(),
        "the cause is displayed, not chained"
    );
}

#[test]
fn generated_keys_differ() {
    let a = PseudonymKey::generate().unwrap();
    let b = PseudonymKey::generate().unwrap();
    assert_ne!(a, b);
    assert_ne!(a.fingerprint(), b.fingerprint());
}

#[test]
fn from_cryptopan_hex_rejects_bad_input() {
    for bad in ["", "1522", &"g".repeat(64), &"0".repeat(65)] {
        let err = PseudonymKey::from_cryptopan_hex(bad).unwrap_err();
        assert!(matches!(err, Error::KeyHex { .. }), "{bad:?}: {err}");
    }
    let upper = "1522178D33A4CF80130A5B1649907D10D8988F837979652762574C2D2A842202";
    let key = PseudonymKey::from_cryptopan_hex(upper).unwrap();
    assert_eq!(key.cryptopan_key()[..4], [21, 34, 23, 141]);
}

#[test]
fn pseudonymizer_from_files_reads_the_policy_first() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("K.pkey");
    let key = PseudonymKey::generate().unwrap();
    key.write_new(&path).unwrap();
    let mut from_files = Pseudonymizer::from_files(&path, None).unwrap();
    let mut direct = Pseudonymizer::new(&key, Policy::default());
    let a = from_files.pseudonymize(ValueKind::Ip, "192.0.2.7").unwrap();
    assert_eq!(a, direct.pseudonymize(ValueKind::Ip, "192.0.2.7").unwrap());
    let missing = dir.path().join("missing.pkey");
    let policy = dir.path().join("missing.toml");
    let err = Pseudonymizer::from_files(&missing, Some(&policy)).unwrap_err();
    assert!(matches!(err, Error::PolicyIo { .. }), "{err:?}");
}
