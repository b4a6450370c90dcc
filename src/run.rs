//! The stepping contract shared by every algorithm: the caller owns the loop.
//!
//! An algorithm exposes `step()`, which does a bounded amount of work (well under 50 ms on the
//! sizes the page offers) and says whether to go on. The worker calls it in time slices, reports
//! progress between slices and honours Cancel there.

use serde::{Deserialize, Serialize};

/// What one call to `step()` concluded.
#[derive(Debug, Clone, PartialEq)]
pub enum StepOutcome {
    /// More work remains.
    Continue,
    /// The algorithm finished, for the given reason.
    Finished(StopReason),
}

/// Why an algorithm stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum StopReason {
    /// Its convergence criterion was met.
    Converged,
    /// It hit an iteration or penalty limit before converging; the result is its best so far.
    LimitReached(String),
}

impl StopReason {
    /// A sentence for the page.
    pub fn text(&self) -> String {
        match self {
            StopReason::Converged => "converged".to_string(),
            StopReason::LimitReached(why) => format!("stopped at a limit: {why}"),
        }
    }
}

/// A snapshot of progress for a progress bar: `fraction` in [0, 1] and a short label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub fraction: f64,
    pub label: String,
}
