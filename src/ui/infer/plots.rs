//! The posterior plots, hand-built SVG: per parameter a trace plot (all chains, warm-up shaded),
//! density with histogram (and the exact posterior where known) and a rank plot; a pair plot
//! with divergent draws marked; the ELBO curve (ADVI); a posterior predictive check
//! (regressions). The plot math lives in [`crate::viz`].

use leptos::prelude::*;

use super::{chain_color, InferState, View};
use crate::bayes::mcmc::Trace;
use crate::ui::target_value;
use crate::viz::plot::{
    extent, histogram, kde, linspace, rank_histograms, tick_label, ticks, Scale,
};
use crate::viz::posterior::{path, robust_range, thin};

const W: f64 = 300.0;
const H: f64 = 150.0;
const ML: f64 = 46.0;
const MR: f64 = 8.0;
const MT: f64 = 20.0;
const MB: f64 = 22.0;
/// Parameters drawn individually (the table lists them all).
const MAX_PARAMS: usize = 12;
/// Points per chain in a trace plot.
const TRACE_POINTS: usize = 400;

fn x_scale(domain: (f64, f64)) -> Scale {
    Scale::new(domain, (ML, W - MR))
}

fn y_scale(domain: (f64, f64)) -> Scale {
    Scale::new(domain, (H - MB, MT))
}

/// Frame, ticks and title of a plot.
fn axes(sx: Scale, sy: Scale, title: String, y_ticks: bool) -> impl IntoView {
    let xt = ticks(sx.domain.0, sx.domain.1, 4);
    let yt = if y_ticks {
        ticks(sy.domain.0, sy.domain.1, 3)
    } else {
        vec![]
    };
    view! {
        <text x=ML y="13" class="plot-title" font-size="12" font-weight="600">{title}</text>
        <rect x=ML y=MT width=W - ML - MR height=H - MT - MB fill="none" stroke="#cbd5e1" />
        {xt.into_iter().map(|t| {
            let x = sx.map(t);
            view! {
                <line x1=x x2=x y1=H - MB y2=H - MB + 3.0 stroke="#94a3b8" />
                <text x=x y=H - 6.0 font-size="10" text-anchor="middle" fill="#475569">{tick_label(t)}</text>
            }
        }).collect_view()}
        {yt.into_iter().map(|t| {
            let y = sy.map(t);
            view! {
                <line x1=ML - 3.0 x2=ML y1=y y2=y stroke="#94a3b8" />
                <text x=ML - 5.0 y=y + 3.0 font-size="10" text-anchor="end" fill="#475569">{tick_label(t)}</text>
            }
        }).collect_view()}
    }
}

fn column(t: &Trace, p: usize) -> Vec<f64> {
    t.draws
        .iter()
        .map(|d| d.constrained.get(p).copied().unwrap_or(f64::NAN))
        .collect()
}

fn kept_column(t: &Trace, p: usize) -> Vec<f64> {
    t.kept()
        .iter()
        .map(|d| d.constrained.get(p).copied().unwrap_or(f64::NAN))
        .collect()
}

/// Range of a parameter over kept draws (all draws while still warming up).
fn param_range(v: &View, p: usize) -> Option<(f64, f64)> {
    let kept: Vec<f64> = v.traces.iter().flat_map(|t| kept_column(t, p)).collect();
    if kept.len() >= 10 {
        return robust_range(&kept);
    }
    let all: Vec<f64> = v.traces.iter().flat_map(|t| column(t, p)).collect();
    robust_range(&all)
}

fn trace_plot(v: &View, p: usize, name: &str) -> impl IntoView {
    let n_max = v.traces.iter().map(|t| t.len()).max().unwrap_or(0);
    let n_warm = v.traces.iter().map(|t| t.n_warmup()).max().unwrap_or(0);
    let range = param_range(v, p).unwrap_or((0.0, 1.0));
    let sx = x_scale((0.0, n_max.max(2) as f64 - 1.0));
    let sy = y_scale(range);
    let clamp = |y: f64| y.clamp(range.0, range.1);
    let lines = v
        .traces
        .iter()
        .enumerate()
        .map(|(c, t)| {
            let col = column(t, p);
            let d = path(
                thin(col.len(), TRACE_POINTS)
                    .into_iter()
                    .map(|i| (i as f64, clamp(col[i]))),
                &sx,
                &sy,
            );
            view! { <path d=d fill="none" stroke=chain_color(c) stroke-width="1" opacity="0.8" data-chain=c.to_string() /> }
        })
        .collect_view();
    let shade = (n_warm > 0).then(|| {
        let x1 = sx.map(n_warm as f64);
        view! {
            <rect x=ML y=MT width=(x1 - ML).max(0.0) height=H - MT - MB fill="#e2e8f0" opacity="0.6" data-testid="warmup-shade">
                <title>"warm-up (adaptation): not used for inference"</title>
            </rect>
        }
    });
    view! {
        <svg class="plot" viewBox=format!("0 0 {W} {H}") role="img" data-plot="trace" data-param=name.to_string()
            aria-label=format!("Trace plot of {name}")>
            {shade}
            {lines}
            {axes(sx, sy, format!("{name}: trace"), true)}
        </svg>
    }
}

