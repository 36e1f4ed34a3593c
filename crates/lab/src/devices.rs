//! Device behaviours and the fake telnet login, run as threads inside the lab's namespaces.
//!
//! Each device is one thread that enters its namespace and keeps a schedule of periodic events
//! (MQTT telemetry on a kept-open connection, CoAP GETs, HTTP polls, DNS lookups, firmware
//! checks, DHCP exchanges by busybox `udhcpc`), each due every `interval ± jitter` drawn from a
//! [`SplitMix64`] seeded from the scenario seed and the device name. The protocols are written
//! by hand here because each exchange is a few bytes; the servers they talk to are the real
//! Debian packages.

use std::io::{BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::chatter::{self, ChatterLog, Logged};
use crate::scenario::{Behaviour, Every, MqttTelemetry};
use crate::sys;

/// SplitMix64: a tiny, seedable generator (Steele, Lea, Flood 2014), enough for jitter.
#[derive(Clone, Debug)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }
}

/// FNV-1a of `s`, to derive per-device seeds.
pub fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// The next delay for `e`: `interval ± jitter`, uniform.
pub fn next_delay(rng: &mut SplitMix64, e: &Every) -> Duration {
    let j = e.jitter_ms;
    let ms = e.interval_ms - j + rng.below(2 * j + 1);
    Duration::from_millis(ms)
}

/// Where a device finds its services.
#[derive(Clone, Debug)]
pub struct DeviceCtx {
    /// Device name.
    pub name: String,
    /// Its namespace.
    pub ns: String,
    /// Its address.
    pub ip: Ipv4Addr,
    /// The gateway's address.
    pub gateway: Ipv4Addr,
    /// Seed of its generator.
    pub seed: u64,
    /// The credential the gateway's telnet login accepts (for administration sessions).
    pub telnet_credential: (String, String),
    /// The attacker's: where its conversations are logged, so that labelling keeps them
    /// apart from the attack's ([`crate::chatter`]).
    pub chatter: Option<ChatterLog>,
}

impl DeviceCtx {
    /// A TCP connection to the gateway's `port`, logged as chatter on the attacker.
    fn connect(&self, port: u16) -> std::io::Result<Logged<TcpStream>> {
        let to = SocketAddrV4::new(self.gateway, port);
        chatter::connect(self.chatter.as_ref(), to, IO_TIMEOUT)
    }

