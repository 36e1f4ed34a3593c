//! The evasion budget (`--budget duration=2,bytes=0.2,packets=1`) and what a transformed
//! attack phase costs against it.
//!
//! A phase's cost compares its transformed packets with its original ones: the ratio of
//! their time spans (first to last packet), the bytes added (lengths on the wire) and the
//! packets added (split segments, chaff). A budget of `duration=2,bytes=0.2,packets=1` lets
//! the phase last up to twice as long, carry 20 % more bytes and add at most one packet per
//! original attack packet.

use crate::error::RobustError;

/// Bounds on what an evasion may cost one attack phase.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Budget {
    /// Largest ratio of the transformed phase's duration to the original's (≥ 1).
    pub duration: f64,
    /// Largest share of bytes added, relative to the phase's original bytes (≥ 0).
    pub bytes: f64,
    /// Largest number of packets added per original attack packet (≥ 0).
    pub packets: f64,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            duration: 2.0,
            bytes: 0.2,
            packets: 1.0,
        }
    }
}

impl Budget {
    /// Parses `key=value` pairs separated by commas (`duration`, `bytes`, `packets`); keys
    /// not given keep their default.
    ///
    /// # Errors
    /// An unknown key, a value that is not a finite number, a duration below 1 or a
    /// negative share.
    pub fn parse(s: &str) -> Result<Self, RobustError> {
        let mut b = Budget::default();
        for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').ok_or_else(|| {
                RobustError::Usage(format!(
                    "budget item {part:?} is not key=value (keys: duration, bytes, packets)"
                ))
            })?;
            let x: f64 = v
                .trim()
                .parse()
                .ok()
                .filter(|x: &f64| x.is_finite())
                .ok_or_else(|| {
                    RobustError::Usage(format!("budget {k}={v}: not a finite number"))
                })?;
            match k.trim() {
                "duration" if x >= 1.0 => b.duration = x,
                "bytes" if x >= 0.0 => b.bytes = x,
                "packets" if x >= 0.0 => b.packets = x,
                "duration" => {
                    return Err(RobustError::Usage(format!(
                        "budget duration={x} must be at least 1 (the original duration)"
                    )))
                }
                "bytes" | "packets" => {
                    return Err(RobustError::Usage(format!(
                        "budget {k}={x} must not be negative"
                    )))
                }
                other => {
                    return Err(RobustError::Usage(format!(
                        "unknown budget key {other:?} (keys: duration, bytes, packets)"
                    )))
                }
            }
        }
        Ok(b)
    }
}

/// What a transformation costs one phase.
#[derive(Clone, Copy, Debug, Default, PartialEq, serde::Serialize)]
pub struct Cost {
    /// Duration of the transformed phase ÷ the original's (1 when both are instantaneous).
    pub duration_factor: f64,
    /// Bytes added (lengths on the wire; negative when bytes were removed).
    pub extra_bytes: i64,
    /// Packets added.
    pub extra_packets: i64,
    /// The original phase's bytes.
    pub original_bytes: u64,
    /// The original phase's packets.
    pub original_packets: u64,
}

impl Cost {
    /// The cost of going from `before` to `after`, each a list of (time ns, wire length).
    pub fn between(before: &[(i64, u32)], after: &[(i64, u32)]) -> Self {
        let span = |v: &[(i64, u32)]| {
            let lo = v.iter().map(|p| p.0).min().unwrap_or(0);
            let hi = v.iter().map(|p| p.0).max().unwrap_or(0);
            hi.saturating_sub(lo)
        };
        let bytes = |v: &[(i64, u32)]| v.iter().map(|p| u64::from(p.1)).sum::<u64>();
        let (s0, s1) = (span(before), span(after));
        let duration_factor = match (s0, s1) {
            (0, 0) => 1.0,
            (0, _) => f64::INFINITY,
            _ => s1 as f64 / s0 as f64,
        };
        Cost {
            duration_factor,
            extra_bytes: bytes(after) as i64 - bytes(before) as i64,
            extra_packets: after.len() as i64 - before.len() as i64,
            original_bytes: bytes(before),
            original_packets: before.len() as u64,
        }
    }

    /// Whether the cost fits `b` (with a relative tolerance of 1e-9 on the duration).
    pub fn within(&self, b: &Budget) -> bool {
        self.duration_factor <= b.duration * (1.0 + 1e-9)
            && self.extra_bytes as f64 <= b.bytes * self.original_bytes as f64
            && self.extra_packets as f64 <= b.packets * self.original_packets as f64
    }

    /// The cost as a share of the budget: the mean, over duration, bytes and packets, of the
    /// part of each allowance used (0 for nothing added; a zero allowance counts as 0 when
    /// unused and 1 when used). Smaller is cheaper.
    pub fn share(&self, b: &Budget) -> f64 {
        let part = |used: f64, allowed: f64| {
            if used <= 0.0 {
                0.0
            } else if allowed <= 0.0 {
                1.0
            } else {
                (used / allowed).min(1.0)
            }
        };
        let d = part(self.duration_factor - 1.0, b.duration - 1.0);
        let y = part(
            self.extra_bytes as f64,
            b.bytes * self.original_bytes as f64,
        );
        let p = part(
            self.extra_packets as f64,
            b.packets * self.original_packets as f64,
        );
        (d + y + p) / 3.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_default_budget_and_partial_ones() {
        assert_eq!(
            Budget::parse("duration=2,bytes=0.2,packets=1").unwrap(),
            Budget::default()
        );
        let b = Budget::parse("bytes=0.5").unwrap();
        assert_eq!((b.duration, b.bytes, b.packets), (2.0, 0.5, 1.0));
        assert_eq!(Budget::parse("").unwrap(), Budget::default());
    }

    #[test]
    fn rejects_unknown_keys_and_bad_values() {
        for bad in [
            "speed=2",
            "duration=0.5",
            "bytes=-1",
            "packets=x",
            "duration",
        ] {
            match Budget::parse(bad) {
                Err(RobustError::Usage(m)) => assert!(m.contains("budget"), "{bad}: {m}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn cost_counts_span_bytes_and_packets() {
        let before = [(0, 100), (1_000, 100)];
        let after = [(0, 110), (1_500, 100), (2_000, 60)];
        let c = Cost::between(&before, &after);
        assert_eq!(c.duration_factor, 2.0);
        assert_eq!(c.extra_bytes, 70);
        assert_eq!(c.extra_packets, 1);
        assert!(!c.within(&Budget::default()), "70 bytes > 20 % of 200");
        let b = Budget::parse("bytes=0.5").unwrap();
        assert!(c.within(&b));
        assert!((c.share(&b) - (1.0 + 0.7 + 0.5) / 3.0).abs() < 1e-12);
        assert_eq!(Cost::between(&before, &before).share(&b), 0.0);
    }
}
