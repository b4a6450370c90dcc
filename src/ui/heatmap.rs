//! The weight matrix as a heatmap: row = cause, column = effect, blue positive, red negative.

use leptos::prelude::*;
use nalgebra::DMatrix;

fn color(w: f64, max_abs: f64) -> String {
    if w == 0.0 || !w.is_finite() {
        return "#f8fafc".to_string();
    }
    let t = (w.abs() / max_abs).clamp(0.0, 1.0);
    let mix = |from: f64, to: f64| (from + (to - from) * t).round() as u8;
    let (r, g, b) = if w > 0.0 {
        (37.0, 99.0, 235.0)
    } else {
        (220.0, 38.0, 38.0)
    };
    format!("rgb({},{},{})", mix(248.0, r), mix(250.0, g), mix(252.0, b))
}

/// `open` is the reader's choice to show or hide the matrix, kept by the caller; `None` until
/// they choose, which shows it for up to 20 variables. The cells (d² of them, with a tooltip
/// each) are built only while it is shown: at d = 50 they were most of the page's work at the
/// end of a run, hidden or not. They are built once per set of variables; live snapshots only
/// change their colours and tooltips.
#[component]
pub fn Heatmap(
    names: Signal<Vec<String>>,
    weights: Signal<DMatrix<f64>>,
    open: RwSignal<Option<bool>>,
) -> impl IntoView {
    let d = move || names.with(|n| n.len());
    let is_open = move || open.get().unwrap_or(d() <= 20);
    let max_abs = Memo::new(move |_| {
        weights.with(|w| {
            w.iter()
                .filter(|w| w.is_finite())
                .fold(0.0_f64, |m, w| m.max(w.abs()))
                .max(1e-9)
        })
    });
    let weight = move |i: usize, j: usize| {
        weights.with(|w| {
            if i < w.nrows() && j < w.ncols() {
                w[(i, j)]
            } else {
                0.0
            }
        })
    };
    let matrix = move || {
        let names = names.get();
        let d = names.len();
        let cell = if d <= 12 {
            26.0
        } else if d <= 30 {
            16.0
        } else {
            10.0
        };
        let label_space =
            8.0 + 7.0 * names.iter().map(|n| n.chars().count()).max().unwrap_or(1) as f64;
        let size = label_space + cell * d as f64 + 4.0;
        let labels = names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let offset = label_space + cell * (i as f64 + 0.5);
                view! {
                    <text x=label_space - 4.0 y=offset text-anchor="end" dominant-baseline="central" font-size="11">{name.clone()}</text>
                    <text transform=format!("translate({offset:.1},{:.1}) rotate(-60)", label_space - 4.0) font-size="11">{name.clone()}</text>
                }
            })
            .collect_view();
        let cells = (0..d)
            .flat_map(|i| (0..d).map(move |j| (i, j)))
            .map(|(i, j)| {
                let pair = format!("{} → {}", names[i], names[j]);
                view! {
                    <rect x=label_space + cell * j as f64 y=label_space + cell * i as f64 width=cell - 1.0 height=cell - 1.0
                        fill=move || color(weight(i, j), max_abs.get())>
                        <title>{move || format!("{pair}: {:+.3}", weight(i, j))}</title>
                    </rect>
                }
            })
            .collect_view();
        view! {
            <svg data-testid="heatmap" xmlns="http://www.w3.org/2000/svg" viewBox=format!("0 0 {size:.0} {size:.0}")
                width=format!("{:.0}", size.min(560.0)) role="img" aria-label="Heatmap of the weight matrix"
                font-family="system-ui, sans-serif">
                {labels}
                {cells}
            </svg>
        }
    };
    view! {
        <details class="heatmap" prop:open=is_open
            on:toggle=move |ev| {
                let now = event_target::<web_sys::HtmlDetailsElement>(&ev).open();
                if now != is_open() {
                    open.set(Some(now));
                }
            }>
            <summary>"Weight matrix (row = cause, column = effect)"</summary>
            {move || is_open().then(|| view! {
                <p class="small heat-legend" data-testid="heatmap-legend">
                    <span class="heat-scale" aria-hidden="true"></span>
                    {move || match max_abs.get() {
                        m if m > 1e-9 => format!(
                            "red negative, blue positive; the darkest cells have |w| = {}. Hover a cell for its weight.",
                            crate::viz::plot::readable(m),
                        ),
                        _ => "Every weight is 0.".to_string(),
                    }}
                </p>
            })}
            {move || is_open().then(matrix)}
        </details>
    }
}
