//! Markov chain Monte Carlo on a [`LogDensity`]: one steppable [`Chain`] driver over three
//! transition kernels — random-walk Metropolis ([`SamplerMethod::Rwmh`]), static-path HMC
//! ([`SamplerMethod::Hmc`]) and Stan's multinomial NUTS ([`SamplerMethod::Nuts`]) — with Stan's
//! warm-up, a [`Trace`] of draws and per-draw sampler statistics, and opt-in [`Internals`]
//! (proposals, leapfrog points, NUTS trees) for the teaching gallery.
//!
//! One [`Chain::step`] is one transition; the caller owns the loop.

pub(crate) mod adapt;
pub(crate) mod hamiltonian;
mod hmc;
mod nuts;
mod rwmh;
#[cfg(test)]
pub(crate) mod testing;

use std::rc::Rc;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use self::hamiltonian::{evaluate, PhasePoint};
use self::hmc::{HmcAdapt, StaticHmc};
use self::nuts::Nuts;
use self::rwmh::Rwmh;
use crate::bayes::LogDensity;
use crate::run::{Progress, StepOutcome, StopReason};

/// Which transition kernel a chain uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SamplerMethod {
    /// Random-walk Metropolis with a Gaussian proposal.
    Rwmh,
    /// Hamiltonian Monte Carlo with a static path length.
    Hmc,
    /// The No-U-Turn Sampler, multinomial variant as in Stan.
    Nuts,
}

/// Settings of one chain. Defaults follow CmdStan's `sample` method unless noted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SamplerSettings {
    pub method: SamplerMethod,
    /// Warm-up (adaptation) iterations (CmdStan `num_warmup=1000`).
    pub n_warmup: usize,
    /// Kept iterations after warm-up (CmdStan `num_samples=1000`).
    pub n_draws: usize,
    /// Seed of the run; every chain of a run shares it.
    pub seed: u64,
    /// Index of this chain: chain `k` uses ChaCha stream `k` of the seed, so chains are
    /// independent and each is reproducible on its own.
    pub chain: u64,
    /// Target mean acceptance statistic; `None` takes the method's default: 0.8 for HMC and
    /// NUTS (CmdStan `adapt delta=0.8`), 0.234 for random-walk Metropolis (Roberts, Gelman &
    /// Gilks 1997, the optimal rate as the dimension grows).
    pub target_accept: Option<f64>,
    /// NUTS maximum tree depth (CmdStan `max_depth=10`); also caps static HMC at 2^depth
    /// leapfrog steps per transition so one step stays bounded.
    pub max_tree_depth: usize,
    /// Initial values are drawn uniformly from (−r, r) on the unconstrained scale
    /// (CmdStan `init=2`); 0 starts at the origin.
    pub init_radius: f64,
    /// Static HMC integration time ε·L (CmdStan `static int_time=2π`).
    pub hmc_path_length: f64,
    /// Step size the heuristic starts from (CmdStan `stepsize=1`).
    pub initial_step_size: f64,
    /// Windowed adaptation: initial fast buffer (CmdStan `init_buffer=75`).
    pub init_buffer: usize,
    /// Terminal fast buffer (CmdStan `term_buffer=50`).
    pub term_buffer: usize,
    /// First slow window (CmdStan `window=25`).
    pub base_window: usize,
    /// Keep the proposals / leapfrog points / trees of the last transition (gallery only).
    pub record_internals: bool,
}

impl Default for SamplerSettings {
    fn default() -> Self {
        SamplerSettings {
            method: SamplerMethod::Nuts,
            n_warmup: 1000,
            n_draws: 1000,
            seed: 0,
            chain: 0,
            target_accept: None,
            max_tree_depth: 10,
            init_radius: 2.0,
            hmc_path_length: 2.0 * std::f64::consts::PI,
            initial_step_size: 1.0,
            init_buffer: 75,
            term_buffer: 50,
            base_window: 25,
            record_internals: false,
        }
    }
}

