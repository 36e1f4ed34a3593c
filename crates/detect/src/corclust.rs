//! KitNET's feature mapper: an incremental correlation-distance matrix over the feature
//! mapping grace period, clustered by single linkage and split so no cluster exceeds the
//! largest autoencoder size (Kitsune-py `corClust`).
//!
//! The linkage and tree walk reproduce scipy's `linkage(method='single')` (the MST algorithm,
//! a stable sort by distance, then union-find relabelling), `to_tree` and
//! `ClusterNode.pre_order`, including how ties are broken, so the clusters and the order of
//! their members match Kitsune-py's exactly.

/// Incremental statistics for the correlation-distance matrix.
#[derive(Clone, Debug, PartialEq)]
pub struct CorClust {
    n: usize,
    c: Vec<f64>,
    c_r: Vec<f64>,
    c_rs: Vec<f64>,
    /// Row-major n × n partial correlation matrix.
    big_c: Vec<f64>,
    count: u64,
    c_rt: Vec<f64>,
}

impl CorClust {
    /// Statistics for `n` features.
    pub fn new(n: usize) -> Self {
        CorClust {
            n,
            c: vec![0.0; n],
            c_r: vec![0.0; n],
            c_rs: vec![0.0; n],
            big_c: vec![0.0; n * n],
            count: 0,
            c_rt: vec![0.0; n],
        }
    }

    /// Updates with one feature vector (`corClust.update`).
    pub fn update(&mut self, x: &[f64]) {
        self.count += 1;
        let n_f = self.count as f64;
        for i in 0..self.n {
            self.c[i] += x[i];
            let r = x[i] - self.c[i] / n_f;
            self.c_rt[i] = r;
            self.c_r[i] += r;
            self.c_rs[i] += r * r;
        }
        for i in 0..self.n {
            let ri = self.c_rt[i];
            let row = &mut self.big_c[i * self.n..(i + 1) * self.n];
            for (cell, &rj) in row.iter_mut().zip(&self.c_rt) {
                *cell += ri * rj;
            }
        }
    }

    /// The condensed (upper-triangle, row-major) correlation-distance matrix (`corrDist`).
    pub fn condensed_distances(&self) -> Vec<f64> {
        let n = self.n;
        let sq: Vec<f64> = self.c_rs.iter().map(|v| v.sqrt()).collect();
        let mut out = Vec::with_capacity(n * n.saturating_sub(1) / 2);
        for i in 0..n {
            for j in i + 1..n {
                let mut denom = sq[i] * sq[j];
                if denom == 0.0 {
                    denom = 1e-100; // Kitsune-py: protects against constant features
                }
                let mut d = 1.0 - self.big_c[i * n + j] / denom;
                if d < 0.0 {
                    d = 0.0;
                }
                out.push(d);
            }
        }
        out
    }

    /// Clusters the features so that no cluster has more than `max_size` members
    /// (`corClust.cluster`). Each cluster lists feature indices in dendrogram pre-order.
    pub fn cluster(&self, max_size: usize) -> Vec<Vec<usize>> {
        let max_size = max_size.clamp(1, self.n.max(1));
        if self.n == 0 {
            return Vec::new();
        }
        if self.n == 1 {
            return vec![vec![0]];
        }
        let z = single_linkage(&self.condensed_distances(), self.n);
        let tree = Tree::from_linkage(&z, self.n);
        let mut out = Vec::new();
        tree.break_clusters(tree.root(), max_size, &mut out);
        out
    }
}

/// scipy's `condensed_index`.
fn condensed_index(n: usize, i: usize, j: usize) -> usize {
    let (a, b) = if i < j { (i, j) } else { (j, i) };
    n * a - a * (a + 1) / 2 + (b - a - 1)
}

/// One row of a linkage matrix: the two clusters merged, their distance, the new size.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Merge {
    /// Left cluster id.
    pub left: usize,
    /// Right cluster id.
    pub right: usize,
    /// Distance at which they merge.
    pub dist: f64,
    /// Members of the merged cluster.
    pub size: usize,
}

