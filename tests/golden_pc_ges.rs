//! PC and GES against causal-learn 0.1.4.8 on the datasets of `scripts/goldens/pc_ges.py`
//! (see tests/data/pc_ges/PROVENANCE.md): the learned CPDAG must be the reference's, edge mark
//! for edge mark.

use std::path::PathBuf;

use causeway::causal::ges::{Ges, GesParams};
use causeway::causal::pc::{Pc, PcParams};
use causeway::causal::{Knowledge, Learner};
use causeway::graph::Pdag;
use causeway::metrics::compare_cpdags;
use causeway::run::StepOutcome;
use nalgebra::DMatrix;

fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(name)
}

fn read_data(rel: &str) -> DMatrix<f64> {
    let mut rdr = csv::Reader::from_path(path(rel)).unwrap();
    let d = rdr.headers().unwrap().len();
    let mut values = Vec::new();
    let mut n = 0;
    for rec in rdr.records() {
        let rec = rec.unwrap();
        for j in 0..d {
            values.push(rec[j].trim().parse::<f64>().unwrap());
        }
        n += 1;
    }
    DMatrix::from_row_slice(n, d, &values)
}

fn read_pdag(name: &str) -> Pdag {
    let text = std::fs::read_to_string(path(&format!("tests/data/pc_ges/{name}"))).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|v| v.trim().parse().unwrap()).collect())
        .collect();
    let d = rows.len();
    Pdag::from_weights(&DMatrix::from_row_slice(d, d, &rows.concat()))
}

fn read_knowledge(name: &str) -> Knowledge {
    let text = std::fs::read_to_string(path(&format!("tests/data/pc_ges/{name}"))).unwrap();
    let mut k = Knowledge::default();
    for line in text.lines() {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let edge = (parts[1].parse().unwrap(), parts[2].parse().unwrap());
        match parts[0] {
            "forbidden" => k.forbidden.push(edge),
            "required" => k.required.push(edge),
            "tier" => {
                if k.tiers.len() <= edge.0 {
                    k.tiers.resize(edge.0 + 1, 0);
                }
                k.tiers[edge.0] = edge.1;
            }
            other => panic!("unknown line {other}"),
        }
    }
    k
}

fn data_of(tag: &str) -> DMatrix<f64> {
    if tag == "sachs" {
        read_data("static/data/sachs_observational.csv")
    } else {
        read_data(&format!("tests/data/pc_ges/{tag}_data.csv"))
    }
}

fn finish(learner: &mut dyn Learner) -> Pdag {
    let mut steps = 0;
    let mut last_version = learner.version();
    let mut versions = 0;
    while let StepOutcome::Continue = learner.step() {
        steps += 1;
        if learner.version() != last_version {
            versions += 1;
            last_version = learner.version();
        }
        assert!(steps < 10_000_000);
    }
    let res = learner.result();
    assert_eq!(res.kind, causeway::causal::GraphKind::Cpdag);
    assert!(versions >= 1);
    Pdag::from_weights(&res.weight_matrix())
}

fn check(tag: &str, algo: &str, ours: &Pdag, reference: &Pdag) {
    let c = compare_cpdags(reference, ours);
    eprintln!("{tag} {algo}: SHD to causal-learn {} ({:?})", c.shd, c);
    assert_eq!(ours, reference, "{tag} {algo}: SHD {}", c.shd);
}

fn pc_case(tag: &str) {
    let x = data_of(tag);
    let mut pc = Pc::new(&x, PcParams::default(), &Knowledge::default()).unwrap();
    let ours = finish(&mut pc);
    check(tag, "pc", &ours, &read_pdag(&format!("{tag}_pc.csv")));
}

fn ges_case(tag: &str) {
    let x = data_of(tag);
    let mut ges = Ges::new(&x, GesParams::default(), &Knowledge::default()).unwrap();
    let ours = finish(&mut ges);
    check(tag, "ges", &ours, &read_pdag(&format!("{tag}_ges.csv")));
}

#[test]
fn pc_er8() {
    pc_case("er8");
}

#[test]
fn pc_er10() {
    pc_case("er10");
}

#[test]
fn pc_er15() {
    pc_case("er15");
}

#[test]
fn pc_sachs() {
    pc_case("sachs");
}

fn pc_knowledge_case(tag: &str) {
    let x = data_of(tag);
    let k = read_knowledge(&format!("{tag}_knowledge.txt"));
    let mut pc = Pc::new(&x, PcParams::default(), &k).unwrap();
    let ours = finish(&mut pc);
    let reference = read_pdag(&format!("{tag}_pc_knowledge.csv"));
    // The knowledge must matter, or this case tests nothing beyond the plain one.
    assert_ne!(reference, read_pdag(&format!("{tag}_pc.csv")));
    check(&format!("{tag}+knowledge"), "pc", &ours, &reference);
}

#[test]
fn pc_er10_with_forbidden_and_required_edges() {
    pc_knowledge_case("er10");
}

#[test]
fn pc_er15_with_tiers() {
    pc_knowledge_case("er15");
}

#[test]
fn pc_er12_dense() {
    pc_case("er12d4");
}

#[test]
fn ges_er12_dense() {
    ges_case("er12d4");
}

#[test]
fn ges_er8() {
    ges_case("er8");
}

#[test]
fn ges_er10() {
    ges_case("er10");
}

#[test]
fn ges_er15() {
    ges_case("er15");
}

#[test]
fn ges_sachs() {
    ges_case("sachs");
}
