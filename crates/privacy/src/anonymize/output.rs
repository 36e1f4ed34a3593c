//! The rewritten capture: same container as the input (pcap with the same link type, snap
//! length and timestamp resolution; pcapng with one interface per input interface), written to
//! a temporary file beside the output and renamed into place once complete.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use custos_capture::{CaptureFormat, Packet, PcapNgWriter};

use crate::error::{Error, Result};

/// Nanosecond pcap magic; microsecond pcap magic.
const MAGIC_NS: u32 = 0xa1b2_3c4d;
const MAGIC_US: u32 = 0xa1b2_c3d4;
/// pcapng block types used by the interface scan.
const SHB: u32 = 0x0a0d_0d0a;
const IDB: u32 = 1;
/// Most sections and interfaces the scan remembers (as the reader's own bound).
const MAX_SCANNED: usize = 1 << 16;
/// What `shb_userappl` says.
const APPLICATION: &str = "custos anonymize";

/// Where the output goes and how it is finished.
pub(super) struct Output {
    tmp: PathBuf,
    path: PathBuf,
    force: bool,
    kind: Kind,
}

/// A pcapng section of the input: its byte offset and its interfaces (link type, snap length).
type Section = (u64, Vec<(u32, u32)>);

enum Kind {
    Pcap {
        out: BufWriter<File>,
        nanos: bool,
        snaplen: u32,
        /// Written at the first packet (its link type) or at the end.
        header_written: bool,
    },
    PcapNg {
        out: PcapNgWriter<BufWriter<File>>,
        /// Input (section, interface, link type) to output interface.
        interfaces: HashMap<(usize, u32, u32), u32>,
        /// The input's interfaces per section (link type, snap length), with the byte offset
        /// where each section starts; empty when the input could not be scanned.
        sections: Vec<Section>,
    },
}

impl Output {
    /// Creates the temporary file beside `path` and, for pcapng, writes the section header.
    ///
    /// # Errors
    /// [`Error::OutputExists`] when `path` exists and `force` is off; [`Error::OutputIo`].
    pub(super) fn create(
        path: &Path,
        force: bool,
        input: &Path,
        format: CaptureFormat,
        snaplen: Option<u32>,
    ) -> Result<Output> {
        if !force && fs::symlink_metadata(path).is_ok() {
            return Err(Error::OutputExists {
                path: path.to_path_buf(),
            });
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "capture".into());
        let tmp = path.with_file_name(format!(".{name}.{}.anonymize.tmp", std::process::id()));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(|cause| io_error(&tmp, "create", cause))?;
        let out = BufWriter::with_capacity(1 << 17, file);
        let kind = match format {
            CaptureFormat::PcapNg => Kind::PcapNg {
                out: PcapNgWriter::new(out, APPLICATION)
                    .map_err(|cause| io_error(&tmp, "write", cause))?,
                interfaces: HashMap::new(),
                sections: scan_pcapng(input).unwrap_or_default(),
            },
            CaptureFormat::Pcap { nanos, .. } => Kind::Pcap {
                out,
                nanos,
                snaplen: snaplen.unwrap_or(262_144),
                header_written: false,
            },
            // Kuznetsov's modified pcap and anything newer: classic microsecond pcap.
            _ => Kind::Pcap {
                out,
                nanos: false,
                snaplen: snaplen.unwrap_or(262_144),
                header_written: false,
            },
        };
        Ok(Output {
            tmp,
            path: path.to_path_buf(),
            force,
            kind,
        })
    }

    /// Appends `frame` (the rewrite of `packet`'s bytes) with `packet`'s time and lengths.
    ///
    /// # Errors
    /// [`Error::OutputIo`].
    pub(super) fn write(&mut self, packet: &Packet<'_>, frame: &[u8]) -> Result<()> {
        let tmp = &self.tmp;
        let res = match &mut self.kind {
            Kind::Pcap {
                out,
                nanos,
                snaplen,
                header_written,
            } => {
                if !*header_written {
                    *header_written = true;
                    let header = pcap_header(*nanos, *snaplen, packet.linktype.0);
                    out.write_all(&header)
                        .map_err(|cause| io_error(tmp, "write", cause))?;
                }
                let secs = packet
                    .ts
                    .div_euclid(1_000_000_000)
                    .clamp(0, i64::from(u32::MAX));
                let ns = packet.ts.rem_euclid(1_000_000_000);
                let frac = if *nanos { ns } else { ns / 1_000 };
                let caplen = u32::try_from(frame.len()).unwrap_or(u32::MAX);
                let mut record = [0u8; 16];
                let fields = [secs as u32, frac as u32, caplen, packet.orig_len];
                for (dst, v) in record.chunks_exact_mut(4).zip(fields) {
                    dst.copy_from_slice(&v.to_le_bytes());
                }
                out.write_all(&record).and_then(|()| out.write_all(frame))
            }
            Kind::PcapNg {
                out,
                interfaces,
                sections,
            } => {
                let section = sections
                    .iter()
                    .rposition(|(start, _)| *start <= packet.offset)
                    .unwrap_or(0);
                let key = (section, packet.interface, packet.linktype.0);
                let id = match interfaces.get(&key) {
                    Some(id) => *id,
                    None => {
                        let snaplen = sections
                            .get(section)
                            .and_then(|(_, ifaces)| ifaces.get(packet.interface as usize))
                            .filter(|(linktype, _)| *linktype == packet.linktype.0)
                            .map_or(0, |(_, snaplen)| *snaplen);
                        let id = out
                            .add_interface(packet.linktype.0, snaplen)
                            .map_err(|cause| io_error(tmp, "write", cause))?;
                        interfaces.insert(key, id);
                        id
                    }
                };
                out.write(id, packet.ts, frame, packet.orig_len)
            }
        };
        res.map_err(|cause| io_error(tmp, "write", cause))
    }

