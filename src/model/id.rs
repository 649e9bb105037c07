//! Which model an intervention was made on (burn-free, so the page can compare them): a content
//! hash of the GGUF file plus its shape, so a link opened with another model says so instead of
//! steering the wrong network.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Hex characters of `ModelId::hash`: the first 8 bytes of the file's SHA-256.
pub const HASH_HEX_CHARS: usize = 16;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ModelId {
    /// 16 lowercase hex characters: the first 8 bytes of SHA-256 of the whole GGUF file.
    pub hash: String,
    pub n_layers: usize,
    pub d_model: usize,
}

/// The `ModelId::hash` of a GGUF file's bytes.
pub fn model_hash(bytes: &[u8]) -> String {
    hash_of_digest(&Sha256::digest(bytes))
}

/// The `ModelId::hash` of a SHA-256 digest computed elsewhere (the browser's SubtleCrypto).
pub fn hash_of_digest(digest: &[u8]) -> String {
    digest.iter().take(HASH_HEX_CHARS / 2).map(|b| format!("{b:02x}")).collect()
}

impl ModelId {
    /// The id of a model file whose config has `n_layers` blocks of width `d_model`.
    pub fn of_file(bytes: &[u8], n_layers: usize, d_model: usize) -> Self {
        ModelId { hash: model_hash(bytes), n_layers, d_model }
    }

    /// The hash as 8 bytes (None unless it is 16 lowercase hex characters).
    pub fn hash_bytes(&self) -> Option<[u8; 8]> {
        let h = self.hash.as_bytes();
        if h.len() != HASH_HEX_CHARS {
            return None;
        }
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let mut out = [0u8; 8];
        for (i, o) in out.iter_mut().enumerate() {
            *o = digit(h[2 * i])? << 4 | digit(h[2 * i + 1])?;
        }
        Some(out)
    }

    pub fn from_hash_bytes(bytes: [u8; 8], n_layers: usize, d_model: usize) -> Self {
        ModelId { hash: bytes.iter().map(|b| format!("{b:02x}")).collect(), n_layers, d_model }
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.hash_bytes().is_none() {
            return Err(format!("the model hash {:?} is not {HASH_HEX_CHARS} lowercase hex characters", self.hash));
        }
        Ok(())
    }

    /// Ok when `loaded` is the model this was made with.
    pub fn check(&self, loaded: &ModelId) -> Result<(), String> {
        if self == loaded {
            return Ok(());
        }
        Err(format!(
            "this intervention was made with a different model ({}); the loaded model is {} — open the page with the model it was made with",
            self.describe(),
            loaded.describe()
        ))
    }

    /// "sha256 3f2a1b2c…, 30 layers, width 576"
    pub fn describe(&self) -> String {
        let short: String = self.hash.chars().take(8).collect();
        format!("sha256 {short}…, {} layers, width {}", self.n_layers, self.d_model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_the_first_8_bytes_of_sha256() {
        // SHA-256("abc") = ba7816bf8f01cfea 414140de5dae2223 b00361a396177a9c b410ff61f20015ad
        assert_eq!(model_hash(b"abc"), "ba7816bf8f01cfea");
        let id = ModelId::of_file(b"abc", 2, 8);
        assert_eq!(ModelId::from_hash_bytes(id.hash_bytes().unwrap(), 2, 8), id);
    }

    #[test]
    fn check_names_both_models() {
        let a = ModelId::of_file(b"a", 30, 576);
        let b = ModelId::of_file(b"b", 2, 576);
        assert!(a.check(&a.clone()).is_ok());
        let e = a.check(&b).unwrap_err();
        assert!(e.contains("different model") && e.contains("30 layers") && e.contains("2 layers"), "{e}");
    }

    #[test]
    fn malformed_hashes_are_rejected() {
        for h in ["", "ABCDEF0123456789", "0123456789abcde", "0123456789abcdefg", "0123456789abcdeg"] {
            assert!(ModelId { hash: h.into(), n_layers: 1, d_model: 1 }.validate().is_err(), "{h:?}");
        }
    }
}
