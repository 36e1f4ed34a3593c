//! Kitsune's packet features (Mirsky et al., NDSS 2018): AfterImage damped incremental statistics;
//! and per-flow features ([`flow`]): statistics, application counts and live feature vectors.
//!
//! For each packet, [`FeatureExtractor::extract`] updates damped statistics of the streams the
//! packet belongs to and writes their current values, for five decay rates λ ∈ {5, 3, 1, 0.1,
//! 0.01} (weights decay by 2^(−λ·Δt), Δt in seconds):
//!
//! - **MI** (source MAC–IP): weight, mean and variance of the frame sizes;
//! - **H** (source host, only with [`FeatureConfig::features_115`]): the same per source IP;
//! - **HH** (host pair, source → destination IP): 1D stats of the source plus radius,
//!   magnitude, covariance and correlation with the destination's stream;
//! - **HH_jit** (host-pair jitter): weight, mean and variance of inter-arrival times;
//! - **HpHp** (socket pair, IP + port): as HH; for ARP the MAC addresses.
//!
//! Two modes ([`Mode`]): [`Mode::Compat`] reproduces ymirsky/Kitsune-py (commit 7c8ea51) number
//! for number, its quirks included; [`Mode::Default`] fixes them and costs O(1) per packet with
//! bounded memory. `docs/kitsune-compat.md` lists every difference.
#![deny(missing_docs)]
#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod compat;
mod damped;
pub mod exp;
pub mod flow;

use custos_decode::Decoded;

/// The decay rates λ, in the reference's order.
pub const LAMBDAS: [f64; 5] = [5.0, 3.0, 1.0, 0.1, 0.01];

/// Number of features Kitsune-py emits (its source-host block is commented out).
pub const KITSUNE_FEATURES: usize = 100;
/// Number of features of the paper and the N-BaIoT data set.
pub const NBAIOT_FEATURES: usize = 115;

/// Which implementation of the statistics to run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    /// Kitsune-py exactly: string keys, quirks, cost growing with peers; allocates.
    Compat,
    /// Typed keys, ICMPv6 as ICMP, O(1) per packet, bounded memory, no steady-state allocation.
    #[default]
    Default,
}

/// Settings of a [`FeatureExtractor`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FeatureConfig {
    /// Implementation.
    pub mode: Mode,
    /// 115 features (paper / N-BaIoT, with the source-host block) instead of Kitsune-py's 100.
    pub features_115: bool,
    /// Default mode: most streams tracked per table (MAC–IP, host, jitter, socket); each table
    /// holds at most this many entries. Ignored in compat mode (unbounded, as the reference).
    pub max_streams: usize,
    /// Default mode: most stream pairs (host pairs, socket pairs) tracked per table.
    pub max_pairs: usize,
    /// Default mode: a stream or pair whose weight at the slowest λ has decayed below this is
    /// stale and may be evicted (Kitsune-py's `cleanOutOldRecords` cutoff idea).
    pub stale_weight: f64,
}

impl Default for FeatureConfig {
    fn default() -> Self {
        FeatureConfig {
            mode: Mode::Default,
            features_115: false,
            max_streams: 1 << 18,
            max_pairs: 1 << 18,
            stale_weight: 1e-6,
        }
    }
}

impl FeatureConfig {
    /// Kitsune-py's configuration: compat mode, 100 features.
    pub fn kitsune_py() -> Self {
        FeatureConfig {
            mode: Mode::Compat,
            ..FeatureConfig::default()
        }
    }
}

#[derive(Debug)]
enum Engine {
    Compat(Box<compat::NetStat>),
    Default(Box<damped::Tables>),
}

/// Computes Kitsune's feature vector of each packet, in capture order.
#[derive(Debug)]
pub struct FeatureExtractor {
    cfg: FeatureConfig,
    engine: Engine,
}