fn density_plot(v: &View, p: usize, name: &str, exact: Option<Vec<[f64; 2]>>) -> impl IntoView {
    let pooled: Vec<f64> = v.traces.iter().flat_map(|t| kept_column(t, p)).collect();
    let (lo, hi) = robust_range(&pooled).unwrap_or((0.0, 1.0));
    let n_bins = 30;
    let counts = histogram(&pooled, lo, hi, n_bins);
    let width = (hi - lo) / n_bins as f64;
    let total = pooled.len().max(1) as f64;
    let dens: Vec<f64> = counts
        .iter()
        .map(|&c| c as f64 / (total * width.max(f64::MIN_POSITIVE)))
        .collect();
    let grid = linspace(lo, hi, 80);
    let chain_kdes: Vec<Vec<f64>> = v
        .traces
        .iter()
        .map(|t| {
            // A KDE of 500 evenly spaced draws looks the same and keeps refreshes cheap.
            let col = kept_column(t, p);
            let thinned: Vec<f64> = thin(col.len(), 500).into_iter().map(|i| col[i]).collect();
            kde(&thinned, &grid)
        })
        .collect();
    let exact: Option<Vec<[f64; 2]>> = exact.map(|c| {
        c.into_iter()
            .filter(|[x, _]| *x >= lo && *x <= hi)
            .collect()
    });
    let y_max = dens
        .iter()
        .copied()
        .chain(chain_kdes.iter().flatten().copied())
        .chain(exact.iter().flatten().map(|[_, y]| *y))
        .filter(|y| y.is_finite())
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE)
        * 1.08;
    let sx = x_scale((lo, hi));
    let sy = y_scale((0.0, y_max));
    let bars = dens
        .iter()
        .enumerate()
        .map(|(k, &d)| {
            let x0 = sx.map(lo + k as f64 * width);
            let x1 = sx.map(lo + (k + 1) as f64 * width);
            let y = sy.map(d);
            view! { <rect x=x0 y=y width=(x1 - x0 - 0.5).max(0.0) height=(H - MB - y).max(0.0) fill="#cbd5e1" /> }
        })
        .collect_view();
    let curves = chain_kdes
        .iter()
        .enumerate()
        .map(|(c, k)| {
            let d = path(grid.iter().copied().zip(k.iter().copied()), &sx, &sy);
            view! { <path d=d fill="none" stroke=chain_color(c) stroke-width="1.3" /> }
        })
        .collect_view();
    let exact_curve = exact.map(|c| {
        let d = path(c.into_iter().map(|[x, y]| (x, y)), &sx, &sy);
        view! {
            <path d=d fill="none" stroke="#111827" stroke-width="2" stroke-dasharray="5 3" data-testid="exact-posterior">
                <title>"the exact posterior"</title>
            </path>
        }
    });
    let title = if exact_curve.is_some() {
        format!("{name}: density (dashed = exact)")
    } else {
        format!("{name}: density")
    };
    view! {
        <svg class="plot" viewBox=format!("0 0 {W} {H}") role="img" data-plot="density" data-param=name.to_string()
            aria-label=format!("Posterior density of {name}")>
            {bars}
            {curves}
            {exact_curve}
            {axes(sx, sy, title, false)}
        </svg>
    }
}

