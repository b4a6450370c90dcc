//! A two-component Gaussian mixture on one column (the user's, or generated with a seed).
//!
//! Label switching: the two components are interchangeable, so the posterior has two mirror
//! modes. The means are ordered, μ₁ < μ₂, by sampling (μ₁, log(μ₂ − μ₁)); component 1 is always
//! the one on the left, and each mode is the same labelling.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use super::special::{log_add_exp, logistic, softplus};
use super::{check_point, finish, ModelError};
use crate::bayes::{LogDensity, LogpError};
use crate::data::Dataset;
use crate::fastmath;

/// Where the mixture's observations come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "kebab-case")]
pub enum MixtureData {
    /// A column of the user's data, by name.
    Column { name: String },
    /// `n` draws: with probability `weight` from Normal(mean1, sd1), else Normal(mean2, sd2).
    Generated {
        n: usize,
        mean1: f64,
        sd1: f64,
        mean2: f64,
        sd2: f64,
        weight: f64,
        seed: u64,
    },
}

impl Default for MixtureData {
    /// Two well-separated bumps (3 sd apart) of unequal size, enough data (200) to see both.
    fn default() -> Self {
        MixtureData::Generated {
            n: 200,
            mean1: -1.5,
            sd1: 1.0,
            mean2: 2.0,
            sd2: 0.7,
            weight: 0.4,
            seed: 1,
        }
    }
}

/// Settings of `mixture-1d`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MixtureSettings {
    pub data: MixtureData,
    /// μ_k ~ Normal(mean, sd), restricted to μ₁ < μ₂.
    pub mu_prior_mean: f64,
    pub mu_prior_sd: f64,
    /// σ_k ~ Half-Normal(0, scale).
    pub sigma_prior_scale: f64,
    /// w ~ Beta(c, c).
    pub weight_prior_concentration: f64,
}

impl Default for MixtureSettings {
    /// Weakly informative for data on a unit-ish scale: Normal(0, 5) means, Half-Normal(0, 2.5)
    /// sds, and Beta(2, 2) on the weight, a gentle pull away from 0 and 1 so that neither
    /// component empties out.
    fn default() -> Self {
        MixtureSettings {
            data: MixtureData::default(),
            mu_prior_mean: 0.0,
            mu_prior_sd: 5.0,
            sigma_prior_scale: 2.5,
            weight_prior_concentration: 2.0,
        }
    }
}

/// The observations, from the chosen source.
pub fn mixture_values(
    data: &MixtureData,
    dataset: Option<&Dataset>,
) -> Result<Vec<f64>, ModelError> {
    match data {
        MixtureData::Column { name } => {
            let ds = dataset.ok_or(ModelError::NoData {
                model: "mixture-1d",
            })?;
            if name.is_empty() {
                return Err(ModelError::NoOutcome {
                    model: "mixture-1d",
                });
            }
            Ok(super::column(ds, name)?.to_vec())
        }
        &MixtureData::Generated {
            n,
            mean1,
            sd1,
            mean2,
            sd2,
            weight,
            seed,
        } => {
            if !(2..=100_000).contains(&n) {
                return Err(ModelError::InvalidSetting {
                    name: "the number of generated points",
                    value: n.to_string(),
                    allowed: "between 2 and 100,000",
                });
            }
            super::finite("the first mean", mean1)?;
            super::finite("the second mean", mean2)?;
            super::positive("the first sd", sd1)?;
            super::positive("the second sd", sd2)?;
            if !(0.0..=1.0).contains(&weight) {
                return Err(ModelError::InvalidSetting {
                    name: "the first component's weight",
                    value: weight.to_string(),
                    allowed: "between 0 and 1",
                });
            }
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let (a, b) = match (Normal::new(mean1, sd1), Normal::new(mean2, sd2)) {
                (Ok(a), Ok(b)) => (a, b),
                _ => {
                    return Err(ModelError::InvalidSetting {
                        name: "the generating sds",
                        value: format!("{sd1}, {sd2}"),
                        allowed: "finite numbers > 0",
                    })
                }
            };
            Ok((0..n)
                .map(|_| {
                    let pick: f64 = rng.random();
                    if pick < weight {
                        a.sample(&mut rng)
                    } else {
                        b.sample(&mut rng)
                    }
                })
                .collect())
        }
    }
}

/// Coordinates (μ₁, log(μ₂ − μ₁), log σ₁, log σ₂, logit w); the log Jacobian is
/// log(μ₂ − μ₁) + log σ₁ + log σ₂ + log w + log(1 − w).
#[derive(Debug, Clone, PartialEq)]
pub struct Mixture1d {
    y: Vec<f64>,
    s: MixtureSettings,
}

impl Mixture1d {
    pub fn new(s: &MixtureSettings, dataset: Option<&Dataset>) -> Result<Mixture1d, ModelError> {
        super::finite("the means' prior mean", s.mu_prior_mean)?;
        super::positive("the means' prior sd", s.mu_prior_sd)?;
        super::positive("the sds' prior scale", s.sigma_prior_scale)?;
        super::positive(
            "the weight's prior concentration",
            s.weight_prior_concentration,
        )?;
        let y = mixture_values(&s.data, dataset)?;
        let column = match &s.data {
            MixtureData::Column { name } => name.clone(),
            MixtureData::Generated { .. } => "generated".into(),
        };
        if let Some((row, &value)) = y.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(ModelError::NonFinite { column, row, value });
        }
        if y.len() < 2 {
            return Err(ModelError::TooFewRows {
                rows: y.len(),
                needed: 2,
                model: "mixture-1d",
            });
        }
        Ok(Mixture1d { y, s: s.clone() })
    }

    pub fn values(&self) -> &[f64] {
        &self.y
    }
}

