//! The Data panel: drop or choose a file, pick an example, see the preview and fix problems.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::{target_value, AppState, ErrorBox};
use crate::data::csv_reader::{Fix, Prep, Problem, MAX_FILE_BYTES};
use crate::data::synthetic::{GraphModel, Mechanism, NoiseScale};
use crate::protocol::{DataSpec, Inspection, UserError};

fn fix_applied(prep: &Prep, fix: &Fix) -> bool {
    match fix {
        Fix::DropColumn(name) => prep.drop_columns.contains(name),
        Fix::DropIncompleteRows => prep.drop_incomplete_rows,
    }
}

fn apply_fix(prep: &mut Prep, fix: &Fix) {
    match fix {
        Fix::DropColumn(name) => {
            if !prep.drop_columns.contains(name) {
                prep.drop_columns.push(name.clone());
            }
        }
        Fix::DropIncompleteRows => prep.drop_incomplete_rows = true,
    }
}

fn fix_label(fix: &Fix) -> String {
    match fix {
        Fix::DropColumn(name) => format!("Drop column “{name}”"),
        Fix::DropIncompleteRows => "Drop incomplete rows".to_string(),
    }
}

fn problem_title(problem: &Problem) -> &'static str {
    match problem {
        Problem::NonNumeric { .. } => "Not a number",
        Problem::Categorical { .. } => "A text (categorical) column",
        Problem::Missing { .. } => "Missing values",
        Problem::NonFinite { .. } => "Infinite values",
        Problem::Constant { .. } => "A constant column",
        Problem::AllMissing { .. } => "An empty column",
    }
}

#[component]
pub fn DataPanel() -> impl IntoView {
    let state = expect_context::<AppState>();
    let on_file = move |ev: web_sys::Event| {
        let input = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok());
        if let Some(input) = input {
            if let Some(file) = input.files().and_then(|f| f.get(0)) {
                state.load_file(file);
            }
            // Choosing the same file again must load it again.
            input.set_value("");
        }
    };
    view! {
        <section class="panel data" aria-labelledby="data-heading">
            <h2 id="data-heading">"1 · Data"</h2>
            <div class="dropzone">
                <p>"Drop a CSV file anywhere on the page, or"</p>
                <label class="button primary" tabindex="0"
                    on:keydown=move |ev: web_sys::KeyboardEvent| {
                        if ev.key() == "Enter" || ev.key() == " " {
                            ev.prevent_default();
                            if let Some(input) = document().get_element_by_id("file-input") {
                                if let Ok(input) = input.dyn_into::<web_sys::HtmlElement>() {
                                    input.click();
                                }
                            }
                        }
                    }>
                    "Choose a file…"
                    <input id="file-input" class="visually-hidden" type="file"
                        accept=".csv,.tsv,.txt,text/csv,text/plain" data-testid="file-input"
                        on:change=on_file />
                </label>
                <p class="muted small">
                    {format!("Comma, semicolon or tab separated; up to {} MB. Read in this tab only.", MAX_FILE_BYTES / 1024 / 1024)}
                </p>
            </div>
            <Examples />
            {move || state.load_error.get().map(|error| view! { <ErrorBox error /> })}
            {move || state.inspecting.get().then(|| view! { <p class="muted" data-testid="inspecting">"Reading…"</p> })}
            {move || state.inspection.get().map(|inspection| view! { <Preview inspection /> })}
        </section>
    }
}

