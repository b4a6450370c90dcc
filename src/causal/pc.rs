//! The PC algorithm (Spirtes & Glymour 1991) with the order-independent "stable" skeleton of
//! Colombo & Maathuis (2014) and Fisher's z test of partial correlation, following
//! causal-learn 0.1.4.8 (`pc(data, 0.05, fisherz, stable=True, uc_rule=0, uc_priority=2)`):
//! skeleton level by level, colliders from separating sets, then Meek's rules → CPDAG.
//!
//! Steppable: one [`Pc::step`] runs a bounded batch of conditional-independence tests; the
//! orientation phase is one step.
//!
//! On finite samples the separating sets can disagree, and the collider step (which, as in
//! causal-learn, does not check for cycles) may then leave a directed cycle in the output; the
//! reference returns the same graph. Meek's rules never close a cycle here (causal-learn's
//! guard can miss one: see tests/golden_pc_ges.rs).

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use super::input::{DataRequirements, InputError};
use super::{GraphKind, Knowledge, LearnedGraph, Learner};
use crate::graph::Pdag;
use crate::run::{Progress, StepOutcome, StopReason};

/// Why PC cannot run on the given data or settings.
pub type PcError = InputError;

/// What PC needs of its data.
const REQUIREMENTS: DataRequirements = DataRequirements {
    learner: "PC",
    min_rows: 5,
    why: " for the Fisher z test",
    no_constant_columns: true,
};

/// Settings of PC; the defaults are causal-learn's `pc` defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcParams {
    /// Significance level of the Fisher z tests: a pair is separated when p > α (`alpha=0.05`).
    pub alpha: f64,
    /// The largest conditioning set tried, `None` for no limit (causal-learn's `max_k=None`).
    /// An `Option` rather than `usize::MAX` so the settings survive the trip through JS numbers.
    pub max_depth: Option<usize>,
}

impl Default for PcParams {
    fn default() -> Self {
        PcParams {
            alpha: 0.05,
            max_depth: None,
        }
    }
}

impl PcParams {
    pub fn validate(&self) -> Result<(), PcError> {
        if !(self.alpha > 0.0 && self.alpha < 1.0) {
            return Err(InputError::InvalidParameter {
                name: "α (significance level)",
                value: self.alpha.to_string(),
                allowed: "a number strictly between 0 and 1, e.g. 0.05",
            });
        }
        Ok(())
    }
}

/// The correlation matrix of the columns (numpy's `corrcoef`).
pub(crate) fn correlation(x: &DMatrix<f64>) -> DMatrix<f64> {
    let cov = super::score::covariance(x);
    let d = cov.nrows();
    DMatrix::from_fn(d, d, |i, j| {
        if i == j {
            1.0
        } else {
            cov[(i, j)] / (cov[(i, i)] * cov[(j, j)]).sqrt()
        }
    })
}

/// erfc(x) for x ≥ 0 to about 1e-16 absolute: the positive-term series
/// erf x = (2/√π) e^{−x²} Σ 2ⁿ x^{2n+1} / (1·3·…·(2n+1)) below 6, the continued fraction above.
fn erfc(x: f64) -> f64 {
    if x < 6.0 {
        let mut term = x;
        let mut sum = x;
        let x2 = x * x;
        let mut k = 0.0;
        while term > 1e-17 * sum {
            k += 1.0;
            term *= 2.0 * x2 / (2.0 * k + 1.0);
            sum += term;
        }
        1.0 - 2.0 / std::f64::consts::PI.sqrt() * (-x2).exp() * sum
    } else {
        // Lentz-free backward evaluation of erfc x = e^{−x²}/√π · 1/(x + ½/(x + 1/(x + 3/2/…))).
        let mut f = x;
        for k in (1..60).rev() {
            f = x + (k as f64 / 2.0) / f;
        }
        (-x * x).exp() / std::f64::consts::PI.sqrt() / f
    }
}

