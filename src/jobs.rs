//! What the worker does for each job, kept free of the worker itself so it is tested natively:
//! reading and describing data, preparing it, and driving a learner step by step.

use crate::causal::dagma::Dagma;
use crate::causal::ges::Ges;
use crate::causal::input::InputError;
use crate::causal::knowledge::KnowledgeSpec;
use crate::causal::notears::Notears;
use crate::causal::pc::Pc;
use crate::causal::sdcd::{intervention_mask_from_labels, Sdcd, SdcdError, ShardReport};
use crate::causal::xges::{Xges, XgesError};
use crate::causal::{GraphKind, LearnedGraph, Learner};
use crate::data::csv_reader::{read_csv, Prep, Table};
use crate::data::{examples, synthetic, Dataset};
use crate::metrics::varsortability;
use crate::protocol::{
    AlgorithmParams, DataSpec, Inspection, Shard, Snapshot, UserError, MAX_WORKERS,
};
use crate::run::{Progress, StepOutcome};

/// Data as read, before the user's preparation choices are applied.
enum Source {
    Table(Table),
    Generated(Dataset),
}

struct Loaded {
    source: Source,
    truth: Option<Vec<(String, String)>>,
    notes: Vec<String>,
}

fn sachs_note() -> String {
    "Sachs et al. (2005): 11 phosphoproteins measured in single cells under anti-CD3/CD28 \
     stimulation. The true graph is the 17-edge consensus network."
        .to_string()
}

fn load(data: &DataSpec) -> Result<Loaded, UserError> {
    match data {
        DataSpec::Csv { bytes, .. } => Ok(Loaded {
            source: Source::Table(read_csv(bytes)?),
            truth: None,
            notes: vec![],
        }),
        DataSpec::Sachs => Ok(Loaded {
            source: Source::Table(read_csv(examples::SACHS_OBSERVATIONAL_CSV)?),
            truth: Some(examples::sachs_consensus_edges()),
            notes: vec![
                format!(
                    "{} These are the 853 cells of the observational condition.",
                    sachs_note()
                ),
                "The raw intensities are heavily skewed and on very different scales, so \
                 standardizing is on."
                    .to_string(),
            ],
        }),
        DataSpec::SachsFull { bytes } => Ok(Loaded {
            source: Source::Table(read_csv(bytes)?),
            truth: Some(examples::sachs_consensus_edges()),
            notes: vec![
                format!(
                    "{} All 9 conditions, 7466 cells: column `target` names the protein each \
                     inhibitor or activator acts on (empty = none), which SDCD uses to leave \
                     those measurements out of its likelihood.",
                    sachs_note()
                ),
                "The `condition` column (the experiment's name) is dropped and `target` is \
                 chosen as the intervention column; standardizing is on."
                    .to_string(),
            ],
        }),
        DataSpec::Synthetic(params) => {
            let generated = synthetic::generate(params)?;
            let names = generated.dataset.names.clone();
            let truth = generated
                .truth
                .edges()
                .into_iter()
                .map(|(i, j)| (names[i].clone(), names[j].clone()))
                .collect();
            let mut notes = vec![synthetic_note(params)];
            if let Some(v) = varsortability(&generated.dataset.columns, &generated.truth) {
                if v >= VARSORTABILITY_NOTE {
                    notes.push(format!(
                        "Varsortability {v:.2}: along {:.0} % of the true causal paths the raw \
                         variance grows, so merely sorting the columns by variance nearly \
                         reveals the causal order (Reisach et al. 2021). Methods such as \
                         NOTEARS exploit this on raw data; tick “Standardize” to take the clue \
                         away and see how they fare without it.",
                        100.0 * v
                    ));
                }
            }
            let source = if generated.intervention_labels.is_some() {
                // Interventional data goes through the CSV reader like a user's file, so its
                // `target` column is chosen and shown like any other.
                Source::Table(read_csv(&generated.to_csv())?)
            } else {
                Source::Generated(generated.dataset)
            };
            Ok(Loaded {
                source,
                truth: Some(truth),
                notes,
            })
        }
    }
}

/// Varsortability at or above this gets a note (Reisach et al. 2021 find most simulated
/// benchmarks above 0.9; 0.8 already makes variance sorting a strong baseline).
const VARSORTABILITY_NOTE: f64 = 0.8;

