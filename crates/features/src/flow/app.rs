//! Application features: counts of the application events of a flow.
//!
//! Each event of the application tracker (`custos_app::AppEvent`) that belongs to a flow adds
//! to that flow's counts. Scan and flood events (the behaviour watch) describe many flows and
//! count nowhere.

use custos_app::dns::DnsMessage;
use custos_app::ftp::FtpEvent;
use custos_app::mqtt::{MqttMessage, MqttRecord};
use custos_app::telnet::TelnetEvent;
use custos_app::{AppEvent, AppProto, AppRecord};

/// The count columns, in order: name and description.
pub const APP_COLUMNS: [(&str, &str); 25] = [
    (
        "app_events",
        "application events of the flow (any protocol)",
    ),
    (
        "app_anomalies",
        "parser errors: malformed data in a recognised protocol",
    ),
    ("mqtt_connects", "MQTT CONNECT packets"),
    (
        "mqtt_connects_without_credentials",
        "MQTT CONNECTs with neither username nor password",
    ),
    (
        "mqtt_connects_refused",
        "MQTT CONNACKs with a non-zero return (reason) code",
    ),
    ("mqtt_publishes", "MQTT PUBLISH packets"),
    ("mqtt_subscribes", "MQTT SUBSCRIBE packets"),
    (
        "mqtt_wildcard_filters",
        "MQTT topic filters subscribed with a + or # wildcard",
    ),
    (
        "mqtt_sys_filters",
        "MQTT topic filters subscribed under $SYS",
    ),
    ("telnet_login_failures", "telnet logins the server refused"),
    (
        "telnet_login_successes",
        "telnet logins that reached a shell prompt",
    ),
    (
        "telnet_default_credentials",
        "telnet passwords typed that form a publicly known default pair with their username",
    ),
    (
        "telnet_commands",
        "command lines typed after a telnet login",
    ),
    ("telnet_downloads", "files those command lines download"),
    ("ftp_login_failures", "FTP logins refused"),
    ("ftp_login_successes", "FTP logins accepted"),
    ("http_requests", "HTTP requests"),
    ("http_responses", "HTTP responses"),
    ("http_status_2xx", "HTTP responses with status 200–299"),
    ("http_status_3xx", "HTTP responses with status 300–399"),
    ("http_status_4xx", "HTTP responses with status 400–499"),
    ("http_status_5xx", "HTTP responses with status 500–599"),
    ("dns_queries", "DNS queries (not mDNS)"),
    ("dns_responses", "DNS responses (not mDNS)"),
    ("dns_errors", "DNS responses with a non-zero RCODE"),
];

/// Positions in [`APP_COLUMNS`].
#[derive(Clone, Copy)]
#[repr(usize)]
enum C {
    Events,
    Anomalies,
    MqttConnects,
    MqttNoCredentials,
    MqttRefused,
    MqttPublishes,
    MqttSubscribes,
    MqttWildcards,
    MqttSys,
    TelnetFailures,
    TelnetSuccesses,
    TelnetDefault,
    TelnetCommands,
    TelnetDownloads,
    FtpFailures,
    FtpSuccesses,
    HttpRequests,
    HttpResponses,
    Http2xx,
    Http3xx,
    Http4xx,
    Http5xx,
    DnsQueries,
    DnsResponses,
    DnsErrors,
}

/// A server's answer to a login or session of its client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoginOutcome {
    /// A telnet or FTP login success, an MQTT CONNACK accepting the connection (return code
    /// 0). (Counted for the client's host, [`super::HostContext::login_accepted`].)
    Accepted,
    /// A telnet or FTP login failure, an MQTT CONNACK for bad credentials or no authorisation
    /// (3.1.1 return codes 4 and 5, MQTT 5 reason codes 0x86 and 0x87), an HTTP 401. (Counted
    /// against the client's host, [`super::HostContext::login_refused`].)
    Refused,
}

/// The login outcome `e` reports, if it reports one (other CONNACK codes, such as a server
/// unavailable, are neither).
pub fn login_outcome(e: &AppEvent) -> Option<LoginOutcome> {
    let accepted = match &e.record {
        AppRecord::Telnet(TelnetEvent::LoginResult { success, .. }) => *success,
        AppRecord::Ftp(FtpEvent::Login(l)) => l.success,
        AppRecord::Mqtt(m) => match &m.message {
            MqttMessage::Connack(c) if c.return_code == 0 => true,
            MqttMessage::Connack(c) if matches!(c.return_code, 4 | 5 | 0x86 | 0x87) => false,
            _ => return None,
        },
        AppRecord::Http(h) if h.response.as_ref().is_some_and(|r| r.status == 401) => false,
        _ => return None,
    };
    Some(if accepted {
        LoginOutcome::Accepted
    } else {
        LoginOutcome::Refused
    })
}

