//! The Infer tab: pick a model, bind it to data, pick a method, run one chain per worker and
//! watch the posterior arrive; then the summary table, warnings in words, plots and exports.
//!
//! Its state is its own [`InferState`] (not the Discover `AppState`), provided as context by the
//! App so it survives tab switches. Chains run in a pool of [`WorkerClient`]s, one chain per
//! worker at a time; chains beyond the pool's size queue.

mod plots;
mod settings;
mod summary;

use std::rc::Rc;
use std::sync::Arc;

use leptos::prelude::*;

use super::client::WorkerClient;
use super::{AppState, ErrorBox, RunControls, RunStatus};
use crate::bayes::mcmc::{SamplerMethod, SamplerSettings, Trace};
use crate::bayes::models::{ModelSpec, MODELS};
use crate::bayes::vi::{AdviFamily, AdviOptimizer, AdviParams, ElboPoint};
use crate::diagnostics::{self, SamplerSummary, Summary, Warning};
use crate::protocol::{Event, InferMethod, Job, Ppc, UserError};
use crate::share::SharedInfer;

/// Recompute the summary and plots at most this often while draws stream in.
const REFRESH_MS: i32 = 300;
/// Seeds stay below 2^53 so they cross the worker boundary exactly as JS numbers.
const MAX_SEED: u64 = (1 << 53) - 1;

/// The methods of the `[data-testid=sampler]` select: id, label.
pub const METHODS: &[(&str, &str)] = &[
    ("nuts", "NUTS — No-U-Turn Sampler (Stan's default)"),
    ("hmc", "HMC — static-path Hamiltonian Monte Carlo"),
    ("rwmh", "Random-walk Metropolis"),
    ("advi-meanfield", "ADVI — mean-field Gaussian"),
    ("advi-fullrank", "ADVI — full-rank Gaussian"),
];

/// What the chain progress list shows for one chain.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainView {
    pub fraction: f64,
    pub label: String,
    /// The pool worker running it (None while queued).
    pub worker: Option<usize>,
    pub done: bool,
    /// Seconds per gradient evaluation, timed by the worker before the chain started.
    pub gradient_s: Option<f64>,
}

/// What the summary and the plots are drawn from; rebuilt at most every [`REFRESH_MS`].
#[derive(Debug, Clone)]
pub struct View {
    pub traces: Vec<Trace>,
    pub elbo: Vec<Vec<ElboPoint>>,
    pub summary: Summary,
    pub sampler: Option<SamplerSummary>,
    pub warnings: Vec<Warning>,
    pub is_final: bool,
}

/// One inference run's chain assignments.
#[derive(Default)]
struct Pool {
    clients: Vec<Rc<WorkerClient>>,
    /// (worker, job id, chain) of chains in flight.
    active: Vec<(usize, u32, u32)>,
    /// Chains not yet started.
    queue: Vec<u32>,
    /// The job each chain runs (its `chain` field set per chain).
    job: Option<Job>,
    traces: Vec<Trace>,
    elbo: Vec<Vec<ElboPoint>>,
    refresh_pending: bool,
    /// How long the last live refresh kept the main thread busy (its own work plus how late
    /// its timer fired, i.e. the rendering before it), so long runs refresh less often.
    refresh_cost_ms: f64,
    started_ms: f64,
}

#[derive(Clone, Copy)]
pub struct InferState {
    pub model_id: RwSignal<&'static str>,
    /// The settings of every model, so switching keeps edits.
    pub specs: RwSignal<Vec<ModelSpec>>,
    pub method: RwSignal<&'static str>,
    pub chains: RwSignal<u32>,
    pub warmup: RwSignal<usize>,
    pub draws: RwSignal<usize>,
    pub seed: RwSignal<u64>,
    /// Empty = the method's default.
    pub target_accept: RwSignal<Option<f64>>,
    pub max_depth: RwSignal<usize>,
    pub init_radius: RwSignal<f64>,
    pub advi_optimizer: RwSignal<AdviOptimizer>,
    pub status: RwSignal<RunStatus>,
    pub error: RwSignal<Option<UserError>>,
    pub notice: RwSignal<Option<String>>,
    pub chain_views: RwSignal<Vec<ChainView>>,
    pub workers_used: RwSignal<usize>,
    pub view: RwSignal<Option<Arc<View>>>,
    pub notes: RwSignal<Vec<String>>,
    pub ppc: RwSignal<Option<Ppc>>,
    pub elapsed_ms: RwSignal<Option<f64>>,
    /// The method and model of the run on screen (settings may change after it).
    pub ran_method: RwSignal<&'static str>,
    pub ran_model: RwSignal<Option<ModelSpec>>,
    pool: StoredValue<Pool, LocalStorage>,
}