fn synthetic_note(params: &synthetic::SyntheticParams) -> String {
    use synthetic::{GraphModel, Mechanism, NoiseScale};
    let graph = match params.graph {
        GraphModel::ErdosRenyi => format!(
            "A random Erdős–Rényi DAG on {} nodes with expected degree {}",
            params.n_nodes, params.expected_degree
        ),
        GraphModel::ScaleFree => format!(
            "A random scale-free (Barabási–Albert) DAG on {} nodes, each new node sending \
             {} edges to earlier ones, so a few hubs have many parents",
            params.n_nodes,
            (params.expected_degree / 2.0).round()
        ),
    };
    let equations = match params.mechanism {
        Mechanism::Linear => "each variable is a weighted sum of its parents (weights ±U(0.5, 2))",
        Mechanism::Mlp => {
            "each variable is a random one-hidden-layer tanh network of its parents (10 units, \
             weights ±U(0.5, 2))"
        }
    };
    let noise = match params.noise {
        NoiseScale::Equal => "plus N(0, 1) noise",
        NoiseScale::Random => "plus Gaussian noise whose sd is drawn from U(0.5, 1.5) per variable",
    };
    let mut note = format!("{graph}; {equations}, {noise}.");
    if let Ok(targets) = params.targets() {
        if !targets.is_empty() {
            let names: Vec<String> = targets.iter().map(|t| format!("X{}", t + 1)).collect();
            note.push_str(&format!(
                " After the {} observational rows come {} rows for each hard intervention on {} \
                 (the node is set to fresh N(0, 1) noise, cut off from its parents); column \
                 `target` says which.",
                params.n_rows,
                params.rows_per_intervention,
                names.join(", ")
            ));
        }
    }
    note.push_str(
        " Standardizing is off: the reference methods were evaluated on raw synthetic data.",
    );
    note
}

/// The preparation the page starts from for this source: Sachs is standardized (its raw
/// intensities differ in scale by orders of magnitude); the interventional examples choose
/// their `target` column (and the full Sachs set drops its `condition` name column). A user's
/// CSV is taken as given, as the reference implementations do; every option stays visible.
pub fn default_prep(data: &DataSpec) -> Prep {
    match data {
        DataSpec::Sachs => Prep {
            standardize: true,
            ..Prep::default()
        },
        DataSpec::SachsFull { .. } => Prep {
            standardize: true,
            drop_columns: vec!["condition".to_string()],
            intervention_column: Some("target".to_string()),
            ..Prep::default()
        },
        DataSpec::Synthetic(p) if p.targets().is_ok_and(|t| !t.is_empty()) => Prep {
            intervention_column: Some("target".to_string()),
            ..Prep::default()
        },
        _ => Prep::default(),
    }
}

/// Reads the data and describes it for the preview.
pub fn inspect(data: &DataSpec) -> Result<Inspection, UserError> {
    Ok(describe(data, &load(data)?))
}

/// The data set a worker read last. The page inspects a data set when it is chosen (the
/// preview) and then runs learners on it, often several times; with this the worker reads it
/// (parses the CSV, or generates the synthetic set) once, not once per job, as a Python user
/// loads a file once and fits many models to it. Reading is a pure function of the
/// [`DataSpec`], so a kept copy is exactly what reading again would give.
#[derive(Default)]
pub struct DataCache {
    last: Option<(DataSpec, Loaded)>,
    reads: usize,
}

impl DataCache {
    /// The job's `data` is kept (moved, not copied) when it is read, and dropped when it is the
    /// data set already kept: the worker holds one copy of a file's bytes, as before.
    fn read(&mut self, data: DataSpec) -> Result<(&DataSpec, &Loaded), UserError> {
        if !matches!(&self.last, Some((spec, _)) if *spec == data) {
            // The old data set goes before the new one is read: only one is ever held.
            self.last = None;
            let loaded = load(&data)?;
            self.reads += 1;
            self.last = Some((data, loaded));
        }
        self.last
            .as_ref()
            .map(|(spec, loaded)| (spec, loaded))
            .ok_or_else(|| UserError::internal("the data set just read is not kept"))
    }

    /// How many times data was actually read (not taken from the copy).
    pub fn reads(&self) -> usize {
        self.reads
    }

    /// [`inspect`], reading `data` only if it is not the data set read last.
    pub fn inspect(&mut self, data: DataSpec) -> Result<Inspection, UserError> {
        let (data, loaded) = self.read(data)?;
        Ok(describe(data, loaded))
    }

