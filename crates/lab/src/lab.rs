//! A lab run: topology, capture, services, devices, phases, labels and manifest.

use std::io::{BufWriter, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use custos_capture::{LiveCapture, LiveOptions, PacketSource};
use nix::sys::signal::Signal;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::attack_plan::attack_plan;
use crate::chatter::ChatterLog;
use crate::devices::{self, DeviceCtx};
use crate::error::LabError;
use crate::label::{self, AttackerAddr, Captured, PhaseKind, PhaseSpan};
use crate::scenario::{
    Attack, Behaviour, Scenario, ATTACKER_HOST, FIRST_DEVICE_HOST, GATEWAY_HOST, PREFIX_LEN, SUBNET,
};
use crate::scripted::Scripted;
use crate::services;
use crate::sys::{self, Proc, Teardown};
pub use crate::tools::{apt_line, missing, tools_needed, Tool, TOOLS};
use custos_capture::{LinkType, PcapWriter};

/// Raised by the Ctrl-C handler; every wait in a run checks it.
pub static INTERRUPT: AtomicBool = AtomicBool::new(false);

/// Host octet of the sensor's name and MAC (it has no address).
const SENSOR_HOST: u8 = 250;
/// Snap length of the capture.
const SNAPLEN: u32 = 65_535;

/// One host of the lab.
#[derive(Clone, Debug, Serialize)]
pub struct Node {
    /// Name (`gateway`, `sensor`, device names, the attacker's name).
    pub name: String,
    /// Role: `gateway`, `sensor`, `device` or `attacker`.
    pub role: &'static str,
    /// Its network namespace.
    pub netns: String,
    /// IPv4 address (none for the sensor).
    pub ip: Option<Ipv4Addr>,
    /// MAC address.
    pub mac: String,
    #[serde(skip)]
    host: u8,
    #[serde(skip)]
    mac_bytes: [u8; 6],
}

fn node(prefix: &str, name: &str, role: &'static str, host: u8, has_ip: bool) -> Node {
    let mac_bytes = [0x02, 0xc5, 0x18, 0x00, 0x00, host];
    Node {
        name: name.to_owned(),
        role,
        netns: format!("{prefix}-{name}"),
        ip: has_ip.then(|| Ipv4Addr::from(u32::from(SUBNET) | u32::from(host))),
        mac: mac_bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":"),
        host,
        mac_bytes,
    }
}

/// The hosts of `s`, in order: gateway, devices, attacker, sensor. Addresses and MACs depend
/// only on the scenario, so every run of a scenario has the same device set.
pub fn plan_nodes(s: &Scenario, prefix: &str) -> Vec<Node> {
    let mut v = vec![node(prefix, "gateway", "gateway", GATEWAY_HOST, true)];
    for (i, n) in s.device_names().iter().enumerate() {
        let host = FIRST_DEVICE_HOST.saturating_add(u8::try_from(i).unwrap_or(u8::MAX));
        v.push(node(prefix, n, "device", host, true));
    }
    if let Some(a) = &s.attacker {
        v.push(node(prefix, &a.name, "attacker", ATTACKER_HOST, true));
    }
    v.push(node(prefix, "sensor", "sensor", SENSOR_HOST, false));
    v
}

/// Options of a run.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Output prefix: writes `PREFIX.pcap`, `PREFIX.labels.csv`, `PREFIX.manifest.json`.
    pub output: PathBuf,
    /// Overrides the scenario's seed.
    pub seed: Option<u64>,
    /// Keep the work directory (service configs and logs) under the temp directory.
    pub keep_workdir: bool,
    /// No progress lines on stderr.
    pub quiet: bool,
}

/// Per-phase counts in the manifest.
#[derive(Clone, Debug, Serialize, serde::Deserialize, PartialEq)]
pub struct PhaseRecord {
    /// Phase on the lab's clock.
    #[serde(flatten)]
    pub span: PhaseSpan,
    /// The attack tool, if any.
    pub tool: Option<String>,
    /// The command lines run.
    pub commands: Vec<String>,
    /// Packets captured in the phase.
    pub packets: u64,
    /// Of which labelled 1.
    pub label_1: u64,
    /// Of which carry the attacker's address.
    pub attacker_packets: u64,
}

