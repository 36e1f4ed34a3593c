//! pcapng: a sequence of blocks `type, total length, body, total length`, grouped into sections.
//!
//! Spec: draft-ietf-opsawg-pcapng (<https://www.ietf.org/archive/id/draft-ietf-opsawg-pcapng-02.html>).
//! Hand-written so errors carry the offset of the damaged block, packets are borrowed from the
//! memory map, and the per-interface timestamp scale is precomputed once per Interface
//! Description Block instead of on every packet.
//!
//! Rules applied (section numbers from the draft):
//! - Every Section Header Block (§4.1) sets the byte order for its section and forgets all
//!   interfaces; its major version must be 1.
//! - Block total length (§3.1) must be at least 12 and a multiple of 4 (strict: a length that is
//!   not a multiple of 4 is an error, because the next block's position would be unreliable), at
//!   most [`MAX_RECORD_LEN`], and the trailing copy must equal the leading one.
//! - Interface Description Blocks (§4.2) give link type, snap length, `if_tsresol` (option 9: high
//!   bit clear = 10^-n, set = 2^-n; default 10^-6) and `if_tsoffset` (option 14: seconds).
//!   Malformed options make the block an error.
//! - Enhanced (§4.3, type 6), Simple (§4.4, type 3: interface 0, caplen = min(orig_len, snaplen,
//!   body)) and obsolete Packet Blocks (Appendix A, type 2) yield packets; every other block
//!   type is skipped.
//! - Timestamps convert to nanoseconds saturating at `i64::MIN` / `i64::MAX`.

use crate::buffer::{Whole, Window};
use crate::error::CaptureErrorKind;
use crate::linktype::LinkType;
use crate::{Damage, RawPacket, MAX_RECORD_LEN};

/// Section Header Block type; also the file magic (a palindrome, so byte-order independent).
pub(crate) const SHB: u32 = 0x0a0d_0d0a;
const IDB: u32 = 1;
const PB: u32 = 2;
const SPB: u32 = 3;
const EPB: u32 = 6;
const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

/// Most interfaces one section may declare (bounds the memory a hostile file can claim).
pub(crate) const MAX_INTERFACES: usize = 1 << 16;

const OPT_ENDOFOPT: u16 = 0;
const OPT_IF_TSRESOL: u16 = 9;
const OPT_IF_TSOFFSET: u16 = 14;

/// How raw timestamp units become nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scale {
    /// Multiply by this (resolution coarser than or equal to 1 ns, power of 10).
    Mul(u64),
    /// Divide by this (resolution finer than 1 ns, power of 10).
    Div(u64),
    /// Multiply by 1e9, then shift right by this (power of 2 resolution).
    Shift(u32),
    /// Every value is 0 ns (resolution so fine no value reaches 1 ns).
    Zero,
}

impl Scale {
    fn from_tsresol(v: u8) -> Scale {
        let exp = u32::from(v & 0x7f);
        if v & 0x80 == 0 {
            if exp <= 9 {
                Scale::Mul(10u64.pow(9 - exp))
            } else {
                match 10u64.checked_pow(exp - 9) {
                    Some(d) => Scale::Div(d),
                    None => Scale::Zero,
                }
            }
        } else {
            Scale::Shift(exp)
        }
    }

    #[inline]
    fn to_ns(self, units: u64) -> i64 {
        let ns: u64 = match self {
            Scale::Mul(m) => units.saturating_mul(m),
            Scale::Div(d) => units / d,
            Scale::Shift(s) => {
                // units < 2^64, 1e9 < 2^30: the product fits in u128; s ≤ 127.
                let wide = (u128::from(units) * 1_000_000_000) >> s;
                u64::try_from(wide).unwrap_or(u64::MAX)
            }
            Scale::Zero => 0,
        };
        i64::try_from(ns).unwrap_or(i64::MAX)
    }
}

