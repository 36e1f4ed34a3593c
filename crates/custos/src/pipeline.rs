//! The per-packet path shared by `analyze` and `bench`: decode → flow, with counters.

use custos_capture::LinkType;
use custos_decode::{ChecksumMode, ChecksumPolicy, ChecksumSetting, Decoder, DecoderConfig, Layer};
use custos_flow::{FlowConfig, FlowSink, FlowTable, PacketMeta};
use custos_output::Stats;

/// Tells the flow writers which application protocol the application stage recognised in
/// each flow as it ends.
struct WithAppProto<'a> {
    sink: &'a mut dyn FlowSink,
    app: &'a mut crate::app_events::AppStage,
}

impl FlowSink for WithAppProto<'_> {
    fn flow_ended(
        &mut self,
        flow: &custos_flow::Flow,
        summary: &custos_flow::ConnSummary,
        reason: custos_flow::EndReason,
    ) -> std::io::Result<()> {
        self.sink.app_proto(self.app.app_proto_of(flow));
        self.sink.flow_ended(flow, summary, reason)
    }
}

/// Decoder, checksum policy and flow table, plus what they counted.
pub struct Pipeline {
    decoder: Decoder,
    policy: ChecksumPolicy,
    setting: ChecksumSetting,
    flows: FlowTable,
    /// Packets seen.
    pub packets: u64,
    /// Captured bytes seen.
    pub bytes: u64,
    /// Wire bytes seen.
    pub wire_bytes: u64,
    link_types: Vec<(u32, u64)>,
    unsupported: Vec<(u32, u64)>,
    decode_errors: [u64; Layer::ALL.len()],
    bad_ip_checksums: u64,
    /// First and last packet time seen.
    pub first_ts: Option<i64>,
    /// Last packet time seen.
    pub last_ts: i64,
    /// The detection stage, when a detector runs.
    pub detection: Option<crate::detection::Detection>,
    /// The application stage (events.jsonl), in `analyze`.
    pub app: Option<crate::app_events::AppStage>,
}

impl Pipeline {
    /// A pipeline with a checksum policy decided by the caller (e.g. from a sample).
    pub fn with_policy(
        setting: ChecksumSetting,
        policy: ChecksumPolicy,
        flow_cfg: FlowConfig,
    ) -> Self {
        let mode = if setting == ChecksumSetting::Ignore || policy.offloading_detected() {
            ChecksumMode::Ignore
        } else {
            ChecksumMode::Verify
        };
        Pipeline {
            decoder: Decoder::new(DecoderConfig {
                checksums: mode,
                ..DecoderConfig::default()
            }),
            policy,
            setting,
            flows: FlowTable::new(flow_cfg),
            packets: 0,
            bytes: 0,
            wire_bytes: 0,
            link_types: Vec::new(),
            unsupported: Vec::new(),
            decode_errors: [0; Layer::ALL.len()],
            bad_ip_checksums: 0,
            first_ts: None,
            last_ts: 0,
            detection: None,
            app: None,
        }
    }

