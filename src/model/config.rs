//! Hyperparameters of a decoder-only transformer, read from a GGUF's metadata: the
//! architecture (llama, qwen2, gpt2, gptneox) and what differs between them. The layout conventions are
//! llama.cpp's (`tests/data/arch/README.md` spells them out).

use serde::{Deserialize, Serialize};

use super::error::ModelError;
use super::gguf::{Gguf, GgufError};

/// `general.architecture` values the forward pass implements.
pub const SUPPORTED_ARCHITECTURES: &[&str] = &["llama", "qwen2", "gpt2", "gptneox"];

/// The block structure of an architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Arch {
    /// RMSNorm, RoPE on adjacent pairs, SwiGLU MLP, optional biases (Llama 2/3, SmolLM2).
    Llama,
    /// As llama, with Q/K/V biases and NEOX RoPE (pairs `i`, `i + head_dim/2`).
    Qwen2,
    /// LayerNorm with bias, learned absolute positions, fused QKV, tanh-GELU MLP, biases
    /// on every linear map (GPT-2, the paper's model).
    Gpt2,
    /// GPT-NeoX (Pythia, also in the paper): as gpt2 but NEOX RoPE on the first
    /// `rope.dimension_count` dimensions of each head instead of learned positions, and usually
    /// a parallel residual (attention and MLP both read the block's input).
    GptNeox,
}

/// How queries and keys learn their position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Positional {
    /// Rotary embedding of adjacent pairs `(x[2i], x[2i+1])` (llama.cpp's NORM).
    RopeAdjacent,
    /// Rotary embedding of pairs `(x[i], x[i + head_dim/2])` (llama.cpp's NEOX).
    RopeNeox,
    /// `position_embd.weight` added to the token embedding (no rotation).
    Learned,
}

impl Arch {
    fn from_name(name: &str) -> Option<Arch> {
        match name {
            "llama" => Some(Arch::Llama),
            "qwen2" => Some(Arch::Qwen2),
            "gpt2" => Some(Arch::Gpt2),
            "gptneox" => Some(Arch::GptNeox),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Arch::Llama => "llama",
            Arch::Qwen2 => "qwen2",
            Arch::Gpt2 => "gpt2",
            Arch::GptNeox => "gptneox",
        }
    }

    pub fn positional(self) -> Positional {
        match self {
            Arch::Llama => Positional::RopeAdjacent,
            Arch::Qwen2 | Arch::GptNeox => Positional::RopeNeox,
            Arch::Gpt2 => Positional::Learned,
        }
    }

    /// LayerNorm (mean removed, with bias) rather than RMSNorm.
    pub fn layer_norm(self) -> bool {
        matches!(self, Arch::Gpt2 | Arch::GptNeox)
    }

