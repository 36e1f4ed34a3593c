//! Incremental Internet-checksum updates (RFC 1624) over the byte ranges a rewrite changed.
//!
//! The walk records every range of the frame it changes ([`Edits`]) and every checksum field it
//! crosses ([`Scope`]: the field, the bytes it covers and, for TCP, UDP and ICMPv6, the
//! pseudo-header's addresses). Once the frame is rewritten, [`Edits::update`] visits the scopes
//! innermost first (reverse discovery order: an inner checksum field is itself an edit inside the
//! outer scopes) and applies RFC 1624 eqn. 3 to each:
//!
//! ```text
//! HC' = ~(~HC + ~m + m')        summed over every changed 16-bit word m -> m'
//! ```
//!
//! The sum of the covered words changes by exactly `m' - m`, and the checksum by its negation, so
//! the total stays the same modulo 0xffff: **a valid checksum stays valid and an invalid one stays
//! invalid by the same difference**, without reading the covered bytes that did not change —
//! which also holds when the capture cut the packet (the uncaptured bytes did not change). An
//! edit that starts at an odd distance from the start of a scope contributes its byte-swapped sum
//! (RFC 1071 §2 (B), byte-order independence).

/// A changed byte range of the frame (its old bytes are in the original frame).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Edit {
    at: usize,
    len: usize,
}

/// A checksum field and what it covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Scope {
    /// Offset of the 16-bit checksum field.
    pub(super) field: usize,
    /// The covered bytes of the frame, `[start, end)`; parity counts from `start`.
    pub(super) start: usize,
    /// End of the covered bytes (at most the captured end).
    pub(super) end: usize,
    /// Pseudo-header address fields (offset, length), each summed from its own start.
    pub(super) pseudo: Option<Pseudo>,
    /// UDP: a computed 0 is sent as 0xffff (RFC 768), since 0 means "no checksum".
    pub(super) udp: bool,
}

/// The source and destination address fields of the enclosing IP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Pseudo {
    /// Offset of the source address.
    pub(super) src: usize,
    /// Offset of the destination address.
    pub(super) dst: usize,
    /// Address length: 4 or 16.
    pub(super) len: usize,
}

/// The changes made to one frame and the checksums that cover them; reused across frames.
#[derive(Debug, Default)]
pub(super) struct Edits {
    edits: Vec<Edit>,
    scopes: Vec<Scope>,
}

impl Edits {
    /// Forgets the previous frame.
    pub(super) fn clear(&mut self) {
        self.edits.clear();
        self.scopes.clear();
    }

    /// Records that `len` bytes at `at` changed.
    #[inline]
    pub(super) fn changed(&mut self, at: usize, len: usize) {
        self.edits.push(Edit { at, len });
    }

    /// Records a checksum field to keep consistent.
    #[inline]
    pub(super) fn scope(&mut self, scope: Scope) {
        self.scopes.push(scope);
    }

    /// Updates every recorded checksum of `frame` (rewritten from `orig`, same length) for the
    /// recorded edits, innermost first; returns how many fields changed.
    pub(super) fn update(&mut self, orig: &[u8], frame: &mut [u8]) -> u32 {
        let mut updated = 0;
        for i in (0..self.scopes.len()).rev() {
            let Some(scope) = self.scopes.get(i).copied() else {
                continue;
            };
            let Some(old) = be16(frame, scope.field) else {
                continue;
            };
            let mut acc = 0u64;
            for e in &self.edits {
                acc += delta(orig, frame, *e, scope.start, scope.end, scope.start);
                if let Some(p) = scope.pseudo {
                    acc += delta(orig, frame, *e, p.src, p.src + p.len, p.src);
                    acc += delta(orig, frame, *e, p.dst, p.dst + p.len, p.dst);
                }
            }
            let change = fold(acc);
            if change == 0 || change == 0xffff {
                continue; // no net change: the field stays as it is
            }
            // RFC 1624 eqn. 3: HC' = ~(~HC + (m' - m)).
            let mut new = !fold(u64::from(!old) + u64::from(change));
            if scope.udp && new == 0 {
                new = 0xffff;
            }
            if new != old {
                if let Some(dst) = frame.get_mut(scope.field..scope.field + 2) {
                    dst.copy_from_slice(&new.to_be_bytes());
                    self.edits.push(Edit {
                        at: scope.field,
                        len: 2,
                    });
                    updated += 1;
                }
            }
        }
        updated
    }

