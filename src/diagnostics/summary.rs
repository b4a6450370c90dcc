//! The per-parameter summary table and the sampler's own health checks (divergences, tree-depth
//! saturation, E-BFMI) over a run's traces, kept draws only.

use serde::{Deserialize, Serialize};

use super::convergence::{e_bfmi, mcse_quantile, summary_stats, Draws};
use crate::bayes::mcmc::Trace;

/// One row of the summary table: ArviZ `summary`'s statistics of one constrained parameter
/// over all chains' kept draws. NaN where a statistic is undefined (the page shows "—").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParamSummary {
    pub name: String,
    pub mean: f64,
    /// Standard deviation (n − 1 in the denominator).
    pub sd: f64,
    pub mcse_mean: f64,
    pub mcse_sd: f64,
    /// 5%, 50% and 95% quantiles (linear interpolation, numpy's default).
    pub q5: f64,
    pub q50: f64,
    pub q95: f64,
    /// MCSE of the 5% and 95% quantiles (ArviZ `mcse(method="quantile")`).
    pub mcse_q5: f64,
    pub mcse_q95: f64,
    pub ess_bulk: f64,
    pub ess_tail: f64,
    /// Rank-normalized split R-hat (max of bulk and folded).
    pub rhat: f64,
}

/// The summary table of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub params: Vec<ParamSummary>,
    /// Chains with at least one kept draw.
    pub n_chains: usize,
    /// Kept draws per chain that entered the statistics (the shortest chain's count: longer
    /// chains are cut to it, so chains still running can be summarized).
    pub n_draws: usize,
}

/// Kept draws of every chain with at least one, parameter by parameter, cut to the shortest.
fn columns(traces: &[Trace]) -> (Vec<String>, Vec<Vec<Vec<f64>>>, usize) {
    let names = traces
        .first()
        .map(|t| t.param_names.clone())
        .unwrap_or_default();
    let kept: Vec<_> = traces
        .iter()
        .map(|t| t.kept())
        .filter(|k| !k.is_empty())
        .collect();
    let n_draws = kept.iter().map(|k| k.len()).min().unwrap_or(0);
    let cols = (0..names.len())
        .map(|p| {
            kept.iter()
                .map(|k| {
                    k[..n_draws]
                        .iter()
                        .map(|d| d.constrained.get(p).copied().unwrap_or(f64::NAN))
                        .collect()
                })
                .collect()
        })
        .collect();
    (names, cols, n_draws)
}

/// The summary table over the kept draws of each chain, constrained parameters in the order of
/// the first trace's names. Values agree with ArviZ 0.23.4 `summary` (mean focus; quantiles as
/// its median-focus equal-tailed interval).
pub fn summarize(traces: &[Trace]) -> Summary {
    let (names, cols, n_draws) = columns(traces);
    let n_chains = cols.first().map_or(0, |c| c.len());
    let params = names
        .into_iter()
        .zip(&cols)
        .map(|(name, chains)| {
            let s = summary_stats(&Draws::new(chains));
            ParamSummary {
                name,
                mean: s.mean,
                sd: s.sd,
                mcse_mean: s.mcse_mean,
                mcse_sd: s.mcse_sd,
                q5: s.q5,
                q50: s.q50,
                q95: s.q95,
                mcse_q5: mcse_quantile(chains, 0.05),
                mcse_q95: mcse_quantile(chains, 0.95),
                ess_bulk: s.ess_bulk,
                ess_tail: s.ess_tail,
                rhat: s.rhat,
            }
        })
        .collect();
    Summary {
        params,
        n_chains,
        n_draws,
    }
}

/// Where the divergent draws of a run concentrate: the parameter whose divergent draws sit
/// furthest from the middle of its distribution (by mean rank).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DivergenceHotspot {
    pub param: String,
    /// Mean normalized rank (0 = lowest draw, 1 = highest) of the divergent draws.
    pub mean_rank: f64,
    /// Every kept draw of the parameter is positive (a scale: a funnel's neck is at low values).
    pub positive: bool,
}

impl DivergenceHotspot {
    pub fn at_low_values(&self) -> bool {
        self.mean_rank < 0.5
    }
}

