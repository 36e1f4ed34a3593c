//! [`AlertQueue`]: where detectors put their alerts. It builds an alert's EVE fields from
//! its packet, applies the run's rate policy and keeps per-detector counts.

use crate::detector::PacketView;
use crate::keys::packet_flow_key;
use custos_decode::{Decoded, Transport};
use custos_flow::keyed_hash::KeyedMap;
use custos_flow::{community_id_v1, FlowKey};
use custos_output::time::eve_time;
use custos_output::{Alert, AlertContext, AlertInfo, ModelSignature};

/// What fired, for [`AlertQueue::raise`].
#[derive(Clone, Debug)]
pub struct Signature<'a> {
    /// Generator id (1 for custos's own detectors).
    pub gid: u32,
    /// Signature id.
    pub signature_id: u64,
    /// Revision.
    pub rev: u32,
    /// Text of the signature.
    pub signature: &'a str,
    /// Category.
    pub category: &'a str,
    /// Severity 1 (high) to 3 (low).
    pub severity: u8,
}

/// How sure the detector is, for [`AlertQueue::raise`].
#[derive(Clone, Debug, Default)]
pub struct Evidence {
    /// The score.
    pub score: f64,
    /// The operating threshold.
    pub threshold: Option<f64>,
    /// Why (detector specific).
    pub explanation: Option<custos_output::Explanation>,
}

/// Alerts and suppressed alerts of one detector.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AlertCounts {
    /// Alerts raised.
    pub alerts: u64,
    /// Alerts not raised under the rate policy.
    pub suppressed: u64,
}

/// Collects the alerts of the detectors for the packet, flow or event being processed.
pub struct AlertQueue {
    files: Vec<String>,
    every_packet: bool,
    current: usize,
    counts: Vec<AlertCounts>,
    /// Per detector: last alert time per flow (Community ID or MAC pair).
    last: Vec<KeyedMap<ThrottleKey, i64>>,
    pending: Vec<Alert>,
    /// Per detector: the signature of the model it loaded.
    signatures: Vec<Option<ModelSignature>>,
}

impl AlertQueue {
    /// A queue for `detectors` detectors; `files` names the inputs.
    pub fn new(files: Vec<String>, detectors: usize, every_packet: bool) -> Self {
        AlertQueue {
            signatures: vec![None; detectors],
            files,
            every_packet,
            current: 0,
            counts: vec![AlertCounts::default(); detectors],
            last: (0..detectors).map(|_| KeyedMap::default()).collect(),
            pending: Vec::new(),
        }
    }

    /// Records the signature of detector `i`'s model, cited by each of its alerts.
    pub fn set_model_signature(&mut self, i: usize, signature: Option<ModelSignature>) {
        if let Some(slot) = self.signatures.get_mut(i) {
            *slot = signature;
        }
    }

    /// Sets which detector the next alerts belong to.
    pub(crate) fn set_current(&mut self, detector: usize) {
        self.current = detector;
    }

    /// Counts of detector `i`.
    pub fn counts(&self, i: usize) -> AlertCounts {
        self.counts.get(i).copied().unwrap_or_default()
    }

