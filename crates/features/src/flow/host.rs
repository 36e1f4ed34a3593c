//! Host context: what the two hosts of a flow were doing when it started — how many flows its
//! originator opened lately, to how many targets it had not contacted before, how often to
//! this very target, how many of its logins servers refused lately, and how many flows its
//! responder received.
//!
//! A flow's own statistics cannot tell a service scan's completed handshake, or one login
//! attempt of a brute force, from a benign connection: each is an ordinary flow. What gives
//! them away is the host behind them, opening flows to many new targets (a scan) or to the same
//! one again and again (a brute force), as Kitsune's per-host statistics and Zeek's scan
//! detector see. These features put that context into each flow's row, fixed at its first
//! packet, so a live scorer has them from that packet on and a dataset row has the same.
//!
//! A brute force that opens one connection per password (as Mirai does, and as a careful
//! attacker does to stay under per-connection limits) looks like a handful of ordinary
//! logins; what gives it away from its next connection's first packet is that the same client
//! was just refused. So each refused login — a telnet or FTP login the server rejected, an
//! MQTT CONNACK refusing bad credentials or authorisation, an HTTP 401 — counts against the
//! client that tried it ([`HostContext::login_refused`]), and a flow carries its originator's
//! count when it starts.
//!
//! The reverse holds for devices that open a connection per reading (an MQTT sensor that
//! connects, publishes and disconnects several times a second): by counts alone they look
//! like a brute force, and a model trained on slower devices has no benign example that fast.
//! What explains their flows is that each was accepted. So each accepted login or session — a
//! telnet or FTP login success, an MQTT CONNACK 0 — counts for its client and its server
//! ([`HostContext::login_accepted`]), and the originator's flow counts (all flows, and flows
//! to this target) are given *less the sessions accepted* in the same time, at least 1: a
//! client whose every connection is accepted counts about 1 however fast it connects, one
//! refused again and again, or whose connections never reach a login, keeps its whole count.
//! (Measured in docs/detection.md: on an unseen network with such sensors, the false alerts of
//! the raw counts went away.) An attacker cannot buy its counts down elsewhere: sessions a
//! server accepts lower the count of flows to *that* target only, and refusals are never
//! offset, so mixing accepted MQTT sessions with telnet guesses lowers the all-flows count but
//! neither the telnet target's count nor the refusals.
//!
//! Counts are exponentially weighted (time constant [`TAU_NS`], 10 s; each flow adds 1 at its
//! first packet's time and the flow being described is included), driven by packet time only,
//! so they are the same on every run. A target (responder address and port) is *new* to an
//! originator when it opened no flow to it in the previous [`NEW_TARGET_NS`] (60 s). Memory is
//! bounded: each map is pruned of entries that no longer count when it passes its cap, and
//! emptied if that is not enough (a flood from spoofed addresses), which only lowers counts.

use custos_flow::keyed_hash::KeyedMap;
use custos_flow::Addr;

/// Time constant of the counts, nanoseconds (10 s).
pub const TAU_NS: f64 = 10e9;

/// How long an originator remembers a target, nanoseconds (60 s).
pub const NEW_TARGET_NS: i64 = 60_000_000_000;

/// Hosts held per map before pruning.
const HOSTS_CAP: usize = 1 << 16;

/// Originator–target pairs held before pruning.
const TARGETS_CAP: usize = 1 << 18;

/// The host features' names, in the order of [`HostFeatures::values`], and what they hold.
pub const HOST_COLUMNS: [(&str, &str); 5] = [
    (
        "orig_unaccepted_flows_10s",
        "flows the originator opened in about the last 10 s (exponentially weighted, time constant 10 s), this one included, less the logins and sessions servers accepted from it in that time (telnet and FTP logins, MQTT CONNACK 0); at least 1",
    ),
    (
        "orig_new_targets_10s",
        "of those, flows to a responder address and port it had opened none to in the 60 s before",
    ),
    (
        "orig_same_target_unaccepted_10s",
        "flows the originator opened to this flow's responder address and port in about the last 10 s, this one included, less the logins and sessions that responder accepted from it in that time; at least 1",
    ),
    (
        "orig_logins_refused_10s",
        "logins the originator was refused in about the last 10 s (exponentially weighted, time constant 10 s): telnet and FTP failures, MQTT CONNACK 4/5 (0x86/0x87), HTTP 401",
    ),
    (
        "resp_flows_10s",
        "flows opened to this flow's responder address, by any host, in about the last 10 s, this one included",
    ),
];

/// The host features of one flow, fixed at its first packet (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HostFeatures(pub [f64; HOST_COLUMNS.len()]);

impl HostFeatures {
    /// The values, in the order of [`HOST_COLUMNS`].
    pub fn values(&self) -> &[f64] {
        &self.0
    }
}

/// An exponentially weighted count.
#[derive(Clone, Copy, Debug, Default)]
struct Decayed {
    value: f64,
    last_ns: i64,
}

