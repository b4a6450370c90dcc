//! Warnings in plain words that say what to do, with the thresholds of Vehtari et al. (2021)
//! and Stan: R-hat above 1.01, bulk or tail ESS below 100 per chain, any divergence, tree
//! depth saturation, E-BFMI below 0.3.

use serde::{Deserialize, Serialize};

use super::summary::{SamplerSummary, Summary};

/// R-hat above this means the chains have not mixed (Vehtari et al. 2021, §4).
pub const RHAT_THRESHOLD: f64 = 1.01;
/// Above this the draws should not be used at all (Gelman et al., BDA3: the older 1.1 rule).
pub const RHAT_SEVERE: f64 = 1.1;
/// Bulk and tail ESS should reach 100 per chain (Vehtari et al. 2021, §4).
pub const ESS_PER_CHAIN: f64 = 100.0;
/// E-BFMI below 0.3 signals poor energy exploration (Betancourt 2016; Stan's threshold).
pub const E_BFMI_THRESHOLD: f64 = 0.3;

/// How much a warning matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// Something could not be computed, or is worth knowing.
    Info,
    /// The estimates are less precise or less certain than they look.
    Warning,
    /// The estimates may be wrong (biased or unconverged).
    Error,
}

/// One finding, about a parameter or (`param: None`) the whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    pub param: Option<String>,
    pub severity: Severity,
    pub text: String,
}

/// A number the way the warnings print it: 3 significant digits, no exponent for usual sizes.
fn show(x: f64) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "—".into()
        } else {
            "∞".into()
        };
    }
    let a = x.abs();
    if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 0.01 || a == 0.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.1e}")
    }
}

fn percent(part: usize, whole: usize) -> String {
    if whole == 0 {
        return "0%".into();
    }
    let p = 100.0 * part as f64 / whole as f64;
    if p >= 1.0 {
        format!("{p:.0}%")
    } else {
        format!("{p:.1}%")
    }
}

fn chain_list(chains: &[usize]) -> String {
    let names: Vec<String> = chains.iter().map(|c| (c + 1).to_string()).collect();
    match names.len() {
        0 => String::new(),
        1 => format!("chain {}", names[0]),
        _ => {
            let (last, rest) = names.split_last().unwrap_or((&names[0], &[]));
            format!("chains {} and {last}", rest.join(", "))
        }
    }
}

/// Everything worth telling the user about a run, most severe first (run-wide before
/// per-parameter within a severity). `sampler` is `None` for methods without sampler
/// statistics (e.g. variational draws).
pub fn warnings(summary: &Summary, sampler: Option<&SamplerSummary>) -> Vec<Warning> {
    let mut out = Vec::new();
    if let Some(s) = sampler {
        sampler_warnings(s, &mut out);
    }
    run_warnings(summary, &mut out);
    for p in &summary.params {
        param_warnings(summary, p, &mut out);
    }
    // Stable: keeps run-wide first and parameter order within a severity.
    out.sort_by_key(|w| std::cmp::Reverse(w.severity));
    out
}

fn sampler_warnings(s: &SamplerSummary, out: &mut Vec<Warning>) {
    let kept = s.total_kept();
    let n_div = s.total_divergent();
    if s.hamiltonian && n_div > 0 {
        let share = percent(n_div, kept);
        let transitions = if n_div == 1 {
            "1 divergent transition".to_string()
        } else {
            format!("{n_div} divergent transitions")
        };
        let (param, text) =
            match &s.hotspot {
                Some(h) if h.at_low_values() && h.positive => (
                    Some(h.param.clone()),
                    format!(
                        "{p}: {transitions} ({share} of draws) — they sit at the lowest values of \
                     {p}, where the posterior narrows into a funnel the sampler cannot follow, \
                     so the estimates are biased. Try the non-centered parameterization, or \
                     raise the target acceptance (e.g. to 0.95).",
                        p = h.param
                    ),
                ),
                Some(h) => (
                    Some(h.param.clone()),
                    format!(
                    "{p}: {transitions} ({share} of draws) — they cluster at the {side} values \
                     of {p}, where the posterior curves more sharply than the step size allows, \
                     so the estimates are biased. Raise the target acceptance (e.g. to 0.95), \
                     or reparameterize the model around {p} (e.g. non-centered, or a \
                     different scale).",
                    p = h.param,
                    side = if h.at_low_values() { "lowest" } else { "highest" },
                ),
                ),
                None => (
                    None,
                    format!(
                    "{transitions} after warm-up ({share} of draws): the sampler met curvature \
                     it could not follow, so the estimates may be biased. Raise the target \
                     acceptance (e.g. to 0.95); if divergences remain, reparameterize the model \
                     (e.g. the non-centered form of a hierarchical model)."
                ),
                ),
            };
        out.push(Warning {
            param,
            severity: Severity::Error,
            text,
        });
    }
    let n_depth = s.total_max_depth();
    if s.nuts && n_depth > 0 {
        out.push(Warning {
            param: None,
            severity: Severity::Warning,
            text: format!(
                "{n_depth} of {kept} transitions ({}) stopped at the maximum tree depth of {}: \
                 the trajectories were cut short, which costs efficiency (not correctness). \
                 Raise the maximum tree depth (e.g. to {}), or rescale the parameters if they \
                 differ by orders of magnitude.",
                percent(n_depth, kept),
                s.max_tree_depth,
                s.max_tree_depth.saturating_add(2),
            ),
        });
    }
    if s.hamiltonian {
        let low: Vec<usize> = s
            .e_bfmi
            .iter()
            .enumerate()
            .filter(|(_, b)| **b < E_BFMI_THRESHOLD)
            .map(|(k, _)| k)
            .collect();
        if !low.is_empty() {
            let values: Vec<String> = low.iter().map(|&k| show(s.e_bfmi[k])).collect();
            out.push(Warning {
                param: None,
                severity: Severity::Warning,
                text: format!(
                    "{}: E-BFMI {} (below {E_BFMI_THRESHOLD}): the sampler explores the energy \
                     of the posterior slowly, often because of heavy tails or a funnel, so the \
                     chains may not reach all of it. Reparameterize the model (e.g. \
                     non-centered), or use more informative priors.",
                    chain_list(&low),
                    values.join(", "),
                ),
            });
        }
    }
}