    /// Q, K and V as one `attn_qkv` matrix with bias, and biases on every linear map.
    pub fn fused_qkv(self) -> bool {
        matches!(self, Arch::Gpt2 | Arch::GptNeox)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub arch: Arch,
    pub n_layers: usize,
    pub d_model: usize,
    pub n_heads: usize,
    pub n_kv_heads: usize,
    pub head_dim: usize,
    pub d_ff: usize,
    pub vocab_size: usize,
    /// The epsilon of every norm (RMSNorm's or LayerNorm's, as the architecture has).
    pub norm_eps: f32,
    /// RoPE's base (unused for learned positions).
    pub rope_base: f32,
    /// Leading dimensions of each head that RoPE rotates (`rope.dimension_count`; the whole head
    /// except for gptneox, where Pythia rotates a quarter).
    pub rope_dims: usize,
    /// Attention and MLP both read the block's input (x + attn(ln1 x) + mlp(ln2 x)).
    pub parallel_residual: bool,
    pub context_length: usize,
}

impl ModelConfig {
    pub fn from_gguf(g: &Gguf) -> Result<Self, ModelError> {
        let arch_name = g.architecture()?.to_string();
        let arch = Arch::from_name(&arch_name).ok_or(GgufError::UnsupportedArchitecture(arch_name.clone()))?;
        let key = |k: &str| format!("{arch_name}.{k}");
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
        let norm_eps = if arch.layer_norm() {
            g.get_f32(&key("attention.layer_norm_epsilon"))?
        } else {
            g.get_f32(&key("attention.layer_norm_rms_epsilon"))?
        };
        let embd = g.tensor_info("token_embd.weight")?;
        let vocab_size = embd.dims.get(1).copied().unwrap_or(0) as usize;
        let head_dim = if n_heads == 0 { 0 } else { d_model / n_heads };
        let rope_dims = match g.metadata(&key("rope.dimension_count")) {
            Some(_) => g.get_u32(&key("rope.dimension_count"))? as usize,
            None => head_dim,
        };
        let parallel_residual = match g.metadata(&key("use_parallel_residual")) {
            Some(v) => v
                .as_bool()
                .ok_or_else(|| ModelError::BadConfig(format!("{} is not a boolean", key("use_parallel_residual"))))?,
            // llama.cpp's default for gptneox; the other architectures have none.
            None => arch == Arch::GptNeox,
        };
        let config = ModelConfig {
            arch,
            n_layers: u("block_count")?,
            d_model,
            n_heads,
            n_kv_heads,
            head_dim,
            d_ff: u("feed_forward_length")?,
            vocab_size,
            norm_eps,
            rope_base,
            rope_dims,
            parallel_residual,
            // GPT-2's learned positions end there, so it is required; RoPE models default.
            context_length: if arch == Arch::Gpt2 { u("context_length")? } else { u("context_length").unwrap_or(2048) },
        };
        config.validate()?;
        config.check_unsupported(g, &key)?;
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
        if self.arch.positional() != Positional::Learned
            && (self.rope_dims % 2 != 0 || self.rope_dims == 0 || self.rope_dims > self.head_dim)
        {
            return bad(format!(
                "RoPE on {} of a head's {} dimensions: it needs an even number, at most the head",
                self.rope_dims, self.head_dim
            ));
        }
        if !(self.norm_eps.is_finite() && self.norm_eps >= 0.0) || !(self.rope_base.is_finite() && self.rope_base > 0.0)
        {
            return bad(format!(
                "norm epsilon {} or RoPE base {} is not a usable number",
                self.norm_eps, self.rope_base
            ));
        }
        // Bounds that keep a hostile file from asking for absurd allocations.
        if self.n_layers > 512
            || self.d_model > 65_536
            || self.d_ff > 262_144
            || self.vocab_size > 1_000_000
            || self.context_length > 1 << 24
        {
            return bad(format!("implausibly large model: {self:?}"));
        }
        Ok(())
    }

    /// Metadata that would change the forward pass in a way this implementation does not
    /// follow: refused by name rather than run wrongly.
    fn check_unsupported(&self, g: &Gguf, key: &dyn Fn(&str) -> String) -> Result<(), ModelError> {
        let bad = |why: String| Err(ModelError::BadConfig(why));
        // Only GPT-NeoX rotates part of a head (llama.cpp, too, requires the whole head elsewhere).
        if self.arch != Arch::GptNeox && self.rope_dims != self.head_dim {
            return bad(format!(
                "{} is {}, not d_model / heads = {}: not supported",
                key("rope.dimension_count"),
                self.rope_dims,
                self.head_dim
            ));
        }
        for k in ["attention.key_length", "attention.value_length"] {
            if g.metadata(&key(k)).is_some() {
                let v = g.get_u32(&key(k))? as usize;
                if v != self.head_dim {
                    return bad(format!("{} is {v}, not d_model / heads = {}: not supported", key(k), self.head_dim));
                }
            }
        }
        // Llama 3.1's scaling is the `rope_freqs.weight` tensor (read by the forward pass);
        // metadata scaling (linear factors, YaRN) would move every angle.
        if let Some(v) = g.metadata(&key("rope.scaling.type")) {
            let t = v.as_str().unwrap_or("?");
            let factor = match g.metadata(&key("rope.scaling.factor")) {
                Some(_) => g.get_f32(&key("rope.scaling.factor"))?,
                None => 1.0,
            };
            if !(t == "none" || (t == "linear" && factor == 1.0)) {
                return bad(format!(
                    "RoPE scaling {t:?} with factor {factor} ({}) is not supported",
                    key("rope.scaling.type")
                ));
            }
        }
        if g.metadata(&key("attention.scale")).is_some() {
            return bad(format!("{} (a non-standard attention scale) is not supported", key("attention.scale")));
        }
        Ok(())
    }
}
