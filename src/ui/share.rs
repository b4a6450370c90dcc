//! Shareable links on the page: the header's "Share link" button writes the page's settings
//! into the address bar's fragment (see [`crate::share`] for the format) and copies it; a page
//! opened with such a fragment (or whose fragment changes) takes those settings, loads the data
//! they name and, if the link says so, runs once the data is ready.

use leptos::prelude::*;
use leptos::{ev, task::spawn_local};
use wasm_bindgen::{JsCast, JsValue};

use super::infer::{InferState, METHODS};
use super::{AppState, LinkData, RunStatus, Tab};
use crate::bayes::models::MODELS;
use crate::causal::catalog::ALGORITHMS;
use crate::protocol::DataSpec;
use crate::share::{
    decode_with, encode_with, SharedData, SharedInfer, SharedState, SharedView, Tree,
};

/// [`Tree`] through JavaScript values: serde-wasm-bindgen (which the worker messages already
/// compile every settings type for) and the browser's `JSON`, so the link adds no serde_json
/// code per settings type to the page.
struct Js;

impl Tree for Js {
    fn to_tree<T: serde::Serialize>(value: &T) -> serde_json::Value {
        let serializer = serde_wasm_bindgen::Serializer::json_compatible();
        value
            .serialize(&serializer)
            .ok()
            .and_then(|js| js_sys::JSON::stringify(&js).ok())
            .and_then(|text| text.as_string())
            .and_then(|text| serde_json::from_str(&text).ok())
            .unwrap_or(serde_json::Value::Null)
    }
    fn from_tree<T: serde::de::DeserializeOwned>(tree: &serde_json::Value) -> Option<T> {
        let js = js_sys::JSON::parse(&tree.to_string()).ok()?;
        serde_wasm_bindgen::from_value(js).ok()
    }
}

/// What a link restored that needs the reader's attention: parts it could not use, or the
/// file it names.
#[derive(Clone, Copy)]
pub struct LinkState {
    pub problems: RwSignal<Vec<String>>,
}

/// The page's settings now, as a link would hold them (read reactively: an effect that calls
/// this runs again when any of them changes).
fn current(state: AppState, infer: InferState, run: bool) -> SharedState {
    SharedState {
        tab: match state.tab.get() {
            Tab::Discover => "discover",
            Tab::Infer => "infer",
        }
        .to_string(),
        data: state.data.with(|d| SharedData::of(d.as_ref())),
        prep: state.prep.get(),
        learner: state.current_params(),
        knowledge: state.knowledge.get(),
        pace_ms: state.pace_ms.get(),
        infer: SharedInfer {
            model: infer.spec(),
            method: infer.method.get().to_string(),
            chains: infer.chains.get(),
            warmup: infer.warmup.get(),
            draws: infer.draws.get(),
            seed: infer.seed.get(),
            target_accept: infer.target_accept.get(),
            max_depth: infer.max_depth.get(),
            init_radius: infer.init_radius.get(),
            advi_optimizer: infer.advi_optimizer.get(),
        },
        view: SharedView {
            fit: state.view_fit.get(),
            zoom: state.view_zoom.get(),
            truth_colors: state.truth_colors.get(),
            // Only a threshold the reader chose on the slider: the learner's own is a setting.
            threshold: state.threshold_chosen.get().then(|| state.threshold.get()),
            // In tenths of a pixel, as the drawing places them.
            nodes: state.graph_names.with(|names| {
                state.node_overrides.with(|o| {
                    let tenth = |v: f64| (v * 10.0).round() / 10.0;
                    o.iter()
                        .zip(names)
                        .filter_map(|(xy, name)| {
                            xy.map(|(x, y)| (name.clone(), tenth(x), tenth(y)))
                        })
                        .collect()
                })
            }),
        },
        run,
    }
}

