//! MCMC diagnostics as ArviZ 0.23.4 computes them (Vehtari et al. 2021): rank-normalized split
//! R-hat, bulk and tail ESS, Monte Carlo standard errors, the per-parameter summary table, the
//! sampler's own checks (divergences, tree-depth saturation, E-BFMI), warnings in plain words
//! and CSV exports.
//!
//! The numeric functions take chains as one slice of kept draws per chain (`&[Vec<f64>]` or
//! `&[&[f64]]`) and return NaN where a statistic is undefined; nothing here panics.

mod autocov;
mod convergence;
mod export;
mod special;
mod summary;
mod warnings;

pub use autocov::autocov;
pub use convergence::{
    e_bfmi, ess_bulk, ess_mean, ess_quantile, ess_tail, mcse_mean, mcse_quantile, mcse_sd,
    quantile, rhat,
};
pub use export::{draws_csv, summary_csv};
pub use special::{beta_inc, beta_ppf, norm_ppf};
pub use summary::{
    sampler_summary, summarize, DivergenceHotspot, ParamSummary, SamplerSummary, Summary,
};
pub use warnings::{
    warnings, Severity, Warning, ESS_PER_CHAIN, E_BFMI_THRESHOLD, RHAT_SEVERE, RHAT_THRESHOLD,
};