impl SamplerSettings {
    /// The target acceptance statistic in force.
    pub fn effective_target_accept(&self) -> f64 {
        self.target_accept.unwrap_or(match self.method {
            SamplerMethod::Rwmh => 0.234,
            SamplerMethod::Hmc | SamplerMethod::Nuts => 0.8,
        })
    }

    /// Checks every setting, naming the first bad one.
    pub fn validate(&self) -> Result<(), SamplerError> {
        let bad = |name: &'static str, value: String, allowed: &'static str| {
            Err(SamplerError::InvalidSetting {
                name,
                value,
                allowed,
            })
        };
        if self.n_warmup + self.n_draws == 0 {
            return bad(
                "the number of draws",
                "0".into(),
                "at least 1 (warm-up plus draws), e.g. 1000",
            );
        }
        if self.n_warmup > 1_000_000 || self.n_draws > 1_000_000 {
            return bad(
                "the number of iterations",
                format!("{} + {}", self.n_warmup, self.n_draws),
                "at most 1,000,000 warm-up and 1,000,000 draws",
            );
        }
        let t = self.effective_target_accept();
        if !(t > 0.0 && t < 1.0) {
            return bad(
                "the target acceptance rate",
                t.to_string(),
                "strictly between 0 and 1, e.g. 0.8",
            );
        }
        if !(1..=20).contains(&self.max_tree_depth) {
            return bad(
                "the maximum tree depth",
                self.max_tree_depth.to_string(),
                "between 1 and 20, e.g. 10",
            );
        }
        if !(self.init_radius >= 0.0 && self.init_radius <= 1e6) {
            return bad(
                "the initial radius",
                self.init_radius.to_string(),
                "a number ≥ 0, e.g. 2",
            );
        }
        if !(self.hmc_path_length > 0.0 && self.hmc_path_length <= 1e6) {
            return bad(
                "the HMC path length",
                self.hmc_path_length.to_string(),
                "a number > 0, e.g. 6.28",
            );
        }
        if !(self.initial_step_size > 0.0 && self.initial_step_size <= 1e6) {
            return bad(
                "the initial step size",
                self.initial_step_size.to_string(),
                "a number > 0, e.g. 1",
            );
        }
        if self.base_window == 0 {
            return bad(
                "the first adaptation window",
                "0".into(),
                "at least 1, e.g. 25",
            );
        }
        Ok(())
    }
}

/// Why a chain could not start or go on.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SamplerError {
    #[error("{name} is {value}; it must be {allowed}")]
    InvalidSetting {
        name: &'static str,
        value: String,
        allowed: &'static str,
    },
    #[error("no starting point with a finite log density was found in {attempts} random tries within (−{radius}, {radius})")]
    InitFailed { attempts: usize, radius: f64 },
    #[error("the starting point has {got} coordinates but the model has {expected}")]
    InitDimension { got: usize, expected: usize },
    #[error("the model cannot be evaluated: {0}")]
    Model(String),
    #[error("the step size grew beyond 10⁷: the posterior is improper")]
    ImproperPosterior,
    #[error("no acceptably small step size could be found")]
    NoStepSize,
}

impl SamplerError {
    /// A short heading for the page.
    pub fn title(&self) -> &'static str {
        match self {
            SamplerError::InvalidSetting { .. } => "Invalid setting",
            SamplerError::InitFailed { .. } | SamplerError::InitDimension { .. } => {
                "Could not start the sampler"
            }
            SamplerError::Model(_) => "The model failed",
            SamplerError::ImproperPosterior => "Improper posterior",
            SamplerError::NoStepSize => "The sampler could not find a step size",
        }
    }

    /// What the user can do about it.
    pub fn hint(&self) -> String {
        match self {
            SamplerError::InvalidSetting { name, .. } => {
                format!("Change {name} in the settings, or reset the settings to their defaults.")
            }
            SamplerError::InitFailed { .. } => "Check the model's data and priors for values \
                outside their support, or lower the initial radius (e.g. to 0.5)."
                .into(),
            SamplerError::InitDimension { expected, .. } => {
                format!("Give a starting point with {expected} values.")
            }
            SamplerError::Model(_) => "Check the data bound to the model.".into(),
            SamplerError::ImproperPosterior => "Add a proper prior for every parameter; a flat \
                prior on an unbounded parameter with little data cannot be sampled."
                .into(),
            SamplerError::NoStepSize => "The density may be discontinuous or have a \
                singularity near the starting point; check the model or try another seed."
                .into(),
        }
    }
}

