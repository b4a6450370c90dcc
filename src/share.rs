//! Shareable links: the page's settings as a readable URL fragment, e.g.
//! `#v=1&tab=discover&data=synthetic&data.n_nodes=20&learner=dagma&dagma.lambda1=0.03`.
//!
//! A link holds what a person chose, never data: the data source (an example, the generator's
//! settings, or only the *name* of the user's own file, which stays in their tab), the
//! preparation, the learner and its settings, background knowledge, the slow-motion pace, the
//! Infer tab's model, method and sampler settings, how the graph is shown (zoom, fit, colours,
//! the slider's threshold and the nodes the reader moved), and whether to run on opening. Only
//! settings that differ from their defaults are written, so links stay short and keep working
//! when a default changes only for the settings nobody touched. The fragment never reaches a
//! server.
//!
//! Settings are written under their serde names (the names the catalogue's forms and the worker
//! protocol use), `prefix.name=value`: `data.` the generator, `prep.`, `knowledge.`, the
//! learner's id (`dagma.`), `model.` the Infer model, `infer.` the sampler, `view.` the graph.
//! Decoding starts from the defaults and reads each value as the type of the default it
//! replaces, so a value of the wrong type or a name that does not exist is reported by name,
//! and the rest of the link still applies. Kept in the core (no web crates) so it is tested
//! natively.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::bayes::models::ModelSpec;
use crate::bayes::vi::AdviOptimizer;
use crate::causal::knowledge::KnowledgeSpec;
use crate::data::csv_reader::Prep;
use crate::data::synthetic::SyntheticParams;
use crate::jobs::default_prep;
use crate::protocol::{AlgorithmParams, DataSpec};

/// How settings become JSON trees and back. [`Json`] is serde_json's own conversion; the page
/// converts through the JavaScript values its worker messages already use (serde-wasm-bindgen
/// and `JSON`), which keeps every settings type from being compiled a second time for
/// serde_json (about 100 kB of gzipped wasm).
pub trait Tree {
    fn to_tree<T: Serialize>(value: &T) -> Value;
    fn from_tree<T: DeserializeOwned>(tree: &Value) -> Option<T>;
}

/// [`Tree`] by `serde_json::to_value` and `from_value`.
pub struct Json;

impl Tree for Json {
    fn to_tree<T: Serialize>(value: &T) -> Value {
        serde_json::to_value(value).unwrap_or(Value::Null)
    }
    fn from_tree<T: DeserializeOwned>(tree: &Value) -> Option<T> {
        T::deserialize(tree).ok()
    }
}

/// The link format's version, written as `v=1` first in every link.
pub const VERSION: u32 = 1;

/// Where the data comes from: an example or the generator, or a file the link can only name.
#[derive(Debug, Clone, PartialEq)]
pub enum SharedData {
    None,
    Sachs,
    SachsFull,
    Synthetic(SyntheticParams),
    /// The user's own file: the link keeps its name only.
    File(String),
}

impl SharedData {
    fn id(&self) -> &'static str {
        match self {
            SharedData::None => "none",
            SharedData::Sachs => "sachs",
            SharedData::SachsFull => "sachs-full",
            SharedData::Synthetic(_) => "synthetic",
            SharedData::File(_) => "file",
        }
    }

    /// What the page's data was, as far as a link can say.
    pub fn of(spec: Option<&DataSpec>) -> SharedData {
        match spec {
            None => SharedData::None,
            Some(DataSpec::Sachs) => SharedData::Sachs,
            Some(DataSpec::SachsFull { .. }) => SharedData::SachsFull,
            Some(DataSpec::Synthetic(p)) => SharedData::Synthetic(p.clone()),
            Some(DataSpec::Csv { name, .. }) => SharedData::File(name.clone()),
        }
    }

    /// The preparation the page starts this data with.
    pub fn default_prep(&self) -> Prep {
        match self {
            SharedData::None => Prep::default(),
            SharedData::Sachs => default_prep(&DataSpec::Sachs),
            SharedData::SachsFull => default_prep(&DataSpec::SachsFull { bytes: Vec::new() }),
            SharedData::Synthetic(p) => default_prep(&DataSpec::Synthetic(p.clone())),
            SharedData::File(name) => default_prep(&DataSpec::Csv {
                name: name.clone(),
                bytes: Vec::new(),
            }),
        }
    }
}

