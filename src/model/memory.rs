//! How much memory a model takes once loaded, from its GGUF header alone, and whether a backend
//! can hold it: checked before any weight is dequantised, so that a model too large for the
//! browser gets a message (naming the largest that fits) and the page keeps the model it had.

use super::config::ModelConfig;
use super::gguf::TensorInfo;

/// The prompt length the estimate budgets training for.
pub const TRAIN_TOKENS: u64 = 16;

/// Bytes of training activations per (layer, unit of d_model + d_ff, token): measured with
/// `actscale bench-train --tokens 10` and `--tokens 128` on SmolLM2-135M (peak memory 649 MB
/// and 988 MB: 2.88 MB per token over 30 layers × 2,112 units = 45.5 bytes), rounded up.
const ACTIVATION_BYTES: u64 = 48;

/// wasm32's address space, the most a browser's worker can ever hold.
pub const WASM_MEMORY: u64 = 4 << 30;
/// What the worker needs beside the model: its code, the tokenizer, the allocator's slack.
const WASM_RESERVE: u64 = 256 << 20;

/// What loading and training one model takes.
#[derive(Clone, Debug, PartialEq)]
pub struct MemoryNeed {
    /// The GGUF file, held twice in the worker while it loads (one copy kept for a backend
    /// switch, one parsed).
    pub file: u64,
    /// Every tensor as f32.
    pub weights: u64,
    /// The largest tensor as f32 (one GPU buffer on WebGPU).
    pub largest: u64,
    pub largest_name: String,
    /// Training activations for a `TRAIN_TOKENS`-token prompt.
    pub activations: u64,
    /// Weights the model has.
    pub parameters: u64,
}

impl MemoryNeed {
    pub fn of(config: &ModelConfig, tensors: &[TensorInfo], file_len: u64) -> Self {
        let (largest, largest_name) = tensors
            .iter()
            .map(|t| (t.n_elements.saturating_mul(4), t.name.clone()))
            .max_by_key(|(b, _)| *b)
            .unwrap_or_default();
        let parameters = tensors.iter().fold(0u64, |s, t| s.saturating_add(t.n_elements));
        let units = (config.d_model as u64).saturating_add(config.d_ff as u64);
        MemoryNeed {
            file: file_len,
            weights: parameters.saturating_mul(4),
            largest,
            largest_name,
            activations: ACTIVATION_BYTES
                .saturating_mul(config.n_layers as u64)
                .saturating_mul(units)
                .saturating_mul(TRAIN_TOKENS),
            parameters,
        }
    }

    /// All of it inside one wasm worker (the CPU backend in a browser).
    pub fn in_wasm(&self) -> u64 {
        self.file.saturating_mul(2).saturating_add(self.weights).saturating_add(self.activations)
    }

    /// `Err` with a message when the CPU backend in a browser (4 GiB of wasm memory) cannot hold
    /// the model; the message names the largest model that would fit with this file's
    /// quantisation.
    pub fn check_wasm(&self) -> Result<(), String> {
        let room = WASM_MEMORY - WASM_RESERVE;
        if self.in_wasm() <= room {
            return Ok(());
        }
        // Each parameter costs 2 × (file bytes per parameter) + 4 bytes of f32.
        let per_param = 2.0 * self.file as f64 / self.parameters.max(1) as f64 + 4.0;
        let largest = (room.saturating_sub(self.activations)) as f64 / per_param;
        Err(format!(
            "this model is too large for the browser: it needs about {} (f32 weights {}, the file twice {}, training on {TRAIN_TOKENS} tokens {}), \
             and a browser's worker holds at most {} ({} for a model); with this file's quantisation the largest model that fits has about {}M parameters \
             (this one has {}M)",
            gb(self.in_wasm()),
            gb(self.weights),
            gb(self.file * 2),
            gb(self.activations),
            gb(WASM_MEMORY),
            gb(room),
            (largest / 1e6).floor(),
            self.parameters / 1_000_000,
        ))
    }

