//! The DAG view: a layered SVG drawing of the learned graph, edges styled by sign or by their
//! comparison with the true graph, weights on hover, nodes draggable by pointer or arrow keys.

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
    pub layout: Layout,
    pub is_final: bool,
    pub max_abs: f64,
    pub kind: GraphKind,
}

impl Scene {
    pub fn build(model: &GraphModel, threshold: f64, truth: Option<&DiGraph>) -> Scene {
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
        let layout = layered_layout(&drawn, &undirected);
        let max_abs = edges.iter().fold(0.0_f64, |m, e| m.max(e.weight.abs()));
        Scene {
            names: model.names.clone(),
            weights,
            edges,
            missing,
            truth: truth.cloned(),
            layout,
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

/// The graph's zoom levels, as factors of its legible size.
pub const ZOOM_RANGE: (f64, f64) = (0.5, 4.0);

/// The zoom level one step in or out (`dir` > 0 or < 0) from `z`: ×1.25 or ÷1.25, kept in
/// [`ZOOM_RANGE`] and rounded to whole percents so that steps back land where they started.
pub fn zoom_step(z: f64, dir: f64) -> f64 {
    let next = if dir > 0.0 { z * 1.25 } else { z / 1.25 };
    (next * 100.0)
        .round()
        .clamp(ZOOM_RANGE.0 * 100.0, ZOOM_RANGE.1 * 100.0)
        / 100.0
}

#[component]
pub fn DagView(
    scene: Scene,
    overrides: RwSignal<Vec<Option<(f64, f64)>>>,
    color_by_truth: RwSignal<bool>,
    /// Shrink to the panel's width rather than keep labels at a legible size and scroll.
    fit: RwSignal<bool>,
    /// Factor on the legible size when not fitted; Ctrl + wheel over the graph steps it.
    zoom: RwSignal<f64>,
) -> impl IntoView {
    let n = scene.names.len();
    let (width, height) = (scene.layout.width.max(120.0), scene.layout.height.max(80.0));
    let base: Vec<(f64, f64)> = scene.layout.positions.iter().map(|p| (p.x, p.y)).collect();
    let base = StoredValue::new(base);
    let position = move |idx: usize| {
        overrides
            .with(|o| o.get(idx).copied().flatten())
            .unwrap_or_else(|| base.with_value(|b| b[idx]))
    };
    let widths: Vec<f64> = scene.names.iter().map(|s| node_width(s)).collect();
    let widths = StoredValue::new(widths);
    let has_truth = scene.truth.is_some();
    let by_truth = move || has_truth && color_by_truth.get();
    let max_abs = scene.max_abs.max(1e-9);
    let pair_shown = {
        let g = scene.graph();
        move |a: usize, b: usize| g.has_edge(b, a) && g.has_edge(a, b)
    };

    let endpoints = move |from: usize, to: usize, bend: f64| {
        let (a, b) = (position(from), position(to));
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt().max(1e-9);
        // Two opposite edges between the same nodes are drawn side by side.
        let (ox, oy) = (-(b.1 - a.1) / len * bend, (b.0 - a.0) / len * bend);
        let (a, b) = ((a.0 + ox, a.1 + oy), (b.0 + ox, b.1 + oy));
        let (wa, wb) = widths.with_value(|w| (w[from], w[to]));
        let start = box_exit(a, b, wa / 2.0, NODE_HEIGHT / 2.0);
        let end = box_exit(b, a, wb / 2.0 + 3.0, NODE_HEIGHT / 2.0 + 3.0);
        format!("M{:.1},{:.1} L{:.1},{:.1}", start.0, start.1, end.0, end.1)
    };

    let names = scene.names.clone();
    let edge_views = scene
        .edges
        .iter()
        .map(|e| {
            let (from, to, weight, status, directed) = (e.from, e.to, e.weight, e.status, e.directed);
            let bend = if directed && pair_shown(from, to) { 6.0 } else { 0.0 };
            let label = if directed {
                format!("{}->{}", names[from], names[to])
            } else {
                format!("{}--{}", names[from], names[to])
            };
            let (from_name, to_name) = (names[from].clone(), names[to].clone());
            let tooltip = move || {
                let s = style(status, weight, by_truth());
                if directed {
                    format!("{from_name} → {to_name}: weight {weight:+.3} ({})", s.word)
                } else {
                    format!("{from_name} — {to_name}: undirected, either direction fits the data equally well ({})", s.word)
                }
            };
            let stroke_width = format!("{:.2}", 1.2 + 3.3 * (weight.abs() / max_abs).min(1.0));
            view! {
                <g class="edge" data-edge=label data-status=move || style(status, weight, by_truth()).word>
                    <title>{tooltip}</title>
                    <path d=move || endpoints(from, to, bend) fill="none" stroke="transparent" stroke-width="10" />
                    <path d=move || endpoints(from, to, bend) fill="none"
                        stroke=move || style(status, weight, by_truth()).color
                        stroke-dasharray=move || style(status, weight, by_truth()).dash
                        stroke-width=stroke_width.clone()
                        marker-end=move || if directed { format!("url(#arrow-{})", style(status, weight, by_truth()).marker) } else { String::new() } />
                </g>
            }
        })
        .collect_view();
    let missing_views = scene
        .missing
        .iter()
        .map(|&(from, to)| {
            let label = format!("{}->{}", names[from], names[to]);
            let title = format!("{} → {}: in the true graph, not found", names[from], names[to]);
            view! {
                <g class="edge missing" data-truth-edge=label data-status="missing" style:display=move || if by_truth() { "inline" } else { "none" }>
                    <title>{title}</title>
                    <path d=move || endpoints(from, to, 0.0) fill="none" stroke=MISSING_COLOR
                        stroke-dasharray="6 4" stroke-width="1.5" marker-end="url(#arrow-missing)" />
                </g>
            }
        })
        .collect_view();

    let dragging = RwSignal::new(None::<i32>);
    let move_node = move |idx: usize, xy: (f64, f64)| {
        let xy = (xy.0.clamp(0.0, width), xy.1.clamp(0.0, height));
        overrides.update(|o| {
            if o.len() < n {
                o.resize(n, None);
            }
            o[idx] = Some(xy);
        });
    };
    let to_svg = move |client_x: f64, client_y: f64| {
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
    let node_views = (0..n)
        .map(|idx| {
            let name = scene.names[idx].clone();
            let w = widths.with_value(|w| w[idx]);
            let aria = format!("{name}: drag, or use the arrow keys, to move it");
            let data_node = name.clone();
            view! {
                <g class="node" tabindex="0" role="button" data-node=data_node
                    aria-label=aria
                    transform=move || { let (x, y) = position(idx); format!("translate({x:.1},{y:.1})") }
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
                        font-family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif" fill="#0f172a">{name}</text>
                </g>
            }
        })
        .collect_view();

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
                aria-label=format!("Learned graph: {} nodes, {} edges", n, scene.edges.len())
                viewBox=format!("0 0 {width:.0} {height:.0}") preserveAspectRatio="xMinYMin meet"
                width="100%" style=move || {
                    let min = if fit.get() { 0.0 } else { 0.8 * width * zoom.get() };
                    format!("min-width: {min:.0}px; aspect-ratio: {width:.0} / {height:.0}")
                }>
                <defs>{markers}</defs>
                <rect width="100%" height="100%" fill="#ffffff" />
                <g class="missing-edges">{missing_views}</g>
                <g class="edges">{edge_views}</g>
                <g class="nodes">{node_views}</g>
            </svg>
            </div>
            <Legend has_truth by_truth=Signal::derive(by_truth) cpdag=scene.kind == GraphKind::Cpdag />
        </figure>
    }
}

#[component]
fn Legend(has_truth: bool, by_truth: Signal<bool>, cpdag: bool) -> impl IntoView {
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
                {cpdag.then(|| view! { <li>"line without arrow: undirected (either direction fits)"</li> })}
                <li class="muted">"width ∝ |weight| · hover an edge for its weight"</li>
            </ul>
            {(!has_truth).then(|| view! { <p class="muted small">"Arrows point from cause to effect."</p> })}
        </figcaption>
    }
}
