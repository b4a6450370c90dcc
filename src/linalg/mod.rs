//! Dense matrix routines the learners need: the matrix exponential (for NOTEARS' acyclicity).
//!
//! nalgebra 0.34 has `DMatrix::exp()`, but its degree selection converts an estimate that can be
//! `inf` for large finite inputs into a `u64` squaring count (saturating, then looping ~2^64
//! times), and it unwraps an LU solve. An optimizer's trial steps do produce such inputs, so
//! this module implements Higham's (2005) scaling and squaring with Padé degrees 3–13 itself,
//! with no panics: non-finite input or a singular Padé denominator yields a NaN matrix, which
//! the callers treat as "step too far".
//!
//! For nonnegative matrices (NOTEARS exponentiates W∘W) the degree and scaling follow Al-Mohy
//! & Higham (2009) instead, from exactly computed norms of powers, which for nearly nilpotent
//! matrices allows much lower degrees. [`Expm`] keeps the buffers between calls, and the
//! products are plain loops that skip zeros ([`matmul_into`]; W∘W is sparse).

use nalgebra::DMatrix;

/// θ_m of Higham (2005), Table 2.3: the largest 1-norm for which the degree-m Padé approximant
/// is accurate to unit roundoff in double precision.
const THETA: [(usize, f64); 5] = [
    (3, 1.495_585_217_958_292e-2),
    (5, 2.539_398_330_063_23e-1),
    (7, 9.504_178_996_162_932e-1),
    (9, 2.097_847_961_257_068e0),
    (13, 5.371_920_351_148_152e0),
];

/// Padé coefficients b_0..b_m (Higham 2005, Algorithm 2.3).
const B3: [f64; 4] = [120.0, 60.0, 12.0, 1.0];
const B5: [f64; 6] = [30240.0, 15120.0, 3360.0, 420.0, 30.0, 1.0];
const B7: [f64; 8] = [
    17297280.0, 8648640.0, 1995840.0, 277200.0, 25200.0, 1512.0, 56.0, 1.0,
];
const B9: [f64; 10] = [
    17643225600.0,
    8821612800.0,
    2075673600.0,
    302702400.0,
    30270240.0,
    2162160.0,
    110880.0,
    3960.0,
    90.0,
    1.0,
];
const B13: [f64; 14] = [
    64764752532480000.0,
    32382376266240000.0,
    7771770303897600.0,
    1187353796428800.0,
    129060195264000.0,
    10559470521600.0,
    670442572800.0,
    33522128640.0,
    1323241920.0,
    40840800.0,
    960960.0,
    16380.0,
    182.0,
    1.0,
];

/// The 1-norm (largest absolute column sum).
pub fn norm1(a: &DMatrix<f64>) -> f64 {
    a.column_iter()
        .map(|c| c.iter().map(|v| v.abs()).sum::<f64>())
        .fold(0.0, f64::max)
}

/// c = a·b for n×n column-major slices, by column axpys (contiguous, no reductions) that skip
/// the zeros of `b`: NOTEARS exponentiates W∘W, which is sparse, as are its powers when W is
/// nearly a DAG, and there this beats [`matmul_dense_into`]'s register blocks, which do every
/// multiply-add.
pub fn matmul_into(n: usize, a: &[f64], b: &[f64], c: &mut [f64]) {
    for j in 0..n {
        let cj = &mut c[j * n..(j + 1) * n];
        cj.fill(0.0);
        for k in 0..n {
            let bkj = b[j * n + k];
            if bkj != 0.0 {
                for (ci, ai) in cj.iter_mut().zip(&a[k * n..(k + 1) * n]) {
                    *ci += ai * bkj;
                }
            }
        }
    }
}

/// c = a·b for dense n×n column-major slices.
///
/// Register-blocked: a 4 × 4 block of c stays in registers (eight 2-lane SIMD registers in
/// wasm and SSE2) while k runs, so each step loads four entries of a column of `a` and four of
/// `b` for sixteen multiply-adds, where a column axpy loads and stores c once per multiply-add.
/// Every c_ij is summed over k in increasing order from +0, as in the plain triple loop, so
/// the bits are the same on every target (no fused multiply-add). Hand-written rather than a
/// GEMM crate's: `matrixmultiply` has no wasm32 SIMD kernel, and its masked edge kernel
/// dominated DAGMA's 50 × 50 products there.
pub fn matmul_dense_into(n: usize, a: &[f64], b: &[f64], c: &mut [f64]) {
    let (a, b, c) = (&a[..n * n], &b[..n * n], &mut c[..n * n]);
    let mut j0 = 0;
    while j0 + 4 <= n {
        dense_columns::<4>(n, a, b, c, j0);
        j0 += 4;
    }
    for j in j0..n {
        dense_columns::<1>(n, a, b, c, j);
    }
}

