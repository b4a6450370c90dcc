//! Two-dimensional target densities for watching samplers work: shapes that each defeat some
//! method (curved ridges, rings, funnels, separated modes, strong correlation). The gallery of
//! chi-feng/mcmc-demo is the inspiration for the set; the formulas and constants below are this
//! crate's own, each with its source where it has one.

use super::special::log_add_exp;
use super::{check_point, finish};
use crate::bayes::{LogDensity, LogpError};
use crate::fastmath;

/// Which 2D target, with its few constants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target2d {
    /// Twisted Gaussian (Haario, Saksman & Tamminen 1999, "Adaptive proposal distribution for
    /// random walk Metropolis", Comput. Statist. 14; their σ₁ = 10 shrunk to 2 so it fits
    /// the plot): x ~ Normal(0, 2²), y | x ~ Normal(b(x² − 4), 1), b = 0.25.
    Banana,
    /// A ring: log p = −(r − 2.5)² / (2·0.2²), r = √(x² + y²). No source beyond the gallery.
    Donut,
    /// Neal's funnel (Neal 2003, "Slice sampling", Ann. Statist. 31), in two dimensions:
    /// v ~ Normal(0, 3²), x | v ~ Normal(0, e^{v/2}) (variance eᵛ).
    Funnel,
    /// An equal mixture of three Normal(c_k, 0.6²·I) with centres (−2, −1), (2, −1), (0, 2).
    Multimodal,
    /// A wavy ribbon: x ~ Normal(0, 2²), y | x ~ Normal(1.5·sin(2x), 0.3²).
    Squiggle,
    /// Standard normal marginals with correlation ρ (|ρ| < 1).
    Normal2d { rho: f64 },
}

const BANANA_A: f64 = 2.0;
const BANANA_B: f64 = 0.25;
const DONUT_RADIUS: f64 = 2.5;
const DONUT_SD: f64 = 0.2;
const MODES: [[f64; 2]; 3] = [[-2.0, -1.0], [2.0, -1.0], [0.0, 2.0]];
const MODE_SD: f64 = 0.6;
const SQUIGGLE_X_SD: f64 = 2.0;
const SQUIGGLE_AMPLITUDE: f64 = 1.5;
const SQUIGGLE_FREQUENCY: f64 = 2.0;
const SQUIGGLE_WIDTH: f64 = 0.3;

impl Target2d {
    /// The region a plot of the density should show, `([x_min, x_max], [y_min, y_max])` in the
    /// order of the parameter names: each holds more than 99 % of the mass, except the funnel,
    /// whose box is v's ±3 sd and x ∈ [−10, 10] — at large v, x spreads (sd e^{v/2} ≈ 90 at
    /// v = 9) beyond any box that would still show the neck.
    pub fn view_box(&self) -> ([f64; 2], [f64; 2]) {
        match self {
            Target2d::Banana => ([-6.5, 6.5], [-4.5, 10.0]),
            Target2d::Donut => ([-3.5, 3.5], [-3.5, 3.5]),
            Target2d::Funnel => ([-9.0, 9.0], [-10.0, 10.0]),
            Target2d::Multimodal => ([-4.5, 4.5], [-3.5, 4.5]),
            Target2d::Squiggle => ([-6.0, 6.0], [-3.0, 3.0]),
            Target2d::Normal2d { .. } => ([-3.5, 3.5], [-3.5, 3.5]),
        }
    }
}

impl LogDensity for Target2d {
    fn dim(&self) -> usize {
        2
    }

