//! `exp`, `ln` and `ln_1p` in plain IEEE-754 arithmetic, for SDCD's training loop and the Infer
//! models' log densities, and branch-free `exp_core` (f64), `exp_core_f32` and `ln_core_f32`
//! for SDCD's vectorized passes (sigmoid, softplus, log of the variance).
//!
//! Hand-written for reproducibility and for speed in wasm: `f64::exp`/`ln`/`ln_1p` come from
//! glibc natively and from Rust's port of musl's libm on wasm32, which round differently in the
//! last place now and then (over thousands of SDCD epochs such differences grow into different
//! graphs, so the page and a native run of the same job disagreed), and whose `exp` and `log` are
//! fdlibm's older code, several times slower in V8 than these. Written out in additions,
//! multiplications, divisions, table lookups and bit operations (no fused multiply-add, which Rust
//! never introduces), these give the same bits on every target. Each is within a few ulps of the
//! correctly rounded result (tests below).

use crate::f32x4::F4;
use std::f64::consts::{LOG2_E, SQRT_2};

/// ln 2 split so that k·LN2_HI is exact for |k| < 2¹¹.
const LN2_HI: f64 = 0.693_147_180_369_123_8;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;

/// Adding 1.5·2⁵² rounds a value below 2⁵¹ to an integer and leaves it in the low mantissa bits.
const SHIFT: f64 = 6_755_399_441_055_744.0;

/// 1/k! for k = 13, 12, …, 0: e^r's Taylor coefficients in Horner order.
const INV_FACTORIALS: [f64; 14] = [
    1.0 / 6_227_020_800.0,
    1.0 / 479_001_600.0,
    1.0 / 39_916_800.0,
    1.0 / 3_628_800.0,
    1.0 / 362_880.0,
    1.0 / 40_320.0,
    1.0 / 5_040.0,
    1.0 / 720.0,
    1.0 / 120.0,
    1.0 / 24.0,
    1.0 / 6.0,
    0.5,
    1.0,
    1.0,
];

/// eˣ for x in [−708, 709] without any branch, so loops over it vectorize (SSE2, simd128):
/// x = k ln 2 + r with |r| ≤ ln 2 / 2, e^r by its Taylor polynomial to degree 13 (remainder
/// < 1e-17 relative), 2^k assembled in the exponent bits. Arguments outside are clamped.
#[inline(always)]
pub fn exp_core(x: f64) -> f64 {
    let x = x.clamp(-708.0, 709.0);
    let y = x * LOG2_E + SHIFT;
    let k = y - SHIFT;
    let r = x - k * LN2_HI - k * LN2_LO;
    let p = INV_FACTORIALS.iter().fold(0.0, |p, &c| p * r + c);
    let ki = (y.to_bits() as i64).wrapping_sub(SHIFT.to_bits() as i64);
    // k ≤ 1023 here (x ≤ 709 < 1023.5 ln 2), so the biased exponent stays below 2047.
    p * f64::from_bits(((ki + 1023) << 52) as u64)
}

/// ln 2 split for single precision (Cephes' `expf`): LN2_HI_F32 has 9 significant bits, so
/// k·LN2_HI_F32 is exact for the |k| ≤ 127 used here.
const LN2_HI_F32: f32 = 355.0 / 512.0;
const LN2_LO_F32: f32 = -2.121_944_4e-4;

/// 1.5·2²³: adding it rounds an f32 below 2²² to an integer in the low mantissa bits.
const SHIFT_F32: f32 = 12_582_912.0;

/// eˣ in single precision for x in [−87, 88] without any branch, so loops over it vectorize
/// four lanes at a time (SSE2, simd128), for SDCD's sigmoid, which runs in f32 as the
/// reference's PyTorch model does: x = k ln 2 + r with |r| ≤ ln 2 / 2, e^r by its Taylor
/// polynomial to degree 7 (remainder < 6e-9 relative, a tenth of f32's ulp), 2^k assembled in
/// the exponent bits. Arguments outside are clamped. Within a few ulps (test below).
#[inline(always)]
pub fn exp_core_f32(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    let y = x * std::f32::consts::LOG2_E + SHIFT_F32;
    let k = y - SHIFT_F32;
    let r = x - k * LN2_HI_F32 - k * LN2_LO_F32;
    // 1/7!, …, 1/0!, rounded to f32.
    let p = INV_FACTORIALS[6..]
        .iter()
        .fold(0.0, |p, &c| p * r + c as f32);
    let ki = (y.to_bits() as i32).wrapping_sub(SHIFT_F32.to_bits() as i32);
    // −126 ≤ k ≤ 127 here, so the biased exponent stays within 1..=254.
    p * f32::from_bits(((ki + 127) << 23) as u32)
}