    /// Flushes and moves the file into place.
    ///
    /// # Errors
    /// [`Error::OutputIo`]; [`Error::OutputExists`] when the output appeared meanwhile.
    pub(super) fn finish(self, input: &Path) -> Result<()> {
        let tmp = self.tmp.clone();
        let written = match self.kind {
            Kind::Pcap {
                mut out,
                nanos,
                snaplen,
                header_written,
            } => {
                let mut res = Ok(());
                if !header_written {
                    let linktype = pcap_linktype(input).unwrap_or(1);
                    res = out.write_all(&pcap_header(nanos, snaplen, linktype));
                }
                res.and_then(|()| finish_file(out))
            }
            Kind::PcapNg { out, .. } => out.finish().and_then(finish_file),
        };
        if let Err(cause) = written {
            let _ = fs::remove_file(&tmp);
            return Err(io_error(&tmp, "write", cause));
        }
        if !self.force && fs::symlink_metadata(&self.path).is_ok() {
            let _ = fs::remove_file(&tmp);
            return Err(Error::OutputExists { path: self.path });
        }
        fs::rename(&tmp, &self.path).map_err(|cause| {
            let _ = fs::remove_file(&tmp);
            io_error(&self.path, "create", cause)
        })
    }

    /// Removes the temporary file (the run failed).
    pub(super) fn abandon(self) {
        let tmp = self.tmp.clone();
        drop(self);
        let _ = fs::remove_file(tmp);
    }
}

/// Flushes the buffer. The file is not synced: like tcpdump or editcap, the tool leaves
/// durability to the system (an fsync of a large capture costs more than the rewrite).
fn finish_file(out: BufWriter<File>) -> io::Result<()> {
    out.into_inner().map(drop).map_err(|e| e.into_error())
}

fn io_error(path: &Path, action: &'static str, cause: io::Error) -> Error {
    Error::OutputIo {
        path: path.to_path_buf(),
        action,
        cause,
    }
}

/// A little-endian pcap file header.
fn pcap_header(nanos: bool, snaplen: u32, linktype: u32) -> [u8; 24] {
    let mut h = [0u8; 24];
    let magic = if nanos { MAGIC_NS } else { MAGIC_US };
    let parts: [(usize, &[u8]); 5] = [
        (0, &magic.to_le_bytes()),
        (4, &2u16.to_le_bytes()),
        (6, &4u16.to_le_bytes()),
        (16, &snaplen.to_le_bytes()),
        (20, &linktype.to_le_bytes()),
    ];
    for (at, bytes) in parts {
        if let Some(dst) = h.get_mut(at..at + bytes.len()) {
            dst.copy_from_slice(bytes);
        }
    }
    h
}

/// The link type in an uncompressed pcap file's header (for a capture without packets).
fn pcap_linktype(input: &Path) -> Option<u32> {
    let mut h = [0u8; 24];
    File::open(input).ok()?.read_exact(&mut h).ok()?;
    let magic = <[u8; 4]>::try_from(h.get(..4)?).ok()?;
    let field = <[u8; 4]>::try_from(h.get(20..24)?).ok()?;
    let be = [MAGIC_US, MAGIC_NS, 0xa1b2_cd34].contains(&u32::from_be_bytes(magic));
    let v = if be {
        u32::from_be_bytes(field)
    } else {
        u32::from_le_bytes(field)
    };
    Some(v & 0xffff)
}

/// The interfaces (link type, snap length) of each section of an uncompressed pcapng file,
/// with each section's byte offset. `None` when the file cannot be walked (e.g. gzip): the
/// output then declares snap length 0 (no limit).
fn scan_pcapng(input: &Path) -> Option<Vec<Section>> {
    let mut r = BufReader::new(File::open(input).ok()?);
    let mut sections: Vec<Section> = Vec::new();
    let mut big_endian = false;
    let mut pos = 0u64;
    let mut head = [0u8; 16];
    loop {
        if r.read_exact(&mut head[..8]).is_err() {
            break;
        }
        let word = |b: &[u8], big: bool| -> Option<u32> {
            let a = <[u8; 4]>::try_from(b).ok()?;
            Some(if big {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            })
        };
        let mut consumed = 8u64;
        if word(head.get(..4)?, true)? == SHB {
            r.read_exact(&mut head[8..12]).ok()?;
            consumed = 12;
            big_endian = word(head.get(8..12)?, true)? == 0x1a2b_3c4d;
            if sections.len() >= MAX_SCANNED {
                return None;
            }
            sections.push((pos, Vec::new()));
        } else if sections.is_empty() {
            return None; // not pcapng (gzip, or damaged at the start)
        }
        let block_type = word(head.get(..4)?, big_endian)?;
        let total = u64::from(word(head.get(4..8)?, big_endian)?);
        if total < 12 || total % 4 != 0 {
            return None;
        }
        if block_type == IDB {
            r.read_exact(&mut head[8..16]).ok()?;
            consumed = 16;
            let lt = head.get(8..10)?;
            let linktype = if big_endian {
                u16::from_be_bytes([*lt.first()?, *lt.get(1)?])
            } else {
                u16::from_le_bytes([*lt.first()?, *lt.get(1)?])
            };
            let snaplen = word(head.get(12..16)?, big_endian)?;
            let ifaces = &mut sections.last_mut()?.1;
            if ifaces.len() < MAX_SCANNED {
                ifaces.push((u32::from(linktype), snaplen));
            }
        }
        let skip = i64::try_from(total.checked_sub(consumed)?).ok()?;
        r.seek_relative(skip).ok()?;
        pos += total;
    }
    (!sections.is_empty()).then_some(sections)
}
