//! Rank-normalized split R-hat, bulk/tail/mean ESS and Monte Carlo standard errors of
//! Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), computed step for step as ArviZ 0.23.4
//! (`arviz/stats/diagnostics.py`) does, so the numbers agree with it to rounding.
//!
//! Chains come as one slice per chain of kept draws. Chains longer than the shortest are cut to
//! its length (a ragged set has no between-chain variance). Where ArviZ returns NaN — a NaN
//! draw, fewer than 4 draws per chain, R-hat of a single chain, R-hat of a constant — so do
//! these functions; they never panic.

use super::autocov::autocov;
use super::special::{beta_ppf, norm_ppf};

/// numpy's `finfo(float).resolution`: ArviZ treats a range below it as a constant.
const RESOLUTION: f64 = 1e-15;
/// Blom's (1958) offset in the rank back-transformation (ArviZ `_backtransform_ranks`).
const BLOM: f64 = 3.0 / 8.0;

/// Draws as a (chain, draw) matrix, row-major.
#[derive(Debug, Clone)]
pub(crate) struct Draws {
    pub n_chains: usize,
    pub n_draws: usize,
    pub values: Vec<f64>,
}

impl Draws {
    pub fn new<C: AsRef<[f64]>>(chains: &[C]) -> Draws {
        let n_draws = chains.iter().map(|c| c.as_ref().len()).min().unwrap_or(0);
        let n_chains = if n_draws == 0 { 0 } else { chains.len() };
        let mut values = Vec::with_capacity(n_chains * n_draws);
        for c in chains.iter().take(n_chains) {
            values.extend_from_slice(&c.as_ref()[..n_draws]);
        }
        Draws {
            n_chains,
            n_draws,
            values,
        }
    }

    fn from_parts(n_chains: usize, n_draws: usize, values: Vec<f64>) -> Draws {
        Draws {
            n_chains,
            n_draws,
            values,
        }
    }

    fn chain(&self, k: usize) -> &[f64] {
        &self.values[k * self.n_draws..(k + 1) * self.n_draws]
    }

    fn map(&self, f: impl Fn(f64) -> f64) -> Draws {
        Draws::from_parts(
            self.n_chains,
            self.n_draws,
            self.values.iter().map(|&v| f(v)).collect(),
        )
    }

    fn has_nan(&self) -> bool {
        self.values.iter().any(|v| v.is_nan())
    }

    /// ArviZ's `_not_valid` turned around: no NaN and at least this many chains and draws.
    fn valid(&self, min_chains: usize, min_draws: usize) -> bool {
        !self.has_nan()
            && self.n_chains >= min_chains.max(1)
            && self.n_draws >= min_draws
            && !self.values.is_empty()
    }

    /// Each chain's first and last halves as separate chains (first halves first), dropping the
    /// middle draw of an odd length, as ArviZ `_split_chains`.
    fn split(&self) -> Draws {
        let half = self.n_draws / 2;
        let mut values = Vec::with_capacity(2 * self.n_chains * half);
        for k in 0..self.n_chains {
            values.extend_from_slice(&self.chain(k)[..half]);
        }
        for k in 0..self.n_chains {
            let c = self.chain(k);
            values.extend_from_slice(&c[c.len() - half..]);
        }
        Draws::from_parts(2 * self.n_chains, half, values)
    }

    fn mean(&self) -> f64 {
        self.values.iter().sum::<f64>() / self.values.len() as f64
    }

