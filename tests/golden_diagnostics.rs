//! The diagnostics against ArviZ 0.23.4 on fixed draws: R-hat, bulk/tail/mean ESS, MCSE of the
//! mean, sd and 5%/95% quantiles, the summary table and E-BFMI agree to 1e-8 relative.
//! Reference: tests/data/diagnostics/ (see its PROVENANCE.md; regenerate with
//! scripts/goldens/diagnostics.py).

use std::fs;
use std::path::{Path, PathBuf};

use causeway::bayes::mcmc::{Draw, SamplerStats, Trace};
use causeway::diagnostics::{
    e_bfmi, ess_bulk, ess_mean, ess_tail, mcse_mean, mcse_quantile, mcse_sd, rhat, summarize,
};
use serde_json::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/diagnostics")
}

/// Columns chain_1, chain_2, ... of one case file, as one Vec per chain.
fn chains(file: &str) -> Vec<Vec<f64>> {
    let text = fs::read_to_string(dir().join(file)).expect(file);
    let mut lines = text.lines();
    let n_chains = lines.next().expect("header").split(',').count();
    let mut out = vec![Vec::new(); n_chains];
    for line in lines {
        for (k, v) in line.split(',').enumerate() {
            out[k].push(v.parse::<f64>().expect("number"));
        }
    }
    out
}

fn reference() -> Value {
    let text = fs::read_to_string(dir().join("reference.json"))
        .expect("reference.json (run scripts/goldens/diagnostics.py)");
    serde_json::from_str(&text).expect("valid JSON")
}

/// JSON null stands for NaN (JSON has no NaN).
fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// 1e-8 relative, plus an absolute floor of 1e-12 of the quantity's own scale for values that
/// are zero up to rounding (e.g. the mean of centred draws: numpy sums pairwise, we sum in
/// order, and the two differ by ~1e-16 of the largest partial sum).
fn check(case: &str, what: &str, ours: f64, want: f64, scale: f64) {
    if want.is_nan() {
        assert!(ours.is_nan(), "{case} {what}: ours {ours}, ArviZ NaN");
        return;
    }
    let tol = 1e-8 * want.abs() + 1e-12 * scale;
    assert!(
        (ours - want).abs() <= tol,
        "{case} {what}: ours {ours}, ArviZ {want} (difference {:e}, tolerance {tol:e})",
        (ours - want).abs()
    );
}

#[test]
fn diagnostics_equal_arviz_on_every_case() {
    let r = reference();
    let cases = r["cases"].as_array().expect("cases");
    assert!(cases.len() >= 10);
    for c in cases {
        let name = c["name"].as_str().unwrap();
        let x = chains(&format!("draws_{name}.csv"));
        assert_eq!(x.len() as u64, c["n_chains"].as_u64().unwrap(), "{name}");
        assert_eq!(x[0].len() as u64, c["n_draws"].as_u64().unwrap(), "{name}");
        let scale = x
            .iter()
            .flatten()
            .fold(0.0_f64, |m, v| m.max(v.abs()))
            .max(f64::MIN_POSITIVE);
        check(name, "rhat", rhat(&x), num(&c["rhat"]), 1.0);
        check(name, "ess_bulk", ess_bulk(&x), num(&c["ess_bulk"]), 1.0);
        check(name, "ess_tail", ess_tail(&x), num(&c["ess_tail"]), 1.0);
        check(name, "ess_mean", ess_mean(&x), num(&c["ess_mean"]), 1.0);
        check(
            name,
            "mcse_mean",
            mcse_mean(&x),
            num(&c["mcse_mean"]),
            scale,
        );
        check(name, "mcse_sd", mcse_sd(&x), num(&c["mcse_sd"]), scale);
        check(
            name,
            "mcse_q05",
            mcse_quantile(&x, 0.05),
            num(&c["mcse_q05"]),
            scale,
        );
        check(
            name,
            "mcse_q95",
            mcse_quantile(&x, 0.95),
            num(&c["mcse_q95"]),
            scale,
        );
    }
}

/// Each case as a one-parameter run of `Trace`s (with a few warm-up draws that must be
/// ignored), summarized and compared with `arviz.summary`.
#[test]
fn the_summary_table_equals_arviz_summary() {
    let r = reference();
    for c in r["cases"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let x = chains(&format!("draws_{name}.csv"));
        let traces: Vec<Trace> = x
            .iter()
            .map(|chain| {
                let mut t = Trace::new(vec![name.to_string()]);
                let stats = |warmup| SamplerStats {
                    lp: 0.0,
                    accept_stat: 1.0,
                    step_size: 1.0,
                    tree_depth: 1,
                    n_leapfrog: 1,
                    divergent: false,
                    energy: 0.0,
                    warmup,
                };
                for _ in 0..3 {
                    t.draws.push(Draw {
                        unconstrained: vec![1e6],
                        constrained: vec![1e6],
                        stats: stats(true),
                    });
                }
                for &v in chain {
                    t.draws.push(Draw {
                        unconstrained: vec![v],
                        constrained: vec![v],
                        stats: stats(false),
                    });
                }
                t
            })
            .collect();
        let s = summarize(&traces);
        assert_eq!((s.n_chains, s.n_draws), (x.len(), x[0].len()), "{name}");
        let p = &s.params[0];
        let want = &c["summary"];
        let scale = x
            .iter()
            .flatten()
            .fold(0.0_f64, |m, v| m.max(v.abs()))
            .max(f64::MIN_POSITIVE);
        let case = format!("{name} summary");
        check(&case, "mean", p.mean, num(&want["mean"]), scale);
        check(&case, "sd", p.sd, num(&want["sd"]), scale);
        check(
            &case,
            "mcse_mean",
            p.mcse_mean,
            num(&want["mcse_mean"]),
            scale,
        );
        check(&case, "mcse_sd", p.mcse_sd, num(&want["mcse_sd"]), scale);
        check(&case, "ess_bulk", p.ess_bulk, num(&want["ess_bulk"]), 1.0);
        check(&case, "ess_tail", p.ess_tail, num(&want["ess_tail"]), 1.0);
        check(&case, "r_hat", p.rhat, num(&want["r_hat"]), 1.0);
        // ArviZ's interval is 1 − (1 − 0.9)/2 = 0.95 and (1 − 0.9)/2 = 0.04999999999999999:
        // one ulp from 0.05, which moves the interpolated quantile by ~1e-15 of a draw gap.
        check(&case, "q5", p.q5, num(&want["q5"]), scale);
        check(&case, "q50", p.q50, num(&want["q50"]), scale);
        check(&case, "q95", p.q95, num(&want["q95"]), scale);
        // The table's quantile MCSEs (shown on hover, exported) are ArviZ's mcse(method="quantile").
        check(&case, "mcse_q5", p.mcse_q5, num(&c["mcse_q05"]), scale);
        check(&case, "mcse_q95", p.mcse_q95, num(&c["mcse_q95"]), scale);
    }
}

#[test]
fn e_bfmi_equals_arviz_bfmi() {
    let r = reference();
    let want: Vec<f64> = r["bfmi"].as_array().unwrap().iter().map(num).collect();
    let energy = chains("energy.csv");
    assert_eq!(energy.len(), want.len());
    for (k, (e, w)) in energy.iter().zip(&want).enumerate() {
        check(
            "energy",
            &format!("chain {} E-BFMI", k + 1),
            e_bfmi(e),
            *w,
            1.0,
        );
    }
    // Two chains were built to explore the energy slowly.
    assert!(want.iter().filter(|&&b| b < 0.3).count() >= 2);
}
