//! A forward-only cursor over untrusted bytes, after rustls' `codec::Reader`: every take can
//! fail, nothing indexes or slices without a check, and `sub` bounds a length-prefixed body so
//! an inner parser cannot read past it.

/// Forward-only cursor. `offset()` is the position relative to the start of the buffer the
/// reader was created over (plus the base given to [`Reader::with_base`]).
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    base: usize,
}

impl<'a> Reader<'a> {
    /// A reader over `buf`, offsets counted from 0.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Reader {
            buf,
            pos: 0,
            base: 0,
        }
    }

    /// A reader over `buf` whose first byte is at `base` in an enclosing message.
    pub(crate) fn with_base(buf: &'a [u8], base: usize) -> Self {
        Reader { buf, pos: 0, base }
    }

    /// Offset of the next byte (base included).
    pub(crate) fn offset(&self) -> usize {
        self.base.saturating_add(self.pos)
    }

    /// Bytes left.
    pub(crate) fn left(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// True when nothing is left.
    pub(crate) fn is_empty(&self) -> bool {
        self.left() == 0
    }

    /// The next `len` bytes, or `None` (and nothing consumed) when fewer are left.
    pub(crate) fn take(&mut self, len: usize) -> Option<&'a [u8]> {
        let rest = self.buf.get(self.pos..)?;
        let (head, _) = rest.split_at_checked(len)?;
        self.pos = self.pos.checked_add(len)?;
        Some(head)
    }

    /// Everything left.
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        self.pos = self.buf.len();
        rest
    }

    /// A fixed-size array.
    pub(crate) fn take_array<const N: usize>(&mut self) -> Option<&'a [u8; N]> {
        let rest = self.buf.get(self.pos..)?;
        let (head, _) = rest.split_first_chunk::<N>()?;
        self.pos = self.pos.checked_add(N)?;
        Some(head)
    }

    /// One byte.
    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take_array::<1>().map(|a| a[0])
    }

    /// Big-endian u16.
    pub(crate) fn u16(&mut self) -> Option<u16> {
        self.take_array::<2>().map(|a| u16::from_be_bytes(*a))
    }

    /// A child reader over the next `len` bytes; the parent skips them.
    pub(crate) fn sub(&mut self, len: usize) -> Option<Reader<'a>> {
        let base = self.offset();
        self.take(len).map(|b| Reader::with_base(b, base))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_fail_without_consuming() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u16(), Some(0x0102));
        assert_eq!(r.u16(), None);
        assert_eq!(r.offset(), 2);
        assert_eq!(r.take(2), None);
        let mut s = r.sub(1).unwrap();
        assert_eq!(s.offset(), 2);
        assert_eq!(s.u8(), Some(3));
        assert!(s.is_empty() && r.is_empty());
        assert_eq!(r.rest(), &[] as &[u8]);
    }
}