/// One interface of the current section.
#[derive(Clone, Copy, Debug)]
struct Interface {
    linktype: LinkType,
    snaplen: u32,
    scale: Scale,
    /// `if_tsoffset` in ns: wide, so that an offset beyond the clock's range saturates the
    /// sum instead of being cut first.
    offset_ns: i128,
}

/// Parsing state across blocks.
#[derive(Debug, Default)]
pub(crate) struct State {
    big_endian: bool,
    interfaces: Vec<Interface>,
    /// What was accepted but altered (e.g. a saturated time offset), for the user.
    pub(crate) warnings: Vec<String>,
}

/// Most warnings kept per file.
const MAX_WARNINGS: usize = 16;

/// Walks a block's options (code, length, value padded to 4 bytes) up to `opt_endofopt` or
/// the end, calling `f` with each code and value. An option header or value running past the
/// block is an error naming `block`.
fn walk_options(
    e: Endian,
    mut opts: &[u8],
    at: u64,
    block: &'static str,
    mut f: impl FnMut(u16, &[u8]) -> Result<(), Damage>,
) -> Result<(), Damage> {
    let what = |header: bool| -> &'static str {
        match (block, header) {
            ("section header", true) => "section header option header",
            ("section header", false) => "section header option length",
            (_, true) => "interface option header",
            (_, false) => "interface option length",
        }
    };
    while !opts.is_empty() {
        let (Some(code), Some(olen)) = (e.u16(opts, 0), e.u16(opts, 2)) else {
            return Err(bad(at, what(true)));
        };
        if code == OPT_ENDOFOPT {
            break;
        }
        let olen = usize::from(olen);
        let Some(value) = opts.get(4..4 + olen) else {
            return Err(bad(at, what(false)));
        };
        f(code, value)?;
        let padded = (4 + olen + 3) & !3;
        opts = opts.get(padded..).unwrap_or_default();
    }
    Ok(())
}

/// Checks that the input starts with a whole and valid section header block, so that an input
/// cut or damaged there fails when opened (nothing can have been read from it).
pub(crate) fn check_first_section(win: &mut Window) -> Result<(), Damage> {
    let mut state = State::default();
    let mut pos = 0;
    let have = win.fill(0, 12).map_err(|e| Damage::at(0, e.into()))?;
    if have < 12 {
        return Err(Damage::at(
            0,
            CaptureErrorKind::Truncated {
                needed: 12,
                available: have as u64,
            },
        ));
    }
    // Parse only the first block: a copy of its bytes ends the input after it.
    let total = {
        let head = win.get(0, 12).unwrap_or_default();
        let big = match Endian(true).u32(head, 8) {
            Some(BYTE_ORDER_MAGIC) => true,
            Some(m) if m.swap_bytes() == BYTE_ORDER_MAGIC => false,
            _ => return Err(bad(0, "byte-order magic")),
        };
        Endian(big).u32(head, 4).unwrap_or(0)
    };
    if total < 12 || total % 4 != 0 || u64::from(total) > MAX_RECORD_LEN {
        return Err(bad(0, "block total length"));
    }
    let have = win
        .fill(0, total as usize)
        .map_err(|e| Damage::at(0, e.into()))?;
    let Some(block) = win
        .get(0, total as usize)
        .filter(|_| have >= total as usize)
    else {
        return Err(Damage::at(
            0,
            CaptureErrorKind::Truncated {
                needed: total.into(),
                available: have as u64,
            },
        ));
    };
    let mut first = Window::Whole(Whole::Owned(block.to_vec()));
    state.next(&mut first, &mut pos).map(|_| ())
}

/// Reads `u16`/`u32`/`u64` in the section's byte order from a bounded slice.
#[derive(Clone, Copy)]
struct Endian(bool);

