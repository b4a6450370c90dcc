//! The XGES-0 loop (Nazaret & Blei 2025, Algorithm 1, as `XGES._heuristic_xges0` of the
//! reference): candidate Insert, Delete and Reverse operators in three max-heaps, the best
//! Delete applied first, else the best Reverse, else the best Insert, each checked for
//! validity when popped (Chickering 2002's conditions); after each applied operator only the
//! operators of nodes whose neighbourhood changed are found and scored again.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use super::pdag::{NodeSet, Pdag};
use super::score::BicScore;

/// Insert x → y, orienting t → y for t ∈ T; `eff` is the parent set of y it scores against,
/// [Ne(y) ∩ Ad(x)] ∪ T ∪ Pa(y).
#[derive(Debug, Clone, Copy)]
pub struct Insert {
    pub x: usize,
    pub y: usize,
    pub t: NodeSet,
    pub score: f64,
    pub eff: NodeSet,
}

/// Delete the edge x → y or x — y, orienting y → h (and x → h) for h ∈ [Ne(y) ∩ Ad(x)] \ C;
/// `eff` = C ∪ Pa(y) ∪ {x}.
#[derive(Debug, Clone, Copy)]
pub struct Delete {
    pub x: usize,
    pub y: usize,
    pub c: NodeSet,
    pub score: f64,
    pub eff: NodeSet,
}

/// Turn y → x into x → y: the Insert x → y after removing y → x, valid while Pa(x) is
/// `parents_x`.
#[derive(Debug, Clone, Copy)]
pub struct Reverse {
    pub insert: Insert,
    pub score: f64,
    pub parents_x: NodeSet,
}

/// A heap entry: the best score first and, among equal scores, the earliest found (as the
/// reference's sorted lists). `gen` is the generation of node `key` when it was found.
#[derive(Debug, Clone)]
struct Entry<T> {
    score: f64,
    seq: u64,
    key: usize,
    gen: u32,
    op: T,
}

impl<T> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<T> Eq for Entry<T> {}
impl<T> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<T> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.seq.cmp(&self.seq))
    }
}

/// One XGES-0 search: the CPDAG, its score and the candidate operators.
#[derive(Clone)]
pub struct Search {
    pub pdag: Pdag,
    /// Parents each node may not receive by an Insert (knowledge, and the extended search).
    pub forbidden: Vec<NodeSet>,
    pub total: f64,
    inserts: BinaryHeap<Entry<Insert>>,
    deletes: BinaryHeap<Entry<Delete>>,
    reverses: BinaryHeap<Entry<Reverse>>,
    /// Bumped when a node's operators are found again, retiring its older heap entries.
    gen: Vec<u32>,
    seq: u64,
    /// Edges (a, b) on a semi-directed path that made an Insert/Reverse to y from x invalid,
    /// with those (x, y): when the edge changes, y's operators are found again.
    unblocked: HashMap<(usize, usize), Vec<(usize, usize)>>,
    pub applied: usize,
}

impl Search {
    /// The empty graph with every positive Insert as candidate.
    pub fn new(d: usize, forbidden: Vec<NodeSet>, score: &mut BicScore) -> Search {
        let total = (0..d).map(|y| score.local(y, NodeSet::default())).sum();
        let mut s = Search {
            pdag: Pdag::empty(d),
            forbidden,
            total,
            inserts: BinaryHeap::new(),
            deletes: BinaryHeap::new(),
            reverses: BinaryHeap::new(),
            gen: vec![0; d],
            seq: 0,
            unblocked: HashMap::new(),
            applied: 0,
        };
        for y in 0..d {
            s.find_inserts_to_y(y, None, true, score, &mut |s, ins| s.push_insert(ins));
        }
        s
    }

    /// A copy of this search with no candidates, for the extended search's trials.
    pub fn without_candidates(&self) -> Search {
        Search {
            pdag: self.pdag.clone(),
            forbidden: self.forbidden.clone(),
            total: self.total,
            inserts: BinaryHeap::new(),
            deletes: BinaryHeap::new(),
            reverses: BinaryHeap::new(),
            gen: self.gen.clone(),
            seq: self.seq,
            unblocked: self.unblocked.clone(),
            applied: self.applied,
        }
    }

