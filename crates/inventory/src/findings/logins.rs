//! Logins: failures counted per client and service (brute force, [`Findings::failure`]),
//! successes after them and with default credentials ([`Findings::success`]); and the
//! failed-login test the inventory's roles share ([`login_failure`]).

use super::baseline::{self, Severity};
use super::{secs, Findings, Key};
use custos_app::ftp::FtpEvent;
use custos_app::mqtt::MqttMessage;
use custos_app::telnet::TelnetEvent;
use custos_app::{AppEvent, AppRecord};
use serde_json::json;
use std::collections::VecDeque;
use std::net::IpAddr;

/// Client, server address, server port, protocol: one login target of one client.
pub(super) type PairKey = (IpAddr, IpAddr, u16, &'static str);

/// Failed logins of one client against one service.
#[derive(Debug, Default)]
pub(super) struct Attempts {
    window: VecDeque<i64>,
    /// Verdict (and password) packets of the failures, capped at `max_evidence`.
    packets: Vec<(u16, u64)>,
    failures: u64,
    default_guesses: u64,
    max_in_window: usize,
    flagged: bool,
}

pub(super) const MAX_PAIRS: usize = 65_536;

/// True when `e` reports a failed login: a telnet verdict, an FTP login refused, an HTTP
/// Basic request answered 401 or 403, an MQTT CONNACK refusing credentials (3.1.1: 4, 5;
/// 5.0: 0x86, 0x87). The findings count these per client and service (brute force); the
/// inventory's `attacker` role uses the same test.
pub(crate) fn login_failure(e: &AppEvent) -> bool {
    match &e.record {
        AppRecord::Telnet(TelnetEvent::LoginResult { success, .. }) => !success,
        AppRecord::Ftp(FtpEvent::Login(l)) => !l.success,
        AppRecord::Http(t) => {
            let basic = t.request.as_ref().is_some_and(|r| {
                r.authorization_scheme
                    .as_deref()
                    .is_some_and(|s| s.eq_ignore_ascii_case("basic"))
            });
            basic && matches!(t.response.as_ref().map(|r| r.status), Some(401 | 403))
        }
        AppRecord::Mqtt(m) => {
            matches!(&m.message, MqttMessage::Connack(a) if matches!(a.return_code, 4 | 5 | 0x86 | 0x87))
        }
        _ => false,
    }
}

impl Findings {
    pub(super) fn failure(&mut self, e: &AppEvent, default_credential: bool) {
        self.failure_with(e, default_credential, None);
    }

    pub(super) fn failure_with(
        &mut self,
        e: &AppEvent,
        default_credential: bool,
        pw: Option<(u16, u64)>,
    ) {
        let window = secs(self.cfg.brute_force_window_s);
        let threshold = self.cfg.brute_force_failures.max(1);
        let key = (e.client.0, e.server.0, e.server.1, e.proto.name());
        if !self.attempts.contains_key(&key) && self.attempts.len() >= MAX_PAIRS {
            // Full: forget the eighth of the pairs that failed least recently (not the
            // newcomer, or an attacker could fill the table first to go unnoticed);
            // amortised O(log n) per new pair.
            let mut by_age: Vec<(Option<i64>, PairKey)> = self
                .attempts
                .iter()
                .map(|(k, a)| (a.window.back().copied(), *k))
                .collect();
            by_age.sort_unstable();
            for (_, k) in by_age.into_iter().take(MAX_PAIRS / 8) {
                self.attempts.remove(&k);
            }
        }
        let max = self.cfg.max_evidence;
        let a = self.attempts.entry(key).or_default();
        for p in pw.into_iter().chain([(e.file, e.index)]) {
            if a.packets.len() < max {
                a.packets.push(p);
            }
        }
        a.failures += 1;
        a.default_guesses += u64::from(default_credential);
        a.window.push_back(e.ts);
        while a
            .window
            .front()
            .is_some_and(|t| e.ts.saturating_sub(*t) > window)
        {
            a.window.pop_front();
        }
        if a.window.len() > threshold * 4 {
            a.window.pop_front();
        }
        a.max_in_window = a.max_in_window.max(a.window.len());
        let brute = a.window.len() >= threshold || a.flagged;
        a.flagged |= brute;
        let details = [
            ("failures", json!(a.failures)),
            ("default_credential_guesses", json!(a.default_guesses)),
            ("max_failures_in_window", json!(a.max_in_window)),
            ("window_s", json!(self.cfg.brute_force_window_s)),
            ("threshold", json!(threshold)),
        ];
        let extra = if brute { a.packets.clone() } else { Vec::new() };
        if brute {
            self.report(
                baseline::BRUTE_FORCE,
                Self::server(e),
                Some(Self::client(e)),
                e,
                &extra,
                &details,
            );
        }
    }

    pub(super) fn success(&mut self, e: &AppEvent, default_credential: bool, user: Option<&str>) {
        self.success_with(e, default_credential, user, None);
    }

    pub(super) fn success_with(
        &mut self,
        e: &AppEvent,
        default_credential: bool,
        user: Option<&str>,
        pw: Option<(u16, u64)>,
    ) {
        let key = (e.client.0, e.server.0, e.server.1, e.proto.name());
        let (failures, flagged) = self
            .attempts
            .get(&key)
            .map_or((0, false), |a| (a.failures, a.flagged));
        let extra: Vec<(u16, u64)> = pw.into_iter().collect();
        if default_credential {
            self.report(
                baseline::DEFAULT_CREDENTIAL_LOGIN,
                Self::server(e),
                Some(Self::client(e)),
                e,
                &extra,
                &[
                    ("username", json!(user)),
                    ("failed_attempts_before", json!(failures)),
                ],
            );
        }
        if flagged {
            let bf_key: Key = (
                baseline::BRUTE_FORCE.id,
                Self::server(e),
                Some(Self::client(e)),
                e.proto.name(),
            );
            if let Some(f) = self.open.get_mut(&bf_key) {
                f.severity = Severity::Critical;
                f.details.insert("followed_by_success".into(), json!(true));
                if f.packets.len() < self.cfg.max_evidence {
                    f.packets.push((e.file, e.index));
                }
                f.last_ts = f.last_ts.max(e.ts);
            }
        }
    }
}
