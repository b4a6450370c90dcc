//! Decomposable scores of a DAG given data: the Gaussian BIC local score of a node and its
//! parent set, from the covariance matrix, with a cache of computed local scores.

use nalgebra::DMatrix;
use rustc_hash::FxHashMap;

use super::xges::{NodeSet, MAX_NODES};

/// The Gaussian BIC of a linear-Gaussian model, node by node (higher is better):
///
/// score(j, Pa) = −(n/2)(1 + log σ̂²) − λ (|Pa| + 1) log n,
///
/// where σ̂² is the maximum-likelihood residual variance of j regressed on Pa (covariance with
/// divisor n). With λ = 1/2 this is the log-likelihood minus the usual BIC penalty
/// (k/2) log n. It is causal-learn's `local_score_BIC_from_cov` (0.1.4.x) exactly, whose
/// `lambda_value` is this λ (default 0.5 there too).
#[derive(Debug, Clone)]
pub struct GaussianBic {
    cov: DMatrix<f64>,
    n_rows: usize,
    lambda: f64,
    /// Local scores keyed by node and parent set (XGES's bitset), hashed with FxHash: with a
    /// `Vec<usize>` key and SipHash, hashing, comparing and allocating keys took about a third
    /// of GES's time. Used for 65 to [`MAX_NODES`] nodes (`narrow_cache` below 65); beyond, the
    /// key is the sorted parent list, then the node (`wide_cache`).
    cache: FxHashMap<(usize, NodeSet), f64>,
    /// Up to 64 nodes: one map per node keyed by the parents' 64-bit mask. Its 16-byte entries
    /// and one-word hash make a look-up about twice as fast as `cache`'s, and GES makes two
    /// look-ups per operator it scores (most of its time on 10–20 variables).
    narrow_cache: Vec<FxHashMap<u64, f64>>,
    wide_cache: FxHashMap<Vec<usize>, f64>,
    /// Scratch: the parents of a look-up, sorted and without repeats (and the node, when wide).
    members: Vec<usize>,
    /// Scratch for [`cholesky_explained`]: the factor, then the solved right-hand side.
    scratch: Vec<f64>,
}

impl GaussianBic {
    /// The score of centred data `x` (n × d; columns are centred here).
    pub fn new(x: &DMatrix<f64>, lambda: f64) -> GaussianBic {
        GaussianBic::from_covariance(covariance(x), x.nrows(), lambda)
    }

    /// From a covariance matrix with divisor n (numpy's `np.cov(X.T, ddof=0)`).
    pub fn from_covariance(cov: DMatrix<f64>, n_rows: usize, lambda: f64) -> GaussianBic {
        let d = cov.nrows();
        GaussianBic {
            cov,
            n_rows,
            lambda,
            cache: FxHashMap::default(),
            narrow_cache: vec![FxHashMap::default(); if d <= 64 { d } else { 0 }],
            wide_cache: FxHashMap::default(),
            members: Vec::new(),
            scratch: Vec::new(),
        }
    }

    pub fn n_nodes(&self) -> usize {
        self.cov.nrows()
    }

    /// The residual variance of `node` given `parents` (floored at machine epsilon, as
    /// causal-learn does, so a deterministic relation scores finitely).
    pub fn residual_variance(&mut self, node: usize, parents: &[usize]) -> f64 {
        let s = &self.cov;
        let mut sigma = s[(node, node)];
        if !parents.is_empty() {
            sigma -= match cholesky_explained(s, node, parents, &mut self.scratch) {
                Some(explained) => explained,
                None => pinv_explained(s, node, parents),
            };
        }
        if sigma <= 0.0 || sigma.is_nan() {
            f64::EPSILON
        } else {
            sigma
        }
    }

    /// The local score of `node` with the given parents (any order), uncached.
    pub fn local_score_uncached(&mut self, node: usize, parents: &[usize]) -> f64 {
        let n = self.n_rows as f64;
        let sigma = self.residual_variance(node, parents);
        -0.5 * n * (1.0 + sigma.ln()) - self.lambda * (parents.len() + 1) as f64 * n.ln()
    }

