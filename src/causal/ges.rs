//! Greedy equivalence search (Chickering 2002) over CPDAGs with the Gaussian BIC of
//! [`super::score::GaussianBic`], following causal-learn 0.1.4.8's `ges(X,
//! "local_score_BIC")`: a forward phase of Insert operators, then a backward phase of Delete
//! operators, each time the best-scoring valid operator, the result re-completed to a CPDAG.
//!
//! Steppable: the search for the best operator is split across steps by node pairs, so a step
//! stays bounded at d = 50; [`Learner::version`] changes with each applied operator.

use std::rc::Rc;

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use super::input::{DataRequirements, InputError};
use super::score::GaussianBic;
use super::{GraphKind, Knowledge, LearnedGraph, Learner};
use crate::graph::Pdag;
use crate::run::{Progress, StepOutcome, StopReason};

/// Why GES cannot run on the given data or settings.
pub type GesError = InputError;

/// What GES needs of its data.
const REQUIREMENTS: DataRequirements = DataRequirements {
    learner: "GES",
    min_rows: 5,
    why: "",
    no_constant_columns: true,
};

/// Settings of GES.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GesParams {
    /// The penalty weight λ of the local score −(n/2)(1 + log σ̂²) − λ(|Pa| + 1) log n. λ = 0.5
    /// is the usual BIC, and equals causal-learn's `lambda_value` (its default is 0.5 too, in
    /// `local_score_BIC_from_cov`, which `ges(score_func="local_score_BIC")` uses).
    pub lambda: f64,
    /// The most parents an Insert may give a node, `None` for no limit (causal-learn's
    /// `maxP=None`; its check counts the parents before the insert, ours after).
    pub max_parents: Option<usize>,
}

impl Default for GesParams {
    fn default() -> Self {
        GesParams {
            lambda: 0.5,
            max_parents: None,
        }
    }
}

impl GesParams {
    pub fn validate(&self) -> Result<(), GesError> {
        if !(self.lambda >= 0.0 && self.lambda.is_finite()) {
            return Err(InputError::InvalidParameter {
                name: "λ (penalty weight)",
                value: self.lambda.to_string(),
                allowed: "a number ≥ 0, e.g. 0.5 (the usual BIC)",
            });
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Forward,
    Backward,
    Done,
}

/// An operator: Insert(i, j, T) or Delete(i, j, H), with its score change.
#[derive(Debug, Clone)]
struct Operator {
    delta: f64,
    i: usize,
    j: usize,
    set: Vec<usize>,
}

/// What a search round needs about the current CPDAG.
struct Frame {
    /// Undirected neighbours, sorted.
    nbrs: Vec<Vec<usize>>,
    parents: Vec<Vec<usize>>,
    /// Semi-directed successors: children and undirected neighbours.
    succ: Vec<Vec<usize>>,
    /// `reach[j * d + i]`: some semi-directed path leads from j to i. Where none does, no
    /// blocking set is needed, which spares most path searches early in the forward phase.
    reach: Vec<bool>,
}

#[derive(Default)]
struct Scratch {
    not_clique: Vec<u64>,
    valid: Vec<u64>,
    nat: Vec<usize>,
    parents: Vec<usize>,
    /// NA_{j,i} and T₀ (Insert) or NA_{j,i} (Delete) of the pair being searched.
    na: Vec<usize>,
    t0: Vec<usize>,
}

/// Statistics of a run, for tests and labels.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GesStats {
    pub n_inserts: usize,
    pub n_deletes: usize,
    /// Operators whose score change was evaluated.
    pub n_evaluated: usize,
}

/// GES in progress.
pub struct Ges {
    d: usize,
    params: GesParams,
    knowledge: Knowledge,
    score: GaussianBic,
    g: Pdag,
    phase: Phase,
    frame: Rc<Frame>,
    /// `subsets_in_order(m)` by m, computed once each.
    subsets: Vec<Option<Rc<[u64]>>>,
    /// Reused buffers of the operator searches, so that scoring a pair does not allocate.
    scratch: Scratch,
    /// The next pair (i, j) to search, as i·d + j.
    cursor: usize,
    best: Option<Operator>,
    total_score: f64,
    version: usize,
    stats: GesStats,
    failure: Option<String>,
    /// Reused by the path search.
    seen: Vec<bool>,
    queue: Vec<usize>,
}

/// Search budget per step, in rough units of work (a path search costs d + edges).
const STEP_BUDGET: usize = 100_000;

/// The subsets of `items` in causal-learn's `Combinatorial` order: by size, then
/// lexicographically (itertools.combinations), as bit masks over positions.
fn subsets_in_order(m: usize) -> Vec<u64> {
    let mut out = Vec::with_capacity(1 << m.min(20));
    for size in 0..=m {
        let mut c: Vec<usize> = (0..size).collect();
        loop {
            out.push(c.iter().fold(0u64, |acc, &b| acc | (1 << b)));
            let mut i = size;
            let mut advanced = false;
            while i > 0 {
                i -= 1;
                if c[i] < m - size + i {
                    c[i] += 1;
                    for k in i + 1..size {
                        c[k] = c[k - 1] + 1;
                    }
                    advanced = true;
                    break;
                }
            }
            if !advanced {
                break;
            }
        }
    }
    out
}

/// Whether the subset `mask` includes every member of `part`.
fn contains_all(mask: u64, part: u64) -> bool {
    mask & part == part
}

fn members(items: &[usize], mask: u64) -> impl Iterator<Item = usize> + '_ {
    items
        .iter()
        .enumerate()
        .filter(move |(b, _)| mask & (1 << b) != 0)
        .map(|(_, &v)| v)
}

