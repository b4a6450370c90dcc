//! Causeway: causal discovery and Bayesian inference that run in the browser.
//!
//! Module map (see README "Architecture"):
//! - [`data`]: datasets (named f64 columns), CSV reading with precise errors, summaries,
//!   synthetic structural causal models with known truth, built-in examples.
//! - [`graph`]: directed graphs over named nodes, acyclicity, topological order.
//! - [`linalg`]: the few dense matrix routines the learners need (matrix exponential).
//! - [`optim`]: numerical optimizers (bound-constrained L-BFGS) as steppable state machines.
//! - [`bayes`]: models as log densities, samplers and variational inference.
//! - [`diagnostics`]: MCMC diagnostics as ArviZ (R-hat, ESS, MCSE), summary table, warnings, CSV.
//! - [`causal`]: the structure learners (NOTEARS) behind the steppable [`run`] contract.
//! - [`metrics`]: SHD, precision, recall and F1 against a known graph.
//! - [`viz`]: pure plot math (layered DAG layout).
//! - [`jobs`]: what the worker does per job (read, prepare, step a learner), natively tested.
//! - [`protocol`]: the worker boundary: the only place messages are (de)serialized.
//! - [`share`]: shareable links: the page's settings as a readable URL fragment (no data).
//! - `worker`, `ui` (wasm32 only): the Web Worker's message loop and the Leptos page.
//!
//! Invariant: everything outside `worker` and `ui` is plain Rust with no web crates, clocks,
//! threads or I/O, so it builds and is tested natively.

pub mod bayes;
pub mod causal;
pub mod data;
pub mod diagnostics;
pub(crate) mod f32x4;
pub(crate) mod f64x2;
pub mod fastmath;
pub mod graph;
pub mod infer;
pub mod jobs;
pub mod linalg;
pub mod metrics;
pub mod optim;
pub mod protocol;
pub mod run;
pub mod share;
pub mod viz;

#[cfg(all(target_arch = "wasm32", feature = "browser"))]
pub mod ui;
#[cfg(all(target_arch = "wasm32", feature = "browser"))]
pub mod worker;
