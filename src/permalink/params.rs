//! Parameters in a link: rounded to f16, then stored dense (every value) or sparse (delta-coded
//! indices of the non-zero values), whichever is smaller. ActivScalar and SteerVec are mostly
//! zeros after the proximal ℓ1 step, so sparse is the usual case.
//!
//! dense:  0x00, then count × f16
//! sparse: 0x01, varint nnz, then nnz × (varint gap, f16); index = previous index + 1 + gap
//!         (the first index is its gap), so indices strictly increase and need no sort.
//! int8:   0x02, i8 e, varint nnz, then nnz × (varint gap, i8 k): value = k·2^e, k ≠ 0, |k| ≤ 127.
//!         ActivScalar only (its values are O(1) multipliers): half the bytes of f16, and the
//!         power-of-two step makes re-encoding a decoded link exact.

use half::f16;

use super::bytes::{Reader, Writer, varint_len};
use super::error::PermalinkError;

const DENSE: u8 = 0;
const SPARSE: u8 = 1;
const SPARSE_I8: u8 = 2;
/// Exponents an int8 step 2^e may have: every f16 magnitude needs one in this range.
const MIN_EXP: i32 = -40;
const MAX_EXP: i32 = 16;

/// What a value becomes in a link: the nearest f16 (clamped to its finite range), and exactly
/// 0.0 when that rounds to zero, so "non-zero" means non-zero after quantisation.
pub fn quantise(v: f32) -> f32 {
    to_f16(v).to_f32()
}

fn to_f16(v: f32) -> f16 {
    let h = f16::from_f32(v.clamp(-f16::MAX.to_f32(), f16::MAX.to_f32()));
    if h.to_f32() == 0.0 { f16::ZERO } else { h }
}

/// The exponent of the int8 grid step 2^e for `values`: the smallest with max|v| ≤ 127·2^e,
/// so the largest value uses 64 ≤ |k| ≤ 127. None when all are zero.
fn int8_exponent(values: &[f32]) -> Option<i32> {
    let max = values.iter().fold(0f32, |m, v| m.max(v.abs()));
    (max > 0.0).then(|| ((max / 127.0).log2().ceil() as i32).clamp(MIN_EXP, MAX_EXP))
}

/// Rounds `values` to the int8 grid (what an int8 link stores): k·2^e, exactly 0 where k = 0.
pub fn to_int8_grid(values: &mut [f32]) {
    let Some(e) = int8_exponent(values) else { return };
    let step = 2f32.powi(e);
    for v in values.iter_mut() {
        let k = (*v / step).round().clamp(-127.0, 127.0);
        *v = if k == 0.0 { 0.0 } else { k * step };
    }
}

/// Writes `params` (already on the int8 grid when `int8`, see `to_int8_grid`).
pub fn write(w: &mut Writer, params: &[f32], int8: bool) {
    if let (true, Some(e)) = (int8, int8_exponent(params)) {
        let step = 2f32.powi(e);
        let nonzero: Vec<(usize, f32)> = params.iter().copied().enumerate().filter(|(_, v)| *v != 0.0).collect();
        w.usize(params.len());
        w.u8(SPARSE_I8);
        w.u8(e as i8 as u8);
        w.usize(nonzero.len());
        let mut prev = None::<usize>;
        for (i, v) in nonzero {
            w.usize(gap(prev, i));
            w.u8((v / step).round().clamp(-127.0, 127.0) as i8 as u8);
            prev = Some(i);
        }
        return;
    }
    let q: Vec<f16> = params.iter().map(|&v| to_f16(v)).collect();
    let nonzero: Vec<(usize, f16)> = q.iter().copied().enumerate().filter(|(_, h)| h.to_f32() != 0.0).collect();
    let mut sparse_bytes = varint_len(nonzero.len() as u64);
    let mut prev = None::<usize>;
    for &(i, _) in &nonzero {
        sparse_bytes += varint_len(gap(prev, i) as u64) + 2;
        prev = Some(i);
    }
    w.usize(params.len());
    if sparse_bytes < 2 * q.len() {
        w.u8(SPARSE);
        w.usize(nonzero.len());
        let mut prev = None::<usize>;
        for (i, h) in nonzero {
            w.usize(gap(prev, i));
            w.f16(h);
            prev = Some(i);
        }
    } else {
        w.u8(DENSE);
        q.into_iter().for_each(|h| w.f16(h));
    }
}

fn gap(prev: Option<usize>, i: usize) -> usize {
    prev.map_or(i, |p| i - p - 1)
}