/// The manifest (`PREFIX.manifest.json`).
#[derive(Clone, Debug, Serialize)]
pub struct Manifest {
    /// `custos-lab` version.
    pub lab_version: &'static str,
    /// Scenario name.
    pub scenario: String,
    /// Seed used.
    pub seed: u64,
    /// The scenario's TOML text.
    pub scenario_toml: String,
    /// Debian package versions of the tools used.
    pub tool_versions: std::collections::BTreeMap<String, String>,
    /// Kernel release.
    pub kernel: String,
    /// Subnet.
    pub subnet: String,
    /// The hosts.
    pub nodes: Vec<Node>,
    /// The attacker's name, IP and MAC, if any.
    pub attacker: Option<Node>,
    /// The labelling rule, in words.
    pub label_rule: &'static str,
    /// Phases with counts.
    pub phases: Vec<PhaseRecord>,
    /// Packets in the capture.
    pub packets: u64,
    /// Packets labelled 1.
    pub label_1: u64,
    /// Capture file name and SHA-256.
    pub capture: FileRecord,
    /// Labels file name and SHA-256.
    pub labels: FileRecord,
    /// Start and end of the run (nanoseconds since the epoch).
    pub started_ns: i64,
    /// End of the run.
    pub ended_ns: i64,
}

/// A file and its digest.
#[derive(Clone, Debug, Serialize)]
pub struct FileRecord {
    /// File name (relative to the manifest).
    pub file: String,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

/// The rule stated in the manifest (the module docs of [`crate::label`] say it in full).
pub const LABEL_RULE: &str = "label 1 iff the packet carries the attacker's MAC (Ethernet or ARP \
hardware address) or IPv4 address (IPv4 or ARP protocol address) and its capture time is inside an \
attack phase [start, end), which runs from just before the tool starts until drain_s after it exits, \
and it is not part of a TCP or UDP conversation of the attacker device's own benign behaviour (logged by \
the lab as it opens each: transport, both endpoints, start and end; 2 s of drain); 0 otherwise";

fn say(quiet: bool, msg: &str) {
    if !quiet {
        eprintln!("custos-lab: {msg}");
    }
}

fn wait(d: Duration) -> Result<(), LabError> {
    if sys::sleep_unless(&INTERRUPT, d) {
        Ok(())
    } else {
        Err(LabError::Interrupted)
    }
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s.max(0.0))
}

/// Output paths for a prefix.
pub fn output_paths(prefix: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let p = prefix.as_os_str().to_string_lossy().into_owned();
    (
        PathBuf::from(format!("{p}.pcap")),
        PathBuf::from(format!("{p}.labels.csv")),
        PathBuf::from(format!("{p}.manifest.json")),
    )
}

/// Runs scenario `s` (with TOML text `text`, for the manifest) and writes the three outputs.
///
/// Everything the run creates is removed before it returns, on success, error or Ctrl-C
/// ([`INTERRUPT`]); on error no output file is left.
///
/// # Errors
/// [`LabError::NotRoot`], [`LabError::MissingTools`], and any setup, service or capture failure.
pub fn run_scenario(s: &Scenario, text: &str, opts: &RunOptions) -> Result<Manifest, LabError> {
    let r = run_inner(s, text, opts);
    if r.is_err() {
        // No half-written outputs: a capture without labels and manifest is misleading.
        let (pcap, labels, manifest) = output_paths(&opts.output);
        for p in [pcap, labels, manifest] {
            let _ = std::fs::remove_file(p);
        }
    }
    r
}

