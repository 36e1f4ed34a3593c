//! IPv4 (with options) and IPv6 (with extension headers), the transports and the tunnels the
//! decoder follows: IP in IP, GRE (ERSPAN, PPTP), and over UDP VXLAN, Geneve, GTP-U, AYIYA,
//! GRE-in-UDP and Teredo.

use custos_decode::wire::{geneve, gre, gtp, teredo};

use super::checksum::{Pseudo, Scope};
use super::walk::Walk;
use crate::error::Result;

/// Most IPv6 extension headers walked (as the decoder).
const MAX_EXTENSIONS: usize = 16;

/// UDP ports whose payload is DNS (DNS, mDNS, LLMNR).
const DNS_PORTS: [u16; 3] = [53, 5353, 5355];

impl Walk<'_, '_> {
    /// An IP packet of either version at `[at, end)`.
    ///
    /// # Errors
    /// A pseudonym collision.
    pub(super) fn ip(&mut self, at: usize, end: usize) -> Result<()> {
        if !self.step() {
            self.opaque(at, end);
            return Ok(());
        }
        match self.buf.get(at).map(|b| b >> 4) {
            Some(4) if at < end => self.ipv4(at, end),
            Some(6) if at < end => self.ipv6(at, end),
            _ => {
                self.damaged_ip(at, end);
                Ok(())
            }
        }
    }

    /// An IP header that cannot be read: zeroed, all but its first byte — the version nibble
    /// tells outer layers (GTP-U, MPLS) whether a tunnel follows, and must not change.
    fn damaged_ip(&mut self, at: usize, end: usize) {
        self.opaque((at + 1).min(end), end);
    }

    fn ipv4(&mut self, at: usize, end: usize) -> Result<()> {
        let ihl = usize::from(self.byte(at) & 0x0f) * 4;
        let total = usize::from(self.be16(at + 2));
        if !self.has(at, 20, end) || ihl < 20 || !self.has(at, ihl, end) || total < ihl {
            self.damaged_ip(at, end);
            return Ok(());
        }
        self.out.ip_layers += 1;
        let hdr_end = at + ihl;
        let ip_end = (at + total).min(end);
        self.edits.scope(Scope {
            field: at + 10,
            start: at,
            end: hdr_end,
            pseudo: None,
            udp: false,
        });
        self.ip4_at(at + 12)?;
        self.ip4_at(at + 16)?;
        self.ipv4_options(at + 20, hdr_end)?;
        let fragment_offset = usize::from(self.be16(at + 6) & 0x1fff) * 8;
        let pseudo = Pseudo {
            src: at + 12,
            dst: at + 16,
            len: 4,
        };
        if fragment_offset != 0 {
            self.later_fragment(self.byte(at + 9), fragment_offset, hdr_end, ip_end, pseudo);
        } else {
            self.transport(self.byte(at + 9), hdr_end, ip_end, pseudo)?;
        }
        self.trailer(ip_end, end);
        Ok(())
    }

    /// IPv4 options (RFC 791): route records, source routes and timestamps carry addresses.
    fn ipv4_options(&mut self, mut pos: usize, end: usize) -> Result<()> {
        while pos < end {
            let kind = self.byte(pos);
            match kind {
                0 => return Ok(()),
                1 => {
                    pos += 1;
                    continue;
                }
                _ => {}
            }
            let len = usize::from(self.byte(pos + 1));
            if len < 2 || !self.has(pos, len, end) {
                // Damaged option list: nothing after this point can be read.
                self.opaque(pos, end);
                return Ok(());
            }
            match kind {
                // Record route, loose and strict source routes: pointer, then addresses.
                7 | 131 | 137 => {
                    let mut a = pos + 3;
                    while a + 4 <= pos + len {
                        self.ip4_at(a)?;
                        a += 4;
                    }
                }
                // Timestamp with addresses (flag 1 or 3): (address, time) pairs.
                68 if matches!(self.byte(pos + 3) & 0x0f, 1 | 3) => {
                    let mut a = pos + 4;
                    while a + 8 <= pos + len {
                        self.ip4_at(a)?;
                        a += 8;
                    }
                }
                _ => {}
            }
            pos += len;
        }
        Ok(())
    }

