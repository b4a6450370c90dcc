//! Shared by the native and the wasm tests: SDCD's result on a small seeded dataset reduced to a
//! fingerprint of its bits, so that one constant pins both targets to the same arithmetic.

use causeway::causal::sdcd::SdcdParams;
use causeway::data::csv_reader::Prep;
use causeway::data::synthetic::SyntheticParams;
use causeway::jobs::LearnRun;
use causeway::protocol::{AlgorithmParams, DataSpec};
use causeway::run::StepOutcome;

/// FNV-1a over the bits of SDCD's raw adjacency after two short stages (40 epochs each) on a
/// seeded 6-variable synthetic dataset, and the number of steps. Covers the f32 kernels the
/// page runs (first layer, sigmoid, heads, likelihood, backward passes) and Adam.
pub fn sdcd_fingerprint() -> (u64, usize) {
    let data = DataSpec::Synthetic(SyntheticParams {
        n_nodes: 6,
        expected_degree: 2.0,
        n_rows: 600,
        seed: 5,
        ..Default::default()
    });
    let params = SdcdParams {
        stage1_epochs: 40,
        stage2_epochs: 40,
        seed: 7,
        ..Default::default()
    };
    let mut run = LearnRun::start(
        &data,
        &Prep::default(),
        &AlgorithmParams::Sdcd(params),
        &Default::default(),
    )
    .expect("starts");
    let mut steps = 0;
    while let StepOutcome::Continue = run.step() {
        steps += 1;
        assert!(steps < 1_000_000, "SDCD did not finish");
    }
    let hash = run
        .result()
        .raw_weights
        .iter()
        .flat_map(|w| w.to_bits().to_le_bytes())
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    (hash, steps)
}

/// [`sdcd_fingerprint`] as the native build computes it: the wasm build must agree. Changing
/// SDCD's arithmetic on purpose changes this value (take the new one from the failing native
/// test, `cargo test --test same_bits`); the wasm test must then give it too.
pub const SDCD_FINGERPRINT: (u64, usize) = (494_595_337_226_027_511, 159);
