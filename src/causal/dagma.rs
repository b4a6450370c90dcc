//! DAGMA for linear structural equation models (Bello, Aragam & Ravikumar, NeurIPS 2022),
//! following `DagmaLinear` with the `l2` loss in the reference package `dagma` 1.1.1
//! (`dagma/linear.py`) iteration for iteration: the log-determinant acyclicity function
//! h(W) = −log det(sI − W∘W) + d log s, a central path over (s, μ) solved by Adam, the step
//! undone and the rate halved when W leaves the M-matrix domain, and a final threshold.
//!
//! The learner is steppable: each [`Dagma::step`] runs a bounded batch of Adam iterations
//! (never past a checkpoint), and the central-path bookkeeping of `fit` runs inside that step.

use nalgebra::DMatrix;
use serde::{Deserialize, Serialize};

use super::input::{DataRequirements, InputError};
use super::{numpy_sign, Knowledge, LearnedGraph, Learner};
#[cfg(target_arch = "wasm32")]
use crate::linalg::matmul_dense_into;
use crate::run::{Progress, StepOutcome, StopReason};

/// Why DAGMA cannot run on the given data or settings.
pub type DagmaError = InputError;

/// What DAGMA needs of its data.
const REQUIREMENTS: DataRequirements = DataRequirements {
    learner: "DAGMA",
    min_rows: 2,
    why: " rows to estimate covariances",
    no_constant_columns: false,
};

/// Settings of DAGMA; the defaults are those of `DagmaLinear.fit` and `minimize`, except λ₁.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DagmaParams {
    /// L1 penalty weight λ₁. The default 0.02 is the value of the paper's linear experiments,
    /// the README example and the package's own `test()`; `fit`'s signature default is 0.03.
    pub lambda1: f64,
    /// Number of central-path stages T (`T=5`).
    pub stages: usize,
    /// Initial weight μ of the score (`mu_init=1.0`).
    pub mu_init: f64,
    /// μ is multiplied by this after each stage (`mu_factor=0.1`).
    pub mu_factor: f64,
    /// The M-matrix parameter s of each stage (`s=[1.0, .9, .8, .7, .6]`); when shorter than
    /// `stages` its last value is repeated, as `fit` does.
    pub s: Vec<f64>,
    /// Adam iterations of every stage but the last (`warm_iter=3e4`).
    pub warm_iter: usize,
    /// Adam iterations of the last stage (`max_iter=6e4`).
    pub max_iter: usize,
    /// Adam learning rate (`lr=0.0003`).
    pub lr: f64,
    /// The objective is evaluated every this many iterations for early stopping
    /// (`checkpoint=1000`).
    pub checkpoint: usize,
    /// Adam's β₁ (`beta_1=0.99`).
    pub beta1: f64,
    /// Adam's β₂ (`beta_2=0.999`).
    pub beta2: f64,
    /// A stage stops when the objective's relative change between checkpoints is at most this
    /// (`minimize`'s `tol=1e-6`).
    pub tol: f64,
    /// Final edges with |w| below this are dropped (`w_threshold=0.3`).
    pub w_threshold: f64,
}

impl Default for DagmaParams {
    fn default() -> Self {
        DagmaParams {
            lambda1: 0.02,
            stages: 5,
            mu_init: 1.0,
            mu_factor: 0.1,
            s: vec![1.0, 0.9, 0.8, 0.7, 0.6],
            warm_iter: 30_000,
            max_iter: 60_000,
            lr: 3e-4,
            checkpoint: 1000,
            beta1: 0.99,
            beta2: 0.999,
            tol: 1e-6,
            w_threshold: 0.3,
        }
    }
}

impl DagmaParams {
    /// Checks every setting, naming the first bad one.
    pub fn validate(&self) -> Result<(), DagmaError> {
        let bad = |name: &'static str, value: String, allowed: &'static str| {
            Err(InputError::InvalidParameter {
                name,
                value,
                allowed,
            })
        };
        // Comparisons are written so that NaN fails them.
        if !(self.lambda1 >= 0.0 && self.lambda1.is_finite()) {
            return bad(
                "λ₁ (L1 penalty)",
                self.lambda1.to_string(),
                "a number ≥ 0, e.g. 0.02",
            );
        }
        if self.stages == 0 || self.stages > 50 {
            return bad(
                "the number of stages T",
                self.stages.to_string(),
                "between 1 and 50, e.g. 5",
            );
        }
        if !(self.mu_init > 0.0 && self.mu_init.is_finite()) {
            return bad(
                "the initial μ",
                self.mu_init.to_string(),
                "a number > 0, e.g. 1",
            );
        }
        if !(self.mu_factor > 0.0 && self.mu_factor <= 1.0) {
            return bad(
                "the μ factor",
                self.mu_factor.to_string(),
                "in (0, 1], e.g. 0.1",
            );
        }
        if self.s.is_empty() {
            return bad(
                "the s schedule",
                "empty".into(),
                "a list such as 1, 0.9, 0.8",
            );
        }
        if let Some(&s) = self.s.iter().find(|&&s| !(s > 0.0 && s.is_finite())) {
            return bad(
                "a value of the s schedule",
                s.to_string(),
                "a number > 0, e.g. 1",
            );
        }
        if self.warm_iter == 0 || self.max_iter == 0 {
            return bad(
                "the number of Adam iterations per stage",
                "0".into(),
                "at least 1, e.g. 30000 (warm) and 60000 (last)",
            );
        }
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return bad(
                "the learning rate",
                self.lr.to_string(),
                "a number > 0, e.g. 3e-4",
            );
        }
        if self.checkpoint == 0 {
            return bad(
                "the checkpoint interval",
                "0".into(),
                "at least 1, e.g. 1000",
            );
        }
        if !(self.beta1 >= 0.0 && self.beta1 < 1.0) {
            return bad("Adam's β₁", self.beta1.to_string(), "in [0, 1), e.g. 0.99");
        }
        if !(self.beta2 >= 0.0 && self.beta2 < 1.0) {
            return bad("Adam's β₂", self.beta2.to_string(), "in [0, 1), e.g. 0.999");
        }
        if !(self.tol >= 0.0 && self.tol.is_finite()) {
            return bad(
                "the convergence tolerance",
                self.tol.to_string(),
                "a number ≥ 0, e.g. 1e-6",
            );
        }
        if !(self.w_threshold >= 0.0 && self.w_threshold.is_finite()) {
            return bad(
                "the weight threshold",
                self.w_threshold.to_string(),
                "a number ≥ 0, e.g. 0.3",
            );
        }
        Ok(())
    }
}

