//! Shared helpers: a model directory and its keys.

use std::path::{Path, PathBuf};

use custos_trust::{sign_model, SigningKey};

/// The files of a small model directory, as the issue describes one.
pub const MODEL_FILES: &[(&str, &[u8])] = &[
    ("model.bin", b"\x00\x01kitnet weights\xff"),
    ("model-card.md", b"# Kitsune\nthreshold 0.9\n"),
    ("model-card.json", b"{\"name\":\"kitsune\"}"),
    ("dataset/manifest.json", b"{\"pcaps\":[\"a.pcap\"]}"),
    ("training-config.toml", b"fm_grace = 5000\n"),
];

/// A temporary model directory named `model` holding [`MODEL_FILES`].
pub struct Model {
    _tmp: tempfile::TempDir,
    /// The model directory.
    pub dir: PathBuf,
}

impl Model {
    /// A fresh unsigned model.
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("model");
        for (name, bytes) in MODEL_FILES {
            write(&dir.join(name), bytes);
        }
        Model { _tmp: tmp, dir }
    }

    /// A fresh model signed with a new key, and that key.
    pub fn signed() -> (Self, SigningKey) {
        let model = Model::new();
        let key = SigningKey::generate();
        sign_model(&model.dir, &key).unwrap();
        (model, key)
    }

    /// The model's signature file.
    pub fn signature(&self) -> PathBuf {
        self.dir.join("model.sig")
    }
}

/// Writes `bytes` to `path`, creating its directory.
pub fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// The model's bundle as JSON.
pub fn read_bundle(model: &Model) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(model.signature()).unwrap()).unwrap()
}

/// The DSSE payload of a bundle, decoded.
pub fn payload_of(bundle: &serde_json::Value) -> Vec<u8> {
    use base64::Engine as _;
    let text = bundle["dsseEnvelope"]["payload"].as_str().unwrap();
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap()
}
