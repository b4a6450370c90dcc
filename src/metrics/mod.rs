//! Scores of an estimated graph against a known one: structural Hamming distance, precision,
//! recall and F1 over directed edges, and the same between CPDAGs / PDAGs.

use serde::{Deserialize, Serialize};

use crate::graph::{DiGraph, Pdag};

pub mod varsortability;
pub use varsortability::varsortability;

/// How an estimate compares with the truth, edge by edge.
///
/// Each unordered node pair {i, j} is judged on its own: estimated edges also in the truth are
/// `correct`; if what remains of the truth and of the estimate on the pair are both non-empty
/// (truth i → j, estimate j → i) the estimate is `reversed`; otherwise leftover truth edges are
/// `missing` and leftover estimated edges are `extra`. So a 2-cycle i ⇄ j estimated over a true
/// i → j counts as one correct edge plus the extra j → i. SHD = missing + extra + reversed, a
/// reversal costing 1 (Tsamardinos et al. 2006; NOTEARS' `count_accuracy`, which gives the
/// same number for a DAG truth, including the 2-cycle case).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub correct: Vec<(usize, usize)>,
    /// As estimated (the truth has the opposite direction).
    pub reversed: Vec<(usize, usize)>,
    /// Truth edges with no estimated edge on their pair.
    pub missing: Vec<(usize, usize)>,
    /// Estimated edges on pairs without a true edge, and the second edge of a 2-cycle.
    pub extra: Vec<(usize, usize)>,
    pub shd: usize,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Ratios with an empty denominator are 0. causal-learn's `ArrowConfusion` divides unguarded
/// (raising on 0/0); this follows scikit-learn's `zero_division=0` and the `max(·, 1)`
/// denominators of NOTEARS' `count_accuracy`, so nothing estimated scores precision 0.
fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// Compares an estimate with the truth. Graphs of different sizes are compared on the nodes
/// they share; edges touching the other nodes count as missing or extra.
pub fn compare(truth: &DiGraph, estimate: &DiGraph) -> Comparison {
    let n = truth.n_nodes().max(estimate.n_nodes());
    let has =
        |g: &DiGraph, i: usize, j: usize| i < g.n_nodes() && j < g.n_nodes() && g.has_edge(i, j);
    let mut c = Comparison {
        correct: vec![],
        reversed: vec![],
        missing: vec![],
        extra: vec![],
        shd: 0,
        precision: 0.0,
        recall: 0.0,
        f1: 0.0,
    };
    for i in 0..n {
        for j in i + 1..n {
            let mut truth_left = vec![];
            let mut est_left = vec![];
            for (a, b) in [(i, j), (j, i)] {
                match (has(truth, a, b), has(estimate, a, b)) {
                    (true, true) => c.correct.push((a, b)),
                    (true, false) => truth_left.push((a, b)),
                    (false, true) => est_left.push((a, b)),
                    (false, false) => {}
                }
            }
            if !truth_left.is_empty() && !est_left.is_empty() {
                c.reversed.extend(est_left);
            } else {
                c.missing.extend(truth_left);
                c.extra.extend(est_left);
            }
        }
    }
    for v in [
        &mut c.correct,
        &mut c.reversed,
        &mut c.missing,
        &mut c.extra,
    ] {
        v.sort_unstable();
    }
    c.shd = c.missing.len() + c.extra.len() + c.reversed.len();
    let n_true = truth.n_edges();
    let n_est = estimate.n_edges();
    c.precision = ratio(c.correct.len(), n_est);
    c.recall = ratio(c.correct.len(), n_true);
    c.f1 = if c.precision + c.recall > 0.0 {
        2.0 * c.precision * c.recall / (c.precision + c.recall)
    } else {
        0.0
    };
    c
}

/// How an estimated CPDAG (or any PDAG) compares with a reference one, pair by pair.
///
/// SHD counts each unordered node pair whose edge differs in any way (present vs absent, or
/// different marks: i → j vs j → i vs i — j) once, as causal-learn's `SHD` on endpoint
/// matrices and cdt's `SHD(double_for_anticausal=False)`: a reversed or half-oriented edge costs
/// 1, not 2. Precision, recall and F1 are over the skeleton (adjacencies), ignoring marks;
/// `marks_correct` counts shared adjacencies whose marks agree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CpdagComparison {
    /// Adjacent in the reference, not in the estimate (i < j).
    pub missing: Vec<(usize, usize)>,
    /// Adjacent in the estimate, not in the reference (i < j).
    pub extra: Vec<(usize, usize)>,
    /// Adjacent in both with different marks (i < j).
    pub mismatched: Vec<(usize, usize)>,
    pub marks_correct: usize,
    pub shd: usize,
    pub skeleton_precision: f64,
    pub skeleton_recall: f64,
    pub skeleton_f1: f64,
}

