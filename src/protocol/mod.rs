//! The worker boundary: versioned messages between the page and the compute worker.
//!
//! This is the only place where messages are defined for (de)serialization; the page and the
//! worker both speak these types through `serde-wasm-bindgen`. Bump [`PROTOCOL_VERSION`] on any
//! change to these types: a page and a worker from different builds refuse each other instead of
//! misreading messages.

use serde::{Deserialize, Serialize};

use crate::causal::dagma::DagmaParams;
use crate::causal::ges::GesParams;
use crate::causal::knowledge::KnowledgeSpec;
use crate::causal::notears::NotearsParams;
use crate::causal::pc::PcParams;
use crate::causal::sdcd::{SdcdParams, ShardReport};
use crate::causal::xges::XgesParams;
use crate::causal::{GraphKind, LearnedGraph};
use crate::data::csv_reader::{Prep, Problem};
use crate::data::synthetic::SyntheticParams;
use crate::data::ColumnSummary;
use crate::run::Progress;

/// Version of the message types below.
pub const PROTOCOL_VERSION: u32 = 12;

/// A message from the page to a worker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub version: u32,
    pub message: ToWorker,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToWorker {
    /// Start a job; a job already running in this worker is cancelled first.
    Start { job_id: u32, job: Box<Job> },
    /// Stop the job with this id at its next step boundary; answered by `Event::Cancelled`.
    Cancel { job_id: u32 },
    /// Until the first job arrives, run every learner briefly on a small dataset so the
    /// browser has optimized their code before a run is timed (see `jobs::WarmUp`);
    /// nothing is reported. Sent by the Discover tab's client once per worker. The worker
    /// also starts (and warms) `helpers` helper workers for split jobs ([`Shard`]).
    WarmUp { helpers: u32 },
    /// Panic on purpose, so the browser tests can check that a crashed worker is reported and
    /// replaced. Sent only when the page is opened with `?selftest=worker-panic`, or with
    /// `?selftest=helper-panic` as `helper: true`: then the worker has its first helper panic
    /// (during a split job).
    PanicForTest { helper: bool },
}

/// Where the data of a job comes from. The page keeps the file's bytes and sends them with each
/// job, so a replaced worker needs no state from its predecessor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DataSpec {
    Csv {
        name: String,
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    /// Sachs et al. (2005), observational block, with the 17-edge consensus graph as truth.
    Sachs,
    /// Sachs et al. (2005), all nine conditions (7466 rows, `condition` and `target` columns),
    /// with the consensus graph as truth. The page fetches the file from its own `data/`
    /// folder (it is too large to embed in the worker) and sends its bytes.
    SachsFull {
        #[serde(with = "serde_bytes")]
        bytes: Vec<u8>,
    },
    /// A generated linear-Gaussian structural causal model with its true graph.
    Synthetic(SyntheticParams),
}

impl DataSpec {
    /// A short name for the page ("sachs_observational.csv", "synthetic ER(d=10, k=2) ...").
    pub fn label(&self) -> String {
        match self {
            DataSpec::Csv { name, .. } => name.clone(),
            DataSpec::Sachs => "Sachs et al. 2005 (observational)".to_string(),
            DataSpec::SachsFull { .. } => {
                "Sachs et al. 2005 (all 9 conditions, interventional)".to_string()
            }
            DataSpec::Synthetic(p) => {
                let mut label = format!(
                    "Synthetic {}, n = {}, seed {}",
                    p.describe(),
                    p.n_rows,
                    p.seed
                );
                if let Ok(targets) = p.targets() {
                    if !targets.is_empty() {
                        label.push_str(&format!(
                            ", {} interventions × {} rows",
                            targets.len(),
                            p.rows_per_intervention
                        ));
                    }
                }
                label
            }
        }
    }
}

/// The structure learners, each with its parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum AlgorithmParams {
    Notears(NotearsParams),
    Dagma(DagmaParams),
    Sdcd(SdcdParams),
    Pc(PcParams),
    Ges(GesParams),
    Xges(XgesParams),
}

impl AlgorithmParams {
    /// Whether the learner can split a job across workers ([`Shard`]): SDCD's first stage.
    pub fn splits(&self) -> bool {
        matches!(self, AlgorithmParams::Sdcd(_))
    }

