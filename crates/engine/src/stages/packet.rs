//! The packet stage: decode → flow table → application tracker. Flow-local work; it emits
//! application events and ended flows, in packet order.

use crate::error::EngineError;
use custos_app::{AppConfig, AppEvent, AppProto, AppTracker};
use custos_capture::LinkType;
use custos_decode::{
    ChecksumMode, ChecksumPolicy, ChecksumSetting, ChecksumStatus, Decoded, Decoder, DecoderConfig,
    Layer,
};
use custos_flow::{
    ConnSummary, EndReason, EndedFlow, Flow, FlowConfig, FlowKey, FlowSink, FlowTable, PacketMeta,
};
use custos_output::{Record, Stats};

/// Gives ended flows their application protocol and queues them; at the end of input,
/// hands them on in chunks so that a full table never sits in memory twice.
struct FlowsOut<'a> {
    tracker: &'a mut AppTracker,
    out: &'a mut Vec<Record>,
    flush: Option<&'a mut Flush<'a>>,
}

/// Takes a chunk of records (and empties it).
pub(crate) type Flush<'a> = dyn FnMut(&mut Vec<Record>) -> Result<(), EngineError> + 'a;

/// Records handed on at once at the end of input.
const FINISH_CHUNK: usize = 4096;

impl FlowSink for FlowsOut<'_> {
    type Error = EngineError;

    fn flow_ended(
        &mut self,
        flow: &Flow,
        summary: &ConnSummary,
        reason: EndReason,
    ) -> Result<(), EngineError> {
        let key = FlowKey::canonical(flow.orig, flow.resp, flow.proto, flow.vlans).0;
        let app_proto = self.tracker.take_app_proto(&key).map(|p| p.name());
        self.out.push(Record::Flow(Box::new(EndedFlow {
            flow: flow.clone(),
            summary: *summary,
            reason,
            app_proto,
        })));
        match self.flush.as_mut() {
            Some(flush) if self.out.len() >= FINISH_CHUNK => flush(self.out),
            _ => Ok(()),
        }
    }
}

/// Decoder, checksum policy, flow table and application tracker, plus what they counted.
pub(crate) struct PacketStage {
    decoder: Decoder,
    /// Look up each packet's application protocol for the detectors.
    tell_app_proto: bool,
    policy: ChecksumPolicy,
    setting: ChecksumSetting,
    flows: FlowTable,
    tracker: AppTracker,
    events: Vec<AppEvent>,
    /// Packets seen.
    pub packets: u64,
    bytes: u64,
    wire_bytes: u64,
    link_types: Vec<(u32, u64)>,
    unsupported: Vec<(u32, u64)>,
    decode_errors: [u64; Layer::ALL.len()],
    bad_ip_checksums: u64,
    /// First packet time seen.
    pub first_ts: Option<i64>,
    /// Last packet time seen.
    pub last_ts: Option<i64>,
}

/// How the packet stage decoded a packet (what another stage needs to decode it the same).
#[derive(Clone, Copy, Debug)]
pub(crate) struct PacketVerdict {
    /// The checksum mode the packet was decoded with.
    pub mode: ChecksumMode,
    /// The application protocol recognised on its connection so far (asked for only when
    /// a detector reads it: [`PacketStage::tell_app_proto`]).
    pub app_proto: Option<AppProto>,
}

impl PacketStage {
    /// A stage with a checksum policy decided by the caller (e.g. from a sample).
    pub fn new(
        setting: ChecksumSetting,
        policy: ChecksumPolicy,
        flow_cfg: FlowConfig,
        mut app: AppConfig,
    ) -> Self {
        // An application connection lives inside a flow: following more connections than the
        // flow table holds flows only holds memory past `--max-flows`.
        app.max_connections = app.max_connections.min(flow_cfg.max_flows.max(1));
        let mode = if setting == ChecksumSetting::Ignore || policy.offloading_detected() {
            ChecksumMode::Ignore
        } else {
            ChecksumMode::Verify
        };
        PacketStage {
            decoder: Decoder::new(decoder_config(mode)),
            tell_app_proto: false,
            policy,
            setting,
            flows: FlowTable::new(flow_cfg),
            tracker: AppTracker::new(app),
            events: Vec::new(),
            packets: 0,
            bytes: 0,
            wire_bytes: 0,
            link_types: Vec::new(),
            unsupported: Vec::new(),
            decode_errors: [0; Layer::ALL.len()],
            bad_ip_checksums: 0,
            first_ts: None,
            last_ts: None,
        }
    }

    /// Looks up, for every packet, the application protocol its connection carries (for
    /// detectors that read it, such as signatures' `alert http` rules).
    pub fn tell_app_proto(&mut self) {
        self.tell_app_proto = true;
    }

