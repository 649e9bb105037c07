//! Errors of the GGUF reader and writer. Messages say what is wrong and what to do about it.

use std::fmt;

/// Everything that can go wrong reading a GGUF file or pulling tensors out of it.
#[derive(Clone, Debug, PartialEq)]
pub enum GgufError {
    /// The file does not start with the `GGUF` magic; holds the first (up to 8) bytes seen.
    NotGguf { first_bytes: Vec<u8> },
    /// A GGUF version other than 2 or 3.
    UnsupportedVersion(u32),
    /// The file ends before `what` could be read.
    Truncated { what: String, needed: u64, available: u64 },
    /// A count in the file is larger than the file could possibly hold.
    TooLarge { what: String, count: u64 },
    /// A metadata value is malformed, of the wrong type or out of range.
    BadMetadata { key: String, why: String },
    /// A tensor description is malformed (dimensions, type, alignment).
    BadTensor { name: String, why: String },
    /// A tensor's data lies (partly) outside the file.
    TensorOutOfBounds { name: String, start: u64, end: u64, file_len: u64 },
    /// The tensor is stored in a quantisation this reader cannot dequantise.
    UnsupportedQuant { tensor: String, ty_name: String },
    /// The model's architecture is not one the forward pass implements.
    UnsupportedArchitecture(String),
    /// No tensor of that name.
    MissingTensor(String),
    /// No metadata entry with that key.
    MissingMetadata(String),
    /// A request that cannot be satisfied, e.g. keeping 0 layers.
    InvalidArgument(String),
}

impl GgufError {
    /// Prefixes the `what`/`why` of the error with where it happened (e.g. which metadata key).
    pub(crate) fn context(self, ctx: impl FnOnce() -> String) -> GgufError {
        match self {
            GgufError::Truncated { what, needed, available } => {
                GgufError::Truncated { what: format!("{what} of {}", ctx()), needed, available }
            }
            GgufError::TooLarge { what, count } => GgufError::TooLarge { what: format!("{what} of {}", ctx()), count },
            other => other,
        }
    }

    /// Fills in the tensor name of errors raised without one (e.g. by `dequantize`).
    pub(crate) fn for_tensor(self, name: &str) -> GgufError {
        match self {
            GgufError::UnsupportedQuant { tensor, ty_name } if tensor.is_empty() => {
                GgufError::UnsupportedQuant { tensor: name.to_string(), ty_name }
            }
            GgufError::BadTensor { name: n, why } if n.is_empty() => {
                GgufError::BadTensor { name: name.to_string(), why }
            }
            other => other,
        }
    }
}

fn show_bytes(bytes: &[u8]) -> String {
    let hex: Vec<String> = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let text: String = bytes.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' }).collect();
    format!("{} (\"{}\")", hex.join(" "), text)
}

impl fmt::Display for GgufError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GgufError::NotGguf { first_bytes } if first_bytes.is_empty() => {
                write!(f, "not a GGUF file: the file is empty; check the path and download it again")
            }
            GgufError::NotGguf { first_bytes } => write!(
                f,
                "not a GGUF file: it should start with the bytes 47 47 55 46 (\"GGUF\") but starts with {}; \
                 check that the path points at a .gguf model and not e.g. an HTML error page or a safetensors file",
                show_bytes(first_bytes)
            ),
            GgufError::UnsupportedVersion(v) => {
                if v.swap_bytes() == 2 || v.swap_bytes() == 3 {
                    write!(
                        f,
                        "unsupported GGUF file: it is big-endian (version {}); only little-endian files are supported",
                        v.swap_bytes()
                    )
                } else if *v == 1 {
                    write!(
                        f,
                        "unsupported GGUF version 1: only versions 2 and 3 are supported; re-convert the model with a current llama.cpp"
                    )
                } else {
                    write!(f, "unsupported GGUF version {v}: only versions 2 and 3 are supported")
                }
            }
            GgufError::Truncated { what, needed, available } => write!(
                f,
                "the file is truncated: reading {what} needs {needed} bytes but only {available} remain; \
                 the download was probably interrupted, fetch the model again"
            ),
            GgufError::TooLarge { what, count } => write!(
                f,
                "corrupt GGUF file: {what} is {count}, more than the file can hold; the file is damaged or not a real GGUF"
            ),
            GgufError::BadMetadata { key, why } => write!(f, "bad GGUF metadata '{key}': {why}"),
            GgufError::BadTensor { name, why } => write!(f, "bad GGUF tensor '{name}': {why}"),
            GgufError::TensorOutOfBounds { name, start, end, file_len } => write!(
                f,
                "tensor '{name}' lies outside the file (bytes {start}..{end} of a {file_len}-byte file); \
                 the file is truncated or corrupt, fetch the model again"
            ),
            GgufError::UnsupportedQuant { tensor, ty_name } => write!(
                f,
                "tensor '{tensor}' is quantised as {ty_name}, which is not supported; \
                 use a model quantised as F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 or a K-quant (Q2_K to Q6_K)"
            ),
            GgufError::UnsupportedArchitecture(arch) => write!(
                f,
                "unsupported model architecture '{arch}': only llama, qwen2, gpt2 and gptneox models are supported"
            ),
            GgufError::MissingTensor(name) => {
                write!(f, "the model has no tensor named '{name}'; it is not a complete model of its architecture")
            }
            GgufError::MissingMetadata(key) => {
                write!(f, "the model has no metadata entry '{key}'; it is not a complete GGUF of its architecture")
            }
            GgufError::InvalidArgument(why) => write!(f, "{why}"),
        }
    }
}

impl std::error::Error for GgufError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_actionable() {
        let e = GgufError::NotGguf { first_bytes: b"<html>".to_vec() };
        assert!(e.to_string().contains("3c 68 74 6d 6c 3e (\"<html>\")"), "{e}");
        let e = GgufError::Truncated { what: "x".into(), needed: 8, available: 3 };
        assert!(e.to_string().contains("the file is truncated"), "{e}");
        let e = GgufError::UnsupportedArchitecture("gpt2".into());
        assert!(e.to_string().contains("only llama, qwen2, gpt2 and gptneox models are supported"), "{e}");
        let e = GgufError::UnsupportedVersion(3u32.swap_bytes());
        assert!(e.to_string().contains("big-endian"), "{e}");
        let e = GgufError::TooLarge { what: "tensor count".into(), count: 1 << 60 };
        assert!(e.context(|| "header".into()).to_string().contains("tensor count of header"));
    }
}
