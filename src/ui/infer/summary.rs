//! The summary table (one row per parameter), the warnings in words grouped by parameter, and
//! the CSV exports.

use leptos::prelude::*;

use super::InferState;
use crate::diagnostics::{self, Severity, RHAT_THRESHOLD};
use crate::ui::download;

/// A statistic the way the table prints it: 3 significant digits, "—" when undefined.
pub fn fmt(x: f64) -> String {
    if !x.is_finite() {
        return "—".into();
    }
    let a = x.abs();
    if a != 0.0 && !(1e-3..1e5).contains(&a) {
        return format!("{x:.2e}");
    }
    let digits = if a >= 100.0 {
        0
    } else if a >= 10.0 {
        1
    } else if a >= 1.0 {
        2
    } else {
        3
    };
    format!("{x:.digits$}")
}

fn fmt_ess(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.0}")
    } else {
        "—".into()
    }
}

#[component]
pub fn SummaryView() -> impl IntoView {
    let state = expect_context::<InferState>();
    move || {
        let view = state.view.get()?;
        let s = &view.summary;
        let ess_min = 100.0 * s.n_chains as f64;
        let rows = s
            .params
            .iter()
            .map(|p| {
                let rhat_bad = p.rhat.is_finite() && p.rhat > RHAT_THRESHOLD;
                let ess_bad = |e: f64| e.is_finite() && e < ess_min;
                view! {
                    <tr data-param=p.name.clone()>
                        <th scope="row">{p.name.clone()}</th>
                        <td data-stat="mean">{fmt(p.mean)}</td>
                        <td data-stat="sd">{fmt(p.sd)}</td>
                        <td data-stat="mcse">{fmt(p.mcse_mean)}</td>
                        <td data-stat="q5" data-mcse=p.mcse_q5.to_string()
                            title=format!("MCSE of the 5% quantile: {}", fmt(p.mcse_q5))>{fmt(p.q5)}</td>
                        <td data-stat="q50">{fmt(p.q50)}</td>
                        <td data-stat="q95" data-mcse=p.mcse_q95.to_string()
                            title=format!("MCSE of the 95% quantile: {}", fmt(p.mcse_q95))>{fmt(p.q95)}</td>
                        <td data-stat="ess_bulk" class:bad=ess_bad(p.ess_bulk)>{fmt_ess(p.ess_bulk)}</td>
                        <td data-stat="ess_tail" class:bad=ess_bad(p.ess_tail)>{fmt_ess(p.ess_tail)}</td>
                        <td data-stat="rhat" class:bad=rhat_bad>{if p.rhat.is_finite() { format!("{:.3}", p.rhat) } else { "—".into() }}</td>
                    </tr>
                }
            })
            .collect_view();
        // Warnings grouped: the run's own first, then per parameter in table order.
        type Group = (Option<String>, Vec<(Severity, String)>);
        let mut groups: Vec<Group> = vec![];
        for w in &view.warnings {
            match groups.iter_mut().find(|(p, _)| *p == w.param) {
                Some((_, items)) => items.push((w.severity, w.text.clone())),
                None => groups.push((w.param.clone(), vec![(w.severity, w.text.clone())])),
            }
        }
        groups.sort_by_key(|(p, _)| {
            p.as_ref()
                .map(|p| {
                    s.params
                        .iter()
                        .position(|x| &x.name == p)
                        .unwrap_or(usize::MAX - 1)
                        + 1
                })
                .unwrap_or(0)
        });
        let n_warnings = view.warnings.len();
        let is_final = view.is_final;
        let traces = view.traces.clone();
        let summary = view.summary.clone();
        let caption = format!(
            "{} chain{} × {} kept draws{}",
            s.n_chains,
            if s.n_chains == 1 { "" } else { "s" },
            s.n_draws,
            if is_final {
                ""
            } else {
                " so far (updating live)"
            }
        );
        let notes = state.notes.get();
        let sampler_line = view.sampler.as_ref().filter(|s| s.hamiltonian).map(|s| {
            let mut line = format!(
                "{} divergent transitions of {} kept",
                s.total_divergent(),
                s.total_kept()
            );
            if s.nuts {
                line.push_str(&format!(
                    "; {} hit the maximum tree depth {}",
                    s.total_max_depth(),
                    s.max_tree_depth
                ));
            }
            let bfmi: Vec<String> = s
                .e_bfmi
                .iter()
                .filter(|b| b.is_finite())
                .map(|b| format!("{b:.2}"))
                .collect();
            if !bfmi.is_empty() {
                line.push_str(&format!("; E-BFMI per chain {}", bfmi.join(", ")));
            }
            line
        });
        // Results stay on screen after the model or its settings change; say whose they are.
        // Its own closure, so that editing a setting redraws this line, not the table.
        let stale = move || {
            state.ran_model.get().and_then(|ran| {
            let now = state.spec();
            (ran != now).then(|| {
                if ran.id() == now.id() {
                    format!(
                        "These results are from the last run of {} with other settings; press Run to fit the current ones.",
                        ran.info().name
                    )
                } else {
                    format!(
                        "These results are from the last run, of {}; press Run to fit {}.",
                        ran.info().name,
                        now.info().name
                    )
                }
            })
        })
        };
        Some(view! {
            {move || stale().map(|text| view! { <p class="warning small" data-testid="stale-results">{text}</p> })}
            <h3>"Posterior summary"</h3>
            <div class="table-scroll">
                <table class="summary-table" data-testid="summary" data-final=is_final.to_string()>
                    <caption class="small muted">{caption}</caption>
                    <thead><tr>
                        <th scope="col">"parameter"</th>
                        <th scope="col" title="posterior mean">"mean"</th>
                        <th scope="col" title="posterior standard deviation">"sd"</th>
                        <th scope="col" title="Monte Carlo standard error of the mean: how far the mean may be off because there are only so many draws">"MCSE"</th>
                        <th scope="col">"5%"</th>
                        <th scope="col">"50%"</th>
                        <th scope="col">"95%"</th>
                        <th scope="col" title="effective sample size for the centre of the distribution">"ESS bulk"</th>
                        <th scope="col" title="effective sample size for the 5% and 95% quantiles">"ESS tail"</th>
                        <th scope="col" title="rank-normalized split R-hat: near 1.00 when the chains agree">"R-hat"</th>
                    </tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            {sampler_line.map(|l| view! { <p class="small muted" data-testid="sampler-stats">{l}</p> })}
            <div data-testid="infer-warnings" data-count=n_warnings.to_string() aria-live="polite">
                {if n_warnings == 0 && is_final {
                    Some(view! { <p class="note small">"No warnings: R-hat, effective sample sizes and the sampler's own checks look healthy."</p> })
                } else { None }}
                {groups.into_iter().map(|(param, items)| {
                    let heading = param.clone().map(|p| format!("About {p}")).unwrap_or_else(|| "About the whole run".into());
                    let worst = items.iter().map(|(s, _)| *s).max().unwrap_or(Severity::Info);
                    let class = match worst { Severity::Error => "error", Severity::Warning => "warning", Severity::Info => "note" };
                    view! {
                        <div class=class data-warning-param=param.unwrap_or_default()>
                            <strong>{heading}</strong>
                            {items.into_iter().map(|(_, text)| view! { <p class="small">{text}</p> }).collect_view()}
                        </div>
                    }
                }).collect_view()}
                {notes.into_iter().map(|n| view! { <p class="warning small">{n}</p> }).collect_view()}
            </div>
            <div class="exports">
                <span class="small muted">"Export:"</span>
                <button class="button small" data-testid="export-draws"
                    on:click=move |_| download::text("draws.csv", "text/csv", &diagnostics::draws_csv(&traces))>"Draws CSV"</button>
                <button class="button small" data-testid="export-summary"
                    on:click=move |_| download::text("summary.csv", "text/csv", &diagnostics::summary_csv(&summary))>"Summary CSV"</button>
            </div>
        })
    }
}
