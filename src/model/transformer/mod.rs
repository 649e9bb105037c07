//! The forward pass of a decoder-only transformer (llama, qwen2, gpt2, gptneox) in burn, on any
//! `Device`, with hook sites at every layer's attention and MLP outputs. Weights are
//! dequantised to f32 once, at load.

use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use super::config::{ModelConfig, Positional};
use super::error::ModelError;
use super::gguf::Gguf;
use super::hook::{Hook, Site};
use super::layers::{Linear, Norm};
use super::rope::Rope;
use super::weights::{Block, Loader};

mod suffixes;
pub use suffixes::SuffixRun;

/// Which positions get logits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Positions {
    Last,
    All,
}

pub struct Transformer {
    pub config: ModelConfig,
    device: Device,
    /// [vocab, d]: row i is token i's embedding.
    embed: Tensor<2>,
    /// [context, d]: GPT-2's learned position embeddings.
    positions: Option<Tensor<2>>,
    /// Llama 3.1's RoPE frequency divisors (`rope_freqs.weight`), head_dim / 2 of them.
    rope_freqs: Option<Vec<f32>>,
    /// The LM head, W [vocab, d]: the embedding itself when tied.
    lm_head: Linear,
    layers: Vec<Block>,
    final_norm: Norm,
}

/// Most tokens a forward pass reads: attention holds heads × T² scores per layer (9 · 1024² ·
/// 4 bytes = 38 MB for the default model), and the page's wasm has 4 GiB in all.
pub const MAX_FORWARD_TOKENS: usize = 1024;

impl Transformer {
    /// Loads a model from a parsed GGUF onto `device`. The device gets autodiff switched on so
    /// that interventions can be trained; the weights never require gradients.
    pub fn from_gguf(g: &Gguf, device: &Device) -> Result<Self, ModelError> {
        let device = &device.clone().autodiff();
        let config = ModelConfig::from_gguf(g)?;
        let ld = Loader { g, device, config: &config };
        let (d, v) = (config.d_model, config.vocab_size);
        let embed_data = ld.read("token_embd.weight", &[d, v])?;
        let embed = Tensor::<2>::from_data(TensorData::new(embed_data, [v, d]), device);
        let positions = match config.arch.positional() {
            Positional::Learned => {
                let n = config.context_length;
                let data = ld.read("position_embd.weight", &[d, n])?;
                Some(Tensor::<2>::from_data(TensorData::new(data, [n, d]), device))
            }
            _ => None,
        };
        let rope_freqs = match g.tensor_info("rope_freqs.weight") {
            Ok(_) if config.arch.positional() != Positional::Learned => {
                let f = ld.read("rope_freqs.weight", &[config.rope_dims / 2])?;
                if f.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
                    return Err(ModelError::BadConfig(
                        "rope_freqs.weight has a value that is not a positive number".into(),
                    ));
                }
                Some(f)
            }
            _ => None,
        };
        let b = if g.tensor_info("output.bias").is_ok() { Some(ld.vector("output.bias", v)?) } else { None };
        // Tied embeddings (one copy in memory: a view) unless the file has its own output matrix.
        let lm_head = if g.tensor_info("output.weight").is_ok() {
            ld.matrix("output.weight", d, v, b)?
        } else {
            Linear::new(embed.clone(), b)
        };
        let layers = (0..config.n_layers).map(|l| ld.block(l)).collect::<Result<Vec<_>, _>>()?;
        let final_norm = ld.norm("output_norm")?;
        Ok(Transformer { config, device: device.clone(), embed, positions, rope_freqs, lm_head, layers, final_norm })
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Checks a batch of token ids: non-empty, equal lengths, ids in the vocabulary, within context.
    pub fn check_batch(&self, ids: &[Vec<u32>]) -> Result<(usize, usize), ModelError> {
        let bad = |s: String| Err(ModelError::BadInput(s));
        let Some(first) = ids.first() else { return bad("no prompts given".into()) };
        let t = first.len();
        if t == 0 {
            return bad("the prompt is empty: type some text".into());
        }
        if t > MAX_FORWARD_TOKENS {
            return bad(format!(
                "the prompt has {t} tokens; at most {MAX_FORWARD_TOKENS} are read (attention's memory grows with the square of the length)"
            ));
        }
        if t > self.config.context_length {
            return bad(format!("the prompt has {t} tokens; this model reads at most {}", self.config.context_length));
        }
        if let Some(p) = ids.iter().position(|p| p.len() != t) {
            return bad(format!(
                "prompt {p} has {} tokens, prompt 0 has {t}: a batch needs equal lengths",
                ids[p].len()
            ));
        }
        if let Some(&id) = ids.iter().flatten().find(|&&id| id as usize >= self.config.vocab_size) {
            return bad(format!("token id {id} is outside the vocabulary ({})", self.config.vocab_size));
        }
        Ok((ids.len(), t))
    }

