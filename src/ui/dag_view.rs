//! The DAG view: a layered SVG drawing of the learned graph, edges styled by sign or by their
//! comparison with the true graph, weights on hover, nodes draggable by pointer or arrow keys.

use std::collections::HashMap;

use leptos::prelude::*;
use nalgebra::DMatrix;

use super::discover::GraphModel;
use crate::causal::GraphKind;
use crate::graph::DiGraph;
use crate::metrics::compare;
use crate::viz::layout::{layered_layout, Layout};

const NODE_HEIGHT: f64 = 28.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeStatus {
    /// No true graph is known.
    Unknown,
    Correct,
    Reversed,
    Extra,
}

/// Two node indices.
type Pair = (usize, usize);

/// Least time between two layouts of a running learner's graph.
const LIVE_RELAYOUT_MS: f64 = 1000.0;

#[derive(Debug, Clone, PartialEq)]
pub struct SceneEdge {
    pub from: usize,
    pub to: usize,
    pub weight: f64,
    pub status: EdgeStatus,
    /// False for an undirected CPDAG edge (drawn without arrowhead, `data-edge="A--B"`).
    pub directed: bool,
}

/// Everything the view draws, derived from a [`GraphModel`] at a threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Scene {
    pub names: Vec<String>,
    /// Thresholded d × d weights (row = cause, column = effect).
    pub weights: DMatrix<f64>,
    pub edges: Vec<SceneEdge>,
    /// True edges absent from the estimate in both directions.
    pub missing: Vec<(usize, usize)>,
    pub truth: Option<DiGraph>,
    /// The graph the layout was computed for: the estimate's directed edges and the missing
    /// true edges, then the undirected pairs.
    pub drawn: (Vec<Pair>, Vec<Pair>),
    pub layout: Layout,
    /// When `layout` was computed (page clock, ms).
    pub laid_out_ms: f64,
    pub is_final: bool,
    pub max_abs: f64,
    pub kind: GraphKind,
}

impl Scene {
    /// The scene of `model` at `threshold`, at page time `now_ms`. The layout of `previous`
    /// (the scene before a live update) is kept when the drawn graph has not changed, so that
    /// nodes stay put while only weights move, and the crossing reduction does not run again
    /// for nothing; for a live estimate it is kept for [`LIVE_RELAYOUT_MS`] even when edges
    /// come and go. A final result is always laid out for its own graph.
    pub fn build(
        model: &GraphModel,
        threshold: f64,
        truth: Option<&DiGraph>,
        previous: Option<&Scene>,
        now_ms: f64,
    ) -> Scene {
        let weights = model.matrix(threshold);
        let mut estimate = DiGraph::from_weights(&weights, f64::MIN_POSITIVE);
        // In a CPDAG, weights both ways mean one undirected edge: keep i < j as its
        // representative for drawing and judge it by its adjacency.
        let mut undirected = vec![];
        if model.kind == GraphKind::Cpdag {
            let n = estimate.n_nodes();
            for i in 0..n {
                for j in i + 1..n {
                    if estimate.has_edge(i, j) && estimate.has_edge(j, i) {
                        undirected.push((i, j));
                        estimate.remove_edge(j, i);
                        estimate.remove_edge(i, j);
                    }
                }
            }
        }
        let mut oriented = estimate.clone();
        for &(i, j) in &undirected {
            match truth {
                Some(t) if t.has_edge(j, i) => oriented.add_edge(j, i),
                _ => oriented.add_edge(i, j),
            }
        }
        let comparison = truth.map(|t| compare(t, &oriented));
        let status_of = |edge: (usize, usize)| match &comparison {
            None => EdgeStatus::Unknown,
            Some(c) if c.correct.contains(&edge) => EdgeStatus::Correct,
            Some(c) if c.reversed.contains(&edge) => EdgeStatus::Reversed,
            Some(_) => EdgeStatus::Extra,
        };
        let mut edges: Vec<SceneEdge> = estimate
            .edges()
            .into_iter()
            .map(|(from, to)| SceneEdge {
                from,
                to,
                weight: weights[(from, to)],
                status: status_of((from, to)),
                directed: true,
            })
            .collect();
        edges.extend(undirected.iter().map(|&(i, j)| {
            let adjacent = truth.is_some_and(|t| t.has_edge(i, j) || t.has_edge(j, i));
            SceneEdge {
                from: i,
                to: j,
                weight: weights[(i, j)],
                status: match truth {
                    None => EdgeStatus::Unknown,
                    Some(_) if adjacent => EdgeStatus::Correct,
                    Some(_) => EdgeStatus::Extra,
                },
                directed: false,
            }
        }));
        let missing = comparison.map(|c| c.missing).unwrap_or_default();
        let mut drawn = estimate.clone();
        for &(a, b) in &missing {
            drawn.add_edge(a, b);
        }
        let drawn_key = (drawn.edges(), undirected.clone());
        // A live estimate keeps the previous layout for LIVE_RELAYOUT_MS even when its edges
        // change: nodes that jumped ten times a second could not be followed (and each new
        // layout moved every edge on the page). `drawn` stays the graph the layout was made for.
        let (layout, drawn_key, laid_out_ms) = match previous {
            Some(p) if p.names == model.names && p.drawn == drawn_key => {
                (p.layout.clone(), drawn_key, p.laid_out_ms)
            }
            Some(p)
                if p.names == model.names
                    && !model.is_final
                    && now_ms - p.laid_out_ms < LIVE_RELAYOUT_MS =>
            {
                (p.layout.clone(), p.drawn.clone(), p.laid_out_ms)
            }
            _ => (layered_layout(&drawn, &undirected), drawn_key, now_ms),
        };
        let max_abs = edges.iter().fold(0.0_f64, |m, e| m.max(e.weight.abs()));
        Scene {
            names: model.names.clone(),
            weights,
            edges,
            missing,
            truth: truth.cloned(),
            drawn: drawn_key,
            layout,
            laid_out_ms,
            is_final: model.is_final,
            max_abs,
            kind: model.kind,
        }
    }