impl Decayed {
    /// The count at `ts` (never decayed backwards: packet times may step back).
    fn at(&self, ts: i64) -> f64 {
        let dt = ts.saturating_sub(self.last_ns);
        // A count never added to (most hosts' accepted and refused logins) stays 0 without
        // an exponential.
        if dt <= 0 || self.value == 0.0 {
            self.value
        } else {
            self.value * (-(dt as f64) / TAU_NS).exp()
        }
    }

    /// Adds `n` at `ts`; returns the new count.
    fn add(&mut self, ts: i64, n: f64) -> f64 {
        self.value = self.at(ts) + n;
        self.last_ns = self.last_ns.max(ts);
        self.value
    }

    /// Whether it still counts at `ts` (above 1 % of one flow).
    fn counts_at(&self, ts: i64) -> bool {
        self.at(ts) > 0.01
    }
}

/// What an originator did lately.
#[derive(Clone, Copy, Debug, Default)]
struct Originator {
    flows: Decayed,
    new_targets: Decayed,
    refused: Decayed,
    accepted: Decayed,
}

/// One originator's flows to one target.
#[derive(Clone, Copy, Debug, Default)]
struct Target {
    flows: Decayed,
    accepted: Decayed,
    /// A flow was counted (a new entry has none).
    seen: bool,
}

/// A flow count less the sessions servers accepted in the same time, at least 1 (the flow
/// being described).
fn unaccepted(flows: f64, accepted: &Decayed, ts: i64) -> f64 {
    (flows - accepted.at(ts)).max(1.0)
}

/// The hosts' recent flows; see the module docs.
#[derive(Debug, Default)]
pub struct HostContext {
    originators: KeyedMap<Addr, Originator>,
    responders: KeyedMap<Addr, Decayed>,
    targets: KeyedMap<(Addr, Addr, u16), Target>,
}

impl HostContext {
    /// Counts a flow that `orig` opened to `resp` port `resp_port` with its first packet at
    /// `ts`, and returns its host features.
    pub fn flow_started(
        &mut self,
        orig: Addr,
        resp: Addr,
        resp_port: u16,
        ts: i64,
    ) -> HostFeatures {
        self.prune(ts);
        let target = self.targets.entry((orig, resp, resp_port)).or_default();
        let new = !target.seen || ts.saturating_sub(target.flows.last_ns) > NEW_TARGET_NS;
        target.seen = true;
        let same = unaccepted(target.flows.add(ts, 1.0), &target.accepted, ts);
        let o = self.originators.entry(orig).or_default();
        let flows = unaccepted(o.flows.add(ts, 1.0), &o.accepted, ts);
        let new_targets = o.new_targets.add(ts, if new { 1.0 } else { 0.0 });
        let refused = o.refused.at(ts);
        let received = self.responders.entry(resp).or_default().add(ts, 1.0);
        HostFeatures([flows, new_targets, same, refused, received])
    }

    /// Counts a login that a server refused `client` at `ts` (for the flows `client` opens
    /// after it).
    pub fn login_refused(&mut self, client: Addr, ts: i64) {
        self.prune(ts);
        self.originators
            .entry(client)
            .or_default()
            .refused
            .add(ts, 1.0);
    }

    /// Counts a login or session that a server (`server`, port `server_port`) accepted from
    /// `client` at `ts`: it explains one of the client's flows, so the flows it opens after
    /// count one fewer (see the module docs).
    pub fn login_accepted(&mut self, client: Addr, server: Addr, server_port: u16, ts: i64) {
        self.prune(ts);
        if let Some(t) = self.targets.get_mut(&(client, server, server_port)) {
            t.accepted.add(ts, 1.0);
        }
        self.originators
            .entry(client)
            .or_default()
            .accepted
            .add(ts, 1.0);
    }