/// Sets beyond this size are not searched exhaustively (2^size subsets); causal-learn has no
/// such limit, but no CPDAG it reaches on the sizes the page offers comes near it.
const MAX_SUBSET_BASE: usize = 20;

impl Ges {
    /// Prepares GES on data `x` (n rows × d columns). Knowledge: an Insert may add X → Y only
    /// when the knowledge allows X → Y, and orients T — Y into T → Y only when it allows T → Y;
    /// a Delete never removes a required edge. causal-learn's GES takes no knowledge. Required
    /// edges are not forced in, and the final CPDAG may show an edge undirected although one of
    /// its directions is forbidden (an undirected edge stands for the class, not for both).
    pub fn new(
        x: &DMatrix<f64>,
        params: GesParams,
        knowledge: &Knowledge,
    ) -> Result<Ges, GesError> {
        params.validate()?;
        REQUIREMENTS.check(x)?;
        let d = x.ncols();
        let mut score = GaussianBic::new(x, params.lambda);
        let total_score = (0..d).map(|j| score.local_score(j, &[])).sum();
        let g = Pdag::empty(d);
        let frame = Rc::new(Ges::frame_of(&g));
        Ok(Ges {
            d,
            params,
            knowledge: knowledge.clone(),
            score,
            g,
            phase: Phase::Forward,
            frame,
            subsets: Vec::new(),
            scratch: Scratch::default(),
            cursor: 0,
            best: None,
            total_score,
            version: 0,
            stats: GesStats::default(),
            failure: None,
            seen: vec![false; d],
            queue: Vec::with_capacity(d),
        })
    }

    fn frame_of(g: &Pdag) -> Frame {
        let d = g.n_nodes();
        let nbrs: Vec<Vec<usize>> = (0..d).map(|j| g.neighbors(j)).collect();
        let parents = (0..d).map(|j| g.parents(j)).collect();
        let succ: Vec<Vec<usize>> = (0..d)
            .map(|j| {
                let mut s = g.children(j);
                s.extend(&nbrs[j]);
                s
            })
            .collect();
        let mut reach = vec![false; d * d];
        let mut stack = Vec::with_capacity(d);
        for j in 0..d {
            stack.clear();
            stack.push(j);
            while let Some(v) = stack.pop() {
                for &w in &succ[v] {
                    if !reach[j * d + w] {
                        reach[j * d + w] = true;
                        stack.push(w);
                    }
                }
            }
        }
        Frame {
            nbrs,
            parents,
            succ,
            reach,
        }
    }

