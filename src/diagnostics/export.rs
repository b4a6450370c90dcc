//! CSV downloads: every draw with its sampler statistics (Stan's column names), and the summary
//! table. Numbers are written in the shortest form that reads back to the same f64; NaN and
//! infinities as `NaN`, `Inf`, `-Inf` (which pandas and R both read).

use std::fmt::Write;

use super::summary::Summary;
use crate::bayes::mcmc::Trace;

/// A header or name cell, quoted per RFC 4180 when it holds a delimiter, quote or line break.
fn cell(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn number(x: f64) -> String {
    if x.is_nan() {
        "NaN".into()
    } else if x == f64::INFINITY {
        "Inf".into()
    } else if x == f64::NEG_INFINITY {
        "-Inf".into()
    } else {
        // Debug is the shortest round-trip form and switches to an exponent for very large or
        // small magnitudes (Display would print 1e300 with 300 digits).
        format!("{x:?}")
    }
}

/// Every draw of every chain, warm-up included and marked: columns `chain,draw,<params...>,
/// lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,warmup__`.
/// `chain` and `draw` count from 1 (draw over all iterations, warm-up first); booleans are 0/1.
/// Parameter columns follow the first trace's names; a missing value is written as NaN.
pub fn draws_csv(traces: &[Trace]) -> String {
    let names: &[String] = traces.first().map_or(&[], |t| &t.param_names);
    let mut out = String::from("chain,draw");
    for n in names {
        out.push(',');
        out.push_str(&cell(n));
    }
    out.push_str(
        ",lp__,accept_stat__,stepsize__,treedepth__,n_leapfrog__,divergent__,energy__,warmup__\n",
    );
    for (c, t) in traces.iter().enumerate() {
        for (i, d) in t.draws.iter().enumerate() {
            let _ = write!(out, "{},{}", c + 1, i + 1);
            for p in 0..names.len() {
                out.push(',');
                out.push_str(&number(d.constrained.get(p).copied().unwrap_or(f64::NAN)));
            }
            let s = &d.stats;
            let _ = writeln!(
                out,
                ",{},{},{},{},{},{},{},{}",
                number(s.lp),
                number(s.accept_stat),
                number(s.step_size),
                s.tree_depth,
                s.n_leapfrog,
                u8::from(s.divergent),
                number(s.energy),
                u8::from(s.warmup),
            );
        }
    }
    out
}

/// The summary table:
/// `param,mean,sd,mcse_mean,mcse_sd,q5,q50,q95,mcse_q5,mcse_q95,ess_bulk,ess_tail,rhat`.
pub fn summary_csv(summary: &Summary) -> String {
    let mut out = String::from(
        "param,mean,sd,mcse_mean,mcse_sd,q5,q50,q95,mcse_q5,mcse_q95,ess_bulk,ess_tail,rhat\n",
    );
    for p in &summary.params {
        out.push_str(&cell(&p.name));
        for x in [
            p.mean,
            p.sd,
            p.mcse_mean,
            p.mcse_sd,
            p.q5,
            p.q50,
            p.q95,
            p.mcse_q5,
            p.mcse_q95,
            p.ess_bulk,
            p.ess_tail,
            p.rhat,
        ] {
            out.push(',');
            out.push_str(&number(x));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bayes::mcmc::{Draw, SamplerStats};
    use crate::diagnostics::summary::ParamSummary;

    fn trace(names: &[&str], n: usize) -> Trace {
        let mut t = Trace::new(names.iter().map(|s| s.to_string()).collect());
        for i in 0..n {
            t.draws.push(Draw {
                unconstrained: vec![i as f64],
                constrained: vec![i as f64 * 0.1, 1e-300],
                stats: SamplerStats {
                    lp: -1.5,
                    accept_stat: 1.0,
                    step_size: 0.25,
                    tree_depth: 2,
                    n_leapfrog: 3,
                    divergent: i == 1,
                    energy: f64::INFINITY,
                    warmup: i == 0,
                },
            });
        }
        t
    }

    #[test]
    fn draws_csv_has_stan_columns_and_round_trips_numbers() {
        let csv = draws_csv(&[trace(&["mu", "a,\"b\""], 2), trace(&["mu", "x"], 1)]);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "chain,draw,mu,\"a,\"\"b\"\"\",lp__,accept_stat__,stepsize__,treedepth__,\
             n_leapfrog__,divergent__,energy__,warmup__"
        );
        assert_eq!(lines[1], "1,1,0.0,1e-300,-1.5,1.0,0.25,2,3,0,Inf,1");
        assert_eq!(lines[2], "1,2,0.1,1e-300,-1.5,1.0,0.25,2,3,1,Inf,0");
        assert_eq!(lines[3], "2,1,0.0,1e-300,-1.5,1.0,0.25,2,3,0,Inf,1");
        assert_eq!(lines.len(), 4);
        for field in lines[2].split(',') {
            assert!(field == "Inf" || field.parse::<f64>().is_ok(), "{field}");
        }
        assert_eq!(draws_csv(&[]).lines().count(), 1);
    }

    #[test]
    fn summary_csv_writes_one_row_per_parameter() {
        let s = Summary {
            params: vec![ParamSummary {
                name: "theta[1]".into(),
                mean: 0.1,
                sd: 2.0,
                mcse_mean: 0.01,
                mcse_sd: f64::NAN,
                q5: -3.0,
                q50: 0.0,
                q95: 3.5,
                mcse_q5: 0.25,
                mcse_q95: 0.5,
                ess_bulk: 1234.5,
                ess_tail: 999.0,
                rhat: f64::NEG_INFINITY,
            }],
            n_chains: 4,
            n_draws: 1000,
        };
        let csv = summary_csv(&s);
        assert_eq!(
            csv,
            "param,mean,sd,mcse_mean,mcse_sd,q5,q50,q95,mcse_q5,mcse_q95,ess_bulk,ess_tail,rhat\n\
             theta[1],0.1,2.0,0.01,NaN,-3.0,0.0,3.5,0.25,0.5,1234.5,999.0,-Inf\n"
        );
    }
}