fn run_warnings(summary: &Summary, out: &mut Vec<Warning>) {
    if summary.params.is_empty() {
        return;
    }
    if summary.n_chains == 0 {
        out.push(Warning {
            param: None,
            severity: Severity::Info,
            text: "No draws after warm-up yet: the summary fills in once sampling starts.".into(),
        });
    } else if summary.n_draws < 4 {
        out.push(Warning {
            param: None,
            severity: Severity::Info,
            text: format!(
                "Only {} draws per chain: R-hat and ESS need at least 4 and mean little below a \
                 few hundred. Run more draws.",
                summary.n_draws
            ),
        });
    } else if summary.n_chains == 1 {
        out.push(Warning {
            param: None,
            severity: Severity::Info,
            text: "Only one chain: R-hat compares chains, so convergence cannot be checked. Run \
                   4 chains."
                .into(),
        });
    }
}

fn param_warnings(summary: &Summary, p: &super::summary::ParamSummary, out: &mut Vec<Warning>) {
    let name = &p.name;
    if summary.n_draws == 0 {
        return;
    }
    if p.mean.is_nan() {
        out.push(Warning {
            param: Some(name.clone()),
            severity: Severity::Error,
            text: format!(
                "{name}: some draws are not numbers (NaN), so no statistic can be computed. \
                 Check the model for values outside a parameter's support."
            ),
        });
        return;
    }
    if p.sd == 0.0 {
        out.push(Warning {
            param: Some(name.clone()),
            severity: Severity::Info,
            text: format!(
                "{name}: the same value in every draw, so R-hat and the MCSE of the sd are \
                 undefined (shown as —). If {name} should vary, check that it is sampled."
            ),
        });
        return;
    }
    if p.rhat > RHAT_THRESHOLD {
        let severe = p.rhat > RHAT_SEVERE;
        out.push(Warning {
            param: Some(name.clone()),
            severity: if severe {
                Severity::Error
            } else {
                Severity::Warning
            },
            text: format!(
                "{name}: R-hat is {} (above {RHAT_THRESHOLD}): the chains disagree about \
                 {name}, so they have not converged{}. Run longer chains (more warm-up and \
                 draws); if they stay apart, look at the trace plot for a stuck chain or \
                 several modes.",
                if p.rhat.is_infinite() {
                    "∞".to_string()
                } else {
                    format!("{:.3}", p.rhat)
                },
                if severe {
                    " and its estimates should not be used"
                } else {
                    ""
                },
            ),
        });
    }
    let need = ESS_PER_CHAIN * summary.n_chains as f64;
    let low_bulk = p.ess_bulk < need;
    let low_tail = p.ess_tail < need;
    if low_bulk || low_tail {
        let (what, affected, worst) = match (low_bulk, low_tail) {
            (true, true) => (
                format!(
                    "bulk ESS is {} and tail ESS {}",
                    show(p.ess_bulk),
                    show(p.ess_tail)
                ),
                "its mean, median and 5%–95% interval are",
                p.ess_bulk.min(p.ess_tail),
            ),
            (true, false) => (
                format!("bulk ESS is {}", show(p.ess_bulk)),
                "its mean and median are",
                p.ess_bulk,
            ),
            _ => (
                format!("tail ESS is {}", show(p.ess_tail)),
                "its 5% and 95% quantiles (the interval ends) are",
                p.ess_tail,
            ),
        };
        let factor = (need / worst.max(1.0)).ceil().max(2.0);
        out.push(Warning {
            param: Some(name.clone()),
            severity: Severity::Warning,
            text: format!(
                "{name}: {what}, below {need:.0} (100 per chain × {} chains), so {affected} not \
                 reliable yet. Run about {factor:.0}× more draws, or reparameterize to reduce \
                 the autocorrelation.",
                summary.n_chains,
            ),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::summary::{DivergenceHotspot, ParamSummary};

    fn row(name: &str, rhat: f64, ess_bulk: f64, ess_tail: f64) -> ParamSummary {
        ParamSummary {
            name: name.into(),
            mean: 1.0,
            sd: 1.0,
            mcse_mean: 0.01,
            mcse_sd: 0.01,
            q5: -1.0,
            q50: 1.0,
            q95: 3.0,
            mcse_q5: 0.05,
            mcse_q95: 0.05,
            ess_bulk,
            ess_tail,
            rhat,
        }
    }

    fn summary(params: Vec<ParamSummary>) -> Summary {
        Summary {
            params,
            n_chains: 4,
            n_draws: 1000,
        }
    }

    fn sampler(n_div: usize, hotspot: Option<DivergenceHotspot>) -> SamplerSummary {
        SamplerSummary {
            n_kept: vec![1000; 4],
            n_divergent: vec![n_div, 0, 0, 0],
            max_tree_depth: 10,
            n_max_depth: vec![0, 3, 0, 0],
            e_bfmi: vec![0.9, 0.21, 1.1, 0.25],
            hamiltonian: true,
            nuts: true,
            hotspot,
        }
    }

    #[test]
    fn a_healthy_run_has_no_warnings() {
        let s = summary(vec![row("mu", 1.001, 3000.0, 2500.0)]);
        let mut healthy = sampler(0, None);
        healthy.n_max_depth = vec![0; 4];
        healthy.e_bfmi = vec![1.0; 4];
        assert!(warnings(&s, Some(&healthy)).is_empty());
    }

    #[test]
    fn divergences_at_low_scale_name_the_funnel_and_the_fix() {
        let h = DivergenceHotspot {
            param: "tau".into(),
            mean_rank: 0.08,
            positive: true,
        };
        let w = warnings(&summary(vec![]), Some(&sampler(246, Some(h))));
        assert_eq!(w[0].severity, Severity::Error);
        assert_eq!(w[0].param.as_deref(), Some("tau"));
        assert!(w[0].text.starts_with("tau: 246 divergent transitions"));
        assert!(w[0].text.contains("funnel") && w[0].text.contains("non-centered"));
        let depth = w.iter().find(|w| w.text.contains("tree depth")).unwrap();
        assert!(depth.text.contains("maximum tree depth of 10") && depth.text.contains("12"));
        let bfmi = w.iter().find(|w| w.text.contains("E-BFMI")).unwrap();
        assert!(bfmi.text.starts_with("chains 2 and 4: E-BFMI 0.21, 0.25"));
        let plain = warnings(&summary(vec![]), Some(&sampler(1, None)));
        assert!(plain[0]
            .text
            .starts_with("1 divergent transition after warm-up"));
        assert!(plain[0].param.is_none());
    }

    #[test]
    fn rhat_and_ess_warnings_say_which_and_what_to_do() {
        let s = summary(vec![
            row("a", 1.05, 3000.0, 3000.0),
            row("b", 1.3, 3000.0, 3000.0),
            row("c", 1.0, 120.0, 3000.0),
            row("d", 1.0, 3000.0, 90.0),
            row("e", 1.0, 50.0, 60.0),
        ]);
        let w = warnings(&s, None);
        let find = |p: &'static str| w.iter().filter(move |w| w.param.as_deref() == Some(p));
        let a: Vec<_> = find("a").collect();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].severity, Severity::Warning);
        assert!(a[0].text.contains("R-hat is 1.050 (above 1.01)"));
        assert_eq!(find("b").next().unwrap().severity, Severity::Error);
        assert_eq!(w[0].param.as_deref(), Some("b"));
        let c = find("c").next().unwrap();
        assert!(c
            .text
            .contains("bulk ESS is 120, below 400 (100 per chain × 4 chains)"));
        assert!(c.text.contains("mean and median"));
        assert!(find("d").next().unwrap().text.contains("tail ESS is 90.0"));
        let e = find("e").next().unwrap();
        assert!(e.text.contains("bulk ESS is 50.0 and tail ESS 60.0"));
        assert!(e.text.contains("about 8× more draws"));
    }

    #[test]
    fn undefined_statistics_are_explained_not_flagged() {
        let mut constant = row("k", f64::NAN, 4000.0, 4000.0);
        constant.sd = 0.0;
        let mut broken = row("x", f64::NAN, f64::NAN, f64::NAN);
        broken.mean = f64::NAN;
        let w = warnings(&summary(vec![constant, broken]), None);
        assert_eq!(w.len(), 2);
        assert!(w
            .iter()
            .any(|w| w.severity == Severity::Info && w.text.contains("same value")));
        assert!(w
            .iter()
            .any(|w| w.severity == Severity::Error && w.text.contains("NaN")));
        let mut one = summary(vec![row("m", f64::NAN, 900.0, 900.0)]);
        one.n_chains = 1;
        let w = warnings(&one, None);
        assert_eq!(w.len(), 1);
        assert!(w[0].text.contains("Only one chain"));
        let mut short = summary(vec![row("m", f64::NAN, f64::NAN, f64::NAN)]);
        short.n_draws = 3;
        assert!(warnings(&short, None)[0].text.contains("Only 3 draws"));
    }
}