impl Endian {
    #[inline]
    fn u16(self, b: &[u8], at: usize) -> Option<u16> {
        let x: [u8; 2] = b.get(at..at.checked_add(2)?)?.try_into().ok()?;
        Some(if self.0 {
            u16::from_be_bytes(x)
        } else {
            u16::from_le_bytes(x)
        })
    }
    #[inline]
    fn u32(self, b: &[u8], at: usize) -> Option<u32> {
        let x: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
        Some(if self.0 {
            u32::from_be_bytes(x)
        } else {
            u32::from_le_bytes(x)
        })
    }
    #[inline]
    fn u64(self, b: &[u8], at: usize) -> Option<u64> {
        let x: [u8; 8] = b.get(at..at.checked_add(8)?)?.try_into().ok()?;
        Some(if self.0 {
            u64::from_be_bytes(x)
        } else {
            u64::from_le_bytes(x)
        })
    }
}

fn bad(pos: u64, what: &'static str) -> Damage {
    Damage::at(pos, CaptureErrorKind::BadBlock { what })
}

impl State {
    /// Reads blocks from `pos` until one holds a packet; `Ok(None)` at a clean end of input.
    /// `pos` is advanced past every block consumed, including the packet's.
    pub(crate) fn next(
        &mut self,
        win: &mut Window,
        pos: &mut u64,
    ) -> Result<Option<RawPacket>, Damage> {
        loop {
            let at = *pos;
            let have = win.fill(at, 12).map_err(|e| Damage::at(at, e.into()))?;
            if have == 0 {
                return Ok(None);
            }
            let truncated = |needed: u64, available: u64| {
                Damage::at(at, CaptureErrorKind::Truncated { needed, available })
            };
            if have < 12 {
                return Err(truncated(12, have as u64));
            }
            let head = win.get(at, 12).ok_or_else(|| truncated(12, 0))?;
            let raw_type = Endian(true).u32(head, 0).unwrap_or(0);
            if raw_type == SHB {
                self.big_endian = match Endian(true).u32(head, 8) {
                    Some(BYTE_ORDER_MAGIC) => true,
                    Some(m) if m.swap_bytes() == BYTE_ORDER_MAGIC => false,
                    _ => return Err(bad(at, "byte-order magic")),
                };
            }
            let e = Endian(self.big_endian);
            let btype = e.u32(head, 0).unwrap_or(0);
            let total = e.u32(head, 4).unwrap_or(0);
            if total < 12 || total % 4 != 0 {
                return Err(bad(at, "block total length"));
            }
            if u64::from(total) > MAX_RECORD_LEN {
                return Err(Damage::at(
                    at,
                    CaptureErrorKind::RecordTooLarge {
                        len: total.into(),
                        max: MAX_RECORD_LEN,
                    },
                ));
            }
            let len = total as usize;
            let have = win.fill(at, len).map_err(|e| Damage::at(at, e.into()))?;
            if have < len {
                return Err(truncated(total.into(), have as u64));
            }
            let block = win.get(at, len).ok_or_else(|| truncated(total.into(), 0))?;
            if e.u32(block, len - 4) != Some(total) {
                return Err(bad(at, "trailing block total length"));
            }
            // 8 ≤ len - 4 because len ≥ 12.
            let body = block.get(8..len - 4).unwrap_or_default();
            let body_off = at + 8;
            let next_pos = at + u64::from(total);
            match btype {
                SHB => self.section_header(e, body, at)?,
                IDB => self.interface_description(e, body, at)?,
                EPB => {
                    let pkt = self.enhanced_packet(e, body, body_off, at)?;
                    *pos = next_pos;
                    return Ok(Some(pkt));
                }
                SPB => {
                    let pkt = self.simple_packet(e, body, body_off, at)?;
                    *pos = next_pos;
                    return Ok(Some(pkt));
                }
                PB => {
                    let pkt = self.obsolete_packet(e, body, body_off, at)?;
                    *pos = next_pos;
                    return Ok(Some(pkt));
                }
                _ => {}
            }
            *pos = next_pos;
        }
    }