/// A log density borrowed, owned or shared; chains and ADVI accept any of these.
pub enum Density<'a> {
    Borrowed(&'a dyn LogDensity),
    Owned(Box<dyn LogDensity + 'a>),
    Shared(Rc<dyn LogDensity + 'a>),
}

impl Density<'_> {
    pub fn get(&self) -> &dyn LogDensity {
        match self {
            Density::Borrowed(d) => *d,
            Density::Owned(d) => d.as_ref(),
            Density::Shared(d) => d.as_ref(),
        }
    }
}

impl<'a> From<&'a dyn LogDensity> for Density<'a> {
    fn from(d: &'a dyn LogDensity) -> Self {
        Density::Borrowed(d)
    }
}

impl<'a, T: LogDensity + 'a> From<&'a T> for Density<'a> {
    fn from(d: &'a T) -> Self {
        Density::Borrowed(d)
    }
}

impl<'a> From<Box<dyn LogDensity + 'a>> for Density<'a> {
    fn from(d: Box<dyn LogDensity + 'a>) -> Self {
        Density::Owned(d)
    }
}

impl<'a, T: LogDensity + 'a> From<Box<T>> for Density<'a> {
    fn from(d: Box<T>) -> Self {
        Density::Owned(d)
    }
}

impl<'a> From<Rc<dyn LogDensity + 'a>> for Density<'a> {
    fn from(d: Rc<dyn LogDensity + 'a>) -> Self {
        Density::Shared(d)
    }
}

/// Per-draw sampler statistics, named after Stan's `lp__`, `accept_stat__`, ... columns.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SamplerStats {
    /// log p at the draw (unnormalised, including the log Jacobian).
    pub lp: f64,
    /// Metropolis acceptance probability (RWMH, HMC) or Stan's mean over the trajectory (NUTS).
    pub accept_stat: f64,
    /// Step size used (for RWMH: the proposal scale; for ADVI: the learning rate η).
    pub step_size: f64,
    pub tree_depth: u32,
    pub n_leapfrog: u32,
    pub divergent: bool,
    /// Hamiltonian at the draw (−lp for RWMH).
    pub energy: f64,
    /// Whether the draw was taken during warm-up (not for inference).
    pub warmup: bool,
}

/// One draw: its unconstrained coordinates, its constrained parameter values (in the order of
/// [`LogDensity::param_names`]) and the sampler's statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Draw {
    pub unconstrained: Vec<f64>,
    pub constrained: Vec<f64>,
    pub stats: SamplerStats,
}

/// The draws of one chain (warm-up first, then kept draws), appended one per transition.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Trace {
    pub param_names: Vec<String>,
    pub draws: Vec<Draw>,
}

