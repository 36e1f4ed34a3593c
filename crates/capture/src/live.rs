//! [`LiveCapture`]: packets from a network interface through a Linux `AF_PACKET` socket
//! (`crate::afpacket`), promiscuous, with the kernel's drop counters.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use crate::afpacket::KernelStats;
use crate::afpacket::{interface_index, PacketSocket};
use crate::error::{CaptureError, CaptureErrorKind};
use crate::linktype::LinkType;
use crate::{Packet, PacketSource, Timestamp};

/// Options for [`LiveCapture::open_with`].
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct LiveOptions {
    /// How often a blocked `next_packet` wakes to check `stop` (default 100 ms).
    pub read_timeout: Duration,
    /// Stop (return `Ok(None)`) after this many packets.
    pub max_packets: Option<u64>,
    /// When set to `true` (from any thread), `next_packet` returns `Ok(None)` within about one
    /// `read_timeout`.
    pub stop: Option<Arc<AtomicBool>>,
    /// Largest frame kept, in bytes; longer frames are cut (default 262 144).
    pub snaplen: usize,
    /// Put the interface in promiscuous mode (default true).
    pub promiscuous: bool,
    /// Kernel receive buffer of the socket, bytes (default 32 MiB): what absorbs bursts while
    /// custos is busy; frames beyond it are dropped by the kernel and counted
    /// ([`LiveCapture::kernel_stats`]).
    pub buffer_bytes: usize,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            read_timeout: Duration::from_millis(100),
            max_packets: None,
            stop: None,
            snaplen: 262_144,
            promiscuous: true,
            buffer_bytes: 32 << 20,
        }
    }
}

impl LiveOptions {
    /// Default options with a stop flag.
    pub fn with_stop(stop: Arc<AtomicBool>) -> Self {
        LiveOptions {
            stop: Some(stop),
            ..LiveOptions::default()
        }
    }
}

/// A live capture on one interface.
///
/// Timestamps are the wall clock when the frame is handed to us (the only place the wall clock is
/// used). `orig_len` is the frame's length on the wire, also for frames cut at `snaplen`.
/// `offset` is always 0 and `interface` 0. Frames the kernel could not queue because the socket
/// buffer ([`LiveOptions::buffer_bytes`]) was full are counted in [`LiveCapture::kernel_stats`].
pub struct LiveCapture {
    name: String,
    socket: PacketSocket,
    linktype: LinkType,
    /// The last frame (reused).
    frame: Vec<u8>,
    /// Its length on the wire.
    orig_len: usize,
    opts: LiveOptions,
    index: u64,
    done: bool,
}

impl std::fmt::Debug for LiveCapture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LiveCapture")
            .field("name", &self.name)
            .field("opts", &self.opts)
            .field("index", &self.index)
            .field("done", &self.done)
            .finish()
    }
}

impl LiveCapture {
    /// Opens `interface` with default options (blocks until a packet; never stops by itself).
    ///
    /// # Errors
    /// As for [`LiveCapture::open_with`].
    pub fn open(interface: &str) -> Result<LiveCapture, CaptureError> {
        LiveCapture::open_with(interface, LiveOptions::default())
    }

    /// Opens `interface` with `opts`.
    ///
    /// # Errors
    /// [`CaptureErrorKind::NoSuchInterface`] when no interface has that name,
    /// [`CaptureErrorKind::Open`] when the socket cannot be opened (typically missing
    /// `CAP_NET_RAW`), [`CaptureErrorKind::UnsupportedChannel`] for a non-Ethernet channel.
    pub fn open_with(interface: &str, opts: LiveOptions) -> Result<LiveCapture, CaptureError> {
        let err = |kind| CaptureError::new(interface, 0, 0, kind);
        let ifindex =
            interface_index(interface).ok_or_else(|| err(CaptureErrorKind::NoSuchInterface))?;
        // ARPHRD type: Ethernet and loopback carry Ethernet headers; "none" (tun) raw IP.
        let linktype = match std::fs::read_to_string(format!("/sys/class/net/{interface}/type"))
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok())
        {
            Some(1 | 772) | None => LinkType::ETHERNET,
            Some(65534) => LinkType::RAW,
            Some(_) => return Err(err(CaptureErrorKind::UnsupportedChannel)),
        };
        let socket = PacketSocket::open(
            ifindex,
            opts.promiscuous,
            opts.buffer_bytes,
            opts.read_timeout,
        )
        .map_err(|e| err(CaptureErrorKind::Open(e)))?;
        Ok(LiveCapture {
            name: interface.to_owned(),
            socket,
            linktype,
            frame: vec![0; opts.snaplen.max(64)],
            orig_len: 0,
            opts,
            index: 0,
            done: false,
        })
    }

    /// What the kernel counted since the capture opened: frames queued for custos and frames
    /// it dropped because the socket buffer was full.
    ///
    /// # Errors
    /// The counters cannot be read.
    pub fn kernel_stats(&mut self) -> Result<KernelStats, CaptureError> {
        self.socket
            .refresh_stats()
            .map_err(|e| CaptureError::new(&self.name, 0, self.index, CaptureErrorKind::Io(e)))
    }

    /// The receive buffer the kernel granted, bytes.
    pub fn buffer_bytes(&self) -> usize {
        self.socket.buffer_bytes().unwrap_or(0)
    }

    /// Number of packets yielded so far.
    #[inline]
    pub fn packet_count(&self) -> u64 {
        self.index
    }

    fn stopped(&self) -> bool {
        self.done
            || self.opts.max_packets.is_some_and(|m| self.index >= m)
            || self
                .opts
                .stop
                .as_ref()
                .is_some_and(|s| s.load(Ordering::Relaxed))
    }
}

fn now_ns() -> Timestamp {
    match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(e) => i64::try_from(e.duration().as_nanos()).map_or(i64::MIN, |n| -n),
    }
}

impl PacketSource for LiveCapture {
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        let ts = loop {
            if self.stopped() {
                self.done = true;
                return Ok(None);
            }
            match self.socket.recv(&mut self.frame) {
                Ok(n) => {
                    self.orig_len = n;
                    break now_ns();
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::TimedOut
                            | io::ErrorKind::Interrupted
                            | io::ErrorKind::WouldBlock
                    ) => {}
                Err(e) => {
                    self.done = true;
                    return Err(CaptureError::new(
                        &self.name,
                        0,
                        self.index,
                        CaptureErrorKind::Io(e),
                    ));
                }
            }
        };
        let index = self.index;
        self.index += 1;
        let caplen = self.orig_len.min(self.frame.len());
        Ok(Some(Packet {
            ts,
            linktype: self.linktype,
            data: self.frame.get(..caplen).unwrap_or(&[]),
            orig_len: u32::try_from(self.orig_len).unwrap_or(u32::MAX),
            index,
            offset: 0,
            interface: 0,
        }))
    }

    #[inline]
    fn name(&self) -> &str {
        &self.name
    }
}
