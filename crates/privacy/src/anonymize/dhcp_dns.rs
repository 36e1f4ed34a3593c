//! Address fields of two application protocols whose payloads repeat the headers' addresses:
//! DHCPv4 (RFC 2131, options of RFC 2132 and later) and DNS (RFC 1035; AAAA RFC 3596, SVCB/HTTPS
//! hints RFC 9460, EDNS Client Subnet RFC 7871).
//!
//! Both are payload: a message that does not parse is left as it is (the payload policy
//! decides), and parsing stops at the first field that does not fit; every address field met
//! before is rewritten. Names (host names, domain names, PTR names, DHCP client FQDNs) are
//! not: a pseudonym token is longer than the name, and lengths must not change.

use super::walk::Walk;
use crate::error::Result;

/// DHCP options holding a list of IPv4 addresses.
const DHCP_ADDRESS_LISTS: [u8; 27] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 16, 28, 32, 33, 41, 42, 44, 45, 48, 49, 50, 54, 65, 68, 69, 70,
    118, 150,
];
/// DHCP options 71–76 (SMTP, POP3, NNTP, WWW, finger, IRC servers): address lists too.
const DHCP_SERVER_LISTS: std::ops::RangeInclusive<u8> = 71..=76;
/// The BOOTP magic cookie that starts the options (RFC 2131 §3).
const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];
/// Most labels a DNS name may have (255 bytes of name allow at most 127).
const MAX_LABELS: usize = 128;

impl Walk<'_, '_> {
    /// A DHCPv4 / BOOTP message at `[at, end)`.
    ///
    /// # Errors
    /// A pseudonym collision.
    pub(super) fn dhcp(&mut self, at: usize, end: usize) -> Result<()> {
        // ciaddr, yiaddr, siaddr, giaddr.
        for field in [12, 16, 20, 24] {
            if !self.has(at + field, 4, end) {
                return Ok(());
            }
            self.ip4_at(at + field)?;
        }
        // chaddr: a MAC when the hardware is Ethernet-like with 6-byte addresses.
        if self.byte(at + 2) == 6 && self.has(at + 28, 6, end) {
            self.mac_at(at + 28);
        }
        if !self.has(at + 236, 4, end) || self.buf.get(at + 236..at + 240) != Some(&MAGIC_COOKIE) {
            return Ok(());
        }
        let overload = self.dhcp_options(at + 240, end)?;
        // Option 52: the file (1) and sname (2) fields hold more options.
        if overload & 1 != 0 && self.has(at + 108, 128, end) {
            self.dhcp_options(at + 108, at + 236)?;
        }
        if overload & 2 != 0 && self.has(at + 44, 64, end) {
            self.dhcp_options(at + 44, at + 108)?;
        }
        Ok(())
    }

    /// DHCP options in `[pos, end)`; returns the option-overload value (option 52).
    fn dhcp_options(&mut self, mut pos: usize, end: usize) -> Result<u8> {
        let mut overload = 0;
        while pos < end {
            let code = self.byte(pos);
            match code {
                0 => {
                    pos += 1;
                    continue;
                }
                255 => break,
                _ => {}
            }
            if !self.has(pos, 2, end) {
                break;
            }
            let len = usize::from(self.byte(pos + 1));
            let data = pos + 2;
            if !self.has(data, len, end) {
                break;
            }
            match code {
                _ if DHCP_ADDRESS_LISTS.contains(&code) || DHCP_SERVER_LISTS.contains(&code) => {
                    let mut a = data;
                    while a + 4 <= data + len {
                        self.ip4_at(a)?;
                        a += 4;
                    }
                }
                // Policy filter: (address, mask) pairs.
                21 => {
                    let mut a = data;
                    while a + 8 <= data + len {
                        self.ip4_at(a)?;
                        a += 8;
                    }
                }
                // Client identifier of hardware type 1: a MAC.
                61 if len == 7 && self.byte(data) == 1 => self.mac_at(data + 1),
                52 if len == 1 => overload = self.byte(data),
                // Classless static routes (RFC 3442; 249 is Microsoft's copy).
                121 | 249 => self.classless_routes(data, data + len)?,
                _ => {}
            }
            pos = data + len;
        }
        Ok(overload)
    }

    /// RFC 3442 routes: width, significant octets of the destination, router.
    fn classless_routes(&mut self, mut pos: usize, end: usize) -> Result<()> {
        while pos < end {
            let width = self.byte(pos);
            if width > 32 {
                return Ok(());
            }
            let octets = usize::from(width).div_ceil(8);
            if !self.has(pos + 1, octets + 4, end) {
                return Ok(());
            }
            self.prefix4(pos + 1, octets, width)?;
            self.ip4_at(pos + 1 + octets)?;
            pos += 1 + octets + 4;
        }
        Ok(())
    }

