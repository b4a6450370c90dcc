//! Synthetic data from a random structural causal model, so learners can be scored against the
//! truth.
//!
//! The default recipe is the one of the NOTEARS paper (Zheng et al., 2018): an Erdős–Rényi DAG
//! with a given expected degree, edge weights ±U(0.5, 2), and standard normal noise. Options
//! add scale-free (Barabási–Albert) graphs, nonlinear equations (a random one-hidden-layer tanh
//! network per node), unequal noise scales, and hard interventions (one block of rows per
//! intervened node, with that node replaced by fresh N(0, 1) noise, as in the SDCD paper).

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
/// Hidden units of each node's random network in the nonlinear model (small, so that a
/// node's function stays a smooth, visibly nonlinear curve rather than noise-like).
pub const MLP_HIDDEN: usize = 10;

/// How the random DAG is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GraphModel {
    /// Every pair (earlier, later) of a random causal order is an edge with the same
    /// probability.
    #[default]
    ErdosRenyi,
    /// Barabási–Albert preferential attachment: each new node sends edges to
    /// round(k / 2) existing nodes chosen with probability proportional to their degree, so a
    /// few hubs collect many parents (NOTEARS' `simulate_dag(..., "SF")`).
    ScaleFree,
}

/// What each node's equation is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mechanism {
    /// X_j = Σ_i W_ij X_i + noise.
    #[default]
    Linear,
    /// X_j = tanh(X_pa A_j) b_j + noise, with A_j (|pa| × 10) and b_j entries ±U(0.5, 2).
    Mlp,
}

/// Noise standard deviations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NoiseScale {
    /// N(0, 1) for every node.
    #[default]
    Equal,
    /// N(0, s_j²) with s_j ~ U(0.5, 1.5) per node: equal-variance identifiability is lost.
    Random,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyntheticParams {
    pub n_nodes: usize,
    /// Expected number of edges touching a node (in + out).
    pub expected_degree: f64,
    /// Observational rows.
    pub n_rows: usize,
    pub seed: u64,
    #[serde(default)]
    pub graph: GraphModel,
    #[serde(default)]
    pub mechanism: Mechanism,
    #[serde(default)]
    pub noise: NoiseScale,
    /// Nodes to intervene on, by name (`X3, X7`), one regime each; empty for none.
    #[serde(default)]
    pub intervention_targets: String,
    /// Rows generated under each intervention, after the observational rows.
    #[serde(default = "default_rows_per_intervention")]
    pub rows_per_intervention: usize,
}

fn default_rows_per_intervention() -> usize {
    100
}

impl Default for SyntheticParams {
    /// d = 10, k = 2 (ER2), n = 1000: sizes of the NOTEARS paper's experiments.
    fn default() -> Self {
        SyntheticParams {
            n_nodes: 10,
            expected_degree: 2.0,
            n_rows: 1000,
            seed: 1,
            graph: GraphModel::ErdosRenyi,
            mechanism: Mechanism::Linear,
            noise: NoiseScale::Equal,
            intervention_targets: String::new(),
            rows_per_intervention: default_rows_per_intervention(),
        }
    }
}

impl SyntheticParams {
    /// A short description for labels: `ER(d = 10, k = 2)`, `SF(...) nonlinear`, ...
    pub fn describe(&self) -> String {
        let graph = match self.graph {
            GraphModel::ErdosRenyi => "ER",
            GraphModel::ScaleFree => "SF",
        };
        let mut text = format!(
            "{graph}(d = {}, k = {})",
            self.n_nodes, self.expected_degree
        );
        if self.mechanism == Mechanism::Mlp {
            text.push_str(" nonlinear");
        }
        if self.noise == NoiseScale::Random {
            text.push_str(", unequal noise");
        }
        text
    }

