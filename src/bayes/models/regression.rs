//! Linear and logistic regression on columns the user picks, with weakly-informative priors and
//! posterior predictive draws for checking the fit.

use rand::RngCore;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};

use super::special::{logistic, softplus};
use super::{check_point, finish, ModelError, PosteriorPredictive};
use crate::bayes::{LogDensity, LogpError};
use crate::data::Dataset;
use crate::fastmath;

/// Settings of `linear-regression`: y ~ Normal(α + Xβ, σ).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LinearRegressionSettings {
    pub outcome: String,
    pub predictors: Vec<String>,
    /// Centre and scale the outcome and every predictor to mean 0, sd 1 first, so the priors
    /// below are on the standardized scale.
    pub standardize: bool,
    pub intercept_prior_mean: f64,
    pub intercept_prior_sd: f64,
    pub coef_prior_sd: f64,
    /// σ ~ Exponential(rate).
    pub sigma_prior_rate: f64,
}

impl Default for LinearRegressionSettings {
    /// rstanarm's default priors for a Gaussian GLM (its "Prior distributions" vignette) (intercept Normal(ȳ, 2.5·sd(y)), slopes
    /// Normal(0, 2.5·sd(y)/sd(x)), σ ~ Exponential(1/sd(y))), which on standardized data
    /// become Normal(0, 2.5), Normal(0, 2.5) and Exponential(1).
    fn default() -> Self {
        LinearRegressionSettings {
            outcome: String::new(),
            predictors: Vec::new(),
            standardize: true,
            intercept_prior_mean: 0.0,
            intercept_prior_sd: 2.5,
            coef_prior_sd: 2.5,
            sigma_prior_rate: 1.0,
        }
    }
}

/// Settings of `logistic-regression`: y ~ Bernoulli(logistic(α + Xβ)).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LogisticRegressionSettings {
    pub outcome: String,
    pub predictors: Vec<String>,
    /// Centre and scale every predictor to mean 0, sd 1 first (the 0/1 outcome stays as it is).
    pub standardize: bool,
    pub intercept_prior_mean: f64,
    pub intercept_prior_sd: f64,
    pub coef_prior_sd: f64,
}

impl Default for LogisticRegressionSettings {
    /// rstanarm's defaults for a binomial GLM: intercept Normal(0, 2.5), slopes
    /// Normal(0, 2.5/sd(x)), i.e. Normal(0, 2.5) on standardized predictors.
    fn default() -> Self {
        LogisticRegressionSettings {
            outcome: String::new(),
            predictors: Vec::new(),
            standardize: true,
            intercept_prior_mean: 0.0,
            intercept_prior_sd: 2.5,
            coef_prior_sd: 2.5,
        }
    }
}

/// The design as the likelihood sees it: row-major predictors, the outcome, and how to map the
/// model's outcome scale back to the data's units.
#[derive(Debug, Clone, PartialEq)]
struct Design {
    predictor_names: Vec<String>,
    /// n × p, row-major.
    x: Vec<f64>,
    y: Vec<f64>,
    /// The outcome in the data's units (for posterior predictive checks).
    y_observed: Vec<f64>,
    y_center: f64,
    y_scale: f64,
    n: usize,
    p: usize,
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (m, var.sqrt())
}

