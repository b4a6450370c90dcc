//! The Discover panel: choose a learner and its parameters, run or cancel it, and see the graph
//! form, its comparison with the truth, the weight matrix and the exports.

use leptos::prelude::*;
use nalgebra::DMatrix;

use super::dag_view::{DagView, Scene};
use super::heatmap::Heatmap;
use super::{download, params, target_value, AppState, ErrorBox, RunControls};
use crate::causal::catalog::{self, ALGORITHMS};
use crate::causal::knowledge::KnowledgeSpec;
use crate::causal::{GraphKind, Rethreshold};
use crate::graph::DiGraph;
use crate::metrics::{compare, compare_with_true_cpdag};

/// A weighted graph the page can draw: the live estimate or the final result.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphModel {
    pub names: Vec<String>,
    /// Row-major d × d, unthresholded.
    pub weights: Vec<f64>,
    pub is_final: bool,
    pub kind: GraphKind,
    /// The learner's rule from weights to graph at a threshold (entrywise for live estimates).
    pub rule: Rethreshold,
}

impl GraphModel {
    pub fn matrix(&self, threshold: f64) -> DMatrix<f64> {
        let d = self.names.len();
        if self.weights.len() != d * d {
            return DMatrix::zeros(d, d);
        }
        self.rule
            .apply(&DMatrix::from_row_slice(d, d, &self.weights), threshold)
    }
}

