//! Times a native structure learner on the datasets of `make bench` (written by the bench_data
//! example), and scores every contender's graphs against the truth.
//!
//! Usage:
//!   cargo run --release --example bench_learners -- DATADIR --learner ID [--repeats N] [--seed S] [NAME ...]
//!   cargo run --release --example bench_learners -- --score DATADIR FILE.jsonl ...
//!
//! Timing: for each dataset (all of DATADIR/datasets.json unless names are given) and each repeat
//! it builds the job exactly as the page's worker does, `jobs::LearnRun::start_cached` on the
//! CSV's bytes with the default preparation, the learner's default settings and no background
//! knowledge, then steps it to the end. As in the page, the CSV is read once beforehand (the
//! preview's `inspect`, untimed) and each run takes it from the worker's `jobs::DataCache`; the
//! time covers preparing the data (the chosen columns and rows, the identifiability check),
//! building the learner and every step (the worker's compute time covers the same). One JSON line per
//! dataset: the median time, every run's time and the learned graph's edges as the page writes
//! them (`A->B` directed, `A--B` undirected); a job whose median is under 20 ms after the
//! requested repeats runs 15 times in all. `--seed S` sets the learner's `seed` setting (a
//! stochastic learner's, SDCD's) and adds `"seed": S` to the line. `--workers N` runs a job
//! that splits (SDCD's first stage) as the page does on N workers: shard 0 in this thread and
//! the others in their own (`jobs::LearnRun::start_shard`, each reading the CSV itself as a
//! helper worker does), sending their reports to shard 0; the line gets `"workers": N`.
//!
//! Scoring: reads JSON lines of any contender (`dataset`, `learner` and `edges` as above; a line
//! without `edges`, e.g. a timed-out run, is passed through) and adds, against
//! DATADIR/NAME.truth.csv, computed by `causeway::metrics` for all contenders alike:
//!   dag_shd, dag_f1      `metrics::compare` (missing + extra + reversed, directed F1); only for
//!                        graphs with no undirected edge
//!   cpdag_shd, skeleton_f1  `metrics::compare_with_true_cpdag`: the learned graph (a DAG is first
//!                        replaced by its CPDAG) against the true DAG's CPDAG, each differing pair
//!                        counted once, as causal-learn's `SHD`
//!   shd, f1              the headline pair: dag_* for the DAG learners (NOTEARS, DAGMA, SDCD),
//!                        cpdag_shd / skeleton_f1 for the CPDAG learners (PC, GES, XGES)

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver};
use std::time::Instant;

use causeway::causal::sdcd::ShardReport;
use causeway::protocol::Shard;

use causeway::causal::GraphKind;
use causeway::data::csv_reader::Prep;
use causeway::graph::DiGraph;
use causeway::jobs::{DataCache, LearnRun};
use causeway::metrics::{compare, compare_with_true_cpdag};
use causeway::protocol::{AlgorithmParams, DataSpec};
use causeway::run::{StepOutcome, StopReason};
use nalgebra::DMatrix;
use serde_json::{json, Value};

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn manifest(dir: &Path) -> Result<Vec<Value>, String> {
    let path = dir.join("datasets.json");
    let v: Value =
        serde_json::from_str(&read(&path)?).map_err(|e| format!("{}: {e}", path.display()))?;
    v.as_array()
        .cloned()
        .filter(|a| !a.is_empty())
        .ok_or_else(|| format!("{} lists no dataset", path.display()))
}

/// The column names (the CSV's header) and the true edges as index pairs.
fn truth(dir: &Path, name: &str) -> Result<(Vec<String>, DiGraph), String> {
    let csv = read(&dir.join(format!("{name}.csv")))?;
    let names: Vec<String> = csv
        .lines()
        .next()
        .unwrap_or("")
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    let index = |v: &str| {
        names
            .iter()
            .position(|n| n == v)
            .ok_or_else(|| format!("{name}: {v:?} is not a column"))
    };
    let mut edges = vec![];
    for line in read(&dir.join(format!("{name}.truth.csv")))?
        .lines()
        .skip(1)
    {
        if let Some((a, b)) = line.trim().split_once(',') {
            edges.push((index(a)?, index(b)?));
        }
    }
    let d = names.len();
    Ok((names, DiGraph::from_edges(d, &edges)))
}

