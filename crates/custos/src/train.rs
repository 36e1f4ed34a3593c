//! `custos train`: learn a detector's model from captures of normal traffic.

use crate::cli::TrainArgs;
use crate::detection::{detector_config, Detection};
use crate::Outcome;
use anyhow::{bail, Context};
use custos_capture::{FileReader, PacketSource};
use custos_decode::{ChecksumMode, Decoder, DecoderConfig};
use custos_flow::PacketMeta;

/// Runs `train`.
///
/// # Errors
/// Unreadable inputs, too little traffic to finish training, unwritable model.
pub fn run(args: TrainArgs) -> anyhow::Result<Outcome> {
    if args.detect.detector.is_none() {
        bail!("choose a detector with --detector (e.g. --detector kitsune)");
    }
    let cfg = detector_config(&args.detect)?;
    let names: Vec<String> = args
        .captures
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let mut readers = Vec::new();
    for p in &args.captures {
        readers.push(
            FileReader::open(p).with_context(|| format!("cannot read capture {}", p.display()))?,
        );
    }
    let mut det = Detection::new(cfg, None, None, names.clone(), false)?;
    let mut decoder = Decoder::new(DecoderConfig {
        checksums: ChecksumMode::Ignore,
        ..DecoderConfig::default()
    });
    let needed = cfg.kitnet.fm_grace + cfg.kitnet.ad_grace + 1 + cfg.calibration;
    let mut index = 0u64;
    let mut partial = false;
    'files: for (file, reader) in readers.iter_mut().enumerate() {
        loop {
            let p = match reader.next_packet() {
                Ok(Some(p)) => p,
                Ok(None) => break,
                Err(e) => {
                    eprintln!("custos: warning: {e}; training uses the packets before it");
                    partial = true;
                    break;
                }
            };
            let meta = PacketMeta {
                ts: p.ts,
                frame_len: p.orig_len.max(p.data.len() as u32),
                index: p.index,
                file: file as u16,
            };
            let decoded = decoder.decode(p.linktype.0, p.ts, p.data);
            det.packet(index, &meta, &decoded)?;
            index += 1;
            if index >= needed {
                break 'files;
            }
        }
    }
    det.detector_mut().finish_calibration();
    let model = det.detector().to_model(names).with_context(|| {
        format!("{index} packets read, {needed} needed (grace periods + calibration)")
    })?;
    model.save(&args.output)?;
    let t = model.threshold;
    eprintln!(
        "custos: trained kitsune on {index} packets: {} autoencoders, threshold {:.6} ({:?}); model {} (sha256 {})",
        model.kitnet.map.len(),
        t.value,
        t.rule,
        args.output.display(),
        model.sha256()?
    );
    Ok(if partial {
        Outcome::Partial
    } else {
        Outcome::Success
    })
}