    /// Logits [batch, 1 or positions, vocab] for a batch of equal-length prompts, with `hook`
    /// applied at every site.
    pub fn forward(&self, ids: &[Vec<u32>], hook: &dyn Hook, positions: Positions) -> Result<Tensor<3>, ModelError> {
        let (b, t) = self.check_batch(ids)?;
        self.on_threads(|| self.forward_checked(ids, (b, t), hook, positions))
    }

    /// Runs `f`; natively on the CPU with threads to spare, small products in it are split in
    /// two, one half on a polling second thread (`second_thread`): burn-flex runs them on one thread.
    fn on_threads<R>(&self, f: impl FnOnce() -> R) -> R {
        #[cfg(not(target_arch = "wasm32"))]
        if self.device == Device::flex()
            && rayon::current_num_threads() >= 2
            && !super::kernels::second_thread::active()
        {
            return super::kernels::second_thread::with_second_thread(f);
        }
        f()
    }

    fn forward_checked(
        &self,
        ids: &[Vec<u32>],
        (b, t): (usize, usize),
        hook: &dyn Hook,
        positions: Positions,
    ) -> Result<Tensor<3>, ModelError> {
        let d = self.config.d_model;
        let flat: Vec<i32> = ids.iter().flatten().map(|&i| i as i32).collect();
        let idx = Tensor::<1, Int>::from_data(TensorData::new(flat, [b * t]), &self.device);
        let mut x = self.embed.clone().select(0, idx).reshape([b, t, d]);
        if let Some(pos) = &self.positions {
            x = x + pos.clone().narrow(0, 0, t).reshape([1, t, d]);
        }
        Ok(self.blocks_from(0, x, hook, positions))
    }

    /// Logits from the residual stream `x` [batch, positions, d] entering block `layer`: the rest
    /// of the forward pass, every position (the tests patch whole layers this way; patching
    /// itself runs each row's positions from the patched one on, `SuffixRun`).
    pub fn forward_from(
        &self,
        layer: usize,
        x: Tensor<3>,
        hook: &dyn Hook,
        positions: Positions,
    ) -> Result<Tensor<3>, ModelError> {
        let [_, t, d] = x.dims();
        if layer > self.config.n_layers || d != self.config.d_model || t == 0 || t > self.config.context_length {
            return Err(ModelError::BadInput(format!(
                "cannot run from layer {layer} on a residual of {t} positions and width {d}"
            )));
        }
        Ok(self.on_threads(|| self.blocks_from(layer, x, hook, positions)))
    }

    fn blocks_from(&self, first: usize, mut x: Tensor<3>, hook: &dyn Hook, positions: Positions) -> Tensor<3> {
        let c = &self.config;
        let [b, t, d] = x.dims();
        let rope = self.rope(t);
        let mask = causal_mask([b, c.n_heads], t, &self.device);
        for (l, layer) in self.layers.iter().enumerate().skip(first) {
            hook.resid(l, &x);
            let h = layer.attn_norm.forward(x.clone()).reshape([b * t, d]);
            let [q, k, v] = self.project(layer, h).map(|y| split_heads(y, b, t, c.head_dim));
            let (q, k) = (rotate(rope.as_ref(), q), rotate(rope.as_ref(), k));
            let z = self.attend(l, [q, k, v], Some(mask.clone()), hook);
            let attn = layer.wo.forward(z.swap_dims(1, 2).reshape([b * t, d])).reshape([b, t, d]);
            x = self.finish_block(l, x, attn, hook);
        }
        hook.resid(c.n_layers, &x);
        let (x, tp) = match positions {
            Positions::Last => (x.narrow(1, t - 1, 1), 1),
            Positions::All => (x, t),
        };
        let x = self.final_norm.forward(x).reshape([b * tp, d]);
        let logits = self.lm_head.forward(x);
        logits.reshape([b, tp, c.vocab_size])
    }

    /// Rotary embedding tables for positions 0 … t−1 (None for learned positions).
    fn rope(&self, t: usize) -> Option<Rope> {
        let c = &self.config;
        match c.arch.positional() {
            Positional::Learned => None,
            p => Some(Rope::new(
                p == Positional::RopeNeox,
                c.rope_dims,
                c.rope_base,
                self.rope_freqs.as_deref(),
                t,
                &self.device,
            )),
        }
    }

    /// Queries, keys and values [n, heads · head_dim] of normed rows `h` [n, d].
    fn project(&self, layer: &Block, h: Tensor<2>) -> [Tensor<2>; 3] {
        [layer.wq.forward(h.clone()), layer.wk.forward(h.clone()), layer.wv.forward(h)]
    }