/// The Infer tab's choices. Its fields but the model are written under `infer.`; the model
/// under `model` and `model.`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SharedInfer {
    #[serde(skip, default = "opening_model")]
    pub model: ModelSpec,
    /// A method id of the page's sampler menu (`nuts`, `hmc`, `rwmh`, `advi-meanfield`, ...).
    pub method: String,
    pub chains: u32,
    pub warmup: usize,
    pub draws: usize,
    pub seed: u64,
    pub target_accept: Option<f64>,
    pub max_depth: usize,
    pub init_radius: f64,
    pub advi_optimizer: AdviOptimizer,
}

/// The Infer tab's model when the page opens.
fn opening_model() -> ModelSpec {
    ModelSpec::default_for("eight-schools-noncentered").unwrap_or(ModelSpec::Banana)
}

impl Default for SharedInfer {
    /// The Infer tab's settings when the page opens.
    fn default() -> Self {
        SharedInfer {
            model: opening_model(),
            method: "nuts".to_string(),
            chains: 4,
            warmup: 1000,
            draws: 1000,
            seed: 1,
            target_accept: None,
            max_depth: 10,
            init_radius: 2.0,
            advi_optimizer: AdviOptimizer::default(),
        }
    }
}

/// How the Discover tab shows the graph, written under `view.`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SharedView {
    /// Shrink the graph to the panel's width.
    pub fit: bool,
    /// Zoom factor on the graph's legible size, inside [`crate::viz::ZOOM_RANGE`].
    pub zoom: f64,
    /// Colour the edges by their comparison with the true graph, when one is known.
    pub truth_colors: bool,
    /// The slider's threshold on |weight| when the reader chose it there (the learner's own
    /// final threshold is a learner setting); put in place once the linked run is done.
    pub threshold: Option<f64>,
    /// The nodes the reader moved: `[name, x, y]` in the drawing's coordinates, which the
    /// layout of the same graph reproduces (the other nodes keep their places from it).
    pub nodes: Vec<(String, f64, f64)>,
}

impl Default for SharedView {
    fn default() -> Self {
        SharedView {
            fit: false,
            zoom: 1.0,
            truth_colors: true,
            threshold: None,
            nodes: Vec::new(),
        }
    }
}

/// Everything a link restores.
#[derive(Debug, Clone, PartialEq)]
pub struct SharedState {
    /// `discover` or `infer`.
    pub tab: String,
    pub data: SharedData,
    pub prep: Prep,
    /// The chosen learner with its settings.
    pub learner: AlgorithmParams,
    pub knowledge: KnowledgeSpec,
    pub pace_ms: u32,
    pub infer: SharedInfer,
    pub view: SharedView,
    /// Start the tab's run once the data is ready.
    pub run: bool,
}

impl Default for SharedState {
    /// The page as it opens.
    fn default() -> Self {
        SharedState {
            tab: "discover".to_string(),
            data: SharedData::None,
            prep: Prep::default(),
            learner: AlgorithmParams::default_for(crate::causal::catalog::ALGORITHMS[0].id)
                .expect("the first learner of the catalogue has parameters"),
            knowledge: KnowledgeSpec::default(),
            pace_ms: 0,
            infer: SharedInfer::default(),
            view: SharedView::default(),
            run: false,
        }
    }
}

