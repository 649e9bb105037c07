//! The GGUF header parser. Every count and length read from the file is checked against the
//! bytes that remain before anything is allocated for it, and all arithmetic is checked.

use std::collections::HashSet;

use super::TensorInfo;
use super::dequant::GgmlType;
use super::error::GgufError;
use super::value::{MetaArray, MetaValue, ValueType};

/// ggml's limit on tensor dimensions.
const MAX_DIMS: u32 = 4;
/// Alignment of the data section when `general.alignment` is absent.
pub(crate) const DEFAULT_ALIGNMENT: usize = 32;
/// Nested arrays deeper than this are refused (they only serve to exhaust the stack).
const MAX_ARRAY_DEPTH: u32 = 4;
/// Fewest bytes a metadata entry takes: key length, value type, a one-byte value.
const MIN_KV_BYTES: u64 = 8 + 4 + 1;
/// Fewest bytes a tensor description takes: name length, n_dims, type, offset.
const MIN_TENSOR_BYTES: u64 = 8 + 4 + 4 + 8;

pub(crate) struct Parsed {
    pub version: u32,
    pub metadata: Vec<(String, MetaValue)>,
    pub tensors: Vec<TensorInfo>,
    pub data_offset: usize,
    pub alignment: usize,
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn remaining(&self) -> u64 {
        self.buf.len().saturating_sub(self.pos) as u64
    }

    fn take(&mut self, n: u64, what: &str) -> Result<&'a [u8], GgufError> {
        let available = self.remaining();
        let truncated = || GgufError::Truncated { what: what.to_string(), needed: n, available };
        if n > available {
            return Err(truncated());
        }
        let end = self.pos.checked_add(usize::try_from(n).map_err(|_| truncated())?).ok_or_else(truncated)?;
        let s = self.buf.get(self.pos..end).ok_or_else(truncated)?;
        self.pos = end;
        Ok(s)
    }

    fn bytes<const N: usize>(&mut self, what: &str) -> Result<[u8; N], GgufError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N as u64, what)?);
        Ok(a)
    }

    fn u32(&mut self, what: &str) -> Result<u32, GgufError> {
        self.bytes(what).map(u32::from_le_bytes)
    }

    fn u64(&mut self, what: &str) -> Result<u64, GgufError> {
        self.bytes(what).map(u64::from_le_bytes)
    }

    /// A length-prefixed byte string; the length can be no more than what remains.
    fn string(&mut self, what: &str) -> Result<&'a [u8], GgufError> {
        let len = self.u64(what)?;
        self.take(len, what)
    }
}

/// Reads `count` fixed-size little-endian values.
fn fixed<T, const N: usize>(cur: &mut Cursor, count: u64, conv: impl Fn([u8; N]) -> T) -> Result<Vec<T>, GgufError> {
    let bytes = cur.take(count.saturating_mul(N as u64), "array data")?;
    Ok(bytes
        .chunks_exact(N)
        .map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            conv(a)
        })
        .collect())
}

fn utf8(bytes: &[u8], key: &str, what: &str) -> Result<String, GgufError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| GgufError::BadMetadata { key: key.to_string(), why: format!("{what} is not valid UTF-8") })
}

fn bool_of(b: u8, key: &str) -> Result<bool, GgufError> {
    match b {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(GgufError::BadMetadata { key: key.to_string(), why: format!("bool value is {b}, not 0 or 1") }),
    }
}

fn value_type(id: u32, key: &str) -> Result<ValueType, GgufError> {
    ValueType::from_id(id)
        .ok_or_else(|| GgufError::BadMetadata { key: key.to_string(), why: format!("unknown value type id {id}") })
}

fn read_value(cur: &mut Cursor, ty: ValueType, key: &str) -> Result<MetaValue, GgufError> {
    Ok(match ty {
        ValueType::U8 => MetaValue::U8(u8::from_le_bytes(cur.bytes("value")?)),
        ValueType::I8 => MetaValue::I8(i8::from_le_bytes(cur.bytes("value")?)),
        ValueType::U16 => MetaValue::U16(u16::from_le_bytes(cur.bytes("value")?)),
        ValueType::I16 => MetaValue::I16(i16::from_le_bytes(cur.bytes("value")?)),
        ValueType::U32 => MetaValue::U32(u32::from_le_bytes(cur.bytes("value")?)),
        ValueType::I32 => MetaValue::I32(i32::from_le_bytes(cur.bytes("value")?)),
        ValueType::F32 => MetaValue::F32(f32::from_le_bytes(cur.bytes("value")?)),
        ValueType::Bool => MetaValue::Bool(bool_of(u8::from_le_bytes(cur.bytes("value")?), key)?),
        ValueType::String => MetaValue::String(utf8(cur.string("string value")?, key, "string value")?),
        ValueType::Array => MetaValue::Array(read_array(cur, key, 1)?),
        ValueType::U64 => MetaValue::U64(u64::from_le_bytes(cur.bytes("value")?)),
        ValueType::I64 => MetaValue::I64(i64::from_le_bytes(cur.bytes("value")?)),
        ValueType::F64 => MetaValue::F64(f64::from_le_bytes(cur.bytes("value")?)),
    })
}

