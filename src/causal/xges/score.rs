//! The Gaussian BIC local score of XGES (`BICScorer` of the reference `xges` package), with
//! every local score cached by (node, parent set).

use nalgebra::DMatrix;
use rustc_hash::FxHashMap;

use super::pdag::NodeSet;

/// FxHash: a node and a 256-bit set hash in a few cycles, where SipHash dominated look-ups.
type Cache = FxHashMap<(usize, NodeSet), f64>;

/// Local BIC scores ℓ(y, P) = −n/2 (1 + ln σ̂²) − α/2 ln(n) (|P| + 1), where σ̂² is the
/// residual variance of the least-squares regression of y on P computed from the covariance
/// of the centred data (normalised by n), and α the penalty multiplier (2 in the paper).
pub struct BicScore {
    n: f64,
    alpha: f64,
    cov: DMatrix<f64>,
    cache: Cache,
    /// Scratch for the Cholesky factor and the right-hand side, and the parents.
    scratch: Vec<f64>,
    idx: Vec<usize>,
}

impl BicScore {
    /// From n × d data; the columns are centred here.
    pub fn new(x: &DMatrix<f64>, alpha: f64) -> BicScore {
        let n = x.nrows();
        let mut centred = x.clone();
        for mut column in centred.column_iter_mut() {
            let mean = column.mean();
            column.add_scalar_mut(-mean);
        }
        let cov = centred.tr_mul(&centred) / n as f64;
        BicScore {
            n: n as f64,
            alpha,
            cov,
            cache: Cache::default(),
            scratch: Vec::new(),
            idx: Vec::new(),
        }
    }

    pub fn n_samples(&self) -> f64 {
        self.n
    }

    /// Number of distinct (node, parents) scores computed so far.
    #[cfg(test)]
    pub fn cache_len(&self) -> usize {
        self.cache.len()
    }

    /// ℓ(y, P); −∞ when the parents' covariance is singular (P is then never worth taking).
    pub fn local(&mut self, y: usize, parents: NodeSet) -> f64 {
        if let Some(&s) = self.cache.get(&(y, parents)) {
            return s;
        }
        let s = self.compute(y, parents);
        self.cache.insert((y, parents), s);
        s
    }

    fn compute(&mut self, y: usize, parents: NodeSet) -> f64 {
        self.idx.clear();
        self.idx.extend(parents.iter());
        let k = self.idx.len();
        // σ̂² = Σ_yy − ‖L⁻¹Σ_Py‖² with L the Cholesky factor of Σ_PP.
        let Some(explained) =
            crate::causal::score::cholesky_explained(&self.cov, y, &self.idx, &mut self.scratch)
        else {
            return f64::NEG_INFINITY;
        };
        let sigma = self.cov[(y, y)] - explained;
        if sigma.is_nan() || sigma <= 0.0 {
            return f64::NEG_INFINITY;
        }
        -0.5 * self.n * (1.0 + sigma.ln()) - 0.5 * self.n.ln() * (k as f64 + 1.0) * self.alpha
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bic_is_the_regression_likelihood_minus_the_penalty() {
        // y = 2a + e on four rows: the residual variance from the covariance matches lstsq.
        let x = DMatrix::from_row_slice(4, 2, &[1.0, 2.5, 2.0, 3.5, 3.0, 6.5, 4.0, 8.0]);
        let mut s = BicScore::new(&x, 2.0);
        let n = 4.0f64;
        let (ma, my) = (2.5, 5.125);
        let cov = |i: usize, j: usize| {
            (0..4)
                .map(|r| (x[(r, i)] - [ma, my][i]) * (x[(r, j)] - [ma, my][j]))
                .sum::<f64>()
                / n
        };
        let sigma = cov(1, 1) - cov(0, 1) * cov(0, 1) / cov(0, 0);
        let expected = -0.5 * n * (1.0 + sigma.ln()) - n.ln() * 2.0;
        assert!((s.local(1, NodeSet::single(0)) - expected).abs() < 1e-12);
        let empty = -0.5 * n * (1.0 + cov(1, 1).ln()) - n.ln();
        assert!((s.local(1, NodeSet::default()) - empty).abs() < 1e-12);
        assert_eq!(s.cache_len(), 2);
    }
}
