//! A Linux `AF_PACKET` socket of our own: bound to one interface, promiscuous on request,
//! with a receive buffer of a chosen size and the kernel's drop counters
//! (`PACKET_STATISTICS`).
//!
//! Written here rather than taken from `pnet_datalink` (used before) because that crate hides
//! the socket: neither the kernel's drop counters nor the receive buffer size can be reached
//! through it, and losing packets without saying so is what this module exists to prevent.
//! Every `unsafe` block is a single system call on a socket this module owns, with pointers to
//! live, correctly sized local values.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

/// What the kernel counted on a socket since it was opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelStats {
    /// Packets the kernel handed to the socket's queue (`tp_packets`).
    pub received: u64,
    /// Packets the kernel dropped because the socket's buffer was full (`tp_drops`).
    pub dropped: u64,
}

/// An `AF_PACKET` raw socket bound to one interface.
pub(crate) struct PacketSocket {
    fd: OwnedFd,
    stats: KernelStats,
}

fn last_error() -> io::Error {
    io::Error::last_os_error()
}

fn set_option<T>(fd: &OwnedFd, level: i32, name: i32, value: &T) -> io::Result<()> {
    // SAFETY: `value` points to a live `T` and its exact size is passed.
    let r = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast(),
            std::mem::size_of::<T>() as libc::socklen_t,
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(last_error())
    }
}

impl PacketSocket {
    /// Opens a socket on `ifindex` receiving every protocol, with `buffer_bytes` of kernel
    /// receive buffer (`SO_RCVBUFFORCE` as root, else `SO_RCVBUF` within the system's limit)
    /// and reads that return after `timeout` when nothing arrives.
    pub fn open(
        ifindex: u32,
        promiscuous: bool,
        buffer_bytes: usize,
        timeout: Duration,
    ) -> io::Result<PacketSocket> {
        let all = (libc::ETH_P_ALL as u16).to_be();
        // Created listening to no protocol, so that no frame of another interface is queued
        // before `bind` restricts it to ours.
        // SAFETY: plain socket(2) call; the result is checked before use.
        let raw = unsafe { libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(last_error());
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let size = i32::try_from(buffer_bytes).unwrap_or(i32::MAX);
        if set_option(&fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, &size).is_err() {
            set_option(&fd, libc::SOL_SOCKET, libc::SO_RCVBUF, &size)?;
        }
        let tv = libc::timeval {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_usec: libc::suseconds_t::from(timeout.subsec_micros()),
        };
        set_option(&fd, libc::SOL_SOCKET, libc::SO_RCVTIMEO, &tv)?;
        // SAFETY: an all-zero sockaddr_ll is a valid value of this plain C struct.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = all;
        addr.sll_ifindex = i32::try_from(ifindex).unwrap_or(0);
        // SAFETY: `addr` is a live sockaddr_ll and its exact size is passed.
        let r = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                (&addr as *const libc::sockaddr_ll).cast(),
                std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
            )
        };
        if r != 0 {
            return Err(last_error());
        }
        if promiscuous {
            // SAFETY: an all-zero packet_mreq is a valid value of this plain C struct.
            let mut mreq: libc::packet_mreq = unsafe { std::mem::zeroed() };
            mreq.mr_ifindex = i32::try_from(ifindex).unwrap_or(0);
            mreq.mr_type = libc::PACKET_MR_PROMISC as u16;
            set_option(&fd, libc::SOL_PACKET, libc::PACKET_ADD_MEMBERSHIP, &mreq)?;
        }
        let mut socket = PacketSocket {
            fd,
            stats: KernelStats::default(),
        };
        // Counters start at the bind.
        socket.refresh_stats()?;
        socket.stats = KernelStats::default();
        Ok(socket)
    }

    /// Receives one frame into `buf`; returns its length on the wire (which exceeds
    /// `buf.len()` for a frame cut to fit). `TimedOut`/`WouldBlock` when nothing arrived.
    pub fn recv(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: `buf` is a live, writable slice and its exact length is passed; MSG_TRUNC
        // makes the kernel report the frame's full length without writing past `buf`.
        let n = unsafe {
            libc::recv(
                self.fd.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_TRUNC,
            )
        };
        if n < 0 {
            Err(last_error())
        } else {
            Ok(n as usize)
        }
    }

    /// Adds the kernel's counters since the last call (reading them resets them).
    pub fn refresh_stats(&mut self) -> io::Result<KernelStats> {
        // SAFETY: an all-zero tpacket_stats is a valid value of this plain C struct.
        let mut s: libc::tpacket_stats = unsafe { std::mem::zeroed() };
        let mut len = std::mem::size_of::<libc::tpacket_stats>() as libc::socklen_t;
        // SAFETY: `s` and `len` are live locals; `len` holds the exact size of `s`.
        let r = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_PACKET,
                libc::PACKET_STATISTICS,
                (&mut s as *mut libc::tpacket_stats).cast(),
                &mut len,
            )
        };
        if r != 0 {
            return Err(last_error());
        }
        self.stats.received += u64::from(s.tp_packets);
        self.stats.dropped += u64::from(s.tp_drops);
        Ok(self.stats)
    }

    /// The receive buffer the kernel granted (`SO_RCVBUF`, bytes).
    pub fn buffer_bytes(&self) -> io::Result<usize> {
        let mut v: i32 = 0;
        let mut len = std::mem::size_of::<i32>() as libc::socklen_t;
        // SAFETY: `v` and `len` are live locals; `len` holds the exact size of `v`.
        let r = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                (&mut v as *mut i32).cast(),
                &mut len,
            )
        };
        if r == 0 {
            Ok(usize::try_from(v).unwrap_or(0))
        } else {
            Err(last_error())
        }
    }
}

/// The index of the interface called `name`, or `None` when there is none.
pub(crate) fn interface_index(name: &str) -> Option<u32> {
    let c = std::ffi::CString::new(name).ok()?;
    // SAFETY: `c` is a live NUL-terminated string.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    (i != 0).then_some(i)
}