/// Puts a decoded link's settings on the page and loads the data it names; returns what of it
/// the page could not use.
fn apply(state: AppState, infer: InferState, shared: SharedState) -> Vec<String> {
    let mut problems = Vec::new();
    let SharedState {
        tab,
        data,
        prep,
        learner,
        knowledge,
        pace_ms,
        infer: inf,
        view,
        run,
    } = shared;
    state.cancel_run();
    infer.cancel();
    state.tab.set(if tab == "infer" {
        Tab::Infer
    } else {
        Tab::Discover
    });
    if let Some(info) = ALGORITHMS.iter().find(|a| a.id == learner.id()) {
        state.algorithm.set(info.id);
        state.algo_params.update(|all| {
            if let Some(p) = all.iter_mut().find(|p| p.id() == info.id) {
                *p = learner;
            }
        });
    }
    state.pace_ms.set(pace_ms);
    state.view_fit.set(view.fit);
    state.view_zoom.set(view.zoom);
    state.truth_colors.set(view.truth_colors);
    state.link_nodes.set(view.nodes);
    state.link_threshold.set(view.threshold);
    state.threshold_chosen.set(view.threshold.is_some());
    if let Some(t) = view.threshold {
        state.threshold.set(t);
    }
    if let Some(model) = MODELS.iter().find(|m| m.id == inf.model.id()) {
        infer.model_id.set(model.id);
        infer.specs.update(|all| {
            if let Some(s) = all.iter_mut().find(|s| s.id() == model.id) {
                *s = inf.model;
            }
        });
    }
    match METHODS.iter().find(|(id, _)| *id == inf.method) {
        Some((id, _)) => infer.method.set(id),
        None => problems.push(format!(
            "“infer.method={}”: the methods are {}",
            inf.method,
            METHODS
                .iter()
                .map(|(id, _)| *id)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
    infer.chains.set(inf.chains);
    infer.warmup.set(inf.warmup);
    infer.draws.set(inf.draws);
    infer.seed.set(inf.seed);
    infer.target_accept.set(inf.target_accept);
    infer.max_depth.set(inf.max_depth);
    infer.init_radius.set(inf.init_radius);
    infer.advi_optimizer.set(inf.advi_optimizer);
    state.autorun.set(run);
    if data == SharedData::None {
        state.link_data.set(None);
        state.prep.set(prep);
        state.knowledge.set(knowledge);
        return problems;
    }
    // `load` applies the link's preparation and knowledge to the data when it arrives.
    state.link_data.set(Some(LinkData {
        source: data.clone(),
        prep,
        knowledge,
    }));
    match data {
        SharedData::None | SharedData::File(_) => {}
        SharedData::Sachs => state.load(DataSpec::Sachs),
        SharedData::SachsFull => state.load_sachs_full(),
        SharedData::Synthetic(p) => {
            state.synthetic.set(p.clone());
            state.load(DataSpec::Synthetic(p));
        }
    }
    problems
}

/// The fragment of the page's address, without `#`.
fn location_fragment() -> String {
    window()
        .location()
        .hash()
        .unwrap_or_default()
        .trim_start_matches('#')
        .to_string()
}

/// Reads the address's fragment when the page opens and whenever it changes, and starts a
/// run a link asked for once its data is ready.
pub fn restore_on_open(state: AppState, infer: InferState) {
    let link = LinkState {
        problems: RwSignal::new(Vec::new()),
    };
    provide_context(link);
    let restore = move || {
        let fragment = location_fragment();
        if fragment.is_empty() {
            return;
        }
        let decoded = decode_with::<Js>(&fragment);
        let mut problems = decoded.problems;
        problems.extend(apply(state, infer, decoded.state));
        link.problems.set(problems);
    };
    restore();
    let _ = window_event_listener(ev::hashchange, move |_| restore());
    Effect::new(move |_| {
        if !state.autorun.get() {
            return;
        }
        let tab = state.tab.get_untracked();
        if state.load_error.with(Option::is_some) {
            // The link's data could not be loaded (said in the Data panel): nothing to run.
            state.autorun.set(false);
            return;
        }
        if state.link_data.with(Option::is_some) || state.inspecting.get() {
            // Waiting for the named file to be dropped, or for an example to arrive.
            return;
        }
        if state.data.with(Option::is_none) {
            state.autorun.set(false);
            if tab == Tab::Infer {
                start_infer_soon(state, infer);
            }
            return;
        }
        if state.inspection.with(Option::is_none) {
            return;
        }
        state.autorun.set(false);
        match tab {
            Tab::Discover if state.status.get_untracked() != RunStatus::Running => {
                state.start_run()
            }
            Tab::Infer => start_infer_soon(state, infer),
            _ => {}
        }
    });
}

/// Starts the Infer run on the next frame, after the tab's own effects have settled (a
/// regression binds its outcome and predictors to the data's columns in one).
fn start_infer_soon(state: AppState, infer: InferState) {
    request_animation_frame(move || infer.start(state));
}

/// `navigator.clipboard.writeText(text)`; false if the browser refuses (no permission, or a
/// page not served over https or from localhost).
async fn copy_to_clipboard(text: &str) -> bool {
    let navigator = js_sys::Reflect::get(&js_sys::global(), &"navigator".into()).ok();
    let clipboard = navigator.and_then(|n| js_sys::Reflect::get(&n, &"clipboard".into()).ok());
    let Some(clipboard) = clipboard.filter(|c| !c.is_undefined() && !c.is_null()) else {
        return false;
    };
    let write = js_sys::Reflect::get(&clipboard, &"writeText".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok());
    let Some(write) = write else { return false };
    let Ok(promise) = write.call1(&clipboard, &JsValue::from_str(text)) else {
        return false;
    };
    let Ok(promise) = promise.dyn_into::<js_sys::Promise>() else {
        return false;
    };
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}

/// Least time between two updates of the address bar while the Share panel follows changes.
const ADDRESS_EVERY_MS: f64 = 250.0;

/// The address for `shared`.
fn link_for(shared: &SharedState) -> String {
    let href = window().location().href().unwrap_or_default();
    let base = href.split('#').next().unwrap_or_default().to_string();
    format!("{base}#{}", encode_with::<Js>(shared))
}

/// The address bar set to `link` (without a new history entry or a `hashchange`, so the page
/// is not restored again).
fn set_address(link: &str) {
    if let (Ok(history), Some((_, fragment))) = (window().history(), link.split_once('#')) {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&format!("#{fragment}")));
    }
}

/// The address for `shared`, and the address bar set to it.
fn publish(shared: &SharedState) -> String {
    let link = link_for(shared);
    set_address(&link);
    link
}

fn focus_by_id(id: &str) {
    if let Some(el) = document().get_element_by_id(id) {
        if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
            let _ = el.focus();
        }
    }
}

