//! The Infer tab's controls: the model (in math and words, with its data binding) and the
//! method with its settings.

use leptos::prelude::*;

use super::{InferState, METHODS};
use crate::bayes::models::{MixtureData, MixtureSettings, ModelSpec, MODELS};
use crate::bayes::vi::AdviOptimizer;
use crate::ui::{target_value, AppState};

fn number(ev: &web_sys::Event) -> Option<f64> {
    target_value(ev)
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
}

/// The columns a regression may bind to: the loaded data's, minus dropped ones.
fn columns(app: AppState) -> Vec<String> {
    let names = app
        .inspection
        .with(|i| i.as_ref().map(|i| i.names.clone()))
        .unwrap_or_default();
    let prep = app.prep.get();
    names
        .into_iter()
        .filter(|n| !prep.drop_columns.contains(n) && prep.intervention_column.as_ref() != Some(n))
        .collect()
}

#[component]
pub fn ModelSettings() -> impl IntoView {
    let state = expect_context::<InferState>();
    view! {
        <div class="controls">
            <label>"Model "
                <select data-testid="model" on:change=move |ev| {
                    let id = target_value(&ev);
                    if let Some(m) = MODELS.iter().find(|m| m.id == id) {
                        state.model_id.set(m.id);
                    }
                }>
                    {MODELS.iter().map(|m| view! {
                        <option value=m.id selected=move || state.model_id.get() == m.id>{m.name}</option>
                    }).collect_view()}
                </select>
            </label>
            {move || {
                let spec = state.spec();
                let info = spec.info();
                view! {
                    <p class="muted small" data-testid="model-summary">{info.summary}</p>
                    <pre class="math" data-testid="model-math">{spec.math_with_settings()}</pre>
                }
            }}
            <ModelData />
        </div>
    }
}

/// The model's own data and priors: beta-binomial counts, regression bindings.
#[component]
fn ModelData() -> impl IntoView {
    let state = expect_context::<InferState>();
    let app = expect_context::<AppState>();
    let kind = Memo::new(move |_| state.model_id.get());
    move || match kind.get() {
        "beta-binomial" => {
            let field = move |label: &'static str,
                              testid: &'static str,
                              get: fn(&ModelSpec) -> f64,
                              set: fn(&mut ModelSpec, f64)| {
                view! {
                    <label>{label}
                        <input type="number" min="0" step="any" data-testid=testid
                            prop:value=move || get(&state.spec()).to_string()
                            on:change=move |ev| if let Some(v) = number(&ev) {
                                state.update_spec(|s| set(s, v));
                            } />
                    </label>
                }
            };
            view! {
                <div class="form-grid" data-testid="beta-binomial-data">
                    {field("Heads k", "bb-heads",
                        |s| if let ModelSpec::BetaBinomial(b) = s { b.heads as f64 } else { 0.0 },
                        |s, v| if let ModelSpec::BetaBinomial(b) = s { b.heads = v.max(0.0).round() as u64 })}
                    {field("Flips N", "bb-flips",
                        |s| if let ModelSpec::BetaBinomial(b) = s { b.flips as f64 } else { 0.0 },
                        |s, v| if let ModelSpec::BetaBinomial(b) = s { b.flips = v.max(0.0).round() as u64 })}
                    {field("Prior a", "bb-a",
                        |s| if let ModelSpec::BetaBinomial(b) = s { b.prior_a } else { 0.0 },
                        |s, v| if let ModelSpec::BetaBinomial(b) = s { b.prior_a = v })}
                    {field("Prior b", "bb-b",
                        |s| if let ModelSpec::BetaBinomial(b) = s { b.prior_b } else { 0.0 },
                        |s, v| if let ModelSpec::BetaBinomial(b) = s { b.prior_b = v })}
                </div>
            }
            .into_any()
        }
        "linear-regression" | "logistic-regression" => {
            view! { <RegressionBinding app /> }.into_any()
        }
        "mixture-1d" => view! { <MixtureBinding app /> }.into_any(),
        id => {
            let needs = MODELS
                .iter()
                .find(|m| m.id == id)
                .is_some_and(|m| m.needs_data);
            if needs {
                view! { <p class="muted small">"This model reads the loaded data set."</p> }
                    .into_any()
            } else {
                view! { <p class="muted small">"This model brings its own data; nothing to bind."</p> }.into_any()
            }
        }
    }
}

