//! The walk over one frame: shared state and helpers, and the link layers (Ethernet, VLAN,
//! MPLS, PPP/PPPoE, Linux cooked capture, BSD loopback, IEEE 802.11, ARP).
//!
//! The walk follows custos-decode's decoder step for step (same link types, EtherTypes,
//! tunnels and UDP ports), so that every header the decoder reads is one the walk rewrote. It
//! works on byte offsets into the frame; each layer is given `[at, end)` with `end` inside its
//! parent's range, so the ranges nest and every checksum scope covers whole edits.

use custos_decode::linktype;
use custos_decode::wire::ieee80211;

use super::checksum::Edits;
use super::mapper::Mapper;
use super::{FrameOutcome, PayloadPolicy};
use crate::error::Result;

/// Most layers entered per frame (bounds the work and recursion on hostile nesting): twice
/// the decoder's bound, since the walk counts some layers the decoder crosses inline (inner
/// Ethernet and its tags), so that it never gives up on a layer the decoder reads.
const MAX_STEPS: usize = 64;

/// The state of one frame's rewrite.
pub(super) struct Walk<'w, 'p> {
    /// The frame being rewritten in place.
    pub(super) buf: &'w mut [u8],
    pub(super) map: &'w mut Mapper<'p>,
    pub(super) edits: &'w mut Edits,
    pub(super) payload: PayloadPolicy,
    /// Bytes of the frame to keep (the payload policy lowers it).
    pub(super) cut: usize,
    pub(super) out: FrameOutcome,
    steps: usize,
}

impl<'w, 'p> Walk<'w, 'p> {
    pub(super) fn new(
        buf: &'w mut [u8],
        map: &'w mut Mapper<'p>,
        edits: &'w mut Edits,
        payload: PayloadPolicy,
    ) -> Self {
        let cut = buf.len();
        Walk {
            buf,
            map,
            edits,
            payload,
            cut,
            out: FrameOutcome::default(),
            steps: 0,
        }
    }

    // ----- reading -----

    #[inline]
    pub(super) fn byte(&self, at: usize) -> u8 {
        self.buf.get(at).copied().unwrap_or(0)
    }

    #[inline]
    pub(super) fn be16(&self, at: usize) -> u16 {
        match self.buf.get(at..at.saturating_add(2)) {
            Some(&[a, b]) => u16::from_be_bytes([a, b]),
            _ => 0,
        }
    }

    #[inline]
    pub(super) fn be32(&self, at: usize) -> u32 {
        match self.buf.get(at..at.saturating_add(4)) {
            Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
            _ => 0,
        }
    }

    /// True when `n` bytes from `at` lie inside `[.., end)` and the frame.
    #[inline]
    pub(super) fn has(&self, at: usize, n: usize, end: usize) -> bool {
        at.checked_add(n)
            .is_some_and(|stop| stop <= end && stop <= self.buf.len())
    }

    /// Counts one layer entered; false past [`MAX_STEPS`].
    #[inline]
    pub(super) fn step(&mut self) -> bool {
        self.steps += 1;
        self.steps <= MAX_STEPS
    }

    /// Offset of `part` (a sub-slice of the frame) in the frame.
    pub(super) fn offset_of(&self, part: &[u8]) -> Option<usize> {
        let base = self.buf.as_ptr() as usize;
        let p = part.as_ptr() as usize;
        (p >= base && p <= base + self.buf.len()).then(|| p - base)
    }

    // ----- writing -----

    /// Writes `new` at `at` when it differs, recording the edit.
    #[inline]
    pub(super) fn put(&mut self, at: usize, new: &[u8]) {
        if let Some(dst) = self.buf.get_mut(at..at.saturating_add(new.len())) {
            if dst != new {
                dst.copy_from_slice(new);
                self.edits.changed(at, new.len());
            }
        }
    }

    /// Rewrites the IPv4 address at `at` (which the caller has bounds-checked).
    ///
    /// # Errors
    /// A pseudonym collision ([`crate::Error::Collision`]).
    #[inline]
    pub(super) fn ip4_at(&mut self, at: usize) -> Result<()> {
        let Some(old) = self
            .buf
            .get(at..at.saturating_add(4))
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
        else {
            return Ok(());
        };
        let new = self.map.v4(old)?;
        if new != old {
            self.put(at, &new);
            self.out.addresses += 1;
        }
        Ok(())
    }

    /// Rewrites the IPv6 address at `at` (bounds-checked by the caller).
    ///
    /// # Errors
    /// A pseudonym collision.
    #[inline]
    pub(super) fn ip6_at(&mut self, at: usize) -> Result<()> {
        let Some(old) = self
            .buf
            .get(at..at.saturating_add(16))
            .and_then(|b| <[u8; 16]>::try_from(b).ok())
        else {
            return Ok(());
        };
        let new = self.map.v6(old)?;
        if new != old {
            self.put(at, &new);
            self.out.addresses += 1;
        }
        Ok(())
    }

