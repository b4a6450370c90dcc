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

/// d = 50, n = 1000: the data come from our seeded generator (see PROVENANCE.md), the
/// reference ran on them as printed with shortest round-trip formatting.
fn er50_data() -> DMatrix<f64> {
    causeway::data::synthetic::generate(&causeway::data::synthetic::SyntheticParams {
        n_nodes: 50,
        n_rows: 1000,
        seed: 5,
        expected_degree: 2.0,
        ..Default::default()
    })
    .unwrap()
    .dataset
    .to_matrix()
}

fn directed_part(g: &Pdag) -> causeway::graph::DiGraph {
    let d = g.n_nodes();
    let edges: Vec<(usize, usize)> = (0..d)
        .flat_map(|i| (0..d).map(move |j| (i, j)))
        .filter(|&(i, j)| g.is_directed(i, j))
        .collect();
    causeway::graph::DiGraph::from_edges(d, &edges)
}

#[test]
fn ges_er50() {
    let mut ges = Ges::new(&er50_data(), GesParams::default(), &Knowledge::default()).unwrap();
    let ours = finish(&mut ges);
    check("er50", "ges", &ours, &read_pdag("er50_ges.csv"));
}

/// The one verified difference: causal-learn's Meek step guards each orientation j → k with
/// `is_ancestor_of(k, j)`, read from its `dpath` matrix, which `adjust_dpath` updates only one
/// level deep (the ancestors of i are not passed on to the descendants of j when i → j is
/// added). Here it misses the path 7 → 38 → 31 → 19 → 15 → 47, orients 47 → 7 by rule 1 and
/// returns a directed cycle. Our guard is true reachability, so 7 — 47 stays undirected.
/// Everything else (skeleton and all other marks) is identical.
#[test]
fn pc_er50_differs_only_where_the_reference_closes_a_cycle() {
    let mut pc = Pc::new(&er50_data(), PcParams::default(), &Knowledge::default()).unwrap();
    let ours = finish(&mut pc);
    let reference = read_pdag("er50_pc.csv");
    let c = compare_cpdags(&reference, &ours);
    assert!(c.missing.is_empty() && c.extra.is_empty(), "{c:?}");
    assert_eq!(c.mismatched, vec![(7, 47)]);
    assert!(reference.is_directed(47, 7) && ours.is_undirected(7, 47));
    assert!(!directed_part(&reference).is_acyclic());
    assert!(directed_part(&ours).is_acyclic());
    assert!(ours.has_directed_path(7, 47));
}