/// Partial pivoting for column k among rows k.. of the values `col(i)`: the row, or `None` if
/// the column vanishes (or is not finite).
fn pivot_row(n: usize, k: usize, col: impl Fn(usize) -> f64) -> Option<usize> {
    let mut p = k;
    let mut best = col(k).abs();
    for i in k + 1..n {
        let v = col(i).abs();
        if v > best {
            best = v;
            p = i;
        }
    }
    (best > 0.0 && best.is_finite()).then_some(p)
}

fn swap_rows(a: &mut [f64], n: usize, r: usize, s: usize) {
    if r != s {
        let (lo, hi) = a.split_at_mut(r.max(s) * n);
        lo[r.min(s) * n..r.min(s) * n + n].swap_with_slice(&mut hi[..n]);
    }
}

/// Pivots per panel of [`invert_in_place`].
const PANEL: usize = 4;
/// Rows swept together by [`sweep_rows`].
const SWEEP_ROWS: usize = 4;

/// Subtracts Σ_t c[t]·panel[t] from `row` after zeroing its panel columns `k..k + c.len()`,
/// where `c` holds those columns' values before the zeroing.
fn sweep_row(row: &mut [f64], k: usize, panel: &[f64], n: usize) {
    let b = panel.len() / n;
    let mut c = [0.0; PANEL];
    c[..b].copy_from_slice(&row[k..k + b]);
    row[k..k + b].fill(0.0);
    if b == PANEL {
        let (r0, rest) = panel.split_at(n);
        let (r1, rest) = rest.split_at(n);
        let (r2, r3) = rest.split_at(n);
        for ((((x, &p0), &p1), &p2), &p3) in row.iter_mut().zip(r0).zip(r1).zip(r2).zip(r3) {
            *x -= c[0] * p0 + c[1] * p1 + c[2] * p2 + c[3] * p3;
        }
    } else {
        for (ct, rt) in c[..b].iter().zip(panel.chunks_exact(n)) {
            for (x, &p) in row.iter_mut().zip(rt) {
                *x -= ct * p;
            }
        }
    }
}

/// [`sweep_row`] on R consecutive rows at once (a full panel): each panel entry is loaded
/// once for the R rows. Each entry gets [`sweep_row`]'s arithmetic in its order, so the bits
/// are its bits.
fn sweep_rows<const R: usize>(rows: &mut [f64], k: usize, panel: &[f64], n: usize) {
    let mut c = [[0.0; PANEL]; R];
    for (cr, row) in c.iter_mut().zip(rows.chunks_exact_mut(n)) {
        cr.copy_from_slice(&row[k..k + PANEL]);
        row[k..k + PANEL].fill(0.0);
    }
    let (r0, rest) = panel.split_at(n);
    let (r1, rest) = rest.split_at(n);
    let (r2, r3) = rest.split_at(n);
    for j in 0..n {
        let (p0, p1, p2, p3) = (r0[j], r1[j], r2[j], r3[j]);
        for (r, cr) in c.iter().enumerate() {
            rows[r * n + j] -= cr[0] * p0 + cr[1] * p1 + cr[2] * p2 + cr[3] * p3;
        }
    }
}