    /// The intervened nodes, as indices, in the order written.
    pub fn targets(&self) -> Result<Vec<usize>, DataError> {
        let mut out = Vec::new();
        for part in self.intervention_targets.split([',', ' ', ';', '+']) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let index = part
                .strip_prefix('X')
                .and_then(|k| k.parse::<usize>().ok())
                .filter(|k| (1..=self.n_nodes).contains(k))
                .ok_or_else(|| {
                    invalid(
                        "an intervention target",
                        part,
                        format!("a node name from X1 to X{}", self.n_nodes),
                    )
                })?;
            if !out.contains(&(index - 1)) {
                out.push(index - 1);
            }
        }
        Ok(out)
    }

    /// All rows: observational plus one block per intervention.
    pub fn total_rows(&self) -> usize {
        let targets = self.targets().map(|t| t.len()).unwrap_or(0);
        self.n_rows + targets * self.rows_per_intervention
    }
}

/// Generated data with its true graph and weights (`weights[(i, j)] != 0` means i → j; for
/// the nonlinear model the weight is the mean |first-layer weight| of the parent, a summary).
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticData {
    pub dataset: Dataset,
    pub truth: DiGraph,
    pub weights: DMatrix<f64>,
    /// Per row, the intervened node's name or `obs`; `None` without interventions.
    pub intervention_labels: Option<Vec<String>>,
}

impl SyntheticData {
    /// The data as CSV text (full precision), with a `target` column when there are
    /// interventions, so interventional data goes through the same reader as a user's file.
    pub fn to_csv(&self) -> Vec<u8> {
        let mut out = String::new();
        let names = &self.dataset.names;
        out.push_str(&names.join(","));
        if self.intervention_labels.is_some() {
            out.push_str(",target");
        }
        out.push('\n');
        for row in 0..self.dataset.n_rows() {
            for (c, column) in self.dataset.columns.iter().enumerate() {
                if c > 0 {
                    out.push(',');
                }
                out.push_str(&format!("{}", column[row]));
            }
            if let Some(labels) = &self.intervention_labels {
                out.push(',');
                out.push_str(&labels[row]);
            }
            out.push('\n');
        }
        out.into_bytes()
    }
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
    let targets = p.targets()?;
    if !targets.is_empty() {
        if !(1..=MAX_ROWS).contains(&p.rows_per_intervention) {
            return Err(invalid(
                "the rows per intervention",
                p.rows_per_intervention,
                format!("between 1 and {MAX_ROWS}"),
            ));
        }
        if p.total_rows() > MAX_ROWS {
            return Err(invalid(
                "the total number of rows",
                p.total_rows(),
                format!("at most {MAX_ROWS}: fewer rows per intervention or fewer targets"),
            ));
        }
    }
    Ok(())
}

/// ±U(0.5, 2), the weight distribution of the NOTEARS paper.
fn signed_weight(rng: &mut ChaCha8Rng) -> f64 {
    let magnitude = 0.5 + 1.5 * rng.random::<f64>();
    if rng.random::<bool>() {
        magnitude
    } else {
        -magnitude
    }
}

/// The random DAG: its edges (cause, effect) and an order in which every cause comes before
/// its effects. For the linear Erdős–Rényi model each weight is drawn right after its edge, so
/// the data of a seed is the same as before the other models existed.
struct DrawnGraph {
    edges: Vec<(usize, usize)>,
    weights: Option<Vec<f64>>,
    order: Vec<usize>,
}