    /// The local score, cached by (node, parent set); `parents` may be in any order and repeat.
    /// A miss regresses on the parents in increasing order.
    pub fn local_score(&mut self, node: usize, parents: &[usize]) -> f64 {
        if !self.narrow_cache.is_empty() {
            let set = parents.iter().fold(0u64, |m, &p| m | 1 << p);
            if let Some(&v) = self.narrow_cache[node].get(&set) {
                return v;
            }
            let mut members = std::mem::take(&mut self.members);
            members.clear();
            members.extend((0..64).filter(|&p| set >> p & 1 == 1));
            let v = self.local_score_uncached(node, &members);
            self.members = members;
            self.narrow_cache[node].insert(set, v);
            return v;
        }
        if self.n_nodes() <= MAX_NODES {
            let mut set = NodeSet::default();
            parents.iter().for_each(|&p| set.insert(p));
            if let Some(&v) = self.cache.get(&(node, set)) {
                return v;
            }
            let mut members = std::mem::take(&mut self.members);
            members.clear();
            members.extend(set.iter());
            let v = self.local_score_uncached(node, &members);
            self.members = members;
            self.cache.insert((node, set), v);
            return v;
        }
        // Key: the sorted parents, then the node.
        self.members.clear();
        self.members.extend_from_slice(parents);
        self.members.sort_unstable();
        self.members.dedup();
        self.members.push(node);
        if let Some(&v) = self.wide_cache.get(&self.members) {
            return v;
        }
        let members = std::mem::take(&mut self.members);
        let v = self.local_score_uncached(node, &members[..members.len() - 1]);
        self.wide_cache.insert(members.clone(), v);
        self.members = members;
        v
    }

    /// Number of cached local scores (for tests and progress labels).
    pub fn cache_len(&self) -> usize {
        self.cache.len()
            + self.narrow_cache.iter().map(|c| c.len()).sum::<usize>()
            + self.wide_cache.len()
    }
}

/// s_jPᵀ Σ_PP⁻¹ s_Pj, the variance of `node` explained by `parents`, as ‖L⁻¹ s_Pj‖² with L the
/// Cholesky factor of Σ_PP, in `scratch` (no allocation once it has grown: local scores are
/// GES's inner loop, where nalgebra's allocating `cholesky().solve()` took a third of the
/// time; XGES's score uses it too). None when Σ_PP is not numerically positive definite.
pub(crate) fn cholesky_explained(
    s: &DMatrix<f64>,
    node: usize,
    parents: &[usize],
    scratch: &mut Vec<f64>,
) -> Option<f64> {
    let k = parents.len();
    scratch.clear();
    scratch.resize(k * k + k, 0.0);
    let (l, z) = scratch.split_at_mut(k * k);
    for i in 0..k {
        for j in 0..=i {
            let mut v = s[(parents[i], parents[j])];
            for m in 0..j {
                v -= l[i * k + m] * l[j * k + m];
            }
            if i == j {
                if v.is_nan() || v <= 0.0 {
                    return None;
                }
                l[i * k + i] = v.sqrt();
            } else {
                l[i * k + j] = v / l[j * k + j];
            }
        }
    }
    let mut explained = 0.0;
    for i in 0..k {
        let mut v = s[(parents[i], node)];
        for m in 0..i {
            v -= l[i * k + m] * z[m];
        }
        z[i] = v / l[i * k + i];
        explained += z[i] * z[i];
    }
    Some(explained)
}

/// [`cholesky_explained`] for a singular Σ_PP: causal-learn falls back to the pseudo-inverse.
fn pinv_explained(s: &DMatrix<f64>, node: usize, parents: &[usize]) -> f64 {
    let k = parents.len();
    let spp = DMatrix::from_fn(k, k, |a, b| s[(parents[a], parents[b])]);
    let spj = DMatrix::from_fn(k, 1, |a, _| s[(parents[a], node)]);
    match spp.svd(true, true).solve(&spj, 1e-12) {
        Ok(beta) => (spj.transpose() * beta)[(0, 0)],
        Err(_) => 0.0,
    }
}

