//! The page: application state, the worker client, and the Leptos components.
//!
//! State is one [`AppState`] of signals provided as context; the page computes nothing heavy
//! (reading, preparing and learning all happen in the worker; layout and metrics here are
//! O(d²) on small graphs).

mod client;
mod dag_view;
mod data_panel;
mod discover;
mod download;
mod heatmap;
mod infer;
mod params;
mod share;

use std::rc::Rc;

use leptos::prelude::*;
use leptos::{ev, task::spawn_local};
use wasm_bindgen::JsCast;

use crate::causal::catalog::ALGORITHMS;
use crate::causal::knowledge::KnowledgeSpec;
use crate::causal::notears::NotearsParams;
use crate::causal::LearnedGraph;
use crate::data::csv_reader::{check_size, Prep};
use crate::data::synthetic::SyntheticParams;
use crate::jobs::default_prep;
use crate::protocol::{
    AlgorithmParams, DataSpec, Event, Inspection, Job, Shard, Snapshot, UserError, MAX_WORKERS,
};
use crate::run::Progress;
use crate::share::SharedData;
use client::WorkerClient;

/// The run states the page exposes on `[data-testid=run-state]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    Idle,
    Running,
    Done,
    Error,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Idle => "idle",
            RunStatus::Running => "running",
            RunStatus::Done => "done",
            RunStatus::Error => "error",
        }
    }
}

/// Everything the page shows, as signals; `Copy`, so closures capture it freely.
#[derive(Clone, Copy)]
pub struct AppState {
    pub data: RwSignal<Option<DataSpec>>,
    pub inspection: RwSignal<Option<Inspection>>,
    pub inspecting: RwSignal<bool>,
    pub load_error: RwSignal<Option<UserError>>,
    pub prep: RwSignal<Prep>,
    /// The chosen learner's id (see [`crate::causal::catalog::ALGORITHMS`]).
    pub algorithm: RwSignal<&'static str>,
    /// The settings of every learner, in catalogue order, so switching keeps edits.
    pub algo_params: RwSignal<Vec<AlgorithmParams>>,
    pub knowledge: RwSignal<KnowledgeSpec>,
    /// Slow motion for Discover runs: the worker's pause after each new estimate, in ms.
    pub pace_ms: RwSignal<u32>,
    pub status: RwSignal<RunStatus>,
    pub run_error: RwSignal<Option<UserError>>,
    pub notice: RwSignal<Option<String>>,
    pub progress: RwSignal<Option<Progress>>,
    pub live: RwSignal<Option<Snapshot>>,
    /// The run's training curves so far: each snapshot's curve quantities, in order.
    pub curve: RwSignal<crate::viz::plot::CurveColumns>,
    pub result: RwSignal<Option<LearnedGraph>>,
    pub inspect_job: RwSignal<Option<u32>>,
    pub run_job: RwSignal<Option<u32>>,
    pub threshold: RwSignal<f64>,
    /// When the current run started and, once done, how long it took (ms).
    pub started_ms: RwSignal<f64>,
    pub elapsed_ms: RwSignal<Option<f64>>,
    /// The worker's own time for the last run (data preparation + learning).
    pub compute_ms: RwSignal<Option<f64>>,
    /// The worker's idle-time warm-up has run to its end (`Event::WarmedUp`).
    pub warmed: RwSignal<bool>,
    pub client: StoredValue<Option<Rc<WorkerClient>>, LocalStorage>,
    /// The section on screen.
    pub tab: RwSignal<Tab>,
    /// The generator's settings in the Data panel.
    pub synthetic: RwSignal<SyntheticParams>,
    /// The data a link asked for, until it is loaded (at once for Sachs and generated data,
    /// after the download for the full Sachs file, when the user drops it for a file).
    pub link_data: RwSignal<Option<LinkData>>,
    /// A link asked to run once its data is ready.
    pub autorun: RwSignal<bool>,
    /// How the graph is shown (in links as `view.`): fitted to the panel, its zoom, edges
    /// coloured by the true graph, and the nodes the reader moved (by index in `graph_names`,
    /// the variables of the graph drawn).
    pub view_fit: RwSignal<bool>,
    pub view_zoom: RwSignal<f64>,
    pub truth_colors: RwSignal<bool>,
    pub node_overrides: RwSignal<Vec<Option<(f64, f64)>>>,
    pub graph_names: RwSignal<Vec<String>>,
    /// Node positions from a link, placed when a graph with all those nodes is drawn.
    pub link_nodes: RwSignal<Vec<(String, f64, f64)>>,
    /// A link's slider threshold, put in place of the learner's when its run is done.
    pub link_threshold: RwSignal<Option<f64>>,
    /// The slider's threshold was chosen by the reader (or a link), not set from the learner's.
    pub threshold_chosen: RwSignal<bool>,
}