#[component]
pub fn DiscoverPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let model = Memo::new(move |_| {
        let names = state.live.with(|l| l.as_ref().map(|s| s.names.clone()))?;
        if let Some(result) = state.result.get() {
            return Some(GraphModel {
                names,
                weights: result.raw_weights,
                is_final: true,
                kind: result.kind,
                rule: result.rethreshold,
            });
        }
        state.live.with(|l| {
            l.as_ref().map(|s| GraphModel {
                names: names.clone(),
                weights: s.weights.clone(),
                is_final: false,
                kind: s.kind,
                rule: Rethreshold::Entrywise,
            })
        })
    });
    let truth = Memo::new(move |_| {
        let names = model.with(|m| m.as_ref().map(|m| m.names.clone()))?;
        let edges = state
            .inspection
            .with(|i| i.as_ref().and_then(|i| i.truth.clone()))?;
        let index = |n: &String| names.iter().position(|x| x == n);
        let pairs: Vec<(usize, usize)> = edges
            .iter()
            .filter_map(|(a, b)| Some((index(a)?, index(b)?)))
            .collect();
        Some(DiGraph::from_edges(names.len(), &pairs))
    });
    let scene = Memo::new(move |previous: Option<&Option<Scene>>| {
        let model = model.get()?;
        let threshold = state.threshold.get();
        let previous = previous.and_then(|p| p.as_ref());
        Some(Scene::build(
            &model,
            threshold,
            truth.get().as_ref(),
            previous,
            js_sys::Date::now(),
        ))
    });
    let live = Memo::new(move |_| scene.with(|s| s.as_ref().is_some_and(|s| !s.is_final)));
    let cpdag =
        Memo::new(move |_| scene.with(|s| s.as_ref().is_some_and(|s| s.kind == GraphKind::Cpdag)));
    let graph_names =
        Memo::new(move |_| scene.with(|s| s.as_ref().map(|s| s.names.clone()).unwrap_or_default()));
    let graph_weights = Memo::new(move |_| {
        scene.with(|s| {
            s.as_ref()
                .map(|s| s.weights.clone())
                .unwrap_or_else(|| DMatrix::zeros(0, 0))
        })
    });
    let max_abs = Memo::new(move |_| {
        model.with(|m| {
            m.as_ref().map_or(1.0, |m| {
                m.weights
                    .iter()
                    .filter(|w| w.is_finite())
                    .fold(0.0_f64, |a, w| a.max(w.abs()))
            })
        })
    });
    // Node positions the user dragged, kept across live updates of the same variables; a
    // link's positions are placed on the first graph that has all their nodes.
    let overrides = state.node_overrides;
    let names_key = Memo::new(move |_| model.with(|m| m.as_ref().map(|m| m.names.clone())));
    Effect::new(move |_| {
        let names = names_key.get().unwrap_or_default();
        let mut placed = Vec::new();
        let pending = state.link_nodes.get_untracked();
        let index = |name: &str| names.iter().position(|n| n == name);
        if !pending.is_empty() && pending.iter().all(|(name, ..)| index(name).is_some()) {
            placed = vec![None; names.len()];
            for (name, x, y) in &pending {
                if let Some(i) = index(name) {
                    placed[i] = Some((*x, *y));
                }
            }
            state.link_nodes.set(Vec::new());
        }
        overrides.set(placed);
        state.graph_names.set(names);
    });
    let color_by_truth = state.truth_colors;
    // Shrink a wide graph to the panel's width (smaller labels) instead of scrolling it.
    let fit = state.view_fit;
    let zoom = state.view_zoom;
    // The reader's choice to show or hide the weight matrix, kept across live snapshots.
    let heatmap_open = RwSignal::new(None::<bool>);
    let number = move |ev: &web_sys::Event| target_value(ev).trim().parse::<f64>().ok();

    view! {
        <section class="panel discover" aria-labelledby="discover-heading">
            <h2 id="discover-heading">"2 · Discover a causal graph"</h2>
            <div class="controls">
                <div class="pickers">
                <label>"Algorithm "
                    <select data-testid="algorithm" aria-describedby="algo-help"
                        on:change=move |ev| {
                            let id = target_value(&ev);
                            if let Some(info) = catalog::info(&id) {
                                state.algorithm.set(info.id);
                            }
                        }>
                        {ALGORITHMS.iter().map(|a| view! {
                            <option value=a.id selected=move || state.algorithm.get() == a.id>
                                {format!("{} — {}", a.name, a.citation)}
                            </option>
                        }).collect_view()}
                    </select>
                </label>
                <label title="Pause after each new estimate so that fast learners (PC, GES, XGES) can be watched step by step">"Speed "
                    <select data-testid="pace" on:change=move |ev| {
                        state.pace_ms.set(target_value(&ev).parse().unwrap_or(0));
                    }>
                        {[(0u32, "full speed"), (300, "slow motion: 0.3 s per step"), (1000, "step by step: 1 s per step")]
                            .into_iter().map(|(ms, label)| view! {
                                <option value=ms.to_string() selected=move || state.pace_ms.get() == ms>{label}</option>
                            }).collect_view()}
                    </select>
                </label>
                </div>
                {move || {
                    let info = catalog::info(state.algorithm.get())?;
                    let output = match info.output {
                        GraphKind::Dag => "Returns a DAG (every edge directed).",
                        GraphKind::Cpdag => "Returns a CPDAG: the Markov equivalence class of DAGs that fit the data equally well (undirected edges could point either way).",
                    };
                    Some(view! {
                        <p id="algo-help" class="muted small" data-testid="algo-help">
                            {info.summary}" "{output}" "
                            "Paper: "<a href=info.paper_url target="_blank" rel="noopener" data-testid="paper-link">{info.paper_title}</a>
                        </p>
                        <div class="form-grid">
                            {info.fields.iter().map(|f| {
                                let key = f.key;
                                let integer = f.integer;
                                let is_threshold = info.threshold_key == Some(key);
                                view! {
                                    <label title=f.help>{f.label}
                                        <input type="number" min=f.min step=f.step data-testid=format!("param-{}", key.replace('_', "-"))
                                            prop:value=move || params::get(&state.current_params(), key).map(|v| v.to_string()).unwrap_or_default()
                                            on:change=move |ev| if let Some(v) = number(&ev) {
                                                let v = if integer { v.round().max(f.min) } else { v };
                                                state.set_param(key, v);
                                                if is_threshold {
                                                    state.threshold.set(v);
                                                    state.threshold_chosen.set(false);
                                                }
                                            } />
                                    </label>
                                }
                            }).collect_view()}
                        </div>
                    })
                }}
                <KnowledgeForm />
                <RunControls status=state.status notice=state.notice elapsed_ms=state.elapsed_ms
                    compute_ms=state.compute_ms warmed=state.warmed
                    on_run=move || state.start_run() on_cancel=move || state.cancel_run() />
                {move || state.progress.get().map(|p| view! {
                    <div class="progress" data-testid="progress">
                        <div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100"
                            aria-valuenow=format!("{:.0}", p.fraction * 100.0)>
                            <div class="fill" style=format!("width: {:.1}%", p.fraction * 100.0)></div>
                        </div>
                        <span class="small muted" data-testid="progress-label">{p.label}</span>
                    </div>
                })}
                <TrainingCurves />
                {move || state.run_error.get().map(|error| view! { <ErrorBox error /> })}
            </div>
            <Show when=move || model.with(|m| m.is_some())
                fallback=|| view! { <p class="muted empty-graph">"Load data, then press Run: the graph appears here as it is learned."</p> }>
                <div class="slider-row">
                    <label>"Show edges with |w| ≥ "
                        <input type="range" min="0" step="0.01" data-testid="threshold"
                            prop:max=move || format!("{:.2}", (max_abs.get() * 100.0).ceil() / 100.0 + 0.01)
                            prop:value=move || state.threshold.get().to_string()
                            on:input=move |ev| if let Some(v) = number(&ev) {
                                state.threshold.set(v);
                                state.threshold_chosen.set(true);
                            } />
                        <output>{move || format!("{:.2}", state.threshold.get())}</output>
                    </label>
                    <Toggle testid="dag-fit" value=fit label="Fit the graph to the panel" />
                    <Zoom zoom fit />
                    <Show when=move || truth.with(|t| t.is_some())>
                        <Toggle testid="color-by-truth" value=color_by_truth
                            label="Colour edges by comparison with the true graph" />
                    </Show>
                </div>
                <Show when=move || live.get()>
                    <p class="muted small" data-testid="live-note">{move || {
                        // The learner's own final threshold, when the slider shows another.
                        let own = state
                            .learner_threshold()
                            .filter(|own| (own - state.threshold.get()).abs() > 1e-12);
                        match own {
                            Some(own) => format!(
                                "Live estimate, drawn at |w| ≥ {:.2} — edges settle as the run goes on; the result is drawn at the learner's final threshold, {own}.",
                                state.threshold.get()
                            ),
                            None => "Live estimate — edges settle as the run goes on.".to_string(),
                        }
                    }}</p>
                </Show>
                <Show when=move || cpdag.get()>
                    <details class="cpdag-note small" data-testid="cpdag-note">
                        <summary>"This is a CPDAG: lines without arrows could point either way — the data cannot tell. What does that mean?"</summary>
                        <p>"From observational data alone, several DAGs can imply exactly the same conditional independences; they form a "
                           <em>"Markov equivalence class"</em>". For example A → B → C, A ← B ← C and A ← B → C all say only “A and C are independent given B”. "
                           "A CPDAG (completed partially directed acyclic graph) draws the edges every DAG in the class agrees on as arrows, and the others as plain lines. "
                           "Colliders such as A → B ← C are identifiable, and so are the arrows they force. Interventions or background knowledge can orient the rest. "
                           <a href="https://en.wikipedia.org/wiki/Causal_graph#Markov_equivalence" target="_blank" rel="noopener">"Read more"</a></p>
                    </details>
                </Show>
                <DagView scene overrides color_by_truth fit zoom />
                <Metrics scene />
                <Exports scene />
                <Heatmap names=graph_names.into() weights=graph_weights.into() open=heatmap_open />
            </Show>
        </section>
    }
}

