//! Shareable captures: [`anonymize`] rewrites a pcap or pcapng file so that every address in
//! every header it decodes is pseudonymised, and the capture still gives the same flows.
//!
//! # What is rewritten
//!
//! The walk follows custos-decode's decoder (same link types, EtherTypes, tunnels and UDP
//! ports), so every header a flow is built from is one the walk rewrote:
//!
//! - MAC addresses: Ethernet (outer and inner: VXLAN, Geneve, GRE/ERSPAN, MPLS pseudowires,
//!   PBB, FabricPath), Linux cooked headers, 802.11 address fields, ARP, DHCP `chaddr` and
//!   client identifier, neighbour-discovery link-layer options. Group addresses (multicast,
//!   broadcast: I/G bit set) stay as they are.
//! - IP addresses: IPv4 and IPv6 at every level (IP in IP, GRE, VXLAN, Geneve, GTP-U, AYIYA,
//!   Teredo with its origin indication), IPv4 route options, IPv6 routing headers and the home
//!   address option, ICMP errors' quoted headers, ICMP redirects and router advertisements,
//!   ICMPv6 neighbour discovery (targets, prefixes, routes, DNS servers, redirected packets),
//!   MLD and IGMP sources, MPTCP `ADD_ADDR`, DHCPv4 address fields and address options, DNS
//!   A/AAAA/WKS records, SVCB/HTTPS address hints and EDNS client subnets.
//! - Addresses with a meaning of their own stay: unspecified (`0.0.0.0`, `::`), limited
//!   broadcast, loopback (`127/8`, `::1`) and multicast (`224/4`, `ff00::/8`). A pseudonym
//!   equal to a fixed one, or to a multicast or loopback address that also appears unchanged in
//!   the capture, is refused like a kept-network collision ([`crate::Error::Collision`]).
//!
//! Prefixes (router advertisements, routes, client subnets) map to the first bits of their
//! network address's pseudonym, so they stay the prefixes of their hosts' pseudonyms.
//!
//! # Checksums
//!
//! IPv4 header, TCP, UDP, ICMP, ICMPv6, IGMP, GRE and the mobility header are updated
//! incrementally (RFC 1624) for exactly the bytes that changed, innermost first
//! (`checksum.rs`): a valid checksum stays valid and an invalid one stays invalid by the same
//! difference, whether or not the capture holds the whole packet, so no checksum decision
//! changes. A UDP checksum of 0 over IPv4 ("none") stays 0. The IPv6 pseudo-header follows
//! RFC 8200 §8.1 and RFC 6275 §6.3 (final destination of a routing header, home address
//! option), where custos-decode uses the header's addresses (`docs/privacy.md` says what that
//! means for those rare packets). Checksums that are not one's complement sums (SCTP's
//! CRC32c, 802.11 FCS) and integrity checks (AH, AYIYA signatures) are not recomputed.
//!
//! # What cannot be read is zeroed
//!
//! Bytes the walk cannot decode could hold addresses: they are zeroed (same length, so every
//! length field and flow byte count stays), and the frame is counted as scrubbed. That covers
//! unsupported link types (the whole frame), non-IP EtherTypes and LLC frames, PPP control
//! protocols, unknown IP protocols (SCTP after its common header), ICMP types without a
//! known layout, IPv6 mobility/HIP/Shim6 bodies, unknown neighbour-discovery options, damaged
//! or capture-cut headers (an IP header keeps its version byte, which outer layers read to
//! decide that a tunnel follows), and link padding or trailers after an IP datagram (zeroed
//! without being counted). Transport payloads (TCP, UDP, ICMP echo data, ESP ciphertext, later
//! fragments) are not zeroed: the [`PayloadPolicy`] decides about them.
//!
//! # What is not rewritten
//!
//! Names (DNS names, PTR `in-addr.arpa` names, DHCP host names and FQDNs, DNS search lists):
//! a pseudonym token is longer than the name, and lengths must not change. Application
//! payloads other than DHCP and DNS (HTTP, SIP, SNMP…), DNS over TCP segments that do not start
//! a message, fragmented DNS/DHCP messages past their first fragment, DHCP relay-agent
//! information, the low 24 bits of IPv6 solicited-node multicast addresses (and their
//! `33:33:ff` MACs), and GRE source-route entries (RFC 1701) are left as they are: use
//! `--payload drop` (or `truncate:N`) when payloads must not be shared.
//!
//! # Output
//!
//! pcap in, pcap out (little-endian, same link type, snap length and timestamp resolution;
//! Kuznetsov's format becomes classic microsecond pcap); pcapng in, pcapng out (one section,
//! one interface per input interface with its link type and snap length, nanosecond
//! timestamps, no options copied). gzip input gives uncompressed output. Timestamps and
//! original lengths are kept exactly; the captured length shrinks only under the payload
//! policy.

