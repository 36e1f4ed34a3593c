//! The crate's error type: what went wrong, in which source, at which byte and packet.

use std::fmt;

/// A capture failure: the source, where in it, and what.
///
/// `offset` is the byte offset (in the decompressed stream) of the record or block that could not
/// be read; `packet_index` is the index the next packet would have had, i.e. the number of packets
/// yielded successfully before the damage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
#[error("{file}: {kind} at byte offset {offset} (packet {packet_index})")]
pub struct CaptureError {
    /// The source's display name: file path, `-` for stdin, or interface name.
    pub file: String,
    /// Byte offset of the damaged record or block (0 for open-time and live errors).
    pub offset: u64,
    /// Number of packets yielded before the error.
    pub packet_index: u64,
    /// What went wrong.
    #[source]
    pub kind: CaptureErrorKind,
}

impl CaptureError {
    /// Builds an error for `file` at `offset` after `packet_index` packets.
    #[cold]
    pub fn new(file: &str, offset: u64, packet_index: u64, kind: CaptureErrorKind) -> Self {
        CaptureError {
            file: file.to_owned(),
            offset,
            packet_index,
            kind,
        }
    }
}

/// The kinds of capture failure.
#[derive(Debug)]
#[non_exhaustive]
pub enum CaptureErrorKind {
    /// Reading the source failed (also gzip decompression errors).
    Io(std::io::Error),
    /// The source has zero bytes.
    Empty,
    /// The first four bytes are neither a pcap nor a pcapng magic number (nor gzip).
    UnknownFormat {
        /// The first four bytes, read big-endian.
        magic: u32,
    },
    /// The source ended inside a header, record or block.
    Truncated {
        /// Bytes the record or block needs, counted from its start.
        needed: u64,
        /// Bytes the source still had from that start.
        available: u64,
    },
    /// A record or block declares a length above the reader's cap ([`crate::MAX_RECORD_LEN`]).
    RecordTooLarge {
        /// The declared length in bytes.
        len: u64,
        /// The cap in bytes.
        max: u64,
    },
    /// A pcapng block is structurally invalid; `what` names the field.
    BadBlock {
        /// The field or rule that failed, e.g. "trailing block total length".
        what: &'static str,
    },
    /// A pcapng packet refers to an interface no Interface Description Block declared in its section.
    UnknownInterface {
        /// The interface id found in the packet block.
        id: u32,
    },
    /// A pcapng Section Header Block has a major version other than 1.
    UnsupportedVersion {
        /// Major version found.
        major: u16,
        /// Minor version found.
        minor: u16,
    },
    /// The live interface does not exist.
    NoSuchInterface,
    /// The live interface's channel is not an Ethernet (layer 2) channel.
    UnsupportedChannel,
}

impl fmt::Display for CaptureErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureErrorKind::Io(e) => write!(f, "i/o error: {e}"),
            CaptureErrorKind::Empty => f.write_str("empty file"),
            CaptureErrorKind::UnknownFormat { magic } => {
                write!(f, "unknown capture format (magic {magic:#010x})")
            }
            CaptureErrorKind::Truncated { needed, available } => {
                write!(
                    f,
                    "truncated record: needs {needed} bytes, {available} available"
                )
            }
            CaptureErrorKind::RecordTooLarge { len, max } => {
                write!(f, "record length {len} exceeds the cap of {max} bytes")
            }
            CaptureErrorKind::BadBlock { what } => write!(f, "invalid pcapng block: bad {what}"),
            CaptureErrorKind::UnknownInterface { id } => {
                write!(f, "packet refers to undeclared interface {id}")
            }
            CaptureErrorKind::UnsupportedVersion { major, minor } => {
                write!(f, "unsupported pcapng version {major}.{minor}")
            }
            CaptureErrorKind::NoSuchInterface => f.write_str("no such interface"),
            CaptureErrorKind::UnsupportedChannel => f.write_str("not an ethernet channel"),
        }
    }
}

impl std::error::Error for CaptureErrorKind {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CaptureErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for CaptureErrorKind {
    fn from(e: std::io::Error) -> Self {
        CaptureErrorKind::Io(e)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn display_names_file_offset_and_packet() {
        let e = CaptureError::new(
            "x.pcap",
            40,
            2,
            CaptureErrorKind::Truncated {
                needed: 16,
                available: 3,
            },
        );
        assert_eq!(
            e.to_string(),
            "x.pcap: truncated record: needs 16 bytes, 3 available at byte offset 40 (packet 2)"
        );
    }
}
