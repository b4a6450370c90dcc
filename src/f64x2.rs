//! Two f64 lanes in one 128-bit register: SSE2 natively (x86-64's baseline), simd128 in wasm,
//! two plain floats elsewhere. Only lane-wise IEEE arithmetic (never fused; `sqrt` is correctly
//! rounded everywhere), so every target computes the same bits.
//!
//! Hand-written for SDCD's Adam step, whose loop LLVM left scalar (sqrtsd, f64.sqrt) on both
//! targets.

#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::{
    __m128d, _mm_add_pd, _mm_and_pd, _mm_andnot_pd, _mm_cmpgt_pd, _mm_cmplt_pd, _mm_div_pd,
    _mm_loadu_pd, _mm_mul_pd, _mm_set1_pd, _mm_setzero_pd, _mm_sqrt_pd, _mm_storeu_pd, _mm_sub_pd,
};

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use core::arch::wasm32::{
    f64x2_abs, f64x2_add, f64x2_div, f64x2_gt, f64x2_lt, f64x2_mul, f64x2_splat, f64x2_sqrt,
    f64x2_sub, v128, v128_and, v128_load, v128_store,
};

/// Two f64 lanes.
#[derive(Clone, Copy)]
pub struct F2(
    #[cfg(target_arch = "x86_64")] __m128d,
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))] v128,
    #[cfg(not(any(
        target_arch = "x86_64",
        all(target_arch = "wasm32", target_feature = "simd128")
    )))]
    [f64; 2],
);