    /// Rewrites an IPv4 address field inside `[.., end)`, or zeroes its captured part.
    ///
    /// # Errors
    /// A pseudonym collision.
    pub(super) fn ip4_field(&mut self, at: usize, end: usize) -> Result<bool> {
        if self.has(at, 4, end) {
            self.ip4_at(at)?;
            Ok(true)
        } else {
            self.opaque(at, end);
            Ok(false)
        }
    }

    /// Rewrites an IPv6 address field inside `[.., end)`, or zeroes its captured part.
    ///
    /// # Errors
    /// A pseudonym collision.
    pub(super) fn ip6_field(&mut self, at: usize, end: usize) -> Result<bool> {
        if self.has(at, 16, end) {
            self.ip6_at(at)?;
            Ok(true)
        } else {
            self.opaque(at, end);
            Ok(false)
        }
    }

    /// Rewrites the MAC address at `at` (bounds-checked by the caller).
    #[inline]
    pub(super) fn mac_at(&mut self, at: usize) {
        let Some(old) = self
            .buf
            .get(at..at.saturating_add(6))
            .and_then(|b| <[u8; 6]>::try_from(b).ok())
        else {
            return;
        };
        let new = self.map.mac(old);
        if new != old {
            self.put(at, &new);
            self.out.addresses += 1;
        }
    }

    /// Zeroes `[at, end)`, recording the edit when something changed; true if it did.
    pub(super) fn zero(&mut self, at: usize, end: usize) -> bool {
        let Some(part) = self.buf.get_mut(at..end.min(self.cut)) else {
            return false;
        };
        if part.iter().all(|b| *b == 0) {
            return false;
        }
        part.fill(0);
        let len = part.len();
        self.edits.changed(at, len);
        true
    }

    /// Bytes the walk cannot read (unknown protocol, damaged or cut header): zeroed, so that
    /// nothing undecoded leaves the frame, then treated as payload by the payload policy.
    pub(super) fn opaque(&mut self, at: usize, end: usize) {
        if at >= end {
            return;
        }
        if self.zero(at, end) {
            self.out.scrubbed = true;
        }
        self.payload_at(at, end);
    }

    /// Bytes after a layer's own length inside its parent (link padding, trailers): zeroed.
    pub(super) fn trailer(&mut self, at: usize, end: usize) {
        if at < end {
            self.zero(at, end);
        }
    }

    /// Transport payload `[at, end)`: the payload policy decides how much stays captured.
    pub(super) fn payload_at(&mut self, at: usize, end: usize) {
        let keep = match self.payload {
            PayloadPolicy::Keep => return,
            PayloadPolicy::Drop => at,
            PayloadPolicy::Truncate(n) => at.saturating_add(n as usize),
        };
        if keep < end && keep < self.cut {
            self.cut = keep;
        }
    }

    // ----- link layers -----

    /// Walks a whole frame of `link` type.
    ///
    /// # Errors
    /// A pseudonym collision.
    pub(super) fn link(&mut self, link: u32) -> Result<()> {
        let end = self.buf.len();
        match link {
            linktype::ETHERNET => self.ethernet(0, end),
            linktype::RAW
            | linktype::RAW_12
            | linktype::RAW_14
            | linktype::IPV4
            | linktype::IPV6 => self.ip(0, end),
            linktype::NULL | linktype::LOOP => {
                if !self.has(0, 4, end) {
                    self.opaque(0, end);
                    return Ok(());
                }
                // As the decoder: the family in either byte order.
                let be = self.be32(0);
                let family = if be <= 0xffff { be } else { be.swap_bytes() };
                let t = match family {
                    2 => 0x0800,
                    24 | 28 | 30 => 0x86dd,
                    other => other as u16,
                };
                self.ethertype(t, 4, end)
            }
            linktype::LINUX_SLL => {
                // type(2) arphrd(2) addr len(2) addr(8) protocol(2)
                if !self.has(0, 16, end) {
                    self.opaque(0, end);
                    return Ok(());
                }
                self.cooked_addr(6, self.be16(4));
                self.ethertype(self.be16(14), 16, end)
            }
            linktype::LINUX_SLL2 => {
                // protocol(2) reserved(2) ifindex(4) arphrd(2) type(1) addr len(1) addr(8)
                if !self.has(0, 20, end) {
                    self.opaque(0, end);
                    return Ok(());
                }
                self.cooked_addr(12, u16::from(self.byte(11)));
                self.ethertype(self.be16(0), 20, end)
            }
            linktype::PPP | linktype::PPP_HDLC | linktype::PPP_ETHER => self.ppp(0, end),
            linktype::IEEE802_11 => self.wlan(0, end),
            linktype::IEEE802_11_RADIOTAP => {
                let inner = self.buf.get(..end).map(ieee80211::strip_radiotap);
                match inner {
                    Some(Ok(frame)) => {
                        let (len, start) = (frame.len(), self.offset_of(frame));
                        match start {
                            // The FCS after the 802.11 frame is left as it is (unverified).
                            Some(start) => self.wlan(start, start + len),
                            None => {
                                self.opaque(0, end);
                                Ok(())
                            }
                        }
                    }
                    _ => {
                        self.opaque(0, end);
                        Ok(())
                    }
                }
            }
            _ => {
                self.out.unsupported_link = true;
                self.opaque(0, end);
                Ok(())
            }
        }
    }

