//! Structure learners behind the steppable [`crate::run`] contract, and what they return.

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use crate::graph::DiGraph;
use crate::run::StopReason;

pub mod notears;

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
}

impl LearnedGraph {
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
        };
        assert_eq!(learned.graph().edges(), vec![(0, 1), (1, 2)]);
        assert_eq!(learned.weight_matrix()[(1, 2)], -0.4);
        let broken = LearnedGraph {
            weights: vec![1.0],
            ..learned
        };
        assert_eq!(broken.graph().n_edges(), 0);
    }
}
