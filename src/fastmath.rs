//! `exp`, `ln` and `ln_1p` in plain IEEE-754 arithmetic, for SDCD's training loop.
//!
//! Hand-written for reproducibility, not speed: `f64::exp`/`ln`/`ln_1p` come from glibc natively
//! and from Rust's port of musl's libm on wasm32, which round differently in the last place now
//! and then; over thousands of SDCD epochs such differences grow into different graphs, so the
//! page and a native run of the same job disagreed. Written out in additions, multiplications,
//! divisions and bit operations (no fused multiply-add, which Rust never introduces), these give
//! the same bits on every target. Each is within a few ulps of the correctly rounded result
//! (tests below).

use std::f64::consts::{LOG2_E, SQRT_2};

/// ln 2 split so that k·LN2_HI is exact for |k| < 2¹¹.
const LN2_HI: f64 = 0.693_147_180_369_123_8;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;

/// eˣ. Above 709.78 it overflows to +∞, below −745.2 it underflows to 0, NaN gives NaN, and
/// results below the normal range (x < −708) are left to `f64::exp`.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    if (-708.0..=709.0).contains(&x) {
        // 709 < ln(f64::MAX) ≈ 709.78: the clamp in `exp_core` does not bind.
        exp_core(x)
    } else if x > 709.0 {
        if x > 709.782_712_893_384 {
            f64::INFINITY
        } else {
            // 2^1023 overflows the exponent trick below: e^x = e^(x − 1)·e.
            exp_core(x - 1.0) * std::f64::consts::E
        }
    } else {
        x.exp()
    }
}

/// eˣ for x in [−708, 709] without any branch, so loops over it vectorize (SSE2, simd128):
/// x = k ln 2 + r with |r| ≤ ln 2 / 2, e^r by its Taylor polynomial to degree 13 (remainder
/// < 1e-17 relative), 2^k assembled in the exponent bits. Arguments outside are clamped.
#[inline(always)]
pub fn exp_core(x: f64) -> f64 {
    // Adding 1.5·2⁵² rounds to an integer and leaves it in the low mantissa bits.
    const SHIFT: f64 = 6_755_399_441_055_744.0;
    let x = x.clamp(-708.0, 709.0);
    let y = x * LOG2_E + SHIFT;
    let k = y - SHIFT;
    let r = x - k * LN2_HI - k * LN2_LO;
    let p = 1.0 / 6_227_020_800.0;
    let p = p * r + 1.0 / 479_001_600.0;
    let p = p * r + 1.0 / 39_916_800.0;
    let p = p * r + 1.0 / 3_628_800.0;
    let p = p * r + 1.0 / 362_880.0;
    let p = p * r + 1.0 / 40_320.0;
    let p = p * r + 1.0 / 5_040.0;
    let p = p * r + 1.0 / 720.0;
    let p = p * r + 1.0 / 120.0;
    let p = p * r + 1.0 / 24.0;
    let p = p * r + 1.0 / 6.0;
    let p = p * r + 0.5;
    let p = p * r + 1.0;
    let p = p * r + 1.0;
    let ki = (y.to_bits() as i64).wrapping_sub(SHIFT.to_bits() as i64);
    // k ≤ 1023 here (x ≤ 709 < 1023.5 ln 2), so the biased exponent stays below 2047.
    p * f64::from_bits(((ki + 1023) << 52) as u64)
}

/// ln x. Zero, negative, subnormal, infinite and NaN arguments are left to `f64::ln` (−∞,
/// NaN, ...). x = 2^k·m with m in [√½, √2), and ln m = 2 atanh(s) with s = (m − 1)/(m + 1),
/// |s| ≤ 0.172, by its series 2s·Σ s²ʲ/(2j + 1) to j = 11 (remainder < 1e-18 relative).
#[inline(always)]
pub fn ln(x: f64) -> f64 {
    if !(f64::MIN_POSITIVE..f64::INFINITY).contains(&x) {
        return x.ln();
    }
    let bits = x.to_bits();
    let mut k = ((bits >> 52) as i64) - 1023;
    let mut m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > SQRT_2 {
        m *= 0.5;
        k += 1;
    }
    let f = m - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let p = 1.0 / 23.0;
    let p = p * z + 1.0 / 21.0;
    let p = p * z + 1.0 / 19.0;
    let p = p * z + 1.0 / 17.0;
    let p = p * z + 1.0 / 15.0;
    let p = p * z + 1.0 / 13.0;
    let p = p * z + 1.0 / 11.0;
    let p = p * z + 1.0 / 9.0;
    let p = p * z + 1.0 / 7.0;
    let p = p * z + 1.0 / 5.0;
    let p = p * z + 1.0 / 3.0;
    // ln m = 2s + 2s·z·p, and 2s = f − s·f exactly in real arithmetic: written so that the
    // leading term is f itself, which is exact.
    let ln_m = f - s * f + 2.0 * s * z * p;
    let dk = k as f64;
    dk * LN2_HI + (ln_m + dk * LN2_LO)
}