/// The scores of the drawn graph against the true one, or its edge count when no truth is
/// known. Recomputed as live snapshots arrive, and shown anew only when a number changes.
#[component]
fn Metrics(scene: Memo<Option<Scene>>) -> impl IntoView {
    let scores = Memo::new(move |_| {
        scene.with(|s| {
            let s = s.as_ref()?;
            let Some(truth) = &s.truth else {
                return Some(Err(s.edges.len()));
            };
            let c = compare(truth, &s.graph());
            let cc = compare_with_true_cpdag(truth, &s.weights);
            let pct = |x: f64| format!("{:.0}%", 100.0 * x);
            Some(Ok([
                c.shd.to_string(),
                pct(c.precision),
                pct(c.recall),
                format!("{:.2}", c.f1),
                format!(
                    "{} · {} · {} · {}",
                    c.correct.len(),
                    c.reversed.len(),
                    c.extra.len(),
                    c.missing.len()
                ),
                cc.shd.to_string(),
                format!("{:.2}", cc.skeleton_f1),
            ]))
        })
    });
    let value = move |k: usize| {
        move || {
            scores.with(|s| match s {
                Some(Ok(v)) => v[k].clone(),
                _ => String::new(),
            })
        }
    };
    // Which of the two forms is shown (or none): rebuilt only when that changes, while the
    // numbers above update in place.
    let form = Memo::new(move |_| scores.with(|s| s.as_ref().map(|s| s.as_ref().err().copied())));
    move || {
        match form.get() {
        None => None,
        Some(Some(edges)) => Some(view! {
            <p class="muted small" data-testid="metrics">
                {format!("{edges} edges. No true graph is known for this data, so there is nothing to score against.")}
            </p>
        }.into_any()),
        Some(None) => Some(view! {
            <dl class="metrics" data-testid="metrics">
                <div><dt>"SHD"</dt><dd data-testid="shd">{value(0)}</dd></div>
                <div><dt>"precision"</dt><dd data-testid="precision">{value(1)}</dd></div>
                <div><dt>"recall"</dt><dd data-testid="recall">{value(2)}</dd></div>
                <div><dt>"F1"</dt><dd data-testid="f1">{value(3)}</dd></div>
                <div><dt>"correct · reversed · extra · missing"</dt><dd>{value(4)}</dd></div>
                <div><dt>"SHD between CPDAGs"</dt><dd data-testid="shd-cpdag">{value(5)}</dd></div>
                <div><dt>"skeleton F1"</dt><dd data-testid="skeleton-f1">{value(6)}</dd></div>
            </dl>
            <p class="muted small">"SHD (structural Hamming distance) counts the edge changes needed to turn the learned graph into the true one: each missing, extra or reversed edge counts 1 (an undirected edge counts as one correct and one extra arrow). "
                "SHD between CPDAGs compares what the data can identify: both graphs are first turned into their Markov equivalence classes, and each node pair whose edge differs in any way counts 1. Skeleton F1 ignores directions."</p>
        }.into_any()),
    }
    }
}

