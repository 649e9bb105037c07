//! Llama hyperparameters, read from a GGUF's metadata.

use serde::{Deserialize, Serialize};

use super::error::ModelError;
use super::gguf::{Gguf, GgufError};

/// Architectures that share the llama tensor layout and forward pass.
pub const SUPPORTED_ARCHITECTURES: &[&str] = &["llama"];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LlamaConfig {
    pub n_layers: usize,
    pub d_model: usize,
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
    pub d_ff: usize,
    pub vocab_size: usize,
    pub rms_eps: f32,
    pub rope_base: f32,
    pub context_length: usize,
}

impl LlamaConfig {
    pub fn from_gguf(g: &Gguf) -> Result<Self, ModelError> {
        let arch = g.architecture()?.to_string();
        if !SUPPORTED_ARCHITECTURES.contains(&arch.as_str()) {
            return Err(GgufError::UnsupportedArchitecture(arch).into());
        }
        let key = |k: &str| format!("{arch}.{k}");
        let u = |k: &str| g.get_u32(&key(k)).map(|v| v as usize);
        let n_heads = u("attention.head_count")?;
        let d_model = u("embedding_length")?;
        let n_kv_heads = match g.metadata(&key("attention.head_count_kv")) {
            Some(_) => u("attention.head_count_kv")?,
            None => n_heads,
        };
        let rope_base = match g.metadata(&key("rope.freq_base")) {
            Some(_) => g.get_f32(&key("rope.freq_base"))?,
            None => 10_000.0,
        };
        let embd = g.tensor_info("token_embd.weight")?;
        let vocab_size = embd.dims.get(1).copied().unwrap_or(0) as usize;
        let config = LlamaConfig {
            n_layers: u("block_count")?,
            d_model,
            n_heads,
            n_kv_heads,
            head_dim: if n_heads == 0 { 0 } else { d_model / n_heads },
            d_ff: u("feed_forward_length")?,
            vocab_size,
            rms_eps: g.get_f32(&key("attention.layer_norm_rms_epsilon"))?,
            rope_base,
            context_length: u("context_length").unwrap_or(2048),
        };
        config.validate()?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), ModelError> {
        let bad = |why: String| Err(ModelError::BadConfig(why));
        if self.n_layers == 0 || self.d_model == 0 || self.d_ff == 0 || self.vocab_size == 0 {
            return bad(format!("zero-sized model: {self:?}"));
        }
        if self.n_heads == 0 || self.n_kv_heads == 0 || self.d_model % self.n_heads != 0 {
            return bad(format!("{} heads do not divide d_model {}", self.n_heads, self.d_model));
        }
        if self.n_heads % self.n_kv_heads != 0 {
            return bad(format!("{} query heads are not a multiple of {} KV heads", self.n_heads, self.n_kv_heads));
        }
        if self.head_dim % 2 != 0 {
            return bad(format!("head dim {} is odd; RoPE needs pairs", self.head_dim));
        }
        // Bounds that keep a hostile file from asking for absurd allocations.
        if self.n_layers > 512 || self.d_model > 65_536 || self.d_ff > 262_144 || self.vocab_size > 1_000_000 {
            return bad(format!("implausibly large model: {self:?}"));
        }
        Ok(())
    }
}