fn rank_plot(v: &View, p: usize, name: &str) -> impl IntoView {
    let chains: Vec<Vec<f64>> = v.traces.iter().map(|t| kept_column(t, p)).collect();
    let n_chains = chains.len().max(1);
    let n_bins = 20;
    let hists = rank_histograms(&chains, n_bins);
    let band = (H - MT - MB) / n_chains as f64;
    let sx = x_scale((0.0, n_bins as f64));
    let rows = hists
        .iter()
        .enumerate()
        .map(|(c, h)| {
            let expected = chains[c].len() as f64 / n_bins as f64;
            let top = h.iter().copied().max().unwrap_or(0) as f64;
            let scale_max = top.max(expected * 2.0).max(1.0);
            let base = MT + band * (c + 1) as f64;
            let bar_h = |count: f64| count / scale_max * band * 0.9;
            let bars = h
                .iter()
                .enumerate()
                .map(|(k, &count)| {
                    let x0 = sx.map(k as f64);
                    let x1 = sx.map(k as f64 + 1.0);
                    let hgt = bar_h(count as f64);
                    view! { <rect x=x0 y=base - hgt width=(x1 - x0 - 0.5).max(0.0) height=hgt fill=chain_color(c) opacity="0.75" /> }
                })
                .collect_view();
            let ey = base - bar_h(expected);
            view! {
                {bars}
                <line x1=ML x2=W - MR y1=ey y2=ey stroke="#111827" stroke-dasharray="3 3" stroke-width="0.8" />
            }
        })
        .collect_view();
    view! {
        <svg class="plot" viewBox=format!("0 0 {W} {H}") role="img" data-plot="rank" data-param=name.to_string()
            aria-label=format!("Rank plot of {name}: flat bars mean the chains mix well")>
            {rows}
            <text x=ML y="13" font-size="12" font-weight="600">{format!("{name}: rank plot (flat = chains agree)")}</text>
            <rect x=ML y=MT width=W - ML - MR height=H - MT - MB fill="none" stroke="#cbd5e1" />
            <text x=(ML + W - MR) / 2.0 y=H - 6.0 font-size="10" text-anchor="middle" fill="#475569">"rank of the draw among all chains"</text>
        </svg>
    }
}

fn pair_plot(v: &View, px: usize, py: usize, names: &[String]) -> impl IntoView {
    let mut pts = vec![];
    let mut div = vec![];
    for (c, t) in v.traces.iter().enumerate() {
        let kept = t.kept();
        for i in thin(kept.len(), 1500 / v.traces.len().max(1)) {
            let d = &kept[i];
            let (x, y) = (
                d.constrained.get(px).copied().unwrap_or(f64::NAN),
                d.constrained.get(py).copied().unwrap_or(f64::NAN),
            );
            pts.push((x, y, c));
        }
        for d in kept.iter().filter(|d| d.stats.divergent) {
            div.push((
                d.constrained.get(px).copied().unwrap_or(f64::NAN),
                d.constrained.get(py).copied().unwrap_or(f64::NAN),
            ));
        }
    }
    let xr = robust_range(&pts.iter().map(|p| p.0).collect::<Vec<_>>()).unwrap_or((0.0, 1.0));
    let yr = robust_range(&pts.iter().map(|p| p.1).collect::<Vec<_>>()).unwrap_or((0.0, 1.0));
    let (pw, ph) = (W * 1.3, W);
    let sx = Scale::new(xr, (ML, pw - MR));
    let sy = Scale::new(yr, (ph - MB - 10.0, MT));
    let inside = |x: f64, y: f64| x >= xr.0 && x <= xr.1 && y >= yr.0 && y <= yr.1;
    let dots = pts
        .into_iter()
        .filter(|&(x, y, _)| inside(x, y))
        .map(|(x, y, c)| view! { <circle cx=format!("{:.1}", sx.map(x)) cy=format!("{:.1}", sy.map(y)) r="1.6" fill=chain_color(c) opacity="0.35" /> })
        .collect_view();
    let n_div = div.len();
    let crosses = div
        .into_iter()
        .filter(|&(x, y)| inside(x, y))
        .map(|(x, y)| {
            let (cx, cy) = (sx.map(x), sy.map(y));
            view! {
                <path d=format!("M{:.1} {:.1} l6 6 m0 -6 l-6 6", cx - 3.0, cy - 3.0) stroke="#dc2626" stroke-width="1.6" data-divergent="true" />
            }
        })
        .collect_view();
    let xt = ticks(xr.0, xr.1, 5);
    let yt = ticks(yr.0, yr.1, 5);
    let (nx, ny) = (
        names.get(px).cloned().unwrap_or_default(),
        names.get(py).cloned().unwrap_or_default(),
    );
    view! {
        <svg class="plot pair" viewBox=format!("0 0 {pw} {ph}") role="img" data-testid="pair-plot"
            data-divergent=n_div.to_string() aria-label=format!("Pair plot of {nx} and {ny}")>
            {dots}
            {crosses}
            <rect x=ML y=MT width=pw - ML - MR height=ph - MT - MB - 10.0 fill="none" stroke="#cbd5e1" />
            {xt.into_iter().map(|t| view! {
                <text x=sx.map(t) y=ph - MB + 4.0 font-size="10" text-anchor="middle" fill="#475569">{tick_label(t)}</text>
            }).collect_view()}
            {yt.into_iter().map(|t| view! {
                <text x=ML - 5.0 y=sy.map(t) + 3.0 font-size="10" text-anchor="end" fill="#475569">{tick_label(t)}</text>
            }).collect_view()}
            <text x=(ML + pw) / 2.0 y=ph - 4.0 font-size="11" text-anchor="middle">{nx.clone()}</text>
            <text x=ML y="13" font-size="12" font-weight="600">
                {format!("{ny} against {nx}{}", if n_div > 0 { format!(" — {n_div} divergent draws marked ×") } else { String::new() })}
            </text>
        </svg>
    }
}