/// The header's button and the panel it opens: the link, whether it runs on opening, and
/// what it does and does not carry.
#[component]
pub fn ShareButton() -> impl IntoView {
    let state = expect_context::<AppState>();
    let infer = expect_context::<InferState>();
    let open = RwSignal::new(false);
    let run = RwSignal::new(false);
    let url = RwSignal::new(String::new());
    // Some(true) copied, Some(false) the browser refused, None not yet; `stale`: the settings
    // changed after the copy.
    let copied = RwSignal::new(None::<bool>);
    let stale = RwSignal::new(false);
    let address_last_ms = StoredValue::new(f64::NEG_INFINITY);
    let address_pending = StoredValue::new(false);
    let refresh = move || {
        let link = publish(&untrack(|| current(state, infer, run.get())));
        url.set(link.clone());
        copied.set(None);
        stale.set(false);
        spawn_local(async move { copied.set(Some(copy_to_clipboard(&link).await)) });
    };
    // While the panel is open, the link (and the address bar) follow every change of settings.
    // (Nothing is read while it is closed.)
    Effect::new(move |previous: Option<Option<SharedState>>| {
        if !open.get() {
            return None;
        }
        let now = current(state, infer, run.get());
        let previous = previous.flatten();
        if previous.as_ref().is_some_and(|p| *p != now) {
            url.set(link_for(&now));
            // A moved node updates the address bar at most four times a second (at once, then
            // the last move): a drag changes the link at every pointer move, and browsers
            // throttle (Safari refuses) more than about a hundred history updates in seconds.
            let without_nodes = |s: &SharedState| {
                let mut s = s.clone();
                s.view.nodes.clear();
                s
            };
            let only_nodes = previous
                .as_ref()
                .is_some_and(|p| without_nodes(p) == without_nodes(&now));
            let now_ms = js_sys::Date::now();
            let since = now_ms - address_last_ms.get_value();
            if !only_nodes || (since >= ADDRESS_EVERY_MS && !address_pending.get_value()) {
                address_last_ms.set_value(now_ms);
                set_address(&url.get_untracked());
            } else if !address_pending.get_value() {
                address_pending.set_value(true);
                set_timeout(
                    move || {
                        if address_pending.try_set_value(false).is_none() {
                            address_last_ms.set_value(js_sys::Date::now());
                            set_address(&url.get_untracked());
                        }
                    },
                    std::time::Duration::from_millis((ADDRESS_EVERY_MS - since).max(0.0) as u64),
                );
            }
            if copied.get_untracked().is_some() {
                stale.set(true);
            }
        }
        Some(now)
    });
    let file_note = move || {
        open.get();
        state.data.with(|d| match d {
            Some(DataSpec::Csv { name, .. }) => Some(format!(
                "The link names your file “{name}” but does not contain it: files never leave \
                 this tab. Whoever opens the link is asked to drop the same file, and then gets \
                 these settings."
            )),
            Some(DataSpec::Synthetic(_)) => {
                Some("The generator is seeded: the link makes the same data set again.".to_string())
            }
            _ => None,
        })
    };
    view! {
        <div class="share">
            <button class="button" id="share-button" data-testid="share" aria-expanded=move || open.get().to_string()
                aria-controls="share-panel"
                on:click=move |_| {
                    if open.get_untracked() {
                        open.set(false);
                    } else {
                        open.set(true);
                        refresh();
                        // Keyboard users land on the link, selected, ready to copy.
                        request_animation_frame(|| focus_by_id("share-url"));
                    }
                }>
                "Share link"
            </button>
            <Show when=move || open.get()>
                <div class="share-panel" id="share-panel" data-testid="share-panel" role="dialog"
                    aria-label="Share a link to these settings"
                    on:keydown=move |ev: ev::KeyboardEvent| if ev.key() == "Escape" {
                        open.set(false);
                        focus_by_id("share-button");
                    }>
                    <p class="small">
                        "This link opens Causeway with the same data source, preparation, learner, \
                         settings, background knowledge, graph view (zoom, colours, threshold and the \
                         nodes you moved) and Infer model. It is now also in the address bar."
                    </p>
                    <input type="text" readonly id="share-url" data-testid="share-url" aria-label="Link"
                        prop:value=move || url.get()
                        on:focus=move |ev| {
                            if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                                input.select();
                            }
                        } />
                    <label class="small">
                        <input type="checkbox" data-testid="share-run"
                            prop:checked=move || run.get()
                            on:change=move |_| {
                                run.update(|r| *r = !*r);
                                refresh();
                            } />
                        " Run when the link is opened"
                    </label>
                    <p class="small muted" data-testid="share-copied" role="status">
                        {move || match copied.get() {
                            _ if stale.get() => "The settings changed: the link above follows them; copy it again (Ctrl+C or ⌘C).",
                            Some(true) => "Copied to the clipboard.",
                            Some(false) => "Select the link and copy it (Ctrl+C or ⌘C).",
                            None => "",
                        }}
                    </p>
                    {move || file_note().map(|note| view! { <p class="small muted">{note}</p> })}
                    <button class="button" on:click=move |_| {
                        open.set(false);
                        focus_by_id("share-button");
                    }>"Close"</button>
                </div>
            </Show>
        </div>
    }
}

