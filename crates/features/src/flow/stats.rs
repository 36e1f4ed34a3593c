//! Streaming per-flow statistics: packet sizes, inter-arrival times and TCP flag counts per
//! direction, as nfstream's statistical features define them.
//!
//! Sizes are frame lengths on the wire (the capture's original length, what conn.log's
//! neighbour `flows.jsonl` counts as bytes); standard deviations are sample standard
//! deviations (n − 1, as nfstream), 0 below two values; inter-arrival times are the gaps
//! between consecutive packets of the direction (or of the flow), so a direction with *n*
//! packets has *n* − 1 of them. Values are accumulated with Welford's update, in packet
//! order, so they are the same bytes on every run.

/// TCP flags in the order of the columns: SYN, CWR, ECE, URG, ACK, PSH, RST, FIN (nfstream's
/// order), with their bit in the flags byte.
pub const TCP_FLAGS: [(&str, u8); 8] = [
    ("syn", 0x02),
    ("cwr", 0x80),
    ("ece", 0x40),
    ("urg", 0x20),
    ("ack", 0x10),
    ("psh", 0x08),
    ("rst", 0x04),
    ("fin", 0x01),
];

/// Count, mean, sample standard deviation, minimum and maximum of a stream of values.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Running {
    n: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
}

impl Running {
    /// Adds a value.
    pub fn push(&mut self, x: f64) {
        self.n += 1;
        if self.n == 1 {
            (self.min, self.max) = (x, x);
        } else {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// The statistics of both streams together (Chan et al.'s pairwise update).
    pub fn merged(&self, other: &Running) -> Running {
        match (self.n, other.n) {
            (0, _) => *other,
            (_, 0) => *self,
            (a, b) => {
                let n = a + b;
                let (af, bf, nf) = (a as f64, b as f64, n as f64);
                let delta = other.mean - self.mean;
                Running {
                    n,
                    mean: self.mean + delta * bf / nf,
                    m2: self.m2 + other.m2 + delta * delta * af * bf / nf,
                    min: self.min.min(other.min),
                    max: self.max.max(other.max),
                }
            }
        }
    }

    /// Number of values.
    pub fn count(&self) -> u64 {
        self.n
    }

    /// Smallest value (0 when none).
    pub fn min(&self) -> f64 {
        self.min
    }

    /// Mean (0 when none).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// Largest value (0 when none).
    pub fn max(&self) -> f64 {
        self.max
    }

    /// Sample standard deviation (0 below two values).
    pub fn std(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.m2 / (self.n - 1) as f64).sqrt()
        }
    }
}

/// One packet of a flow, as the statistics see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketObs {
    /// Packet time, ns.
    pub ts: i64,
    /// Frame length on the wire.
    pub len: u32,
    /// TCP flags byte (0 for other protocols).
    pub flags: u8,
}

/// The statistics of one direction of a flow (or of both).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct DirStats {
    /// Sum of frame lengths.
    pub bytes: u64,
    /// Frame lengths.
    pub sizes: Running,
    /// Inter-arrival times, ns.
    pub iat: Running,
    /// Time of the first packet, ns.
    pub first_ts: i64,
    /// Time of the last packet, ns.
    pub last_ts: i64,
    /// Packets with each flag of [`TCP_FLAGS`] set.
    pub flags: [u64; 8],
}

impl DirStats {
    /// Adds a packet.
    pub fn push(&mut self, p: &PacketObs) {
        if self.sizes.count() == 0 {
            self.first_ts = p.ts;
        } else {
            self.iat.push(p.ts.saturating_sub(self.last_ts) as f64);
        }
        self.last_ts = p.ts;
        self.bytes = self.bytes.saturating_add(u64::from(p.len));
        self.sizes.push(f64::from(p.len));
        if p.flags != 0 {
            for (count, (_, bit)) in self.flags.iter_mut().zip(TCP_FLAGS) {
                *count += u64::from(p.flags & bit != 0);
            }
        }
    }

    /// Packets.
    pub fn packets(&self) -> u64 {
        self.sizes.count()
    }

    /// Time from the first to the last packet, ns (0 when none).
    pub fn duration_ns(&self) -> i64 {
        self.last_ts.saturating_sub(self.first_ts)
    }
}

/// The statistics of a flow: each direction, plus the inter-arrival times of the flow as a
/// whole (sizes and counts of both directions are merged when read).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FlowStats {
    /// Per direction, indexed by side (0 and 1; see [`FlowStats::push`]).
    pub dirs: [DirStats; 2],
    /// Inter-arrival times of the flow's packets, either direction, ns.
    pub iat: Running,
    /// Time of the flow's last packet, ns.
    pub last_ts: i64,
}