    fn ipv6(&mut self, at: usize, end: usize) -> Result<()> {
        if !self.has(at, 40, end) {
            self.damaged_ip(at, end);
            return Ok(());
        }
        self.out.ip_layers += 1;
        self.ip6_at(at + 8)?;
        self.ip6_at(at + 24)?;
        let ip_end = (at + 40 + usize::from(self.be16(at + 4))).min(end);
        let mut next = self.byte(at + 6);
        let mut pos = at + 40;
        // The transport pseudo-header (RFC 8200 §8.1, RFC 6275 §6.3): the final destination of
        // a routing header, the home address of a destination option.
        let mut pseudo = Pseudo {
            src: at + 8,
            dst: at + 24,
            len: 16,
        };
        for _ in 0..=MAX_EXTENSIONS {
            let len = match next {
                // Hop-by-hop, routing, destination options, mobility, HIP, Shim6.
                0 | 43 | 60 | 135 | 139 | 140 if self.has(pos, 2, ip_end) => {
                    (usize::from(self.byte(pos + 1)) + 1) * 8
                }
                51 if self.has(pos, 2, ip_end) => (usize::from(self.byte(pos + 1)) + 2) * 4,
                44 => 8,
                0 | 43 | 60 | 135 | 139 | 140 | 51 => usize::MAX,
                _ => {
                    self.transport(next, pos, ip_end, pseudo)?;
                    self.trailer(ip_end, end);
                    return Ok(());
                }
            };
            if !self.has(pos, len, ip_end) {
                self.opaque(pos, ip_end);
                self.trailer(ip_end, end);
                return Ok(());
            }
            let hdr_end = pos + len;
            match next {
                43 => {
                    if let Some(dst) = self.routing(pos, hdr_end)? {
                        pseudo.dst = dst;
                    }
                }
                60 => {
                    if let Some(src) = self.destination_options(pos, hdr_end)? {
                        pseudo.src = src;
                    }
                }
                135 => {
                    // Mobility header (RFC 6275): its messages and options carry addresses;
                    // they are zeroed and its checksum (with the pseudo-header) kept consistent.
                    self.edits.scope(Scope {
                        field: pos + 4,
                        start: pos,
                        end: hdr_end,
                        pseudo: Some(pseudo),
                        udp: false,
                    });
                    self.opaque(pos + 6, hdr_end);
                }
                // HIP and Shim6 carry host identities: zeroed after their fixed part.
                139 | 140 => self.opaque(pos + 8, hdr_end),
                44 if self.be16(pos + 2) & 0xfff8 != 0 => {
                    let offset = usize::from(self.be16(pos + 2) & 0xfff8);
                    self.later_fragment(self.byte(pos), offset, hdr_end, ip_end, pseudo);
                    self.trailer(ip_end, end);
                    return Ok(());
                }
                _ => {}
            }
            next = self.byte(pos);
            pos = hdr_end;
        }
        // More extension headers than the decoder walks.
        self.opaque(pos, ip_end);
        self.trailer(ip_end, end);
        Ok(())
    }

    /// A routing header: type 0 and 2 address lists, type 4 (SRH) segment lists; other types'
    /// data is zeroed. Returns where the final destination is, when segments are left.
    fn routing(&mut self, pos: usize, end: usize) -> Result<Option<usize>> {
        let segments_left = self.byte(pos + 3);
        let (mut count, final_at) = match self.byte(pos + 2) {
            // Type 0: the last address; type 2: the home address.
            0 => {
                let n = (end - pos).saturating_sub(8) / 16;
                (n, pos + 8 + n.saturating_sub(1) * 16)
            }
            2 => (1, pos + 8),
            // SRH: the final segment is Segment List[0] (RFC 8754 §2).
            4 => (usize::from(self.byte(pos + 4)) + 1, pos + 8),
            _ => {
                self.opaque(pos + 4, end);
                return Ok(None);
            }
        };
        let mut a = pos + 8;
        while count > 0 && self.has(a, 16, end) {
            self.ip6_at(a)?;
            a += 16;
            count -= 1;
        }
        Ok((segments_left > 0 && self.has(final_at, 16, end)).then_some(final_at))
    }