    fn subsets(&mut self, m: usize) -> Rc<[u64]> {
        if self.subsets.len() <= m {
            self.subsets.resize(m + 1, None);
        }
        self.subsets[m]
            .get_or_insert_with(|| subsets_in_order(m).into())
            .clone()
    }

    fn is_clique(&self, nodes: &[usize]) -> bool {
        nodes
            .iter()
            .enumerate()
            .all(|(a, &u)| nodes[a + 1..].iter().all(|&v| self.g.is_adjacent(u, v)))
    }

    /// Whether a semi-directed path leads from `from` to `to` avoiding `blocked` (Chickering's
    /// second Insert condition fails exactly then).
    fn semi_directed_path_avoiding(&mut self, from: usize, to: usize, blocked: &[usize]) -> bool {
        self.seen.iter_mut().for_each(|s| *s = false);
        for &b in blocked {
            self.seen[b] = true;
        }
        self.seen[from] = true;
        self.queue.clear();
        self.queue.push(from);
        while let Some(v) = self.queue.pop() {
            for &w in &self.frame.succ[v] {
                if w == to {
                    return true;
                }
                if !self.seen[w] {
                    self.seen[w] = true;
                    self.queue.push(w);
                }
            }
        }
        false
    }

    /// Keeps Insert/Delete(i, j, set) as the round's best if it beats it; `set` (the members of
    /// `base` in `mask`) is only built then.
    fn consider(&mut self, delta: f64, i: usize, j: usize, base: &[usize], mask: u64) {
        self.stats.n_evaluated += 1;
        // Strictly greater, in causal-learn's loop order: the first best operator wins ties.
        if self.best.as_ref().is_none_or(|b| delta > b.delta) {
            self.best = Some(Operator {
                delta,
                i,
                j,
                set: members(base, mask).collect(),
            });
        }
    }

    /// Scores every valid Insert(i, j, T); returns the work done.
    fn search_insert(&mut self, i: usize, j: usize) -> usize {
        let g = &self.g;
        if i == j || g.is_adjacent(i, j) || !self.knowledge.allows(i, j) {
            return 1;
        }
        let frame = Rc::clone(&self.frame);
        let Scratch {
            mut not_clique,
            mut valid,
            mut nat,
            mut parents,
            mut na,
            mut t0,
        } = std::mem::take(&mut self.scratch);
        na.clear();
        na.extend(
            frame.nbrs[j]
                .iter()
                .copied()
                .filter(|&k| g.is_adjacent(k, i)),
        );
        t0.clear();
        t0.extend(
            frame.nbrs[j]
                .iter()
                .copied()
                .filter(|&k| !g.is_adjacent(k, i) && self.knowledge.allows(k, j))
                .take(MAX_SUBSET_BASE),
        );
        let pa_j = &frame.parents[j];
        let mut work = 1;
        not_clique.clear();
        valid.clear();
        for &mask in self.subsets(t0.len()).iter() {
            if not_clique.iter().any(|&m| contains_all(mask, m)) {
                continue;
            }
            nat.clear();
            nat.extend(&na);
            nat.extend(members(&t0, mask));
            if !self.is_clique(&nat) {
                not_clique.push(mask);
                continue;
            }
            if nat.len() + pa_j.len() + 1 > self.params.max_parents.unwrap_or(usize::MAX) {
                continue;
            }
            work += nat.len() * nat.len();
            let ok = !self.frame.reach[j * self.d + i]
                || valid.iter().any(|&m| contains_all(mask, m))
                || {
                    work += self.d;
                    !self.semi_directed_path_avoiding(j, i, &nat)
                };
            if !ok {
                continue;
            }
            valid.push(mask);
            // NA ∪ T ∪ Pa(j), then with i.
            parents.clear();
            parents.extend(&nat);
            parents.extend(pa_j);
            let without = self.score.local_score(j, &parents);
            parents.push(i);
            let delta = self.score.local_score(j, &parents) - without;
            work += parents.len().pow(3) + 8;
            self.consider(delta, i, j, &t0, mask);
        }
        self.scratch = Scratch {
            not_clique,
            valid,
            nat,
            parents,
            na,
            t0,
        };
        work
    }