/// Data a link asked for, and the preparation and background knowledge to use with it.
#[derive(Clone, Debug)]
pub struct LinkData {
    /// Never `SharedData::None`: a link without data waits for nothing.
    pub source: SharedData,
    pub prep: Prep,
    pub knowledge: KnowledgeSpec,
}

impl LinkData {
    /// Whether `spec` is the data the link asked for.
    fn is(&self, spec: &DataSpec) -> bool {
        match (&self.source, spec) {
            (SharedData::File(name), DataSpec::Csv { name: n, .. }) => name == n,
            (SharedData::Synthetic(p), DataSpec::Synthetic(q)) => p == q,
            (SharedData::Sachs, DataSpec::Sachs)
            | (SharedData::SachsFull, DataSpec::SachsFull { .. }) => true,
            _ => false,
        }
    }
}

impl AppState {
    fn new() -> Self {
        AppState {
            data: RwSignal::new(None),
            inspection: RwSignal::new(None),
            inspecting: RwSignal::new(false),
            load_error: RwSignal::new(None),
            prep: RwSignal::new(Prep::default()),
            algorithm: RwSignal::new(ALGORITHMS[0].id),
            algo_params: RwSignal::new(
                ALGORITHMS
                    .iter()
                    .filter_map(|a| AlgorithmParams::default_for(a.id))
                    .collect(),
            ),
            knowledge: RwSignal::new(KnowledgeSpec::default()),
            pace_ms: RwSignal::new(0),
            status: RwSignal::new(RunStatus::Idle),
            run_error: RwSignal::new(None),
            notice: RwSignal::new(None),
            progress: RwSignal::new(None),
            live: RwSignal::new(None),
            curve: RwSignal::new(Default::default()),
            result: RwSignal::new(None),
            inspect_job: RwSignal::new(None),
            run_job: RwSignal::new(None),
            threshold: RwSignal::new(NotearsParams::default().w_threshold),
            started_ms: RwSignal::new(0.0),
            elapsed_ms: RwSignal::new(None),
            compute_ms: RwSignal::new(None),
            warmed: RwSignal::new(false),
            client: StoredValue::new_local(None),
            tab: RwSignal::new(Tab::Discover),
            synthetic: RwSignal::new(SyntheticParams::default()),
            link_data: RwSignal::new(None),
            autorun: RwSignal::new(false),
            view_fit: RwSignal::new(false),
            view_zoom: RwSignal::new(1.0),
            truth_colors: RwSignal::new(true),
            node_overrides: RwSignal::new(Vec::new()),
            graph_names: RwSignal::new(Vec::new()),
            link_nodes: RwSignal::new(Vec::new()),
            link_threshold: RwSignal::new(None),
            threshold_chosen: RwSignal::new(false),
        }
    }

    /// The settings of the chosen learner.
    pub fn current_params(&self) -> AlgorithmParams {
        let id = self.algorithm.get();
        self.algo_params
            .with(|all| all.iter().find(|p| p.id() == id).cloned())
            .or_else(|| AlgorithmParams::default_for(id))
            .unwrap_or_else(|| AlgorithmParams::Notears(NotearsParams::default()))
    }

