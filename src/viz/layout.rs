//! Layered (Sugiyama-style) layout of a graph for the SVG DAG view, edges pointing down.
//!
//! Pipeline: break cycles (greedy feedback arc set, for layering only) → longest-path layers →
//! dummy nodes on long edges → barycenter sweeps with adjacent swaps, keeping the ordering with
//! the fewest crossings → x coordinates by repeatedly pulling nodes toward their neighbours while
//! keeping a minimum gap. Everything is deterministic so a redraw never jumps around.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::graph::DiGraph;

/// Horizontal distance between the centres of neighbouring nodes in a layer (px).
pub const NODE_SPACING: f64 = 110.0;
/// Vertical distance between consecutive layers (px).
pub const LAYER_GAP: f64 = 90.0;
/// Empty border around the drawing (px).
pub const MARGIN: f64 = 40.0;

/// Half the room a dummy (a long edge passing through a layer) takes. Smaller than a real node's
/// so dense graphs stay readable, yet large enough that a straight long edge usually clears the
/// boxes of the nodes it passes.
const DUMMY_HALF_WIDTH: f64 = 30.0;
/// Ordering sweeps (alternating down and up); the best ordering seen is kept.
const ORDER_SWEEPS: usize = 24;
/// Proper-graph size (nodes + edges) up to which all sweeps run; beyond it they shrink
/// proportionally, down to `MIN_SWEEPS`.
const SWEEP_WORK_BUDGET: usize = 20_000;
const MIN_SWEEPS: usize = 4;
/// Proper-graph size above which the adjacent-swap refinement is skipped.
const TRANSPOSE_WORK_LIMIT: usize = 40_000;
/// Rounds of adjacent-swap improvement after each sweep; bounded so dense graphs stay fast.
const TRANSPOSE_ROUNDS: usize = 4;
/// Down-and-up coordinate passes pulling nodes toward their neighbours.
const PULL_PASSES: usize = 8;
/// Isolated nodes share the top layer unless it would grow wider than this (or than the widest
/// layer); otherwise they get rows of their own under the drawing.
const MIN_ISOLATED_ROW: usize = 6;

/// Where one node is drawn: centre coordinates in px (y grows downward) and its layer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NodePosition {
    pub x: f64,
    pub y: f64,
    pub layer: usize,
}

/// Positions indexed like the graph's nodes, and the size of the drawing including margins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Layout {
    pub positions: Vec<NodePosition>,
    pub width: f64,
    pub height: f64,
}

/// Lays out `graph` in layers so that every edge points down (except the few reversed to break
/// cycles). `undirected` pairs (e.g. from an equivalence class) are placed as if oriented from
/// the lower index to the higher — or the other way if that would close a cycle — so their
/// endpoints end up in nearby layers; out-of-range pairs and self-loops are ignored.
pub fn layered_layout(graph: &DiGraph, undirected: &[(usize, usize)]) -> Layout {
    let n = graph.n_nodes();
    if n == 0 {
        return Layout {
            positions: Vec::new(),
            width: 2.0 * MARGIN,
            height: 2.0 * MARGIN,
        };
    }
    let edges = acyclic_edges(graph, undirected);
    let layers = assign_layers(n, &edges);
    let mut proper = Proper::build(n, &layers, &edges);
    reduce_crossings(&mut proper);
    let mut xs = coordinates(&proper);
    pack_components(&proper, &mut xs);

    let min_x = xs[..n].iter().copied().fold(f64::INFINITY, f64::min);
    let max_x = xs[..n].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let shift = if min_x.is_finite() {
        MARGIN - min_x
    } else {
        0.0
    };
    let positions: Vec<NodePosition> = (0..n)
        .map(|v| {
            let x = xs[v] + shift;
            NodePosition {
                // Guard against any numerical accident: the view must get finite numbers.
                x: if x.is_finite() { x } else { MARGIN },
                y: MARGIN + layers[v] as f64 * LAYER_GAP,
                layer: layers[v],
            }
        })
        .collect();
    let span = if max_x.is_finite() && min_x.is_finite() {
        max_x - min_x
    } else {
        0.0
    };
    let n_layers = layers.iter().copied().max().unwrap_or(0) + 1;
    Layout {
        positions,
        width: span + 2.0 * MARGIN,
        height: (n_layers - 1) as f64 * LAYER_GAP + 2.0 * MARGIN,
    }
}

