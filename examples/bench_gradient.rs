//! Times one evaluation of a model's log density and gradient natively, the way the page's
//! worker does before each chain (`causeway::infer::time_gradients`, here with `Instant` as the
//! clock), for `make bench-infer`'s wasm/native comparison. Prints one JSON line per seed.
//!
//! Usage: cargo run --release --example bench_gradient -- [MODEL] [SEED ...]
//! (default: eight-schools-noncentered, seeds 1 2 3; the seed picks the starting point, as the
//! page's does for chain 0).

use std::process::ExitCode;
use std::time::Instant;

use causeway::bayes::mcmc::SamplerSettings;
use causeway::bayes::models::ModelSpec;
use causeway::data::csv_reader::Prep;
use causeway::infer::{time_gradients, InferRun};
use causeway::protocol::InferMethod;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let model_id = args
        .first()
        .cloned()
        .unwrap_or_else(|| "eight-schools-noncentered".into());
    let seeds: Vec<u64> = args.iter().skip(1).filter_map(|s| s.parse().ok()).collect();
    let seeds = if seeds.is_empty() {
        vec![1, 2, 3]
    } else {
        seeds
    };
    let Some(model) = ModelSpec::default_for(&model_id) else {
        eprintln!("bench_gradient: unknown model {model_id}");
        return ExitCode::FAILURE;
    };
    for seed in seeds {
        let method = InferMethod::Mcmc(SamplerSettings {
            seed,
            ..SamplerSettings::default()
        });
        let mut run = match InferRun::start(&model, None, &Prep::default(), &method, 0) {
            Ok(run) => run,
            Err(e) => {
                eprintln!("bench_gradient: {}: {}", e.title, e.detail);
                return ExitCode::FAILURE;
            }
        };
        let origin = Instant::now();
        let clock = || origin.elapsed().as_secs_f64() * 1e3;
        // Steady state, as the wasm side (tests/wasm.rs `gradient_cost`) measures it: 0.5 s
        // warm-up, 1 s timed.
        let cost = time_gradients(&mut run, clock, 500.0, 1000.0);
        println!(
            "{{\"contender\":\"native\",\"model\":\"{model_id}\",\"seed\":{seed},\"dim\":{},\
             \"seconds\":{:e},\"evaluations\":{}}}",
            run.dim(),
            cost.seconds,
            cost.evaluations
        );
    }
    ExitCode::SUCCESS
}