    fn push_insert(&mut self, op: Insert) {
        self.seq += 1;
        self.inserts.push(Entry {
            score: op.score,
            seq: self.seq,
            key: op.y,
            gen: self.gen[op.y],
            op,
        });
    }
    fn push_delete(&mut self, op: Delete) {
        self.seq += 1;
        self.deletes.push(Entry {
            score: op.score,
            seq: self.seq,
            key: op.y,
            gen: self.gen[op.y],
            op,
        });
    }
    fn push_reverse(&mut self, op: Reverse) {
        self.seq += 1;
        self.reverses.push(Entry {
            score: op.score,
            seq: self.seq,
            key: op.insert.y,
            gen: self.gen[op.insert.y],
            op,
        });
    }

    /// Inserts x → y (all x not adjacent to y, or only `only_x`) with every valid T, scored;
    /// kept if positive (or all, with `positive_only` false). `PDAG`-local conditions only:
    /// the path condition is checked when the operator is popped.
    fn find_inserts_to_y(
        &mut self,
        y: usize,
        only_x: Option<usize>,
        positive_only: bool,
        score: &mut BicScore,
        emit: &mut dyn FnMut(&mut Search, Insert),
    ) {
        let g = &self.pdag;
        let pa_y = g.parents(y);
        let ne_y = g.neighbors(y);
        let xs = match only_x {
            Some(x) => NodeSet::single(x),
            None => (0..g.n_nodes())
                .fold(NodeSet::default(), |s, i| s.with(i))
                .minus(g.adjacent(y))
                .without(y),
        };
        let mut found = Vec::new();
        let mut stack: Vec<(NodeSet, usize, NodeSet)> = Vec::new();
        let mut cand: Vec<usize> = Vec::new();
        for x in xs.iter() {
            let ad_x = g.adjacent(x);
            let na = ne_y.inter(ad_x);
            if !g.is_clique(na) {
                continue;
            }
            cand.clear();
            cand.extend(ne_y.minus(ad_x).iter());
            stack.clear();
            stack.push((NodeSet::default(), 0, na.union(pa_y)));
            while let Some((t, idx, eff)) = stack.pop() {
                let s = score.local(y, eff.with(x)) - score.local(y, eff);
                if s > 0.0 || !positive_only {
                    found.push(Insert {
                        x,
                        y,
                        t,
                        score: s,
                        eff,
                    });
                }
                for (i, &z) in cand.iter().enumerate().skip(idx) {
                    let ad_z = g.adjacent(z);
                    if t.is_subset(ad_z) && na.is_subset(ad_z) {
                        stack.push((t.with(z), i + 1, eff.with(z)));
                    }
                }
            }
        }
        for ins in found {
            emit(self, ins);
        }
    }

    /// Deletes of x → y or x — y (all such x) with every valid C, kept if positive (or all).
    pub fn find_deletes_to_y(
        &self,
        y: usize,
        positive_only: bool,
        score: &mut BicScore,
        out: &mut Vec<Delete>,
    ) {
        let g = &self.pdag;
        let pa_y = g.parents(y);
        let ne_y = g.neighbors(y);
        let mut stack: Vec<(NodeSet, usize, NodeSet)> = Vec::new();
        let mut cand: Vec<usize> = Vec::new();
        for x in pa_y.iter().chain(ne_y.iter()) {
            cand.clear();
            cand.extend(ne_y.inter(g.adjacent(x)).iter());
            stack.clear();
            stack.push((NodeSet::default(), 0, pa_y.with(x)));
            while let Some((c, idx, eff)) = stack.pop() {
                let s = score.local(y, eff.without(x)) - score.local(y, eff);
                if s > 0.0 || !positive_only {
                    out.push(Delete {
                        x,
                        y,
                        c,
                        score: s,
                        eff,
                    });
                }
                for (i, &z) in cand.iter().enumerate().skip(idx) {
                    if c.is_subset(g.adjacent(z)) {
                        stack.push((c.with(z), i + 1, eff.with(z)));
                    }
                }
            }
        }
    }

