//! Three threads: the packet stage on the caller's thread, the host stage and the output
//! stage on threads of their own, joined by bounded channels of batches. Every stage sees
//! the same records in the same order as on one thread, so the output is byte-identical.

use super::host::{HostStage, HostSummary};
use super::output::OutputStage;
use super::packet::{decoder_config, PacketStage};
use crate::detector::Detectors;
use crate::error::EngineError;
use crate::source::PacketSink;
use custos_decode::{ChecksumMode, Decoder};
use custos_flow::PacketMeta;
use custos_output::{Record, RunEnd, RunInfo, Stats};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::thread::JoinHandle;

/// Packets per batch.
const BATCH_PACKETS: usize = 2048;
/// Captured bytes per batch (a batch closes at whichever limit comes first).
const BATCH_BYTES: usize = 4 << 20;
/// Batches in flight between two stages: with the batch limits, this bounds the memory the
/// threads add whatever the input.
const CHANNEL_BATCHES: usize = 4;

/// One packet of a batch.
struct BatchPacket {
    run_index: u64,
    meta: PacketMeta,
    linktype: u32,
    start: usize,
    len: usize,
    mode: ChecksumMode,
    /// Its connection's application protocol so far.
    app_proto: Option<custos_app::AppProto>,
    /// Records the packet stage made of it (events, ended flows), next in `records`.
    records: usize,
}

/// Packets with their bytes and the packet stage's records.
#[derive(Default)]
struct Batch {
    data: Vec<u8>,
    packets: Vec<BatchPacket>,
    records: Vec<Record>,
}

/// From the packet stage to the host stage.
enum ToHost {
    Begin(RunInfo),
    Batch(Batch),
    /// Records of the packet stage at the end of input, before the last ones.
    Upstream(Vec<Record>),
    /// End of input with the packet stage's last records.
    End(Vec<Record>),
}

/// From the host stage (and at the very end, the caller) to the output stage.
enum ToOutput {
    Begin(RunInfo),
    Records(Vec<Record>),
    Finish(RunInfo, RunEnd, Box<Stats>),
}

/// Memory handed back to the packet thread, which allocated it: batches to fill again, and
/// records to drop there. Freeing where the memory was allocated keeps the allocator's
/// per-thread caches warm and avoids cross-thread frees contending on its locks.
enum Recycled {
    Batch(Batch),
    Records(Vec<Record>),
}

/// Hands `item` back to the packet thread, or drops it here when the way back is full.
fn recycle(tx: &SyncSender<Recycled>, item: Recycled) {
    let _ = tx.try_send(item);
}

type HostResult = Result<(HostSummary, Detectors), EngineError>;

/// The packet stage on this thread, feeding the others.
pub(crate) struct Threaded {
    pub packet: PacketStage,
    info: RunInfo,
    run_index: u64,
    batch: Batch,
    to_host: Option<SyncSender<ToHost>>,
    to_output: Option<SyncSender<ToOutput>>,
    host: Option<JoinHandle<HostResult>>,
    output: Option<JoinHandle<Result<Box<Stats>, EngineError>>>,
    recycled: Receiver<Recycled>,
    /// Emptied batches to fill again.
    spare: Vec<Batch>,
}

impl Threaded {
    /// Starts the host and output threads.
    ///
    /// # Errors
    /// A thread cannot be started.
    pub fn start(
        packet: PacketStage,
        host: HostStage,
        output: OutputStage,
        info: RunInfo,
    ) -> Result<Self, EngineError> {
        let (to_host, host_rx) = sync_channel::<ToHost>(CHANNEL_BATCHES);
        let (to_output, output_rx) = sync_channel::<ToOutput>(CHANNEL_BATCHES);
        let (recycle_tx, recycled) = sync_channel::<Recycled>(4 * CHANNEL_BATCHES);
        let host_out = to_output.clone();
        let host_recycle = recycle_tx.clone();
        let host = std::thread::Builder::new()
            .name("custos-host".into())
            .spawn(move || host_thread(host, host_rx, host_out, host_recycle))
            .map_err(|e| EngineError::io("cannot start the host thread", e))?;
        let output = std::thread::Builder::new()
            .name("custos-output".into())
            .spawn(move || output_thread(output, output_rx, recycle_tx))
            .map_err(|e| EngineError::io("cannot start the output thread", e))?;
        Ok(Threaded {
            packet,
            info,
            run_index: 0,
            batch: Batch::default(),
            to_host: Some(to_host),
            to_output: Some(to_output),
            host: Some(host),
            output: Some(output),
            recycled,
            spare: Vec::new(),
        })
    }

