//! What the worker does for each job, kept free of the worker itself so it is tested natively:
//! reading and describing data, preparing it, and driving a learner step by step.

use crate::causal::knowledge::KnowledgeSpec;
use crate::causal::notears::Notears;
use crate::causal::{GraphKind, LearnedGraph, Learner};
use crate::data::csv_reader::{read_csv, Prep, Table};
use crate::data::{examples, synthetic, Dataset};
use crate::protocol::{AlgorithmParams, DataSpec, Inspection, Snapshot, UserError};
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
                "Sachs et al. (2005): 11 phosphoproteins measured in 853 single cells under \
                 anti-CD3/CD28 stimulation. The true graph is the 17-edge consensus network."
                    .to_string(),
                "The raw intensities are heavily skewed and on very different scales, so \
                 standardizing is on."
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
            Ok(Loaded {
                source: Source::Generated(generated.dataset),
                truth: Some(truth),
                notes: vec![
                    format!(
                    "A random Erdős–Rényi DAG on {} nodes with expected degree {}; each variable \
                     is a weighted sum of its parents (weights ±U(0.5, 2)) plus N(0, 1) noise.",
                    params.n_nodes, params.expected_degree
                ),
                    "Standardizing is off: NOTEARS was evaluated on raw synthetic data, whose \
                 variances grow along the causal order; standardizing removes that clue."
                        .to_string(),
                ],
            })
        }
    }
}

/// Whether the page ticks "standardize" for this source by default: only for Sachs, whose raw
/// intensities differ in scale by orders of magnitude. A user's CSV is taken as given, as the
/// reference implementations do; the option stays visible.
pub fn standardize_by_default(data: &DataSpec) -> bool {
    matches!(data, DataSpec::Sachs)
}

/// Reads the data and describes it for the preview.
pub fn inspect(data: &DataSpec) -> Result<Inspection, UserError> {
    let loaded = load(data)?;
    let label = data.label();
    let inspection = match &loaded.source {
        Source::Table(table) => Inspection {
            label,
            n_rows: table.n_rows,
            names: table.names(),
            summaries: table.summaries(),
            problems: table.problems(),
            preview_rows: table.preview_rows.clone(),
            format: describe_format(table),
            truth: loaded.truth,
            notes: loaded.notes,
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
            truth: loaded.truth,
            notes: loaded.notes,
        },
    };
    Ok(inspection)
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
}

pub fn prepare(data: &DataSpec, prep: &Prep) -> Result<Prepared, UserError> {
    let loaded = load(data)?;
    let dataset = match loaded.source {
        Source::Table(table) => table.to_dataset(prep)?,
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
    let truth = loaded.truth.map(|edges| {
        edges
            .into_iter()
            .filter(|(a, b)| dataset.names.contains(a) && dataset.names.contains(b))
            .collect()
    });
    Ok(Prepared { dataset, truth })
}

/// A learning job in progress: the worker calls [`LearnRun::step`] in time slices.
pub struct LearnRun {
    names: Vec<String>,
    learner: Box<dyn Learner>,
    reported_version: Option<usize>,
    kind: GraphKind,
}

impl LearnRun {
    pub fn start(
        data: &DataSpec,
        prep: &Prep,
        algorithm: &AlgorithmParams,
        knowledge: &KnowledgeSpec,
    ) -> Result<Self, UserError> {
        let prepared = prepare(data, prep)?;
        prepared.dataset.check_identifiable()?;
        let knowledge = knowledge.resolve(&prepared.dataset.names)?;
        let x = prepared.dataset.to_matrix();
        let learner: Box<dyn Learner> = match algorithm {
            AlgorithmParams::Notears(params) => {
                Box::new(Notears::with_knowledge(&x, params.clone(), &knowledge)?)
            }
        };
        let kind = crate::causal::catalog::info(algorithm.id())
            .map(|info| info.output)
            .unwrap_or_default();
        Ok(LearnRun {
            names: prepared.dataset.names,
            learner,
            reported_version: None,
            kind,
        })
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

    /// The current estimate, when it changed since the last call (and on the first call).
    pub fn fresh_snapshot(&mut self) -> Option<Snapshot> {
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
        })
    }

    pub fn result(&self) -> LearnedGraph {
        self.learner.result()
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
    fn a_bad_csv_becomes_a_user_error() {
        let data = DataSpec::Csv {
            name: "x.csv".into(),
            bytes: b"a,b\n".to_vec(),
        };
        let err = inspect(&data).unwrap_err();
        assert!(!err.title.is_empty() && !err.detail.is_empty() && !err.hint.is_empty());
    }

    #[test]
    fn notears_runs_to_the_end_on_sachs_and_streams_snapshots() {
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
        let result = run_to_end(&mut run);
        assert_eq!(result.n_nodes, 11);
        assert!(result.graph().is_acyclic());
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
}