/// Access to the fields both regressions share.
struct Reg<'a> {
    outcome: &'a mut String,
    predictors: &'a mut Vec<String>,
    standardize: &'a mut bool,
    intercept_mean: &'a mut f64,
    intercept_sd: &'a mut f64,
    coef_sd: &'a mut f64,
    sigma_rate: Option<&'a mut f64>,
}

fn reg(spec: &mut ModelSpec) -> Option<Reg<'_>> {
    match spec {
        ModelSpec::LinearRegression(s) => Some(Reg {
            outcome: &mut s.outcome,
            predictors: &mut s.predictors,
            standardize: &mut s.standardize,
            intercept_mean: &mut s.intercept_prior_mean,
            intercept_sd: &mut s.intercept_prior_sd,
            coef_sd: &mut s.coef_prior_sd,
            sigma_rate: Some(&mut s.sigma_prior_rate),
        }),
        ModelSpec::LogisticRegression(s) => Some(Reg {
            outcome: &mut s.outcome,
            predictors: &mut s.predictors,
            standardize: &mut s.standardize,
            intercept_mean: &mut s.intercept_prior_mean,
            intercept_sd: &mut s.intercept_prior_sd,
            coef_sd: &mut s.coef_prior_sd,
            sigma_rate: None,
        }),
        _ => None,
    }
}