/// Inverts the row-major n×n matrix `a` in place by Gauss–Jordan elimination with partial
/// pivoting; returns log|det a|, or `None` if a pivot vanishes (or is not finite).
///
/// The pivots are taken in panels of [`PANEL`]: within a panel only the pivot rows (and the
/// pivot column, for the choice of pivot) are brought up to date, and every other row is swept
/// once per panel with a rank-4 update. The elimination is bound by memory traffic, which this
/// divides by four; the arithmetic is that of the one-pivot-at-a-time sweep, reassociated.
/// `scratch` holds n values.
fn invert_in_place(
    a: &mut [f64],
    n: usize,
    perm: &mut [usize],
    scratch: &mut [f64],
) -> Option<f64> {
    let cur = &mut scratch[..n];
    let mut logdet = 0.0;
    let mut k = 0;
    while k < n {
        let b = PANEL.min(n - k);
        for t in 0..b {
            let q = k + t;
            // Rows q.. still hold their values from the panel's start: bring column q up to
            // date for them to choose the pivot.
            for i in q..n {
                let mut v = a[i * n + q];
                for s in 0..t {
                    v -= a[i * n + k + s] * a[(k + s) * n + q];
                }
                cur[i] = v;
            }
            let p = pivot_row(n, q, |i| cur[i])?;
            perm[q] = p;
            swap_rows(a, n, q, p);
            let (done, rest) = a.split_at_mut(q * n);
            let pivots = &mut done[k * n..];
            let row = &mut rest[..n];
            sweep_row(row, k, &pivots[..t * n], n);
            let pivot = row[q];
            logdet += pivot.abs().ln();
            let inv = 1.0 / pivot;
            row[q] = 1.0;
            for v in row.iter_mut() {
                *v *= inv;
            }
            for prev in pivots.chunks_exact_mut(n) {
                let g = prev[q];
                if g != 0.0 {
                    prev[q] = 0.0;
                    for (x, &r) in prev.iter_mut().zip(row.iter()) {
                        *x -= g * r;
                    }
                }
            }
        }
        let (before, rest) = a.split_at_mut(k * n);
        let (panel, after) = rest.split_at_mut(b * n);
        for rows in [before, after] {
            let rows = if b == PANEL {
                let mut quads = rows.chunks_exact_mut(SWEEP_ROWS * n);
                for quad in &mut quads {
                    sweep_rows::<SWEEP_ROWS>(quad, k, panel, n);
                }
                quads.into_remainder()
            } else {
                rows
            };
            for row in rows.chunks_exact_mut(n) {
                sweep_row(row, k, panel, n);
            }
        }
        k += b;
    }
    // The row interchanges made the result inv(PA) = inv(A)·Pᵀ: undo them on the columns.
    for k in (0..n).rev() {
        let p = perm[k];
        if p != k {
            for row in a.chunks_exact_mut(n) {
                row.swap(k, p);
            }
        }
    }
    Some(logdet)
}

/// Row-major c = a·w for n×n matrices with `a` symmetric: read column-major, the buffers hold
/// wᵀ and cᵀ, and cᵀ = wᵀ·a. Natively by nalgebra's product (`matrixmultiply`, which picks
/// AVX2 and fused multiply-add at run time); in wasm, where `matrixmultiply` has no SIMD kernel
/// and took a third of DAGMA's time at d = 50, by the register-blocked [`matmul_dense_into`].
fn symm_matmul_rows(n: usize, a: &[f64], w: &[f64], c: &mut [f64]) {
    #[cfg(target_arch = "wasm32")]
    matmul_dense_into(n, w, a, c);
    #[cfg(not(target_arch = "wasm32"))]
    {
        let a = nalgebra::DMatrixView::from_slice(a, n, n);
        let wt = nalgebra::DMatrixView::from_slice(w, n, n);
        let mut ct = nalgebra::DMatrixViewMut::from_slice(c, n, n);
        ct.gemm(1.0, &wt, &a, 0.0);
    }
}

/// `_score`'s ½ tr((I−W)ᵀ S (I−W)) = ½ Σ_ij (I−W)_ij (S − SW)_ij, from S, `cw` = S·W and W
/// (row-major).
fn half_trace_loss(cov: &[f64], cw: &[f64], w: &[f64], d: usize) -> f64 {
    let mut loss = 0.0;
    for i in 0..d {
        for j in 0..d {
            let k = i * d + j;
            let a = f64::from(u8::from(i == j)) - w[k];
            loss += a * (cov[k] - cw[k]);
        }
    }
    0.5 * loss
}

/// Row-major sI − W∘W.
fn m_matrix(w: &[f64], d: usize, s: f64, out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(w) {
        *o = -v * v;
    }
    for i in 0..d {
        out[i * d + i] += s;
    }
}

/// Row-major (sI − W∘W)ᵀ: [`m_matrix`]'s values, transposed as they are written.
fn m_matrix_transposed(w: &[f64], d: usize, s: f64, out: &mut [f64]) {
    for (i, row) in w.chunks_exact(d).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            out[j * d + i] = -v * v;
        }
    }
    for i in 0..d {
        out[i * d + i] += s;
    }
}

/// The log-det acyclicity h(W) = −log|det(sI − W∘W)| + d log s of `linear.py`'s `_h`
/// (`None` if the matrix is singular). It is zero on DAGs and positive on cyclic W inside
/// the M-matrix domain.
pub fn acyclicity(w: &DMatrix<f64>, s: f64) -> Option<f64> {
    let d = w.nrows();
    let wr: Vec<f64> = w.transpose().as_slice().to_vec();
    let mut m = vec![0.0; d * d];
    m_matrix(&wr, d, s, &mut m);
    let logdet = invert_in_place(&mut m, d, &mut vec![0; d], &mut vec![0.0; 2 * d])?;
    Some(-logdet + d as f64 * s.ln())
}

/// ∇h(W) = 2 W ∘ (sI − W∘W)^{−T} (`None` if the matrix is singular).
pub fn acyclicity_gradient(w: &DMatrix<f64>, s: f64) -> Option<DMatrix<f64>> {
    let d = w.nrows();
    let wr: Vec<f64> = w.transpose().as_slice().to_vec();
    let mut m = vec![0.0; d * d];
    m_matrix(&wr, d, s, &mut m);
    invert_in_place(&mut m, d, &mut vec![0; d], &mut vec![0.0; 2 * d])?;
    Some(DMatrix::from_fn(d, d, |i, j| {
        2.0 * w[(i, j)] * m[j * d + i]
    }))
}

/// What one pass of `minimize` is doing.
struct Inner {
    /// Adam iteration, from 1.
    iter: usize,
    /// Iterations of this stage (`warm_iter`, or `max_iter` in the last stage).
    n_iter: usize,
    /// The learning rate of this pass, halved when a step leaves the domain.
    lr: f64,
    obj_prev: f64,
}

