//! Speed probe for PC and GES: total time and the longest single step on a synthetic ER2
//! linear-Gaussian dataset (default d = 50, n = 1000, seed 5).
//!
//! Usage: cargo run --release --example probe_pc_ges -- [D] [N] [SEED] [--write DATA.csv]
//!        [--dump PREFIX]
//!
//! `--write` saves the data (header X1..Xd) so the reference can be timed on the same numbers,
//! e.g. with causal-learn's `pc(x, 0.05, "fisherz")` and `ges(x, "local_score_BIC")`;
//! `--dump` writes our CPDAGs as PREFIX_pc.csv and PREFIX_ges.csv (two-way 0/1 matrices).

use std::time::Instant;

use causeway::causal::ges::{Ges, GesParams};
use causeway::causal::pc::{Pc, PcParams};
use causeway::causal::{Knowledge, Learner};
use causeway::data::synthetic::{generate, SyntheticParams};
use causeway::graph::Pdag;
use causeway::metrics::compare_cpdags;
use causeway::run::StepOutcome;

fn drive(name: &str, learner: &mut dyn Learner, truth: &Pdag, t_new: f64, dump: Option<String>) {
    let start = Instant::now();
    let mut steps = 0usize;
    let mut longest = 0f64;
    loop {
        let t = Instant::now();
        let out = learner.step();
        longest = longest.max(t.elapsed().as_secs_f64());
        steps += 1;
        if let StepOutcome::Finished(_) = out {
            break;
        }
    }
    let total = start.elapsed().as_secs_f64() + t_new;
    let w = learner.result().weight_matrix();
    if let Some(path) = dump {
        let rows: Vec<String> = w
            .row_iter()
            .map(|r| {
                r.iter()
                    .map(|&v| format!("{}", (v != 0.0) as u8))
                    .collect::<Vec<_>>()
                    .join(",")
            })
            .collect();
        std::fs::write(path, rows.join("\n") + "\n").expect("writable path");
    }
    let g = Pdag::from_weights(&w);
    let c = compare_cpdags(truth, &g);
    println!(
        "{name}: {:.1} ms total ({:.1} ms in new), {steps} steps, longest step {:.2} ms, \
         {} versions; SHD to the true CPDAG {}, skeleton F1 {:.3}",
        total * 1e3,
        t_new * 1e3,
        longest * 1e3,
        learner.version(),
        c.shd,
        c.skeleton_f1
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut nums = args.iter().take_while(|a| !a.starts_with("--"));
    let d: usize = nums.next().and_then(|s| s.parse().ok()).unwrap_or(50);
    let n: usize = nums.next().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let seed: u64 = nums.next().and_then(|s| s.parse().ok()).unwrap_or(5);
    let data = generate(&SyntheticParams {
        n_nodes: d,
        n_rows: n,
        seed,
        ..SyntheticParams::default()
    })
    .expect("valid synthetic parameters");
    let x = data.dataset.to_matrix();
    if let Some(pos) = args.iter().position(|a| a == "--write") {
        let path = args.get(pos + 1).expect("--write needs a path");
        let mut out = (1..=d)
            .map(|j| format!("X{j}"))
            .collect::<Vec<_>>()
            .join(",")
            + "\n";
        for r in 0..n {
            let row: Vec<String> = (0..d).map(|c| format!("{:e}", x[(r, c)])).collect();
            out += &(row.join(",") + "\n");
        }
        std::fs::write(path, out).expect("writable path");
    }
    let dump = args
        .iter()
        .position(|a| a == "--dump")
        .and_then(|p| args.get(p + 1).cloned());
    let truth = Pdag::from_dag(&data.truth);
    let t = Instant::now();
    let mut pc = Pc::new(&x, PcParams::default(), &Knowledge::default()).expect("valid data");
    let t_new = t.elapsed().as_secs_f64();
    drive(
        "PC ",
        &mut pc,
        &truth,
        t_new,
        dump.as_ref().map(|p| format!("{p}_pc.csv")),
    );
    let t = Instant::now();
    let mut ges = Ges::new(&x, GesParams::default(), &Knowledge::default()).expect("valid data");
    let t_new = t.elapsed().as_secs_f64();
    drive(
        "GES",
        &mut ges,
        &truth,
        t_new,
        dump.as_ref().map(|p| format!("{p}_ges.csv")),
    );
}