    pub fn graph(&self) -> DiGraph {
        DiGraph::from_weights(&self.weights, f64::MIN_POSITIVE)
    }

    /// The undirected edges (i < j) of a CPDAG.
    pub fn undirected(&self) -> Vec<(usize, usize)> {
        self.edges
            .iter()
            .filter(|e| !e.directed)
            .map(|e| (e.from, e.to))
            .collect()
    }
}

fn node_width(name: &str) -> f64 {
    (name.chars().count() as f64 * 7.5 + 18.0).max(44.0)
}

/// Where the segment from `a` towards `b` leaves the box of half-size (hw, hh) around `a`.
fn box_exit(a: (f64, f64), b: (f64, f64), hw: f64, hh: f64) -> (f64, f64) {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    if dx == 0.0 && dy == 0.0 {
        return a;
    }
    let tx = if dx != 0.0 {
        hw / dx.abs()
    } else {
        f64::INFINITY
    };
    let ty = if dy != 0.0 {
        hh / dy.abs()
    } else {
        f64::INFINITY
    };
    let t = tx.min(ty).min(1.0);
    (a.0 + t * dx, a.1 + t * dy)
}

struct Style {
    color: &'static str,
    dash: &'static str,
    marker: &'static str,
    word: &'static str,
}

fn style(status: EdgeStatus, weight: f64, by_truth: bool) -> Style {
    match (by_truth, status) {
        (true, EdgeStatus::Correct) => Style {
            color: "#15803d",
            dash: "",
            marker: "correct",
            word: "correct",
        },
        (true, EdgeStatus::Reversed) => Style {
            color: "#d97706",
            dash: "",
            marker: "reversed",
            word: "reversed",
        },
        (true, EdgeStatus::Extra) => Style {
            color: "#7c3aed",
            dash: "2 3",
            marker: "extra",
            word: "extra",
        },
        _ if weight >= 0.0 => Style {
            color: "#2563eb",
            dash: "",
            marker: "pos",
            word: "positive",
        },
        _ => Style {
            color: "#dc2626",
            dash: "",
            marker: "neg",
            word: "negative",
        },
    }
}

