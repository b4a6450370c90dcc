//! Conjugate models whose posterior is known in closed form, so the page can draw it beside the
//! samples: beta-binomial (a coin's bias) and normal-normal (a mean with known noise).

use serde::{Deserialize, Serialize};

use super::special::{beta_cdf, invert_cdf, ln_beta, logistic, normal_cdf, softplus};
use super::{check_point, finish, ModelError};
use crate::bayes::{LogDensity, LogpError};

/// A closed-form posterior of one parameter.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "family", rename_all = "kebab-case")]
pub enum ExactPosterior {
    Beta { alpha: f64, beta: f64 },
    Normal { mean: f64, sd: f64 },
}

impl ExactPosterior {
    pub fn mean(&self) -> f64 {
        match *self {
            ExactPosterior::Beta { alpha, beta } => alpha / (alpha + beta),
            ExactPosterior::Normal { mean, .. } => mean,
        }
    }

    pub fn sd(&self) -> f64 {
        match *self {
            ExactPosterior::Beta { alpha, beta } => {
                let s = alpha + beta;
                (alpha * beta / (s * s * (s + 1.0))).sqrt()
            }
            ExactPosterior::Normal { sd, .. } => sd,
        }
    }

    /// The density at `x` (0 outside the support).
    pub fn pdf(&self, x: f64) -> f64 {
        match *self {
            ExactPosterior::Beta { alpha, beta } => {
                if !(x > 0.0 && x < 1.0) {
                    return 0.0;
                }
                ((alpha - 1.0) * x.ln() + (beta - 1.0) * (1.0 - x).ln() - ln_beta(alpha, beta))
                    .exp()
            }
            ExactPosterior::Normal { mean, sd } => {
                let z = (x - mean) / sd;
                (-0.5 * z * z).exp() / (sd * (2.0 * std::f64::consts::PI).sqrt())
            }
        }
    }

    pub fn cdf(&self, x: f64) -> f64 {
        match *self {
            ExactPosterior::Beta { alpha, beta } => beta_cdf(x, alpha, beta),
            ExactPosterior::Normal { mean, sd } => normal_cdf((x - mean) / sd),
        }
    }

    /// The `p`-quantile, for p in (0, 1).
    pub fn quantile(&self, p: f64) -> f64 {
        let p = p.clamp(0.0, 1.0);
        match *self {
            ExactPosterior::Beta { .. } => invert_cdf(|x| self.cdf(x), p, 0.0, 1.0),
            ExactPosterior::Normal { mean, sd } => {
                mean + sd * invert_cdf(normal_cdf, p, -40.0, 40.0)
            }
        }
    }

    /// `n_points` (at least 2) evenly spaced points covering the bulk of the posterior — the
    /// 0.01 % to 99.99 % quantiles, clipped to the support — with the density at each, as
    /// `[x, density]` pairs for the page to draw.
    pub fn density_curve(&self, n_points: usize) -> Vec<[f64; 2]> {
        let n = n_points.max(2);
        let (lo, hi) = (self.quantile(1e-4), self.quantile(1.0 - 1e-4));
        (0..n)
            .map(|i| {
                let x = lo + (hi - lo) * i as f64 / (n - 1) as f64;
                [x, self.pdf(x)]
            })
            .collect()
    }
}

/// The exact posterior of one named parameter of a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExactReference {
    pub param: String,
    pub posterior: ExactPosterior,
}

/// Settings of `beta-binomial`: k heads in N flips, θ ~ Beta(a, b).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BetaBinomialSettings {
    pub heads: u64,
    pub flips: u64,
    pub prior_a: f64,
    pub prior_b: f64,
}

impl Default for BetaBinomialSettings {
    /// The built-in data: 7 heads in 20 flips, with a Beta(2, 2) prior that mildly
    /// favours a fair coin.
    fn default() -> Self {
        BetaBinomialSettings {
            heads: 7,
            flips: 20,
            prior_a: 2.0,
            prior_b: 2.0,
        }
    }
}