    /// DNS over TCP (RFC 1035 §4.2.2): messages with a two-byte length, from the start of the
    /// segment's payload. A segment that starts inside a message is not recognised.
    ///
    /// # Errors
    /// A pseudonym collision.
    pub(super) fn dns_tcp(&mut self, mut pos: usize, end: usize) -> Result<()> {
        while self.has(pos, 2, end) {
            let len = usize::from(self.be16(pos));
            if len < 12 {
                return Ok(());
            }
            let msg_end = pos + 2 + len;
            self.dns_message(pos + 2, msg_end.min(end))?;
            pos = msg_end;
        }
        Ok(())
    }

    /// A DNS message: address records in every section, SVCB/HTTPS hints, EDNS client subnet.
    ///
    /// # Errors
    /// A pseudonym collision.
    pub(super) fn dns_message(&mut self, at: usize, end: usize) -> Result<()> {
        if !self.has(at, 12, end) {
            return Ok(());
        }
        let questions = usize::from(self.be16(at + 4));
        let records = usize::from(self.be16(at + 6))
            + usize::from(self.be16(at + 8))
            + usize::from(self.be16(at + 10));
        let mut pos = at + 12;
        for _ in 0..questions {
            match self.skip_name(pos, end) {
                Some(p) if self.has(p, 4, end) => pos = p + 4,
                _ => return Ok(()),
            }
        }
        for _ in 0..records {
            let Some(p) = self.skip_name(pos, end) else {
                return Ok(());
            };
            if !self.has(p, 10, end) {
                return Ok(());
            }
            let (rtype, class) = (self.be16(p), self.be16(p + 2) & 0x7fff);
            let rdlen = usize::from(self.be16(p + 8));
            let rdata = p + 10;
            if !self.has(rdata, rdlen, end) {
                return Ok(());
            }
            match (rtype, class, rdlen) {
                (1, 1, 4) => self.ip4_at(rdata)?,
                (28, 1, 16) => self.ip6_at(rdata)?,
                // WKS: an address, a protocol, a port bitmap.
                (11, 1, 5..) => self.ip4_at(rdata)?,
                (64 | 65, 1, _) => self.svcb(rdata, rdata + rdlen)?,
                (41, _, _) => self.edns(rdata, rdata + rdlen)?,
                _ => {}
            }
            pos = rdata + rdlen;
        }
        Ok(())
    }

    /// The end of the (possibly compressed) name at `pos`, if it is well formed.
    fn skip_name(&self, mut pos: usize, end: usize) -> Option<usize> {
        for _ in 0..MAX_LABELS {
            if !self.has(pos, 1, end) {
                return None;
            }
            let len = self.byte(pos);
            match len & 0xc0 {
                0 if len == 0 => return Some(pos + 1),
                0 => pos += 1 + usize::from(len),
                0xc0 => return self.has(pos, 2, end).then_some(pos + 2),
                _ => return None,
            }
        }
        None
    }

    /// SVCB / HTTPS RDATA: priority, target name, then parameters; `ipv4hint` (4) and
    /// `ipv6hint` (6) list addresses.
    fn svcb(&mut self, at: usize, end: usize) -> Result<()> {
        let Some(mut pos) = self.skip_name(at + 2, end) else {
            return Ok(());
        };
        while self.has(pos, 4, end) {
            let (key, len) = (self.be16(pos), usize::from(self.be16(pos + 2)));
            let value = pos + 4;
            if !self.has(value, len, end) {
                return Ok(());
            }
            let size = match key {
                4 => 4,
                6 => 16,
                _ => 0,
            };
            if size != 0 {
                let mut a = value;
                while a + size <= value + len {
                    if size == 4 {
                        self.ip4_at(a)?;
                    } else {
                        self.ip6_at(a)?;
                    }
                    a += size;
                }
            }
            pos = value + len;
        }
        Ok(())
    }

    /// EDNS options (RFC 6891): the client subnet option (8) holds an address prefix.
    fn edns(&mut self, mut pos: usize, end: usize) -> Result<()> {
        while self.has(pos, 4, end) {
            let (code, len) = (self.be16(pos), usize::from(self.be16(pos + 2)));
            let data = pos + 4;
            if !self.has(data, len, end) {
                return Ok(());
            }
            if code == 8 && len >= 4 {
                let (family, bits) = (self.be16(data), self.byte(data + 2));
                let stored = len - 4;
                match family {
                    1 if stored <= 4 => self.prefix4(data + 4, stored, bits)?,
                    2 if stored <= 16 => self.prefix6(data + 4, stored, bits)?,
                    _ => {}
                }
            }
            pos = data + len;
        }
        Ok(())
    }
}