/// The learned graph's edges as the page labels them.
fn edge_labels(names: &[String], weights: &DMatrix<f64>, kind: GraphKind) -> Vec<String> {
    let d = weights.nrows();
    let on = |i: usize, j: usize| weights[(i, j)] != 0.0 && weights[(i, j)].is_finite();
    let mut out = vec![];
    for i in 0..d {
        for j in 0..d {
            if i == j || !on(i, j) {
                continue;
            }
            if kind == GraphKind::Cpdag && on(j, i) {
                if i < j {
                    out.push(format!("{}--{}", names[i], names[j]));
                }
            } else {
                out.push(format!("{}->{}", names[i], names[j]));
            }
        }
    }
    out.sort();
    out
}

/// Jobs with a median under this many seconds run [`SHORT_RUNS`] times in all.
const SHORT_S: f64 = 0.02;
const SHORT_RUNS: usize = 15;

fn median(xs: &[f64]) -> f64 {
    let mut sorted = xs.to_vec();
    sorted.sort_by(|a, b| a.total_cmp(b));
    sorted[sorted.len() / 2]
}

/// The default settings of `learner`, with its `seed` setting replaced when `seed` is given.
fn settings(learner: &str, seed: Option<u64>) -> Result<AlgorithmParams, String> {
    let params = AlgorithmParams::default_for(learner)
        .ok_or_else(|| format!("no learner {learner:?} (notears, dagma, sdcd, pc, ges, xges)"))?;
    let Some(seed) = seed else {
        return Ok(params);
    };
    // Externally tagged: {"Variant": {"seed": …, …}}.
    let mut value = serde_json::to_value(&params).map_err(|e| e.to_string())?;
    let field = value
        .as_object_mut()
        .and_then(|o| o.values_mut().next())
        .and_then(Value::as_object_mut)
        .and_then(|inner| inner.get_mut("seed"))
        .ok_or_else(|| format!("{learner} has no seed setting"))?;
    *field = json!(seed);
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// Steps shard 0 of a split job to its end, taking the other shards' reports from `from`
/// (tagged with their shard) whenever it waits for them; sets `stop` once it needs them no
/// more. Returns its steps and why it stopped.
fn lead(
    run: &mut LearnRun,
    from: &Receiver<(usize, ShardReport)>,
    stop: &AtomicBool,
) -> Result<(usize, StopReason), String> {
    let mut steps = 0usize;
    let mut early: Vec<(usize, ShardReport)> = Vec::new();
    let others = run.shards() - 1;
    loop {
        if run.awaits_reports() {
            // One report of each other shard, each shard's in order.
            let mut got: Vec<(usize, ShardReport)> = Vec::new();
            while got.len() < others {
                let (k, r) = match early
                    .iter()
                    .position(|(k, _)| !got.iter().any(|g| g.0 == *k))
                {
                    Some(at) => early.remove(at),
                    None => from.recv().map_err(|_| "a shard stopped".to_string())?,
                };
                if got.iter().any(|g| g.0 == k) {
                    early.push((k, r));
                } else {
                    got.push((k, r));
                }
            }
            run.receive_reports(got.into_iter().map(|(_, r)| r).collect())?;
            if !run.shards_needed() {
                stop.store(true, Ordering::Relaxed);
            }
        }
        steps += 1;
        if let StepOutcome::Finished(reason) = run.step() {
            stop.store(true, Ordering::Relaxed);
            return Ok((steps, reason));
        }
    }
}

/// One job split into `workers` shards on as many threads, the others sending their reports
/// to shard 0 as helper workers do; returns shard 0's run, steps and stop.
fn run_split(
    cache: &mut DataCache,
    data: &DataSpec,
    algorithm: &AlgorithmParams,
    workers: usize,
) -> Result<(LearnRun, usize, StopReason), String> {
    let start = |cache: &mut DataCache, index: usize| {
        let shard = Shard {
            index: index as u32,
            count: workers as u32,
        };
        LearnRun::start_shard(
            cache,
            data.clone(),
            &Prep::default(),
            algorithm,
            &Default::default(),
            shard,
        )
        .map_err(|e| format!("{}: {} {}", e.title, e.detail, e.hint))
    };
    let mut run = start(cache, 0)?;
    let (to_lead, from) = channel::<(usize, ShardReport)>();
    let stop = AtomicBool::new(run.shards() == 1);
    std::thread::scope(|scope| {
        for k in 1..run.shards() {
            let (to_lead, stop) = (to_lead.clone(), &stop);
            scope.spawn(move || -> Result<(), String> {
                let mut run = start(&mut DataCache::default(), k)?;
                while !stop.load(Ordering::Relaxed) {
                    let finished = matches!(run.step(), StepOutcome::Finished(_));
                    while let Some(report) = run.take_report() {
                        // Shard 0 may be done already.
                        let _ = to_lead.send((k, report));
                    }
                    if finished {
                        break;
                    }
                }
                Ok(())
            });
        }
        drop(to_lead);
        let result = lead(&mut run, &from, &stop);
        stop.store(true, Ordering::Relaxed);
        let (steps, stop_reason) = result?;
        Ok((run, steps, stop_reason))
    })
}

fn bench(
    dir: &Path,
    name: &str,
    learner: &str,
    (repeats, workers): (usize, usize),
    seed: Option<u64>,
) -> Result<Value, String> {
    let bytes = std::fs::read(dir.join(format!("{name}.csv")))
        .map_err(|e| format!("cannot read {name}.csv: {e}"))?;
    let data = DataSpec::Csv {
        name: format!("{name}.csv"),
        bytes,
    };
    let algorithm = settings(learner, seed)?;
    let kind = causeway::causal::catalog::info(learner)
        .map(|i| i.output)
        .unwrap_or_default();
    let mut seconds = vec![];
    let mut last = None;
    let mut cache = DataCache::default();
    cache
        .inspect(data.clone())
        .map_err(|e| format!("{name}: {}: {} {}", e.title, e.detail, e.hint))?;
    // A job whose median is under SHORT_S after the requested repeats runs SHORT_RUNS times in
    // all: millisecond jobs vary most with the machine's state, and cost nothing to repeat.
    let mut target = repeats;
    while seconds.len() < target {
        // The job's own copy of the bytes, as the worker gets one with each message.
        let job_data = data.clone();
        let start = Instant::now();
        if workers > 1 {
            let (run, steps, stop) = run_split(&mut cache, &job_data, &algorithm, workers)?;
            let result = run.result();
            seconds.push(start.elapsed().as_secs_f64());
            last = Some((run.names().to_vec(), result, steps, stop, run.shards()));
            continue;
        }
        let mut run = LearnRun::start_cached(
            &mut cache,
            job_data,
            &Prep::default(),
            &algorithm,
            &Default::default(),
        )
        .map_err(|e| format!("{name}: {}: {} {}", e.title, e.detail, e.hint))?;
        let mut steps = 0usize;
        let stop = loop {
            steps += 1;
            if let StepOutcome::Finished(reason) = run.step() {
                break reason;
            }
        };
        let result = run.result();
        seconds.push(start.elapsed().as_secs_f64());
        if seconds.len() == repeats && median(&seconds) < SHORT_S {
            target = repeats.max(SHORT_RUNS);
        }
        last = Some((run.names().to_vec(), result, steps, stop, 1));
    }
    let (names, result, steps, stop, shards) = last.ok_or("--repeats must be ≥ 1")?;
    let stop = match stop {
        StopReason::Converged => "converged".to_string(),
        StopReason::LimitReached(why) => why,
    };
    let mut line = json!({
        "dataset": name,
        "learner": learner,
        "impl": "native",
        "seconds": median(&seconds),
        "runs": seconds,
        "steps": steps,
        "stop": stop,
        "kind": if kind == GraphKind::Cpdag { "cpdag" } else { "dag" },
        "edges": edge_labels(&names, &result.weight_matrix(), kind),
    });
    if let Some(seed) = seed {
        line["seed"] = json!(seed);
    }
    if shards > 1 {
        line["workers"] = json!(shards);
    }
    Ok(line)
}

/// Adds the metrics to one result line.
fn score(dir: &Path, mut line: Value) -> Result<Value, String> {
    let Some(edges) = line.get("edges").and_then(Value::as_array).cloned() else {
        return Ok(line);
    };
    let name = line["dataset"].as_str().ok_or("a line without dataset")?;
    let learner = line["learner"].as_str().unwrap_or("").to_string();
    let (names, truth) = truth(dir, name)?;
    let d = names.len();
    let index = |v: &str| {
        names
            .iter()
            .position(|n| n == v.trim())
            .ok_or_else(|| format!("{name}: edge end {v:?} is not a column"))
    };
    let mut w = DMatrix::<f64>::zeros(d, d);
    let mut undirected = false;
    for e in &edges {
        let e = e.as_str().ok_or("edges must be strings")?;
        if let Some((a, b)) = e.split_once("->") {
            w[(index(a)?, index(b)?)] = 1.0;
        } else if let Some((a, b)) = e.split_once("--") {
            let (i, j) = (index(a)?, index(b)?);
            w[(i, j)] = 1.0;
            w[(j, i)] = 1.0;
            undirected = true;
        } else {
            return Err(format!("{name}: bad edge {e:?}"));
        }
    }
    let cp = compare_with_true_cpdag(&truth, &w);
    let cpdag_learner =
        causeway::causal::catalog::info(&learner).is_some_and(|i| i.output == GraphKind::Cpdag);
    let obj = line.as_object_mut().ok_or("a line that is not an object")?;
    obj.insert("cpdag_shd".into(), json!(cp.shd));
    obj.insert("skeleton_f1".into(), json!(cp.skeleton_f1));
    obj.insert("n_edges".into(), json!(edges.len()));
    obj.insert("true_edges".into(), json!(truth.n_edges()));
    if !undirected {
        let c = compare(&truth, &DiGraph::from_weights(&w, 0.0));
        obj.insert("dag_shd".into(), json!(c.shd));
        obj.insert("dag_f1".into(), json!(c.f1));
        if !cpdag_learner {
            obj.insert("shd".into(), json!(c.shd));
            obj.insert("f1".into(), json!(c.f1));
        }
    }
    if cpdag_learner {
        obj.insert("shd".into(), json!(cp.shd));
        obj.insert("f1".into(), json!(cp.skeleton_f1));
    }
    Ok(line)
}

fn run() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--score") {
        let dir = PathBuf::from(args.get(1).ok_or("--score needs DATADIR")?);
        for file in &args[2..] {
            for (k, text) in read(Path::new(file))?.lines().enumerate() {
                if text.trim().is_empty() {
                    continue;
                }
                let v: Value = serde_json::from_str(text)
                    .map_err(|e| format!("{file}, line {}: {e}", k + 1))?;
                println!("{}", score(&dir, v)?);
            }
        }
        return Ok(());
    }
    let mut args = args.into_iter();
    let usage = "usage: bench_learners DATADIR --learner ID [--repeats N] [--seed S] [--workers N] [NAME ...]";
    let dir: PathBuf = args.next().ok_or(usage)?.into();
    let mut repeats = 3;
    let mut learner = None;
    let mut seed = None;
    let mut workers = 1;
    let mut names = vec![];
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--repeats" => {
                repeats = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&r: &usize| r >= 1)
                    .ok_or("--repeats needs a whole number ≥ 1")?;
            }
            "--learner" => learner = Some(args.next().ok_or("--learner needs an id")?),
            "--workers" => {
                workers = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&w: &usize| (1..=8).contains(&w))
                    .ok_or("--workers needs a whole number from 1 to 8")?;
            }
            "--seed" => {
                seed = Some(
                    args.next()
                        .and_then(|v| v.parse().ok())
                        .ok_or("--seed needs a whole number ≥ 0")?,
                );
            }
            _ => names.push(arg),
        }
    }
    let learner = learner.ok_or(usage)?;
    if names.is_empty() {
        names = manifest(&dir)?
            .iter()
            .filter_map(|m| m["name"].as_str().map(str::to_string))
            .collect();
    }
    for name in &names {
        let line = bench(&dir, name, &learner, (repeats, workers), seed)?;
        println!("{line}");
        eprintln!(
            "bench_learners: {learner} {name}: {:.3} s",
            line["seconds"].as_f64().unwrap_or(f64::NAN)
        );
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_learners: error: {e}");
            ExitCode::FAILURE
        }
    }
}