impl FeatureExtractor {
    /// An extractor with no history.
    pub fn new(cfg: FeatureConfig) -> Self {
        let engine = match cfg.mode {
            Mode::Compat => Engine::Compat(Box::default()),
            Mode::Default => Engine::Default(Box::new(damped::Tables::new(&cfg))),
        };
        FeatureExtractor { cfg, engine }
    }

    /// The settings.
    pub fn config(&self) -> &FeatureConfig {
        &self.cfg
    }

    /// Length of every feature vector: 100, or 115 with [`FeatureConfig::features_115`].
    pub fn len(&self) -> usize {
        if self.cfg.features_115 {
            NBAIOT_FEATURES
        } else {
            KITSUNE_FEATURES
        }
    }

    /// Always false: vectors are never empty (for clippy's `len_without_is_empty`).
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Updates the statistics with one packet and writes its features into `out`.
    ///
    /// `ts_ns` is the capture time (ns since the epoch), `frame_len` the original frame length
    /// (Kitsune's `frame.len`), `decoded` the decoder's summary of the frame. Packets must come
    /// in capture order. Every packet yields a vector, as in Kitsune-py (frames that decode to
    /// nothing use their MAC addresses, or empty strings, as addresses); the return value is
    /// false only when `out.len() != self.len()`, and then nothing is updated.
    pub fn extract(
        &mut self,
        ts_ns: i64,
        frame_len: u32,
        decoded: &Decoded<'_>,
        out: &mut [f64],
    ) -> bool {
        if out.len() != self.len() {
            return false;
        }
        match &mut self.engine {
            Engine::Compat(n) => n.update(ts_ns, frame_len, decoded, out),
            Engine::Default(t) => t.update(ts_ns, frame_len, decoded, out),
        }
        true
    }

    /// Default mode: table entries evicted so far to respect the limits (0 in compat mode).
    pub fn evicted(&self) -> u64 {
        match &self.engine {
            Engine::Compat(_) => 0,
            Engine::Default(t) => t.evicted(),
        }
    }

    /// Feature names in vector order, N-BaIoT style (`MI_dir_L5_weight`, `HH_L0.1_pcc`, …).
    ///
    /// As in Kitsune-py and N-BaIoT, the third statistic of the HH and HpHp blocks is named
    /// `std` but holds the variance (see `docs/kitsune-compat.md`). The 100-feature vector keeps
    /// Kitsune-py's `radius, magnitude` order; the 115-feature vector uses N-BaIoT's
    /// `magnitude, radius`.
    pub fn names(&self) -> Vec<String> {
        let mut v = Vec::with_capacity(self.len());
        let lambda = |l: f64| {
            if l >= 1.0 {
                format!("L{}", l as u32)
            } else {
                format!("L{l}")
            }
        };
        let one_d = |v: &mut Vec<String>, block: &str, third: &str| {
            for l in LAMBDAS {
                for s in ["weight", "mean", third] {
                    v.push(format!("{block}_{}_{s}", lambda(l)));
                }
            }
        };
        let two_d = |v: &mut Vec<String>, block: &str, nbaiot: bool| {
            let order: [&str; 7] = if nbaiot {
                [
                    "weight",
                    "mean",
                    "std",
                    "magnitude",
                    "radius",
                    "covariance",
                    "pcc",
                ]
            } else {
                [
                    "weight",
                    "mean",
                    "std",
                    "radius",
                    "magnitude",
                    "covariance",
                    "pcc",
                ]
            };
            for l in LAMBDAS {
                for s in order {
                    v.push(format!("{block}_{}_{s}", lambda(l)));
                }
            }
        };
        let nb = self.cfg.features_115;
        one_d(&mut v, "MI_dir", "variance");
        if nb {
            one_d(&mut v, "H", "variance");
        }
        two_d(&mut v, "HH", nb);
        one_d(&mut v, "HH_jit", "variance");
        two_d(&mut v, "HpHp", nb);
        v
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