/// [`run_scenario`] without the removal of partial outputs on error.
fn run_inner(s: &Scenario, text: &str, opts: &RunOptions) -> Result<Manifest, LabError> {
    check_tools(s)?;
    create_output_dir(&opts.output)?;
    let seed = opts.seed.unwrap_or(s.seed);
    let started_ns = sys::now_ns();
    let prefix = format!("{}{}", sys::PREFIX, std::process::id());
    let work = std::env::temp_dir().join(&prefix);
    std::fs::create_dir_all(&work)
        .map_err(|e| LabError::Io(format!("creating {}", work.display()), e))?;
    let guard = Teardown::new(Some(work.clone()), opts.keep_workdir);
    let nodes = plan_nodes(s, &prefix);
    let (pcap_path, labels_path, manifest_path) = output_paths(&opts.output);
    let chatter = ChatterLog::default();
    let lab = Lab {
        s,
        opts,
        seed,
        prefix: &prefix,
        work: &work,
        guard: &guard,
        nodes: &nodes,
        chatter: &chatter,
    };
    let (timeline, meta) = run_lab(&lab, &pcap_path)?;
    say(opts.quiet, "torn down; writing labels and manifest");

    // Labels.
    let (phases, label_1) = write_labels(&labels_path, timeline, &meta, &chatter.flows())?;

    let manifest = Manifest {
        lab_version: env!("CARGO_PKG_VERSION"),
        scenario: s.name.clone(),
        seed,
        scenario_toml: text.to_owned(),
        tool_versions: tool_versions(s),
        kernel: sys::cmd(&["uname", "-r"])
            .map(|k| k.trim().to_owned())
            .unwrap_or_default(),
        subnet: format!("{SUBNET}/{PREFIX_LEN}"),
        nodes: nodes.clone(),
        attacker: nodes.iter().find(|n| n.role == "attacker").cloned(),
        label_rule: LABEL_RULE,
        phases,
        packets: meta.len() as u64,
        label_1,
        capture: file_record(&pcap_path)?,
        labels: file_record(&labels_path)?,
        started_ns,
        ended_ns: sys::now_ns(),
    };
    let json = serde_json::to_string_pretty(&manifest)
        .map_err(|e| LabError::Io("serialising the manifest".into(), e.into()))?;
    std::fs::write(&manifest_path, json + "\n")
        .map_err(|e| LabError::Io(format!("writing {}", manifest_path.display()), e))?;
    Ok(manifest)
}

/// Fails unless the run can start: this process is root and every tool `s` needs is
/// installed.
fn check_tools(s: &Scenario) -> Result<(), LabError> {
    if !sys::is_root() {
        return Err(LabError::NotRoot);
    }
    let miss = missing(&tools_needed(s));
    if !miss.is_empty() {
        return Err(LabError::MissingTools {
            missing: miss
                .iter()
                .map(|t| t.program)
                .collect::<Vec<_>>()
                .join(", "),
            apt: apt_line(&miss),
        });
    }
    Ok(())
}

/// Creates the directory the output prefix names (`out/` of `-o out/smoke`), before the lab is
/// built, so a missing directory costs nothing.
fn create_output_dir(prefix: &Path) -> Result<(), LabError> {
    match prefix.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| LabError::Io(format!("creating {}", dir.display()), e)),
        _ => Ok(()),
    }
}

/// What every step of a run needs.
struct Lab<'a> {
    /// The scenario.
    s: &'a Scenario,
    /// The run's options.
    opts: &'a RunOptions,
    /// The seed in use.
    seed: u64,
    /// Prefix of the namespace names.
    prefix: &'a str,
    /// Work directory (service configs and logs).
    work: &'a Path,
    /// Removes everything the run creates.
    guard: &'a Teardown,
    /// The hosts ([`plan_nodes`]).
    nodes: &'a [Node],
    /// The attacker device's own conversations.
    chatter: &'a ChatterLog,
}

/// The phases of a run as they happen: their spans on the lab's clock, and the tool and
/// command lines of each.
struct Timeline {
    /// The phases, startup first; the last one is still open (`end_ns` 0).
    spans: Vec<PhaseSpan>,
    /// The tool and command lines of each span (filled in as each phase runs).
    records: Vec<(Option<String>, Vec<String>)>,
}

impl Timeline {
    /// Ends the open phase at `start` and opens phase `name` of `kind` there.
    fn begin(&mut self, name: String, kind: PhaseKind, start: i64) {
        if let Some(last) = self.spans.last_mut() {
            last.end_ns = start;
        }
        self.spans.push(PhaseSpan {
            name,
            kind,
            start_ns: start,
            end_ns: 0,
        });
    }
}

