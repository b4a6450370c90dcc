//! Partially directed graphs: CPDAGs (Markov equivalence classes of DAGs), Meek's orientation
//! rules, DAG → CPDAG, and a consistent DAG extension of a PDAG (Dor & Tarsi 1992).
//!
//! The storage is the two-way convention of [`crate::causal::GraphKind::Cpdag`]: `mark(i, j)`
//! alone is i → j, `mark(i, j)` and `mark(j, i)` together are i — j.

use nalgebra::DMatrix;

use super::DiGraph;
use crate::causal::Knowledge;

/// A PDAG on `n_nodes` nodes, dense (d up to a few hundred), with directed and undirected edges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdag {
    n_nodes: usize,
    /// Row-major: `mark[i * n + j]` is true for i → j and for i — j.
    mark: Vec<bool>,
}

impl Pdag {
    pub fn empty(n_nodes: usize) -> Pdag {
        Pdag {
            n_nodes,
            mark: vec![false; n_nodes * n_nodes],
        }
    }

    /// The complete undirected graph (where PC's skeleton search starts).
    pub fn complete_undirected(n_nodes: usize) -> Pdag {
        let mut g = Pdag::empty(n_nodes);
        for i in 0..n_nodes {
            for j in 0..n_nodes {
                if i != j {
                    g.mark[i * n_nodes + j] = true;
                }
            }
        }
        g
    }

    pub fn n_nodes(&self) -> usize {
        self.n_nodes
    }

    fn m(&self, i: usize, j: usize) -> bool {
        self.mark[i * self.n_nodes + j]
    }

    fn set(&mut self, i: usize, j: usize, v: bool) {
        self.mark[i * self.n_nodes + j] = v;
    }

    /// Makes the pair i, j the directed edge i → j (replacing whatever was there).
    pub fn add_directed(&mut self, i: usize, j: usize) {
        self.set(i, j, true);
        self.set(j, i, false);
    }

    /// Makes the pair i, j the undirected edge i — j.
    pub fn add_undirected(&mut self, i: usize, j: usize) {
        self.set(i, j, true);
        self.set(j, i, true);
    }

    /// Removes any edge between i and j.
    pub fn remove_edge(&mut self, i: usize, j: usize) {
        self.set(i, j, false);
        self.set(j, i, false);
    }

    pub fn is_adjacent(&self, i: usize, j: usize) -> bool {
        self.m(i, j) || self.m(j, i)
    }

    /// i → j (and not i — j).
    pub fn is_directed(&self, i: usize, j: usize) -> bool {
        self.m(i, j) && !self.m(j, i)
    }

    pub fn is_undirected(&self, i: usize, j: usize) -> bool {
        self.m(i, j) && self.m(j, i)
    }

    /// Nodes joined to `node_idx` by an undirected edge.
    pub fn neighbors(&self, node_idx: usize) -> Vec<usize> {
        (0..self.n_nodes)
            .filter(|&k| self.is_undirected(k, node_idx))
            .collect()
    }

    /// Nodes k with k → `node_idx`.
    pub fn parents(&self, node_idx: usize) -> Vec<usize> {
        (0..self.n_nodes)
            .filter(|&k| self.is_directed(k, node_idx))
            .collect()
    }

    /// Nodes k with `node_idx` → k.
    pub fn children(&self, node_idx: usize) -> Vec<usize> {
        (0..self.n_nodes)
            .filter(|&k| self.is_directed(node_idx, k))
            .collect()
    }

    /// Nodes joined to `node_idx` by any edge.
    pub fn adjacent(&self, node_idx: usize) -> Vec<usize> {
        (0..self.n_nodes)
            .filter(|&k| self.is_adjacent(k, node_idx))
            .collect()
    }