impl FlowStats {
    /// Adds a packet sent from side `side` (0 or 1).
    pub fn push(&mut self, side: usize, p: &PacketObs) {
        if self.packets() > 0 {
            self.iat.push(p.ts.saturating_sub(self.last_ts) as f64);
        }
        self.last_ts = p.ts;
        if let Some(d) = self.dirs.get_mut(side) {
            d.push(p);
        }
    }

    /// Packets, both directions.
    pub fn packets(&self) -> u64 {
        self.dirs.iter().map(DirStats::packets).sum()
    }

    /// The same statistics with the sides swapped.
    pub fn swapped(mut self) -> FlowStats {
        self.dirs.swap(0, 1);
        self
    }

    /// Both directions as one: counts and flags summed, sizes merged, the flow's own
    /// inter-arrival times, from the first packet of either side to the last.
    pub fn both(&self) -> DirStats {
        let [a, b] = &self.dirs;
        let mut flags = a.flags;
        for (f, g) in flags.iter_mut().zip(b.flags) {
            *f += g;
        }
        let first_ts = match (a.packets(), b.packets()) {
            (0, _) => b.first_ts,
            (_, 0) => a.first_ts,
            _ => a.first_ts.min(b.first_ts),
        };
        DirStats {
            bytes: a.bytes.saturating_add(b.bytes),
            sizes: a.sizes.merged(&b.sizes),
            iat: self.iat,
            first_ts,
            last_ts: self.last_ts,
            flags,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b.abs().max(1.0)
    }

    fn obs(ts: i64, len: u32, flags: u8) -> PacketObs {
        PacketObs { ts, len, flags }
    }

    #[test]
    fn running_gives_sample_std_and_extremes() {
        let mut r = Running::default();
        assert_eq!((r.min(), r.mean(), r.max(), r.std()), (0.0, 0.0, 0.0, 0.0));
        for x in [60.0, 1514.0, 60.0, 100.0] {
            r.push(x);
        }
        assert_eq!((r.count(), r.min(), r.max()), (4, 60.0, 1514.0));
        assert!(close(r.mean(), 433.5));
        // numpy.std([60, 1514, 60, 100], ddof=1)
        assert!(close(r.std(), 720.580_090_390_143), "{}", r.std());
    }

    #[test]
    fn merged_equals_one_stream() {
        let (mut a, mut b, mut all) = (Running::default(), Running::default(), Running::default());
        for (i, x) in [3.0, 9.0, 1.0, 40.0, 2.5, 7.0].into_iter().enumerate() {
            all.push(x);
            if i % 2 == 0 {
                a.push(x)
            } else {
                b.push(x)
            }
        }
        let m = a.merged(&b);
        assert_eq!((m.count(), m.min(), m.max()), (6, 1.0, 40.0));
        assert!(close(m.mean(), all.mean()) && close(m.std(), all.std()));
        assert_eq!(Running::default().merged(&a), a);
    }

    #[test]
    fn flow_stats_per_direction_and_both() {
        let mut f = FlowStats::default();
        f.push(0, &obs(1_000, 74, 0x02));
        f.push(1, &obs(3_000, 74, 0x12));
        f.push(0, &obs(4_000, 66, 0x10));
        f.push(0, &obs(10_000, 200, 0x18));
        let [o, r] = f.dirs;
        assert_eq!(
            (o.packets(), o.bytes, r.packets(), r.bytes),
            (3, 340, 1, 74)
        );
        assert_eq!(
            (o.iat.count(), o.iat.min(), o.iat.max()),
            (2, 3_000.0, 6_000.0)
        );
        assert_eq!(o.duration_ns(), 9_000);
        assert_eq!(r.iat.count(), 0);
        // syn, cwr, ece, urg, ack, psh, rst, fin
        assert_eq!(o.flags, [1, 0, 0, 0, 2, 1, 0, 0]);
        let both = f.both();
        assert_eq!(
            (both.packets(), both.bytes, both.duration_ns()),
            (4, 414, 9_000)
        );
        assert_eq!(
            (both.iat.count(), both.iat.min(), both.iat.max()),
            (3, 1_000.0, 6_000.0)
        );
        assert_eq!(both.flags, [2, 0, 0, 0, 3, 1, 0, 0]);
        assert_eq!(f.swapped().dirs[0], r);
    }
}