fn read<T>(state: InferState, f: impl FnOnce(Reg<'_>) -> T) -> Option<T> {
    let mut spec = state.spec();
    reg(&mut spec).map(f)
}

#[component]
fn RegressionBinding(app: AppState) -> impl IntoView {
    let state = expect_context::<InferState>();
    let cols = Memo::new(move |_| columns(app));
    // A fresh binding: outcome = last column, predictors = the others.
    Effect::new(move |_| {
        let cols = cols.get();
        if cols.len() < 2 {
            return;
        }
        let valid = untrack(|| {
            read(state, |r| {
                cols.contains(r.outcome) && r.predictors.iter().all(|p| cols.contains(p))
            })
        })
        .unwrap_or(true);
        if !valid || untrack(|| read(state, |r| r.outcome.is_empty()).unwrap_or(false)) {
            state.update_spec(|s| {
                if let Some(r) = reg(s) {
                    *r.outcome = cols[cols.len() - 1].clone();
                    *r.predictors = cols[..cols.len() - 1].to_vec();
                }
            });
        }
    });
    let prior = move |label: &'static str,
                      testid: &'static str,
                      pick: fn(Reg<'_>) -> Option<&mut f64>| {
        view! {
            <label>{label}
                <input type="number" step="any" data-testid=testid
                    prop:value=move || read(state, |r| pick(r).map(|v| v.to_string())).flatten().unwrap_or_default()
                    on:change=move |ev| if let Some(v) = number(&ev) {
                        state.update_spec(|s| if let Some(r) = reg(s) { if let Some(x) = pick(r) { *x = v } });
                    } />
            </label>
        }
    };
    view! {
        <div data-testid="regression-binding">
            <Show when=move || { cols.with(|c| c.len() >= 2) }
                fallback=|| view! { <p class="warning small">"Load a CSV with at least two numeric columns (left) to bind the regression to it."</p> }>
                <div class="form-grid">
                    <label>"Outcome"
                        <select data-testid="outcome" on:change=move |ev| {
                            let v = target_value(&ev);
                            state.update_spec(|s| if let Some(r) = reg(s) {
                                r.predictors.retain(|p| p != &v);
                                *r.outcome = v;
                            });
                        }>
                            {move || cols.get().into_iter().map(|c| {
                                let selected = read(state, |r| *r.outcome == c).unwrap_or(false);
                                view! { <option value=c.clone() selected=selected>{c.clone()}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                </div>
                <fieldset class="predictors" data-testid="predictors">
                    <legend class="small muted">"Predictors"</legend>
                    {move || {
                        let outcome = read(state, |r| r.outcome.clone()).unwrap_or_default();
                        cols.get().into_iter().filter(|c| *c != outcome).map(|c| {
                            let name = c.clone();
                            let checked = read(state, |r| r.predictors.contains(&c)).unwrap_or(false);
                            view! {
                                <label class="inline-check">
                                    <input type="checkbox" data-predictor=c.clone() prop:checked=checked
                                        on:change=move |_| {
                                            let name = name.clone();
                                            state.update_spec(|s| if let Some(r) = reg(s) {
                                                if let Some(i) = r.predictors.iter().position(|p| *p == name) {
                                                    r.predictors.remove(i);
                                                } else {
                                                    r.predictors.push(name);
                                                }
                                            });
                                        } />
                                    " "{c}
                                </label>
                            }
                        }).collect_view()
                    }}
                </fieldset>
                <label class="check">
                    <input type="checkbox" data-testid="reg-standardize"
                        prop:checked=move || read(state, |r| *r.standardize).unwrap_or(false)
                        on:change=move |_| state.update_spec(|s| if let Some(r) = reg(s) { *r.standardize = !*r.standardize }) />
                    " Standardize the columns first (priors are then on the standardized scale)"
                </label>
                <div class="form-grid">
                    {prior("Intercept prior mean", "prior-intercept-mean", |r| Some(r.intercept_mean))}
                    {prior("Intercept prior sd", "prior-intercept-sd", |r| Some(r.intercept_sd))}
                    {prior("Slope prior sd", "prior-coef-sd", |r| Some(r.coef_sd))}
                    {move || read(state, |r| r.sigma_rate.is_some()).unwrap_or(false).then(|| prior("σ prior rate", "prior-sigma-rate", |r| r.sigma_rate))}
                </div>
            </Show>
        </div>
    }
}

#[component]
pub fn MethodSettings() -> impl IntoView {
    let state = expect_context::<InferState>();
    let advi = move || InferState::is_advi(state.method.get());
    let int_field = move |label: &'static str,
                          testid: &'static str,
                          sig: RwSignal<usize>,
                          min: usize,
                          max: usize| {
        view! {
            <label>{label}
                <input type="number" min=min max=max step="1" data-testid=testid
                    prop:value=move || sig.get().to_string()
                    on:change=move |ev| if let Some(v) = number(&ev) {
                        sig.set((v.round().max(0.0) as usize).clamp(min, max));
                    } />
            </label>
        }
    };
    view! {
        <div class="controls">
            <label>"Method "
                <select data-testid="sampler" on:change=move |ev| {
                    let id = target_value(&ev);
                    if let Some((id, _)) = METHODS.iter().find(|(m, _)| *m == id) {
                        state.method.set(id);
                    }
                }>
                    {METHODS.iter().map(|(id, label)| view! {
                        <option value=*id selected=move || state.method.get() == *id>{*label}</option>
                    }).collect_view()}
                </select>
            </label>
            <div class="form-grid">
                <label>"Chains"
                    <input type="number" min="1" max="16" step="1" data-testid="chains"
                        disabled=advi
                        prop:value=move || state.chains.get().to_string()
                        on:change=move |ev| if let Some(v) = number(&ev) {
                            state.chains.set((v.round().max(1.0) as u32).min(16));
                        } />
                </label>
                <Show when=move || !advi()>
                    {int_field("Warm-up", "warmup", state.warmup, 0, 100_000)}
                </Show>
                {int_field("Draws", "draws", state.draws, 1, 100_000)}
                <label>"Seed"
                    <input type="number" min="0" step="1" data-testid="seed"
                        prop:value=move || state.seed.get().to_string()
                        on:change=move |ev| {
                            if let Ok(v) = target_value(&ev).trim().parse::<u64>() {
                                state.seed.set(v.min(super::MAX_SEED));
                            }
                        } />
                </label>
                <Show when=move || !advi()>
                        <label title="Empty = the method's default (0.8 for HMC and NUTS, 0.234 for random-walk Metropolis)">"Target acceptance"
                            <input type="number" min="0.05" max="0.99" step="0.01" data-testid="target-accept" placeholder="default"
                                prop:value=move || state.target_accept.get().map(|v| v.to_string()).unwrap_or_default()
                                on:change=move |ev| {
                                    let text = target_value(&ev);
                                    state.target_accept.set(text.trim().parse::<f64>().ok().filter(|v| *v > 0.0 && *v < 1.0));
                                } />
                        </label>
                </Show>
                <Show when=move || state.method.get() == "nuts" || state.method.get() == "hmc">
                    {int_field("Max tree depth", "max-depth", state.max_depth, 1, 15)}
                </Show>
                <label title="Initial values are drawn uniformly from (−r, r) on the unconstrained scale">"Initial radius"
                    <input type="number" min="0" step="0.1" data-testid="init-radius"
                        prop:value=move || state.init_radius.get().to_string()
                        on:change=move |ev| if let Some(v) = number(&ev) { state.init_radius.set(v.max(0.0)) } />
                </label>
            </div>
            <Show when=advi>
                <label title="Stan's adaptive step-size sequence (the ADVI paper, Kucukelbir et al. 2017) is the default; Adam (Kingma & Ba 2015) is the common alternative, less robust on badly scaled models. Both search the step size η first.">"Optimizer "
                    <select data-testid="advi-optimizer" on:change=move |ev| {
                        state.advi_optimizer.set(if target_value(&ev) == "stan-adaptive" {
                            AdviOptimizer::StanAdaptive
                        } else {
                            AdviOptimizer::Adam
                        });
                    }>
                        <option value="stan-adaptive" selected=move || state.advi_optimizer.get() == AdviOptimizer::StanAdaptive>"Stan's adaptive step-size sequence"</option>
                        <option value="adam" selected=move || state.advi_optimizer.get() == AdviOptimizer::Adam>"Adam"</option>
                    </select>
                </label>
                <p class="muted small">"ADVI fits one Gaussian approximation (one run, no chains); its draws come from that approximation, so R-hat and ESS say nothing about it. Compare with NUTS."</p>
            </Show>
        </div>
    }
}

/// Reads (or, with `f` mutating, edits) the mixture's settings in the current spec.
fn mixture<T>(spec: &mut ModelSpec, f: impl FnOnce(&mut MixtureSettings) -> T) -> Option<T> {
    match spec {
        ModelSpec::Mixture1d(m) => Some(f(m)),
        _ => None,
    }
}

/// A field of the generated data (`None` when the data is a column).
type GenField = fn(&mut MixtureData) -> Option<&mut f64>;

/// mixture-1d's data (generated with editable parameters, or a column of the loaded CSV) and
/// its priors.
#[component]
fn MixtureBinding(app: AppState) -> impl IntoView {
    let state = expect_context::<InferState>();
    let cols = Memo::new(move |_| columns(app));
    let source = move || {
        mixture(&mut state.spec(), |m| match &m.data {
            MixtureData::Column { name } => name.clone(),
            MixtureData::Generated { .. } => String::new(),
        })
        .unwrap_or_default()
    };
    let prior = move |label: &'static str,
                      testid: &'static str,
                      pick: fn(&mut MixtureSettings) -> &mut f64| {
        view! {
            <label>{label}
                <input type="number" step="any" data-testid=testid
                    prop:value=move || mixture(&mut state.spec(), |m| pick(m).to_string()).unwrap_or_default()
                    on:change=move |ev| if let Some(v) = number(&ev) {
                        state.update_spec(|s| { mixture(s, |m| *pick(m) = v); });
                    } />
            </label>
        }
    };
    let generated = move |label: &'static str, testid: &'static str, pick: GenField| {
        view! {
            <label>{label}
                <input type="number" step="any" data-testid=testid
                    prop:value=move || mixture(&mut state.spec(), |m| pick(&mut m.data).map(|v| v.to_string()))
                        .flatten().unwrap_or_default()
                    on:change=move |ev| if let Some(v) = number(&ev) {
                        state.update_spec(|s| { mixture(s, |m| if let Some(x) = pick(&mut m.data) { *x = v }); });
                    } />
            </label>
        }
    };
    // n and seed are integers; kept in the same form as f64 fields through these two.
    let integer = move |label: &'static str, testid: &'static str, is_seed: bool| {
        view! {
            <label>{label}
                <input type="number" min="0" step="1" data-testid=testid
                    prop:value=move || mixture(&mut state.spec(), |m| match &m.data {
                        MixtureData::Generated { n, seed, .. } => if is_seed { seed.to_string() } else { n.to_string() },
                        MixtureData::Column { .. } => String::new(),
                    }).unwrap_or_default()
                    on:change=move |ev| if let Some(v) = number(&ev) {
                        let v = v.max(0.0).round();
                        state.update_spec(|s| { mixture(s, |m| if let MixtureData::Generated { n, seed, .. } = &mut m.data {
                            if is_seed { *seed = v as u64 } else { *n = v as usize }
                        }); });
                    } />
            </label>
        }
    };
    view! {
        <div data-testid="mixture-binding">
            <label>"Data "
                <select data-testid="mixture-source" on:change=move |ev| {
                    let name = target_value(&ev);
                    state.update_spec(|s| { mixture(s, |m| {
                        m.data = if name.is_empty() {
                            MixtureData::default()
                        } else {
                            MixtureData::Column { name }
                        };
                    }); });
                }>
                    <option value="" selected=move || source().is_empty()>"generated: two Gaussian bumps"</option>
                    {move || cols.get().into_iter().map(|c| {
                        let selected = { let c = c.clone(); move || source() == c };
                        view! { <option value=c.clone() selected=selected>{format!("column “{c}” of the loaded data")}</option> }
                    }).collect_view()}
                </select>
            </label>
            <Show when=move || cols.with(|c| c.is_empty())>
                <p class="muted small">"Load a CSV (left) to fit the mixture to one of its columns."</p>
            </Show>
            <Show when=move || source().is_empty()>
                <div class="form-grid" data-testid="mixture-generated">
                    {integer("Points n", "mix-n", false)}
                    {generated("Mean 1", "mix-mean1", |d| match d { MixtureData::Generated { mean1, .. } => Some(mean1), _ => None })}
                    {generated("Sd 1", "mix-sd1", |d| match d { MixtureData::Generated { sd1, .. } => Some(sd1), _ => None })}
                    {generated("Mean 2", "mix-mean2", |d| match d { MixtureData::Generated { mean2, .. } => Some(mean2), _ => None })}
                    {generated("Sd 2", "mix-sd2", |d| match d { MixtureData::Generated { sd2, .. } => Some(sd2), _ => None })}
                    {generated("Weight of 1", "mix-weight", |d| match d { MixtureData::Generated { weight, .. } => Some(weight), _ => None })}
                    {integer("Seed", "mix-seed", true)}
                </div>
            </Show>
            <div class="form-grid">
                {prior("Means' prior mean", "mix-mu-mean", |m| &mut m.mu_prior_mean)}
                {prior("Means' prior sd", "mix-mu-sd", |m| &mut m.mu_prior_sd)}
                {prior("Sds' half-normal scale", "mix-sigma-scale", |m| &mut m.sigma_prior_scale)}
                {prior("Weight's Beta(c, c)", "mix-concentration", |m| &mut m.weight_prior_concentration)}
            </div>
        </div>
    }
}
