//! The classic libpcap format: a 24-byte file header, then records of a 16-byte header (24 bytes
//! in Kuznetsov's "modified" variant) and the captured bytes.
//!
//! Spec: draft-ietf-opsawg-pcap (<https://www.ietf.org/archive/id/draft-ietf-opsawg-pcap-04.html>).
//! Hand-written rather than via a parser crate so that errors carry exact byte offsets and records
//! are borrowed straight from the memory map.

use crate::buffer::Window;
use crate::error::CaptureErrorKind;
use crate::linktype::LinkType;
use crate::{Damage, RawPacket, MAX_RECORD_LEN};

/// File header length.
pub(crate) const HEADER_LEN: usize = 24;
/// Magic for microsecond timestamps, in the writer's byte order (so `d4 c3 b2 a1` on disk means
/// little-endian).
pub(crate) const MAGIC_MICROS: u32 = 0xa1b2_c3d4;
/// Magic for nanosecond timestamps.
pub(crate) const MAGIC_NANOS: u32 = 0xa1b2_3c4d;
/// Magic for Alexey Kuznetsov's modified format (24-byte record headers, microseconds).
pub(crate) const MAGIC_MODIFIED: u32 = 0xa1b2_cd34;

/// Per-file parsing state, fixed by the file header.
#[derive(Clone, Copy, Debug)]
pub(crate) struct State {
    pub(crate) big_endian: bool,
    pub(crate) nanos: bool,
    pub(crate) modified: bool,
    pub(crate) linktype: LinkType,
    /// Snapshot length from the header (informational; records may exceed it).
    pub(crate) snaplen: u32,
}

/// Recognises a pcap magic given the first four bytes. Returns `(big_endian, nanos, modified)`.
pub(crate) fn detect(magic: [u8; 4]) -> Option<(bool, bool, bool)> {
    for (big_endian, m) in [
        (true, u32::from_be_bytes(magic)),
        (false, u32::from_le_bytes(magic)),
    ] {
        match m {
            MAGIC_MICROS => return Some((big_endian, false, false)),
            MAGIC_NANOS => return Some((big_endian, true, false)),
            MAGIC_MODIFIED => return Some((big_endian, false, true)),
            _ => {}
        }
    }
    None
}

#[inline]
fn u32_at(b: &[u8], at: usize, big_endian: bool) -> Option<u32> {
    let four: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(if big_endian {
        u32::from_be_bytes(four)
    } else {
        u32::from_le_bytes(four)
    })
}

impl State {
    /// Parses the 24-byte file header (the caller has checked the magic with [`detect`]).
    pub(crate) fn parse_header(header: &[u8]) -> Option<State> {
        let magic: [u8; 4] = header.get(..4)?.try_into().ok()?;
        let (big_endian, nanos, modified) = detect(magic)?;
        let snaplen = u32_at(header, 16, big_endian)?;
        // The low 16 bits are the link type; the upper bits carry FCS information (draft §4).
        let linktype = LinkType(u32_at(header, 20, big_endian)? & 0xffff);
        Some(State {
            big_endian,
            nanos,
            modified,
            linktype,
            snaplen,
        })
    }

    #[inline]
    fn record_header_len(&self) -> usize {
        if self.modified {
            24
        } else {
            16
        }
    }

    /// Reads the record at `pos` and advances `pos` past it: `Ok(None)` at a clean end of input.
    #[inline]
    pub(crate) fn next(
        &self,
        win: &mut Window,
        pos: &mut u64,
    ) -> Result<Option<RawPacket>, Damage> {
        let pos_ref = pos;
        let pos = *pos_ref;
        let hlen = self.record_header_len();
        let have = win.fill(pos, hlen).map_err(|e| Damage::at(pos, e.into()))?;
        if have == 0 {
            return Ok(None);
        }
        let truncated = |needed: u64, available: u64| {
            Damage::at(pos, CaptureErrorKind::Truncated { needed, available })
        };
        if have < hlen {
            return Err(truncated(hlen as u64, have as u64));
        }
        let hdr = win
            .get(pos, hlen)
            .ok_or_else(|| truncated(hlen as u64, 0))?;
        let be = self.big_endian;
        let field = |at| u32_at(hdr, at, be).unwrap_or(0);
        let (ts_sec, ts_frac, caplen, orig_len) = (field(0), field(4), field(8), field(12));
        if u64::from(caplen) > MAX_RECORD_LEN {
            return Err(Damage::at(
                pos,
                CaptureErrorKind::RecordTooLarge {
                    len: caplen.into(),
                    max: MAX_RECORD_LEN,
                },
            ));
        }
        // u32 seconds * 1e9 + u32 fraction * 1e3 < 2^63: cannot overflow.
        let frac_ns = if self.nanos {
            i64::from(ts_frac)
        } else {
            i64::from(ts_frac) * 1_000
        };
        let ts = i64::from(ts_sec) * 1_000_000_000 + frac_ns;
        let data_off = pos + hlen as u64;
        let caplen_usize = caplen as usize;
        let got = win
            .fill(data_off, caplen_usize)
            .map_err(|e| Damage::at(pos, e.into()))?;
        if got < caplen_usize {
            return Err(truncated(
                hlen as u64 + u64::from(caplen),
                hlen as u64 + got as u64,
            ));
        }
        *pos_ref = data_off + u64::from(caplen);
        Ok(Some(RawPacket {
            ts,
            linktype: self.linktype,
            data_off,
            caplen: caplen_usize,
            orig_len,
            interface: 0,
            record_off: pos,
        }))
    }
}
