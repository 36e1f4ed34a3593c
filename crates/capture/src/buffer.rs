//! The byte window the parsers read from: a memory map (or owned bytes) of the whole input, or a
//! fixed, reusable buffer refilled from a stream.
//!
//! Contract: callers ask for byte ranges by absolute offset with [`Window::fill`] and then borrow
//! them with [`Window::get`]. Offsets passed to `fill` never decrease; a streaming window may drop
//! every byte before the latest `fill` offset, which keeps its memory constant for any input size.

use std::io::{self, Read};

/// Size of the streaming buffer before any growth.
pub(crate) const STREAM_BUF_LEN: usize = 1 << 20;

/// Whole-input bytes: a read-only memory map or a vector.
pub(crate) enum Whole {
    /// A memory-mapped regular file.
    Mapped(memmap2::Mmap),
    /// Bytes handed over by the caller.
    Owned(Vec<u8>),
}

impl Whole {
    #[inline]
    fn bytes(&self) -> &[u8] {
        match self {
            Whole::Mapped(m) => m,
            Whole::Owned(v) => v,
        }
    }
}

/// A streaming window: `buf[..filled]` holds input bytes `base..base + filled`.
pub(crate) struct Stream {
    reader: Box<dyn Read + Send>,
    buf: Vec<u8>,
    base: u64,
    filled: usize,
    eof: bool,
}

/// Where the parsers' bytes come from.
pub(crate) enum Window {
    /// The whole input is addressable (zero copy).
    Whole(Whole),
    /// The input streams through a reusable buffer.
    Stream(Stream),
}

impl Window {
    /// A streaming window over `reader`, with `prefix` (bytes already read from it) in front.
    pub(crate) fn stream(reader: Box<dyn Read + Send>, prefix: &[u8]) -> Window {
        let mut buf = vec![0u8; STREAM_BUF_LEN.max(prefix.len())];
        let filled = prefix.len();
        if let Some(dst) = buf.get_mut(..filled) {
            dst.copy_from_slice(prefix);
        }
        Window::Stream(Stream {
            reader,
            buf,
            base: 0,
            filled,
            eof: false,
        })
    }

    /// Makes input bytes `off..off + len` resident if the input has them, and returns how many of
    /// them are available (less than `len` only at the end of the input).
    ///
    /// # Errors
    /// Read errors of the underlying stream (including decompression errors).
    #[inline]
    pub(crate) fn fill(&mut self, off: u64, len: usize) -> io::Result<usize> {
        match self {
            Window::Whole(w) => {
                let total = w.bytes().len() as u64;
                let left = total.saturating_sub(off);
                Ok(usize::try_from(left).map_or(len, |l| l.min(len)))
            }
            Window::Stream(s) => s.fill(off, len),
        }
    }

    /// Borrows input bytes `off..off + len`, if resident.
    #[inline]
    pub(crate) fn get(&self, off: u64, len: usize) -> Option<&[u8]> {
        let (bytes, rel) = match self {
            Window::Whole(w) => (w.bytes(), off),
            Window::Stream(s) => (s.buf.get(..s.filled)?, off.checked_sub(s.base)?),
        };
        let start = usize::try_from(rel).ok()?;
        bytes.get(start..start.checked_add(len)?)
    }

    /// Whether this window is a memory map.
    pub(crate) fn is_mapped(&self) -> bool {
        matches!(self, Window::Whole(Whole::Mapped(_)))
    }
}

impl Stream {
    fn fill(&mut self, off: u64, len: usize) -> io::Result<usize> {
        let Some(rel) = off.checked_sub(self.base) else {
            return Err(io::Error::other("stream window asked to go backwards"));
        };
        let end = (rel as u128) + (len as u128);
        if end <= self.filled as u128 {
            return Ok(len);
        }
        // Drop everything before `off`.
        if rel >= self.filled as u64 {
            let mut skip = rel - self.filled as u64;
            self.filled = 0;
            self.base = off - skip;
            while skip > 0 && !self.eof {
                let chunk = usize::try_from(skip).map_or(self.buf.len(), |s| s.min(self.buf.len()));
                let n = self.read_into(0, chunk)?;
                skip -= n as u64;
                self.base += n as u64;
            }
            if skip > 0 {
                return Ok(0);
            }
        } else if rel > 0 {
            // `rel < filled` here, so the range is in bounds.
            let rel = rel as usize;
            self.buf.copy_within(rel..self.filled, 0);
            self.filled -= rel;
            self.base = off;
        }
        // Grow only as data actually arrives, so a bogus length in a short input cannot make us
        // allocate the full declared size.
        while self.filled < len && !self.eof {
            if self.filled == self.buf.len() {
                let new_len = self
                    .buf
                    .len()
                    .saturating_mul(2)
                    .min(len)
                    .max(self.filled + 1);
                self.buf.resize(new_len, 0);
            }
            let room = self.buf.len() - self.filled;
            let n = self.read_into(self.filled, room)?;
            self.filled += n;
        }
        Ok(self.filled.min(len))
    }

    /// Reads at most `max` bytes into `buf[at..]`; sets `eof` on a zero-byte read.
    fn read_into(&mut self, at: usize, max: usize) -> io::Result<usize> {
        let end = at.saturating_add(max).min(self.buf.len());
        let Some(dst) = self.buf.get_mut(at..end) else {
            return Ok(0);
        };
        loop {
            match self.reader.read(dst) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(0);
                }
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    /// A reader that returns at most 3 bytes per call.
    struct Dribble(std::io::Cursor<Vec<u8>>);
    impl Read for Dribble {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = buf.len().min(3);
            self.0.read(&mut buf[..n])
        }
    }

    #[test]
    fn stream_window_serves_ranges_and_grows() {
        let data: Vec<u8> = (0..=255u8).cycle().take(3 * STREAM_BUF_LEN).collect();
        let mut w = Window::stream(
            Box::new(Dribble(std::io::Cursor::new(data[2..].to_vec()))),
            &data[..2],
        );
        assert_eq!(w.fill(0, 10).unwrap(), 10);
        assert_eq!(w.get(0, 10).unwrap(), &data[..10]);
        assert_eq!(w.fill(5, 2 * STREAM_BUF_LEN).unwrap(), 2 * STREAM_BUF_LEN);
        assert_eq!(
            w.get(5, 2 * STREAM_BUF_LEN).unwrap(),
            &data[5..5 + 2 * STREAM_BUF_LEN]
        );
        assert!(w.get(4, 1).is_none());
        // Skip past what is buffered.
        let far = (2 * STREAM_BUF_LEN + 100) as u64;
        assert_eq!(w.fill(far + 50_000, 7).unwrap(), 7);
        assert_eq!(
            w.get(far + 50_000, 7).unwrap(),
            &data[far as usize + 50_000..][..7]
        );
        // Past the end.
        let total = data.len() as u64;
        assert_eq!(w.fill(total - 3, 10).unwrap(), 3);
        assert_eq!(w.fill(total + 5, 10).unwrap(), 0);
        assert!(w.fill(0, 1).is_err());
    }

    #[test]
    fn whole_window_clamps_at_end() {
        let mut w = Window::Whole(Whole::Owned(vec![1, 2, 3]));
        assert_eq!(w.fill(1, 5).unwrap(), 2);
        assert_eq!(w.fill(9, 5).unwrap(), 0);
        assert_eq!(w.get(1, 2).unwrap(), &[2, 3]);
        assert!(w.get(1, 3).is_none());
        assert!(w.get(u64::MAX, 3).is_none());
    }
}