/// The sampler's own diagnostics over kept draws (warm-up excluded), per chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplerSummary {
    /// Kept draws per chain.
    pub n_kept: Vec<usize>,
    /// Divergent transitions per chain.
    pub n_divergent: Vec<usize>,
    /// The maximum tree depth the run was sampled with.
    pub max_tree_depth: u32,
    /// Transitions per chain that reached the maximum tree depth (NUTS only).
    pub n_max_depth: Vec<usize>,
    /// E-BFMI per chain (NaN unless the sampler is Hamiltonian and the chain has 2+ draws).
    pub e_bfmi: Vec<f64>,
    /// Whether any kept draw took a leapfrog step (HMC or NUTS): only then do energies, tree
    /// depths and divergences mean what the warnings say.
    pub hamiltonian: bool,
    /// Whether tree depth is adaptive (NUTS): static HMC reports depth 0.
    pub nuts: bool,
    pub hotspot: Option<DivergenceHotspot>,
}

impl SamplerSummary {
    pub fn total_divergent(&self) -> usize {
        self.n_divergent.iter().sum()
    }
    pub fn total_kept(&self) -> usize {
        self.n_kept.iter().sum()
    }
    pub fn total_max_depth(&self) -> usize {
        self.n_max_depth.iter().sum()
    }
}

/// |z| a parameter's divergent draws must reach (their mean rank against the ½ of draws
/// placed at random) before a warning names it: 3 keeps chance clusters out.
const HOTSPOT_Z: f64 = 3.0;

/// Counts divergences and tree-depth saturation over kept draws, computes each chain's E-BFMI,
/// and finds the parameter most associated with the divergences. `max_tree_depth` is the
/// run's setting (`SamplerSettings::max_tree_depth`; a trace does not record it).
pub fn sampler_summary(traces: &[Trace], max_tree_depth: usize) -> SamplerSummary {
    let max_tree_depth = u32::try_from(max_tree_depth).unwrap_or(u32::MAX);
    let hamiltonian = traces
        .iter()
        .any(|t| t.kept().iter().any(|d| d.stats.n_leapfrog > 0));
    let nuts = traces
        .iter()
        .any(|t| t.kept().iter().any(|d| d.stats.tree_depth > 0));
    let n_kept = traces.iter().map(|t| t.kept().len()).collect();
    let n_divergent = traces.iter().map(|t| t.n_divergent()).collect();
    let n_max_depth = traces
        .iter()
        .map(|t| {
            if nuts {
                t.kept()
                    .iter()
                    .filter(|d| d.stats.tree_depth >= max_tree_depth)
                    .count()
            } else {
                0
            }
        })
        .collect();
    let e_bfmi = traces
        .iter()
        .map(|t| {
            if hamiltonian {
                let energy: Vec<f64> = t.kept().iter().map(|d| d.stats.energy).collect();
                e_bfmi(&energy)
            } else {
                f64::NAN
            }
        })
        .collect();
    SamplerSummary {
        n_kept,
        n_divergent,
        max_tree_depth,
        n_max_depth,
        e_bfmi,
        hamiltonian,
        nuts,
        hotspot: hotspot(traces),
    }
}

