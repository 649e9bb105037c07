//! Block decoders for ggml's "K" quantisations (Q2_K, Q3_K, Q4_K, Q5_K, Q6_K): super-blocks of
//! 256 values in 16 sub-blocks of 16 (Q2_K, Q3_K, Q6_K) or 8 of 32 (Q4_K, Q5_K), each with its
//! own small integer scale (and min) under one f16 super-block scale. The value order and the
//! order of the float operations follow ggml's reference `dequantize_row_q*_K`.
//!
//! Each function decodes one block, whose length the caller guarantees (`chunks_exact` of the
//! type size), and appends its 256 values to `out`. Any byte content decodes; none panics.
//!
//! Common to Q2_K, Q3_K and Q6_K: the low bits of 256 quants are stored in two halves of 128;
//! in each half, value `32·j + l` (j < 4, l < 32) takes its 2 bits from bits `2j..2j+2` of byte
//! `l` of that half's 32 bytes (Q6_K's low 4 bits are laid out in nibbles, see `q6_k`).

use super::dequant::half;

/// Q2_K, 84 bytes: `scales[16]` (low nibble: scale, high nibble: min, per 16 values),
/// `qs[64]` (2-bit quants), `d` (f16), `dmin` (f16). Value = d·scale·q − dmin·min.
pub(super) fn q2_k(block: &[u8], out: &mut Vec<f32>) {
    debug_assert_eq!(block.len(), 84);
    let (scales, qs) = (&block[..16], &block[16..80]);
    let (d, dmin) = (half(block[80], block[81]), half(block[82], block[83]));
    for (h, qs) in qs.chunks_exact(32).enumerate() {
        for j in 0..4 {
            for (k, q16) in qs.chunks_exact(16).enumerate() {
                let sc = scales[h * 8 + j * 2 + k];
                let dl = d * f32::from(sc & 0x0f);
                let ml = dmin * f32::from(sc >> 4);
                out.extend(q16.iter().map(|&q| dl * f32::from((q >> (2 * j)) & 3) - ml));
            }
        }
    }
}

/// Q3_K, 110 bytes: `hmask[32]` (the third bit of each quant: bit `k` of byte `l` belongs to
/// value `32·k + l`), `qs[64]` (low 2 bits), `scales[12]` (16 six-bit scales, see
/// `q3_k_scales`), `d` (f16). Value = d·(scale − 32)·q', where q' is the 2-bit q minus 4 when
/// its hmask bit is clear and q itself when it is set.
pub(super) fn q3_k(block: &[u8], out: &mut Vec<f32>) {
    debug_assert_eq!(block.len(), 110);
    let (hmask, qs) = (&block[..32], &block[32..96]);
    let scales = q3_k_scales(&block[96..108]);
    let d = half(block[108], block[109]);
    for (h, qs) in qs.chunks_exact(32).enumerate() {
        for j in 0..4 {
            let bit = h * 4 + j;
            for (k, (q16, m16)) in qs.chunks_exact(16).zip(hmask.chunks_exact(16)).enumerate() {
                let dl = d * scales[h * 8 + j * 2 + k];
                out.extend(q16.iter().zip(m16).map(|(&q, &m)| {
                    let low = f32::from((q >> (2 * j)) & 3);
                    let q = if (m >> bit) & 1 == 0 { low - 4.0 } else { low };
                    dl * q
                }));
            }
        }
    }
}

/// Q3_K's 16 scales, minus their offset of 32: scale `i` has its low 4 bits in nibble `i / 8`
/// of byte `i % 8` and its high 2 bits in bits `2·(i / 4)..` of byte `8 + i % 4`.
fn q3_k_scales(packed: &[u8]) -> [f32; 16] {
    std::array::from_fn(|i| {
        let low = (packed[i % 8] >> (4 * (i / 8))) & 0x0f;
        let high = (packed[8 + i % 4] >> (2 * (i / 4))) & 3;
        f32::from(low | (high << 4)) - 32.0
    })
}

/// Q4_K/Q5_K's eight (scale, min) pairs, six bits each, packed in 12 bytes: for j < 4 the low
/// 6 bits of bytes j (scale) and j + 4 (min); for j ≥ 4 the nibbles of byte j + 4 (scale low,
/// min high) topped up with the spare 2 high bits of bytes j − 4 (scale) and j (min).
fn k_scale_min(packed: &[u8], j: usize) -> (u8, u8) {
    if j < 4 {
        (packed[j] & 0x3f, packed[j + 4] & 0x3f)
    } else {
        let sc = (packed[j + 4] & 0x0f) | ((packed[j - 4] >> 6) << 4);
        let m = (packed[j + 4] >> 4) | ((packed[j] >> 6) << 4);
        (sc, m)
    }
}

/// Q4_K, 144 bytes: `d` (f16), `dmin` (f16), `scales[12]` (see `k_scale_min`), `qs[128]`.
/// Sub-block `2c` (32 values) is the low nibbles of `qs[32c..32c + 32]`, sub-block `2c + 1`
/// their high nibbles. Value = d·scale·q − dmin·min.
pub(super) fn q4_k(block: &[u8], out: &mut Vec<f32>) {
    debug_assert_eq!(block.len(), 144);
    let (d, dmin) = (half(block[0], block[1]), half(block[2], block[3]));
    let (scales, qs) = (&block[4..16], &block[16..144]);
    for (c, q32) in qs.chunks_exact(32).enumerate() {
        for (k, shift) in [0u32, 4].into_iter().enumerate() {
            let (sc, m) = k_scale_min(scales, 2 * c + k);
            let (dl, ml) = (d * f32::from(sc), dmin * f32::from(m));
            out.extend(q32.iter().map(|&q| dl * f32::from((q >> shift) & 0x0f) - ml));
        }
    }
}