    /// Keeps every map within its cap: entries that no longer count at `ts` go first, then,
    /// if that is not enough, all of them.
    fn prune(&mut self, ts: i64) {
        if self.originators.len() >= HOSTS_CAP {
            self.originators.retain(|_, o| {
                o.flows.counts_at(ts)
                    || o.new_targets.counts_at(ts)
                    || o.refused.counts_at(ts)
                    || o.accepted.counts_at(ts)
            });
            if self.originators.len() >= HOSTS_CAP / 2 {
                self.originators.clear();
            }
        }
        if self.responders.len() >= HOSTS_CAP {
            self.responders.retain(|_, r| r.counts_at(ts));
            if self.responders.len() >= HOSTS_CAP / 2 {
                self.responders.clear();
            }
        }
        if self.targets.len() >= TARGETS_CAP {
            self.targets.retain(|_, t| {
                ts.saturating_sub(t.flows.last_ns) <= NEW_TARGET_NS || t.flows.counts_at(ts)
            });
            if self.targets.len() >= TARGETS_CAP / 2 {
                self.targets.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    fn a(n: u8) -> Addr {
        Addr([n; 16])
    }

    #[test]
    fn a_scan_opens_new_targets_a_brute_force_the_same_one() {
        let mut h = HostContext::default();
        // Host 1 scans 50 ports of host 2, 10 ms apart.
        let mut last = HostFeatures::default();
        for i in 0..50u16 {
            last = h.flow_started(a(1), a(2), 1000 + i, 100 * S + i64::from(i) * 10_000_000);
        }
        let [flows, new, same, refused, recv] = last.0;
        assert_eq!(refused, 0.0);
        assert!(flows > 45.0 && new > 45.0, "{last:?}");
        assert!((same - 1.0).abs() < 1e-12, "{last:?}");
        assert!(recv > 45.0, "{last:?}");
        // Host 3 tries port 23 of host 4 thirty times, 100 ms apart.
        for i in 0..30 {
            last = h.flow_started(a(3), a(4), 23, 200 * S + i * 100_000_000);
        }
        let [flows, new, same, _, _] = last.0;
        assert!(flows > 25.0 && same > 25.0, "{last:?}");
        assert!(new < 1.01, "one new target: {last:?}");
        // A quiet device: one flow a minute to the same broker, each to a target forgotten.
        for i in 0..5 {
            last = h.flow_started(a(5), a(6), 1883, 300 * S + i * 61 * S);
        }
        assert!(last.0.iter().all(|&v| v < 1.01), "{last:?}");
    }

    #[test]
    fn counts_decay_with_packet_time_and_never_backwards() {
        let mut h = HostContext::default();
        let first = h.flow_started(a(1), a(2), 80, 10 * S);
        assert_eq!(first.0, [1.0, 1.0, 1.0, 0.0, 1.0]);
        let later = h.flow_started(a(1), a(2), 80, 20 * S);
        // 1·e^-1 + 1 after one time constant; the target was seen 10 s ago: not new.
        let e = 1.0 + (-1.0f64).exp();
        assert!((later.0[0] - e).abs() < 1e-12 && (later.0[2] - e).abs() < 1e-12);
        assert!((later.0[1] - (-1.0f64).exp()).abs() < 1e-12, "{later:?}");
        // A packet stepping back in time adds without decaying.
        let back = h.flow_started(a(1), a(2), 80, 15 * S);
        assert!((back.0[0] - (e + 1.0)).abs() < 1e-12, "{back:?}");
    }

    #[test]
    fn refused_logins_mark_the_clients_next_flows_only() {
        let mut h = HostContext::default();
        let first = h.flow_started(a(1), a(2), 23, 10 * S);
        assert_eq!(first.0[3], 0.0);
        h.login_refused(a(1), 11 * S);
        h.login_refused(a(1), 11 * S);
        let next = h.flow_started(a(1), a(2), 23, 12 * S);
        let expect = 2.0 * (-0.1f64).exp();
        assert!((next.0[3] - expect).abs() < 1e-12, "{next:?}");
        // Another client, and the server's own flows, carry none.
        assert_eq!(h.flow_started(a(3), a(2), 23, 12 * S).0[3], 0.0);
        assert_eq!(h.flow_started(a(2), a(1), 80, 12 * S).0[3], 0.0);
        // A minute later it has faded.
        assert!(h.flow_started(a(1), a(2), 23, 72 * S).0[3] < 0.01);
    }

    #[test]
    fn accepted_sessions_explain_a_fast_clients_flows_refused_ones_do_not() {
        let mut h = HostContext::default();
        let (sensor, broker, brute, gw) = (a(1), a(2), a(3), a(4));
        // A sensor connecting four times a second, every session accepted (CONNACK 0 10 ms
        // after each flow starts); a brute force as fast, every login refused.
        let (mut s, mut b) = (HostFeatures::default(), HostFeatures::default());
        for i in 0..40i64 {
            let ts = 100 * S + i * 250_000_000;
            s = h.flow_started(sensor, broker, 1883, ts);
            h.login_accepted(sensor, broker, 1883, ts + 10_000_000);
            b = h.flow_started(brute, gw, 23, ts);
            h.login_refused(brute, ts + 10_000_000);
        }
        let [flows, _, same, refused, _] = s.0;
        assert!(flows < 1.3 && same < 1.3 && refused == 0.0, "{s:?}");
        let [flows, _, same, refused, _] = b.0;
        assert!(flows > 20.0 && same > 20.0 && refused > 20.0, "{b:?}");
        // Sessions accepted by another server lower the originator's count, not this target's.
        let other = h.flow_started(sensor, gw, 80, 111 * S);
        assert!(
            other.0[0] < 2.0 && (other.0[2] - 1.0).abs() < 1e-12,
            "{other:?}"
        );
        // Never below the flow itself, however many sessions were accepted.
        for _ in 0..100 {
            h.login_accepted(sensor, broker, 1883, 112 * S);
        }
        let again = h.flow_started(sensor, broker, 1883, 112 * S);
        assert_eq!((again.0[0], again.0[2]), (1.0, 1.0));
    }

    #[test]
    fn memory_stays_bounded_under_spoofed_sources() {
        let mut h = HostContext::default();
        for i in 0..300_000u32 {
            let mut b = [0u8; 16];
            b[..4].copy_from_slice(&i.to_be_bytes());
            h.flow_started(Addr(b), a(9), 80, S + i64::from(i) * 1000);
        }
        assert!(h.originators.len() <= HOSTS_CAP);
        assert!(h.targets.len() <= TARGETS_CAP);
        assert!(h.responders.len() <= HOSTS_CAP);
    }
}