    /// The id used in the page's algorithm `<select>` and in links.
    pub fn id(&self) -> &'static str {
        match self {
            AlgorithmParams::Notears(_) => "notears",
            AlgorithmParams::Dagma(_) => "dagma",
            AlgorithmParams::Sdcd(_) => "sdcd",
            AlgorithmParams::Pc(_) => "pc",
            AlgorithmParams::Ges(_) => "ges",
            AlgorithmParams::Xges(_) => "xges",
        }
    }

    /// The default settings of the learner with this id (see [`crate::causal::catalog`]).
    pub fn default_for(id: &str) -> Option<AlgorithmParams> {
        Some(match id {
            "notears" => AlgorithmParams::Notears(NotearsParams::default()),
            "dagma" => AlgorithmParams::Dagma(DagmaParams::default()),
            "sdcd" => AlgorithmParams::Sdcd(SdcdParams::default()),
            "pc" => AlgorithmParams::Pc(PcParams::default()),
            "ges" => AlgorithmParams::Ges(GesParams::default()),
            "xges" => AlgorithmParams::Xges(XgesParams::default()),
            _ => return None,
        })
    }
}

// A job is built once per run and travels boxed in `ToWorker::Start`; the size of its largest
// variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Job {
    /// Read the data and describe it: columns, summaries, problems, first rows.
    Inspect { data: DataSpec },
    /// Prepare the data as `prep` says and learn a graph from it.
    Learn {
        data: DataSpec,
        prep: Prep,
        algorithm: AlgorithmParams,
        /// Forbidden / required edges and tiers, by column name.
        #[serde(default)]
        knowledge: KnowledgeSpec,
        /// Slow motion: after each new estimate the worker pauses this long, so a person can
        /// watch a fast learner (PC, GES) change the graph step by step; 0 = full speed.
        #[serde(default)]
        pace_ms: u32,
        /// How many workers the job may use, and which share this worker runs. The page sends
        /// shard 0 of as many workers as it has cores (at most [`MAX_WORKERS`]); the worker
        /// that gets it starts helper workers for the other shards when the learner can split
        /// (SDCD's stage 1). Learners that cannot split ignore it.
        #[serde(default)]
        shard: Shard,
    },
    /// Run one chain of Bayesian inference (or one ADVI fit) on `model`, bound to `data`
    /// (prepared as `prep`) when the model needs data. Each chain is its own job, so chains run
    /// in parallel workers.
    Infer {
        model: crate::bayes::models::ModelSpec,
        data: Option<DataSpec>,
        prep: Prep,
        method: InferMethod,
        chain: u32,
    },
}

/// Most workers one learning job uses.
pub const MAX_WORKERS: u32 = 2;

/// Shard `index` of `count` of a learning job ([`Job::Learn`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl Default for Shard {
    fn default() -> Self {
        Shard { index: 0, count: 1 }
    }
}

/// How an inference job explores the posterior.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum InferMethod {
    /// A Markov chain (random-walk Metropolis, HMC or NUTS); `settings.chain` is set from the
    /// job's `chain`.
    Mcmc(crate::bayes::mcmc::SamplerSettings),
    /// ADVI, mean-field or full-rank; draws come from the fitted approximation.
    Advi(crate::bayes::vi::AdviParams),
}

impl InferMethod {
    /// The id used in the page's method `<select>`.
    pub fn id(&self) -> &'static str {
        use crate::bayes::mcmc::SamplerMethod;
        use crate::bayes::vi::AdviFamily;
        match self {
            InferMethod::Mcmc(s) => match s.method {
                SamplerMethod::Rwmh => "rwmh",
                SamplerMethod::Hmc => "hmc",
                SamplerMethod::Nuts => "nuts",
            },
            InferMethod::Advi(p) => match p.family {
                AdviFamily::MeanField => "advi-meanfield",
                AdviFamily::FullRank => "advi-fullrank",
            },
        }
    }
}

/// Everything one finished inference chain hands to the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InferResult {
    /// Warm-up and kept draws with their sampler statistics.
    pub trace: crate::bayes::mcmc::Trace,
    /// ADVI's ELBO evaluations (empty for MCMC).
    pub elbo: Vec<crate::bayes::vi::ElboPoint>,
    /// Things the method noticed (ADVI's convergence notes), in words.
    pub notes: Vec<String>,
    /// Replicated outcomes for a posterior predictive check (regressions only).
    pub ppc: Option<Ppc>,
}

/// The observed outcome and a few replicated outcome vectors drawn from the posterior.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ppc {
    pub outcome: String,
    pub observed: Vec<f64>,
    pub replicates: Vec<Vec<f64>>,
    /// Whether the outcome is 0/1 (logistic regression): the page compares proportions.
    pub binary: bool,
}

