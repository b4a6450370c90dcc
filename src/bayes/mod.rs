//! Bayesian inference: models as log densities on an unconstrained space, and the samplers and
//! variational methods that explore them.
//!
//! Every model implements [`LogDensity`]; every method only ever sees that trait.

pub mod mcmc;
pub mod models;
pub mod vi;

use thiserror::Error;

/// A numerical failure while evaluating a log density. A recoverable one (an overflow deep in a
/// trajectory, a parameter pushed out of its domain) becomes a divergent transition or a
/// rejected proposal, never a crash.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LogpError {
    #[error("the log density is not finite at this point")]
    NonFinite,
    #[error("{0}")]
    Domain(String),
    /// Not recoverable: the model cannot be evaluated at all (e.g. its data is unusable).
    #[error("{0}")]
    Fatal(String),
}

impl LogpError {
    /// Whether a sampler may treat this as a divergence / rejection and go on.
    pub fn is_recoverable(&self) -> bool {
        !matches!(self, LogpError::Fatal(_))
    }
}

/// A target density on ℝ^dim (the unconstrained space), up to a constant, including the log
/// Jacobian of the constraining transforms.
pub trait LogDensity {
    /// Number of unconstrained coordinates.
    fn dim(&self) -> usize;

    /// log p(x) and its gradient written into `grad` (length `dim`).
    fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogpError>;

    /// log p(x) alone; the default computes the gradient too and drops it.
    fn logp(&self, x: &[f64]) -> Result<f64, LogpError> {
        let mut grad = vec![0.0; self.dim()];
        self.logp_grad(x, &mut grad)
    }

    /// Names of the constrained parameters, as the page shows them (`mu`, `tau`, `theta[1]`).
    fn param_names(&self) -> Vec<String>;

    /// Maps an unconstrained point to the constrained parameter values, in the order of
    /// [`LogDensity::param_names`].
    fn constrain(&self, x: &[f64]) -> Vec<f64>;
}
