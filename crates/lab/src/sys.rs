//! Operating-system plumbing: setup commands, network namespaces, child processes in their own
//! process groups, and the [`Teardown`] guard that undoes everything.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use crate::error::LabError;

/// Every namespace, interface and work directory the lab creates starts with this.
pub const PREFIX: &str = "custos-lab-";

/// Runs a setup command and returns its standard output.
///
/// # Errors
/// [`LabError::Io`] when it cannot be started, [`LabError::Command`] when it fails.
pub fn cmd(args: &[&str]) -> Result<String, LabError> {
    let (prog, rest) = args
        .split_first()
        .ok_or_else(|| LabError::Scenario("empty command".into()))?;
    let out = Command::new(prog)
        .args(rest)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| LabError::Io(format!("running {prog}"), e))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(LabError::Command {
            command: args.join(" "),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        })
    }
}

/// Runs `program args…` inside namespace `ns` (via `ip netns exec`).
///
/// # Errors
/// As for [`cmd`].
pub fn ns_cmd(ns: &str, args: &[&str]) -> Result<String, LabError> {
    let mut v = vec!["ip", "netns", "exec", ns];
    v.extend_from_slice(args);
    cmd(&v)
}

/// Moves the calling thread into network namespace `ns` (only this thread; children it spawns
/// afterwards start there too).
///
/// # Errors
/// [`LabError::Io`] when the namespace cannot be opened or entered.
pub fn enter_netns(ns: &str) -> Result<(), LabError> {
    let path = format!("/run/netns/{ns}");
    let f = File::open(&path).map_err(|e| LabError::Io(format!("opening {path}"), e))?;
    nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| LabError::Io(format!("entering {path}"), e.into()))
}

/// Whether the effective user is root.
pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Finds `program` on `PATH` (and in the sbin directories, which a non-root `PATH` may lack).
pub fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// A child process running in its own process group.
#[derive(Debug)]
pub struct Proc {
    /// What it is, for logs.
    pub name: String,
    child: Child,
}

impl Proc {
    /// Spawns `args` in namespace `ns` in a new process group, stdin from `stdin` (or null), stdout
    /// and stderr appended to `log`.
    ///
    /// # Errors
    /// [`LabError::Io`] when the log cannot be opened or the process cannot be started.
    pub fn spawn(
        name: &str,
        ns: &str,
        args: &[String],
        log: &Path,
        stdin: Option<&Path>,
        cwd: &Path,
    ) -> Result<Proc, LabError> {
        use std::os::unix::process::CommandExt;
        let open_log = || {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .map_err(|e| LabError::Io(format!("opening {}", log.display()), e))
        };
        let stdin = match stdin {
            Some(p) => Stdio::from(
                File::open(p).map_err(|e| LabError::Io(format!("opening {}", p.display()), e))?,
            ),
            None => Stdio::null(),
        };
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(args)
            .current_dir(cwd)
            .stdin(stdin)
            .stdout(open_log()?)
            .stderr(open_log()?)
            .process_group(0)
            .spawn()
            .map_err(|e| LabError::Io(format!("starting {name} ({})", args.join(" ")), e))?;
        Ok(Proc {
            name: name.to_owned(),
            child,
        })
    }

