//! [`PcapNgWriter`]: minimal pcapng files — one section, one Interface Description Block per
//! interface (link type, snap length, nanosecond `if_tsresol`), Enhanced Packet Blocks.
//!
//! Spec: draft-ietf-opsawg-pcapng (<https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html>).
//! Written little-endian. No options are copied from anywhere: the only options written are
//! `shb_userappl` (§4.1, when given) and `if_tsresol = 9` (§4.2), so a rewritten capture carries
//! no interface names, addresses or comments of the original.

use std::io::{self, Write};

/// Section Header Block type.
const SHB: u32 = 0x0a0d_0d0a;
/// Interface Description Block type.
const IDB: u32 = 1;
/// Enhanced Packet Block type.
const EPB: u32 = 6;
/// Byte-order magic (§4.1).
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;
/// `shb_userappl` option code (§4.1).
const OPT_SHB_USERAPPL: u16 = 4;
/// `if_tsresol` option code (§4.2).
const OPT_IF_TSRESOL: u16 = 9;
/// `if_tsresol` value for nanoseconds (10^-9).
const TSRESOL_NS: u8 = 9;

/// Writes a pcapng file (one section, little-endian, nanosecond timestamps) to `W`.
///
/// Interfaces are declared with [`PcapNgWriter::add_interface`] (an IDB is written at once, so
/// interfaces may be added between packets, as §4.2 allows) and packets name theirs by the id
/// it returned.
#[derive(Debug)]
pub struct PcapNgWriter<W: Write> {
    out: W,
    /// Snap length of each declared interface, by id.
    snaplens: Vec<u32>,
    count: u64,
    bytes: u64,
    /// Reused block buffer.
    block: Vec<u8>,
}

impl<W: Write> PcapNgWriter<W> {
    /// Writes the Section Header Block (section length unknown: -1), with `shb_userappl` set to
    /// `application` unless it is empty.
    ///
    /// # Errors
    /// Any I/O error from `out`.
    pub fn new(out: W, application: &str) -> io::Result<Self> {
        let mut w = PcapNgWriter {
            out,
            snaplens: Vec::new(),
            count: 0,
            bytes: 0,
            block: Vec::with_capacity(256),
        };
        let mut body = Vec::with_capacity(32 + application.len());
        body.extend_from_slice(&BYTE_ORDER_MAGIC.to_le_bytes());
        body.extend_from_slice(&1u16.to_le_bytes()); // major version
        body.extend_from_slice(&0u16.to_le_bytes()); // minor version
        body.extend_from_slice(&(-1i64).to_le_bytes()); // section length: not specified
        if !application.is_empty() {
            push_option(&mut body, OPT_SHB_USERAPPL, application.as_bytes());
            push_option(&mut body, 0, &[]); // opt_endofopt
        }
        w.write_block(SHB, &body, &[])?;
        Ok(w)
    }