    fn sorted(&self) -> Vec<f64> {
        let mut s = self.values.clone();
        s.sort_by(f64::total_cmp);
        s
    }
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Variance with `ddof` degrees of freedom removed, two-pass like numpy's `var`.
fn var(x: &[f64], ddof: f64) -> f64 {
    let m = mean(x);
    x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (x.len() as f64 - ddof)
}

/// Python's `max(a, b)`: `a` unless `b > a` (so a NaN first argument wins).
fn py_max(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

/// Python's `min(a, b)`: `a` unless `b < a`.
fn py_min(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

/// Average ranks (1-based, ties share their mean rank) as SciPy's `rankdata(method="average")`.
fn average_ranks(x: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&a, &b| x[a].total_cmp(&x[b]));
    let mut ranks = vec![0.0; x.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        // `==` (not total order) so −0 and +0 tie, as in SciPy.
        while j < order.len() && x[order[j]] == x[order[i]] {
            j += 1;
        }
        let rank = (i + 1 + j) as f64 / 2.0;
        for &k in &order[i..j] {
            ranks[k] = rank;
        }
        i = j;
    }
    ranks
}

/// Rank-normalization: ranks over all chains pooled, mapped through Φ⁻¹ ((r − 3/8)/(S + 1/4)).
fn z_scale(d: &Draws) -> Draws {
    let ranks = average_ranks(&d.values);
    let denom = d.values.len() as f64 - 2.0 * BLOM + 1.0;
    Draws::from_parts(
        d.n_chains,
        d.n_draws,
        ranks.iter().map(|r| norm_ppf((r - BLOM) / denom)).collect(),
    )
}

/// Median as numpy's: the middle value, or the mean of the two middle values.
fn median_sorted(s: &[f64]) -> f64 {
    let n = s.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        s[n / 2]
    } else {
        (s[n / 2 - 1] + s[n / 2]) / 2.0
    }
}

/// Quantile as SciPy's `mquantiles(alphap=1, betap=1)` (Hyndman & Fan type 7), the form ArviZ
/// uses for the tail indicators; written in its order of operations so the threshold is the
/// same float.
fn quantile_type7_mquantiles(s: &[f64], p: f64) -> f64 {
    let n = s.len();
    if n == 0 || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    if n == 1 {
        return s[0];
    }
    // SciPy's m = alphap + p·(1 − alphap − betap) with alphap = betap = 1, i.e. 1 + p·(−1),
    // the same float as 1 − p.
    let m = 1.0 - p;
    let aleph = n as f64 * p + m;
    let k = aleph.clamp(1.0, (n - 1) as f64).floor();
    let gamma = (aleph - k).clamp(0.0, 1.0);
    let k = k as usize;
    (1.0 - gamma) * s[k - 1] + gamma * s[k]
}

/// Quantile as numpy's default `linear` method (also type 7), the form of ArviZ's summary
/// intervals; numpy interpolates from the nearer end.
fn quantile_numpy_linear(s: &[f64], p: f64) -> f64 {
    let n = s.len();
    if n == 0 || !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    let virtual_index = (n - 1) as f64 * p;
    let prev = virtual_index.floor();
    let gamma = virtual_index - prev;
    let last = (n - 1) as f64;
    let lo = prev.clamp(0.0, last) as usize;
    let hi = (prev + 1.0).clamp(0.0, last) as usize;
    let (a, b) = (s[lo], s[hi]);
    let diff = b - a;
    if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    }
}

/// ArviZ `_rhat`: the classic potential scale reduction of a (chain, draw) array.
fn rhat_basic(d: &Draws) -> f64 {
    if d.has_nan() || d.n_chains < 2 || d.n_draws < 2 {
        return f64::NAN;
    }
    let n = d.n_draws as f64;
    let chain_mean: Vec<f64> = (0..d.n_chains).map(|k| mean(d.chain(k))).collect();
    let chain_var: Vec<f64> = (0..d.n_chains).map(|k| var(d.chain(k), 1.0)).collect();
    let between = n * var(&chain_mean, 1.0);
    let within = mean(&chain_var);
    ((between / within + n - 1.0) / n).sqrt()
}