    /// Takes the alerts queued so far.
    pub(crate) fn drain(&mut self) -> std::vec::Drain<'_, Alert> {
        self.pending.drain(..)
    }

    /// True when an alert on this packet would be raised under the rate policy (at most one
    /// per flow and second of packet time, unless every packet alerts); otherwise counts it as
    /// suppressed. Call it before building an expensive explanation; then call
    /// [`AlertQueue::raise`].
    pub fn admit(&mut self, packet: &PacketView<'_>) -> bool {
        if self.every_packet {
            return true;
        }
        let ts = packet.meta.ts;
        let key = throttle_key(packet.decoded);
        let Some(last) = self.last.get_mut(self.current) else {
            return true;
        };
        match last.get(&key) {
            Some(&t) if ts.saturating_sub(t) < 1_000_000_000 => {
                if let Some(c) = self.counts.get_mut(self.current) {
                    c.suppressed += 1;
                }
                return false;
            }
            _ => {}
        }
        if last.len() > 65_536 {
            last.retain(|_, t| ts.saturating_sub(*t) < 1_000_000_000);
        }
        last.insert(key, ts);
        true
    }

    /// Raises an alert on `packet` (after [`AlertQueue::admit`] said yes).
    pub fn raise(
        &mut self,
        detector: &str,
        model_sha256: Option<&str>,
        packet: &PacketView<'_>,
        signature: &Signature<'_>,
        evidence: Evidence,
    ) {
        let meta = packet.meta;
        let mut alert = Alert {
            timestamp: eve_time(meta.ts),
            event_type: "alert".into(),
            src_ip: None,
            src_port: None,
            dest_ip: None,
            dest_port: None,
            proto: None,
            community_id: None,
            src_mac: None,
            dest_mac: None,
            app_proto: None,
            alert: info(signature),
            app: serde_json::Map::new(),
            custos: self.context(detector, model_sha256, meta.file, meta.index, evidence),
            file: meta.file,
            flow: packet_flow_key(packet.decoded),
        };
        fill_endpoints(&mut alert, packet.decoded);
        self.push(alert);
    }

    /// Raises an alert on an ended flow: endpoints from its originator and responder, the
    /// packet its last one. Flow alerts are not rate-limited (a flow ends once).
    pub fn raise_flow(
        &mut self,
        detector: &str,
        model_sha256: Option<&str>,
        ended: &custos_flow::EndedFlow,
        signature: &Signature<'_>,
        evidence: Evidence,
    ) {
        let f = &ended.flow;
        let ported = matches!(f.proto, 6 | 17 | 132);
        let alert = Alert {
            timestamp: eve_time(ended.summary.last_ts),
            event_type: "alert".into(),
            src_ip: Some(f.orig.addr.ip().to_string()),
            src_port: ported.then_some(f.orig.port),
            dest_ip: Some(f.resp.addr.ip().to_string()),
            dest_port: ported.then_some(f.resp.port),
            proto: Some(custos_output::eve_proto_name(f.proto).into()),
            community_id: Some(f.community_id()),
            src_mac: None,
            dest_mac: None,
            app_proto: ended.app_proto.map(str::to_string),
            alert: info(signature),
            app: serde_json::Map::new(),
            custos: self.context(detector, model_sha256, f.last_file, f.last_index, evidence),
            file: f.last_file,
            flow: Some(f.key()),
        };
        self.push(alert);
    }

    /// Raises an alert on an application event: endpoints from its sender and receiver, the
    /// packet the one that completed it. Not rate-limited (signatures alert once per
    /// transaction; thresholds are theirs).
    pub fn raise_event(
        &mut self,
        detector: &str,
        event: &custos_app::AppEvent,
        signature: &Signature<'_>,
        evidence: Evidence,
        metadata: Option<serde_json::Value>,
    ) {
        let (src, dst) = (event.sender(), event.receiver());
        let alert = Alert {
            timestamp: eve_time(event.ts),
            event_type: "alert".into(),
            src_ip: Some(src.0.to_string()),
            src_port: Some(src.1),
            dest_ip: Some(dst.0.to_string()),
            dest_port: Some(dst.1),
            proto: Some(custos_output::eve_proto_name(event.transport).into()),
            community_id: Some(event.community_id.to_string()),
            src_mac: None,
            dest_mac: None,
            app_proto: Some(event.proto.name().to_string()),
            alert: info(signature),
            app: serde_json::Map::new(),
            custos: self.context(detector, None, event.file, event.index, evidence),
            file: event.file,
            flow: Some(event.flow_key()),
        };
        let mut alert = alert;
        if let Some(serde_json::Value::Object(m)) = metadata {
            alert.app = m;
        }
        self.push(alert);
    }

    /// Raises an alert on `packet` without the rate policy (for detectors with their own,
    /// such as signatures' thresholds).
    pub fn raise_unthrottled(
        &mut self,
        detector: &str,
        packet: &PacketView<'_>,
        signature: &Signature<'_>,
        evidence: Evidence,
        app_proto: Option<&str>,
    ) {
        self.raise(detector, None, packet, signature, evidence);
        if let Some(last) = self.pending.last_mut() {
            last.app_proto = app_proto.map(str::to_string);
        }
    }

    /// The `custos` object of an alert on packet `packet` of input `file`.
    fn context(
        &self,
        detector: &str,
        model_sha256: Option<&str>,
        file: u16,
        packet: u64,
        evidence: Evidence,
    ) -> AlertContext {
        AlertContext {
            detector: detector.into(),
            pcap_file: self
                .files
                .get(usize::from(file))
                .cloned()
                .unwrap_or_default(),
            packet,
            score: evidence.score,
            threshold: evidence.threshold.filter(|t| t.is_finite()),
            model_sha256: model_sha256.map(str::to_string),
            model_signature: self.signatures.get(self.current).cloned().flatten(),
            explanation: evidence.explanation,
            evidence_leaf: None,
        }
    }

    /// Counts an alert the detector suppressed under a rate policy of its own.
    pub fn note_suppressed(&mut self) {
        if let Some(c) = self.counts.get_mut(self.current) {
            c.suppressed += 1;
        }
    }

    /// Queues an alert the detector built itself.
    pub fn push(&mut self, alert: Alert) {
        if let Some(c) = self.counts.get_mut(self.current) {
            c.alerts += 1;
        }
        self.pending.push(alert);
    }
}