    /// Reverses of y → x into x → y (all children x of y) with a positive score.
    fn find_reverses_to_y(&mut self, y: usize, score: &mut BicScore) {
        for x in self.pdag.children(y).iter() {
            let mut inserts = Vec::new();
            self.find_inserts_to_y(y, Some(x), false, score, &mut |_, ins| inserts.push(ins));
            let pa_x = self.pdag.parents(x);
            let del = score.local(x, pa_x.without(y)) - score.local(x, pa_x);
            for ins in inserts {
                let s = ins.score + del;
                if s > 0.0 {
                    self.push_reverse(Reverse {
                        insert: ins,
                        score: s,
                        parents_x: pa_x,
                    });
                }
            }
        }
    }

    /// Finds and scores all of y's operators again, retiring the old ones.
    fn refresh(&mut self, y: usize, score: &mut BicScore) {
        self.gen[y] = self.gen[y].wrapping_add(1);
        self.find_inserts_to_y(y, None, true, score, &mut |s, ins| s.push_insert(ins));
        let mut dels = Vec::new();
        self.find_deletes_to_y(y, true, score, &mut dels);
        for del in dels {
            self.push_delete(del);
        }
        self.find_reverses_to_y(y, score);
    }

    /// Finds every node's operators afresh (for tests of the local refresh).
    #[cfg(test)]
    pub fn refresh_all(&mut self, score: &mut BicScore) {
        for y in 0..self.pdag.n_nodes() {
            self.refresh(y, score);
        }
    }

    /// Whether every semi-directed path from y to x meets `blocked` (the direct edge y → x
    /// ignored for a Reverse); a path found is recorded in `unblocked`.
    fn blocks_paths(&mut self, y: usize, x: usize, blocked: NodeSet, ignore_direct: bool) -> bool {
        if x == y {
            return false;
        }
        let d = self.pdag.n_nodes();
        let mut from = vec![usize::MAX; d];
        let mut visited = NodeSet::single(y);
        let mut queue = std::collections::VecDeque::from([y]);
        while let Some(v) = queue.pop_front() {
            for u in self.pdag.reachable(v).iter() {
                if visited.contains(u) || blocked.contains(u) || (v == y && u == x && ignore_direct)
                {
                    continue;
                }
                from[u] = v;
                if u == x {
                    let mut cur = x;
                    while cur != y {
                        let p = from[cur];
                        self.unblocked.entry((p, cur)).or_default().push((x, y));
                        cur = p;
                    }
                    return false;
                }
                visited.insert(u);
                queue.push_back(u);
            }
        }
        true
    }

    fn insert_valid(&mut self, op: &Insert, reverse: bool) -> bool {
        let (x, y, t) = (op.x, op.y, op.t);
        if self.forbidden[y].contains(x) {
            return false;
        }
        let g = &self.pdag;
        let ad_x = g.adjacent(x);
        if reverse {
            if !g.parents(x).contains(y) {
                return false;
            }
        } else if ad_x.contains(y) {
            return false;
        }
        let ne_y = g.neighbors(y);
        if !(t.is_subset(ne_y) && t.is_disjoint(ad_x)) {
            return false;
        }
        let na_t = ne_y.inter(ad_x).union(t);
        if op.eff != na_t.union(g.parents(y)) {
            return false;
        }
        if !g.is_clique(na_t) {
            return false;
        }
        let blocked = if reverse {
            na_t.union(g.neighbors(x))
        } else {
            na_t
        };
        self.blocks_paths(y, x, blocked, reverse)
    }

    fn delete_valid(&self, op: &Delete) -> bool {
        let g = &self.pdag;
        let (x, y, c) = (op.x, op.y, op.c);
        if !g.reachable(x).contains(y) {
            return false;
        }
        if !(c.is_subset(g.neighbors(y)) && c.is_subset(g.adjacent(x))) {
            return false;
        }
        op.eff == c.union(g.parents(y)).with(x) && g.is_clique(c)
    }

