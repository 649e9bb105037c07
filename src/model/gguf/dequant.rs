//! ggml tensor types and dequantisation of the ones llama-family files use: F32, F16, BF16,
//! Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 here, and the K-quants Q2_K to Q6_K in `dequant_k`.

use std::fmt;

use super::dequant_k::{q2_k, q3_k, q4_k, q5_k, q6_k};
use super::error::GgufError;

/// A ggml tensor type. F32, F16, Q4_0, Q4_1 and Q8_0 have their own variants; every other id,
/// the other supported types (`is_supported`) included, is kept raw in `Other` (its `name()`
/// still says which ggml type it is).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GgmlType {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q8_0,
    Other(u32),
}

// Ids of the supported types that have no variant of their own.
const ID_Q5_0: u32 = 6;
const ID_Q5_1: u32 = 7;
const ID_Q2_K: u32 = 10;
const ID_Q3_K: u32 = 11;
const ID_Q4_K: u32 = 12;
const ID_Q5_K: u32 = 13;
const ID_Q6_K: u32 = 14;
const ID_BF16: u32 = 30;

/// (id, name, elements per block, bytes per block) of every ggml type with a known layout.
/// Ids 4, 5 (Q4_2, Q4_3), 31-33 and 36-38 (repacked types) were removed from ggml.
const TYPE_TABLE: &[(u32, &str, u64, u64)] = &[
    (0, "F32", 1, 4),
    (1, "F16", 1, 2),
    (2, "Q4_0", 32, 18),
    (3, "Q4_1", 32, 20),
    (6, "Q5_0", 32, 22),
    (7, "Q5_1", 32, 24),
    (8, "Q8_0", 32, 34),
    (9, "Q8_1", 32, 36),
    (10, "Q2_K", 256, 84),
    (11, "Q3_K", 256, 110),
    (12, "Q4_K", 256, 144),
    (13, "Q5_K", 256, 176),
    (14, "Q6_K", 256, 210),
    (15, "Q8_K", 256, 292),
    (16, "IQ2_XXS", 256, 66),
    (17, "IQ2_XS", 256, 74),
    (18, "IQ3_XXS", 256, 98),
    (19, "IQ1_S", 256, 50),
    (20, "IQ4_NL", 32, 18),
    (21, "IQ3_S", 256, 110),
    (22, "IQ2_S", 256, 82),
    (23, "IQ4_XS", 256, 136),
    (24, "I8", 1, 1),
    (25, "I16", 1, 2),
    (26, "I32", 1, 4),
    (27, "I64", 1, 8),
    (28, "F64", 1, 8),
    (29, "IQ1_M", 256, 56),
    (30, "BF16", 1, 2),
    (34, "TQ1_0", 256, 54),
    (35, "TQ2_0", 256, 66),
    (39, "MXFP4", 32, 17),
];

impl GgmlType {
    pub fn from_id(id: u32) -> GgmlType {
        match id {
            0 => GgmlType::F32,
            1 => GgmlType::F16,
            2 => GgmlType::Q4_0,
            3 => GgmlType::Q4_1,
            8 => GgmlType::Q8_0,
            other => GgmlType::Other(other),
        }
    }

    pub fn id(self) -> u32 {
        match self {
            GgmlType::F32 => 0,
            GgmlType::F16 => 1,
            GgmlType::Q4_0 => 2,
            GgmlType::Q4_1 => 3,
            GgmlType::Q8_0 => 8,
            GgmlType::Other(id) => id,
        }
    }

    fn entry(self) -> Option<&'static (u32, &'static str, u64, u64)> {
        let id = self.id();
        TYPE_TABLE.iter().find(|e| e.0 == id)
    }

    /// ggml's name for the type ("Q4_K", "BF16", ...), or "unknown" for ids ggml does not have.
    pub fn name(self) -> &'static str {
        self.entry().map_or("unknown", |e| e.1)
    }

    /// Elements per block; None for unknown ids.
    pub fn block_size(self) -> Option<u64> {
        self.entry().map(|e| e.2)
    }

    /// Bytes per block; None for unknown ids.
    pub fn type_size(self) -> Option<u64> {
        self.entry().map(|e| e.3)
    }

    /// Whether `dequantize` handles this type: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
    /// Q2_K, Q3_K, Q4_K, Q5_K and Q6_K.
    pub fn is_supported(self) -> bool {
        match self.from_canonical() {
            GgmlType::F32 | GgmlType::F16 => true,
            GgmlType::Q4_0 | GgmlType::Q4_1 | GgmlType::Q8_0 => true,
            GgmlType::Other(id) => {
                matches!(id, ID_BF16 | ID_Q5_0 | ID_Q5_1 | ID_Q2_K | ID_Q3_K | ID_Q4_K | ID_Q5_K | ID_Q6_K)
            }
        }
    }

    /// Bytes that `n_elements` elements take; None when the type is unknown, `n_elements` is
    /// not a whole number of blocks, or the size overflows.
    pub fn bytes_for(self, n_elements: u64) -> Option<u64> {
        let (block, size) = (self.block_size()?, self.type_size()?);
        if n_elements % block != 0 {
            return None;
        }
        (n_elements / block).checked_mul(size)
    }

    /// `Other(0)` etc. mapped to the named variant.
    fn from_canonical(self) -> GgmlType {
        GgmlType::from_id(self.id())
    }
}