/// The covariance of the columns of `x` with divisor n.
pub fn covariance(x: &DMatrix<f64>) -> DMatrix<f64> {
    let n = x.nrows().max(1);
    let mut c = x.clone();
    for mut column in c.column_iter_mut() {
        let mean = column.mean();
        column.add_scalar_mut(-mean);
    }
    // Each entry once, as a 4-lane dot product of two contiguous columns: half of nalgebra's
    // `tr_mul`, which also computes the lower triangle.
    let (rows, d) = c.shape();
    let cols = c.as_slice();
    let column = |j: usize| &cols[j * rows..(j + 1) * rows];
    let mut cov = DMatrix::zeros(d, d);
    for i in 0..d {
        for j in i..d {
            let v = crate::linalg::dot_lanes(column(i), column(j)) / n as f64;
            cov[(i, j)] = v;
            cov[(j, i)] = v;
        }
    }
    cov
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn residual_variance_matches_least_squares() {
        // y = 2 x + e with a known design: the residual variance is the mean squared residual.
        let xs = [-2.0, -1.0, 0.0, 1.0, 2.0];
        let es = [0.1, -0.2, 0.0, 0.2, -0.1];
        let data: Vec<f64> = xs
            .iter()
            .zip(es)
            .flat_map(|(&x, e)| [x, 2.0 * x + e])
            .collect();
        let x = DMatrix::from_row_slice(5, 2, &data);
        let mut bic = GaussianBic::new(&x, 0.5);
        // es is orthogonal to xs and centred, so the regression recovers slope 2 exactly.
        let expect = es.iter().map(|e| e * e).sum::<f64>() / 5.0;
        assert!((bic.residual_variance(1, &[0]) - expect).abs() < 1e-12);
        let n = 5f64;
        let s = bic.local_score(1, &[0]);
        let want = -0.5 * n * (1.0 + expect.ln()) - 0.5 * 2.0 * n.ln();
        assert!((s - want).abs() < 1e-10);
        assert_eq!(bic.local_score(1, &[0, 0]), s);
        assert_eq!(bic.cache_len(), 1);
    }

    #[test]
    fn deterministic_relation_stays_finite() {
        let x = DMatrix::from_row_slice(3, 2, &[1.0, 2.0, 2.0, 4.0, 3.0, 6.0]);
        let mut bic = GaussianBic::new(&x, 0.5);
        assert_eq!(bic.residual_variance(1, &[0]), f64::EPSILON);
        let dup = DMatrix::from_row_slice(3, 3, &[1.0, 1.0, 0.5, 2.0, 2.0, 0.1, 3.0, 3.0, 0.7]);
        let mut bic = GaussianBic::new(&dup, 0.5);
        assert!(bic.local_score_uncached(2, &[0, 1]).is_finite());
    }

    #[test]
    fn each_key_width_caches_the_same_scores() {
        // 64 nodes take the 64-bit keys, 65 the 256-bit sets, 300 the sorted lists.
        for d in [64, 65, 300] {
            let cov = DMatrix::from_fn(d, d, |i, j| if i == j { 2.0 } else { 0.1 });
            let mut bic = GaussianBic::from_covariance(cov, 500, 0.5);
            let a = bic.local_score(63, &[62, 0, 40]);
            assert_eq!(bic.cache_len(), 1, "d = {d}");
            assert_eq!(bic.local_score(63, &[40, 62, 0, 0]), a, "d = {d}");
            assert_eq!(bic.cache_len(), 1, "d = {d}");
            assert_eq!(a, bic.local_score_uncached(63, &[0, 40, 62]), "d = {d}");
            assert_ne!(bic.local_score(63, &[62, 0]), a, "d = {d}");
            assert_ne!(bic.local_score(62, &[63, 0]), a, "d = {d}");
            assert_eq!(bic.cache_len(), 3, "d = {d}");
        }
    }

    #[test]
    fn wide_keys_are_cached_like_narrow_ones() {
        // 300 nodes are more than a NodeSet holds.
        let d = 300;
        let cov = DMatrix::from_fn(d, d, |i, j| if i == j { 2.0 } else { 0.1 });
        let mut bic = GaussianBic::from_covariance(cov, 500, 0.5);
        let a = bic.local_score(199, &[198, 3, 150]);
        assert_eq!(bic.cache_len(), 1);
        assert_eq!(bic.local_score(199, &[150, 198, 3, 3]), a);
        assert_eq!(bic.cache_len(), 1);
        assert_eq!(a, bic.local_score_uncached(199, &[3, 150, 198]));
        assert_ne!(bic.local_score(199, &[198, 3]), a);
        assert_eq!(bic.cache_len(), 2);
    }
}