    /// The heads' outputs z [batch, n_heads, queries, head_dim] (after `hook.heads`) from
    /// queries [batch, n_heads, queries, head_dim] and keys and values [batch, kv heads, t,
    /// head_dim], queries and keys rotated; `mask` [batch, n_heads, queries, t] hides the keys
    /// a query must not read (None: it reads them all).
    fn attend(&self, l: usize, [q, k, v]: [Tensor<4>; 3], mask: Option<Tensor<4, Bool>>, hook: &dyn Hook) -> Tensor<4> {
        let c = &self.config;
        let (nh, nkv, hd) = (c.n_heads, c.n_kv_heads, c.head_dim);
        let [b, _, t, _] = k.dims();
        // Grouped-query attention: query head i reads KV head i / (nh / nkv).
        let group = nh / nkv;
        let widen = |x: Tensor<4>| x.reshape([b, nkv, 1, t, hd]).expand([b, nkv, group, t, hd]).reshape([b, nh, t, hd]);
        let (k, v) = (widen(k), widen(v));
        let scores = q.matmul(k.swap_dims(2, 3)).mul_scalar(1.0 / (hd as f32).sqrt());
        let scores = match mask {
            Some(mask) => scores.mask_fill(mask, -1.0e9),
            None => scores,
        };
        hook.heads(l, softmax(scores, 3).matmul(v))
    }

    /// The residual stream leaving block `l`, from the one entering it, `x` [batch, positions,
    /// d], and the block's attention output (before the `AttnOut` hook): the MLP reads the
    /// stream after attention, or the block's input where the residual is parallel (GPT-NeoX).
    pub fn finish_block(&self, l: usize, x: Tensor<3>, attn: Tensor<3>, hook: &dyn Hook) -> Tensor<3> {
        let layer = &self.layers[l];
        let attn = hook.site(Site::AttnOut, l, attn);
        if self.config.parallel_residual {
            let mlp = hook.site(Site::MlpOut, l, layer.mlp.forward(layer.ffn_norm.forward(x.clone())));
            x + attn + mlp
        } else {
            let x = x + attn;
            let mlp = layer.mlp.forward(layer.ffn_norm.forward(x.clone()));
            x + hook.site(Site::MlpOut, l, mlp)
        }
    }

    /// Each head's contribution to `layer`'s attn_out, [batch, head, position, d], from the
    /// heads' outputs `z` [batch, head, position, head_dim]: W_O[:, h-slice] · z_h. Their sum
    /// over heads, plus W_O's bias where the model has one (GPT-2), is attn_out.
    pub fn head_contributions(&self, layer: usize, z: Tensor<4>) -> Tensor<4> {
        let c = &self.config;
        let (nh, hd, d) = (c.n_heads, c.head_dim, c.d_model);
        // W_O [d, nh·hd]: columns h·hd … (h+1)·hd read head h.
        let per_head = self.layers[layer].wo.weight().clone().reshape([d, nh, hd]).permute([1, 2, 0]);
        let b = z.dims()[0];
        z.matmul(per_head.reshape([1, nh, hd, d]).expand([b, nh, hd, d]))
    }
}

/// Queries or keys [batch, heads, t, head_dim] turned by the rotary embedding, if the model has one.
fn rotate(rope: Option<&Rope>, x: Tensor<4>) -> Tensor<4> {
    match rope {
        Some(r) => r.apply(x),
        None => x,
    }
}

/// [n, heads · head_dim] rows of `b` prompts of `t` positions as [b, heads, t, head_dim].
fn split_heads(y: Tensor<2>, b: usize, t: usize, hd: usize) -> Tensor<4> {
    let n = y.dims()[1] / hd;
    y.reshape([b, t, n, hd]).swap_dims(1, 2)
}

/// [batch, heads, t, t], true at the future positions each query must not read. (burn's
/// tril_mask is true OUTSIDE the lower triangle: exactly those.)
fn causal_mask([batch, heads]: [usize; 2], t: usize, device: &Device) -> Tensor<4, Bool> {
    Tensor::<2, Bool>::tril_mask([t, t], 0, device).reshape([1, 1, t, t]).expand([batch, heads, t, t])
}

// Native only: it loads models on the CPU backend and reads their private layers.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;
    use crate::backend::cpu_device;
    use crate::model::gguf::Gguf;
    use crate::model::layers::Mlp;

    /// Every weight product of a loaded model, of each architecture, runs the CPU backend's own
    /// kernels (`model::kernels`). Were a burn upgrade to change what they take out of its
    /// tensors, the model would fall back to burn's matmul without a word: right, and slower.
    #[test]
    fn kernels_are_in_use_for_every_weight() {
        for name in ["llama-tied", "llama3", "qwen2", "gpt2", "gptneox"] {
            let path = format!("{}/tests/data/arch/{name}.gguf", env!("CARGO_MANIFEST_DIR"));
            let g = Gguf::parse(std::fs::read(&path).expect("fixture")).expect("parses");
            let t = Transformer::from_gguf(&g, &cpu_device()).expect("loads");
            let mut linears = vec![("lm_head", &t.lm_head)];
            for b in &t.layers {
                linears.extend([("wq", &b.wq), ("wk", &b.wk), ("wv", &b.wv), ("wo", &b.wo)]);
                match &b.mlp {
                    Mlp::SwiGlu { gate, up, down } => linears.extend([("gate", gate), ("up", up), ("down", down)]),
                    Mlp::Gelu { up, down } => linears.extend([("up", up), ("down", down)]),
                }
            }
            for (which, l) in linears {
                assert!(
                    l.on_kernels(),
                    "{name}: {which} falls back to burn's matmul (model::kernels no longer applies)"
                );
            }
        }
    }
}