    /// Decodes one frame and runs the flow-local stages on it; calls `then` with the decoded
    /// packet and the records it caused (events first, then ended flows).
    ///
    /// # Errors
    /// Whatever `then` returns.
    #[inline]
    pub fn packet<E>(
        &mut self,
        linktype: u32,
        meta: &PacketMeta,
        data: &[u8],
        out: &mut Vec<Record>,
        then: impl FnOnce(&Decoded<'_>, PacketVerdict, &mut Vec<Record>) -> Result<(), E>,
    ) -> Result<(), E> {
        self.packets += 1;
        self.bytes += data.len() as u64;
        self.wire_bytes += u64::from(meta.frame_len);
        if self.first_ts.is_none() {
            self.first_ts = Some(meta.ts);
        }
        self.last_ts = Some(meta.ts);
        bump(&mut self.link_types, linktype);
        if self.policy.offloading_detected()
            && self.decoder.config().checksums == ChecksumMode::Verify
        {
            self.decoder.set_checksum_mode(ChecksumMode::Ignore);
        }
        let mode = self.decoder.config().checksums;
        let decoded = self.decoder.decode(linktype, meta.ts, data);
        // A segment whose checksum the policy rejects never reached the host: the
        // application layer must not read it (it could displace the real data).
        let bad_checksum = self.policy.decoder_verifies()
            && decoded
                .innermost()
                .is_some_and(|l| l.l4_checksum == ChecksumStatus::Bad);
        if !bad_checksum {
            self.tracker
                .packet(meta.ts, meta.file, meta.index, &decoded);
        }
        self.tracker.take_events(&mut self.events);
        out.extend(self.events.drain(..).map(|e| Record::Event(Box::new(e))));
        if decoded.unsupported_link {
            bump(&mut self.unsupported, linktype);
        } else {
            if let Some(e) = decoded.error {
                if let Some(c) = self.decode_errors.get_mut(e.layer.index()) {
                    *c += 1;
                }
            }
            if decoded.bad_ip_checksum {
                self.bad_ip_checksums += 1;
            }
            let mut sink = FlowsOut {
                tracker: &mut self.tracker,
                out,
                flush: None,
            };
            // Without a flush the sink only queues: it cannot fail.
            let _ = self
                .flows
                .process(meta, &decoded, &mut self.policy, &mut sink);
        }
        let app_proto = if self.tell_app_proto {
            decoded.innermost().and_then(|ip| {
                self.tracker
                    .app_proto(&FlowKey::of_layer(ip, decoded.vlans))
            })
        } else {
            None
        };
        then(&decoded, PacketVerdict { mode, app_proto }, out)
    }

    /// Ends every connection and flow still held (end of input): their last events first,
    /// then the flows, so that flow records carry protocols decided only at the end. Records
    /// go to `flush` in chunks; the last chunk is left in `out`.
    ///
    /// # Errors
    /// Whatever `flush` returns.
    pub fn finish<'a>(
        &mut self,
        out: &'a mut Vec<Record>,
        flush: &'a mut Flush<'a>,
    ) -> Result<(), EngineError> {
        self.tracker.finish();
        self.tracker.take_events(&mut self.events);
        out.extend(self.events.drain(..).map(|e| Record::Event(Box::new(e))));
        let mut sink = FlowsOut {
            tracker: &mut self.tracker,
            out,
            flush: Some(flush),
        };
        self.flows.finish(&mut sink)
    }

    /// Flows held now.
    pub fn flows_held(&self) -> usize {
        self.flows.len()
    }

    /// Copies the counters into `stats`; returns the application tracker's counters.
    pub fn fill_stats(&self, stats: &mut Stats) -> custos_app::AppStats {
        stats.packets = self.packets;
        stats.bytes = self.bytes;
        if let (Some(first), Some(last)) = (self.first_ts, self.last_ts) {
            stats.time_span = Some(custos_output::TimeSpan {
                first: custos_output::time::eve_time(first),
                last: custos_output::time::eve_time(last),
                seconds: last.saturating_sub(first) as f64 / 1e9,
            });
        }
        stats.wire_bytes = self.wire_bytes;
        for &(lt, n) in &self.link_types {
            *stats
                .link_types
                .entry(LinkType(lt).name().to_string())
                .or_default() += n;
        }
        for &(lt, n) in &self.unsupported {
            *stats
                .unsupported_link_types
                .entry(LinkType(lt).name().to_string())
                .or_default() += n;
        }
        for layer in Layer::ALL {
            let n = self.decode_errors.get(layer.index()).copied().unwrap_or(0);
            if n > 0 {
                stats.decode_errors.insert(layer.name().to_string(), n);
            }
        }
        stats.bad_ip_checksums = self.bad_ip_checksums;
        let f = self.flows.stats();
        stats.bad_transport_checksums = f.bad_checksums;
        stats.checksums.insert(
            "setting".into(),
            format!("{:?}", self.setting).to_lowercase(),
        );
        if self.setting == ChecksumSetting::Auto {
            let decided = if self.policy.offloading_detected() {
                "ignore (offloading detected)"
            } else {
                "verify"
            };
            stats
                .checksums
                .insert("auto_decision".into(), decided.into());
        }
        let r = self.decoder.reassembly_stats();
        for (k, v) in [
            ("received", r.fragments),
            ("reassembled", r.reassembled),
            ("evicted", r.evicted),
            ("timed_out", r.timed_out),
            ("refused", r.refused),
        ] {
            stats.fragments.insert(k.into(), v);
        }
        for (k, v) in [
            ("created", f.created),
            ("timed_out", f.timed_out),
            ("reused", f.reused),
            ("evicted", f.evicted),
            ("ended_at_shutdown", f.shutdown),
            ("peak_concurrent", f.peak),
            ("refused", f.refused),
            ("packets_in_flows", f.packets),
        ] {
            stats.flows.insert(k.into(), v);
        }
        self.tracker.stats()
    }
}

/// The decoder configuration for a checksum mode (the same in every stage that decodes).
pub(crate) fn decoder_config(mode: ChecksumMode) -> DecoderConfig {
    DecoderConfig {
        checksums: mode,
        ..DecoderConfig::default()
    }
}

#[inline]
fn bump(counts: &mut Vec<(u32, u64)>, key: u32) {
    if let Some(e) = counts.iter_mut().find(|e| e.0 == key) {
        e.1 += 1;
    } else {
        counts.push((key, 1));
    }
}