#[component]
fn Examples() -> impl IntoView {
    let state = expect_context::<AppState>();
    let synthetic = state.synthetic;
    let number = move |ev: &web_sys::Event| target_value(ev).trim().parse::<f64>().ok();
    view! {
        <div class="examples">
            <h3>"Examples"</h3>
            <button class="button" data-testid="example-sachs" on:click=move |_| state.load(DataSpec::Sachs)>
                "Sachs et al. 2005 — protein signalling, 853 × 11, known graph"
            </button>
            <button class="button" data-testid="example-sachs-full" on:click=move |_| state.load_sachs_full()>
                "Sachs et al. 2005, all 9 conditions — 7466 × 11 with intervention targets (for SDCD)"
            </button>
            <details class="synthetic">
                <summary data-testid="example-synthetic-open">"Synthetic data with a known graph…"</summary>
                <div class="form-grid">
                    <label>"Nodes d"
                        <input type="number" min="2" max="200" data-testid="synthetic-d"
                            prop:value=move || synthetic.get().n_nodes.to_string()
                            on:change=move |ev| if let Some(v) = number(&ev) { synthetic.update(|p| p.n_nodes = v as usize) } />
                    </label>
                    <label>"Expected degree k"
                        <input type="number" min="0" step="0.5" data-testid="synthetic-k"
                            prop:value=move || synthetic.get().expected_degree.to_string()
                            on:change=move |ev| if let Some(v) = number(&ev) { synthetic.update(|p| p.expected_degree = v) } />
                    </label>
                    <label>"Rows n"
                        <input type="number" min="10" step="100" data-testid="synthetic-n"
                            prop:value=move || synthetic.get().n_rows.to_string()
                            on:change=move |ev| if let Some(v) = number(&ev) { synthetic.update(|p| p.n_rows = v as usize) } />
                    </label>
                    <label>"Seed"
                        <input type="number" min="0" data-testid="synthetic-seed"
                            prop:value=move || synthetic.get().seed.to_string()
                            on:change=move |ev| if let Some(v) = number(&ev) { synthetic.update(|p| p.seed = v.max(0.0) as u64) } />
                    </label>
                    <label>"Graph"
                        <select data-testid="synthetic-graph"
                            on:change=move |ev| {
                                let graph = if target_value(&ev) == "scale-free" { GraphModel::ScaleFree } else { GraphModel::ErdosRenyi };
                                synthetic.update(|p| p.graph = graph);
                            }>
                            <option value="erdos-renyi" selected=move || synthetic.with(|p| p.graph == GraphModel::ErdosRenyi)>"Erdős–Rényi"</option>
                            <option value="scale-free" selected=move || synthetic.with(|p| p.graph == GraphModel::ScaleFree)>"scale-free (Barabási–Albert)"</option>
                        </select>
                    </label>
                    <label>"Equations"
                        <select data-testid="synthetic-mechanism"
                            on:change=move |ev| {
                                let mechanism = if target_value(&ev) == "mlp" { Mechanism::Mlp } else { Mechanism::Linear };
                                synthetic.update(|p| p.mechanism = mechanism);
                            }>
                            <option value="linear" selected=move || synthetic.with(|p| p.mechanism == Mechanism::Linear)>"linear"</option>
                            <option value="mlp" selected=move || synthetic.with(|p| p.mechanism == Mechanism::Mlp)>"nonlinear (random tanh network)"</option>
                        </select>
                    </label>
                    <label>"Noise"
                        <select data-testid="synthetic-noise"
                            on:change=move |ev| {
                                let noise = if target_value(&ev) == "random" { NoiseScale::Random } else { NoiseScale::Equal };
                                synthetic.update(|p| p.noise = noise);
                            }>
                            <option value="equal" selected=move || synthetic.with(|p| p.noise == NoiseScale::Equal)>"N(0, 1) for all"</option>
                            <option value="random" selected=move || synthetic.with(|p| p.noise == NoiseScale::Random)>"random scales"</option>
                        </select>
                    </label>
                    <label>"Intervene on"
                        <input type="text" placeholder="e.g. X2, X5" data-testid="synthetic-targets"
                            prop:value=move || synthetic.get().intervention_targets
                            on:change=move |ev| synthetic.update(|p| p.intervention_targets = target_value(&ev)) />
                    </label>
                    <label>"Rows per intervention"
                        <input type="number" min="1" step="50" data-testid="synthetic-rows-per-intervention"
                            prop:value=move || synthetic.get().rows_per_intervention.to_string()
                            on:change=move |ev| if let Some(v) = number(&ev) { synthetic.update(|p| p.rows_per_intervention = v.max(0.0) as usize) } />
                    </label>
                </div>
                <p class="muted small">"Edge weights ±U(0.5, 2). An intervention sets a node to fresh N(0, 1) noise in its own block of rows, cutting it off from its parents; column “target” records which."</p>
                <button class="button" data-testid="example-synthetic"
                    on:click=move |_| state.load(DataSpec::Synthetic(synthetic.get_untracked()))>
                    "Generate"
                </button>
            </details>
        </div>
    }
}