mod checksum;
mod dhcp_dns;
mod icmp;
mod ip;
mod mapper;
mod output;
mod walk;

#[cfg(test)]
mod test_frames;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use custos_capture::{FileReader, PacketSource};

use crate::error::{Error, Result};
use crate::pseudonymizer::Pseudonymizer;
use checksum::Edits;
use mapper::Mapper;
use output::Output;
use walk::Walk;

/// Memo tables of the address mapping: 2^12 entries each for IPv4, IPv6 and MACs.
const MEMO_LOG2: u32 = 12;

/// How much transport payload an anonymised capture keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PayloadPolicy {
    /// Every captured byte (DHCP and DNS address fields rewritten).
    #[default]
    Keep,
    /// The first N bytes of each transport payload: the frame's captured length shrinks, its
    /// original length stays (like a snap length).
    Truncate(u32),
    /// No transport payload: frames end after their last header.
    Drop,
}

impl fmt::Display for PayloadPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PayloadPolicy::Keep => f.write_str("keep"),
            PayloadPolicy::Truncate(n) => write!(f, "truncate:{n}"),
            PayloadPolicy::Drop => f.write_str("drop"),
        }
    }
}

impl FromStr for PayloadPolicy {
    type Err = String;

    /// Parses `keep`, `truncate:N` (N bytes, 0 to 4294967295) or `drop`.
    fn from_str(text: &str) -> std::result::Result<Self, String> {
        match text {
            "keep" => Ok(PayloadPolicy::Keep),
            "drop" => Ok(PayloadPolicy::Drop),
            _ => match text.strip_prefix("truncate:") {
                Some(n) => n
                    .parse()
                    .map(PayloadPolicy::Truncate)
                    .map_err(|_| format!("{text:?}: N in truncate:N must be a byte count")),
                None => Err(format!(
                    "unknown payload policy {text:?}; expected keep, truncate:N or drop"
                )),
            },
        }
    }
}

/// Settings of [`anonymize`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AnonymizeOptions {
    /// What happens to transport payloads.
    pub payload: PayloadPolicy,
    /// Replace an existing output file (`--force`).
    pub force: bool,
}

/// What [`anonymize`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AnonymizeReport {
    /// Packets read and written.
    pub packets: u64,
    /// Packets with at least one byte changed.
    pub rewritten: u64,
    /// Address fields (IP, MAC, prefixes) changed.
    pub addresses: u64,
    /// Checksum fields updated.
    pub checksums: u64,
    /// Packets with undecodable bytes zeroed.
    pub scrubbed: u64,
    /// Packets of link types the walk cannot read (zeroed whole; also counted as scrubbed).
    pub unsupported_link: u64,
    /// Packets without any IP header.
    pub non_ip: u64,
    /// Packets whose captured length the payload policy reduced.
    pub payload_cut: u64,
    /// Captured bytes read.
    pub bytes_in: u64,
    /// Captured bytes written.
    pub bytes_out: u64,
    /// The input's damage, when it ended with a read error: every packet before it was
    /// anonymised and written.
    pub partial: Option<String>,
    /// Anything else worth saying (e.g. collision checks that stopped remembering addresses).
    pub warnings: Vec<String>,
}