    /// The 8-byte address of a cooked header: a MAC is pseudonymised, anything else zeroed.
    fn cooked_addr(&mut self, at: usize, len: u16) {
        if len == 6 {
            self.mac_at(at);
            self.zero(at + 6, at + 8);
        } else {
            self.zero(at, at + 8);
        }
    }

    /// An Ethernet II header and what follows.
    ///
    /// # Errors
    /// A pseudonym collision.
    pub(super) fn ethernet(&mut self, at: usize, end: usize) -> Result<()> {
        if !self.step() || !self.has(at, 14, end) {
            self.opaque(at, end);
            return Ok(());
        }
        self.mac_at(at);
        self.mac_at(at + 6);
        let t = self.be16(at + 12);
        if t < 0x0600 {
            // 802.3 length: LLC (STP, CDP, LLDP-like payloads) — not decoded.
            self.opaque(at + 14, end);
            return Ok(());
        }
        self.ethertype(t, at + 14, end)
    }

    /// What an EtherType announces at `[at, end)`.
    ///
    /// # Errors
    /// A pseudonym collision.
    pub(super) fn ethertype(&mut self, t: u16, at: usize, end: usize) -> Result<()> {
        if !self.step() {
            self.opaque(at, end);
            return Ok(());
        }
        let need = |w: &Self, n| w.has(at, n, end);
        match t {
            0x0800 | 0x86dd => self.ip(at, end),
            0x8100 | 0x88a8 | 0x9100 if need(self, 4) => {
                self.ethertype(self.be16(at + 2), at + 4, end)
            }
            0x8847 | 0x8848 => self.mpls(at, end),
            0x8864 => self.pppoe(at, end),
            0x0806 | 0x8035 => self.arp(at, end),
            // Cisco FabricPath: FTag/TTL, then the original frame.
            0x8903 if need(self, 2) => self.ethernet(at + 2, end),
            // VN-Tag: 4 bytes of tag, then the EtherType.
            0x8926 if need(self, 6) => self.ethertype(self.be16(at + 4), at + 6, end),
            // 802.1ah: the I-TAG, then the customer frame.
            0x88e7 if need(self, 4) => self.ethernet(at + 4, end),
            0x6558 => self.ethernet(at, end),
            _ => {
                self.opaque(at, end);
                Ok(())
            }
        }
    }

    /// An MPLS label stack, then IP or a pseudowire (control word, Ethernet).
    fn mpls(&mut self, at: usize, end: usize) -> Result<()> {
        let mut pos = at;
        for _ in 0..16 {
            if !self.has(pos, 4, end) {
                self.opaque(pos, end);
                return Ok(());
            }
            let bottom = self.byte(pos + 2) & 1 == 1;
            pos += 4;
            if bottom {
                return match self.buf.get(pos).map(|b| b >> 4) {
                    Some(4 | 6) if pos < end => self.ip(pos, end),
                    // RFC 4385 pseudowire control word, then Ethernet.
                    Some(0) if self.has(pos, 4, end) => self.ethernet(pos + 4, end),
                    _ => {
                        self.opaque(pos, end);
                        Ok(())
                    }
                };
            }
        }
        self.opaque(pos, end);
        Ok(())
    }

    /// A PPPoE session header (RFC 2516), then PPP up to its length.
    fn pppoe(&mut self, at: usize, end: usize) -> Result<()> {
        if !self.has(at, 6, end) || self.byte(at) != 0x11 {
            self.opaque(at, end);
            return Ok(());
        }
        let body_end = (at + 6 + usize::from(self.be16(at + 4))).min(end);
        self.ppp(at + 6, body_end)?;
        self.trailer(body_end, end);
        Ok(())
    }

