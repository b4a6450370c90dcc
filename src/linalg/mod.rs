//! Dense matrix routines the learners need: the matrix exponential (for NOTEARS' acyclicity).
//!
//! nalgebra 0.34 has `DMatrix::exp()`, but its degree selection converts an estimate that can be
//! `inf` for large finite inputs into a `u64` squaring count (saturating, then looping ~2^64
//! times), and it unwraps an LU solve. An optimizer's trial steps do produce such inputs, so
//! this module implements Higham's (2005) scaling and squaring with Padé degrees 3–13 itself,
//! with no panics: non-finite input or a singular Padé denominator yields a NaN matrix, which
//! the callers treat as "step too far".

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

/// The matrix exponential e^A of a square matrix, accurate to about unit roundoff relative to
/// ‖A‖. Non-square or non-finite input gives a NaN matrix of A's shape instead of a panic.
pub fn expm(a: &DMatrix<f64>) -> DMatrix<f64> {
    let n = a.nrows();
    if n != a.ncols() || a.iter().any(|v| !v.is_finite()) {
        return DMatrix::from_element(a.nrows(), a.ncols(), f64::NAN);
    }
    if n == 0 {
        return DMatrix::zeros(0, 0);
    }
    let norm = norm1(a);
    let ident = DMatrix::<f64>::identity(n, n);
    let a2 = a * a;
    for &(m, theta) in &THETA[..4] {
        if norm <= theta {
            let b: &[f64] = match m {
                3 => &B3,
                5 => &B5,
                7 => &B7,
                _ => &B9,
            };
            // Even powers A^0, A^2, ..., A^(m-1) feed both U (odd coefficients) and V (even).
            let mut u = &ident * b[1];
            let mut v = &ident * b[0];
            let mut power = ident.clone();
            for k in 1..=(m / 2) {
                power = if k == 1 { a2.clone() } else { &power * &a2 };
                u += &power * b[2 * k + 1];
                v += &power * b[2 * k];
            }
            let u = a * u;
            return pade_solve(&u, &v);
        }
    }
    // Scale so that ‖A/2^s‖ ≤ θ_13; the norm is finite so s is at most about 1030.
    let theta13 = THETA[4].1;
    let s = if norm > theta13 {
        (norm / theta13).log2().ceil().max(0.0) as i32
    } else {
        0
    };
    let scale = 0.5f64.powi(s);
    // Powers of the scaled matrix: (A/2^s)^2 = A^2 / 4^s.
    let a1 = a * scale;
    let a2 = a2 * (scale * scale);
    let a4 = &a2 * &a2;
    let a6 = &a4 * &a2;
    let b = &B13;
    let u_inner = &a6 * (&a6 * b[13] + &a4 * b[11] + &a2 * b[9])
        + &a6 * b[7]
        + &a4 * b[5]
        + &a2 * b[3]
        + &ident * b[1];
    let u = &a1 * u_inner;
    let v = &a6 * (&a6 * b[12] + &a4 * b[10] + &a2 * b[8])
        + &a6 * b[6]
        + &a4 * b[4]
        + &a2 * b[2]
        + &ident * b[0];
    let mut r = pade_solve(&u, &v);
    for _ in 0..s {
        r = &r * &r;
    }
    r
}

/// r_m = (V − U)⁻¹ (V + U); NaNs if the denominator is singular (it is not for ‖A‖ ≤ θ_m).
fn pade_solve(u: &DMatrix<f64>, v: &DMatrix<f64>) -> DMatrix<f64> {
    let p = v + u;
    let q = v - u;
    q.lu()
        .solve(&p)
        .unwrap_or_else(|| DMatrix::from_element(u.nrows(), u.ncols(), f64::NAN))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn bad_input_gives_nan_not_panic() {
        let a = DMatrix::from_row_slice(2, 2, &[f64::INFINITY, 0.0, 0.0, 1.0]);
        assert!(expm(&a).iter().all(|v| v.is_nan()));
        let huge = DMatrix::from_element(2, 2, 1e300);
        assert!(expm(&huge).iter().all(|v| !v.is_finite()));
        assert_eq!(expm(&DMatrix::zeros(0, 0)).len(), 0);
        assert!(expm(&DMatrix::zeros(2, 3)).iter().all(|v| v.is_nan()));
    }
}
