//! The live flow features: the feature columns of `flows.parquet` that a flow has at every
//! moment of its life, not only once it has ended.
//!
//! Zeek's view of a flow (`conn_state`, `history`, payload and IP byte counters, the
//! application protocol) is known only to the flow table's shards and mostly only at the
//! end, so the supervised flow detector uses the responder port, the IP protocol, the
//! statistical columns of the three directions, the application counts, the DNS error
//! ratio and the host features fixed at the flow's first packet ([`super::host`]): [`names`],
//! computed by [`features`] from the same code that fills the Parquet rows of `custos-dataset`.

use super::app::{AppCounts, APP_COLUMNS};
use super::host::{HostFeatures, HOST_COLUMNS};
use super::stats::{DirStats, FlowStats, TCP_FLAGS};

/// Name of the live feature set (a model records it with [`names`]).
pub const LIVE_FEATURES: &str = "custos-flow-live-features/4";

/// The direction prefixes of the statistical columns (nfstream's names): both directions,
/// originator → responder, responder → originator.
pub const DIRECTIONS: [&str; 3] = ["bidirectional", "src2dst", "dst2src"];

/// The statistical values of one direction before the flag counts, by name suffix.
pub const STATS: [&str; 11] = [
    "duration_ms",
    "packets",
    "bytes",
    "min_ps",
    "mean_ps",
    "stddev_ps",
    "max_ps",
    "min_piat_ms",
    "mean_piat_ms",
    "stddev_piat_ms",
    "max_piat_ms",
];

/// A value of a direction's statistics: a count or a measure.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Num {
    /// A count (packets, bytes, frame sizes).
    U64(u64),
    /// A measure (milliseconds, means, deviations).
    F64(f64),
}

impl Num {
    /// As `f64`.
    pub fn as_f64(self) -> f64 {
        match self {
            Num::U64(x) => x as f64,
            Num::F64(x) => x,
        }
    }
}

/// Values of one direction in the order of [`direction_names`]: [`STATS`] then one count
/// per flag of [`TCP_FLAGS`].
pub fn direction_values(d: &DirStats) -> [Num; 19] {
    let ms = |ns: f64| Num::F64(ns / 1e6);
    let f = d.flags;
    [
        ms(d.duration_ns() as f64),
        Num::U64(d.packets()),
        Num::U64(d.bytes),
        Num::U64(d.sizes.min() as u64),
        Num::F64(d.sizes.mean()),
        Num::F64(d.sizes.std()),
        Num::U64(d.sizes.max() as u64),
        ms(d.iat.min()),
        ms(d.iat.mean()),
        ms(d.iat.std()),
        ms(d.iat.max()),
        Num::U64(f[0]),
        Num::U64(f[1]),
        Num::U64(f[2]),
        Num::U64(f[3]),
        Num::U64(f[4]),
        Num::U64(f[5]),
        Num::U64(f[6]),
        Num::U64(f[7]),
    ]
}

/// The column names of direction prefix `d`, in the order of [`direction_values`].
pub fn direction_names(d: &str) -> Vec<String> {
    STATS
        .iter()
        .map(|s| format!("{d}_{s}"))
        .chain(TCP_FLAGS.iter().map(|(f, _)| format!("{d}_{f}_packets")))
        .collect()
}

/// The live feature names, in order: columns of `flows.parquet` (docs/dataset.md).
pub fn names() -> Vec<String> {
    let mut n = vec!["resp_port".to_string(), "proto".to_string()];
    for d in DIRECTIONS {
        n.extend(direction_names(d));
    }
    n.extend(APP_COLUMNS.iter().map(|(name, _)| name.to_string()));
    n.push("dns_error_ratio".into());
    n.extend(HOST_COLUMNS.iter().map(|(name, _)| name.to_string()));
    n
}

/// Number of live features.
pub const LIVE_FEATURE_COUNT: usize = 2 + 3 * 19 + APP_COLUMNS.len() + 1 + HOST_COLUMNS.len();