/// Number of pairs of edges whose straight segments between the layout's node positions cross.
/// Edges sharing an endpoint, touching or overlapping collinearly do not count; edges with an
/// index outside the layout are ignored.
pub fn count_crossings(layout: &Layout, edges: &[(usize, usize)]) -> usize {
    let pts = &layout.positions;
    let segs: Vec<(usize, usize)> = edges
        .iter()
        .copied()
        .filter(|&(a, b)| a != b && a < pts.len() && b < pts.len())
        .collect();
    let p = |i: usize| (pts[i].x, pts[i].y);
    let mut count = 0;
    for (k, &(a, b)) in segs.iter().enumerate() {
        for &(c, d) in &segs[k + 1..] {
            if a == c || a == d || b == c || b == d {
                continue;
            }
            if segments_cross(p(a), p(b), p(c), p(d)) {
                count += 1;
            }
        }
    }
    count
}

/// Proper crossing test: each segment's endpoints lie strictly on opposite sides of the other.
fn segments_cross(a: (f64, f64), b: (f64, f64), c: (f64, f64), d: (f64, f64)) -> bool {
    let orient = |p: (f64, f64), q: (f64, f64), r: (f64, f64)| {
        let v = (q.0 - p.0) * (r.1 - p.1) - (q.1 - p.1) * (r.0 - p.0);
        // A tolerance so that float noise on touching segments is not a crossing.
        if v > 1e-9 {
            1
        } else if v < -1e-9 {
            -1
        } else {
            0
        }
    };
    let (o1, o2) = (orient(a, b, c), orient(a, b, d));
    let (o3, o4) = (orient(c, d, a), orient(c, d, b));
    o1 * o2 < 0 && o3 * o4 < 0
}

/// The edges used for layering: the graph's edges (self-loops dropped) with a greedy feedback
/// arc set reversed, plus the undirected pairs oriented without closing a cycle. Deduplicated,
/// sorted, and guaranteed acyclic.
fn acyclic_edges(graph: &DiGraph, undirected: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let n = graph.n_nodes();
    let directed: Vec<(usize, usize)> =
        graph.edges().into_iter().filter(|&(a, b)| a != b).collect();
    let sequence = eades_lin_smyth(n, &directed);
    let mut rank = vec![0; n];
    for (i, &v) in sequence.iter().enumerate() {
        rank[v] = i;
    }
    // Every edge going forward in the sequence is acyclic by construction; a 2-cycle collapses
    // into one edge here, which is what the drawing needs.
    let mut kept: BTreeSet<(usize, usize)> = directed
        .iter()
        .map(|&(a, b)| if rank[a] < rank[b] { (a, b) } else { (b, a) })
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in &kept {
        children[a].push(b);
    }
    for &(a, b) in undirected {
        if a >= n || b >= n || a == b {
            continue;
        }
        let (lo, hi) = (a.min(b), a.max(b));
        if kept.contains(&(lo, hi)) || kept.contains(&(hi, lo)) {
            continue;
        }
        let edge = if reaches(&children, hi, lo) {
            (hi, lo)
        } else {
            (lo, hi)
        };
        kept.insert(edge);
        children[edge.0].push(edge.1);
    }
    kept.into_iter().collect()
}

/// Whether `target` is reachable from `start` along `children`.
fn reaches(children: &[Vec<usize>], start: usize, target: usize) -> bool {
    let mut seen = vec![false; children.len()];
    let mut stack = vec![start];
    seen[start] = true;
    while let Some(v) = stack.pop() {
        if v == target {
            return true;
        }
        for &c in &children[v] {
            if !seen[c] {
                seen[c] = true;
                stack.push(c);
            }
        }
    }
    false
}

/// Eades–Lin–Smyth greedy vertex sequence: edges pointing backward in it form a small feedback
/// arc set (none at all for a DAG, since sources and sinks are always peeled off first).
/// O(n² + m), fine for the few hundred nodes the view can show.
fn eades_lin_smyth(n: usize, edges: &[(usize, usize)]) -> Vec<usize> {
    let mut outs: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut ins: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in edges {
        outs[a].push(b);
        ins[b].push(a);
    }
    let mut out_deg: Vec<usize> = outs.iter().map(Vec::len).collect();
    let mut in_deg: Vec<usize> = ins.iter().map(Vec::len).collect();
    let mut removed = vec![false; n];
    let (mut head, mut tail) = (Vec::with_capacity(n), Vec::new());
    for _ in 0..n {
        let alive = |v: &usize| !removed[*v];
        let v = if let Some(v) = (0..n).filter(alive).find(|&v| out_deg[v] == 0) {
            tail.push(v);
            v
        } else if let Some(v) = (0..n).filter(alive).find(|&v| in_deg[v] == 0) {
            head.push(v);
            v
        } else {
            // Largest out − in degree first; ties go to the smallest index for determinism.
            let best = (0..n)
                .filter(alive)
                .max_by(|&a, &b| {
                    let delta = |v: usize| out_deg[v] as i64 - in_deg[v] as i64;
                    delta(a).cmp(&delta(b)).then(b.cmp(&a))
                })
                .unwrap_or(0);
            head.push(best);
            best
        };
        removed[v] = true;
        for &w in &outs[v] {
            if !removed[w] {
                in_deg[w] = in_deg[w].saturating_sub(1);
            }
        }
        for &u in &ins[v] {
            if !removed[u] {
                out_deg[u] = out_deg[u].saturating_sub(1);
            }
        }
    }
    head.extend(tail.into_iter().rev());
    head
}