fn elbo_plot(v: &View) -> Option<impl IntoView> {
    let points: Vec<(f64, f64)> = v
        .elbo
        .iter()
        .find(|e| !e.is_empty())?
        .iter()
        .map(|p| (p.iteration as f64, p.elbo))
        .collect();
    let xr = extent(points.iter().map(|p| p.0))?;
    let ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    let yr = robust_range(&ys).or_else(|| extent(ys.iter().copied()))?;
    let sx = x_scale(xr);
    let sy = y_scale(yr);
    let d = path(
        points.iter().map(|&(x, y)| (x, y.clamp(yr.0, yr.1))),
        &sx,
        &sy,
    );
    Some(view! {
        <svg class="plot" viewBox=format!("0 0 {W} {H}") role="img" data-testid="elbo-plot"
            aria-label="ELBO by iteration">
            <path d=d fill="none" stroke="#2563eb" stroke-width="1.5" />
            {axes(sx, sy, "ELBO by iteration (higher = closer fit)".into(), true)}
        </svg>
    })
}

fn ppc_plot(ppc: &crate::protocol::Ppc) -> impl IntoView {
    if ppc.binary {
        let share =
            |y: &[f64]| y.iter().filter(|v| **v > 0.5).count() as f64 / y.len().max(1) as f64;
        let observed = share(&ppc.observed);
        let reps: Vec<f64> = ppc.replicates.iter().map(|y| share(y)).collect();
        let (lo, hi) = extent(reps.iter().copied().chain([observed])).unwrap_or((0.0, 1.0));
        let pad = ((hi - lo) * 0.2).max(0.02);
        let (lo, hi) = ((lo - pad).max(0.0), (hi + pad).min(1.0));
        let n_bins = 15;
        let counts = histogram(&reps, lo, hi, n_bins);
        let top = counts.iter().copied().max().unwrap_or(1).max(1) as f64;
        let sx = x_scale((lo, hi));
        let sy = y_scale((0.0, top * 1.1));
        let width = (hi - lo) / n_bins as f64;
        let bars = counts.iter().enumerate().map(|(k, &c)| {
            let x0 = sx.map(lo + k as f64 * width);
            let x1 = sx.map(lo + (k + 1) as f64 * width);
            let y = sy.map(c as f64);
            view! { <rect x=x0 y=y width=(x1 - x0 - 0.5).max(0.0) height=(H - MB - y).max(0.0) fill="#93c5fd" /> }
        }).collect_view();
        let ox = sx.map(observed);
        return view! {
            <svg class="plot" viewBox=format!("0 0 {W} {H}") role="img" data-testid="ppc-plot"
                aria-label="Posterior predictive check: share of ones">
                {bars}
                <line x1=ox x2=ox y1=MT y2=H - MB stroke="#111827" stroke-width="2" />
                {axes(sx, sy, format!("PPC: share of {} = 1 (line = observed)", ppc.outcome), false)}
            </svg>
        }
        .into_any();
    }
    let all = ppc
        .replicates
        .iter()
        .flatten()
        .chain(ppc.observed.iter())
        .copied()
        .collect::<Vec<_>>();
    let (lo, hi) = robust_range(&all).unwrap_or((0.0, 1.0));
    let grid = linspace(lo, hi, 80);
    let rep_k: Vec<Vec<f64>> = ppc.replicates.iter().map(|y| kde(y, &grid)).collect();
    let obs_k = kde(&ppc.observed, &grid);
    let top = rep_k
        .iter()
        .flatten()
        .chain(obs_k.iter())
        .copied()
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE)
        * 1.08;
    let sx = x_scale((lo, hi));
    let sy = y_scale((0.0, top));
    let reps = rep_k
        .iter()
        .map(|k| {
            let d = path(grid.iter().copied().zip(k.iter().copied()), &sx, &sy);
            view! { <path d=d fill="none" stroke="#93c5fd" stroke-width="0.8" opacity="0.7" /> }
        })
        .collect_view();
    let obs = path(grid.iter().copied().zip(obs_k.iter().copied()), &sx, &sy);
    view! {
        <svg class="plot" viewBox=format!("0 0 {W} {H}") role="img" data-testid="ppc-plot"
            aria-label="Posterior predictive check: replicated against observed outcome">
            {reps}
            <path d=obs fill="none" stroke="#111827" stroke-width="2" />
            {axes(sx, sy, format!("PPC: {} (black = observed, blue = replicated)", ppc.outcome), false)}
        </svg>
    }
    .into_any()
}

