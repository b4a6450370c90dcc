//! The No-U-Turn Sampler in Stan's multinomial form (Hoffman & Gelman 2014; Betancourt 2017,
//! "A Conceptual Introduction to HMC", appendix A): trajectories grow by doubling in a random
//! direction; the draw is taken by biased progressive sampling between the old trajectory and
//! each new subtree, and uniformly (multinomially, weights e^−H) inside subtrees; growth stops on
//! the generalized no-U-turn criterion with momentum sums, checked across each merged tree and
//! across the boundaries between its halves (Stan's `base_nuts.hpp` since 2.21), at the maximum
//! depth, or at a divergence (H − H0 > 1000).
//!
//! All buffers are allocated once: a transition allocates nothing unless internals are recorded.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::hamiltonian::{leapfrog, DiagMetric, PhasePoint};
use super::hmc::HmcAdapt;
use super::{Internals, SamplerError, SamplerSettings, TrajectoryPoint, TransitionStats};
use crate::bayes::LogDensity;

/// Stan's `max_deltaH_`.
const MAX_DELTA_H: f64 = 1000.0;

fn log_sum_exp(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY {
        return b;
    }
    if b == f64::NEG_INFINITY {
        return a;
    }
    if a > b {
        a + (b - a).exp().ln_1p()
    } else {
        b + (a - b).exp().ln_1p()
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The generalized no-U-turn criterion: the momentum sum ρ still points along both ends.
fn criterion(p_sharp_minus: &[f64], p_sharp_plus: &[f64], rho: &[f64]) -> bool {
    dot(p_sharp_plus, rho) > 0.0 && dot(p_sharp_minus, rho) > 0.0
}

fn add_into(out: &mut [f64], a: &[f64], b: &[f64]) {
    for ((o, x), y) in out.iter_mut().zip(a).zip(b) {
        *o = x + y;
    }
}

/// Scratch of one recursion level of `build_tree` (the temporaries Stan allocates per call).
struct Level {
    z_propose_final: PhasePoint,
    p_init_end: Vec<f64>,
    p_sharp_init_end: Vec<f64>,
    rho_init: Vec<f64>,
    p_final_beg: Vec<f64>,
    p_sharp_final_beg: Vec<f64>,
    rho_final: Vec<f64>,
    rho_ext: Vec<f64>,
}

impl Level {
    fn new(dim: usize) -> Self {
        Level {
            z_propose_final: PhasePoint::new(dim),
            p_init_end: vec![0.0; dim],
            p_sharp_init_end: vec![0.0; dim],
            rho_init: vec![0.0; dim],
            p_final_beg: vec![0.0; dim],
            p_sharp_final_beg: vec![0.0; dim],
            rho_final: vec![0.0; dim],
            rho_ext: vec![0.0; dim],
        }
    }
}

/// Momenta and sharp momenta at the two ends of a subtree (`beg` = first leaf built).
struct Ends<'b> {
    p_sharp_beg: &'b mut [f64],
    p_sharp_end: &'b mut [f64],
    p_beg: &'b mut [f64],
    p_end: &'b mut [f64],
}

/// What stays fixed or accumulates across one transition.
struct TreeCtx<'c> {
    density: &'c dyn LogDensity,
    metric: &'c DiagMetric,
    rng: &'c mut ChaCha8Rng,
    /// Signed step size of the current doubling.
    eps: f64,
    h0: f64,
    n_leapfrog: usize,
    sum_metro_prob: f64,
    divergent: bool,
    doubling: u32,
    record: Option<&'c mut Vec<TrajectoryPoint>>,
}