    /// A UDP socket for exchanges with the gateway's `port`, logged as chatter on the
    /// attacker.
    fn udp(&self, port: u16) -> std::io::Result<Logged<UdpSocket>> {
        chatter::udp(self.chatter.as_ref(), SocketAddrV4::new(self.gateway, port))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Event {
    Mqtt,
    Coap,
    Http,
    Dns,
    Dhcp,
    Firmware,
    FirmwareDownload,
    Tftp,
    Modbus,
    Telnet,
}

const IO_TIMEOUT: Duration = Duration::from_millis(1500);

/// An MQTT DISCONNECT packet.
const MQTT_DISCONNECT: [u8; 2] = [0xe0, 0x00];

/// Runs `b` for device `ctx` until `stop` is raised. Errors of single exchanges are ignored
/// (a device retries at its next event), as a real device would.
pub fn run_device(ctx: DeviceCtx, b: Behaviour, stop: Arc<AtomicBool>) {
    if let Err(e) = sys::enter_netns(&ctx.ns) {
        eprintln!("custos-lab: device {}: {e}", ctx.name);
        return;
    }
    let mut rng = SplitMix64::new(ctx.seed);
    let mut events = schedule(&b, Instant::now(), &mut rng);
    let ssdp = b.ssdp.then(|| {
        // A UPnP device answers discovery all the time (this thread's namespace is inherited).
        let (ip, name, stop) = (ctx.ip, ctx.name.clone(), Arc::clone(&stop));
        std::thread::spawn(move || {
            if let Err(e) = crate::ssdp::serve(ip, &name, &stop) {
                eprintln!("custos-lab: device {name}: SSDP: {e}");
            }
        })
    });
    let mut state = DeviceState::default();
    while !stop.load(Ordering::Relaxed) {
        let Some(i) = (0..events.len()).min_by_key(|&i| events[i].2) else {
            sys::sleep_unless(&stop, Duration::from_secs(3600));
            break;
        };
        let (ev, every, due) = events[i];
        let now = Instant::now();
        if due > now && !sys::sleep_unless(&stop, due - now) {
            break;
        }
        state.seq += 1;
        fire(ev, &every, (&ctx, &b), &mut rng, &mut state, &stop);
        if let Some(e) = events.get_mut(i) {
            e.2 = Instant::now() + next_delay(&mut rng, &every);
        }
    }
    if let Some(mut s) = state.mqtt {
        let _ = s.write_all(&MQTT_DISCONNECT);
    }
    if let Some(t) = ssdp {
        let _ = t.join();
    }
}

/// The events of behaviour `b` with their first due time from `start`: spread over one
/// interval (so devices do not fire in lockstep), DHCP at once.
fn schedule(b: &Behaviour, start: Instant, rng: &mut SplitMix64) -> Vec<(Event, Every, Instant)> {
    let mut events: Vec<(Event, Every, Instant)> = Vec::new();
    let mut push = |ev, e: Option<Every>, rng: &mut SplitMix64| {
        if let Some(e) = e {
            // Spread first events over one interval so devices do not fire in lockstep.
            let first = Duration::from_millis(rng.below(e.interval_ms));
            events.push((ev, e, start + first));
        }
    };
    push(Event::Mqtt, b.mqtt.as_ref().map(|m| m.every), rng);
    push(Event::Coap, b.coap, rng);
    push(Event::Http, b.http, rng);
    push(Event::Dns, b.dns.as_ref().map(|d| d.every), rng);
    push(Event::Firmware, b.firmware, rng);
    push(Event::FirmwareDownload, b.firmware_download, rng);
    push(Event::Tftp, b.tftp, rng);
    push(Event::Modbus, b.modbus, rng);
    push(Event::Telnet, b.telnet.as_ref().map(|t| t.every), rng);
    if let Some(d) = b.dhcp {
        // DHCP first: a device asks for its lease as it boots.
        events.push((Event::Dhcp, d, start));
    }
    events
}

/// What a device keeps between its events.
#[derive(Default)]
struct DeviceState {
    /// The kept-open MQTT connection.
    mqtt: Option<Logged<TcpStream>>,
    /// Events so far.
    seq: u64,
    /// The next DNS name to look up (modulo the list).
    dns_turn: usize,
}

/// Runs one event of device `ctx` with behaviour `b`.
fn fire(
    ev: Event,
    every: &Every,
    (ctx, b): (&DeviceCtx, &Behaviour),
    rng: &mut SplitMix64,
    state: &mut DeviceState,
    stop: &AtomicBool,
) {
    match ev {
        Event::Mqtt => {
            if let Some(m) = &b.mqtt {
                mqtt_telemetry(ctx, m, every, rng, state);
            }
        }
        Event::Coap => {
            let _ = coap_get(ctx, "time", rng);
        }
        Event::Http => {
            let _ = http_get(ctx, "/status");
        }
        Event::Dns => {
            if let Some(d) = &b.dns {
                if let Some(n) = d.names.get(state.dns_turn % d.names.len().max(1)) {
                    let _ = dns_query(ctx, n, rng);
                }
                state.dns_turn += 1;
            }
        }
        Event::Firmware => {
            let _ = dns_query(ctx, "firmware.iot.lab", rng);
            let _ = http_get(ctx, "/firmware/latest.json");
        }
        Event::Dhcp => dhcp(ctx, stop),
        Event::FirmwareDownload => {
            let path = format!("/{}", crate::services::FIRMWARE_IMAGE);
            let _ = http_get(ctx, &path);
        }
        Event::Tftp => tftp_get(ctx, stop),
        Event::Modbus => {
            let transaction = (state.seq & 0xffff) as u16;
            let _ = ctx
                .connect(crate::modbus::PORT)
                .and_then(|mut s| crate::modbus::poll_on(&mut s, transaction, IO_TIMEOUT));
        }
        Event::Telnet => {
            if let Some(t) = &b.telnet {
                let typo = t.typo_one_in > 0 && rng.below(u64::from(t.typo_one_in)) == 0;
                let _ = telnet_admin(ctx, typo, stop);
            }
        }
    }
}

/// An administrator's telnet session to the gateway: log in with the right credential (after
/// a refused attempt with a mistyped password on a connection of its own when `typo`), run
/// two commands, exit.
fn telnet_admin(ctx: &DeviceCtx, typo: bool, stop: &AtomicBool) -> std::io::Result<()> {
    admin_session(|| ctx.connect(23), &ctx.telnet_credential, typo, stop)
}

/// [`telnet_admin`] over the connections `connect` opens.
///
/// # Errors
/// Socket errors; the right credential refused.
fn admin_session<S: std::ops::DerefMut<Target = TcpStream>>(
    mut connect: impl FnMut() -> std::io::Result<S>,
    credential: &(String, String),
    typo: bool,
    stop: &AtomicBool,
) -> std::io::Result<()> {
    use crate::scripted::{login_on, run_commands, LoginOutcome};
    if typo {
        let mut s = connect()?;
        let mistyped = (credential.0.clone(), format!("{}x", credential.1));
        login_on(&mut s, &mistyped, stop)?;
    }
    let mut s = connect()?;
    if login_on(&mut s, credential, stop)? != LoginOutcome::Shell {
        return Err(std::io::Error::other("telnet login refused"));
    }
    let commands = ["uptime".to_owned(), "cat /proc/loadavg".to_owned()];
    run_commands(&mut s, &commands, stop)?;
    // Let the shell see `exit` and close first, as a client that waits for the end.
    let mut rest = [0u8; 64];
    let _ = s.read(&mut rest);
    Ok(())
}

/// One MQTT telemetry reading: a PUBLISH on the kept-open connection, connecting first
/// when there is none (a failed write drops it, to reconnect next time).
fn mqtt_telemetry(
    ctx: &DeviceCtx,
    m: &MqttTelemetry,
    every: &Every,
    rng: &mut SplitMix64,
    state: &mut DeviceState,
) {
    let seq = state.seq;
    let topic = format!("sensors/{}/{}", ctx.name, m.metric);
    let value = 15.0 + (rng.below(2000) as f64) / 100.0;
    let mut payload = format!(
        "{{\"device\":\"{}\",\"seq\":{seq},\"value\":{value:.2}}}",
        ctx.name
    );
    while payload.len() < m.payload_bytes as usize {
        payload.push(' ');
    }
    let keepalive = u16::try_from((every.interval_ms * 3 / 1000).max(60)).unwrap_or(u16::MAX);
    if m.reconnect {
        // One session per reading: CONNECT, PUBLISH, DISCONNECT, then wait for the broker to
        // close (a client that waits for the end).
        if let Ok(mut s) = mqtt_connect(ctx, keepalive) {
            let _ = s.write_all(&mqtt_publish(&topic, payload.as_bytes()));
            let _ = s.write_all(&MQTT_DISCONNECT);
            let mut rest = [0u8; 16];
            let _ = s.read(&mut rest);
        }
        return;
    }
    if state.mqtt.is_none() {
        state.mqtt = mqtt_connect(ctx, keepalive).ok();
    }
    let ok = state.mqtt.as_mut().is_some_and(|s| {
        s.write_all(&mqtt_publish(&topic, payload.as_bytes()))
            .is_ok()
    });
    if !ok {
        state.mqtt = None;
    }
}

fn mqtt_remaining_len(mut n: usize, out: &mut Vec<u8>) {
    loop {
        let mut b = (n % 128) as u8;
        n /= 128;
        if n > 0 {
            b |= 0x80;
        }
        out.push(b);
        if n == 0 {
            break;
        }
    }
}

fn mqtt_str(s: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&u16::try_from(s.len()).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(s);
}

/// An MQTT 3.1.1 CONNECT (clean session).
pub fn mqtt_connect_packet(client_id: &str, keepalive: u16) -> Vec<u8> {
    let mut body = Vec::new();
    mqtt_str(b"MQTT", &mut body);
    body.push(4);
    body.push(0x02);
    body.extend_from_slice(&keepalive.to_be_bytes());
    mqtt_str(client_id.as_bytes(), &mut body);
    let mut p = vec![0x10];
    mqtt_remaining_len(body.len(), &mut p);
    p.extend_from_slice(&body);
    p
}

/// An MQTT QoS 0 PUBLISH.
pub fn mqtt_publish(topic: &str, payload: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    mqtt_str(topic.as_bytes(), &mut body);
    body.extend_from_slice(payload);
    let mut p = vec![0x30];
    mqtt_remaining_len(body.len(), &mut p);
    p.extend_from_slice(&body);
    p
}

fn mqtt_connect(ctx: &DeviceCtx, keepalive: u16) -> std::io::Result<Logged<TcpStream>> {
    let mut s = ctx.connect(1883)?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    s.set_nodelay(true)?;
    s.write_all(&mqtt_connect_packet(&ctx.name, keepalive))?;
    let mut ack = [0u8; 4];
    s.read_exact(&mut ack)?;
    if ack[0] != 0x20 || ack[3] != 0 {
        return Err(std::io::Error::other("connection refused by broker"));
    }
    Ok(s)
}

fn coap_get(ctx: &DeviceCtx, path: &str, rng: &mut SplitMix64) -> std::io::Result<()> {
    let s = ctx.udp(5683)?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    let mid = (rng.next_u64() & 0xffff) as u16;
    let token = (rng.next_u64() & 0xffff) as u16;
    let mut p = vec![0x42, 0x01];
    p.extend_from_slice(&mid.to_be_bytes());
    p.extend_from_slice(&token.to_be_bytes());
    // Option 11 (Uri-Path), delta 11, length < 13.
    p.push((11 << 4) | u8::try_from(path.len().min(12)).unwrap_or(12));
    p.extend_from_slice(
        path.as_bytes()
            .get(..path.len().min(12))
            .unwrap_or_default(),
    );
    s.send_to(&p, (ctx.gateway, 5683))?;
    let mut buf = [0u8; 1500];
    s.recv_from(&mut buf)?;
    Ok(())
}

fn http_get(ctx: &DeviceCtx, path: &str) -> std::io::Result<()> {
    let mut s = ctx.connect(80)?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    // One write, as an HTTP client sends a small request (until 2026-12-07 the request went
    // out in five segments, one per piece of the format string).
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: gateway.iot.lab\r\nUser-Agent: iot-device/1.0 ({})\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        ctx.name
    );
    s.write_all(request.as_bytes())?;
    let mut sink = Vec::new();
    s.read_to_end(&mut sink)?;
    Ok(())
}

/// A DNS query for `name`, type A, recursion desired.
pub fn dns_query_packet(id: u16, name: &str) -> Vec<u8> {
    let mut p = Vec::new();
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.').filter(|l| !l.is_empty()) {
        let l = label
            .as_bytes()
            .get(..label.len().min(63))
            .unwrap_or_default();
        p.push(u8::try_from(l.len()).unwrap_or(63));
        p.extend_from_slice(l);
    }
    p.extend_from_slice(&[0, 0, 1, 0, 1]);
    p
}