/// What the page says about the link it was opened with: the parts it could not use, and the
/// file it is waiting for.
#[component]
pub fn LinkNotice() -> impl IntoView {
    let state = expect_context::<AppState>();
    let link = expect_context::<LinkState>();
    view! {
        <div class="link-notices">
        {move || state.link_data.get().and_then(|link| match link.source {
            SharedData::File(name) => Some(name),
            _ => None,
        }).map(|name| view! {
            <div class="notice" data-testid="link-file" role="status">
                <strong>{format!("This link was made with the file “{name}”.")}</strong>
                " The file itself is not in the link (files never leave the tab they are opened \
                 in). Drop it on the page or choose it to continue with the link's settings."
            </div>
        })}
        {move || {
            let problems = link.problems.get();
            (!problems.is_empty()).then(|| view! {
                <div class="error" data-testid="link-problems" role="alert">
                    <strong>"Part of this link could not be used"</strong>
                    <ul class="detail">
                        {problems.into_iter().map(|p| view! { <li>{p}</li> }).collect_view()}
                    </ul>
                    <p class="hint">"The rest of the link was applied. Check the settings named here, or ask for a fresh link."</p>
                    <button class="button" on:click=move |_| link.problems.set(Vec::new())>"Dismiss"</button>
                </div>
            })
        }}
        </div>
    }
}