    /// Processes one captured frame.
    ///
    /// # Errors
    /// Only the sink's I/O errors.
    #[inline]
    pub fn packet(
        &mut self,
        linktype: u32,
        meta: &PacketMeta,
        data: &[u8],
        sink: &mut dyn FlowSink,
    ) -> std::io::Result<()> {
        self.packets += 1;
        self.bytes += data.len() as u64;
        self.wire_bytes += u64::from(meta.frame_len);
        if self.first_ts.is_none() {
            self.first_ts = Some(meta.ts);
        }
        self.last_ts = meta.ts;
        bump(&mut self.link_types, linktype);
        if self.policy.offloading_detected()
            && self.decoder.config().checksums == ChecksumMode::Verify
        {
            self.decoder.set_checksum_mode(ChecksumMode::Ignore);
        }
        let decoded = self.decoder.decode(linktype, meta.ts, data);
        if let Some(d) = self.detection.as_mut() {
            d.packet(self.packets - 1, meta, &decoded)?;
        }
        if let Some(a) = self.app.as_mut() {
            // A segment whose checksum the policy rejects never reached the host: the
            // application layer must not read it (it could displace the real data).
            let bad = self.policy.decoder_verifies()
                && decoded
                    .innermost()
                    .is_some_and(|l| l.l4_checksum == custos_decode::ChecksumStatus::Bad);
            a.packet(meta, &decoded, bad)?;
        }
        if decoded.unsupported_link {
            bump(&mut self.unsupported, linktype);
            return Ok(());
        }
        if let Some(e) = decoded.error {
            if let Some(c) = self.decode_errors.get_mut(e.layer.index()) {
                *c += 1;
            }
        }
        if decoded.bad_ip_checksum {
            self.bad_ip_checksums += 1;
        }
        match self.app.as_mut() {
            Some(app) => {
                let mut sink = WithAppProto { sink, app };
                self.flows
                    .process(meta, &decoded, &mut self.policy, &mut sink)
            }
            None => self.flows.process(meta, &decoded, &mut self.policy, sink),
        }
    }

    /// Ends every remaining flow.
    ///
    /// # Errors
    /// Only the sink's I/O errors.
    pub fn finish(&mut self, sink: &mut dyn FlowSink) -> std::io::Result<()> {
        match self.app.as_mut() {
            Some(app) => self.flows.finish(&mut WithAppProto { sink, app }),
            None => self.flows.finish(sink),
        }
    }

    /// Flows held now.
    pub fn flows_held(&self) -> usize {
        self.flows.len()
    }

    /// Copies the counters into `stats`.
    pub fn fill_stats(&self, stats: &mut Stats) {
        stats.packets = self.packets;
        stats.bytes = self.bytes;
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
    }
}

/// Reads up to [`ChecksumPolicy::SAMPLE`] checksummed packets from the start of the given
/// files and applies Suricata's auto-mode rule. `None` when nothing could be checked (or the
/// input is standard input, which cannot be read twice).
pub fn sample_checksums(paths: &[std::path::PathBuf]) -> Option<bool> {
    use custos_capture::{FileReader, PacketSource};
    let mut decoder = Decoder::new(DecoderConfig::default());
    let (mut checked, mut bad) = (0u32, 0u32);
    for path in paths {
        if path.as_os_str() == "-" {
            return None;
        }
        let Ok(mut reader) = FileReader::open(path) else {
            return None;
        };
        while let Ok(Some(p)) = reader.next_packet() {
            let d = decoder.decode(p.linktype.0, p.ts, p.data);
            for layer in d.ip_layers() {
                match layer.l4_checksum {
                    custos_decode::ChecksumStatus::Good => checked += 1,
                    custos_decode::ChecksumStatus::Bad => {
                        checked += 1;
                        bad += 1;
                    }
                    custos_decode::ChecksumStatus::Unverified => {}
                }
            }
            if checked >= ChecksumPolicy::SAMPLE {
                return Some(ChecksumPolicy::sample_verdict(checked, bad));
            }
        }
    }
    (checked > 0).then(|| ChecksumPolicy::sample_verdict(checked, bad))
}

#[inline]
fn bump(counts: &mut Vec<(u32, u64)>, key: u32) {
    if let Some(e) = counts.iter_mut().find(|e| e.0 == key) {
        e.1 += 1;
    } else {
        counts.push((key, 1));
    }
}

/// Converts the CLI's checksum choice.
pub fn checksum_setting(arg: crate::cli::ChecksumArg) -> ChecksumSetting {
    match arg {
        crate::cli::ChecksumArg::Auto => ChecksumSetting::Auto,
        crate::cli::ChecksumArg::Verify => ChecksumSetting::Verify,
        crate::cli::ChecksumArg::Ignore => ChecksumSetting::Ignore,
    }
}