    /// [`prepare`], reading `data` only if it is not the data set read last.
    pub fn prepare(&mut self, data: DataSpec, prep: &Prep) -> Result<Prepared, UserError> {
        let (_, loaded) = self.read(data)?;
        prepare_loaded(loaded, prep)
    }
}

fn describe(data: &DataSpec, loaded: &Loaded) -> Inspection {
    let label = data.label();
    match &loaded.source {
        Source::Table(table) => Inspection {
            label,
            n_rows: table.n_rows,
            names: table.names(),
            summaries: table.summaries(),
            problems: table.problems(),
            preview_rows: table.preview_rows.clone(),
            format: describe_format(table),
            truth: loaded.truth.clone(),
            notes: loaded.notes.clone(),
        },
        Source::Generated(dataset) => Inspection {
            label,
            n_rows: dataset.n_rows(),
            names: dataset.names.clone(),
            summaries: dataset.column_summaries(),
            problems: vec![],
            preview_rows: (0..dataset.n_rows().min(10))
                .map(|row| {
                    dataset
                        .columns
                        .iter()
                        .map(|c| format!("{:.4}", c[row]))
                        .collect()
                })
                .collect(),
            format: "generated in your browser".to_string(),
            truth: loaded.truth.clone(),
            notes: loaded.notes.clone(),
        },
    }
}

fn describe_format(table: &Table) -> String {
    let delimiter = match table.delimiter {
        b';' => "semicolon-separated",
        b'\t' => "tab-separated",
        _ => "comma-separated",
    };
    let header = if table.had_header {
        "with a header row"
    } else {
        "no header row (columns named X1, X2, …)"
    };
    format!("{delimiter}, {header}")
}

/// The data ready for a learner, with the truth restricted to the columns that remain.
pub struct Prepared {
    pub dataset: Dataset,
    pub truth: Option<Vec<(String, String)>>,
    /// Per kept row, the intervention label (empty or `obs` for none), when an intervention
    /// column is chosen.
    pub intervention_labels: Option<Vec<String>>,
}

pub fn prepare(data: &DataSpec, prep: &Prep) -> Result<Prepared, UserError> {
    prepare_loaded(&load(data)?, prep)
}

fn prepare_loaded(loaded: &Loaded, prep: &Prep) -> Result<Prepared, UserError> {
    let mut intervention_labels = None;
    let dataset = match &loaded.source {
        Source::Table(table) => {
            intervention_labels = table.intervention_labels(prep)?;
            table.to_dataset(prep)?
        }
        Source::Generated(dataset) => {
            let keep: Vec<usize> = (0..dataset.n_cols())
                .filter(|&c| !prep.drop_columns.contains(&dataset.names[c]))
                .collect();
            let kept = Dataset::new(
                keep.iter().map(|&c| dataset.names[c].clone()).collect(),
                keep.iter().map(|&c| dataset.columns[c].clone()).collect(),
            )?;
            if prep.standardize {
                kept.standardized()
            } else {
                kept
            }
        }
    };
    let truth = loaded.truth.as_ref().map(|edges| {
        edges
            .iter()
            .filter(|(a, b)| dataset.names.contains(a) && dataset.names.contains(b))
            .cloned()
            .collect()
    });
    Ok(Prepared {
        dataset,
        truth,
        intervention_labels,
    })
}

/// A learning job in progress: the worker calls [`LearnRun::step`] in time slices.
pub struct LearnRun {
    names: Vec<String>,
    learner: Box<dyn Learner>,
    reported_version: Option<usize>,
    /// The estimate whose curve point was last recorded, and the points recorded since the
    /// last snapshot (see [`LearnRun::note_step`]).
    noted_version: Option<usize>,
    pending_curve: Vec<Vec<(String, f64)>>,
    kind: GraphKind,
    shards: usize,
}

/// A learner's refusal of its input as the page words it, with the column's name where the
/// learner, which sees a bare matrix, could only give its number (a constant column, a value
/// that is not finite).
fn named_input_error(e: InputError, names: &[String]) -> UserError {
    UserError::new(e.title(), e.detail_named(names), e.hint_named(names))
}

impl LearnRun {
    pub fn start(
        data: &DataSpec,
        prep: &Prep,
        algorithm: &AlgorithmParams,
        knowledge: &KnowledgeSpec,
    ) -> Result<Self, UserError> {
        Self::from_prepared(prepare(data, prep)?, algorithm, knowledge, Shard::default())
    }