/// Export buttons; each reads the graph shown at the moment of the click.
#[component]
fn Exports(scene: Memo<Option<Scene>>) -> impl IntoView {
    let export = move |name: &'static str, mime: &'static str, write: fn(&Scene) -> String| {
        move |_| {
            if let Some(text) = scene.with_untracked(|s| s.as_ref().map(write)) {
                download::text(name, mime, &text);
            }
        }
    };
    let dot = export("causeway-graph.dot", "text/vnd.graphviz", |s| {
        crate::graph::export::to_dot(&s.names, &s.weights, &s.undirected())
    });
    let json = export("causeway-graph.json", "application/json", |s| {
        crate::graph::export::to_json(&s.names, &s.weights, &s.undirected())
    });
    let csv = export("causeway-adjacency.csv", "text/csv", |s| {
        crate::graph::export::to_adjacency_csv(&s.names, &s.weights)
    });
    view! {
        <div class="exports" role="group" aria-label="Export the graph">
            <span class="muted small">"Export: "</span>
            <button class="button small" data-testid="export-png" on:click=move |_| download::svg_as_png("dag-svg", "causeway-graph.png")>"PNG"</button>
            <button class="button small" data-testid="export-svg" on:click=move |_| download::svg("dag-svg", "causeway-graph.svg")>"SVG"</button>
            <button class="button small" data-testid="export-dot" on:click=dot>"DOT"</button>
            <button class="button small" data-testid="export-json" on:click=json>"JSON"</button>
            <button class="button small" data-testid="export-csv" on:click=csv>"CSV adjacency"</button>
        </div>
    }
}