    /// Unordered adjacent pairs (i < j).
    pub fn skeleton(&self) -> Vec<(usize, usize)> {
        let n = self.n_nodes;
        (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .filter(|&(i, j)| self.is_adjacent(i, j))
            .collect()
    }

    pub fn n_edges(&self) -> usize {
        self.skeleton().len()
    }

    /// The v-structures a → b ← c with a, c non-adjacent, as (a, b, c) with a < c.
    pub fn v_structures(&self) -> Vec<(usize, usize, usize)> {
        let n = self.n_nodes;
        let mut out = vec![];
        for b in 0..n {
            let pa = self.parents(b);
            for (x, &a) in pa.iter().enumerate() {
                for &c in &pa[x + 1..] {
                    if !self.is_adjacent(a, c) {
                        out.push((a, b, c));
                    }
                }
            }
        }
        out
    }

    /// The DAG's edges as a PDAG with every edge directed.
    pub fn of_dag(dag: &DiGraph) -> Pdag {
        let mut g = Pdag::empty(dag.n_nodes());
        for (i, j) in dag.edges() {
            g.add_directed(i, j);
        }
        g
    }

    /// The CPDAG of a DAG: its v-structures kept, every other edge undirected, then Meek's
    /// rules 1–3, which complete such a pattern to the CPDAG (Meek 1995, Theorem 2; rule 4 is
    /// only needed with background knowledge).
    pub fn from_dag(dag: &DiGraph) -> Pdag {
        let n = dag.n_nodes();
        let mut g = Pdag::empty(n);
        for (i, j) in dag.edges() {
            g.add_undirected(i, j);
        }
        for b in 0..n {
            let pa = dag.parents(b);
            for &a in &pa {
                for &c in &pa {
                    if a != c && !dag.has_edge(a, c) && !dag.has_edge(c, a) {
                        g.add_directed(a, b);
                        g.add_directed(c, b);
                    }
                }
            }
        }
        g.apply_meek(None);
        g
    }

    /// A DAG with the same skeleton and v-structures whose arrows include this PDAG's (Dor &
    /// Tarsi 1992), or `None` when there is none: repeatedly take a node x with no child whose
    /// undirected neighbours are adjacent to all of x's other adjacent nodes, point its
    /// undirected edges into it and set it aside.
    pub fn to_dag(&self) -> Option<DiGraph> {
        let n = self.n_nodes;
        let mut g = self.clone();
        let mut alive = vec![true; n];
        let mut dag = DiGraph::empty(n);
        let mut adj: Vec<usize> = Vec::with_capacity(n);
        for _ in 0..n {
            let mut pick = None;
            for x in (0..n).filter(|&x| alive[x]) {
                if (0..n).any(|k| alive[k] && g.is_directed(x, k)) {
                    continue;
                }
                adj.clear();
                adj.extend((0..n).filter(|&k| alive[k] && g.is_adjacent(x, k)));
                let ok = adj
                    .iter()
                    .filter(|&&y| g.is_undirected(x, y))
                    .all(|&y| adj.iter().all(|&z| z == y || g.is_adjacent(y, z)));
                if ok {
                    pick = Some(x);
                    break;
                }
            }
            let x = pick?;
            for (k, &k_alive) in alive.iter().enumerate() {
                if k_alive && g.is_adjacent(k, x) {
                    dag.add_edge(k, x);
                    g.remove_edge(k, x);
                }
            }
            alive[x] = false;
        }
        Some(dag)
    }

    /// The CPDAG of this PDAG's equivalence class (via a consistent extension), or `None` when
    /// the PDAG has no consistent extension.
    pub fn to_cpdag(&self) -> Option<Pdag> {
        self.to_dag().map(|dag| Pdag::from_dag(&dag))
    }

    /// True when a directed path of one or more arrows leads from `from` to `to`.
    pub fn has_directed_path(&self, from: usize, to: usize) -> bool {
        let mut seen = vec![false; self.n_nodes];
        let mut stack = vec![from];
        while let Some(v) = stack.pop() {
            for (w, seen_w) in seen.iter_mut().enumerate() {
                if !*seen_w && self.is_directed(v, w) {
                    if w == to {
                        return true;
                    }
                    *seen_w = true;
                    stack.push(w);
                }
            }
        }
        false
    }

    /// Every ordered adjacent pair once, in the order causal-learn's `CausalGraph.find_adj`
    /// lists them (edges with a tail first, then edges with an arrowhead), so that rule
    /// applications happen in the reference's order when the rules disagree.
    fn adjacency_order(&self) -> Vec<(usize, usize)> {
        let n = self.n_nodes;
        let mut out = vec![];
        for r in 0..n {
            for c in 0..n {
                if self.m(r, c) {
                    out.push((c, r));
                }
            }
        }
        for r in 0..n {
            for c in 0..n {
                if self.is_directed(c, r) {
                    out.push((c, r));
                }
            }
        }
        out
    }

    /// Paths i – j – k (any marks) with i, k non-adjacent, in causal-learn's order.
    pub(crate) fn unshielded_triples(&self) -> Vec<(usize, usize, usize)> {
        self.triples(false)
    }

    fn triples(&self, shielded: bool) -> Vec<(usize, usize, usize)> {
        let adj = self.adjacency_order();
        let n = self.n_nodes;
        // Pairs grouped by their first node, keeping the list order, for p1[0] == p0[1].
        let mut by_first: Vec<Vec<usize>> = vec![vec![]; n];
        for (idx, &(a, _)) in adj.iter().enumerate() {
            by_first[a].push(idx);
        }
        let mut out = vec![];
        for (i0, &(a, b)) in adj.iter().enumerate() {
            for &i1 in &by_first[b] {
                let c = adj[i1].1;
                if i1 != i0 && a != c && self.is_adjacent(a, c) == shielded {
                    out.push((a, b, c));
                }
            }
        }
        out
    }

    /// Applies Meek's rules 1–3 until none applies, in the order and with the guards of
    /// causal-learn's `Meek.meek`: an orientation is skipped when it would close a directed
    /// cycle, or (with knowledge) when it is forbidden or its reverse required. Returns whether
    /// anything changed. Rule 4 is not applied (causal-learn does not either); with tiers and
    /// required edges the result is therefore not always maximally oriented.
    pub fn apply_meek(&mut self, knowledge: Option<&Knowledge>) -> bool {
        let ut = self.unshielded_triples();
        let tri = self.triples(true);
        // Kites (i, j, k, l): pairs of triangles i–j–l, i–k–l with j < k non-adjacent, in the
        // order of causal-learn's `permutations(find_triangles(), 2)`.
        let n = self.n_nodes;
        let mut by_ends: Vec<Vec<usize>> = vec![vec![]; n * n];
        for &(i, j, l) in &tri {
            by_ends[i * n + l].push(j);
        }
        let mut kites = vec![];
        for &(i, j, l) in &tri {
            for &k in &by_ends[i * n + l] {
                if j < k && !self.is_adjacent(j, k) {
                    kites.push((i, j, k, l));
                }
            }
        }
        let blocked = |from: usize, to: usize| {
            knowledge.is_some_and(|kn| !kn.allows(from, to) || kn.requires(to, from))
        };
        let mut changed_any = false;
        let mut changed = true;
        while changed {
            changed = false;
            let mut orient = |g: &mut Pdag, a: usize, b: usize| {
                if blocked(a, b) || g.has_directed_path(b, a) {
                    return;
                }
                g.add_directed(a, b);
                changed = true;
            };
            for &(i, j, k) in &ut {
                if self.is_directed(i, j) && self.is_undirected(j, k) {
                    orient(self, j, k);
                }
            }
            for &(i, j, k) in &tri {
                if self.is_directed(i, j) && self.is_directed(j, k) && self.is_undirected(i, k) {
                    orient(self, i, k);
                }
            }
            for &(i, j, k, l) in &kites {
                if self.is_undirected(i, j)
                    && self.is_undirected(i, k)
                    && self.is_directed(j, l)
                    && self.is_directed(k, l)
                    && self.is_undirected(i, l)
                {
                    orient(self, i, l);
                }
            }
            changed_any |= changed;
        }
        changed_any
    }

    /// Weights in the two-way convention: 1.0 for each arrow mark (both ways when undirected).
    pub fn to_weights(&self) -> DMatrix<f64> {
        let n = self.n_nodes;
        DMatrix::from_fn(n, n, |i, j| if self.m(i, j) { 1.0 } else { 0.0 })
    }

    /// Reads the two-way convention: non-zero both ways is undirected, one way is directed.
    pub fn from_weights(w: &DMatrix<f64>) -> Pdag {
        let n = w.nrows().min(w.ncols());
        let mut g = Pdag::empty(n);
        for i in 0..n {
            for j in 0..n {
                if i != j && w[(i, j)] != 0.0 && w[(i, j)].is_finite() {
                    g.set(i, j, true);
                }
            }
        }
        g
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn chain_is_all_undirected_and_collider_kept() {
        let chain = DiGraph::from_edges(3, &[(0, 1), (1, 2)]);
        let c = Pdag::from_dag(&chain);
        assert!(c.is_undirected(0, 1) && c.is_undirected(1, 2) && !c.is_adjacent(0, 2));
        let collider = DiGraph::from_edges(3, &[(0, 1), (2, 1)]);
        let c = Pdag::from_dag(&collider);
        assert!(c.is_directed(0, 1) && c.is_directed(2, 1));
        assert_eq!(c.v_structures(), vec![(0, 1, 2)]);
    }

    #[test]
    fn meek_rule_one_propagates_below_a_collider() {
        // 0 → 2 ← 1, 2 → 3: the edge 2 — 3 is compelled by rule 1.
        let dag = DiGraph::from_edges(4, &[(0, 2), (1, 2), (2, 3)]);
        let c = Pdag::from_dag(&dag);
        assert!(c.is_directed(2, 3));
    }

    #[test]
    fn meek_rules_two_and_three() {
        // Rule 3: 0 — 1, 0 — 2, 0 — 3, 1 → 3 ← 2, 1 and 2 non-adjacent ⇒ 0 → 3.
        let mut g = Pdag::empty(4);
        g.add_undirected(0, 1);
        g.add_undirected(0, 2);
        g.add_undirected(0, 3);
        g.add_directed(1, 3);
        g.add_directed(2, 3);
        assert!(g.apply_meek(None));
        assert!(g.is_directed(0, 3));
        // Rule 2: 0 → 1 → 2 and 0 — 2 ⇒ 0 → 2.
        let mut g = Pdag::empty(3);
        g.add_directed(0, 1);
        g.add_directed(1, 2);
        g.add_undirected(0, 2);
        g.apply_meek(None);
        assert!(g.is_directed(0, 2));
    }

    #[test]
    fn knowledge_blocks_an_orientation() {
        let mut g = Pdag::empty(3);
        g.add_directed(0, 1);
        g.add_undirected(1, 2);
        let k = Knowledge {
            forbidden: vec![(1, 2)],
            ..Knowledge::default()
        };
        assert!(!g.apply_meek(Some(&k)));
        assert!(g.is_undirected(1, 2));
    }

    #[test]
    fn extension_fails_for_an_inconsistent_pdag() {
        // A directed 3-cycle has no consistent extension.
        let mut g = Pdag::empty(3);
        g.add_directed(0, 1);
        g.add_directed(1, 2);
        g.add_directed(2, 0);
        assert!(g.to_dag().is_none());
        let w = g.to_weights();
        assert_eq!(Pdag::from_weights(&w), g);
    }

    fn random_dag(n: usize, bits: &[bool], perm_seed: u64) -> DiGraph {
        // A DAG from an upper-triangular pattern in a permuted order.
        let mut order: Vec<usize> = (0..n).collect();
        let mut s = perm_seed;
        for i in (1..n).rev() {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            order.swap(i, (s >> 33) as usize % (i + 1));
        }
        let mut g = DiGraph::empty(n);
        let mut k = 0;
        for a in 0..n {
            for b in a + 1..n {
                if bits[k % bits.len()] {
                    g.add_edge(order[a], order[b]);
                }
                k += 1;
            }
        }
        g
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn cpdag_laws(n in 2usize..9, bits in proptest::collection::vec(any::<bool>(), 1..40),
                      seed in any::<u64>()) {
            let dag = random_dag(n, &bits, seed);
            let cpdag = Pdag::from_dag(&dag);
            let as_pdag = Pdag::of_dag(&dag);
            // Same skeleton and v-structures as the DAG.
            prop_assert_eq!(cpdag.skeleton(), as_pdag.skeleton());
            prop_assert_eq!(cpdag.v_structures(), as_pdag.v_structures());
            // Every arrow of the CPDAG is an arrow of the DAG.
            for i in 0..n {
                for j in 0..n {
                    if cpdag.is_directed(i, j) {
                        prop_assert!(dag.has_edge(i, j));
                    }
                }
            }
            // Meek closure: the rules change nothing on a CPDAG.
            let mut closed = cpdag.clone();
            prop_assert!(!closed.apply_meek(None));
            prop_assert_eq!(&closed, &cpdag);
            // DAG → CPDAG is idempotent, and any consistent extension gives the same class.
            let again = cpdag.to_cpdag().unwrap();
            prop_assert_eq!(&again, &cpdag);
            let ext = cpdag.to_dag().unwrap();
            prop_assert!(ext.is_acyclic());
            prop_assert_eq!(Pdag::from_dag(&ext), cpdag);
        }
    }
}
