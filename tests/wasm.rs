//! wasm32 tests (run in Node by wasm-bindgen-test-runner): the worker protocol survives the trip
//! through JavaScript values exactly as the page and worker send it, and the compute core runs
//! compiled to wasm.
#![cfg(target_arch = "wasm32")]

use causeway::causal::notears::NotearsParams;
use causeway::data::csv_reader::Prep;
use causeway::data::synthetic::SyntheticParams;
use causeway::jobs::{inspect, LearnRun};
use causeway::protocol::*;
use causeway::run::StepOutcome;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

mod common;

fn round_trip<T: serde::Serialize + serde::de::DeserializeOwned>(
    value: &T,
) -> (T, wasm_bindgen::JsValue) {
    let js = serde_wasm_bindgen::to_value(value).expect("encodes");
    let back = serde_wasm_bindgen::from_value(js.clone()).expect("decodes");
    (back, js)
}

#[wasm_bindgen_test]
fn file_bytes_cross_as_a_uint8array() {
    let request = Request {
        version: PROTOCOL_VERSION,
        message: ToWorker::Start {
            job_id: 7,
            job: Box::new(Job::Inspect {
                data: DataSpec::Csv {
                    name: "a.csv".into(),
                    bytes: b"x,y\n1,2\n".to_vec(),
                },
            }),
        },
    };
    let (back, js) = round_trip(&request);
    assert_eq!(back, request);
    let message = js_sys::Reflect::get(&js, &"message".into()).unwrap();
    let start = js_sys::Reflect::get(&message, &"Start".into()).unwrap();
    let job = js_sys::Reflect::get(&start, &"job".into()).unwrap();
    let data = js_sys::Reflect::get(
        &js_sys::Reflect::get(&job, &"Inspect".into()).unwrap(),
        &"data".into(),
    )
    .unwrap();
    let bytes = js_sys::Reflect::get(
        &js_sys::Reflect::get(&data, &"Csv".into()).unwrap(),
        &"bytes".into(),
    )
    .unwrap();
    assert!(
        bytes.is_instance_of::<js_sys::Uint8Array>(),
        "bytes must not become a JS array of numbers"
    );
}

#[wasm_bindgen_test]
fn learn_jobs_and_seeds_round_trip() {
    let job = Job::Learn {
        data: DataSpec::Synthetic(SyntheticParams {
            seed: 4_000_000_000,
            ..Default::default()
        }),
        prep: Prep {
            drop_columns: vec!["X2".into()],
            drop_incomplete_rows: true,
            standardize: true,
            intervention_column: None,
        },
        algorithm: AlgorithmParams::Notears(NotearsParams::default()),
        knowledge: Default::default(),
        pace_ms: 300,
        shard: causeway::protocol::Shard { index: 1, count: 2 },
    };
    let request = Request {
        version: PROTOCOL_VERSION,
        message: ToWorker::Start {
            job_id: 1,
            job: Box::new(job),
        },
    };
    assert_eq!(round_trip(&request).0, request);
}

#[wasm_bindgen_test]
fn an_inspection_of_sachs_round_trips() {
    let inspection = inspect(&DataSpec::Sachs).expect("Sachs reads");
    let response = Response {
        version: PROTOCOL_VERSION,
        event: Event::Inspected {
            job_id: 3,
            inspection,
        },
    };
    assert_eq!(round_trip(&response).0, response);
}

#[wasm_bindgen_test]
fn notears_learns_in_wasm() {
    let data = DataSpec::Synthetic(SyntheticParams {
        n_nodes: 5,
        expected_degree: 2.0,
        n_rows: 500,
        seed: 3,
        ..Default::default()
    });
    let mut run = LearnRun::start(
        &data,
        &Prep::default(),
        &AlgorithmParams::Notears(NotearsParams::default()),
        &Default::default(),
    )
    .expect("starts");
    let mut steps = 0;
    while let StepOutcome::Continue = run.step() {
        steps += 1;
        assert!(steps < 1_000_000, "NOTEARS did not finish");
    }
    let result = run.result();
    assert_eq!(result.n_nodes, 5);
    assert!(result.graph().is_acyclic());
    let done = Response {
        version: PROTOCOL_VERSION,
        event: Event::Done {
            job_id: 1,
            result,
            compute_ms: 12.5,
        },
    };
    assert_eq!(round_trip(&done).0, done);
}

/// The wasm half of the same-bits check (`tests/same_bits.rs` is the native half): SDCD's f32
/// kernels (SSE natively, simd128 here) and its f64 Adam give the bits the native build gives.
#[wasm_bindgen_test]
fn sdcd_gives_the_native_bits_in_wasm() {
    assert_eq!(common::sdcd_fingerprint(), common::SDCD_FINGERPRINT);
}

/// Not a test: the wasm side of `make bench-infer`'s gradient-cost comparison
/// (`examples/bench_gradient.rs` is the native side). Times one evaluation of non-centred eight
/// schools' log density and gradient in whatever engine runs the wasm tests (Node, or Chromium
/// with `WASM_BINDGEN_USE_BROWSER=1`), after a warm-up long enough for the engine to optimise
/// the code, and prints one JSON line. Run with `-- --include-ignored gradient_cost --nocapture`.
#[wasm_bindgen_test]
#[ignore]
fn gradient_cost() {
    use causeway::bayes::mcmc::SamplerSettings;
    use causeway::bayes::models::ModelSpec;
    use causeway::infer::{time_gradients, InferRun};
    let model = ModelSpec::default_for("eight-schools-noncentered").unwrap();
    for seed in [1u64, 2, 3] {
        let method = InferMethod::Mcmc(SamplerSettings {
            seed,
            ..SamplerSettings::default()
        });
        let mut run = InferRun::start(&model, None, &Prep::default(), &method, 0).unwrap();
        let cost = time_gradients(&mut run, js_sys::Date::now, 500.0, 1000.0);
        console_log!(
            "{{\"contender\":\"wasm-test\",\"seed\":{seed},\"seconds\":{:e},\"evaluations\":{}}}",
            cost.seconds,
            cost.evaluations
        );
    }
}