impl AnonymizeReport {
    /// The lines that report writing `output`: the counts, each warning (`warning: …`), and
    /// the input's damage when it ended early.
    pub fn report_lines(&self, output: &Path) -> Vec<String> {
        let mut lines = vec![format!(
            "wrote {}: {} packets, {} rewritten ({} addresses, {} checksums updated); {} not \
             IP, {} with unreadable bytes zeroed, {} payloads cut",
            output.display(),
            self.packets,
            self.rewritten,
            self.addresses,
            self.checksums,
            self.non_ip,
            self.scrubbed,
            self.payload_cut
        )];
        lines.extend(self.warnings.iter().map(|w| format!("warning: {w}")));
        if let Some(why) = &self.partial {
            lines.push(format!(
                "warning: the input is damaged part-way ({why}); everything before it was written"
            ));
        }
        lines
    }

    fn add(&mut self, o: &FrameOutcome, bytes_in: usize, bytes_out: usize) {
        self.packets += 1;
        self.rewritten += u64::from(o.changed);
        self.addresses += u64::from(o.addresses);
        self.checksums += u64::from(o.checksums);
        self.scrubbed += u64::from(o.scrubbed);
        self.unsupported_link += u64::from(o.unsupported_link);
        self.non_ip += u64::from(o.ip_layers == 0);
        self.payload_cut += u64::from(o.payload_cut);
        self.bytes_in += bytes_in as u64;
        self.bytes_out += bytes_out as u64;
    }
}

/// What rewriting one frame did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FrameOutcome {
    /// At least one byte changed (before any payload cut).
    pub changed: bool,
    /// Address fields changed.
    pub addresses: u32,
    /// Checksum fields updated.
    pub checksums: u32,
    /// IP headers walked (tunnels and quoted packets included).
    pub ip_layers: u32,
    /// Undecodable bytes were zeroed.
    pub scrubbed: bool,
    /// The link type is not one the walk reads: the whole frame was zeroed.
    pub unsupported_link: bool,
    /// The payload policy shortened the frame.
    pub payload_cut: bool,
}

/// Rewrites frames under one pseudonymizer, with memo tables and buffers reused across frames
/// (no allocation per frame in steady state).
#[derive(Debug)]
pub struct FrameRewriter<'p> {
    map: Mapper<'p>,
    edits: Edits,
    payload: PayloadPolicy,
    orig: Vec<u8>,
}

impl<'p> FrameRewriter<'p> {
    /// A rewriter applying `p` (its key and policy) and `payload`.
    ///
    /// # Errors
    /// [`Error::AnonymizePolicy`] when the policy drops IP addresses or MACs.
    pub fn new(p: &'p mut Pseudonymizer, payload: PayloadPolicy) -> Result<Self> {
        Self::with_memo(p, payload, MEMO_LOG2)
    }

    fn with_memo(p: &'p mut Pseudonymizer, payload: PayloadPolicy, memo_log2: u32) -> Result<Self> {
        Ok(FrameRewriter {
            map: Mapper::new(p, memo_log2)?,
            edits: Edits::default(),
            payload,
            orig: Vec::new(),
        })
    }

    /// Rewrites `frame` (of LINKTYPE `linktype`) in place; it may get shorter under the
    /// payload policy.
    ///
    /// # Errors
    /// [`Error::Collision`] when a pseudonym collides with a kept network or special address;
    /// `frame` is then partly rewritten and must not be shared.
    pub fn rewrite(&mut self, linktype: u32, frame: &mut Vec<u8>) -> Result<FrameOutcome> {
        let mut orig = std::mem::take(&mut self.orig);
        orig.clear();
        orig.extend_from_slice(frame);
        let res = self.rewrite_from(linktype, &orig, frame);
        self.orig = orig;
        res
    }

    /// Rewrites `frame`, a copy of `orig`.
    fn rewrite_from(
        &mut self,
        linktype: u32,
        orig: &[u8],
        frame: &mut Vec<u8>,
    ) -> Result<FrameOutcome> {
        self.edits.clear();
        let mut walk = Walk::new(frame, &mut self.map, &mut self.edits, self.payload);
        walk.link(linktype)?;
        let (cut, mut out) = (walk.cut, walk.out);
        out.checksums = self.edits.update(orig, frame);
        out.changed = self.edits.any(); // only real changes are recorded
        if cut < frame.len() {
            frame.truncate(cut);
            out.payload_cut = true;
        }
        Ok(out)
    }

