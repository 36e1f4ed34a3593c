//! Findings of attacks rather than weaknesses: scans and floods (reported by the application
//! tracker's behaviour watch) and downloads typed into a remote login shell.

use super::baseline::{self, Severity};
use super::{add_to_list, party, Findings, Key};
use custos_app::telnet::TelnetEvent;
use custos_app::tracker::behaviour::{FloodEvent, FloodKind, Phase, ScanEvent, ScanKind};
use custos_app::AppEvent;
use serde_json::{json, Value};

fn transport(t: u8) -> &'static str {
    if t == 6 {
        "tcp"
    } else {
        "udp"
    }
}

impl Findings {
    /// A port scan is about the host scanned (the scanner as peer); a host sweep, which has
    /// many targets, about the scanner. A start opens (or counts) the finding; an end updates
    /// its details and last packet.
    pub(super) fn scan(&mut self, e: &AppEvent, s: &ScanEvent) {
        let scanner = party(e.client.0, None, e.macs[0]);
        let (parties, listed) = match s.kind {
            ScanKind::PortScan => (
                (party(e.server.0, None, e.macs[1]), Some(scanner)),
                ("ports", json!(s.ports)),
            ),
            ScanKind::HostSweep => ((scanner, None), ("hosts", json!(s.hosts))),
        };
        let port = s.port.map(|p| ("port", json!(p)));
        let details: Vec<(&str, Value)> =
            [("kind", json!(s.kind)), ("transport", json!(s.transport))]
                .into_iter()
                .chain(port)
                .chain([
                    ("distinct", json!(s.distinct)),
                    ("attempts", json!(s.attempts)),
                    listed,
                    ("threshold", json!(s.threshold)),
                    ("window_s", json!(s.window_s)),
                    ("duration_s", json!(s.duration_s)),
                ])
                .collect();
        let rule = baseline::NETWORK_SERVICE_DISCOVERY;
        match s.phase {
            Phase::Start => {
                self.report_as(rule, parties, s.transport, e, &[], &details);
            }
            Phase::End => self.update((rule.id, parties.0, parties.1, s.transport), e, &details),
        }
    }

    /// A flood is about the flooded service, with the source as peer.
    pub(super) fn flood(&mut self, e: &AppEvent, f: &FloodEvent) {
        let rule = match f.kind {
            FloodKind::SynFlood => baseline::SYN_FLOOD,
            FloodKind::UdpFlood => baseline::UDP_FLOOD,
        };
        let parties = (Self::server(e), Some(Self::client(e)));
        let details = [
            ("packets", json!(f.packets)),
            ("handshakes", json!(f.handshakes)),
            ("max_in_window", json!(f.max_in_window)),
            ("threshold", json!(f.threshold)),
            ("window_s", json!(f.window_s)),
            ("duration_s", json!(f.duration_s)),
        ];
        let proto = transport(e.transport);
        match f.phase {
            Phase::Start => {
                self.report_as(rule, parties, proto, e, &[], &details);
            }
            Phase::End => self.update((rule.id, parties.0, parties.1, proto), e, &details),
        }
    }

    /// A command that downloads a file, or runs one downloaded earlier in the session: about
    /// the device whose shell ran it, with the client as peer; critical once the file is run.
    pub(super) fn download(&mut self, e: &AppEvent, t: &TelnetEvent) {
        let TelnetEvent::Command {
            line, downloads, ..
        } = t
        else {
            return;
        };
        let max = self.cfg.max_evidence;
        let executed = downloads.iter().any(|d| d.executed);
        let tools: Vec<&str> = downloads.iter().map(|d| d.tool).collect();
        if let Some(f) = self.report(
            baseline::DOWNLOAD_AND_EXECUTE,
            Self::server(e),
            Some(Self::client(e)),
            e,
            &[],
            &[],
        ) {
            for d in downloads {
                add_to_list(&mut f.details, "urls", json!(d.url), max);
            }
            for tool in tools {
                add_to_list(&mut f.details, "tools", json!(tool), max);
            }
            add_to_list(&mut f.details, "commands", json!(line), max);
            let before = f.details.get("executed").and_then(Value::as_bool);
            let executed = executed || before == Some(true);
            f.details.insert("executed".into(), json!(executed));
            if executed {
                f.severity = f.severity.max(Severity::Critical);
            }
        }
    }

    /// Updates an open finding with the final counts of an episode (its count unchanged).
    fn update(&mut self, key: Key, e: &AppEvent, details: &[(&str, Value)]) {
        let max = self.cfg.max_evidence;
        let Some(f) = self.open.get_mut(&key) else {
            return;
        };
        f.last_ts = f.last_ts.max(e.ts);
        if f.packets.len() < max && !f.packets.contains(&(e.file, e.index)) {
            f.packets.push((e.file, e.index));
        }
        for (k, v) in details {
            f.details.insert((*k).to_string(), v.clone());
        }
    }
}