#[allow(clippy::too_many_arguments)]
fn build_tree(
    ctx: &mut TreeCtx,
    levels: &mut [Level],
    depth: usize,
    z: &mut PhasePoint,
    z_propose: &mut PhasePoint,
    ends: Ends,
    rho: &mut [f64],
    log_sum_weight: &mut f64,
) -> Result<bool, SamplerError> {
    if depth == 0 {
        leapfrog(ctx.density, ctx.metric, z, ctx.eps)?;
        ctx.n_leapfrog += 1;
        z.idx = ctx.n_leapfrog;
        let h = ctx.metric.hamiltonian(z);
        if h - ctx.h0 > MAX_DELTA_H {
            ctx.divergent = true;
        }
        *log_sum_weight = log_sum_exp(*log_sum_weight, ctx.h0 - h);
        ctx.sum_metro_prob += if ctx.h0 - h > 0.0 {
            1.0
        } else {
            (ctx.h0 - h).exp()
        };
        z_propose.copy_from(z);
        ctx.metric.velocity(&z.p, ends.p_sharp_beg);
        ends.p_sharp_end.copy_from_slice(ends.p_sharp_beg);
        for (r, p) in rho.iter_mut().zip(&z.p) {
            *r += p;
        }
        ends.p_beg.copy_from_slice(&z.p);
        ends.p_end.copy_from_slice(&z.p);
        if let Some(rec) = ctx.record.as_mut() {
            rec.push(TrajectoryPoint {
                position: z.q.clone(),
                doubling: ctx.doubling,
                direction: if ctx.eps > 0.0 { 1 } else { -1 },
                energy_error: h - ctx.h0,
                divergent: ctx.divergent,
            });
        }
        return Ok(!ctx.divergent);
    }
    let (below, rest) = levels.split_at_mut(depth - 1);
    let lvl = &mut rest[0];

    let mut log_sum_weight_init = f64::NEG_INFINITY;
    lvl.rho_init.fill(0.0);
    let valid_init = build_tree(
        ctx,
        below,
        depth - 1,
        z,
        z_propose,
        Ends {
            p_sharp_beg: &mut *ends.p_sharp_beg,
            p_sharp_end: &mut lvl.p_sharp_init_end,
            p_beg: &mut *ends.p_beg,
            p_end: &mut lvl.p_init_end,
        },
        &mut lvl.rho_init,
        &mut log_sum_weight_init,
    )?;
    if !valid_init {
        return Ok(false);
    }

    let mut log_sum_weight_final = f64::NEG_INFINITY;
    lvl.rho_final.fill(0.0);
    let valid_final = build_tree(
        ctx,
        below,
        depth - 1,
        z,
        &mut lvl.z_propose_final,
        Ends {
            p_sharp_beg: &mut lvl.p_sharp_final_beg,
            p_sharp_end: &mut *ends.p_sharp_end,
            p_beg: &mut lvl.p_final_beg,
            p_end: &mut *ends.p_end,
        },
        &mut lvl.rho_final,
        &mut log_sum_weight_final,
    )?;
    if !valid_final {
        return Ok(false);
    }

    // Uniform (multinomial) sampling between the two halves of the subtree.
    let log_sum_weight_subtree = log_sum_exp(log_sum_weight_init, log_sum_weight_final);
    *log_sum_weight = log_sum_exp(*log_sum_weight, log_sum_weight_subtree);
    if log_sum_weight_final > log_sum_weight_subtree {
        z_propose.copy_from(&lvl.z_propose_final);
    } else {
        let accept_prob = (log_sum_weight_final - log_sum_weight_subtree).exp();
        if ctx.rng.random::<f64>() < accept_prob {
            z_propose.copy_from(&lvl.z_propose_final);
        }
    }

    add_into(&mut lvl.rho_ext, &lvl.rho_init, &lvl.rho_final);
    for (r, s) in rho.iter_mut().zip(&lvl.rho_ext) {
        *r += s;
    }
    // Around the merged subtree, then across the boundary between its halves.
    if !criterion(ends.p_sharp_beg, ends.p_sharp_end, &lvl.rho_ext) {
        return Ok(false);
    }
    add_into(&mut lvl.rho_ext, &lvl.rho_init, &lvl.p_final_beg);
    if !criterion(ends.p_sharp_beg, &lvl.p_sharp_final_beg, &lvl.rho_ext) {
        return Ok(false);
    }
    add_into(&mut lvl.rho_ext, &lvl.rho_final, &lvl.p_init_end);
    Ok(criterion(
        &lvl.p_sharp_init_end,
        ends.p_sharp_end,
        &lvl.rho_ext,
    ))
}

