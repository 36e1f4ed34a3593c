//! Capture sources for custos: pcap and pcapng files (plain or gzip), stdin, and live Linux
//! interfaces.
//!
//! # Main types
//!
//! - [`PacketSource`] is a lending iterator: [`PacketSource::next_packet`] returns a [`Packet`]
//!   that borrows the source's buffer until the next call.
//! - [`FileReader`] reads pcap (all four classic variants and Kuznetsov's modified format) and
//!   pcapng (multiple sections with their own byte order, multiple interfaces with their own link
//!   type, `if_tsresol` and `if_tsoffset`; Enhanced, Simple and obsolete Packet Blocks). Regular
//!   uncompressed files are memory-mapped; gzip (detected by magic bytes), stdin (`-`) and
//!   [`FileReader::open_stream`] go through a fixed, reused buffer, so memory is constant for any
//!   input size. `next_packet` allocates nothing in steady state.
//! - [`LiveCapture`] reads an interface through `AF_PACKET` (promiscuous, Ethernet link type);
//!   [`LiveOptions`] gives it a stop flag and a packet limit.
//! - [`CaptureError`] says which source, which byte offset and which packet; its
//!   [`CaptureErrorKind`] says what.
//!
//! ```
//! use custos_capture::{FileReader, PacketSource, LinkType};
//! # fn main() -> Result<(), custos_capture::CaptureError> {
//! // A little-endian microsecond pcap with one 2-byte Ethernet record.
//! let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
//! file.extend_from_slice(&[0xff, 0xff, 0, 0, 1, 0, 0, 0]); // snaplen, link type 1
//! file.extend_from_slice(&[1, 0, 0, 0, 5, 0, 0, 0, 2, 0, 0, 0, 60, 0, 0, 0, 0xab, 0xcd]);
//! let mut reader = FileReader::from_vec(file, "example.pcap")?;
//! let p = reader.next_packet()?.expect("one packet");
//! assert_eq!((p.ts, p.linktype, p.data, p.orig_len, p.offset), (1_000_005_000, LinkType::ETHERNET, &[0xab, 0xcd][..], 60, 24));
//! assert!(reader.next_packet()?.is_none());
//! # Ok(()) }
//! ```
//!
//! # Error contract
//!
//! A damaged input yields every packet before the damage, then exactly one `Err`, then `Ok(None)`
//! forever. The error's `offset` is the byte offset (in the decompressed input) of the record or
//! block that could not be read, and its `packet_index` is the number of packets yielded before it
//! (the index the next packet would have had). An input that ends exactly at a record boundary is
//! a clean end; a file with only a header is a clean end with zero packets. Open-time failures
//! (a file that cannot be opened → [`CaptureErrorKind::Open`], zero bytes →
//! [`CaptureErrorKind::Empty`], another kind of file → [`CaptureErrorKind::UnknownFormat`], a
//! truncated pcap file header) are returned by the constructor with offset 0. Lengths above
//! [`MAX_RECORD_LEN`] are damage. Timestamps never overflow: they saturate.
//!
//! An error's `Display` is its whole message, the OS error's text included, and it returns no
//! `source()`: printed with its cause chain it still shows each cause once (see
//! [`CaptureError`]).
//!
//! # What it does not do
//!
//! It does not decode link-layer or higher headers (that is `custos-decode`), write captures,
//! filter (no BPF), seek, or read pcapng options other than `if_tsresol` and `if_tsoffset`.
//! Simple Packet Blocks carry no timestamp: their `ts` is 0. Live capture is Linux-only, has
//! wall-clock timestamps, and does not know the original length of frames cut at its snap length.
//!
//! The parsers are hand-written rather than taken from a crate so that errors carry exact byte
//! offsets, packets are borrowed straight from the memory map, and pcapng's per-interface
//! timestamp scale is precomputed once per interface instead of on every packet.

#![deny(missing_docs)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
#![cfg_attr(
    test,
    allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

mod afpacket;
mod buffer;
mod error;
mod linktype;
mod live;
mod pcap;
mod pcapng;
mod pcapng_writer;
mod reader;
mod writer;

#[cfg(test)]
mod tests;

pub use error::{CaptureError, CaptureErrorKind, UNKNOWN_FORMAT_HEAD_LEN};
pub use linktype::{LinkType, MAX_UNKNOWN_NAMES};
pub use live::{KernelStats, LiveCapture, LiveOptions};
pub use pcapng_writer::PcapNgWriter;
pub use reader::{CaptureFormat, FileReader};
pub use writer::{PcapWriter, FILE_HEADER_LEN, RECORD_HEADER_LEN};

/// Packet time: nanoseconds since the Unix epoch (signed).
pub type Timestamp = i64;

/// Largest record or block length accepted (256 MiB); anything longer is damage.
pub const MAX_RECORD_LEN: u64 = 256 << 20;

/// Initial size of the streaming buffer (1 MiB).
pub const STREAM_BUFFER_LEN: usize = buffer::STREAM_BUF_LEN;

/// One captured frame, borrowed from the reader's buffer until the next call.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    /// Capture time in nanoseconds since the Unix epoch.
    pub ts: Timestamp,
    /// Link-layer header type of `data`.
    pub linktype: LinkType,
    /// The captured bytes.
    pub data: &'a [u8],
    /// Original length on the wire (may exceed `data.len()`).
    pub orig_len: u32,
    /// 0-based packet number within this source (counts every packet record yielded).
    pub index: u64,
    /// Byte offset of the record or block in the (decompressed) file; 0 for live capture.
    pub offset: u64,
    /// pcapng interface id (0 for pcap and live capture).
    pub interface: u32,
}

/// A source of packets: a lending iterator.
pub trait PacketSource {
    /// The next packet, `Ok(None)` at a clean end, `Err` at damage (after which the source yields
    /// `Ok(None)`).
    ///
    /// # Errors
    /// See the crate's error contract.
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError>;

    /// Display name (file path, `-` for stdin, or interface name).
    fn name(&self) -> &str;
}

/// A parsed packet record, positions only (the reader borrows the bytes afterwards).
#[derive(Clone, Copy, Debug)]
pub(crate) struct RawPacket {
    pub(crate) ts: Timestamp,
    pub(crate) linktype: LinkType,
    pub(crate) data_off: u64,
    pub(crate) caplen: usize,
    pub(crate) orig_len: u32,
    pub(crate) interface: u32,
    pub(crate) record_off: u64,
}

/// Damage found by a parser: where and what (the reader adds file name and packet index).
#[derive(Debug)]
pub(crate) struct Damage {
    pub(crate) offset: u64,
    pub(crate) kind: CaptureErrorKind,
}

impl Damage {
    #[cold]
    pub(crate) fn at(offset: u64, kind: CaptureErrorKind) -> Damage {
        Damage { offset, kind }
    }
}