impl Trace {
    pub fn new(param_names: Vec<String>) -> Self {
        Trace {
            param_names,
            draws: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.draws.len()
    }

    pub fn is_empty(&self) -> bool {
        self.draws.is_empty()
    }

    /// Draws appended since the caller last saw `seen` of them (for streaming to the page).
    pub fn since(&self, seen: usize) -> &[Draw] {
        &self.draws[seen.min(self.draws.len())..]
    }

    pub fn n_warmup(&self) -> usize {
        self.draws.iter().take_while(|d| d.stats.warmup).count()
    }

    /// The draws kept for inference (after warm-up).
    pub fn kept(&self) -> &[Draw] {
        &self.draws[self.n_warmup()..]
    }

    /// Kept draws of constrained parameter `param_idx`.
    pub fn column(&self, param_idx: usize) -> Vec<f64> {
        self.kept()
            .iter()
            .map(|d| d.constrained[param_idx])
            .collect()
    }

    /// Kept draws of unconstrained coordinate `coord`.
    pub fn unconstrained_column(&self, coord: usize) -> Vec<f64> {
        self.kept().iter().map(|d| d.unconstrained[coord]).collect()
    }

    pub fn n_divergent(&self) -> usize {
        self.kept().iter().filter(|d| d.stats.divergent).count()
    }
}

/// A leapfrog point of the last transition (for the gallery).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrajectoryPoint {
    /// Unconstrained position.
    pub position: Vec<f64>,
    /// Index of the NUTS doubling that produced it (0 for static HMC): doubling `j` adds
    /// `2^j` points, a complete binary subtree whose leaves come in integration order.
    pub doubling: u32,
    /// +1 forward in time, −1 backward.
    pub direction: i8,
    /// H − H0 at this point.
    pub energy_error: f64,
    pub divergent: bool,
}

/// What happened inside the last transition, kept only with `record_internals`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Internals {
    Rwmh {
        start: Vec<f64>,
        proposal: Vec<f64>,
        /// log p(proposal) − log p(start); −∞ where the density failed.
        log_accept_ratio: f64,
        accepted: bool,
    },
    Trajectory {
        start: Vec<f64>,
        /// Leapfrog points in integration order.
        points: Vec<TrajectoryPoint>,
        /// Index into `points` of the point that became the draw; `None` if the chain stayed
        /// at `start`.
        chosen: Option<usize>,
        /// NUTS: the doubling whose new subtree was discarded (a U-turn or divergence inside
        /// it), so none of its points could be chosen; `None` if every doubling was kept.
        rejected_doubling: Option<u32>,
    },
}

/// What a kernel reports about one transition.
pub(crate) struct TransitionStats {
    pub accept_stat: f64,
    pub step_size: f64,
    pub tree_depth: u32,
    pub n_leapfrog: u32,
    pub divergent: bool,
    pub energy: f64,
}

enum Kernel {
    Rwmh(Box<Rwmh>),
    Hmc(Box<StaticHmc>),
    Nuts(Box<Nuts>),
}

/// Draws uniform(−r, r) starting points until log p and its gradient are finite, as Stan's
/// `services::util::initialize` (100 tries).
pub(crate) fn random_init(
    density: &dyn LogDensity,
    radius: f64,
    rng: &mut ChaCha8Rng,
    z: &mut PhasePoint,
) -> Result<(), SamplerError> {
    let attempts = if radius == 0.0 { 1 } else { 100 };
    for _ in 0..attempts {
        for q in z.q.iter_mut() {
            *q = if radius == 0.0 {
                0.0
            } else {
                rng.random_range(-radius..radius)
            };
        }
        evaluate(density, z)?;
        if z.logp.is_finite() && z.grad.iter().all(|g| g.is_finite()) {
            return Ok(());
        }
    }
    Err(SamplerError::InitFailed { attempts, radius })
}

/// The run's generator for chain `chain`: stream `chain` of ChaCha8 seeded with `seed`.
pub fn chain_rng(seed: u64, chain: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(chain);
    rng
}

/// One Markov chain, stepped one transition at a time.
pub struct Chain<'a> {
    density: Density<'a>,
    settings: SamplerSettings,
    rng: ChaCha8Rng,
    kernel: Kernel,
    current: PhasePoint,
    iteration: usize,
    trace: Trace,
    internals: Option<Internals>,
}