/// scipy `_hierarchy.mst_single_linkage` followed by its stable sort and `label`.
pub fn single_linkage(dists: &[f64], n: usize) -> Vec<Merge> {
    let mut z: Vec<(usize, usize, f64)> = Vec::with_capacity(n - 1);
    let mut d = vec![f64::INFINITY; n];
    let mut merged = vec![false; n];
    let mut x = 0usize;
    for _ in 0..n - 1 {
        let mut current_min = f64::INFINITY;
        let mut y = 0usize;
        merged[x] = true;
        for i in 0..n {
            if merged[i] {
                continue;
            }
            let dist = dists[condensed_index(n, x, i)];
            if d[i] > dist {
                d[i] = dist;
            }
            if d[i] < current_min {
                y = i;
                current_min = d[i];
            }
        }
        z.push((x, y, current_min));
        x = y;
    }
    // np.argsort(kind='mergesort') is stable; NaN sorts last as in numpy.
    let mut order: Vec<usize> = (0..z.len()).collect();
    order.sort_by(|&a, &b| {
        let (da, db) = (z[a].2, z[b].2);
        match (da.is_nan(), db.is_nan()) {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            _ => da.partial_cmp(&db).unwrap_or(std::cmp::Ordering::Equal),
        }
    });
    // label(): union-find relabelling, smaller root first.
    let mut parent: Vec<usize> = (0..2 * n - 1).collect();
    let mut size: Vec<usize> = vec![1; 2 * n - 1];
    let mut next = n;
    let find = |parent: &mut Vec<usize>, mut x: usize| {
        let mut root = x;
        while parent[root] != root {
            root = parent[root];
        }
        while parent[x] != root {
            let p = parent[x];
            parent[x] = root;
            x = p;
        }
        root
    };
    let mut out = Vec::with_capacity(n - 1);
    for &k in &order {
        let (a, b, dist) = z[k];
        let ra = find(&mut parent, a);
        let rb = find(&mut parent, b);
        let (l, r) = if ra < rb { (ra, rb) } else { (rb, ra) };
        parent[l] = next;
        parent[r] = next;
        size[next] = size[l] + size[r];
        out.push(Merge {
            left: l,
            right: r,
            dist,
            size: size[next],
        });
        next += 1;
    }
    out
}

/// scipy's `to_tree` result: node `i < n` is leaf `i`; node `n + k` is merge `k`.
struct Tree {
    n: usize,
    children: Vec<(usize, usize)>,
    counts: Vec<usize>,
}

impl Tree {
    fn from_linkage(z: &[Merge], n: usize) -> Self {
        let mut counts = vec![1; n];
        let mut children = Vec::with_capacity(z.len());
        for m in z {
            children.push((m.left, m.right));
            counts.push(counts[m.left] + counts[m.right]);
        }
        Tree {
            n,
            children,
            counts,
        }
    }

    fn root(&self) -> usize {
        self.n + self.children.len() - 1
    }

    /// `ClusterNode.pre_order()`: leaf ids, left subtree first.
    fn pre_order(&self, node: usize, out: &mut Vec<usize>) {
        let mut stack = vec![node];
        while let Some(k) = stack.pop() {
            if k < self.n {
                out.push(k);
            } else {
                let (l, r) = self.children[k - self.n];
                stack.push(r);
                stack.push(l);
            }
        }
    }

    /// `corClust.__breakClust__`.
    fn break_clusters(&self, node: usize, max: usize, out: &mut Vec<Vec<usize>>) {
        if self.counts[node] <= max {
            let mut members = Vec::new();
            self.pre_order(node, &mut members);
            out.push(members);
            return;
        }
        let (l, r) = self.children[node - self.n];
        self.break_clusters(l, max, out);
        self.break_clusters(r, max, out);
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn linkage_matches_scipy_on_a_small_example() {
        // scipy.cluster.hierarchy.linkage(d, 'single') gives
        // [[0, 3, 0.5, 2], [1, 2, 1, 2], [5, 6, 2, 4], [4, 7, 2, 5]]: the MST visits
        // 0→3 (0.5), 3→1 (2), 1→2 (1), 2→4 (2); the stable sort keeps 3→1 before 2→4.
        let d = [2.0, 8.0, 0.5, 4.0, 1.0, 9.0, 9.0, 3.0, 8.0, 2.0];
        let z = single_linkage(&d, 5);
        let rows: Vec<_> = z
            .iter()
            .map(|m| (m.left, m.right, m.dist, m.size))
            .collect();
        assert_eq!(
            rows,
            vec![
                (0, 3, 0.5, 2),
                (1, 2, 1.0, 2),
                (5, 6, 2.0, 4),
                (4, 7, 2.0, 5)
            ]
        );
    }

    #[test]
    fn clusters_respect_the_size_limit() {
        let mut cc = CorClust::new(6);
        for t in 0..50 {
            let t = t as f64;
            cc.update(&[
                t,
                2.0 * t,
                (t * 0.7).sin(),
                (t * 0.7).sin() + 0.01 * t,
                5.0,
                t * t,
            ]);
        }
        let map = cc.cluster(2);
        let mut all: Vec<usize> = map.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, vec![0, 1, 2, 3, 4, 5]);
        assert!(map.iter().all(|c| !c.is_empty() && c.len() <= 2));
    }
}