/// Columns j0..j0 + C of [`matmul_dense_into`], in blocks of four rows and then one.
fn dense_columns<const C: usize>(n: usize, a: &[f64], b: &[f64], c: &mut [f64], j0: usize) {
    let mut i0 = 0;
    while i0 + 4 <= n {
        dense_block::<4, C>(n, a, b, c, i0, j0);
        i0 += 4;
    }
    for i in i0..n {
        dense_block::<1, C>(n, a, b, c, i, j0);
    }
}

/// The R × C block of [`matmul_dense_into`] at rows i0.., columns j0...
#[inline(always)]
fn dense_block<const R: usize, const C: usize>(
    n: usize,
    a: &[f64],
    b: &[f64],
    c: &mut [f64],
    i0: usize,
    j0: usize,
) {
    let mut acc = [[0.0f64; R]; C];
    let cols: [&[f64]; C] = std::array::from_fn(|t| &b[(j0 + t) * n..(j0 + t + 1) * n]);
    for k in 0..n {
        let bk: [f64; C] = std::array::from_fn(|t| cols[t][k]);
        let ak: &[f64; R] = a[k * n + i0..k * n + i0 + R].try_into().unwrap();
        for t in 0..C {
            for r in 0..R {
                acc[t][r] += ak[r] * bk[t];
            }
        }
    }
    for (t, col) in acc.iter().enumerate() {
        c[(j0 + t) * n + i0..(j0 + t) * n + i0 + R].copy_from_slice(col);
    }
}

/// Reusable buffers for [`Expm::compute`], so that repeated exponentials of n×n matrices do
/// not allocate.
#[derive(Debug, Clone, Default)]
pub struct Expm {
    n: usize,
    a2: Vec<f64>,
    a4: Vec<f64>,
    a6: Vec<f64>,
    u: Vec<f64>,
    v: Vec<f64>,
    t: Vec<f64>,
    pivots: Vec<usize>,
    /// Exact 1-norms of powers (nonnegative input) and the vectors producing them.
    pnorm: Vec<f64>,
    vec_a: Vec<f64>,
    vec_b: Vec<f64>,
}

/// The degree (and scaling) chosen for a nonnegative matrix.
enum Choice {
    Low(usize),
    Scaled(i32),
}

/// (2m)!(2m+1)!/(m!)², the reciprocal of the leading coefficient of the Padé backward-error
/// series, for ℓ(A, m) of Al-Mohy & Higham (2009).
const ELL_COEF: [(usize, f64); 5] = [
    (3, 100800.0),
    (5, 10059033600.0),
    (7, 4487938430976000.0),
    (9, 5.914384781877412e21),
    (13, 1.1325077560602111e35),
];

impl Expm {
    pub fn new(n: usize) -> Self {
        let z = vec![0.0; n * n];
        Expm {
            n,
            a2: z.clone(),
            a4: z.clone(),
            a6: z.clone(),
            u: z.clone(),
            v: z.clone(),
            t: z,
            pivots: vec![0; n],
            pnorm: Vec::with_capacity(32),
            vec_a: vec![0.0; n],
            vec_b: vec![0.0; n],
        }
    }

    /// Writes e^A into `out` for the n×n column-major `a` (n as given to [`Expm::new`]); NaNs
    /// for non-finite input or a singular Padé denominator.
    pub fn compute(&mut self, a: &[f64], out: &mut [f64]) {
        let n = self.n;
        if a.iter().any(|v| !v.is_finite()) {
            out.fill(f64::NAN);
            return;
        }
        if n == 0 {
            return;
        }
        let norm = (0..n)
            .map(|j| a[j * n..(j + 1) * n].iter().map(|v| v.abs()).sum::<f64>())
            .fold(0.0, f64::max);
        matmul_into(n, a, a, &mut self.a2);
        // Higham (2005): the lowest degree whose θ_m bounds ‖A‖₁, else degree 13 with
        // ‖A/2^s‖₁ ≤ θ_13.
        let s_2005 = if norm > THETA[4].1 {
            (norm / THETA[4].1).log2().ceil().max(0.0) as i32
        } else {
            0
        };
        if a.iter().all(|&v| v >= 0.0) {
            if let Some(choice) = self.choose_nonnegative(a, norm, s_2005) {
                match choice {
                    Choice::Low(m) => self.pade_low(a, m, out),
                    Choice::Scaled(s) => self.pade13(a, s, out),
                }
                return;
            }
        }
        for &(m, theta) in &THETA[..4] {
            if norm <= theta {
                self.pade_low(a, m, out);
                return;
            }
        }
        self.pade13(a, s_2005, out);
    }