impl<'a> Chain<'a> {
    /// Builds a chain at a random starting point (Stan's uniform(−2, 2) on the unconstrained
    /// scale by default) and runs Stan's initial step-size search. Fails with a clear error if
    /// no finite starting point is found.
    pub fn new(
        density: impl Into<Density<'a>>,
        settings: SamplerSettings,
    ) -> Result<Chain<'a>, SamplerError> {
        Self::build(density.into(), settings, None)
    }

    /// As [`Chain::new`] but starting at the given unconstrained point (the gallery).
    pub fn new_at(
        density: impl Into<Density<'a>>,
        settings: SamplerSettings,
        init: &[f64],
    ) -> Result<Chain<'a>, SamplerError> {
        Self::build(density.into(), settings, Some(init))
    }

    fn build(
        density: Density<'a>,
        settings: SamplerSettings,
        init: Option<&[f64]>,
    ) -> Result<Chain<'a>, SamplerError> {
        settings.validate()?;
        let d = density.get();
        let dim = d.dim();
        let mut rng = chain_rng(settings.seed, settings.chain);
        let mut current = PhasePoint::new(dim);
        match init {
            None => random_init(d, settings.init_radius, &mut rng, &mut current)?,
            Some(x) => {
                if x.len() != dim {
                    return Err(SamplerError::InitDimension {
                        got: x.len(),
                        expected: dim,
                    });
                }
                current.q.copy_from_slice(x);
                evaluate(d, &mut current)?;
                if !current.logp.is_finite() {
                    return Err(SamplerError::InitFailed {
                        attempts: 1,
                        radius: 0.0,
                    });
                }
            }
        }
        let target = settings.effective_target_accept();
        let kernel = match settings.method {
            SamplerMethod::Rwmh => Kernel::Rwmh(Box::new(Rwmh::new(dim, &settings, target))),
            SamplerMethod::Hmc => {
                let adapt = HmcAdapt::new(d, &settings, target, &current, &mut rng)?;
                Kernel::Hmc(Box::new(StaticHmc::new(dim, &settings, adapt)))
            }
            SamplerMethod::Nuts => {
                let adapt = HmcAdapt::new(d, &settings, target, &current, &mut rng)?;
                Kernel::Nuts(Box::new(Nuts::new(dim, &settings, adapt)))
            }
        };
        let trace = Trace::new(d.param_names());
        Ok(Chain {
            density,
            settings,
            rng,
            kernel,
            current,
            iteration: 0,
            trace,
            internals: None,
        })
    }

    fn n_total(&self) -> usize {
        self.settings.n_warmup + self.settings.n_draws
    }

    /// One transition. Returns `Finished(Converged)` once every requested draw is in the trace
    /// (further calls do nothing). A recoverable model error inside a trajectory becomes a
    /// divergence; only a fatal model error or a failed step-size search is an `Err`.
    pub fn step(&mut self) -> Result<StepOutcome, SamplerError> {
        let n_total = self.n_total();
        if self.iteration >= n_total {
            return Ok(StepOutcome::Finished(StopReason::Converged));
        }
        let warmup = self.iteration < self.settings.n_warmup;
        let density = self.density.get();
        let record = if self.settings.record_internals {
            Some(&mut self.internals)
        } else {
            None
        };
        let t = match &mut self.kernel {
            Kernel::Rwmh(k) => {
                k.transition(density, &mut self.rng, &mut self.current, warmup, record)?
            }
            Kernel::Hmc(k) => {
                k.transition(density, &mut self.rng, &mut self.current, warmup, record)?
            }
            Kernel::Nuts(k) => {
                k.transition(density, &mut self.rng, &mut self.current, warmup, record)?
            }
        };
        self.iteration += 1;
        if self.iteration == self.settings.n_warmup {
            match &mut self.kernel {
                Kernel::Rwmh(_) => {}
                Kernel::Hmc(k) => k.adapt.finish_warmup(),
                Kernel::Nuts(k) => k.adapt.finish_warmup(),
            }
        }
        self.trace.draws.push(Draw {
            unconstrained: self.current.q.clone(),
            constrained: density.constrain(&self.current.q),
            stats: SamplerStats {
                lp: self.current.logp,
                accept_stat: t.accept_stat,
                step_size: t.step_size,
                tree_depth: t.tree_depth,
                n_leapfrog: t.n_leapfrog,
                divergent: t.divergent,
                energy: t.energy,
                warmup,
            },
        });
        Ok(if self.iteration >= n_total {
            StepOutcome::Finished(StopReason::Converged)
        } else {
            StepOutcome::Continue
        })
    }

    pub fn progress(&self) -> Progress {
        let n_total = self.n_total();
        let label = if self.iteration < self.settings.n_warmup {
            format!(
                "chain {}: warm-up {}/{}",
                self.settings.chain + 1,
                self.iteration,
                self.settings.n_warmup
            )
        } else {
            format!(
                "chain {}: sampling {}/{}",
                self.settings.chain + 1,
                self.iteration - self.settings.n_warmup,
                self.settings.n_draws
            )
        };
        Progress {
            fraction: self.iteration as f64 / n_total as f64,
            label,
        }
    }

    pub fn is_finished(&self) -> bool {
        self.iteration >= self.n_total()
    }

    pub fn is_warmup(&self) -> bool {
        self.iteration < self.settings.n_warmup
    }

    pub fn settings(&self) -> &SamplerSettings {
        &self.settings
    }

    pub fn trace(&self) -> &Trace {
        &self.trace
    }

    /// Hands the trace over (e.g. when the run is done).
    pub fn into_trace(self) -> Trace {
        self.trace
    }

    /// The last transition's internals (only with `record_internals`).
    pub fn internals(&self) -> Option<&Internals> {
        self.internals.as_ref()
    }

    /// Current unconstrained position.
    pub fn position(&self) -> &[f64] {
        &self.current.q
    }

    /// Current step size (for RWMH, the proposal scale).
    pub fn step_size(&self) -> f64 {
        match &self.kernel {
            Kernel::Rwmh(k) => k.scale,
            Kernel::Hmc(k) => k.adapt.eps,
            Kernel::Nuts(k) => k.adapt.eps,
        }
    }

    /// The adapted diagonal inverse metric (variances; for RWMH the proposal's shape).
    pub fn inv_metric(&self) -> &[f64] {
        match &self.kernel {
            Kernel::Rwmh(k) => &k.var,
            Kernel::Hmc(k) => &k.adapt.metric.inv_metric,
            Kernel::Nuts(k) => &k.adapt.metric.inv_metric,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::bayes::LogpError;

    fn settings(method: SamplerMethod, seed: u64) -> SamplerSettings {
        SamplerSettings {
            method,
            seed,
            ..SamplerSettings::default()
        }
    }

    fn run(chain: &mut Chain) {
        while let StepOutcome::Continue = chain.step().unwrap() {}
    }

    const METHODS: [SamplerMethod; 3] =
        [SamplerMethod::Rwmh, SamplerMethod::Hmc, SamplerMethod::Nuts];

    #[test]
    fn every_sampler_recovers_a_standard_normal_in_5d() {
        let target = DiagNormal::standard(5);
        for method in METHODS {
            let mut s = settings(method, 11);
            if method == SamplerMethod::Rwmh {
                s.n_draws = 5000; // random-walk draws are far more autocorrelated
            }
            let mut chain = Chain::new(&target, s).unwrap();
            run(&mut chain);
            let trace = chain.trace();
            assert_eq!(
                trace.len(),
                chain.settings().n_warmup + chain.settings().n_draws
            );
            for i in 0..5 {
                assert_normal_moments(&trace.column(i), 0.0, 1.0, &format!("{method:?} x[{i}]"));
            }
            let acc = mean(
                &trace
                    .kept()
                    .iter()
                    .map(|d| d.stats.accept_stat)
                    .collect::<Vec<_>>(),
            );
            let want = chain.settings().effective_target_accept();
            assert!(
                (acc - want).abs() < 0.1,
                "{method:?} acceptance {acc} vs {want}"
            );
        }
    }

    #[test]
    fn every_sampler_recovers_a_correlated_2d_normal() {
        let target = CorrelatedNormal::new([1.0, -1.0], [1.0, 2.0], 0.9);
        for method in METHODS {
            let mut s = settings(method, 12);
            if method == SamplerMethod::Rwmh {
                s.n_draws = 8000;
            }
            let mut chain = Chain::new(&target, s).unwrap();
            run(&mut chain);
            let trace = chain.trace();
            let a = trace.column(0);
            let b = trace.column(1);
            assert_normal_moments(&a, 1.0, 1.0, &format!("{method:?} a"));
            assert_normal_moments(&b, -1.0, 2.0, &format!("{method:?} b"));
            // Correlation: loose check (its MCSE is not derived here).
            let (ma, mb) = (mean(&a), mean(&b));
            let cov = a
                .iter()
                .zip(&b)
                .map(|(x, y)| (x - ma) * (y - mb))
                .sum::<f64>()
                / (a.len() as f64 - 1.0);
            let r = cov / (variance(&a) * variance(&b)).sqrt();
            assert!((r - 0.9).abs() < 0.05, "{method:?} correlation {r}");
        }
    }

    #[test]
    fn nuts_adapts_the_metric_to_the_scales_of_an_anisotropic_normal() {
        let target = DiagNormal {
            mean: vec![0.0, 0.0],
            sd: vec![1.0, 10.0],
        };
        let mut chain = Chain::new(&target, settings(SamplerMethod::Nuts, 5)).unwrap();
        run(&mut chain);
        let m = chain.inv_metric();
        // The last window has 500 draws; its variance estimate is within ~20% of the truth.
        assert!((m[0] / 1.0 - 1.0).abs() < 0.25, "inv metric {m:?}");
        assert!((m[1] / 100.0 - 1.0).abs() < 0.25, "inv metric {m:?}");
        assert_normal_moments(&chain.trace().column(1), 0.0, 10.0, "x[2]");
        // With the right metric NUTS needs short trajectories.
        let depth = mean(
            &chain
                .trace()
                .kept()
                .iter()
                .map(|d| d.stats.tree_depth as f64)
                .collect::<Vec<_>>(),
        );
        assert!(depth < 3.0, "mean tree depth {depth}");
    }

    #[test]
    fn a_recoverable_error_in_a_region_becomes_divergences_not_panics() {
        let target = WalledNormal { dim: 2, wall: 0.5 };
        for method in METHODS {
            let mut s = settings(method, 3);
            s.n_warmup = 300;
            s.n_draws = 300;
            s.init_radius = 0.4;
            let mut chain = Chain::new(&target, s).unwrap();
            run(&mut chain);
            let trace = chain.trace();
            assert!(trace.draws.iter().all(|d| d.unconstrained[0] <= 0.5));
            if method != SamplerMethod::Rwmh {
                assert!(trace.n_divergent() > 0, "{method:?} reported no divergence");
            }
        }
    }

    struct Broken(LogpError);
    impl LogDensity for Broken {
        fn dim(&self) -> usize {
            1
        }
        fn logp_grad(&self, _: &[f64], _: &mut [f64]) -> Result<f64, LogpError> {
            Err(self.0.clone())
        }
        fn param_names(&self) -> Vec<String> {
            vec!["x".into()]
        }
        fn constrain(&self, x: &[f64]) -> Vec<f64> {
            x.to_vec()
        }
    }

    #[test]
    fn a_density_failing_at_the_start_is_a_clear_error() {
        let nowhere = Broken(LogpError::NonFinite);
        let err = Chain::new(&nowhere, SamplerSettings::default())
            .err()
            .unwrap();
        assert_eq!(
            err,
            SamplerError::InitFailed {
                attempts: 100,
                radius: 2.0
            }
        );
        assert!(!err.hint().is_empty());
        let fatal = Broken(LogpError::Fatal("no data".into()));
        let err = Chain::new(&fatal, SamplerSettings::default())
            .err()
            .unwrap();
        assert!(matches!(err, SamplerError::Model(m) if m.contains("no data")));
    }

    #[test]
    fn runs_are_bit_reproducible_from_the_seed_and_chains_differ() {
        let target = CorrelatedNormal::new([0.0, 0.0], [1.0, 1.0], 0.5);
        for method in METHODS {
            let mut s = settings(method, 99);
            s.n_warmup = 150;
            s.n_draws = 50;
            let traces: Vec<Trace> = [0, 0, 1]
                .iter()
                .map(|&c| {
                    let mut chain = Chain::new(
                        &target,
                        SamplerSettings {
                            chain: c,
                            ..s.clone()
                        },
                    )
                    .unwrap();
                    run(&mut chain);
                    chain.into_trace()
                })
                .collect();
            assert_eq!(traces[0], traces[1], "{method:?}");
            assert_ne!(traces[0], traces[2], "{method:?}");
        }
    }

    #[test]
    fn recording_internals_does_not_change_the_draws() {
        let target = DiagNormal::standard(2);
        for method in METHODS {
            let mut s = settings(method, 7);
            s.n_warmup = 100;
            s.n_draws = 20;
            let mut plain = Chain::new(&target, s.clone()).unwrap();
            run(&mut plain);
            assert!(plain.internals().is_none());
            s.record_internals = true;
            let mut rec = Chain::new(&target, s).unwrap();
            let mut checked = 0;
            while let StepOutcome::Continue = rec.step().unwrap() {
                let last = rec.trace().draws.last().unwrap();
                match rec.internals().unwrap() {
                    Internals::Rwmh {
                        proposal, accepted, ..
                    } => {
                        assert_eq!(*accepted, &last.unconstrained == proposal);
                    }
                    Internals::Trajectory {
                        points,
                        chosen,
                        start,
                        rejected_doubling,
                    } => {
                        if method == SamplerMethod::Nuts {
                            assert_eq!(points.len(), last.stats.n_leapfrog as usize);
                            // Kept doublings are complete binary subtrees of 2^j points.
                            let kept = rejected_doubling.unwrap_or(last.stats.tree_depth);
                            assert_eq!(kept, last.stats.tree_depth);
                            for j in 0..kept {
                                let n = points.iter().filter(|p| p.doubling == j).count();
                                assert_eq!(n, 1 << j);
                            }
                            if let Some(i) = chosen {
                                assert!(points[*i].doubling < kept);
                            }
                        }
                        let at = chosen.map_or(start, |i| &points[i].position);
                        assert_eq!(at, &last.unconstrained);
                    }
                }
                checked += 1;
            }
            assert!(checked > 100);
            assert_eq!(plain.trace(), rec.trace(), "{method:?}");
        }
    }

    #[test]
    fn settings_are_validated_and_progress_runs_to_one() {
        let target = DiagNormal::standard(1);
        let bad = SamplerSettings {
            target_accept: Some(1.5),
            ..SamplerSettings::default()
        };
        let err = Chain::new(&target, bad).err().unwrap();
        assert!(err.to_string().contains("target acceptance"));
        let s = SamplerSettings {
            n_warmup: 10,
            n_draws: 10,
            ..SamplerSettings::default()
        };
        let boxed: Box<dyn LogDensity> = Box::new(DiagNormal::standard(1));
        assert!(Chain::new(boxed, s.clone()).is_ok());
        let shared: Rc<dyn LogDensity> = Rc::new(DiagNormal::standard(1));
        assert!(Chain::new(shared, s.clone()).is_ok());
        let dynref: &dyn LogDensity = &target;
        assert!(Chain::new(dynref, s.clone()).is_ok());
        let mut chain = Chain::new(Box::new(DiagNormal::standard(1)), s).unwrap();
        assert_eq!(chain.progress().fraction, 0.0);
        run(&mut chain);
        assert_eq!(chain.progress().fraction, 1.0);
        assert!(chain.progress().label.contains("sampling 10/10"));
        assert_eq!(
            chain.step().unwrap(),
            StepOutcome::Finished(StopReason::Converged)
        );
        assert_eq!(chain.trace().len(), 20);
        assert_eq!(chain.trace().n_warmup(), 10);
    }
}