impl LogDensity for Mixture1d {
    fn dim(&self) -> usize {
        5
    }

    fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogpError> {
        check_point(x, grad, 5)?;
        let (mu1, gap) = (x[0], fastmath::exp(x[1]));
        let mu2 = mu1 + gap;
        let (s1, s2) = (x[2], x[3]);
        let (inv1, inv2) = (fastmath::exp(-2.0 * s1), fastmath::exp(-2.0 * s2));
        let w = logistic(x[4]);
        // log w = −softplus(−l), log(1 − w) = −softplus(l): exact in both tails.
        let (log_w, log_1w) = (-softplus(-x[4]), -softplus(x[4]));
        let (mut g_mu1, mut g_mu2, mut g_s1, mut g_s2, mut g_l) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let mut lp = 0.0;
        for &y in &self.y {
            let (d1, d2) = (y - mu1, y - mu2);
            let l1 = log_w - s1 - 0.5 * d1 * d1 * inv1;
            let l2 = log_1w - s2 - 0.5 * d2 * d2 * inv2;
            let lse = log_add_exp(l1, l2);
            lp += lse;
            // Responsibilities of the two components for this point.
            let r1 = fastmath::exp(l1 - lse);
            let r2 = 1.0 - r1;
            g_mu1 += r1 * d1 * inv1;
            g_mu2 += r2 * d2 * inv2;
            g_s1 += r1 * (d1 * d1 * inv1 - 1.0);
            g_s2 += r2 * (d2 * d2 * inv2 - 1.0);
            g_l += r1 - w;
        }
        let s = &self.s;
        let p2 = s.mu_prior_sd * s.mu_prior_sd;
        let (e1, e2) = (mu1 - s.mu_prior_mean, mu2 - s.mu_prior_mean);
        lp -= 0.5 * (e1 * e1 + e2 * e2) / p2;
        g_mu1 -= e1 / p2;
        g_mu2 -= e2 / p2;
        let h2 = s.sigma_prior_scale * s.sigma_prior_scale;
        let (v1, v2) = (fastmath::exp(2.0 * s1), fastmath::exp(2.0 * s2));
        // Half-normal priors in s = log σ, with the Jacobians +s₁, +s₂.
        lp += -0.5 * (v1 + v2) / h2 + s1 + s2;
        g_s1 += -v1 / h2 + 1.0;
        g_s2 += -v2 / h2 + 1.0;
        // Beta(c, c) on w with the Jacobian log w + log(1 − w): c·(log w + log(1 − w)).
        let c = s.weight_prior_concentration;
        lp += c * (log_w + log_1w);
        g_l += c * (1.0 - 2.0 * w);
        // Jacobian of μ₂ = μ₁ + e^d.
        lp += x[1];
        grad[0] = g_mu1 + g_mu2;
        grad[1] = g_mu2 * gap + 1.0;
        grad[2] = g_s1;
        grad[3] = g_s2;
        grad[4] = g_l;
        finish(lp, grad)
    }

    fn param_names(&self) -> Vec<String> {
        ["mu[1]", "mu[2]", "sigma[1]", "sigma[2]", "w"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    fn constrain(&self, x: &[f64]) -> Vec<f64> {
        if x.len() != 5 {
            return vec![f64::NAN; 5];
        }
        vec![
            x[0],
            x[0] + x[1].exp(),
            x[2].exp(),
            x[3].exp(),
            logistic(x[4]),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bayes::mcmc::testing::mean;
    use crate::bayes::mcmc::{Chain, SamplerSettings};
    use crate::run::StepOutcome;

    #[test]
    fn generated_data_is_reproducible_and_validated() {
        let d = MixtureData::default();
        let a = mixture_values(&d, None).unwrap();
        assert_eq!(a, mixture_values(&d, None).unwrap());
        assert_eq!(a.len(), 200);
        let bad = MixtureData::Generated {
            n: 200,
            mean1: 0.0,
            sd1: -1.0,
            mean2: 1.0,
            sd2: 1.0,
            weight: 0.5,
            seed: 0,
        };
        assert!(mixture_values(&bad, None)
            .unwrap_err()
            .to_string()
            .contains("first sd"));
        let col = MixtureData::Column { name: "y".into() };
        assert!(matches!(
            mixture_values(&col, None),
            Err(ModelError::NoData { .. })
        ));
    }

    #[test]
    fn nuts_finds_the_generating_components_in_order() {
        // 200 points, 3 sd apart: the posterior sd of each mean is ~0.1, so ±0.4 around the
        // generating values is a generous but meaningful check of the labelling.
        let m = Mixture1d::new(&MixtureSettings::default(), None).unwrap();
        let s = SamplerSettings {
            n_warmup: 500,
            n_draws: 500,
            seed: 4,
            ..SamplerSettings::default()
        };
        let mut c = Chain::new(&m, s).unwrap();
        while let StepOutcome::Continue = c.step().unwrap() {}
        let t = c.trace();
        assert!(t.kept().iter().all(|d| d.constrained[0] < d.constrained[1]));
        let (mu1, mu2, w) = (mean(&t.column(0)), mean(&t.column(1)), mean(&t.column(4)));
        assert!((mu1 + 1.5).abs() < 0.4, "mu[1] {mu1}");
        assert!((mu2 - 2.0).abs() < 0.4, "mu[2] {mu2}");
        assert!((w - 0.4).abs() < 0.15, "w {w}");
    }
}
