//! Indicators of compromise as a detector: addresses matched on every packet (one alert per
//! flow and indicator), domains, URLs and TLS fingerprints on application events (one alert
//! per connection, field and value). Each alert names its indicator — value, STIX id when it
//! has one, and the file and line it came from — under `custos.explanation`.

use crate::alerts::{AlertQueue, Evidence, Signature};
use crate::detector::{Detector, DetectorError, PacketView};
use crate::error::EngineError;
use crate::keys::packet_flow_key;
use custos_app::AppEvent;
use custos_flow::keyed_hash::KeyedSet;
use custos_flow::FlowKey;
use custos_ioc::{event_observables, Indicator, IndicatorKind, IocSet};
use std::path::PathBuf;

/// The indicator detector.
pub struct Ioc {
    set: IocSet,
    files: Vec<String>,
    unsupported: Vec<String>,
    /// Flows already alerted on, per indicator value.
    flows_alerted: KeyedSet<(FlowKey, String)>,
    /// Connections already alerted on, per field and value.
    conns_alerted: KeyedSet<(u64, &'static str, String)>,
    hits: u64,
}

/// Alert memory kept before it is cleared (bounded memory; a flow may then alert again).
const MAX_REMEMBERED: usize = 1 << 20;

impl Ioc {
    /// Loads indicator files.
    ///
    /// # Errors
    /// A file that cannot be read or parsed, or no indicator loaded.
    pub fn load(files: &[PathBuf]) -> Result<Ioc, EngineError> {
        let mut set = IocSet::new();
        let mut unsupported = Vec::new();
        for f in files {
            let report = set
                .load(f)
                .map_err(|e| EngineError::Config(format!("indicators: {e}")))?;
            unsupported.extend(
                report
                    .unsupported
                    .iter()
                    .map(|u| format!("{}: {}", u.source, u.reason)),
            );
        }
        if set.is_empty() {
            return Err(EngineError::Config(format!(
                "no indicator loaded from {} ({} unsupported)",
                files
                    .iter()
                    .map(|f| f.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                unsupported.len()
            )));
        }
        Ok(Ioc {
            set,
            files: files.iter().map(|f| f.display().to_string()).collect(),
            unsupported,
            flows_alerted: KeyedSet::default(),
            conns_alerted: KeyedSet::default(),
            hits: 0,
        })
    }
}

/// The signature of an indicator alert: one sid per indicator kind, in custos's own range
/// (9 000 000–9 099 999: Kitsune 9 000 001, the flow model 9 000 002, indicators 9 000 101–105).
fn signature_for(kind: IndicatorKind) -> (u64, &'static str) {
    match kind {
        IndicatorKind::Ip => (9_000_101, "address"),
        IndicatorKind::Domain => (9_000_102, "domain"),
        IndicatorKind::Url => (9_000_103, "URL"),
        IndicatorKind::Ja3 => (9_000_104, "JA3 fingerprint"),
        IndicatorKind::Ja4 => (9_000_105, "JA4 fingerprint"),
    }
}

/// The signature of an alert on `ind` whose text is `text`.
fn signature<'a>(ind: &Indicator, text: &'a str) -> Signature<'a> {
    Signature {
        gid: 1,
        signature_id: signature_for(ind.kind).0,
        rev: 1,
        signature: text,
        category: "Threat intelligence indicator match",
        severity: 1,
    }
}

fn describe(ind: &Indicator, field: &str, observed: &str) -> (String, Evidence) {
    let (_, what) = signature_for(ind.kind);
    let label = ind
        .name
        .as_deref()
        .or(ind.id.as_deref())
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    let text = format!("custos IOC {what} {}{label}", ind.value);
    let explanation = serde_json::json!({
        "indicator": {
            "kind": ind.kind.name(),
            "value": ind.value,
            "id": ind.id,
            "name": ind.name,
            "source": ind.source,
        },
        "field": field,
        "observed": observed,
    });
    (
        text,
        Evidence {
            score: 1.0,
            threshold: Some(1.0),
            explanation: custos_output::Explanation::of(&explanation).ok(),
        },
    )
}

impl Detector for Ioc {
    fn name(&self) -> &str {
        "ioc"
    }

    fn packet(
        &mut self,
        packet: &PacketView<'_>,
        alerts: &mut AlertQueue,
    ) -> Result<Option<f64>, DetectorError> {
        let Some(ip) = packet.decoded.innermost() else {
            return Ok(None);
        };
        for (addr, field) in [(ip.src, "src_ip"), (ip.dst, "dest_ip")] {
            let Some(ind) = self.set.match_ip(addr) else {
                continue;
            };
            let Some(key) = packet_flow_key(packet.decoded) else {
                continue;
            };
            if self.flows_alerted.len() >= MAX_REMEMBERED {
                self.flows_alerted.clear();
            }
            if !self.flows_alerted.insert((key, ind.value.clone())) {
                continue;
            }
            let (text, evidence) = describe(ind, field, &addr.to_string());
            self.hits += 1;
            alerts.raise_unthrottled("ioc", packet, &signature(ind, &text), evidence, None);
        }
        Ok(None)
    }

    fn event(&mut self, event: &AppEvent, alerts: &mut AlertQueue) -> Result<(), DetectorError> {
        for o in event_observables(event) {
            let Some(ind) = self.set.match_observable(&o) else {
                continue;
            };
            // An address naming the connection's own endpoint (an IP literal as Host or SNI)
            // was already matched on the flow's packets.
            if ind.kind == IndicatorKind::Ip
                && o.value
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip == event.client.0 || ip == event.server.0)
            {
                continue;
            }
            if self.conns_alerted.len() >= MAX_REMEMBERED {
                self.conns_alerted.clear();
            }
            if !self
                .conns_alerted
                .insert((event.conn, o.field, o.value.clone()))
            {
                continue;
            }
            let (text, evidence) = describe(ind, o.field, &o.value);
            self.hits += 1;
            alerts.raise_event("ioc", event, &signature(ind, &text), evidence, None);
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<serde_json::Value, DetectorError> {
        Ok(serde_json::json!({
            "files": self.files,
            "indicators": self.set.stats(),
            "unsupported": self.unsupported.len(),
            "unsupported_list": self.unsupported.iter().take(100).collect::<Vec<_>>(),
            "hits": self.hits,
        }))
    }
}
