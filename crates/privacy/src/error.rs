//! The crate's one error type.
//!
//! Every variant displays its cause in its own message and returns no `source()`, so a
//! caller printing the chain (`{:#}` in the CLI) shows each cause once.

use std::io;
use std::net::IpAddr;
use std::path::PathBuf;

use crate::network::Network;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong while loading keys or policies, or mapping values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `PseudonymKey::write_new` found a file at the path: keys are never overwritten.
    #[error("key file {} already exists; refusing to overwrite it", path.display())]
    KeyFileExists {
        /// The existing file.
        path: PathBuf,
    },
    /// Reading or writing a key file failed.
    #[error("cannot {action} key file {}: {cause}", path.display())]
    KeyFileIo {
        /// The key file.
        path: PathBuf,
        /// What was being done: "create", "write", "read".
        action: &'static str,
        /// The operating system's error.
        cause: io::Error,
    },
    /// A key file may be read by users other than its owner.
    #[error(
        "key file {} is readable by group or others (mode {mode:04o}); run chmod 600 on it",
        path.display()
    )]
    KeyFileMode {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A key file is not in the format `docs/privacy.md` describes.
    #[error("key file {}:{line}: {reason}", path.display())]
    KeyFileFormat {
        /// The key file.
        path: PathBuf,
        /// The 1-based line at fault (the last line when something is missing).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A raw Crypto-PAn key (`--key-hex`) is not 64 hexadecimal digits.
    #[error("invalid Crypto-PAn key: {reason}")]
    KeyHex {
        /// What is wrong.
        reason: String,
    },
    /// A command-line option whose value cannot be used, or no key named: the message says
    /// which option and why.
    #[error("{0}")]
    Usage(String),
    /// The operating system's random number generator failed.
    #[error("cannot generate a key: {cause}")]
    Random {
        /// The generator's error.
        cause: String,
    },
    /// A policy file is not valid TOML or names an unknown field, action or network.
    #[error("policy {}{}: {message}", path.display(), line_suffix(*line))]
    Policy {
        /// The policy file (as given to `Policy::from_toml`).
        path: PathBuf,
        /// The 1-based line at fault, when the parser knows it.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
    /// A policy file cannot be read.
    #[error("cannot read policy {}: {cause}", path.display())]
    PolicyIo {
        /// The policy file.
        path: PathBuf,
        /// The operating system's error.
        cause: io::Error,
    },
    /// An address mapped (pseudonymised or truncated) into a network that the policy keeps
    /// unchanged, where a reader could not tell it from a real address: refused.
    #[error(
        "pseudonym {pseudonym} falls in kept network {network}: kept networks must not \
         collide with pseudonyms (refused)"
    )]
    Collision {
        /// The address the mapping produced.
        pseudonym: IpAddr,
        /// The kept network it falls in.
        network: Network,
    },
    /// `ip_inverse` was given an address that no mapping under this key and policy produces.
    #[error("{address} is not a pseudonym: its original would lie in kept network {network}")]
    NotAPseudonym {
        /// The address given.
        address: IpAddr,
        /// The kept network its inverse falls in.
        network: Network,
    },
    /// A value given as text is not of the kind it was declared to be.
    #[error("invalid {kind} {value:?}: {reason}")]
    InvalidValue {
        /// The expected kind ("ip", "mac", "name").
        kind: &'static str,
        /// The value given.
        value: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// `name_inverse` was given a string that is not a name pseudonym made under this key.
    #[error("{token:?} is not a name pseudonym under this key: {reason}")]
    NameToken {
        /// The string given.
        token: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// `anonymize` cannot apply the policy to packet headers.
    #[error("cannot anonymize a capture: {reason}")]
    AnonymizePolicy {
        /// Why not.
        reason: &'static str,
    },
    /// `anonymize`'s output file exists and overwriting was not asked for.
    #[error("output {} already exists; refusing to overwrite it", path.display())]
    OutputExists {
        /// The existing file.
        path: PathBuf,
    },
    /// `anonymize`'s input and output are the same file.
    #[error("output {} is the input capture", path.display())]
    OutputIsInput {
        /// The file.
        path: PathBuf,
    },
    /// Writing `anonymize`'s output failed.
    #[error("cannot {action} {}: {cause}", path.display())]
    OutputIo {
        /// The file being written (the temporary file beside the output, or the output).
        path: PathBuf,
        /// What was being done: "create", "write".
        action: &'static str,
        /// The operating system's error.
        cause: io::Error,
    },
    /// `anonymize`'s input capture cannot be opened.
    #[error("{cause}")]
    Capture {
        /// The reader's error (it names the file and byte offset).
        cause: custos_capture::CaptureError,
    },
    /// A packet could not be anonymised: nothing was written.
    #[error("{}: packet {index}: {cause}", path.display())]
    Packet {
        /// The input capture.
        path: PathBuf,
        /// The packet's 0-based index.
        index: u64,
        /// Why (a pseudonym collision, [`Error::Collision`]).
        cause: Box<Error>,
    },
    /// An analysis output file cannot be read or written (`pseudonymize_outputs`).
    #[error("cannot {action} {}: {cause}", path.display())]
    OutputsIo {
        /// The file or folder.
        path: PathBuf,
        /// What was being done: "read", "write".
        action: &'static str,
        /// The operating system's error.
        cause: io::Error,
    },
    /// A record of an analysis output is not valid JSON (`pseudonymize_outputs`).
    #[error("{}:{line}: {reason}", path.display())]
    OutputsLine {
        /// The output file.
        path: PathBuf,
        /// The 1-based line at fault.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// `:LINE` when the line is known, nothing otherwise.
fn line_suffix(line: Option<usize>) -> String {
    line.map(|line| format!(":{line}")).unwrap_or_default()
}
