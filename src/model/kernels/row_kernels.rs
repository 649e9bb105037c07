//! Products of a few activation rows with a weight held as output rows (W [out][in], the GGUF
//! layout), reading each weight row once, in order — llama.cpp's dot-product approach.
//!
//! gemm, given 10 rows, walks the weight a few outputs at a time across every input, a stride of
//! a whole row between reads: the hardware prefetcher cannot follow it, and on a machine with
//! slower memory the forward slowed 2.5× where llama.cpp slowed 1.6× (docs/performance.md "Where
//! the time goes"). Here [`W_ROWS`] weight rows at a time stream from memory while the rows of x, a few KB,
//! stay in L1.
//!
//! [`by_output`] is the forward (y = x·Wᵀ), [`by_input`] the backward for x (dx = dy·W). SIMD:
//! AVX2 with FMA natively when the CPU has them (checked at run time), wasm simd128 in the
//! browser (chosen at build time), plain f32 otherwise.

use std::ops::Range;

/// Weight rows read together in the forward: 2 rows × up to [`X_ROWS`] rows of x keep 12
/// vector accumulators, which fit AVX2's 16 registers with the loads beside them; 10 rows of x
/// take two passes over each pair of weight rows, the second from L1.
#[cfg(not(target_arch = "wasm32"))]
const W_ROWS: usize = 2;
/// In wasm one weight row at a time: simd128 has no fused multiply–add, so each product needs a
/// register of its own beside the accumulators, and with 2 × 6 V8 spilled accumulators to the
/// stack in every iteration (seen in its machine code for the loop); 1 × 6 does not, and is
/// faster on 6 rows (`scripts/bench-kernels.sh`; docs/performance.md "What was tried").
#[cfg(target_arch = "wasm32")]
const W_ROWS: usize = 1;
const X_ROWS: usize = 6;
/// Weight rows the backward adds into each row of dx at once: one load and store of dx per
/// eight multiply–adds (with four, loads and stores were the bound, not the multiply–adds).
const AXPY_ROWS: usize = 8;

/// `yt[o·n + r] = Σ_j w[o·k + j] · x[r·k + j]` for the `m = yt.len() / n` weight rows in `w`:
/// the product x [n, k] · Wᵀ, outputs first.
pub fn by_output(x: &[f32], n: usize, w: &[f32], k: usize, yt: &mut [f32]) {
    let m = yt.len() / n.max(1);
    assert!(x.len() == n * k && w.len() >= m * k && yt.len() == m * n, "row product: shapes do not match");
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: the CPU has AVX2 and FMA (checked above); lengths checked above.
        return unsafe { by_output_avx2(x, n, w, k, yt) };
    }
    // SAFETY: lengths checked above; `Portable`'s instructions are those of the build.
    unsafe { by_output_with::<Portable>(x, n, w, k, yt) }
}

/// `dx[r·c + (j − cols.start)] = Σ_o dy[r·m + o] · w[o·k + j]` for j in `cols` (c its length)
/// and the `m = dy.len() / n` weight rows: the columns `cols` of dy [n, m] · W.
pub fn by_input(dy: &[f32], n: usize, w: &[f32], k: usize, cols: Range<usize>, dx: &mut [f32]) {
    let m = dy.len() / n.max(1);
    assert!(
        dy.len() == n * m && w.len() >= m * k && cols.end <= k && dx.len() == n * cols.len(),
        "row product backward: shapes do not match"
    );
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
        // SAFETY: as in `by_output`.
        return unsafe { by_input_avx2(dy, n, w, k, cols, dx) };
    }
    // SAFETY: as in `by_output`.
    unsafe { by_input_with::<Portable>(dy, n, w, k, cols, dx) }
}