    /// The chosen learner's final threshold setting, if it has one.
    pub fn learner_threshold(&self) -> Option<f64> {
        crate::causal::catalog::info(self.algorithm.get())
            .and_then(|info| info.threshold_key)
            .and_then(|key| params::get(&self.current_params(), key))
    }

    pub fn current_params_untracked(&self) -> AlgorithmParams {
        untrack(|| self.current_params())
    }

    /// Changes one numeric setting of the chosen learner.
    pub fn set_param(&self, key: &str, value: f64) {
        let id = self.algorithm.get_untracked();
        self.algo_params.update(|all| {
            if let Some(p) = all.iter_mut().find(|p| p.id() == id) {
                if let Some(updated) = params::set(p, key, value) {
                    *p = updated;
                }
            }
        });
    }

    fn client(&self) -> Option<Rc<WorkerClient>> {
        self.client.get_value()
    }

    /// Applies one event from the worker; events of jobs the page no longer waits for are dropped.
    fn on_event(self, event: Event) {
        let is_run = |id: u32| self.run_job.get_untracked() == Some(id);
        let is_inspect = |id: u32| self.inspect_job.get_untracked() == Some(id);
        match event {
            Event::Inspected { job_id, inspection } if is_inspect(job_id) => {
                self.inspecting.set(false);
                self.inspection.set(Some(inspection));
            }
            Event::Failed { job_id, error } if is_inspect(job_id) => {
                self.inspecting.set(false);
                self.inspection.set(None);
                self.load_error.set(Some(error));
            }
            Event::Failed { job_id, error } if is_run(job_id) || job_id == 0 => {
                self.status.set(RunStatus::Error);
                self.run_error.set(Some(error));
            }
            Event::Progress { job_id, progress } if is_run(job_id) => {
                self.progress.set(Some(progress));
            }
            Event::Partial {
                job_id,
                mut snapshot,
            } if is_run(job_id) => {
                let points = std::mem::take(&mut snapshot.curve);
                if !points.is_empty() {
                    self.curve.update(|c| c.extend(points));
                }
                self.live.set(Some(snapshot));
            }
            Event::Done {
                job_id,
                result,
                compute_ms,
            } if is_run(job_id) => {
                self.compute_ms.set(Some(compute_ms));
                let threshold = untrack(|| self.learner_threshold()).unwrap_or(0.0);
                // A link's own threshold replaces the learner's once, for the run it opened.
                let link = self.link_threshold.get_untracked();
                if link.is_some() {
                    self.link_threshold.set(None);
                }
                self.threshold_chosen.set(link.is_some());
                self.threshold.set(link.unwrap_or(threshold));
                self.result.set(Some(result));
                self.elapsed_ms
                    .set(Some(js_sys::Date::now() - self.started_ms.get_untracked()));
                self.status.set(RunStatus::Done);
            }
            Event::WarmedUp => self.warmed.set(true),
            Event::Cancelled { job_id } if is_run(job_id) => {
                self.status.set(RunStatus::Idle);
                self.notice.set(Some("Run cancelled.".to_string()));
                self.run_job.set(None);
            }
            _ => {}
        }
    }

    /// Makes `spec` the current data: stops any run and asks the worker to describe it.
    pub fn load(self, spec: DataSpec) {
        self.cancel_run();
        self.prep.set(default_prep(&spec));
        self.knowledge.set(KnowledgeSpec::default());
        self.result.set(None);
        self.live.set(None);
        self.progress.set(None);
        self.load_error.set(None);
        self.run_error.set(None);
        self.notice.set(None);
        self.inspection.set(None);
        self.inspecting.set(true);
        self.status.set(RunStatus::Idle);
        // The data a link asked for gets the link's preparation and knowledge; other data
        // ends the link's wait (and its run on opening).
        if let Some(link) = self.link_data.get_untracked() {
            if link.is(&spec) {
                self.prep.set(link.prep);
                self.knowledge.set(link.knowledge);
            } else {
                self.autorun.set(false);
            }
            self.link_data.set(None);
        }
        self.data.set(Some(spec.clone()));
        if let Some(client) = self.client() {
            let job_id = client.start(Job::Inspect { data: spec });
            self.inspect_job.set(Some(job_id));
        }
    }