    /// Declares an interface of `linktype` whose frames were cut at `snaplen` bytes (0: no
    /// limit) and returns its id (0, 1, 2… in order of declaration).
    ///
    /// # Errors
    /// Any I/O error from the writer; `InvalidInput` for a link type above 65535 (the IDB
    /// field has 16 bits).
    pub fn add_interface(&mut self, linktype: u32, snaplen: u32) -> io::Result<u32> {
        let linktype = u16::try_from(linktype).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("link type {linktype} does not fit a pcapng interface block"),
            )
        })?;
        let id = u32::try_from(self.snaplens.len()).map_err(|_| {
            io::Error::new(io::ErrorKind::InvalidInput, "too many pcapng interfaces")
        })?;
        let mut body = Vec::with_capacity(24);
        body.extend_from_slice(&linktype.to_le_bytes());
        body.extend_from_slice(&0u16.to_le_bytes()); // reserved
        body.extend_from_slice(&snaplen.to_le_bytes());
        push_option(&mut body, OPT_IF_TSRESOL, &[TSRESOL_NS]);
        push_option(&mut body, 0, &[]);
        self.write_block(IDB, &body, &[])?;
        self.snaplens.push(snaplen);
        Ok(id)
    }

    /// Appends one frame of interface `interface`, captured at `ts_ns` (nanoseconds since the
    /// Unix epoch; times before 1970 are written as 0), whose length on the wire was `orig_len`
    /// (at least the frame's length). The frame is written whole, even when longer than the
    /// interface's snap length (readers accept such records; cutting would change them).
    ///
    /// # Errors
    /// Any I/O error from the writer; `InvalidInput` for an interface not declared.
    pub fn write(
        &mut self,
        interface: u32,
        ts_ns: i64,
        frame: &[u8],
        orig_len: u32,
    ) -> io::Result<()> {
        if usize::try_from(interface)
            .ok()
            .and_then(|i| self.snaplens.get(i))
            .is_none()
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("pcapng interface {interface} was not declared"),
            ));
        }
        let caplen = u32::try_from(frame.len())
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame longer than 4 GiB"))?;
        let ts = u64::try_from(ts_ns).unwrap_or(0);
        let mut head = [0u8; 20];
        let fields = [
            interface,
            (ts >> 32) as u32,
            ts as u32,
            caplen,
            orig_len.max(caplen),
        ];
        for (dst, v) in head.chunks_exact_mut(4).zip(fields) {
            dst.copy_from_slice(&v.to_le_bytes());
        }
        self.write_block(EPB, &head, frame)?;
        self.count += 1;
        Ok(())
    }

    /// Packets written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Bytes written so far, every block included.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Flushes and returns the writer.
    ///
    /// # Errors
    /// Any I/O error from the flush.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    /// Writes one block: type, total length, `head` then `data` padded to 4 bytes, total length.
    fn write_block(&mut self, block_type: u32, head: &[u8], data: &[u8]) -> io::Result<()> {
        let body = head.len() + data.len();
        let padded = (body + 3) & !3;
        let total = u32::try_from(12 + padded)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "pcapng block too long"))?;
        self.block.clear();
        self.block.extend_from_slice(&block_type.to_le_bytes());
        self.block.extend_from_slice(&total.to_le_bytes());
        self.block.extend_from_slice(head);
        self.block.extend_from_slice(data);
        self.block.resize(8 + padded, 0);
        self.block.extend_from_slice(&total.to_le_bytes());
        self.out.write_all(&self.block)?;
        self.bytes += u64::from(total);
        Ok(())
    }
}

/// Appends an option (code, length, value padded to 4 bytes).
fn push_option(body: &mut Vec<u8>, code: u16, value: &[u8]) {
    let len = u16::try_from(value.len()).unwrap_or(u16::MAX);
    body.extend_from_slice(&code.to_le_bytes());
    body.extend_from_slice(&len.to_le_bytes());
    body.extend_from_slice(value.get(..usize::from(len)).unwrap_or(value));
    let padded = (usize::from(len) + 3) & !3;
    body.resize(body.len() + padded - usize::from(len), 0);
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::{CaptureFormat, FileReader, LinkType, PacketSource};

    #[test]
    fn interfaces_times_and_lengths_read_back() {
        let mut w = PcapNgWriter::new(Vec::new(), "custos test").unwrap();
        let eth = w.add_interface(1, 0).unwrap();
        w.write(eth, 1_700_000_000_123_456_789, &[1, 2, 3], 60)
            .unwrap();
        let raw = w.add_interface(101, 4).unwrap();
        w.write(raw, 1_700_000_001_000_000_001, &[9; 7], 7).unwrap();
        w.write(eth, 5, &[7; 8], 8).unwrap();
        assert_eq!((eth, raw, w.count()), (0, 1, 3));
        let bytes = w.finish().unwrap();
        assert_eq!(bytes.len() % 4, 0);
        let mut r = FileReader::from_vec(bytes, "written.pcapng").unwrap();
        assert_eq!(r.format(), CaptureFormat::PcapNg);
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(
            (p.ts, p.linktype, p.data, p.orig_len, p.interface),
            (
                1_700_000_000_123_456_789,
                LinkType::ETHERNET,
                &[1u8, 2, 3][..],
                60,
                0
            )
        );
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(
            (p.ts, p.linktype, p.data, p.orig_len, p.interface),
            (
                1_700_000_001_000_000_001,
                LinkType::RAW,
                &[9u8; 7][..],
                7,
                1
            )
        );
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!((p.ts, p.data.len(), p.interface), (5, 8, 0));
        assert!(r.next_packet().unwrap().is_none());
    }

    #[test]
    fn undeclared_interface_is_refused() {
        let mut w = PcapNgWriter::new(Vec::new(), "").unwrap();
        let err = w.write(0, 0, &[0], 1).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(w.add_interface(70_000, 0).is_err());
    }

    #[test]
    fn times_before_1970_are_written_as_zero() {
        let mut w = PcapNgWriter::new(Vec::new(), "").unwrap();
        w.add_interface(1, 0).unwrap();
        w.write(0, -5, &[0], 1).unwrap();
        let mut r = FileReader::from_vec(w.finish().unwrap(), "t.pcapng").unwrap();
        assert_eq!(r.next_packet().unwrap().unwrap().ts, 0);
    }
}
