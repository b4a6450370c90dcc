//! Random-walk Metropolis (Metropolis et al. 1953) with a Gaussian proposal
//! x' = x + λ·diag(σ)·z. During warm-up the log scale λ follows a Robbins–Monro recursion toward
//! the target acceptance rate (Andrieu & Thoms 2008, Algorithm 4, with gains t^−0.6), starting
//! from λ = 2.38/√d (Roberts & Rosenthal 2001), and σ² is the windowed variance estimate of
//! Stan's schedule; both are fixed after warm-up so the kept chain is a valid Markov chain.

use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;

use super::adapt::WindowedVariance;
use super::hamiltonian::PhasePoint;
use super::{Internals, SamplerError, SamplerSettings, TransitionStats};
use crate::bayes::LogDensity;

pub(crate) struct Rwmh {
    pub scale: f64,
    target: f64,
    n_adapt: f64,
    pub var: Vec<f64>,
    sd: Vec<f64>,
    windows: WindowedVariance,
    proposal: Vec<f64>,
}

impl Rwmh {
    pub fn new(dim: usize, s: &SamplerSettings, target: f64) -> Self {
        Rwmh {
            scale: 2.38 / (dim.max(1) as f64).sqrt(),
            target,
            n_adapt: 0.0,
            var: vec![1.0; dim],
            sd: vec![1.0; dim],
            windows: WindowedVariance::new(
                dim,
                s.n_warmup,
                s.init_buffer,
                s.term_buffer,
                s.base_window,
            ),
            proposal: vec![0.0; dim],
        }
    }

    pub fn transition(
        &mut self,
        density: &dyn LogDensity,
        rng: &mut ChaCha8Rng,
        current: &mut PhasePoint,
        warmup: bool,
        record: Option<&mut Option<Internals>>,
    ) -> Result<TransitionStats, SamplerError> {
        for ((x, q), sd) in self.proposal.iter_mut().zip(&current.q).zip(&self.sd) {
            let z: f64 = rng.sample(StandardNormal);
            *x = q + self.scale * sd * z;
        }
        let lp_new = match density.logp(&self.proposal) {
            Ok(lp) if lp.is_finite() => lp,
            Ok(_) => f64::NEG_INFINITY,
            Err(e) if e.is_recoverable() => f64::NEG_INFINITY,
            Err(e) => return Err(SamplerError::Model(e.to_string())),
        };
        let log_ratio = lp_new - current.logp;
        let u: f64 = rng.random();
        let accepted = lp_new.is_finite() && u.ln() < log_ratio;
        let accept_stat = if lp_new.is_finite() {
            log_ratio.exp().min(1.0)
        } else {
            0.0
        };
        if let Some(slot) = record {
            *slot = Some(Internals::Rwmh {
                start: current.q.clone(),
                proposal: self.proposal.clone(),
                log_accept_ratio: log_ratio,
                accepted,
            });
        }
        let used_scale = self.scale;
        if accepted {
            current.q.copy_from_slice(&self.proposal);
            current.logp = lp_new;
        }
        if warmup {
            self.n_adapt += 1.0;
            let gain = self.n_adapt.powf(-0.6);
            self.scale *= (gain * (accept_stat - self.target)).exp();
            if self.windows.learn(&mut self.var, &current.q) {
                for (s, v) in self.sd.iter_mut().zip(&self.var) {
                    *s = v.sqrt();
                }
            }
        }
        Ok(TransitionStats {
            accept_stat,
            step_size: used_scale,
            tree_depth: 0,
            n_leapfrog: 0,
            divergent: false,
            energy: -current.logp,
        })
    }
}