#[cfg(target_arch = "x86_64")]
impl F2 {
    #[inline(always)]
    pub fn load(a: &[f64; 2]) -> F2 {
        // SAFETY: `a` is 16 readable bytes; the load is unaligned.
        F2(unsafe { _mm_loadu_pd(a.as_ptr()) })
    }
    #[inline(always)]
    pub fn store(self, a: &mut [f64; 2]) {
        // SAFETY: `a` is 16 writable bytes; the store is unaligned.
        unsafe { _mm_storeu_pd(a.as_mut_ptr(), self.0) }
    }
    #[inline(always)]
    pub fn splat(v: f64) -> F2 {
        // SAFETY: SSE2 is part of x86-64's baseline.
        F2(unsafe { _mm_set1_pd(v) })
    }
    #[inline(always)]
    pub fn add(self, o: F2) -> F2 {
        // SAFETY: as above.
        F2(unsafe { _mm_add_pd(self.0, o.0) })
    }
    #[inline(always)]
    pub fn sub(self, o: F2) -> F2 {
        // SAFETY: as above.
        F2(unsafe { _mm_sub_pd(self.0, o.0) })
    }
    #[inline(always)]
    pub fn mul(self, o: F2) -> F2 {
        // SAFETY: as above.
        F2(unsafe { _mm_mul_pd(self.0, o.0) })
    }
    #[inline(always)]
    pub fn div(self, o: F2) -> F2 {
        // SAFETY: as above.
        F2(unsafe { _mm_div_pd(self.0, o.0) })
    }
    #[inline(always)]
    pub fn sqrt(self) -> F2 {
        // SAFETY: as above.
        F2(unsafe { _mm_sqrt_pd(self.0) })
    }
    #[inline(always)]
    pub fn abs(self) -> F2 {
        // SAFETY: as above; clears the sign bits.
        F2(unsafe { _mm_andnot_pd(_mm_set1_pd(-0.0), self.0) })
    }
    #[inline(always)]
    pub fn numpy_sign(self) -> F2 {
        // SAFETY: as above; a comparison's mask ANDed with 1.0 is 1.0 where true, else 0.
        F2(unsafe {
            let (zero, one) = (_mm_setzero_pd(), _mm_set1_pd(1.0));
            _mm_sub_pd(
                _mm_and_pd(_mm_cmpgt_pd(self.0, zero), one),
                _mm_and_pd(_mm_cmplt_pd(self.0, zero), one),
            )
        })
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl F2 {
    #[inline(always)]
    pub fn load(a: &[f64; 2]) -> F2 {
        // SAFETY: `a` is 16 readable bytes; v128.load has no alignment requirement.
        F2(unsafe { v128_load(a.as_ptr().cast()) })
    }
    #[inline(always)]
    pub fn store(self, a: &mut [f64; 2]) {
        // SAFETY: `a` is 16 writable bytes; v128.store has no alignment requirement.
        unsafe { v128_store(a.as_mut_ptr().cast(), self.0) }
    }
    #[inline(always)]
    pub fn splat(v: f64) -> F2 {
        F2(f64x2_splat(v))
    }
    #[inline(always)]
    pub fn add(self, o: F2) -> F2 {
        F2(f64x2_add(self.0, o.0))
    }
    #[inline(always)]
    pub fn sub(self, o: F2) -> F2 {
        F2(f64x2_sub(self.0, o.0))
    }
    #[inline(always)]
    pub fn mul(self, o: F2) -> F2 {
        F2(f64x2_mul(self.0, o.0))
    }
    #[inline(always)]
    pub fn div(self, o: F2) -> F2 {
        F2(f64x2_div(self.0, o.0))
    }
    #[inline(always)]
    pub fn sqrt(self) -> F2 {
        F2(f64x2_sqrt(self.0))
    }
    #[inline(always)]
    pub fn abs(self) -> F2 {
        F2(f64x2_abs(self.0))
    }
    #[inline(always)]
    pub fn numpy_sign(self) -> F2 {
        let (zero, one) = (f64x2_splat(0.0), f64x2_splat(1.0));
        F2(f64x2_sub(
            v128_and(f64x2_gt(self.0, zero), one),
            v128_and(f64x2_lt(self.0, zero), one),
        ))
    }
}

#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
impl F2 {
    #[inline(always)]
    pub fn load(a: &[f64; 2]) -> F2 {
        F2(*a)
    }
    #[inline(always)]
    pub fn store(self, a: &mut [f64; 2]) {
        *a = self.0;
    }
    #[inline(always)]
    pub fn splat(v: f64) -> F2 {
        F2([v; 2])
    }
    #[inline(always)]
    pub fn add(self, o: F2) -> F2 {
        F2([self.0[0] + o.0[0], self.0[1] + o.0[1]])
    }
    #[inline(always)]
    pub fn sub(self, o: F2) -> F2 {
        F2([self.0[0] - o.0[0], self.0[1] - o.0[1]])
    }
    #[inline(always)]
    pub fn mul(self, o: F2) -> F2 {
        F2([self.0[0] * o.0[0], self.0[1] * o.0[1]])
    }
    #[inline(always)]
    pub fn div(self, o: F2) -> F2 {
        F2([self.0[0] / o.0[0], self.0[1] / o.0[1]])
    }
    #[inline(always)]
    pub fn sqrt(self) -> F2 {
        F2(self.0.map(f64::sqrt))
    }
    #[inline(always)]
    pub fn abs(self) -> F2 {
        F2(self.0.map(f64::abs))
    }
    #[inline(always)]
    pub fn numpy_sign(self) -> F2 {
        F2(self.0.map(crate::causal::numpy_sign))
    }
}

/// Beyond the arithmetic: `abs` clears the sign bits; `numpy_sign` is
/// [`crate::causal::numpy_sign`] lane by lane (1, −1, or 0 at ±0 and NaN).
impl F2 {
    #[inline(always)]
    pub fn to_array(self) -> [f64; 2] {
        let mut a = [0.0; 2];
        self.store(&mut a);
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_compute_as_scalars_do() {
        let a = [1.5f64, 2.0e-300];
        let b = [0.1f64, 7.0e10];
        let (x, y) = (F2::load(&a), F2::load(&b));
        assert_eq!(x.add(y).to_array(), [a[0] + b[0], a[1] + b[1]]);
        assert_eq!(x.sub(y).to_array(), [a[0] - b[0], a[1] - b[1]]);
        assert_eq!(x.mul(y).to_array(), [a[0] * b[0], a[1] * b[1]]);
        assert_eq!(x.div(y).to_array(), [a[0] / b[0], a[1] / b[1]]);
        assert_eq!(y.sqrt().to_array(), b.map(f64::sqrt));
        assert_eq!(F2::splat(0.3).to_array(), [0.3; 2]);
        for pair in [[-2.5, 0.0], [-0.0, 3.0], [f64::NAN, -1e-300]] {
            let got = F2::load(&pair);
            assert_eq!(
                got.numpy_sign().to_array(),
                pair.map(crate::causal::numpy_sign)
            );
            let abs = got.abs().to_array();
            assert_eq!(abs.map(f64::to_bits), pair.map(|v| v.abs().to_bits()));
        }
    }
}
