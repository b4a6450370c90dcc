//! Four f32 lanes in one 128-bit register: SSE2 natively (x86-64's baseline), simd128 in wasm,
//! four plain floats elsewhere. Only lane-wise IEEE arithmetic (never fused), comparisons that
//! pick one operand, and bit operations, so every target computes the same bits.
//!
//! Hand-written for SDCD's register-blocked kernels: written as loops over arrays, LLVM either
//! kept the blocks' accumulators in memory or vectorized the wrong dimension and shuffled (tried
//! and measured slower), and `std::simd` is not stable.

#[cfg(target_arch = "x86_64")]
use core::arch::x86_64::{
    __m128, _mm_add_epi32, _mm_add_ps, _mm_and_ps, _mm_andnot_ps, _mm_castps_si128,
    _mm_castsi128_ps, _mm_cmpeq_ps, _mm_cmpge_ps, _mm_cvtepi32_ps, _mm_div_ps, _mm_loadu_ps,
    _mm_max_ps, _mm_min_ps, _mm_mul_ps, _mm_or_ps, _mm_set1_epi32, _mm_set1_ps, _mm_slli_epi32,
    _mm_srai_epi32, _mm_storeu_ps, _mm_sub_ps, _mm_xor_ps,
};

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
use core::arch::wasm32::{
    f32x4_add, f32x4_convert_i32x4, f32x4_div, f32x4_eq, f32x4_ge, f32x4_mul, f32x4_neg,
    f32x4_pmax, f32x4_pmin, f32x4_splat, f32x4_sub, i32x4_add, i32x4_shl, i32x4_shr, i32x4_splat,
    v128, v128_and, v128_bitselect, v128_load, v128_store,
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
    #[inline(always)]
    pub fn div(self, o: F4) -> F4 {
        // SAFETY: as above.
        F4(unsafe { _mm_div_ps(self.0, o.0) })
    }
    #[inline(always)]
    pub fn neg(self) -> F4 {
        // SAFETY: as above; flips the sign bits, as scalar negation does.
        F4(unsafe { _mm_xor_ps(self.0, _mm_set1_ps(-0.0)) })
    }
    #[inline(always)]
    pub fn max(self, o: F4) -> F4 {
        // SAFETY: as above; maxps gives `self > o ? self : o` lane by lane.
        F4(unsafe { _mm_max_ps(self.0, o.0) })
    }
    #[inline(always)]
    pub fn min(self, o: F4) -> F4 {
        // SAFETY: as above; minps gives `self < o ? self : o` lane by lane.
        F4(unsafe { _mm_min_ps(self.0, o.0) })
    }
    #[inline(always)]
    pub fn shl23_add(self, c: u32) -> F4 {
        // SAFETY: as above (SSE2, also baseline); casts only reinterpret the bits.
        F4(unsafe {
            let b = _mm_slli_epi32::<23>(_mm_castps_si128(self.0));
            _mm_castsi128_ps(_mm_add_epi32(b, _mm_set1_epi32(c as i32)))
        })
    }
    #[inline(always)]
    pub fn bits_add(self, c: u32) -> F4 {
        // SAFETY: as above.
        F4(unsafe {
            _mm_castsi128_ps(_mm_add_epi32(
                _mm_castps_si128(self.0),
                _mm_set1_epi32(c as i32),
            ))
        })
    }
    #[inline(always)]
    pub fn bits_and(self, c: u32) -> F4 {
        // SAFETY: as above.
        F4(unsafe { _mm_and_ps(self.0, _mm_castsi128_ps(_mm_set1_epi32(c as i32))) })
    }
    #[inline(always)]
    pub fn sra23_to_f32(self) -> F4 {
        // SAFETY: as above.
        F4(unsafe { _mm_cvtepi32_ps(_mm_srai_epi32::<23>(_mm_castps_si128(self.0))) })
    }
    #[inline(always)]
    pub fn ge(self, o: F4) -> F4 {
        // SAFETY: as above.
        F4(unsafe { _mm_cmpge_ps(self.0, o.0) })
    }
    #[inline(always)]
    pub fn eq(self, o: F4) -> F4 {
        // SAFETY: as above.
        F4(unsafe { _mm_cmpeq_ps(self.0, o.0) })
    }
    #[inline(always)]
    pub fn select(self, a: F4, b: F4) -> F4 {
        // SAFETY: as above.
        F4(unsafe { _mm_or_ps(_mm_and_ps(self.0, a.0), _mm_andnot_ps(self.0, b.0)) })
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
    #[inline(always)]
    pub fn div(self, o: F4) -> F4 {
        F4(f32x4_div(self.0, o.0))
    }
    #[inline(always)]
    pub fn neg(self) -> F4 {
        F4(f32x4_neg(self.0))
    }
    #[inline(always)]
    pub fn max(self, o: F4) -> F4 {
        // pmax(a, b) is `a < b ? b : a`: one maxps, where f32x4.max handles NaN in a longer
        // sequence.
        F4(f32x4_pmax(o.0, self.0))
    }
    #[inline(always)]
    pub fn min(self, o: F4) -> F4 {
        // pmin(a, b) is `b < a ? b : a`.
        F4(f32x4_pmin(o.0, self.0))
    }
    #[inline(always)]
    pub fn shl23_add(self, c: u32) -> F4 {
        F4(i32x4_add(i32x4_shl(self.0, 23), i32x4_splat(c as i32)))
    }
    #[inline(always)]
    pub fn bits_add(self, c: u32) -> F4 {
        F4(i32x4_add(self.0, i32x4_splat(c as i32)))
    }
    #[inline(always)]
    pub fn bits_and(self, c: u32) -> F4 {
        F4(v128_and(self.0, i32x4_splat(c as i32)))
    }
    #[inline(always)]
    pub fn sra23_to_f32(self) -> F4 {
        F4(f32x4_convert_i32x4(i32x4_shr(self.0, 23)))
    }
    #[inline(always)]
    pub fn ge(self, o: F4) -> F4 {
        F4(f32x4_ge(self.0, o.0))
    }
    #[inline(always)]
    pub fn eq(self, o: F4) -> F4 {
        F4(f32x4_eq(self.0, o.0))
    }
    #[inline(always)]
    pub fn select(self, a: F4, b: F4) -> F4 {
        F4(v128_bitselect(a.0, b.0, self.0))
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
    #[inline(always)]
    pub fn div(self, o: F4) -> F4 {
        F4(std::array::from_fn(|l| self.0[l] / o.0[l]))
    }
    #[inline(always)]
    pub fn neg(self) -> F4 {
        F4(self.0.map(|a| -a))
    }
    #[inline(always)]
    pub fn max(self, o: F4) -> F4 {
        F4(std::array::from_fn(|l| {
            if self.0[l] > o.0[l] {
                self.0[l]
            } else {
                o.0[l]
            }
        }))
    }
    #[inline(always)]
    pub fn min(self, o: F4) -> F4 {
        F4(std::array::from_fn(|l| {
            if self.0[l] < o.0[l] {
                self.0[l]
            } else {
                o.0[l]
            }
        }))
    }
    #[inline(always)]
    pub fn shl23_add(self, c: u32) -> F4 {
        F4(self
            .0
            .map(|a| f32::from_bits((a.to_bits() << 23).wrapping_add(c))))
    }
    #[inline(always)]
    pub fn bits_add(self, c: u32) -> F4 {
        F4(self.0.map(|a| f32::from_bits(a.to_bits().wrapping_add(c))))
    }
    #[inline(always)]
    pub fn bits_and(self, c: u32) -> F4 {
        F4(self.0.map(|a| f32::from_bits(a.to_bits() & c)))
    }
    #[inline(always)]
    pub fn sra23_to_f32(self) -> F4 {
        F4(self.0.map(|a| (a.to_bits() as i32 >> 23) as f32))
    }
    #[inline(always)]
    pub fn ge(self, o: F4) -> F4 {
        F4::mask(std::array::from_fn(|l| self.0[l] >= o.0[l]))
    }
    #[inline(always)]
    pub fn eq(self, o: F4) -> F4 {
        F4::mask(std::array::from_fn(|l| self.0[l] == o.0[l]))
    }
    #[inline(always)]
    pub fn select(self, a: F4, b: F4) -> F4 {
        F4(std::array::from_fn(|l| {
            let m = self.0[l].to_bits();
            f32::from_bits((m & a.0[l].to_bits()) | (!m & b.0[l].to_bits()))
        }))
    }
    #[inline(always)]
    fn mask(m: [bool; 4]) -> F4 {
        F4(m.map(|t| f32::from_bits(if t { u32::MAX } else { 0 })))
    }
}

/// The operations beyond +, −, ×, common to every target:
/// - `div`: IEEE division; `neg`: flips the sign bits;
/// - `max`/`min`: `self > o ? self : o` and `self < o ? self : o` lane by lane (so `o` where
///   either is NaN);
/// - `shl23_add`: the bits of each lane shifted left by 23, plus `c` (wrapping), read back as
///   f32: with `c` chosen to undo a shift constant's bits and add the bias, a power of two;
/// - `bits_add`, `bits_and`: the bits plus `c` (wrapping), and `c`; `sra23_to_f32`: the bits as
///   an i32 shifted right by 23 (arithmetic), converted to f32;
/// - `ge`, `eq`: masks (all bits set where true); `m.select(a, b)`: a where m, else b.
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
        assert_eq!(x.div(y).to_array(), std::array::from_fn(|l| a[l] / b[l]));
        assert_eq!(x.neg().to_array(), a.map(|v| -v));
        assert_eq!(x.max(y).to_array(), std::array::from_fn(|l| a[l].max(b[l])));
        assert_eq!(x.min(y).to_array(), std::array::from_fn(|l| a[l].min(b[l])));
        let nan = F4::splat(f32::NAN);
        assert_eq!(nan.max(y).to_array(), b, "o where self is NaN");
        assert_eq!(nan.min(y).to_array(), b);
        assert_eq!(
            x.shl23_add(7).to_array(),
            a.map(|v| f32::from_bits((v.to_bits() << 23).wrapping_add(7)))
        );
        assert_eq!(
            x.bits_add(0xc0de).to_array(),
            a.map(|v| f32::from_bits(v.to_bits().wrapping_add(0xc0de)))
        );
        assert_eq!(
            x.bits_and(0x7f_ffff).to_array(),
            a.map(|v| f32::from_bits(v.to_bits() & 0x7f_ffff))
        );
        assert_eq!(
            x.sra23_to_f32().to_array(),
            a.map(|v| (v.to_bits() as i32 >> 23) as f32)
        );
        let pick = |m: F4| m.select(x, y).to_array();
        let want =
            |t: [bool; 4]| std::array::from_fn::<f32, 4, _>(|l| if t[l] { a[l] } else { b[l] });
        assert_eq!(pick(x.ge(y)), want(std::array::from_fn(|l| a[l] >= b[l])));
        assert_eq!(pick(x.ge(x)), a);
        assert_eq!(pick(x.eq(y)), b);
        assert_eq!(F4::splat(0.3).to_array(), [0.3; 4]);
        let mut s = [0.0f32; 6];
        x.put(&mut s, 2);
        assert_eq!(F4::at(&s, 2).to_array(), a);
    }
}