/// ln(1 + x), accurate for small x too: with u = 1 + x rounded, ln(u)·x/(u − 1) corrects the
/// rounding of u (Goldberg 1991, "What every computer scientist should know about
/// floating-point arithmetic", Theorem 4).
#[inline(always)]
pub fn ln_1p(x: f64) -> f64 {
    let u = 1.0 + x;
    if u == 1.0 {
        x
    } else if u == f64::INFINITY || u <= 0.0 || x.is_nan() {
        x.ln_1p()
    } else {
        ln(u) * (x / (u - 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// Distance in units of the last place of `want`.
    fn ulps(got: f64, want: f64) -> f64 {
        if got == want {
            return 0.0;
        }
        (got - want).abs() / (want.abs() * f64::EPSILON).max(f64::MIN_POSITIVE)
    }

    #[test]
    fn exp_is_within_two_ulps_of_std() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut worst: f64 = 0.0;
        for _ in 0..200_000 {
            let x = rng.random_range(-708.0..709.78);
            worst = worst.max(ulps(exp(x), x.exp()));
            let small = rng.random_range(-1.0..1.0);
            worst = worst.max(ulps(exp(small), small.exp()));
        }
        for x in [
            -708.0, -1e-300, 0.0, 1e-300, 0.346, -0.346, 1.0, 709.0, 709.5, 709.78,
        ] {
            worst = worst.max(ulps(exp(x), x.exp()));
        }
        assert!(worst <= 2.0, "{worst} ulps");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(710.0), f64::INFINITY);
        assert_eq!(exp(-800.0), 0.0);
        assert_eq!(exp(-720.0), (-720f64).exp());
        assert!(exp(f64::NAN).is_nan());
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
    }

    #[test]
    fn ln_is_within_two_ulps_of_std() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        let mut worst: f64 = 0.0;
        for _ in 0..200_000 {
            // Log-uniform over the normal range, and densely around 1.
            let x = 2f64.powf(rng.random_range(-1021.0..1023.0));
            worst = worst.max(ulps(ln(x), x.ln()));
            let y = 1.0 + rng.random_range(-0.3..0.3);
            worst = worst.max(ulps(ln(y), y.ln()));
        }
        for x in [
            f64::MIN_POSITIVE,
            0.5,
            SQRT_2,
            1.0 - 1e-15,
            1.0 + 1e-15,
            2.0,
            f64::MAX,
        ] {
            worst = worst.max(ulps(ln(x), x.ln()));
        }
        assert!(worst <= 2.0, "{worst} ulps");
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert!(ln(-1.0).is_nan());
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
        assert!(ln(f64::NAN).is_nan());
        assert_eq!(ln(1e-310), 1e-310f64.ln());
    }

    #[test]
    fn ln_1p_is_within_four_ulps_of_std() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let mut worst: f64 = 0.0;
        for _ in 0..200_000 {
            // e^z for the softplus arguments z in [−40, 20], and tiny and moderate x.
            let z: f64 = rng.random_range(-40.0..20.0);
            let x = z.exp();
            worst = worst.max(ulps(ln_1p(x), x.ln_1p()));
            let y = rng.random_range(-0.9..10.0);
            worst = worst.max(ulps(ln_1p(y), y.ln_1p()));
        }
        assert!(worst <= 4.0, "{worst} ulps");
        assert_eq!(ln_1p(0.0), 0.0);
        assert_eq!(ln_1p(1e-300), 1e-300);
        assert_eq!(ln_1p(-1.0), f64::NEG_INFINITY);
        assert!(ln_1p(-2.0).is_nan());
        assert_eq!(ln_1p(f64::INFINITY), f64::INFINITY);
    }
}
