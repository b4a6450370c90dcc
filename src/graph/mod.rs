//! Directed graphs over a fixed set of nodes, with acyclicity checks and topological order;
//! partially directed graphs (CPDAGs), Meek's rules and DAG → CPDAG in [`pdag`].
//!
//! Learned weight matrices are turned into graphs here; `W[(i, j)] != 0` means an edge i → j.

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

pub mod export;
pub mod pdag;

pub use pdag::Pdag;

/// A directed graph on `n_nodes` nodes stored as a dense adjacency matrix (small d: ≤ a few
/// hundred nodes), so edge queries are O(1) and comparisons with a truth are simple.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiGraph {
    n_nodes: usize,
    /// Row-major: `adj[from * n_nodes + to]`.
    adj: Vec<bool>,
}

impl DiGraph {
    /// The graph with `n_nodes` nodes and no edges.
    pub fn empty(n_nodes: usize) -> Self {
        DiGraph {
            n_nodes,
            adj: vec![false; n_nodes * n_nodes],
        }
    }

    /// Builds a graph from `(from, to)` pairs. Indices must be below `n_nodes`.
    pub fn from_edges(n_nodes: usize, edges: &[(usize, usize)]) -> Self {
        let mut g = DiGraph::empty(n_nodes);
        for &(from, to) in edges {
            g.add_edge(from, to);
        }
        g
    }

    /// The edges i → j with `|W[(i, j)]| >= threshold` (and W finite), diagonal ignored.
    pub fn from_weights(weights: &DMatrix<f64>, threshold: f64) -> Self {
        let n = weights.nrows();
        let mut g = DiGraph::empty(n);
        for i in 0..n {
            for j in 0..n {
                let w = weights[(i, j)];
                if i != j && w.is_finite() && w.abs() >= threshold && w != 0.0 {
                    g.add_edge(i, j);
                }
            }
        }
        g
    }

    pub fn n_nodes(&self) -> usize {
        self.n_nodes
    }

    pub fn add_edge(&mut self, from: usize, to: usize) {
        self.adj[from * self.n_nodes + to] = true;
    }

    pub fn remove_edge(&mut self, from: usize, to: usize) {
        self.adj[from * self.n_nodes + to] = false;
    }

    pub fn has_edge(&self, from: usize, to: usize) -> bool {
        self.adj[from * self.n_nodes + to]
    }

    /// All edges as `(from, to)`, ordered by `from` then `to`.
    pub fn edges(&self) -> Vec<(usize, usize)> {
        let n = self.n_nodes;
        (0..n)
            .flat_map(|i| (0..n).map(move |j| (i, j)))
            .filter(|&(i, j)| self.has_edge(i, j))
            .collect()
    }

    pub fn n_edges(&self) -> usize {
        self.adj.iter().filter(|&&e| e).count()
    }

    pub fn parents(&self, node_idx: usize) -> Vec<usize> {
        (0..self.n_nodes)
            .filter(|&i| self.has_edge(i, node_idx))
            .collect()
    }

    pub fn children(&self, node_idx: usize) -> Vec<usize> {
        (0..self.n_nodes)
            .filter(|&j| self.has_edge(node_idx, j))
            .collect()
    }

    /// A topological order (Kahn's algorithm), or `None` when the graph has a directed cycle.
    pub fn topological_order(&self) -> Option<Vec<usize>> {
        let n = self.n_nodes;
        let mut in_degree: Vec<usize> = (0..n).map(|j| self.parents(j).len()).collect();
        let mut ready: Vec<usize> = (0..n).rev().filter(|&j| in_degree[j] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(node) = ready.pop() {
            order.push(node);
            for child in (0..n).rev().filter(|&j| self.has_edge(node, j)) {
                in_degree[child] -= 1;
                if in_degree[child] == 0 {
                    ready.push(child);
                }
            }
        }
        (order.len() == n).then_some(order)
    }

    pub fn is_acyclic(&self) -> bool {
        self.topological_order().is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topological_order_respects_edges() {
        let g = DiGraph::from_edges(4, &[(2, 0), (0, 1), (3, 1), (2, 3)]);
        let order = g.topological_order().unwrap();
        let pos = |v: usize| order.iter().position(|&x| x == v).unwrap();
        for (a, b) in g.edges() {
            assert!(pos(a) < pos(b));
        }
    }

    #[test]
    fn cycle_is_detected() {
        let g = DiGraph::from_edges(3, &[(0, 1), (1, 2), (2, 0)]);
        assert!(!g.is_acyclic());
        assert!(DiGraph::from_edges(3, &[(0, 1), (1, 2)]).is_acyclic());
    }

    #[test]
    fn weights_are_thresholded_and_diagonal_ignored() {
        let w = DMatrix::from_row_slice(3, 3, &[5.0, 0.5, -0.2, 0.0, 0.0, -0.31, 0.0, 0.0, 0.0]);
        let g = DiGraph::from_weights(&w, 0.3);
        assert_eq!(g.edges(), vec![(0, 1), (1, 2)]);
    }
}
