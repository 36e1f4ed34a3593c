//! [`PcapWriter`]: classic pcap files with nanosecond timestamps — the one writer used for
//! evidence excerpts, live spool files and the lab's captures.

use std::io::{self, Write};

/// Magic number of a nanosecond-resolution pcap file.
const MAGIC_NS: u32 = 0xa1b2_3c4d;
/// Length of the file header.
pub const FILE_HEADER_LEN: usize = 24;
/// Length of a record header.
pub const RECORD_HEADER_LEN: usize = 16;

/// Writes a pcap file (little-endian, nanosecond timestamps, one link type) to `W`.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    snaplen: u32,
    count: u64,
    bytes: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header for `linktype` and `snaplen`.
    ///
    /// # Errors
    /// Any I/O error from `out`.
    pub fn new(mut out: W, linktype: u32, snaplen: u32) -> io::Result<Self> {
        out.write_all(&file_header(linktype, snaplen))?;
        Ok(PcapWriter {
            out,
            snaplen,
            count: 0,
            bytes: FILE_HEADER_LEN as u64,
        })
    }

    /// Appends one frame captured at `ts_ns` (nanoseconds since the Unix epoch; times outside
    /// pcap's 1970–2106 range are clamped to it) whose length on the wire was `orig_len`
    /// (at least the frame's length); the frame is cut to the snap length.
    ///
    /// # Errors
    /// Any I/O error from the writer.
    pub fn write(&mut self, ts_ns: i64, frame: &[u8], orig_len: u32) -> io::Result<()> {
        let secs = ts_ns
            .div_euclid(1_000_000_000)
            .clamp(0, i64::from(u32::MAX)) as u32;
        let nanos = ts_ns.rem_euclid(1_000_000_000) as u32;
        let len = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        let incl = len.min(self.snaplen);
        let kept = frame.get(..incl as usize).unwrap_or(frame);
        let mut h = [0u8; RECORD_HEADER_LEN];
        for (dst, v) in h
            .chunks_exact_mut(4)
            .zip([secs, nanos, incl, orig_len.max(len)])
        {
            dst.copy_from_slice(&v.to_le_bytes());
        }
        self.out.write_all(&h)?;
        self.out.write_all(kept)?;
        self.count += 1;
        self.bytes += (RECORD_HEADER_LEN + kept.len()) as u64;
        Ok(())
    }

    /// Records written so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Bytes written so far, the file header included.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// The writer.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    /// Flushes and returns the writer.
    ///
    /// # Errors
    /// Any I/O error from the flush.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

/// The 24-byte file header.
fn file_header(linktype: u32, snaplen: u32) -> [u8; FILE_HEADER_LEN] {
    let mut h = [0u8; FILE_HEADER_LEN];
    let fields: [&[u8]; 6] = [
        &MAGIC_NS.to_le_bytes(),
        &2u16.to_le_bytes(),
        &4u16.to_le_bytes(),
        &[0; 8],
        &snaplen.to_le_bytes(),
        &linktype.to_le_bytes(),
    ];
    let mut at = 0;
    for f in fields {
        if let Some(dst) = h.get_mut(at..at + f.len()) {
            dst.copy_from_slice(f);
        }
        at += f.len();
    }
    h
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::{FileReader, PacketSource};

    #[test]
    fn written_file_reads_back_with_times_lengths_and_link_type() {
        let mut w = PcapWriter::new(Vec::new(), 1, 8).unwrap();
        w.write(1_700_000_000_123_456_789, &[1, 2, 3], 3).unwrap();
        w.write(1_700_000_001_000_000_001, &[9; 12], 60).unwrap();
        assert_eq!(w.count(), 2);
        let bytes = w.finish().unwrap();
        assert_eq!(bytes.len(), 24 + 16 + 3 + 16 + 8);
        let dir = std::env::temp_dir().join(format!("custos-writer-{}", std::process::id()));
        std::fs::write(&dir, &bytes).unwrap();
        let mut r = FileReader::open(&dir).unwrap();
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(
            (p.ts, p.data, p.orig_len, p.linktype.0),
            (1_700_000_000_123_456_789, &[1u8, 2, 3][..], 3, 1)
        );
        let p = r.next_packet().unwrap().unwrap();
        assert_eq!(
            (p.ts, p.data.len(), p.orig_len),
            (1_700_000_001_000_000_001, 8, 60)
        );
        assert!(r.next_packet().unwrap().is_none());
        std::fs::remove_file(&dir).unwrap();
    }

    #[test]
    fn times_outside_pcap_range_are_clamped() {
        let mut w = PcapWriter::new(Vec::new(), 1, 64).unwrap();
        w.write(-5, &[0], 1).unwrap();
        let b = w.finish().unwrap();
        assert_eq!(&b[24..28], &0u32.to_le_bytes());
    }
}
