//! Reading a block's weights from a GGUF, dequantised to f32, in the layout the forward pass
//! uses, for each architecture's tensor names (llama.cpp's `load_tensors`).

use burn::tensor::{Device, Tensor, TensorData};

use super::config::{Arch, ModelConfig};
use super::error::ModelError;
use super::gguf::Gguf;
use super::layers::{Linear, Mlp, Norm};

/// One transformer block.
pub struct Block {
    pub attn_norm: Norm,
    pub wq: Linear,
    pub wk: Linear,
    pub wv: Linear,
    pub wo: Linear,
    pub ffn_norm: Norm,
    pub mlp: Mlp,
}

pub struct Loader<'a> {
    pub g: &'a Gguf,
    pub device: &'a Device,
    pub config: &'a ModelConfig,
}

impl Loader<'_> {
    /// Reads `name` and checks its GGUF dims (fastest axis first) against `expect`.
    pub fn read(&self, name: &str, expect: &[usize]) -> Result<Vec<f32>, ModelError> {
        let (data, dims) = self.g.tensor_f32(name)?;
        if dims != expect {
            return Err(ModelError::BadShape { tensor: name.to_string(), expected: expect.to_vec(), found: dims });
        }
        Ok(data)
    }

    fn has(&self, name: &str) -> bool {
        self.g.tensor_info(name).is_ok()
    }

    pub fn vector(&self, name: &str, n: usize) -> Result<Tensor<1>, ModelError> {
        Ok(self.vector_from(self.read(name, &[n])?))
    }

    fn vector_from(&self, data: Vec<f32>) -> Tensor<1> {
        let n = data.len();
        Tensor::from_data(TensorData::new(data, [n]), self.device)
    }

    fn optional_vector(&self, name: &str, n: usize) -> Result<Option<Tensor<1>>, ModelError> {
        if self.has(name) { self.vector(name, n).map(Some) } else { Ok(None) }
    }

    /// A GGUF matrix with dims [in, out] (stored as `out` rows of `in`) as a linear map, in
    /// that layout ([`Linear::new`]).
    pub fn matrix(&self, name: &str, d_in: usize, d_out: usize, b: Option<Tensor<1>>) -> Result<Linear, ModelError> {
        Ok(self.matrix_from(self.read(name, &[d_in, d_out])?, d_in, d_out, b))
    }

    /// `data`: `d_out` rows of `d_in`.
    fn matrix_from(&self, data: Vec<f32>, d_in: usize, d_out: usize, b: Option<Tensor<1>>) -> Linear {
        Linear::new(Tensor::<2>::from_data(TensorData::new(data, [d_out, d_in]), self.device), b)
    }

    /// `{name}.weight` [in, out] with `{name}.bias` if the file has one (or must: `need_bias`).
    fn linear(&self, name: &str, d_in: usize, d_out: usize, need_bias: bool) -> Result<Linear, ModelError> {
        let bias = format!("{name}.bias");
        let b = if need_bias { Some(self.vector(&bias, d_out)?) } else { self.optional_vector(&bias, d_out)? };
        self.matrix(&format!("{name}.weight"), d_in, d_out, b)
    }

    /// `{name}.weight`, and `{name}.bias` for LayerNorm architectures.
    pub fn norm(&self, name: &str) -> Result<Norm, ModelError> {
        let (d, eps) = (self.config.d_model, self.config.norm_eps);
        let weight = self.vector(&format!("{name}.weight"), d)?;
        let bias = if self.config.arch.layer_norm() { Some(self.vector(&format!("{name}.bias"), d)?) } else { None };
        Ok(Norm { weight, bias, eps })
    }

    pub fn block(&self, l: usize) -> Result<Block, ModelError> {
        let c = self.config;
        let (d, ff) = (c.d_model, c.d_ff);
        let kv = c.n_kv_heads * c.head_dim;
        let n = |s: &str| format!("blk.{l}.{s}");
        let fused = c.arch.fused_qkv();
        let (wq, wk, wv) = if fused {
            self.fused_qkv(&n("attn_qkv"), d, kv)?
        } else {
            let need = c.arch == Arch::Qwen2;
            (
                self.linear(&n("attn_q"), d, d, need)?,
                self.linear(&n("attn_k"), d, kv, need)?,
                self.linear(&n("attn_v"), d, kv, need)?,
            )
        };
        let mlp = if fused {
            Mlp::Gelu { up: self.linear(&n("ffn_up"), d, ff, true)?, down: self.linear(&n("ffn_down"), ff, d, true)? }
        } else {
            Mlp::SwiGlu {
                gate: self.linear(&n("ffn_gate"), d, ff, false)?,
                up: self.linear(&n("ffn_up"), d, ff, false)?,
                down: self.linear(&n("ffn_down"), ff, d, false)?,
            }
        };
        Ok(Block {
            attn_norm: self.norm(&n("attn_norm"))?,
            wq,
            wk,
            wv,
            wo: self.linear(&n("attn_output"), d, d, fused)?,
            ffn_norm: self.norm(&n("ffn_norm"))?,
            mlp,
        })
    }

    /// GPT-2's and GPT-NeoX's `attn_qkv` [d, d + 2·kv] with its bias, split into Q, K, V (output rows in that
    /// order, bias added before the split as llama.cpp does).
    fn fused_qkv(&self, name: &str, d: usize, kv: usize) -> Result<(Linear, Linear, Linear), ModelError> {
        let rows = d + 2 * kv;
        let w = self.read(&format!("{name}.weight"), &[d, rows])?;
        let b = self.read(&format!("{name}.bias"), &[rows])?;
        let part = |r0: usize, n: usize| {
            self.matrix_from(w[r0 * d..(r0 + n) * d].to_vec(), d, n, Some(self.vector_from(b[r0..r0 + n].to_vec())))
        };
        Ok((part(0, d), part(d, kv), part(d + kv, kv)))
    }
}
