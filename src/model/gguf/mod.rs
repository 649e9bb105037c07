//! A GGUF (v2/v3, little-endian) reader and writer in plain Rust.
//!
//! `Gguf::parse` validates the whole header up front: counts and lengths are bounded by the
//! bytes in the file before anything is allocated, tensor shapes and types are checked and every
//! tensor's data must lie inside the file, so later accessors only fail on missing names or
//! unsupported quantisations. Nothing here panics on malformed input.

pub mod dequant;
mod dequant_k;
pub mod error;
mod parse;
pub mod value;
pub mod writer;

#[cfg(test)]
mod real_model_tests;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fmt;

pub use dequant::{GgmlType, dequantize, f16_to_f32};
pub use error::GgufError;
pub use value::{MetaArray, MetaValue, ValueType};
pub use writer::{truncate_layers, write_gguf};

/// One tensor's description from the GGUF header.
#[derive(Clone, Debug, PartialEq)]
pub struct TensorInfo {
    pub name: String,
    /// ggml order: `dims[0]` is the contiguous (fastest-varying) axis.
    pub dims: Vec<u64>,
    pub ty: GgmlType,
    /// Offset of the data from the start of the data section (a multiple of the alignment).
    pub offset: u64,
    /// Product of `dims`.
    pub n_elements: u64,
    /// Bytes of data in the file.
    pub n_bytes: u64,
}

/// A parsed GGUF file; it owns the file's bytes and hands out tensor data from them.
pub struct Gguf {
    bytes: Vec<u8>,
    version: u32,
    metadata: Vec<(String, MetaValue)>,
    tensors: Vec<TensorInfo>,
    index: HashMap<String, usize>,
    data_offset: usize,
    alignment: usize,
}

impl fmt::Debug for Gguf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gguf")
            .field("version", &self.version)
            .field("bytes", &self.bytes.len())
            .field("metadata_entries", &self.metadata.len())
            .field("tensors", &self.tensors.len())
            .field("data_offset", &self.data_offset)
            .field("alignment", &self.alignment)
            .finish()
    }
}

impl Gguf {
    /// Parses and validates a whole GGUF file held in memory.
    pub fn parse(bytes: Vec<u8>) -> Result<Gguf, GgufError> {
        let p = parse::parse(&bytes)?;
        let index = p.tensors.iter().enumerate().map(|(i, t)| (t.name.clone(), i)).collect();
        Ok(Gguf {
            bytes,
            version: p.version,
            metadata: p.metadata,
            tensors: p.tensors,
            index,
            data_offset: p.data_offset,
            alignment: p.alignment,
        })
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// Alignment of tensor data (`general.alignment`, default 32).
    pub fn alignment(&self) -> usize {
        self.alignment
    }

    /// Byte offset of the data section in the file.
    pub fn data_offset(&self) -> usize {
        self.data_offset
    }

    /// The whole file.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn metadata(&self, key: &str) -> Option<&MetaValue> {
        self.metadata.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// All metadata entries in file order.
    pub fn metadata_entries(&self) -> &[(String, MetaValue)] {
        &self.metadata
    }

    /// The value of `key`, or `MissingMetadata`.
    pub fn get(&self, key: &str) -> Result<&MetaValue, GgufError> {
        self.metadata(key).ok_or_else(|| GgufError::MissingMetadata(key.to_string()))
    }

    fn wrong_type(key: &str, want: &str, v: &MetaValue) -> GgufError {
        GgufError::BadMetadata {
            key: key.to_string(),
            why: format!("expected {want}, found a value of type {}", v.value_type().name()),
        }
    }

    /// An integer value of any type that fits a u32.
    pub fn get_u32(&self, key: &str) -> Result<u32, GgufError> {
        let v = self.get(key)?;
        match v.as_i64() {
            Some(i) => u32::try_from(i).map_err(|_| GgufError::BadMetadata {
                key: key.to_string(),
                why: format!("{i} does not fit an unsigned 32-bit integer"),
            }),
            None if v.as_u64().is_some() => Err(GgufError::BadMetadata {
                key: key.to_string(),
                why: format!("{v:?} does not fit an unsigned 32-bit integer"),
            }),
            None => Err(Self::wrong_type(key, "an integer", v)),
        }
    }

    /// A float value (f32, or f64 narrowed to f32).
    pub fn get_f32(&self, key: &str) -> Result<f32, GgufError> {
        let v = self.get(key)?;
        v.as_f64().map(|x| x as f32).ok_or_else(|| Self::wrong_type(key, "a float", v))
    }

    pub fn get_str(&self, key: &str) -> Result<&str, GgufError> {
        let v = self.get(key)?;
        v.as_str().ok_or_else(|| Self::wrong_type(key, "a string", v))
    }

    /// `general.architecture`, e.g. "llama".
    pub fn architecture(&self) -> Result<&str, GgufError> {
        self.get_str("general.architecture")
    }

    pub fn tensor_info(&self, name: &str) -> Result<&TensorInfo, GgufError> {
        self.index
            .get(name)
            .and_then(|&i| self.tensors.get(i))
            .ok_or_else(|| GgufError::MissingTensor(name.to_string()))
    }

    /// All tensor descriptions in file order.
    pub fn tensors(&self) -> &[TensorInfo] {
        &self.tensors
    }

    /// The raw (possibly quantised) bytes of a tensor.
    pub fn tensor_bytes(&self, info: &TensorInfo) -> Result<&[u8], GgufError> {
        let file_len = self.bytes.len() as u64;
        let start = (self.data_offset as u64).checked_add(info.offset).unwrap_or(u64::MAX);
        let end = start.checked_add(info.n_bytes).unwrap_or(u64::MAX);
        let out = || GgufError::TensorOutOfBounds { name: info.name.clone(), start, end, file_len };
        let (s, e) = (usize::try_from(start).map_err(|_| out())?, usize::try_from(end).map_err(|_| out())?);
        self.bytes.get(s..e).ok_or_else(out)
    }

    /// A tensor dequantised to f32, with its dims in ggml order (`dims[0]` contiguous).
    pub fn tensor_f32(&self, name: &str) -> Result<(Vec<f32>, Vec<usize>), GgufError> {
        let info = self.tensor_info(name)?;
        let too_big = || GgufError::BadTensor {
            name: name.to_string(),
            why: "it has more elements than this machine can address".into(),
        };
        let dims =
            info.dims.iter().map(|&d| usize::try_from(d).map_err(|_| too_big())).collect::<Result<Vec<_>, _>>()?;
        let n = usize::try_from(info.n_elements).map_err(|_| too_big())?;
        let data = dequantize(info.ty, self.tensor_bytes(info)?, n).map_err(|e| e.for_tensor(name))?;
        Ok((data, dims))
    }
}