fn read_array(cur: &mut Cursor, key: &str, depth: u32) -> Result<MetaArray, GgufError> {
    let elem = value_type(cur.u32("array element type")?, key)?;
    let count = cur.u64("array length")?;
    match count.checked_mul(elem.min_size()) {
        Some(min) if min <= cur.remaining() => {}
        _ => return Err(GgufError::TooLarge { what: format!("array length of metadata '{key}'"), count }),
    }
    // count <= remaining bytes, so it fits a usize and the allocations below are bounded.
    let n = usize::try_from(count).map_err(|_| GgufError::TooLarge { what: "array length".into(), count })?;
    Ok(match elem {
        ValueType::U8 => MetaArray::U8(fixed(cur, count, u8::from_le_bytes)?),
        ValueType::I8 => MetaArray::I8(fixed(cur, count, i8::from_le_bytes)?),
        ValueType::U16 => MetaArray::U16(fixed(cur, count, u16::from_le_bytes)?),
        ValueType::I16 => MetaArray::I16(fixed(cur, count, i16::from_le_bytes)?),
        ValueType::U32 => MetaArray::U32(fixed(cur, count, u32::from_le_bytes)?),
        ValueType::I32 => MetaArray::I32(fixed(cur, count, i32::from_le_bytes)?),
        ValueType::F32 => MetaArray::F32(fixed(cur, count, f32::from_le_bytes)?),
        ValueType::U64 => MetaArray::U64(fixed(cur, count, u64::from_le_bytes)?),
        ValueType::I64 => MetaArray::I64(fixed(cur, count, i64::from_le_bytes)?),
        ValueType::F64 => MetaArray::F64(fixed(cur, count, f64::from_le_bytes)?),
        ValueType::Bool => {
            MetaArray::Bool(cur.take(count, "array data")?.iter().map(|&b| bool_of(b, key)).collect::<Result<_, _>>()?)
        }
        ValueType::String => {
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(utf8(cur.string("array string")?, key, "an array string")?);
            }
            MetaArray::String(v)
        }
        ValueType::Array => {
            if depth >= MAX_ARRAY_DEPTH {
                let why = format!("arrays nested more than {MAX_ARRAY_DEPTH} deep");
                return Err(GgufError::BadMetadata { key: key.to_string(), why });
            }
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(read_array(cur, key, depth + 1)?);
            }
            MetaArray::Array(v)
        }
    })
}

fn alignment_of(metadata: &[(String, MetaValue)]) -> Result<usize, GgufError> {
    let Some((key, v)) = metadata.iter().find(|(k, _)| k == "general.alignment") else {
        return Ok(DEFAULT_ALIGNMENT);
    };
    match v.as_u64().and_then(|a| u32::try_from(a).ok()) {
        Some(a) if a.is_power_of_two() => usize::try_from(a)
            .map_err(|_| GgufError::BadMetadata { key: key.clone(), why: format!("alignment {a} is too large") }),
        _ => Err(GgufError::BadMetadata { key: key.clone(), why: format!("{v:?} is not a power-of-two u32") }),
    }
}

