//! [`LiveCapture`]: packets from a network interface through a Linux `AF_PACKET` socket
//! (via `pnet_datalink`), promiscuous, as Ethernet frames.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pnet_datalink::{Channel, DataLinkReceiver};

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
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            read_timeout: Duration::from_millis(100),
            max_packets: None,
            stop: None,
            snaplen: 262_144,
            promiscuous: true,
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
/// used). `orig_len` equals the captured length: the socket does not report the length of frames
/// cut at `snaplen`. `offset` is always 0 and `interface` 0.
pub struct LiveCapture {
    name: String,
    rx: Box<dyn DataLinkReceiver>,
    /// Reused copy of the last frame: the receiver's borrow cannot be returned from the retry loop.
    frame: Vec<u8>,
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
    /// [`CaptureErrorKind::Io`] when the socket cannot be opened (typically missing
    /// `CAP_NET_RAW`), [`CaptureErrorKind::UnsupportedChannel`] for a non-Ethernet channel.
    pub fn open_with(interface: &str, opts: LiveOptions) -> Result<LiveCapture, CaptureError> {
        let err = |kind| CaptureError::new(interface, 0, 0, kind);
        let iface = pnet_datalink::interfaces()
            .into_iter()
            .find(|i| i.name == interface)
            .ok_or_else(|| err(CaptureErrorKind::NoSuchInterface))?;
        let config = pnet_datalink::Config {
            read_buffer_size: opts.snaplen.max(64),
            read_timeout: Some(opts.read_timeout),
            promiscuous: opts.promiscuous,
            ..pnet_datalink::Config::default()
        };
        let rx = match pnet_datalink::channel(&iface, config) {
            Ok(Channel::Ethernet(_tx, rx)) => rx,
            Ok(_) => return Err(err(CaptureErrorKind::UnsupportedChannel)),
            Err(e) => return Err(err(CaptureErrorKind::Io(e))),
        };
        Ok(LiveCapture {
            name: interface.to_owned(),
            rx,
            frame: Vec::with_capacity(opts.snaplen.max(64)),
            opts,
            index: 0,
            done: false,
        })
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
            match self.rx.next() {
                Ok(data) => {
                    let ts = now_ns();
                    self.frame.clear();
                    self.frame.extend_from_slice(data);
                    break ts;
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
        Ok(Some(Packet {
            ts,
            linktype: LinkType::ETHERNET,
            data: &self.frame,
            orig_len: u32::try_from(self.frame.len()).unwrap_or(u32::MAX),
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
