//! Rotary position embedding, in llama.cpp's two pairings: NORM rotates adjacent pairs
//! `(x[2i], x[2i+1])` (llama: the GGUF converter permuted Q and K rows for it), NEOX rotates
//! `(x[i], x[i + head_dim/2])` (qwen2). Pair i turns by `θ_i = pos · base^(-2i/head_dim)`,
//! divided by `rope_freqs[i]` where the file has that tensor (Llama 3.1's rope scaling).

use burn::tensor::{Device, Tensor, TensorData};

pub struct Rope {
    neox: bool,
    /// Leading dimensions of each head that turn; the rest pass through (GPT-NeoX).
    dims: usize,
    /// cos θ and sin θ, [1, 1, t, half, 1] for NORM, [1, 1, t, 1, half] for NEOX.
    cos: Tensor<5>,
    sin: Tensor<5>,
}

impl Rope {
    /// Turns the first `dims` dimensions of each head (θ_i = pos · base^(-2i/dims)).
    /// `freq_factors`: `rope_freqs.weight` (dims / 2 divisors), if the model has it.
    pub fn new(neox: bool, dims: usize, base: f32, freq_factors: Option<&[f32]>, t: usize, device: &Device) -> Self {
        let half = dims / 2;
        let mut cos = Vec::with_capacity(t * half);
        let mut sin = Vec::with_capacity(t * half);
        for p in 0..t {
            for i in 0..half {
                let freq = (base as f64).powf(-2.0 * i as f64 / dims as f64);
                let factor = freq_factors.map_or(1.0, |f| f[i] as f64);
                let angle = p as f64 * freq / factor;
                cos.push(angle.cos() as f32);
                sin.push(angle.sin() as f32);
            }
        }
        let shape = if neox { [1, 1, t, 1, half] } else { [1, 1, t, half, 1] };
        Rope {
            neox,
            dims,
            cos: Tensor::from_data(TensorData::new(cos, shape), device),
            sin: Tensor::from_data(TensorData::new(sin, shape), device),
        }
    }

    /// The same rotation for the last of its positions alone.
    pub fn last(&self) -> Rope {
        let t = self.cos.dims()[2];
        Rope {
            neox: self.neox,
            dims: self.dims,
            cos: self.cos.clone().narrow(2, t - 1, 1),
            sin: self.sin.clone().narrow(2, t - 1, 1),
        }
    }

    /// x: [batch, heads, positions, head_dim]
    pub fn apply(&self, x: Tensor<4>) -> Tensor<4> {
        let hd = x.dims()[3];
        if self.dims < hd {
            let rest = x.clone().narrow(3, self.dims, hd - self.dims);
            return Tensor::cat(vec![self.apply_all(x.narrow(3, 0, self.dims)), rest], 3);
        }
        self.apply_all(x)
    }

    /// `apply` when every dimension turns.
    fn apply_all(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, h, t, hd] = x.dims();
        // The axis that holds a pair's two members: last for NORM, the halves for NEOX.
        let (pairs, axis) =
            if self.neox { (x.reshape([b, h, t, 2, hd / 2]), 3) } else { (x.reshape([b, h, t, hd / 2, 2]), 4) };
        let x0 = pairs.clone().narrow(axis, 0, 1);
        let x1 = pairs.narrow(axis, 1, 1);
        let r0 = x0.clone() * self.cos.clone() - x1.clone() * self.sin.clone();
        let r1 = x0 * self.sin.clone() + x1 * self.cos.clone();
        Tensor::cat(vec![r0, r1], axis).reshape([b, h, t, hd])
    }
}