    /// [`LearnRun::start`], taking the data from `cache` when it is the data set read last.
    pub fn start_cached(
        cache: &mut DataCache,
        data: DataSpec,
        prep: &Prep,
        algorithm: &AlgorithmParams,
        knowledge: &KnowledgeSpec,
    ) -> Result<Self, UserError> {
        Self::start_shard(cache, data, prep, algorithm, knowledge, Shard::default())
    }

    /// [`LearnRun::start_cached`] for one shard of a job split across workers: a learner that
    /// can split (SDCD) runs its share, the others ignore `shard` ([`LearnRun::shards`]).
    pub fn start_shard(
        cache: &mut DataCache,
        data: DataSpec,
        prep: &Prep,
        algorithm: &AlgorithmParams,
        knowledge: &KnowledgeSpec,
        shard: Shard,
    ) -> Result<Self, UserError> {
        Self::from_prepared(cache.prepare(data, prep)?, algorithm, knowledge, shard)
    }

    fn from_prepared(
        prepared: Prepared,
        algorithm: &AlgorithmParams,
        knowledge: &KnowledgeSpec,
        shard: Shard,
    ) -> Result<Self, UserError> {
        prepared.dataset.check_identifiable()?;
        let knowledge = knowledge.resolve(&prepared.dataset.names)?;
        let x = prepared.dataset.to_matrix();
        let names = &prepared.dataset.names;
        let named = |e: InputError| named_input_error(e, names);
        let mut shards = 1;
        let learner: Box<dyn Learner> = match algorithm {
            AlgorithmParams::Notears(params) => {
                Box::new(Notears::with_knowledge(&x, params.clone(), &knowledge).map_err(named)?)
            }
            AlgorithmParams::Dagma(params) => {
                Box::new(Dagma::new(&x, params.clone(), &knowledge).map_err(named)?)
            }
            AlgorithmParams::Pc(params) => {
                Box::new(Pc::new(&x, params.clone(), &knowledge).map_err(named)?)
            }
            AlgorithmParams::Ges(params) => {
                Box::new(Ges::new(&x, params.clone(), &knowledge).map_err(named)?)
            }
            AlgorithmParams::Xges(params) => Box::new(
                Xges::new(&x, params.clone(), &knowledge).map_err(|e| match e {
                    XgesError::Input(e) => named(e),
                    e => e.into(),
                })?,
            ),
            AlgorithmParams::Sdcd(params) => {
                let mask = match &prepared.intervention_labels {
                    Some(labels) => Some(intervention_mask_from_labels(
                        labels,
                        &prepared.dataset.names,
                    )?),
                    None => None,
                };
                let sdcd = Sdcd::new(&x, params.clone(), &knowledge, mask.as_deref()).map_err(
                    |e| match e {
                        SdcdError::Input(e) => named(e),
                        e => e.into(),
                    },
                )?;
                // Each shard trains at least one variable's network.
                let count = (shard.count.clamp(1, MAX_WORKERS) as usize).min(x.ncols());
                if count > 1 {
                    shards = count;
                    Box::new(sdcd.shard((shard.index as usize).min(count - 1), count))
                } else {
                    Box::new(sdcd)
                }
            }
        };
        let kind = crate::causal::catalog::info(algorithm.id())
            .map(|info| info.output)
            .unwrap_or_default();
        Ok(LearnRun {
            names: prepared.dataset.names,
            learner,
            reported_version: None,
            noted_version: None,
            pending_curve: Vec::new(),
            kind,
            shards,
        })
    }

    /// How many shards the job runs in (1 unless the learner splits).
    pub fn shards(&self) -> usize {
        self.shards
    }

    /// A helper's shard of a split job: its next report for shard 0.
    pub fn take_report(&mut self) -> Option<ShardReport> {
        self.learner.take_report()
    }

    /// Whether the job waits for the other shards' reports.
    pub fn awaits_reports(&self) -> bool {
        self.learner.awaits_reports()
    }

    /// Whether the other shards still work for this one.
    pub fn shards_needed(&self) -> bool {
        self.learner.shards_needed()
    }

    /// The other shards' reports for the current report point.
    pub fn receive_reports(&mut self, reports: Vec<ShardReport>) -> Result<(), String> {
        self.learner.receive_reports(reports)
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }

    pub fn step(&mut self) -> StepOutcome {
        self.learner.step()
    }

    pub fn progress(&self) -> Progress {
        self.learner.progress()
    }

    /// Records the learner's curve point when its estimate changed since the last call. The
    /// worker calls this after every step and posts snapshots only a few times a second (SDCD
    /// makes a new estimate every epoch, hundreds a second), so no point of the curve is lost.
    pub fn note_step(&mut self) {
        let version = self.learner.version();
        if self.noted_version == Some(version) {
            return;
        }
        self.noted_version = Some(version);
        let point: Vec<(String, f64)> = self
            .learner
            .curve_point()
            .into_iter()
            .map(|(id, v)| (id.to_string(), v))
            .collect();
        if !point.is_empty() {
            self.pending_curve.push(point);
        }
    }

    /// The current estimate, when it changed since the last call (and on the first call),
    /// with the curve points of every estimate since the last snapshot.
    pub fn fresh_snapshot(&mut self) -> Option<Snapshot> {
        self.note_step();
        let version = self.learner.version();
        if self.reported_version == Some(version) {
            return None;
        }
        self.reported_version = Some(version);
        let weights = self.learner.current_weights();
        let d = weights.nrows();
        let row_major = (0..d)
            .flat_map(|i| (0..d).map(move |j| (i, j)))
            .map(|ij| weights[ij]);
        Some(Snapshot {
            names: self.names.clone(),
            weights: row_major.collect(),
            iteration: version,
            label: self.learner.progress().label,
            kind: self.kind,
            curve: std::mem::take(&mut self.pending_curve),
        })
    }

    pub fn result(&self) -> LearnedGraph {
        self.learner.result()
    }
}

/// Idle-time warm-up: every learner of the catalogue in turn, on a generated CSV read once by
/// the same reader as a user's file (and prepared per run as a user's is), restarted whenever
/// it finishes, for a fixed time each. The worker steps it while it waits for the first real
/// job: V8 first runs wasm in its baseline tier and optimizes a function only once it has run
/// hot, so a short first job would otherwise run, and be timed, mostly on unoptimized code (in
/// Chromium a first GES or PC run on 1000 × 10 took 4-8× as long as the next). The data set
/// has 20 variables on a scale-free graph, whose hubs take the searches through larger
/// neighbourhoods: warmed on 8 variables, a first GES run on 20 still took 3–4× its steady
/// time. Results are thrown away.
pub struct WarmUp {
    data: DataSpec,
    /// The warm-up's own copy of its parsed data, apart from the worker's (a user's file).
    cache: DataCache,
    prep: Prep,
    /// Learners still to warm, the next last.
    algorithms: Vec<AlgorithmParams>,
    run: Option<LearnRun>,
    spent_ms: f64,
}

impl WarmUp {
    pub fn new() -> Option<WarmUp> {
        let params = synthetic::SyntheticParams {
            n_nodes: 20,
            n_rows: 1000,
            seed: 7,
            graph: synthetic::GraphModel::ScaleFree,
            ..synthetic::SyntheticParams::default()
        };
        let generated = synthetic::generate(&params).ok()?;
        let data = DataSpec::Csv {
            name: "warm-up.csv".to_string(),
            bytes: generated.to_csv(),
        };
        let prep = default_prep(&data);
        let mut algorithms: Vec<AlgorithmParams> = crate::causal::catalog::ALGORITHMS
            .iter()
            .filter_map(|info| AlgorithmParams::default_for(info.id))
            .collect();
        algorithms.reverse();
        Some(WarmUp {
            data,
            cache: DataCache::default(),
            prep,
            algorithms,
            run: None,
            spent_ms: 0.0,
        })
    }

