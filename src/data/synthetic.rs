//! Synthetic linear-Gaussian data on a random DAG, so learners can be scored against the truth.
//!
//! The recipe is the one of the NOTEARS paper (Zheng et al., 2018): an Erdős–Rényi DAG with a
//! given expected degree, edge weights ±U(0.5, 2), and standard normal noise.

use nalgebra::DMatrix;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use super::csv_reader::MIN_ROWS;
use super::{DataError, Dataset};
use crate::graph::DiGraph;

/// Largest graph the page offers: NOTEARS costs O(d³) per step.
pub const MAX_NODES: usize = 200;
/// Largest sample: generating and learning stay within seconds in a browser.
pub const MAX_ROWS: usize = 100_000;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntheticParams {
    pub n_nodes: usize,
    /// Expected number of edges touching a node (in + out).
    pub expected_degree: f64,
    pub n_rows: usize,
    pub seed: u64,
}

impl Default for SyntheticParams {
    /// d = 10, k = 2 (ER2), n = 1000: sizes of the NOTEARS paper's experiments.
    fn default() -> Self {
        SyntheticParams {
            n_nodes: 10,
            expected_degree: 2.0,
            n_rows: 1000,
            seed: 1,
        }
    }
}

/// Generated data with its true graph and weights (`weights[(i, j)] != 0` means i → j).
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticData {
    pub dataset: Dataset,
    pub truth: DiGraph,
    pub weights: DMatrix<f64>,
}

fn invalid(name: &str, value: impl ToString, allowed: String) -> DataError {
    DataError::InvalidParameter {
        name: name.to_string(),
        value: value.to_string(),
        allowed,
    }
}

fn validate(p: &SyntheticParams) -> Result<(), DataError> {
    if !(2..=MAX_NODES).contains(&p.n_nodes) {
        return Err(invalid(
            "the number of nodes",
            p.n_nodes,
            format!("between 2 and {MAX_NODES}"),
        ));
    }
    let max_degree = (p.n_nodes - 1) as f64;
    // Written so that NaN fails too.
    if !(p.expected_degree >= 0.0 && p.expected_degree <= max_degree) {
        return Err(invalid(
            "the expected degree",
            p.expected_degree,
            format!(
                "between 0 and {} (the number of nodes minus one)",
                p.n_nodes - 1
            ),
        ));
    }
    if !(MIN_ROWS..=MAX_ROWS).contains(&p.n_rows) {
        return Err(invalid(
            "the number of rows",
            p.n_rows,
            format!("between {MIN_ROWS} and {MAX_ROWS}"),
        ));
    }
    Ok(())
}