/// DAGMA in progress. Matrices are row-major `Vec`s, so that the row operations of the
/// inversion and of the products are contiguous.
pub struct Dagma {
    d: usize,
    params: DagmaParams,
    /// Covariance XᵀX/n of the centred data (symmetric, so its layout does not matter).
    cov: Vec<f64>,
    /// 1 where an edge may be learned, 0 where knowledge forbids it (`mask_exc`).
    mask: Vec<f64>,
    /// −2 on required edges (`mask_inc`, in units of μλ₁), 0 elsewhere.
    required: Vec<f64>,
    any_required: bool,
    /// Per-stage s, raised by 0.1 when a stage has to be retried (as `fit` does).
    s: Vec<f64>,
    /// The accepted estimate of the finished stages (`W_est`).
    w_est: Vec<f64>,
    /// The working W of the current pass.
    w: Vec<f64>,
    /// The last Adam direction, to undo a step that left the domain.
    dir: Vec<f64>,
    opt_m: Vec<f64>,
    opt_v: Vec<f64>,
    /// (sI − W∘W)^{−1} + 1e-16.
    minv: Vec<f64>,
    cw: Vec<f64>,
    perm: Vec<usize>,
    scratch: Vec<f64>,
    stage: usize,
    mu: f64,
    /// The learning rate a pass of this stage starts from, halved on each retry.
    lr_stage: f64,
    inner: Inner,
    /// Iterations counted as done for the progress bar (`pbar`), of (T−1)·warm + max.
    ticks: usize,
    /// Steps undone with the rate halved, and stages restarted with a larger s.
    halvings: usize,
    retries: usize,
    version: usize,
    done: Option<StopReason>,
    /// log|det| of the last matrix `load_inverse` inverted.
    logdet: f64,
    /// Whether the next iteration records [`Dagma::live`] (the last one of a step).
    record: bool,
    /// The live curve point: the least-squares loss ½ tr((I−W)ᵀS(I−W)) and h(W) of the last
    /// step's last iterate, from values the iteration computes anyway (S·W and log|det|), and
    /// the μ and stage (from 1) it ran with.
    live: Option<(f64, f64, f64, usize)>,
    /// Iterations since `version` last changed for a new curve point.
    since_point: usize,
}

/// Flops allowed per step: a few milliseconds of Adam iterations at any d.
const STEP_FLOPS: usize = 4_000_000;
/// Adam iterations between the live estimates (and curve points) of [`Dagma::step`].
const POINT_EVERY: usize = 250;

impl Dagma {
    /// Prepares DAGMA on raw data `x` (n rows × d columns); columns are centred here.
    ///
    /// Forbidden edges (and tiers) are held at zero by zeroing their entries after every Adam
    /// step, as `linear.py`'s `exclude_edges` does; required edges get `include_edges`'
    /// treatment, a reversed L1 pull (which, as the reference warns, does not guarantee them).
    /// The diagonal is not masked during the optimisation, as in the reference (its h term
    /// drives it to zero); any self-loop left after thresholding is dropped from the result.
    pub fn new(
        x: &DMatrix<f64>,
        params: DagmaParams,
        knowledge: &Knowledge,
    ) -> Result<Dagma, DagmaError> {
        params.validate()?;
        REQUIREMENTS.check(x)?;
        let (n, d) = x.shape();
        let mut centred = x.clone();
        for mut column in centred.column_iter_mut() {
            let mean = column.mean();
            column.add_scalar_mut(-mean);
        }
        let cov = (centred.tr_mul(&centred) / n as f64).as_slice().to_vec();
        let dd = d * d;
        let mut mask = vec![1.0; dd];
        let mut required = vec![0.0; dd];
        for i in 0..d {
            for j in 0..d {
                if i != j && !knowledge.allows(i, j) {
                    mask[i * d + j] = 0.0;
                } else if i != j && knowledge.requires(i, j) {
                    required[i * d + j] = -2.0;
                }
            }
        }
        let any_required = required.iter().any(|&r| r != 0.0);
        let mut s = params.s.clone();
        while s.len() < params.stages {
            s.push(*params.s.last().unwrap_or(&1.0));
        }
        let n_iter = if params.stages == 1 {
            params.max_iter
        } else {
            params.warm_iter
        };
        Ok(Dagma {
            d,
            cov,
            mask,
            required,
            any_required,
            s,
            w_est: vec![0.0; dd],
            w: vec![0.0; dd],
            dir: vec![0.0; dd],
            opt_m: vec![0.0; dd],
            opt_v: vec![0.0; dd],
            minv: vec![0.0; dd],
            cw: vec![0.0; dd],
            perm: vec![0; d],
            scratch: vec![0.0; 2 * d],
            stage: 0,
            mu: params.mu_init,
            lr_stage: params.lr,
            inner: Inner {
                iter: 1,
                n_iter,
                lr: params.lr,
                obj_prev: 1e16,
            },
            ticks: 0,
            halvings: 0,
            retries: 0,
            version: 0,
            done: None,
            logdet: 0.0,
            record: false,
            live: None,
            since_point: 0,
            params,
        })
    }