    fn section_header(&mut self, e: Endian, body: &[u8], at: u64) -> Result<(), Damage> {
        // byte-order magic (4), major (2), minor (2), section length (8), options.
        if body.len() < 16 {
            return Err(bad(at, "section header length"));
        }
        let major = e.u16(body, 4).unwrap_or(0);
        let minor = e.u16(body, 6).unwrap_or(0);
        if major != 1 {
            return Err(Damage::at(
                at,
                CaptureErrorKind::UnsupportedVersion { major, minor },
            ));
        }
        // Options are not used, but a malformed list makes the block an error, as for an
        // interface description.
        walk_options(
            e,
            body.get(16..).unwrap_or_default(),
            at,
            "section header",
            |_, _| Ok(()),
        )?;
        self.interfaces.clear();
        Ok(())
    }

    fn interface_description(&mut self, e: Endian, body: &[u8], at: u64) -> Result<(), Damage> {
        // link type (2), reserved (2), snaplen (4), options.
        let (Some(linktype), Some(snaplen)) = (e.u16(body, 0), e.u32(body, 4)) else {
            return Err(bad(at, "interface description length"));
        };
        let mut iface = Interface {
            linktype: LinkType(linktype.into()),
            snaplen,
            scale: Scale::Mul(1_000),
            offset_ns: 0,
        };
        let warnings = &mut self.warnings;
        let index = self.interfaces.len();
        walk_options(
            e,
            body.get(8..).unwrap_or_default(),
            at,
            "interface description",
            |code, value| {
                match code {
                    OPT_IF_TSRESOL => {
                        let Some(&v) = value.first() else {
                            return Err(bad(at, "if_tsresol option"));
                        };
                        iface.scale = Scale::from_tsresol(v);
                    }
                    OPT_IF_TSOFFSET => {
                        // A signed count of seconds (pcapng §4.2).
                        let Some(secs) = e.u64(value, 0).map(|v| v as i64) else {
                            return Err(bad(at, "if_tsoffset option"));
                        };
                        iface.offset_ns = i128::from(secs) * 1_000_000_000;
                        if i64::try_from(iface.offset_ns).is_err() && warnings.len() < MAX_WARNINGS
                        {
                            warnings.push(format!(
                                "interface {index} (block at byte offset {at}): if_tsoffset \
                                 {secs} s is beyond the nanosecond clock's range; its \
                                 packets' timestamps saturate"
                            ));
                        }
                    }
                    _ => {}
                }
                Ok(())
            },
        )?;
        if self.interfaces.len() >= MAX_INTERFACES {
            return Err(bad(
                at,
                "interface count (too many interfaces in one section)",
            ));
        }
        self.interfaces.push(iface);
        Ok(())
    }