impl BetaBinomialSettings {
    pub fn exact(&self) -> ExactPosterior {
        ExactPosterior::Beta {
            alpha: self.prior_a + self.heads as f64,
            beta: self.prior_b + (self.flips.saturating_sub(self.heads)) as f64,
        }
    }
}

/// θ = logistic(x); the log Jacobian log θ(1 − θ) folds into the exponents, so
/// log p(x) = (k + a) log θ + (N − k + b) log(1 − θ) up to a constant.
#[derive(Debug, Clone, PartialEq)]
pub struct BetaBinomial {
    heads: f64,
    tails: f64,
    a: f64,
    b: f64,
}

impl BetaBinomial {
    pub fn new(s: &BetaBinomialSettings) -> Result<BetaBinomial, ModelError> {
        super::positive("the prior's a", s.prior_a)?;
        super::positive("the prior's b", s.prior_b)?;
        if s.flips > 1_000_000_000 {
            return Err(ModelError::InvalidSetting {
                name: "the number of flips",
                value: s.flips.to_string(),
                allowed: "at most 1,000,000,000",
            });
        }
        if s.heads > s.flips {
            return Err(ModelError::InvalidSetting {
                name: "the number of heads",
                value: format!("{} (of {} flips)", s.heads, s.flips),
                allowed: "between 0 and the number of flips",
            });
        }
        Ok(BetaBinomial {
            heads: s.heads as f64,
            tails: (s.flips - s.heads) as f64,
            a: s.prior_a,
            b: s.prior_b,
        })
    }
}

impl LogDensity for BetaBinomial {
    fn dim(&self) -> usize {
        1
    }

    fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogpError> {
        check_point(x, grad, 1)?;
        let (u, v) = (self.heads + self.a, self.tails + self.b);
        // log θ = −softplus(−x), log(1 − θ) = −softplus(x): exact in both tails.
        let lp = -u * softplus(-x[0]) - v * softplus(x[0]);
        let theta = logistic(x[0]);
        grad[0] = u * (1.0 - theta) - v * theta;
        finish(lp, grad)
    }

    fn param_names(&self) -> Vec<String> {
        vec!["theta".into()]
    }

    fn constrain(&self, x: &[f64]) -> Vec<f64> {
        x.iter().take(1).map(|&v| logistic(v)).collect()
    }
}

/// Settings of `normal-normal`: y_i ~ Normal(μ, σ) with σ known, μ ~ Normal(m₀, s₀).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NormalNormalSettings {
    /// A column of the user's data; `None` uses `values`.
    pub column: Option<String>,
    /// Built-in (editable) observations.
    pub values: Vec<f64>,
    /// The known noise sd σ.
    pub sigma: f64,
    pub prior_mean: f64,
    pub prior_sd: f64,
}

impl Default for NormalNormalSettings {
    /// Ten illustrative measurements (made up for the page, mean 10.4) with σ = 2 known and a
    /// vague Normal(0, 10) prior, so the data dominate but the prior still shows.
    fn default() -> Self {
        NormalNormalSettings {
            column: None,
            values: vec![9.1, 12.3, 10.8, 8.7, 11.5, 10.2, 13.0, 9.6, 10.9, 7.9],
            sigma: 2.0,
            prior_mean: 0.0,
            prior_sd: 10.0,
        }
    }
}

/// μ on the real line; no transform.
#[derive(Debug, Clone, PartialEq)]
pub struct NormalNormal {
    n: f64,
    sum: f64,
    sigma: f64,
    prior_mean: f64,
    prior_sd: f64,
}

