//! Plot math for the posterior views and the training curves: axis scales with round ticks,
//! histograms, Gaussian kernel density estimates, the rank histograms of rank plots (Vehtari
//! et al. 2021, §4), and training curves stored by column and thinned for drawing.

/// A linear map from a data interval onto a pixel interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub domain: (f64, f64),
    pub range: (f64, f64),
}

impl Scale {
    /// A scale over `domain`, widened to a unit interval around the value if it is empty and
    /// to (0, 1) if it is not finite, so plotting never divides by zero.
    pub fn new(domain: (f64, f64), range: (f64, f64)) -> Scale {
        let (mut lo, mut hi) = domain;
        if !(lo.is_finite() && hi.is_finite()) {
            (lo, hi) = (0.0, 1.0);
        }
        if hi < lo {
            std::mem::swap(&mut lo, &mut hi);
        }
        if hi - lo <= f64::EPSILON * lo.abs().max(1.0) {
            (lo, hi) = (lo - 0.5, hi + 0.5);
        }
        Scale {
            domain: (lo, hi),
            range,
        }
    }

    pub fn map(&self, x: f64) -> f64 {
        let (d0, d1) = self.domain;
        let (r0, r1) = self.range;
        r0 + (x - d0) / (d1 - d0) * (r1 - r0)
    }
}

/// About `target` round tick values (steps of 1, 2 or 5 × 10^k) inside [lo, hi].
pub fn ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo || target == 0 {
        return vec![];
    }
    let raw = (hi - lo) / target as f64;
    let magnitude = 10f64.powf(raw.log10().floor());
    // d3's rule: round the raw step to 1, 2, 5 or 10 × 10^k on a geometric scale.
    let error = raw / magnitude;
    let multiple = if error >= 50f64.sqrt() {
        10.0
    } else if error >= 10f64.sqrt() {
        5.0
    } else if error >= 2f64.sqrt() {
        2.0
    } else {
        1.0
    };
    let step = multiple * magnitude;
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            // Avoid -0 and 0.30000000000000004 in labels.
            let rounded = (v / step).round() * step;
            if rounded == 0.0 {
                0.0
            } else {
                rounded
            }
        })
        .collect()
}