/// EVE `alert.*` of a signature (custos never blocks: `allowed`, as Suricata reports drop
/// and reject rules when not inline).
fn info(signature: &Signature<'_>) -> AlertInfo {
    AlertInfo {
        action: "allowed".into(),
        gid: signature.gid,
        signature_id: signature.signature_id,
        rev: signature.rev,
        signature: signature.signature.into(),
        category: signature.category.into(),
        severity: signature.severity,
    }
}

/// The EVE endpoint fields and Community ID of a packet's innermost IP layer, or its MACs.
fn fill_endpoints(alert: &mut Alert, decoded: &Decoded<'_>) {
    if let Some(ip) = decoded.innermost() {
        let (sp, dp, ported) = ports(&ip.transport);
        alert.src_ip = Some(ip.src.to_string());
        alert.dest_ip = Some(ip.dst.to_string());
        if ported {
            alert.src_port = Some(sp);
            alert.dest_port = Some(dp);
        }
        alert.proto = Some(custos_output::eve_proto_name(ip.protocol).into());
        alert.community_id = Some(community_id_v1(0, ip.src, ip.dst, sp, dp, ip.protocol));
    } else if let (Some(s), Some(d)) = (decoded.src_mac, decoded.dst_mac) {
        alert.src_mac = Some(s.to_string());
        alert.dest_mac = Some(d.to_string());
    }
}

/// Ports as the Community ID hashes them, and whether they are real ports.
fn ports(t: &Transport) -> (u16, u16, bool) {
    match *t {
        Transport::Tcp {
            src_port, dst_port, ..
        }
        | Transport::Udp {
            src_port, dst_port, ..
        } => (src_port, dst_port, true),
        Transport::Icmp { msg_type, code, .. } => (u16::from(msg_type), u16::from(code), false),
        _ => (0, 0, false),
    }
}

/// What an alert is rate-limited by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum ThrottleKey {
    /// The packet's flow (its innermost IP layer's canonical key, either direction).
    Flow(FlowKey),
    /// The MAC pair of a frame without IP.
    Macs(String),
}

/// The flow an alert is rate-limited by: its flow key, or the MAC pair without IP.
fn throttle_key(decoded: &Decoded<'_>) -> ThrottleKey {
    match packet_flow_key(decoded) {
        Some(k) => ThrottleKey::Flow(k),
        None => match (decoded.src_mac, decoded.dst_mac) {
            (Some(s), Some(d)) => ThrottleKey::Macs(format!("{s}-{d}")),
            _ => ThrottleKey::Macs(String::new()),
        },
    }
}