/// The two-sided p-value of Fisher's z for partial correlation `r` given `k` conditioning
/// variables and `n` rows, as causal-learn's `FisherZ` (|r| clipped below 1).
pub fn fisher_z_p_value(r: f64, n: usize, k: usize) -> f64 {
    let r = if r.abs() >= 1.0 {
        (1.0 - f64::EPSILON) * r.signum()
    } else {
        r
    };
    let z = 0.5 * ((1.0 + r) / (1.0 - r)).ln();
    let stat = ((n as f64) - k as f64 - 3.0).sqrt() * z.abs();
    // 2(1 − Φ(s)) = erfc(s/√2).
    erfc(stat / std::f64::consts::SQRT_2)
}

/// Partial correlations from a correlation matrix, with reused buffers.
struct PartialCorr {
    corr: DMatrix<f64>,
    l: Vec<f64>,
    u: Vec<f64>,
    v: Vec<f64>,
}

impl PartialCorr {
    /// ρ(x, y | s): with L Lᵀ = R_ss, u = L⁻¹R_sx, v = L⁻¹R_sy, the partial covariance is
    /// [[1 − u·u, r_xy − u·v], [·, 1 − v·v]], so ρ = (r_xy − u·v)/√((1 − u·u)(1 − v·v)). This
    /// equals −P₀₁/√(P₀₀P₁₁) for P = R[x,y,s]⁻¹ (causal-learn's formula) at O(k³/6).
    fn compute(&mut self, x: usize, y: usize, s: &[usize]) -> f64 {
        let k = s.len();
        let r = &self.corr;
        if k == 0 {
            return r[(x, y)];
        }
        self.l.clear();
        self.l.resize(k * k, 0.0);
        let l = &mut self.l;
        for a in 0..k {
            for b in 0..=a {
                let mut sum = r[(s[a], s[b])];
                for c in 0..b {
                    sum -= l[a * k + c] * l[b * k + c];
                }
                if a == b {
                    if sum <= 1e-12 {
                        return self.by_inverse(x, y, s);
                    }
                    l[a * k + a] = sum.sqrt();
                } else {
                    l[a * k + b] = sum / l[b * k + b];
                }
            }
        }
        self.u.clear();
        self.v.clear();
        for a in 0..k {
            let mut su = r[(s[a], x)];
            let mut sv = r[(s[a], y)];
            for c in 0..a {
                su -= self.l[a * k + c] * self.u[c];
                sv -= self.l[a * k + c] * self.v[c];
            }
            self.u.push(su / self.l[a * k + a]);
            self.v.push(sv / self.l[a * k + a]);
        }
        let uu: f64 = self.u.iter().map(|a| a * a).sum();
        let vv: f64 = self.v.iter().map(|a| a * a).sum();
        let uv: f64 = self.u.iter().zip(&self.v).map(|(a, b)| a * b).sum();
        (r[(x, y)] - uv) / ((1.0 - uu) * (1.0 - vv)).abs().sqrt()
    }

    /// The reference's route for a (near-)singular conditioning set: invert R[x, y, s].
    fn by_inverse(&self, x: usize, y: usize, s: &[usize]) -> f64 {
        let vars: Vec<usize> = [x, y].iter().chain(s).copied().collect();
        let m = vars.len();
        let sub = DMatrix::from_fn(m, m, |a, b| self.corr[(vars[a], vars[b])]);
        match sub.try_inverse() {
            Some(p) => -p[(0, 1)] / (p[(0, 0)] * p[(1, 1)]).abs().sqrt(),
            // numpy raises here; keeping the edge (ρ = 1, p ≈ 0) is the conservative choice.
            None => 1.0,
        }
    }
}

/// Where the skeleton search is within a level.
#[derive(Debug, Clone)]
struct Cursor {
    x: usize,
    /// Position of y in `neigh[x]`.
    y_pos: usize,
    /// The current combination (indices into `neigh[x]` without y), or None before the first.
    combo: Option<Vec<usize>>,
}

/// Statistics of a run, for tests and labels.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PcStats {
    pub n_tests: usize,
    /// The deepest level (conditioning-set size) that ran.
    pub depth: usize,
}

/// PC in progress.
pub struct Pc {
    d: usize,
    n_rows: usize,
    params: PcParams,
    knowledge: Knowledge,
    pcorr: PartialCorr,
    /// Symmetric skeleton adjacency, row-major.
    adj: Vec<bool>,
    /// Adjacency at the start of the level (the stable variant tests against it).
    neigh: Vec<Vec<usize>>,
    depth: usize,
    cursor: Cursor,
    /// Pairs to remove at the end of the level.
    removal: Vec<bool>,
    /// For the pair being tested: whether some S separated it, and the union of those S.
    found: bool,
    found_union: Vec<usize>,
    /// Union of separating sets by unordered pair, row-major (both orders filled).
    sepset: Vec<Option<Vec<usize>>>,
    stats: PcStats,
    version: usize,
    cpdag: Option<Pdag>,
    done: bool,
}

