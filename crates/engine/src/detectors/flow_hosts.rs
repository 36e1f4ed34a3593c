//! What the flow detector keeps per host rather than per flow: the last alert time of each
//! host pair (one alert per pair and second), and for the packets in no scored flow, each
//! sender's latest score in a flow it originated and each pair of hosts' latest score.

use custos_flow::keyed_hash::KeyedMap;
use custos_flow::FlowKey;

/// Host pairs whose last alert is this recent (nanoseconds of packet time) get no other.
const PAIR_QUIET_NS: i64 = 1_000_000_000;

/// How long a sender's latest flow score stands for its packets in no flow (10 s of packet
/// time).
const SENDER_HORIZON_NS: i64 = 10_000_000_000;

/// Senders (MAC addresses) remembered before the table is emptied (a flood of forged MAC
/// addresses only costs their packets their score).
const SENDERS_CAP: usize = 1 << 16;

/// The latest flow scores by host: per sender (source MAC address) the score of the last of
/// its packets in a flow it originated, and per pair of MAC addresses the score of the last
/// packet between them in any scored flow — each with its packet time.
#[derive(Default)]
pub(crate) struct SenderScores {
    latest: KeyedMap<[u8; 6], Stamped>,
    pairs: KeyedMap<Pair, Stamped>,
    /// The pair of the latest packet recorded, kept out of `pairs` until another pair comes:
    /// consecutive packets mostly pass between the same two hosts, and this spares them a
    /// hash-table update each.
    last_pair: Option<(Pair, Stamped)>,
}

/// Two MAC addresses, in the order [`pair`] gives.
type Pair = ([u8; 6], [u8; 6]);

/// A score and its packet time.
type Stamped = (f64, i64);