    /// Al-Mohy & Higham (2009, Algorithm 5.1) for a nonnegative A, where the 1-norms of the
    /// powers, ‖A^k‖₁ = max(1ᵀA^k), are cheap to compute exactly (the paper estimates them):
    /// the degree and scaling follow from d_k = ‖A^k‖^{1/k}, which for the nearly nilpotent
    /// W∘W of NOTEARS is much smaller than ‖A‖, with the ℓ correction against overscaling
    /// rounding errors. None if a power norm overflows (then the 2005 choice applies); the
    /// number of squarings never exceeds the 2005 choice `s_max`.
    fn choose_nonnegative(&mut self, a: &[f64], norm: f64, s_max: i32) -> Option<Choice> {
        let n = self.n;
        // pnorm[k] = ‖A^k‖₁, from v_k = v_{k−1} A with v_0 = 1ᵀ.
        self.pnorm.clear();
        self.pnorm.push(1.0);
        self.vec_a.clear();
        self.vec_a.resize(n, 1.0);
        let (vec_a, vec_b, pnorm) = (&mut self.vec_a, &mut self.vec_b, &mut self.pnorm);
        let mut power_norm = |k: usize| -> f64 {
            while pnorm.len() <= k {
                let mut best = 0.0f64;
                for (j, out) in vec_b.iter_mut().enumerate() {
                    let col = &a[j * n..(j + 1) * n];
                    let v: f64 = vec_a.iter().zip(col).map(|(x, y)| x * y).sum();
                    *out = v;
                    best = best.max(v);
                }
                std::mem::swap(vec_a, vec_b);
                pnorm.push(best);
            }
            pnorm[k]
        };
        // ℓ(2^{-s}A, m) = max(⌈log2(α/u) / 2m⌉, 0), α = ‖|A_s|^{2m+1}‖ / (‖A_s‖ c_m).
        let ell = |m: usize, s: i32, power_norm: &mut dyn FnMut(usize) -> f64| -> Option<i32> {
            if norm == 0.0 {
                return Some(0);
            }
            let p = power_norm(2 * m + 1);
            let c = ELL_COEF.iter().find(|(mm, _)| *mm == m)?.1;
            let log2_alpha = p.log2() - (2 * m) as f64 * s as f64 - norm.log2() - c.log2();
            let value = ((log2_alpha + 53.0) / (2 * m) as f64).ceil();
            if !value.is_finite() {
                return if p == 0.0 { Some(0) } else { None };
            }
            Some(value.max(0.0).min(i32::MAX as f64 / 4.0) as i32)
        };
        let d = |k: usize, pn: &mut dyn FnMut(usize) -> f64| pn(k).powf(1.0 / k as f64);
        let d4 = d(4, &mut power_norm);
        let d6 = d(6, &mut power_norm);
        let d8 = d(8, &mut power_norm);
        let d10 = d(10, &mut power_norm);
        if ![d4, d6, d8, d10].iter().all(|v| v.is_finite()) {
            return None;
        }
        let eta1 = d4.max(d6);
        for (m, eta) in [(3, eta1), (5, eta1)] {
            let theta = THETA.iter().find(|t| t.0 == m)?.1;
            if eta <= theta && ell(m, 0, &mut power_norm)? == 0 {
                return Some(Choice::Low(m));
            }
        }
        let eta3 = d6.max(d8);
        for m in [7, 9] {
            let theta = THETA.iter().find(|t| t.0 == m)?.1;
            if eta3 <= theta && ell(m, 0, &mut power_norm)? == 0 {
                return Some(Choice::Low(m));
            }
        }
        let eta5 = eta3.min(d8.max(d10));
        let s = if eta5 > THETA[4].1 {
            (eta5 / THETA[4].1).log2().ceil().max(0.0) as i32
        } else {
            0
        };
        let s = s.saturating_add(ell(13, s, &mut power_norm)?);
        Some(Choice::Scaled(s.min(s_max)))
    }