#[component]
fn Preview(inspection: Inspection) -> impl IntoView {
    let state = expect_context::<AppState>();
    let Inspection {
        label,
        n_rows,
        names,
        summaries,
        problems,
        preview_rows,
        format,
        truth,
        notes,
    } = inspection;
    let n_cols = names.len();
    let problem_views = problems
        .into_iter()
        .map(|problem| {
            let fix = problem.fix();
            let blocks = problem.blocks();
            let message = problem.message();
            let title = problem_title(&problem);
            let hidden = {
                let fix = fix.clone();
                let column = problem.column().to_string();
                move || {
                    fix.as_ref()
                        .is_some_and(|f| state.prep.with(|p| fix_applied(p, f)))
                        || state
                            .prep
                            .with(|p| p.intervention_column.as_ref() == Some(&column))
                }
            };
            let button = fix.map(|f| {
                let label = fix_label(&f);
                view! {
                    <button class="button small" data-testid="fix"
                        on:click=move |_| state.prep.update(|p| apply_fix(p, &f))>{label}</button>
                }
            });
            let error = UserError::new(title, message, "");
            view! {
                <div class="problem" class:hidden=hidden>
                    {if blocks {
                        view! { <ErrorBox error /> }.into_any()
                    } else {
                        view! {
                            <div class="warning" data-testid="warning" role="status">
                                <strong>{error.title}</strong>
                                <p class="detail">{error.detail}</p>
                            </div>
                        }.into_any()
                    }}
                    {button}
                </div>
            }
        })
        .collect_view();
    let dropped = move || {
        state.prep.with(|p| p.drop_columns.clone()).into_iter().map(|name| {
            let restore = name.clone();
            view! {
                <li>{format!("“{name}” dropped ")}
                    <button class="link" on:click=move |_| state.prep.update(|p| p.drop_columns.retain(|c| c != &restore))>"restore"</button>
                </li>
            }
        }).collect_view()
    };
    let truth_note = truth.map(|edges| format!("Known true graph: {} edges.", edges.len()));
    // Four significant digits (a column of 1e-5s is not all 0.000, nor one of 1e7s a
    // panel-widening 10000000.000); the full value is the cell's tooltip.
    let fmt = |x: f64| {
        let text = if x.is_finite() {
            crate::viz::plot::readable(x)
        } else {
            "—".to_string()
        };
        view! { <td title=x.is_finite().then(|| x.to_string())>{text}</td> }
    };
    let summary_rows = summaries
        .into_iter()
        .map(|s| {
            view! {
                <tr data-column=s.name.clone()>
                    <th scope="row">{s.name.clone()}</th><td>{s.kind.clone()}</td>
                    {fmt(s.mean)}{fmt(s.sd)}{fmt(s.min)}{fmt(s.max)}
                    <td>{s.n_missing}</td>
                </tr>
            }
        })
        .collect_view();
    let header = names
        .iter()
        .map(|n| view! { <th scope="col">{n.clone()}</th> })
        .collect_view();
    let rows = preview_rows
        .into_iter()
        .map(|row| view! { <tr>{row.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}</tr> })
        .collect_view();
    view! {
        <div class="preview" data-testid="preview">
            <p class="dataset-title"><strong>{label}</strong></p>
            <p data-testid="shape">{format!("{n_rows} rows × {n_cols} columns · {format}")}</p>
            {truth_note.map(|t| view! { <p class="muted">{t}</p> })}
            {notes.into_iter().map(|n| view! { <p class="note">{n}</p> }).collect_view()}
            {problem_views}
            <ul class="dropped">{dropped}</ul>
            <label class="check">
                <input type="checkbox" data-testid="standardize"
                    prop:checked=move || state.prep.with(|p| p.standardize)
                    on:change=move |ev| {
                        let checked = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()).is_some_and(|i| i.checked());
                        state.prep.update(|p| p.standardize = checked);
                    } />
                " Standardize each column (mean 0, sd 1) before learning"
            </label>
            <label class="intervention-column">"Intervention targets in column "
                <select data-testid="intervention-column"
                    on:change=move |ev| {
                        let name = target_value(&ev);
                        state.prep.update(|p| p.intervention_column = (!name.is_empty()).then_some(name));
                    }>
                    <option value="" selected=move || state.prep.with(|p| p.intervention_column.is_none())>"none (observational data)"</option>
                    {names.iter().map(|n| {
                        let value = n.clone();
                        let selected = n.clone();
                        view! { <option value=value selected=move || state.prep.with(|p| p.intervention_column.as_ref() == Some(&selected))>{n.clone()}</option> }
                    }).collect_view()}
                </select>
                <span class="muted small">" — each row names the variable(s) set by an experiment (empty or “obs” for none); used by SDCD"</span>
            </label>
            <details open=true>
                <summary>"Columns"</summary>
                <div class="table-scroll">
                    <table class="summary" data-testid="columns">
                        <thead><tr><th>"column"</th><th>"type"</th><th>"mean"</th><th>"sd"</th><th>"min"</th><th>"max"</th><th>"missing"</th></tr></thead>
                        <tbody>{summary_rows}</tbody>
                    </table>
                </div>
            </details>
            <details>
                <summary>"First rows"</summary>
                <div class="table-scroll">
                    <table class="rows"><thead><tr>{header}</tr></thead><tbody>{rows}</tbody></table>
                </div>
            </details>
        </div>
    }
}
