//! Times native NOTEARS on the datasets of `make bench` (written by the bench_data example).
//!
//! Usage: cargo run --release --example bench_notears -- DATADIR [--repeats N] [NAME ...]
//!
//! For each dataset (all of DATADIR/datasets.json unless names are given) it reads NAME.csv with
//! the page's CSV reader and default preparation, then runs `Notears` with default parameters,
//! stepping to the end, N times (default 3). The time covers `Notears::new` (centring, the
//! covariance) and every step, not the CSV parsing. It prints one JSON line per dataset with
//! the median time and the graph's SHD/F1 against NAME.truth.csv.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use causeway::causal::notears::{Notears, NotearsParams};
use causeway::data::csv_reader::{read_csv, Prep};
use causeway::graph::DiGraph;
use causeway::metrics::compare;
use causeway::run::{StepOutcome, StopReason};

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The dataset names of datasets.json, in order (the file is written by bench_data).
fn manifest_names(dir: &Path) -> Result<Vec<String>, String> {
    let text = read(&dir.join("datasets.json"))?;
    let key = "\"name\": \"";
    let names: Vec<String> = text
        .match_indices(key)
        .filter_map(|(at, _)| {
            let rest = &text[at + key.len()..];
            rest.find('"').map(|end| rest[..end].to_string())
        })
        .collect();
    if names.is_empty() {
        return Err(format!(
            "{} lists no dataset",
            dir.join("datasets.json").display()
        ));
    }
    Ok(names)
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn bench(dir: &Path, name: &str, repeats: usize) -> Result<String, String> {
    let bytes = read(&dir.join(format!("{name}.csv")))?;
    let dataset = read_csv(bytes.as_bytes())
        .map_err(|e| format!("{name}.csv: {e}"))?
        .to_dataset(&Prep::default())
        .map_err(|e| format!("{name}.csv: {e}"))?;
    let d = dataset.n_cols();
    let index = |v: &str| {
        dataset
            .names
            .iter()
            .position(|n| n == v)
            .ok_or_else(|| format!("{name}.truth.csv names {v:?}, which is not a column"))
    };
    let mut true_edges = vec![];
    for line in read(&dir.join(format!("{name}.truth.csv")))?
        .lines()
        .skip(1)
    {
        if let Some((a, b)) = line.trim().split_once(',') {
            true_edges.push((index(a)?, index(b)?));
        }
    }
    let truth = DiGraph::from_edges(d, &true_edges);
    let x = dataset.to_matrix();

    let mut seconds = vec![];
    let mut last = None;
    for _ in 0..repeats {
        let start = Instant::now();
        let mut learner =
            Notears::new(&x, NotearsParams::default()).map_err(|e| format!("{name}: {e}"))?;
        let mut steps = 0usize;
        let stop = loop {
            steps += 1;
            if let StepOutcome::Finished(reason) = learner.step() {
                break reason;
            }
        };
        seconds.push(start.elapsed().as_secs_f64());
        last = Some((learner, steps, stop));
    }
    let (learner, steps, stop) = last.expect("at least one repeat");
    let estimate = learner.result().graph();
    let cmp = compare(&truth, &estimate);
    let mut sorted = seconds.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let median = sorted[sorted.len() / 2];
    let stop = match stop {
        StopReason::Converged => "converged".to_string(),
        StopReason::LimitReached(why) => why,
    };
    let runs: Vec<String> = seconds.iter().map(|s| format!("{s:.6}")).collect();
    Ok(format!(
        "{{\"dataset\": {}, \"impl\": \"native\", \"seconds\": {median:.6}, \"runs\": [{}], \"shd\": {}, \"f1\": {:.4}, \"precision\": {:.4}, \"recall\": {:.4}, \"n_edges\": {}, \"true_edges\": {}, \"outer\": {}, \"steps\": {steps}, \"rho\": {:e}, \"h\": {:e}, \"stop\": {}}}",
        json_str(name),
        runs.join(", "),
        cmp.shd,
        cmp.f1,
        cmp.precision,
        cmp.recall,
        estimate.n_edges(),
        truth.n_edges(),
        learner.outer_iteration(),
        learner.rho(),
        learner.h(),
        json_str(&stop),
    ))
}

fn run() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let dir: PathBuf = args
        .next()
        .ok_or("usage: bench_notears DATADIR [--repeats N] [NAME ...]")?
        .into();
    let mut repeats = 3;
    let mut names = vec![];
    while let Some(arg) = args.next() {
        if arg == "--repeats" {
            repeats = args
                .next()
                .and_then(|v| v.parse().ok())
                .filter(|&r: &usize| r >= 1)
                .ok_or("--repeats needs a whole number ≥ 1")?;
        } else {
            names.push(arg);
        }
    }
    if names.is_empty() {
        names = manifest_names(&dir)?;
    }
    for name in &names {
        let line = bench(&dir, name, repeats)?;
        println!("{line}");
        eprintln!("bench_notears: {line}");
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_notears: error: {e}");
            ExitCode::FAILURE
        }
    }
}