/// `navigator.hardwareConcurrency` (2 when unknown).
fn hardware_concurrency() -> usize {
    let navigator = js_sys::Reflect::get(&js_sys::global(), &"navigator".into()).ok();
    navigator
        .and_then(|n| js_sys::Reflect::get(&n, &"hardwareConcurrency".into()).ok())
        .and_then(|v| v.as_f64())
        .filter(|v| v.is_finite() && *v >= 1.0)
        .map_or(2, |v| v as usize)
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

impl InferState {
    pub fn new() -> Self {
        // The opening settings are those a link leaves out (`crate::share`).
        let start = SharedInfer::default();
        InferState {
            model_id: RwSignal::new(start.model.id()),
            specs: RwSignal::new(
                MODELS
                    .iter()
                    .filter_map(|m| ModelSpec::default_for(m.id))
                    .collect(),
            ),
            method: RwSignal::new(
                METHODS
                    .iter()
                    .map(|(id, _)| *id)
                    .find(|id| *id == start.method)
                    .unwrap_or(METHODS[0].0),
            ),
            chains: RwSignal::new(start.chains),
            warmup: RwSignal::new(start.warmup),
            draws: RwSignal::new(start.draws),
            seed: RwSignal::new(start.seed),
            target_accept: RwSignal::new(start.target_accept),
            max_depth: RwSignal::new(start.max_depth),
            init_radius: RwSignal::new(start.init_radius),
            advi_optimizer: RwSignal::new(start.advi_optimizer),
            status: RwSignal::new(RunStatus::Idle),
            error: RwSignal::new(None),
            notice: RwSignal::new(None),
            chain_views: RwSignal::new(vec![]),
            workers_used: RwSignal::new(0),
            view: RwSignal::new(None),
            notes: RwSignal::new(vec![]),
            ppc: RwSignal::new(None),
            elapsed_ms: RwSignal::new(None),
            ran_method: RwSignal::new("nuts"),
            ran_model: RwSignal::new(None),
            pool: StoredValue::new_local(Pool::default()),
        }
    }

    /// The chosen model with its current settings.
    pub fn spec(&self) -> ModelSpec {
        let id = self.model_id.get();
        self.specs
            .with(|all| all.iter().find(|s| s.id() == id).cloned())
            .or_else(|| ModelSpec::default_for(id))
            .unwrap_or(ModelSpec::Banana)
    }

    pub fn update_spec(&self, f: impl FnOnce(&mut ModelSpec)) {
        let id = self.model_id.get_untracked();
        self.specs.update(|all| {
            if let Some(s) = all.iter_mut().find(|s| s.id() == id) {
                f(s);
            }
        });
    }

    pub fn is_advi(method: &str) -> bool {
        method.starts_with("advi")
    }

    fn method_params(&self) -> InferMethod {
        let method = self.method.get_untracked();
        let seed = self.seed.get_untracked().min(MAX_SEED);
        match method {
            "advi-meanfield" | "advi-fullrank" => InferMethod::Advi(AdviParams {
                family: if method == "advi-fullrank" {
                    AdviFamily::FullRank
                } else {
                    AdviFamily::MeanField
                },
                seed,
                output_draws: self.draws.get_untracked(),
                init_radius: self.init_radius.get_untracked(),
                optimizer: self.advi_optimizer.get_untracked(),
                ..AdviParams::default()
            }),
            _ => InferMethod::Mcmc(SamplerSettings {
                method: match method {
                    "rwmh" => SamplerMethod::Rwmh,
                    "hmc" => SamplerMethod::Hmc,
                    _ => SamplerMethod::Nuts,
                },
                n_warmup: self.warmup.get_untracked(),
                n_draws: self.draws.get_untracked(),
                seed,
                target_accept: self.target_accept.get_untracked(),
                max_tree_depth: self.max_depth.get_untracked(),
                init_radius: self.init_radius.get_untracked(),
                ..SamplerSettings::default()
            }),
        }
    }

    /// Starts every chain: one per worker, the rest queued.
    pub fn start(self, app: AppState) {
        self.cancel();
        let model = untrack(|| self.spec());
        let method = self.method_params();
        let n_chains = if Self::is_advi(self.method.get_untracked()) {
            1
        } else {
            self.chains.get_untracked().clamp(1, 16)
        };
        let mut prep = app.prep.get_untracked();
        // The regressions standardize on their own (their "standardize" option).
        prep.standardize = false;
        let data = app.data.get_untracked();
        let job = Job::Infer {
            model: model.clone(),
            data,
            prep,
            method,
            chain: 0,
        };
        let cores = hardware_concurrency();
        // One worker per chain, up to the number of cores (the bound); further chains wait.
        let n_workers = (n_chains as usize).min(cores.max(1));
        self.ran_method.set(self.method.get_untracked());
        self.ran_model.set(Some(model));
        self.error.set(None);
        self.notice.set(None);
        self.notes.set(vec![]);
        self.ppc.set(None);
        self.view.set(None);
        self.elapsed_ms.set(None);
        self.workers_used.set(n_workers);
        self.chain_views.set(
            (0..n_chains)
                .map(|_| ChainView {
                    fraction: 0.0,
                    label: "queued".into(),
                    worker: None,
                    done: false,
                    gradient_s: None,
                })
                .collect(),
        );
        self.status.set(RunStatus::Running);
        let have = self.pool.with_value(|pool| pool.clients.len());
        for w in have..n_workers {
            let client = WorkerClient::new(move |event| self.on_event(w, event));
            self.pool.update_value(|pool| pool.clients.push(client));
        }
        self.pool.update_value(|pool| {
            pool.active.clear();
            pool.queue = (0..n_chains).rev().collect();
            pool.job = Some(job);
            pool.traces = vec![Trace::default(); n_chains as usize];
            pool.elbo = vec![vec![]; n_chains as usize];
            pool.refresh_pending = false;
            pool.refresh_cost_ms = 0.0;
            pool.started_ms = now_ms();
        });
        for w in 0..n_workers {
            self.start_next(w);
        }
    }

    /// Gives worker `w` the next queued chain, if any.
    fn start_next(self, w: usize) {
        let next = self.pool.try_update_value(|pool| {
            let chain = pool.queue.pop()?;
            let mut job = pool.job.clone()?;
            if let Job::Infer { chain: c, .. } = &mut job {
                *c = chain;
            }
            let client = pool.clients.get(w)?.clone();
            Some((client, job, chain))
        });
        let Some(Some((client, job, chain))) = next else {
            return;
        };
        let job_id = client.start(job);
        self.pool
            .update_value(|pool| pool.active.push((w, job_id, chain)));
        self.chain_views.update(|v| {
            if let Some(c) = v.get_mut(chain as usize) {
                c.worker = Some(w);
                c.label = "starting".into();
            }
        });
    }

    /// Cancels every chain of the run.
    pub fn cancel(self) {
        let in_flight = self.pool.try_update_value(|pool| {
            pool.queue.clear();
            pool.active
                .iter()
                .filter_map(|&(w, job_id, _)| Some((pool.clients.get(w)?.clone(), job_id)))
                .collect::<Vec<_>>()
        });
        for (client, job_id) in in_flight.unwrap_or_default() {
            client.cancel(job_id);
        }
        if self.status.get_untracked() == RunStatus::Running {
            self.pool.update_value(|pool| pool.active.clear());
            self.status.set(RunStatus::Idle);
            self.notice.set(Some("Run cancelled.".into()));
            // The last summary of a long run can take a while: draw "cancelled" first.
            let callback =
                wasm_bindgen::closure::Closure::once_into_js(move || self.refresh(false));
            if let Some(window) = web_sys::window() {
                use wasm_bindgen::JsCast;
                let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                    callback.unchecked_ref(),
                    0,
                );
            }
        }
    }

    fn chain_of(&self, w: usize, job_id: u32) -> Option<u32> {
        self.pool.with_value(|pool| {
            pool.active
                .iter()
                .find(|&&(pw, id, _)| pw == w && id == job_id)
                .map(|&(_, _, c)| c)
        })
    }

    fn on_event(self, w: usize, event: Event) {
        match event {
            Event::Progress { job_id, progress } => {
                let Some(chain) = self.chain_of(w, job_id) else {
                    return;
                };
                self.chain_views.update(|v| {
                    if let Some(c) = v.get_mut(chain as usize) {
                        c.fraction = progress.fraction;
                        c.label = progress.label;
                    }
                });
            }
            Event::Draws {
                job_id,
                param_names,
                offset,
                draws,
                elbo,
                ..
            } => {
                let Some(chain) = self.chain_of(w, job_id) else {
                    return;
                };
                self.pool.update_value(|pool| {
                    if let Some(t) = pool.traces.get_mut(chain as usize) {
                        if t.param_names.is_empty() {
                            t.param_names = param_names;
                        }
                        t.draws.truncate(offset as usize);
                        t.draws.extend(draws);
                    }
                    if let Some(e) = pool.elbo.get_mut(chain as usize) {
                        e.extend(elbo);
                    }
                });
                self.schedule_refresh();
            }
            Event::InferDone { job_id, result, .. } => {
                let Some(chain) = self.chain_of(w, job_id) else {
                    return;
                };
                let result = *result;
                let all_done = self
                    .pool
                    .try_update_value(|pool| {
                        pool.active
                            .retain(|&(pw, id, _)| !(pw == w && id == job_id));
                        if let Some(t) = pool.traces.get_mut(chain as usize) {
                            *t = result.trace;
                        }
                        if let Some(e) = pool.elbo.get_mut(chain as usize) {
                            *e = result.elbo;
                        }
                        pool.active.is_empty() && pool.queue.is_empty()
                    })
                    .unwrap_or(false);
                if !result.notes.is_empty() {
                    self.notes.update(|n| {
                        for note in result.notes {
                            if !n.contains(&note) {
                                n.push(note);
                            }
                        }
                    });
                }
                if self.ppc.with_untracked(|p| p.is_none()) {
                    self.ppc.set(result.ppc);
                }
                self.chain_views.update(|v| {
                    if let Some(c) = v.get_mut(chain as usize) {
                        c.fraction = 1.0;
                        c.label = "done".into();
                        c.done = true;
                    }
                });
                if all_done {
                    let started = self.pool.with_value(|p| p.started_ms);
                    self.elapsed_ms.set(Some(now_ms() - started));
                    self.refresh(true);
                    self.status.set(RunStatus::Done);
                } else {
                    self.start_next(w);
                    self.schedule_refresh();
                }
            }
            Event::GradientCost {
                job_id, seconds, ..
            } => {
                let Some(chain) = self.chain_of(w, job_id) else {
                    return;
                };
                self.chain_views.update(|v| {
                    if let Some(c) = v.get_mut(chain as usize) {
                        c.gradient_s = Some(seconds);
                    }
                });
            }
            Event::Failed { job_id, error } => {
                if job_id != 0 && self.chain_of(w, job_id).is_none() {
                    return;
                }
                if self.status.get_untracked() != RunStatus::Running {
                    return;
                }
                self.pool.update_value(|pool| {
                    pool.active
                        .retain(|&(pw, id, _)| !(pw == w && id == job_id))
                });
                self.cancel();
                self.notice.set(None);
                self.error.set(Some(error));
                self.status.set(RunStatus::Error);
            }
            Event::Cancelled { job_id } => {
                self.pool.update_value(|pool| {
                    pool.active
                        .retain(|&(pw, id, _)| !(pw == w && id == job_id))
                });
            }
            _ => {}
        }
    }

    fn schedule_refresh(self) {
        let already = self
            .pool
            .try_update_value(|pool| std::mem::replace(&mut pool.refresh_pending, true))
            .unwrap_or(true);
        if already {
            return;
        }
        // The main thread stays at least ~80 % idle: the pause after a refresh is four times
        // what the previous one cost, and never shorter than REFRESH_MS.
        let cost = self.pool.with_value(|pool| pool.refresh_cost_ms);
        let delay = (REFRESH_MS as f64).max(4.0 * cost).min(10_000.0);
        let due = js_sys::Date::now() + delay;
        let callback = wasm_bindgen::closure::Closure::once_into_js(move || {
            let start = js_sys::Date::now();
            self.pool.update_value(|pool| pool.refresh_pending = false);
            if self.status.get_untracked() == RunStatus::Running {
                self.refresh(false);
            }
            let cost = (js_sys::Date::now() - start) + (start - due).max(0.0);
            self.pool.update_value(|pool| pool.refresh_cost_ms = cost);
        });
        if let Some(window) = web_sys::window() {
            use wasm_bindgen::JsCast;
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(
                callback.unchecked_ref(),
                delay as i32,
            );
        }
    }

    /// Recomputes the summary, warnings and plot data from the draws so far.
    fn refresh(self, is_final: bool) {
        let (traces, elbo) = self.pool.with_value(|p| (p.traces.clone(), p.elbo.clone()));
        let traces: Vec<Trace> = traces
            .into_iter()
            .filter(|t| !t.param_names.is_empty())
            .collect();
        if traces.is_empty() {
            return;
        }
        let summary = diagnostics::summarize(&traces);
        let sampler = if Self::is_advi(self.ran_method.get_untracked()) {
            None
        } else {
            Some(diagnostics::sampler_summary(
                &traces,
                self.max_depth.get_untracked(),
            ))
        };
        let warnings = if summary.n_draws > 0 {
            diagnostics::warnings(&summary, sampler.as_ref())
        } else {
            vec![]
        };
        self.view.set(Some(Arc::new(View {
            traces,
            elbo,
            summary,
            sampler,
            warnings,
            is_final,
        })));
    }
}