/// Longest-path layers over acyclic `edges`, sources pulled down next to their children (so a
/// lone root does not hang far above what it causes), then isolated nodes placed.
fn assign_layers(n: usize, edges: &[(usize, usize)]) -> Vec<usize> {
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in edges {
        children[a].push(b);
        parents[b].push(a);
    }
    let order = topological(n, &children, &parents);
    let mut layer = vec![0usize; n];
    for &v in &order {
        layer[v] = parents[v].iter().map(|&p| layer[p] + 1).max().unwrap_or(0);
    }
    for &v in order.iter().rev() {
        if parents[v].is_empty() {
            if let Some(m) = children[v].iter().map(|&c| layer[c]).min() {
                layer[v] = m.saturating_sub(1);
            }
        }
    }

    let isolated: Vec<usize> = (0..n)
        .filter(|&v| parents[v].is_empty() && children[v].is_empty())
        .collect();
    if isolated.is_empty() {
        return layer;
    }
    let connected = n - isolated.len();
    let n_layers = if connected == 0 {
        0
    } else {
        (0..n)
            .filter(|v| !isolated.contains(v))
            .map(|v| layer[v])
            .max()
            .unwrap_or(0)
            + 1
    };
    let mut widths = vec![0usize; n_layers];
    for v in (0..n).filter(|v| !isolated.contains(v)) {
        widths[layer[v]] += 1;
    }
    let widest = widths.iter().copied().max().unwrap_or(0);
    // A roughly square block when nothing else is drawn, never narrower than the graph itself.
    let sqrt = (isolated.len() as f64).sqrt().ceil() as usize;
    let row = widest.max(MIN_ISOLATED_ROW).max(sqrt);
    let top = widths.first().copied().unwrap_or(0);
    if top + isolated.len() <= row {
        for &v in &isolated {
            layer[v] = 0;
        }
    } else {
        for (k, &v) in isolated.iter().enumerate() {
            layer[v] = n_layers + k / row;
        }
    }
    layer
}

/// Kahn's order over an acyclic graph; any node left over (impossible by construction) is
/// appended so the caller never sees a partial order.
fn topological(n: usize, children: &[Vec<usize>], parents: &[Vec<usize>]) -> Vec<usize> {
    let mut in_deg: Vec<usize> = parents.iter().map(Vec::len).collect();
    let mut ready: Vec<usize> = (0..n).rev().filter(|&v| in_deg[v] == 0).collect();
    let mut order = Vec::with_capacity(n);
    let mut placed = vec![false; n];
    while let Some(v) = ready.pop() {
        order.push(v);
        placed[v] = true;
        for &c in children[v].iter().rev() {
            in_deg[c] = in_deg[c].saturating_sub(1);
            if in_deg[c] == 0 && !placed[c] {
                ready.push(c);
            }
        }
    }
    order.extend((0..n).filter(|&v| !placed[v]));
    order
}

/// The "proper" layered graph: real nodes `0..n_real`, then dummies, every edge joining
/// consecutive layers.
struct Proper {
    n_real: usize,
    /// Neighbours one layer up / down.
    up: Vec<Vec<usize>>,
    down: Vec<Vec<usize>>,
    /// Node ids per layer, in drawing order (left to right).
    layers: Vec<Vec<usize>>,
}

impl Proper {
    fn build(n: usize, layer: &[usize], edges: &[(usize, usize)]) -> Proper {
        let n_layers = layer.iter().copied().max().unwrap_or(0) + 1;
        let mut layer_of: Vec<usize> = layer.to_vec();
        let mut up: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut down: Vec<Vec<usize>> = vec![Vec::new(); n];
        for &(a, b) in edges {
            // Layering makes layer[b] > layer[a]; the guard only protects against misuse.
            if layer[b] <= layer[a] {
                continue;
            }
            let mut prev = a;
            for l in layer[a] + 1..layer[b] {
                let dummy = layer_of.len();
                layer_of.push(l);
                up.push(vec![prev]);
                down.push(Vec::new());
                down[prev].push(dummy);
                prev = dummy;
            }
            down[prev].push(b);
            up[b].push(prev);
        }
        // Initial order: connected real nodes by index, then isolated ones, then dummies, so
        // isolated nodes start (and, having no neighbours, tend to stay) at the right end.
        let isolated = |v: usize| v < n && up[v].is_empty() && down[v].is_empty();
        let mut layers: Vec<Vec<usize>> = vec![Vec::new(); n_layers];
        for v in (0..layer_of.len()).filter(|&v| !isolated(v)) {
            layers[layer_of[v]].push(v);
        }
        for v in (0..n).filter(|&v| isolated(v)) {
            layers[layer_of[v]].push(v);
        }
        Proper {
            n_real: n,
            up,
            down,
            layers,
        }
    }