fn draw_graph(params: &SyntheticParams, rng: &mut ChaCha8Rng) -> DrawnGraph {
    let d = params.n_nodes;
    // A random causal order hides the structure from the node labels.
    let mut order: Vec<usize> = (0..d).collect();
    order.shuffle(rng);
    let mut edges = Vec::new();
    match params.graph {
        GraphModel::ErdosRenyi => {
            // Each pair (earlier, later) is an edge with probability p, so each node has on
            // average p·(d-1) = k neighbours.
            let inline = params.mechanism == Mechanism::Linear;
            let mut weights = Vec::new();
            let p = params.expected_degree / (d - 1) as f64;
            for a in 0..d {
                for b in (a + 1)..d {
                    if rng.random::<f64>() < p {
                        edges.push((order[a], order[b]));
                        if inline {
                            weights.push(signed_weight(rng));
                        }
                    }
                }
            }
            DrawnGraph {
                edges,
                weights: inline.then_some(weights),
                order,
            }
        }
        GraphModel::ScaleFree => {
            // Each new node attaches to m existing ones (fewer while fewer exist), chosen
            // with probability ∝ degree + 1 so isolated early nodes can still be picked;
            // edges point from the new node to the old (as igraph's directed Barabási graph),
            // so causes come later in `order`.
            let m = (params.expected_degree / 2.0).round().max(0.0) as usize;
            let mut degree = vec![0usize; d];
            for new in 1..d {
                let mut chosen: Vec<usize> = Vec::new();
                while chosen.len() < m.min(new) {
                    let total: usize = (0..new)
                        .filter(|o| !chosen.contains(o))
                        .map(|o| degree[o] + 1)
                        .sum();
                    let mut ticket = rng.random_range(0..total);
                    for old in (0..new).filter(|o| !chosen.contains(o)) {
                        if ticket < degree[old] + 1 {
                            chosen.push(old);
                            break;
                        }
                        ticket -= degree[old] + 1;
                    }
                }
                for old in chosen {
                    degree[old] += 1;
                    degree[new] += 1;
                    edges.push((order[new], order[old]));
                }
            }
            order.reverse();
            DrawnGraph {
                edges,
                weights: None,
                order,
            }
        }
    }
}

/// One node's structural equation.
enum Equation {
    Linear(Vec<(usize, f64)>),
    Mlp {
        parents: Vec<usize>,
        /// |parents| × MLP_HIDDEN, row-major.
        first: Vec<f64>,
        second: Vec<f64>,
    },
}

impl Equation {
    /// `noise` plus the node's function of its parents at `row` (added in this order so the
    /// linear model reproduces the data of earlier versions bit for bit).
    fn value(&self, noise: f64, columns: &[Vec<f64>], row: usize, hidden: &mut [f64]) -> f64 {
        match self {
            Equation::Linear(terms) => terms
                .iter()
                .fold(noise, |acc, &(i, w)| acc + w * columns[i][row]),
            Equation::Mlp {
                parents,
                first,
                second,
            } => {
                if parents.is_empty() {
                    return noise;
                }
                hidden.iter_mut().for_each(|h| *h = 0.0);
                for (p, &i) in parents.iter().enumerate() {
                    let x = columns[i][row];
                    for (h, w) in hidden.iter_mut().zip(&first[p * MLP_HIDDEN..]) {
                        *h += w * x;
                    }
                }
                noise
                    + hidden
                        .iter()
                        .zip(second)
                        .map(|(h, b)| h.tanh() * b)
                        .sum::<f64>()
            }
        }
    }
}