    /// Destination options: the Home Address option (RFC 6275 §6.3); returns its offset.
    fn destination_options(&mut self, pos: usize, end: usize) -> Result<Option<usize>> {
        let mut home = None;
        let mut o = pos + 2;
        while o < end {
            let kind = self.byte(o);
            if kind == 0 {
                o += 1;
                continue;
            }
            if !self.has(o, 2, end) {
                break;
            }
            let len = usize::from(self.byte(o + 1));
            if !self.has(o + 2, len, end) {
                break;
            }
            if kind == 201 && len == 16 {
                self.ip6_at(o + 2)?;
                home = Some(o + 2);
            }
            o += 2 + len;
        }
        Ok(home)
    }

    /// A fragment other than the first: its bytes are the middle of a datagram, payload. But
    /// when it holds the transport checksum (a TCP header cut by a tiny first fragment), that
    /// checksum covers the pseudo-header addresses this fragment's header repeats: it is
    /// updated for them.
    fn later_fragment(&mut self, proto: u8, offset: usize, at: usize, end: usize, pseudo: Pseudo) {
        let field: usize = match proto {
            6 => 16,
            17 => 6,
            58 => 2,
            _ => 0,
        };
        if let Some(rel) = field.checked_sub(offset).filter(|_| field != 0) {
            let zero_udp = proto == 17 && pseudo.len == 4 && self.be16(at + rel) == 0;
            if self.has(at + rel, 2, end) && !zero_udp {
                self.edits.scope(Scope {
                    field: at + rel,
                    start: at,
                    end: at,
                    pseudo: Some(pseudo),
                    udp: proto == 17,
                });
            }
        }
        self.payload_at(at, end);
    }

    /// The upper-layer protocol `proto` at `[at, end)` under an IP header with `pseudo`.
    fn transport(&mut self, proto: u8, at: usize, end: usize, pseudo: Pseudo) -> Result<()> {
        match proto {
            6 => self.tcp(at, end, pseudo),
            17 => self.udp(at, end, pseudo),
            1 => self.icmp4(at, end),
            58 => self.icmp6(at, end, pseudo),
            2 => self.igmp(at, end),
            4 | 41 => self.ip(at, end),
            47 => self.gre(at, end),
            // ESP: SPI and sequence number, then ciphertext (payload).
            50 => {
                self.payload_at((at + 8).min(end), end);
                Ok(())
            }
            // AH in IPv4 (IPv6 walks it as an extension header): skip it, go on.
            51 if self.has(at, 2, end) => {
                let len = (usize::from(self.byte(at + 1)) + 2) * 4;
                if self.has(at, len, end) {
                    self.transport(self.byte(at), at + len, end, pseudo)
                } else {
                    self.opaque(at, end);
                    Ok(())
                }
            }
            // SCTP: the common header has no addresses; chunks (INIT address parameters…)
            // are not decoded.
            132 => {
                self.opaque((at + 12).min(end), end);
                Ok(())
            }
            _ => {
                self.opaque(at, end);
                Ok(())
            }
        }
    }