    /// Reads a file the user dropped or chose; the size is checked before reading.
    pub fn load_file(self, file: web_sys::File) {
        if let Err(e) = check_size(file.size() as u64) {
            self.cancel_run();
            self.data.set(None);
            self.inspection.set(None);
            self.load_error.set(Some(e.into()));
            return;
        }
        let name = file.name();
        spawn_local(async move {
            match wasm_bindgen_futures::JsFuture::from(file.array_buffer()).await {
                Ok(buffer) => {
                    let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
                    self.load(DataSpec::Csv { name, bytes });
                }
                Err(e) => self.load_error.set(Some(UserError::new(
                    "The file could not be read",
                    format!("{name}: {e:?}"),
                    "Check that the file still exists and that you may read it, then try again.",
                ))),
            }
        });
    }

    /// Fetches the full Sachs file from the site's own `data/` folder (a relative URL, so it
    /// works under any sub-path) and loads it; too large to embed in the worker.
    pub fn load_sachs_full(self) {
        self.cancel_run();
        self.load_error.set(None);
        self.inspecting.set(true);
        spawn_local(async move {
            match fetch_bytes("data/sachs_full.csv").await {
                Ok(bytes) => self.load(DataSpec::SachsFull { bytes }),
                Err(detail) => {
                    self.inspecting.set(false);
                    self.link_data.set(None);
                    self.load_error.set(Some(UserError::new(
                        "The example could not be loaded",
                        detail,
                        "The page fetches data/sachs_full.csv from the site it was opened \
                         from; check that the site is complete (or reload once online).",
                    )))
                }
            }
        });
    }

    pub fn start_run(self) {
        let Some(data) = self.data.get_untracked() else {
            self.run_error.set(Some(UserError::new(
                "No data yet",
                "there is nothing to learn from",
                "Drop a CSV file on the page, choose one, or pick an example first.",
            )));
            self.status.set(RunStatus::Error);
            return;
        };
        let Some(client) = self.client() else { return };
        self.result.set(None);
        self.live.set(None);
        self.curve.set(Default::default());
        self.run_error.set(None);
        self.notice.set(None);
        self.progress.set(Some(Progress {
            fraction: 0.0,
            label: "starting".to_string(),
        }));
        self.status.set(RunStatus::Running);
        self.elapsed_ms.set(None);
        self.compute_ms.set(None);
        self.started_ms.set(js_sys::Date::now());
        let job = Job::Learn {
            data,
            prep: self.prep.get_untracked(),
            algorithm: self.current_params_untracked(),
            knowledge: self.knowledge.get_untracked(),
            pace_ms: self.pace_ms.get_untracked(),
            shard: Shard {
                index: 0,
                count: job_workers(),
            },
        };
        let job_id = client.start(job);
        self.run_job.set(Some(job_id));
    }

    pub fn cancel_run(self) {
        if self.status.get_untracked() != RunStatus::Running {
            return;
        }
        if let (Some(client), Some(job_id)) = (self.client(), self.run_job.get_untracked()) {
            client.cancel(job_id);
        }
    }
}

/// The page's sections; only the active one's panel is in the DOM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Discover,
    Infer,
}

impl Tab {
    fn button_id(self) -> &'static str {
        match self {
            Tab::Discover => "tab-discover",
            Tab::Infer => "tab-infer",
        }
    }
}

