//! An attack phase as the transforms see it: its packets (those labelled attack with the
//! phase's name, in time order), each marked with its direction, and the splice that puts a
//! transformed phase back into the capture with aligned labels.
//!
//! The lab labels every packet that carries the attacker's address during an attack phase as
//! attack (crates/lab/src/label.rs): the attacker's probes, logins and floods, the victims'
//! answers, and the attacker's own chatter. A packet is the *attacker's* when its source is
//! the originator of its flow, the sender of the flow's first packet in the phase (same
//! IPv4 address and port, or the same Ethernet source for frames without IPv4); the answers
//! are the rest. Transforms rewrite only the attacker's packets and move answers with them.

use crate::capture::{Frame, LabelledCapture, PacketLabel};
use crate::renumber::{endpoints, flow_key};
use std::collections::{BTreeMap, HashMap};
use std::net::Ipv4Addr;

/// One packet of a phase.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pkt {
    /// The frame.
    pub frame: Frame,
    /// Sent by the attacker side (the originator of its flow).
    pub from_attacker: bool,
    /// Added by a transform (a split segment, chaff).
    pub injected: bool,
}

/// An attack phase of a labelled capture.
#[derive(Clone, Debug)]
pub struct Phase {
    /// The phase's name in the labels.
    pub name: String,
    /// Indices, in the capture, of its packets.
    pub indices: Vec<usize>,
    /// Its packets, in time order.
    pub packets: Vec<Pkt>,
    /// The attacker's most frequent Ethernet and IPv4 source among its packets.
    pub attacker: Option<([u8; 6], Ipv4Addr)>,
}

/// The source endpoint of a frame: IPv4 address and transport port when it has them, else
/// the Ethernet source.
fn source(linktype: u32, f: &Frame) -> Vec<u8> {
    let e = endpoints(linktype, &f.data);
    if let Some(ip) = e.ipv4[0] {
        let mut v = ip.octets().to_vec();
        if let Some(l) = super::frame::locate(linktype, f) {
            if let Some((sp, _)) = super::frame::ports(&f.data, &l) {
                v.extend(sp.to_be_bytes());
            }
        }
        return v;
    }
    f.data.get(6..12).map(<[u8]>::to_vec).unwrap_or_default()
}

/// Marks each packet's direction (see the module docs); `packets` in time order.
pub fn mark_directions(linktype: u32, packets: &mut [Pkt]) {
    let mut origin: HashMap<Vec<u8>, Vec<u8>> = HashMap::new();
    for p in packets.iter_mut() {
        let key = flow_key(linktype, &p.frame.data).unwrap_or_default();
        let src = source(linktype, &p.frame);
        let o = origin.entry(key).or_insert_with(|| src.clone());
        p.from_attacker = *o == src;
    }
}

/// The attack phases of `cap`, in order of their first packet.
pub fn phases(cap: &LabelledCapture) -> Vec<Phase> {
    let mut by_name: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, l) in cap.labels.iter().enumerate() {
        if l.attack {
            let name = l.phase.clone().unwrap_or_else(|| "(none)".into());
            by_name.entry(name).or_default().push(i);
        }
    }
    let mut out: Vec<Phase> = by_name
        .into_iter()
        .map(|(name, mut indices)| {
            indices.sort_by_key(|&i| (cap.frames.get(i).map_or(0, |f| f.ts), i));
            let mut packets: Vec<Pkt> = indices
                .iter()
                .filter_map(|&i| cap.frames.get(i))
                .map(|f| Pkt {
                    frame: f.clone(),
                    from_attacker: false,
                    injected: false,
                })
                .collect();
            mark_directions(cap.linktype, &mut packets);
            let attacker = attacker(cap.linktype, &packets);
            Phase {
                name,
                indices,
                packets,
                attacker,
            }
        })
        .collect();
    out.sort_by_key(|p| {
        (
            p.packets.first().map_or(i64::MAX, |x| x.frame.ts),
            p.name.clone(),
        )
    });
    out
}

/// The most frequent (Ethernet source, IPv4 source) of the attacker's packets.
fn attacker(linktype: u32, packets: &[Pkt]) -> Option<([u8; 6], Ipv4Addr)> {
    let mut count: BTreeMap<([u8; 6], Ipv4Addr), u64> = BTreeMap::new();
    for p in packets.iter().filter(|p| p.from_attacker) {
        let e = endpoints(linktype, &p.frame.data);
        if let (Some(mac), Some(ip)) = (e.macs[0], e.ipv4[0]) {
            *count.entry((mac, ip)).or_default() += 1;
        }
    }
    count
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(k, _)| k)
}

/// `cap` with `phase`'s packets replaced by `packets` (labelled attack, phase `phase.name`),
/// every frame in time order (ties keep capture order, the phase's packets after the others).
pub fn splice(cap: &LabelledCapture, phase: &Phase, packets: &[Pkt]) -> LabelledCapture {
    let mut drop = vec![false; cap.frames.len()];
    for &i in &phase.indices {
        if let Some(d) = drop.get_mut(i) {
            *d = true;
        }
    }
    let mut all: Vec<(Frame, PacketLabel)> = cap
        .frames
        .iter()
        .zip(&cap.labels)
        .zip(&drop)
        .filter(|(_, &d)| !d)
        .map(|((f, l), _)| (f.clone(), l.clone()))
        .collect();
    all.extend(
        packets
            .iter()
            .map(|p| (p.frame.clone(), label(&phase.name))),
    );
    all.sort_by_key(|(f, _)| f.ts);
    let (frames, labels) = all.into_iter().unzip();
    LabelledCapture {
        linktype: cap.linktype,
        snaplen: cap.snaplen,
        frames,
        labels,
    }
}