fn hotspot(traces: &[Trace]) -> Option<DivergenceHotspot> {
    let names = traces.first()?.param_names.clone();
    let kept: Vec<_> = traces.iter().flat_map(|t| t.kept()).collect();
    let n_div = kept.iter().filter(|d| d.stats.divergent).count();
    if n_div == 0 || n_div == kept.len() {
        return None;
    }
    let n = kept.len() as f64;
    let mut best: Option<(f64, DivergenceHotspot)> = None;
    for (p, name) in names.iter().enumerate() {
        let values: Vec<f64> = kept
            .iter()
            .map(|d| d.constrained.get(p).copied().unwrap_or(f64::NAN))
            .collect();
        if values.iter().any(|v| !v.is_finite()) {
            continue;
        }
        let mut order: Vec<usize> = (0..values.len()).collect();
        order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
        let mut rank = vec![0.0; values.len()];
        for (r, &i) in order.iter().enumerate() {
            rank[i] = (r as f64 + 0.5) / n;
        }
        let mean_rank = kept
            .iter()
            .zip(&rank)
            .filter(|(d, _)| d.stats.divergent)
            .map(|(_, r)| r)
            .sum::<f64>()
            / n_div as f64;
        // Ranks of a random subset: mean ½, sd √(1/12 / k).
        let z = (mean_rank - 0.5) / (1.0 / (12.0 * n_div as f64)).sqrt();
        if z.abs() >= HOTSPOT_Z && best.as_ref().is_none_or(|(bz, _)| z.abs() > *bz) {
            best = Some((
                z.abs(),
                DivergenceHotspot {
                    param: name.clone(),
                    mean_rank,
                    positive: values.iter().all(|&v| v > 0.0),
                },
            ));
        }
    }
    best.map(|(_, h)| h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bayes::mcmc::{Draw, SamplerStats};

    pub(crate) fn stats(warmup: bool) -> SamplerStats {
        SamplerStats {
            lp: -1.0,
            accept_stat: 0.9,
            step_size: 0.5,
            tree_depth: 3,
            n_leapfrog: 7,
            divergent: false,
            energy: 2.0,
            warmup,
        }
    }

    /// Two parameters: `a` an AR-free sequence, `scale` positive; divergences at small scale.
    fn funnel_traces() -> Vec<Trace> {
        (0..4)
            .map(|c| {
                let mut t = Trace::new(vec!["a".into(), "scale".into()]);
                for i in 0..300 {
                    let warmup = i < 100;
                    let u = ((i * 37 + c * 11) % 101) as f64 / 101.0;
                    let scale = 0.01 + u;
                    let mut s = stats(warmup);
                    s.divergent = !warmup && u < 0.08;
                    s.energy = ((i * 17 + c) % 13) as f64;
                    s.tree_depth = if i % 10 == 0 { 10 } else { 3 };
                    t.draws.push(Draw {
                        unconstrained: vec![0.0, scale.ln()],
                        constrained: vec![((i * 53 + c * 7) % 97) as f64, scale],
                        stats: s,
                    });
                }
                t
            })
            .collect()
    }

    #[test]
    fn counts_exclude_warmup_and_find_the_funnel_parameter() {
        let traces = funnel_traces();
        let s = sampler_summary(&traces, 10);
        assert_eq!(s.n_kept, vec![200; 4]);
        assert!(s.hamiltonian && s.nuts);
        assert_eq!(s.total_max_depth(), 4 * 20);
        let want: usize = traces
            .iter()
            .map(|t| t.kept().iter().filter(|d| d.stats.divergent).count())
            .sum();
        assert_eq!(s.total_divergent(), want);
        let h = s.hotspot.expect("the scale parameter is named");
        assert_eq!(h.param, "scale");
        assert!(h.positive && h.at_low_values());
        assert!(s.e_bfmi.iter().all(|b| b.is_finite()));
    }

    #[test]
    fn summary_has_one_row_per_parameter_and_survives_empty_input() {
        let traces = funnel_traces();
        let s = summarize(&traces);
        assert_eq!((s.n_chains, s.n_draws), (4, 200));
        assert_eq!(s.params.len(), 2);
        assert_eq!(s.params[1].name, "scale");
        assert!(s.params[1].q5 < s.params[1].q50 && s.params[1].q50 < s.params[1].q95);
        let empty = summarize(&[]);
        assert!(empty.params.is_empty() && empty.n_chains == 0);
        let warm_only = vec![Trace {
            param_names: vec!["x".into()],
            draws: vec![Draw {
                unconstrained: vec![0.0],
                constrained: vec![],
                stats: stats(true),
            }],
        }];
        let s = summarize(&warm_only);
        assert!(s.params[0].mean.is_nan() && s.n_chains == 0);
        let ss = sampler_summary(&warm_only, 10);
        assert_eq!(ss.total_kept(), 0);
        assert!(ss.hotspot.is_none());
        let ss = sampler_summary(&[], 10);
        assert_eq!(ss.total_divergent(), 0);
    }
}