    /// Loads (sI − W∘W)^{−T} + 1e-16 into `minv`; false if W is outside the M-matrix domain
    /// (a negative entry, as `np.any(M < 0)`, or a singular matrix).
    fn load_inverse(&mut self, s: f64) -> bool {
        let d = self.d;
        // Inverting Mᵀ gives M^{−T}, the matrix the gradient needs, laid out for row-wise
        // reading (its entries are those of M^{−1}, so the M-matrix test is the same).
        m_matrix_transposed(&self.w, d, s, &mut self.minv);
        match invert_in_place(&mut self.minv, d, &mut self.perm, &mut self.scratch) {
            Some(logdet) => self.logdet = logdet,
            None => return false,
        }
        let mut ok = true;
        for v in &mut self.minv {
            *v += 1e-16;
            // NaN counts as outside too.
            ok &= *v >= 0.0;
        }
        ok
    }

    /// `_func`: μ(½ tr((I−W)ᵀS(I−W)) + λ₁‖W‖₁) + h(W), with h from log|det| as `slogdet`.
    fn objective(&mut self, s: f64) -> f64 {
        let d = self.d;
        symm_matmul_rows(d, &self.cov, &self.w, &mut self.cw);
        let loss = half_trace_loss(&self.cov, &self.cw, &self.w, d);
        let l1: f64 = self.w.iter().map(|v| v.abs()).sum();
        m_matrix(&self.w, d, s, &mut self.minv);
        let h = match invert_in_place(&mut self.minv, d, &mut self.perm, &mut self.scratch) {
            Some(logdet) => -logdet + d as f64 * s.ln(),
            None => f64::INFINITY,
        };
        self.mu * (loss + self.params.lambda1 * l1) + h
    }

    /// Restarts the current stage from `W_est` with a fresh Adam state.
    fn start_pass(&mut self, lr: f64) {
        self.w.copy_from_slice(&self.w_est);
        self.opt_m.fill(0.0);
        self.opt_v.fill(0.0);
        self.inner.iter = 1;
        self.inner.lr = lr;
        self.inner.obj_prev = 1e16;
    }

    /// Accepts the pass's W and moves to the next stage (or finishes).
    fn end_stage(&mut self) -> StepOutcome {
        self.w_est.copy_from_slice(&self.w);
        self.mu *= self.params.mu_factor;
        self.stage += 1;
        self.version += 1;
        self.ticks = self.stage_start_ticks(self.stage);
        if self.stage == self.params.stages {
            self.done = Some(StopReason::Converged);
            return StepOutcome::Finished(StopReason::Converged);
        }
        self.inner.n_iter = if self.stage == self.params.stages - 1 {
            self.params.max_iter
        } else {
            self.params.warm_iter
        };
        self.lr_stage = self.params.lr;
        self.start_pass(self.params.lr);
        StepOutcome::Continue
    }

    /// Progress-bar iterations before `stage` starts.
    fn stage_start_ticks(&self, stage: usize) -> usize {
        stage.min(self.params.stages - 1) * self.params.warm_iter
            + if stage >= self.params.stages {
                self.params.max_iter
            } else {
                0
            }
    }

    /// One Adam iteration of `minimize`; `Some` when the pass (and so the stage) ended or
    /// had to be restarted.
    fn iterate(&mut self) -> Option<StepOutcome> {
        let d = self.d;
        let s = self.s[self.stage];
        let iter = self.inner.iter;
        while !self.load_inverse(s) {
            if iter == 1 || s <= 0.9 {
                // `fit` retries the stage from W_est with half the rate and a larger s.
                self.lr_stage *= 0.5;
                self.s[self.stage] += 0.1;
                self.retries += 1;
                self.start_pass(self.lr_stage);
                self.version += 1;
                return Some(StepOutcome::Continue);
            }
            let lr = self.inner.lr;
            for (w, &g) in self.w.iter_mut().zip(&self.dir) {
                *w += lr * g;
            }
            self.inner.lr *= 0.5;
            self.halvings += 1;
            if self.inner.lr <= 1e-16 {
                // `minimize` returns this W as a success.
                return Some(self.end_stage());
            }
            let lr = self.inner.lr;
            for (w, &g) in self.w.iter_mut().zip(&self.dir) {
                *w -= lr * g;
            }
        }
        symm_matmul_rows(d, &self.cov, &self.w, &mut self.cw);
        if self.record {
            // For the live curves, once per step: O(d²) beside the iteration's 2d³.
            let loss = half_trace_loss(&self.cov, &self.cw, &self.w, d);
            self.live = Some((
                loss,
                -self.logdet + d as f64 * s.ln(),
                self.mu,
                self.stage + 1,
            ));
        }
        let mu = self.mu;
        let mu_l1 = mu * self.params.lambda1;
        let (b1, b2) = (self.params.beta1, self.params.beta2);
        let c1 = 1.0 / (1.0 - b1.powi(iter as i32));
        let c2 = 1.0 / (1.0 - b2.powi(iter as i32));
        let lr = self.inner.lr;
        // Three simple passes over the d² entries, each of which LLVM vectorizes:
        // the gradient −μ S(I−W) + μλ₁ sign(W) + 2 W∘M^{−T} (into `dir`), include_edges'
        // reversed pull on required edges, then Adam's update.
        let n = d * d;
        let (w, grad) = (&mut self.w[..n], &mut self.dir[..n]);
        let (cov, cw, minv) = (&self.cov[..n], &self.cw[..n], &self.minv[..n]);
        for ((((g, &wk), &c), &cwk), &mk) in grad.iter_mut().zip(&*w).zip(cov).zip(cw).zip(minv) {
            *g = -mu * (c - cwk) + mu_l1 * numpy_sign(wk) + 2.0 * wk * mk;
        }
        if self.any_required {
            let required = &self.required[..n];
            for k in 0..n {
                grad[k] += mu_l1 * required[k] * numpy_sign(w[k]);
            }
        }
        let (om, ov, mask) = (&mut self.opt_m[..n], &mut self.opt_v[..n], &self.mask[..n]);
        for k in 0..n {
            let g = grad[k];
            let m = om[k] * b1 + (1.0 - b1) * g;
            let v = ov[k] * b2 + (1.0 - b2) * (g * g);
            om[k] = m;
            ov[k] = v;
            let dk = (m * c1) / ((v * c2).sqrt() + 1e-8);
            grad[k] = dk;
            w[k] = (w[k] - lr * dk) * mask[k];
        }
        let n_iter = self.inner.n_iter;
        if iter.is_multiple_of(self.params.checkpoint) || iter == n_iter {
            let obj = self.objective(s);
            self.version += 1;
            let prev = self.inner.obj_prev;
            if ((prev - obj) / prev).abs() <= self.params.tol {
                return Some(self.end_stage());
            }
            self.inner.obj_prev = obj;
        }
        self.ticks += 1;
        self.inner.iter += 1;
        if self.inner.iter > n_iter {
            return Some(self.end_stage());
        }
        None
    }

