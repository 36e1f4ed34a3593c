//! The roles behaviour gives a device (`docs/app.md`):
//! - `scanner`: the source of a scan the application tracker reported (a port scan or a host
//!   sweep, `[app.findings] scan_*`);
//! - `attacker`: the source of a flood the tracker reported (`syn_flood_syns`,
//!   `udp_flood_datagrams`); a client that typed a download into a telnet shell after
//!   logging in; a client with [`BRUTE_FAILURES`] failed logins against one service within
//!   [`BRUTE_WINDOW_S`] seconds of packet time (the brute-force finding's default; its
//!   `[app.findings]` threshold is not seen here).
//!
//! Failed logins are remembered for at most [`MAX_PAIRS`] client–service pairs (when full,
//! the eighth that failed least recently is forgotten), at most [`BRUTE_FAILURES`] times each.

use super::Inventory;
use crate::findings::login_failure;
use custos_app::telnet::TelnetEvent;
use custos_app::{AppEvent, AppRecord};
use std::collections::{BTreeMap, VecDeque};
use std::net::IpAddr;

/// Failed logins from one client to one service within [`BRUTE_WINDOW_S`] that make the
/// client an `attacker`.
pub const BRUTE_FAILURES: usize = 5;
/// The window of [`BRUTE_FAILURES`], seconds of packet time.
pub const BRUTE_WINDOW_S: i64 = 60;
/// Client–service pairs whose failed logins are remembered.
pub const MAX_PAIRS: usize = 65_536;

/// Client address, server address and port.
type Pair = (IpAddr, IpAddr, u16);

/// Recent failed logins per client and service.
#[derive(Debug, Default)]
pub(super) struct LoginFailures {
    pairs: BTreeMap<Pair, VecDeque<i64>>,
}

impl LoginFailures {
    /// One failed login of `pair` at `ts`: true once [`BRUTE_FAILURES`] fall within the window.
    fn failed(&mut self, pair: Pair, ts: i64) -> bool {
        if self.pairs.len() >= MAX_PAIRS && !self.pairs.contains_key(&pair) {
            let mut by_age: Vec<(i64, Pair)> = self
                .pairs
                .iter()
                .map(|(k, w)| (w.back().copied().unwrap_or(i64::MIN), *k))
                .collect();
            by_age.sort_unstable();
            for (_, k) in by_age.into_iter().take(MAX_PAIRS / 8) {
                self.pairs.remove(&k);
            }
        }
        let w = self.pairs.entry(pair).or_default();
        w.push_back(ts);
        let window = BRUTE_WINDOW_S.saturating_mul(1_000_000_000);
        while w.len() > BRUTE_FAILURES || w.front().is_some_and(|t| ts.saturating_sub(*t) > window)
        {
            w.pop_front();
        }
        w.len() >= BRUTE_FAILURES
    }
}

impl Inventory {
    /// Gives the client of `e` the role its behaviour shows, if any.
    pub(super) fn behaviour_role(&mut self, e: &AppEvent) {
        let role = match &e.record {
            AppRecord::Scan(_) => Some("scanner"),
            AppRecord::Flood(_) => Some("attacker"),
            AppRecord::Telnet(TelnetEvent::Command { downloads, .. }) if !downloads.is_empty() => {
                Some("attacker")
            }
            _ if login_failure(e) => {
                let pair = (e.client.0, e.server.0, e.server.1);
                self.failures.failed(pair, e.ts).then_some("attacker")
            }
            _ => None,
        };
        if let Some(role) = role {
            if let Some(dev) = self
                .host(e.macs[0], e.client.0, e.ts)
                .and_then(|i| self.devices.get_mut(i))
            {
                dev.roles.insert(role);
            }
        }
    }
}
