//! Small target densities and an effective-sample-size estimate for the samplers' tests.

use crate::bayes::{LogDensity, LogpError};

/// Independent normals with the given means and standard deviations.
pub(crate) struct DiagNormal {
    pub mean: Vec<f64>,
    pub sd: Vec<f64>,
}

impl DiagNormal {
    pub fn standard(dim: usize) -> Self {
        DiagNormal {
            mean: vec![0.0; dim],
            sd: vec![1.0; dim],
        }
    }
}

impl LogDensity for DiagNormal {
    fn dim(&self) -> usize {
        self.mean.len()
    }
    fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogpError> {
        let mut lp = 0.0;
        for i in 0..x.len() {
            let z = (x[i] - self.mean[i]) / self.sd[i];
            lp -= 0.5 * z * z;
            grad[i] = -z / self.sd[i];
        }
        Ok(lp)
    }
    fn logp(&self, x: &[f64]) -> Result<f64, LogpError> {
        Ok(x.iter()
            .zip(&self.mean)
            .zip(&self.sd)
            .map(|((x, m), s)| -0.5 * ((x - m) / s).powi(2))
            .sum())
    }
    fn param_names(&self) -> Vec<String> {
        (0..self.mean.len())
            .map(|i| format!("x[{}]", i + 1))
            .collect()
    }
    fn constrain(&self, x: &[f64]) -> Vec<f64> {
        x.to_vec()
    }
}

/// A bivariate normal with correlation `rho`.
pub(crate) struct CorrelatedNormal {
    pub mean: [f64; 2],
    pub sd: [f64; 2],
    pub rho: f64,
}

impl CorrelatedNormal {
    pub fn new(mean: [f64; 2], sd: [f64; 2], rho: f64) -> Self {
        CorrelatedNormal { mean, sd, rho }
    }
}

impl LogDensity for CorrelatedNormal {
    fn dim(&self) -> usize {
        2
    }
    fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogpError> {
        let a = (x[0] - self.mean[0]) / self.sd[0];
        let b = (x[1] - self.mean[1]) / self.sd[1];
        let c = 1.0 - self.rho * self.rho;
        let q = (a * a - 2.0 * self.rho * a * b + b * b) / c;
        grad[0] = -(a - self.rho * b) / (c * self.sd[0]);
        grad[1] = -(b - self.rho * a) / (c * self.sd[1]);
        Ok(-0.5 * q)
    }
    fn param_names(&self) -> Vec<String> {
        vec!["a".into(), "b".into()]
    }
    fn constrain(&self, x: &[f64]) -> Vec<f64> {
        x.to_vec()
    }
}

/// A standard normal that cannot be evaluated where x₀ > `wall` (a recoverable domain error),
/// so trajectories that cross the wall must become divergences.
pub(crate) struct WalledNormal {
    pub dim: usize,
    pub wall: f64,
}

impl LogDensity for WalledNormal {
    fn dim(&self) -> usize {
        self.dim
    }
    fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogpError> {
        if x[0] > self.wall {
            return Err(LogpError::Domain(format!(
                "x[1] = {} beyond the wall",
                x[0]
            )));
        }
        let mut lp = 0.0;
        for i in 0..x.len() {
            lp -= 0.5 * x[i] * x[i];
            grad[i] = -x[i];
        }
        Ok(lp)
    }
    fn param_names(&self) -> Vec<String> {
        (0..self.dim).map(|i| format!("x[{}]", i + 1)).collect()
    }
    fn constrain(&self, x: &[f64]) -> Vec<f64> {
        x.to_vec()
    }
}

pub(crate) fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

pub(crate) fn variance(x: &[f64]) -> f64 {
    let m = mean(x);
    x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() as f64 - 1.0)
}

/// Effective sample size with Geyer's initial positive sequence on the autocorrelations
/// (Geyer 1992), enough for the tolerances of these tests.
pub(crate) fn ess(x: &[f64]) -> f64 {
    let n = x.len();
    let m = mean(x);
    let c0 = x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n as f64;
    if c0 == 0.0 {
        return n as f64;
    }
    let acf = |lag: usize| {
        (0..n - lag)
            .map(|i| (x[i] - m) * (x[i + lag] - m))
            .sum::<f64>()
            / (n as f64 * c0)
    };
    let mut sum = 0.0;
    let mut lag = 0;
    while lag + 1 < n {
        let pair = acf(lag) + acf(lag + 1);
        if pair < 0.0 {
            break;
        }
        sum += pair;
        lag += 2;
    }
    let tau = (2.0 * sum - 1.0).max(1e-3);
    n as f64 / tau
}

/// Checks that draws recover a normal's mean and variance within 4 Monte Carlo standard errors,
/// each from the ESS of the statistic's own series.
pub(crate) fn assert_normal_moments(x: &[f64], true_mean: f64, true_sd: f64, label: &str) {
    let m = mean(x);
    let ess_m = ess(x);
    let mcse_m = true_sd / ess_m.sqrt();
    assert!(
        (m - true_mean).abs() < 4.0 * mcse_m,
        "{label}: mean {m} vs {true_mean} (MCSE {mcse_m}, ESS {ess_m})"
    );
    let sq: Vec<f64> = x.iter().map(|v| (v - true_mean).powi(2)).collect();
    let v = mean(&sq);
    let ess_v = ess(&sq);
    // Var((x−μ)²) = 2σ⁴ for a normal.
    let mcse_v = (2.0f64).sqrt() * true_sd * true_sd / ess_v.sqrt();
    assert!(
        (v - true_sd * true_sd).abs() < 4.0 * mcse_v,
        "{label}: variance {v} vs {} (MCSE {mcse_v}, ESS {ess_v})",
        true_sd * true_sd
    );
}