    /// True once the collision checks of special-range addresses stopped remembering new
    /// ones (more than a million distinct multicast or loopback addresses).
    pub fn collision_checks_full(&self) -> bool {
        self.map.tracking_full
    }
}

/// Rewrites one frame of LINKTYPE `linktype` in place with `p` (no memo: for tests and
/// occasional callers; use a [`FrameRewriter`] for many frames).
///
/// # Errors
/// As [`FrameRewriter::new`] and [`FrameRewriter::rewrite`].
pub fn anonymize_frame(
    linktype: u32,
    frame: &mut Vec<u8>,
    p: &mut Pseudonymizer,
    payload: PayloadPolicy,
) -> Result<FrameOutcome> {
    FrameRewriter::with_memo(p, payload, 0)?.rewrite(linktype, frame)
}

/// Rewrites the capture `input` into `output` (see the module docs for what changes).
///
/// The output is written beside `output` under a temporary name and renamed into place when
/// complete, so a failed run leaves nothing behind. An input damaged part-way gives an output
/// of every packet before the damage and [`AnonymizeReport::partial`].
///
/// # Errors
/// [`Error::Capture`] when the input cannot be opened; [`Error::OutputExists`] when `output`
/// exists and `options.force` is off; [`Error::OutputIsInput`]; [`Error::OutputIo`];
/// [`Error::AnonymizePolicy`]; [`Error::Packet`] (a pseudonym collision: refused, nothing
/// written).
///
/// ```no_run
/// use custos_privacy::{anonymize, AnonymizeOptions, PayloadPolicy, Pseudonymizer};
/// use std::path::Path;
/// # fn main() -> Result<(), custos_privacy::Error> {
/// let mut p = Pseudonymizer::from_key_hex(
///     "1522178d33a4cf80130a5b1649907d10d8988f837979652762574c2d2a842202",
/// )?;
/// let options = AnonymizeOptions { payload: PayloadPolicy::Truncate(64), force: false };
/// let report = anonymize(Path::new("in.pcap"), Path::new("out.pcap"), &mut p, &options)?;
/// println!("{} packets, {} addresses rewritten", report.packets, report.addresses);
/// # Ok(())
/// # }
/// ```
pub fn anonymize(
    input: &Path,
    output: &Path,
    pseudonymizer: &mut Pseudonymizer,
    options: &AnonymizeOptions,
) -> Result<AnonymizeReport> {
    if let (Ok(a), Ok(b)) = (input.canonicalize(), output.canonicalize()) {
        if a == b {
            return Err(Error::OutputIsInput {
                path: output.to_path_buf(),
            });
        }
    }
    let mut rewriter = FrameRewriter::new(pseudonymizer, options.payload)?;
    let mut reader = FileReader::open(input).map_err(|cause| Error::Capture { cause })?;
    let mut out = Output::create(
        output,
        options.force,
        input,
        reader.format(),
        reader.snaplen(),
    )?;
    let mut report = AnonymizeReport::default();
    let mut frame = Vec::with_capacity(1 << 16);
    loop {
        let packet = match reader.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            Err(e) => {
                report.partial = Some(e.to_string());
                break;
            }
        };
        frame.clear();
        frame.extend_from_slice(packet.data);
        let outcome = match rewriter.rewrite_from(packet.linktype.0, packet.data, &mut frame) {
            Ok(outcome) => outcome,
            Err(cause) => {
                out.abandon();
                return Err(Error::Packet {
                    path: input.to_path_buf(),
                    index: packet.index,
                    cause: Box::new(cause),
                });
            }
        };
        if let Err(e) = out.write(&packet, &frame) {
            out.abandon();
            return Err(e);
        }
        report.add(&outcome, packet.data.len(), frame.len());
    }
    if rewriter.collision_checks_full() {
        report.warnings.push(
            "more than a million distinct multicast or loopback addresses: collisions with \
             later ones were not checked"
                .into(),
        );
    }
    report.warnings.extend(reader.take_warnings());
    out.finish(input)?;
    Ok(report)
}