    fn logp_grad(&self, p: &[f64], grad: &mut [f64]) -> Result<f64, LogpError> {
        check_point(p, grad, 2)?;
        let (x, y) = (p[0], p[1]);
        let lp = match *self {
            Target2d::Banana => {
                let u = y - BANANA_B * (x * x - BANANA_A * BANANA_A);
                grad[0] = -x / (BANANA_A * BANANA_A) + u * 2.0 * BANANA_B * x;
                grad[1] = -u;
                -0.5 * x * x / (BANANA_A * BANANA_A) - 0.5 * u * u
            }
            Target2d::Donut => {
                let r = x.hypot(y);
                let k = -(r - DONUT_RADIUS) / (DONUT_SD * DONUT_SD);
                // At the centre the density has a cone point; any subgradient will do and 0
                // is the symmetric one.
                if r > 0.0 {
                    grad[0] = k * x / r;
                    grad[1] = k * y / r;
                } else {
                    grad.fill(0.0);
                }
                -0.5 * (r - DONUT_RADIUS).powi(2) / (DONUT_SD * DONUT_SD)
            }
            Target2d::Funnel => {
                let (v, x) = (x, y);
                let e = fastmath::exp(-v);
                grad[0] = -v / 9.0 + 0.5 * x * x * e - 0.5;
                grad[1] = -x * e;
                -v * v / 18.0 - 0.5 * x * x * e - 0.5 * v
            }
            Target2d::Multimodal => {
                let s2 = MODE_SD * MODE_SD;
                let logs = MODES.map(|c| -0.5 * ((x - c[0]).powi(2) + (y - c[1]).powi(2)) / s2);
                let lse = logs
                    .iter()
                    .fold(f64::NEG_INFINITY, |a, &b| log_add_exp(a, b));
                grad.fill(0.0);
                for (c, l) in MODES.iter().zip(logs) {
                    let r = fastmath::exp(l - lse);
                    grad[0] -= r * (x - c[0]) / s2;
                    grad[1] -= r * (y - c[1]) / s2;
                }
                lse
            }
            Target2d::Squiggle => {
                let w2 = SQUIGGLE_WIDTH * SQUIGGLE_WIDTH;
                let sx2 = SQUIGGLE_X_SD * SQUIGGLE_X_SD;
                let u = y - SQUIGGLE_AMPLITUDE * (SQUIGGLE_FREQUENCY * x).sin();
                grad[0] = -x / sx2
                    + u / w2
                        * SQUIGGLE_AMPLITUDE
                        * SQUIGGLE_FREQUENCY
                        * (SQUIGGLE_FREQUENCY * x).cos();
                grad[1] = -u / w2;
                -0.5 * x * x / sx2 - 0.5 * u * u / w2
            }
            Target2d::Normal2d { rho } => {
                let c = 1.0 - rho * rho;
                grad[0] = -(x - rho * y) / c;
                grad[1] = -(y - rho * x) / c;
                -0.5 * (x * x - 2.0 * rho * x * y + y * y) / c
            }
        };
        finish(lp, grad)
    }

    fn param_names(&self) -> Vec<String> {
        match self {
            Target2d::Funnel => vec!["v".into(), "x".into()],
            _ => vec!["x".into(), "y".into()],
        }
    }

    fn constrain(&self, x: &[f64]) -> Vec<f64> {
        x.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bayes::mcmc::testing::{ess, mean};
    use crate::bayes::mcmc::{Chain, SamplerSettings};
    use crate::run::StepOutcome;

    #[test]
    fn the_funnel_and_banana_have_their_stated_marginals() {
        // Both are built as p(first) p(second | first), so the first coordinate's marginal is
        // exactly Normal(0, 3²) (funnel v) / Normal(0, 2²) (banana x); check the means within
        // 4 MCSE from NUTS draws (MCSE = sd / √ESS, ESS by Geyer).
        for (target, sd) in [(Target2d::Funnel, 3.0), (Target2d::Banana, 2.0)] {
            let s = SamplerSettings {
                seed: 17,
                ..SamplerSettings::default()
            };
            let mut c = Chain::new(&target, s).unwrap();
            while let StepOutcome::Continue = c.step().unwrap() {}
            let v = c.trace().column(0);
            let mcse = sd / ess(&v).sqrt();
            assert!(mean(&v).abs() < 4.0 * mcse, "{target:?}: {}", mean(&v));
        }
    }

    #[test]
    fn the_view_boxes_hold_the_mass() {
        // A grid over a box twice the size: the view box must hold > 99 % of the grid's mass.
        // (The funnel is left out: see `view_box`.)
        for t in [
            Target2d::Banana,
            Target2d::Donut,
            Target2d::Multimodal,
            Target2d::Squiggle,
            Target2d::Normal2d { rho: 0.9 },
        ] {
            let ([x0, x1], [y0, y1]) = t.view_box();
            let (cx, cy, wx, wy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0, x1 - x0, y1 - y0);
            let (mut inside, mut all) = (0.0, 0.0);
            let n = 400;
            for i in 0..n {
                for j in 0..n {
                    let x = cx - wx + 2.0 * wx * (i as f64 + 0.5) / n as f64;
                    let y = cy - wy + 2.0 * wy * (j as f64 + 0.5) / n as f64;
                    let p = t.logp(&[x, y]).map_or(0.0, f64::exp);
                    all += p;
                    if (x0..=x1).contains(&x) && (y0..=y1).contains(&y) {
                        inside += p;
                    }
                }
            }
            assert!(inside / all > 0.99, "{t:?}: {}", inside / all);
        }
    }

    #[test]
    fn the_donut_peaks_on_its_ring_and_the_funnel_overflow_is_recoverable() {
        let d = Target2d::Donut;
        let on = d.logp(&[DONUT_RADIUS, 0.0]).unwrap();
        assert!(on.abs() < 1e-12);
        assert!(d.logp(&[0.0, 0.0]).unwrap() < on);
        let mut g = [0.0; 2];
        assert!(Target2d::Funnel.logp_grad(&[-800.0, 1.0], &mut g).is_err());
        assert_eq!(Target2d::Funnel.param_names(), ["v", "x"]);
    }
}