/// Builds the topology and runs the lab: capture, services, devices, warm-up and phases; then
/// stops the devices and the capture and tears everything down. Returns the timeline and,
/// per captured packet, its time and whether it carries the attacker's address.
fn run_lab(lab: &Lab<'_>, pcap_path: &Path) -> Result<(Timeline, Vec<Captured>), LabError> {
    let (s, opts, nodes) = (lab.s, lab.opts, lab.nodes);
    let by_role = |r: &str| nodes.iter().find(|n| n.role == r);
    let gw = by_role("gateway")
        .ok_or_else(|| LabError::Scenario("no gateway".into()))?
        .clone();
    let gw_ip = gw.ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
    let sensor = by_role("sensor")
        .ok_or_else(|| LabError::Scenario("no sensor".into()))?
        .clone();
    let attacker = by_role("attacker").cloned();
    let attacker_addr = attacker.as_ref().and_then(|a| {
        a.ip.map(|ip| AttackerAddr {
            mac: a.mac_bytes,
            ip,
        })
    });

    say(
        opts.quiet,
        &format!("building {} namespaces ({}-*)", nodes.len() + 1, lab.prefix),
    );
    build_topology(lab.guard, lab.prefix, nodes)?;

    // Capture first, so the timeline starts with an empty network.
    let cap_stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let capture = {
        let (ns, stop, path) = (
            sensor.netns.clone(),
            Arc::clone(&cap_stop),
            pcap_path.to_path_buf(),
        );
        std::thread::spawn(move || capture_thread(&ns, &path, attacker_addr, stop, ready_tx))
    };
    // If anything below fails, stop the capture before the guard tears down.
    let cap_guard = StopOnDrop(Arc::clone(&cap_stop));
    match ready_rx.recv_timeout(Duration::from_secs(10)) {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(LabError::Capture(e)),
        Err(_) => return Err(LabError::Capture("capture thread did not start".into())),
    }
    let mut timeline = Timeline {
        spans: vec![PhaseSpan {
            name: "startup".into(),
            kind: PhaseKind::Startup,
            start_ns: sys::now_ns(),
            end_ns: 0,
        }],
        records: vec![(None, Vec::new())],
    };

    say(opts.quiet, "starting services on the gateway");
    start_services(lab.guard, s, lab.work, &gw, nodes)?;
    say(opts.quiet, "starting devices");
    start_devices(lab, gw_ip);
    wait(secs(s.warmup_s))?;
    run_phases(lab, attacker.as_ref(), &mut timeline)?;

    timeline.begin("teardown".into(), PhaseKind::Teardown, sys::now_ns());
    timeline.records.push((None, Vec::new()));
    say(opts.quiet, "stopping devices");
    lab.guard.stop_threads();
    wait(Duration::from_millis(500))?;
    cap_stop.store(true, Ordering::SeqCst);
    drop(cap_guard);
    let meta = capture
        .join()
        .map_err(|_| LabError::Capture("capture thread panicked".into()))?
        .map_err(LabError::Capture)?;
    if let Some(last) = timeline.spans.last_mut() {
        last.end_ns = sys::now_ns().max(meta.last().map_or(0, |m| m.ts + 1));
    }
    lab.guard.teardown();
    Ok((timeline, meta))
}

/// Starts a thread for each device and the attacker, running its behaviour; `gw_ip` is the
/// gateway's address.
fn start_devices(lab: &Lab<'_>, gw_ip: Ipv4Addr) {
    let s = lab.s;
    for n in lab
        .nodes
        .iter()
        .filter(|n| n.role == "device" || n.role == "attacker")
    {
        let b: Behaviour = if n.role == "attacker" {
            s.attacker
                .as_ref()
                .map(|a| a.behaviour.clone())
                .unwrap_or_default()
        } else {
            device_behaviour(s, &n.name)
        };
        let ctx = DeviceCtx {
            name: n.name.clone(),
            ns: n.netns.clone(),
            ip: n.ip.unwrap_or(Ipv4Addr::UNSPECIFIED),
            gateway: gw_ip,
            seed: lab.seed ^ devices::fnv1a(&n.name),
            telnet_credential: s.gateway.telnet_credential.clone(),
            chatter: (n.role == "attacker").then(|| lab.chatter.clone()),
        };
        let stop = Arc::clone(&lab.guard.stop);
        lab.guard.keep_thread(std::thread::spawn(move || {
            devices::run_device(ctx, b, stop)
        }));
    }
}