    /// Takes back what the other threads handed back: batches to reuse, records to drop.
    fn take_back(&mut self) {
        for item in self.recycled.try_iter() {
            match item {
                Recycled::Batch(mut b) if self.spare.len() < CHANNEL_BATCHES => {
                    b.data.clear();
                    b.packets.clear();
                    b.records.clear();
                    self.spare.push(b);
                }
                // Dropped here, by the thread that allocated them.
                Recycled::Records(records) => drop(records),
                Recycled::Batch(b) => drop(b),
            }
        }
    }

    fn send(&mut self, msg: ToHost) -> Result<(), EngineError> {
        let sent = self.to_host.as_ref().is_some_and(|t| t.send(msg).is_ok());
        if sent {
            Ok(())
        } else {
            // The host thread stopped: its own error explains why.
            Err(self.join_error())
        }
    }

    /// The error that stopped the threads: a stage's own error rather than the
    /// "stopped unexpectedly" of a stage whose neighbour went away.
    fn join_error(&mut self) -> EngineError {
        self.to_host = None;
        let host = match self.host.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => Some(e),
            Some(Err(_)) => Some(EngineError::Thread("host")),
            _ => None,
        };
        if matches!(host, Some(ref e) if !matches!(e, EngineError::Thread(_))) {
            return host.unwrap_or(EngineError::Thread("host"));
        }
        // The host thread is gone; with this sender dropped too, the output thread's channel
        // closes and it returns.
        self.to_output = None;
        let output = match self.output.take().map(JoinHandle::join) {
            Some(Ok(Err(e))) => Some(e),
            Some(Err(_)) => Some(EngineError::Thread("output")),
            _ => None,
        };
        output.or(host).unwrap_or(EngineError::Thread("host"))
    }

    /// Ends the packet stage, waits for the host stage, then lets the output stage finish
    /// with the statistics that `stats` builds from the host stage's summary.
    ///
    /// # Errors
    /// The first error of any stage.
    pub fn finish(
        mut self,
        end: RunEnd,
        stats: impl FnOnce(&PacketStage, &HostSummary, &RunInfo) -> Stats,
    ) -> Result<(Box<Stats>, Detectors), EngineError> {
        if self.run_index == 0 {
            self.send(ToHost::Begin(self.info.clone()))?;
        }
        let batch = std::mem::take(&mut self.batch);
        if !batch.packets.is_empty() {
            self.send(ToHost::Batch(batch))?;
        }
        let mut last = Vec::new();
        let to_host = self.to_host.clone();
        let recycled = &self.recycled;
        let mut flush = |chunk: &mut Vec<Record>| -> Result<(), EngineError> {
            // Drop what came back while the last flows are handed on: nothing else takes it
            // back now, and a full way back would hold a dozen chunks of records at the peak.
            recycled.try_iter().for_each(drop);
            let msg = ToHost::Upstream(std::mem::take(chunk));
            match &to_host {
                Some(t) if t.send(msg).is_ok() => Ok(()),
                _ => Err(EngineError::Thread("host")),
            }
        };
        if let Err(e) = self.packet.finish(&mut last, &mut flush) {
            return Err(match e {
                EngineError::Thread(_) => self.join_error(),
                e => e,
            });
        }
        drop(to_host);
        self.send(ToHost::End(last))?;
        self.to_host = None;
        let (summary, detectors) = match self.host.take().map(JoinHandle::join) {
            Some(Ok(Ok(r))) => r,
            Some(Ok(Err(e))) => {
                return Err(match e {
                    EngineError::Thread(_) => self.join_error(),
                    e => e,
                });
            }
            _ => return Err(self.join_error()),
        };
        let stats = stats(&self.packet, &summary, &self.info);
        let info = self.info.clone();
        let sent = self
            .to_output
            .take()
            .is_some_and(|t| t.send(ToOutput::Finish(info, end, Box::new(stats))).is_ok());
        if !sent {
            return Err(self.join_error());
        }
        match self.output.take().map(JoinHandle::join) {
            Some(Ok(Ok(stats))) => Ok((stats, detectors)),
            Some(Ok(Err(e))) => Err(e),
            _ => Err(EngineError::Thread("output")),
        }
    }
}