/// A struct's fields as a JSON object (empty for a unit value).
fn object<B: Tree, T: Serialize>(value: &T) -> Map<String, Value> {
    match B::to_tree(value) {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// A value as it appears after `=`: numbers as Rust prints them (shortest round trip),
/// strings as they are, null as nothing, lists as JSON.
fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Appends `prefix.key=value` for each field of `value` that differs from `default`.
fn push_diff(
    out: &mut Vec<(String, String)>,
    prefix: &str,
    value: &Map<String, Value>,
    default: &Map<String, Value>,
) {
    for (key, v) in value {
        if default.get(key) != Some(v) {
            out.push((format!("{prefix}.{key}"), text(v)));
        }
    }
}

/// The link's `key=value` pairs for `state`, in a fixed order.
pub fn to_pairs<B: Tree>(state: &SharedState) -> Vec<(String, String)> {
    let mut out = vec![("v".to_string(), VERSION.to_string())];
    out.push(("tab".to_string(), state.tab.clone()));
    out.push(("data".to_string(), state.data.id().to_string()));
    match &state.data {
        SharedData::Synthetic(p) => push_diff(
            &mut out,
            "data",
            &object::<B, _>(p),
            &object::<B, _>(&SyntheticParams::default()),
        ),
        SharedData::File(name) => out.push(("data.file".to_string(), name.clone())),
        _ => {}
    }
    push_diff(
        &mut out,
        "prep",
        &object::<B, _>(&state.prep),
        &object::<B, _>(&state.data.default_prep()),
    );
    let id = state.learner.id();
    out.push(("learner".to_string(), id.to_string()));
    if let Some(default) = AlgorithmParams::default_for(id) {
        push_diff(
            &mut out,
            id,
            &variant_fields::<B, _>(&state.learner),
            &variant_fields::<B, _>(&default),
        );
    }
    push_diff(
        &mut out,
        "knowledge",
        &object::<B, _>(&state.knowledge),
        &object::<B, _>(&KnowledgeSpec::default()),
    );
    if state.pace_ms != 0 {
        out.push(("pace_ms".to_string(), state.pace_ms.to_string()));
    }
    let model = state.infer.model.id();
    let default_infer = SharedInfer::default();
    if state.tab == "infer" || state.infer != default_infer {
        out.push(("model".to_string(), model.to_string()));
        if let Some(default) = ModelSpec::default_for(model) {
            let mut fields = object::<B, _>(&state.infer.model);
            fields.remove("model");
            let mut defaults = object::<B, _>(&default);
            defaults.remove("model");
            push_diff(&mut out, "model", &fields, &defaults);
        }
        push_diff(
            &mut out,
            "infer",
            &object::<B, _>(&state.infer),
            &object::<B, _>(&default_infer),
        );
    }
    push_diff(
        &mut out,
        "view",
        &object::<B, _>(&state.view),
        &object::<B, _>(&SharedView::default()),
    );
    if state.run {
        out.push(("run".to_string(), "1".to_string()));
    }
    out
}

/// The fields inside an externally tagged enum value (`{"Dagma": {...}}`).
fn variant_fields<B: Tree, T: Serialize>(value: &T) -> Map<String, Value> {
    match B::to_tree(value) {
        Value::Object(map) => match map.into_iter().next() {
            Some((_, Value::Object(inner))) => inner,
            _ => Map::new(),
        },
        _ => Map::new(),
    }
}

/// `state` as a URL fragment (without the `#`).
pub fn encode(state: &SharedState) -> String {
    encode_with::<Json>(state)
}

/// [`encode`] with the page's conversion.
pub fn encode_with<B: Tree>(state: &SharedState) -> String {
    to_pairs::<B>(state)
        .iter()
        .map(|(k, v)| format!("{}={}", escape(k), escape(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encodes all but the characters that read well and need no escaping in a fragment.
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'_'
            | b'.'
            | b'~'
            | b','
            | b':'
            | b'/'
            | b'!'
            | b'*'
            | b'('
            | b')' => out.push(b as char),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Undoes [`escape`] (and reads `+` as a space, as forms write it); `None` if an escape is
/// malformed or the bytes are not UTF-8.
fn unescape(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// What a link restored, and what of it could not be used, in words for the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub state: SharedState,
    /// One sentence per part of the link that was not applied (the rest was).
    pub problems: Vec<String>,
}

/// `raw` as a JSON number: an integer if it is one, else a finite float.
fn number(raw: &str) -> Option<Value> {
    let t = raw.trim();
    t.parse::<u64>()
        .map(Value::from)
        .or_else(|_| t.parse::<i64>().map(Value::from))
        .ok()
        .or_else(|| {
            t.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
        })
}

/// Reads `raw` as a JSON value of the type of `template`; `None` if it cannot be one.
fn typed(raw: &str, template: &Value) -> Option<Value> {
    match template {
        Value::Bool(_) => match raw {
            "true" | "1" => Some(Value::Bool(true)),
            "false" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        // Whole numbers as integers, others as floats: whether the setting takes either is
        // the settings type's to say (a float field may have a whole default, which a JSON
        // round trip through JavaScript writes as an integer).
        Value::Number(_) => number(raw),
        Value::String(_) => Some(Value::String(raw.to_string())),
        // An optional setting at its default (none): empty stays none, else a number or text.
        Value::Null => Some(if raw.is_empty() {
            Value::Null
        } else if let Some(n) = number(raw) {
            n
        } else {
            Value::String(raw.to_string())
        }),
        Value::Array(_) | Value::Object(_) => serde_json::from_str(raw).ok(),
    }
}

/// Puts edited fields back into the shape of the value they came from.
type Wrap = Box<dyn Fn(Map<String, Value>) -> Value>;

/// Applies the link's `prefix.*` pairs to `default`'s fields (for an externally tagged enum
/// value such as `{"Dagma": {...}}`, the variant's fields; an internally tagged one keeps its
/// tag, which is not a setting) and reads the result back; marks the pairs it read in `used`,
/// and each problem names the setting and the value.
fn apply<B: Tree, T: Serialize + DeserializeOwned + Clone>(
    default: &T,
    prefix: &str,
    what: &str,
    pairs: &[(String, String)],
    used: &mut [bool],
    problems: &mut Vec<String>,
) -> T {
    let tree = apply_tree(
        B::to_tree(default),
        &|tree| B::from_tree::<T>(tree).is_some(),
        Link {
            prefix,
            what,
            pairs,
        },
        used,
        problems,
    );
    tree.and_then(|t| B::from_tree(&t))
        .unwrap_or_else(|| default.clone())
}

/// The part of a link [`apply`] reads: the pairs under `prefix.`, for settings called `what`.
struct Link<'a> {
    prefix: &'a str,
    what: &'a str,
    pairs: &'a [(String, String)],
}

/// [`apply`] on the JSON tree of the default, with `fits` saying whether a tree reads back as
/// the settings type (not generic, so the page carries one copy of it).
fn apply_tree(
    default: Value,
    fits: &dyn Fn(&Value) -> bool,
    link: Link,
    used: &mut [bool],
    problems: &mut Vec<String>,
) -> Option<Value> {
    let Link {
        prefix,
        what,
        pairs,
    } = link;
    let (mut fields, wrap): (Map<String, Value>, Wrap) = match default {
        Value::Object(map) if map.len() == 1 && map.values().all(Value::is_object) => {
            let (tag, inner) = map.into_iter().next().expect("one entry");
            let Value::Object(inner) = inner else {
                unreachable!("checked by the guard")
            };
            (
                inner,
                Box::new(move |m| Value::Object(Map::from_iter([(tag.clone(), Value::Object(m))]))),
            )
        }
        Value::Object(map) => (map, Box::new(Value::Object)),
        _ => return None,
    };
    let start = format!("{prefix}.");
    for (i, (key, raw)) in pairs.iter().enumerate() {
        let Some(name) = key.strip_prefix(&start) else {
            continue;
        };
        used[i] = true;
        let Some(template) = fields.get(name).filter(|_| name != "model") else {
            problems.push(format!("“{key}”: {what} has no setting “{name}”"));
            continue;
        };
        // An empty text where the default is one may be an optional setting set to none
        // (`prep.intervention_column=`): try none first.
        let mut candidates = Vec::new();
        if raw.is_empty() && template.is_string() {
            candidates.push(Value::Null);
        }
        candidates.extend(typed(raw, template));
        if template.is_null() && !raw.is_empty() {
            // An optional text that looks like a number (a column named "2024").
            candidates.push(Value::String(raw.to_string()));
        }
        let previous = fields.get(name).cloned();
        // Check this one setting now, so that one bad value names itself.
        let ok = candidates.into_iter().any(|v| {
            fields.insert(name.to_string(), v);
            fits(&wrap(fields.clone()))
        });
        if !ok {
            problems.push(format!(
                "“{key}={raw}”: not a valid value for {what}'s “{name}”"
            ));
            if let Some(p) = previous {
                fields.insert(name.to_string(), p);
            }
        }
    }
    Some(wrap(fields))
}

/// Reads a URL fragment (with or without its `#`). Always gives a state: whatever the link
/// says that can be used, defaults for the rest, and a sentence for each part it could not use.
pub fn decode(fragment: &str) -> Decoded {
    decode_with::<Json>(fragment)
}

/// [`decode`] with the page's conversion.
pub fn decode_with<B: Tree>(fragment: &str) -> Decoded {
    let fragment = fragment.strip_prefix('#').unwrap_or(fragment);
    let mut problems = Vec::new();
    let mut pairs: Vec<(String, String)> = Vec::new();
    for part in fragment.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        match (unescape(k), unescape(v)) {
            (Some(k), Some(v)) => pairs.push((k, v)),
            _ => problems.push(format!("“{part}” is not correctly percent-encoded")),
        }
    }
    let mut used = vec![false; pairs.len()];
    let take = |key: &str, used: &mut Vec<bool>| -> Option<String> {
        let i = pairs.iter().position(|(k, _)| k == key)?;
        used[i] = true;
        Some(pairs[i].1.clone())
    };
    let mut state = SharedState::default();
    if let Some(v) = take("v", &mut used) {
        match v.parse::<u32>() {
            Ok(n) if n == VERSION => {}
            Ok(n) if n > VERSION => problems.push(format!(
                "the link was made by a newer version of Causeway (format {v}; this page reads {VERSION}): some settings may not apply"
            )),
            _ => problems.push(format!(
                "“v={v}” is not a link format this page knows (it reads {VERSION}): some settings may not apply"
            )),
        }
    }
    if let Some(tab) = take("tab", &mut used) {
        match tab.as_str() {
            "discover" | "infer" => state.tab = tab,
            other => problems.push(format!("“tab={other}”: the tabs are discover and infer")),
        }
    }
    let file_name = take("data.file", &mut used);
    if let Some(data) = take("data", &mut used) {
        state.data = match data.as_str() {
            "none" => SharedData::None,
            "sachs" => SharedData::Sachs,
            "sachs-full" => SharedData::SachsFull,
            "synthetic" => SharedData::Synthetic(apply::<B, _>(
                &SyntheticParams::default(),
                "data",
                "the generator",
                &pairs,
                &mut used,
                &mut problems,
            )),
            "file" => match file_name.filter(|n| !n.is_empty()) {
                Some(name) => SharedData::File(name),
                None => {
                    problems.push(
                        "“data=file” without “data.file=NAME”: the link does not say which file \
                         to drop"
                            .to_string(),
                    );
                    SharedData::None
                }
            },
            other => {
                problems.push(format!(
                    "“data={other}”: the data sources are sachs, sachs-full, synthetic and file"
                ));
                SharedData::None
            }
        };
    }
    state.prep = apply::<B, _>(
        &state.data.default_prep(),
        "prep",
        "the preparation",
        &pairs,
        &mut used,
        &mut problems,
    );
    if let Some(id) = take("learner", &mut used) {
        match AlgorithmParams::default_for(&id) {
            Some(default) => state.learner = default,
            None => problems.push(format!(
                "“learner={id}”: the learners are {}",
                crate::causal::catalog::ALGORITHMS
                    .iter()
                    .map(|a| a.id)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
    let id = state.learner.id();
    let name = crate::causal::catalog::info(id).map_or(id, |a| a.name);
    state.learner = apply::<B, _>(&state.learner, id, name, &pairs, &mut used, &mut problems);
    state.knowledge = apply::<B, _>(
        &KnowledgeSpec::default(),
        "knowledge",
        "background knowledge",
        &pairs,
        &mut used,
        &mut problems,
    );
    if let Some(p) = take("pace_ms", &mut used) {
        match p.parse() {
            Ok(ms) => state.pace_ms = ms,
            Err(_) => problems.push(format!("“pace_ms={p}”: not a number of milliseconds")),
        }
    }
    if let Some(model) = take("model", &mut used) {
        match ModelSpec::default_for(&model) {
            Some(default) => state.infer.model = default,
            None => problems.push(format!(
                "“model={model}”: the models are {}",
                crate::bayes::models::MODELS
                    .iter()
                    .map(|m| m.id)
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }
    let model = state.infer.model.clone();
    state.infer.model = apply::<B, _>(
        &model,
        "model",
        "the model",
        &pairs,
        &mut used,
        &mut problems,
    );
    let model = state.infer.model.clone();
    state.infer = apply::<B, _>(
        &state.infer,
        "infer",
        "the sampler",
        &pairs,
        &mut used,
        &mut problems,
    );
    state.infer.model = model;
    state.view = apply::<B, _>(
        &SharedView::default(),
        "view",
        "the graph view",
        &pairs,
        &mut used,
        &mut problems,
    );
    let (lo, hi) = crate::viz::ZOOM_RANGE;
    if !(lo..=hi).contains(&state.view.zoom) {
        problems.push(format!(
            "“view.zoom={}”: the zoom goes from {lo} to {hi}",
            state.view.zoom
        ));
        state.view.zoom = SharedView::default().zoom;
    }
    if let Some(t) = state
        .view
        .threshold
        .filter(|t| !(t.is_finite() && *t >= 0.0))
    {
        problems.push(format!("“view.threshold={t}”: a threshold is a number ≥ 0"));
        state.view.threshold = None;
    }
    let moved = state.view.nodes.len();
    state
        .view
        .nodes
        .retain(|(_, x, y)| x.is_finite() && y.is_finite() && *x >= 0.0 && *y >= 0.0);
    if state.view.nodes.len() < moved {
        problems.push(
            "“view.nodes”: a node position that is not two numbers ≥ 0 was left out".to_string(),
        );
    }
    if let Some(run) = take("run", &mut used) {
        state.run = matches!(run.as_str(), "1" | "true");
    }
    for ((key, _), used) in pairs.iter().zip(&used) {
        if !used {
            problems.push(format!("“{key}” is not a setting Causeway knows"));
        }
    }
    Decoded { state, problems }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bayes::models::MODELS;
    use crate::causal::catalog::ALGORITHMS;
    use crate::data::synthetic::GraphModel;

    fn rich() -> SharedState {
        let mut synthetic = SyntheticParams {
            n_nodes: 20,
            seed: 7,
            graph: GraphModel::ScaleFree,
            ..SyntheticParams::default()
        };
        synthetic.intervention_targets = "X1, X3".to_string();
        let Some(AlgorithmParams::Dagma(mut dagma)) = AlgorithmParams::default_for("dagma") else {
            unreachable!()
        };
        dagma.lambda1 = 0.03;
        dagma.w_threshold = 0.25;
        let Some(ModelSpec::BetaBinomial(mut coin)) = ModelSpec::default_for("beta-binomial")
        else {
            unreachable!()
        };
        coin.heads = 12;
        coin.prior_a = 0.5;
        SharedState {
            tab: "infer".to_string(),
            data: SharedData::Synthetic(synthetic),
            prep: Prep {
                drop_columns: vec!["X2".to_string(), "a, b & c=d".to_string()],
                standardize: true,
                ..Prep::default()
            },
            learner: AlgorithmParams::Dagma(dagma),
            knowledge: KnowledgeSpec {
                forbidden: "X1 -> X2\nX3 -> X4".to_string(),
                required: "X5 -> X6 # 100% sure\n".to_string(),
                tiers: "X1, X2\nX3 ünïcode".to_string(),
            },
            pace_ms: 300,
            infer: SharedInfer {
                model: ModelSpec::BetaBinomial(coin),
                method: "hmc".to_string(),
                chains: 2,
                seed: 42,
                target_accept: Some(0.95),
                ..SharedInfer::default()
            },
            view: SharedView {
                fit: true,
                zoom: 1.56,
                truth_colors: false,
                threshold: Some(0.45),
                nodes: vec![
                    ("X1".to_string(), 120.5, 40.0),
                    ("a, b & c=d".to_string(), 0.0, 212.0),
                ],
            },
            run: true,
        }
    }

    #[test]
    fn the_opening_page_is_a_short_link_and_reads_back() {
        let link = encode(&SharedState::default());
        assert_eq!(link, "v=1&tab=discover&data=none&learner=notears");
        let back = decode(&format!("#{link}"));
        assert_eq!(back.state, SharedState::default());
        assert!(back.problems.is_empty(), "{:?}", back.problems);
        // An empty fragment is the opening page too.
        assert_eq!(decode("").state, SharedState::default());
    }

    #[test]
    fn every_setting_survives_the_round_trip() {
        let state = rich();
        let link = encode(&state);
        let back = decode(&link);
        assert!(back.problems.is_empty(), "{:?}", back.problems);
        assert_eq!(back.state, state, "{link}");
        // Readable: the changed settings by name, nothing at its default.
        for part in [
            "data=synthetic",
            "data.n_nodes=20",
            "data.graph=scale-free",
            "learner=dagma",
            "dagma.lambda1=0.03",
            "model=beta-binomial",
            "model.heads=12",
            "infer.method=hmc",
            "infer.target_accept=0.95",
            "pace_ms=300",
            "view.zoom=1.56",
            "view.fit=true",
            "view.truth_colors=false",
            "view.threshold=0.45",
            "run=1",
        ] {
            assert!(link.split('&').any(|p| p == part), "{part} not in {link}");
        }
        assert!(!link.contains("data.n_rows"), "{link}");
        assert!(!link.contains("dagma.s="), "{link}");
    }

    #[test]
    fn every_learner_and_model_reads_back_at_its_defaults() {
        for algo in ALGORITHMS {
            let state = SharedState {
                learner: AlgorithmParams::default_for(algo.id).unwrap(),
                ..SharedState::default()
            };
            let back = decode(&encode(&state));
            assert_eq!(back.state, state, "{}", algo.id);
            assert!(back.problems.is_empty(), "{}: {:?}", algo.id, back.problems);
        }
        for model in MODELS {
            let state = SharedState {
                tab: "infer".to_string(),
                infer: SharedInfer {
                    model: ModelSpec::default_for(model.id).unwrap(),
                    ..SharedInfer::default()
                },
                ..SharedState::default()
            };
            let back = decode(&encode(&state));
            assert_eq!(back.state, state, "{}", model.id);
            assert!(
                back.problems.is_empty(),
                "{}: {:?}",
                model.id,
                back.problems
            );
        }
    }

    #[test]
    fn examples_and_files_keep_their_preparation_and_a_file_only_its_name() {
        for data in [
            SharedData::Sachs,
            SharedData::SachsFull,
            SharedData::File("my data (v2).csv".to_string()),
        ] {
            let mut state = SharedState {
                prep: data.default_prep(),
                data,
                ..SharedState::default()
            };
            let back = decode(&encode(&state));
            assert_eq!(back.state, state);
            // A change to the example's own preparation (Sachs full: keep no intervention
            // column) is written and read back.
            state.prep.intervention_column = None;
            state.prep.standardize = false;
            let back = decode(&encode(&state));
            assert_eq!(back.state, state);
            state.prep.intervention_column = Some("2024".to_string());
            let back = decode(&encode(&state));
            assert_eq!(back.state, state);
            assert!(back.problems.is_empty(), "{:?}", back.problems);
        }
        let link = encode(&SharedState {
            data: SharedData::File("my data (v2).csv".to_string()),
            ..SharedState::default()
        });
        assert!(link.contains("data.file=my%20data%20(v2).csv"), "{link}");
    }

    #[test]
    fn what_cannot_be_used_is_named_and_the_rest_applies() {
        let back = decode(
            "v=1&tab=discover&data=synthetic&data.n_nodes=abc&data.n_rows=500&data.graph=ring\
             &learner=dagma&dagma.lambda1=0.05&dagma.colour=red&foo=bar&pace_ms=-3&%zz=1",
        );
        let SharedData::Synthetic(p) = &back.state.data else {
            panic!("{:?}", back.state.data)
        };
        assert_eq!(p.n_rows, 500);
        assert_eq!(p.n_nodes, SyntheticParams::default().n_nodes);
        assert_eq!(p.graph, GraphModel::ErdosRenyi);
        let AlgorithmParams::Dagma(d) = &back.state.learner else {
            panic!()
        };
        assert_eq!(d.lambda1, 0.05);
        let all = back.problems.join("\n");
        for named in [
            "data.n_nodes=abc",
            "data.graph=ring",
            "DAGMA has no setting “colour”",
            "“foo”",
            "pace_ms=-3",
            "%zz=1",
        ] {
            assert!(all.contains(named), "{named} not in:\n{all}");
        }
        assert_eq!(back.problems.len(), 6, "{all}");
        let back = decode("learner=magic&model=unicorn&tab=learn");
        assert_eq!(back.state.learner, SharedState::default().learner);
        let all = back.problems.join("\n");
        assert!(
            all.contains("learner=magic") && all.contains("notears, dagma"),
            "{all}"
        );
        assert!(
            all.contains("model=unicorn") && all.contains("tab=learn"),
            "{all}"
        );
    }

    /// The page's conversion as far as numbers go: through JavaScript and `JSON`, a float
    /// with a whole value comes back as an integer.
    struct JsLike;

    fn whole_floats_as_integers(v: Value) -> Value {
        match v {
            Value::Number(n) => match n.as_f64() {
                Some(x) if n.is_f64() && x.fract() == 0.0 && x.abs() < 9e15 => {
                    Value::from(x as i64)
                }
                _ => Value::Number(n),
            },
            Value::Array(a) => Value::Array(a.into_iter().map(whole_floats_as_integers).collect()),
            Value::Object(m) => Value::Object(
                m.into_iter()
                    .map(|(k, v)| (k, whole_floats_as_integers(v)))
                    .collect(),
            ),
            other => other,
        }
    }

    impl Tree for JsLike {
        fn to_tree<T: Serialize>(value: &T) -> Value {
            whole_floats_as_integers(Json::to_tree(value))
        }
        fn from_tree<T: DeserializeOwned>(tree: &Value) -> Option<T> {
            Json::from_tree(tree)
        }
    }

    #[test]
    fn whole_floats_written_as_integers_read_back() {
        let mut state = rich();
        if let SharedData::Synthetic(p) = &mut state.data {
            p.expected_degree = 3.0;
        }
        state.infer.init_radius = 1.5;
        let link = encode_with::<JsLike>(&state);
        assert!(link.contains("data.expected_degree=3&"), "{link}");
        let back = decode_with::<JsLike>(&link);
        assert!(back.problems.is_empty(), "{:?}", back.problems);
        assert_eq!(back.state, state);
        // An integer where a float is expected, and a float where an integer is: the first
        // reads, the second is named.
        let back = decode_with::<JsLike>("learner=dagma&dagma.mu_init=2&dagma.max_iter=1.5");
        let AlgorithmParams::Dagma(d) = &back.state.learner else {
            panic!()
        };
        assert_eq!(d.mu_init, 2.0);
        assert_eq!(back.problems.len(), 1, "{:?}", back.problems);
        assert!(back.problems[0].contains("dagma.max_iter=1.5"));
    }

    #[test]
    fn a_file_link_without_its_name_and_an_unknown_format_are_named() {
        let back = decode("v=x&data=file&learner=pc");
        assert_eq!(back.state.data, SharedData::None);
        assert_eq!(back.state.learner.id(), "pc");
        let all = back.problems.join("\n");
        assert!(
            all.contains("“data=file” without “data.file=NAME”"),
            "{all}"
        );
        assert!(all.contains("“v=x” is not a link format"), "{all}");
        assert_eq!(back.problems.len(), 2, "{all}");
    }

    #[test]
    fn the_views_zoom_and_node_positions_are_checked() {
        let back = decode("v=1&view.zoom=9&view.nodes=%5B%5B%22A%22,1,2%5D,%5B%22B%22,-5,2%5D%5D");
        assert_eq!(back.state.view.zoom, 1.0);
        assert_eq!(back.state.view.nodes, vec![("A".to_string(), 1.0, 2.0)]);
        assert_eq!(back.problems.len(), 2, "{:?}", back.problems);
        assert!(
            back.problems[0].contains("view.zoom=9"),
            "{:?}",
            back.problems
        );
        let back = decode("v=1&view.threshold=-1");
        assert_eq!(back.state.view.threshold, None);
        assert!(
            back.problems[0].contains("view.threshold=-1"),
            "{:?}",
            back.problems
        );
        let back = decode("v=1&view.nodes=A:1:2");
        assert!(back.state.view.nodes.is_empty());
        assert!(
            back.problems[0].contains("view.nodes"),
            "{:?}",
            back.problems
        );
    }

    #[test]
    fn a_newer_format_is_read_with_a_warning() {
        let back = decode("v=2&learner=pc");
        assert_eq!(back.state.learner.id(), "pc");
        assert_eq!(back.problems.len(), 1);
        assert!(back.problems[0].contains("newer version"));
    }
}
