//! [`FileReader`]: pcap / pcapng from a file, stdin, any reader or bytes, gzip or not.

use std::fs::File;
use std::io::{self, Cursor, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

use crate::buffer::{Whole, Window};
use crate::error::{CaptureError, CaptureErrorKind};
use crate::{pcap, pcapng, Packet, PacketSource};

/// The container format of a capture file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CaptureFormat {
    /// Classic libpcap (magic `a1b2c3d4` for microseconds, `a1b23c4d` for nanoseconds).
    Pcap {
        /// Timestamps are in nanoseconds (else microseconds).
        nanos: bool,
        /// The file was written big-endian.
        big_endian: bool,
    },
    /// Kuznetsov's modified pcap (magic `a1b2cd34`, 24-byte record headers, microseconds).
    PcapModified {
        /// The file was written big-endian.
        big_endian: bool,
    },
    /// pcapng; byte order is per section.
    PcapNg,
}

enum Parser {
    Pcap(pcap::State),
    PcapNg(pcapng::State),
}

/// Reads packets from a pcap or pcapng capture, optionally gzip-compressed.
///
/// Regular uncompressed files are memory-mapped and packets borrow the map (zero copy). Gzip
/// input, stdin and [`FileReader::open_stream`] readers go through one reusable buffer
/// ([`crate::STREAM_BUFFER_LEN`] bytes, grown only for a single larger record, never beyond
/// [`crate::MAX_RECORD_LEN`] plus the record header), so memory stays constant for any input size.
/// `next_packet` allocates nothing in steady state.
pub struct FileReader {
    name: String,
    win: Window,
    format: CaptureFormat,
    parser: Parser,
    pos: u64,
    index: u64,
    done: bool,
    gzip: bool,
}