/// Runs the scenario's phases in order, recording each in `timeline`: an attack runs its
/// tool (as `attacker`) and then waits `drain_s`, a benign phase waits `duration_s`. Fails
/// if a service exits during a phase.
fn run_phases(
    lab: &Lab<'_>,
    attacker: Option<&Node>,
    timeline: &mut Timeline,
) -> Result<(), LabError> {
    let quiet = lab.opts.quiet;
    for p in &lab.s.phases {
        let start = sys::now_ns();
        let kind = if p.attack.is_some() {
            PhaseKind::Attack
        } else {
            PhaseKind::Benign
        };
        timeline.begin(p.name.clone(), kind, start);
        match (&p.attack, attacker) {
            (Some(a), Some(att)) => {
                say(
                    quiet,
                    &format!(
                        "phase {}: attack {} (at most {} s)",
                        p.name,
                        a.tool(),
                        p.duration_s
                    ),
                );
                let cmds = run_attack(a, att, lab.nodes, lab.work, &p.name, secs(p.duration_s))?;
                timeline.records.push((Some(a.tool().to_owned()), cmds));
                wait(secs(p.drain_s))?;
            }
            _ => {
                say(
                    quiet,
                    &format!("phase {}: benign, {} s", p.name, p.duration_s),
                );
                timeline.records.push((None, Vec::new()));
                wait(secs(p.duration_s))?;
            }
        }
        let dead = lab.guard.exited();
        if !dead.is_empty() {
            return Err(LabError::Service(
                dead.join(", "),
                "exited during the run".into(),
            ));
        }
    }
    Ok(())
}

/// Labels each captured packet with the phases of `timeline` and the attacker's logged
/// `chatter` (module `label`) and writes `labels_path` (`index,label,phase,attacker,time`).
/// Returns the per-phase records with their counts, and the number of packets labelled 1.
fn write_labels(
    labels_path: &Path,
    timeline: Timeline,
    meta: &[Captured],
    chatter: &[crate::chatter::ChatterFlow],
) -> Result<(Vec<PhaseRecord>, u64), LabError> {
    let spans = timeline.spans;
    let mut phases: Vec<PhaseRecord> = spans
        .iter()
        .zip(timeline.records)
        .map(|(span, (tool, commands))| PhaseRecord {
            span: span.clone(),
            tool,
            commands,
            packets: 0,
            label_1: 0,
            attacker_packets: 0,
        })
        .collect();
    let f = std::fs::File::create(labels_path)
        .map_err(|e| LabError::Io(format!("creating {}", labels_path.display()), e))?;
    let mut w = BufWriter::new(f);
    let io = |e| LabError::Io(format!("writing {}", labels_path.display()), e);
    writeln!(w, "index,label,phase,attacker,time").map_err(io)?;
    let mut label_1 = 0u64;
    for (i, p) in meta.iter().enumerate() {
        let (ts, carries) = (p.ts, p.carries);
        let (pi, l) = p.label(&spans, chatter);
        let rec = pi.and_then(|pi| phases.get_mut(pi));
        let name = rec.as_ref().map_or("", |r| r.span.name.as_str()).to_owned();
        if let Some(r) = rec {
            r.packets += 1;
            r.label_1 += u64::from(l);
            r.attacker_packets += u64::from(carries);
        }
        label_1 += u64::from(l);
        writeln!(
            w,
            "{i},{l},{name},{},{}",
            u8::from(carries),
            label::format_ts(ts)
        )
        .map_err(io)?;
    }
    w.flush().map_err(io)?;
    drop(w);
    Ok((phases, label_1))
}

/// The manifest record of output file `p`: its file name and SHA-256.
fn file_record(p: &Path) -> Result<FileRecord, LabError> {
    Ok(FileRecord {
        file: p
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        sha256: sha256_file(p)?,
    })
}

/// Raises its flag when dropped: stops the capture thread on every way out of a run.
struct StopOnDrop(Arc<AtomicBool>);
impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn device_behaviour(s: &Scenario, name: &str) -> Behaviour {
    s.devices
        .iter()
        .find(|g| {
            name.strip_prefix(g.name.as_str())
                .is_some_and(|r| r.starts_with('-') && r[1..].parse::<u32>().is_ok())
        })
        .map(|g| g.behaviour.clone())
        .unwrap_or_default()
}