/// [`exp_core_f32`] on four lanes: the same operations in the same order, so the same bits
/// for every argument but NaN. Written with [`F4`] because LLVM left the scalar loop over it
/// unvectorized (natively and in wasm).
#[inline(always)]
pub(crate) fn exp_core_f32x4(x: F4) -> F4 {
    let x = x.max(F4::splat(-87.0)).min(F4::splat(88.0));
    let shift = F4::splat(SHIFT_F32);
    let y = x.mul(F4::splat(std::f32::consts::LOG2_E)).add(shift);
    let k = y.sub(shift);
    let r = x
        .sub(k.mul(F4::splat(LN2_HI_F32)))
        .sub(k.mul(F4::splat(LN2_LO_F32)));
    // The scalar fold starts at 0·r + 1/7!, which is 1/7! exactly for a finite r.
    let c = &INV_FACTORIALS[6..];
    let p = c[1..].iter().fold(F4::splat(c[0] as f32), |p, &c| {
        p.mul(r).add(F4::splat(c as f32))
    });
    // ((bits(y) − bits(SHIFT_F32)) + 127) << 23, wrapping, as the scalar version computes.
    let bias = 127u32.wrapping_sub(SHIFT_F32.to_bits()) << 23;
    p.mul(y.shl23_add(bias))
}

/// The bits of √½ in f32.
const SQRT_HALF_BITS: u32 = 0x3f35_04f3;

/// ln x in single precision for a positive normal x, without any branch, so loops over it
/// vectorize: x = 2ᵏ·m with m in [√½, √2) taken from the bits, s = (m − 1)/(m + 1) (m − 1 is
/// exact), ln m = 2 atanh(s) by its series to s⁹ (|s| < 0.172: remainder < 3e-10 relative).
/// Within a few ulps (test below); zero, negative, subnormal, infinite and NaN arguments give
/// unspecified values.
#[inline(always)]
pub fn ln_core_f32(x: f32) -> f32 {
    let u = x.to_bits().wrapping_sub(SQRT_HALF_BITS);
    let k = (u as i32 >> 23) as f32;
    let m = f32::from_bits((u & 0x007f_ffff).wrapping_add(SQRT_HALF_BITS));
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let p = 1.0 / 9.0;
    let p = p * s2 + 1.0 / 7.0;
    let p = p * s2 + 1.0 / 5.0;
    let p = p * s2 + 1.0 / 3.0;
    let p = p * s2 + 1.0;
    k * LN2_HI_F32 + (2.0 * s * p + k * LN2_LO_F32)
}

/// [`ln_core_f32`] on four lanes: the same operations in the same order, so the same bits.
#[inline(always)]
pub(crate) fn ln_core_f32x4(x: F4) -> F4 {
    let u = x.bits_add(SQRT_HALF_BITS.wrapping_neg());
    let k = u.sra23_to_f32();
    let m = u.bits_and(0x007f_ffff).bits_add(SQRT_HALF_BITS);
    let one = F4::splat(1.0);
    let s = m.sub(one).div(m.add(one));
    let s2 = s.mul(s);
    let p = [1.0 / 7.0, 1.0 / 5.0, 1.0 / 3.0, 1.0]
        .iter()
        .fold(F4::splat(1.0 / 9.0), |p, &c| p.mul(s2).add(F4::splat(c)));
    k.mul(F4::splat(LN2_HI_F32)).add(
        F4::splat(2.0)
            .mul(s)
            .mul(p)
            .add(k.mul(F4::splat(LN2_LO_F32))),
    )
}