/// ArviZ `_ess`: multi-chain ESS with Geyer's initial positive then initial monotone sequence,
/// the autocorrelations combined over chains as in Stan, and τ̂ floored at 1/log10(S).
fn ess_basic(d: &Draws) -> f64 {
    if d.has_nan() || d.values.is_empty() {
        return f64::NAN;
    }
    let size = d.values.len();
    let (lo, hi) = d
        .values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    if hi - lo < RESOLUTION {
        return size as f64;
    }
    let (n_chains, n_draws) = (d.n_chains, d.n_draws);
    if n_draws < 2 {
        return f64::NAN;
    }
    let acov: Vec<Vec<f64>> = (0..n_chains).map(|k| autocov(d.chain(k))).collect();
    let mean_acov = |t: usize| acov.iter().map(|a| a[t]).sum::<f64>() / n_chains as f64;
    let n = n_draws as f64;
    let mean_var = mean_acov(0) * n / (n - 1.0);
    let mut var_plus = mean_var * (n - 1.0) / n;
    if n_chains > 1 {
        let chain_mean: Vec<f64> = (0..n_chains).map(|k| mean(d.chain(k))).collect();
        var_plus += var(&chain_mean, 1.0);
    }
    let mut rho = vec![0.0; n_draws];
    let mut even = 1.0;
    rho[0] = even;
    let mut odd = 1.0 - (mean_var - mean_acov(1)) / var_plus;
    rho[1] = odd;

    // Geyer's initial positive sequence: sum pairs while they stay positive.
    let mut t = 1;
    while t + 3 < n_draws && even + odd > 0.0 {
        even = 1.0 - (mean_var - mean_acov(t + 1)) / var_plus;
        odd = 1.0 - (mean_var - mean_acov(t + 2)) / var_plus;
        if even + odd >= 0.0 {
            rho[t + 1] = even;
            rho[t + 2] = odd;
        }
        t += 2;
    }
    // ArviZ's max_t = t − 2 may be −1; it indexes with max_t + 1 = t − 1 ≥ 0.
    let end = t - 1;
    if even > 0.0 {
        rho[end] = even;
    }
    // Geyer's initial monotone sequence.
    let mut t = 1;
    while t + 3 <= end {
        if rho[t + 1] + rho[t + 2] > rho[t - 1] + rho[t] {
            rho[t + 1] = (rho[t - 1] + rho[t]) / 2.0;
            rho[t + 2] = rho[t + 1];
        }
        t += 2;
    }
    let total = size as f64;
    let mut tau =
        -1.0 + 2.0 * rho[..end].iter().sum::<f64>() + rho.get(end).copied().unwrap_or(0.0);
    tau = py_max(tau, 1.0 / total.log10());
    if rho.iter().any(|r| r.is_nan()) {
        return f64::NAN;
    }
    total / tau
}

fn ess_quantile_of(d: &Draws, sorted: &[f64], prob: f64) -> f64 {
    let q = quantile_type7_mquantiles(sorted, prob);
    let indicator = d.map(|v| if v <= q { 1.0 } else { 0.0 });
    ess_basic(&indicator.split())
}

fn rhat_of(d: &Draws) -> f64 {
    if !d.valid(2, 4) {
        return f64::NAN;
    }
    let split = d.split();
    let bulk = rhat_basic(&z_scale(&split));
    let med = median_sorted(&split.sorted());
    let tail = rhat_basic(&z_scale(&split.map(|v| (v - med).abs())));
    py_max(bulk, tail)
}

/// Rank-normalized split R-hat: the larger of the bulk (rank-normalized) and tail (folded
/// around the median, then rank-normalized) values, as ArviZ `rhat(method="rank")`.
/// NaN with fewer than 2 chains or 4 draws, a NaN draw, or a constant parameter.
pub fn rhat<C: AsRef<[f64]>>(chains: &[C]) -> f64 {
    rhat_of(&Draws::new(chains))
}

/// Bulk ESS: the ESS of the rank-normalized split chains (ArviZ `ess(method="bulk")`).
pub fn ess_bulk<C: AsRef<[f64]>>(chains: &[C]) -> f64 {
    let d = Draws::new(chains);
    if !d.valid(1, 4) {
        return f64::NAN;
    }
    ess_basic(&z_scale(&d.split()))
}

/// ESS of the indicator I(x ≤ q_prob), q by type-7 interpolation (ArviZ
/// `ess(method="quantile")`). NaN for `prob` outside [0, 1].
pub fn ess_quantile<C: AsRef<[f64]>>(chains: &[C], prob: f64) -> f64 {
    let d = Draws::new(chains);
    if !d.valid(1, 4) {
        return f64::NAN;
    }
    ess_quantile_of(&d, &d.sorted(), prob)
}

/// Tail ESS: the smaller of the 5% and 95% quantile ESS (ArviZ `ess(method="tail")`).
pub fn ess_tail<C: AsRef<[f64]>>(chains: &[C]) -> f64 {
    let d = Draws::new(chains);
    if !d.valid(1, 4) {
        return f64::NAN;
    }
    let s = d.sorted();
    py_min(ess_quantile_of(&d, &s, 0.05), ess_quantile_of(&d, &s, 0.95))
}