const MISSING_COLOR: &str = "#9ca3af";
const MARKERS: [(&str, &str); 6] = [
    ("pos", "#2563eb"),
    ("neg", "#dc2626"),
    ("correct", "#15803d"),
    ("reversed", "#d97706"),
    ("extra", "#7c3aed"),
    ("missing", MISSING_COLOR),
];

pub use crate::viz::ZOOM_RANGE;

/// The zoom level one step in or out (`dir` > 0 or < 0) from `z`: ×1.25 or ÷1.25, kept in
/// [`ZOOM_RANGE`] and rounded to whole percents so that steps back land where they started.
pub fn zoom_step(z: f64, dir: f64) -> f64 {
    let next = if dir > 0.0 { z * 1.25 } else { z / 1.25 };
    (next * 100.0)
        .round()
        .clamp(ZOOM_RANGE.0 * 100.0, ZOOM_RANGE.1 * 100.0)
        / 100.0
}

/// An edge's identity in the live view: (from, to, directed).
type EdgeKey = (usize, usize, bool);

/// What one drawn edge shows: its weight and status, its width as a fraction of the largest
/// |weight|, and whether the opposite directed edge is drawn too (then both bend apart).
#[derive(Debug, Clone, Copy, PartialEq)]
struct EdgeLive {
    weight: f64,
    status: EdgeStatus,
    width: f64,
    paired: bool,
}

impl Default for EdgeLive {
    fn default() -> Self {
        EdgeLive {
            weight: 0.0,
            status: EdgeStatus::Unknown,
            width: 0.0,
            paired: false,
        }
    }
}