    /// A PPP header (RFC 1661, optional HDLC address/control, protocol field compression).
    pub(super) fn ppp(&mut self, at: usize, end: usize) -> Result<()> {
        let mut pos = at;
        if self.has(pos, 2, end) && self.byte(pos) == 0xff && self.byte(pos + 1) == 0x03 {
            pos += 2;
        }
        if !self.has(pos, 1, end) {
            self.opaque(pos, end);
            return Ok(());
        }
        let proto = if self.byte(pos) & 1 == 1 {
            pos += 1;
            u16::from(self.byte(pos - 1))
        } else if self.has(pos, 2, end) {
            pos += 2;
            self.be16(pos - 2)
        } else {
            self.opaque(pos, end);
            return Ok(());
        };
        match proto {
            0x0021 | 0x0057 => self.ip(pos, end),
            0x0281 => self.mpls(pos, end),
            // LCP, IPCP (addresses), PAP/CHAP (names, passwords)…: not decoded.
            _ => {
                self.opaque(pos, end);
                Ok(())
            }
        }
    }

    /// ARP and RARP (RFC 826): hardware and protocol addresses of sender and target.
    fn arp(&mut self, at: usize, end: usize) -> Result<()> {
        if !self.has(at, 8, end) {
            self.opaque(at, end);
            return Ok(());
        }
        let ptype = self.be16(at + 2);
        let (hlen, plen) = (
            usize::from(self.byte(at + 4)),
            usize::from(self.byte(at + 5)),
        );
        let mut pos = at + 8;
        for (len, hardware) in [(hlen, true), (plen, false), (hlen, true), (plen, false)] {
            if !self.has(pos, len, end) {
                self.opaque(pos, end);
                return Ok(());
            }
            match (hardware, len, ptype) {
                (true, 6, _) => self.mac_at(pos),
                (false, 4, 0x0800) => self.ip4_at(pos)?,
                (false, 16, 0x86dd) => self.ip6_at(pos)?,
                _ => {
                    if self.zero(pos, pos + len) {
                        self.out.scrubbed = true;
                    }
                }
            }
            pos += len;
        }
        self.trailer(pos, end);
        Ok(())
    }

    /// An IEEE 802.11 frame: every address field; the LLC/SNAP payload of unprotected data
    /// frames is followed, bodies of other frames are zeroed, protected bodies are payload.
    fn wlan(&mut self, at: usize, end: usize) -> Result<()> {
        if !self.has(at, 10, end) {
            self.opaque(at, end);
            return Ok(());
        }
        let (fc0, fc1) = (self.byte(at), self.byte(at + 1));
        let (kind, subtype) = ((fc0 >> 2) & 3, fc0 >> 4);
        self.mac_at(at + 4); // address 1
        if kind == 1 {
            // Control frames: RTS, PS-Poll, CF-End, BlockAck(Req) also carry a transmitter.
            let mut body = at + 10;
            if matches!(subtype, 8 | 9 | 10 | 11 | 14 | 15) && self.has(at, 16, end) {
                self.mac_at(at + 10);
                body = at + 16;
            }
            self.opaque(body, end);
            return Ok(());
        }
        if kind == 3 || !self.has(at, 24, end) {
            self.opaque(at + 10, end);
            return Ok(());
        }
        self.mac_at(at + 10);
        self.mac_at(at + 16);
        if kind == 0 {
            // Management bodies hold SSIDs, names and vendor data: not decoded.
            self.opaque(at + 24, end);
            return Ok(());
        }
        let mut len = 24;
        if fc1 & 0x03 == 0x03 {
            if !self.has(at, 30, end) {
                self.opaque(at + 24, end);
                return Ok(());
            }
            self.mac_at(at + 24);
            len = 30;
        }
        let mut amsdu = false;
        if subtype & 0x8 != 0 {
            amsdu = self.byte(at + len) & 0x80 != 0;
            len += 2;
            if fc1 & 0x80 != 0 {
                len += 4; // HT control
            }
        }
        if !self.has(at, len, end) {
            self.opaque(at + 24, end);
            return Ok(());
        }
        let mut body = at + len;
        if subtype & 0x4 != 0 {
            self.opaque(body, end); // null data: no body expected
            return Ok(());
        }
        if fc1 & 0x40 != 0 {
            self.payload_at(body, end); // protected: ciphertext only
            return Ok(());
        }
        if amsdu {
            // First A-MSDU subframe: DA, SA, length, then LLC/SNAP.
            if !self.has(body, 14, end) {
                self.opaque(body, end);
                return Ok(());
            }
            self.mac_at(body);
            self.mac_at(body + 6);
            body += 14;
        }
        let snap = self.has(body, 8, end)
            && self.byte(body) == 0xaa
            && self.byte(body + 1) == 0xaa
            && self.byte(body + 2) == 0x03;
        if snap {
            self.ethertype(self.be16(body + 6), body + 8, end)
        } else {
            self.opaque(body, end);
            Ok(())
        }
    }
}