    /// The degree-m Padé approximant for m ∈ {3, 5, 7, 9}, unscaled; needs `self.a2`.
    fn pade_low(&mut self, a: &[f64], m: usize, out: &mut [f64]) {
        let n = self.n;
        let b: &[f64] = match m {
            3 => &B3,
            5 => &B5,
            7 => &B7,
            _ => &B9,
        };
        // Even powers A^2, ..., A^(m-1) feed both U (odd coefficients) and V (even).
        // t accumulates U before the final product with A.
        self.t.fill(0.0);
        self.v.fill(0.0);
        for i in 0..n {
            self.t[i * n + i] = b[1];
            self.v[i * n + i] = b[0];
        }
        for k in 1..=(m / 2) {
            let power: &[f64] = match k {
                1 => &self.a2,
                2 => {
                    matmul_into(n, &self.a2, &self.a2, &mut self.a4);
                    &self.a4
                }
                3 => {
                    matmul_into(n, &self.a4, &self.a2, &mut self.a6);
                    &self.a6
                }
                _ => {
                    // A^8 into u (free until the end).
                    matmul_into(n, &self.a6, &self.a2, &mut self.u);
                    &self.u
                }
            };
            for ((t, v), &p) in self.t.iter_mut().zip(self.v.iter_mut()).zip(power) {
                *t += p * b[2 * k + 1];
                *v += p * b[2 * k];
            }
        }
        matmul_into(n, a, &self.t, &mut self.u);
        self.pade_solve(out);
    }

    /// Degree 13 on A/2^s, then s squarings; needs `self.a2` (unscaled).
    fn pade13(&mut self, a: &[f64], s: i32, out: &mut [f64]) {
        let n = self.n;
        let scale = 0.5f64.powi(s);
        // Powers of the scaled matrix: (A/2^s)^2 = A^2 / 4^s.
        if s > 0 {
            let s2 = scale * scale;
            self.a2.iter_mut().for_each(|v| *v *= s2);
        }
        matmul_into(n, &self.a2, &self.a2, &mut self.a4);
        matmul_into(n, &self.a4, &self.a2, &mut self.a6);
        let b = &B13;
        // U = A [A6 (b13 A6 + b11 A4 + b9 A2) + b7 A6 + b5 A4 + b3 A2 + b1 I],
        // V = A6 (b12 A6 + b10 A4 + b8 A2) + b6 A6 + b4 A4 + b2 A2 + b0 I.
        for (((t, &x6), &x4), &x2) in self.t.iter_mut().zip(&self.a6).zip(&self.a4).zip(&self.a2) {
            *t = x6 * b[13] + x4 * b[11] + x2 * b[9];
        }
        matmul_into(n, &self.a6, &self.t, &mut self.u);
        for (((t, &x6), &x4), &x2) in self.t.iter_mut().zip(&self.a6).zip(&self.a4).zip(&self.a2) {
            *t = x6 * b[12] + x4 * b[10] + x2 * b[8];
        }
        matmul_into(n, &self.a6, &self.t, &mut self.v);
        for i in 0..n * n {
            let (x6, x4, x2) = (self.a6[i], self.a4[i], self.a2[i]);
            self.t[i] = self.u[i] + x6 * b[7] + x4 * b[5] + x2 * b[3];
            self.v[i] += x6 * b[6] + x4 * b[4] + x2 * b[2];
        }
        for i in 0..n {
            self.t[i * n + i] += b[1];
            self.v[i * n + i] += b[0];
        }
        // u = (A/2^s)·t; the scaling of A is folded in here.
        matmul_into(n, a, &self.t, &mut self.u);
        if s > 0 {
            self.u.iter_mut().for_each(|v| *v *= scale);
        }
        self.pade_solve(out);
        for _ in 0..s {
            self.t.copy_from_slice(out);
            matmul_into(n, &self.t, &self.t, out);
        }
    }