/// Q5_K, 176 bytes: `d` (f16), `dmin` (f16), `scales[12]` (as Q4_K), `qh[32]` (the fifth bit:
/// bit `s` of byte `l` belongs to value `l` of sub-block `s`), `qs[128]` (low 4 bits, laid out
/// as Q4_K's). Value = d·scale·q − dmin·min.
pub(super) fn q5_k(block: &[u8], out: &mut Vec<f32>) {
    debug_assert_eq!(block.len(), 176);
    let (d, dmin) = (half(block[0], block[1]), half(block[2], block[3]));
    let (scales, qh, qs) = (&block[4..16], &block[16..48], &block[48..176]);
    for (c, q32) in qs.chunks_exact(32).enumerate() {
        for (k, shift) in [0u32, 4].into_iter().enumerate() {
            let sub = 2 * c + k;
            let (sc, m) = k_scale_min(scales, sub);
            let (dl, ml) = (d * f32::from(sc), dmin * f32::from(m));
            out.extend(q32.iter().zip(qh).map(|(&q, &h)| {
                let q = ((q >> shift) & 0x0f) | (((h >> sub) & 1) << 4);
                dl * f32::from(q) - ml
            }));
        }
    }
}

/// Q6_K, 210 bytes: `ql[128]` (low 4 bits), `qh[64]` (high 2 bits), `scales[16]` (i8, one per
/// 16 values), `d` (f16). In each half of 128 values (64 `ql` bytes, 32 `qh` bytes), value
/// `32·j + l` takes nibble `j / 2` of `ql[32·(j % 2) + l]` and bits `2j..2j+2` of `qh[l]`.
/// Value = d·scale·(q − 32).
pub(super) fn q6_k(block: &[u8], out: &mut Vec<f32>) {
    debug_assert_eq!(block.len(), 210);
    let (ql, qh, scales) = (&block[..128], &block[128..192], &block[192..208]);
    let d = half(block[208], block[209]);
    for (h, (ql, qh)) in ql.chunks_exact(64).zip(qh.chunks_exact(32)).enumerate() {
        for j in 0..4 {
            let low = &ql[32 * (j % 2)..32 * (j % 2) + 32];
            let nibble = 4 * (j / 2);
            for (k, (l16, h16)) in low.chunks_exact(16).zip(qh.chunks_exact(16)).enumerate() {
                let dl = d * f32::from(scales[h * 8 + j * 2 + k] as i8);
                out.extend(l16.iter().zip(h16).map(|(&lo, &hi)| {
                    let q = ((lo >> nibble) & 0x0f) | (((hi >> (2 * j)) & 3) << 4);
                    dl * (f32::from(q) - 32.0)
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every decoder writes 256 finite values for a patterned block with its f16 scales set to
    /// 1.0, and a few hand-worked values; the decoders are checked value by value against
    /// gguf-py in tests/quant_fixtures.rs.
    #[test]
    fn block_lengths_and_known_values() {
        // (decoder, block bytes, offsets of its f16 scale fields)
        let cases: [(fn(&[u8], &mut Vec<f32>), usize, &[usize]); 5] = [
            (q2_k, 84, &[80, 82]),
            (q3_k, 110, &[108]),
            (q4_k, 144, &[0, 2]),
            (q5_k, 176, &[0, 2]),
            (q6_k, 210, &[208]),
        ];
        for (decode, size, fields) in cases {
            let mut block: Vec<u8> = (0..size).map(|i| (i * 37 + 11) as u8).collect();
            for &at in fields {
                block[at..at + 2].copy_from_slice(&[0x00, 0x3c]); // f16 1.0
            }
            let mut out = Vec::new();
            decode(&block, &mut out);
            assert_eq!(out.len(), 256, "{size}-byte block");
            assert!(out.iter().all(|v| v.is_finite()), "{size}-byte block");
        }

        // Q4_K: d = 1, dmin = 0.5, scale/min of sub-block 0 = 3/2, qs[0] = 0x5a.
        let mut b = vec![0u8; 144];
        b[..4].copy_from_slice(&[0x00, 0x3c, 0x00, 0x38]);
        b[4] = 3;
        b[8] = 2;
        b[16] = 0x5a;
        let mut out = Vec::new();
        q4_k(&b, &mut out);
        assert_eq!(out[0], 3.0 * 10.0 - 1.0); // low nibble 0xa in sub-block 0
        assert_eq!(out[1], -1.0);
        assert_eq!(out[32], 0.0); // sub-block 1 has scale 0 and min 0

        // Q6_K: d = 1, scale[0] = -2, ql[0] = 0x21, qh[0] = 0b11 → value 0 is q = 0x31 - 32 = 17.
        let mut b = vec![0u8; 210];
        b[0] = 0x21;
        b[128] = 0b11;
        b[192] = (-2i8) as u8;
        b[208..].copy_from_slice(&[0x00, 0x3c]);
        let mut out = Vec::new();
        q6_k(&b, &mut out);
        assert_eq!(out[0], -34.0);
        assert_eq!(out[1], 64.0); // q = 0 - 32, scale -2
    }
}