#[component]
pub fn Plots() -> impl IntoView {
    let state = expect_context::<InferState>();
    let pair = RwSignal::new((0usize, 1usize));
    let names = Memo::new(move |_| {
        state.view.with(|v| {
            v.as_ref()
                .and_then(|v| v.traces.first().map(|t| t.param_names.clone()))
                .unwrap_or_default()
        })
    });
    let exact = Memo::new(move |_| {
        let model = state.ran_model.get()?;
        let reference = model.exact_reference(None).ok().flatten()?;
        Some((reference.param, reference.posterior.density_curve(200)))
    });
    let per_param = move || {
        let v = state.view.get()?;
        let names = names.get();
        let exact = exact.get();
        Some(
            names
                .iter()
                .enumerate()
                .take(MAX_PARAMS)
                .map(|(p, name)| {
                    let ex = exact
                        .as_ref()
                        .filter(|(param, _)| param == name)
                        .map(|(_, c)| c.clone());
                    view! {
                        <div class="plot-row" data-plots-param=name.clone()>
                            {trace_plot(&v, p, name)}
                            {density_plot(&v, p, name, ex)}
                            {rank_plot(&v, p, name)}
                        </div>
                    }
                })
                .collect_view(),
        )
    };
    let select = move |testid: &'static str, which: usize| {
        view! {
            <select data-testid=testid on:change=move |ev| {
                if let Ok(i) = target_value(&ev).parse::<usize>() {
                    pair.update(|p| if which == 0 { p.0 = i } else { p.1 = i });
                }
            }>
                {move || names.get().into_iter().enumerate().map(|(i, n)| {
                    let current = if which == 0 { pair.get().0 } else { pair.get().1 };
                    view! { <option value=i.to_string() selected=i == current>{n}</option> }
                }).collect_view()}
            </select>
        }
    };
    view! {
        <Show when=move || state.view.with(|v| v.is_some())>
            <h3>"Plots"</h3>
            <p class="muted small">"Colours are chains. Trace plots should look like flat, overlapping “fuzzy caterpillars” after the shaded warm-up; rank plots should be flat."</p>
            {move || {
                let n = names.with(|n| n.len());
                (n > MAX_PARAMS).then(|| view! { <p class="muted small">{format!("Plots show the first {MAX_PARAMS} of {n} parameters; the table lists them all.")}</p> })
            }}
            <div class="plot-grid-3" data-testid="param-plots">{per_param}</div>
            <div class="plot-extra">
                <Show when=move || names.with(|n| n.len() >= 2)>
                    <figure class="pair-figure">
                        <figcaption class="small">"Pair plot: " {select("pair-x", 0)} " against " {select("pair-y", 1)}</figcaption>
                        {move || {
                            let v = state.view.get()?;
                            let (px, py) = pair.get();
                            let names = names.get();
                            Some(pair_plot(&v, px.min(names.len().saturating_sub(1)), py.min(names.len().saturating_sub(1)), &names))
                        }}
                    </figure>
                </Show>
                {move || state.view.get().and_then(|v| elbo_plot(&v).map(|p| p.into_any()))}
                {move || state.ppc.get().map(|ppc| view! {
                    <figure>
                        {ppc_plot(&ppc)}
                        <figcaption class="small muted">"Posterior predictive check: data simulated from the fitted model should look like the data observed."</figcaption>
                    </figure>
                })}
            </div>
        </Show>
    }
}
