//! Background knowledge a user brings: edges that must not or must appear, and tiers (a cause
//! never lies in a later tier than its effect). Learners that can use it say so; the page names
//! those that ignore it.

use serde::{Deserialize, Serialize};

/// Constraints on the learned graph, by node index.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Knowledge {
    /// Edges `(from, to)` that must not appear (in this direction).
    pub forbidden: Vec<(usize, usize)>,
    /// Edges `(from, to)` that must appear (in this direction).
    pub required: Vec<(usize, usize)>,
    /// Tier of each node (same length as the number of nodes) or empty for none: an edge from a
    /// later tier into an earlier one is forbidden; edges within a tier are allowed.
    pub tiers: Vec<usize>,
}

impl Knowledge {
    /// True when there is no constraint at all.
    pub fn is_empty(&self) -> bool {
        self.forbidden.is_empty() && self.required.is_empty() && self.tiers.is_empty()
    }

    /// Whether the edge `from → to` may appear.
    pub fn allows(&self, from: usize, to: usize) -> bool {
        if from == to || self.forbidden.contains(&(from, to)) {
            return false;
        }
        match (self.tiers.get(from), self.tiers.get(to)) {
            (Some(tf), Some(tt)) => tf <= tt,
            _ => true,
        }
    }

    /// Whether the edge `from → to` must appear.
    pub fn requires(&self, from: usize, to: usize) -> bool {
        self.required.contains(&(from, to))
    }

    /// A d × d mask, row-major: `true` where `from → to` is allowed.
    pub fn allowed_mask(&self, n_nodes: usize) -> Vec<bool> {
        (0..n_nodes * n_nodes)
            .map(|k| self.allows(k / n_nodes, k % n_nodes))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_forbid_backward_edges_only() {
        let k = Knowledge {
            forbidden: vec![(0, 1)],
            required: vec![(2, 1)],
            tiers: vec![0, 1, 1],
        };
        assert!(!k.allows(0, 1));
        assert!(k.allows(0, 2));
        assert!(!k.allows(2, 0));
        assert!(k.allows(1, 2) && k.allows(2, 1));
        assert!(!k.allows(1, 1));
        assert!(k.requires(2, 1) && !k.requires(1, 2));
        assert_eq!(k.allowed_mask(3).iter().filter(|&&a| a).count(), 3);
        assert!(Knowledge::default().is_empty());
    }
}