    /// Whether it has exited.
    pub fn exited(&mut self) -> bool {
        !matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends `sig` to its process group.
    pub fn signal(&self, sig: Signal) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            let _ = killpg(Pid::from_raw(pid), sig);
        }
    }

    /// Stops it: `first` to the group, up to `grace` to exit, then SIGKILL; reaps it.
    pub fn stop(&mut self, first: Signal, grace: Duration) {
        if !self.exited() {
            self.signal(first);
            let t = Instant::now();
            while !self.exited() && t.elapsed() < grace {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // The group may hold grandchildren even when the leader has exited.
        self.signal(Signal::SIGKILL);
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if !self.exited() {
            self.signal(Signal::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

/// Stops all of `procs` together: `first` to every group, up to `grace` for all to exit, then
/// SIGKILL to every group; reaps them.
pub fn stop_all(procs: &mut [Proc], first: Signal, grace: Duration) {
    for p in procs.iter_mut() {
        if !p.exited() {
            p.signal(first);
        }
    }
    let t = Instant::now();
    while procs.iter_mut().any(|p| !p.exited()) && t.elapsed() < grace {
        std::thread::sleep(Duration::from_millis(20));
    }
    for p in procs.iter_mut() {
        p.stop(Signal::SIGKILL, Duration::ZERO);
    }
}

/// Owns everything a run creates and removes it when dropped: child processes (by process
/// group), any process left in the lab's namespaces, the namespaces themselves (and with them
/// the bridge and veth pairs), and the work directory unless asked to keep it.
#[derive(Debug)]
pub struct Teardown {
    /// Raised to stop every lab thread.
    pub stop: Arc<AtomicBool>,
    namespaces: Mutex<Vec<String>>,
    procs: Mutex<Vec<Proc>>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
    workdir: Option<PathBuf>,
    keep_workdir: bool,
}

impl Teardown {
    /// An empty guard for `workdir`.
    pub fn new(workdir: Option<PathBuf>, keep_workdir: bool) -> Teardown {
        Teardown {
            stop: Arc::new(AtomicBool::new(false)),
            namespaces: Mutex::new(Vec::new()),
            procs: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
            workdir,
            keep_workdir,
        }
    }

    /// Creates namespace `ns` and records it for deletion.
    ///
    /// # Errors
    /// As for [`cmd`].
    pub fn add_netns(&self, ns: &str) -> Result<(), LabError> {
        cmd(&["ip", "netns", "add", ns])?;
        if let Ok(mut v) = self.namespaces.lock() {
            v.push(ns.to_owned());
        }
        Ok(())
    }

    /// Keeps `p` until teardown.
    pub fn keep(&self, p: Proc) {
        if let Ok(mut v) = self.procs.lock() {
            v.push(p);
        }
    }

    /// Keeps a lab thread, joined at teardown after `stop` is raised.
    pub fn keep_thread(&self, t: std::thread::JoinHandle<()>) {
        if let Ok(mut v) = self.threads.lock() {
            v.push(t);
        }
    }

    /// Names of the processes kept that have exited (a service that died).
    pub fn exited(&self) -> Vec<String> {
        self.procs
            .lock()
            .map(|mut v| {
                v.iter_mut()
                    .filter_map(|p| p.exited().then(|| p.name.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Stops and joins the lab threads (idempotent).
    pub fn stop_threads(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let threads: Vec<_> = self
            .threads
            .lock()
            .map(|mut v| v.drain(..).collect())
            .unwrap_or_default();
        for t in threads {
            let _ = t.join();
        }
    }

    /// Tears everything down now (idempotent; also run on drop).
    pub fn teardown(&self) {
        self.stop_threads();
        let procs: Vec<_> = self
            .procs
            .lock()
            .map(|mut v| v.drain(..).collect())
            .unwrap_or_default();
        let mut procs = procs;
        stop_all(&mut procs, Signal::SIGTERM, Duration::from_secs(2));
        let namespaces: Vec<_> = self
            .namespaces
            .lock()
            .map(|mut v| v.drain(..).collect())
            .unwrap_or_default();
        for ns in namespaces.iter().rev() {
            remove_netns(ns);
        }
        if let Some(w) = &self.workdir {
            if !self.keep_workdir {
                let _ = std::fs::remove_dir_all(w);
            }
        }
    }
}

impl Drop for Teardown {
    fn drop(&mut self) {
        self.teardown();
    }
}

/// Kills every process in namespace `ns` (never this process) and deletes it.
pub fn remove_netns(ns: &str) {
    let me = std::process::id();
    if let Ok(pids) = cmd(&["ip", "netns", "pids", ns]) {
        for pid in pids
            .split_whitespace()
            .filter_map(|p| p.parse::<i32>().ok())
        {
            if u32::try_from(pid).ok() != Some(me) {
                let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
            }
        }
    }
    let _ = cmd(&["ip", "netns", "del", ns]);
}

/// Removes every namespace and work directory named with [`PREFIX`] (leftovers of runs that
/// were killed); returns what was removed.
///
/// # Errors
/// As for [`cmd`] when the namespaces cannot be listed.
pub fn clean() -> Result<Vec<String>, LabError> {
    let mut removed = Vec::new();
    let list = cmd(&["ip", "netns", "list"])?;
    for line in list.lines() {
        let Some(ns) = line.split_whitespace().next() else {
            continue;
        };
        if ns.starts_with(PREFIX) {
            remove_netns(ns);
            removed.push(format!("netns {ns}"));
        }
    }
    if let Ok(dir) = std::fs::read_dir(std::env::temp_dir()) {
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(PREFIX) && e.path().is_dir() {
                let _ = std::fs::remove_dir_all(e.path());
                removed.push(format!("directory {}", e.path().display()));
            }
        }
    }
    Ok(removed)
}

/// Sleeps `d` in small steps; returns false (early) when `stop` is raised.
pub fn sleep_unless(stop: &AtomicBool, d: Duration) -> bool {
    let end = Instant::now() + d;
    loop {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        let now = Instant::now();
        if now >= end {
            return true;
        }
        std::thread::sleep((end - now).min(Duration::from_millis(25)));
    }
}

/// Nanoseconds since the Unix epoch on the wall clock (the capture's clock).
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Enters namespace `ns` (this thread), listens on TCP `ip:port` without blocking, and reports
/// on `ready` that it does, or why it cannot; `None` after a failure.
pub fn listen_in_netns(
    ns: &str,
    ip: std::net::Ipv4Addr,
    port: u16,
    ready: &std::sync::mpsc::Sender<Result<(), String>>,
) -> Option<std::net::TcpListener> {
    let listener = enter_netns(ns)
        .map_err(|e| e.to_string())
        .and_then(|()| std::net::TcpListener::bind((ip, port)).map_err(|e| e.to_string()))
        .and_then(|l| {
            l.set_nonblocking(true)
                .map(|()| l)
                .map_err(|e| e.to_string())
        });
    match listener {
        Ok(l) => {
            let _ = ready.send(Ok(()));
            Some(l)
        }
        Err(e) => {
            let _ = ready.send(Err(e));
            None
        }
    }
}

/// Whether a read failed only because its timeout passed (try again).
pub fn timed_out(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
    )
}