/// The capture with `phase` replaced by `packets`, cut to the phase's span and the
/// `context_s` seconds before it: what a detector that keeps state across flows — Kitsune's
/// per-host statistics, the flow model's host features — needs to see the phase as it would
/// in the capture. Empty when the phase has no packet labelled with its name.
pub fn in_context(
    cap: &LabelledCapture,
    phase: &Phase,
    packets: &[Pkt],
    context_s: f64,
) -> LabelledCapture {
    let mut spliced = splice(cap, phase, packets);
    let mine = |l: &PacketLabel| l.attack && l.phase.as_deref() == Some(phase.name.as_str());
    let span = (
        spliced.labels.iter().position(mine),
        spliced.labels.iter().rposition(mine),
    );
    let (from, to) = match span {
        (Some(first), Some(last)) => {
            let start_ts = spliced
                .frames
                .get(first)
                .map_or(0, |f| f.ts)
                .saturating_sub((context_s * 1e9) as i64);
            let from = spliced
                .frames
                .partition_point(|f| f.ts < start_ts)
                .min(first);
            (from, last + 1)
        }
        _ => (0, 0),
    };
    spliced.frames.truncate(to);
    spliced.labels.truncate(to);
    spliced.frames.drain(..from);
    spliced.labels.drain(..from);
    spliced
}

/// A capture of `packets` alone, labelled attack with phase `name`.
pub fn alone(cap: &LabelledCapture, name: &str, packets: &[Pkt]) -> LabelledCapture {
    LabelledCapture {
        linktype: cap.linktype,
        snaplen: cap.snaplen,
        frames: packets.iter().map(|p| p.frame.clone()).collect(),
        labels: packets.iter().map(|_| label(name)).collect(),
    }
}

/// The label of a phase packet.
fn label(name: &str) -> PacketLabel {
    PacketLabel {
        attack: true,
        phase: Some(name.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::frame::tests::tcp;
    use super::*;

    fn cap() -> LabelledCapture {
        let a = [10, 0, 0, 66];
        let v = [10, 0, 0, 1];
        let mut frames = vec![
            tcp([10, 0, 0, 5], 1000, v, 80, 0x02, 1, b""),
            tcp(a, 4000, v, 23, 0x02, 1, b""),
            tcp(v, 23, a, 4000, 0x12, 9, b""),
            tcp([10, 0, 0, 5], 1000, v, 80, 0x10, 2, b""),
        ];
        for (i, f) in frames.iter_mut().enumerate() {
            f.ts = i as i64 * 1000;
        }
        let l = |attack: bool, p: &str| PacketLabel {
            attack,
            phase: Some(p.into()),
        };
        LabelledCapture {
            linktype: 1,
            snaplen: 65535,
            frames,
            labels: vec![
                l(false, "benign"),
                l(true, "scan"),
                l(true, "scan"),
                l(false, "scan"),
            ],
        }
    }

    #[test]
    fn phases_mark_the_originator_as_attacker() {
        let c = cap();
        let p = phases(&c);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].name, "scan");
        assert_eq!(p[0].indices, vec![1, 2]);
        assert!(p[0].packets[0].from_attacker);
        assert!(!p[0].packets[1].from_attacker);
        assert_eq!(
            p[0].attacker.map(|a| a.1),
            Some(Ipv4Addr::new(10, 0, 0, 66))
        );
    }

    #[test]
    fn splice_keeps_labels_with_their_frames() {
        let c = cap();
        let p = &phases(&c)[0];
        let mut moved = p.packets.clone();
        for (k, m) in moved.iter_mut().enumerate() {
            m.frame.ts = 5000 + k as i64;
        }
        let s = splice(&c, p, &moved);
        assert_eq!(s.frames.len(), 4);
        assert_eq!(s.labels.len(), 4);
        assert_eq!(s.frames[2].data, c.frames[1].data);
        assert!(s.labels[2].attack && s.labels[3].attack);
        assert!(!s.labels[0].attack && !s.labels[1].attack);
        assert!(s.frames.windows(2).all(|w| w[0].ts <= w[1].ts));
    }

    #[test]
    fn in_context_keeps_the_phase_and_the_seconds_before_it() {
        let c = cap();
        let p = &phases(&c)[0];
        // The phase (packets 1, 2 at 1 µs, 2 µs) with 1 µs of context: packet 0 (at 0) is
        // in, packet 3 (after the phase) is not.
        let w = in_context(&c, p, &p.packets, 1e-6);
        assert_eq!(w.frames.len(), 3);
        assert_eq!(w.frames[0].data, c.frames[0].data);
        assert!(w.labels[1].attack && w.labels[2].attack);
        // No context: the phase alone; a long one: everything up to the phase's end.
        assert_eq!(in_context(&c, p, &p.packets, 0.0).frames.len(), 2);
        assert_eq!(in_context(&c, p, &p.packets, 60.0).frames.len(), 3);
        // A phase moved later keeps the frames it now follows as context.
        let mut moved = p.packets.clone();
        for (k, m) in moved.iter_mut().enumerate() {
            m.frame.ts = 5000 + k as i64;
        }
        let w = in_context(&c, p, &moved, 60.0);
        assert_eq!(w.frames.len(), 4);
        assert!(w.labels[2].attack && w.labels[3].attack);
        // A phase with no packet left gives nothing.
        assert!(in_context(&c, p, &[], 60.0).frames.is_empty());
    }
}