    fn tcp(&mut self, at: usize, end: usize, pseudo: Pseudo) -> Result<()> {
        if !self.has(at, 20, end) {
            return Ok(()); // a cut fixed header holds no address
        }
        let doff = usize::from(self.byte(at + 12) >> 4) * 4;
        if doff < 20 {
            // Not a TCP header the decoder accepts; what follows is unknown payload.
            self.payload_at(at + 20, end);
            return Ok(());
        }
        self.edits.scope(Scope {
            field: at + 16,
            start: at,
            end,
            pseudo: Some(pseudo),
            udp: false,
        });
        // Options may be cut by the capture or by a first fragment: walk what is there.
        let body = at + doff;
        self.tcp_options(at + 20, body.min(end))?;
        let (sport, dport) = (self.be16(at), self.be16(at + 2));
        if (sport == 53 || dport == 53) && body < end {
            self.dns_tcp(body, end)?;
        }
        self.payload_at(body, end);
        Ok(())
    }

    /// TCP options: MPTCP ADD_ADDR (RFC 8684 §3.4.1) announces an address.
    fn tcp_options(&mut self, mut pos: usize, end: usize) -> Result<()> {
        while pos < end {
            match self.byte(pos) {
                0 => return Ok(()),
                1 => {
                    pos += 1;
                    continue;
                }
                _ => {}
            }
            let len = usize::from(self.byte(pos + 1));
            if len < 2 || !self.has(pos, len, end) {
                return Ok(()); // malformed: left for the decoder to judge
            }
            if self.byte(pos) == 30 && self.byte(pos + 2) >> 4 == 3 {
                match len {
                    8 | 10 | 16 | 18 => self.ip4_at(pos + 4)?,
                    20 | 22 | 28 | 30 => self.ip6_at(pos + 4)?,
                    _ => {}
                }
            }
            pos += len;
        }
        Ok(())
    }

    fn udp(&mut self, at: usize, end: usize, pseudo: Pseudo) -> Result<()> {
        if !self.has(at, 8, end) {
            return Ok(()); // a cut header holds no address
        }
        let ulen = usize::from(self.be16(at + 4));
        let udp_end = if ulen >= 8 && at + ulen <= end {
            at + ulen
        } else {
            end
        };
        // RFC 768: a zero checksum over IPv4 means "none"; it stays zero.
        if !(pseudo.len == 4 && self.be16(at + 6) == 0) {
            self.edits.scope(Scope {
                field: at + 6,
                start: at,
                end: udp_end,
                pseudo: Some(pseudo),
                udp: true,
            });
        }
        self.trailer(udp_end, end);
        let (sport, dport) = (self.be16(at), self.be16(at + 2));
        self.udp_payload(sport, dport, at + 8, udp_end)
    }

    /// A UDP payload: the tunnels the decoder recognises (by port, and Teredo by content),
    /// then DHCP and DNS, else payload.
    fn udp_payload(&mut self, sport: u16, dport: u16, at: usize, end: usize) -> Result<()> {
        let on = |p: u16| sport == p || dport == p;
        if on(4789) {
            // VXLAN (RFC 7348): 8 bytes with the I flag, then Ethernet.
            if self.has(at, 8, end) && self.byte(at) & 0x08 != 0 {
                return self.ethernet(at + 8, end);
            }
        } else if on(geneve::PORT) {
            let inner = self.buf.get(at..end).and_then(|b| geneve::parse(b).ok());
            if let Some((proto, body)) = inner {
                let start = self.offset_of(body).unwrap_or(end);
                match proto {
                    0x6558 => return self.ethernet(start, end),
                    0x0800 | 0x86dd => return self.ip(start, end),
                    _ => {}
                }
            }
        } else if on(gtp::PORT) {
            let inner = self.buf.get(at..end).and_then(|b| gtp::parse(b).ok());
            if let Some(h) = inner {
                let first = h.payload.first().map(|b| b >> 4);
                let (len, start) = (h.payload.len(), self.offset_of(h.payload));
                if let (gtp::MSG_GPDU, Some(4 | 6), Some(start)) = (h.msg_type, first, start) {
                    self.ip(start, start + len)?;
                    self.trailer(start + len, end);
                    return Ok(());
                }
            }
        } else if on(5072) {
            // AYIYA: its identity names the tunnel's owner (zeroed), then IPv4 or IPv6.
            if self.has(at, 8, end) && self.byte(at + 2) & 0x0f == 1 {
                let id_len = 1usize << (self.byte(at) >> 4);
                let sig_len = usize::from(self.byte(at + 1) >> 4) * 4;
                let start = at + 8 + id_len + sig_len;
                if matches!(self.byte(at + 3), 4 | 41) && start <= end {
                    if self.zero(at + 8, at + 8 + id_len) {
                        self.out.scrubbed = true;
                    }
                    return self.ip(start, end);
                }
            }
        } else if on(4754) {
            return self.gre(at, end); // GRE in UDP (RFC 8086)
        }
        // Teredo relays use any port: a payload that is exactly one IPv6 packet.
        let teredo = self.buf.get(at..end).and_then(|b| teredo::parse(b).ok());
        if let Some(start) = teredo.and_then(|ip6| self.offset_of(ip6)) {
            self.teredo_origin(at, start)?;
            return self.ip(start, end);
        }
        if on(67) || on(68) {
            self.dhcp(at, end)?;
        } else if DNS_PORTS.iter().any(|p| on(*p)) {
            self.dns_message(at, end)?;
        }
        self.payload_at(at, end);
        Ok(())
    }