    /// A bounded batch of Adam iterations (a few million flops, never past a checkpoint);
    /// stage changes happen inside it.
    pub fn step(&mut self) -> StepOutcome {
        if let Some(reason) = &self.done {
            return StepOutcome::Finished(reason.clone());
        }
        let d = self.d;
        let budget = (STEP_FLOPS / (2 * d * d * d)).clamp(1, self.params.checkpoint);
        for i in 0..budget {
            // The step's last iteration (its budget's, or a checkpoint's) records the live
            // curve point.
            self.record = i + 1 == budget || self.inner.iter.is_multiple_of(self.params.checkpoint);
            self.since_point += 1;
            if let Some(outcome) = self.iterate() {
                return outcome;
            }
            if self.inner.iter % self.params.checkpoint == 1 {
                break;
            }
        }
        // A new estimate to draw and a point of the curves every POINT_EVERY iterations (and
        // at each checkpoint): about 140 over a d = 50 run, whose steps are 16 iterations, so
        // that slow motion, which pauses at each, stays watchable.
        if self.since_point >= POINT_EVERY {
            self.since_point = 0;
            self.version += 1;
        }
        StepOutcome::Continue
    }

    /// Progress as `fit`'s progress bar counts it: (T−1)·warm_iter + max_iter iterations, a
    /// stage that stops early counting as complete.
    pub fn progress(&self) -> Progress {
        let total = (self.params.stages - 1) * self.params.warm_iter + self.params.max_iter;
        let fraction = if self.done.is_some() {
            1.0
        } else {
            (self.ticks as f64 / total as f64).clamp(0.0, 1.0)
        };
        let stage = (self.stage + 1).min(self.params.stages);
        let s = self.s[stage - 1];
        Progress {
            fraction,
            label: format!(
                "stage {stage}/{} · s = {s:.1} · μ = {:.0e} · iteration {}",
                self.params.stages, self.mu, self.inner.iter
            ),
        }
    }

    /// The current W (the working iterate while a stage runs), before thresholding.
    pub fn current_weights(&self) -> DMatrix<f64> {
        let w = if self.done.is_some() {
            &self.w_est
        } else {
            &self.w
        };
        DMatrix::from_row_slice(self.d, self.d, w)
    }

    /// How often W left the M-matrix domain: (steps undone with the rate halved, stages
    /// restarted with s + 0.1).
    pub fn domain_exits(&self) -> (usize, usize) {
        (self.halvings, self.retries)
    }

    /// The current central-path stage (0-based; equal to T once finished).
    pub fn stage(&self) -> usize {
        self.stage
    }

    /// The thresholded graph of the current W, with why the run stopped (or "not finished").
    pub fn result(&self) -> LearnedGraph {
        LearnedGraph::thresholded_dag(
            &self.current_weights(),
            self.params.w_threshold,
            self.done.clone(),
        )
    }
}

impl Learner for Dagma {
    fn step(&mut self) -> StepOutcome {
        Dagma::step(self)
    }
    fn progress(&self) -> Progress {
        Dagma::progress(self)
    }
    fn version(&self) -> usize {
        self.version
    }
    fn current_weights(&self) -> DMatrix<f64> {
        Dagma::current_weights(self)
    }
    fn result(&self) -> LearnedGraph {
        Dagma::result(self)
    }
    fn curve_point(&self) -> Vec<(&'static str, f64)> {
        match self.live {
            Some((loss, h, mu, stage)) => vec![
                ("lsq-loss", loss),
                ("dagma-h", h),
                ("mu", mu),
                ("stage", stage as f64),
            ],
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::seq::SliceRandom;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;
    use rand_distr::StandardNormal;

    /// Linear-Gaussian data for the chain 0 → 1 → 2 (weights 1.5 and −1), seeded ChaCha8.
    fn chain_data(n: usize, seed: u64) -> DMatrix<f64> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = DMatrix::zeros(n, 3);
        for r in 0..n {
            let a: f64 = rng.sample(StandardNormal);
            let b: f64 = 1.5 * a + rng.sample::<f64, _>(StandardNormal);
            let c: f64 = -b + rng.sample::<f64, _>(StandardNormal);
            x[(r, 0)] = a;
            x[(r, 1)] = b;
            x[(r, 2)] = c;
        }
        x
    }

    fn run(x: &DMatrix<f64>, knowledge: &Knowledge) -> LearnedGraph {
        let mut dagma = Dagma::new(x, DagmaParams::default(), knowledge).unwrap();
        let mut last_version = dagma.version();
        let mut versions = 0;
        loop {
            let outcome = dagma.step();
            if dagma.version() != last_version {
                last_version = dagma.version();
                versions += 1;
            }
            if let StepOutcome::Finished(reason) = outcome {
                assert_eq!(reason, StopReason::Converged);
                assert!(versions >= DagmaParams::default().stages);
                assert_eq!(dagma.progress().fraction, 1.0);
                return dagma.result();
            }
        }
    }

    #[test]
    fn gauss_jordan_inverts_and_gives_the_log_determinant() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        for d in 1..14 {
            let a = DMatrix::from_fn(d, d, |_, _| rng.sample::<f64, _>(StandardNormal));
            let mut buf: Vec<f64> = a.transpose().as_slice().to_vec();
            let logdet =
                invert_in_place(&mut buf, d, &mut vec![0; d], &mut vec![0.0; 2 * d]).unwrap();
            let inv = DMatrix::from_row_slice(d, d, &buf);
            let expected = a.clone().try_inverse().unwrap();
            assert!((inv - expected).abs().max() < 1e-9, "d = {d}");
            assert!(
                (logdet - a.determinant().abs().ln()).abs() < 1e-9,
                "d = {d}"
            );
        }
        let mut singular = vec![1.0, 2.0, 2.0, 4.0];
        assert!(invert_in_place(&mut singular, 2, &mut [0; 2], &mut [0.0; 4]).is_none());
    }