fn dns_query(ctx: &DeviceCtx, name: &str, rng: &mut SplitMix64) -> std::io::Result<()> {
    let s = ctx.udp(53)?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    let id = (rng.next_u64() & 0xffff) as u16;
    s.send_to(&dns_query_packet(id, name), (ctx.gateway, 53))?;
    let mut buf = [0u8; 1500];
    s.recv_from(&mut buf)?;
    Ok(())
}

/// Runs `cmd` (a child in this thread's namespace) to its end, killed after `limit` or on
/// `stop`.
fn run_child(cmd: &mut Command, stop: &AtomicBool, limit: Duration) {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    if let Ok(mut c) = child {
        let t = Instant::now();
        while matches!(c.try_wait(), Ok(None)) {
            if stop.load(Ordering::Relaxed) || t.elapsed() > limit {
                let _ = c.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = c.wait();
    }
}

/// busybox `tftp -g` of the firmware image from the gateway, discarded.
fn tftp_get(ctx: &DeviceCtx, stop: &AtomicBool) {
    let gw = ctx.gateway.to_string();
    run_child(
        Command::new("busybox").args([
            "tftp",
            "-g",
            "-r",
            crate::services::FIRMWARE_IMAGE,
            "-l",
            "/dev/null",
            &gw,
        ]),
        stop,
        Duration::from_secs(10),
    );
}

fn dhcp(ctx: &DeviceCtx, stop: &AtomicBool) {
    // busybox udhcpc: a real DISCOVER/OFFER/REQUEST/ACK from 0.0.0.0; `-s /bin/true` keeps it
    // from touching the interface (the address is already configured, and is the one dnsmasq
    // hands this MAC). The child starts in this thread's namespace.
    let ip = ctx.ip.to_string();
    let host = format!("hostname:{}", ctx.name);
    // Logged by its ports: the client speaks from 0.0.0.0 and broadcasts.
    let logged = ctx.chatter.as_ref().map(|l| {
        (
            l,
            l.open(chatter::UDP, (None, 68), (None, 67), sys::now_ns()),
        )
    });
    run_child(
        Command::new("busybox")
            .args(["udhcpc", "-i", "eth0", "-n", "-q", "-f", "-s", "/bin/true"])
            .args(["-t", "3", "-T", "1", "-A", "1", "-r", &ip, "-x", &host]),
        stop,
        Duration::from_secs(6),
    );
    if let Some((log, id)) = logged {
        log.close(id, sys::now_ns());
    }
}

/// What the fake telnet login accepts and how it refuses.
#[derive(Clone, Debug)]
pub struct TelnetLogin {
    /// The one credential accepted (`user`, `password`).
    pub credential: (String, String),
    /// The wait before "Login incorrect".
    pub fail_delay: Duration,
}

/// The fake telnet login: listens on `ip:23` inside namespace `ns` and accepts exactly one
/// credential, to which it shows a BusyBox-like `# ` prompt that echoes and does nothing. It
/// never touches a real account (the namespaces share the host's users).
pub fn run_telnet(
    ns: String,
    ip: Ipv4Addr,
    login: TelnetLogin,
    ready: std::sync::mpsc::Sender<Result<(), String>>,
    stop: Arc<AtomicBool>,
) {
    let Some(listener) = sys::listen_in_netns(&ns, ip, 23, &ready) else {
        return;
    };
    serve_telnet(&listener, login, &stop);
}

/// Serves the fake telnet login on `listener` (non-blocking) until `stop` is raised.
pub fn serve_telnet(listener: &TcpListener, login: TelnetLogin, stop: &Arc<AtomicBool>) {
    let login = Arc::new(login);
    let mut sessions = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((s, _)) => {
                let (login, stop) = (Arc::clone(&login), Arc::clone(stop));
                sessions.push(std::thread::spawn(move || {
                    let _ = telnet_session(s, &login, &stop);
                }));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
        sessions.retain(|t: &std::thread::JoinHandle<()>| !t.is_finished());
    }
    for t in sessions {
        let _ = t.join();
    }
}

fn read_line(r: &mut BufReader<TcpStream>, stop: &AtomicBool) -> std::io::Result<Option<String>> {
    // Lines end in CR, LF, CR LF or CR NUL (hydra sends "login\r\0"); a stray LF or NUL is skipped;
    // telnet IAC sequences are dropped.
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        if stop.load(Ordering::Relaxed) || out.len() > 256 {
            return Ok(None);
        }
        match r.read(&mut byte) {
            Ok(0) => return Ok(None),
            Ok(_) => match byte[0] {
                b'\r' => {
                    // Swallow the LF or NUL that follows a CR, when it is already here.
                    use std::io::BufRead;
                    if matches!(r.buffer().first(), Some(b'\n' | 0)) {
                        r.consume(1);
                    }
                    break;
                }
                b'\n' if !out.is_empty() => break,
                b'\n' | 0 => {}
                0xff => {
                    let mut cmd = [0u8; 1];
                    r.read_exact(&mut cmd)?;
                    if (0xfb..=0xfe).contains(&cmd[0]) {
                        r.read_exact(&mut cmd)?;
                    }
                }
                b => out.push(b),
            },
            Err(e) if sys::timed_out(&e) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(Some(String::from_utf8_lossy(&out).into_owned()))
}

fn telnet_session(s: TcpStream, login: &TelnetLogin, stop: &AtomicBool) -> std::io::Result<()> {
    let cred = &login.credential;
    s.set_read_timeout(Some(Duration::from_millis(200)))?;
    s.set_nonblocking(false)?;
    let mut w = s.try_clone()?;
    let mut r = BufReader::new(s);
    w.write_all(b"\r\nIoT-Gateway login: ")?;
    // One try per connection: hydra 9.4 garbles the second pair it sends on a kept connection.
    let Some(user) = read_line(&mut r, stop)? else {
        return Ok(());
    };
    w.write_all(b"Password: ")?;
    let Some(pass) = read_line(&mut r, stop)? else {
        return Ok(());
    };
    if user == cred.0 && pass == cred.1 {
        w.write_all(b"\r\n\r\nBusyBox v1.35.0 () built-in shell (ash)\r\n\r\n# ")?;
        for _ in 0..20 {
            let Some(line) = read_line(&mut r, stop)? else {
                return Ok(());
            };
            if line == "exit" {
                return Ok(());
            }
            w.write_all(format!("sh: {line}: not found\r\n# ").as_bytes())?;
        }
        return Ok(());
    }
    std::thread::sleep(login.fail_delay);
    w.write_all(b"\r\nLogin incorrect\r\n")?;
    Ok(())
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn an_admin_session_logs_in_after_its_typo_on_a_connection_of_its_own() {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let cred = ("root".to_owned(), "xc3511".to_owned());
        let login = TelnetLogin {
            credential: cred.clone(),
            fail_delay: Duration::from_millis(10),
        };
        let s = Arc::clone(&stop);
        let server = std::thread::spawn(move || serve_telnet(&listener, login, &s));
        let never = AtomicBool::new(false);
        let mut opened = 0;
        let connect = || {
            opened += 1;
            TcpStream::connect(addr).map(Box::new)
        };
        admin_session(connect, &cred, true, &never).unwrap();
        assert_eq!(opened, 2, "the typo and the session each on a connection");
        let wrong = ("root".to_owned(), "nope".to_owned());
        let e = admin_session(
            || TcpStream::connect(addr).map(Box::new),
            &wrong,
            false,
            &never,
        )
        .unwrap_err();
        assert!(e.to_string().contains("refused"), "{e}");
        stop.store(true, Ordering::Relaxed);
        server.join().unwrap();
    }

    #[test]
    fn splitmix_is_seeded_and_repeatable() {
        let a: Vec<u64> = (0..4)
            .scan(SplitMix64::new(7), |r, _| Some(r.next_u64()))
            .collect();
        let b: Vec<u64> = (0..4)
            .scan(SplitMix64::new(7), |r, _| Some(r.next_u64()))
            .collect();
        assert_eq!(a, b);
        assert_ne!(a[0], SplitMix64::new(8).next_u64());
    }

    #[test]
    fn jitter_stays_in_bounds() {
        let mut r = SplitMix64::new(1);
        let e = Every {
            interval_ms: 1000,
            jitter_ms: 200,
        };
        for _ in 0..1000 {
            let d = next_delay(&mut r, &e).as_millis();
            assert!((800..=1200).contains(&d), "{d}");
        }
    }

    #[test]
    fn mqtt_packets_have_the_right_lengths() {
        let c = mqtt_connect_packet("dev-1", 60);
        assert_eq!(c[0], 0x10);
        assert_eq!(usize::from(c[1]), c.len() - 2);
        let p = mqtt_publish("a/b", &[0u8; 200]);
        // 2 + 3 + 200 = 205 = 0xcd 0x01 as a variable-length integer.
        assert_eq!(&p[..3], &[0x30, 0xcd, 0x01]);
        assert_eq!(p.len(), 3 + 205);
    }

    #[test]
    fn dns_query_encodes_labels() {
        let q = dns_query_packet(0x1234, "gateway.iot.lab");
        assert_eq!(&q[..4], &[0x12, 0x34, 0x01, 0x00]);
        assert_eq!(&q[12..20], b"\x07gateway");
        assert_eq!(&q[q.len() - 5..], &[0, 0, 1, 0, 1]);
    }
}
