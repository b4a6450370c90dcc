//! Warm-up adaptation as in Stan: dual-averaging step size (Hoffman & Gelman 2014, §3.2;
//! `stan/mcmc/stepsize_adaptation.hpp`) and the windowed diagonal-metric schedule
//! (`windowed_adaptation.hpp`, `var_adaptation.hpp`, `welford_var_estimator.hpp`).

/// Nesterov dual averaging of log ε toward a target mean acceptance statistic δ.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DualAveraging {
    pub mu: f64,
    pub delta: f64,
    pub gamma: f64,
    pub kappa: f64,
    pub t0: f64,
    counter: f64,
    s_bar: f64,
    x_bar: f64,
}

impl DualAveraging {
    /// γ = 0.05, κ = 0.75, t0 = 10: Stan's defaults (Hoffman & Gelman 2014, §3.2).
    pub fn new(delta: f64, initial_eps: f64) -> Self {
        DualAveraging {
            mu: (10.0 * initial_eps).ln(),
            delta,
            gamma: 0.05,
            kappa: 0.75,
            t0: 10.0,
            counter: 0.0,
            s_bar: 0.0,
            x_bar: 0.0,
        }
    }

    pub fn restart(&mut self) {
        self.counter = 0.0;
        self.s_bar = 0.0;
        self.x_bar = 0.0;
    }

    /// One update after a transition with acceptance statistic `accept`; returns the next ε.
    pub fn learn(&mut self, accept: f64) -> f64 {
        self.counter += 1.0;
        // NaN (no finite leapfrog at all) counts as zero acceptance so ε shrinks.
        let accept = if accept.is_nan() {
            0.0
        } else {
            accept.min(1.0)
        };
        let eta = 1.0 / (self.counter + self.t0);
        self.s_bar = (1.0 - eta) * self.s_bar + eta * (self.delta - accept);
        let x = self.mu - self.s_bar * self.counter.sqrt() / self.gamma;
        let x_eta = self.counter.powf(-self.kappa);
        self.x_bar = (1.0 - x_eta) * self.x_bar + x_eta * x;
        x.exp()
    }

    /// The step size kept after warm-up: exp of the averaged iterate.
    pub fn final_stepsize(&self) -> f64 {
        self.x_bar.exp()
    }
}

/// Stan's windowed schedule with a Welford variance estimator: an initial fast buffer, slow
/// windows doubling in length (the last stretched to reach the terminal buffer), a terminal
/// fast buffer. At the end of each slow window the metric becomes the regularised variance of
/// the window's draws.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct WindowedVariance {
    enabled: bool,
    n_warmup: usize,
    init_buffer: usize,
    term_buffer: usize,
    base_window: usize,
    counter: usize,
    window_size: usize,
    next_window: usize,
    n: usize,
    mean: Vec<f64>,
    m2: Vec<f64>,
}

impl WindowedVariance {
    pub fn new(
        dim: usize,
        n_warmup: usize,
        init_buffer: usize,
        term_buffer: usize,
        base_window: usize,
    ) -> Self {
        let mut w = WindowedVariance {
            // Stan: "No variance estimation is performed for num_warmup < 20".
            enabled: n_warmup >= 20,
            n_warmup,
            init_buffer,
            term_buffer,
            base_window,
            counter: 0,
            window_size: 0,
            next_window: 0,
            n: 0,
            mean: vec![0.0; dim],
            m2: vec![0.0; dim],
        };
        if w.enabled && init_buffer + base_window + term_buffer > n_warmup {
            // Stan's fallback when the configured stages do not fit: 15% / 75% / 10%.
            w.init_buffer = (0.15 * n_warmup as f64) as usize;
            w.term_buffer = (0.1 * n_warmup as f64) as usize;
            w.base_window = n_warmup - (w.init_buffer + w.term_buffer);
        }
        w.restart();
        w
    }

    fn restart(&mut self) {
        self.counter = 0;
        self.window_size = self.base_window;
        self.next_window = self.init_buffer + self.window_size - 1;
    }

    fn in_window(&self) -> bool {
        self.enabled
            && self.counter >= self.init_buffer
            && self.counter < self.n_warmup - self.term_buffer
            && self.counter != self.n_warmup
    }

    fn window_ends(&self) -> bool {
        self.enabled && self.counter == self.next_window && self.counter != self.n_warmup
    }

    fn compute_next_window(&mut self) {
        let last = self.n_warmup - self.term_buffer - 1;
        if self.next_window == last {
            return;
        }
        self.window_size *= 2;
        self.next_window = self.counter + self.window_size;
        if self.next_window != last {
            let next_boundary = self.next_window + 2 * self.window_size;
            if next_boundary >= self.n_warmup - self.term_buffer {
                self.next_window = last;
            }
        }
    }

    /// Feeds the position after a warm-up transition; returns true when `inv_metric` was just
    /// updated (the caller then re-initialises the step size and restarts dual averaging).
    pub fn learn(&mut self, inv_metric: &mut [f64], q: &[f64]) -> bool {
        if self.in_window() {
            self.n += 1;
            let n = self.n as f64;
            for ((m, s), &x) in self.mean.iter_mut().zip(self.m2.iter_mut()).zip(q) {
                let delta = x - *m;
                *m += delta / n;
                *s += delta * (x - *m);
            }
        }
        if self.window_ends() {
            self.compute_next_window();
            let n = self.n as f64;
            if self.n >= 2 {
                for (v, s) in inv_metric.iter_mut().zip(&self.m2) {
                    let var = s / (n - 1.0);
                    *v = (n / (n + 5.0)) * var + 1e-3 * (5.0 / (n + 5.0));
                }
            }
            self.n = 0;
            self.mean.iter_mut().for_each(|m| *m = 0.0);
            self.m2.iter_mut().for_each(|m| *m = 0.0);
            self.counter += 1;
            return true;
        }
        self.counter += 1;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stan_default_schedule_ends_windows_at_stans_iterations() {
        // With 1000 warm-up iterations Stan's metric updates after iterations 100, 150, 250,
        // 450 and 950 (1-based): windows 25, 50, 100, 200, 500 starting after a buffer of 75.
        let mut w = WindowedVariance::new(1, 1000, 75, 50, 25);
        let mut m = vec![1.0];
        let mut ends = Vec::new();
        for it in 0..1000 {
            if w.learn(&mut m, &[it as f64]) {
                ends.push(it + 1);
            }
        }
        assert_eq!(ends, vec![100, 150, 250, 450, 950]);
    }

    #[test]
    fn regularised_variance_shrinks_toward_1e3() {
        let mut w = WindowedVariance::new(1, 100, 0, 0, 100);
        let mut m = vec![1.0];
        let mut updated = false;
        for it in 0..100 {
            updated |= w.learn(&mut m, &[if it % 2 == 0 { 1.0 } else { -1.0 }]);
        }
        assert!(updated);
        // 100 draws of ±1: sample variance 100/99, regularised with n = 100.
        let n = 100.0;
        let var = 100.0 / 99.0;
        let expect = n / (n + 5.0) * var + 1e-3 * 5.0 / (n + 5.0);
        assert!((m[0] - expect).abs() < 1e-12, "{} vs {expect}", m[0]);
    }

    #[test]
    fn dual_averaging_moves_step_size_toward_target() {
        let mut da = DualAveraging::new(0.8, 1.0);
        // Acceptance always too low → ε must go down.
        let mut eps = 1.0;
        for _ in 0..50 {
            eps = da.learn(0.2);
        }
        assert!(eps < 0.1 && da.final_stepsize() < 1.0);
    }
}
