//! Zero-copy decoding of captured frames, from the link layer to TCP, UDP and ICMP.
//!
//! Two levels:
//! - [`wire`]: typed views over one protocol header each (Ethernet, IPv4, IPv6, TCP, UDP,
//!   ICMP, ARP, MPLS, PPP/PPPoE, GRE/ERSPAN, VXLAN, Geneve, GTP-U, Teredo, AYIYA, Linux
//!   cooked and BSD loopback headers), in the spirit of smoltcp's `wire`: borrow the buffer,
//!   check lengths once, then read fields without copying. Ethernet, IPv4, IPv6, TCP, UDP and
//!   ICMP also have a `Repr` that parses a view and emits it back, lengths and checksums
//!   computed; [`wire::FrameBuilder`] stacks them into whole frames for tests, fuzz targets
//!   and the lab.
//! - [`Decoder`]: walks a frame through those views, following VLAN/QinQ tags, MPLS, PPPoE,
//!   FabricPath, VN-Tag, PBB and every tunnel above, reassembling IPv4 and IPv6 fragments
//!   within [`ReassemblyLimits`], and optionally verifying checksums. It returns a
//!   [`Decoded`] summary: the outer MAC addresses and VLANs, and each IP layer crossed with its
//!   transport header ([`IpLayer`], [`Transport`]).
//!
//! Errors are [`DecodeError`]s: `Copy`, allocation-free, naming the [`Layer`] and the byte
//! offset in the frame. A malformed packet never makes the decoder fail as a whole; the
//! summary keeps everything decoded before the damage.
//!
//! What it does not do: flows, application protocols, or deciding when checksum offloading
//! makes verification useless (see [`ChecksumPolicy`] for that decision).
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod checksum;
mod checksum_policy;
mod decoder;
mod error;
pub mod reassembly;
pub mod wire;

pub use checksum_policy::{ChecksumPolicy, ChecksumSetting};
pub use decoder::{
    linktype, tcp_flags, ChecksumMode, ChecksumStatus, Decoded, Decoder, DecoderConfig, Encap,
    IpLayer, Transport, MAX_IP_LAYERS,
};
pub use error::{DecodeError, ErrorKind, Layer};
pub use reassembly::{ReassemblyLimits, ReassemblyStats};
