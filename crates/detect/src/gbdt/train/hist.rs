//! Histogram building: per feature and bin, the sums of gradient, hessian and row count of
//! a node's rows.

use super::{Sums, Trainer};

/// Nodes with at least this many rows build their histograms with two accumulators.
const PAIRED_ROWS: usize = 1024;

/// Rows per block of histogram building (even; about 100 KB of gradient sums).
const BLOCK_ROWS: usize = 4096;

/// Buffers reused by every histogram build.
#[derive(Default)]
pub(super) struct HistScratch {
    /// Gradient, hessian and count of the node's rows, in row order.
    gathered: Vec<Sums>,
    /// The second accumulator.
    spare: Vec<Sums>,
}

impl Trainer<'_> {
    /// Fills `hist` with the sums of `rows` per feature of `feats` and bin.
    pub(super) fn build_hist(
        &self,
        rows: &[u32],
        feats: &[usize],
        (g, h): (&[f64], &[f64]),
        hist: &mut Vec<Sums>,
        scratch: &mut HistScratch,
    ) {
        let total = self.offsets.last().copied().unwrap_or(0);
        hist.clear();
        hist.resize(total, Sums::default());
        let HistScratch { gathered, spare } = scratch;
        gathered.clear();
        gathered.extend(rows.iter().map(|&r| {
            let r = r as usize;
            Sums {
                g: g[r],
                h: h[r],
                n: self.count[r],
            }
        }));
        // Consecutive rows often share a bin: in large nodes, rows at odd positions go to a
        // second accumulator, which halves the chains of dependent additions.
        let paired = rows.len() >= PAIRED_ROWS;
        if paired {
            spare.clear();
            spare.resize(total, Sums::default());
        }
        // Rows go in blocks that stay in cache while every feature reads them. Blocks have an
        // even length, so the order of additions is the same as without blocks.
        for (rows, sums) in rows.chunks(BLOCK_ROWS).zip(gathered.chunks(BLOCK_ROWS)) {
            for &f in feats {
                let column = &self.codes[f * self.unique..][..self.unique];
                let range = self.offsets[f]..self.offsets[f + 1];
                let bins = &mut hist[range.clone()];
                if !paired {
                    for (&r, s) in rows.iter().zip(sums) {
                        bins[usize::from(column[r as usize])].add(s);
                    }
                    continue;
                }
                let second = &mut spare[range];
                let pairs = rows.chunks_exact(2).zip(sums.chunks_exact(2));
                for (&[a, b], &[sa, sb]) in
                    pairs.filter_map(|(r, s)| Some((r.first_chunk()?, s.first_chunk()?)))
                {
                    bins[usize::from(column[a as usize])].add(&sa);
                    second[usize::from(column[b as usize])].add(&sb);
                }
                if let (Some(&r), Some(s), 1) = (rows.last(), sums.last(), rows.len() % 2) {
                    bins[usize::from(column[r as usize])].add(s);
                }
            }
        }
        if paired {
            for (b, s) in hist.iter_mut().zip(spare.iter()) {
                b.add(s);
            }
        }
    }
}
