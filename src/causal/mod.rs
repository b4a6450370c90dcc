//! Structure learners behind the steppable [`crate::run`] contract, and what they return.

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::graph::DiGraph;
use crate::run::{Progress, StepOutcome, StopReason};

pub mod catalog;
pub mod dagma;
pub mod ges;
pub mod input;
pub mod knowledge;
pub mod notears;
pub mod pc;
pub mod score;
pub mod sdcd;
pub mod xges;

pub use knowledge::Knowledge;

/// What a learner's graph means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum GraphKind {
    /// Every non-zero weight is a directed edge; the graph is acyclic.
    #[default]
    Dag,
    /// A completed partially directed acyclic graph (a Markov equivalence class): an edge with
    /// non-zero weights in both directions, `w[i][j] != 0 && w[j][i] != 0`, is undirected.
    Cpdag,
}

/// The steppable contract every structure learner implements; the worker owns the loop.
///
/// `step` does a bounded amount of work (well under ~20 ms natively at d = 50, n = 1000), so
/// the worker can report progress, stream the live graph and honour Cancel between steps.
pub trait Learner {
    /// Does the next bounded piece of work.
    fn step(&mut self) -> StepOutcome;
    /// For the progress bar: fraction done (best estimate) and a short label.
    fn progress(&self) -> Progress;
    /// A counter that changes whenever [`Learner::current_weights`] is worth showing again
    /// (an outer iteration, an operator applied, an epoch, a PC level).
    fn version(&self) -> usize;
    /// The live estimate, d × d, unthresholded; for CPDAG learners in the two-way convention
    /// of [`GraphKind::Cpdag`].
    fn current_weights(&self) -> DMatrix<f64>;
    /// The final graph (or the best so far, with a `LimitReached` stop, if not finished).
    fn result(&self) -> LearnedGraph;
    /// Quantities worth plotting against [`Learner::version`] as the run goes (SDCD's loss, γ
    /// and ρ(A); NOTEARS' h and ρ; DAGMA's loss, h and μ), by a short id; empty for learners
    /// without such a curve.
    fn curve_point(&self) -> Vec<(&'static str, f64)> {
        Vec::new()
    }
    /// A learner split across workers ([`sdcd::Sdcd::shard`]), in a shard other than 0: its
    /// next report for shard 0. Learners that do not split never report.
    fn take_report(&mut self) -> Option<sdcd::ShardReport> {
        None
    }
    /// Shard 0 of a split learner: whether it waits for the other shards' reports (its steps
    /// do nothing meanwhile).
    fn awaits_reports(&self) -> bool {
        false
    }
    /// Shard 0 of a split learner: whether the other shards still work for it.
    fn shards_needed(&self) -> bool {
        false
    }
    /// Shard 0 of a split learner: the other shards' reports for the current report point.
    fn receive_reports(&mut self, _reports: Vec<sdcd::ShardReport>) -> Result<(), String> {
        Err("this learner does not split across workers".into())
    }
}

/// A learned weighted graph: `weights[i * n_nodes + j] != 0` means an edge i → j.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LearnedGraph {
    pub n_nodes: usize,
    /// Row-major d×d weights after thresholding.
    pub weights: Vec<f64>,
    /// Row-major d×d weights before thresholding, so the page can re-threshold without
    /// re-learning.
    pub raw_weights: Vec<f64>,
    pub stop: StopReason,
    /// DAG, or CPDAG whose undirected edges have weights both ways.
    #[serde(default)]
    pub kind: GraphKind,
    /// How the learner turns its raw weights into a graph at a threshold, for the page's
    /// threshold slider.
    #[serde(default)]
    pub rethreshold: Rethreshold,
}

/// A learner's rule from raw weights to its graph at a threshold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub enum Rethreshold {
    /// Keep the off-diagonal entries whose magnitude is at or above the threshold (NOTEARS,
    /// DAGMA; the CPDAG learners' weights are already their graph).
    #[default]
    Entrywise,
    /// SDCD's: the required edges, then the entries at or above the threshold by decreasing
    /// weight, each unless it closes a cycle ([`sdcd::dag_at_threshold`]). Entrywise
    /// thresholding would show the 2-cycles this rule removes.
    GreedyDag { required: Vec<(usize, usize)> },
}

