//! The crate's error type: what went wrong, in which source, at which byte and packet.
//!
//! # One message, the cause once
//!
//! [`CaptureError`]'s `Display` is the whole message: the source's name, what went wrong
//! (an OS error's own text included) and, for damage inside the input, where. So neither it
//! nor [`CaptureErrorKind`] returns a [`source`](std::error::Error::source): a caller that
//! prints the cause chain (`{:#}` with `anyhow`) shows each cause exactly once, and one that
//! prints only `{}` (a warning, `stats.json`) still shows all of it. This is rustls's rule for
//! its error types: an error either displays its cause or returns it from `source()`, never
//! both. The OS error stays available, typed, in [`CaptureErrorKind::Open`] and
//! [`CaptureErrorKind::Io`].
//!
//! Failures to open a source, or to recognise it, say so without a position (`x.pcap: cannot
//! open: No such file or directory (os error 2)`); everything else names the byte offset and
//! packet (`x.pcap: truncated record: needs 16 bytes, 3 available at byte offset 40 (packet
//! 2)`).

use std::fmt;

/// How many leading bytes [`CaptureErrorKind::UnknownFormat`] keeps to show what the input is.
pub const UNKNOWN_FORMAT_HEAD_LEN: usize = 8;

/// A capture failure: the source, where in it, and what.
///
/// `offset` is the byte offset (in the decompressed stream) of the record or block that could not
/// be read; `packet_index` is the index the next packet would have had, i.e. the number of packets
/// yielded successfully before the damage. Its `Display` is the complete message, cause included
/// (see the module docs); `source()` is `None`.
#[derive(Debug)]
#[non_exhaustive]
pub struct CaptureError {
    /// The source's display name: file path, `-` for stdin, or interface name.
    pub file: String,
    /// Byte offset of the damaged record or block (0 for open-time and live errors).
    pub offset: u64,
    /// Number of packets yielded before the error.
    pub packet_index: u64,
    /// What went wrong.
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

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (file, offset, packet) = (&self.file, self.offset, self.packet_index);
        match &self.kind {
            // The position first: the OS error's text ends the message.
            CaptureErrorKind::Io(e) => {
                write!(
                    f,
                    "{file}: read error at byte offset {offset} (packet {packet}): {e}"
                )
            }
            kind if kind.is_open_error() => write!(f, "{file}: {kind}"),
            kind => write!(
                f,
                "{file}: {kind} at byte offset {offset} (packet {packet})"
            ),
        }
    }
}

/// The message is complete (see the module docs): no source to return.
impl std::error::Error for CaptureError {}

/// The kinds of capture failure.
#[derive(Debug)]
#[non_exhaustive]
pub enum CaptureErrorKind {
    /// The source could not be opened: a missing file, no permission, a directory, or (live) a
    /// socket the OS refused (typically missing `CAP_NET_RAW`).
    Open(std::io::Error),
    /// Reading the source failed (also gzip decompression errors).
    Io(std::io::Error),
    /// The source has zero bytes.
    Empty,
    /// The first four bytes are neither a pcap nor a pcapng magic number (nor gzip): the input
    /// is some other kind of file.
    UnknownFormat {
        /// The first four bytes, read big-endian.
        magic: u32,
        /// The first bytes of the input (after gzip decompression when `gzip`), at most
        /// [`UNKNOWN_FORMAT_HEAD_LEN`], shown escaped to say what the input is.
        head: Vec<u8>,
        /// The input was gzip-compressed: `magic` and `head` are of its decompressed content.
        gzip: bool,
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

impl CaptureErrorKind {
    /// Whether the source could not be opened or recognised at all: such errors have no
    /// meaningful position, and [`CaptureError`] shows none.
    fn is_open_error(&self) -> bool {
        matches!(
            self,
            CaptureErrorKind::Open(_)
                | CaptureErrorKind::Empty
                | CaptureErrorKind::UnknownFormat { .. }
                | CaptureErrorKind::NoSuchInterface
                | CaptureErrorKind::UnsupportedChannel
        )
    }
}

impl fmt::Display for CaptureErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaptureErrorKind::Open(e) => write!(f, "cannot open: {e}"),
            CaptureErrorKind::Io(e) => write!(f, "read error: {e}"),
            CaptureErrorKind::Empty => f.write_str("empty file"),
            CaptureErrorKind::UnknownFormat { magic, head, gzip } => {
                let what = if *gzip {
                    "gzip-compressed, but not a pcap or pcapng file inside"
                } else {
                    "not a pcap or pcapng file"
                };
                // `escape_ascii` keeps printable ASCII and escapes the rest (`\n`, `\x00`),
                // so a binary or hostile file cannot put control characters on the terminal.
                let shown = head.get(..UNKNOWN_FORMAT_HEAD_LEN).unwrap_or(head);
                write!(
                    f,
                    "{what}: starts with \"{}\" (magic {magic:#010x})",
                    shown.escape_ascii()
                )
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

/// The message includes the OS error's text (see the module docs): no source to return.
impl std::error::Error for CaptureErrorKind {}

impl From<std::io::Error> for CaptureErrorKind {
    fn from(e: std::io::Error) -> Self {
        CaptureErrorKind::Io(e)
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use std::error::Error as _;
    use std::io;

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

    #[test]
    fn open_error_shows_the_os_error_once_and_no_position() {
        let e = CaptureError::new(
            "nosuch.pcap",
            0,
            0,
            CaptureErrorKind::Open(io::Error::from_raw_os_error(2)),
        );
        assert_eq!(
            e.to_string(),
            "nosuch.pcap: cannot open: No such file or directory (os error 2)"
        );
        assert!(e.source().is_none(), "the message already holds the cause");
        assert!(
            e.kind.source().is_none(),
            "the message already holds the cause"
        );
    }

    #[test]
    fn read_error_names_the_position_before_the_os_error() {
        let e = CaptureError::new(
            "x.pcap.gz",
            4096,
            7,
            CaptureErrorKind::Io(io::Error::other("corrupt deflate stream")),
        );
        assert_eq!(
            e.to_string(),
            "x.pcap.gz: read error at byte offset 4096 (packet 7): corrupt deflate stream"
        );
        assert!(e.source().is_none());
    }

    #[test]
    fn unknown_format_shows_the_escaped_head_and_the_magic() {
        let kind = |head: &[u8], gzip| CaptureErrorKind::UnknownFormat {
            magic: u32::from_be_bytes([head[0], head[1], head[2], head[3]]),
            head: head.to_vec(),
            gzip,
        };
        let e = CaptureError::new("notes.txt", 0, 0, kind(b"hello wo", false));
        assert_eq!(
            e.to_string(),
            "notes.txt: not a pcap or pcapng file: starts with \"hello wo\" (magic 0x68656c6c)"
        );
        let e = CaptureError::new("a.out", 0, 0, kind(b"\x7fELF\x02\x01\"\n", false));
        assert_eq!(
            e.to_string(),
            "a.out: not a pcap or pcapng file: starts with \"\\x7fELF\\x02\\x01\\\"\\n\" (magic 0x7f454c46)"
        );
        let e = CaptureError::new("x.tar.gz", 0, 0, kind(b"data", true));
        assert_eq!(
            e.to_string(),
            "x.tar.gz: gzip-compressed, but not a pcap or pcapng file inside: starts with \"data\" (magic 0x64617461)"
        );
    }
}