fn sha256_file(p: &Path) -> Result<String, LabError> {
    let mut f =
        std::fs::File::open(p).map_err(|e| LabError::Io(format!("reading {}", p.display()), e))?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)
        .map_err(|e| LabError::Io(format!("reading {}", p.display()), e))?;
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

fn tool_versions(s: &Scenario) -> std::collections::BTreeMap<String, String> {
    let mut m = std::collections::BTreeMap::new();
    for t in tools_needed(s) {
        let v = sys::cmd(&["dpkg-query", "-W", "-f", "${Version}", t.package])
            .unwrap_or_else(|_| "unknown".into());
        m.insert(t.package.to_owned(), v);
    }
    m
}

fn sysctls(ns: &str, kv: &[&str]) -> Result<(), LabError> {
    let mut v = vec!["sysctl", "-q", "-w"];
    v.extend_from_slice(kv);
    sys::ns_cmd(ns, &v).map(drop)
}

fn build_topology(guard: &Teardown, prefix: &str, nodes: &[Node]) -> Result<(), LabError> {
    let hub = format!("{prefix}-hub");
    let no_v6 = [
        "net.ipv6.conf.all.disable_ipv6=1",
        "net.ipv6.conf.default.disable_ipv6=1",
    ];
    guard.add_netns(&hub)?;
    sysctls(&hub, &no_v6)?;
    // A hub: ageing time 0 makes the bridge forget every MAC at once, so it floods every frame
    // to every port; no STP, no multicast snooping.
    sys::cmd(&[
        "ip",
        "-n",
        &hub,
        "link",
        "add",
        "br0",
        "type",
        "bridge",
        "ageing_time",
        "0",
        "stp_state",
        "0",
        "mcast_snooping",
        "0",
    ])?;
    sys::cmd(&["ip", "-n", &hub, "link", "set", "br0", "up"])?;
    let has_ethtool = sys::which("ethtool").is_some();
    for n in nodes {
        guard.add_netns(&n.netns)?;
        sysctls(&n.netns, &no_v6)?;
        let port = format!("p{}", n.host);
        sys::cmd(&[
            "ip", "-n", &hub, "link", "add", &port, "type", "veth", "peer", "name", "eth0",
            "netns", &n.netns,
        ])?;
        sys::cmd(&[
            "ip", "-n", &n.netns, "link", "set", "eth0", "address", &n.mac,
        ])?;
        sys::cmd(&["ip", "-n", &n.netns, "link", "set", "lo", "up"])?;
        if let Some(ip) = n.ip {
            sys::cmd(&[
                "ip",
                "-n",
                &n.netns,
                "addr",
                "add",
                &format!("{ip}/{PREFIX_LEN}"),
                "dev",
                "eth0",
            ])?;
        } else {
            // The sensor only listens: no address, no ARP.
            sys::cmd(&["ip", "-n", &n.netns, "link", "set", "eth0", "arp", "off"])?;
        }
        if has_ethtool {
            // Software checksums and segmentation, so the capture holds wire-sized frames with
            // valid checksums.
            let _ = sys::ns_cmd(
                &n.netns,
                &[
                    "ethtool", "-K", "eth0", "tx", "off", "tso", "off", "gso", "off", "gro", "off",
                ],
            );
            let _ = sys::ns_cmd(
                &hub,
                &[
                    "ethtool", "-K", &port, "tx", "off", "tso", "off", "gso", "off", "gro", "off",
                ],
            );
        }
        sys::cmd(&["ip", "-n", &n.netns, "link", "set", "eth0", "up"])?;
        sys::cmd(&[
            "ip", "-n", &hub, "link", "set", &port, "master", "br0", "up",
        ])?;
        if n.role == "attacker" {
            // The Internet is behind the gateway (which forwards nothing): random-address
            // scans reach the wire and the capture, and go no further.
            let gw = Ipv4Addr::from(u32::from(SUBNET) + u32::from(GATEWAY_HOST));
            sys::cmd(&[
                "ip",
                "-n",
                &n.netns,
                "route",
                "add",
                "default",
                "via",
                &gw.to_string(),
            ])?;
        }
    }
    Ok(())
}