    /// True when something changed.
    pub(super) fn any(&self) -> bool {
        !self.edits.is_empty()
    }

    /// True when byte `at` lies in a changed range (for tests).
    #[cfg(test)]
    fn touches(&self, at: usize) -> bool {
        self.edits
            .iter()
            .any(|e| (e.at..e.at + e.len).contains(&at))
    }
}

/// The change of the one's-complement sum over `[start, end)` (words counted from `base`) that
/// edit `e` made, as `new + ~old` (one's complement, not folded).
#[inline]
fn delta(orig: &[u8], frame: &[u8], e: Edit, start: usize, end: usize, base: usize) -> u64 {
    let from = e.at.max(start);
    let to = (e.at + e.len).min(end);
    if from >= to {
        return 0;
    }
    let (Some(old), Some(new)) = (orig.get(from..to), frame.get(from..to)) else {
        return 0;
    };
    let odd = (from - base) % 2 == 1;
    let (mut m, mut m_new) = (fold(sum(old)), fold(sum(new)));
    if odd {
        m = m.swap_bytes();
        m_new = m_new.swap_bytes();
    }
    u64::from(m_new) + u64::from(!m)
}

/// The one's-complement sum of `data` as big-endian 16-bit words (odd tail padded with zero).
#[inline]
pub(super) fn sum(data: &[u8]) -> u64 {
    let mut acc = 0u64;
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        if let [a, b] = w {
            acc += u64::from(u16::from_be_bytes([*a, *b]));
        }
    }
    if let [last] = words.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Folds a sum to 16 bits with end-around carry.
#[inline]
pub(super) fn fold(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    acc as u16
}

/// The big-endian `u16` at `at`, if captured.
#[inline]
fn be16(b: &[u8], at: usize) -> Option<u16> {
    match b.get(at..at.checked_add(2)?) {
        Some(&[x, y]) => Some(u16::from_be_bytes([x, y])),
        _ => None,
    }
}

#[cfg(test)]
mod test {
    use super::*;

    /// The checksum over `data` with the field at `field` zeroed, as a sender computes it.
    fn checksum(data: &[u8], field: usize) -> u16 {
        let mut d = data.to_vec();
        d[field..field + 2].copy_from_slice(&[0, 0]);
        !fold(sum(&d))
    }

    fn valid(data: &[u8]) -> bool {
        fold(sum(data)) == 0xffff
    }

    #[test]
    fn rfc1624_update_keeps_a_valid_header_valid() {
        // The Wikipedia IPv4 header example; change both addresses.
        let orig = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
            0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        assert!(valid(&orig));
        let mut frame = orig;
        frame[12..20].copy_from_slice(&[10, 9, 8, 7, 203, 0, 113, 99]);
        let mut edits = Edits::default();
        edits.changed(12, 4);
        edits.changed(16, 4);
        edits.scope(Scope {
            field: 10,
            start: 0,
            end: 20,
            pseudo: None,
            udp: false,
        });
        assert_eq!(edits.update(&orig, &mut frame), 1);
        assert!(valid(&frame));
        assert_eq!(
            u16::from_be_bytes([frame[10], frame[11]]),
            checksum(&frame, 10)
        );
        assert!(edits.touches(10));
    }

    #[test]
    fn invalid_checksum_keeps_its_difference() {
        let mut orig = [0x12u8, 0x34, 0x56, 0x78, 0, 0, 0x9a, 0xbc];
        let good = checksum(&orig, 4);
        orig[4..6].copy_from_slice(&(good ^ 0x0100).to_be_bytes());
        assert!(!valid(&orig));
        let mut frame = orig;
        frame[0..2].copy_from_slice(&[0xff, 0x01]);
        let mut edits = Edits::default();
        edits.changed(0, 2);
        edits.scope(Scope {
            field: 4,
            start: 0,
            end: 8,
            pseudo: None,
            udp: false,
        });
        edits.update(&orig, &mut frame);
        assert!(!valid(&frame));
        // The sum over the covered bytes (field included) is what it was.
        assert_eq!(fold(sum(&frame)), fold(sum(&orig)));
    }

