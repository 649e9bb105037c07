//! The llama forward pass in burn, on any `Device`, with hook sites at every layer's
//! attention and MLP outputs. Weights are dequantised to f32 once, at load.

use burn::tensor::activation::{silu, softmax};
use burn::tensor::{Bool, Device, Int, Tensor, TensorData};

use super::config::LlamaConfig;
use super::error::ModelError;
use super::gguf::Gguf;
use super::hook::{Hook, Site};

/// Which positions get logits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Positions {
    Last,
    All,
}

struct Layer {
    attn_norm: Tensor<1>,
    /// Projection matrices stored [in, out] so that y = x · W.
    wq: Tensor<2>,
    wk: Tensor<2>,
    wv: Tensor<2>,
    wo: Tensor<2>,
    ffn_norm: Tensor<1>,
    w_gate: Tensor<2>,
    w_up: Tensor<2>,
    w_down: Tensor<2>,
}

pub struct Llama {
    pub config: LlamaConfig,
    device: Device,
    /// [vocab, d]: row i is token i's embedding.
    embed: Tensor<2>,
    /// [d, vocab]: the LM head, a transposed view (of the embedding when tied).
    lm_head: Tensor<2>,
    layers: Vec<Layer>,
    final_norm: Tensor<1>,
}

struct Loader<'a> {
    g: &'a Gguf,
    device: &'a Device,
}

impl Loader<'_> {
    /// Reads `name` and checks its GGUF dims (fastest axis first) against `expect`.
    fn read(&self, name: &str, expect: &[usize]) -> Result<Vec<f32>, ModelError> {
        let (data, dims) = self.g.tensor_f32(name)?;
        if dims != expect {
            return Err(ModelError::BadShape {
                tensor: name.to_string(),
                expected: expect.to_vec(),
                found: dims,
            });
        }
        Ok(data)
    }

    fn vector(&self, name: &str, n: usize) -> Result<Tensor<1>, ModelError> {
        let data = self.read(name, &[n])?;
        Ok(Tensor::from_data(TensorData::new(data, [n]), self.device))
    }

    /// A GGUF matrix with dims [in, out] (stored as `out` rows of `in`), as a tensor [in, out].
    /// Natively a transposed VIEW of the rows as stored: gemm then packs each block of output
    /// rows in streaming order, while on a copied [in, out] matrix it reads each block down a
    /// column with a stride of `out` floats (measured: 10-token forward 85–95 vs 104 ms, one
    /// thread). In wasm the copy is faster (gemm's simd128 packing of the view is slow: 259 vs
    /// 311 ms in the page), and on WebGPU the copy is the layout tested since issue 11.
    fn matrix(&self, name: &str, d_in: usize, d_out: usize) -> Result<Tensor<2>, ModelError> {
        let data = self.read(name, &[d_in, d_out])?;
        Ok(if cfg!(target_arch = "wasm32") {
            Tensor::from_data(TensorData::new(transpose(&data, d_out, d_in), [d_in, d_out]), self.device)
        } else {
            Tensor::<2>::from_data(TensorData::new(data, [d_out, d_in]), self.device).transpose()
        })
    }
}

/// Row-major [rows, cols] -> row-major [cols, rows], in cache-sized tiles.
fn transpose(data: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; data.len()];
    const B: usize = 32;
    for r0 in (0..rows).step_by(B) {
        for c0 in (0..cols).step_by(B) {
            for r in r0..(r0 + B).min(rows) {
                for c in c0..(c0 + B).min(cols) {
                    out[c * rows + r] = data[r * cols + c];
                }
            }
        }
    }
    out
}

/// Most tokens a forward pass reads: attention holds heads × T² scores per layer (9 · 1024² ·
/// 4 bytes = 38 MB for the default model), and the page's wasm has 4 GiB in all.
pub const MAX_FORWARD_TOKENS: usize = 1024;