    fn n_nodes(&self) -> usize {
        self.up.len()
    }

    /// Position of every node within its layer.
    fn positions(&self) -> Vec<usize> {
        let mut pos = vec![0; self.n_nodes()];
        for layer in &self.layers {
            for (i, &v) in layer.iter().enumerate() {
                pos[v] = i;
            }
        }
        pos
    }

    /// Total crossings of the ordering: per pair of consecutive layers, the number of
    /// inversions among edge endpoints, counted with a Fenwick tree.
    fn crossings(&self, pos: &[usize]) -> usize {
        let mut total = 0;
        for l in 0..self.layers.len().saturating_sub(1) {
            let below = self.layers[l + 1].len();
            let mut ends: Vec<(usize, usize)> = Vec::new();
            for &u in &self.layers[l] {
                for &v in &self.down[u] {
                    ends.push((pos[u], pos[v]));
                }
            }
            ends.sort_unstable();
            let mut tree = vec![0usize; below + 1];
            for (seen, &(_, p)) in ends.iter().enumerate() {
                // Edges already inserted ending strictly right of p cross this one.
                let mut at_most = 0;
                let mut i = p + 1;
                while i > 0 {
                    at_most += tree[i];
                    i -= i & i.wrapping_neg();
                }
                total += seen - at_most;
                let mut i = p + 1;
                while i <= below {
                    tree[i] += 1;
                    i += i & i.wrapping_neg();
                }
            }
        }
        total
    }
}

/// Barycenter sweeps alternating down and up, each followed by adjacent swaps; keeps the
/// ordering with the fewest crossings (stopping early at zero).
fn reduce_crossings(p: &mut Proper) {
    let mut pos = p.positions();
    let mut best = p.crossings(&pos);
    let mut best_layers = p.layers.clone();
    // Very dense graphs (a near-complete DAG has ~n³/6 dummies) get fewer sweeps and no swaps,
    // so a low threshold in the UI cannot freeze the page; ordinary graphs get the full effort.
    let work = p.n_nodes() + p.down.iter().map(Vec::len).sum::<usize>();
    let sweeps = (ORDER_SWEEPS * SWEEP_WORK_BUDGET / work.max(1)).clamp(MIN_SWEEPS, ORDER_SWEEPS);
    for sweep in 0..sweeps {
        if best == 0 {
            break;
        }
        let downward = sweep % 2 == 0;
        let n_layers = p.layers.len();
        let order: Vec<usize> = if downward {
            (1..n_layers).collect()
        } else {
            (0..n_layers.saturating_sub(1)).rev().collect()
        };
        for l in order {
            let keys: Vec<(f64, usize)> = p.layers[l]
                .iter()
                .map(|&v| {
                    let nbrs = if downward { &p.up[v] } else { &p.down[v] };
                    let key = if nbrs.is_empty() {
                        // No pull from that side: stay where it is.
                        pos[v] as f64
                    } else {
                        nbrs.iter().map(|&u| pos[u] as f64).sum::<f64>() / nbrs.len() as f64
                    };
                    (key, v)
                })
                .collect();
            let mut sorted = keys;
            // Stable sort: equal keys keep their current order, which keeps siblings together.
            sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
            p.layers[l] = sorted.into_iter().map(|(_, v)| v).collect();
            for (i, &v) in p.layers[l].iter().enumerate() {
                pos[v] = i;
            }
        }
        if work <= TRANSPOSE_WORK_LIMIT {
            transpose(p, &mut pos);
        }
        let c = p.crossings(&pos);
        if c < best {
            best = c;
            best_layers = p.layers.clone();
        }
    }
    p.layers = best_layers;
}

/// Swaps neighbouring nodes in a layer whenever that strictly lowers the crossings they take
/// part in (with both the layer above and below).
fn transpose(p: &mut Proper, pos: &mut [usize]) {
    // Crossings between edges of u and edges of v when u is left of v.
    let pair = |pos: &[usize], u: usize, v: usize| -> usize {
        let mut c = 0;
        for side in [&p.up, &p.down] {
            for &a in &side[u] {
                c += side[v].iter().filter(|&&b| pos[a] > pos[b]).count();
            }
        }
        c
    };
    for _ in 0..TRANSPOSE_ROUNDS {
        let mut improved = false;
        for l in 0..p.layers.len() {
            for i in 0..p.layers[l].len().saturating_sub(1) {
                let (u, v) = (p.layers[l][i], p.layers[l][i + 1]);
                if pair(pos, u, v) > pair(pos, v, u) {
                    p.layers[l].swap(i, i + 1);
                    pos[u] = i + 1;
                    pos[v] = i;
                    improved = true;
                }
            }
        }
        if !improved {
            break;
        }
    }
}