    /// A Teredo origin indication (RFC 4380 §5.1.1) before the IPv6 packet at `ipv6` holds the
    /// client's mapped address, bit-inverted: it is rewritten like any IPv4 address.
    fn teredo_origin(&mut self, at: usize, ipv6: usize) -> Result<()> {
        let mut pos = at;
        if self.be16(pos) == 0x0001 && self.has(pos, 4, ipv6) {
            // Authentication indication: client id, authentication value, nonce, confirmation.
            pos += 4 + usize::from(self.byte(pos + 2)) + usize::from(self.byte(pos + 3)) + 9;
        }
        if pos + 8 != ipv6 || self.be16(pos) != 0 {
            return Ok(());
        }
        let Some(old) = self
            .buf
            .get(pos + 4..pos + 8)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
        else {
            return Ok(());
        };
        let original = old.map(|b| !b);
        let mapped = self.map.v4(original)?;
        if mapped != original {
            self.put(pos + 4, &mapped.map(|b| !b));
            self.out.addresses += 1;
        }
        Ok(())
    }

    /// GRE (RFC 2784/2890, PPTP), its optional checksum, and what it carries.
    fn gre(&mut self, at: usize, end: usize) -> Result<()> {
        let parsed = self.buf.get(at..end).and_then(|b| gre::parse(b).ok());
        let Some(h) = parsed else {
            self.opaque(at, end);
            return Ok(());
        };
        let start = self.offset_of(h.payload).unwrap_or(end);
        if self.byte(at) & 0x80 != 0 {
            // The checksum covers the GRE header and payload (RFC 2784 §2.5).
            self.edits.scope(Scope {
                field: at + 4,
                start: at,
                end,
                pseudo: None,
                udp: false,
            });
        }
        match h.protocol {
            gre::PROTO_ERSPAN_2 | gre::PROTO_ERSPAN_3 => match gre::strip_erspan(&h) {
                Ok(frame) => {
                    let inner = self.offset_of(frame).unwrap_or(end);
                    self.ethernet(inner, end)
                }
                // A cut ERSPAN header holds no address; zeroing it could change its flags
                // and so how the decoder reads it.
                Err(_) => {
                    self.payload_at(start, end);
                    Ok(())
                }
            },
            gre::PROTO_PPP => self.ppp(start, end),
            0x0800 | 0x86dd => self.ip(start, end),
            0x6558 => self.ethernet(start, end),
            0x8847 | 0x8848 => self.ethertype(h.protocol, start, end),
            _ => {
                self.opaque(start, end);
                Ok(())
            }
        }
    }
}