    /// Applies a (valid) Delete: the edge goes, H is oriented away from y (and x), and the
    /// graph is completed to the CPDAG again.
    pub fn apply_delete(&mut self, op: &Delete, score: &mut BicScore) -> bool {
        let mut g = self.pdag.clone();
        g.remove_edge(op.x, op.y);
        let h = g.neighbors(op.y).inter(g.adjacent(op.x)).minus(op.c);
        for v in h.iter() {
            g.orient(op.y, v);
            if g.has_undirected(op.x, v) {
                g.orient(op.x, v);
            }
        }
        self.finish(g, op.score, score)
    }

    fn apply_insert(
        &mut self,
        op: &Insert,
        reverse: bool,
        gain: f64,
        score: &mut BicScore,
    ) -> bool {
        let mut g = self.pdag.clone();
        if reverse {
            g.remove_edge(op.y, op.x);
        }
        g.add_directed(op.x, op.y);
        for t in op.t.iter() {
            g.orient(t, op.y);
        }
        self.finish(g, gain, score)
    }

    /// Completes the edited graph `g` to its CPDAG, adopts it and refreshes the operators of
    /// the nodes whose neighbourhood changed (and of those next to them). False, with nothing
    /// changed, if `g` has no consistent extension (not expected for a valid operator).
    fn finish(&mut self, g: Pdag, gain: f64, score: &mut BicScore) -> bool {
        let Some(dag) = g.dag_extension() else {
            return false;
        };
        let new = dag.cpdag_of_dag();
        let old = std::mem::replace(&mut self.pdag, new);
        self.total += gain;
        self.applied += 1;
        let d = old.n_nodes();
        let mut changed = NodeSet::default();
        for v in 0..d {
            if old.parents(v) != self.pdag.parents(v)
                || old.children(v) != self.pdag.children(v)
                || old.neighbors(v) != self.pdag.neighbors(v)
            {
                changed.insert(v);
            }
        }
        // An unchanged y keeps Pa(y), Ne(y) and Ch(y). Its Inserts and Deletes then depend on
        // the rest of the graph only through adjacencies of (and among) Ne(y), and its
        // Reverses also through Pa(x) of its children x: a changed parent alone alters none.
        let mut refresh = changed;
        for v in 0..d {
            let around = self.pdag.neighbors(v).union(self.pdag.children(v));
            if !around.is_disjoint(changed) {
                refresh.insert(v);
            }
        }
        for a in changed.iter() {
            for b in old.adjacent(a).union(self.pdag.adjacent(a)).iter() {
                if old.edge_state(a, b) != self.pdag.edge_state(a, b) {
                    for key in [(a, b), (b, a)] {
                        if let Some(paths) = self.unblocked.remove(&key) {
                            for (_, y) in paths {
                                refresh.insert(y);
                            }
                        }
                    }
                }
            }
        }
        for y in refresh.iter() {
            self.refresh(y, score);
        }
        true
    }

    /// Whether the Delete (from an older list) is still valid here.
    pub fn is_delete_valid(&self, op: &Delete) -> bool {
        self.delete_valid(op)
    }

    /// Applies the next operator: the best valid Delete if any is a candidate, else the best
    /// valid Reverse, else the best valid Insert. False when no candidate is left.
    pub fn step(&mut self, score: &mut BicScore) -> bool {
        while let Some(e) = self.deletes.pop() {
            if e.gen != self.gen[e.key] || !self.delete_valid(&e.op) {
                continue;
            }
            if self.apply_delete(&e.op, score) {
                return true;
            }
        }
        while let Some(e) = self.reverses.pop() {
            if e.gen != self.gen[e.key]
                || self.pdag.parents(e.op.insert.x) != e.op.parents_x
                || !self.insert_valid(&e.op.insert, true)
            {
                continue;
            }
            if self.apply_insert(&e.op.insert, true, e.op.score, score) {
                return true;
            }
        }
        while let Some(e) = self.inserts.pop() {
            if e.gen != self.gen[e.key] || !self.insert_valid(&e.op, false) {
                continue;
            }
            if self.apply_insert(&e.op, false, e.op.score, score) {
                return true;
            }
        }
        false
    }
}