    #[inline]
    fn interface(&self, id: u32, at: u64) -> Result<Interface, Damage> {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.interfaces.get(i))
            .copied()
            .ok_or(Damage::at(at, CaptureErrorKind::UnknownInterface { id }))
    }

    #[inline]
    fn enhanced_packet(
        &self,
        e: Endian,
        body: &[u8],
        body_off: u64,
        at: u64,
    ) -> Result<RawPacket, Damage> {
        // interface id (4), ts high (4), ts low (4), caplen (4), orig len (4), data, options.
        let fields = (
            e.u32(body, 0),
            e.u32(body, 4),
            e.u32(body, 8),
            e.u32(body, 12),
            e.u32(body, 16),
        );
        let (Some(id), Some(hi), Some(lo), Some(caplen), Some(orig_len)) = fields else {
            return Err(bad(at, "enhanced packet block length"));
        };
        let header = TimedHeader {
            id,
            hi,
            lo,
            caplen,
            orig_len,
        };
        self.timed_packet(
            header,
            body,
            body_off,
            at,
            "enhanced packet captured length",
        )
    }

    /// The packet of an EPB or obsolete PB: both have a 20-byte header (id, timestamp,
    /// captured and original length) before the data.
    fn timed_packet(
        &self,
        h: TimedHeader,
        body: &[u8],
        body_off: u64,
        at: u64,
        what: &'static str,
    ) -> Result<RawPacket, Damage> {
        if u64::from(h.caplen) > (body.len() as u64).saturating_sub(20) {
            return Err(bad(at, what));
        }
        let iface = self.interface(h.id, at)?;
        Ok(RawPacket {
            ts: ts_ns(iface, h.hi, h.lo),
            linktype: iface.linktype,
            data_off: body_off + 20,
            caplen: h.caplen as usize,
            orig_len: h.orig_len,
            interface: h.id,
            record_off: at,
        })
    }

    fn simple_packet(
        &self,
        e: Endian,
        body: &[u8],
        body_off: u64,
        at: u64,
    ) -> Result<RawPacket, Damage> {
        // orig len (4), data (padded).
        let Some(orig_len) = e.u32(body, 0) else {
            return Err(bad(at, "simple packet block length"));
        };
        let iface = self.interface(0, at)?;
        let mut caplen = (body.len() - 4).min(orig_len as usize);
        if iface.snaplen != 0 {
            caplen = caplen.min(iface.snaplen as usize);
        }
        Ok(RawPacket {
            ts: 0,
            linktype: iface.linktype,
            data_off: body_off + 4,
            caplen,
            orig_len,
            interface: 0,
            record_off: at,
        })
    }

    fn obsolete_packet(
        &self,
        e: Endian,
        body: &[u8],
        body_off: u64,
        at: u64,
    ) -> Result<RawPacket, Damage> {
        // interface id (2), drops (2), ts high (4), ts low (4), caplen (4), orig len (4), data.
        let fields = (
            e.u16(body, 0),
            e.u32(body, 4),
            e.u32(body, 8),
            e.u32(body, 12),
            e.u32(body, 16),
        );
        let (Some(id), Some(hi), Some(lo), Some(caplen), Some(orig_len)) = fields else {
            return Err(bad(at, "packet block length"));
        };
        let header = TimedHeader {
            id: id.into(),
            hi,
            lo,
            caplen,
            orig_len,
        };
        self.timed_packet(header, body, body_off, at, "packet block captured length")
    }
}

/// The fixed fields of an EPB or obsolete PB.
#[derive(Clone, Copy)]
struct TimedHeader {
    id: u32,
    hi: u32,
    lo: u32,
    caplen: u32,
    orig_len: u32,
}

#[inline]
fn ts_ns(iface: Interface, hi: u32, lo: u32) -> i64 {
    let units = (u64::from(hi) << 32) | u64::from(lo);
    let wide = i128::from(iface.scale.to_ns(units)) + iface.offset_ns;
    i64::try_from(wide).unwrap_or(if wide < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn converts_every_resolution_without_overflow() {
        assert_eq!(Scale::from_tsresol(6).to_ns(1_500_000), 1_500_000_000);
        assert_eq!(Scale::from_tsresol(9).to_ns(7), 7);
        assert_eq!(Scale::from_tsresol(0).to_ns(3), 3_000_000_000);
        assert_eq!(Scale::from_tsresol(12).to_ns(5_000), 5);
        assert_eq!(Scale::from_tsresol(0x80 | 10).to_ns(1024), 1_000_000_000);
        assert_eq!(Scale::from_tsresol(0x80).to_ns(2), 2_000_000_000);
        assert_eq!(Scale::from_tsresol(0).to_ns(u64::MAX), i64::MAX);
        assert_eq!(Scale::from_tsresol(0x80).to_ns(u64::MAX), i64::MAX);
        assert_eq!(Scale::from_tsresol(0x7f).to_ns(u64::MAX), 0);
        assert_eq!(Scale::from_tsresol(0xff).to_ns(u64::MAX), 0);
        for v in 0..=255u8 {
            let _ = Scale::from_tsresol(v).to_ns(u64::MAX);
            let _ = Scale::from_tsresol(v).to_ns(0);
        }
    }
}