impl NormalNormal {
    pub fn new(s: &NormalNormalSettings, values: &[f64]) -> Result<NormalNormal, ModelError> {
        super::positive("the known noise sd σ", s.sigma)?;
        super::positive("the prior sd", s.prior_sd)?;
        super::finite("the prior mean", s.prior_mean)?;
        let column = s.column.clone().unwrap_or_else(|| "values".into());
        for (row, &v) in values.iter().enumerate() {
            if !v.is_finite() {
                return Err(ModelError::NonFinite {
                    column,
                    row,
                    value: v,
                });
            }
        }
        if values.is_empty() {
            return Err(ModelError::TooFewRows {
                rows: 0,
                needed: 1,
                model: "normal-normal",
            });
        }
        Ok(NormalNormal {
            n: values.len() as f64,
            sum: values.iter().sum(),
            sigma: s.sigma,
            prior_mean: s.prior_mean,
            prior_sd: s.prior_sd,
        })
    }

    /// Precisions add: 1/s² = 1/s₀² + n/σ², mean = s² (m₀/s₀² + Σy/σ²).
    pub fn exact(&self) -> ExactPosterior {
        let prec = 1.0 / (self.prior_sd * self.prior_sd) + self.n / (self.sigma * self.sigma);
        let mean = (self.prior_mean / (self.prior_sd * self.prior_sd)
            + self.sum / (self.sigma * self.sigma))
            / prec;
        ExactPosterior::Normal {
            mean,
            sd: prec.sqrt().recip(),
        }
    }
}

impl LogDensity for NormalNormal {
    fn dim(&self) -> usize {
        1
    }

    fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogpError> {
        check_point(x, grad, 1)?;
        let mu = x[0];
        let s2 = self.sigma * self.sigma;
        let p2 = self.prior_sd * self.prior_sd;
        // Σ(y − μ)² = Σy² − 2μΣy + nμ²; the Σy² term is a constant and is dropped.
        let lp = -(self.n * mu * mu - 2.0 * mu * self.sum) / (2.0 * s2)
            - (mu - self.prior_mean).powi(2) / (2.0 * p2);
        grad[0] = (self.sum - self.n * mu) / s2 - (mu - self.prior_mean) / p2;
        finish(lp, grad)
    }

    fn param_names(&self) -> Vec<String> {
        vec!["mu".into()]
    }