/// Appends the live features of a flow — responder port, IP protocol, statistics with side
/// 0 the originator, application counts, host features — to `out`, in the order of [`names`].
pub fn features(
    resp_port: u16,
    proto: u8,
    stats: &FlowStats,
    app: &AppCounts,
    host: &HostFeatures,
    out: &mut Vec<f64>,
) {
    // Written in place (no intermediate `Num`s, one append): the values of
    // `direction_values` as `Num::as_f64` gives them.
    let mut row = [0.0; LIVE_FEATURE_COUNT];
    let (head, rest) = row.split_at_mut(2);
    head.copy_from_slice(&[f64::from(resp_port), f64::from(proto)]);
    let (dirs, rest) = rest.split_at_mut(3 * 19);
    let [o, r] = &stats.dirs;
    for (chunk, d) in dirs.chunks_exact_mut(19).zip([&stats.both(), o, r]) {
        direction_into(d, chunk);
    }
    let (apps, rest) = rest.split_at_mut(APP_COLUMNS.len());
    for (x, &n) in apps.iter_mut().zip(&app.0) {
        *x = n as f64;
    }
    let (dns, hosts) = rest.split_at_mut(1);
    dns.fill(app.dns_error_ratio());
    hosts.copy_from_slice(host.values());
    out.extend_from_slice(&row);
}

/// Writes [`direction_values`] of `d`, as `f64`, to `out` (19 values).
fn direction_into(d: &DirStats, out: &mut [f64]) {
    let f = &d.flags;
    let values = [
        d.duration_ns() as f64 / 1e6,
        d.packets() as f64,
        d.bytes as f64,
        d.sizes.min() as u64 as f64,
        d.sizes.mean(),
        d.sizes.std(),
        d.sizes.max() as u64 as f64,
        d.iat.min() / 1e6,
        d.iat.mean() / 1e6,
        d.iat.std() / 1e6,
        d.iat.max() / 1e6,
        f[0] as f64,
        f[1] as f64,
        f[2] as f64,
        f[3] as f64,
        f[4] as f64,
        f[5] as f64,
        f[6] as f64,
        f[7] as f64,
    ];
    out.copy_from_slice(&values);
}

#[cfg(test)]
mod tests {
    use super::super::stats::PacketObs;
    use super::*;

    #[test]
    fn names_are_distinct_and_counted() {
        let n = names();
        assert_eq!(n.len(), LIVE_FEATURE_COUNT);
        let mut sorted = n.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), n.len());
        // The host features come last (the flow detector's first-packet memo relies on it).
        let host: Vec<&str> = HOST_COLUMNS.iter().map(|(name, _)| *name).collect();
        assert_eq!(n[LIVE_FEATURE_COUNT - HOST_COLUMNS.len()..], host);
    }

    #[test]
    fn features_follow_names() {
        let mut s = FlowStats::default();
        s.push(
            0,
            &PacketObs {
                ts: 0,
                len: 74,
                flags: 0x02,
            },
        );
        s.push(
            1,
            &PacketObs {
                ts: 2_000_000,
                len: 60,
                flags: 0x14,
            },
        );
        let mut out = Vec::new();
        let host = HostFeatures([3.0, 2.0, 1.5, 0.5, 4.0]);
        features(1883, 6, &s, &AppCounts::default(), &host, &mut out);
        let n = names();
        assert_eq!(out.len(), n.len());
        let at = |name: &str| out[n.iter().position(|x| x == name).unwrap()];
        assert_eq!((at("resp_port"), at("proto")), (1883.0, 6.0));
        assert_eq!(at("bidirectional_packets"), 2.0);
        assert_eq!(at("bidirectional_duration_ms"), 2.0);
        assert_eq!(at("src2dst_syn_packets"), 1.0);
        assert_eq!(at("dst2src_rst_packets"), 1.0);
        assert_eq!(at("dst2src_max_ps"), 60.0);
        assert_eq!(at("orig_same_target_unaccepted_10s"), 1.5);
        assert_eq!(at("orig_logins_refused_10s"), 0.5);
        assert_eq!(at("resp_flows_10s"), 4.0);
        // The same values, bit for bit, as `direction_values` gives them.
        let [o, r] = &s.dirs;
        for (i, d) in [s.both(), *o, *r].iter().enumerate() {
            let want: Vec<u64> = direction_values(d)
                .iter()
                .map(|v| v.as_f64().to_bits())
                .collect();
            let got: Vec<u64> = out[2 + 19 * i..2 + 19 * (i + 1)]
                .iter()
                .map(|v| v.to_bits())
                .collect();
            assert_eq!(got, want);
        }
    }
}