    #[test]
    fn multi_row_sweep_gives_the_bits_of_the_row_sweep() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        for n in [4, 5, 9, 13] {
            let a: Vec<f64> = (0..(PANEL + SWEEP_ROWS) * n)
                .map(|_| rng.sample(StandardNormal))
                .collect();
            let (panel, rows) = a.split_at(PANEL * n);
            let mut quad = rows.to_vec();
            sweep_rows::<SWEEP_ROWS>(&mut quad, 0, panel, n);
            let mut one = rows.to_vec();
            for row in one.chunks_exact_mut(n) {
                sweep_row(row, 0, panel, n);
            }
            assert_eq!(quad, one, "n = {n}");
        }
    }

    #[test]
    fn symmetric_product_matches_nalgebra() {
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        for d in [1, 3, 4, 8, 9, 13, 20] {
            let g = DMatrix::from_fn(d, d, |_, _| rng.sample::<f64, _>(StandardNormal));
            let a = &g + g.transpose();
            let b = DMatrix::from_fn(d, d, |_, _| rng.sample::<f64, _>(StandardNormal));
            let ar: Vec<f64> = a.transpose().as_slice().to_vec();
            let br: Vec<f64> = b.transpose().as_slice().to_vec();
            let mut c = vec![0.0; d * d];
            symm_matmul_rows(d, &ar, &br, &mut c);
            let expected = &a * &b;
            assert!((DMatrix::from_row_slice(d, d, &c) - &expected).abs().max() < 1e-12);
            // The wasm32 path, checked here too (unit tests run natively).
            let mut c = vec![0.0; d * d];
            crate::linalg::matmul_dense_into(d, &br, &ar, &mut c);
            assert!((DMatrix::from_row_slice(d, d, &c) - expected).abs().max() < 1e-12);
        }
    }

    proptest! {
        #[test]
        fn h_is_zero_on_dags(seed in 0u64..1000, d in 2usize..9, s in 1.0f64..3.0) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut order: Vec<usize> = (0..d).collect();
            order.shuffle(&mut rng);
            let mut w = DMatrix::zeros(d, d);
            for a in 0..d {
                for b in a + 1..d {
                    if rng.random::<f64>() < 0.5 {
                        w[(order[a], order[b])] = rng.random_range(-2.0..2.0);
                    }
                }
            }
            let h = acyclicity(&w, s).unwrap();
            prop_assert!(h.abs() <= 1e-12, "h = {h}");
        }

        #[test]
        fn gradient_matches_finite_differences(seed in 0u64..1000, d in 2usize..6) {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            // Entries below 1/(2d) keep sI − W∘W (s = 1) a diagonally dominant M-matrix.
            let scale = 0.5 / d as f64;
            let w = DMatrix::from_fn(d, d, |_, _| rng.random_range(-scale..scale));
            let g = acyclicity_gradient(&w, 1.0).unwrap();
            let eps = 1e-6;
            for i in 0..d {
                for j in 0..d {
                    let mut wp = w.clone();
                    wp[(i, j)] += eps;
                    let mut wm = w.clone();
                    wm[(i, j)] -= eps;
                    let fd = (acyclicity(&wp, 1.0).unwrap() - acyclicity(&wm, 1.0).unwrap())
                        / (2.0 * eps);
                    prop_assert!((fd - g[(i, j)]).abs() < 1e-7, "{fd} vs {}", g[(i, j)]);
                }
            }
        }
    }

    #[test]
    fn h_is_positive_on_a_cycle_inside_the_domain() {
        let mut w = DMatrix::zeros(3, 3);
        w[(0, 1)] = 0.5;
        w[(1, 2)] = -0.5;
        w[(2, 0)] = 0.5;
        assert!(acyclicity(&w, 1.0).unwrap() > 1e-3);
        let mut two = DMatrix::zeros(2, 2);
        two[(0, 1)] = 0.3;
        two[(1, 0)] = 0.3;
        // det(I − W∘W) = 1 − 0.3⁴.
        let expected = -(1.0f64 - 0.3f64.powi(4)).ln();
        assert!((acyclicity(&two, 1.0).unwrap() - expected).abs() < 1e-14);
    }

    #[test]
    fn learns_a_chain_and_honours_forbidden_edges() {
        let x = chain_data(500, 1);
        let learned = run(&x, &Knowledge::default());
        let g = learned.graph();
        assert!(g.is_acyclic());
        // The chain's Markov equivalence class: DAGMA may orient it either way; with unequal
        // variances the least-squares score favours the true direction.
        assert_eq!(g.edges(), vec![(0, 1), (1, 2)]);
        assert!((learned.weight_matrix()[(0, 1)] - 1.5).abs() < 0.2);

        let knowledge = Knowledge {
            forbidden: vec![(0, 1)],
            ..Knowledge::default()
        };
        let constrained = run(&x, &knowledge);
        assert_eq!(constrained.raw_weights[1], 0.0);
        assert!(!constrained.graph().has_edge(0, 1));
    }

    #[test]
    fn the_live_curves_are_the_loss_and_h_of_the_iterate_and_mu() {
        let x = chain_data(300, 5);
        let mut dagma = Dagma::new(&x, DagmaParams::default(), &Knowledge::default()).unwrap();
        assert!(
            Learner::curve_point(&dagma).is_empty(),
            "no point before the first step"
        );
        // Twenty iterations in, one recorded by hand: the point is that of the W it started from.
        for _ in 0..20 {
            assert!(dagma.iterate().is_none());
        }
        let d = dagma.d;
        let w = DMatrix::from_row_slice(d, d, &dagma.w);
        let s = dagma.s[dagma.stage];
        dagma.record = true;
        assert!(dagma.iterate().is_none());
        let cov = DMatrix::from_row_slice(d, d, &dagma.cov);
        let i_w = DMatrix::identity(d, d) - &w;
        let loss = 0.5 * (i_w.transpose() * cov * &i_w).trace();
        let h = acyclicity(&w, s).unwrap();
        let point = Learner::curve_point(&dagma);
        assert_eq!(point[0].0, "lsq-loss");
        assert!(
            (point[0].1 - loss).abs() < 1e-12 * loss.abs().max(1.0),
            "{point:?} vs {loss}"
        );
        assert_eq!(point[1].0, "dagma-h");
        assert!((point[1].1 - h).abs() < 1e-12, "{point:?} vs {h}");
        assert_eq!(point[2], ("mu", 1.0));
        assert_eq!(point[3], ("stage", 1.0));
        // Over a run: a point per step, h far below its start at the end, μ down a tenth per
        // stage.
        let mut points = Vec::new();
        let mut version = dagma.version();
        loop {
            let outcome = dagma.step();
            if dagma.version() != version {
                version = dagma.version();
                points.push(Learner::curve_point(&dagma));
            }
            if outcome != StepOutcome::Continue {
                break;
            }
        }
        let hs: Vec<f64> = points.iter().map(|p| p[1].1).collect();
        assert!(hs.iter().all(|&h| h >= -1e-12), "{hs:?}");
        assert!(*hs.last().unwrap() < 1e-3 * hs.iter().copied().fold(0.0, f64::max));
        let mut mus: Vec<f64> = points.iter().map(|p| p[2].1).collect();
        mus.dedup();
        let want: Vec<f64> = std::iter::successors(Some(1.0), |m| Some(m * 0.1))
            .take(5)
            .collect();
        assert_eq!(mus, want);
        let mut stages: Vec<f64> = points.iter().map(|p| p[3].1).collect();
        stages.dedup();
        assert_eq!(stages, [1.0, 2.0, 3.0, 4.0, 5.0]);
    }

    #[test]
    fn leaving_the_domain_undoes_the_step_or_restarts_the_stage() {
        // A rate this large pushes W out of the M-matrix domain at once.
        let x = chain_data(200, 5);
        let params = DagmaParams {
            lr: 0.5,
            warm_iter: 2000,
            max_iter: 4000,
            ..DagmaParams::default()
        };
        let mut dagma = Dagma::new(&x, params, &Knowledge::default()).unwrap();
        let mut steps = 0;
        while let StepOutcome::Continue = dagma.step() {
            steps += 1;
            assert!(steps < 100_000);
        }
        let (halvings, retries) = dagma.domain_exits();
        assert!(halvings + retries > 0);
        assert!(dagma.current_weights().iter().all(|w| w.is_finite()));
        assert!(dagma.result().graph().is_acyclic());
    }

    #[test]
    fn bad_input_is_named() {
        let x = chain_data(10, 2);
        let params = DagmaParams {
            lr: -1.0,
            ..DagmaParams::default()
        };
        let err = Dagma::new(&x, params, &Knowledge::default()).err().unwrap();
        assert!(err.to_string().contains("learning rate"));
        assert_eq!(err.title(), "Invalid setting");
        let mut bad = x.clone();
        bad[(3, 1)] = f64::NAN;
        let err = Dagma::new(&bad, DagmaParams::default(), &Knowledge::default())
            .err()
            .unwrap();
        assert!(matches!(err, DagmaError::NonFinite { row: 3, col: 1, .. }));
        assert!(err.to_string().contains("row 4 of column 2"));
        assert!(err.hint().contains("column 2"));
        let one = DMatrix::from_element(1, 3, 1.0);
        assert!(matches!(
            Dagma::new(&one, DagmaParams::default(), &Knowledge::default()),
            Err(DagmaError::TooFewRows { n_rows: 1, .. })
        ));
    }
}