    fn constrain(&self, x: &[f64]) -> Vec<f64> {
        x.iter().take(1).copied().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bayes::mcmc::testing::{ess, mean};
    use crate::bayes::mcmc::{Chain, SamplerSettings};
    use crate::run::StepOutcome;

    /// Kept draws of parameter 0 from `n_chains` NUTS chains, chain by chain.
    fn nuts_draws(model: &dyn LogDensity, n_chains: u64, seed: u64) -> Vec<Vec<f64>> {
        (0..n_chains)
            .map(|chain| {
                let s = SamplerSettings {
                    seed,
                    chain,
                    ..SamplerSettings::default()
                };
                let mut c = Chain::new(model, s).unwrap();
                while let StepOutcome::Continue = c.step().unwrap() {}
                c.trace().column(0)
            })
            .collect()
    }

    /// MCSE of the mean of g(draws), from the per-chain Geyer ESS summed over chains.
    fn mcse_of(chains: &[Vec<f64>], g: impl Fn(f64) -> f64) -> (f64, f64) {
        let series: Vec<Vec<f64>> = chains
            .iter()
            .map(|c| c.iter().map(|&v| g(v)).collect())
            .collect();
        let all: Vec<f64> = series.iter().flatten().copied().collect();
        let m = mean(&all);
        let var = all.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (all.len() as f64 - 1.0);
        let n_eff: f64 = series.iter().map(|s| ess(s)).sum();
        (m, (var / n_eff).sqrt())
    }

    /// Mean and the 10 % / 50 % / 90 % quantiles against the exact posterior. A quantile q_p
    /// is checked through the indicator 1{x ≤ q_p}, whose mean is p and whose MCSE follows from
    /// the ESS of the indicator series: the honest form of a quantile's Monte Carlo error.
    fn check_against_exact(chains: &[Vec<f64>], exact: ExactPosterior, label: &str) {
        let (m, mcse) = mcse_of(chains, |v| v);
        assert!(
            (m - exact.mean()).abs() < 4.0 * mcse,
            "{label}: mean {m} vs exact {} (MCSE {mcse})",
            exact.mean()
        );
        for p in [0.1, 0.5, 0.9] {
            let q = exact.quantile(p);
            let (frac, mcse) = mcse_of(chains, |v| f64::from(u8::from(v <= q)));
            assert!(
                (frac - p).abs() < 4.0 * mcse,
                "{label}: P(x ≤ q{p}) = {frac} vs {p} (MCSE {mcse})"
            );
        }
        let (sq, mcse) = mcse_of(chains, |v| (v - exact.mean()).powi(2));
        let var = exact.sd().powi(2);
        assert!(
            (sq - var).abs() < 4.0 * mcse,
            "{label}: variance {sq} vs exact {var} (MCSE {mcse})"
        );
    }

    #[test]
    fn nuts_recovers_the_exact_beta_binomial_posterior() {
        let s = BetaBinomialSettings::default();
        let model = BetaBinomial::new(&s).unwrap();
        let exact = s.exact();
        assert_eq!(
            exact,
            ExactPosterior::Beta {
                alpha: 9.0,
                beta: 15.0
            }
        );
        let chains = nuts_draws(&model, 4, 21);
        check_against_exact(&chains, exact, "beta-binomial");
    }

    #[test]
    fn nuts_recovers_the_exact_normal_normal_posterior() {
        let s = NormalNormalSettings::default();
        let model = NormalNormal::new(&s, &s.values).unwrap();
        let exact = model.exact();
        let chains = nuts_draws(&model, 4, 22);
        check_against_exact(&chains, exact, "normal-normal");
    }

    #[test]
    fn exact_posteriors_are_consistent() {
        let b = ExactPosterior::Beta {
            alpha: 9.0,
            beta: 15.0,
        };
        assert!((b.mean() - 0.375).abs() < 1e-15);
        // The density integrates to 1 and its CDF matches the integral (midpoint rule).
        let n = 20_000;
        let mut acc = 0.0;
        for i in 0..n {
            let x = (i as f64 + 0.5) / n as f64;
            acc += b.pdf(x) / n as f64;
            if i == n / 4 {
                assert!((acc - b.cdf(x + 0.5 / n as f64)).abs() < 1e-6);
            }
        }
        assert!((acc - 1.0).abs() < 1e-8);
        let q = b.quantile(0.3);
        assert!((b.cdf(q) - 0.3).abs() < 1e-10);
        let curve = b.density_curve(50);
        assert_eq!(curve.len(), 50);
        assert!(curve
            .iter()
            .all(|p| p[0] > 0.0 && p[0] < 1.0 && p[1] >= 0.0));
        let nn = NormalNormal::new(
            &NormalNormalSettings::default(),
            &NormalNormalSettings::default().values,
        )
        .unwrap();
        if let ExactPosterior::Normal { mean, sd } = nn.exact() {
            // prec = 1/100 + 10/4 = 2.51; mean = (0 + 104/4) / 2.51.
            assert!((mean - 26.0 / 2.51).abs() < 1e-12);
            assert!((sd - 2.51f64.sqrt().recip()).abs() < 1e-15);
        } else {
            panic!("normal-normal's posterior is normal");
        }
    }

    #[test]
    fn bad_settings_name_the_setting() {
        let s = BetaBinomialSettings {
            heads: 21,
            ..BetaBinomialSettings::default()
        };
        let e = BetaBinomial::new(&s).unwrap_err();
        assert!(e.to_string().contains("heads"), "{e}");
        let s = BetaBinomialSettings {
            prior_a: 0.0,
            ..BetaBinomialSettings::default()
        };
        assert!(BetaBinomial::new(&s).unwrap_err().to_string().contains("a"));
        let s = NormalNormalSettings::default();
        let e = NormalNormal::new(&s, &[1.0, f64::NAN]).unwrap_err();
        assert!(e.to_string().contains("row 2"), "{e}");
    }
}
