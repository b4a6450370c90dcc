//! XGES against the reference `xges` 0.1.6 on the seeded datasets of `scripts/goldens/xges.py`
//! and the Sachs observational data (see tests/data/xges/PROVENANCE.md): the same CPDAG, and
//! the same initial and final BIC to 1e-6 relative, for XGES-0 and for XGES.

use std::path::PathBuf;

use causeway::causal::xges::{Xges, XgesParams};
use causeway::causal::{GraphKind, Knowledge};
use causeway::run::{StepOutcome, StopReason};
use nalgebra::DMatrix;

fn path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn read_matrix(rel: &str, skip_header: bool) -> DMatrix<f64> {
    let text = std::fs::read_to_string(path(rel)).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .skip(usize::from(skip_header))
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|v| v.trim().parse().unwrap()).collect())
        .collect();
    let flat: Vec<f64> = rows.concat();
    DMatrix::from_row_slice(rows.len(), rows[0].len(), &flat)
}

/// (initial, final) reference scores by dataset and variant.
fn reference_scores(name: &str, variant: &str) -> (f64, f64) {
    let text = std::fs::read_to_string(path("tests/data/xges/scores.csv")).unwrap();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f[0] == name && f[1] == variant {
            return (f[2].parse().unwrap(), f[3].parse().unwrap());
        }
    }
    panic!("no reference score for {name} {variant}");
}

fn check(name: &str, data: &str) {
    let x = read_matrix(data, true);
    for (extended, variant) in [(false, "xges0"), (true, "xges")] {
        let params = XgesParams {
            extended_search: extended,
            ..XgesParams::default()
        };
        let mut xges = Xges::new(&x, params, &Knowledge::default()).unwrap();
        let mut steps = 0;
        while let StepOutcome::Continue = xges.step() {
            steps += 1;
            assert!(steps < 1_000_000);
        }
        let result = xges.result();
        assert_eq!(result.stop, StopReason::Converged);
        assert_eq!(result.kind, GraphKind::Cpdag);
        let ours = result.weight_matrix();
        let reference = read_matrix(&format!("tests/data/xges/{name}_ref_{variant}.csv"), false);
        let (init_ref, total_ref) = reference_scores(name, variant);
        eprintln!(
            "{name} {variant}: score ours {:.9} ref {total_ref:.9}, initial ours {:.9} ref \
             {init_ref:.9}, {} differing cells, {steps} steps",
            xges.score(),
            xges.initial_score(),
            (&ours - &reference).iter().filter(|v| **v != 0.0).count()
        );
        assert!((xges.initial_score() - init_ref).abs() <= 1e-6 * init_ref.abs());
        assert!(
            (xges.score() - total_ref).abs() <= 1e-6 * total_ref.abs(),
            "{name} {variant}: score {} vs {total_ref}",
            xges.score()
        );
        assert_eq!(ours, reference, "{name} {variant}: CPDAGs differ");
    }
}

#[test]
fn xges_matches_the_reference_on_seeded_er_graphs() {
    for name in ["er8", "er12", "er16"] {
        check(name, &format!("tests/data/xges/{name}_data.csv"));
    }
}

#[test]
fn xges_matches_the_reference_on_sachs() {
    check("sachs", "static/data/sachs_observational.csv");
}