/// A message from a worker to the page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub version: u32,
    pub event: Event,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Event {
    /// Sent once when the worker's code has loaded; messages sent before it would be lost.
    Ready,
    /// The idle-time warm-up (`ToWorker::WarmUp`) ran to its end: every learner's code has had
    /// its turn, so V8 has had the chance to optimize it before the first real run. Not sent
    /// when a job interrupts the warm-up.
    WarmedUp,
    Inspected {
        job_id: u32,
        inspection: Inspection,
    },
    /// Throttled to about ten a second.
    Progress {
        job_id: u32,
        progress: Progress,
    },
    /// The learner's current estimate, sent whenever it changes (each outer iteration).
    Partial {
        job_id: u32,
        snapshot: Snapshot,
    },
    Done {
        job_id: u32,
        result: LearnedGraph,
        /// Time the worker spent on the job (preparing the data and learning), in ms.
        compute_ms: f64,
    },
    Failed {
        job_id: u32,
        error: UserError,
    },
    Cancelled {
        job_id: u32,
    },
    /// New draws of an inference chain since the last batch (one batch per time slice), with
    /// new ELBO evaluations (ADVI). `offset` is the index of the first draw in the chain.
    Draws {
        job_id: u32,
        chain: u32,
        param_names: Vec<String>,
        offset: u32,
        draws: Vec<crate::bayes::mcmc::Draw>,
        elbo: Vec<crate::bayes::vi::ElboPoint>,
    },
    /// What one evaluation of the model's log density and gradient cost at the chain's starting
    /// point, timed by the worker before the chain starts (Stan's "Gradient evaluation took").
    GradientCost {
        job_id: u32,
        chain: u32,
        /// Seconds per evaluation.
        seconds: f64,
    },
    /// An inference chain finished: its whole trace, ELBO trace, notes and predictive draws.
    InferDone {
        job_id: u32,
        chain: u32,
        result: Box<InferResult>,
        compute_ms: f64,
    },
    /// A helper's shard of a split job reached a report point: its report, for the worker
    /// that runs shard 0 and started the helper; the page never sees it.
    Report {
        job_id: u32,
        report: ShardReport,
    },
    /// The worker hit a bug and is about to die; the page replaces it.
    Panicked {
        message: String,
    },
}

/// What the page shows about a dataset before anything is learned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inspection {
    pub label: String,
    pub n_rows: usize,
    pub names: Vec<String>,
    pub summaries: Vec<ColumnSummary>,
    pub problems: Vec<Problem>,
    pub preview_rows: Vec<Vec<String>>,
    /// How the file was read, in words ("comma-separated, with a header row").
    pub format: String,
    /// The known true graph, as (cause, effect) column names.
    pub truth: Option<Vec<(String, String)>>,
    /// Things worth knowing that are not problems (e.g. how the example was made).
    pub notes: Vec<String>,
}

/// A learner's intermediate state for the live view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub names: Vec<String>,
    /// Row-major d × d, unthresholded.
    pub weights: Vec<f64>,
    pub iteration: usize,
    pub label: String,
    /// Whether two-way weights mean undirected edges.
    #[serde(default)]
    pub kind: GraphKind,
    /// The learner's curve quantities (`Learner::curve_point`, by id) at every estimate since
    /// the previous snapshot, oldest first: snapshots are throttled, curve points are not.
    #[serde(default)]
    pub curve: Vec<Vec<(String, f64)>>,
}

/// An error as the page shows it: what happened, the details naming the culprit, what to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserError {
    pub title: String,
    pub detail: String,
    pub hint: String,
}

impl UserError {
    pub fn new(
        title: impl Into<String>,
        detail: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        UserError {
            title: title.into(),
            detail: detail.into(),
            hint: hint.into(),
        }
    }

    /// For bugs rather than user input: the page also restarts the worker.
    pub fn internal(detail: impl Into<String>) -> Self {
        UserError::new(
            "Internal error",
            detail,
            "This is a bug in Causeway, not a problem with your data. The worker was restarted; \
             try again, and please report it with the file that caused it.",
        )
    }
}

macro_rules! user_error_from {
    ($($ty:ty),*) => {$(
        impl From<$ty> for UserError {
            fn from(e: $ty) -> Self {
                UserError::new(e.title(), e.to_string(), e.hint())
            }
        }
    )*};
}

user_error_from!(
    crate::data::csv_reader::CsvError,
    crate::data::DataError,
    crate::causal::input::InputError,
    crate::causal::sdcd::SdcdError,
    crate::causal::xges::XgesError,
    crate::causal::knowledge::KnowledgeError
);

user_error_from!(
    crate::bayes::models::ModelError,
    crate::bayes::mcmc::SamplerError,
    crate::bayes::vi::AdviError
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn algorithm_ids_match_the_page() {
        assert_eq!(
            AlgorithmParams::Notears(NotearsParams::default()).id(),
            "notears"
        );
    }

    #[test]
    fn labels_name_the_source() {
        let spec = DataSpec::Csv {
            name: "a.csv".into(),
            bytes: vec![],
        };
        assert_eq!(spec.label(), "a.csv");
        assert!(DataSpec::Sachs.label().contains("Sachs"));
    }
}
