//! Static-path Hamiltonian Monte Carlo (Neal 2011) as Stan's `base_static_hmc`: L = ⌊T/ε⌋
//! leapfrog steps then a Metropolis correction, with Stan's warm-up (`adapt_diag_e_static_hmc`):
//! dual-averaging step size and the windowed diagonal metric. [`HmcAdapt`] is shared with NUTS.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::adapt::{DualAveraging, WindowedVariance};
use super::hamiltonian::{init_stepsize, leapfrog, DiagMetric, PhasePoint};
use super::{Internals, SamplerError, SamplerSettings, TrajectoryPoint, TransitionStats};
use crate::bayes::LogDensity;

/// Step size, metric and their warm-up state (Stan's `adapt_diag_e_*` samplers).
pub(crate) struct HmcAdapt {
    pub eps: f64,
    pub metric: DiagMetric,
    dual: DualAveraging,
    windows: WindowedVariance,
    scratch: PhasePoint,
    adapted: bool,
}

impl HmcAdapt {
    /// Runs Stan's step-size heuristic at the starting point; μ = log(10·ε₀) with ε₀ the
    /// configured initial step size, as `services/sample/hmc_nuts_diag_e_adapt.hpp` sets it
    /// before the heuristic runs.
    pub fn new(
        density: &dyn LogDensity,
        s: &SamplerSettings,
        target: f64,
        start: &PhasePoint,
        rng: &mut ChaCha8Rng,
    ) -> Result<Self, SamplerError> {
        let dim = start.q.len();
        let metric = DiagMetric::unit(dim);
        let mut scratch = PhasePoint::new(dim);
        let eps = init_stepsize(
            density,
            &metric,
            start,
            &mut scratch,
            s.initial_step_size,
            rng,
        )?;
        Ok(HmcAdapt {
            eps,
            metric,
            dual: DualAveraging::new(target, s.initial_step_size),
            windows: WindowedVariance::new(
                dim,
                s.n_warmup,
                s.init_buffer,
                s.term_buffer,
                s.base_window,
            ),
            scratch,
            adapted: false,
        })
    }

    /// Stan's adaptation after a warm-up transition ending at `current`.
    pub fn learn(
        &mut self,
        density: &dyn LogDensity,
        rng: &mut ChaCha8Rng,
        current: &PhasePoint,
        accept_stat: f64,
    ) -> Result<(), SamplerError> {
        self.adapted = true;
        self.eps = self.dual.learn(accept_stat);
        if self.windows.learn(&mut self.metric.inv_metric, &current.q) {
            self.metric.refresh();
            self.eps = init_stepsize(
                density,
                &self.metric,
                current,
                &mut self.scratch,
                self.eps,
                rng,
            )?;
            self.dual.mu = (10.0 * self.eps).ln();
            self.dual.restart();
        }
        Ok(())
    }

    /// Ends warm-up: the step size becomes the dual-averaging average.
    pub fn finish_warmup(&mut self) {
        if self.adapted {
            self.eps = self.dual.final_stepsize();
        }
    }
}

pub(crate) struct StaticHmc {
    pub adapt: HmcAdapt,
    path_length: f64,
    max_steps: usize,
    z: PhasePoint,
}

impl StaticHmc {
    pub fn new(dim: usize, s: &SamplerSettings, adapt: HmcAdapt) -> Self {
        StaticHmc {
            adapt,
            path_length: s.hmc_path_length,
            max_steps: 1usize << s.max_tree_depth,
            z: PhasePoint::new(dim),
        }
    }

    pub fn transition(
        &mut self,
        density: &dyn LogDensity,
        rng: &mut ChaCha8Rng,
        current: &mut PhasePoint,
        warmup: bool,
        mut record: Option<&mut Option<Internals>>,
    ) -> Result<TransitionStats, SamplerError> {
        let eps = self.adapt.eps;
        let metric = &self.adapt.metric;
        // Stan's update_L_: at least one step; capped here so one transition stays bounded.
        let n_steps = ((self.path_length / eps) as usize).clamp(1, self.max_steps);
        let z = &mut self.z;
        z.copy_from(current);
        metric.sample_momentum(rng, &mut z.p);
        let h0 = metric.hamiltonian(z);
        let mut points = record.as_ref().map(|_| Vec::with_capacity(n_steps));
        let start = record.as_ref().map(|_| current.q.clone());
        let mut n_leapfrog = 0;
        for _ in 0..n_steps {
            leapfrog(density, metric, z, eps)?;
            n_leapfrog += 1;
            let failed = z.logp == f64::NEG_INFINITY;
            if let Some(points) = points.as_mut() {
                points.push(TrajectoryPoint {
                    position: z.q.clone(),
                    doubling: 0,
                    direction: 1,
                    energy_error: metric.hamiltonian(z) - h0,
                    divergent: failed,
                });
            }
            // The energy is +∞ from here on: the proposal is rejected whatever follows.
            if failed {
                break;
            }
        }
        let h = metric.hamiltonian(z);
        let divergent = h - h0 > 1000.0;
        let accept_prob = (h0 - h).exp();
        let u: f64 = rng.random();
        let accepted = h.is_finite() && !(accept_prob < 1.0 && u > accept_prob);
        let energy = if accepted {
            current.copy_from(z);
            h
        } else {
            h0
        };
        if let (Some(slot), Some(points), Some(start)) = (record.as_mut(), points, start) {
            let chosen = accepted.then(|| points.len() - 1);
            **slot = Some(Internals::Trajectory {
                start,
                points,
                chosen,
                rejected_doubling: None,
            });
        }
        let accept_stat = if accept_prob.is_nan() {
            0.0
        } else {
            accept_prob.min(1.0)
        };
        if warmup {
            self.adapt.learn(density, rng, current, accept_stat)?;
        }
        Ok(TransitionStats {
            accept_stat,
            step_size: eps,
            tree_depth: 0,
            n_leapfrog,
            divergent,
            energy,
        })
    }
}