/// (k, m) with x = 2ᵏ·m and m in [√½, √2), for a positive normal x.
#[inline(always)]
fn split(x: f64) -> (i64, f64) {
    let bits = x.to_bits();
    let k = ((bits >> 52) as i64) - 1023;
    let m = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | 0x3ff0_0000_0000_0000);
    if m > SQRT_2 {
        (k + 1, m * 0.5)
    } else {
        (k, m)
    }
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

/// eˣ by Tang's table method: x = (64i + j) ln 2 / 64 + r with |r| ≤ ln 2 / 128, eˣ = 2ⁱ ·
/// 2^(j/64) · e^r with e^r − 1 by its Taylor polynomial to degree 6 (remainder < 1e-19).
/// Within one ulp (tests). In wasm (V8) several times faster than Rust's libm, whose `exp` is
/// fdlibm's, with a division; natively a little slower than glibc's, which uses fused
/// multiply-add. Above 709.78 it overflows to +∞, below −745.2 it underflows to 0, NaN gives
/// NaN, and results below the normal range (x < −708) are left to `f64::exp`.
#[inline]
pub fn exp(x: f64) -> f64 {
    if !(-708.0..=709.0).contains(&x) {
        return if x > 709.782_712_893_384 {
            f64::INFINITY
        } else if x > 709.0 {
            // 2^1023 overflows the exponent trick: e^x = e^(x − 1)·e.
            exp_core(x - 1.0) * std::f64::consts::E
        } else {
            x.exp()
        };
    }
    // 64/ln 2, and ln 2/64 split as LN2_HI (whose 32 significant bits make k·LN2_HI/64 exact
    // for |k| < 2²¹) plus LN2_LO.
    const INV_LN2_64: f64 = 64.0 * LOG2_E;
    let kd = x * INV_LN2_64 + SHIFT;
    let k = (kd.to_bits() as i64).wrapping_sub(SHIFT.to_bits() as i64);
    let kd = kd - SHIFT;
    let r = (x - kd * (LN2_HI / 64.0)) - kd * (LN2_LO / 64.0);
    let r2 = r * r;
    let p = r + r2
        * ((0.5 + r * (1.0 / 6.0)) + r2 * (1.0 / 24.0 + r * (1.0 / 120.0) + r2 * (1.0 / 720.0)));
    // |k| ≤ 65 460 here, so i = k >> 6 is in [−1022, 1022] and 2ⁱ·2^(j/64) is normal.
    let t = EXP2_64THS[(k & 63) as usize];
    let scale = f64::from_bits(t.to_bits().wrapping_add(((k >> 6) as u64) << 52));
    scale + scale * p
}

/// ln x: x = 2ᵏ·m with m in [√½, √2), c = n/64 the nearest 64th to m, ln m = ln c +
/// 2 atanh(s) with s = (m − c)/(m + c), |s| < 1/180, by its series to s⁹. m − c is exact and
/// c = 1 near m = 1, so no cancellation near x = 1. Within two ulps (tests); in wasm several
/// times faster than Rust's libm. Zero, negative, subnormal, infinite and NaN arguments are left
/// to `f64::ln` (−∞, NaN, ...).
#[inline]
pub fn ln(x: f64) -> f64 {
    if !(f64::MIN_POSITIVE..f64::INFINITY).contains(&x) {
        return x.ln();
    }
    let (k, m) = split(x);
    // n = round(64 m) in 45..=91.
    let nd = m * 64.0 + SHIFT;
    let n = (nd.to_bits() as i64).wrapping_sub(SHIFT.to_bits() as i64);
    let c = (nd - SHIFT) * (1.0 / 64.0);
    let s = (m - c) / (m + c);
    let z = s * s;
    let two_s = 2.0 * s;
    let atanh2 =
        two_s + two_s * z * (1.0 / 3.0 + z * (1.0 / 5.0 + z * (1.0 / 7.0 + z * (1.0 / 9.0))));
    let dk = k as f64;
    dk * LN2_HI + ((LN_64THS[((n - 32) & 63) as usize] + atanh2) + dk * LN2_LO)
}

