//! One thread: each packet goes through the packet, host and output stages before the next
//! is read.

use super::host::HostStage;
use super::output::OutputStage;
use super::packet::PacketStage;
use crate::error::EngineError;
use crate::source::PacketSink;
use custos_flow::PacketMeta;
use custos_output::{Record, RunInfo};

/// The three stages on the caller's thread.
pub(crate) struct Inline {
    pub packet: PacketStage,
    pub host: HostStage,
    pub output: OutputStage,
    pub info: RunInfo,
    run_index: u64,
    upstream: Vec<Record>,
    out: Vec<Record>,
}

impl Inline {
    /// The stages, ready for the first packet.
    pub fn new(packet: PacketStage, host: HostStage, output: OutputStage, info: RunInfo) -> Self {
        Inline {
            packet,
            host,
            output,
            info,
            run_index: 0,
            upstream: Vec::new(),
            out: Vec::new(),
        }
    }

    /// Ends the packet and host stages; their last records go to the sinks.
    ///
    /// # Errors
    /// A detector's or sink's error.
    pub fn finish(mut self) -> Result<Finished, EngineError> {
        self.output.begin(&self.info)?;
        let (host, output, out) = (&mut self.host, &mut self.output, &mut self.out);
        let mut flush = |chunk: &mut Vec<Record>| -> Result<(), EngineError> {
            host.upstream(chunk, out)?;
            output.records(out)?;
            out.clear();
            Ok(())
        };
        self.packet.finish(&mut self.upstream, &mut flush)?;
        self.host.upstream(&mut self.upstream, &mut self.out)?;
        let (summary, detectors) = self.host.finish(&mut self.out)?;
        self.output.records(&self.out)?;
        self.out.clear();
        Ok(Finished {
            packet: self.packet,
            summary,
            detectors,
            output: self.output,
            info: self.info,
        })
    }
}

/// The stages after the last packet, for the statistics and the sinks' end.
pub(crate) struct Finished {
    pub packet: PacketStage,
    pub summary: super::host::HostSummary,
    pub detectors: crate::detector::Detectors,
    pub output: OutputStage,
    pub info: RunInfo,
}

impl PacketSink for Inline {
    fn packet(&mut self, linktype: u32, meta: &PacketMeta, data: &[u8]) -> Result<(), EngineError> {
        if self.run_index == 0 {
            self.info.first_ts = Some(meta.ts);
            self.output.begin(&self.info)?;
        }
        let run_index = self.run_index;
        self.run_index += 1;
        let host = &mut self.host;
        let out = &mut self.out;
        self.packet.packet(
            linktype,
            meta,
            data,
            &mut self.upstream,
            |decoded, verdict, up| {
                host.packet(
                    run_index,
                    (linktype, verdict.app_proto),
                    meta,
                    data,
                    decoded,
                    up,
                    out,
                )
            },
        )?;
        self.output.records(&self.out)?;
        self.out.clear();
        Ok(())
    }

    fn flows_held(&self) -> usize {
        self.packet.flows_held()
    }
}
