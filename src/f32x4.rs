//! Four f32 lanes in one 128-bit register: SSE natively (x86-64's baseline), simd128 in wasm,
//! four plain floats elsewhere. Only lane-wise IEEE addition and multiplication (never fused),
//! so every target computes the same bits.
//!
//! Hand-written for SDCD's register-blocked kernels: written as loops over arrays, LLVM either
//! kept the blocks' accumulators in memory or vectorized the wrong dimension and shuffled (tried
//! and measured slower), and `std::simd` is not stable.

#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::{
    __m128, _mm_add_ps, _mm_loadu_ps, _mm_mul_ps, _mm_set1_ps, _mm_storeu_ps, _mm_sub_ps,
};

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use core::arch::wasm32::{
    f32x4_add, f32x4_mul, f32x4_splat, f32x4_sub, v128, v128_load, v128_store,
};

/// Four f32 lanes.
#[derive(Clone, Copy)]
pub struct F4(
    #[cfg(target_arch = "x86_64")] __m128,
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))] v128,
    #[cfg(not(any(
        target_arch = "x86_64",
        all(target_arch = "wasm32", target_feature = "simd128")
    )))]
    [f32; 4],
);

#[cfg(target_arch = "x86_64")]
impl F4 {
    #[inline(always)]
    pub fn load(a: &[f32; 4]) -> F4 {
        // SAFETY: `a` is 16 readable bytes; the load is unaligned.
        F4(unsafe { _mm_loadu_ps(a.as_ptr()) })
    }
    #[inline(always)]
    pub fn store(self, a: &mut [f32; 4]) {
        // SAFETY: `a` is 16 writable bytes; the store is unaligned.
        unsafe { _mm_storeu_ps(a.as_mut_ptr(), self.0) }
    }
    #[inline(always)]
    pub fn splat(v: f32) -> F4 {
        // SAFETY: SSE is part of x86-64's baseline.
        F4(unsafe { _mm_set1_ps(v) })
    }
    #[inline(always)]
    pub fn add(self, o: F4) -> F4 {
        // SAFETY: as above.
        F4(unsafe { _mm_add_ps(self.0, o.0) })
    }
    #[inline(always)]
    pub fn sub(self, o: F4) -> F4 {
        // SAFETY: as above.
        F4(unsafe { _mm_sub_ps(self.0, o.0) })
    }
    #[inline(always)]
    pub fn mul(self, o: F4) -> F4 {
        // SAFETY: as above.
        F4(unsafe { _mm_mul_ps(self.0, o.0) })
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl F4 {
    #[inline(always)]
    pub fn load(a: &[f32; 4]) -> F4 {
        // SAFETY: `a` is 16 readable bytes; v128.load has no alignment requirement.
        F4(unsafe { v128_load(a.as_ptr().cast()) })
    }
    #[inline(always)]
    pub fn store(self, a: &mut [f32; 4]) {
        // SAFETY: `a` is 16 writable bytes; v128.store has no alignment requirement.
        unsafe { v128_store(a.as_mut_ptr().cast(), self.0) }
    }
    #[inline(always)]
    pub fn splat(v: f32) -> F4 {
        F4(f32x4_splat(v))
    }
    #[inline(always)]
    pub fn add(self, o: F4) -> F4 {
        F4(f32x4_add(self.0, o.0))
    }
    #[inline(always)]
    pub fn sub(self, o: F4) -> F4 {
        F4(f32x4_sub(self.0, o.0))
    }
    #[inline(always)]
    pub fn mul(self, o: F4) -> F4 {
        F4(f32x4_mul(self.0, o.0))
    }
}

#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
impl F4 {
    #[inline(always)]
    pub fn load(a: &[f32; 4]) -> F4 {
        F4(*a)
    }
    #[inline(always)]
    pub fn store(self, a: &mut [f32; 4]) {
        *a = self.0;
    }
    #[inline(always)]
    pub fn splat(v: f32) -> F4 {
        F4([v; 4])
    }
    #[inline(always)]
    pub fn add(self, o: F4) -> F4 {
        F4(std::array::from_fn(|l| self.0[l] + o.0[l]))
    }
    #[inline(always)]
    pub fn sub(self, o: F4) -> F4 {
        F4(std::array::from_fn(|l| self.0[l] - o.0[l]))
    }
    #[inline(always)]
    pub fn mul(self, o: F4) -> F4 {
        F4(std::array::from_fn(|l| self.0[l] * o.0[l]))
    }
}

impl F4 {
    /// Loads lanes `at..at + 4` of `s`.
    #[inline(always)]
    pub fn at(s: &[f32], at: usize) -> F4 {
        F4::load(s[at..at + 4].try_into().unwrap())
    }
    /// Stores into lanes `at..at + 4` of `s`.
    #[inline(always)]
    pub fn put(self, s: &mut [f32], at: usize) {
        self.store((&mut s[at..at + 4]).try_into().unwrap())
    }
    #[inline(always)]
    pub fn to_array(self) -> [f32; 4] {
        let mut a = [0.0; 4];
        self.store(&mut a);
        a
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_add_and_multiply_as_scalars_do() {
        let a = [1.5f32, -2.25, 3.0e-7, 1.0e30];
        let b = [0.1f32, 7.0, -3.0e-7, 1.0e10];
        let (x, y) = (F4::load(&a), F4::load(&b));
        assert_eq!(x.add(y).to_array(), std::array::from_fn(|l| a[l] + b[l]));
        assert_eq!(x.sub(y).to_array(), std::array::from_fn(|l| a[l] - b[l]));
        assert_eq!(x.mul(y).to_array(), std::array::from_fn(|l| a[l] * b[l]));
        assert_eq!(F4::splat(0.3).to_array(), [0.3; 4]);
        let mut s = [0.0f32; 6];
        x.put(&mut s, 2);
        assert_eq!(F4::at(&s, 2).to_array(), a);
    }
}