impl std::fmt::Debug for FileReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileReader")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("gzip", &self.gzip)
            .field("memory_mapped", &self.win.is_mapped())
            .field("pos", &self.pos)
            .field("index", &self.index)
            .field("done", &self.done)
            .finish()
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Reads up to `N` bytes, stopping early only at end of input.
fn read_prefix<const N: usize>(r: &mut dyn Read) -> io::Result<([u8; N], usize)> {
    let mut buf = [0u8; N];
    let mut n = 0;
    while let Some(dst) = buf.get_mut(n..).filter(|d| !d.is_empty()) {
        match r.read(dst) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((buf, n))
}

impl FileReader {
    /// Opens a capture file; `-` means stdin.
    ///
    /// Gzip is detected by its magic bytes (`1f 8b`), not by the file name; pcap versus pcapng by
    /// their magic numbers. Regular uncompressed files are memory-mapped; everything else streams.
    ///
    /// # Errors
    /// [`CaptureErrorKind::Open`] if the file cannot be opened (or is a directory),
    /// [`CaptureErrorKind::Io`] if it cannot be read, [`CaptureErrorKind::Empty`] for zero
    /// bytes, [`CaptureErrorKind::UnknownFormat`] for a foreign magic, and
    /// [`CaptureErrorKind::Truncated`] when the input ends inside the magic or the pcap file
    /// header. All at offset 0, packet 0.
    pub fn open(path: &Path) -> Result<FileReader, CaptureError> {
        let name = path.to_string_lossy().into_owned();
        if path.as_os_str() == "-" {
            return FileReader::open_stream(Box::new(io::stdin()), &name);
        }
        let open_err = |e: io::Error| CaptureError::new(&name, 0, 0, CaptureErrorKind::Open(e));
        let file = File::open(path).map_err(open_err)?;
        let meta = file.metadata().map_err(open_err)?;
        if meta.is_dir() {
            // Opening a directory succeeds on Unix; reading it would fail with a read error.
            return Err(open_err(io::ErrorKind::IsADirectory.into()));
        }
        if !meta.is_file() {
            return FileReader::open_stream(Box::new(file), &name);
        }
        if meta.len() == 0 {
            return Err(CaptureError::new(&name, 0, 0, CaptureErrorKind::Empty));
        }
        // SAFETY: the map is read-only and private to this reader. The only unsoundness would be
        // another process truncating or rewriting the file while it is mapped (SIGBUS or bytes
        // changing under a borrowed slice); capture files are inputs we do not expect to be
        // modified while read, which is the usual contract of memory-mapping readers.
        let map = match unsafe { memmap2::Mmap::map(&file) } {
            Ok(m) => m,
            // Some files (procfs, some network filesystems) cannot be mapped: stream them.
            Err(_) => return FileReader::open_stream(Box::new(file), &name),
        };
        if map.get(..2) == Some(&GZIP_MAGIC[..]) {
            drop(map);
            // The mapping did not move the file cursor: the stream starts at byte 0.
            return FileReader::open_stream(Box::new(file), &name);
        }
        FileReader::init(Window::Whole(Whole::Mapped(map)), name, false)
    }

    /// Reads a capture from any reader, through the fixed streaming buffer; gzip is detected and
    /// decompressed. `name` is used in errors and by [`PacketSource::name`].
    ///
    /// # Errors
    /// As for [`FileReader::open`].
    pub fn open_stream(
        mut reader: Box<dyn Read + Send>,
        name: &str,
    ) -> Result<FileReader, CaptureError> {
        let io_err = |e: io::Error| CaptureError::new(name, 0, 0, CaptureErrorKind::Io(e));
        let (prefix, n) = read_prefix::<4>(&mut reader).map_err(io_err)?;
        let head = prefix.get(..n).unwrap_or_default();
        if head.starts_with(&GZIP_MAGIC) {
            let whole = Cursor::new(head.to_vec()).chain(reader);
            let mut gz: Box<dyn Read + Send> = Box::new(MultiGzDecoder::new(whole));
            let (prefix, n) = read_prefix::<4>(&mut gz).map_err(io_err)?;
            let win = Window::stream(gz, prefix.get(..n).unwrap_or_default());
            return FileReader::init(win, name.to_owned(), true);
        }
        FileReader::init(Window::stream(reader, head), name.to_owned(), false)
    }

    /// Reads a capture held in memory (gzip is detected and decompressed as a stream; otherwise
    /// packets borrow `bytes` directly).
    ///
    /// # Errors
    /// As for [`FileReader::open`].
    pub fn from_vec(bytes: Vec<u8>, name: &str) -> Result<FileReader, CaptureError> {
        if bytes.starts_with(&GZIP_MAGIC) {
            return FileReader::open_stream(Box::new(Cursor::new(bytes)), name);
        }
        FileReader::init(Window::Whole(Whole::Owned(bytes)), name.to_owned(), false)
    }

    fn init(mut win: Window, name: String, gzip: bool) -> Result<FileReader, CaptureError> {
        let err = |kind| CaptureError::new(&name, 0, 0, kind);
        let have = win.fill(0, pcap::HEADER_LEN).map_err(|e| err(e.into()))?;
        let truncated = |needed: usize| {
            err(CaptureErrorKind::Truncated {
                needed: needed as u64,
                available: have as u64,
            })
        };
        if have == 0 {
            return Err(err(CaptureErrorKind::Empty));
        }
        let Some(magic) = win.get(0, 4).and_then(|m| <[u8; 4]>::try_from(m).ok()) else {
            return Err(truncated(4));
        };
        let (format, parser, pos) = if u32::from_be_bytes(magic) == pcapng::SHB {
            pcapng::check_first_section(&mut win)
                .map_err(|d| CaptureError::new(&name, d.offset, 0, d.kind))?;
            (
                CaptureFormat::PcapNg,
                Parser::PcapNg(pcapng::State::default()),
                0,
            )
        } else if pcap::detect(magic).is_some() {
            let state = win
                .get(0, pcap::HEADER_LEN)
                .and_then(pcap::State::parse_header)
                .ok_or_else(|| truncated(pcap::HEADER_LEN))?;
            let format = if state.modified {
                CaptureFormat::PcapModified {
                    big_endian: state.big_endian,
                }
            } else {
                CaptureFormat::Pcap {
                    nanos: state.nanos,
                    big_endian: state.big_endian,
                }
            };
            (format, Parser::Pcap(state), pcap::HEADER_LEN as u64)
        } else {
            let head = win
                .get(0, have.min(crate::UNKNOWN_FORMAT_HEAD_LEN))
                .unwrap_or_default()
                .to_vec();
            return Err(err(CaptureErrorKind::UnknownFormat {
                magic: u32::from_be_bytes(magic),
                head,
                gzip,
            }));
        };
        Ok(FileReader {
            name,
            win,
            format,
            parser,
            pos,
            index: 0,
            done: false,
            gzip,
        })
    }

    /// The container format, as detected from the magic number.
    #[inline]
    pub fn format(&self) -> CaptureFormat {
        self.format
    }

    /// Whether the input was gzip-compressed.
    #[inline]
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// Whether packets are borrowed from a memory map (else from the streaming buffer or a vector).
    #[inline]
    pub fn is_memory_mapped(&self) -> bool {
        self.win.is_mapped()
    }

    /// Number of packets yielded so far (the index of the next packet).
    #[inline]
    pub fn packet_count(&self) -> u64 {
        self.index
    }

    /// Byte offset (in the decompressed input) of the next record or block to read.
    #[inline]
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The pcap file header's snapshot length; `None` for pcapng (per interface there).
    #[inline]
    pub fn snaplen(&self) -> Option<u32> {
        match &self.parser {
            Parser::Pcap(s) => Some(s.snaplen),
            Parser::PcapNg(_) => None,
        }
    }

    /// Takes the warnings of what was read so far: input accepted but altered (e.g. a pcapng
    /// time offset beyond the clock's range, whose timestamps saturate). At most 16 per file.
    pub fn take_warnings(&mut self) -> Vec<String> {
        match &mut self.parser {
            Parser::Pcap(_) => Vec::new(),
            Parser::PcapNg(s) => std::mem::take(&mut s.warnings),
        }
    }
}

impl PacketSource for FileReader {
    #[inline]
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        if self.done {
            return Ok(None);
        }
        let res = match &mut self.parser {
            Parser::Pcap(st) => st.next(&mut self.win, &mut self.pos),
            Parser::PcapNg(st) => st.next(&mut self.win, &mut self.pos),
        };
        let index = self.index;
        match res {
            Ok(Some(raw)) => match self.win.get(raw.data_off, raw.caplen) {
                Some(data) => {
                    self.index += 1;
                    Ok(Some(Packet {
                        ts: raw.ts,
                        linktype: raw.linktype,
                        data,
                        orig_len: raw.orig_len,
                        index,
                        offset: raw.record_off,
                        interface: raw.interface,
                    }))
                }
                None => {
                    // Unreachable: the parser made these bytes resident. Report, do not panic.
                    self.done = true;
                    Err(CaptureError::new(
                        &self.name,
                        raw.record_off,
                        index,
                        CaptureErrorKind::Io(io::Error::other("packet bytes not resident")),
                    ))
                }
            },
            Ok(None) => {
                self.done = true;
                Ok(None)
            }
            Err(d) => {
                self.done = true;
                Err(CaptureError::new(&self.name, d.offset, index, d.kind))
            }
        }
    }

    #[inline]
    fn name(&self) -> &str {
        &self.name
    }
}
