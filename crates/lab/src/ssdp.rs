//! SSDP (UPnP discovery, UPnP Device Architecture 2.0 §1.3): the responder a UPnP device runs
//! on UDP 1900 and the `M-SEARCH` the attacker sends. Written here: no Debian package answers
//! M-SEARCH without a full UPnP stack, and the packaged search tools search by multicast or for
//! other targets only. A search for `ssdp:all` gets one response per advertised target, which
//! is what makes SSDP an amplification vector.

use std::net::{Ipv4Addr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::devices::fnv1a;

/// The SSDP port.
pub const PORT: u16 = 1900;

/// An `M-SEARCH` for `ssdp:all`, as discovery tools and amplification attacks send it.
pub fn search_request() -> Vec<u8> {
    b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n"
        .to_vec()
}

/// The targets device `name` advertises: its root device, its UUID, its device type and one
/// service.
fn targets(name: &str) -> [String; 4] {
    [
        "upnp:rootdevice".into(),
        uuid(name),
        "urn:schemas-upnp-org:device:Basic:1".into(),
        "urn:schemas-upnp-org:service:DeviceInfo:1".into(),
    ]
}

/// A stable UUID for device `name`.
fn uuid(name: &str) -> String {
    let h = fnv1a(name);
    format!(
        "uuid:{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        (h >> 20) & 0xfff,
        h & 0xffff_ffff_ffff
    )
}

/// The search target (`ST`) of an `M-SEARCH` request, or `None` when `req` is not one.
fn search_target(req: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(req).ok()?;
    let mut lines = text.split("\r\n");
    if !lines.next()?.starts_with("M-SEARCH * HTTP/1.1") {
        return None;
    }
    lines.find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("st")
            .then(|| v.trim().to_owned())
    })
}

/// The responses of device `name` at `ip` to request `req`: one per matching target (all four
/// for `ssdp:all`), none when `req` is not an `M-SEARCH` or matches nothing.
pub fn responses(req: &[u8], ip: Ipv4Addr, name: &str) -> Vec<Vec<u8>> {
    let Some(st) = search_target(req) else {
        return Vec::new();
    };
    let id = uuid(name);
    targets(name)
        .iter()
        .filter(|t| st == "ssdp:all" || **t == st)
        .map(|t| {
            let usn = if *t == id {
                id.clone()
            } else {
                format!("{id}::{t}")
            };
            format!(
                "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n\
                 LOCATION: http://{ip}:49152/description.xml\r\n\
                 SERVER: Linux/5.10 UPnP/1.0 iot-device/1.0\r\nST: {t}\r\nUSN: {usn}\r\n\
                 BOOTID.UPNP.ORG: 1\r\nCONFIGID.UPNP.ORG: 1\r\n\r\n"
            )
            .into_bytes()
        })
        .collect()
}

/// Answers M-SEARCH on UDP 1900 as device `name` at `ip` until `stop` is raised; runs in the
/// caller's network namespace.
pub fn serve(ip: Ipv4Addr, name: &str, stop: &AtomicBool) -> std::io::Result<()> {
    let s = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, PORT))?;
    s.set_read_timeout(Some(Duration::from_millis(200)))?;
    let mut buf = [0u8; 1500];
    while !stop.load(Ordering::Relaxed) {
        let Ok((n, from)) = s.recv_from(&mut buf) else {
            continue;
        };
        for r in responses(&buf[..n], ip, name) {
            let _ = s.send_to(&r, from);
        }
    }
    Ok(())
}

/// Sends [`search_request`] to port 1900 of every host in `targets`, `rounds` times, one round
/// every `interval`, reading whatever answers arrive; stops early when `stop` is raised.
///
/// # Errors
/// The socket cannot be opened.
pub fn search(
    targets: &[Ipv4Addr],
    rounds: u32,
    interval: Duration,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    let s = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0))?;
    s.set_read_timeout(Some(Duration::from_millis(20)))?;
    let req = search_request();
    let mut buf = [0u8; 1500];
    for _ in 0..rounds {
        for t in targets {
            let _ = s.send_to(&req, (*t, PORT));
        }
        let end = std::time::Instant::now() + interval;
        while std::time::Instant::now() < end {
            if stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let _ = s.recv_from(&mut buf);
        }
    }
    Ok(())
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn ssdp_all_gets_every_target() {
        let ip = Ipv4Addr::new(198, 18, 0, 10);
        let r = responses(&search_request(), ip, "cam-1");
        assert_eq!(r.len(), 4);
        let text = String::from_utf8(r[0].clone()).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
        assert!(text.contains("ST: upnp:rootdevice\r\n"), "{text}");
        assert!(
            text.contains("LOCATION: http://198.18.0.10:49152/"),
            "{text}"
        );
        // Larger than the request: the amplification.
        let sent: usize = r.iter().map(Vec::len).sum();
        assert!(sent > 8 * search_request().len(), "{sent}");
    }

    #[test]
    fn a_specific_target_gets_one_answer_and_other_requests_none() {
        let ip = Ipv4Addr::new(198, 18, 0, 10);
        let req =
            b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nst: upnp:rootdevice\r\n\r\n";
        assert_eq!(responses(req, ip, "cam-1").len(), 1);
        let other = b"M-SEARCH * HTTP/1.1\r\nST: urn:example:none\r\n\r\n";
        assert!(responses(other, ip, "cam-1").is_empty());
        assert!(responses(b"NOTIFY * HTTP/1.1\r\n\r\n", ip, "cam-1").is_empty());
        assert!(responses(&[0xff, 0xfe], ip, "cam-1").is_empty());
    }

    #[test]
    fn uuids_are_stable_and_per_device() {
        assert_eq!(uuid("cam-1"), uuid("cam-1"));
        assert_ne!(uuid("cam-1"), uuid("cam-2"));
        assert_eq!(uuid("cam-1").len(), "uuid:".len() + 36);
    }
}