/// Looks the named columns up and checks them: every name exists and is used once, the
/// outcome is not also a predictor, values are finite, no predictor is constant, and there
/// are more rows than coefficients.
fn design(
    model: &'static str,
    data: Option<&Dataset>,
    outcome: &str,
    predictors: &[String],
    standardize_y: bool,
    standardize_x: bool,
) -> Result<Design, ModelError> {
    let data = data.ok_or(ModelError::NoData { model })?;
    if outcome.is_empty() {
        return Err(ModelError::NoOutcome { model });
    }
    let y = super::column(data, outcome)?.to_vec();
    let mut cols = Vec::with_capacity(predictors.len());
    for (i, name) in predictors.iter().enumerate() {
        if name == outcome {
            return Err(ModelError::OutcomeAsPredictor {
                column: name.clone(),
            });
        }
        if predictors[..i].contains(name) {
            return Err(ModelError::DuplicatePredictor {
                column: name.clone(),
            });
        }
        cols.push(super::column(data, name)?);
    }
    let n = y.len();
    let p = predictors.len();
    // The intercept and p slopes (and σ) need more rows than that to be learned from the data
    // rather than from the priors alone.
    if n <= p + 1 {
        return Err(ModelError::TooFewRows {
            rows: n,
            needed: p + 2,
            model,
        });
    }
    for (name, col) in predictors.iter().zip(&cols) {
        let first = col[0];
        if col.iter().all(|&v| v == first) {
            return Err(ModelError::ConstantPredictor {
                column: name.clone(),
                value: first,
            });
        }
    }
    let (y_center, y_scale) = if standardize_y {
        let (m, s) = mean_sd(&y);
        if y.iter().all(|&v| v == y[0]) {
            return Err(ModelError::ConstantOutcome {
                column: outcome.to_string(),
                value: y[0],
            });
        }
        (m, s)
    } else {
        (0.0, 1.0)
    };
    let mut x = vec![0.0; n * p];
    for (j, col) in cols.iter().enumerate() {
        let (m, s) = if standardize_x {
            mean_sd(col)
        } else {
            (0.0, 1.0)
        };
        for i in 0..n {
            x[i * p + j] = (col[i] - m) / s;
        }
    }
    Ok(Design {
        predictor_names: predictors.to_vec(),
        x,
        y: y.iter().map(|v| (v - y_center) / y_scale).collect(),
        y_observed: y,
        y_center,
        y_scale,
        n,
        p,
    })
}

impl Design {
    /// η_i = α + x_i·β.
    fn linear_predictor(&self, alpha: f64, beta: &[f64], i: usize) -> f64 {
        let row = &self.x[i * self.p..(i + 1) * self.p];
        alpha + row.iter().zip(beta).map(|(a, b)| a * b).sum::<f64>()
    }

    fn coef_names(&self) -> Vec<String> {
        let mut names = vec!["alpha".to_string()];
        names.extend(self.predictor_names.iter().map(|n| format!("beta[{n}]")));
        names
    }
}

/// Unconstrained coordinates (α, β₁…β_p, log σ); the log Jacobian of σ = eˢ is s.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearRegression {
    d: Design,
    prior_alpha: (f64, f64),
    prior_beta_sd: f64,
    sigma_rate: f64,
}

impl LinearRegression {
    pub fn new(
        s: &LinearRegressionSettings,
        data: Option<&Dataset>,
    ) -> Result<LinearRegression, ModelError> {
        super::finite("the intercept's prior mean", s.intercept_prior_mean)?;
        super::positive("the intercept's prior sd", s.intercept_prior_sd)?;
        super::positive("the slopes' prior sd", s.coef_prior_sd)?;
        super::positive("the rate of σ's exponential prior", s.sigma_prior_rate)?;
        let d = design(
            "linear-regression",
            data,
            &s.outcome,
            &s.predictors,
            s.standardize,
            s.standardize,
        )?;
        Ok(LinearRegression {
            d,
            prior_alpha: (s.intercept_prior_mean, s.intercept_prior_sd),
            prior_beta_sd: s.coef_prior_sd,
            sigma_rate: s.sigma_prior_rate,
        })
    }
}

impl LogDensity for LinearRegression {
    fn dim(&self) -> usize {
        self.d.p + 2
    }

    fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogpError> {
        let p = self.d.p;
        check_point(x, grad, p + 2)?;
        let (alpha, beta, s) = (x[0], &x[1..=p], x[p + 1]);
        let sigma = fastmath::exp(s);
        let inv_s2 = fastmath::exp(-2.0 * s);
        grad.fill(0.0);
        let mut ss = 0.0;
        for i in 0..self.d.n {
            let r = self.d.y[i] - self.d.linear_predictor(alpha, beta, i);
            ss += r * r;
            grad[0] += r * inv_s2;
            let row = &self.d.x[i * p..(i + 1) * p];
            for (g, xij) in grad[1..=p].iter_mut().zip(row) {
                *g += r * xij * inv_s2;
            }
        }
        let n = self.d.n as f64;
        let (m_a, s_a) = self.prior_alpha;
        let sb2 = self.prior_beta_sd * self.prior_beta_sd;
        let mut lp = -n * s - 0.5 * ss * inv_s2;
        lp -= 0.5 * ((alpha - m_a) / s_a).powi(2);
        grad[0] -= (alpha - m_a) / (s_a * s_a);
        for (g, b) in grad[1..=p].iter_mut().zip(beta) {
            lp -= 0.5 * b * b / sb2;
            *g -= b / sb2;
        }
        // Exponential(λ) prior on σ plus the Jacobian s.
        lp += -self.sigma_rate * sigma + s;
        grad[p + 1] = -n + ss * inv_s2 - self.sigma_rate * sigma + 1.0;
        finish(lp, grad)
    }

    fn param_names(&self) -> Vec<String> {
        let mut names = self.d.coef_names();
        names.push("sigma".into());
        names
    }

    fn constrain(&self, x: &[f64]) -> Vec<f64> {
        let mut v = x.to_vec();
        if let Some(last) = v.get_mut(self.d.p + 1) {
            *last = last.exp();
        }
        v
    }
}

impl PosteriorPredictive for LinearRegression {
    fn observed(&self) -> &[f64] {
        &self.d.y_observed
    }

    /// y_rep_i ~ Normal(α + x_iβ, σ), mapped back to the outcome's units.
    fn draw_y_rep(&self, params: &[f64], rng: &mut dyn RngCore) -> Vec<f64> {
        let p = self.d.p;
        if params.len() != p + 2 {
            return Vec::new();
        }
        let sigma = params[p + 1];
        (0..self.d.n)
            .map(|i| {
                let mu = self.d.linear_predictor(params[0], &params[1..=p], i);
                let y = match Normal::new(mu, sigma) {
                    Ok(dist) => dist.sample(rng),
                    Err(_) => f64::NAN,
                };
                self.d.y_center + self.d.y_scale * y
            })
            .collect()
    }
}

/// Unconstrained coordinates (α, β₁…β_p); no transforms.
#[derive(Debug, Clone, PartialEq)]
pub struct LogisticRegression {
    d: Design,
    prior_alpha: (f64, f64),
    prior_beta_sd: f64,
}

impl LogisticRegression {
    pub fn new(
        s: &LogisticRegressionSettings,
        data: Option<&Dataset>,
    ) -> Result<LogisticRegression, ModelError> {
        super::finite("the intercept's prior mean", s.intercept_prior_mean)?;
        super::positive("the intercept's prior sd", s.intercept_prior_sd)?;
        super::positive("the slopes' prior sd", s.coef_prior_sd)?;
        let d = design(
            "logistic-regression",
            data,
            &s.outcome,
            &s.predictors,
            false,
            s.standardize,
        )?;
        if let Some((row, &value)) = d.y.iter().enumerate().find(|(_, &v)| v != 0.0 && v != 1.0) {
            return Err(ModelError::NotBinary {
                column: s.outcome.clone(),
                row,
                value,
            });
        }
        Ok(LogisticRegression {
            d,
            prior_alpha: (s.intercept_prior_mean, s.intercept_prior_sd),
            prior_beta_sd: s.coef_prior_sd,
        })
    }
}

impl LogDensity for LogisticRegression {
    fn dim(&self) -> usize {
        self.d.p + 1
    }

    fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogpError> {
        let p = self.d.p;
        check_point(x, grad, p + 1)?;
        let (alpha, beta) = (x[0], &x[1..]);
        grad.fill(0.0);
        let mut lp = 0.0;
        for i in 0..self.d.n {
            let eta = self.d.linear_predictor(alpha, beta, i);
            let y = self.d.y[i];
            // log p(y | η) = yη − log(1 + e^η), written as −softplus(∓η) so neither tail
            // overflows or cancels.
            lp -= if y == 1.0 {
                softplus(-eta)
            } else {
                softplus(eta)
            };
            let r = y - logistic(eta);
            grad[0] += r;
            let row = &self.d.x[i * p..(i + 1) * p];
            for (g, xij) in grad[1..].iter_mut().zip(row) {
                *g += r * xij;
            }
        }
        let (m_a, s_a) = self.prior_alpha;
        let sb2 = self.prior_beta_sd * self.prior_beta_sd;
        lp -= 0.5 * ((alpha - m_a) / s_a).powi(2);
        grad[0] -= (alpha - m_a) / (s_a * s_a);
        for (g, b) in grad[1..].iter_mut().zip(beta) {
            lp -= 0.5 * b * b / sb2;
            *g -= b / sb2;
        }
        finish(lp, grad)
    }

    fn param_names(&self) -> Vec<String> {
        self.d.coef_names()
    }

    fn constrain(&self, x: &[f64]) -> Vec<f64> {
        x.to_vec()
    }
}

impl PosteriorPredictive for LogisticRegression {
    fn observed(&self) -> &[f64] {
        &self.d.y_observed
    }