impl fmt::Display for GgmlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.entry() {
            Some(e) => f.write_str(e.1),
            None => write!(f, "unknown ggml type {}", self.id()),
        }
    }
}

/// IEEE half → single precision, exact (subnormals, infinities and NaN included).
pub fn f16_to_f32(h: u16) -> f32 {
    let negative = h & 0x8000 != 0;
    let sign = u32::from(h & 0x8000) << 16;
    let exp = u32::from((h >> 10) & 0x1f);
    let mant = u32::from(h & 0x3ff);
    match exp {
        0 => {
            // Zero or subnormal: mant · 2^-24, exact in f32.
            let v = mant as f32 * (1.0 / 16_777_216.0);
            if negative { -v } else { v }
        }
        0x1f => f32::from_bits(sign | 0x7f80_0000 | (mant << 13)),
        _ => f32::from_bits(sign | ((exp + 112) << 23) | (mant << 13)),
    }
}

/// The little-endian f16 `[lo, hi]` as f32.
pub(super) fn half(lo: u8, hi: u8) -> f32 {
    f16_to_f32(u16::from_le_bytes([lo, hi]))
}

/// bfloat16 → f32: the 16 bits are the upper half of the f32 (exact; NaN stays NaN).
fn bf16(lo: u8, hi: u8) -> f32 {
    f32::from_bits(u32::from(u16::from_le_bytes([lo, hi])) << 16)
}

/// Q5_0/Q5_1's 32 five-bit quants in value order: the low nibbles of `qs[16]`, then its high
/// nibbles; the fifth bit of value j is bit j of `qh`.
fn q5_quants(qh: u32, qs: &[u8]) -> impl Iterator<Item = u8> + '_ {
    let low = qs.iter().map(|&q| q & 0x0f);
    let high = qs.iter().map(|&q| q >> 4);
    low.chain(high).enumerate().map(move |(j, q)| q | ((((qh >> j) & 1) as u8) << 4))
}

/// Q5_0, 22 bytes: `d` (f16), `qh` (u32 LE), `qs[16]` (see `q5_quants`). Value = d·(q − 16).
fn q5_0(b: &[u8], out: &mut Vec<f32>) {
    let d = half(b[0], b[1]);
    let qh = u32::from_le_bytes([b[2], b[3], b[4], b[5]]);
    out.extend(q5_quants(qh, &b[6..22]).map(|q| d * (f32::from(q) - 16.0)));
}

/// Q5_1, 24 bytes: `d` (f16), `m` (f16), `qh` (u32 LE), `qs[16]`. Value = d·q + m.
fn q5_1(b: &[u8], out: &mut Vec<f32>) {
    let (d, m) = (half(b[0], b[1]), half(b[2], b[3]));
    let qh = u32::from_le_bytes([b[4], b[5], b[6], b[7]]);
    out.extend(q5_quants(qh, &b[8..24]).map(|q| d * f32::from(q) + m));
}