fn capture_thread(
    ns: &str,
    path: &Path,
    attacker: Option<AttackerAddr>,
    stop: Arc<AtomicBool>,
    ready: std::sync::mpsc::Sender<Result<(), String>>,
) -> Result<Vec<Captured>, String> {
    let open = || -> Result<(LiveCapture, PcapWriter<BufWriter<std::fs::File>>), String> {
        sys::enter_netns(ns).map_err(|e| e.to_string())?;
        let mut o = LiveOptions::with_stop(Arc::clone(&stop));
        o.snaplen = SNAPLEN as usize;
        o.read_timeout = Duration::from_millis(50);
        let cap = LiveCapture::open_with("eth0", o).map_err(|e| e.to_string())?;
        let f =
            std::fs::File::create(path).map_err(|e| format!("creating {}: {e}", path.display()))?;
        let w = PcapWriter::new(
            BufWriter::with_capacity(1 << 20, f),
            LinkType::ETHERNET.0,
            SNAPLEN,
        )
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
        Ok((cap, w))
    };
    let (mut cap, mut w) = match open() {
        Ok(x) => {
            let _ = ready.send(Ok(()));
            x
        }
        Err(e) => {
            let _ = ready.send(Err(e.clone()));
            return Err(e);
        }
    };
    let mut meta = Vec::new();
    while let Some(p) = cap.next_packet().map_err(|e| e.to_string())? {
        w.write(p.ts, p.data, p.orig_len)
            .map_err(|e| format!("writing {}: {e}", path.display()))?;
        meta.push(Captured::of(p.data, p.ts, attacker.as_ref()));
    }
    w.finish()
        .map_err(|e| format!("writing {}: {e}", path.display()))?;
    Ok(meta)
}

