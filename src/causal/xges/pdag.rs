//! The partially directed graphs XGES moves through: node sets as bitsets, the edge edits of
//! its operators, and the completion of an edited PDAG back to a CPDAG.

/// The most nodes a [`NodeSet`] holds.
pub const MAX_NODES: usize = 256;

/// A set of node indices below [`MAX_NODES`], as a copyable bitset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct NodeSet([u64; 4]);

impl NodeSet {
    pub fn single(i: usize) -> NodeSet {
        let mut s = NodeSet::default();
        s.insert(i);
        s
    }
    pub fn insert(&mut self, i: usize) {
        self.0[i >> 6] |= 1 << (i & 63);
    }
    pub fn remove(&mut self, i: usize) {
        self.0[i >> 6] &= !(1 << (i & 63));
    }
    pub fn contains(&self, i: usize) -> bool {
        self.0[i >> 6] >> (i & 63) & 1 == 1
    }
    pub fn with(mut self, i: usize) -> NodeSet {
        self.insert(i);
        self
    }
    pub fn without(mut self, i: usize) -> NodeSet {
        self.remove(i);
        self
    }
    pub fn union(self, o: NodeSet) -> NodeSet {
        NodeSet(std::array::from_fn(|k| self.0[k] | o.0[k]))
    }
    pub fn inter(self, o: NodeSet) -> NodeSet {
        NodeSet(std::array::from_fn(|k| self.0[k] & o.0[k]))
    }
    pub fn minus(self, o: NodeSet) -> NodeSet {
        NodeSet(std::array::from_fn(|k| self.0[k] & !o.0[k]))
    }
    pub fn is_subset(self, o: NodeSet) -> bool {
        self.minus(o).is_empty()
    }
    pub fn is_disjoint(self, o: NodeSet) -> bool {
        self.inter(o).is_empty()
    }
    pub fn is_empty(self) -> bool {
        self.0 == [0; 4]
    }
    #[cfg(test)]
    pub fn len(self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }
    /// The members in increasing order.
    pub fn iter(self) -> impl Iterator<Item = usize> {
        (0..4).flat_map(move |k| {
            let mut w = self.0[k];
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let b = w.trailing_zeros() as usize;
                w &= w - 1;
                Some(k * 64 + b)
            })
        })
    }
}

/// A PDAG by node: parents (a → node), children (node → b) and neighbours (node — c).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pdag {
    d: usize,
    parents: Vec<NodeSet>,
    children: Vec<NodeSet>,
    neighbors: Vec<NodeSet>,
}

impl Pdag {
    pub fn empty(d: usize) -> Pdag {
        Pdag {
            d,
            parents: vec![NodeSet::default(); d],
            children: vec![NodeSet::default(); d],
            neighbors: vec![NodeSet::default(); d],
        }
    }
    pub fn n_nodes(&self) -> usize {
        self.d
    }
    pub fn parents(&self, i: usize) -> NodeSet {
        self.parents[i]
    }
    pub fn children(&self, i: usize) -> NodeSet {
        self.children[i]
    }
    pub fn neighbors(&self, i: usize) -> NodeSet {
        self.neighbors[i]
    }
    pub fn adjacent(&self, i: usize) -> NodeSet {
        self.parents[i]
            .union(self.children[i])
            .union(self.neighbors[i])
    }
    /// Where a semi-directed path may go next from `i`: its children and neighbours.
    pub fn reachable(&self, i: usize) -> NodeSet {
        self.children[i].union(self.neighbors[i])
    }
    pub fn has_directed(&self, a: usize, b: usize) -> bool {
        self.children[a].contains(b)
    }
    pub fn has_undirected(&self, a: usize, b: usize) -> bool {
        self.neighbors[a].contains(b)
    }
    pub fn add_directed(&mut self, a: usize, b: usize) {
        self.children[a].insert(b);
        self.parents[b].insert(a);
    }
    pub fn add_undirected(&mut self, a: usize, b: usize) {
        self.neighbors[a].insert(b);
        self.neighbors[b].insert(a);
    }
    /// Removes whatever edge joins a and b.
    pub fn remove_edge(&mut self, a: usize, b: usize) {
        self.children[a].remove(b);
        self.parents[b].remove(a);
        self.children[b].remove(a);
        self.parents[a].remove(b);
        self.neighbors[a].remove(b);
        self.neighbors[b].remove(a);
    }
    /// Turns the undirected a — b into a → b.
    pub fn orient(&mut self, a: usize, b: usize) {
        self.neighbors[a].remove(b);
        self.neighbors[b].remove(a);
        self.add_directed(a, b);
    }
    pub fn is_clique(&self, s: NodeSet) -> bool {
        s.iter().all(|v| s.without(v).is_subset(self.adjacent(v)))
    }