#[component]
pub fn InferPanel() -> impl IntoView {
    let state = expect_context::<InferState>();
    let app = expect_context::<AppState>();

    view! {
        <section class="panel infer" aria-labelledby="infer-heading">
            <h2 id="infer-heading">"2 · Infer: Bayesian inference"</h2>
            <settings::ModelSettings />
            <settings::MethodSettings />
            <RunControls status=state.status notice=state.notice elapsed_ms=state.elapsed_ms
                on_run=move || state.start(app) on_cancel=move || state.cancel() />
            {move || state.error.get().map(|error| view! { <ErrorBox error /> })}
            <ChainProgress />
            <summary::SummaryView />
            <plots::Plots />
        </section>
    }
}

/// Colours of chains 1, 2, ... (colour-blind safe, Okabe–Ito).
pub const CHAIN_COLORS: &[&str] = &[
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
];

pub fn chain_color(chain: usize) -> &'static str {
    CHAIN_COLORS[chain % CHAIN_COLORS.len()]
}

#[component]
fn ChainProgress() -> impl IntoView {
    let state = expect_context::<InferState>();
    view! {
        <Show when=move || state.chain_views.with(|v| !v.is_empty())>
            <div class="chain-progress" data-testid="chain-progress"
                data-workers=move || state.workers_used.get().to_string()
                aria-label="Progress of each chain">
                {move || state.chain_views.get().into_iter().enumerate().map(|(i, c)| {
                    let worker = c.worker.map(|w| format!("worker {}", w + 1)).unwrap_or_else(|| "queued".into());
                    view! {
                        <span data-chain=i.to_string()>{format!("Chain {} · {worker}", i + 1)}</span>
                        <div class="bar" role="progressbar" aria-valuemin="0" aria-valuemax="100"
                            aria-valuenow=format!("{:.0}", c.fraction * 100.0)>
                            <div class="fill" style=format!("width: {:.1}%; background: {}", c.fraction * 100.0, chain_color(i))></div>
                        </div>
                        <span class="muted">{c.label}</span>
                    }
                }).collect_view()}
            </div>
            <GradientCostNote />
        </Show>
    }
}

/// Stan's note before sampling: what one gradient evaluation costs and what that means for a
/// run, so a learner sees why a model with a costly gradient or long trajectories is slow.
#[component]
fn GradientCostNote() -> impl IntoView {
    let state = expect_context::<InferState>();
    let costs = move || {
        state
            .chain_views
            .with(|v| v.iter().filter_map(|c| c.gradient_s).collect::<Vec<_>>())
    };
    move || {
        let costs = costs();
        let median = {
            let mut sorted = costs.clone();
            sorted.sort_by(f64::total_cmp);
            *sorted.get(sorted.len() / 2)?
        };
        let per_chain = costs
            .iter()
            .map(|s| crate::viz::plot::format_seconds(*s))
            .collect::<Vec<_>>()
            .join(", ");
        Some(view! {
            <p class="muted gradient-cost" data-testid="gradient-cost"
                data-seconds=format!("{median:e}") data-chains=costs.len().to_string()>
                {format!(
                    "Gradient evaluation took {} (the median; per chain: {per_chain}). 1000 transitions using \
                     10 leapfrog steps per transition would take {}.",
                    crate::viz::plot::format_seconds(median),
                    crate::viz::plot::format_seconds(median * 10_000.0),
                )}
            </p>
        })
    }
}