    /// Steps for about `slice_ms` by `clock` (milliseconds), moving to the next learner once
    /// the current one has had `per_learner_ms`; false when every learner has had its turn.
    pub fn step(&mut self, clock: impl Fn() -> f64, slice_ms: f64, per_learner_ms: f64) -> bool {
        let started = clock();
        while clock() - started < slice_ms {
            let Some(algorithm) = self.algorithms.last() else {
                return false;
            };
            if self.spent_ms + (clock() - started) >= per_learner_ms {
                self.algorithms.pop();
                self.run = None;
                // The next learner's turn starts now, however long the last step overran.
                self.spent_ms = started - clock();
                continue;
            }
            let run = match &mut self.run {
                Some(run) => run,
                None => match LearnRun::start_cached(
                    &mut self.cache,
                    self.data.clone(),
                    &self.prep,
                    algorithm,
                    &KnowledgeSpec::default(),
                ) {
                    Ok(run) => self.run.insert(run),
                    Err(_) => {
                        self.algorithms.pop();
                        continue;
                    }
                },
            };
            let finished = matches!(run.step(), StepOutcome::Finished(_));
            let _ = run.fresh_snapshot();
            if finished {
                let _ = run.result();
                self.run = None;
            }
        }
        self.spent_ms += clock() - started;
        !self.algorithms.is_empty()
    }