pub(crate) struct Nuts {
    pub adapt: HmcAdapt,
    max_depth: usize,
    z: PhasePoint,
    z_fwd: PhasePoint,
    z_bck: PhasePoint,
    z_sample: PhasePoint,
    z_propose: PhasePoint,
    p_fwd_fwd: Vec<f64>,
    p_sharp_fwd_fwd: Vec<f64>,
    p_fwd_bck: Vec<f64>,
    p_sharp_fwd_bck: Vec<f64>,
    p_bck_fwd: Vec<f64>,
    p_sharp_bck_fwd: Vec<f64>,
    p_bck_bck: Vec<f64>,
    p_sharp_bck_bck: Vec<f64>,
    rho: Vec<f64>,
    rho_fwd: Vec<f64>,
    rho_bck: Vec<f64>,
    rho_ext: Vec<f64>,
    levels: Vec<Level>,
}

impl Nuts {
    pub fn new(dim: usize, s: &SamplerSettings, adapt: HmcAdapt) -> Self {
        let v = || vec![0.0; dim];
        Nuts {
            adapt,
            max_depth: s.max_tree_depth,
            z: PhasePoint::new(dim),
            z_fwd: PhasePoint::new(dim),
            z_bck: PhasePoint::new(dim),
            z_sample: PhasePoint::new(dim),
            z_propose: PhasePoint::new(dim),
            p_fwd_fwd: v(),
            p_sharp_fwd_fwd: v(),
            p_fwd_bck: v(),
            p_sharp_fwd_bck: v(),
            p_bck_fwd: v(),
            p_sharp_bck_fwd: v(),
            p_bck_bck: v(),
            p_sharp_bck_bck: v(),
            rho: v(),
            rho_fwd: v(),
            rho_bck: v(),
            rho_ext: v(),
            levels: (0..s.max_tree_depth).map(|_| Level::new(dim)).collect(),
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
        let Nuts {
            adapt,
            max_depth,
            z,
            z_fwd,
            z_bck,
            z_sample,
            z_propose,
            p_fwd_fwd,
            p_sharp_fwd_fwd,
            p_fwd_bck,
            p_sharp_fwd_bck,
            p_bck_fwd,
            p_sharp_bck_fwd,
            p_bck_bck,
            p_sharp_bck_bck,
            rho,
            rho_fwd,
            rho_bck,
            rho_ext,
            levels,
        } = self;
        let eps = adapt.eps;
        let metric = &adapt.metric;

        z.copy_from(current);
        z.idx = 0;
        metric.sample_momentum(rng, &mut z.p);
        z_fwd.copy_from(z);
        z_bck.copy_from(z);
        z_sample.copy_from(z);
        z_propose.copy_from(z);
        metric.velocity(&z.p, p_sharp_fwd_fwd);
        for buf in [
            &mut *p_fwd_fwd,
            &mut *p_fwd_bck,
            &mut *p_bck_fwd,
            &mut *p_bck_bck,
            &mut *rho,
        ] {
            buf.copy_from_slice(&z.p);
        }
        p_sharp_fwd_bck.copy_from_slice(p_sharp_fwd_fwd);
        p_sharp_bck_fwd.copy_from_slice(p_sharp_fwd_fwd);
        p_sharp_bck_bck.copy_from_slice(p_sharp_fwd_fwd);

        let mut points = record.as_ref().map(|_| Vec::new());
        let start = record.as_ref().map(|_| current.q.clone());
        let mut log_sum_weight = 0.0;
        let h0 = metric.hamiltonian(z);
        let mut ctx = TreeCtx {
            density,
            metric,
            rng: &mut *rng,
            eps,
            h0,
            n_leapfrog: 0,
            sum_metro_prob: 0.0,
            divergent: false,
            doubling: 0,
            record: points.as_mut(),
        };

        let mut depth = 0;
        let mut rejected_doubling = None;
        while depth < *max_depth {
            rho_fwd.fill(0.0);
            rho_bck.fill(0.0);
            let mut log_sum_weight_subtree = f64::NEG_INFINITY;
            ctx.doubling = depth as u32;
            let valid = if ctx.rng.random::<f64>() > 0.5 {
                // Extend forward: the old trajectory becomes the backward subtree.
                z.copy_from(z_fwd);
                rho_bck.copy_from_slice(rho);
                p_bck_fwd.copy_from_slice(p_fwd_fwd);
                p_sharp_bck_fwd.copy_from_slice(p_sharp_fwd_fwd);
                ctx.eps = eps;
                let valid = build_tree(
                    &mut ctx,
                    levels,
                    depth,
                    z,
                    z_propose,
                    Ends {
                        p_sharp_beg: &mut p_sharp_fwd_bck[..],
                        p_sharp_end: &mut p_sharp_fwd_fwd[..],
                        p_beg: &mut p_fwd_bck[..],
                        p_end: &mut p_fwd_fwd[..],
                    },
                    rho_fwd,
                    &mut log_sum_weight_subtree,
                )?;
                z_fwd.copy_from(z);
                valid
            } else {
                z.copy_from(z_bck);
                rho_fwd.copy_from_slice(rho);
                p_fwd_bck.copy_from_slice(p_bck_bck);
                p_sharp_fwd_bck.copy_from_slice(p_sharp_bck_bck);
                ctx.eps = -eps;
                let valid = build_tree(
                    &mut ctx,
                    levels,
                    depth,
                    z,
                    z_propose,
                    Ends {
                        p_sharp_beg: &mut p_sharp_bck_fwd[..],
                        p_sharp_end: &mut p_sharp_bck_bck[..],
                        p_beg: &mut p_bck_fwd[..],
                        p_end: &mut p_bck_bck[..],
                    },
                    rho_bck,
                    &mut log_sum_weight_subtree,
                )?;
                z_bck.copy_from(z);
                valid
            };
            if !valid {
                rejected_doubling = Some(depth as u32);
                break;
            }
            depth += 1;

            // Biased progressive sampling: favour the new subtree.
            if log_sum_weight_subtree > log_sum_weight {
                z_sample.copy_from(z_propose);
            } else {
                let accept_prob = (log_sum_weight_subtree - log_sum_weight).exp();
                if ctx.rng.random::<f64>() < accept_prob {
                    z_sample.copy_from(z_propose);
                }
            }
            log_sum_weight = log_sum_exp(log_sum_weight, log_sum_weight_subtree);

            add_into(rho, rho_bck, rho_fwd);
            let mut persist = criterion(p_sharp_bck_bck, p_sharp_fwd_fwd, rho);
            if persist {
                add_into(rho_ext, rho_bck, p_fwd_bck);
                persist = criterion(p_sharp_bck_bck, p_sharp_fwd_bck, rho_ext);
            }
            if persist {
                add_into(rho_ext, rho_fwd, p_bck_fwd);
                persist = criterion(p_sharp_bck_fwd, p_sharp_fwd_fwd, rho_ext);
            }
            if !persist {
                break;
            }
        }

        let n_leapfrog = ctx.n_leapfrog;
        let accept_stat = ctx.sum_metro_prob / n_leapfrog as f64;
        let divergent = ctx.divergent;
        current.copy_from(z_sample);
        let energy = metric.hamiltonian(current);
        if let (Some(slot), Some(points), Some(start)) = (record, points, start) {
            *slot = Some(Internals::Trajectory {
                start,
                points,
                chosen: (current.idx > 0).then(|| current.idx - 1),
                rejected_doubling,
            });
        }
        if warmup {
            adapt.learn(density, rng, current, accept_stat)?;
        }
        Ok(TransitionStats {
            accept_stat,
            step_size: eps,
            tree_depth: depth as u32,
            n_leapfrog: n_leapfrog as u32,
            divergent,
            energy,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bayes::mcmc::testing::DiagNormal;
    use crate::bayes::mcmc::{chain_rng, Chain, SamplerMethod, SamplerSettings};
    use crate::bayes::LogpError;
    use crate::run::StepOutcome;
    use rand_distr::StandardNormal;

    /// y_i ~ N(μ, 1), μ ~ N(0, 1): the posterior is N(Σy/(n+1), 1/(n+1)).
    struct NormalMean {
        y: Vec<f64>,
    }

    impl LogDensity for NormalMean {
        fn dim(&self) -> usize {
            1
        }
        fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogpError> {
            let mu = x[0];
            let mut lp = -0.5 * mu * mu;
            grad[0] = -mu;
            for y in &self.y {
                lp -= 0.5 * (y - mu) * (y - mu);
                grad[0] += y - mu;
            }
            Ok(lp)
        }
        fn param_names(&self) -> Vec<String> {
            vec!["mu".into()]
        }
        fn constrain(&self, x: &[f64]) -> Vec<f64> {
            x.to_vec()
        }
    }

    #[test]
    fn tree_depth_and_leapfrogs_respect_the_maximum_depth() {
        let target = DiagNormal::standard(3);
        let s = SamplerSettings {
            method: SamplerMethod::Nuts,
            max_tree_depth: 2,
            initial_step_size: 0.01,
            n_warmup: 0,
            n_draws: 50,
            ..SamplerSettings::default()
        };
        let mut chain = Chain::new(&target, s).unwrap();
        while let StepOutcome::Continue = chain.step().unwrap() {}
        for d in &chain.trace().draws {
            assert!(d.stats.tree_depth <= 2 && d.stats.n_leapfrog <= 3);
        }
    }

    #[test]
    fn log_sum_exp_handles_infinities() {
        assert_eq!(log_sum_exp(f64::NEG_INFINITY, 1.5), 1.5);
        assert_eq!(log_sum_exp(0.3, f64::NEG_INFINITY), 0.3);
        assert!((log_sum_exp(0.0, 0.0) - 2f64.ln()).abs() < 1e-15);
    }

    /// Simulation-based calibration (Talts et al. 2018) on the conjugate normal-mean model:
    /// 1000 replications (200 could not tell a posterior √5 times too wide), each ranking the true μ among 99 thinned posterior draws; the 100
    /// possible ranks are pooled into 10 bins and tested for uniformity with χ²(9) at α = 0.001.
    #[test]
    fn nuts_passes_simulation_based_calibration_on_a_conjugate_model() {
        let n_reps = 1000;
        let mut rng = chain_rng(2024, 0);
        let mut bins = [0usize; 10];
        for rep in 0..n_reps {
            let mu: f64 = rng.sample(StandardNormal);
            let y = (0..5)
                .map(|_| mu + rng.sample::<f64, _>(StandardNormal))
                .collect();
            let model = NormalMean { y };
            let s = SamplerSettings {
                n_warmup: 300,
                n_draws: 990,
                seed: 77,
                chain: rep,
                ..SamplerSettings::default()
            };
            let mut chain = Chain::new(&model, s).unwrap();
            while let StepOutcome::Continue = chain.step().unwrap() {}
            let draws = chain.trace().column(0);
            let rank = draws.iter().step_by(10).filter(|&&d| d < mu).count();
            bins[rank / 10] += 1;
        }
        let expected = n_reps as f64 / 10.0;
        let chi2: f64 = bins
            .iter()
            .map(|&b| (b as f64 - expected).powi(2) / expected)
            .sum();
        assert!(chi2 < 27.877, "χ² = {chi2}, bins {bins:?}");
    }
}