/// Test budget per step in units of (k + 2)³ + 16 flops-ish, about a millisecond natively.
const STEP_BUDGET: usize = 200_000;

impl Pc {
    /// Prepares PC on data `x` (n rows × d columns) with background knowledge: edges forbidden
    /// in both directions (directly or by tiers) are left out of the skeleton; after the
    /// skeleton, required adjacencies are never removed from it (as Tetrad's FAS), edges with
    /// one direction forbidden or required are oriented so; colliders and
    /// Meek's rules never orient against the knowledge (causal-learn's `background_knowledge`).
    /// Required edges missing from the skeleton are not added (causal-learn does not either).
    pub fn new(x: &DMatrix<f64>, params: PcParams, knowledge: &Knowledge) -> Result<Pc, PcError> {
        params.validate()?;
        REQUIREMENTS.check(x)?;
        let (n, d) = x.shape();
        let corr = correlation(x);
        let mut adj = vec![true; d * d];
        for i in 0..d {
            adj[i * d + i] = false;
        }
        let mut pc = Pc {
            d,
            n_rows: n,
            params,
            knowledge: knowledge.clone(),
            pcorr: PartialCorr {
                corr,
                l: vec![],
                u: vec![],
                v: vec![],
            },
            adj,
            neigh: vec![],
            depth: 0,
            cursor: Cursor {
                x: 0,
                y_pos: 0,
                combo: None,
            },
            removal: vec![false; d * d],
            found: false,
            found_union: vec![],
            sepset: vec![None; d * d],
            stats: PcStats::default(),
            version: 0,
            cpdag: None,
            done: false,
        };
        pc.start_level(0);
        Ok(pc)
    }

    fn max_degree(&self) -> usize {
        (0..self.d)
            .map(|i| (0..self.d).filter(|&j| self.adj[i * self.d + j]).count())
            .max()
            .unwrap_or(0)
    }

    /// The deepest level worth running: Fisher z needs n − k − 3 > 0 degrees of freedom.
    fn depth_limit(&self) -> usize {
        self.params
            .max_depth
            .unwrap_or(usize::MAX)
            .min(self.n_rows.saturating_sub(4))
    }

    fn start_level(&mut self, depth: usize) {
        let d = self.d;
        self.depth = depth;
        self.neigh = (0..d)
            .map(|i| (0..d).filter(|&j| self.adj[i * d + j]).collect())
            .collect();
        self.removal = vec![false; d * d];
        self.cursor = Cursor {
            x: 0,
            y_pos: 0,
            combo: None,
        };
        self.found = false;
        self.found_union.clear();
    }

    /// Advances a combination of `k` out of `m` in lexicographic order (itertools order).
    fn next_combo(combo: &mut Option<Vec<usize>>, m: usize, k: usize) -> bool {
        match combo {
            None => {
                if k > m {
                    return false;
                }
                *combo = Some((0..k).collect());
                true
            }
            Some(c) => {
                let mut i = k;
                while i > 0 {
                    i -= 1;
                    if c[i] < m - k + i {
                        c[i] += 1;
                        for j in i + 1..k {
                            c[j] = c[j - 1] + 1;
                        }
                        return true;
                    }
                }
                false
            }
        }
    }

    /// Records the outcome for the pair (x, y) once its conditioning sets are exhausted.
    fn finish_pair(&mut self, x: usize, y: usize) {
        let d = self.d;
        if self.found {
            self.removal[x * d + y] = true;
            self.removal[y * d + x] = true;
        }
        if self.removal[x * d + y] {
            // causal-learn appends the union of every separating S found from this side; the
            // collider test only asks whether a node is in any of them, so a union suffices.
            for (a, b) in [(x, y), (y, x)] {
                let entry = self.sepset[a * d + b].get_or_insert_with(Vec::new);
                for &s in &self.found_union {
                    if !entry.contains(&s) {
                        entry.push(s);
                    }
                }
            }
        }
        self.found = false;
        self.found_union.clear();
    }