/// Draws a DAG and samples `n_rows` observations from its linear-Gaussian SEM. The same
/// parameters (seed included) always give the same data.
pub fn generate(params: &SyntheticParams) -> Result<SyntheticData, DataError> {
    validate(params)?;
    let d = params.n_nodes;
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);

    // A random causal order; each pair (earlier, later) is an edge with probability p, so each
    // node has on average p·(d-1) = k neighbours and the graph is acyclic by construction.
    let mut order: Vec<usize> = (0..d).collect();
    order.shuffle(&mut rng);
    let p = params.expected_degree / (d - 1) as f64;
    let mut weights = DMatrix::zeros(d, d);
    for a in 0..d {
        for b in (a + 1)..d {
            if rng.random::<f64>() < p {
                let magnitude = 0.5 + 1.5 * rng.random::<f64>();
                let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
                weights[(order[a], order[b])] = sign * magnitude;
            }
        }
    }
    let truth = DiGraph::from_weights(&weights, 0.0);

    // X_j = Σ_i W_ij X_i + N(0, 1), filled in causal order so parents exist before children.
    let n = params.n_rows;
    let mut columns = vec![Vec::new(); d];
    for &j in &order {
        let mut column: Vec<f64> = (0..n)
            .map(|_| rng.sample::<f64, _>(StandardNormal))
            .collect();
        for i in truth.parents(j) {
            let w = weights[(i, j)];
            for (x, parent) in column.iter_mut().zip(&columns[i]) {
                *x += w * parent;
            }
        }
        columns[j] = column;
    }
    let names = (1..=d).map(|j| format!("X{j}")).collect();
    let dataset = Dataset::new(names, columns)?;
    Ok(SyntheticData {
        dataset,
        truth,
        weights,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_data() {
        let p = SyntheticParams {
            n_rows: 50,
            ..Default::default()
        };
        let a = generate(&p).unwrap();
        assert_eq!(a, generate(&p).unwrap());
        let b = generate(&SyntheticParams { seed: 2, ..p }).unwrap();
        assert_ne!(a.dataset, b.dataset);
        assert_eq!(a.dataset.n_rows(), 50);
        assert_eq!(a.dataset.names[9], "X10");
    }

    #[test]
    fn truth_is_acyclic_and_matches_weights() {
        for seed in 0..20 {
            let g = generate(&SyntheticParams {
                n_nodes: 15,
                expected_degree: 4.0,
                n_rows: 10,
                seed,
            })
            .unwrap();
            assert!(g.truth.is_acyclic());
            for (i, j) in g.truth.edges() {
                let w = g.weights[(i, j)].abs();
                assert!((0.5..=2.0).contains(&w), "{w}");
            }
            assert_eq!(
                g.truth.n_edges(),
                g.weights.iter().filter(|w| **w != 0.0).count()
            );
        }
    }

    #[test]
    fn edge_count_is_near_k_d_over_2() {
        let (d, k, seeds) = (10, 2.0, 300);
        let total: usize = (0..seeds)
            .map(|seed| {
                let p = SyntheticParams {
                    n_nodes: d,
                    expected_degree: k,
                    n_rows: 10,
                    seed,
                };
                generate(&p).unwrap().truth.n_edges()
            })
            .sum();
        let mean = total as f64 / seeds as f64;
        // Var of the count is 45·p·(1-p) ≈ 7.8 per graph, so the mean's sd is ≈ 0.16.
        assert!((mean - k * d as f64 / 2.0).abs() < 0.6, "{mean}");
    }

    #[test]
    fn sample_covariance_matches_the_sem() {
        let p = SyntheticParams {
            n_nodes: 4,
            expected_degree: 2.0,
            n_rows: 100_000,
            seed: 7,
        };
        let g = generate(&p).unwrap();
        assert!(g.truth.n_edges() >= 2, "pick a seed with a few edges");
        let d = p.n_nodes;
        let inv = (DMatrix::identity(d, d) - &g.weights)
            .try_inverse()
            .unwrap();
        let implied = inv.transpose() * &inv;
        let x = g.dataset.to_matrix();
        let n = x.nrows() as f64;
        let means = x.row_mean();
        let centered = DMatrix::from_fn(x.nrows(), d, |r, c| x[(r, c)] - means[c]);
        let sample = centered.transpose() * &centered / (n - 1.0);
        for i in 0..d {
            for j in 0..d {
                let (s, t) = (sample[(i, j)], implied[(i, j)]);
                // Var of a sample covariance ≈ (Σii Σjj + Σij²)/n; allow 5 sd.
                let tol = 5.0 * ((implied[(i, i)] * implied[(j, j)] + t * t) / n).sqrt();
                assert!((s - t).abs() < tol, "({i},{j}): {s} vs {t}");
            }
        }
    }

    #[test]
    fn parameters_are_validated() {
        let base = SyntheticParams::default();
        for bad in [
            SyntheticParams {
                n_nodes: 1,
                ..base.clone()
            },
            SyntheticParams {
                n_nodes: 201,
                ..base.clone()
            },
            SyntheticParams {
                expected_degree: 9.5,
                ..base.clone()
            },
            SyntheticParams {
                expected_degree: -1.0,
                ..base.clone()
            },
            SyntheticParams {
                expected_degree: f64::NAN,
                ..base.clone()
            },
            SyntheticParams {
                n_rows: 9,
                ..base.clone()
            },
            SyntheticParams {
                n_rows: 100_001,
                ..base.clone()
            },
        ] {
            let err = generate(&bad).unwrap_err();
            assert!(matches!(err, DataError::InvalidParameter { .. }));
            assert!(err.to_string().contains("between"), "{err}");
        }
        let full = SyntheticParams {
            n_nodes: 5,
            expected_degree: 4.0,
            n_rows: 10,
            seed: 3,
        };
        assert_eq!(generate(&full).unwrap().truth.n_edges(), 10);
    }
}