    /// out = (V − U)⁻¹ (V + U) from `self.u`, `self.v`; NaNs if V − U is singular.
    fn pade_solve(&mut self, out: &mut [f64]) {
        let n = self.n;
        // q = V − U into t (factored in place), p = V + U into out.
        for (((q, p), &v), &u) in self
            .t
            .iter_mut()
            .zip(out.iter_mut())
            .zip(&self.v)
            .zip(&self.u)
        {
            *q = v - u;
            *p = v + u;
        }
        let q = &mut self.t;
        // Column-major LU with partial pivoting.
        for col in 0..n {
            let mut best = col;
            let mut best_abs = q[col * n + col].abs();
            for r in col + 1..n {
                let v = q[col * n + r].abs();
                if v > best_abs {
                    best = r;
                    best_abs = v;
                }
            }
            self.pivots[col] = best;
            if best_abs == 0.0 || !best_abs.is_finite() {
                out.fill(f64::NAN);
                return;
            }
            if best != col {
                for j in 0..n {
                    q.swap(j * n + col, j * n + best);
                }
            }
            let inv = 1.0 / q[col * n + col];
            for r in col + 1..n {
                q[col * n + r] *= inv;
            }
            let (left, right) = q.split_at_mut((col + 1) * n);
            let lcol = &left[col * n + col + 1..(col + 1) * n];
            for j in 0..n - col - 1 {
                let qj = &mut right[j * n..(j + 1) * n];
                let f = qj[col];
                if f != 0.0 {
                    for (x, l) in qj[col + 1..].iter_mut().zip(lcol) {
                        *x -= f * l;
                    }
                }
            }
        }
        for j in 0..n {
            let x = &mut out[j * n..(j + 1) * n];
            for i in 0..n {
                x.swap(i, self.pivots[i]);
            }
            for k in 0..n {
                let xk = x[k];
                if xk != 0.0 {
                    for (xi, l) in x[k + 1..].iter_mut().zip(&q[k * n + k + 1..(k + 1) * n]) {
                        *xi -= xk * l;
                    }
                }
            }
            for k in (0..n).rev() {
                let xk = x[k] / q[k * n + k];
                x[k] = xk;
                if xk != 0.0 {
                    for (xi, u) in x[..k].iter_mut().zip(&q[k * n..k * n + k]) {
                        *xi -= xk * u;
                    }
                }
            }
        }
    }
}

/// The matrix exponential e^A of a square matrix, accurate to about unit roundoff relative to
/// ‖A‖. Non-square or non-finite input gives a NaN matrix of A's shape instead of a panic.
pub fn expm(a: &DMatrix<f64>) -> DMatrix<f64> {
    let n = a.nrows();
    if n != a.ncols() {
        return DMatrix::from_element(a.nrows(), a.ncols(), f64::NAN);
    }
    let mut out = DMatrix::zeros(n, n);
    Expm::new(n).compute(a.as_slice(), out.as_mut_slice());
    out
}