/// Draws a DAG and samples observations (and interventional blocks) from its SEM. The same
/// parameters (seed included) always give the same data.
pub fn generate(params: &SyntheticParams) -> Result<SyntheticData, DataError> {
    validate(params)?;
    let d = params.n_nodes;
    let targets = params.targets()?;
    let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
    let drawn = draw_graph(params, &mut rng);
    let truth = DiGraph::from_edges(d, &drawn.edges);

    let mut weights = DMatrix::zeros(d, d);
    if let Some(inline) = &drawn.weights {
        for (&(i, j), &w) in drawn.edges.iter().zip(inline) {
            weights[(i, j)] = w;
        }
    }
    let mut equations = Vec::with_capacity(d);
    for j in 0..d {
        let parents = truth.parents(j);
        let equation = match params.mechanism {
            Mechanism::Linear => Equation::Linear(
                parents
                    .iter()
                    .map(|&i| {
                        if drawn.weights.is_none() {
                            weights[(i, j)] = signed_weight(&mut rng);
                        }
                        (i, weights[(i, j)])
                    })
                    .collect(),
            ),
            Mechanism::Mlp => {
                let first: Vec<f64> = (0..parents.len() * MLP_HIDDEN)
                    .map(|_| signed_weight(&mut rng))
                    .collect();
                let second = (0..MLP_HIDDEN).map(|_| signed_weight(&mut rng)).collect();
                for (p, &i) in parents.iter().enumerate() {
                    let row = &first[p * MLP_HIDDEN..(p + 1) * MLP_HIDDEN];
                    weights[(i, j)] = row.iter().map(|w| w.abs()).sum::<f64>() / MLP_HIDDEN as f64;
                }
                Equation::Mlp {
                    parents,
                    first,
                    second,
                }
            }
        };
        equations.push(equation);
    }
    let noise_sd: Vec<f64> = match params.noise {
        NoiseScale::Equal => vec![1.0; d],
        NoiseScale::Random => (0..d).map(|_| 0.5 + rng.random::<f64>()).collect(),
    };

    // Rows [0, n_rows) are observational; block r after them sets targets[r] to fresh N(0, 1)
    // noise, cutting it off from its parents (a hard, "perfect" intervention).
    let n = params.n_rows + targets.len() * params.rows_per_intervention;
    let regime_of = |row: usize| -> Option<usize> {
        (row >= params.n_rows)
            .then(|| targets[(row - params.n_rows) / params.rows_per_intervention])
    };
    let mut columns = vec![Vec::new(); d];
    let mut hidden = vec![0.0; MLP_HIDDEN];
    // Filled node by node in causal order so parents exist before children.
    for &j in &drawn.order {
        let noise: Vec<f64> = (0..n).map(|_| rng.sample(StandardNormal)).collect();
        let column = (0..n)
            .map(|row| {
                if regime_of(row) == Some(j) {
                    noise[row]
                } else {
                    equations[j].value(noise_sd[j] * noise[row], &columns, row, &mut hidden)
                }
            })
            .collect();
        columns[j] = column;
    }
    let labels = (!targets.is_empty()).then(|| {
        (0..n)
            .map(|row| regime_of(row).map_or_else(|| "obs".to_string(), |t| format!("X{}", t + 1)))
            .collect()
    });
    let names = (1..=d).map(|j| format!("X{j}")).collect();
    let dataset = Dataset::new(names, columns)?;
    Ok(SyntheticData {
        dataset,
        truth,
        weights,
        intervention_labels: labels,
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
                ..Default::default()
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
                    ..Default::default()
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
            ..Default::default()
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
            ..Default::default()
        };
        assert_eq!(generate(&full).unwrap().truth.n_edges(), 10);
    }

    #[test]
    fn scale_free_graphs_have_hubs_and_m_edges_per_node() {
        let p = SyntheticParams {
            n_nodes: 50,
            expected_degree: 4.0,
            n_rows: 10,
            graph: GraphModel::ScaleFree,
            ..Default::default()
        };
        let g = generate(&p).unwrap();
        assert!(g.truth.is_acyclic());
        // Node t (t ≥ 2) attaches to m = 2 earlier nodes, node 1 to one: 2·49 − 1 edges.
        assert_eq!(g.truth.n_edges(), 97);
        let max_in = (0..50).map(|j| g.truth.parents(j).len()).max().unwrap();
        // A hub collects far more parents than the 2 of an average node.
        assert!(max_in >= 8, "{max_in}");
        for (i, j) in g.truth.edges() {
            assert!((0.5..=2.0).contains(&g.weights[(i, j)].abs()));
        }
    }

    #[test]
    fn nonlinear_and_unequal_noise_data_is_finite_and_seeded() {
        let p = SyntheticParams {
            n_nodes: 8,
            n_rows: 200,
            mechanism: Mechanism::Mlp,
            noise: NoiseScale::Random,
            ..Default::default()
        };
        let a = generate(&p).unwrap();
        assert_eq!(a, generate(&p).unwrap());
        assert!(a.truth.is_acyclic());
        assert!(a.dataset.columns.iter().flatten().all(|v| v.is_finite()));
        assert!(p.describe().contains("nonlinear"));
        // Summary weights of the nonlinear model are mean |first-layer weight| in [0.5, 2].
        for (i, j) in a.truth.edges() {
            assert!((0.5..=2.0).contains(&a.weights[(i, j)]));
        }
    }

    fn correlation(a: &[f64], b: &[f64]) -> f64 {
        let n = a.len() as f64;
        let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
        let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
        let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
        let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
        cov / (va * vb).sqrt()
    }

    #[test]
    fn interventions_cut_a_node_from_its_parents() {
        // Find a seed whose X-node with the most parents has at least one, and intervene on it.
        let base = SyntheticParams {
            n_nodes: 6,
            n_rows: 2000,
            seed: 4,
            ..Default::default()
        };
        let g0 = generate(&base).unwrap();
        let child = (0..6).max_by_key(|&j| g0.truth.parents(j).len()).unwrap();
        assert!(!g0.truth.parents(child).is_empty());
        let p = SyntheticParams {
            intervention_targets: format!("X{}", child + 1),
            rows_per_intervention: 2000,
            ..base
        };
        let g = generate(&p).unwrap();
        assert_eq!(g.dataset.n_rows(), 4000);
        let labels = g.intervention_labels.as_ref().unwrap();
        assert_eq!(labels[0], "obs");
        assert_eq!(labels[3999], format!("X{}", child + 1));
        // Under the intervention the child is N(0, 1): mean within 5 sd of 0 (sd = 1/√2000)
        // and uncorrelated with its first parent (|r| < 5/√2000).
        let x = &g.dataset.columns[child][2000..];
        let parent = &g.dataset.columns[g.truth.parents(child)[0]][2000..];
        let mean = x.iter().sum::<f64>() / 2000.0;
        assert!(mean.abs() < 5.0 / 2000f64.sqrt(), "{mean}");
        let corr = correlation(x, parent);
        assert!(corr.abs() < 5.0 / 2000f64.sqrt(), "{corr}");
        // The truth is the same graph.
        assert_eq!(g.truth, g0.truth);
    }

    #[test]
    fn interventional_csv_reads_back_with_its_target_column() {
        let p = SyntheticParams {
            n_nodes: 4,
            n_rows: 20,
            intervention_targets: "X2, X4".into(),
            rows_per_intervention: 5,
            ..Default::default()
        };
        let g = generate(&p).unwrap();
        let table = crate::data::csv_reader::read_csv(&g.to_csv()).unwrap();
        assert_eq!(table.n_rows, 30);
        assert_eq!(table.names(), vec!["X1", "X2", "X3", "X4", "target"]);
        let prep = crate::data::csv_reader::Prep {
            intervention_column: Some("target".into()),
            ..Default::default()
        };
        let labels = table.intervention_labels(&prep).unwrap().unwrap();
        assert_eq!(labels[24], "X2");
        assert_eq!(labels[29], "X4");
        let back = table.to_dataset(&prep).unwrap();
        assert_eq!(back.columns, g.dataset.columns, "full precision round trip");
    }

    #[test]
    fn bad_targets_are_named() {
        for bad in ["X9", "Y1", "X0"] {
            let p = SyntheticParams {
                n_nodes: 4,
                intervention_targets: bad.into(),
                ..Default::default()
            };
            let err = generate(&p).unwrap_err().to_string();
            assert!(err.contains(bad) && err.contains("X4"), "{err}");
        }
        let too_many = SyntheticParams {
            intervention_targets: "X1 X2".into(),
            rows_per_intervention: MAX_ROWS,
            ..Default::default()
        };
        assert!(generate(&too_many).is_err());
    }
}
