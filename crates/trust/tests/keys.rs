//! Key files: writing, reading, and what is refused.

use std::os::unix::fs::PermissionsExt;

use custos_trust::{write_key_pair, PublicKey, SigningKey, TrustError};

/// A SEC 1 private key from `openssl ecparam -name prime256v1 -genkey -noout`.
const OPENSSL_SEC1: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEILYf2vnmvuUQyoL6eL5rpTiDCBipWkIog3YNpsmHollwoAoGCCqGSM49
AwEHoUQDQgAExdHIqkLxHYvuClNgDbN3naL7OQ62sk36JWyyLfp2Ht6gKvXh13gF
Lj4zlYDl6/AOc/uROvviaEVcd343Tlg3fA==
-----END EC PRIVATE KEY-----
";

/// Its public key, from `openssl ec -pubout`.
const OPENSSL_PUB: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAExdHIqkLxHYvuClNgDbN3naL7OQ62
sk36JWyyLfp2Ht6gKvXh13gFLj4zlYDl6/AOc/uROvviaEVcd343Tlg3fA==
-----END PUBLIC KEY-----
";

/// The same private key encrypted (`openssl pkcs8 -topk8 -v2 aes-256-cbc`).
const OPENSSL_ENCRYPTED: &str = "-----BEGIN ENCRYPTED PRIVATE KEY-----
MIHsMFcGCSqGSIb3DQEFDTBKMCkGCSqGSIb3DQEFDDAcBAgsenkjfK0+wgICCAAw
DAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEE5nOAjNCLdiYvDswc7GX+cEgZDh
6Oe1Lj9nN614n2UcJSCqbhCQtdpLardf4wkNcKM6+1gu6CtNPfpGeVez6BLD2T+6
bhutskFFkMXhcxaeDSTJS+18VUJTWXo7xyyZu/J/qH825yEHdYwUDmcs7DJjaDIR
92FL8jjzRnSp+5+qhSsobW4Dgh2fZSeA6sSOTWMViJRlL/q+BGRss2FE/hv/Ht4=
-----END ENCRYPTED PRIVATE KEY-----
";

/// A P-384 public key (the reference tool takes it; custos does not).
const OPENSSL_P384_PUB: &str = "-----BEGIN PUBLIC KEY-----
MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEfgKblzTrLair1PWvBfJ17YDz7pZlhWh+
onUzLUj8DTv3gSVpHODV6Es1P0j72XESn7qaI3UALQqr26moWKHkN7ZMZqAixLkq
Dpo7vZrgWnu438zG/7CgSpdroe3K0koO
-----END PUBLIC KEY-----
";

#[test]
fn writes_a_key_pair_with_a_private_file_mode() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("K");
    let files = write_key_pair(&stem).unwrap();
    assert_eq!(files.private_key, dir.path().join("K.pem"));
    assert_eq!(files.public_key, dir.path().join("K.pub"));
    let mode = std::fs::metadata(&files.private_key)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let private = std::fs::read_to_string(&files.private_key).unwrap();
    assert!(
        private.starts_with("-----BEGIN PRIVATE KEY-----\n"),
        "{private}"
    );
    let public = std::fs::read_to_string(&files.public_key).unwrap();
    assert!(
        public.starts_with("-----BEGIN PUBLIC KEY-----\n"),
        "{public}"
    );

    let key = SigningKey::read(&files.private_key).unwrap();
    let public = PublicKey::read(&files.public_key).unwrap();
    assert_eq!(key.public_key(), public);
    assert_eq!(public.key_hint(), files.key_hint);
}

#[test]
fn refuses_to_overwrite_a_key() {
    let dir = tempfile::tempdir().unwrap();
    let stem = dir.path().join("K");
    std::fs::write(dir.path().join("K.pub"), "old").unwrap();
    let err = write_key_pair(&stem).unwrap_err();
    assert!(
        matches!(&err, TrustError::Io { path, .. } if *path == dir.path().join("K.pub")),
        "{err}"
    );
    assert!(!dir.path().join("K.pem").exists());
}

#[test]
fn reads_openssl_sec1_private_keys() {
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("sec1.pem");
    let public = dir.path().join("sec1.pub");
    std::fs::write(&private, OPENSSL_SEC1).unwrap();
    std::fs::write(&public, OPENSSL_PUB).unwrap();
    let key = SigningKey::read(&private).unwrap();
    assert_eq!(key.public_key(), PublicKey::read(&public).unwrap());
    assert_eq!(key.public_key().to_pem(), OPENSSL_PUB);
}

#[test]
fn refuses_unusable_keys_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, &str, bool, &str); 4] = [
        (
            "enc.pem",
            OPENSSL_ENCRYPTED,
            true,
            "encrypted private keys are not supported",
        ),
        (
            "p384.pub",
            OPENSSL_P384_PUB,
            false,
            "not a P-256 SubjectPublicKeyInfo public key",
        ),
        (
            "pub-as-private.pem",
            OPENSSL_PUB,
            true,
            "not a P-256 PKCS#8 private key",
        ),
        (
            "garbage.pub",
            "hello",
            false,
            "not a P-256 SubjectPublicKeyInfo public key",
        ),
    ];
    for (name, text, private, reason) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let err = if private {
            SigningKey::read(&path).unwrap_err()
        } else {
            PublicKey::read(&path).unwrap_err()
        };
        assert!(
            matches!(&err, TrustError::Key { path: p, .. } if *p == path),
            "{err}"
        );
        let message = err.to_string();
        assert!(
            message.starts_with(&format!("{}: not a usable key: ", path.display())),
            "{message}"
        );
        assert!(message.contains(reason), "{message}");
    }
    let missing = dir.path().join("missing.pub");
    let err = PublicKey::read(&missing).unwrap_err();
    assert!(
        matches!(&err, TrustError::Io { path, action: "read", .. } if *path == missing),
        "{err}"
    );
}
