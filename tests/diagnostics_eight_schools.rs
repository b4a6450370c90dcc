//! The diagnostics on a real run: NUTS on the centred eight-schools model, whose posterior has a
//! funnel (small tau pulls every theta towards mu), diverges at its neck. The warnings must
//! name tau, say "funnel" and point to the non-centred form; the CSV exports must hold every
//! draw and every parameter.

use causeway::bayes::mcmc::{Chain, SamplerSettings, Trace};
use causeway::bayes::{LogDensity, LogpError};
use causeway::diagnostics::{
    draws_csv, sampler_summary, summarize, summary_csv, warnings, Severity,
};
use causeway::run::StepOutcome;

// Rubin (1981), as in the Stan and PyMC documentation.
const Y: [f64; 8] = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
const SIGMA: [f64; 8] = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];

/// mu ~ N(0, 5), tau ~ HalfCauchy(5) (sampled as log tau), theta_j ~ N(mu, tau),
/// y_j ~ N(theta_j, sigma_j). Coordinates: [mu, log tau, theta (8)].
struct CentredEightSchools;

impl LogDensity for CentredEightSchools {
    fn dim(&self) -> usize {
        10
    }
    fn logp_grad(&self, x: &[f64], grad: &mut [f64]) -> Result<f64, LogpError> {
        let (mu, log_tau) = (x[0], x[1]);
        let tau = log_tau.exp();
        let tau2 = tau * tau;
        let mut lp = -0.5 * (mu / 5.0).powi(2) - (1.0 + tau2 / 25.0).ln() + log_tau;
        grad[0] = -mu / 25.0;
        grad[1] = -2.0 * tau2 / (25.0 + tau2) + 1.0;
        for j in 0..8 {
            let theta = x[2 + j];
            let d = theta - mu;
            lp += -0.5 * d * d / tau2 - log_tau;
            grad[0] += d / tau2;
            grad[1] += d * d / tau2 - 1.0;
            let r = (Y[j] - theta) / SIGMA[j];
            lp -= 0.5 * r * r;
            grad[2 + j] = -d / tau2 + r / SIGMA[j];
        }
        if lp.is_finite() && grad.iter().all(|g| g.is_finite()) {
            Ok(lp)
        } else {
            Err(LogpError::NonFinite)
        }
    }
    fn param_names(&self) -> Vec<String> {
        let mut names = vec!["mu".to_string(), "tau".to_string()];
        names.extend((1..=8).map(|j| format!("theta[{j}]")));
        names
    }
    fn constrain(&self, x: &[f64]) -> Vec<f64> {
        let mut out = x.to_vec();
        out[1] = x[1].exp();
        out
    }
}

fn run() -> (Vec<Trace>, SamplerSettings) {
    let settings = SamplerSettings {
        seed: 2021,
        n_warmup: 1000,
        n_draws: 1000,
        ..SamplerSettings::default()
    };
    let traces = (0..4)
        .map(|chain| {
            let mut c = Chain::new(
                &CentredEightSchools,
                SamplerSettings {
                    chain,
                    ..settings.clone()
                },
            )
            .unwrap();
            while let StepOutcome::Continue = c.step().unwrap() {}
            c.into_trace()
        })
        .collect();
    (traces, settings)
}

#[test]
fn centred_eight_schools_divergences_are_traced_to_tau() {
    let (traces, settings) = run();
    let summary = summarize(&traces);
    let sampler = sampler_summary(&traces, settings.max_tree_depth);
    assert_eq!((summary.n_chains, summary.n_draws), (4, 1000));
    assert_eq!(summary.params.len(), 10);
    assert!(sampler.total_divergent() > 0, "no divergences");
    let found = warnings(&summary, Some(&sampler));
    for w in &found {
        println!("{:?} {:?}: {}", w.severity, w.param, w.text);
    }
    let first = &found[0];
    assert_eq!(first.severity, Severity::Error);
    assert_eq!(first.param.as_deref(), Some("tau"), "{}", first.text);
    assert!(first.text.contains("funnel") && first.text.contains("non-centered"));
    // tau mixes badly in the centred form: its bulk ESS is far below 400.
    let tau = &summary.params[1];
    assert!(tau.ess_bulk < 400.0, "tau bulk ESS {}", tau.ess_bulk);
    assert!(found
        .iter()
        .any(|w| w.param.as_deref() == Some("tau") && w.text.contains("ESS")));

    let draws = draws_csv(&traces);
    let mut lines = draws.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("chain,draw,mu,tau,theta[1],"));
    assert!(header.ends_with(",energy__,warmup__"));
    assert_eq!(lines.count(), 4 * 2000);
    let table = summary_csv(&summary);
    assert_eq!(table.lines().count(), 11);
    assert!(table.lines().nth(2).unwrap().starts_with("tau,"));
}