/// How many workers a learning job may use: one per core, at most [`MAX_WORKERS`] (SDCD
/// splits its first stage across them, with the same result). `?workers=N` in the address
/// sets it (`?workers=1` keeps every job in one worker, to compare).
fn job_workers() -> u32 {
    let Some(window) = web_sys::window() else {
        return 1;
    };
    let asked = window.location().search().ok().and_then(|q| {
        let digits: String = q
            .split_once("workers=")?
            .1
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse::<u32>().ok()
    });
    let n = asked.unwrap_or_else(|| window.navigator().hardware_concurrency() as u32);
    n.clamp(1, MAX_WORKERS)
}

/// Mounts the page.
pub fn start() {
    console_error_panic_hook::set_once();
    mount_to_body(App);
}

#[component]
fn App() -> impl IntoView {
    let state = AppState::new();
    let client = WorkerClient::new(move |event| state.on_event(event));
    client.warm_up(job_workers() - 1);
    state.client.set_value(Some(client));
    provide_context(state);
    provide_context(infer::InferState::new());
    let infer = expect_context::<infer::InferState>();
    let tab = state.tab;
    share::restore_on_open(state, infer);

    let dragging = RwSignal::new(false);
    let _ = window_event_listener(ev::dragover, move |ev| {
        ev.prevent_default();
        dragging.set(true);
    });
    let _ = window_event_listener(ev::dragleave, move |ev| {
        if ev.related_target().is_none() {
            dragging.set(false);
        }
    });
    let _ = window_event_listener(ev::drop, move |ev| {
        ev.prevent_default();
        dragging.set(false);
        let file = ev
            .data_transfer()
            .and_then(|dt| dt.files())
            .and_then(|files| files.get(0));
        if let Some(file) = file {
            state.load_file(file);
        }
    });

    view! {
        <header class="top">
            <div class="brand">
                <span class="logo" aria-hidden="true">"⟶"</span>
                <h1>"Causeway"</h1>
                <span class="tagline">"causal discovery in your browser — your data never leaves this tab"</span>
            </div>
            <nav class="tabs" role="tablist" aria-label="Sections"
                on:keydown=move |ev: ev::KeyboardEvent| {
                    let next = match ev.key().as_str() {
                        "ArrowRight" | "ArrowLeft" => Some(match tab.get_untracked() {
                            Tab::Discover => Tab::Infer,
                            Tab::Infer => Tab::Discover,
                        }),
                        "Home" => Some(Tab::Discover),
                        "End" => Some(Tab::Infer),
                        _ => None,
                    };
                    if let Some(next) = next {
                        ev.prevent_default();
                        tab.set(next);
                        if let Some(el) = document().get_element_by_id(next.button_id()) {
                            if let Some(el) = el.dyn_ref::<web_sys::HtmlElement>() {
                                let _ = el.focus();
                            }
                        }
                    }
                }>
                <button role="tab" id="tab-discover" data-testid="tab-discover" aria-controls="panel"
                    aria-selected=move || (tab.get() == Tab::Discover).to_string()
                    tabindex=move || if tab.get() == Tab::Discover { "0" } else { "-1" }
                    class="tab" class:active=move || tab.get() == Tab::Discover
                    on:click=move |_| tab.set(Tab::Discover)>
                    "Discover"
                </button>
                <button role="tab" id="tab-infer" data-testid="tab-infer" aria-controls="panel"
                    aria-selected=move || (tab.get() == Tab::Infer).to_string()
                    tabindex=move || if tab.get() == Tab::Infer { "0" } else { "-1" }
                    class="tab" class:active=move || tab.get() == Tab::Infer
                    on:click=move |_| tab.set(Tab::Infer)>
                    "Infer"
                </button>
                <button role="tab" aria-selected="false" class="tab" disabled=true tabindex="-1"
                    title="The algorithm gallery is coming next">"Learn"</button>
            </nav>
            <share::ShareButton />
        </header>
        <share::LinkNotice />
        <main class="layout">
            <data_panel::DataPanel />
            <div id="panel" role="tabpanel" class="tab-panel"
                aria-labelledby=move || tab.get().button_id()>
                {move || match tab.get() {
                    Tab::Discover => view! { <discover::DiscoverPanel /> }.into_any(),
                    Tab::Infer => view! { <infer::InferPanel /> }.into_any(),
                }}
            </div>
        </main>
        <div class="drop-overlay" class:visible=move || dragging.get() aria-hidden="true">
            <p>"Drop a CSV file anywhere to load it"</p>
        </div>
        <footer class="foot">
            "Causeway runs entirely in this tab: files are read locally and nothing is uploaded."
        </footer>
    }
}

