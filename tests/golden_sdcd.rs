//! SDCD against the reference `sdcd` 0.1.4 (PyTorch) on the seeded datasets of
//! `scripts/goldens/sdcd.py` (see tests/data/sdcd/PROVENANCE.md). Training is stochastic and
//! the two random streams differ (torch vs ChaCha8), so the graphs are compared by SHD, to the
//! reference's DAG and to the truth.

use std::path::PathBuf;

use causeway::causal::sdcd::{intervention_mask_from_labels, Sdcd, SdcdParams};
use causeway::causal::Knowledge;
use causeway::graph::DiGraph;
use causeway::metrics::compare;
use causeway::run::StepOutcome;
use nalgebra::DMatrix;

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/sdcd")
        .join(name)
}

/// Numeric columns (all but a trailing `target` column) and the targets, if any.
fn read_data(name: &str) -> (DMatrix<f64>, Vec<String>, Option<Vec<String>>) {
    let mut rdr = csv::Reader::from_path(path(name)).unwrap();
    let header: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
    let has_target = header.last().map(|h| h == "target").unwrap_or(false);
    let d = header.len() - usize::from(has_target);
    let mut values = Vec::new();
    let mut targets = Vec::new();
    let mut n = 0;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        for j in 0..d {
            values.push(rec[j].parse::<f64>().unwrap());
        }
        if has_target {
            targets.push(rec[d].to_string());
        }
        n += 1;
    }
    let x = DMatrix::from_row_slice(n, d, &values);
    (x, header[..d].to_vec(), has_target.then_some(targets))
}

fn read_graph(name: &str) -> DiGraph {
    let text = std::fs::read_to_string(path(name)).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|v| v.trim().parse().unwrap()).collect())
        .collect();
    let d = rows.len();
    let flat: Vec<f64> = rows.concat();
    DiGraph::from_weights(&DMatrix::from_row_slice(d, d, &flat), 0.5)
}

const REFERENCE_SEEDS: [u64; 3] = [0, 1, 2];

/// Our DAG with the given seed and the reference's DAGs for each of its seeds.
fn learn(name: &str, seed: u64) -> (DiGraph, DiGraph, Vec<DiGraph>) {
    let (x, names, targets) = read_data(&format!("{name}_data.csv"));
    let mask = targets.map(|t| intervention_mask_from_labels(&t, &names).unwrap());
    let params = SdcdParams {
        seed,
        ..SdcdParams::default()
    };
    let mut sdcd = Sdcd::new(&x, params, &Knowledge::default(), mask.as_deref()).unwrap();
    while let StepOutcome::Continue = sdcd.step() {}
    let ours = sdcd.result().graph();
    assert!(ours.is_acyclic());
    eprintln!("{name} seed {seed}: {:?} {:?}", sdcd.stats(), ours.edges());
    let truth = read_graph(&format!("{name}_truth.csv"));
    let refs = REFERENCE_SEEDS
        .iter()
        .map(|s| read_graph(&format!("{name}_ref_dag_s{s}.csv")))
        .collect();
    (ours, truth, refs)
}

/// The reference's own run-to-run spread: the largest SHD between two of its seeds.
fn reference_spread(refs: &[DiGraph]) -> usize {
    let mut spread = 0;
    for a in 0..refs.len() {
        for b in a + 1..refs.len() {
            spread = spread.max(compare(&refs[a], &refs[b]).shd);
        }
    }
    spread
}

/// Ours (seed 0) is no further from the nearest reference run than the reference runs are
/// from each other, and no further from the truth than the worst reference run plus 2.
fn check(name: &str) {
    let (ours, truth, refs) = learn(name, 0);
    let to_refs: Vec<usize> = refs.iter().map(|r| compare(r, &ours).shd).collect();
    let refs_to_truth: Vec<usize> = refs.iter().map(|r| compare(&truth, r).shd).collect();
    let ours_to_truth = compare(&truth, &ours).shd;
    let spread = reference_spread(&refs);
    eprintln!(
        "{name}: SHD(ours, reference seeds) = {to_refs:?}, reference spread = {spread}, \
         SHD(ours, truth) = {ours_to_truth}, SHD(reference seeds, truth) = {refs_to_truth:?}"
    );
    assert!(
        *to_refs.iter().min().unwrap() <= spread,
        "{to_refs:?} vs spread {spread}"
    );
    assert!(ours_to_truth <= refs_to_truth.iter().max().unwrap() + 2);
    // The two bounds above are loose where the reference itself varies a lot (on int6 its
    // spread equals its edge count, so an empty graph would meet them): ours must also keep
    // most of the adjacencies that a majority of the reference runs agree on.
    let d = truth.n_nodes();
    let consensus: Vec<(usize, usize)> = (0..d)
        .flat_map(|i| (i + 1..d).map(move |j| (i, j)))
        .filter(|&(i, j)| {
            refs.iter()
                .filter(|r| r.has_edge(i, j) || r.has_edge(j, i))
                .count()
                * 2
                > refs.len()
        })
        .collect();
    let kept = consensus
        .iter()
        .filter(|&&(i, j)| ours.has_edge(i, j) || ours.has_edge(j, i))
        .count();
    eprintln!(
        "{name}: ours keeps {kept} of the {} consensus adjacencies",
        consensus.len()
    );
    assert!(
        !consensus.is_empty() && 2 * kept >= consensus.len(),
        "{name}: ours keeps {kept} of {consensus:?}"
    );
}

#[test]
fn er10_observational_is_within_the_reference_spread() {
    check("er10");
}

#[test]
fn int6_interventional_is_within_the_reference_spread() {
    check("int6");
}

#[test]
fn er15_observational_is_within_the_reference_spread() {
    check("er15");
}

/// Mean SHD to the truth over three seeds, ours vs the reference's. About 40 s:
/// `cargo test --release --test golden_sdcd -- --ignored --nocapture`.
#[test]
#[ignore]
fn mean_shd_to_truth_over_seeds_is_comparable() {
    for name in ["er10", "int6", "er15"] {
        let mut ours = 0.0;
        let mut theirs = 0.0;
        for seed in REFERENCE_SEEDS {
            let (g, truth, refs) = learn(name, seed);
            ours += compare(&truth, &g).shd as f64 / 3.0;
            theirs += compare(&truth, &refs[seed as usize]).shd as f64 / 3.0;
        }
        eprintln!("{name}: mean SHD to truth, ours {ours:.2}, reference {theirs:.2}");
        assert!(ours <= theirs + 2.0, "{name}: {ours} vs {theirs}");
    }
}

/// Speed on er10 with the reference's settings: wall time per epoch, to set against the
/// reference's seconds in tests/data/sdcd/timings.txt (about 3850 epochs for seed 0).
/// `cargo test --release --test golden_sdcd speed -- --ignored --nocapture`.
#[test]
#[ignore]
fn speed() {
    let (x, _, _) = read_data("er10_data.csv");
    let start = std::time::Instant::now();
    let mut sdcd = Sdcd::new(&x, SdcdParams::default(), &Knowledge::default(), None).unwrap();
    let mut epochs = 0;
    let mut stage = 1;
    let mut last_epoch = 0;
    while let StepOutcome::Continue = sdcd.step() {
        let st = sdcd.stats();
        if st.stage != stage {
            epochs += last_epoch;
            stage = st.stage;
        }
        last_epoch = st.epoch;
    }
    epochs += sdcd.stats().epoch;
    let secs = start.elapsed().as_secs_f64();
    eprintln!(
        "er10: {epochs} epochs in {secs:.2} s, {:.3} ms per epoch",
        1e3 * secs / epochs as f64
    );
}
