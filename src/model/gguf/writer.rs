//! Writing GGUF files, and cutting a llama GGUF down to its first N blocks (small test models).

use super::Gguf;
use super::dequant::GgmlType;
use super::error::GgufError;
use super::parse::DEFAULT_ALIGNMENT;
use super::value::{MetaArray, MetaValue};

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    put_u64(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn put_value(out: &mut Vec<u8>, v: &MetaValue) {
    match v {
        MetaValue::U8(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetaValue::I8(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetaValue::U16(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetaValue::I16(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetaValue::U32(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetaValue::I32(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetaValue::F32(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetaValue::Bool(x) => out.push(u8::from(*x)),
        MetaValue::String(s) => put_str(out, s),
        MetaValue::Array(a) => put_array(out, a),
        MetaValue::U64(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetaValue::I64(x) => out.extend_from_slice(&x.to_le_bytes()),
        MetaValue::F64(x) => out.extend_from_slice(&x.to_le_bytes()),
    }
}

fn put_array(out: &mut Vec<u8>, a: &MetaArray) {
    put_u32(out, a.elem_type().id());
    put_u64(out, a.len() as u64);
    macro_rules! each_le {
        ($v:expr) => {
            for x in $v {
                out.extend_from_slice(&x.to_le_bytes());
            }
        };
    }
    match a {
        MetaArray::U8(v) => out.extend_from_slice(v),
        MetaArray::I8(v) => each_le!(v),
        MetaArray::U16(v) => each_le!(v),
        MetaArray::I16(v) => each_le!(v),
        MetaArray::U32(v) => each_le!(v),
        MetaArray::I32(v) => each_le!(v),
        MetaArray::F32(v) => each_le!(v),
        MetaArray::Bool(v) => out.extend(v.iter().map(|&b| u8::from(b))),
        MetaArray::String(v) => v.iter().for_each(|s| put_str(out, s)),
        MetaArray::Array(v) => v.iter().for_each(|inner| put_array(out, inner)),
        MetaArray::U64(v) => each_le!(v),
        MetaArray::I64(v) => each_le!(v),
        MetaArray::F64(v) => each_le!(v),
    }
}

fn pad_to(out: &mut Vec<u8>, alignment: usize) {
    out.resize(out.len().next_multiple_of(alignment), 0);
}

/// Writes a GGUF file (`version` 2 or 3; both have this layout). Tensor data is placed at
/// multiples of `alignment`, and `general.alignment` is written as a u32 equal to `alignment`:
/// in place if `metadata` has that key, appended if it does not and `alignment` is not the
/// default 32. Tensors are `(name, dims in ggml order, type, raw data)`; the data is copied
/// as given (its size is the caller's responsibility).
///
/// # Panics
/// If `alignment` is not a power of two that fits a u32.
pub fn write_gguf(
    version: u32,
    alignment: usize,
    metadata: &[(String, MetaValue)],
    tensors: &[(String, Vec<u64>, GgmlType, &[u8])],
) -> Vec<u8> {
    assert!(
        alignment.is_power_of_two() && u32::try_from(alignment).is_ok(),
        "GGUF alignment must be a power of two that fits a u32, got {alignment}"
    );
    let align_value = MetaValue::U32(alignment as u32);
    let has_key = metadata.iter().any(|(k, _)| k == "general.alignment");
    let append = !has_key && alignment != DEFAULT_ALIGNMENT;
    let data_len: usize = tensors.iter().map(|t| t.3.len().next_multiple_of(alignment)).sum();

    let mut out = Vec::with_capacity(data_len + 4096);
    out.extend_from_slice(b"GGUF");
    put_u32(&mut out, version);
    put_u64(&mut out, tensors.len() as u64);
    put_u64(&mut out, (metadata.len() + usize::from(append)) as u64);
    let alignment_entry = ("general.alignment".to_string(), align_value.clone());
    let entries = metadata.iter().chain(append.then_some(&alignment_entry));
    for (key, value) in entries {
        let value = if key == "general.alignment" { &align_value } else { value };
        put_str(&mut out, key);
        put_u32(&mut out, value.value_type().id());
        put_value(&mut out, value);
    }
    let mut offset = 0u64;
    for (name, dims, ty, data) in tensors {
        put_str(&mut out, name);
        put_u32(&mut out, dims.len() as u32);
        dims.iter().for_each(|&d| put_u64(&mut out, d));
        put_u32(&mut out, ty.id());
        put_u64(&mut out, offset);
        offset += (data.len().next_multiple_of(alignment)) as u64;
    }
    pad_to(&mut out, alignment);
    for (_, _, _, data) in tensors {
        out.extend_from_slice(data);
        pad_to(&mut out, alignment);
    }
    out
}

/// The layer index of a `blk.{i}.…` tensor name.
fn block_of(name: &str) -> Option<u32> {
    name.strip_prefix("blk.")?.split('.').next()?.parse().ok()
}

/// `n` as a value of the same type as `old` (None if it does not fit or `old` is no integer).
fn same_int_type(old: &MetaValue, n: u32) -> Option<MetaValue> {
    Some(match old {
        MetaValue::U8(_) => MetaValue::U8(n.try_into().ok()?),
        MetaValue::I8(_) => MetaValue::I8(n.try_into().ok()?),
        MetaValue::U16(_) => MetaValue::U16(n.try_into().ok()?),
        MetaValue::I16(_) => MetaValue::I16(n.try_into().ok()?),
        MetaValue::U32(_) => MetaValue::U32(n),
        MetaValue::I32(_) => MetaValue::I32(n.try_into().ok()?),
        MetaValue::U64(_) => MetaValue::U64(n.into()),
        MetaValue::I64(_) => MetaValue::I64(n.into()),
        _ => return None,
    })
}

/// The first `n` blocks of a llama-style GGUF as a new file: `{arch}.block_count` becomes `n`
/// (same value type), tensors `blk.{i}.*` with `i >= n` are dropped, everything else (embedding,
/// output norm, tokenizer metadata, ...) is kept, and tensor data is copied byte for byte.
pub fn truncate_layers(g: &Gguf, n: u32) -> Result<Vec<u8>, GgufError> {
    let key = format!("{}.block_count", g.architecture()?);
    let count = g.get_u32(&key)?;
    if n == 0 || n > count {
        return Err(GgufError::InvalidArgument(format!(
            "cannot keep {n} layers of a model with {count}: ask for 1 to {count}"
        )));
    }
    let mut metadata = g.metadata_entries().to_vec();
    for (k, v) in metadata.iter_mut().filter(|(k, _)| *k == key) {
        *v = same_int_type(v, n).ok_or_else(|| GgufError::BadMetadata {
            key: k.clone(),
            why: format!("cannot store {n} in a value like {v:?}"),
        })?;
    }
    let mut tensors = Vec::new();
    for t in g.tensors() {
        if block_of(&t.name).is_none_or(|i| i < n) {
            tensors.push((t.name.clone(), t.dims.clone(), t.ty, g.tensor_bytes(t)?));
        }
    }
    Ok(write_gguf(g.version(), g.alignment(), &metadata, &tensors))
}
