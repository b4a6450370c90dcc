//! Hamiltonian dynamics with a diagonal Euclidean metric, shared by static HMC and NUTS: phase
//! points, the leapfrog integrator and Stan's initial step-size heuristic
//! (`stan/mcmc/hmc/base_hmc.hpp`, `hamiltonians/diag_e_metric.hpp`, `integrators/expl_leapfrog.hpp`).

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::SamplerError;
use crate::bayes::LogDensity;

/// A position with its momentum and the log density and gradient there. `logp = -∞` marks a
/// point where the density could not be evaluated (a recoverable error or a non-finite value);
/// its Hamiltonian is then +∞, which makes the transition divergent as in Stan.
#[derive(Debug, Clone)]
pub(crate) struct PhasePoint {
    pub q: Vec<f64>,
    pub p: Vec<f64>,
    /// Gradient of log p at `q`.
    pub grad: Vec<f64>,
    pub logp: f64,
    /// Which leapfrog of the current transition produced this point (0 = its start); lets the
    /// gallery know which trajectory point became the draw.
    pub idx: usize,
}

impl PhasePoint {
    pub fn new(dim: usize) -> Self {
        PhasePoint {
            q: vec![0.0; dim],
            p: vec![0.0; dim],
            grad: vec![0.0; dim],
            logp: f64::NEG_INFINITY,
            idx: 0,
        }
    }

    /// Copies without allocating (both points have the same dimension).
    pub fn copy_from(&mut self, other: &PhasePoint) {
        self.q.copy_from_slice(&other.q);
        self.p.copy_from_slice(&other.p);
        self.grad.copy_from_slice(&other.grad);
        self.logp = other.logp;
        self.idx = other.idx;
    }
}

/// Evaluates log p and its gradient at `z.q`. Recoverable failures give `logp = -∞` (the caller
/// treats that as a divergence or rejection); a fatal model error ends the run.
pub(crate) fn evaluate(density: &dyn LogDensity, z: &mut PhasePoint) -> Result<(), SamplerError> {
    match density.logp_grad(&z.q, &mut z.grad) {
        Ok(lp) if lp.is_finite() => z.logp = lp,
        Ok(_) => z.logp = f64::NEG_INFINITY,
        Err(e) if e.is_recoverable() => z.logp = f64::NEG_INFINITY,
        Err(e) => return Err(SamplerError::Model(e.to_string())),
    }
    Ok(())
}

/// The diagonal inverse metric (Stan's `inv_e_metric_`, an estimate of the posterior variances)
/// and the matching momentum scale 1/√inv_metric.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DiagMetric {
    pub inv_metric: Vec<f64>,
    momentum_scale: Vec<f64>,
}

impl DiagMetric {
    pub fn unit(dim: usize) -> Self {
        DiagMetric {
            inv_metric: vec![1.0; dim],
            momentum_scale: vec![1.0; dim],
        }
    }

    /// Call after changing `inv_metric`.
    pub fn refresh(&mut self) {
        for (s, &v) in self.momentum_scale.iter_mut().zip(&self.inv_metric) {
            *s = 1.0 / v.sqrt();
        }
    }

    /// p ~ N(0, M) with M = diag(1 / inv_metric).
    pub fn sample_momentum(&self, rng: &mut ChaCha8Rng, p: &mut [f64]) {
        for (pi, &s) in p.iter_mut().zip(&self.momentum_scale) {
            let z: f64 = rng.sample(StandardNormal);
            *pi = z * s;
        }
    }

    pub fn kinetic(&self, p: &[f64]) -> f64 {
        0.5 * p
            .iter()
            .zip(&self.inv_metric)
            .map(|(pi, m)| pi * pi * m)
            .sum::<f64>()
    }

    /// H = V + T with V = −log p; NaN becomes +∞ as in Stan.
    pub fn hamiltonian(&self, z: &PhasePoint) -> f64 {
        let h = -z.logp + self.kinetic(&z.p);
        if h.is_nan() {
            f64::INFINITY
        } else {
            h
        }
    }

    /// dτ/dp = M⁻¹ p, the "sharp" momentum of the generalized no-U-turn criterion.
    pub fn velocity(&self, p: &[f64], out: &mut [f64]) {
        for ((o, pi), m) in out.iter_mut().zip(p).zip(&self.inv_metric) {
            *o = pi * m;
        }
    }
}