/// A short label for a tick value.
pub fn tick_label(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.1e}")
    } else {
        let s = format!("{v:.4}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// A value for a reader in four significant digits: 10.14, 0.1322, 2401; scientific notation
/// only outside 10⁻³…10⁶ (1.322e-5).
pub fn readable(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() {
        return format!("{v}");
    }
    if a == 0.0 {
        return "0".into();
    }
    if !(1e-3..1e6).contains(&a) {
        return format!("{v:.3e}");
    }
    let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A run's training curves, stored by curve: the ids of the first point, in its order, and
/// one column of values per id (NaN where a point lacks the id).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CurveColumns {
    pub ids: Vec<String>,
    pub values: Vec<Vec<f64>>,
}

impl CurveColumns {
    /// Points recorded so far.
    pub fn len(&self) -> usize {
        self.values.first().map_or(0, Vec::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends points as the worker sends them: each a list of (id, value).
    pub fn extend(&mut self, points: impl IntoIterator<Item = Vec<(String, f64)>>) {
        for point in points {
            if self.ids.is_empty() {
                self.ids = point.iter().map(|(id, _)| id.clone()).collect();
                self.values = vec![Vec::new(); self.ids.len()];
            }
            for (id, column) in self.ids.iter().zip(&mut self.values) {
                column.push(
                    point
                        .iter()
                        .find(|(k, _)| k == id)
                        .map_or(f64::NAN, |(_, v)| *v),
                );
            }
        }
    }

    /// The values of curve `id`, if there is one.
    pub fn column(&self, id: &str) -> Option<&[f64]> {
        let k = self.ids.iter().position(|i| i == id)?;
        Some(&self.values[k])
    }

    /// The curves as CSV for the page's download: a header `point,<ids>`, then a row per point
    /// (numbered from 1) with each value in the shortest form that reads back to the same
    /// number, empty where the point lacks it (NaN, e.g. SDCD's ρ(A) in stage 1).
    pub fn to_csv(&self) -> String {
        let mut out = String::from("point");
        for id in &self.ids {
            out.push(',');
            out.push_str(id);
        }
        out.push('\n');
        for i in 0..self.len() {
            out.push_str(&(i + 1).to_string());
            for column in &self.values {
                out.push(',');
                if column[i].is_finite() {
                    out.push_str(&column[i].to_string());
                }
            }
            out.push('\n');
        }
        out
    }
}

/// Finite minimum and maximum (None if there is no finite value).
pub fn extent(values: impl IntoIterator<Item = f64>) -> Option<(f64, f64)> {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(None, |acc, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

/// Counts of `values` in `n_bins` equal bins over [lo, hi] (the top edge belongs to the last
/// bin); values outside or not finite are skipped.
pub fn histogram(values: &[f64], lo: f64, hi: f64, n_bins: usize) -> Vec<usize> {
    let mut counts = vec![0; n_bins];
    if n_bins == 0 || hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Greater) {
        return counts;
    }
    let width = (hi - lo) / n_bins as f64;
    for &v in values {
        if v.is_finite() && v >= lo && v <= hi {
            let k = (((v - lo) / width) as usize).min(n_bins - 1);
            counts[k] += 1;
        }
    }
    counts
}

/// Gaussian KDE at the `grid` points with Silverman's rule-of-thumb bandwidth
/// 0.9·min(sd, IQR/1.34)·n^(−1/5); a density (integrates to ≈ 1).
pub fn kde(values: &[f64], grid: &[f64]) -> Vec<f64> {
    let xs: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let n = xs.len();
    if n < 2 {
        return vec![0.0; grid.len()];
    }
    let mean = xs.iter().sum::<f64>() / n as f64;
    let sd = (xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt();
    let mut sorted = xs.clone();
    sorted.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let h = p * (n - 1) as f64;
        let (i, f) = (h.floor() as usize, h - h.floor());
        sorted[i] + f * (sorted[(i + 1).min(n - 1)] - sorted[i])
    };
    let iqr = q(0.75) - q(0.25);
    let spread = if iqr > 0.0 { sd.min(iqr / 1.34) } else { sd };
    let bw = 0.9 * spread * (n as f64).powf(-0.2);
    if bw.is_nan() || bw <= 0.0 {
        return vec![0.0; grid.len()];
    }
    let norm = 1.0 / (n as f64 * bw * (2.0 * std::f64::consts::PI).sqrt());
    grid.iter()
        .map(|&g| {
            xs.iter()
                .map(|&x| (-0.5 * ((g - x) / bw).powi(2)).exp())
                .sum::<f64>()
                * norm
        })
        .collect()
}

/// `n` evenly spaced points from lo to hi inclusive.
pub fn linspace(lo: f64, hi: f64, n: usize) -> Vec<f64> {
    match n {
        0 => vec![],
        1 => vec![lo],
        _ => (0..n)
            .map(|k| lo + (hi - lo) * k as f64 / (n - 1) as f64)
            .collect(),
    }
}

/// Rank plots: the draws of all chains are ranked together (average ranks for ties), and each
/// chain's ranks are binned into `n_bins` equal bins. Chains that mix well give flat
/// histograms.
pub fn rank_histograms(chains: &[Vec<f64>], n_bins: usize) -> Vec<Vec<usize>> {
    let mut all: Vec<(f64, usize, usize)> = chains
        .iter()
        .enumerate()
        .flat_map(|(c, draws)| draws.iter().enumerate().map(move |(i, &v)| (v, c, i)))
        .collect();
    let total = all.len();
    let mut out: Vec<Vec<usize>> = vec![vec![0; n_bins]; chains.len()];
    if total == 0 || n_bins == 0 {
        return out;
    }
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut start = 0;
    while start < total {
        let mut end = start + 1;
        while end < total && all[end].0 == all[start].0 {
            end += 1;
        }
        // Average rank (0-based) of the tied block.
        let rank = (start + end - 1) as f64 / 2.0;
        let bin = ((rank / total as f64 * n_bins as f64) as usize).min(n_bins - 1);
        for item in &all[start..end] {
            out[item.1][bin] += 1;
        }
        start = end;
    }
    out
}

/// A training curve drawn as an SVG path in a `width` × `height` box: x spreads the points
/// evenly, y runs from the smallest value (bottom) to the largest (top), on a log scale when
/// every value is positive and they span more than three decades (h and ρ in NOTEARS do).
/// Non-finite values are skipped. Returns the path's `d`, whether y is logarithmic, and the
/// y range (min, max) in the data's units; `None` without a finite value.
///
/// A long curve is thinned per pixel column to its first, lowest, highest and last points
/// (M4, Jugel et al. 2014, "M4: a visualization-oriented time series data aggregation"), which
/// draws the same pixels: an SDCD run at d = 50 has 3 000 epochs to a 220-pixel chart, and the
/// page redraws the curves at every snapshot.
pub fn curve_path(values: &[f64], width: f64, height: f64) -> Option<(String, bool, f64, f64)> {
    let (lo, hi) = extent(values.iter().copied())?;
    let log = lo > 0.0 && hi / lo > 1e3;
    let t = |v: f64| if log { v.log10() } else { v };
    let x = Scale::new((0.0, (values.len().max(2) - 1) as f64), (0.0, width));
    let y = Scale::new((t(lo), t(hi)), (height, 0.0));
    let finite = values.iter().filter(|v| v.is_finite()).count();
    let columns = width.max(1.0).ceil() as usize + 1;
    let kept = if finite > 4 * columns {
        m4(values, columns, |i| x.map(i as f64))
    } else {
        (0..values.len())
            .filter(|&i| values[i].is_finite())
            .collect()
    };
    let mut d = String::with_capacity(12 * kept.len());
    for i in kept {
        let cmd = if d.is_empty() { "M" } else { "L" };
        d.push_str(&format!(
            "{cmd}{:.1},{:.1}",
            x.map(i as f64),
            y.map(t(values[i]))
        ));
    }
    Some((d, log, lo, hi))
}

/// Where a run's stages begin on a curve of `values.len()` points drawn `width` wide, as
/// [`curve_path`] spreads them: for each point whose `stages` value differs from the one before
/// (both finite), its x and the new stage. SDCD's two stages and DAGMA's five central-path
/// stages are marked this way on every chart of the run.
pub fn stage_starts(stages: &[f64], width: f64) -> Vec<(f64, f64)> {
    let x = Scale::new((0.0, (stages.len().max(2) - 1) as f64), (0.0, width));
    stages
        .windows(2)
        .enumerate()
        .filter(|(_, p)| p[0].is_finite() && p[1].is_finite() && p[0] != p[1])
        .map(|(i, p)| (x.map((i + 1) as f64), p[1]))
        .collect()
}

/// The indices M4 keeps of the finite `values`: in each pixel column (`px(i)` floored, of
/// `columns`) the first, the lowest, the highest and the last, in order.
fn m4(values: &[f64], columns: usize, px: impl Fn(usize) -> f64) -> Vec<usize> {
    let mut kept = Vec::with_capacity(4 * columns);
    let mut column: Option<(usize, [usize; 4])> = None;
    let flush = |kept: &mut Vec<usize>, group: [usize; 4]| {
        let mut g = group;
        g.sort_unstable();
        for i in g {
            if kept.last() != Some(&i) {
                kept.push(i);
            }
        }
    };
    for (i, &v) in values.iter().enumerate().filter(|(_, v)| v.is_finite()) {
        let c = (px(i).max(0.0) as usize).min(columns - 1);
        match &mut column {
            Some((at, [_, low, high, last])) if *at == c => {
                if v < values[*low] {
                    *low = i;
                }
                if v > values[*high] {
                    *high = i;
                }
                *last = i;
            }
            _ => {
                if let Some((_, group)) = column.take() {
                    flush(&mut kept, group);
                }
                column = Some((c, [i; 4]));
            }
        }
    }
    if let Some((_, group)) = column {
        flush(&mut kept, group);
    }
    kept
}

/// A duration in the unit that reads best: ns, µs, ms or s with three significant digits.
pub fn format_seconds(s: f64) -> String {
    let (value, unit) = if s < 1e-6 {
        (s * 1e9, "ns")
    } else if s < 1e-3 {
        (s * 1e6, "µs")
    } else if s < 1.0 {
        (s * 1e3, "ms")
    } else {
        (s, "s")
    };
    let digits = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.digits$} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_become_csv_with_a_point_column_and_empty_cells_for_missing_values() {
        let mut c = CurveColumns::default();
        assert_eq!(c.to_csv(), "point\n");
        c.extend(vec![
            vec![("loss".into(), 10.5), ("rho".into(), f64::NAN)],
            vec![("loss".into(), 0.1 + 0.2), ("rho".into(), 1e-7)],
        ]);
        let csv = c.to_csv();
        assert_eq!(
            csv,
            "point,loss,rho\n1,10.5,\n2,0.30000000000000004,0.0000001\n"
        );
        // Every value reads back to its bits.
        let back: f64 = csv
            .lines()
            .nth(2)
            .unwrap()
            .split(',')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(back.to_bits(), (0.1f64 + 0.2).to_bits());
    }

    #[test]
    fn stage_starts_are_where_the_stage_changes_at_the_curves_x() {
        // Five points over 100 px: x = 25 per point; stage 2 begins at the third.
        assert_eq!(
            stage_starts(&[1.0, 1.0, 2.0, 2.0, 2.0], 100.0),
            [(50.0, 2.0)]
        );
        let dagma = [1.0, 2.0, 2.0, 3.0, f64::NAN, 4.0];
        assert_eq!(stage_starts(&dagma, 50.0), [(10.0, 2.0), (30.0, 3.0)]);
        assert!(stage_starts(&[], 10.0).is_empty());
        assert!(stage_starts(&[1.0], 10.0).is_empty());
    }

    #[test]
    fn ticks_are_round_and_inside() {
        assert_eq!(ticks(0.0, 10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(ticks(-0.33, 0.33, 3), vec![-0.2, 0.0, 0.2]);
        assert!(ticks(1.0, 1.0, 5).is_empty());
        assert!(ticks(f64::NAN, 1.0, 5).is_empty());
        assert_eq!(tick_label(0.30000000000000004), "0.3");
        assert_eq!(tick_label(2e6), "2.0e6");
    }

    #[test]
    fn scale_maps_ends_and_survives_degenerate_domains() {
        let s = Scale::new((2.0, 4.0), (0.0, 100.0));
        assert_eq!((s.map(2.0), s.map(3.0), s.map(4.0)), (0.0, 50.0, 100.0));
        let flat = Scale::new((1.0, 1.0), (0.0, 10.0));
        assert_eq!(flat.map(1.0), 5.0);
        assert!(Scale::new((f64::NAN, 1.0), (0.0, 1.0)).map(0.5).is_finite());
    }

    #[test]
    fn histogram_counts_every_value_in_range() {
        let v = [0.0, 0.1, 0.5, 0.99, 1.0, 2.0, f64::NAN];
        assert_eq!(histogram(&v, 0.0, 1.0, 2), vec![2, 3]);
        assert_eq!(extent(v), Some((0.0, 2.0)));
    }

    #[test]
    fn kde_integrates_to_one_and_peaks_at_the_mode() {
        let values: Vec<f64> = (0..400)
            .map(|k| ((k as f64 + 0.5) / 400.0 - 0.5) * 2.0)
            .collect();
        let grid = linspace(-4.0, 4.0, 801);
        let density = kde(&values, &grid);
        let area: f64 = density.iter().sum::<f64>() * 0.01;
        assert!((area - 1.0).abs() < 1e-3, "{area}");
        let peak = density
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        assert!((grid[peak]).abs() < 0.5);
    }

    #[test]
    fn rank_histograms_are_flat_for_interleaved_chains() {
        let a: Vec<f64> = (0..100).map(|k| (2 * k) as f64).collect();
        let b: Vec<f64> = (0..100).map(|k| (2 * k + 1) as f64).collect();
        let h = rank_histograms(&[a, b], 10);
        assert_eq!(h, vec![vec![10; 10], vec![10; 10]]);
        let low: Vec<f64> = (0..100).map(|k| k as f64).collect();
        let high: Vec<f64> = (100..200).map(|k| k as f64).collect();
        let h = rank_histograms(&[low, high], 2);
        assert_eq!(h, vec![vec![100, 0], vec![0, 100]]);
        let ties = rank_histograms(&[vec![1.0; 4]], 4);
        assert_eq!(ties[0].iter().sum::<usize>(), 4);
    }

    #[test]
    fn durations_read_in_their_best_unit() {
        assert_eq!(format_seconds(2.345e-6), "2.35 µs");
        assert_eq!(format_seconds(4.2e-8), "42.0 ns");
        assert_eq!(format_seconds(0.0123), "12.3 ms");
        assert_eq!(format_seconds(0.5), "500 ms");
        assert_eq!(format_seconds(12.0), "12.0 s");
    }

    #[test]
    fn curves_span_the_box_and_go_logarithmic_over_decades() {
        let (d, log, lo, hi) = curve_path(&[1.0, 2.0, 3.0], 100.0, 50.0).unwrap();
        assert_eq!(d, "M0.0,50.0L50.0,25.0L100.0,0.0");
        assert!(!log && lo == 1.0 && hi == 3.0);
        let (d, log, ..) = curve_path(&[1.0, 1e-2, f64::NAN, 1e-6], 30.0, 60.0).unwrap();
        assert!(log);
        assert_eq!(d, "M0.0,0.0L10.0,20.0L30.0,60.0");
        let (d, ..) = curve_path(&[5.0], 10.0, 10.0).unwrap();
        assert_eq!(d, "M0.0,5.0");
        assert!(curve_path(&[f64::NAN], 10.0, 10.0).is_none());
    }

    #[test]
    fn readable_numbers_have_four_significant_digits() {
        assert_eq!(readable(10.1432), "10.14");
        assert_eq!(readable(2.401), "2.401");
        assert_eq!(readable(0.13221), "0.1322");
        assert_eq!(readable(-2401.4), "-2401");
        assert_eq!(readable(2.0), "2");
        assert_eq!(readable(0.0), "0");
        assert_eq!(readable(1.3221e-5), "1.322e-5");
        assert_eq!(readable(3.5e7), "3.500e7");
    }

    #[test]
    fn curve_columns_follow_the_first_points_ids() {
        let mut c = CurveColumns::default();
        assert!(c.is_empty());
        c.extend(vec![vec![("loss".into(), 3.0), ("gamma".into(), 0.0)]]);
        c.extend(vec![
            vec![("gamma".into(), 0.5)],
            vec![("loss".into(), 2.0), ("gamma".into(), 1.0)],
        ]);
        assert_eq!(c.len(), 3);
        assert_eq!(c.column("gamma"), Some(&[0.0, 0.5, 1.0][..]));
        let loss = c.column("loss").unwrap();
        assert!(loss[0] == 3.0 && loss[1].is_nan() && loss[2] == 2.0);
        assert_eq!(c.column("rho"), None);
    }

    #[test]
    fn long_curves_keep_each_pixel_columns_first_lowest_highest_and_last_point() {
        // 10 000 noisy points on a 100-pixel chart: at most four per column are drawn, and
        // they include the overall extremes and both ends.
        let values: Vec<f64> = (0..10_000)
            .map(|i| (i as f64 * 0.37).sin() * (1.0 + i as f64 / 5000.0))
            .collect();
        let kept = m4(&values, 101, |i| i as f64 / 9999.0 * 100.0);
        assert!(kept.len() <= 4 * 101 && kept.len() > 300, "{}", kept.len());
        assert!(kept.windows(2).all(|w| w[0] < w[1]));
        assert_eq!((kept[0], *kept.last().unwrap()), (0, 9999));
        let (lo, hi) = extent(values.iter().copied()).unwrap();
        assert!(kept.iter().any(|&i| values[i] == lo) && kept.iter().any(|&i| values[i] == hi));
        // Each column's own extremes survive: compare per column with a direct scan.
        for c in 0..101 {
            let in_col: Vec<usize> = (0..values.len())
                .filter(|&i| ((i as f64 / 9999.0 * 100.0) as usize).min(100) == c)
                .collect();
            let kept_col: Vec<f64> = kept
                .iter()
                .filter(|i| in_col.contains(i))
                .map(|&i| values[i])
                .collect();
            let want = extent(in_col.iter().map(|&i| values[i])).unwrap();
            assert_eq!(
                extent(kept_col.iter().copied()).unwrap(),
                want,
                "column {c}"
            );
        }
        // The path uses it, and short curves keep every point.
        let (d, ..) = curve_path(&values, 100.0, 50.0).unwrap();
        assert_eq!(d.matches('L').count() + 1, kept.len());
        let (d, ..) = curve_path(&values[..300], 100.0, 50.0).unwrap();
        assert_eq!(d.matches('L').count() + 1, 300);
    }
}