/// Background knowledge: forbidden and required edges and tiers, by column name.
#[component]
fn KnowledgeForm() -> impl IntoView {
    let state = expect_context::<AppState>();
    let chosen = move || catalog::info(state.algorithm.get());
    let ignored = move || {
        chosen().is_some_and(|i| !i.uses_knowledge) && !state.knowledge.with(|k| k.is_empty())
    };
    // Required edges given to a learner that may leave them out.
    let required_not_forced = move || {
        chosen().is_some_and(|i| i.uses_knowledge && !i.forces_required)
            && state.knowledge.with(|k| !k.required.trim().is_empty())
    };
    let area = move |label: &'static str,
                     testid: &'static str,
                     placeholder: &'static str,
                     field: fn(&mut KnowledgeSpec) -> &mut String| {
        view! {
            <label class="knowledge-field">{label}
                <textarea rows="3" data-testid=testid placeholder=placeholder spellcheck="false"
                    prop:value=move || state.knowledge.with(|k| { let mut k = k.clone(); field(&mut k).clone() })
                    on:change=move |ev| {
                        let text = textarea_value(&ev);
                        state.knowledge.update(|k| *field(k) = text);
                    }></textarea>
            </label>
        }
    };
    view! {
        <details class="knowledge" data-testid="knowledge">
            <summary>"Background knowledge (optional)"</summary>
            <p class="muted small">"What you already know about the causal order, by column name. "</p>
            <p class="muted small" data-testid="knowledge-use">
                {move || chosen().map(|i| format!("{}: {}", i.name, i.knowledge_use))}</p>
            <div class="knowledge-grid">
                {area("Forbidden edges", "knowledge-forbidden", "one per line, e.g.\ncancer -> smoking", |k| &mut k.forbidden)}
                {area("Required edges", "knowledge-required", "one per line, e.g.\nsmoking -> cancer", |k| &mut k.required)}
                {area("Tiers", "knowledge-tiers", "one tier per line, earliest first, e.g.\nage, sex\nsmoking\ncancer", |k| &mut k.tiers)}
            </div>
            <Show when=ignored>
                <p class="warning small" data-testid="knowledge-ignored">"The chosen learner ignores background knowledge."</p>
            </Show>
            <Show when=required_not_forced>
                <p class="warning small" data-testid="knowledge-required-note">
                    {move || chosen().map(|i| format!("{} may leave a required edge out (see above); {} always keep them.", i.name, learners_keeping_required()))}</p>
            </Show>
        </details>
    }
}

/// "SDCD and PC": the learners whose results always contain the required edges.
fn learners_keeping_required() -> String {
    ALGORITHMS
        .iter()
        .filter(|a| a.forces_required)
        .map(|a| a.name)
        .collect::<Vec<_>>()
        .join(" and ")
}

fn textarea_value(ev: &web_sys::Event) -> String {
    use wasm_bindgen::JsCast;
    ev.target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
        .map(|t| t.value())
        .unwrap_or_default()
}

/// What each curve id means, for its title and tooltip.
fn curve_label(id: &str) -> (&'static str, &'static str) {
    match id {
        "loss" => ("loss", "SDCD's training loss: the Gaussian negative log-likelihood plus its L1/L2 penalties and, in stage 2, γ·ρ(A)"),
        "gamma" => ("γ", "SDCD's acyclicity weight: raised every epoch of stage 2 until the graph of A > 0.01 is acyclic, then frozen"),
        "spectral-radius" => ("ρ(A)", "SDCD's acyclicity measure: the spectral radius of A, zero exactly when the graph is acyclic"),
        "h" => ("h(W)", "NOTEARS' acyclicity measure tr(e^{W∘W}) − d: zero exactly on DAGs; each outer iteration must cut it to a quarter"),
        "rho" => ("ρ", "NOTEARS' penalty weight: multiplied by 10 whenever h does not fall fast enough"),
        "lsq-loss" => ("loss", "DAGMA's least-squares loss ½‖X − XW‖²/n: how badly each variable is predicted from the others through W"),
        "dagma-h" => ("h(W)", "DAGMA's acyclicity measure −log det(sI − W∘W) + d log s: zero exactly on DAGs; it falls as μ shrinks"),
        "mu" => ("μ", "DAGMA's weight on the loss: ×0.1 at each stage of the central path, so that acyclicity counts more and more"),
        _ => ("value", ""),
    }
}

