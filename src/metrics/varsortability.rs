//! Varsortability (Reisach, Seiler & Weichwald 2021, "Beware of the simulated DAG!"): how
//! often the raw marginal variances increase along the true causal order. Near 1, sorting the
//! columns by variance alone recovers the order, a shortcut that continuous-optimisation
//! learners such as NOTEARS exploit on unstandardized synthetic data.

use crate::graph::DiGraph;

/// Variances within this relative tolerance count as a tie (half a correctly ordered path), as
/// in the authors' `varsortability(X, W, tol=1e-9)`.
const TIE_TOLERANCE: f64 = 1e-9;

/// The fraction of directed paths i ⇝ j of the truth (counted with multiplicity, lengths 1 to
/// d − 1, as the reference's powers of the adjacency matrix do) along which the variance grows,
/// ties counting one half. `None` when the truth has no edge or a column's variance is not a
/// positive finite number.
pub fn varsortability(columns: &[Vec<f64>], truth: &DiGraph) -> Option<f64> {
    let d = truth.n_nodes();
    if columns.len() != d || truth.n_edges() == 0 {
        return None;
    }
    let var: Vec<f64> = columns.iter().map(|c| variance(c)).collect();
    if var.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        return None;
    }
    // paths[i][j]: number of directed paths of the current length from i to j; f64 because
    // the counts grow exponentially with the length on dense graphs.
    let edge = |i: usize, j: usize| f64::from(u8::from(truth.has_edge(i, j)));
    let mut paths: Vec<f64> = (0..d * d).map(|k| edge(k / d, k % d)).collect();
    let (mut total, mut ordered) = (0.0, 0.0);
    for _ in 0..d.saturating_sub(1) {
        if paths.iter().all(|&p| p == 0.0) {
            break;
        }
        for i in 0..d {
            for j in 0..d {
                let count = paths[i * d + j];
                if count == 0.0 {
                    continue;
                }
                total += count;
                let ratio = var[j] / var[i];
                if ratio > 1.0 + TIE_TOLERANCE {
                    ordered += count;
                } else if ratio > 1.0 - TIE_TOLERANCE {
                    ordered += 0.5 * count;
                }
            }
        }
        let mut next = vec![0.0; d * d];
        for i in 0..d {
            for k in 0..d {
                let p = paths[i * d + k];
                if p == 0.0 {
                    continue;
                }
                for j in 0..d {
                    if truth.has_edge(k, j) {
                        next[i * d + j] += p;
                    }
                }
            }
        }
        paths = next;
    }
    (total > 0.0).then(|| ordered / total)
}

/// Population variance (numpy's default `ddof=0`, as the reference uses).
fn variance(values: &[f64]) -> f64 {
    let n = values.len() as f64;
    let mean = values.iter().sum::<f64>() / n;
    values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synthetic::{generate, SyntheticParams};

    #[test]
    fn counts_paths_with_multiplicity_and_ties_as_half() {
        // 0 → 1 → 2 and 0 → 2: paths 0→1, 1→2, 0→2 (twice: direct and via 1).
        let truth = DiGraph::from_edges(3, &[(0, 1), (1, 2), (0, 2)]);
        let cols = |v: [f64; 3]| -> Vec<Vec<f64>> {
            v.iter().map(|s| vec![-s, *s]).collect() // variance s²
        };
        assert_eq!(varsortability(&cols([1.0, 2.0, 3.0]), &truth), Some(1.0));
        assert_eq!(varsortability(&cols([3.0, 2.0, 1.0]), &truth), Some(0.0));
        // Var 1, 1, 4: 0→1 a tie (½), 1→2 and both 0→2 paths ordered: 3.5 / 4.
        assert_eq!(varsortability(&cols([1.0, 1.0, 2.0]), &truth), Some(0.875));
        assert_eq!(varsortability(&cols([1.0, 0.0, 2.0]), &truth), None);
        assert_eq!(
            varsortability(&cols([1.0, 2.0, 3.0]), &DiGraph::empty(3)),
            None
        );
    }

    #[test]
    fn raw_synthetic_data_is_highly_varsortable_and_standardized_is_not() {
        let g = generate(&SyntheticParams {
            n_nodes: 20,
            expected_degree: 4.0,
            ..Default::default()
        })
        .unwrap();
        let raw = varsortability(&g.dataset.columns, &g.truth).unwrap();
        // Reisach et al. report values near 0.9–1 for this kind of simulation.
        assert!(raw > 0.85, "{raw}");
        let standardized = g.dataset.standardized();
        let flat = varsortability(&standardized.columns, &g.truth).unwrap();
        // All variances are 1 up to rounding: every path is (nearly) a tie.
        assert!((flat - 0.5).abs() < 0.3, "{flat}");
    }
}
