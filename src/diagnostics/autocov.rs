//! Autocovariance of a chain at every lag through a zero-padded FFT, as ArviZ's `autocov`:
//! O(n log n), so long chains stay cheap.

use std::f64::consts::PI;

/// Biased autocovariance γ̂_t = (1/n) Σ_{i<n−t} (x_i − x̄)(x_{i+t} − x̄) for t = 0..n−1.
pub fn autocov(x: &[f64]) -> Vec<f64> {
    let n = x.len();
    if n == 0 {
        return Vec::new();
    }
    let mean = x.iter().sum::<f64>() / n as f64;
    // Padding to at least 2n keeps the circular correlation from wrapping onto itself; the
    // exact padded length does not change the result.
    let m = (2 * n).next_power_of_two();
    let mut re = vec![0.0; m];
    let mut im = vec![0.0; m];
    for (r, v) in re.iter_mut().zip(x) {
        *r = v - mean;
    }
    let twiddles = Twiddles::new(m);
    fft(&mut re, &mut im, &twiddles, false);
    for (r, i) in re.iter_mut().zip(im.iter_mut()) {
        *r = *r * *r + *i * *i;
        *i = 0.0;
    }
    fft(&mut re, &mut im, &twiddles, true);
    let scale = 1.0 / (m as f64 * n as f64);
    re.truncate(n);
    for r in re.iter_mut() {
        *r *= scale;
    }
    re
}

/// cos and sin of 2πk/m for k < m/2, each computed directly (a recurrence would accumulate
/// rounding error across the table).
struct Twiddles {
    cos: Vec<f64>,
    sin: Vec<f64>,
}

impl Twiddles {
    fn new(m: usize) -> Twiddles {
        let half = m / 2;
        let (cos, sin) = (0..half)
            .map(|k| {
                let angle = 2.0 * PI * k as f64 / m as f64;
                (angle.cos(), angle.sin())
            })
            .unzip();
        Twiddles { cos, sin }
    }
}

/// In-place iterative radix-2 FFT (length a power of two); `inverse` flips the sign of the
/// exponent and leaves the 1/m factor to the caller.
fn fft(re: &mut [f64], im: &mut [f64], tw: &Twiddles, inverse: bool) {
    let m = re.len();
    if m < 2 {
        return;
    }
    let mut j = 0;
    for i in 1..m {
        let mut bit = m >> 1;
        while j & bit != 0 {
            j ^= bit;
            bit >>= 1;
        }
        j |= bit;
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let sign = if inverse { 1.0 } else { -1.0 };
    let mut len = 2;
    while len <= m {
        let step = m / len;
        let half = len / 2;
        for start in (0..m).step_by(len) {
            for k in 0..half {
                let (wr, wi) = (tw.cos[k * step], sign * tw.sin[k * step]);
                let (a, b) = (start + k, start + k + half);
                let tr = re[b] * wr - im[b] * wi;
                let ti = re[b] * wi + im[b] * wr;
                re[b] = re[a] - tr;
                im[b] = im[a] - ti;
                re[a] += tr;
                im[a] += ti;
            }
        }
        len <<= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn direct(x: &[f64]) -> Vec<f64> {
        let n = x.len();
        let mean = x.iter().sum::<f64>() / n as f64;
        (0..n)
            .map(|t| {
                (0..n - t)
                    .map(|i| (x[i] - mean) * (x[i + t] - mean))
                    .sum::<f64>()
                    / n as f64
            })
            .collect()
    }

    #[test]
    fn small_cases() {
        assert!(autocov(&[]).is_empty());
        assert_eq!(autocov(&[3.0]), vec![0.0]);
        let a = autocov(&[1.0, 3.0]);
        assert!((a[0] - 1.0).abs() < 1e-15 && (a[1] + 0.5).abs() < 1e-15);
    }

    proptest! {
        #[test]
        fn fft_equals_the_direct_sum(x in prop::collection::vec(-1e3..1e3f64, 1..300)) {
            let (fast, slow) = (autocov(&x), direct(&x));
            let scale = slow[0].abs().max(1e-300);
            for (f, s) in fast.iter().zip(&slow) {
                prop_assert!((f - s).abs() <= 1e-12 * scale, "{f} vs {s}");
            }
        }
    }
}