/// Run and Cancel with the run's state in words: the same controls and test hooks
/// (`run`, `cancel`, `run-state` with `data-state`) in every tab that runs something.
#[component]
pub fn RunControls(
    status: RwSignal<RunStatus>,
    notice: RwSignal<Option<String>>,
    elapsed_ms: RwSignal<Option<f64>>,
    /// The worker's own time, when the tab knows it (`data-compute-ms`).
    #[prop(optional)]
    compute_ms: Option<RwSignal<Option<f64>>>,
    /// Whether the worker's warm-up has finished (`data-warm`: `done` or `warming`), for
    /// benchmarks that time a first run the way a person reaches it, seconds after the page opened.
    #[prop(optional)]
    warmed: Option<RwSignal<bool>>,
    on_run: impl Fn() + 'static,
    on_cancel: impl Fn() + 'static,
) -> impl IntoView {
    let running = move || status.get() == RunStatus::Running;
    view! {
        <div class="run-row">
            <button class="button primary" data-testid="run" disabled=running
                on:click=move |_| on_run()>"Run"</button>
            <button class="button" data-testid="cancel" disabled=move || !running()
                on:click=move |_| on_cancel()>"Cancel"</button>
            <span class="run-state" data-testid="run-state" data-state=move || status.get().as_str()
                data-elapsed-ms=move || elapsed_ms.get().map(|ms| format!("{ms:.0}"))
                data-compute-ms=move || compute_ms.and_then(|c| c.get()).map(|ms| format!("{ms:.1}"))
                data-warm=move || warmed.map(|w| if w.get() { "done" } else { "warming" })
                role="status" aria-live="polite">
                {move || match status.get() {
                    RunStatus::Idle => notice.get().unwrap_or_else(|| "Ready".to_string()),
                    RunStatus::Running => "Running…".to_string(),
                    RunStatus::Done => match elapsed_ms.get() {
                        Some(ms) => format!("Done in {:.2} s", ms / 1000.0),
                        None => "Done".to_string(),
                    },
                    RunStatus::Error => "Stopped with an error".to_string(),
                }}
            </span>
        </div>
    }
}

/// Renders an error the way every part of the page does: title, detail naming the culprit, hint.
#[component]
pub fn ErrorBox(error: UserError) -> impl IntoView {
    view! {
        <div class="error" data-testid="error" role="alert">
            <strong>{error.title}</strong>
            <p class="detail">{error.detail}</p>
            <p class="hint">{error.hint}</p>
        </div>
    }
}

/// The value of the `<input>` or `<select>` an event came from.
/// The bytes at a URL relative to the page (same origin).
async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    use wasm_bindgen::JsCast;
    let window = web_sys::window().ok_or("no window")?;
    let response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| format!("{url}: {e:?}"))?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| "not a response")?;
    if !response.ok() {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    let buffer = response
        .array_buffer()
        .map_err(|e| format!("{url}: {e:?}"))?;
    let buffer = wasm_bindgen_futures::JsFuture::from(buffer)
        .await
        .map_err(|e| format!("{url}: {e:?}"))?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

pub fn target_value(ev: &web_sys::Event) -> String {
    ev.target()
        .and_then(|t| {
            t.dyn_ref::<web_sys::HtmlInputElement>()
                .map(|i| i.value())
                .or_else(|| t.dyn_ref::<web_sys::HtmlSelectElement>().map(|s| s.value()))
        })
        .unwrap_or_default()
}
