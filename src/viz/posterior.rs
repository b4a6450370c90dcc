//! Plot math of the Infer tab that `plot.rs` lacks: thinning long traces to a bounded number of
//! points, SVG polyline paths, and robust axis ranges for heavy-tailed draws.

use super::plot::Scale;

/// At most `max` indices of `0..n`, evenly spaced, always keeping the last one.
pub fn thin(n: usize, max: usize) -> Vec<usize> {
    if n == 0 || max == 0 {
        return vec![];
    }
    if n <= max {
        return (0..n).collect();
    }
    let step = n.div_ceil(max);
    let mut idx: Vec<usize> = (0..n).step_by(step).collect();
    if idx.last() != Some(&(n - 1)) {
        idx.push(n - 1);
    }
    idx
}

/// An SVG path ("M x y L x y ...") through the finite points; a non-finite value breaks the
/// line.
pub fn path(points: impl IntoIterator<Item = (f64, f64)>, sx: &Scale, sy: &Scale) -> String {
    let mut out = String::new();
    let mut pen_down = false;
    for (x, y) in points {
        if !(x.is_finite() && y.is_finite()) {
            pen_down = false;
            continue;
        }
        let cmd = if pen_down { 'L' } else { 'M' };
        out.push_str(&format!("{cmd}{:.1} {:.1} ", sx.map(x), sy.map(y)));
        pen_down = true;
    }
    out.trim_end().to_string()
}

/// The range plots show for a parameter: its 0.5 % to 99.5 % quantiles, so one wild warm-up
/// excursion or a long tail does not flatten the picture; `None` without finite values.
pub fn robust_range(values: &[f64]) -> Option<(f64, f64)> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let q = |p: f64| v[((v.len() - 1) as f64 * p).round() as usize];
    let (lo, hi) = (q(0.005), q(0.995));
    let pad = (hi - lo).abs() * 0.05;
    Some((lo - pad, hi + pad))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_is_bounded_and_keeps_the_ends() {
        assert_eq!(thin(5, 10), vec![0, 1, 2, 3, 4]);
        let t = thin(2001, 400);
        assert!(t.len() <= 402);
        assert_eq!(t[0], 0);
        assert_eq!(*t.last().unwrap(), 2000);
        assert!(thin(0, 10).is_empty());
    }

    #[test]
    fn paths_break_at_gaps() {
        let s = Scale::new((0.0, 10.0), (0.0, 100.0));
        let p = path(
            [(0.0, 0.0), (1.0, f64::NAN), (2.0, 2.0), (3.0, 3.0)],
            &s,
            &s,
        );
        assert_eq!(p, "M0.0 0.0 M20.0 20.0 L30.0 30.0");
    }

    #[test]
    fn robust_ranges_ignore_outliers_and_nan() {
        let mut v: Vec<f64> = (0..1000).map(|i| i as f64 / 1000.0).collect();
        v.push(1e9);
        v.push(f64::NAN);
        let (lo, hi) = robust_range(&v).unwrap();
        assert!(lo < 0.01 && hi < 2.0);
        assert!(robust_range(&[f64::NAN]).is_none());
    }
}