/// One leapfrog step of size `eps` (negative to go backwards in time), in place and without
/// allocating. Stops early at a point where the density failed (its energy is +∞ anyway).
pub(crate) fn leapfrog(
    density: &dyn LogDensity,
    metric: &DiagMetric,
    z: &mut PhasePoint,
    eps: f64,
) -> Result<(), SamplerError> {
    let half = 0.5 * eps;
    for (p, g) in z.p.iter_mut().zip(&z.grad) {
        *p += half * g;
    }
    for ((q, p), m) in z.q.iter_mut().zip(&z.p).zip(&metric.inv_metric) {
        *q += eps * m * p;
    }
    evaluate(density, z)?;
    if z.logp == f64::NEG_INFINITY {
        return Ok(());
    }
    for (p, g) in z.p.iter_mut().zip(&z.grad) {
        *p += half * g;
    }
    Ok(())
}

/// Stan's `base_hmc::init_stepsize`: starting from `eps`, double or halve until the acceptance
/// probability of a single leapfrog step crosses 0.8, each trial with fresh momentum.
/// `z` holds the current position (with log p and gradient); it is left unchanged.
pub(crate) fn init_stepsize(
    density: &dyn LogDensity,
    metric: &DiagMetric,
    z: &PhasePoint,
    scratch: &mut PhasePoint,
    mut eps: f64,
    rng: &mut ChaCha8Rng,
) -> Result<f64, SamplerError> {
    // Stan skips the search for these nominal values.
    if eps == 0.0 || eps > 1e7 || eps.is_nan() {
        return Ok(eps);
    }
    let log_08 = 0.8f64.ln();
    let mut trial = |eps: f64, rng: &mut ChaCha8Rng| -> Result<f64, SamplerError> {
        scratch.copy_from(z);
        metric.sample_momentum(rng, &mut scratch.p);
        let h0 = metric.hamiltonian(scratch);
        leapfrog(density, metric, scratch, eps)?;
        Ok(h0 - metric.hamiltonian(scratch))
    };
    let delta_h = trial(eps, rng)?;
    let direction_up = delta_h > log_08;
    loop {
        let delta_h = trial(eps, rng)?;
        // delta_h is never NaN: a NaN energy was turned into +∞.
        if direction_up && delta_h <= log_08 {
            break;
        }
        if !direction_up && delta_h >= log_08 {
            break;
        }
        eps = if direction_up { 2.0 * eps } else { 0.5 * eps };
        if eps > 1e7 {
            return Err(SamplerError::ImproperPosterior);
        }
        if eps == 0.0 {
            return Err(SamplerError::NoStepSize);
        }
    }
    Ok(eps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bayes::mcmc::testing::CorrelatedNormal;
    use proptest::prelude::*;

    proptest! {
        // Leapfrog is time-reversible: L steps forward, flip the momentum, L steps forward again
        // returns to the start (up to rounding).
        #[test]
        fn leapfrog_is_reversible(
            q0 in prop::collection::vec(-3.0f64..3.0, 2),
            p0 in prop::collection::vec(-3.0f64..3.0, 2),
            eps in 0.01f64..0.5,
            n_steps in 1usize..40,
            m in prop::collection::vec(0.2f64..5.0, 2),
        ) {
            let density = CorrelatedNormal::new([1.0, 2.0], [1.0, 3.0], 0.7);
            let mut metric = DiagMetric::unit(2);
            metric.inv_metric.copy_from_slice(&m);
            metric.refresh();
            let mut z = PhasePoint::new(2);
            z.q.copy_from_slice(&q0);
            z.p.copy_from_slice(&p0);
            evaluate(&density, &mut z).unwrap();
            for _ in 0..n_steps {
                leapfrog(&density, &metric, &mut z, eps).unwrap();
            }
            for p in z.p.iter_mut() {
                *p = -*p;
            }
            for _ in 0..n_steps {
                leapfrog(&density, &metric, &mut z, eps).unwrap();
            }
            for i in 0..2 {
                prop_assert!((z.q[i] - q0[i]).abs() < 1e-8, "q {:?} vs {:?}", z.q, q0);
                prop_assert!((-z.p[i] - p0[i]).abs() < 1e-8, "p {:?} vs {:?}", z.p, p0);
            }
        }
    }

    #[test]
    fn stepsize_heuristic_lands_where_one_step_accepts_about_08() {
        let density = CorrelatedNormal::new([0.0, 0.0], [1.0, 1.0], 0.0);
        let metric = DiagMetric::unit(2);
        let mut z = PhasePoint::new(2);
        z.q.copy_from_slice(&[0.5, -0.3]);
        evaluate(&density, &mut z).unwrap();
        let mut scratch = PhasePoint::new(2);
        let mut rng = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(3);
        let eps = init_stepsize(&density, &metric, &z, &mut scratch, 1.0, &mut rng).unwrap();
        assert!(eps > 0.1 && eps < 4.0, "eps = {eps}");
    }
}