/// Small line charts of the learner's curve quantities (one per snapshot), so a learner sees
/// the optimisation itself: SDCD's loss, γ and ρ(A); NOTEARS' h and ρ; DAGMA's loss, h and μ
/// (a dashed line where each of SDCD's or DAGMA's stages begins). The charts are built
/// once per run and only their path and caption change as points arrive; a long curve is
/// thinned to what its pixels show (`plot::curve_path`).
#[component]
fn TrainingCurves() -> impl IntoView {
    let state = expect_context::<AppState>();
    let (w, h) = (220.0, 70.0);
    let ids = Memo::new(move |_| {
        state.curve.with(|c| {
            if c.len() < 2 {
                Vec::new()
            } else {
                // "stage" is not a chart: it marks where each stage begins on all of them.
                c.ids.iter().filter(|id| *id != "stage").cloned().collect()
            }
        })
    });
    let chart = move |id: String| {
        let (label, about) = curve_label(&id);
        let drawn = Memo::new({
            let id = id.clone();
            move |_| {
                state.curve.with(|c| {
                    let values = c.column(&id).unwrap_or(&[]);
                    let last = values.iter().rev().find(|v| v.is_finite()).copied();
                    let (path, log, lo, hi) =
                        crate::viz::plot::curve_path(values, w, h).unwrap_or_default();
                    let stages = c
                        .column("stage")
                        .map(|s| crate::viz::plot::stage_starts(s, w))
                        .unwrap_or_default();
                    (path, log, lo, hi, last, values.len(), stages)
                })
            }
        });
        view! {
            <figure class="curve" data-testid="training-curve" data-metric=id.clone()
                data-points=move || drawn.with(|d| d.5.to_string()) title=about>
                <figcaption class="small">
                    {move || drawn.with(|d| format!("{label}{}: {}", if d.1 { " (log scale)" } else { "" },
                        d.4.map_or("–".into(), crate::viz::plot::readable)))}
                </figcaption>
                <svg viewBox=format!("-2 -2 {} {}", w + 4.0, h + 4.0) width=w height=h
                    role="img" aria-label=move || drawn.with(|d| format!("{label} over the run, from {} to {}",
                        crate::viz::plot::readable(d.2), crate::viz::plot::readable(d.3)))>
                    <rect x="0" y="0" width=w height=h class="curve-frame"></rect>
                    {move || drawn.with(|d| d.6.iter().map(|&(x, stage)| view! {
                        <line class="curve-stage" data-testid="stage-start" x1=format!("{x:.1}") x2=format!("{x:.1}")
                            y1="0" y2=h>
                            <title>{format!("stage {stage} begins")}</title>
                        </line>
                    }).collect_view())}
                    <path d=move || drawn.with(|d| d.0.clone()) class="curve-line"></path>
                </svg>
            </figure>
        }
    };
    view! {
        <Show when=move || ids.with(|i| !i.is_empty())>
            <div class="curves" data-testid="training-curves">
                <For each=move || ids.get() key=|id| id.clone() children=chart />
            </div>
            <p class="curves-export">
                <button class="button small" data-testid="export-curves"
                    title="Every point of the curves above, one row per estimate, to plot elsewhere"
                    on:click=move |_| {
                        let csv = state.curve.with_untracked(|c| c.to_csv());
                        download::text("causeway-curves.csv", "text/csv", &csv);
                    }>"Curves CSV"</button>
            </p>
        </Show>
    }
}

/// Zoom buttons for the graph at its legible size (off while it is fitted to the panel): −
/// and + step by a quarter, the middle one shows the level and goes back to 100 %. Ctrl + wheel
/// (a trackpad's pinch) over the graph does the same (`DagView`).
#[component]
fn Zoom(zoom: RwSignal<f64>, fit: RwSignal<bool>) -> impl IntoView {
    use super::dag_view::{zoom_step, ZOOM_RANGE};
    view! {
        <span class="zoom" role="group" aria-label="Zoom the graph">
            <button class="button small" data-testid="dag-zoom-out" title="Zoom out (or Ctrl + wheel over the graph)"
                aria-label="Zoom out"
                disabled=move || { fit.get() || zoom.get() <= ZOOM_RANGE.0 }
                on:click=move |_| zoom.update(|z| *z = zoom_step(*z, -1.0))>"−"</button>
            <button class="button small" data-testid="dag-zoom-reset" title="Back to 100 %"
                aria-label=move || format!("Zoom {:.0} %, back to 100 %", zoom.get() * 100.0)
                disabled=move || fit.get()
                on:click=move |_| zoom.set(1.0)>{move || format!("{:.0} %", zoom.get() * 100.0)}</button>
            <button class="button small" data-testid="dag-zoom-in" title="Zoom in (or Ctrl + wheel over the graph)"
                aria-label="Zoom in"
                disabled=move || { fit.get() || zoom.get() >= ZOOM_RANGE.1 }
                on:click=move |_| zoom.update(|z| *z = zoom_step(*z, 1.0))>"+"</button>
        </span>
    }
}

/// A labelled checkbox that flips a view setting.
#[component]
fn Toggle(testid: &'static str, value: RwSignal<bool>, label: &'static str) -> impl IntoView {
    view! {
        <label class="check">
            <input type="checkbox" data-testid=testid
                prop:checked=move || value.get()
                on:change=move |_| value.update(|v| *v = !*v) />
            " " {label}
        </label>
    }
}