    /// The learners still to warm up.
    pub fn remaining(&self) -> usize {
        self.algorithms.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::causal::notears::NotearsParams;
    use crate::run::StepOutcome;

    fn run_to_end(run: &mut LearnRun) -> LearnedGraph {
        for _ in 0..1_000_000 {
            if let StepOutcome::Finished(_) = run.step() {
                return run.result();
            }
        }
        panic!("did not finish");
    }

    #[test]
    fn sachs_is_inspected_with_its_truth() {
        let inspection = inspect(&DataSpec::Sachs).unwrap();
        assert_eq!(inspection.n_rows, 853);
        assert_eq!(inspection.names.len(), 11);
        assert_eq!(inspection.truth.as_ref().unwrap().len(), 17);
        assert!(inspection.problems.is_empty());
    }

    #[test]
    fn a_learner_refusing_a_constant_column_names_it() {
        let mut csv = String::from("a,b,k\n");
        for i in 0..30 {
            csv += &format!("{i},{},5\n", (i * 3) % 7);
        }
        let data = DataSpec::Csv {
            name: "const.csv".into(),
            bytes: csv.into_bytes(),
        };
        for id in ["pc", "ges", "xges"] {
            let params = AlgorithmParams::default_for(id).unwrap();
            let Err(e) =
                LearnRun::start(&data, &Prep::default(), &params, &KnowledgeSpec::default())
            else {
                panic!("{id} accepted a constant column");
            };
            assert_eq!(e.title, "A column is constant", "{id}");
            assert!(
                e.detail.starts_with("column \"k\" is constant"),
                "{id}: {e:?}"
            );
            assert!(e.hint.contains("\"k\""), "{id}: {e:?}");
        }
    }

    #[test]
    fn a_bad_csv_becomes_a_user_error() {
        let data = DataSpec::Csv {
            name: "x.csv".into(),
            bytes: b"a,b\n".to_vec(),
        };
        let err = inspect(&data).unwrap_err();
        assert!(!err.title.is_empty() && !err.detail.is_empty() && !err.hint.is_empty());
    }

    /// Steps NOTEARS on Sachs to the end, taking a snapshot every `every` steps (and at the
    /// end) with `note_step` after each step, as the worker does; returns the (h, ρ) curve
    /// the snapshots carried, the number of snapshots and the result.
    fn notears_on_sachs(every: usize) -> (Vec<(f64, f64)>, usize, LearnedGraph) {
        let prep = Prep {
            standardize: true,
            ..Prep::default()
        };
        let mut run = LearnRun::start(
            &DataSpec::Sachs,
            &prep,
            &AlgorithmParams::Notears(NotearsParams::default()),
            &KnowledgeSpec::default(),
        )
        .unwrap();
        assert!(run.fresh_snapshot().is_some());
        assert!(run.fresh_snapshot().is_none());
        let (mut curve, mut snapshots) = (vec![], 0);
        for steps in 1.. {
            let outcome = run.step();
            run.note_step();
            let finished = matches!(outcome, StepOutcome::Finished(_));
            if steps % every == 0 || finished {
                if let Some(s) = run.fresh_snapshot() {
                    snapshots += 1;
                    for point in &s.curve {
                        let get = |id: &str| point.iter().find(|(k, _)| k == id).map(|p| p.1);
                        curve.push((get("h").unwrap(), get("rho").unwrap()));
                    }
                }
            }
            if finished {
                return (curve, snapshots, run.result());
            }
        }
        unreachable!()
    }

    #[test]
    fn the_data_cache_reads_a_data_set_once_and_gives_what_reading_again_gives() {
        let synthetic = DataSpec::Synthetic(synthetic::SyntheticParams {
            n_nodes: 5,
            n_rows: 200,
            ..Default::default()
        });
        let csv = DataSpec::Csv {
            name: "small.csv".to_string(),
            bytes: b"a,b,c\n1,2,3\n2,1,5\n3,5,4\n4,3,8\n5,7,6\n6,4,9\n7,8,7\n8,6,1\n9,9,2\n10,2,3\n11,5,6\n"
                .to_vec(),
        };
        let mut cache = DataCache::default();
        for data in [&synthetic, &csv] {
            let reads = cache.reads();
            let prep = default_prep(data);
            assert_eq!(cache.inspect(data.clone()).unwrap(), inspect(data).unwrap());
            let standardized = Prep {
                standardize: true,
                ..prep.clone()
            };
            for prep in [&prep, &standardized, &prep] {
                let cached = cache.prepare(data.clone(), prep).unwrap();
                let fresh = prepare(data, prep).unwrap();
                assert_eq!(cached.dataset, fresh.dataset);
                assert_eq!(cached.truth, fresh.truth);
            }
            let run = LearnRun::start_cached(
                &mut cache,
                data.clone(),
                &prep,
                &AlgorithmParams::default_for("pc").unwrap(),
                &KnowledgeSpec::default(),
            )
            .unwrap();
            assert_eq!(run.names().len(), if data == &csv { 3 } else { 5 });
            assert_eq!(cache.reads(), reads + 1, "one read per data set");
        }
        // A different file of the same name is read, not confused with the kept one.
        let changed = DataSpec::Csv {
            name: "small.csv".to_string(),
            bytes: b"a,b\n1,2\n2,1\n3,5\n4,3\n5,7\n6,4\n7,8\n8,6\n9,9\n10,2\n11,5\n".to_vec(),
        };
        assert_eq!(
            cache.inspect(changed.clone()).unwrap().names,
            vec!["a", "b"]
        );
        assert_eq!(cache.reads(), 3);
        // A file that does not read is reported every time and nothing stale is kept.
        let bad = DataSpec::Csv {
            name: "bad.csv".to_string(),
            bytes: vec![],
        };
        assert!(cache.inspect(bad.clone()).is_err());
        assert!(cache.prepare(bad, &Prep::default()).is_err());
        assert_eq!(
            cache
                .prepare(changed, &Prep::default())
                .unwrap()
                .dataset
                .n_cols(),
            2
        );
        // The bad file was never kept, so the changed one is read again.
        assert_eq!(cache.reads(), 4);
    }

    #[test]
    fn notears_runs_to_the_end_on_sachs_and_streams_snapshots() {
        // Every snapshot carries the augmented Lagrangian's h and ρ for the page's curves:
        // ρ never falls, and h ends far below where it started.
        let (curve, _, result) = notears_on_sachs(1);
        assert!(curve.len() >= 3, "{curve:?}");
        assert!(curve.windows(2).all(|p| p[1].1 >= p[0].1), "{curve:?}");
        assert!(
            curve.last().unwrap().0 < 1e-3 * curve[0].0.max(1e-300),
            "{curve:?}"
        );
        assert_eq!(result.n_nodes, 11);
        assert!(result.graph().is_acyclic());
        // Snapshots taken rarely (as the worker throttles them) still carry every curve point.
        let (sparse, snapshots, sparse_result) = notears_on_sachs(500);
        assert!(
            snapshots < curve.len(),
            "{snapshots} snapshots for {} points",
            curve.len()
        );
        assert_eq!(sparse, curve);
        assert_eq!(sparse_result.weights, result.weights);
    }

    #[test]
    fn dropped_columns_leave_the_truth() {
        let params = synthetic::SyntheticParams {
            n_nodes: 4,
            ..Default::default()
        };
        let prep = Prep {
            drop_columns: vec!["X1".into()],
            ..Prep::default()
        };
        let prepared = prepare(&DataSpec::Synthetic(params), &prep).unwrap();
        assert_eq!(prepared.dataset.names, vec!["X2", "X3", "X4"]);
        assert!(prepared
            .truth
            .unwrap()
            .iter()
            .all(|(a, b)| a != "X1" && b != "X1"));
    }

    #[test]
    fn generated_interventional_data_chooses_its_target_column_and_runs_sdcd() {
        let params = synthetic::SyntheticParams {
            n_nodes: 4,
            n_rows: 200,
            intervention_targets: "X1, X3".into(),
            rows_per_intervention: 50,
            ..Default::default()
        };
        let data = DataSpec::Synthetic(params);
        let inspection = inspect(&data).unwrap();
        assert_eq!(inspection.n_rows, 300);
        assert!(inspection.names.contains(&"target".to_string()));
        let prep = default_prep(&data);
        assert_eq!(prep.intervention_column.as_deref(), Some("target"));
        let prepared = prepare(&data, &prep).unwrap();
        assert_eq!(prepared.dataset.names, vec!["X1", "X2", "X3", "X4"]);
        let labels = prepared.intervention_labels.unwrap();
        assert_eq!((labels[0].as_str(), labels[299].as_str()), ("obs", "X3"));
        let sdcd = crate::causal::sdcd::SdcdParams {
            stage1_epochs: 3,
            stage2_epochs: 3,
            ..Default::default()
        };
        let mut run = LearnRun::start(
            &data,
            &prep,
            &AlgorithmParams::Sdcd(sdcd),
            &KnowledgeSpec::default(),
        )
        .unwrap();
        let result = run_to_end(&mut run);
        assert_eq!(result.n_nodes, 4);
        assert!(result.graph().is_acyclic());
    }

    #[test]
    fn full_sachs_drops_condition_and_reads_targets() {
        let data = DataSpec::SachsFull {
            bytes: include_bytes!("../static/data/sachs_full.csv").to_vec(),
        };
        let inspection = inspect(&data).unwrap();
        assert_eq!(inspection.n_rows, 7466);
        assert_eq!(inspection.truth.as_ref().unwrap().len(), 17);
        let prep = default_prep(&data);
        let prepared = prepare(&data, &prep).unwrap();
        assert_eq!(prepared.dataset.n_cols(), 11);
        let labels = prepared.intervention_labels.unwrap();
        let mask =
            crate::causal::sdcd::intervention_mask_from_labels(&labels, &prepared.dataset.names)
                .unwrap();
        // Seven of the nine conditions intervene on one protein each: 853 + 902 rows do not.
        let observational = mask.iter().filter(|m| !m.contains(&true)).count();
        assert_eq!(observational, 853 + 902);
    }

    #[test]
    fn raw_synthetic_data_gets_a_varsortability_note() {
        let inspection = inspect(&DataSpec::Synthetic(Default::default())).unwrap();
        assert!(
            inspection
                .notes
                .iter()
                .any(|n| n.contains("Varsortability")),
            "{:?}",
            inspection.notes
        );
    }

    #[test]
    fn every_catalogue_learner_runs_to_the_end_on_sachs() {
        let prep = default_prep(&DataSpec::Sachs);
        for info in crate::causal::catalog::ALGORITHMS {
            let mut algorithm = AlgorithmParams::default_for(info.id).unwrap();
            if let AlgorithmParams::Sdcd(p) = &mut algorithm {
                // Full SDCD training is covered by its golden test; here only the wiring.
                p.stage1_epochs = 100;
                p.stage2_epochs = 100;
            }
            let mut run = LearnRun::start(
                &DataSpec::Sachs,
                &prep,
                &algorithm,
                &KnowledgeSpec::default(),
            )
            .unwrap();
            assert!(run.fresh_snapshot().is_some(), "{}", info.id);
            let result = run_to_end(&mut run);
            assert_eq!(result.n_nodes, 11, "{}", info.id);
            assert_eq!(result.kind, info.output, "{}", info.id);
            assert!(
                result.weights.iter().any(|w| *w != 0.0),
                "{}: no edge",
                info.id
            );
        }
    }
    #[test]
    fn warm_up_gives_every_learner_its_turn_and_then_stops() {
        use std::cell::Cell;
        // A fake clock advancing 1 ms per reading: every learner gets a turn of 3 ms.
        let t = Cell::new(0.0);
        let clock = || {
            t.set(t.get() + 1.0);
            t.get()
        };
        let mut warm = WarmUp::new().unwrap();
        let n = crate::causal::catalog::ALGORITHMS.len();
        assert_eq!(warm.remaining(), n);
        let mut slices = 0;
        while warm.step(clock, 10.0, 3.0) {
            slices += 1;
            assert!(slices < 100, "the warm-up does not end");
        }
        assert_eq!(warm.remaining(), 0);
        assert!(!warm.step(clock, 10.0, 3.0));
    }
}