/// Closes the empty space between unconnected parts of the drawing: the connected components
/// (long edges' dummies included), taken from left to right, slide left until half a node
/// spacing from everything before them; components whose spans overlap move together, so no
/// crossing or overlap is created and the shape of each stays the same.
/// (Centring the layers on the widest one can leave a small component far from the rest.)
fn pack_components(p: &Proper, x: &mut [f64]) {
    let n = p.n_nodes();
    let half = |v: usize| {
        if v < p.n_real {
            NODE_SPACING / 2.0
        } else {
            DUMMY_HALF_WIDTH
        }
    };
    let mut component = vec![usize::MAX; n];
    let mut extents: Vec<(f64, f64, usize)> = Vec::new();
    for start in 0..n {
        if component[start] != usize::MAX {
            continue;
        }
        let id = extents.len();
        let (mut left, mut right) = (f64::INFINITY, f64::NEG_INFINITY);
        let mut stack = vec![start];
        component[start] = id;
        while let Some(v) = stack.pop() {
            left = left.min(x[v] - half(v));
            right = right.max(x[v] + half(v));
            for &u in p.up[v].iter().chain(&p.down[v]) {
                if component[u] == usize::MAX {
                    component[u] = id;
                    stack.push(u);
                }
            }
        }
        extents.push((left, right, id));
    }
    if extents.len() < 2 {
        return;
    }
    // Components whose spans overlap (one may sit between another's nodes) move as one group;
    // the groups' spans are disjoint, and each slides left up to the one before.
    extents.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut shift = vec![0.0; extents.len()];
    let mut reach = f64::NEG_INFINITY; // right edge of the groups placed so far
    let mut k = 0;
    while k < extents.len() {
        let (left, mut right) = (extents[k].0, extents[k].1);
        let mut end = k + 1;
        while end < extents.len() && extents[end].0 < right {
            right = right.max(extents[end].1);
            end += 1;
        }
        let room = left - (reach + NODE_SPACING / 2.0);
        let by = if reach.is_finite() && room > 0.0 {
            room
        } else {
            0.0
        };
        for &(_, _, id) in &extents[k..end] {
            shift[id] = by;
        }
        reach = right - by;
        k = end;
    }
    for (v, xv) in x.iter_mut().enumerate() {
        *xv -= shift[component[v]];
    }
}

/// x of every node (real and dummy): layers spaced and centred, then passes that move each node
/// toward the mean x of its neighbours above (down pass) or below (up pass), finishing with
/// both, while keeping each layer's order and minimum gaps.
fn coordinates(p: &Proper) -> Vec<f64> {
    let half = |v: usize| {
        if v < p.n_real {
            NODE_SPACING / 2.0
        } else {
            DUMMY_HALF_WIDTH
        }
    };
    let gap = |a: usize, b: usize| half(a) + half(b);
    let widths: Vec<f64> = p
        .layers
        .iter()
        .map(|l| l.windows(2).map(|w| gap(w[0], w[1])).sum::<f64>())
        .collect();
    let widest = widths.iter().copied().fold(0.0, f64::max);
    let mut x = vec![0.0; p.n_nodes()];
    for (layer, w) in p.layers.iter().zip(&widths) {
        let mut at = (widest - w) / 2.0;
        for (i, &v) in layer.iter().enumerate() {
            if i > 0 {
                at += gap(layer[i - 1], v);
            }
            x[v] = at;
        }
    }

    let n_layers = p.layers.len();
    let mut passes: Vec<(usize, bool, bool)> = Vec::new();
    for _ in 0..PULL_PASSES {
        passes.extend((1..n_layers).map(|l| (l, true, false)));
        passes.extend(
            (0..n_layers.saturating_sub(1))
                .rev()
                .map(|l| (l, false, true)),
        );
    }
    passes.extend((0..n_layers).map(|l| (l, true, true)));
    for (l, use_up, use_down) in passes {
        let layer = &p.layers[l];
        if layer.is_empty() {
            continue;
        }
        let mut desired = Vec::with_capacity(layer.len());
        let mut weight = Vec::with_capacity(layer.len());
        for &v in layer {
            let mut sum = 0.0;
            let mut count = 0usize;
            if use_up {
                sum += p.up[v].iter().map(|&u| x[u]).sum::<f64>();
                count += p.up[v].len();
            }
            if use_down {
                sum += p.down[v].iter().map(|&u| x[u]).sum::<f64>();
                count += p.down[v].len();
            }
            if count == 0 {
                // Unanchored nodes stay put but give way easily.
                desired.push(x[v]);
                weight.push(0.25);
            } else {
                desired.push(sum / count as f64);
                // Dummies weigh more so long edges stay straight and real nodes step aside.
                weight.push(if v < p.n_real { 1.0 } else { 2.0 });
            }
        }
        let gaps: Vec<f64> = layer.windows(2).map(|w| gap(w[0], w[1])).collect();
        let placed = place_with_gaps(&desired, &weight, &gaps);
        for (&v, xv) in layer.iter().zip(placed) {
            x[v] = xv;
        }
    }
    x
}

