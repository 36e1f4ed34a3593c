//! A minimal pcap writer (nanosecond timestamps, Ethernet link type): the lab writes its own
//! capture so the packet index in the labels file is exactly the record number in the file.

use std::io::{self, Write};

/// Magic number of a nanosecond-resolution pcap file.
const MAGIC_NS: u32 = 0xa1b2_3c4d;
/// LINKTYPE_ETHERNET.
const LINKTYPE_ETHERNET: u32 = 1;

/// Writes pcap records to `W`.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    snaplen: u32,
    count: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header.
    ///
    /// # Errors
    /// Any I/O error from `out`.
    pub fn new(mut out: W, snaplen: u32) -> io::Result<Self> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&MAGIC_NS.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes());
        h.extend_from_slice(&0u32.to_le_bytes());
        h.extend_from_slice(&snaplen.to_le_bytes());
        h.extend_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
        out.write_all(&h)?;
        Ok(PcapWriter {
            out,
            snaplen,
            count: 0,
        })
    }

    /// Appends one frame captured at `ts_ns` (nanoseconds since the Unix epoch), cut to the
    /// snap length.
    ///
    /// # Errors
    /// Any I/O error from the writer.
    pub fn write(&mut self, ts_ns: i64, frame: &[u8]) -> io::Result<()> {
        let secs = u32::try_from(ts_ns.div_euclid(1_000_000_000)).unwrap_or(0);
        let nanos = u32::try_from(ts_ns.rem_euclid(1_000_000_000)).unwrap_or(0);
        let orig = u32::try_from(frame.len()).unwrap_or(u32::MAX);
        let incl = orig.min(self.snaplen);
        let kept = frame.get(..incl as usize).unwrap_or(frame);
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&secs.to_le_bytes());
        h[4..8].copy_from_slice(&nanos.to_le_bytes());
        h[8..12].copy_from_slice(&incl.to_le_bytes());
        h[12..16].copy_from_slice(&orig.to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(kept)?;
        self.count += 1;
        Ok(())
    }

    /// Records written so far.
    pub fn count(&self) -> u64 {
        self.count
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