fn start_services(
    guard: &Teardown,
    s: &Scenario,
    work: &Path,
    gw: &Node,
    nodes: &[Node],
) -> Result<(), LabError> {
    let gw_ip = gw.ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
    let leases: Vec<services::Lease> = nodes
        .iter()
        .filter(|n| n.role == "device" || n.role == "attacker")
        .filter_map(|n| {
            n.ip.map(|ip| services::Lease {
                name: n.name.clone(),
                mac: n.mac.clone(),
                ip,
            })
        })
        .collect();
    for (name, args) in services::prepare(work, &s.gateway, gw_ip, &leases)? {
        let log = work.join(format!("{name}.out"));
        guard.keep(Proc::spawn(&name, &gw.netns, &args, &log, None, work)?);
    }
    if s.gateway.telnet {
        let (tx, rx) = std::sync::mpsc::channel();
        let (ns, login, stop) = (
            gw.netns.clone(),
            devices::TelnetLogin {
                credential: s.gateway.telnet_credential.clone(),
                fail_delay: Duration::from_millis(u64::from(s.gateway.telnet_fail_delay_ms)),
            },
            Arc::clone(&guard.stop),
        );
        guard.keep_thread(std::thread::spawn(move || {
            devices::run_telnet(ns, gw_ip, login, tx, stop)
        }));
        match rx.recv_timeout(Duration::from_secs(5)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(LabError::Service("telnet".into(), e)),
            Err(_) => return Err(LabError::Service("telnet".into(), "no answer".into())),
        }
    }
    if s.gateway.modbus {
        let (tx, rx) = std::sync::mpsc::channel();
        let (ns, stop) = (gw.netns.clone(), Arc::clone(&guard.stop));
        guard.keep_thread(std::thread::spawn(move || {
            crate::modbus::run_server(ns, gw_ip, tx, stop)
        }));
        match rx.recv_timeout(Duration::from_secs(5)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(LabError::Service("modbus".into(), e)),
            Err(_) => return Err(LabError::Service("modbus".into(), "no answer".into())),
        }
    }
    // Wait until the TCP services accept connections (probing from inside the gateway).
    let mut ports = Vec::new();
    if s.gateway.mqtt {
        ports.push(("mosquitto", 1883u16));
    }
    if s.gateway.http {
        ports.push(("lighttpd", 80));
    }
    let ns = gw.netns.clone();
    let probe = std::thread::spawn(move || -> Result<(), String> {
        sys::enter_netns(&ns).map_err(|e| e.to_string())?;
        for (name, port) in ports {
            let t = Instant::now();
            while std::net::TcpStream::connect_timeout(
                &(gw_ip, port).into(),
                Duration::from_millis(200),
            )
            .is_err()
            {
                if t.elapsed() > Duration::from_secs(5) {
                    return Err(format!("{name} is not listening on {gw_ip}:{port}"));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Ok(())
    });
    probe
        .join()
        .map_err(|_| LabError::Service("probe".into(), "panicked".into()))?
        .map_err(|e| LabError::Service("gateway".into(), e))?;
    wait(Duration::from_millis(300))?;
    let dead = guard.exited();
    if !dead.is_empty() {
        return Err(LabError::Service(
            dead.join(", "),
            format!(
                "exited at start; see the logs in {} (run with --keep-workdir)",
                work.display()
            ),
        ));
    }
    Ok(())
}

/// Runs attack `a` from the attacker `att` for at most `limit` (the phase `phase`'s
/// duration), then stops it; returns the command lines run.
fn run_attack(
    a: &Attack,
    att: &Node,
    nodes: &[Node],
    work: &Path,
    phase: &str,
    limit: Duration,
) -> Result<Vec<String>, LabError> {
    let plan = attack_plan(a, att, nodes, work, phase, limit.as_secs().max(1))?;
    if plan.forwarding {
        sysctls(
            &att.netns,
            &[
                "net.ipv4.ip_forward=1",
                "net.ipv4.conf.all.send_redirects=0",
                "net.ipv4.conf.eth0.send_redirects=0",
            ],
        )?;
    }
    let log = work.join(format!("{phase}.log"));
    let mut procs = Vec::new();
    for (i, c) in plan.cmds.iter().enumerate() {
        procs.push(Proc::spawn(
            &format!("{phase}-{i}"),
            &att.netns,
            c,
            &log,
            plan.stdin.as_deref(),
            work,
        )?);
    }
    let stop_scripted = Arc::new(AtomicBool::new(false));
    let scripted = plan.scripted.clone().map(|s| {
        let (ns, stop) = (att.netns.clone(), Arc::clone(&stop_scripted));
        std::thread::spawn(move || -> Result<(), String> {
            sys::enter_netns(&ns).map_err(|e| e.to_string())?;
            s.run(&stop)
        })
    });
    let t = Instant::now();
    let mut interrupted = false;
    let running = |procs: &mut Vec<Proc>| {
        procs.iter_mut().any(|p| !p.exited()) || scripted.as_ref().is_some_and(|h| !h.is_finished())
    };
    while running(&mut procs) && t.elapsed() < limit {
        if INTERRUPT.load(Ordering::Relaxed) {
            interrupted = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    // SIGINT first: arpspoof re-ARPs the true addresses on SIGINT, the others just stop.
    sys::stop_all(&mut procs, Signal::SIGINT, Duration::from_secs(5));
    stop_scripted.store(true, Ordering::Relaxed);
    let scripted_result = scripted.map(|h| h.join());
    if plan.forwarding {
        sysctls(&att.netns, &["net.ipv4.ip_forward=0"])?;
    }
    if interrupted {
        return Err(LabError::Interrupted);
    }
    if let Some(r) = scripted_result {
        // A scripted attack that failed is the run's failure, as a tool that cannot start is.
        r.map_err(|_| LabError::Service(phase.into(), "scripted attack panicked".into()))?
            .map_err(|e| LabError::Service(phase.into(), e))?;
    }
    let mut ran: Vec<String> = plan.cmds.iter().map(|c| c.join(" ")).collect();
    ran.extend(plan.scripted.as_ref().map(Scripted::describe));
    Ok(ran)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn output_prefix_directory_is_created() {
        let tmp = tempfile::tempdir().unwrap();
        let prefix = tmp.path().join("out/nested/smoke");
        create_output_dir(&prefix).unwrap();
        assert!(tmp.path().join("out/nested").is_dir());
        // Again, and for a bare prefix (the current directory): nothing to do.
        create_output_dir(&prefix).unwrap();
        create_output_dir(Path::new("smoke")).unwrap();
    }

    #[test]
    fn output_directory_that_cannot_be_created_is_an_io_error() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("a-file");
        std::fs::write(&file, b"").unwrap();
        let e = create_output_dir(&file.join("smoke")).unwrap_err();
        assert!(
            matches!(&e, LabError::Io(what, _) if *what == format!("creating {}", file.display())),
            "{e}"
        );
    }
}
