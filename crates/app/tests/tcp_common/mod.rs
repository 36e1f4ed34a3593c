//! The TCP segments of a capture, for the agreement tests that reassemble and parse streams
//! themselves (checksums ignored, innermost IP layer).
#![allow(dead_code)] // each test uses a part

use std::net::IpAddr;
use std::path::Path;

use custos_capture::{FileReader, PacketSource};
use custos_decode::{ChecksumMode, Decoder, DecoderConfig, Transport};

/// An address and port.
pub type Endpoint = (IpAddr, u16);

/// One TCP segment.
pub struct Segment<'a> {
    /// Sender.
    pub src: Endpoint,
    /// Receiver.
    pub dst: Endpoint,
    /// The connection's key: the two endpoints, lower first.
    pub key: (Endpoint, Endpoint),
    /// TCP flag byte.
    pub flags: u8,
    /// Sequence number.
    pub seq: u32,
    /// Acknowledgement number.
    pub ack: u32,
    /// Captured payload.
    pub payload: &'a [u8],
}

/// Calls `f` with every TCP segment of `pcap`, in capture order.
pub fn for_each_segment(pcap: &Path, mut f: impl FnMut(Segment<'_>)) {
    let mut reader = FileReader::open(pcap).unwrap_or_else(|e| panic!("{}: {e}", pcap.display()));
    let mut decoder = Decoder::new(DecoderConfig {
        checksums: ChecksumMode::Ignore,
        ..Default::default()
    });
    while let Ok(Some(pkt)) = reader.next_packet() {
        let d = decoder.decode(pkt.linktype.0, pkt.ts, pkt.data);
        let Some(ip) = d.innermost() else { continue };
        let Transport::Tcp {
            src_port,
            dst_port,
            flags,
            seq,
            ack,
            payload,
            ..
        } = ip.transport
        else {
            continue;
        };
        let (src, dst) = ((ip.src, src_port), (ip.dst, dst_port));
        let key = if src <= dst { (src, dst) } else { (dst, src) };
        f(Segment {
            src,
            dst,
            key,
            flags,
            seq,
            ack,
            payload,
        });
    }
}