/// The application counts of one flow, in the order of [`APP_COLUMNS`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AppCounts(pub [u64; APP_COLUMNS.len()]);

impl AppCounts {
    fn add(&mut self, c: C, n: u64) {
        if let Some(v) = self.0.get_mut(c as usize) {
            *v = v.saturating_add(n);
        }
    }

    fn get(&self, c: C) -> u64 {
        self.0.get(c as usize).copied().unwrap_or(0)
    }

    /// Adds every count of `other`.
    pub fn merge(&mut self, other: &AppCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a = a.saturating_add(b);
        }
    }

    /// Application events counted.
    pub fn events(&self) -> u64 {
        self.get(C::Events)
    }

    /// DNS responses with an error over DNS responses (0 without responses).
    pub fn dns_error_ratio(&self) -> f64 {
        match self.get(C::DnsResponses) {
            0 => 0.0,
            n => self.get(C::DnsErrors) as f64 / n as f64,
        }
    }

    /// Counts one event.
    pub fn event(&mut self, e: &AppEvent) {
        self.add(C::Events, 1);
        match &e.record {
            AppRecord::Anomaly { .. } => self.add(C::Anomalies, 1),
            AppRecord::Mqtt(m) => self.mqtt(m),
            AppRecord::Telnet(t) => self.telnet(t),
            AppRecord::Ftp(FtpEvent::Login(l)) => self.add(
                if l.success {
                    C::FtpSuccesses
                } else {
                    C::FtpFailures
                },
                1,
            ),
            AppRecord::Http(h) => {
                self.add(C::HttpRequests, u64::from(h.request.is_some()));
                if let Some(r) = &h.response {
                    self.add(C::HttpResponses, 1);
                    match r.status {
                        200..=299 => self.add(C::Http2xx, 1),
                        300..=399 => self.add(C::Http3xx, 1),
                        400..=499 => self.add(C::Http4xx, 1),
                        500..=599 => self.add(C::Http5xx, 1),
                        _ => {}
                    }
                }
            }
            AppRecord::Dns(d) if e.proto == AppProto::Dns => self.dns(d),
            _ => {}
        }
    }

    fn mqtt(&mut self, m: &MqttRecord) {
        match &m.message {
            MqttMessage::Connect(c) => {
                self.add(C::MqttConnects, 1);
                let anonymous = !c.username_flag && !c.password_flag;
                self.add(C::MqttNoCredentials, u64::from(anonymous));
            }
            MqttMessage::Connack(c) => self.add(C::MqttRefused, u64::from(c.return_code != 0)),
            MqttMessage::Publish(_) => self.add(C::MqttPublishes, 1),
            MqttMessage::Subscribe(s) => {
                self.add(C::MqttSubscribes, 1);
                for f in &s.filters {
                    let wild = f.topic.contains(['+', '#']);
                    self.add(C::MqttWildcards, u64::from(wild));
                    self.add(C::MqttSys, u64::from(f.topic.starts_with("$SYS")));
                }
            }
            _ => {}
        }
    }

    fn telnet(&mut self, t: &TelnetEvent) {
        match t {
            TelnetEvent::LoginResult { success, .. } => self.add(
                if *success {
                    C::TelnetSuccesses
                } else {
                    C::TelnetFailures
                },
                1,
            ),
            TelnetEvent::Password {
                default_credential, ..
            } => self.add(C::TelnetDefault, u64::from(*default_credential)),
            TelnetEvent::Command { downloads, .. } => {
                self.add(C::TelnetCommands, 1);
                self.add(C::TelnetDownloads, downloads.len() as u64);
            }
            _ => {}
        }
    }

    fn dns(&mut self, d: &DnsMessage) {
        if d.response {
            self.add(C::DnsResponses, 1);
            self.add(C::DnsErrors, u64::from(d.rcode != 0));
        } else {
            self.add(C::DnsQueries, 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_match_the_column_names() {
        let names: Vec<&str> = APP_COLUMNS.iter().map(|(n, _)| *n).collect();
        assert_eq!(names.get(C::Events as usize), Some(&"app_events"));
        assert_eq!(names.get(C::MqttSys as usize), Some(&"mqtt_sys_filters"));
        assert_eq!(
            names.get(C::TelnetFailures as usize),
            Some(&"telnet_login_failures")
        );
        assert_eq!(names.get(C::Http5xx as usize), Some(&"http_status_5xx"));
        assert_eq!(names.get(C::DnsErrors as usize), Some(&"dns_errors"));
        assert_eq!(C::DnsErrors as usize, APP_COLUMNS.len() - 1);
    }

    #[test]
    fn dns_error_ratio_is_errors_over_responses() {
        let mut a = AppCounts::default();
        assert_eq!(a.dns_error_ratio(), 0.0);
        a.add(C::DnsResponses, 4);
        a.add(C::DnsErrors, 1);
        assert_eq!(a.dns_error_ratio(), 0.25);
    }
}