/// Compares a learned graph, in the two-way weight convention (weights both ways =
/// undirected), with the CPDAG of the true DAG. A learned DAG is first replaced by its own
/// CPDAG, so DAG and CPDAG learners are scored alike on what the data can identify; a graph
/// with a directed cycle (PC can produce one from conflicting colliders) is compared as it is.
pub fn compare_with_true_cpdag(
    truth: &DiGraph,
    weights: &nalgebra::DMatrix<f64>,
) -> CpdagComparison {
    let estimate = Pdag::from_weights(weights);
    let has_undirected = (0..estimate.n_nodes())
        .any(|i| (i + 1..estimate.n_nodes()).any(|j| estimate.is_undirected(i, j)));
    let estimate = if has_undirected {
        estimate
    } else {
        let dag = DiGraph::from_weights(weights, f64::MIN_POSITIVE);
        if dag.is_acyclic() {
            Pdag::from_dag(&dag)
        } else {
            estimate
        }
    };
    compare_cpdags(&Pdag::from_dag(truth), &estimate)
}

/// Compares an estimated PDAG with a reference one on the nodes they share; edges touching
/// the other nodes count as missing or extra.
pub fn compare_cpdags(reference: &Pdag, estimate: &Pdag) -> CpdagComparison {
    let n = reference.n_nodes().max(estimate.n_nodes());
    let marks = |g: &Pdag, i: usize, j: usize| {
        if i < g.n_nodes() && j < g.n_nodes() {
            (
                g.is_directed(i, j) || g.is_undirected(i, j),
                g.is_directed(j, i) || g.is_undirected(i, j),
            )
        } else {
            (false, false)
        }
    };
    let mut c = CpdagComparison {
        missing: vec![],
        extra: vec![],
        mismatched: vec![],
        marks_correct: 0,
        shd: 0,
        skeleton_precision: 0.0,
        skeleton_recall: 0.0,
        skeleton_f1: 0.0,
    };
    let (mut n_ref, mut n_est, mut shared) = (0, 0, 0);
    for i in 0..n {
        for j in i + 1..n {
            let r = marks(reference, i, j);
            let e = marks(estimate, i, j);
            let (ra, ea) = (r != (false, false), e != (false, false));
            n_ref += usize::from(ra);
            n_est += usize::from(ea);
            match (ra, ea) {
                (true, false) => c.missing.push((i, j)),
                (false, true) => c.extra.push((i, j)),
                (true, true) => {
                    shared += 1;
                    if r == e {
                        c.marks_correct += 1;
                    } else {
                        c.mismatched.push((i, j));
                    }
                }
                (false, false) => {}
            }
        }
    }
    c.shd = c.missing.len() + c.extra.len() + c.mismatched.len();
    c.skeleton_precision = ratio(shared, n_est);
    c.skeleton_recall = ratio(shared, n_ref);
    let (p, r) = (c.skeleton_precision, c.skeleton_recall);
    c.skeleton_f1 = if p + r > 0.0 {
        2.0 * p * r / (p + r)
    } else {
        0.0
    };
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpdag_mark_mismatch_counts_once() {
        // Reference 0 — 1, 1 → 2; estimate 1 → 0 (mismatch), 2 → 1 (mismatch), extra 0 — 3,
        // and the reference's 2 — 3 missing.
        let mut reference = Pdag::empty(4);
        reference.add_undirected(0, 1);
        reference.add_directed(1, 2);
        reference.add_undirected(2, 3);
        let mut est = Pdag::empty(4);
        est.add_directed(1, 0);
        est.add_directed(2, 1);
        est.add_undirected(0, 3);
        let c = compare_cpdags(&reference, &est);
        assert_eq!(c.mismatched, vec![(0, 1), (1, 2)]);
        assert_eq!(c.extra, vec![(0, 3)]);
        assert_eq!(c.missing, vec![(2, 3)]);
        assert_eq!((c.shd, c.marks_correct), (4, 0));
        assert!((c.skeleton_precision - 2.0 / 3.0).abs() < 1e-15);
        assert!((c.skeleton_recall - 2.0 / 3.0).abs() < 1e-15);
        let same = compare_cpdags(&reference, &reference);
        assert_eq!(
            (same.shd, same.marks_correct, same.skeleton_f1),
            (0, 3, 1.0)
        );
        let empty = compare_cpdags(&Pdag::empty(2), &Pdag::empty(3));
        assert_eq!((empty.shd, empty.skeleton_f1), (0, 0.0));
    }

    #[test]
    fn each_category_by_hand() {
        // Truth 0→1, 1→2, 2→3, 0→3; the estimate keeps 0→1 and 2→3, flips 1→2, drops 0→3
        // and adds 1→3.
        let truth = DiGraph::from_edges(4, &[(0, 1), (1, 2), (2, 3), (0, 3)]);
        let est = DiGraph::from_edges(4, &[(0, 1), (2, 1), (2, 3), (1, 3)]);
        let c = compare(&truth, &est);
        assert_eq!(c.correct, vec![(0, 1), (2, 3)]);
        assert_eq!(c.reversed, vec![(2, 1)]);
        assert_eq!(c.missing, vec![(0, 3)]);
        assert_eq!(c.extra, vec![(1, 3)]);
        assert_eq!(c.shd, 3);
        assert_eq!(c.precision, 0.5);
        assert_eq!(c.recall, 0.5);
        assert_eq!(c.f1, 0.5);
    }

    #[test]
    fn identical_graphs_are_perfect() {
        let g = DiGraph::from_edges(3, &[(0, 1), (1, 2)]);
        let c = compare(&g, &g);
        assert_eq!((c.shd, c.precision, c.recall, c.f1), (0, 1.0, 1.0, 1.0));
    }

    #[test]
    fn a_two_cycle_over_a_true_edge_is_correct_plus_extra() {
        let truth = DiGraph::from_edges(2, &[(0, 1)]);
        let est = DiGraph::from_edges(2, &[(0, 1), (1, 0)]);
        let c = compare(&truth, &est);
        assert_eq!(c.correct, vec![(0, 1)]);
        assert_eq!(c.extra, vec![(1, 0)]);
        assert!(c.reversed.is_empty() && c.missing.is_empty());
        assert_eq!(c.shd, 1);
        assert_eq!(c.precision, 0.5);
        assert_eq!(c.recall, 1.0);
        assert!((c.f1 - 2.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn empty_cases_score_zero() {
        let truth = DiGraph::from_edges(3, &[(0, 1), (1, 2)]);
        let empty = DiGraph::empty(3);
        let c = compare(&truth, &empty);
        assert_eq!(c.missing, vec![(0, 1), (1, 2)]);
        assert_eq!((c.shd, c.precision, c.recall, c.f1), (2, 0.0, 0.0, 0.0));
        let c = compare(&empty, &truth);
        assert_eq!(c.extra, vec![(0, 1), (1, 2)]);
        assert_eq!((c.shd, c.precision, c.recall, c.f1), (2, 0.0, 0.0, 0.0));
        let c = compare(&empty, &empty);
        assert_eq!((c.shd, c.precision, c.recall, c.f1), (0, 0.0, 0.0, 0.0));
        let c = compare(&DiGraph::empty(0), &DiGraph::empty(0));
        assert_eq!(c.shd, 0);
    }

    #[test]
    fn all_reversed() {
        let truth = DiGraph::from_edges(3, &[(0, 1), (1, 2)]);
        let est = DiGraph::from_edges(3, &[(1, 0), (2, 1)]);
        let c = compare(&truth, &est);
        assert_eq!(c.reversed, vec![(1, 0), (2, 1)]);
        assert_eq!((c.shd, c.precision, c.recall), (2, 0.0, 0.0));
    }

    #[test]
    fn different_sizes_do_not_panic() {
        let truth = DiGraph::from_edges(2, &[(0, 1)]);
        let est = DiGraph::from_edges(3, &[(0, 1), (1, 2)]);
        let c = compare(&truth, &est);
        assert_eq!(c.extra, vec![(1, 2)]);
        assert_eq!(c.shd, 1);
    }

    #[test]
    fn dags_and_cpdags_are_scored_against_the_true_cpdag() {
        // Truth 0 → 1 → 2: its CPDAG is 0 — 1 — 2 (no v-structure).
        let truth = DiGraph::from_edges(3, &[(0, 1), (1, 2)]);
        let w = |edges: &[(usize, usize)]| {
            let mut m = nalgebra::DMatrix::zeros(3, 3);
            for &(i, j) in edges {
                m[(i, j)] = 0.7;
            }
            m
        };
        // The reversed chain is Markov equivalent: SHD 0 between CPDAGs (2 as DAGs).
        assert_eq!(
            compare_with_true_cpdag(&truth, &w(&[(2, 1), (1, 0)])).shd,
            0
        );
        assert_eq!(
            compare(&truth, &DiGraph::from_edges(3, &[(2, 1), (1, 0)])).shd,
            2
        );
        // A learned CPDAG with both undirected edges is exactly right.
        let cpdag = w(&[(0, 1), (1, 0), (1, 2), (2, 1)]);
        assert_eq!(compare_with_true_cpdag(&truth, &cpdag).shd, 0);
        // A collider 0 → 1 ← 2 differs in both marks: SHD 2.
        assert_eq!(
            compare_with_true_cpdag(&truth, &w(&[(0, 1), (2, 1)])).shd,
            2
        );
    }
}
