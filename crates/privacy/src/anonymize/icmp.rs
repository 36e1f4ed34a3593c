//! ICMP (RFC 792, with RFC 4884 extensions), ICMPv6 (RFC 4443): errors' quoted packets,
//! neighbour discovery (RFC 4861) and its options, MLD (RFC 2710, RFC 3810), and IGMP
//! (RFC 2236, RFC 3376).

use super::checksum::{Pseudo, Scope};
use super::mapper::Mapper;
use super::walk::Walk;
use crate::error::Result;

impl<'p> Walk<'_, 'p> {
    /// An ICMP message at `[at, end)`.
    ///
    /// # Errors
    /// A pseudonym collision.
    pub(super) fn icmp4(&mut self, at: usize, end: usize) -> Result<()> {
        if !self.has(at, 4, end) {
            return Ok(()); // type and code only: nothing to rewrite
        }
        self.edits.scope(Scope {
            field: at + 2,
            start: at,
            end,
            pseudo: None,
            udp: false,
        });
        let body = (at + 8).min(end);
        match self.byte(at) {
            // Echo, information: identifier and sequence, then data.
            0 | 8 | 15 | 16 => self.payload_at(body, end),
            // Destination unreachable, source quench, time exceeded, parameter problem.
            3 | 4 | 11 | 12 => self.quoted(at, end, 5, 4)?,
            5 => {
                // Redirect: the gateway, then the quoted packet.
                if self.ip4_field(at + 4, end)? {
                    self.quoted(at, end, usize::MAX, 4)?;
                }
            }
            9 => self.router_advertisement(at, end)?,
            // Timestamp (20 bytes), address mask (12 bytes): no addresses.
            13 | 14 => self.payload_at((at + 20).min(end), end),
            17 | 18 => self.payload_at((at + 12).min(end), end),
            // Router solicitation and types whose body cannot be read.
            _ => self.opaque(body, end),
        }
        Ok(())
    }

    /// An ICMPv6 message at `[at, end)` under an IPv6 header with `pseudo`.
    ///
    /// # Errors
    /// A pseudonym collision.
    pub(super) fn icmp6(&mut self, at: usize, end: usize, pseudo: Pseudo) -> Result<()> {
        if !self.has(at, 4, end) {
            return Ok(());
        }
        self.edits.scope(Scope {
            field: at + 2,
            start: at,
            end,
            pseudo: Some(pseudo),
            udp: false,
        });
        let body = (at + 8).min(end);
        match self.byte(at) {
            // Destination unreachable and time exceeded carry an RFC 4884 length (64-bit words).
            1 | 3 => self.quoted(at, end, 4, 8)?,
            2 | 4 => self.quoted(at, end, usize::MAX, 8)?,
            128 | 129 => self.payload_at(body, end),
            // MLD query (v1 and v2), report, done: the multicast address (kept), v2 sources.
            130 => {
                if self.ip6_field(at + 8, end)? && self.has(at, 28, end) {
                    let count = usize::from(self.be16(at + 26));
                    self.address_list6(at + 28, count, end)?;
                }
            }
            131 | 132 => {
                self.ip6_field(at + 8, end)?;
            }
            143 => self.mld2_report(at, end)?,
            // Router solicitation, router advertisement: options.
            133 => self.nd_options(body, end)?,
            134 => self.nd_options((at + 16).min(end), end)?,
            // Neighbour solicitation and advertisement: the target, then options.
            135 | 136 => {
                if self.ip6_field(at + 8, end)? {
                    self.nd_options(at + 24, end)?;
                }
            }
            // Redirect: target and destination, then options.
            137 => {
                if self.ip6_field(at + 8, end)? && self.ip6_field(at + 24, end)? {
                    self.nd_options(at + 40, end)?;
                }
            }
            _ => self.opaque(body, end),
        }
        Ok(())
    }

    /// The packet quoted by an ICMP error, after its 8-byte header. When the RFC 4884 length
    /// byte at `at + length_at` is set, what follows the quoted packet is an extension
    /// structure (interface and next-hop objects hold addresses): zeroed.
    fn quoted(&mut self, at: usize, end: usize, length_at: usize, unit: usize) -> Result<()> {
        let start = at + 8;
        if start >= end {
            return Ok(());
        }
        let words = if length_at == usize::MAX {
            0
        } else {
            usize::from(self.byte(at + length_at))
        };
        let quoted_end = if words == 0 {
            end
        } else {
            (start + words * unit).min(end)
        };
        self.ip(start, quoted_end)?;
        self.opaque(quoted_end, end);
        Ok(())
    }

    /// An ICMP router advertisement (RFC 1256): (address, preference) entries.
    fn router_advertisement(&mut self, at: usize, end: usize) -> Result<()> {
        let count = usize::from(self.byte(at + 4));
        let size = usize::from(self.byte(at + 5)) * 4;
        if size < 8 {
            self.opaque(at + 8, end);
            return Ok(());
        }
        let mut pos = at + 8;
        for _ in 0..count {
            if !self.ip4_field(pos, end)? {
                return Ok(());
            }
            pos += size;
        }
        self.opaque(pos, end);
        Ok(())
    }

    /// `count` IPv6 addresses from `at`; a cut list is zeroed from the cut address on.
    fn address_list6(&mut self, mut at: usize, count: usize, end: usize) -> Result<usize> {
        for _ in 0..count {
            if !self.ip6_field(at, end)? {
                return Ok(end);
            }
            at += 16;
        }
        Ok(at)
    }

    /// `count` IPv4 addresses from `at`; a cut list is zeroed from the cut address on.
    fn address_list4(&mut self, mut at: usize, count: usize, end: usize) -> Result<usize> {
        for _ in 0..count {
            if !self.ip4_field(at, end)? {
                return Ok(end);
            }
            at += 4;
        }
        Ok(at)
    }

    /// An MLDv2 report (RFC 3810 §5.2): records of a multicast address and its sources.
    fn mld2_report(&mut self, at: usize, end: usize) -> Result<()> {
        let records = usize::from(self.be16(at + 6));
        let mut pos = at + 8;
        for _ in 0..records {
            if !self.has(pos, 4, end) {
                self.opaque(pos, end);
                return Ok(());
            }
            let aux = usize::from(self.byte(pos + 1)) * 4;
            let sources = usize::from(self.be16(pos + 2));
            if !self.ip6_field(pos + 4, end)? {
                return Ok(());
            }
            pos = self.address_list6(pos + 20, sources, end)?;
            // Auxiliary data is undefined by RFC 3810: zeroed.
            let aux_end = pos.saturating_add(aux).min(end);
            self.opaque(pos, aux_end);
            pos = aux_end;
        }
        self.opaque(pos, end);
        Ok(())
    }

    /// Neighbour-discovery options (RFC 4861 §4.6 and later): link-layer addresses, prefixes,
    /// routes, DNS servers, the redirected packet; unknown options' data is zeroed.
    fn nd_options(&mut self, mut pos: usize, end: usize) -> Result<()> {
        while pos < end {
            let len = usize::from(self.byte(pos + 1)) * 8;
            if !self.has(pos, 2, end) || len == 0 || !self.has(pos, len, end) {
                self.opaque(pos, end);
                return Ok(());
            }
            let data_end = pos + len;
            match self.byte(pos) {
                // Source / target link-layer address: a MAC on Ethernet.
                1 | 2 if len == 8 => self.mac_at(pos + 2),
                // Prefix information: prefix length, then the prefix at +16.
                3 if len == 32 => self.prefix6(pos + 16, 16, self.byte(pos + 2))?,
                // Redirected header: 6 reserved bytes, then the original packet.
                4 => self.ip(pos + 8, data_end)?,
                // MTU, nonce: no addresses. DNS search list (31): names, not rewritten.
                5 | 14 | 31 => {}
                // Route information: prefix length, then 0, 8 or 16 prefix bytes.
                24 => self.prefix6(pos + 8, len - 8, self.byte(pos + 2))?,
                // Recursive DNS servers: lifetime, then addresses.
                25 => {
                    self.address_list6(pos + 8, (len - 8) / 16, data_end)?;
                }
                _ => self.opaque(pos + 2, data_end),
            }
            pos = data_end;
        }
        Ok(())
    }

    /// An IPv6 prefix of `bits` bits stored in `bytes` bytes at `at` (≤ 16).
    pub(super) fn prefix6(&mut self, at: usize, bytes: usize, bits: u8) -> Result<()> {
        self.prefix::<16>(at, bytes, bits.min(128), |m, a, n| m.prefix_v6(a, n))
    }

    /// An IPv4 prefix of `bits` bits stored in `bytes` bytes at `at` (≤ 4).
    pub(super) fn prefix4(&mut self, at: usize, bytes: usize, bits: u8) -> Result<()> {
        self.prefix::<4>(at, bytes, bits.min(32), |m, a, n| m.prefix_v4(a, n))
    }

    /// A prefix of `bits` bits of an `N`-byte address stored in its first `bytes` bytes at
    /// `at`, mapped by `map`.
    fn prefix<const N: usize>(
        &mut self,
        at: usize,
        bytes: usize,
        bits: u8,
        map: impl FnOnce(&mut Mapper<'p>, [u8; N], u8) -> Result<[u8; N]>,
    ) -> Result<()> {
        let bytes = bytes.min(N);
        let Some(stored) = self.buf.get(at..at + bytes) else {
            return Ok(());
        };
        let mut full = [0u8; N];
        if let Some(dst) = full.get_mut(..bytes) {
            dst.copy_from_slice(stored);
        }
        let mapped = map(self.map, full, bits)?;
        if mapped.get(..bytes) != self.buf.get(at..at + bytes) {
            self.put(at, mapped.get(..bytes).unwrap_or(&[]));
            self.out.addresses += 1;
        }
        Ok(())
    }

    /// An IGMP message (no pseudo-header): the group (multicast, kept) and v3 sources.
    ///
    /// # Errors
    /// A pseudonym collision.
    pub(super) fn igmp(&mut self, at: usize, end: usize) -> Result<()> {
        if !self.has(at, 4, end) {
            return Ok(());
        }
        self.edits.scope(Scope {
            field: at + 2,
            start: at,
            end,
            pseudo: None,
            udp: false,
        });
        match self.byte(at) {
            0x11 => {
                // Query; version 3 when longer than 8 bytes: sources at +12.
                if self.ip4_field(at + 4, end)? && self.has(at, 12, end) {
                    let count = usize::from(self.be16(at + 10));
                    let after = self.address_list4(at + 12, count, end)?;
                    self.opaque(after, end);
                }
            }
            0x12 | 0x16 | 0x17 => {
                self.ip4_field(at + 4, end)?;
            }
            0x22 => {
                // Version 3 report: records of a group and its sources.
                let records = usize::from(self.be16(at + 6));
                let mut pos = at + 8;
                for _ in 0..records {
                    if !self.has(pos, 4, end) {
                        break;
                    }
                    let aux = usize::from(self.byte(pos + 1)) * 4;
                    let sources = usize::from(self.be16(pos + 2));
                    if !self.ip4_field(pos + 4, end)? {
                        return Ok(());
                    }
                    pos = self.address_list4(pos + 8, sources, end)?;
                    let aux_end = pos.saturating_add(aux).min(end);
                    self.opaque(pos, aux_end);
                    pos = aux_end;
                }
                self.opaque(pos, end);
            }
            // DVMRP, PIMv1, mtrace…: not decoded.
            _ => self.opaque(at + 4, end),
        }
        Ok(())
    }
}