/// 2^(j/64) for j = 0..64, each rounded to nearest (computed with Python's `decimal` at 50
/// digits: `float(Decimal(2) ** (Decimal(j) / 64))`).
// Generated values; some equal named constants (2^(32/64) = √2), which is no mistake.
#[allow(clippy::approx_constant)]
const EXP2_64THS: [f64; 64] = [
    1.0,
    1.0108892860517005,
    1.0218971486541166,
    1.0330248790212284,
    1.0442737824274138,
    1.0556451783605572,
    1.0671404006768237,
    1.0787607977571199,
    1.0905077326652577,
    1.102382583307841,
    1.1143867425958924,
    1.1265216186082418,
    1.1387886347566916,
    1.1511892299529827,
    1.1637248587775775,
    1.1763969916502812,
    1.189207115002721,
    1.202156731452703,
    1.215247359980469,
    1.22848053610687,
    1.241857812073484,
    1.255380757024691,
    1.2690509571917332,
    1.2828700160787783,
    1.2968395546510096,
    1.3109612115247644,
    1.3252366431597413,
    1.339667524053303,
    1.3542555469368927,
    1.3690024229745905,
    1.383909881963832,
    1.3989796725383112,
    1.4142135623730951,
    1.42961333839197,
    1.4451808069770467,
    1.460917794180647,
    1.4768261459394993,
    1.4929077282912648,
    1.5091644275934228,
    1.5255981507445384,
    1.5422108254079407,
    1.559004400237837,
    1.5759808451078865,
    1.593142151342267,
    1.6104903319492543,
    1.6280274218573478,
    1.645755478153965,
    1.6636765803267364,
    1.681792830507429,
    1.7001063537185235,
    1.718619298122478,
    1.7373338352737062,
    1.7562521603732995,
    1.7753764925265212,
    1.7947090750031072,
    1.8142521755003989,
    1.8340080864093424,
    1.8539791250833855,
    1.8741676341103,
    1.8945759815869656,
    1.9152065613971474,
    1.9360617934922943,
    1.9571441241754002,
    1.978456026387951,
];