    #[test]
    fn odd_offset_edits_and_pseudo_header_are_counted() {
        // A 9-byte "segment" at offset 3 whose checksum covers a pseudo-header at 0..2 and 2..3
        // is not aligned: use a 4-byte pseudo "address" pair and an edit at an odd distance.
        let mut orig = vec![1u8, 2, 3, 4, 5, 6, 7, 8, 0, 0, 11, 12, 13, 14, 15];
        // segment = [4, 15), field at 8; pseudo = addresses at 0 and 2 (len 2).
        let full = |b: &[u8]| {
            let mut acc = sum(&b[0..2]) + sum(&b[2..4]);
            acc += sum(&b[4..15]);
            fold(acc)
        };
        let ck = {
            let mut b = orig.clone();
            b[8] = 0;
            b[9] = 0;
            !full(&b)
        };
        orig[8..10].copy_from_slice(&ck.to_be_bytes());
        assert_eq!(full(&orig), 0xffff);
        let mut frame = orig.clone();
        frame[0..2].copy_from_slice(&[0xaa, 0xbb]);
        frame[11..13].copy_from_slice(&[0xcc, 0xdd]); // odd distance from 4
        let mut edits = Edits::default();
        edits.changed(0, 2);
        edits.changed(11, 2);
        edits.scope(Scope {
            field: 8,
            start: 4,
            end: 15,
            pseudo: Some(Pseudo {
                src: 0,
                dst: 2,
                len: 2,
            }),
            udp: false,
        });
        assert_eq!(edits.update(&orig, &mut frame), 1);
        assert_eq!(full(&frame), 0xffff);
    }

    #[test]
    fn udp_zero_result_is_sent_as_ffff() {
        // Find a two-byte change that makes the new checksum 0 and check it becomes 0xffff.
        let orig = [0u8, 1, 0, 0];
        let ck = !fold(sum(&orig));
        let mut base = orig;
        base[2..4].copy_from_slice(&ck.to_be_bytes());
        let mut frame = base;
        // Changing word 0 from 0x0001 to 0xfffe... pick m' so that the checksum becomes 0.
        frame[0..2].copy_from_slice(&[0x00, 0x00]);
        let mut edits = Edits::default();
        edits.changed(0, 2);
        edits.scope(Scope {
            field: 2,
            start: 0,
            end: 4,
            pseudo: None,
            udp: true,
        });
        edits.update(&base, &mut frame);
        let now = u16::from_be_bytes([frame[2], frame[3]]);
        assert_ne!(now, 0);
        assert!(valid(&frame));
    }

    #[test]
    fn inner_checksums_are_updated_before_outer_ones() {
        // outer covers [0, 8) with field 0; inner covers [4, 8) with field 4.
        let mut orig = [0u8, 0, 0x11, 0x22, 0, 0, 0x33, 0x44];
        let inner = !fold(sum(&orig[4..8]));
        orig[4..6].copy_from_slice(&inner.to_be_bytes());
        let outer = !fold(sum(&orig));
        orig[0..2].copy_from_slice(&outer.to_be_bytes());
        assert!(valid(&orig) && valid(&orig[4..8]));
        let mut frame = orig;
        frame[6..8].copy_from_slice(&[0x55, 0x66]);
        let mut edits = Edits::default();
        edits.changed(6, 2);
        for (field, start) in [(0, 0), (4, 4)] {
            edits.scope(Scope {
                field,
                start,
                end: 8,
                pseudo: None,
                udp: false,
            });
        }
        // The inner field compensates the change inside the outer scope: only it changes;
        // updating the outer one first would have broken it.
        assert_eq!(edits.update(&orig, &mut frame), 1);
        assert!(valid(&frame) && valid(&frame[4..8]));
    }
}