/// Σ aᵢbᵢ in four interleaved partial sums, which the compiler keeps in SIMD lanes (a single
/// running sum must be added in order, one latency at a time). For checks where the last bits
/// do not matter, such as the data checks' Gram–Schmidt.
pub fn dot_lanes(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f64 = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Uniform draws in [0, 1) from a 64-bit linear congruential generator: reproducible test
    /// matrices without a dependency.
    fn uniform(seed: u64) -> impl FnMut() -> f64 {
        let mut state = seed;
        move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    fn max_abs_diff(a: &DMatrix<f64>, b: &DMatrix<f64>) -> f64 {
        (a - b).iter().map(|v| v.abs()).fold(0.0, f64::max)
    }

    #[test]
    fn diagonal_matrix_exponentiates_entrywise() {
        for scale in [1e-3, 0.1, 1.0, 3.0, 20.0] {
            let diag = [1.0, -2.0, 0.5, 0.0];
            let a = DMatrix::from_diagonal(&nalgebra::DVector::from_iterator(
                4,
                diag.iter().map(|v| v * scale),
            ));
            let e = expm(&a);
            for (i, d) in diag.iter().enumerate() {
                let want = (d * scale).exp();
                assert!(
                    (e[(i, i)] - want).abs() <= 1e-13 * want.max(1.0),
                    "{scale} {i}"
                );
            }
            assert!((e.sum() - e.diagonal().sum()).abs() < 1e-12);
        }
    }

    #[test]
    fn nilpotent_matrix_gives_a_finite_series() {
        // N strictly upper triangular: e^N = I + N + N²/2 exactly.
        let n = DMatrix::from_row_slice(3, 3, &[0.0, 2.0, -1.0, 0.0, 0.0, 3.0, 0.0, 0.0, 0.0]);
        let want = DMatrix::identity(3, 3) + &n + &n * &n * 0.5;
        assert!(max_abs_diff(&expm(&n), &want) < 1e-13);
        // A large nilpotent matrix exercises scaling and squaring.
        let big = &n * 100.0;
        let want = DMatrix::identity(3, 3) + &big + &big * &big * 0.5;
        assert!(max_abs_diff(&expm(&big), &want) / 3e4 < 1e-12);
    }

    #[test]
    fn exp_a_times_exp_minus_a_is_identity() {
        let a = DMatrix::from_row_slice(3, 3, &[0.3, -1.2, 0.7, 2.1, -0.4, 0.05, -0.8, 1.5, 0.9]);
        for scale in [0.01, 0.2, 1.0, 2.5] {
            let a = &a * scale;
            let prod = expm(&a) * expm(&(-&a));
            assert!(
                max_abs_diff(&prod, &DMatrix::identity(3, 3)) < 1e-12,
                "{scale}"
            );
        }
    }

    #[test]
    fn rotation_generator_gives_rotation() {
        let t = 0.7f64;
        let a = DMatrix::from_row_slice(2, 2, &[0.0, -t, t, 0.0]);
        let want = DMatrix::from_row_slice(2, 2, &[t.cos(), -t.sin(), t.sin(), t.cos()]);
        assert!(max_abs_diff(&expm(&a), &want) < 1e-14);
    }

    #[test]
    fn nonnegative_matrices_match_nalgebra() {
        // The nonnegative path picks degree and scaling from the norms of powers; compare it
        // with nalgebra's expm on dense, nearly nilpotent and diagonal-heavy inputs.
        let mut next = uniform(12345);
        for n in [1, 3, 8, 20] {
            for scale in [1e-3, 0.05, 0.3, 1.0, 4.0] {
                for nilpotent in [false, true] {
                    let a = DMatrix::from_fn(n, n, |i, j| {
                        let v = next() * scale;
                        if nilpotent && i >= j {
                            0.0
                        } else {
                            v
                        }
                    });
                    let got = expm(&a);
                    let want = a.clone().exp();
                    let tol = 1e-13 * want.iter().fold(1.0f64, |m, v| m.max(v.abs()));
                    assert!(
                        max_abs_diff(&got, &want) <= tol,
                        "n {n} scale {scale} nilpotent {nilpotent}: {}",
                        max_abs_diff(&got, &want)
                    );
                }
            }
        }
    }

    #[test]
    fn bad_input_gives_nan_not_panic() {
        let a = DMatrix::from_row_slice(2, 2, &[f64::INFINITY, 0.0, 0.0, 1.0]);
        assert!(expm(&a).iter().all(|v| v.is_nan()));
        let huge = DMatrix::from_element(2, 2, 1e300);
        assert!(expm(&huge).iter().all(|v| !v.is_finite()));
        assert_eq!(expm(&DMatrix::zeros(0, 0)).len(), 0);
        assert!(expm(&DMatrix::zeros(2, 3)).iter().all(|v| v.is_nan()));
    }

    #[test]
    fn dot_lanes_is_the_dot_product() {
        for n in [0, 1, 3, 4, 5, 9, 1000] {
            let a: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).sin()).collect();
            let b: Vec<f64> = (0..n).map(|i| (i as f64 * 0.11).cos()).collect();
            let plain: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!(
                (dot_lanes(&a, &b) - plain).abs() <= 1e-12 * (1.0 + plain.abs()),
                "n = {n}"
            );
        }
    }

    #[test]
    fn both_products_give_the_bits_of_the_triple_loop() {
        // Sizes around the 4 × 4 blocks, entries of mixed sign and magnitude, a third zeros
        // (which the sparse product skips).
        let mut uniform = uniform(99);
        let mut next = || {
            let u = uniform();
            if u < 0.33 {
                0.0
            } else {
                (u - 0.6) * 10f64.powi((uniform() * 7.0) as i32 - 3)
            }
        };
        for n in [0, 1, 2, 3, 4, 5, 7, 8, 9, 13, 20, 50] {
            let a: Vec<f64> = (0..n * n).map(|_| next()).collect();
            let b: Vec<f64> = (0..n * n).map(|_| next()).collect();
            let mut c = vec![f64::NAN; n * n];
            let mut dense = vec![f64::NAN; n * n];
            matmul_into(n, &a, &b, &mut c);
            matmul_dense_into(n, &a, &b, &mut dense);
            assert_eq!(c, dense, "n = {n}");
            for i in 0..n {
                for j in 0..n {
                    let mut want = 0.0;
                    for k in 0..n {
                        want += a[k * n + i] * b[j * n + k];
                    }
                    assert_eq!(
                        c[j * n + i].to_bits(),
                        want.to_bits(),
                        "n = {n}, ({i}, {j})"
                    );
                }
            }
        }
    }
}