fn read_tensor_info(cur: &mut Cursor, alignment: usize) -> Result<TensorInfo, GgufError> {
    let raw = cur.string("tensor name")?;
    let name = String::from_utf8(raw.to_vec()).map_err(|_| GgufError::BadTensor {
        name: String::from_utf8_lossy(raw).into_owned(),
        why: "the name is not valid UTF-8".into(),
    })?;
    let bad = |why: String| GgufError::BadTensor { name: name.clone(), why };
    let ctx = || format!("tensor '{name}'");
    let n_dims = cur.u32("tensor dimension count").map_err(|e| e.context(ctx))?;
    if n_dims > MAX_DIMS {
        return Err(bad(format!("{n_dims} dimensions (at most {MAX_DIMS} are allowed)")));
    }
    let mut dims = Vec::with_capacity(n_dims as usize);
    for _ in 0..n_dims {
        dims.push(cur.u64("tensor dimension").map_err(|e| e.context(ctx))?);
    }
    let ty = GgmlType::from_id(cur.u32("tensor type").map_err(|e| e.context(ctx))?);
    let offset = cur.u64("tensor offset").map_err(|e| e.context(ctx))?;

    let n_elements = dims
        .iter()
        .try_fold(1u64, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= i64::MAX as u64)
        .ok_or_else(|| bad(format!("dimensions {dims:?} overflow")))?;
    let block = ty.block_size().ok_or_else(|| bad(format!("unknown ggml type id {}", ty.id())))?;
    if dims.first().copied().unwrap_or(1) % block != 0 {
        return Err(bad(format!(
            "first dimension {:?} is not a multiple of the {ty} block size {block}",
            dims.first()
        )));
    }
    let n_bytes =
        ty.bytes_for(n_elements).ok_or_else(|| bad(format!("size of {n_elements} {ty} elements overflows")))?;
    if offset % alignment as u64 != 0 {
        return Err(bad(format!("data offset {offset} is not a multiple of the alignment {alignment}")));
    }
    Ok(TensorInfo { name, dims, ty, offset, n_elements, n_bytes })
}

pub(crate) fn parse(buf: &[u8]) -> Result<Parsed, GgufError> {
    if !buf.starts_with(b"GGUF") {
        if buf.len() < 4 && !buf.is_empty() && b"GGUF".starts_with(buf) {
            return Err(GgufError::Truncated { what: "the magic".into(), needed: 4, available: buf.len() as u64 });
        }
        return Err(GgufError::NotGguf { first_bytes: buf.iter().take(8).copied().collect() });
    }
    let mut cur = Cursor { buf, pos: 4 };
    let version = cur.u32("the header")?;
    if version != 2 && version != 3 {
        return Err(GgufError::UnsupportedVersion(version));
    }
    let tensor_count = cur.u64("the header")?;
    let kv_count = cur.u64("the header")?;
    let kv_min = kv_count.checked_mul(MIN_KV_BYTES).filter(|&b| b <= cur.remaining());
    let Some(kv_min) = kv_min else {
        return Err(GgufError::TooLarge { what: "the metadata entry count".into(), count: kv_count });
    };
    match tensor_count.checked_mul(MIN_TENSOR_BYTES) {
        Some(b) if b <= cur.remaining() - kv_min => {}
        _ => return Err(GgufError::TooLarge { what: "the tensor count".into(), count: tensor_count }),
    }
    // Both counts are now bounded by the file size (so they also fit a usize).
    let kv_n = usize::try_from(kv_count).map_err(|_| GgufError::TooLarge { what: "kv".into(), count: kv_count })?;
    let t_n = usize::try_from(tensor_count)
        .map_err(|_| GgufError::TooLarge { what: "tensors".into(), count: tensor_count })?;

    let mut metadata = Vec::with_capacity(kv_n);
    let mut keys = HashSet::with_capacity(kv_n);
    for i in 0..kv_n {
        let raw = cur.string("metadata key").map_err(|e| e.context(|| format!("metadata entry {i}")))?;
        let key = utf8(raw, &String::from_utf8_lossy(raw), "the key")?;
        let ctx = || format!("metadata '{key}'");
        let ty = value_type(cur.u32("value type").map_err(|e| e.context(ctx))?, &key)?;
        let value = read_value(&mut cur, ty, &key).map_err(|e| e.context(ctx))?;
        if !keys.insert(key.clone()) {
            return Err(GgufError::BadMetadata { key, why: "the key appears twice".into() });
        }
        metadata.push((key, value));
    }
    let alignment = alignment_of(&metadata)?;

    let mut tensors = Vec::with_capacity(t_n);
    let mut names = HashSet::with_capacity(t_n);
    for _ in 0..t_n {
        let t = read_tensor_info(&mut cur, alignment)?;
        if !names.insert(t.name.clone()) {
            return Err(GgufError::BadTensor { name: t.name, why: "the name appears twice".into() });
        }
        tensors.push(t);
    }

    let file_len = buf.len() as u64;
    let aligned = cur.pos.checked_next_multiple_of(alignment).map(|p| p as u64).unwrap_or(u64::MAX);
    for t in &tensors {
        let start = aligned.checked_add(t.offset).unwrap_or(u64::MAX);
        let end = start.checked_add(t.n_bytes).unwrap_or(u64::MAX);
        if end > file_len {
            return Err(GgufError::TensorOutOfBounds { name: t.name.clone(), start, end, file_len });
        }
    }
    // With no tensors the data section may be absent; clamp so the offset stays inside the file.
    let data_offset = usize::try_from(aligned.min(file_len)).unwrap_or(buf.len());
    Ok(Parsed { version, metadata, tensors, data_offset, alignment })
}