/// Positions closest (weighted least squares) to `desired` such that consecutive positions are
/// at least `gaps[i]` apart. Subtracting the cumulative gaps turns this into isotonic
/// regression, solved exactly by pool-adjacent-violators in O(k).
fn place_with_gaps(desired: &[f64], weight: &[f64], gaps: &[f64]) -> Vec<f64> {
    let k = desired.len();
    let mut offset = vec![0.0; k];
    for i in 1..k {
        offset[i] = offset[i - 1] + gaps.get(i - 1).copied().unwrap_or(0.0);
    }
    // Blocks of pooled indices: (total weight, weighted sum of targets, length).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(k);
    for i in 0..k {
        let w = weight.get(i).copied().unwrap_or(1.0).max(1e-9);
        blocks.push((w, w * (desired[i] - offset[i]), 1));
        while blocks.len() >= 2 {
            let (w2, s2, n2) = blocks[blocks.len() - 1];
            let (w1, s1, n1) = blocks[blocks.len() - 2];
            if s1 / w1 <= s2 / w2 {
                break;
            }
            blocks.truncate(blocks.len() - 2);
            blocks.push((w1 + w2, s1 + s2, n1 + n2));
        }
    }
    let mut out = Vec::with_capacity(k);
    for (w, s, len) in blocks {
        let level = s / w;
        for _ in 0..len {
            out.push(level + offset[out.len()]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check_spacing(layout: &Layout) {
        let mut by_layer: Vec<Vec<f64>> = Vec::new();
        for p in &layout.positions {
            if by_layer.len() <= p.layer {
                by_layer.resize(p.layer + 1, Vec::new());
            }
            by_layer[p.layer].push(p.x);
        }
        for xs in &mut by_layer {
            xs.sort_by(f64::total_cmp);
            for w in xs.windows(2) {
                assert!(w[1] - w[0] >= NODE_SPACING - 1e-6, "nodes too close: {w:?}");
            }
        }
    }

    fn check_finite_and_inside(layout: &Layout) {
        for p in &layout.positions {
            assert!(p.x.is_finite() && p.y.is_finite());
            assert!(p.x >= MARGIN - 1e-6 && p.x <= layout.width - MARGIN + 1e-6);
            assert!(p.y >= MARGIN - 1e-6 && p.y <= layout.height - MARGIN + 1e-6);
        }
        assert!(layout.width.is_finite() && layout.height.is_finite());
    }

    /// A deterministic pseudo-random DAG (xorshift), nodes relabelled so index order is not
    /// the topological order.
    fn random_dag(n: usize, p_edge: f64, seed: u64) -> DiGraph {
        let mut s = seed.max(1);
        let mut next = || {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let perm: Vec<usize> = (0..n).map(|i| (i * 37 + 11) % n).collect();
        let mut g = DiGraph::empty(n);
        for i in 0..n {
            for j in i + 1..n {
                if next() < p_edge {
                    g.add_edge(perm[i], perm[j]);
                }
            }
        }
        g
    }

    #[test]
    fn empty_graph_and_single_node() {
        let empty = layered_layout(&DiGraph::empty(0), &[]);
        assert!(empty.positions.is_empty());
        assert_eq!((empty.width, empty.height), (2.0 * MARGIN, 2.0 * MARGIN));

        let one = layered_layout(&DiGraph::empty(1), &[]);
        assert_eq!(
            one.positions,
            vec![NodePosition {
                x: MARGIN,
                y: MARGIN,
                layer: 0
            }]
        );
        assert_eq!((one.width, one.height), (2.0 * MARGIN, 2.0 * MARGIN));
    }

    #[test]
    fn unconnected_parts_sit_side_by_side() {
        // A wide star (one parent, eight children, edges skipping a layer through dummies)
        // beside a separate three-node chain: the chain must not float half the star's width
        // away, and nothing may overlap.
        let mut edges: Vec<(usize, usize)> = (1..9).map(|c| (0, c)).collect();
        edges.extend([(1, 9), (9, 10), (0, 10)]);
        edges.extend([(11, 12), (12, 13)]);
        let g = DiGraph::from_edges(14, &edges);
        let layout = layered_layout(&g, &[]);
        let xs = |nodes: std::ops::Range<usize>| {
            nodes
                .map(|v| layout.positions[v].x)
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                    (a.min(x), b.max(x))
                })
        };
        let (star, chain) = (xs(0..11), xs(11..14));
        let gap = if chain.0 > star.1 {
            chain.0 - star.1
        } else {
            star.0 - chain.1
        };
        // Without packing the chain sat 1212 px from the star; the star's long edge (through a
        // dummy, right of its nodes) keeps it a little over two spacings away.
        assert!(
            gap <= 2.5 * NODE_SPACING + 1e-9,
            "{gap} between {star:?} and {chain:?}"
        );
        for a in 0..14 {
            for b in a + 1..14 {
                let (pa, pb) = (&layout.positions[a], &layout.positions[b]);
                if pa.layer == pb.layer {
                    assert!(
                        (pa.x - pb.x).abs() >= NODE_SPACING - 1e-9,
                        "{a} and {b} overlap"
                    );
                }
            }
        }
        assert_eq!(count_crossings(&layout, &edges), 0);
        let width = star.1 - star.0 + chain.1 - chain.0 + gap + 2.0 * MARGIN;
        assert!(layout.width <= width + 1e-9, "{} > {width}", layout.width);
    }

    #[test]
    fn chain_is_a_vertical_line() {
        let g = DiGraph::from_edges(5, &[(3, 1), (1, 4), (4, 0), (0, 2)]);
        let layout = layered_layout(&g, &[]);
        let x0 = layout.positions[3].x;
        for (k, v) in [3, 1, 4, 0, 2].into_iter().enumerate() {
            assert!((layout.positions[v].x - x0).abs() < 1e-9);
            assert_eq!(layout.positions[v].layer, k);
            assert_eq!(layout.positions[v].y, MARGIN + k as f64 * LAYER_GAP);
        }
        assert_eq!(layout.height, 2.0 * MARGIN + 4.0 * LAYER_GAP);
    }

    #[test]
    fn tree_has_no_crossings() {
        // Children listed so that index order alone would cross edges.
        let edges = [
            (0, 6),
            (0, 1),
            (6, 2),
            (1, 5),
            (6, 4),
            (1, 3),
            (2, 7),
            (5, 8),
            (4, 9),
            (3, 10),
        ];
        let g = DiGraph::from_edges(11, &edges);
        let layout = layered_layout(&g, &[]);
        assert_eq!(count_crossings(&layout, &g.edges()), 0);
        check_spacing(&layout);
        // The root is centred over its two children.
        let mid = (layout.positions[6].x + layout.positions[1].x) / 2.0;
        assert!((layout.positions[0].x - mid).abs() < 1e-6);
    }

    #[test]
    fn crossing_ordering_is_untangled() {
        // Three parallel edges that cross pairwise in index order but not once reordered.
        let g = DiGraph::from_edges(6, &[(0, 5), (1, 4), (2, 3)]);
        let layout = layered_layout(&g, &[]);
        assert_eq!(count_crossings(&layout, &g.edges()), 0);
    }

    #[test]
    fn count_crossings_counts_an_x() {
        let pos = |x: f64, y: f64| NodePosition { x, y, layer: 0 };
        let layout = Layout {
            positions: vec![
                pos(0.0, 0.0),
                pos(10.0, 0.0),
                pos(0.0, 10.0),
                pos(10.0, 10.0),
            ],
            width: 10.0,
            height: 10.0,
        };
        assert_eq!(count_crossings(&layout, &[(0, 3), (1, 2)]), 1);
        assert_eq!(count_crossings(&layout, &[(0, 2), (1, 3)]), 0);
        // Shared endpoints and out-of-range indices are not crossings.
        assert_eq!(count_crossings(&layout, &[(0, 3), (0, 2), (7, 1)]), 0);
    }

    #[test]
    fn cyclic_input_gives_finite_positions() {
        let g = DiGraph::from_edges(5, &[(0, 1), (1, 2), (2, 0), (2, 3), (3, 2), (4, 4), (3, 4)]);
        let layout = layered_layout(&g, &[(0, 4), (9, 1), (2, 2)]);
        assert_eq!(layout.positions.len(), 5);
        check_finite_and_inside(&layout);
        check_spacing(&layout);
        // Only a feedback arc set may point up; most edges still point down.
        let down = g
            .edges()
            .iter()
            .filter(|&&(a, b)| layout.positions[a].y < layout.positions[b].y)
            .count();
        assert!(down >= 4, "{layout:?}");
    }

    #[test]
    fn undirected_pairs_are_adjacent_layers_and_never_close_a_cycle() {
        // 2 → 1 → 0 directed; the pair {0, 2} would close a cycle if oriented 0 → 2.
        let g = DiGraph::from_edges(3, &[(2, 1), (1, 0)]);
        let layout = layered_layout(&g, &[(0, 2)]);
        for (a, b) in g.edges() {
            assert!(layout.positions[a].y < layout.positions[b].y);
        }
        // A lone undirected pair sits in consecutive layers, lower index on top.
        let lone = layered_layout(&DiGraph::empty(2), &[(1, 0)]);
        assert_eq!((lone.positions[0].layer, lone.positions[1].layer), (0, 1));
    }

    #[test]
    fn isolated_nodes_share_the_top_row_or_get_rows_below() {
        let g = DiGraph::from_edges(4, &[(0, 1)]);
        let layout = layered_layout(&g, &[]);
        assert_eq!(layout.positions[2].layer, 0);
        assert_eq!(layout.positions[3].layer, 0);
        check_spacing(&layout);

        let many = DiGraph::from_edges(12, &[(0, 1)]);
        let layout = layered_layout(&many, &[]);
        assert!(layout.positions[2..].iter().all(|p| p.layer >= 2));
        check_spacing(&layout);
        check_finite_and_inside(&layout);

        let none = layered_layout(&DiGraph::empty(16), &[]);
        assert_eq!(none.positions.iter().map(|p| p.layer).max(), Some(2));
        check_spacing(&none);
    }

    #[test]
    fn long_edges_do_not_overlap_the_node_they_skip() {
        // 0 → 1 → 2 plus the transitive 0 → 2: the straight 0 → 2 line must miss node 1.
        let g = DiGraph::from_edges(3, &[(0, 1), (1, 2), (0, 2)]);
        let layout = layered_layout(&g, &[]);
        let p = &layout.positions;
        let t = (p[1].y - p[0].y) / (p[2].y - p[0].y);
        let line_x = p[0].x + t * (p[2].x - p[0].x);
        assert!((line_x - p[1].x).abs() > 30.0, "{layout:?}");
    }

    #[test]
    fn is_deterministic() {
        let g = random_dag(30, 0.15, 7);
        assert_eq!(layered_layout(&g, &[(0, 1)]), layered_layout(&g, &[(0, 1)]));
    }

    #[test]
    fn hundred_nodes_are_fast() {
        let start = std::time::Instant::now();
        for (seed, p) in [(1, 0.03), (2, 0.08), (3, 0.2)] {
            let g = random_dag(100, p, seed);
            let layout = layered_layout(&g, &[]);
            for (a, b) in g.edges() {
                assert!(layout.positions[a].y < layout.positions[b].y);
            }
            check_spacing(&layout);
            check_finite_and_inside(&layout);
        }
        // A complete DAG is the worst case for dummies (~n³/6 of them).
        let complete = random_dag(100, 1.1, 4);
        check_finite_and_inside(&layered_layout(&complete, &[]));
        // Generous bound for an optimized test build on a loaded machine.
        assert!(
            start.elapsed().as_secs_f64() < 5.0,
            "took {:?}",
            start.elapsed()
        );
    }

    #[test]
    fn dense_cyclic_graph_does_not_panic() {
        let mut g = random_dag(40, 0.3, 9);
        for i in 0..40 {
            g.add_edge((i + 1) % 40, i);
        }
        let layout = layered_layout(&g, &[(0, 39), (5, 6)]);
        check_finite_and_inside(&layout);
        check_spacing(&layout);
    }

    proptest! {
        #[test]
        fn random_dags_point_down(
            n in 1usize..25,
            pairs in proptest::collection::vec((0usize..25, 0usize..25), 0..60),
            undirected in proptest::collection::vec((0usize..30, 0usize..30), 0..4),
            shift in 0usize..25,
        ) {
            // Orient each pair along a rotated index order, so the graph is acyclic but not
            // sorted by index.
            let rank = |v: usize| (v + shift) % n;
            let edges: Vec<(usize, usize)> = pairs
                .iter()
                .map(|&(a, b)| (a % n, b % n))
                .filter(|&(a, b)| a != b)
                .map(|(a, b)| if rank(a) < rank(b) { (a, b) } else { (b, a) })
                .collect();
            let g = DiGraph::from_edges(n, &edges);
            let layout = layered_layout(&g, &undirected);
            prop_assert_eq!(layout.positions.len(), n);
            for (a, b) in g.edges() {
                prop_assert!(layout.positions[a].y < layout.positions[b].y);
            }
            check_spacing(&layout);
            check_finite_and_inside(&layout);
        }

        #[test]
        fn arbitrary_graphs_never_panic(
            n in 0usize..15,
            pairs in proptest::collection::vec((0usize..15, 0usize..15), 0..80),
        ) {
            let edges: Vec<(usize, usize)> =
                if n == 0 { Vec::new() } else { pairs.iter().map(|&(a, b)| (a % n, b % n)).collect() };
            let layout = layered_layout(&DiGraph::from_edges(n, &edges), &pairs);
            check_finite_and_inside(&layout);
            check_spacing(&layout);
        }
    }
}