    /// The state of the edge between a and b: 0 none, 1 a → b, 2 b → a, 3 a — b.
    pub fn edge_state(&self, a: usize, b: usize) -> u8 {
        if self.children[a].contains(b) {
            1
        } else if self.children[b].contains(a) {
            2
        } else if self.neighbors[a].contains(b) {
            3
        } else {
            0
        }
    }

    /// A DAG in the class of this PDAG (Dor & Tarsi 1992, as `PDAG.get_dag_extension` of the
    /// reference): repeatedly take a sink whose neighbours are adjacent to all its adjacent
    /// nodes and direct its undirected edges into it. `None` if there is no extension.
    pub fn dag_extension(&self) -> Option<Pdag> {
        let mut work = self.clone();
        let mut dag = self.clone();
        let mut left: NodeSet = (0..self.d).fold(NodeSet::default(), |s, i| s.with(i));
        while !left.is_empty() {
            let x = left.iter().find(|&v| {
                work.children[v].is_empty()
                    && work.neighbors[v]
                        .iter()
                        .all(|u| work.adjacent(v).without(u).is_subset(work.adjacent(u)))
            })?;
            for u in work.neighbors[x].iter() {
                dag.orient(u, x);
            }
            for u in work.adjacent(x).iter() {
                work.remove_edge(u, x);
            }
            left.remove(x);
        }
        Some(dag)
    }

    /// The CPDAG of the Markov equivalence class of this DAG: its v-structures, then Meek's
    /// rules 1–3 to a fixed point (Meek 1995; rule 4 is not needed without knowledge).
    pub fn cpdag_of_dag(&self) -> Pdag {
        let d = self.d;
        let mut g = Pdag::empty(d);
        for b in 0..d {
            let pa = self.parents[b];
            for a in pa.iter() {
                let compelled = pa.without(a).iter().any(|c| !self.adjacent(a).contains(c));
                if compelled {
                    g.add_directed(a, b);
                } else if !g.has_directed(a, b) {
                    g.add_undirected(a, b);
                }
            }
        }
        loop {
            let mut changed = false;
            for a in 0..d {
                for b in g.neighbors[a].iter() {
                    if g.meek_orients(a, b) {
                        g.orient(a, b);
                        changed = true;
                    }
                }
            }
            if !changed {
                return g;
            }
        }
    }

    /// Whether one of Meek's rules 1–3 orients the undirected a — b as a → b.
    fn meek_orients(&self, a: usize, b: usize) -> bool {
        let adj_b = self.adjacent(b);
        // R1: c → a — b with c, b non-adjacent.
        if !self.parents[a].is_subset(adj_b) {
            return true;
        }
        // R2: a → c → b.
        if !self.children[a].is_disjoint(self.parents[b]) {
            return true;
        }
        // R3: a — c → b and a — e → b with c, e non-adjacent.
        let mid = self.neighbors[a].inter(self.parents[b]);
        mid.iter()
            .any(|c| !mid.without(c).is_subset(self.adjacent(c)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_sets_behave_as_sets() {
        let a = NodeSet::single(3).with(70).with(255);
        assert_eq!(a.iter().collect::<Vec<_>>(), vec![3, 70, 255]);
        assert_eq!(a.len(), 3);
        assert!(NodeSet::single(70).is_subset(a));
        assert!(a.without(70).is_disjoint(NodeSet::single(70)));
        assert_eq!(a.inter(NodeSet::single(3).with(4)), NodeSet::single(3));
    }

    #[test]
    fn cpdag_of_a_collider_and_a_chain() {
        // 0 → 2 ← 1 and 2 → 3: the collider is compelled, and so is 2 → 3 (Meek rule 1).
        let mut dag = Pdag::empty(4);
        dag.add_directed(0, 2);
        dag.add_directed(1, 2);
        dag.add_directed(2, 3);
        assert_eq!(dag.cpdag_of_dag(), dag);
        // 0 → 1 → 2 is a chain: all undirected.
        let mut chain = Pdag::empty(3);
        chain.add_directed(0, 1);
        chain.add_directed(1, 2);
        let c = chain.cpdag_of_dag();
        assert!(c.has_undirected(0, 1) && c.has_undirected(1, 2));
        let ext = c.dag_extension().unwrap();
        assert_eq!(ext.cpdag_of_dag(), c);
    }
}