    /// One bounded batch of tests in the current level; ends levels and runs orientation.
    pub fn step(&mut self) -> StepOutcome {
        if self.done {
            return StepOutcome::Finished(StopReason::Converged);
        }
        let d = self.d;
        let k = self.depth;
        let mut budget = STEP_BUDGET;
        let mut s_buf: Vec<usize> = Vec::with_capacity(k);
        while budget > 0 {
            let x = self.cursor.x;
            if x >= d {
                self.end_level();
                return if self.done {
                    StepOutcome::Finished(StopReason::Converged)
                } else {
                    StepOutcome::Continue
                };
            }
            if self.cursor.y_pos >= self.neigh[x].len() {
                self.cursor.x += 1;
                self.cursor.y_pos = 0;
                self.cursor.combo = None;
                continue;
            }
            let y = self.neigh[x][self.cursor.y_pos];
            if self.cursor.combo.is_none()
                && (self.knowledge.requires(x, y) || self.knowledge.requires(y, x))
            {
                // A required adjacency is never tested away (as Tetrad's FAS; causal-learn has
                // no such rule and may drop it), so orientation can then give it its direction.
                self.cursor.y_pos += 1;
                continue;
            }
            if self.cursor.combo.is_none()
                && !self.knowledge.allows(x, y)
                && !self.knowledge.allows(y, x)
            {
                self.removal[x * d + y] = true;
                self.removal[y * d + x] = true;
            }
            let m = self.neigh[x].len() - 1;
            if !Self::next_combo(&mut self.cursor.combo, m, k) {
                self.finish_pair(x, y);
                self.cursor.y_pos += 1;
                self.cursor.combo = None;
                continue;
            }
            let Some(combo) = self.cursor.combo.as_ref() else {
                continue;
            };
            // Combination indices run over neigh[x] without y, which sits at y_pos.
            let y_pos = self.cursor.y_pos;
            s_buf.clear();
            s_buf.extend(
                combo
                    .iter()
                    .map(|&c| self.neigh[x][c + usize::from(c >= y_pos)]),
            );
            let r = self.pcorr.compute(x, y, &s_buf);
            let p = fisher_z_p_value(r, self.n_rows, k);
            self.stats.n_tests += 1;
            if p > self.params.alpha {
                self.found = true;
                for &s in &s_buf {
                    if !self.found_union.contains(&s) {
                        self.found_union.push(s);
                    }
                }
            }
            budget = budget.saturating_sub((k + 2).pow(3) + 16);
        }
        StepOutcome::Continue
    }

    fn end_level(&mut self) {
        let d = self.d;
        for i in 0..d * d {
            if self.removal[i] {
                self.adj[i] = false;
            }
        }
        self.stats.depth = self.depth;
        self.version += 1;
        // causal-learn: `while cg.max_degree() - 1 > depth`.
        let next = self.depth + 1;
        if self.max_degree() > next && next <= self.depth_limit() {
            self.start_level(next);
        } else {
            self.orient();
            self.done = true;
            self.version += 1;
        }
    }

    /// Background knowledge, colliders (`uc_sepset`, priority 2) and Meek's rules.
    fn orient(&mut self) {
        let d = self.d;
        let mut g = Pdag::empty(d);
        for i in 0..d {
            for j in i + 1..d {
                if self.adj[i * d + j] {
                    g.add_undirected(i, j);
                }
            }
        }
        let kn = &self.knowledge;
        let with_knowledge = !kn.is_empty();
        if with_knowledge {
            // `orient_by_background_knowledge`, edge (i, j) with i < j as causal-learn lists it.
            for (i, j) in g.skeleton() {
                if !kn.allows(j, i) {
                    g.add_directed(i, j);
                } else if !kn.allows(i, j) || kn.requires(j, i) {
                    g.add_directed(j, i);
                } else if kn.requires(i, j) {
                    g.add_directed(i, j);
                }
            }
        }
        // Colliders: priority 2 ("prioritize existing colliders") never overwrites an arrow
        // pointing out of the middle node.
        let triples = g.unshielded_triples();
        for (x, y, z) in triples.into_iter().filter(|&(x, _, z)| x < z) {
            if with_knowledge
                && (!kn.allows(x, y) || !kn.allows(z, y) || kn.requires(y, x) || kn.requires(y, z))
            {
                continue;
            }
            let in_sepset = self.sepset[x * d + z]
                .as_ref()
                .is_some_and(|s| s.contains(&y));
            if !in_sepset && !g.is_directed(y, x) && !g.is_directed(y, z) {
                g.add_directed(x, y);
                g.add_directed(z, y);
            }
        }
        g.apply_meek(with_knowledge.then_some(kn));
        self.cpdag = Some(g);
    }