    /// `Err` with a message when WebGPU cannot hold the largest tensor in one buffer
    /// (`max_binding`: the adapter's maxStorageBufferBindingSize, `max_buffer`: maxBufferSize).
    pub fn check_webgpu(&self, max_binding: u64, max_buffer: u64) -> Result<(), String> {
        let limit = max_binding.min(max_buffer);
        if self.largest <= limit {
            return Ok(());
        }
        Err(format!(
            "this model is too large for this browser's WebGPU: its largest tensor {} takes {} as f32, and the adapter binds at most {} \
             (maxStorageBufferBindingSize {}, maxBufferSize {}); the largest that fits has {}M values in one tensor — use the CPU backend",
            self.largest_name,
            gb(self.largest),
            gb(limit),
            gb(max_binding),
            gb(max_buffer),
            limit / 4 / 1_000_000,
        ))
    }
}

/// Bytes in GB (decimal, like file sizes), or MB below one GB.
fn gb(bytes: u64) -> String {
    if bytes >= 1_000_000_000 {
        format!("{:.2} GB", bytes as f64 / 1e9)
    } else {
        format!("{:.0} MB", bytes as f64 / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::gguf::GgmlType;

    fn config(n_layers: usize, d_model: usize, d_ff: usize, vocab_size: usize) -> ModelConfig {
        ModelConfig {
            arch: crate::model::config::Arch::Llama,
            n_layers,
            d_model,
            n_heads: 32,
            n_kv_heads: 8,
            head_dim: d_model / 32,
            d_ff,
            vocab_size,
            norm_eps: 1e-5,
            rope_base: 10_000.0,
            rope_dims: d_model / 32,
            parallel_residual: false,
            context_length: 2048,
        }
    }

    fn tensor(name: &str, n: u64) -> TensorInfo {
        TensorInfo { name: name.into(), dims: vec![n], ty: GgmlType::F32, offset: 0, n_elements: n, n_bytes: n * 4 }
    }

    /// Transformer-3-8B's shapes at ~4.5 bits a weight (a Q4_K_M file of 4.9 GB) cannot run in the
    /// browser; the message says how large a model can, and that is below 4 GiB's worth.
    #[test]
    fn an_8b_model_is_refused_in_wasm_naming_the_largest_that_fits() {
        let c = config(32, 4096, 14336, 128_256);
        let mut tensors = vec![tensor("token_embd.weight", 128_256 * 4096), tensor("output.weight", 128_256 * 4096)];
        // Each layer as one tensor of its 4 attention and 3 MLP matrices (0.97 GB as f32).
        tensors.extend((0..32).map(|l| tensor(&format!("blk.{l}"), 4 * 4096 * 4096 + 3 * 4096 * 14336)));
        let need = MemoryNeed::of(&c, &tensors, 4_900_000_000);
        let err = need.check_wasm().unwrap_err();
        assert!(err.contains("too large for the browser") && err.contains("this one has 8"), "{err}");
        let largest: f64 = err
            .split("about ")
            .nth(2)
            .and_then(|s| s.split('M').next())
            .and_then(|s| s.parse().ok())
            .expect("a parameter count");
        // 8.84e9 parameters; per parameter 2 × 4.9e9 / 8.84e9 + 4 ≈ 5.11 bytes, in 3.75 GiB less
        // 0.45 GB of activations: ~700M.
        assert!((650.0..750.0).contains(&largest), "{largest} in {err}");
        assert!(need.check_webgpu(2 << 30, 4 << 30).is_ok(), "a 2.1 GB embedding fits a 2 GiB binding? {need:?}");
        let err = need.check_webgpu(128 << 20, 256 << 20).unwrap_err();
        assert!(
            err.contains("output.weight takes 2.10 GB") && err.contains("maxStorageBufferBindingSize 134 MB"),
            "{err}"
        );
    }
}