/// The two addresses in a fixed order, so that either direction finds the pair.
fn pair(a: [u8; 6], b: [u8; 6]) -> Pair {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

/// Whether `mac` is a group (broadcast or multicast) address: its first octet's lowest bit.
fn is_group(mac: [u8; 6]) -> bool {
    mac[0] & 1 == 1
}

impl SenderScores {
    /// Records `score`, the flow score of a packet from `src` to `dst` at `ts`;
    /// `originated` when the sender is the flow's originator.
    pub(crate) fn record(
        &mut self,
        (src, dst): ([u8; 6], Option<[u8; 6]>),
        originated: bool,
        score: f64,
        ts: i64,
    ) {
        if originated {
            if self.latest.len() >= SENDERS_CAP && !self.latest.contains_key(&src) {
                self.latest.clear();
            }
            self.latest.insert(src, (score, ts));
        }
        if let Some(dst) = dst.filter(|d| !is_group(*d)) {
            let key = pair(src, dst);
            match &mut self.last_pair {
                Some((last, value)) if *last == key => *value = (score, ts),
                last => {
                    if let Some((k, v)) = last.replace((key, (score, ts))) {
                        if self.pairs.len() >= SENDERS_CAP && !self.pairs.contains_key(&k) {
                            self.pairs.clear();
                        }
                        self.pairs.insert(k, v);
                    }
                }
            }
        }
    }

    /// The score standing for a packet from `src` to `dst` at `ts` that is in no scored
    /// flow: to a single host, the latest score between the two when there is a recent one
    /// (an ARP reply to a scanner is part of the scan); otherwise, and to a group address,
    /// the sender's latest score in flows it originated (a flood's victim, which only answers
    /// the flood, keeps its own standing for its router solicitations). Only scores at most
    /// [`SENDER_HORIZON_NS`] old stand; 0 otherwise.
    pub(crate) fn standing(&self, (src, dst): ([u8; 6], Option<[u8; 6]>), ts: i64) -> f64 {
        let recent = |&(score, at): &(f64, i64)| {
            (0..=SENDER_HORIZON_NS)
                .contains(&ts.saturating_sub(at))
                .then_some(score)
        };
        let between = dst.filter(|d| !is_group(*d)).and_then(|d| {
            let key = pair(src, d);
            match &self.last_pair {
                Some((last, value)) if *last == key => Some(value),
                _ => self.pairs.get(&key),
            }
        });
        let between = between.and_then(recent);
        between
            .or_else(|| self.latest.get(&src).and_then(recent))
            .unwrap_or(0.0)
    }
}

/// The last alert time per host pair (the addresses of a canonical flow key, so either
/// direction), pruned of pairs quiet for longer than [`PAIR_QUIET_NS`] when it grows.
#[derive(Default)]
pub(crate) struct PairThrottle {
    last: KeyedMap<(custos_flow::Addr, custos_flow::Addr), i64>,
}

impl PairThrottle {
    /// Whether flow `key` may alert at packet time `ts`; records the alert when it may.
    pub(crate) fn admit(&mut self, key: &FlowKey, ts: i64) -> bool {
        let pair = (key.lo.addr, key.hi.addr);
        if let Some(&t) = self.last.get(&pair) {
            if ts.saturating_sub(t) < PAIR_QUIET_NS {
                return false;
            }
        }
        if self.last.len() > 65_536 {
            self.last
                .retain(|_, t| ts.saturating_sub(*t) < PAIR_QUIET_NS);
        }
        self.last.insert(pair, ts);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_packet_in_no_flow_carries_its_senders_recent_score_only() {
        let mut s = SenderScores::default();
        let (attacker, other) = ([2; 6], [4; 6]);
        let broadcast = Some([0xff; 6]);
        s.record((attacker, None), true, 0.97, 5_000_000_000);
        assert_eq!(s.standing((attacker, broadcast), 5_000_000_000), 0.97);
        assert_eq!(s.standing((attacker, broadcast), 15_000_000_000), 0.97);
        assert_eq!(
            s.standing((attacker, broadcast), 15_000_000_001),
            0.0,
            "past the horizon"
        );
        assert_eq!(
            s.standing((attacker, None), 4_000_000_000),
            0.0,
            "before the score"
        );
        assert_eq!(
            s.standing((other, broadcast), 5_000_000_000),
            0.0,
            "another sender"
        );
        // The latest score stands, not the highest.
        s.record((attacker, None), true, 0.01, 6_000_000_000);
        assert_eq!(s.standing((attacker, None), 7_000_000_000), 0.01);
        // Bounded: a flood of forged senders empties the tables rather than growing them.
        for i in 0..(SENDERS_CAP as u32 + 10) {
            let b = i.to_be_bytes();
            s.record(
                ([1, 1, b[0], b[1], b[2], b[3]], Some([2; 6])),
                true,
                0.5,
                8_000_000_000,
            );
        }
        assert!(s.latest.len() <= SENDERS_CAP && s.pairs.len() <= SENDERS_CAP);
    }

    #[test]
    fn answers_count_for_the_pair_not_for_the_answering_host() {
        let mut s = SenderScores::default();
        let (scanner, victim, third) = ([2; 6], [4; 6], [6; 6]);
        let multicast = [0x33, 0x33, 0, 0, 0, 2];
        // The scanner's probes and the victim's answers, in flows the scanner opened; the
        // victim's own flow to a third host scores low.
        s.record((scanner, Some(victim)), true, 0.99, 1_000_000_000);
        s.record((victim, Some(scanner)), false, 0.99, 1_000_000_100);
        s.record((victim, Some(third)), true, 0.02, 1_000_000_200);
        // An ARP reply from the victim to the scanner belongs to the scan ...
        assert_eq!(s.standing((victim, Some(scanner)), 2_000_000_000), 0.99);
        // ... its router solicitation to a multicast group does not, nor does a packet to a
        // host it has no recent flow with: they carry what the victim itself opened.
        assert_eq!(s.standing((victim, Some(multicast)), 2_000_000_000), 0.02);
        assert_eq!(s.standing((victim, Some([8; 6])), 2_000_000_000), 0.02);
        assert_eq!(s.standing((victim, None), 2_000_000_000), 0.02);
        // The scanner's broadcast ARP requests carry the scan's score.
        assert_eq!(s.standing((scanner, Some([0xff; 6])), 2_000_000_000), 0.99);
        // The latest pair is held apart from the table until another pair comes; both are
        // read.
        s.record((third, Some(victim)), true, 0.5, 1_500_000_000);
        assert_eq!(s.standing((victim, Some(third)), 2_000_000_000), 0.5);
        assert_eq!(s.standing((victim, Some(scanner)), 2_000_000_000), 0.99);
        s.record((scanner, Some(third)), true, 0.4, 1_600_000_000);
        assert_eq!(s.standing((victim, Some(third)), 2_000_000_000), 0.5);
        assert_eq!(s.standing((third, Some(scanner)), 2_000_000_000), 0.4);
        // A pair past the horizon falls back to the sender's own standing, then to 0.
        s.record((victim, Some(multicast)), true, 0.03, 5_000_000_000);
        assert_eq!(s.standing((victim, Some(scanner)), 11_000_000_101), 0.03);
        assert_eq!(s.standing((victim, Some(scanner)), 15_000_000_001), 0.0);
    }
}