    pub fn stats(&self) -> &PcStats {
        &self.stats
    }

    /// The separating-set union PC recorded for a removed pair (None if the pair is adjacent).
    pub fn sepset(&self, i: usize, j: usize) -> Option<&[usize]> {
        self.sepset[i * self.d + j].as_deref()
    }

    pub fn progress(&self) -> Progress {
        if self.done {
            return Progress {
                fraction: 1.0,
                label: format!("done · {} tests", self.stats.n_tests),
            };
        }
        // Levels rarely go past 3–4 on sparse graphs; within a level, by node.
        let within = self.cursor.x as f64 / self.d as f64;
        let fraction = ((self.depth as f64 + within) / (self.depth as f64 + 2.0)).clamp(0.0, 0.99);
        Progress {
            fraction,
            label: format!(
                "level {} · node {}/{} · {} tests",
                self.depth,
                self.cursor.x.min(self.d),
                self.d,
                self.stats.n_tests
            ),
        }
    }

    /// The skeleton so far (undirected, weight 1 both ways), or the oriented CPDAG at the end.
    pub fn current_weights(&self) -> DMatrix<f64> {
        match &self.cpdag {
            Some(g) => g.to_weights(),
            None => {
                let d = self.d;
                DMatrix::from_fn(d, d, |i, j| if self.adj[i * d + j] { 1.0 } else { 0.0 })
            }
        }
    }

    /// The CPDAG (once finished) or the current skeleton.
    pub fn result(&self) -> LearnedGraph {
        let w = self.current_weights();
        let weights: Vec<f64> = w.transpose().iter().copied().collect();
        LearnedGraph {
            n_nodes: self.d,
            raw_weights: weights.clone(),
            weights,
            stop: if self.done {
                StopReason::Converged
            } else {
                StopReason::LimitReached(format!("stopped in level {}", self.depth))
            },
            kind: GraphKind::Cpdag,
            rethreshold: crate::causal::Rethreshold::Entrywise,
        }
    }

    /// The learned PDAG, once finished.
    pub fn cpdag(&self) -> Option<&Pdag> {
        self.cpdag.as_ref()
    }
}