    /// Scores every valid Delete(i, j, H) for an edge i — j or i → j; returns the work done.
    fn search_delete(&mut self, i: usize, j: usize) -> usize {
        let g = &self.g;
        if i == j || !(g.is_undirected(i, j) || g.is_directed(i, j)) {
            return 1;
        }
        if self.knowledge.requires(i, j) || self.knowledge.requires(j, i) {
            return 1;
        }
        let frame = Rc::clone(&self.frame);
        let Scratch {
            not_clique,
            mut valid,
            nat: mut rest,
            mut parents,
            mut na,
            t0,
        } = std::mem::take(&mut self.scratch);
        na.clear();
        na.extend(
            frame.nbrs[j]
                .iter()
                .copied()
                .filter(|&k| g.is_adjacent(k, i))
                .take(MAX_SUBSET_BASE),
        );
        let pa_j = &frame.parents[j];
        let mut work = 1;
        valid.clear();
        for &mask in self.subsets(na.len()).iter() {
            rest.clear();
            rest.extend(members(&na, !mask));
            // NA \ H a clique stays a clique for every larger H.
            if !valid.iter().any(|&m| contains_all(mask, m)) {
                if !self.is_clique(&rest) {
                    continue;
                }
                valid.push(mask);
            }
            // (NA \ H) ∪ Pa(j) \ {i}, then with i.
            parents.clear();
            parents.extend(&rest);
            parents.extend(pa_j.iter().copied().filter(|&p| p != i));
            let without = self.score.local_score(j, &parents);
            parents.push(i);
            let delta = without - self.score.local_score(j, &parents);
            work += parents.len().pow(3) + 8;
            self.consider(delta, i, j, &na, mask);
        }
        self.scratch = Scratch {
            not_clique,
            valid,
            nat: rest,
            parents,
            na,
            t0,
        };
        work
    }

    /// Applies the best operator of the finished round, or moves to the next phase.
    fn end_round(&mut self) {
        let best = self.best.take();
        self.cursor = 0;
        match best {
            Some(op) if op.delta > 0.0 => {
                let mut g = self.g.clone();
                if self.phase == Phase::Forward {
                    g.add_directed(op.i, op.j);
                    for &t in &op.set {
                        g.add_directed(t, op.j);
                    }
                    self.stats.n_inserts += 1;
                } else {
                    g.remove_edge(op.i, op.j);
                    for &h in &op.set {
                        g.add_directed(op.j, h);
                        // Chickering's Delete orients an undirected X — H; causal-learn
                        // rewrites any X–H edge as X → H, which is the same on a CPDAG: H → X
                        // cannot occur there (with H — Y it would break Meek's rule 2 or a
                        // chain component).
                        if g.is_undirected(op.i, h) {
                            g.add_directed(op.i, h);
                        }
                    }
                    self.stats.n_deletes += 1;
                }
                match g.to_cpdag() {
                    Some(c) => {
                        self.g = c;
                        self.total_score += op.delta;
                        self.version += 1;
                        self.frame = Rc::new(Ges::frame_of(&self.g));
                    }
                    None => {
                        // Valid operators always have a consistent extension (Chickering 2002,
                        // Theorems 15 and 17); this guards against a numerical surprise.
                        self.failure = Some(format!(
                            "the operator on {} and {} left a PDAG with no consistent extension",
                            op.i + 1,
                            op.j + 1
                        ));
                        self.phase = Phase::Done;
                    }
                }
            }
            _ => {
                self.phase = match self.phase {
                    Phase::Forward => Phase::Backward,
                    _ => Phase::Done,
                };
            }
        }
    }