    /// y_rep_i ~ Bernoulli(logistic(α + x_iβ)), as 0.0 / 1.0.
    fn draw_y_rep(&self, params: &[f64], rng: &mut dyn RngCore) -> Vec<f64> {
        let p = self.d.p;
        if params.len() != p + 1 {
            return Vec::new();
        }
        (0..self.d.n)
            .map(|i| {
                let prob = logistic(self.d.linear_predictor(params[0], &params[1..], i));
                // A uniform in [0, 1) from the top 53 bits.
                let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                f64::from(u8::from(u < prob))
            })
            .collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    pub(crate) fn toy() -> Dataset {
        // y = 1 + 2·x1 − x2 + noise, b = 1 where y is above its median-ish, z constant.
        let n = 40;
        let x1: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin() * 2.0).collect();
        let x2: Vec<f64> = (0..n).map(|i| (i as f64 * 0.91).cos()).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| 1.0 + 2.0 * x1[i] - x2[i] + 0.3 * (i as f64 * 2.3).sin())
            .collect();
        let b: Vec<f64> = y.iter().map(|&v| f64::from(u8::from(v > 1.0))).collect();
        let z = vec![3.0; n];
        Dataset::new(
            vec!["x1".into(), "x2".into(), "y".into(), "b".into(), "z".into()],
            vec![x1, x2, y, b, z],
        )
        .unwrap()
    }

    fn linear(outcome: &str, predictors: &[&str]) -> LinearRegressionSettings {
        LinearRegressionSettings {
            outcome: outcome.into(),
            predictors: predictors.iter().map(|s| s.to_string()).collect(),
            ..LinearRegressionSettings::default()
        }
    }

    #[test]
    fn data_problems_name_the_column() {
        let data = toy();
        let e = LinearRegression::new(&linear("y", &["x1", "z"]), Some(&data)).unwrap_err();
        assert!(matches!(&e, ModelError::ConstantPredictor { column, .. } if column == "z"));
        let e = LinearRegression::new(&linear("y", &["nope"]), Some(&data)).unwrap_err();
        assert!(e.to_string().contains("\"nope\""), "{e}");
        assert!(e.hint().contains("x1"), "{}", e.hint());
        let e = LinearRegression::new(&linear("y", &["y"]), Some(&data)).unwrap_err();
        assert!(matches!(e, ModelError::OutcomeAsPredictor { .. }));
        let e = LinearRegression::new(&linear("y", &["x1", "x1"]), Some(&data)).unwrap_err();
        assert!(matches!(e, ModelError::DuplicatePredictor { .. }));
        let e = LinearRegression::new(&linear("", &["x1"]), Some(&data)).unwrap_err();
        assert!(matches!(e, ModelError::NoOutcome { .. }));
        let e = LinearRegression::new(&linear("y", &["x1"]), None).unwrap_err();
        assert!(matches!(e, ModelError::NoData { .. }));
        let logit = LogisticRegressionSettings {
            outcome: "y".into(),
            predictors: vec!["x1".into()],
            ..LogisticRegressionSettings::default()
        };
        let e = LogisticRegression::new(&logit, Some(&data)).unwrap_err();
        assert!(
            matches!(&e, ModelError::NotBinary { column, .. } if column == "y"),
            "{e}"
        );
        let tiny = Dataset::new(
            vec!["a".into(), "b".into(), "c".into()],
            vec![
                vec![1.0, 2.0, 3.0],
                vec![0.0, 1.0, 5.0],
                vec![2.0, 1.0, 0.0],
            ],
        )
        .unwrap();
        let e = LinearRegression::new(&linear("a", &["b", "c"]), Some(&tiny)).unwrap_err();
        assert!(matches!(e, ModelError::TooFewRows { rows: 3, .. }), "{e}");
        assert!(!e.title().is_empty() && !e.hint().is_empty());
    }

    #[test]
    fn the_posterior_mode_is_near_least_squares_on_clean_data() {
        // With n = 40 and weak priors the mode of the slopes is close to the generating values
        // (on the raw scale), checked by a few hundred gradient-ascent steps.
        let data = toy();
        let mut s = linear("y", &["x1", "x2"]);
        s.standardize = false;
        let m = LinearRegression::new(&s, Some(&data)).unwrap();
        let mut x = vec![0.0; 4];
        let mut g = vec![0.0; 4];
        for _ in 0..20_000 {
            m.logp_grad(&x, &mut g).unwrap();
            for (xi, gi) in x.iter_mut().zip(&g) {
                *xi += 2e-3 * gi;
            }
        }
        let c = m.constrain(&x);
        assert!((c[1] - 2.0).abs() < 0.1, "{c:?}");
        assert!((c[2] + 1.0).abs() < 0.15, "{c:?}");
        assert!(c[3] > 0.05 && c[3] < 0.6, "{c:?}");
    }

    #[test]
    fn y_rep_has_the_data_shape_and_units() {
        let data = toy();
        let m = LinearRegression::new(&linear("y", &["x1", "x2"]), Some(&data)).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let yrep = m.draw_y_rep(&[0.0, 0.0, 0.0, 1e-9], &mut rng);
        assert_eq!(yrep.len(), 40);
        // With all coefficients 0 on the standardized scale, y_rep is the outcome's mean.
        let mean_y = m.observed().iter().sum::<f64>() / 40.0;
        assert!(yrep.iter().all(|v| (v - mean_y).abs() < 1e-6));
        let logit = LogisticRegressionSettings {
            outcome: "b".into(),
            predictors: vec!["x1".into()],
            ..LogisticRegressionSettings::default()
        };
        let m = LogisticRegression::new(&logit, Some(&data)).unwrap();
        let yrep = m.draw_y_rep(&[0.0, 0.0], &mut rng);
        assert!(yrep.iter().all(|&v| v == 0.0 || v == 1.0));
        let ones = yrep.iter().sum::<f64>();
        // Binomial(40, 0.5): sd √10 ≈ 3.2, so ±16 is 5 sd.
        assert!((ones - 20.0).abs() < 16.0);
        assert!(m.draw_y_rep(&[0.0], &mut rng).is_empty());
    }
}
