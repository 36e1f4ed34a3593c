//! What the flow detector keeps per host rather than per flow: the last alert time of each
//! host pair (one alert per pair and second) and each sender's latest flow score (the score
//! of its packets that are in no scored flow).

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

/// The latest flow score of each sender (source MAC address) and its packet time.
#[derive(Default)]
pub(crate) struct SenderScores {
    latest: KeyedMap<[u8; 6], (f64, i64)>,
}

impl SenderScores {
    /// Records `score`, the flow score of a packet from `mac` at `ts`.
    pub(crate) fn record(&mut self, mac: [u8; 6], score: f64, ts: i64) {
        if self.latest.len() >= SENDERS_CAP && !self.latest.contains_key(&mac) {
            self.latest.clear();
        }
        self.latest.insert(mac, (score, ts));
    }

    /// The score standing for a packet from `mac` at `ts` that is in no scored flow.
    pub(crate) fn standing(&self, mac: [u8; 6], ts: i64) -> f64 {
        match self.latest.get(&mac) {
            Some(&(score, at)) if (0..=SENDER_HORIZON_NS).contains(&ts.saturating_sub(at)) => score,
            _ => 0.0,
        }
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
        s.record(attacker, 0.97, 5_000_000_000);
        assert_eq!(s.standing(attacker, 5_000_000_000), 0.97);
        assert_eq!(s.standing(attacker, 15_000_000_000), 0.97);
        assert_eq!(
            s.standing(attacker, 15_000_000_001),
            0.0,
            "past the horizon"
        );
        assert_eq!(s.standing(attacker, 4_000_000_000), 0.0, "before the score");
        assert_eq!(s.standing(other, 5_000_000_000), 0.0, "another sender");
        // The latest score stands, not the highest.
        s.record(attacker, 0.01, 6_000_000_000);
        assert_eq!(s.standing(attacker, 7_000_000_000), 0.01);
        // Bounded: a flood of forged senders empties the table rather than growing it.
        for i in 0..(SENDERS_CAP as u32 + 10) {
            let b = i.to_be_bytes();
            s.record([1, 1, b[0], b[1], b[2], b[3]], 0.5, 8_000_000_000);
        }
        assert!(s.latest.len() <= SENDERS_CAP);
    }
}