/// ESS for the mean: split chains, no rank normalization (ArviZ `ess(method="mean")`).
pub fn ess_mean<C: AsRef<[f64]>>(chains: &[C]) -> f64 {
    ess_mean_of(&Draws::new(chains))
}

fn ess_mean_of(d: &Draws) -> f64 {
    if !d.valid(1, 4) {
        return f64::NAN;
    }
    ess_basic(&d.split())
}

/// Monte Carlo standard error of the mean: sd / √ESS_mean (ArviZ `mcse(method="mean")`).
pub fn mcse_mean<C: AsRef<[f64]>>(chains: &[C]) -> f64 {
    let d = Draws::new(chains);
    if !d.valid(1, 4) {
        return f64::NAN;
    }
    var(&d.values, 1.0).sqrt() / ess_mean_of(&d).sqrt()
}

/// Squared deviations from the pooled mean, on which the MCSE of the sd is built.
fn squared_deviations(d: &Draws) -> Draws {
    let m = d.mean();
    d.map(|v| (v - m) * (v - m))
}

/// MCSE of the sd via the delta method on the variance's MCSE (ArviZ `mcse(method="sd")`).
pub fn mcse_sd<C: AsRef<[f64]>>(chains: &[C]) -> f64 {
    let d = Draws::new(chains);
    if !d.valid(1, 4) {
        return f64::NAN;
    }
    let sq = squared_deviations(&d);
    let ess = ess_mean_of(&sq);
    let evar = sq.mean();
    mcse_sd_from(&sq, evar, ess)
}

fn mcse_sd_from(sq: &Draws, evar: f64, ess: f64) -> f64 {
    let mean_sq2 = sq.values.iter().map(|v| v * v).sum::<f64>() / sq.values.len() as f64;
    let varvar = (mean_sq2 - evar * evar) / ess;
    (varvar / evar / 4.0).sqrt()
}

/// MCSE of the `prob` quantile: half the width of the draws between the 15.9% and 84.1%
/// points of the Beta(ESS·p + 1, ESS·(1 − p) + 1) posterior of the quantile's rank (ArviZ
/// `mcse(method="quantile")`). NaN for `prob` outside [0, 1].
pub fn mcse_quantile<C: AsRef<[f64]>>(chains: &[C], prob: f64) -> f64 {
    let d = Draws::new(chains);
    if !d.valid(1, 4) || !(0.0..=1.0).contains(&prob) {
        return f64::NAN;
    }
    let sorted = d.sorted();
    let ess = ess_quantile_of(&d, &sorted, prob);
    let (a, b) = (ess * prob + 1.0, ess * (1.0 - prob) + 1.0);
    let size = sorted.len();
    let lower = beta_ppf(0.158_655_3, a, b) * size as f64 - 1.0;
    let upper = beta_ppf(0.841_344_7, a, b) * size as f64 - 1.0;
    // numpy's nanmax/nanmin: a NaN bound falls back to the ends of the sorted draws.
    let lower = if lower.is_nan() { 0.0 } else { lower.max(0.0) };
    let upper = if upper.is_nan() {
        (size - 1) as f64
    } else {
        upper.min((size - 1) as f64)
    };
    let i1 = (lower.floor() as usize).min(size - 1);
    let i2 = (upper.ceil().max(0.0) as usize).min(size - 1);
    (sorted[i2] - sorted[i1]) / 2.0
}

/// Quantile of the pooled draws by numpy's default linear interpolation (Hyndman & Fan type 7),
/// as in ArviZ's summary intervals. NaN if any draw is NaN or `prob` is outside [0, 1].
pub fn quantile<C: AsRef<[f64]>>(chains: &[C], prob: f64) -> f64 {
    let d = Draws::new(chains);
    if d.has_nan() {
        return f64::NAN;
    }
    quantile_numpy_linear(&d.sorted(), prob)
}

/// Estimated Bayesian fraction of missing information of one chain's energies (Betancourt
/// 2016): mean squared energy change over the energy variance, as ArviZ `bfmi`. Below 0.3 the
/// momentum resampling explores the energy distribution poorly. NaN with fewer than 2 values.
pub fn e_bfmi(energy: &[f64]) -> f64 {
    if energy.len() < 2 {
        return f64::NAN;
    }
    let num = energy
        .windows(2)
        .map(|w| (w[1] - w[0]) * (w[1] - w[0]))
        .sum::<f64>()
        / (energy.len() - 1) as f64;
    num / var(energy, 1.0)
}

