//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// The shared corpus directory, or `None` (test skipped) when it is absent and not required.
pub fn shared() -> Option<PathBuf> {
    custos_test_support::shared()
}

/// Runs the built `custos` binary with `args`.
pub fn custos(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_custos"))
        .args(args)
        .output()
        .expect("run custos binary")
}

/// A parsed Zeek TSV log: field names and rows.
pub struct ZeekLog {
    pub fields: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl ZeekLog {
    pub fn parse(text: &str) -> ZeekLog {
        let mut fields = Vec::new();
        let mut rows = Vec::new();
        for line in text.lines() {
            if let Some(f) = line.strip_prefix("#fields\t") {
                fields = f.split('\t').map(str::to_string).collect();
            } else if line.starts_with('#') || line.is_empty() {
                continue;
            } else {
                rows.push(line.split('\t').map(str::to_string).collect());
            }
        }
        ZeekLog { fields, rows }
    }

    pub fn col(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f == name)
    }
}

/// An Ethernet + IPv4 frame builder from `src` to `dst` with these MAC addresses
/// (identification 1, don't fragment, TTL 64).
pub fn ipv4_frame(
    macs: ([u8; 6], [u8; 6]),
    src: [u8; 4],
    dst: [u8; 4],
) -> custos_decode::wire::FrameBuilder {
    use custos_decode::wire::{EthernetRepr, FrameBuilder, Ipv4Repr, Mac};
    let ethernet = EthernetRepr {
        src_addr: Mac(macs.0),
        dst_addr: Mac(macs.1),
        ..EthernetRepr::default()
    };
    let ip = Ipv4Repr {
        src_addr: std::net::Ipv4Addr::from(src),
        dst_addr: std::net::Ipv4Addr::from(dst),
        ident: 1,
        dont_frag: true,
        ..Ipv4Repr::default()
    };
    FrameBuilder::new(ethernet, ip)
}