/// ln(n/64) for n = 32..96 (index n − 32), each rounded to nearest (`decimal` at 50 digits:
/// `float((Decimal(n) / 64).ln())`); [`ln`] uses n = 45..=91.
#[allow(clippy::approx_constant)] // ln(32/64) = −ln 2
const LN_64THS: [f64; 64] = [
    -0.6931471805599453,
    -0.6623755218931916,
    -0.6325225587435105,
    -0.6035350218702582,
    -0.5753641449035618,
    -0.5479651707154474,
    -0.5212969236332861,
    -0.4953214372300254,
    -0.4700036292457356,
    -0.44531101665536404,
    -0.42121346507630353,
    -0.39768296766610944,
    -0.3746934494414107,
    -0.3522205935893521,
    -0.33024168687057687,
    -0.3087354816496133,
    -0.2876820724517809,
    -0.26706278524904525,
    -0.24686007793152578,
    -0.22705745063534608,
    -0.2076393647782445,
    -0.18859116980755003,
    -0.16989903679539747,
    -0.15154989812720093,
    -0.13353139262452263,
    -0.1158318155251217,
    -0.09844007281325252,
    -0.0813456394539524,
    -0.06453852113757118,
    -0.048009219186360606,
    -0.0317486983145803,
    -0.015748356968139168,
    0.0,
    0.015504186535965254,
    0.030771658666753687,
    0.0458095360312942,
    0.06062462181643484,
    0.07522342123758753,
    0.08961215868968714,
    0.10379679368164356,
    0.11778303565638346,
    0.13157635778871926,
    0.1451820098444979,
    0.15860503017663857,
    0.17185025692665923,
    0.184922338494012,
    0.19782574332991987,
    0.21056476910734964,
    0.22314355131420976,
    0.2355660713127669,
    0.24783616390458127,
    0.25995752443692605,
    0.27193371548364176,
    0.2837681731306446,
    0.2954642128938359,
    0.3070250352949119,
    0.3184537311185346,
    0.329753286372468,
    0.3409265869705932,
    0.3519764231571782,
    0.3629054936893685,
    0.37371640979358406,
    0.38441169891033206,
    0.394993808240869,
];

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn single_precision_exp_is_within_a_few_ulps() {
        let mut rng = ChaCha8Rng::seed_from_u64(11);
        let mut worst: f64 = 0.0;
        let edges = [-87.0f32, -50.0, -1.0, -0.3466, 0.0, 0.3466, 1.0, 20.0, 88.0];
        let draws = (0..200_000).map(|i| {
            if i % 2 == 0 {
                rng.random_range(-87.0f32..88.0)
            } else {
                rng.random_range(-1.0f32..1.0)
            }
        });
        for x in draws.chain(edges) {
            let got = exp_core_f32(x) as f64;
            let want = (x as f64).exp();
            // f32's ulp at want, from the f32 nearest to it.
            let ulp = (want as f32).abs() as f64 * f32::EPSILON as f64;
            worst = worst.max((got - want).abs() / ulp);
        }
        assert!(worst <= 4.0, "worst {worst} ulps");
        // Clamped outside [−87, 88]: finite, positive, monotone at the ends.
        assert!(exp_core_f32(-200.0) > 0.0 && exp_core_f32(-200.0) < 1e-37);
        assert!(exp_core_f32(200.0).is_finite() && exp_core_f32(200.0) > 1e38);
    }

    #[test]
    fn four_lane_exp_gives_the_scalar_bits() {
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let mut xs: Vec<f32> = vec![
            -1e30,
            -88.0,
            -87.0,
            -86.9,
            -0.3466,
            -0.0,
            0.0,
            1e-30,
            0.3466,
            87.9,
            88.0,
            88.5,
            1e30,
            f32::INFINITY,
            f32::NEG_INFINITY,
        ];
        xs.extend((0..100_000).map(|i| match i % 3 {
            0 => rng.random_range(-90.0f32..90.0),
            1 => rng.random_range(-1.0f32..1.0),
            _ => rng.random_range(-1e-3f32..1e-3),
        }));
        same_bits_in_four_lanes(xs, exp_core_f32x4, exp_core_f32);
    }

    /// Asserts that `four` gives `one`'s bits on every x of `xs`, four at a time.
    fn same_bits_in_four_lanes(mut xs: Vec<f32>, four: fn(F4) -> F4, one: fn(f32) -> f32) {
        xs.resize(xs.len().div_ceil(4) * 4, 0.5);
        for q in xs.chunks_exact(4) {
            let q: [f32; 4] = q.try_into().unwrap();
            for (g, x) in four(F4::load(&q)).to_array().iter().zip(q) {
                assert_eq!(g.to_bits(), one(x).to_bits(), "x = {x:e}");
            }
        }
    }

    #[test]
    fn four_lane_ln_gives_the_scalar_bits() {
        let mut rng = ChaCha8Rng::seed_from_u64(13);
        let mut xs: Vec<f32> = vec![
            f32::MIN_POSITIVE,
            1e-30,
            0.5,
            // Either side of the split at √½, and √2.
            f32::from_bits(SQRT_HALF_BITS - 1),
            f32::from_bits(SQRT_HALF_BITS),
            f32::from_bits(SQRT_HALF_BITS + 1),
            1.0,
            std::f32::consts::SQRT_2,
            2.0,
            1e30,
            f32::MAX,
        ];
        xs.extend((0..100_000).map(|i| match i % 3 {
            0 => 2f32.powf(rng.random_range(-126.0f32..127.0)),
            1 => rng.random_range(0.5f32..2.0),
            _ => 1.0 + rng.random_range(-1e-3f32..1e-3),
        }));
        same_bits_in_four_lanes(xs, ln_core_f32x4, ln_core_f32);
    }

    #[test]
    fn single_precision_ln_is_within_a_few_ulps() {
        let mut rng = ChaCha8Rng::seed_from_u64(12);
        let mut worst: f64 = 0.0;
        let edges = [
            f32::MIN_POSITIVE,
            0.5,
            std::f32::consts::FRAC_1_SQRT_2,
            0.999_999_9,
            1.0,
            1.000_000_1,
            std::f32::consts::SQRT_2,
            2.0,
            3.0e38,
        ];
        let draws = (0..200_000).map(|i| match i % 3 {
            0 => rng.random_range(0.5f32..2.0),
            1 => rng.random_range(-80.0f32..80.0).exp(),
            _ => 1.0 + rng.random_range(-1e-3f32..1e-3),
        });
        for x in draws.chain(edges) {
            let got = ln_core_f32(x) as f64;
            let want = (x as f64).ln();
            // In ulps of the result, or of 2⁻²⁴ near x = 1 where ln x is near 0 (x itself is
            // only known to 2⁻²⁴ relative there).
            let ulp = ((want as f32).abs() as f64 * f32::EPSILON as f64).max(2f64.powi(-24));
            worst = worst.max((got - want).abs() / ulp);
        }
        assert!(worst <= 4.0, "worst {worst} ulps");
        assert_eq!(ln_core_f32(1.0), 0.0);
    }

    /// Distance in units of the last place of `want`.
    fn ulps(got: f64, want: f64) -> f64 {
        if got == want {
            return 0.0;
        }
        (got - want).abs() / (want.abs() * f64::EPSILON).max(f64::MIN_POSITIVE)
    }

    /// The worst distance of [`exp`] from `f64::exp` over `n` uniform draws from `wide` and `n`
    /// from (−`small`, `small`), and over `edges`.
    fn exp_worst_ulps(seed: u64, n: usize, wide: (f64, f64), small: f64, edges: &[f64]) -> f64 {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut worst: f64 = 0.0;
        for _ in 0..n {
            let x = rng.random_range(wide.0..wide.1);
            worst = worst.max(ulps(exp(x), x.exp()));
            let x = rng.random_range(-small..small);
            worst = worst.max(ulps(exp(x), x.exp()));
        }
        for &x in edges {
            worst = worst.max(ulps(exp(x), x.exp()));
        }
        worst
    }

    #[test]
    fn exp_is_within_two_ulps_of_std() {
        let worst = exp_worst_ulps(
            1,
            200_000,
            (-708.0, 709.78),
            1.0,
            &[
                -708.0, -1e-300, 0.0, 1e-300, 0.346, -0.346, 1.0, 709.0, 709.5, 709.78,
            ],
        );
        assert!(worst <= 2.0, "{worst} ulps");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(710.0), f64::INFINITY);
        assert_eq!(exp(-800.0), 0.0);
        assert_eq!(exp(-720.0), (-720f64).exp());
        assert!(exp(f64::NAN).is_nan());
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp(f64::INFINITY), f64::INFINITY);
    }

    /// Checks the special values of an `ln` and returns its worst distance from `f64::ln` over
    /// `n` log-uniform draws across the normal range, `n` around 1 and `n` very near 1, and edge
    /// cases.
    fn ln_worst_ulps(ln: fn(f64) -> f64, seed: u64, n: usize) -> f64 {
        assert_eq!(ln(1.0), 0.0);
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
        assert!(ln(-1.0).is_nan());
        assert_eq!(ln(f64::INFINITY), f64::INFINITY);
        assert!(ln(f64::NAN).is_nan());
        assert_eq!(ln(1e-310), 1e-310f64.ln());
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut worst: f64 = 0.0;
        for _ in 0..n {
            let x = 2f64.powf(rng.random_range(-1021.0..1023.0));
            worst = worst.max(ulps(ln(x), x.ln()));
            let y = 1.0 + rng.random_range(-0.3..0.3);
            worst = worst.max(ulps(ln(y), y.ln()));
            let near_one = 1.0 + rng.random_range(-1e-6..1e-6);
            worst = worst.max(ulps(ln(near_one), near_one.ln()));
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
        worst
    }

    #[test]
    fn ln_is_within_two_ulps_of_std() {
        for (seed, n) in [(2, 200_000), (5, 400_000)] {
            let worst = ln_worst_ulps(ln, seed, n);
            assert!(worst <= 2.0, "{worst} ulps");
        }
    }

    #[test]
    fn exp_is_within_one_ulp_of_std_on_a_second_sample() {
        let worst = exp_worst_ulps(
            4,
            400_000,
            (-708.0, 709.0),
            3.0,
            &[-708.0, -1e-300, 0.0, 1e-300, 0.0054, -0.0054, 1.0, 709.0],
        );
        assert!(worst <= 1.0, "{worst} ulps");
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(1.0), std::f64::consts::E);
        assert_eq!(exp(710.0), f64::INFINITY);
        assert_eq!(exp(-720.0), (-720f64).exp());
        assert!(exp(f64::NAN).is_nan());
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
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