impl Llama {
    /// Loads a llama-family model from a parsed GGUF onto `device`. The device gets autodiff
    /// switched on so that interventions can be trained; the weights never require gradients.
    pub fn from_gguf(g: &Gguf, device: &Device) -> Result<Self, ModelError> {
        let device = &device.clone().autodiff();
        let config = LlamaConfig::from_gguf(g)?;
        let ld = Loader { g, device };
        let (d, v, ff) = (config.d_model, config.vocab_size, config.d_ff);
        let kv = config.n_kv_heads * config.head_dim;
        let embed_data = ld.read("token_embd.weight", &[d, v])?;
        let embed = Tensor::<2>::from_data(TensorData::new(embed_data, [v, d]), device);
        // Tied embeddings (one copy in memory) unless the file has its own output matrix.
        let lm_head = if g.tensor_info("output.weight").is_ok() {
            ld.matrix("output.weight", d, v)?
        } else {
            embed.clone().transpose()
        };
        let mut layers = Vec::with_capacity(config.n_layers);
        for l in 0..config.n_layers {
            let n = |s: &str| format!("blk.{l}.{s}.weight");
            layers.push(Layer {
                attn_norm: ld.vector(&n("attn_norm"), d)?,
                wq: ld.matrix(&n("attn_q"), d, d)?,
                wk: ld.matrix(&n("attn_k"), d, kv)?,
                wv: ld.matrix(&n("attn_v"), d, kv)?,
                wo: ld.matrix(&n("attn_output"), d, d)?,
                ffn_norm: ld.vector(&n("ffn_norm"), d)?,
                w_gate: ld.matrix(&n("ffn_gate"), d, ff)?,
                w_up: ld.matrix(&n("ffn_up"), d, ff)?,
                w_down: ld.matrix(&n("ffn_down"), ff, d)?,
            });
        }
        let final_norm = ld.vector("output_norm.weight", d)?;
        Ok(Llama { config, device: device.clone(), embed, lm_head, layers, final_norm })
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
            return bad(format!(
                "the prompt has {t} tokens; this model reads at most {}",
                self.config.context_length
            ));
        }
        if let Some(p) = ids.iter().position(|p| p.len() != t) {
            return bad(format!("prompt {p} has {} tokens, prompt 0 has {t}: a batch needs equal lengths", ids[p].len()));
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
        let c = &self.config;
        let d = c.d_model;
        let flat: Vec<i32> = ids.iter().flatten().map(|&i| i as i32).collect();
        let idx = Tensor::<1, Int>::from_data(TensorData::new(flat, [b * t]), &self.device);
        let mut x = self.embed.clone().select(0, idx).reshape([b, t, d]);
        let rope = Rope::new(c, t, &self.device);
        // burn's tril_mask is true OUTSIDE the lower triangle: exactly the future positions.
        let mask = Tensor::<2, Bool>::tril_mask([t, t], 0, &self.device)
            .reshape([1, 1, t, t])
            .expand([b, c.n_heads, t, t]);
        for (l, layer) in self.layers.iter().enumerate() {
            hook.resid(l, &x);
            let h = rms_norm(x.clone(), &layer.attn_norm, c.rms_eps);
            let attn = self.attention(h, layer, &rope, mask.clone());
            x = x + hook.site(Site::AttnOut, l, attn);
            let h = rms_norm(x.clone(), &layer.ffn_norm, c.rms_eps);
            let mlp = mlp(h, layer);
            x = x + hook.site(Site::MlpOut, l, mlp);
        }
        hook.resid(c.n_layers, &x);
        let (x, tp) = match positions {
            Positions::Last => (x.narrow(1, t - 1, 1), 1),
            Positions::All => (x, t),
        };
        let x = rms_norm(x, &self.final_norm, c.rms_eps);
        Ok(x.reshape([b * tp, d]).matmul(self.lm_head.clone()).reshape([b, tp, c.vocab_size]))
    }

    fn attention(&self, h: Tensor<3>, layer: &Layer, rope: &Rope, mask: Tensor<4, Bool>) -> Tensor<3> {
        let c = &self.config;
        let [b, t, d] = h.dims();
        let (nh, nkv, hd) = (c.n_heads, c.n_kv_heads, c.head_dim);
        let h2 = h.reshape([b * t, d]);
        let heads = |w: &Tensor<2>, n: usize| {
            h2.clone().matmul(w.clone()).reshape([b, t, n, hd]).swap_dims(1, 2)
        };
        let q = rope.apply(heads(&layer.wq, nh));
        let k = rope.apply(heads(&layer.wk, nkv));
        let v = heads(&layer.wv, nkv);
        // Grouped-query attention: query head i reads KV head i / (nh / nkv).
        let group = nh / nkv;
        let widen = |x: Tensor<4>| {
            x.reshape([b, nkv, 1, t, hd]).expand([b, nkv, group, t, hd]).reshape([b, nh, t, hd])
        };
        let (k, v) = (widen(k), widen(v));
        let scores = q.matmul(k.swap_dims(2, 3)).mul_scalar(1.0 / (hd as f32).sqrt());
        let probs = softmax(scores.mask_fill(mask, -1.0e9), 3);
        let out = probs.matmul(v).swap_dims(1, 2).reshape([b * t, d]);
        out.matmul(layer.wo.clone()).reshape([b, t, d])
    }
}

fn mlp(h: Tensor<3>, layer: &Layer) -> Tensor<3> {
    let [b, t, d] = h.dims();
    let h2 = h.reshape([b * t, d]);
    let gate = silu(h2.clone().matmul(layer.w_gate.clone()));
    let up = h2.matmul(layer.w_up.clone());
    (gate * up).matmul(layer.w_down.clone()).reshape([b, t, d])
}

fn rms_norm(x: Tensor<3>, weight: &Tensor<1>, eps: f32) -> Tensor<3> {
    let d = weight.dims()[0];
    let scale = x.clone().powi_scalar(2).mean_dim(2).add_scalar(eps).sqrt().recip();
    x * scale * weight.clone().reshape([1, 1, d])
}

/// Rotary position embedding on ADJACENT pairs (x[2i], x[2i+1]): the GGUF converter permuted
/// Q and K so that this, not HF's rotate_half, is right for llama GGUFs.
struct Rope {
    cos: Tensor<5>,
    sin: Tensor<5>,
}

impl Rope {
    fn new(c: &LlamaConfig, t: usize, device: &Device) -> Self {
        let half = c.head_dim / 2;
        let mut cos = Vec::with_capacity(t * half);
        let mut sin = Vec::with_capacity(t * half);
        for p in 0..t {
            for i in 0..half {
                let freq = (c.rope_base as f64).powf(-2.0 * i as f64 / c.head_dim as f64);
                let angle = p as f64 * freq;
                cos.push(angle.cos() as f32);
                sin.push(angle.sin() as f32);
            }
        }
        let shape = [1, 1, t, half, 1];
        Rope {
            cos: Tensor::from_data(TensorData::new(cos, shape), device),
            sin: Tensor::from_data(TensorData::new(sin, shape), device),
        }
    }

    /// x: [batch, heads, positions, head_dim]
    fn apply(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, h, t, hd] = x.dims();
        let pairs = x.reshape([b, h, t, hd / 2, 2]);
        let x0 = pairs.clone().narrow(4, 0, 1);
        let x1 = pairs.narrow(4, 1, 1);
        let r0 = x0.clone() * self.cos.clone() - x1.clone() * self.sin.clone();
        let r1 = x0 * self.sin.clone() + x1 * self.cos.clone();
        Tensor::cat(vec![r0, r1], 4).reshape([b, h, t, hd])
    }
}