impl Learner for Pc {
    fn step(&mut self) -> StepOutcome {
        Pc::step(self)
    }
    fn progress(&self) -> Progress {
        Pc::progress(self)
    }
    fn version(&self) -> usize {
        self.version
    }
    fn current_weights(&self) -> DMatrix<f64> {
        Pc::current_weights(self)
    }
    fn result(&self) -> LearnedGraph {
        Pc::result(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synthetic::{generate, SyntheticParams};
    use crate::graph::DiGraph;

    fn run(x: &DMatrix<f64>, params: PcParams, k: &Knowledge) -> Pc {
        let mut pc = Pc::new(x, params, k).unwrap();
        let mut steps = 0;
        while let StepOutcome::Continue = pc.step() {
            steps += 1;
            assert!(steps < 1_000_000);
        }
        pc
    }

    #[test]
    fn erfc_matches_known_values() {
        // erfc(1) and erfc(3) from Abramowitz & Stegun / mpmath to 16 digits.
        assert!((erfc(1.0) - 0.157_299_207_050_285_13).abs() < 1e-15);
        // Below 6 the series gives 1 − erf, so the error is absolute, about 1e-16.
        assert!((erfc(3.0) - 2.209_049_699_858_544e-5).abs() < 1e-15);
        assert!((erfc(0.0) - 1.0).abs() < 1e-16);
        assert!((erfc(7.0) - 4.183_825_607_779_414e-23).abs() < 1e-36);
        // Two-sided normal p at the 97.5% quantile is 0.05.
        let p = erfc(1.959_963_984_540_054 / std::f64::consts::SQRT_2);
        assert!((p - 0.05).abs() < 1e-14);
    }

    #[test]
    fn partial_correlation_matches_the_inverse_formula() {
        let data = generate(&SyntheticParams {
            n_nodes: 6,
            n_rows: 200,
            seed: 3,
            ..SyntheticParams::default()
        })
        .unwrap();
        let corr = correlation(&data.dataset.to_matrix());
        let mut pcorr = PartialCorr {
            corr,
            l: vec![],
            u: vec![],
            v: vec![],
        };
        for s in [vec![], vec![2], vec![2, 4], vec![5, 2, 3]] {
            let fast = pcorr.compute(0, 1, &s);
            let slow = pcorr.by_inverse(0, 1, &s);
            assert!((fast - slow).abs() < 1e-12, "{s:?}: {fast} vs {slow}");
        }
    }

    #[test]
    fn combinations_in_itertools_order() {
        let mut c = None;
        let mut all = vec![];
        while Pc::next_combo(&mut c, 4, 2) {
            all.push(c.clone().unwrap());
        }
        assert_eq!(
            all,
            vec![
                vec![0, 1],
                vec![0, 2],
                vec![0, 3],
                vec![1, 2],
                vec![1, 3],
                vec![2, 3]
            ]
        );
        let mut c = None;
        assert!(Pc::next_combo(&mut c, 3, 0) && !Pc::next_combo(&mut c, 3, 0));
        let mut c = None;
        assert!(!Pc::next_combo(&mut c, 1, 2));
    }

    #[test]
    fn recovers_a_collider_and_a_chain() {
        // 0 → 2 ← 1, 2 → 3 with strong effects and n = 2000: the CPDAG is fully directed.
        let data = generate(&SyntheticParams {
            n_nodes: 4,
            n_rows: 2000,
            seed: 11,
            expected_degree: 1.5,
            ..Default::default()
        })
        .unwrap();
        let x = data.dataset.to_matrix();
        let pc = run(&x, PcParams::default(), &Knowledge::default());
        let truth = Pdag::from_dag(&data.truth);
        assert_eq!(
            pc.cpdag().unwrap(),
            &truth,
            "truth {:?}",
            data.truth.edges()
        );
        assert!(pc.version() >= 2);
    }

    /// A linear ER graph on 5 nodes, 1000 rows: the knowledge tests' data.
    fn five_nodes() -> crate::data::synthetic::SyntheticData {
        generate(&SyntheticParams {
            n_nodes: 5,
            n_rows: 1000,
            seed: 2,
            ..SyntheticParams::default()
        })
        .unwrap()
    }

    #[test]
    fn knowledge_removes_and_orients() {
        let data = five_nodes();
        let x = data.dataset.to_matrix();
        let (a, b) = data.truth.edges()[0];
        let k = Knowledge {
            forbidden: vec![(a, b), (b, a)],
            ..Knowledge::default()
        };
        let pc = run(&x, PcParams::default(), &k);
        assert!(!pc.cpdag().unwrap().is_adjacent(a, b));
        // Tiers: everything in tier order; no arrow points backwards.
        let k = Knowledge {
            tiers: (0..5).collect(),
            ..Knowledge::default()
        };
        let pc = run(&x, PcParams::default(), &k);
        let g = pc.cpdag().unwrap();
        for i in 0..5 {
            for j in 0..i {
                assert!(!g.is_directed(i, j), "{i} → {j} against the tiers");
                assert!(!g.is_undirected(i, j));
            }
        }
    }

    #[test]
    fn a_required_edge_is_kept_and_oriented() {
        let data = five_nodes();
        let x = data.dataset.to_matrix();
        let truth = &data.truth;
        // A pair the tests separate without knowledge, required in the direction the edges
        // around it do not already imply.
        let free = run(&x, PcParams::default(), &Knowledge::default());
        let g = free.cpdag().unwrap();
        let (a, b) = (0..5)
            .flat_map(|i| (0..5).map(move |j| (i, j)))
            .find(|&(i, j)| {
                i != j && !g.is_adjacent(i, j) && !truth.has_edge(i, j) && !truth.has_edge(j, i)
            })
            .expect("a non-adjacent pair");
        let k = Knowledge {
            required: vec![(b, a)],
            ..Knowledge::default()
        };
        let pc = run(&x, PcParams::default(), &k);
        let g = pc.cpdag().unwrap();
        assert!(
            g.is_directed(b, a),
            "the required {b} → {a} is missing or unoriented"
        );
    }

    #[test]
    fn max_depth_stops_the_levels() {
        let data = generate(&SyntheticParams {
            n_nodes: 8,
            n_rows: 500,
            seed: 6,
            ..SyntheticParams::default()
        })
        .unwrap();
        let x = data.dataset.to_matrix();
        let full = run(&x, PcParams::default(), &Knowledge::default());
        let params = PcParams {
            max_depth: Some(0),
            ..PcParams::default()
        };
        let shallow = run(&x, params, &Knowledge::default());
        assert_eq!(shallow.stats().depth, 0);
        assert!(full.stats().depth >= 1);
        // Fewer levels remove fewer edges: the shallow skeleton contains the full one.
        let (s, f) = (shallow.cpdag().unwrap(), full.cpdag().unwrap());
        assert!(f.skeleton().iter().all(|e| s.skeleton().contains(e)));
        assert!(s.n_edges() > f.n_edges());
    }

    #[test]
    fn duplicated_and_collinear_columns_do_not_panic() {
        // Column 2 repeats column 0 and column 3 is their sum with column 1: correlations of
        // ±1 and singular conditioning sets, which the reference's inverse cannot handle.
        let data = generate(&SyntheticParams {
            n_nodes: 3,
            n_rows: 300,
            seed: 12,
            ..SyntheticParams::default()
        })
        .unwrap();
        let base = data.dataset.to_matrix();
        let x = DMatrix::from_fn(300, 5, |r, c| match c {
            0..=2 => base[(r, c)],
            3 => base[(r, 0)],
            _ => base[(r, 0)] + base[(r, 1)],
        });
        let pc = run(&x, PcParams::default(), &Knowledge::default());
        let g = pc.cpdag().unwrap();
        assert!(g.is_adjacent(0, 3));
        let ges = {
            let mut ges =
                crate::causal::ges::Ges::new(&x, Default::default(), &Knowledge::default())
                    .unwrap();
            while let StepOutcome::Continue = ges.step() {}
            ges
        };
        assert!(ges.cpdag().is_adjacent(0, 3));
        assert!(ges.score().is_finite());
    }

    #[test]
    fn bad_input_is_rejected() {
        let x = DMatrix::from_row_slice(5, 2, &[1.0, 2.0, 1.0, 3.0, 1.0, 4.0, 1.0, 5.0, 1.0, 6.0]);
        let e = Pc::new(&x, PcParams::default(), &Knowledge::default())
            .err()
            .unwrap();
        assert_eq!(e, PcError::ConstantColumn { col: 0 });
        assert!(!e.hint().is_empty() && !e.title().is_empty());
        let x = DMatrix::from_element(3, 3, 1.0);
        assert!(matches!(
            Pc::new(&x, PcParams::default(), &Knowledge::default()),
            Err(PcError::TooFewRows { n_rows: 3, .. })
        ));
        let p = PcParams {
            alpha: f64::NAN,
            ..PcParams::default()
        };
        assert!(p.validate().is_err());
        let _ = DiGraph::empty(1);
    }

    #[test]
    fn d50_runs_in_bounded_steps() {
        let data = generate(&SyntheticParams {
            n_nodes: 50,
            n_rows: 1000,
            seed: 5,
            ..SyntheticParams::default()
        })
        .unwrap();
        let x = data.dataset.to_matrix();
        let pc = run(&x, PcParams::default(), &Knowledge::default());
        let res = pc.result();
        assert_eq!(res.kind, GraphKind::Cpdag);
        let g = pc.cpdag().unwrap();
        let truth = Pdag::from_dag(&data.truth);
        let common = g
            .skeleton()
            .iter()
            .filter(|e| truth.skeleton().contains(e))
            .count();
        // ER2 at n = 1000 with |w| ≥ 0.5: PC finds most of the skeleton.
        assert!(common as f64 >= 0.7 * truth.n_edges() as f64, "{common}");
    }
}