impl Rethreshold {
    /// The weights of the graph the rule keeps at `threshold` (an edge the rule keeps without
    /// weight, a required one, shows with the threshold as its weight).
    pub fn apply(&self, raw: &DMatrix<f64>, threshold: f64) -> DMatrix<f64> {
        let d = raw.nrows();
        let entrywise = |i: usize, j: usize| {
            let w = raw[(i, j)];
            if i != j && w.is_finite() && w.abs() >= threshold {
                w
            } else {
                0.0
            }
        };
        match self {
            Rethreshold::Entrywise => DMatrix::from_fn(d, d, entrywise),
            Rethreshold::GreedyDag { required } => {
                let g = sdcd::dag_at_threshold(raw, threshold, required);
                DMatrix::from_fn(d, d, |i, j| {
                    if !g.has_edge(i, j) {
                        0.0
                    } else if raw[(i, j)] > 0.0 {
                        raw[(i, j)]
                    } else {
                        threshold.max(f64::MIN_POSITIVE)
                    }
                })
            }
        }
    }
}

impl LearnedGraph {
    /// A DAG learner's result from its unthresholded d × d estimate: entries below `threshold`
    /// in absolute value and the diagonal become 0; `done` is why it stopped (`None`: it did not
    /// finish).
    pub fn thresholded_dag(raw: &DMatrix<f64>, threshold: f64, done: Option<StopReason>) -> Self {
        let d = raw.nrows();
        let raw_weights: Vec<f64> = (0..d * d).map(|k| raw[(k / d, k % d)]).collect();
        let weights = raw_weights
            .iter()
            .enumerate()
            .map(|(k, &w)| {
                if w.abs() < threshold || k / d == k % d {
                    0.0
                } else {
                    w
                }
            })
            .collect();
        LearnedGraph {
            n_nodes: d,
            weights,
            raw_weights,
            stop: done
                .unwrap_or_else(|| StopReason::LimitReached("stopped before finishing".into())),
            kind: GraphKind::Dag,
            rethreshold: Rethreshold::Entrywise,
        }
    }

    /// The thresholded weights as a d×d matrix (a zero matrix if the lengths disagree).
    pub fn weight_matrix(&self) -> DMatrix<f64> {
        let d = self.n_nodes;
        if self.weights.len() != d * d {
            return DMatrix::zeros(d, d);
        }
        DMatrix::from_row_slice(d, d, &self.weights)
    }

    /// The edges i → j with a non-zero thresholded weight.
    pub fn graph(&self) -> DiGraph {
        DiGraph::from_weights(&self.weight_matrix(), 0.0)
    }
}

/// numpy's and torch's `sign`: 0 at 0 (`f64::signum` gives ±1 there).
pub(crate) fn numpy_sign(x: f64) -> f64 {
    f64::from(u8::from(x > 0.0)) - f64::from(u8::from(x < 0.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_has_the_nonzero_weights() {
        let learned = LearnedGraph {
            n_nodes: 3,
            weights: vec![0.0, 1.2, 0.0, 0.0, 0.0, -0.4, 0.0, 0.0, 0.0],
            raw_weights: vec![0.1, 1.2, 0.0, 0.0, 0.0, -0.4, 0.2, 0.0, 0.0],
            stop: StopReason::Converged,
            kind: GraphKind::Dag,
            rethreshold: Rethreshold::Entrywise,
        };
        assert_eq!(learned.graph().edges(), vec![(0, 1), (1, 2)]);
        assert_eq!(learned.weight_matrix()[(1, 2)], -0.4);
        let broken = LearnedGraph {
            weights: vec![1.0],
            ..learned
        };
        assert_eq!(broken.graph().n_edges(), 0);
    }

    #[test]
    fn greedy_rethreshold_breaks_the_cycles_that_entrywise_keeps() {
        // 0 ⇄ 1 with 0.9 and 0.5, 1 → 2 with 0.3, 2 → 0 with 0.2: a 2-cycle and a 3-cycle.
        let raw = DMatrix::from_row_slice(3, 3, &[0.0, 0.9, 0.0, 0.5, 0.0, 0.3, 0.2, 0.0, 0.0]);
        let entrywise = Rethreshold::Entrywise.apply(&raw, 0.25);
        assert_eq!(
            DiGraph::from_weights(&entrywise, 0.0).edges(),
            vec![(0, 1), (1, 0), (1, 2)]
        );
        let greedy = Rethreshold::GreedyDag { required: vec![] };
        let g = DiGraph::from_weights(&greedy.apply(&raw, 0.1), 0.0);
        assert_eq!(g.edges(), vec![(0, 1), (1, 2)]);
        assert!(g.is_acyclic());
        assert_eq!(greedy.apply(&raw, 0.1)[(0, 1)], 0.9);
        // A required edge comes first, and keeps its place without weight.
        let required = Rethreshold::GreedyDag {
            required: vec![(2, 1)],
        };
        let g = DiGraph::from_weights(&required.apply(&raw, 0.1), 0.0);
        assert!(g.has_edge(2, 1) && g.has_edge(0, 1) && !g.has_edge(1, 2));
        assert_eq!(required.apply(&raw, 0.1)[(2, 1)], 0.1);
    }
}