/// Reads parameters, which must number exactly `count` (from the shape; the caller has checked
/// it against `MAX_PARAMS` before this allocates).
pub fn read(r: &mut Reader, count: usize) -> Result<Vec<f32>, PermalinkError> {
    let declared = r.usize_max(count, "the parameter count")?;
    if declared != count {
        return Err(PermalinkError::Damaged(format!("{declared} parameters where the shape needs {count}")));
    }
    let value = |r: &mut Reader| -> Result<f32, PermalinkError> {
        let v = r.f16()?.to_f32();
        if !v.is_finite() {
            return Err(PermalinkError::Damaged("a parameter is not a finite number".into()));
        }
        Ok(if v == 0.0 { 0.0 } else { v }) // −0 → 0, as `quantise` does
    };
    match r.u8()? {
        DENSE => {
            if r.remaining() / 2 < count {
                return Err(PermalinkError::Damaged("it ends too early".into()));
            }
            (0..count).map(|_| value(r)).collect()
        }
        SPARSE => {
            let nnz = r.usize_max(count, "the non-zero count")?;
            let mut out = vec![0.0f32; count];
            let mut next = 0usize; // the smallest index the next entry may have
            for _ in 0..nnz {
                let g = r.usize_max(count, "an index gap")?;
                let i = next + g; // ≤ 2·count, no overflow
                if i >= count {
                    return Err(PermalinkError::Damaged(format!("parameter index {i} is out of range ({count})")));
                }
                out[i] = value(r)?;
                next = i + 1;
            }
            Ok(out)
        }
        SPARSE_I8 => {
            let e = r.u8()? as i8 as i32;
            if !(MIN_EXP..=MAX_EXP).contains(&e) {
                return Err(PermalinkError::Damaged(format!("scale exponent {e} is out of range")));
            }
            let step = 2f32.powi(e);
            let nnz = r.usize_max(count, "the non-zero count")?;
            let mut out = vec![0.0f32; count];
            let mut next = 0usize;
            for _ in 0..nnz {
                let i = next + r.usize_max(count, "an index gap")?;
                if i >= count {
                    return Err(PermalinkError::Damaged(format!("parameter index {i} is out of range ({count})")));
                }
                let k = r.u8()? as i8;
                if k == 0 || k == i8::MIN {
                    return Err(PermalinkError::Damaged(format!("parameter value {k} is not allowed")));
                }
                out[i] = k as f32 * step;
                next = i + 1;
            }
            Ok(out)
        }
        other => Err(PermalinkError::Damaged(format!("unknown parameter encoding {other}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(p: &[f32]) -> (Vec<f32>, usize) {
        let mut w = Writer::default();
        write(&mut w, p, false);
        let mut r = Reader::new(&w.bytes);
        let out = read(&mut r, p.len()).unwrap();
        r.finish().unwrap();
        (out, w.bytes.len())
    }

    #[test]
    fn sparse_and_dense_both_give_the_quantised_values() {
        let sparse: Vec<f32> = (0..1000).map(|i| if i % 97 == 3 { i as f32 * 0.01 } else { 0.0 }).collect();
        let dense: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.37).sin()).collect();
        for p in [sparse, dense, vec![], vec![-0.0, 1e-9, 1e9, -1e9]] {
            let (out, _) = round_trip(&p);
            assert_eq!(out, p.iter().map(|&v| quantise(v)).collect::<Vec<_>>());
        }
        let (_, n) = round_trip(&(0..1000).map(|i| if i == 500 { 1.0 } else { 0.0 }).collect::<Vec<_>>());
        assert!(n < 10, "one non-zero of 1000 is a few bytes, got {n}");
    }

    #[test]
    fn quantise_is_idempotent_and_drops_what_rounds_to_zero() {
        for v in [0.1f32, -3.7, 65504.0, 1e6, -1e6, 1e-8, -1e-8, 6.0e-8, -0.0] {
            let q = quantise(v);
            assert_eq!(quantise(q).to_bits(), q.to_bits(), "{v}");
            assert!(q.is_finite());
        }
        assert_eq!(quantise(1e-8).to_bits(), 0);
        assert_eq!(quantise(-0.0).to_bits(), 0);
    }

    #[test]
    fn int8_grid_is_exact_on_re_encoding_and_within_half_a_step() {
        let original: Vec<f32> =
            (0..600).map(|i| if i % 9 == 0 { ((i as f32) * 0.77).sin() * 2.5 } else { 0.0 }).collect();
        let mut grid = original.clone();
        to_int8_grid(&mut grid);
        let max = original.iter().fold(0f32, |m, v| m.max(v.abs()));
        for (o, g) in original.iter().zip(&grid) {
            assert!((o - g).abs() <= max / 127.0, "{o} → {g}");
        }
        let mut again = grid.clone();
        to_int8_grid(&mut again);
        assert_eq!(again, grid, "a grid is its own rounding");
        let mut w = Writer::default();
        write(&mut w, &grid, true);
        assert_eq!(w.bytes[varint_len(600) as usize], SPARSE_I8);
        let mut r = Reader::new(&w.bytes);
        assert_eq!(read(&mut r, 600).unwrap(), grid);
        r.finish().unwrap();
    }
}