/// The graph drawn from `scene`, updated in place as live snapshots arrive: nodes are built
/// once per set of variables, edges are kept by (from, to, directed) and only their weight,
/// colour and geometry change, so hover titles, keyboard focus and dragged positions survive
/// the updates, and the page does little work per snapshot (at d = 50 rebuilding the whole
/// drawing ten times a second took a fifth of a core, which a split SDCD run needs).
#[component]
pub fn DagView(
    scene: Memo<Option<Scene>>,
    overrides: RwSignal<Vec<Option<(f64, f64)>>>,
    color_by_truth: RwSignal<bool>,
    /// Shrink to the panel's width rather than keep labels at a legible size and scroll.
    fit: RwSignal<bool>,
    /// Factor on the legible size when not fitted; Ctrl + wheel over the graph steps it.
    zoom: RwSignal<f64>,
) -> impl IntoView {
    let names =
        Memo::new(move |_| scene.with(|s| s.as_ref().map(|s| s.names.clone()).unwrap_or_default()));
    let frame = Memo::new(move |_| {
        scene.with(|s| {
            s.as_ref().map_or((120.0, 80.0), |s| {
                (s.layout.width.max(120.0), s.layout.height.max(80.0))
            })
        })
    });
    let base = Memo::new(move |_| {
        scene.with(|s| {
            s.as_ref()
                .map(|s| {
                    s.layout
                        .positions
                        .iter()
                        .map(|p| (p.x, p.y))
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
    });
    let position = move |idx: usize| {
        overrides
            .with(|o| o.get(idx).copied().flatten())
            .unwrap_or_else(|| base.with(|b| b.get(idx).copied().unwrap_or((0.0, 0.0))))
    };
    let has_truth =
        Memo::new(move |_| scene.with(|s| s.as_ref().is_some_and(|s| s.truth.is_some())));
    let cpdag =
        Memo::new(move |_| scene.with(|s| s.as_ref().is_some_and(|s| s.kind == GraphKind::Cpdag)));
    let by_truth = Memo::new(move |_| has_truth.get() && color_by_truth.get());
    let edge_keys = Memo::new(move |_| {
        scene.with(|s| {
            s.as_ref()
                .map(|s| {
                    s.edges
                        .iter()
                        .map(|e| (e.from, e.to, e.directed))
                        .collect::<Vec<EdgeKey>>()
                })
                .unwrap_or_default()
        })
    });
    // What each edge shows, for all edges at once; each edge's own signal is then set from it
    // (below), so that a snapshot costs a pass over the edges rather than every edge
    // re-subscribing to lists as long as the graph (see `edge_view`).
    let edge_data = Memo::new(move |_| {
        scene.with(|s| {
            s.as_ref()
                .map(|s| {
                    let max_abs = s.max_abs.max(1e-9);
                    let keys: std::collections::HashSet<Pair> = s
                        .edges
                        .iter()
                        .filter(|e| e.directed)
                        .map(|e| (e.from, e.to))
                        .collect();
                    s.edges
                        .iter()
                        .map(|e| {
                            let live = EdgeLive {
                                weight: e.weight,
                                status: e.status,
                                width: (e.weight.abs() / max_abs).min(1.0),
                                paired: e.directed && keys.contains(&(e.to, e.from)),
                            };
                            ((e.from, e.to, e.directed), live)
                        })
                        .collect::<HashMap<EdgeKey, EdgeLive>>()
                })
                .unwrap_or_default()
        })
    });
    let edge_signals = StoredValue::new(HashMap::<EdgeKey, RwSignal<EdgeLive>>::new());
    Effect::new(move |_| {
        edge_data.with(|data| {
            edge_signals.with_value(|signals| {
                for (key, live) in data {
                    if let Some(signal) = signals.get(key) {
                        if signal.try_get_untracked().is_some_and(|old| old != *live) {
                            signal.try_set(*live);
                        }
                    }
                }
            })
        })
    });
    let missing = Memo::new(move |_| {
        scene.with(|s| s.as_ref().map(|s| s.missing.clone()).unwrap_or_default())
    });
    let n_edges = move || edge_keys.with(|k| k.len());

    let dragging = RwSignal::new(None::<i32>);
    let move_node = move |idx: usize, xy: (f64, f64)| {
        let (width, height) = frame.get_untracked();
        let xy = (xy.0.clamp(0.0, width), xy.1.clamp(0.0, height));
        let n = names.with_untracked(|n| n.len());
        overrides.update(|o| {
            if o.len() < n {
                o.resize(n, None);
            }
            o[idx] = Some(xy);
        });
    };
    let to_svg = move |client_x: f64, client_y: f64| {
        let (width, height) = frame.get_untracked();
        let rect = document()
            .get_element_by_id("dag-svg")?
            .get_bounding_client_rect();
        let scale = (rect.width() / width).min(rect.height() / height);
        (scale > 0.0).then(|| {
            (
                (client_x - rect.left()) / scale,
                (client_y - rect.top()) / scale,
            )
        })
    };

    // Everything below is rebuilt only when the variables change (another data set).
    let drawing = move || {
        let names = names.get();
        let widths: Vec<f64> = names.iter().map(|s| node_width(s)).collect();
        let widths = StoredValue::new(widths);
        // One memo per node: an edge's path follows its two nodes only.
        let at: Vec<Memo<(f64, f64)>> = (0..names.len())
            .map(|idx| Memo::new(move |_| position(idx)))
            .collect();
        let at = StoredValue::new(at);
        let endpoints = move |from: usize, to: usize, bend: f64| {
            let (a, b) = at.with_value(|at| (at[from].get(), at[to].get()));
            let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt().max(1e-9);
            // Two opposite edges between the same nodes are drawn side by side.
            let (ox, oy) = (-(b.1 - a.1) / len * bend, (b.0 - a.0) / len * bend);
            let (a, b) = ((a.0 + ox, a.1 + oy), (b.0 + ox, b.1 + oy));
            let (wa, wb) = widths.with_value(|w| (w[from], w[to]));
            let start = box_exit(a, b, wa / 2.0, NODE_HEIGHT / 2.0);
            let end = box_exit(b, a, wb / 2.0 + 3.0, NODE_HEIGHT / 2.0 + 3.0);
            format!("M{:.1},{:.1} L{:.1},{:.1}", start.0, start.1, end.0, end.1)
        };
        let names = StoredValue::new(names);
        let name = move |i: usize| names.with_value(|n| n[i].clone());

        // Each edge reads a signal of its own, set from `edge_data` only when its values change:
        // with each edge's memos subscribed to the shared memos, every snapshot re-ran them all,
        // each unsubscribing from a list as long as the graph (O(edges²), most of the page's
        // time during a d = 50 run, which took CPU from the compute workers on two cores).
        let edge_view = move |key: EdgeKey| {
            let (from, to, directed) = key;
            let live = RwSignal::new(
                edge_data.with_untracked(|m| m.get(&key).copied().unwrap_or_default()),
            );
            edge_signals.update_value(|signals| {
                signals.insert(key, live);
            });
            on_cleanup(move || {
                edge_signals.try_update_value(|signals| {
                    if signals.get(&key) == Some(&live) {
                        signals.remove(&key);
                    }
                });
            });
            let look = Memo::new(move |_| {
                let EdgeLive { weight, status, .. } = live.get();
                let s = style(status, weight, by_truth.get());
                (s.color, s.dash, s.marker, s.word)
            });
            let bend = Memo::new(move |_| if live.with(|l| l.paired) { 6.0 } else { 0.0 });
            let path = Memo::new(move |_| endpoints(from, to, bend.get()));
            let label = if directed {
                format!("{}->{}", name(from), name(to))
            } else {
                format!("{}--{}", name(from), name(to))
            };
            let (from_name, to_name) = (name(from), name(to));
            let tooltip = move || {
                let weight = live.with(|l| l.weight);
                let word = look.with(|l| l.3);
                if directed {
                    format!("{from_name} → {to_name}: weight {weight:+.3} ({word})")
                } else {
                    format!("{from_name} — {to_name}: undirected, either direction fits the data equally well ({word})")
                }
            };
            // In tenths of a pixel: finer steps do not show, and each would be a DOM update.
            let stroke_width =
                Memo::new(move |_| format!("{:.1}", 1.2 + 3.3 * live.with(|l| l.width)));
            view! {
                <g class="edge" data-edge=label data-status=move || look.get().3>
                    <title>{tooltip}</title>
                    <path d=path fill="none" stroke="transparent" stroke-width="10" />
                    <path d=path fill="none"
                        stroke=move || look.get().0
                        stroke-dasharray=move || look.get().1
                        stroke-width=stroke_width
                        marker-end=move || if directed { format!("url(#arrow-{})", look.get().2) } else { String::new() } />
                </g>
            }
        };
        let missing_view = move |(from, to): (usize, usize)| {
            let label = format!("{}->{}", name(from), name(to));
            let title = format!(
                "{} → {}: in the true graph, not found",
                name(from),
                name(to)
            );
            view! {
                <g class="edge missing" data-truth-edge=label data-status="missing" style:display=move || if by_truth.get() { "inline" } else { "none" }>
                    <title>{title}</title>
                    <path d=move || endpoints(from, to, 0.0) fill="none" stroke=MISSING_COLOR
                        stroke-dasharray="6 4" stroke-width="1.5" marker-end="url(#arrow-missing)" />
                </g>
            }
        };
        let node_views = (0..names.with_value(|n| n.len()))
            .map(|idx| {
                let label = name(idx);
                let w = widths.with_value(|w| w[idx]);
                let aria = format!("{label}: drag, or use the arrow keys, to move it");
                let data_node = label.clone();
                view! {
                    <g class="node" tabindex="0" role="button" data-node=data_node
                        aria-label=aria
                        transform=move || { let (x, y) = at.with_value(|at| at[idx].get()); format!("translate({x:.1},{y:.1})") }
                        on:pointerdown=move |ev: web_sys::PointerEvent| {
                            use wasm_bindgen::JsCast;
                            if let Some(el) = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
                                let _ = el.set_pointer_capture(ev.pointer_id());
                            }
                            dragging.set(Some(ev.pointer_id()));
                        }
                        on:pointermove=move |ev: web_sys::PointerEvent| {
                            if dragging.get_untracked() == Some(ev.pointer_id()) {
                                if let Some(xy) = to_svg(ev.client_x() as f64, ev.client_y() as f64) {
                                    move_node(idx, xy);
                                }
                            }
                        }
                        on:pointerup=move |_| dragging.set(None)
                        on:keydown=move |ev: web_sys::KeyboardEvent| {
                            let (dx, dy) = match ev.key().as_str() {
                                "ArrowLeft" => (-10.0, 0.0),
                                "ArrowRight" => (10.0, 0.0),
                                "ArrowUp" => (0.0, -10.0),
                                "ArrowDown" => (0.0, 10.0),
                                _ => return,
                            };
                            ev.prevent_default();
                            let (x, y) = position(idx);
                            move_node(idx, (x + dx, y + dy));
                        }>
                        <rect x=-w / 2.0 y=-NODE_HEIGHT / 2.0 width=w height=NODE_HEIGHT rx="14"
                            fill="#ffffff" stroke="#334155" stroke-width="1.5" />
                        <text text-anchor="middle" dominant-baseline="central" font-size="13"
                            font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" fill="#0f172a">{label}</text>
                    </g>
                }
            })
            .collect_view();
        view! {
            <g class="missing-edges">
                <For each=move || missing.get() key=|e| *e children=missing_view />
            </g>
            <g class="edges">
                <For each=move || edge_keys.get() key=|k| *k children=edge_view />
            </g>
            <g class="nodes">{node_views}</g>
        }
    };

    let markers = MARKERS
        .iter()
        .map(|&(id, color)| view! {
            <marker id=format!("arrow-{id}") viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"
                markerUnits="userSpaceOnUse" orient="auto-start-reverse">
                <path d="M0,0 L10,5 L0,10 z" fill=color />
            </marker>
        })
        .collect_view();

    view! {
        <figure class="dag">
            <div class="dag-scroll" on:wheel=move |ev: web_sys::WheelEvent| {
                // Ctrl + wheel (also a trackpad's pinch) zooms the graph, not the page; a plain
                // wheel still scrolls.
                if ev.ctrl_key() && !fit.get_untracked() && ev.delta_y() != 0.0 {
                    ev.prevent_default();
                    zoom.update(|z| *z = zoom_step(*z, -ev.delta_y()));
                }
            }>
            <svg id="dag-svg" data-testid="dag" xmlns="http://www.w3.org/2000/svg" role="img"
                aria-label=move || format!("Learned graph: {} nodes, {} edges", names.with(|n| n.len()), n_edges())
                viewBox=move || { let (width, height) = frame.get(); format!("0 0 {width:.0} {height:.0}") }
                preserveAspectRatio="xMinYMin meet"
                width="100%" style=move || {
                    let (width, height) = frame.get();
                    let min = if fit.get() { 0.0 } else { 0.8 * width * zoom.get() };
                    format!("min-width: {min:.0}px; aspect-ratio: {width:.0} / {height:.0}")
                }>
                <defs>{markers}</defs>
                <rect width="100%" height="100%" fill="#ffffff" />
                {drawing}
            </svg>
            </div>
            <Legend has_truth=has_truth.into() by_truth=by_truth.into() cpdag=cpdag.into() />
        </figure>
    }
}

#[component]
fn Legend(has_truth: Signal<bool>, by_truth: Signal<bool>, cpdag: Signal<bool>) -> impl IntoView {
    let item = |color: &'static str, dash: &'static str, text: &'static str| {
        view! {
            <li><svg width="28" height="10" aria-hidden="true"><line x1="0" y1="5" x2="28" y2="5" stroke=color stroke-width="3" stroke-dasharray=dash /></svg>{text}</li>
        }
    };
    view! {
        <figcaption>
            <ul class="legend" data-testid="legend">
                {move || if by_truth.get() {
                    view! {
                        {item("#15803d", "", "correct")}
                        {item("#d97706", "", "reversed")}
                        {item("#7c3aed", "2 3", "extra (not in the true graph)")}
                        {item(MISSING_COLOR, "6 4", "missing (in the true graph, not found)")}
                    }.into_any()
                } else {
                    view! {
                        {item("#2563eb", "", "positive weight")}
                        {item("#dc2626", "", "negative weight")}
                    }.into_any()
                }}
                {move || cpdag.get().then(|| view! { <li>"line without arrow: undirected (either direction fits)"</li> })}
                <li class="muted">"width ∝ |weight| · hover an edge for its weight"</li>
            </ul>
            {move || (!has_truth.get()).then(|| view! { <p class="muted small">"Arrows point from cause to effect."</p> })}
        </figcaption>
    }
}