/// Dequantises `n_elements` values of type `ty` from `bytes`, which must be exactly their size.
/// Errors name no tensor (the caller adds it).
pub fn dequantize(ty: GgmlType, bytes: &[u8], n_elements: usize) -> Result<Vec<f32>, GgufError> {
    if !ty.is_supported() {
        return Err(GgufError::UnsupportedQuant { tensor: String::new(), ty_name: ty.to_string() });
    }
    let bad = |why: String| GgufError::BadTensor { name: String::new(), why };
    let needed = u64::try_from(n_elements)
        .ok()
        .and_then(|n| ty.bytes_for(n))
        .ok_or_else(|| bad(format!("{n_elements} elements are not a whole number of {ty} blocks")))?;
    if needed != bytes.len() as u64 {
        return Err(bad(format!(
            "{n_elements} elements of {ty} take {needed} bytes, but {} bytes were given",
            bytes.len()
        )));
    }
    let mut out = Vec::with_capacity(n_elements);
    match ty.from_canonical() {
        GgmlType::F32 => out.extend(bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
        GgmlType::F16 => out.extend(bytes.chunks_exact(2).map(|c| half(c[0], c[1]))),
        GgmlType::Other(ID_BF16) => out.extend(bytes.chunks_exact(2).map(|c| bf16(c[0], c[1]))),
        GgmlType::Q4_0 => {
            for b in bytes.chunks_exact(18) {
                let (d, qs) = (half(b[0], b[1]), &b[2..18]);
                out.extend(qs.iter().map(|&q| d * (f32::from(q & 15) - 8.0)));
                out.extend(qs.iter().map(|&q| d * (f32::from(q >> 4) - 8.0)));
            }
        }
        GgmlType::Q4_1 => {
            for b in bytes.chunks_exact(20) {
                let (d, m, qs) = (half(b[0], b[1]), half(b[2], b[3]), &b[4..20]);
                out.extend(qs.iter().map(|&q| d * f32::from(q & 15) + m));
                out.extend(qs.iter().map(|&q| d * f32::from(q >> 4) + m));
            }
        }
        GgmlType::Q8_0 => {
            for b in bytes.chunks_exact(34) {
                let d = half(b[0], b[1]);
                out.extend(b[2..34].iter().map(|&q| d * f32::from(q as i8)));
            }
        }
        GgmlType::Other(ID_Q5_0) => bytes.chunks_exact(22).for_each(|b| q5_0(b, &mut out)),
        GgmlType::Other(ID_Q5_1) => bytes.chunks_exact(24).for_each(|b| q5_1(b, &mut out)),
        GgmlType::Other(ID_Q2_K) => bytes.chunks_exact(84).for_each(|b| q2_k(b, &mut out)),
        GgmlType::Other(ID_Q3_K) => bytes.chunks_exact(110).for_each(|b| q3_k(b, &mut out)),
        GgmlType::Other(ID_Q4_K) => bytes.chunks_exact(144).for_each(|b| q4_k(b, &mut out)),
        GgmlType::Other(ID_Q5_K) => bytes.chunks_exact(176).for_each(|b| q5_k(b, &mut out)),
        GgmlType::Other(ID_Q6_K) => bytes.chunks_exact(210).for_each(|b| q6_k(b, &mut out)),
        GgmlType::Other(_) => unreachable!("is_supported() admitted only the types matched above"),
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_conversion() {
        let cases: &[(u16, f32)] = &[
            (0x0000, 0.0),
            (0x3c00, 1.0),
            (0xc000, -2.0),
            (0x3800, 0.5),
            (0x3555, 0.333_251_95),
            (0x7bff, 65504.0),
            (0x0400, 6.103_515_6e-5), // smallest normal 2^-14
            (0x0001, 5.960_464_5e-8), // smallest subnormal 2^-24
            (0x03ff, 6.097_555_2e-5), // largest subnormal 1023·2^-24
            (0x8001, -5.960_464_5e-8),
            (0x7c00, f32::INFINITY),
            (0xfc00, f32::NEG_INFINITY),
        ];
        for &(h, want) in cases {
            assert_eq!(f16_to_f32(h), want, "f16 {h:#06x}");
        }
        assert_eq!(f16_to_f32(0x8000).to_bits(), (-0.0f32).to_bits());
        assert!(f16_to_f32(0x7e00).is_nan());
        assert!(f16_to_f32(0xfc01).is_nan());
        let f16 = dequantize(GgmlType::F16, &[0x00, 0x3c, 0x01, 0x00, 0x00, 0x7c], 3).unwrap();
        assert_eq!(f16, vec![1.0, 5.960_464_5e-8, f32::INFINITY]);
    }

    #[test]
    fn f32_passthrough() {
        let bytes: Vec<u8> = [1.5f32, -0.25].iter().flat_map(|v| v.to_le_bytes()).collect();
        assert_eq!(dequantize(GgmlType::F32, &bytes, 2).unwrap(), vec![1.5, -0.25]);
    }

    #[test]
    fn q4_0_block() {
        // d = 0.5; qs[0] = 0x0f (low 15, high 0), qs[1] = 0x8a (low 10, high 8), rest 0x00.
        let mut b = vec![0x00, 0x38, 0x0f, 0x8a];
        b.extend([0u8; 14]);
        let x = dequantize(GgmlType::Q4_0, &b, 32).unwrap();
        assert_eq!(x[0], 3.5); // 0.5·(15-8)
        assert_eq!(x[1], 1.0); // 0.5·(10-8)
        assert_eq!(x[2], -4.0); // 0.5·(0-8)
        assert_eq!(x[16], -4.0); // high nibble of qs[0]: 0.5·(0-8)
        assert_eq!(x[17], 0.0); // 0.5·(8-8)
        assert_eq!(x[31], -4.0);
    }

    #[test]
    fn q4_1_blocks() {
        // Block 1: d = 0.25, m = -1.0; qs[0] = 0x5a (low 10, high 5), rest 0xff.
        let mut b = vec![0x00, 0x34, 0x00, 0xbc, 0x5a];
        b.extend([0xffu8; 15]);
        // Block 2: d = 2.0, m = 0.5; qs all 0x31 (low 1, high 3).
        b.extend([0x00, 0x40, 0x00, 0x38]);
        b.extend([0x31u8; 16]);
        let x = dequantize(GgmlType::Q4_1, &b, 64).unwrap();
        assert_eq!(x[0], 1.5); // 0.25·10 - 1
        assert_eq!(x[16], 0.25); // 0.25·5 - 1
        assert_eq!(x[1], 2.75); // 0.25·15 - 1
        assert_eq!(x[31], 2.75);
        assert_eq!(x[32], 2.5); // 2·1 + 0.5
        assert_eq!(x[48], 6.5); // 2·3 + 0.5
        assert_eq!(x.len(), 64);
    }

    #[test]
    fn q8_0_block() {
        // d = 2.0; qs = [-128, -1, 0, 1, 127, 0, ...]
        let mut b = vec![0x00, 0x40, 0x80, 0xff, 0x00, 0x01, 0x7f];
        b.extend([0u8; 27]);
        let x = dequantize(GgmlType::Q8_0, &b, 32).unwrap();
        assert_eq!(&x[..6], &[-256.0, -2.0, 0.0, 2.0, 254.0, 0.0]);
    }

    #[test]
    fn wrong_sizes_and_types() {
        assert!(matches!(dequantize(GgmlType::Q8_0, &[0u8; 33], 32), Err(GgufError::BadTensor { .. })));
        assert!(matches!(dequantize(GgmlType::Q8_0, &[0u8; 34], 31), Err(GgufError::BadTensor { .. })));
        let e = dequantize(GgmlType::Other(16), &[0u8; 66], 256).unwrap_err();
        assert_eq!(e, GgufError::UnsupportedQuant { tensor: String::new(), ty_name: "IQ2_XXS".into() });
        assert_eq!(GgmlType::from_id(30).name(), "BF16");
        assert_eq!(GgmlType::from_id(4).name(), "unknown");
        assert_eq!(GgmlType::from_id(4).to_string(), "unknown ggml type 4");
        assert_eq!(GgmlType::Q4_1.bytes_for(576 * 576), Some(576 * 576 / 32 * 20));
        assert!(GgmlType::Other(0).is_supported());
    }

    #[test]
    fn supported_set() {
        let supported = (0..64).map(GgmlType::from_id).filter(|t| t.is_supported());
        let names: Vec<&str> = supported.map(|t| t.name()).collect();
        let want =
            ["F32", "F16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "BF16"];
        assert_eq!(names, want);
        for &(id, name, block, size) in TYPE_TABLE {
            let t = GgmlType::from_id(id);
            let got = (t.id(), t.name(), t.block_size(), t.type_size());
            assert_eq!(got, (id, name, Some(block), Some(size)));
        }
    }

    #[test]
    fn q5_and_bf16_blocks() {
        // Q5_0: d = 0.5, qh = bit 0 and bit 17 set, qs[0] = 0x0f, qs[1] = 0x30, rest 0.
        let mut b = vec![0x00, 0x38, 0x01, 0x00, 0x02, 0x00, 0x0f, 0x30];
        b.extend([0u8; 14]);
        let x = dequantize(GgmlType::from_id(6), &b, 32).unwrap();
        assert_eq!(x[0], 7.5); // 0.5·(31 - 16)
        assert_eq!(x[1], -8.0); // 0.5·(0 - 16)
        assert_eq!(x[16], -8.0); // high nibble 0, no fifth bit
        assert_eq!(x[17], 1.5); // 0.5·((3 | 16) - 16)
        // Q5_1: d = 2, m = -1, same qh and qs.
        let mut b = vec![0x00, 0x40, 0x00, 0xbc, 0x01, 0x00, 0x02, 0x00, 0x0f, 0x30];
        b.extend([0u8; 14]);
        let x = dequantize(GgmlType::from_id(7), &b, 32).unwrap();
        assert_eq!((x[0], x[1], x[16], x[17]), (61.0, -1.0, -1.0, 37.0));
        // BF16: 1.0 (0x3f80), -2.5 (0xc020), smallest positive subnormal, -inf.
        let b = [0x80, 0x3f, 0x20, 0xc0, 0x01, 0x00, 0x80, 0xff];
        let x = dequantize(GgmlType::from_id(30), &b, 4).unwrap();
        assert_eq!(&x[..2], &[1.0, -2.5]);
        assert_eq!(x[2].to_bits(), 1 << 16);
        assert_eq!(x[3], f32::NEG_INFINITY);
    }
}