/// The lanes every CPU of the build has: wasm's simd128 (enabled for the whole worker build,
/// see .cargo/config.toml), else plain f32.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
type Portable = lanes::Simd128;
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
type Portable = lanes::Scalar;

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn by_output_avx2(x: &[f32], n: usize, w: &[f32], k: usize, yt: &mut [f32]) {
    unsafe { by_output_with::<lanes::Avx2>(x, n, w, k, yt) }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn by_input_avx2(dy: &[f32], n: usize, w: &[f32], k: usize, cols: Range<usize>, dx: &mut [f32]) {
    unsafe { by_input_with::<lanes::Avx2>(dy, n, w, k, cols, dx) }
}

/// Safety: lengths as `by_output` checks them; `L`'s instructions available.
#[inline(always)]
unsafe fn by_output_with<L: lanes::Lanes>(x: &[f32], n: usize, w: &[f32], k: usize, yt: &mut [f32]) {
    let m = yt.len() / n.max(1);
    let (x, w) = (x.as_ptr(), w.as_ptr());
    let mut o = 0;
    while o < m {
        let rows = if m - o >= W_ROWS { W_ROWS } else { 1 };
        let mut r = 0;
        while r < n {
            // Even blocks (10 rows: 5 + 5), so that no block runs short of accumulators.
            let blocks = (n - r).div_ceil(X_ROWS);
            let xr = (n - r).div_ceil(blocks);
            // SAFETY: rows o..o+rows of w and r..r+xr of x are in bounds (o + rows ≤ m, r + xr ≤ n).
            unsafe {
                let (wp, xp) = (w.add(o * k), x.add(r * k));
                match (rows, xr) {
                    (W_ROWS, 6) => dots::<L, W_ROWS, 6>(xp, wp, k, yt, o, n, r),
                    (W_ROWS, 5) => dots::<L, W_ROWS, 5>(xp, wp, k, yt, o, n, r),
                    (W_ROWS, 4) => dots::<L, W_ROWS, 4>(xp, wp, k, yt, o, n, r),
                    (W_ROWS, 3) => dots::<L, W_ROWS, 3>(xp, wp, k, yt, o, n, r),
                    (W_ROWS, 2) => dots::<L, W_ROWS, 2>(xp, wp, k, yt, o, n, r),
                    (W_ROWS, _) => dots::<L, W_ROWS, 1>(xp, wp, k, yt, o, n, r),
                    (_, 6) => dots::<L, 1, 6>(xp, wp, k, yt, o, n, r),
                    (_, 5) => dots::<L, 1, 5>(xp, wp, k, yt, o, n, r),
                    (_, 4) => dots::<L, 1, 4>(xp, wp, k, yt, o, n, r),
                    (_, 3) => dots::<L, 1, 3>(xp, wp, k, yt, o, n, r),
                    (_, 2) => dots::<L, 1, 2>(xp, wp, k, yt, o, n, r),
                    _ => dots::<L, 1, 1>(xp, wp, k, yt, o, n, r),
                }
            }
            r += xr;
        }
        o += rows;
    }
}

/// The O × R dot products of weight rows `w..` with x rows `x..` (length k each), written to
/// `yt[(o0 + o)·n + r0 + r]`. Safety: O rows of w and R rows of x readable from the pointers.
#[inline(always)]
unsafe fn dots<L: lanes::Lanes, const O: usize, const R: usize>(
    x: *const f32,
    w: *const f32,
    k: usize,
    yt: &mut [f32],
    o0: usize,
    n: usize,
    r0: usize,
) {
    unsafe {
        let mut acc = [[L::zero(); R]; O];
        let body = k - k % L::N;
        let mut j = 0;
        while j < body {
            let ws: [L; O] = std::array::from_fn(|o| L::load(w.add(o * k + j)));
            // The next block's weights, while this block's are used: the stream from memory
            // does not pause while a second pass over x reads these rows from L1.
            for o in 0..O {
                L::prefetch(w.wrapping_add((O + o) * k + j));
            }
            for r in 0..R {
                let xv = L::load(x.add(r * k + j));
                for (row, wv) in acc.iter_mut().zip(ws) {
                    row[r] = L::mul_add(wv, xv, row[r]);
                }
            }
            j += L::N;
        }
        for (o, row) in acc.iter().enumerate() {
            for (r, a) in row.iter().enumerate() {
                let tail: f32 = (body..k).map(|j| *w.add(o * k + j) * *x.add(r * k + j)).sum();
                yt[(o0 + o) * n + r0 + r] = a.sum() + tail;
            }
        }
    }
}

/// Safety: lengths as `by_input` checks them; `L`'s instructions available.
#[inline(always)]
unsafe fn by_input_with<L: lanes::Lanes>(
    dy: &[f32],
    n: usize,
    w: &[f32],
    k: usize,
    cols: Range<usize>,
    dx: &mut [f32],
) {
    let m = dy.len() / n.max(1);
    let c = cols.len();
    dx.fill(0.0);
    let w = w.as_ptr();
    let mut o = 0;
    while o < m {
        let rows = if m - o >= AXPY_ROWS { AXPY_ROWS } else { 1 };
        for r in 0..n {
            let d = &dy[r * m + o..r * m + o + rows];
            let out = &mut dx[r * c..(r + 1) * c];
            // SAFETY: weight rows o..o+rows, columns `cols`, are in bounds (checked by `by_input`).
            unsafe {
                let wp = w.add(o * k + cols.start);
                // The first row of dy fetches the next block; the others find it in cache.
                match (rows == AXPY_ROWS, r == 0) {
                    (true, true) => axpys::<L, AXPY_ROWS, true>(d, wp, k, out),
                    (true, false) => axpys::<L, AXPY_ROWS, false>(d, wp, k, out),
                    (false, _) => axpys::<L, 1, false>(d, wp, k, out),
                }
            }
        }
        o += rows;
    }
}

/// `out[j] += Σ_i d[i] · w[i·k + j]` for the O weight rows from `w` (a row stride of k).
/// Safety: O rows of `out.len()` values readable from `w` with stride k.
#[inline(always)]
unsafe fn axpys<L: lanes::Lanes, const O: usize, const PREFETCH: bool>(
    d: &[f32],
    w: *const f32,
    k: usize,
    out: &mut [f32],
) {
    unsafe {
        let s: [L; O] = std::array::from_fn(|i| L::splat(d[i]));
        let c = out.len();
        let body = c - c % L::N;
        let p = out.as_mut_ptr();
        let mut j = 0;
        while j < body {
            let mut acc = L::load(p.add(j));
            // The next block's weights, as in `dots`.
            if PREFETCH {
                for i in 0..O {
                    L::prefetch(w.wrapping_add((O + i) * k + j));
                }
            }
            for (i, si) in s.iter().enumerate() {
                acc = L::mul_add(L::load(w.add(i * k + j)), *si, acc);
            }
            acc.store(p.add(j));
            j += L::N;
        }
        for (j, v) in out.iter_mut().enumerate().skip(body) {
            *v += (0..O).map(|i| d[i] * *w.add(i * k + j)).sum::<f32>();
        }
    }
}

/// One SIMD register of f32 lanes, for the kernels above (inlined into their callers, which
/// carry the target features).
mod lanes {
    pub trait Lanes: Copy {
        const N: usize;
        unsafe fn zero() -> Self;
        unsafe fn splat(v: f32) -> Self;
        unsafe fn load(p: *const f32) -> Self;
        unsafe fn store(self, p: *mut f32);
        /// a·b + c.
        unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self;
        unsafe fn sum(self) -> f32;
        /// A hint to bring `p`'s cache line in (any address: a hint never faults).
        #[inline(always)]
        unsafe fn prefetch(_p: *const f32) {}
    }

    /// Plain f32, for builds without wasm's simd128 (natively, CPUs without AVX2).
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    #[derive(Clone, Copy)]
    pub struct Scalar(f32);

    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    impl Lanes for Scalar {
        const N: usize = 1;
        #[inline(always)]
        unsafe fn zero() -> Self {
            Scalar(0.0)
        }
        #[inline(always)]
        unsafe fn splat(v: f32) -> Self {
            Scalar(v)
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Scalar(unsafe { *p })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            unsafe { *p = self.0 }
        }
        #[inline(always)]
        unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
            Scalar(a.0 * b.0 + c.0)
        }
        #[inline(always)]
        unsafe fn sum(self) -> f32 {
            self.0
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[derive(Clone, Copy)]
    pub struct Avx2(std::arch::x86_64::__m256);

    #[cfg(target_arch = "x86_64")]
    impl Lanes for Avx2 {
        const N: usize = 8;
        #[inline(always)]
        unsafe fn zero() -> Self {
            Avx2(unsafe { std::arch::x86_64::_mm256_setzero_ps() })
        }
        #[inline(always)]
        unsafe fn splat(v: f32) -> Self {
            Avx2(unsafe { std::arch::x86_64::_mm256_set1_ps(v) })
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Avx2(unsafe { std::arch::x86_64::_mm256_loadu_ps(p) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            unsafe { std::arch::x86_64::_mm256_storeu_ps(p, self.0) }
        }
        #[inline(always)]
        unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
            Avx2(unsafe { std::arch::x86_64::_mm256_fmadd_ps(a.0, b.0, c.0) })
        }
        #[inline(always)]
        unsafe fn prefetch(p: *const f32) {
            use std::arch::x86_64::*;
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p as *const i8) }
        }
        #[inline(always)]
        unsafe fn sum(self) -> f32 {
            use std::arch::x86_64::*;
            unsafe {
                let q = _mm_add_ps(_mm256_castps256_ps128(self.0), _mm256_extractf128_ps(self.0, 1));
                let h = _mm_add_ps(q, _mm_movehl_ps(q, q));
                _mm_cvtss_f32(_mm_add_ss(h, _mm_shuffle_ps(h, h, 1)))
            }
        }
    }

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    #[derive(Clone, Copy)]
    pub struct Simd128(core::arch::wasm32::v128);

    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    impl Lanes for Simd128 {
        const N: usize = 4;
        #[inline(always)]
        unsafe fn zero() -> Self {
            Simd128(core::arch::wasm32::f32x4_splat(0.0))
        }
        #[inline(always)]
        unsafe fn splat(v: f32) -> Self {
            Simd128(core::arch::wasm32::f32x4_splat(v))
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Simd128(unsafe { core::arch::wasm32::v128_load(p as *const core::arch::wasm32::v128) })
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            unsafe { core::arch::wasm32::v128_store(p as *mut core::arch::wasm32::v128, self.0) }
        }
        #[inline(always)]
        unsafe fn mul_add(a: Self, b: Self, c: Self) -> Self {
            use core::arch::wasm32::*;
            Simd128(f32x4_add(f32x4_mul(a.0, b.0), c.0))
        }
        #[inline(always)]
        unsafe fn sum(self) -> f32 {
            use core::arch::wasm32::*;
            (f32x4_extract_lane::<0>(self.0) + f32x4_extract_lane::<1>(self.0))
                + (f32x4_extract_lane::<2>(self.0) + f32x4_extract_lane::<3>(self.0))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(len: usize, seed: usize) -> Vec<f32> {
        (0..len).map(|i| (((i + seed) * 7919) % 1000) as f32 / 500.0 - 1.0).collect()
    }

    /// Every block shape: 1–10 rows of x (a block of up to [`X_ROWS`], then the rest), weight
    /// rows in blocks of [`W_ROWS`] with a single left over in the forward and of [`AXPY_ROWS`]
    /// with singles left over in the backward, k with and without a SIMD tail.
    #[test]
    fn forward_and_backward_equal_the_plain_sums() {
        for (n, m, k) in [(1, 9, 37), (2, 9, 32), (3, 4, 8), (5, 9, 19), (7, 13, 64), (10, 5, 3)] {
            let (x, w) = (values(n * k, 1), values(m * k, 2));
            let mut yt = vec![f32::NAN; m * n];
            by_output(&x, n, &w, k, &mut yt);
            let dy = values(n * m, 3);
            let mut dx = vec![f32::NAN; n * k];
            by_input(&dy, n, &w, k, 0..k, &mut dx);
            // A part of the columns, as a thread computes it.
            let cols = k / 3..k;
            let mut part = vec![f32::NAN; n * cols.len()];
            by_input(&dy, n, &w, k, cols.clone(), &mut part);
            for r in 0..n {
                for o in 0..m {
                    let want: f32 = (0..k).map(|j| x[r * k + j] * w[o * k + j]).sum();
                    // Sums of ≤ 64 products of values ≤ 1: orders of summation differ by < 1e-4.
                    assert!(
                        (yt[o * n + r] - want).abs() < 1e-4,
                        "y[{r}][{o}] = {} ≠ {want} (n {n} m {m} k {k})",
                        yt[o * n + r]
                    );
                }
                for j in 0..k {
                    let want: f32 = (0..m).map(|o| dy[r * m + o] * w[o * k + j]).sum();
                    assert!((dx[r * k + j] - want).abs() < 1e-4, "dx[{r}][{j}] = {} ≠ {want}", dx[r * k + j]);
                    if cols.contains(&j) {
                        // Other lanes (FMA in SIMD, separate rounding in the tail): same bound.
                        assert!((part[r * cols.len() + j - cols.start] - want).abs() < 1e-4, "dx part [{r}][{j}]");
                    }
                }
            }
        }
    }
}