impl PacketSink for Threaded {
    fn packet(&mut self, linktype: u32, meta: &PacketMeta, data: &[u8]) -> Result<(), EngineError> {
        if self.run_index == 0 {
            self.info.first_ts = Some(meta.ts);
            self.send(ToHost::Begin(self.info.clone()))?;
        }
        let run_index = self.run_index;
        self.run_index += 1;
        let batch = &mut self.batch;
        let before = batch.records.len();
        let _ = self.packet.packet::<EngineError>(
            linktype,
            meta,
            data,
            &mut batch.records,
            |_, verdict, _| {
                let start = batch.data.len();
                batch.data.extend_from_slice(data);
                batch.packets.push(BatchPacket {
                    run_index,
                    meta: *meta,
                    linktype,
                    start,
                    len: data.len(),
                    mode: verdict.mode,
                    app_proto: verdict.app_proto,
                    records: 0,
                });
                Ok(())
            },
        );
        let made = batch.records.len() - before;
        if let Some(p) = batch.packets.last_mut() {
            p.records = made;
        }
        if batch.packets.len() >= BATCH_PACKETS || batch.data.len() >= BATCH_BYTES {
            self.take_back();
            let next = self.spare.pop().unwrap_or_default();
            let full = std::mem::replace(&mut self.batch, next);
            self.send(ToHost::Batch(full))?;
        }
        Ok(())
    }

    fn flows_held(&self) -> usize {
        self.packet.flows_held()
    }
}

fn host_thread(
    mut host: HostStage,
    rx: Receiver<ToHost>,
    tx: SyncSender<ToOutput>,
    back: SyncSender<Recycled>,
) -> HostResult {
    let mut decoder = Decoder::new(decoder_config(ChecksumMode::Verify));
    let mut upstream = Vec::new();
    let send = |msg: ToOutput| tx.send(msg).map_err(|_| EngineError::Thread("output"));
    while let Ok(msg) = rx.recv() {
        match msg {
            ToHost::Begin(info) => send(ToOutput::Begin(info))?,
            ToHost::Batch(mut batch) => {
                let out = host_batch(&mut host, &mut decoder, &mut batch, &mut upstream)?;
                recycle(&back, Recycled::Batch(batch));
                send(ToOutput::Records(out))?;
            }
            ToHost::Upstream(mut records) => {
                let mut out = Vec::with_capacity(records.len());
                host.upstream(&mut records, &mut out)?;
                send(ToOutput::Records(out))?;
            }
            ToHost::End(mut last) => {
                let mut out = Vec::new();
                host.upstream(&mut last, &mut out)?;
                let r = host.finish(&mut out)?;
                send(ToOutput::Records(out))?;
                return Ok(r);
            }
        }
    }
    Err(EngineError::Thread("packet"))
}

/// Decodes the batch's packets again (the same decoder settings, in the same order, so the
/// same results, fragments included) and runs the host stage on them.
fn host_batch(
    host: &mut HostStage,
    decoder: &mut Decoder,
    batch: &mut Batch,
    upstream: &mut Vec<Record>,
) -> Result<Vec<Record>, EngineError> {
    let mut out = Vec::with_capacity(batch.packets.len() + batch.records.len());
    let mut records = batch.records.drain(..);
    for p in &batch.packets {
        upstream.clear();
        upstream.extend(records.by_ref().take(p.records));
        let data = batch.data.get(p.start..p.start + p.len).unwrap_or(&[]);
        if decoder.config().checksums != p.mode {
            decoder.set_checksum_mode(p.mode);
        }
        let decoded = decoder.decode(p.linktype, p.meta.ts, data);
        host.packet(
            p.run_index,
            (p.linktype, p.app_proto),
            &p.meta,
            data,
            &decoded,
            upstream,
            &mut out,
        )?;
    }
    Ok(out)
}

fn output_thread(
    mut output: OutputStage,
    rx: Receiver<ToOutput>,
    back: SyncSender<Recycled>,
) -> Result<Box<Stats>, EngineError> {
    while let Ok(msg) = rx.recv() {
        match msg {
            ToOutput::Begin(info) => output.begin(&info)?,
            ToOutput::Records(records) => {
                output.records(&records)?;
                recycle(&back, Recycled::Records(records));
            }
            ToOutput::Finish(info, end, mut stats) => {
                output.finish(&info, &end, &mut stats)?;
                return Ok(stats);
            }
        }
    }
    Err(EngineError::Thread("host"))
}