/// What ArviZ's `summary` reports for one parameter (its `_multichain_statistics` with
/// `focus="mean"`) plus the moments and quantiles.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stats {
    pub mean: f64,
    pub sd: f64,
    pub mcse_mean: f64,
    pub mcse_sd: f64,
    pub q5: f64,
    pub q50: f64,
    pub q95: f64,
    pub ess_bulk: f64,
    pub ess_tail: f64,
    pub rhat: f64,
}

/// ArviZ `summary` for one parameter. Its R-hat folds around the median of all draws (not of
/// the split chains, as `rhat()` does), which differs only for odd chain lengths.
pub(crate) fn summary_stats(d: &Draws) -> Stats {
    let sorted = d.sorted();
    let (mean, sd, q5, q50, q95) = if d.values.is_empty() || d.has_nan() {
        (f64::NAN, f64::NAN, f64::NAN, f64::NAN, f64::NAN)
    } else {
        (
            d.mean(),
            var(&d.values, 1.0).sqrt(),
            quantile_numpy_linear(&sorted, 0.05),
            median_sorted(&sorted),
            quantile_numpy_linear(&sorted, 0.95),
        )
    };
    let mut out = Stats {
        mean,
        sd,
        mcse_mean: f64::NAN,
        mcse_sd: f64::NAN,
        q5,
        q50,
        q95,
        ess_bulk: f64::NAN,
        ess_tail: f64::NAN,
        rhat: f64::NAN,
    };
    if !d.valid(1, 4) {
        return out;
    }
    let z_split = z_scale(&d.split());
    out.ess_tail = py_min(
        ess_quantile_of(d, &sorted, 0.05),
        ess_quantile_of(d, &sorted, 0.95),
    );
    if d.valid(2, 4) {
        let bulk = rhat_basic(&z_split);
        let med = median_sorted(&sorted);
        let tail = rhat_basic(&z_scale(&d.map(|v| (v - med).abs()).split()));
        out.rhat = py_max(bulk, tail);
    }
    let ess_mean = ess_mean_of(d);
    let sq = squared_deviations(d);
    let sq_sum = sq.values.iter().sum::<f64>();
    let size = sq.values.len() as f64;
    out.mcse_mean = (sq_sum / (size - 1.0) / ess_mean).sqrt();
    out.ess_bulk = ess_basic(&z_split);
    out.mcse_sd = mcse_sd_from(&sq, sq_sum / size, ess_mean_of(&sq));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use rand_distr::{Distribution, StandardNormal};

    fn normal_chains(seed: u64, n_chains: usize, n_draws: usize) -> Vec<Vec<f64>> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..n_chains)
            .map(|_| {
                (0..n_draws)
                    .map(|_| StandardNormal.sample(&mut rng))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn average_ranks_share_ties() {
        assert_eq!(
            average_ranks(&[3.0, 1.0, 3.0, 2.0, -0.0, 0.0]),
            vec![5.5, 3.0, 5.5, 4.0, 1.5, 1.5]
        );
    }

    #[test]
    fn quantiles_interpolate_like_numpy_and_scipy() {
        let s = [1.0, 2.0, 4.0, 8.0];
        // numpy.quantile([1, 2, 4, 8], [0, .05, .5, .95, 1]) = 1, 1.15, 3, 7.4, 8.
        for (p, want) in [
            (0.0, 1.0),
            (0.05, 1.15),
            (0.5, 3.0),
            (0.95, 7.4),
            (1.0, 8.0),
        ] {
            assert!((quantile_numpy_linear(&s, p) - want).abs() < 1e-12, "{p}");
            assert!(
                (quantile_type7_mquantiles(&s, p) - want).abs() < 1e-12,
                "{p}"
            );
        }
        assert_eq!(median_sorted(&s), 3.0);
        assert_eq!(median_sorted(&[1.0, 5.0, 9.0]), 5.0);
    }

    #[test]
    fn split_drops_the_middle_draw_of_odd_chains() {
        let d = Draws::new(&[
            vec![1.0, 2.0, 3.0, 4.0, 5.0],
            vec![6.0, 7.0, 8.0, 9.0, 10.0],
        ]);
        let s = d.split();
        assert_eq!((s.n_chains, s.n_draws), (4, 2));
        assert_eq!(s.values, vec![1.0, 2.0, 6.0, 7.0, 4.0, 5.0, 9.0, 10.0]);
    }

    #[test]
    fn ragged_chains_are_cut_to_the_shortest() {
        let long = normal_chains(1, 4, 400);
        let mut ragged = long.clone();
        ragged[2].extend([5.0, 6.0, 7.0]);
        assert_eq!(rhat(&ragged), rhat(&long));
        assert_eq!(ess_bulk(&ragged), ess_bulk(&long));
    }

    #[test]
    fn degenerate_inputs_give_nan_not_panics() {
        let empty: Vec<Vec<f64>> = vec![];
        let zero_len = vec![Vec::<f64>::new(), vec![]];
        let short = vec![vec![1.0, 2.0, 3.0], vec![2.0, 3.0, 1.0]];
        let with_nan = vec![vec![1.0, f64::NAN, 3.0, 4.0], vec![2.0, 3.0, 1.0, 0.0]];
        for chains in [&empty, &zero_len, &short, &with_nan] {
            assert!(rhat(chains).is_nan());
            assert!(ess_bulk(chains).is_nan());
            assert!(ess_tail(chains).is_nan());
            assert!(ess_mean(chains).is_nan());
            assert!(mcse_mean(chains).is_nan());
            assert!(mcse_sd(chains).is_nan());
            assert!(mcse_quantile(chains, 0.05).is_nan());
        }
        let single = normal_chains(2, 1, 100);
        assert!(rhat(&single).is_nan());
        assert!(ess_bulk(&single) > 10.0);
        // A constant: R-hat undefined; ArviZ counts every draw as effective.
        let constant = vec![vec![2.5; 50]; 4];
        assert!(rhat(&constant).is_nan());
        assert_eq!(ess_bulk(&constant), 200.0);
        assert_eq!(mcse_mean(&constant), 0.0);
        assert!(mcse_sd(&constant).is_nan());
        let infinite = vec![vec![1.0, f64::INFINITY, 3.0, 4.0, 0.5], vec![2.0; 5]];
        let _ = (rhat(&infinite), ess_mean(&infinite), mcse_sd(&infinite));
        let _ = summary_stats(&Draws::new(&infinite));
        assert!(e_bfmi(&[1.0]).is_nan() && e_bfmi(&[]).is_nan());
    }

    #[test]
    fn e_bfmi_is_high_for_independent_and_low_for_sticky_energies() {
        let iid = &normal_chains(3, 1, 2000)[0];
        assert!((e_bfmi(iid) - 2.0).abs() < 0.2, "{}", e_bfmi(iid));
        let mut sticky = vec![0.0; 2000];
        for t in 1..sticky.len() {
            sticky[t] = 0.98 * sticky[t - 1] + 0.2 * iid[t];
        }
        assert!(e_bfmi(&sticky) < 0.3, "{}", e_bfmi(&sticky));
    }

    #[test]
    fn iid_draws_have_ess_near_their_count_and_rhat_near_one() {
        let chains = normal_chains(4, 4, 1000);
        for ess in [ess_bulk(&chains), ess_tail(&chains), ess_mean(&chains)] {
            assert!((ess / 4000.0 - 1.0).abs() < 0.15, "{ess}");
        }
        assert!((rhat(&chains) - 1.0).abs() < 0.01);
        let m = mcse_mean(&chains);
        assert!((m - 1.0 / 4000f64.sqrt()).abs() < 0.003, "{m}");
    }

    #[test]
    fn chains_at_different_places_have_a_large_rhat() {
        let mut chains = normal_chains(5, 4, 500);
        for v in chains[3].iter_mut() {
            *v += 2.0;
        }
        assert!(rhat(&chains) > 1.1);
    }

    /// Two chains of 5 draws whose minimum and maximum are middle draws, which the split drops:
    /// the split indicators of the 5% and 95% quantiles are constant, and ArviZ's `_ess` gives a
    /// constant sequence its size, here S = 8 (more than S·log10 S = 7.2 for a varying one).
    /// ArviZ 0.23.4 gives 8, 8, 8 and 7.2247 for the tail, both quantiles and the bulk.
    #[test]
    fn a_constant_split_indicator_has_ess_s() {
        let chains = [[0.1, 0.2, -5.0, 0.3, 0.4], [0.5, 0.6, 9.0, 0.8, 0.7]];
        assert_eq!(ess_quantile(&chains, 0.05), 8.0);
        assert_eq!(ess_quantile(&chains, 0.95), 8.0);
        assert_eq!(ess_tail(&chains), 8.0);
        assert!(ess_bulk(&chains) <= 8.0 * 8f64.log10() + 1e-9);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(32))]

        /// Draws on a grid of 2⁻²⁰, scaled by powers of two and shifted by integers, so every
        /// transformed draw (and the median) is exact: the law then holds to the last bit.
        /// With arbitrary factors it holds only to rounding: the two draws either side of the
        /// (always even-count) median are equally far from it, and rounding can break or make
        /// that tie among the folded draws, which moves the folded R-hat by ~1e-3 at S = 180.
        #[test]
        fn rank_diagnostics_ignore_shifts_and_positive_scaling(
            seed in 0u64..1000, shift in -1000i32..1000, power in -10i32..10,
        ) {
            let grid = (1u64 << 20) as f64;
            let chains: Vec<Vec<f64>> = normal_chains(seed, 3, 60)
                .iter()
                .map(|c| c.iter().map(|v| (v * grid).round() / grid).collect())
                .collect();
            let scale = 2f64.powi(power);
            let moved: Vec<Vec<f64>> = chains
                .iter()
                .map(|c| c.iter().map(|v| v * scale + shift as f64).collect())
                .collect();
            prop_assert_eq!(rhat(&chains), rhat(&moved));
            prop_assert_eq!(ess_bulk(&chains), ess_bulk(&moved));
            prop_assert_eq!(ess_tail(&chains), ess_tail(&moved));
            let (m0, m1) = (mcse_mean(&chains) * scale, mcse_mean(&moved));
            prop_assert!((m0 - m1).abs() <= 1e-9 * m0, "{} vs {}", m0, m1);
            let (q0, q1) = (mcse_quantile(&chains, 0.05) * scale, mcse_quantile(&moved, 0.05));
            prop_assert!((q0 - q1).abs() <= 1e-9 * q0.abs().max(1e-300), "{} vs {}", q0, q1);
        }

        /// τ̂ is floored at 1/log10 S, so ESS ≤ S·log10 S; a constant sequence has ESS = S by
        /// ArviZ's convention (`_ess` returns `ary.size`), which is the larger of the two below
        /// S = 10 (see `a_constant_split_indicator_has_ess_s`).
        #[test]
        fn ess_is_positive_and_bounded_by_s_log10_s(seed in 0u64..1000, n in 4usize..80) {
            let chains = normal_chains(seed, 2, n);
            let s = (2 * (n / 2) * 2) as f64;
            for ess in [ess_bulk(&chains), ess_mean(&chains), ess_tail(&chains)] {
                prop_assert!(ess > 0.0 && ess <= s * s.log10().max(1.0) + 1e-9, "{ess} of {s}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn nothing_panics_on_any_input(
            chains in prop::collection::vec(
                prop::collection::vec(
                    prop_oneof![
                        4 => -1e6..1e6f64,
                        1 => Just(f64::NAN),
                        1 => Just(f64::INFINITY),
                        1 => Just(f64::NEG_INFINITY),
                        1 => Just(0.0),
                        1 => Just(-0.0),
                        1 => Just(1e-300),
                        1 => Just(f64::MAX),
                    ],
                    0..12,
                ),
                0..5,
            ),
            prob in prop_oneof![0.0..=1.0f64, Just(f64::NAN), Just(-0.5), Just(1.5), Just(f64::INFINITY)],
        ) {
            let _ = (rhat(&chains), ess_bulk(&chains), ess_tail(&chains), ess_mean(&chains));
            let _ = (mcse_mean(&chains), mcse_sd(&chains), mcse_quantile(&chains, prob));
            let _ = (ess_quantile(&chains, prob), quantile(&chains, prob));
            let _ = summary_stats(&Draws::new(&chains));
            for c in &chains {
                let _ = e_bfmi(c);
            }
        }
    }
}