    /// Searches part of the current round's operators; ends rounds and phases.
    pub fn step(&mut self) -> StepOutcome {
        let dd = self.d * self.d;
        let mut budget = STEP_BUDGET;
        while self.phase != Phase::Done {
            if self.cursor >= dd {
                let version = self.version;
                self.end_round();
                if self.version != version {
                    // One applied operator per step, so each shows up live.
                    return StepOutcome::Continue;
                }
                continue;
            }
            let (i, j) = (self.cursor / self.d, self.cursor % self.d);
            self.cursor += 1;
            let work = match self.phase {
                Phase::Forward => self.search_insert(i, j),
                _ => self.search_delete(i, j),
            };
            budget = budget.saturating_sub(work);
            if budget == 0 {
                return StepOutcome::Continue;
            }
        }
        StepOutcome::Finished(self.stop_reason())
    }

    fn stop_reason(&self) -> StopReason {
        match &self.failure {
            Some(why) => StopReason::LimitReached(why.clone()),
            None => StopReason::Converged,
        }
    }

    pub fn stats(&self) -> &GesStats {
        &self.stats
    }

    /// The score of the current CPDAG (sum of local scores of any DAG in its class).
    pub fn score(&self) -> f64 {
        self.total_score
    }

    pub fn cpdag(&self) -> &Pdag {
        &self.g
    }

    pub fn progress(&self) -> Progress {
        let dd = (self.d * self.d).max(1) as f64;
        let within = self.cursor as f64 / dd;
        let (fraction, phase) = match self.phase {
            Phase::Forward => (
                0.6 * (1.0 - 1.0 / (2.0 + self.stats.n_inserts as f64)),
                "forward",
            ),
            Phase::Backward => (0.6 + 0.35 * within, "backward"),
            Phase::Done => (1.0, "done"),
        };
        Progress {
            fraction: fraction.clamp(0.0, 1.0),
            label: format!(
                "{phase} · {} inserts, {} deletes · score {:.1}",
                self.stats.n_inserts, self.stats.n_deletes, self.total_score
            ),
        }
    }

    pub fn current_weights(&self) -> DMatrix<f64> {
        self.g.to_weights()
    }

    pub fn result(&self) -> LearnedGraph {
        let weights: Vec<f64> = self.g.to_weights().transpose().iter().copied().collect();
        LearnedGraph {
            n_nodes: self.d,
            raw_weights: weights.clone(),
            weights,
            stop: if self.phase == Phase::Done {
                self.stop_reason()
            } else {
                StopReason::LimitReached(format!(
                    "stopped during the {} phase",
                    if self.phase == Phase::Forward {
                        "forward"
                    } else {
                        "backward"
                    }
                ))
            },
            kind: GraphKind::Cpdag,
            rethreshold: crate::causal::Rethreshold::Entrywise,
        }
    }
}

impl Learner for Ges {
    fn step(&mut self) -> StepOutcome {
        Ges::step(self)
    }
    fn progress(&self) -> Progress {
        Ges::progress(self)
    }
    fn version(&self) -> usize {
        self.version
    }
    fn current_weights(&self) -> DMatrix<f64> {
        Ges::current_weights(self)
    }
    fn result(&self) -> LearnedGraph {
        Ges::result(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::synthetic::{generate, SyntheticParams};
    use crate::graph::DiGraph;

    fn run(x: &DMatrix<f64>, k: &Knowledge) -> Ges {
        let mut ges = Ges::new(x, GesParams::default(), k).unwrap();
        let mut steps = 0;
        while let StepOutcome::Continue = ges.step() {
            steps += 1;
            assert!(steps < 1_000_000);
        }
        ges
    }

    #[test]
    fn subsets_come_by_size_then_lexicographically() {
        assert_eq!(
            subsets_in_order(3),
            vec![0, 0b001, 0b010, 0b100, 0b011, 0b101, 0b110, 0b111]
        );
        assert_eq!(subsets_in_order(0), vec![0]);
    }

    #[test]
    fn score_is_the_sum_of_local_scores_of_an_extension() {
        let data = generate(&SyntheticParams {
            n_nodes: 7,
            n_rows: 800,
            seed: 4,
            ..SyntheticParams::default()
        })
        .unwrap();
        let x = data.dataset.to_matrix();
        let ges = run(&x, &Knowledge::default());
        let dag: DiGraph = ges.cpdag().to_dag().unwrap();
        let mut bic = GaussianBic::new(&x, 0.5);
        let direct: f64 = (0..7).map(|j| bic.local_score(j, &dag.parents(j))).sum();
        assert!((direct - ges.score()).abs() < 1e-8 * direct.abs());
        // A CPDAG again, and every arrow consistent with an acyclic extension.
        assert_eq!(ges.cpdag().to_cpdag().as_ref(), Some(ges.cpdag()));
        assert!(ges.stats().n_inserts > 0);
        assert_eq!(ges.result().stop, StopReason::Converged);
    }

    #[test]
    fn large_sample_recovers_the_class() {
        // n = 5000 and |w| ≥ 0.5: BIC is consistent, so the class is found exactly.
        let data = generate(&SyntheticParams {
            n_nodes: 6,
            n_rows: 5000,
            seed: 8,
            ..SyntheticParams::default()
        })
        .unwrap();
        let ges = run(&data.dataset.to_matrix(), &Knowledge::default());
        assert_eq!(ges.cpdag(), &Pdag::from_dag(&data.truth));
    }

    #[test]
    fn knowledge_is_respected() {
        let data = generate(&SyntheticParams {
            n_nodes: 6,
            n_rows: 1000,
            seed: 9,
            ..SyntheticParams::default()
        })
        .unwrap();
        let x = data.dataset.to_matrix();
        let (a, b) = data.truth.edges()[0];
        let k = Knowledge {
            forbidden: vec![(a, b), (b, a)],
            ..Knowledge::default()
        };
        let ges = run(&x, &k);
        assert!(!ges.cpdag().is_adjacent(a, b));
    }

    #[test]
    fn max_parents_zero_keeps_the_graph_empty() {
        let data = generate(&SyntheticParams {
            n_nodes: 5,
            n_rows: 500,
            seed: 7,
            ..SyntheticParams::default()
        })
        .unwrap();
        let params = GesParams {
            max_parents: Some(0),
            ..GesParams::default()
        };
        let mut ges = Ges::new(&data.dataset.to_matrix(), params, &Knowledge::default()).unwrap();
        while let StepOutcome::Continue = ges.step() {}
        assert_eq!(ges.cpdag().n_edges(), 0);
        assert_eq!(ges.version(), 0);
    }

    #[test]
    fn bad_input_is_rejected() {
        let x = DMatrix::from_element(10, 3, 1.0);
        let e = Ges::new(&x, GesParams::default(), &Knowledge::default())
            .err()
            .unwrap();
        assert_eq!(e, GesError::ConstantColumn { col: 0 });
        assert!(!e.title().is_empty() && !e.hint().is_empty());
        let bad = GesParams {
            lambda: -1.0,
            ..GesParams::default()
        };
        assert!(bad.validate().is_err());
    }

    #[test]
    fn d50_steps_stay_bounded() {
        let data = generate(&SyntheticParams {
            n_nodes: 50,
            n_rows: 1000,
            seed: 5,
            ..SyntheticParams::default()
        })
        .unwrap();
        let x = data.dataset.to_matrix();
        let ges = run(&x, &Knowledge::default());
        let truth = Pdag::from_dag(&data.truth);
        let c = crate::metrics::compare_cpdags(&truth, ges.cpdag());
        assert!(c.skeleton_f1 > 0.8, "{c:?}");
    }
}
